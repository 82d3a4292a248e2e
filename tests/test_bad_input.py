"""Bad input, tried as a new user would: a clear typed error naming the problem, never a
traceback from deep inside numpy and never a silent wrong answer (regression table)."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import warnings

import numpy as np
import pytest

from learnlds import CanonicalSystem, LDSRegressor, gauss_newton, holdout, load
from learnlds import baselines as bl
from learnlds.datasets import IOData
from learnlds.errors import (
    DataError,
    FileFormatError,
    ParameterError,
    UnstableSystemWarning,
    UnsupportedShapeError,
)
from learnlds.risk import loss
from learnlds.statespace import StateSpaceSystem, estimate_initial_state
from learnlds.train import sequence_batches, tile_windows, window_batches

RNG = np.random.default_rng(0)
U = RNG.normal(size=400)
TRUTH = CanonicalSystem([-0.5, 0.1], [1.0, 0.3], 0.2)
Y = TRUTH.simulate(U)


def _garbage(tmp_path, name):
    p = tmp_path / name
    p.write_bytes(bytes(range(256)) * 8)
    return p


CASES = [
    ("NaN in u", lambda: LDSRegressor().fit(np.r_[U[:-1], np.nan], Y), DataError, "NaN"),
    ("inf in y", lambda: LDSRegressor().fit(U, np.r_[Y[:-1], np.inf]), DataError, "inf"),
    ("complex u", lambda: LDSRegressor().fit(U + 1j, Y), DataError, r"^u: complex values"),
    (
        "text in y",
        lambda: LDSRegressor().fit(U, np.array(["a"] * len(Y))),
        DataError,
        "^y: must be numeric",
    ),
    ("y missing", lambda: LDSRegressor().fit(U, None), DataError, "y"),
    ("lengths differ", lambda: LDSRegressor().fit(U, Y[:-1]), DataError, "lengths differ"),
    (
        "3-D without sequences",
        lambda: LDSRegressor().fit(U.reshape(4, 100, 1), Y.reshape(4, 100, 1)),
        DataError,
        "sequences=True",
    ),
    ("order 0", lambda: LDSRegressor(order=0).fit(U, Y), ParameterError, "order"),
    ("max_iter 2.5", lambda: LDSRegressor(max_iter=2.5).fit(U, Y), ParameterError, "max_iter"),
    ("order beyond the data", lambda: LDSRegressor(order=300).fit(U, Y), DataError, "larger"),
    (
        "constant input",
        lambda: LDSRegressor().fit(np.ones(400), Y),
        DataError,
        "column 0 .*constant",
    ),
    (
        "a dead input among several",
        lambda: LDSRegressor().fit(np.c_[np.sin(np.arange(400.0)), np.ones(400)], Y),
        DataError,
        "column 1 \\(0-based\\) is constant",
    ),
    (
        "constant output",
        lambda: LDSRegressor().fit(U, np.zeros(400)),
        DataError,
        r"^y: output column 0 \(0-based\) is constant",
    ),
    (
        "a flat output among several",
        lambda: LDSRegressor().fit(U, np.c_[Y, np.full(400, 3.0)]),
        DataError,
        r"^y: output column 1 \(0-based\) is constant",
    ),
    ("empty record", lambda: LDSRegressor().fit([], []), DataError, r"^u: an empty record"),
    (
        "no output channels",
        lambda: LDSRegressor().fit(U, np.zeros((400, 0))),
        DataError,
        r"^y: an empty record, no channels \(.*shape=\(400, 0\)",
    ),
    (
        "overparam on MIMO data (refused before the fit)",
        lambda: LDSRegressor(order=2, overparam=4).fit(np.c_[U, U[::-1]], np.c_[Y, Y[::-1]]),
        UnsupportedShapeError,
        r"^overparam: .* single-input single-output; these data have 2 input",
    ),
    (
        "solver max_iter -3",
        lambda: gauss_newton(U, Y, order=2, max_iter=-3),
        ParameterError,
        "max_iter",
    ),
    (
        "unstable random system",
        lambda: CanonicalSystem.random_stable(3, radius=2.0),
        ParameterError,
        "radius",
    ),
    ("split 1.5", lambda: holdout(TRUTH, U, Y, split=1.5), ParameterError, "split"),
    (
        "SISO-only baseline on MIMO",
        lambda: bl.n4sid(np.c_[U, U[::-1]], Y, 2),
        UnsupportedShapeError,
        "n4sid",
    ),
    (
        "beyond float64",
        lambda: LDSRegressor(order=2).fit(U * 1e-300, Y * 1e300),
        DataError,
        "float64",
    ),
    (
        "wrong channel count in predict",
        lambda: LDSRegressor(order=2).fit(U, Y).predict(np.c_[U, U]),
        DataError,
        "input channel",
    ),
]


@pytest.mark.parametrize("what,call,error,match", CASES, ids=[c[0] for c in CASES])
def test_api_bad_input_table(what, call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_files_that_do_not_parse(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.json")
    with pytest.raises(FileFormatError):
        load(_garbage(tmp_path, "model.json"))
    with pytest.raises(FileFormatError):
        IOData.from_file(_garbage(tmp_path, "data.csv"))
    with pytest.raises(FileNotFoundError):
        IOData.from_file(tmp_path / "missing.csv")


def test_unstable_simulation_warns_and_says_why():
    with pytest.warns(UnstableSystemWarning, match="grow"):
        CanonicalSystem([-2.5, 1.5], [1.0, 0.0]).simulate(U[:50])


def test_no_silent_non_finite_prediction():
    """A model that blows up on the data is reported, not returned as NaN."""
    est = LDSRegressor(order=2).fit(U, Y)
    est.system_ = CanonicalSystem([-2.5, 1.5], [1.0, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnstableSystemWarning)
        with pytest.raises(DataError, match="unstable"):
            est.predict(np.tile(U, 20))


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX resource limits")
def test_write_failure_from_a_file_size_limit_keeps_the_previous_file(tmp_path):
    """A real failed write (RLIMIT_FSIZE): exit 2, one line, the old predictions intact."""
    data = tmp_path / "d.csv"
    long_u = RNG.normal(size=20_000)
    np.savetxt(
        data, np.c_[long_u, TRUTH.simulate(long_u)], delimiter=",", header="u,y", comments=""
    )
    model = tmp_path / "m.json"
    TRUTH.save(model)
    pred = tmp_path / "pred.csv"
    pred.write_text("previous\n")

    def limit() -> None:  # runs in the child before exec
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (50_000, 50_000))

    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "learnlds.cli",
            "predict",
            str(model),
            str(data),
            "--out",
            str(pred),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        preexec_fn=limit,
        env={**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba")},
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("learnlds: error:")
    assert pred.read_text() == "previous\n"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".pred.csv")]


@pytest.mark.parametrize(
    "call",
    [
        lambda: bl.n4sid(U, None, 2),
        lambda: bl.oe(U, None, 2),
        lambda: bl.ho_kalman(U, None, 2),
        lambda: bl.fir_markov(U, None, 10),
        lambda: gauss_newton(U, None, order=2),
        lambda: sequence_batches(U[None], None, 1),
        lambda: window_batches(U, None, 50),
        lambda: tile_windows(U, None, 50, 10),
        lambda: estimate_initial_state(StateSpaceSystem.from_canonical(TRUTH), U, None),
        lambda: loss(TRUTH, U, None),
    ],
    ids=[
        "n4sid",
        "oe",
        "ho_kalman",
        "fir_markov",
        "gauss_newton",
        "sequence_batches",
        "window_batches",
        "tile_windows",
        "estimate_initial_state",
        "loss",
    ],
)
def test_outputs_of_none_are_refused_by_name(call):
    """``y=None`` went through the front door and failed as ``'NoneType' object has no
    attribute ...`` or a TypeError where the outputs were first used."""
    with pytest.raises(DataError, match="y: the outputs are required, got None"):
        call()


@pytest.mark.parametrize("method", ["ho_kalman", "fir_markov"])
def test_baselines_on_data_whose_squares_overflow(method):
    """Finite data near the top of float64: a DataError asking to rescale, not an
    OverflowError from the ridge step (``ho_kalman`` at 1e150 still fits)."""
    call = {
        "ho_kalman": lambda s: bl.ho_kalman(U * s, Y * s, 2),
        "fir_markov": lambda s: bl.fir_markov(U * s, Y * s, 10),
    }[method]
    with pytest.raises(DataError, match="rescale"):
        call(1e300)
    call(1e150)
