"""Quasi-convexity of the idealized risk, next to the risks (SPEC section 4).

The paper's guarantee rests on the idealized risk ``g(theta) = sum_{k>=1}
(rhat_k - r_k)^2`` being weakly quasi-convex on the Pac-Man region:
``<grad g(theta), theta - theta*> >= tau (g(theta) - g(theta*))``. These tools
measure it: the exact gradient of ``g``, the ratios on sampled points, the
smallest observed ``tau``, and profiles of any function along segments.

Examples
--------
>>> from learnlds import CanonicalSystem
>>> truth = CanonicalSystem([-0.5], [1.0])
>>> bool(estimate_tau(truth, samples=20, random_state=0) > 0)
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import signal

from ._boundary import (
    as_float_array,
    check_bool,
    check_int,
    check_random_state,
    renamed_parameters,
)
from .errors import DataError, ParameterError
from .region import PacmanRegion
from .risk import Gradient, _require_siso, markov_tail_length
from .systems import CanonicalSystem

__all__ = [
    "estimate_tau",
    "idealized_risk_and_grad",
    "quasi_convexity_ratios",
    "segment_profile",
]


def segment_profile(
    f: Callable[[np.ndarray], float], theta0: Any, theta1: Any, num: int = 101
) -> tuple[np.ndarray, np.ndarray]:
    """Values of ``f`` along the segment from ``theta0`` to ``theta1``.

    A quasi-convex ``f`` gives a profile that decreases then increases (no interior
    bump above both ends of any sub-segment).

    Parameters
    ----------
    f : callable
        Function of a 1-D parameter vector returning a number.
    theta0, theta1 : array_like, 1-D
        End points, of the same length.
    num : int, default 101
        Number of points (``>= 2``).

    Returns
    -------
    t : numpy.ndarray
        ``num`` values from 0 to 1.
    values : numpy.ndarray
        ``f((1 - t) theta0 + t theta1)``.

    Raises
    ------
    ParameterError
        ``f`` is not callable or ``num < 2``.
    DataError
        End points that are not finite vectors of the same length.

    Examples
    --------
    >>> segment_profile(lambda v: float(v @ v), [0.0], [1.0], num=3)
    (array([0. , 0.5, 1. ]), array([0.  , 0.25, 1.  ]))
    """
    if not callable(f):
        raise ParameterError(f"f: must be callable, got {type(f).__name__}")
    th0 = as_float_array(theta0, "theta0", ndim=(1,))
    th1 = as_float_array(theta1, "theta1", ndim=(1,))
    if th0.shape != th1.shape:
        raise DataError(f"theta1: shape {th1.shape} differs from theta0's {th0.shape}")
    num = check_int(num, "num", low=2)
    t = np.linspace(0.0, 1.0, num)
    vals = np.array([float(f((1.0 - ti) * th0 + ti * th1)) for ti in t])
    return t, vals


def idealized_risk_and_grad(
    model: CanonicalSystem, truth: CanonicalSystem
) -> tuple[float, Gradient]:
    """The idealized risk ``g = sum_{k>=1} (rhat_k - r_k)^2`` and its exact gradient.

    With ``h`` the impulse response of ``1/q_ahat`` and ``rhat = h * [0, c_n, ..., c_1]``:
    ``d rhat_k / d c_i = h_{k-(n+1-i)}`` and ``d rhat_k / d a_m = -v_{k-m}`` where
    ``v = rhat`` filtered by ``1/q_ahat``. Sums are truncated where the geometric tail
    drops below 1e-17 (as :func:`learnlds.risk.idealized_risk`).

    Parameters
    ----------
    model, truth : CanonicalSystem
        SISO model and true system.

    Returns
    -------
    g : float
        The risk (``inf`` for an unstable pair).
    grad : Gradient
        Its gradient in ``(ahat, chat)``; the ``d`` part is 0 (NaN gradient when unstable).

    Examples
    --------
    >>> from learnlds import CanonicalSystem
    >>> g, grad = idealized_risk_and_grad(CanonicalSystem([0.0], [0.0]),
    ...                                   CanonicalSystem([0.0], [1.0]))
    >>> g, grad.c
    (1.0, array([-2.]))
    """
    _require_siso(model, "model")
    _require_siso(truth, "truth")
    n = model.order
    K = markov_tail_length((model, truth))
    if K < 0:
        nan = np.full(n, np.nan)
        return float("inf"), Gradient(nan, nan.copy(), 0.0)
    K = max(K, 2 * n + 2)
    den = np.concatenate(([1.0], model.a))
    imp = np.zeros(K)
    imp[0] = 1.0
    hh = signal.lfilter([1.0], den, imp)
    bcoef = np.concatenate(([0.0], model.c[::-1]))
    rhat = np.convolve(hh, bcoef)[:K]
    r = truth.markov(K)
    r[0] = 0.0
    e = rhat - r
    v = signal.lfilter([1.0], den, rhat)
    lag = np.arange(1, n + 1)
    corr_h = np.array([np.dot(e[j:], hh[: K - j]) for j in lag])  # d g / d bcoef_j / 2
    corr_v = np.array([np.dot(e[j:], v[: K - j]) for j in lag])
    ga = -2.0 * corr_v
    gc = 2.0 * corr_h[::-1]  # c_i = bcoef_{n+1-i}
    return float(np.dot(e, e)), Gradient(ga, gc, 0.0)


def quasi_convexity_ratios(
    truth: CanonicalSystem, ahat: Any, chat: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Ratios ``<grad g(theta), theta - theta*> / (g(theta) - g*)`` at the rows of ``(ahat, chat)``.

    ``g`` is the idealized risk against ``truth`` (``g* = 0`` at ``theta* = (a*, c*)``).

    Parameters
    ----------
    truth : CanonicalSystem
        The SISO true system.
    ahat, chat : array_like, shape (order,) or (points, order)
        Model denominators and numerators, one point per row.

    Returns
    -------
    ratios : numpy.ndarray
        One ratio per point (NaN where ``g = 0``).
    values : numpy.ndarray
        ``g`` at each point.

    Raises
    ------
    DataError
        ``ahat`` and ``chat`` not both of shape ``(points, truth.order)``.

    Examples
    --------
    >>> from learnlds import CanonicalSystem
    >>> quasi_convexity_ratios(CanonicalSystem([0.0], [1.0]), [0.0], [0.0])
    (array([2.]), array([1.]))
    """
    _require_siso(truth, "truth")
    A = np.atleast_2d(as_float_array(ahat, "ahat", ndim=(1, 2)))
    C = np.atleast_2d(as_float_array(chat, "chat", ndim=(1, 2)))
    n = truth.order
    if A.shape[1] != n or C.shape != A.shape:
        raise DataError(f"ahat, chat: must both have shape (m, {n}), got {A.shape} and {C.shape}")
    ratios = np.empty(A.shape[0])
    gs = np.empty(A.shape[0])
    for i in range(A.shape[0]):  # one risk evaluation per sampled point
        g, grad = idealized_risk_and_grad(CanonicalSystem(A[i], C[i]), truth)
        inner = np.dot(grad.a, A[i] - truth.a) + np.dot(grad.c, C[i] - truth.c)
        gs[i] = g
        ratios[i] = inner / g if g > 0 else np.nan
    return ratios, gs


@renamed_parameters(rng="random_state")
def estimate_tau(
    target: CanonicalSystem,
    region: PacmanRegion | None = None,
    samples: int = 200,
    random_state: Any = None,
    *,
    return_ratios: bool = False,
) -> float | tuple[float, np.ndarray]:
    """Smallest observed weak-quasi-convexity ratio of the idealized risk (SPEC section 4).

    Samples ``ahat`` from ``region`` and ``chat ~ N(0, I) * rms(c*)`` and returns the
    minimum of :func:`quasi_convexity_ratios`. A positive value is evidence that ``g``
    is ``tau``-weakly-quasi-convex on the sampled set with that ``tau``.

    Parameters
    ----------
    target : CanonicalSystem
        The SISO true system.
    region : PacmanRegion, optional
        Where ``ahat`` is sampled (default: the post's region ``PacmanRegion()``).
    samples : int, default 200
        Number of sampled points (``>= 1``).
    random_state : None, int or numpy.random.Generator, optional
        Source of randomness.
    return_ratios : bool, default False
        Also return every ratio.

    Returns
    -------
    tau : float
        The smallest ratio.
    ratios : numpy.ndarray
        All ratios (only when ``return_ratios``).

    Raises
    ------
    ParameterError
        ``region`` is not a :class:`PacmanRegion`, or ``samples < 1``.

    Examples
    --------
    >>> from learnlds import CanonicalSystem
    >>> tau, ratios = estimate_tau(CanonicalSystem([-0.5], [1.0]), samples=10,
    ...                            random_state=0, return_ratios=True)
    >>> ratios.shape, bool(tau > 0)
    ((10,), True)
    """
    _require_siso(target, "target")
    samples = check_int(samples, "samples", low=1)
    return_ratios = check_bool(return_ratios, "return_ratios")
    region = PacmanRegion() if region is None else region
    if not isinstance(region, PacmanRegion):
        raise ParameterError(f"region: expected a PacmanRegion, got {type(region).__name__}")
    gen = check_random_state(random_state)
    n = target.order
    A = region.sample(n, samples, gen)
    scale = float(np.sqrt(np.mean(target.c**2))) or 1.0
    C = gen.normal(size=(samples, n)) * scale
    ratios, _ = quasi_convexity_ratios(target, A, C)
    tau = float(np.nanmin(ratios))
    return (tau, ratios) if return_ratios else tau
