"""Oversmoothing decided by the eigenspectrum of H = W_V W_O (Dovonon, Bronstein, Kusner, 2401.04301).

``spectrum(A, H)`` gives every growth factor ``1 + λ_i(A) λ_j(H)``, the dominant mode, the regime
(smoothing | sharpening | balanced | complex) and the spectral gap; ``analyse(StackSpec, X0)``
adds the closed-form HFC/LFC over depth and a direct simulation; ``sign_constrained_h`` is the
reparameterisation that forces a regime.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import _lazy

if TYPE_CHECKING:  # the re-exports, for type checkers and the API reference (griffe)
    from ._analysis import Analysis as Analysis
    from ._analysis import analyse as analyse
    from ._depth import StackSpec as StackSpec
    from ._depth import random_tokens as random_tokens
    from ._depth import simulate as simulate
    from ._depth import theory_hfc_lfc as theory_hfc_lfc
    from ._metrics import dirichlet_energy as dirichlet_energy
    from ._metrics import effective_rank as effective_rank
    from ._metrics import hfc as hfc
    from ._metrics import hfc_lfc_ratio as hfc_lfc_ratio
    from ._metrics import lfc as lfc
    from ._metrics import mean_pairwise_cosine as mean_pairwise_cosine
    from ._metrics import metrics as metrics
    from ._reparam import orthogonal_from_free as orthogonal_from_free
    from ._reparam import sign_constrained_h as sign_constrained_h
    from ._spectrum import Spectrum as Spectrum
    from ._spectrum import check_attention as check_attention
    from ._spectrum import check_value_projection as check_value_projection
    from ._spectrum import effective_value_projection as effective_value_projection
    from ._spectrum import growth_factors as growth_factors
    from ._spectrum import spectrum as spectrum
    from ._spectrum import spectrum_from_eigs as spectrum_from_eigs

__all__ = [
    "Analysis", "analyse", "StackSpec", "random_tokens", "simulate", "theory_hfc_lfc", "dirichlet_energy",
    "effective_rank", "hfc", "hfc_lfc_ratio", "lfc", "mean_pairwise_cosine", "metrics", "orthogonal_from_free",
    "sign_constrained_h", "Spectrum", "check_attention", "check_value_projection", "effective_value_projection",
    "growth_factors", "spectrum", "spectrum_from_eigs",
]

#: public name -> the submodule defining it (or (submodule, its name there)); loaded on first use
_LAZY: dict[str, str | tuple[str, str]] = {
    "Analysis": "._analysis", "analyse": "._analysis", "StackSpec": "._depth", "random_tokens": "._depth",
    "simulate": "._depth", "theory_hfc_lfc": "._depth", "dirichlet_energy": "._metrics",
    "effective_rank": "._metrics", "hfc": "._metrics", "hfc_lfc_ratio": "._metrics", "lfc": "._metrics",
    "mean_pairwise_cosine": "._metrics", "metrics": "._metrics", "orthogonal_from_free": "._reparam",
    "sign_constrained_h": "._reparam", "Spectrum": "._spectrum", "check_attention": "._spectrum",
    "check_value_projection": "._spectrum", "effective_value_projection": "._spectrum",
    "growth_factors": "._spectrum", "spectrum": "._spectrum", "spectrum_from_eigs": "._spectrum",
}


# The public names are imported on first use: ``import statmech_attn.oversmoothing`` loads no JAX.
__getattr__, __dir__ = _lazy.attach(__name__, _LAZY)
