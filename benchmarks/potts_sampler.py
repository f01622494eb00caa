"""Site updates per second of the Potts Gibbs sampler, one thread, against baselines in the same run.

    python benchmarks/potts_sampler.py [--quick] [--sweeps N]

Default size: L = 64 sites, C = 8 colours, 1024 chains (issue 6).  Compared in the same process:

- ``statmech_attn`` — :func:`statmech_attn.potts.gibbs_chains` (JAX, incremental logits: O(L·C) per
  site update, ``vmap`` over chains, ``lax.scan`` over sites and sweeps), float64 (the default; the
  reference of the ratio column) and float32 (``sampler.precision = "float32"``);
- ``numpy`` — a Gibbs sampler vectorised over chains written here: for each site the dense
  (L·C)×C product of the one-hot chains with that site's coupling block (float64);
- ``adabmDCA`` — ``adabmDCA.sampling.gibbs_sampling`` of the inverse-Potts community's tool (torch on
  CPU, float32, its default; random site shared by all chains).  A benchmark-only dependency,
  skipped with a message when absent.  To include it (kept out of the project's dependencies)::

      python -m venv --system-site-packages /tmp/adabm_venv
      /tmp/adabm_venv/bin/pip install torch==2.13.0 && /tmp/adabm_venv/bin/pip install --no-deps adabmdca
      /tmp/adabm_venv/bin/python benchmarks/potts_sampler.py

Each sampler also reports the mean energy per site of its chains after the timed sweeps (all start
from uniformly random colours and run the same number of sweeps), a sanity check that they sample
the same model.  Nothing is written to disk.
"""

from __future__ import annotations

import argparse
import os
import time

# one thread everywhere: set before numpy / jax / torch start their thread pools
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
try:
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
except (AttributeError, OSError):
    pass

import jax  # noqa: E402
import numpy as np  # noqa: E402

import statmech_attn  # noqa: E402,F401  (float64)
from statmech_attn.potts import energy, gibbs_chains, potts_model  # noqa: E402


def random_model(L: int, C: int, seed: int = 0):
    """Dense Gaussian couplings J_ij ~ N(0, 1/L), a random symmetric U, small fields, β = 0.5 (paramagnetic, fast mixing)."""
    rng = np.random.default_rng(seed)
    J = rng.normal(size=(L, L)) / np.sqrt(L)
    J = np.triu(J, 1) + np.triu(J, 1).T
    A = rng.normal(size=(C, C))
    U = (A + A.T) / 2
    h = 0.1 * rng.normal(size=(L, C))
    return potts_model(J, U, h, 0.5)


def time_ours(model, chains: int, sweeps: int, precision: str = "float64") -> tuple[float, float]:
    """Seconds for ``sweeps`` sweeps of every chain (compiled beforehand), and ⟨H⟩/L at the end."""
    key = jax.random.PRNGKey(1)
    run = lambda k: gibbs_chains(model, k, chains=chains, burn_in=sweeps - 1, thin=1, per_chain=1,  # noqa: E731
                                 precision=precision)
    jax.block_until_ready(run(key))  # compile
    dt = np.inf
    for rep in range(2):  # best of two (the machine may be shared)
        t0 = time.perf_counter()
        samples, _, _ = jax.block_until_ready(run(jax.random.PRNGKey(2 + rep)))
        dt = min(dt, time.perf_counter() - t0)
    return dt, float(np.mean(np.asarray(energy(model, samples[:, 0])))) / model.sites


def numpy_gibbs(J: np.ndarray, U: np.ndarray, h: np.ndarray, beta: float, chains: int, sweeps: int,
                seed: int = 0) -> np.ndarray:
    """Heat-bath Gibbs, sequential scan, vectorised over chains with the dense coupling product per site.

    Logits of site i: β[h_i + X 𝒥_i] with X (chains, L·C) the one-hot chains and 𝒥_i (L·C, C) the
    block (j, b) -> J_ij U_ba.  Returns the final sequences (chains, L).
    """
    rng = np.random.default_rng(seed)
    L, C = h.shape
    coup = (J[:, :, None, None] * U[None, None, :, :])  # (i, j, a, b) = J_ij U_ab
    blocks = np.ascontiguousarray(np.transpose(coup, (0, 1, 3, 2)).reshape(L, L * C, C))  # (i, (j,b), a)
    s = rng.integers(0, C, size=(chains, L))
    X = np.zeros((chains, L * C))
    X[np.arange(chains)[:, None], np.arange(L)[None, :] * C + s] = 1.0
    rows = np.arange(chains)
    for _ in range(sweeps):
        for i in range(L):
            z = beta * (X @ blocks[i] + h[i])
            p = np.exp(z - z.max(axis=1, keepdims=True))
            c = np.cumsum(p, axis=1)
            new = np.minimum((c < rng.random((chains, 1)) * c[:, -1:]).sum(axis=1), C - 1)
            X[:, i * C:(i + 1) * C] = 0.0
            X[rows, i * C + new] = 1.0
            s[:, i] = new
    return s


def time_adabmdca(model, chains: int, sweeps: int):
    """Seconds for ``sweeps`` sweeps with adabmDCA's Gibbs sampler and ⟨H⟩/L, or None if not installed."""
    try:
        import torch
        from adabmDCA.sampling import gibbs_sampling
    except ImportError:
        return None
    torch.set_num_threads(1)
    torch.manual_seed(0)
    L, C = model.sites, model.colours
    J, U, h = (np.asarray(x) for x in (model.interaction, model.colour_matrix, model.fields))
    params = {"bias": torch.tensor(h, dtype=torch.float32),
              "coupling_matrix": torch.tensor(np.transpose(J[:, :, None, None] * U[None, None], (0, 2, 1, 3)),
                                              dtype=torch.float32)}  # (i, a, j, b)
    s0 = torch.randint(0, C, (chains, L))
    chains0 = torch.nn.functional.one_hot(s0, C).to(torch.float32)
    gibbs_sampling(chains0, params, 1, float(model.beta))  # warm-up
    dt = np.inf
    for _ in range(2):  # best of two
        t0 = time.perf_counter()
        out = gibbs_sampling(chains0, params, sweeps, float(model.beta))
        dt = min(dt, time.perf_counter() - t0)
    s = out.argmax(-1).numpy()
    return dt, float(np.mean(np.asarray(energy(model, s)))) / L


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (a smoke test, seconds)")
    ap.add_argument("--sweeps", type=int, default=None, help="sweeps timed per sampler")
    args = ap.parse_args()
    L, C, K = (16, 4, 128) if args.quick else (64, 8, 1024)
    sweeps = args.sweeps or (20 if args.quick else 50)
    model = random_model(L, C)
    rows = []
    dt, e = time_ours(model, K, sweeps)
    ours = K * L * sweeps / dt
    rows.append(("statmech_attn (JAX, f64, incremental)", ours, e))
    dt, e = time_ours(model, K, sweeps, "float32")
    rows.append(("statmech_attn (JAX, f32, incremental)", K * L * sweeps / dt, e))
    np_sweeps = max(2, sweeps // 5)
    dt = np.inf
    for rep in range(2):  # best of two
        t0 = time.perf_counter()
        s = numpy_gibbs(*(np.asarray(x) for x in (model.interaction, model.colour_matrix, model.fields)),
                        float(model.beta), K, np_sweeps, seed=rep)
        dt = min(dt, time.perf_counter() - t0)
    rows.append(("numpy (f64, dense per site)", K * L * np_sweeps / dt,
                 float(np.mean(np.asarray(energy(model, s)))) / L))
    ada = time_adabmdca(model, K, max(2, sweeps // 5))
    if ada is None:
        msg = ("adabmDCA: skipped (not installed; see this file's docstring: torch==2.13.0 and "
               "adabmdca --no-deps in a separate venv)")
    else:
        rows.append(("adabmDCA.sampling (torch, f32, dense)", K * L * max(2, sweeps // 5) / ada[0], ada[1]))
        msg = ""
    print(f"Potts Gibbs sampler, one thread: L = {L}, C = {C}, chains = {K}")
    print(f"{'sampler':42s} {'site updates/s':>15s} {'ours / this':>12s} {'<H>/L at end':>13s}")
    for name, rate, e in rows:
        print(f"{name:42s} {rate:15.3e} {ours / rate:12.2f} {e:13.4f}")
    if msg:
        print(msg)
    print(f"(ours: {sweeps} sweeps timed after compilation; baselines: {np_sweeps} sweeps; all from random starts)")


if __name__ == "__main__":
    main()
