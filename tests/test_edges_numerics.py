"""Numerical edges found by the input audit: degenerate data, bad covariances, overflow,
short records and out-of-range helper arguments give a clear typed error (or a
documented ``inf`` with a warning), never a raw numpy traceback or a silent wrong answer."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from learnlds import CanonicalSystem, PacmanRegion, StateSpaceSystem
from learnlds.analysis import estimate_tau, tau_along_directions
from learnlds.delay import estimate_delay
from learnlds.errors import DataError, ParameterError, UnstableSystemWarning
from learnlds.risk import loss, loss_and_grad, markov_tail_length
from learnlds.statespace import input_delays, with_input_delay
from learnlds.systems import companion, markov_horizon
from learnlds.train import gauss_newton
from learnlds.uncertainty import (
    frequency_response_std,
    output_std,
    parameter_covariance,
    parameter_names,
    state_space_covariance,
)

RNG = np.random.default_rng(0)
U = RNG.normal(size=300)
S = CanonicalSystem([-0.5, 0.06], [1.0, 0.3], 0.2)
Y = S.simulate(U)
YN = Y + 0.01 * np.random.default_rng(1).normal(size=300)
SS = StateSpaceSystem.from_canonical(S)
UNSTABLE = CanonicalSystem([-2.5, 1.0], [1.0, 0.0])  # poles 2 and 0.5


# --------------------------------------------------------------------------- S4, R5
def test_parameter_covariance_refuses_an_input_that_excites_nothing():
    with pytest.raises(DataError, match="u: input column 0 .* zero throughout"):
        parameter_covariance(S, np.zeros(300), Y)
    two = np.column_stack([U, np.zeros(300)])
    model = CanonicalSystem([-0.5], np.ones((1, 1, 2)), np.zeros((1, 2)))
    with pytest.raises(DataError, match="input column 1"):
        parameter_covariance(model, two, model.simulate(two))


def test_parameter_covariance_valid_and_rank_deficient_cases_still_work():
    pc = parameter_covariance(S, U, YN)
    assert pc.rank == 5 and np.all(np.isfinite(pc.covariance)) and np.all(pc.standard_errors > 0)
    # a cancelling pole-zero pair: partial rank deficiency keeps its (clearer) warning
    cancel = CanonicalSystem.from_tf(np.polymul([1.0, 0.2], [1, -0.3]), np.poly([0.5, 0.3]))
    y = cancel.simulate(U) + 0.01 * np.random.default_rng(9).normal(size=300)
    with pytest.warns(RuntimeWarning, match="rank 4 < 5.*understated"):
        cancelled = parameter_covariance(cancel, U, y, burn_in=0)
    assert 0 < cancelled.rank < 5


def test_parameter_covariance_of_huge_data_asks_to_rescale():
    with pytest.raises(DataError, match="overflows float64.*rescale"):
        parameter_covariance(S, U * 1e300, Y * 1e300)


def test_parameter_covariance_without_outputs():
    with pytest.raises(DataError, match="y: the outputs are required"):
        parameter_covariance(S, U, None)


# --------------------------------------------------------------------------- S6, R5
def test_state_space_covariance_x0_must_have_the_model_order():
    with pytest.raises(DataError, match=r"x0: must have shape \(2,\) or \(1, 2\).*got \(1,\)"):
        state_space_covariance(SS, U, YN, x0=[1.0])
    with pytest.raises(DataError, match=r"x0: .*got \(3,\)"):
        state_space_covariance(SS, U, YN, x0=[1.0, 2.0, 3.0])
    with pytest.raises(DataError, match=r"x0: .*got \(2, 2\)"):
        state_space_covariance(SS, U, YN, x0=np.zeros((2, 2)))
    one = state_space_covariance(SS, U, YN, x0=[0.0, 0.0])
    rows = state_space_covariance(SS, U, YN, x0=[[0.0, 0.0]])
    np.testing.assert_allclose(one.covariance, rows.covariance)


def test_state_space_covariance_overflow_and_no_excitation():
    with pytest.raises(DataError, match="overflows float64.*rescale"):
        state_space_covariance(SS, U * 1e300, Y * 1e300)
    with pytest.raises(DataError, match="u: the input does not excite"):
        state_space_covariance(SS, np.zeros(300), YN)
    with pytest.raises(DataError, match="y: the outputs are required"):
        state_space_covariance(SS, U, None)
    assert state_space_covariance(SS, U, YN).rank > 0


# --------------------------------------------------------------------------- S7
@pytest.mark.parametrize(
    ("cov", "match"),
    [
        (-np.eye(5), "positive semi-definite"),
        (np.diag([1.0, 1.0, -0.5, 1.0, 1.0]), "positive semi-definite"),
        (np.eye(5) + np.triu(np.ones((5, 5)), 1), "symmetric"),
        (np.full((5, 5), np.nan), "NaN"),
        (np.eye(3), "does not fit"),
    ],
)
def test_delta_method_refuses_what_is_not_a_covariance(cov, match):
    with pytest.raises(DataError, match=f"covariance: .*{match}|covariance: contains {match}"):
        frequency_response_std(S, cov, [0.1, 1.0])
    with pytest.raises(DataError, match="covariance"):
        output_std(S, cov, U)


def test_delta_method_state_space_covariance_is_checked_too():
    with pytest.raises(DataError, match="positive semi-definite"):
        output_std(SS, -np.eye(9), U)
    with pytest.raises(DataError, match="positive semi-definite"):
        frequency_response_std(SS, -np.eye(9), [0.1])


def test_delta_method_accepts_real_covariances():
    pc = parameter_covariance(S, U, YN)
    fr = frequency_response_std(S, pc, [0.1, 1.0])
    assert np.all(fr.magnitude > 0)
    assert np.all(frequency_response_std(S, np.zeros((5, 5)), [0.1]).magnitude == 0)
    sc = state_space_covariance(SS, U, YN)  # singular along the similarity orbit: still PSD
    assert np.all(np.isfinite(output_std(SS, sc, U)))
    with pytest.raises(DataError, match="u: the output standard errors overflow"):
        output_std(S, pc, U * 1e300)


# --------------------------------------------------------------------------- S5
def test_gauss_newton_refuses_a_zero_input():
    with pytest.raises(DataError, match="u: input column 0 .* zero throughout"):
        gauss_newton(np.zeros(300), Y, order=2)
    with pytest.raises(DataError, match="input column 1"):
        gauss_newton(np.column_stack([U, np.zeros(300)]), Y, order=1)
    with pytest.raises(DataError, match="y: the outputs are required"):
        gauss_newton(U, None, order=2)


def test_gauss_newton_still_fits_a_step_and_ordinary_data():
    step = np.ones(300)  # constant but not zero: a step from zero state excites the model
    np.testing.assert_allclose(gauss_newton(step, S.simulate(step), order=2).model.a, S.a)
    np.testing.assert_allclose(gauss_newton(U, Y, order=2).model.a, S.a, atol=1e-8)


# --------------------------------------------------------------------------- S8
@pytest.mark.parametrize("engine", ["numba", "scipy"])
@pytest.mark.parametrize("length", [1000, 3000])
def test_loss_of_an_overflowing_unstable_model_is_inf_with_a_warning(engine, length):
    from learnlds import _kernels

    if engine == "numba" and not _kernels.HAVE_NUMBA:
        pytest.skip("numba not installed")
    u = y = np.ones(length)
    with pytest.warns(UnstableSystemWarning, match="spectral radius 2"):
        assert loss(UNSTABLE, u, y, engine=engine) == np.inf
    with pytest.warns(UnstableSystemWarning, match="gradient NaN"):
        value, grad = loss_and_grad(UNSTABLE, u, y, engine=engine)
    assert value == np.inf and np.all(np.isnan(grad.flat()))


def test_loss_of_huge_data_is_inf_with_a_warning_and_finite_cases_are_silent():
    with pytest.warns(RuntimeWarning, match="rescale"):
        assert loss(S, U * 1e300, Y * 1e300) == np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert loss(S, U, Y) < 1e-20
        assert np.isfinite(loss(UNSTABLE, np.ones(50), np.ones(50)))  # no overflow yet


# --------------------------------------------------------------------------- S9
def _delayed_record(length: int) -> tuple[np.ndarray, np.ndarray]:
    core = StateSpaceSystem([[0.7]], [[1.0]], [[1.0]], [[0.5]])
    u = np.random.default_rng(2).normal(size=length)
    return u, with_input_delay(core, 3).simulate(u) + np.random.default_rng(3).normal(size=length)


@pytest.mark.parametrize("length", [3, 15, 19, 20, 39, 55])
def test_estimate_delay_refuses_records_too_short_to_test_a_delay(length):
    """Under 20 samples and from 20 to 55 alike (the latter returned an untested 0 with
    a RuntimeWarning): the docstring promises a DataError."""
    match = f"u, y: {length} samples .* too short to estimate an input delay.*about 56"
    with pytest.raises(DataError, match=match):
        estimate_delay(*_delayed_record(length))
    assert estimate_delay(*_delayed_record(56)).shape == (1,)  # long enough: tested


def test_estimate_delay_valid_cases_and_missing_outputs():
    core = StateSpaceSystem([[0.7]], [[1.0]], [[1.0]], [[0.5]])
    u = np.random.default_rng(0).normal(size=2000)
    y = with_input_delay(core, 3).simulate(u) + 0.1 * np.random.default_rng(1).normal(size=2000)
    assert estimate_delay(u, y).tolist() == [3]
    assert estimate_delay(u[:39], y[:39], max_delay=0).tolist() == [0]  # asked for: no delay
    with pytest.raises(DataError, match="y: the outputs are required"):
        estimate_delay(u, None)


# --------------------------------------------------------------------------- S10
@pytest.mark.parametrize("method", ["boundary_point", "ray_radius"])
def test_region_rays_need_a_nonzero_finite_direction(method):
    region = PacmanRegion()
    with pytest.raises(DataError, match="direction: must be non-zero"):
        getattr(region, method)([0.0, 0.0])
    with pytest.raises(DataError, match="direction: contains NaN"):
        getattr(region, method)([np.nan, 1.0])
    with pytest.raises(DataError, match="direction: contains inf"):
        getattr(region, method)([np.inf, 0.0])
    point = region.boundary_point([1.0, 0.0])
    assert np.all(np.isfinite(point)) and np.isfinite(region.ray_radius([0.0, 1.0]))


# --------------------------------------------------------------------------- S11
@pytest.mark.parametrize("bad", [0, -1, True, 2.5, "3", None, np.nan, [2]])
def test_parameter_names_needs_positive_integers(bad):
    with pytest.raises(ParameterError, match="order: must be"):
        parameter_names(bad)
    with pytest.raises(ParameterError, match="n_inputs: must be"):
        parameter_names(2, n_inputs=bad)
    with pytest.raises(ParameterError, match="n_outputs: must be"):
        parameter_names(2, n_outputs=bad)


def test_parameter_names_valid():
    assert parameter_names(np.int64(1)) == ("a_1", "c_1", "d")
    assert parameter_names(1, 2, 1, learn_d=False) == ("a_1", "c_1[0,0]", "c_1[0,1]")


@pytest.mark.parametrize("bad", [0, -1, 2.5, None, True, "2"])
def test_input_delays_needs_a_positive_input_count(bad):
    with pytest.raises(ParameterError, match="n_inputs: must be"):
        input_delays(1, bad)
    assert input_delays(1, 2).tolist() == [1, 1]


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((0.9, 0), "order: must be >= 1"),
        ((0.9, -1), "order: must be >= 1"),
        ((0.9, 2.5), "order: must be an integer"),
        ((0.9, True), "order: must be an integer"),
        ((0.9, "3"), "order: must be an integer"),
        ((0.9, None), "order: must be an integer"),
        ((-0.1, 2), "rho: must be a spectral radius"),
        ((np.nan, 2), "rho: must be a spectral radius"),
        (("0.5", 2), "rho: must be a spectral radius"),
        ((0.9, 2, 0.0), "tol: must be > 0"),
        ((0.9, 2, -1.0), "tol: must be > 0"),
        ((0.9, 2, np.nan), "tol: must be finite"),
        ((0.9, 2, 1.5), "tol: must be < 1"),
    ],
)
def test_markov_horizon_refuses_bad_arguments(args, match):
    with pytest.raises(ParameterError, match=match):
        markov_horizon(*args)


def test_markov_horizon_valid_and_through_markov_tail_length():
    assert markov_horizon(0.5, 2) == 285 and markov_horizon(0.0, 2) == 4
    assert markov_horizon(1.0, 2) == -1 and markov_horizon(np.inf, 2) == -1
    assert markov_tail_length((S,)) > 0
    with pytest.raises(ParameterError, match="tol"):
        markov_tail_length((S,), tol=0.0)


@pytest.mark.parametrize(
    ("a", "match"),
    [
        ([np.nan], "a: contains NaN"),
        ([], "a: needs at least one coefficient"),
        (None, "a: the coefficients are required"),
        ("ab", "a: must be numeric"),
        ([[1.0, 2.0], [3.0, 4.0]], "a: must be 1-D"),
    ],
)
def test_companion_refuses_bad_coefficients(a, match):
    with pytest.raises(DataError, match=match):
        companion(a)


def test_companion_valid():
    np.testing.assert_array_equal(companion([0.5, -0.25]), [[0.0, 1.0], [0.25, -0.5]])


def test_tau_estimates_refuse_unstable_systems_and_empty_fractions():
    stable = CanonicalSystem([-0.5], [1.0])
    with pytest.raises(DataError, match="target: is unstable .*spectral radius 2"):
        estimate_tau(UNSTABLE)
    with pytest.raises(DataError, match="truth: is unstable"):
        tau_along_directions(UNSTABLE, UNSTABLE)
    with pytest.raises(DataError, match="reference: is unstable"):
        tau_along_directions(stable, CanonicalSystem([-1.5], [1.0]))
    with pytest.raises(ParameterError, match=r"fractions: must be non-empty.*got \[\]"):
        tau_along_directions(stable, stable, fractions=())
    assert estimate_tau(stable, samples=10, random_state=0) > 0
    assert tau_along_directions(stable, stable, directions=2, random_state=0).tau > 0
