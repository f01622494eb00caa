"""Finite stacks: simulated deep stacks behave as the spectrum predicts; training with the
sign-constrained reparameterisation lands in the forced regime."""

import json

import numpy as np
from typer.testing import CliRunner

from statmech_attn.cli import app
from statmech_attn.validation.oversmoothing.regimes import validate_regimes

runner = CliRunner()


def test_random_deep_stacks_follow_the_spectrum():
    v = validate_regimes(n_trials=24, depth=250, seed=5)
    assert v.decided.sum() >= 20
    assert v.agreement == 1.0
    assert np.isnan(v.max_limit_error) or v.max_limit_error < 1e-2


def test_training_demo_forces_each_regime():
    """`oversmoothing train`: the smooth-constrained stack smooths on every sequence, the clipped
    sharpen-constrained one never does and has spec(H) ⊂ [−1, 0)."""
    r = runner.invoke(app, ["oversmoothing", "train", "examples/oversmoothing_train.toml", "--json",
                            "--set", "train.modes=['smooth', 'sharpen']", "--set", "train.steps=30",
                            "--set", "train.sequences=8", "--set", "train.depth=4", "--set", "train.probe_depth=30"])
    assert r.exit_code == 0, r.output
    runs = json.loads(r.stdout)["result"]["runs"]
    assert runs["smooth"]["regime_counts"]["smoothing"] == 8 and runs["smooth"]["log_hfc_lfc_change"] < 0
    assert runs["sharpen"]["regime_counts"]["smoothing"] == 0
    eig = np.array(runs["sharpen"]["eig_value_projection"]["real"])
    assert eig.max() < 0 and eig.min() >= -1 - 1e-12
    assert np.allclose(runs["sharpen"]["eig_value_projection"]["imag"], 0.0)  # H symmetric
