"""A self-contained HTML report of a learned model: the post's figures, fits and the model.

:func:`write_report` writes ONE ``index.html`` that works offline: every image is an
inline base64 PNG, the script is a few lines of plain JavaScript, and nothing is
fetched from anywhere. Step-by-step figures (predictions after 0..K training steps,
``|Ghat|`` after 0..10 steps, the rotating surface) are shown one frame at a time:
click the image to advance, or move the slider, as in the post. The same figures are
also saved as PNG and SVG under ``figures/`` for papers and slides.

Figures that need training snapshots are replaced by what is available when only a
fitted model is given (``learnlds report``), and the page says so.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from . import plots
from .datasets import IOData
from .region import PacmanRegion
from .systems import CanonicalSystem
from .validate import fit_percent

__all__ = ["Scaling", "model_fits", "write_report"]

Snapshots = Sequence[tuple[int, CanonicalSystem]]


@dataclass(frozen=True)
class Scaling:
    """How raw signals map to the model's: ``x = (u - u_offset) / u_scale``, likewise ``y``.

    The demo normalises by the estimation data's means and standard deviations; a model
    from ``learnlds fit`` only removes the means (scales 1).
    """

    u_offset: float = 0.0
    u_scale: float = 1.0
    y_offset: float = 0.0
    y_scale: float = 1.0

    def __post_init__(self) -> None:
        for name in ("u_offset", "u_scale", "y_offset", "y_scale"):
            v = float(getattr(self, name))
            if not math.isfinite(v):
                raise ValueError(f"{name}: must be finite, got {v}")
            object.__setattr__(self, name, v)
        if self.u_scale <= 0 or self.y_scale <= 0:
            raise ValueError(f"scales: must be > 0, got {self.u_scale} and {self.y_scale}")

    @classmethod
    def normalising(cls, data: IOData) -> Scaling:
        """Subtract the means and divide by the standard deviations of ``data`` (SISO)."""
        u, y = data.u1, data.y1
        su, sy = float(np.std(u)), float(np.std(y))
        if su == 0 or sy == 0:
            raise ValueError(f"{data.name}: constant input or output, cannot normalise")
        return cls(float(np.mean(u)), su, float(np.mean(y)), sy)

    def to_model(self, u: np.ndarray) -> np.ndarray:
        return (np.asarray(u, dtype=float) - self.u_offset) / self.u_scale

    def output_to_model(self, y: np.ndarray) -> np.ndarray:
        return (np.asarray(y, dtype=float) - self.y_offset) / self.y_scale

    def from_model(self, yhat: np.ndarray) -> np.ndarray:
        return np.asarray(yhat, dtype=float) * self.y_scale + self.y_offset

    def physical(self, model: CanonicalSystem) -> CanonicalSystem:
        """The same model between the offset-free raw signals (gain ``y_scale / u_scale``)."""
        k = self.y_scale / self.u_scale
        return model.with_params(c=model.c * k, d=model.d * k)

    def predict(self, model: CanonicalSystem, u: np.ndarray) -> np.ndarray:
        """The model's simulated output (zero state) for raw input ``u``, in raw units."""
        return self.from_model(model.simulate(self.to_model(u)))


def model_fits(
    model: CanonicalSystem, data: IOData, scaling: Scaling, split: float = 0.5
) -> tuple[float, float]:
    """``(estimation fit %, validation fit %)`` with the project's protocol.

    Estimation: the first ``split`` of the record mapped by ``scaling``. Validation: the
    rest, each half centred on its own means, simulated from zero state (the scales of
    ``scaling`` still apply).
    """
    est, val = data.split(split)
    fit_est = fit_percent(est.y1, scaling.predict(model, est.u1))
    vd = val.detrend()
    yhat = model.simulate(vd.u1 / scaling.u_scale) * scaling.y_scale
    return fit_est, fit_percent(vd.y1, yhat)


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
    :func:`learnlds.plots.save_figure` is the one embedded.
    """

    def __init__(self, folder: Path | None, formats: Sequence[str] = ("png", "svg")) -> None:
        self.folder = folder
        self.formats = tuple(formats)
        self.files: list[Path] = []

    def _embed(self, fig: Any, stem: str | None) -> str:
        import matplotlib.pyplot as plt

        try:
            png = None
            if self.folder is not None and stem is not None and self.formats:
                paths = plots.save_figure(fig, self.folder / stem, formats=self.formats)
                self.files.extend(paths)
                png = next((p.read_bytes() for p in paths if p.suffix == ".png"), None)
            if png is None:
                png = _png(fig)
        finally:
            plt.close(fig)
        return _data_url(png)

    def still(self, fig: Any, stem: str) -> str:
        return self._embed(fig, stem)

    def frames(
        self, draws: Sequence[tuple[str, Callable[[], Any]]], stem: str
    ) -> list[tuple[str, str]]:
        """``[(label, draw)]`` -> ``[(label, data URL)]``, one figure open at a time.

        Only the last frame is saved to disk; each figure is closed once embedded.
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
    show(0);
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


def _stepper(ident: str, frames: list[tuple[str, str]], caption: str, hint: str) -> str:
    labels = json.dumps([lab for lab, _ in frames])
    hidden = ' style="display:none"'
    imgs = "".join(
        f'<img class="frame" src="{src}" alt="{_esc(lab)}" data-index="{i}"'
        f"{'' if i == 0 else hidden}>"
        for i, (lab, src) in enumerate(frames)
    )
    return (
        f'<figure class="stepper" id="{ident}" data-labels="{_esc(labels)}">{imgs}'
        '<div class="controls"><button class="prev" type="button" title="previous">&#9664;'
        f'</button><input class="slider" type="range" min="0" max="{len(frames) - 1}" '
        f'value="0" step="1" aria-label="{_esc(hint)}"><button class="next" type="button" '
        f'title="next">&#9654;</button><span class="label">{_esc(frames[0][0])}</span></div>'
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


def _fits_table(rows: Sequence[tuple[str, float | None, float | None]]) -> str:
    def cell(v: float | None) -> str:
        return "&ndash;" if v is None else f"{v:.2f} %"

    body = "".join(
        f"<tr><td>{_esc(name)}</td><td>{cell(e)}</td><td>{cell(v)}</td></tr>" for name, e, v in rows
    )
    head = "<tr><th>model</th><th>estimation fit</th><th>validation fit</th></tr>"
    return f'<table id="fits-table">{head}{body}</table>'


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
    segment: tuple[np.ndarray, np.ndarray] | None = None,
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

    ``data`` is the raw SISO record (first ``split`` estimation, rest validation) and
    ``scaling`` maps it to the model's signals (default: remove the estimation means).
    ``snapshots`` (``[(step, model)]`` from training) drive the prediction animation;
    ``transfer = (truth, snapshots)`` the ``|G|`` beside ``|Ghat|`` animation;
    ``segment = (t, values)`` the objective along a segment. Missing pieces are replaced
    by what a fitted model alone gives, and the page says which. ``comparisons`` adds
    rows ``(name, estimation fit, validation fit)`` to the fit table. Stills (and the
    last frame of each animation) are saved under ``figures/`` in ``figure_formats``
    unless ``save_figures`` is false; the page itself needs none of those files.
    """
    if not isinstance(data, IOData) or not data.is_siso:
        raise ValueError("data: expected a single-input single-output IOData")
    if not isinstance(model, CanonicalSystem) or not model.is_siso:
        raise ValueError("model: expected a SISO CanonicalSystem")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    region = region or PacmanRegion()
    est, val = data.split(split)
    if scaling is None:
        scaling = Scaling(float(est.u1.mean()), 1.0, float(est.y1.mean()), 1.0)
    figs = _Figures(out / "figures" if save_figures else None, figure_formats)
    say = log or (lambda _msg: None)
    fit_est, fit_val = model_fits(model, data, scaling, split)
    missing: list[str] = []
    sections: list[str] = []

    # 1. data
    sections.append(
        "<h2>1. The data</h2>"
        + _still(
            figs.still(plots.io_data(data), "1-data"),
            "input and output",
            f"{_esc(data.description or data.name)} ({len(data)} samples; first "
            f"{len(est)} for estimation, last {len(val)} for validation).",
        )
    )
    say("figure 1: data")

    # 2. predictions
    t_est = est.time
    lim = plots._limits(est.u1, est.y1)
    if snapshots:
        frames = []
        total = int(snapshots[-1][0])
        for k, m in snapshots:
            f = step_fits.get(int(k)) if step_fits else None
            if f is None:
                f = fit_percent(est.y1, scaling.predict(m, est.u1))
            draw = partial(
                plots.predictions,
                est.u1,
                est.y1,
                snapshots,
                int(k),
                time=t_est,
                predict=scaling.predict,
                ylim=lim,
                fit=f,
            )
            frames.append((f"step {int(k)}/{total}", draw))
        sections.append(
            "<h2>2. Predictions during training</h2>"
            + _stepper(
                "predictions",
                figs.frames(frames, "2-predictions"),
                "Measured output (red), input (green dots) and the model's prediction (blue) "
                f"on the estimation data after 0 to {total} gradient steps.",
                "Click the picture or move the slider to advance.",
            )
        )
    else:
        missing.append("predictions during training (no training snapshots)")
        fig = plots.predictions(
            est.u1,
            est.y1,
            [(0, model)],
            time=t_est,
            predict=scaling.predict,
            ylim=lim,
            fit=fit_est,
            title=f"prediction of the fitted model (fit {fit_est:.1f} %)",
        )
        sections.append(
            "<h2>2. Prediction of the fitted model</h2>"
            + _still(
                figs.still(fig, "2-prediction"),
                "prediction",
                "Measured output (red), input (green dots) and the fitted model's simulated "
                "output from zero state (blue) on the estimation part. No training "
                "snapshots were given, so there is no step-by-step animation.",
            )
        )
    say("figure 2: predictions")

    # 3. segment
    if segment is not None:
        t, v = segment
        sections.append(
            "<h2>3. The objective between two random points</h2>"
            + _still(
                figs.still(plots.segment(t, v, ylabel="loss (normalised data)"), "3-segment"),
                "objective along a segment",
                "The training loss on the estimation data along the line segment between "
                "two random parameter vectors (a drawn in the Pac-Man region, c and d "
                "standard normal; the first random pair whose minimum lies inside the "
                "segment). It decreases, then increases: quasi-convex looking.",
            )
        )
        say("figure 3: segment")
    else:
        missing.append("objective along a segment (needs the training data set-up of the demo)")

    # 4. Pac-Man
    margin = region.margin(model.a)
    where = "inside" if margin >= -1e-9 else "outside"
    sections.append(
        "<h2>4. The Pac-Man curve of the learned denominator</h2>"
        + _still(
            figs.still(plots.pacman(model.a, region), "4-pacman"),
            "Pac-Man curve",
            f"q<sub>a</sub>(z) = 1 + a<sub>1</sub>z<sup>-1</sup> + ... for |z| = 1 with the "
            f"90-degree wedge. The learned a is <strong>{where}</strong> the region "
            f"(margin {margin:.3g}).",
        )
    )
    say("figure 4: Pac-Man")

    # 5. transfer functions (or Bode)
    if transfer is not None:
        truth, tsnaps = transfer
        tsnaps = list(tsnaps)
        w = np.linspace(0.0, 2.0 * np.pi, 512)
        top = max(
            float(np.abs(truth.frequency_response(w)).max()),
            max(float(np.abs(m.frequency_response(w)).max()) for _, m in tsnaps),
        )
        total = int(tsnaps[-1][0])
        frames = [
            (
                f"step {int(k)}/{total}",
                partial(plots.transfer_functions, truth, tsnaps, int(k), ylim=(0.0, 1.08 * top)),
            )
            for k, _ in tsnaps
        ]
        sections.append(
            "<h2>5. Target transfer function beside the learned one</h2>"
            + _stepper(
                "transfer",
                figs.frames(frames, "5-transfer"),
                "Left: |G(e<sup>i&omega;</sup>)| of a synthetic target inside the Pac-Man "
                "region. Right: |&#264;(e<sup>i&omega;</sup>)| after 0 to "
                f"{total} steps of projected SGD on fresh samples.",
                "Click the picture or move the slider to advance.",
            )
        )
        say("figure 5: transfer functions")
    else:
        missing.append("target transfer function beside the learned one (needs a known target)")
    sections.append(
        "<h2>Bode diagram of the model</h2>"
        + _still(
            figs.still(plots.bode_plot({"model": scaling.physical(model)}, dt=data.dt), "5-bode"),
            "Bode diagram",
            "Magnitude and phase of the learned model's frequency response.",
        )
    )

    # 6. surface
    views = max(1, int(surface_views))
    frames = [
        (
            f"view {i + 1}/{views}",
            partial(plots.quasiconvex_surface, azim=-130.0 + 360.0 * i / views, num=60),
        )
        for i in range(views)
    ]
    sections.append(
        "<h2>6. A quasi-convex function</h2>"
        + _stepper(
            "surface",
            figs.frames(frames, "6-surface"),
            "h(u, v) = (u/v - 1)<sup>2</sup> over the reals: not convex, but quasi-convex "
            "where v &gt; 0 (coloured).",
            "Click the picture or move the slider to rotate.",
        )
    )
    say("figure 6: surface")

    # residuals
    vd = val.detrend()
    x_val, y_val = vd.u1 / scaling.u_scale, vd.y1 / scaling.y_scale
    sections.append(
        "<h2>Residuals on the validation data</h2>"
        + _still(
            figs.still(plots.residual_plot(model, x_val, y_val), "7-residuals"),
            "residuals",
            "Output-error residuals y - &#375; on the validation part (means removed, zero "
            "initial state): their autocorrelation and their cross-correlation with the "
            "input, with 99 % bounds. A model that captured the dynamics leaves white "
            "residuals that are uncorrelated with past inputs.",
        )
    )

    # model and fits
    fit_rows = [("this model", fit_est, fit_val), *comparisons]
    step_rows = ""
    if step_fits:
        step_rows = (
            "<h3>Estimation fit during training</h3><table id='step-fits'><tr><th>step</th>"
            "<th>fit</th></tr>"
            + "".join(f"<tr><td>{k}</td><td>{v:.2f} %</td></tr>" for k, v in step_fits.items())
            + "</table>"
        )
    model_html = (
        "<h2>The fitted model</h2><p>Controllable canonical form: "
        "p<sub>a</sub>(z) = z<sup>n</sup> + a<sub>1</sub>z<sup>n-1</sup> + ... + a<sub>n</sub>, "
        "G(z) = (c<sub>1</sub> + c<sub>2</sub>z + ... + c<sub>n</sub>z<sup>n-1</sup>) / "
        "p<sub>a</sub>(z) + d, acting on "
        + (
            "normalised signals (means removed, divided by the standard deviations of the "
            "estimation data)."
            if scaling.u_scale != 1.0 or scaling.y_scale != 1.0
            else "signals with the estimation means removed."
        )
        + "</p>"
        + _model_table(model, region)
        + "<h3>Fit percent</h3><p>100 (1 - ||y - &#375;|| / ||y - mean y||) of a simulation "
        "from zero state; validation: the last part with its own means removed.</p>"
        + _fits_table(fit_rows)
        + step_rows
    )

    note_html = "".join(f'<p class="note">{_esc(n)}</p>' for n in notes)
    if missing:
        note_html += (
            '<p class="note" id="missing">Not shown, because only a fitted model was given: '
            + _esc("; ".join(missing))
            + ". Shown instead: the data, the model's prediction, the residuals, the Pac-Man "
            "curve and the Bode diagram. <code>learnlds demo</code> draws all of them.</p>"
        )
    heading = title or f"learnlds report: {data.name}"
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{_esc(heading)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{_esc(heading)}</h1>"
        "<p>Gradient descent learns linear dynamical systems (Hardt, Ma, Recht): the "
        "figures of the post, redrawn by <code>learnlds</code>. This page is "
        "self-contained and works offline.</p>"
        f"{note_html}{model_html}{''.join(sections)}"
        f"<script>{_JS}</script></body></html>"
    )
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
