"""Growth factors of the linear residual attention stack and the regime they decide.

Setting (Dovonon, Bronstein, Kusner, arXiv 2401.04301): one head with a fixed row-stochastic
attention matrix ``A`` (n×n), value-and-projection product ``H = W_V W_O`` (d×d) shared by all
layers, a residual connection and no layer norm or MLP,

    X_{ℓ+1} = X_ℓ + A X_ℓ H,   i.e.   vec(X_{ℓ+1}) = (I + Hᵀ ⊗ A) vec(X_ℓ).

The eigenvalues of ``I + Hᵀ ⊗ A`` are the *growth factors* ``g_ij = 1 + λ_i(A) λ_j(H)`` with
matrix modes ``u_i w_jᵀ`` (``u_i`` right eigenvector of A, ``w_j`` left eigenvector of H).  The
mode with the largest ``|g_ij|`` dominates at depth and decides the regime.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np

from .._args import real_array, real_scalar
from ..errors import InputError

Regime = Literal["smoothing", "sharpening", "balanced", "complex"]

__all__ = [
    "Spectrum",
    "check_attention",
    "check_value_projection",
    "growth_factors",
    "spectrum",
    "spectrum_from_eigs",
    "effective_value_projection",
]


def check_value_projection(h: np.ndarray, param: str = "value_projection") -> np.ndarray:
    """``H`` as a finite square float64 matrix, or ``InputError`` naming ``param``."""
    h = np.asarray(real_array(param or "value_projection", h))
    if h.ndim != 2 or h.shape[0] != h.shape[1]:
        raise InputError(param, f"shape {h.shape}", "must be a square d×d matrix (H = W_V W_O)")
    if h.shape[0] == 0:
        raise InputError(param, f"shape {h.shape}", "must have d >= 1")
    if not np.all(np.isfinite(h)):
        raise InputError(param, "NaN/inf", "every entry must be finite")
    return h


def check_attention(a: np.ndarray, param: str = "attention", atol: float = 1e-8) -> np.ndarray:
    """``A`` as a row-stochastic float64 matrix (entries >= 0, rows sum to 1), or ``InputError``."""
    a = np.asarray(real_array(param or "attention", a))
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] == 0:
        raise InputError(param, f"shape {a.shape}", "must be a square n×n attention matrix")
    if not np.all(np.isfinite(a)):
        raise InputError(param, "NaN/inf", "every entry must be finite")
    if np.any(a < -atol):
        raise InputError(param, f"min entry {a.min():.3g}", "must be row-stochastic (entries >= 0)")
    rows = a.sum(axis=1)
    if np.max(np.abs(rows - 1.0)) > atol:
        bad = int(np.argmax(np.abs(rows - 1.0)))
        raise InputError(param, f"row {bad} sums to {rows[bad]:.6g}", "must be row-stochastic (every row sums to 1)")
    return a


def growth_factors(lam_a: np.ndarray, lam_h: np.ndarray) -> np.ndarray:
    """``g_ij = 1 + λ_i(A) λ_j(H)``: the eigenvalues of ``I + Hᵀ ⊗ A``, shape (n, d), complex."""
    return 1.0 + np.multiply.outer(np.asarray(lam_a, dtype=complex), np.asarray(lam_h, dtype=complex))


@dataclasses.dataclass(frozen=True)
class Spectrum:
    """The growth-factor analysis of one (A, H) pair.

    Attributes:
        eig_attention: eigenvalues λ_i(A), shape (n,), complex.
        eig_value_projection: eigenvalues λ_j(H), shape (d,), complex.
        growth: g_ij = 1 + λ_i(A) λ_j(H), shape (n, d).
        smooth_mode: boolean (n,), True for the all-ones (low-frequency) mode: the λ_i(A) = 1 whose
            eigenvector is closest to 1 (a reducible A has further λ = 1 modes; they are
            high-frequency).
        dominant: (i, j) of a mode of largest |g_ij|.
        regime: ``smoothing`` (dominant modes all have λ^A = 1: tokens converge to one vector,
            HFC/LFC → 0), ``sharpening`` (no dominant mode has λ^A = 1 and they share one real
            growth factor: HFC/LFC → ∞), ``balanced`` (distinct real growth factors tie in
            modulus), ``complex`` (the top modulus belongs to a non-real conjugate pair).
        dominant_growth_factor: |g| of the dominant mode.
        spectral_gap: |g_(1)| − |g_(2)|, where g_(2) is the largest modulus among growth factors
            whose value differs from the dominant one; 0 for balanced and complex regimes.
        hfc_lfc_rate: log max_{λ^A≠1} |g| − log max_{λ^A=1} |g|: in the smoothing regime the
            asymptotic per-layer slope of log(HFC/LFC); in the sharpening regime the slope while the
            all-ones mode still carries the LFC (the exact asymptotic slope when 1ᵀu = 0 for the
            dominant eigenvector u of A, e.g. for symmetric A).
        hfc_lfc_limit: lim_{L→∞} HFC/LFC: 0 when smoothing; ‖u − ū1‖ / (√n |ū|) when sharpening
            (the ratio of the dominant mode u wᵀ itself, ∞ when ū = 0); NaN when balanced/complex.
        tol: relative tolerance used for ties and for λ^A = 1.
    """

    eig_attention: np.ndarray
    eig_value_projection: np.ndarray
    growth: np.ndarray
    smooth_mode: np.ndarray
    dominant: tuple[int, int]
    regime: Regime
    dominant_growth_factor: float
    spectral_gap: float
    hfc_lfc_rate: float
    hfc_lfc_limit: float
    tol: float

    def to_dict(self) -> dict:
        """Plain values for result.json."""
        g = self.growth
        i, j = self.dominant
        return {
            "regime": self.regime,
            "dominant_growth_factor": self.dominant_growth_factor,
            "spectral_gap": self.spectral_gap,
            "hfc_lfc_rate": self.hfc_lfc_rate if np.isfinite(self.hfc_lfc_rate) else None,  # ±∞: a zero growth factor
            "hfc_lfc_limit": self.hfc_lfc_limit if np.isfinite(self.hfc_lfc_limit) else None,
            "dominant_mode": {"attention_index": i, "value_projection_index": j,
                              "eig_attention": _pair(self.eig_attention[i]),
                              "eig_value_projection": _pair(self.eig_value_projection[j]),
                              "growth_factor": _pair(g[i, j])},
        }


def _pair(z: complex) -> dict:
    """A complex number as {"real", "imag"} (JSON has no complex type)."""
    return {"real": float(np.real(z)), "imag": float(np.imag(z))}


def _classify(growth: np.ndarray, smooth_mode: np.ndarray,
              tol: float) -> tuple[tuple[int, int], Regime, float, float, float]:
    """Dominant mode, regime, top modulus, spectral gap and HFC/LFC log-rate of a growth array."""
    mod = np.abs(growth)
    flat = int(np.argmax(mod))
    i, j = np.unravel_index(flat, mod.shape)
    top = float(mod[i, j])
    scale = max(top, 1.0)
    in_top = mod >= top - tol * scale
    g_top = growth[in_top]
    is_smooth = np.broadcast_to(smooth_mode[:, None], mod.shape)[in_top]
    nonreal = np.any(np.abs(g_top.imag) > tol * scale)
    same_value = np.all(np.abs(g_top - growth[i, j]) <= tol * scale)
    if nonreal:
        regime: Regime = "complex"
    elif np.all(is_smooth):
        regime = "smoothing"
    elif not np.any(is_smooth) and same_value:
        regime = "sharpening"
    else:
        regime = "balanced"
    different = np.abs(growth - growth[i, j]) > tol * scale
    second = float(mod[different].max()) if np.any(different) else 0.0
    gap = 0.0 if regime in ("balanced", "complex") else top - second
    if smooth_mode.any() and (~smooth_mode).any():
        lf = float(mod[smooth_mode].max())
        hf = float(mod[~smooth_mode].max())
        with np.errstate(divide="ignore"):
            rate = float(np.log(hf) - np.log(lf)) if lf > 0 and hf > 0 else (np.inf if lf == 0 else -np.inf)
    else:
        rate = 0.0
    return (int(i), int(j)), regime, top, max(gap, 0.0), rate


def spectrum(attention: np.ndarray, value_projection: np.ndarray, *, tol: float = 1e-9) -> Spectrum:
    """Growth factors of every mode, the dominant mode, the regime and the spectral gap.

    ``λ^A = 1`` is detected as |λ_i(A) − 1| <= sqrt(tol) (the all-ones eigenvalue of a
    row-stochastic matrix; the square root allows for the conditioning of a defective spectrum).
    """
    a = check_attention(attention)
    h = check_value_projection(value_projection)
    real_scalar("tol", tol, low=0.0, strict=True)
    import scipy.linalg  # here: the config checks (:mod:`.spec`) use this module without SciPy

    lam_a, u = scipy.linalg.eig(a)
    return spectrum_from_eigs(lam_a, u, scipy.linalg.eigvals(h), tol=tol)


def _all_ones_mode(lam_a: np.ndarray, u: np.ndarray, tol: float) -> np.ndarray:
    """Boolean mask of the one eigenvalue λ = 1 of A whose eigenvector is closest to 1/√n.

    A reducible A (e.g. A = I or block-diagonal) has λ = 1 more than once; only one of those modes
    is the all-ones (LFC) mode, the others are high-frequency modes growing just as fast.
    """
    unit = np.flatnonzero(np.abs(lam_a - 1.0) <= np.sqrt(tol))
    mask = np.zeros(lam_a.shape, dtype=bool)
    if unit.size:
        n = u.shape[0]
        align = np.abs(u[:, unit].sum(axis=0)) / (np.sqrt(n) * np.linalg.norm(u[:, unit], axis=0))
        mask[unit[int(np.argmax(align))]] = True
    return mask


def spectrum_from_eigs(lam_a: np.ndarray, u: np.ndarray, lam_h: np.ndarray, *, tol: float = 1e-9) -> Spectrum:
    """:func:`spectrum` from precomputed eigenvalues λ(A) (with right eigenvectors ``u``) and λ(H)."""
    real_scalar("tol", tol, low=0.0, strict=True)
    g = growth_factors(lam_a, lam_h)
    smooth = _all_ones_mode(lam_a, u, tol)
    dom, regime, top, gap, rate = _classify(g, smooth, tol)
    if regime == "smoothing":
        limit = 0.0
    elif regime == "sharpening":
        ud = u[:, dom[0]]
        ubar = ud.mean()
        hf = float(np.linalg.norm(ud - ubar))
        lf = float(np.sqrt(len(ud)) * abs(ubar))
        limit = hf / lf if lf > np.sqrt(tol) * hf else float("inf")
    else:
        limit = float("nan")
    return Spectrum(lam_a, lam_h, g, smooth, dom, regime, top, gap, rate, limit, tol)


def effective_value_projection(value_projection: np.ndarray, gain: np.ndarray | float = 1.0,
                               scale: float = 1.0) -> np.ndarray:
    """The value-projection map seen through a linearised pre-LN: ``P_d D_γ H / σ``.

    ``P_d = I − 11ᵀ/d`` centres the features of a row, ``D_γ = diag(γ)`` applies the LN gains and
    ``σ`` is the (frozen) standard deviation.  A negative gain flips the sign of the spectrum and
    swaps smoothing and sharpening.
    """
    h = check_value_projection(value_projection)
    d = h.shape[0]
    g = np.asarray(real_array("ln_gain", np.atleast_1d(np.asarray(gain)) if not isinstance(gain, (list, tuple)) else gain))
    if g.size not in (1, d):
        raise InputError("ln_gain", f"{g.size} entries", f"must have 1 or d = {d} entries")
    gamma = np.broadcast_to(g.reshape(-1), (d,))
    real_scalar("ln_scale", scale, low=0.0, strict=True)
    p = np.eye(d) - np.full((d, d), 1.0 / d)
    return (p * gamma[None, :]) @ h / scale
