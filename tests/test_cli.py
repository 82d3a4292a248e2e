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
    captured = capsys.readouterr()
    assert "validation fit" in captured.err and "model written" in captured.err
    assert captured.out == ""  # stdout carries data only
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
    assert "estimation fit" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args,match",
    [
        (["fit", "missing.csv"], "no such data file"),
        (["fit", "dryerr"], "nor a DaISy set (dryer, ballbeam"),
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
    errors = [line for line in lines if line.startswith("learnlds: error:")]
    assert len(errors) == 1 and errors[0] == lines[-1], proc.stderr
    assert match in errors[0]
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def _run(args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "learnlds.cli", *args], capture_output=True, text=True, cwd=cwd
    )


def _model_and_data(tmp_path):
    from learnlds.systems import CanonicalSystem

    rng = np.random.default_rng(3)
    u = rng.normal(size=300)
    y = CanonicalSystem([-0.5], [1.0]).simulate(u)
    data = tmp_path / "d.csv"
    np.savetxt(data, np.column_stack([u, y]), delimiter=",", header="u,y", comments="")
    model = tmp_path / "m.json"
    CanonicalSystem([-0.5], [1.0]).save(model, input_offset=[0.0], output_offset=[0.0])
    return data, model


def test_version_and_defaults_in_help(tmp_path):
    from learnlds import __version__

    proc = _run(["--version"], tmp_path)
    assert proc.returncode == 0 and __version__ in proc.stdout
    helptext = _run(["fit", "--help"], tmp_path).stdout
    assert "(default: 3)" in helptext and "(default: 0.5)" in helptext


def test_predict_stdout_carries_data_only(tmp_path):
    data, model = _model_and_data(tmp_path)
    proc = _run(["predict", str(model), str(data)], tmp_path)
    assert proc.returncode == 0
    values = np.loadtxt(proc.stdout.splitlines())
    assert values.shape == (300,)
    assert "fit against measured output" in proc.stderr


@pytest.mark.parametrize("header", ["u", "time,u", None])
def test_predict_reads_a_file_of_inputs_only(tmp_path, header):
    """A SISO model on a table with one input column and no output (a time column may
    stand beside it): simulated, no fit printed (it used to ask for 2 columns)."""
    from learnlds.systems import CanonicalSystem

    _, model = _model_and_data(tmp_path)
    u = np.random.default_rng(4).normal(size=40)
    table = u[:, None] if header != "time,u" else np.column_stack([0.5 * np.arange(40), u])
    path = tmp_path / "plan.csv"
    np.savetxt(path, table, delimiter=",", header=header or "", comments="")
    proc = _run(["predict", str(model), str(path)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    expected = CanonicalSystem([-0.5], [1.0]).simulate(u)
    np.testing.assert_allclose(np.loadtxt(proc.stdout.splitlines()), expected, atol=1e-8)
    assert "no output column" in proc.stderr and "fit against" not in proc.stderr


@pytest.mark.parametrize("kind", ["inputs only", "NaN in the output"])
def test_predict_parses_an_inputs_file_once(tmp_path, monkeypatch, capsys, kind):
    """The inputs of a table with no usable output come from the table the reader already
    parsed (a large file was read twice)."""
    from learnlds.datasets import readers
    from learnlds.systems import CanonicalSystem

    _, model = _model_and_data(tmp_path)
    u = np.random.default_rng(5).normal(size=40)
    path = tmp_path / "plan.csv"
    if kind == "inputs only":
        np.savetxt(path, u[:, None], delimiter=",", header="u", comments="")
    else:
        y = np.full(40, np.nan)
        np.savetxt(path, np.column_stack([u, y]), delimiter=",", header="u,y", comments="")
    parses = []
    real = readers._text_table
    monkeypatch.setattr(readers, "_text_table", lambda p: parses.append(p) or real(p))
    assert main(["predict", str(model), str(path)]) == 0
    assert len(parses) == 1
    expected = CanonicalSystem([-0.5], [1.0]).simulate(u)
    np.testing.assert_allclose(np.loadtxt(capsys.readouterr().out.splitlines()), expected)


def test_predict_on_inputs_only_needs_the_model_input_count(tmp_path):
    from learnlds.datasets.readers import read_inputs
    from learnlds.errors import DataError

    _, model = _model_and_data(tmp_path)
    path = tmp_path / "bad.csv"
    path.write_text("u\n1\nnan\n3\n")
    proc = _run(["predict", str(model), str(path)], tmp_path)
    assert proc.returncode == 2 and "column 'u' contains NaN" in proc.stderr
    path.write_text("a,b\n1,2\n3,4\n")
    with pytest.raises(DataError, match=r"2 input column\(s\) \('a', 'b'\) but the model takes 3"):
        read_inputs(path, 3)
    u, names = read_inputs(path, 1, "b")
    assert names == ["b"] and u.ravel().tolist() == [2.0, 4.0]


def test_predict_multi_input_model_never_broadcasts_one_column(tmp_path):
    """A 2-input model on a file of its two inputs uses both (the default column rule
    had read the second as an output and broadcast the first over both inputs); a
    mismatched choice of columns is an error naming them."""
    from learnlds.statespace import StateSpaceSystem

    model = StateSpaceSystem([[0.6, 0.1], [0.0, 0.3]], [[1.0, 0.0], [0.5, 2.0]], np.eye(2))
    path = tmp_path / "m.json"
    model.save(path, input_offset=[1.0, -1.0], output_offset=[0.5, 0.0])
    u = np.random.default_rng(0).normal(size=(50, 2))
    data = tmp_path / "u.csv"
    np.savetxt(data, u, delimiter=",", header="a,b", comments="")
    proc = _run(["predict", str(path), str(data)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    expected = model.simulate(u - [1.0, -1.0]) + [0.5, 0.0]
    np.testing.assert_allclose(np.loadtxt(proc.stdout.splitlines()), expected, atol=1e-8)
    proc = _run(
        ["predict", str(path), str(data), "--input-col", "a", "--output-col", "b"], tmp_path
    )
    assert proc.returncode == 2 and "1 input column(s) (a) but the model takes 2" in proc.stderr


@pytest.mark.parametrize(
    "args,match",
    [
        (["simulate", "--length", "-5"], "--length: must be >= 2"),
        (["fit", "{data}", "--validation-fraction", "1.5"], "must be in [0, 1)"),
        (["fit", "{data}", "--steps", "0", "--method", "psgd"], "--steps: must be >= 1"),
        (["simulate", "--radius", "2", "--out", "s.csv"], "radius"),
        (["fit", "{data}", "--out", "nodir/m.json"], "does not exist"),
    ],
)
def test_arguments_are_checked_before_any_work(tmp_path, args, match):
    data, _ = _model_and_data(tmp_path)
    proc = _run([a.format(data=data) for a in args], tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert match in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "s.csv").exists()


@pytest.mark.parametrize(
    "meta,match",
    [
        ('"just a string"', "'metadata' must be an object"),
        ('{"input_offset": [1.0, 2.0], "output_offset": [0.0]}', "input_offset has 2 values"),
    ],
)
def test_bad_model_metadata_is_refused(tmp_path, meta, match):
    data, model = _model_and_data(tmp_path)
    doc = json.loads(model.read_text())
    doc["metadata"] = json.loads(meta)
    model.write_text(json.dumps(doc))
    proc = _run(["predict", str(model), str(data)], tmp_path)
    assert proc.returncode == 2 and match in proc.stderr


def test_failed_write_keeps_the_previous_file(tmp_path, monkeypatch):
    """A write that fails half-way (here: the CSV writer raises) leaves the old file intact."""
    import learnlds.cli as cli

    data, model = _model_and_data(tmp_path)
    pred = tmp_path / "pred.csv"
    pred.write_text("previous contents\n")

    def broken(fh, *args, **kwargs):
        fh.write("partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cli.np, "savetxt", broken)
    assert main(["predict", str(model), str(data), "--out", str(pred)]) == 2
    assert pred.read_text() == "previous contents\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".pred")] == []


def test_sigint_during_checkpointed_fit_then_resume_equals_uninterrupted(tmp_path):
    """A real Ctrl-C: one line, exit 130, the checkpoint kept; --resume finishes the same model."""
    import signal
    import time

    data, _ = _model_and_data(tmp_path)
    common = ["fit", str(data), "--method", "psgd", "--order", "2", "--steps", "40000"]
    common += ["--lr", "0.01", "--quiet", "--validation-fraction", "0"]
    ck = tmp_path / "ck.npz"
    args = [*common, "--checkpoint", str(ck), "--checkpoint-every", "500"]
    args += ["--out", str(tmp_path / "resumed.json")]
    proc = subprocess.Popen(
        [sys.executable, "-m", "learnlds.cli", *args],
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    deadline = time.monotonic() + 120
    while not ck.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the fit ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1].startswith("learnlds: interrupted")
    assert "Traceback" not in err and ck.exists()
    assert not (tmp_path / "resumed.json").exists()
    assert _run([*args, "--resume"], tmp_path).returncode == 0
    assert _run([*common, "--out", str(tmp_path / "plain.json")], tmp_path).returncode == 0
    resumed, plain = load(tmp_path / "resumed.json"), load(tmp_path / "plain.json")
    np.testing.assert_allclose(resumed.a, plain.a, rtol=0, atol=1e-12)
    np.testing.assert_allclose(resumed.c, plain.c, rtol=0, atol=1e-12)


def test_datasets_lists_the_registry(tmp_path):
    proc = _run(["datasets"], tmp_path)
    assert proc.returncode == 0
    rows = {line.split("\t")[0]: line.split("\t") for line in proc.stdout.splitlines()[1:]}
    assert rows["dryer"][4] == "shipped" and rows["flutter"][4] == "shipped"
    assert "glassfurnace" in rows and rows["glassfurnace"][1] == "1247 x 10"


def test_fit_says_which_columns_and_carries_dt(tmp_path):
    """A time column is never a signal; the CLI says what it used; --dt reaches the model."""
    rng = np.random.default_rng(4)
    u = rng.normal(size=600)
    y = np.convolve(u, [0.0, 0.5, 0.25], mode="full")[:600]
    path = tmp_path / "log.csv"
    table = np.column_stack([np.arange(600) * 0.1, u, y])
    np.savetxt(path, table, delimiter=",", header="time,u,y", comments="")
    proc = _run(["fit", str(path), "--order", "2", "--dt", "0.1", "--quiet"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "inputs u; outputs y" in proc.stderr and "time" in proc.stderr
    assert load(tmp_path / "model.json").dt == 0.1


def test_a_daisy_name_stands_for_its_file(tmp_path, capsys):
    """``learnlds fit dryer``: a shipped set by name (any case), its registry columns,
    names and dt; the same numbers as fitting the file itself."""
    from learnlds.datasets.daisy import DAISY, find_daisy

    assert main(["fit", "Dryer", "--order", "2", "--quiet", "--out", str(tmp_path / "a.json")]) == 0
    by_name = capsys.readouterr().err
    assert "inputs heater voltage; outputs outlet air temperature; dt 0.08" in by_name
    path = str(find_daisy("dryer"))
    assert main(["fit", path, "--order", "2", "--quiet", "--out", str(tmp_path / "b.json")]) == 0
    by_file = capsys.readouterr().err
    fit_line = [line for line in by_name.splitlines() if line.startswith("validation fit")]
    assert fit_line and fit_line[0] in by_file.splitlines()
    np.testing.assert_allclose(
        load(tmp_path / "a.json").markov(10), load(tmp_path / "b.json").markov(10)
    )
    assert "dryer" in DAISY


def test_demo_learning_rate_default_is_the_demos():
    from learnlds.cli import build_parser
    from learnlds.demo import DEMO_LR

    assert build_parser().parse_args(["demo"]).lr is None  # run_demo's own default applies
    assert (
        f"{DEMO_LR:g}" in build_parser()._subparsers._group_actions[0].choices["demo"].format_help()
    )


def test_unstable_model_is_refused_unless_allowed(tmp_path):
    from learnlds.systems import CanonicalSystem

    model = tmp_path / "unstable.json"
    CanonicalSystem([-2.5, 1.5], [1.0, 0.0]).save(model)
    args = ["simulate", "--model", str(model), "--length", "50", "--out", "s.csv"]
    proc = _run(args, tmp_path)
    assert proc.returncode == 2 and "unstable" in proc.stderr
    assert not (tmp_path / "s.csv").exists()
    proc = _run([*args, "--allow-unstable"], tmp_path)
    assert proc.returncode == 0 and (tmp_path / "s.csv").exists()


def test_fit_order_auto_and_structure(tmp_path):
    data, _ = _model_and_data(tmp_path)
    proc = _run(["fit", str(data), "--order", "auto", "--quiet"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "(chosen)" in proc.stderr and "state-space" in proc.stderr
    assert "order scores (information criterion" in proc.stderr and " 8: " in proc.stderr
    proc = _run(
        ["fit", str(data), "--order", "auto", "--order-selection", "holdout", "--quiet"], tmp_path
    )
    assert proc.returncode == 0 and "order scores (inner hold-out" in proc.stderr
    proc = _run(["fit", str(data), "--criterion", "prediction", "--quiet"], tmp_path)
    assert proc.returncode == 0 and "(gn, prediction error)" in proc.stderr
    assert _run(["fit", str(data), "--criterion", "ml"], tmp_path).returncode == 2
    proc = _run(["fit", str(data), "--structure", "common-denominator", "--quiet"], tmp_path)
    assert proc.returncode == 0 and "common-denominator" in proc.stderr
    assert _run(["fit", str(data), "--order", "two"], tmp_path).returncode == 2


def test_fit_a_record_on_disk(tmp_path):
    """`learnlds fit rec.npy` streams the memory-mapped record and writes the model."""
    from learnlds.systems import CanonicalSystem

    rng = np.random.default_rng(15)
    u = rng.normal(size=40_000)
    y = CanonicalSystem([-0.5], [1.0]).simulate(u) + 0.01 * rng.normal(size=40_000)
    np.save(tmp_path / "rec.npy", np.column_stack([u, y]))
    proc = _run(["fit", "rec.npy", "--order", "1", "--quiet", "--dt", "0.1"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "on disk" in proc.stderr
    model = load(tmp_path / "model.json")
    assert abs(model.a[0] + 0.5) < 0.01 and model.dt == 0.1


def test_simulate_a_saved_mimo_model(tmp_path):
    """A saved state-space model with two inputs simulates from generated or file inputs
    (it crashed: StateSpaceSystem.simulate takes no noise_std)."""
    from learnlds.statespace import StateSpaceSystem

    model = StateSpaceSystem([[0.6, 0.1], [0.0, 0.3]], [[1.0, 0.0], [0.5, 2.0]], np.eye(2))
    path = tmp_path / "m.json"
    model.save(path)
    proc = _run(["simulate", "--model", str(path), "--length", "30", "--out", "s.csv"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "for 30 samples" in proc.stderr
    table = np.loadtxt(tmp_path / "s.csv", delimiter=",", skiprows=1)
    assert table.shape == (30, 4)
    np.testing.assert_allclose(table[:, 2:], model.simulate(table[:, :2]), atol=1e-8)
    args = ["simulate", "--model", str(path), "--input-file", "s.csv", "--input-col", "u1,u2"]
    proc = _run([*args, "--noise", "0.5", "--out", "n.csv"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    noisy = np.loadtxt(tmp_path / "n.csv", delimiter=",", skiprows=1)
    np.testing.assert_allclose(noisy[:, :2], table[:, :2], atol=1e-8)
    assert 0.2 < np.std(noisy[:, 2:] - table[:, 2:]) < 1.0


def _mimo_file(tmp_path, length=300):
    """A 2-input 2-output record (columns a, b -> p, q) around an operating point."""
    from conftest import random_system

    truth = random_system(2, 2, 2, seed=3, radius=0.8)
    rng = np.random.default_rng(0)
    u = rng.normal(size=(length, 2))
    y = truth.simulate(u) + 0.1 * rng.normal(size=(length, 2))
    path = tmp_path / "d.csv"
    table = np.column_stack([u + [1.0, -2.0], y + [5.0, 0.0]])
    np.savetxt(path, table, delimiter=",", header="a,b,p,q", comments="")
    return path, truth


def test_report_of_a_mimo_model_end_to_end(tmp_path, capsys):
    """`fit` on a multi-column file, then `report`: the page of write_model_report with the
    protocol's fit per output and the saved operating point."""
    import re

    from learnlds.modelfile import load as load_model
    from learnlds.validate import holdout

    data, _ = _mimo_file(tmp_path)
    cols = ["--input-col", "a,b", "--output-col", "p,q"]
    model = tmp_path / "m.json"
    assert main(["fit", str(data), *cols, "--order", "2", "--quiet", "--out", str(model)]) == 0
    doc = json.loads(model.read_text())
    assert doc["metadata"]["input_offset"] != [1.0, -2.0]  # the estimation means
    doc["metadata"]["input_offset"] = [1.0, -2.0]  # the saved operating point is shown
    model.write_text(json.dumps(doc))
    out = tmp_path / "rep"
    assert main(["report", str(model), str(data), *cols, "--out", str(out)]) == 0
    printed = capsys.readouterr().err
    assert "validation fit per output: p " in printed and "report written to" in printed
    text = (out / "index.html").read_text(encoding="utf-8")
    assert "Bode diagrams" in text and "Fit per output" in text and "Pac-Man" not in text
    table = np.loadtxt(data, delimiter=",", skiprows=1)
    res = holdout(load_model(model), table[:, :2], table[:, 2:])
    fits = re.findall(r"<tr><td>([pq])</td><td>([-\d.]+) %</td><td>([-\d.]+) %</td></tr>", text)
    assert [f[0] for f in fits] == ["p", "q"]
    for k, (_, est, val) in enumerate(fits):
        assert float(est) == pytest.approx(res.estimation_fits[k], abs=0.006)
        assert float(val) == pytest.approx(res.validation_fits[k], abs=0.006)
    assert "<th>input offsets</th><td>1, -2</td>" in text
    assert (out / "figures" / "4-bode-y2.svg").is_file()


def test_report_of_a_mimo_model_simulates_the_record_once(tmp_path, capsys, monkeypatch):
    """The printed fits are the page's: `report` runs the protocol once (it ran twice)."""
    import learnlds.model_report as model_report
    import learnlds.validate as validate

    data, _ = _mimo_file(tmp_path)
    cols = ["--input-col", "a,b", "--output-col", "p,q"]
    model = tmp_path / "m.json"
    assert main(["fit", str(data), *cols, "--order", "2", "--quiet", "--out", str(model)]) == 0
    calls, holdout = [], validate.holdout

    def counted(*args, **kwargs):
        calls.append(args[0])
        return holdout(*args, **kwargs)

    monkeypatch.setattr(model_report, "holdout", counted)
    monkeypatch.setattr(validate, "holdout", counted)
    assert main(["report", str(model), str(data), *cols, "--out", str(tmp_path / "r")]) == 0
    assert len(calls) == 1
    assert "validation fit per output: p " in capsys.readouterr().err


def test_report_refuses_columns_that_do_not_match_the_model(tmp_path, capsys):
    """A 2x2 model on the default (one input, one output) columns, and a SISO model on
    two inputs and two outputs: one clear line, exit 2, no report."""
    from learnlds.statespace import StateSpaceSystem

    data, truth = _mimo_file(tmp_path, length=60)
    mimo, siso = tmp_path / "mimo.json", tmp_path / "siso.json"
    truth.save(mimo)
    StateSpaceSystem([[0.5]], [[1.0]], [[1.0]]).save(siso)
    proc = _run(["report", str(mimo), str(data), "--out", "rep"], tmp_path)
    assert proc.returncode == 2, proc.stderr
    line = proc.stderr.strip().splitlines()[-1]
    assert line.startswith("learnlds: error: ") and "Traceback" not in proc.stderr
    assert "1 input column(s) (a) and 1 output column(s) (b), but the model" in line
    assert "takes 2 input(s) and gives 2 output(s)" in line and "--input-col" in line
    cols = ["--input-col", "a,b", "--output-col", "p,q"]
    assert main(["report", str(siso), str(data), *cols, "--out", str(tmp_path / "rep")]) == 2
    assert "2 input column(s) (a, b)" in capsys.readouterr().err
    assert not (tmp_path / "rep").exists()


def test_warnings_are_one_line(monkeypatch, capsys):
    """A library warning reaches the terminal as one 'learnlds: warning:' line naming its
    type, never a source path and code line."""
    import warnings

    import learnlds.cli as cli
    from learnlds.errors import ConvergenceWarning

    def warns(args):
        warnings.warn("fit: something to know", ConvergenceWarning, stacklevel=1)
        return 0

    monkeypatch.setattr(cli, "cmd_datasets", warns)
    assert cli.main(["datasets"]) == 0
    err = capsys.readouterr().err
    assert err == "learnlds: warning: fit: something to know (ConvergenceWarning)\n"


def test_fit_cuts_an_odd_record_where_the_protocol_does(tmp_path):
    """``fit`` estimates on the samples :func:`learnlds.holdout` does, odd lengths
    included (it used to give the extra sample to the validation part: glassfurnace at
    order 7 then validated at 50.0 % in the CLI and 56.8 % in the protocol)."""
    from learnlds import LDSRegressor, holdout

    rng = np.random.default_rng(8)
    u = rng.normal(size=301)
    y = np.convolve(u, [0.0, 0.8, 0.3, -0.2], mode="full")[:301] + 0.05 * rng.normal(size=301)
    path = tmp_path / "odd.csv"
    np.savetxt(path, np.column_stack([u, y]), delimiter=",", header="u,y", comments="")
    proc = _run(["fit", str(path), "--order", "2", "--quiet"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    res = holdout(LDSRegressor(order=2), u, y)
    assert f"(first {res.split_index} samples" in proc.stderr
    assert f"validation fit: {res.validation_fit:.2f} %" in proc.stderr


def test_compare_scores_saved_models_like_the_fit_protocol(tmp_path, capsys):
    """`compare` prints one row per model: the fit `fit` reported on its validation part
    (the same cut, centred), per output; --x0 estimate labels its rows; --plot draws."""
    from learnlds.modelfile import load
    from learnlds.validate import holdout

    data, _ = _mimo_file(tmp_path)
    cols = ["--input-col", "a,b", "--output-col", "p,q"]
    paths = []
    for k in (1, 2):
        paths.append(str(tmp_path / f"order{k}.json"))
        assert (
            main(["fit", str(data), *cols, "--order", str(k), "--quiet", "--out", paths[-1]]) == 0
        )
    capsys.readouterr()
    plot = tmp_path / "cmp.png"
    assert main(["compare", *paths, str(data), *cols, "--plot", str(plot)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split("\t") == ["model", "fit %", "fit % p", "fit % q"]
    table = np.loadtxt(data, delimiter=",", skiprows=1)
    for row, path in zip(out[1:], paths, strict=True):
        name, *fits = row.split("\t")
        res = holdout(load(path), table[:, :2], table[:, 2:])
        assert name == path.rsplit("/", 1)[-1].removesuffix(".json")
        np.testing.assert_allclose([float(f) for f in fits[1:]], res.validation_fits, atol=0.006)
    assert plot.stat().st_size > 1000
    assert main(["compare", paths[1], str(data), *cols, "--x0", "estimate"]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith("order2 (x0 estimated)\t")


def test_compare_refuses_a_model_of_another_shape(tmp_path, capsys):
    _, model = _model_and_data(tmp_path)
    (tmp_path / "x").mkdir()
    mimo, _ = _mimo_file(tmp_path / "x")
    assert (
        main(["compare", str(model), str(mimo), "--input-col", "a,b", "--output-col", "p,q"]) == 2
    )
    err = capsys.readouterr().err
    assert (
        f"{mimo}: 2 input column(s) (a, b) and 2 output column(s) (p, q), but the model "
        f"{model} takes 1 input(s) and gives 1 output(s)" in err
    )  # the message of learnlds report
    data, _ = _model_and_data(tmp_path)
    assert main(["compare", str(model), str(data), "--plot", str(tmp_path / "c.xyz")]) == 2
    captured = capsys.readouterr()
    assert "--plot: cannot draw into a .xyz file" in captured.err and captured.out == ""


def test_fit_and_report_say_when_the_validation_is_an_extrapolation(tmp_path, capsys):
    """flutter's halves excite different bands: fit and report say so (the SISO page
    among its notes), the dryer's do not; a MIMO page carries it under its fits."""
    model = tmp_path / "fl.json"
    assert main(["fit", "flutter", "--order", "2", "--quiet", "--out", str(model)]) == 0
    said = capsys.readouterr().err
    assert "note: validation input u has 99 % of its power" in said
    assert main(["report", str(model), "flutter", "--out", str(tmp_path / "r")]) == 0
    assert "measures extrapolation" in capsys.readouterr().err
    page = (tmp_path / "r" / "index.html").read_text(encoding="utf-8")
    assert "Note: validation input u has 99 % of its power" in page
    assert main(["compare", str(model), "flutter"]) == 0
    assert "note: validation input u has 99 %" in capsys.readouterr().err
    assert main(["fit", "dryer", "--order", "2", "--quiet", "--out", str(model)]) == 0
    assert "extrapolation" not in capsys.readouterr().err
    rng = np.random.default_rng(2)
    slow = np.cumsum(rng.normal(size=(600, 2)), axis=0) * 0.01
    u = np.vstack([slow[:300], rng.normal(size=(300, 2))])  # white only after the cut
    y = np.column_stack([u[:, 0] + 0.5 * u[:, 1], u[:, 1]]) + 0.01 * rng.normal(size=(600, 2))
    data = tmp_path / "d.csv"
    np.savetxt(data, np.column_stack([u, y]), delimiter=",", header="a,b,p,q", comments="")
    cols = ["--input-col", "a,b", "--output-col", "p,q"]
    mimo = tmp_path / "m.json"
    assert main(["fit", str(data), *cols, "--order", "1", "--quiet", "--out", str(mimo)]) == 0
    assert "validation input a has" in capsys.readouterr().err
    assert main(["report", str(mimo), str(data), *cols, "--out", str(tmp_path / "rm")]) == 0
    page = (tmp_path / "rm" / "index.html").read_text(encoding="utf-8")
    assert 'id="extrapolation"' in page and "b has" in page


def _two_input_model(tmp_path):
    from learnlds.statespace import StateSpaceSystem

    model = StateSpaceSystem([[0.6, 0.1], [0.0, 0.3]], [[1.0, 0.0], [0.5, 2.0]], np.eye(2))
    path = tmp_path / "two.json"
    model.save(path)
    return model, path


def test_predict_refuses_a_column_named_like_an_output_as_an_input(tmp_path, capsys):
    """A 2-input model on a ``u,y`` file used ``y`` as its second input, with only a
    note on stderr; now refused unless the columns are named with --input-col."""
    model, path = _two_input_model(tmp_path)
    data, _ = _model_and_data(tmp_path)  # header u,y
    assert main(["predict", str(path), str(data)]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("learnlds: error:") and "'y' looks like an output" in err
    assert "--input-col" in err
    assert main(["predict", str(path), str(data), "--input-col", "u,y"]) == 0  # asked for
    out = np.loadtxt(capsys.readouterr().out.splitlines())
    np.testing.assert_allclose(out, model.simulate(np.loadtxt(data, delimiter=",", skiprows=1)))


def test_predict_and_simulate_ignore_nan_in_an_unused_output_column(tmp_path, capsys):
    """Only the columns used are checked: NaN in the output of a file whose input drives
    the model refused the whole file."""
    from learnlds.systems import CanonicalSystem

    data, model = _model_and_data(tmp_path)
    table = np.loadtxt(data, delimiter=",", skiprows=1)
    table[7, 1] = np.nan
    np.savetxt(data, table, delimiter=",", header="u,y", comments="")
    assert main(["predict", str(model), str(data)]) == 0
    captured = capsys.readouterr()
    expected = CanonicalSystem([-0.5], [1.0]).simulate(table[:, 0])
    np.testing.assert_allclose(np.loadtxt(captured.out.splitlines()), expected, atol=1e-8)
    assert "column 'y' contains NaN" in captured.err and "fit against" not in captured.err
    out = tmp_path / "s.csv"
    args = ["simulate", "--model", str(model), "--input-file", str(data), "--out", str(out)]
    assert main(args) == 0 and out.exists()
    table[3, 0] = np.nan  # in the input used: still refused
    np.savetxt(data, table, delimiter=",", header="u,y", comments="")
    capsys.readouterr()
    assert main(["predict", str(model), str(data)]) == 2
    assert "column 'u' contains NaN" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["simulate", "predict"])
def test_unknown_output_suffixes_are_refused(tmp_path, capsys, command):
    """``--out x.xyz`` was written as CSV under that name."""
    data, model = _model_and_data(tmp_path)
    head = ["simulate", "--length", "20"] if command == "simulate" else ["predict", str(model)]
    tail = [] if command == "simulate" else [str(data)]
    for name, message in (("x.xyz", "a .xyz file"), ("x", "'x' (no suffix)")):
        assert main([*head, *tail, "--out", str(tmp_path / name)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err == [f"learnlds: error: --out: cannot write {message}; use one of .csv, .npz"]
        assert not (tmp_path / name).exists()
    assert main([*head, *tail, "--out", str(tmp_path / "x.npz")]) == 0
    assert "u" in np.load(tmp_path / "x.npz").files


def test_report_into_an_existing_file_is_one_clear_line(tmp_path, capsys):
    """It printed ``[Errno 20] Not a directory: '.d.csv.xxxx.tmp/figures'`` after the work."""
    from learnlds.errors import ParameterError
    from learnlds.model_report import write_model_report

    data, model = _model_and_data(tmp_path)
    before = data.read_bytes()
    assert main(["report", str(model), str(data), "--out", str(data)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("learnlds: error: --out: ")
    assert "is a file" in err[0] and ".tmp" not in err[0]
    assert data.read_bytes() == before
    with pytest.raises(ParameterError, match=r"^out_dir: .* is a file"):
        write_model_report(data, data=None, model=None)


def _two_input_files(tmp_path):
    """A 2-input record under header u1,u2,y, and the same columns in other orders."""
    from scipy import signal

    rng = np.random.default_rng(0)
    u1, u2 = rng.normal(size=800), rng.normal(size=800)
    y = signal.lfilter([0, 1], [1, -0.5], u1) + 0.3 * signal.lfilter([0, 1], [1, -0.8], u2)
    files = {
        "fit.csv": ("u1,u2,y", np.c_[u1, u2, y]),
        "swapped.csv": ("y,u2,u1", np.c_[y, u2, u1]),
        "inputs.csv": ("u2,u1", np.c_[u2, u1]),
        "other.csv": ("a,b,c", np.c_[u1, u2, y]),
    }
    for name, (header, data) in files.items():
        np.savetxt(tmp_path / name, data, delimiter=",", header=header, comments="")
    return y


def test_predict_report_compare_find_the_fitted_columns_by_name(tmp_path, capsys):
    """A model fitted on columns u1, u2 -> y used to read a later file by position: given
    the same columns as y, u2, u1 it simulated on (y, u2), silently. ``fit`` now saves
    the header names; ``predict``, ``report`` and ``compare`` take those columns by name
    when the file has them, and say so when it does not."""
    _two_input_files(tmp_path)
    model, args = tmp_path / "m.json", ["--input-col", "u1,u2", "--output-col", "y"]
    assert main(["fit", str(tmp_path / "fit.csv"), *args, "--order", "2", "--out", str(model)]) == 0
    meta = json.loads(model.read_text())["metadata"]
    assert (meta["input_columns"], meta["output_columns"]) == (["u1", "u2"], ["y"])

    def predicted(name: str) -> np.ndarray:
        out = tmp_path / f"p_{name}"
        assert main(["predict", str(model), str(tmp_path / name), "--out", str(out)]) == 0
        return np.loadtxt(out, delimiter=",", skiprows=1)

    reference = predicted("fit.csv")
    np.testing.assert_array_equal(predicted("swapped.csv"), reference)
    np.testing.assert_array_equal(predicted("inputs.csv"), reference)  # inputs only, u2,u1
    capsys.readouterr()
    predicted("other.csv")  # no such names: by position, and said
    assert "no columns u1,u2 (the model's inputs when it was fitted)" in capsys.readouterr().err
    fits = []
    for name in ("fit.csv", "swapped.csv"):
        assert main(["compare", str(model), str(tmp_path / name)]) == 0
        fits.append(capsys.readouterr().out.splitlines()[1])
        folder = tmp_path / f"report_{name}"
        assert main(["report", str(model), str(tmp_path / name), "--out", str(folder)]) == 0
        fits.append(capsys.readouterr().err.splitlines()[-2])
    assert fits[0] == fits[2] and fits[1] == fits[3] and "98.4" in fits[0]
    sim = tmp_path / "sim.csv"  # simulate --input-file reads the model's inputs the same way
    assert (
        main(
            [
                "simulate",
                "--model",
                str(model),
                "--input-file",
                str(tmp_path / "swapped.csv"),
                "--out",
                str(sim),
            ]
        )
        == 0
    )
    simulated = np.loadtxt(sim, delimiter=",", skiprows=1)[:, -1]
    assert np.corrcoef(simulated, reference)[0, 1] > 0.999  # offsets aside, the same output
    out = tmp_path / "given.csv"  # options given: they rule, as before
    assert (
        main(
            [
                "predict",
                str(model),
                str(tmp_path / "swapped.csv"),
                "--input-col",
                "y,u2",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert np.abs(np.loadtxt(out, delimiter=",", skiprows=1) - reference).max() > 0.1
    data = np.loadtxt(tmp_path / "fit.csv", delimiter=",", skiprows=1)
    np.savetxt(tmp_path / "bare.dat", data)  # no header: nothing to find by name later
    bare = tmp_path / "bare.json"
    assert main(["fit", str(tmp_path / "bare.dat"), "--input-col", "0,1", "--out", str(bare)]) == 0
    assert "input_columns" not in json.loads(bare.read_text())["metadata"]
    u12, yy = data[:, :2], data[:, 2]  # an .npz archive's channel names count as columns
    np.savez(tmp_path / "fit.npz", u=u12, y=yy, input_names=np.array(["u1", "u2"]))
    np.savez(tmp_path / "sw.npz", u=u12[:, ::-1], y=yy, input_names=np.array(["u2", "u1"]))
    archived = tmp_path / "npz.json"
    assert main(["fit", str(tmp_path / "fit.npz"), "--out", str(archived)]) == 0
    said = []
    for name in ("fit.npz", "sw.npz"):
        assert main(["predict", str(archived), str(tmp_path / name)]) == 0
        said.append(capsys.readouterr().out)
    assert said[0] == said[1]
    digits = tmp_path / "digits.csv"  # header names that look like indices stay names
    np.savetxt(digits, data, delimiter=",", header="10,20,out", comments="")
    np.savetxt(
        tmp_path / "digits_sw.csv", data[:, ::-1], delimiter=",", header="out,20,10", comments=""
    )
    named = tmp_path / "digits.json"
    assert (
        main(["fit", str(digits), "--input-col", "0,1", "--output-col", "2", "--out", str(named)])
        == 0
    )
    for name in ("digits.csv", "digits_sw.csv"):
        assert main(["predict", str(named), str(tmp_path / name)]) == 0
        said.append(capsys.readouterr().out)
    assert said[2] == said[3]
    capsys.readouterr()  # models fitted on different columns: the defaults, and said
    assert main(["compare", str(model), str(bare), str(tmp_path / "fit.csv")]) == 0
    printed = capsys.readouterr()  # the defaults go by the header's names: u1, u2 -> y
    assert "fitted on differently named columns" in printed.err
    assert "(by their names)" in printed.err and len(printed.out.splitlines()) == 3
