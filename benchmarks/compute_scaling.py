"""Grid execution layer: speed-up of 2 dask workers over 1, and the per-task overhead of dask.

    python benchmarks/compute_scaling.py [--quick] [--out DIR]

Three grids, each run through :func:`statmech_attn.compute.run_grid` with the same chunking:

1. an empty grid (a task that returns at once): the per-task overhead of the dask path (a
   one-worker LocalCluster) against the serial path, in milliseconds;
2. the ``paths sweep`` grid: 200 α values (log-spaced 0.1 … 5) of the attention-paths saddle point at
   P = 500, L = 2, H = 2 (the bundled hidden-Markov-chain task), chunks of 10 α, with the very task
   function the CLI uses (``statmech_attn.paths.cli.sweep_task``);
3. the ``potts replica`` grid: 50 α values (log-spaced 0.1 … 30) of the replica-symmetric saddle
   point of factored Potts attention (C = 3, the doubly centred colour matrix, λ = 0.1, cubature
   check on), chunks of 5 α, with the CLI's task function (``statmech_attn.potts.verbs.replica_task``).

For each grid: wall time serial (in this process, XLA free to use every core), on a one-worker and
on a two-worker LocalCluster (started beforehand; start-up time and the first chunk's JIT
compilation, done once on every worker and in this process, are reported separately; the timings
include the transfer of the problem to the workers).  The ratios are
measured in the same run: speed-up = t(1 worker) / t(2 workers); overhead per task =
(t(1 worker) − t(serial, one XLA thread)) / tasks for the empty grid.  ``--quick`` shrinks every grid
(P = 60, 24 α in chunks of 4; 12 replica α in chunks of 2); ``--paths-p``/``--paths-alphas`` override
the paths grid; ``--one-thread`` runs the serial baseline with the workers' one-thread XLA (on an
oversubscribed machine XLA's multi-threaded CPU runtime can be many times slower).  Writes nothing outside a temporary folder (or ``--out``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

if "--one-thread" in sys.argv[1:] and os.environ.get("NPROC") != "1":
    # the workers' environment must be in place before NumPy, SciPy (whose OpenBLAS serves JAX's
    # LAPACK calls) and XLA start their thread pools: start this script again with it
    from statmech_attn.compute import single_thread_environ

    os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **single_thread_environ()})

import numpy as np


def empty_task(context: object, points: list[dict], seed: int) -> list[dict]:
    """A task that does nothing: what remains of its wall time is the execution layer's overhead."""
    return [{"result": "converged", "value": p["i"]} for p in points]


def _warm(task, context, points) -> float:
    """Run one chunk (JIT compilation of the task's shapes); return its wall time."""
    t0 = time.perf_counter()
    task(context, points, 0)
    return time.perf_counter() - t0


def _warm_workers(address: str, task, context, points) -> float:
    """Compile the task on every worker of a cluster at once; return the slowest worker's time."""
    from dask.distributed import Client

    with Client(address, set_as_default=False) as client:
        return max(client.run(_warm, task, context, points).values())


def _time_grid(task, context, grid, scheduler, out: Path | None = None) -> tuple[float, object]:
    from statmech_attn.compute import run_grid

    t0 = time.perf_counter()
    res = run_grid(task, context, grid, scheduler=scheduler, out=out)
    return time.perf_counter() - t0, res


def _compare(a, b) -> float:
    """Largest relative difference of the numeric point values of two grid results."""
    worst = 0.0
    for p, q in zip(a.points, b.points):
        for k, v in p.record.items():
            if isinstance(v, float) and isinstance(q.record.get(k), float) and k not in ("wall_time_s",):
                worst = max(worst, abs(v - q.record[k]) / max(1.0, abs(v)))
    return worst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small grids (a smoke run)")
    ap.add_argument("--out", type=Path, default=None, help="folder for the run directories (default: a temp dir)")
    ap.add_argument("--skip", default="", help="comma-separated grids to skip: empty,paths,replica")
    ap.add_argument("--paths-p", type=int, default=None, help="override P of the paths grid")
    ap.add_argument("--paths-alphas", type=int, default=None, help="override the number of α of the paths grid")
    ap.add_argument("--replica-chunk", type=int, default=None, help="α per task of the replica grid (default 5; quick 2)")
    ap.add_argument("--one-thread", action="store_true",
                    help="run this process's XLA on one thread too (a serial baseline with the workers' threading)")
    args = ap.parse_args()
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    import logging

    import statmech_attn  # noqa: F401  (float64)

    from statmech_attn.compute import Grid

    quick = args.quick
    n_empty = 100 if quick else 400
    P, n_paths, chunk_paths = (60, 24, 4) if quick else (500, 200, 10)
    P = args.paths_p or P
    n_paths = args.paths_alphas or n_paths
    n_rep, chunk_rep = (12, 2) if quick else (50, 5)
    chunk_rep = args.replica_chunk or chunk_rep
    print(f"# compute_scaling{' --quick' if quick else ''}: cores {os.cpu_count()}, "
          f"load average {os.getloadavg()[0]:.1f} (other processes share these cores); serial XLA on "
          f"{'one thread' if args.one_thread else 'every core'}", flush=True)

    grids: list[tuple[str, object, object, Grid]] = []
    if "empty" not in skip:
        grids.append(("empty", empty_task, None, Grid.of(i=list(range(n_empty)))))
    if "paths" not in skip:
        from statmech_attn import paths
        from statmech_attn.paths.verbs import sweep_task
        from statmech_attn.paths.spec import SolverConfig

        t0 = time.perf_counter()
        data = paths.hmm_task(paths.HMMTask(n_train=P, n_test=0, n_features=200 if not quick else 16,
                                            tokens=30 if not quick else 6))
        model = paths.PathsModel(heads=(2, 2), readout="last", sigma2_layers=(1.0, 1.0), widths=(100.0, 100.0),
                                 width_readout=100.0, temperature=0.01)
        problem = paths.problem_from_data(model, data)
        print(f"# paths problem P={P} built in {time.perf_counter() - t0:.1f} s", flush=True)
        alphas = np.geomspace(0.1, 5.0, n_paths).tolist()
        grids.append((f"paths sweep ({n_paths} α, P={P})", sweep_task, (problem, SolverConfig(), chunk_paths),
                      Grid.of(along="alpha", chunk=chunk_paths, alpha=alphas)))
    if "replica" not in skip:
        from statmech_attn.config import build
        from statmech_attn.potts.verbs import replica_task, setting_from_config
        from statmech_attn.potts.spec import ReplicaConfig

        U3 = 2 * np.eye(3) - (2 / 3) * np.ones((3, 3))
        alphas = np.geomspace(0.1, 30.0, n_rep).tolist()
        rc = build(ReplicaConfig, {"colours": 3, "colour_matrix": U3.tolist(), "ridge": 0.1, "alphas": alphas},
                   name="replica")
        grids.append((f"replica curve ({n_rep} α)", replica_task, (setting_from_config(rc), rc, chunk_rep),
                      Grid.of(along="alpha", chunk=chunk_rep, alpha=alphas)))

    from distributed.utils import silence_logging_cmgr

    with silence_logging_cmgr(logging.ERROR):
        rows, base = _run(grids, args.out)
    _table(rows, base)


def _run(grids: list, out: Path | None) -> tuple[list, Path]:
    from statmech_attn.compute import local_cluster

    base = Path(out) if out else Path(tempfile.mkdtemp(prefix="compute_scaling_"))
    rows = []
    t0 = time.perf_counter()
    c1 = local_cluster(1)
    start1 = time.perf_counter() - t0
    t0 = time.perf_counter()
    c2 = local_cluster(2)
    start2 = time.perf_counter() - t0
    print(f"# LocalCluster start-up: 1 worker {start1:.1f} s, 2 workers {start2:.1f} s", flush=True)
    try:
        for name, task, ctx, grid in grids:
            n_tasks = len(grid.chunks())
            first = grid.chunks()[0]
            w = (_warm(task, ctx, first), _warm_workers(c1.scheduler_address, task, ctx, first),
                 _warm_workers(c2.scheduler_address, task, ctx, first))
            print(f"# {name}: first chunk (JIT compilation) serial {w[0]:.1f} s, on the workers "
                  f"{w[1]:.1f} s / {w[2]:.1f} s (not in the timings below)", flush=True)
            ts, rs = _time_grid(task, ctx, grid, "serial")
            t1, r1 = _time_grid(task, ctx, grid, c1.scheduler_address)
            t2, r2 = _time_grid(task, ctx, grid, c2.scheduler_address, out=base / name.split()[0])
            diff = max(_compare(rs, r1), _compare(rs, r2))
            rows.append((name, len(grid.points()), n_tasks, ts, t1, t2, diff, rs.ok and r1.ok and r2.ok))
            print(f"# {name}: serial {ts:.2f} s, 1 worker {t1:.2f} s, 2 workers {t2:.2f} s", flush=True)
    finally:
        c1.close()
        c2.close()
    return rows, base


def _table(rows: list, base: Path) -> None:
    print()
    print(f"{'grid':34s} {'points':>6s} {'tasks':>5s} {'serial s':>9s} {'1 wkr s':>8s} {'2 wkr s':>8s} "
          f"{'speed-up 1→2':>12s} {'max rel diff':>12s} {'all ok':>6s}")
    for name, n, k, ts, t1, t2, diff, ok in rows:
        print(f"{name:34s} {n:6d} {k:5d} {ts:9.2f} {t1:8.2f} {t2:8.2f} {t1 / t2:12.2f} {diff:12.1e} {str(ok):>6s}")
    for name, n, k, ts, t1, t2, _, _ in rows:
        if name == "empty":
            print(f"\nper-task overhead of the dask path vs serial: {(t1 - ts) / k * 1e3:.1f} ms "
                  f"(1 worker), {(t2 - ts) / k * 1e3:.1f} ms (2 workers); serial {ts / k * 1e6:.0f} µs per task")
        else:
            print(f"{name}: serial/2 workers = {ts / t2:.2f}; 1 worker − serial = {(t1 - ts) / k:.3f} s per task "
                  "(serial XLA may use every core; a worker uses one)")
    print(f"run directories of the 2-worker runs: {base}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
