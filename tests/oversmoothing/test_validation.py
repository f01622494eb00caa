"""Finite stacks: simulated deep stacks behave as the spectrum predicts; training with the
sign-constrained reparameterisation lands in the forced regime."""

import numpy as np

from validation.oversmoothing.regimes import validate_regimes
from validation.oversmoothing.train import train_regimes


def test_random_deep_stacks_follow_the_spectrum():
    v = validate_regimes(n_trials=24, depth=250, seed=5)
    assert v.decided.sum() >= 20
    assert v.agreement == 1.0
    assert np.isnan(v.max_limit_error) or v.max_limit_error < 1e-2


def test_training_demo_forces_each_regime():
    runs = {t.mode: t for t in train_regimes(("smooth", "sharpen"), depth=4, steps=30, probe_depth=30, n_seq=8, seed=0)}
    assert set(runs["smooth"].regimes) == {"smoothing"}
    assert runs["smooth"].ratio_growth < 0
    assert "smoothing" not in runs["sharpen"].regimes
    lam = np.linalg.eigvalsh(runs["sharpen"].value_projection)
    assert lam.max() < 0 and lam.min() >= -1 - 1e-12
