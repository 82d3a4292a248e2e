"""The HTML report: self-contained, shows the model, and its animations work in a browser."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import random_system

from learnlds.cli import main
from learnlds.datasets import IOData, synthetic_dryer
from learnlds.errors import DataError, ParameterError, UnsupportedShapeError
from learnlds.report import Scaling, model_fits, write_model_report, write_report
from learnlds.systems import CanonicalSystem
from learnlds.train import fresh_batches, projected_sgd, sequence_batches
from learnlds.validate import holdout

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[Path, CanonicalSystem]:
    """A full report (snapshots, transfer, segment) from short training runs."""
    data = synthetic_dryer(400, 1)
    est, _ = data.split(0.5)
    scaling = Scaling.normalising(est)
    x, y = scaling.to_model(est.u1), scaling.output_to_model(est.y1)
    run = projected_sgd(
        sequence_batches(x, y),
        order=3,
        steps=10,
        lr=0.01,
        burn_in=0,
        region=None,
        init="identity",
        snapshot_every=5,
    )
    truth = CanonicalSystem([0.1, -0.05, -0.125], [0.3, -0.4, 1.0])
    tr = projected_sgd(
        fresh_batches(truth, 100, 4),
        order=3,
        steps=4,
        lr=0.1,
        snapshot_every=1,
        random_state=0,
    )
    t = np.linspace(0, 1, 11)
    out = tmp_path_factory.mktemp("report")
    page = write_report(
        out,
        data=data,
        model=run.model,
        snapshots=run.snapshots,
        scaling=scaling,
        transfer=(truth, tr.snapshots),
        segment=(t, (t - 0.4) ** 2),
        surface_views=3,
        comparisons=[("other", 50.0, None)],
    )
    return page, run.model


def test_page_is_self_contained(report):
    page, _ = report
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", text, flags=re.I)
    assert refs, "the page should embed its images"
    assert not [r for r in refs if re.match(r"\s*(https?:)?//", r, flags=re.I)]
    assert "http://" not in text and "https://" not in text
    assert all(r.startswith("data:") for r in refs)
    assert "<script>" in text and "<script src" not in text
    # the still figures are also saved as PNG and SVG
    figures = page.parent / "figures"
    for stem in ("1-data", "2-predictions", "3-segment", "4-pacman", "5-transfer", "6-surface"):
        assert (figures / f"{stem}.png").is_file() and (figures / f"{stem}.svg").is_file()


def test_page_shows_model_and_fits(report):
    page, model = report
    text = page.read_text(encoding="utf-8")
    for v in (*model.a, *model.c, float(model.d)):
        assert f"{v:.6g}" in text
    assert "margin to the Pac-Man region" in text
    assert "estimation fit" in text and "validation fit" in text
    # three steppers: predictions (0, 5, 10), transfer (0..4), surface (3 views)
    assert text.count('class="stepper"') == 3
    assert "step 10/10" in text and "step 4/4" in text and "view 3/3" in text
    assert 'id="missing"' not in text


def test_model_fits_is_the_holdout_protocol():
    data = synthetic_dryer(600, 2)
    truth = data.truth
    scaling = Scaling(4.91, 1.0, 4.89, 1.0)  # the synthetic dryer's operating point
    fe, fv = model_fits(truth, data, scaling)
    assert fe > 90 and fv > 90
    res = holdout(truth, data.u1, data.y1)
    assert (fe, fv) == pytest.approx((res.estimation_fit, res.validation_fit), abs=1e-12)
    # a model on normalised signals: holdout on the record divided by the scales
    scaled = Scaling(1.0, 2.0, -3.0, 0.5)
    model = truth.with_params(c=truth.c * 2.0 / 0.5, d=truth.d * 2.0 / 0.5)
    res = holdout(model, data.u1 / 2.0, data.y1 / 0.5, split=0.3)
    assert model_fits(model, data, scaled, split=0.3) == pytest.approx(
        (res.estimation_fit, res.validation_fit), abs=1e-9
    )


def test_scaling_checks():
    with pytest.raises(ParameterError, match="u_scale"):
        Scaling(0.0, 0.0)
    with pytest.raises(ParameterError, match="y_offset"):
        Scaling(y_offset=float("nan"))
    with pytest.raises(DataError, match="constant"):
        Scaling.normalising(IOData.from_arrays(np.ones(5), np.arange(5.0)))


def test_write_report_checks_its_arguments(tmp_path):
    data = synthetic_dryer(200)
    model = data.truth
    mimo = IOData.from_arrays(np.ones((50, 2)), np.ones((50, 1)))
    for kwargs, err, name in (
        ({"data": mimo, "model": model}, UnsupportedShapeError, "data"),
        ({"data": data.u1, "model": model}, ParameterError, "data"),
        ({"data": data, "model": "m"}, ParameterError, "model"),
        ({"data": data, "model": model, "split": 1.5}, ParameterError, "split"),
        ({"data": data, "model": model, "surface_views": 0}, ParameterError, "surface_views"),
        ({"data": data, "model": model, "scaling": 1.0}, ParameterError, "scaling"),
        ({"data": data, "model": model, "figure_formats": "png"}, ParameterError, "formats"),
        ({"data": data, "model": model, "save_figures": "no"}, ParameterError, "save_figures"),
    ):
        with pytest.raises(err, match=name):
            write_report(tmp_path / "never", **kwargs)
    assert not (tmp_path / "never").exists()
    with pytest.raises(ParameterError, match="scaling"):
        model_fits(model, data, None)


def test_cli_report_from_saved_model(tmp_path, capsys):
    data = synthetic_dryer(600, 3)
    csv = tmp_path / "d.csv"
    np.savetxt(csv, np.column_stack([data.u1, data.y1]), delimiter=",", header="u,y", comments="")
    model = tmp_path / "m.json"
    assert main(["fit", str(csv), "--quiet", "--out", str(model)]) == 0
    out = tmp_path / "rep"
    assert main(["report", str(model), str(csv), "--out", str(out)]) == 0
    text = (out / "index.html").read_text(encoding="utf-8")
    assert 'id="missing"' in text and "no training snapshots" in text
    assert "Bode" in text and "Residuals" in text and "Pac-Man" in text
    assert "&plusmn;2&sigma;" in text  # the Bode diagram shades the +-2 sigma band
    printed = capsys.readouterr().err  # messages go to stderr
    assert "validation fit" in printed and "report written to" in printed
    assert main(["report", str(tmp_path / "nope.json"), str(csv)]) == 2


def _distinct_colours(png: bytes) -> int:
    import matplotlib.image as mpimg

    img = mpimg.imread(io.BytesIO(png), format="png")
    rgb = (img[..., :3] * 255).astype(np.uint8).reshape(-1, 3)
    return len(np.unique(rgb, axis=0))


@pytest.mark.browser
def test_animations_in_headless_chromium(report, tmp_path):
    webdriver = pytest.importorskip("selenium.webdriver")
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()) and not (
        shutil.which("chromium") and shutil.which("chromedriver")
    ):
        pytest.skip("chromium / chromedriver not installed")
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium"))
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1200,1600",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(
        executable_path=str(CHROMEDRIVER if CHROMEDRIVER.exists() else shutil.which("chromedriver"))
    )
    try:
        driver = webdriver.Chrome(options=opts, service=service)
    except Exception as exc:  # pragma: no cover - a broken browser install
        pytest.skip(f"chromium did not start: {exc}")
    try:
        page, _ = report
        driver.get(page.resolve().as_uri())

        def state(ident: str) -> tuple[str, str, str]:
            box = driver.find_element(By.ID, ident)
            shown = [f for f in box.find_elements(By.CSS_SELECTOR, "img.frame") if f.is_displayed()]
            assert len(shown) == 1
            label = box.find_element(By.CLASS_NAME, "label").text
            return label, shown[0].get_attribute("data-index"), shown[0].get_attribute("src")

        # the predictions open at the final step; a click wraps round to step 0
        box = driver.find_element(By.ID, "predictions")
        driver.execute_script("arguments[0].scrollIntoView()", box)
        assert state("predictions")[:2] == ("step 10/10", "2")
        box.find_element(By.CSS_SELECTOR, "img.frame[data-index='2']").click()
        assert state("predictions")[:2] == ("step 0/10", "0")
        for ident, labels in (
            ("predictions", ["step 0/10", "step 5/10", "step 10/10"]),
            ("transfer", ["step 0/4", "step 1/4", "step 2/4"]),
        ):
            box = driver.find_element(By.ID, ident)
            driver.execute_script("arguments[0].scrollIntoView()", box)
            label, index, src = state(ident)
            assert (label, index) == (labels[0], "0")
            box.find_element(By.CSS_SELECTOR, "img.frame[data-index='0']").click()
            label1, index1, src1 = state(ident)
            assert (label1, index1) == (labels[1], "1") and src1 != src
            slider = box.find_element(By.CSS_SELECTOR, "input.slider")
            slider.send_keys(Keys.ARROW_RIGHT)
            label2, index2, src2 = state(ident)
            assert (label2, index2) == (labels[2], "2") and src2 not in (src, src1)
            assert slider.get_attribute("value") == "2"
            slider.send_keys(Keys.HOME)
            assert state(ident)[:2] == (labels[0], "0")
        # clicking past the last frame wraps around (the surface rotates)
        box = driver.find_element(By.ID, "surface")
        driver.execute_script("arguments[0].scrollIntoView()", box)
        for _ in range(3):
            box.find_element(By.CSS_SELECTOR, "img.frame:not([style*='none'])").click()
        assert state("surface")[:2] == ("view 1/3", "0")

        driver.execute_script("window.scrollTo(0, 0)")
        png = driver.get_screenshot_as_png()
        (tmp_path / "screenshot.png").write_bytes(png)
        assert _distinct_colours(png) > 200
        severe = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
        assert not severe, severe
    finally:
        driver.quit()


def test_final_training_step_is_shown_first(report):
    page, _ = report
    text = page.read_text(encoding="utf-8")
    box = text[text.index('id="predictions"') - 40 :]
    assert 'data-start="2"' in box[:200]  # snapshots 0, 5, 10: the last
    first_visible = re.search(r'<img class="frame" [^>]*data-index="(\d+)">', box)
    assert first_visible is not None and first_visible.group(1) == "2"
    assert "Shown first: the final step 10" in text


def test_segment_panels_side_by_side_with_captions(tmp_path):
    data = synthetic_dryer(200, 1)
    t = np.linspace(0.0, 1.0, 21)
    page = write_report(
        tmp_path / "seg",
        data=data,
        model=data.truth,
        segment={"domain: two random stable systems": (t, np.cos(5 * t)), "region": (t, t**2)},
        surface_views=1,
        figure_formats=("png",),
    )
    text = page.read_text(encoding="utf-8")
    assert "Left: domain: two random stable systems." in text and "Right: region." in text
    assert "not convex" in text
    with pytest.raises(ParameterError, match="segment"):
        write_report(tmp_path / "bad", data=data, model=data.truth, segment=[1, 2, 3])


def test_failed_write_leaves_previous_report_intact(tmp_path, monkeypatch):
    """The report is built beside the target and moved in only when complete."""
    from learnlds import plots

    data = synthetic_dryer(200, 1)
    out = tmp_path / "rep"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    page = write_report(out, data=data, model=data.truth, surface_views=1, figure_formats=("png",))
    before = page.read_bytes()
    figures = sorted(p.name for p in (out / "figures").iterdir())

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk full half-way (test)")

    monkeypatch.setattr(plots, "bode_plot", broken)  # after the data and prediction figures
    with pytest.raises(RuntimeError, match="half-way"):
        write_report(out, data=data, model=data.truth, surface_views=1, title="new")
    assert page.read_bytes() == before
    assert sorted(p.name for p in (out / "figures").iterdir()) == figures
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]  # no temporary left
    # a fresh target that fails is never created
    with pytest.raises(RuntimeError, match="half-way"):
        write_report(tmp_path / "fresh", data=data, model=data.truth, surface_views=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]
    monkeypatch.undo()
    page = write_report(out, data=data, model=data.truth, surface_views=1, title="newer")
    assert "newer" in page.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- MIMO models
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
    import learnlds.report as report_module
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
    import learnlds.report as report_module

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
