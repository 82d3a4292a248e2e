"""Classic system-identification baselines: ARX, Ho-Kalman/ERA, N4SID (PO-MOESP), OE.

Each function takes one SISO input/output record ``(u, y)`` of shape ``(T,)`` and
returns an :class:`IdentifiedSystem`: a :class:`~learnlds.systems.CanonicalSystem`
(so it simulates, has Markov parameters, a frequency response, a state-space form
and an order exactly like a learned model) that also carries the method name and
diagnostics in ``info`` (for example the Hankel singular values used to choose an
order).

Why these four: ARX is the linear least-squares reference, Ho-Kalman and
subspace identification are the non-iterative state-space references, and the
output-error prediction-error method is the statistically efficient reference
for white measurement noise, the same noise model as the paper's.

Memory: every tall least-squares problem is compressed by a streaming QR
(the R factor of the stacked data matrix is updated chunk by chunk), so memory
is ``O(p^2 + chunk * p)`` for ``p`` regressors and the data itself; no ``T x T``
or full ``T x p`` Hankel matrix is ever built for ``n4sid`` and ``ho_kalman``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
from scipy import linalg, optimize, signal

from ._boundary import check_bool, check_int
from .errors import DataError, ParameterError, UnsupportedShapeError
from .records import streaming_io
from .systems import CanonicalSystem

__all__ = ["IdentifiedSystem", "arx", "fir_markov", "ho_kalman", "n4sid", "oe"]

_CHUNK = 8192  # rows per block of the streaming QR (cache-sized: faster than larger blocks)


# --------------------------------------------------------------------------- result type
class IdentifiedSystem(CanonicalSystem):
    """A canonical-form model estimated from data, with the method and its diagnostics.

    It *is* a :class:`~learnlds.systems.CanonicalSystem` (``simulate``, ``markov``,
    ``frequency_response``, ``to_state_space``, ``order``, ``save``).

    Parameters
    ----------
    a, c, d : array_like
        Canonical coefficients, as for :class:`~learnlds.systems.CanonicalSystem`.
    method : str, default ''
        The estimator's name.
    info : dict, optional
        Diagnostics.

    Raises
    ------
    DataError
        Coefficients that are not finite numbers or do not fit together.
    ParameterError
        ``method`` not a string, or ``info`` not a mapping.

    Attributes
    ----------
    method : str
        The estimator's name (``'arx'``, ``'ho_kalman'``, ``'n4sid'``, ``'oe'``).
    info : dict
        Extras such as ``hankel_singular_values``, ``horizon``, ``cost``,
        ``residual_rms`` or the balanced ``state_space``.

    Examples
    --------
    >>> m = IdentifiedSystem([-0.5], [1.0], method="arx", info={"na": 1})
    >>> m.method, m.order, m.info["na"]
    ('arx', 1, 1)
    """

    method: str
    info: dict[str, Any]

    def __init__(
        self, a: Any, c: Any, d: Any = 0.0, *, method: str = "", info: dict | None = None
    ) -> None:
        super().__init__(a, c, d)
        if not isinstance(method, str):
            raise ParameterError(f"method: must be a string, got {type(method).__name__}")
        if info is not None and not isinstance(info, Mapping):
            raise ParameterError(
                f"info: must be a dict of diagnostics or None, got {type(info).__name__}"
            )
        object.__setattr__(self, "method", method)
        object.__setattr__(self, "info", dict(info or {}))

    @classmethod
    def from_canonical(
        cls, system: CanonicalSystem, method: str, info: dict | None = None
    ) -> IdentifiedSystem:
        """Wrap a :class:`~learnlds.systems.CanonicalSystem` with a method name and diagnostics.

        Parameters
        ----------
        system : CanonicalSystem
            The model.
        method : str
            The estimator's name.
        info : dict, optional
            Diagnostics.

        Returns
        -------
        IdentifiedSystem
            The same coefficients.

        Examples
        --------
        >>> IdentifiedSystem.from_canonical(CanonicalSystem([0.5], [1.0]), "oe").method
        'oe'
        """
        return cls(system.a, system.c, system.d, method=method, info=info)

    @property
    def hankel_singular_values(self) -> np.ndarray | None:
        """Singular values of the Hankel matrix (``ho_kalman``) or of the subspace
        projection (``n4sid``); a gap after the ``n``-th suggests order ``n``."""
        return self.info.get("hankel_singular_values")

    def __repr__(self) -> str:
        return f"{self.method or 'Identified'}:{super().__repr__()}"


# --------------------------------------------------------------------------- input checks
def _siso_io(u: Any, y: Any, method: str, min_length: int) -> tuple[np.ndarray, np.ndarray]:
    """One SISO record through the front door, as 1-D arrays, long enough and exciting.

    ``min_length`` is what the method needs for the model size asked; the message
    names the method and what to change.
    """
    io = streaming_io(u, y)  # memory-mapped records stay on disk
    if not io.is_siso:
        raise UnsupportedShapeError(
            f"{method}: single-input single-output records only, got u with {io.n_inputs} "
            f"and y with {io.n_outputs} channel(s) (time along axis 0, one column per channel)"
        )
    ua, ya = io.u[0, :, 0], io.y[0, :, 0]  # type: ignore[index]
    if ua.size < min_length:
        raise DataError(
            f"{method}: data too short: {ua.size} samples, need at least {min_length} for this "
            "model size (lower the order/horizon or supply more data)"
        )
    if np.ptp(ua) == 0:
        raise DataError("u: the input is constant, it does not excite the system")
    return ua, ya


# --------------------------------------------------------------------------- linear algebra
def _streaming_r(make_blocks: Callable[[], Iterator[np.ndarray]], p: int) -> np.ndarray:
    """Upper-triangular ``R`` (p x p) with ``R^T R = M^T M`` for ``M`` given as row blocks.

    First pass: accumulate the Gram matrix ``M^T M`` (BLAS-3, fast) and take its
    Cholesky factor. Squaring the condition number costs ``eps * cond^2`` relative
    accuracy, harmless for noisy data; when the Gram matrix is singular or
    ill-conditioned (``cond(R) > 1e5``, e.g. noiseless data) a second pass computes
    ``R`` by a tall-skinny Householder QR, one block at a time, to full accuracy.
    Memory ``O(p * (p + block))`` either way.
    """
    G = np.zeros((p, p))
    with np.errstate(over="ignore", invalid="ignore"):  # huge data: the QR pass below
        for blk in make_blocks():
            G += blk.T @ blk
    try:
        if np.all(np.isfinite(G)):
            R = linalg.cholesky(G, lower=False, check_finite=False)
            if np.linalg.cond(R) < 1e5:
                return R
    except linalg.LinAlgError:
        pass
    R = np.zeros((0, p))
    for blk in make_blocks():
        stacked = np.vstack((R, blk))
        R = linalg.qr(stacked, mode="r", overwrite_a=True, check_finite=False)[0][:p]
    if R.shape[0] < p:
        R = np.vstack((R, np.zeros((p - R.shape[0], p))))
    return R


def _with_target(
    columns: list[tuple[np.ndarray, int]], target: np.ndarray, start: int, stop: int
) -> Iterator[np.ndarray]:
    """Row blocks ``t = start..stop-1`` of ``[x[t - lag] for (x, lag) in columns] + [target_t]``."""
    for t0 in range(start, stop, _CHUNK):
        t1 = min(t0 + _CHUNK, stop)
        yield np.column_stack([x[t0 - lag : t1 - lag] for x, lag in columns] + [target[t0:t1]])


def _ls_from_r(R: np.ndarray) -> tuple[np.ndarray, float]:
    """Solve ``min ||Phi theta - y||`` from the R factor of ``[Phi, y]``; also the residual norm."""
    R11, r12 = R[:-1, :-1], R[:-1, -1]
    scale = np.max(np.abs(np.diag(R11))) if R11.size else 0.0
    if R11.size and np.min(np.abs(np.diag(R11))) > 1e-13 * scale:
        theta = linalg.solve_triangular(R11, r12, check_finite=False)
    else:  # rank deficient regressors: minimum-norm solution
        theta = linalg.lstsq(R11, r12, check_finite=False)[0]
    return theta, float(abs(R[-1, -1]))


def _numerator_blocks(
    u: np.ndarray, y: np.ndarray, den: np.ndarray, with_x0: bool
) -> Iterator[np.ndarray]:
    """Row blocks of ``[s_{t-n} .. s_{t-1}, u_t, (g_t .. g_{t-n+1}), y_t]``, ``s = u / den``.

    ``g`` is the impulse response of ``1 / den`` (the free response of an initial
    state). Filters run a block at a time with their states carried (``lfilter``'s
    ``zi``), lagged copies come from the last ``n`` values of the previous block: the
    rows equal those of the whole-record construction, in ``O(block n)`` memory.
    """
    n, T = den.size - 1, u.size
    zs, zg = np.zeros(n), np.zeros(n)
    hs, hg = np.zeros(n), np.zeros(n)  # the n values before the block
    for t0 in range(0, T, _CHUNK):
        ub = np.asarray(u[t0 : t0 + _CHUNK], dtype=float)
        L = ub.size
        sb, zs = signal.lfilter([1.0], den, ub, zi=zs)
        se = np.concatenate((hs, sb))  # se[n + v] = s at t0 + v
        cols = [se[j - 1 : j - 1 + L] for j in range(1, n + 1)]  # lag n + 1 - j ... 1
        cols.append(ub)
        if with_x0:
            imp = np.zeros(L)
            imp[0] = 1.0 if t0 == 0 else 0.0
            gb, zg = signal.lfilter([1.0], den, imp, zi=zg)
            ge = np.concatenate((hg, gb))
            cols.extend(ge[n - j : n - j + L] for j in range(n))  # lag j
            hg = ge[-n:] if n else hg
        hs = se[-n:] if n else hs
        yield np.column_stack(cols + [np.asarray(y[t0 : t0 + L], dtype=float)])


def _fit_numerator(
    u: np.ndarray, y: np.ndarray, a: np.ndarray, *, estimate_x0: bool = True
) -> tuple[np.ndarray, float, float]:
    """Least-squares ``(c, d)`` of the canonical model for fixed poles ``a``.

    With ``s = u / p_a``, ``yhat_t = sum_j c_j s_{t-n-1+j} + d u_t`` is linear in
    ``(c, d)``; optionally the free response of an unknown initial state
    (``n`` impulse responses of ``q^{-j} / A(q)``) is fitted alongside and discarded.
    The regressors are streamed (:func:`_numerator_blocks`): memory independent of
    the length. Returns ``(c, d, residual rms)``.
    """
    n = a.size
    den = np.concatenate(([1.0], a))
    rho = np.max(np.abs(np.roots(den))) if n else 0.0
    with_x0 = bool(estimate_x0 and rho < 1.0 + 1e-9)
    width = n + 1 + (n if with_x0 else 0)
    R = _streaming_r(lambda: _numerator_blocks(u, y, den, with_x0), width + 1)
    theta, res = _ls_from_r(R)
    return theta[:n], float(theta[n]), res / np.sqrt(u.size)


# --------------------------------------------------------------------------- ARX
def arx(u: Any, y: Any, na: int, nb: int, nk: int = 1) -> IdentifiedSystem:
    """Least-squares ARX model ``A(q) y = B(q) u + e``.

    ``y_t + a_1 y_{t-1} + ... + a_na y_{t-na} = b_1 u_{t-nk} + ... + b_nb u_{t-nk-nb+1} + e_t``
    (``nb`` counts coefficients, as in MATLAB/SIPPY); ``nk = 0`` gives a direct term,
    so an order-``n`` system with feed-through is ``na = n, nb = n + 1, nk = 0``. ARX is
    consistent for equation-error noise ``e``; under white *output* noise it is biased.

    Parameters
    ----------
    u, y : array_like
        One SISO record, ``(T,)`` each.
    na : int
        Autoregressive coefficients, ``>= 0``.
    nb : int
        Input coefficients, ``>= 1``.
    nk : int, default 1
        Input delay, ``>= 0``.

    Returns
    -------
    IdentifiedSystem
        Order ``max(na, nk + nb - 1)`` (at least 1); ``info`` has ``residual_rms``.

    Raises
    ------
    DataError
        Bad, too short or constant data.
    UnsupportedShapeError
        Several input or output channels.
    ParameterError
        ``na``, ``nb`` or ``nk`` out of range.

    Examples
    --------
    >>> u = np.random.default_rng(0).normal(size=200)
    >>> y = signal.lfilter([0.0, 1.0], [1.0, -0.5], u)
    >>> np.round(arx(u, y, 1, 1, 1).a, 8)
    array([-0.5])
    """
    na = check_int(na, "na", low=0)
    nb = check_int(nb, "nb", low=1)
    nk = check_int(nk, "nk", low=0)
    p = na + nb
    m = max(na, nk + nb - 1)  # largest lag
    ua, ya = _siso_io(u, y, "arx", min_length=m + p + 1)
    return _arx(ua, ya, na, nb, nk)  # type: ignore[arg-type]


def _arx(ua: np.ndarray, ya: np.ndarray, na: int, nb: int, nk: int) -> IdentifiedSystem:
    """ARX on a validated record."""
    T = ua.size
    m = max(na, nk + nb - 1)
    cols = [(ya, k) for k in range(1, na + 1)] + [(ua, nk + j) for j in range(nb)]
    R = _streaming_r(lambda: _with_target(cols, ya, m, T), na + nb + 1)
    theta, res = _ls_from_r(R)
    order = max(m, 1)
    den = np.zeros(order + 1)
    den[0] = 1.0
    den[1 : na + 1] = -theta[:na]
    num = np.zeros(order + 1)
    num[nk : nk + nb] = theta[na:]
    sys_ = (
        CanonicalSystem.from_tf(num, den)
        if np.any(num)
        else CanonicalSystem(den[1:], np.zeros(order))
    )
    info = {"na": na, "nb": nb, "nk": nk, "residual_rms": res / np.sqrt(T - m)}
    return IdentifiedSystem.from_canonical(sys_, "arx", info)


# --------------------------------------------------------------------------- FIR + Ho-Kalman
def fir_markov(u: Any, y: Any, horizon: int) -> np.ndarray:
    """Least-squares FIR estimate of ``r_0..r_{horizon-1}`` (``y_t = sum_k r_k u_{t-k}``).

    Rows ``t >= horizon - 1`` only, so an unknown initial state only enters through
    the truncated tail. Memory ``O(horizon^2 + chunk * horizon)``.

    Parameters
    ----------
    u, y : array_like
        One SISO record, ``(T,)`` each, ``T >= 2 horizon + 1``.
    horizon : int
        Coefficients to estimate, ``>= 1``.

    Returns
    -------
    numpy.ndarray
        ``(horizon,)``: ``r_0`` (the feed-through) first.

    Raises
    ------
    DataError
        Bad, too short or constant data.
    UnsupportedShapeError
        Several input or output channels.
    ParameterError
        ``horizon`` not a positive integer.

    Examples
    --------
    >>> u = np.random.default_rng(0).normal(size=100)
    >>> np.round(fir_markov(u, signal.lfilter([0.5, 1.0], [1.0], u), 2), 8)
    array([0.5, 1. ])
    """
    H = check_int(horizon, "horizon", low=1)
    ua, ya = _siso_io(u, y, "fir_markov", min_length=2 * H + 1)  # type: ignore[operator]
    return _fir_markov(ua, ya, H)  # type: ignore[arg-type]


def _fir_markov(ua: np.ndarray, ya: np.ndarray, H: int) -> np.ndarray:
    """FIR least squares on a validated record, ridge-regularised by generalised cross-validation.

    With a coloured input the FIR regressors are nearly collinear and plain least
    squares returns wild long-lag coefficients (which ERA then realises as a useless
    model); the ridge weight minimising GCV (Golub, Heath and Wahba 1979) is chosen from
    the data alone, and is ~0 when the input is white.
    """
    cols = [(ua, k) for k in range(H)]
    R = _streaming_r(lambda: _with_target(cols, ya, H - 1, ua.size), H + 1)
    return _gcv_ridge(R, ua.size - (H - 1))


def _gcv_ridge(R: np.ndarray, count: int) -> np.ndarray:
    """Ridge solution from the R factor of ``[Phi, y]`` with the GCV-minimising weight."""
    with np.errstate(over="ignore"):
        r22 = float(np.square(R[-1, -1]))
    if not (np.all(np.isfinite(R)) and np.isfinite(r22) and np.isfinite(np.square(R).max())):
        raise DataError(
            "u, y: values too large for the least-squares fit (their squares overflow "
            "float64); rescale the data"
        )
    R11, r12 = R[:-1, :-1], R[:-1, -1]
    U, sv, Vt = np.linalg.svd(R11)
    z = U.T @ r12
    s2 = sv**2
    grid = np.concatenate(([0.0], s2.max() * np.logspace(-12, 0, 61)))
    best, theta = np.inf, None
    for lam in grid:  # loop over candidate weights, not samples
        shrink = s2 / (s2 + lam) if lam > 0 else (s2 > 1e-24 * s2.max()).astype(float)
        rss = float(np.sum(((1.0 - shrink) * z) ** 2)) + r22
        df = float(np.sum(shrink))
        if count - df <= 0:
            continue
        gcv = count * rss / (count - df) ** 2
        if gcv < best:
            safe = np.where(sv > 0, sv, 1.0)
            best, theta = gcv, Vt.T @ (shrink * z / safe)
    return theta


def _default_horizon(order: int, T: int) -> int:
    return max(4 * order + 2, min(60, T // 8))


def ho_kalman(
    u: Any, y: Any, order: int, horizon: int | None = None, *, stable: bool = True
) -> IdentifiedSystem:
    """FIR Markov parameters by least squares, then a Ho-Kalman / ERA realisation.

    ``horizon`` FIR coefficients ``r_0..r_{H-1}`` (``r_0 = D``) are estimated; the
    Hankel matrix of ``r_1..r_{H-1}`` is factored by an SVD, truncated to ``order``,
    and ``A`` is read off its shifted copy.

    Parameters
    ----------
    u, y : array_like
        One SISO record, ``(T,)`` each.
    order : int
        Model order, ``>= 1``.
    horizon : int, optional
        Markov parameters estimated, ``>= 2 order + 2``; default
        ``max(4 order + 2, min(60, T / 8))``.
    stable : bool, default True
        Reflect poles outside the unit circle to ``1 / conj(pole)`` and refit the
        numerator and ``D`` by least squares with those poles.

    Returns
    -------
    IdentifiedSystem
        ``info``: ``hankel_singular_values`` (all of them, for order selection),
        ``horizon``, ``markov`` and the balanced ``state_space`` ``(A, B, C, D)``.

    Raises
    ------
    DataError
        Bad, too short or constant data, or a Hankel matrix of rank below ``order``.
    UnsupportedShapeError
        Several input or output channels.
    ParameterError
        ``order`` or ``horizon`` out of range.

    Examples
    --------
    >>> u = np.random.default_rng(0).normal(size=500)
    >>> y = signal.lfilter([0.0, 1.0], [1.0, -0.5], u)
    >>> np.round(ho_kalman(u, y, 1).a, 6)
    array([-0.5])
    """
    order = check_int(order, "order", low=1)  # type: ignore[assignment]
    stable = check_bool(stable, "stable")
    horizon = check_int(horizon, "horizon", low=2 * order + 2, allow_none=True)
    ua, ya = _siso_io(u, y, "ho_kalman", min_length=1)
    H = _default_horizon(order, ua.size) if horizon is None else horizon
    if 2 * H + 1 > ua.size:
        raise DataError(
            f"order: {order} is too large for {ua.size} samples (horizon {H} needs at least "
            f"{2 * H + 1} samples)"
        )
    r = _fir_markov(ua, ya, H)
    A, B, C, hsv = _era(r, order)
    D = float(r[0])
    sys_ = CanonicalSystem.from_state_space(A, B, C, D, rtol=0.0)
    if stable and not sys_.is_stable():
        a = _stabilize(np.concatenate(([1.0], sys_.a)))[1:]
        c, d, _ = _fit_numerator(ua, ya, a)
        sys_ = CanonicalSystem(a, c, d)
    info = {
        "hankel_singular_values": hsv,
        "horizon": H,
        "markov": r,
        "state_space": (A, B, C, np.array([[D]])),
    }
    return IdentifiedSystem.from_canonical(sys_, "ho_kalman", info)


def _era(r: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Balanced ``(A, B, C)`` of ``order`` from Markov parameters; all Hankel singular values."""
    H = r.size
    p = (H - 1) // 2
    q = H - 1 - p
    idx = np.arange(p)[:, None] + np.arange(q)[None, :]
    H0 = r[1 + idx]
    H1 = r[2 + idx[:, : q - 1]]
    U, S, Vt = np.linalg.svd(H0[:, : q - 1])
    hsv = np.linalg.svd(H0, compute_uv=False)
    if S[order - 1] <= 1e-14 * max(S[0], np.finfo(float).tiny):
        raise DataError(
            f"order: the Hankel matrix has numerical rank below {order}; the data does not "
            "support that order (see hankel_singular_values)"
        )
    sq = np.sqrt(S[:order])
    Un, Vn = U[:, :order], Vt[:order].T
    A = (Un.T @ H1 @ Vn) / sq[:, None] / sq[None, :]
    B = (sq * Vn[0])[:, None]
    C = (Un[0] * sq)[None, :]
    return A, B, C, hsv


# --------------------------------------------------------------------------- N4SID (PO-MOESP)
def n4sid(
    u: Any,
    y: Any,
    order: int,
    horizon: int | None = None,
    *,
    estimate_x0: bool = True,
    stable: bool = True,
) -> IdentifiedSystem:
    """Subspace identification (PO-MOESP) with a least-squares numerator and ``D``.

    The block Hankel matrix ``Z = [U_f; U_p; Y_p; Y_f]`` (``4k`` rows, ``k = horizon``)
    is never formed: its LQ factor is accumulated by a streaming QR, so memory is
    ``O(k^2 + chunk k)``. The SVD of ``L_32`` (future outputs against past data,
    input-corrected) gives the extended observability matrix, whose shift invariance
    gives ``A``; with the poles fixed, the numerator, ``D`` and (optionally) the
    initial state are a linear least-squares problem on the full record. Consistent
    for white output noise.

    Parameters
    ----------
    u, y : array_like
        One SISO record, ``(T,)`` each, ``T >= 10 horizon``.
    order : int
        Model order, ``>= 1``.
    horizon : int, optional
        Block rows ``k > order``; default ``max(2 order + 2, 10)``.
    estimate_x0 : bool, default True
        Fit the initial state alongside the numerator (and discard it).
    stable : bool, default True
        Reflect poles outside the unit circle to ``1 / conj(pole)`` before the
        numerator is fitted.

    Returns
    -------
    IdentifiedSystem
        ``info``: ``hankel_singular_values`` (of ``L_32``), ``horizon``, ``residual_rms``.

    Raises
    ------
    DataError
        Bad, too short or constant data, or data supporting a smaller order.
    UnsupportedShapeError
        Several input or output channels.
    ParameterError
        ``order`` or ``horizon`` out of range.

    Examples
    --------
    >>> u = np.random.default_rng(0).normal(size=500)
    >>> y = signal.lfilter([0.0, 1.0], [1.0, -0.5], u)
    >>> np.round(n4sid(u, y, 1).a, 6)
    array([-0.5])
    """
    order = check_int(order, "order", low=1)  # type: ignore[assignment]
    k = check_int(horizon, "horizon", low=order + 1, allow_none=True)
    k = max(2 * order + 2, 10) if k is None else k
    estimate_x0 = check_bool(estimate_x0, "estimate_x0")
    stable = check_bool(stable, "stable")
    ua, ya = _siso_io(u, y, "n4sid", min_length=1)
    if ua.size < 10 * k:
        raise DataError(
            f"order: {order} (horizon {k}) is too large for {ua.size} samples; need at least "
            f"{10 * k} samples"
        )
    return _n4sid(ua, ya, order, k, estimate_x0, stable)


def _n4sid(
    ua: np.ndarray, ya: np.ndarray, order: int, k: int, estimate_x0: bool, stable: bool
) -> IdentifiedSystem:
    """PO-MOESP on a validated record."""
    Ncol = ua.size - 2 * k + 1
    Wu = np.lib.stride_tricks.sliding_window_view(ua, 2 * k)
    Wy = np.lib.stride_tricks.sliding_window_view(ya, 2 * k)

    def blocks() -> Iterator[np.ndarray]:
        for j0 in range(0, Ncol, _CHUNK):
            j1 = min(j0 + _CHUNK, Ncol)
            wu, wy = Wu[j0:j1], Wy[j0:j1]
            yield np.hstack((wu[:, k:], wu[:, :k], wy[:, :k], wy[:, k:]))

    L = _streaming_r(blocks, 4 * k).T  # Z = L Q
    L32 = L[3 * k :, k : 3 * k]
    U, S, _ = np.linalg.svd(L32)
    if S[order - 1] <= 1e-13 * max(S[0], np.finfo(float).tiny):
        raise DataError(
            f"order: the data supports a state of dimension below {order} (singular values "
            f"{S[: order + 1]})"
        )
    G = U[:, :order] * np.sqrt(S[:order])  # extended observability matrix
    A = np.linalg.lstsq(G[:-1], G[1:], rcond=None)[0]
    den = np.real(np.poly(np.linalg.eigvals(A)))
    a = (_stabilize(den) if stable else den)[1:]
    c, d, rms = _fit_numerator(ua, ya, a, estimate_x0=estimate_x0)
    info = {"hankel_singular_values": S, "horizon": k, "residual_rms": rms}
    return IdentifiedSystem(a, c, d, method="n4sid", info=info)


# --------------------------------------------------------------------------- output error
def _stabilize(den: np.ndarray) -> np.ndarray:
    """Reflect roots of ``den`` outside the unit circle to ``1 / conj(root)``."""
    roots = np.roots(den)
    big = np.abs(roots) >= 1.0
    if not np.any(big):
        return den
    roots[big] = 1.0 / np.conj(roots[big])
    return np.real(np.poly(roots)) * den[0]


def oe(
    u: Any,
    y: Any,
    order: int,
    init: CanonicalSystem | str | None = None,
    *,
    direct: bool = True,
    max_nfev: int = 200,
) -> IdentifiedSystem:
    """Output-error prediction-error method: ``min ||y - B(q)/A(q) u||^2``.

    Solved with ``scipy.optimize.least_squares`` on the exact Jacobian, whose columns
    are filtered signals: ``d yhat / d b_k = u_{t-k} / A(q)`` and
    ``d yhat / d a_k = -yhat_{t-k} / A(q)``. The search keeps the denominator stable
    by reflecting unstable roots, and restarts from the reflected model (at most
    twice) if the optimum is unstable.

    Parameters
    ----------
    u, y : array_like
        One SISO record, ``(T,)`` each.
    order : int
        Model order, ``>= 1``.
    init : CanonicalSystem, {'n4sid', 'arx'} or None, default None
        The start: a SISO model of order ``order``, or the method giving it
        (``None``: ``'n4sid'``, falling back to ``'arx'``).
    direct : bool, default True
        Include ``b_0`` (the feed-through ``D``).
    max_nfev : int, default 200
        Most residual evaluations of each least-squares run.

    Returns
    -------
    IdentifiedSystem
        ``info``: ``cost``, ``nfev``, ``status``, ``restarts``, ``init``, ``residual_rms``.

    Raises
    ------
    DataError
        Bad, too short or constant data.
    UnsupportedShapeError
        Several input or output channels.
    ParameterError
        ``order``, ``init`` or ``max_nfev`` not valid.

    Examples
    --------
    >>> u = np.random.default_rng(0).normal(size=300)
    >>> y = signal.lfilter([0.2, 1.0], [1.0, -0.5], u)
    >>> np.round(oe(u, y, 1).a, 6)
    array([-0.5])
    """
    order = check_int(order, "order", low=1)  # type: ignore[assignment]
    direct = check_bool(direct, "direct")
    max_nfev = check_int(max_nfev, "max_nfev", low=1)  # type: ignore[assignment]
    nb = order + 1 if direct else order
    ua, ya = _siso_io(u, y, "oe", min_length=max(4 * (nb + order), 2 * order + 2))
    start = _oe_start(ua, ya, order, init, direct)
    num0, den0 = start.to_tf()
    b0 = num0 if direct else num0[1:]
    theta0 = np.concatenate((b0, _stabilize(den0)[1:]))
    sol, restarts = _oe_fit(ua, ya, theta0, nb, direct, max_nfev)
    b, den = _oe_split(sol.x, nb, direct)
    info = {
        "cost": float(sol.cost),
        "nfev": int(sol.nfev),
        "status": int(sol.status),
        "restarts": restarts,
        "init": getattr(start, "method", "model"),
        "residual_rms": float(np.sqrt(2 * sol.cost / ua.size)),
    }
    return IdentifiedSystem.from_canonical(CanonicalSystem.from_tf(b, den), "oe", info)


def _oe_start(
    ua: np.ndarray, ya: np.ndarray, order: int, init: Any, direct: bool
) -> CanonicalSystem:
    """The starting model of :func:`oe`: given, or by N4SID (ARX when N4SID fails) or ARX."""
    nb, nk = (order + 1, 0) if direct else (order, 1)
    if isinstance(init, CanonicalSystem):
        if not init.is_siso or init.order != order:
            raise ParameterError(
                f"init: must be a SISO model of order {order}, got order {init.order}"
            )
        return init
    if init is not None and not (isinstance(init, str) and init in ("n4sid", "arx")):
        raise ParameterError(f"init: must be a model, 'n4sid' or 'arx', got {init!r}")
    if init == "arx" or 10 * max(2 * order + 2, 10) > ua.size:
        return _arx(ua, ya, order, nb, nk)
    try:
        return _n4sid(ua, ya, order, max(2 * order + 2, 10), True, True)
    except (DataError, np.linalg.LinAlgError):
        return _arx(ua, ya, order, nb, nk)


def _oe_split(theta: np.ndarray, nb: int, direct: bool) -> tuple[np.ndarray, np.ndarray]:
    """Numerator and (stabilised) denominator of the parameter vector."""
    b = theta[:nb] if direct else np.concatenate(([0.0], theta[:nb]))
    den = _stabilize(np.concatenate(([1.0], theta[nb:])))
    return b, den


def _oe_fit(
    ua: np.ndarray, ya: np.ndarray, theta0: np.ndarray, nb: int, direct: bool, max_nfev: int
) -> tuple[optimize.OptimizeResult, int]:
    """Least squares from ``theta0``, restarted from the reflected model if unstable."""
    T, n = ua.size, theta0.size - nb
    first = 0 if direct else 1

    def resid(theta: np.ndarray) -> np.ndarray:
        b, den = _oe_split(theta, nb, direct)
        return ya - signal.lfilter(b, den, ua)

    def jac(theta: np.ndarray) -> np.ndarray:
        b, den = _oe_split(theta, nb, direct)
        s = signal.lfilter([1.0], den, ua)  # u / A
        w = signal.lfilter([1.0], den, signal.lfilter(b, [1.0], s))  # yhat / A
        J = np.zeros((T, nb + n))
        for j in range(nb):  # d resid / d b_k = -u_{t-k}/A  (a loop over lags, not time)
            J[first + j :, j] = -s[: T - first - j]
        for j in range(n):  # d resid / d a_k = +yhat_{t-k}/A
            J[j + 1 :, nb + j] = w[: T - j - 1]
        return J

    restarts = 0
    while True:
        sol = optimize.least_squares(resid, theta0, jac=jac, method="lm", max_nfev=max_nfev)
        den_raw = np.concatenate(([1.0], sol.x[nb:]))
        if np.max(np.abs(np.roots(den_raw))) < 1.0 or restarts >= 2:
            return sol, restarts
        restarts += 1
        theta0 = np.concatenate((sol.x[:nb], _stabilize(den_raw)[1:]))
