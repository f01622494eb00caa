"""`statmech-attn oversmoothing analyse|plot`: run directory, result keys, exit codes."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from statmech_attn.cli import app

runner = CliRunner()


def _write(tmp_path, body):
    p = tmp_path / "c.toml"
    p.write_text(body)
    return p


def test_analyse_example_and_plot(tmp_path):
    out = tmp_path / "run"
    r = runner.invoke(app, ["oversmoothing", "analyse", "examples/oversmoothing.toml", "--out", str(out)])
    assert r.exit_code == 0, r.output
    res = json.loads((out / "result.json").read_text())["result"]
    # A = 0.4 I + 0.15·11ᵀ: λ(A) = 1, 0.4;  spec(H) = {0.5, −0.8, 0.3}
    assert res["regime"] == "smoothing"
    assert res["dominant_growth_factor"] == pytest.approx(1.5)
    assert res["spectral_gap"] == pytest.approx(1.5 - 1.3)  # next: 1 + 1·0.3
    th, sim = res["hfc_lfc_ratio"]["theory"], res["hfc_lfc_ratio"]["simulation"]
    assert len(th) == len(sim) == 31
    # the ratio decays asymptotically by max(1 + 0.4·0.5, 1 − 0.4·(−0.8)·... ) / 1.5 per layer
    q = max(abs(1 + 0.4 * lam) for lam in (0.5, -0.8, 0.3)) / 1.5
    assert th[-1] / th[-2] == pytest.approx(q, rel=1e-3)
    np.testing.assert_allclose(th, sim, rtol=1e-9)
    r = runner.invoke(app, ["oversmoothing", "plot", str(out)])
    assert r.exit_code == 0, r.output
    assert (out / "hfc_lfc.png").is_file() and (out / "growth_plane.png").is_file()


def test_json_and_set(tmp_path):
    r = runner.invoke(app, ["oversmoothing", "analyse", "examples/oversmoothing_sharpen.toml", "--json",
                            "--set", "oversmoothing.depth=5"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)["result"]
    assert res["regime"] == "sharpening" and len(res["hfc_lfc_ratio"]["theory"]) == 6


@pytest.mark.parametrize("body, param", [
    ("[oversmoothing]\nvalue_projection = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]\n", "oversmoothing.value_projection"),
    ("[oversmoothing]\nattention = [[0.5, 0.6], [0.5, 0.5]]\n", "oversmoothing.attention"),
    ("[oversmoothing]\nattention = [[0.5, nan], [0.5, 0.5]]\n", "oversmoothing.attention"),
    ("[oversmoothing]\ndepth = -1\n", "oversmoothing.depth"),
    ("[oversmoothing]\ntokens = [[1.0, 2.0, 3.0]]\n", "oversmoothing.tokens"),
    ("[oversmoothing]\nln_gain = [1.0, 2.0, 3.0]\n", "oversmoothing.ln_gain"),
    ("[oversmoothing]\nwidth = 3\n", "oversmoothing.width"),
])
def test_bad_input_exits_2_naming_parameter(tmp_path, body, param):
    r = runner.invoke(app, ["oversmoothing", "analyse", str(_write(tmp_path, body))])
    assert r.exit_code == 2
    assert param in r.output and "Traceback" not in r.output


def test_zero_growth_factor_gives_null_not_a_crash(tmp_path):
    """H = −I with uniform A: the all-ones mode has growth 1 + (−1) = 0, rate and limit are infinite.

    At depth 0 the spectrum is reported (rate and limit null); at depth >= 1 HFC/LFC is infinite from
    layer 1, so the run is refused up front with the reason (nothing non-finite is written, issue 18)."""
    text = ("[oversmoothing]\nattention = [[0.5, 0.5], [0.5, 0.5]]\n"
            "value_projection = [[-1.0, 0.0], [0.0, -1.0]]\ndepth = {}\n")
    r = runner.invoke(app, ["oversmoothing", "analyse", str(_write(tmp_path, text.format(0))), "--json"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)["result"]
    assert res["regime"] == "sharpening" and res["hfc_lfc_rate"] is None and res["hfc_lfc_limit"] is None
    r = runner.invoke(app, ["oversmoothing", "analyse", str(_write(tmp_path, text.format(3))), "--json"])
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.exit_code == 2 and len(lines) == 1 and "oversmoothing.value_projection" in lines[0] and "growth factor" in lines[0]
