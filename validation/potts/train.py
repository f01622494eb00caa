"""Masked-language-model training of the factored and vanilla attention layers (docs/theories/potts.md).

Adam (or SGD) from optax on the objective (6), mini-batches within an epoch run in one jitted
``lax.scan``; the held-out split gives the validation loss (mask ``"all"``, no penalty) for early
stopping (the best parameters are kept).  Seeded; a progress bar on a terminal.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from statmech_attn.progress import progress
from statmech_attn.errors import InputError
from statmech_attn.potts.spec import TrainConfig
from statmech_attn.potts.metrics import conditional_metrics, recovery_metrics
from statmech_attn.potts.model import PottsModel
from statmech_attn.potts.pseudolikelihood import attention_matrix, factored_couplings

from .layers import (
    FactoredParams,
    draw_mask,
    factored_logits,
    init_factored,
    init_vanilla,
    logits_all,
    masked_cross_entropy,
    penalty,
    vanilla_attention,
    vanilla_logits,
)

__all__ = ["TrainedLayer", "split_sequences", "mlm_objective", "train_layer", "log_probs_all",
           "layer_couplings", "evaluate"]


@dataclasses.dataclass(frozen=True)
class TrainedLayer:
    """A trained layer and its training history.

    Attributes:
        settings: the [train] table used.
        params: :class:`~statmech_attn.validation.potts.layers.FactoredParams` or ``VanillaParams`` (best epoch).
        loss_curve: (epochs_run, 2): training objective (6) averaged over the epoch's batches, and
            validation loss (mask ``"all"``, no penalty; NaN without a validation split).
        train_loss: mask-``"all"`` cross-entropy on the training split at ``params``.
        validation_loss: the same on the validation split (None without one).
        epochs_run, best_epoch, n_train, n_validation, wall_time_s, steps.
    """

    settings: TrainConfig
    params: Any
    loss_curve: np.ndarray
    train_loss: float
    validation_loss: float | None
    epochs_run: int
    best_epoch: int
    n_train: int
    n_validation: int
    wall_time_s: float
    steps: int


def split_sequences(sequences: np.ndarray, validation_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle (seeded) and split off ⌊fraction·M⌋ sequences for validation."""
    M = sequences.shape[0]
    perm = np.random.default_rng(seed).permutation(M)
    n_val = int(np.floor(validation_fraction * M))
    if n_val >= M:
        raise InputError("train.validation_fraction", validation_fraction, f"leaves no training sequences (M = {M})")
    return sequences[perm[n_val:]], sequences[perm[:n_val]]


def _logits(cfg: TrainConfig, params, s, mask):
    if cfg.layer == "factored":
        return factored_logits(params, s, mask, cfg.attention)
    return vanilla_logits(params, s, mask, cfg.residual)


@functools.partial(jax.jit, static_argnames=("cfg",))
def log_probs_all(cfg: TrainConfig, params, s: jax.Array) -> jax.Array:
    """ln p_θ(s_i = a | s with site i masked alone), shape (M, L, C)."""
    z = logits_all(cfg.layer, params, s, attention=cfg.attention, residual=cfg.residual)
    return jax.nn.log_softmax(z, axis=-1)


def mlm_objective(cfg: TrainConfig, params, s: jax.Array, key: jax.Array) -> jax.Array:
    """The objective (6) on a batch with the mask mode of ``cfg`` (``"all"``: every site, alone)."""
    if cfg.mask == "all":
        z = logits_all(cfg.layer, params, s, attention=cfg.attention, residual=cfg.residual)
        ce = masked_cross_entropy(z, s, jnp.ones(s.shape, dtype=bool))
    else:
        mask = draw_mask(key, s.shape, cfg.mask, cfg.mask_fraction)
        ce = masked_cross_entropy(_logits(cfg, params, s, mask), s, mask)
    return ce + penalty(params, cfg.lambda_attention, cfg.lambda_value)


def _optimizer(cfg: TrainConfig) -> optax.GradientTransformation:
    return optax.adam(cfg.lr) if cfg.optimizer == "adam" else optax.sgd(cfg.lr)


@functools.partial(jax.jit, static_argnames=("cfg", "n_batches", "batch"))
def _epoch(cfg: TrainConfig, params, opt_state, key, seqs, *, n_batches: int, batch: int):
    opt = _optimizer(cfg)
    kp, km = jax.random.split(key)
    idx = jax.random.permutation(kp, seqs.shape[0])[: n_batches * batch].reshape(n_batches, batch)

    def step(carry, x):
        params, opt_state = carry
        ib, k = x
        loss, g = jax.value_and_grad(lambda p: mlm_objective(cfg, p, seqs[ib], k))(params)
        updates, opt_state = opt.update(g, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), loss

    (params, opt_state), losses = jax.lax.scan(step, (params, opt_state), (idx, jax.random.split(km, n_batches)))
    return params, opt_state, jnp.mean(losses)


@functools.partial(jax.jit, static_argnames=("cfg",))
def _ce_all(cfg: TrainConfig, params, s):
    logp = log_probs_all(cfg, params, s)
    return -jnp.mean(jnp.take_along_axis(logp, s[..., None], axis=-1))


def train_layer(sequences: np.ndarray, colours: int, cfg: TrainConfig, *, seed: int = 0,
                description: str = "training") -> TrainedLayer:
    """Train the layer of ``cfg`` (factored or vanilla) by MLM on ``sequences`` (M, L) int in [0, C).

    The split, initialisation, batches and masks all derive from ``seed``.
    """
    seqs = np.asarray(sequences, dtype=np.int32)
    L = seqs.shape[1]
    tr, va = split_sequences(seqs, cfg.validation_fraction, seed)
    key = jax.random.PRNGKey(seed)
    kinit, key = jax.random.split(key)
    if cfg.layer == "factored":
        params = init_factored(kinit, L, colours, cfg.heads, cfg.fields)
    else:
        params = init_vanilla(kinit, L, colours, cfg.embed_dim)
    opt_state = _optimizer(cfg).init(params)
    batch = min(cfg.batch_size, tr.shape[0])
    n_batches = max(1, tr.shape[0] // batch)
    tr_j, va_j = jnp.asarray(tr), jnp.asarray(va)
    best, best_params, best_epoch, since = np.inf, params, 0, 0
    curve = []
    t0 = time.perf_counter()
    epochs_run = 0
    for epoch in progress(range(cfg.epochs), total=cfg.epochs, description=description):
        params, opt_state, loss = _epoch(cfg, params, opt_state, jax.random.fold_in(key, epoch), tr_j,
                                         n_batches=n_batches, batch=batch)
        val = float(_ce_all(cfg, params, va_j)) if va.shape[0] else float("nan")
        curve.append((float(loss), val))
        epochs_run = epoch + 1
        if not np.isfinite(float(loss)):
            raise InputError("train.lr", cfg.lr, "training diverged (non-finite loss); use a smaller learning rate")
        if va.shape[0]:
            if val < best:
                best, best_params, best_epoch, since = val, params, epoch + 1, 0
            else:
                since += 1
                if since >= cfg.patience:
                    break
        else:
            best_params, best_epoch = params, epoch + 1
    wall = time.perf_counter() - t0
    train_loss = float(_ce_all(cfg, best_params, tr_j))
    return TrainedLayer(settings=cfg, params=best_params, loss_curve=np.asarray(curve),
                        train_loss=train_loss, validation_loss=(best if va.shape[0] else None),
                        epochs_run=epochs_run, best_epoch=best_epoch, n_train=int(tr.shape[0]),
                        n_validation=int(va.shape[0]), wall_time_s=wall, steps=epochs_run * n_batches)


def layer_couplings(trained: TrainedLayer) -> tuple[jax.Array, jax.Array]:
    """The map (7) applied to a trained factored layer: (𝒥^θ (L,L,C,C), f^θ = b (L,C))."""
    p: FactoredParams = trained.params
    return factored_couplings(p.W, p.V, p.b, trained.settings.attention)


def layer_attention(trained: TrainedLayer, sequences: np.ndarray) -> np.ndarray:
    """The attention matrices (H, L, L): A^h of (3) for the factored layer; for the vanilla layer the
    attention row of each site i with i masked alone, averaged over ``sequences`` (1, L, L)."""
    if trained.settings.layer == "factored":
        return np.asarray(attention_matrix(trained.params.W, trained.settings.attention))
    return np.asarray(_vanilla_attention_rows(trained.params, jnp.asarray(sequences)))[None]


@jax.jit
def _vanilla_attention_rows(params, s):
    L = s.shape[1]

    def row(i):
        mask = jnp.broadcast_to(jnp.arange(L) == i, s.shape)
        return jnp.mean(vanilla_attention(params, s, mask)[:, i, :], axis=0)

    return jax.vmap(row)(jnp.arange(L))


def evaluate(trained: TrainedLayer, test_sequences: np.ndarray, model: PottsModel | None = None,
             edge_tol: float = 1e-12) -> dict[str, Any]:
    """Test metrics of §6 for a trained layer.

    ``test_ce`` always; with the true ``model``: ``test_kl``, ``cond_entropy`` and, for the factored
    layer, ``coupling_error``, ``top_pair_precision``, ``auc``, ``colour_cosine``.  For the vanilla
    layer the pair scores are the symmetrised averaged attention (|A_ij| + |A_ji|)/2, and
    ``coupling_error``/``colour_cosine`` are None (the layer has no coupling tensor).
    """
    cfg = trained.settings
    s = jnp.asarray(test_sequences)
    logp = log_probs_all(cfg, trained.params, s)
    out: dict[str, Any] = {"test_ce": float(-jnp.mean(jnp.take_along_axis(logp, s[..., None], axis=-1))),
                           "test_kl": None, "cond_entropy": None, "coupling_error": None,
                           "top_pair_precision": None, "auc": None, "colour_cosine": None}
    if model is None:
        return out
    out.update(conditional_metrics(model, logp, s))
    if cfg.layer == "factored":
        J, _ = layer_couplings(trained)
        out.update(recovery_metrics(model, J, value=np.asarray(trained.params.V),
                                    absolute_cosine=(cfg.attention == "linear"), edge_tol=edge_tol))
    else:
        from statmech_attn.potts.metrics import roc_auc, top_pair_precision, true_edges

        A = layer_attention(trained, test_sequences)[0]
        scores = 0.5 * (np.abs(A) + np.abs(A.T))
        edges = true_edges(np.asarray(model.interaction), edge_tol)
        out.update({"top_pair_precision": top_pair_precision(scores, edges), "auc": roc_auc(scores, edges)})
    return out
