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

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from scipy import linalg, signal

from ._boundary import (
    IOArrays,
    as_io,
    check_bool,
    check_choice,
    check_float,
    check_int,
    check_random_state,
    renamed_parameters,
    resolve_burn_in,
)
from .errors import (
    ConvergenceWarning,
    DataError,
    DivergenceWarning,
    ParameterError,
    TrainingDiverged,
    UnsupportedShapeError,
)
from .risk import lagged, loss, loss_and_grad, mimo_parts
from .systems import CanonicalSystem

if TYPE_CHECKING:
    from .region import PacmanRegion

__all__ = [
    "BatchSource",
    "DivergenceWarning",
    "LearningRate",
    "LeastSquaresProblem",
    "ParamLayout",
    "TrainResult",
    "TrainingDiverged",
    "fresh_batches",
    "gauss_newton",
    "initial_model",
    "levenberg_marquardt",
    "projected_sgd",
    "resolve_region",
    "sequence_batches",
    "tile_windows",
    "window_batches",
]

#: ``source(random_state) -> (u, y)``: one batch of sequences per call.
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
    io = as_io(u, y, sequences=sequences)
    bs = check_int(batch_size, "batch_size", low=1, allow_none=True)
    u2, y2 = _risk_layout(io)
    N = io.n_sequences
    if bs is None or bs >= N:
        return lambda random_state: (u2, y2)

    def draw(random_state: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        idx = random_state.choice(N, size=bs, replace=False)
        return u2[idx], y2[idx]

    return draw


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
    ua, ya = _siso_record(as_io(u, y), "window_batches")
    w = _window(ua.size, window)
    bs = check_int(batch_size, "batch_size", low=1)
    starts = np.arange(0, ua.size - w + 1)
    view_u = np.lib.stride_tricks.sliding_window_view(ua, w)
    view_y = np.lib.stride_tricks.sliding_window_view(ya, w)

    def draw(random_state: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        idx = random_state.choice(starts, size=bs, replace=bs > starts.size)
        return view_u[idx], view_y[idx]

    return draw


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
    ua, ya = _siso_record(as_io(u, y), "tile_windows")
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
        yb = truth.simulate(ub)
        if sigma:
            yb = yb + random_state.normal(scale=sigma, size=yb.shape)
        return ub, yb

    return draw


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
    progress: bool


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


def _sgd_config(
    source: Any, steps: Any, lr: Any, burn_in: Any, region: Any, clip: Any, learn_d: Any,
    snapshot_every: Any, on_divergence: Any, divergence_factor: Any, tol: Any,
    callback: Any, objective: Any, progress: Any,
) -> _SGDConfig:  # fmt: skip
    """Check every argument of :func:`projected_sgd` once, naming it in the error."""
    for name, value in (("source", source), ("objective", objective)):
        if not callable(value):
            raise ParameterError(f"{name}: must be callable, got {value!r}; see sequence_batches")
    if callback is not None and not callable(callback):
        raise ParameterError(f"callback: must be callable or None, got {callback!r}")
    if not callable(lr):
        lr = check_float(lr, "lr", low=0.0, low_open=True)
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
        progress=check_bool(progress, "progress"),
    )


@renamed_parameters(rng="random_state")
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
    random_state: Any = None,
    snapshot_every: int | None = None,
    progress: bool = False,
    on_divergence: Literal["warn", "raise"] = "warn",
    divergence_factor: float = 1e8,
    tol: float | None = None,
    callback: Callable[[int, CanonicalSystem, float], Any] | None = None,
    objective: Callable[..., tuple[float, Any]] = loss_and_grad,
) -> TrainResult:
    """Projected stochastic gradient descent on the canonical form (Algorithm 1).

    Parameters
    ----------
    source : BatchSource
        ``source(random_state) -> (u, y)``, e.g. :func:`sequence_batches`.
    order : int, optional
        Model order; required unless ``init`` is a system.
    steps, lr : int, float or callable, default 1000, 0.01
        Gradient steps; the learning rate or a schedule ``lr(k) -> float``.
    burn_in, clip : int, float, optional
        Samples of each sequence left out of the loss (``None``: ``T // 4``); a cap
        on the gradient norm (the paper's fastest variant).
    region : PacmanRegion, 'pacman' or None, default 'pacman'
        Where ``a`` is projected after each step (Pac-Man); ``None``: plain SGD.
    init : {'zero', 'identity'} or CanonicalSystem, default 'zero'
        The starting model (:func:`initial_model`).
    learn_d, progress : bool, default True, False
        Learn the feed-through ``d``; show a progress bar (needs ``tqdm``).
    random_state : None, int or numpy.random.Generator
        Randomness handed to ``source`` (``rng`` is a deprecated alias).
    snapshot_every : int, optional
        Keep ``(step, model)`` every so many steps; ``None`` or 0: none.
    on_divergence, divergence_factor : {'warn', 'raise'}, float, default 'warn', 1e8
        When the loss is non-finite or ``divergence_factor`` times the first: warn
        :class:`DivergenceWarning` and return the last finite model, or raise.
    tol : float, optional
        Stop once the loss is at most ``tol``; not reaching it warns, as does a run
        ending oscillating or far above its best loss (``ConvergenceWarning``).
    callback, objective : callable, optional
        ``callback(k, model, loss)`` after each evaluation; ``objective(model, u, y,
        burn_in) -> (loss, grad)``, default :func:`learnlds.risk.loss_and_grad`.

    Returns
    -------
    TrainResult
        The run (``converged``, ``stop_reason``, ``loss_history``, ...).

    Raises
    ------
    TrainingDiverged
        When the run diverged and ``on_divergence='raise'``.

    Examples
    --------
    >>> src = fresh_batches(CanonicalSystem([-0.5], [1.0]), 50, 4)
    >>> projected_sgd(src, order=1, steps=50, lr=0.05, random_state=0).best_loss < 1e-5
    True
    """
    cfg = _sgd_config(
        source, steps, lr, burn_in, region, clip, learn_d, snapshot_every, on_divergence,
        divergence_factor, tol, callback, objective, progress,
    )  # fmt: skip
    run, first, gen = _sgd_start(cfg, init, order, source, random_state)
    _sgd_loop(run, cfg, source, gen, first)
    result = _sgd_result(run, cfg)
    if result.diverged and cfg.on_divergence == "raise":
        raise TrainingDiverged(result.message)
    _warn_unconverged(result)
    return result


def _sgd_start(
    cfg: _SGDConfig, init: Any, order: Any, source: BatchSource, random_state: Any
) -> tuple[_SGDRun, Any, np.random.Generator]:
    """The state at step 0 (the initial model, in the region), the first batch, the generator."""
    gen = check_random_state(random_state)
    first = source(gen)  # also tells how many inputs and outputs the data have
    m, p = (first[0].shape[-1], first[1].shape[-1]) if np.ndim(first[0]) == 3 else (1, 1)
    model = initial_model(init, order, m, p)
    if cfg.region is not None and not cfg.region.contains(model.a):
        model = model.with_params(a=cfg.region.project(model.a))
    history = np.full(cfg.steps + 1, np.nan)
    run = _SGDRun(model.a.copy(), model.c.copy(), model.d.copy(), history, model)
    if cfg.snapshot_every:
        run.snapshots.append((0, model))
    return run, first, gen


def _sgd_loop(
    run: _SGDRun,
    cfg: _SGDConfig,
    source: BatchSource,
    gen: np.random.Generator,
    first: Any,
) -> None:
    """Run the steps with an optional progress bar, closed however the run ends."""
    desc = "projected SGD" if cfg.region is not None else "SGD"
    bar = _progress(cfg.steps, cfg.progress, desc)
    try:
        _sgd_steps(run, cfg, source, gen, first, bar)
    finally:
        if bar is not None:
            bar.close()


def _sgd_steps(
    run: _SGDRun,
    cfg: _SGDConfig,
    source: BatchSource,
    gen: np.random.Generator,
    first: Any,
    bar: Any,
) -> None:
    """Steps 0..steps: evaluate, record, stop on divergence or ``tol``, else update."""
    for k in range(cfg.steps + 1):
        run.k = k
        ub, yb = first if k == 0 else source(gen)
        current = CanonicalSystem(run.a, run.c, run.d)
        if k == cfg.steps and cfg.objective is loss_and_grad:  # final evaluation only
            value, grad = loss(current, ub, yb, cfg.burn_in), None
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
        if bar is not None:
            bar.update(1)
            if k % 10 == 0:
                bar.set_postfix(loss=f"{value:.4g}")


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


def _warn_unconverged(result: TrainResult, stacklevel: int = 4) -> None:
    """Say so when a run did not converge: a DivergenceWarning or a ConvergenceWarning.

    ``stacklevel`` 4 points at the user's call through a public function wrapped by
    :func:`~learnlds._boundary.renamed_parameters`.
    """
    if result.converged:
        return
    category = DivergenceWarning if result.diverged else ConvergenceWarning
    warnings.warn(f"training did not converge: {result.message}", category, stacklevel=stacklevel)


def _last_finite(a: Any, c: Any, d: Any, fallback: CanonicalSystem) -> CanonicalSystem:
    try:
        return CanonicalSystem(a, c, d)
    except ValueError:
        return fallback


def _progress(total: int, enabled: bool, desc: str) -> Any:
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="step", leave=False)


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
        return mimo_parts(a, c3, d3, self.u)

    def sse(self, a: np.ndarray, c3: np.ndarray, d3: np.ndarray) -> float:
        """Sum of squared residuals after the burn-in.

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
        if self.n_inputs == 1 and self.n_outputs == 1:  # fused compiled loss: one pass
            model = CanonicalSystem(a, c3[:, 0, 0], float(d3[0, 0]))
            return loss(model, self.u[..., 0], self.y[..., 0], self.burn_in) * self.count
        _, _, yhat = self.predict_parts(a, c3, d3)
        r = (yhat - self.y)[:, self.burn_in :]
        return float(np.sum(r * r))

    def normal_equations(
        self, a: np.ndarray, c3: np.ndarray, d3: np.ndarray
    ) -> tuple[float, np.ndarray, np.ndarray]:
        """``(sse, J^T J, J^T r)`` for parameters ``[a, (c[:, o, :], d[o, :]) for o]``.

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
        n, m, p, b = self.order, self.n_inputs, self.n_outputs, self.burn_in
        S, z, yhat = self.predict_parts(a, c3, d3)
        w = signal.lfilter([1.0], np.concatenate(([1.0], a)), z, axis=1)
        W = lagged(w, np.arange(1, n + 1))[:, b:]  # W[:, t, k, o] = w_o at t - k - 1
        r = (yhat - self.y)[:, b:]  # (N, T-b, p)
        feats = [S[:, b:].reshape(self.N, self.T - b, n * m)]
        if self.learn_d:
            feats.append(self.u[:, b:])
        F = np.concatenate(feats, axis=2).reshape(-1, n * m + (m if self.learn_d else 0))
        q = F.shape[1]
        JtJ = np.zeros((n + p * q, n + p * q))
        Jtr = np.zeros(n + p * q)
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


@renamed_parameters(x="u")
def gauss_newton(
    u: Any,
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
    sequences: bool = False,
) -> TrainResult:
    """Fast full-data solver: projected Levenberg-Marquardt on the exact filter Jacobian.

    The burn-in loss of :func:`projected_sgd` on all the data (several channels: a
    common denominator, SPEC section 6). Each step solves ``(J^T J + mu diag) delta =
    -J^T r``, projects ``a`` onto ``region`` and is kept if the loss decreases.

    Parameters
    ----------
    u, y : array_like
        Inputs and outputs: one record ``(T,)`` / ``(T, m)``, or with
        ``sequences=True`` ``(N, T)`` / ``(N, T, m)`` (``x`` is a deprecated alias of ``u``).
    order : int, optional
        Model order; required unless ``init`` is a system.
    init : {'zero', 'identity'} or CanonicalSystem, default 'zero'
        The starting model (:func:`initial_model`).
    burn_in : int or None, default 0
        Samples of each sequence left out of the loss; ``None``: ``T // 4``.
    region : PacmanRegion, 'pacman' or None, default 'pacman'
        Where ``a`` is kept.
    max_iter : int, default 100
        Most iterations; stopping there warns :class:`ConvergenceWarning`.
    tol : float, default 1e-10
        Stop when the relative decrease of the loss falls below it.
    learn_d : bool, default True
        Learn the feed-through ``d`` (else it keeps ``init``'s).
    stability_margin : float, default 1e-6
        Without a region, steps must keep the spectral radius below ``1 - margin``.
    coarse : int or None, default 20000
        Long records start on the first ``coarse`` samples (``None`` or 0: never).
    sequences : bool, default False
        Read the leading axis of ``u`` and ``y`` as the sequence index.

    Returns
    -------
    TrainResult
        ``converged`` and ``stop_reason`` (``'tol'``, ``'no_decrease'``, ``'max_iter'``).

    Examples
    --------
    >>> u = np.random.default_rng(1).normal(size=(4, 200))
    >>> truth = CanonicalSystem([-0.6, 0.2], [1.0, 0.5], 0.3)
    >>> res = gauss_newton(u, truth.simulate(u), order=2, sequences=True)
    >>> res.stop_reason in ("tol", "no_decrease"), np.round(res.model.a, 6)
    (True, array([-0.6,  0.2]))
    """
    io = as_io(u, y, sequences=sequences)
    max_iter, tol, margin = _solver_settings(max_iter, tol, stability_margin)
    coarse = check_int(coarse, "coarse", low=0, allow_none=True)
    learn_d = check_bool(learn_d, "learn_d")
    model = initial_model(init, order, io.n_inputs, io.n_outputs)
    b = resolve_burn_in(burn_in, io.length)
    reg = resolve_region(region)
    full = LeastSquaresProblem(io.u, io.y, b, model.order, learn_d)  # type: ignore[arg-type]
    full.require_samples(full.count * full.n_outputs, b)
    result = _coarse_then_full(full, model, reg, (max_iter, tol, margin), coarse, io.is_siso)
    _warn_unconverged(result)
    return result


def _coarse_then_full(
    full: LeastSquaresProblem,
    model: CanonicalSystem,
    reg: PacmanRegion | None,
    settings: tuple[int, float, float],
    coarse: int | None,
    siso: bool,
) -> TrainResult:
    """Levenberg-Marquardt on all the data, after a coarse start on the first samples."""
    max_iter, tol, margin = settings
    if not (coarse and full.T > 4 * coarse):
        return _lm(full, model, reg, max_iter, tol, margin, siso)
    start = time.perf_counter()
    u3, y3 = full.u[:, :coarse], full.y[:, :coarse]
    sub = LeastSquaresProblem(u3, y3, min(full.burn_in, coarse // 4), full.order, full.learn_d)
    first = _lm(sub, model, reg, 50, 1e-6, margin, siso)
    result = _lm(full, first.model, reg, max_iter, tol, margin, siso)
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


def _lm_step(
    problem: ParamLayout, theta: np.ndarray, sse: float, JtJ: np.ndarray, Jtr: np.ndarray,
    mu: float, reg: PacmanRegion | None, margin: float, d_fixed: np.ndarray,
) -> tuple[np.ndarray | None, float, float]:  # fmt: skip
    """A feasible step that lowers the loss, raising ``mu`` until one does (or giving up)."""
    n = problem.order
    scale = np.diag(JtJ).copy()
    scale[scale <= 0] = 1.0
    for _ in range(40):
        try:
            with warnings.catch_warnings():  # near an exact fit; a bad step is rejected below
                warnings.simplefilter("ignore", linalg.LinAlgWarning)
                delta = linalg.solve(JtJ + mu * np.diag(scale), -Jtr, assume_a="pos")
        except (linalg.LinAlgError, ValueError):
            mu *= 10.0
            continue
        trial = theta + delta
        trial[:n], ok = _feasible(trial[:n], reg, margin)
        if ok:
            sse_new = problem.sse(*problem.unpack(trial, d_fixed))
            if np.isfinite(sse_new) and sse_new < sse:
                return trial, sse_new, mu
        mu *= 10.0
    return None, sse, mu


_EXACT = 1e-24  # a loss this far below the start's is an exact fit (residual ~1e-12)


def _lm(
    problem: ParamLayout, model: CanonicalSystem, reg: PacmanRegion | None, max_iter: int,
    tol: float, margin: float, siso: bool,
) -> TrainResult:  # fmt: skip
    """The Levenberg-Marquardt loop on validated arguments; never warns."""
    start = time.perf_counter()
    a, c3, d_fixed = model.a, *_c3(model)
    a, ok = _feasible(a, reg, margin)
    if not ok:
        a = np.zeros(problem.order)
    theta = problem.pack(a, c3, d_fixed)
    sse, JtJ, Jtr = problem.normal_equations(a, c3, d_fixed)
    history = [sse / problem.count]
    mu, reason, rel, it = 1e-3, "max_iter", math.inf, 0
    for it in range(1, max_iter + 1):  # noqa: B007 - the count is reported
        trial, sse_new, mu = _lm_step(problem, theta, sse, JtJ, Jtr, mu, reg, margin, d_fixed)
        if trial is None:
            reason = "no_decrease"
            break
        rel = (sse - sse_new) / max(sse, 1e-300)
        theta = trial
        sse, JtJ, Jtr = problem.normal_equations(*problem.unpack(theta, d_fixed))
        history.append(sse / problem.count)
        mu = max(mu / 10.0, 1e-12)
        if rel < tol or sse <= _EXACT * history[0]:  # or an exact fit, down to rounding
            reason = "tol"
            break
    final = _to_model(*problem.unpack(theta, d_fixed), siso)
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
        elapsed=time.perf_counter() - start,
    )
