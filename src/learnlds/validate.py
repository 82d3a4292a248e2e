"""Model validation: fit percentage, residual analysis and side-by-side comparison.

Pure numerics (numpy/scipy); the matching figures are in :mod:`learnlds.plots`.

* :func:`fit_percent` is the normalised root-mean-square fit used by MATLAB's
  ``compare``: ``100 (1 - ||y - yhat|| / ||y - mean(y)||)``.
* :func:`residual_analysis` is the classical whiteness and independence test
  (MATLAB's ``resid``, Ljung 1999 section 16.6): the residual autocorrelation and
  its cross-correlation with past inputs, each with 99 % bounds per lag and a
  portmanteau chi-square test at the same level for the yes/no verdict.
* :func:`compare` simulates several models from zero state on one record.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import linalg, signal, stats

from ._boundary import (
    IOArrays,
    as_float_array,
    as_io,
    channel_mismatch,
    check_choice,
    check_column_names,
    check_float,
    check_int,
)
from ._ss_kernels import ss_simulate
from .errors import DataError, ParameterError, UnsupportedShapeError
from .records import STREAM_BLOCK, _block, streaming_io
from .statespace import StateSpaceSystem, estimate_initial_state
from .systems import CanonicalSystem

_NOT_FINITE = (
    "model: its simulation is not finite on this record (the model is unstable); "
    "no fit can be reported"
)

__all__ = [
    "HoldoutResult",
    "ResidualAnalysis",
    "as_named_models",
    "channel_fits",
    "compare",
    "fit_percent",
    "holdout",
    "extrapolation_note",
    "holdout_fits",
    "input_coverage",
    "residual_analysis",
    "simulate_canonical",
    "split_centred",
]


def fit_percent(y: Any, yhat: Any, *, sequences: bool = False, multioutput: str = "average") -> Any:
    """Normalised fit ``100 (1 - ||y - yhat|| / ||y - mean(y)||)`` per output channel.

    100 is perfect, 0 is no better than the mean, and it may be negative. Data follow
    the library's layout rule: ``(T,)`` or ``(T, p)`` records, or with
    ``sequences=True`` ``(N, T)`` / ``(N, T, p)`` batches (each channel scored over all
    its sequences at once: one norm, one mean).

    Parameters
    ----------
    y : array_like
        Measured outputs.
    yhat : array_like
        Predicted outputs, same shape as ``y`` (a single channel may have its axis
        dropped in one of them, as ``LDSRegressor.predict`` does: ``(T,)`` with
        ``(T, 1)``).
    sequences : bool, default False
        Read the leading axis as the sequence index.
    multioutput : {'average', 'raw_values'}, default 'average'
        Average the per-channel fits (MATLAB's ``compare`` figure for several
        outputs) or return them all.

    Returns
    -------
    float or numpy.ndarray
        The fit percent (averaged), or one per output channel.

    Raises
    ------
    DataError
        Shapes differ, no samples, NaN/inf, or an output channel is constant.

    Examples
    --------
    >>> round(fit_percent([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 3.0]), 3)
    55.279
    """
    check_choice(multioutput, "multioutput", ("average", "raw_values"))
    ya, yh = _one_channel_alike(as_float_array(y, "y"), as_float_array(yhat, "yhat"))
    if ya.shape != yh.shape:
        raise DataError(f"y and yhat: shapes differ, y {ya.shape} vs yhat {yh.shape}")
    io = as_io(ya, yh, sequences=sequences)
    fits = _channel_fits(io.u, io.y)
    return fits if multioutput == "raw_values" else float(np.mean(fits))


def _one_channel_alike(ya: np.ndarray, yh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A one-channel ``(..., 1)`` array and its squeezed ``(...)`` twin (``predict``
    drops a single channel's axis) laid out alike; other pairs unchanged."""
    if ya.ndim == yh.ndim + 1 and ya.shape == yh.shape + (1,):
        return ya, yh[..., None]
    if yh.ndim == ya.ndim + 1 and yh.shape == ya.shape + (1,):
        return ya[..., None], yh
    return ya, yh


def _channel_fits(y3: np.ndarray, yhat3: np.ndarray) -> np.ndarray:
    """Fit percent of each channel of canonical ``(N, T, p)`` arrays, unchecked (the
    library's own scoring; users call :func:`channel_fits` or :func:`fit_percent`)."""
    centred = y3 - y3.mean(axis=(0, 1))
    peak = np.max(np.abs(centred), axis=(0, 1)) if centred.size else np.zeros(y3.shape[2])
    peak[peak == 0] = 1.0  # a constant channel: its spread is 0, refused by _percent
    # both sums of values divided by the channel's peak: no overflow or underflow in squares
    spread = np.sum((centred / peak) ** 2, axis=(0, 1))
    return _percent(np.sum(((y3 - yhat3) / peak) ** 2, axis=(0, 1)), spread)


def channel_fits(y: Any, yhat: Any, *, sequences: bool = False) -> np.ndarray:
    """Fit percent of each output channel (:func:`fit_percent` with ``'raw_values'``).

    Parameters
    ----------
    y, yhat : array_like
        Measured and predicted outputs in the library's layout (``(T,)``, ``(T, p)``;
        with ``sequences=True`` ``(N, T)``, ``(N, T, p)``).
    sequences : bool, default False
        Read the leading axis as the sequence index.

    Returns
    -------
    numpy.ndarray
        ``(p,)`` fit percentages.

    Raises
    ------
    DataError
        Shapes differ, no samples, NaN/inf, or an output channel is constant.

    Examples
    --------
    >>> y = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]])
    >>> channel_fits(y, y)
    array([100., 100.])
    """
    return fit_percent(y, yhat, sequences=sequences, multioutput="raw_values")


def _percent(error: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """Fit percent per channel from the sums of squares of the error and of the centred
    output (both in the same units); a channel with no spread has no fit percent."""
    if np.any(spread == 0):
        k = int(np.flatnonzero(spread == 0)[0])
        raise DataError(f"y: output channel {k} is constant, the fit percentage is undefined")
    return 100.0 * (1.0 - np.sqrt(error / spread))


@dataclass(frozen=True)
class ResidualAnalysis:
    """Result of :func:`residual_analysis`: correlations, bounds and the two verdicts.

    Parameters
    ----------
    residuals : numpy.ndarray
        The residuals ``e`` (mean removed).
    lags, autocorr : numpy.ndarray
        Lags ``0..max_lag`` and the normalised autocorrelation (``autocorr[0] = 1``).
    auto_bound : float
        Per-lag bound of the autocorrelation at ``confidence``.
    cross_lags, crosscorr : numpy.ndarray
        Lags ``-max_lag..max_lag`` and the normalised correlation of ``e_t`` with
        ``u_{t - cross_lags[j]}`` (positive lags: past inputs).
    cross_bound : float
        Per-lag bound of the cross-correlation.
    whiteness_stat, whiteness_threshold : float
        Portmanteau statistic of the autocorrelation and its chi-square quantile.
    independence_stat, independence_threshold : float
        Portmanteau statistic of the cross-correlation and its chi-square quantile.
    confidence : float
        The level of the bounds and tests.

    Examples
    --------
    >>> e = np.random.default_rng(0).normal(size=500)
    >>> u = np.random.default_rng(1).normal(size=500)
    >>> residual_analysis(e, u).whiteness_ok
    True
    """

    residuals: np.ndarray
    lags: np.ndarray
    autocorr: np.ndarray
    auto_bound: float
    cross_lags: np.ndarray
    crosscorr: np.ndarray
    cross_bound: float
    whiteness_stat: float
    whiteness_threshold: float
    independence_stat: float
    independence_threshold: float
    confidence: float

    @property
    def whiteness_ok(self) -> bool:
        return bool(self.whiteness_stat <= self.whiteness_threshold)

    @property
    def independence_ok(self) -> bool:
        return bool(self.independence_stat <= self.independence_threshold)

    @property
    def passed(self) -> bool:
        """Both tests pass: residuals look white and uncorrelated with past inputs."""
        return self.whiteness_ok and self.independence_ok


def _xcorr(a: np.ndarray, b: np.ndarray, max_lag: int) -> np.ndarray:
    """``c[j] = (1/T) sum_t a_t b_{t - j}`` for ``j = -max_lag..max_lag`` (direct, O(T max_lag))."""
    T = a.size
    out = np.empty(2 * max_lag + 1)
    for j in range(-max_lag, max_lag + 1):  # loop over lags, not time
        out[j + max_lag] = a[j:] @ b[: T - j] / T if j >= 0 else a[: T + j] @ b[-j:] / T
    return out


def residual_analysis(
    model_or_residuals: Any,
    u: Any,
    y: Any = None,
    max_lag: int = 25,
    *,
    confidence: float = 0.99,
) -> ResidualAnalysis:
    """Whiteness of the residuals and their independence from past inputs (SISO).

    Per-lag bounds: ``z / sqrt(T)`` for the
    autocorrelation and ``z sqrt(sum_k rho_e(k) rho_u(k)) / sqrt(T)`` for the
    cross-correlation (valid for coloured inputs). Verdicts use portmanteau tests
    at the same confidence: ``T sum_{k=1}^{M} rho_e(k)^2 ~ chi2(M)`` and
    ``T r^T R_u^{-1} r ~ chi2(M + 1)`` over lags ``0..M`` (Ljung's cross test), so a
    single lag grazing its bound by chance does not fail the model.

    Parameters
    ----------
    model_or_residuals : system, fitted estimator or array_like
        A model with ``simulate`` or a fitted estimator (residual ``y - simulation``,
        the output-error residual from zero state; an estimator's offsets applied as
        its ``predict`` does) or the ``(T,)`` residuals themselves.
    u : array_like
        The ``(T,)`` input record.
    y : array_like, optional
        The measured ``(T,)`` output (needed with a model).
    max_lag : int, default 25
        Largest lag ``M`` tested.
    confidence : float, default 0.99
        Level of the bounds and tests, in ``(0, 1)``.

    Returns
    -------
    ResidualAnalysis
        Correlations, bounds, statistics and the verdicts.

    Raises
    ------
    DataError
        Bad data, ``model_or_residuals`` missing, lengths that differ, a model that is
        not single-input single-output, a simulation that is not finite, fewer than
        ``4 max_lag`` samples, zero residuals or a constant input.

    Warns
    -----
    UnstableSystemWarning
        From the simulation of an unstable model; its residuals, still finite, are
        analysed (they will fail both tests).

    Examples
    --------
    >>> from learnlds import CanonicalSystem
    >>> truth = CanonicalSystem([-0.5], [1.0])
    >>> u = np.random.default_rng(0).normal(size=1000)
    >>> y = truth.simulate(u) + 0.1 * np.random.default_rng(1).normal(size=1000)
    >>> residual_analysis(truth, u, y).passed
    True
    """
    M = check_int(max_lag, "max_lag", low=1)
    check_float(confidence, "confidence", low=0.0, high=1.0, low_open=True, high_open=True)
    if model_or_residuals is None:
        raise DataError("model_or_residuals: a model or the residuals are required, got None")
    if hasattr(model_or_residuals, "system_") or hasattr(model_or_residuals, "fit"):
        model_or_residuals = _as_model(model_or_residuals, type(model_or_residuals).__name__)
    ua, e = _siso_residuals(model_or_residuals, u, y)
    if e.size < 4 * M:
        raise DataError(f"u: {e.size} samples is too short for max_lag {M} (need at least {4 * M})")
    return _correlation_tests(e - e.mean(), ua - ua.mean(), M, float(confidence))


def _siso_residuals(model_or_residuals: Any, u: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(u, e)`` of one SISO record: ``e`` is ``y`` less the model's zero-state
    simulation, or the residuals given."""
    simulated = hasattr(model_or_residuals, "simulate")
    if simulated and y is None:
        raise DataError("y: the measured output is needed to compute the model's residuals")
    io = as_io(u, y if simulated else model_or_residuals)
    if not io.is_siso:
        raise UnsupportedShapeError("residual_analysis: single-input single-output records")
    if not simulated:
        return io.u[0, :, 0], io.y[0, :, 0]
    _check_channels(model_or_residuals, io, type(model_or_residuals).__name__)
    return io.u[0, :, 0], io.y[0, :, 0] - simulate_canonical(model_or_residuals, io.u)[0, :, 0]


def _correlation_tests(
    e: np.ndarray, uc: np.ndarray, M: int, confidence: float
) -> ResidualAnalysis:
    """Correlations, per-lag bounds and portmanteau tests of centred residuals and input.

    Both are divided by their peak first: the normalised correlations do not change,
    and products of values near 1e300 cannot overflow."""
    T = e.size
    if not np.all(np.isfinite(e)):
        raise DataError("residuals: are not finite (the data or the simulation overflow)")
    e_peak, u_peak = float(np.max(np.abs(e))), float(np.max(np.abs(uc)))
    if e_peak == 0:
        raise DataError("residuals: are identically zero (after removing the mean)")
    if u_peak == 0:
        raise DataError("u: the input is constant")
    es, us = e / e_peak, uc / u_peak
    ree = _xcorr(es, es, M)[M:]
    ruu = _xcorr(us, us, M)[M:]
    if ree[0] == 0:
        raise DataError("residuals: are identically zero (after removing the mean)")
    if ruu[0] == 0:
        raise DataError("u: the input is constant")
    rho_e = ree / ree[0]
    rho_u = ruu / ruu[0]
    reu = _xcorr(es, us, M) / np.sqrt(ree[0] * ruu[0])
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    P = 1.0 + 2.0 * float(np.sum(rho_e[1:] * rho_u[1:]))
    r_past = reu[M:]  # lags 0..M (e_t against u_t, u_{t-1}, ...)
    q_indep = T * float(r_past @ linalg.solve(linalg.toeplitz(rho_u), r_past, assume_a="pos"))
    return ResidualAnalysis(
        residuals=e,
        lags=np.arange(M + 1),
        autocorr=rho_e,
        auto_bound=float(z / np.sqrt(T)),
        cross_lags=np.arange(-M, M + 1),
        crosscorr=reu,
        cross_bound=float(z * np.sqrt(max(P, 1e-12) / T)),
        whiteness_stat=T * float(np.sum(rho_e[1:] ** 2)),
        whiteness_threshold=float(stats.chi2.ppf(confidence, M)),
        independence_stat=q_indep,
        independence_threshold=float(stats.chi2.ppf(confidence, M + 1)),
        confidence=confidence,
    )


class _FittedModel:
    """A fitted estimator (``system_`` and offsets) seen as a system: simulating it is
    its ``predict``: ``system_`` on the input less its offset, plus the output offset."""

    def __init__(self, estimator: Any) -> None:
        self.system = estimator.system_
        self.input_offset = np.asarray(getattr(estimator, "input_offset_", 0.0), dtype=float)
        self.output_offset = np.asarray(getattr(estimator, "output_offset_", 0.0), dtype=float)
        self.feature_names_in_ = getattr(estimator, "feature_names_in_", None)
        self.output_names_in_ = getattr(estimator, "output_names_in_", None)

    @property
    def n_inputs(self) -> int:
        """Input channels of the fitted system."""
        return int(self.system.n_inputs)

    @property
    def n_outputs(self) -> int:
        """Output channels of the fitted system."""
        return int(self.system.n_outputs)

    def check_inputs(self, u3: np.ndarray) -> None:
        """Refuse data whose input count is not the model's (numpy would broadcast one
        input column over several when the offsets are subtracted)."""
        m = self.system.n_inputs
        if u3.shape[2] != m:
            raise DataError(f"u: has {u3.shape[2]} input channel(s) but the model takes {m}")

    def simulate(self, u3: np.ndarray, sequences: bool = True) -> np.ndarray:
        self.check_inputs(u3)
        return simulate_canonical(self.system, u3 - self.input_offset) + self.output_offset


def _require_outputs(y: Any) -> None:
    """Refuse a missing ``y`` before it reaches the arithmetic (``as_io`` allows it)."""
    if y is None:
        raise DataError("y: the measured outputs are required, got None")


def _check_channels(model: Any, io: IOArrays, name: str) -> None:
    """Refuse a record whose input or output count is not ``model``'s: numpy would
    broadcast one simulated output against several measured ones, a wrong fit.
    Models that do not say their channel counts are checked after simulating."""
    for arr3, label, count, what in (
        (io.u, "u", getattr(model, "n_inputs", None), "input"),
        (io.y, "y", getattr(model, "n_outputs", None), "output"),
    ):
        if arr3 is None or not isinstance(count, int | np.integer):
            continue
        # read as sequences: no "pass sequences=True" hint, these functions take one record
        message = channel_mismatch(arr3, label, int(count), what, True)
        if message:
            raise DataError(f"{message} (model {name!r})")


def _check_simulated(yhat3: np.ndarray, y3: np.ndarray, name: str) -> None:
    """A simulation must have the measured output's shape (never broadcast)."""
    if yhat3.shape != y3.shape:
        raise DataError(
            f"y: has {y3.shape[2]} output channel(s) but model {name!r} gives {yhat3.shape[2]}"
        )


def _as_model(model: Any, name: str) -> Any:
    """A system as it is; a fitted estimator through :class:`_FittedModel`; else an error."""
    if hasattr(model, "simulate"):
        return model
    if hasattr(model, "system_"):
        return _FittedModel(model)
    if hasattr(model, "fit"):
        raise ParameterError(f"models: {name!r} is not fitted (call its fit method first)")
    raise ParameterError(f"models: {name!r} has no simulate method (not a system)")


def as_named_models(models: Any) -> dict[str, Any]:
    """Normalise one model, a sequence or a mapping of models to ``{name: model}``.

    Names come from the mapping keys, else the model's ``method`` attribute or its
    class name, made unique with a counter.

    Parameters
    ----------
    models : system, sequence of systems or mapping
        The models to name: systems (with ``simulate``) or fitted estimators (with
        ``system_``; simulated as their ``predict``, offsets included).

    Returns
    -------
    dict
        ``{name: model}`` in the given order.

    Raises
    ------
    ParameterError
        No model, an unfitted estimator, or an entry that is not a system.

    Examples
    --------
    >>> from learnlds import CanonicalSystem
    >>> list(as_named_models([CanonicalSystem([0.5], [1.0])]))
    ['CanonicalSystem']
    """
    if isinstance(models, Mapping):
        out = dict(models)
    else:
        seq = (
            list(models)
            if isinstance(models, Sequence) and not hasattr(models, "simulate")
            else [models]
        )
        out = {}
        for i, m in enumerate(seq):
            estimator = (hasattr(m, "system_") or hasattr(m, "fit")) and not hasattr(m, "simulate")
            base = type(m).__name__ if estimator else getattr(m, "method", "") or type(m).__name__
            name = base if base not in out else f"{base} {i + 1}"
            out[name] = m
    if not out:
        raise ParameterError("models: no model given")
    return {name: _as_model(m, name) for name, m in out.items()}


def compare(
    models: Any, u: Any, y: Any, *, x0: str = "zero"
) -> dict[str, tuple[np.ndarray, float]]:
    """Simulate each model on one record and score it (MATLAB's ``compare``).

    Parameters
    ----------
    models : system, sequence of systems or mapping
        See :func:`as_named_models`.
    u, y : array_like
        One record: ``(T,)`` or ``(T, m)`` inputs, ``(T,)`` or ``(T, p)`` outputs.
    x0 : {'zero', 'estimate'}, default 'zero'
        Initial state of each simulation: zero (the protocol), or estimated from this
        record by least squares on the free response, as MATLAB's ``compare`` does; the
        names of the results then say ``(x0 estimated)``.

    Returns
    -------
    dict
        ``{name: (yhat, fit percent averaged over outputs)}``, ``yhat`` laid out like ``y``.
        An unstable model whose simulation stays finite gets its (hugely negative)
        fit, with the :class:`~learnlds.errors.UnstableSystemWarning` of its simulation.

    Raises
    ------
    DataError
        Bad data, ``y`` missing, input or output channel counts that differ from a
        model's, a data frame ``u`` (``y``) whose columns are not a fitted estimator's
        ``feature_names_in_`` (``output_names_in_``) in that order, or a simulation
        that is not finite.
    ParameterError
        ``x0`` not one of its values, or a model that :func:`as_named_models` refuses.

    Examples
    --------
    >>> from learnlds import CanonicalSystem
    >>> truth = CanonicalSystem([-0.5], [1.0])
    >>> u = np.random.default_rng(0).normal(size=100)
    >>> round(compare({"truth": truth}, u, truth.simulate(u))["truth"][1], 6)
    100.0
    >>> y = truth.simulate(u) + 3.0 * 0.5 ** np.arange(100)  # a transient from x0 = 3
    >>> round(compare({"truth": truth}, u, y, x0="estimate")["truth (x0 estimated)"][1], 6)
    100.0
    """
    check_choice(x0, "x0", ("zero", "estimate"))
    _require_outputs(y)
    io = as_io(u, y)
    named = as_named_models(models)
    for name, m in named.items():  # every model checked before any is simulated
        check_column_names(getattr(m, "feature_names_in_", None), u)
        check_column_names(getattr(m, "output_names_in_", None), y, "y")
        _check_channels(m, io, name)
    out = {}
    for name, m in named.items():
        if x0 == "estimate":
            yhat = _simulate_from_estimated_state(m, io)
            name = f"{name} (x0 estimated)"
        else:
            yhat = simulate_canonical(m, io.u)
        _check_simulated(yhat, io.y, name)
        out[name] = (io.to_user(yhat), float(np.mean(_channel_fits(io.y, yhat))))
    return out


def _simulate_from_estimated_state(model: Any, io: IOArrays) -> np.ndarray:
    """``(1, T, p)`` simulation from the least-squares initial state of this record."""
    u, y, offset = io.u[0], io.y[0], 0.0
    if isinstance(model, _FittedModel):  # the estimator's system acts on offset-free data
        model.check_inputs(io.u)
        u, y, offset = u - model.input_offset, y - model.output_offset, model.output_offset
        model = model.system
    ss = model if isinstance(model, StateSpaceSystem) else StateSpaceSystem.from_canonical(model)
    state = estimate_initial_state(ss, u, y)
    yhat = ss.simulate(u if ss.n_inputs > 1 else u[:, 0], x0=state)
    return np.asarray(yhat, dtype=float).reshape(1, io.length, -1) + offset


# --------------------------------------------------------------------------- the protocol
def simulate_canonical(model: Any, u3: np.ndarray) -> np.ndarray:
    """Zero-state output of ``model`` for canonical ``(N, T, m)`` inputs, as ``(N, T, p)``.

    Works for any model with ``simulate``: SISO models get the ``(N, T)`` view, others
    the ``(N, T, m)`` array.

    Parameters
    ----------
    model : object with ``simulate``
        A system (:class:`~learnlds.systems.CanonicalSystem` or compatible).
    u3 : numpy.ndarray
        Inputs, ``(N, T, m)``.

    Returns
    -------
    numpy.ndarray
        Outputs, ``(N, T, p)``.

    Raises
    ------
    DataError
        ``u3`` not 3-D, or the model returned non-finite values (unstable on this record).
    ParameterError
        ``model`` is not a system (nor a fitted estimator).

    Examples
    --------
    >>> from learnlds import CanonicalSystem
    >>> simulate_canonical(CanonicalSystem([0.5], [1.0]), np.ones((1, 3, 1)))[0, :, 0]
    array([0. , 1. , 0.5])
    """
    model = _as_model(model, type(model).__name__)
    u3 = np.asarray(u3, dtype=float)
    if u3.ndim != 3:
        raise DataError(f"u3: must be canonical (N, T, m) inputs, got shape {u3.shape}")
    if "sequences" in inspect.signature(model.simulate).parameters:
        yhat = np.asarray(model.simulate(u3, sequences=True), dtype=float)
    else:  # other models: SISO ones take (N, T), others (N, T, m)
        siso = getattr(model, "is_siso", u3.shape[2] == 1)
        yhat = np.asarray(model.simulate(u3[..., 0] if siso else u3), dtype=float)
    if yhat.ndim == 2:
        yhat = yhat[..., None]
    if not np.all(np.isfinite(yhat)):
        raise DataError(_NOT_FINITE)
    return yhat


_COVERAGE_LEVEL = 0.01  # estimation input density, relative to its peak, that counts as excited
_COVERAGE_MIN_LENGTH = 32  # shorter parts give no spectrum worth comparing


def input_coverage(
    u_estimation: Any,
    u_validation: Any,
    *,
    sequences: bool = False,
    level: float = _COVERAGE_LEVEL,
) -> np.ndarray:
    """Share of each validation input's power at frequencies the estimation input excites.

    A model is only determined where its estimation data have input power; a
    validation input whose power lies elsewhere makes the validation fit a test of
    extrapolation. Per input channel: Welch spectra of both (centred) parts with one
    segment length; the frequencies where the estimation density is at least ``level``
    times its peak count as excited; the result is the validation power there over
    all validation power (1: nothing to extrapolate). DaISy's flutter record, split
    in halves, scores 0.007: its estimation half has 98 % of its input power below
    0.075 cycles per sample, its validation half 82 % between 0.075 and 0.11.

    Parameters
    ----------
    u_estimation, u_validation : array_like
        Inputs of the two parts: ``(T,)`` or ``(T, m)`` records (with
        ``sequences=True``: ``(N, T)`` or ``(N, T, m)``, spectra averaged over them).
    sequences : bool, default False
        Read the leading axis as the sequence index.
    level : float, default 0.01
        Estimation input density, relative to its peak, that counts as excitation.

    Returns
    -------
    numpy.ndarray
        ``(m,)`` shares in ``[0, 1]``; NaN where a part is shorter than 32 samples (too
        short for a spectrum); 1 for a constant validation input.

    Raises
    ------
    DataError
        Bad data, or the two parts have different numbers of inputs.
    ParameterError
        ``level`` outside ``(0, 1)``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> white = rng.normal(size=4000)
    >>> slow = signal.lfilter([0.05], [1.0, -0.95], rng.normal(size=4000))
    >>> float(input_coverage(white[:2000], white[2000:])[0])
    1.0
    >>> bool(input_coverage(slow, white)[0] < 0.5)
    True
    """
    level = check_float(level, "level", low=0.0, high=1.0, low_open=True, high_open=True)
    ue = as_io(u_estimation, sequences=sequences).u
    uv = as_io(u_validation, sequences=sequences).u
    if ue.shape[2] != uv.shape[2]:
        raise DataError(
            f"u_validation: has {uv.shape[2]} input channel(s), u_estimation {ue.shape[2]}"
        )
    return _coverage(ue, uv, level)


def extrapolation_note(coverage: Any, input_names: Sequence[str]) -> str | None:
    """A sentence for reports when a validation input lies mostly outside the estimation
    input's band (:func:`input_coverage` below one half), else ``None``.

    Parameters
    ----------
    coverage : array_like or None
        Per-input coverage from :func:`input_coverage` (NaN: unknown, never noted;
        ``None``: not computed, no note).
    input_names : sequence of str
        The inputs' names, in order.

    Returns
    -------
    str or None
        The note, naming the inputs and their coverage.

    Raises
    ------
    DataError
        ``coverage`` not numbers in ``[0, 1]`` (NaN allowed) in one dimension.
    ParameterError
        ``input_names`` not one name per coverage value (a string is one name).

    Examples
    --------
    >>> extrapolation_note([0.007], ["u"])[:46]
    'validation input u has 99 % of its power where'
    >>> extrapolation_note([0.9], ["u"]) is None
    True
    """
    if coverage is None:  # not computed (HoldoutResult.input_coverage may be None)
        return None
    cov = _coverage_values(coverage)
    names = [input_names] if isinstance(input_names, str) else list(input_names)
    if len(names) != cov.size:
        raise ParameterError(
            f"input_names: {len(names)} name(s) for {cov.size} coverage value(s); give one "
            "name per input"
        )
    low = [(n, c) for n, c in zip(names, cov, strict=True) if c < 0.5]
    if not low:
        return None
    which = ", ".join(f"{n} has {100 * (1 - c):.0f} %" for n, c in low)
    return (
        f"validation input {which} of its power where the estimation input has under "
        f"{100 * _COVERAGE_LEVEL:g} % of its peak spectral density: the validation fit measures "
        "extrapolation to frequencies the model was not fitted on (input_coverage)"
    )


def _coverage_values(coverage: Any) -> np.ndarray:
    """``coverage`` as a 1-D float array of shares in ``[0, 1]`` or NaN (unknown)."""
    try:
        arr = np.atleast_1d(np.asarray(coverage))
    except Exception as exc:  # ragged lists and other unreadable objects
        raise DataError(f"coverage: cannot be read as an array ({exc})") from None
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool) or np.iscomplexobj(arr):
        raise DataError(f"coverage: must be real numbers, got dtype {arr.dtype}")
    arr = arr.astype(float)
    if arr.ndim != 1:
        raise DataError(f"coverage: must be 1-D (one value per input), got shape {arr.shape}")
    known = arr[~np.isnan(arr)]
    if np.any((known < 0) | (known > 1 + 1e-9)):  # inf included; rounding allowed
        raise DataError(f"coverage: shares must lie in [0, 1] (NaN: unknown), got {arr}")
    return arr


def _coverage(ue: np.ndarray, uv: np.ndarray, level: float) -> np.ndarray:
    """:func:`input_coverage` of canonical ``(N, T, m)`` parts (checked)."""
    m = ue.shape[2]
    nperseg = min(256, ue.shape[1], uv.shape[1])
    if nperseg < _COVERAGE_MIN_LENGTH:
        return np.full(m, np.nan)

    def density(u3: np.ndarray) -> np.ndarray:  # (freqs, m), averaged over sequences
        centred = u3 - u3.mean(axis=(0, 1))
        return signal.welch(centred, nperseg=nperseg, axis=1)[1].mean(axis=0)

    pe, pv = density(ue), density(uv)
    excited = pe >= level * pe.max(axis=0)
    total = pv.sum(axis=0)
    covered = np.sum(np.where(excited & (pe.max(axis=0) > 0), pv, 0.0), axis=0)
    return np.where(total > 0, covered / np.where(total > 0, total, 1.0), 1.0)


@dataclass(frozen=True)
class HoldoutResult:
    """The outcome of :func:`holdout`: fits per output and averaged, simulations, residuals.

    Arrays are in the user's layout (``(T,)`` for one output, ``(T, p)`` for several)
    and centred like the data they were scored against.

    Parameters
    ----------
    model : object
        The model that was scored (for an estimator: the fitted clone).
    estimation_fits, validation_fits : numpy.ndarray
        ``(p,)`` fit percentages per output.
    y_estimation, y_validation : numpy.ndarray
        Measured outputs of each part, centred on their own means.
    yhat_estimation, yhat_validation : numpy.ndarray
        Zero-state simulations of each part.
    split_index : int
        First sample of the validation part (``T`` with a separate validation record).
    u_validation : numpy.ndarray or None
        Inputs of the validation part, centred on their own means (what
        ``yhat_validation`` was simulated from); ``None`` if not recorded.
    input_coverage : numpy.ndarray or None
        Per input, the share of the validation input's power at frequencies the
        estimation input excites (:func:`input_coverage`; low: the validation fit
        measures extrapolation); ``None`` if not computed.

    Examples
    --------
    >>> from learnlds import CanonicalSystem
    >>> truth = CanonicalSystem([-0.5], [1.0])
    >>> u = np.random.default_rng(0).normal(size=20_000)
    >>> res = holdout(truth, u, truth.simulate(u))
    >>> bool(res.validation_fit > 99)
    True
    """

    model: Any
    estimation_fits: np.ndarray
    validation_fits: np.ndarray
    y_estimation: np.ndarray
    yhat_estimation: np.ndarray
    y_validation: np.ndarray
    yhat_validation: np.ndarray
    split_index: int
    u_validation: np.ndarray | None = None
    input_coverage: np.ndarray | None = None

    @property
    def estimation_fit(self) -> float:
        """Fit percent on the estimation part, averaged over outputs."""
        return float(np.mean(self.estimation_fits))

    @property
    def validation_fit(self) -> float:
        """Fit percent on the validation part, averaged over outputs."""
        return float(np.mean(self.validation_fits))

    @property
    def residuals_estimation(self) -> np.ndarray:
        """Measured minus simulated output on the estimation part."""
        return self.y_estimation - self.yhat_estimation

    @property
    def residuals_validation(self) -> np.ndarray:
        """Measured minus simulated output on the validation part."""
        return self.y_validation - self.yhat_validation


def _centred(u3: np.ndarray, y3: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return u3 - u3.mean(axis=(0, 1)), y3 - y3.mean(axis=(0, 1))


def split_centred(
    u: Any, y: Any, *, split: float = 0.5
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The protocol's data: estimation and validation parts, each centred on its own means.

    For peers and scripts that fit outside learnlds; :func:`holdout` uses the same cut.

    Parameters
    ----------
    u, y : array_like
        One record, ``(T,)`` or ``(T, channels)``.
    split : float, default 0.5
        Fraction of the record used for estimation, in ``(0, 1)``.

    Returns
    -------
    tuple of numpy.ndarray
        ``(u_est, y_est, u_val, y_val)`` in the user's layout.

    Examples
    --------
    >>> ue, ye, uv, yv = split_centred(np.arange(8.0), np.arange(8.0) ** 2)
    >>> ue, uv
    (array([-1.5, -0.5,  0.5,  1.5]), array([-1.5, -0.5,  0.5,  1.5]))
    """
    io, cut = _cut(u, y, split)
    ue, ye = _centred(io.u[:, :cut], io.y[:, :cut])
    uv, yv = _centred(io.u[:, cut:], io.y[:, cut:])
    return io.to_user(ue), io.to_user(ye), io.to_user(uv), io.to_user(yv)


def _split_index(length: int, split: float) -> int:
    """The protocol's first validation sample: ``round(split * length)`` (the CLI cuts
    its records here too, so its fits and :func:`holdout` agree)."""
    return int(round(split * length))


def _cut(u: Any, y: Any, split: float) -> tuple[IOArrays, int]:
    """Validated record and the first validation sample for ``split``."""
    frac = check_float(split, "split", low=0.0, high=1.0, low_open=True, high_open=True)
    _require_outputs(y)
    io = as_io(u, y)
    return io, _checked_cut(io.length, frac)


def _checked_cut(length: int, frac: float) -> int:
    """:func:`_split_index`, refused unless both parts have at least 2 samples."""
    cut = _split_index(length, frac)
    if cut < 2 or length - cut < 2:
        raise DataError(
            f"u: {length} samples cannot be split at {frac} into two parts of at least 2 samples"
        )
    return cut


def _fitted_model(model: Any, ue: np.ndarray, ye: np.ndarray) -> tuple[Any, Any]:
    """(object to report, system to simulate): estimators are cloned and fitted."""
    if hasattr(model, "fit") and hasattr(model, "get_params"):
        from sklearn.base import clone

        est = clone(model)
        record = IOArrays(ue, ye, sequences=False)
        est.fit(record.to_user(ue), record.to_user(ye))
        return est, est.system_
    if not hasattr(model, "simulate"):
        raise ParameterError(
            f"model: must be a system with simulate() or an estimator with fit(), got "
            f"{type(model).__name__}"
        )
    return model, model


def _holdout_parts(
    u: Any, y: Any, split: float, validation: Any
) -> tuple[IOArrays, int, tuple[np.ndarray, ...]]:
    """The checked record, the first validation sample and the four parts
    ``(u_est, y_est, u_val, y_val)`` (not yet centred) of :func:`holdout`."""
    if validation is None:
        io, cut = _cut(u, y, split)
        return io, cut, (io.u[:, :cut], io.y[:, :cut], io.u[:, cut:], io.y[:, cut:])
    check_float(split, "split", low=0.0, high=1.0, low_open=True, high_open=True)
    _require_outputs(y)
    io = as_io(u, y)
    if not isinstance(validation, tuple | list) or len(validation) != 2:
        raise ParameterError("validation: must be a pair (u_val, y_val)")
    if validation[1] is None:
        raise DataError("validation: the measured outputs y_val are required, got None")
    vio = as_io(*validation, n_inputs=io.n_inputs, n_outputs=io.n_outputs)
    return io, io.length, (io.u, io.y, vio.u, vio.y)


def holdout(
    model: Any,
    u: Any,
    y: Any,
    *,
    split: float = 0.5,
    validation: tuple[Any, Any] | None = None,
) -> HoldoutResult:
    """The validation protocol: estimate on the first part, validate on the rest.

    The record is cut at ``split`` (or a separate ``validation=(u_val, y_val)`` record
    is used); each part is centred on its own means; the model is simulated from zero
    state on each part; fit percent is computed per output and averaged. An
    estimator (anything with ``fit``) is cloned and fitted on the centred estimation
    part; a system (anything with ``simulate``) is scored as given.

    Parameters
    ----------
    model : estimator or system
        ``LDSRegressor(...)`` or a fitted system such as ``CanonicalSystem``.
    u, y : array_like
        One record: ``(T,)`` or ``(T, m)`` inputs and ``(T,)`` or ``(T, p)`` outputs.
    split : float, default 0.5
        Fraction of the record used for estimation, in ``(0, 1)``.
    validation : (array_like, array_like), optional
        A separate validation record; then all of ``u, y`` is the estimation part.

    Returns
    -------
    HoldoutResult
        Fits, centred outputs, simulations and residuals of both parts, the centred
        validation inputs and their ``input_coverage``, and the model that was scored.
        An unstable model whose simulation stays finite is scored (a hugely negative
        fit), with the :class:`~learnlds.errors.UnstableSystemWarning` of its simulation.

    Raises
    ------
    DataError
        Bad data, ``y`` missing, parts too short, channel counts that differ from the
        system's, or a simulation that is not finite (NaN or inf).
    ParameterError
        ``split`` outside ``(0, 1)`` or ``model`` neither a system nor an estimator.

    Examples
    --------
    >>> from learnlds import CanonicalSystem, LDSRegressor
    >>> truth = CanonicalSystem([-0.6, 0.2], [1.0, -0.5], d=0.3)
    >>> u = np.random.default_rng(0).normal(size=2000)
    >>> y = truth.simulate(u) + 0.01 * np.random.default_rng(1).normal(size=2000)
    >>> res = holdout(LDSRegressor(order=2), u, y)
    >>> bool(res.validation_fit > 95)
    True
    """
    io, cut, (ue, ye, uv, yv) = _holdout_parts(u, y, split, validation)
    (ue, ye), (uv, yv) = _centred(ue, ye), _centred(uv, yv)
    if not (hasattr(model, "fit") and hasattr(model, "get_params")):  # a system, as given
        _check_channels(model, io, type(model).__name__)
    scored, system = _fitted_model(model, ue, ye)
    he, hv = simulate_canonical(system, ue), simulate_canonical(system, uv)
    if he.shape != ye.shape:
        raise DataError(
            f"model: it has {he.shape[2]} outputs but y has {ye.shape[2]} (time along axis 0)"
        )
    return HoldoutResult(
        model=scored,
        estimation_fits=_channel_fits(ye, he),
        validation_fits=_channel_fits(yv, hv),
        y_estimation=io.to_user(ye),
        yhat_estimation=io.to_user(he),
        y_validation=io.to_user(yv),
        yhat_validation=io.to_user(hv),
        split_index=cut,
        u_validation=io.to_user(uv),
        input_coverage=_coverage(ue, uv, _COVERAGE_LEVEL),
    )


def holdout_fits(
    model: Any, u: Any, y: Any, *, split: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """The protocol's fits of a system on a record too large to load: a block at a time.

    The numbers of :func:`holdout` (each part centred on its own means, zero-state
    simulation, fit percent per output) for a memory-mapped ``.npy`` or zarr record:
    two passes over each part in blocks of :data:`~learnlds.records.STREAM_BLOCK`
    values, memory ``O(block)``, no simulations kept.

    Parameters
    ----------
    model : CanonicalSystem or StateSpaceSystem
        The system to score (fit an estimator first and pass its ``system_``).
    u, y : array_like
        One record by the layout rule; ``np.load(path, mmap_mode="r")`` arrays and
        zarr arrays stay on disk.
    split : float, default 0.5
        Fraction of the record used for estimation, in ``(0, 1)``.

    Returns
    -------
    estimation_fits, validation_fits : numpy.ndarray
        ``(p,)`` fit percentages per output.

    Raises
    ------
    ParameterError
        ``model`` is not a system, or ``split`` is outside ``(0, 1)``.
    DataError
        Bad data, channel counts that differ from the model's, a part too short or
        with a constant output, or a simulation that is not finite.

    Examples
    --------
    >>> from learnlds import CanonicalSystem
    >>> truth = CanonicalSystem([-0.5], [1.0])
    >>> u = np.random.default_rng(0).normal(size=1000)
    >>> y = truth.simulate(u) + 0.1 * np.sin(np.arange(1000.0))
    >>> est, val = holdout_fits(truth, u, y)
    >>> whole = holdout(truth, u, y)  # the same numbers, from arrays held whole
    >>> bool(np.allclose(est, whole.estimation_fits) and np.allclose(val, whole.validation_fits))
    True
    """
    if not isinstance(model, CanonicalSystem | StateSpaceSystem):
        raise ParameterError(
            f"model: expected a CanonicalSystem or StateSpaceSystem, got {type(model).__name__}"
        )
    system = (
        model if isinstance(model, StateSpaceSystem) else StateSpaceSystem.from_canonical(model)
    )
    io = streaming_io(u, y)
    if (io.n_inputs, io.n_outputs) != (system.n_inputs, system.n_outputs):
        raise DataError(
            f"u, y: {io.n_inputs} input(s) and {io.n_outputs} output(s), but the model takes "
            f"{system.n_inputs} input(s) and gives {system.n_outputs} output(s)"
        )
    frac = check_float(split, "split", low=0.0, high=1.0, low_open=True, high_open=True)
    cut = _checked_cut(io.length, frac)
    return _streamed_fits(system, io, 0, cut), _streamed_fits(system, io, cut, io.length)


def _part_blocks(io: IOArrays, start: int, stop: int) -> Any:
    """``(u block, y block)`` over samples ``start:stop`` of a one-sequence record."""
    step = max(1, STREAM_BLOCK // max(1, io.n_inputs + io.n_outputs))
    for t0 in range(start, stop, step):
        t1 = min(t0 + step, stop)
        yield _block(io.u, 0, t0, t1), _block(io.y, 0, t0, t1)


def _streamed_fits(system: StateSpaceSystem, io: IOArrays, start: int, stop: int) -> np.ndarray:
    """Per-output fit percent of samples ``start:stop`` (centred on their own means,
    simulated from zero state), in two passes of blocks."""
    u_sum, y_sum, peak = np.zeros(io.n_inputs), np.zeros(io.n_outputs), np.zeros(io.n_outputs)
    for ub, yb in _part_blocks(io, start, stop):
        u_sum, y_sum = u_sum + ub.sum(axis=0), y_sum + yb.sum(axis=0)
        peak = np.maximum(peak, np.abs(yb).max(axis=0))
    u_mean, y_mean = u_sum / (stop - start), y_sum / (stop - start)
    peak[peak == 0] = 1.0
    spread, error = np.zeros(io.n_outputs), np.zeros(io.n_outputs)
    x = np.zeros(system.order)
    for ub, yb in _part_blocks(io, start, stop):
        yhat = np.empty_like(yb)
        x = ss_simulate(system.A, system.B, system.C, system.D, ub - u_mean, x, yhat)
        spread += np.sum(((yb - y_mean) / peak) ** 2, axis=0)
        error += np.sum(((yb - y_mean - yhat) / peak) ** 2, axis=0)
    if not np.all(np.isfinite(error)):
        raise DataError(_NOT_FINITE)
    return _percent(error, spread)
