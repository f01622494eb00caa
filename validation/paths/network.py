"""The finite attention-path network of docs/theories/paths.md, written once in JAX.

Notation (theory §1): an example is a sequence x ∈ R^{S×N₀} (tokens as rows here; the theory
writes its transpose), L attention layers with H_ℓ heads, fixed attention matrices given as
``attention[ℓ]`` of shape (P, H_ℓ, S, S) with rows = queries (so ``attention[ℓ][μ, h, t, s]`` is
the theory's A^{ℓ,h}_{s t}).  The learned weights are

- V₀ ∈ R^{N₁×N₀}, prior N(0, σ₀²) per entry (input projection);
- V_ℓ^h ∈ R^{N_{ℓ+1}×N_ℓ}, ℓ = 1..L, prior N(0, σ_ℓ²), with N_{L+1} ≡ N_a;
- a ∈ R^{N_a}, prior N(0, σ_a²) (linear readout),

and the posterior at temperature T is p(Θ|data) ∝ exp(−Σ_μ (f(x^μ) − y^μ)²/(2T)) · prior (§2).

Two equivalent forms of the output are implemented and checked against each other in the
tests: the layer-by-layer forward pass (:func:`forward`) and the path form (§3–4)

    f(x) = (1/√(N₁ H_tot N₀)) Σ_π W^π · V₀ (Σ_s x_s a^π_s),
    W^π = aᵀ V_L^{h_L} ⋯ V₁^{h₁} / √(N_a N_L ⋯ N₂)   (effective path weights, ∈ R^{N₁}).

Because f is linear in V₀, integrating V₀ against its Gaussian prior gives f | (V_{≥1}, a) ~ GP
with kernel K(U₁) = Σ_{ππ'} U₁^{ππ'} C^{ππ'}, U₁ = W Wᵀ/N₁ (§5): :func:`marginal_log_likelihood`
and :func:`conditional_predictor` use that exact marginalisation ("collapsed" sampling).

The order parameters are estimated as weight overlaps (§4): U_ℓ = W_ℓ W_ℓᵀ / N_ℓ with W_ℓ the
partial effective weights aᵀ V_L ⋯ V_ℓ / √(N_a N_L ⋯ N_{ℓ+1}) ∈ R^{D_ℓ×N_ℓ}, and U_a = ‖a‖²/N_a.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Sequence

import jax
import jax.numpy as jnp

from statmech_attn.errors import InputError
from statmech_attn.paths import PathsModel
from statmech_attn.paths import _kernels
from statmech_attn.paths._kernels import cholesky_kt
from statmech_attn.paths._model import READOUTS

__all__ = [
    "Params",
    "network_widths",
    "init_params",
    "readout_vectors",
    "path_attention",
    "path_inputs",
    "path_kernels",
    "forward",
    "forward_paths",
    "partial_path_weights",
    "path_weights",
    "overlaps",
    "log_prior",
    "log_likelihood",
    "log_posterior",
    "regularised_loss",
    "kernel",
    "marginal_log_likelihood",
    "conditional_predictor",
]


class Params(NamedTuple):
    """The weights Θ of the network (a pytree).

    Attributes:
        V0: (N₁, N₀) input projection.
        V: tuple of L arrays, V[ℓ−1] of shape (H_ℓ, N_{ℓ+1}, N_ℓ) (N_{L+1} ≡ N_a): value weights.
        a: (N_a,) linear readout.
    """

    V0: jnp.ndarray
    V: tuple[jnp.ndarray, ...]
    a: jnp.ndarray


def network_widths(model: PathsModel) -> tuple[int, ...]:
    """(N₁, …, N_L, N_a) as integers; a finite network needs integral widths."""
    raw = tuple(model.widths) + (model.width_readout,)
    out = []
    for i, n in enumerate(raw):
        name = f"model.widths[{i}]" if i < len(raw) - 1 else "model.width_readout"
        if not (float(n).is_integer() and n >= 1):
            raise InputError(name, n, "a finite network needs an integer width >= 1")
        out.append(int(n))
    return tuple(out)


def _sigma2(model: PathsModel) -> tuple[float, tuple[float, ...], float]:
    return float(model.sigma2_input), tuple(float(s) for s in model.sigma2_layers), float(model.sigma2_readout)


def init_params(model: PathsModel, n_input: int, seed: int) -> Params:
    """A draw of Θ from the prior: V₀ ~ N(0, σ₀²), V_ℓ ~ N(0, σ_ℓ²), a ~ N(0, σ_a²) entrywise."""
    widths = network_widths(model)
    s0, sl, sa = _sigma2(model)
    key = jax.random.PRNGKey(seed)
    keys = jax.random.split(key, len(model.heads) + 2)
    V0 = math.sqrt(s0) * jax.random.normal(keys[0], (widths[0], n_input))
    V = tuple(math.sqrt(sl[l]) * jax.random.normal(keys[l + 1], (h, widths[l + 1], widths[l]))
              for l, h in enumerate(model.heads))
    a = math.sqrt(sa) * jax.random.normal(keys[-1], (widths[-1],))
    return Params(V0, V, a)


def readout_vectors(attention_last: jnp.ndarray, readout: str) -> jnp.ndarray:
    """Token readout a^{L,h}_s of the last layer, shape (P, H_L, S) (theory §1): the theory's own
    :func:`statmech_attn.paths.readout_vectors`, with an unknown ``readout`` refused.

    ``last``: a_s = A_{s,S} (query = last token); ``first``: a_s = A_{s,1}; ``mean``:
    a_s = (1/S) Σ_t A_{s t}.  ``attention_last`` is (P, H_L, S, S) with rows = queries.
    """
    if readout not in READOUTS:
        raise InputError("model.readout", readout, "must be one of 'mean', 'first', 'last'")
    return _kernels.readout_vectors(attention_last, readout)


def path_attention(attention: Sequence[jnp.ndarray], readout: str) -> jnp.ndarray:
    """Path attention vectors a^π_s = (A^{1,h₁} A^{2,h₂} ⋯ A^{L−1,h_{L−1}} a^{L,h_L})_s, (P, H_tot, S).

    Paths are flattened with h₁ slowest and h_L fastest (theory §3); the theory's
    :func:`statmech_attn.paths.path_attention`.
    """
    readout_vectors(attention[-1], readout)  # refuses an unknown readout
    return _kernels.path_attention(attention, readout)


def path_inputs(x: jnp.ndarray, attention: Sequence[jnp.ndarray], model: PathsModel) -> jnp.ndarray:
    """Path-augmented inputs X̃^μ_{iπ} = √(σ₀²/(N₀ H_tot)) Σ_s x^μ_{s i} a^{μ,π}_s, shape (P, N₀, H_tot):
    the theory's :func:`statmech_attn.paths.path_inputs` of the same :class:`PathsModel`."""
    return _kernels.path_inputs(x, attention, model)


#: Path-path kernels C^{ππ'}_{μν} = Σ_i X̃^μ_{iπ} X̃'^ν_{iπ'}, shape (H_tot, H_tot, P, P'): the theory's own.
path_kernels = _kernels.path_kernels


def forward(params: Params, x: jnp.ndarray, attention: Sequence[jnp.ndarray], readout: str) -> jnp.ndarray:
    """Network output f(x^μ) for every example, the layer-by-layer pass of theory §1, shape (P,).

        x⁽⁰⁾ = V₀ x/√N₀;  x⁽ℓ⁾_t = Σ_h V_ℓ^h Σ_s x⁽ℓ⁻¹⁾_s A^{ℓ,h}_{s t}/√(H_ℓ N_ℓ);
        x⁽ᴸ⁾ = Σ_h V_L^h Σ_s x⁽ᴸ⁻¹⁾_s a^{L,h}_s/√(H_L N_L);  f = a·x⁽ᴸ⁾/√N_a.
    """
    h = jnp.einsum("psi,ni->psn", x, params.V0) / math.sqrt(x.shape[-1])  # tokens as rows
    L = len(params.V)
    for l in range(L - 1):
        V = params.V[l]
        H, _, n_in = V.shape
        mixed = jnp.einsum("phts,psn->phtn", attention[l], h)
        h = jnp.einsum("phtn,hmn->ptm", mixed, V) / math.sqrt(H * n_in)
    V = params.V[-1]
    H, _, n_in = V.shape
    r = readout_vectors(attention[-1], readout)                  # (P, H_L, S)
    pooled = jnp.einsum("phs,psn->phn", r, h)
    xL = jnp.einsum("phn,hmn->pm", pooled, V) / math.sqrt(H * n_in)
    return xL @ params.a / math.sqrt(params.a.shape[0])


def partial_path_weights(V: Sequence[jnp.ndarray], a: jnp.ndarray) -> tuple[jnp.ndarray, ...]:
    """Partial effective weights W_ℓ = aᵀ V_L ⋯ V_ℓ / √(N_a N_L ⋯ N_{ℓ+1}), layer 1 first.

    W_ℓ has shape (D_ℓ, N_ℓ), rows indexed by partial paths (h_ℓ, …, h_L) with h_ℓ slowest;
    W_1 holds the effective path weights W^π (theory §4).
    """
    w = a[None, :]                                               # D_{L+1} = 1 partial path
    out = []
    for Vl in reversed(V):
        n_out = Vl.shape[1]
        w = jnp.einsum("dn,hnm->hdm", w, Vl) / math.sqrt(n_out)
        w = w.reshape(-1, w.shape[-1])
        out.append(w)
    return tuple(reversed(out))


def path_weights(params: Params) -> jnp.ndarray:
    """Effective path weights W^π = aᵀ V_L^{h_L} ⋯ V₁^{h₁} / √(N_a N_L ⋯ N₂), shape (H_tot, N₁)."""
    return partial_path_weights(params.V, params.a)[0]


def overlaps(V: Sequence[jnp.ndarray], a: jnp.ndarray) -> tuple[tuple[jnp.ndarray, ...], jnp.ndarray]:
    """Weight overlaps that estimate the order parameters (theory §4, §10 (iii)).

    Returns ``(U, U_a)`` with U[ℓ−1] = W_ℓ W_ℓᵀ / N_ℓ (layer 1 first, D_ℓ×D_ℓ) and U_a = ‖a‖²/N_a.
    """
    Ws = partial_path_weights(V, a)
    U = tuple(w @ w.T / w.shape[1] for w in Ws)
    return U, a @ a / a.shape[0]


def forward_paths(params: Params, Xt: jnp.ndarray, sigma2_input: float) -> jnp.ndarray:
    """Output in path form: f^μ = Σ_π W^π · V₀ X̃^μ_π / (σ₀ √N₁), shape (P,) (equals :func:`forward`)."""
    W = path_weights(params)
    proj = jnp.einsum("ni,pik->pkn", params.V0, Xt)              # V₀ X̃_π, (P, H_tot, N₁)
    return jnp.einsum("kn,pkn->p", W, proj) / math.sqrt(sigma2_input * W.shape[1])


def log_prior(params: Params, model: PathsModel) -> jnp.ndarray:
    """ln of the Gaussian prior Π N(V₀; 0, σ₀²) Π_ℓ N(V_ℓ; 0, σ_ℓ²) N(a; 0, σ_a²)."""
    s0, sl, sa = _sigma2(model)

    def gauss(w: jnp.ndarray, s2: float) -> jnp.ndarray:
        return -0.5 * jnp.sum(w * w) / s2 - 0.5 * w.size * math.log(2 * math.pi * s2)

    total = gauss(params.V0, s0) + gauss(params.a, sa)
    for Vl, s2 in zip(params.V, sl):
        total = total + gauss(Vl, s2)
    return total


def log_likelihood(params: Params, x: jnp.ndarray, attention: Sequence[jnp.ndarray], y: jnp.ndarray,
                   model: PathsModel) -> jnp.ndarray:
    """ln Π_μ N(y^μ; f(x^μ), T) = −Σ_μ (f^μ − y^μ)²/(2T) − (P/2) ln(2πT)  (theory §2)."""
    T = float(model.temperature)
    r = forward(params, x, attention, model.readout) - y
    return -0.5 * jnp.sum(r * r) / T - 0.5 * y.shape[0] * math.log(2 * math.pi * T)


def log_posterior(params: Params, x: jnp.ndarray, attention: Sequence[jnp.ndarray], y: jnp.ndarray,
                  model: PathsModel) -> jnp.ndarray:
    """Unnormalised ln p(Θ | data) = ln prior + ln likelihood."""
    return log_prior(params, model) + log_likelihood(params, x, attention, y, model)


def regularised_loss(params: Params, x: jnp.ndarray, attention: Sequence[jnp.ndarray], y: jnp.ndarray,
                     model: PathsModel) -> jnp.ndarray:
    """Training loss whose Gibbs measure exp(−loss/T) is the posterior:

        loss(Θ) = ½ Σ_μ (f^μ − y^μ)² + (T/2) (‖V₀‖²/σ₀² + Σ_ℓ ‖V_ℓ‖²/σ_ℓ² + ‖a‖²/σ_a²).
    """
    s0, sl, sa = _sigma2(model)
    T = float(model.temperature)
    r = forward(params, x, attention, model.readout) - y
    reg = jnp.sum(params.V0 ** 2) / s0 + jnp.sum(params.a ** 2) / sa
    for Vl, s2 in zip(params.V, sl):
        reg = reg + jnp.sum(Vl ** 2) / s2
    return 0.5 * jnp.sum(r * r) + 0.5 * T * reg


def kernel(U1: jnp.ndarray, C: jnp.ndarray) -> jnp.ndarray:
    """Renormalised kernel K_{μν} = Σ_{ππ'} U₁^{ππ'} C^{ππ'}_{μν} (theory §5)."""
    return jnp.einsum("ab,abpq->pq", U1, C)


def marginal_log_likelihood(U1: jnp.ndarray, C: jnp.ndarray, y: jnp.ndarray, temperature: float) -> jnp.ndarray:
    """ln N(y; 0, K(U₁) + T I): the likelihood with V₀ integrated out exactly.

        −½ yᵀ (K + T I)⁻¹ y − ½ ln det(K + T I) − (P/2) ln 2π    (Cholesky; K + TI is PD for T > 0)
    """
    P = y.shape[0]
    Lc = cholesky_kt(kernel(U1, C), temperature)
    z = jax.scipy.linalg.solve_triangular(Lc, y, lower=True)
    return -0.5 * z @ z - jnp.sum(jnp.log(jnp.diag(Lc))) - 0.5 * P * math.log(2 * math.pi)


def conditional_predictor(U1: jnp.ndarray, C: jnp.ndarray, C_cross: jnp.ndarray, C_test_diag: jnp.ndarray,
                          y: jnp.ndarray, temperature: float) -> tuple[jnp.ndarray, jnp.ndarray]:
    """Mean and variance of f(x*) given (V_{≥1}, a), V₀ integrated out (theory §7 at fixed U₁):

        mean = k*ᵀ (K + T I)⁻¹ y,   var = k** − k*ᵀ (K + T I)⁻¹ k*,

    with k*_μ = Σ U₁^{ππ'} C_cross^{ππ'}_{μ*} and k** = Σ U₁^{ππ'} C_test_diag^{ππ'}_{*}.
    ``C_cross`` is (H_tot, H_tot, P, P*), ``C_test_diag`` (H_tot, H_tot, P*).
    """
    Lc = cholesky_kt(kernel(U1, C), temperature)
    ks = jnp.einsum("ab,abpq->pq", U1, C_cross)                  # (P, P*)
    kss = jnp.einsum("ab,abq->q", U1, C_test_diag)
    zy = jax.scipy.linalg.solve_triangular(Lc, y, lower=True)
    zk = jax.scipy.linalg.solve_triangular(Lc, ks, lower=True)
    return zk.T @ zy, kss - jnp.sum(zk * zk, axis=0)

