"""The replica setting (docs/theories/potts.md): the teacher–student problem, its cubature, the state.

Σ of (9) from the colour matrix (:func:`colour_covariance`), the validated setting with its range(Σ)
basis B = Q_r Λ_r^{1/2} and the (ξ, ζ) cubature rules (:class:`ReplicaSetting`), and the
replica-symmetric order parameters (:class:`ReplicaState`).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from ..errors import InputError
from ._cubature import GaussRule, gaussian_rule, largest_product_order
from .spec import ReplicaConfig, check_alphas, check_ridge


def colour_covariance(colour_matrix: Any) -> np.ndarray:
    """Σ of (9): Σ = (1/C) Σ_c (U e_c)(U e_c)ᵀ − (U1/C)(U1/C)ᵀ for context colours uniform on {0..C−1}."""
    U = np.asarray(colour_matrix, dtype=np.float64)
    C = U.shape[0]
    mean = U @ np.ones(C) / C
    return U @ U.T / C - np.outer(mean, mean)


@dataclasses.dataclass(frozen=True, eq=False)
class ReplicaSetting:
    """The teacher–student problem of §7.1 plus the cubature of §7.5.

    Attributes:
        colour_covariance: Σ (C×C), symmetric positive semi-definite, C ≥ 2.
        teacher_norm: ρ = ‖w*‖²/N > 0.
        ridge: λ > 0.
        cubature_order: n, Gauss–Hermite nodes per dimension of range(Σ) for ξ.
        cubature_order_teacher: nodes per dimension for the teacher noise ζ; default: the largest
            order ≤ n whose product rule has at most ``max_teacher_nodes`` nodes (= n for rank ≤ 2
            and n ≤ 40; 10 for rank 3).  The teacher expectation costs K_ξ·K_ζ softmax evaluations,
            and its integrand (noise variance ρ − m²/q ≤ ρ) does not sharpen as q grows.
        max_nodes: a product Gauss–Hermite rule with more nodes (after pruning) than this is replaced
            by a fixed scrambled Sobol set of this size (quasi-Monte Carlo, the large-C fallback: rank 3
            keeps the product rule up to n = 33, rank 4 up to n = 11).
        max_teacher_nodes: node budget of the default teacher rule (see ``cubature_order_teacher``).
    """

    colour_covariance: np.ndarray
    teacher_norm: float = 1.0
    ridge: float = 0.1
    cubature_order: int = 24
    cubature_order_teacher: int | None = None
    max_nodes: int = 16_384
    max_teacher_nodes: int = 1_024

    def __post_init__(self) -> None:
        S = np.asarray(self.colour_covariance, dtype=np.float64)
        if S.ndim != 2 or S.shape[0] != S.shape[1]:
            raise InputError("colour_covariance", f"shape {S.shape}", "must be a square (C×C) matrix")
        if S.shape[0] < 2:
            raise InputError("colours", S.shape[0], "must be >= 2")
        if not np.all(np.isfinite(S)):
            raise InputError("colour_covariance", "NaN/inf", "every entry must be finite")
        if not np.allclose(S, S.T, rtol=1e-12, atol=1e-12):
            raise InputError("colour_covariance", "non-symmetric matrix", "must be symmetric")
        ev = np.linalg.eigvalsh(S)
        if ev.max() <= 0 or ev.min() < -1e-10 * max(1.0, float(np.abs(ev).max())):
            raise InputError("colour_covariance", f"eigenvalues in [{ev.min():.3g}, {ev.max():.3g}]",
                             "must be positive semi-definite and non-zero")
        object.__setattr__(self, "colour_covariance", 0.5 * (S + S.T))
        if not (math.isfinite(self.teacher_norm) and self.teacher_norm > 0):
            raise InputError("teacher_norm", self.teacher_norm, "must be a finite number > 0")
        check_ridge(self.ridge, "ridge")
        if self.cubature_order < 2:
            raise InputError("cubature_order", self.cubature_order, "must be >= 2")
        if self.cubature_order_teacher is not None and self.cubature_order_teacher < 1:
            raise InputError("cubature_order_teacher", self.cubature_order_teacher, "must be >= 1")

    @classmethod
    def from_colour_matrix(cls, colour_matrix: Any, **kwargs: Any) -> "ReplicaSetting":
        """The setting whose Σ follows from the colour matrix U by (9)."""
        U = np.asarray(colour_matrix, dtype=np.float64)
        if U.ndim != 2 or U.shape[0] != U.shape[1]:
            raise InputError("colour_matrix", f"shape {U.shape}", "must be a square (C×C) matrix")
        if U.shape[0] < 2:
            raise InputError("colours", U.shape[0], "must be >= 2")
        return cls(colour_covariance(U), **kwargs)

    @classmethod
    def from_config(cls, replica: "ReplicaConfig | Mapping[str, Any]", **kwargs: Any) -> "ReplicaSetting":
        """The setting of a ``[replica]`` table, under the TOML's own names.

        ``replica`` is a validated :class:`~statmech_attn.potts.spec.ReplicaConfig` or a mapping with
        exactly the keys of the TOML table (``colours``, ``colour_matrix`` or ``colour_covariance``,
        ``teacher_norm``, ``ridge``, ``cubature_order``, ...; the α grid and solver keys are read by
        the verbs, not the setting).  Σ is taken as given, or follows from U by (9).  ``kwargs``
        (``max_nodes``, ``max_teacher_nodes``) pass through.  Errors name the dotted key
        (``replica.ridge``), as the config file does.
        """
        if isinstance(replica, Mapping):
            from .spec import PottsSpec

            replica = PottsSpec.from_config({"replica": dict(replica)}).replica  # type: ignore[assignment]
        rc: ReplicaConfig = replica  # type: ignore[assignment]
        args = dict(teacher_norm=rc.teacher_norm, ridge=rc.ridge, cubature_order=rc.cubature_order,
                    cubature_order_teacher=rc.cubature_order_teacher, **kwargs)
        try:
            if rc.colour_covariance is not None:
                return cls(rc.colour_covariance, **args)
            return cls.from_colour_matrix(rc.colour_matrix, **args)
        except InputError as e:
            raise e.prefixed("replica") from None

    @property
    def colours(self) -> int:
        """C."""
        return int(self.colour_covariance.shape[0])

    @functools.cached_property
    def teacher_order(self) -> int:
        """Nodes per dimension for ζ (``cubature_order_teacher``, or the default of the class docstring)."""
        if self.cubature_order_teacher is not None:
            return self.cubature_order_teacher
        return largest_product_order(self.rank, self.max_teacher_nodes, self.cubature_order)

    @functools.cached_property
    def range_basis(self) -> np.ndarray:
        """B = Q_r Λ_r^{1/2} (C×r): S z = B Q_rᵀ z with S = Σ^{1/2}; r = rank Σ."""
        ev, Q = np.linalg.eigh(self.colour_covariance)
        keep = ev > 1e-12 * ev.max()
        return Q[:, keep] * np.sqrt(ev[keep])

    @property
    def rank(self) -> int:
        """r = rank Σ, the dimension of the cubature."""
        return int(self.range_basis.shape[1])

    def replace(self, **changes: Any) -> "ReplicaSetting":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def rules(self, order: int | None = None, teacher_order: int | None = None) -> tuple[GaussRule, GaussRule]:
        """The (ξ, ζ) cubature rules on range(Σ)."""
        n = self.cubature_order if order is None else order
        nt = self.teacher_order if teacher_order is None else teacher_order
        return (gaussian_rule(n, self.rank, max_nodes=self.max_nodes),
                gaussian_rule(nt, self.rank, max_nodes=self.max_nodes, seed=1))


class ReplicaState(NamedTuple):
    """Replica-symmetric order parameters (§7.2): m = ŵ·w*/N, q = ‖ŵ‖²/N, V and their conjugates."""

    m: Any
    q: Any
    V: Any
    m_hat: Any
    q_hat: Any
    V_hat: Any


def _check_alpha(alpha: Any) -> None:
    """Every α (a number or an array) must be a finite number > 0 (the rule :func:`.spec.check_alphas`)."""
    check_alphas(alpha, "alpha")
