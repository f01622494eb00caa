"""`statmech-attn factors fit|plot`: arrays, result keys, exit codes."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from statmech_attn.cli import app

runner = CliRunner()
SMALL = ["--set", "factors.n_epochs=2", "--set", "factors.network.tokens=64", "--set", "factors.n_factors=8"]


def test_fit_attention_stack_and_plot(tmp_path):
    out = tmp_path / "run"
    r = runner.invoke(app, ["factors", "fit", "examples/factors.toml", "--out", str(out), *SMALL])
    assert r.exit_code == 0, r.output
    with np.load(out / "arrays.npz") as z:
        assert z["dictionary"].shape == (16, 8)
        assert z["codes"].shape == (7, 64, 8)
        scores = z["importance_scores"]
        codes = z["codes"]
    res = json.loads((out / "result.json").read_text())["result"]
    assert np.array(res["importance_scores"]).shape == (8, 7)
    # IS recomputed by hand from the saved codes (top_k = 10)
    np.testing.assert_allclose(scores, np.sort(codes, axis=1)[:, -10:, :].mean(axis=1).T, rtol=1e-12)
    assert res["codes"]["converged"] and len(res["levels"]) == 8
    r = runner.invoke(app, ["factors", "plot", str(out)])
    assert r.exit_code == 0 and (out / "importance.png").is_file()


def test_fit_user_states_npz(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "states.npz", states=rng.standard_normal((3, 30, 5)), token_ids=rng.integers(0, 4, 30))
    (tmp_path / "c.toml").write_text('[factors]\nstates_npz = "states.npz"\ntoken_ids_npz = "states.npz"\n'
                                     'n_factors = 6\nn_epochs = 2\n')
    r = runner.invoke(app, ["factors", "fit", str(tmp_path / "c.toml"), "--json"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)["result"]
    assert res["source"] == "states" and np.array(res["importance_scores"]).shape == (6, 3)


def test_not_converged_exits_1():
    r = runner.invoke(app, ["factors", "fit", "examples/factors.toml", *SMALL, "--set", "factors.fista_steps=1"])
    assert r.exit_code == 1 and "fista_steps" in r.output


@pytest.mark.parametrize("body, param", [
    ("[factors]\nsparsity = -0.3\n", "factors.sparsity"),
    ("[factors]\nstates = [[1.0, 2.0]]\n", "factors.states"),
    ("[factors]\nstates = [[[1.0, nan]]]\n", "factors.states"),
    ("[factors]\nn_factors = 0\n", "factors.n_factors"),
    ("[factors]\ntoken_ids = [1, 2]\n", "factors.token_ids"),
    ("[factors.network]\ndim = 0\n", "factors.network.dim"),
])
def test_bad_input_exit_2(tmp_path, body, param):
    p = tmp_path / "c.toml"
    p.write_text(body)
    r = runner.invoke(app, ["factors", "fit", str(p)])
    assert r.exit_code == 2, r.output
    assert param in r.output and "Traceback" not in r.output
