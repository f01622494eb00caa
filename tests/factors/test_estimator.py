"""TransformerFactors: planted recovery, importance scores, levels, the estimator surface."""

import numpy as np
import pytest

from statmech_attn import InputError
from statmech_attn.factors import TransformerFactors, classify_levels, frequency_weights, importance_scores
from statmech_attn.validation.factors.planted import planted_dictionary_recovery, planted_emergence


def test_planted_dictionary_is_recovered():
    r = planted_dictionary_recovery(n_states=3000, d=16, n_factors=24, active=3, n_epochs=20, seed=0)
    assert r.mean_cos > 0.95


def test_planted_emergence_layers_are_found():
    planted, learned, cos = planted_emergence(seed=0)
    assert cos > 0.85
    assert np.mean(planted == learned) >= 0.8


def test_importance_scores_and_levels_by_hand():
    codes = np.zeros((3, 4, 2))
    codes[0, :, 0] = [3.0, 1.0, 0.0, 2.0]     # factor 0 strongest at layer 0
    codes[2, :, 1] = [0.5, 4.0, 1.0, 0.0]     # factor 1 only at layer 2
    s = importance_scores(codes, top_k=2)
    np.testing.assert_allclose(s, [[2.5, 0.0, 0.0], [0.0, 0.0, 2.5]])
    peak, emerge, level = classify_levels(s)
    assert peak.tolist() == [0, 2] and emerge.tolist() == [0, 2] and level.tolist() == ["low", "high"]
    _, _, level = classify_levels(np.array([[0.0, 1.0, 0.2], [0.0, 0.0, 0.0]]))
    assert level.tolist() == ["mid", "unused"]


def test_frequency_weights():
    w = frequency_weights(np.array([5, 5, 5, 5, 7]))
    np.testing.assert_allclose(w, [0.5, 0.5, 0.5, 0.5, 1.0])


def test_estimator_surface():
    rng = np.random.default_rng(0)
    states = rng.standard_normal((3, 40, 6))
    tf = TransformerFactors(8, 0.2, n_epochs=2, batch_size=32, seed=0)
    assert tf.fit(states) is tf
    assert tf.dictionary_.shape == (6, 8) and tf.components_.shape == (8, 6)
    np.testing.assert_allclose(np.linalg.norm(tf.dictionary_, axis=0), 1.0, rtol=1e-12)
    assert tf.objective_.shape == (2,) and tf.n_features_in_ == 6
    codes = tf.transform(states)
    assert codes.shape == (3, 40, 8) and codes.min() >= 0
    assert tf.transform(states[0]).shape == (40, 8)
    assert tf.importance_scores(states).shape == (8, 3)
    top = tf.top_activations(codes, 0, 3)
    assert len(top) == 3 and top[0][2] == pytest.approx(codes[:, :, 0].max())


@pytest.mark.parametrize("kwargs, param", [({"alpha": -0.1}, "alpha"), ({"n_factors": 0}, "n_factors"),
                                           ({"learning_rate": 0.0}, "learning_rate"), ({"top_k": 0}, "top_k")])
def test_bad_hyper_parameters(kwargs, param):
    with pytest.raises(InputError) as e:
        TransformerFactors(**{"n_factors": 4, "alpha": 0.1, **kwargs}).fit(np.ones((2, 5, 3)))
    assert e.value.param == param


def test_bad_states():
    tf = TransformerFactors(4, 0.1, n_epochs=1)
    for bad in (np.ones((2, 2, 2, 2)), np.full((2, 3), np.nan), np.ones((0, 3))):
        with pytest.raises(InputError) as e:
            tf.fit(bad)
        assert e.value.param == "states"
    with pytest.raises(InputError) as e:
        tf.transform(np.ones((3, 3)))
    assert e.value.param == "TransformerFactors"
    tf.fit(np.random.default_rng(0).standard_normal((10, 3)))
    with pytest.raises(InputError) as e:
        tf.transform(np.ones((3, 4)))
    assert e.value.param == "states"
    with pytest.raises(InputError) as e:
        tf.fit(np.ones((2, 5, 3)), sample_weight=-np.ones(5))
    assert e.value.param == "sample_weight"


def test_transform_warns_when_codes_do_not_converge():
    rng = np.random.default_rng(3)
    states = rng.standard_normal((50, 6))
    tf = TransformerFactors(12, 0.01, n_epochs=1, fista_steps=1, fista_tol=1e-12).fit(states)
    with pytest.warns(RuntimeWarning, match="fista_steps"):
        tf.transform(states)


def test_is_a_scikit_learn_estimator():
    """get_params / set_params / clone work as for any scikit-learn estimator, and a clone refits to the
    same dictionary (same seed)."""
    from sklearn.base import clone

    from statmech_attn.factors import TransformerFactors

    tf = TransformerFactors(4, 0.1, n_epochs=2, batch_size=16, seed=3)
    assert tf.get_params()["n_factors"] == 4 and tf.get_params()["seed"] == 3
    tf.set_params(alpha=0.2)
    assert tf.alpha == 0.2
    twin = clone(tf)
    assert twin is not tf and twin.get_params() == tf.get_params() and not hasattr(twin, "dictionary_")
    x = np.random.default_rng(0).random((2, 16, 6))
    np.testing.assert_array_equal(tf.fit(x).dictionary_, twin.fit(x).dictionary_)
