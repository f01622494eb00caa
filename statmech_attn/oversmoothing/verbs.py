"""The verbs of ``oversmoothing``: ``analyse`` (config -> record) and re-plotting a saved run.
(``oversmoothing train`` trains finite stacks: :mod:`statmech_attn.validation.oversmoothing.verbs`.)"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._verb import Verb, VerbOutput
from ..errors import InputError
from .records import analyse_record
from .spec import OversmoothingSpec


def _check_depth(depth: int, theory: np.ndarray, sim: dict, spectrum: Any) -> None:
    """Refuse what would write a non-finite number: an all-ones (LFC) mode with growth factor 0 (LFC
    vanishes after one layer, HFC/LFC is infinite), or a depth at which HFC/LFC (theory or simulation)
    leaves float64's range (the error names the deepest depth that stays in range)."""
    rows = [np.asarray(theory)] + [np.asarray(sim[k]) for k in ("hfc_lfc_ratio", "mean_pairwise_cosine",
                                                                  "dirichlet_energy_normalised", "effective_rank",
                                                                  "log_norm") if k in sim]
    bad = [int(np.flatnonzero(~np.isfinite(r))[0]) for r in rows if r.ndim == 1 and not np.all(np.isfinite(r))]
    if not bad:
        return
    smooth = np.asarray(spectrum.smooth_mode)
    if smooth.any() and float(np.max(np.abs(spectrum.growth[smooth]))) == 0.0:
        raise InputError("oversmoothing.value_projection", "matrix",
                         "gives the all-ones (LFC) mode growth factor 1 + λ_A λ_H = 0: the token mean vanishes "
                         "after one layer and HFC/LFC is infinite (no finite number to write); use depth = 0 or "
                         "another H")
    first = min(bad)
    raise InputError("oversmoothing.depth", depth, f"HFC/LFC leaves the range of float64 at layer {first}; "
                     f"use depth <= {max(first - 1, 0)} for this spectrum")


def analyse(cfg: OversmoothingSpec) -> VerbOutput:
    """OversmoothingSpec -> spectrum, regime, HFC/LFC theory and simulation."""
    from . import StackSpec, analyse, random_tokens
    from .plots import plot_growth_plane, plot_hfc_lfc

    o = cfg.oversmoothing
    spec = StackSpec(o.attention, o.value_projection, o.depth, o.pre_ln, o.ln_gain, o.ln_scale)
    x0 = o.tokens if o.tokens is not None else random_tokens(spec.n, spec.d, cfg.seed)
    an = analyse(spec, x0, tol=o.tol)
    s = an.spectrum
    sim = an.simulation
    _check_depth(spec.depth, an.theory, sim, s)
    result, arrays = analyse_record(spec, an, x0)
    figs = [(plot_hfc_lfc(an.theory, sim["hfc_lfc_ratio"], regime=s.regime)[0], "hfc_lfc"),
            (plot_growth_plane(s.growth, s.smooth_mode, s.dominant)[0], "growth_plane")]
    summary = [("regime", s.regime), ("dominant_growth_factor", s.dominant_growth_factor),
               ("spectral_gap", s.spectral_gap), ("hfc_lfc_rate (log per layer)", s.hfc_lfc_rate),
               ("HFC/LFC at layer 0", float(an.theory[0])), (f"HFC/LFC at layer {spec.depth} (theory)", float(an.theory[-1])),
               (f"HFC/LFC at layer {spec.depth} (simulation)", float(sim["hfc_lfc_ratio"][-1])),
               ("theory vs simulation max rel. error", an.max_rel_error)]
    return VerbOutput(result=result, arrays=arrays, summary=summary, figures=figs)


def plot_analyse(record: dict, arrays: dict) -> list:
    from .plots import plot_growth_plane, plot_hfc_lfc

    res = record.get("result", {})
    need = ("hfc_lfc_theory", "hfc_lfc_simulation", "growth", "smooth_mode")
    missing = [k for k in need if k not in arrays]
    if missing:
        raise InputError("run_dir", missing, "arrays.npz lacks these arrays (not an 'analyse' run?)")
    g = arrays["growth"]
    dom = res.get("dominant_mode", {})
    d = (dom.get("attention_index"), dom.get("value_projection_index"))
    return [(plot_hfc_lfc(arrays["hfc_lfc_theory"], arrays["hfc_lfc_simulation"], regime=res.get("regime", ""))[0],
             "hfc_lfc"),
            (plot_growth_plane(g, arrays["smooth_mode"], d if None not in d else None)[0], "growth_plane")]



VERBS = {"analyse": Verb(OversmoothingSpec, analyse)}
PLOTS = {"analyse": plot_analyse}
