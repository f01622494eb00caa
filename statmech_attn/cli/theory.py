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
from typing import Annotated, Any, Optional

import typer

from statmech_attn.errors import InputError

from ._common import StyleOpt

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Your own theory: a Python file with a SymPy free energy; derive, solve, sweep, plot.")

FileArg = Annotated[Path, typer.Argument(help="Theory file (Python, defines `theory`; it is executed).",
                                         show_default=False)]
OutOpt = Annotated[Optional[Path], typer.Option("--out", "-o", help="Write a run directory here.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result JSON on stdout.")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Start over in a non-empty --out directory.")]
ResumeOpt = Annotated[bool, typer.Option("--resume", help="Compute only the points missing from --out.")]
SetOpt = Annotated[Optional[list[str]], typer.Option(
    "--set", help="A control parameter or solver setting: --set alpha=2 --set tol=1e-12 (repeatable).")]
SchedulerOpt = Annotated[Optional[str], typer.Option(
    "--scheduler", help="serial (default) | local[:N] (dask worker processes) | tcp://HOST:PORT.")]


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _emit(verb: str, output: Any, config: dict[str, Any], *, out: Path | None, as_json: bool,
          force: bool = False, resume: bool = False, prepared: bool = False) -> None:
    from statmech_attn import io

    nonfinite = "error" if output.ok else "null"
    if out is not None:
        import matplotlib

        matplotlib.use("Agg")
        if not prepared:
            io.prepare_run_dir(out, force=force, resume=resume)
        io.write_run(out, theory="theory", verb=verb, seed=None, config=config, result=output.result,
                     nonfinite=nonfinite)
        for fig, stem in output.figures:
            io.save_figure(fig, out, stem)
    if as_json:
        record = io.result_record("theory", verb, None, config, output.result, nonfinite=nonfinite)
        typer.echo(json.dumps(record, indent=2, allow_nan=False))
    elif out is None:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"statmech-attn theory {verb}")
        table.add_column("quantity")
        table.add_column("value", justify="right")
        for k, v in output.summary or []:
            table.add_row(str(k), f"{v:.10g}" if isinstance(v, float) else str(v))
        Console(soft_wrap=True).print(table)
    else:
        typer.echo(f"wrote {out}/result.json")


def _run(fn: Any) -> None:
    from statmech_attn._solution import SolverError
    from statmech_attn.io import NonFiniteError

    try:
        fn()
    except InputError as e:
        raise _fail(str(e), 2) from None
    except NonFiniteError as e:
        raise _fail(f"the run produced a non-finite number ({e})", 1) from None
    except SolverError as e:
        raise _fail(str(e), 1) from None
    except KeyboardInterrupt:
        raise _fail("interrupted; files already written are complete", 130) from None


@app.command()
def derive(file: FileArg, latex: Annotated[Optional[Path], typer.Option("--latex", help="Write LaTeX here.")] = None,
           sets: SetOpt = None, as_json: JsonOpt = False) -> None:
    """Print the free energy, the stationarity conditions and their fixed-point forms."""
    from statmech_attn.theory import verbs

    def go() -> None:
        output = verbs.derive(file, sets or (), latex=latex)
        if as_json:
            typer.echo(json.dumps(output.result, indent=2))
        else:
            typer.echo(output.result["text"])
            if latex is not None:
                typer.echo(f"wrote {latex}")

    _run(go)


@app.command()
def solve(file: FileArg, sets: SetOpt = None, out: OutOpt = None, as_json: JsonOpt = False,
          force: ForceOpt = False) -> None:
    """Solve at one point: order parameters, observables, residual, Hessian signature."""
    from statmech_attn.theory import verbs

    state: dict[str, Any] = {}

    def go() -> None:
        if out is not None:
            from statmech_attn import io

            io.prepare_run_dir(out, force=force)
        output = verbs.solve(file, sets or ())
        _emit("solve", output, {"file": str(file), "set": list(sets or [])}, out=out, as_json=as_json,
              prepared=True)
        state["output"] = output

    _run(go)
    if not state["output"].ok:
        raise _fail(state["output"].message, 1)


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
          sets: SetOpt = None, out: OutOpt = None, as_json: JsonOpt = False, resume: ResumeOpt = False,
          scheduler: SchedulerOpt = None, force: ForceOpt = False) -> None:
    """Solve along a control parameter with continuation; flags eigenvalue sign changes."""
    from statmech_attn.theory import verbs

    state: dict[str, Any] = {}

    def go() -> None:
        vals = verbs.values_grid(values, vmin, vmax, n)
        if out is not None:
            from statmech_attn import io

            io.prepare_run_dir(out, force=force, resume=resume)
        output = verbs.sweep(file, over, vals, sets or (), out=out, resume=resume, scheduler=scheduler,
                             chunk=chunk, arclength=arclength)
        config = {"file": str(file), "over": over, "values": vals, "set": list(sets or []), "arclength": arclength}
        _emit("sweep", output, config, out=out, as_json=as_json, prepared=True)
        state["output"] = output

    _run(go)
    if not state["output"].ok:
        raise _fail(state["output"].message, 1)


@app.command()
def plot(run_dir: Annotated[Path, typer.Argument(help="A run directory of `theory sweep --out`.",
                                                 show_default=False)],
         style: StyleOpt = "default") -> None:
    """Figures of observables and order parameters against the swept parameter (PNG and PDF)."""
    import matplotlib

    matplotlib.use("Agg")
    from statmech_attn import io
    from statmech_attn._style import check_style, style_context
    from statmech_attn.theory import verbs

    def go() -> None:
        check_style(style)
        with style_context(style):
            for fig, stem in verbs.plot(run_dir):
                for p in io.save_figure(fig, run_dir, stem):
                    typer.echo(f"wrote {p}")

    _run(go)


if __name__ == "__main__":
    app()
