"""``statmech-attn potts replica|validate|plot`` and ``derive potts``: outputs and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from statmech_attn.cli import app
from statmech_attn.potts.replica import POINT_KEYS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def test_replica_run_and_plot(tmp_path):
    out = tmp_path / "rep"
    r = run("potts", "replica", str(EXAMPLES / "potts_replica.toml"), "--alphas", "0.5,1", "--out", str(out))
    assert r.exit_code == 0, r.output
    res = json.loads((out / "result.json").read_text())["result"]
    assert set(res) >= {"colour_covariance", "teacher_norm", "ridge", "points"}
    assert [p["alpha"] for p in res["points"]] == [0.5, 1.0]
    for p in res["points"]:
        assert set(p) == set(POINT_KEYS) and p["converged"] and p["residual"] <= 1e-10
    assert max(res["cubature"]["relative_change_1p5n"]) < 1e-4
    r = run("potts", "plot", str(out))
    assert r.exit_code == 0 and (out / "replica.png").is_file()


def _config(tmp_path: Path, replica: str, validate: str = "") -> Path:
    p = tmp_path / "c.toml"
    p.write_text(f"seed = 0\n[replica]\n{replica}\n" + (f"[validate]\n{validate}\n" if validate else ""))
    return p


# Σ = (4/3)I − (4/9)11ᵀ (rank 2, as in check 5)
GOOD = ('colours = 3\ncolour_covariance = [[0.8888888888888888, -0.4444444444444444, -0.4444444444444444], '
        '[-0.4444444444444444, 0.8888888888888888, -0.4444444444444444], '
        '[-0.4444444444444444, -0.4444444444444444, 0.8888888888888888]]\n')


@pytest.mark.parametrize("replica, extra, param", [
    (GOOD + "alphas = [1.0, 0.0]", [], "replica.alphas"),
    (GOOD, ["--alphas", "-1"], "--alphas"),
    (GOOD, ["--set", "replica.ridge=-0.1"], "replica.ridge"),
    (GOOD + "ridge = 0.0", [], "replica.ridge"),
    ('colours = 2\ncolour_covariance = [[1.0, 2.0], [2.0, 1.0]]', [], "replica.colour_covariance"),
    ('colours = 1\ncolour_covariance = [[1.0]]', [], "replica.colours"),
])
def test_bad_input_exits_2(tmp_path, replica, extra, param):
    r = run("potts", "replica", str(_config(tmp_path, replica)), *extra)
    assert r.exit_code == 2, r.output
    lines = [ln for ln in r.output.strip().splitlines() if ln]
    assert len(lines) == 1 and param in lines[0] and "Traceback" not in r.output


@pytest.mark.slow
def test_validate_small(tmp_path):
    cfg = _config(tmp_path, GOOD + "alphas = [1.0]\ncubature_order = 24",
                  'sizes = [40, 80]\nseeds = [0, 1, 2, 3]\nn_test = 500')
    out = tmp_path / "val"
    r = run("potts", "validate", str(cfg), "--out", str(out))
    res = json.loads((out / "result.json").read_text())["result"]
    assert r.exit_code == (0 if res["passed"] else 1)
    assert {p["size"] for p in res["points"]} == {40, 80}
    p = res["points"][0]
    assert set(p["z"]) == {"m", "q", "test_ce", "kl", "eps_w"} and set(p["mean"]) >= set(p["z"])
    assert res["agreement"][0]["size"] == 80 and "gap_exponent" in res
    r = run("potts", "plot", str(out))
    assert r.exit_code == 0 and (out / "validate.png").is_file()


def test_derive_potts_c2(tmp_path, monkeypatch):
    monkeypatch.setenv("STATMECH_ATTN_DERIVATION_CACHE", str(tmp_path / "cache"))
    tex = tmp_path / "potts.tex"
    r = run("derive", "potts", "--colours", "2", "--latex", str(tex))
    assert r.exit_code == 0, r.output
    assert "c2_reduces_to_logistic_regression: 8/8 passed" in r.output
    assert r"\begin{equation}" in tex.read_text()
    r = run("derive", "potts", "--colours", "1")
    assert r.exit_code == 2


@pytest.mark.parametrize("name, target", [("potts_replica.toml", "replica"), ("potts_replica_validate.toml", "replica"),
                                          ("potts_replica_train.toml", "train")])
def test_examples_are_valid_configs(name, target):
    from statmech_attn.config import load_config
    from statmech_attn.potts.verbs import setting_from_config
    from statmech_attn.potts.spec import PottsSpec

    cfg = load_config(EXAMPLES / name, PottsSpec)
    assert cfg.replica is not None and cfg.validate.target == target
    assert setting_from_config(cfg.replica).rank == 2
