"""Finite-size teacher–student ERM for the replica theory of one attention row (docs/theories/potts.md).

At size N and sample ratio α: M = round(αN) contexts X^μ ∈ R^{C×N} — columns N(0, Σ) (``mode =
"gauss"``) or x_j = U e_{s_j} with s_j uniform on {0..C−1} (``mode = "discrete"``) — a teacher row
w* with ‖w*‖² = ρN exactly, labels y^μ ~ softmax(X^μ w*/√N), and the estimator (10)

    ŵ = argmin_w Σ_μ CE(y^μ, X^μ w/√N) + (λ/2)‖w‖²,

minimised by damped Newton with a Cholesky solve (the objective is strongly convex) until the
gradient norm is ≤ ``gtol`` (default 1e-8).  Observables per seed: m = ŵ·w*/N, q = ‖ŵ‖²/N, eps_w,
cosine, train_loss (mean training CE) and, on ``n_test`` fresh contexts with the expectation over
y taken exactly, test_ce = mean Σ_y p*_y(−ln p̂_y), cond_entropy, kl = mean KL(p* ‖ p̂).  Seeds are
vmapped (``lax.map``, memory-bounded); :func:`simulate` returns mean ± standard error over seeds,
:func:`compare` the z-scores against the replica records.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.linalg import cho_factor, cho_solve

from statmech_attn.errors import InputError
from statmech_attn.potts.replica import ReplicaSetting

__all__ = ["ERMProblem", "sample_data", "fit_ridge_ce", "simulate_seeds", "erm_point", "summarise", "simulate",
           "compare", "COMPARED", "SIM_KEYS"]

COMPARED = ("m", "q", "test_ce", "kl", "eps_w")
SIM_KEYS = ("m", "q", "test_ce", "kl", "cond_entropy", "eps_w", "cosine", "train_loss")


@dataclasses.dataclass(frozen=True, eq=False)
class ERMProblem:
    """The finite-size problem: Σ (and U for discrete contexts), ρ, λ.

    Attributes:
        colour_covariance: Σ (C×C).
        colour_matrix: U (C×C) used by ``mode="discrete"`` (x_j = U e_{s_j}); default √C Σ^{1/2},
            which is doubly centred with covariance (9) equal to Σ when Σ1 = 0.
        teacher_norm: ρ; ridge: λ.
    """

    colour_covariance: np.ndarray
    colour_matrix: np.ndarray
    teacher_norm: float
    ridge: float

    @classmethod
    def from_setting(cls, setting: ReplicaSetting, colour_matrix: Any = None) -> "ERMProblem":
        """The finite problem of a replica setting (U given, or √C Σ^{1/2} when Σ1 = 0)."""
        sig = setting.colour_covariance
        C = sig.shape[0]
        if colour_matrix is None:
            if np.max(np.abs(sig @ np.ones(C))) > 1e-10 * max(1.0, np.abs(sig).max()):
                colour_matrix = None
            else:
                colour_matrix = math.sqrt(C) * _sqrtm(sig)
        U = None if colour_matrix is None else np.asarray(colour_matrix, dtype=np.float64)
        return cls(sig, U, float(setting.teacher_norm), float(setting.ridge))


def _sqrtm(sig: np.ndarray) -> np.ndarray:
    ev, Q = np.linalg.eigh(sig)
    return (Q * np.sqrt(np.clip(ev, 0.0, None))) @ Q.T


def sample_data(key: jax.Array, N: int, M: int, sqrt_cov: jax.Array, U: jax.Array, rho: float,
                discrete: bool) -> tuple[jax.Array, jax.Array, jax.Array]:
    """(X (M, C, N), y (M,), w* (N,)) of §7.1; contexts Gaussian (X = Σ^{1/2} G) or discrete (X = U[:, s])."""
    k_w, k_x, k_y = jax.random.split(key, 3)
    w = jax.random.normal(k_w, (N,))
    w = w * jnp.sqrt(rho * N) / jnp.linalg.norm(w)  # exactly ‖w*‖² = ρN
    X = contexts(k_x, N, M, sqrt_cov, U, discrete)
    logits = X @ w / jnp.sqrt(N)
    y = jax.random.categorical(k_y, logits)
    return X, y, w


def contexts(key: jax.Array, N: int, M: int, sqrt_cov: jax.Array, U: jax.Array, discrete: bool) -> jax.Array:
    """M contexts (M, C, N): Σ^{1/2} G with G standard normal, or U[:, s] with s uniform."""
    C = sqrt_cov.shape[0]
    if discrete:
        s = jax.random.randint(key, (M, N), 0, C)
        return jnp.swapaxes(U.T[s], 1, 2)
    G = jax.random.normal(key, (M, C, N))
    return jnp.einsum("cd,mdn->mcn", sqrt_cov, G)


def _objective(w: jax.Array, X: jax.Array, y: jax.Array, lam: float) -> jax.Array:
    t = X @ w / jnp.sqrt(w.shape[0])
    ce = jax.nn.logsumexp(t, axis=1) - jnp.take_along_axis(t, y[:, None], axis=1)[:, 0]
    return jnp.sum(ce) + 0.5 * lam * w @ w


def fit_ridge_ce(X: jax.Array, y: jax.Array, lam: float, *, gtol: float = 1e-8,
                 max_steps: int = 100) -> tuple[jax.Array, jax.Array, jax.Array]:
    """ŵ of (10) by damped Newton (Cholesky of the Hessian (1/N)Σ_μ X^μᵀ D(p^μ) X^μ + λI, backtracking).

    Returns (ŵ, ‖∇‖₂ at ŵ, Newton steps).
    """
    M, C, N = X.shape
    grad = jax.grad(_objective)

    def hessian(w: jax.Array) -> jax.Array:
        p = jax.nn.softmax(X @ w / jnp.sqrt(N), axis=1)
        D = jax.vmap(jnp.diag)(p) - p[:, :, None] * p[:, None, :]
        return jnp.einsum("mcn,mck->nk", X, jnp.einsum("mcd,mdk->mck", D, X)) / N + lam * jnp.eye(N)

    def body(state: tuple) -> tuple:
        k, w, g = state
        d = -cho_solve(cho_factor(hessian(w)), g)
        f0 = _objective(w, X, y, lam)
        ts = 2.0 ** -jnp.arange(0, 20)
        fs = jax.vmap(lambda s: _objective(w + s * d, X, y, lam))(ts)
        ok = fs <= f0 + 1e-4 * ts * (g @ d) + 1e-12 * jnp.abs(f0)
        s = jnp.where(jnp.any(ok), ts[jnp.argmax(ok)], ts[-1])
        w = w + s * d
        return k + 1, w, grad(w, X, y, lam)

    def cond(state: tuple) -> jax.Array:
        k, w, g = state
        return (k < max_steps) & (jnp.linalg.norm(g) > gtol)

    w0 = jnp.zeros(N)
    k, w, g = jax.lax.while_loop(cond, body, (0, w0, grad(w0, X, y, lam)))
    return w, jnp.linalg.norm(g), k


@functools.partial(jax.jit, static_argnames=("N", "M", "n_test", "discrete"))
def _one_seed(key: jax.Array, sqrt_cov: jax.Array, U: jax.Array, rho: jax.Array, lam: jax.Array, gtol: jax.Array,
              *, N: int, M: int, n_test: int, discrete: bool) -> dict[str, jax.Array]:
    k_train, k_test = jax.random.split(key)
    X, y, w_star = sample_data(k_train, N, M, sqrt_cov, U, rho, discrete)
    w, gnorm, steps = fit_ridge_ce(X, y, lam, gtol=gtol)
    t_train = X @ w / jnp.sqrt(N)
    train_loss = jnp.mean(jax.nn.logsumexp(t_train, axis=1) - jnp.take_along_axis(t_train, y[:, None], axis=1)[:, 0])
    Xt = contexts(k_test, N, n_test, sqrt_cov, U, discrete)
    log_ps = jax.nn.log_softmax(Xt @ w_star / jnp.sqrt(N), axis=1)
    log_ph = jax.nn.log_softmax(Xt @ w / jnp.sqrt(N), axis=1)
    ps = jnp.exp(log_ps)
    test_ce = jnp.mean(-jnp.sum(ps * log_ph, axis=1))
    cond_entropy = jnp.mean(-jnp.sum(ps * log_ps, axis=1))
    m = w @ w_star / N
    q = w @ w / N
    return {"m": m, "q": q, "test_ce": test_ce, "kl": test_ce - cond_entropy, "cond_entropy": cond_entropy,
            "eps_w": (rho - 2 * m + q) / rho, "cosine": m / jnp.sqrt(rho * q), "train_loss": train_loss,
            "grad_norm": gnorm, "newton_steps": steps}


def simulate_seeds(problem: ERMProblem, alpha: float, N: int, seeds: Sequence[int], *, mode: str = "gauss",
                   n_test: int = 4000, gtol: float = 1e-8) -> dict[str, np.ndarray]:
    """Per-seed observables (arrays of length len(seeds)) at one (α, N); seeds run in one ``lax.map``."""
    if mode not in ("gauss", "discrete"):
        raise InputError("validate.mode", mode, "must be 'gauss' or 'discrete'")
    discrete = mode == "discrete"
    if discrete and problem.colour_matrix is None:
        raise InputError("validate.mode", mode, "discrete contexts need the colour matrix U (give replica.colour_matrix, "
                         "or a colour_covariance with Σ1 = 0)")
    if N < 2:
        raise InputError("validate.sizes", N, "every size N must be >= 2")
    M = max(1, int(round(alpha * N)))
    sqrt_cov = jnp.asarray(_sqrtm(problem.colour_covariance))
    U = jnp.asarray(problem.colour_matrix if problem.colour_matrix is not None else np.zeros_like(problem.colour_covariance))
    keys = jnp.stack([jax.random.PRNGKey(int(s)) for s in seeds])
    fn = functools.partial(_one_seed, sqrt_cov=sqrt_cov, U=U, rho=jnp.asarray(problem.teacher_norm),
                           lam=jnp.asarray(problem.ridge), gtol=jnp.asarray(gtol), N=N, M=M, n_test=n_test,
                           discrete=discrete)
    out = jax.lax.map(fn, keys)
    return {k: np.asarray(v) for k, v in out.items()}


def erm_point(problem: ERMProblem, alpha: float, N: int, seed: int, *, mode: str = "gauss", n_test: int = 4000,
              gtol: float = 1e-8) -> dict[str, float]:
    """The observables of one seed at (α, N) (a task of the validation grid): :func:`simulate_seeds` with one seed."""
    per = simulate_seeds(problem, float(alpha), int(N), [int(seed)], mode=mode, n_test=n_test, gtol=gtol)
    return {k: (int(v[0]) if k == "newton_steps" else float(v[0])) for k, v in per.items()}


def summarise(size: int, alpha: float, per_seed: Mapping[str, Sequence[float]]) -> dict[str, Any]:
    """Mean and standard error (ddof 1, over seeds) of every observable at one (N, α).

    ``per_seed`` maps each key of :data:`SIM_KEYS` (and ``grad_norm``, optionally ``newton_steps``
    or ``lbfgs_steps``) to its per-seed values.
    """
    n = len(per_seed["m"])
    rec: dict[str, Any] = {"size": int(size), "alpha": float(alpha), "samples": max(1, int(round(alpha * size))),
                           "seeds": n,
                           "mean": {k: float(np.mean(per_seed[k])) for k in SIM_KEYS},
                           "se": {k: (float(np.std(per_seed[k], ddof=1) / math.sqrt(n)) if n > 1 else float("nan"))
                                  for k in SIM_KEYS},
                           "grad_norm_max": float(np.max(per_seed["grad_norm"]))}
    for k in ("newton_steps", "lbfgs_steps"):
        if k in per_seed:
            rec[f"{k}_max"] = int(np.max(per_seed[k]))
    return rec


def simulate(problem: ERMProblem, alphas: Sequence[float], sizes: Sequence[int], seeds: Sequence[int], *,
             mode: str = "gauss", n_test: int = 4000, gtol: float = 1e-8) -> list[dict[str, Any]]:
    """Mean and standard error (ddof 1, over seeds) of every observable, one record per (N, α)."""
    out = []
    for N in sizes:
        for a in alphas:
            per = simulate_seeds(problem, float(a), int(N), seeds, mode=mode, n_test=n_test, gtol=gtol)
            out.append(summarise(int(N), float(a), per))
    return out


def compare(theory: Sequence[Mapping[str, Any]], sims: Sequence[Mapping[str, Any]], *,
            observables: Sequence[str] = COMPARED, threshold: float = 3.0) -> dict[str, Any]:
    """z = (simulation mean − theory)/standard error per (N, α, observable); ``passed`` when every
    |z| < threshold at the largest N.  Also the gap |mean − theory| per size and its log-log slope
    in N per (α, observable) (about −1/2 when finite-size fluctuations dominate, −1 for a 1/N bias).
    """
    by_alpha = {float(r["alpha"]): r for r in theory}
    points = []
    for s in sims:
        th = by_alpha[float(s["alpha"])]
        z = {}
        for k in observables:
            se = s["se"][k]
            z[k] = (s["mean"][k] - th[k]) / se if se and math.isfinite(se) and se > 0 else float("nan")
        points.append({**s, "theory": {k: th[k] for k in SIM_KEYS if k in th}, "z": z,
                       "gap": {k: abs(s["mean"][k] - th[k]) for k in observables},
                       "max_abs_z": max((abs(v) for v in z.values() if math.isfinite(v)), default=float("nan"))})
    sizes = sorted({p["size"] for p in points})
    largest = [p for p in points if p["size"] == sizes[-1]]
    agreement = [{"alpha": p["alpha"], "size": p["size"],
                  "agree": bool(all(math.isfinite(v) and abs(v) < threshold for v in p["z"].values())),
                  "max_abs_z": p["max_abs_z"]} for p in largest]
    scaling = []
    if len(sizes) >= 2:
        for a in sorted({p["alpha"] for p in points}):
            row: dict[str, Any] = {"alpha": a}
            for k in observables:
                pts = [(p["size"], p["gap"][k]) for p in points if p["alpha"] == a and p["gap"][k] > 0]
                if len(pts) >= 2:
                    x = np.log([n for n, _ in pts])
                    yv = np.log([g for _, g in pts])
                    row[k] = float(np.polyfit(x, yv, 1)[0])
            scaling.append(row)
    return {"points": points, "agreement": agreement, "gap_exponent": scaling,
            "passed": bool(all(r["agree"] for r in agreement))}
