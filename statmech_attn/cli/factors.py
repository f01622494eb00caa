"""``statmech-attn factors``: transformer factors of hidden states; plot importance scores."""

from __future__ import annotations

import typer

from ._common import ConfigArg, ForceOpt, JsonOpt, OutOpt, RunDirArg, SetOpt, execute, plot, StyleOpt

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Transformer factors by sparse non-negative dictionary learning (Yun, Chen, Olshausen, LeCun, 2021).")


@app.command("fit")
def fit_cmd(config: ConfigArg, out: OutOpt = None, json: JsonOpt = False, force: ForceOpt = False,
            set_: SetOpt = None) -> None:
    """Learn one dictionary shared by all layers; write dictionary, codes and importance scores."""
    execute("factors fit", config, out=out, as_json=json, force=force, sets=set_)


@app.command("plot")
def plot_cmd(run_dir: RunDirArg, style: StyleOpt = "default") -> None:
    """Importance-score curves per factor over layers of a saved run."""
    plot("factors", run_dir, style)
