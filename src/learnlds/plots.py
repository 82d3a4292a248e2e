"""Figures (matplotlib): the post's six pictures, the Pac-Man region, and validation plots.

Every function draws on a given ``ax`` (or makes a figure) and returns the matplotlib
``Figure``; nothing here computes a model, it only draws what the library computed.
The Agg backend is used unless the caller chose another.
"""

from __future__ import annotations

import matplotlib

if matplotlib.get_backend().lower() not in ("agg", "svg", "pdf", "module://matplotlib_inline.backend_inline"):
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
    fig, ax = _axes(ax, figsize=(8.0, 3.6))
    lim = ylim if ylim is not None else _limits(u, y)
    ax.plot(t, u, ".", color=_INPUT_COLOUR, ms=3.0, label="input")
    ax.plot(t, y, "-", color=_OUTPUT_COLOUR, lw=1.3, label="measured output")
    ax.plot(t, np.clip(yhat, *lim), "-", color=_MODEL_COLOUR, lw=1.5, label="prediction")
    ax.set_ylim(*lim)
    title = f"predictions after {int(k)}/{steps[-1]} steps"
    if fit is not None:
        title += f" (fit {fit:.1f} %)"
    ax.set_title(title)
    ax.set_xlabel("time" if time is not None else "sample")
    ax.legend(loc="upper right", fontsize="small", framealpha=0.9)
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
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.0, 3.6), sharey=True)
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
    fig.tight_layout()
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
