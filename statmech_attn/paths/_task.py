"""The bundled task: hidden-Markov-chain sequence classification (theory §9.1).

Per example a two-state chain z₁..z_T ∈ {+, −}: z₁ = ± with probability ½, then each step keeps
the state with probability p_stay(z).  Class a (y = +1) uses (p_a+, p_a−), class b (y = −1)
(p_b+, p_b−); the first P/2 examples are class a.  Token s carries v_{z_s} + ξ_s with
v₊ = √2(1,…,1,0,…,0), v₋ = √2(0,…,0,1,…,1) and noise ξ = c_∥ P_∥ g + c_⊥ P_⊥ g + c_o P_o g,
g ~ N(0, I_n); P_⊥ projects on v₊ − v₋, P_∥ on v₊ + v₋, P_o on the rest.  A beginning-of-sequence
token (zero features) is prepended and a one-hot positional encoding of dimension T+1 appended,
so N₀ = n + T + 1 and each example has S = T + 1 tokens.

Attention ("w" style, fixed functions of the raw input): score^h_{st} = β x_sᵀ W^h x_t (key s,
query t), A_{st} = softmax_s, with W^h block diagonal on [features | positions] and
q = (v₊ − v₋)/n:
- ``same_token``: feature block q qᵀ; position block 1 at (key s, query s+1) for real tokens and
  1.5 on the bos key row for every query but the bos query;
- ``different_token``: as same_token with feature block −q qᵀ;
- ``uniform``: feature block 0, position block all ones (uniform attention);
- ``blank``: random blocks (feature ε_f g/n, position ε_p g, cross blocks ε_f g/√n), the
  "noise" heads.
This reimplementation follows the recipe with its own (NumPy, seeded) random numbers.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Literal

import numpy as np

from ..errors import InputError
from ._data import PathsData

HeadKind = Literal["same_token", "different_token", "uniform", "blank"]
HEAD_KINDS = ("same_token", "different_token", "uniform", "blank")


@dataclasses.dataclass(frozen=True)
class HMMTask:
    """Settings of the hidden-Markov-chain task (paper values as defaults); also the [data.hmm] config table."""

    n_features: int = 200
    tokens: int = 30
    n_train: int = 100
    n_test: int = 200
    p_a_plus: float = 0.7
    p_a_minus: float = 0.7
    p_b_plus: float = 0.3
    p_b_minus: float = 0.3
    noise_parallel: float = 1.0
    noise_perpendicular: float = 1.0
    noise_out_of_plane: float = 1.0
    attention_beta: float = 10.0
    blank_strength: float = 1.0
    layer_heads: tuple[tuple[str, ...], ...] = (("same_token", "blank"), ("uniform", "blank"))
    seed_train: int = 27
    seed_test: int = 59
    seed_heads: int = 0

    def __post_init__(self) -> None:
        if self.n_features < 2 or self.n_features % 2:
            raise InputError("n_features", self.n_features, "must be an even integer >= 2")
        if self.tokens < 2:
            raise InputError("tokens", self.tokens, "must be an integer >= 2")
        if self.n_train < 2 or self.n_train % 2:
            raise InputError("n_train", self.n_train, "must be an even integer >= 2 (equal class sizes)")
        if self.n_test < 0 or self.n_test % 2:
            raise InputError("n_test", self.n_test, "must be an even integer >= 0")
        for name in ("p_a_plus", "p_a_minus", "p_b_plus", "p_b_minus"):
            v = getattr(self, name)
            if not (0.0 <= v <= 1.0):
                raise InputError(name, v, "must be a probability in [0, 1]")
        for name in ("noise_parallel", "noise_perpendicular", "noise_out_of_plane", "blank_strength"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v >= 0):
                raise InputError(name, v, "must be >= 0")
        if not (math.isfinite(self.attention_beta) and self.attention_beta >= 0):
            raise InputError("attention_beta", self.attention_beta, "must be >= 0")
        if len(self.layer_heads) < 1:
            raise InputError("layer_heads", list(self.layer_heads), "must list the heads of at least one layer")
        for l, layer in enumerate(self.layer_heads):
            if len(layer) < 1:
                raise InputError(f"layer_heads[{l}]", list(layer), "must name at least one head")
            for kind in layer:
                if kind not in HEAD_KINDS:
                    raise InputError(f"layer_heads[{l}]", kind, "each head must be one of " + ", ".join(HEAD_KINDS))

    @property
    def heads(self) -> tuple[int, ...]:
        return tuple(len(layer) for layer in self.layer_heads)

    @property
    def n0(self) -> int:
        """Input width N₀ = n + T + 1."""
        return self.n_features + self.tokens + 1


def _states(rng: np.random.Generator, n: int, T: int, p_plus: float, p_minus: float) -> np.ndarray:
    """n chains of length T with states ±1."""
    z = np.empty((n, T))
    z[:, 0] = np.where(rng.random(n) < 0.5, 1.0, -1.0)
    u = rng.random((n, T - 1))
    for t in range(1, T):  # a loop over the (short) chain length, vectorised over examples
        stay = np.where(z[:, t - 1] > 0, p_plus, p_minus)
        z[:, t] = np.where(u[:, t - 1] < stay, z[:, t - 1], -z[:, t - 1])
    return z


def _tokens(task: HMMTask, rng: np.random.Generator, n_examples: int) -> tuple[np.ndarray, np.ndarray]:
    n, T = task.n_features, task.tokens
    half = n_examples // 2
    z = np.concatenate([
        _states(rng, half, T, task.p_a_plus, task.p_a_minus),
        _states(rng, n_examples - half, T, task.p_b_plus, task.p_b_minus),
    ])
    y = np.concatenate([np.ones(half), -np.ones(n_examples - half)])
    v_plus = np.zeros(n)
    v_plus[: n // 2] = math.sqrt(2.0)
    v_minus = np.zeros(n)
    v_minus[n // 2:] = math.sqrt(2.0)
    w_perp = (v_plus - v_minus) / np.linalg.norm(v_plus - v_minus)
    w_par = (v_plus + v_minus) / np.linalg.norm(v_plus + v_minus)
    # noise g ↦ M g with M = σ_∥ P_∥ + σ_⊥ P_⊥ + σ_out (I − P_∥ − P_⊥), P = w wᵀ: applied as
    # σ_out g + (σ_∥ − σ_out)(g·w_∥) w_∥ + (σ_⊥ − σ_out)(g·w_⊥) w_⊥ (two projections, not an n × n product)
    g = rng.standard_normal((n_examples, T, n))
    s_out = task.noise_out_of_plane
    noise = (s_out * g + (task.noise_parallel - s_out) * (g @ w_par)[..., None] * w_par
             + (task.noise_perpendicular - s_out) * (g @ w_perp)[..., None] * w_perp)
    feats = np.where(z[..., None] > 0, v_plus, v_minus) + noise
    x = np.zeros((n_examples, T + 1, task.n0))
    x[:, 1:, :n] = feats
    x[:, :, n:] = np.eye(T + 1)  # one-hot positions (bos = position 0)
    return x, y


def head_matrix(task: HMMTask, kind: str, rng: np.random.Generator) -> np.ndarray:
    """W^h (N₀ × N₀), block diagonal on [features | positions], times β."""
    n, T = task.n_features, task.tokens
    S = T + 1
    v_plus = np.zeros(n)
    v_plus[: n // 2] = math.sqrt(2.0)
    v_minus = np.zeros(n)
    v_minus[n // 2:] = math.sqrt(2.0)
    q = (v_plus - v_minus) / n
    w = np.zeros((task.n0, task.n0))
    if kind in ("same_token", "different_token"):
        sign = 1.0 if kind == "same_token" else -1.0
        w[:n, :n] = sign * np.outer(q, q)
        pos = np.zeros((S, S))
        for s in range(1, T):  # real tokens 1..T-1 (key) attend from query s+1
            pos[s, s + 1] = 1.0
        pos[0, 1:] = 1.5  # bos key, every query except bos
        w[n:, n:] = pos
    elif kind == "uniform":
        w[n:, n:] = 1.0
    else:  # blank
        eps = task.blank_strength
        w[:n, :n] = eps * rng.standard_normal((n, n)) / n
        w[n:, n:] = eps * rng.standard_normal((S, S))
        w[:n, n:] = eps * rng.standard_normal((n, S)) / math.sqrt(n)
        w[n:, :n] = eps * rng.standard_normal((S, n)) / math.sqrt(n)
    return task.attention_beta * w


def attention_matrices(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Rows = queries: att[μ, t, s] = softmax_s(x_sᵀ W x_t), shape (P, S, S)."""
    xw = x @ w  # (P, S, N₀): row s is x_sᵀ W
    scores = np.matmul(x, np.swapaxes(xw, 1, 2))  # scores[p, t, s] = x_sᵀ W x_t (query t, key s)
    scores -= scores.max(axis=-1, keepdims=True)
    e = np.exp(scores)
    return e / e.sum(axis=-1, keepdims=True)


def hmm_task(task: HMMTask | None = None) -> PathsData:
    """Generate the seeded hidden-Markov-chain task: tokens, labels and the fixed attention."""
    task = task or HMMTask()
    rng_heads = np.random.default_rng(task.seed_heads)
    ws = [[head_matrix(task, kind, rng_heads) for kind in layer] for layer in task.layer_heads]
    x, y = _tokens(task, np.random.default_rng(task.seed_train), task.n_train)

    def att(xx: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(np.stack([attention_matrices(xx, w) for w in layer], axis=1) for layer in ws)

    if task.n_test > 0:
        x_te, y_te = _tokens(task, np.random.default_rng(task.seed_test), task.n_test)
        return PathsData(x=x, attention=att(x), y=y, x_test=x_te, attention_test=att(x_te), y_test=y_te)
    return PathsData(x=x, attention=att(x), y=y)


@functools.lru_cache(maxsize=2)
def hmm_task_cached(task: HMMTask) -> PathsData:
    """:func:`hmm_task` memoised per process on the (frozen) task settings, arrays read-only: the
    generator is a pure function of the settings, so a second ``paths`` verb on the same task in the
    same process (``statmech_attn.run`` in a notebook, a benchmark) reuses the tokens and attention
    matrices instead of drawing and softmaxing them again (≈0.15 s at P = 100 with 200 test examples)."""
    data = hmm_task(task)
    for a in (data.x, data.y, data.x_test, data.y_test, *data.attention, *(data.attention_test or ())):
        if a is not None:
            a.setflags(write=False)
    return data
