"""The verbs of ``energy``: ``analyse`` (config -> record) and re-plotting a saved run."""

from __future__ import annotations

from .._verb import Verb, VerbOutput
from ..errors import InputError
from .records import analyse_record
from .spec import EnergySpec


def analyse(cfg: EnergySpec) -> VerbOutput:
    """EnergySpec -> per-layer norms, expansion, contraction, log-partition, gradient-field checks."""
    from .plots import plot_norms
    from ._stack import stack_diagnostic

    e = cfg.energy
    x0 = e.tokens - e.tokens.mean(axis=0, keepdims=True) if e.center_tokens else e.tokens
    w = e.stack_weights(cfg.seed)
    diag = stack_diagnostic(x0, w, beta=e.beta, eta=e.eta, use_layer_norm=e.layer_norm, tol=e.tol)
    d = x0.shape[1]
    identity = e.weights == "identity"
    result, arrays = analyse_record(diag, layer_norm=e.layer_norm, identity=identity)
    fig, _ = plot_norms(diag.norms_in, diag.norms_attention, diag.norms_out, layer_norm=e.layer_norm, dim=d)
    summary = [("layers", e.layers), ("tokens × d", f"{x0.shape[0]} × {d}"), ("weights", e.weights),
               ("mean expansion factor per layer", ", ".join(f"{v:.4g}" for v in result["expansion_factor"])),
               ("min expansion factor", result["min_expansion"]),
               ("gradient field (every layer)", all(c.is_gradient_field for c in diag.gradient_field))]
    if e.layer_norm:
        summary.append(("mean contraction factor per layer", ", ".join(f"{v:.4g}" for v in result["contraction_factor"])))
        summary.append(("max | |LN(x)| − √d |", result["max_layer_norm_deviation"]))
    if identity:
        summary.append(("min ascent gain A(θ') − A(θ) − η|∇A|²", result["ascent_gain_min"]))
    return VerbOutput(result=result, arrays=arrays, summary=summary, figures=[(fig, "norms")])


def plot_analyse(record: dict, arrays: dict) -> list:
    from .plots import plot_norms

    missing = [k for k in ("norms_in", "norms_attention", "norms_out", "tokens") if k not in arrays]
    if missing:
        raise InputError("run_dir", missing, "arrays.npz lacks these arrays (not an 'energy analyse' run?)")
    ln = bool(record.get("config", {}).get("energy", {}).get("layer_norm", False))
    fig, _ = plot_norms(arrays["norms_in"], arrays["norms_attention"], arrays["norms_out"], layer_norm=ln,
                        dim=int(arrays["tokens"].shape[-1]))
    return [(fig, "norms")]



VERBS = {"analyse": Verb(EnergySpec, analyse)}
PLOTS = {"analyse": plot_analyse}
