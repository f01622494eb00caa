"""The command line's shared options and its one error boundary.

Every verb is the same few lines: ``execute("<theory> <verb>", config, ...)`` loads the config,
builds the theory's spec, calls the theory's verb, and prints a summary / the JSON record or writes
the run directory (:func:`statmech_attn.cli._run.run_verb`).  Exit codes: 0 done; 1 ran but did not
converge / did not pass; 2 bad input, with one line on stderr naming the parameter.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Annotated, Any, Callable, Optional, Sequence

import typer

from .._verb import summary_rows
from ..errors import InputError

# ------------------------------------------------------------------------------------------
# options shared by the verbs (one vocabulary: --out, --json, --force, --resume, --set, --scheduler)

ConfigArg = Annotated[Path, typer.Argument(help="TOML config file.", show_default=False)]
RunDirArg = Annotated[Path, typer.Argument(help="A run directory written with --out.", show_default=False)]
OutOpt = Annotated[Optional[Path], typer.Option("--out", "-o", help="Write a run directory here.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result JSON on stdout.")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Start over in a non-empty --out directory.")]
ResumeOpt = Annotated[bool, typer.Option("--resume", help="Compute only the grid points missing from --out.")]
SetOpt = Annotated[Optional[list[str]], typer.Option(
    "--set", help="Override a config key: --set model.temperature=0.1 (repeatable).")]
SchedulerOpt = Annotated[Optional[str], typer.Option(
    "--scheduler", help="serial (default) | local[:N] (N dask worker processes) | tcp://HOST:PORT "
                        "(an existing dask cluster); overrides \\[compute] scheduler.")]
StyleOpt = Annotated[str, typer.Option(
    "--style", help="Figure style: default | paper (one column, 3.4 in, 8 pt) | talk (large fonts).")]
AlphasOpt = Annotated[Optional[list[str]], typer.Option(
    "--alphas", help="α grid, comma-separated or repeated, e.g. 0.1,0.5,1,2 (replaces the config's grid).")]


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one line on stderr and return the typer.Exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """For commands that do not go through :func:`execute`: user mistakes exit 2 with one line,
    non-convergence exits 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from .._solution import SolverError

        try:
            return fn(*args, **kwargs)
        except InputError as e:
            raise fail(str(e), 2) from None
        except SolverError as e:
            raise fail(str(e), 1) from None
        except KeyboardInterrupt:
            raise fail("interrupted", 130) from None

    return wrapper


def parse_floats(values: Sequence[str] | None, param: str = "--alphas") -> list[float] | None:
    """``--alphas 0.5,1,2`` (or repeated) -> the values (None when not given); each finite and > 0."""
    import math

    if not values:
        return None
    items = [v.strip() for text in values for v in str(text).split(",") if v.strip()]
    try:
        nums = [float(v) for v in items]
    except ValueError:
        raise InputError(param, ",".join(items), "must be numbers separated by commas") from None
    if not nums or not all(math.isfinite(a) and a > 0 for a in nums):
        raise InputError(param, ",".join(items), "every value must be a finite number > 0")
    return nums


def print_summary(title: str, rows: Sequence[tuple[str, Any]]) -> None:
    """A two-column rich table on stdout."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(title), show_header=True)
    table.add_column("quantity")
    table.add_column("value", justify="right")
    for k, v in rows:
        table.add_row(escape(str(k)), escape(f"{v:.10g}" if isinstance(v, float) else str(v)))
    Console(soft_wrap=True).print(table)


def execute(command: str, config: Path, *, out: Path | None = None, as_json: bool = False, force: bool = False,
            resume: bool = False, sets: Sequence[str] | None = None, verb: Any = None, **options: Any) -> None:
    """Run one verb from the command line; raises typer.Exit with the exit code."""
    from .. import io
    from .._solution import SolverError
    from ._run import run_verb

    try:
        r = run_verb(command, config, sets=sets or (), out=out, force=force, resume=resume, verb=verb,
                     **options)
    except InputError as e:
        raise fail(str(e), 2) from None
    except io.NonFiniteError as e:
        raise fail(f"the run produced a non-finite number ({e}); nothing was written", 1) from None
    except SolverError as e:
        raise fail(str(e), 1) from None
    except KeyboardInterrupt:
        raise fail("interrupted; files already written are complete, nothing half-written", 130) from None
    output = r.output
    if as_json:
        typer.echo(json.dumps(r.record, indent=2, allow_nan=False))
    else:  # the same short summary with or without --out
        print_summary(f"statmech-attn {command}", output.summary or summary_rows(output.result))
        if out is not None:
            typer.echo(f"wrote {out}/result.json")
    if not output.ok:
        raise fail(output.message or f"{command}: did not converge / did not pass", 1)


def plot(theory: str, run_dir: Path, style: str = "default") -> None:
    """``<theory> plot DIR [--style S]``: figures (PNG and PDF) from a saved run directory; no recomputation."""
    import matplotlib

    matplotlib.use("Agg")
    from .. import io
    from .._style import check_style, style_context
    from ._run import plot_figures

    try:
        check_style(style)
        with style_context(style):
            figures, _ = plot_figures(theory, run_dir)
            for fig, stem in figures:
                for p in io.save_figure(fig, run_dir, stem):
                    typer.echo(f"wrote {p}")
    except InputError as e:
        raise fail(str(e), 2) from None
