"""Learning: projected SGD (Algorithms 1 and 2 of the paper) and a fast full-data solver.

``train`` knows nothing of where data comes from: :func:`projected_sgd` takes a
*batch source*, a callable ``source(rng) -> (x, y)`` returning arrays of shape
``(B, T)``. :func:`sequence_batches`, :func:`window_batches` and
:func:`fresh_batches` build such sources from stored sequences, from one long
record, or from a generator of fresh samples (the population setting).

The fast solver :func:`gauss_newton` minimises the same burn-in loss on all the
data with projected Levenberg-Marquardt steps built from the exact O(T n) filter
Jacobian, in the same region.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from scipy import linalg, signal

from .risk import check_pair, lagged, loss, loss_and_grad, mimo_parts, resolve_burn_in
from .systems import CanonicalSystem, as_real_array

if TYPE_CHECKING:
    from .region import PacmanRegion

BatchSource = Callable[[np.random.Generator], tuple[np.ndarray, np.ndarray]]
LearningRate = float | Callable[[int], float]


class DivergenceWarning(RuntimeWarning):
    """Training stopped because the loss became non-finite or exploded."""


class TrainingDiverged(ValueError):
    """Raised instead of a warning when the caller asked for ``on_divergence='raise'``."""


@dataclass
class TrainResult:
    """Outcome of a training run.

    ``model`` is the last finite iterate, ``best_model`` the one with the lowest
    observed loss; ``loss_history[k]`` is the (minibatch) loss at step ``k`` before
    the update, ``snapshots`` holds ``(step, model)`` pairs every ``snapshot_every``
    steps (step 0 is the initial model).
    """

    model: CanonicalSystem
    best_model: CanonicalSystem
    best_loss: float
    loss_history: np.ndarray
    snapshots: list[tuple[int, CanonicalSystem]] = field(default_factory=list)
    stop_reason: str = "max_steps"
    n_steps: int = 0
    diverged: bool = False
    elapsed: float = 0.0
    projections: int = 0

    def __repr__(self) -> str:
        return (
            f"TrainResult(n_steps={self.n_steps}, stop_reason={self.stop_reason!r}, "
            f"best_loss={self.best_loss:.6g}, model={self.model!r})"
        )


# --------------------------------------------------------------------------- batch sources
def sequence_batches(x: Any, y: Any, batch_size: int | None = None) -> BatchSource:
    """Minibatches of whole sequences drawn without replacement from stored data.

    SISO data are ``(N, T)`` (or one ``(T,)`` sequence); several inputs/outputs are
    ``(N, T, m)`` and ``(N, T, p)``. ``batch_size=None`` uses all sequences every step
    (full-batch gradient descent).
    """
    if np.ndim(x) == 3 or np.ndim(y) == 3:
        x2 = as_real_array(x, "x", ndim=(3,))
        y2 = as_real_array(y, "y", ndim=(3,))
        if x2.shape[:2] != y2.shape[:2] or x2.shape[1] == 0:
            raise ValueError(f"x and y: need matching non-empty (N, T), got {x2.shape}, {y2.shape}")
    else:
        x2, y2 = check_pair(x, y)
    N = x2.shape[0]
    if batch_size is None or batch_size >= N:
        return lambda rng: (x2, y2)
    bs = _positive_int(batch_size, "batch_size")

    def draw(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        idx = rng.choice(N, size=bs, replace=False)
        return x2[idx], y2[idx]

    return draw


def window_batches(x: Any, y: Any, window: int, batch_size: int = 1) -> BatchSource:
    """Algorithm 2: random windows of length ``window`` from one long record.

    Each window is treated as a sequence whose unknown initial state is absorbed by the
    burn-in, so use a burn-in of a good fraction of the window.
    """
    xa, ya = check_pair(x, y)
    if xa.shape[0] != 1:
        raise ValueError("x: window_batches takes one long sequence (1-D)")
    xa, ya = xa[0], ya[0]
    T = xa.shape[0]
    w = _positive_int(window, "window")
    if w > T:
        raise ValueError(f"window: {w} is longer than the record ({T} samples)")
    bs = _positive_int(batch_size, "batch_size")
    starts = np.arange(0, T - w + 1)
    view_x = np.lib.stride_tricks.sliding_window_view(xa, w)
    view_y = np.lib.stride_tricks.sliding_window_view(ya, w)

    def draw(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        idx = rng.choice(starts, size=bs, replace=bs > starts.size)
        return view_x[idx], view_y[idx]

    return draw


def tile_windows(x: Any, y: Any, window: int, burn_in: int) -> tuple[np.ndarray, np.ndarray]:
    """Cut one long SISO record into windows overlapping by ``burn_in`` samples.

    Window ``k`` starts at ``k (window - burn_in)``; as each window's loss skips its first
    ``burn_in`` samples (the unknown initial state), every sample after the first
    ``burn_in`` is scored exactly once. A tail shorter than a window is dropped. Returns
    views of shape ``(N, window)``: Algorithm 2 with deterministic tiling, and the way
    :mod:`learnlds.distributed` spreads one record over workers.
    """
    xa, ya = check_pair(x, y)
    if xa.shape[0] != 1:
        raise ValueError("x: tile_windows takes one long sequence (1-D)")
    w = _positive_int(window, "window")
    b = resolve_burn_in(burn_in, w)
    T = xa.shape[1]
    if w > T:
        raise ValueError(f"window: {w} is longer than the record ({T} samples)")
    step = w - b
    vx = np.lib.stride_tricks.sliding_window_view(xa[0], w)[::step]
    vy = np.lib.stride_tricks.sliding_window_view(ya[0], w)[::step]
    return vx, vy


def fresh_batches(
    truth: CanonicalSystem,
    T: int,
    batch_size: int = 1,
    noise_std: float = 0.0,
    input_dist: Callable[[np.random.Generator, tuple[int, int]], np.ndarray] | None = None,
) -> BatchSource:
    """Algorithm 1's population setting: fresh i.i.d. N(0, 1) inputs through ``truth`` each step."""
    T = _positive_int(T, "T")
    bs = _positive_int(batch_size, "batch_size")

    def draw(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        xb = rng.normal(size=(bs, T)) if input_dist is None else input_dist(rng, (bs, T))
        return xb, truth.simulate(xb, noise_std=noise_std, rng=rng)

    return draw


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name}: must be a positive integer, got {value!r}")
    return int(value)


# --------------------------------------------------------------------------- init / region
def initial_model(
    init: Any, order: int | None, n_inputs: int | None = None, n_outputs: int | None = None
) -> CanonicalSystem:
    """``'zero'`` (paper: a = c = d = 0), ``'identity'`` (post: d = 1) or a given system.

    With ``n_inputs``/``n_outputs`` other than 1 the zero model is MIMO (``c`` of shape
    ``(n, p, m)``); ``'identity'`` then sets ``D`` to the identity where it is square.
    """
    if isinstance(init, CanonicalSystem):
        if order is not None and init.order != order:
            raise ValueError(f"init: given system has order {init.order}, not order={order}")
        if n_inputs is not None and (init.n_inputs, init.n_outputs) != (n_inputs, n_outputs):
            raise ValueError(
                f"init: given system has {init.n_inputs} inputs and {init.n_outputs} outputs, "
                f"the data {n_inputs} and {n_outputs}"
            )
        return init
    if order is None:
        raise ValueError("order: required unless init is a CanonicalSystem")
    n = _positive_int(order, "order")
    if init not in ("zero", "identity"):
        raise ValueError(f"init: must be 'zero', 'identity' or a CanonicalSystem, got {init!r}")
    m, p = n_inputs or 1, n_outputs or 1
    if m == 1 and p == 1:
        return CanonicalSystem(np.zeros(n), np.zeros(n), 1.0 if init == "identity" else 0.0)
    d = np.eye(p, m) if init == "identity" else np.zeros((p, m))
    return CanonicalSystem(np.zeros(n), np.zeros((n, p, m)), d)


def resolve_region(region: Any) -> PacmanRegion | None:
    """``'pacman'``/``'default'`` -> the post's region; ``None`` -> unconstrained."""
    if region is None:
        return None
    from .region import PacmanRegion

    if isinstance(region, PacmanRegion):
        return region
    if isinstance(region, str) and region in ("pacman", "default"):
        return PacmanRegion()
    raise ValueError(f"region: must be a PacmanRegion, 'pacman' or None, got {region!r}")


def _lr_at(lr: LearningRate, k: int) -> float:
    value = lr(k) if callable(lr) else lr
    if not (isinstance(value, int | float | np.floating) and math.isfinite(value) and value > 0):
        raise ValueError(f"lr: must be a positive finite number, got {value!r} at step {k}")
    return float(value)


# --------------------------------------------------------------------------- projected SGD
def projected_sgd(
    source: BatchSource,
    *,
    order: int | None = None,
    steps: int = 1000,
    lr: LearningRate = 0.01,
    burn_in: int | None = None,
    region: PacmanRegion | str | None = "pacman",
    clip: float | None = None,
    init: str | CanonicalSystem = "zero",
    learn_d: bool = True,
    rng: Any = None,
    snapshot_every: int | None = None,
    progress: bool = False,
    on_divergence: Literal["warn", "raise"] = "warn",
    divergence_factor: float = 1e8,
    tol: float | None = None,
    callback: Callable[[int, CanonicalSystem, float], Any] | None = None,
    objective: Callable[..., tuple[float, Any]] = loss_and_grad,
) -> TrainResult:
    """Projected stochastic gradient descent on the canonical form (Algorithm 1).

    At each step a batch ``(x, y)`` is drawn from ``source``, the burn-in loss and its
    exact gradient are computed, ``a`` takes a gradient step and is projected onto
    ``region`` (``None``: plain SGD), ``c`` and ``d`` take plain steps. ``clip`` caps the
    gradient norm (the paper's fastest variant). Divergence (a non-finite loss or one
    ``divergence_factor`` times the initial) stops training: the last finite model is
    returned with ``diverged=True`` and a :class:`DivergenceWarning`, or
    :class:`TrainingDiverged` is raised when ``on_divergence='raise'``. ``tol`` stops
    early once the loss is below it. ``objective(model, x, y, burn_in) -> (loss, grad)``
    replaces :func:`learnlds.risk.loss_and_grad`, e.g. by a version mapped over Dask
    chunks (:func:`learnlds.distributed.dask_loss_and_grad`).
    """
    if not callable(source):
        raise ValueError("source: must be a callable rng -> (x, y); see sequence_batches")
    steps = _positive_int(steps, "steps") if steps != 0 else 0
    if clip is not None and not (clip > 0 and math.isfinite(clip)):
        raise ValueError(f"clip: must be a positive number or None, got {clip!r}")
    if on_divergence not in ("warn", "raise"):
        raise ValueError(f"on_divergence: must be 'warn' or 'raise', got {on_divergence!r}")
    reg = resolve_region(region)
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    first = source(gen)  # also tells how many inputs and outputs the data have
    m, p = (first[0].shape[-1], first[1].shape[-1]) if np.ndim(first[0]) == 3 else (1, 1)
    model = initial_model(init, order, m, p)
    if reg is not None and not reg.contains(model.a):
        model = model.with_params(a=reg.project(model.a))
    a, c, d = model.a.copy(), model.c.copy(), model.d.copy()

    history = np.full(steps + 1, np.nan)
    snapshots: list[tuple[int, CanonicalSystem]] = []
    if snapshot_every:
        snapshots.append((0, model))
    best_model, best_loss = model, math.inf
    reference = None
    stop_reason, diverged, projections = "max_steps", False, 0
    start = time.perf_counter()
    bar = _progress(steps, progress, "projected SGD" if reg is not None else "SGD")
    k = 0
    try:
        for k in range(steps + 1):
            xb, yb = first if k == 0 else source(gen)
            current = CanonicalSystem(a, c, d)
            if k == steps and objective is loss_and_grad:  # final evaluation only
                value = loss(current, xb, yb, burn_in)
            else:
                value, grad = objective(current, xb, yb, burn_in)
            history[k] = value
            if reference is None and math.isfinite(value):
                reference = max(value, 1e-300)
            if not math.isfinite(value) or (reference and value > divergence_factor * reference):
                diverged = True
                stop_reason = f"diverged at step {k}: loss {value:.3g}" + (
                    "" if math.isfinite(value) else " is not finite"
                )
                break
            if value < best_loss:
                best_model, best_loss = current, value
            if callback is not None:
                callback(k, current, value)
            if k == steps:
                break
            if tol is not None and value <= tol:
                stop_reason = f"loss {value:.3g} <= tol"
                break
            eta = _lr_at(lr, k)
            ga, gc, gd = grad.a, grad.c, (np.asarray(grad.d) if learn_d else np.zeros_like(d))
            if clip is not None:
                norm = math.sqrt(float(np.sum(ga**2) + np.sum(gc**2) + np.sum(gd**2)))
                if norm > clip:
                    ga, gc, gd = ga * (clip / norm), gc * (clip / norm), gd * (clip / norm)
            a = a - eta * ga
            c = c - eta * gc
            d = d - eta * gd
            if not (np.all(np.isfinite(a)) and np.all(np.isfinite(c)) and np.all(np.isfinite(d))):
                diverged = True
                stop_reason = f"diverged at step {k + 1}: parameters became non-finite"
                a, c, d = current.a, current.c, current.d
                break
            if reg is not None and not reg.contains(a):
                a = reg.project(a)
                projections += 1
            if snapshot_every and (k + 1) % snapshot_every == 0:
                snapshots.append((k + 1, CanonicalSystem(a, c, d)))
            if bar is not None:
                bar.update(1)
                if k % 10 == 0:
                    bar.set_postfix(loss=f"{value:.4g}")
    finally:
        if bar is not None:
            bar.close()
    final = CanonicalSystem(a, c, d) if not diverged else _last_finite(a, c, d, best_model)
    result = TrainResult(
        model=final,
        best_model=best_model,
        best_loss=best_loss,
        loss_history=history[: k + 1] if not diverged else history[:k],
        snapshots=snapshots,
        stop_reason=stop_reason,
        n_steps=k,
        diverged=diverged,
        elapsed=time.perf_counter() - start,
        projections=projections,
    )
    if diverged:
        msg = (
            f"training {stop_reason}; lower the learning rate, clip the gradient or keep the "
            "region (the returned model is the last finite iterate)"
        )
        if on_divergence == "raise":
            raise TrainingDiverged(msg)
        warnings.warn(msg, DivergenceWarning, stacklevel=2)
    return result


def _last_finite(a, c, d, fallback: CanonicalSystem) -> CanonicalSystem:
    try:
        return CanonicalSystem(a, c, d)
    except ValueError:
        return fallback


def _progress(total: int, enabled: bool, desc: str):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="step", leave=False)


# --------------------------------------------------------------------------- fast solver
def _as_mimo(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    """Inputs/outputs as ``(N, T, m)`` and ``(N, T, p)``; SISO ``(T,)``/``(N, T)`` pairs too.

    Returns the arrays and whether the data was SISO-shaped.
    """
    xa = np.asarray(x)
    if xa.ndim in (1, 2) and np.ndim(y) == xa.ndim:
        x2, y2 = check_pair(x, y)
        return x2[..., None], y2[..., None], True

    x3 = as_real_array(x, "x", ndim=(3,))
    y3 = as_real_array(y, "y", ndim=(3,))
    if x3.shape[:2] != y3.shape[:2]:
        raise ValueError(f"x and y: (N, T) differ, x {x3.shape} vs y {y3.shape}")
    if x3.shape[1] == 0:
        raise ValueError("x: the sequences are empty")
    return x3, y3, False


def _c3(model: CanonicalSystem) -> tuple[np.ndarray, np.ndarray]:
    """``c`` as ``(n, p, m)`` and ``d`` as ``(p, m)`` whatever the model's shape."""
    if model.is_siso:
        return model.c[:, None, None], np.array([[float(model.d)]])
    return model.c, model.d


class ParamLayout:
    """Packing of ``(a, c, d)`` into the solver's vector ``[a, (c[:, o, :], d[o, :]) for o]``.

    A least-squares *problem* for :func:`levenberg_marquardt` is a ``ParamLayout`` with
    ``count`` (samples scored) and two methods of ``(a, c3, d3)``: ``sse`` and
    ``normal_equations`` returning ``(sse, J^T J, J^T r)``. Both are sums over sequences,
    which is what lets :mod:`learnlds.distributed` compute them chunk by chunk.
    """

    def __init__(self, n: int, m: int, p: int, learn_d: bool) -> None:
        self.n, self.m, self.p, self.learn_d = n, m, p, learn_d

    @property
    def n_params(self) -> int:
        return self.n + self.p * (self.n * self.m + (self.m if self.learn_d else 0))

    def require_samples(self, samples: int, burn_in: int) -> None:
        """Refuse an order the data cannot support (fewer scalar samples than parameters)."""
        if samples <= self.n_params:
            raise ValueError(
                f"order: {self.n} needs more than {self.n_params} samples after a burn-in of "
                f"{burn_in} to fit {self.n_params} parameters, the data has {samples}"
            )

    def unpack(self, theta: np.ndarray, d_fixed: np.ndarray):
        """``(a, c3, d3)`` from the vector (``d_fixed`` when ``d`` is not learned)."""
        n, m, p = self.n, self.m, self.p
        q = n * m + (m if self.learn_d else 0)
        a = theta[:n]
        blocks = theta[n:].reshape(p, q)
        c3 = blocks[:, : n * m].reshape(p, n, m).transpose(1, 0, 2)
        d3 = blocks[:, n * m :] if self.learn_d else d_fixed
        return a, c3, d3

    def pack(self, a, c3, d3) -> np.ndarray:
        parts = [a]
        for o in range(self.p):
            parts.append(c3[:, o, :].ravel())
            if self.learn_d:
                parts.append(d3[o])
        return np.concatenate(parts)


class LeastSquaresProblem(ParamLayout):
    """The output-error least-squares problem with a common denominator, all data at once."""

    def __init__(self, x: np.ndarray, y: np.ndarray, b: int, n: int, learn_d: bool) -> None:
        super().__init__(n, x.shape[2], y.shape[2], learn_d)
        self.x, self.y, self.b = x, y, b
        self.N, self.T = x.shape[:2]
        self.count = self.N * (self.T - b)  # as risk.loss: squared norms over outputs

    def predict_parts(self, a, c3, d3):
        return mimo_parts(a, c3, d3, self.x)

    def sse(self, a, c3, d3) -> float:
        if self.m == 1 and self.p == 1:  # the fused compiled loss: one pass over the data
            model = CanonicalSystem(a, c3[:, 0, 0], float(d3[0, 0]))
            return loss(model, self.x[..., 0], self.y[..., 0], self.b) * self.count
        _, _, yhat = self.predict_parts(a, c3, d3)
        r = (yhat - self.y)[:, self.b :]
        return float(np.sum(r * r))

    def normal_equations(self, a, c3, d3):
        """``(sse, J^T J, J^T r)`` for parameters ``[a, (c[:, o, :], d[o, :]) for o]``."""
        n, m, p, b = self.n, self.m, self.p, self.b
        S, z, yhat = self.predict_parts(a, c3, d3)
        den = np.concatenate(([1.0], a))
        w = signal.lfilter([1.0], den, z, axis=1)
        W = lagged(w, np.arange(1, n + 1))[:, b:]  # W[:, t, k, o] = w_o at t - k - 1
        r = (yhat - self.y)[:, b:]  # (N, T-b, p)
        feats = [S[:, b:].reshape(self.N, self.T - b, n * m)]
        if self.learn_d:
            feats.append(self.x[:, b:])
        F = np.concatenate(feats, axis=2).reshape(
            -1, feats[0].shape[2] + (m if self.learn_d else 0)
        )
        q = F.shape[1]
        size = n + p * q
        JtJ = np.zeros((size, size))
        Jtr = np.zeros(size)
        FtF = F.T @ F  # shared by every output
        for o in range(p):  # loop over outputs, not time
            Wo = W[..., o].reshape(-1, n)
            ro = r[..., o].ravel()
            blk = slice(n + o * q, n + (o + 1) * q)
            JtJ[:n, :n] += Wo.T @ Wo
            cross = -(Wo.T @ F)
            JtJ[:n, blk] = cross
            JtJ[blk, :n] = cross.T
            JtJ[blk, blk] = FtF
            Jtr[:n] += -(Wo.T @ ro)
            Jtr[blk] = F.T @ ro
        return float(np.sum(r * r)), JtJ, Jtr


def _to_model(a, c3, d3, siso: bool) -> CanonicalSystem:
    if siso:
        return CanonicalSystem(a, c3[:, 0, 0], float(d3[0, 0]))
    return CanonicalSystem(a, c3, d3)


def gauss_newton(
    x: Any,
    y: Any,
    *,
    order: int | None = None,
    init: str | CanonicalSystem = "zero",
    burn_in: int | None = 0,
    region: PacmanRegion | str | None = "pacman",
    max_iter: int = 100,
    tol: float = 1e-10,
    learn_d: bool = True,
    stability_margin: float = 1e-6,
    coarse: int | None = 20_000,
) -> TrainResult:
    """Fast full-data solver: projected Levenberg-Marquardt on the exact filter Jacobian.

    Minimises the same burn-in loss as :func:`projected_sgd` over all the data:
    ``x``, ``y`` of shape ``(T,)`` or ``(N, T)`` (SISO), or ``(N, T, m)`` and ``(N, T, p)``
    (multiple inputs and outputs over a common denominator, SPEC section 6). Each step
    solves ``(J^T J + mu diag) delta = -J^T r``, projects ``a`` onto ``region`` (``None``:
    only the spectral radius is kept below ``1 - stability_margin``) and is accepted if
    the loss decreases, else ``mu`` grows, so a rejected step shrinks towards a
    projected gradient step. With ``coarse`` set and long records, the first iterations
    run on the first ``coarse`` samples of each sequence, then all the data polishes it.
    """
    x3, y3, siso = _as_mimo(x, y)
    N, T, m = x3.shape
    p = y3.shape[2]
    b = resolve_burn_in(burn_in, T)
    reg = resolve_region(region)
    model = initial_model(init, order, m, p)
    n = model.order
    full = LeastSquaresProblem(x3, y3, b, n, learn_d)
    full.require_samples(N * (T - b) * p, b)
    start = time.perf_counter()
    if not (coarse and T > 4 * coarse):
        return levenberg_marquardt(full, model, reg, max_iter, tol, stability_margin, siso)
    sub = LeastSquaresProblem(x3[:, :coarse], y3[:, :coarse], min(b, coarse // 4), n, learn_d)
    first = levenberg_marquardt(sub, model, reg, 50, 1e-6, stability_margin, siso)
    result = levenberg_marquardt(full, first.model, reg, max_iter, tol, stability_margin, siso)
    result.loss_history = np.concatenate((first.loss_history, result.loss_history))
    result.n_steps += first.n_steps
    result.elapsed = time.perf_counter() - start
    return result


def _feasible(a: np.ndarray, reg: PacmanRegion | None, margin: float) -> tuple[np.ndarray, bool]:
    """Project ``a`` onto the region, or report whether it is stable when unconstrained."""
    if reg is not None:
        return (a if reg.contains(a) else reg.project(a)), True
    rho = np.max(np.abs(np.roots(np.concatenate(([1.0], a)))))
    return a, bool(rho < 1.0 - margin)


def levenberg_marquardt(
    problem: ParamLayout,
    model: CanonicalSystem,
    reg: PacmanRegion | None,
    max_iter: int,
    tol: float,
    margin: float,
    siso: bool,
) -> TrainResult:
    """Projected Levenberg-Marquardt on any problem (see :class:`ParamLayout`).

    Returns a :class:`TrainResult` (``n_steps``: accepted iterations).
    """
    start = time.perf_counter()
    n = problem.n
    a, c3, d3 = model.a, *_c3(model)
    a, ok = _feasible(a, reg, margin)
    if not ok:
        a = np.zeros(n)
    d_fixed = d3
    theta = problem.pack(a, c3, d3)
    sse, JtJ, Jtr = problem.normal_equations(a, c3, d3)
    history = [sse / problem.count]
    mu, reason, it = 1e-3, "max_iter", 0
    for it in range(1, max_iter + 1):  # noqa: B007 - the count is reported
        scale = np.diag(JtJ).copy()
        scale[scale <= 0] = 1.0
        accepted = False
        for _ in range(40):
            try:
                delta = linalg.solve(JtJ + mu * np.diag(scale), -Jtr, assume_a="pos")
            except (linalg.LinAlgError, ValueError):
                mu *= 10.0
                continue
            trial = theta + delta
            trial[:n], ok = _feasible(trial[:n], reg, margin)
            if ok:
                sse_new = problem.sse(*problem.unpack(trial, d_fixed))
                if np.isfinite(sse_new) and sse_new < sse:
                    accepted = True
                    break
            mu *= 10.0
        if not accepted:
            reason = "converged (no further decrease)"
            break
        rel = (sse - sse_new) / max(sse, 1e-300)
        theta = trial
        sse, JtJ, Jtr = problem.normal_equations(*problem.unpack(theta, d_fixed))
        history.append(sse / problem.count)
        mu = max(mu / 10.0, 1e-12)
        if rel < tol:
            reason = "converged (relative decrease below tol)"
            break
    final = _to_model(*problem.unpack(theta, d_fixed), siso)
    return TrainResult(
        model=final,
        best_model=final,
        best_loss=history[-1],
        loss_history=np.asarray(history),
        stop_reason=reason,
        n_steps=it,
        elapsed=time.perf_counter() - start,
    )
