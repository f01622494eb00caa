"""Smoke test of the validation script (slow: subprocess, JIT compile)."""

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def test_expansion_script_runs():
    r = subprocess.run([sys.executable, "-m", "statmech_attn.validation.energy.expansion", "--quick"], capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    first = r.stdout.splitlines()[0].split()
    assert first[0] == "shrink_fraction_centred" and float(first[1]) == 0.0
