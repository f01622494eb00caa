"""The generic derivation helper: matrix calculus, component rules, fixed points, LaTeX, JAX, cache.

Every expected value comes from elsewhere: explicit SymPy matrices (``Matrix.inv``, ``det``),
hand-solved toy problems, or finite differences.
"""

import numpy as np
import pytest
import sympy as sp

from statmech_attn.derivations import _stationarity as st


def _rand_pd(rng, d):
    a = rng.normal(size=(d, d))
    return a @ a.T / d + 0.5 * np.eye(d)


def _explicit(name, d):
    """A symmetric SymPy Matrix of entry symbols and the list of independent entries."""
    m = st.symmetric_components(name, d)
    return m, list(st._upper(m))


def test_matrix_gradient_matches_explicit_entrywise_differentiation():
    # F(X, Y) = Tr(A X⁻¹ B) + 3 ln det X + Tr(Y⁻¹ tr_2 X) − ln det(X + I) ;  X 4×4, Y 2×2
    rng = np.random.default_rng(0)
    X = st.SymmetricMatrixSymbol("X", 4, 4)
    Y = st.SymmetricMatrixSymbol("Y", 2, 2)
    A = sp.MatrixSymbol("A", 4, 4)
    B = sp.MatrixSymbol("B", 4, 4)
    F = (sp.Trace(A * sp.Inverse(X) * B) + 3 * sp.log(sp.Determinant(X))
         + sp.Trace(sp.Inverse(Y) * st.PartialTrace(X, 2)) - sp.log(sp.Determinant(X + sp.Identity(4))))
    gX = st.matrix_gradient(F, X)
    gY = st.matrix_gradient(F, Y)

    xv, yv = _rand_pd(rng, 4), _rand_pd(rng, 2)
    av, bv = rng.normal(size=(4, 4)), rng.normal(size=(4, 4))
    fx = st.jax_function([X, Y, A, B], gX)
    fy = st.jax_function([X, Y, A, B], gY)
    got_x = np.asarray(fx(xv, yv, av, bv))
    got_y = np.asarray(fy(xv, yv, av, bv))

    # reference: explicit symbolic matrices, differentiate every independent entry
    Xe, xs = _explicit("x", 4)
    Ye, ys = _explicit("y", 2)
    Ae, Be = sp.Matrix(av), sp.Matrix(bv)
    pt = sp.Matrix(2, 2, lambda a, b: Xe[a, b] + Xe[2 + a, 2 + b])
    Fe = ((Ae * Xe.inv() * Be).trace() + 3 * sp.log(Xe.det()) + (Ye.inv() * pt).trace()
          - sp.log((Xe + sp.eye(4)).det()))
    vals = {**{Xe[i, j]: xv[i, j] for i in range(4) for j in range(4)},
            **{Ye[i, j]: yv[i, j] for i in range(2) for j in range(2)}}
    for m, got, d in ((Xe, got_x, 4), (Ye, got_y, 2)):
        for i in range(d):
            for j in range(i, d):
                ref = float(sp.diff(Fe, m[i, j]).subs(vals)) * (1.0 if i == j else 0.5)
                assert got[i, j] == pytest.approx(ref, rel=1e-9, abs=1e-12)
                assert got[j, i] == pytest.approx(ref, rel=1e-9, abs=1e-12)


def test_opaque_logdet_and_inverse_rules_match_explicit_matrices():
    rng = np.random.default_rng(1)
    m, ups = _explicit("u", 3)
    vals = dict(zip(ups, _rand_pd(rng, 3)[np.triu_indices(3)]))
    inv_explicit = m.inv()
    for k, u in enumerate(ups):
        # ∂ ln det U / ∂u
        opaque = sp.diff(st.logdet_components(m), u)
        explicit = sp.diff(sp.log(m.det()), u)
        v_num = np.linalg.inv(np.array(m.subs(vals), dtype=float))
        inv_sym = st.symmetric_components("v", 3)
        opaque_num = st.inverse_symbols(opaque, m, inv_sym).subs(
            {inv_sym[i, j]: v_num[i, j] for i in range(3) for j in range(3)})
        assert float(opaque_num) == pytest.approx(float(explicit.subs(vals)), rel=1e-10)
        # ∂ (U⁻¹)_{01} / ∂u
        opaque = sp.diff(st.inverse_components(m)[0, 1], u)
        explicit = sp.diff(inv_explicit[0, 1], u)
        opaque_num = st.inverse_symbols(opaque, m, inv_sym).subs(
            {inv_sym[i, j]: v_num[i, j] for i in range(3) for j in range(3)})
        assert float(opaque_num) == pytest.approx(float(explicit.subs(vals)), rel=1e-10)


def test_scalar_toy_problem_fixed_point():
    # F = q²/2 − a ln q: ∂F/∂q = q − a/q = 0 ⇒ q = √a (by hand)
    q, a = sp.symbols("q a", positive=True)
    (cond,) = st.derive(q**2 / 2 - a * sp.log(q), [st.OrderParameter(q, "overlap")])
    assert sp.simplify(cond.gradient - (q - a / q)) == 0
    assert sp.simplify(cond.fixed_point - sp.sqrt(a)) == 0


def test_matrix_toy_problem_linear_fixed_point():
    # F = Tr(A X) − n ln det X (A SPD): ∂F/∂X = A − n X⁻¹ ⇒ X = n A⁻¹
    X = st.SymmetricMatrixSymbol("X", 3, 3)
    A = st.SymmetricMatrixSymbol("A", 3, 3)
    n = sp.Symbol("n", positive=True)
    (cond,) = st.derive(sp.Trace(A * X) - n * sp.log(sp.Determinant(X)), [st.OrderParameter(X, "X")])
    rng = np.random.default_rng(2)
    av = _rand_pd(rng, 3)
    f = st.jax_function([A, n], cond.fixed_point)
    np.testing.assert_allclose(np.asarray(f(av, 2.5)), 2.5 * np.linalg.inv(av), rtol=1e-12)


def test_riccati_fixed_point_solves_the_matrix_quadratic():
    # F = Tr(A X) + c ln det X + Tr(Q X⁻¹) with Q SPD: ∂F/∂X = A + c X⁻¹ − X⁻¹ Q X⁻¹ = 0
    X = st.SymmetricMatrixSymbol("X", 3, 3)
    A = st.SymmetricMatrixSymbol("A", 3, 3)
    Q = st.SymmetricMatrixSymbol("Q", 3, 3)
    c = sp.Symbol("c", real=True)
    F = sp.Trace(A * X) + c * sp.log(sp.Determinant(X)) + sp.Trace(Q * sp.Inverse(X))
    (cond,) = st.derive(F, [st.OrderParameter(X, "X")])
    assert cond.fixed_point is not None and "Riccati" in cond.note
    rng = np.random.default_rng(3)
    av, qv = _rand_pd(rng, 3), _rand_pd(rng, 3)
    for cv in (-1.7, 0.0, 2.3):
        x = np.asarray(st.jax_function([A, Q, c], cond.fixed_point)(av, qv, cv))
        assert np.all(np.linalg.eigvalsh(0.5 * (x + x.T)) > 0)
        np.testing.assert_allclose(x @ av @ x + cv * x - qv, 0.0, atol=1e-10)


def test_no_fixed_point_form_is_reported_not_forced():
    # ln det X appears squared: not of the form A + c X⁻¹ + X⁻¹ Q X⁻¹
    X = st.SymmetricMatrixSymbol("X", 2, 2)
    (cond,) = st.derive(sp.log(sp.Determinant(X)) ** 2, [st.OrderParameter(X, "X")])
    assert cond.fixed_point is None and "no fixed-point form" in cond.note


def test_jax_coverage_check_names_missing_functions():
    x = sp.Symbol("x")
    with pytest.raises(RuntimeError, match="without a JAX counterpart: lgamma"):
        st.jax_function([x], sp.loggamma(x) + x)
    f = st.jax_function([x], sp.log(x) + sp.sqrt(x))
    assert st.called_names(f.source) <= set(st.jax_functions())
    assert float(f(4.0)) == pytest.approx(np.log(4.0) + 2.0)


def test_pd_inverse_is_cholesky_based_and_flags_non_pd():
    import jax.numpy as jnp

    X = st.SymmetricMatrixSymbol("X", 2, 2)
    f = st.jax_function([X], sp.Inverse(X))
    m = np.array([[2.0, 0.3], [0.3, 1.0]])
    np.testing.assert_allclose(np.asarray(f(m)), np.linalg.inv(m), rtol=1e-13)
    assert not np.all(np.isfinite(np.asarray(f(jnp.array([[1.0, 2.0], [2.0, 1.0]])))))


def test_latex_has_one_numbered_equation_per_condition():
    q, a = sp.symbols("q a", positive=True)
    X = st.SymmetricMatrixSymbol("X", 2, 2)
    conds = st.derive(q**2 / 2 - a * sp.log(q) + sp.Trace(X) - sp.log(sp.Determinant(X)),
                      [st.OrderParameter(q, "overlap", "q"), st.OrderParameter(X, "matrix", "X")])
    tex = st.to_latex(conds, key="toy", title="toy", definitions=[("a", "a constant")])
    # condition + fixed point for each parameter
    assert tex.count(r"\begin{equation}") == tex.count(r"\end{equation}") == 4
    labels = [line.strip() for line in tex.splitlines() if line.strip().startswith(r"\label")]
    assert len(labels) == len(set(labels)) == 4
    assert tex.count("{") == tex.count("}")


def test_cache_builds_once_and_rebuilds_on_new_key_or_corruption(tmp_path, monkeypatch):
    monkeypatch.setenv("STATMECH_ATTN_DERIVATION_CACHE", str(tmp_path))
    calls = []

    def build():
        calls.append(1)
        return {"value": sp.Symbol("z") ** 2}

    r1, hit1 = st.cached({"theory": "toy", "n": 1}, build)
    r2, hit2 = st.cached({"theory": "toy", "n": 1}, build)
    assert (hit1, hit2) == (False, True) and len(calls) == 1 and r2 == r1
    _, hit3 = st.cached({"theory": "toy", "n": 2}, build)
    assert not hit3 and len(calls) == 2
    for f in tmp_path.glob("toy-*.json"):
        f.write_bytes(b"not a pickle")
    _, hit4 = st.cached({"theory": "toy", "n": 1}, build)
    assert not hit4 and len(calls) == 3
    assert st.cache_dir() == tmp_path
