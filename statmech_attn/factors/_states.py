"""Hidden states of the package's own attention networks (no pretrained model is downloaded).

:func:`attention_stack_states` embeds a random token sequence (Zipf-distributed ids over a small
vocabulary, Gaussian embeddings plus a sinusoidal position code) and runs it through a randomly
initialised deep self-attention stack with layer norm (:func:`statmech_attn.energy.stack_diagnostic`),
returning the hidden state of every token at every layer.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..errors import InputError

__all__ = ["NetworkSpec", "attention_stack_states"]


@dataclasses.dataclass(frozen=True)
class NetworkSpec:
    """A randomly initialised deep attention stack and its input text.

    Attributes:
        layers: number of attention layers (states are returned for layers 0..L, 0 = embeddings).
        tokens: sequence length T.
        dim: model width d.
        vocab: vocabulary size.
        zipf: exponent s of the token frequencies p(id) ∝ (id + 1)^(−s).
        beta, eta: softmax inverse temperature and residual step.
        layer_norm: LN after every attention update.
        key_dim: d_k of W_Q, W_K (default d).
        weight_scale: W entries ~ N(0, scale²/d).
        position_scale: amplitude of the sinusoidal position code.
    """

    layers: int = 6
    tokens: int = 256
    dim: int = 16
    vocab: int = 40
    zipf: float = 1.1
    beta: float = 1.0
    eta: float = 0.5
    layer_norm: bool = True
    key_dim: int | None = None
    weight_scale: float = 1.0
    position_scale: float = 0.3

    def __post_init__(self) -> None:
        for name in ("layers", "tokens", "dim", "vocab"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise InputError(name, v, "must be an integer >= 1")
        for name in ("zipf", "beta", "weight_scale"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v > 0):
                raise InputError(name, v, "must be a finite number > 0")
        for name in ("eta", "position_scale"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v >= 0):
                raise InputError(name, v, "must be a finite number >= 0")


def attention_stack_states(spec: NetworkSpec, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Hidden states (L + 1, T, d) of a random attention stack, and the token ids (T,)."""
    from ..energy import random_weights, stack_diagnostic  # (JAX) here: the config checks use NetworkSpec only

    rng = np.random.default_rng(seed)
    p = (np.arange(spec.vocab) + 1.0) ** (-spec.zipf)
    ids = rng.choice(spec.vocab, size=spec.tokens, p=p / p.sum())
    emb = rng.standard_normal((spec.vocab, spec.dim))
    pos = np.arange(spec.tokens)[:, None] / (10000.0 ** (2 * (np.arange(spec.dim) // 2) / spec.dim))[None, :]
    pe = np.where(np.arange(spec.dim) % 2 == 0, np.sin(pos), np.cos(pos))
    x0 = emb[ids] + spec.position_scale * pe
    w = random_weights(spec.layers, spec.dim, seed + 1, key_dim=spec.key_dim, scale=spec.weight_scale)
    diag = stack_diagnostic(x0, w, beta=spec.beta, eta=spec.eta, use_layer_norm=spec.layer_norm)
    return diag.tokens, ids
