"""The replica curve's cubature certificate: the two-evaluation step (``_check_step``, ``_check_points``) equals the
iterated quasi-Newton check ``_check_curve`` (a second method: a solver loop to ``tol``), and falls
back to it where the step is not accepted."""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
import pytest

from statmech_attn.potts import _replica_equations as eq
from statmech_attn.potts import _replica_solve as rs
from statmech_attn.potts._replica_setting import ReplicaSetting

BASE = {"colours": 3, "teacher_norm": 1.0, "ridge": 0.1, "cubature_order": 12, "tol": 1e-10}
U_SYM = [[4 / 3, -2 / 3, -2 / 3], [-2 / 3, 4 / 3, -2 / 3], [-2 / 3, -2 / 3, 4 / 3]]
U_ASYM = [[1.0, 0.2, -0.3], [0.2, 0.8, 0.1], [-0.3, 0.1, 1.2]]


def _curve(colour_matrix, ridge):
    setting = ReplicaSetting.from_config(dict(BASE, colour_matrix=colour_matrix, ridge=ridge))
    alphas = jnp.asarray(np.geomspace(0.1, 10.0, 6))
    geo = eq._geometry(setting)
    x0 = rs._init_array(setting, None)
    args = (jnp.asarray(1e-10), jnp.asarray(3000), jnp.asarray(0.5))
    xs, _, _, _, _, Js = rs._solve_curve(x0, alphas, geo, eq._nodes(*setting.rules()), *args, "newton")
    fine = eq._nodes(*setting.rules(math.ceil(1.5 * setting.cubature_order), math.ceil(1.5 * setting.teacher_order)))
    return xs, Js, alphas, x0, geo, fine, args


@pytest.mark.parametrize("colour_matrix, ridge", [(U_SYM, 0.1), (U_ASYM, 0.1), (U_SYM, 1.0)])
def test_two_evaluation_check_equals_iterated_check(colour_matrix, ridge):
    xs, Js, alphas, x0, geo, fine, args = _curve(colour_matrix, ridge)
    iterated = np.asarray(rs._check_curve(xs, Js, alphas, x0, geo, fine, *args)[0])
    stepped = rs._check_points(xs, Js, alphas, x0, geo, fine, *args)
    np.testing.assert_allclose(stepped, iterated, rtol=1e-12, atol=0)
    change = np.max(np.abs(stepped - np.asarray(xs)) / np.abs(np.asarray(xs)), axis=1)
    assert np.all(change > 0) and np.all(change < 1e-3)  # a change is measured, and it is small


def test_check_falls_back_to_the_iterated_check():
    xs, Js, alphas, x0, geo, fine, args = _curve(U_SYM, 0.1)
    tight = (jnp.asarray(1e-300),) + args[1:]  # no residual is ever below this: the step is not accepted
    iterated = np.asarray(rs._check_curve(xs, Js, alphas, x0, geo, fine, *tight)[0])
    np.testing.assert_array_equal(rs._check_points(xs, Js, alphas, x0, geo, fine, *tight), iterated)
    bad = np.asarray(Js).copy()
    bad[2] = np.nan  # a point without a Jacobian: the whole curve goes through the iterated check
    np.testing.assert_array_equal(rs._check_points(xs, jnp.asarray(bad), alphas, x0, geo, fine, *args),
                                  np.asarray(rs._check_curve(xs, jnp.asarray(bad), alphas, x0, geo, fine, *args)[0]))
