"""Derived conditions vs autodiff, stability flags along sweeps, and the command line's errors."""

from __future__ import annotations

import math
import runpy
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp
from typer.testing import CliRunner

from statmech_attn.errors import InputError
from statmech_attn.theory import (ControlParameter, OrderParameter, Theory, continuation, derive, solve,
                                  stability_changes, sweep)
from statmech_attn.theory._compiled import compiled

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "theories"


def _cli():
    from statmech_attn.cli.theory import app

    return app


def test_ridge_conditions_equal_autodiff():
    th = runpy.run_path(str(EXAMPLES / "gcm_ridge.py"))["theory"]
    c = compiled(th)
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = jnp.asarray(rng.uniform(0.2, 1.5, 6))
        cc = jnp.asarray([1.7, 0.3, 0.2, 1.1])
        assert np.allclose(c.grad_jit(x, cc), jax.grad(c.phi)(x, cc), rtol=1e-12, atol=1e-14)


def test_logistic_conditions_equal_autodiff():
    """Moreau envelopes inside a Gaussian expectation: symbolic envelope-theorem derivatives vs JAX
    autodiff through the implicitly differentiated proximal map."""
    th = runpy.run_path(str(EXAMPLES / "gcm_logistic.py"))["make_theory"](cubature_order=24)
    c = compiled(th)
    x = jnp.asarray([0.6, 1.3, 1.7, 0.4, 0.1, 0.3])
    cc = jnp.asarray([1.5, 0.2, 1.0])
    sym = np.asarray(c.grad_jit(x, cc))
    auto = np.asarray(jax.jit(jax.grad(c.phi))(x, cc))
    assert np.allclose(sym, auto, rtol=1e-9, atol=1e-12)


def test_derive_text_latex_and_fixed_point_forms():
    th = runpy.run_path(str(EXAMPLES / "gcm_ridge.py"))["theory"]
    d = derive(th)
    assert d.fixed_point_source["m"] == "dPhi/dm_hat" and d.fixed_point_source["m_hat"] == "dPhi/dm"
    alpha, V = sp.symbols("alpha V")
    assert sp.simplify(d.fixed_point["V_hat"] - alpha / (1 + V)) == 0
    assert "dPhi/dq_hat" in d.text() and r"\frac{\partial\Phi}{\partial" in d.latex()


def _curie_weiss() -> Theory:
    m, beta, h = sp.symbols("m beta h")
    return Theory(
        name="curie_weiss",
        order_parameters=[OrderParameter("m", "magnetisation", init=0.8)],
        control_parameters=[ControlParameter("beta", 1.5, lower=0.0, inclusive=False), ControlParameter("h", 0.0)],
        free_energy=m ** 2 / 2 - sp.log(2 * sp.cosh(beta * (m + h))) / beta,
        extremum="minimum",
    )


def test_sweep_flags_the_instability_of_the_paramagnet():
    """From m = 0 at h = 0 the sweep in β stays on m = 0, which loses stability at β = 1."""
    th = _curie_weiss()
    betas = np.linspace(0.5, 1.5, 11)
    sols = sweep(th, "beta", betas, {"h": 0.0}, init={"m": 0.0})
    ch = stability_changes(sols, "beta")
    assert len(ch) == 1 and ch[0]["between"] == [pytest.approx(0.9), pytest.approx(1.0)] or \
        ch[0]["between"] == [pytest.approx(1.0), pytest.approx(1.1)]
    assert sols[-1].result.value == "not_a_minimum"  # the theory asked for a minimum


def test_pseudo_arclength_follows_the_branch_through_the_fold():
    """Magnetised branch at β = 1.5 from h = 0.3 down: the fold at h_c = atanh(m_c)/β − m_c,
    m_c = √(1 − 1/β), where the Hessian's eigenvalue changes sign; the branch turns back."""
    th = _curie_weiss()
    beta = 1.5
    mc = math.sqrt(1 - 1 / beta)
    hc = mc - math.atanh(mc) / beta  # h at the fold of the m > 0 branch (negative)
    branch = continuation(th, "h", 0.3, -0.3, {"beta": beta}, init={"m": 0.9}, step=0.02, max_points=300)
    hs = [s.stats["controls"]["h"] for s in branch]
    assert min(hs) == pytest.approx(-abs(hc), abs=2e-3) or min(hs) <= -abs(hc) + 1e-9
    from statmech_attn.theory.records import point_record, sweep_record

    rec = sweep_record(th, "h", [point_record(th, s) for s in branch], branch="pseudo-arclength")
    assert rec["stability_changes"], "the fold must be flagged"
    a, b = rec["stability_changes"][0]["between"]
    assert min(a, b) - 0.05 <= -abs(hc) <= max(a, b) + 0.05
    for s in branch:  # every point solves m = tanh(β(m + h))
        m, h = s.value["m"], s.stats["controls"]["h"]
        assert abs(m - math.tanh(beta * (m + h))) < 1e-9


BAD = {
    "missing.py": ("import sympy\nx = 1\n", "theory"),
    "unused.py": ("import sympy as sp\nfrom statmech_attn.theory import *\nm, k = sp.symbols('m k')\n"
                  "theory = Theory('t', [OrderParameter('m'), OrderParameter('k')], [], m**2)\n",
                  "order_parameters.k"),
    "nonfinite.py": ("import sympy as sp\nfrom statmech_attn.theory import *\nq = sp.Symbol('q')\n"
                     "theory = Theory('t', [OrderParameter('q', init=-1.0)], [], q * sp.log(q))\n", "free_energy"),
    "raises.py": ("raise RuntimeError('boom')\n", "file"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_theory_files_exit_2_with_one_line(tmp_path, name):
    body, param = BAD[name]
    f = tmp_path / name
    f.write_text(body)
    r = CliRunner().invoke(_cli(), ["solve", str(f)])
    assert r.exit_code == 2, r.output
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {param}"), lines
    assert "Traceback" not in r.output


def test_control_out_of_range_exit_2():
    r = CliRunner().invoke(_cli(), ["solve", str(EXAMPLES / "gcm_ridge.py"), "--set", "lambda=-1"])
    assert r.exit_code == 2
    assert r.stderr.strip().splitlines() == ["error: lambda = '-1': must be a finite number > 0"]


def test_cli_solve_json_sweep_out_resume_plot(tmp_path):
    import json

    f = str(EXAMPLES / "gcm_ridge.py")
    r = CliRunner().invoke(_cli(), ["solve", f, "--set", "alpha=2", "--set", "lambda=0.1", "--json"])
    assert r.exit_code == 0, r.output
    rec = json.loads(r.stdout)["result"]
    assert rec["converged"] and rec["extremum"] == "saddle" and "test_error" in rec["observables"]
    out = tmp_path / "run"
    r = CliRunner().invoke(_cli(), ["sweep", f, "--over", "alpha", "--values", "0.5,1,2", "--out", str(out)])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(_cli(), ["sweep", f, "--over", "alpha", "--values", "0.5,1,2,4", "--out", str(out),
                                    "--resume"])
    assert r.exit_code == 0, r.output
    res = json.loads((out / "result.json").read_text())["result"]
    assert [p["alpha"] for p in res["points"]] == [0.5, 1.0, 2.0, 4.0]
    for p in res["points"]:
        assert {"m", "q", "V", "m_hat", "q_hat", "V_hat", "test_error", "train_loss", "residual", "converged",
                "iterations", "hessian_signature", "stability_change", "lambda"} <= set(p)
    r = CliRunner().invoke(_cli(), ["plot", str(out)])
    assert r.exit_code == 0 and (out / "observables.png").is_file()
    r = CliRunner().invoke(_cli(), ["sweep", f, "--over", "alpha", "--values", "0.5,1", "--out", str(out), "--resume",
                                    "--set", "lambda=0.3"])
    assert r.exit_code == 2 and len(r.stderr.strip().splitlines()) == 1


def test_python_api_errors():
    th = runpy.run_path(str(EXAMPLES / "gcm_ridge.py"))["theory"]
    with pytest.raises(InputError, match="alpha"):
        solve(th, {"alpha": 0.0})
    with pytest.raises(InputError, match="control parameter"):
        solve(th, {"gamma": 1.0})


def test_run_equals_the_cli_json_for_theory_verbs(tmp_path):
    """``statmech_attn.run("theory solve"|"theory sweep", {...})`` returns the record ``--json`` prints."""
    import json as _json

    import statmech_attn
    from statmech_attn.cli import app as root

    ridge = str(Path(__file__).resolve().parents[2] / "examples" / "theories" / "gcm_ridge.py")
    volatile = {"created", "argv", "environment", "wall_time_s", "wall_time", "seconds"}

    def strip(x):
        if isinstance(x, dict):
            return {k: strip(v) for k, v in x.items() if k not in volatile}
        return [strip(v) for v in x] if isinstance(x, list) else x

    r = CliRunner().invoke(root, ["theory", "solve", ridge, "--set", "alpha=2", "--set", "lambda=0.1", "--json"])
    assert r.exit_code == 0, r.output
    api = statmech_attn.run("theory solve", {"file": ridge, "set": ["alpha=2", "lambda=0.1"]})
    assert strip(api) == strip(_json.loads(r.stdout))
    r = CliRunner().invoke(root, ["theory", "sweep", ridge, "--over", "alpha", "--values", "0.5,1,2", "--json"])
    assert r.exit_code == 0, r.output
    api = statmech_attn.run("theory sweep", {"file": ridge, "over": "alpha", "values": [0.5, 1.0, 2.0]})
    assert strip(api) == strip(_json.loads(r.stdout))
    assert [p["alpha"] for p in api["result"]["points"]] == [0.5, 1.0, 2.0]
