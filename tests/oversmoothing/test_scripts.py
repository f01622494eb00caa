"""Smoke tests of the runnable scripts (slow: subprocesses, JIT compile)."""

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("cmd", [
    ["benchmarks/oversmoothing_spectrum.py", "--quick"],
    ["-m", "statmech_attn.validation.oversmoothing.regimes", "--quick"],
    ["-m", "statmech_attn.validation.oversmoothing.train", "--quick"],
])
def test_script_runs(cmd):
    r = subprocess.run([sys.executable, *cmd], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "FAIL" not in r.stdout
