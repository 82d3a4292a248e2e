"""Subspace identification, robust starts and order selection for state-space models.

* :func:`subspace_id`: MIMO PO-MOESP. The block-Hankel data matrix is never formed:
  its triangular factor is accumulated by a streaming QR over chunks of columns, so
  memory beyond the data is ``O(rows^2 + chunk rows)``. ``A`` comes from the shift
  invariance of the estimated observability matrix by ridge-regularised least
  squares, unstable eigenvalues are reflected inside the unit circle, and ``B``,
  ``D`` (and the initial state) are then re-estimated by least squares on the
  *simulated* output, which makes the result a good output-error start even for
  coloured inputs (where the subspace ``B``, ``D`` are poor).
* :func:`subspace_singular_values`: the singular values used for order selection.
* :func:`initial_system`: deterministic starts ('subspace', 'arx', 'zero').
* :func:`fit_best`: candidates (starts x initial-state treatments [x fit criteria])
  screened on the first part of the data, ranked by their simulation fit on the rest,
  the winner refined on all data.
* :func:`select_order`: the order minimising the Bayesian information criterion of
  the fit on all data, start-up error of a simulation from rest included (default),
  or chosen on the inner hold-out that ranks the starts (each order scored with the
  hold-out's initial state and offsets fitted, one-SE rule).

All functions take canonical, centred ``(N, T, m)`` / ``(N, T, p)`` arrays (see
:mod:`learnlds._boundary`); the estimator validates user data before calling them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

import numpy as np

from ._boundary import check_bool, check_choice, check_float, check_int
from .errors import DataError, ParameterError
from .records import _blockwise
from .statespace import (
    StateSpaceSystem,
    _channel_scales,
    _check_canonical,
    _check_size,
    _fit_predictor,
    _fit_scaled,
    _initial_states,
    _rescale,
    _simulate3,
    linear_bdx0,
    stabilize_matrix,
)
from .validate import _channel_fits, _split_index

__all__ = [
    "fit_best",
    "fit_state_space",
    "initial_system",
    "select_order",
    "subspace_id",
    "subspace_singular_values",
]

_CHUNK = 2048  # Hankel columns per QR update
_X0_SCREEN_LENGTH = 5000  # fit_best(x0='auto') screens an estimated initial state up to this
_START_SAMPLES = (
    20_000  # starts of a long or on-disk record are built on (screened on) its beginning
)
_SCREEN_TOL = 1e-4  # relative loss decrease that ends a screening fit
_ORDER_BLOCKS = 10  # contiguous blocks of the inner hold-out for select_order's jackknife
_RESTARTS = 8  # zero-state restarts on which fit_best checks a refinement
_RESTART_DROP = 0.5  # fit points a refinement may lose there before it counts as worse
_MIN_EXCITATION = 0.1  # input variance the part before an inner hold-out keeps, relative
_BIC_FLOOR = 1e-10  # added to the normalised residual covariance (a fit of 99.999 %)


def default_horizon(order: int, length: int, n_sequences: int, channels: int) -> int:
    """Block rows ``k`` of the past/future Hankel blocks.

    ``k = 15`` when the data allow (at least ~10 columns per row of the
    ``2k (m + p)``-row data matrix), never below ``order + 1``.
    """
    cap = (n_sequences * length) // (10 * channels)
    return int(max(order + 1, min(15, cap)))


def _hankel_factor(u3: np.ndarray, y3: np.ndarray, k: int) -> np.ndarray:
    """Lower-triangular ``L`` with ``Z = L Q^T``, ``Z = [U_f; U_p; Y_p; Y_f]`` (streamed)."""
    N, T, m = u3.shape
    p = y3.shape[2]
    rows = 2 * k * (m + p)
    R = np.zeros((0, rows))
    for i in range(N):  # loop over sequences and column chunks, not time steps
        Wu = np.lib.stride_tricks.sliding_window_view(u3[i], 2 * k, axis=0)  # (c, m, 2k)
        Wy = np.lib.stride_tricks.sliding_window_view(y3[i], 2 * k, axis=0)
        for j0 in range(0, Wu.shape[0], _CHUNK):
            wu = Wu[j0 : j0 + _CHUNK].transpose(0, 2, 1)  # (c, 2k, m), time-major rows
            wy = Wy[j0 : j0 + _CHUNK].transpose(0, 2, 1)
            c = wu.shape[0]
            block = np.hstack(
                (
                    wu[:, k:].reshape(c, -1),
                    wu[:, :k].reshape(c, -1),
                    wy[:, :k].reshape(c, -1),
                    wy[:, k:].reshape(c, -1),
                )
            )
            R = np.linalg.qr(np.vstack((R, block)), mode="r")
    if R.shape[0] < rows:
        R = np.vstack((R, np.zeros((rows - R.shape[0], rows))))
    return R.T


def _observability_svd(u3: np.ndarray, y3: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Left singular vectors and singular values of the PO-MOESP matrix ``L_32``."""
    m, p = u3.shape[2], y3.shape[2]
    L = _hankel_factor(u3, y3, k)
    L32 = L[2 * k * m + k * p :, k * m : 2 * k * m + k * p]
    U, S, _ = np.linalg.svd(L32, full_matrices=False)
    return U, S


def _shift_solve(G: np.ndarray, p: int, ridge: float) -> np.ndarray:
    """``A`` from ``G[p:] = G[:-p] A`` by ridge-regularised least squares."""
    G0, G1 = G[:-p], G[p:]
    H = G0.T @ G0
    lam = ridge * max(float(np.trace(H)) / H.shape[0], 1e-300)
    return np.linalg.solve(H + lam * np.eye(H.shape[0]), G0.T @ G1)


def _complete(
    A: np.ndarray, C: np.ndarray, us: np.ndarray, ys: np.ndarray, estimate_x0: bool
) -> StateSpaceSystem:
    """Stabilise ``A``, fit ``B``, ``D`` (and x0) by least squares on the simulation."""
    A = stabilize_matrix(np.ascontiguousarray(A))
    C = np.ascontiguousarray(C)
    B, D, _ = linear_bdx0(A, C, us, ys, estimate_x0=estimate_x0, ridge=1e-8)
    return StateSpaceSystem(A, B, C, D)


def _check_common(u3: Any, y3: Any, order: Any) -> tuple[np.ndarray, np.ndarray, int]:
    """Checked data, in memory (subspace steps slide windows over whole records)."""
    order = check_int(order, "order", low=1)
    u3, y3 = _check_canonical(u3, y3, order)
    return np.asarray(u3, dtype=float), np.asarray(y3, dtype=float), order


def _horizon(horizon: Any, order: int, u3: np.ndarray, y3: np.ndarray) -> int:
    N, T, m = u3.shape
    if horizon is None:
        k = default_horizon(order, T, N, m + y3.shape[2])
    else:
        k = check_int(horizon, "horizon", low=order + 1)
    if N * (T - 2 * k + 1) < 2 * k * (m + y3.shape[2]):
        raise DataError(
            f"order: {order} (horizon {k}) is too large for {N} x {T} samples with "
            f"{m + y3.shape[2]} channels"
        )
    return k


def subspace_id(
    u3: np.ndarray,
    y3: np.ndarray,
    order: int,
    *,
    horizon: int | None = None,
    ridge: float = 1e-8,
    estimate_x0: bool = True,
) -> StateSpaceSystem:
    """MIMO subspace identification (PO-MOESP) with an output-error ``B``, ``D``.

    Inputs and outputs are scaled to unit variance; the triangular factor of the
    block-Hankel matrix ``[U_f; U_p; Y_p; Y_f]`` (``k`` block rows each) is
    accumulated by a streaming QR; the SVD of the future outputs against the past
    (input-corrected) gives the observability matrix, ``C`` its first block row and
    ``A`` its shift invariance (ridge-regularised). Eigenvalues of ``A`` outside the
    unit circle are reflected in (``1/conj``) and shrunk to radius 0.995. ``B``, ``D``
    and the initial states minimise the simulation error for that ``(A, C)``, a
    linear least-squares problem.

    Parameters
    ----------
    u3, y3 : numpy.ndarray
        Canonical centred ``(N, T, m)`` inputs and ``(N, T, p)`` outputs.
    order : int
        State dimension, ``>= 1``.
    horizon : int, optional
        Block rows ``k`` (``> order``); default 15 where the data allow.
    ridge : float
        Relative ridge on the shift least squares (guards coloured inputs).
    estimate_x0 : bool
        Estimate initial states alongside ``B``, ``D`` (they are not returned).

    Returns
    -------
    StateSpaceSystem
        A stable model (in the units of ``u3``, ``y3``).

    Raises
    ------
    DataError
        Data too short for the order and horizon.

    Examples
    --------
    >>> truth = StateSpaceSystem([[0.9, 0.1], [0.0, 0.5]], [[1.0], [1.0]], [[1.0, 0.0]])
    >>> u = np.random.default_rng(0).normal(size=(1, 2000, 1))
    >>> model = subspace_id(u, truth.simulate(u), 2)
    >>> bool(np.allclose(np.sort(model.poles().real), [0.5, 0.9], atol=1e-6))
    True
    """
    u3, y3, order = _check_common(u3, y3, order)
    ridge = check_float(ridge, "ridge", low=0.0)
    k = _horizon(horizon, order, u3, y3)
    su, sy = _channel_scales(u3), _channel_scales(y3)
    us, ys = u3 / su, y3 / sy
    U, S = _observability_svd(us, ys, k)
    p = y3.shape[2]
    G = U[:, :order] * np.sqrt(S[:order])
    A = _shift_solve(G, p, ridge)
    system = _complete(A, G[:p], us, ys, bool(estimate_x0))
    return _rescale(system, 1.0 / su, 1.0 / sy)


def subspace_singular_values(
    u3: np.ndarray, y3: np.ndarray, *, horizon: int | None = None
) -> np.ndarray:
    """Singular values of the PO-MOESP matrix (a gap after the ``order``-th suggests the order).

    Parameters
    ----------
    u3, y3 : numpy.ndarray
        Canonical centred ``(N, T, m)`` inputs and ``(N, T, p)`` outputs.
    horizon : int, optional
        Block rows ``k``; default as in :func:`subspace_id` for order 1.

    Returns
    -------
    numpy.ndarray
        ``(k p,)`` singular values, descending (data scaled to unit variance).

    Examples
    --------
    >>> truth = StateSpaceSystem([[0.9, 0.1], [0.0, 0.5]], [[1.0], [1.0]], [[1.0, 0.0]])
    >>> u = np.random.default_rng(0).normal(size=(1, 2000, 1))
    >>> s = subspace_singular_values(u, truth.simulate(u))
    >>> bool(s[2] < 1e-8 * s[0])
    True
    """
    u3, y3, _ = _check_common(u3, y3, 1)
    k = _horizon(horizon, 1, u3, y3)
    su, sy = _channel_scales(u3), _channel_scales(y3)
    return _observability_svd(u3 / su, y3 / sy, k)[1]


def _arx_markov(us: np.ndarray, ys: np.ndarray, lags: int, count: int) -> np.ndarray:
    """Markov parameters ``(count, p, m)`` of a least-squares ARX model with ``lags`` lags."""
    N, T, m = us.shape
    p = ys.shape[2]
    rows, targets = [], []
    for i in range(N):  # regressors by lag (vectorised over time)
        past = [ys[i, lags - j : T - j] for j in range(1, lags + 1)]
        past += [us[i, lags - j : T - j] for j in range(0, lags + 1)]
        rows.append(np.hstack(past))
        targets.append(ys[i, lags:])
    Phi, Y = np.vstack(rows), np.vstack(targets)
    H = Phi.T @ Phi
    lam = 1e-6 * max(float(np.trace(H)) / H.shape[0], 1e-300)
    theta = np.linalg.solve(H + lam * np.eye(H.shape[0]), Phi.T @ Y)  # (lags(p+m)+m, p)
    Ay = [theta[(j - 1) * p : j * p].T for j in range(1, lags + 1)]  # (p, p)
    Bu = [theta[lags * p + j * m : lags * p + (j + 1) * m].T for j in range(lags + 1)]
    h = np.zeros((count, p, m))
    for t in range(count):  # impulse response: a short loop over lags
        acc = Bu[t].copy() if t <= lags else np.zeros((p, m))
        for j in range(1, min(t, lags) + 1):
            acc += Ay[j - 1] @ h[t - j]
        h[t] = acc
    return h


def _era(h: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray]:
    """``(A, C)`` of the eigensystem realisation of Markov parameters ``h[1:]``."""
    count, p, m = h.shape
    r = (count - 1) // 2
    Hk = np.block([[h[1 + i + j] for j in range(r)] for i in range(r)])  # (r p, r m)
    U, S, _ = np.linalg.svd(Hk, full_matrices=False)
    G = U[:, :order] * np.sqrt(np.maximum(S[:order], 1e-300))
    return _shift_solve(G, p, 1e-8), G[:p]


def _zero_start(order: int, p: int) -> tuple[np.ndarray, np.ndarray]:
    """A small deterministic ``(A, C)``: distinct real poles in [0.3, 0.9], each state seen."""
    A = np.diag(np.linspace(0.3, 0.9, order))
    C = np.zeros((p, order))
    C[np.arange(order) % p, np.arange(order)] = 1.0
    return A, C


def initial_system(
    u3: np.ndarray, y3: np.ndarray, order: int, *, kind: str = "subspace"
) -> StateSpaceSystem:
    """A deterministic, stable start for :func:`fit_state_space`.

    ``'subspace'``: :func:`subspace_id`. ``'arx'``: a least-squares ARX model (``k``
    lags, ridge-regularised), its impulse response realised at ``order`` by the
    eigensystem realisation algorithm. ``'zero'``: poles spread over ``[0.3, 0.9]``.
    For ``'arx'`` and ``'zero'`` the ``(A, C)`` pair is completed like in
    :func:`subspace_id` (stabilised ``A``, least-squares ``B``, ``D``).

    Parameters
    ----------
    u3, y3 : numpy.ndarray
        Canonical centred ``(N, T, m)`` inputs and ``(N, T, p)`` outputs.
    order : int
        State dimension, ``>= 1``.
    kind : {'subspace', 'arx', 'zero'}
        Which start.

    Returns
    -------
    StateSpaceSystem
        A stable model of that order.

    Examples
    --------
    >>> u = np.random.default_rng(0).normal(size=(1, 500, 2))
    >>> y = np.stack([u[0, :, 0] + u[0, :, 1]], axis=-1)[None]
    >>> initial_system(u, y, 2, kind="zero").is_stable()
    True
    """
    kind = check_choice(kind, "kind", ("subspace", "arx", "zero"))
    u3, y3, order = _check_common(u3, y3, order)
    if kind == "subspace":
        return subspace_id(u3, y3, order)
    su, sy = _channel_scales(u3), _channel_scales(y3)
    us, ys = u3 / su, y3 / sy
    p = y3.shape[2]
    if kind == "arx":
        k = _horizon(None, order, u3, y3)
        A, C = _era(_arx_markov(us, ys, k, 4 * k + 1), order)
    else:
        A, C = _zero_start(order, p)
    return _rescale(_complete(A, C, us, ys, True), 1.0 / su, 1.0 / sy)


def fit_state_space(
    u3: np.ndarray,
    y3: np.ndarray,
    order: int,
    *,
    x0: str = "estimate",
    criterion: str = "simulation",
    max_iter: int = 100,
    tol: float = 1e-7,
    start: Any = None,
) -> tuple[StateSpaceSystem, dict[str, Any]]:
    """Output-error (or prediction-error) fit of a full ``(A, B, C, D)`` by Levenberg-Marquardt.

    Minimises ``sum_t ||(y_t - yhat_t) / s_y||^2``, the simulation error, each output
    scaled by its standard deviation (as the fit percent averaged over outputs).
    The exact Jacobian (compiled sensitivity recursions) is accumulated chunk by chunk
    into the normal equations. All of ``A, B, C, D`` (and initial states) are searched
    orthogonally to the similarity directions, in coordinates where state and signals
    have unit variance, so the damped normal equations stay well conditioned (canonical
    forms are not beyond order ~3). Steps reaching ``rho(A) >= 1`` are rejected.

    Parameters
    ----------
    u3, y3 : numpy.ndarray
        Canonical ``(N, T, m)`` inputs and ``(N, T, p)`` outputs, finite and centred
        (the caller validates them; see :mod:`learnlds._boundary`).
    order : int
        State dimension, ``>= 1``.
    x0 : {'estimate', 'zero', 'prior'}
        Estimate each sequence's initial state jointly (its Jacobian is the free
        response), start every sequence from zero, or ``'prior'``: estimate it under
        a Gaussian prior with the start's stationary state covariance, weighted by
        the start's residual variance (MAP; keeps a slow mode from explaining a
        trend with a huge initial state).
    criterion : {'simulation', 'prediction'}
        The output error above, or the one-step prediction error of the innovations
        form ``x+ = A x + B u + K e`` (a noise model, like ARMAX: the predictor
        ``(A - KC, [B - KD, K], C, [D, 0])`` driven by ``[u, y]`` is fitted from
        ``K = 0``); the simulation model ``(A, B, C, D)`` is returned either way.
    max_iter : int
        Most Levenberg-Marquardt iterations (``>= 0``; 0 returns the start).
    tol : float
        Stop when an iteration lowers the loss by less than this relative amount.
    start : None, {'subspace', 'arx', 'zero'} or StateSpaceSystem
        Initial model (``None``: :func:`subspace_id`), stabilised; named starts of long
        records are built on their first 20,000 samples.

    Returns
    -------
    system : StateSpaceSystem
        The fitted model (in the units of ``u3``, ``y3``).
    info : dict
        ``loss_history`` (mean squared scaled error, start first), ``n_iter``,
        ``converged``, ``stop_reason`` ('tol', 'no_progress', 'max_iter'), ``loss``,
        ``x0`` (``(N, order)`` initial states of the model's state; zeros for
        ``x0='zero'``); ``K`` with ``criterion='prediction'`` (losses: prediction).

    Raises
    ------
    ParameterError
        A bad ``order``, ``x0``, ``criterion``, ``max_iter``, ``tol`` or ``start``.
    DataError
        ``u3``/``y3`` of mismatched shape or too short for ``order``.

    Examples
    --------
    >>> truth = StateSpaceSystem([[0.8, 0.2], [0.0, 0.5]], [[1.0], [0.5]], [[1.0, -1.0]])
    >>> u = np.random.default_rng(0).normal(size=(1, 400, 1))
    >>> model, info = fit_state_space(u, truth.simulate(u), 2)
    >>> bool(np.allclose(model.markov(5), truth.markov(5), atol=1e-6))
    True
    """
    order = check_int(order, "order", low=1)
    x0 = check_choice(x0, "x0", ("estimate", "zero", "prior"))
    criterion = check_choice(criterion, "criterion", ("simulation", "prediction"))
    max_iter, tol = check_int(max_iter, "max_iter", low=0), check_float(tol, "tol", low=0.0)
    u3, y3 = _check_canonical(u3, y3, order)
    start = _resolve_start(u3, y3, order, start)
    fit = _fit_predictor if criterion == "prediction" else _fit_scaled
    return fit(u3, y3, order, x0, max_iter, tol, start)


def _resolve_start(u3: Any, y3: Any, order: int, start: Any) -> Any:
    """A given start as it is; a named one built, on the beginning of a long or on-disk
    record (the subspace step slides windows over whole arrays in memory)."""
    if start is not None and not isinstance(start, str):
        return start
    if _blockwise(u3):
        u3, y3 = u3[:, :_START_SAMPLES], y3[:, :_START_SAMPLES]
    return initial_system(u3, y3, order, kind="subspace" if start is None else start)


def _try_fit(
    u3: np.ndarray,
    y3: np.ndarray,
    order: int,
    cand: tuple[int, str, str],
    max_iter: int,
    tol: float,
    start: Any,
    gain: np.ndarray | None = None,
) -> tuple[StateSpaceSystem, dict[str, Any]] | None:
    """One candidate's fit (``(start index, x0, criterion)``), or None when it cannot be built."""
    try:
        _check_size(u3, y3, order)  # a part of data fit_best checked whole
        if cand[2] == "prediction":
            return _fit_predictor(u3, y3, order, cand[1], max_iter, tol, start, gain)
        return _fit_scaled(u3, y3, order, cand[1], max_iter, tol, start)
    except (DataError, np.linalg.LinAlgError):
        return None


def _built_start(u3: np.ndarray, y3: np.ndarray, order: int, start: Any) -> Any:
    """A named start built once (shared by the candidates that use it); None if impossible."""
    if not isinstance(start, str):
        return start
    try:
        _check_size(u3, y3, order)  # a part of data fit_best checked whole
        return initial_system(u3, y3, order, kind=start)
    except (DataError, np.linalg.LinAlgError):
        return None


def _centre(arr3: np.ndarray) -> np.ndarray:
    return arr3 - arr3.mean(axis=(0, 1))


def _split(
    u3: np.ndarray, y3: np.ndarray, holdout: float, centre: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """First ``1 - holdout`` and last ``holdout`` of every sequence, each centred on its
    means (``centre=False``: as they are, for data in deviation variables)."""
    cut = _split_index(u3.shape[1], 1.0 - holdout)
    parts = (u3[:, :cut], y3[:, :cut], u3[:, cut:], y3[:, cut:])
    return tuple(_centre(a) if centre else np.asarray(a, dtype=float) for a in parts)


def _excites_inputs(u3: np.ndarray, holdout: float) -> bool:
    """Whether the first ``1 - holdout`` of the sequences moves every input channel.

    Candidates fitted there are scored on the rest: an input that is constant there
    (a step test whose step comes late) leaves its ``B``/``D`` columns undetermined,
    and every candidate then fails the hold-out by orders of magnitude. Each input's
    variance there must be at least :data:`_MIN_EXCITATION` of its whole-record one.
    """
    u = np.asarray(u3[:, :], dtype=float)  # a lazy record is read once, as _split does
    part = u[:, : _split_index(u.shape[1], 1.0 - holdout)]
    return bool(np.all(np.var(part, axis=(0, 1)) >= _MIN_EXCITATION * np.var(u, axis=(0, 1))))


def _holdout_fit(system: StateSpaceSystem, uv: np.ndarray, yv: np.ndarray) -> float:
    """Zero-state simulation fit percent on held-out data, averaged over outputs."""
    yhat = _simulate3(system, uv, np.zeros((uv.shape[0], system.order)))
    if not np.all(np.isfinite(yhat)):
        return -np.inf
    try:
        with np.errstate(all="ignore"):
            return float(np.mean(_channel_fits(yv, yhat)))
    except DataError:  # a constant held-out channel: no fit percent
        return -np.inf


def _candidates(starts: list[Any], x0: str, criterion: str) -> list[tuple[int, str, str]]:
    """(start index, initial-state treatment, criterion) triples to screen.

    ``criterion='auto'``: output error from every start, prediction error from the
    first start only (it doubles the cost of a candidate's Jacobian for MIMO).
    """
    modes = ("zero", "estimate") if x0 == "auto" else (x0,)
    crits = ("simulation", "prediction") if criterion == "auto" else (criterion,)
    return [
        (i, mode, crit)
        for crit in crits
        for mode in modes
        for i in range(len(starts))
        if criterion != "auto" or crit == "simulation" or i == 0
    ]


def _screen(
    u3: np.ndarray,
    y3: np.ndarray,
    order: int,
    starts: list[Any],
    cands: list[tuple[int, str, str]],
    iters: int,
    tol: float,
    holdout: float,
    centre: bool = True,
) -> tuple[list[Any], np.ndarray, np.ndarray]:
    """Screened fits, their losses and their inner hold-out fits (``-inf`` where failed).

    With ``holdout > 0`` every candidate is fitted on the first part of each sequence
    and scored on the rest; with ``holdout == 0`` on all data, scored by ``-loss``
    (prediction-error candidates then only compete among themselves).
    """
    ue, ye, uv, yv = _split(u3, y3, holdout, centre) if holdout > 0 else (u3, y3, None, None)
    built = [_built_start(ue, ye, order, start) for start in starts]  # once per start
    fits = [
        None if built[c[0]] is None else _try_fit(ue, ye, order, c, iters, tol, built[c[0]])
        for c in cands
    ]
    losses = np.array([np.inf if f is None else f[1]["loss"] for f in fits])
    if uv is None:
        pred = np.array([c[2] == "prediction" for c in cands])
        return fits, losses, np.where(pred & ~np.all(pred), -np.inf, -losses)
    scores = np.array([-np.inf if f is None else _holdout_fit(f[0], uv, yv) for f in fits])
    return fits, losses, scores


def _screened(
    u3: np.ndarray,
    y3: np.ndarray,
    order: int,
    starts: list[Any],
    cands: list[tuple[int, str, str]],
    iters: int,
    tol: float,
    holdout: float,
    centre: bool = True,
) -> tuple[list[Any], np.ndarray, np.ndarray, float]:
    """:func:`_screen`; by loss on all data when the hold-out is too short or the part
    before it does not excite every input (:func:`_excites_inputs`). Also the hold-out."""
    if holdout > 0 and not _excites_inputs(u3, holdout):
        holdout = 0.0
    fits, losses, scores = _screen(u3, y3, order, starts, cands, iters, tol, holdout, centre)
    if holdout > 0 and not np.any(np.isfinite(scores)):
        holdout = 0.0
        fits, losses, scores = _screen(u3, y3, order, starts, cands, iters, tol, holdout)
    if not np.any(np.isfinite(scores)):
        N, T, _ = u3.shape
        raise DataError(
            f"order: no start ({starts!r}) could be fitted at order {order} to {N} x {T} samples"
        )
    return fits, losses, scores, holdout


class _Plan(NamedTuple):
    """Checked ``fit_best`` arguments and what follows from them."""

    starts: list[Any]
    cands: list[tuple[int, str, str]]  # (start index, x0 treatment, criterion)
    screen_iter: int  # iterations of every candidate before the choice
    max_iter: int  # of the final refinement
    holdout: float
    tol: float  # of the final refinement
    screen_tol: float  # of the screening fits (ranking needs no last digits)
    refine: bool
    centre: bool  # centre each part of the inner hold-out (and each restart) on its means


def _plan(
    starts: Iterable[Any],
    x0: Any,
    criterion: Any,
    budgets: tuple[Any, Any, Any, Any],
    holdout: Any,
    length: int,
    centre: Any = True,
) -> _Plan:
    """The checked plan of a ``fit_best`` call.

    ``x0='auto'`` screens no estimated initial state on sequences longer than
    :data:`_X0_SCREEN_LENGTH` (it is worth ``O(1/T)`` of the loss there); screening
    fits stop at :data:`_SCREEN_TOL`.
    """
    max_iter, screen_iter, tol, refine = budgets
    refine, centre = check_bool(refine, "refine"), check_bool(centre, "centre")
    screen_iter = check_int(screen_iter, "screen_iter", low=0)
    max_iter = check_int(max_iter, "max_iter", low=0)
    tol = check_float(tol, "tol", low=0.0)
    holdout = check_float(holdout, "holdout", low=0.0, high=1.0, high_open=True)
    x0 = check_choice(x0, "x0", ("auto", "zero", "estimate", "prior"))
    criterion = check_choice(criterion, "criterion", ("auto", "simulation", "prediction"))
    starts = list(starts)
    if not starts:
        raise ParameterError("starts: give at least one start")
    if x0 == "auto" and length > _X0_SCREEN_LENGTH:
        x0 = "zero"
    cands = _candidates(starts, x0, criterion)
    return _Plan(
        starts,
        cands,
        min(screen_iter, max_iter),
        max_iter,
        holdout,
        tol,
        max(tol, _SCREEN_TOL),
        refine,
        centre,
    )


def fit_best(
    u3: np.ndarray,
    y3: np.ndarray,
    order: int,
    *,
    starts: Iterable[Any] = ("subspace", "arx", "zero"),
    x0: str = "auto",
    criterion: str = "simulation",
    max_iter: int = 100,
    tol: float = 1e-7,
    screen_iter: int = 15,
    holdout: float = 0.3,
    refine: bool = True,
    centre: bool = True,
) -> tuple[StateSpaceSystem, dict[str, Any]]:
    """Screen starts, initial-state treatments and fit criteria; refine what validates best.

    Each (start, ``x0``, ``criterion``) candidate gets ``screen_iter`` iterations of
    :func:`fit_state_space` (to a 1e-4 decrease) on the first ``1 - holdout`` of each
    sequence, ranked by its zero-state simulation fit on the rest (each part centred,
    as :func:`learnlds.validate.holdout`); the winner is refined on all data to ``tol``
    (the lowest loss can come from modes that do not generalise). ``holdout=0``: loss.

    Parameters
    ----------
    u3, y3 : numpy.ndarray
        Canonical centred ``(N, T, m)`` inputs and ``(N, T, p)`` outputs.
    order : int
        State dimension, ``>= 1``.
    starts : iterable
        Names ('subspace', 'arx', 'zero') or StateSpaceSystem starts.
    x0 : {'auto', 'zero', 'estimate', 'prior'}
        ``'auto'``: ``'zero'`` and (sequences up to 5000 samples) ``'estimate'``.
    criterion : {'simulation', 'prediction', 'auto'}
        Of ``fit_state_space``; ``'auto'`` adds prediction-error candidates from the
        first start (on DaISy records they won hold-outs and lost on validation).
    max_iter : int
        Most iterations of the final refinement.
    tol : float
        Relative loss decrease that stops a fit.
    screen_iter : int
        Iterations every candidate gets before the choice.
    holdout : float
        Fraction of each sequence scoring the candidates, ``[0, 1)``.
    refine : bool
        Refine the winner on all data (kept unless it fails :func:`_fails_restarts`).
    centre : bool
        Centre each part of the inner hold-out (and each restart segment) on its own
        means, as the validation protocol does; ``False`` for data in deviation
        variables that start at rest (the estimator's ``demean=False``).

    Returns
    -------
    system : StateSpaceSystem
        The refined (or screened) model.
    info : dict
        The final fit's info (see ``fit_state_space``) plus ``start`` (index in
        ``starts``), ``x0_mode``, ``criterion``, ``selected_by`` ('holdout' or 'loss'),
        ``refined`` (whether a refinement was kept); per screened candidate of
        ``candidates``: ``start_losses`` (``inf``: failed), ``start_scores``.

    Raises
    ------
    ParameterError
        No start, or a bad ``x0``, ``criterion``, budget, ``holdout`` or ``refine``.
    DataError
        No start could be fitted (data too short for ``order``).

    Examples
    --------
    >>> truth = StateSpaceSystem([[0.9, 0.1], [0.0, 0.5]], [[1.0], [1.0]], [[1.0, 0.0]])
    >>> u = np.random.default_rng(0).normal(size=(1, 500, 1))
    >>> bool(fit_best(u, truth.simulate(u), 2)[1]["loss"] < 1e-12)
    True
    """
    order = check_int(order, "order", low=1)
    u3, y3 = _check_canonical(u3, y3, order)  # shapes and finiteness, once
    budgets = (max_iter, screen_iter, tol, refine)
    plan = _plan(starts, x0, criterion, budgets, holdout, len(u3[0]), centre)
    return _run(u3, y3, order, plan)


def _run(
    u3: np.ndarray, y3: np.ndarray, order: int, plan: _Plan
) -> tuple[StateSpaceSystem, dict[str, Any]]:
    """:func:`fit_best` once its arguments are checked: screen, choose, refine, check."""
    cands = plan.cands
    fits, losses, scores, holdout = _screened(
        u3,
        y3,
        order,
        plan.starts,
        cands,
        plan.screen_iter,
        plan.screen_tol,
        plan.holdout,
        plan.centre,
    )
    best = int(np.argmax(scores))
    system, info = fits[best]
    if plan.refine and (holdout > 0 or (not info["converged"] and plan.max_iter > info["n_iter"])):
        refined = _refine(
            u3, y3, order, cands[best], plan.max_iter, plan.tol, fits[best], holdout > 0
        )
        system, info = _checked(refined, fits[best], u3, y3, holdout > 0, plan.centre)
    return system, _report(info, cands, best, losses, scores, holdout)


def _checked(
    refined: tuple[StateSpaceSystem, dict[str, Any]],
    screened: tuple[StateSpaceSystem, dict[str, Any]],
    u3: np.ndarray,
    y3: np.ndarray,
    held: bool,
    centre: bool,
) -> tuple[StateSpaceSystem, dict[str, Any]]:
    """The refinement, unless (after a hold-out choice) it fails the restart check."""
    if held and _fails_restarts(refined[0], screened[0], u3, y3, centre):
        return screened[0], dict(
            screened[1], refined=False, stop_reason="refinement rejected (restarts)"
        )
    return refined[0], dict(refined[1], refined=True)


def _restart_fits(
    system: StateSpaceSystem, u3: np.ndarray, y3: np.ndarray, centre: bool = True
) -> np.ndarray:
    """Zero-state fit percent on ``_RESTARTS`` evenly spaced segments of 30 % of the record
    (each centred unless ``centre=False``): the validation protocol, restarted inside the
    estimation data."""
    T = u3.shape[1]
    length = int(0.3 * T)
    fits = []
    for t0 in np.linspace(0, T - length, _RESTARTS).astype(int):
        u, y = (a[:, t0 : t0 + length] for a in (u3, y3))
        u, y = (_centre(u), _centre(y)) if centre else (u, y)
        fits.append(_holdout_fit(system, u, y))
    return np.maximum(np.array(fits), -100.0)  # a blown-up segment counts as -100 %


def _fails_restarts(
    refined: StateSpaceSystem,
    screened: StateSpaceSystem,
    u3: np.ndarray,
    y3: np.ndarray,
    centre: bool = True,
) -> bool:
    """Whether the refinement made the model materially and significantly worse when
    restarted from zero state on segments of its own estimation data.

    The refined model has seen all of them, the screened one (which won the hold-out)
    70 %: a refinement that still loses there (mean loss over 0.5 points, paired
    t below -2 over the segments) has gone to a minimum that only works when run
    continuously from the record's start (lightly damped modes tuned to its
    transient), which fails the validation protocol.
    """
    if int(0.3 * u3.shape[1]) < 10 * refined.order:
        return False
    d = _restart_fits(refined, u3, y3, centre) - _restart_fits(screened, u3, y3, centre)
    se = float(np.std(d, ddof=1) / np.sqrt(d.size))
    return bool(d.mean() < -_RESTART_DROP and d.mean() < -2.0 * se)


def _report(
    info: dict[str, Any],
    cands: list[tuple[int, str, str]],
    best: int,
    losses: np.ndarray,
    scores: np.ndarray,
    holdout: float,
) -> dict[str, Any]:
    """The final fit's info plus how :func:`fit_best` chose it."""
    return dict(
        info,
        start=cands[best][0],
        x0_mode=cands[best][1],
        criterion=cands[best][2],
        candidates=cands,
        selected_by="holdout" if holdout > 0 else "loss",
        start_losses=losses,
        start_scores=scores,
    )


def _refine(
    u3: np.ndarray,
    y3: np.ndarray,
    order: int,
    cand: tuple[int, str, str],
    max_iter: int,
    tol: float,
    screened: tuple[StateSpaceSystem, dict[str, Any]],
    fresh: bool,
) -> tuple[StateSpaceSystem, dict[str, Any]]:
    """Continue a screened fit (and its gain ``K``) on all data; history joined unless ``fresh``."""
    system, info = screened
    budget = max_iter if fresh else max_iter - info["n_iter"]
    out = _try_fit(u3, y3, order, cand, budget, tol, system, info.get("K"))
    if out is None:
        raise DataError(f"order: {order} cannot be refined on these data")
    system, more = out
    if not fresh:
        more["loss_history"] = np.concatenate((info["loss_history"], more["loss_history"][1:]))
        more["n_iter"] += info["n_iter"]
    return system, more


def _nuisance_free_error(system: StateSpaceSystem, uv: np.ndarray, yv: np.ndarray) -> np.ndarray:
    """``yv`` less the model's response to ``uv`` from each sequence's least-squares initial
    state, and less a least-squares constant per output and sequence.

    Both are nuisances of a short centred hold-out: the state at the cut is unknown,
    and the segment's own means are a noisy operating point (an order with one more
    slow pole would otherwise score by imitating the offset).
    """
    N, T, p = yv.shape
    n = system.order
    basis = _simulate3(system, np.zeros((n, T, uv.shape[2])), np.eye(n))  # free responses
    X = np.concatenate(
        (basis.reshape(n, T * p).T, np.tile(np.eye(p), (T, 1))), axis=1
    )  # (T p, n + p): initial state, then one constant per output
    forced = yv - _simulate3(system, uv, np.zeros((N, n)))
    R = forced.reshape(N, T * p).T
    coef = np.linalg.lstsq(X, R, rcond=None)[0]
    return (R - X @ coef).T.reshape(N, T, p)


def _holdout_sums(system: StateSpaceSystem, uv: np.ndarray, yv: np.ndarray) -> np.ndarray | None:
    """Squared error and squared output ``(2, blocks, p)`` of the hold-out, block by block,
    outputs weighted by their spread, the initial state and offsets fitted
    (:func:`_nuisance_free_error`). ``None`` when the simulation is not finite, an output
    is constant there or the hold-out has no more rows than fitted values.

    The squared errors are charged for the ``order + p`` values fitted per sequence
    (times ``rows / (rows - fitted)``, the unbiased residual variance): without it a
    higher order scores by fitting its longer initial state to a short hold-out (on
    100-sample records of order-2 plants, order 7 won and lost 25 points on fresh data).
    """
    scale = np.sqrt(np.mean(yv**2, axis=(0, 1)))
    if np.any(scale == 0):
        return None
    unit = _rescale(system, np.ones(system.n_inputs), scale)
    try:
        with np.errstate(all="ignore"):
            err = _nuisance_free_error(unit, uv, yv / scale)
    except (np.linalg.LinAlgError, ValueError):
        return None
    N, T, p = yv.shape
    rows, fitted = N * T * p, N * (system.order + p)
    if rows <= fitted or not np.all(np.isfinite(err)):
        return None
    edges = np.linspace(0, T, max(1, min(_ORDER_BLOCKS, T // 10)) + 1).astype(int)[:-1]
    charge = rows / (rows - fitted)
    per_time = np.stack((charge * np.sum(err**2, axis=0), np.sum((yv / scale) ** 2, axis=0)))
    return np.add.reduceat(per_time, edges, axis=1)


def _jackknife_fits(sums: np.ndarray) -> tuple[float, np.ndarray]:
    """Fit percent (averaged over outputs) from block sums, and with each block left out."""

    def fit(err: np.ndarray, out: np.ndarray) -> np.ndarray:
        return np.mean(100.0 * (1.0 - np.sqrt(err / out)), axis=-1)

    total = sums.sum(axis=1)
    return float(fit(*total)), fit(total[0] - sums[0], total[1] - sums[1])


def _paired_se(left_out_a: np.ndarray, left_out_b: np.ndarray) -> float:
    """Delete-one-block jackknife standard error of a difference of two fits (same blocks)."""
    d = left_out_a - left_out_b
    B = d.size
    return float(np.sqrt((B - 1) / B * np.sum((d - d.mean()) ** 2))) if B > 1 else 0.0


def _fits_per_order(
    u3: np.ndarray, y3: np.ndarray, orders: list[int], fit_options: dict
) -> dict[int, tuple[StateSpaceSystem, dict[str, Any]] | None]:
    """:func:`fit_best` at every order (``None`` where the order cannot be fitted)."""
    out: dict[int, tuple[StateSpaceSystem, dict[str, Any]] | None] = {}
    for k in orders:
        try:
            out[k] = fit_best(u3, y3, k, **fit_options)
        except (DataError, ParameterError):
            out[k] = None
    return out


def _holdout_scores(
    fits: dict[int, Any], uv: np.ndarray, yv: np.ndarray
) -> dict[int, tuple[float, np.ndarray] | None]:
    """Per order: the screened winner's hold-out fit and its leave-one-block-out fits
    (``None``: not fitted, or chosen by loss because the hold-out was too short)."""
    out: dict[int, tuple[float, np.ndarray] | None] = {}
    for k, fit in fits.items():
        held = fit is not None and fit[1]["selected_by"] == "holdout"
        sums = _holdout_sums(fit[0], uv, yv) if held else None
        out[k] = None if sums is None else _jackknife_fits(sums)
    return out


def _fitted_values(order: int, m: int, p: int, sequences: int) -> int:
    """Values a state-space fit takes from the data: the identifiable parameters
    ``n (m + p) + m p`` and an initial state per sequence (the ``d`` of :func:`_bic`)."""
    return order * (m + p) + m * p + sequences * order


def _geometric_sums(A: np.ndarray, P: np.ndarray, T: int) -> tuple[np.ndarray, np.ndarray]:
    """``sum_{t<T} A^t P A^t'`` and ``sum_{t<T} A^t`` by doubling (``O(log T)`` products,
    exact for any ``A``; no loop over time, no ``(I - A)`` inverse near a unit pole)."""
    n = A.shape[0]
    quad, lin, power = np.zeros((n, n)), np.zeros((n, n)), np.eye(n)  # the first r terms
    bq, bl, bp = P.copy(), np.eye(n), A.copy()  # a block of k = 2^j terms, A^k
    while T:
        if T & 1:
            quad = quad + power @ bq @ power.T
            lin = lin + power @ bl
            power = power @ bp
        T >>= 1
        if T:
            bq, bl, bp = bq + bp @ bq @ bp.T, bl + bp @ bl, bp @ bp
    return quad, lin


def _startup_covariance(system: StateSpaceSystem, x3: np.ndarray, length: int) -> np.ndarray:
    """Mean covariance of the zero-state start-up error over ``length`` samples, centred.

    A record cut from operation (the validation half of the protocol, or any record
    ``predict`` simulates from rest) starts in a state ``x0`` the zero-state simulation
    does not know: if the model is right, its output then misses the free response
    ``C A^t x0``. With ``x0`` drawn from the model's own state distribution on the data
    (``P``, the mean of ``x x'`` over ``x3``), each part centred on its own mean as the
    protocol does, the expected error covariance per sample is
    ``(sum_t C A^t P A^t' C' - G P G' / T) / T`` with ``G = sum_t C A^t``, ``t < T``.
    A high-gain slow mode makes it large: such a model validates far worse from rest
    than its fit with an estimated initial state says (CD_player_arm at order 7: 59 %
    from rest, 77 % with the state estimated).
    """
    n = system.order
    X = x3.reshape(-1, n)
    P = X.T @ X / X.shape[0]
    quad, lin = _geometric_sums(system.A, P, length)
    G = system.C @ lin
    return (system.C @ quad @ system.C.T - G @ P @ G.T / length) / length


def _bic(system: StateSpaceSystem, u3: np.ndarray, y3: np.ndarray) -> float:
    """Bayesian information criterion of ``system`` on ``u3, y3`` (lower is better).

    ``rows * log det(S) + d * log(rows)``: ``S`` the covariance of the simulation error
    from each sequence's least-squares initial state, outputs divided by their RMS
    (units do not matter), unbiased (times ``rows p / (rows p - d)``: without it 30
    samples of order-2 plants chose order 4), plus the expected start-up error of a
    zero-state simulation of a record of the same length cut from operation
    (:func:`_startup_covariance`): the criterion scores the simulation from rest that
    validation and ``predict`` run, not only the fit with a fitted initial state (without
    it, orders with a slow high-gain mode won and lost 17 points on CD_player_arm, 36 on
    a short record with a large initial transient). ``d = n (m + p) + m p`` identifiable
    parameters plus ``n`` per sequence. Every order gets its initial states the same
    way, whichever treatment :func:`fit_best` chose for it (charging only the fits that
    estimated them made an order-2 plant choose order 3). ``inf`` when the simulation
    is not finite or ``d >= rows p``.
    """
    N, T, p = y3.shape
    n = system.order
    scale = np.sqrt(np.mean(y3.reshape(N * T, p) ** 2, axis=0))
    scale = np.where(scale > 0, scale, 1.0)
    unit = _rescale(system, np.ones(system.n_inputs), scale)  # outputs in RMS units
    with np.errstate(all="ignore"):
        try:
            x0s = _initial_states(unit, u3, y3 / scale)
        except (np.linalg.LinAlgError, ValueError):
            return np.inf
        states = StateSpaceSystem(unit.A, unit.B, np.eye(n), np.zeros((n, unit.n_inputs)))
        x3 = _simulate3(states, u3, x0s)  # one simulation: the outputs are C x + D u
        err = (y3 / scale - x3 @ unit.C.T - u3 @ unit.D.T).reshape(N * T, p)
        startup = _startup_covariance(unit, x3, T)
    if not (np.all(np.isfinite(err)) and np.all(np.isfinite(startup))):
        return np.inf
    d = _fitted_values(n, system.n_inputs, p, N)
    if d >= N * T * p:
        return np.inf
    cov = err.T @ err / (N * T - d / p) + startup + _BIC_FLOOR * np.eye(p)
    return float(N * T * np.linalg.slogdet(cov)[1] + d * np.log(N * T))


def select_order(
    u3: np.ndarray,
    y3: np.ndarray,
    orders: Iterable[int] = range(1, 9),
    *,
    method: str = "bic",
    holdout: float = 0.3,
    tolerance: float = 0.5,
    n_se: float = 1.0,
    **fit_options: Any,
) -> tuple[int, dict[int, float]]:
    """Choose the model order: information criterion of the full fit, or inner hold-out.

    ``method='bic'`` (default; the hold-out is short, see ``docs/benchmarks.md``): each
    order is fitted by :func:`fit_best` on all the data; the lowest Bayesian information
    criterion of that fit's simulation error wins (:func:`_bic`; the error includes the
    expected start-up error of a simulation from rest).

    ``method='holdout'``: per order, :func:`fit_best` (not refined) picks its candidate
    on the last ``holdout`` of each sequence; the order's score is that candidate's fit
    percent there (output average), the segment's initial state and output offsets
    fitted by least squares (:func:`_nuisance_free_error`), the squared error charged
    for those fitted values (:func:`_holdout_sums`). The smallest order within
    ``max(tolerance, n_se * SE)`` of the best wins, ``SE`` being the jackknife standard
    error (10 contiguous blocks) of the score difference.

    Parameters
    ----------
    u3, y3 : numpy.ndarray
        Canonical centred ``(N, T, m)`` inputs and ``(N, T, p)`` outputs.
    orders : iterable of int
        Candidate orders.
    method : {'bic', 'holdout'}
        How orders are compared (above).
    holdout : float
        Fraction of each sequence ranking starts (``'holdout'``: and orders), ``(0, 1)``.
    tolerance : float
        ``'holdout'``: fit points a smaller order may always lose to the best and win.
    n_se : float
        ``'holdout'``: standard errors of the score difference a smaller order may lose
        (1: the one-standard-error rule; 0 with ``tolerance=0``: the best score).
    **fit_options
        Passed to :func:`fit_best` (``starts``, ``x0``, ``max_iter``, ``tol``, ...).

    Returns
    -------
    best_order : int
        The chosen order.
    scores : dict
        Per order: the information criterion (``'bic'``, lower is better, ``inf``:
        not fitted) or the inner hold-out fit percent (``'holdout'``, ``-inf``).

    Raises
    ------
    ParameterError
        No candidate orders, or a bad ``method``/``holdout``/``tolerance``/``n_se``.
    DataError
        Data too short to compare orders (minimum length named), or no order fitted.

    Examples
    --------
    >>> truth = StateSpaceSystem([[0.9, 0.1], [0.0, 0.5]], [[1.0], [1.0]], [[1.0, 0.0]])
    >>> rng = np.random.default_rng(0)
    >>> u = rng.normal(size=(1, 1000, 1))
    >>> y = truth.simulate(u) + 0.05 * rng.normal(size=(1, 1000, 1))
    >>> select_order(u, y, orders=[1, 2, 3])[0], select_order(u, y, [1, 2, 3], method="holdout")[0]
    (2, 2)
    """
    method = check_choice(method, "method", ("bic", "holdout"))
    holdout = check_float(holdout, "holdout", low=0.0, high=1.0, low_open=True, high_open=True)
    tolerance = check_float(tolerance, "tolerance", low=0.0)
    n_se = check_float(n_se, "n_se", low=0.0)
    orders = sorted({check_int(k, "orders", low=1) for k in orders})
    if not orders:
        raise ParameterError("orders: give at least one candidate order")
    u3, y3 = _check_canonical(u3, y3, orders[0])  # shapes first, not a TypeError inside
    _require_comparable(u3.shape, y3.shape[2], orders[0])
    if method == "bic":
        return _bic_choice(u3, y3, orders, {**fit_options, "holdout": holdout})[:2]
    return _holdout_choice(u3, y3, orders, holdout, (tolerance, n_se), fit_options)


def _require_comparable(shape_u: tuple[int, ...], p: int, order: int) -> None:
    """Refuse data too short to compare orders: even the smallest candidate's fitted
    values (parameters and initial states) need three output values each, the estimator's
    rule for the orders it tries (with fewer, a criterion of 5 samples chose order 1 from 4
    fitted values and said nothing)."""
    N, T, m = shape_u
    fitted = _fitted_values(order, m, p, N)
    if N * T * p <= 3 * fitted:
        need = 3 * fitted // (N * p) + 1
        raise DataError(
            f"u3, y3: {T} samples per sequence are too short to choose an order: order "
            f"{order} fits {fitted} values, and comparing orders needs over three output "
            f"values per fitted value, so at least {need} samples per sequence"
        )


def _bic_choice(
    u3: np.ndarray, y3: np.ndarray, orders: list[int], fit_options: dict, refit: Any = None
) -> tuple[int, dict[int, float], tuple[StateSpaceSystem, dict[str, Any]]]:
    """``select_order(method='bic')`` once its arguments are checked; also the chosen
    order's ``fit_best`` result (the estimator keeps it instead of fitting it again).

    ``refit(system, info) -> system``: score what each order's fit becomes (the
    estimator's prediction-error refinement) instead of the fit itself; the criterion
    still scores the simulation from rest, which is what validation and ``predict`` run.
    """
    fits = _fits_per_order(u3, y3, orders, fit_options)
    scored = {
        k: None if f is None else f[0] if refit is None else refit(*f) for k, f in fits.items()
    }
    bics = {k: np.inf if f is None else _bic(f, u3, y3) for k, f in scored.items()}
    best = min(orders, key=lambda k: bics[k])
    if not np.isfinite(bics[best]):
        raise DataError(f"orders: none of {orders} could be fitted to these data")
    return best, bics, fits[best]


def _holdout_choice(
    u3: np.ndarray,
    y3: np.ndarray,
    orders: list[int],
    holdout: float,
    slack: tuple[float, float],
    fit_options: dict,
) -> tuple[int, dict[int, float]]:
    """``select_order(method='holdout')`` once its arguments are checked."""
    tolerance, n_se = slack
    options = {**fit_options, "holdout": holdout, "refine": False}
    _, _, uv, yv = _split(u3, y3, holdout, fit_options.get("centre", True))
    fits = _holdout_scores(_fits_per_order(u3, y3, orders, options), uv, yv)
    scores = {k: -np.inf if f is None else f[0] for k, f in fits.items()}
    top = max(orders, key=lambda k: scores[k])
    if not np.isfinite(scores[top]):
        raise DataError(
            f"orders: none of {orders} could be fitted and scored on a hold-out of these data "
            "(too short, a held-out output constant, or an input not moving before the "
            "hold-out); the information criterion (method='bic', the estimator's "
            "order_selection='bic') scores all the data instead"
        )

    def within(k: int) -> bool:
        gap = max(tolerance, n_se * _paired_se(fits[k][1], fits[top][1]))
        return scores[k] >= scores[top] - gap

    return min(k for k in orders if fits[k] is not None and within(k)), scores
