"""Test configuration: float64 JAX on the CPU, quiet CLI."""

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("CI", "1")  # progress bars off in tests

import statmech_attn  # noqa: E402,F401  (switches on jax_enable_x64)
