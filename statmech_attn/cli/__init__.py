"""The ``statmech-attn`` command line (typer): the only layer that imports typer.

``statmech-attn <theory> <verb> CONFIG.toml [--out DIR] [--json] [--force] [--resume] [--set key=value ...]``.
One module per theory (``statmech_attn/cli/<theory>.py``, each a typer app named ``app``), plus
``derive`` (symbolic output) and ``version``.  Exit codes: 0 done, 1 did not converge / did not pass,
2 bad input (one line on stderr).
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import typer

from .._version import __version__

#: sub-apps in the order ``--help`` lists them; a module that is absent is skipped
COMMANDS = ("paths", "potts", "energy", "oversmoothing", "factors", "theory", "derive")

app = typer.Typer(
    name="statmech-attn",
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


@app.command()
def version() -> None:
    """Print the package version."""
    typer.echo(__version__)


_register()


CACHE_MAX_BYTES = 2 * 1024**3


def enable_compilation_cache() -> Path | None:
    """With ``STATMECH_ATTN_CACHE=1``, keep compiled solvers between runs: JAX's persistent
    compilation cache in ``$XDG_CACHE_HOME/statmech_attn/jax`` (default ``~/.cache/statmech_attn/jax``).

    A second run of a verb on problems of the same shapes then skips XLA compilation (seconds per
    solver). Opt-in: reading NumPyro's compiled NUTS block back from the cache once crashed a process
    (jax 0.10, CPU). Left alone when ``JAX_COMPILATION_CACHE_DIR`` is set. Returns the folder used, or None.
    """
    if os.environ.get("JAX_COMPILATION_CACHE_DIR") or os.environ.get("STATMECH_ATTN_CACHE", "0") != "1":
        return None
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    path = base / "statmech_attn" / "jax"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None  # read-only home: run without the cache
    import jax

    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.1)
    # a size bound switches on JAX's file lock: processes sharing the folder never read a half-written entry
    jax.config.update("jax_compilation_cache_max_size", CACHE_MAX_BYTES)
    return path


def main() -> None:
    """Console-script entry point."""
    enable_compilation_cache()
    app()


if __name__ == "__main__":
    main()
