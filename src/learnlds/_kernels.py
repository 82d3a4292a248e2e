"""Compiled inner loops (numba) for the O(T n) loss and gradient.

One fused forward pass per sequence computes the all-pole state ``s = u / p_a``,
the prediction, the residual, the adjoint-free filter ``w = (yhat - d u) / p_a``
and accumulates every gradient sum, so the data is read once. The pure
scipy version in :mod:`learnlds.risk` is the reference it is tested against.
Set ``LEARNLDS_NO_NUMBA=1`` to force the reference path.

Performance notes (why the loops look the way they do):

* the histories of ``s`` and ``w`` live in a small chunk buffer (``_CHUNK + n``
  entries, L1/L2 resident) instead of two ``T``-long arrays: after each chunk
  the last ``n`` values are copied to the front, so every window stays contiguous;
* the recursions sum from the oldest lag to the newest (``a_1 s_{t-1}`` last), so
  the loop-carried dependency per step is one multiply and one subtract instead
  of a chain of ``n``;
* gradient sums accumulate in local arrays, written to the outputs once per
  sequence. No ``fastmath``: results match the scipy reference to ~1e-15.

Public names: ``HAVE_NUMBA`` (whether the compiled kernels are available),
``fused_siso`` (the compiled loss kernel, ``None`` without numba; callers go through
:func:`learnlds.risk.loss_and_grad`) and the streaming Gauss-Newton kernels
``jacobian_block`` and ``sse_block`` (callers go through
:class:`learnlds.train.LeastSquaresProblem`). The streaming kernels read one block of
samples of every sequence and carry the filter states (the last ``n`` values of
``s = u / p_a`` and ``w = z / p_a``) from one block to the next, so a record of any
length is scored with memory proportional to the block, and the sums equal the
whole-record ones up to rounding.

Examples
--------
The pure-Python body (what numba compiles) on one sequence of the system
``y_t = 0.5 y_{t-1} + u_{t-1}`` scored against zero outputs:

>>> a, c = np.array([-0.5]), np.array([1.0])
>>> u, y = np.array([[1.0, 0.0, 0.0]]), np.zeros((1, 3))
>>> loss, ga, gc, gd = np.empty(1), np.empty((1, 1)), np.empty((1, 1)), np.empty(1)
>>> _fused_siso(a, c, 0.0, u, y, 0, True, loss, ga, gc, gd)
>>> loss  # predictions 0, 1, 0.5
array([1.25])
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

try:  # pragma: no cover - exercised implicitly
    if os.environ.get("LEARNLDS_NO_NUMBA"):
        raise ImportError("disabled by LEARNLDS_NO_NUMBA")
    import numba

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover
    numba = None
    HAVE_NUMBA = False

__all__ = [
    "HAVE_NUMBA",
    "fused_siso",
    "jacobian_block",
    "jacobian_block_siso",
    "sse_block",
    "sse_block_siso",
]

_CHUNK = 4096


def _fused_siso(a, c, d, x, y, burn_in, want_grad, loss_out, ga, gc, gd):
    """Accumulate per-sequence squared error (and gradient sums) into the outputs.

    ``x``, ``y``: (N, T). Outputs: ``loss_out`` (N,), ``ga``/``gc`` (N, n), ``gd`` (N,),
    holding raw sums over ``t >= burn_in`` of ``res^2``, ``res w_{t-k}``,
    ``res s_{t-n-1+j}`` and ``res x_t`` (the caller scales them). With
    ``want_grad`` false only ``loss_out`` is written.
    """
    N, T = x.shape
    n = a.shape[0]
    # buffers: s[u + m] = s_{t0 + u - n + m}, i.e. s[u:u+n] is the window s_{t-n..t-1}
    s = np.zeros(_CHUNK + n)
    w = np.zeros(_CHUNK + n)
    ar = np.empty(n)  # a reversed: ar[m] = a_{n-m}, pairs with s_{t-n+m}
    for k in range(n):
        ar[k] = a[n - 1 - k]
    gak = np.zeros(n)
    gck = np.zeros(n)
    for i in range(N):
        for k in range(n):
            s[k] = 0.0
            w[k] = 0.0
            gak[k] = 0.0
            gck[k] = 0.0
        acc = 0.0
        accd = 0.0
        t0 = 0
        while t0 < T:
            m = min(_CHUNK, T - t0)
            if want_grad:
                for u in range(m):
                    t = t0 + u
                    z = 0.0  # z_t = sum_j c_j s_{t-n-1+j}: states strictly before t
                    ps = 0.0
                    pw = 0.0
                    for j in range(n):
                        sv = s[u + j]
                        z += c[j] * sv
                        ps += ar[j] * sv
                        pw += ar[j] * w[u + j]
                    xt = x[i, t]
                    s[u + n] = xt - ps
                    w[u + n] = z - pw
                    if t >= burn_in:
                        res = z + d * xt - y[i, t]
                        acc += res * res
                        accd += res * xt
                        for k in range(n):
                            gak[k] += res * w[u + n - 1 - k]
                        for j in range(n):
                            gck[j] += res * s[u + j]
            else:
                for u in range(m):
                    t = t0 + u
                    z = 0.0
                    ps = 0.0
                    for j in range(n):
                        sv = s[u + j]
                        z += c[j] * sv
                        ps += ar[j] * sv
                    xt = x[i, t]
                    s[u + n] = xt - ps
                    if t >= burn_in:
                        res = z + d * xt - y[i, t]
                        acc += res * res
            for k in range(n):  # carry the last n values to the front of the buffers
                s[k] = s[m + k]
                w[k] = w[m + k]
            t0 += m
        loss_out[i] = acc
        if want_grad:
            gd[i] = accd
            for k in range(n):
                ga[i, k] = gak[k]
                gc[i, k] = gck[k]


def _jacobian_block(a, c3, d3, u, y, t0, burn_in, sh, wh, J):
    """Jacobian rows and residuals of one block of samples, carrying the filter states.

    ``u`` (N, L, m) and ``y`` (N, L, p) are samples ``t0 .. t0 + L - 1`` of every
    sequence; ``sh`` (N, n, m) and ``wh`` (N, n, p) hold ``s`` and ``w`` at the ``n``
    samples before ``t0`` and are updated to the ``n`` before ``t0 + L``. For each
    scored sample (``t >= burn_in``) and output ``o`` one row is written,
    ``J[o, row] = [-w_o(t - 1 .. t - n), s(t - n .. t - 1) (lag-major), u_t, r_o]`` with
    the residual ``r_o = yhat_o - y_o`` last (``u_t`` only when ``J`` has room for it),
    so that one ``J^T J`` gives both the Gram matrix and ``J^T r``.
    Returns ``(rows written, sum of squared residuals)``.
    """
    N, L, m = u.shape
    p = y.shape[2]
    n = a.shape[0]
    q = J.shape[2] - n - 1
    with_d = q > n * m
    ar = np.empty(n)
    for k in range(n):
        ar[k] = a[n - 1 - k]
    sb = np.empty((L + n, m))  # sb[v + j] = s at t0 + v - n + j
    wb = np.empty((L + n, p))
    z = np.empty(p)
    row = 0
    sse = 0.0
    for i in range(N):
        sb[:n] = sh[i]
        wb[:n] = wh[i]
        for v in range(L):
            t = t0 + v
            for o in range(p):
                acc = 0.0
                for j in range(n):
                    for k in range(m):
                        acc += c3[j, o, k] * sb[v + j, k]
                z[o] = acc
            for k in range(m):
                ps = 0.0
                for j in range(n):
                    ps += ar[j] * sb[v + j, k]
                sb[v + n, k] = u[i, v, k] - ps
            for o in range(p):
                pw = 0.0
                for j in range(n):
                    pw += ar[j] * wb[v + j, o]
                wb[v + n, o] = z[o] - pw
            if t >= burn_in:
                for o in range(p):
                    res = z[o] - y[i, v, o]
                    for k in range(m):
                        res += d3[o, k] * u[i, v, k]
                    sse += res * res
                    J[o, row, n + q] = res
                    for k in range(n):
                        J[o, row, k] = -wb[v + n - 1 - k, o]
                    for j in range(n):
                        for k in range(m):
                            J[o, row, n + j * m + k] = sb[v + j, k]
                    if with_d:
                        for k in range(m):
                            J[o, row, n + n * m + k] = u[i, v, k]
                row += 1
        sh[i] = sb[L : L + n]
        wh[i] = wb[L : L + n]
    return row, sse


def _sse_block(a, c3, d3, u, y, t0, burn_in, sh):
    """Sum of squared residuals of one block, carrying ``s``'s state (see ``_jacobian_block``)."""
    N, L, m = u.shape
    p = y.shape[2]
    n = a.shape[0]
    ar = np.empty(n)
    for k in range(n):
        ar[k] = a[n - 1 - k]
    sb = np.empty((L + n, m))
    sse = 0.0
    for i in range(N):
        sb[:n] = sh[i]
        for v in range(L):
            if t0 + v >= burn_in:
                for o in range(p):
                    res = -y[i, v, o]
                    for j in range(n):
                        for k in range(m):
                            res += c3[j, o, k] * sb[v + j, k]
                    for k in range(m):
                        res += d3[o, k] * u[i, v, k]
                    sse += res * res
            for k in range(m):
                ps = 0.0
                for j in range(n):
                    ps += ar[j] * sb[v + j, k]
                sb[v + n, k] = u[i, v, k] - ps
        sh[i] = sb[L : L + n]
    return sse


def _jacobian_block_siso(a, c, d, u, y, t0, burn_in, sh, wh, J):
    """``_jacobian_block`` for one input and one output: ``u``, ``y`` (N, L), ``sh``, ``wh`` (N, n),
    ``J`` (rows, 2n + 1 or 2n + 2). Same rows, same sums, faster loops."""
    N, L = u.shape
    n = a.shape[0]
    with_d = J.shape[1] > 2 * n + 1
    last = J.shape[1] - 1
    ar = np.empty(n)
    for k in range(n):
        ar[k] = a[n - 1 - k]
    sb = np.empty(L + n)
    wb = np.empty(L + n)
    row = 0
    sse = 0.0
    for i in range(N):
        for k in range(n):
            sb[k] = sh[i, k]
            wb[k] = wh[i, k]
        for v in range(L):
            z = 0.0
            ps = 0.0
            pw = 0.0
            for j in range(n):
                sv = sb[v + j]
                z += c[j] * sv
                ps += ar[j] * sv
                pw += ar[j] * wb[v + j]
            ut = u[i, v]
            sb[v + n] = ut - ps
            wb[v + n] = z - pw
            if t0 + v >= burn_in:
                res = z + d * ut - y[i, v]
                sse += res * res
                J[row, last] = res
                for k in range(n):
                    J[row, k] = -wb[v + n - 1 - k]
                    J[row, n + k] = sb[v + k]
                if with_d:
                    J[row, 2 * n] = ut
                row += 1
        for k in range(n):
            sh[i, k] = sb[L + k]
            wh[i, k] = wb[L + k]
    return row, sse


def _sse_block_siso(a, c, d, u, y, t0, burn_in, sh):
    """``_sse_block`` for one input and one output (``u``, ``y`` (N, L), ``sh`` (N, n))."""
    N, L = u.shape
    n = a.shape[0]
    ar = np.empty(n)
    for k in range(n):
        ar[k] = a[n - 1 - k]
    sb = np.empty(L + n)
    sse = 0.0
    for i in range(N):
        for k in range(n):
            sb[k] = sh[i, k]
        for v in range(L):
            z = 0.0
            ps = 0.0
            for j in range(n):
                sv = sb[v + j]
                z += c[j] * sv
                ps += ar[j] * sv
            ut = u[i, v]
            sb[v + n] = ut - ps
            if t0 + v >= burn_in:
                res = z + d * ut - y[i, v]
                sse += res * res
        for k in range(n):
            sh[i, k] = sb[L + k]
    return sse


def _compiled(fn: Any) -> Any:
    """``fn`` compiled by numba (cached, no fastmath, GIL released); as it is without
    numba (pure Python: correct, slow; ``LEARNLDS_NO_NUMBA``). Shared by the kernel
    modules."""
    return numba.njit(cache=True, fastmath=False, nogil=True)(fn) if HAVE_NUMBA else fn


fused_siso = _compiled(_fused_siso) if HAVE_NUMBA else None
jacobian_block = _compiled(_jacobian_block)
sse_block = _compiled(_sse_block)
jacobian_block_siso = _compiled(_jacobian_block_siso)
sse_block_siso = _compiled(_sse_block_siso)
