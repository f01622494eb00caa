"""``statmech-attn energy``: expansion/contraction diagnostic of an attention stack; plot."""

from __future__ import annotations

import typer

from ._common import ConfigArg, ForceOpt, JsonOpt, OutOpt, RunDirArg, SetOpt, execute, plot, StyleOpt

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Attention as a log-sum-exp ascent step with layer-norm contraction (Shim, 2022).")


@app.command("analyse")
def analyse_cmd(config: ConfigArg, out: OutOpt = None, json: JsonOpt = False, force: ForceOpt = False,
                set_: SetOpt = None) -> None:
    """Token norms per layer before/after LN, log-partition per token, gradient-field check per layer."""
    execute("energy analyse", config, out=out, as_json=json, force=force, sets=set_)


@app.command("plot")
def plot_cmd(run_dir: RunDirArg, style: StyleOpt = "default") -> None:
    """Token norms per layer, before and after layer norm, of a saved run."""
    plot("energy", run_dir, style)
