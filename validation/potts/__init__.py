"""Finite attention layers trained by masked language modelling on Potts data (docs/theories/potts.md).

:mod:`.layers`: the factored and vanilla self-attention layers and the MLM loss; :mod:`.train`:
optax training with early stopping and the test metrics of §6.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from statmech_attn import _lazy

if TYPE_CHECKING:
    from .layers import FactoredParams as FactoredParams
    from .layers import VanillaParams as VanillaParams
    from .layers import factored_logits as factored_logits
    from .layers import init_factored as init_factored
    from .layers import init_vanilla as init_vanilla
    from .layers import logits_all as logits_all
    from .layers import masked_cross_entropy as masked_cross_entropy
    from .layers import vanilla_logits as vanilla_logits
    from .train import TrainedLayer as TrainedLayer
    from .train import evaluate as evaluate
    from .train import layer_couplings as layer_couplings
    from .train import train_layer as train_layer

__all__ = ["FactoredParams", "VanillaParams", "factored_logits", "init_factored", "init_vanilla", "logits_all",
           "masked_cross_entropy", "vanilla_logits", "TrainedLayer", "evaluate", "layer_couplings", "train_layer"]

_LAZY: dict[str, str | tuple[str, str]] = {
    "FactoredParams": ".layers", "VanillaParams": ".layers", "factored_logits": ".layers",
    "init_factored": ".layers", "init_vanilla": ".layers", "logits_all": ".layers",
    "masked_cross_entropy": ".layers", "vanilla_logits": ".layers", "TrainedLayer": ".train", "evaluate": ".train",
    "layer_couplings": ".train", "train_layer": ".train",
}


# The layers and their training (JAX, optax) are imported on first use.
__getattr__, __dir__ = _lazy.attach(__name__, _LAZY)
