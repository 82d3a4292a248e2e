"""Input delay (dead time) estimation: the largest delay per input the data are consistent with.

Process plants often respond to an input only after a dead time. Fitted without it,
the dead time costs states (a delay of ``d`` samples is ``d`` more poles at the
origin, learned from data); given as ``LDSRegressor(input_delay=d)`` it costs nothing.
:func:`estimate_delay` finds ``d`` per input, as MATLAB's ``delayest`` does for one,
by least squares on a long ARX model (``na`` past outputs of every output, input lags
``0..max_delay + nb`` of every input) and an F-test per output: the delay of input
``i`` is the largest ``d`` for which no output rejects "the lags ``0..d-1`` of input
``i`` are all zero" at level ``alpha``, scanning ``d = 1, 2, ...`` up to the first
rejection.

The test is joint over the leading lags, not one lag at a time, so a slowly varying
input (a held PRBS, whose neighbouring lags are nearly collinear) does not hide its
first response behind large single-lag standard errors. Every error of the test leans
towards a shorter delay (coloured residuals reject more often, so do several
outputs), and a delay that is too short only costs states, whereas one that is too
long cannot be undone by the fit.

Examples
--------
>>> from learnlds.statespace import StateSpaceSystem, with_input_delay
>>> core = StateSpaceSystem([[0.7]], [[1.0]], [[1.0]], [[0.5]])
>>> u = np.random.default_rng(0).normal(size=2000)
>>> y = with_input_delay(core, 4).simulate(u) + 0.1 * np.random.default_rng(1).normal(size=2000)
>>> estimate_delay(u, y)
array([4])
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from scipy import linalg, stats

from ._boundary import as_io, check_float, check_int
from .errors import DataError
from .records import _moments

__all__ = ["estimate_delay"]

_PAST_OUTPUTS = 10
"""``na``: past outputs of every output in the ARX model (whitens coloured noise)."""
_TAIL_LAGS = 10
"""``nb``: input lags beyond ``max_delay``, so the response after the delay is modelled."""
_UNTESTABLE = 1e-3
"""A lag whose part not explained by the other columns is under this fraction of its
energy cannot be tested (a few sinusoids, long holds): the scan stops there."""
_MAX_ROWS = 20_000
"""Samples per sequence used (the head of a longer record; the test is already sharp)."""


def default_max_delay(length: int) -> int:
    """Largest delay searched by default: 30 samples, less for records under 600 samples.

    Parameters
    ----------
    length : int
        Samples per sequence.

    Returns
    -------
    int
        ``min(30, length // 20)``.

    Examples
    --------
    >>> default_max_delay(5000), default_max_delay(200)
    (30, 10)
    """
    return int(min(30, length // 20))


def estimate_delay(
    u: Any,
    y: Any,
    *,
    max_delay: int | None = None,
    alpha: float = 0.01,
    sequences: bool = False,
) -> np.ndarray:
    """Input delay per input in samples: the largest the data are consistent with.

    See the module docstring for the ARX model and the test. Inputs and outputs are
    centred and scaled per channel first (as every fit here), so units do not matter.

    Parameters
    ----------
    u, y : array_like
        Inputs and outputs by the layout rule (time along axis 0; with
        ``sequences=True`` the leading axis indexes sequences).
    max_delay : int, optional
        Largest delay considered; default :func:`default_max_delay` of the length.
    alpha : float, default 0.01
        Level of each F-test, in ``(0, 1)``; larger gives shorter delays.
    sequences : bool, default False
        Read the leading axis as the sequence index.

    Returns
    -------
    numpy.ndarray
        ``(m,)`` integer delays, one per input (0: the input acts at once).

    Raises
    ------
    DataError
        Bad data, ``y`` missing, a constant channel, a record too short for the ARX
        model of ``max_delay``, or (default ``max_delay``) too short to test even a
        one-sample delay: under about 56 samples per sequence for SISO. The message
        then says "too short to estimate an input delay" and gives the length needed.
    ParameterError
        ``max_delay`` negative, ``alpha`` outside ``(0, 1)``.

    Examples
    --------
    >>> u = np.random.default_rng(0).normal(size=(3000, 2))
    >>> y = np.zeros(3000)
    >>> y[3:] += u[:-3, 0]  # input 0 after 3 samples
    >>> y[7:] += 0.5 * u[:-7, 1]  # input 1 after 7
    >>> estimate_delay(u, y + 0.05 * np.random.default_rng(1).normal(size=3000))
    array([3, 7])
    """
    io = as_io(u, y, sequences=sequences, require_y=True)
    u3, y3 = io.u[:, :_MAX_ROWS], io.y[:, :_MAX_ROWS]
    return _estimate_delays(_standardised(u3, "u"), _standardised(y3, "y"), max_delay, alpha)


def _standardised(arr3: np.ndarray, name: str) -> np.ndarray:
    """Centred and divided by its spread per channel (the estimator's normalisation,
    safe in any units); a constant channel is an error."""
    constant = np.ptp(arr3, axis=(0, 1)) == 0
    if np.any(constant):
        k = int(np.flatnonzero(constant)[0])
        raise DataError(f"{name}: channel {k} is constant; it carries no timing to estimate")
    return _moments(arr3, True, True)[2]


def _estimate_delays(u3: np.ndarray, y3: np.ndarray, max_delay: Any, alpha: Any) -> np.ndarray:
    """:func:`estimate_delay` on canonical, standardised ``(N, T, m)`` and ``(N, T, p)``."""
    N, T, m = u3.shape
    if max_delay is None:  # the default, shortened until the ARX model fits the data
        max_delay = default_max_delay(T)
        while max_delay > 0 and not _enough_rows(N, T, m, y3.shape[2], max_delay + _TAIL_LAGS):
            max_delay -= 1
        if max_delay == 0:  # not even a one-sample delay can be tested: a 0 would be a guess
            raise RecordTooShortError(_too_short(N, T, m, y3.shape[2]))
    max_delay = check_int(max_delay, "max_delay", low=0)
    alpha = check_float(alpha, "alpha", low=0.0, high=1.0, low_open=True, high_open=True)
    if max_delay == 0:
        return np.zeros(m, dtype=int)
    phi, target = _arx_regression(u3, y3, max_delay + _TAIL_LAGS)
    normal = _Normal(phi.T @ phi, phi.T @ target, np.sum(target**2, axis=0))
    full = normal.dropping(np.arange(0))[0]
    dof = target.shape[0] - normal.gram.shape[0]
    lags = max_delay + _TAIL_LAGS + 1
    delays = np.zeros(m, dtype=int)
    for i in range(m):
        for d in range(1, max_delay + 1):
            # input i's lags 0..d-1 (its columns come first)
            restricted, testable = normal.dropping(i * lags + np.arange(d))
            if not testable:
                break  # the input is not rich enough to tell these lags from the others
            f = ((restricted - full) / d) / (full / dof)
            if np.any(stats.f.sf(f, d, dof) < alpha):
                break
            delays[i] = d
        else:  # no response at all within max_delay: nothing to time, act at once
            delays[i] = 0
    return delays


class RecordTooShortError(DataError):
    """A record too short to test even a one-sample delay (``input_delay='auto'`` then
    fits without one, saying so)."""


def _too_short(N: int, T: int, m: int, p: int) -> str:
    """The message for a record too short to test even a one-sample delay."""
    columns = m * (2 + _TAIL_LAGS) + p * _PAST_OUTPUTS  # the regression of max_delay = 1
    need = max(20, max(1 + _TAIL_LAGS, _PAST_OUTPUTS) + 2 * columns // N + 1)
    return (
        f"u, y: {T} samples per sequence are too short to estimate an input delay (the ARX "
        f"test of even a one-sample delay needs about {need}); pass longer records (or a "
        "max_delay they support), or give the delay yourself"
    )


def _arx_regression(u3: np.ndarray, y3: np.ndarray, top_lag: int) -> tuple[np.ndarray, np.ndarray]:
    """Regressors ``[u_i lags 0..top_lag for each input i, y lags 1..na]`` and targets."""
    N, T, m = u3.shape
    p = y3.shape[2]
    start = max(top_lag, _PAST_OUTPUTS)
    rows = N * (T - start)
    columns = m * (top_lag + 1) + p * _PAST_OUTPUTS
    if not _enough_rows(N, T, m, p, top_lag):
        raise DataError(
            f"u, y: {N * T} samples are too few to estimate delays up to {top_lag - _TAIL_LAGS} "
            f"({columns} regressors need more than {2 * columns} rows); lower max_delay"
        )
    blocks = []
    for i in range(m):
        blocks += [u3[:, start - k : T - k, i] for k in range(top_lag + 1)]
    for j in range(p):
        blocks += [y3[:, start - k : T - k, j] for k in range(1, _PAST_OUTPUTS + 1)]
    phi = np.stack([b.reshape(-1) for b in blocks], axis=1)
    return phi, y3[:, start:, :].reshape(rows, p)


def _enough_rows(N: int, T: int, m: int, p: int, top_lag: int) -> bool:
    """Whether the ARX regression up to ``top_lag`` has over twice as many rows as columns."""
    rows = N * (T - max(top_lag, _PAST_OUTPUTS))
    return rows > 2 * (m * (top_lag + 1) + p * _PAST_OUTPUTS)


class _Normal(NamedTuple):
    """Normal equations of the ARX least squares: ``Phi^T Phi``, ``Phi^T Y`` and the
    outputs' sums of squares, shared by every restricted fit of the scan."""

    gram: np.ndarray
    cross: np.ndarray
    total: np.ndarray

    def dropping(self, dropped: np.ndarray) -> tuple[np.ndarray, bool]:
        """Per-output residual sums of squares without the columns ``dropped``, and
        whether the newest of them is testable: not (nearly) a combination of the kept
        columns, else dropping it cannot change the fit and the test says nothing (a
        sum of a few sinusoids, an input held constant for long stretches). One
        factorisation serves both."""
        gram = self.gram
        ridge = 1e-10 * np.trace(gram) / gram.shape[0]  # held PRBS inputs: collinear lags
        kept = np.setdiff1d(np.arange(gram.shape[0]), dropped)
        last = dropped[-1:]
        rhs = np.column_stack([self.cross[kept], gram[np.ix_(kept, last)]])
        sol = linalg.solve(
            gram[np.ix_(kept, kept)] + ridge * np.eye(kept.size), rhs, assume_a="pos"
        )
        p = self.cross.shape[1]
        rss = np.maximum(self.total - np.sum(self.cross[kept] * sol[:, :p], axis=0), 1e-300)
        if last.size == 0:
            return rss, True
        schur = gram[last[0], last[0]] - rhs[:, p] @ sol[:, p]
        return rss, bool(schur > _UNTESTABLE * gram[last[0], last[0]])
