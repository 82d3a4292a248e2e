"""The Pac-Man (acquiescent) region, exact membership, projection, and quasi-convexity tools.

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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import quadprog
from scipy import signal

from ._boundary import check_random_state as _check_rng
from .risk import Gradient, markov_tail_length
from .systems import CanonicalSystem, as_real_array

__all__ = [
    "PacmanRegion",
    "ProjectionError",
    "ProjectionInfo",
    "estimate_tau",
    "idealized_risk_and_grad",
    "quasi_convexity_ratios",
    "segment_profile",
]


# rows of a QP whose slack at its solution exceeds this are dropped from the next one
_KEEP_SLACK = 1e-3


class ProjectionError(RuntimeError):
    """The cutting-plane projection did not reach a point inside the region."""


@dataclass(frozen=True)
class ProjectionInfo:
    """Diagnostics of the last :meth:`PacmanRegion.project` call."""

    rounds: int  # QP solves (0 when the point was already inside)
    cuts: int  # constraint rows of the last QP
    margin: float  # margin of the returned point
    shrink: float  # factor t in (0, 1] applied to pull the QP solution inside (1: none)


def _check_param(value: Any, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: must be a real number, got {value!r}") from exc
    return v


class PacmanRegion:
    """Convex set ``B_alpha`` of denominators whose ``q_a`` stays in the Pac-Man wedge.

    Parameters
    ----------
    alpha : float in (0, 1]
        Radius of the circle where ``q_a`` is checked (the roots of ``p_a`` lie in ``|z| < alpha``).
    tau0 : float >= 0
        Wedge slope: ``Re q >= (1 + tau0) |Im q|`` (0: the post's 90-degree wedge).
    tau1, tau2 : floats with ``0 <= tau1 < 1 < tau2 <= inf``
        Strip ``tau1 < Re q < tau2`` (defaults: no strip beyond the wedge).
    """

    def __init__(
        self,
        alpha: float = 1.0,
        tau0: float = 0.0,
        tau1: float = 0.0,
        tau2: float = float("inf"),
    ) -> None:
        alpha = _check_param(alpha, "alpha")
        tau0 = _check_param(tau0, "tau0")
        tau1 = _check_param(tau1, "tau1")
        tau2 = _check_param(tau2, "tau2")
        if not np.isfinite(alpha) or not 0.0 < alpha <= 1.0:
            raise ValueError(f"alpha: must lie in (0, 1], got {alpha}")
        if not np.isfinite(tau0) or tau0 < 0.0:
            raise ValueError(f"tau0: must be a finite number >= 0, got {tau0}")
        if not np.isfinite(tau1) or tau1 < 0.0:
            raise ValueError(f"tau1: must be a finite number >= 0, got {tau1}")
        if np.isnan(tau2) or tau2 == -np.inf:
            raise ValueError(f"tau2: must be a number > tau1 (inf allowed), got {tau2}")
        if tau1 >= tau2:
            raise ValueError(f"tau1: must be < tau2, got tau1={tau1} >= tau2={tau2}")
        if tau1 >= 1.0:
            raise ValueError(
                f"tau1: must be < 1 (Re q has mean 1 on the circle, so the region would be "
                f"empty), got {tau1}"
            )
        if tau2 <= 1.0:
            raise ValueError(
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
    def _check_a(self, a: Any) -> np.ndarray:
        arr = as_real_array(a, "a", ndim=(1,))
        if arr.shape[0] < 1:
            raise ValueError("a: must have at least one coefficient")
        return arr

    def _tables(self, n: int) -> dict[str, Any]:
        """Per-order constants: ``alpha^{-k}``, grid size, QP base grid rows (cached)."""
        t = self._cache.get(n)
        if t is None:
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
        """
        a = self._check_a(a)
        t = self._tables(a.shape[0])
        return self._exact(a * t["scale"], t)[0]

    def contains(self, a: Any, tol: float = 1e-9) -> bool:
        """``margin(a) >= -tol``, with cheap certificates tried first.

        ``sum_k |a_k| alpha^{-k} <= min(const)`` proves membership; a grid point with slack
        ``< -tol`` disproves it; a grid minimum above ``-tol`` by more than the curvature
        bound proves it; only otherwise is the exact minimum computed.
        """
        a = self._check_a(a)
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
        """
        d = self._check_a(direction)
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
        """``q_a(alpha e^{iw})`` for ``num`` angles ``w`` from 0 to ``2 pi`` (closed curve)."""
        a = self._check_a(a)
        num = int(num)
        if num < 2:
            raise ValueError(f"num: must be >= 2, got {num}")
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
        ``O(1e-10)``. Raises :class:`ProjectionError` when the rounds do not converge
        within ``max_rounds`` or no inside point is reached (never returns an outside
        point, nor a far-from-optimal shrunk one).
        """
        a = self._check_a(a)
        if self.contains(a, tol):
            self.last_projection = ProjectionInfo(0, 0, self.margin(a), 1.0)
            return a.copy()
        n = a.shape[0]
        t = self._tables(n)
        G, hv = t["qp_base"]
        wset = t["qp_w"]
        Gq = np.eye(n)
        x = a
        m = -np.inf
        rounds = 0
        while rounds < max_rounds:
            rounds += 1
            try:
                sol = quadprog.solve_qp(Gq, a, np.ascontiguousarray(G.T), hv, 0)
            except ValueError as exc:  # pragma: no cover - 0 is always feasible
                raise ProjectionError(f"project: the QP failed in round {rounds}: {exc}") from exc
            x = sol[0]
            b = x * t["scale"]
            m, vals, jj, w, slack = self._exact(b, t)
            if m >= -1e-10:
                break
            # violated minima: exact ones near the global minimum plus violated grid local minima
            loc = (slack < -1e-11) & (slack <= np.roll(slack, 1, axis=1))
            loc &= slack <= np.roll(slack, -1, axis=1)
            wstar = np.unique(np.concatenate((w[vals < -1e-11], t["w"][np.nonzero(loc)[1]])))
            # A cut only at w* makes the violation shrink by ~4 per round (the touching point
            # halves its bracket); cutting the bracket [L, U] of w* between earlier cut angles
            # into 8 as well shrinks it by ~64 per round instead.
            idx = np.clip(np.searchsorted(wset, wstar), 1, wset.shape[0] - 1)
            lo, up = wset[idx - 1], wset[idx]
            frac = np.arange(1, 8) / 8.0
            wnew = np.concatenate((wstar, (lo[:, None] + (up - lo)[:, None] * frac).ravel()))
            wnew = np.setdiff1d(np.unique(np.round(wnew, 13)), wset)
            wset = np.union1d(wset, wnew)
            Gn, hn = self._rows(wnew, t)
            # keep only the rows active or nearly active in this QP (dropping rows with zero
            # multiplier does not change its solution, and new violated cuts raise the optimum
            # strictly: no cycling; a dropped row that becomes violated again is found by the
            # exact check). Keeping the nearly active ones too avoids re-violations, which
            # made far-away points (n touching angles) need > 60 rounds.
            keep = np.nonzero((sol[4] > 0) | (G @ x - hv <= _KEEP_SLACK))[0]
            G = np.vstack((G[keep], Gn))
            hv = np.concatenate((hv[keep], hn))
        if m < -1e-10:
            raise ProjectionError(
                f"project: the cutting planes did not converge in {max_rounds} rounds "
                f"(margin {m:.3e} of the last QP solution); try a larger max_rounds"
            )
        shrink = 1.0
        if m < 0:
            c = self._cheap
            shrink = (c - 1e-13) / (c - m)
            x = x * shrink
            m = self.margin(x)
        if m < -tol or not np.all(np.isfinite(x)):
            raise ProjectionError(
                f"project: no point inside the region after {rounds} rounds (margin {m:.3e}); "
                "try a larger max_rounds"
            )
        self.last_projection = ProjectionInfo(rounds, G.shape[0], m, shrink)
        return x

    # ------------------------------------------------------------------ sampling
    def sample(self, n: int, size: int, rng: Any = None) -> np.ndarray:
        """``size`` random members of order ``n``, shape ``(size, n)``.

        Direction uniform on the sphere, radius ``R(d) * U^{1/n}`` along the ray where
        ``R(d)`` is the exact boundary distance along that ray (:meth:`ray_radius`); this
        is the uniform distribution when the region is a ball and fills the whole region
        (every point, near the boundary included) in general.
        """
        n = int(n)
        size = int(size)
        if n < 1:
            raise ValueError(f"n: must be >= 1, got {n}")
        if size < 0:
            raise ValueError(f"size: must be >= 0, got {size}")
        gen = _check_rng(rng)
        d = gen.normal(size=(size, n))
        d /= np.linalg.norm(d, axis=1, keepdims=True)
        R = np.array([self.ray_radius(di) for di in d])
        r = R * gen.uniform(size=size) ** (1.0 / n)
        return d * r[:, None]

    def boundary_point(self, direction: Any) -> np.ndarray:
        """The boundary point ``ray_radius(d) * d`` along ``direction``."""
        d = self._check_a(direction)
        return self.ray_radius(d) * d


# --------------------------------------------------------------------------- quasi-convexity
def segment_profile(
    f: Callable[[np.ndarray], float], theta0: Any, theta1: Any, num: int = 101
) -> tuple[np.ndarray, np.ndarray]:
    """``(t, f((1 - t) theta0 + t theta1))`` for ``num`` values of ``t`` in [0, 1].

    A quasi-convex ``f`` gives a profile that decreases then increases (no interior bump
    above both ends of any sub-segment).
    """
    th0 = as_real_array(theta0, "theta0", ndim=(1,))
    th1 = as_real_array(theta1, "theta1", ndim=(1,))
    if th0.shape != th1.shape:
        raise ValueError(f"theta1: shape {th1.shape} differs from theta0's {th0.shape}")
    num = int(num)
    if num < 2:
        raise ValueError(f"num: must be >= 2, got {num}")
    t = np.linspace(0.0, 1.0, num)
    vals = np.array([float(f((1.0 - ti) * th0 + ti * th1)) for ti in t])
    return t, vals


def idealized_risk_and_grad(
    model: CanonicalSystem, truth: CanonicalSystem
) -> tuple[float, Gradient]:
    """``g = sum_{k>=1} (rhat_k - r_k)^2`` and its exact gradient in ``(ahat, chat)`` (d-part 0).

    With ``h`` the impulse response of ``1/q_ahat`` and ``rhat = h * [0, c_n, ..., c_1]``:
    ``d rhat_k / d c_i = h_{k-(n+1-i)}`` and ``d rhat_k / d a_m = -v_{k-m}`` where
    ``v = rhat`` filtered by ``1/q_ahat``. Sums are truncated where the geometric tail
    drops below 1e-17 (as :func:`learnlds.risk.idealized_risk`); ``inf`` and NaN gradient
    for an unstable pair.
    """
    for name, m in (("model", model), ("truth", truth)):
        if not isinstance(m, CanonicalSystem) or not m.is_siso:
            raise ValueError(f"{name}: expected a SISO CanonicalSystem")
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
    """Ratios ``<grad g(theta), theta - theta*> / (g(theta) - g*)`` for rows of ``(ahat, chat)``.

    ``g`` is the idealized risk against ``truth`` (``g* = 0`` at ``theta* = (a*, c*)``).
    Returns ``(ratios, g values)``; rows with ``g = 0`` give NaN.
    """
    A = as_real_array(ahat, "ahat", ndim=(1, 2))
    C = as_real_array(chat, "chat", ndim=(1, 2))
    A, C = np.atleast_2d(A), np.atleast_2d(C)
    n = truth.order
    if A.shape[1] != n or C.shape != A.shape:
        raise ValueError(f"ahat, chat: must both have shape (m, {n}), got {A.shape} and {C.shape}")
    ratios = np.empty(A.shape[0])
    gs = np.empty(A.shape[0])
    for i in range(A.shape[0]):  # one risk evaluation per sampled point
        g, grad = idealized_risk_and_grad(CanonicalSystem(A[i], C[i]), truth)
        inner = np.dot(grad.a, A[i] - truth.a) + np.dot(grad.c, C[i] - truth.c)
        gs[i] = g
        ratios[i] = inner / g if g > 0 else np.nan
    return ratios, gs


def estimate_tau(
    target: CanonicalSystem,
    region: PacmanRegion | None = None,
    samples: int = 200,
    rng: Any = None,
    *,
    return_ratios: bool = False,
) -> float | tuple[float, np.ndarray]:
    """Smallest observed weak-quasi-convexity ratio of the idealized risk (SPEC section 4).

    Samples ``ahat`` from ``region`` (default: the post's region) and
    ``chat ~ N(0, I) * rms(c*)``; returns ``min`` of :func:`quasi_convexity_ratios`
    (and the array of ratios when ``return_ratios``). A positive value is evidence
    that ``g`` is ``tau``-weakly-quasi-convex on the sampled set with that ``tau``.
    """
    if not isinstance(target, CanonicalSystem) or not target.is_siso:
        raise ValueError("target: expected a SISO CanonicalSystem")
    samples = int(samples)
    if samples < 1:
        raise ValueError(f"samples: must be >= 1, got {samples}")
    region = PacmanRegion() if region is None else region
    if not isinstance(region, PacmanRegion):
        raise ValueError(f"region: expected a PacmanRegion, got {type(region).__name__}")
    gen = _check_rng(rng)
    n = target.order
    A = region.sample(n, samples, gen)
    scale = float(np.sqrt(np.mean(target.c**2))) or 1.0
    C = gen.normal(size=(samples, n)) * scale
    ratios, _ = quasi_convexity_ratios(target, A, C)
    tau = float(np.nanmin(ratios))
    return (tau, ratios) if return_ratios else tau
