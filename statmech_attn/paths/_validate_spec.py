"""The ``[validate]`` table of a ``paths`` config (theory-vs-simulation validation, issue 8).

Every width of the finite network is set to one N from the ``widths`` ladder (N₁ = … = N_L = N_a
= N); for each α of ``alphas`` the training set has P = α N examples (rounded to an even number).
Architecture, priors and temperature come from ``[model]``; the data from ``[data]``.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from ..config import all_at_least, all_positive, at_least, field, positive
from ..errors import InputError


def _ints_at_least_2(v: tuple) -> tuple:
    all_at_least(2)(v)
    if any(int(x) != x for x in v):
        raise InputError("", list(v), "every width must be an integer >= 2")
    return tuple(int(x) for x in v)


def _distinct_seeds(v: tuple) -> tuple:
    if not v or any(int(x) != x or x < 0 for x in v) or len(set(v)) != len(v):
        raise InputError("", list(v), "must be a non-empty list of distinct integers >= 0")
    return tuple(int(x) for x in v)


@dataclasses.dataclass(frozen=True)
class GDConfig:
    """[validate.gd]: full-batch gradient descent on the regularised loss
    ½Σ(f − y)² + (T/2)Σ‖Θ‖²/σ² from ``num_inits`` prior initialisations."""

    enabled: bool = True
    learning_rate: float = field(0.02, check=positive)
    steps: int = field(3000, check=at_least(1))
    num_inits: int = field(4, check=at_least(2))


@dataclasses.dataclass(frozen=True)
class LangevinConfig:
    """[validate.langevin]: Langevin dynamics Θ ← Θ − η∇loss + √(2ηT) ξ, η = ``step_size``/P, which
    samples the posterior (up to an O(η) discretisation bias); ``num_chains`` chains of ``num_steps``
    steps, the first ``burn_in`` dropped, every ``thin``-th kept.  Run at the widths N ≤
    ``max_width`` only: a step costs ∝ N²P and the slowest (prior-dominated) directions relax in
    ≈ P/(step_size·T/σ²) steps, so wide networks at low T need far longer chains than NUTS."""

    enabled: bool = True
    step_size: float = field(0.3, check=positive)
    num_steps: int = field(250000, check=at_least(10))
    burn_in: int = field(25000, check=at_least(0))
    thin: int = field(75, check=at_least(1))
    num_chains: int = field(4, check=at_least(2))
    max_width: int = field(16, check=at_least(1))


@dataclasses.dataclass(frozen=True)
class ValidateConfig:
    """[validate]: widths ladder, α values, seeds, NUTS settings, pass/fail rule.

    The grid is α × N × seed (``alphas`` × ``widths`` × ``seeds``; a seed is an independent
    repetition of the sampling and training on the same data); each point is one task of the grid
    layer (``[compute]``, ``--scheduler``, ``--resume``).

    A statistic passes when |simulation − theory| ≤ ``tolerance_sigmas`` · SE + allowance, with the
    finite-size allowance c · scale / N (scale: RMS of the theory values of that statistic; c =
    ``finite_size_allowance_variance`` for the predictor variance, whose O(1/N) correction — the
    spread of the conditional mean over the weights, absent at the saddle point — is the largest
    measured, and ``finite_size_allowance`` for the rest).  Runs whose compared statistics have split R-hat > ``rhat_max`` or ESS <
    ``ess_min`` are flagged not mixed and not used.  The GP-limit check (``gp_width`` > 0) samples
    a network of width ``gp_width`` on ``gp_n_train`` examples at temperature ``gp_temperature``
    with ``gp_sampler`` and compares its predictor and overlaps with the GP values within
    ``tolerance_sigmas`` SE and no further allowance; it counts only where the finite-α saddle point
    at that width is within ``gp_max_theory_gap`` SE of the GP (the width is in the GP limit).
    """

    widths: tuple[int, ...] = field((32, 64, 128), check=_ints_at_least_2)
    alphas: tuple[float, ...] = field((1.0,), check=all_positive)
    seeds: tuple[int, ...] = field((0,), check=_distinct_seeds)
    n_test: int = field(20, check=at_least(2))
    sampler: Literal["collapsed", "full", "wishart"] = "collapsed"
    num_chains: int = field(4, check=at_least(2))
    num_warmup: int = field(500, check=at_least(10))
    num_samples: int = field(500, check=at_least(10))
    chain_method: Literal["sequential", "vectorized"] = "vectorized"
    target_accept: float = field(0.8, check=positive)
    max_tree_depth: int = field(10, check=at_least(1))
    rhat_max: float = field(1.01, check=positive)
    ess_min: float = field(200.0, check=positive)
    tolerance_sigmas: float = field(3.0, check=positive)
    finite_size_allowance: float = field(2.0, check=at_least(0.0))
    finite_size_allowance_variance: float = field(10.0, check=at_least(0.0))
    require_shrinking: bool = False
    gp_width: int = field(0, check=at_least(0))
    gp_n_train: int = field(2, check=at_least(2))
    gp_temperature: float = field(1.0, check=positive)
    gp_sampler: Literal["wishart", "collapsed", "full"] = "wishart"
    gp_max_theory_gap: float = field(1.0, check=positive)
    theory_curve_points: int = field(9, check=at_least(0))
    gd: GDConfig = dataclasses.field(default_factory=GDConfig)
    langevin: LangevinConfig = dataclasses.field(default_factory=LangevinConfig)

    def __post_init__(self) -> None:
        if not (0 < self.target_accept < 1):
            raise InputError("validate.target_accept", self.target_accept, "must be in (0, 1)")
        if self.langevin.burn_in >= self.langevin.num_steps:
            raise InputError("validate.langevin.burn_in", self.langevin.burn_in,
                             f"must be < validate.langevin.num_steps = {self.langevin.num_steps}")
        if self.gp_width and self.gp_width < 2:
            raise InputError("validate.gp_width", self.gp_width, "must be 0 (off) or an integer >= 2")

    def quick(self) -> "ValidateConfig":
        """The ``--quick`` settings: widths (8, 16), the first α and seed, 4 chains × 150 draws after 150
        warm-up, ≤ 10 test inputs, short GD, Langevin (3000 steps) at N = 8 only, no GP-limit check and no extra theory
        curve (each new shape costs a compilation); a smoke test (< 2 min on 2 cores), not a
        validation."""
        return dataclasses.replace(
            self, widths=(8, 16), alphas=self.alphas[:1], seeds=self.seeds[:1], n_test=min(self.n_test, 10), num_chains=4,
            num_warmup=150, num_samples=150, chain_method="vectorized", max_tree_depth=min(self.max_tree_depth, 8),
            theory_curve_points=0, gp_width=0,
            gd=dataclasses.replace(self.gd, steps=min(self.gd.steps, 500), num_inits=2),
            langevin=dataclasses.replace(self.langevin, num_steps=min(self.langevin.num_steps, 3000),
                                         burn_in=min(self.langevin.burn_in, 1000), thin=min(self.langevin.thin, 10),
                                         max_width=min(self.langevin.max_width, 8)),
        )
