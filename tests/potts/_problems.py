"""Shared Potts test problems, with numbers taken from theory/potts.md §8 (not from the code)."""

from __future__ import annotations

import numpy as np


def check1_arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Check 1: L = 4, C = 3, β = 1, J01 = 1, J03 = 0.5, J12 = −0.5, J23 = 1, U = 1.5(I − 11ᵀ/3), h0 = (0.3, 0, 0)."""
    J = np.zeros((4, 4))
    J[0, 1], J[0, 3], J[1, 2], J[2, 3] = 1.0, 0.5, -0.5, 1.0
    J = J + J.T
    U = 1.5 * (np.eye(3) - np.ones((3, 3)) / 3)
    h = np.zeros((4, 3))
    h[0, 0] = 0.3
    return J, U, h, 1.0


CHECK1_LOG_Z = 5.134583982497794
CHECK1_P0 = np.array([0.4029599112, 0.3685828070, 0.3343702911, 0.3472379248])
CHECK1_P01_00 = 0.27032287074482714
CHECK1_P02_00 = 0.13832086024625753
CHECK1_CONDITIONAL = np.array([0.7527119923, 0.1679527474, 0.0793352603])  # site 1 given s = (0, ·, 2, 0)


def ring(L: int, coupling: float) -> np.ndarray:
    """J of a ring: J_{i,i+1 mod L} = coupling."""
    J = np.zeros((L, L))
    for i in range(L):
        J[i, (i + 1) % L] = J[(i + 1) % L, i] = coupling
    return J


ISING_U = np.array([[1.0, -1.0], [-1.0, 1.0]])
CHECK2_LOG_Z = 4.889261966588618
CHECK2_CORR = (0.4785314138104096, 0.25665726310589965, 0.1954686716650543)  # r = 1, 2, 3
CHECK2_LOG_Z_FIELD = 5.190780530232873
CHECK2_MAGNETISATION = 0.475046444490486


def planted(L: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """A planted sparse model: a ring with unit couplings plus two negative chords; centred Potts U."""
    J = ring(L, 1.0)
    for i, j in ((0, L // 2), (2, L - 2)):
        J[i, j] = J[j, i] = -0.8
    U = 2.0 * np.eye(3) - 2.0 / 3.0
    return J, U


def mc_standard_error(series: np.ndarray) -> float:
    """Standard error of the mean of ``series`` (chains, T) from its integrated autocorrelation time.

    τ is estimated here independently of the package (initial positive sequence of Geyer, chain
    averaged autocovariances by direct sums), so that the test does not rely on the code under test.
    """
    x = np.asarray(series, dtype=np.float64)
    K, T = x.shape
    xc = x - x.mean(axis=1, keepdims=True)
    var = np.mean(xc ** 2)
    if var == 0:
        return 0.0
    tau = 1.0
    for k in range(1, min(T // 2, 2000)):
        rho = np.mean(xc[:, :-k] * xc[:, k:]) / var
        if rho <= 0:
            break
        tau += 2 * rho
    return float(np.sqrt(x.var() * tau / x.size))
