"""Export to and import from python-control and scipy.signal (issue 13).

Both directions are checked against the library's own simulation and frequency
response, with the other library doing its own simulation (``scipy.signal.dlsim``,
``control.forced_response``) and frequency evaluation.
"""

from __future__ import annotations

import builtins
import sys

import numpy as np
import pytest
from scipy import signal

from learnlds import CanonicalSystem
from learnlds.errors import DataError, ParameterError

W = np.linspace(0.01, np.pi - 0.01, 37)


def siso(order: int = 3, seed: int = 0, dt: float | None = 0.08) -> CanonicalSystem:
    return CanonicalSystem.random_stable(order, 0.9, random_state=seed, d=0.3).with_dt(dt)


def mimo(seed: int = 1, dt: float | None = 0.5) -> CanonicalSystem:
    gen = np.random.default_rng(seed)
    a = CanonicalSystem.random_stable(2, 0.8, random_state=seed).a
    return CanonicalSystem(a, gen.normal(size=(2, 2, 3)), gen.normal(size=(2, 3)), dt=dt)


def inputs(length: int, channels: int, seed: int = 5) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(length, channels))


# --------------------------------------------------------------------------- scipy.signal
@pytest.mark.parametrize("dt", [0.08, None])
def test_to_dlti_simulates_and_evaluates_like_the_model(dt):
    model = siso(dt=dt)
    lti = model.to_dlti()
    assert isinstance(lti, signal.dlti)
    assert lti.dt == (True if dt is None else dt)
    u = inputs(200, 1)[:, 0]
    _, y, _ = signal.dlsim(lti, u)
    np.testing.assert_allclose(y[:, 0], model.simulate(u), atol=1e-12)
    _, resp = signal.dfreqresp(lti, w=W)
    np.testing.assert_allclose(resp, model.frequency_response(W), rtol=1e-10)


def test_to_dlti_mimo():
    model = mimo()
    u = inputs(120, 3)
    _, y, _ = signal.dlsim(model.to_dlti(), u)
    np.testing.assert_allclose(y, model.simulate(u), atol=1e-12)


@pytest.mark.parametrize("dt", [0.08, None])
def test_from_dlti_round_trips_and_accepts_every_representation(dt):
    model = siso(dt=dt)
    for lti in (model.to_dlti(), model.to_dlti().to_tf(), model.to_dlti().to_zpk()):
        back = CanonicalSystem.from_dlti(lti)
        assert back.dt == dt
        np.testing.assert_allclose(back.frequency_response(W), model.frequency_response(W))
        np.testing.assert_allclose(back.a, model.a, atol=1e-10)


def test_from_dlti_foreign_model_simulates_the_same():
    """A model built in scipy (not by learnlds) gives the same outputs after import."""
    num, den = signal.butter(3, 0.3)  # a discrete low-pass filter
    lti = signal.dlti(num, den, dt=0.01)
    model = CanonicalSystem.from_dlti(lti)
    assert model.dt == 0.01 and model.order == 3
    u = inputs(300, 1)[:, 0]
    np.testing.assert_allclose(model.simulate(u), signal.dlsim(lti, u)[1][:, 0], atol=1e-12)
    _, resp = signal.dfreqresp(lti, w=W)
    np.testing.assert_allclose(model.frequency_response(W), resp, rtol=1e-9)


def test_from_dlti_mimo_state_space_and_simo_tf():
    model = mimo()
    back = CanonicalSystem.from_dlti(model.to_dlti())
    assert back.dt == model.dt and (back.n_outputs, back.n_inputs) == (2, 3)
    np.testing.assert_allclose(back.frequency_response(W), model.frequency_response(W))
    simo = signal.dlti([[1.0, 0.5], [0.0, 2.0]], [1.0, -0.5], dt=0.2)  # two outputs
    got = CanonicalSystem.from_dlti(simo)
    u = inputs(50, 1)
    np.testing.assert_allclose(got.simulate(u), signal.dlsim(simo, u[:, 0])[1], atol=1e-12)


def test_from_dlti_refuses_what_it_cannot_take():
    with pytest.raises(ParameterError, match="continuous-time"):
        CanonicalSystem.from_dlti(signal.lti([1.0], [1.0, 1.0]))
    with pytest.raises(ParameterError, match="system"):
        CanonicalSystem.from_dlti(([1.0], [1.0, -0.5]))
    uncontrollable = signal.dlti(np.diag([0.5, 0.5]), [[1.0], [1.0]], [[1.0, 0.0]], [[0.0]])
    with pytest.raises(DataError, match="controllable"):
        CanonicalSystem.from_dlti(uncontrollable)


# --------------------------------------------------------------------------- python-control
def test_missing_control_names_the_extra(monkeypatch):
    real_import = builtins.__import__

    def no_control(name, *args, **kwargs):
        if name == "control" or name.startswith("control."):
            raise ModuleNotFoundError("No module named 'control'")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "control", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_control)
    with pytest.raises(ImportError, match=r'pip install "learnlds\[control\]"'):
        siso().to_control()
    with pytest.raises(ImportError, match="learnlds.control"):
        CanonicalSystem.from_control(object())


@pytest.fixture
def control():
    return pytest.importorskip("control")


@pytest.mark.parametrize("dt", [0.08, None])
def test_to_control_simulates_and_evaluates_like_the_model(control, dt):
    model = siso(dt=dt)
    ctl = model.to_control()
    assert isinstance(ctl, control.StateSpace) and ctl.isdtime(strict=True)
    assert ctl.dt == (True if dt is None else dt)
    u = inputs(200, 1)[:, 0]
    out = control.forced_response(ctl, U=u).outputs
    np.testing.assert_allclose(out, model.simulate(u), atol=1e-12)
    np.testing.assert_allclose(ctl(np.exp(1j * W)), model.frequency_response(W), rtol=1e-10)


def test_to_control_mimo(control):
    model = mimo()
    ctl = model.to_control()
    assert (ctl.noutputs, ctl.ninputs, ctl.dt) == (2, 3, 0.5)
    u = inputs(120, 3)
    out = control.forced_response(ctl, U=u.T).outputs
    np.testing.assert_allclose(out.T, model.simulate(u), atol=1e-12)
    resp = ctl(np.exp(1j * W))  # (p, m, len(W))
    np.testing.assert_allclose(np.moveaxis(resp, -1, 0), model.frequency_response(W))


@pytest.mark.parametrize("dt", [0.08, None])
def test_from_control_round_trips(control, dt):
    model = siso(dt=dt)
    for ctl in (model.to_control(), control.tf(model.to_control())):
        back = CanonicalSystem.from_control(ctl)
        assert back.dt == dt
        np.testing.assert_allclose(back.frequency_response(W), model.frequency_response(W))
        np.testing.assert_allclose(back.a, model.a, atol=1e-10)


def test_from_control_foreign_models_simulate_the_same(control):
    """Models written in python-control: a SISO tf, a MIMO ss, a MIMO tf."""
    g = control.tf([0.5, 0.2], [1.0, -1.2, 0.5], 0.1)
    model = CanonicalSystem.from_control(g)
    u = inputs(200, 1)[:, 0]
    np.testing.assert_allclose(model.simulate(u), control.forced_response(g, U=u).outputs)
    assert model.dt == 0.1

    ss = control.drss(4, 2, 3, strictly_proper=False)
    ss.dt = 0.05
    got = CanonicalSystem.from_control(ss)
    u3 = inputs(150, 3)
    want = control.forced_response(ss, U=u3.T).outputs.T
    np.testing.assert_allclose(got.simulate(u3), want, atol=1e-9)

    h = control.tf(
        [[[1.0], [1.0, 0.0]], [[0.3, 0.1], [2.0]]],
        [[[1.0, -0.5], [1.0, -0.2]], [[1.0, -0.5], [1.0, 0.4]]],
        True,
    )
    got = CanonicalSystem.from_control(h)
    assert got.dt is None and (got.n_outputs, got.n_inputs) == (2, 2)
    assert got.order == 3  # the distinct denominators (z - 0.5)(z - 0.2)(z + 0.4)
    u2 = inputs(100, 2)
    want = np.array(  # entry by entry: python-control simulates a MIMO tf only with slycot
        [
            sum(control.forced_response(h[o, i], U=u2[:, i]).outputs for i in range(2))
            for o in range(2)
        ]
    ).T
    np.testing.assert_allclose(got.simulate(u2), want, atol=1e-12)
    np.testing.assert_allclose(
        got.frequency_response(W), np.moveaxis(h(np.exp(1j * W)), -1, 0), rtol=1e-10
    )


def test_from_control_refuses_what_it_cannot_take(control):
    with pytest.raises(ParameterError, match="continuous-time"):
        CanonicalSystem.from_control(control.tf([1.0], [1.0, 1.0]))
    with pytest.raises(ParameterError, match="StateSpace or TransferFunction"):
        CanonicalSystem.from_control(siso().to_dlti())
    with pytest.raises(DataError, match="controllable"):
        CanonicalSystem.from_control(
            control.ss(np.diag([0.5, 0.5]), [[1.0], [1.0]], [[1.0, 0.0]], [[0.0]], 1.0)
        )


@pytest.mark.parametrize("dt", [0.25, None])
def test_state_space_system_exports_like_the_model(control, dt):
    """The README's exports hold for the MIMO default model (a StateSpaceSystem) too."""
    from learnlds.statespace import StateSpaceSystem

    rng = np.random.default_rng(3)
    A = np.diag([0.9, -0.4, 0.6])
    model = StateSpaceSystem(A, rng.normal(size=(3, 2)), rng.normal(size=(4, 3)), dt=dt)
    u = inputs(150, 2)
    lti = model.to_dlti()
    assert lti.dt == (True if dt is None else dt)
    np.testing.assert_allclose(signal.dlsim(lti, u)[1], model.simulate(u), atol=1e-12)
    ctl = model.to_control()
    assert (ctl.noutputs, ctl.ninputs, ctl.dt) == (4, 2, True if dt is None else dt)
    out = control.forced_response(ctl, U=u.T).outputs
    np.testing.assert_allclose(out.T, model.simulate(u), atol=1e-12)
    resp = np.moveaxis(ctl(np.exp(1j * W)), -1, 0)
    np.testing.assert_allclose(resp, model.frequency_response(W), rtol=1e-10)
    with pytest.raises(DataError, match="empty"):
        model.simulate(np.zeros((0, 2)))
