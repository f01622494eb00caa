"""``statmech-attn derive paths``: the attention-path saddle-point equations from SymPy.

    statmech-attn derive paths --layers L --heads H [--readout mean|first|last]
                               [--latex FILE] [--form matrix|components] [--no-cache]

``--heads`` is one integer (every layer) or a comma list with one entry per layer.  Without
``--latex`` the equations are printed (SymPy pretty form); with ``--latex FILE`` the standalone
LaTeX fragment is written atomically (``--latex -`` prints it).  Derivations are cached on disk
(``$STATMECH_ATTN_CACHE`` or ``~/.cache/statmech_attn/derivations``).  Bad input (L = 0, a head
count < 1, an unknown readout or form) exits 2 with one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .._cli_common import derive_app, handle_errors
from ..errors import InputError


def parse_heads(text: str, layers: int) -> tuple[int, ...]:
    """'2' → (2,)*L; '3,2' → (3, 2) (one entry per layer)."""
    if layers < 1:
        raise InputError("layers", layers, "must be an integer >= 1")
    parts = [p.strip() for p in str(text).split(",") if p.strip()]
    try:
        values = [int(p) for p in parts]
    except ValueError:
        raise InputError("heads", text, "must be an integer or a comma list of integers >= 1") from None
    if not values:
        raise InputError("heads", text, "must be an integer or a comma list of integers >= 1")
    if any(v < 1 for v in values):
        raise InputError("heads", text, "every head count must be an integer >= 1")
    if len(values) == 1:
        values = values * layers
    if len(values) != layers:
        raise InputError("heads", text, f"must give one head count or one per layer (L = {layers})")
    return tuple(values)


@derive_app.command("paths")
@handle_errors
def derive_paths_cmd(
    layers: Annotated[int, typer.Option("--layers", help="Number of attention layers L >= 1.")],
    heads: Annotated[str, typer.Option("--heads", help="Heads per layer: one integer or a comma list (one per layer).")],
    readout: Annotated[str, typer.Option("--readout", help="Token readout: mean | first | last.")] = "last",
    latex: Annotated[Optional[Path], typer.Option("--latex", help="Write the LaTeX fragment to FILE ('-' for stdout).")] = None,
    form: Annotated[str, typer.Option("--form", help="matrix (symbolic heads, fixed-point forms) | components (every entry a symbol).")] = "matrix",
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Derive again instead of loading the on-disk cache.")] = False,
) -> None:
    """Derive the attention-path saddle-point equations (SymPy) and print them or write LaTeX."""
    from statmech_attn.derivations.paths import FORMS, READOUTS, derive_paths

    hs = parse_heads(heads, layers)
    if readout not in READOUTS:
        raise InputError("readout", readout, "must be one of 'mean', 'first', 'last'")
    if form not in FORMS:
        raise InputError("form", form, "must be 'matrix' or 'components'")
    d = derive_paths(hs, readout, form=form, use_cache=not no_cache)
    if latex is None:
        typer.echo(d.text())
    elif str(latex) == "-":
        typer.echo(d.latex(), nl=False)
    else:
        from ..io import atomic_write_text

        try:
            atomic_write_text(latex, d.latex())
        except OSError as e:
            raise InputError("latex", str(latex), f"cannot be written ({e.strerror})") from None
        typer.echo(f"wrote {latex} ({len(d.conditions)} conditions, {'cached' if d.cache_hit else f'derived in {d.seconds:.2f} s'})")
