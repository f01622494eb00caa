"""``statmech-attn derive potts [--latex FILE] [--colours C]``: the replica equations of §7, derived with SymPy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from .._cli_common import JsonOpt, derive_app, fail
from ..errors import InputError


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


@derive_app.command("potts")
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
