"""The factored-attention layer trained by masked language modelling, read as the replica problem (§7.1).

The map of docs/theories/potts.md: the masked site is site 0 of L = N + 1 sites; the teacher row is
the interaction of a *star* Potts model, J_0j = J_j0 = w*_j/(β√N) (j = 1..N, all other J = 0,
‖w*‖² = ρN), colour matrix U, no fields, so the Potts conditional (2) of site 0 is
softmax(X w*/√N) with X = U[:, s_1..s_N] — the teacher of §7.1.  The student is the factored layer
(4) with linear attention (3b), one head, no bias and the value matrix fixed to V = U (§5: with V
fixed and linear attention, (6) is L2-regularised pseudo-likelihood); its row 0 is ŵ_j = √N A_0j.

Training: the MLM objective (6) with mask ``"all"`` (issue 6's :func:`statmech_attn.validation.potts.train.mlm_objective`
on :func:`statmech_attn.validation.potts.layers.factored_logits`) plus (λ_W/2)‖W‖², minimised over W by L-BFGS
(optax) to ‖∇‖ ≤ ``gtol`` in the units of (10).  Because (6) is normalised by |𝒯| = M·L pairs and
A_0j = w_j/√N, row 0 of (6) times M·L is exactly (10) with

    λ = M·L·λ_W / N,  i.e.  λ_W = λ N / (M L)  (= λ/(αL)),

so the trained row 0 *is* the ERM estimator ŵ of (10) on the same data (rows of (6) decouple when V
is fixed), which a test checks against :func:`statmech_attn.validation.potts.replica_erm.fit_ridge_ce`.

Data (``contexts``):
- ``"independent"``: context colours s_1..s_N independent and uniform (the β → 0 context of §7.1,
  where the map is exact) and s_0 drawn from its Potts conditional (2);
- ``"potts"``: whole sequences from the star Potts model (1) by the Gibbs sampler of §3.  Then the
  contexts are tilted by their coupling to site 0 (P(s_{1..N}) ∝ Σ_a e^{t*_a}, an O(1) effect when
  ρ = O(1)), so the theory is an approximation; the report shows by how much.

Observables per seed, as :mod:`.replica_erm`: m, q, eps_w, cosine from row 0; train_loss (mean CE
at site 0 on the training sequences); test_ce, cond_entropy, kl on ``n_test`` fresh sequences from
the same source, with the exact conditional of site 0 as p* (expectation over s_0 exact).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from statmech_attn.errors import InputError
from statmech_attn.potts.spec import TrainConfig
from statmech_attn.potts.model import PottsModel, conditional_logits, potts_model
from statmech_attn.potts.pseudolikelihood import attention_matrix
from statmech_attn.potts.sampler import generate

from .layers import FactoredParams, init_factored, logits_all
from .replica_erm import ERMProblem
from .train import mlm_objective

__all__ = ["CONTEXTS", "star_model", "teacher_row", "draw_sequences", "train_row_layer", "mlm_point",
           "layer_ridge"]

CONTEXTS = ("independent", "potts")
# the layer of §7.1: factored, linear attention, one head, no bias, mask "all" (weight decay added separately)
_LAYER = TrainConfig(layer="factored", attention="linear", heads=1, fields=False, mask="all")


def teacher_row(key: jax.Array, N: int, rho: float) -> jax.Array:
    """w* ∈ R^N, Gaussian direction, rescaled so that ‖w*‖² = ρN exactly."""
    w = jax.random.normal(key, (N,))
    return w * jnp.sqrt(rho * N) / jnp.linalg.norm(w)


def star_model(w_star: Any, colour_matrix: Any, beta: float = 1.0) -> PottsModel:
    """The star Potts model of the map: L = N + 1 sites, J_0j = J_j0 = w*_j/(β√N), colour matrix U."""
    w = np.asarray(w_star, dtype=np.float64)
    N = w.shape[0]
    J = np.zeros((N + 1, N + 1))
    J[0, 1:] = J[1:, 0] = w / (beta * math.sqrt(N))
    return potts_model(J, colour_matrix, None, beta)


def layer_ridge(lam: float, M: int, N: int) -> float:
    """λ_W of (6) that makes row 0 of the trained layer the estimator (10) with ridge λ: λ_W = λN/(ML)."""
    return lam * N / (M * (N + 1))


def draw_sequences(model: PottsModel, key: jax.Array, M: int, contexts: str, sampler: Any = None) -> jax.Array:
    """M sequences (M, N + 1) int32: independent uniform contexts with s_0 from its conditional (2),
    or Gibbs samples of the whole model (``sampler``: a [sampler] table; its chains/burn_in/thin/scan)."""
    L, C = model.sites, model.colours
    if contexts == "independent":
        k_ctx, k_lab = jax.random.split(key)
        s = jax.random.randint(k_ctx, (M, L), 0, C, dtype=jnp.int32)
        ell0 = conditional_logits(model, s)[:, 0, :]  # ℓ_0 does not depend on s_0 (J_00 = 0)
        return s.at[:, 0].set(jax.random.categorical(k_lab, ell0).astype(jnp.int32))
    if contexts == "potts":
        seed = int(jax.random.randint(key, (), 0, 2 ** 31 - 1))
        kw = {} if sampler is None else dict(chains=sampler.chains, burn_in=sampler.burn_in, thin=sampler.thin,
                                             scan=sampler.scan)
        return jnp.asarray(generate(model, M, seed=seed, **kw).sequences)
    raise InputError("validate.contexts", contexts, "must be one of " + ", ".join(CONTEXTS))


def _objective(W: jax.Array, V: jax.Array, s: jax.Array, lam_W: jax.Array) -> jax.Array:
    """(6) with mask "all", V fixed: mean CE over (sequence, site) + (λ_W/2)‖W‖²."""
    params = FactoredParams(W[None], V[None], None)
    return mlm_objective(_LAYER, params, s, jax.random.PRNGKey(0)) + 0.5 * lam_W * jnp.sum(W * W)


@functools.partial(jax.jit, static_argnames=("max_steps",))
def _train(W0: jax.Array, V: jax.Array, s: jax.Array, lam_W: jax.Array, gtol: jax.Array, *,
           max_steps: int) -> tuple[jax.Array, jax.Array, jax.Array]:
    """L-BFGS on (6) over W; stops when ‖∇_W (6)‖·M·L/√N ≤ gtol (the gradient norm in the units of (10))."""
    M, L = s.shape
    scale = M * L / jnp.sqrt(L - 1.0)
    f = functools.partial(_objective, V=V, s=s, lam_W=lam_W)
    opt = optax.lbfgs(memory_size=20)
    value_and_grad = optax.value_and_grad_from_state(f)

    def cond(carry: tuple) -> jax.Array:
        k, W, state, gnorm = carry
        return (k < max_steps) & (gnorm * scale > gtol)

    def body(carry: tuple) -> tuple:
        k, W, state, _ = carry
        value, grad = value_and_grad(W, state=state)
        updates, state = opt.update(grad, state, W, value=value, grad=grad, value_fn=f)
        W = optax.apply_updates(W, updates)
        return k + 1, W, state, optax.tree_utils.tree_norm(jax.grad(f)(W))

    g0 = optax.tree_utils.tree_norm(jax.grad(f)(W0))
    k, W, _, gnorm = jax.lax.while_loop(cond, body, (0, W0, opt.init(W0), g0))
    return W, gnorm * scale, k


def train_row_layer(s: jax.Array, colour_matrix: Any, lam: float, key: jax.Array, *, gtol: float = 1e-8,
                    max_steps: int = 5000) -> dict[str, Any]:
    """Train the layer of the map on sequences ``s`` (M, N + 1) and return its attention matrix A
    (L×L), row 0 as ŵ = √N A_0,1..N, the gradient norm (units of (10)) and the L-BFGS steps."""
    s = jnp.asarray(s, dtype=jnp.int32)
    M, L = s.shape
    N = L - 1
    U = jnp.asarray(colour_matrix, dtype=jnp.float64)
    W0 = init_factored(key, L, U.shape[0], 1, False).W[0]  # the layer's own initialisation (§4.1)
    W, gnorm, steps = _train(W0, U, s, jnp.asarray(layer_ridge(lam, M, N)), jnp.asarray(gtol), max_steps=max_steps)
    A = attention_matrix(W[None], "linear")[0]
    return {"W": W, "A": A, "w_hat": jnp.sqrt(N) * A[0, 1:], "grad_norm": gnorm, "steps": steps}


@jax.jit
def _site0_metrics(W: jax.Array, U: jax.Array, model: PottsModel, s: jax.Array) -> dict[str, jax.Array]:
    """CE of the layer at site 0 against the exact conditional p* of site 0 (averaged over sequences)."""
    params = FactoredParams(W[None], U[None], None)
    log_ph = jax.nn.log_softmax(logits_all("factored", params, s, attention="linear")[:, 0, :], axis=-1)
    log_ps = jax.nn.log_softmax(conditional_logits(model, s)[:, 0, :], axis=-1)
    ps = jnp.exp(log_ps)
    test_ce = jnp.mean(-jnp.sum(ps * log_ph, axis=1))
    cond_entropy = jnp.mean(-jnp.sum(ps * log_ps, axis=1))
    sample_ce = jnp.mean(-jnp.take_along_axis(log_ph, s[:, :1], axis=1))
    return {"test_ce": test_ce, "cond_entropy": cond_entropy, "sample_ce": sample_ce}


def mlm_point(problem: ERMProblem, alpha: float, N: int, seed: int, *, contexts: str = "independent",
              n_test: int = 4000, sampler: Any = None, gtol: float = 1e-8) -> dict[str, float]:
    """One seed at (α, N): draw the star model's teacher, M = round(αN) training and ``n_test`` test
    sequences, train the layer by MLM and return the observables of :mod:`.replica_erm` (plus
    ``grad_norm``, ``lbfgs_steps``)."""
    if contexts not in CONTEXTS:
        raise InputError("validate.contexts", contexts, "must be one of " + ", ".join(CONTEXTS))
    if problem.colour_matrix is None:
        raise InputError("validate.target", "train", "the layer needs the colour matrix U (give replica.colour_matrix, "
                         "or a colour_covariance with Σ1 = 0)")
    if N < 2:
        raise InputError("validate.sizes", N, "every size N must be >= 2")
    M = max(1, int(round(alpha * N)))
    U = np.asarray(problem.colour_matrix, dtype=np.float64)
    rho = problem.teacher_norm
    k_w, k_train, k_test, k_init = jax.random.split(jax.random.PRNGKey(int(seed)), 4)
    w_star = teacher_row(k_w, N, rho)
    model = star_model(np.asarray(w_star), U)
    s_train = draw_sequences(model, k_train, M, contexts, sampler)
    fit = train_row_layer(s_train, U, problem.ridge, k_init, gtol=gtol)
    w = fit["w_hat"]
    m = float(w @ w_star / N)
    q = float(w @ w / N)
    train = _site0_metrics(fit["W"], jnp.asarray(U), model, s_train)
    test = _site0_metrics(fit["W"], jnp.asarray(U), model, draw_sequences(model, k_test, n_test, contexts, sampler))
    test_ce, cond_entropy = float(test["test_ce"]), float(test["cond_entropy"])
    return {"m": m, "q": q, "test_ce": test_ce, "kl": test_ce - cond_entropy, "cond_entropy": cond_entropy,
            "eps_w": (rho - 2 * m + q) / rho, "cosine": m / math.sqrt(rho * q), "train_loss": float(train["sample_ce"]),
            "grad_norm": float(fit["grad_norm"]), "lbfgs_steps": int(fit["steps"])}

