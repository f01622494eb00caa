"""``statmech-attn derive <theory>``: the symbolic derivations (SymPy) as text or LaTeX.

    statmech-attn derive paths --layers L --heads H [--readout mean|first|last] [--latex FILE] [--form matrix|components]
    statmech-attn derive potts [--colours C] [--latex FILE] [--json]
    statmech-attn derive energy [--json]
    statmech-attn derive oversmoothing [--json]
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ..errors import InputError
from ._common import JsonOpt, fail, handle_errors

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Symbolic derivations (SymPy): equations as text or LaTeX.")


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


@app.command("paths")
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



def derivation_report(colours: int = 3, use_cache: bool = True) -> dict[str, Any]:
    """Derive (cached on disk) and check: envelope/implicit-function steps, agreement with (13)–(14),
    the C = 2 logistic reduction; returns the checks, the LaTeX and the fixed-point equations as text."""
    import sympy as sp

    from statmech_attn.derivations import _stationarity as st
    from statmech_attn.derivations import potts as dp

    def build() -> dict[str, Any]:
        d = dp.derive_replica(colours)
        theory = dp.check_against_theory(d)
        c2 = {k: bool(v == 0) for k, v in dp.c2_reduction().items()}
        text = {k: str(dp._display(d, d.hat_update[k])) for k in ("m_hat", "q_hat")}
        text.update({k: str(v) for k, v in d.entropic_update.items()})
        return {"latex": dp.to_latex(d), "derivation_checks": dict(d.checks), "matches_theory_eq_13_14": theory,
                "c2_reduces_to_logistic_regression": c2, "equations": text,
                "sympy": sp.__version__}

    report, hit = st.cached({"theory": "potts", "verb": "derive", "colours": colours}, build,
                            sources=[dp], use_cache=use_cache)
    report = dict(report)
    report["from_cache"] = hit
    return report


@app.command("potts")
def derive_potts(latex: Annotated[Optional[Path], typer.Option("--latex", help="Write the LaTeX fragment to FILE.")] = None,
                 colours: Annotated[int, typer.Option("--colours", help="Number of colours C (rank C − 1).")] = 3,
                 as_json: JsonOpt = False) -> None:
    """Replica-symmetric saddle-point equations of one factored-attention row (theory §7), with checks."""
    from .. import io

    try:
        if colours < 2 or colours > 5:
            raise InputError("--colours", colours, "must be an integer in [2, 5] (symbolic cost grows quickly)")
        rep = derivation_report(colours)
        if latex is not None:
            io.atomic_write_text(latex, rep["latex"])
    except InputError as e:
        raise fail(str(e), 2) from None
    ok = (all(rep["derivation_checks"].values()) and all(rep["matches_theory_eq_13_14"].values())
          and all(rep["c2_reduces_to_logistic_regression"].values()))
    if as_json:
        typer.echo(json.dumps({k: v for k, v in rep.items() if k != "latex"}, indent=2))
    else:
        typer.echo(f"# replica-symmetric equations, C = {colours} (SymPy {rep['sympy']})")
        for group in ("derivation_checks", "matches_theory_eq_13_14", "c2_reduces_to_logistic_regression"):
            passed = sum(bool(v) for v in rep[group].values())
            typer.echo(f"{group}: {passed}/{len(rep[group])} passed")
        for k, v in rep["equations"].items():
            typer.echo(f"{k} = {'alpha*E[' + v + ']' if k.endswith('_hat') else v}")
        if latex is not None:
            typer.echo(f"wrote {latex}")
    if not ok:
        raise fail("derive potts: a derivation check failed", 1)



@app.command("energy")
def derive_energy(as_json: JsonOpt = False) -> None:
    """Gradient and Hessian of the log-partition, and the two-token update, derived with SymPy (LaTeX)."""

    from statmech_attn.derivations.energy import latex_summary, log_partition_derivation, two_token_derivation

    text = latex_summary()
    if as_json:
        d, t = log_partition_derivation(2, 2), two_token_derivation()
        typer.echo(json.dumps({"latex": text.splitlines(), "gradient_verified": d.verified,
                               "two_token_verified": t.verified}, indent=2))
    else:
        typer.echo(text)



@app.command("oversmoothing")
def derive_oversmoothing(as_json: JsonOpt = False) -> None:
    """The Kronecker spectrum identity and the uniform-mixing HFC/LFC factor, derived with SymPy (LaTeX)."""

    from statmech_attn.derivations.oversmoothing import kronecker_identity, latex_summary, uniform_mixing_ratio

    text = latex_summary()
    if as_json:
        typer.echo(json.dumps({"latex": text.splitlines(), "kronecker_identity_verified": kronecker_identity(),
                               "uniform_mixing_verified": uniform_mixing_ratio().verified}, indent=2))
    else:
        typer.echo(text)

