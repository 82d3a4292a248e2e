"""Losses, their exact O(T n) gradients, and the population / idealized risks (SPEC section 2).

The burn-in rule is :func:`learnlds._boundary.resolve_burn_in` (also importable
from here): ``burn_in=None`` means ``T // 4`` (the paper), ``0`` gives the
post's plain loss. The per-sequence loss is
``1/(T - T1) * sum_{t > T1} ||yhat_t - y_t||^2`` and a batch of sequences
averages it over sequences.

Data follow the layout rule of :meth:`learnlds.CanonicalSystem.simulate`: for a
SISO model ``(T,)`` is one record and a 2-D ``(N, T)`` array with ``T > 1``
columns is ``N`` sequences (the issue-2 contract) unless ``sequences`` says
otherwise; a MIMO model takes ``(T, m)`` records or ``(N, T, m)`` sequences.

Examples
--------
>>> from learnlds import CanonicalSystem
>>> truth = CanonicalSystem([-0.5], [1.0])
>>> u = np.random.default_rng(0).normal(size=200)
>>> loss(truth, u, truth.simulate(u))
0.0
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import signal

from . import _kernels
from ._boundary import (
    IOArrays,
    as_float_array,
    as_io,
    check_choice,
    check_float,
    check_int,
    renamed_parameters,
)
from ._boundary import resolve_burn_in as resolve_burn_in
from .errors import DataError, ParameterError, UnstableSystemWarning, UnsupportedShapeError
from .systems import CanonicalSystem, _sequences_flag, markov_horizon

__all__ = [
    "Gradient",
    "idealized_risk",
    "lagged",
    "loss",
    "loss_and_grad",
    "markov_tail_length",
    "mimo_parts",
    "population_risk",
]

ENGINES = ("auto", "numba", "scipy")


@dataclass(frozen=True)
class Gradient:
    """Gradient of a loss with respect to the canonical coefficients (shaped like the model's).

    Parameters
    ----------
    a : numpy.ndarray
        Derivative with respect to ``a``, shape ``(order,)``.
    c : numpy.ndarray
        Derivative with respect to ``c`` (the model's ``c`` shape).
    d : numpy.ndarray or float
        Derivative with respect to ``d`` (the model's ``d`` shape).

    Examples
    --------
    >>> g = Gradient(np.array([3.0]), np.array([4.0]), 0.0)
    >>> g.norm(), (2 * g).flat()
    (5.0, array([6., 8., 0.]))
    """

    a: np.ndarray
    c: np.ndarray
    d: np.ndarray | float

    def norm(self) -> float:
        """Euclidean norm of all components together.

        Returns
        -------
        float
            ``sqrt(|a|^2 + |c|^2 + |d|^2)``.

        Examples
        --------
        >>> Gradient(np.array([3.0]), np.array([0.0]), 4.0).norm()
        5.0
        """
        return float(np.sqrt(np.sum(self.a**2) + np.sum(self.c**2) + np.sum(np.square(self.d))))

    def __mul__(self, k: float) -> Gradient:
        return Gradient(self.a * k, self.c * k, self.d * k)

    __rmul__ = __mul__

    def __add__(self, other: Gradient) -> Gradient:
        return Gradient(self.a + other.a, self.c + other.c, self.d + other.d)

    def flat(self) -> np.ndarray:
        """``(a, c, d)`` stacked into one vector (the order used by the solvers).

        Returns
        -------
        numpy.ndarray
            The concatenated components.

        Examples
        --------
        >>> Gradient(np.array([1.0]), np.array([2.0]), 3.0).flat()
        array([1., 2., 3.])
        """
        return np.concatenate((self.a.ravel(), np.ravel(self.c), np.ravel(self.d)))


# --------------------------------------------------------------------------- data in
def _check_model(model: Any, name: str = "model") -> CanonicalSystem:
    if not isinstance(model, CanonicalSystem):
        raise ParameterError(f"{name}: expected a CanonicalSystem, got {type(model).__name__}")
    return model


def _require_siso(model: Any, name: str = "model", *, stable: bool = False) -> CanonicalSystem:
    """``model`` if it is a SISO CanonicalSystem (and, with ``stable``, a stable one:
    the idealized risk of an unstable system is infinite, every ratio built on it NaN)."""
    _check_model(model, name)
    if not model.is_siso:
        raise UnsupportedShapeError(
            f"{name}: single-input single-output systems only, got {model.n_inputs} inputs "
            f"and {model.n_outputs} outputs"
        )
    if stable and not model.is_stable():
        raise DataError(
            f"{name}: is unstable (spectral radius {model.spectral_radius():.4g}); its "
            "idealized risk is infinite, so no quasi-convexity ratio is defined"
        )
    return model


def _model_data(model: Any, u: Any, y: Any, sequences: bool | None) -> IOArrays:
    """Validate ``(u, y)`` for ``model`` once, by the simulate layout rule."""
    _check_model(model)
    seq = _sequences_flag(u, model.is_siso, sequences)
    return as_io(
        u, y, sequences=seq, n_inputs=model.n_inputs, n_outputs=model.n_outputs, require_y=True
    )


# --------------------------------------------------------------------------- MIMO
def _lagged(sig: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """:func:`lagged` on canonical arrays, unchecked (the solvers' inner loops)."""
    N, T, k = sig.shape
    L = int(lags.max())
    pad = np.concatenate((np.zeros((N, L, k)), sig), axis=1)
    return np.stack([pad[:, L - lag : L - lag + T] for lag in lags], axis=2)


def _mimo_parts(
    a: np.ndarray, c3: np.ndarray, d3: np.ndarray, u: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`mimo_parts` on arrays of matching shapes, unchecked (the solvers' inner loops)."""
    n = a.shape[0]
    s = signal.lfilter([1.0], np.concatenate(([1.0], a)), u, axis=1)
    S = _lagged(s, np.arange(n, 0, -1))
    z = np.einsum("ntji,joi->nto", S, c3)
    return S, z, z + np.einsum("nti,oi->nto", u, d3)


def _canonical3(value: Any, name: str) -> np.ndarray:
    """Finite ``(N, T, k)`` floats with samples, or a DataError naming ``name``."""
    arr = as_float_array(value, name)
    if arr.ndim != 3 or 0 in arr.shape:
        raise DataError(
            f"{name}: must be canonical (N, T, k) data with samples (sequences, time, "
            f"channels), got shape {arr.shape}"
        )
    return arr


def lagged(sig: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """Stack lagged copies: ``out[:, t, j, :] = sig[:, t - lags[j], :]``, zeros before ``t = 0``.

    Parameters
    ----------
    sig : numpy.ndarray, shape (N, T, k)
        Canonical signals.
    lags : numpy.ndarray of int
        Non-negative lags (at least one).

    Returns
    -------
    numpy.ndarray, shape (N, T, len(lags), k)
        The lagged signals.

    Raises
    ------
    DataError
        ``sig`` not canonical ``(N, T, k)`` finite numbers.
    ParameterError
        ``lags`` empty, not integers, or negative.

    Examples
    --------
    >>> lagged(np.arange(1.0, 4.0).reshape(1, 3, 1), np.array([0, 1]))[0, :, :, 0]
    array([[1., 0.],
           [2., 1.],
           [3., 2.]])
    """
    arr = _canonical3(sig, "sig")
    lag = np.asarray(lags)
    if lag.ndim != 1 or lag.size == 0 or lag.dtype.kind not in "iu" or np.any(lag < 0):
        raise ParameterError(f"lags: must be a 1-D array of non-negative integers, got {lags!r}")
    return _lagged(arr, lag)


def mimo_parts(
    a: np.ndarray, c3: np.ndarray, d3: np.ndarray, u: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Common-denominator prediction: lagged states ``S``, strictly proper part ``z``, ``yhat``.

    ``S[:, t, j, i]`` is ``s_i`` at ``t - n + j`` with ``s = u / p_a``, so
    ``z_o = sum_{j,i} c3[j, o, i] S[..., j, i]`` and ``yhat = z + d3 u``.

    Parameters
    ----------
    a : numpy.ndarray, shape (order,)
        Denominator coefficients.
    c3 : numpy.ndarray, shape (order, p, m)
        Numerator matrices.
    d3 : numpy.ndarray, shape (p, m)
        Feed-through.
    u : numpy.ndarray, shape (N, T, m)
        Canonical inputs.

    Returns
    -------
    S : numpy.ndarray, shape (N, T, order, m)
        Lagged all-pole states.
    z : numpy.ndarray, shape (N, T, p)
        Strictly proper part of the prediction.
    yhat : numpy.ndarray, shape (N, T, p)
        The prediction.

    Raises
    ------
    DataError
        Non-finite or non-numeric values; ``u`` not canonical ``(N, T, m)``.
    ParameterError
        ``a``, ``c3``, ``d3`` and ``u`` of shapes that do not fit together.

    Examples
    --------
    >>> S, z, yhat = mimo_parts(np.array([-0.5]), np.ones((1, 1, 1)), np.zeros((1, 1)),
    ...                         np.array([1.0, 0.0, 0.0]).reshape(1, 3, 1))
    >>> yhat[0, :, 0]
    array([0. , 1. , 0.5])
    """
    a1 = as_float_array(a, "a", ndim=(1,))
    c = as_float_array(c3, "c3", ndim=(3,))
    d = as_float_array(d3, "d3", ndim=(2,))
    u3 = _canonical3(u, "u")
    n, m = a1.shape[0], u3.shape[2]
    if n == 0 or c.shape[0] != n or c.shape[2] != m or d.shape != c.shape[1:]:
        raise ParameterError(
            f"a, c3, d3, u: shapes must be (order,), (order, p, m), (p, m) and (N, T, m); got "
            f"{a1.shape}, {c.shape}, {d.shape} and {u3.shape}"
        )
    return _mimo_parts(a1, c, d, u3)


def _mimo_loss_and_grad(
    model: CanonicalSystem, u3: np.ndarray, y3: np.ndarray, b: int, want_grad: bool
) -> tuple[float, Gradient | None]:
    """Loss ``mean_{n, t > T1} ||yhat_t - y_t||^2`` and its gradient for a MIMO model."""
    N, T, _ = u3.shape
    a, n = model.a, model.order
    S, z, yhat = _mimo_parts(a, model.c, model.d, u3)
    r = (yhat - y3)[:, b:]
    count = N * (T - b)
    value = float(np.sum(r * r) / count)
    if not want_grad:
        return value, None
    w = signal.lfilter([1.0], np.concatenate(([1.0], a)), z, axis=1)
    W = _lagged(w, np.arange(1, n + 1))[:, b:]  # W[:, t, k, o] = w_o at t - k - 1
    scale = 2.0 / count
    ga = -scale * np.einsum("ntko,nto->k", W, r)
    gc = scale * np.einsum("ntji,nto->joi", S[:, b:], r)
    gd = scale * np.einsum("nti,nto->oi", u3[:, b:], r)
    return value, Gradient(ga, gc, gd)


# --------------------------------------------------------------------------- SISO
def _loss_and_grad_scipy(
    model: CanonicalSystem, u: np.ndarray, y: np.ndarray, b: int, want_grad: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Filter/correlation version (raw sums per sequence), the reference for the kernel."""
    a, c, d = model.a, model.c, float(model.d)
    n = a.shape[0]
    N, T = u.shape
    den = np.concatenate(([1.0], a))
    s = signal.lfilter([1.0], den, u, axis=-1)
    spad = np.concatenate((np.zeros((N, n)), s), axis=1)  # spad[:, t + n] = s_t
    z = np.zeros_like(u)
    for j in range(n):  # z_t = sum_j c_{j+1} s_{t-n+j}  (a loop over lags, not time steps)
        z += c[j] * spad[:, j : j + T]
    res = z + d * u - y
    r = res[:, b:]
    loss_ = np.sum(r * r, axis=1)
    if not want_grad:
        return loss_, np.empty((N, n)), np.empty((N, n)), np.empty(N)
    w = signal.lfilter([1.0], den, z, axis=-1)
    wpad = np.concatenate((np.zeros((N, n)), w), axis=1)  # wpad[:, t + n] = w_t
    ga = np.stack([np.sum(r * wpad[:, n - k - 1 + b : n - k - 1 + T], axis=1) for k in range(n)], 1)
    gc = np.stack([np.sum(r * spad[:, j + b : j + T], axis=1) for j in range(n)], 1)
    gd = np.sum(r * u[:, b:], axis=1)
    return loss_, ga, gc, gd


def _raw_siso(
    model: CanonicalSystem, u2: np.ndarray, y2: np.ndarray, b: int, want_grad: bool, engine: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Raw per-sequence sums for canonical ``(N, T)`` data, by the chosen engine."""
    use_kernel = engine == "numba" or (engine == "auto" and _kernels.HAVE_NUMBA)
    if not use_kernel:
        return _loss_and_grad_scipy(model, u2, y2, b, want_grad)
    if not _kernels.HAVE_NUMBA:
        raise ParameterError("engine: 'numba' was asked for but numba is not available")
    N, n = u2.shape[0], model.order
    loss_, ga, gc, gd = np.empty(N), np.empty((N, n)), np.empty((N, n)), np.empty(N)
    _kernels.fused_siso(
        model.a,
        model.c,
        float(model.d),
        np.ascontiguousarray(u2),
        np.ascontiguousarray(y2),
        b,
        want_grad,
        loss_,
        ga,
        gc,
        gd,
    )
    return loss_, ga, gc, gd


def _loss_and_grad3(
    model: CanonicalSystem,
    u3: np.ndarray,
    y3: np.ndarray,
    b: int,
    want_grad: bool,
    engine: str = "auto",
) -> tuple[float, Gradient | None]:
    """Mean loss (and gradient) for canonical ``(N, T, m)``/``(N, T, p)`` data, no validation.

    For internals (solvers, Dask workers) that validated their data once: ``b`` is an
    already resolved burn-in and ``engine`` one of :data:`ENGINES`.
    """
    N, T = u3.shape[0], u3.shape[1]
    if not model.is_siso:
        return _mimo_loss_and_grad(model, u3, y3, b, want_grad)
    raw, ga, gc, gd = _raw_siso(model, u3[..., 0], y3[..., 0], b, want_grad, engine)
    count = N * (T - b)
    value = float(np.sum(raw) / count)
    if not want_grad:
        return value, None
    scale = 2.0 / count
    return value, Gradient(-scale * ga.sum(axis=0), scale * gc.sum(axis=0), scale * float(gd.sum()))


def _evaluate(
    model: Any, u: Any, y: Any, burn_in: Any, sequences: Any, engine: Any, want_grad: bool
) -> tuple[float, Gradient | None]:
    """The public front door of :func:`loss` and :func:`loss_and_grad`: validate once."""
    engine = check_choice(engine, "engine", ENGINES)
    io = _model_data(model, u, y, sequences)
    b = resolve_burn_in(burn_in, io.length)
    with np.errstate(over="ignore", invalid="ignore"):  # reported once, below
        value, grad = _loss_and_grad3(model, io.u, io.y, b, want_grad, engine)  # type: ignore[arg-type]
    if np.isfinite(value):
        return value, grad
    return _overflowed(model, grad)


def _overflowed(model: CanonicalSystem, grad: Gradient | None) -> tuple[float, Gradient | None]:
    """The loss beyond float64 (``inf`` or ``inf - inf = NaN`` in the sums) as ``inf``,
    with NaN gradient entries, never silently: an :class:`UnstableSystemWarning` when
    the model is unstable (its simulation grows without bound), else a RuntimeWarning
    asking for rescaled data."""
    rho, tail = model.spectral_radius(), "" if grad is None else " and its gradient NaN"
    if rho >= 1.0:
        message = (
            f"loss: the model is unstable (spectral radius {rho:.4g}) and its simulation "
            "overflows float64; the loss is inf" + tail
        )
        warnings.warn(message, UnstableSystemWarning, stacklevel=5)
    else:
        message = (
            "loss: the squared errors overflow float64 (data of huge magnitude); the loss is "
            "inf" + tail + "; rescale u and y"
        )
        warnings.warn(message, RuntimeWarning, stacklevel=5)
    if grad is not None:
        grad = Gradient(np.full_like(grad.a, np.nan), np.full_like(grad.c, np.nan), grad.d * np.nan)
    return float("inf"), grad


@renamed_parameters(x="u")
def loss(
    model: CanonicalSystem,
    u: Any,
    y: Any,
    burn_in: int | None = None,
    *,
    sequences: bool | None = None,
    engine: Literal["auto", "numba", "scipy"] = "auto",
) -> float:
    """Mean squared prediction error (from zero state) after the burn-in, averaged over sequences.

    Parameters
    ----------
    model : CanonicalSystem
        The model whose predictions are scored.
    u, y : array_like
        Inputs and outputs. SISO: ``(T,)`` records or ``(N, T)`` sequences; MIMO:
        ``(T, m)`` / ``(T, p)`` records or ``(N, T, m)`` / ``(N, T, p)`` sequences.
        The error at each time is the squared norm over the outputs.
    burn_in : int, optional
        Samples at the start of every sequence left out; ``None`` means ``T // 4``.
    sequences : bool, optional
        Force the reading of the leading axis (see :meth:`CanonicalSystem.simulate`).
    engine : {"auto", "numba", "scipy"}, default "auto"
        SISO only: the fused numba kernel or the scipy reference (``auto``: numba
        when installed).

    Returns
    -------
    float
        The loss; ``inf`` (never NaN) when it overflows float64.

    Warns
    -----
    UnstableSystemWarning
        The model is unstable and its simulation overflows: the loss is ``inf``.
    RuntimeWarning
        A stable model's squared errors overflow (data of huge magnitude): ``inf``.
    LayoutWarning
        ``sequences`` not given and a SISO model's ``u`` has more rows than columns:
        read as sequences, though it looks like a record with too many input columns.

    Examples
    --------
    >>> from learnlds import CanonicalSystem
    >>> model = CanonicalSystem([-0.5], [1.0])
    >>> loss(model, [1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.5, 0.0], burn_in=0)
    0.015625
    """
    return _evaluate(model, u, y, burn_in, sequences, engine, False)[0]


@renamed_parameters(x="u")
def loss_and_grad(
    model: CanonicalSystem,
    u: Any,
    y: Any,
    burn_in: int | None = None,
    *,
    sequences: bool | None = None,
    engine: Literal["auto", "numba", "scipy"] = "auto",
) -> tuple[float, Gradient]:
    """The loss of :func:`loss` and its exact gradient in ``(a, c, d)``, in O(T n) per sequence.

    SISO models use the fused numba kernel or the scipy filter/correlation reference;
    MIMO models the filter/correlation path with a common denominator.

    Parameters
    ----------
    model : CanonicalSystem
        The model.
    u, y : array_like
        Inputs and outputs, laid out as for :func:`loss`.
    burn_in : int, optional
        Samples at the start of every sequence left out; ``None`` means ``T // 4``.
    sequences : bool, optional
        Force the reading of the leading axis (see :meth:`CanonicalSystem.simulate`).
    engine : {"auto", "numba", "scipy"}, default "auto"
        SISO engine.

    Returns
    -------
    value : float
        The loss; ``inf`` (never NaN) when it overflows float64.
    grad : Gradient
        Its gradient, shaped like the model's coefficients; all NaN when the loss is
        ``inf`` (no meaningful descent direction: step back instead).

    Warns
    -----
    UnstableSystemWarning
        The model is unstable and its simulation overflows: the loss is ``inf``.
    RuntimeWarning
        A stable model's squared errors overflow (data of huge magnitude): ``inf``.
    LayoutWarning
        ``sequences`` not given and a SISO model's ``u`` has more rows than columns:
        read as sequences, though it looks like a record with too many input columns.

    Examples
    --------
    >>> from learnlds import CanonicalSystem
    >>> truth = CanonicalSystem([-0.5], [1.0])
    >>> u = np.random.default_rng(0).normal(size=100)
    >>> value, grad = loss_and_grad(truth, u, truth.simulate(u))
    >>> value, grad.norm()
    (0.0, 0.0)
    """
    return _evaluate(model, u, y, burn_in, sequences, engine, True)  # type: ignore[return-value]


# --------------------------------------------------------------------------- risks
def markov_tail_length(models: tuple[CanonicalSystem, ...], tol: float = 1e-17) -> int:
    """Markov lags after which the geometric tail of every model is below ``tol``.

    Parameters
    ----------
    models : tuple of CanonicalSystem
        The systems.
    tol : float, default 1e-17
        Size of the neglected tail.

    Returns
    -------
    int
        The horizon, ``-1`` when any model is unstable.

    Raises
    ------
    ParameterError
        ``tol`` not in ``(0, 1)``, or ``models`` not systems.

    Examples
    --------
    >>> from learnlds import CanonicalSystem
    >>> markov_tail_length((CanonicalSystem([-0.5], [1.0]),))
    285
    """
    if isinstance(models, str | bytes) or not hasattr(models, "__iter__"):
        raise ParameterError(f"models: must be a tuple of systems, got {type(models).__name__}")
    models = tuple(models)
    if not models or not all(hasattr(m, "spectral_radius") for m in models):
        raise ParameterError("models: need one or more systems (with spectral_radius and order)")
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

    Parameters
    ----------
    model, truth : CanonicalSystem
        SISO model and true system.
    T : int
        Sequence length (``>= 1``).
    burn_in : int, optional, default 0
        ``T1``; ``None`` means ``T // 4`` (the default 0 scores every sample).
    noise_std : float, default 0.0
        Standard deviation ``sigma`` of the output noise.

    Returns
    -------
    float
        The risk.

    Raises
    ------
    ParameterError
        ``T < 1`` or ``noise_std < 0``.

    Examples
    --------
    >>> from learnlds import CanonicalSystem
    >>> truth = CanonicalSystem([0.0], [1.0], 0.5)
    >>> population_risk(CanonicalSystem([0.0], [0.0]), truth, 4, noise_std=0.1)
    1.01
    """
    _require_siso(model, "model")
    _require_siso(truth, "truth")
    T = check_int(T, "T", low=1)
    b = resolve_burn_in(burn_in, T)
    noise_std = check_float(noise_std, "noise_std", low=0.0)
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

    Parameters
    ----------
    model, truth : CanonicalSystem
        SISO model and true system.
    method : {"time", "frequency"}, default "time"
        How to evaluate the sum.

    Returns
    -------
    float
        The risk; ``inf`` when either system is unstable.

    Examples
    --------
    >>> from learnlds import CanonicalSystem
    >>> idealized_risk(CanonicalSystem([0.0], [0.0]), CanonicalSystem([0.0], [1.0]))
    1.0
    """
    _require_siso(model, "model")
    _require_siso(truth, "truth")
    method = check_choice(method, "method", ("time", "frequency"))
    K = markov_tail_length((model, truth))
    if K < 0:
        return float("inf")
    if method == "time":
        diff = model.markov(K) - truth.markov(K)
        return float(np.sum(diff[1:] ** 2))
    M = int(2 ** np.ceil(np.log2(max(4096, 2 * K))))
    w = 2 * np.pi * np.arange(M) / M
    g = model.frequency_response(w) - float(model.d)
    g0 = truth.frequency_response(w) - float(truth.d)
    return float(np.mean(np.abs(g - g0) ** 2))  # = 1/(2 pi) * integral
