"""``statmech-attn theory``: bring your own theory (a Python file that defines ``theory = Theory(...)``).

    statmech-attn theory derive FILE.py [--latex OUT.tex] [--json]
    statmech-attn theory solve  FILE.py [--set alpha=2 --set lambda=0.1] [--out DIR] [--json] [--force]
    statmech-attn theory sweep  FILE.py --over alpha (--values 0.1,0.5,1,2 | --min 0.1 --max 10 --n 100)
                                [--arclength] [--out DIR] [--json] [--resume] [--scheduler S] [--force]
    statmech-attn theory plot   DIR

FILE is executed as Python (like pytest's conftest.py): only run files you trust.  Exit codes: 0 done,
1 did not converge, 2 bad input (one line on stderr naming the parameter).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from ._common import (ForceOpt, JsonOpt, OutOpt, ResumeOpt, RunDirArg, SchedulerOpt, StyleOpt, boundary, execute,
                      plot as plot_run)

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Your own theory: a Python file with a SymPy free energy; derive, solve, sweep, plot.")

FileArg = Annotated[Path, typer.Argument(help="Theory file (Python, defines `theory`; it is executed).",
                                         show_default=False)]
TheorySetOpt = Annotated[Optional[list[str]], typer.Option(
    "--set", help="A control parameter or solver setting: --set alpha=2 --set tol=1e-12 (repeatable).")]


@app.command()
def derive(file: FileArg, latex: Annotated[Optional[Path], typer.Option("--latex", help="Write LaTeX here.")] = None,
           sets: TheorySetOpt = None, as_json: JsonOpt = False) -> None:
    """Print the free energy, the stationarity conditions and their fixed-point forms."""
    with boundary():
        from statmech_attn.theory import verbs

        output = verbs.derive(file, sets or (), latex=latex)
        if as_json:
            typer.echo(json.dumps(output.result, indent=2))
        else:
            typer.echo(output.result["text"])
            if latex is not None:
                typer.echo(f"wrote {latex}")


@app.command()
def solve(file: FileArg, sets: TheorySetOpt = None, out: OutOpt = None, as_json: JsonOpt = False,
          force: ForceOpt = False) -> None:
    """Solve at one point: order parameters, observables, residual, Hessian signature."""
    execute("theory solve", {"file": str(file), "set": list(sets or [])}, out=out, as_json=as_json, force=force)


@app.command()
def sweep(file: FileArg,
          over: Annotated[str, typer.Option("--over", help="The control parameter to sweep.")],
          values: Annotated[Optional[str], typer.Option("--values", "--alphas", help="Comma-separated values.")] = None,
          vmin: Annotated[Optional[float], typer.Option("--min", help="Smallest value (with --max, --n).")] = None,
          vmax: Annotated[Optional[float], typer.Option("--max", help="Largest value.")] = None,
          n: Annotated[Optional[int], typer.Option("--n", help="Number of values (log-spaced if --min > 0).")] = None,
          arclength: Annotated[bool, typer.Option("--arclength", help="Follow the branch through folds "
                                                  "(pseudo-arclength) from --min to --max.")] = False,
          chunk: Annotated[int, typer.Option("--chunk", help="Values per task (continuation runs inside).")] = 25,
          sets: TheorySetOpt = None, out: OutOpt = None, as_json: JsonOpt = False, resume: ResumeOpt = False,
          scheduler: SchedulerOpt = None, force: ForceOpt = False) -> None:
    """Solve along a control parameter with continuation; flags eigenvalue sign changes."""
    with boundary():
        from statmech_attn.theory.verbs import values_grid

        vals = values_grid(values, vmin, vmax, n)
    config = {"file": str(file), "set": list(sets or []), "over": over, "values": vals, "arclength": arclength,
              "chunk": chunk}
    execute("theory sweep", config, out=out, as_json=as_json, force=force, resume=resume, scheduler=scheduler)


@app.command()
def plot(run_dir: RunDirArg, style: StyleOpt = "default") -> None:
    """Figures of observables and order parameters against the swept parameter (PNG and PDF)."""
    plot_run("theory", run_dir, style)
