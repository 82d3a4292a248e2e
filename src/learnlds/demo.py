"""The demo of the post as a library function: hair dryer, SGD for 400 steps, the report.

:func:`run_demo` does what ``learnlds demo`` prints:

1. loads the real DaISy hair dryer with :func:`learnlds.datasets.load_daisy`; only
   when that fails does it fall back on :func:`learnlds.datasets.synthetic_dryer`,
   and then says so (clearly labelled synthetic, with the reason);
2. standardises it by the estimation half's means and standard deviations and runs
   plain SGD with a fixed learning rate on that one sequence, as in the post: 3 hidden
   states, initialised to predict exactly its input (``c = 0``, ``d = 1``, poles of the
   denominator at :data:`DEMO_INIT_POLE`), 400 full-batch steps, no burn-in, fit
   percent reported every 50 steps;
3. fits the default :class:`learnlds.estimator.LDSRegressor` (fast solver) for
   comparison and reports its fits by the project's protocol
   (:func:`learnlds.validate.holdout`: first half fit, last half validate, each
   half's means removed, simulation from zero state);
4. learns a small synthetic target inside the Pac-Man region by projected SGD on fresh
   samples for 10 steps (the post's transfer-function picture), evaluates the loss on a
   segment between two random points, and writes the HTML report.

Why plain SGD (``region=None``) by default: the dryer's best order-3 denominator is
outside the Pac-Man region (margin about -1.2), so projected SGD stalls at a fit near
67 %. Plain SGD at ``DEMO_LR`` rises at every reported step, to about 86 % validation
fit after 400 steps (the fast solver: 90 %). ``region='pacman'`` runs the projected
variant instead. The report's figure 3 shows the loss between two random stable
systems (not convex) beside a segment inside the region (quasi-convex looking).

Examples
--------
>>> demo_target().order
3
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._boundary import (
    as_float_array,
    check_bool,
    check_choice,
    check_float,
    check_int,
    check_random_state,
    renamed_parameters,
)
from ._files import check_output_folder
from .analysis import convexity_gap, segment_profile
from .datasets import IOData, load_daisy, synthetic_dryer
from .errors import DataError, LearnLDSError, ParameterError
from .estimator import LDSRegressor
from .region import PacmanRegion
from .report import Scaling, model_fits, write_report
from .risk import loss
from .systems import CanonicalSystem
from .train import TrainResult, fresh_batches, projected_sgd, sequence_batches
from .validate import holdout

__all__ = [
    "DEMO_INIT_POLE",
    "DEMO_LR",
    "NONCONVEX_GAP",
    "SEGMENT_DOMAINS",
    "DemoResult",
    "demo_initial_model",
    "demo_target",
    "random_segment",
    "run_demo",
]

DEMO_LR = 0.0085
"""Fixed learning rate of the demo's SGD on standardised dryer data (fit rises every step).

Chosen on the real dryer: full-batch steps are stable up to about 0.0095 from
:data:`DEMO_INIT_POLE`; 0.008 to 0.0095 all end above 85 % validation fit."""

DEMO_INIT_POLE = 0.2
"""The starting denominator's triple pole: ``p(z) = (z - 0.2)^3``, inside the Pac-Man region.

With ``c = 0`` and ``d = 1`` the model predicts exactly its input whatever ``a`` is; a
denominator with poles at 0.2 instead of 0 gives the first steps a memory to shape,
and on the dryer 400 fixed-rate steps then reach about 86 % instead of 77 %."""

DEMO_ORDER = 3
TRANSFER_STEPS = 10
TRANSFER_LR = 0.1

Say = Callable[[str], None]


@dataclass
class DemoResult:
    """What :func:`run_demo` did: data, training run, fits and the files it wrote.

    Attributes
    ----------
    out_dir, report : pathlib.Path
        The report folder and its ``index.html``.
    data : IOData
        The record used (real or synthetic).
    data_source : str
        A sentence saying where the data came from.
    train : TrainResult
        The SGD run on the standardised estimation half.
    step_fits : dict of int to float
        Estimation fit percent every ``steps // 8`` steps.
    estimation_fit, validation_fit : float
        The SGD model's fits by the protocol.
    regressor : LDSRegressor
        The fast solver, fitted on the estimation half.
    regressor_fits : (float, float)
        Its estimation and validation fits by the protocol.
    region : str or PacmanRegion or None
        The region SGD projected onto (None: plain SGD).
    lr : float
        SGD's learning rate.
    transfer : (CanonicalSystem, list of (int, CanonicalSystem))
        The synthetic target and the projected-SGD snapshots learning it.
    segment : dict of str to (numpy.ndarray, numpy.ndarray)
        Positions and loss values along a random segment between two stable systems
        and along one inside the Pac-Man region (keys: their captions, from
        :data:`SEGMENT_DOMAINS`), same loss and data.
    elapsed : float
        Wall-clock seconds.
    lines : list of str
        The story as logged.

    Examples
    --------
    >>> from dataclasses import fields
    >>> [f.name for f in fields(DemoResult)][:4]
    ['out_dir', 'report', 'data', 'data_source']
    """

    out_dir: Path
    report: Path
    data: IOData
    data_source: str
    train: TrainResult
    step_fits: dict[int, float]
    estimation_fit: float
    validation_fit: float
    regressor: LDSRegressor
    regressor_fits: tuple[float, float]
    region: str | PacmanRegion | None
    lr: float
    transfer: tuple[CanonicalSystem, list[tuple[int, CanonicalSystem]]]
    segment: dict[str, tuple[np.ndarray, np.ndarray]]
    elapsed: float
    lines: list[str] = field(default_factory=list)

    @property
    def synthetic(self) -> bool:
        """Whether the demo ran on the synthetic stand-in instead of the measurement."""
        return bool(self.data.synthetic)


# --------------------------------------------------------------------------- data
def _load_path(data_path: str | os.PathLike[str]) -> tuple[IOData, str]:
    """The record at an explicit path: a DaISy dryer file or folder, or any data file."""
    p = Path(data_path).expanduser()
    if not p.exists():
        raise DataError(f"data_path: {p}: no such file or folder")
    if p.is_dir() or p.name.lower().startswith("dryer"):
        data = load_daisy("dryer", p)
    else:
        data = IOData.from_file(p)
        if not data.is_siso:
            data = data.select(0, 0)
    return data, f"data from {data.source or p}"


def _load(data_path: str | os.PathLike[str] | None) -> tuple[IOData, str]:
    """The dryer record and a sentence saying where it came from.

    Without ``data_path``: :func:`load_daisy` (its own look-up order); the synthetic
    stand-in only when that fails, labelled as such with the reason.
    """
    if data_path is not None:
        return _load_path(data_path)
    try:
        data = load_daisy("dryer")
    except (LearnLDSError, ValueError, OSError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return synthetic_dryer(), (
            f"SYNTHETIC hair dryer (the real dryer.dat could not be loaded: {reason}; set "
            "LEARNLDS_DATA to the folder holding it, or pass --data)"
        )
    return data, f"real DaISy dryer.dat ({data.source or 'package data'})"


def demo_target() -> CanonicalSystem:
    """The synthetic order-3 target inside the Pac-Man region for the transfer picture.

    Poles 0.5 and -0.3 +- 0.4i (``a = (0.1, -0.05, -0.125)``, margin about 0.5),
    numerator ``c = (0.3, -0.4, 1.0)``.

    Returns
    -------
    CanonicalSystem
        The target system.

    Examples
    --------
    >>> np.round(demo_target().a, 3)
    array([ 0.1  , -0.05 , -0.125])
    """
    a = np.real(np.poly([0.5, -0.3 + 0.4j, -0.3 - 0.4j]))[1:]
    return CanonicalSystem(a, [0.3, -0.4, 1.0], 0.0)


SEGMENT_DOMAINS = {
    "stable": "domain: two random stable systems",
    "region": "Pac-Man region: two random points",
}
"""Panel titles of figure 3: what the end points of :func:`random_segment` are.

``'stable'``: denominators of random stable systems (poles uniform in the disc of
radius 0.95, mostly outside the Pac-Man region); ``'region'``: denominators drawn
in the region. Numerators and feed-through are standard normal in both."""

#: A profile counts as visibly non-convex when it rises this far (relative to its
#: range) above its lower convex envelope (:func:`learnlds.analysis.convexity_gap`).
NONCONVEX_GAP = 0.05


def demo_initial_model() -> CanonicalSystem:
    """The demo's starting model: 3 states that predict exactly their input.

    ``c = 0`` and ``d = 1`` (the prediction is the input), denominator
    ``(z - DEMO_INIT_POLE)^3`` (see :data:`DEMO_INIT_POLE`).

    Returns
    -------
    CanonicalSystem
        The starting model.

    Examples
    --------
    >>> m = demo_initial_model()
    >>> u = np.array([1.0, -2.0, 0.5])
    >>> bool(np.allclose(m.simulate(u), u)), np.round(m.poles().real, 6).tolist()
    (True, [0.2, 0.2, 0.2])
    """
    a = np.real(np.poly([DEMO_INIT_POLE] * DEMO_ORDER))[1:]
    return CanonicalSystem(a, np.zeros(DEMO_ORDER), 1.0)


def _end_points(domain: str, rng: np.random.Generator) -> list[np.ndarray]:
    """Two random ``(a, c, d)`` vectors: ``a`` stable (radius 0.95) or in the region."""
    order = DEMO_ORDER
    if domain == "region":
        a_pts = list(PacmanRegion().sample(order, 2, rng))
    else:
        a_pts = [CanonicalSystem.random_stable(order, 0.95, rng).a for _ in range(2)]
    return [np.concatenate((a, rng.normal(size=order + 1))) for a in a_pts]


def _good_segment(domain: str, t: np.ndarray, v: np.ndarray) -> bool:
    """Finite; in the region an interior minimum, between stable systems visibly non-convex."""
    if not np.all(np.isfinite(v)):
        return False
    if domain == "region":
        return 0.15 < t[int(np.argmin(v))] < 0.85
    return convexity_gap(t, v) >= NONCONVEX_GAP


def random_segment(
    u: Any,
    y: Any,
    random_state: Any = 0,
    num: int = 101,
    tries: int = 100,
    *,
    domain: str = "region",
) -> tuple[np.ndarray, np.ndarray]:
    """The loss on ``(u, y)`` along a segment between two random parameter vectors.

    End points (order 3): ``c``, ``d`` standard normal, and ``a`` either in the
    Pac-Man region (``domain='region'``) or the denominator of a random stable system
    (``domain='stable'``, poles uniform in the disc of radius 0.95: the post's
    "random points of the domain"). The first pair (of at most ``tries``) with a
    finite profile is kept that, in the region, has its minimum inside
    (``0.15 < t < 0.85``), so the picture shows both sides of the valley, and between
    stable systems is visibly not convex (:data:`NONCONVEX_GAP`: such pairs are a
    few percent of all). The loss has no burn-in.

    Parameters
    ----------
    u, y : array_like
        One input/output record, ``(T,)`` each.
    random_state : None, int or numpy.random.Generator, default 0
        Seed of the end points.
    num : int, default 101
        Points along the segment.
    tries : int, default 100
        Random pairs tried at most (the last one is kept if none qualifies).
    domain : {'region', 'stable'}, default 'region'
        Where the denominators of the end points are drawn (:data:`SEGMENT_DOMAINS`).

    Returns
    -------
    t, values : numpy.ndarray
        Positions in ``[0, 1]`` and the loss there, ``(num,)`` each.

    Examples
    --------
    >>> u = np.random.default_rng(0).normal(size=50)
    >>> t, values = random_segment(u, demo_target().simulate(u), num=11, tries=2)
    >>> t.shape, values.shape
    ((11,), (11,))
    """
    ua = as_float_array(u, "u", ndim=(1,))
    ya = as_float_array(y, "y", ndim=(1,))
    num = check_int(num, "num", low=2)
    tries = check_int(tries, "tries", low=1)
    domain = check_choice(domain, "domain", tuple(SEGMENT_DOMAINS))
    rng = check_random_state(random_state)
    order = DEMO_ORDER

    def objective(theta: np.ndarray) -> float:
        model = CanonicalSystem(theta[:order], theta[order : 2 * order], theta[2 * order])
        with np.errstate(all="ignore"):
            return loss(model, ua, ya, 0)

    for _ in range(tries):
        ends = _end_points(domain, rng)
        t, v = segment_profile(objective, ends[0], ends[1], num)
        if _good_segment(domain, t, v):
            break
    return t, v


# --------------------------------------------------------------------------- the story
def _fits_or_nan(model: CanonicalSystem, data: IOData, scaling: Scaling) -> tuple[float, float]:
    """:func:`model_fits`, or NaNs when the model's simulation is not finite."""
    try:
        return model_fits(model, data, scaling)
    except DataError:
        return float("nan"), float("nan")


def _sgd_on_dryer(
    data: IOData,
    scaling: Scaling,
    options: dict[str, Any],
    say: Say,
) -> tuple[TrainResult, list[tuple[int, CanonicalSystem]], dict[int, float]]:
    """Plain (or projected) SGD on the standardised estimation half, fit every steps // 8."""
    steps, lr, region = options["steps"], options["lr"], options["region"]
    est, _val = data.split(0.5)
    every = max(1, steps // 8)  # 400 steps: 0, 50, ..., 400
    step_fits: dict[int, float] = {}
    say(
        f"SGD: {DEMO_ORDER} hidden states initialised to predict the input, fixed learning "
        f"rate {lr:g}, {steps} full-batch steps on the estimation half (standardised), "
        f"{_method(region)}"
    )

    def watch(k: int, model: CanonicalSystem, _value: float) -> None:
        if k % every == 0 or k == steps:
            step_fits[k] = _fits_or_nan(model, data, scaling)[0]
            say(f"  step {k:4d}/{steps}: fit {step_fits[k]:6.2f} %")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        train = projected_sgd(
            sequence_batches(scaling.to_model(est.u1), scaling.output_to_model(est.y1)),
            order=DEMO_ORDER,
            steps=steps,
            lr=lr,
            burn_in=0,
            region=region,
            init=demo_initial_model(),
            snapshot_every=every,
            progress=options["progress"],
            callback=watch,
            random_state=options["random_state"],
        )
    snaps = list(train.snapshots)
    if snaps[-1][0] != train.n_steps:
        snaps.append((train.n_steps, train.model))
    if train.diverged:
        say(f"  warning: {train.stop_reason}; the last finite model is reported")
    return train, snaps, step_fits


def _fast_solver(data: IOData, say: Say) -> tuple[LDSRegressor, tuple[float, float]]:
    """``LDSRegressor(order=3)`` fitted on the estimation half, scored by the protocol."""
    est, val = data.split(0.5)
    reg = LDSRegressor(order=DEMO_ORDER).fit(est.u1, est.y1)
    res = holdout(reg.system_, data.u1, data.y1, split=0.5)
    fits = (res.estimation_fit, res.validation_fit)
    say(
        f"fast solver (LDSRegressor(order={DEMO_ORDER}), region={reg.region!r}): "
        f"estimation fit {fits[0]:.2f} %, validation fit {fits[1]:.2f} % "
        f"(first {len(est)} fit, last {len(val)} validate, means removed, zero initial state)"
    )
    return reg, fits


def _transfer_run(random_state: Any) -> tuple[CanonicalSystem, list[tuple[int, CanonicalSystem]]]:
    """Projected SGD on fresh samples towards :func:`demo_target`, a snapshot per step."""
    truth = demo_target()
    run = projected_sgd(
        fresh_batches(truth, 200, batch_size=8),
        order=DEMO_ORDER,
        steps=TRANSFER_STEPS,
        lr=TRANSFER_LR,
        burn_in=None,
        region="pacman",
        init="zero",
        snapshot_every=1,
        random_state=random_state,
    )
    return truth, list(run.snapshots)


def _method(region: Any) -> str:
    return "projected SGD in the Pac-Man region" if region else "plain SGD (no projection)"


def _notes(source: str, data: IOData, train: TrainResult, options: dict[str, Any]) -> list[str]:
    """The paragraphs at the top of the report: data source and training set-up."""
    region = options["region"]
    notes = [f"Data: {source}."]
    if data.synthetic:
        notes.append(
            "This run used SYNTHETIC data: put the real dryer.dat in the folder named by "
            "LEARNLDS_DATA (or pass --data) to learn from the measurement."
        )
    notes.append(
        f"Training: {_method(region)}, fixed learning rate {options['lr']:g}, "
        f"{train.n_steps} full-batch steps, 3 hidden states initialised to predict exactly "
        f"the input (c = 0, d = 1, denominator poles at {DEMO_INIT_POLE:g}), on the "
        "estimation half standardised by its means and standard deviations. "
        + (
            ""
            if region
            else "The Pac-Man region is not used here: the dryer's best order-3 "
            "denominator lies outside it, where projected SGD stalls near 67 % fit."
        )
    )
    return notes


def _check_options(
    steps: Any, lr: Any, region: Any, progress: Any, random_state: Any, surface_views: Any
) -> dict[str, Any]:
    """The demo's options, checked before any work."""
    if not (region is None or region == "pacman" or isinstance(region, PacmanRegion)):
        raise ParameterError(f"region: must be None, 'pacman' or a PacmanRegion, got {region!r}")
    check_random_state(random_state)  # validated here, passed on as given
    return {
        "steps": check_int(steps, "steps", low=1),
        "lr": check_float(lr, "lr", low=0.0, low_open=True),
        "region": region,
        "progress": check_bool(progress, "progress"),
        "random_state": random_state,
        "surface_views": check_int(surface_views, "surface_views", low=1),
    }


def _dryer_segments(
    data: IOData, scaling: Scaling, random_state: Any
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """:func:`random_segment` on the standardised estimation half: domain, then region."""
    est = data.split(0.5)[0]
    u, y = scaling.to_model(est.u1), scaling.output_to_model(est.y1)
    return {
        SEGMENT_DOMAINS[d]: random_segment(u, y, random_state, domain=d)
        for d in ("stable", "region")
    }


def _write_demo_report(
    result: DemoResult,
    snapshots: list[tuple[int, CanonicalSystem]],
    scaling: Scaling,
    options: dict[str, Any],
    figure_formats: Sequence[str],
) -> Path:
    """The report of the demo: every figure of the post, the fast solver as comparison."""
    reg_name = f"fast solver LDSRegressor(order={DEMO_ORDER}, region={result.regressor.region!r})"
    return write_report(
        result.out_dir,
        data=result.data,
        model=result.train.model,
        snapshots=snapshots,
        scaling=scaling,
        step_fits=result.step_fits,
        transfer=result.transfer,
        segment=result.segment,
        comparisons=[(reg_name, *result.regressor_fits)],
        title="learnlds demo: gradient descent learns the hair dryer",
        notes=_notes(result.data_source, result.data, result.train, options),
        surface_views=options["surface_views"],
        figure_formats=figure_formats,
    )


def _learn(
    out_dir: str | os.PathLike[str],
    data_path: str | os.PathLike[str] | None,
    options: dict[str, Any],
    say: Say,
) -> tuple[DemoResult, list[tuple[int, CanonicalSystem]], Scaling]:
    """Everything but the report: data, SGD snapshots, the fast solver, transfer, segment
    (``out_dir`` an existing file is refused first, not after the training)."""
    check_output_folder(out_dir, "out_dir")
    data, source = _load(data_path)
    say(f"data: {source}")
    scaling = Scaling.normalising(data.split(0.5)[0])
    train, snaps, step_fits = _sgd_on_dryer(data, scaling, options, say)
    fit_est, fit_val = _fits_or_nan(train.model, data, scaling)
    say(f"SGD model: estimation fit {fit_est:.2f} %, validation fit {fit_val:.2f} %")
    reg, reg_fits = _fast_solver(data, say)
    result = DemoResult(
        out_dir=Path(out_dir),
        report=Path(out_dir) / "index.html",
        data=data,
        data_source=source,
        train=train,
        step_fits=step_fits,
        estimation_fit=fit_est,
        validation_fit=fit_val,
        regressor=reg,
        regressor_fits=reg_fits,
        region=options["region"],
        lr=options["lr"],
        transfer=_transfer_run(options["random_state"]),
        segment=_dryer_segments(data, scaling, options["random_state"]),
        elapsed=0.0,
    )
    return result, snaps, scaling


@renamed_parameters(seed="random_state")
def run_demo(
    out_dir: str | os.PathLike[str] = "learnlds-demo",
    steps: int = 400,
    data_path: str | os.PathLike[str] | None = None,
    progress: bool = True,
    *,
    lr: float = DEMO_LR,
    region: str | PacmanRegion | None = None,
    random_state: Any = 0,
    log: Say | None = None,
    surface_views: int = 8,
    figure_formats: Sequence[str] = ("png", "svg"),
) -> DemoResult:
    """Run the post's demo on the hair dryer and write the report to ``out_dir``.

    Parameters
    ----------
    out_dir : str or os.PathLike, default 'learnlds-demo'
        Report folder (created).
    steps : int, default 400
        SGD steps on the dryer.
    data_path : str or os.PathLike, optional
        A DaISy ``dryer.dat`` (or its folder) or any SISO data file; by default
        :func:`~learnlds.datasets.load_daisy`, then the synthetic stand-in.
    progress : bool, default True
        Show a tqdm bar during SGD.
    lr : float, default DEMO_LR
        SGD's fixed learning rate.
    region : None, 'pacman' or PacmanRegion, default None
        Project onto the region (None: plain SGD, see the module notes).
    random_state : None, int or numpy.random.Generator, default 0
        Seed of the SGD runs and of the random segment (``seed`` is deprecated).
    log : callable, optional
        Receives each line of the story (data source, fit every ``steps // 8``
        steps, the fast solver's fits, the report path).
    surface_views : int, default 8
        Rotations of the quasi-convex surface in the report.
    figure_formats : sequence of str, default ('png', 'svg')
        Files written per figure under ``figures/``.

    Returns
    -------
    DemoResult
        Data, training run, fits and the report's path.

    Raises
    ------
    ParameterError
        An option of the wrong type or value (checked before any work).
    DataError
        ``data_path`` does not exist or cannot be read.

    Examples
    --------
    >>> run_demo(steps=0)  # options are checked before anything runs
    Traceback (most recent call last):
    ...
    learnlds.errors.ParameterError: steps: must be >= 1, got 0

    >>> import tempfile  # a short run takes a few seconds
    >>> with tempfile.TemporaryDirectory() as tmp:  # doctest: +SKIP
    ...     result = run_demo(tmp, steps=8, progress=False, surface_views=1)
    ...     result.report.name
    'index.html'
    """
    start = time.perf_counter()
    options = _check_options(steps, lr, region, progress, random_state, surface_views)
    lines: list[str] = []

    def say(msg: str) -> None:
        lines.append(msg)
        if log is not None:
            log(msg)

    result, snaps, scaling = _learn(out_dir, data_path, options, say)
    result.lines = lines
    result.report = _write_demo_report(result, snaps, scaling, options, figure_formats)
    say(f"report: {result.report.resolve()}")
    result.elapsed = time.perf_counter() - start
    return result
