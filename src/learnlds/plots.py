"""Figures (matplotlib): the post's six pictures, the Pac-Man region, and validation plots.

Every function draws on a given ``ax`` (or makes a figure) and returns the matplotlib
``Figure``; nothing here computes a model, it only draws what the library computed.
The Agg backend is used unless the caller chose another.
"""

from __future__ import annotations

import matplotlib

if matplotlib.get_backend().lower() not in (
    "agg",
    "svg",
    "pdf",
    "module://matplotlib_inline.backend_inline",
):
    matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__: list[str] = []


def _axes(ax=None, figsize=(6.0, 4.0)):
    """Return ``(fig, ax)``, creating a figure when ``ax`` is None."""
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
    else:
        fig = ax.figure
    return fig, ax


def save_figure(fig, path_stem, formats=("png", "svg")):
    """Save ``fig`` as ``path_stem.png`` and ``.svg``; return the written paths."""
    from pathlib import Path

    stem = Path(path_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for fmt in formats:
        p = stem.with_suffix("." + fmt)
        fig.savefig(p, dpi=110, bbox_inches="tight")
        out.append(p)
    return out


# =========================================================================== the post's figures
# (demo/report engineer) Figures 1, 2, 3, 5 and 6 of the post; figure 4 is ``pacman``.
__all__ += [
    "io_data",
    "predictions",
    "quasiconvex_surface",
    "segment",
    "transfer_functions",
]

_INPUT_COLOUR = "#2ca02c"  # green dots: the heater setting, as in the post
_OUTPUT_COLOUR = "#d62728"  # red line: the measured temperature
_MODEL_COLOUR = "#1f77b4"  # blue line: the model's prediction


def _label(names, units, default: str) -> str:
    """``'name [unit]'`` from an IOData's first channel name and unit."""
    name = names[0] if names else default
    unit = units[0] if units and units[0] else ""
    return f"{name} [{unit}]" if unit else str(name)


def io_data(data, ax=None, *, max_samples: int | None = None):
    """Figure 1: measured input as green dots and output as a red line (the hair dryer).

    ``data`` is a SISO :class:`learnlds.datasets.IOData`; ``max_samples`` shows only the
    first samples (the post shows a stretch of the record).
    """
    fig, ax = _axes(ax, figsize=(8.0, 3.6))
    n = len(data) if max_samples is None else min(int(max_samples), len(data))
    t = data.time[:n]
    u, y = data.u1[:n], data.y1[:n]
    ax.plot(
        t,
        u,
        ".",
        color=_INPUT_COLOUR,
        ms=3.5,
        label=_label(data.input_names, data.input_units, "input"),
    )
    ax.plot(
        t,
        y,
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


def _limits(*arrays: np.ndarray, pad: float = 0.12) -> tuple[float, float]:
    lo = min(float(np.min(a)) for a in arrays)
    hi = max(float(np.max(a)) for a in arrays)
    span = hi - lo or 1.0
    return lo - pad * span, hi + pad * span


def predictions(
    u,
    y,
    snapshots,
    step: int | None = None,
    ax=None,
    *,
    time=None,
    predict=None,
    ylim: tuple[float, float] | None = None,
    fit: float | None = None,
    title: str | None = None,
):
    """Figure 2: the model's predictions after ``step`` training steps (one animation frame).

    ``snapshots`` is the ``[(step, model)]`` list of a :class:`learnlds.train.TrainResult`;
    ``step=None`` draws the last one. ``predict(model, u) -> yhat`` maps the model to the
    units of ``y`` (default ``model.simulate(u)``). The y-limits stay those of the data
    (``ylim``) in every frame so that the animation does not jump.
    """
    if not snapshots:
        raise ValueError("snapshots: need at least one (step, model) pair")
    steps = [int(s) for s, _ in snapshots]
    if step is None:
        idx = len(snapshots) - 1
    elif int(step) in steps:
        idx = steps.index(int(step))
    else:
        raise ValueError(f"step: {step} is not a snapshot step (have {steps})")
    k, model = snapshots[idx]
    u = np.asarray(u, dtype=float)
    y = np.asarray(y, dtype=float)
    t = np.arange(y.shape[0]) if time is None else np.asarray(time)
    yhat = predict(model, u) if predict is not None else model.simulate(u)
    if ax is None:  # constrained layout: the frame is fitted without an extra draw
        fig, ax = plt.subplots(figsize=(8.0, 3.6), layout="constrained")
    else:
        fig = ax.figure
    lim = ylim if ylim is not None else _limits(u, y)
    ax.plot(t, u, ".", color=_INPUT_COLOUR, ms=3.0, label="input")
    ax.plot(t, y, "-", color=_OUTPUT_COLOUR, lw=1.3, label="measured output")
    ax.plot(t, np.clip(yhat, *lim), "-", color=_MODEL_COLOUR, lw=1.5, label="prediction")
    ax.set_ylim(*lim)
    if title is None:
        title = f"predictions after {int(k)}/{steps[-1]} steps"
        if fit is not None:
            title += f" (fit {fit:.1f} %)"
    ax.set_title(title)
    ax.set_xlabel("time" if time is not None else "sample")
    ax.legend(
        loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, fontsize="small", frameon=False
    )
    ax.grid(alpha=0.3)
    return fig


def segment(t, values, ax=None, *, ylabel: str = "objective", title: str | None = None):
    """Figure 3: the objective along the segment between two points (``t`` in [0, 1])."""
    t = np.asarray(t, dtype=float)
    v = np.asarray(values, dtype=float)
    if t.shape != v.shape or t.ndim != 1:
        raise ValueError(f"t and values: need equal 1-D shapes, got {t.shape} and {v.shape}")
    fig, ax = _axes(ax, figsize=(6.0, 3.8))
    ax.plot(t, v, "-", color=_MODEL_COLOUR, lw=1.8)
    ax.plot([t[0], t[-1]], [v[0], v[-1]], "o", color="k", ms=5, label="random end points")
    i = int(np.nanargmin(v))
    ax.plot([t[i]], [v[i]], "v", color=_OUTPUT_COLOUR, ms=7, label="minimum on the segment")
    ax.set_xlabel(r"$t$ along $(1-t)\,\theta_0 + t\,\theta_1$")
    ax.set_ylabel(ylabel)
    ax.set_title(title or "objective between two random points of the domain")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return fig


def transfer_functions(
    truth,
    models,
    step: int | None = None,
    *,
    num: int = 512,
    ylim: tuple[float, float] | None = None,
):
    """Figure 5: ``|G(e^{iw})|`` of the target (left) beside ``|Ghat|`` at ``step`` (right).

    ``models`` is ``[(step, model)]`` (or a list of models, numbered 0, 1, ...);
    ``step=None`` draws the last. The right panel keeps the target dashed for reference
    and both panels share the y-limits of the target and every model.
    """
    pairs = (
        [(i, m) for i, m in enumerate(models)]
        if models and not isinstance(models[0], tuple)
        else list(models)
    )
    if not pairs:
        raise ValueError("models: need at least one model")
    steps = [int(s) for s, _ in pairs]
    if step is None:
        idx = len(pairs) - 1
    elif int(step) in steps:
        idx = steps.index(int(step))
    else:
        raise ValueError(f"step: {step} is not one of the model steps {steps}")
    w = np.linspace(0.0, 2.0 * np.pi, int(num))
    g = np.abs(truth.frequency_response(w))
    if ylim is None:
        top = max(
            float(g.max()), max(float(np.abs(m.frequency_response(w)).max()) for _, m in pairs)
        )
        ylim = (0.0, 1.08 * top if top > 0 else 1.0)
    k, model = pairs[idx]
    gh = np.abs(model.frequency_response(w))
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.0, 3.6), sharey=True, layout="constrained")
    left.plot(w, g, color=_OUTPUT_COLOUR, lw=1.8)
    left.set_title(r"target $|G(e^{i\omega})|$")
    right.plot(w, g, "--", color=_OUTPUT_COLOUR, lw=1.0, alpha=0.6, label="target")
    right.plot(w, gh, color=_MODEL_COLOUR, lw=1.8, label="model")
    right.set_title(rf"$|\widehat G(e^{{i\omega}})|$ after {int(k)}/{steps[-1]} steps")
    right.legend(fontsize="small", loc="upper right")
    for a in (left, right):
        a.set_xlim(0.0, 2.0 * np.pi)
        a.set_ylim(*ylim)
        a.set_xticks([0, np.pi / 2, np.pi, 3 * np.pi / 2, 2 * np.pi])
        a.set_xticklabels(["0", r"$\pi/2$", r"$\pi$", r"$3\pi/2$", r"$2\pi$"])
        a.set_xlabel(r"$\omega$")
        a.grid(alpha=0.3)
    return fig


def quasiconvex_surface(
    ax=None,
    *,
    lim: float = 2.0,
    clip: float = 4.0,
    num: int = 120,
    elev: float = 30.0,
    azim: float = -130.0,
):
    """Figure 6: the surface ``h(u, v) = (u/v - 1)^2`` over the reals, clipped at ``clip``.

    The half-plane ``v > 0`` (where the claim gives quasi-convexity) is drawn in colour,
    ``v < 0`` in translucent grey; the red line is the valley of minima ``u = v``.
    ``elev``/``azim`` set the view (the report rotates it on click).
    """
    if ax is None:
        fig = plt.figure(figsize=(6.4, 5.2))
        ax = fig.add_subplot(projection="3d")
    else:
        fig = ax.figure
    num = int(num) + int(num) % 2  # even: no grid line on v = 0
    s = np.linspace(-lim, lim, num)
    for half, style in ((s[s > 0], "colour"), (s[s < 0], "grey")):
        U, V = np.meshgrid(s, half)
        H = np.minimum((U / V - 1.0) ** 2, clip)
        if style == "colour":
            ax.plot_surface(
                U,
                V,
                H,
                cmap="viridis",
                vmin=0.0,
                vmax=clip,
                linewidth=0,
                antialiased=True,
                rstride=1,
                cstride=1,
                alpha=0.95,
            )
        else:
            ax.plot_surface(
                U, V, H, color="0.6", linewidth=0, antialiased=True, rstride=1, cstride=1, alpha=0.3
            )
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
# (region engineer) Figure 4 of the post: the curve q_a(alpha e^{iw}) against the wedge.
__all__ += ["pacman"]


def pacman(a, region=None, ax=None, num: int = 512):
    """Draw ``q_a(alpha e^{iw})`` over the circle against the Pac-Man region's wedge.

    The allowed wedge ``|Im q| <= Re q / (1 + tau0)`` (and the strip ``tau1 < Re q < tau2``
    when set) is shaded green, the rest of the plane (the Pac-Man's mouth side) grey; the
    title gives the exact margin. ``region`` defaults to the post's ``PacmanRegion()``.
    """
    from .region import PacmanRegion

    region = PacmanRegion() if region is None else region
    q = region.curve(a, num=num)
    marg = region.margin(a)
    fig, ax = _axes(ax, figsize=(5.0, 5.0))
    R = 1.15 * max(1.5, float(np.max(np.abs(q))), region.tau1 + 0.5)
    s = 1.0 + region.tau0
    ax.add_patch(plt.Rectangle((-R, -R), 2 * R, 2 * R, color="0.85", zorder=0, lw=0))
    lo = region.tau1
    hi = min(region.tau2, R)
    xs = np.array([lo, hi, hi, lo])
    poly = np.column_stack((xs, np.array([-lo / s, -hi / s, hi / s, lo / s])))
    ax.add_patch(plt.Polygon(poly, color="#b7e4b0", zorder=1, lw=0, label="allowed wedge"))
    ax.plot([0, R], [0, R / s], color="#2f7d32", lw=1, zorder=2)
    ax.plot([0, R], [0, -R / s], color="#2f7d32", lw=1, zorder=2)
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
# (baselines/validation engineer) compare, Bode, step, impulse and residual figures.
__all__ += ["bode_plot", "compare_plot", "impulse_plot", "residual_plot", "step_plot"]


def _time_axis(T: int, dt: float | None) -> tuple[np.ndarray, str]:
    if dt is None:
        return np.arange(T), "sample"
    if not dt > 0:
        raise ValueError(f"dt: must be a positive sampling time, got {dt}")
    return np.arange(T) * dt, "time [s]"


def compare_plot(models, u, y, ax=None, *, dt: float | None = None, title: str | None = None):
    """Measured output against each model's simulation from zero state, fit % in the legend."""
    from .validate import compare

    results = compare(models, u, y)
    ya = np.asarray(y, dtype=float)
    fig, ax = _axes(ax, figsize=(8.0, 4.0))
    t, xlabel = _time_axis(ya.shape[-1], dt)
    ax.plot(t, ya, color="0.2", lw=1.2, label="measured")
    for name, (yhat, fit) in results.items():
        ax.plot(t, yhat, lw=1.0, label=f"{name}: fit {fit:.1f} %")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("output")
    ax.set_title(title or "Simulated vs measured output", fontsize="medium")
    ax.legend(fontsize="small", loc="best")
    return fig


def bode_plot(models, dt: float | None = None, *, w=None, num: int = 512, fig=None):
    """Magnitude (dB) and phase (degrees) of one or several models on two stacked axes.

    Frequencies ``w`` in rad/sample up to pi; with a sampling time ``dt`` the axis is
    in rad/s (``w / dt``, up to the Nyquist frequency ``pi / dt``).
    """
    from .validate import as_named_models

    named = as_named_models(models)
    if dt is not None and not dt > 0:
        raise ValueError(f"dt: must be a positive sampling time, got {dt}")
    w = np.logspace(-3, np.log10(np.pi), num) if w is None else np.asarray(w, dtype=float)
    if fig is None:
        fig, (ax_m, ax_p) = plt.subplots(2, 1, sharex=True, figsize=(7.0, 5.5))
    else:
        ax_m, ax_p = fig.subplots(2, 1, sharex=True)
    x = w if dt is None else w / dt
    for name, m in named.items():
        g = np.asarray(m.frequency_response(w))
        ax_m.semilogx(x, 20 * np.log10(np.maximum(np.abs(g), 1e-300)), label=name)
        ax_p.semilogx(x, np.degrees(np.unwrap(np.angle(g))), label=name)
    ax_m.set_ylabel("magnitude [dB]")
    ax_p.set_ylabel("phase [deg]")
    ax_p.set_xlabel("frequency [rad/s]" if dt is not None else "frequency [rad/sample]")
    ax_m.set_title("Bode diagram", fontsize="medium")
    ax_m.legend(fontsize="small", loc="best")
    for ax in (ax_m, ax_p):
        ax.grid(True, which="both", lw=0.3)
    return fig


def _response_plot(models, kind: str, n: int, ax, dt: float | None):
    from .validate import as_named_models

    n = int(n)
    if n < 1:
        raise ValueError(f"n: must be >= 1 sample, got {n}")
    named = as_named_models(models)
    fig, ax = _axes(ax)
    t, xlabel = _time_axis(n, dt)
    for name, m in named.items():
        resp = m.simulate(np.ones(n)) if kind == "step" else m.markov(n)
        ax.step(t, np.asarray(resp, dtype=float), where="post", label=name)
    ax.axhline(0.0, color="0.6", lw=0.5)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"{kind} response")
    ax.set_title(f"{kind.capitalize()} response", fontsize="medium")
    ax.legend(fontsize="small", loc="best")
    return fig


def step_plot(models, n: int = 100, ax=None, *, dt: float | None = None):
    """Step responses (from zero state) of one or several models over ``n`` samples."""
    return _response_plot(models, "step", n, ax, dt)


def impulse_plot(models, n: int = 100, ax=None, *, dt: float | None = None):
    """Impulse responses (Markov parameters ``r_0..r_{n-1}``) of one or several models."""
    return _response_plot(models, "impulse", n, ax, dt)


def residual_plot(model_or_result, u=None, y=None, max_lag: int = 25, *, fig=None):
    """Residual autocorrelation and input cross-correlation with their 99 % bounds.

    ``model_or_result``: a :class:`~learnlds.validate.ResidualAnalysis`, or a model
    (then ``u`` and ``y`` are required) or a residual array (then ``u``).
    """
    from .validate import ResidualAnalysis, residual_analysis

    if isinstance(model_or_result, ResidualAnalysis):
        res = model_or_result
    else:
        if u is None:
            raise ValueError("u: the input is needed for the residual analysis")
        res = residual_analysis(model_or_result, u, y, max_lag)
    if fig is None:
        fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(7.0, 5.5))
    else:
        ax1, ax2 = fig.subplots(2, 1)
    ok = {True: "ok", False: "FAILED"}
    ax1.vlines(res.lags, 0, res.autocorr, color="#1f77b4")
    ax1.plot(res.lags, res.autocorr, "o", ms=3, color="#1f77b4")
    ax1.fill_between(res.lags, -res.auto_bound, res.auto_bound, color="#ffd8a8", alpha=0.6)
    ax1.axhline(0.0, color="0.5", lw=0.5)
    ax1.set_title(f"Residual autocorrelation (whiteness {ok[res.whiteness_ok]})", fontsize="medium")
    ax1.set_xlabel("lag")
    ax2.vlines(res.cross_lags, 0, res.crosscorr, color="#d62728")
    ax2.plot(res.cross_lags, res.crosscorr, "o", ms=3, color="#d62728")
    ax2.fill_between(res.cross_lags, -res.cross_bound, res.cross_bound, color="#ffd8a8", alpha=0.6)
    ax2.axhline(0.0, color="0.5", lw=0.5)
    ax2.set_title(
        f"Cross-correlation residual / input (independence {ok[res.independence_ok]})",
        fontsize="medium",
    )
    ax2.set_xlabel("lag (positive: past inputs)")
    fig.tight_layout()
    return fig
