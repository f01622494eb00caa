"""Test configuration: float64 JAX on the CPU, quiet CLI, one XLA thread, no persistent compilation cache."""

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("CI", "1")  # progress bars off in tests
# No persistent compilation cache in the tests: reading NumPyro's NUTS block back from JAX's cache
# crashed the test process (segfault in the executable's deserialisation) in a full run.
os.environ.pop("JAX_COMPILATION_CACHE_DIR", None)
os.environ["STATMECH_ATTN_CACHE"] = "0"
# derivations are cached in a folder of this test session, never in the user's cache
import tempfile  # noqa: E402

os.environ["STATMECH_ATTN_DERIVATION_CACHE"] = tempfile.mkdtemp(prefix="statmech_attn_test_derivations_")

# one XLA thread per test process: small problems run faster and results are bitwise reproducible
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import statmech_attn  # noqa: E402,F401  (switches on jax_enable_x64)


import gc  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_code():
    """Free each module's compiled XLA executables and figures when it ends.

    A full run compiles thousands of executables; each keeps memory mappings of its machine code,
    and without this the process came close to the kernel's map limit (vm.max_map_count) and XLA
    segfaulted while compiling late in the run.
    """
    yield
    import jax
    import matplotlib.pyplot as plt

    plt.close("all")
    jax.clear_caches()
    gc.collect()
    log = os.environ.get("STATMECH_ATTN_TEST_MAPS")
    if log:
        with open("/proc/self/maps") as f, open(log, "a") as out:
            out.write(f"{sum(1 for _ in f)}\n")
