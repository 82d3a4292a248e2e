"""Compiled inner loops (numba) for general state-space models.

``x_{t+1} = A x_t + B u_t``, ``y_t = C x_t + D u_t`` with ``A`` (n, n), ``B`` (n, m),
``C`` (p, n), ``D`` (p, m). Two kernels, both O(T) in time with a state loop:

* :func:`ss_simulate`: the output of one record from a given initial state;
* :func:`ss_jacobian_chunk`: the exact output Jacobian of one time chunk by forward
  sensitivity recursions. Parameter columns are, in this order and only for the
  blocks switched on: ``A`` (row-major), ``B``, ``C``, ``D``, ``x0``. The state
  sensitivities ``X`` (n, P_state) and the state ``x`` are carried across chunks, so
  the caller accumulates the normal equations chunk by chunk (memory
  O(chunk p P), not O(T p P)).

Set ``LEARNLDS_NO_NUMBA=1`` to run the same loops as plain Python (slow; for
debugging only).
"""

from __future__ import annotations

import numpy as np

from ._kernels import HAVE_NUMBA, _compiled

__all__ = ["HAVE_NUMBA", "ss_jacobian_chunk", "ss_simulate"]


def _ss_simulate(A, B, C, D, u, x0, y):
    """Write the output of ``(A, B, C, D)`` for input ``u`` (T, m) from ``x0`` into ``y``."""
    n = A.shape[0]
    m = B.shape[1]
    p = C.shape[0]
    T = u.shape[0]
    x = x0.copy()
    xn = np.zeros(n)
    for t in range(T):
        for k in range(p):
            acc = 0.0
            for j in range(n):
                acc += C[k, j] * x[j]
            for j in range(m):
                acc += D[k, j] * u[t, j]
            y[t, k] = acc
        for i in range(n):
            acc = 0.0
            for j in range(n):
                acc += A[i, j] * x[j]
            for j in range(m):
                acc += B[i, j] * u[t, j]
            xn[i] = acc
        for i in range(n):
            x[i] = xn[i]
    return x


def _ss_jacobian_chunk(A, B, C, D, u, x, X, flags, J, yhat):
    """Fill ``J`` (len(u) p, P; zero on entry) and ``yhat`` for one chunk; update ``x``, ``X``.

    ``flags`` = (A free, B free, C free, D free, x0 free) as 0/1 integers. ``X`` holds
    the state sensitivities of the state-carrying columns (A, B, x0 blocks, in that
    order); C and D columns have no state sensitivity.
    """
    n = A.shape[0]
    m = B.shape[1]
    p = C.shape[0]
    T = u.shape[0]
    nA = n * n if flags[0] else 0
    nB = n * m if flags[1] else 0
    nC = p * n if flags[2] else 0
    nD = p * m if flags[3] else 0
    nx = n if flags[4] else 0
    ps = nA + nB + nx  # state-carrying columns
    oC = nA + nB
    oD = oC + nC
    Xn = np.zeros((n, ps))
    xn = np.zeros(n)
    for t in range(T):  # inner loops run along contiguous columns (vectorisable)
        row0 = t * p
        for k in range(p):
            acc = 0.0
            for j in range(n):
                acc += C[k, j] * x[j]
            for j in range(m):
                acc += D[k, j] * u[t, j]
            yhat[t, k] = acc
            r = row0 + k
            for j in range(n):
                ckj = C[k, j]
                for c in range(oC):
                    J[r, c] += ckj * X[j, c]
                for c in range(oC, ps):
                    J[r, c + nC + nD] += ckj * X[j, c]
            if nC:
                for j in range(n):
                    J[r, oC + k * n + j] = x[j]
            if nD:
                for j in range(m):
                    J[r, oD + k * m + j] = u[t, j]
        for i in range(n):
            for c in range(ps):
                Xn[i, c] = 0.0
            for j in range(n):
                aij = A[i, j]
                for c in range(ps):
                    Xn[i, c] += aij * X[j, c]
        if nA:
            for i in range(n):
                for j in range(n):
                    Xn[i, i * n + j] += x[j]
        if nB:
            for i in range(n):
                for j in range(m):
                    Xn[i, nA + i * m + j] += u[t, j]
        for i in range(n):
            acc = 0.0
            for j in range(n):
                acc += A[i, j] * x[j]
            for j in range(m):
                acc += B[i, j] * u[t, j]
            xn[i] = acc
        for i in range(n):
            x[i] = xn[i]
            for c in range(ps):
                X[i, c] = Xn[i, c]


ss_simulate = _compiled(_ss_simulate)
ss_jacobian_chunk = _compiled(_ss_jacobian_chunk)
