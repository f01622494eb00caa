"""Planted dictionaries and planted emergence layers: the dictionary learner must find them."""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np
from scipy.optimize import linear_sum_assignment

from statmech_attn.factors import (NetworkSpec, TransformerFactors, attention_stack_states, classify_levels,
                                   frequency_weights)

__all__ = ["planted_states", "match_dictionaries", "Recovery", "planted_dictionary_recovery",
           "planted_emergence", "attention_stack_factors"]


def planted_states(n_states: int, d: int, n_factors: int, active: int, *, noise: float = 0.01,
                   seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """X = A Φᵀ + noise with Φ unit-norm Gaussian columns and ``active`` non-zeros ~ U(0.5, 1.5) per row."""
    rng = np.random.default_rng(seed)
    phi = rng.standard_normal((d, n_factors))
    phi /= np.linalg.norm(phi, axis=0)
    a = np.zeros((n_states, n_factors))
    rows = np.repeat(np.arange(n_states), active)
    cols = np.argsort(rng.random((n_states, n_factors)), axis=1)[:, :active].ravel()
    a[rows, cols] = rng.uniform(0.5, 1.5, rows.size)
    return a @ phi.T + noise * rng.standard_normal((n_states, d)), phi, a


def match_dictionaries(learned: np.ndarray, planted: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean best |cos| between planted and learned columns after Hungarian matching, and the matching."""
    ln = learned / np.linalg.norm(learned, axis=0)
    pn = planted / np.linalg.norm(planted, axis=0)
    c = np.abs(pn.T @ ln)
    r, k = linear_sum_assignment(-c)
    return float(c[r, k].mean()), k


@dataclasses.dataclass(frozen=True)
class Recovery:
    """Mean best |cos| after matching, the final objective, and the learned estimator."""

    mean_cos: float
    objective: float
    model: TransformerFactors


def planted_dictionary_recovery(n_states: int = 3000, d: int = 16, n_factors: int = 24, active: int = 3, *,
                                alpha: float = 0.05, n_epochs: int = 20, seed: int = 0) -> Recovery:
    """Learn a dictionary from planted states and match it to the planted one."""
    x, phi, _ = planted_states(n_states, d, n_factors, active, seed=seed)
    tf = TransformerFactors(n_factors, alpha, n_epochs=n_epochs, batch_size=256, seed=seed + 1).fit(x)
    cos, _ = match_dictionaries(tf.dictionary_, phi)
    return Recovery(cos, float(tf.objective_[-1]), tf)


def planted_emergence(layers: int = 6, tokens: int = 400, d: int = 16, n_factors: int = 12, *,
                      alpha: float = 0.05, seed: int = 0) -> tuple[np.ndarray, np.ndarray, float]:
    """Layered states where planted factor c is active only from layer e_c = c mod L on.

    Returns (planted emergence layers, learned emergence layers of the matched factors, mean |cos|).
    """
    rng = np.random.default_rng(seed)
    phi = rng.standard_normal((d, n_factors))
    phi /= np.linalg.norm(phi, axis=0)
    emerge = np.arange(n_factors) % layers
    states = np.empty((layers, tokens, d))
    for l in range(layers):
        on = np.flatnonzero(emerge <= l)
        a = np.zeros((tokens, n_factors))
        pick = on[np.argsort(rng.random((tokens, on.size)), axis=1)[:, : min(2, on.size)]]
        a[np.arange(tokens)[:, None], pick] = rng.uniform(0.5, 1.5, pick.shape)
        states[l] = a @ phi.T + 0.01 * rng.standard_normal((tokens, d))
    tf = TransformerFactors(n_factors, alpha, n_epochs=25, batch_size=200, top_k=10, seed=seed + 1).fit(states)
    cos, match = match_dictionaries(tf.dictionary_, phi)
    _, learned_emerge, _ = classify_levels(tf.importance_scores(states), threshold=0.5)
    return emerge, learned_emerge[match], cos


def attention_stack_factors(seed: int = 0, n_factors: int = 32, alpha: float = 0.3):
    """Fit factors to the hidden states of a random deep attention stack; returns (model, scores, levels)."""
    states, ids = attention_stack_states(NetworkSpec(), seed)
    x = states / np.mean(np.linalg.norm(states, axis=-1))
    tf = TransformerFactors(n_factors, alpha, n_epochs=10, batch_size=128, seed=seed).fit(
        x, sample_weight=frequency_weights(ids))
    scores = tf.importance_scores(x)
    return tf, scores, classify_levels(scores)[2]


def main() -> None:
    """``python -m statmech_attn.validation.factors.planted [--quick]``."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    r = planted_dictionary_recovery(n_states=1500 if args.quick else 6000, seed=args.seed)
    print(f"planted dictionary: mean best |cos| after Hungarian matching = {r.mean_cos:.5f} (pass > 0.95)")
    e, le, cos = planted_emergence(seed=args.seed)
    print(f"planted emergence layers {e.tolist()}\nlearned emergence layers {le.tolist()}  (|cos| {cos:.4f}, "
          f"exact {np.mean(e == le):.2f})")
    _, _, levels = attention_stack_factors(args.seed)
    print("attention-stack factors:", {k: int(np.sum(levels == k)) for k in ("low", "mid", "high", "unused")})


if __name__ == "__main__":
    main()
