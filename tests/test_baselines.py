"""Classic baselines: exact recovery without noise, consistency with noise, input checks."""

from __future__ import annotations

import time
import tracemalloc

import numpy as np
import pytest
from scipy import signal

from learnlds import baselines as bl
from learnlds.errors import DataError, ParameterError, UnsupportedShapeError
from learnlds.systems import CanonicalSystem


def rel_impulse_error(model: CanonicalSystem, truth: CanonicalSystem, k: int = 200) -> float:
    r = truth.markov(k)
    return float(np.linalg.norm(model.markov(k) - r) / np.linalg.norm(r))


@pytest.fixture(scope="module")
def truth() -> CanonicalSystem:
    # poles within 0.7 so a 60-tap FIR truncation is below 1e-9 for Ho-Kalman
    return CanonicalSystem.random_stable(4, 0.7, np.random.default_rng(3), d=0.5)


@pytest.fixture(scope="module")
def noiseless(truth):
    u = np.random.default_rng(4).normal(size=3000)
    return u, truth.simulate(u)


# --------------------------------------------------------------------------- exact recovery
def test_arx_recovers_system_with_direct_term(truth, noiseless):
    u, y = noiseless
    n = truth.order
    model = bl.arx(u, y, na=n, nb=n + 1, nk=0)  # nb counts coefficients: b_0..b_n
    assert isinstance(model, CanonicalSystem)
    assert model.order == n
    assert rel_impulse_error(model, truth) < 1e-8
    assert model.d == pytest.approx(0.5, abs=1e-10)


def test_arx_strictly_proper_with_delay():
    truth = CanonicalSystem.random_stable(3, 0.8, np.random.default_rng(5))  # d = 0
    u = np.random.default_rng(6).normal(size=800)
    y = truth.simulate(u)
    model = bl.arx(u, y, na=3, nb=3, nk=1)
    assert rel_impulse_error(model, truth) < 1e-8
    assert model.method == "arx"


def test_arx_matches_lfilter_convention():
    """``A(q) y = B(q) u``: data from lfilter(b, a) is fitted back to (b, a)."""
    b = np.array([0.0, 0.0, 1.0, 0.5])  # nk = 2, nb = 2
    a = np.array([1.0, -0.5, 0.06])
    u = np.random.default_rng(7).normal(size=500)
    y = signal.lfilter(b, a, u)
    model = bl.arx(u, y, na=2, nb=2, nk=2)
    assert model.order == 3  # max(na, nk + nb - 1)
    imp = np.zeros(30)
    imp[0] = 1.0
    np.testing.assert_allclose(model.markov(30), signal.lfilter(b, a, imp), atol=1e-10)
    np.testing.assert_allclose(model.simulate(u), y, atol=1e-9)


def test_ho_kalman_recovers_and_exposes_hankel_singular_values(truth, noiseless):
    u, y = noiseless
    model = bl.ho_kalman(u, y, truth.order, horizon=60)
    assert rel_impulse_error(model, truth) < 1e-8
    hsv = model.hankel_singular_values
    assert hsv is not None and hsv.ndim == 1
    # a clear gap after the true order
    assert hsv[truth.order - 1] > 1e6 * hsv[truth.order]
    A, B, C, D = model.info["state_space"]
    assert A.shape == (4, 4) and D[0, 0] == pytest.approx(0.5)


def test_n4sid_recovers_system_and_d(truth, noiseless):
    u, y = noiseless
    model = bl.n4sid(u, y, truth.order)
    assert rel_impulse_error(model, truth) < 1e-8
    assert float(model.d) == pytest.approx(0.5, abs=1e-9)
    sv = model.hankel_singular_values
    assert sv[truth.order - 1] > 1e6 * sv[truth.order]


def test_oe_recovers_from_a_poor_start(truth, noiseless):
    u, y = noiseless
    start = CanonicalSystem(truth.a * 0.7, truth.c * 1.2, 0.3)
    model = bl.oe(u, y, truth.order, init=start)
    assert rel_impulse_error(model, truth) < 1e-8
    assert model.is_stable()


def test_oe_default_init_and_arx_init(truth, noiseless):
    u, y = noiseless
    for init in (None, "arx"):
        model = bl.oe(u, y, truth.order, init=init)
        assert rel_impulse_error(model, truth) < 1e-8


def test_high_order_paper_system_noiseless():
    truth = CanonicalSystem.random_stable(20, 0.95, np.random.default_rng(0))
    u = np.random.default_rng(1).normal(size=4000)
    y = truth.simulate(u)
    assert rel_impulse_error(bl.n4sid(u, y, 20), truth) < 1e-8
    assert rel_impulse_error(bl.arx(u, y, 20, 21, 0), truth) < 1e-8


# --------------------------------------------------------------------------- consistency
@pytest.mark.parametrize("method", ["n4sid", "oe", "ho_kalman"])
def test_error_falls_with_T_under_output_noise(truth, method):
    rng = np.random.default_rng(11)
    errs = []
    for T in (2_000, 50_000):
        u = rng.normal(size=T)
        y = truth.simulate(u, noise_std=0.3, random_state=rng)
        errs.append(rel_impulse_error(getattr(bl, method)(u, y, truth.order), truth))
    assert errs[1] < errs[0] / 2
    assert errs[1] < 0.01


def test_arx_consistent_under_equation_error_noise():
    """ARX is consistent when the noise enters as ``e / A(q)`` (its own noise model)."""
    truth = CanonicalSystem.random_stable(3, 0.8, np.random.default_rng(12), d=0.2)
    num, den = truth.to_tf()
    rng = np.random.default_rng(13)
    errs = []
    for T in (2_000, 50_000):
        u = rng.normal(size=T)
        y = signal.lfilter(num, den, u) + signal.lfilter([1.0], den, 0.3 * rng.normal(size=T))
        errs.append(rel_impulse_error(bl.arx(u, y, 3, 4, 0), truth))
    assert errs[1] < errs[0] / 2
    assert errs[1] < 0.01


def test_n4sid_memory_is_linear_in_T():
    """At T = 2e5 a T x T matrix would need 320 GB; n4sid stays within a few copies of the data."""
    truth = CanonicalSystem.random_stable(3, 0.8, np.random.default_rng(14), d=0.1)
    rng = np.random.default_rng(15)
    T = 200_000
    u = rng.normal(size=T)
    y = truth.simulate(u, noise_std=0.1, random_state=rng)
    tracemalloc.start()
    t0 = time.perf_counter()
    model = bl.n4sid(u, y, 3)
    elapsed = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 40 * u.nbytes  # O(n T) regressors, never O(T^2)
    assert elapsed < 20
    assert rel_impulse_error(model, truth) < 0.01


def test_n4sid_keeps_model_stable_with_spurious_poles():
    truth = CanonicalSystem.random_stable(20, 0.95, np.random.default_rng(0))
    rng = np.random.default_rng(0)
    rng.normal(size=20)
    u = rng.normal(size=1500)
    y = truth.simulate(u, noise_std=0.5, random_state=rng)
    model = bl.n4sid(u, y, 20)
    assert model.is_stable()
    assert np.all(np.isfinite(model.markov(100)))


# --------------------------------------------------------------------------- interface
def test_models_expose_the_learned_model_interface(truth, noiseless):
    u, y = noiseless
    for model in (
        bl.arx(u, y, 4, 5, 0),
        bl.ho_kalman(u, y, 4),
        bl.n4sid(u, y, 4),
        bl.oe(u, y, 4),
    ):
        assert isinstance(model, bl.IdentifiedSystem)
        assert model.order == 4
        A, B, C, D = model.to_state_space()
        assert A.shape == (4, 4) and B.shape == (4, 1) and C.shape == (1, 4)
        w = np.linspace(0, np.pi, 7)
        np.testing.assert_allclose(
            model.frequency_response(w), truth.frequency_response(w), atol=1e-7
        )
        np.testing.assert_allclose(model.simulate(u[:100]), y[:100], atol=1e-7)
        assert model.method in repr(model)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("method", ["arx", "ho_kalman", "n4sid", "oe"])
def test_bad_input_errors(method):
    rng = np.random.default_rng(20)
    u = rng.normal(size=400)
    y = rng.normal(size=400)

    def call(uu, yy, order=2):
        if method == "arx":
            return bl.arx(uu, yy, order, order)
        return getattr(bl, method)(uu, yy, order)

    bad = u.copy()
    bad[5] = np.nan
    with pytest.raises(DataError, match="NaN"):
        call(bad, y)
    with pytest.raises(DataError, match="lengths differ"):
        call(u, y[:-1])
    with pytest.raises(DataError, match="constant"):
        call(np.ones(400), y)
    with pytest.raises(DataError, match="too short|too large"):
        call(u[:6], y[:6])
    with pytest.raises(DataError, match="too short|too large"):
        call(u, y, order=150)
    with pytest.raises(UnsupportedShapeError, match=f"^{method}: single-input"):
        call(u.reshape(200, 2), y[:200])  # a (T, 2) record has two inputs
    with pytest.raises(UnsupportedShapeError, match=f"^{method}"):
        call(u.reshape(20, 20), y.reshape(20, 20))  # never read as sequences
    model = call(u[:, None], y[:, None])  # a (T, 1) column is one SISO record
    assert model.is_siso


def test_bad_orders_and_init():
    u = np.random.default_rng(21).normal(size=300)
    with pytest.raises(ParameterError, match="^na"):
        bl.arx(u, u, -1, 2)
    with pytest.raises(ParameterError, match="^order"):
        bl.n4sid(u, u, 0)
    with pytest.raises(ParameterError, match="^horizon"):
        bl.ho_kalman(u, u, 3, horizon=5)
    with pytest.raises(ParameterError, match="^init"):
        bl.oe(u, u, 2, init="magic")
    with pytest.raises(ParameterError, match="^init"):
        bl.oe(u, u, 2, init=CanonicalSystem([0.1], [1.0]))


@pytest.mark.parametrize(
    "call,name",
    [
        (lambda u: bl.arx(u, u, 2, 2.5), "nb"),
        (lambda u: bl.arx(u, u, 2, 2, nk=-1), "nk"),
        (lambda u: bl.arx(u, u, True, 2), "na"),
        (lambda u: bl.fir_markov(u, u, 0), "horizon"),
        (lambda u: bl.ho_kalman(u, u, 2.0), "order"),
        (lambda u: bl.ho_kalman(u, u, 2, stable="yes"), "stable"),
        (lambda u: bl.n4sid(u, u, 2, horizon=2), "horizon"),
        (lambda u: bl.n4sid(u, u, 2, estimate_x0=1), "estimate_x0"),
        (lambda u: bl.oe(u, u, 2, max_nfev=0), "max_nfev"),
        (lambda u: bl.oe(u, u, 2, direct=None), "direct"),
    ],
)
def test_every_argument_is_checked(call, name):
    u = np.random.default_rng(22).normal(size=300)
    with pytest.raises(ParameterError, match=f"^{name}"):
        call(u)


def test_fir_markov_and_oe_without_direct_term(truth, noiseless):
    u, y = noiseless
    r = bl.fir_markov(u, y, 40)
    np.testing.assert_allclose(r, truth.markov(40), atol=1e-6)
    strict = CanonicalSystem.random_stable(3, 0.8, np.random.default_rng(5))  # d = 0
    ys = strict.simulate(u)
    model = bl.oe(u, ys, 3, direct=False)
    assert rel_impulse_error(model, strict) < 1e-8 and float(model.d) == 0.0


def test_ho_kalman_does_not_blow_up_on_coloured_input():
    """Flutter's input is highly coloured: the FIR step is GCV-regularised, so ERA gets
    sane Markov parameters (plain least squares gave validation fits of -1e6 %)."""
    from learnlds.datasets import load_daisy
    from learnlds.validate import fit_percent, split_centred

    ue, ye, uv, yv = split_centred(*_siso(load_daisy("flutter")))
    for order in (2, 3):
        model = bl.ho_kalman(ue, ye, order)
        assert model.is_stable() and fit_percent(yv, model.simulate(uv)) > -50
    ue, ye, uv, yv = split_centred(*_siso(load_daisy("ballbeam")))
    assert fit_percent(yv, bl.ho_kalman(ue, ye, 3).simulate(uv)) > 25


def _siso(data):
    return data.u1, data.y1
