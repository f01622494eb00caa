"""`paths sweep` through the grid layer: resume, extend, refuse a changed config, serial vs dask.

References: the saddle points of an uninterrupted run (a resumed grid must reproduce them) and of
one continuation over the whole grid by the library's ``paths.sweep`` (the chunked grid must agree
to solver tolerance).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "paths_small.toml"
runner = CliRunner()


def paths_app() -> typer.Typer:
    from statmech_attn.cli.paths import app as paths

    app = typer.Typer()
    app.add_typer(paths, name="paths")
    return app


def points_of(run: Path) -> list[dict]:
    return json.loads((run / "result.json").read_text())["result"]["points"]


def flat_u(p: dict) -> np.ndarray:
    return np.concatenate([np.ravel(u) for u in p["order_parameters"]])


def test_paths_sweep_resume_extend_and_changed_config(tmp_path):
    from statmech_attn import paths
    from statmech_attn.config import load_config
    from statmech_attn.paths.verbs import load_problem
    from statmech_attn.paths.spec import PathsSpec

    app = paths_app()
    out = tmp_path / "run"
    base = ["paths", "sweep", str(EXAMPLE), "--out", str(out), "--set", "compute.chunk=2"]
    r = runner.invoke(app, base + ["--alphas", "0.5,1,2"])
    assert r.exit_code == 0, r.output
    assert sorted(f.name for f in (out / "points").glob("alpha=*.json")) == [
        "alpha=0.5.json", "alpha=1.0.json", "alpha=2.0.json"]
    # extend the grid: only the new point is computed, the old files are untouched
    before = {f.name: f.stat().st_mtime_ns for f in (out / "points").glob("alpha=*.json")}
    r = runner.invoke(app, base + ["--alphas", "0.5,1,2,3", "--resume"])
    assert r.exit_code == 0, r.output
    after = {f.name: f.stat().st_mtime_ns for f in (out / "points").glob("alpha=*.json")}
    assert set(after) - set(before) == {"alpha=3.0.json"}
    assert all(after[k] == before[k] for k in before)
    pts = points_of(out)
    assert [p["result"] for p in pts] == ["converged"] * 4
    # agrees with one continuation over the whole grid by the library (a different chunking)
    cfg = load_config(EXAMPLE, PathsSpec)
    problem, _ = load_problem(cfg)
    ref = paths.sweep(problem, [0.5, 1.0, 2.0, 3.0], tol=cfg.solver.tol, max_steps=cfg.solver.max_steps)
    for p, s in zip(pts, ref):
        u_ref = np.concatenate([np.ravel(u) for u in s.value.U])
        # both stop at residual ≤ tol, so they agree to about 2 tol / λ_min (λ_min: the Hessian's smallest eigenvalue)
        bound = 2 * cfg.solver.tol / s.stats["min_hessian_eigenvalue"]
        np.testing.assert_allclose(flat_u(p), u_ref, rtol=0, atol=2 * bound)
        assert abs(p["action"] - s.action) < 1e-8
    # a changed non-grid setting is refused: exit 2, one line naming the key
    r = runner.invoke(app, base + ["--alphas", "0.5,1,2,3,4", "--resume", "--set", "model.temperature=0.1"])
    assert r.exit_code == 2
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: model.temperature")
    assert not (out / "points" / "alpha=4.0.json").exists()
    # [compute] settings may change between runs; a complete grid computes nothing
    r = runner.invoke(app, base + ["--alphas", "0.5,1,2,3", "--resume", "--set", "compute.chunk=3"])
    assert r.exit_code == 0, r.output
    assert [p["action"] for p in points_of(out)] == [p["action"] for p in pts]


@pytest.mark.slow
def test_paths_sweep_local_cluster_matches_serial(tmp_path):
    """Two dask workers vs the serial path: equal to solver tolerance (bitwise when the serial process runs
    XLA on one thread as the workers do; the default multi-threaded XLA reduces in another order)."""
    app = paths_app()
    args = ["paths", "sweep", str(EXAMPLE), "--alphas", "0.5,1,1.5,2,3", "--set", "compute.chunk=2", "--out"]
    assert runner.invoke(app, args + [str(tmp_path / "s")]).exit_code == 0
    r = runner.invoke(app, args + [str(tmp_path / "d"), "--scheduler", "local:2"])
    assert r.exit_code == 0, r.output
    for p, q in zip(points_of(tmp_path / "s"), points_of(tmp_path / "d")):
        assert p["result"] == q["result"] == "converged"
        np.testing.assert_allclose(flat_u(p), flat_u(q), rtol=1e-8, atol=1e-9)
        assert abs(p["action"] - q["action"]) < 1e-9
