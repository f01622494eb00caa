"""Finite attention layers trained by masked language modelling on Potts data (docs/theories/potts.md).

:mod:`.layers`: the factored and vanilla self-attention layers and the MLM loss; :mod:`.train`:
optax training with early stopping and the test metrics of §6.
"""

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
