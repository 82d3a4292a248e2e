"""Parameter covariance and delta-method standard errors (issue 13).

The formulas are checked against finite differences of the simulation and the
frequency response; the statistics honestly, by Monte Carlo: over hundreds of
seeded noise realisations of a known system, fitted by Gauss-Newton, the nominal
95 % intervals must cover the truth in 90-99 % of the runs.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from learnlds import CanonicalSystem
from learnlds.errors import DataError, ParameterError
from learnlds.train import ParamLayout, gauss_newton
from learnlds.uncertainty import (
    FrequencyResponseStd,
    ParameterCovariance,
    frequency_response_std,
    output_std,
    parameter_covariance,
    parameter_names,
    parameter_vector,
    scale_covariance,
)

Z95 = 1.959963984540054


def truth_siso() -> CanonicalSystem:
    """A lightly damped second-order system (poles 0.7 +- 0.3i) with feed-through."""
    return CanonicalSystem([-1.4, 0.58], [0.3, 0.5], 0.2)


def truth_mimo() -> CanonicalSystem:
    gen = np.random.default_rng(3)
    return CanonicalSystem([-1.4, 0.58], gen.normal(size=(2, 2, 2)), gen.normal(size=(2, 2)))


def model_of(theta: np.ndarray, like: CanonicalSystem, learn_d: bool = True) -> CanonicalSystem:
    layout = ParamLayout(like.order, like.n_inputs, like.n_outputs, learn_d)
    d3 = np.atleast_2d(like.d)
    a, c3, d3 = layout.unpack(theta, d3)
    if like.is_siso:
        return CanonicalSystem(a, c3[:, 0, 0], float(d3[0, 0]))
    return CanonicalSystem(a, c3, d3)


def fd_jacobian(f, theta: np.ndarray, step: float = 1e-6) -> np.ndarray:
    """Central differences of a vector-valued ``f``: ``(len(f), len(theta))``."""
    cols = []
    for k in range(theta.size):
        e = np.zeros_like(theta)
        e[k] = step
        cols.append((f(theta + e) - f(theta - e)) / (2 * step))
    return np.stack(cols, axis=-1)


def noisy(system: CanonicalSystem, length: int, sd: float, seed: int):
    gen = np.random.default_rng(seed)
    u = (
        gen.normal(size=(length, system.n_inputs))
        if not system.is_siso
        else gen.normal(size=length)
    )
    y = system.simulate(u)
    return u, y + sd * gen.normal(size=y.shape)


def gn_fit(u, y, order: int, burn_in) -> CanonicalSystem:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gauss_newton(u, y, order=order, region=None, burn_in=burn_in).model


# --------------------------------------------------------------------------- layout
def test_names_and_vector_follow_the_solver_layout():
    assert parameter_names(2) == ("a_1", "a_2", "c_1", "c_2", "d")
    assert parameter_names(2, learn_d=False) == ("a_1", "a_2", "c_1", "c_2")
    mimo = truth_mimo()
    names = parameter_names(2, 2, 2)
    assert len(names) == 2 + 2 * (2 * 2 + 2) and names[2:8] == (
        "c_1[0,0]",
        "c_1[0,1]",
        "c_2[0,0]",
        "c_2[0,1]",
        "d[0,0]",
        "d[0,1]",
    )
    layout = ParamLayout(2, 2, 2, True)
    np.testing.assert_array_equal(parameter_vector(mimo), layout.pack(mimo.a, mimo.c, mimo.d))
    np.testing.assert_array_equal(parameter_vector(truth_siso()), [-1.4, 0.58, 0.3, 0.5, 0.2])
    assert parameter_vector(truth_siso(), learn_d=False).size == 4


# --------------------------------------------------------------------------- formulas
@pytest.mark.parametrize("burn_in", [0, 30])
def test_covariance_is_sigma2_inverse_jtj_of_the_finite_difference_jacobian(burn_in):
    model = truth_siso()
    u, y = noisy(model, 150, 0.3, seed=1)
    fit = gn_fit(u, y, 2, burn_in)
    theta = parameter_vector(fit)
    J = fd_jacobian(lambda th: model_of(th, fit).simulate(u)[burn_in:], theta)
    r = fit.simulate(u)[burn_in:] - y[burn_in:]
    sigma2 = r @ r / (r.size - theta.size)
    want = sigma2 * np.linalg.inv(J.T @ J)
    pc = parameter_covariance(fit, u, y, burn_in=burn_in)
    np.testing.assert_allclose(pc.covariance, want, rtol=1e-5)
    assert pc.dof == r.size - 5 and pc.rank == 5 and pc.names[-1] == "d"
    np.testing.assert_allclose(pc.noise_variance, [sigma2])
    np.testing.assert_allclose(pc.standard_errors, np.sqrt(np.diag(want)), rtol=1e-5)


def test_covariance_without_d():
    model = truth_siso().with_params(d=0.0)
    u, y = noisy(model, 150, 0.3, seed=2)
    pc = parameter_covariance(model, u, y, burn_in=0, learn_d=False)
    theta = parameter_vector(model, learn_d=False)
    J = fd_jacobian(lambda th: model_of(th, model, learn_d=False).simulate(u), theta)
    r = model.simulate(u) - y
    want = (r @ r / (r.size - 4)) * np.linalg.inv(J.T @ J)
    np.testing.assert_allclose(pc.covariance, want, rtol=1e-5)
    assert pc.names == ("a_1", "a_2", "c_1", "c_2")


def test_mimo_covariance_is_the_per_output_sandwich():
    model = truth_mimo()
    gen = np.random.default_rng(4)
    u = gen.normal(size=(300, 2))
    y = model.simulate(u) + gen.normal(size=(300, 2)) * [0.1, 0.5]  # unequal noise levels
    pc = parameter_covariance(model, u, y, burn_in=10)
    theta = parameter_vector(model)
    J = fd_jacobian(lambda th: model_of(th, model).simulate(u)[10:], theta)  # (T, p, k)
    r = (model.simulate(u) - y)[10:]
    H = np.einsum("tok,tol->kl", J, J)
    s2 = np.mean(r**2, axis=0)
    middle = np.einsum("tok,o,tol->kl", J, s2, J)
    correction = r.size / (r.size - theta.size)
    want = correction * np.linalg.inv(H) @ middle @ np.linalg.inv(H)
    np.testing.assert_allclose(pc.covariance, want, rtol=1e-5, atol=1e-12)
    np.testing.assert_allclose(pc.noise_variance, s2 * correction)
    assert pc.covariance.shape == (14, 14) and len(pc.names) == 14


def test_frequency_response_std_is_the_delta_method():
    model = truth_siso()
    gen = np.random.default_rng(5)
    L = gen.normal(size=(5, 5)) * 0.01
    cov = L @ L.T
    w = np.array([0.05, 0.4, 1.0, 2.5])
    fr = frequency_response_std(model, cov, w)
    assert isinstance(fr, FrequencyResponseStd)
    np.testing.assert_allclose(fr.response, model.frequency_response(w))
    theta = parameter_vector(model)

    def parts(th):
        g = model_of(th, model).frequency_response(w)
        return np.concatenate([g.real, g.imag, np.abs(g), np.unwrap(np.angle(g))])

    J = fd_jacobian(parts, theta)
    sd = np.sqrt(np.einsum("ik,kl,il->i", J, cov, J)).reshape(4, w.size)
    for got, want in zip((fr.real, fr.imag, fr.magnitude, fr.phase), sd, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_frequency_response_std_mimo_and_shapes():
    model = truth_mimo()
    cov = 1e-4 * np.eye(14)
    w = np.linspace(0.1, 3.0, 6).reshape(2, 3)
    fr = frequency_response_std(model, cov, w)
    assert fr.response.shape == fr.magnitude.shape == (2, 3, 2, 2)
    theta = parameter_vector(model)
    J = fd_jacobian(lambda th: np.abs(model_of(th, model).frequency_response(w)).ravel(), theta)
    want = np.sqrt(np.sum(J**2, axis=1) * 1e-4).reshape(2, 3, 2, 2)
    np.testing.assert_allclose(fr.magnitude, want, rtol=1e-6)
    # a covariance without d (size 10) is recognised by its size
    assert frequency_response_std(model, 1e-4 * np.eye(10), w).magnitude.shape == (2, 3, 2, 2)


@pytest.mark.parametrize("system", [truth_siso(), truth_mimo()], ids=["siso", "mimo"])
def test_output_std_is_the_delta_method(system):
    k = parameter_vector(system).size
    gen = np.random.default_rng(6)
    L = gen.normal(size=(k, k)) * 0.01
    cov = L @ L.T
    u = gen.normal(size=(40,) if system.is_siso else (40, 2))
    J = fd_jacobian(lambda th: model_of(th, system).simulate(u), parameter_vector(system))
    want = np.sqrt(np.einsum("...k,kl,...l->...", J, cov, J))
    got = output_std(system, ParameterCovariance(cov, np.ones(1), 1, k, 2, 1, 1, True), u)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-12)
    assert got.shape == system.simulate(u).shape
    seqs = np.stack([u, u[::-1]])
    assert output_std(system, cov, seqs, sequences=True).shape == system.simulate(seqs).shape
    if system.is_siso:  # a (T, 1) record keeps its shape, as in simulate
        assert output_std(system, cov, u[:, None]).shape == (40, 1)


def test_scaling_to_user_units_matches_a_covariance_computed_in_them():
    """The estimator fits on y / sy and u / su; mapped back, the covariance must equal
    the one computed on the raw data at the equivalent model (the problem is equivariant)."""
    model = truth_siso()
    u, y = noisy(model, 200, 0.3, seed=7)
    su, sy = 3.0, 0.02
    u_raw, y_raw = u * su, y * sy
    raw_model = model.with_params(c=model.c * sy / su, d=float(model.d) * sy / su)
    std = parameter_covariance(model, u, y, burn_in=20)
    raw = parameter_covariance(raw_model, u_raw, y_raw, burn_in=20)
    mapped = std.to_units([su], [sy])
    np.testing.assert_allclose(mapped.covariance, raw.covariance, rtol=1e-8)
    np.testing.assert_allclose(mapped.noise_variance, raw.noise_variance, rtol=1e-8)
    np.testing.assert_allclose(
        scale_covariance(std.covariance, su, sy, order=2), raw.covariance, rtol=1e-8
    )


def test_scale_covariance_mimo_gains():
    cov = np.eye(2 + 2 * (2 * 3 + 3))
    out = scale_covariance(cov, [1.0, 2.0, 4.0], [10.0, 100.0], order=2)
    diag = np.sqrt(np.diag(out))
    np.testing.assert_allclose(diag[:2], 1.0)
    np.testing.assert_allclose(diag[2:11], [10, 5, 2.5] * 3)  # output 0: c_1, c_2, d
    np.testing.assert_allclose(diag[11:], [100, 50, 25] * 3)


# --------------------------------------------------------------------------- statistics
def test_nominal_95_percent_intervals_cover_the_truth():
    """400 noise realisations, Gauss-Newton from zero: parameters, |G| and the simulated
    output fall inside their +-1.96 sigma intervals in 90-99 % of the runs."""
    truth = truth_siso()
    theta0 = parameter_vector(truth)
    w = np.array([0.1, 0.5, 1.5])
    g0 = np.abs(truth.frequency_response(w))
    u_val = np.random.default_rng(99).normal(size=60)
    y_val = truth.simulate(u_val)[[10, 30, 59]]
    gen = np.random.default_rng(2024)
    runs, hits = 400, np.zeros(theta0.size + w.size + 3)
    for _ in range(runs):
        u = gen.normal(size=200)
        y = truth.simulate(u) + 0.5 * gen.normal(size=200)
        fit = gn_fit(u, y, 2, 0)
        pc = parameter_covariance(fit, u, y, burn_in=0)
        fr = frequency_response_std(fit, pc, w)
        sd_out = output_std(fit, pc, u_val)[[10, 30, 59]]
        hits += np.concatenate(
            [
                np.abs(parameter_vector(fit) - theta0) <= Z95 * pc.standard_errors,
                np.abs(np.abs(fr.response) - g0) <= Z95 * fr.magnitude,
                np.abs(fit.simulate(u_val)[[10, 30, 59]] - y_val) <= Z95 * sd_out,
            ]
        )
    coverage = hits / runs
    assert np.all((coverage >= 0.90) & (coverage <= 0.99)), coverage


def test_coverage_in_user_units_with_standardised_fits_and_burn_in():
    """As the estimator does it: fit on standardised data with burn_in = T // 4, map the
    covariance back, and cover the truth in the user's (large, odd) units."""
    truth = truth_siso().with_params(c=[30.0, 50.0], d=20.0)  # gain 100 from u to y
    theta0 = parameter_vector(truth)
    gen = np.random.default_rng(7)
    runs, hits = 300, np.zeros(theta0.size)
    for _ in range(runs):
        u = 0.01 * gen.normal(size=240)
        y = truth.simulate(u) + 0.5 * gen.normal(size=240)
        su, sy = u.std(), y.std()
        fit = gn_fit(u / su, y / sy, 2, None)
        pc = parameter_covariance(fit, u / su, y / sy).to_units([su], [sy])
        user = fit.with_params(c=fit.c * sy / su, d=float(fit.d) * sy / su)
        hits += np.abs(parameter_vector(user) - theta0) <= Z95 * pc.standard_errors
    coverage = hits / runs
    assert np.all((coverage >= 0.90) & (coverage <= 0.99)), coverage


# --------------------------------------------------------------------------- errors
def test_rank_deficiency_warns():
    """A cancelling pole-zero pair: moving both together changes nothing."""
    cancelled = CanonicalSystem.from_tf(np.polymul([1.0, 0.2], [1, -0.3]), np.poly([0.5, 0.3]))
    u = np.random.default_rng(8).normal(size=200)
    y = cancelled.simulate(u) + 0.01 * np.random.default_rng(9).normal(size=200)
    with pytest.warns(RuntimeWarning, match="rank 4 < 5"):
        pc = parameter_covariance(cancelled, u, y, burn_in=0)
    assert pc.rank == 4 and np.all(np.isfinite(pc.covariance))


def test_typed_errors_name_the_argument():
    model = truth_siso()
    u, y = noisy(model, 50, 0.1, seed=10)
    with pytest.raises(ParameterError, match="system"):
        parameter_covariance("model", u, y)
    with pytest.raises(ParameterError, match="system"):
        parameter_vector(model.to_tf())
    with pytest.raises(ParameterError, match="burn_in"):
        parameter_covariance(model, u, y, burn_in=-1)
    with pytest.raises(ParameterError, match="rcond"):
        parameter_covariance(model, u, y, rcond=-1.0)
    with pytest.raises(ParameterError, match="learn_d"):
        parameter_covariance(model, u, y, learn_d="yes")
    with pytest.raises(DataError, match="cannot give"):
        parameter_covariance(model, u[:5], y[:5], burn_in=0)
    with pytest.raises(DataError, match="y"):
        parameter_covariance(model, u, y[:-1])
    with pytest.raises(DataError, match="covariance"):
        frequency_response_std(model, np.eye(4 + 2), [0.1])
    with pytest.raises(DataError, match="covariance"):
        output_std(model, np.eye(5)[:4], u)
    with pytest.raises(DataError, match="scales"):
        scale_covariance(np.eye(5), [0.0], [1.0], order=2)
    with pytest.raises(DataError, match="covariance"):
        scale_covariance(np.eye(4), [1.0], [1.0], order=2)
    with pytest.raises(ParameterError, match="order"):
        scale_covariance(np.eye(5), [1.0], [1.0], order=2.5)


# --------------------------------------------------------------------------- state space
def _ss_truth():
    from learnlds.statespace import StateSpaceSystem

    A = np.array([[0.7, 0.2], [-0.1, 0.5]])
    B = np.array([[1.0, 0.3], [0.2, -0.8]])
    C = np.array([[1.0, 0.5], [-0.4, 1.0]])
    return StateSpaceSystem(A, B, C, np.array([[0.1, 0.0], [0.0, -0.2]]))


def _ss_entries(s):
    return np.concatenate([s.A.ravel(), s.B.ravel(), s.C.ravel(), s.D.ravel()])


def _ss_from(theta):
    from learnlds.statespace import StateSpaceSystem

    return StateSpaceSystem(
        theta[:4].reshape(2, 2), theta[4:8].reshape(2, 2), theta[8:12].reshape(2, 2),
        theta[12:].reshape(2, 2),
    )  # fmt: skip


def test_state_space_response_gradient_and_output_std_match_finite_differences():
    """The delta method with exact gradients: frequency response and simulated output
    against central differences of the model's own frequency_response / simulate."""
    from learnlds.uncertainty import _ss_response_gradient

    s, w = _ss_truth(), np.array([0.0, 0.3, 1.1, np.pi])
    theta, eye, h = _ss_entries(s), np.eye(16), 1e-6
    fd = np.stack(
        [(_ss_from(theta + h * e).frequency_response(w) - _ss_from(theta - h * e)
          .frequency_response(w)) / (2 * h) for e in eye], axis=-1,
    )  # fmt: skip
    np.testing.assert_allclose(_ss_response_gradient(s, w), fd, atol=1e-8)
    u = np.random.default_rng(0).normal(size=(30, 2))
    J = np.stack(
        [(_ss_from(theta + h * e).simulate(u) - _ss_from(theta - h * e).simulate(u)) / (2 * h)
         for e in eye], axis=-1,
    )  # fmt: skip
    cov = np.random.default_rng(1).normal(size=(16, 16))
    cov = 1e-4 * cov @ cov.T
    ref = np.sqrt(np.einsum("tok,kl,tol->to", J, cov, J))
    np.testing.assert_allclose(output_std(s, cov, u), ref, rtol=1e-6)


def test_state_space_uncertainty_does_not_depend_on_the_state_basis():
    from learnlds.statespace import StateSpaceSystem
    from learnlds.uncertainty import state_space_covariance

    s = _ss_truth()
    rng = np.random.default_rng(2)
    u = rng.normal(size=(800, 2))
    y = s.simulate(u) + 0.1 * rng.normal(size=(800, 2))
    T = np.array([[2.0, 1.0], [0.5, 1.5]])
    Ti = np.linalg.inv(T)
    s2 = StateSpaceSystem(Ti @ s.A @ T, Ti @ s.B, s.C @ T, s.D)
    c1, c2 = state_space_covariance(s, u, y), state_space_covariance(s2, u, y)
    assert c1.rank == c2.rank == 16 - 4 and c1.dof == 800 * 2 - 12
    np.testing.assert_allclose(c1.noise_variance, c2.noise_variance, rtol=1e-12)
    w = [0.2, 1.5]
    np.testing.assert_allclose(
        frequency_response_std(s, c1, w).magnitude,
        frequency_response_std(s2, c2, w).magnitude,
        rtol=1e-8,
    )
    np.testing.assert_allclose(output_std(s, c1, u[:50]), output_std(s2, c2, u[:50]), rtol=1e-8)
    x0 = state_space_covariance(s, u, y, x0=[0.0, 0.0])  # x0 a nuisance: wider, never narrower
    assert np.all(output_std(s, x0, u[:50]) >= output_std(s, c1, u[:50]) - 1e-12)


def test_state_space_frequency_response_intervals_cover_the_truth():
    """Monte Carlo: 95 % intervals of Re G(e^{iw}) from fitted MIMO state-space models
    contain the true value in about 95 % of 200 noisy records."""
    from learnlds.subspace import fit_state_space
    from learnlds.uncertainty import state_space_covariance

    s, w = _ss_truth(), np.array([0.2, 1.0, 2.5])
    truth = s.frequency_response(w).real
    rng = np.random.default_rng(1)
    hits, runs = np.zeros(truth.shape), 200
    for _ in range(runs):
        u = rng.normal(size=(400, 2))
        y = s.simulate(u) + 0.2 * rng.normal(size=(400, 2))
        fit, _ = fit_state_space(u[None], y[None], 2, x0="zero")
        fr = frequency_response_std(fit, state_space_covariance(fit, u, y), w)
        hits += np.abs(fr.response.real - truth) <= 1.96 * fr.real
    rate = hits / runs
    assert 0.91 <= rate.mean() <= 0.98 and rate.min() >= 0.85, rate


def test_state_space_covariance_units_and_errors():
    from learnlds.uncertainty import StateSpaceCovariance, state_space_covariance

    s = _ss_truth()
    u = np.random.default_rng(3).normal(size=(200, 2))
    y = s.simulate(u) + 0.05 * np.random.default_rng(4).normal(size=(200, 2))
    sc = state_space_covariance(s, u, y)
    su, sy = np.array([2.0, 0.5]), np.array([3.0, 10.0])
    scaled = StateSpaceCovariance(sc.covariance, sc.noise_variance, sc.dof, sc.rank, 2, 2, 2)
    user = scaled.to_units(su, sy)
    # the same model in user units: B / su, sy C, sy D / su (A unchanged)
    from learnlds.statespace import StateSpaceSystem

    s_user = StateSpaceSystem(s.A, s.B / su, s.C * sy[:, None], s.D * np.outer(sy, 1 / su))
    w = [0.4]
    np.testing.assert_allclose(
        frequency_response_std(s_user, user, w).real,
        frequency_response_std(s, sc, w).real * np.outer(sy, 1 / su),
        rtol=1e-10,
    )
    np.testing.assert_allclose(user.noise_variance, sc.noise_variance * sy**2)
    assert len(sc.names) == 16 and sc.names[4] == "B[0,0]" and sc.names[-1] == "D[1,1]"
    with pytest.raises(ParameterError, match="StateSpaceSystem"):
        state_space_covariance(CanonicalSystem([-0.5], [1.0]), u[:, 0], y[:, 0])
    with pytest.raises(DataError, match="expected \\(16, 16\\)"):
        frequency_response_std(s, np.eye(9), w)
    with pytest.raises(DataError, match="do not exceed"):
        state_space_covariance(s, u[:5], y[:5])
