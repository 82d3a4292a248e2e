"""Tests for learnlds.statespace: simulation, Jacobian, output-error fit, initial state."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from conftest import loop_simulate, random_system

from learnlds.errors import DataError, ParameterError, UnsupportedShapeError
from learnlds.records import _LazyRecord
from learnlds.statespace import (
    StateSpaceSystem,
    estimate_initial_state,
    normal_equations,
)
from learnlds.subspace import fit_state_space, subspace_id
from learnlds.systems import CanonicalSystem


def rel_markov_error(model, truth, k=60):
    return np.linalg.norm(model.markov(k) - truth.markov(k)) / np.linalg.norm(truth.markov(k))


def test_simulate_matches_explicit_state_loop():
    s = random_system(3, 2, 2, 0)
    u = np.random.default_rng(1).normal(size=(50, 2))
    x0 = np.array([1.0, -0.5, 0.2])
    np.testing.assert_allclose(s.simulate(u, x0=x0), loop_simulate(s, u, x0), atol=1e-12)
    seq = np.stack([u, 2 * u])
    np.testing.assert_allclose(s.simulate(seq)[1], loop_simulate(s, 2 * u, np.zeros(3)), atol=1e-12)


def test_siso_layouts_match_canonical_system():
    cs = CanonicalSystem([-0.6, 0.2], [1.0, -0.5], d=0.3)
    s = StateSpaceSystem.from_canonical(cs)
    u = np.random.default_rng(0).normal(size=(2, 40))
    assert s.is_siso
    np.testing.assert_allclose(s.simulate(u[0]), cs.simulate(u[0]), atol=1e-12)
    np.testing.assert_allclose(s.simulate(u), cs.simulate(u), atol=1e-12)
    column = u[0][:, None]  # (T, 1): one record of one input, never T one-sample sequences
    assert s.simulate(column).shape == cs.simulate(column).shape == (40, 1)
    np.testing.assert_allclose(s.simulate(column), cs.simulate(column), atol=1e-12)
    np.testing.assert_allclose(
        s.simulate(column, x0=[1.0, 2.0])[:, 0],
        loop_simulate(s, column, np.array([1.0, 2.0]))[:, 0],
        atol=1e-12,
    )
    np.testing.assert_allclose(s.markov(10), cs.markov(10), atol=1e-12)
    w = np.linspace(0, np.pi, 7)
    np.testing.assert_allclose(s.frequency_response(w), cs.frequency_response(w), atol=1e-10)
    back = s.to_canonical()
    np.testing.assert_allclose(back.a, cs.a, atol=1e-10)


def test_mimo_markov_and_frequency_response():
    s = random_system(3, 2, 3, 4)
    r = s.markov(4)
    assert r.shape == (4, 3, 2)
    np.testing.assert_allclose(r[2], s.C @ s.A @ s.B)
    g = s.frequency_response([0.3])
    z = np.exp(0.3j)
    np.testing.assert_allclose(g[0], s.C @ np.linalg.solve(z * np.eye(3) - s.A, s.B) + s.D)
    with pytest.raises(UnsupportedShapeError):
        s.to_canonical()


def test_dict_round_trip_is_json_safe():
    s = random_system(2, 1, 2, 3)
    again = StateSpaceSystem.from_dict(json.loads(json.dumps(s.to_dict())))
    np.testing.assert_array_equal(again.A, s.A)
    np.testing.assert_array_equal(again.D, s.D)
    with pytest.raises(DataError):
        StateSpaceSystem.from_dict({"A": 1})


def test_bad_shapes_are_typed_errors():
    with pytest.raises(DataError, match="A"):
        StateSpaceSystem(np.ones((2, 3)), np.ones(2), np.ones(2))
    s = random_system(2, 2, 1, 0)
    with pytest.raises(DataError, match="u"):
        s.simulate(np.ones((10, 3)))
    with pytest.raises(DataError, match="x0"):
        s.simulate(np.ones((10, 2)), x0=np.ones(5))


def test_jacobian_matches_finite_differences():
    rng = np.random.default_rng(0)
    s = random_system(3, 2, 2, 1)
    u = rng.normal(size=(1, 60, 2))
    y = rng.normal(size=(1, 60, 2))
    x0s = rng.normal(size=(1, 3))
    H, g, sse = normal_equations(s, u, y, x0s, (1, 1, 1, 1, 1))
    theta = np.concatenate([s.A.ravel(), s.B.ravel(), s.C.ravel(), s.D.ravel(), x0s.ravel()])

    def yhat(th):
        o = [9, 15, 21, 25]
        sys_ = StateSpaceSystem(
            th[: o[0]].reshape(3, 3),
            th[o[0] : o[1]].reshape(3, 2),
            th[o[1] : o[2]].reshape(2, 3),
            th[o[2] : o[3]].reshape(2, 2),
        )
        return sys_.simulate(u, x0=th[o[3] :].reshape(1, 3)).ravel()

    eps = 1e-6
    J = np.array(
        [(yhat(theta + eps * e) - yhat(theta - eps * e)) / (2 * eps) for e in np.eye(theta.size)]
    ).T
    r = y.ravel() - yhat(theta)
    np.testing.assert_allclose(H, J.T @ J, rtol=1e-6, atol=1e-6 * np.abs(H).max())
    np.testing.assert_allclose(g, J.T @ r, rtol=1e-6, atol=1e-6 * np.abs(g).max())
    assert sse == pytest.approx(r @ r)


def test_noiseless_mimo_recovered():
    truth = random_system(4, 3, 2, 1)
    u = np.random.default_rng(0).normal(size=(1, 5000, 3))
    model, info = fit_state_space(u, truth.simulate(u), 4)
    assert rel_markov_error(model, truth) <= 1e-6
    assert model.is_stable() and info["converged"]


def test_noisy_mimo_no_worse_than_subspace():
    truth = random_system(4, 3, 2, 1)
    rng = np.random.default_rng(0)
    u = rng.normal(size=(1, 5000, 3))
    y = truth.simulate(u) + 0.3 * rng.normal(size=(1, 5000, 2))
    model, _ = fit_state_space(u, y, 4)
    assert rel_markov_error(model, truth) <= 1.2 * rel_markov_error(subspace_id(u, y, 4), truth)


def test_initial_state_estimated_jointly_and_separately():
    truth = random_system(2, 1, 1, 5, radius=0.95)
    rng = np.random.default_rng(1)
    u = rng.normal(size=(1, 300, 1))
    x0 = np.array([[3.0, -2.0]])
    y = truth.simulate(u, x0=x0)
    model, info = fit_state_space(u, y, 2, x0="estimate")
    np.testing.assert_allclose(model.simulate(u, x0=info["x0"]), y, atol=1e-6)
    got = estimate_initial_state(truth, u[0, :, 0], y[0, :, 0])
    np.testing.assert_allclose(got, x0[0], atol=1e-8)


def test_initial_state_prior_shrinks_and_descends():
    truth = random_system(2, 1, 1, 5, radius=0.95)
    rng = np.random.default_rng(1)
    u = rng.normal(size=(2, 200, 1))
    y = truth.simulate(u, x0=np.array([[3.0, -2.0], [1.0, 0.5]])) + 0.3 * rng.normal(
        size=(2, 200, 1)
    )
    free, info_free = fit_state_space(u, y, 2, x0="estimate", max_iter=30)
    shrunk, info = fit_state_space(u, y, 2, x0="prior", max_iter=30)
    assert np.all(np.diff(info["loss_history"]) <= 1e-15)
    assert info["x0"].shape == (2, 2) and np.all(np.isfinite(info["x0"]))
    x_free = [free.simulate(u, x0=info_free["x0"]) - free.simulate(u)]  # free responses
    x_prior = [shrunk.simulate(u, x0=info["x0"]) - shrunk.simulate(u)]
    assert np.linalg.norm(x_prior) <= np.linalg.norm(x_free) * 1.01
    assert rel_markov_error(shrunk, truth) < 0.2


def test_prediction_error_fit_recovers_the_noise_model():
    rng = np.random.default_rng(3)
    A, B = np.array([[0.9, 0.2], [-0.2, 0.7]]), np.array([[1.0], [0.5]])
    C, K = np.array([[1.0, 0.0]]), np.array([[0.6], [0.3]])
    u, e = rng.normal(size=(1, 3000, 1)), 0.5 * rng.normal(size=(1, 3000, 1))
    innovations = StateSpaceSystem(A, np.hstack((B, K)), C, np.array([[0.0, 1.0]]))
    y = innovations.simulate(np.concatenate((u, e), axis=2))
    truth = StateSpaceSystem(A, B, C, 0.0)
    model, info = fit_state_space(u, y, 2, criterion="prediction")

    def noise_markov(s, gain):
        return np.array([(s.C @ np.linalg.matrix_power(s.A, j) @ gain).ravel() for j in range(20)])

    got, want = noise_markov(model, info["K"]), noise_markov(truth, K)
    assert np.linalg.norm(got - want) / np.linalg.norm(want) < 0.1
    assert rel_markov_error(model, truth) < 0.1 and model.is_stable()


def test_prediction_error_fit_noiseless_is_exact():
    truth = random_system(3, 2, 2, 4)
    u = np.random.default_rng(0).normal(size=(1, 1500, 2))
    model, info = fit_state_space(u, truth.simulate(u), 3, criterion="prediction")
    assert rel_markov_error(model, truth) <= 1e-6
    assert info["K"].shape == (3, 2)


def test_fit_keeps_model_stable_and_reports():
    rng = np.random.default_rng(2)
    u = rng.normal(size=(1, 400, 1))
    y = np.cumsum(u, axis=1)  # an integrator: the fit must stay strictly stable
    model, info = fit_state_space(u, y, 1, max_iter=30)
    assert model.spectral_radius() < 1.0
    assert set(info) >= {"loss_history", "n_iter", "converged", "stop_reason", "x0"}
    assert np.all(np.diff(info["loss_history"]) <= 0)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"order": 0}, "order"),
        ({"max_iter": -3}, "max_iter"),
        ({"max_iter": 2.5}, "max_iter"),
        ({"tol": -1.0}, "tol"),
        ({"x0": "guess"}, "x0"),
        ({"criterion": "likelihood"}, "criterion"),
        ({"start": "magic"}, "kind"),
    ],
)
def test_parameters_checked(kwargs, name):
    u = np.random.default_rng(0).normal(size=(1, 100, 1))
    args = {"order": 2, **kwargs}
    with pytest.raises(ParameterError, match=name):
        fit_state_space(u, u, args.pop("order"), **args)


def test_start_of_wrong_shape_refused():
    u = np.random.default_rng(0).normal(size=(1, 100, 1))
    with pytest.raises(ParameterError, match="start"):
        fit_state_space(u, u, 2, start=random_system(3, 1, 1, 0))


def test_streamed_loss_and_statistics_equal_whole_array(monkeypatch):
    """Loss, state covariance and channel scales read in blocks equal the whole-array
    values, for arrays and for lazy (scaled, concatenated) records."""
    from learnlds import statespace as ss

    monkeypatch.setattr(ss, "_SIM_CHUNK", 37)  # blocks straddle every sequence
    s = random_system(3, 2, 2, 4)
    rng = np.random.default_rng(2)
    u3, y3 = rng.normal(size=(3, 200, 2)), rng.normal(size=(3, 200, 2))
    x0s = rng.normal(size=(3, 3))
    ref = sum(float(np.sum((y3[i] - loop_simulate(s, u3[i], x0s[i])) ** 2)) for i in range(3))
    assert ss._sse(s, u3, y3, x0s) == pytest.approx(ref, rel=1e-12)
    probe = StateSpaceSystem(s.A, s.B, np.eye(3), np.zeros((3, 2)))  # outputs the state
    X = np.concatenate([loop_simulate(probe, u3[i], x0s[i]) for i in range(3)])
    np.testing.assert_allclose(ss._state_covariance(s, u3, x0s), X.T @ X / len(X), rtol=1e-12)
    scale = np.array([2.0, 0.5])
    lazy = _LazyRecord((u3,), scale)
    np.testing.assert_allclose(np.asarray(lazy), u3 / scale)
    np.testing.assert_allclose(lazy[1, 10:20], u3[1, 10:20] / scale)
    both = _LazyRecord((u3, y3))
    np.testing.assert_allclose(both[:, 5:9], np.concatenate((u3, y3), axis=2)[:, 5:9])
    np.testing.assert_allclose(ss._channel_scales(lazy), (u3 / scale).reshape(-1, 2).std(axis=0))
    np.testing.assert_allclose(ss._channel_scales(u3), u3.reshape(-1, 2).std(axis=0))
    assert ss._sse(s, lazy, _LazyRecord((y3,), scale), x0s) == pytest.approx(
        ss._sse(s, u3 / scale, y3 / scale, x0s), rel=1e-12
    )


def test_lazy_records_refuse_non_finite_values():
    from learnlds.records import _LazyRecord
    from learnlds.statespace import _check_canonical

    u3 = np.zeros((1, 50, 1))
    y3 = np.ones((1, 50, 1))
    y3[0, 40, 0] = np.nan
    with pytest.raises(DataError, match="finite"):
        _check_canonical(_LazyRecord((u3,), np.ones(1)), _LazyRecord((y3,), np.ones(1)), 1)


def test_default_feedthrough_is_zero_for_any_shape():
    """``D`` defaults to 0: the zero matrix of a MIMO system (it used to raise); a
    nonzero scalar stays SISO-only, named."""
    s = StateSpaceSystem(np.eye(2) * 0.5, np.ones((2, 3)), np.ones((4, 2)))
    assert s.D.shape == (4, 3) and not np.any(s.D)
    with pytest.raises(DataError, match=r"D: must have shape \(4, 3\)"):
        StateSpaceSystem(np.eye(2) * 0.5, np.ones((2, 3)), np.ones((4, 2)), 1.0)


def test_with_input_delay_is_a_shift_of_each_input():
    """Against the explicit loop on inputs shifted by hand, and G(z) diag(z^-d) in frequency."""
    from learnlds.statespace import input_delays, with_input_delay

    core = random_system(3, 3, 2, 6, radius=0.8)
    delays = [0, 2, 5]
    delayed = with_input_delay(core, delays)
    assert delayed.order == 3 + 7 and with_input_delay(core, 0) is core
    u = np.random.default_rng(2).normal(size=(60, 3))
    shifted = np.zeros_like(u)
    for j, d in enumerate(delays):
        shifted[d:, j] = u[: len(u) - d, j]
    np.testing.assert_allclose(
        delayed.simulate(u), loop_simulate(core, shifted, np.zeros(3)), atol=1e-12
    )
    w = np.linspace(0.1, 3.0, 7)
    expected = core.frequency_response(w) * np.exp(-1j * np.outer(w, delays))[:, None, :]
    np.testing.assert_allclose(delayed.frequency_response(w), expected, atol=1e-10)
    np.testing.assert_array_equal(input_delays(4, 2), [4, 4])
    np.testing.assert_array_equal(input_delays([4], 1), [4])
    for bad in (-1, [1, 2], 1.5, [2]):  # [2] for 3 inputs: a forgotten entry, not "all"
        with pytest.raises(ParameterError, match="input_delay"):
            input_delays(bad, 3)


def test_simulating_an_unstable_state_space_model_warns_like_the_canonical_form():
    """It returned a growing (or inf) output silently; CanonicalSystem.simulate warned."""
    from learnlds.errors import UnstableSystemWarning

    u = np.ones(40)
    unstable = StateSpaceSystem([[1.2, 0.0], [0.0, 0.5]], [[1.0], [1.0]], [[1.0, 1.0]])
    with pytest.warns(UnstableSystemWarning, match=r"spectral radius 1\.2 >= 1"):
        y = unstable.simulate(u)
    with pytest.warns(UnstableSystemWarning):
        expected = unstable.to_canonical().simulate(u)
    np.testing.assert_allclose(y, expected, rtol=1e-9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        StateSpaceSystem([[0.9]], [[1.0]], [[1.0]]).simulate(u)
