"""Input delay estimation (learnlds.delay) and ``LDSRegressor(input_delay='auto')``."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

from learnlds import LDSRegressor
from learnlds.delay import default_max_delay, estimate_delay
from learnlds.errors import DataError, ParameterError
from learnlds.statespace import StateSpaceSystem, with_input_delay

CORE = StateSpaceSystem([[1.5, -0.7], [1.0, 0.0]], [[1.0], [0.0]], [[0.5, 0.3]], [[0.2]])


def _record(delay, T=2000, noise=0.2, seed=0, colour=0.0, hold=1):
    rng = np.random.default_rng(seed)
    u = np.repeat(rng.normal(size=-(-T // hold)), hold)[:T]
    y = with_input_delay(CORE, delay).simulate(u)
    e = signal.lfilter([1.0], [1.0, -colour], rng.normal(size=T))
    return u, y + noise * y.std() * e / e.std()


@settings(max_examples=15, deadline=None)
@given(
    delay=st.integers(0, 12),
    seed=st.integers(0, 10_000),
    colour=st.sampled_from([0.0, 0.9]),
    hold=st.sampled_from([1, 3]),
)
def test_a_pure_dead_time_is_found(delay, seed, colour, hold):
    """White or coloured noise (30 % of the output), white or held inputs: the delay of
    a plant with direct feedthrough after its dead time is found exactly."""
    u, y = _record(delay, noise=0.3, seed=seed, colour=colour, hold=hold)
    assert estimate_delay(u, y).tolist() == [delay]


def test_each_input_gets_its_own_delay_and_never_more_than_the_truth():
    rng = np.random.default_rng(3)
    u = rng.normal(size=(4000, 3))
    y = np.zeros((4000, 2))
    y[2:, 0] += u[:-2, 0]
    y[5:, 1] += 0.7 * u[:-5, 1]
    y[9:, 0] += signal.lfilter([0.4], [1, -0.8], u[:, 2])[:-9]
    y[9:, 1] += 0.3 * u[:-9, 2]  # input 2 reaches output 1 first: its delay is 9
    y += 0.1 * rng.normal(size=y.shape)
    assert estimate_delay(u, y).tolist() == [2, 5, 9]


def test_inputs_too_poor_to_time_give_no_delay():
    """A 3-tone multisine satisfies a 6th-order recurrence: its lags cannot be told apart,
    and an input with no visible effect has nothing to time. Both: 0, never max_delay."""
    t = np.arange(3000.0)
    tones = np.sin(0.1 * t) + np.sin(0.5 * t + 1) + np.sin(1.3 * t + 2)
    y = with_input_delay(CORE, 5).simulate(tones)
    assert estimate_delay(tones, y + 0.01 * np.random.default_rng(0).normal(size=3000)) == [0]
    rng = np.random.default_rng(1)
    assert estimate_delay(rng.normal(size=3000), rng.normal(size=3000)).tolist() == [0]


def test_arguments_and_short_records():
    u, y = _record(3, T=400)
    assert default_max_delay(400) == 20 and default_max_delay(10_000) == 30
    assert estimate_delay(u, y, max_delay=0).tolist() == [0]
    with pytest.raises(DataError, match="40 samples .* too short to estimate an input delay"):
        estimate_delay(u[:40], y[:40])  # too short to test even one sample: not a silent 0
    with pytest.raises(DataError, match="too few to estimate delays up to 30"):
        estimate_delay(u[:100], y[:100], max_delay=30)
    with pytest.raises(ParameterError, match="alpha"):
        estimate_delay(u, y, alpha=1.5)
    with pytest.raises(DataError, match="constant"):
        estimate_delay(np.ones(400), y)
    seq_u, seq_y = u.reshape(2, 200), y.reshape(2, 200)
    assert estimate_delay(seq_u, seq_y, sequences=True).tolist() == [3]


def test_estimator_with_an_estimated_delay_recovers_a_low_order_model():
    """input_delay='auto': the dead time is estimated and kept (it fits better than no
    delay at order 2), so order 2 suffices; input_delay stays 'auto' for clones."""
    u, y = _record(6, T=3000, noise=0.1, seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = LDSRegressor(order=2, input_delay="auto").fit(u, y)
        plain = LDSRegressor(order=2).fit(u, y)
    assert est.input_delay_.tolist() == [6] and est.get_params()["input_delay"] == "auto"
    assert est.system_.order == 2 + 6
    assert est.score(u, y) > 89 > plain.score(u, y) + 50  # noise: 10 % of the output
    truth = with_input_delay(CORE, 6).markov(30)
    assert np.linalg.norm(est.system_.markov(30) - truth) < 0.05 * np.linalg.norm(truth)


def test_estimator_keeps_no_delay_when_the_apparent_one_fits_worse():
    """A slow, oversampled plant: the response stays under the noise for many samples,
    so the test allows a long delay; the fit without it describes the data better and
    is kept."""
    A, B, C = [[0, 1, 0], [-1, -0.6, 1], [0, 0, -0.2]], [[0], [0], [0.2]], [[1, 0, 0]]
    Ad, Bd, Cd, Dd, _ = signal.cont2discrete(tuple(map(np.array, (A, B, C, [[0]]))), 0.05)
    rng = np.random.default_rng(0)
    u = np.repeat(rng.choice([-1.0, 1.0], size=75), 40)  # a PRBS held 40 samples
    y = StateSpaceSystem(Ad, Bd, Cd, Dd).simulate(u)
    e = signal.lfilter([1.0], [1.0, -0.9], rng.normal(size=y.size))
    y = y + 0.1 * y.std() * e / e.std()
    assert estimate_delay(u, y)[0] > 10  # the apparent dead time
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = LDSRegressor(order=3, input_delay="auto").fit(u, y)
    assert est.input_delay_.tolist() == [0] and est.system_.order == 3


def test_estimated_delay_is_refused_for_records_on_disk(tmp_path):
    u, y = _record(2, T=500)
    np.save(tmp_path / "u.npy", u)
    np.save(tmp_path / "y.npy", y)
    um, ym = np.load(tmp_path / "u.npy", mmap_mode="r"), np.load(tmp_path / "y.npy", mmap_mode="r")
    with pytest.raises(ParameterError, match="input_delay: not supported for records streamed"):
        LDSRegressor(input_delay="auto").fit(um, ym)


def test_cli_fit_estimates_the_delay_and_saves_it_in_the_model(tmp_path, capsys):
    from learnlds import cli
    from learnlds.modelfile import load

    u, y = _record(4, T=2000, noise=0.05, seed=7)
    path = tmp_path / "rec.csv"
    np.savetxt(path, np.column_stack([u, y]), delimiter=",", header="u,y", comments="")
    out = tmp_path / "m.json"
    args = ["fit", str(path), "--order", "2", "--input-delay", "auto", "--out", str(out)]
    assert cli.main(args) == 0
    assert "input delay (estimated, in samples): 4" in capsys.readouterr().err
    assert load(out).order == 2 + 4


def test_a_one_sample_delay_costs_no_second_fit(monkeypatch):
    """A strictly proper plant shows a delay of one sample (its D is zero); the fit
    without a delay covers it, so input_delay='auto' fits once and keeps none."""
    calls = []
    real = LDSRegressor._fit_state_space

    def counted(self, *args, **kwargs):
        calls.append(self.input_delay)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(LDSRegressor, "_fit_state_space", counted)
    proper = StateSpaceSystem([[0.8, 0.2], [0.0, 0.5]], [[1.0], [0.5]], [[1.0, -1.0]])
    u = np.random.default_rng(3).normal(size=2000)
    y = proper.simulate(u) + 0.05 * np.random.default_rng(4).normal(size=2000)
    assert estimate_delay(u, y).tolist() == [1]
    est = LDSRegressor(order=2, input_delay="auto").fit(u, y)
    assert est.input_delay_.tolist() == [0] and calls == [0] and est.system_.order == 2


@pytest.mark.parametrize("scale", [1e-200, 1e200])
def test_units_do_not_matter(scale):
    """The estimator's normalisation (peak first) is used: 1e200 data overflowed before."""
    u, y = _record(3, T=1500, noise=0.1, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert estimate_delay(scale * u, scale * y).tolist() == estimate_delay(u, y).tolist() == [3]
