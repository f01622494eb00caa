"""The Potts config schema (docs/theories/potts.md): tables [potts], [sampler], [train], [replica], [validate].

One top-level schema, :class:`PottsSpec`, serves every ``statmech-attn potts`` verb; each verb
asks for the tables it needs (``potts sample`` needs [potts], ``potts replica`` needs [replica],
...).  Every field is validated here, once; cross-field checks live in ``__post_init__`` and raise
:class:`~statmech_attn.errors.InputError` naming the dotted key.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

import numpy as np

from ..compute import ComputeConfig
from ..config import (Spec,
    at_least,
    field,
    finite_matrix,
    nonnegative,
    positive,
    symmetric_matrix,
)
from ..errors import InputError

__all__ = [
    "PottsModelConfig",
    "SamplerConfig",
    "TrainConfig",
    "ReplicaConfig",
    "ValidateConfig",
    "PottsSpec",
    "require",
    "check_ridge",
    "check_alphas",
]


def check_ridge(v: float, param: str = "") -> float:
    """The rule for λ (``[replica] ridge``): finite and > 0.

    The saddle point needs λ > 0: the student's problem (10) is strictly convex only with the ridge
    (softmax cross-entropy alone is not, and has no minimiser once the data are separable), and the
    solver starts from V = 1/λ.  The config field and :class:`ReplicaSetting` both call this.
    """
    if not (math.isfinite(v) and v > 0):
        raise InputError(param, v, "must be a finite number > 0 (the saddle point needs λ > 0)")
    return v


def check_alphas(alpha, param: str = ""):
    """The rule for α = P/N (a number, a list or an array): non-empty, every entry finite and > 0.

    One definition for the [replica] α grid (``alphas``, ``alpha_min``, ``alpha_max``) and for every
    Python entry point that takes α (``solve``, ``replica_curve``, the limits).
    """
    a = np.asarray(alpha, dtype=np.float64)
    if a.size == 0:
        raise InputError(param, [], "must be a non-empty list of numbers > 0")
    if not np.all(np.isfinite(a)) or np.any(a <= 0):
        shown = a.tolist() if a.size < 8 else f"{a.size} values"
        raise InputError(param, shown, "every α must be a finite number > 0")
    return alpha


def _fraction_below_one(v: float) -> float:
    if not (math.isfinite(v) and 0 <= v < 1):
        raise InputError("", v, "must be in [0, 1)")
    return v


def _open_unit(v: float) -> float:
    if not (math.isfinite(v) and 0 < v <= 1):
        raise InputError("", v, "must be in (0, 1]")
    return v


def _all_ints_at_least(lo: int):
    def check(v: tuple[int, ...]) -> tuple[int, ...]:
        for x in v:
            if x < lo:
                raise InputError("", list(v), f"every entry must be an integer >= {lo}")
        return v

    return check


@dataclasses.dataclass(frozen=True)
class PottsModelConfig:
    """[potts]: the generalised Potts model (1): H(s) = -Σ_{i<j} J_ij U_{s_i s_j} - Σ_i h_i(s_i).

    Attributes:
        sites: L, number of sites (>= 2).
        colours: C, number of Potts colours (>= 2).
        interaction: J (L×L), symmetric with zero diagonal.
        colour_matrix: U (C×C), symmetric.
        fields: h (L×C), optional (default zeros).
        beta: inverse temperature β > 0.
        max_enumerate: exact enumeration is allowed when C^L <= this.
    """

    sites: int = field(check=at_least(2), doc="L")
    colours: int = field(check=at_least(2), doc="C")
    interaction: np.ndarray = field(check=symmetric_matrix, doc="J (L×L)")
    colour_matrix: np.ndarray = field(check=symmetric_matrix, doc="U (C×C)")
    fields: np.ndarray | None = field(None, check=finite_matrix, doc="h (L×C)")
    beta: float = field(1.0, check=positive, doc="β")
    max_enumerate: int = field(1048576, check=at_least(1))

    def __post_init__(self) -> None:
        L, C = self.sites, self.colours
        if self.interaction.shape != (L, L):
            raise InputError("interaction", f"shape {self.interaction.shape}",
                             f"must have shape (sites, sites) = ({L}, {L})")
        if np.any(np.diag(self.interaction) != 0):
            raise InputError("interaction", "non-zero diagonal", "must have a zero diagonal (J_ii = 0)")
        if self.colour_matrix.shape != (C, C):
            raise InputError("colour_matrix", f"shape {self.colour_matrix.shape}",
                             f"must have shape (colours, colours) = ({C}, {C})")
        if self.fields is not None and self.fields.shape != (L, C):
            raise InputError("fields", f"shape {self.fields.shape}",
                             f"must have shape (sites, colours) = ({L}, {C})")


@dataclasses.dataclass(frozen=True)
class SamplerConfig:
    """[sampler]: Gibbs (heat-bath) sampling, §3.1.  ``precision`` (beyond §9): float64 | float32 logits."""

    chains: int = field(8, check=at_least(1))
    burn_in: int = field(1000, check=at_least(0), doc="sweeps")
    thin: int = field(10, check=at_least(1), doc="sweeps between kept samples")
    n_samples: int = field(10000, check=at_least(1), doc="total over chains")
    scan: Literal["sequential", "random"] = field("sequential")
    exact: bool = field(False, doc="sample from the enumerated distribution")
    precision: Literal["float64", "float32"] = field("float64", doc="floating type of the Gibbs logits")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """[train]: a factored or vanilla attention layer trained by masked language modelling, §4.

    Keys beyond §9 (documented in the README): ``colours`` (C when there is no [potts] table),
    ``patience`` (early stopping: epochs without improvement of the validation loss),
    ``sizes`` (train also on the first M sequences for each M: recovery vs number of samples).
    """

    layer: Literal["factored", "vanilla"] = field("factored")
    attention: Literal["softmax", "linear"] = field("softmax")
    heads: int = field(1, check=at_least(1))
    fields: bool = field(False)
    embed_dim: int = field(32, check=at_least(1))
    residual: bool = field(False)
    data: str = field("", path=True, doc="npz with `sequences` (M, L) int, or a `potts sample` run dir")
    test_data: str = field("", path=True)
    colours: int | None = field(None, check=at_least(2))
    mask: Literal["all", "single", "fraction"] = field("all")
    mask_fraction: float = field(0.15, check=_open_unit)
    optimizer: Literal["adam", "sgd"] = field("adam")
    lr: float = field(0.01, check=positive)
    weight_decay: float = field(0.0, check=nonnegative)
    weight_decay_attention: float | None = field(None, check=nonnegative)
    weight_decay_value: float | None = field(None, check=nonnegative)
    batch_size: int = field(256, check=at_least(1))
    epochs: int = field(200, check=at_least(1))
    validation_fraction: float = field(0.1, check=_fraction_below_one)
    patience: int = field(20, check=at_least(1))
    sizes: tuple[int, ...] = field((), check=_all_ints_at_least(2))

    @property
    def lambda_attention(self) -> float:
        """λ_W of (6)."""
        return self.weight_decay if self.weight_decay_attention is None else self.weight_decay_attention

    @property
    def lambda_value(self) -> float:
        """λ_V of (6)."""
        return self.weight_decay if self.weight_decay_value is None else self.weight_decay_value


@dataclasses.dataclass(frozen=True)
class ReplicaConfig:
    """[replica]: the replica theory of one attention row, §7 (read by ``potts replica``).

    Exactly one of ``colour_matrix`` (U, then Σ follows from (9)) and ``colour_covariance`` (Σ).
    α grid: ``alphas``, or ``alpha_min``, ``alpha_max``, ``n_alphas`` (log-spaced); neither gives
    the default ``alphas = [0.5, 1.0, 2.0]``.
    """

    colours: int = field(check=at_least(2))
    colour_matrix: np.ndarray | None = field(None, check=symmetric_matrix)
    colour_covariance: np.ndarray | None = field(None, check=symmetric_matrix)
    teacher_norm: float = field(1.0, check=positive, doc="ρ")
    ridge: float = field(0.1, check=check_ridge, doc="λ")
    alphas: tuple[float, ...] | None = field(None, check=check_alphas)
    alpha_min: float | None = field(None, check=check_alphas)
    alpha_max: float | None = field(None, check=check_alphas)
    n_alphas: int | None = field(None, check=at_least(1))
    cubature_order: int = field(24, check=at_least(2))
    cubature_order_teacher: int | None = field(None, check=at_least(1))
    tol: float = field(1e-10, check=positive)
    max_steps: int = field(3000, check=at_least(1))
    damping: float = field(0.5, check=_open_unit)
    solver: Literal["newton", "broyden", "fixed_point"] = field("newton", doc="saddle-point solver (issue 7)")

    def __post_init__(self) -> None:
        C = self.colours
        given = [k for k in ("colour_matrix", "colour_covariance") if getattr(self, k) is not None]
        if len(given) != 1:
            raise InputError("colour_matrix", "both" if given else "neither",
                             "give exactly one of colour_matrix and colour_covariance")
        mat = getattr(self, given[0])
        if mat.shape != (C, C):
            raise InputError(given[0], f"shape {mat.shape}", f"must have shape (colours, colours) = ({C}, {C})")
        if self.colour_covariance is not None:
            ev = np.linalg.eigvalsh(self.colour_covariance)
            if ev.min() < -1e-10 * max(1.0, float(np.abs(ev).max())):
                raise InputError("colour_covariance", f"smallest eigenvalue {ev.min():.3g}",
                                 "must be positive semi-definite")
        rng = [self.alpha_min, self.alpha_max, self.n_alphas]
        if self.alphas is not None and any(r is not None for r in rng):
            raise InputError("alphas", list(self.alphas), "give alphas or alpha_min/alpha_max/n_alphas, not both")
        if any(r is not None for r in rng):
            if any(r is None for r in rng):
                raise InputError("alpha_min", self.alpha_min, "alpha_min, alpha_max and n_alphas go together")
            if not self.alpha_max >= self.alpha_min:  # type: ignore[operator]
                raise InputError("alpha_max", self.alpha_max, f"must be >= alpha_min = {self.alpha_min}")

    @property
    def alpha_grid(self) -> np.ndarray:
        """The α values: ``alphas``, or log-spaced from ``alpha_min`` to ``alpha_max``."""
        if self.alphas is not None:
            return np.asarray(self.alphas, dtype=np.float64)
        if self.n_alphas is not None:
            return np.geomspace(self.alpha_min, self.alpha_max, self.n_alphas)  # type: ignore[arg-type]
        return np.array([0.5, 1.0, 2.0])

    @property
    def teacher_order(self) -> int:
        """Gauss–Hermite nodes per dimension for ζ (default: ``cubature_order``)."""
        return self.cubature_order if self.cubature_order_teacher is None else self.cubature_order_teacher


@dataclasses.dataclass(frozen=True)
class ValidateConfig:
    """[validate]: the replica theory (§7) against finite-size simulations, one grid point per (N, α, seed).

    ``target = "replica"``: the ERM (10) at size N (§7.9, ``mode`` gauss | discrete contexts);
    ``target = "train"``: the factored-attention layer (linear attention, V = U fixed, one head) trained
    by MLM (6) on sequences of the star Potts model whose site-0 conditional is the teacher of §7.1,
    read off through the map of §7.1 (``contexts``; issue 7).  ``sizes`` are N (L = N + 1 sites) in both.
    """

    target: Literal["replica", "train"] = field("replica")
    sizes: tuple[int, ...] = field((100, 200, 400), check=_all_ints_at_least(1))
    seeds: tuple[int, ...] = field((0, 1, 2, 3))
    mode: Literal["gauss", "discrete"] = field("gauss")
    edge_tol: float = field(1e-12, check=nonnegative)
    n_test: int = field(4000, check=at_least(1), doc="fresh test contexts per seed (replica validation, issue 7)")
    contexts: Literal["independent", "potts"] = field(
        "independent", doc="target = 'train': context colours independent uniform (exact map of §7.1) or whole "
                           "sequences of the star Potts model by Gibbs sampling ([sampler]; approximate map)")

    def __post_init__(self) -> None:
        if len(self.sizes) == 0:
            raise InputError("sizes", [], "must be a non-empty list of integers")
        if len(self.seeds) == 0:
            raise InputError("seeds", [], "must be a non-empty list of integers")


@dataclasses.dataclass(frozen=True)
class PottsSpec(Spec):
    """A ``statmech-attn potts`` config: ``seed`` plus the tables of §9."""

    seed: int = field(0)
    potts: PottsModelConfig | None = field(None)
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    replica: ReplicaConfig | None = field(None)
    validate: ValidateConfig = field(default_factory=ValidateConfig)
    compute: ComputeConfig = field(default_factory=ComputeConfig)  # [compute]: where grids run (statmech_attn.compute)

    def memory_terms(self) -> list:
        """(parameter, value, bytes): enumeration, Gibbs samples and chains, training batches."""
        from ..config import nbytes

        out = []
        if self.potts is not None:
            L, C = self.potts.sites, self.potts.colours
            if L * math.log(C) <= math.log(self.potts.max_enumerate):
                out.append(("potts.sites", L, nbytes(C**L, L + 2)))
            s = self.sampler
            out.append(("sampler.n_samples", s.n_samples, nbytes(s.n_samples, L, 2)))
            out.append(("sampler.chains", s.chains, nbytes(s.chains, L, C, 4)))
        if self.replica is not None and self.replica.n_alphas is not None:
            out.append(("replica.n_alphas", self.replica.n_alphas, nbytes(self.replica.n_alphas, 4096)))
        if self.replica is not None and self.validate.sizes:
            n_max = max(self.validate.sizes)
            r = self.replica  # the largest α without building the grid (n_alphas may be huge)
            a_max = max(1.0, float(max(r.alphas)) if r.alphas else float(r.alpha_max or 2.0))
            out.append(("validate.sizes", n_max, nbytes(n_max, n_max, a_max, 3) + nbytes(self.validate.n_test, n_max, 2)))
        t = self.train
        out.append(("train.embed_dim", t.embed_dim, nbytes(t.batch_size, t.embed_dim, t.embed_dim, t.heads, 4)))
        return out


def require(table: object | None, name: str, verb: str) -> object:
    """Return ``table`` or raise ``InputError`` saying that ``verb`` needs the TOML table ``[name]``."""
    if table is None:
        raise InputError(name, None, f"the [{name}] table is required by `potts {verb}`")
    return table
