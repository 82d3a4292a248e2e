"""Validation numerics (fit %, residual analysis, compare) and the validation figures."""

from __future__ import annotations

import warnings

import matplotlib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from learnlds import LDSRegressor, plots
from learnlds import baselines as bl
from learnlds.errors import DataError, ParameterError
from learnlds.systems import CanonicalSystem
from learnlds.validate import (
    ResidualAnalysis,
    as_named_models,
    channel_fits,
    compare,
    fit_percent,
    holdout,
    residual_analysis,
)

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def truth() -> CanonicalSystem:
    return CanonicalSystem.random_stable(4, 0.8, np.random.default_rng(0), d=0.3)


@pytest.fixture(scope="module")
def data(truth):
    rng = np.random.default_rng(1)
    u_est, u_val = rng.normal(size=4000), rng.normal(size=4000)
    y_est = truth.simulate(u_est, noise_std=0.1, random_state=rng)
    y_val = truth.simulate(u_val, noise_std=0.1, random_state=rng)
    return u_est, y_est, u_val, y_val


# --------------------------------------------------------------------------- fit percent
def test_fit_percent_by_hand():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    yhat = np.array([1.0, 2.0, 2.0, 5.0])
    # ||y - yhat|| = sqrt(2); ||y - 2.5|| = sqrt(2.25 + .25 + .25 + 2.25) = sqrt(5)
    assert fit_percent(y, yhat) == pytest.approx(100 * (1 - np.sqrt(2) / np.sqrt(5)))
    assert fit_percent(y, y) == 100.0
    assert fit_percent(y, np.full(4, 2.5)) == pytest.approx(0.0)
    assert fit_percent(y, -y) < 0


def test_fit_percent_batch_scored_as_a_whole():
    y = np.array([[1.0, 2.0], [3.0, 4.0]])
    yhat = np.array([[1.0, 2.0], [3.0, 3.0]])
    expected = 100 * (1 - 1.0 / np.sqrt(5.0))  # global mean 2.5
    assert fit_percent(y, yhat, sequences=True) == pytest.approx(expected)
    assert fit_percent(y, yhat, sequences=True) == pytest.approx(
        fit_percent(y.ravel(), yhat.ravel())
    )


def test_fit_percent_of_a_record_averages_its_outputs():
    """(T, p) is one record: each output scored on its own, then averaged (the protocol)."""
    rng = np.random.default_rng(0)
    y = rng.normal(size=(50, 2)) * [1.0, 100.0]
    yhat = y + rng.normal(size=(50, 2)) * [0.1, 50.0]
    per = fit_percent(y, yhat, multioutput="raw_values")
    assert per == pytest.approx(
        [fit_percent(y[:, 0], yhat[:, 0]), fit_percent(y[:, 1], yhat[:, 1])]
    )
    assert fit_percent(y, yhat) == pytest.approx(per.mean())


def test_holdout_is_the_protocol(truth):
    """Against an independent computation: halves centred on their own means, zero state."""
    from learnlds import LDSRegressor
    from learnlds.validate import holdout

    rng = np.random.default_rng(5)
    u = rng.normal(size=1200) + 3.0
    y = truth.simulate(u) + 0.05 * rng.normal(size=1200) + 7.0
    res = holdout(truth, u, y, split=0.25)
    ue, ye, uv, yv = u[:300], y[:300], u[300:], y[300:]
    for (uu, yy), fit, yhat in (
        ((ue, ye), res.estimation_fit, res.yhat_estimation),
        ((uv, yv), res.validation_fit, res.yhat_validation),
    ):
        sim = truth.simulate(uu - uu.mean())
        np.testing.assert_allclose(yhat, sim)
        assert fit == pytest.approx(fit_percent(yy - yy.mean(), sim))
    assert res.split_index == 300
    np.testing.assert_allclose(res.residuals_validation, (yv - yv.mean()) - res.yhat_validation)
    fitted = holdout(LDSRegressor(order=truth.order), u, y)
    assert fitted.model.system_.order == truth.order and fitted.validation_fit > 90
    sep = holdout(truth, u[:600], y[:600], validation=(u[600:], y[600:]))
    assert sep.split_index == 600


def test_holdout_errors(truth):
    from learnlds.errors import DataError, ParameterError
    from learnlds.validate import holdout

    u = np.random.default_rng(0).normal(size=100)
    with pytest.raises(ParameterError, match="split"):
        holdout(truth, u, truth.simulate(u), split=1.5)
    with pytest.raises(ParameterError, match="model"):
        holdout(object(), u, truth.simulate(u))
    with pytest.raises(DataError, match="lengths differ"):
        holdout(truth, u, u[:50])


def test_fit_percent_errors():
    with pytest.raises(ValueError, match="shapes differ"):
        fit_percent(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="shapes differ"):
        fit_percent(np.ones((3, 2)), np.ones(3))  # two channels are not one
    with pytest.raises(ValueError, match="shapes differ"):
        fit_percent(np.ones((1, 3)), np.ones(3))
    with pytest.raises(ValueError, match="constant"):
        fit_percent(np.ones(3), np.zeros(3))
    with pytest.raises(ValueError, match="NaN"):
        fit_percent([1.0, np.nan], [1.0, 2.0])


def test_fit_percent_of_a_one_column_output_and_its_prediction():
    """``predict`` drops a single output's axis, so a model fitted on ``(T, 1)`` outputs
    is scored against them as they are (it was refused: shapes differ)."""
    rng = np.random.default_rng(4)
    u = rng.normal(size=300)
    y = CanonicalSystem([-0.5], [1.0]).simulate(u)[:, None] + 0.1 * rng.normal(size=(300, 1))
    yhat = LDSRegressor(order=1).fit(u, y).predict(u)
    assert yhat.shape == (300,)
    want = fit_percent(y[:, 0], yhat)
    assert fit_percent(y, yhat) == want
    assert fit_percent(yhat[:, None], y[:, 0]) == fit_percent(yhat, y[:, 0])
    assert fit_percent(y[None], yhat[None], sequences=True) == want


def test_channel_fits_follows_the_layout_rule():
    """The public per-channel fit reads records and batches as ``fit_percent`` does (it
    took canonical ``(N, T, p)`` arrays unchecked: a ``(T, p)`` record raised TypeError)."""
    rng = np.random.default_rng(5)
    y = rng.normal(size=(200, 2))
    yhat = y + 0.1 * rng.normal(size=y.shape)
    fits = channel_fits(y, yhat)
    assert fits.shape == (2,)
    for k in range(2):
        assert fits[k] == pytest.approx(fit_percent(y[:, k], yhat[:, k]))
    assert np.allclose(channel_fits(y[None], yhat[None], sequences=True), fits)
    assert channel_fits(y[:, :1], yhat[:, 0]).shape == (1,)
    with pytest.raises(DataError, match="shapes differ"):
        channel_fits(y, yhat[:, 0])
    with pytest.raises(DataError, match="NaN"):
        channel_fits(np.where(y > 2.5, np.nan, y), yhat)


@pytest.mark.parametrize("scale", [1e-200, 1e-30, 1.0, 1e30, 1e200])
def test_fit_percent_does_not_depend_on_the_units(scale):
    """Squares of 1e-200 underflowed to 0 ('constant output') and of 1e200 overflowed to
    inf (a NaN fit); the norms are now taken of values divided by the channel's peak."""
    y = np.sin(np.arange(50.0)) + np.arange(50.0) / 25
    yhat = y + 0.1 * np.cos(3 * np.arange(50.0))
    expected = 100 * (1 - np.linalg.norm(y - yhat) / np.linalg.norm(y - y.mean()))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = fit_percent(scale * y, scale * yhat)
    assert got == pytest.approx(expected, rel=1e-12)


# --------------------------------------------------------------------------- residuals
def test_residual_analysis_passes_true_order_and_flags_under_order(truth, data):
    u, y, uv, yv = data
    good = residual_analysis(bl.oe(u, y, truth.order), uv, yv)
    assert good.passed and good.whiteness_ok and good.independence_ok
    under = residual_analysis(bl.oe(u, y, 1), uv, yv)
    assert not under.passed
    assert not under.independence_ok  # residuals still carry the input's dynamics
    assert under.independence_stat > 10 * under.independence_threshold


def test_residual_analysis_on_true_system_and_white_noise(truth, data):
    u, y, uv, yv = data
    res = residual_analysis(truth, uv, yv, max_lag=20)
    assert res.passed
    assert res.lags.shape == (21,) and res.autocorr[0] == pytest.approx(1.0)
    assert res.cross_lags.shape == (41,) and res.crosscorr.shape == (41,)
    assert res.auto_bound == pytest.approx(2.5758 / np.sqrt(4000), rel=1e-3)
    # the same analysis from the residual array directly
    res2 = residual_analysis(yv - truth.simulate(uv), uv, max_lag=20)
    np.testing.assert_allclose(res2.autocorr, res.autocorr)
    assert res2.passed


def test_residual_analysis_flags_coloured_residuals():
    rng = np.random.default_rng(2)
    u = rng.normal(size=3000)
    e = np.convolve(rng.normal(size=3000), [1.0, 0.8, 0.5], mode="same")
    res = residual_analysis(e, u)
    assert not res.whiteness_ok
    assert res.independence_ok


def test_residual_analysis_errors(truth):
    u = np.random.default_rng(3).normal(size=200)
    with pytest.raises(ValueError, match="y"):
        residual_analysis(truth, u)
    with pytest.raises(ValueError, match="lengths differ"):
        residual_analysis(np.ones(199), u)
    with pytest.raises(ValueError, match="max_lag"):
        residual_analysis(u, u, max_lag=0)
    with pytest.raises(ValueError, match="too short"):
        residual_analysis(u[:40], u[:40], max_lag=25)
    with pytest.raises(ValueError, match="constant"):
        residual_analysis(u, np.ones(200))


# --------------------------------------------------------------------------- compare
def test_compare_returns_simulations_and_fits(truth, data):
    u, y, uv, yv = data
    models = {"true": truth, "oe": bl.oe(u, y, 4), "first order": bl.oe(u, y, 1)}
    out = compare(models, uv, yv)
    assert set(out) == set(models)
    yhat, fit = out["true"]
    np.testing.assert_allclose(yhat, truth.simulate(uv))
    assert fit == pytest.approx(fit_percent(yv, yhat))
    assert out["oe"][1] > 90 and out["first order"][1] < out["oe"][1]


def test_as_named_models_uses_method_names(truth):
    u = np.random.default_rng(4).normal(size=500)
    y = truth.simulate(u)
    names = as_named_models([bl.arx(u, y, 4, 5, 0), bl.n4sid(u, y, 4), truth])
    assert list(names) == ["arx", "n4sid", "CanonicalSystem"]
    assert list(as_named_models(truth)) == ["CanonicalSystem"]
    with pytest.raises(ValueError, match="no simulate"):
        as_named_models({"bad": 3})


# --------------------------------------------------------------------------- plots
def test_compare_plot_draws_measured_and_each_model(truth, data):
    u, y, uv, yv = data
    fig = plots.compare_plot({"true": truth, "oe1": bl.oe(u, y, 1)}, uv, yv, dt=0.1)
    ax = fig.axes[0]
    assert len(ax.lines) == 3
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0] == "measured" and "fit" in labels[1]
    assert ax.get_xlabel() == "time [s]"
    np.testing.assert_allclose(ax.lines[0].get_ydata(), yv)


def test_bode_plot_units_and_values(truth):
    other = truth.with_params(d=0.0)
    fig = plots.bode_plot([truth, other])
    ax_m, ax_p = fig.axes
    assert len(ax_m.lines) == 2 and len(ax_p.lines) == 2
    assert "rad/sample" in ax_p.get_xlabel()
    w = ax_m.lines[0].get_xdata()
    np.testing.assert_allclose(
        ax_m.lines[0].get_ydata(), 20 * np.log10(np.abs(truth.frequency_response(w)))
    )
    assert w.max() == pytest.approx(np.pi)

    fig = plots.bode_plot(truth, dt=0.08)
    ax_m, ax_p = fig.axes
    assert "rad/s" in ax_p.get_xlabel() and "sample" not in ax_p.get_xlabel()
    assert ax_m.lines[0].get_xdata().max() == pytest.approx(np.pi / 0.08)

    with pytest.raises(ValueError, match="dt"):
        plots.bode_plot(truth, dt=-1.0)


def test_step_and_impulse_plots(truth):
    fig = plots.step_plot({"a": truth, "b": truth.with_params(d=0.0)}, length=50)
    ax = fig.axes[0]
    assert len([ln for ln in ax.lines if ln.get_label() in ("a", "b")]) == 2
    np.testing.assert_allclose(ax.lines[0].get_ydata(), truth.simulate(np.ones(50)))

    fig = plots.impulse_plot(truth, length=30, dt=0.5)
    ax = fig.axes[0]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), truth.markov(30))
    assert ax.lines[0].get_xdata()[-1] == pytest.approx(29 * 0.5)


def test_residual_plot(truth, data):
    u, y, uv, yv = data
    res = residual_analysis(bl.oe(u, y, 1), uv, yv, max_lag=15)
    assert isinstance(res, ResidualAnalysis)
    fig = plots.residual_plot(res)
    ax1, ax2 = fig.axes
    assert "FAILED" in ax2.get_title()
    assert len(ax1.collections) >= 2 and len(ax2.lines) >= 1

    fig = plots.residual_plot(truth, uv, yv, max_lag=10)
    assert "ok" in fig.axes[0].get_title()

    with pytest.raises(ValueError, match="u"):
        plots.residual_plot(truth)


def test_compare_with_estimated_initial_state_is_labelled(truth):
    """x0='estimate' removes an initial transient, and the result's name says so."""
    rng = np.random.default_rng(9)
    u = rng.normal(size=300)
    from learnlds.statespace import StateSpaceSystem

    ss = StateSpaceSystem.from_canonical(truth)
    y = ss.simulate(u, x0=np.full(truth.order, 5.0))
    zero = compare({"m": truth}, u, y)
    est = compare({"m": truth}, u, y, x0="estimate")
    assert list(est) == ["m (x0 estimated)"]
    assert est["m (x0 estimated)"][1] == pytest.approx(100.0, abs=1e-3)
    assert zero["m"][1] < 99.0


def test_compare_and_residual_analysis_take_fitted_estimators():
    """A fitted LDSRegressor is simulated as its predict (offsets included); an unfitted
    one is named as such instead of failing deep inside."""
    from learnlds import LDSRegressor
    from learnlds.errors import DataError
    from learnlds.errors import ParameterError as PE
    from learnlds.statespace import StateSpaceSystem, estimate_initial_state
    from learnlds.validate import compare, fit_percent, residual_analysis

    rng = np.random.default_rng(1)
    truth = CanonicalSystem([-1.2, 0.5], [1.0, 0.4], 0.1)
    u = 5.0 + rng.normal(size=800)
    y = 20.0 + truth.simulate(u - 5.0) + 0.05 * rng.normal(size=800)
    est = LDSRegressor(order=2).fit(u[:400], y[:400])
    uv, yv = u[400:], y[400:]
    res = compare({"lds": est}, uv, yv)
    assert res["lds"][1] == pytest.approx(fit_percent(yv, est.predict(uv)), abs=1e-9)
    assert list(compare([est], uv, yv)) == ["LDSRegressor"]
    ss = StateSpaceSystem.from_canonical(est.system_)
    uc, yc = uv - est.input_offset_[0], yv - est.output_offset_[0]
    by_hand = ss.simulate(uc, x0=estimate_initial_state(ss, uc, yc)) + est.output_offset_[0]
    est_x0 = compare({"lds": est}, uv, yv, x0="estimate")["lds (x0 estimated)"]
    np.testing.assert_allclose(est_x0[0], by_hand, atol=1e-9)
    assert est_x0[1] >= res["lds"][1] - 1e-9
    direct = residual_analysis(est, uv, yv)
    given = residual_analysis(yv - est.predict(uv), uv)
    np.testing.assert_allclose(direct.autocorr, given.autocorr, atol=1e-12)
    two = LDSRegressor(order=1).fit(rng.normal(size=(300, 2)), rng.normal(size=300))
    for x0 in ("zero", "estimate"):
        with pytest.raises(DataError, match="1 input channel"):
            compare({"two inputs": two}, uv, yv, x0=x0)  # never broadcast over 2 inputs
    with pytest.raises(PE, match="not fitted"):
        compare({"new": LDSRegressor()}, uv, yv)
    with pytest.raises(PE, match="not fitted"):
        residual_analysis(LDSRegressor(), uv, yv)


def test_holdout_keeps_the_centred_validation_inputs():
    """``u_validation`` is what ``yhat_validation`` was simulated from: the last part of
    the inputs, centred on its own means, in the user's layout."""
    truth = CanonicalSystem([-0.5], [1.0])
    u = np.random.default_rng(2).normal(size=(400, 1)) + 3.0
    res = holdout(truth, u[:, 0], truth.simulate(u[:, 0]))
    expected = u[200:, 0] - u[200:, 0].mean()
    np.testing.assert_allclose(res.u_validation, expected)
    np.testing.assert_allclose(res.yhat_validation, truth.simulate(expected))


def _tone(freq: float, amplitude: float, T: int, phase: float = 0.0) -> np.ndarray:
    return amplitude * np.sin(2 * np.pi * freq * np.arange(T) + phase)


def test_input_coverage_is_the_validation_power_share_in_the_estimation_band():
    """Two tones far apart: the share of the validation power in the estimation tone
    is ``a^2 / (a^2 + b^2)``, computed without spectra."""
    from learnlds.validate import input_coverage

    rng = np.random.default_rng(3)
    T = 4096
    ue = _tone(0.05, 1.0, T) + 1e-4 * rng.normal(size=T)
    for a, b in [(1.0, 0.0), (1.0, 1.0), (0.5, 2.0), (0.0, 1.0)]:
        uv = _tone(0.05, a, T, 0.3) + _tone(0.3, b, T, 1.1)
        want = a**2 / (a**2 + b**2)
        assert input_coverage(ue, uv)[0] == pytest.approx(want, abs=0.01)


@settings(max_examples=25, deadline=None)
@given(
    scale_e=st.floats(1e-6, 1e6),
    scale_v=st.floats(1e-6, 1e6),
    seed=st.integers(0, 1000),
)
def test_input_coverage_ignores_units_and_white_parts_cover_each_other(scale_e, scale_v, seed):
    from learnlds.validate import input_coverage

    rng = np.random.default_rng(seed)
    ue, uv = rng.normal(size=(800, 2)), rng.normal(size=(600, 2))
    base = input_coverage(ue, uv)
    assert np.all(base > 0.97)
    np.testing.assert_allclose(input_coverage(scale_e * ue, scale_v * uv), base, rtol=1e-9)


def test_input_coverage_edges_and_errors():
    from learnlds.validate import extrapolation_note, input_coverage

    rng = np.random.default_rng(5)
    u = rng.normal(size=500)
    assert np.isnan(input_coverage(u[:20], u[20:])[0])  # too short for a spectrum
    assert input_coverage(u, np.ones(300))[0] == 1.0  # a constant validation input
    assert input_coverage(np.ones(300), u)[0] == 0.0  # nothing excited before
    seq = input_coverage(rng.normal(size=(3, 200)), rng.normal(size=(2, 300)), sequences=True)
    assert seq.shape == (1,) and seq[0] > 0.9
    with pytest.raises(DataError, match="input channel"):
        input_coverage(rng.normal(size=(300, 2)), rng.normal(size=300))
    with pytest.raises(ParameterError, match="level"):
        input_coverage(u, u, level=1.5)
    note = extrapolation_note([0.9, 0.2], ["flow", "heat"])
    assert "heat has 80 %" in note and "flow" not in note
    assert extrapolation_note([np.nan], ["u"]) is None


def test_holdout_reports_that_flutter_validates_an_extrapolation():
    """DaISy's flutter halves excite different bands (estimation input 98 % of its power
    below 0.075 cycles per sample, validation 82 % between 0.075 and 0.11); the dryer's
    PRBS halves excite the same one."""
    from learnlds.datasets import load_daisy

    flutter, dryer = load_daisy("flutter"), load_daisy("dryer")
    truth = CanonicalSystem([-0.5], [1.0])
    low = holdout(truth, flutter.u1, flutter.y1).input_coverage
    high = holdout(truth, dryer.u1, dryer.y1).input_coverage
    assert low.shape == (1,) and low[0] < 0.05 and high[0] > 0.9
