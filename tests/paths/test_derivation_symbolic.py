"""The attention-path derivation, checked symbolically (theory §6.1, §11.1–11.3) and its output.

Independent references: the theory's GP point and U_a formula, a scalar problem written out by
hand and solved with SymPy ``solve``, SymPy's own LaTeX parser, the command line's exit codes.
"""

import random
import re
import shutil
import subprocess

import pytest
import sympy as sp
from sympy.parsing.latex import parse_latex
from typer.testing import CliRunner

from statmech_attn.derivations import _stationarity as st
from statmech_attn.derivations.paths import Architecture, _abbreviate, derive_paths
from statmech_attn.errors import InputError


def _is_zero(e) -> bool:
    """Exact zero test (factor inside square roots first: √((a+b)²) = a+b for positive symbols)."""
    return sp.simplify(sp.factor(sp.simplify(e), deep=True)) == 0


def _gp_values(d, L):
    """U_ℓ = σ_a² σ_L² ⋯ σ_ℓ² (theory §8, §11.1) and U_a = σ_a²."""
    sy = d.symbols
    u = [sy.sigma_a**2 * sp.Mul(*[s**2 for s in sy.sigma[l:]]) for l in range(L)]
    return u, sy.sigma_a**2


@pytest.mark.parametrize("heads", [(1,), (3,), (2, 2), (2, 1), (2, 2, 2)])
def test_gp_point_makes_every_entropy_gradient_vanish_components(heads):
    d = derive_paths(heads, form="components")
    L = len(heads)
    u, ua = _gp_values(d, L)
    subs = {d.symbols.U_a: ua}
    for l, (U, V) in enumerate(zip(d.U, d.inverse)):
        n = U.shape[0]
        for i in range(n):
            for j in range(n):
                subs[U[i, j]] = u[l] if i == j else 0
                subs[V[i, j]] = 1 / u[l] if i == j else 0
    subs.update({s: 0 for s in d.omega})  # Ω ≡ 0 (theory §11.1)
    for c in d.conditions[:L]:
        assert all(_is_zero(e.xreplace(subs)) for e in c.equation)
    # U_a's closed form returns σ_a² at the GP point, and its condition vanishes
    ra = d.readout_condition
    assert _is_zero(ra.fixed_point.xreplace(subs) - ua)
    assert _is_zero(ra.equation.xreplace(subs))


@pytest.mark.parametrize("heads", [(2,), (2, 3)])
def test_gp_point_makes_every_entropy_gradient_vanish_matrix_form(heads):
    d = derive_paths(heads, form="matrix")
    L = len(heads)
    u, ua = _gp_values(d, L)
    subs = {U: u[l] * sp.Identity(U.shape[0]) for l, U in enumerate(d.U)}
    subs[d.symbols.U_a] = ua
    for l, c in enumerate(d.conditions[:L]):
        eq = c.equation
        if l == 0:  # drop the energy gradient Ω (≡ 0 at the GP point)
            eq = sp.MatAdd(*[t for t in eq.args if "PathKernelAdjoint" not in sp.srepr(t)])
        val = st.tidy(eq.xreplace(subs).doit())
        coeff = st._scalar_times_identity(val)
        assert val == sp.ZeroMatrix(*val.shape) or (coeff is not None and sp.simplify(coeff) == 0)


def test_readout_closed_form_is_the_theory_root():
    # theory §6.1: U_a = (−β + √(β² + 4γ))/2, β = σ_a²(H_L N_L/N_a − 1), γ = Tr U_L N_L σ_a²/(N_a σ_L²)
    d = derive_paths((3, 2), form="components")
    sy = d.symbols
    tr = sum(d.U[-1][i, i] for i in range(d.U[-1].shape[0]))
    beta = sy.sigma_a**2 * (2 * sy.N[-1] / sy.N_a - 1)
    gamma = tr * sy.N[-1] * sy.sigma_a**2 / (sy.N_a * sy.sigma[-1] ** 2)
    theory = (-beta + sp.sqrt(beta**2 + 4 * gamma)) / 2
    rng = random.Random(0)
    for _ in range(5):
        vals = {s: rng.uniform(0.3, 4.0) for s in theory.free_symbols | d.readout_condition.fixed_point.free_symbols}
        assert float(d.readout_condition.fixed_point.subs(vals)) == pytest.approx(float(theory.subs(vals)), rel=1e-12)


def test_one_layer_one_head_reduces_to_the_scalar_problem():
    # theory §11.3: with K₀ = Σ λ_k v_k v_kᵀ the action is, up to constants,
    # N_max S = Σ_k ln(uλ_k + T) + Σ_k y_k²/(uλ_k + T) + N_a(U_a/σ_a² − ln U_a) + N_1(u/(U_a σ²) − ln u + ln U_a)
    d = derive_paths((1,), form="components")
    sy = d.symbols
    u = sp.Symbol("u", positive=True)
    lam = sp.symbols("lambda_1:3", positive=True)
    yk = sp.symbols("y_1:3", real=True)
    N1, Na, s1, sa, T, Ua = sy.N[0], sy.N_a, sy.sigma[0], sy.sigma_a, sy.T, sy.U_a
    S = (sum(sp.log(u * l + T) + y**2 / (u * l + T) for l, y in zip(lam, yk))
         + Na * (Ua / sa**2 - sp.log(Ua)) + N1 * (u / (Ua * s1**2) - sp.log(u) + sp.log(Ua)))
    # U_a: SymPy solve on the scalar problem, positive root
    roots = [r for r in sp.solve(sp.numer(sp.together(sp.diff(S, Ua))), Ua)]
    rng = random.Random(1)
    vals = {s: rng.uniform(0.3, 3.0) for s in (N1, Na, s1, sa, T, u, *lam, *yk)}
    pos = [r for r in roots if complex(sp.N(r.subs(vals))).real > 0 and abs(complex(sp.N(r.subs(vals))).imag) < 1e-12]
    assert len(pos) == 1
    u_sym = d.U[0][0, 0]
    derived_ua = d.readout_condition.fixed_point.subs(u_sym, u)
    assert float(derived_ua.subs(vals)) == pytest.approx(float(pos[0].subs(vals)), rel=1e-12)
    # the U₁ condition: derived with Ω = ∂E/∂u = Σ λ/(uλ+T) − Σ λ y²/(uλ+T)² equals ∂(N_max S)/∂u
    omega = sum(l / (u * l + T) - l * y**2 / (u * l + T) ** 2 for l, y in zip(lam, yk))
    eq = d.conditions[0].equation[0, 0].xreplace({u_sym: u, d.inverse[0][0, 0]: 1 / u, d.omega[0, 0]: omega})
    assert sp.simplify(eq - sp.diff(S, u)) == 0
    # and the matrix form's fixed point u = [1/(U_a σ²) + Ω/N₁]⁻¹ is a root of the same equation
    # (with Ω held at w) SymPy solve of the scalar condition gives the matrix form's fixed point
    m = derive_paths((1,), form="matrix")
    w = sp.Symbol("w")
    scalar_fp = sp.solve(sp.Eq(N1 * (1 / (Ua * s1**2) - 1 / u) + w, 0), u)
    # [I/(U_a σ₁²) + Ω/N₁]⁻¹ (1×1 matrices), Ω written as its symbol, then Ω → w
    fp = _abbreviate(m.conditions[0].fixed_point, m.abbreviations)
    omega_sym = m.abbreviations[0][1]
    fn = st.jax_function([w, m.symbols.U_a, m.symbols.sigma[0], m.symbols.N[0]],
                         fp.xreplace({omega_sym: w * sp.Identity(1), m.symbols.H[0]: 1}))
    vals = (0.7, 1.3, 0.9, 40.0)
    assert len(scalar_fp) == 1
    assert float(scalar_fp[0].subs(dict(zip((w, Ua, s1, N1), vals)))) == pytest.approx(float(fn(*vals)[0, 0]), rel=1e-13)


def _canonical(expr):
    return expr.xreplace({s: sp.Symbol(re.sub(r"[\\{} ]", "", s.name)) for s in expr.free_symbols})


@pytest.mark.parametrize("heads", [(2,), (2, 1)])
def test_component_latex_parses_back_to_the_same_equations(heads):
    d = derive_paths(heads, form="components")
    tex = d.latex()
    blocks = re.findall(r"\\begin\{equation\}\n\s*\\label\{([^}]*)\}\n\s*(.*?) = 0\n\\end\{equation\}", tex)
    conds = {lab.split(":")[-1]: body for lab, body in blocks}
    rng = random.Random(2)
    n_checked = 0
    for c in d.conditions[: len(heads)]:
        m = c.parameter.symbol
        for i in range(m.shape[0]):
            for j in range(i, m.shape[0]):
                label = f"{c.parameter.label.replace('_', '-')}-{i + 1}{j + 1}"
                parsed = parse_latex(conds[label])
                original = _canonical(c.equation[i, j])
                parsed = _canonical(parsed)
                assert {s.name for s in parsed.free_symbols} == {s.name for s in original.free_symbols}
                vals = {s: rng.uniform(0.5, 2.0) for s in original.free_symbols}
                pv = {s: vals[sp.Symbol(s.name)] if sp.Symbol(s.name) in vals else None for s in parsed.free_symbols}
                assert float(parsed.subs(pv)) == pytest.approx(float(original.subs(vals)), rel=1e-12)
                n_checked += 1
    assert n_checked == sum(D * (D + 1) // 2 for D in Architecture(heads).path_dims)


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="no LaTeX engine installed")
def test_matrix_latex_compiles_with_pdflatex(tmp_path):
    tex = derive_paths((2, 2), form="matrix").latex()
    doc = "\\documentclass{article}\\usepackage{amsmath,amssymb}\\begin{document}\n" + tex + "\\end{document}\n"
    (tmp_path / "d.tex").write_text(doc)
    r = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "d.tex"], cwd=tmp_path,
                       capture_output=True, timeout=120)
    assert r.returncode == 0


def test_matrix_latex_structure():
    d = derive_paths((2, 2), form="matrix")
    tex = d.latex()
    # U_1, U_2, U_a: condition + fixed point each, plus the free energy
    assert tex.count(r"\begin{equation}") == tex.count(r"\end{equation}") == 7
    assert tex.count("{") == tex.count("}") and tex.count(r"\left") == tex.count(r"\right")
    for sym in (r"\Omega =", "G =", "K =", r"\operatorname{tr}_{h_{1}}", r"\otimes"):
        assert sym in tex


def test_fixed_point_forms_exist_for_every_layer():
    d = derive_paths((2, 2, 2), form="matrix")
    assert all(c.fixed_point is not None for c in d.conditions)
    assert "linear in X⁻¹" in d.conditions[0].note
    assert all("quadratic" in c.note for c in d.conditions[1:3])


@pytest.mark.parametrize("bad", [dict(heads=()), dict(heads=(2, 0)), dict(heads=(2,), readout="middle")])
def test_bad_architecture_raises_input_error(bad):
    with pytest.raises(InputError):
        derive_paths(**bad)


def test_second_call_is_a_cache_hit():
    derive_paths((3,), "mean", form="matrix")
    d = derive_paths((3,), "mean", form="matrix")
    assert d.cache_hit


# ------------------------------------------------------------------------------------------
# command line

runner = CliRunner()


def _app():
    """The shared `derive` sub-app mounted as in statmech_attn.cli (built here so that these tests
    do not depend on other theories' command modules importing cleanly)."""
    import typer

    from statmech_attn.cli.derive import app as derive_app

    app = typer.Typer()
    app.add_typer(derive_app, name="derive")
    app.command("version")(lambda: None)
    return app


def _cli(*args):
    return runner.invoke(_app(), ["derive", "paths", *args])


@pytest.mark.parametrize("args, word", [
    (["--layers", "0", "--heads", "2"], "layers"),
    (["--layers", "2", "--heads", "2,0"], "heads"),
    (["--layers", "1", "--heads", "0"], "heads"),
    (["--layers", "2", "--heads", "2,2,2"], "heads"),
    (["--layers", "1", "--heads", "2", "--readout", "middle"], "readout"),
    (["--layers", "1", "--heads", "2", "--form", "tensor"], "form"),
])
def test_cli_bad_input_exits_2_with_one_line(args, word):
    r = _cli(*args)
    assert r.exit_code == 2
    err = r.stderr.strip().splitlines()
    assert len(err) == 1 and word in err[0] and "Traceback" not in r.output


def test_cli_prints_and_writes_latex(tmp_path):
    r = _cli("--layers", "2", "--heads", "2,1", "--readout", "mean")
    assert r.exit_code == 0 and "fixed-point form: U_1" in r.stdout and "readout = mean" in r.stdout
    out = tmp_path / "eqs.tex"
    r = _cli("--layers", "1", "--heads", "2", "--form", "components", "--latex", str(out))
    assert r.exit_code == 0 and out.exists()
    assert out.read_text().count(r"\begin{equation}") == 3 + 2 + 1  # 3 entries, U_a (+ fixed point), S
