"""Transformer factors: one non-negative sparse dictionary shared by all layers (Yun et al., 2103.15949).

Every hidden state x (each token at each layer) is modelled as x = Φα + ε, α ⪰ 0, |Φ_{:,c}| = 1.
:class:`TransformerFactors` learns Φ by minibatch alternation:

1. codes of the batch by non-negative FISTA (:func:`~statmech_attn.factors.sparse_codes`);
2. a preconditioned gradient step on Φ: with residuals R = X − Φα (d × B) and token weights w,
   ΔΦ_{:,c} = η (R diag(w) αᵀ)_{:,c} / Σw  ÷  (h_c + ε), where h_c is a running mean of E[α_c²];
3. columns renormalised to unit length; columns unused for a whole epoch are re-drawn from the
   data (seeded).

Frequent tokens are down-weighted by w = 1/√count (:func:`frequency_weights`).  The importance
score of factor c at layer ℓ is IS(c, ℓ) = mean of the top-k coefficients α_c among the tokens of
layer ℓ; the shape of the IS curve over ℓ sorts factors into low-, mid- and high-level.
"""

from __future__ import annotations

import functools
import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from ..errors import InputError
from ._fista import _codes, check_states, lasso_objective, sparse_codes

__all__ = ["TransformerFactors", "frequency_weights", "importance_scores", "classify_levels", "LEVELS"]

LEVELS = ("low", "mid", "high")


def frequency_weights(token_ids: np.ndarray) -> np.ndarray:
    """``w_t = 1/√count(id_t)``: down-weights frequent tokens (same shape as ``token_ids``)."""
    ids = np.asarray(token_ids)
    if ids.size == 0:
        raise InputError("token_ids", "empty", "must hold at least one token id")
    _, inverse, counts = np.unique(ids.ravel(), return_inverse=True, return_counts=True)
    return (1.0 / np.sqrt(counts[inverse])).reshape(ids.shape)


def importance_scores(codes: np.ndarray, top_k: int) -> np.ndarray:
    """``IS(c, ℓ)`` = mean of the ``top_k`` largest α_c among the tokens of layer ℓ; shape (K, L).

    ``codes`` has shape (L, T, K); ``top_k`` is clipped to T.
    """
    codes = np.asarray(codes)
    if codes.ndim != 3:
        raise InputError("codes", f"shape {codes.shape}", "must have shape (layers, tokens, n_factors)")
    if not (isinstance(top_k, (int, np.integer)) and top_k >= 1):
        raise InputError("top_k", top_k, "must be an integer >= 1")
    k = min(int(top_k), codes.shape[1])
    top = -np.sort(-codes, axis=1)[:, :k, :]      # (L, k, K)
    return top.mean(axis=1).T


def classify_levels(scores: np.ndarray, *, threshold: float = 0.5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Peak layer, emergence layer and level of each factor from its IS curve (K, L).

    emergence = first layer whose IS reaches ``threshold`` × its maximum; level by the peak layer's
    position in thirds of the depth: ``low`` (first third), ``mid``, ``high`` (last third).  A
    factor that never activates has level ``unused`` and layers −1.
    """
    s = np.asarray(scores)
    n_layers = s.shape[1]
    peak = np.argmax(s, axis=1)
    mx = s.max(axis=1)
    emerge = np.argmax(s >= threshold * mx[:, None], axis=1)
    third = np.minimum((3 * peak) // max(n_layers, 1), 2)
    level = np.array([LEVELS[t] for t in third], dtype=object)
    dead = mx <= 0
    level[dead] = "unused"
    peak = np.where(dead, -1, peak)
    emerge = np.where(dead, -1, emerge)
    return peak, emerge, level.astype(str)


@functools.partial(jax.jit, static_argnames=("batch_size", "n_batches", "fista_steps"))
def _epoch(phi, h, x, w, key, lam, lr, decay, eps, batch_size, n_batches, fista_steps, fista_tol):
    """One pass over a random permutation of the data in minibatches (``lax.scan``)."""
    m = x.shape[0]
    perm = jax.random.permutation(key, m)[: batch_size * n_batches].reshape(n_batches, batch_size)

    def step(carry, idx):
        phi, h, usage, obj = carry
        xb, wb = x[idx], w[idx]
        a, _, _ = _codes(xb, phi, lam, jnp.zeros((batch_size, phi.shape[1])), fista_steps, fista_tol)
        r = xb - a @ phi.T                                   # (B, d)
        grad = (r * wb[:, None]).T @ a / jnp.sum(wb)         # R diag(w) αᵀ / Σw, (d, K)
        h = decay * h + (1.0 - decay) * jnp.sum(wb[:, None] * a * a, axis=0) / jnp.sum(wb)
        phi = phi + lr * grad / (h + eps)[None, :]
        phi = phi / jnp.maximum(jnp.linalg.norm(phi, axis=0, keepdims=True), 1e-12)
        obj = obj + jnp.sum(wb * lasso_objective(xb, phi, a, lam)) / jnp.sum(wb)
        return (phi, h, usage + jnp.sum(a > 0, axis=0), obj), None

    (phi, h, usage, obj), _ = jax.lax.scan(step, (phi, h, jnp.zeros(phi.shape[1]), 0.0), perm)
    return phi, h, usage, obj / n_batches


class TransformerFactors(TransformerMixin, BaseEstimator):
    """Sparse non-negative dictionary learning of hidden states, shared across layers.

    A scikit-learn estimator (``get_params``, ``set_params``, ``clone``, pipelines); hyper-parameters
    only here, learned state with a trailing underscore after :meth:`fit`.

    Parameters:
        n_factors: number of dictionary columns K.
        alpha: sparsity weight λ of ½|x − Φα|² + λ|α|₁ (λ ≈ 0.3 for unit-scale states).
        n_epochs: passes over the data.
        batch_size: tokens per minibatch (clipped to the number of tokens).
        learning_rate: η of the preconditioned dictionary step.
        decay: ρ of the running mean h_c ← ρ h_c + (1 − ρ) E[α_c²].
        eps: ε added to h_c.
        fista_steps, fista_tol: FISTA budget and KKT tolerance (training and :meth:`transform`).
        top_k: k of the importance score.
        seed: integer seed (initial dictionary, batch order, re-drawn columns).

    Attributes after fit:
        dictionary_: Φ, (d, K), unit columns.   components_: Φᵀ, (K, d) (scikit-learn layout).
        objective_: mean weighted objective per epoch.   n_iter_: epochs run.
        usage_: how many (token, epoch-final) codes used each factor in the last epoch.
        n_features_in_: d.
    """

    def __init__(self, n_factors: int = 64, alpha: float = 0.3, *, n_epochs: int = 20, batch_size: int = 256,
                 learning_rate: float = 0.5, decay: float = 0.9, eps: float = 1e-3, fista_steps: int = 500,
                 fista_tol: float = 1e-6, top_k: int = 10, seed: int = 0):
        self.n_factors = n_factors
        self.alpha = alpha
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.decay = decay
        self.eps = eps
        self.fista_steps = fista_steps
        self.fista_tol = fista_tol
        self.top_k = top_k
        self.seed = seed

    # -- validation ------------------------------------------------------------------------------
    def _check_params(self) -> None:
        def integer(name, lo):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
                raise InputError(name, v, f"must be an integer >= {lo}")

        def real(name, lo, strict=False, hi=None):
            v = getattr(self, name)
            ok = isinstance(v, (int, float, np.floating, np.integer)) and not isinstance(v, bool) and math.isfinite(v)
            ok = ok and (v > lo if strict else v >= lo) and (hi is None or v < hi)
            if not ok:
                rng = f"{'>' if strict else '>='} {lo}" + (f" and < {hi}" if hi is not None else "")
                raise InputError(name, v, f"must be a finite number {rng}")

        integer("n_factors", 1)
        real("alpha", 0.0)
        integer("n_epochs", 0)
        integer("batch_size", 1)
        real("learning_rate", 0.0, strict=True)
        real("decay", 0.0, hi=1.0)
        real("eps", 0.0, strict=True)
        integer("fista_steps", 1)
        real("fista_tol", 0.0, strict=True)
        integer("top_k", 1)
        integer("seed", 0)

    def _check_fitted(self) -> None:
        if not hasattr(self, "dictionary_"):
            raise InputError("TransformerFactors", "not fitted", "call fit(states) first")

    @staticmethod
    def _flatten(states: np.ndarray) -> tuple[np.ndarray, tuple[int, ...]]:
        x = check_states(states)
        return x.reshape(-1, x.shape[-1]), x.shape[:-1]

    # -- API -------------------------------------------------------------------------------------
    def fit(self, states: np.ndarray, sample_weight: np.ndarray | None = None) -> "TransformerFactors":
        """Learn Φ from hidden states of shape (layers, tokens, d) or (tokens, d).

        ``sample_weight`` (e.g. :func:`frequency_weights` of token ids) has the states' leading
        shape, or (tokens,) for 3-D states (the same weight at every layer).
        """
        self._check_params()
        x, lead = self._flatten(states)
        m, d = x.shape
        if sample_weight is None:
            w = np.ones(m)
        else:
            sw = np.asarray(sample_weight, dtype=np.float64)
            if len(lead) == 2 and sw.shape == (lead[1],):
                sw = np.broadcast_to(sw, lead)
            if sw.shape != lead or not np.all(np.isfinite(sw)) or np.any(sw < 0) or sw.sum() <= 0:
                raise InputError("sample_weight", f"shape {sw.shape}",
                                 f"must be finite, >= 0, not all 0, with shape {lead}" +
                                 (f" or ({lead[1]},)" if len(lead) == 2 else ""))
            w = sw.reshape(-1)
        rng = np.random.default_rng(self.seed)
        k = self.n_factors
        phi = x[rng.choice(m, size=k, replace=k > m)].T.copy() + 1e-3 * rng.standard_normal((d, k))
        phi /= np.linalg.norm(phi, axis=0, keepdims=True)
        h = np.zeros(k)
        bs = min(self.batch_size, m)
        nb = max(m // bs, 1)
        xj, wj = jnp.asarray(x), jnp.asarray(w)
        objective, usage = [], np.zeros(k)
        key = jax.random.PRNGKey(self.seed)
        for _ in range(self.n_epochs):
            key, sub = jax.random.split(key)
            phi, h, usage, obj = _epoch(jnp.asarray(phi), jnp.asarray(h), xj, wj, sub, float(self.alpha),
                                        float(self.learning_rate), float(self.decay), float(self.eps), bs, nb,
                                        int(self.fista_steps), float(self.fista_tol))
            phi, h, usage = np.array(phi), np.array(h), np.asarray(usage)
            objective.append(float(obj))
            dead = np.flatnonzero(usage == 0)
            if dead.size:  # re-draw unused columns from the data
                phi[:, dead] = x[rng.choice(m, size=dead.size, replace=dead.size > m)].T
                phi[:, dead] /= np.maximum(np.linalg.norm(phi[:, dead], axis=0, keepdims=True), 1e-12)
                h[dead] = 0.0
        self.dictionary_ = phi
        self.components_ = phi.T
        self.objective_ = np.asarray(objective)
        self.n_iter_ = self.n_epochs
        self.usage_ = usage
        self.n_features_in_ = d
        return self

    def transform(self, states: np.ndarray) -> np.ndarray:
        """Non-negative codes α of every state, shape (..., n_factors) matching the input's leading shape."""
        sol = self.transform_solution(states)
        if not sol.converged:
            warnings.warn(f"FISTA codes stopped with result '{sol.result.value}' (KKT residual {sol.residual:.3g} > "
                          f"fista_tol = {self.fista_tol:g}); raise fista_steps", RuntimeWarning, stacklevel=2)
        return sol.value

    def transform_solution(self, states: np.ndarray):
        """Like :meth:`transform` but returns the FISTA :class:`~statmech_attn.Solution` (codes reshaped)."""
        self._check_fitted()
        x, lead = self._flatten(states)
        if x.shape[1] != self.n_features_in_:
            raise InputError("states", f"d = {x.shape[1]}", f"must have d = {self.n_features_in_} (as in fit)")
        sol = sparse_codes(x, self.dictionary_, self.alpha, max_steps=self.fista_steps, tol=self.fista_tol,
                           throw=False)
        return sol.replace(value=sol.value.reshape(*lead, self.n_factors))

    def fit_transform(self, states: np.ndarray, sample_weight: np.ndarray | None = None) -> np.ndarray:
        """``fit(states).transform(states)``."""
        return self.fit(states, sample_weight).transform(states)

    def importance_scores(self, states: np.ndarray | None = None, *, codes: np.ndarray | None = None,
                          top_k: int | None = None) -> np.ndarray:
        """IS(c, ℓ), shape (n_factors, layers), from 3-D states (or their precomputed codes)."""
        self._check_fitted()
        if codes is None:
            if states is None:
                raise InputError("states", None, "give states (layers, tokens, d) or codes")
            x = check_states(states, ndims=(3,))
            codes = self.transform(x)
        return importance_scores(codes, self.top_k if top_k is None else top_k)

    def top_activations(self, codes: np.ndarray, factor: int, k: int = 5) -> list[tuple[int, int, float]]:
        """The ``k`` (layer, token, α) with the largest coefficient of ``factor`` ("top activating contexts")."""
        codes = np.asarray(codes)
        if codes.ndim != 3 or not (0 <= factor < codes.shape[2]):
            raise InputError("factor", factor, f"must be in [0, {codes.shape[-1] - 1}] for codes (layers, tokens, K)")
        flat = codes[:, :, factor].ravel()
        idx = np.argsort(-flat)[:k]
        return [(int(i // codes.shape[1]), int(i % codes.shape[1]), float(flat[i])) for i in idx]

    def __repr__(self) -> str:
        return f"TransformerFactors(n_factors={self.n_factors}, alpha={self.alpha}, n_epochs={self.n_epochs})"
