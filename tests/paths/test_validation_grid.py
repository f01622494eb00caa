"""`paths validate` through the grid layer: one file per point, interrupt + resume, serial vs dask.

References: an uninterrupted serial run of the same tiny grid (a resumed or distributed run must
reproduce its numbers exactly: same seeds, one XLA thread everywhere), and the count of points
computed by each call.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from statmech_attn.cli.paths import app

_runner = CliRunner()


def invoke(args: list[str]):
    """Run the CLI in this process and close its figures (the library leaves closing to the caller)."""
    import matplotlib.pyplot as plt

    try:
        return _runner.invoke(app, args)
    finally:
        plt.close("all")


TINY = """
seed = 3
[data.hmm]
n_features = 4
tokens = 4
[model]
readout = "last"
heads = [2, 2]
temperature = 0.1
[validate]
widths = [4]
alphas = [1.0]
seeds = [0, 1]
n_test = 4
sampler = "wishart"
num_chains = 2
num_warmup = 30
num_samples = 30
ess_min = 10
theory_curve_points = 0
[validate.gd]
enabled = false
[validate.langevin]
enabled = false
"""


def _numbers(p: dict) -> dict:
    """A point record without its wall times (the only entries that may differ between runs) and the
    report's own label of the point file (``key``)."""
    if isinstance(p, dict):
        return {k: _numbers(v) for k, v in p.items() if k not in ("seconds", "theory_seconds", "key")}
    if isinstance(p, list):
        return [_numbers(v) for v in p]
    return p


def _points(run: Path) -> list[dict]:
    return [_numbers(p) for p in json.loads((run / "report.json").read_text())["points"]]


@pytest.fixture(scope="module")
def serial_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("grid")
    cfg = d / "tiny.toml"
    cfg.write_text(TINY)
    out = d / "serial"
    res = invoke(["validate", str(cfg), "--out", str(out)])
    assert res.exit_code in (0, 1), res.output
    return cfg, out


@pytest.mark.slow
def test_points_are_files_and_the_report_is_assembled_from_them(serial_run):
    cfg, out = serial_run
    names = sorted(f.name for f in (out / "points").glob("alpha=*.json"))
    assert names == ["alpha=1.0_width=4_seed=0.json", "alpha=1.0_width=4_seed=1.json"]
    report = json.loads((out / "report.json").read_text())
    assert report["grid"]["computed"] == 2 and report["grid"]["scheduler"] == "serial"
    for p in report["points"]:
        f = out / "points" / f"alpha=1.0_width=4_seed={p['seed']}.json"
        assert _numbers(json.loads(f.read_text())["record"]) == _numbers(p)
    # two seeds: independent repetitions (different draws), one N-scaling entry per (alpha, seed)
    a, b = report["points"]
    assert a["comparisons"]["f_mean"]["simulation"] != b["comparisons"]["f_mean"]["simulation"]
    assert [(s["alpha"], s["seed"]) for s in report["n_scaling"]] == [(1.0, 0), (1.0, 1)]


@pytest.mark.slow
def test_interrupted_grid_resumes_with_only_the_missing_points(serial_run, tmp_path, monkeypatch):
    from statmech_attn.validation.paths import compare

    cfg, ref = serial_run
    real = compare.validate_point
    calls = []

    def interrupt_second(*args, **kwargs):
        calls.append(kwargs["width"])
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(compare, "validate_point", interrupt_second)
    out = tmp_path / "run"
    res = invoke(["validate", str(cfg), "--out", str(out)])
    assert res.exit_code == 130
    assert len(list((out / "points").glob("alpha=*.json"))) == 1 and not (out / "result.json").exists()
    # a second run without --resume is refused; with --resume only the missing point is computed
    assert invoke(["validate", str(cfg), "--out", str(out)]).exit_code == 2
    calls.clear()
    monkeypatch.setattr(compare, "validate_point", lambda *a, **k: calls.append(k["width"]) or real(*a, **k))
    res = invoke(["validate", str(cfg), "--out", str(out), "--resume"])
    assert res.exit_code in (0, 1), res.output
    assert calls == [4]
    assert json.loads((out / "report.json").read_text())["grid"]["computed"] == 1
    assert _points(out) == _points(ref)
    # a changed non-grid setting is refused on resume, naming the key
    res = invoke(["validate", str(cfg), "--out", str(out), "--resume", "--set", "validate.num_samples=40"])
    assert res.exit_code == 2 and "validate.num_samples" in res.output


@pytest.mark.slow
def test_local_cluster_gives_the_serial_numbers(serial_run, tmp_path):
    """Two dask worker processes (one XLA thread each, as this test process): bitwise the serial points."""
    cfg, ref = serial_run
    out = tmp_path / "dask"
    res = invoke(["validate", str(cfg), "--out", str(out), "--scheduler", "local:2"])
    assert res.exit_code in (0, 1), res.output
    report = json.loads((out / "report.json").read_text())
    assert report["grid"]["scheduler"] == "local:2"
    assert _points(out) == _points(ref)


def test_a_failing_point_is_recorded_and_the_grid_goes_on(monkeypatch):
    """A point whose task raises is recorded (error text, not used, not passed); the others and the
    report are still produced, and the verdict is 'not passed'."""
    from statmech_attn import paths
    from statmech_attn.validation.paths import compare
    from statmech_attn.paths._validate_spec import GDConfig, LangevinConfig, ValidateConfig
    from statmech_attn.validation.paths.plots import figures_from_report

    real = compare.validate_point

    def fail_at_six(model, data, vcfg, seed, *, alpha, width, **_):
        if width == 6:
            raise RuntimeError("boom")
        return {"alpha": alpha, "width": width, "used": False, "passed": False, "comparisons": {},
                "mixing": {"mixed": False}, "theory": {"converged": True}}

    monkeypatch.setattr(compare, "validate_point", fail_at_six)
    base = paths.PathsModel(heads=(2, 2), readout="last", temperature=0.1, widths=(4.0, 4.0), width_readout=4.0)
    v = ValidateConfig(widths=(4, 6), n_test=4, theory_curve_points=0, gd=GDConfig(enabled=False),
                       langevin=LangevinConfig(enabled=False))
    rep = compare.validate(base, lambda P, n: paths.hmm_task(paths.HMMTask(n_features=4, tokens=4, n_train=P, n_test=n)),
                           v, seed=0)
    bad = [p for p in rep["points"] if p["width"] == 6]
    assert len(bad) == 1 and "RuntimeError: boom" in bad[0]["error"] and not bad[0]["passed"]
    assert rep["grid"]["failed"] == ["alpha=1.0_width=6_seed=0"] and not rep["summary"]["passed"]
    assert figures_from_report(rep) == [] and real is not compare.validate_point
