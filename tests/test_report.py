"""The HTML report: self-contained, shows the model, and its animations work in a browser."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from learnlds.cli import main
from learnlds.datasets import IOData, synthetic_dryer
from learnlds.errors import DataError, ParameterError, UnsupportedShapeError
from learnlds.report import Scaling, model_fits, write_report
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
