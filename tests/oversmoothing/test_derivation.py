"""SymPy derivations of the spectrum identity and the uniform-mixing factor vs the numerics."""

import numpy as np
import sympy as sp

from statmech_attn.derivations.oversmoothing import kronecker_identity, uniform_mixing_ratio
from statmech_attn import oversmoothing as os_


def test_symbolic_kronecker_identity():
    assert kronecker_identity()


def test_symbolic_uniform_mixing_factor_matches_closed_form_theory():
    u = uniform_mixing_ratio()
    assert u.verified
    q = sp.lambdify((u.a, u.h), u.ratio_factor)
    n, d, a, h, depth = 5, 2, 0.35, 0.8, 12
    big_a = (1 - a) * np.eye(n) + a / n
    th, _ = os_.theory_hfc_lfc(os_.StackSpec(big_a, h * np.eye(d), depth), os_.random_tokens(n, d, 4))
    np.testing.assert_allclose(th[1:] / th[:-1], q(a, h), rtol=1e-11)
