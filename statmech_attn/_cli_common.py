"""Shared machinery of the command line: options, error handling, run-directory output.

Every verb is thin: parse -> config -> API -> io.  :func:`execute` does the parse/io part once for
all theories: it loads and validates the config (exit 2 with one line on stderr naming the
parameter), prepares ``--out``, calls the theory's compute function, writes the run directory or
prints a summary / the JSON record, and returns exit code 1 when the computation did not converge
or a validation did not pass.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any, Callable, Iterable, Iterator, Mapping, Optional, Sequence, TypeVar

import typer

from ._solution import SolverError
from .errors import InputError

C = TypeVar("C")
It = TypeVar("It")

# ------------------------------------------------------------------------------------------
# options shared by the verbs (Annotated aliases, so each verb's signature stays short)

ConfigArg = Annotated[Path, typer.Argument(help="TOML config file.", show_default=False)]
RunDirArg = Annotated[Path, typer.Argument(help="A run directory written with --out.", show_default=False)]
OutOpt = Annotated[Optional[Path], typer.Option("--out", "-o", help="Write a run directory here.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result JSON on stdout.")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Start over in a non-empty --out directory.")]
ResumeOpt = Annotated[bool, typer.Option("--resume", help="Compute only what is missing from --out.")]
SetOpt = Annotated[Optional[list[str]], typer.Option("--set", help="Override a config key: --set model.temperature=0.1 (repeatable).")]


@dataclasses.dataclass
class VerbOutput:
    """What a theory's compute function hands back to :func:`execute`.

    Attributes:
        result: the ``result`` object of ``result.json`` (plain values, arrays allowed).
        arrays: large arrays for ``arrays.npz``.
        ok: False when the run did not converge / the validation did not pass (exit 1).
        summary: (label, value) rows for the human summary; defaults to scalar entries of result.
        figures: (matplotlib figure, file stem) pairs saved as PNG and PDF with ``--out``.
        message: one line printed on stderr when ``ok`` is False.
        extra_files: {file name: JSON-able object} written next to result.json (e.g. report.json).
    """

    result: Mapping[str, Any]
    arrays: Mapping[str, Any] | None = None
    ok: bool = True
    summary: Sequence[tuple[str, Any]] | None = None
    figures: Sequence[tuple[Any, str]] = ()
    message: str = ""
    extra_files: Mapping[str, Any] | None = None


def fail(message: str, code: int = 2) -> "typer.Exit":
    """Print one line on stderr and return the typer.Exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator for CLI commands: user mistakes exit 2 with one line, non-convergence exits 1."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except InputError as e:
            raise fail(str(e), 2) from None
        except SolverError as e:
            raise fail(str(e), 1) from None
        except KeyboardInterrupt:
            raise fail("interrupted", 130) from None

    return wrapper


def quiet() -> bool:
    """True when progress bars should stay off (not a terminal, or CI)."""
    return bool(os.environ.get("CI")) or not sys.stderr.isatty()


def progress(items: Iterable[It], *, total: int | None = None, description: str = "") -> Iterator[It]:
    """Iterate with a rich progress bar on a terminal; silently in CI or when piped."""
    if quiet():
        yield from items
        return
    from rich.progress import track

    yield from track(items, total=total, description=description, transient=True)


def _summary_rows(result: Mapping[str, Any]) -> list[tuple[str, Any]]:
    rows = []
    for k, v in result.items():
        if isinstance(v, (bool, int, float, str)) or v is None:
            rows.append((k, v))
    return rows


def print_summary(title: str, rows: Sequence[tuple[str, Any]]) -> None:
    """A two-column rich table on stdout."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_header=True)
    table.add_column("quantity")
    table.add_column("value", justify="right")
    for k, v in rows:
        if isinstance(v, float):
            txt = f"{v:.10g}"
        else:
            txt = str(v)
        table.add_row(str(k), txt)
    Console(soft_wrap=True).print(table)


def execute(theory: str, verb: str, config_path: Path, schema: type[C],
            compute: Callable[[C], VerbOutput], *, out: Path | None, as_json: bool,
            force: bool = False, resume: bool = False, sets: Sequence[str] | None = None,
            seed_of: Callable[[C], int | None] = lambda c: getattr(c, "seed", None)) -> None:
    """Run one verb: config -> compute -> output.  Raises typer.Exit with the exit code."""
    from . import io
    from .config import load_config

    try:
        cfg = load_config(config_path, schema, sets or ())
        if out is not None:
            io.prepare_run_dir(out, force=force, resume=resume)
        output = compute(cfg)
        seed = seed_of(cfg)
        nonfinite = "error" if output.ok else "null"
        if out is not None:
            import matplotlib

            matplotlib.use("Agg")
            io.write_run(out, theory=theory, verb=verb, seed=seed, config=cfg, result=output.result,
                         arrays=output.arrays, nonfinite=nonfinite)
            for name, obj in (output.extra_files or {}).items():
                io.atomic_write_json(Path(out) / name, obj, nonfinite=nonfinite)
            for fig, stem in output.figures:
                io.save_figure(fig, out, stem)
        if as_json:
            record = io.result_record(theory, verb, seed, None, output.result, nonfinite=nonfinite)
            from .config import to_toml_dict

            record["config"] = io.to_jsonable(to_toml_dict(cfg), nonfinite="null")
            typer.echo(json.dumps(record, indent=2, allow_nan=False))
        elif out is None:
            print_summary(f"statmech-attn {theory} {verb}", output.summary or _summary_rows(output.result))
        else:
            typer.echo(f"wrote {out}/result.json")
    except InputError as e:
        raise fail(str(e), 2) from None
    except io.NonFiniteError as e:
        raise fail(f"the run produced a non-finite number ({e}); nothing was written", 1) from None
    except SolverError as e:
        raise fail(str(e), 1) from None
    except KeyboardInterrupt:
        raise fail("interrupted; files already written are complete, nothing half-written", 130) from None
    if not output.ok:
        raise fail(output.message or f"{theory} {verb}: did not converge / did not pass", 1)


def plot_run(run_dir: Path, plot: Callable[[dict[str, Any], dict[str, Any]], Sequence[tuple[Any, str]]],
             *, expect_theory: str) -> None:
    """Make figures from a saved run directory (no recomputation) and save them into it."""
    import matplotlib

    matplotlib.use("Agg")
    from . import io

    try:
        record = io.read_result(run_dir)
        if record.get("theory") != expect_theory:
            raise InputError("run_dir", str(run_dir), f"holds a '{record.get('theory')}' run, expected '{expect_theory}'")
        arrays = io.read_arrays(run_dir)
        figures = plot(record, arrays)
        for fig, stem in figures:
            for p in io.save_figure(fig, run_dir, stem):
                typer.echo(f"wrote {p}")
    except InputError as e:
        raise fail(str(e), 2) from None


# the `derive` sub-app: theories with symbolic derivations register a command on it
derive_app = typer.Typer(no_args_is_help=True, help="Symbolic derivations (SymPy): equations as text or LaTeX.")
