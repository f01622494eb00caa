"""`paths validate --quick` smoke test, `paths plot` from the saved run, bad input, plot functions."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from statmech_attn.cli.paths import app

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "paths_validate.toml"
runner = CliRunner()


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("vp") / "run"
    res = runner.invoke(app, ["validate", str(EXAMPLE), "--out", str(out), "--quick"])
    return out, res


@pytest.mark.slow
def test_quick_validate_writes_a_complete_report(quick_run):
    out, res = quick_run
    report = json.loads((out / "report.json").read_text())
    record = json.loads((out / "result.json").read_text())
    assert record["verb"] == "validate" and record["result"]["summary"] == report["summary"]
    # --quick checks the machinery, not the agreement: exit 0 when it ran, whatever the verdict
    assert res.exit_code == 0, res.output
    assert report["quick_note"] == "machinery ok — not a validation"
    assert "machinery ok — not a validation" in res.stderr
    assert report["quick"] is True and [p["width"] for p in report["points"]] == [8, 16]
    for p in report["points"]:
        assert p["theory"]["converged"]
        assert set(p["comparisons"]) == {"U1", "U2", "U_a", "f_mean", "f_var", "test_error"}
        for c in p["comparisons"].values():
            assert np.all(np.asarray(c["se"]) > 0) and c["tolerance_sigmas"] == 3.0
            # the verdict is the stated rule applied to the stored numbers
            diff = np.abs(np.asarray(c["simulation"]) - np.asarray(c["theory"]))
            assert c["passed"] == bool(np.all(diff <= 3.0 * np.asarray(c["se"]) + c["allowance"]))
        mix = p["mixing"]
        assert mix["mixed"] == (mix["max_rhat"] <= 1.01 and mix["min_ess"] >= 200)
        assert p["nuts"]["divergences"] >= 0 and "gd" in p
        # Langevin (quick: at N = 8 only) with its settings, statistics and the comparison with NUTS
        assert ("langevin" in p) == (p["width"] <= 8)
        if "langevin" in p:
            lg = p["langevin"]
            assert lg["eta"] == pytest.approx(lg["step_size"] / p["n_train"])
            assert lg["draws_per_chain"] == (lg["num_steps"] - lg["burn_in"]) // lg["thin"]
            assert set(lg["comparisons"]) == set(p["comparisons"]) and set(lg["vs_nuts"]["max_z"]) == set(p["comparisons"])
    assert len(report["n_scaling"]) == 1 and report["grid"]["computed"] == 2
    assert sorted(f.name for f in (out / "points").glob("*.json")) == [
        "_grid.json", "alpha=1.0_width=16_seed=0.json", "alpha=1.0_width=8_seed=0.json"]
    assert (out / "predictor_alpha1_N16.png").stat().st_size > 0


@pytest.mark.slow
def test_plot_from_saved_run_without_recomputation(quick_run, tmp_path):
    out, _ = quick_run
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    for f in copy.glob("*.p*"):
        f.unlink()
    res = runner.invoke(app, ["plot", str(copy)])
    assert res.exit_code == 0, res.output
    from matplotlib.image import imread

    img = imread(copy / "order_parameters_alpha1_N8.png")
    assert img.shape[0] > 100 and img.shape[1] > 100 and np.std(img) > 0
    assert (copy / "test_error_vs_alpha.pdf").stat().st_size > 0


@pytest.mark.slow
def test_plot_functions_label_their_axes(quick_run):
    import matplotlib

    matplotlib.use("Agg")
    from statmech_attn.validation.paths import plots

    out, _ = quick_run
    report = json.loads((out / "report.json").read_text())
    c = report["points"][-1]["comparisons"]
    fig, ax = plots.plot_order_parameters(np.asarray(c["U1"]["theory"]), np.asarray(c["U1"]["simulation"]), np.asarray(c["U1"]["se"]))
    assert [a.get_xlabel() for a in ax] == ["path π′"] * 3 and ax[0].get_title() == "theory $U_1$"
    fig, ax = plots.plot_predictor(c["f_mean"]["theory"], c["f_mean"]["simulation"], c["f_mean"]["se"],
                                   c["f_var"]["theory"], c["f_var"]["simulation"], c["f_var"]["se"])
    assert ax[0].get_xlabel() == "theory ⟨f*⟩ (a.u.)" and ax[1].get_ylabel() == "simulation (a.u.)"
    fig, ax = plots.plot_test_error_vs_alpha(np.array([0.5, 1, 2]), np.array([1.2, 1.0, 0.8]), np.array([1.0]),
                                             np.array([1.05]), np.array([0.02]))
    assert ax.get_xlabel() == "α = P/N" and ax.get_ylabel() == "test error ε_g (a.u.)"
    fig, ax = plots.plot_discrepancy_vs_inverse_width([8, 16, 32], {"f_mean": np.array([0.2, 0.1, 0.05])},
                                                      fit={"c0": 0.0, "c1": 1.6})
    assert ax.get_xlabel() == "inverse width 1/N" and ax.get_ylabel().startswith("relative discrepancy")
    assert len(ax.get_lines()) == 2

    # every figure of the report: each panel labelled, every colour bar labelled
    figs = plots.figures_from_report(report)
    assert figs
    for fig, stem in figs:
        for a in fig.axes:
            if a.get_label() == "<colorbar>":
                assert a.get_xlabel() or a.get_ylabel(), f"{stem}: unlabelled colour bar"
            else:
                assert a.get_xlabel() and a.get_ylabel(), f"{stem}: {a.get_title()}"
    # the order parameters: U_1, U_2 and U_a, paths named by head sequence, one scale for theory and simulation
    fig, ax = plots.plot_order_parameter_comparison(c)
    assert [a.get_title() for a in ax[:, 0]] == ["theory $U_{1}$", "theory $U_{2}$", "theory $U_a$"]
    assert [t.get_text() for t in ax[0, 0].get_yticklabels()] == ["h1→h1", "h1→h2", "h2→h1", "h2→h2"]
    assert [t.get_text() for t in ax[1, 1].get_xticklabels()] == ["h1", "h2"]
    assert len({a.images[0].get_clim() for a in ax[:, :2].ravel()}) == 1
    assert sorted(a.get_xlabel() for a in fig.axes if a.get_label() == "<colorbar>") == [
        "$U_\\ell$, $U_a$ entry (a.u.)", "z = (sim. − theory) / SE"]
    from statmech_attn._style import style_context

    with style_context("paper"):
        fig, _ = plots.plot_predictor(c["f_mean"]["theory"], c["f_mean"]["simulation"], c["f_mean"]["se"],
                                      c["f_var"]["theory"], c["f_var"]["simulation"], c["f_var"]["se"])
        assert abs(fig.get_figwidth() - 3.4) < 1e-9  # one journal column, the style's fonts
        assert fig.axes[0].xaxis.label.get_fontsize() == 8
    import matplotlib.pyplot as plt

    plt.close("all")


def test_bad_validate_key_exits_2_with_one_line(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(EXAMPLE.read_text().replace("ess_min = 200", "ess_min = -1"))
    res = runner.invoke(app, ["validate", str(cfg), "--quick"])
    assert res.exit_code == 2
    assert "validate.ess_min" in res.output and "Traceback" not in res.output


def test_bad_scheduler_exits_2_with_one_line():
    res = runner.invoke(app, ["validate", str(EXAMPLE), "--quick", "--scheduler", "lokal:2"])
    assert res.exit_code == 2
    assert "--scheduler" in res.output and "Traceback" not in res.output


def test_plot_of_a_non_run_directory_exits_2(tmp_path):
    res = runner.invoke(app, ["plot", str(tmp_path)])
    assert res.exit_code == 2 and "result.json" in res.output
