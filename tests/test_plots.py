"""The post's figures: each function runs and draws what it should."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from matplotlib.figure import Figure

from learnlds import plots
from learnlds.datasets import synthetic_dryer
from learnlds.errors import DataError, ParameterError
from learnlds.region import PacmanRegion
from learnlds.systems import CanonicalSystem


@pytest.fixture
def truth() -> CanonicalSystem:
    return CanonicalSystem([0.1, -0.05, -0.125], [0.3, -0.4, 1.0], 0.0)


def test_io_data_draws_input_dots_and_output_line():
    data = synthetic_dryer(200)
    fig = plots.io_data(data)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(ax.lines) == 2
    dots, line = ax.lines
    assert dots.get_linestyle() == "None" and dots.get_marker() == "."
    np.testing.assert_allclose(line.get_ydata(), data.y1)
    assert "synthetic" in ax.get_title()


def test_predictions_one_frame_per_snapshot(truth):
    u = np.random.default_rng(0).normal(size=120)
    y = truth.simulate(u)
    start = CanonicalSystem(np.zeros(3), np.zeros(3), 1.0)
    snaps = [(0, start), (50, truth)]
    f0 = plots.predictions(u, y, snaps, 0)
    f1 = plots.predictions(u, y, snaps, 50, fit=99.5)
    assert "0/50" in f0.axes[0].get_title()
    assert "50/50" in f1.axes[0].get_title() and "99.5" in f1.axes[0].get_title()
    # input, measured output, prediction; the step-0 model predicts its input
    assert len(f0.axes[0].lines) == 3
    np.testing.assert_allclose(f0.axes[0].lines[2].get_ydata(), np.clip(u, *f0.axes[0].get_ylim()))
    np.testing.assert_allclose(f1.axes[0].lines[2].get_ydata(), y, atol=1e-12)
    assert f0.axes[0].get_ylim() == f1.axes[0].get_ylim()  # frames do not jump
    with pytest.raises(ParameterError, match="not a snapshot step"):
        plots.predictions(u, y, snaps, 7)
    with pytest.raises(ParameterError, match="snapshots"):
        plots.predictions(u, y, [])


def test_segment_marks_ends_and_minimum():
    t = np.linspace(0, 1, 21)
    v = (t - 0.3) ** 2
    fig = plots.segment(t, v)
    ax = fig.axes[0]
    assert len(ax.lines) == 3
    assert ax.lines[2].get_xdata()[0] == pytest.approx(0.3)
    with pytest.raises(DataError, match="t and values"):
        plots.segment(t, v[:-1])
    for bad_t, bad_v, match in [
        (t[::-1], v, "increasing positions"),  # drawn as a zig-zag before
        (t[:1], v[:1], "two or more"),
        (t, np.full_like(t, np.nan), "none is finite"),  # a numpy error before
        (t, ["x"] * t.size, "values: must be numbers"),
    ]:
        with pytest.raises(DataError, match=match):
            plots.segment(bad_t, bad_v)
    v_inf = v.copy()
    v_inf[:3] = np.inf  # the objective blew up near one end: drawn, minimum still found
    assert plots.segment(t, v_inf).axes[0].lines[2].get_xdata()[0] == pytest.approx(0.3)


def test_pacman_from_region_engineer_is_reused():
    fig = plots.pacman(np.array([0.2, -0.1, 0.05, 0.02]), PacmanRegion())
    assert isinstance(fig, Figure)
    assert "inside" in fig.axes[0].get_title()
    from learnlds import CanonicalSystem

    system = CanonicalSystem([0.2, -0.1, 0.05, 0.02], [1.0, 0.0, 0.0, 0.0])
    same = plots.pacman(system)  # a system stands for its denominator
    np.testing.assert_allclose(
        same.axes[0].lines[0].get_xydata(), fig.axes[0].lines[0].get_xydata()
    )


def test_transfer_functions_two_panels(truth):
    models = [(k, truth.with_params(c=truth.c * k / 10)) for k in range(11)]
    fig = plots.transfer_functions(truth, models, 3)
    left, right = fig.axes
    assert len(left.lines) == 1 and len(right.lines) == 2
    w = left.lines[0].get_xdata()
    np.testing.assert_allclose(left.lines[0].get_ydata(), np.abs(truth.frequency_response(w)))
    np.testing.assert_allclose(right.lines[1].get_ydata(), 0.3 * left.lines[0].get_ydata())
    assert "3/10" in right.get_title()
    # plain list of models, numbered from 0
    fig2 = plots.transfer_functions(truth, [m for _, m in models])
    assert "10/10" in fig2.axes[1].get_title()


def test_quasiconvex_surface_is_3d_and_clipped():
    fig = plots.quasiconvex_surface(num=20, clip=3.0, azim=10.0)
    ax = fig.axes[0]
    assert ax.name == "3d"
    assert len(ax.collections) == 2  # v > 0 in colour, v < 0 in grey
    assert ax.get_zlim()[1] == pytest.approx(3.0)
    assert ax.azim == pytest.approx(10.0)
    flat = plots.segment(np.linspace(0, 1, 5), np.arange(5.0)).axes[0]
    with pytest.raises(ParameterError, match="ax: expected 3-D matplotlib axes"):
        plots.quasiconvex_surface(flat)  # it raised an AttributeError from inside


def test_save_figure_png_and_svg(tmp_path, truth):
    fig = plots.segment(np.linspace(0, 1, 5), np.arange(5.0))
    paths = plots.save_figure(fig, tmp_path / "seg")
    assert sorted(p.suffix for p in paths) == [".png", ".svg"]
    assert all(p.stat().st_size > 1000 for p in paths)


_IMPORT_CHECK = """
import sys, matplotlib
before = matplotlib.get_backend()
import learnlds.plots, learnlds.report, learnlds.demo
from learnlds import CanonicalSystem
fig = learnlds.plots.step_plot(CanonicalSystem([-0.5], [1.0]), length=10)
fig.savefig(sys.argv[1])
print(before, matplotlib.get_backend(), "matplotlib.pyplot" in sys.modules)
"""


def test_import_leaves_the_backend_alone(tmp_path):
    """Importing and drawing (as in a Jupyter or Qt session) never switches the backend."""
    env = {**os.environ, "MPLBACKEND": "template"}
    out = subprocess.run(
        [sys.executable, "-c", _IMPORT_CHECK, str(tmp_path / "f.png")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.split()
    assert out == ["template", "template", "False"]
    assert (tmp_path / "f.png").stat().st_size > 1000


def test_new_figures_are_outside_pyplot(truth):
    fig = plots.impulse_plot(truth, length=5)
    assert fig.canvas.manager is None  # not registered with pyplot: nothing to close
    assert type(fig.canvas).__name__ == "FigureCanvasAgg"


def test_draws_on_given_axes(truth):
    fig = Figure()
    ax = fig.add_subplot()
    assert plots.step_plot(truth, length=5, ax=ax) is fig
    fig2 = Figure()
    assert plots.bode_plot(truth, fig=fig2, num=8) is fig2 and len(fig2.axes) == 2


def test_response_plots_take_a_length(truth):
    fig = plots.step_plot(truth, length=7)
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), truth.simulate(np.ones(7)))
    fig = plots.impulse_plot(truth, length=6)
    assert len(fig.axes[0].lines[0].get_xdata()) == 6
    for bad in (0, 2.5, True):
        with pytest.raises(ParameterError, match="length"):
            plots.step_plot(truth, length=bad)
    with pytest.raises(ParameterError, match="dt"):
        plots.impulse_plot(truth, length=5, dt=-1.0)


def test_response_plots_deprecated_n(truth):
    with pytest.warns(DeprecationWarning, match="'n' is deprecated"):
        fig = plots.step_plot(truth, n=9)
    assert len(fig.axes[0].lines[0].get_xdata()) == 9
    with pytest.warns(DeprecationWarning):
        plots.impulse_plot(truth, n=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(ParameterError):
            plots.step_plot(truth, n=3, length=3)


def test_parameter_checks(truth):
    with pytest.raises(ParameterError, match="num"):
        plots.quasiconvex_surface(num=1)
    with pytest.raises(ParameterError, match="clip"):
        plots.quasiconvex_surface(clip=0.0)
    with pytest.raises(ParameterError, match="max_samples"):
        plots.io_data(synthetic_dryer(50), max_samples=0)
    with pytest.raises(ParameterError, match="models"):
        plots.transfer_functions(truth, [])
    with pytest.raises(ParameterError, match="step"):
        plots.transfer_functions(truth, [truth], step=3)
    with pytest.raises(ParameterError, match="u"):
        plots.residual_plot(truth)


def test_segments_side_by_side():
    t = np.linspace(0.0, 1.0, 11)
    fig = plots.segments({"domain": (t, np.cos(6 * t)), "region": (t, (t - 0.3) ** 2)})
    assert [ax.get_title() for ax in fig.axes] == ["domain", "region"]
    with pytest.raises(ParameterError, match="profiles"):
        plots.segments({})


def test_bode_step_impulse_draw_every_channel_pair_of_a_mimo_model():
    """One curve per (output, input), equal to the model's own responses; bands too.
    (They used to fail inside matplotlib: 'x and y can be no greater than 2D'.)"""
    from learnlds import LDSRegressor
    from learnlds.statespace import StateSpaceSystem

    model = StateSpaceSystem(
        [[0.5, 0.1], [0.0, -0.3]], [[1.0, 0.0], [0.5, 2.0]], np.eye(2)[:, ::-1]
    )
    steps = plots.step_plot({"m": model}, length=12)
    lines = [ln for ln in steps.axes[0].lines if ln.get_label().startswith("m:")]
    assert [ln.get_label() for ln in lines] == [
        "m: u1\u2192y1",
        "m: u2\u2192y1",
        "m: u1\u2192y2",
        "m: u2\u2192y2",
    ]
    u = np.zeros((12, 2))
    u[:, 1] = 1.0  # input 2 alone
    np.testing.assert_allclose(lines[3].get_ydata(), model.simulate(u)[:, 1])
    impulse = plots.impulse_plot({"m": model}, length=12)
    np.testing.assert_allclose(impulse.axes[0].lines[1].get_ydata(), model.markov(12)[:, 0, 1])
    w = np.array([0.1, 1.0, 2.0])
    bode = plots.bode_plot({"m": model}, w=w)
    gain = 20 * np.log10(np.abs(model.frequency_response(w)[:, 1, 0]))
    np.testing.assert_allclose(bode.axes[0].lines[2].get_ydata(), gain)
    rng = np.random.default_rng(0)
    U = rng.normal(size=(400, 2))
    est = LDSRegressor(order=2).fit(U, model.simulate(U) + 0.05 * rng.normal(size=(400, 2)))
    banded = plots.bode_plot({"est": est.system_}, w=w, covariance={"est": est.covariance_})
    assert len(banded.axes[0].collections) == 4


def test_compare_plot_gives_each_output_its_panel_and_fit():
    """MIMO records used to fail inside matplotlib (shapes (2,) and (T, 2))."""
    from learnlds import LDSRegressor
    from learnlds.validate import fit_percent

    rng = np.random.default_rng(1)
    U = rng.normal(size=(300, 2))
    Y = np.c_[np.convolve(U[:, 0], [0, 1, 0.5])[:300], np.convolve(U[:, 1], [0, 0.3])[:300]]
    Y = Y + 0.05 * rng.normal(size=Y.shape)
    est = LDSRegressor(order=2).fit(U, Y)
    fig = plots.compare_plot({"lds": est}, U, Y, dt=0.5)
    assert len(fig.axes) == 2 and fig.axes[-1].get_xlabel() == "time [s]"
    second = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert second[0] == "measured y2"
    assert second[1] == f"lds y2: fit {fit_percent(Y[:, 1], est.predict(U)[:, 1]):.1f} %"
    shared = plots.compare_plot({"lds": est}, U, Y, ax=Figure().add_subplot())
    assert len(shared.axes) == 1 and len(shared.axes[0].lines) == 4
