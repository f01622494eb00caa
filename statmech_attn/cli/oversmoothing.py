"""``statmech-attn oversmoothing``: a stack's spectrum and depth behaviour; trained stacks; plot."""

from __future__ import annotations

import typer

from ._common import ConfigArg, ForceOpt, JsonOpt, OutOpt, RunDirArg, SetOpt, execute, plot, StyleOpt

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Oversmoothing from the eigenspectrum of H = W_V W_O (Dovonon, Bronstein, Kusner, 2024).")


@app.command("analyse")
def analyse_cmd(config: ConfigArg, out: OutOpt = None, json: JsonOpt = False, force: ForceOpt = False,
                set_: SetOpt = None) -> None:
    """Growth factors, regime, spectral gap and HFC/LFC over depth (theory and simulation)."""
    execute("oversmoothing analyse", config, out=out, as_json=json, force=force, sets=set_)


@app.command("train")
def train_cmd(config: ConfigArg, out: OutOpt = None, json: JsonOpt = False, force: ForceOpt = False,
              set_: SetOpt = None) -> None:
    """Train stacks with H free / forced to smooth / forced to sharpen (sign-constrained H = V diag(∓ψ²) Vᵀ)."""
    execute("oversmoothing train", config, out=out, as_json=json, force=force, sets=set_)


@app.command("plot")
def plot_cmd(run_dir: RunDirArg, style: StyleOpt = "default") -> None:
    """HFC/LFC vs depth (theory line, simulation points) and the growth-factor plane of a run."""
    plot("oversmoothing", run_dir, style)
