"""Training steps per second of masked-language-model training, one thread, against baselines in the same run.

    python benchmarks/potts_train.py [--quick]

Default size: L = 64 sites, C = 8 colours, mini-batches of 256 sequences, mask "all" (the exact
pseudo-likelihood), Adam.  One step = one gradient evaluation and optimiser update on one batch.

- ``factored (epoch scan)`` — ``statmech_attn.validation.potts.train``: an epoch of mini-batches in one jitted
  ``lax.scan`` (the code path of ``potts train``);
- ``vanilla (epoch scan)`` — the same for the vanilla layer (d = 32);
- baseline ``factored, jitted step per Python call`` — the same factored step, one jitted call per
  batch from a Python loop (what a straightforward training script does);
- baseline ``full-tensor PL (plmDCA parametrisation)`` — Adam on the L2-regularised pseudo-likelihood
  of a general coupling tensor 𝒥 (L, L, C, C) (:func:`statmech_attn.potts.pl_objective`), the
  classical inverse-Potts estimator, one jitted step per batch inside a ``lax.scan`` as well.

Nothing is written to disk.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
try:
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
except (AttributeError, OSError):
    pass

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

import statmech_attn  # noqa: E402,F401
from statmech_attn.potts import pl_objective  # noqa: E402
from statmech_attn.potts.spec import TrainConfig  # noqa: E402
from statmech_attn.validation.potts.layers import init_factored, init_vanilla  # noqa: E402
from statmech_attn.validation.potts.train import _epoch, mlm_objective  # noqa: E402


def best_of(fn, reps: int = 2) -> float:
    """Smallest wall time of ``reps`` calls (after one warm-up/compile call)."""
    jax.block_until_ready(fn())
    dt = np.inf
    for _ in range(reps):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        dt = min(dt, time.perf_counter() - t0)
    return dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (a smoke test)")
    args = ap.parse_args()
    L, C, B, nb = (16, 4, 64, 8) if args.quick else (64, 8, 256, 20)
    seqs = jax.random.randint(jax.random.PRNGKey(0), (B * nb, L), 0, C)
    key = jax.random.PRNGKey(1)
    rows = []

    for layer in ("factored", "vanilla"):
        cfg = TrainConfig(layer=layer, attention="softmax", batch_size=B, mask="all", embed_dim=32)
        params = (init_factored(key, L, C) if layer == "factored" else init_vanilla(key, L, C, 32))
        state = optax.adam(cfg.lr).init(params)
        dt = best_of(lambda: _epoch(cfg, params, state, key, seqs, n_batches=nb, batch=B))
        rows.append((f"{layer} (epoch scan)", nb / dt))

    cfg = TrainConfig(layer="factored", attention="softmax", batch_size=B, mask="all")
    params = init_factored(key, L, C)
    opt = optax.adam(cfg.lr)

    @jax.jit
    def step(params, state, batch):
        loss, g = jax.value_and_grad(lambda p: mlm_objective(cfg, p, batch, key))(params)
        upd, state = opt.update(g, state, params)
        return optax.apply_updates(params, upd), state, loss

    def loop():
        p, s = params, opt.init(params)
        for b in range(nb):
            p, s, loss = step(p, s, seqs[b * B:(b + 1) * B])
        return loss

    rows.append(("baseline: factored, jitted step per Python call", nb / best_of(loop)))

    J0 = (jnp.zeros((L, L, C, C)), jnp.zeros((L, C)))
    opt_pl = optax.adam(0.01)

    @jax.jit
    def pl_epoch(J, state):
        def one(carry, batch):
            J, state = carry
            loss, g = jax.value_and_grad(lambda J: pl_objective(J[0], J[1], batch, 1e-4, 1e-4))(J)
            upd, state = opt_pl.update(g, state, J)
            return (optax.apply_updates(J, upd), state), loss

        return jax.lax.scan(one, (J, state), seqs.reshape(nb, B, L))[1]

    rows.append(("baseline: full-tensor PL (plmDCA parametrisation)", nb / best_of(lambda: pl_epoch(J0, opt_pl.init(J0)))))

    ours = rows[0][1]
    print(f"MLM training, one thread: L = {L}, C = {C}, batch = {B}, mask = all, Adam")
    print(f"{'method':52s} {'steps/s':>10s} {'factored / this':>16s}")
    for name, rate in rows:
        print(f"{name:52s} {rate:10.2f} {ours / rate:16.2f}")


if __name__ == "__main__":
    main()
