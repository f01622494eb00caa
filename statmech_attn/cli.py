"""The ``statmech-attn`` command line (typer).

``statmech-attn <theory> <verb> CONFIG.toml [--out DIR] [--json] [--force] [--set key=value ...]``.
One sub-app per theory, each defined in ``statmech_attn/<theory>/cli.py`` as ``app``; symbolic
derivations register on the shared ``derive`` sub-app.  Exit codes: 0 done, 1 did not converge /
did not pass, 2 bad input (one line on stderr).
"""

from __future__ import annotations

import importlib

import typer

from ._cli_common import derive_app
from ._version import __version__

THEORIES: dict[str, str] = {
    "paths": "Attention paths: Bayesian deep multi-head attention at finite alpha (seed 001).",
    "potts": "Potts model, factored attention, pseudo-likelihood, replica theory (seed 002).",
    "energy": "Attention as a log-sum-exp ascent step; layer-norm contraction (seed 000).",
    "oversmoothing": "Oversmoothing from the eigenspectrum of W_V W_O (seed 003).",
    "factors": "Transformer factors by sparse dictionary learning (seed 004).",
}

app = typer.Typer(
    name="statmech-attn",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Statistical-mechanics theory of attention networks: solve, sweep, sample, validate, plot.",
)


def _register() -> None:
    for name, help_text in THEORIES.items():
        try:
            module = importlib.import_module(f"statmech_attn.{name}.cli")
        except ModuleNotFoundError as e:
            if e.name in (f"statmech_attn.{name}", f"statmech_attn.{name}.cli"):
                continue  # theory not built in this version
            raise
        app.add_typer(module.app, name=name, help=help_text)
    app.add_typer(derive_app, name="derive")


@app.command()
def version() -> None:
    """Print the package version."""
    typer.echo(__version__)


_register()


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
