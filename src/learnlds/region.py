"""The Pac-Man (acquiescent) region: exact membership, projection and sampling.

SPEC section 3: with ``q_a(z) = 1 + a_1 z^{-1} + ... + a_n z^{-n}``,

    B_alpha = { a : for every |z| = alpha:  Re q_a(z) >= (1 + tau0) |Im q_a(z)|
                                            and tau1 < Re q_a(z) < tau2 }.

Conventions used here (and why):

* **Constraint functions.** At ``z = alpha e^{iw}`` write ``b_k = a_k alpha^{-k}``. Every
  constraint is an affine function of ``a`` and a real trigonometric polynomial of degree
  ``n`` in ``w``:

  - wedge ``+``: ``(Re q - s Im q) / sqrt(1 + s^2) >= 0`` with ``s = 1 + tau0``;
  - wedge ``-``: ``(Re q + s Im q) / sqrt(1 + s^2) >= 0``;
  - lower strip: ``Re q - tau1 >= 0``;
  - upper strip: ``tau2 - Re q >= 0`` (only when ``tau2`` is finite).

  The wedge slacks are divided by ``sqrt(1 + s^2)`` so that every slack is the signed
  Euclidean distance of ``q_a(z)`` to the boundary line of that half-plane in the complex
  plane, and every harmonic ``k`` of every slack has amplitude exactly ``|b_k|``.
  Conjugate symmetry means ``w`` in ``[0, pi]`` suffices (both wedge sides are checked).
* **Strict inequalities.** ``tau1 < Re q < tau2`` is strict in the paper; a strict
  inequality cannot be certified in floating point, so membership is the closed set
  relaxed by a tolerance: ``contains(a, tol)`` is ``margin(a) >= -tol``. With the default
  ``tau1 = 0`` the lower strip is implied by the wedge (``Re q >= s |Im q| >= 0``) except on
  the boundary point ``q = 0``, which the closed version accepts.
* **Exactness.** ``margin`` is the minimum over the whole half circle, not over a grid:
  a power-of-two FFT grid gives all slacks at once; for a degree-``n`` trigonometric
  polynomial with ``|g''| <= M2 = sum_k k^2 |b_k|`` the true minimum is at least the grid
  minimum minus ``M2 h^2 / 8`` (the minimiser has ``g' = 0`` and lies within ``h/2`` of a
  grid point). Every grid point whose value is within that bound of the grid minimum is
  refined by safeguarded Newton iterations on its ``h``-cell, so the minimiser is never
  missed between grid points.
* **Non-empty region.** ``Re q`` has mean 1 over the circle, so the region is non-empty
  exactly when ``tau1 < 1 < tau2``; then ``a = 0`` (``q = 1``) is an interior point.

The quasi-convexity tools that used to live here (``segment_profile``,
``idealized_risk_and_grad``, ``quasi_convexity_ratios``, ``estimate_tau``) are in
:mod:`learnlds.analysis`, next to the risks.

Examples
--------
>>> region = PacmanRegion()
>>> region.contains([0.5]), region.contains([2.0])
(True, False)
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import quadprog

from ._boundary import (
    as_float_array,
    check_float,
    check_int,
    check_memory,
    check_random_state,
    renamed_parameters,
)
from .errors import DataError, ParameterError, ProjectionError

__all__ = ["PacmanRegion", "ProjectionInfo"]

# rows of a QP whose slack at its solution exceeds this are dropped from the next one
_KEEP_SLACK = 1e-3


@dataclass(frozen=True)
class ProjectionInfo:
    """Diagnostics of the last :meth:`PacmanRegion.project` call.

    Parameters
    ----------
    rounds : int
        QP solves (0 when the point was already inside).
    cuts : int
        Constraint rows of the last QP.
    margin : float
        Margin of the returned point.
    shrink : float
        Factor in ``(0, 1]`` applied to pull the QP solution inside (1: none).

    Examples
    --------
    >>> region = PacmanRegion()
    >>> _ = region.project([0.1])
    >>> region.last_projection.rounds  # already inside: no QP
    0
    """

    rounds: int
    cuts: int
    margin: float
    shrink: float


def _check_tau2(value: Any) -> float:
    """``tau2`` may be ``inf`` (no upper strip); otherwise a finite real number."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and value == np.inf:
        return float("inf")
    return check_float(value, "tau2")  # type: ignore[return-value]


class PacmanRegion:
    """Convex set ``B_alpha`` of denominators whose ``q_a`` stays in the Pac-Man wedge.

    Parameters
    ----------
    alpha : float, default 1.0
        Radius in ``(0, 1]`` of the circle where ``q_a`` is checked (the roots of ``p_a``
        then lie in ``|z| < alpha``).
    tau0 : float, default 0.0
        Wedge slope ``>= 0``: ``Re q >= (1 + tau0) |Im q|`` (0: the post's 90-degree wedge).
    tau1, tau2 : float, default 0.0 and inf
        Strip ``tau1 < Re q < tau2`` with ``0 <= tau1 < 1 < tau2 <= inf`` (defaults: no
        strip beyond the wedge).

    Attributes
    ----------
    last_projection : ProjectionInfo or None
        Diagnostics of the last :meth:`project` call.

    Raises
    ------
    ParameterError
        A parameter outside its range, or a strip that would leave the region empty.

    Examples
    --------
    >>> region = PacmanRegion(alpha=0.9, tau0=0.5)
    >>> region
    PacmanRegion(alpha=0.9, tau0=0.5, tau1=0.0, tau2=inf)
    >>> region.contains(np.zeros(3))
    True
    """

    def __init__(
        self,
        alpha: float = 1.0,
        tau0: float = 0.0,
        tau1: float = 0.0,
        tau2: float = float("inf"),
    ) -> None:
        alpha = check_float(alpha, "alpha", low=0.0, high=1.0, low_open=True)
        tau0 = check_float(tau0, "tau0", low=0.0)
        tau1 = check_float(tau1, "tau1", low=0.0)
        tau2 = _check_tau2(tau2)
        if tau1 >= tau2:
            raise ParameterError(f"tau1: must be < tau2, got tau1={tau1} >= tau2={tau2}")
        if tau1 >= 1.0:
            raise ParameterError(
                f"tau1: must be < 1 (Re q has mean 1 on the circle, so the region would be "
                f"empty), got {tau1}"
            )
        if tau2 <= 1.0:
            raise ParameterError(
                f"tau2: must be > 1 (Re q has mean 1 on the circle, so the region would be "
                f"empty), got {tau2}"
            )
        self.alpha, self.tau0, self.tau1, self.tau2 = alpha, tau0, tau1, tau2
        s = 1.0 + tau0
        u = 1.0 / np.sqrt(1.0 + s * s)
        # slack_j(w) = const_j + Re(zeta_j * sum_k b_k e^{ikw}),  zeta_j = p_j - i r_j, |zeta_j| = 1
        const = [u, u, 1.0 - tau1]
        p = [u, u, 1.0]
        r = [s * u, -s * u, 0.0]
        if np.isfinite(tau2):
            const.append(tau2 - 1.0)
            p.append(-1.0)
            r.append(0.0)
        self._const = np.array(const)
        self._p = np.array(p)
        self._r = np.array(r)
        self._zeta = self._p - 1j * self._r
        # constraints used in the QP: the lower strip with tau1 = 0 is implied pointwise by the
        # two wedge rows at the same w (Re q = (wedge+ + wedge-) / (2u)), so it is dropped there.
        self._qp_rows = np.array([j for j in range(len(const)) if not (j == 2 and tau1 == 0.0)])
        self._cheap = float(np.min(self._const))  # sum_k |b_k| <= this  =>  inside
        self._cache: dict[int, Any] = {}
        self.last_projection: ProjectionInfo | None = None

    def __repr__(self) -> str:
        return (
            f"PacmanRegion(alpha={self.alpha!r}, tau0={self.tau0!r}, tau1={self.tau1!r}, "
            f"tau2={self.tau2!r})"
        )

    # ------------------------------------------------------------------ internals
    def _check_a(self, a: Any, name: str = "a") -> np.ndarray:
        arr = as_float_array(a, name, ndim=(1,))
        if arr.shape[0] < 1:
            raise DataError(f"{name}: must have at least one coefficient")
        return arr

    def _check_direction(self, direction: Any) -> np.ndarray:
        """A ray's direction: finite coefficients (``_check_a``), not all zero (a zero
        direction has no boundary point; its radius would be ``inf`` or ``NaN``)."""
        d = self._check_a(direction, "direction")
        if not np.any(d):
            raise DataError(f"direction: must be non-zero, got {d.tolist()}")
        return d

    def _require_memory(self, n: int, name: str = "a") -> None:
        """Refuse an order whose projection tables (QP rows on ``~6n`` angles, ``n`` columns,
        with their complex temporaries) and dense QP this machine cannot hold."""
        angles, rows = max(16, 6 * n) + 2, len(self._qp_rows)
        size = f"the region's projection for {n} coefficients"
        advice = "use fewer coefficients" if name == "a" else f"use a smaller {name}"
        advice += " (or region=None: plain SGD)" if name == "order" else ""
        check_memory(float(angles) * n * (16 + 24 * rows) + 32.0 * n * n, name, size, advice)

    def _tables(self, n: int) -> dict[str, Any]:
        """Per-order constants: ``alpha^{-k}``, grid size, QP base grid rows (cached)."""
        t = self._cache.get(n)
        if t is None:
            self._require_memory(n)
            k = np.arange(1, n + 1, dtype=float)
            M = max(64, 1 << int(np.ceil(np.log2(32 * (n + 1)))))  # full-circle FFT size
            t = {
                "k": k,
                "k2": k * k,
                "k3": k**3,
                "scale": self.alpha ** (-k),
                "M": M,
                "h": 2.0 * np.pi / M,
                "w": 2.0 * np.pi * np.arange(M // 2 + 1) / M,
            }
            half = np.full((2, M // 2 + 1), 0.5 * t["h"])
            half[0] *= -1.0
            half[0, 0] = 0.0  # the cells at 0 and pi are clipped to [0, pi]
            half[1, -1] = 0.0
            t["half"] = half
            m0 = max(16, 6 * n)  # initial cutting-plane grid on [0, pi]
            w0 = np.pi * (np.arange(m0) + 0.5) / m0
            w0 = np.concatenate(([0.0], w0, [np.pi]))
            t["qp_base"] = self._rows(w0, t)
            t["qp_w"] = w0
            self._cache[n] = t
        return t

    def _rows(self, w: np.ndarray, t: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        """QP rows ``G x >= h`` for all QP constraints at angles ``w`` (G: (rows, n))."""
        E = np.exp(1j * np.outer(w, t["k"])) * t["scale"]  # (W, n)
        js = self._qp_rows
        G = (self._zeta[js, None, None] * E[None]).real.reshape(-1, E.shape[1])
        h = np.repeat(-self._const[js], w.shape[0])
        return G, h

    def _grid(self, b: np.ndarray, t: dict[str, Any]) -> np.ndarray:
        """Linear parts ``Re(zeta_j P(w))``, ``P = sum_k b_k e^{ikw}``, on the grid of [0, pi]."""
        P = np.fft.rfft(np.concatenate(([0.0], b)), t["M"]).conj()  # sum_k b_k e^{+ikw}
        return self._p[:, None] * P.real[None, :] + self._r[:, None] * P.imag[None, :]

    def _cells(self, b: np.ndarray, t: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        """Linear parts on the grid and a rigorous lower bound of each on its cell.

        Cell ``i`` is ``[w_i - h/2, w_i + h/2]`` clipped to ``[0, pi]``. The bound is the
        minimum over the cell of the second-order Taylor polynomial at ``w_i`` minus
        ``M3 (h/2)^3 / 6``, where ``M3 = sum_k k^3 |b_k|`` bounds the third derivative.
        Both arrays have shape ``(J, M/2 + 1)``.
        """
        coef = np.zeros((3, b.shape[0] + 1))
        coef[0, 1:] = b
        coef[1, 1:] = t["k"] * b
        coef[2, 1:] = t["k2"] * b
        P = np.fft.rfft(coef, t["M"], axis=1).conj()
        # value: Re(zeta P); first derivative: Re(zeta i P_k); second: -Re(zeta P_k2)
        p, r = self._p[:, None], self._r[:, None]
        f0 = p * P[0].real + r * P[0].imag
        f1 = -p * P[1].imag + r * P[1].real
        f2 = -(p * P[2].real + r * P[2].imag)
        lo, hi = t["half"]
        with np.errstate(over="ignore"):  # a tiny curvature: the vertex is far out, clipped
            tq = np.clip(-f1 / np.where(f2 > 0, f2, np.inf), lo, hi)
        quad = np.minimum(
            np.minimum(f1 * lo + 0.5 * f2 * lo**2, f1 * hi + 0.5 * f2 * hi**2),
            f1 * tq + 0.5 * f2 * tq**2,
        )
        m3 = float(np.dot(t["k3"], np.abs(b))) * (0.5 * t["h"]) ** 3 / 6.0
        return f0, f0 + quad - m3

    def _refine(
        self, b: np.ndarray, t: dict[str, Any], jj: np.ndarray, ii: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Minimise linear part ``j`` on the cell ``[w_i - h/2, w_i + h/2]`` (clipped to [0, pi]).

        Vectorised safeguarded Newton on ``g'``: steps are clipped to the cell and a
        non-convex cell moves to the end point downhill; the cell end points are evaluated
        too, so the returned value is the cell minimum. Returns ``(values, w)``.
        """
        k = t["k"]
        h = t["h"]
        w = t["w"][ii]
        lo = np.maximum(w - 0.5 * h, 0.0)
        hi = np.minimum(w + 0.5 * h, np.pi)
        zeta = self._zeta[jj]
        B = np.stack((1j * k * b, -t["k2"] * b), axis=1)  # derivatives' coefficients (n, 2)
        for _ in range(6):
            D = np.cumprod(np.repeat(np.exp(1j * w)[:, None], k.shape[0], axis=1), axis=1) @ B
            g1 = (zeta * D[:, 0]).real
            g2 = (zeta * D[:, 1]).real
            step = np.where(g2 > 0, -g1 / np.where(g2 > 0, g2, 1.0), np.where(g1 > 0, -h, h))
            w = np.clip(w + step, lo, hi)
        allw = np.concatenate((w, lo, hi))
        vals = (np.tile(zeta, 3) * (np.exp(1j * np.outer(allw, k)) @ b)).real.reshape(3, -1)
        pick = np.argmin(vals, axis=0)
        idx = np.arange(vals.shape[1])
        return vals[pick, idx], allw.reshape(3, -1)[pick, idx]

    def _exact(
        self, b: np.ndarray, t: dict[str, Any], level: float | None = None
    ) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Exact margin, refined candidate cells ``(values, j, w)`` and the slack grid.

        Cells whose rigorous lower bound is at or below ``level`` (default: the grid
        minimum, i.e. every cell that may hold the global minimum) are minimised by
        :meth:`_refine`; all others provably stay above it.
        """
        f0, lb = self._cells(b, t)
        c = self._const[:, None]
        slack = f0 + c
        gmin = float(slack.min())
        jj, ii = np.nonzero(lb + c <= (gmin if level is None else level))
        if jj.shape[0] == 0:
            return gmin, np.empty(0), jj, np.empty(0), slack
        vals, w = self._refine(b, t, jj, ii)
        vals = vals + self._const[jj]
        return min(gmin, float(vals.min())), vals, jj, w, slack

    # ------------------------------------------------------------------ membership
    def margin(self, a: Any) -> float:
        """Signed minimum slack over the circle ``|z| = alpha`` (>= 0 inside).

        Wedge slacks are distances of ``q_a(z)`` to the wedge's edge lines, strip slacks are
        ``Re q - tau1`` and ``tau2 - Re q``; exact up to rounding (see the module docstring).

        Parameters
        ----------
        a : array_like, shape (order,)
            Denominator coefficients.

        Returns
        -------
        float
            The margin.

        Examples
        --------
        >>> round(PacmanRegion().margin([0.0]), 12)  # distance of q = 1 to the wedge's edges
        0.707106781187
        """
        a = self._check_a(a)
        t = self._tables(a.shape[0])
        return self._exact(a * t["scale"], t)[0]

    def contains(self, a: Any, tol: float = 1e-9) -> bool:
        """Membership ``margin(a) >= -tol``, with cheap certificates tried first.

        ``sum_k |a_k| alpha^{-k} <= min(const)`` proves membership; a grid point with slack
        ``< -tol`` disproves it; a grid minimum above ``-tol`` by more than the curvature
        bound proves it; only otherwise is the exact minimum computed.

        Parameters
        ----------
        a : array_like, shape (order,)
            Denominator coefficients.
        tol : float, default 1e-9
            Slack tolerance ``>= 0`` (the strict inequalities cannot be certified in
            floating point).

        Returns
        -------
        bool
            Whether ``a`` is in the (relaxed, closed) region.

        Examples
        --------
        >>> PacmanRegion().contains([-1.486, 0.81])  # stable, but q leaves the wedge
        False
        """
        a = self._check_a(a)
        tol = check_float(tol, "tol", low=0.0)
        t = self._tables(a.shape[0])
        b = a * t["scale"]
        if np.abs(b).sum() <= self._cheap:
            return True
        grid = self._grid(b, t)
        gmin = float((grid + self._const[:, None]).min())
        if gmin < -tol:
            return False
        if gmin - float(np.dot(t["k2"], np.abs(b))) * t["h"] ** 2 / 8.0 >= -tol:
            return True
        return self._exact(b, t, level=-tol)[0] >= -tol

    def ray_radius(self, direction: Any) -> float:
        """Largest ``t`` with ``t * direction`` in the (closed) region; ``inf`` if unbounded.

        Each slack is ``const_j + t * g_j(w)``, so ``t_max = min_j const_j / max_w(-g_j(w))``;
        the per-constraint minima of ``g_j`` are computed exactly.

        Parameters
        ----------
        direction : array_like, shape (order,)
            Direction from the origin.

        Returns
        -------
        float
            The distance factor to the boundary.

        Raises
        ------
        DataError
            ``direction`` empty, not 1-D, non-finite or zero.

        Examples
        --------
        >>> round(PacmanRegion().ray_radius([1.0]), 12)  # sqrt(2) / 2
        0.707106781187
        """
        d = self._check_direction(direction)
        t = self._tables(d.shape[0])
        b = d * t["scale"]
        f0, lb = self._cells(b, t)
        gmin = f0.min(axis=1)
        jj, ii = np.nonzero(lb <= gmin[:, None])
        vals, _ = self._refine(b, t, jj, ii)
        exact = gmin.copy()
        np.minimum.at(exact, jj, vals)
        with np.errstate(divide="ignore"):
            ratios = np.where(exact < 0, self._const / np.where(exact < 0, -exact, 1.0), np.inf)
        return float(ratios.min())

    def curve(self, a: Any, num: int = 512) -> np.ndarray:
        """The closed curve ``q_a(alpha e^{iw})`` for ``num`` angles ``w`` from 0 to ``2 pi``.

        Parameters
        ----------
        a : array_like, shape (order,)
            Denominator coefficients.
        num : int, default 512
            Number of angles (``>= 2``).

        Returns
        -------
        numpy.ndarray
            Complex values of ``q_a``.

        Examples
        --------
        >>> PacmanRegion().curve([0.5], num=3).real
        array([1.5, 0.5, 1.5])
        """
        a = self._check_a(a)
        num = check_int(num, "num", low=2)
        w = np.linspace(0.0, 2.0 * np.pi, num)
        k = np.arange(1, a.shape[0] + 1)
        return 1.0 + np.exp(-1j * np.outer(w, k)) @ (a * self.alpha ** (-k.astype(float)))

    # ------------------------------------------------------------------ projection
    def project(self, a: Any, tol: float = 1e-9, max_rounds: int = 60) -> np.ndarray:
        """Euclidean projection onto the region (QP + cutting planes); inside points unchanged.

        Solver: quadprog (Goldfarb-Idnani dual active set, dense). The QPs here are tiny
        and dense (n variables, a few hundred rows, few active), where an active-set method
        with no setup cost is much faster than an interior-point solver such as Clarabel,
        and it returns an exact vertex of the active set (no interior-point fuzz to clean up).

        Rounds: solve on a base grid of ``~6n`` angles, compute the exact violated minima of
        the solution, add their angles (all constraints there) and re-solve until the
        margin is ``>= -1e-10``. The QP solution on finitely many rows lies outside the true
        set by a sliver, so it is then shrunk toward the interior point ``0`` by the factor
        ``t = c / (c - margin)`` (``c`` the smallest slack at ``a = 0``), which makes every
        slack ``>= 0`` because slacks are affine in ``a``: ``t`` differs from 1 by
        ``O(1e-10)``. Never returns an outside point, nor a far-from-optimal shrunk one.

        Parameters
        ----------
        a : array_like, shape (order,)
            The point to project.
        tol : float, default 1e-9
            Membership tolerance (see :meth:`contains`).
        max_rounds : int, default 60
            Most QP solves (``>= 1``).

        Returns
        -------
        numpy.ndarray
            The projection (a copy of ``a`` when it is inside).

        Raises
        ------
        ProjectionError
            The rounds did not converge within ``max_rounds`` or no inside point was reached.

        Examples
        --------
        >>> np.round(PacmanRegion().project([2.0]), 9)  # the boundary is at sqrt(2) / 2
        array([0.707106781])
        """
        a = self._check_a(a)
        tol = check_float(tol, "tol", low=0.0)
        max_rounds = check_int(max_rounds, "max_rounds", low=1)
        if self.contains(a, tol):
            self.last_projection = ProjectionInfo(0, 0, self.margin(a), 1.0)
            return a.copy()
        x, m, rounds, cuts = self._cutting_planes(a, max_rounds)
        shrink = 1.0
        if m < 0:  # slacks are affine in x: pulling toward the interior point 0 fixes them all
            c = self._cheap
            shrink = (c - 1e-13) / (c - m)
            x = x * shrink
            m = self.margin(x)
        if m < -tol or not np.all(np.isfinite(x)):
            raise ProjectionError(
                f"project: no point inside the region after {rounds} rounds (margin {m:.3e}); "
                "try a larger max_rounds"
            )
        self.last_projection = ProjectionInfo(rounds, cuts, m, shrink)
        return x

    def _cutting_planes(self, a: np.ndarray, max_rounds: int) -> tuple[np.ndarray, float, int, int]:
        """QP rounds until the exact margin of the solution is ``>= -1e-10``.

        Returns ``(x, margin, rounds, rows of the last QP)``; raises
        :class:`ProjectionError` when ``max_rounds`` QPs do not get there.
        """
        n = a.shape[0]
        t = self._tables(n)
        G, hv = t["qp_base"]
        wset = t["qp_w"]
        Gq = np.eye(n)
        m = -np.inf
        for rounds in range(1, max_rounds + 1):
            try:
                sol = quadprog.solve_qp(Gq, a, np.ascontiguousarray(G.T), hv, 0)
            except ValueError as exc:  # pragma: no cover - 0 is always feasible
                raise ProjectionError(f"project: the QP failed in round {rounds}: {exc}") from exc
            x = sol[0]
            m, vals, _, w, slack = self._exact(x * t["scale"], t)
            if m >= -1e-10:
                return x, m, rounds, G.shape[0]
            wnew, wset = self._new_angles(t, wset, w[vals < -1e-11], slack)
            Gn, hn = self._rows(wnew, t)
            # keep only the rows active or nearly active in this QP (dropping rows with zero
            # multiplier does not change its solution, and new violated cuts raise the optimum
            # strictly: no cycling; a dropped row that becomes violated again is found by the
            # exact check). Keeping the nearly active ones too avoids re-violations, which
            # made far-away points (n touching angles) need > 60 rounds.
            keep = np.nonzero((sol[4] > 0) | (G @ x - hv <= _KEEP_SLACK))[0]
            G = np.vstack((G[keep], Gn))
            hv = np.concatenate((hv[keep], hn))
        raise ProjectionError(
            f"project: the cutting planes did not converge in {max_rounds} rounds "
            f"(margin {m:.3e} of the last QP solution); try a larger max_rounds"
        )

    @staticmethod
    def _new_angles(
        t: dict[str, Any], wset: np.ndarray, w_exact: np.ndarray, slack: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Angles to cut at next: violated minima and a fine split of their brackets.

        Returns ``(new angles, all angles cut so far)``.
        """
        # violated minima: exact ones near the global minimum plus violated grid local minima
        loc = (slack < -1e-11) & (slack <= np.roll(slack, 1, axis=1))
        loc &= slack <= np.roll(slack, -1, axis=1)
        wstar = np.unique(np.concatenate((w_exact, t["w"][np.nonzero(loc)[1]])))
        # A cut only at w* makes the violation shrink by ~4 per round (the touching point
        # halves its bracket); cutting the bracket [L, U] of w* between earlier cut angles
        # into 8 as well shrinks it by ~64 per round instead.
        idx = np.clip(np.searchsorted(wset, wstar), 1, wset.shape[0] - 1)
        lo, up = wset[idx - 1], wset[idx]
        frac = np.arange(1, 8) / 8.0
        wnew = np.concatenate((wstar, (lo[:, None] + (up - lo)[:, None] * frac).ravel()))
        wnew = np.setdiff1d(np.unique(np.round(wnew, 13)), wset)
        return wnew, np.union1d(wset, wnew)

    # ------------------------------------------------------------------ sampling
    @renamed_parameters(n="order", rng="random_state")
    def sample(self, order: int, size: int, random_state: Any = None) -> np.ndarray:
        """Random members of the region: ``size`` denominators of order ``order``.

        Direction uniform on the sphere, radius ``R(d) * U^{1/order}`` along the ray where
        ``R(d)`` is the exact boundary distance along that ray (:meth:`ray_radius`); this
        is the uniform distribution when the region is a ball and fills the whole region
        (every point, near the boundary included) in general.

        Parameters
        ----------
        order : int
            Number of coefficients (``>= 1``).
        size : int
            Number of samples (``>= 0``).
        random_state : None, int or numpy.random.Generator, optional
            Source of randomness.

        Returns
        -------
        numpy.ndarray, shape (size, order)
            The samples, one per row.

        Examples
        --------
        >>> region = PacmanRegion()
        >>> pts = region.sample(3, 4, random_state=0)
        >>> pts.shape, all(region.contains(p) for p in pts)
        ((4, 3), True)
        """
        order = check_int(order, "order", low=1)
        size = check_int(size, "size", low=0)
        gen = check_random_state(random_state)
        d = gen.normal(size=(size, order))
        d /= np.linalg.norm(d, axis=1, keepdims=True)
        R = np.array([self.ray_radius(di) for di in d])
        r = R * gen.uniform(size=size) ** (1.0 / order)
        return d * r[:, None]

    def boundary_point(self, direction: Any) -> np.ndarray:
        """The boundary point ``ray_radius(direction) * direction``.

        Parameters
        ----------
        direction : array_like, shape (order,)
            Direction from the origin.

        Returns
        -------
        numpy.ndarray
            The point where the ray leaves the region.

        Raises
        ------
        DataError
            ``direction`` empty, not 1-D, non-finite or zero.

        Examples
        --------
        >>> PacmanRegion(alpha=0.5).boundary_point([1.0])
        array([0.35355339])
        """
        d = self._check_direction(direction)
        return self.ray_radius(d) * d
