"""Parallel expansion by self-attention and contraction by layer norm, over random token clouds."""

from __future__ import annotations

import argparse
import dataclasses

import jax
import jax.numpy as jnp

from statmech_attn.energy import ascent_gain, attention_update, layer_norm

__all__ = ["ExpansionStatistics", "expansion_statistics"]


@dataclasses.dataclass(frozen=True)
class ExpansionStatistics:
    """Outcome of :func:`expansion_statistics` (identity weights, one layer, many clouds).

    Attributes:
        shrink_fraction_centred: fraction of tokens whose norm decreased, centred clouds (theory: 0).
        shrink_fraction_uncentred: the same for clouds shifted by a random offset (can be > 0).
        min_chebyshev_centred: min_i x_i·Σ_j P_ij x_j over centred clouds (theory: >= 0).
        min_ascent_gain: min of A(x_i') − A(x_i) − η|∇A(x_i)|² over all queries (theory: >= 0).
        max_ln_deviation: max | |LN(x_i')| − √d | after the update (theory: 0).
        mean_expansion: mean |x_i'|/|x_i| (centred clouds).
        mean_contraction: mean |LN(x_i')|/|x_i'| (centred clouds).
    """

    shrink_fraction_centred: float
    shrink_fraction_uncentred: float
    min_chebyshev_centred: float
    min_ascent_gain: float
    max_ln_deviation: float
    mean_expansion: float
    mean_contraction: float


def expansion_statistics(n_clouds: int = 200, n: int = 8, d: int = 4, *, beta: float = 1.0, eta: float = 1.0,
                         offset: float = 0.3, seed: int = 0) -> ExpansionStatistics:
    """One identity-weight attention layer on ``n_clouds`` random clouds (vmapped over clouds)."""
    key = jax.random.PRNGKey(seed)
    k1, k2 = jax.random.split(key)
    x = jax.random.normal(k1, (n_clouds, n, d)) * jax.random.uniform(k2, (n_clouds, 1, 1), minval=0.2, maxval=2.0)
    centred = x - x.mean(axis=1, keepdims=True)
    shifted = centred + offset * jax.random.normal(jax.random.PRNGKey(seed + 1), (n_clouds, 1, d))
    eye = jnp.eye(d)

    def one(c):
        new = attention_update(c, beta, eta, eye, eye, eye)
        p = jax.nn.softmax(beta * c @ c.T, axis=-1)
        cheb = jnp.sum(c * (p @ c), axis=1)
        gain = jax.vmap(lambda th: ascent_gain(th, c, beta, eta))(c)
        ln = layer_norm(new)
        n0, n1, n2 = (jnp.linalg.norm(a, axis=1) for a in (c, new, ln))
        return n0, n1, n2, cheb, gain

    n0, n1, n2, cheb, gain = jax.vmap(one)(centred)
    s0, s1, _, _, gain_s = jax.vmap(one)(shifted)
    tiny = 1e-12
    return ExpansionStatistics(
        shrink_fraction_centred=float(jnp.mean((n1 < n0 * (1 - tiny)).astype(jnp.float64))),
        shrink_fraction_uncentred=float(jnp.mean((s1 < s0 * (1 - tiny)).astype(jnp.float64))),
        min_chebyshev_centred=float(jnp.min(cheb)),
        min_ascent_gain=float(jnp.minimum(jnp.min(gain), jnp.min(gain_s))),
        max_ln_deviation=float(jnp.max(jnp.abs(n2 - jnp.sqrt(d)))),
        mean_expansion=float(jnp.mean(n1 / n0)),
        mean_contraction=float(jnp.mean(n2 / n1)),
    )


def main() -> None:
    """``python -m statmech_attn.validation.energy.expansion [--quick]``: print the statistics."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    s = expansion_statistics(n_clouds=500 if args.quick else 5000, seed=args.seed)
    for f in dataclasses.fields(s):
        print(f"{f.name:28s} {getattr(s, f.name): .6g}")


if __name__ == "__main__":
    main()
