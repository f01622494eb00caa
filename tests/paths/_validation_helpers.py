"""Small problems shared by the validation/paths tests."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from statmech_attn.paths import PathsModel


def random_problem(P: int, S: int, N0: int, heads: tuple[int, ...], seed: int, P_test: int = 0):
    """Random tokens, random softmax attention (rows = queries), ±1 labels; (train, test) tuples."""
    rng = np.random.default_rng(seed)
    n = P + P_test
    x = rng.normal(size=(n, S, N0))
    att = []
    for h in heads:
        s = 2.0 * rng.normal(size=(n, h, S, S))
        e = np.exp(s - s.max(-1, keepdims=True))
        att.append(e / e.sum(-1, keepdims=True))
    y = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    tr = (jnp.asarray(x[:P]), tuple(jnp.asarray(a[:P]) for a in att), jnp.asarray(y[:P]))
    te = (jnp.asarray(x[P:]), tuple(jnp.asarray(a[P:]) for a in att), jnp.asarray(y[P:]))
    return tr, te


def spec(heads, widths, width_readout, *, readout="last", s0=1.0, sl=None, sa=1.0, T=0.1) -> PathsModel:
    """The theory's own model object (the finite network is built from the same :class:`PathsModel`)."""
    L = len(heads)
    return PathsModel(heads=tuple(heads), readout=readout, sigma2_input=s0, sigma2_layers=tuple(sl or (1.0,) * L),
                      sigma2_readout=sa, widths=tuple(widths), width_readout=width_readout, temperature=T)
