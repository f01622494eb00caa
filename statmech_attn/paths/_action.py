"""Order parameters and the action S(U) of the attention-path theory (§4–6).

    S(U) = [ E(U₁) + S_ent(U_a, U_L, …, U₁) ] / N_max

    E     = ln det(K + T I_P) + Yᵀ (K + T I_P)⁻¹ Y,          K = Σ_i X̃_i U₁ X̃_iᵀ
    S_ent = N_a ( U_a/σ_a² − ln U_a )
          + N_L ( Tr U_L / (U_a σ_L²) − ln det U_L + H_L ln U_a )
          + Σ_{ℓ=1}^{L−1} N_ℓ ( Tr( U_{ℓ+1}⁻¹ tr_{h_ℓ} U_ℓ ) / σ_ℓ² − ln det U_ℓ + H_ℓ ln det U_{ℓ+1} )

with U_a eliminated in closed form (§6.1).  U is a tuple of symmetric positive-definite matrices,
**layer 1 first**: U[0] = U₁ (H_tot × H_tot), …, U[L−1] = U_L (H_L × H_L).  Functions here are pure
and jittable; a non-positive-definite U gives NaN (the solvers detect it and say so).
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple, Sequence

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np

from ._kernels import cholesky_kt, reduce_examples, renormalised_kernel
from ._model import Hyper, PathsModel


class OrderParameters(NamedTuple):
    """Saddle-point order parameters.

    Attributes:
        U: tuple (U₁, …, U_L), layer 1 first; U_ℓ is the D_ℓ × D_ℓ overlap matrix of the partial
            effective weights over partial paths (h_ℓ, …, h_L) (§4), D_ℓ = H_ℓ ⋯ H_L.
        U_a: the readout order parameter (scalar, closed form of §6.1).
    """

    U: tuple
    U_a: jnp.ndarray


class ProblemArrays(NamedTuple):
    """The training data as the action sees it (a pytree).

    ``xt`` (P', N₀, H_tot) path-augmented inputs (possibly reduced to P' ≤ N₀·H_tot
    pseudo-examples, exactly), ``y`` (P',) labels in the same basis, ``n_dropped`` = P − P' and
    ``y_perp2`` = |Y_⊥|², the constants that keep the action equal to the unreduced one.
    ``prekernels`` (n_pairs, P', P') are the symmetric pair kernels S⁰_p of :func:`pair_prekernels`
    when they make the energy cheaper (see :func:`prekernels_pay`), else an empty (0, P', P') array.
    """

    xt: jnp.ndarray
    y: jnp.ndarray
    n_dropped: jnp.ndarray
    y_perp2: jnp.ndarray
    prekernels: jnp.ndarray


@dataclasses.dataclass(frozen=True, eq=False)
class PathsProblem:
    """A saddle-point problem: the model plus its training (and optional test) data.

    Build it with :func:`make_problem`.  ``n_train`` is the number P of training examples;
    ``arrays`` is what the action needs; ``xt_test``, ``y_test`` the test set (or None).
    """

    model: PathsModel
    arrays: ProblemArrays
    n_train: int
    xt_train: jnp.ndarray
    y_train: jnp.ndarray
    xt_test: jnp.ndarray | None = None
    y_test: jnp.ndarray | None = None

    @property
    def alpha(self) -> float:
        """α = P / N_max."""
        return self.n_train / self.model.width_max

    def with_model(self, model: PathsModel) -> "PathsProblem":
        """The same data with another model of the same architecture (e.g. other widths)."""
        if model.heads != self.model.heads or model.readout != self.model.readout or model.sigma2_input != self.model.sigma2_input:
            raise ValueError("with_model only changes widths, variances and temperature")
        return dataclasses.replace(self, model=model)

    def with_alpha(self, alpha: float) -> "PathsProblem":
        """The same data with every width rescaled so that P / N_max = α."""
        return self.with_model(self.model.with_alpha(alpha, self.n_train))


PREKERNEL_MAX_ENTRIES = 2**24  # memory cap on the stored pair kernels: n_pairs·P'² doubles (128 MiB)


def pair_prekernels(xt: np.ndarray) -> np.ndarray:
    """Symmetric pair kernels S⁰_p, p = (a ≤ b) over the upper triangle of U₁ in row-major order:

        S⁰_ab = C^{ab} + C^{ba} (a < b),  S⁰_aa = C^{aa},   C^{ab} = X_a X_bᵀ = Σ_i X̃_{ia} X̃_{ib}ᵀ  (P × P),

    so that K(U₁) = Σ_p U₁[p] S⁰_p for symmetric U₁ (the reference code's "pre-kernels", paired),
    shape (n_pairs, P, P): S⁰_p G for every p is then one matrix product.
    """
    xt = np.asarray(xt, dtype=np.float64)
    p, n0, h = xt.shape
    za = np.transpose(xt, (2, 0, 1)).reshape(h * p, n0)
    c = (za @ za.T).reshape(h, p, h, p)  # c[a, μ, b, ν] = C^{ab}_{μν}
    xi, yi = np.triu_indices(h)
    upper = c[xi, :, yi, :]
    return np.where((xi == yi)[:, None, None], upper, upper + np.swapaxes(upper, 1, 2))


def gradient_costs(p: int, n0: int, h: int) -> dict[str, int]:
    """Multiply-adds of one energy gradient by route.

    'pre' (stored pair kernels): K = Σ_p U₁[p] S⁰_p, Cholesky and G = (K + T I)⁻¹, about (4/3)P'³ + 2 n_pairs P'².
    'plain': K = Σ_i X̃_i U₁ X̃_iᵀ and the whitening C⁻¹X̃, about (3/2) P'² N₀ H + P' N₀ H².
    """
    pairs = h * (h + 1) // 2
    return {"pre": 4 * p**3 // 3 + 2 * pairs * p * p, "plain": 3 * p * p * n0 * h // 2 + p * n0 * h * h}


def prekernels_pay(p: int, n0: int, h: int) -> bool:
    """Whether stored pair kernels make an energy gradient cheaper (:func:`gradient_costs`) and fit
    the memory cap ``PREKERNEL_MAX_ENTRIES``."""
    if h * (h + 1) // 2 * p * p > PREKERNEL_MAX_ENTRIES:
        return False
    costs = gradient_costs(p, n0, h)
    return costs["pre"] < costs["plain"]


def make_problem(model: PathsModel, xt: np.ndarray, y: np.ndarray, xt_test: np.ndarray | None = None,
                 y_test: np.ndarray | None = None, *, reduce: bool | None = None,
                 prekernels: bool | None = None) -> PathsProblem:
    """Assemble a :class:`PathsProblem` from path-augmented inputs (see ``path_inputs``).

    When P > N₀·H_tot (or ``reduce=True``) the P examples are reduced exactly to N₀·H_tot
    pseudo-examples (``reduce_examples``): same action up to no constant, same gradients, same
    predictor; each Cholesky then costs (N₀H)³ instead of P³.  ``prekernels`` stores the pair
    kernels S⁰_p (default: when :func:`prekernels_pay`), which the energy and its derivatives then use.
    """
    xt = np.asarray(xt, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    p, n0, h = xt.shape
    if reduce is None:
        reduce = p > n0 * h
    if reduce:
        xr, yr, yperp2, _ = reduce_examples(xt, y)
        xa, ya, dropped = xr, yr, float(p - xr.shape[0])
    else:
        xa, ya, dropped, yperp2 = xt, y, 0.0, 0.0
    pa = xa.shape[0]
    if prekernels is None:
        prekernels = prekernels_pay(pa, n0, h)
    pre = pair_prekernels(xa) if prekernels else np.zeros((0, pa, pa))
    # host (NumPy) arrays: a jitted solver transfers them with its other arguments, and nothing is
    # dispatched (or compiled) eagerly on the way
    arrays = ProblemArrays(xa, ya, np.asarray(dropped), np.asarray(yperp2), pre)
    return PathsProblem(model=model, arrays=arrays, n_train=p, xt_train=xt, y_train=y,
                        xt_test=None if xt_test is None else np.asarray(xt_test, dtype=np.float64),
                        y_test=None if y_test is None else np.asarray(y_test, dtype=np.float64))


# ------------------------------------------------------------------------------------------
# building blocks


def logdet_pd(m: jnp.ndarray) -> jnp.ndarray:
    """ln det M = 2 Σ ln diag chol(M) (NaN if M is not positive definite)."""
    c = jnp.linalg.cholesky(m)
    return 2.0 * jnp.sum(jnp.log(jnp.diagonal(c)))


def solve_pd(m: jnp.ndarray, b: jnp.ndarray) -> jnp.ndarray:
    """M⁻¹ b by Cholesky (NaN if M is not positive definite)."""
    return jsl.cho_solve((jnp.linalg.cholesky(m), True), b)


def _logdet_lu(m: jnp.ndarray) -> jnp.ndarray:
    return jnp.linalg.slogdet(m)[1]


def partial_trace(u: jnp.ndarray, h: int) -> jnp.ndarray:
    """tr_{h_ℓ} U_ℓ: contract the outermost head index (U reshaped to (H, D, H, D), axes 0 and 2)."""
    d = u.shape[0] // h
    return jnp.einsum("hahb->ab", u.reshape(h, d, h, d))


def readout_order_parameter(trace_u_last: jnp.ndarray, heads_last: int, hyper: Hyper) -> jnp.ndarray:
    """U_a, the positive root of U_a² + β U_a − γ = 0 (§6.1):

        β = σ_a² (H_L N_L / N_a − 1),  γ = Tr(U_L) N_L σ_a² / (N_a σ_L²).

    Written as 2γ / (β + √(β² + 4γ)) when β > 0 (no cancellation).
    """
    host = all(isinstance(v, (np.ndarray, np.floating, float)) for v in (trace_u_last, hyper.widths, hyper.width_readout))
    xp = np if host else jnp  # on the host for host inputs (no device dispatch), traceable otherwise
    n_l = hyper.widths[-1]
    n_a = hyper.width_readout
    s2a = hyper.sigma2_readout
    beta = s2a * (heads_last * n_l / n_a - 1.0)
    gamma = trace_u_last * n_l * s2a / (n_a * hyper.sigma2_layers[-1])
    disc = xp.sqrt(beta * beta + 4.0 * gamma)
    return xp.where(beta > 0, 2.0 * gamma / (beta + disc + (beta <= 0)), 0.5 * (disc - beta))


def entropy(U: Sequence[jnp.ndarray], heads: tuple[int, ...], hyper: Hyper, *, assume_pd: bool = False) -> jnp.ndarray:
    """S_ent(U_a(U_L), U_L, …, U₁) of §5 with U_a at its closed form (not divided by N_max).

    ``assume_pd=True`` (for Hessians at points known to be positive definite) uses LU-based
    ln det and solves, whose second derivatives compile to far cheaper code than Cholesky's;
    the default checks positive definiteness (NaN otherwise).
    """
    logdet_pd_, solve_pd_ = (_logdet_lu, jnp.linalg.solve) if assume_pd else (logdet_pd, solve_pd)
    L = len(heads)
    u_last = U[L - 1]
    u_a = readout_order_parameter(jnp.trace(u_last), heads[-1], hyper)
    n_a, s2a = hyper.width_readout, hyper.sigma2_readout
    n_l, s2l = hyper.widths[L - 1], hyper.sigma2_layers[L - 1]
    s = n_a * (u_a / s2a - jnp.log(u_a))
    s = s + n_l * (jnp.trace(u_last) / (u_a * s2l) - logdet_pd_(u_last) + heads[-1] * jnp.log(u_a))
    for l in range(L - 1):
        u_next = U[l + 1]
        pt = partial_trace(U[l], heads[l])
        s = s + hyper.widths[l] * (
            jnp.trace(solve_pd_(u_next, pt)) / hyper.sigma2_layers[l] - logdet_pd_(U[l]) + heads[l] * logdet_pd_(u_next)
        )
    return s


def uses_prekernels(arrays: ProblemArrays) -> bool:
    """Whether the energy runs on stored pair kernels (static: decided by their shape)."""
    return arrays.prekernels.shape[0] > 0


def training_kernel(u1: jnp.ndarray, arrays: ProblemArrays) -> jnp.ndarray:
    """K(U₁) on the training set: Σ_p U₁[p] S⁰_p from the pair kernels when stored, else Σ_i X̃_i U₁ X̃_iᵀ."""
    if uses_prekernels(arrays):
        rows, cols = np.triu_indices(u1.shape[0])
        pairs, p, _ = arrays.prekernels.shape
        x = 0.5 * (u1[rows, cols] + u1[cols, rows])
        return (x @ arrays.prekernels.reshape(pairs, p * p)).reshape(p, p)  # a GEMV on the stored layout
    return renormalised_kernel(u1, arrays.xt)


def energy(u1: jnp.ndarray, arrays: ProblemArrays, temperature: jnp.ndarray) -> jnp.ndarray:
    """E(U₁) = ln det(K + T I) + Yᵀ (K + T I)⁻¹ Y (in the reduced basis plus its exact constants)."""
    c = cholesky_kt(training_kernel(u1, arrays), temperature)
    alpha = jsl.cho_solve((c, True), arrays.y)
    logdet = 2.0 * jnp.sum(jnp.log(jnp.diagonal(c))) + arrays.n_dropped * jnp.log(temperature)
    return logdet + arrays.y @ alpha + arrays.y_perp2 / temperature


def action_from(U: Sequence[jnp.ndarray], arrays: ProblemArrays, heads: tuple[int, ...], hyper: Hyper) -> jnp.ndarray:
    """S(U) = [E(U₁) + S_ent(U)] / N_max (jittable form with explicit arrays)."""
    n_max = jnp.maximum(jnp.max(hyper.widths), hyper.width_readout)
    return (energy(U[0], arrays, hyper.temperature) + entropy(U, heads, hyper)) / n_max


def action(U: Sequence[jnp.ndarray], problem: PathsProblem) -> jnp.ndarray:
    """S(U) = [E(U₁) + S_ent(U)] / N_max for a :class:`PathsProblem` (U layer 1 first)."""
    return action_from(tuple(U), problem.arrays, problem.model.heads, problem.model.hyper())


def energy_gradient(u1: jnp.ndarray, problem: PathsProblem) -> jnp.ndarray:
    """Ω = ∂E/∂U₁ = Σ_i X̃_iᵀ B X̃_i with G = (K + T I)⁻¹, r = G Y, B = G − r rᵀ (§6.2)."""
    arrays = problem.arrays
    return _energy_gradient(u1, arrays, problem.model.hyper().temperature)


@jax.jit
def _energy_gradient(u1: jnp.ndarray, arrays: ProblemArrays, temperature: jnp.ndarray) -> jnp.ndarray:
    return energy_value_and_gradient(u1, arrays, temperature)[1]


class EnergyFactors(NamedTuple):
    """One Cholesky factorisation of K + T I = C Cᵀ and what every derivative of E needs.

    ``chol`` = C, ``y_white`` = C⁻¹ Y and, unless the energy runs on stored pair kernels,
    ``z`` = C⁻¹ X̃ (P', N₀, H_tot) — one triangular solve with N₀·H_tot right-hand sides —, so that
    Xᵢᵀ G Xⱼ = zᵢᵀ zⱼ and Xᵢᵀ G Y = zᵢᵀ y_white with G = (K + T I)⁻¹ (``z`` is None otherwise).
    """

    value: jnp.ndarray
    z: jnp.ndarray | None
    y_white: jnp.ndarray
    chol: jnp.ndarray


def energy_factors(u1: jnp.ndarray, arrays: ProblemArrays, temperature: jnp.ndarray) -> EnergyFactors:
    """E(U₁), the Cholesky factor C of K + T I, C⁻¹ Y and (without pair kernels) C⁻¹ X̃."""
    xt = arrays.xt
    c = cholesky_kt(training_kernel(u1, arrays), temperature)
    z = None if uses_prekernels(arrays) else whiten(c, xt)
    y_white = jsl.solve_triangular(c, arrays.y, lower=True)
    value = 2.0 * jnp.sum(jnp.log(jnp.diagonal(c))) + arrays.n_dropped * jnp.log(temperature) + y_white @ y_white \
        + arrays.y_perp2 / temperature
    return EnergyFactors(value, z, y_white, c)


def whiten(c: jnp.ndarray, xt: jnp.ndarray) -> jnp.ndarray:
    """z = C⁻¹ X̃ (P', N₀, H_tot), one triangular solve."""
    p, n0, h = xt.shape
    return jsl.solve_triangular(c, xt.reshape(p, n0 * h), lower=True).reshape(p, n0, h)


def energy_gradient_from(f: EnergyFactors) -> jnp.ndarray:
    """Ω = Σ_i X̃_iᵀ (G − r rᵀ) X̃_i with r = G Y, from whitened inputs: Σ_i zᵢᵀ zᵢ − w wᵀ, w = zᵀ C⁻¹Y."""
    tr_term = jnp.einsum("mip,miq->pq", f.z, f.z)  # Tr(G C^{qp}) = Σ_i X̃_iᵀ G X̃_i
    w = jnp.einsum("mip,m->ip", f.z, f.y_white)  # X̃_iᵀ r
    return tr_term - jnp.einsum("ip,iq->pq", w, w)


def upper_gradient(m: jnp.ndarray) -> jnp.ndarray:
    """The gradient over the independent entries x_p (p = a ≤ b) from a symmetric-matrix one D: D_aa, D_ab + D_ba."""
    rows, cols = np.triu_indices(m.shape[0])
    return m[rows, cols] + jnp.where(jnp.asarray(rows == cols), 0.0, m[cols, rows])


def symmetric_from_upper_gradient(g: jnp.ndarray, h: int) -> jnp.ndarray:
    """Inverse of :func:`upper_gradient` for a symmetric D: D_aa = g_aa, D_ab = D_ba = g_ab / 2."""
    rows, cols = np.triu_indices(h)
    vals = g * jnp.asarray(np.where(rows == cols, 1.0, 0.5))
    return jnp.zeros((h, h), dtype=g.dtype).at[rows, cols].set(vals).at[cols, rows].set(vals)


def energy_gradient_x_from(f: EnergyFactors, arrays: ProblemArrays) -> jnp.ndarray:
    """∂E/∂x over the independent entries of U₁: ⟨G − r rᵀ, S⁰_p⟩ with pair kernels, else from Ω."""
    if not uses_prekernels(arrays):
        return upper_gradient(energy_gradient_from(f))
    p = f.chol.shape[0]
    c_inv = jsl.solve_triangular(f.chol, jnp.eye(p, dtype=f.chol.dtype), lower=True)
    r = c_inv.T @ f.y_white  # r = G Y
    b = c_inv.T @ c_inv - jnp.outer(r, r)  # B = G − r rᵀ
    pairs = arrays.prekernels.shape[0]
    return arrays.prekernels.reshape(pairs, p * p) @ b.reshape(p * p)  # a GEMV on the stored layout


def energy_value_and_gradient(u1: jnp.ndarray, arrays: ProblemArrays, temperature: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
    """(E(U₁), Ω) with Ω from the closed form of §6.2 (one Cholesky, one triangular solve, no reverse pass)."""
    f = energy_factors(u1, arrays, temperature)
    if uses_prekernels(arrays):
        return f.value, symmetric_from_upper_gradient(energy_gradient_x_from(f, arrays), u1.shape[0])
    return f.value, energy_gradient_from(f)


def gp_order_parameters(model: PathsModel) -> OrderParameters:
    """The Gaussian-process point (α → 0, §8): U_a = σ_a², U_ℓ = σ_a² σ_L² ⋯ σ_ℓ² I_{D_ℓ}."""
    s2 = model.sigma2_layers
    U = tuple(
        jnp.eye(d) * model.sigma2_readout * float(np.prod(s2[l:]))
        for l, d in enumerate(model.path_dims)
    )
    return OrderParameters(U=U, U_a=jnp.asarray(model.sigma2_readout))


def order_parameters(U: Sequence[jnp.ndarray], model: PathsModel) -> OrderParameters:
    """Bundle U (layer 1 first) with its closed-form U_a."""
    host = all(isinstance(u, np.ndarray) for u in U)
    u_a = readout_order_parameter(np.trace(U[-1]) if host else jnp.trace(U[-1]), model.heads[-1], model.hyper())
    if host:  # stay on the host (no device transfer per matrix); every function here accepts NumPy arrays
        return OrderParameters(U=tuple(U), U_a=np.asarray(u_a, dtype=np.float64))
    return OrderParameters(U=tuple(jnp.asarray(u) for u in U), U_a=jnp.asarray(u_a))
