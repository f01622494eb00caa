"""`statmech-attn energy analyse|plot` and `derive energy`."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from statmech_attn.cli import app

runner = CliRunner()


def test_analyse_two_tokens_with_layer_norm(tmp_path):
    out = tmp_path / "run"
    r = runner.invoke(app, ["energy", "analyse", "examples/energy.toml", "--out", str(out)])
    assert r.exit_code == 0, r.output
    res = json.loads((out / "result.json").read_text())["result"]
    # layer 1: ±e_1 -> ±(1 + tanh 1) e_1 -> LN -> ±(1, −1); later layers start from |x| = √2
    assert res["expansion_factor"][0] == pytest.approx(1 + np.tanh(1.0), rel=1e-13)
    assert res["expansion_factor"][1] == pytest.approx(1 + np.tanh(2.0), rel=1e-13)
    np.testing.assert_allclose(res["tokens_after"], [[1.0, -1.0], [-1.0, 1.0]], atol=1e-13)
    np.testing.assert_allclose(np.array(res["norms"]["after_layer_norm"]), np.sqrt(2.0), rtol=1e-13)
    assert res["log_partition"][0][0] == pytest.approx(np.log(np.e + 1 / np.e), rel=1e-13)
    assert all(g["is_gradient_field"] for g in res["gradient_field"])
    r = runner.invoke(app, ["energy", "plot", str(out)])
    assert r.exit_code == 0, r.output
    assert (out / "norms.png").is_file()


def test_random_stack_and_derive():
    r = runner.invoke(app, ["energy", "analyse", "examples/energy_random.toml", "--json"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)["result"]
    assert len(res["expansion_factor"]) == 6
    assert res["max_layer_norm_deviation"] < 1e-12
    assert not any(g["is_gradient_field"] for g in res["gradient_field"])  # d_k = 2 < d = 4: generic W_V ≠ W_K M
    r = runner.invoke(app, ["energy", "analyse", "examples/energy_random.toml", "--json", "--set", "energy.key_dim=4"])
    assert all(g["is_gradient_field"] for g in json.loads(r.stdout)["result"]["gradient_field"])  # W_K invertible
    r = runner.invoke(app, ["derive", "energy"])
    assert r.exit_code == 0 and "tanh" in r.output


@pytest.mark.parametrize("body, param", [
    ("[energy]\ntokens = [[1.0, nan]]\n", "energy.tokens"),
    ("[energy]\nbeta = -1.0\n", "energy.beta"),
    ("[energy]\nlayers = 0\n", "energy.layers"),
    ("[energy]\nweights = \"given\"\n", "energy.w_query"),
    ("[energy]\nw_value = [[[1.0]]]\n", "energy.w_value"),
    ("[energy]\nweights = \"given\"\nw_query = [[[1.0, 0.0], [0.0, 1.0]]]\nw_key = [[[1.0, 0.0], [0.0, 1.0]]]\n"
     "w_value = [[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]]\n", "energy.w_value"),
])
def test_bad_input_exit_2(tmp_path, body, param):
    p = tmp_path / "c.toml"
    p.write_text(body)
    r = runner.invoke(app, ["energy", "analyse", str(p)])
    assert r.exit_code == 2, r.output
    assert param in r.output and "Traceback" not in r.output


def test_given_weights_from_npz():
    """Layer 0 of examples/energy_weights.npz has W_V = W_K M, layer 1 a generic W_V (d_k < d)."""
    with np.load("examples/energy_weights.npz") as z:
        wk, wv = z["w_key"], z["w_value"]
    ranks = [np.linalg.matrix_rank(np.hstack([wk[l], wv[l]])) - np.linalg.matrix_rank(wk[l]) for l in range(2)]
    r = runner.invoke(app, ["energy", "analyse", "examples/energy_given.toml", "--json"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)["result"]
    assert [g["is_gradient_field"] for g in res["gradient_field"]] == [k == 0 for k in ranks] == [True, False]
