"""The demo pipeline: hair dryer (real or synthetic), SGD, fast solver, report files."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import REPO
from conftest import daisy_dir as _daisy_dir

from learnlds.cli import main
from learnlds.demo import DEMO_LR, find_dryer, run_demo


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


def test_demo_on_synthetic_default(tmp_path, monkeypatch):
    monkeypatch.setenv("LEARNLDS_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)  # no ../shared/data/daisy from here
    assert find_dryer() is None
    lines: list[str] = []
    result = run_demo(tmp_path / "out", steps=16, progress=False, log=lines.append, surface_views=2)
    assert result.synthetic and "SYNTHETIC" in result.data_source
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


def test_cli_demo(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(REPO)  # finds ../shared/data/daisy when it is there
    out = tmp_path / "demo"
    assert main(["demo", "--steps", "20", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "step   20/20" in printed and "report:" in printed
    assert (out / "index.html").is_file()
    assert main(["demo", "--steps", "5", "--out", str(out), "--data", str(tmp_path / "no")]) == 2
