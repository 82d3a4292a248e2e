"""The post's HTML report of a learned SISO model: its figures, fits and the model.

:func:`write_report` writes ONE ``index.html`` that works offline: every image is an
inline base64 PNG, the script is a few lines of plain JavaScript, and nothing is
fetched from anywhere. Step-by-step figures (predictions after 0..K training steps,
``|Ghat|`` after 0..10 steps, the rotating surface) are shown one frame at a time:
click the image to advance, or move the slider, as in the post. The same figures are
also saved as PNG and SVG under ``figures/`` for papers and slides.

Figures that need training snapshots are replaced by what is available when only a
fitted model is given (``learnlds report``), and the page says so. Every fit on the
page follows the project's protocol, :func:`learnlds.validate.holdout`
(:func:`model_fits`, on signals mapped by :class:`Scaling`).

The report of any fitted model, several inputs and outputs included, is
:func:`learnlds.model_report.write_model_report` (also importable from here). Both
pages share their scaffolding (:mod:`learnlds._html`: figures, markup, staging).

The figures are rendered off-screen (:mod:`learnlds.plots` makes plain
:class:`matplotlib.figure.Figure` objects): writing a report never touches pyplot or
matplotlib's global backend.

Examples
--------
>>> from learnlds.datasets import synthetic_dryer
>>> data = synthetic_dryer(400)
>>> est_fit, val_fit = model_fits(data.truth, data, Scaling())
>>> bool(est_fit > 80 and val_fit > 80)
True
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from . import plots
from ._boundary import check_float, check_int
from ._files import as_path, check_output_folder
from ._html import (
    _esc,
    _figure_store,
    _Figures,
    _fits_table,
    _fmt,
    _notes,
    _page,
    _staged,
    _stepper,
    _still,
)
from .datasets import IOData
from .errors import DataError, ParameterError, UnsupportedShapeError
from .model_report import write_model_report
from .region import PacmanRegion
from .systems import CanonicalSystem
from .uncertainty import parameter_covariance
from .validate import HoldoutResult, holdout

__all__ = ["Scaling", "model_fits", "write_model_report", "write_report"]

Snapshots = Sequence[tuple[int, CanonicalSystem]]


@dataclass(frozen=True)
class Scaling:
    """How raw signals map to the model's: ``(u - u_offset) / u_scale``, likewise ``y``.

    The demo normalises by the estimation data's means and standard deviations
    (:meth:`normalising`); a model from ``learnlds fit`` only removes the means
    (scales 1).

    Parameters
    ----------
    u_offset, y_offset : float, default 0.0
        Subtracted from the raw input and output.
    u_scale, y_scale : float, default 1.0
        Positive divisors applied after the offsets.

    Raises
    ------
    ParameterError
        An offset or scale is not a finite number, or a scale is not positive.

    Examples
    --------
    >>> Scaling(u_offset=1.0, u_scale=2.0).to_model([1.0, 3.0])
    array([0., 1.])
    """

    u_offset: float = 0.0
    u_scale: float = 1.0
    y_offset: float = 0.0
    y_scale: float = 1.0

    def __post_init__(self) -> None:
        for name in ("u_offset", "y_offset"):
            object.__setattr__(self, name, check_float(getattr(self, name), name))
        for name in ("u_scale", "y_scale"):
            value = check_float(getattr(self, name), name, low=0.0, low_open=True)
            object.__setattr__(self, name, value)

    @classmethod
    def normalising(cls, data: IOData) -> Scaling:
        """Subtract the means and divide by the standard deviations of ``data`` (SISO).

        Parameters
        ----------
        data : IOData
            A single-input single-output record (usually the estimation part).

        Returns
        -------
        Scaling
            Offsets the means, scales the standard deviations.

        Raises
        ------
        DataError
            The input or the output is constant.

        Examples
        --------
        >>> from learnlds.datasets import IOData
        >>> Scaling.normalising(IOData.from_arrays([0.0, 2.0], [1.0, 3.0]))
        Scaling(u_offset=1.0, u_scale=1.0, y_offset=2.0, y_scale=1.0)
        """
        u, y = data.u1, data.y1
        su, sy = float(np.std(u)), float(np.std(y))
        if su == 0 or sy == 0:
            raise DataError(f"{data.name}: constant input or output, cannot normalise")
        return cls(float(np.mean(u)), su, float(np.mean(y)), sy)

    def to_model(self, u: Any) -> np.ndarray:
        """The raw input ``u`` in the model's units: ``(u - u_offset) / u_scale``.

        Parameters
        ----------
        u : array_like
            Raw input.

        Returns
        -------
        numpy.ndarray
            The scaled input.

        Examples
        --------
        >>> Scaling(u_scale=2.0).to_model([2.0])
        array([1.])
        """
        return (np.asarray(u, dtype=float) - self.u_offset) / self.u_scale

    def output_to_model(self, y: Any) -> np.ndarray:
        """The raw output ``y`` in the model's units: ``(y - y_offset) / y_scale``.

        Parameters
        ----------
        y : array_like
            Raw output.

        Returns
        -------
        numpy.ndarray
            The scaled output.

        Examples
        --------
        >>> Scaling(y_offset=1.0).output_to_model([3.0])
        array([2.])
        """
        return (np.asarray(y, dtype=float) - self.y_offset) / self.y_scale

    def from_model(self, yhat: Any) -> np.ndarray:
        """A model output back in raw units: ``yhat * y_scale + y_offset``.

        Parameters
        ----------
        yhat : array_like
            Output in the model's units.

        Returns
        -------
        numpy.ndarray
            The output in raw units.

        Examples
        --------
        >>> Scaling(y_offset=1.0, y_scale=2.0).from_model([1.0])
        array([3.])
        """
        return np.asarray(yhat, dtype=float) * self.y_scale + self.y_offset

    def physical(self, model: CanonicalSystem) -> CanonicalSystem:
        """The same model between the offset-free raw signals (gain ``y_scale / u_scale``).

        Parameters
        ----------
        model : CanonicalSystem
            A SISO model acting on scaled signals.

        Returns
        -------
        CanonicalSystem
            ``model`` with ``c`` and ``d`` multiplied by ``y_scale / u_scale``.

        Examples
        --------
        >>> m = CanonicalSystem([-0.5], [1.0], 1.0)
        >>> float(Scaling(u_scale=2.0).physical(m).d)
        0.5
        """
        k = self.y_scale / self.u_scale
        return model.with_params(c=model.c * k, d=model.d * k)

    def predict(self, model: CanonicalSystem, u: Any) -> np.ndarray:
        """The model's simulated output (zero state) for raw input ``u``, in raw units.

        Parameters
        ----------
        model : CanonicalSystem
            A SISO model acting on scaled signals.
        u : array_like
            Raw input, ``(T,)``.

        Returns
        -------
        numpy.ndarray
            The simulated output in raw units, ``(T,)``.

        Examples
        --------
        >>> Scaling(y_offset=10.0).predict(CanonicalSystem([0.0], [1.0]), [1.0, 0.0])
        array([10., 11.])
        """
        return self.from_model(model.simulate(self.to_model(u)))


def _check_data(data: Any) -> IOData:
    if not isinstance(data, IOData):
        raise ParameterError(f"data: expected an IOData, got {type(data).__name__}")
    if not data.is_siso:
        raise UnsupportedShapeError(
            f"data: expected a single-input single-output record, got {data.n_inputs} "
            f"inputs and {data.n_outputs} outputs"
        )
    return data


def _holdout(model: Any, data: IOData, scaling: Scaling, split: float) -> HoldoutResult:
    """The protocol on the record divided by the scales.

    :func:`~learnlds.validate.holdout` centres each part on its own means, so the
    offsets of ``scaling`` do not enter; the fits are unchanged by the scales
    (fit percent is scale-free) but the model sees the signals it was trained on.
    """
    return holdout(model, data.u1 / scaling.u_scale, data.y1 / scaling.y_scale, split=split)


def model_fits(
    model: Any, data: IOData, scaling: Scaling, split: float = 0.5
) -> tuple[float, float]:
    """``(estimation fit %, validation fit %)`` by the project's protocol.

    This is :func:`learnlds.validate.holdout` applied to ``data`` divided by the
    scales of ``scaling``: the first ``split`` of the record estimates, the rest
    validates, each part centred on its own means, simulation from zero state.

    Parameters
    ----------
    model : CanonicalSystem or object with ``simulate``
        A SISO model acting on signals scaled by ``scaling``.
    data : IOData
        The raw single-input single-output record.
    scaling : Scaling
        Maps raw signals to the model's (only the scales matter here).
    split : float, default 0.5
        Fraction of the record used for estimation, in ``(0, 1)``.

    Returns
    -------
    (float, float)
        Estimation and validation fit percent.

    Raises
    ------
    ParameterError
        ``data`` or ``scaling`` of the wrong type.

    Examples
    --------
    >>> from learnlds.datasets import IOData
    >>> model = CanonicalSystem([-0.5], [1.0])
    >>> u = np.random.default_rng(0).normal(size=400)
    >>> data = IOData.from_arrays(u, model.simulate(u))
    >>> bool(min(model_fits(model, data, Scaling())) > 95)
    True
    """
    _check_data(data)
    if not isinstance(scaling, Scaling):
        raise ParameterError(f"scaling: expected a Scaling, got {type(scaling).__name__}")
    res = _holdout(model, data, scaling, split)
    return res.estimation_fit, res.validation_fit


# --------------------------------------------------------------------------- tables
def _model_table(model: CanonicalSystem, region: PacmanRegion) -> str:
    """Coefficients, poles and the margin to the Pac-Man region as an HTML table."""
    margin = region.margin(model.a)
    poles = model.poles()
    pole_txt = ", ".join(
        f"{p.real:.4f}{'+' if p.imag >= 0 else '-'}{abs(p.imag):.4f}i"
        if abs(p.imag) > 1e-12
        else f"{p.real:.4f}"
        for p in poles
    )
    inside = "inside" if margin >= -1e-9 else "outside"
    rows = [
        ("order n", str(model.order)),
        ("a (denominator)", ", ".join(_fmt(v) for v in model.a)),
        ("c (numerator)", ", ".join(_fmt(v) for v in np.ravel(model.c))),
        ("d (feed-through)", _fmt(float(np.ravel(model.d)[0]))),
        ("poles", pole_txt),
        ("spectral radius", f"{model.spectral_radius():.4f}"),
        ("margin to the Pac-Man region", f"{margin:.4g} ({inside} the region)"),
    ]
    body = "".join(f"<tr><th>{_esc(k)}</th><td><code>{_esc(v)}</code></td></tr>" for k, v in rows)
    return f'<table id="model-table">{body}</table>'


# --------------------------------------------------------------------------- sections
_ADVANCE = "Click the picture or move the slider to advance."


@dataclass
class _Context:
    """What every section needs: the record and its parts, the model, the fits, the figures."""

    out: Path
    data: IOData
    est: IOData
    val: IOData
    model: CanonicalSystem
    scaling: Scaling
    split: float
    region: PacmanRegion
    fits: HoldoutResult
    figs: _Figures
    say: Callable[[str], None]
    missing: list[str] = field(default_factory=list)


def _context(
    out_dir: str | Path,
    data: Any,
    model: Any,
    scaling: Scaling | None,
    split: float,
    region: PacmanRegion | None,
    figures: _Figures,
    log: Callable[[str], None] | None,
) -> _Context:
    """Check the report's inputs and compute what the sections share (the fits first)."""
    _check_data(data)
    if not isinstance(model, CanonicalSystem):
        raise ParameterError(f"model: expected a CanonicalSystem, got {type(model).__name__}")
    if not model.is_siso:
        raise UnsupportedShapeError("model: the report draws single-input single-output models")
    split = check_float(split, "split", low=0.0, high=1.0, low_open=True, high_open=True)
    if region is not None and not isinstance(region, PacmanRegion):
        raise ParameterError(f"region: expected a PacmanRegion, got {type(region).__name__}")
    if log is not None and not callable(log):
        raise ParameterError("log: must be callable or None")
    est, val = data.split(split)
    if scaling is None:
        scaling = Scaling(float(est.u1.mean()), 1.0, float(est.y1.mean()), 1.0)
    elif not isinstance(scaling, Scaling):
        raise ParameterError(f"scaling: expected a Scaling, got {type(scaling).__name__}")
    out = as_path(out_dir, "out_dir")
    return _Context(
        out=out,
        data=data,
        est=est,
        val=val,
        model=model,
        scaling=scaling,
        split=split,
        region=region or PacmanRegion(),
        fits=_holdout(model, data, scaling, split),
        figs=figures,
        say=log or (lambda _msg: None),
    )


def _data_section(ctx: _Context) -> str:
    data = ctx.data
    html_ = "<h2>1. The data</h2>" + _still(
        ctx.figs.still(plots.io_data(data), "1-data"),
        "input and output",
        f"{_esc(data.description or data.name)} ({len(data)} samples; first "
        f"{len(ctx.est)} for estimation, last {len(ctx.val)} for validation).",
    )
    ctx.say("figure 1: data")
    return html_


def _snapshot_fit(ctx: _Context, model: CanonicalSystem) -> float | None:
    """Estimation fit of a training snapshot (None when its simulation is not finite)."""
    try:
        return _holdout(model, ctx.data, ctx.scaling, ctx.split).estimation_fit
    except DataError:
        return None


def _prediction_frames(
    ctx: _Context, snapshots: Snapshots, step_fits: dict[int, float] | None
) -> list[tuple[str, Callable[[], Any]]]:
    """One frame per snapshot; the fit in the title from ``step_fits`` or the protocol."""
    est = ctx.est
    lim = plots._limits(est.u1, est.y1)
    total = int(snapshots[-1][0])
    frames = []
    for k, m in snapshots:
        fit = step_fits.get(int(k)) if step_fits else None
        if fit is None:
            fit = _snapshot_fit(ctx, m)
        draw = partial(
            plots.predictions,
            est.u1,
            est.y1,
            snapshots,
            int(k),
            time=est.time,
            predict=ctx.scaling.predict,
            ylim=lim,
            fit=fit,
        )
        frames.append((f"step {int(k)}/{total}", draw))
    return frames


def _fitted_prediction(ctx: _Context) -> str:
    """The still that replaces the animation when no snapshots were given."""
    est = ctx.est
    fit = ctx.fits.estimation_fit
    fig = plots.predictions(
        est.u1,
        est.y1,
        [(0, ctx.model)],
        time=est.time,
        predict=ctx.scaling.predict,
        ylim=plots._limits(est.u1, est.y1),
        fit=fit,
        title=f"prediction of the fitted model (fit {fit:.1f} %)",
    )
    return "<h2>2. Prediction of the fitted model</h2>" + _still(
        ctx.figs.still(fig, "2-prediction"),
        "prediction",
        "Measured output (red), input (green dots) and the fitted model's simulated "
        "output from zero state (blue) on the estimation part. No training "
        "snapshots were given, so there is no step-by-step animation.",
    )


def _predictions_section(
    ctx: _Context, snapshots: Snapshots | None, step_fits: dict[int, float] | None
) -> str:
    if snapshots:
        total = int(snapshots[-1][0])
        html_ = "<h2>2. Predictions during training</h2>" + _stepper(
            "predictions",
            ctx.figs.frames(_prediction_frames(ctx, snapshots, step_fits), "2-predictions"),
            "Measured output (red), input (green dots) and the model's prediction (blue) "
            f"on the estimation data after 0 to {total} gradient steps. Shown first: the "
            f"final step {total}; the next click starts again at step 0.",
            _ADVANCE,
            start=len(snapshots) - 1,
        )
    else:
        ctx.missing.append("predictions during training (no training snapshots)")
        html_ = _fitted_prediction(ctx)
    ctx.say("figure 2: predictions")
    return html_


Segment = tuple[np.ndarray, np.ndarray]
_SEGMENT_CAPTION = (
    "The training loss on the estimation data along the line segment between two random "
    "parameter vectors (numerator c and feed-through d standard normal). "
)
_SEGMENT_DOMAINS_NOTE = (
    " Same loss and data in every panel. Between random stable systems (denominators "
    "with poles anywhere in the disc of radius 0.95, mostly outside the Pac-Man region) "
    "the objective is not convex: it rises above its convex envelope. Between points of "
    "the Pac-Man region it decreases, then increases: quasi-convex looking."
)


def _segment_profiles(segment: Any) -> dict[str, Segment]:
    """``(t, values)`` or ``{label: (t, values)}`` as a labelled mapping."""
    if isinstance(segment, dict):
        return {str(k): v for k, v in segment.items()}
    if isinstance(segment, tuple) and len(segment) == 2:
        return {"": segment}
    raise ParameterError(
        f"segment: expected (t, values) or {{label: (t, values)}}, got {type(segment).__name__}"
    )


def _segment_section(ctx: _Context, segment: Any) -> str:
    if segment is None:
        ctx.missing.append("objective along a segment (needs the training data set-up of the demo)")
        return ""
    profiles = _segment_profiles(segment)
    if list(profiles) == [""]:
        t, v = profiles[""]
        fig = plots.segment(t, v, ylabel="loss (normalised data)")
        caption = _SEGMENT_CAPTION + ("It decreases, then increases: quasi-convex looking.")
    else:
        fig = plots.segments(profiles, ylabel="loss (normalised data)")
        panels = {2: ["left", "right"], 3: ["left", "middle", "right"]}.get(
            len(profiles), [f"panel {i + 1}" for i in range(len(profiles))]
        )
        caption = _SEGMENT_CAPTION + " ".join(
            f"{side.capitalize()}: {_esc(label)}."
            for side, label in zip(panels, profiles, strict=True)
        )
        if any(label.startswith("domain") for label in profiles):
            caption += _SEGMENT_DOMAINS_NOTE
    html_ = "<h2>3. The objective between two random points</h2>" + _still(
        ctx.figs.still(fig, "3-segment"), "objective along a segment", caption
    )
    ctx.say("figure 3: segment")
    return html_


def _pacman_section(ctx: _Context) -> str:
    a = ctx.model.a
    margin = ctx.region.margin(a)
    where = "inside" if margin >= -1e-9 else "outside"
    html_ = "<h2>4. The Pac-Man curve of the learned denominator</h2>" + _still(
        ctx.figs.still(plots.pacman(a, ctx.region), "4-pacman"),
        "Pac-Man curve",
        f"q<sub>a</sub>(z) = 1 + a<sub>1</sub>z<sup>-1</sup> + ... for |z| = 1 with the "
        f"90-degree wedge. The learned a is <strong>{where}</strong> the region "
        f"(margin {margin:.3g}).",
    )
    ctx.say("figure 4: Pac-Man")
    return html_


def _transfer_frames(
    truth: CanonicalSystem, snapshots: Snapshots
) -> list[tuple[str, Callable[[], Any]]]:
    """One frame per snapshot, all on the y-limits of the target and every model."""
    w = np.linspace(0.0, 2.0 * np.pi, 512)
    top = max(
        float(np.abs(truth.frequency_response(w)).max()),
        max(float(np.abs(m.frequency_response(w)).max()) for _, m in snapshots),
    )
    total = int(snapshots[-1][0])
    return [
        (
            f"step {int(k)}/{total}",
            partial(plots.transfer_functions, truth, snapshots, int(k), ylim=(0.0, 1.08 * top)),
        )
        for k, _ in snapshots
    ]


def _transfer_section(ctx: _Context, transfer: tuple[CanonicalSystem, Snapshots] | None) -> str:
    if transfer is None:
        ctx.missing.append("target transfer function beside the learned one (needs a known target)")
        return ""
    truth, snapshots = transfer[0], list(transfer[1])
    html_ = "<h2>5. Target transfer function beside the learned one</h2>" + _stepper(
        "transfer",
        ctx.figs.frames(_transfer_frames(truth, snapshots), "5-transfer"),
        "Left: |G(e<sup>i&omega;</sup>)| of a synthetic target inside the Pac-Man "
        "region. Right: |&#264;(e<sup>i&omega;</sup>)| after 0 to "
        f"{int(snapshots[-1][0])} steps of projected SGD on fresh samples.",
        _ADVANCE,
    )
    ctx.say("figure 5: transfer functions")
    return html_


def _model_covariance(ctx: _Context, model: CanonicalSystem) -> np.ndarray | None:
    """Parameter covariance of ``model`` on the centred estimation part (None if singular)."""
    u, y = ctx.est.u1, ctx.est.y1
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pc = parameter_covariance(model, u - u.mean(), y - y.mean(), burn_in=0)
    except (DataError, np.linalg.LinAlgError):
        return None
    cov = pc.covariance
    return cov if pc.rank == cov.shape[0] and np.all(np.isfinite(cov)) else None


def _bode_section(ctx: _Context) -> str:
    model = ctx.scaling.physical(ctx.model)
    cov = _model_covariance(ctx, model)
    fig = plots.bode_plot(
        {"model": model}, dt=ctx.data.dt, covariance=None if cov is None else {"model": cov}
    )
    band = (
        " Shaded: &plusmn;2&sigma; (about 95 %) from the parameter covariance on the "
        "estimation data (delta method)."
        if cov is not None
        else ""
    )
    return "<h2>Bode diagram of the model</h2>" + _still(
        ctx.figs.still(fig, "5-bode"),
        "Bode diagram",
        "Magnitude and phase of the learned model's frequency response." + band,
    )


def _surface_section(ctx: _Context, views: int) -> str:
    frames = [
        (
            f"view {i + 1}/{views}",
            partial(plots.quasiconvex_surface, azim=-130.0 + 360.0 * i / views, num=60),
        )
        for i in range(views)
    ]
    html_ = "<h2>6. A quasi-convex function</h2>" + _stepper(
        "surface",
        ctx.figs.frames(frames, "6-surface"),
        "h(u, v) = (u/v - 1)<sup>2</sup> over the reals: not convex, but quasi-convex "
        "where v &gt; 0 (coloured).",
        "Click the picture or move the slider to rotate.",
    )
    ctx.say("figure 6: surface")
    return html_


def _residuals_section(ctx: _Context) -> str:
    """The protocol's validation residuals against the (centred, scaled) validation input."""
    u_val = ctx.val.u1 / ctx.scaling.u_scale
    fig = plots.residual_plot(ctx.fits.residuals_validation, u_val - u_val.mean())
    return "<h2>Residuals on the validation data</h2>" + _still(
        ctx.figs.still(fig, "7-residuals"),
        "residuals",
        "Output-error residuals y - &#375; on the validation part (means removed, zero "
        "initial state): their autocorrelation and their cross-correlation with the "
        "input, with 99 % bounds. A model that captured the dynamics leaves white "
        "residuals that are uncorrelated with past inputs.",
    )


def _model_section(
    ctx: _Context,
    comparisons: Sequence[tuple[str, float | None, float | None]],
    step_fits: dict[int, float] | None,
) -> str:
    """The model's coefficients, the fit table and the fits during training."""
    fit_rows = [("this model", ctx.fits.estimation_fit, ctx.fits.validation_fit), *comparisons]
    step_rows = ""
    if step_fits:
        step_rows = (
            "<h3>Estimation fit during training</h3><table id='step-fits'><tr><th>step</th>"
            "<th>fit</th></tr>"
            + "".join(f"<tr><td>{k}</td><td>{v:.2f} %</td></tr>" for k, v in step_fits.items())
            + "</table>"
        )
    scaled = ctx.scaling.u_scale != 1.0 or ctx.scaling.y_scale != 1.0
    signals = (
        "normalised signals (means removed, divided by the standard deviations of the "
        "estimation data)."
        if scaled
        else "signals with the estimation means removed."
    )
    return (
        "<h2>The fitted model</h2><p>Controllable canonical form: "
        "p<sub>a</sub>(z) = z<sup>n</sup> + a<sub>1</sub>z<sup>n-1</sup> + ... + a<sub>n</sub>, "
        "G(z) = (c<sub>1</sub> + c<sub>2</sub>z + ... + c<sub>n</sub>z<sup>n-1</sup>) / "
        f"p<sub>a</sub>(z) + d, acting on {signals}</p>"
        + _model_table(ctx.model, ctx.region)
        + "<h3>Fit percent</h3><p>100 (1 - ||y - &#375;|| / ||y - mean y||) of a simulation "
        "from zero state; validation: the last part with its own means removed.</p>"
        + _fits_table(fit_rows)
        + step_rows
    )


def _notes_html(notes: Sequence[str], missing: Sequence[str]) -> str:
    """The caller's notes, then what was not drawn and why."""
    out = _notes(notes)
    if missing:
        out += (
            '<p class="note" id="missing">Not shown, because only a fitted model was given: '
            + _esc("; ".join(missing))
            + ". Shown instead: the data, the model's prediction, the residuals, the Pac-Man "
            "curve and the Bode diagram. <code>learnlds demo</code> draws all of them.</p>"
        )
    return out


_POST_INTRO = (
    "Gradient descent learns linear dynamical systems (Hardt, Ma, Recht): the "
    "figures of the post, redrawn by <code>learnlds</code>."
)


def _sections(
    ctx: _Context,
    snapshots: Snapshots | None,
    step_fits: dict[int, float] | None,
    segment: Segment | dict[str, Segment] | None,
    transfer: tuple[CanonicalSystem, Snapshots] | None,
    views: int,
) -> str:
    """The figures in the post's order; each records in ``ctx.missing`` what it could not draw."""
    return "".join(
        [
            _data_section(ctx),
            _predictions_section(ctx, snapshots, step_fits),
            _segment_section(ctx, segment),
            _pacman_section(ctx),
            _transfer_section(ctx, transfer),
            _bode_section(ctx),
            _surface_section(ctx, views),
            _residuals_section(ctx),
        ]
    )


def _checked_training(snapshots: Any, transfer: Any) -> tuple[Any, Any]:
    """``snapshots`` and ``transfer`` checked before any figure is drawn (a string there
    failed deep inside the animation)."""
    snapshots = None if snapshots is None else plots._snapshot_pairs(snapshots)
    if transfer is not None:
        if not (isinstance(transfer, tuple | list) and len(transfer) == 2):
            raise ParameterError("transfer: must be a (truth, snapshots) pair")
        transfer = (transfer[0], plots._snapshot_pairs(transfer[1], "transfer[1]"))
    return snapshots, transfer


def write_report(
    out_dir: str | Path,
    *,
    data: IOData,
    model: CanonicalSystem,
    snapshots: Snapshots | None = None,
    scaling: Scaling | None = None,
    split: float = 0.5,
    step_fits: dict[int, float] | None = None,
    transfer: tuple[CanonicalSystem, Snapshots] | None = None,
    segment: Segment | dict[str, Segment] | None = None,
    comparisons: Sequence[tuple[str, float | None, float | None]] = (),
    region: PacmanRegion | None = None,
    title: str | None = None,
    notes: Sequence[str] = (),
    surface_views: int = 8,
    save_figures: bool = True,
    figure_formats: Sequence[str] = ("png", "svg"),
    log: Callable[[str], None] | None = None,
) -> Path:
    """Write ``out_dir/index.html`` (self-contained) and ``out_dir/figures/*``; return the page.

    Missing pieces (snapshots, transfer, segment) are replaced by what a fitted model
    alone gives, and the page says which. Fits follow :func:`model_fits`. Built in a
    temporary folder beside ``out_dir`` and moved in when complete: a failed run leaves
    the previous ``index.html`` and ``figures/`` (and other files) as they were.

    Parameters
    ----------
    out_dir : str or pathlib.Path
        Folder of the page (created).
    data, model : IOData, CanonicalSystem
        The raw SISO record (first ``split`` estimation, rest validation) and the model.
    snapshots, step_fits : optional
        ``[(step, model)]`` from training (the prediction animation); ``{step: estimation
        fit}`` (its titles and the table of fits).
    scaling, split : Scaling, float
        Raw signals to the model's (default: remove the estimation means); estimation part.
    transfer, segment : optional
        ``(truth, snapshots)`` for ``|G|`` beside ``|Ghat|``; ``(t, values)``, the objective
        along a segment, or ``{label: (t, values)}``: labelled panels side by side.
    comparisons, notes : sequence
        Rows ``(name, estimation fit, validation fit)`` for the fit table; paragraphs on top.
    region, title, log : optional
        The Pac-Man region (default ``PacmanRegion()``); the page's heading; a callable
        receiving one line per figure drawn.
    surface_views, save_figures, figure_formats : int, bool, sequence of str
        Rotations of the surface (>= 1); whether stills (and each animation's last frame)
        are saved under ``figures/``, in which formats.

    Returns
    -------
    pathlib.Path
        The written ``index.html``.

    Raises
    ------
    ParameterError, UnsupportedShapeError
        Arguments of the wrong type or value; a MIMO record or model.

    Examples
    --------
    >>> import tempfile; from learnlds.datasets import synthetic_dryer
    >>> d = synthetic_dryer(200)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     page = write_report(tmp, data=d, model=d.truth, surface_views=1, save_figures=False)
    ...     "Pac-Man" in page.read_text(encoding="utf-8")
    True
    """
    views, target = check_int(surface_views, "surface_views", low=1), check_output_folder(out_dir)
    snapshots, transfer = _checked_training(snapshots, transfer)
    _figure_store(target, save_figures, figure_formats)  # options checked before any work
    ctx = _context(out_dir, data, model, scaling, split, region, _Figures(None), log)

    def build() -> str:  # called once the staging folder's figure store is in ctx
        drawn = _sections(ctx, snapshots, step_fits, segment, transfer, views)
        body = _notes_html(notes, ctx.missing) + _model_section(ctx, comparisons, step_fits)
        return _page(title or f"learnlds report: {data.name}", body + drawn, _POST_INTRO)

    return _staged(ctx, target, (save_figures, figure_formats), build)
