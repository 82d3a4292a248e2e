"""The demo pipeline: hair dryer (real or synthetic), SGD, fast solver, report files."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import REPO
from conftest import daisy_dir as _daisy_dir

from learnlds import demo
from learnlds.analysis import convexity_gap, quasi_convexity_gap
from learnlds.cli import main
from learnlds.datasets import IOData
from learnlds.demo import DEMO_LR, NONCONVEX_GAP, SEGMENT_DOMAINS, random_segment, run_demo
from learnlds.errors import DataError, ParameterError


def _check_outputs(result, steps: int, formats=("png",)) -> None:
    page = result.report
    assert page.is_file() and page.name == "index.html"
    text = page.read_text(encoding="utf-8")
    assert text.count('class="stepper"') == 3
    assert f"step {steps}/{steps}" in text
    for stem in ("1-data", "2-predictions", "3-segment", "4-pacman", "5-transfer", "6-surface"):
        for fmt in formats:
            assert (page.parent / "figures" / f"{stem}.{fmt}").is_file()
    fits = [result.step_fits[k] for k in sorted(result.step_fits)]
    assert sorted(result.step_fits) == list(range(0, steps + 1, max(1, steps // 8)))
    assert np.all(np.diff(fits) > 0), fits  # the fit rises at every reported step
    assert result.elapsed < 60


def _no_dryer(*_args, **_kwargs):
    raise DataError("dryer.dat: not found anywhere (test)")


def test_demo_falls_back_on_synthetic_only_when_loading_fails(tmp_path, monkeypatch):
    monkeypatch.setattr(demo, "load_daisy", _no_dryer)
    lines: list[str] = []
    result = run_demo(tmp_path / "out", steps=16, progress=False, log=lines.append, surface_views=2)
    assert result.synthetic and "SYNTHETIC" in result.data_source
    assert "not found anywhere (test)" in result.data_source  # the reason is said
    assert lines[0].startswith("data: SYNTHETIC")
    assert any("step   16/16" in line for line in lines)
    assert any("fast solver" in line and "validation fit" in line for line in lines)
    assert "SYNTHETIC" in result.report.read_text(encoding="utf-8")
    _check_outputs(result, 16)
    # the transfer-function picture: 10 steps of projected SGD towards an in-region target
    truth, snaps = result.transfer
    assert [k for k, _ in snaps] == list(range(11))


def test_demo_on_real_dryer(tmp_path):
    folder = _daisy_dir()
    if folder is None:
        pytest.skip("DaISy dryer.dat not found (set LEARNLDS_DATA)")
    result = run_demo(tmp_path / "out", steps=40, data_path=folder, progress=False, surface_views=2)
    assert not result.synthetic and result.data.name == "dryer"
    assert result.lr == DEMO_LR and result.region is None
    _check_outputs(result, 40, formats=("png", "svg"))
    assert result.step_fits[0] < 0 < result.step_fits[40]
    # the fast solver reaches the literature's ~90 % on the validation half
    assert result.regressor_fits[1] > 85
    # figure 3: the domain segment is not convex, the region's is quasi-convex looking
    stable, inside = (result.segment[SEGMENT_DOMAINS[d]] for d in ("stable", "region"))
    assert convexity_gap(*stable) >= NONCONVEX_GAP
    assert quasi_convexity_gap(inside[1]) == 0.0
    text = result.report.read_text(encoding="utf-8")
    assert "Left: domain: two random stable systems" in text
    assert "Right: Pac-Man region: two random points" in text
    # the post's protocol (400 fixed-rate steps) shows the final step first
    assert 'data-start="8"' in text  # snapshots 0, 5, ..., 40: the last one shown first


def test_demo_sgd_reaches_85_percent_after_400_steps():
    """The post's protocol on the real dryer: 3 states, 400 fixed-rate full-batch steps."""
    folder = _daisy_dir()
    if folder is None:
        pytest.skip("DaISy dryer.dat not found (set LEARNLDS_DATA)")
    data, _ = demo._load(folder)
    scaling = demo.Scaling.normalising(data.split(0.5)[0])
    options = demo._check_options(400, DEMO_LR, None, False, 0, 1)
    train, snaps, step_fits = demo._sgd_on_dryer(data, scaling, options, lambda _m: None)
    fits = [step_fits[k] for k in sorted(step_fits)]
    assert np.all(np.diff(fits) > 0), fits
    _est, val = demo._fits_or_nan(train.model, data, scaling)
    assert val >= 85.0, val
    assert train.model.order == 3 and train.projections == 0  # plain SGD
    start = snaps[0][1]
    assert np.all(start.c == 0) and float(start.d) == 1.0  # it predicted the input


def test_default_data_come_from_load_daisy(monkeypatch):
    """No repository layout: the record is whatever load_daisy('dryer') returns."""
    calls = []
    record = IOData.from_arrays(np.arange(8.0), np.arange(8.0) ** 2, name="dryer")

    def fake(name, *args, **kwargs):
        calls.append(name)
        return record

    monkeypatch.setattr(demo, "load_daisy", fake)
    data, source = demo._load(None)
    assert calls == ["dryer"] and data is record
    assert source.startswith("real DaISy dryer.dat") and "SYNTHETIC" not in source


def test_options_checked_before_work(tmp_path):
    for kwargs, name in (
        ({"steps": 0}, "steps"),
        ({"steps": 2.5}, "steps"),
        ({"lr": -1.0}, "lr"),
        ({"region": "bogus"}, "region"),
        ({"surface_views": 0}, "surface_views"),
        ({"random_state": "x"}, "random_state"),
        ({"progress": "yes"}, "progress"),
    ):
        with pytest.raises(ParameterError, match=name):
            run_demo(tmp_path / "never", **kwargs)
    with pytest.raises(DataError, match="data_path"):
        run_demo(tmp_path / "never", steps=1, data_path=tmp_path / "missing.dat")
    assert not (tmp_path / "never").exists()


def test_seed_is_a_deprecated_alias(tmp_path):
    with pytest.warns(DeprecationWarning, match="'seed' is deprecated"):
        with pytest.raises(ParameterError, match="steps"):
            run_demo(tmp_path, steps=0, seed=1)


def test_random_segment_has_an_interior_minimum():
    u = np.random.default_rng(0).normal(size=200)
    y = demo.demo_target().simulate(u)
    t, v = random_segment(u, y, random_state=3, num=21)
    assert t.shape == v.shape == (21,)
    t2, v2 = random_segment(u, y, random_state=3, num=21)
    np.testing.assert_array_equal(v, v2)  # reproducible
    assert 0.15 < t[int(np.argmin(v))] < 0.85
    with pytest.raises(ParameterError, match="num"):
        random_segment(u, y, num=1)
    with pytest.raises(ParameterError, match="domain"):
        random_segment(u, y, domain="everywhere")


def test_random_segment_between_stable_systems_is_not_convex():
    u = np.random.default_rng(0).normal(size=200)
    y = demo.demo_target().simulate(u)
    t, v = random_segment(u, y, random_state=0, num=41, domain="stable")
    assert np.all(np.isfinite(v))
    assert convexity_gap(t, v) >= NONCONVEX_GAP


def test_cli_demo(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    out = tmp_path / "demo"
    assert main(["demo", "--steps", "20", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().err  # messages go to stderr
    assert "step   20/20" in printed and "report:" in printed
    assert (out / "index.html").is_file()
    assert main(["demo", "--steps", "5", "--out", str(out), "--data", str(tmp_path / "no")]) == 2
