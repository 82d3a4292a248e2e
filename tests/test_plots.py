"""The post's figures: each function runs and draws what it should."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from learnlds import plots  # noqa: E402
from learnlds.datasets import synthetic_dryer  # noqa: E402
from learnlds.region import PacmanRegion  # noqa: E402
from learnlds.systems import CanonicalSystem  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


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
    with pytest.raises(ValueError, match="not a snapshot step"):
        plots.predictions(u, y, snaps, 7)


def test_segment_marks_ends_and_minimum():
    t = np.linspace(0, 1, 21)
    v = (t - 0.3) ** 2
    fig = plots.segment(t, v)
    ax = fig.axes[0]
    assert len(ax.lines) == 3
    assert ax.lines[2].get_xdata()[0] == pytest.approx(0.3)
    with pytest.raises(ValueError):
        plots.segment(t, v[:-1])


def test_pacman_from_region_engineer_is_reused():
    fig = plots.pacman(np.array([0.2, -0.1, 0.05, 0.02]), PacmanRegion())
    assert isinstance(fig, Figure)
    assert "inside" in fig.axes[0].get_title()


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


def test_save_figure_png_and_svg(tmp_path, truth):
    fig = plots.segment(np.linspace(0, 1, 5), np.arange(5.0))
    paths = plots.save_figure(fig, tmp_path / "seg")
    assert sorted(p.suffix for p in paths) == [".png", ".svg"]
    assert all(p.stat().st_size > 1000 for p in paths)
