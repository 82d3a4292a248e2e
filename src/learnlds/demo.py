"""The demo of the post as a library function: hair dryer, SGD for 400 steps, the report.

:func:`run_demo` does what ``learnlds demo`` prints:

1. loads the real DaISy hair dryer (``dryer.dat``) when it is found locally, else the
   embedded :func:`learnlds.datasets.synthetic_dryer` (clearly labelled synthetic);
2. normalises it by the estimation half's means and standard deviations and runs SGD
   with a fixed learning rate on that one sequence, as in the post: 3 hidden states,
   initialised to predict its input (``d = 1``), 400 steps, no burn-in, fit percent
   reported every 50 steps;
3. fits the default :class:`learnlds.estimator.LDSRegressor` (fast solver) for
   comparison and reports its validation fit (first half fit, last half validate, each
   half's means removed, simulation from zero state);
4. learns a small synthetic target inside the Pac-Man region by projected SGD on fresh
   samples for 10 steps (the post's transfer-function picture), evaluates the loss on a
   segment between two random points, and writes the HTML report.

Why plain SGD (``region=None``) by default: the dryer's best order-3 denominator is
outside the Pac-Man region (margin about -1.2), so projected SGD stalls at a fit near
67 % while plain SGD at ``lr = 0.01`` rises at every step (to about 77 % after 400
steps). ``region='pacman'`` runs the projected variant instead.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .datasets import IOData, find_daisy, load_daisy, synthetic_dryer
from .estimator import LDSRegressor
from .region import PacmanRegion, segment_profile
from .report import Scaling, model_fits, write_report
from .risk import loss
from .systems import CanonicalSystem
from .train import TrainResult, fresh_batches, projected_sgd, sequence_batches
from .validate import fit_percent

__all__ = ["DEMO_LR", "DemoResult", "demo_target", "find_dryer", "random_segment", "run_demo"]

DEMO_LR = 0.01
"""Fixed learning rate of the demo's SGD on normalised dryer data (fit rises every step)."""

DEMO_ORDER = 3
TRANSFER_STEPS = 10
TRANSFER_LR = 0.1
EXTRA_DATA_DIRS = ("../shared/data/daisy", "shared/data/daisy")
"""Folders (relative to the current directory) searched after ``find_daisy``'s own."""


@dataclass
class DemoResult:
    """What :func:`run_demo` did: data, training run, fits and the files it wrote."""

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
    region: str | None
    lr: float
    transfer: tuple[CanonicalSystem, list[tuple[int, CanonicalSystem]]]
    segment: tuple[np.ndarray, np.ndarray]
    elapsed: float
    lines: list[str] = field(default_factory=list)

    @property
    def synthetic(self) -> bool:
        return bool(self.data.synthetic)


def find_dryer(data_path: str | os.PathLike[str] | None = None) -> Path | None:
    """The local ``dryer.dat``: ``data_path`` if given, else ``find_daisy`` then ./shared.

    ``find_daisy`` looks at ``$LEARNLDS_DATA`` and the cache; the project layout keeps
    the real data in ``../shared/data/daisy`` next to the repository, tried last.
    """
    if data_path is not None:
        return find_daisy("dryer", data_path)
    found = find_daisy("dryer")
    if found is not None:
        return found
    for folder in EXTRA_DATA_DIRS:
        hit = find_daisy("dryer", Path.cwd() / folder)
        if hit is not None:
            return hit
    return None


def _load(data_path: str | os.PathLike[str] | None) -> tuple[IOData, str]:
    """The dryer record and a sentence saying where it came from."""
    if data_path is not None:
        p = Path(data_path).expanduser()
        if not p.exists():
            raise ValueError(f"--data {p}: no such file or folder")
        if p.is_dir() or p.name.lower().startswith("dryer"):
            data = load_daisy("dryer", path=p, download=False)
        else:
            data = IOData.from_file(p)
            if not data.is_siso:
                data = data.select(0, 0)
        return data, f"data from {data.source or p}"
    found = find_dryer()
    if found is not None:
        return load_daisy("dryer", path=found, download=False), f"real DaISy dryer.dat ({found})"
    return synthetic_dryer(), (
        "SYNTHETIC hair dryer (dryer.dat not found: set LEARNLDS_DATA to the folder holding "
        "it, or pass --data)"
    )


def demo_target() -> CanonicalSystem:
    """The synthetic order-3 target inside the Pac-Man region for the transfer picture.

    Poles 0.5 and -0.3 +- 0.4i (``a = (0.1, -0.05, -0.125)``, margin about 0.5),
    numerator ``c = (0.3, -0.4, 1.0)``.
    """
    a = np.real(np.poly([0.5, -0.3 + 0.4j, -0.3 - 0.4j]))[1:]
    return CanonicalSystem(a, [0.3, -0.4, 1.0], 0.0)


def random_segment(
    x: np.ndarray, y: np.ndarray, seed: int = 0, num: int = 101, tries: int = 50
) -> tuple[np.ndarray, np.ndarray]:
    """The loss on ``(x, y)`` along a segment between two random parameter vectors.

    Each end point has ``a`` drawn in the Pac-Man region and ``c``, ``d`` standard normal.
    The first pair (of at most ``tries``) whose minimum lies inside the segment
    (``0.15 < t < 0.85``) is kept, so the picture shows both sides of the valley.
    """
    rng = np.random.default_rng(seed)
    pac = PacmanRegion()
    n = DEMO_ORDER

    def objective(th: np.ndarray) -> float:
        return loss(CanonicalSystem(th[:n], th[n : 2 * n], th[2 * n]), x, y, 0)

    best = None
    for _ in range(tries):
        a_pts = pac.sample(n, 2, rng)
        ends = [np.concatenate((a_pts[i], rng.normal(size=n + 1))) for i in range(2)]
        t, v = segment_profile(objective, ends[0], ends[1], num)
        best = (t, v)
        if 0.15 < t[int(np.argmin(v))] < 0.85:
            break
    assert best is not None
    return best


def run_demo(
    out_dir: str | os.PathLike[str] = "learnlds-demo",
    steps: int = 400,
    data_path: str | os.PathLike[str] | None = None,
    progress: bool = True,
    *,
    lr: float = DEMO_LR,
    region: str | None = None,
    seed: int = 0,
    log: Callable[[str], None] | None = None,
    surface_views: int = 8,
    figure_formats: Sequence[str] = ("png", "svg"),
) -> DemoResult:
    """Run the post's demo on the hair dryer and write the report to ``out_dir``.

    ``log`` receives each line of the story (data source, fit every 50 steps, the
    fast solver's fits, the report path); ``progress`` shows a tqdm bar;
    ``surface_views`` is the number of rotations of the quasi-convex surface and
    ``figure_formats`` the files written per figure under ``figures/``.
    """
    start = time.perf_counter()
    lines: list[str] = []

    def say(msg: str) -> None:
        lines.append(msg)
        if log is not None:
            log(msg)

    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 1:
        raise ValueError(f"steps: must be a positive integer, got {steps!r}")
    steps = int(steps)
    data, source = _load(data_path)
    say(f"data: {source}")
    est, _val = data.split(0.5)
    scaling = Scaling.normalising(est)
    x = scaling.to_model(est.u1)
    y = scaling.output_to_model(est.y1)

    every = max(1, steps // 8)  # 400 steps: 0, 50, ..., 400
    step_fits: dict[int, float] = {}
    reg_name = "projected SGD in the Pac-Man region" if region else "plain SGD (no projection)"
    say(
        f"SGD: {DEMO_ORDER} hidden states initialised to predict the input, fixed learning "
        f"rate {lr:g}, {steps} steps on the estimation half (normalised), {reg_name}"
    )

    def watch(k: int, model: CanonicalSystem, _value: float) -> None:
        if k % every == 0 or k == steps:
            step_fits[k] = fit_percent(y, model.simulate(x))
            say(f"  step {k:4d}/{steps}: fit {step_fits[k]:6.2f} %")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        train = projected_sgd(
            sequence_batches(x, y),
            order=DEMO_ORDER,
            steps=steps,
            lr=lr,
            burn_in=0,
            region=region,
            init="identity",
            snapshot_every=every,
            progress=progress,
            callback=watch,
            rng=seed,
        )
    snaps = list(train.snapshots)
    if snaps[-1][0] != train.n_steps:
        snaps.append((train.n_steps, train.model))
    if train.diverged:
        say(f"  warning: {train.stop_reason}; the last finite model is reported")
    fit_est, fit_val = model_fits(train.model, data, scaling)
    say(f"SGD model: estimation fit {fit_est:.2f} %, validation fit {fit_val:.2f} %")

    reg = LDSRegressor(order=DEMO_ORDER).fit(est.u1, est.y1)
    reg_scaling = Scaling(float(reg.input_offset_[0]), 1.0, float(reg.output_offset_[0]), 1.0)
    reg_fits = model_fits(reg.system_, data, reg_scaling)
    say(
        f"fast solver (LDSRegressor(order={DEMO_ORDER}), region={reg.region!r}): "
        f"estimation fit {reg_fits[0]:.2f} %, validation fit {reg_fits[1]:.2f} % "
        "(first 500 fit, last 500 validate, means removed, zero initial state)"
    )

    truth = demo_target()
    tr = projected_sgd(
        fresh_batches(truth, 200, batch_size=8),
        order=DEMO_ORDER,
        steps=TRANSFER_STEPS,
        lr=TRANSFER_LR,
        burn_in=None,
        region="pacman",
        init="zero",
        snapshot_every=1,
        rng=seed,
    )
    transfer = (truth, list(tr.snapshots))

    seg = random_segment(x, y, seed)

    notes = [f"Data: {source}."]
    if data.synthetic:
        notes.append(
            "This run used SYNTHETIC data: put the real dryer.dat in the folder named by "
            "LEARNLDS_DATA (or pass --data) to learn from the measurement."
        )
    notes.append(
        f"Training: {reg_name}, fixed learning rate {lr:g}, {train.n_steps} steps, "
        "3 hidden states initialised to predict the input, on the estimation half "
        "normalised by its means and standard deviations. "
        + (
            ""
            if region
            else "The Pac-Man region is not used here: the dryer's best order-3 "
            "denominator lies outside it, where projected SGD stalls near 67 % fit."
        )
    )
    comparisons = [
        (f"fast solver LDSRegressor(order={DEMO_ORDER}, region={reg.region!r})", *reg_fits)
    ]
    out = Path(out_dir)
    page = write_report(
        out,
        data=data,
        model=train.model,
        snapshots=snaps,
        scaling=scaling,
        step_fits=step_fits,
        transfer=transfer,
        segment=seg,
        comparisons=comparisons,
        title="learnlds demo: gradient descent learns the hair dryer",
        notes=notes,
        surface_views=surface_views,
        figure_formats=figure_formats,
    )
    elapsed = time.perf_counter() - start
    say(f"report: {page.resolve()}")
    return DemoResult(
        out_dir=out,
        report=page,
        data=data,
        data_source=source,
        train=train,
        step_fits=step_fits,
        estimation_fit=fit_est,
        validation_fit=fit_val,
        regressor=reg,
        regressor_fits=reg_fits,
        region=region,
        lr=float(lr),
        transfer=transfer,
        segment=seg,
        elapsed=elapsed,
        lines=lines,
    )
