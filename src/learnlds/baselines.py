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

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from scipy import linalg, optimize, signal

from .systems import CanonicalSystem, as_real_array

__all__ = ["IdentifiedSystem", "arx", "ho_kalman", "n4sid", "oe"]

_CHUNK = 32768  # rows per block of the streaming QR


# --------------------------------------------------------------------------- result type
class IdentifiedSystem(CanonicalSystem):
    """A canonical-form model estimated from data, with the method and its diagnostics.

    It *is* a :class:`CanonicalSystem` (``simulate``, ``markov``,
    ``frequency_response``, ``to_state_space``, ``order``, ``save``); ``method`` names
    the estimator and ``info`` holds extras such as ``hankel_singular_values``,
    ``singular_values``, ``horizon``, ``cost`` or the balanced ``state_space``.
    """

    method: str
    info: dict[str, Any]

    def __init__(
        self, a: Any, c: Any, d: Any = 0.0, *, method: str = "", info: dict | None = None
    ) -> None:
        super().__init__(a, c, d)
        object.__setattr__(self, "method", str(method))
        object.__setattr__(self, "info", dict(info or {}))

    @classmethod
    def from_canonical(
        cls, sys: CanonicalSystem, method: str, info: dict | None = None
    ) -> IdentifiedSystem:
        return cls(sys.a, sys.c, sys.d, method=method, info=info)

    @property
    def hankel_singular_values(self) -> np.ndarray | None:
        """Singular values of the Hankel matrix (``ho_kalman``) or of the subspace
        projection (``n4sid``); a gap after the ``n``-th suggests order ``n``."""
        return self.info.get("hankel_singular_values")

    def __repr__(self) -> str:
        return f"{self.method or 'Identified'}:{super().__repr__()}"


# --------------------------------------------------------------------------- input checks
def _check_io(u: Any, y: Any, *, min_length: int, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Validate a SISO record: 1-D, finite, same length, long enough, non-constant input."""
    ua = as_real_array(u, "u", ndim=(1,))
    ya = as_real_array(y, "y", ndim=(1,))
    if ua.shape != ya.shape:
        raise ValueError(f"u and y: lengths differ, u has {ua.size} samples and y has {ya.size}")
    T = ua.size
    if T < min_length:
        raise ValueError(
            f"{what}: data too short: {T} samples, need at least {min_length} for this "
            "model size (lower the order/horizon or supply more data)"
        )
    if np.ptp(ua) == 0:
        raise ValueError("u: the input is constant, it does not excite the system")
    return ua, ya


def _check_int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name}: must be an integer, got {value!r}")
    v = int(value)
    if v < minimum:
        raise ValueError(f"{name}: must be >= {minimum}, got {v}")
    return v


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
    for blk in make_blocks():
        G += blk.T @ blk
    try:
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


def _canonical_from_ss(A: np.ndarray, B: np.ndarray, C: np.ndarray, D: float) -> CanonicalSystem:
    """Canonical form of a SISO ``(A, B, C, D)`` via its poles and first Markov parameters.

    ``a = poly(eig(A))`` and the numerator ``N = p_a * r`` truncated to degree ``n``,
    which avoids inverting the (badly conditioned) controllability matrix; an
    uncontrollable realisation yields the same transfer function with a cancelling
    pole/zero pair.
    """
    n = A.shape[0]
    den = np.real(np.poly(np.linalg.eigvals(A)))
    r = np.empty(n + 1)
    r[0] = D
    v = B.ravel()
    for k in range(1, n + 1):  # n matrix-vector products (n is the order, not T)
        r[k] = float(C.ravel() @ v)
        v = A @ v
    num = np.convolve(den, r)[: n + 1]
    return CanonicalSystem.from_tf(num, den)


def _fit_numerator(
    u: np.ndarray, y: np.ndarray, a: np.ndarray, *, estimate_x0: bool = True
) -> tuple[np.ndarray, float, float]:
    """Least-squares ``(c, d)`` of the canonical model for fixed poles ``a``.

    With ``s = u / p_a``, ``yhat_t = sum_j c_j s_{t-n-1+j} + d u_t`` is linear in
    ``(c, d)``; optionally the free response of an unknown initial state
    (``n`` impulse responses of ``q^{-j} / A(q)``) is fitted alongside and discarded.
    Returns ``(c, d, residual rms)``.
    """
    n = a.size
    T = u.size
    den = np.concatenate(([1.0], a))
    s = signal.lfilter([1.0], den, u)
    cols = [(np.concatenate((np.zeros(n + 1 - j), s[: T - (n + 1 - j)]))) for j in range(1, n + 1)]
    cols.append(u)
    rho = np.max(np.abs(np.roots(den))) if n else 0.0
    if estimate_x0 and rho < 1.0 + 1e-9:
        imp = np.zeros(T)
        imp[0] = 1.0
        g = signal.lfilter([1.0], den, imp)
        cols.extend(np.concatenate((np.zeros(j), g[: T - j])) for j in range(n))

    def blocks() -> Iterator[np.ndarray]:
        for t0 in range(0, T, _CHUNK):
            yield np.column_stack([c[t0 : t0 + _CHUNK] for c in cols] + [y[t0 : t0 + _CHUNK]])

    R = _streaming_r(blocks, len(cols) + 1)
    theta, res = _ls_from_r(R)
    return theta[:n], float(theta[n]), res / np.sqrt(T)


# --------------------------------------------------------------------------- ARX
def arx(u: Any, y: Any, na: int, nb: int, nk: int = 1) -> IdentifiedSystem:
    """Least-squares ARX model ``A(q) y = B(q) u + e``.

    ``y_t + a_1 y_{t-1} + ... + a_na y_{t-na} = b_1 u_{t-nk} + ... + b_nb u_{t-nk-nb+1} + e_t``
    (``nb`` counts coefficients, as in MATLAB/SIPPY); ``nk = 0`` gives a direct term,
    so an order-``n`` system with feed-through is ``na = n, nb = n + 1, nk = 0``.
    The returned model has order ``max(na, nk + nb - 1)`` (at least 1).
    ARX is consistent for equation-error noise ``e``; under white *output* noise it is biased.
    """
    na = _check_int(na, "na", 0)
    nb = _check_int(nb, "nb", 1)
    nk = _check_int(nk, "nk", 0)
    p = na + nb
    m = max(na, nk + nb - 1)  # largest lag
    ua, ya = _check_io(u, y, min_length=m + p + 1, what="arx")
    T = ua.size
    cols = [(ya, k) for k in range(1, na + 1)] + [(ua, nk + j) for j in range(nb)]
    R = _streaming_r(lambda: _with_target(cols, ya, m, T), p + 1)
    theta, res = _ls_from_r(R)
    a_coef = -theta[:na]
    b = theta[na:]
    order = max(m, 1)
    den = np.zeros(order + 1)
    den[0] = 1.0
    den[1 : na + 1] = a_coef
    num = np.zeros(order + 1)
    num[nk : nk + nb] = b
    sys = (
        CanonicalSystem.from_tf(num, den)
        if np.any(num)
        else CanonicalSystem(den[1:], np.zeros(order))
    )
    info = {"na": na, "nb": nb, "nk": nk, "residual_rms": res / np.sqrt(T - m)}
    return IdentifiedSystem.from_canonical(sys, "arx", info)


# --------------------------------------------------------------------------- FIR + Ho-Kalman
def fir_markov(u: Any, y: Any, horizon: int) -> np.ndarray:
    """Least-squares FIR estimate of ``r_0..r_{horizon-1}`` (``y_t = sum_k r_k u_{t-k}``).

    Rows ``t >= horizon - 1`` only, so an unknown initial state only enters through
    the truncated tail. Memory ``O(horizon^2 + chunk * horizon)``.
    """
    H = _check_int(horizon, "horizon", 1)
    ua, ya = _check_io(u, y, min_length=2 * H + 1, what="fir_markov")
    cols = [(ua, k) for k in range(H)]
    R = _streaming_r(lambda: _with_target(cols, ya, H - 1, ua.size), H + 1)
    theta, _ = _ls_from_r(R)
    return theta


def _default_horizon(order: int, T: int) -> int:
    return max(4 * order + 2, min(60, T // 8))


def ho_kalman(
    u: Any, y: Any, order: int, horizon: int | None = None, *, stable: bool = True
) -> IdentifiedSystem:
    """FIR Markov parameters by least squares, then a Ho-Kalman / ERA realisation.

    ``horizon`` FIR coefficients ``r_0..r_{H-1}`` (``r_0 = D``) are estimated; the
    Hankel matrix of ``r_1..r_{H-1}`` is factored by an SVD, truncated to ``order``,
    and ``A`` is read off its shifted copy. ``info['hankel_singular_values']`` holds all
    singular values for order selection; ``info['state_space']`` the balanced
    ``(A, B, C, D)``. Default horizon ``max(4 order + 2, min(60, T / 8))``.
    ``stable``: if the realisation has poles outside the unit circle (short or
    coloured data), they are reflected to ``1 / conj(pole)`` and the numerator and ``D``
    are refitted to the data by least squares with those poles.
    """
    order = _check_int(order, "order", 1)
    ua = as_real_array(u, "u", ndim=(1,))
    H = _default_horizon(order, ua.size) if horizon is None else _check_int(horizon, "horizon", 1)
    if H - 1 < 2 * order + 1:
        raise ValueError(
            f"horizon: {H} Markov parameters cannot realise order {order}; need horizon >= "
            f"{2 * order + 2}"
        )
    if 2 * H + 1 > ua.size:
        raise ValueError(
            f"order: {order} is too large for {ua.size} samples (horizon {H} needs at least "
            f"{2 * H + 1} samples)"
        )
    r = fir_markov(u, y, H)
    p = (H - 1) // 2
    q = H - 1 - p
    idx = np.arange(p)[:, None] + np.arange(q)[None, :]
    H0 = r[1 + idx]
    H1 = r[2 + idx[:, : q - 1]]
    U, S, Vt = np.linalg.svd(H0[:, : q - 1])
    hsv = np.linalg.svd(H0, compute_uv=False)
    if S[order - 1] <= 1e-14 * max(S[0], np.finfo(float).tiny):
        raise ValueError(
            f"order: the Hankel matrix has numerical rank below {order}; the data does not "
            "support that order (see hankel_singular_values)"
        )
    sq = np.sqrt(S[:order])
    Un, Vn = U[:, :order], Vt[:order].T
    A = (Un.T @ H1 @ Vn) / sq[:, None] / sq[None, :]
    B = (sq * Vn[0])[:, None]
    C = (Un[0] * sq)[None, :]
    D = float(r[0])
    sys = _canonical_from_ss(A, B, C, D)
    if stable and not sys.is_stable():
        a = _stabilize(np.concatenate(([1.0], sys.a)))[1:]
        c, d, _ = _fit_numerator(*_check_io(u, y, min_length=1, what="ho_kalman"), a)
        sys = CanonicalSystem(a, c, d)
    info = {
        "hankel_singular_values": hsv,
        "horizon": H,
        "markov": r,
        "state_space": (A, B, C, np.array([[D]])),
    }
    return IdentifiedSystem.from_canonical(sys, "ho_kalman", info)


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
    is never formed: its LQ factor ``L`` is accumulated by a streaming QR over blocks
    of columns (sliding windows of ``u`` and ``y``), so memory is ``O(k^2 + chunk k)``.
    The SVD of ``L_32`` (future outputs against past data, input-corrected) gives the
    extended observability matrix, whose shift invariance gives ``A``; with the poles
    fixed, the numerator, ``D`` and (optionally) the initial state are a linear least
    squares problem on the full record. Consistent for white output noise.
    ``stable`` reflects poles outside the unit circle to ``1 / conj(pole)`` before the
    numerator is fitted (a spurious unstable pole would otherwise make the filtered
    regressors explode).
    ``info['hankel_singular_values']`` holds the singular values of ``L_32``.
    Default ``k = max(2 order + 2, 10)``.
    """
    order = _check_int(order, "order", 1)
    k = max(2 * order + 2, 10) if horizon is None else _check_int(horizon, "horizon", 1)
    if k < order + 1:
        raise ValueError(f"horizon: must exceed the order ({order}) to realise it, got {k}")
    ua = as_real_array(u, "u", ndim=(1,))
    if ua.size < 2 * k + 8 * k:
        raise ValueError(
            f"order: {order} (horizon {k}) is too large for {ua.size} samples; need at least "
            f"{10 * k} samples"
        )
    ua, ya = _check_io(u, y, min_length=10 * k, what="n4sid")
    T = ua.size
    Ncol = T - 2 * k + 1
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
        raise ValueError(
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
    ``d yhat / d a_k = -yhat_{t-k} / A(q)``. ``direct`` includes ``b_0`` (the feed-through
    ``D``). ``init``: a model, ``"n4sid"`` (default) or ``"arx"``. The search keeps the
    denominator stable by reflecting unstable roots, and restarts once from the
    reflected model if the optimum is unstable.
    """
    order = _check_int(order, "order", 1)
    n = order
    nb = n + 1 if direct else n
    p = nb + n
    ua, ya = _check_io(u, y, min_length=max(4 * p, 2 * n + 2), what="oe")
    T = ua.size
    if init is None or isinstance(init, str):
        kind = "n4sid" if init is None else init
        if kind == "n4sid":
            try:
                start = n4sid(ua, ya, n)
            except ValueError:
                start = arx(ua, ya, n, nb, 0 if direct else 1)
        elif kind == "arx":
            start = arx(ua, ya, n, nb, 0 if direct else 1)
        else:
            raise ValueError(f"init: must be a model, 'n4sid' or 'arx', got {init!r}")
    elif isinstance(init, CanonicalSystem):
        start = init
    else:
        raise ValueError(f"init: must be a model, 'n4sid' or 'arx', got {type(init).__name__}")
    if not start.is_siso or start.order != n:
        raise ValueError(f"init: must be a SISO model of order {n}, got order {start.order}")
    num0, den0 = start.to_tf()
    den0 = _stabilize(den0)
    b0 = num0 if direct else num0[1:]
    x0 = np.concatenate((b0, den0[1:]))

    def split(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        b = x[:nb] if direct else np.concatenate(([0.0], x[:nb]))
        den = _stabilize(np.concatenate(([1.0], x[nb:])))
        return b, den

    def resid(x: np.ndarray) -> np.ndarray:
        b, den = split(x)
        return ya - signal.lfilter(b, den, ua)

    def jac(x: np.ndarray) -> np.ndarray:
        b, den = split(x)
        s = signal.lfilter([1.0], den, ua)  # u / A
        yhat = signal.lfilter(b, [1.0], s)
        w = signal.lfilter([1.0], den, yhat)  # yhat / A
        J = np.empty((T, p))
        first = 0 if direct else 1
        for j in range(nb):  # d resid / d b_k = -u_{t-k}/A
            k = first + j
            J[:k, j] = 0.0
            J[k:, j] = -s[: T - k]
        for j in range(n):  # d resid / d a_k = +yhat_{t-k}/A
            k = j + 1
            J[:k, nb + j] = 0.0
            J[k:, nb + j] = w[: T - k]
        return J

    restarts = 0
    while True:
        sol = optimize.least_squares(resid, x0, jac=jac, method="lm", max_nfev=max_nfev)
        den_raw = np.concatenate(([1.0], sol.x[nb:]))
        if np.max(np.abs(np.roots(den_raw))) < 1.0 or restarts >= 2:
            break
        restarts += 1
        x0 = np.concatenate((sol.x[:nb], _stabilize(den_raw)[1:]))
    b, den = split(sol.x)
    sys = CanonicalSystem.from_tf(b, den)
    info = {
        "cost": float(sol.cost),
        "nfev": int(sol.nfev),
        "status": int(sol.status),
        "restarts": restarts,
        "init": getattr(start, "method", "model"),
        "residual_rms": float(np.sqrt(2 * sol.cost / T)),
    }
    return IdentifiedSystem.from_canonical(sys, "oe", info)
