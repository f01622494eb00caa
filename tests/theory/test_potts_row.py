"""potts_row.py (the Potts §7 replica theory through statmech_attn.theory) against the potts solver."""

from __future__ import annotations

import json
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import statmech_attn.potts as potts
from statmech_attn.theory import sweep

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "theories" / "potts_row.py"
KEYS = ("m", "q", "V", "m_hat", "q_hat", "V_hat")
OBS = ("test_ce", "kl", "cond_entropy", "eps_w", "cosine", "train_loss")


def _config(tmp_path: Path, U: list, n: int, rho: float = 1.0, lam: float = 0.1) -> Path:
    f = tmp_path / "replica.toml"
    f.write_text(f"[replica]\ncolour_matrix = {json.dumps(U)}\nteacher_norm = {rho}\nridge = {lam}\n"
                 f"cubature_order = {n}\n")
    return f


def _compare(theory, U, alphas, n, rho=1.0, lam=0.1):
    mine = sweep(theory, "alpha", alphas, tol=1e-13, stability=False)
    setting = potts.ReplicaSetting.from_colour_matrix(np.asarray(U, float), teacher_norm=rho, ridge=lam,
                                                      cubature_order=n)
    ref = potts.replica_curve(setting, alphas, cubature_check=False, tol=1e-13)  # both well converged
    worst = 0.0
    for s, r in zip(mine, ref):
        assert s.converged and r["converged"]
        worst = max(worst, max(abs(s.value[k] - r[k]) for k in KEYS),
                    max(abs(s.stats["observables"][k] - r[k]) for k in OBS), abs(s.action - r["free_energy"]))
    return worst


def test_potts_row_equals_potts_replica_two_colours(tmp_path):
    """C = 2 (rank-one Σ, §7.8): the same discrete equations, so the same numbers to 1e-10."""
    U = [[1.0, -1.0], [-1.0, 1.0]]
    th = runpy.run_path(str(EXAMPLE))["make_theory"](_config(tmp_path, U, 16))
    assert _compare(th, U, np.geomspace(0.1, 10, 8), 16) < 1e-10


@pytest.mark.slow
def test_potts_row_equals_potts_replica_cli_setting():
    """The setting of examples/potts_replica.toml (C = 3, n = 24), 30 α as in that config."""
    th = runpy.run_path(str(EXAMPLE))["theory"]
    import tomllib

    rep = tomllib.loads((ROOT / "examples" / "potts_replica.toml").read_text())["replica"]
    alphas = np.geomspace(rep["alpha_min"], rep["alpha_max"], rep["n_alphas"])
    assert _compare(th, rep["colour_matrix"], alphas, rep["cubature_order"], rep["teacher_norm"], rep["ridge"]) < 1e-10


@pytest.mark.slow
def test_potts_row_cli_sweep_equals_potts_replica_cli(tmp_path):
    """`statmech-attn theory sweep potts_row.py` vs `statmech-attn potts replica --json` (C = 3, n = 24)."""
    exe = [sys.executable, "-m", "statmech_attn.cli"]
    ref = json.loads(subprocess.run(exe + ["potts", "replica", str(ROOT / "examples" / "potts_replica.toml"), "--json",
                                           "--set", "replica.tol=1e-13"],
                                    capture_output=True, text=True, check=True).stdout)["result"]["points"]
    alphas = ",".join(repr(p["alpha"]) for p in ref)
    mine = json.loads(subprocess.run(exe + ["theory", "sweep", str(EXAMPLE), "--over", "alpha", "--values", alphas,
                                            "--set", "tol=1e-13", "--json"],
                                     capture_output=True, text=True, check=True).stdout)["result"]["points"]
    for a, b in zip(mine, ref):
        assert max(abs(a[k] - b[k]) for k in KEYS + OBS + ("free_energy",)) < 1e-10
