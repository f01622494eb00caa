"""Toy task functions for the execution-layer tests (module level, so dask workers import them).

``fixed_point_task`` solves the scalar stationarity equation ``x = cos(alpha * x)`` by Newton's
method, warm-started from the previous point of its chunk (continuation along alpha), and adds a
seeded Gaussian vector (a stand-in for a finite-size simulation).  Its context (a dict) switches on
the fault injections the tests need.
"""

from __future__ import annotations

import os
import signal
import uuid
from pathlib import Path

import numpy as np

from statmech_attn.compute import PointOutput


def _count_task(ctx: dict) -> int:
    """Record one task run as a file in ``ctx['counter_dir']``; return how many ran before."""
    d = ctx.get("counter_dir")
    if d is None:
        return 0
    before = len(os.listdir(d))
    Path(d, uuid.uuid4().hex).touch()
    return before


def fixed_point_task(ctx: dict, points: list[dict], seed: int) -> list[PointOutput]:
    """x(alpha) with x = cos(alpha x), Newton from the previous point's x; noise ~ N(0, 1)^3 (seeded)."""
    before = _count_task(ctx)
    if ctx.get("interrupt_after") is not None and before >= ctx["interrupt_after"]:
        raise KeyboardInterrupt
    marker = ctx.get("kill_marker")
    if marker is not None:
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            pass
        else:
            os.close(fd)
            os.kill(os.getpid(), signal.SIGKILL)  # this worker process dies mid-task, once
    if ctx.get("raise_at") is not None and any(p["alpha"] == ctx["raise_at"] for p in points):
        raise ValueError("injected failure")
    outs = []
    x = 1.0
    for p in points:
        a = p["alpha"]
        it = 0
        max_steps = 1 if a == ctx.get("fail_alpha") else 100
        while it < max_steps:
            f = x - np.cos(a * x)
            if abs(f) < 1e-15:
                break
            x = x - f / (1.0 + a * np.sin(a * x))
            it += 1
        res = abs(x - np.cos(a * x))
        ok = res < 1e-12
        rng = np.random.default_rng([seed, int(round(a * 1e6))])
        noise = rng.normal(size=3)
        outs.append(PointOutput({"x": float(x), "residual": float(res), "iterations": it,
                                 "result": "converged" if ok else "max_steps",
                                 "noise_mean": float(noise.mean())},
                                {"noise": noise}, ok=ok))
        if not ok:
            x = 1.0  # do not continue from a failed point
    return outs


def environment_task(ctx: dict, points: list[dict], seed: int) -> list[dict]:
    """Report the worker's XLA flags and thread settings (to check the single-thread environment)."""
    return [{"xla_flags": os.environ.get("XLA_FLAGS", ""), "omp": os.environ.get("OMP_NUM_THREADS", ""),
             "malloc_trim": os.environ.get("MALLOC_TRIM_THRESHOLD_", ""), "pid": os.getpid(), "result": "converged"}
            for _ in points]
