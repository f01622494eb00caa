"""`potts validate` with target = "train": the factored layer trained by MLM on Potts data (theory/potts.md §7.1).

References: the ERM estimator (10) computed by a separate Newton solver
(:func:`statmech_attn.validation.potts.replica_erm.fit_ridge_ce`) on the same sequences — the map of §7.1 says that
row 0 of the trained layer is that estimator (w = √N A_0, λ = M·L·λ_W/N) — and the replica theory
(checks of test_replica_theory.py), which the trained layer must match within 3 standard errors
where the map is exact (independent uniform contexts).
"""

from __future__ import annotations

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from typer.testing import CliRunner

from statmech_attn.cli import app
from statmech_attn.potts.model import conditionals
from statmech_attn.validation.potts import replica_erm as E
from statmech_attn.validation.potts import replica_mlm as ML

U3 = 2 * np.eye(3) - (2 / 3) * np.ones((3, 3))
runner = CliRunner()


def test_star_model_conditional_is_the_teacher():
    """Site 0's Potts conditional (2) of the star model is softmax(X w*/√N), X = U[:, s_1..s_N]."""
    N = 12
    w = ML.teacher_row(jax.random.PRNGKey(0), N, 1.5)
    assert abs(float(w @ w) - 1.5 * N) < 1e-10
    model = ML.star_model(np.asarray(w), U3)
    s = jax.random.randint(jax.random.PRNGKey(1), (7, N + 1), 0, 3)
    X = np.asarray(U3)[:, np.asarray(s[:, 1:])].transpose(1, 0, 2)  # (7, C, N)
    t = X @ np.asarray(w) / np.sqrt(N)
    ref = np.exp(t - t.max(axis=1, keepdims=True))
    ref /= ref.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(np.asarray(conditionals(model, s))[:, 0, :], ref, atol=1e-14)


def test_potts_contexts_are_samples_of_the_star_model():
    """contexts = "potts" draws whole sequences by Gibbs sampling: P(s_j = s_0) matches the star model's
    closed form P(s_j = a | s_0 = a) = e^{J_0j U_aa} / Σ_b e^{J_0j U_ab} (leaves independent given s_0)."""
    from statmech_attn.potts.spec import SamplerConfig

    N, M = 10, 4000
    w = ML.teacher_row(jax.random.PRNGKey(2), N, 4.0)  # strong teacher: J_0j ~ ±0.6
    model = ML.star_model(np.asarray(w), U3)
    s = np.asarray(ML.draw_sequences(model, jax.random.PRNGKey(3), M, "potts",
                                     SamplerConfig(chains=8, burn_in=100, thin=3)))
    J = np.asarray(w) / np.sqrt(N)
    same = (s[:, 1:] == s[:, :1]).mean(axis=1)  # per sequence: fraction of leaves equal to s_0
    p = np.exp(J * U3[0, 0]) / (np.exp(J * U3[0, 0]) + 2 * np.exp(J * U3[0, 1]))  # U3 has equal diagonals
    se = same.std(ddof=1) / np.sqrt(M)
    assert abs(same.mean() - p.mean()) < 5 * se, (same.mean(), p.mean(), se)
    assert abs(p.mean() - 1 / 3) > 10 * se  # the check can tell the model from independent colours


def test_trained_layer_row_is_the_erm_estimator():
    """MLM (6) with V = U fixed, linear attention, λ_W = λN/(ML): row 0 of W equals ŵ/√N of (10)."""
    N, M, lam = 30, 45, 0.1
    w_star = ML.teacher_row(jax.random.PRNGKey(5), N, 1.0)
    model = ML.star_model(np.asarray(w_star), U3)
    seqs = ML.draw_sequences(model, jax.random.PRNGKey(6), M, "independent")
    fit = ML.train_row_layer(seqs, U3, lam, jax.random.PRNGKey(7))
    assert float(fit["grad_norm"]) <= 1e-8
    X = jnp.swapaxes(jnp.asarray(U3).T[seqs[:, 1:]], 1, 2)  # (M, C, N): x_j = U e_{s_j}
    w_erm, gnorm, _ = E.fit_ridge_ce(X, seqs[:, 0], lam)
    assert float(gnorm) <= 1e-8
    assert float(jnp.max(jnp.abs(fit["w_hat"] - w_erm))) < 1e-6


def _config(tmp_path: Path, validate: str) -> Path:
    p = tmp_path / "c.toml"
    p.write_text("seed = 0\n[replica]\ncolours = 3\n"
                 "colour_matrix = [[1.3333333333333333, -0.6666666666666666, -0.6666666666666666], "
                 "[-0.6666666666666666, 1.3333333333333333, -0.6666666666666666], "
                 "[-0.6666666666666666, -0.6666666666666666, 1.3333333333333333]]\n"
                 "teacher_norm = 1.0\nridge = 0.1\nalphas = [1.0]\n"
                 f"[validate]\n{validate}\n")
    return p


@pytest.mark.slow
def test_validate_train_agrees_with_theory_where_the_map_is_exact(tmp_path):
    """N = 40, α = 1, 8 seeds, independent contexts: the MLM-trained layer within 3 SE of the theory."""
    cfg = _config(tmp_path, 'target = "train"\ncontexts = "independent"\nsizes = [40]\n'
                            "seeds = [0, 1, 2, 3, 4, 5, 6, 7]\nn_test = 1000")
    out = tmp_path / "val"
    r = runner.invoke(app, ["potts", "validate", str(cfg), "--out", str(out)])
    res = json.loads((out / "result.json").read_text())["result"]
    assert r.exit_code == 0, (r.output, [p["z"] for p in res["points"]])
    assert res["target"] == "train" and res["contexts"] == "independent" and res["passed"]
    p = res["points"][0]
    assert p["seeds"] == 8 and p["grad_norm_max"] <= 1e-8 and set(p["z"]) == {"m", "q", "test_ce", "kl", "eps_w"}
    assert all(abs(z) < 3 for z in p["z"].values())
    assert res["grid"]["computed"] == 8 and not res["failed_points"]
    assert runner.invoke(app, ["potts", "plot", str(out)]).exit_code == 0 and (out / "validate.png").is_file()


def test_validate_train_needs_the_colour_matrix(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text("seed = 0\n[replica]\ncolours = 2\ncolour_covariance = [[1.0, 0.2], [0.2, 1.0]]\n"
                 '[validate]\ntarget = "train"\nsizes = [10]\nseeds = [0, 1]\n')
    r = runner.invoke(app, ["potts", "validate", str(p)])
    lines = [ln for ln in r.output.strip().splitlines() if ln]
    assert r.exit_code == 2 and len(lines) == 1 and "colour matrix" in lines[0]
