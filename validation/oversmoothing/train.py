"""Training demo: the sign-constrained reparameterisation forces the regime of a trained stack.

Model: X_{ℓ+1} = X_ℓ + A X_ℓ H (ℓ = 0..L−1) with per-sequence softmax attention A computed once
from the input (fixed across layers, as in the theory), H shared across layers, and a linear
readout ŷ = X_L w.  H is either free (``"free"``), or ``V diag(+ψ²) Vᵀ`` (``"smooth"``), or
``V diag(−clip(ψ², ε, 1)) Vᵀ`` (``"sharpen"``) with V orthogonal from a QR decomposition.  Training
minimises the mean squared error of a per-token regression target with Adam (optax); the whole
loop is one ``lax.scan``.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np
import optax

from statmech_attn.oversmoothing import hfc_lfc_ratio, sign_constrained_h, spectrum

__all__ = ["TrainedStack", "train_regimes", "make_task"]

Mode = Literal["free", "smooth", "sharpen"]


@dataclasses.dataclass(frozen=True)
class TrainedStack:
    """A trained stack and what the spectral theory says about it.

    Attributes:
        mode: ``free``, ``smooth`` or ``sharpen``.
        value_projection: the trained H.
        loss: final training loss.
        regimes: the predicted regime of (A_s, H) for every training sequence s.
        ratio_growth: mean over sequences of log(HFC/LFC at layer ``probe_depth`` / at layer 0),
            by direct simulation of the trained stack (negative: smoothing).
    """

    mode: str
    value_projection: np.ndarray
    loss: float
    regimes: tuple[str, ...]
    ratio_growth: float


def make_task(seed: int, n_seq: int = 32, n: int = 8, d: int = 6) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Inputs X (S, n, d), fixed attention A (S, n, n) = softmax(X W Xᵀ / √d), targets y (S, n)."""
    k1, k2, k3 = jax.random.split(jax.random.PRNGKey(seed), 3)
    x = jax.random.normal(k1, (n_seq, n, d))
    w = jax.random.normal(k2, (d, d)) / jnp.sqrt(d)
    a = jax.nn.softmax(jnp.einsum("sid,de,sje->sij", x, w, x) / jnp.sqrt(d), axis=-1)
    v = jax.random.normal(k3, (d,))
    y = jnp.tanh(x @ v) - jnp.mean(jnp.tanh(x @ v), axis=1, keepdims=True)   # token-specific target
    return x, a, y


def _h_of(params: dict, mode: Mode) -> jax.Array:
    if mode == "free":
        return params["free"]
    return sign_constrained_h(params["free"], params["psi"], "smooth" if mode == "smooth" else "sharpen",
                              clip=(mode == "sharpen"))


def _forward(params: dict, mode: Mode, x: jax.Array, a: jax.Array, depth: int) -> jax.Array:
    h = _h_of(params, mode)

    def layer(z, _):
        return z + a @ z @ h, None

    z, _ = jax.lax.scan(layer, x, None, length=depth)
    return z @ params["w"]


def _train_one(mode: Mode, x, a, y, depth: int, steps: int, lr: float, seed: int) -> tuple[dict, jax.Array]:
    d = x.shape[-1]
    k1, k2, k3 = jax.random.split(jax.random.PRNGKey(seed), 3)
    params = {"free": jax.random.normal(k1, (d, d)) * (0.3 if mode == "free" else 1.0),
              "psi": 0.5 + 0.1 * jax.random.normal(k2, (d,)),
              "w": jax.random.normal(k3, (d,)) / jnp.sqrt(d)}
    opt = optax.adam(lr)

    def loss_fn(p):
        pred = jax.vmap(lambda xs, as_: _forward(p, mode, xs, as_, depth))(x, a)
        return jnp.mean((pred - y) ** 2)

    def step(carry, _):
        p, s = carry
        loss, g = jax.value_and_grad(loss_fn)(p)
        upd, s = opt.update(g, s, p)
        return (optax.apply_updates(p, upd), s), loss

    (params, _), losses = jax.jit(lambda p: jax.lax.scan(step, (p, opt.init(p)), None, length=steps))(params)
    return params, losses


def train_regimes(modes: tuple[Mode, ...] = ("free", "smooth", "sharpen"), *, depth: int = 6, steps: int = 300,
                  lr: float = 1e-2, probe_depth: int = 40, n_seq: int = 32,
                  seed: int = 0) -> list[TrainedStack]:
    """Train one stack per mode on the same task (``n_seq`` sequences) and analyse each trained H."""
    x, a, y = make_task(seed, n_seq=n_seq)
    out = []
    for mode in modes:
        params, losses = _train_one(mode, x, a, y, depth, steps, lr, seed + 1)
        h = np.asarray(_h_of(params, mode))
        regimes = tuple(spectrum(np.asarray(a_s), h).regime for a_s in a)

        def ratios(xs, as_):
            def layer(z, _):
                z = z + as_ @ z @ h
                return z / jnp.linalg.norm(z), None

            zl, _ = jax.lax.scan(layer, xs, None, length=probe_depth)
            return jnp.log(hfc_lfc_ratio(zl)) - jnp.log(hfc_lfc_ratio(xs))

        growth = float(jnp.mean(jax.vmap(ratios)(x, a)))
        out.append(TrainedStack(mode, h, float(losses[-1]), regimes, growth))
    return out


def main() -> None:
    """``python -m statmech_attn.validation.oversmoothing.train [--quick]``: train and print the regimes."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    for t in train_regimes(steps=100 if args.quick else 500, seed=args.seed):
        counts = {r: t.regimes.count(r) for r in sorted(set(t.regimes))}
        print(f"{t.mode:8s} loss {t.loss:.4f}  regimes {counts}  "
              f"log(HFC/LFC) change over depth: {t.ratio_growth:+.2f}  eig(H) {np.round(np.linalg.eigvals(t.value_projection).real, 3)}")


if __name__ == "__main__":
    main()
