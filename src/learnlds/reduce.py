"""Model reduction by balanced truncation (SPEC section 5: back from order m to order n).

An over-parameterised model learned at order ``m = n + d`` inside the region is
reduced to order ``n`` by square-root balanced truncation with discrete Lyapunov
Gramians. The error bound ``||G - G_r||_inf <= 2 sum(discarded Hankel singular
values)`` tells how much was thrown away. The reduced realisation is brought back
to canonical form by :meth:`CanonicalSystem.from_state_space`.

The package exports the function under this module's name: ``learnlds.reduce`` (and
``import learnlds.reduce as m``) is the function; the module is
``sys.modules["learnlds.reduce"]``.

Examples
--------
>>> from learnlds import CanonicalSystem
>>> big = CanonicalSystem.random_stable(4, 0.8, random_state=0)
>>> reduce(big, 2).order
2
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import linalg

from ._boundary import check_int
from .errors import ParameterError, UnsupportedShapeError
from .systems import CanonicalSystem

__all__ = ["gramians", "hankel_singular_values", "reduce"]


def _psd_sqrt_factor(M: np.ndarray) -> np.ndarray:
    """``L`` with ``L L^T = M`` for a symmetric PSD ``M`` (eigh: tolerant of rank loss)."""
    vals, vecs = np.linalg.eigh((M + M.T) / 2)
    return vecs * np.sqrt(np.clip(vals, 0.0, None))


def _check_system(system: Any) -> CanonicalSystem:
    if not isinstance(system, CanonicalSystem):
        raise ParameterError(f"system: expected a CanonicalSystem, got {type(system).__name__}")
    return system


def gramians(system: CanonicalSystem) -> tuple[np.ndarray, np.ndarray]:
    """Controllability and observability Gramians ``(P, Q)`` of a stable system.

    Parameters
    ----------
    system : CanonicalSystem
        A stable system (its :meth:`~CanonicalSystem.to_state_space` realisation is used).

    Returns
    -------
    P, Q : numpy.ndarray
        Solutions of ``A P A^T + B B^T = P`` and ``A^T Q A + C^T C = Q``.

    Raises
    ------
    ParameterError
        ``system`` is unstable (the Gramians do not exist) or not a CanonicalSystem.

    Examples
    --------
    >>> from learnlds import CanonicalSystem
    >>> P, Q = gramians(CanonicalSystem([-0.5], [1.0]))
    >>> round(float(P[0, 0]), 12)  # 1 / (1 - 0.25)
    1.333333333333
    """
    _check_system(system)
    if not system.is_stable():
        raise ParameterError(
            f"system: balanced truncation needs a stable system (spectral radius "
            f"{system.spectral_radius():.4g} >= 1)"
        )
    A, B, C, _ = system.to_state_space()
    P = linalg.solve_discrete_lyapunov(A, B @ B.T)
    Q = linalg.solve_discrete_lyapunov(A.T, C.T @ C)
    return P, Q


def hankel_singular_values(system: CanonicalSystem) -> np.ndarray:
    """Hankel singular values ``sqrt(eig(P Q))``, largest first.

    Parameters
    ----------
    system : CanonicalSystem
        A stable system.

    Returns
    -------
    numpy.ndarray
        The values, one per state of the realisation.

    Examples
    --------
    >>> from learnlds import CanonicalSystem
    >>> hankel_singular_values(CanonicalSystem([-0.5], [1.0])).round(6)
    array([1.333333])
    """
    P, Q = gramians(system)
    Lc, Lo = _psd_sqrt_factor(P), _psd_sqrt_factor(Q)
    return linalg.svd(Lo.T @ Lc, compute_uv=False)


def reduce(system: CanonicalSystem, order: int) -> CanonicalSystem:
    """Balanced truncation of a stable SISO ``system`` to ``order`` states, in canonical form.

    Parameters
    ----------
    system : CanonicalSystem
        A stable SISO system.
    order : int
        Order of the result, in ``1..system.order`` (``system.order`` returns it unchanged).

    Returns
    -------
    CanonicalSystem
        The reduced system, with the sample time ``dt`` of ``system``.

    Raises
    ------
    ParameterError
        ``order`` out of range, or so large that the kept part is not controllable
        (a Hankel singular value at the cut is numerically zero: choose a smaller order).
    UnsupportedShapeError
        For a MIMO system.

    Examples
    --------
    >>> from learnlds import CanonicalSystem
    >>> g = CanonicalSystem.from_tf(np.polymul([1.0, 0.2], [1, -0.3]),
    ...                             np.polymul([1.0, -0.5], [1, -0.3]))  # a cancelled pole
    >>> r = reduce(g, 1)
    >>> r.a.round(8), r.c.round(8), float(r.d)
    (array([-0.5]), array([0.7]), 1.0)
    """
    _check_system(system)
    order = check_int(order, "order", low=1, high=system.order)
    if not system.is_siso:
        raise UnsupportedShapeError(
            "system: reduce() handles single-input single-output systems only, got "
            f"{system.n_inputs} inputs and {system.n_outputs} outputs"
        )
    if order == system.order:
        return system
    A, B, C, D = system.to_state_space()
    P, Q = gramians(system)
    Lc, Lo = _psd_sqrt_factor(P), _psd_sqrt_factor(Q)
    U, s, Vt = linalg.svd(Lo.T @ Lc)
    if s[order - 1] <= 1e-13 * s[0]:
        raise ParameterError(
            f"order: the Hankel singular value at position {order} is numerically zero; "
            f"the system has fewer than {order} significant states"
        )
    S = np.diag(s[:order] ** -0.5)
    Tr = Lc @ Vt[:order].T @ S  # right projection (n x r)
    Tl = S @ U[:, :order].T @ Lo.T  # left projection (r x n), Tl @ Tr = I
    Ar, Br, Cr = Tl @ A @ Tr, Tl @ B, C @ Tr
    return CanonicalSystem.from_state_space(Ar, Br, Cr, D, dt=system.dt)
