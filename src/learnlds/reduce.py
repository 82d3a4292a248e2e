"""Model reduction by balanced truncation (SPEC section 5: back from order m to order n).

An over-parameterised model learned at order ``m = n + d`` inside the region is
reduced to order ``n`` by square-root balanced truncation with discrete Lyapunov
Gramians. The error bound ``||G - G_r||_inf <= 2 sum(discarded Hankel singular
values)`` tells how much was thrown away.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

from .systems import CanonicalSystem


def _psd_sqrt_factor(M: np.ndarray) -> np.ndarray:
    """``L`` with ``L L^T = M`` for a symmetric PSD ``M`` (eigh: tolerant of rank loss)."""
    vals, vecs = np.linalg.eigh((M + M.T) / 2)
    return vecs * np.sqrt(np.clip(vals, 0.0, None))


def gramians(system: CanonicalSystem) -> tuple[np.ndarray, np.ndarray]:
    """Controllability and observability Gramians ``(P, Q)`` of a stable system."""
    if not system.is_stable():
        raise ValueError(
            f"system: balanced truncation needs a stable system (spectral radius "
            f"{system.spectral_radius():.4g} >= 1)"
        )
    A, B, C, _ = system.to_state_space()
    P = linalg.solve_discrete_lyapunov(A, B @ B.T)
    Q = linalg.solve_discrete_lyapunov(A.T, C.T @ C)
    return P, Q


def hankel_singular_values(system: CanonicalSystem) -> np.ndarray:
    """Hankel singular values, largest first: ``sqrt(eig(P Q))``."""
    P, Q = gramians(system)
    Lc, Lo = _psd_sqrt_factor(P), _psd_sqrt_factor(Q)
    return linalg.svd(Lo.T @ Lc, compute_uv=False)


def reduce(system: CanonicalSystem, order: int) -> CanonicalSystem:
    """Balanced truncation of a stable SISO ``system`` to ``order`` states, in canonical form.

    Raises ``ValueError`` when ``order`` is not in ``1..system.order`` or when the kept
    part is not controllable (a Hankel singular value at the cut is numerically zero:
    choose a smaller order).
    """
    if isinstance(order, bool) or not isinstance(order, int | np.integer):
        raise ValueError(f"order: must be an integer, got {order!r}")
    if not 1 <= order <= system.order:
        raise ValueError(f"order: must be between 1 and {system.order}, got {order}")
    if not system.is_siso:
        raise ValueError("system: reduce() is implemented for SISO systems")
    if order == system.order:
        return system
    A, B, C, D = system.to_state_space()
    P, Q = gramians(system)
    Lc, Lo = _psd_sqrt_factor(P), _psd_sqrt_factor(Q)
    U, s, Vt = linalg.svd(Lo.T @ Lc)
    if s[order - 1] <= 1e-13 * s[0]:
        raise ValueError(
            f"order: the Hankel singular value at position {order} is numerically zero; "
            f"the system has fewer than {order} significant states"
        )
    S = np.diag(s[:order] ** -0.5)
    Tr = Lc @ Vt[:order].T @ S  # right projection (n x r)
    Tl = S @ U[:, :order].T @ Lo.T  # left projection (r x n), Tl @ Tr = I
    Ar, Br, Cr = Tl @ A @ Tr, Tl @ B, C @ Tr
    return CanonicalSystem.from_state_space(Ar, Br, Cr, D)
