"""Losses, their exact O(T n) gradients, and the population / idealized risks (SPEC section 2).

The burn-in rule lives here: ``burn_in=None`` means ``T // 4`` (the paper),
``0`` gives the post's plain loss. The per-sequence loss is
``1/(T - T1) * sum_{t > T1} (yhat_t - y_t)^2`` and a batch ``(N, T)`` averages it
over sequences.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import signal

from . import _kernels
from .systems import CanonicalSystem, as_real_array, markov_horizon


@dataclass(frozen=True)
class Gradient:
    """Gradient of a loss with respect to the canonical coefficients (shaped like the model's)."""

    a: np.ndarray
    c: np.ndarray
    d: np.ndarray | float

    def norm(self) -> float:
        return float(np.sqrt(np.sum(self.a**2) + np.sum(self.c**2) + np.sum(np.square(self.d))))

    def __mul__(self, k: float) -> Gradient:
        return Gradient(self.a * k, self.c * k, self.d * k)

    __rmul__ = __mul__

    def __add__(self, other: Gradient) -> Gradient:
        return Gradient(self.a + other.a, self.c + other.c, self.d + other.d)

    def flat(self) -> np.ndarray:
        """``(a, c, d)`` stacked into one vector (order used by the solvers)."""
        return np.concatenate((self.a.ravel(), np.ravel(self.c), np.ravel(self.d)))


def resolve_burn_in(burn_in: int | None, T: int) -> int:
    """The burn-in rule: ``None`` means ``T // 4``; validated against ``T``."""
    if burn_in is None:
        return T // 4
    if isinstance(burn_in, bool) or not isinstance(burn_in, int | np.integer):
        raise ValueError(f"burn_in: must be an integer or None, got {burn_in!r}")
    b = int(burn_in)
    if b < 0:
        raise ValueError(f"burn_in: must be >= 0, got {b}")
    if b >= T:
        raise ValueError(
            f"burn_in: {b} leaves no samples in sequences of length {T} (need burn_in < T)"
        )
    return b


def check_pair(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate a SISO input/output pair as 2-D ``(N, T)`` float arrays."""
    xa = as_real_array(x, "x", ndim=(1, 2))
    ya = as_real_array(y, "y", ndim=(1, 2))
    if xa.shape != ya.shape:
        raise ValueError(f"x and y: shapes differ, x {xa.shape} vs y {ya.shape}")
    if xa.shape[-1] == 0 or xa.size == 0:
        raise ValueError("x: the sequences are empty")
    return np.atleast_2d(xa), np.atleast_2d(ya)


def check_mimo_pair(model: CanonicalSystem, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate MIMO data as ``(N, T, m)`` inputs and ``(N, T, p)`` outputs for ``model``."""
    xa = as_real_array(x, "x", ndim=(2, 3))
    ya = as_real_array(y, "y", ndim=(2, 3))
    x3 = xa if xa.ndim == 3 else xa[None]
    y3 = ya if ya.ndim == 3 else ya[None]
    if x3.shape[:2] != y3.shape[:2]:
        raise ValueError(f"x and y: (N, T) differ, x {xa.shape} vs y {ya.shape}")
    if x3.shape[1] == 0:
        raise ValueError("x: the sequences are empty")
    if x3.shape[2] != model.n_inputs or y3.shape[2] != model.n_outputs:
        raise ValueError(
            f"x and y: the model has {model.n_inputs} inputs and {model.n_outputs} outputs, "
            f"the data {x3.shape[2]} and {y3.shape[2]} (last axis)"
        )
    return x3, y3


def lagged(sig: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """``out[:, t, j, :] = sig[:, t - lags[j], :]`` for ``sig`` (N, T, k); zeros before t = 0."""
    N, T, k = sig.shape
    L = int(lags.max())
    pad = np.concatenate((np.zeros((N, L, k)), sig), axis=1)
    return np.stack([pad[:, L - lag : L - lag + T] for lag in lags], axis=2)


def mimo_parts(
    a: np.ndarray, c3: np.ndarray, d3: np.ndarray, x: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Common-denominator prediction: lagged states ``S``, strictly proper part ``z``, ``yhat``.

    ``x``: ``(N, T, m)``; ``c3``: ``(n, p, m)``; ``d3``: ``(p, m)``. ``S[:, t, j, i]`` is
    ``s_i`` at ``t - n + j`` with ``s = x / p_a``, so ``z_o = sum_{j,i} c3[j, o, i] S[..., j, i]``.
    """
    n = a.shape[0]
    s = signal.lfilter([1.0], np.concatenate(([1.0], a)), x, axis=1)
    S = lagged(s, np.arange(n, 0, -1))
    z = np.einsum("ntji,joi->nto", S, c3)
    return S, z, z + np.einsum("nti,oi->nto", x, d3)


def _mimo_loss_and_grad(
    model: CanonicalSystem, x: Any, y: Any, burn_in: int | None, want_grad: bool
) -> tuple[float, Gradient | None]:
    """Loss ``mean_{n, t > T1} ||yhat_t - y_t||^2`` and its gradient for a MIMO model."""
    x3, y3 = check_mimo_pair(model, x, y)
    N, T, _ = x3.shape
    b = resolve_burn_in(burn_in, T)
    a, n = model.a, model.order
    S, z, yhat = mimo_parts(a, model.c, model.d, x3)
    r = (yhat - y3)[:, b:]
    count = N * (T - b)
    value = float(np.sum(r * r) / count)
    if not want_grad:
        return value, None
    w = signal.lfilter([1.0], np.concatenate(([1.0], a)), z, axis=1)
    W = lagged(w, np.arange(1, n + 1))[:, b:]  # W[:, t, k, o] = w_o at t - k - 1
    scale = 2.0 / count
    ga = -scale * np.einsum("ntko,nto->k", W, r)
    gc = scale * np.einsum("ntji,nto->joi", S[:, b:], r)
    gd = scale * np.einsum("nti,nto->oi", x3[:, b:], r)
    return value, Gradient(ga, gc, gd)


def _require_siso(model: CanonicalSystem) -> None:
    if not isinstance(model, CanonicalSystem):
        raise ValueError(f"model: expected a CanonicalSystem, got {type(model).__name__}")
    if not model.is_siso:
        raise ValueError("model: the loss gradient is implemented for SISO models")


# --------------------------------------------------------------------------- reference path
def _loss_and_grad_scipy(
    model: CanonicalSystem, x: np.ndarray, y: np.ndarray, b: int, want_grad: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Filter/correlation version (raw sums per sequence), the reference for the kernel."""
    a, c, d = model.a, model.c, float(model.d)
    n = a.shape[0]
    N, T = x.shape
    den = np.concatenate(([1.0], a))
    s = signal.lfilter([1.0], den, x, axis=-1)
    spad = np.concatenate((np.zeros((N, n)), s), axis=1)  # spad[:, t + n] = s_t
    z = np.zeros_like(x)
    for j in range(n):  # z_t = sum_j c_{j+1} s_{t-n+j}  (a loop over lags, not time steps)
        z += c[j] * spad[:, j : j + T]
    res = z + d * x - y
    r = res[:, b:]
    loss = np.sum(r * r, axis=1)
    if not want_grad:
        return loss, np.empty((N, n)), np.empty((N, n)), np.empty(N)
    w = signal.lfilter([1.0], den, z, axis=-1)
    wpad = np.concatenate((np.zeros((N, n)), w), axis=1)  # wpad[:, t + n] = w_t
    ga = np.stack([np.sum(r * wpad[:, n - k - 1 + b : n - k - 1 + T], axis=1) for k in range(n)], 1)
    gc = np.stack([np.sum(r * spad[:, j + b : j + T], axis=1) for j in range(n)], 1)
    gd = np.sum(r * x[:, b:], axis=1)
    return loss, ga, gc, gd


def _raw(model, x, y, burn_in, want_grad, engine):
    _require_siso(model)
    x2, y2 = check_pair(x, y)
    N, T = x2.shape
    b = resolve_burn_in(burn_in, T)
    use_kernel = engine == "numba" or (engine == "auto" and _kernels.HAVE_NUMBA)
    if engine not in ("auto", "numba", "scipy"):
        raise ValueError(f"engine: must be 'auto', 'numba' or 'scipy', got {engine!r}")
    if use_kernel:
        if not _kernels.HAVE_NUMBA:
            raise ValueError("engine: numba is not available")
        n = model.order
        loss = np.empty(N)
        ga = np.empty((N, n))
        gc = np.empty((N, n))
        gd = np.empty(N)
        _kernels.fused_siso(
            model.a,
            model.c,
            float(model.d),
            np.ascontiguousarray(x2),
            np.ascontiguousarray(y2),
            b,
            want_grad,
            loss,
            ga,
            gc,
            gd,
        )
    else:
        loss, ga, gc, gd = _loss_and_grad_scipy(model, x2, y2, b, want_grad)
    return loss, ga, gc, gd, N * (T - b)


def loss(
    model: CanonicalSystem,
    x: Any,
    y: Any,
    burn_in: int | None = None,
    *,
    engine: Literal["auto", "numba", "scipy"] = "auto",
) -> float:
    """Mean squared prediction error after the burn-in, averaged over sequences.

    MIMO models take ``x`` of shape ``(T, m)`` or ``(N, T, m)`` and ``y`` of shape
    ``(..., T, p)``; the error at each time is the squared norm over the outputs.
    """
    if isinstance(model, CanonicalSystem) and not model.is_siso:
        return _mimo_loss_and_grad(model, x, y, burn_in, False)[0]
    raw, _, _, _, count = _raw(model, x, y, burn_in, False, engine)
    return float(np.sum(raw) / count)


def loss_and_grad(
    model: CanonicalSystem,
    x: Any,
    y: Any,
    burn_in: int | None = None,
    *,
    engine: Literal["auto", "numba", "scipy"] = "auto",
) -> tuple[float, Gradient]:
    """Loss and its exact gradient in ``(a, c, d)``, in O(T n) per sequence.

    ``x``, ``y``: ``(T,)`` or ``(N, T)``. ``engine`` picks the fused numba kernel or the
    scipy filter/correlation reference (``auto``: numba when installed). MIMO models
    (see :func:`loss`) use the filter/correlation path with a common denominator.
    """
    if isinstance(model, CanonicalSystem) and not model.is_siso:
        return _mimo_loss_and_grad(model, x, y, burn_in, True)  # type: ignore[return-value]
    raw, ga, gc, gd, count = _raw(model, x, y, burn_in, True, engine)
    scale = 2.0 / count
    grad = Gradient(-scale * ga.sum(axis=0), scale * gc.sum(axis=0), scale * float(gd.sum()))
    return float(np.sum(raw) / count), grad


# --------------------------------------------------------------------------- risks
def markov_tail_length(models: tuple[CanonicalSystem, ...], tol: float = 1e-17) -> int:
    """Markov lags after which the geometric tail of every model is below ``tol`` (-1: unstable)."""
    rho = max(m.spectral_radius() for m in models)
    return markov_horizon(rho, max(m.order for m in models), tol)


def population_risk(
    model: CanonicalSystem,
    truth: CanonicalSystem,
    T: int,
    burn_in: int | None = 0,
    noise_std: float = 0.0,
) -> float:
    """Expected loss for i.i.d. zero-mean unit-variance inputs, in closed form.

    ``E (yhat_t - y_t)^2 = (dhat - d)^2 + sum_{k=1}^{t-1} (rhat_k - r_k)^2 + sigma^2``
    averaged over ``t`` in ``(T1, T]``.
    """
    _require_siso(model)
    _require_siso(truth)
    T = int(T)
    if T < 1:
        raise ValueError(f"T: must be >= 1, got {T}")
    b = resolve_burn_in(burn_in, T)
    if noise_std < 0 or not np.isfinite(noise_std):
        raise ValueError(f"noise_std: must be a finite number >= 0, got {noise_std}")
    diff = model.markov(T) - truth.markov(T)
    e = diff[1:] ** 2  # k = 1..T-1
    cum = np.concatenate(([0.0], np.cumsum(e)))  # cum[t-1] = sum_{k=1}^{t-1} e_k
    per_t = cum[b:T]  # t = b+1 .. T
    return float(diff[0] ** 2 + np.mean(per_t) + noise_std**2)


def idealized_risk(
    model: CanonicalSystem,
    truth: CanonicalSystem,
    method: Literal["time", "frequency"] = "time",
) -> float:
    """``g = sum_{k>=1} (rhat_k - r_k)^2``, by Markov parameters or by Parseval.

    ``time`` sums Markov differences until the geometric tail is below 1e-17;
    ``frequency`` integrates ``|Ghat - G|^2`` (strictly proper parts) over the circle
    with the trapezoid rule, exact up to aliasing of order ``rho^M``.
    Returns ``inf`` when either system is unstable.
    """
    _require_siso(model)
    _require_siso(truth)
    K = markov_tail_length((model, truth))
    if K < 0:
        return float("inf")
    if method == "time":
        diff = model.markov(K) - truth.markov(K)
        return float(np.sum(diff[1:] ** 2))
    if method == "frequency":
        M = int(2 ** np.ceil(np.log2(max(4096, 2 * K))))
        w = 2 * np.pi * np.arange(M) / M
        g = model.frequency_response(w) - float(model.d)
        g0 = truth.frequency_response(w) - float(truth.d)
        return float(np.mean(np.abs(g - g0) ** 2))  # = 1/(2 pi) * integral
    raise ValueError(f"method: must be 'time' or 'frequency', got {method!r}")
