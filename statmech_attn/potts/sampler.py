"""Gibbs (heat-bath) sampling of the Potts model, vectorised over chains (docs/theories/potts.md).

One update of site i draws s_i from P(s_i = a | s_−i) = softmax_a ℓ_i(a) (2).  Every chain keeps
the logits ℓ (L×C) of all its sites and, after s_i changes from ``old`` to ``new``, updates them in
O(L·C):

    ℓ_k(·) += β J_ki (U[:, new] − U[:, old])          for every k (J_ii = 0 leaves ℓ_i alone),

so a sweep costs O(L²C) per chain instead of recomputing the dense (L·C)×C product per site.
Chains are independent (``vmap``), sweeps and site updates run in ``lax.scan``; the draw uses one
uniform per update (inverse CDF of the softmax).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import InputError
from .model import PottsModel, conditional_logits, energy, enumerate_exact, sample_exact

__all__ = [
    "Samples",
    "generate",
    "gibbs_chains",
    "integrated_autocorr_time",
]


@dataclasses.dataclass(frozen=True)
class Samples:
    """Sequences drawn from a Potts model, with their diagnostics.

    Attributes:
        sequences: (n_samples, L) int32, concatenated chain by chain.
        chain_id: (n_samples,) int32, the chain each sequence came from.
        energy_trace: (chains, sweeps) H(s) after every sweep of the sampling phase (empty for
            exact sampling).
        diagnostics: ``acceptance`` (1 for heat bath), ``energy_mean``, ``energy_mean_per_chain``,
            ``energy_autocorr_sweeps`` (integrated autocorrelation time τ of the energy, in sweeps),
            ``marginal_spread`` (largest standard deviation across chains of a one-site marginal),
            ``one_site_marginals`` (L×C), ``logit_drift`` (largest difference between the
            incrementally updated logits and a fresh evaluation of (2) at the end), ``sweeps``,
            ``site_updates``, ``wall_time_s``, ``seed``.
    """

    sequences: np.ndarray
    chain_id: np.ndarray
    energy_trace: np.ndarray
    diagnostics: dict[str, Any]


def integrated_autocorr_time(x: np.ndarray, c: float = 5.0) -> float:
    """Integrated autocorrelation time τ = 1 + 2 Σ_{k≥1} ρ(k) of series ``x`` (chains, T).

    ρ is the autocorrelation function of the autocovariance averaged over chains (NumPyro's FFT
    estimator, each chain centred on its own mean); the sum is cut at the first window W ≥ c·τ(W)
    (Sokal's automatic windowing, which NumPyro and ArviZ do not offer).  With this convention the
    variance of a chain mean of T draws is Var(x)·τ/T.  A constant series has τ = 1.
    """
    from numpyro.diagnostics import autocovariance

    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    T = x.shape[1]
    if T < 2:
        return 1.0
    acov = autocovariance(x, axis=1).mean(axis=0)
    if acov[0] <= 0:
        return 1.0
    rho = acov / acov[0]
    taus = 2.0 * np.cumsum(rho) - 1.0
    window = np.arange(T)
    ok = window >= c * taus
    m = int(np.argmax(ok)) if np.any(ok) else T - 1
    return float(max(taus[m], 1e-12))


def _check_settings(chains: int, burn_in: int, thin: int, n_samples: int, scan: str) -> None:
    for name, v, lo in (("chains", chains, 1), ("burn_in", burn_in, 0), ("thin", thin, 1), ("n_samples", n_samples, 1)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise InputError(f"sampler.{name}", v, f"must be an integer >= {lo}")
    if scan not in ("sequential", "random"):
        raise InputError("sampler.scan", scan, "must be 'sequential' or 'random'")


def _site_update(bJ: jax.Array, U: jax.Array, carry, x):
    """Heat-bath update of one site of one chain; carry = (s (L,), logits (L, C)), x = (i, u)."""
    s, logits = carry
    i, u = x
    li = logits[i]
    p = jnp.exp(li - jnp.max(li))
    cdf = jnp.cumsum(p)
    new = jnp.minimum(jnp.sum(cdf < u * cdf[-1]), U.shape[0] - 1).astype(s.dtype)
    old = s[i]
    logits = logits + bJ[:, i, None] * (U[new] - U[old])[None, :]
    return (s.at[i].set(new), logits), None


def _sweep(bJ, U, s, logits, sites, u):
    """One sweep of one chain: the sites ``sites`` (L,) in order, uniforms ``u`` (L,)."""
    (s, logits), _ = jax.lax.scan(functools.partial(_site_update, bJ, U), (s, logits), (sites, u))
    return s, logits


def _sweep_chains(model: PottsModel, s, logits, key, scan: str):
    """One sweep of every chain (vmap over chains)."""
    K, L = s.shape
    ku, ks = jax.random.split(key)
    u = jax.random.uniform(ku, (K, L), dtype=logits.dtype)
    bJ = model.beta * model.interaction
    U = model.colour_matrix
    if scan == "sequential":
        sites = jnp.arange(L)
        return jax.vmap(_sweep, in_axes=(None, None, 0, 0, None, 0))(bJ, U, s, logits, sites, u)
    sites = jax.random.randint(ks, (K, L), 0, L)
    return jax.vmap(_sweep, in_axes=(None, None, 0, 0, 0, 0))(bJ, U, s, logits, sites, u)


def _energy_from_logits(model: PottsModel, s, logits):
    """H(s) from the current logits: βH = −½Σ_i(ℓ_i(s_i) − βh_i(s_i)) − βΣ_i h_i(s_i)."""
    L = s.shape[-1]
    l_own = jnp.take_along_axis(logits, s[..., None], axis=-1)[..., 0]
    h_own = model.fields[jnp.arange(L), s]
    return -(0.5 * jnp.sum(l_own - model.beta * h_own, axis=-1)) / model.beta - jnp.sum(h_own, axis=-1)


@functools.partial(jax.jit, static_argnames=("chains", "burn_in", "thin", "per_chain", "scan", "precision"))
def gibbs_chains(model: PottsModel, key: jax.Array, *, chains: int, burn_in: int, thin: int,
                 per_chain: int, scan: Literal["sequential", "random"] = "sequential",
                 precision: Literal["float64", "float32"] = "float64"):
    """Run ``chains`` Gibbs chains: ``burn_in`` sweeps, then ``per_chain`` samples every ``thin`` sweeps.

    Each chain starts from uniformly random colours.  ``precision`` is the floating type of the
    logits and uniforms (float32 halves the memory traffic of the logit updates; the logits are
    re-evaluated exactly after burn-in and their drift is reported).  Returns ``(samples (chains,
    per_chain, L), energies (chains, per_chain·thin) after every sampling sweep, logit_drift)``.
    """
    dtype = jnp.dtype(precision)
    model = PottsModel(*(x.astype(dtype) for x in (model.interaction, model.colour_matrix, model.fields, model.beta)))
    L, C = model.sites, model.colours
    k0, kb, ks = jax.random.split(key, 3)
    s = jax.random.randint(k0, (chains, L), 0, C, dtype=jnp.int32)
    logits = conditional_logits(model, s)

    def burn(i, carry):
        s, logits = carry
        return _sweep_chains(model, s, logits, jax.random.fold_in(kb, i), scan)

    s, logits = jax.lax.fori_loop(0, burn_in, burn, (s, logits))
    logits = conditional_logits(model, s)  # re-synchronise once after burn-in

    def one_sweep(carry, k):
        s, logits = carry
        s, logits = _sweep_chains(model, s, logits, k, scan)
        return (s, logits), _energy_from_logits(model, s, logits)

    def one_sample(carry, k):
        carry, e = jax.lax.scan(one_sweep, carry, jax.random.split(k, thin))
        return carry, (carry[0], e)

    (s, logits), (samples, energies) = jax.lax.scan(one_sample, (s, logits), jax.random.split(ks, per_chain))
    drift = jnp.max(jnp.abs(logits - conditional_logits(model, s))).astype(jnp.float64)
    samples = jnp.transpose(samples, (1, 0, 2))  # (chains, per_chain, L)
    energies = jnp.transpose(energies, (2, 0, 1)).reshape(chains, per_chain * thin)
    return samples, energies, drift


def generate(model: PottsModel, n_samples: int, *, seed: int = 0, chains: int = 8, burn_in: int = 1000,
             thin: int = 10, scan: Literal["sequential", "random"] = "sequential", exact: bool = False,
             max_enumerate: int = 1 << 20, precision: Literal["float64", "float32"] = "float64") -> Samples:
    """Draw ``n_samples`` sequences from the Potts model (§3.1), seeded, with diagnostics.

    Gibbs sampling: ⌈n_samples/chains⌉ samples per chain after ``burn_in`` sweeps, one every
    ``thin`` sweeps, concatenated chain by chain and truncated to ``n_samples``.  With
    ``exact=True`` the sequences are independent draws from the enumerated distribution (§2).
    ``precision`` (``"float64"`` or ``"float32"``) is the floating type of the Gibbs logits.

    Raises:
        InputError: a setting out of range (named ``sampler.<key>``), or ``exact`` on a model too
            large to enumerate.
    """
    _check_settings(chains, burn_in, thin, n_samples, scan)
    if precision not in ("float64", "float32"):
        raise InputError("sampler.precision", precision, "must be 'float64' or 'float32'")
    t0 = time.perf_counter()
    L, C = model.sites, model.colours
    if exact:
        enum = enumerate_exact(model, max_enumerate)
        seqs = sample_exact(enum, n_samples, seed)
        chain_id = np.zeros(n_samples, dtype=np.int32)
        e = np.asarray(energy(model, jnp.asarray(seqs)))
        diag: dict[str, Any] = {
            "acceptance": 1.0, "energy_mean": float(e.mean()), "energy_mean_per_chain": [float(e.mean())],
            "energy_autocorr_sweeps": 1.0, "marginal_spread": 0.0, "logit_drift": 0.0, "sweeps": 0,
            "site_updates": 0,
        }
        trace = np.zeros((1, 0))
    else:
        per_chain = math.ceil(n_samples / chains)
        samples, energies, drift = gibbs_chains(model, jax.random.PRNGKey(seed), chains=chains, burn_in=burn_in,
                                                thin=thin, per_chain=per_chain, scan=scan, precision=precision)
        samples = np.asarray(samples)
        trace = np.asarray(energies, dtype=np.float64)
        seqs = samples.reshape(chains * per_chain, L)[:n_samples].astype(np.int32)
        chain_id = np.repeat(np.arange(chains, dtype=np.int32), per_chain)[:n_samples]
        per_chain_marg = np.eye(C)[samples].mean(axis=1)  # (chains, L, C)
        sweeps = burn_in + per_chain * thin
        diag = {
            "acceptance": 1.0,
            "energy_mean": float(trace.mean()),
            "energy_mean_per_chain": trace.mean(axis=1).tolist(),
            "energy_autocorr_sweeps": integrated_autocorr_time(trace),
            "marginal_spread": float(per_chain_marg.std(axis=0).max()) if chains > 1 else 0.0,
            "logit_drift": float(drift),
            "sweeps": int(sweeps),
            "site_updates": int(sweeps * L * chains),
        }
    diag["one_site_marginals"] = np.eye(C)[seqs].mean(axis=0)
    diag["wall_time_s"] = time.perf_counter() - t0
    diag["seed"] = int(seed)
    return Samples(sequences=seqs, chain_id=chain_id, energy_trace=trace, diagnostics=diag)
