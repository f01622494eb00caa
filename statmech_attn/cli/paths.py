"""``statmech-attn paths``: solve, sweep, gp, validate, plot."""

from __future__ import annotations

from typing import Annotated

import typer

from ._common import (AlphasOpt, ConfigArg, ForceOpt, JsonOpt, OutOpt, ResumeOpt, RunDirArg, SchedulerOpt, SetOpt,
                      execute, fail, parse_floats, plot, StyleOpt)
from ..errors import InputError

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Attention paths: Bayesian deep multi-head attention at finite α = P/N "
                       "(Tiberi, Mignacco, Irie, Sompolinsky, 2024).")

QuickOpt = Annotated[bool, typer.Option(
    "--quick", help="Tiny sizes (widths 8, 16; 4 chains x 200 draws): checks the machinery, not a validation.")]


@app.command("solve")
def solve_cmd(config: ConfigArg, out: OutOpt = None, json: JsonOpt = False, force: ForceOpt = False,
              set_: SetOpt = None) -> None:
    """Solve the saddle-point equations: order parameters, predictor, alignment, head scores."""
    execute("paths solve", config, out=out, as_json=json, force=force, sets=set_)


@app.command("sweep")
def sweep_cmd(config: ConfigArg, alphas: AlphasOpt = None, out: OutOpt = None, json: JsonOpt = False,
              force: ForceOpt = False, resume: ResumeOpt = False, set_: SetOpt = None,
              scheduler: SchedulerOpt = None) -> None:
    """Solutions over a grid of α = P/N_max (widths rescaled, P fixed), warm-started along the grid.

    Runs on --scheduler serial | local[:N] | tcp://HOST:PORT; --resume computes only missing points."""
    try:
        grid = parse_floats(alphas)
    except InputError as e:
        raise fail(str(e), 2) from None
    execute("paths sweep", config, out=out, as_json=json, force=force, resume=resume, sets=set_,
            alphas=grid, scheduler=scheduler)


@app.command("gp")
def gp_cmd(config: ConfigArg, out: OutOpt = None, json: JsonOpt = False, force: ForceOpt = False,
           set_: SetOpt = None) -> None:
    """The Gaussian-process limit (N → ∞ at fixed P): order parameters, predictor, test error."""
    execute("paths gp", config, out=out, as_json=json, force=force, sets=set_)


@app.command("validate")
def validate_cmd(config: ConfigArg, out: OutOpt = None, quick: QuickOpt = False, json: JsonOpt = False,
                 force: ForceOpt = False, resume: ResumeOpt = False, set_: SetOpt = None,
                 scheduler: SchedulerOpt = None) -> None:
    """Theory vs finite networks: NUTS (and GD/Langevin) over an (α, N, seed) grid, pass/fail per statistic, N-scaling.

    Runs on --scheduler serial | local[:N] | tcp://HOST:PORT; --resume computes only missing points."""
    execute("paths validate", config, out=out, as_json=json, force=force, resume=resume, sets=set_,
            quick=quick, scheduler=scheduler)
    if quick:  # reached only when it ran: --quick passes on running, not on agreement
        typer.echo("machinery ok — not a validation (--quick: tiny sizes)", err=True)


@app.command("plot")
def plot_cmd(run_dir: RunDirArg, style: StyleOpt = "default") -> None:
    """Figures (PNG and PDF) from a saved paths run directory (solve, sweep, validate); no recomputation."""
    plot("paths", run_dir, style)
