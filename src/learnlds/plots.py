"""Figures (matplotlib): the post's six pictures, the Pac-Man region, and validation plots.

Every function draws on a given ``ax`` (or ``fig``) or makes a new figure, and returns
the matplotlib :class:`~matplotlib.figure.Figure`; nothing here computes a model, it
only draws what the library computed.

New figures are plain :class:`matplotlib.figure.Figure` objects with their own Agg
canvas. This module never imports :mod:`matplotlib.pyplot` and never changes
matplotlib's global backend, so importing it in a Jupyter session or a Qt application
changes nothing there. Such a figure is displayed by Jupyter when it is the value of a
cell; to draw into a GUI window, pass axes of your own (``ax=plt.subplots()[1]``).

Examples
--------
>>> from learnlds import CanonicalSystem, plots
>>> fig = plots.step_plot(CanonicalSystem([-0.5], [1.0]), length=20)
>>> fig.axes[0].get_ylabel()
'step response'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Polygon, Rectangle

from ._boundary import as_float_array, check_float, check_int, renamed_parameters
from ._files import check_output_path
from .datasets.iodata import IOData
from .errors import DataError, ParameterError, UnsupportedShapeError
from .systems import CanonicalSystem
from .uncertainty import frequency_response_std

__all__ = [
    "bode_plot",
    "compare_plot",
    "impulse_plot",
    "io_data",
    "pacman",
    "predictions",
    "quasiconvex_surface",
    "residual_plot",
    "save_figure",
    "segment",
    "segments",
    "step_plot",
    "transfer_functions",
]

_INPUT_COLOUR = "#2ca02c"  # green dots: the heater setting, as in the post
_OUTPUT_COLOUR = "#d62728"  # red line: the measured temperature
_MODEL_COLOUR = "#1f77b4"  # blue line: the model's prediction
_PI_TICKS = (
    [0, np.pi / 2, np.pi, 3 * np.pi / 2, 2 * np.pi],
    ["0", r"$\pi/2$", r"$\pi$", r"$3\pi/2$", r"$2\pi$"],
)


# =========================================================================== helpers
def _new_figure(figsize: tuple[float, float], layout: str | None = None) -> Figure:
    """A figure outside pyplot, with an Agg canvas (no global state is touched)."""
    fig = Figure(figsize=figsize, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def _axes(
    ax: Axes | None, figsize: tuple[float, float] = (6.0, 4.0), layout: str | None = None
) -> tuple[Figure, Axes]:
    """Return ``(fig, ax)``, creating a new figure when ``ax`` is None."""
    if ax is None:
        fig = _new_figure(figsize, layout)
        return fig, fig.add_subplot()
    if not isinstance(ax, Axes):
        raise ParameterError(f"ax: must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax.figure, ax


def _two_axes(
    fig: Figure | None, figsize: tuple[float, float], **kwargs: Any
) -> tuple[Figure, Any]:
    """Two stacked axes on ``fig`` (or a new figure)."""
    if fig is not None and not isinstance(fig, Figure):
        raise ParameterError(f"fig: must be a matplotlib Figure or None, got {type(fig).__name__}")
    fig = _new_figure(figsize) if fig is None else fig
    return fig, fig.subplots(2, 1, **kwargs)


def _limits(*arrays: np.ndarray, pad: float = 0.12) -> tuple[float, float]:
    """y-limits holding every array with a margin of ``pad`` of their span."""
    lo = min(float(np.min(a)) for a in arrays)
    hi = max(float(np.max(a)) for a in arrays)
    span = hi - lo or 1.0
    return lo - pad * span, hi + pad * span


def _label(names: Sequence[str], units: Sequence[str], default: str) -> str:
    """``'name [unit]'`` from an IOData's first channel name and unit."""
    name = names[0] if names else default
    unit = units[0] if units and units[0] else ""
    return f"{name} [{unit}]" if unit else str(name)


def _snapshot_pairs(snapshots: Any, what: str = "snapshots") -> list[tuple[int, Any]]:
    """Checked ``[(step, model)]`` training snapshots: integer steps, models that simulate
    (a string or a bare model would otherwise fail deep inside a figure)."""
    if isinstance(snapshots, str | bytes) or not isinstance(snapshots, Sequence):
        raise ParameterError(
            f"{what}: must be a sequence of (step, model) pairs, got {type(snapshots).__name__}"
        )
    pairs = []
    for i, pair in enumerate(snapshots):
        if not (isinstance(pair, tuple | list) and len(pair) == 2):
            raise ParameterError(f"{what}[{i}]: must be a (step, model) pair, got {pair!r:.60}")
        if not hasattr(pair[1], "simulate"):
            raise ParameterError(f"{what}[{i}]: its model has no simulate method (not a system)")
        pairs.append((check_int(pair[0], f"{what}[{i}] step", low=0), pair[1]))
    return pairs


def _pick_step(pairs: Sequence[tuple[int, Any]], step: int | None, what: str) -> int:
    """Index in ``pairs`` of training step ``step`` (None: the last one)."""
    steps = [int(s) for s, _ in pairs]
    if step is None:
        return len(pairs) - 1
    k = check_int(step, "step")
    if k not in steps:
        raise ParameterError(f"step: {k} is not {what} (have {steps})")
    return steps.index(k)


def _named_systems(models: Any, needs: str) -> dict[str, Any]:
    """``{name: system}`` for response plots: a fitted estimator is drawn as its
    ``system_`` (the dynamics; offsets shift a simulation, not a response); a model
    without the method ``needs`` is refused naming it."""
    from .validate import _FittedModel, as_named_models

    named = {
        name: m.system if isinstance(m, _FittedModel) else m
        for name, m in as_named_models(models).items()
    }
    for name, m in named.items():
        if not callable(getattr(m, needs, None)):
            raise ParameterError(f"models: {name!r} has no {needs} method (not a system)")
    return named


def _siso_system(model: Any, name: str) -> Any:
    """One single-input single-output system with ``frequency_response`` (a fitted
    estimator gives its ``system_``), or an error naming ``name``."""
    if hasattr(model, "system_") and not hasattr(model, "frequency_response"):
        model = model.system_
    elif hasattr(model, "fit") and not hasattr(model, "frequency_response"):
        raise ParameterError(f"{name}: the estimator is not fitted (call its fit method first)")
    if not callable(getattr(model, "frequency_response", None)):
        raise ParameterError(
            f"{name}: must be a system with frequency_response (e.g. CanonicalSystem) or a "
            f"fitted estimator, got {type(model).__name__}"
        )
    if not getattr(model, "is_siso", True):
        raise UnsupportedShapeError(
            f"{name}: the transfer-function figure is single-input single-output; this "
            f"model has {model.n_inputs} input(s) and {model.n_outputs} output(s) (use "
            "bode_plot)"
        )
    return model


def _check_dt(dt: float | None) -> float | None:
    return check_float(dt, "dt", low=0.0, low_open=True, allow_none=True)


def _time_axis(length: int, dt: float | None) -> tuple[np.ndarray, str]:
    if dt is None:
        return np.arange(length), "sample"
    return np.arange(length) * dt, "time [s]"


# =========================================================================== saving
def save_figure(
    fig: Figure, path_stem: str | Path, formats: str | Sequence[str] = ("png", "svg")
) -> list[Path]:
    """Save ``fig`` once per format as ``path_stem.<format>`` (folders are created).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure to save.
    path_stem : str or pathlib.Path
        File name without suffix; each format's suffix is appended.
    formats : str or sequence of str, default ('png', 'svg')
        Formats the figure's canvas writes (``'png'``, ``'svg'``, ``'pdf'``, ...);
        a string is one format.

    Returns
    -------
    list of pathlib.Path
        The written files, in the order of ``formats``.

    Raises
    ------
    ParameterError
        ``fig`` not a figure, no format or one the canvas does not write (the message
        lists those it does), or a folder that cannot be created or written to (a
        file in the way, no permission) or an output name that is a folder.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> fig = segment([0.0, 0.5, 1.0], [1.0, 0.0, 1.0])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     [p.name for p in save_figure(fig, pathlib.Path(tmp) / "seg", formats="png")]
    ['seg.png']
    """
    if not isinstance(fig, Figure):
        raise ParameterError(f"fig: must be a matplotlib Figure, got {type(fig).__name__}")
    wanted = _checked_formats(fig, formats)
    stem = Path(path_stem)
    if not stem.name or stem.name in (".", ".."):
        raise ParameterError(f"path_stem: needs a file name, got {str(path_stem)!r}")
    try:
        stem.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file where a folder should be, no permission, ...
        raise ParameterError(
            f"path_stem: cannot create the folder {stem.parent} ({exc.strerror or exc})"
        ) from None
    paths = [check_output_path(stem.with_suffix("." + fmt), "path_stem") for fmt in wanted]
    for p in paths:
        fig.savefig(p, dpi=110, bbox_inches="tight")
    return paths


def _checked_formats(fig: Figure, formats: Any) -> list[str]:
    """``formats`` as a list of formats ``fig``'s canvas writes (a string is one)."""
    items = [formats] if isinstance(formats, str) else formats
    try:
        items = list(items)
    except TypeError:
        raise ParameterError(
            f"formats: must be a format name or a sequence of them, got {formats!r}"
        ) from None
    if not items:
        raise ParameterError("formats: no format given")
    supported = fig.canvas.get_supported_filetypes()
    for fmt in items:
        if not isinstance(fmt, str) or fmt.lower() not in supported:
            raise ParameterError(
                f"formats: {fmt!r} is not a format matplotlib writes here; supported: "
                f"{', '.join(sorted(supported))}"
            )
    return [fmt.lower() for fmt in items]


# =========================================================================== the post's figures
def io_data(data: Any, ax: Axes | None = None, *, max_samples: int | None = None) -> Figure:
    """Figure 1: measured input as green dots and output as a red line (the hair dryer).

    Parameters
    ----------
    data : learnlds.datasets.IOData
        A record. Single-input single-output: one panel, as in the post. Several
        channels: one panel per channel (inputs green, held between samples; outputs
        red), stacked on a shared time axis, or all on ``ax`` when given.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure by default.
    max_samples : int, optional
        Show only the first samples (the post shows a stretch of the record).

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on.

    Raises
    ------
    ParameterError
        ``data`` is not an :class:`~learnlds.datasets.IOData`, or ``max_samples < 1``.

    Examples
    --------
    >>> from learnlds.datasets import IOData, synthetic_dryer
    >>> fig = io_data(synthetic_dryer(100), max_samples=50)
    >>> len(fig.axes[0].lines[0].get_xdata())
    50
    >>> len(io_data(IOData.from_arrays(np.ones((20, 2)), np.ones((20, 3)))).axes)
    5
    """
    if not isinstance(data, IOData):
        raise ParameterError(
            f"data: must be an IOData record, got {type(data).__name__}; wrap arrays with "
            "IOData(u, y) or read a file with IOData.from_file(path)"
        )
    count = check_int(max_samples, "max_samples", low=1, allow_none=True)
    T = len(data) if count is None else min(count, len(data))
    if not data.is_siso:
        return _channel_panels(data, T, ax)
    fig, ax = _axes(ax, figsize=(8.0, 3.6))
    t = data.time[:T]
    ax.plot(
        t,
        data.u1[:T],
        ".",
        color=_INPUT_COLOUR,
        ms=3.5,
        label=_label(data.input_names, data.input_units, "input"),
    )
    ax.plot(
        t,
        data.y1[:T],
        "-",
        color=_OUTPUT_COLOUR,
        lw=1.3,
        label=_label(data.output_names, data.output_units, "output"),
    )
    ax.set_xlabel(f"time [{data.time_unit}]" if data.dt is not None else "sample")
    kind = "synthetic" if data.synthetic else "measured"
    ax.set_title(f"{data.name}: {kind} input (dots) and output (line)")
    ax.legend(
        loc="lower center", bbox_to_anchor=(0.5, 1.08), ncol=2, fontsize="small", frameon=False
    )
    ax.grid(alpha=0.3)
    return fig


def _channel_panels(data: Any, T: int, ax: Axes | None) -> Figure:
    """A record with several channels: one panel per input, then one per output."""
    m, p = data.n_inputs, data.n_outputs
    if ax is None:
        height = 1.5 if m + p <= 6 else 1.15  # per panel
        fig = _new_figure((8.0, 0.8 + height * (m + p)), layout="constrained")
        axes = list(fig.subplots(m + p, 1, sharex=True, squeeze=False)[:, 0])
    else:
        fig, axes = ax.figure, [ax] * (m + p)
    t = data.time[:T]
    for j in range(m):
        label = _label(data.input_names[j : j + 1], data.input_units[j : j + 1], "input")
        axes[j].plot(
            t, data.u[:T, j], color=_INPUT_COLOUR, lw=0.9, drawstyle="steps-post", label=label
        )
    for i in range(p):
        label = _label(data.output_names[i : i + 1], data.output_units[i : i + 1], "output")
        axes[m + i].plot(t, data.y[:T, i], color=_OUTPUT_COLOUR, lw=1.2, label=label)
    for a in dict.fromkeys(axes):  # each panel once
        a.legend(loc="upper right", fontsize="small")
        a.grid(alpha=0.3)
    axes[-1].set_xlabel(f"time [{data.time_unit}]" if data.dt is not None else "sample")
    kind = "synthetic" if data.synthetic else "measured"
    axes[0].set_title(f"{data.name}: {kind} inputs (green) and outputs (red)", fontsize="medium")
    return fig


def _draw_predictions(
    ax: Axes, t: np.ndarray, u: np.ndarray, y: np.ndarray, yhat: np.ndarray, lim: tuple
) -> None:
    """Input dots, measured output and the clipped prediction on fixed y-limits."""
    ax.plot(t, u, ".", color=_INPUT_COLOUR, ms=3.0, label="input")
    ax.plot(t, y, "-", color=_OUTPUT_COLOUR, lw=1.3, label="measured output")
    ax.plot(t, np.clip(yhat, *lim), "-", color=_MODEL_COLOUR, lw=1.5, label="prediction")
    ax.set_ylim(*lim)
    ax.legend(
        loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, fontsize="small", frameon=False
    )
    ax.grid(alpha=0.3)


def predictions(
    u: Any,
    y: Any,
    snapshots: Sequence[tuple[int, Any]],
    step: int | None = None,
    ax: Axes | None = None,
    *,
    time: Any = None,
    predict: Callable[[Any, np.ndarray], np.ndarray] | None = None,
    ylim: tuple[float, float] | None = None,
    fit: float | None = None,
    title: str | None = None,
) -> Figure:
    """Figure 2: the model's predictions after ``step`` training steps (one animation frame).

    The y-limits stay those of the data (or ``ylim``) in every frame, so that the
    animation does not jump.

    Parameters
    ----------
    u, y : array_like
        Input and measured output, ``(T,)``.
    snapshots : sequence of (int, model)
        ``[(step, model)]``, e.g. :attr:`learnlds.train.TrainResult.snapshots`.
    step : int, optional
        The snapshot to draw; the last by default.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure (constrained layout) by default.
    time : array_like, optional
        Time axis; sample numbers by default.
    predict : callable, optional
        ``predict(model, u) -> yhat`` in the units of ``y``; ``model.simulate(u)`` by
        default.
    ylim : (float, float), optional
        Fixed y-limits.
    fit : float, optional
        Fit percent shown in the title.
    title : str, optional
        Replaces the default title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on.

    Raises
    ------
    ParameterError
        No snapshots, or ``step`` is not one of their steps.

    Examples
    --------
    >>> from learnlds import CanonicalSystem
    >>> model = CanonicalSystem([-0.5], [1.0])
    >>> u = np.sin(np.arange(40) / 4)
    >>> fig = predictions(u, model.simulate(u), [(0, model), (10, model)], 10, fit=100.0)
    >>> fig.axes[0].get_title()
    'predictions after 10/10 steps (fit 100.0 %)'
    """
    snapshots = _snapshot_pairs(snapshots)
    if not snapshots:
        raise ParameterError("snapshots: need at least one (step, model) pair")
    k, model = snapshots[_pick_step(snapshots, step, "a snapshot step")]
    ua = as_float_array(u, "u", ndim=(1,))
    ya = as_float_array(y, "y", ndim=(1,))
    t = np.arange(ya.shape[0]) if time is None else np.asarray(time)
    yhat = predict(model, ua) if predict is not None else model.simulate(ua)
    # constrained layout: the frame is fitted without an extra draw
    fig, ax = _axes(ax, figsize=(8.0, 3.6), layout="constrained")
    _draw_predictions(ax, t, ua, ya, yhat, ylim if ylim is not None else _limits(ua, ya))
    if title is None:
        title = f"predictions after {int(k)}/{int(snapshots[-1][0])} steps"
        if fit is not None:
            title += f" (fit {fit:.1f} %)"
    ax.set_title(title)
    ax.set_xlabel("time" if time is not None else "sample")
    return fig


def segment(
    t: Any,
    values: Any,
    ax: Axes | None = None,
    *,
    ylabel: str = "objective",
    title: str | None = None,
) -> Figure:
    """Figure 3: the objective along the segment between two points (``t`` in [0, 1]).

    Parameters
    ----------
    t : array_like
        Positions along the segment, ``(num,)``.
    values : array_like
        The objective at each position, same shape as ``t``.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure by default.
    ylabel : str, default 'objective'
        Label of the vertical axis.
    title : str, optional
        Replaces the default title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on.

    Raises
    ------
    DataError
        ``t`` and ``values`` are not 1-D arrays of the same shape, ``t`` is not two or
        more increasing positions, or no value is finite.

    Examples
    --------
    >>> t = np.linspace(0.0, 1.0, 11)
    >>> fig = segment(t, (t - 0.3) ** 2)
    >>> float(fig.axes[0].lines[2].get_xdata()[0])
    0.3
    """
    ta = as_float_array(t, "t")
    try:  # may hold inf/NaN where the objective blew up
        v = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise DataError(
            "values: must be numbers (inf or NaN where the objective blew up)"
        ) from None
    if ta.shape != v.shape or ta.ndim != 1:
        raise DataError(f"t and values: need equal 1-D shapes, got {ta.shape} and {v.shape}")
    if ta.size < 2 or np.any(np.diff(ta) <= 0):
        raise DataError(f"t: needs two or more increasing positions, got {ta.tolist()[:5]}")
    if not np.any(np.isfinite(v)):
        raise DataError("values: none is finite (the objective blew up along the whole segment)")
    fig, ax = _axes(ax, figsize=(6.0, 3.8))
    ax.plot(ta, v, "-", color=_MODEL_COLOUR, lw=1.8)
    ax.plot([ta[0], ta[-1]], [v[0], v[-1]], "o", color="k", ms=5, label="random end points")
    i = int(np.argmin(np.where(np.isfinite(v), v, np.inf)))
    ax.plot([ta[i]], [v[i]], "v", color=_OUTPUT_COLOUR, ms=7, label="minimum on the segment")
    ax.set_xlabel(r"$t$ along $(1-t)\,\theta_0 + t\,\theta_1$")
    ax.set_ylabel(ylabel)
    ax.set_title(title or "objective between two random points of the domain")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return fig


def segments(
    profiles: Any,
    *,
    ylabel: str = "objective",
    fig: Figure | None = None,
) -> Figure:
    """Figure 3 side by side: one panel per labelled segment profile, same loss and data.

    Parameters
    ----------
    profiles : mapping of str to (t, values)
        Panel titles (what the end points are) and the profiles, drawn left to right
        by :func:`segment`.
    ylabel : str, default 'objective'
        Label of the vertical axes.
    fig : matplotlib.figure.Figure, optional
        Figure to draw on (its axes are replaced); a new one by default.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on.

    Raises
    ------
    ParameterError
        ``profiles`` is not a non-empty mapping.
    DataError
        A profile that :func:`segment` refuses.

    Examples
    --------
    >>> t = np.linspace(0.0, 1.0, 11)
    >>> fig = segments({"domain": (t, np.cos(6 * t)), "region": (t, (t - 0.3) ** 2)})
    >>> [ax.get_title() for ax in fig.axes]
    ['domain', 'region']
    """
    if not hasattr(profiles, "items") or not len(profiles):
        raise ParameterError(f"profiles: expected a non-empty mapping, got {profiles!r}")
    count = len(profiles)
    if fig is None:
        fig = _new_figure((4.6 * count, 3.8), layout="constrained")
    else:
        fig.clear()
    axes = fig.subplots(1, count, squeeze=False)[0]
    for ax, (label, (t, v)) in zip(axes, profiles.items(), strict=True):
        segment(t, v, ax, ylabel=ylabel, title=str(label))
    return fig


def _numbered(models: Any) -> list[tuple[int, Any]]:
    """``[(step, model)]`` from such pairs or from a plain list of models (0, 1, ...)."""
    if models is None or isinstance(models, str | bytes) or not hasattr(models, "__iter__"):
        raise ParameterError(
            f"models: must be a sequence of models or of (step, model) pairs, got "
            f"{type(models).__name__}"
        )
    models = list(models)
    if models and not isinstance(models[0], tuple):
        return list(enumerate(models))
    if any(not (isinstance(p, tuple) and len(p) == 2) for p in models):
        raise ParameterError("models: mixes (step, model) pairs with other entries")
    return models


def transfer_functions(
    truth: Any,
    models: Any,
    step: int | None = None,
    *,
    num: int = 512,
    ylim: tuple[float, float] | None = None,
) -> Figure:
    """Figure 5: ``|G(e^{iw})|`` of the target (left) beside ``|Ghat|`` at ``step`` (right).

    The right panel keeps the target dashed for reference and both panels share the
    y-limits of the target and every model (so frames do not jump).

    Parameters
    ----------
    truth : CanonicalSystem
        The target system (single-input single-output; a fitted estimator is drawn
        as its ``system_``).
    models : sequence
        ``[(step, model)]``, or a list of models numbered 0, 1, ... (systems or
        fitted estimators).
    step : int, optional
        The model to draw; the last by default.
    num : int, default 512
        Number of frequencies in ``[0, 2 pi]``.
    ylim : (float, float), optional
        Fixed y-limits; by default from the target and all models.

    Returns
    -------
    matplotlib.figure.Figure
        A new figure with two panels.

    Raises
    ------
    ParameterError
        No models, ``models`` not a sequence, ``truth`` or a model not a system (an
        unfitted estimator included), or ``step`` is not one of their steps.
    UnsupportedShapeError
        A model with several inputs or outputs (:func:`bode_plot` draws those).

    Examples
    --------
    >>> from learnlds import CanonicalSystem
    >>> truth = CanonicalSystem([-0.5], [1.0])
    >>> fig = transfer_functions(truth, [truth.with_params(c=[0.5]), truth], num=64)
    >>> fig.axes[1].get_title()
    '$|\\\\widehat G(e^{i\\\\omega})|$ after 1/1 steps'
    """
    truth = _siso_system(truth, "truth")
    pairs = [(k, _siso_system(m, f"models[{i}]")) for i, (k, m) in enumerate(_numbered(models))]
    if not pairs:
        raise ParameterError("models: need at least one model")
    k, model = pairs[_pick_step(pairs, step, "one of the model steps")]
    w = np.linspace(0.0, 2.0 * np.pi, check_int(num, "num", low=2))
    g = np.abs(truth.frequency_response(w))
    if ylim is None:
        top = max(float(g.max()), *(float(np.abs(m.frequency_response(w)).max()) for _, m in pairs))
        ylim = (0.0, 1.08 * top if top > 0 else 1.0)
    fig = _new_figure((9.0, 3.6), layout="constrained")
    left, right = fig.subplots(1, 2, sharey=True)
    left.plot(w, g, color=_OUTPUT_COLOUR, lw=1.8)
    left.set_title(r"target $|G(e^{i\omega})|$")
    right.plot(w, g, "--", color=_OUTPUT_COLOUR, lw=1.0, alpha=0.6, label="target")
    right.plot(w, np.abs(model.frequency_response(w)), color=_MODEL_COLOUR, lw=1.8, label="model")
    right.set_title(rf"$|\widehat G(e^{{i\omega}})|$ after {int(k)}/{int(pairs[-1][0])} steps")
    right.legend(fontsize="small", loc="upper right")
    for a in (left, right):
        a.set_xlim(0.0, 2.0 * np.pi)
        a.set_ylim(*ylim)
        a.set_xticks(*_PI_TICKS)
        a.set_xlabel(r"$\omega$")
        a.grid(alpha=0.3)
    return fig


def _surface_halves(ax: Any, lim: float, clip: float, num: int) -> np.ndarray:
    """Draw ``min(h, clip)`` for ``v > 0`` in colour and ``v < 0`` in grey; return the grid."""
    s = np.linspace(-lim, lim, num + num % 2)  # even: no grid line on v = 0
    for half, colour in ((s[s > 0], True), (s[s < 0], False)):
        U, V = np.meshgrid(s, half)
        H = np.minimum((U / V - 1.0) ** 2, clip)
        style: dict[str, Any] = (
            {"cmap": "viridis", "vmin": 0.0, "vmax": clip, "alpha": 0.95}
            if colour
            else {"color": "0.6", "alpha": 0.3}
        )
        ax.plot_surface(U, V, H, linewidth=0, antialiased=True, rstride=1, cstride=1, **style)
    return s


def quasiconvex_surface(
    ax: Any = None,
    *,
    lim: float = 2.0,
    clip: float = 4.0,
    num: int = 120,
    elev: float = 30.0,
    azim: float = -130.0,
) -> Figure:
    """Figure 6: the surface ``h(u, v) = (u/v - 1)^2`` over the reals, clipped at ``clip``.

    The half-plane ``v > 0`` (where the claim gives quasi-convexity) is drawn in colour,
    ``v < 0`` in translucent grey; the red line is the valley of minima ``u = v``.

    Parameters
    ----------
    ax : mpl_toolkits.mplot3d.Axes3D, optional
        3-D axes to draw on; a new figure by default.
    lim : float, default 2.0
        The square ``[-lim, lim]^2`` is drawn.
    clip : float, default 4.0
        Values above are clipped (``h`` is unbounded near ``v = 0``).
    num : int, default 120
        Grid points per axis (rounded up to even).
    elev, azim : float
        The view angles in degrees (the report rotates ``azim`` on click).

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on.

    Raises
    ------
    ParameterError
        ``ax`` is not a 3-D axes, or a bad ``lim``, ``clip``, ``num`` or angle.

    Examples
    --------
    >>> fig = quasiconvex_surface(num=10, azim=10.0)
    >>> fig.axes[0].name, len(fig.axes[0].collections)
    ('3d', 2)
    """
    lim = check_float(lim, "lim", low=0.0, low_open=True)
    clip = check_float(clip, "clip", low=0.0, low_open=True)
    num = check_int(num, "num", low=2)
    elev = check_float(elev, "elev")
    azim = check_float(azim, "azim")
    if ax is None:
        fig = _new_figure((6.4, 5.2))
        ax = fig.add_subplot(projection="3d")
    elif getattr(ax, "name", None) != "3d":
        raise ParameterError(f"ax: expected 3-D matplotlib axes, got {type(ax).__name__}")
    else:
        fig = ax.figure
    s = _surface_halves(ax, lim, clip, num)
    pos = s[s > 0]
    ax.plot(pos, pos, np.zeros_like(pos), color=_OUTPUT_COLOUR, lw=2.0, zorder=10)
    ax.set_xlabel("u")
    ax.set_ylabel("v")
    ax.set_zlabel(f"min(h, {clip:g})")
    ticks = np.linspace(-lim, lim, 5)
    ax.set_xticks(ticks)
    ax.set_yticks(ticks)
    ax.set_zlim(0.0, clip)
    ax.view_init(elev=elev, azim=azim)
    ax.set_title(
        r"$h(u, v) = (u/v - 1)^2$: colour $v > 0$, grey $v < 0$, red: minima $u = v$",
        fontsize="medium",
    )
    return fig


# =========================================================================== the Pac-Man region
def _wedge(ax: Axes, region: Any, R: float) -> None:
    """Shade the plane grey and the allowed wedge (cut to the strip) green."""
    s = 1.0 + region.tau0
    ax.add_patch(Rectangle((-R, -R), 2 * R, 2 * R, color="0.85", zorder=0, lw=0))
    lo, hi = region.tau1, min(region.tau2, R)
    poly = np.column_stack(([lo, hi, hi, lo], [-lo / s, -hi / s, hi / s, lo / s]))
    ax.add_patch(Polygon(poly, color="#b7e4b0", zorder=1, lw=0, label="allowed wedge"))
    ax.plot([0, R], [0, R / s], color="#2f7d32", lw=1, zorder=2)
    ax.plot([0, R], [0, -R / s], color="#2f7d32", lw=1, zorder=2)


def pacman(a: Any, region: Any = None, ax: Axes | None = None, num: int = 512) -> Figure:
    """Figure 4: ``q_a(alpha e^{iw})`` over the circle against the Pac-Man region's wedge.

    The allowed wedge ``|Im q| <= Re q / (1 + tau0)`` (and the strip ``tau1 < Re q < tau2``
    when set) is shaded green, the rest of the plane (the Pac-Man's mouth side) grey; the
    title gives the exact margin.

    Parameters
    ----------
    a : array_like or CanonicalSystem
        Denominator coefficients ``(a_1, ..., a_n)``, or a system (its ``a``).
    region : PacmanRegion, optional
        The region; the post's ``PacmanRegion()`` by default.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure by default.
    num : int, default 512
        Points on the circle.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on.

    Examples
    --------
    >>> fig = pacman([0.2, -0.1], num=64)
    >>> "inside" in fig.axes[0].get_title()
    True
    """
    from .region import PacmanRegion

    a = a.a if isinstance(a, CanonicalSystem) else a
    region = PacmanRegion() if region is None else region
    q = region.curve(a, num=check_int(num, "num", low=2))
    marg = region.margin(a)
    fig, ax = _axes(ax, figsize=(5.0, 5.0))
    R = 1.15 * max(1.5, float(np.max(np.abs(q))), region.tau1 + 0.5)
    _wedge(ax, region, R)
    ax.plot(q.real, q.imag, color="#1f77b4", lw=1.6, zorder=3, label=r"$q_a(\alpha e^{i\omega})$")
    ax.plot([1.0], [0.0], "k+", zorder=4)
    ax.axhline(0.0, color="0.5", lw=0.5, zorder=1)
    ax.axvline(0.0, color="0.5", lw=0.5, zorder=1)
    ax.set_xlim(-R, R)
    ax.set_ylim(-R, R)
    ax.set_aspect("equal")
    ax.set_xlabel(r"Re $q_a$")
    ax.set_ylabel(r"Im $q_a$")
    inside = "inside" if marg >= -1e-9 else "outside"
    ax.set_title(f"Pac-Man region: margin {marg:+.3g} ({inside})", fontsize="medium")
    ax.legend(loc="lower left", fontsize="small")
    return fig


# =========================================================================== validation plots
def compare_plot(
    models: Any,
    u: Any,
    y: Any,
    ax: Axes | None = None,
    *,
    dt: float | None = None,
    title: str | None = None,
) -> Figure:
    """Measured output against each model's simulation from zero state, fit % in the legend.

    Parameters
    ----------
    models : model, sequence of models or mapping name -> model
        Anything with ``simulate``, or fitted estimators.
    u, y : array_like
        Input and measured output of one record; with several outputs each gets its
        own panel (stacked; all on ``ax`` when given) with its own fit percent.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure by default.
    dt : float, optional
        Sampling time; the time axis is in samples without it.
    title : str, optional
        Replaces the default title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on.

    Examples
    --------
    >>> from learnlds import CanonicalSystem
    >>> truth = CanonicalSystem([-0.5], [1.0])
    >>> u = np.sin(np.arange(50) / 5)
    >>> fig = compare_plot({"truth": truth}, u, truth.simulate(u), dt=0.1)
    >>> fig.axes[0].get_legend().get_texts()[1].get_text()
    'truth: fit 100.0 %'
    """
    from .validate import compare, fit_percent

    dt = _check_dt(dt)
    results = compare(models, u, y)
    ya = np.asarray(y, dtype=float)
    outputs = ya.reshape(len(ya), -1)
    p = outputs.shape[1]
    if ax is None and p > 1:  # one panel per output
        fig = _new_figure((8.0, 2.6 * p))
        axes = list(fig.subplots(p, 1, sharex=True))
    else:
        fig, ax = _axes(ax, figsize=(8.0, 4.0))
        axes = [ax] * p
    t, xlabel = _time_axis(len(ya), dt)
    for i, a in enumerate(axes):
        tag = f" y{i + 1}" if p > 1 else ""
        a.plot(t, outputs[:, i], color="0.2", lw=1.2, label="measured" + tag)
        for name, (yhat, fit) in results.items():
            yi = np.asarray(yhat).reshape(len(ya), -1)[:, i]
            fit_i = fit if p == 1 else fit_percent(outputs[:, i], yi)
            a.plot(t, yi, lw=1.0, label=f"{name}{tag}: fit {fit_i:.1f} %")
        a.set_ylabel("output" + tag)
        a.legend(fontsize="small", loc="best")
    axes[-1].set_xlabel(xlabel)
    axes[0].set_title(title or "Simulated vs measured output", fontsize="medium")
    return fig


def bode_plot(
    models: Any,
    dt: float | None = None,
    *,
    w: Any = None,
    num: int = 512,
    fig: Figure | None = None,
    covariance: Any = None,
) -> Figure:
    """Magnitude (dB) and phase (degrees) of one or several models on two stacked axes.

    Parameters
    ----------
    models : model, sequence of models or mapping name -> model
        Anything with ``frequency_response``, or fitted estimators (drawn as their
        ``system_``); a model with several inputs or outputs gets one curve per
        (output, input) pair, labelled ``name: uj→yi``.
    dt : float, optional
        Sampling time: the axis is then in rad/s (``w / dt``, up to the Nyquist
        frequency ``pi / dt``), else in rad/sample up to pi. Default: the first
        model's own ``dt`` when it has one.
    w : array_like, optional
        Frequencies in rad/sample; ``num`` log-spaced ones by default.
    num : int, default 512
        Number of default frequencies.
    fig : matplotlib.figure.Figure, optional
        Figure to draw on (two axes are added); a new one by default.
    covariance : array_like or mapping name -> array_like, optional
        Parameter covariance of a model, e.g. an estimator's ``covariance_``: its
        +-2 sigma band (delta method) is shaded around each curve.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on.

    Raises
    ------
    ParameterError
        No model, an unfitted estimator, a model without ``frequency_response``, or
        ``covariance`` that names no model.

    Examples
    --------
    >>> from learnlds import CanonicalSystem
    >>> fig = bode_plot({"first order": CanonicalSystem([-0.5], [1.0])}, num=32)
    >>> [ax.get_ylabel() for ax in fig.axes]
    ['magnitude [dB]', 'phase [deg]']
    >>> banded = bode_plot(CanonicalSystem([-0.5], [1.0]), num=32, covariance=1e-4 * np.eye(3))
    >>> len(banded.axes[0].collections)  # the shaded band
    1
    """
    named = _named_systems(models, "frequency_response")
    if dt is None:
        dt = getattr(next(iter(named.values())), "dt", None)
    dt = _check_dt(dt)
    if w is None:
        w = np.logspace(-3, np.log10(np.pi), check_int(num, "num", low=2))
    else:
        w = as_float_array(w, "w", ndim=(1,))
    bands = _bands(covariance, named)
    fig, (ax_m, ax_p) = _two_axes(fig, (7.0, 5.5), sharex=True)
    freq = w if dt is None else w / dt
    for name, m in named.items():
        std = frequency_response_std(m, bands[name], w) if name in bands else None
        _draw_bode(ax_m, ax_p, freq, name, np.asarray(m.frequency_response(w)), std)
    ax_m.set_ylabel("magnitude [dB]")
    ax_p.set_ylabel("phase [deg]")
    ax_p.set_xlabel("frequency [rad/s]" if dt is not None else "frequency [rad/sample]")
    ax_m.set_title("Bode diagram", fontsize="medium")
    ax_m.legend(fontsize="small", loc="best")
    for ax in (ax_m, ax_p):
        ax.grid(True, which="both", lw=0.3)
    return fig


def _draw_bode(ax_m, ax_p, freq, name: str, response: np.ndarray, std: Any) -> None:
    """One model's magnitude and phase curves (one per output, input pair) and, with
    ``std``, their +-2 sigma bands."""
    for label, at in _channel_pairs(name, response):
        mag = np.maximum(np.abs(response[at]), 1e-300)
        phase = np.unwrap(np.angle(response[at]))
        (line,) = ax_m.semilogx(freq, 20 * np.log10(mag), label=label)
        ax_p.semilogx(freq, np.degrees(phase), label=label)
        if std is not None:
            _shade_band(ax_m, ax_p, freq, (mag, phase), (std.magnitude[at], std.phase[at]), line)


def _bands(covariance: Any, named: dict[str, Any]) -> dict[str, np.ndarray]:
    """``{model name: covariance}`` from one matrix (one model) or a mapping."""
    if covariance is None:
        return {}
    if isinstance(covariance, dict):
        unknown = sorted(set(covariance) - set(named))
        if unknown:
            raise ParameterError(f"covariance: no model named {unknown[0]!r}")
        return dict(covariance)
    if len(named) != 1:
        raise ParameterError("covariance: with several models pass a mapping name -> matrix")
    return {next(iter(named)): covariance}


def _channel_pairs(name: str, resp: np.ndarray) -> list[tuple[str, tuple[Any, ...]]]:
    """Labels and indices of each ``(output, input)`` curve of a ``(L, p, m)`` response
    (one curve, labelled ``name``, for a SISO ``(L,)`` one)."""
    if resp.ndim == 1:
        return [(name, (Ellipsis,))]
    p, m = resp.shape[1:]
    return [
        (f"{name}: u{j + 1}\u2192y{i + 1}", (slice(None), i, j)) for i in range(p) for j in range(m)
    ]


def _shade_band(ax_m, ax_p, freq, curve, std, line) -> None:
    """+-2 sigma around magnitude (dB) and phase (deg), in the curve's colour;
    ``curve`` and ``std`` are ``(magnitude, phase)`` pairs."""
    (mag, phase), (mag_std, phase_std) = curve, std
    colour = line.get_color()
    lo = np.maximum(mag - 2 * mag_std, mag * 1e-3)
    ax_m.fill_between(
        freq,
        20 * np.log10(lo),
        20 * np.log10(mag + 2 * mag_std),
        color=colour,
        alpha=0.2,
        lw=0,
        label="\u00b12\u03c3",
    )
    ax_p.fill_between(
        freq,
        np.degrees(phase - 2 * phase_std),
        np.degrees(phase + 2 * phase_std),
        color=colour,
        alpha=0.2,
        lw=0,
    )


def _response(model: Any, kind: str, length: int) -> np.ndarray:
    """Step (each input alone, from zero state) or impulse response: ``(L,)`` SISO,
    ``(L, p, m)`` otherwise."""
    if kind == "impulse":
        return np.asarray(model.markov(length))
    if getattr(model, "is_siso", True):
        return np.asarray(model.simulate(np.ones(length)))
    steps = np.repeat(np.eye(model.n_inputs)[:, None, :], length, axis=1)  # (m, L, m)
    return np.moveaxis(np.asarray(model.simulate(steps)), 0, -1)  # (L, p, m)


def _response_plot(models: Any, kind: str, length: Any, ax: Axes | None, dt: Any) -> Figure:
    length = check_int(length, "length", low=1)
    dt = _check_dt(dt)
    named = _named_systems(models, "markov" if kind == "impulse" else "simulate")
    fig, ax = _axes(ax)
    t, xlabel = _time_axis(length, dt)
    for name, m in named.items():
        resp = np.asarray(_response(m, kind, length), dtype=float)
        for label, at in _channel_pairs(name, resp):  # one curve per (output, input)
            ax.step(t, resp[at], where="post", label=label)
    ax.axhline(0.0, color="0.6", lw=0.5)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"{kind} response")
    ax.set_title(f"{kind.capitalize()} response", fontsize="medium")
    ax.legend(fontsize="small", loc="best")
    return fig


@renamed_parameters(n="length")
def step_plot(
    models: Any, length: int = 100, ax: Axes | None = None, *, dt: float | None = None
) -> Figure:
    """Step responses (from zero state) of one or several models over ``length`` samples.

    Parameters
    ----------
    models : model, sequence of models or mapping name -> model
        Anything with ``simulate``, or fitted estimators (their ``system_``, offsets
        left out); with several inputs or outputs one curve per (output, input)
        pair, each input stepped alone.
    length : int, default 100
        Number of samples drawn (the keyword ``n`` is a deprecated alias).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure by default.
    dt : float, optional
        Sampling time; the time axis is in samples without it.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on.

    Raises
    ------
    ParameterError
        No model, an unfitted estimator, or a model without ``simulate``.

    Examples
    --------
    >>> from learnlds import CanonicalSystem
    >>> fig = step_plot(CanonicalSystem([-0.5], [1.0]), length=30, dt=0.5)
    >>> fig.axes[0].get_xlabel()
    'time [s]'
    """
    return _response_plot(models, "step", length, ax, dt)


@renamed_parameters(n="length")
def impulse_plot(
    models: Any, length: int = 100, ax: Axes | None = None, *, dt: float | None = None
) -> Figure:
    """Impulse responses (Markov parameters ``r_0 .. r_{length-1}``) of one or several models.

    Parameters
    ----------
    models : model, sequence of models or mapping name -> model
        Anything with ``markov``, or fitted estimators (their ``system_``); with
        several inputs or outputs one curve per (output, input) pair.
    length : int, default 100
        Number of samples drawn (the keyword ``n`` is a deprecated alias).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure by default.
    dt : float, optional
        Sampling time; the time axis is in samples without it.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on.

    Raises
    ------
    ParameterError
        No model, an unfitted estimator, or a model without ``markov``.

    Examples
    --------
    >>> from learnlds import CanonicalSystem
    >>> fig = impulse_plot(CanonicalSystem([-0.5], [1.0]), length=30)
    >>> fig.axes[0].get_ylabel()
    'impulse response'
    """
    return _response_plot(models, "impulse", length, ax, dt)


def _correlation_panel(
    ax: Axes, lags: np.ndarray, values: np.ndarray, bound: float, colour: str
) -> None:
    """Stems with dots and the shaded 99 % band."""
    ax.vlines(lags, 0, values, color=colour)
    ax.plot(lags, values, "o", ms=3, color=colour)
    ax.fill_between(lags, -bound, bound, color="#ffd8a8", alpha=0.6)
    ax.axhline(0.0, color="0.5", lw=0.5)


def residual_plot(
    model_or_result: Any,
    u: Any = None,
    y: Any = None,
    max_lag: int = 25,
    *,
    fig: Figure | None = None,
) -> Figure:
    """Residual autocorrelation and input cross-correlation with their 99 % bounds.

    Parameters
    ----------
    model_or_result : ResidualAnalysis, model or array_like
        A :class:`~learnlds.validate.ResidualAnalysis`; or a model (then ``u`` and
        ``y`` are required); or the residuals themselves (then ``u``).
    u, y : array_like, optional
        Input and measured output, ``(T,)``.
    max_lag : int, default 25
        Largest lag of the correlations.
    fig : matplotlib.figure.Figure, optional
        Figure to draw on (two axes are added); a new one by default.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on.

    Raises
    ------
    ParameterError
        ``u`` is missing when the analysis must be computed.

    Examples
    --------
    >>> u = np.random.default_rng(0).normal(size=200)
    >>> e = np.random.default_rng(1).normal(size=200)
    >>> fig = residual_plot(e, u, max_lag=5)
    >>> fig.axes[0].get_title()
    'Residual autocorrelation (whiteness ok)'
    """
    from .validate import ResidualAnalysis, residual_analysis

    if isinstance(model_or_result, ResidualAnalysis):
        res = model_or_result
    else:
        if u is None:
            raise ParameterError("u: the input is needed for the residual analysis")
        res = residual_analysis(model_or_result, u, y, max_lag)
    fig, (ax1, ax2) = _two_axes(fig, (7.0, 5.5))
    ok = {True: "ok", False: "FAILED"}
    _correlation_panel(ax1, res.lags, res.autocorr, res.auto_bound, "#1f77b4")
    ax1.set_title(f"Residual autocorrelation (whiteness {ok[res.whiteness_ok]})", fontsize="medium")
    ax1.set_xlabel("lag")
    _correlation_panel(ax2, res.cross_lags, res.crosscorr, res.cross_bound, "#d62728")
    ax2.set_title(
        f"Cross-correlation residual / input (independence {ok[res.independence_ok]})",
        fontsize="medium",
    )
    ax2.set_xlabel("lag (positive: past inputs)")
    fig.tight_layout()
    return fig
