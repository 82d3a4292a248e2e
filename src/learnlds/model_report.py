"""The HTML report of any fitted model, several inputs and outputs included.

:func:`write_model_report` is what ``learnlds report`` writes for a model that is not
single-input single-output: the data and its split, the model (order, poles,
stability, DC gain, small matrices), the fit per output by the project's protocol
(:func:`learnlds.validate.holdout`), the simulation in the data's units, the
validation part, and Bode, step and residual figures per output, with no figure of
the post. The post's page of a SISO model is :func:`learnlds.report.write_report`.

Like that page it is ONE self-contained ``index.html`` (images inline, nothing
fetched), built in a temporary folder and moved into place when complete; both pages
share their scaffolding (:mod:`learnlds._html`). The figures are rendered off-screen
(:mod:`learnlds.plots`): writing a report never touches pyplot or matplotlib's global
backend.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import plots
from ._boundary import as_float_array, check_float
from ._files import check_output_folder
from ._html import _esc, _figure_store, _Figures, _fits_table, _fmt, _notes, _page, _staged, _still
from .datasets import IOData
from .errors import DataError, ParameterError
from .statespace import StateSpaceSystem
from .systems import CanonicalSystem
from .validate import (
    HoldoutResult,
    ResidualAnalysis,
    extrapolation_note,
    holdout,
    residual_analysis,
)

__all__ = ["write_model_report"]

_FIGURE_FORMATS = ("png", "svg")
"""The formats figures are saved in by default."""
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
    u_val = np.asarray(fits.u_validation).reshape(len(data) - fits.split_index, -1)
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
        "means (<code>learnlds.validate.holdout</code>).</p>"
        + _fits_table(rows, first="output")
        + _extrapolation_html(ctx)
    )


def _extrapolation_html(ctx: _ModelContext) -> str:
    """A warning paragraph when the validation inputs lie outside the estimation band."""
    note = extrapolation_note(ctx.fits.input_coverage, ctx.data.input_names)
    return "" if note is None else f'<p class="note" id="extrapolation">Note: {_esc(note)}.</p>'


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
    figure_formats: Sequence[str] = _FIGURE_FORMATS,
    log: Callable[[str], None] | None = None,
) -> Path:
    """Write ``out_dir/index.html`` for a fitted model of any shape (several inputs/outputs).

    Where :func:`learnlds.report.write_report` draws the post's figures of a SISO model,
    this is the engineer's report: the record and its split, the model (order, poles,
    stability, DC gain, small matrices), the fit per output by :func:`learnlds.validate.holdout`,
    the simulation in the data's units, the validation part, a Bode diagram per output, step
    responses and residual tests per (output, input) pair; figures draw at most 8 channels,
    tables all. Staged like :func:`~learnlds.report.write_report`: a failed run leaves a
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
    offsets, figures = (input_offset, output_offset), (save_figures, figure_formats)
    return _write_model_report(out_dir, data, model, split, offsets, (title, notes), figures, log)[
        0
    ]


def _write_model_report(
    out_dir: str | Path,
    data: IOData,
    model: CanonicalSystem | StateSpaceSystem,
    split: float,
    offsets: tuple[Any, Any],
    heading: tuple[str | None, Sequence[str]],
    figures: tuple[bool, Sequence[str]],
    log: Callable[[str], None] | None,
) -> tuple[Path, HoldoutResult]:
    """:func:`write_model_report`, also returning the protocol's result it drew (the CLI
    prints its fits instead of simulating the record a second time)."""
    target = check_output_folder(out_dir, "out_dir")
    _figure_store(target, *figures)  # options checked before any work
    ctx = _model_context(data, model, split, offsets, log)
    title, notes = heading

    def build() -> str:  # called once the staging folder's figure store is in ctx
        drawn = "".join(section(ctx) for section in _MODEL_SECTIONS)
        body = _notes(notes) + _omitted_html(ctx.omitted) + drawn
        return _page(title or f"learnlds report: {data.name}", body, intro=_MODEL_INTRO)

    return _staged(ctx, target, figures, build), ctx.fits
