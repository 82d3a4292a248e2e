"""The command line: simulate -> fit -> predict, and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from learnlds.cli import main
from learnlds.systems import load


def test_simulate_fit_predict_round_trip(tmp_path, capsys):
    sim, model, pred = tmp_path / "sim.csv", tmp_path / "m.json", tmp_path / "p.csv"
    truth = tmp_path / "truth.json"
    assert (
        main(
            [
                "simulate",
                "--order",
                "2",
                "--length",
                "3000",
                "--noise",
                "0.01",
                "--out",
                str(sim),
                "--save-model",
                str(truth),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "fit",
                str(sim),
                "--input-col",
                "u",
                "--output-col",
                "y",
                "--order",
                "2",
                "--quiet",
                "--out",
                str(model),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "validation fit" in out and "model written" in out
    learned, true = load(model), load(truth)
    np.testing.assert_allclose(learned.markov(20), true.markov(20), atol=0.02)
    meta = json.loads(model.read_text())["metadata"]
    assert "input_offset" in meta and meta["source"].endswith("sim.csv")
    assert main(["predict", str(model), str(sim), "--out", str(pred)]) == 0
    data = np.loadtxt(pred, delimiter=",", skiprows=1)
    assert data.shape == (3000, 2)


def test_fit_psgd_on_dat_file(tmp_path, capsys):
    rng = np.random.default_rng(0)
    u = rng.normal(size=400)
    y = np.convolve(u, [0.0, 0.5, 0.25, 0.125], mode="full")[:400]
    path = tmp_path / "data.dat"
    np.savetxt(path, np.column_stack([u, y]))
    code = main(
        [
            "fit",
            str(path),
            "--method",
            "psgd",
            "--steps",
            "300",
            "--lr",
            "0.05",
            "--order",
            "2",
            "--quiet",
            "--out",
            str(tmp_path / "m.json"),
        ]
    )
    assert code == 0
    assert "estimation fit" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args,match",
    [
        (["fit", "missing.csv"], "cannot read"),
        (["fit", "{bad}", "--input-col", "nope"], "unknown input column"),
        (["fit", "{bad}", "--order", "500"], "order"),
        (["predict", "{notmodel}", "{bad}"], "not a learnlds model"),
    ],
)
def test_errors_are_one_line_and_nonzero(tmp_path, args, match):
    bad = tmp_path / "d.csv"
    rng = np.random.default_rng(1)
    np.savetxt(bad, rng.normal(size=(200, 2)), delimiter=",", header="u,y", comments="")
    notmodel = tmp_path / "x.json"
    notmodel.write_text('{"hello": 1}')
    args = [a.format(bad=bad, notmodel=notmodel) for a in args]
    proc = subprocess.run(
        [sys.executable, "-m", "learnlds.cli", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("learnlds: error:"), proc.stderr
    assert match in lines[0]
    assert "Traceback" not in proc.stderr
