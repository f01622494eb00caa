"""The ``statmech-attn`` command line (typer): the only layer that imports typer.

``statmech-attn <theory> <verb> CONFIG.toml [--out DIR] [--json] [--force] [--resume] [--set key=value ...]``.
One module per theory (``statmech_attn/cli/<theory>.py``, each a typer app named ``app``), plus
``derive`` (symbolic output) and ``version``.  Exit codes: 0 done, 1 did not converge / did not pass,
2 bad input (one line on stderr), 3 internal error (one line and where its traceback was written;
``statmech-attn --debug ...`` prints it), 130 interrupted.  A usage mistake (an unknown option, a
missing argument) is one line too, never a usage box.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import typer
import typer.core
import typer.exceptions
from typer.core import TyperGroup

from .._version import __version__
from ..errors import one_line


class _BoundaryGroup(TyperGroup):
    """The root command: usage errors are one line (exit 2) and nothing escapes as a traceback
    (see :func:`statmech_attn.cli._common.report`)."""

    def main(self, args: Any = None, prog_name: Any = None, complete_var: Any = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        from ._common import report

        click = getattr(typer.core, "_click", None)
        if click is None:  # pragma: no cover - a typer that uses click itself
            import click
        exc = click.exceptions
        no_args = getattr(exc, "NoArgsIsHelpError", ())
        exits = tuple(t for t in (getattr(exc, "Exit", None), typer.exceptions.Exit) if t is not None)
        aborts = tuple(t for t in (getattr(exc, "Abort", None), typer.exceptions.Abort) if t is not None)
        code: Any
        try:
            code = super().main(args=args, prog_name=prog_name, complete_var=complete_var,
                                standalone_mode=False, **extra)
        except no_args as e:  # type: ignore[misc]
            e.show()
            code = e.exit_code
        except exc.UsageError as e:
            hint = f"; see '{e.ctx.command_path} --help'" if getattr(e, "ctx", None) is not None else ""
            typer.echo(f"error: {one_line(e.format_message()).rstrip('.')}{hint}", err=True)
            code = 2
        except exc.ClickException as e:
            typer.echo(f"error: {one_line(e.format_message())}", err=True)
            code = e.exit_code
        except exits as e:
            code = e.exit_code
        except aborts:
            typer.echo("error: aborted", err=True)
            code = 1
        except SystemExit:
            raise
        except BaseException as e:  # noqa: BLE001 - the last boundary: one line, never a traceback
            code = report(e)
        if not standalone_mode:
            return code
        sys.exit(code if isinstance(code, int) else 0)

#: sub-apps in the order ``--help`` lists them; a module that is absent is skipped
COMMANDS = ("paths", "potts", "energy", "oversmoothing", "factors", "theory", "derive")

app = typer.Typer(
    name="statmech-attn",
    cls=_BoundaryGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Statistical-mechanics theory of attention networks: solve, sweep, sample, validate, plot.",
)


def _register() -> None:
    for name in COMMANDS:
        module_name = f"statmech_attn.cli.{name}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as e:
            if e.name == module_name:
                continue
            raise
        app.add_typer(module.app, name=name)


@app.callback()
def _root(debug: bool = typer.Option(False, "--debug", help="Print the traceback of an internal error "
                                     "(exit 3) instead of writing it to a file.")) -> None:
    """Statistical-mechanics theory of attention networks: solve, sweep, sample, validate, plot."""
    from . import _common

    _common.DEBUG = bool(debug)


@app.command()
def version() -> None:
    """Print the package version."""
    typer.echo(__version__)


_register()


def _is_the_process() -> bool:
    """Whether this command line is the process itself (the ``statmech-attn`` script or
    ``python -m statmech_attn``), not a call of :func:`main` inside someone else's program."""
    top = sys.modules.get("__main__")
    spec = getattr(top, "__spec__", None)
    if spec is not None and spec.name in ("statmech_attn", "statmech_attn.__main__"):
        return True
    return os.path.basename(getattr(top, "__file__", "") or "").startswith("statmech-attn")


def main() -> None:
    """Console-script entry point: JAX's compilation cache on (``STATMECH_ATTN_CACHE=0`` switches it
    off), then the app."""
    from .._cache import enable_compilation_cache

    enable_compilation_cache()
    try:
        app()
    except SystemExit as e:
        from . import _common

        if _common.QUICK_EXIT and e.code in (0, None) and _is_the_process():
            # a finished command (every file written and closed): skip the interpreter's teardown of
            # JAX, XLA's thread pools and matplotlib's hundreds of modules (0.1–0.25 s), which has
            # nothing left to flush
            import logging

            logging.shutdown()
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)
        raise


if __name__ == "__main__":
    main()
