"""Learning: projected SGD (Algorithms 1 and 2 of the paper) and a fast full-data solver.

``train`` knows nothing of where data comes from: :func:`projected_sgd` takes a
*batch source*, a callable ``source(random_state) -> (u, y)`` returning a batch of
sequences: ``(B, T)`` arrays for one input and one output, ``(B, T, m)`` and
``(B, T, p)`` otherwise. :func:`sequence_batches`, :func:`window_batches` and
:func:`fresh_batches` build such sources from stored data, from one long record,
or from a generator of fresh samples (the population setting). Data given to them
follow the library's layout rule (:mod:`learnlds._boundary`): time along axis 0,
several sequences only with ``sequences=True``.

The fast solver :func:`gauss_newton` minimises the same burn-in loss on all the
data with projected Levenberg-Marquardt steps built from the exact O(T n) filter
Jacobian, in the same region.

Every run returns a :class:`TrainResult` that says whether it converged and why
it stopped; a run that did not converge also warns (:class:`ConvergenceWarning`,
or :class:`DivergenceWarning` when the loss blew up).

Examples
--------
>>> from learnlds.systems import CanonicalSystem
>>> truth = CanonicalSystem([-0.5], [1.0], 0.2)
>>> u = np.random.default_rng(0).normal(size=300)
>>> res = gauss_newton(u, truth.simulate(u), order=1)
>>> res.converged, np.round(res.model.a, 6)
(True, array([-0.5]))
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
import time
import warnings
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from scipy import linalg, signal

from . import _kernels
from ._boundary import (
    LAZY_SIZE,
    IOArrays,
    as_io,
    check_bool,
    check_choice,
    check_float,
    check_int,
    check_random_state,
    renamed_parameters,
    resolve_burn_in,
    user_stacklevel,
)
from ._files import atomic_open, check_output_path
from .errors import (
    ConvergenceWarning,
    DataError,
    DivergenceWarning,
    FileFormatError,
    ParameterError,
    TooExpensiveError,
    TrainingDiverged,
    UnstableSystemWarning,
    UnsupportedShapeError,
)
from .records import (
    STREAM_BLOCK,
    ScaledRecord,
    StoreWindow,
    _dead_input,
    is_chunked_store,
    streaming_io,
    streaming_moments,
)
from .risk import _lagged, _mimo_parts, loss, loss_and_grad
from .systems import CanonicalSystem, _sequences_flag

if TYPE_CHECKING:
    from .region import PacmanRegion

__all__ = [
    "BatchSource",
    "DivergenceWarning",
    "LearningRate",
    "LeastSquaresProblem",
    "ParamLayout",
    "TrainResult",
    "LAZY_SIZE",
    "MIN_RUN",
    "STREAM_BLOCK",
    "ScaledRecord",
    "StoreWindow",
    "is_chunked_store",
    "TrainingDiverged",
    "dense_normal_equations",
    "estimate_cost",
    "fresh_batches",
    "gauss_newton",
    "initial_model",
    "levenberg_marquardt",
    "projected_sgd",
    "resolve_region",
    "sequence_batches",
    "streaming_io",
    "streaming_moments",
    "tile_windows",
    "window_batches",
]

#: ``source(random_state) -> (u, y)``: one batch of sequences per call. A source may
#: also offer ``fingerprint() -> str`` (what data it serves, so a checkpoint of other
#: data is refused) and, when it draws from a generator of its own, ``get_state()``
#: and ``set_state(state)`` (JSON-able), which checkpoints save and restore.
BatchSource = Callable[[np.random.Generator], tuple[np.ndarray, np.ndarray]]
#: A constant learning rate or a schedule ``lr(k)`` of the step ``k``.
LearningRate = float | Callable[[int], float]


@dataclass
class TrainResult:
    """Outcome of a training run: the model, the loss history, and whether and why it stopped.

    Parameters
    ----------
    model : CanonicalSystem
        The last finite iterate.
    best_model : CanonicalSystem
        The iterate with the lowest observed loss.
    best_loss : float
        That loss.
    loss_history : numpy.ndarray
        ``loss_history[k]``: the (minibatch) loss at step ``k``, before its update.
    snapshots : list of (int, CanonicalSystem)
        ``(step, model)`` pairs every ``snapshot_every`` steps (step 0: the start).
    stop_reason : str
        ``'max_steps'`` (projected SGD ran all its steps), ``'tol'`` (the loss, or
        Gauss-Newton's relative decrease, reached ``tol``), ``'no_decrease'``
        (Gauss-Newton: no step lowers the loss, a stationary point), ``'max_iter'``
        (Gauss-Newton stopped at its iteration limit), ``'diverged'``,
        ``'oscillation'`` or ``'stagnation'`` (see :func:`projected_sgd`).
    converged : bool
        ``False`` for ``'max_iter'``, ``'diverged'``, ``'oscillation'``,
        ``'stagnation'``, and for ``'max_steps'`` when a ``tol`` was not reached.
    message : str
        The stop reason in words, with the step and the losses involved.
    n_steps : int
        Steps (accepted iterations for Gauss-Newton) taken.
    diverged : bool
        Whether the loss or the parameters became non-finite or exploded.
    elapsed : float
        Wall time in seconds.
    projections : int
        Steps whose ``a`` had to be projected back onto the region.

    Examples
    --------
    >>> m = CanonicalSystem([0.5], [1.0])
    >>> res = TrainResult(m, m, 0.1, np.array([0.3, 0.1]))
    >>> res.converged, res.stop_reason
    (True, 'max_steps')
    """

    model: CanonicalSystem
    best_model: CanonicalSystem
    best_loss: float
    loss_history: np.ndarray
    snapshots: list[tuple[int, CanonicalSystem]] = field(default_factory=list)
    stop_reason: str = "max_steps"
    converged: bool = True
    message: str = ""
    n_steps: int = 0
    diverged: bool = False
    elapsed: float = 0.0
    projections: int = 0

    def __repr__(self) -> str:
        return (
            f"TrainResult(n_steps={self.n_steps}, stop_reason={self.stop_reason!r}, "
            f"converged={self.converged}, best_loss={self.best_loss:.6g}, model={self.model!r})"
        )


# --------------------------------------------------------------------------- batch sources
def _siso_record(io: IOArrays, what: str) -> tuple[np.ndarray, np.ndarray]:
    """The single record of a SISO pair as 1-D arrays, or a typed error naming ``what``."""
    if not io.is_siso:
        raise UnsupportedShapeError(
            f"{what}: single-input single-output records only, got {io.n_inputs} input and "
            f"{io.n_outputs} output channel(s) (time along axis 0)"
        )
    return io.u[0, :, 0], io.y[0, :, 0]  # type: ignore[index]


def _risk_layout(io: IOArrays) -> tuple[np.ndarray, np.ndarray]:
    """Canonical data as the loss takes batches: ``(N, T)`` for SISO, else ``(N, T, k)``."""
    if io.is_siso:
        return io.u[..., 0], io.y[..., 0]  # type: ignore[index]
    return io.u, io.y  # type: ignore[return-value]


@renamed_parameters(x="u")
def sequence_batches(
    u: Any, y: Any, batch_size: int | None = None, *, sequences: bool = False
) -> BatchSource:
    """Minibatches of whole sequences drawn without replacement from stored data.

    Parameters
    ----------
    u, y : array_like
        Inputs and outputs: one record ``(T,)`` / ``(T, m)``, or with
        ``sequences=True`` ``(N, T)`` / ``(N, T, m)`` sequences.
    batch_size : int, optional
        Sequences per batch; ``None`` (or ``>= N``) uses all of them every step
        (full-batch gradient descent).
    sequences : bool, default False
        Read the leading axis as the sequence index.

    Returns
    -------
    BatchSource
        ``source(random_state) -> (u, y)``.

    Raises
    ------
    DataError
        Data that :func:`learnlds._boundary.as_io` refuses.
    ParameterError
        ``batch_size`` not a positive integer.

    Examples
    --------
    >>> u = np.arange(60.0).reshape(6, 10)
    >>> ub, yb = sequence_batches(u, 2 * u, 3, sequences=True)(np.random.default_rng(0))
    >>> ub.shape, bool(np.all(yb == 2 * ub))
    ((3, 10), True)
    """
    io = as_io(u, y, sequences=sequences, require_y=True)
    bs = check_int(batch_size, "batch_size", low=1, allow_none=True)
    u2, y2 = _risk_layout(io)
    N = io.n_sequences

    def draw(random_state: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        if bs is None or bs >= N:
            return u2, y2
        idx = random_state.choice(N, size=bs, replace=False)
        return u2[idx], y2[idx]

    return _fingerprinted(draw, lambda: f"sequences bs={bs} {_digest(u2, y2)}")


def _window(length: int, window: Any) -> int:
    w = check_int(window, "window", low=1)
    if w > length:
        raise DataError(f"window: {w} is longer than the record ({length} samples)")
    return w  # type: ignore[return-value]


@renamed_parameters(x="u")
def window_batches(u: Any, y: Any, window: int, batch_size: int = 1) -> BatchSource:
    """Algorithm 2: random windows of length ``window`` from one long SISO record.

    Each window is treated as a sequence whose unknown initial state is absorbed by
    the burn-in, so use a burn-in of a good fraction of the window.

    Parameters
    ----------
    u, y : array_like
        One record, ``(T,)`` (or ``(T, 1)``) each.
    window : int
        Samples per window, at most ``T``.
    batch_size : int, default 1
        Windows per batch (drawn with replacement when there are fewer starts).

    Returns
    -------
    BatchSource
        ``source(random_state) -> (u, y)`` of shape ``(batch_size, window)``.

    Raises
    ------
    DataError
        Bad data, several sequences, or a window longer than the record.
    UnsupportedShapeError
        Several input or output channels.
    ParameterError
        ``window`` or ``batch_size`` not a positive integer.

    Examples
    --------
    >>> u = np.arange(100.0)
    >>> ub, yb = window_batches(u, 2 * u, window=10, batch_size=4)(np.random.default_rng(0))
    >>> ub.shape, bool(np.all(np.diff(ub, axis=1) == 1))
    ((4, 10), True)
    """
    ua, ya = _siso_record(as_io(u, y, require_y=True), "window_batches")
    w = _window(ua.size, window)
    bs = check_int(batch_size, "batch_size", low=1)
    starts = np.arange(0, ua.size - w + 1)
    view_u = np.lib.stride_tricks.sliding_window_view(ua, w)
    view_y = np.lib.stride_tricks.sliding_window_view(ya, w)

    def draw(random_state: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        idx = random_state.choice(starts, size=bs, replace=bs > starts.size)
        return view_u[idx], view_y[idx]

    return _fingerprinted(draw, lambda: f"windows w={w} bs={bs} {_digest(ua, ya)}")


@renamed_parameters(x="u")
def tile_windows(u: Any, y: Any, window: int, burn_in: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Cut one long SISO record into windows overlapping by ``burn_in`` samples.

    Window ``k`` starts at ``k (window - burn_in)``; as each window's loss skips its
    first ``burn_in`` samples (the unknown initial state), every sample after the
    first ``burn_in`` is scored exactly once. A tail shorter than a window is
    dropped. Algorithm 2 with deterministic tiling, and the way
    :mod:`learnlds.distributed` spreads one record over workers.

    Parameters
    ----------
    u, y : array_like
        One record, ``(T,)`` (or ``(T, 1)``) each.
    window : int
        Samples per window, at most ``T``.
    burn_in : int or None
        Overlap, the burn-in the loss will use; ``None``: ``window // 4``.

    Returns
    -------
    u_windows, y_windows : numpy.ndarray
        Read-only views of shape ``(N, window)``.

    Raises
    ------
    DataError
        Bad data, several sequences, or a window longer than the record.
    UnsupportedShapeError
        Several input or output channels.
    ParameterError
        ``window`` or ``burn_in`` out of range.

    Examples
    --------
    >>> uw, yw = tile_windows(np.arange(10.0), np.zeros(10), window=4, burn_in=1)
    >>> uw
    array([[0., 1., 2., 3.],
           [3., 4., 5., 6.],
           [6., 7., 8., 9.]])
    """
    ua, ya = _siso_record(as_io(u, y, require_y=True), "tile_windows")
    w = _window(ua.size, window)
    step = w - resolve_burn_in(burn_in, w)
    vu = np.lib.stride_tricks.sliding_window_view(ua, w)[::step]
    vy = np.lib.stride_tricks.sliding_window_view(ya, w)[::step]
    return vu, vy


def fresh_batches(
    truth: CanonicalSystem,
    T: int,
    batch_size: int = 1,
    noise_std: float = 0.0,
    input_dist: Callable[[np.random.Generator, tuple[int, ...]], np.ndarray] | None = None,
) -> BatchSource:
    """Algorithm 1's population setting: fresh i.i.d. inputs through ``truth`` at every step.

    Parameters
    ----------
    truth : CanonicalSystem
        The system generating the outputs (SISO or MIMO).
    T : int
        Samples per sequence.
    batch_size : int, default 1
        Sequences per batch.
    noise_std : float, default 0.0
        Standard deviation of white Gaussian output noise.
    input_dist : callable, optional
        ``input_dist(generator, shape) -> inputs``; default i.i.d. ``N(0, 1)``.

    Returns
    -------
    BatchSource
        ``source(random_state) -> (u, y)``: ``(batch_size, T)`` for a SISO system,
        ``(batch_size, T, m)`` and ``(batch_size, T, p)`` otherwise.

    Raises
    ------
    ParameterError
        ``truth`` not a system, or a size or noise level out of range.

    Examples
    --------
    >>> ub, yb = fresh_batches(CanonicalSystem([0.5], [1.0]), 20, 3)(np.random.default_rng(0))
    >>> ub.shape, yb.shape
    ((3, 20), (3, 20))
    """
    if not isinstance(truth, CanonicalSystem):
        raise ParameterError(f"truth: must be a CanonicalSystem, got {type(truth).__name__}")
    length = check_int(T, "T", low=1)
    bs = check_int(batch_size, "batch_size", low=1)
    sigma = check_float(noise_std, "noise_std", low=0.0)
    if input_dist is not None and not callable(input_dist):
        raise ParameterError(f"input_dist: must be callable or None, got {input_dist!r}")
    shape = (bs, length) if truth.is_siso else (bs, length, truth.n_inputs)

    def draw(random_state: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        ub = (
            random_state.normal(size=shape)
            if input_dist is None
            else input_dist(random_state, shape)
        )
        yb = truth.simulate(ub, sequences=True)
        if sigma:
            yb = yb + random_state.normal(scale=sigma, size=yb.shape)
        return ub, yb

    what = f"fresh T={length} bs={bs} noise={sigma!r} {_describe(input_dist)}"
    return _fingerprinted(draw, lambda: f"{what} {_digest(truth.a, truth.c, truth.d)}")


def _digest(*arrays: Any) -> str:
    """A short hash of arrays' shapes and values: what a checkpoint was computed from."""
    h = hashlib.sha256()
    for arr in arrays:  # C-order bytes a block at a time: the same digest, no whole copy
        if isinstance(arr, ScaledRecord):
            h.update(_digest(arr.data, arr.offset, arr.scale).encode())
            continue
        a = np.asarray(arr)
        a = a.reshape(1) if a.ndim == 0 else a
        h.update(repr(a.shape).encode())
        flat = a.reshape(-1) if a.flags.c_contiguous else np.ascontiguousarray(a).reshape(-1)
        for k in range(0, flat.size, 1 << 20):
            h.update(np.ascontiguousarray(flat[k : k + (1 << 20)], dtype=float).tobytes())
    return h.hexdigest()[:20]


def _describe(obj: Any) -> Any:
    """A JSON-able description of a setting: numbers as they are, callables by name."""
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    if isinstance(obj, np.integer | np.floating):
        return obj.item()
    if isinstance(obj, CanonicalSystem):
        return f"system {_digest(obj.a, obj.c, obj.d)}"
    name = getattr(obj, "__qualname__", None) or type(obj).__qualname__
    return f"{getattr(obj, '__module__', '')}.{name}" if callable(obj) else repr(obj)


def _fingerprinted(draw: Any, fingerprint: Callable[[], str]) -> BatchSource:
    """Give a built-in source its (lazy) ``fingerprint()``, read only by checkpoints."""
    draw.fingerprint = fingerprint
    return draw  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- init / region
def initial_model(
    init: Any, order: int | None, n_inputs: int | None = None, n_outputs: int | None = None
) -> CanonicalSystem:
    """The starting model: ``'zero'`` (a = c = d = 0), ``'identity'`` (d = 1) or a system.

    Parameters
    ----------
    init : {'zero', 'identity'} or CanonicalSystem
        The rule, or the model itself (checked against ``order`` and the channels).
    order : int or None
        Model order; required unless ``init`` is a system.
    n_inputs, n_outputs : int, optional
        Channel counts of the data (default 1). With several, the zero model is MIMO
        (``c`` of shape ``(order, p, m)``) and ``'identity'`` sets ``D`` to the
        identity where it is square.

    Returns
    -------
    CanonicalSystem
        The starting model.

    Raises
    ------
    ParameterError
        Unknown ``init``, missing or invalid ``order``, or a system that does not
        match ``order`` or the data's channels.

    Examples
    --------
    >>> initial_model("identity", 2)
    CanonicalSystem(a=[0. 0.], c=[0. 0.], d=1.0)
    """
    m = check_int(n_inputs, "n_inputs", low=1, allow_none=True) or 1
    p = check_int(n_outputs, "n_outputs", low=1, allow_none=True) or 1
    if isinstance(init, CanonicalSystem):
        if order is not None and init.order != check_int(order, "order", low=1):
            raise ParameterError(f"init: given system has order {init.order}, not order={order}")
        if (init.n_inputs, init.n_outputs) != (m, p):
            raise ParameterError(
                f"init: given system has {init.n_inputs} inputs and {init.n_outputs} outputs, "
                f"the data {m} and {p}"
            )
        return init
    if order is None:
        raise ParameterError("order: required unless init is a CanonicalSystem")
    k = check_int(order, "order", low=1)
    if not (isinstance(init, str) and init in ("zero", "identity")):
        raise ParameterError(f"init: must be 'zero', 'identity' or a CanonicalSystem, got {init!r}")
    if m == 1 and p == 1:
        return CanonicalSystem(np.zeros(k), np.zeros(k), 1.0 if init == "identity" else 0.0)
    d = np.eye(p, m) if init == "identity" else np.zeros((p, m))
    return CanonicalSystem(np.zeros(k), np.zeros((k, p, m)), d)


def resolve_region(region: Any) -> PacmanRegion | None:
    """The region to project onto: ``'pacman'``/``'default'`` -> the post's, ``None`` -> none.

    Parameters
    ----------
    region : PacmanRegion, {'pacman', 'default'} or None
        What the user passed.

    Returns
    -------
    PacmanRegion or None
        The region, or ``None`` for unconstrained training.

    Raises
    ------
    ParameterError
        Anything else.

    Examples
    --------
    >>> resolve_region(None) is None, type(resolve_region("pacman")).__name__
    (True, 'PacmanRegion')
    """
    if region is None:
        return None
    from .region import PacmanRegion

    if isinstance(region, PacmanRegion):
        return region
    if isinstance(region, str) and region in ("pacman", "default"):
        return PacmanRegion()
    raise ParameterError(f"region: must be a PacmanRegion, 'pacman' or None, got {region!r}")


def _lr_at(lr: LearningRate, k: int) -> float:
    value = lr(k) if callable(lr) else lr
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ParameterError(f"lr: must be a positive finite number, got {value!r} at step {k}")
    if not (math.isfinite(value) and value > 0):
        raise ParameterError(f"lr: must be a positive finite number, got {value!r} at step {k}")
    return float(value)


# --------------------------------------------------------------------------- projected SGD
@dataclass
class _SGDConfig:
    """Validated settings of one projected-SGD run."""

    steps: int
    lr: LearningRate
    burn_in: int | None
    region: PacmanRegion | None
    clip: float | None
    learn_d: bool
    snapshot_every: int
    on_divergence: str
    divergence_factor: float
    tol: float | None
    callback: Callable[[int, CanonicalSystem, float], Any] | None
    objective: Callable[..., tuple[float, Any]]
    progress: str | None
    checkpoint: Path | None = None
    checkpoint_every: int = 100
    resume: bool = False
    force: bool = False


@dataclass
class _SGDRun:
    """Mutable state of a projected-SGD run."""

    a: np.ndarray
    c: np.ndarray
    d: Any
    history: np.ndarray
    best_model: CanonicalSystem
    snapshots: list[tuple[int, CanonicalSystem]] = field(default_factory=list)
    best_loss: float = math.inf
    reference: float | None = None
    stop_reason: str = "max_steps"
    message: str = ""
    diverged: bool = False
    projections: int = 0
    k: int = 0
    start: float = field(default_factory=time.perf_counter)
    k0: int = 0  # the first step this call runs (after a resume: the checkpoint's)
    fingerprint: dict[str, Any] = field(default_factory=dict)
    origin: tuple[Any, Any] = (None, None)  # generator, source states before step k0's batch
    mark: dict[str, Any] | None = None  # the state at the start of the current step


def _sgd_config(
    source: Any, steps: Any, lr: Any, burn_in: Any, region: Any, clip: Any, learn_d: Any,
    snapshot_every: Any, on_divergence: Any, divergence_factor: Any, tol: Any,
    callback: Any, objective: Any, progress: Any, saving: tuple[Any, Any, Any, Any],
) -> _SGDConfig:  # fmt: skip
    """Check every argument of :func:`projected_sgd` once, naming it in the error."""
    for name, value in (("source", source), ("objective", objective)):
        if not callable(value):
            raise ParameterError(
                f"{name}: must be callable, got a {type(value).__name__}"
                + ("; wrap data with sequence_batches(u, y)" if name == "source" else "")
            )
    if callback is not None and not callable(callback):
        raise ParameterError(f"callback: must be callable or None, got {callback!r}")
    if not callable(lr):
        lr = check_float(lr, "lr", low=0.0, low_open=True)
    checkpoint, every, resume = _checkpoint_settings(*saving[:3])
    return _SGDConfig(
        steps=check_int(steps, "steps", low=0),  # type: ignore[arg-type]
        lr=lr,
        burn_in=check_int(burn_in, "burn_in", low=0, allow_none=True),
        region=resolve_region(region),
        clip=check_float(clip, "clip", low=0.0, low_open=True, allow_none=True),
        learn_d=check_bool(learn_d, "learn_d"),
        snapshot_every=check_int(snapshot_every, "snapshot_every", low=0, allow_none=True) or 0,
        on_divergence=check_choice(on_divergence, "on_divergence", ("warn", "raise")),
        divergence_factor=check_float(divergence_factor, "divergence_factor", low=1.0),  # type: ignore[arg-type]
        tol=check_float(tol, "tol", low=0.0, allow_none=True),
        callback=callback,
        objective=objective,
        progress=_progress_mode(progress),
        checkpoint=checkpoint,
        checkpoint_every=every,
        resume=resume,
        force=check_bool(saving[3], "force"),
    )


@renamed_parameters(rng="random_state")
def projected_sgd(
    source: BatchSource, *, order: int | None = None, steps: int = 1000,
    lr: LearningRate = 0.01, burn_in: int | None = None,
    region: PacmanRegion | str | None = "pacman", clip: float | None = None,
    init: str | CanonicalSystem = "zero", learn_d: bool = True, random_state: Any = None,
    snapshot_every: int | None = None, progress: bool | Literal["bar", "lines"] = False,
    on_divergence: Literal["warn", "raise"] = "warn", divergence_factor: float = 1e8,
    tol: float | None = None, callback: Callable[[int, CanonicalSystem, float], Any] | None = None,
    objective: Callable[..., tuple[float, Any]] = loss_and_grad,
    checkpoint: str | os.PathLike[str] | None = None, checkpoint_every: int = 100,
    resume: bool = False, force: bool = False,
) -> TrainResult:  # fmt: skip
    """Projected stochastic gradient descent on the canonical form (Algorithm 1).

    Parameters
    ----------
    source, order : BatchSource, int
        ``source(random_state) -> (u, y)`` (e.g. :func:`sequence_batches`); the model
        order (required unless ``init`` is a system).
    steps, lr : int, float or callable, default 1000, 0.01
        Gradient steps; the learning rate or a schedule ``lr(k) -> float``.
    burn_in, clip : int, float, optional
        Samples of each sequence left out of the loss (``None``: ``T // 4``); a cap
        on the gradient norm (the paper's fastest variant).
    region, init : PacmanRegion or str or None, str or CanonicalSystem
        Where ``a`` is projected (default ``'pacman'``; ``None``: plain SGD); the
        start (``'zero'``, ``'identity'`` or a system, see :func:`initial_model`).
    learn_d, random_state : bool, None or int or Generator
        Learn the feed-through ``d`` (default True); randomness handed to ``source``.
    snapshot_every : int, optional
        Keep ``(step, model)`` every so many steps; ``None`` or 0: none.
    progress : bool, 'bar' or 'lines', default False
        ``'bar'``: tqdm; ``'lines'``: a line to stderr every ``steps // 50`` steps;
        ``True``: a bar when stderr is a terminal, else lines.
    on_divergence, divergence_factor : {'warn', 'raise'}, float, default 'warn', 1e8
        When the loss is non-finite or ``divergence_factor`` times the first: warn
        :class:`DivergenceWarning` and return the last finite model, or raise.
    tol : float, optional
        Stop once the loss is at most ``tol``; not reaching it warns, as does a run
        ending oscillating or far above its best loss (``ConvergenceWarning``).
    callback, objective : callable, optional
        ``callback(k, model, loss)`` after each evaluation; ``objective(model, u, y,
        burn_in) -> (loss, grad)``, default :func:`learnlds.risk.loss_and_grad`.
    checkpoint, checkpoint_every, resume : path, int, bool, default None, 100, False
        Save the whole state (parameters, generator and source states, step, losses,
        best model) atomically to ``checkpoint`` every ``checkpoint_every`` steps and
        on ``KeyboardInterrupt``; ``resume=True`` continues from it, to the same
        result as an uninterrupted run (a checkpoint of other data or settings is refused).
    force : bool, default False
        Run even when estimated at over an hour (:func:`estimate_cost`).

    Returns
    -------
    TrainResult
        The run (``converged``, ``stop_reason``, ``loss_history``, ...).

    Raises
    ------
    ParameterError, DataError, TrainingDiverged
        Bad arguments or batches (``(u, y)`` arrays); ``order`` not below the batches'
        length; a diverged run with ``on_divergence='raise'``.

    Examples
    --------
    >>> src = fresh_batches(CanonicalSystem([-0.5], [1.0]), 50, 4)
    >>> projected_sgd(src, order=1, steps=50, lr=0.05, random_state=0).best_loss < 1e-5
    True
    """
    cfg = _sgd_config(
        source, steps, lr, burn_in, region, clip, learn_d, snapshot_every, on_divergence,
        divergence_factor, tol, callback, objective, progress,
        (checkpoint, checkpoint_every, resume, force),
    )  # fmt: skip
    run, first, gen = _sgd_start(cfg, init, order, source, random_state)
    _sgd_loop(run, cfg, source, gen, first)
    result = _sgd_result(run, cfg)
    if result.diverged and cfg.on_divergence == "raise":
        raise TrainingDiverged(result.message)
    _warn_unconverged(result)
    return result


def _source_state(source: Any) -> Any:
    """The state of a source that draws from a generator of its own, else ``None``."""
    getter = getattr(source, "get_state", None)
    return getter() if callable(getter) else None


def _sgd_start(
    cfg: _SGDConfig, init: Any, order: Any, source: BatchSource, random_state: Any
) -> tuple[_SGDRun, Any, np.random.Generator]:
    """The state at the first step (0, or the checkpoint's), its batch, the generator."""
    gen = check_random_state(random_state)
    if cfg.resume:
        meta, arrays = _read_checkpoint(cfg.checkpoint, "projected_sgd")  # type: ignore[arg-type]
        _restore_generator(gen, meta["generator"], cfg.checkpoint)  # type: ignore[arg-type]
        if meta.get("source_state") is not None:
            if not callable(getattr(source, "set_state", None)):
                raise ParameterError("source: the checkpoint holds a source state; no set_state")
            source.set_state(meta["source_state"])  # type: ignore[attr-defined]
    origin = (gen.bit_generator.state, _source_state(source)) if cfg.checkpoint else (None, None)
    first = _batch_pair(source(gen), None)  # also tells how many inputs and outputs there are
    shape_u, shape_y = np.shape(first[0]), np.shape(first[1])
    m, p = (shape_u[-1], shape_y[-1]) if len(shape_u) == 3 and len(shape_y) == 3 else (1, 1)
    model = initial_model(init, order, m, p)
    _require_batch_length(model.order, shape_u, cfg.region)
    samples = int(np.prod(shape_u[:2]))
    _refuse_expensive(
        "projected_sgd", model.order, samples, cfg.steps, (m, p, cfg.learn_d), cfg.force
    )
    if cfg.region is not None and not cfg.region.contains(model.a):
        model = model.with_params(a=cfg.region.project(model.a))
    history = np.full(cfg.steps + 1, np.nan)
    run = _SGDRun(model.a.copy(), model.c.copy(), model.d.copy(), history, model)
    if cfg.checkpoint is not None:
        run.fingerprint = _sgd_fingerprint(cfg, model, init, source, first)
        run.origin = origin
    if cfg.resume:
        _check_fingerprint(cfg.checkpoint, meta["fingerprint"], run.fingerprint)  # type: ignore[arg-type]
        _sgd_restore(run, meta, arrays)
    elif cfg.snapshot_every:
        run.snapshots.append((0, model))
    return run, first, gen


def _batch_pair(batch: Any, k: int | None) -> tuple[Any, Any]:
    """The ``(u, y)`` pair a batch source returned at step ``k`` (``None``: its first call),
    or a ParameterError naming the source (not numpy's unpacking error in the loop)."""
    if isinstance(batch, tuple | list) and len(batch) == 2:
        try:
            ranks = [len(np.shape(v)) for v in batch]
        except ValueError:  # ragged lists
            ranks = [0]
        if min(ranks) >= 1:
            return batch[0], batch[1]
    got = type(batch).__name__
    if isinstance(batch, tuple | list):
        got += f" of {len(batch)} item(s): {', '.join(type(v).__name__ for v in batch[:3])}"
    raise ParameterError(
        f"source: must return a (u, y) pair of arrays when called with a numpy Generator, "
        f"got a {got} {'on its first call' if k is None else f'at step {k}'}; see "
        "sequence_batches"
    )


def _require_batch_length(order: int, shape_u: tuple[int, ...], region: Any) -> None:
    """Refuse up front an order the source's sequences or the region's memory cannot hold:
    coefficients beyond a sequence's length never reach its loss (as :func:`gauss_newton`
    refuses more parameters than samples)."""
    one_record = len(shape_u) == 1 or (len(shape_u) == 2 and shape_u[1] == 1)  # (T,), (T, 1)
    length = shape_u[0] if one_record else shape_u[1]
    if order >= length:
        raise DataError(
            f"order: {order} is larger than the data supports: the source's sequences have "
            f"{length} samples, so at most {length - 1} coefficients affect the loss"
        )
    if region is not None:
        region._require_memory(order, "order")


def _sgd_fingerprint(
    cfg: _SGDConfig, model: CanonicalSystem, init: Any, source: Any, first: Any
) -> dict[str, Any]:
    """What a checkpoint must agree on to be resumed: the problem and every setting."""
    data = getattr(source, "fingerprint", None)
    return {
        "order": model.order,
        "channels": [model.n_inputs, model.n_outputs],
        "batch_shape": [list(np.shape(first[0])), list(np.shape(first[1]))],
        "data": data() if callable(data) else _describe(source),
        "steps": cfg.steps,
        "lr": _describe(cfg.lr),
        "burn_in": cfg.burn_in,
        "region": _describe(cfg.region),
        "clip": cfg.clip,
        "init": _describe(init),
        "learn_d": cfg.learn_d,
        "snapshot_every": cfg.snapshot_every,
        "divergence_factor": cfg.divergence_factor,
        "tol": cfg.tol,
        "objective": _describe(cfg.objective),
    }


def _sgd_mark(run: _SGDRun, cfg: _SGDConfig, k: int, gen: np.random.Generator, source: Any) -> None:
    """Remember the state at the start of step ``k``; write it every ``checkpoint_every`` steps."""
    if k == run.k0:
        states = run.origin
    else:
        states = (gen.bit_generator.state, _source_state(source))
    run.mark = {
        "k": k, "a": run.a, "c": run.c, "d": run.d, "best": run.best_model,
        "best_loss": run.best_loss, "reference": run.reference, "projections": run.projections,
        "snapshots": len(run.snapshots), "generator": states[0], "source_state": states[1],
    }  # fmt: skip
    if k > run.k0 and k % cfg.checkpoint_every == 0:
        _sgd_save(run, cfg)


def _sgd_save(run: _SGDRun, cfg: _SGDConfig) -> None:
    """Write the marked state (the start of a step) to the checkpoint file, atomically."""
    mark = run.mark
    assert mark is not None and cfg.checkpoint is not None
    k, best, snaps = mark["k"], mark["best"], run.snapshots[: mark["snapshots"]]
    meta = {
        key: mark[key]
        for key in ("k", "best_loss", "reference", "projections", "generator", "source_state")
    }
    meta.update(elapsed=time.perf_counter() - run.start, fingerprint=run.fingerprint)
    arrays = {
        "a": mark["a"], "c": mark["c"], "d": mark["d"], "history": run.history[:k],
        "best_a": best.a, "best_c": best.c, "best_d": best.d,
        "snap_steps": np.array([s for s, _ in snaps], dtype=np.int64),
        "snap_a": np.array([m.a for _, m in snaps]).reshape(len(snaps), *best.a.shape),
        "snap_c": np.array([m.c for _, m in snaps]).reshape(len(snaps), *best.c.shape),
        "snap_d": np.array([m.d for _, m in snaps]).reshape(len(snaps), *np.shape(best.d)),
    }  # fmt: skip
    _write_checkpoint(cfg.checkpoint, "projected_sgd", meta, arrays)


def _sgd_restore(run: _SGDRun, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Put a checkpoint's state into a fresh run (already checked to be of this problem)."""
    k = int(meta["k"])
    run.k0 = run.k = k
    run.a, run.c, run.d = arrays["a"], arrays["c"], arrays["d"]
    run.history[:k] = arrays["history"]
    run.best_model = CanonicalSystem(arrays["best_a"], arrays["best_c"], arrays["best_d"])
    run.best_loss, run.reference = float(meta["best_loss"]), meta["reference"]
    run.projections = int(meta["projections"])
    run.snapshots = [
        (int(s), CanonicalSystem(a, c, d))
        for s, a, c, d in zip(
            arrays["snap_steps"], arrays["snap_a"], arrays["snap_c"], arrays["snap_d"], strict=True
        )
    ]
    run.start = time.perf_counter() - float(meta["elapsed"])


def _sgd_loop(
    run: _SGDRun,
    cfg: _SGDConfig,
    source: BatchSource,
    gen: np.random.Generator,
    first: Any,
) -> None:
    """Run the steps with optional progress; on Ctrl-C save the checkpoint, then re-raise."""
    desc = "projected SGD" if cfg.region is not None else "SGD"
    bar = _Progress(cfg.progress, cfg.steps, desc, "step", cfg.steps // 50, initial=run.k0)
    try:
        with warnings.catch_warnings():  # divergence is detected and reported once, below
            warnings.filterwarnings("ignore", "loss: ", UnstableSystemWarning)
            warnings.filterwarnings("ignore", "loss: ", RuntimeWarning)
            _sgd_steps(run, cfg, source, gen, first, bar)
    except KeyboardInterrupt as exc:
        if cfg.checkpoint is not None and run.mark is not None:
            _sgd_save(run, cfg)
            exc.add_note(
                f"checkpoint saved to {cfg.checkpoint} at step {run.mark['k']}; "
                "resume=True continues from it"
            )
        raise
    finally:
        bar.close()


def _sgd_steps(
    run: _SGDRun,
    cfg: _SGDConfig,
    source: BatchSource,
    gen: np.random.Generator,
    first: Any,
    bar: _Progress,
) -> None:
    """Steps k0..steps: evaluate, record, stop on divergence or ``tol``, else update."""
    for k in range(run.k0, cfg.steps + 1):
        run.k = k
        if cfg.checkpoint is not None:
            _sgd_mark(run, cfg, k, gen, source)
        ub, yb = first if k == run.k0 else _batch_pair(source(gen), k)
        current = CanonicalSystem(run.a, run.c, run.d)
        seq = _sequences_flag(ub, current.is_siso, None, warn=False)  # batches by contract
        if k == cfg.steps and cfg.objective is loss_and_grad:  # final evaluation only
            value, grad = loss(current, ub, yb, cfg.burn_in, sequences=seq), None
        elif cfg.objective is loss_and_grad:
            value, grad = loss_and_grad(current, ub, yb, cfg.burn_in, sequences=seq)
        else:
            value, grad = cfg.objective(current, ub, yb, cfg.burn_in)
        run.history[k] = value
        if _loss_diverged(run, cfg, k, value):
            return
        if value < run.best_loss:
            run.best_model, run.best_loss = current, value
        if cfg.callback is not None:
            cfg.callback(k, current, value)
        if k == cfg.steps:
            return
        if cfg.tol is not None and value <= cfg.tol:
            run.stop_reason, run.message = "tol", f"loss {value:.3g} <= tol {cfg.tol:g} at step {k}"
            return
        if not _sgd_update(run, cfg, k, grad, current):
            return
        if cfg.snapshot_every and (k + 1) % cfg.snapshot_every == 0:
            run.snapshots.append((k + 1, CanonicalSystem(run.a, run.c, run.d)))
        if bar.mode is not None:
            bar.update(k + 1, value)


def _loss_diverged(run: _SGDRun, cfg: _SGDConfig, k: int, value: float) -> bool:
    """Record divergence when the loss is non-finite or ``divergence_factor`` times the first."""
    if run.reference is None and math.isfinite(value):
        run.reference = max(value, 1e-300)
    if math.isfinite(value) and not (
        run.reference and value > cfg.divergence_factor * run.reference
    ):
        return False
    run.diverged, run.stop_reason = True, "diverged"
    run.message = f"diverged at step {k}: loss {value:.3g}" + (
        "" if math.isfinite(value) else " is not finite"
    )
    return True


def _sgd_update(run: _SGDRun, cfg: _SGDConfig, k: int, grad: Any, current: CanonicalSystem) -> bool:
    """One (clipped) gradient step and projection; ``False`` when the parameters blew up."""
    eta = _lr_at(cfg.lr, k)
    ga, gc = grad.a, grad.c
    gd = np.asarray(grad.d) if cfg.learn_d else np.zeros_like(run.d)
    if cfg.clip is not None:
        norm = math.sqrt(float(np.sum(ga**2) + np.sum(gc**2) + np.sum(gd**2)))
        if norm > cfg.clip:
            ga, gc, gd = ga * (cfg.clip / norm), gc * (cfg.clip / norm), gd * (cfg.clip / norm)
    a, c, d = run.a - eta * ga, run.c - eta * gc, run.d - eta * gd
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(c)) and np.all(np.isfinite(d))):
        run.diverged, run.stop_reason = True, "diverged"
        run.message = f"diverged at step {k + 1}: parameters became non-finite"
        run.a, run.c, run.d = current.a, current.c, current.d
        return False
    if cfg.region is not None and not cfg.region.contains(a):
        a = cfg.region.project(a)
        run.projections += 1
    run.a, run.c, run.d = a, c, d
    return True


def _sgd_result(run: _SGDRun, cfg: _SGDConfig) -> TrainResult:
    """Package the run, diagnosing a finished run's loss history."""
    k = run.k
    if run.diverged:
        final = _last_finite(run.a, run.c, run.d, run.best_model)
        history = run.history[:k]
        run.message += (
            "; lower the learning rate, clip the gradient or keep the region (the returned "
            "model is the last finite iterate)"
        )
    else:
        final = CanonicalSystem(run.a, run.c, run.d)
        history = run.history[: k + 1]
    converged = not run.diverged
    if run.stop_reason == "max_steps":
        found = _diagnose(history)
        if found is not None:
            run.stop_reason, run.message = found
            converged = False
        elif cfg.tol is not None:
            run.message = f"the loss {history[-1]:.3g} did not reach tol {cfg.tol:g} in {k} steps"
            converged = False
        else:
            run.message = f"ran all {k} steps"
    return TrainResult(
        model=final,
        best_model=run.best_model,
        best_loss=run.best_loss,
        loss_history=history,
        snapshots=run.snapshots,
        stop_reason=run.stop_reason,
        converged=converged,
        message=run.message,
        n_steps=k,
        diverged=run.diverged,
        elapsed=time.perf_counter() - run.start,
        projections=run.projections,
    )


_DIAGNOSE_MIN = 60  # fewest steps whose loss history is diagnosed


def _diagnose(history: np.ndarray) -> tuple[str, str] | None:
    """``('oscillation' | 'stagnation', message)`` for a run that did not settle, else ``None``.

    Over the last ``w = max(30, len / 10)`` losses: an oscillation alternates up and
    down at (nearly) every step with a swing above 1 % of the loss that does not die
    out; a stagnation ends with a median loss above twice the best median of any
    earlier window of ``w`` steps. Medians make both robust to minibatch noise.
    """
    h = np.asarray(history, dtype=float)
    if h.size < _DIAGNOSE_MIN or not np.all(np.isfinite(h)):
        return None
    w = max(30, h.size // 10)
    tail = h[-w:]
    level = float(np.median(tail))
    floor = 1e-6 * float(np.max(np.abs(h[: max(1, w // 3)])))  # rounding-level changes
    steps = np.diff(tail)
    swing = np.abs(steps)
    alternating = float(np.mean(steps[1:] * steps[:-1] < 0))
    half = swing.size // 2
    if (
        alternating >= 0.9
        and np.median(swing) > max(1e-2 * level, floor)
        and np.median(swing[half:]) > 0.5 * np.median(swing[:half])
    ):
        lo, hi = np.percentile(tail, [10, 90])
        return "oscillation", (
            f"the loss oscillates between about {lo:.3g} and {hi:.3g} over the last {w} steps "
            "instead of settling; lower the learning rate (or clip the gradient)"
        )
    blocks = h[: h.size // w * w].reshape(-1, w)
    best = float(np.min(np.median(blocks, axis=1)))
    if level > 2.0 * best and level - best > floor:
        return "stagnation", (
            f"the loss over the last {w} steps (median {level:.3g}) stays far above the best "
            f"reached earlier ({best:.3g}); lower the learning rate or decay it"
        )
    return None


def _warn_unconverged(result: TrainResult) -> None:
    """Say so when a run did not converge: a DivergenceWarning or a ConvergenceWarning,
    pointing at the first caller outside learnlds (the user's line)."""
    if result.converged:
        return
    category = DivergenceWarning if result.diverged else ConvergenceWarning
    warnings.warn(
        f"training did not converge: {result.message}", category, stacklevel=user_stacklevel()
    )


def _last_finite(a: Any, c: Any, d: Any, fallback: CanonicalSystem) -> CanonicalSystem:
    try:
        return CanonicalSystem(a, c, d)
    except ValueError:
        return fallback


# --------------------------------------------------------------------------- progress
def _progress_mode(progress: Any) -> str | None:
    """``None`` (off), ``'bar'`` (tqdm) or ``'lines'`` (one line to stderr every so often).

    ``True`` means a bar when stderr is a terminal and ``tqdm`` is installed, else lines.
    """
    if progress is None or progress is False:
        return None
    if progress is True:
        tty = getattr(sys.stderr, "isatty", lambda: False)()
        progress = "bar" if tty else "lines"
    mode = check_choice(progress, "progress", ("bar", "lines"))
    if mode == "bar":
        try:
            import tqdm  # noqa: F401
        except ImportError:
            return "lines"
    return mode


class _Progress:
    """Progress of a run: a tqdm bar, or a line to stderr every ``every`` units of work."""

    def __init__(
        self, mode: str | None, total: int, desc: str, unit: str, every: int, initial: int = 0
    ) -> None:
        self.mode, self.total, self.desc, self.unit = mode, total, desc, unit
        self.every, self.start, self.bar = max(1, every), time.perf_counter(), None
        if mode == "bar":
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, initial=initial, desc=desc, unit=unit, leave=False)

    def update(self, done: int, value: float, extra: str = "") -> None:
        """Report ``done`` units finished, the current loss ``value`` and any ``extra`` words."""
        if self.bar is not None:
            self.bar.update(done - self.bar.n)
            if done % 10 == 0 or done == self.total:
                self.bar.set_postfix(loss=f"{value:.4g}")
        elif self.mode == "lines" and (done % self.every == 0 or done == self.total):
            elapsed = time.perf_counter() - self.start
            print(
                f"{self.desc}: {self.unit} {done}/{self.total} loss {value:.6g}{extra} "
                f"({elapsed:.1f} s)",
                file=sys.stderr,
                flush=True,
            )

    def close(self) -> None:
        """Close the bar (a no-op for lines)."""
        if self.bar is not None:
            self.bar.close()


# --------------------------------------------------------------------------- cost estimate
_COST_LIMIT_S = 3600.0  # runs estimated above this are refused unless forced
_SLOWEST_S_PER_OP = 1e-8  # no machine is slower: below the limit at this rate, skip measuring
_RATES: list[float] = []  # measured (seconds per filter tap-sample, per matrix multiply-add)


def _machine_rates() -> tuple[float, float]:
    """Seconds per filter tap and sample (scipy lfilter) and per multiply-add, measured once."""
    if not _RATES:
        sig = np.random.default_rng(0).normal(size=(1, 100_000))
        mat = np.random.default_rng(0).normal(size=(10_000, 64))
        best = [math.inf, math.inf]
        for _ in range(2):
            t0 = time.perf_counter()
            signal.lfilter([1.0], np.r_[1.0, np.full(16, 1e-3)], sig, axis=1)
            t1 = time.perf_counter()
            _ = mat.T @ mat
            t2 = time.perf_counter()
            best = [
                min(best[0], (t1 - t0) / (20 * sig.size)),
                min(best[1], (t2 - t1) / mat.size / 64),
            ]
        _RATES[:] = best
    return _RATES[0], _RATES[1]


def _cost_ops(
    method: str, order: int, samples: int, m: int, p: int, learn_d: bool
) -> tuple[float, float]:
    """``(filter taps x samples, multiply-adds)`` of one iteration (one step for SGD)."""
    taps = samples * (order + 4) * (2 * m + 2 * p)  # forward filters, gradient filters, a trial
    if method == "projected_sgd":
        return taps, samples * order * m * p * 2.0
    q = order * m + (m if learn_d else 0)
    dim = order + p * q
    # the streaming kernels: filters for s (per input) and w (per output), the residual
    # per output, then one syrk per output of the rows [-w lags, s lags, u, r]
    taps = samples * (order + 1) * (2 * m + 2 * p)
    flops = samples * p * (order + q + 1) ** 2 / 2.0 + dim**3 / 3.0
    return taps, flops


def estimate_cost(
    method: Literal["gauss_newton", "projected_sgd"], *, order: int, n_samples: int,
    iterations: int, n_inputs: int = 1, n_outputs: int = 1, learn_d: bool = True,
) -> float:  # fmt: skip
    """Estimated seconds of a training run, from operation counts and this machine's speed.

    The speed of an ``lfilter`` pass and of a matrix product are measured once per
    process (a few milliseconds); the count follows the solver's work per iteration
    (filter passes of ``order`` taps over every sample, and for Gauss-Newton the
    normal equations). It is an order of magnitude, meant to catch runs of hours.

    Parameters
    ----------
    method : {'gauss_newton', 'projected_sgd'}
        The solver.
    order : int
        Model order.
    n_samples : int
        Samples per iteration: all of them (sequences x length) for Gauss-Newton, one
        batch (batch size x length) for projected SGD.
    iterations : int
        Iterations (``max_iter``) or steps.
    n_inputs, n_outputs : int, default 1
        Channels.
    learn_d : bool, default True
        Whether ``d`` is learned.

    Returns
    -------
    float
        Estimated seconds.

    Examples
    --------
    >>> small = estimate_cost("gauss_newton", order=2, n_samples=1000, iterations=20)
    >>> huge = estimate_cost("gauss_newton", order=2000, n_samples=10**7, iterations=100)
    >>> small < 1.0 < 3600.0 < huge
    True
    """
    method = check_choice(method, "method", ("gauss_newton", "projected_sgd"))
    taps, flops = _cost_ops(
        method,
        check_int(order, "order", low=1),  # type: ignore[arg-type]
        check_int(n_samples, "n_samples", low=1),  # type: ignore[arg-type]
        check_int(n_inputs, "n_inputs", low=1),  # type: ignore[arg-type]
        check_int(n_outputs, "n_outputs", low=1),  # type: ignore[arg-type]
        check_bool(learn_d, "learn_d"),
    )
    iters = check_int(iterations, "iterations", low=0)
    per_tap, per_flop = _machine_rates()
    return float(iters * (taps * per_tap + flops * per_flop))


def _refuse_expensive(
    method: str, order: int, samples: int, iterations: int, channels: tuple[int, int, bool],
    force: bool,
) -> None:  # fmt: skip
    """Raise :class:`TooExpensiveError` for a run estimated above an hour, unless forced."""
    m, p, learn_d = channels
    if force or iterations == 0:
        return
    taps, flops = _cost_ops(method, order, samples, m, p, learn_d)
    if iterations * (taps + flops) * _SLOWEST_S_PER_OP < _COST_LIMIT_S:
        return  # certainly short: no need to measure the machine
    seconds = estimate_cost(
        method, order=order, n_samples=samples, iterations=iterations,  # type: ignore[arg-type]
        n_inputs=m, n_outputs=p, learn_d=learn_d,
    )  # fmt: skip
    if seconds > _COST_LIMIT_S:
        unit = "iterations" if method == "gauss_newton" else "steps"
        raise TooExpensiveError(
            f"{method}: estimated to take about {seconds / 3600:.1f} hours (order {order}, "
            f"{samples} samples per {unit[:-1]}, up to {iterations} {unit}); lower the order, "
            f"the data or the {unit}, or pass force=True to run anyway"
        )


# --------------------------------------------------------------------------- checkpoints
_CHECKPOINT_FORMAT = "learnlds-checkpoint"
_CHECKPOINT_VERSION = 1


def _to_json(obj: Any) -> Any:
    """Make a generator state (nested dicts, big ints, arrays) JSON-able, losslessly."""
    if isinstance(obj, dict):
        return {str(k): _to_json(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_to_json(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return {"__ndarray__": obj.tolist(), "dtype": obj.dtype.str}
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def _from_json(obj: Any) -> Any:
    """The inverse of :func:`_to_json`."""
    if isinstance(obj, dict):
        if "__ndarray__" in obj:
            return np.asarray(obj["__ndarray__"], dtype=np.dtype(obj["dtype"]))
        return {k: _from_json(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_from_json(v) for v in obj]
    return obj


def _write_checkpoint(path: Path, kind: str, meta: dict[str, Any], arrays: dict[str, Any]) -> None:
    """Write ``meta`` (JSON) and ``arrays`` to an ``.npz`` file, atomically."""
    header = {"format": _CHECKPOINT_FORMAT, "version": _CHECKPOINT_VERSION, "kind": kind}
    text = json.dumps(_to_json({**header, **meta}))
    with atomic_open(path, "wb") as fh:
        np.savez(fh, __meta__=np.array(text), **{k: np.asarray(v) for k, v in arrays.items()})


def _read_checkpoint(path: Path, kind: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """``(meta, arrays)`` of a checkpoint written by :func:`_write_checkpoint` for ``kind``."""
    if not path.is_file():
        raise ParameterError(
            f"resume: no checkpoint at {path}; run without resume to start from the beginning"
        )
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {name: z[name] for name in z.files}
        meta = _from_json(json.loads(str(arrays.pop("__meta__"))))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise FileFormatError(f"checkpoint: {path} is not a learnlds checkpoint ({exc})") from exc
    if not isinstance(meta, dict) or meta.get("format") != _CHECKPOINT_FORMAT:
        raise FileFormatError(f"checkpoint: {path} is not a learnlds checkpoint")
    if meta.get("version") != _CHECKPOINT_VERSION or meta.get("kind") != kind:
        raise FileFormatError(
            f"checkpoint: {path} holds a {meta.get('kind')!r} checkpoint of version "
            f"{meta.get('version')}, not a {kind!r} one of version {_CHECKPOINT_VERSION}"
        )
    return meta, arrays


def _check_fingerprint(path: Path, saved: dict[str, Any], now: dict[str, Any]) -> None:
    """Refuse to resume a checkpoint of another problem, naming what differs."""
    now = _to_json(now)
    diff = [
        f"{key} {saved.get(key)!r} (now {now.get(key)!r})"
        for key in sorted(set(saved) | set(now))
        if saved.get(key) != now.get(key)
    ]
    if diff:
        raise ParameterError(
            f"resume: the checkpoint {path} belongs to a different problem: {', '.join(diff)}; "
            "resume with the same data and settings, or start afresh without resume"
        )


def _checkpoint_settings(
    checkpoint: Any, checkpoint_every: Any, resume: Any
) -> tuple[Path | None, int, bool]:
    """Validated ``(path or None, every, resume)``; the folder is checked before any work."""
    every = check_int(checkpoint_every, "checkpoint_every", low=1)
    resume = check_bool(resume, "resume")
    if checkpoint is None:
        if resume:
            raise ParameterError("resume: needs a checkpoint path (checkpoint=...)")
        return None, every, False  # type: ignore[return-value]
    if not isinstance(checkpoint, str | os.PathLike):
        raise ParameterError(f"checkpoint: must be a path or None, got {checkpoint!r}")
    return check_output_path(checkpoint, "checkpoint"), every, resume  # type: ignore[return-value]


def _restore_generator(gen: np.random.Generator, state: Any, path: Path) -> None:
    """Put the saved bit-generator state into ``gen``, or say why it cannot be."""
    try:
        gen.bit_generator.state = state
    except (ValueError, TypeError, KeyError) as exc:
        raise ParameterError(
            f"random_state: cannot take the generator state saved in {path} ({exc}); "
            "resume with the same kind of random_state"
        ) from exc


# --------------------------------------------------------------------------- fast solver
def _c3(model: CanonicalSystem) -> tuple[np.ndarray, np.ndarray]:
    """``c`` as ``(n, p, m)`` and ``d`` as ``(p, m)`` whatever the model's shape."""
    if model.is_siso:
        return model.c[:, None, None], np.array([[float(model.d)]])
    return model.c, model.d


class ParamLayout:
    """Packing of ``(a, c, d)`` into the solver's vector ``[a, (c[:, o, :], d[o, :]) for o]``.

    A least-squares *problem* for :func:`levenberg_marquardt` is a ``ParamLayout``
    with ``count`` (samples scored) and two methods of ``(a, c3, d3)``: ``sse`` and
    ``normal_equations`` returning ``(sse, J^T J, J^T r)``. Both are sums over
    sequences, which is what lets :mod:`learnlds.distributed` compute them chunk by
    chunk.

    Parameters
    ----------
    order : int
        Model order ``n``.
    n_inputs, n_outputs : int
        Channels ``m`` and ``p``.
    learn_d : bool
        Whether ``d`` is among the parameters.

    Attributes
    ----------
    n_params : int
        Length of the parameter vector.

    Raises
    ------
    DataError
        From :meth:`require_samples`, when the data cannot support the order.

    Examples
    --------
    >>> layout = ParamLayout(2, 1, 1, learn_d=True)
    >>> layout.n_params, layout.pack(np.zeros(2), np.ones((2, 1, 1)), np.eye(1))
    (5, array([0., 0., 1., 1., 1.]))
    """

    def __init__(self, order: int, n_inputs: int, n_outputs: int, learn_d: bool) -> None:
        self.order, self.n_inputs, self.n_outputs = int(order), int(n_inputs), int(n_outputs)
        self.learn_d = bool(learn_d)

    @property
    def n_params(self) -> int:
        """Length of the parameter vector."""
        n, m = self.order, self.n_inputs
        return n + self.n_outputs * (n * m + (m if self.learn_d else 0))

    def require_samples(self, samples: int, burn_in: int) -> None:
        """Refuse an order the data cannot support (no more scalar samples than parameters).

        Parameters
        ----------
        samples : int
            Scalar residuals scored (sequences x scored samples x outputs).
        burn_in : int
            The burn-in used, for the message.

        Raises
        ------
        DataError
            ``samples <= n_params``.

        Examples
        --------
        >>> ParamLayout(2, 1, 1, True).require_samples(100, 0)
        """
        if samples <= self.n_params:
            raise DataError(
                f"order: {self.order} is larger than the data supports: {self.n_params} "
                f"parameters from {samples} samples after a burn-in of {burn_in}"
            )

    def unpack(
        self, theta: np.ndarray, d_fixed: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(a, c3, d3)`` from the vector (``d_fixed`` when ``d`` is not learned).

        Parameters
        ----------
        theta : numpy.ndarray
            The parameter vector, ``(n_params,)``.
        d_fixed : numpy.ndarray
            ``d3`` to return when ``learn_d`` is ``False``.

        Returns
        -------
        a, c3, d3 : numpy.ndarray
            ``(n,)``, ``(n, p, m)`` and ``(p, m)``.

        Examples
        --------
        >>> a, c3, d3 = ParamLayout(1, 1, 1, True).unpack(np.array([0.5, 2.0, 3.0]), None)
        >>> a, c3.shape, d3
        (array([0.5]), (1, 1, 1), array([[3.]]))
        """
        n, m, p = self.order, self.n_inputs, self.n_outputs
        q = n * m + (m if self.learn_d else 0)
        a = theta[:n]
        blocks = theta[n:].reshape(p, q)
        c3 = blocks[:, : n * m].reshape(p, n, m).transpose(1, 0, 2)
        d3 = blocks[:, n * m :] if self.learn_d else d_fixed
        return a, c3, d3

    def pack(self, a: np.ndarray, c3: np.ndarray, d3: np.ndarray) -> np.ndarray:
        """The parameter vector of ``(a, c3, d3)``, the inverse of :meth:`unpack`.

        Parameters
        ----------
        a, c3, d3 : numpy.ndarray
            ``(n,)``, ``(n, p, m)`` and ``(p, m)``.

        Returns
        -------
        numpy.ndarray
            ``(n_params,)``.

        Examples
        --------
        >>> ParamLayout(1, 1, 1, False).pack(np.array([0.5]), np.ones((1, 1, 1)), None)
        array([0.5, 1. ])
        """
        parts = [a]
        for o in range(self.n_outputs):
            parts.append(c3[:, o, :].ravel())
            if self.learn_d:
                parts.append(d3[o])
        return np.concatenate(parts)


class LeastSquaresProblem(ParamLayout):
    """The output-error least-squares problem with a common denominator, all data at once.

    Takes canonical arrays (:func:`learnlds._boundary.as_io`) and trusts them.

    Parameters
    ----------
    u, y : numpy.ndarray
        Inputs ``(N, T, m)`` and outputs ``(N, T, p)``.
    burn_in : int
        Samples of each sequence left out of the loss, ``0 <= burn_in < T``.
    order : int
        Model order.
    learn_d : bool
        Whether ``d`` is a parameter.

    Attributes
    ----------
    count : int
        Samples scored, ``N (T - burn_in)`` (the loss is the sum of squares over it).

    Examples
    --------
    >>> u = np.random.default_rng(0).normal(size=(1, 50, 1))
    >>> prob = LeastSquaresProblem(u, 0.5 * u, 0, 1, True)
    >>> prob.sse(np.zeros(1), np.zeros((1, 1, 1)), np.array([[0.5]]))
    0.0
    """

    def __init__(
        self, u: np.ndarray, y: np.ndarray, burn_in: int, order: int, learn_d: bool
    ) -> None:
        super().__init__(order, u.shape[2], y.shape[2], learn_d)
        self.u, self.y, self.burn_in = u, y, int(burn_in)
        self.N, self.T = u.shape[:2]
        self.count = self.N * (self.T - self.burn_in)  # as risk.loss: squared norms over outputs

    def predict_parts(
        self, a: np.ndarray, c3: np.ndarray, d3: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Lagged filtered inputs ``S``, strictly proper output ``z`` and prediction ``yhat``.

        Parameters
        ----------
        a, c3, d3 : numpy.ndarray
            ``(n,)``, ``(n, p, m)`` and ``(p, m)``.

        Returns
        -------
        S, z, yhat : numpy.ndarray
            See :func:`learnlds.risk.mimo_parts`.

        Examples
        --------
        >>> prob = LeastSquaresProblem(np.ones((1, 3, 1)), np.ones((1, 3, 1)), 0, 1, True)
        >>> prob.predict_parts(np.zeros(1), np.ones((1, 1, 1)), np.zeros((1, 1)))[2].ravel()
        array([0., 1., 1.])
        """
        return _mimo_parts(a, c3, d3, self.u)

    def sse(self, a: np.ndarray, c3: np.ndarray, d3: np.ndarray) -> float:
        """Sum of squared residuals after the burn-in.

        Streams the data block by block (see :meth:`normal_equations`).

        Parameters
        ----------
        a, c3, d3 : numpy.ndarray
            ``(n,)``, ``(n, p, m)`` and ``(p, m)``.

        Returns
        -------
        float
            ``loss * count``.

        Examples
        --------
        >>> prob = LeastSquaresProblem(np.ones((1, 4, 1)), np.zeros((1, 4, 1)), 0, 1, True)
        >>> prob.sse(np.zeros(1), np.zeros((1, 1, 1)), np.ones((1, 1)))
        4.0
        """
        if not _kernels.HAVE_NUMBA:  # pragma: no cover - the scipy reference
            _, _, yhat = self.predict_parts(a, c3, d3)
            r = (yhat - self.y)[:, self.burn_in :]
            return float(np.sum(r * r))
        a, c3, d3 = _f64(a), _f64(c3), _f64(d3)
        sh = np.zeros((self.N, self.order, self.n_inputs))
        total, b = 0.0, self.burn_in
        siso = self.n_inputs == 1 and self.n_outputs == 1
        c, d, sh1 = c3[:, 0, 0].copy(), float(d3[0, 0]), sh[..., 0]
        for g0, t0, ub, yb in self.blocks():
            g = slice(g0, g0 + ub.shape[0])
            if siso:
                total += _kernels.sse_block_siso(a, c, d, ub[..., 0], yb[..., 0], t0, b, sh1[g])
            else:
                total += _kernels.sse_block(a, c3, d3, ub, yb, t0, b, sh[g])
        return float(total)

    def block_shape(self) -> tuple[int, int]:
        """``(G, L)``: sequences and samples per block, ``G L`` about :data:`STREAM_BLOCK`.

        Runs of at least :data:`MIN_RUN` samples (or whole sequences) keep the
        per-block overhead small when there are many sequences.

        Returns
        -------
        G, L : int
            Sequences per block and samples per block.

        Examples
        --------
        >>> data = np.ones((500, 40, 1))
        >>> LeastSquaresProblem(data, data, 0, 1, True).block_shape()
        (204, 40)
        """
        L = min(self.T, max(STREAM_BLOCK // self.N, MIN_RUN))
        return min(self.N, max(1, STREAM_BLOCK // L)), L

    def blocks(self) -> Iterator[tuple[int, int, np.ndarray, np.ndarray]]:
        """``(g0, t0, u block, y block)``: samples ``t0 .. t0 + L - 1`` of sequences ``g0 ..``.

        A block holds about :data:`STREAM_BLOCK` samples in all (:meth:`block_shape`),
        so memory-mapped data are read a block at a time and never copied whole. For
        each group of sequences the blocks come in time order (the kernels carry the
        filter states from one to the next).

        Yields
        ------
        g0, t0 : int
            First sequence and first sample of the block.
        ub, yb : numpy.ndarray
            ``(G, L, m)`` and ``(G, L, p)``, float64.

        Examples
        --------
        >>> prob = LeastSquaresProblem(np.ones((1, 5, 1)), np.ones((1, 5, 1)), 0, 1, True)
        >>> [(g0, t0) for g0, t0, _, _ in prob.blocks()]
        [(0, 0)]
        """
        G, L = self.block_shape()
        for g0 in range(0, self.N, G):
            for t0 in range(0, self.T, L):
                ub = np.ascontiguousarray(self.u[g0 : g0 + G, t0 : t0 + L], dtype=np.float64)
                yb = np.ascontiguousarray(self.y[g0 : g0 + G, t0 : t0 + L], dtype=np.float64)
                yield g0, t0, ub, yb

    def normal_equations(
        self, a: np.ndarray, c3: np.ndarray, d3: np.ndarray
    ) -> tuple[float, np.ndarray, np.ndarray]:
        """``(sse, J^T J, J^T r)`` for parameters ``[a, (c[:, o, :], d[o, :]) for o]``.

        One compiled pass per block of samples (:func:`learnlds._kernels.jacobian_block`)
        writes the block's Jacobian rows, carrying the filter states to the next
        block; BLAS accumulates ``J^T J`` and ``J^T r``. Extra memory is
        ``O(block x parameters)`` whatever the length of the data.

        Parameters
        ----------
        a, c3, d3 : numpy.ndarray
            ``(n,)``, ``(n, p, m)`` and ``(p, m)``.

        Returns
        -------
        sse : float
            Sum of squared residuals.
        JtJ, Jtr : numpy.ndarray
            ``(n_params, n_params)`` and ``(n_params,)``.

        Examples
        --------
        >>> prob = LeastSquaresProblem(np.ones((1, 4, 1)), np.zeros((1, 4, 1)), 0, 1, True)
        >>> sse, JtJ, Jtr = prob.normal_equations(np.zeros(1), np.zeros((1, 1, 1)), np.ones((1, 1)))
        >>> sse, JtJ.shape, Jtr
        (4.0, (3, 3), array([0., 3., 4.]))
        """
        if not _kernels.HAVE_NUMBA:  # pragma: no cover - the scipy reference
            return dense_normal_equations(self, a, c3, d3)
        n, m, p = self.order, self.n_inputs, self.n_outputs
        q = n * m + (m if self.learn_d else 0)
        a, c3, d3 = _f64(a), _f64(c3), _f64(d3)
        sh, wh = np.zeros((self.N, n, m)), np.zeros((self.N, n, p))
        rows_max = int(np.prod(self.block_shape()))
        J = np.empty((p, rows_max, n + q + 1))  # Jacobian rows, the residual last
        G = np.zeros((p, n + q + 1, n + q + 1))
        sse, siso = 0.0, m == 1 and p == 1
        c, d, sh1, wh1 = c3[:, 0, 0].copy(), float(d3[0, 0]), sh[..., 0], wh[..., 0]
        for g0, t0, ub, yb in self.blocks():
            g, b = slice(g0, g0 + ub.shape[0]), self.burn_in
            if siso:
                rows, part = _kernels.jacobian_block_siso(
                    a, c, d, ub[..., 0], yb[..., 0], t0, b, sh1[g], wh1[g], J[0]
                )
            else:
                rows, part = _kernels.jacobian_block(a, c3, d3, ub, yb, t0, b, sh[g], wh[g], J)
            sse += part
            for o in range(p):
                Jo = J[o, :rows]
                G[o] += Jo.T @ Jo  # one syrk: [J r]^T [J r] holds J^T J and J^T r
        g = G[:, :-1, -1]
        G = G[:, :-1, :-1]
        return float(sse), *_assemble(G, g, n, q)


#: Fewest samples of a sequence per block (when sequences are longer).
MIN_RUN = 1024


def _f64(arr: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(arr, dtype=np.float64)


def _assemble(G: np.ndarray, g: np.ndarray, n: int, q: int) -> tuple[np.ndarray, np.ndarray]:
    """``J^T J`` and ``J^T r`` from the per-output Gram blocks of rows ``[-w_o lags, F]``."""
    p = G.shape[0]
    JtJ = np.zeros((n + p * q, n + p * q))
    Jtr = np.zeros(n + p * q)
    for o in range(p):
        blk = slice(n + o * q, n + (o + 1) * q)
        JtJ[:n, :n] += G[o, :n, :n]
        JtJ[:n, blk] = G[o, :n, n:]
        JtJ[blk, :n] = G[o, n:, :n]
        JtJ[blk, blk] = G[o, n:, n:]
        Jtr[:n] += g[o, :n]
        Jtr[blk] = g[o, n:]
    return JtJ, Jtr


def dense_normal_equations(
    problem: LeastSquaresProblem, a: np.ndarray, c3: np.ndarray, d3: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """The in-memory reference of :meth:`LeastSquaresProblem.normal_equations` (scipy filters).

    Holds the whole Jacobian (about ``n_params`` values per sample): the check the
    streaming kernel is tested against, and the path without numba.

    Parameters
    ----------
    problem : LeastSquaresProblem
        The data and layout.
    a, c3, d3 : numpy.ndarray
        ``(n,)``, ``(n, p, m)`` and ``(p, m)``.

    Returns
    -------
    sse : float
        Sum of squared residuals.
    JtJ, Jtr : numpy.ndarray
        ``(n_params, n_params)`` and ``(n_params,)``.

    Examples
    --------
    >>> prob = LeastSquaresProblem(np.ones((1, 4, 1)), np.zeros((1, 4, 1)), 0, 1, True)
    >>> dense_normal_equations(prob, np.zeros(1), np.zeros((1, 1, 1)), np.ones((1, 1)))[2]
    array([0., 3., 4.])
    """
    n, m, p, b = problem.order, problem.n_inputs, problem.n_outputs, problem.burn_in
    N, T = problem.N, problem.T
    u = np.asarray(problem.u, dtype=np.float64)
    S, z, yhat = _mimo_parts(a, c3, d3, u)
    w = signal.lfilter([1.0], np.concatenate(([1.0], a)), z, axis=1)
    W = _lagged(w, np.arange(1, n + 1))[:, b:]  # W[:, t, k, o] = w_o at t - k - 1
    r = (yhat - problem.y)[:, b:]  # (N, T-b, p)
    feats = [S[:, b:].reshape(N, T - b, n * m)]
    if problem.learn_d:
        feats.append(u[:, b:])
    F = np.concatenate(feats, axis=2).reshape(-1, n * m + (m if problem.learn_d else 0))
    q = F.shape[1]
    G, g = np.zeros((p, n + q, n + q)), np.zeros((p, n + q))
    for o in range(p):  # loop over outputs, not time
        Jo = np.concatenate((-W[..., o].reshape(-1, n), F), axis=1)
        ro = r[..., o].ravel()
        G[o], g[o] = Jo.T @ Jo, Jo.T @ ro
    return float(np.sum(r * r)), *_assemble(G, g, n, q)


def _to_model(a: np.ndarray, c3: np.ndarray, d3: np.ndarray, siso: bool) -> CanonicalSystem:
    if siso:
        return CanonicalSystem(a, c3[:, 0, 0], float(d3[0, 0]))
    return CanonicalSystem(a, c3, d3)


def _solver_settings(max_iter: Any, tol: Any, stability_margin: Any) -> tuple[int, float, float]:
    """Validated ``(max_iter, tol, stability_margin)`` of the Levenberg-Marquardt solvers."""
    return (
        check_int(max_iter, "max_iter", low=1),  # type: ignore[return-value]
        check_float(tol, "tol", low=0.0),
        check_float(stability_margin, "stability_margin", low=0.0, high=1.0, high_open=True),
    )


def _excited_io(u: Any, y: Any, sequences: Any) -> IOArrays:
    """:func:`streaming_io` of a fit's data, refusing missing outputs and an input column
    that is zero throughout: it moves no output, so the fit would return its start (the
    zero model) as if converged. A constant non-zero input is a step from zero state,
    which does excite the model, and is accepted."""
    io = streaming_io(u, y, sequences=sequences)  # refuses y=None by name
    if isinstance(io.u, ScaledRecord):  # the estimator's record: it refused constant inputs
        return io
    k = _dead_input(io.u)
    if k is None:
        return io
    raise DataError(
        f"u: input column {k} (0-based) is zero throughout; it does not excite the system, "
        "so the data do not determine the model"
    )


@renamed_parameters(x="u")
def gauss_newton(
    u: Any, y: Any, *, order: int | None = None, init: str | CanonicalSystem = "zero",
    burn_in: int | None = 0, region: PacmanRegion | str | None = "pacman",
    max_iter: int = 100, tol: float = 1e-10, learn_d: bool = True,
    stability_margin: float = 1e-6, coarse: int | None = 20_000, sequences: bool = False,
    progress: bool | Literal["bar", "lines"] = False,
    checkpoint: str | os.PathLike[str] | None = None, checkpoint_every: int = 1,
    resume: bool = False, force: bool = False,
) -> TrainResult:  # fmt: skip
    """Fast full-data solver: projected Levenberg-Marquardt on the exact filter Jacobian.

    The burn-in loss of :func:`projected_sgd` on all the data (several channels: a
    common denominator, SPEC section 6). Each step solves ``(J^T J + mu diag) delta =
    -J^T r``, projects ``a`` onto ``region`` and is kept if the loss decreases.

    Parameters
    ----------
    u, y : array_like
        Inputs and outputs: one record ``(T,)`` / ``(T, m)``, or with
        ``sequences=True`` ``(N, T)`` / ``(N, T, m)`` (``x`` is a deprecated alias of ``u``).
    order, init : int, {'zero', 'identity'} or CanonicalSystem
        Model order (required unless ``init`` is a system); the start (:func:`initial_model`).
    burn_in : int or None, default 0
        Samples of each sequence left out of the loss; ``None``: ``T // 4``.
    region : PacmanRegion, 'pacman' or None, default 'pacman'
        Where ``a`` is kept.
    max_iter, tol : int, float, default 100, 1e-10
        Most iterations (stopping there warns :class:`ConvergenceWarning`); stop when
        the relative decrease of the loss falls below ``tol``.
    learn_d, stability_margin : bool, float, default True, 1e-6
        Learn the feed-through ``d`` (else it keeps ``init``'s); without a region,
        steps keep the spectral radius below ``1 - stability_margin``.
    coarse : int or None, default 20000
        Long records start on the first ``coarse`` samples (``None`` or 0: never).
    sequences : bool, default False
        Read the leading axis of ``u`` and ``y`` as the sequence index.
    progress : bool, 'bar' or 'lines', default False
        ``'bar'``: tqdm over iterations; ``'lines'``: a line per iteration to stderr;
        ``True``: a bar when stderr is a terminal, else lines.
    checkpoint, checkpoint_every, resume : path, int, bool, default None, 1, False
        Save the state atomically every ``checkpoint_every`` iterations and on
        ``KeyboardInterrupt``; ``resume=True`` continues from it (same result).
    force : bool, default False
        Run even when estimated at over an hour (:func:`estimate_cost`).

    Returns
    -------
    TrainResult
        ``converged`` and ``stop_reason`` (``'tol'``, ``'no_decrease'``, ``'max_iter'``).

    Raises
    ------
    DataError
        Bad data, ``y`` missing, or an input column that is zero throughout.

    Examples
    --------
    >>> u = np.random.default_rng(1).normal(size=(4, 200))
    >>> truth = CanonicalSystem([-0.6, 0.2], [1.0, 0.5], 0.3)
    >>> res = gauss_newton(u, truth.simulate(u), order=2, sequences=True)
    >>> res.stop_reason in ("tol", "no_decrease"), np.round(res.model.a, 6)
    (True, array([-0.6,  0.2]))
    """
    io = _excited_io(u, y, sequences)
    settings = _solver_settings(max_iter, tol, stability_margin)
    coarse = check_int(coarse, "coarse", low=0, allow_none=True)
    learn_d, force = check_bool(learn_d, "learn_d"), check_bool(force, "force")
    saving = _checkpoint_settings(checkpoint, checkpoint_every, resume)
    mode = _progress_mode(progress)
    model = initial_model(init, order, io.n_inputs, io.n_outputs)
    b = resolve_burn_in(burn_in, io.length)
    reg = resolve_region(region)
    full = LeastSquaresProblem(io.u, io.y, b, model.order, learn_d)  # type: ignore[arg-type]
    full.require_samples(full.count * full.n_outputs, b)
    samples, channels = full.N * full.T, (full.n_inputs, full.n_outputs, learn_d)
    _refuse_expensive("gauss_newton", model.order, samples, settings[0], channels, force)
    watch = _LMWatch(mode, saving, (reg, settings, coarse, init)) if mode or saving[0] else None
    result = _coarse_then_full(full, model, reg, settings, coarse, io.is_siso, watch)
    _warn_unconverged(result)
    return result


def _coarse_then_full(
    full: LeastSquaresProblem,
    model: CanonicalSystem,
    reg: PacmanRegion | None,
    settings: tuple[int, float, float],
    coarse: int | None,
    siso: bool,
    watch: _LMWatch | None = None,
) -> TrainResult:
    """Levenberg-Marquardt on all the data, after a coarse start on the first samples."""
    max_iter, tol, margin = settings
    if watch is not None:
        watch.open(full)
    try:
        if not (coarse and full.T > 4 * coarse):
            return _lm(full, model, reg, max_iter, tol, margin, siso, watch=watch)
        start = time.perf_counter()
        first = None if watch is None else watch.coarse_result(siso)
        if first is None:
            u3, y3 = full.u[:, :coarse], full.y[:, :coarse]
            b = min(full.burn_in, coarse // 4)
            sub = LeastSquaresProblem(u3, y3, b, full.order, full.learn_d)
            first = _lm(sub, model, reg, 50, 1e-6, margin, siso, watch=watch, stage="coarse")
        result = _lm(full, first.model, reg, max_iter, tol, margin, siso, watch=watch)
        result.loss_history = np.concatenate((first.loss_history, result.loss_history))
        result.n_steps += first.n_steps
        result.elapsed = time.perf_counter() - start
        return result
    except KeyboardInterrupt as exc:
        if watch is not None:
            watch.interrupted(exc)
        raise
    finally:
        if watch is not None:
            watch.close()


def _feasible(a: np.ndarray, reg: PacmanRegion | None, margin: float) -> tuple[np.ndarray, bool]:
    """Project ``a`` onto the region, or report whether it is stable when unconstrained."""
    if reg is not None:
        return (a if reg.contains(a) else reg.project(a)), True
    rho = np.max(np.abs(np.roots(np.concatenate(([1.0], a)))))
    return a, bool(rho < 1.0 - margin)


@renamed_parameters(reg="region", margin="stability_margin")
def levenberg_marquardt(
    problem: ParamLayout,
    model: CanonicalSystem,
    region: PacmanRegion | str | None,
    max_iter: int,
    tol: float,
    stability_margin: float,
    siso: bool,
) -> TrainResult:
    """Projected Levenberg-Marquardt on any least-squares problem (see :class:`ParamLayout`).

    Parameters
    ----------
    problem : ParamLayout
        With ``count``, ``sse`` and ``normal_equations``, e.g. :class:`LeastSquaresProblem`.
    model : CanonicalSystem
        The start.
    region : PacmanRegion, 'pacman' or None
        Where ``a`` is kept (``reg`` is a deprecated alias).
    max_iter : int
        Most iterations; stopping there warns :class:`ConvergenceWarning`.
    tol : float
        Stop when the relative decrease of the loss falls below it.
    stability_margin : float
        Without a region, the spectral radius stays below ``1 - stability_margin``
        (``margin`` is a deprecated alias).
    siso : bool
        Return a SISO-shaped model.

    Returns
    -------
    TrainResult
        ``n_steps`` counts iterations, ``stop_reason`` is ``'tol'``,
        ``'no_decrease'`` or ``'max_iter'``.

    Examples
    --------
    >>> u = np.random.default_rng(0).normal(size=(1, 200, 1))
    >>> prob = LeastSquaresProblem(u, 0.5 * u, 0, 1, True)
    >>> res = levenberg_marquardt(prob, initial_model("zero", 1), None, 20, 1e-12, 1e-6, True)
    >>> round(float(res.model.d), 8), res.converged
    (0.5, True)
    """
    max_iter, tol, margin = _solver_settings(max_iter, tol, stability_margin)
    result = _lm(
        problem, model, resolve_region(region), max_iter, tol, margin, check_bool(siso, "siso")
    )
    _warn_unconverged(result)
    return result


def _lm_delta(JtJ: np.ndarray, Jtr: np.ndarray, mu: float, scale: np.ndarray) -> np.ndarray | None:
    """The damped Gauss-Newton step, ``None`` when the system cannot be solved."""
    try:
        with warnings.catch_warnings():  # near an exact fit; a bad step is rejected later
            warnings.simplefilter("ignore", linalg.LinAlgWarning)
            return linalg.solve(JtJ + mu * np.diag(scale), -Jtr, assume_a="pos")
    except (linalg.LinAlgError, ValueError):
        return None


def _lm_score(
    problem: ParamLayout, trial: np.ndarray, delta: np.ndarray, JtJ: np.ndarray,
    Jtr: np.ndarray, sse: float, tol: float, d_fixed: np.ndarray, first: bool,
) -> tuple[float, Any]:  # fmt: skip
    """The loss at a trial point, with the normal equations there when worth it.

    A first try whose predicted decrease is well above ``tol`` (so that another
    iteration will follow) is scored by the normal equations at the trial point,
    returned for the next step: one pass over the data instead of two.
    """
    params = problem.unpack(trial, d_fixed)
    predicted = -(2.0 * (Jtr @ delta) + delta @ JtJ @ delta)
    if first and predicted > _FUSE_ABOVE * tol * sse:
        sse_new, *ne = problem.normal_equations(*params)
        return sse_new, ne
    return problem.sse(*params), None


def _lm_step(
    problem: ParamLayout, theta: np.ndarray, sse: float, JtJ: np.ndarray, Jtr: np.ndarray,
    mu: float, reg: PacmanRegion | None, margin: float, d_fixed: np.ndarray, tol: float,
) -> tuple[np.ndarray | None, float, float, tuple[np.ndarray, np.ndarray] | None]:  # fmt: skip
    """A feasible step that lowers the loss, raising ``mu`` until one does (or giving up).

    A first step that leaves the region is first tried ten times more damped: when
    that shorter step stays inside and lowers the loss it is taken, sparing a
    projection (a quadratic programme, the dominant cost of short records);
    otherwise the first step is projected, as without the shortcut.
    """
    n = problem.order
    scale = np.diag(JtJ).copy()
    scale[scale <= 0] = 1.0
    for attempt in range(40):
        delta = _lm_delta(JtJ, Jtr, mu, scale)
        if delta is None:
            mu *= 10.0
            continue
        trial = theta + delta
        if attempt == 0 and reg is not None and not reg.contains(trial[:n]):
            short = _lm_delta(JtJ, Jtr, 10.0 * mu, scale)
            if short is not None and reg.contains((theta + short)[:n]):
                args = (JtJ, Jtr, sse, tol, d_fixed, True)
                sse_new, ne = _lm_score(problem, theta + short, short, *args)
                if np.isfinite(sse_new) and sse_new < sse:
                    return theta + short, sse_new, 10.0 * mu, ne
        trial[:n], ok = _feasible(trial[:n], reg, margin)
        if ok:
            args = (JtJ, Jtr, sse, tol, d_fixed, attempt == 0)
            sse_new, ne = _lm_score(problem, trial, delta, *args)
            if np.isfinite(sse_new) and sse_new < sse:
                return trial, sse_new, mu, ne
        mu *= 10.0
    return None, sse, mu, None


_FUSE_ABOVE = (
    10.0  # a predicted relative decrease above this many tol: score by the normal equations
)
_MU0 = 1e-3  # first Levenberg-Marquardt damping (relative to diag J^T J)
_MU_DOWN = 10.0  # damping divided by this after an accepted step
_EXACT = 1e-24  # a loss this far below the start's is an exact fit (residual ~1e-12)


@dataclass
class _LMState:
    """Where a Levenberg-Marquardt run stands after ``it`` accepted iterations."""

    theta: np.ndarray
    sse: float
    mu: float
    history: list[float]
    it: int = 0
    rel: float = math.inf
    elapsed: float = 0.0


class _LMWatch:
    """Progress lines or bar, and checkpoints, of one Gauss-Newton run (coarse then full)."""

    def __init__(
        self, mode: str | None, saving: tuple[Path | None, int, bool], settings: tuple[Any, ...]
    ) -> None:
        self.mode, (self.path, self.every, self.resume) = mode, saving
        reg, (max_iter, tol, margin), coarse, init = settings
        self.settings = {
            "region": _describe(reg), "max_iter": max_iter, "tol": tol,
            "stability_margin": margin, "coarse": coarse, "init": _describe(init),
        }  # fmt: skip
        self.saved: dict[str, Any] | None = None  # the checkpoint being resumed
        self.coarse: dict[str, Any] | None = None  # the finished coarse stage
        self.stage, self.last, self.bar = "full", None, None  # type: ignore[var-annotated]
        self.start = time.perf_counter()

    def open(self, full: LeastSquaresProblem) -> None:
        """Fingerprint the problem and, when resuming, read and check the checkpoint."""
        if self.path is None:
            return
        self.fingerprint = {
            **self.settings, "order": full.order, "channels": [full.n_inputs, full.n_outputs],
            "shape": [full.N, full.T], "burn_in": full.burn_in, "learn_d": full.learn_d,
            "data": _digest(full.u, full.y),
        }  # fmt: skip
        if self.resume:
            meta, arrays = _read_checkpoint(self.path, "gauss_newton")
            _check_fingerprint(self.path, meta["fingerprint"], self.fingerprint)
            self.saved = {**meta, **arrays}
            if meta["coarse_done"]:
                model = CanonicalSystem(arrays["coarse_a"], arrays["coarse_c"], arrays["coarse_d"])
                self.coarse = {
                    "history": arrays["coarse_history"], "it": meta["coarse_it"], "model": model
                }  # fmt: skip

    def coarse_result(self, siso: bool) -> TrainResult | None:
        """The coarse stage as saved by a resumed checkpoint that finished it, else ``None``."""
        if self.coarse is None or self.saved is None:
            return None
        model = self.coarse["model"]
        hist = np.asarray(self.coarse["history"])
        return TrainResult(model, model, float(hist[-1]), hist, n_steps=int(self.coarse["it"]))

    def begin(self, stage: str, total: int) -> _LMState | None:
        """Start a stage: its progress, and the saved state to resume it from, if any."""
        self.stage, self.last = stage, None
        if self.mode is not None:
            desc = "Gauss-Newton" + (" (coarse start)" if stage == "coarse" else "")
            self.bar = _Progress(self.mode, total, desc, "iteration", 1)  # type: ignore[assignment]
        if self.saved is not None and self.saved["stage"] == stage:
            s, self.saved["stage"] = self.saved, "done"
            h = [float(v) for v in s["history"]]
            return _LMState(
                s["theta"], float(s["sse"]), float(s["mu"]), h, int(s["it"]), s["rel"], s["elapsed"]
            )
        return None

    def step(self, state: _LMState) -> None:
        """After an accepted iteration: report, remember the state, save it every so often."""
        self.last = replace(state, history=list(state.history))
        if self.bar is not None and state.it:
            self.bar.update(state.it, state.history[-1], f", relative decrease {state.rel:.2g}")
        if self.path is not None and state.it and state.it % self.every == 0:
            self.save()

    def finish(self, model: CanonicalSystem, history: np.ndarray, it: int) -> None:
        """End a stage; a finished coarse stage is kept for the checkpoints of the full one."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if self.stage == "coarse":
            self.coarse = {"history": history, "it": it, "model": model}

    def save(self) -> None:
        """Write the last state of the current stage (and a finished coarse stage)."""
        if self.path is None or self.last is None:
            return
        st, co = self.last, self.coarse or {}
        cm = co.get("model")
        meta = {
            "stage": self.stage, "sse": st.sse, "mu": st.mu, "it": st.it, "rel": st.rel,
            "elapsed": st.elapsed, "coarse_done": bool(co), "coarse_it": co.get("it", 0),
            "fingerprint": self.fingerprint,
        }  # fmt: skip
        arrays = {"theta": st.theta, "history": np.asarray(st.history, dtype=float)}
        arrays["coarse_history"] = np.asarray(co.get("history", []), dtype=float)
        if cm is not None:
            arrays.update(coarse_a=cm.a, coarse_c=cm.c, coarse_d=cm.d)
        _write_checkpoint(self.path, "gauss_newton", meta, arrays)

    def interrupted(self, exc: BaseException) -> None:
        """On Ctrl-C: save the last complete iteration and say so on the exception."""
        if self.path is not None and self.last is not None:
            self.save()
            exc.add_note(
                f"checkpoint saved to {self.path} at iteration {self.last.it} "
                f"({self.stage} stage); resume=True continues from it"
            )

    def close(self) -> None:
        """Close any progress bar left open."""
        if self.bar is not None:
            self.bar.close()


def _lm(
    problem: ParamLayout, model: CanonicalSystem, reg: PacmanRegion | None, max_iter: int,
    tol: float, margin: float, siso: bool, *, watch: _LMWatch | None = None, stage: str = "full",
) -> TrainResult:  # fmt: skip
    """The Levenberg-Marquardt loop on validated arguments; never warns.

    ``watch`` (progress, checkpoints) may hand back a saved state to continue from.
    """
    start = time.perf_counter()
    a, c3, d_fixed = model.a, *_c3(model)
    st = None if watch is None else watch.begin(stage, max_iter)
    if st is None:
        a, ok = _feasible(a, reg, margin)
        if not ok:
            a = np.zeros(problem.order)
        st = _LMState(problem.pack(a, c3, d_fixed), 0.0, _MU0, [])
        st.sse, JtJ, Jtr = problem.normal_equations(a, c3, d_fixed)
        st.history.append(st.sse / problem.count)
    else:  # resumed: the normal equations at the saved parameters, as computed there
        start -= st.elapsed
        st.sse, JtJ, Jtr = problem.normal_equations(*problem.unpack(st.theta, d_fixed))
    if watch is not None:
        watch.step(st)  # a Ctrl-C from here on saves at least this state
    it, reason = st.it, "tol" if st.it and _lm_done(st, tol) else "max_iter"
    for it in range(st.it + 1, max_iter + 1 if reason == "max_iter" else 0):
        trial, sse_new, st.mu, ne = _lm_step(
            problem, st.theta, st.sse, JtJ, Jtr, st.mu, reg, margin, d_fixed, tol
        )
        if trial is None:
            reason = "no_decrease"
            break
        st.rel, st.theta, st.it = (st.sse - sse_new) / max(st.sse, 1e-300), trial, it
        st.sse = sse_new
        st.history.append(st.sse / problem.count)
        st.mu = max(st.mu / _MU_DOWN, 1e-12)
        if watch is not None:
            st.elapsed = time.perf_counter() - start
            watch.step(st)
        if _lm_done(st, tol):
            reason = "tol"
            break
        JtJ, Jtr = (
            ne if ne is not None else problem.normal_equations(*problem.unpack(trial, d_fixed))[1:]
        )
    final = _to_model(*problem.unpack(st.theta, d_fixed), siso)
    if watch is not None:
        watch.finish(final, np.asarray(st.history), it)
    return _lm_result(final, st, reason, it, (max_iter, tol), time.perf_counter() - start)


def _lm_done(st: _LMState, tol: float) -> bool:
    """Converged: a relative decrease below ``tol``, or an exact fit down to rounding."""
    return st.rel < tol or st.sse <= _EXACT * st.history[0]


def _lm_result(
    final: CanonicalSystem, st: _LMState, reason: str, it: int, limits: tuple[int, float],
    elapsed: float,
) -> TrainResult:  # fmt: skip
    """Package a Levenberg-Marquardt run, its stop reason in words."""
    max_iter, tol = limits
    rel, history = st.rel, st.history
    messages = {
        "tol": f"relative decrease {rel:.2g} < tol {tol:g} after {it} iterations"
        if rel < tol
        else f"exact fit (loss {history[-1]:.2g}) after {it} iterations",
        "no_decrease": f"no step lowers the loss after {it - 1} iterations (a stationary point)",
        "max_iter": f"stopped at max_iter={max_iter} with a relative decrease of {rel:.2g} "
        f"(tol {tol:g}); raise max_iter or loosen tol",
    }
    return TrainResult(
        model=final,
        best_model=final,
        best_loss=history[-1],
        loss_history=np.asarray(history),
        stop_reason=reason,
        converged=reason != "max_iter",
        message=messages[reason],
        n_steps=it,
        elapsed=elapsed,
    )
