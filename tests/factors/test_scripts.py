"""Smoke tests of the benchmark and validation scripts (slow: subprocesses, JIT compile)."""

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("cmd", [
    ["benchmarks/factors_fista.py", "--quick"],
    ["-m", "statmech_attn.validation.factors.planted", "--quick"],
])
def test_script_runs(cmd):
    r = subprocess.run([sys.executable, *cmd], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
