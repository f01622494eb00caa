"""The attention-path network's hyper-parameters (docs/theories/paths.md).

Notation (explained once): L attention layers, H_ℓ heads in layer ℓ, σ₀² the input-projection
prior variance, σ_ℓ² the value-weight prior variance of layer ℓ, σ_a² the readout prior variance,
N_ℓ the input width of layer ℓ (N_{L+1} ≡ N_a the readout width), T the temperature (variance of
the Gaussian likelihood).  A path π = (h₁, …, h_L) picks one head per layer; H_tot = Π H_ℓ.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Literal, NamedTuple

import numpy as np

if TYPE_CHECKING:  # annotations only: the config checks (:mod:`.spec`) import this module without JAX
    import jax.numpy as jnp

from ..errors import InputError

Readout = Literal["mean", "first", "last"]
READOUTS: tuple[str, ...] = ("mean", "first", "last")


def _check_positive(name: str, value: float) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise InputError(name, value, "must be a finite number > 0")


def check_temperature(value: float, param: str = "") -> float:
    """The rule for T (``[model] temperature``, the likelihood variance): finite and > 0.

    One definition: the config field (:mod:`.spec`) and :class:`PathsModel` both call it.
    """
    _check_positive(param, value)
    return value


def check_alphas(alpha, param: str = ""):
    """The rule for α = P / N_max (a number or a list): non-empty, every entry finite and > 0.

    One definition: the [sweep] keys (:mod:`.spec`), :func:`~statmech_attn.paths.sweep` and
    :meth:`PathsModel.with_alpha` call it.
    """
    a = np.asarray(alpha, dtype=np.float64)
    if a.size == 0:
        raise InputError(param, [], "must be a non-empty list of numbers > 0")
    if not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise InputError(param, a.tolist() if a.size < 8 else f"{a.size} values", "every α must be a finite number > 0")
    return alpha


@dataclasses.dataclass(frozen=True)
class PathsModel:
    """Architecture and prior of the deep multi-head attention network.

    Attributes:
        heads: (H_1, …, H_L), heads per layer, each ≥ 1.
        readout: token readout of the last layer: ``mean`` (average pooling), ``first`` or
            ``last`` token.
        sigma2_input: σ₀², prior variance of the input projection V₀.
        sigma2_layers: (σ_1², …, σ_L²), prior variances of the value weights.
        sigma2_readout: σ_a², prior variance of the readout a.
        widths: (N_1, …, N_L), input widths of the attention layers.
        width_readout: N_a, the readout width.
        temperature: T > 0, the likelihood variance.
    """

    heads: tuple[int, ...]
    readout: Readout = "last"
    sigma2_input: float = 1.0
    sigma2_layers: tuple[float, ...] = ()
    sigma2_readout: float = 1.0
    widths: tuple[float, ...] = ()
    width_readout: float = 100.0
    temperature: float = 0.01

    def __post_init__(self) -> None:
        heads = tuple(int(h) for h in self.heads)
        if len(heads) == 0:
            raise InputError("model.heads", list(self.heads), "must list at least one layer (L >= 1)")
        if any(h < 1 for h in heads):
            raise InputError("model.heads", list(heads), "every head count must be an integer >= 1")
        object.__setattr__(self, "heads", heads)
        L = len(heads)
        s2 = tuple(float(s) for s in (self.sigma2_layers or (1.0,) * L))
        widths = tuple(float(n) for n in (self.widths or (100.0,) * L))
        if len(s2) != L:
            raise InputError("model.sigma2_layers", list(s2), f"must have one entry per layer (L = {L})")
        if len(widths) != L:
            raise InputError("model.widths", list(widths), f"must have one entry per layer (L = {L})")
        for i, s in enumerate(s2):
            _check_positive(f"model.sigma2_layers[{i}]", s)
        for i, n in enumerate(widths):
            _check_positive(f"model.widths[{i}]", n)
        object.__setattr__(self, "sigma2_layers", s2)
        object.__setattr__(self, "widths", widths)
        if self.readout not in READOUTS:
            raise InputError("model.readout", self.readout, "must be one of 'mean', 'first', 'last'")
        _check_positive("model.sigma2_input", self.sigma2_input)
        _check_positive("model.sigma2_readout", self.sigma2_readout)
        _check_positive("model.width_readout", self.width_readout)
        check_temperature(self.temperature, "model.temperature")

    @property
    def n_layers(self) -> int:
        """L, the number of attention layers."""
        return len(self.heads)

    @property
    def n_paths(self) -> int:
        """H_tot = H_1 ⋯ H_L, the number of attention paths."""
        return math.prod(self.heads)

    @property
    def path_dims(self) -> tuple[int, ...]:
        """(D_1, …, D_L) with D_ℓ = H_ℓ ⋯ H_L, the size of U_ℓ."""
        return tuple(math.prod(self.heads[l:]) for l in range(self.n_layers))

    @property
    def width_max(self) -> float:
        """N_max = max(N_1, …, N_L, N_a), the normaliser of the action; α = P / N_max."""
        return max(max(self.widths), self.width_readout)

    def with_alpha(self, alpha: float, n_train: int) -> "PathsModel":
        """The same model with every width rescaled by one factor so that P / N_max = α."""
        check_alphas(alpha, "alpha")
        factor = (n_train / alpha) / self.width_max
        return dataclasses.replace(self, widths=tuple(n * factor for n in self.widths),
                                   width_readout=self.width_readout * factor)

    def hyper(self) -> "Hyper":
        """The continuous hyper-parameters as a JAX pytree (traced, so sweeps compile once)."""
        return Hyper(  # host arrays: no device dispatch here, jit transfers them with its other arguments
            sigma2_layers=np.asarray(self.sigma2_layers, dtype=np.float64),
            sigma2_readout=np.asarray(self.sigma2_readout, dtype=np.float64),
            widths=np.asarray(self.widths, dtype=np.float64),
            width_readout=np.asarray(self.width_readout, dtype=np.float64),
            temperature=np.asarray(self.temperature, dtype=np.float64),
        )


class Hyper(NamedTuple):
    """The hyper-parameters that enter the action, as arrays (a pytree).

    ``sigma2_layers`` (L,), ``sigma2_readout`` (), ``widths`` (L,), ``width_readout`` (),
    ``temperature`` ().
    """

    sigma2_layers: jnp.ndarray
    sigma2_readout: jnp.ndarray
    widths: jnp.ndarray
    width_readout: jnp.ndarray
    temperature: jnp.ndarray
