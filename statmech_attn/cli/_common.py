"""The command line's shared options and its one error boundary.

Every verb is the same few lines: ``execute("<theory> <verb>", config, ...)`` loads the config,
builds the theory's spec, calls the theory's verb, and prints a summary / the JSON record or writes
the run directory (:func:`statmech_attn.cli._run.run_verb`).

The one error boundary (:func:`report`, used by every command through :func:`boundary` and by the
root group for whatever escapes a command): exit 0 done; 1 ran but did not converge / did not pass;
2 a mistake in the input (a parameter, ``--out``, a file), with exactly one line on stderr naming
it, its value (shortened) and what is allowed; 3 an internal error: one line and the path of a file
holding the full traceback (``--debug`` prints it instead); 130 interrupted.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import functools
import json
import os
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Annotated, Any, Callable, Optional, Sequence

import typer

from .._verb import summary_rows
from ..errors import InputError, one_line

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


#: set by the root option ``--debug`` (or ``STATMECH_ATTN_DEBUG=1``): internal errors print their traceback
DEBUG = False
#: set when a command has finished (every file written and closed, its output printed) with exit code 0:
#: the console script may then exit at once, without the interpreter's teardown of JAX, XLA's
#: thread pools and matplotlib (0.1–0.25 s of a verb that answers in 1–4 s)
QUICK_EXIT = False
MAX_LINE = 400


def _line(message: str) -> str:
    text = one_line(message)
    return text if len(text) <= MAX_LINE else text[:MAX_LINE - 3] + "..."


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one line on stderr and return the typer.Exit to raise."""
    typer.echo(f"error: {_line(message)}", err=True)
    return typer.Exit(code)


def _traceback_file(e: BaseException) -> Path | None:
    """Write the full traceback of ``e`` to the user's cache folder (else the temporary folder)."""
    text = "".join(traceback.format_exception(type(e), e, e.__traceback__))
    text = f"statmech-attn {' '.join(sys.argv[1:])}\n{text}"
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    try:
        bases = [Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"]
    except (RuntimeError, KeyError):  # no home folder: the temporary folder only
        bases = []
    for folder in [b / "statmech_attn" / "errors" for b in bases] + [Path(tempfile.gettempdir())]:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=f"statmech_attn-error-{stamp}-", suffix=".txt", dir=folder)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            return Path(name)
        except OSError:
            continue
    return None


def report(e: BaseException) -> int:
    """The one error boundary: print exactly one line on stderr for ``e``; return the exit code."""
    if isinstance(e, InputError):  # first, before anything heavy is imported: a config error answers at once
        fail(str(e), 2)
        return 2
    from .. import io

    solution = sys.modules.get("statmech_attn._solution")  # (imports JAX) a SolverError implies it is loaded
    if solution is not None and isinstance(e, solution.SolverError):
        fail(str(e), 1)
        return 1
    if isinstance(e, io.NonFiniteError):
        fail(f"the run produced a non-finite number ({e}); nothing was written", 1)
        return 1
    if isinstance(e, KeyboardInterrupt):
        fail("interrupted; files already written are complete, nothing half-written", 130)
        return 130
    if isinstance(e, MemoryError):
        fail("the run ran out of memory (MemoryError): its sizes are too large for this machine; "
             "lower them (the estimate-based refusal uses STATMECH_ATTN_MAX_MEMORY)", 2)
        return 2
    if isinstance(e, OSError) and (e.filename is not None or e.errno is not None) and not DEBUG:
        where = f"file {e.filename}" if e.filename is not None else "a file of the run"
        fail(f"{where}: {e.strerror or e.__class__.__name__} (errno {e.errno})", 2)
        return 2
    if DEBUG or os.environ.get("STATMECH_ATTN_DEBUG", "") not in ("", "0"):
        traceback.print_exception(type(e), e, e.__traceback__, file=sys.stderr)
        fail(f"internal error ({type(e).__name__}); the traceback is above", 3)
        return 3
    path = _traceback_file(e)
    where = f"full traceback in {path}" if path is not None else "no file could be written for its traceback"
    fail(f"internal error ({type(e).__name__}: {_line(str(e))[:120]}); {where}; rerun with --debug to print it", 3)
    return 3


def control_flow() -> tuple[type[BaseException], ...]:
    """Exceptions that are the command line's own control flow (exits, usage errors), not failures."""
    import typer.core
    import typer.exceptions

    out: list[type[BaseException]] = [SystemExit, typer.exceptions.Exit, typer.exceptions.Abort,
                                      typer.exceptions.TyperException]
    mods = [getattr(typer.core, "_click", None)]
    try:
        import click

        mods.append(click)
    except ImportError:  # pragma: no cover - typer vendors its own click
        pass
    for m in filter(None, mods):
        out += [t for t in (getattr(m.exceptions, n, None) for n in ("Exit", "ClickException", "Abort"))
                if t is not None]
    return tuple(out)


@contextlib.contextmanager
def boundary():
    """Turn every exception of a command into one stderr line and its exit code (:func:`report`)."""
    try:
        yield
    except control_flow():
        raise
    except BaseException as e:  # noqa: BLE001 - the boundary: every failure becomes one line
        raise typer.Exit(report(e)) from None


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """For commands that do not go through :func:`execute`: the same boundary (:func:`report`)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with boundary():
            return fn(*args, **kwargs)

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
    from ._run import run_verb

    import warnings

    with boundary(), warnings.catch_warnings():
        # NumPy's overflow/invalid warnings would add lines to stderr; a non-finite result is refused
        # (one line) where it would be written, so the warning carries nothing more
        warnings.simplefilter("ignore", RuntimeWarning)
        r = run_verb(command, config, sets=sets or (), out=out, force=force, resume=resume, verb=verb,
                     **options)
    output = r.output
    if as_json:
        typer.echo(json.dumps(r.record, indent=2, allow_nan=False))
    else:  # the same short summary with or without --out
        print_summary(f"statmech-attn {command}", output.summary or summary_rows(output.result))
        if out is not None:
            typer.echo(f"wrote {out}/result.json")
    if not output.ok:
        raise fail(output.message or f"{command}: did not converge / did not pass", 1)
    global QUICK_EXIT
    QUICK_EXIT = True


def _import_matplotlib() -> None:
    """Import matplotlib's ``Figure`` for ``plot`` without the ``set()`` docstrings nobody reads there.

    At import, matplotlib writes a table of every property into the docstring of each Artist class's
    ``set`` (:func:`matplotlib.artist.kwdoc`): about 60 ms, 7 % of a ``paths plot``.  A fresh ``plot``
    process never reads them, so it imports the figure machinery with ``kwdoc`` answering "" (signatures
    and behaviour unchanged) and puts ``kwdoc`` back.  Where ``matplotlib.figure`` is imported already
    (a test session, a notebook), nothing happens.
    """
    if "matplotlib.figure" in sys.modules:
        return
    import matplotlib.artist as artist

    kwdoc = getattr(artist, "kwdoc", None)
    if callable(kwdoc):
        artist.kwdoc = lambda _artist: ""
    try:
        import matplotlib.figure  # noqa: F401
    finally:
        if callable(kwdoc):
            artist.kwdoc = kwdoc


def plot(theory: str, run_dir: Path, style: str = "default") -> None:
    """``<theory> plot DIR [--style S]``: figures (PNG and PDF) from a saved run directory; no recomputation.

    Imports no JAX (the theories' ``verbs``/``plots``/``records`` modules import their numbers lazily);
    the figures are drawn by Agg outside pyplot (:func:`statmech_attn._style.figure`).
    """
    import gc

    import matplotlib

    matplotlib.use("Agg")
    _import_matplotlib()
    from .. import io
    from .._style import check_style, style_context
    from ._run import plot_figures

    global QUICK_EXIT
    gc_was_enabled = gc.isenabled()
    gc.disable()  # short-lived: collecting would only rescan matplotlib's objects (~5 % of the time)
    try:
        with boundary():
            check_style(style)
            with style_context(style):
                figures, _ = plot_figures(theory, run_dir)
                for fig, stem in figures:
                    for p in io.save_figure(fig, run_dir, stem):
                        typer.echo(f"wrote {p}")
        QUICK_EXIT = True
    finally:
        if gc_was_enabled:
            gc.enable()
