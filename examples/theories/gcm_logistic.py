"""Logistic regression on Gaussian covariates (Loureiro et al., NeurIPS 2021; GCMProject conventions),
stated as a free energy for ``statmech_attn.theory``.

    statmech-attn theory solve examples/theories/gcm_logistic.py --set alpha=2 --set lambda=0.1
    statmech-attn theory sweep examples/theories/gcm_logistic.py --over alpha --min 0.2 --max 5 --n 100

This file is Python and runs as such when loaded (like a pytest conftest.py).

Setting: x_μ ~ N(0, Ω) in R^p, labels y = sign(θ·x/√p) (no noise), the estimator minimises
Σ_μ log(1 + exp(−y_μ w·x_μ/√p)) + (λ/2)‖w‖²; alpha = n/p; ρ the variance of the teacher field;
optional spectrum (``omega``, ``t``) as in ``gcm_ridge.py``.  Order parameters m = θᵀΩŵ/p,
q = ŵᵀΩŵ/p, V and conjugates.  Free energy (zero temperature, replica symmetric):

    Φ = −m m̂ + ½V̂q − ½q̂V + ½⟨(ρ m̂² ω² t² + q̂ω)/(λ + V̂ω)⟩
        − α E_ξ Σ_{y=±1} Z(y, mξ/√q, ρ − m²/q) M_V(y, √q ξ),

Z(y, w, v) = ½(1 + y erf(w/√(2v))) the probability of the label y given the student's field (the
teacher field is mξ/√q + √(ρ − m²/q) ζ), and M_V(y, ω) = min_z [(z − ω)²/(2V) + log(1 + e^{−yz})]
the Moreau envelope of the logistic loss (solved numerically, differentiated implicitly).
"""

from __future__ import annotations

import sympy as sp

from statmech_attn.theory import (ControlParameter, Observable, OrderParameter, Theory, gaussian_expectation,
                                  moreau_envelope, proximal, spectral_mean)

SPECTRUM_NPZ = None  # an NPZ with arrays `omega` and `t` (see gcm_ridge.py), or None: Ω = I
CUBATURE_ORDER = 64  # Gauss–Hermite nodes for E_ξ

m, q, V, m_hat, q_hat, V_hat = sp.symbols("m q V m_hat q_hat V_hat")
alpha, lam, rho = sp.symbols("alpha lambda rho")
omega, t, xi, z = sp.symbols("omega t xi z")


def _spectrum(npz: str | None) -> dict:
    import numpy as np

    if npz is None:
        return {"omega": np.ones(1), "t": np.ones(1)}
    with np.load(npz) as f:
        w, tt = np.asarray(f["omega"], float), np.asarray(f["t"], float)
    return {"omega": w, "t": tt / np.sqrt(np.mean(w * tt ** 2))}


def make_theory(npz: str | None = SPECTRUM_NPZ, cubature_order: int = CUBATURE_ORDER) -> Theory:
    teacher_mean = m / sp.sqrt(q) * xi  # E[teacher field | student field √q ξ]
    teacher_var = rho - m ** 2 / q
    energetic = 0
    train = 0
    for y in (1, -1):
        loss = sp.log(1 + sp.exp(-y * z))
        Z = (1 + y * sp.erf(teacher_mean / sp.sqrt(2 * teacher_var))) / 2
        energetic += Z * moreau_envelope(loss, z, sp.sqrt(q) * xi, V)
        train += Z * loss.subs(z, proximal(loss, z, sp.sqrt(q) * xi, V))
    entropic = sp.Rational(1, 2) * spectral_mean((rho * m_hat ** 2 * omega ** 2 * t ** 2 + q_hat * omega)
                                                 / (lam + V_hat * omega), omega, t)
    free_energy = (-m * m_hat + V_hat * q / 2 - q_hat * V / 2 + entropic
                   - alpha * gaussian_expectation(energetic, xi))
    return Theory(
        name="gcm_logistic",
        description="Logistic regression, sign teacher, Gaussian covariates (Loureiro et al. 2021).",
        order_parameters=[
            OrderParameter("m", "teacher-student overlap θᵀΩŵ/p", init=0.5),
            OrderParameter("q", "student self-overlap ŵᵀΩŵ/p", init=1.0, lower=0.0),
            OrderParameter("V", "response", init=1.0, lower=0.0),
            OrderParameter("m_hat", "conjugate of m", init=0.5 * alpha),
            OrderParameter("q_hat", "conjugate of q", init=0.2 * alpha),
            OrderParameter("V_hat", "conjugate of V", init=0.5 * alpha),
        ],
        control_parameters=[
            ControlParameter("alpha", 1.0, lower=0.0, inclusive=False, meaning="samples per dimension n/p"),
            ControlParameter("lambda", 0.1, lower=0.0, inclusive=False, meaning="ridge penalty on the sum of losses"),
            ControlParameter("rho", 1.0, lower=0.0, inclusive=False, meaning="variance of the teacher field"),
        ],
        free_energy=free_energy,
        observables=[
            Observable("test_error", sp.acos(m / sp.sqrt(rho * q)) / sp.pi, "0-1 test error arccos(m/√(ρq))/π"),
            Observable("train_loss", alpha / alpha * gaussian_expectation(train, xi),
                       "mean training logistic loss (no penalty)"),
        ],
        spectrum=_spectrum(npz),
        cubature_order=cubature_order,
    )


theory = make_theory()
