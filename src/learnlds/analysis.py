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

import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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
    "TauProfile",
    "convexity_gap",
    "estimate_tau",
    "idealized_risk_and_grad",
    "quasi_convexity_ratios",
    "quasi_convexity_gap",
    "segment_profile",
    "tau_along_directions",
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
        ``f`` is not callable or returns something other than a real number, or ``num < 2``.
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
    vals = np.array([_real_value(f((1.0 - ti) * th0 + ti * th1), ti) for ti in t])
    return t, vals


def _real_value(value: Any, where: float) -> float:
    """``f``'s value as a float, or a ParameterError naming ``f`` (not ``float()``'s error)."""
    if isinstance(value, numbers.Real):
        return float(value)
    if (
        isinstance(value, np.ndarray | np.generic)
        and value.size == 1
        and value.dtype.kind in "fiub"
    ):
        return float(np.asarray(value).reshape(()))
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
    raise ParameterError(
        f"f: must return a real number, got {type(value).__name__} {shown} at t={where:g}"
    )


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
    DataError
        ``target`` is not stable: its idealized risk, and so every ratio, is undefined.

    Examples
    --------
    >>> from learnlds import CanonicalSystem
    >>> tau, ratios = estimate_tau(CanonicalSystem([-0.5], [1.0]), samples=10,
    ...                            random_state=0, return_ratios=True)
    >>> ratios.shape, bool(tau > 0)
    ((10,), True)
    """
    _require_siso(target, "target", stable=True)
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


def _profile_values(values: Any) -> np.ndarray:
    """A finite 1-D profile (at least 3 points), or a typed error naming ``values``."""
    v = as_float_array(values, "values", ndim=(1,))
    if v.size < 3:
        raise DataError(f"values: need at least 3 points along the segment, got {v.size}")
    return v


def convexity_gap(t: Any, values: Any) -> float:
    """How far a sampled profile rises above its lower convex envelope (0: convex).

    On the sample points a function is convex exactly when it equals its lower
    convex envelope; the largest difference, relative to the profile's range, says
    how visibly it is not convex (the post's figure 3: "clearly not convex").

    Parameters
    ----------
    t : array_like, shape (num,)
        Increasing positions along the segment.
    values : array_like, shape (num,)
        The function there (finite).

    Returns
    -------
    float
        ``max(values - envelope) / (max(values) - min(values))``, in ``[0, 1]``.

    Raises
    ------
    DataError
        Positions and values of different lengths, fewer than 3 points, positions
        not increasing, or non-finite values.

    Examples
    --------
    >>> t = np.linspace(0.0, 1.0, 5)
    >>> convexity_gap(t, t**2), convexity_gap(t, np.array([0.0, 1.0, 0.0, 1.0, 0.0]))
    (0.0, 1.0)
    """
    v = _profile_values(values)
    x = as_float_array(t, "t", ndim=(1,))
    if x.shape != v.shape or np.any(np.diff(x) <= 0):
        raise DataError(f"t: must increase and match values' shape {v.shape}, got {x.shape}")
    hull: list[int] = []  # lower convex hull (monotone chain), indices into x
    for i in range(x.size):
        while len(hull) >= 2:
            j, k = hull[-2], hull[-1]
            if (v[k] - v[j]) * (x[i] - x[j]) >= (v[i] - v[j]) * (x[k] - x[j]):
                hull.pop()
            else:
                break
        hull.append(i)
    envelope = np.interp(x, x[hull], v[hull])
    span = float(v.max() - v.min())
    return float(np.max(v - envelope) / span) if span > 0 else 0.0


def quasi_convexity_gap(values: Any) -> float:
    """How far a sampled profile violates quasi-convexity (0: unimodal, quasi-convex).

    Quasi-convex along a segment means ``f(t_j) <= max(f(t_i), f(t_k))`` for every
    ``i < j < k``, i.e. no interior bump: the profile decreases, then increases.

    Parameters
    ----------
    values : array_like, shape (num,)
        The function at increasing positions (finite).

    Returns
    -------
    float
        The largest violation relative to the profile's range, in ``[0, 1]``.

    Raises
    ------
    DataError
        Fewer than 3 points or non-finite values.

    Examples
    --------
    >>> quasi_convexity_gap([3.0, 1.0, 0.0, 2.0]), quasi_convexity_gap([0.0, 1.0, 0.0, 1.0])
    (0.0, 1.0)
    """
    v = _profile_values(values)
    left = np.minimum.accumulate(v)[:-2]  # min over i < j, for j = 1 .. num-2
    right = np.minimum.accumulate(v[::-1])[::-1][2:]  # min over k > j
    excess = v[1:-1] - np.maximum(left, right)
    span = float(v.max() - v.min())
    return float(max(excess.max(), 0.0) / span) if span > 0 else 0.0


@dataclass
class TauProfile:
    """Weak-quasi-convexity ratios of the idealized risk along random directions from an optimum.

    Parameters
    ----------
    ratios : numpy.ndarray, shape (directions, fractions)
        ``<grad g(theta), theta - theta0> / (g(theta) - g(theta0))`` at
        ``theta = theta0 + s (theta1 - theta0)``; NaN where the point is not
        admissible (unstable, or outside the region when one is given) or
        ``g(theta) <= g(theta0)``.
    fractions : numpy.ndarray, shape (fractions,)
        The positions ``s`` in ``(0, 1]`` along each direction.
    reference : float
        ``g(theta0)``, the risk at the reference point (0 when it is the truth).
    admissible : numpy.ndarray of bool, shape (directions, fractions)
        Which points were evaluated.

    Attributes
    ----------
    tau : float
        The smallest ratio observed (NaN when none is admissible).

    Examples
    --------
    >>> p = TauProfile(np.array([[2.0, np.nan]]), np.array([0.1, 1.0]), 0.0,
    ...                np.array([[True, False]]))
    >>> p.tau
    2.0
    """

    ratios: np.ndarray
    fractions: np.ndarray
    reference: float
    admissible: np.ndarray

    @property
    def tau(self) -> float:
        """The smallest admissible ratio (the weak-quasi-convexity constant observed)."""
        finite = self.ratios[np.isfinite(self.ratios)]
        return float(finite.min()) if finite.size else float("nan")


def _far_ends(
    reference: CanonicalSystem, region: PacmanRegion | None, num: int, gen: np.random.Generator
) -> np.ndarray:
    """``num`` random far points ``theta1 = (a1, c1)``: ``a1`` in the region or stable."""
    m = reference.order
    if region is not None:
        A = region.sample(m, num, gen)
    else:
        A = np.array([CanonicalSystem.random_stable(m, 0.95, gen).a for _ in range(num)])
    scale = float(np.sqrt(np.mean(reference.c**2))) or 1.0
    C = reference.c + gen.normal(size=(num, m)) * scale
    return np.hstack((A, C))


def _admissible(model: CanonicalSystem, region: PacmanRegion | None) -> bool:
    if region is not None:
        return region.contains(model.a)
    return model.spectral_radius() < 1.0


def tau_along_directions(
    truth: CanonicalSystem,
    reference: CanonicalSystem,
    *,
    directions: int = 50,
    fractions: Sequence[float] = (0.01, 0.03, 0.1, 0.3, 1.0),
    region: PacmanRegion | str | None = "pacman",
    random_state: Any = None,
) -> TauProfile:
    """Weak quasi-convexity of the idealized risk along random directions from ``reference``.

    ``g(theta) = sum_k (rhat_k - r_k)^2`` against ``truth``; ``theta = (a, c)`` of a model of
    ``reference``'s order (which may exceed ``truth``'s: over-parameterized problems) and ``theta0``
    the reference (the truth, or a learned optimum with ``g(theta0) >= 0``). Each direction points
    to a random ``theta1``: ``a1`` drawn in ``region`` (``None``: the denominator of a random stable
    system, radius 0.95), ``c1 = c0 + N(0, rms(c0)^2 I)``. The ratio is evaluated at ``theta0 + s
    (theta1 - theta0)`` for each ``s`` in ``fractions``, where that point is admissible (in the
    region, which is convex, so always; else stable). ``tau`` is the smallest ratio.

    Parameters
    ----------
    truth : CanonicalSystem
        The SISO system generating the data.
    reference : CanonicalSystem
        The SISO optimum the directions start from (order at least ``truth.order``).
    directions : int, default 50
        Random directions.
    fractions : sequence of float, default (0.01, 0.03, 0.1, 0.3, 1.0)
        Positions along each direction, in ``(0, 1]``.
    region : PacmanRegion, 'pacman' or None, default 'pacman'
        Where the far points are drawn; ``None``: among stable systems (the domain).
    random_state : None, int or numpy.random.Generator, optional
        Source of the directions.

    Returns
    -------
    TauProfile
        The ratios, the fractions, ``g(theta0)`` and which points counted.

    Raises
    ------
    ParameterError
        Bad ``region``, ``directions < 1``, ``fractions`` empty or outside ``(0, 1]``, or
        ``reference`` of lower order than ``truth``.
    DataError
        ``truth`` or ``reference`` unstable (the idealized risk is infinite there).

    Examples
    --------
    >>> truth = CanonicalSystem([-0.5], [1.0])
    >>> prof = tau_along_directions(truth, truth, directions=5, random_state=0)
    >>> prof.ratios.shape, bool(prof.tau > 0)
    ((5, 5), True)
    """
    _require_siso(truth, "truth", stable=True)
    _require_siso(reference, "reference", stable=True)
    num = check_int(directions, "directions", low=1)
    s = as_float_array(fractions, "fractions", ndim=(1,))
    if s.size == 0 or np.any(s <= 0) or np.any(s > 1):
        raise ParameterError(f"fractions: must be non-empty and lie in (0, 1], got {s.tolist()}")
    if reference.order < truth.order:
        raise ParameterError(
            f"reference: order {reference.order} is below the truth's {truth.order}"
        )
    reg = _resolve_region(region)
    gen = check_random_state(random_state)
    m = reference.order
    theta0 = np.concatenate((reference.a, reference.c))
    g0, _ = idealized_risk_and_grad(reference, truth)
    steps = _far_ends(reference, reg, num, gen) - theta0
    ratios, ok = np.full((num, s.size), np.nan), np.zeros((num, s.size), dtype=bool)
    for i, j in np.ndindex(num, s.size):  # one risk and gradient per admissible point
        delta = s[j] * steps[i]
        model = CanonicalSystem(theta0[:m] + delta[:m], theta0[m:] + delta[m:])
        ok[i, j] = _admissible(model, reg)
        if ok[i, j]:
            g, grad = idealized_risk_and_grad(model, truth)
            if np.isfinite(g) and g > g0:
                ratios[i, j] = float(grad.flat()[: 2 * m] @ delta) / (g - g0)
    return TauProfile(ratios, s, float(g0), ok)


def _resolve_region(region: Any) -> PacmanRegion | None:
    if region is None or isinstance(region, PacmanRegion):
        return region
    if region == "pacman":
        return PacmanRegion()
    raise ParameterError(f"region: must be None, 'pacman' or a PacmanRegion, got {region!r}")
