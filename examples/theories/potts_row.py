"""The replica theory of one factored-attention row (the Potts model's §7) through ``statmech_attn.theory``.

    statmech-attn theory sweep examples/theories/potts_row.py --over alpha --min 0.05 --max 20 --n 30

equals ``statmech-attn potts replica examples/potts_replica.toml`` (same colour matrix, ρ, λ and
cubature, read from that config) to 1e-10.  This file is Python and runs as such when loaded (like a
pytest conftest.py).

Setting: M = αN contexts X ∈ R^{C×N} with columns N(0, Σ), labels y ~ softmax(Xw*/√N), ‖w*‖²/N = ρ,
ŵ = argmin Σ_μ CE(y_μ, X_μ w/√N) + (λ/2)‖w‖².  On range(Σ) (rank r, Σ = B Bᵀ with B = Q_r Λ_r^{1/2})
the logits are B x with x ∈ R^r.  Order parameters m = ŵ·w*/N, q = ‖ŵ‖²/N, V and conjugates;
ω = √q ξ, u* = (m/√q) ξ + √(ρ − m²/q) ζ with ξ, ζ ~ N(0, I_r), p* = softmax(B u*), Z_y = E_ζ p*_y.

Free energy (the one the ``potts`` solver reports):

    Φ = −m m̂ + ½V̂q − ½q̂V + (ρm̂² + q̂)/(2(λ + V̂)) − α E_ξ Σ_y Z_y M_V(y, √q ξ),

M_V(y, ω) = min_z ‖z − ω‖²/(2V) + CE(y, Bz) (a Moreau envelope in R^r).  The theory also states
the fixed-point equations the ``potts`` solver iterates — the hats after Gaussian integration by
parts, which differ from ∂Φ/∂(m, q, V) = 0 by the cubature error only — so that both solve the same
discrete equations:

    m = ρm̂/(λ + V̂),  q = (ρm̂² + q̂)/(λ + V̂)²,  V = 1/(λ + V̂),
    m̂ = α E Σ_y f_y·Bᵀ E_ζ[p*_y(e_y − p*)],  q̂ = α E Σ_y Z_y ‖f_y‖²,  V̂ = α E Σ_y Z_y (r − tr A_y⁻¹)/V,

f_y = (z*_y − ω)/V, A_y = I + V Bᵀ D(p_y) B, p_y = softmax(B z*_y), D(p) = diag p − p pᵀ.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import sympy as sp

from statmech_attn.potts import ReplicaSetting
from statmech_attn.theory import (ControlParameter, Observable, OrderParameter, Theory, gaussian_expectation,
                                  moreau_envelope, proximal)

CONFIG = Path(__file__).resolve().parent.parent / "potts_replica.toml"

m, q, V, m_hat, q_hat, V_hat = sp.symbols("m q V m_hat q_hat V_hat")
alpha, lam, rho = sp.symbols("alpha lambda rho")


def _softmax(t: list) -> list:
    e = [sp.exp(ti) for ti in t]
    s = sum(e)
    return [ei / s for ei in e]


def make_theory(config: str | Path = CONFIG, cubature_order: int | None = None) -> Theory:
    """The theory for the colour matrix, ρ, λ and cubature order of a ``potts replica`` config."""
    with open(config, "rb") as f:
        rep = tomllib.load(f)["replica"]
    n = int(cubature_order or rep.get("cubature_order", 24))
    setting = ReplicaSetting.from_colour_matrix(np.asarray(rep["colour_matrix"], float))
    B = setting.range_basis  # (C, r): Σ = B Bᵀ
    C, r = B.shape
    xi = sp.symbols(f"xi1:{r + 1}")
    zeta = sp.symbols(f"zeta1:{r + 1}")
    zs = sp.symbols(f"z1:{r + 1}")
    Bm = sp.Matrix(B.tolist())

    def logits(x: list) -> list:
        return list(Bm * sp.Matrix(x))

    a, b = m / sp.sqrt(q), sp.sqrt(rho - m ** 2 / q)
    p_star = _softmax(logits([a * xi[i] + b * zeta[i] for i in range(r)]))
    Z = [gaussian_expectation(p_star[y], *zeta) for y in range(C)]
    Gyc = [[gaussian_expectation(p_star[y] * ((1 if y == c else 0) - p_star[c]), *zeta) for c in range(C)]
           for y in range(C)]
    w = [sp.sqrt(q) * x for x in xi]
    tz = logits(list(zs))
    energetic = m_hat_eq = q_hat_eq = V_hat_eq = train = 0
    for y in range(C):
        ce = sp.log(sum(sp.exp(tc) for tc in tz)) - tz[y]  # CE(y, Bz)
        zstar = proximal(ce, list(zs), w, V)
        f = [(zstar[i] - w[i]) / V for i in range(r)]
        energetic += Z[y] * moreau_envelope(ce, list(zs), w, V)
        m_hat_eq += sum(sum(f[i] * B[c, i] for i in range(r)) * Gyc[y][c] for c in range(C))
        q_hat_eq += Z[y] * sum(fi ** 2 for fi in f)
        p = _softmax(logits(zstar))
        D = sp.diag(*p) - sp.Matrix(p) * sp.Matrix(p).T
        A = sp.eye(r) + V * Bm.T * D * Bm
        V_hat_eq += Z[y] * (r - _trace_inverse(A)) / V
        train += Z[y] * ce.xreplace(dict(zip(zs, zstar)))
    E = lambda e: gaussian_expectation(e, *xi)  # noqa: E731
    free_energy = (-m * m_hat + V_hat * q / 2 - q_hat * V / 2 + (rho * m_hat ** 2 + q_hat) / (2 * (lam + V_hat))
                   - alpha * E(energetic))
    den = lam + V_hat
    equations = {
        "m": rho * m_hat / den, "q": (rho * m_hat ** 2 + q_hat) / den ** 2, "V": 1 / den,
        "m_hat": alpha * E(m_hat_eq), "q_hat": alpha * E(q_hat_eq), "V_hat": alpha * E(V_hat_eq),
    }
    student = _softmax(logits(w))
    teacher = _softmax(logits([sp.sqrt(rho) * x for x in xi]))
    test_ce = E(-sum(Z[y] * sp.log(student[y]) for y in range(C)))
    cond_entropy = E(-sum(pt * sp.log(pt) for pt in teacher))
    return Theory(
        name="potts_row",
        description="Replica theory of one factored-attention row (Potts §7), teacher-student softmax regression.",
        order_parameters=[
            OrderParameter("m", "overlap ŵ·w*/N", init=0.01),
            OrderParameter("q", "self-overlap ‖ŵ‖²/N", init=0.02, lower=0.0),
            OrderParameter("V", "response", init=1 / lam, lower=0.0),
            OrderParameter("m_hat", "conjugate of m", init=0.0),
            OrderParameter("q_hat", "conjugate of q", init=0.0),
            OrderParameter("V_hat", "conjugate of V", init=0.0),
        ],
        control_parameters=[
            ControlParameter("alpha", 1.0, lower=0.0, inclusive=False, meaning="samples per context length M/N"),
            ControlParameter("rho", float(rep.get("teacher_norm", 1.0)), lower=0.0, inclusive=False,
                             meaning="teacher norm ‖w*‖²/N"),
            ControlParameter("lambda", float(rep.get("ridge", 0.1)), lower=0.0, inclusive=False, meaning="ridge λ"),
        ],
        free_energy=free_energy,
        equations=equations,
        observables=[
            Observable("test_ce", test_ce, "test cross-entropy E Σ_y p*_y (−ln softmax(√q Bξ)_y)"),
            Observable("kl", test_ce - cond_entropy, "test_ce − cond_entropy"),
            Observable("cond_entropy", cond_entropy, "E[−Σ_y p*_y ln p*_y], u* ~ N(0, ρI)"),
            Observable("eps_w", (rho - 2 * m + q) / rho, "‖ŵ − w*‖²/‖w*‖²"),
            Observable("cosine", m / sp.sqrt(rho * q), "m/√(ρq)"),
            Observable("train_loss", E(train), "mean training cross-entropy"),
        ],
        cubature_order=n,
    )


def _trace_inverse(A: sp.Matrix) -> sp.Expr:
    """tr A⁻¹ (closed form for 1×1 and 2×2, the adjugate otherwise)."""
    if A.shape == (1, 1):
        return 1 / A[0, 0]
    if A.shape == (2, 2):
        return (A[0, 0] + A[1, 1]) / (A[0, 0] * A[1, 1] - A[0, 1] * A[1, 0])
    return A.adjugate().trace() / A.det()


theory = make_theory()
