"""MLM training of the factored and vanilla layers on exact samples of planted Potts models (§4–§6)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from statmech_attn.potts import enumerate_exact, potts_model, sample_exact
from statmech_attn.potts.spec import TrainConfig
from statmech_attn.validation.potts.layers import draw_mask
from statmech_attn.validation.potts.train import evaluate, train_layer

from . import _problems as P

VANILLA_MARGIN = 0.1  # nats: vanilla test CE within this of factored test CE (measured gap ≈ 0.06 at M = 3000)


@pytest.fixture(scope="module")
def planted():
    J, U = P.planted(6)
    model = potts_model(J, U, None, 0.8)
    enum = enumerate_exact(model)
    return model, enum, sample_exact(enum, 2000, seed=1)


def test_factored_linear_recovers_graph_and_error_decreases_with_M(planted):
    model, enum, test = planted
    errors, kls = [], []
    for M in (200, 1000, 5000):
        cfg = TrainConfig(attention="linear", lr=0.05, batch_size=M, epochs=400, validation_fraction=0.0)
        tr = train_layer(sample_exact(enum, M, seed=M), 3, cfg, seed=0)
        ev = evaluate(tr, test, model)
        assert ev["top_pair_precision"] >= 0.9 and ev["auc"] >= 0.9
        errors.append(ev["coupling_error"])
        kls.append(ev["test_kl"])
    assert errors[0] > errors[1] > errors[2]
    assert kls[0] > kls[1] > kls[2]
    assert errors[2] < 0.01 and ev["colour_cosine"] > 0.99
    # the test cross-entropy approaches the conditional-entropy floor: test_ce − cond_entropy ≈ test_kl
    assert abs(ev["test_ce"] - ev["cond_entropy"] - ev["test_kl"]) < 0.03


def test_factored_softmax_recovers_a_representable_ring():
    """Softmax attention represents βJ ⊗ U when J ≥ 0 has equal row sums (a uniform ring), §5."""
    model = potts_model(P.ring(6, 1.0), 2.0 * np.eye(3) - 2.0 / 3.0, None, 0.8)
    enum = enumerate_exact(model)
    cfg = TrainConfig(attention="softmax", lr=0.05, batch_size=4000, epochs=400, validation_fraction=0.0)
    tr = train_layer(sample_exact(enum, 4000, seed=3), 3, cfg, seed=0)
    ev = evaluate(tr, sample_exact(enum, 2000, seed=4), model)
    assert ev["top_pair_precision"] >= 0.9
    assert ev["coupling_error"] < 0.02 and ev["colour_cosine"] > 0.99


def test_vanilla_within_margin_of_factored(planted):
    model, enum, test = planted
    seqs = sample_exact(enum, 1500, seed=5)
    fac = TrainConfig(attention="linear", lr=0.05, batch_size=1500, epochs=300, patience=30)
    van = TrainConfig(layer="vanilla", lr=0.02, batch_size=1500, epochs=150, patience=30, embed_dim=16)
    ce_f = evaluate(train_layer(seqs, 3, fac, seed=0), test, model)["test_ce"]
    ev_v = evaluate(train_layer(seqs, 3, van, seed=0), test, model)
    assert ev_v["test_ce"] < ce_f + VANILLA_MARGIN
    assert ev_v["test_ce"] < np.log(3.0) - 0.2  # it learned far more than the uniform guess
    assert ev_v["coupling_error"] is None and 0.0 <= ev_v["auc"] <= 1.0


@pytest.mark.parametrize("mask", ["single", "fraction"])
def test_random_masks_train_towards_the_same_conditionals(planted, mask):
    model, enum, test = planted
    cfg = TrainConfig(attention="linear", mask=mask, mask_fraction=0.2, lr=0.05, batch_size=500, epochs=60,
                      validation_fraction=0.0)
    tr = train_layer(sample_exact(enum, 3000, seed=9), 3, cfg, seed=1)
    assert tr.loss_curve[-1, 0] < tr.loss_curve[0, 0]
    ev = evaluate(tr, test, model)
    assert ev["top_pair_precision"] >= 0.9
    assert ev["test_kl"] < (0.02 if mask == "single" else 0.05)


def test_early_stopping_and_history(planted):
    _, enum, _ = planted
    cfg = TrainConfig(attention="linear", lr=0.2, batch_size=64, epochs=500, patience=3, validation_fraction=0.5)
    tr = train_layer(sample_exact(enum, 200, seed=2), 3, cfg, seed=0)
    assert tr.epochs_run < 500 and tr.epochs_run == tr.best_epoch + 3
    assert tr.loss_curve.shape == (tr.epochs_run, 2)
    assert tr.validation_loss == pytest.approx(np.min(tr.loss_curve[:, 1]))
    assert tr.n_train == 100 and tr.n_validation == 100


def test_draw_mask_modes():
    single = draw_mask(jax.random.PRNGKey(0), (500, 7), "single")
    assert np.all(np.asarray(single).sum(axis=1) == 1)
    frac = np.asarray(draw_mask(jax.random.PRNGKey(1), (4000, 7), "fraction", 0.3))
    assert np.all(frac.sum(axis=1) >= 1)
    # P(site masked) = f + (1 − f)^L / L (the forced site when none was drawn)
    expected = 0.3 + 0.7 ** 7 / 7
    assert abs(frac.mean() - expected) < 5 * np.sqrt(expected * (1 - expected) / frac.size)
    assert jnp.asarray(single).dtype == bool
