"""Shared test problems (small, random, seeded)."""

from __future__ import annotations

import numpy as np

from statmech_attn.paths import PathsData, PathsModel, problem_from_data


def random_attention(rng: np.random.Generator, p: int, h: int, s: int, sharpness: float = 2.0) -> np.ndarray:
    """Row-stochastic attention (P, H, S, S): softmax of random scores over keys."""
    z = sharpness * rng.standard_normal((p, h, s, s))
    z -= z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def random_data(heads=(2, 2), p=24, s=5, n0=6, p_test=10, seed=0) -> PathsData:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((p, s, n0))
    y = np.sign(rng.standard_normal(p))
    att = tuple(random_attention(rng, p, h, s) for h in heads)
    xt = rng.standard_normal((p_test, s, n0))
    att_t = tuple(random_attention(rng, p_test, h, s) for h in heads)
    yt = np.sign(rng.standard_normal(p_test))
    return PathsData(x=x, attention=att, y=y, x_test=xt, attention_test=att_t, y_test=yt)


def random_problem(heads=(2, 2), p=24, s=5, n0=6, width=20.0, temperature=0.05, readout="last", seed=0,
                   sigma2=None, width_readout=None):
    data = random_data(heads, p, s, n0, seed=seed)
    L = len(heads)
    model = PathsModel(heads=tuple(heads), readout=readout, sigma2_layers=tuple(sigma2 or (1.0,) * L),
                       widths=(width,) * L, width_readout=width if width_readout is None else width_readout,
                       temperature=temperature)
    return problem_from_data(model, data), data
