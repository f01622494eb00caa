"""Schedulers of the grid layer: serial, a local dask cluster, or an existing dask scheduler."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import re
import signal
import sys
import threading
import uuid
from typing import Any, Callable, Iterator

from .. import config as _config
from ..errors import InputError

GRID_FILE = "_grid.json"
POINTS_DIR = "points"

# environment of a worker process: one thread for XLA's CPU backend and for BLAS/OpenMP
_SINGLE_THREAD_XLA_FLAGS = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
# more local worker processes than this is a typo, not a plan (each loads JAX: ~300 MB)
MAX_LOCAL_WORKERS = 256
# how long to wait for an existing dask scheduler to answer
CONNECT_TIMEOUT_S = 20.0


# --------------------------------------------------------------------------------------------
# schedulers


@dataclasses.dataclass(frozen=True)
class Scheduler:
    """A parsed scheduler choice.

    Attributes:
        kind: ``"serial"``, ``"local"`` or ``"address"``.
        workers: number of worker processes for ``local`` (0: the number of cores).
        address: the scheduler address for ``address`` (``tcp://HOST:PORT``).
    """

    kind: str
    workers: int = 0
    address: str = ""

    def __str__(self) -> str:
        if self.kind == "local":
            return f"local:{self.workers}" if self.workers else "local"
        return self.address if self.kind == "address" else self.kind


def parse_scheduler(text: str, *, param: str = "compute.scheduler") -> Scheduler:
    """Parse ``serial``, ``local``, ``local:N`` or ``tcp://HOST:PORT`` (InputError naming ``param``)."""
    allowed = "must be 'serial', 'local', 'local:N' (N >= 1 worker processes) or 'tcp://HOST:PORT'"
    if not isinstance(text, str):
        raise InputError(param, text, allowed)
    s = text.strip()
    if s == "serial":
        return Scheduler("serial")
    if s == "local":
        return Scheduler("local")
    m = re.fullmatch(r"local:(\d+)", s)
    if m:
        n = int(m.group(1))
        if n < 1:
            raise InputError(param, text, allowed)
        if n > MAX_LOCAL_WORKERS:
            raise InputError(param, text, f"at most {MAX_LOCAL_WORKERS} local worker processes")
        return Scheduler("local", workers=n)
    if re.fullmatch(r"(tcp|tls)://[^\s/:]+:\d+/?", s):
        return Scheduler("address", address=s.rstrip("/"))
    raise InputError(param, text, allowed)


def _check_scheduler(v: str) -> str:
    parse_scheduler(v, param="")
    return v


def _check_workers(v: int) -> int:
    if v < 0 or v > MAX_LOCAL_WORKERS:
        raise InputError("", v, f"must be an integer in [0, {MAX_LOCAL_WORKERS}] (0: one worker per core)")
    return v


def _check_chunk(v: int) -> int:
    if v < 1:
        raise InputError("", v, "must be an integer >= 1 (grid points per task along the continuation axis)")
    return v


@dataclasses.dataclass(frozen=True)
class ComputeConfig:
    """The ``[compute]`` table: where and how a grid's points are computed.

    These keys do not change any number beyond solver tolerance (``chunk`` only moves where warm
    starts begin), so they are *not* part of the config a resumed run must match.

    Attributes:
        scheduler: ``serial`` | ``local`` | ``local:N`` | ``tcp://HOST:PORT``.
        workers: worker processes for ``local`` (0: one per core); ignored otherwise.
        chunk: grid points per task along the continuation axis (warm starts run inside a chunk).
    """

    scheduler: str = _config.field("serial", check=_check_scheduler,
                                   doc="serial | local | local:N | tcp://HOST:PORT")
    workers: int = _config.field(0, check=_check_workers, doc="worker processes for 'local' (0: one per core)")
    chunk: int = _config.field(10, check=_check_chunk, doc="grid points per task along the continuation axis")


def resolve_scheduler(compute: ComputeConfig | None = None, override: str | None = None) -> Scheduler:
    """The scheduler to use: ``--scheduler`` (``override``) wins over ``[compute] scheduler``.

    ``local`` without a count takes ``[compute] workers``, else the number of cores.
    """
    compute = compute or ComputeConfig()
    if override is not None:
        sched = parse_scheduler(override, param="--scheduler")
    else:
        sched = parse_scheduler(compute.scheduler)
    if sched.kind == "local" and sched.workers == 0:
        n = compute.workers or (os.cpu_count() or 1)
        sched = Scheduler("local", workers=max(1, n))
    return sched


def single_thread_environ() -> dict[str, str]:
    """Environment for a worker process: XLA's CPU backend and BLAS/OpenMP on one thread.

    XLA reads ``XLA_FLAGS`` when its backend starts, so this must be in the worker's environment
    before the worker runs its first JAX computation (the nanny sets it before spawning).
    """
    flags = os.environ.get("XLA_FLAGS", "")
    kept = " ".join(f for f in flags.split()
                    if not f.startswith(("--xla_cpu_multi_thread_eigen", "intra_op_parallelism_threads")))
    return {
        "XLA_FLAGS": (kept + " " + _SINGLE_THREAD_XLA_FLAGS).strip(),
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "NPROC": "1",
        "JAX_PLATFORMS": os.environ.get("JAX_PLATFORMS", "cpu"),
    }


def local_cluster(n_workers: int, *, dashboard: bool = False, quiet: bool = True) -> Any:
    """A ``dask.distributed.LocalCluster`` of ``n_workers`` processes, one thread each, one XLA thread.

    ``dashboard=True`` serves the dask dashboard (needs ``bokeh``) on port 8787 or a free one.
    """
    import dask
    from dask.distributed import LocalCluster

    env = single_thread_environ()
    pre = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}) or {})
    pre.update(env)
    # dask's default MALLOC_TRIM_THRESHOLD_=65536 hands freed heap back to the OS at once; the
    # solvers free and re-allocate the same P'×P' buffers every iteration, and paid for it in
    # page faults: the paths sweep ran 20 % slower and its records 50 % slower than in-process
    pre.pop("MALLOC_TRIM_THRESHOLD_", None)
    if dashboard:
        try:
            import bokeh  # noqa: F401
        except ImportError:
            dashboard = False
    # without a dashboard the scheduler's HTTP server (health, metrics) takes any free port
    extra = {} if dashboard else {"scheduler_kwargs": {"dashboard": False}}
    # Ctrl-C on a terminal reaches the whole process group: the workers ignore SIGINT (inherited
    # at spawn, then re-set by `dask_setup` below) and this process alone handles it.
    in_main = threading.current_thread() is threading.main_thread()
    old = signal.signal(signal.SIGINT, signal.SIG_IGN) if in_main else None
    try:
        with dask.config.set({"distributed.nanny.pre-spawn-environ": pre}):
            return LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                dashboard_address=":8787" if dashboard else ":0", env=env,
                                preload=["statmech_attn.compute"],
                                silence_logs=logging.ERROR if quiet else logging.WARNING, **extra)
    finally:
        if in_main:
            signal.signal(signal.SIGINT, old)


def dask_setup(worker: Any) -> None:
    """Worker preload hook (``--preload statmech_attn.compute``): ignore SIGINT, import the package.

    A terminal's Ctrl-C is meant for the client, which closes the cluster; a worker that died of
    it would only print a traceback.  Importing this module also loads JAX once per worker, at
    start-up rather than inside the first task.
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)



def _identity(x: Any) -> Any:
    return x


@contextlib.contextmanager
def _client(sched: Scheduler) -> Iterator[Any]:
    from dask.distributed import Client

    interactive = not (bool(os.environ.get("CI")) or not sys.stderr.isatty())
    if sched.kind == "local":
        from distributed.utils import silence_logging_cmgr

        # the cluster restores the log level before it logs its own shutdown: keep it quiet here
        with silence_logging_cmgr(logging.WARNING if interactive else logging.ERROR):
            cluster = local_cluster(sched.workers, dashboard=interactive, quiet=not interactive)
            try:
                client = Client(cluster, set_as_default=False)
                try:
                    if interactive and cluster.dashboard_link:
                        print(f"dask dashboard: {client.dashboard_link}", file=sys.stderr)
                    yield client
                finally:
                    client.close()
            finally:
                cluster.close()
    else:
        try:
            client = Client(sched.address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        except (OSError, TimeoutError) as e:
            raise InputError("--scheduler", sched.address, f"no dask scheduler answers there ({e.__class__.__name__})") from None
        try:
            yield client
        finally:
            client.close()


def _run_dask(task_fn: Callable[..., Any], context: Any, tasks: list[tuple[list[dict[str, Any]], int]],
              sched: Scheduler, run_task: Callable[..., Any], *, client: Any = None
              ) -> Iterator[tuple[list[dict[str, Any]], int, list[dict[str, Any]]]]:
    if not tasks:
        return
    from dask.distributed import as_completed

    with (_client(sched) if client is None else contextlib.nullcontext(client)) as client:
        token = uuid.uuid4().hex[:8]
        # the context travels once per worker; held by a task (not scattered) so that it is
        # recomputed if every worker holding it dies
        ctx = client.submit(_identity, context, key=f"context-{token}", pure=False)
        futures = []
        meta = {}
        for i, (points, task_seed) in enumerate(tasks):
            f = client.submit(run_task, task_fn, ctx, points, task_seed,
                              key=f"points-{token}-{i:06d}", pure=False)
            futures.append(f)
            meta[f.key] = (points, task_seed)
        try:
            for fut in as_completed(futures, loop=client.loop):
                points, task_seed = meta[fut.key]
                rows = fut.result()
                yield points, task_seed, rows
        finally:
            client.cancel(futures + [ctx], force=True)
