"""Posterior sampling of the finite attention-path network with NumPyro NUTS (theory §10).

Three samplers of the same posterior p(Θ | data) ∝ exp(−Σ(f − y)²/(2T)) · prior (theory §2):

- ``"full"``: every weight (V₀, V₁…V_L, a) is a NUTS coordinate, exactly the authors' protocol;
- ``"collapsed"``: V₀ is integrated out exactly (f is linear in V₀, so f | rest is a Gaussian
  process with kernel K(U₁)); NUTS samples the marginal posterior of (V₁…V_L, a) with likelihood
  N(y; 0, K(U₁) + T I), and the predictor on test inputs is Rao–Blackwellised (the conditional
  mean and variance given the sampled weights are exact).  Same posterior, far better mixing.
- ``"wishart"``: the collapsed likelihood depends on the weights only through U₁, and under the
  prior the overlaps form an exact Markov chain of Wishart matrices (:func:`overlap_chain`),
  U_a → U_L → … → U₁; NUTS samples their Bartlett coordinates, D_ℓ(D_ℓ+1)/2 per layer plus one,
  a number independent of the widths.  Same posterior of (U₁…U_L, U_a) and of the predictor at a
  cost independent of N, which makes the GP limit (N ≫ P) affordable.

Weights are sampled in standardised (non-centred) form, V = σ z with z ~ N(0, 1).  Draws are
collected in blocks and reduced at once to per-draw statistics (order-parameter overlaps,
predictor mean/variance on test inputs), so the weights of wide networks are never all held in
memory.  Diagnostics (split R-hat, effective sample size, divergences) come from
:mod:`numpyro.diagnostics` and the NUTS extra fields.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from typing import Any, Callable, Iterator, Literal, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from numpyro.diagnostics import effective_sample_size, split_gelman_rubin
from numpyro.infer import NUTS, init_to_sample

from statmech_attn.progress import progress
from statmech_attn.errors import InputError

from . import network as net

__all__ = [
    "single_threaded_blas",
    "SamplerSettings",
    "SampleData",
    "full_model",
    "collapsed_model",
    "wishart_model",
    "overlap_chain",
    "log_gamma_moments",
    "gamma_coordinates",
    "run_nuts",
    "draw_statistics",
    "params_statistics",
    "summarise",
    "Estimate",
    "estimate",
    "estimate_independent",
    "mixing",
    "predictor_estimates",
]

Sampler = Literal["collapsed", "full", "wishart"]


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Run with the BLAS/LAPACK libraries that JAX calls on the CPU limited to one thread.

    The matrices here are small (P×P, P ≲ 10³); OpenBLAS's threaded triangular solves on them
    stall for milliseconds when the cores are shared, which made a NUTS gradient 20–100× slower
    in measurements on a 2-core machine.  The libraries are loaded first (one tiny
    factorisation) so that ``threadpoolctl`` can see them.
    """
    from threadpoolctl import threadpool_limits

    eye = jnp.eye(2)
    jax.block_until_ready(jax.scipy.linalg.solve_triangular(jnp.linalg.cholesky(eye), eye, lower=True))
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@dataclasses.dataclass(frozen=True)
class SamplerSettings:
    """NUTS settings.

    Attributes:
        num_chains: independent chains (≥ 2 for a meaningful split R-hat across chains).
        num_warmup: adaptation steps per chain (step size and diagonal mass matrix).
        num_samples: kept draws per chain.
        chain_method: ``sequential`` or ``vectorized`` (NumPyro's names).
        target_accept: NUTS target acceptance probability.
        max_tree_depth: NUTS maximal tree depth.
        block_size: draws per chain collected at once before reduction to statistics.
        sampler: ``collapsed`` (V₀ integrated out), ``full`` (all weights sampled) or
            ``wishart`` (V₀ integrated out, weights reduced to the Wishart chain of their overlaps).
    """

    num_chains: int = 4
    num_warmup: int = 500
    num_samples: int = 500
    chain_method: Literal["sequential", "vectorized"] = "vectorized"
    target_accept: float = 0.8
    max_tree_depth: int = 10
    block_size: int = 100
    sampler: Sampler = "collapsed"


@dataclasses.dataclass(frozen=True)
class SampleData:
    """Arrays a sampler needs: training inputs and, optionally, test inputs.

    ``x`` (P, S, N₀), ``attention`` tuple of L arrays (P, H_ℓ, S, S) rows = queries, ``y`` (P,);
    ``x_test``/``attention_test`` for the predictor (may be ``None``).
    """

    x: jnp.ndarray
    attention: tuple[jnp.ndarray, ...]
    y: jnp.ndarray
    x_test: jnp.ndarray | None = None
    attention_test: tuple[jnp.ndarray, ...] | None = None


# --------------------------------------------------------------------------------------------
# NumPyro models


def _std_normal(name: str, shape: tuple[int, ...]) -> jnp.ndarray:
    return numpyro.sample(name, dist.Normal(0.0, 1.0).expand(shape).to_event(len(shape)))


def _weights(model: Any, n_input: int, fixed: Mapping[str, jnp.ndarray], with_input: bool) -> net.Params:
    """Sample (or take from ``fixed``) the weights; sites hold standardised z, weights are σ z."""
    widths = net.network_widths(model)
    s0 = float(model.sigma2_input)
    sl = tuple(float(s) for s in model.sigma2_layers)
    sa = float(model.sigma2_readout)

    def get(name: str, shape: tuple[int, ...], s2: float) -> jnp.ndarray:
        if name in fixed:
            return jnp.asarray(fixed[name])
        return math.sqrt(s2) * _std_normal(name, shape)

    V0 = get("V0", (widths[0], n_input), s0) if with_input else jnp.zeros((widths[0], n_input))
    V = tuple(get(f"V{l + 1}", (h, widths[l + 1], widths[l]), sl[l]) for l, h in enumerate(model.heads))
    a = get("a", (widths[-1],), sa)
    return net.Params(V0, V, a)


def full_model(x: jnp.ndarray, attention: tuple[jnp.ndarray, ...], y: jnp.ndarray | None, model: Any,
               fixed: Mapping[str, jnp.ndarray] | None = None) -> None:
    """All weights sampled: prior of §1, likelihood y^μ ~ N(f(x^μ), T) (§2).

    ``fixed`` maps site names (``V0``, ``V1``…``VL``, ``a``) to weights held fixed (not sampled).
    """
    params = _weights(model, x.shape[-1], fixed or {}, with_input=True)
    f = net.forward(params, x, attention, model.readout)
    numpyro.sample("y", dist.Normal(f, math.sqrt(float(model.temperature))), obs=y)


def collapsed_model(C: jnp.ndarray, y: jnp.ndarray, model: Any,
                    fixed: Mapping[str, jnp.ndarray] | None = None) -> None:
    """V₀ integrated out: prior on (V₁…V_L, a), likelihood N(y; 0, K(U₁) + T I), U₁ = W Wᵀ/N₁."""
    params = _weights(model, 1, fixed or {}, with_input=False)
    W = net.path_weights(params)
    U1 = W @ W.T / W.shape[1]
    numpyro.factor("y", net.marginal_log_likelihood(U1, C, y, float(model.temperature)))


def _bartlett_sizes(model: Any) -> tuple[tuple[int, int], ...]:
    """(D_ℓ, N_ℓ) for ℓ = 1..L: D_ℓ = H_ℓ ⋯ H_L partial paths; N_ℓ ≥ D_ℓ is required."""
    widths = net.network_widths(model)
    out = []
    for l in range(len(model.heads)):
        D = int(np.prod(model.heads[l:]))
        if widths[l] < D:
            name = f"model.widths[{l}]"
            raise InputError(name, widths[l], f"the wishart sampler needs N_{l + 1} >= H_{l + 1}⋯H_L = {D} "
                                              "(a non-singular Wishart law); use sampler = 'collapsed'")
        out.append((D, widths[l]))
    return tuple(out)


def log_gamma_moments(conc: np.ndarray | float, rate: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of ln q for q ~ Gamma(k, rate r): ψ(k) − ln r and √ψ′(k)."""
    from scipy.special import digamma, polygamma

    k = np.asarray(conc, dtype=np.float64)
    return digamma(k) - math.log(rate), np.sqrt(polygamma(1, k))


def gamma_coordinates(model: Any) -> dict[str, tuple[np.ndarray, float]]:
    """(shape k, rate r) of every Gamma variable of the chain: ``g_a`` and ``q1``…``qL`` (see :func:`overlap_chain`)."""
    na = net.network_widths(model)[-1]
    out = {"g_a": (np.asarray(na / 2.0), na / 2.0)}
    for l, (D, n) in enumerate(_bartlett_sizes(model)):
        out[f"q{l + 1}"] = ((n - np.arange(D)) / 2.0, n / 2.0)
    return out


def overlap_chain(sites: Mapping[str, jnp.ndarray], model: Any) -> tuple[tuple[jnp.ndarray, ...], jnp.ndarray]:
    """Overlaps (U₁…U_L, U_a) from standardised Bartlett coordinates: the exact prior law of the
    weight overlaps.

    Under the prior of §1, U_a = ‖a‖²/N_a = σ_a² g_a with g_a ~ Gamma(N_a/2, rate N_a/2), and given
    the partial effective weights W_{ℓ+1} (U_{L+1} ≡ U_a), the columns of W_ℓ = [W_{ℓ+1} V_ℓ^h /
    √N_{ℓ+1}]_h are independent N(0, σ_ℓ² I_{H_ℓ} ⊗ U_{ℓ+1}), so

        U_ℓ = W_ℓ W_ℓᵀ / N_ℓ ~ Wishart_{D_ℓ}(N_ℓ, σ_ℓ² (I_{H_ℓ} ⊗ U_{ℓ+1}) / N_ℓ),

    a Markov chain U_a → U_L → … → U₁.  Bartlett decomposition: U_ℓ = σ_ℓ² Λ B Bᵀ Λᵀ with
    Λ = I_{H_ℓ} ⊗ chol(U_{ℓ+1}), B lower triangular, B_ii² = q_i ~ Gamma((N_ℓ − i)/2, rate N_ℓ/2)
    (i = 0..D_ℓ−1, i.e. χ²_{N_ℓ−i}/N_ℓ) and B_ij = z_ij/√N_ℓ (i > j), z_ij ~ N(0, 1).

    Every Gamma variable is given by its standardised logarithm w = (ln q − E ln q)/sd(ln q)
    (:func:`log_gamma_moments`), so that all coordinates are O(1) at any width.  Sites: ``g_a``
    (scalar), ``q{ℓ}`` (D_ℓ,) — standardised — and ``z{ℓ}`` (D_ℓ(D_ℓ−1)/2,).  Returns (U layer 1
    first, U_a).
    """
    sizes = _bartlett_sizes(model)
    gam = gamma_coordinates(model)
    sl = tuple(float(s) for s in model.sigma2_layers)

    def positive(name: str) -> jnp.ndarray:
        m, sd = log_gamma_moments(*gam[name])
        return jnp.exp(m + sd * sites[name])

    Ua = float(model.sigma2_readout) * positive("g_a")
    U_next = Ua[None, None]
    U: list[jnp.ndarray] = []
    for l in reversed(range(len(model.heads))):
        D, n = sizes[l]
        rows, cols = np.tril_indices(D, -1)
        B = jnp.diag(jnp.sqrt(positive(f"q{l + 1}"))).at[rows, cols].set(sites[f"z{l + 1}"] / math.sqrt(n))
        Lam = jnp.kron(jnp.eye(model.heads[l]), jnp.linalg.cholesky(U_next))
        M = Lam @ B
        U_next = sl[l] * (M @ M.T)
        U.append(U_next)
    return tuple(reversed(U)), Ua


def _standard_log_gamma(name: str, conc: np.ndarray, rate: float) -> jnp.ndarray:
    """A site w whose law makes q = exp(E ln q + sd(ln q) w) ~ Gamma(k, rate r).

    Its log density is k ln q − r q + const = k s w − r e^m expm1(s w) + const (m, s the mean
    and sd of ln q); it is written as a N(0, 1) site plus the factor k s w − r e^m expm1(s w) + w²/2,
    which keeps the O(k) constant out of the arithmetic.
    """
    m, sd = log_gamma_moments(conc, rate)
    shape = np.shape(conc)
    w = numpyro.sample(name, dist.Normal(0.0, 1.0).expand(shape).to_event(len(shape)))
    k, s, c = jnp.asarray(conc), jnp.asarray(sd), jnp.asarray(rate * np.exp(m))
    numpyro.factor(f"{name}_law", jnp.sum(k * s * w - c * jnp.expm1(s * w) + 0.5 * w * w))
    return w


def _overlap_sites(model: Any) -> dict[str, jnp.ndarray]:
    """The standardised Bartlett coordinates of :func:`overlap_chain` with their prior law."""
    sites = {}
    for name, (conc, rate) in gamma_coordinates(model).items():
        sites[name] = _standard_log_gamma(name, conc, rate)
    for l, (D, _) in enumerate(_bartlett_sizes(model)):
        sites[f"z{l + 1}"] = _std_normal(f"z{l + 1}", (D * (D - 1) // 2,)) if D > 1 else jnp.zeros((0,))
    return sites


def wishart_model(C: jnp.ndarray, y: jnp.ndarray, model: Any) -> None:
    """V₀ integrated out and the weights reduced to their overlaps: prior = the Wishart chain of
    :func:`overlap_chain`, likelihood N(y; 0, K(U₁) + T I).  The same posterior of (U, U_a) and
    of the predictor as :func:`collapsed_model`, in Σ_ℓ D_ℓ(D_ℓ+1)/2 + 1 coordinates."""
    U, _ = overlap_chain(_overlap_sites(model), model)
    numpyro.factor("y", net.marginal_log_likelihood(U[0], C, y, float(model.temperature)))


# --------------------------------------------------------------------------------------------
# per-draw statistics


def _params_from_sites(sites: Mapping[str, jnp.ndarray], model: Any, fixed: Mapping[str, jnp.ndarray],
                       n_input: int) -> net.Params:
    sl = tuple(float(s) for s in model.sigma2_layers)

    def get(name: str, s2: float) -> jnp.ndarray:
        if name in fixed:
            return jnp.asarray(fixed[name])
        return math.sqrt(s2) * sites[name]

    V0 = get("V0", float(model.sigma2_input)) if ("V0" in sites or "V0" in fixed) else None
    V = tuple(get(f"V{l + 1}", sl[l]) for l in range(len(model.heads)))
    a = get("a", float(model.sigma2_readout))
    return net.Params(V0, V, a)  # type: ignore[arg-type]


def params_statistics(params: net.Params, model: Any, data: SampleData) -> dict:
    """Statistics of one network Θ: overlaps ``U1``…``UL``, ``U_a`` and, with test inputs,
    ``f_mean`` = f(x*; Θ) and ``f_var`` = 0 (the spread comes from the draws)."""
    U, Ua = net.overlaps(params.V, params.a)
    out = {f"U{l + 1}": u for l, u in enumerate(U)}
    out["U_a"] = Ua
    if data.x_test is not None:
        f = net.forward(params, data.x_test, data.attention_test, model.readout)
        out["f_mean"], out["f_var"] = f, jnp.zeros_like(f)
    return out


def draw_statistics(model: Any, data: SampleData, sampler: Sampler,
                    fixed: Mapping[str, jnp.ndarray] | None = None) -> Callable[[Mapping[str, jnp.ndarray]], dict]:
    """A function: one draw of the sites (standardised weights) -> its statistics.

    Keys: ``U1``…``UL`` (weight overlaps W_ℓ W_ℓᵀ/N_ℓ), ``U_a`` (‖a‖²/N_a), and with test inputs
    ``f_mean`` and ``f_var``: for ``full`` f(x*) and 0; for ``collapsed`` and ``wishart`` the exact conditional
    mean and variance of f(x*) given the sampled weights (theory §7 at the sampled U₁).
    """
    fixed = dict(fixed or {})
    T = float(model.temperature)
    has_test = data.x_test is not None
    if sampler in ("collapsed", "wishart") and has_test:
        Xt = net.path_inputs(data.x, data.attention, model)
        Xs = net.path_inputs(data.x_test, data.attention_test, model)
        C = net.path_kernels(Xt)
        C_cross = net.path_kernels(Xt, Xs)
        C_diag = jnp.einsum("pia,pib->abp", Xs, Xs)

    def stats(sites: Mapping[str, jnp.ndarray]) -> dict:
        if sampler == "wishart":
            U, Ua = overlap_chain(sites, model)
        else:
            params = _params_from_sites(sites, model, fixed, data.x.shape[-1])
            if sampler == "full":
                return params_statistics(params, model, data)
            U, Ua = net.overlaps(params.V, params.a)
        out = {f"U{l + 1}": u for l, u in enumerate(U)}
        out["U_a"] = Ua
        if has_test:
            out["f_mean"], out["f_var"] = net.conditional_predictor(U[0], C, C_cross, C_diag, data.y, T)
        return out

    return stats


# --------------------------------------------------------------------------------------------
# the sampler driver


def run_nuts(model: Any, data: SampleData, settings: SamplerSettings, seed: int, *,
             fixed: Mapping[str, jnp.ndarray] | None = None, keep_sites: bool = False,
             description: str = "NUTS") -> dict[str, Any]:
    """Run NUTS on the posterior of the finite network (see :func:`_run_nuts`), BLAS single-threaded."""
    with single_threaded_blas():
        return _run_nuts(model, data, settings, seed, fixed=fixed, keep_sites=keep_sites, description=description)


def _run_nuts(model: Any, data: SampleData, settings: SamplerSettings, seed: int, *,
              fixed: Mapping[str, jnp.ndarray] | None, keep_sites: bool, description: str) -> dict[str, Any]:
    """Run NUTS on the posterior of the finite network; reduce every draw to its statistics.

    The NumPyro NUTS kernel (initialised at prior draws) runs in a jitted ``lax.scan`` of
    ``block`` steps (vmapped over chains for ``vectorized``, one chain after the other for
    ``sequential``), compiled once and called block by block (progress bar): first
    ⌈num_warmup/block⌉ warm-up blocks (step size and diagonal mass matrix adapted during the first
    ``num_warmup`` steps, NumPyro's schedule), then the kept blocks, each draw reduced at once to
    its statistics.

    Returns a dict with ``draws`` ({statistic: array (chains, draws, ...)}), ``sites`` (the raw
    standardised draws when ``keep_sites``), ``divergences`` (total count after warm-up),
    ``accept_prob`` (mean), ``mean_tree_steps``, ``step_size`` (per chain) and ``seconds``.
    """
    if settings.sampler not in ("collapsed", "full", "wishart"):
        raise InputError("validate.sampler", settings.sampler, "must be 'collapsed', 'full' or 'wishart'")
    if settings.chain_method not in ("sequential", "vectorized"):
        raise InputError("validate.chain_method", settings.chain_method, "must be 'sequential' or 'vectorized'")
    fixed = dict(fixed or {})
    if settings.sampler == "full":
        fn, args = full_model, (data.x, tuple(data.attention), data.y, model, fixed)
    elif settings.sampler == "wishart":
        if fixed:
            raise InputError("fixed", sorted(fixed), "the wishart sampler reduces the weights to overlaps; none can be fixed")
        C = net.path_kernels(net.path_inputs(data.x, data.attention, model))
        fn, args = wishart_model, (C, data.y, model)
    else:
        if "V0" in fixed:
            raise InputError("fixed", "V0", "the collapsed sampler integrates V0 out; it cannot be fixed")
        C = net.path_kernels(net.path_inputs(data.x, data.attention, model))
        fn, args = collapsed_model, (C, data.y, model, fixed)
    # start every chain at a prior draw (not NumPyro's default uniform(−2, 2), whose weight norms
    # are 4/3 of the prior's and relax slowly in many dimensions)
    kernel = NUTS(fn, target_accept_prob=settings.target_accept, max_tree_depth=settings.max_tree_depth,
                  init_strategy=init_to_sample)
    stat = draw_statistics(model, data, settings.sampler, fixed)
    n_blocks = -(-settings.num_samples // max(1, settings.block_size))
    block = -(-settings.num_samples // n_blocks)

    vectorized = settings.chain_method == "vectorized" and settings.num_chains > 1
    # with a batch of chains, NumPyro's kernel itself samples the whole batch (it vmaps internally)
    stat_b = jax.vmap(stat) if vectorized else stat

    def one_chain_block(state: Any) -> tuple[Any, dict]:
        def step(s: Any, _: Any) -> tuple[Any, dict]:
            s = kernel.sample(s, args, {})
            out = {"stats": stat_b(s.z), "diverging": s.diverging, "accept_prob": s.accept_prob,
                   "num_steps": s.num_steps}
            if keep_sites:
                out["sites"] = s.z
            return s, out

        return jax.lax.scan(step, state, None, length=block)

    t0 = time.perf_counter()
    keys = jax.random.split(jax.random.PRNGKey(seed), settings.num_chains)
    if vectorized:
        state = kernel.init(keys, settings.num_warmup, None, args, {})
    else:
        # one chain at a time: a kernel initialised with one key samples one chain (unbatched)
        states = [kernel.init(k, settings.num_warmup, None, args, {}) for k in keys]
        state = jax.tree_util.tree_map(lambda *v: jnp.stack(v), *states)
    if vectorized:
        batched = jax.jit(one_chain_block)

        def run_block(st: Any) -> tuple[Any, dict]:
            st, out = batched(st)  # outputs (draws, chains, ...) -> (chains, draws, ...)
            return st, jax.tree_util.tree_map(lambda v: jnp.swapaxes(v, 0, 1), out)
    else:
        single = jax.jit(one_chain_block)

        def run_block(st: Any) -> tuple[Any, dict]:
            outs = [single(jax.tree_util.tree_map(lambda v: v[c], st)) for c in range(settings.num_chains)]
            return jax.tree_util.tree_map(lambda *v: jnp.stack(v), *outs)

    # warm-up through the same compiled block: the kernel adapts while its iteration count is below
    # num_warmup (NumPyro's schedule) and samples with the adapted step size and mass matrix after;
    # the warm-up is rounded up to whole blocks and everything before the kept blocks is discarded
    n_warm_blocks = -(-settings.num_warmup // block)
    pieces: list[dict] = []
    for i in progress(range(n_warm_blocks + n_blocks), total=n_warm_blocks + n_blocks, description=description):
        state, out = run_block(state)
        if i >= n_warm_blocks:
            pieces.append(jax.tree_util.tree_map(np.asarray, out))
    seconds = time.perf_counter() - t0
    cat = jax.tree_util.tree_map(lambda *v: np.concatenate(v, axis=1)[:, :settings.num_samples], *pieces)
    return {
        "draws": cat["stats"],
        "sites": cat.get("sites", {}),
        "divergences": int(np.sum(cat["diverging"])),
        "accept_prob": float(np.mean(cat["accept_prob"])),
        "mean_tree_steps": float(np.mean(cat["num_steps"])),
        "step_size": np.atleast_1d(np.asarray(state.adapt_state.step_size)).tolist(),
        "seconds": seconds,
    }


# --------------------------------------------------------------------------------------------
# estimates with Monte-Carlo standard errors


@dataclasses.dataclass(frozen=True)
class Estimate:
    """A Monte-Carlo estimate: posterior mean of a per-draw series, its standard error
    sd/√ESS, the effective sample size and the split R-hat (NumPyro), entrywise arrays."""

    mean: np.ndarray
    se: np.ndarray
    ess: np.ndarray
    rhat: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        return {"mean": self.mean, "se": self.se, "ess": self.ess, "rhat": self.rhat}


def estimate(series: np.ndarray) -> Estimate:
    """Estimate of E[g] from a per-draw series g of shape (chains, draws, ...)."""
    series = np.asarray(series, dtype=np.float64)
    c, d = series.shape[:2]
    flat = series.reshape(c * d, *series.shape[2:])
    mean = flat.mean(axis=0)
    sd = flat.std(axis=0, ddof=1)
    const = sd <= 1e-14 * np.maximum(1.0, np.abs(mean))
    with np.errstate(invalid="ignore", divide="ignore"):
        ess = np.where(const, float(c * d), np.asarray(effective_sample_size(series)))
        rhat = np.where(const, 1.0, np.asarray(split_gelman_rubin(series)))
    ess = np.clip(np.nan_to_num(ess, nan=1.0), 1.0, None)
    rhat = np.nan_to_num(rhat, nan=np.inf)
    return Estimate(mean=mean, se=sd / np.sqrt(ess), ess=ess, rhat=rhat)


def estimate_independent(values: np.ndarray) -> Estimate:
    """Estimate of E[g] from independent values (axis 0): SE = sd/√n, ESS = n, R-hat = 1."""
    v = np.asarray(values, dtype=np.float64)
    n = v.shape[0]
    sd = v.std(axis=0, ddof=1) if n > 1 else np.zeros(v.shape[1:])
    return Estimate(mean=v.mean(axis=0), se=sd / math.sqrt(n), ess=np.full(v.shape[1:], float(n)),
                    rhat=np.ones(v.shape[1:]))


def summarise(draws: Mapping[str, np.ndarray]) -> dict[str, Estimate]:
    """Estimates of every order parameter (``U1``…, ``U_a``) from per-draw overlaps."""
    return {k: estimate(v) for k, v in draws.items() if k.startswith("U")}


def predictor_estimates(draws: Mapping[str, np.ndarray], y_test: np.ndarray | None) -> dict[str, Estimate]:
    """Predictor mean, variance and test error on test inputs, with standard errors.

    With per-draw conditional mean m_s(x*) and variance v_s(x*) (v = 0 for ``full`` sampling):
    ⟨f*⟩ = E_s m_s, Var f* = E_s v_s + Var_s m_s (law of total variance), estimated by the series
    v_s + (n/(n−1)) (m_s − m̄)².  The test error ε_g = mean_k (y_k − ⟨f*_k⟩)² + mean_k Var f*_k
    (theory §7) gets its standard error from its linearisation in the draws (delta method):
    e_s = mean_k[(y_k − m̄_k)² − 2 (y_k − m̄_k)(m_{s,k} − m̄_k) + v'_{s,k}], whose mean is ε_g.
    """
    m = np.asarray(draws["f_mean"])
    v = np.asarray(draws["f_var"])
    n = m.shape[0] * m.shape[1]
    mbar = m.reshape(n, -1).mean(axis=0)
    vser = v + (n / (n - 1)) * (m - mbar) ** 2
    out = {"f_mean": estimate(m), "f_var": estimate(vser)}
    if y_test is not None:
        r = np.asarray(y_test) - mbar
        e = np.mean(r ** 2 - 2 * r * (m - mbar) + vser, axis=-1)
        out["test_error"] = estimate(e)
    return out


def mixing(estimates: Mapping[str, Estimate], names: Sequence[str], rhat_max: float, ess_min: float) -> dict[str, Any]:
    """Worst split R-hat and ESS over the compared statistics; ``mixed`` when R-hat ≤ rhat_max and ESS ≥ ess_min."""
    rh = max(float(np.max(estimates[k].rhat)) for k in names)
    es = min(float(np.min(estimates[k].ess)) for k in names)
    return {"max_rhat": rh, "min_ess": es, "mixed": bool(rh <= rhat_max and es >= ess_min),
            "rhat_max": rhat_max, "ess_min": ess_min}
