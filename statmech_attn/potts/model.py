"""The generalised Potts model with factored couplings (docs/theories/potts.md).

Notation: L sites i, j; C colours a, b; a sequence s ∈ {0..C−1}^L; interaction matrix J (L×L,
symmetric, zero diagonal); colour matrix U (C×C, symmetric); fields h (L×C); inverse temperature β.

    H(s) = −Σ_{i<j} J_ij U_{s_i s_j} − Σ_i h_i(s_i),    P(s) = e^{−βH(s)}/Z,               (1)
    ℓ_i(a) = β[Σ_{j≠i} J_ij U_{a s_j} + h_i(a)],      P(s_i = a | s_−i) = softmax_a ℓ_i(a). (2)

The full coupling tensor is 𝒥_ij(a,b) = β J_ij U_ab.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import logsumexp

from ..errors import InputError

__all__ = [
    "PottsModel",
    "potts_model",
    "model_from_config",
    "energy",
    "conditional_logits",
    "conditionals",
    "coupling_tensor",
    "centring_projector",
    "zero_sum_gauge",
    "Enumeration",
    "all_states",
    "enumerate_exact",
    "sample_exact",
    "ising_couplings",
    "ising_ring_log_partition",
    "ising_ring_correlation",
    "ising_ring_magnetisation",
    "ising_chain_log_partition",
    "ising_chain_correlation",
]


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class PottsModel:
    """A generalised Potts model (1).  A JAX pytree: can be passed through ``jit``.

    Attributes:
        interaction: J (L, L), symmetric, zero diagonal.
        colour_matrix: U (C, C), symmetric.
        fields: h (L, C).
        beta: β > 0 (a scalar array).
    """

    interaction: jax.Array
    colour_matrix: jax.Array
    fields: jax.Array
    beta: jax.Array

    @property
    def sites(self) -> int:
        """L."""
        return int(self.interaction.shape[0])

    @property
    def colours(self) -> int:
        """C."""
        return int(self.colour_matrix.shape[0])


def potts_model(interaction: np.ndarray, colour_matrix: np.ndarray, fields: np.ndarray | None = None,
                beta: float = 1.0) -> PottsModel:
    """Build a validated :class:`PottsModel`.

    Raises:
        InputError: J not square/symmetric/zero-diagonal, L < 2, U not symmetric, C < 2, h of the
            wrong shape, β <= 0, or a non-finite entry.
    """
    J = np.asarray(interaction, dtype=np.float64)
    U = np.asarray(colour_matrix, dtype=np.float64)
    if J.ndim != 2 or J.shape[0] != J.shape[1]:
        raise InputError("interaction", f"shape {J.shape}", "must be a square (L, L) matrix")
    L = J.shape[0]
    if L < 2:
        raise InputError("interaction", f"shape {J.shape}", "needs L >= 2 sites")
    if not np.all(np.isfinite(J)):
        raise InputError("interaction", "NaN/inf", "every entry must be finite")
    if not np.allclose(J, J.T, rtol=1e-12, atol=1e-12):
        raise InputError("interaction", "non-symmetric matrix", "must be symmetric")
    if np.any(np.diag(J) != 0):
        raise InputError("interaction", "non-zero diagonal", "must have a zero diagonal (J_ii = 0)")
    if U.ndim != 2 or U.shape[0] != U.shape[1] or U.shape[0] < 2:
        raise InputError("colour_matrix", f"shape {U.shape}", "must be a square (C, C) matrix with C >= 2")
    if not np.all(np.isfinite(U)):
        raise InputError("colour_matrix", "NaN/inf", "every entry must be finite")
    if not np.allclose(U, U.T, rtol=1e-12, atol=1e-12):
        raise InputError("colour_matrix", "non-symmetric matrix", "must be symmetric")
    C = U.shape[0]
    h = np.zeros((L, C)) if fields is None else np.asarray(fields, dtype=np.float64)
    if h.shape != (L, C):
        raise InputError("fields", f"shape {h.shape}", f"must have shape (L, C) = ({L}, {C})")
    if not np.all(np.isfinite(h)):
        raise InputError("fields", "NaN/inf", "every entry must be finite")
    if not (math.isfinite(beta) and beta > 0):
        raise InputError("beta", beta, "must be a finite number > 0")
    return PottsModel(jnp.asarray(J), jnp.asarray(U), jnp.asarray(h), jnp.asarray(float(beta)))


def model_from_config(cfg) -> PottsModel:
    """The :class:`PottsModel` of a ``[potts]`` table (:class:`~.config.PottsModelConfig`)."""
    return potts_model(cfg.interaction, cfg.colour_matrix, cfg.fields, cfg.beta)


def energy(model: PottsModel, s: jax.Array) -> jax.Array:
    """H(s) of (1) for sequences ``s`` of shape (..., L) (integers in [0, C)); returns shape (...)."""
    U_pair = model.colour_matrix[s[..., :, None], s[..., None, :]]  # (..., L, L): U_{s_i s_j}
    pair = 0.5 * jnp.sum(model.interaction * U_pair, axis=(-2, -1))
    field = jnp.sum(model.fields[jnp.arange(model.sites), s], axis=-1)
    return -pair - field


def conditional_logits(model: PottsModel, s: jax.Array) -> jax.Array:
    """ℓ_i(a) = β[Σ_{j≠i} J_ij U_{a s_j} + h_i(a)] of (2) for every site; shape (..., L, C).

    The j = i term drops out because J_ii = 0, so the value of s_i itself never enters ℓ_i.
    """
    X = jax.nn.one_hot(s, model.colours, dtype=model.colour_matrix.dtype)  # (..., L, C)
    XU = X @ model.colour_matrix  # (..., L, C): row j = U[s_j, :] = U[:, s_j] (U symmetric)
    return model.beta * (model.interaction @ XU + model.fields)


def conditionals(model: PottsModel, s: jax.Array) -> jax.Array:
    """P(s_i = a | s_−i) of (2) for every site; shape (..., L, C)."""
    return jax.nn.softmax(conditional_logits(model, s), axis=-1)


def coupling_tensor(model: PottsModel) -> jax.Array:
    """𝒥_ij(a,b) = β J_ij U_ab, shape (L, L, C, C)."""
    return model.beta * model.interaction[:, :, None, None] * model.colour_matrix[None, None, :, :]


def centring_projector(C: int) -> jax.Array:
    """P = I − 11ᵀ/C, the centring projector on colours."""
    return jnp.eye(C) - jnp.ones((C, C)) / C


def zero_sum_gauge(model: PottsModel) -> PottsModel:
    """The equivalent model in the project's zero-sum gauge (§1).

    U = Ũ + r1ᵀ + 1rᵀ − ū11ᵀ with Ũ = PUP, r_a = mean_b U_ab, ū = mean U; the fields absorb
    h̃_i(a) = h_i(a) + r_a Σ_{j≠i} J_ij and are then centred over a.  Every conditional (2) is
    unchanged.
    """
    C = model.colours
    P = centring_projector(C)
    U = model.colour_matrix
    r = U.mean(axis=1)
    h = model.fields + r[None, :] * model.interaction.sum(axis=1)[:, None]
    h = h - h.mean(axis=1, keepdims=True)
    return PottsModel(model.interaction, P @ U @ P, h, model.beta)


# ------------------------------------------------------------------------------------------------
# exact enumeration (§2)


@dataclasses.dataclass(frozen=True)
class Enumeration:
    """Exact quantities of a small Potts model (§2).

    Attributes:
        states: all C^L configurations (C^L, L), lexicographic (site 0 slowest).
        log_partition: ln Z.
        probabilities: P(s) for every state (C^L,).
        one_site: P_i(a), shape (L, C).
        two_site: P_ij(a,b), shape (L, L, C, C), with P_ii = diag P_i.
    """

    states: np.ndarray
    log_partition: float
    probabilities: np.ndarray
    one_site: np.ndarray
    two_site: np.ndarray


def all_states(L: int, C: int) -> np.ndarray:
    """Every configuration in the order of ``itertools.product(range(C), repeat=L)``; (C^L, L) int32."""
    idx = np.arange(C ** L)
    powers = C ** np.arange(L - 1, -1, -1)
    return ((idx[:, None] // powers[None, :]) % C).astype(np.int32)


def enumerate_exact(model: PottsModel, max_states: int = 1 << 20) -> Enumeration:
    """ln Z, P(s), one- and two-site marginals by summing over all C^L states (§2).

    Raises:
        InputError (``potts.max_enumerate``): when C^L exceeds ``max_states``.
    """
    L, C = model.sites, model.colours
    if C ** L > max_states:
        raise InputError("potts.max_enumerate", max_states,
                         f"exact enumeration needs C^L = {C}^{L} = {C ** L} states; raise max_enumerate or sample")
    states = all_states(L, C)
    minus_beta_H = -model.beta * energy(model, jnp.asarray(states))
    log_Z = logsumexp(minus_beta_H)
    p = np.asarray(jnp.exp(minus_beta_H - log_Z))
    X = np.eye(C)[states]  # (S, L, C)
    one = np.einsum("s,sia->ia", p, X)
    two = np.einsum("s,sia,sjb->ijab", p, X, X)
    return Enumeration(states=states, log_partition=float(log_Z), probabilities=p, one_site=one, two_site=two)


def sample_exact(enum: Enumeration, n_samples: int, seed: int) -> np.ndarray:
    """Independent draws from P(s) of an :class:`Enumeration`; (n_samples, L) int32."""
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(enum.probabilities), size=n_samples, p=enum.probabilities / enum.probabilities.sum())
    return enum.states[idx].astype(np.int32)


# ------------------------------------------------------------------------------------------------
# C = 2: the Ising model and its exact one-dimensional results (§3.3)


def ising_couplings(model: PottsModel) -> tuple[jax.Array, jax.Array]:
    """The Ising couplings K_ij and fields B_i of a C = 2 model (σ = +1 for colour 0, −1 for 1).

    U_ab = u₀ + u₁(σ_a + σ_b) + u₂σ_aσ_b with u₂ = (U₀₀ − 2U₀₁ + U₁₁)/4, u₁ = (U₀₀ − U₁₁)/4;
    K_ij = βJ_ij u₂ and B_i = β[(h_i(0) − h_i(1))/2 + u₁ Σ_{j≠i} J_ij], so that
    −βH = Σ_{i<j} K_ij σ_iσ_j + Σ_i B_i σ_i + const.
    """
    if model.colours != 2:
        raise InputError("potts.colours", model.colours, "the Ising mapping needs C = 2")
    U = model.colour_matrix
    u2 = (U[0, 0] - 2 * U[0, 1] + U[1, 1]) / 4
    u1 = (U[0, 0] - U[1, 1]) / 4
    K = model.beta * model.interaction * u2
    B = model.beta * ((model.fields[:, 0] - model.fields[:, 1]) / 2 + u1 * model.interaction.sum(axis=1))
    return K, B


def _ring_eigenvalues(K: float, B: float) -> tuple[float, float]:
    root = math.sqrt(math.exp(2 * K) * math.sinh(B) ** 2 + math.exp(-2 * K))
    return math.exp(K) * math.cosh(B) + root, math.exp(K) * math.cosh(B) - root


def ising_ring_log_partition(L: int, K: float, B: float = 0.0) -> float:
    """ln Z of the Ising ring: Z = λ₊^L + λ₋^L, λ± = e^K cosh B ± sqrt(e^{2K} sinh²B + e^{−2K})."""
    lp, lm = _ring_eigenvalues(K, B)
    return L * math.log(lp) + math.log1p((lm / lp) ** L)


def ising_ring_correlation(L: int, K: float, r: int) -> float:
    """⟨σ_iσ_{i+r}⟩ of the zero-field Ising ring: (t^r + t^{L−r})/(1 + t^L), t = tanh K."""
    t = math.tanh(K)
    return (t ** r + t ** (L - r)) / (1 + t ** L)


def ising_ring_magnetisation(L: int, K: float, B: float) -> float:
    """⟨σ_i⟩ = (1/L) ∂ ln Z/∂B of the Ising ring in a uniform field (transfer matrix, analytic)."""
    c, s = math.cosh(B), math.sinh(B)
    eK = math.exp(K)
    root = math.sqrt(eK ** 2 * s ** 2 + math.exp(-2 * K))
    droot = eK ** 2 * s * c / root
    lp, lm = eK * c + root, eK * c - root
    dlp, dlm = eK * s + droot, eK * s - droot
    return (lp ** (L - 1) * dlp + lm ** (L - 1) * dlm) / (lp ** L + lm ** L)


def ising_chain_log_partition(L: int, K: float) -> float:
    """ln Z of the open Ising chain (L−1 bonds) at zero field: Z = 2(2 cosh K)^{L−1}."""
    return math.log(2) + (L - 1) * math.log(2 * math.cosh(K))


def ising_chain_correlation(K: float, r: int) -> float:
    """⟨σ_iσ_j⟩ = tanh(K)^{|i−j|} of the open zero-field Ising chain."""
    return math.tanh(K) ** abs(r)
