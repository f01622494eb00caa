"""Training the finite attention-path network: gradient descent and Langevin dynamics (optax).

Both use the regularised loss (:func:`statmech_attn.validation.paths.network.regularised_loss`)

    loss(Θ) = ½ Σ_μ (f^μ − y^μ)² + (T/2) Σ_k ‖Θ_k‖²/σ_k²,

whose Gibbs measure exp(−loss/T) is the posterior of theory §2:

- full-batch gradient descent Θ ← Θ − (η/P) ∇loss (the 1/P makes η independent of the size of the
  training set) reaches the maximum a posteriori weights, not the posterior: how far the Bayesian
  theory carries to GD is what the comparison shows;
- Langevin dynamics Θ ← Θ − (η/P) ∇loss + √(2 (η/P) T) ξ, ξ ~ N(0, I), samples the posterior as
  η → 0 (an optax transformation, :func:`langevin`); several chains are vmapped, and the draws
  after burn-in, thinned, give the same statistics and diagnostics as NUTS.
"""

from __future__ import annotations

import math
import time
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from statmech_attn.progress import progress

from . import network as net
from .sample import SampleData, params_statistics, single_threaded_blas

__all__ = ["langevin", "train_gd", "run_langevin"]


class LangevinState(NamedTuple):
    """State of :func:`langevin`: the PRNG key of the injected noise."""

    key: jnp.ndarray


def langevin(learning_rate: float, temperature: float, seed: int) -> optax.GradientTransformation:
    """Langevin update as an optax transformation: u = −η g + √(2 η T) ξ, ξ ~ N(0, I) per leaf."""

    def init(params: Any) -> LangevinState:
        return LangevinState(jax.random.PRNGKey(seed))

    def update(grads: Any, state: LangevinState, params: Any = None) -> tuple[Any, LangevinState]:
        key, sub = jax.random.split(state.key)
        leaves, tree = jax.tree_util.tree_flatten(grads)
        keys = jax.random.split(sub, len(leaves))
        scale = math.sqrt(2.0 * learning_rate * temperature)
        upd = [-learning_rate * g + scale * jax.random.normal(k, g.shape, g.dtype) for g, k in zip(leaves, keys)]
        return jax.tree_util.tree_unflatten(tree, upd), LangevinState(key)

    return optax.GradientTransformation(init, update)


def _init_batch(model: Any, n_input: int, seeds: np.ndarray) -> net.Params:
    ps = [net.init_params(model, n_input, int(s)) for s in seeds]
    return jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *ps)


def train_gd(model: Any, data: SampleData, *, learning_rate: float, steps: int, num_inits: int, seed: int) -> dict[str, Any]:
    """Full-batch GD on loss/P from ``num_inits`` prior draws (vmapped); statistics of the end points.

    Returns ``draws`` ({statistic: (1, num_inits, ...)}, the independent runs as draws of one
    "chain"), ``loss`` (num_inits,) final loss, ``grad_norm`` (num_inits,), ``seconds``.
    """
    P = data.y.shape[0]
    opt = optax.sgd(learning_rate)

    def loss_fn(p: net.Params) -> jnp.ndarray:
        return net.regularised_loss(p, data.x, data.attention, data.y, model) / P

    def run(p0: net.Params) -> tuple[net.Params, jnp.ndarray, jnp.ndarray]:
        def step(carry: tuple, _: Any) -> tuple:
            p, s = carry
            g = jax.grad(loss_fn)(p)
            u, s = opt.update(g, s, p)
            return (optax.apply_updates(p, u), s), None

        (p, _), _ = jax.lax.scan(step, (p0, opt.init(p0)), None, length=steps)
        g = jax.grad(loss_fn)(p)
        gn = jnp.sqrt(sum(jnp.sum(x * x) for x in jax.tree_util.tree_leaves(g)))
        return p, loss_fn(p) * P, gn

    seeds = np.random.default_rng(seed).integers(0, 2**31 - 1, size=num_inits)
    t0 = time.perf_counter()
    with single_threaded_blas():
        p0 = _init_batch(model, data.x.shape[-1], seeds)
        params, loss, gn = jax.jit(jax.vmap(run))(p0)
        stats = jax.jit(jax.vmap(lambda p: params_statistics(p, model, data)))(params)
    draws = {k: np.asarray(v)[None] for k, v in stats.items()}
    return {"draws": draws, "loss": np.asarray(loss), "grad_norm": np.asarray(gn),
            "seconds": time.perf_counter() - t0}


def run_langevin(model: Any, data: SampleData, *, step_size: float, num_steps: int, burn_in: int, thin: int,
                 num_chains: int, seed: int) -> dict[str, Any]:
    """Langevin chains (vmapped) with η = ``step_size``/P; per-draw statistics after burn-in, thinned.

    Returns ``draws`` ({statistic: (chains, draws, ...)}), ``seconds``.
    """
    P = data.y.shape[0]
    eta = step_size / P
    T = float(model.temperature)

    def loss_fn(p: net.Params) -> jnp.ndarray:
        return net.regularised_loss(p, data.x, data.attention, data.y, model)

    seeds = np.random.default_rng(seed).integers(0, 2**31 - 1, size=2 * num_chains)
    n_keep = (num_steps - burn_in) // thin
    t0 = time.perf_counter()
    with single_threaded_blas():
        p = _init_batch(model, data.x.shape[-1], seeds[:num_chains])
        keys = jnp.stack([jax.random.PRNGKey(int(s)) for s in seeds[num_chains:]])
        opt = langevin(eta, T, 0)
        state = jax.vmap(lambda k: LangevinState(k))(keys)

        def advance(p: net.Params, st: LangevinState, n: int) -> tuple[net.Params, LangevinState]:
            def one(pp: net.Params, ss: LangevinState) -> tuple:
                def step(c: tuple, _: Any) -> tuple:
                    q, s = c
                    g = jax.grad(loss_fn)(q)
                    u, s = opt.update(g, s, q)
                    return (optax.apply_updates(q, u), s), None

                return jax.lax.scan(step, (pp, ss), None, length=n)[0]

            return jax.vmap(one)(p, st)

        burn = jax.jit(lambda p, st: advance(p, st, burn_in)) if burn_in else None
        hop = jax.jit(lambda p, st: advance(p, st, thin))
        stat_fn = jax.jit(jax.vmap(lambda q: params_statistics(q, model, data)))
        if burn is not None:
            p, state = burn(p, state)
        draws: dict[str, list[np.ndarray]] = {}
        for _ in progress(range(n_keep), total=n_keep, description="Langevin"):
            p, state = hop(p, state)
            for k, v in stat_fn(p).items():
                draws.setdefault(k, []).append(np.asarray(v))
    out = {k: np.stack(v, axis=1) for k, v in draws.items()}
    return {"draws": out, "seconds": time.perf_counter() - t0, "eta": eta}
