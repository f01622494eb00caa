"""Test configuration: float64 JAX on the CPU, quiet CLI, a persistent compilation cache."""

import os
import tempfile

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("CI", "1")  # progress bars off in tests
# compiled solvers are reused across tests and CLI subprocesses of one run
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", os.path.join(tempfile.gettempdir(), "statmech_attn_jax_cache"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "1")

# one XLA thread per test process: small problems run faster and results are bitwise reproducible
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import statmech_attn  # noqa: E402,F401  (switches on jax_enable_x64)
