"""Test configuration: float64 JAX on the CPU, quiet CLI, one XLA thread, no persistent compilation cache."""

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("CI", "1")  # progress bars off in tests
# No persistent compilation cache in the tests: reading NumPyro's NUTS block back from JAX's cache
# crashed the test process (segfault in the executable's deserialisation) in a full run.
os.environ.pop("JAX_COMPILATION_CACHE_DIR", None)
os.environ["STATMECH_ATTN_CACHE"] = "0"

# one XLA thread per test process: small problems run faster and results are bitwise reproducible
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import statmech_attn  # noqa: E402,F401  (switches on jax_enable_x64)
