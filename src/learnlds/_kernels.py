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

Public names: ``HAVE_NUMBA`` (whether the compiled kernel is available) and
``fused_siso`` (the compiled kernel, ``None`` without numba); callers go through
:func:`learnlds.risk.loss_and_grad`.

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

import numpy as np

try:  # pragma: no cover - exercised implicitly
    if os.environ.get("LEARNLDS_NO_NUMBA"):
        raise ImportError("disabled by LEARNLDS_NO_NUMBA")
    import numba

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover
    numba = None
    HAVE_NUMBA = False

__all__ = ["HAVE_NUMBA", "fused_siso"]

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


if HAVE_NUMBA:
    fused_siso = numba.njit(cache=True, fastmath=False, nogil=True)(_fused_siso)
else:  # pragma: no cover
    fused_siso = None
