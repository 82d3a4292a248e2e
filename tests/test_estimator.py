"""LDSRegressor: the scikit-learn contract, accuracy on real data, over-parameterisation."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import random_system
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.utils.estimator_checks import parametrize_with_checks

from learnlds import LDSRegressor
from learnlds.errors import DataError, ParameterError
from learnlds.region import PacmanRegion
from learnlds.statespace import StateSpaceSystem
from learnlds.systems import CanonicalSystem

SYNTH = CanonicalSystem([-0.6, 0.2, -0.05], np.random.default_rng(0).normal(size=3), 0.5)

# Checks that assume i.i.d. rows, which a dynamical system is not, are listed with why.
EXPECTED_FAILED = {
    "check_sample_weight_equivalence_on_dense_data": "no sample weights: rows are time steps",
    "check_sample_weight_equivalence_on_sparse_data": "no sample weights: rows are time steps",
    "check_sample_weights_not_an_array": "no sample weights: rows are time steps",
    "check_sample_weights_list": "no sample weights: rows are time steps",
    "check_sample_weights_shape": "no sample weights: rows are time steps",
    "check_sample_weights_not_overwritten": "no sample weights: rows are time steps",
    "check_methods_subset_invariance": "a simulation's output depends on earlier rows",
    "check_methods_sample_order_invariance": "a simulation's output depends on the row order",
    "check_fit1d": "1-D input is one SISO record by design (scipy.signal convention)",
    "check_fit2d_predict1d": "1-D input is one SISO record; the error names the input count",
    "check_regressor_multioutput": "5 outputs x 10 inputs need more parameters than samples",
}


def _expected(estimator):
    return EXPECTED_FAILED


@parametrize_with_checks([LDSRegressor(order=1)], expected_failed_checks=_expected)
def test_sklearn_contract(estimator, check):
    check(estimator)


def test_clone_and_grid_search_pick_true_order():
    rng = np.random.default_rng(0)
    u = rng.normal(size=3000)
    y = SYNTH.simulate(u, noise_std=0.05, random_state=rng)
    est = LDSRegressor(order=1)
    assert clone(est).get_params() == est.get_params()
    grid = GridSearchCV(LDSRegressor(), {"order": [1, 2, 3]}, cv=KFold(3))
    grid.fit(u.reshape(-1, 1), y)
    assert grid.best_params_["order"] in (2, 3)
    assert grid.best_score_ > 90


def test_fit_predict_shapes_numpy_and_pandas():
    rng = np.random.default_rng(1)
    u = rng.normal(size=(5, 200))
    y = SYNTH.simulate(u, noise_std=0.01, random_state=rng)
    est = LDSRegressor(order=3).fit(u, y, sequences=True)
    assert est.predict(u, sequences=True).shape == (5, 200)
    assert est.score(u, y, sequences=True) > 95
    df = pd.DataFrame({"u": u[0], "y": y[0]})
    est2 = LDSRegressor(order=3).fit(df[["u"]], df["y"])
    assert est2.predict(df[["u"]]).shape == (200,)
    assert est2.n_features_in_ == 1 and est2.n_iter_ > 0 and est2.history_.ndim == 1


def test_offsets_are_reapplied():
    rng = np.random.default_rng(2)
    u = rng.normal(size=2000)
    y = SYNTH.simulate(u, noise_std=0.01, random_state=rng)
    est = LDSRegressor(order=3).fit(u + 5.0, y + 10.0)
    np.testing.assert_allclose(est.input_offset_, [5.0 + u.mean()])
    assert est.score(u + 5.0, y + 10.0) > 95


def test_psgd_method_in_region():
    rng = np.random.default_rng(3)
    u = rng.normal(size=(50, 100))
    y = SYNTH.simulate(u, noise_std=0.05, random_state=rng)
    est = LDSRegressor(
        order=3, method="psgd", steps=1500, lr=0.02, batch_size=10, burn_in=25, random_state=0
    ).fit(u, y, sequences=True)
    assert PacmanRegion().contains(est.system_.a)
    assert est.score(u, y, sequences=True) > 90


def test_multi_input_multi_output():
    rng = np.random.default_rng(4)
    truth = CanonicalSystem([-0.5, 0.1], rng.normal(size=(2, 2, 3)), rng.normal(size=(2, 3)))
    u = rng.normal(size=(800, 3))
    y = truth.simulate(u)
    est = LDSRegressor(order=2, demean=False, structure="common-denominator").fit(u, y)
    assert est.predict(u).shape == (800, 2)
    assert est.score(u, y) > 99.99
    # the same data need a state of dimension 6 in general state-space form
    ss = LDSRegressor(order=6, demean=False).fit(u, y)
    assert ss.structure_ == "state-space" and ss.score(u, y) > 99.9


def test_dryer_accuracy_and_speed(dryer_halves):
    """Issue target: >= 90.0 % validation fit at order 3 in under 1 s (estimation data only)."""
    (ue, ye), (uv, yv) = dryer_halves
    t0 = time.perf_counter()
    est = LDSRegressor(order=3).fit(ue, ye)
    elapsed = time.perf_counter() - t0
    assert est.score(uv - 0.0, yv) >= 90.0
    assert elapsed < 5.0  # generous here; the benchmark records the real figure


def test_overparameterisation_recovers_dryer_inside_region(dryer_halves):
    """Order 3 in the Pac-Man region is biased on the dryer; order 8 in the region, reduced
    to 3 by balanced truncation, is not (SPEC section 5)."""
    (ue, ye), (uv, yv) = dryer_halves
    plain = LDSRegressor(order=3, region="pacman", max_iter=30).fit(ue, ye)
    over = LDSRegressor(order=3, overparam=8, region="pacman").fit(ue, ye)
    assert PacmanRegion().contains(over.system_full_.a)
    assert over.system_full_.order == 8 and over.system_.order == 3
    assert over.score(uv, yv) > 89.5 > plain.score(uv, yv) + 10


@pytest.mark.parametrize(
    "kwargs,u,y,match",
    [
        ({"order": 0}, np.arange(50.0), np.arange(50.0), "order"),
        ({"order": 30}, np.random.default_rng(0).normal(size=40), np.arange(40.0), "larger than"),
        ({}, np.ones(100), np.arange(100.0), "constant"),
        ({}, np.array([1.0, np.nan, 3.0] * 20), np.ones(60), "NaN"),
        ({}, np.arange(50.0), np.arange(40.0), "lengths differ"),
        ({"method": "adam"}, np.arange(50.0), np.arange(50.0), "method"),
        ({"overparam": 2}, np.arange(50.0), np.arange(50.0), "overparam"),
        ({"burn_in": 60}, np.arange(50.0), np.arange(50.0), "burn_in"),
    ],
)
def test_bad_input_errors(kwargs, u, y, match):
    with pytest.raises(ValueError, match=match):
        LDSRegressor(**kwargs).fit(u, y)


def test_square_mimo_record_is_not_mistaken_for_sequences():
    """(T, 2) inputs and (T, 2) outputs: one record, not T sequences of length 2."""
    rng = np.random.default_rng(6)
    truth = CanonicalSystem([-0.4, 0.1], rng.normal(size=(2, 2, 2)), np.zeros((2, 2)))
    u = rng.normal(size=(600, 2))
    est = LDSRegressor(order=2, demean=False, structure="common-denominator")
    est.fit(u, truth.simulate(u))
    assert est.layout_ == "record" and est.n_features_in_ == 2 and est.n_outputs_ == 2
    assert est.score(u, truth.simulate(u)) > 99.9


def test_explicit_sequences_flag_for_tall_batches():
    rng = np.random.default_rng(7)
    u = rng.normal(size=(300, 40))  # 300 sequences of length 40: taller than wide
    y = SYNTH.simulate(u, noise_std=0.01, random_state=rng, sequences=True)
    est = LDSRegressor(order=3).fit(u, y, sequences=True)
    assert est.layout_ == "sequences" and est.n_features_in_ == 1
    assert est.predict(u, sequences=True).shape == (300, 40)
    assert est.score(u, y, sequences=True) > 95
    with pytest.raises(DataError, match=r"\(N, T\) differ"):
        LDSRegressor(order=3).fit(u, y[:, :30], sequences=True)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"max_iter": -3}, "max_iter: must be >= 1"),
        ({"max_iter": 2.5}, "max_iter: must be an integer"),
        ({"demean": "no"}, "demean: must be True or False"),
        ({"order": True}, "order: must be an integer"),
        ({"order": "best"}, "order: must be a positive integer or 'auto', got 'best'"),
        ({"lr": 0.0}, "lr: must be >"),
        ({"steps": 0}, "steps: must be >= 1"),
        ({"batch_size": 0}, "batch_size"),
        ({"clip": -1.0}, "clip"),
        ({"init": "random"}, "init"),
        ({"region": "square"}, "region"),
        ({"window": 50}, "window: only used by method='psgd'"),
        ({"burn_in": -1}, "burn_in: must be >= 0"),
        ({"criterion": "likelihood"}, "criterion: must be one of"),
        ({"criterion": "prediction", "method": "psgd"}, "criterion: .*method='psgd'"),
        ({"criterion": "prediction", "structure": "common-denominator"}, "criterion: .*common"),
    ],
)
def test_every_hyper_parameter_is_checked_at_fit(kwargs, match):
    u = np.random.default_rng(0).normal(size=200)
    est = LDSRegressor(**kwargs)  # construction never validates (scikit-learn contract)
    with pytest.raises(ParameterError, match=match):
        est.fit(u, SYNTH.simulate(u))


def test_one_layout_rule_in_fit_predict_and_score():
    """A (400, 3) array is one 3-input record everywhere; never silently sequences."""
    rng = np.random.default_rng(8)
    u1 = rng.normal(size=1000)
    est = LDSRegressor(order=3).fit(u1, SYNTH.simulate(u1))
    assert est.layout_ == "record" and est.n_features_in_ == 1
    with pytest.raises(DataError, match=r"u: has 2 input channel.*model has 1.*sequences=True"):
        est.predict(rng.normal(size=(250, 2)))
    with pytest.raises(DataError, match="u: has 3 input channel"):
        est.score(rng.normal(size=(400, 3)), rng.normal(size=400))
    u3 = rng.normal(size=(400, 3))
    truth = CanonicalSystem([-0.4, 0.1], rng.normal(size=(2, 1, 3)), np.zeros((1, 3)))
    mimo = LDSRegressor(order=2).fit(u3, truth.simulate(u3)[:, 0])
    assert mimo.n_features_in_ == 3 and mimo.predict(u3).shape == (400,)
    with pytest.raises(DataError, match="y: has 2 output channel"):
        mimo.score(u3, np.zeros((400, 2)))
    with pytest.raises(DataError, match="sequences=True"):
        est.predict(np.zeros((2, 10, 1)))


@pytest.mark.parametrize("scale", [1e-150, 1e-10, 1.0, 1e10, 1e150])
def test_fit_is_invariant_to_the_scale_of_the_data(scale):
    rng = np.random.default_rng(9)
    u = rng.normal(size=2000)
    y = SYNTH.simulate(u, noise_std=0.1, random_state=rng)
    ref = LDSRegressor(order=3).fit(u, y)
    est = LDSRegressor(order=3).fit(u * scale, y * scale)
    assert est.score(u * scale, y * scale) == pytest.approx(ref.score(u, y), abs=1e-6)
    np.testing.assert_allclose(est.system_.markov(10), ref.system_.markov(10), rtol=1e-6)
    mixed = LDSRegressor(order=3).fit(u * scale, y / scale)
    assert mixed.score(u * scale, y / scale) == pytest.approx(ref.score(u, y), abs=1e-6)


def test_data_beyond_float64_is_refused():
    u = np.random.default_rng(0).normal(size=500)
    with pytest.raises(DataError, match="float64"):
        LDSRegressor(order=1).fit(u * 1e-300, SYNTH.simulate(u) * 1e300)


def test_psgd_learning_rate_means_the_same_on_raw_units():
    """A heating-plant-like record (input 0-10 V, output in degrees C) learns at lr 0.05."""
    rng = np.random.default_rng(10)
    u_std = rng.normal(size=(40, 200))
    y_std = SYNTH.simulate(u_std, noise_std=0.05, random_state=rng)
    u_raw, y_raw = 5.0 + 2.5 * u_std, 20.0 + 40.0 * y_std
    raw = LDSRegressor(order=3, method="psgd", steps=600, lr=0.05, random_state=0)
    raw.fit(u_raw, y_raw, sequences=True)
    assert np.all(np.isfinite(raw.history_))
    assert raw.score(u_raw, y_raw, sequences=True) > 80


def test_covariance_intervals_cover_the_truth():
    """Nominal 95 % intervals of a, c, d from LDSRegressor cover the truth in 90-99 % of runs."""
    truth = CanonicalSystem([-0.7], [1.0], 0.5)
    rng = np.random.default_rng(11)
    hits, runs = np.zeros(3), 300
    for _ in range(runs):
        u = rng.normal(size=300) * 3.0 + 2.0  # raw units: the covariance is mapped back
        y = truth.simulate(u) + 0.2 * rng.normal(size=300)
        est = LDSRegressor(order=1, demean=False).fit(u, y)
        theta = np.array([est.system_.a[0], est.system_.c[0], float(est.system_.d)])
        se = np.sqrt(np.diag(est.covariance_))
        hits += np.abs(theta - [-0.7, 1.0, 0.5]) <= 1.96 * se
    assert est.parameter_names_ is not None and len(est.parameter_names_) == 3
    assert np.all((0.90 <= hits / runs) & (hits / runs <= 0.99)), hits / runs
    assert est.predict_std(u[:20]).shape == (20,)
    assert est.frequency_response_std([0.5]).magnitude.shape == (1,)
    with pytest.raises(ValueError, match="covariance_"):
        LDSRegressor(order=1, overparam=2).fit(u, y).predict_std(u)
    u2 = rng.normal(size=(300, 2))
    y2 = np.column_stack((truth.simulate(u2[:, 0]), u2[:, 1])) + 0.1 * rng.normal(size=(300, 2))
    mimo = LDSRegressor(order=1).fit(u2, y2)  # a state-space model: covariance of its entries
    assert mimo.covariance_.shape == (9, 9) and mimo.parameter_names_[0] == "A[0,0]"
    assert mimo.predict_std(u2[:7]).shape == (7, 2)
    assert mimo.frequency_response_std([0.3]).magnitude.shape == (1, 2, 2)


def test_state_space_recovers_a_random_mimo_system():
    """Issue 10 target: 2 outputs, 3 inputs, state dimension 4, T = 5000, white input,
    noiseless: relative Markov-parameter error <= 1e-6 with LDSRegressor(order=4)."""
    rng = np.random.default_rng(12)
    A = np.diag([0.9, -0.7, 0.5, 0.2]) + 0.05 * rng.normal(size=(4, 4))
    truth = StateSpaceSystem(
        A, rng.normal(size=(4, 3)), rng.normal(size=(2, 4)), rng.normal(size=(2, 3))
    )
    u = rng.normal(size=(5000, 3))
    y = truth.simulate(u)
    est = LDSRegressor(order=4, demean=False).fit(u, y)
    assert est.structure_ == "state-space" and isinstance(est.system_, StateSpaceSystem)
    ref = truth.markov(60)
    err = np.linalg.norm(est.system_.markov(60) - ref) / np.linalg.norm(ref)
    assert err <= 1e-6
    assert est.predict(u).shape == (5000, 2)


def _innovations_record(seed: int, T: int) -> tuple[np.ndarray, np.ndarray, StateSpaceSystem]:
    """A plant whose disturbance shares its poles (``x+ = A x + B u + K e``), strongly."""
    rng = np.random.default_rng(seed)
    A, B = np.array([[0.9, 0.2], [0.0, 0.7]]), np.array([[1.0], [0.5]])
    C, K = np.array([[1.0, 0.0]]), np.array([[0.8], [0.3]])
    u, e = rng.normal(size=(1, T, 1)), rng.normal(size=(1, T, 1))
    y = StateSpaceSystem(A, np.hstack((B, K)), C, [[0.0, 1.0]]).simulate(np.dstack((u, e)))
    return u[0, :, 0], y[0, :, 0], StateSpaceSystem(A, B, C, 0.0)


def test_prediction_criterion_fits_the_noise_model_and_halves_the_plant_error():
    """``criterion='prediction'`` is the innovations-form fit: where the disturbance is
    large and shares the plant's poles it estimates the plant with less error than the
    output-error fit (measured: about half, median over seeds)."""
    errors: dict[str, list[float]] = {"simulation": [], "prediction": []}
    for seed in range(4):
        u, y, truth = _innovations_record(seed, 1000)
        want = truth.markov(30).ravel()
        for criterion, errs in errors.items():
            est = LDSRegressor(order=2, criterion=criterion).fit(u, y)
            errs.append(
                np.linalg.norm(est.system_.markov(30).ravel() - want) / np.linalg.norm(want)
            )
            assert isinstance(est.system_, CanonicalSystem)  # SISO: canonical form either way
            assert (est.covariance_ is None) == (criterion == "prediction")
    assert np.mean(errors["prediction"]) < 0.7 * np.mean(errors["simulation"])


def test_prediction_criterion_on_a_long_record_is_not_polished_by_output_error():
    """Past the screening part a SISO output-error fit is polished by the canonical
    solver; a prediction-error fit is refined by its own criterion instead."""
    u, y, truth = _innovations_record(5, 25_000)
    est = LDSRegressor(order=2, criterion="prediction").fit(u, y)
    oe = LDSRegressor(order=2).fit(u, y)
    want = truth.markov(30).ravel()

    def err(m):
        return np.linalg.norm(m.system_.markov(30).ravel() - want) / np.linalg.norm(want)

    assert err(est) < 0.05 and err(est) < err(oe)


def test_prediction_criterion_with_order_auto_scores_the_refined_models():
    """``order='auto'`` with ``criterion='prediction'`` scores each order as the
    innovations-form model it would return (its simulation from rest, by the default's
    criterion), not as the output-error start: the scores differ from the default's,
    the lowest wins, and the model is the one that order gives when asked for."""
    from learnlds.statespace import StateSpaceSystem as SS
    from learnlds.subspace import _bic

    u, y, _ = _innovations_record(7, 600)
    auto = LDSRegressor(order="auto", criterion="prediction").fit(u, y)
    oe = LDSRegressor(order="auto").fit(u, y)
    scores = auto.order_scores_
    assert auto.order_ == min(scores, key=scores.get) and np.isfinite(scores[auto.order_])
    assert any(abs(scores[k] - oe.order_scores_[k]) > 1e-6 for k in scores)
    fixed = LDSRegressor(order=auto.order_, criterion="prediction").fit(u, y)
    assert fixed.system_ == auto.system_
    uc, yc = (u - u.mean()).reshape(1, -1, 1), (y - y.mean()).reshape(1, -1, 1)
    model = SS.from_canonical(auto.system_) if auto.system_.is_siso else auto.system_
    assert _bic(model, uc, yc) == pytest.approx(scores[auto.order_], rel=1e-6, abs=1e-6)


def test_structure_follows_the_settings():
    u = np.random.default_rng(13).normal(size=600)
    y = SYNTH.simulate(u)
    assert LDSRegressor(order=3).fit(u, y).structure_ == "state-space"
    assert LDSRegressor(order=3, burn_in=10).fit(u, y).structure_ == "common-denominator"
    with pytest.raises(ParameterError, match="structure"):
        LDSRegressor(order=3, structure="state-space", method="psgd").fit(u, y)
    auto = LDSRegressor(order="auto").fit(u, y)
    assert auto.order_ in auto.order_scores_ and 1 <= auto.order_ <= 8


@pytest.mark.parametrize("shape", [(1, 1), (2, 2)])
def test_order_auto_returns_the_fixed_order_fit_of_its_choice(shape):
    """``order='auto'`` keeps the chosen order's fit from the selection instead of fitting
    it again: the model equals ``LDSRegressor(order=order_)``'s."""
    m, p = shape
    truth = random_system(3, m, p, 21)
    rng = np.random.default_rng(5)
    u = rng.normal(size=(400, m))
    y = truth.simulate(u) + 0.1 * rng.normal(size=(400, p))
    u, y = (u[:, 0], y[:, 0]) if shape == (1, 1) else (u, y)
    auto = LDSRegressor(order="auto").fit(u, y)
    fixed = LDSRegressor(order=auto.order_).fit(u, y)
    assert min(auto.order_scores_, key=auto.order_scores_.get) == auto.order_
    np.testing.assert_allclose(auto.predict(u), fixed.predict(u), rtol=1e-10, atol=1e-12)


def test_memory_mapped_record_streams_and_equals_the_in_memory_fit(tmp_path):
    """A record on disk is fitted without loading it: same model, small extra memory."""
    import tracemalloc

    rng = np.random.default_rng(14)
    T = 1_500_000
    u = rng.normal(size=T)
    y = SYNTH.simulate(u, noise_std=0.1, random_state=rng)
    np.save(tmp_path / "u.npy", u)
    np.save(tmp_path / "y.npy", y)
    ref = LDSRegressor(order=3).fit(u, y)
    mu = np.load(tmp_path / "u.npy", mmap_mode="r")
    my = np.load(tmp_path / "y.npy", mmap_mode="r")
    LDSRegressor(order=3).fit(mu[:5000], my[:5000])  # compile outside the measurement
    tracemalloc.start()
    est = LDSRegressor(order=3).fit(mu, my)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    np.testing.assert_allclose(est.system_.markov(50), ref.system_.markov(50), atol=1e-9)
    # an in-memory fit holds standardised copies (24 MB); streaming holds blocks and the
    # fixed-size screening of at most 20,000 samples
    assert peak < 0.5 * (u.nbytes + y.nbytes)
    assert est.covariance_ is not None


@pytest.mark.parametrize("structure", ["common-denominator", "state-space"])
def test_input_delay_covariance_equals_that_of_the_fit_on_shifted_inputs(structure):
    """With a known delay the uncertainty is the core fit's, carried to the delayed model:
    its output and |G| standard errors equal those of a delay-free fit on inputs shifted
    by hand (the same fit), and the delay's fixed entries are certain."""
    rng = np.random.default_rng(7)
    plant = CanonicalSystem([-0.6, 0.2], [1.0, 0.5], 0.3)
    u = rng.normal(size=1500)
    shifted = np.r_[np.zeros(2), u[:-2]]
    y = plant.simulate(shifted) + 0.05 * rng.normal(size=u.size)
    opts = dict(order=2, demean=False, structure=structure)
    delayed = LDSRegressor(input_delay=2, **opts).fit(u, y)
    by_hand = LDSRegressor(**opts).fit(shifted, y)
    v = rng.normal(size=200)
    np.testing.assert_allclose(
        delayed.predict_std(v), by_hand.predict_std(np.r_[np.zeros(2), v[:-2]]), rtol=1e-5
    )
    w = np.linspace(0.01, 3.0, 7)
    np.testing.assert_allclose(
        delayed.frequency_response_std(w).magnitude,
        by_hand.frequency_response_std(w).magnitude,
        rtol=1e-5,
    )
    assert delayed.covariance_.shape[0] == len(delayed.parameter_names_)
    np.testing.assert_allclose(delayed.noise_variance_, by_hand.noise_variance_)


def test_input_delay_recovers_a_delayed_plant_and_carries_the_delay_as_states(tmp_path):
    """Known dead time per input: the order-n model is fitted on the delayed inputs and
    system_ (order n + sum(d)) reproduces the delayed plant; SISO stays canonical."""
    from learnlds.statespace import StateSpaceSystem, with_input_delay

    rng = np.random.default_rng(4)
    core = StateSpaceSystem(
        [[0.7, 0.2, 0.0], [0.0, 0.5, 0.1], [0.0, 0.0, -0.3]],
        rng.normal(size=(3, 2)),
        rng.normal(size=(2, 3)),
        np.zeros((2, 2)),
    )
    truth = with_input_delay(core, [1, 3])
    u = rng.normal(size=(3000, 2))
    # demean=False: the samples before the record are zeros, as the plant's (exact test)
    est = LDSRegressor(order=3, input_delay=[1, 3], demean=False).fit(u, truth.simulate(u))
    assert est.order_ == 3 and est.system_.order == 7
    assert est.covariance_.shape == (81, 81) and est.parameter_names_[-1] == "D[1,1]"
    err = np.linalg.norm(est.system_.markov(40) - truth.markov(40)) / np.linalg.norm(
        truth.markov(40)
    )
    assert err < 1e-6
    siso = CanonicalSystem([-0.6, 0.2], [1.0, 0.5], 0.3)
    delayed = with_input_delay(StateSpaceSystem.from_canonical(siso), 2)
    v = rng.normal(size=2000)
    fit = LDSRegressor(order=2, input_delay=2, demean=False).fit(v, delayed.simulate(v))
    assert isinstance(fit.system_, CanonicalSystem) and fit.system_.order == 4
    np.testing.assert_allclose(fit.predict(v), delayed.simulate(v), atol=1e-6)
    for bad, error in (
        (-1, ParameterError),
        ([1, 2, 3], ParameterError),
        (5000, DataError),
    ):
        with pytest.raises(error, match="input_delay"):
            LDSRegressor(order=2, input_delay=bad).fit(v, v)
    with pytest.raises(ParameterError, match="structure='state-space'"):
        LDSRegressor(order=2, input_delay=1, structure="common-denominator").fit(u, u)
    np.save(tmp_path / "v.npy", v)
    mapped = np.load(tmp_path / "v.npy", mmap_mode="r")
    with pytest.raises(ParameterError, match="streamed from disk"):
        LDSRegressor(order=2, input_delay=1).fit(mapped, mapped)


def test_a_model_that_needs_its_initial_state_is_reported():
    """From zero state the fit percent on the estimation data is checked: a model whose
    simulation is worse than the data's mean there (it leaned on a large estimated
    initial state) is reported, a sound one is not."""
    from learnlds.errors import ConvergenceWarning
    from learnlds.estimator import _warn_if_poor_from_zero_state
    from learnlds.statespace import StateSpaceSystem

    model = StateSpaceSystem([[0.9]], [[1.0]], [[1.0]])
    u = np.random.default_rng(0).normal(size=(1, 300, 1))
    y = model.simulate(u)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _warn_if_poor_from_zero_state(model, u, y, "gn")  # fit 100 %: silent
        _warn_if_poor_from_zero_state(model, u, np.zeros_like(y) + 1.0, "gn")  # constant
    flipped = -y  # the simulation is off by twice the signal
    expected = 100 * (1 - np.linalg.norm(2 * y) / np.linalg.norm(flipped - flipped.mean()))
    with pytest.warns(ConvergenceWarning, match=rf"fit {expected:.1f} %.*initial state"):
        _warn_if_poor_from_zero_state(model, u, flipped, "gn")


def test_projected_sgd_that_learned_nothing_is_reported():
    """The paper's algorithm on an oversampled plant (pole 0.999) moves the loss by under
    1 % in its default 400 steps: reported, with the remedy; Gauss-Newton fits it."""
    from learnlds.errors import ConvergenceWarning

    rng = np.random.default_rng(0)
    u = np.repeat(rng.choice([-1.0, 1.0], size=40), 25)
    y = CanonicalSystem([-0.999], [0.001]).simulate(u) + 1e-4 * rng.normal(size=u.size)
    with pytest.warns(ConvergenceWarning, match="almost no progress.*method='gn'"):
        LDSRegressor(order=1, method="psgd", structure="common-denominator", demean=False).fit(u, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        assert LDSRegressor(order=1, demean=False).fit(u, y).score(u, y) > 99


@pytest.mark.parametrize("options", [{}, {"criterion": "prediction"}, {"order": "auto"}])
def test_a_state_space_fit_stopped_by_max_iter_is_reported_at_the_callers_line(options):
    """The Levenberg-Marquardt refinement of the default (and of the prediction error)
    used to stop at ``max_iter`` silently, though the docstring promised a warning and
    the canonical-form solver gave one. It warns now, at the user's line; a fit that
    converges stays silent, and so does ``order='auto'`` converging at its chosen order."""
    from learnlds.errors import ConvergenceWarning

    rng = np.random.default_rng(0)
    u = rng.normal(size=2000)
    y = CanonicalSystem([-1.5, 0.7], [1.0, 0.5]).simulate(u) + 0.1 * rng.normal(size=2000)
    options = {"order": 2, **options}
    with pytest.warns(ConvergenceWarning, match="reached max_iter.*raise max_iter") as said:
        model = LDSRegressor(max_iter=1, **options).fit(u, y)
    assert not model.train_result_.converged
    assert {w.filename for w in said if w.category is ConvergenceWarning} == {__file__}
    pem = options.get("criterion") == "prediction"
    assert any(("criterion='simulation'" in str(w.message)) == pem for w in said)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        assert LDSRegressor(**options).fit(u, y).train_result_.converged


def test_the_canonical_form_solver_s_convergence_warning_points_at_the_caller():
    from learnlds.errors import ConvergenceWarning

    u = np.random.default_rng(1).normal(size=500)
    y = CanonicalSystem([-1.5, 0.7], [1.0, 0.5]).simulate(u)
    with pytest.warns(ConvergenceWarning, match="did not converge") as said:
        LDSRegressor(order=2, structure="common-denominator", max_iter=1).fit(u, y)
    assert [w.filename for w in said if w.category is ConvergenceWarning] == [__file__]


@pytest.mark.parametrize("seed", [4, 7, 19])
def test_demean_false_keeps_the_inner_hold_out_uncentred(seed):
    """Data in deviation variables from rest (``demean=False``), noiseless, 40 samples:
    the fit is exact. The inner hold-out used to centre each part anyway (the protocol
    for data whose mean is removed), which broke the exact relation y = G u, ranked
    the candidates wrongly, and the fit ended at 30-70 % on these seeds."""
    from learnlds.statespace import StateSpaceSystem

    plant = StateSpaceSystem(
        [[0.3977, 0.1887], [0.0295, 0.8012]], [[-1.1708], [-1.3582]], [[-1.3066, -0.7176]]
    )
    u = np.random.default_rng(seed).normal(size=40)
    y = plant.simulate(u)
    assert LDSRegressor(order=2, demean=False).fit(u, y).score(u, y) > 99.9


def test_order_auto_warns_when_the_chosen_order_spends_over_a_quarter_of_the_data(monkeypatch):
    """150 output values: an order-8 2x2 model spends 44 on parameters and initial
    states (29 %) and is flagged; order 3 (19 of 150) is not. The choice itself is
    forced here, so the test does not hang on what the criterion picks."""
    import learnlds.estimator as estimator_module
    from learnlds.errors import OrderSelectionWarning

    rng = np.random.default_rng(0)
    u = rng.normal(size=(75, 2))
    y = u @ rng.normal(size=(2, 2)) + 0.1 * rng.normal(size=(75, 2))
    real = estimator_module._bic_choice
    for forced, flagged in ((8, True), (3, False)):

        def choice(us, ys, orders, options, refit=None, forced=forced):
            best, scores, _ = real(us, ys, [forced], options, refit)
            return best, scores, None

        monkeypatch.setattr(estimator_module, "_bic_choice", choice)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            est = LDSRegressor(order="auto").fit(u, y)
        hits = [w for w in seen if issubclass(w.category, OrderSelectionWarning)]
        assert est.order_ == forced and bool(hits) == flagged
        if flagged:
            assert "44 parameters and initial-state values for 150 output values" in str(
                hits[0].message
            )


def test_an_order_the_data_do_not_determine_is_said_in_the_fits_words():
    """An order-1 plant fitted at order 3 has two cancelling pole-zero pairs: the fit says
    so (it printed parameter_covariance's J^T J rank message, a function never called)."""
    u = np.random.default_rng(0).normal(size=2000)
    y = CanonicalSystem([-0.5], [1.0]).simulate(u)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = LDSRegressor(order=3).fit(u, y)
    said = [str(w.message) for w in caught]
    assert any("fit: 2 parameter combination(s) of the order-3 model" in m for m in said)
    assert not any("J^T J" in m for m in said)
    assert est.covariance_.shape == (7, 7)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LDSRegressor(order=1).fit(u, y + 0.01 * np.random.default_rng(1).normal(size=2000))


def test_hold_out_order_selection_that_cannot_score_points_to_the_criterion():
    """A step on the second input after the inner hold-out starts: no order can be
    scored there; the error says why and which rule scores all the data."""
    rng = np.random.default_rng(3)
    u = np.column_stack([rng.normal(size=300), np.r_[np.zeros(260), np.ones(40)]])
    y = u @ np.array([1.0, 2.0]) + 0.05 * rng.normal(size=300)
    with pytest.raises(DataError, match=r"an input not moving before the hold-out.*'bic'"):
        LDSRegressor(order="auto", order_selection="holdout").fit(u, y)
    assert LDSRegressor(order="auto").fit(u, y).order_ >= 1


def test_data_frame_columns_are_checked_by_name_not_read_by_position():
    """Fitted on a frame with columns a, b, the model used to read a frame given as b, a
    by position: its prediction was silently that of swapped inputs (off by 4x the
    output's scale here). The columns are now checked, scikit-learn's way."""
    from sklearn.utils.estimator_checks import check_dataframe_column_names_consistency

    check_dataframe_column_names_consistency("LDSRegressor", LDSRegressor(order=1))
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=500), "b": rng.normal(size=500)})
    y = CanonicalSystem([-0.5], [1.0]).simulate(frame.a) + 0.2 * frame.b
    model = LDSRegressor(order=2).fit(frame, y)
    assert list(model.feature_names_in_) == ["a", "b"]
    np.testing.assert_array_equal(model.predict(frame), model.predict(frame.to_numpy()))
    for method in (model.predict, lambda u: model.score(u, y)):
        with pytest.raises(DataError, match=r"(?s)columns \['b', 'a'\].*same order as they were"):
            method(frame[["b", "a"]])
    with pytest.raises(DataError, match="unseen at fit time:\n- c\n"):
        model.predict(frame.rename(columns={"b": "c"}))
    from learnlds.validate import compare

    assert compare(model, frame, y)  # compare reads a fitted estimator's frame the same way
    with pytest.raises(DataError, match="same order as they were in fit"):
        compare({"m": model}, frame[["b", "a"]], y)
    assert list(LDSRegressor(order=2, input_delay="auto").fit(frame, y).feature_names_in_) == [
        "a",
        "b",
    ]
    outputs = pd.DataFrame({"y1": y, "y2": 0.5 * frame.a})  # two outputs by name
    two = LDSRegressor(order=2).fit(frame, outputs)
    assert list(two.output_names_in_) == ["y1", "y2"]
    assert two.score(frame, outputs) == two.score(frame, outputs.to_numpy())
    for check in (lambda y2: two.score(frame, y2), lambda y2: compare(two, frame, y2)):
        with pytest.raises(DataError, match=r"y: columns \['y2', 'y1'\] are not the outputs"):
            check(outputs[["y2", "y1"]])
    model.fit(frame.to_numpy(), y)  # a refit without names forgets them
    assert not hasattr(model, "feature_names_in_")
    model.predict(frame[["b", "a"]])  # nothing to check against: read by position
    sequences = pd.DataFrame(rng.normal(size=(4, 60)))  # (N, T): columns are time steps
    fitted = LDSRegressor(order=1).fit(sequences, sequences, sequences=True)
    assert not hasattr(fitted, "feature_names_in_")


_THREE = pd.DataFrame(np.random.default_rng(3).normal(size=(400, 3)), columns=["p", "q", "r"])
_THREE_MODEL = LDSRegressor(order=1).fit(_THREE, _THREE.p + 0.5 * _THREE.q - _THREE.r)


@settings(max_examples=30, deadline=None)
@given(st.permutations(["p", "q", "r"]))
def test_any_reordering_of_the_fitted_columns_is_refused_and_the_fitted_order_is_read(order):
    """Property: the fitted order predicts exactly as the bare array; every other order
    of the same columns is refused (never read by position)."""
    frame = _THREE[order]
    if order == ["p", "q", "r"]:
        np.testing.assert_array_equal(
            _THREE_MODEL.predict(frame), _THREE_MODEL.predict(_THREE.to_numpy())
        )
    else:
        with pytest.raises(DataError, match="same order as they were in fit"):
            _THREE_MODEL.predict(frame)
