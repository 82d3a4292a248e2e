"""Compiled inner loops (numba) for the O(T n) loss and gradient.

One fused forward pass per sequence computes the all-pole state ``s = x / p_a``,
the prediction, the residual, the adjoint-free filter ``w = (yhat - d x) / p_a``
and accumulates every gradient sum, so the data is read once. The pure
scipy version in :mod:`learnlds.risk` is the reference it is tested against.
Set ``LEARNLDS_NO_NUMBA=1`` to force the reference path.
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


def _fused_siso(a, c, d, x, y, burn_in, want_grad, loss_out, ga, gc, gd):
    """Accumulate per-sequence squared error (and gradient sums) into the outputs.

    ``x``, ``y``: (N, T). Outputs: ``loss_out`` (N,), ``ga``/``gc`` (N, n), ``gd`` (N,),
    holding raw sums over ``t >= burn_in`` of ``res^2``, ``res w_{t-k}``,
    ``res s_{t-n-1+j}`` and ``res x_t`` (the caller scales them).
    """
    N, T = x.shape
    n = a.shape[0]
    s = np.zeros(T + n)  # s[t + n] = state at time t, zero-padded history
    w = np.zeros(T + n)
    for i in range(N):
        for k in range(n):
            s[k] = 0.0
            w[k] = 0.0
        acc = 0.0
        accd = 0.0
        for k in range(n):
            ga[i, k] = 0.0
            gc[i, k] = 0.0
        for t in range(T):
            tt = t + n
            # z_t = sum_j c_j s_{t-n-1+j}  (uses states strictly before t)
            z = 0.0
            for j in range(n):
                z += c[j] * s[tt - n + j]
            xt = x[i, t]
            st = xt
            for k in range(n):
                st -= a[k] * s[tt - 1 - k]
            s[tt] = st
            wt = z
            for k in range(n):
                wt -= a[k] * w[tt - 1 - k]
            w[tt] = wt
            if t >= burn_in:
                res = z + d * xt - y[i, t]
                acc += res * res
                if want_grad:
                    accd += res * xt
                    for k in range(n):
                        ga[i, k] += res * w[tt - 1 - k]
                    for j in range(n):
                        gc[i, j] += res * s[tt - n + j]
        loss_out[i] = acc
        gd[i] = accd


if HAVE_NUMBA:
    fused_siso = numba.njit(cache=True, fastmath=False, nogil=True)(_fused_siso)
else:  # pragma: no cover
    fused_siso = None
