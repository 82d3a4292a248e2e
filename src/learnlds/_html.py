"""The HTML scaffolding shared by the two report pages: figures, markup, page, staging.

:mod:`learnlds.report` (the post's page of a SISO model) and
:mod:`learnlds.model_report` (the page of any fitted model) are built from the same
parts, kept here so that each page holds only its own sections:

* :class:`_Figures` renders :mod:`learnlds.plots` figures off-screen, embeds them as
  PNG data URLs and saves the stills under ``figures/``;
* ``_CSS``, ``_JS`` and the markup helpers (``_still``, ``_stepper``, the fit table)
  make a page that works offline: no file or script is fetched from anywhere;
* :func:`_page` wraps the sections in the whole document, and :func:`_staged` builds
  it in a temporary folder beside the target and moves it in only when complete.

Nothing here is public: the pages are written by :func:`learnlds.report.write_report`
and :func:`learnlds.model_report.write_model_report`.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from . import plots
from ._boundary import check_bool
from ._files import folder_mode
from .errors import ParameterError

__all__: list[str] = []


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


def _notes(notes: Sequence[str]) -> str:
    """The caller's notes, one paragraph each."""
    return "".join(f'<p class="note">{_esc(n)}</p>' for n in notes)


def _page(heading: str, body: str, intro: str) -> str:
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


# --------------------------------------------------------------------------- staging
class _StagedContext(Protocol):
    """A page's context: :func:`_staged` gives it the staging folder's figure store."""

    figs: _Figures


def _staged(
    ctx: _StagedContext,
    target: Path,
    figure_options: tuple[Any, Any],
    build: Callable[[], str],
) -> Path:
    """Build the page and figures in a temporary folder beside ``target``, then move them in."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        staging.chmod(folder_mode())  # a new report folder is readable like any other
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
