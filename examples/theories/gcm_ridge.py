"""Ridge regression on Gaussian covariates: the teacher–student model of Loureiro et al.
("Learning curves of generic features maps for realistic datasets with a teacher-student model",
NeurIPS 2021; the GCMProject code), stated as a free energy for ``statmech_attn.theory``.

    statmech-attn theory derive examples/theories/gcm_ridge.py
    statmech-attn theory solve  examples/theories/gcm_ridge.py --set alpha=2 --set lambda=0.1
    statmech-attn theory sweep  examples/theories/gcm_ridge.py --over alpha --min 0.1 --max 10 --n 100 --out runs/ridge

This file is Python and runs as such when loaded (like a pytest conftest.py): only load theory
files you trust.

Setting: n samples x_μ ~ N(0, Ω) in R^p, labels y = θ·x/√p + √Δ η, the estimator minimises
Σ_μ ½(y_μ − w·x_μ/√p)² + (λ/2)‖w‖² (the penalty is added to the *sum* of the losses).
alpha = n/p.  With Ω = Σ_i ω_i e_i e_iᵀ and t_i the teacher's weight on e_i (GCMProject's spectral
form, teacher features = student features), ρ = (1/p) Σ_i ω_i t_i² is the variance of the teacher
field; the NPZ's ``t`` is rescaled so that this equals the control parameter ``rho``.
Without a spectrum Ω = I and ρ = ‖θ‖²/p.

Order parameters in GCMProject's normalisation: m = θᵀΩŵ/p, q = ŵᵀΩŵ/p, V (the response), and
their conjugates.  Free energy (zero temperature, replica symmetric):

    Φ = −m m̂ + ½V̂q − ½q̂V + ½ ⟨(ρ m̂² ω² t² + q̂ ω)/(λ + V̂ ω)⟩ − α (ρ + Δ − 2m + q)/(2(1 + V)),

⟨·⟩ the mean over the spectrum; the last term is α E M_V(y, ω̂) with the Moreau envelope of the square
loss, M_V(y, ω) = (y − ω)²/(2(1 + V)), in closed form.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from statmech_attn.theory import ControlParameter, Observable, OrderParameter, Theory, spectral_mean

# an NPZ with arrays `omega` (eigenvalues of Ω) and `t` (teacher weights per eigendirection), or None
SPECTRUM_NPZ = None

m, q, V, m_hat, q_hat, V_hat = sp.symbols("m q V m_hat q_hat V_hat")
alpha, lam, Delta, rho = sp.symbols("alpha lambda Delta rho")
omega, t = sp.symbols("omega t")


def spectrum(npz: str | None = None) -> dict[str, np.ndarray]:
    """ω and t with (1/p) Σ ω t² = 1 (isotropic Ω = I without a file)."""
    if npz is None:
        return {"omega": np.ones(1), "t": np.ones(1)}
    with np.load(npz) as z:
        w, tt = np.asarray(z["omega"], float), np.asarray(z["t"], float)
    return {"omega": w, "t": tt / np.sqrt(np.mean(w * tt ** 2))}


def make_theory(npz: str | None = SPECTRUM_NPZ) -> Theory:
    error = rho + Delta - 2 * m + q  # E (y − ω̂)² on a fresh sample
    entropic = sp.Rational(1, 2) * spectral_mean((rho * m_hat ** 2 * omega ** 2 * t ** 2 + q_hat * omega)
                                                 / (lam + V_hat * omega), omega, t)
    free_energy = (-m * m_hat + V_hat * q / 2 - q_hat * V / 2 + entropic
                   - alpha * error / (2 * (1 + V)))
    return Theory(
        name="gcm_ridge",
        description="Ridge regression, Gaussian covariate teacher-student model (Loureiro et al. 2021).",
        order_parameters=[
            OrderParameter("m", "teacher-student overlap θᵀΩŵ/p", init=0.1),
            OrderParameter("q", "student self-overlap ŵᵀΩŵ/p", init=0.2, lower=0.0),
            OrderParameter("V", "response (variance of the estimator)", init=1.0, lower=0.0),
            OrderParameter("m_hat", "conjugate of m", init=alpha),
            OrderParameter("q_hat", "conjugate of q", init=alpha),
            OrderParameter("V_hat", "conjugate of V", init=alpha),
        ],
        control_parameters=[
            ControlParameter("alpha", 1.0, lower=0.0, inclusive=False, meaning="samples per dimension n/p"),
            ControlParameter("lambda", 0.1, lower=0.0, inclusive=False, meaning="ridge penalty on the sum of losses"),
            ControlParameter("Delta", 0.0, lower=0.0, meaning="label-noise variance"),
            ControlParameter("rho", 1.0, lower=0.0, inclusive=False, meaning="variance of the teacher field"),
        ],
        free_energy=free_energy,
        observables=[
            Observable("test_error", error, "E (y − ŷ)² on a fresh sample, noise included"),
            Observable("train_loss", error / (1 + V) ** 2, "training mean squared error (no ½, no penalty)"),
        ],
        spectrum=spectrum(npz),
    )


theory = make_theory()
