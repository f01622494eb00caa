"""The `statmech-attn paths` command line: outputs, exit codes, bad input."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from statmech_attn.cli import app
from tests.problems import random_data

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "paths_small.toml"
runner = CliRunner()


def _all_finite(obj) -> bool:
    if isinstance(obj, float):
        return math.isfinite(obj)
    if isinstance(obj, dict):
        return all(_all_finite(v) for v in obj.values())
    if isinstance(obj, list):
        return all(_all_finite(v) for v in obj)
    return True


def test_solve_writes_run_directory(tmp_path):
    out = tmp_path / "run"
    r = runner.invoke(app, ["paths", "solve", str(EXAMPLE), "--out", str(out)])
    assert r.exit_code == 0, r.output
    rec = json.loads((out / "result.json").read_text())
    for key in ("statmech_attn_version", "theory", "verb", "created", "seed", "config", "result"):
        assert key in rec
    res = rec["result"]
    for key in ("converged", "result", "action", "residual", "iterations", "min_hessian_eigenvalue", "U_a",
                "order_parameters", "predictor_mean", "predictor_variance", "test_error", "alignment", "head_scores"):
        assert key in res, key
    assert res["converged"] and res["residual"] <= 1e-10
    assert len(res["order_parameters"]) == 2 and np.asarray(res["order_parameters"][0]).shape == (4, 4)
    assert len(res["predictor_mean"]) == 40
    assert _all_finite(rec)
    assert (out / "config.toml").is_file()
    # the resolved config reproduces the run
    r2 = runner.invoke(app, ["paths", "solve", str(out / "config.toml"), "--json"])
    assert r2.exit_code == 0, r2.output
    assert json.loads(r2.output)["result"]["action"] == pytest.approx(res["action"], rel=1e-12)
    # a non-empty --out is refused without --force
    r3 = runner.invoke(app, ["paths", "solve", str(EXAMPLE), "--out", str(out)])
    assert r3.exit_code == 2
    assert runner.invoke(app, ["paths", "solve", str(EXAMPLE), "--out", str(out), "--force"]).exit_code == 0


def test_sweep_and_gp(tmp_path):
    r = runner.invoke(app, ["paths", "sweep", str(EXAMPLE), "--alphas", "0.5,1,2", "--json"])
    assert r.exit_code == 0, r.output
    pts = json.loads(r.output)["result"]["points"]
    assert [p["alpha"] for p in pts] == pytest.approx([0.5, 1.0, 2.0])
    assert all(p["converged"] for p in pts)
    r = runner.invoke(app, ["paths", "gp", str(EXAMPLE), "--json"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.output)["result"]
    np.testing.assert_allclose(res["order_parameters"][0], np.eye(4))


def test_nonconvergence_exits_1(tmp_path):
    out = tmp_path / "run"
    r = runner.invoke(app, ["paths", "solve", str(EXAMPLE), "--set", "solver.max_steps=1", "--out", str(out)])
    assert r.exit_code == 1
    rec = json.loads((out / "result.json").read_text())
    assert rec["result"]["result"] == "max_steps" and rec["result"]["converged"] is False
    assert "NaN" not in (out / "result.json").read_text()


@pytest.mark.parametrize(
    "override, param",
    [
        ("model.sigma2_layers=[-1.0, 1.0]", "model.sigma2_layers"),
        ("model.widths=[-5, 10]", "model.widths"),
        ("model.temperature=0", "model.temperature"),
        ("model.temperature=-1", "model.temperature"),
        ("model.width_readout=0", "model.width_readout"),
        ("model.heads=[3, 2]", "model.heads"),
        ("model.readout='middle'", "model.readout"),
        ("model.colour=1", "model.colour"),
        ("solver.method='bfgs'", "solver.method"),
        ("solver.tol=-1", "solver.tol"),
    ],
)
def test_bad_config_exits_2_naming_parameter(override, param):
    r = runner.invoke(app, ["paths", "solve", str(EXAMPLE), "--set", override])
    assert r.exit_code == 2, r.output
    lines = [ln for ln in r.stderr.strip().splitlines() if ln]
    assert len(lines) == 1 and param in lines[0] and "Traceback" not in r.output


def test_bad_alphas_and_files(tmp_path):
    r = runner.invoke(app, ["paths", "sweep", str(EXAMPLE), "--alphas", "0,1"])
    assert r.exit_code == 2 and "--alphas" in r.stderr
    r = runner.invoke(app, ["paths", "sweep", str(EXAMPLE), "--set", "sweep.alphas=[-1.0]"])
    assert r.exit_code == 2 and "sweep.alphas" in r.stderr
    r = runner.invoke(app, ["paths", "solve", str(tmp_path / "missing.toml")])
    assert r.exit_code == 2 and "config" in r.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text("[model\nheads = 2")
    r = runner.invoke(app, ["paths", "solve", str(bad)])
    assert r.exit_code == 2 and "TOML" in r.stderr


def _write_npz_config(tmp_path, arrays, extra=""):
    np.savez(tmp_path / "data.npz", **arrays)
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[data]\nnpz = "data.npz"\n[model]\nreadout = "mean"\nwidths = [20, 20]\nwidth_readout = 20\n{extra}')
    return cfg


def test_external_npz_data(tmp_path):
    data = random_data(heads=(2, 3), p=12, s=4, n0=5)
    arrays = data.arrays()
    cfg = _write_npz_config(tmp_path, arrays)
    r = runner.invoke(app, ["paths", "solve", str(cfg), "--json"])
    assert r.exit_code == 0, r.stderr
    res = json.loads(r.output)["result"]
    assert np.asarray(res["order_parameters"][0]).shape == (6, 6)
    assert res["evaluated_on"] == "test"


@pytest.mark.parametrize(
    "mutate, param",
    [
        (lambda a: a.update(x=a["x"][:, :, :, None]), "data.x"),
        (lambda a: a.update(y=a["y"][:-1]), "data.y"),
        (lambda a: a["x"].__setitem__((0, 0, 0), np.nan), "data.x"),
        (lambda a: a["attention_1"].__setitem__((0, 0, 0, 0), np.inf), "attention_1"),
        (lambda a: a.update(attention_1=a["attention_1"] * 2), "attention_1"),
        (lambda a: a.pop("y"), "data.npz"),
    ],
)
def test_bad_npz_exits_2(tmp_path, mutate, param):
    arrays = random_data(heads=(2, 2), p=10, s=4, n0=5).arrays()
    mutate(arrays)
    cfg = _write_npz_config(tmp_path, arrays)
    r = runner.invoke(app, ["paths", "solve", str(cfg)])
    assert r.exit_code == 2, r.output
    assert param in r.stderr and "Traceback" not in r.output


def test_console_script_entry_point():
    r = subprocess.run([sys.executable, "-m", "statmech_attn.cli", "paths", "solve", str(EXAMPLE), "--set",
                        "model.temperature=-1"], capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "model.temperature" in r.stderr


def test_plot_solve_and_sweep_runs(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from statmech_attn.paths.plots import plot_sweep

    for verb, extra in (("solve", []), ("sweep", ["--alphas", "0.5,1,2"])):
        out = tmp_path / verb
        assert runner.invoke(app, ["paths", verb, str(EXAMPLE), "--out", str(out), *extra]).exit_code == 0
        r = runner.invoke(app, ["paths", "plot", str(out)])
        assert r.exit_code == 0, r.output
        png = next(out.glob("*.png"))
        assert png.stat().st_size > 1000
    rec = json.loads((tmp_path / "sweep" / "result.json").read_text())
    fig, axes = plot_sweep(rec["result"]["points"])
    assert axes[0].get_xlabel() == "α = P / N" and "accuracy" in axes[1].get_ylabel()
    assert (tmp_path / "solve" / "head_scores.png").is_file()

    # paper-grade: every panel labelled, paths named by their head sequence, one labelled colour bar
    from statmech_attn._style import style_context
    from statmech_attn.paths.plots import path_names, plot_order_parameters, solve_figures

    assert path_names((2, 2)) == ["h1→h1", "h1→h2", "h2→h1", "h2→h2"] and path_names((2, 2), 2) == ["h1", "h2"]
    solve = json.loads((tmp_path / "solve" / "result.json").read_text())
    for fig, _ in solve_figures(solve, {}) + [(fig, "sweep")]:
        for ax in fig.axes:
            if ax.get_label() == "<colorbar>":
                assert ax.get_ylabel(), "unlabelled colour bar"
            else:
                assert ax.get_xlabel() and ax.get_ylabel(), ax.get_title()
    fig, axes = plot_order_parameters(solve["result"])
    assert [a.get_title() for a in axes] == ["$U_{1}$", "$U_{2}$", "$U_a$"]  # U_1 … U_L and U_a
    assert [t.get_text() for t in axes[0].get_xticklabels()] == ["h1→h1", "h1→h2", "h2→h1", "h2→h2"]
    assert [t.get_text() for t in axes[1].get_yticklabels()] == ["h1", "h2"]
    assert list(axes[0].get_xticks()) == [0, 1, 2, 3]
    assert len({a.images[0].get_clim() for a in axes}) == 1  # one colour scale
    assert [a.get_ylabel() for a in fig.axes if a.get_label() == "<colorbar>"] == ["$U_\\ell$, $U_a$ entry (a.u.)"]
    with style_context("paper"):
        fig, _ = plot_order_parameters(solve["result"])
        assert abs(fig.get_figwidth() - 3.4) < 1e-9  # one journal column
