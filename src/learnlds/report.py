"""A self-contained HTML report of a learned model: the post's figures, fits and the model.

:func:`write_report` writes ONE ``index.html`` that works offline: every image is an
inline base64 PNG, the script is a few lines of plain JavaScript, and nothing is
fetched from anywhere. Step-by-step figures (predictions after 0..K training steps,
``|Ghat|`` after 0..10 steps, the rotating surface) are shown one frame at a time:
click the image to advance, or move the slider, as in the post. The same figures are
also saved as PNG and SVG under ``figures/`` for papers and slides.

Figures that need training snapshots are replaced by what is available when only a
fitted model is given (``learnlds report``), and the page says so. Every fit on the
page follows the project's protocol, :func:`learnlds.validate.holdout`.

:func:`write_model_report` is the report of any fitted model, several inputs and
outputs included (``learnlds report`` on such a model): the data, the model's poles,
DC gain and matrices, the fit per output, and Bode, step and residual figures per
output, with no figure of the post.

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

import base64
import html
import io
import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from . import plots
from ._boundary import as_float_array, check_bool, check_float, check_int
from .datasets import IOData
from .errors import DataError, ParameterError, UnsupportedShapeError
from .region import PacmanRegion
from .statespace import StateSpaceSystem
from .systems import CanonicalSystem
from .uncertainty import parameter_covariance
from .validate import (
    HoldoutResult,
    ResidualAnalysis,
    holdout,
    residual_analysis,
    split_centred,
)

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


# --------------------------------------------------------------------------- images
def _data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _png(fig: Any, dpi: int = 96) -> bytes:
    """The figure rendered as PNG bytes."""
    buf = io.BytesIO()
    # a constrained layout already fits the figure: skip the extra draw of a tight bbox
    engine = type(fig.get_layout_engine()).__name__
    tight = None if engine == "ConstrainedLayoutEngine" else "tight"
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches=tight)
    return buf.getvalue()


class _Figures:
    """Embeds figures as PNG data URLs and saves the stills as PNG+SVG under ``figures/``.

    A saved figure is rendered once per format: the PNG written by
    :func:`learnlds.plots.save_figure` is the one embedded. The figures come from
    :mod:`learnlds.plots` (outside pyplot), so nothing needs closing.
    """

    def __init__(self, folder: Path | None, formats: Sequence[str] = ("png", "svg")) -> None:
        self.folder = folder
        self.formats = tuple(formats)
        self.files: list[Path] = []

    def _embed(self, fig: Any, stem: str | None) -> str:
        png = None
        if self.folder is not None and stem is not None and self.formats:
            paths = plots.save_figure(fig, self.folder / stem, formats=self.formats)
            self.files.extend(paths)
            png = next((p.read_bytes() for p in paths if p.suffix == ".png"), None)
        return _data_url(_png(fig) if png is None else png)

    def still(self, fig: Any, stem: str) -> str:
        return self._embed(fig, stem)

    def frames(
        self, draws: Sequence[tuple[str, Callable[[], Any]]], stem: str
    ) -> list[tuple[str, str]]:
        """``[(label, draw)]`` -> ``[(label, data URL)]``, one figure alive at a time.

        Only the last frame is saved to disk.
        """
        last = len(draws) - 1
        return [
            (label, self._embed(draw(), stem if i == last else None))
            for i, (label, draw) in enumerate(draws)
        ]


# --------------------------------------------------------------------------- HTML
_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;max-width:960px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ddd}
figure{margin:1em 0}figure img{max-width:100%;height:auto;display:block}
figcaption{font-size:.92em;color:#555}
.stepper img{cursor:pointer}.stepper .controls{display:flex;gap:.6em;align-items:center;
margin:.4em 0}.stepper input[type=range]{flex:1}.stepper .label{min-width:9em;
font-variant-numeric:tabular-nums}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ccc;padding:.25em .6em;
text-align:left;font-variant-numeric:tabular-nums}th{background:#f4f4f4}
.note{background:#fff8e1;border-left:4px solid #f0b400;padding:.5em .8em;margin:1em 0}
code{background:#f4f4f4;padding:0 .2em}
"""

_JS = """
(function () {
  function setup(box) {
    var frames = box.querySelectorAll('img.frame');
    var slider = box.querySelector('input.slider');
    var label = box.querySelector('.label');
    var labels = JSON.parse(box.getAttribute('data-labels'));
    var current = 0;
    function show(i) {
      current = ((i % frames.length) + frames.length) % frames.length;
      for (var k = 0; k < frames.length; k++) {
        frames[k].style.display = (k === current) ? 'block' : 'none';
      }
      slider.value = String(current);
      label.textContent = labels[current];
      box.setAttribute('data-current', String(current));
    }
    for (var k = 0; k < frames.length; k++) {
      frames[k].addEventListener('click', function () { show(current + 1); });
    }
    slider.addEventListener('input', function () { show(parseInt(slider.value, 10)); });
    box.querySelector('button.prev').addEventListener('click', function () { show(current - 1); });
    box.querySelector('button.next').addEventListener('click', function () { show(current + 1); });
    show(parseInt(box.getAttribute('data-start') || '0', 10));
  }
  var boxes = document.querySelectorAll('.stepper');
  for (var i = 0; i < boxes.length; i++) { setup(boxes[i]); }
})();
"""


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _img(src: str, alt: str, cls: str = "") -> str:
    c = f' class="{cls}"' if cls else ""
    return f'<img{c} src="{src}" alt="{_esc(alt)}">'


def _still(src: str, alt: str, caption: str) -> str:
    return f"<figure>{_img(src, alt)}<figcaption>{caption}</figcaption></figure>"


def _stepper(
    ident: str, frames: list[tuple[str, str]], caption: str, hint: str, start: int = 0
) -> str:
    """Frames shown one at a time, ``start`` first (also without JavaScript)."""
    labels = json.dumps([lab for lab, _ in frames])
    hidden = ' style="display:none"'
    imgs = "".join(
        f'<img class="frame" src="{src}" alt="{_esc(lab)}" data-index="{i}"'
        f"{'' if i == start else hidden}>"
        for i, (lab, src) in enumerate(frames)
    )
    return (
        f'<figure class="stepper" id="{ident}" data-labels="{_esc(labels)}" '
        f'data-start="{start}">{imgs}'
        '<div class="controls"><button class="prev" type="button" title="previous">&#9664;'
        f'</button><input class="slider" type="range" min="0" max="{len(frames) - 1}" '
        f'value="{start}" step="1" aria-label="{_esc(hint)}"><button class="next" '
        'type="button" title="next">&#9654;</button><span class="label">'
        f"{_esc(frames[start][0])}</span></div>"
        f"<figcaption>{caption} <em>{_esc(hint)}</em></figcaption></figure>"
    )


def _fmt(v: float) -> str:
    return f"{v:.6g}"


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


def _fits_table(
    rows: Sequence[tuple[str, float | None, float | None]], first: str = "model"
) -> str:
    def cell(v: float | None) -> str:
        return "&ndash;" if v is None else f"{v:.2f} %"

    body = "".join(
        f"<tr><td>{_esc(name)}</td><td>{cell(e)}</td><td>{cell(v)}</td></tr>" for name, e, v in rows
    )
    head = f"<tr><th>{_esc(first)}</th><th>estimation fit</th><th>validation fit</th></tr>"
    return f'<table id="fits-table">{head}{body}</table>'


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
    out = Path(out_dir)
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
    out = "".join(f'<p class="note">{_esc(n)}</p>' for n in notes)
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


def _page(heading: str, body: str, intro: str = _POST_INTRO) -> str:
    """The whole HTML document around ``body``; ``intro`` (HTML) opens it."""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{_esc(heading)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{_esc(heading)}</h1>"
        f"<p>{intro} This page is self-contained and works offline.</p>"
        f"{body}<script>{_JS}</script></body></html>"
    )


def _figure_store(out: Path, save_figures: Any, figure_formats: Any) -> _Figures:
    """Where the stills go (``None``: embedded only), after checking the options."""
    save = check_bool(save_figures, "save_figures")
    if isinstance(figure_formats, str) or not all(isinstance(f, str) for f in figure_formats):
        raise ParameterError(
            f"figure_formats: expected a sequence of format names, got {figure_formats!r}"
        )
    return _Figures(out / "figures" if save else None, figure_formats)


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
        ``[(step, model)]`` from training for the prediction animation, and
        ``{step: estimation fit}`` for its titles and the table of fits.
    scaling, split : Scaling, float
        Raw signals to the model's (default: remove the estimation means); estimation part.
    transfer, segment : optional
        ``(truth, snapshots)`` for ``|G|`` beside ``|Ghat|``; ``(t, values)``, the objective
        along a segment, or ``{label: (t, values)}``: labelled panels side by side.
    comparisons, notes : sequence
        Rows ``(name, estimation fit, validation fit)`` for the fit table; paragraphs on top.
    region, title : optional
        The Pac-Man region (default ``PacmanRegion()``); the page's heading.
    surface_views, save_figures, figure_formats : int, bool, sequence of str
        Rotations of the surface (>= 1); whether stills (and each animation's last frame)
        are saved under ``figures/``, in which formats.
    log : callable, optional
        Receives one line per figure drawn.

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
    views, target = check_int(surface_views, "surface_views", low=1), Path(out_dir)
    _figure_store(target, save_figures, figure_formats)  # options checked before any work
    ctx = _context(out_dir, data, model, scaling, split, region, _Figures(None), log)

    def build() -> str:  # called once the staging folder's figure store is in ctx
        drawn = _sections(ctx, snapshots, step_fits, segment, transfer, views)
        body = _notes_html(notes, ctx.missing) + _model_section(ctx, comparisons, step_fits)
        return _page(title or f"learnlds report: {data.name}", body + drawn)

    return _staged(ctx, target, (save_figures, figure_formats), build)


def _staged(
    ctx: _Context | _ModelContext,
    target: Path,
    figure_options: tuple[Any, Any],
    build: Callable[[], str],
) -> Path:
    """Build the page and figures in a temporary folder beside ``target``, then move them in."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        ctx.figs = _figure_store(staging, *figure_options)
        (staging / "index.html").write_text(build(), encoding="utf-8")
        _move_into_place(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target / "index.html"


def _move_into_place(staging: Path, target: Path) -> None:
    """Replace ``target``'s ``index.html`` and ``figures/`` by the staged ones.

    A missing target folder is renamed into place in one step; otherwise the old
    ``figures/`` is set aside (restored if the swap fails), then the page is replaced
    atomically. Other files of ``target`` stay.
    """
    if not target.exists():
        os.replace(staging, target)
        return
    new_figs, old_figs = staging / "figures", target / "figures"
    aside = staging / "old-figures"
    if old_figs.exists():
        os.replace(old_figs, aside)
    try:
        if new_figs.exists():
            os.replace(new_figs, old_figs)
        os.replace(staging / "index.html", target / "index.html")
    except OSError:
        if aside.exists():
            shutil.rmtree(old_figs, ignore_errors=True)
            os.replace(aside, old_figs)
        raise


# --------------------------------------------------------------------------- any model
_MAX_PANELS = 8
"""Channels drawn per figure, and per-output figures per section (the tables list all)."""
_MAX_MATRIX = 8
"""A, B, C, D are printed when the state, input and output dimensions are all at most this."""
_MODEL_INTRO = (
    "The identified model on its data: the record, the model, its fit on the held-out "
    "validation part, its frequency and step responses and the residual tests, drawn by "
    "<code>learnlds</code>."
)


@dataclass(frozen=True)
class _AtOperatingPoint:
    """A model between raw signals: ``system_`` on ``u - input_offset_``, plus
    ``output_offset_`` (simulated by :mod:`learnlds.validate` as a fitted estimator is)."""

    system_: Any
    input_offset_: np.ndarray
    output_offset_: np.ndarray


@dataclass
class _ModelContext:
    """What the sections of :func:`write_model_report` share (the fits come first)."""

    data: IOData
    model: CanonicalSystem | StateSpaceSystem
    ss: StateSpaceSystem
    fits: HoldoutResult
    u_val: np.ndarray
    offsets: tuple[np.ndarray, np.ndarray]
    dt: float | None
    figs: _Figures
    say: Callable[[str], None]
    omitted: dict[str, int] = field(default_factory=dict)

    def shown(self, count: int, side: str) -> int:
        """How many of ``count`` input or output channels (``side``) a figure draws."""
        if count > _MAX_PANELS:
            self.omitted[side] = count
        return min(count, _MAX_PANELS)

    def view(self, outputs: int) -> Any:
        """The model restricted to its first ``outputs`` outputs (itself when that is all)."""
        if outputs == self.ss.n_outputs:
            return self.model
        s = self.ss
        return StateSpaceSystem(s.A, s.B, s.C[:outputs], s.D[:outputs], s.dt)

    def pairs(self, i: int) -> dict[str, StateSpaceSystem]:
        """``{input label: SISO model input -> output i}`` for one output's figures."""
        names = _unique(self.data.input_names)
        s = self.ss
        return {
            name: StateSpaceSystem(s.A, s.B[:, [j]], s.C[[i]], s.D[[i]][:, [j]], s.dt)
            for j, name in enumerate(names)
        }


def _unique(names: Sequence[str]) -> list[str]:
    """Channel names as labels, numbered when two are the same."""
    names = [str(n) for n in names]
    return (
        names if len(set(names)) == len(names) else [f"{n} ({k + 1})" for k, n in enumerate(names)]
    )


def _channel_offset(value: Any, name: str, default: np.ndarray) -> np.ndarray:
    """One offset per channel (``None``: ``default``, the estimation part's means)."""
    if value is None:
        return default
    arr = as_float_array(value, name, ndim=(0, 1)).reshape(-1)
    if arr.size != default.size:
        raise ParameterError(
            f"{name}: expected {default.size} value(s), one per channel, got {arr.size}"
        )
    return arr


def _model_context(
    data: Any, model: Any, split: Any, offsets: tuple[Any, Any], log: Any
) -> _ModelContext:
    """Check the inputs of :func:`write_model_report` and score the model by the protocol."""
    if not isinstance(data, IOData):
        raise ParameterError(f"data: expected an IOData, got {type(data).__name__}")
    if not isinstance(model, CanonicalSystem | StateSpaceSystem):
        raise ParameterError(
            f"model: expected a CanonicalSystem or StateSpaceSystem, got {type(model).__name__}"
        )
    if (data.n_inputs, data.n_outputs) != (model.n_inputs, model.n_outputs):
        raise DataError(
            f"data: {data.n_inputs} input(s) and {data.n_outputs} output(s), but the model "
            f"takes {model.n_inputs} input(s) and gives {model.n_outputs} output(s)"
        )
    split = check_float(split, "split", low=0.0, high=1.0, low_open=True, high_open=True)
    if log is not None and not callable(log):
        raise ParameterError("log: must be callable or None")
    fits = holdout(model, data.u, data.y, split=split)
    u_val = split_centred(data.u, data.y, split=split)[2].reshape(len(data) - fits.split_index, -1)
    cut = fits.split_index
    ss = model if isinstance(model, StateSpaceSystem) else StateSpaceSystem.from_canonical(model)
    return _ModelContext(
        data=data,
        model=model,
        ss=ss,
        fits=fits,
        u_val=u_val,
        offsets=(
            _channel_offset(offsets[0], "input_offset", data.u[:cut].mean(axis=0)),
            _channel_offset(offsets[1], "output_offset", data.y[:cut].mean(axis=0)),
        ),
        dt=data.dt if data.dt is not None else model.dt,
        figs=_Figures(None),
        say=log or (lambda _msg: None),
    )


def _mark_split(fig: Any, at: float) -> None:
    """A dashed line at the first validation sample on every panel of ``fig``."""
    for ax in fig.axes:
        ax.axvline(at, color="0.35", ls="--", lw=1.0)


def _record_section(ctx: _ModelContext) -> str:
    data, cut = ctx.data, ctx.fits.split_index
    m = ctx.shown(data.n_inputs, "inputs")
    p = ctx.shown(data.n_outputs, "outputs")
    fig = plots.io_data(data.select(inputs=list(range(m)), outputs=list(range(p))))
    _mark_split(fig, float(data.time[cut]))
    ctx.say("figure: data")
    return "<h2>The data</h2>" + _still(
        ctx.figs.still(fig, "1-data"),
        "inputs and outputs",
        f"{_esc(data.description or data.name)}: {len(data)} samples, {data.n_inputs} "
        f"input(s) and {data.n_outputs} output(s). The first {cut} samples estimate, the "
        f"last {len(data) - cut} validate (right of the dashed line).",
    )


def _cell(v: float) -> str:
    return f"<td><code>{_fmt(v)}</code></td>"


def _poles_table(model: Any, dt: float | None) -> str:
    """Poles by decreasing magnitude, with the time constant of each stable one."""
    poles = np.asarray(model.poles(), dtype=complex)
    poles = poles[np.argsort(-np.abs(poles), kind="stable")]
    unit = "s" if dt is not None else "samples"
    rows = []
    for z in poles:
        r = abs(z)
        tau = -(dt or 1.0) / np.log(r) if 0.0 < r < 1.0 else None
        text = (
            f"{z.real:.6g}{'+' if z.imag >= 0 else '-'}{abs(z.imag):.6g}i"
            if z.imag
            else _fmt(z.real)
        )
        tau_cell = "&ndash;" if tau is None else f"{tau:.4g}"
        rows.append(f"<tr><td><code>{text}</code></td><td>{_fmt(r)}</td><td>{tau_cell}</td></tr>")
    head = f"<tr><th>pole</th><th>|pole|</th><th>time constant [{unit}]</th></tr>"
    return f'<h3>Poles</h3><table id="poles-table">{head}{"".join(rows)}</table>'


def _dc_gain_table(ctx: _ModelContext) -> str:
    """The steady-state gain ``D + C (I - A)^-1 B`` as an outputs x inputs table."""
    s = ctx.ss
    try:
        with np.errstate(all="ignore"):
            gain = s.C @ np.linalg.solve(np.eye(s.order) - s.A, s.B) + s.D
    except np.linalg.LinAlgError:
        gain = None
    if gain is None or not np.all(np.isfinite(gain)):
        return "<h3>DC gain</h3><p>Not defined: the model has a pole at z = 1 (an integrator).</p>"
    names = "".join(f"<th>{_esc(n)}</th>" for n in ctx.data.input_names)
    head = f"<tr><th>output \\ input</th>{names}</tr>"
    body = "".join(
        f"<tr><th>{_esc(name)}</th>" + "".join(_cell(v) for v in gain[i]) + "</tr>"
        for i, name in enumerate(ctx.data.output_names)
    )
    rho, note = s.spectral_radius(), ""
    if rho >= 1.0:
        note = "<p>The model is unstable: its output never settles at these gains.</p>"
    elif rho > 1.0 - 1e-3:
        note = "<p>A pole lies within 0.001 of z = 1: the gains are large and uncertain.</p>"
    return f'<h3>DC gain</h3>{note}<table id="dc-gain">{head}{body}</table>'


def _matrices(ss: StateSpaceSystem) -> str:
    if max(ss.order, ss.n_inputs, ss.n_outputs) > _MAX_MATRIX:
        return f"<p>A, B, C, D are not printed (a dimension exceeds {_MAX_MATRIX}).</p>"
    text = "\n\n".join(
        f"{name} =\n" + np.array2string(mat, precision=4, suppress_small=True, max_line_width=110)
        for name, mat in zip("ABCD", (ss.A, ss.B, ss.C, ss.D), strict=True)
    )
    return f'<h3>State-space matrices</h3><pre id="matrices">{_esc(text)}</pre>'


def _stability(rho: float) -> str:
    """``stable``, ``UNSTABLE``, or a warning that a pole nearly sits on the unit circle."""
    if rho >= 1.0:
        return "UNSTABLE: its simulation grows"
    if rho > 1.0 - 1e-3:
        return "stable, but a pole within 0.001 of the unit circle: nearly an integrator"
    return "stable"


def _model_facts(ctx: _ModelContext) -> str:
    """Class, order, channels, sample time, stability and operating point as a table."""
    model, data, ss = ctx.model, ctx.data, ctx.ss
    if isinstance(model, CanonicalSystem):
        kind, order = "canonical form (common denominator)", f"{model.order} ({ss.order} states)"
    else:
        kind, order = "state space: x(t+1) = A x(t) + B u(t), y(t) = C x(t) + D u(t)", str(ss.order)
    rho = ss.spectral_radius()
    rows = [
        ("model", kind),
        ("order", order),
        ("inputs", f"{data.n_inputs}: " + ", ".join(data.input_names)),
        ("outputs", f"{data.n_outputs}: " + ", ".join(data.output_names)),
        ("sample time", "not given" if ctx.dt is None else f"{ctx.dt:g}"),
        ("spectral radius", f"{_fmt(rho)} ({_stability(rho)})"),
        ("input offsets", ", ".join(_fmt(v) for v in ctx.offsets[0])),
        ("output offsets", ", ".join(_fmt(v) for v in ctx.offsets[1])),
    ]
    body = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in rows)
    return f'<table id="model-table">{body}</table>'


def _state_space_section(ctx: _ModelContext) -> str:
    """The model's facts, poles, DC gain, matrices and the fit per output."""
    f = ctx.fits
    rows: list[tuple[str, float | None, float | None]] = [
        (name, float(e), float(v))
        for name, e, v in zip(
            ctx.data.output_names, f.estimation_fits, f.validation_fits, strict=True
        )
    ]
    if len(rows) > 1:
        rows.append(("average", f.estimation_fit, f.validation_fit))
    return (
        "<h2>The model</h2>"
        + _model_facts(ctx)
        + _poles_table(ctx.model, ctx.dt)
        + _dc_gain_table(ctx)
        + _matrices(ctx.ss)
        + "<h3>Fit per output</h3><p>100 (1 - ||y - &#375;|| / ||y - mean y||) of a "
        "simulation from zero state, each part (estimation, validation) centred on its own "
        "means (<code>learnlds.validate.holdout</code>).</p>" + _fits_table(rows, first="output")
    )


def _operating_section(ctx: _ModelContext) -> str:
    """The whole record in raw units: the model between the offsets, from zero state."""
    data, p = ctx.data, ctx.shown(ctx.data.n_outputs, "outputs")
    shown = _AtOperatingPoint(ctx.view(p), ctx.offsets[0], ctx.offsets[1][:p])
    fig = plots.compare_plot(
        {"model": shown},
        data.u,
        data.y[:, :p],
        dt=ctx.dt,
        title="Simulated vs measured output in the data's units (whole record)",
    )
    _mark_split(fig, ctx.fits.split_index * (ctx.dt or 1.0))
    ctx.say("figure: simulation at the operating point")
    return "<h2>Simulation in the data's units</h2>" + _still(
        ctx.figs.still(fig, "2-simulation"),
        "simulation in the data's units",
        "The model driven by the measured inputs less the input offsets, plus the output "
        "offsets (the model's operating point), from zero state over the whole record; "
        "the dashed line marks the start of the validation part. The fit in the legend is "
        "over the whole record.",
    )


def _validation_section(ctx: _ModelContext) -> str:
    """Measured and simulated output on the protocol's validation part, one panel per output."""
    p = ctx.shown(ctx.data.n_outputs, "outputs")
    y_val = ctx.fits.y_validation.reshape(len(ctx.u_val), -1)[:, :p]
    fig = plots.compare_plot(
        {"model": ctx.view(p)},
        ctx.u_val,
        y_val,
        dt=ctx.dt,
        title="Validation part: measured vs simulated (means removed, zero initial state)",
    )
    ctx.say("figure: validation")
    return "<h2>Measured and simulated output on the validation part</h2>" + _still(
        ctx.figs.still(fig, "3-validation"),
        "validation",
        "The validation part (the last samples; time counted from its start), centred on "
        "its own means, and the model's simulation from zero state on its centred inputs: "
        "the protocol of the fit table.",
    )


def _bode_pairs_section(ctx: _ModelContext) -> str:
    """One Bode diagram per output, one curve per input."""
    names = ctx.data.output_names
    out = "<h2>Bode diagrams</h2>"
    for i in range(ctx.shown(len(names), "outputs")):
        fig = plots.bode_plot(ctx.pairs(i), dt=ctx.dt, num=256)
        fig.axes[0].set_title(f"Bode diagram: output {names[i]}", fontsize="medium")
        out += _still(
            ctx.figs.still(fig, f"4-bode-y{i + 1}"),
            f"Bode diagram of output {names[i]}",
            f"Magnitude and phase of the response of output <strong>{_esc(names[i])}</strong> "
            "to each input (one curve per input).",
        )
    ctx.say("figures: Bode diagrams")
    return out


def _step_length(ss: StateSpaceSystem) -> int:
    """Samples until the slowest stable mode decays to 1 % (100 when it never does)."""
    r = ss.spectral_radius()
    if not 0.0 < r < 1.0:
        return 100 if r >= 1.0 else 10
    return int(np.clip(np.ceil(np.log(0.01) / np.log(r)), 10, 500))


def _step_section(ctx: _ModelContext) -> str:
    """One panel per output, one curve per input stepped alone."""
    names = ctx.data.output_names
    k = ctx.shown(len(names), "outputs")
    fig = plots._new_figure((7.0, 0.8 + 2.2 * k), layout="constrained")
    axes = fig.subplots(k, 1, sharex=True, squeeze=False)[:, 0]
    length = _step_length(ctx.ss)
    for i, ax in enumerate(axes):
        plots.step_plot(ctx.pairs(i), length, ax, dt=ctx.dt)
        ax.set_title(f"Step responses: output {names[i]}", fontsize="medium")
        if i < k - 1:
            ax.set_xlabel("")
    ctx.say("figure: step responses")
    return "<h2>Step responses</h2>" + _still(
        ctx.figs.still(fig, "5-step"),
        "step responses",
        "Response of each output to a unit step on each input alone, from zero state.",
    )


def _residual_tests(ctx: _ModelContext) -> list[list[ResidualAnalysis | None]]:
    """``[output][input]``: the SISO residual analysis of each output's validation residual
    against each centred validation input (``None`` where it is undefined)."""
    e = ctx.fits.residuals_validation.reshape(len(ctx.u_val), -1)
    lag = min(25, len(e) // 4)
    out: list[list[ResidualAnalysis | None]] = []
    for i in range(e.shape[1]):  # channel pairs, not time steps
        row: list[ResidualAnalysis | None] = []
        for j in range(ctx.u_val.shape[1]):
            try:
                row.append(residual_analysis(e[:, i], ctx.u_val[:, j], max_lag=lag))
            except DataError:
                row.append(None)
        out.append(row)
    return out


def _verdict(r: ResidualAnalysis | None, test: str) -> str:
    """``ok (statistic / threshold)`` of the ``whiteness`` or ``independence`` test."""
    if r is None:
        return "&ndash;"
    ok = getattr(r, f"{test}_ok")
    stat, threshold = getattr(r, f"{test}_stat"), getattr(r, f"{test}_threshold")
    return f"{'ok' if ok else 'FAILED'} ({stat:.3g} / {threshold:.3g})"


def _residual_table(ctx: _ModelContext, tests: list[list[ResidualAnalysis | None]]) -> str:
    head = "<tr><th>output</th><th>whiteness</th>" + "".join(
        f"<th>independence from {_esc(n)}</th>" for n in ctx.data.input_names
    )
    rows = []
    for name, row in zip(ctx.data.output_names, tests, strict=True):
        first = next((r for r in row if r is not None), None)  # whiteness: the same for all
        cells = "".join(f"<td>{_verdict(r, 'independence')}</td>" for r in row)
        rows.append(f"<tr><td>{_esc(name)}</td><td>{_verdict(first, 'whiteness')}</td>{cells}</tr>")
    return f'<table id="residual-tests">{head}</tr>{"".join(rows)}</table>'


def _residuals_pairs_section(ctx: _ModelContext) -> str:
    """The residual tests of every (output, input) pair; a figure per output."""
    out = "<h2>Residuals on the validation part</h2>"
    if len(ctx.u_val) < 4:
        return out + "<p>The validation part is too short for the residual tests.</p>"
    tests = _residual_tests(ctx)
    out += (
        "<p>Output-error residuals y - &#375; on the validation part (means removed, zero "
        "initial state). Whiteness: portmanteau test of the residual autocorrelation; "
        "independence: Ljung's test of its cross-correlation with each input, both at 99 % "
        "(statistic / threshold). A dash: the test is undefined (zero residuals or a "
        "constant input).</p>" + _residual_table(ctx, tests)
    )
    names = ctx.data.input_names
    for i in range(ctx.shown(len(tests), "outputs")):
        scored = [
            (r.independence_stat / r.independence_threshold, j, r)
            for j, r in enumerate(tests[i])
            if r
        ]
        if not scored:
            continue
        _, j, worst = max(scored, key=lambda item: item[0])
        which = " (of the inputs, the one with the largest statistic)" if len(names) > 1 else ""
        out += _still(
            ctx.figs.still(plots.residual_plot(worst), f"6-residuals-y{i + 1}"),
            f"residuals of output {ctx.data.output_names[i]}",
            f"Output <strong>{_esc(ctx.data.output_names[i])}</strong>: autocorrelation of "
            f"its residuals and their cross-correlation with input "
            f"<strong>{_esc(names[j])}</strong>{which}, with 99 % bounds.",
        )
    ctx.say("figures: residuals")
    return out


_MODEL_SECTIONS = (
    _record_section,
    _state_space_section,
    _operating_section,
    _validation_section,
    _bode_pairs_section,
    _step_section,
    _residuals_pairs_section,
)


def _omitted_html(omitted: dict[str, int]) -> str:
    """Which channels no figure draws (the tables list them all)."""
    if not omitted:
        return ""
    sides = " and ".join(f"{side} {_MAX_PANELS + 1} to {n}" for side, n in omitted.items())
    return (
        f'<p class="note" id="omitted">Figures draw the first {_MAX_PANELS} inputs and '
        f"outputs: {sides} are not drawn. The tables list every channel.</p>"
    )


def write_model_report(
    out_dir: str | Path,
    *,
    data: IOData,
    model: CanonicalSystem | StateSpaceSystem,
    split: float = 0.5,
    input_offset: Any = None,
    output_offset: Any = None,
    title: str | None = None,
    notes: Sequence[str] = (),
    save_figures: bool = True,
    figure_formats: Sequence[str] = ("png", "svg"),
    log: Callable[[str], None] | None = None,
) -> Path:
    """Write ``out_dir/index.html`` for a fitted model of any shape (several inputs/outputs).

    Where :func:`write_report` draws the post's figures of a SISO model, this is the
    engineer's report: the record and its split, the model (order, poles, stability, DC
    gain, small matrices), the fit per output by :func:`learnlds.validate.holdout`, the
    simulation in the data's units, the validation part, a Bode diagram per output, step
    responses and residual tests per (output, input) pair; figures draw at most 8
    channels, tables all. Staged like :func:`write_report`: a failed run leaves a
    previous report as it was.

    Parameters
    ----------
    out_dir : str or pathlib.Path
        Folder of the page (created).
    data : IOData
        The raw record, as many inputs and outputs as the model.
    model : CanonicalSystem or StateSpaceSystem
        The fitted model, acting on signals less their offsets.
    split : float, default 0.5
        Fraction of the record used for estimation, in ``(0, 1)``.
    input_offset, output_offset : array_like, optional
        The model's operating point (``learnlds fit`` saves it), one value per channel;
        default: the estimation part's means. Used by the simulation in the data's
        units; the protocol's fits centre each part on its own means.
    title, notes : str, sequence of str
        The page's heading; paragraphs on top.
    save_figures, figure_formats : bool, sequence of str
        Whether the figures are also saved under ``figures/``, in which formats.
    log : callable, optional
        Receives one line per section drawn.

    Returns
    -------
    pathlib.Path
        The written ``index.html``.

    Raises
    ------
    ParameterError
        Arguments of the wrong type or value.
    DataError
        The record's channel counts differ from the model's, or a part is too short or
        the simulation is not finite.

    Examples
    --------
    >>> import tempfile
    >>> from learnlds.statespace import StateSpaceSystem
    >>> model = StateSpaceSystem([[0.5]], [[1.0, 0.5]], [[1.0], [-1.0]], np.eye(2))
    >>> u = np.random.default_rng(0).normal(size=(120, 2))
    >>> data = IOData.from_arrays(u, model.simulate(u))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     page = write_model_report(tmp, data=data, model=model, save_figures=False)
    ...     "Bode diagrams" in page.read_text(encoding="utf-8")
    True
    """
    target = Path(out_dir)
    _figure_store(target, save_figures, figure_formats)  # options checked before any work
    ctx = _model_context(data, model, split, (input_offset, output_offset), log)

    def build() -> str:  # called once the staging folder's figure store is in ctx
        drawn = "".join(section(ctx) for section in _MODEL_SECTIONS)
        body = _notes_html(notes, ()) + _omitted_html(ctx.omitted) + drawn
        return _page(title or f"learnlds report: {data.name}", body, intro=_MODEL_INTRO)

    return _staged(ctx, target, (save_figures, figure_formats), build)
