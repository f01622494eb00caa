"""gcm_logistic.py against actual logistic regressions (scikit-learn), within 3 standard errors.

Finite problem: x ~ N(0, I_d), teacher θ with ‖θ‖²/d = ρ = 1, labels sign(θ·x/√d), n = αd;
sklearn's objective C Σ loss + ½‖w‖² on features x/√d equals Σ loss + (λ/2)‖w‖² with C = 1/λ.
Measured per seed: m = θ·ŵ/d, q = ‖ŵ‖²/d, the 0-1 test error arccos(m/√(ρq))/π and the mean
training loss.
"""

from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from statmech_attn.theory import solve

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "theories" / "gcm_logistic.py"
ALPHA, LAM = 2.0, 0.5


def _simulate(d: int, seeds: range) -> dict[str, np.ndarray]:
    rows = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        theta = rng.standard_normal(d)
        theta *= np.sqrt(d) / np.linalg.norm(theta)
        n = int(ALPHA * d)
        X = rng.standard_normal((n, d)) / np.sqrt(d)
        y = np.sign(X @ theta)
        clf = LogisticRegression(C=1 / LAM, fit_intercept=False, tol=1e-10, max_iter=10_000).fit(X, y)
        w = clf.coef_[0]
        m, q = theta @ w / d, w @ w / d
        train = np.mean(np.logaddexp(0.0, -y * (X @ w)))
        rows.append((m, q, np.arccos(m / np.sqrt(q)) / np.pi, train))
    a = np.asarray(rows)
    return {"m": a[:, 0], "q": a[:, 1], "test_error": a[:, 2], "train_loss": a[:, 3]}


def _check(d: int, seeds: range) -> dict[str, float]:
    th = runpy.run_path(str(EXAMPLE))["theory"]
    sol = solve(th, {"alpha": ALPHA, "lambda": LAM}, cubature_check=False, stability=False)
    assert sol.converged
    theory = {"m": sol.value["m"], "q": sol.value["q"], **sol.stats["observables"]}
    sims = _simulate(d, seeds)
    z = {}
    for k, v in sims.items():
        se = v.std(ddof=1) / np.sqrt(len(v))
        z[k] = abs(v.mean() - theory[k]) / se
        assert z[k] < 3, (k, v.mean(), theory[k], se)
    return z


def test_logistic_matches_sklearn_d200():
    _check(200, range(8))


@pytest.mark.slow
def test_logistic_matches_sklearn_d1000():
    _check(1000, range(10))
