"""Test configuration: float64 JAX on the CPU, quiet CLI, a persistent compilation cache."""

import hashlib
import os
import tempfile

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("CI", "1")  # progress bars off in tests
# compiled solvers are reused across tests and CLI subprocesses of one run
# (one folder per checkout: a fresh clone never reads entries another checkout's code wrote)
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", os.path.join(
    tempfile.gettempdir(), "statmech_attn_jax_cache_" + hashlib.sha256(_ROOT.encode()).hexdigest()[:12]))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "1")
# a size bound switches on JAX's file lock: CLI subprocesses and dask workers share the folder safely
os.environ.setdefault("JAX_COMPILATION_CACHE_MAX_SIZE", str(2 * 1024**3))

# one XLA thread per test process: small problems run faster and results are bitwise reproducible
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import statmech_attn  # noqa: E402,F401  (switches on jax_enable_x64)
