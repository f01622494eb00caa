"""Predictor statistics, GP limit, kernel–task alignment, head scores and pruning (§7–8)."""

from __future__ import annotations

import math
from typing import NamedTuple, Sequence

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np

from .._jit import jit
from ._action import OrderParameters, PathsProblem, gp_order_parameters
from ._kernels import cholesky_kt, renormalised_kernel
from ._model import PathsModel


class Prediction(NamedTuple):
    """Posterior predictive statistics on test inputs: ``mean`` ⟨f*⟩ and ``variance`` ⟨δf*²⟩."""

    mean: jnp.ndarray
    variance: jnp.ndarray


def _u1(U: OrderParameters | Sequence[jnp.ndarray] | jnp.ndarray) -> jnp.ndarray:
    u = U.U[0] if isinstance(U, OrderParameters) else U[0] if isinstance(U, (tuple, list)) else U
    return u if isinstance(u, jax.Array) else np.asarray(u, dtype=np.float64)  # host arrays stay on the host


@jax.jit
def _predict(u1, xt, y, temperature, xt_test):
    c = cholesky_kt(renormalised_kernel(u1, xt), temperature)
    k_star = renormalised_kernel(u1, xt, xt_test)  # (P, P*)
    mean = k_star.T @ jsl.cho_solve((c, True), y)
    k_ss = jnp.einsum("nip,pq,niq->n", xt_test, u1, xt_test)
    v = jsl.solve_triangular(c, k_star, lower=True)
    var = k_ss - jnp.sum(v * v, axis=0)
    return mean, var


def predict(U: OrderParameters | Sequence[jnp.ndarray] | jnp.ndarray, problem: PathsProblem,
            xt_test: jnp.ndarray | None = None) -> Prediction:
    """Posterior predictive mean and variance at the order parameters U (§7):

        ⟨f*⟩ = k*ᵀ (K + T I)⁻¹ Y,    ⟨δf*²⟩ = k** − k*ᵀ (K + T I)⁻¹ k*   (function variance)

    with k*_μ = Σ_i (X̃_i U₁ X̃*_i)_μ and k** = Σ_i X̃*_iᵀ U₁ X̃*_i.  ``xt_test`` defaults to the
    problem's test set.
    """
    xs = problem.xt_test if xt_test is None else jnp.asarray(xt_test)
    if xs is None:
        raise ValueError("no test inputs: pass xt_test or build the problem with a test set")
    a = problem.arrays
    return Prediction(*_predict(_u1(U), a.xt, a.y, problem.model.hyper().temperature, xs))


def gp_kernel(xt: jnp.ndarray, model: PathsModel, xt_other: jnp.ndarray | None = None) -> jnp.ndarray:
    """K_GP = σ_a² Π_ℓ σ_ℓ² Σ_π C^{ππ} = σ_a² Π_ℓ σ_ℓ² Σ_i X̃_i X̃_iᵀ (only same-path kernels, §8)."""
    other = xt if xt_other is None else xt_other
    scale = model.sigma2_readout * math.prod(model.sigma2_layers)
    return scale * jnp.einsum("mip,nip->mn", xt, other)


def gp_predict(problem: PathsProblem, xt_test: jnp.ndarray | None = None) -> Prediction:
    """The GP-limit predictor (N → ∞ at fixed P), computed directly from K_GP (no order parameters):

        ⟨f*⟩ = k_GP*ᵀ (K_GP + T I)⁻¹ Y,   ⟨δf*²⟩ = k_GP** − k_GP*ᵀ (K_GP + T I)⁻¹ k_GP*.
    """
    xs = problem.xt_test if xt_test is None else jnp.asarray(xt_test)
    if xs is None:
        raise ValueError("no test inputs: pass xt_test or build the problem with a test set")
    m = problem.model
    xt, y = problem.xt_train, problem.y_train
    c = cholesky_kt(gp_kernel(xt, m), m.temperature)
    ks = gp_kernel(xt, m, xs)
    mean = ks.T @ jsl.cho_solve((c, True), y)
    kss = m.sigma2_readout * math.prod(m.sigma2_layers) * jnp.einsum("nip,nip->n", xs, xs)
    v = jsl.solve_triangular(c, ks, lower=True)
    return Prediction(mean, kss - jnp.sum(v * v, axis=0))


def test_error(pred: Prediction, y_test: jnp.ndarray) -> dict[str, float]:
    """Generalisation error ε_g = ⟨(y* − ⟨f*⟩)²⟩ + ⟨var⟩ (bias² + variance), and accuracy of sign⟨f*⟩."""
    y_test = jnp.asarray(y_test)
    bias2 = float(jnp.mean((y_test - pred.mean) ** 2))
    var = float(jnp.mean(pred.variance))
    acc = float(jnp.mean((jnp.sign(pred.mean) == jnp.sign(y_test)).astype(jnp.float64)))
    return {"test_error": bias2 + var, "bias2": bias2, "variance": var, "accuracy": acc}


def kernel_alignment(k: jnp.ndarray, y: jnp.ndarray, n_modes: int = 10) -> dict[str, object]:
    """Kernel–task alignment (§8).

    ``scalar``: A(K) = Yᵀ K Y / (‖K‖_F ‖Y‖²) (Cristianini-type);
    ``overlaps``: |v_kᵀ Y| / √P for the leading eigenvectors v_k of K (decreasing eigenvalue).
    """
    k = jnp.asarray(k)
    y = jnp.asarray(y)
    scalar = float(y @ k @ y / (jnp.linalg.norm(k) * (y @ y)))
    evals, evecs = jnp.linalg.eigh(0.5 * (k + k.T))
    order = jnp.argsort(-evals)[:n_modes]
    overlaps = jnp.abs(evecs[:, order].T @ y) / math.sqrt(y.shape[0])
    return {"scalar": scalar, "overlaps": np.asarray(overlaps), "eigenvalues": np.asarray(evals[order])}


def alignment(U: OrderParameters, problem: PathsProblem, n_modes: int = 10) -> dict[str, object]:
    """Alignment of the renormalised kernel K(U₁) and of K_GP with the training labels."""
    xt, y = problem.xt_train, problem.y_train
    k = renormalised_kernel(_u1(U), xt)
    k_gp = gp_kernel(xt, problem.model)
    return {"renormalised": kernel_alignment(k, y, n_modes), "gp": kernel_alignment(k_gp, y, n_modes)}


def _unfold(u1: jnp.ndarray, heads: Sequence[int]) -> jnp.ndarray:
    """U₁ as the 2L-index tensor U[h₁..h_L ; h'₁..h'_L] (h₁ slowest)."""
    return jnp.reshape(u1, tuple(heads) + tuple(heads))


def head_scores(U: OrderParameters | jnp.ndarray, heads: Sequence[int], *, normalise: bool = True) -> list[np.ndarray]:
    """Head scores (§8): for head h of layer ℓ,

        score(ℓ, h) = Σ|U| over entries with h_ℓ = h + Σ|U| with h'_ℓ = h − Σ|U| with h_ℓ = h'_ℓ = h,

    the total absolute weight of all path pairs that use head h, counted once.  Normalised by the
    largest score over all heads when ``normalise``.  Returns one array (H_ℓ,) per layer.
    """
    heads = tuple(heads)
    L = len(heads)
    t = jnp.abs(_unfold(_u1(U), heads))
    scores = []
    for l in range(L):
        other_axes = tuple(a for a in range(2 * L) if a != l)
        s1 = jnp.sum(t, axis=other_axes)  # h_ℓ = h
        other_axes2 = tuple(a for a in range(2 * L) if a != L + l)
        s2 = jnp.sum(t, axis=other_axes2)  # h'_ℓ = h
        both = jnp.moveaxis(t, (l, L + l), (0, 1))
        diag = jnp.sum(jnp.diagonal(both, axis1=0, axis2=1), axis=tuple(range(both.ndim - 2)))
        scores.append(np.asarray(s1 + s2 - diag))
    if normalise:
        top = max(float(s.max()) for s in scores)
        scores = [s / top for s in scores]
    return scores


def prune_heads(u1: jnp.ndarray, heads: Sequence[int], pruned: Sequence[tuple[int, int]]) -> jnp.ndarray:
    """U₁ with heads silenced (§8): zero every entry with h_ℓ = h or h'_ℓ = h, for (ℓ, h) in ``pruned``
    (0-based layer and head)."""
    heads = tuple(heads)
    L = len(heads)
    t = _unfold(jnp.asarray(u1), heads)
    for (l, h) in pruned:
        idx = [slice(None)] * (2 * L)
        idx[l] = h
        t = t.at[tuple(idx)].set(0.0)
        idx = [slice(None)] * (2 * L)
        idx[L + l] = h
        t = t.at[tuple(idx)].set(0.0)
    return t.reshape(u1.shape)


def pruning_table(U: OrderParameters, problem: PathsProblem) -> list[dict[str, float]]:
    """Accuracy drop on the test set when each head alone is silenced (no re-solve)."""
    if problem.xt_test is None or problem.y_test is None:
        return []
    heads = problem.model.heads
    base = test_error(predict(U, problem), problem.y_test)["accuracy"]
    scores = head_scores(U, heads)
    rows = []
    for l, H in enumerate(heads):
        for h in range(H):
            u1p = prune_heads(_u1(U), heads, [(l, h)])
            acc = test_error(predict(u1p, problem), problem.y_test)["accuracy"]
            rows.append({"layer": l + 1, "head": h + 1, "score": float(scores[l][h]), "accuracy": acc, "drop": base - acc})
    return rows


# ------------------------------------------------------------------------------------------
# everything a ``paths solve`` record reports, in one compiled program


def _head_masks(heads: tuple[int, ...]) -> np.ndarray:
    """(n_heads, D, D) boolean masks: False on the entries of U₁ that :func:`prune_heads` silences
    for head (ℓ, h), heads in (layer, head) order."""
    L = len(heads)
    d = math.prod(heads)
    masks = []
    for l, H in enumerate(heads):
        for h in range(H):
            t = np.ones(tuple(heads) + tuple(heads), dtype=bool)
            idx = [slice(None)] * (2 * L)
            idx[l] = h
            t[tuple(idx)] = False
            idx = [slice(None)] * (2 * L)
            idx[L + l] = h
            t[tuple(idx)] = False
            masks.append(t.reshape(d, d))
    return np.stack(masks)


def _alignment_arrays(k, y, n_modes: int):
    scalar = y @ k @ y / (jnp.linalg.norm(k) * (y @ y))
    evals, evecs = jnp.linalg.eigh(0.5 * (k + k.T))
    order = jnp.argsort(-evals)[:n_modes]
    overlaps = jnp.abs(evecs[:, order].T @ y) / math.sqrt(y.shape[0])
    return scalar, overlaps


def _errors(mean, var, y):
    return {"bias2": jnp.mean((y - mean) ** 2), "variance": jnp.mean(var),
            "accuracy": jnp.mean((jnp.sign(mean) == jnp.sign(y)).astype(jnp.float64))}


def _head_score_arrays(u1, heads: tuple[int, ...]):
    L = len(heads)
    t = jnp.abs(_unfold(u1, heads))
    scores = []
    for l in range(L):
        s1 = jnp.sum(t, axis=tuple(a for a in range(2 * L) if a != l))
        s2 = jnp.sum(t, axis=tuple(a for a in range(2 * L) if a != L + l))
        both = jnp.moveaxis(t, (l, L + l), (0, 1))
        diag = jnp.sum(jnp.diagonal(both, axis1=0, axis2=1), axis=tuple(range(both.ndim - 2)))
        scores.append(s1 + s2 - diag)
    return scores


@jit(compile="lean", static_argnames=("heads", "same_train", "has_labels", "prune", "n_modes"), reuse=())
def _record_arrays(u1, xa, ya, temperature, xt, y, xs, ys, gp_scale, masks, *, heads, same_train, has_labels, prune,
                   n_modes):
    """The predictor (U and GP), its errors, both alignments, head scores and the single-head pruning
    accuracies.  Each kernel and Cholesky factor is built once: K(U₁) serves the predictor and the
    alignment (when the training set is not reduced), K_GP the GP predictor and its alignment; the
    pruned predictors are one vmapped pass over the head masks."""
    out = {}
    k_a = renormalised_kernel(u1, xa)
    c = cholesky_kt(k_a, temperature)
    k_star = renormalised_kernel(u1, xa, xs)
    k_ss = jnp.einsum("nip,pq,niq->n", xs, u1, xs)
    mean = k_star.T @ jsl.cho_solve((c, True), ya)
    v = jsl.solve_triangular(c, k_star, lower=True)
    out["mean"], out["variance"] = mean, k_ss - jnp.sum(v * v, axis=0)
    k_gp = gp_scale * jnp.einsum("mip,nip->mn", xt, xt)
    c_gp = cholesky_kt(k_gp, temperature)
    ks_gp = gp_scale * jnp.einsum("mip,nip->mn", xt, xs)
    out["gp_mean"] = ks_gp.T @ jsl.cho_solve((c_gp, True), y)
    v = jsl.solve_triangular(c_gp, ks_gp, lower=True)
    out["gp_variance"] = gp_scale * jnp.einsum("nip,nip->n", xs, xs) - jnp.sum(v * v, axis=0)
    if has_labels:
        out["errors"] = _errors(out["mean"], out["variance"], ys)
        out["gp_errors"] = _errors(out["gp_mean"], out["gp_variance"], ys)
    k = k_a if same_train else renormalised_kernel(u1, xt)
    out["alignment"] = _alignment_arrays(k, y, n_modes)
    out["alignment_gp"] = _alignment_arrays(k_gp, y, n_modes)
    out["head_scores"] = _head_score_arrays(u1, heads)
    if prune:
        def pruned_accuracy(mask):
            u1p = jnp.where(mask, u1, 0.0)
            cp = cholesky_kt(renormalised_kernel(u1p, xa), temperature)
            m = renormalised_kernel(u1p, xa, xs).T @ jsl.cho_solve((cp, True), ya)
            return jnp.mean((jnp.sign(m) == jnp.sign(ys)).astype(jnp.float64))

        out["pruned_accuracy"] = jax.vmap(pruned_accuracy)(masks)
    return out


def record_quantities(U: OrderParameters, problem: PathsProblem, n_modes: int = 10) -> dict[str, object]:
    """What :func:`statmech_attn.paths.records.solution_record` reports beyond the solver's
    diagnostics, from one compiled program (same numbers as :func:`predict`, :func:`gp_predict`,
    :func:`test_error`, :func:`alignment`, :func:`head_scores` and :func:`pruning_table`):
    predictor and GP predictor on the test set (on the training set when there is none), their
    errors, the alignments, the head scores and the single-head pruning table."""
    a = problem.arrays
    m = problem.model
    on_test = problem.xt_test is not None
    xs = problem.xt_test if on_test else problem.xt_train
    ys = problem.y_test if on_test else problem.y_train
    has_labels = ys is not None
    prune = on_test and problem.y_test is not None
    heads = tuple(m.heads)
    same_train = a.xt.shape == problem.xt_train.shape and np.array_equal(np.asarray(a.xt), np.asarray(problem.xt_train))
    masks = _head_masks(heads) if prune else np.zeros((0, 1, 1), dtype=bool)
    out = jax.device_get(_record_arrays(
        _u1(U), a.xt, a.y, np.asarray(m.temperature, dtype=np.float64), problem.xt_train, problem.y_train, xs,
        ys if has_labels else jnp.zeros(xs.shape[0]), np.asarray(m.sigma2_readout * math.prod(m.sigma2_layers)), masks,
        heads=heads, same_train=same_train, has_labels=has_labels, prune=prune, n_modes=n_modes))

    def errs(e):
        bias2, var = float(e["bias2"]), float(e["variance"])
        return {"test_error": bias2 + var, "bias2": bias2, "variance": var, "accuracy": float(e["accuracy"])}

    scores = [np.asarray(s) for s in out["head_scores"]]
    top = max(float(s.max()) for s in scores)
    scores = [s / top for s in scores]
    res: dict[str, object] = {
        "evaluated_on": "test" if on_test else "train",
        "prediction": Prediction(np.asarray(out["mean"]), np.asarray(out["variance"])),
        "gp_prediction": Prediction(np.asarray(out["gp_mean"]), np.asarray(out["gp_variance"])),
        "errors": errs(out["errors"]) if has_labels else {},
        "gp_errors": errs(out["gp_errors"]) if has_labels else {},
        "alignment": {"renormalised": {"scalar": float(out["alignment"][0]), "overlaps": np.asarray(out["alignment"][1])},
                      "gp": {"scalar": float(out["alignment_gp"][0]), "overlaps": np.asarray(out["alignment_gp"][1])}},
        "head_scores": scores,
        "pruning": [],
    }
    if prune:
        base = res["errors"]["accuracy"]
        rows, i = [], 0
        for l, H in enumerate(heads):
            for h in range(H):
                acc = float(out["pruned_accuracy"][i])
                rows.append({"layer": l + 1, "head": h + 1, "score": float(scores[l][h]), "accuracy": acc, "drop": base - acc})
                i += 1
        res["pruning"] = rows
    return res
