"""HFC/LFC over depth: the closed-form eigen-expansion and direct simulation of the stack.

Stack: ``X_{ℓ+1} = X_ℓ + A X_ℓ H`` (optionally with a linearised pre-LN, i.e. ``H`` replaced by
``P_d D_γ H / σ``, see :func:`effective_value_projection`).  With ``A = U Λ_A U⁻¹`` and
``H = V Λ_H V⁻¹`` the coefficients ``C = U⁻¹ X_0 V`` evolve mode by mode,

    X_L = U (C ∘ G^L) V⁻¹,   G_ij = 1 + λ_i(A) λ_j(H),

which is the closed-form prediction of every metric at every depth.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg

from .._args import real_scalar
from ..errors import InputError
from ._metrics import metrics
from ._spectrum import check_attention, check_value_projection, effective_value_projection

__all__ = ["StackSpec", "theory_hfc_lfc", "simulate", "random_tokens"]


@dataclasses.dataclass(frozen=True)
class StackSpec:
    """A depth-L linear residual attention stack.

    Attributes:
        attention: A, row-stochastic (n×n), fixed across layers.
        value_projection: H = W_V W_O (d×d), shared across layers.
        depth: L, number of layers.
        pre_ln: ``"none"`` or ``"linear"`` (linearised pre-LN: H → P_d diag(γ) H / σ).
        ln_gain: γ (scalar or d entries), used when ``pre_ln = "linear"``.
        ln_scale: σ > 0, the frozen LN standard deviation.
    """

    attention: np.ndarray
    value_projection: np.ndarray
    depth: int
    pre_ln: Literal["none", "linear"] = "none"
    ln_gain: tuple[float, ...] = (1.0,)
    ln_scale: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "attention", check_attention(self.attention))
        object.__setattr__(self, "value_projection", check_value_projection(self.value_projection))
        if isinstance(self.depth, bool) or not isinstance(self.depth, (int, np.integer)) or self.depth < 0:
            raise InputError("depth", self.depth, "must be an integer >= 0")
        if self.pre_ln not in ("none", "linear"):
            raise InputError("pre_ln", self.pre_ln, "must be one of 'none', 'linear'")
        d = self.value_projection.shape[0]
        gain = self.ln_gain if isinstance(self.ln_gain, (list, tuple)) else (self.ln_gain,)
        if len(gain) not in (1, d):
            raise InputError("ln_gain", list(gain), f"must have 1 or d = {d} entries")
        for g in gain:
            real_scalar("ln_gain", g)
        object.__setattr__(self, "ln_gain", tuple(float(g) for g in gain))
        real_scalar("ln_scale", self.ln_scale, low=0.0, strict=True)
        from ..config import check_memory, nbytes

        n = self.attention.shape[0]
        check_memory([("depth", self.depth, nbytes(self.depth + 1, n * d, 4, itemsize=16))])

    @property
    def n(self) -> int:
        """Number of tokens."""
        return self.attention.shape[0]

    @property
    def d(self) -> int:
        """Feature dimension."""
        return self.value_projection.shape[0]

    def effective_h(self) -> np.ndarray:
        """The map that multiplies ``A X`` on the right in each layer."""
        if self.pre_ln == "none":
            return self.value_projection
        gain = np.asarray(self.ln_gain if len(self.ln_gain) == self.d else self.ln_gain * self.d)
        return effective_value_projection(self.value_projection, gain, self.ln_scale)


def random_tokens(n: int, d: int, seed: int) -> np.ndarray:
    """X_0 with i.i.d. standard normal entries plus a unit mean direction (so LFC ≠ 0), seeded."""
    from ..config import check_memory, nbytes

    for name, v in (("n", n), ("d", d), ("seed", seed)):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or v < (0 if name == "seed" else 1):
            raise InputError(name, v, "must be an integer >= " + ("0" if name == "seed" else "1"))
    check_memory([("n", n, nbytes(n, d))])
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)) + rng.standard_normal((1, d))


def _check_tokens(spec: StackSpec, x0: np.ndarray) -> np.ndarray:
    from .._args import real_array

    x0 = np.asarray(real_array("tokens", x0))
    if x0.shape != (spec.n, spec.d):
        raise InputError("tokens", f"shape {x0.shape}", f"must have shape (n, d) = ({spec.n}, {spec.d})")
    if not np.all(np.isfinite(x0)):
        raise InputError("tokens", "NaN/inf", "every entry must be finite")
    return x0


Eig = tuple[np.ndarray, np.ndarray]


def _condition(lu_piv: tuple[np.ndarray, np.ndarray], m: np.ndarray) -> float:
    """1-norm condition number of ``m`` from its LU factors (LAPACK gecon estimate, no SVD)."""
    gecon = scipy.linalg.lapack.get_lapack_funcs("gecon", (m,))
    rcond, _ = gecon(lu_piv[0], np.linalg.norm(m, 1), norm="1")
    return float(1.0 / rcond) if rcond > 0 else float("inf")


def theory_hfc_lfc(spec: StackSpec, x0: np.ndarray, *, eig_attention: Eig | None = None,
                   eig_value_projection: Eig | None = None) -> tuple[np.ndarray, float]:
    """Closed-form ``HFC/LFC(X_ℓ)`` for ℓ = 0..L from the eigen-expansion ``X_ℓ = U (C ∘ G^ℓ) V⁻¹``.

    Every layer is rescaled by ``max|G|^ℓ`` (the ratio is scale-free), so deep stacks neither
    overflow nor underflow.  ``eig_*`` are precomputed ``scipy.linalg.eig`` pairs of A and of the
    effective H.  Returns the ratios and the worse of the two eigenvector condition numbers
    (large values warn that A or H is close to defective and the closed form loses accuracy).
    """
    x0 = _check_tokens(spec, x0)
    lam_a, u = eig_attention if eig_attention is not None else scipy.linalg.eig(spec.attention)
    lam_h, v = eig_value_projection if eig_value_projection is not None else scipy.linalg.eig(spec.effective_h())
    lu_u, lu_v = scipy.linalg.lu_factor(u), scipy.linalg.lu_factor(v.T)
    cond = max(_condition(lu_u, u), _condition(lu_v, v.T))
    c = scipy.linalg.lu_solve(lu_u, x0.astype(complex)) @ v         # C = U⁻¹ X_0 V
    g = 1.0 + np.multiply.outer(lam_a, lam_h)
    gmax = np.max(np.abs(g))
    gs = g / gmax if gmax > 0 else g
    layers = np.arange(spec.depth + 1)
    coeff = c[None] * gs[None] ** layers[:, None, None]             # (L+1, n, d)
    left = u[None] @ coeff                                          # U (C ∘ G^ℓ)
    # X_ℓ = left_ℓ V⁻¹: one LU solve Vᵀ Yᵀ = left_ℓᵀ for all layers at once
    rhs = left.reshape(-1, spec.d).T
    xs = scipy.linalg.lu_solve(lu_v, rhs).T.reshape(left.shape).real
    mean = xs.mean(axis=1, keepdims=True)
    lf = np.sqrt(spec.n) * np.linalg.norm(mean[:, 0, :], axis=1)
    hf = np.linalg.norm((xs - mean).reshape(len(layers), -1), axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = hf / lf
    return ratio, cond


@jax.jit
def _simulate(a: jax.Array, h: jax.Array, x0: jax.Array, layers: jax.Array):
    def step(carry, _):
        x, lognorm = carry
        m = metrics(x)
        x_new = x + a @ x @ h
        nrm = jnp.linalg.norm(x_new)
        return (x_new / nrm, lognorm + jnp.log(nrm)), (m, lognorm)

    (x_last, ln_last), (ms, lognorms) = jax.lax.scan(step, (x0 / jnp.linalg.norm(x0), jnp.log(jnp.linalg.norm(x0))),
                                                     layers)
    m_last = metrics(x_last)
    ms = jax.tree_util.tree_map(lambda s, e: jnp.concatenate([s, e[None]]), ms, m_last)
    return ms, jnp.concatenate([lognorms, ln_last[None]]), x_last


def simulate(spec: StackSpec, x0: np.ndarray) -> dict[str, np.ndarray]:
    """Direct simulation of ``X_{ℓ+1} = X_ℓ + A X_ℓ H_eff`` for ℓ = 0..L−1 (``lax.scan``).

    X is renormalised to unit Frobenius norm after each layer (the map is linear, so every metric is
    unchanged) and ``log ‖X_ℓ‖_F`` is accumulated.  Returns per-layer arrays (length L+1):
    ``hfc_lfc_ratio``, ``mean_pairwise_cosine``, ``dirichlet_energy_normalised``,
    ``effective_rank``, ``log_norm``, and ``tokens_last`` (X_L / ‖X_L‖_F).
    """
    x0 = _check_tokens(spec, x0)
    ms, lognorms, x_last = _simulate(jnp.asarray(spec.attention), jnp.asarray(spec.effective_h()),
                                     jnp.asarray(x0), jnp.arange(spec.depth))
    out = {k: np.asarray(v) for k, v in ms.items()}
    out["log_norm"] = np.asarray(lognorms)
    out["tokens_last"] = np.asarray(x_last)
    return out
