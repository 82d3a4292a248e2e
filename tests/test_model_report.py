"""The report of any fitted model (MIMO included): every section, the protocol's fits
per output, residual tests per (output, input) pair, staged writes."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest
from conftest import random_system

from learnlds.datasets import IOData
from learnlds.errors import DataError, ParameterError
from learnlds.model_report import write_model_report
from learnlds.systems import CanonicalSystem
from learnlds.validate import holdout

_MIMO_SECTIONS = (
    "The data",
    "The model",
    "Fit per output",
    "Simulation in the data's units",
    "Measured and simulated output on the validation part",
    "Bode diagrams",
    "Step responses",
    "Residuals on the validation part",
)


def _mimo_data(length: int = 300) -> tuple[IOData, object]:
    """A 2-input 2-output stable plant, simulated with noise around an operating point."""
    truth = random_system(3, 2, 2, seed=5, radius=0.8)
    rng = np.random.default_rng(5)
    u = rng.normal(size=(length, 2))
    y = truth.simulate(u) + 0.3 * rng.normal(size=(length, 2))
    data = IOData.from_arrays(
        u + [1.0, -2.0],
        y + [10.0, -5.0],
        dt=0.5,
        input_names=["heater", "fan"],
        output_names=["temp", "flow"],
        name="plant",
    )
    return data, truth


@pytest.fixture(scope="module")
def mimo_report(tmp_path_factory):
    data, truth = _mimo_data()
    out = tmp_path_factory.mktemp("mimo") / "rep"
    page = write_model_report(
        out,
        data=data,
        model=truth,
        input_offset=[1.0, -2.0],
        output_offset=[10.0, -5.0],
        notes=["a note"],
        figure_formats=("png",),
    )
    return page, data, truth


def _fit_rows(text: str) -> dict[str, tuple[float, float]]:
    table = re.search(r'<table id="fits-table">(.*?)</table>', text).group(1)
    rows = re.findall(r"<tr><td>([^<]+)</td><td>([-\d.]+) %</td><td>([-\d.]+) %</td></tr>", table)
    return {name: (float(e), float(v)) for name, e, v in rows}


def test_mimo_report_has_every_section_and_is_self_contained(mimo_report):
    page, data, truth = mimo_report
    text = page.read_text(encoding="utf-8")
    for heading in _MIMO_SECTIONS:
        assert f">{heading}</h" in text.replace("&#x27;", "'"), heading
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", text)
    assert refs and all(r.startswith("data:") for r in refs)
    assert "https://" not in text and "a note" in text and 'id="omitted"' not in text
    assert "heater" in text and "flow" in text and "Pac-Man" not in text
    # the model: poles, stability, DC gain and matrices
    poles = re.search(r'<table id="poles-table">(.*?)</table>', text).group(1)
    assert poles.count("<tr>") == 1 + truth.order
    assert "0.8 (stable)" in text
    gain = truth.D + truth.C @ np.linalg.solve(np.eye(truth.order) - truth.A, truth.B)
    dc = re.search(r'<table id="dc-gain">(.*?)</table>', text).group(1)
    assert [f"{v:.6g}" for v in gain.ravel()] == re.findall(r"<code>([^<]+)</code>", dc)
    assert 'id="matrices"' in text and f"{truth.A[0, 0]:.4f}"[:5] in text
    assert "10, -5" in text  # the operating point
    figures = sorted(p.name for p in (page.parent / "figures").iterdir())
    stems = ["1-data", "2-simulation", "3-validation", "4-bode-y1", "4-bode-y2", "5-step"]
    assert figures == sorted(f"{s}.png" for s in [*stems, "6-residuals-y1", "6-residuals-y2"])


def test_mimo_report_fits_are_the_holdout_protocol(mimo_report):
    page, data, truth = mimo_report
    rows = _fit_rows(page.read_text(encoding="utf-8"))
    res = holdout(truth, data.u, data.y, split=0.5)
    assert list(rows) == ["temp", "flow", "average"]
    for k, name in enumerate(("temp", "flow")):
        assert rows[name] == pytest.approx(
            (res.estimation_fits[k], res.validation_fits[k]), abs=0.006
        )
    assert rows["average"] == pytest.approx((res.estimation_fit, res.validation_fit), abs=0.006)
    assert abs(rows["temp"][1] - rows["flow"][1]) > 0.01  # two different outputs


def test_mimo_report_residual_tests_per_pair(mimo_report):
    from learnlds.validate import residual_analysis, split_centred

    page, data, truth = mimo_report
    text = page.read_text(encoding="utf-8")
    table = re.search(r'<table id="residual-tests">(.*?)</table>', text).group(1)
    assert "independence from heater" in table and "independence from fan" in table
    res = holdout(truth, data.u, data.y)
    uv = split_centred(data.u, data.y)[2]
    r = residual_analysis(res.residuals_validation[:, 1], uv[:, 0], max_lag=25)
    assert f"({r.independence_stat:.3g} / {r.independence_threshold:.3g})" in table


def test_mimo_report_simulates_at_the_saved_operating_point(tmp_path, monkeypatch):
    """The whole-record figure drives the model with u - input_offset and adds output_offset."""
    import learnlds.model_report as report_module
    from learnlds import plots

    data, truth = _mimo_data(120)
    monkeypatch.setattr(report_module, "_MODEL_SECTIONS", (report_module._operating_section,))
    drawn = []
    real = plots.compare_plot

    def spy(*args, **kwargs):
        fig = real(*args, **kwargs)
        drawn.append([t.get_text() for ax in fig.axes for t in ax.get_legend().get_texts()])
        return fig

    monkeypatch.setattr(plots, "compare_plot", spy)
    fits = {}
    for label, offsets in (
        ("means", (None, None)),
        ("true", ([1.0, -2.0], [10.0, -5.0])),
        ("zero", ([0.0, 0.0], [0.0, 0.0])),
    ):
        drawn.clear()
        write_model_report(
            tmp_path / "r",
            data=data,
            model=truth,
            input_offset=offsets[0],
            output_offset=offsets[1],
            save_figures=False,
        )
        legend = " ".join(drawn[0])  # the first comparison: the data's units
        fits[label] = [float(v) for v in re.findall(r"fit (-?[\d.]+) %", legend)]
    assert len(fits["true"]) == 2 and min(fits["true"]) > 80
    assert min(fits["means"]) > 80  # default: the estimation part's means
    assert all(f < g - 20 for f, g in zip(fits["zero"], fits["true"], strict=True))


def test_mimo_report_checks_its_arguments(tmp_path):
    data, truth = _mimo_data(60)
    one = data.select(inputs=[0])
    for kwargs, err, match in (
        ({"data": one, "model": truth}, DataError, "1 input"),
        ({"data": data.u, "model": truth}, ParameterError, "data"),
        ({"data": data, "model": "m"}, ParameterError, "model"),
        ({"data": data, "model": truth, "split": 0.0}, ParameterError, "split"),
        ({"data": data, "model": truth, "input_offset": [1.0]}, ParameterError, "input_offset"),
        ({"data": data, "model": truth, "figure_formats": "png"}, ParameterError, "formats"),
        ({"data": data, "model": truth, "log": 3}, ParameterError, "log"),
    ):
        with pytest.raises(err, match=match):
            write_model_report(tmp_path / "never", **kwargs)
    assert not (tmp_path / "never").exists()


def test_mimo_report_caps_figures_and_says_so(tmp_path, monkeypatch):
    import learnlds.model_report as report_module

    monkeypatch.setattr(report_module, "_MAX_PANELS", 1)
    data, truth = _mimo_data(60)
    text = write_model_report(tmp_path, data=data, model=truth, save_figures=False).read_text(
        encoding="utf-8"
    )
    assert 'id="omitted"' in text and "inputs 2 to 2 and outputs 2 to 2" in text
    assert text.count('alt="Bode diagram of output') == 1
    assert len(_fit_rows(text)) == 3  # the tables still list every output


def test_mimo_report_of_a_canonical_model(tmp_path):
    rng = np.random.default_rng(2)
    model = CanonicalSystem([-0.5, 0.1], rng.normal(size=(2, 2, 2)), np.zeros((2, 2)))
    u = rng.normal(size=(80, 2))
    data = IOData.from_arrays(u, model.simulate(u) + 0.1 * rng.normal(size=(80, 2)))
    text = write_model_report(tmp_path, data=data, model=model, save_figures=False).read_text(
        encoding="utf-8"
    )
    assert "canonical form (common denominator)" in text and "2 (4 states)" in text


def test_failed_mimo_report_leaves_previous_report_intact(mimo_report, tmp_path, monkeypatch):
    from learnlds import plots

    page, data, truth = mimo_report
    out = tmp_path / "rep"
    shutil.copytree(page.parent, out)
    before = (out / "index.html").read_bytes()
    figures = sorted(p.name for p in (out / "figures").iterdir())

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk full half-way (test)")

    monkeypatch.setattr(plots, "step_plot", broken)  # after the data, fits and Bode figures
    with pytest.raises(RuntimeError, match="half-way"):
        write_model_report(out, data=data, model=truth, figure_formats=("png",), title="new")
    assert (out / "index.html").read_bytes() == before
    assert sorted(p.name for p in (out / "figures").iterdir()) == figures
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]  # no temporary left


def test_still_importable_from_report():
    """``learnlds.report.write_model_report`` keeps working for the code that used it."""
    from learnlds import report

    assert report.write_model_report is write_model_report
    assert "write_model_report" in report.__all__


def test_a_new_report_folder_is_readable_by_others(tmp_path):
    """The staging folder came from mkdtemp (0700) and was renamed into place as is."""
    import os
    import stat

    data, model = _mimo_data(120)
    mask = os.umask(0o022)
    try:
        page = write_model_report(tmp_path / "rep", data=data, model=model, save_figures=False)
    finally:
        os.umask(mask)
    assert stat.S_IMODE(page.parent.stat().st_mode) == 0o755
    assert stat.S_IMODE(page.stat().st_mode) == 0o644
