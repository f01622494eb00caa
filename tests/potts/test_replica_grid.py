"""`potts validate` through the grid layer (statmech_attn.compute): one file per (N, α, seed) point,
interrupt + resume, serial vs a 2-worker LocalCluster.

References: an uninterrupted serial run of the same tiny grid (a resumed or distributed run must give
its numbers exactly: same seeds, deterministic fits), and the count of fits each call performs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from statmech_attn.cli import app

runner = CliRunner()

TINY = """
seed = 0
[replica]
colours = 3
colour_matrix = [[1.3333333333333333, -0.6666666666666666, -0.6666666666666666],
                 [-0.6666666666666666, 1.3333333333333333, -0.6666666666666666],
                 [-0.6666666666666666, -0.6666666666666666, 1.3333333333333333]]
ridge = 0.1
alphas = [0.5, 1.0]
cubature_order = 16
[validate]
sizes = [12]
seeds = [0, 1]
n_test = 50
"""


def _points(run: Path) -> list[dict]:
    res = json.loads((run / "result.json").read_text())["result"]
    return [{k: p[k] for k in ("size", "alpha", "mean", "se", "z")} for p in res["points"]]


@pytest.fixture(scope="module")
def serial_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("potts_grid")
    cfg = d / "tiny.toml"
    cfg.write_text(TINY)
    out = d / "serial"
    r = runner.invoke(app, ["potts", "validate", str(cfg), "--out", str(out)])
    assert r.exit_code in (0, 1), r.output
    return cfg, out


@pytest.mark.slow
def test_points_are_files(serial_run):
    _, out = serial_run
    names = sorted(f.name for f in (out / "points").glob("size=*.json"))
    assert names == [f"size=12_alpha={a}_seed={s}.json" for a in ("0.5", "1.0") for s in (0, 1)]
    res = json.loads((out / "result.json").read_text())["result"]
    assert res["grid"] == {"points": 4, "computed": 4, "tasks_run": 4, "scheduler": "serial"}
    # the per-(N, α) means are assembled from the point files
    recs = [json.loads((out / "points" / f"size=12_alpha=1.0_seed={s}.json").read_text())["record"] for s in (0, 1)]
    p = next(p for p in res["points"] if p["alpha"] == 1.0)
    assert p["mean"]["m"] == pytest.approx((recs[0]["m"] + recs[1]["m"]) / 2, rel=1e-15)


@pytest.mark.slow
def test_interrupted_grid_resumes_with_only_the_missing_points(serial_run, tmp_path, monkeypatch):
    from statmech_attn.validation.potts import replica_erm

    cfg, ref = serial_run
    real = replica_erm.erm_point
    calls = []

    def interrupt_third(problem, alpha, N, seed, **kw):
        calls.append((alpha, seed))
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(problem, alpha, N, seed, **kw)

    monkeypatch.setattr(replica_erm, "erm_point", interrupt_third)
    out = tmp_path / "run"
    r = runner.invoke(app, ["potts", "validate", str(cfg), "--out", str(out)])
    assert r.exit_code == 130
    assert len(list((out / "points").glob("size=*.json"))) == 2 and not (out / "result.json").exists()
    assert runner.invoke(app, ["potts", "validate", str(cfg), "--out", str(out)]).exit_code == 2  # needs --resume
    calls.clear()
    monkeypatch.setattr(replica_erm, "erm_point", lambda problem, alpha, N, seed, **kw:
                        calls.append((alpha, seed)) or real(problem, alpha, N, seed, **kw))
    r = runner.invoke(app, ["potts", "validate", str(cfg), "--out", str(out), "--resume"])
    assert r.exit_code in (0, 1), r.output
    assert calls == [(1.0, 0), (1.0, 1)]
    assert json.loads((out / "result.json").read_text())["result"]["grid"]["computed"] == 2
    assert _points(out) == _points(ref)
    # adding a seed extends the grid: only the new seed's points are computed
    calls.clear()
    r = runner.invoke(app, ["potts", "validate", str(cfg), "--out", str(out), "--resume", "--set", "validate.seeds=[0,1,2]"])
    assert r.exit_code in (0, 1), r.output
    assert sorted(calls) == [(0.5, 2), (1.0, 2)]
    # a changed non-grid setting is refused, naming the key
    r = runner.invoke(app, ["potts", "validate", str(cfg), "--out", str(out), "--resume", "--set", "validate.n_test=60"])
    assert r.exit_code == 2 and "validate.n_test" in r.output


@pytest.mark.slow
def test_local_cluster_gives_the_serial_numbers(serial_run, tmp_path):
    """Two dask worker processes (one XLA thread each): the same points as the serial run, bitwise."""
    cfg, ref = serial_run
    out = tmp_path / "dask"
    r = runner.invoke(app, ["potts", "validate", str(cfg), "--out", str(out), "--scheduler", "local:2"])
    assert r.exit_code in (0, 1), r.output
    res = json.loads((out / "result.json").read_text())["result"]
    assert res["grid"]["scheduler"] == "local:2"
    assert _points(out) == _points(ref)
