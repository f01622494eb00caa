"""Benchmark: the whole warm ``paths solve`` call against the authors' Adam loop (issue 19, point 3).

For each paper-size problem (the bundled hidden-Markov task ``examples/paths_hmm.toml`` with
``--set data.hmm.n_train=P``: L = 2, H = 2, 200 features, 30 tokens, N = 100, T = 0.01) it reports
- ``newton_ms``: the Newton solve alone (``paths.solve``, compiled, data in memory), and its iterations;
- ``run_ms``: the whole warm call ``statmech_attn.run("paths solve", config, set=...)`` — config
  load, task data, kernels, solve, predictor, GP predictor, alignment, head scores, pruning table and
  the JSON record (median of ``--repeat`` calls after one warm-up call in this process).  The bundled
  task's tokens and attention are memoised per process on the task settings, so a warm call reuses
  them; ``gen_ms`` is what drawing them again costs (the first call of a process pays it);
- ``verb_ms``: the verb function ``statmech_attn.paths.verbs.run_solve`` on a loaded spec (no
  config parsing, no JSON);
- ``npz_ms``: the whole warm call on the same data saved as an NPZ (``[data] npz = ...``), which is
  read and validated again on every call — what a user with their own data gets;
- ``authors_ms``: the authors' Adam loop (tiberilor/attention-paths-interplay, PyTorch, float64,
  lr 0.1, ReduceLROnPlateau, stop at max|grad| < 1e-5; see ``benchmarks/_authors_paths.py``) on the
  same data from the GP-limit start, its steps and ``dS`` = its final action minus Newton's;
- ``jax_adam_ms``: the package's Adam (jitted, closed-form gradient), best learning rate among
  ``--adam-lrs``, to residual (max |∇S|) ≤ 1e-5, the authors' stopping rule — a tuned Adam;
- ratios ``authors / newton``, ``authors / run`` (the target: ≥ 20), ``authors / npz`` and
  ``jax_adam / run``, and whether the target holds on both whole-call routes.

Times are CPU seconds of this process (``time.process_time``) pinned to one core with XLA, OpenBLAS
and PyTorch on one thread each (``--wall`` for wall-clock seconds).  The authors' column needs
``torch`` and ``einops`` (never dependencies of the package) and a checkout of their repository:
``--authors-repo PATH`` or ``STATMECH_ATTN_AUTHORS_REPO``; without them the column is skipped with a
message.  Get one with ``git --git-dir=<mirror> archive HEAD | tar -x -C /tmp/attention-paths-interplay``
or ``git clone https://github.com/tiberilor/attention-paths-interplay``.

Run: python benchmarks/paths_whole_call.py --authors-repo /tmp/attention-paths-interplay [--sizes 100,400]
"""

from __future__ import annotations

import os

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import statmech_attn  # noqa: E402
import statmech_attn.paths as sp  # noqa: E402
from statmech_attn.cli._run import load_spec  # noqa: E402
from statmech_attn.paths import _task  # noqa: E402
from statmech_attn.paths.spec import PathsSpec  # noqa: E402
from statmech_attn.paths.verbs import load_problem, run_solve  # noqa: E402

from _authors_paths import authors_adam, unavailable  # noqa: E402

CLOCK = time.process_time
TARGET = 20.0


def median_time(fn, repeat: int) -> tuple[float, object]:
    out = fn()  # warm-up: compile, fill the per-process task cache
    ts = []
    for _ in range(repeat):
        t0 = CLOCK()
        out = fn()
        ts.append(CLOCK() - t0)
    return statistics.median(ts), out


def npz_config(example: Path, data, folder: Path) -> Path:
    """The example's config with ``[data.hmm]`` replaced by ``[data] npz`` holding the same data."""
    np.savez(folder / "data.npz", **data.arrays())
    text = example.read_text()
    text = re.sub(r"\[data\.hmm\]\n(?:[^\[\n][^\n]*\n)*", '[data]\nnpz = "data.npz"\n', text)
    path = folder / "paths_npz.toml"
    path.write_text(text)
    return path


def jax_adam(problem, lrs: list[float], steps: int) -> tuple[float, float, bool]:
    best = (float("inf"), float("nan"), False)
    for lr in lrs:
        def run():
            return sp.solve(problem, solver="adam", tol=1e-5, max_steps=steps, throw=False, learning_rate=lr)
        t, sol = median_time(run, 1)
        ok = sol.residual <= 1e-5
        if (not best[2] and ok) or (ok == best[2] and t < best[0]):
            best = (t, lr, ok)
    return best


def main() -> None:
    global CLOCK
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100,400", help="comma-separated P (n_train of the bundled task)")
    ap.add_argument("--config", default=str(ROOT / "examples" / "paths_hmm.toml"))
    ap.add_argument("--authors-repo", default=os.environ.get("STATMECH_ATTN_AUTHORS_REPO"),
                    help="checkout of tiberilor/attention-paths-interplay (or STATMECH_ATTN_AUTHORS_REPO)")
    ap.add_argument("--authors-epochs", type=int, default=50_000, help="their epoch cap (their run script: 50000)")
    ap.add_argument("--adam-lrs", default="0.03,0.1", help="learning rates of the tuned JAX Adam (best is reported)")
    ap.add_argument("--adam-steps", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--wall", action="store_true", help="wall-clock instead of CPU seconds")
    args = ap.parse_args()
    if args.wall:
        CLOCK = time.perf_counter
    sizes = [int(v) for v in args.sizes.split(",")]
    lrs = [float(v) for v in args.adam_lrs.split(",")]
    why = unavailable(args.authors_repo)
    example = Path(args.config)
    print(f"times in {'wall' if args.wall else 'CPU'} ms, one core; config {example.name}; target: authors / whole warm call"
          f" ≥ {TARGET:g}")
    if why:
        print(why)
    head = (f"{'P':>4} {'newton_ms':>9} {'it':>3} {'run_ms':>7} {'verb_ms':>7} {'npz_ms':>7} {'gen_ms':>7} {'authors_ms':>10}"
            f" {'steps':>6} {'dS':>8} {'jax_adam_ms':>11} {'lr':>5} {'auth/newton':>11} {'auth/run':>8} {'auth/npz':>8}"
            f" {'jaxadam/run':>11} {'target':>6}")
    print(head)
    for P in sizes:
        sets = [f"data.hmm.n_train={P}"]
        spec = load_spec(PathsSpec, example, sets)
        problem, data = load_problem(spec)
        s = spec.solver
        t_newton, sol = median_time(lambda: sp.solve(problem, tol=s.tol, max_steps=s.max_steps, throw=False), args.repeat)
        t_run, rec = median_time(lambda: statmech_attn.run("paths solve", example, set=sets), args.repeat)
        assert rec["result"]["converged"], rec["result"]["result"]
        t_verb, _ = median_time(lambda: run_solve(spec), args.repeat)
        t_gen, _ = median_time(lambda: _task.hmm_task(spec.data.hmm), 2)
        with tempfile.TemporaryDirectory() as tmp:
            cfg_npz = npz_config(example, data, Path(tmp))
            t_npz, rec_npz = median_time(lambda: statmech_attn.run("paths solve", cfg_npz), args.repeat)
        assert abs(rec_npz["result"]["action"] - rec["result"]["action"]) <= 1e-12 * abs(rec["result"]["action"])
        t_jax, lr, ok_jax = jax_adam(problem, lrs, args.adam_steps)
        if why:
            t_auth, steps, ds = float("nan"), "-", float("nan")
        else:
            m = problem.model
            r = authors_adam(args.authors_repo, data.x, data.attention, data.y, heads=m.heads, widths=m.widths,
                             width_readout=m.width_readout, sigma2_input=m.sigma2_input, sigma2_layers=m.sigma2_layers,
                             sigma2_readout=m.sigma2_readout, temperature=m.temperature, readout=m.readout,
                             epochs=args.authors_epochs, clock=CLOCK)
            t_auth, steps, ds = r["seconds"], (str(r["steps"]) if r["converged"] else f">{r['steps']}"), r["action"] - sol.action
        met = "-" if why else ("yes" if min(t_auth / t_run, t_auth / t_npz) >= TARGET else "no")
        ms = 1e3
        print(f"{P:>4} {t_newton * ms:>9.1f} {sol.iterations:>3} {t_run * ms:>7.1f} {t_verb * ms:>7.1f} {t_npz * ms:>7.1f}"
              f" {t_gen * ms:>7.1f} {t_auth * ms:>10.0f} {steps:>6} {ds:>8.1e} {('' if ok_jax else '>') + f'{t_jax * ms:.0f}':>11}"
              f" {lr:>5.2g} {t_auth / t_newton:>11.1f} {t_auth / t_run:>8.1f} {t_auth / t_npz:>8.1f} {t_jax / t_run:>11.1f}"
              f" {met:>6}", flush=True)


if __name__ == "__main__":
    main()
