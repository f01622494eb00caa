"""Random clouds: centred clouds never shrink, uncentred ones can; LN puts rows at √d."""

import numpy as np

from statmech_attn.validation.energy.expansion import expansion_statistics


def test_expansion_statistics():
    s = expansion_statistics(n_clouds=300, beta=0.1, offset=0.3, seed=1)
    assert s.shrink_fraction_centred == 0.0
    assert s.min_chebyshev_centred >= -1e-12
    assert s.shrink_fraction_uncentred > 0.0
    assert s.min_ascent_gain >= -1e-12
    assert s.max_ln_deviation < 1e-12
    assert s.mean_expansion >= 1.0
    assert np.isfinite(s.mean_contraction)
