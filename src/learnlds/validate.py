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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import linalg, stats

from .systems import as_real_array

__all__ = ["ResidualAnalysis", "as_named_models", "compare", "fit_percent", "residual_analysis"]


def fit_percent(y: Any, yhat: Any) -> float:
    """``100 (1 - ||y - yhat|| / ||y - mean(y)||)``; 100 is perfect, 0 is the mean, may be < 0.

    ``(N, T)`` batches are scored as a whole: one norm over all entries, one global mean.
    """
    ya = as_real_array(y, "y")
    yh = as_real_array(yhat, "yhat")
    if ya.shape != yh.shape:
        raise ValueError(f"y and yhat: shapes differ, y {ya.shape} vs yhat {yh.shape}")
    if ya.size == 0:
        raise ValueError("y: is empty")
    spread = np.linalg.norm(ya - ya.mean())
    if spread == 0:
        raise ValueError("y: is constant, the fit percentage is undefined")
    return float(100.0 * (1.0 - np.linalg.norm(ya - yh) / spread))


@dataclass(frozen=True)
class ResidualAnalysis:
    """Result of :func:`residual_analysis`.

    ``lags`` = 0..max_lag with ``autocorr`` (normalised, ``autocorr[0] = 1``);
    ``cross_lags`` = -max_lag..max_lag with ``crosscorr[j]`` the normalised correlation
    of ``e_t`` with ``u_{t - cross_lags[j]}`` (positive lags: past inputs).
    ``auto_bound``/``cross_bound`` are the 99 % per-lag bounds; ``whiteness_stat`` and
    ``independence_stat`` are the chi-square portmanteau statistics with their
    ``*_threshold`` (99 % quantile) deciding ``whiteness_ok`` and ``independence_ok``.
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
    """Whiteness of the residuals and their independence from past inputs.

    ``model_or_residuals``: a model with ``simulate`` (residual ``y - model.simulate(u)``,
    the output-error residual from zero state) or the residual array itself
    (then ``y`` may be omitted). Per-lag bounds: ``z / sqrt(T)`` for the
    autocorrelation and ``z sqrt(sum_k rho_e(k) rho_u(k)) / sqrt(T)`` for the
    cross-correlation (valid for coloured inputs). Verdicts use portmanteau tests
    at the same confidence: ``T sum_{k=1}^{M} rho_e(k)^2 ~ chi2(M)`` and
    ``T r^T R_u^{-1} r ~ chi2(M + 1)`` over lags ``0..M`` (Ljung's cross test), so a
    single lag grazing its bound by chance does not fail the model.
    """
    ua = as_real_array(u, "u", ndim=(1,))
    if hasattr(model_or_residuals, "simulate"):
        if y is None:
            raise ValueError("y: the measured output is needed to compute the model's residuals")
        ya = as_real_array(y, "y", ndim=(1,))
        if ya.shape != ua.shape:
            raise ValueError(f"u and y: lengths differ, u has {ua.size} samples and y {ya.size}")
        e = ya - np.asarray(model_or_residuals.simulate(ua), dtype=float)
    else:
        e = as_real_array(model_or_residuals, "residuals", ndim=(1,))
        if e.shape != ua.shape:
            raise ValueError(
                f"residuals and u: lengths differ, residuals {e.size} vs u {ua.size} samples"
            )
    if isinstance(max_lag, bool) or not isinstance(max_lag, int | np.integer) or max_lag < 1:
        raise ValueError(f"max_lag: must be an integer >= 1, got {max_lag!r}")
    M = int(max_lag)
    T = e.size
    if T < 4 * M:
        raise ValueError(f"data too short: {T} samples for max_lag {M} (need at least {4 * M})")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence: must be in (0, 1), got {confidence}")
    e = e - e.mean()
    uc = ua - ua.mean()
    ree = _xcorr(e, e, M)[M:]
    ruu = _xcorr(uc, uc, M)[M:]
    if ree[0] == 0:
        raise ValueError("residuals: are identically zero (after removing the mean)")
    if ruu[0] == 0:
        raise ValueError("u: the input is constant")
    rho_e = ree / ree[0]
    rho_u = ruu / ruu[0]
    reu = _xcorr(e, uc, M) / np.sqrt(ree[0] * ruu[0])
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    auto_bound = z / np.sqrt(T)
    P = 1.0 + 2.0 * float(np.sum(rho_e[1:] * rho_u[1:]))
    cross_bound = z * np.sqrt(max(P, 1e-12) / T)
    q_white = T * float(np.sum(rho_e[1:] ** 2))
    r_past = reu[M:]  # lags 0..M (e_t against u_t, u_{t-1}, ...)
    Ru = linalg.toeplitz(rho_u)
    q_indep = T * float(r_past @ linalg.solve(Ru, r_past, assume_a="pos"))
    return ResidualAnalysis(
        residuals=e,
        lags=np.arange(M + 1),
        autocorr=rho_e,
        auto_bound=float(auto_bound),
        cross_lags=np.arange(-M, M + 1),
        crosscorr=reu,
        cross_bound=float(cross_bound),
        whiteness_stat=q_white,
        whiteness_threshold=float(stats.chi2.ppf(confidence, M)),
        independence_stat=q_indep,
        independence_threshold=float(stats.chi2.ppf(confidence, M + 1)),
        confidence=float(confidence),
    )


def as_named_models(models: Any) -> dict[str, Any]:
    """Normalise one model, a sequence or a mapping of models to ``{name: model}``.

    Names come from the mapping keys, else the model's ``method`` attribute or its
    class name, made unique with a counter.
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
            base = getattr(m, "method", "") or type(m).__name__
            name = base if base not in out else f"{base} {i + 1}"
            out[name] = m
    if not out:
        raise ValueError("models: no model given")
    for name, m in out.items():
        if not hasattr(m, "simulate"):
            raise ValueError(f"models: {name!r} has no simulate method")
    return out


def compare(models: Any, u: Any, y: Any) -> dict[str, tuple[np.ndarray, float]]:
    """Simulate each model from zero state on ``u``; return ``{name: (yhat, fit_percent)}``."""
    ua = as_real_array(u, "u", ndim=(1, 2))
    ya = as_real_array(y, "y", ndim=(1, 2))
    if ua.shape != ya.shape:
        raise ValueError(f"u and y: shapes differ, u {ua.shape} vs y {ya.shape}")
    out = {}
    for name, m in as_named_models(models).items():
        yhat = np.asarray(m.simulate(ua), dtype=float)
        out[name] = (yhat, fit_percent(ya, yhat))
    return out
