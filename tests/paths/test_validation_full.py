"""Full-size validations of the attention-path theory against NUTS samples (slow: minutes each).

Run with ``python -m pytest -q -m slow tests/paths/test_validation_full.py``.
"""

import dataclasses

import numpy as np
import pytest

from statmech_attn.validation.paths import compare
from statmech_attn.paths._validate_spec import GDConfig, ValidateConfig

pytestmark = pytest.mark.slow

# O(1/N) allowance stated by this test: |sim − theory| ≤ 3 SE + C · scale / N per entry, C = C_ALLOW,
# and C = C_ALLOW_VAR for the predictor variance (measured: its RMS discrepancy is ≈ 2.6/N at N = 32, 64,
# sampled variance above the saddle point — the spread of the conditional mean over the weights)
C_ALLOW = 2.0
C_ALLOW_VAR = 10.0


def _setup():
    from statmech_attn import paths

    base = paths.PathsModel(heads=(2, 2), readout="last", temperature=0.1, widths=(16.0, 16.0), width_readout=16.0)

    def make_data(P, n_test):
        return paths.hmm_task(paths.HMMTask(n_features=8, tokens=6, n_train=P, n_test=n_test))

    return base, make_data


def test_finite_width_hmm_matches_theory_and_discrepancy_shrinks():
    """Bundled HMM task, L = 2, H = 2, α = 1, N ∈ {32, 64}: every statistic (U₁, U₂, U_a,
    predictor mean and variance, test error) within 3 SE + C·scale/N of the saddle point, every
    run mixed, and the noise-corrected discrepancy smaller at N = 64 than at N = 32."""
    base, make_data = _setup()
    v = ValidateConfig(widths=(32, 64), alphas=(1.0,), n_test=20, num_warmup=400, num_samples=400,
                       finite_size_allowance=C_ALLOW, finite_size_allowance_variance=C_ALLOW_VAR, theory_curve_points=0,
                       gd=dataclasses.replace(GDConfig(), enabled=False))
    rep = compare.validate(base, make_data, v, seed=0)
    s = rep["n_scaling"][0]
    print({"overall_discrepancy_corrected": s["overall"]["discrepancy_corrected"], "fit": s["overall"]["fit"],
           "max_z": {p["width"]: {k: round(c["max_z"], 2) for k, c in p["comparisons"].items()} for p in rep["points"]},
           "seconds": {p["width"]: round(p["nuts"]["seconds"], 1) for p in rep["points"]}})
    for p in rep["points"]:
        assert p["mixing"]["mixed"], (p["width"], p["mixing"])
        assert p["nuts"]["divergences"] == 0
        for k, c in p["comparisons"].items():
            assert c["passed"], (p["width"], k, c["max_z"], c["discrepancy_corrected"])
    assert s["shrinks"] is True
    d = np.asarray(s["overall"]["discrepancy_corrected"])
    assert d[-1] < d[0]
