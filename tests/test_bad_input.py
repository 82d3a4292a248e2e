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

from learnlds import (
    CanonicalSystem,
    LDSRegressor,
    delay,
    gauss_newton,
    holdout,
    load,
    plots,
    projected_sgd,
    records,
    risk,
    segment_profile,
    statespace,
    subspace,
)
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
from learnlds.validate import simulate_canonical

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


# --------------------------------------------------------------------------- audit leaks
def _npz(tmp_path, **arrays):
    path = tmp_path / "record.npz"
    np.savez(path, **arrays)
    return path


SS1 = StateSpaceSystem.from_canonical(TRUTH)
SHORT = 40  # samples: too few to test even a one-sample input delay (about 56 needed)

#: (what, the bad call, error, match, the valid call next to it). Each bad call leaked
#: a raw numpy/Python error (or answered silently) before it was fixed.
LEAKS = [
    (
        "state-space simulate of a ragged list",
        lambda: SS1.simulate([[1.0, 2.0], [3.0]] * 50),
        DataError,
        r"^u: cannot be read as an array",
        lambda: SS1.simulate(U[:50].tolist()),
    ),
    (
        "streaming_moments of a (T, k) record",
        lambda: records.streaming_moments(np.ones((10, 1))),
        DataError,
        r"^data: must be canonical \(N, T, k\).*got shape \(10, 1\); .* data\[None\]",
        lambda: records.streaming_moments(np.ones((1, 10, 1))),
    ),
    (
        "ScaledRecord of a (T, k) record",
        lambda: records.ScaledRecord(np.ones((10, 1)), 0.0, 1.0),
        DataError,
        r"^data: must be canonical \(N, T, k\)",
        lambda: records.ScaledRecord(np.ones((1, 10, 1)), 0, 1),
    ),
    (
        "ScaledRecord with a zero scale",
        lambda: records.ScaledRecord(np.ones((1, 10, 1)), 0, 0),
        ParameterError,
        r"^scale: must be positive",
        lambda: records.ScaledRecord(np.ones((1, 10, 2)), 0, [1, 2]),
    ),
    (
        "risk.lagged with a negative lag",
        lambda: risk.lagged(np.ones((1, 10, 1)), np.array([-1])),
        ParameterError,
        r"^lags: must be a 1-D array of non-negative integers",
        lambda: risk.lagged(np.ones((1, 10, 1)), np.array([0, 20])),
    ),
    (
        "risk.lagged of a (T, k) signal",
        lambda: risk.lagged(np.ones((10, 1)), np.array([1])),
        DataError,
        r"^sig: must be canonical \(N, T, k\)",
        lambda: risk.lagged(np.ones((2, 10, 3)), [1]),
    ),
    (
        "risk.mimo_parts with shapes that do not fit",
        lambda: risk.mimo_parts(
            np.ones(2), np.ones((2, 2, 2)), np.ones((2, 2)), np.ones((1, 10, 3))
        ),
        ParameterError,
        r"^a, c3, d3, u: shapes must be .* \(1, 10, 3\)",
        lambda: risk.mimo_parts(
            np.ones(2), np.ones((2, 2, 3)), np.ones((2, 3)), np.ones((1, 10, 3))
        ),
    ),
    (
        "IdentifiedSystem(info='x')",
        lambda: bl.IdentifiedSystem([0.1], [1.0], info="x"),
        ParameterError,
        r"^info: must be a dict of diagnostics or None, got str",
        lambda: bl.IdentifiedSystem([0.1], [1.0], method="arx", info={"na": 1}),
    ),
    (
        "a batch source that returns junk",
        lambda: projected_sgd(lambda g: "junk", order=2, steps=5),
        ParameterError,
        r"^source: must return a \(u, y\) pair of arrays .* got a str on its first call",
        lambda: projected_sgd(sequence_batches(U, Y), order=2, steps=2),
    ),
    (
        "a batch source that returns three arrays",
        lambda: projected_sgd(lambda g: (U, Y, Y), order=2, steps=5),
        ParameterError,
        r"^source: .* got a tuple of 3 item\(s\): ndarray",
        lambda: projected_sgd(lambda g: (U, Y), order=2, steps=2),
    ),
    (
        "segment_profile with an f that returns a string",
        lambda: segment_profile(lambda th: "x", [0.0], [1.0], 5),
        ParameterError,
        r"^f: must return a real number, got str 'x' at t=0",
        lambda: segment_profile(lambda th: np.float32(th[0]), [0], [1], 3),
    ),
    (
        "plots.io_data of arrays",
        lambda: plots.io_data((U, Y)),
        ParameterError,
        r"^data: must be an IOData record, got tuple",
        lambda: plots.io_data(IOData(U, Y), max_samples=50),
    ),
    (
        "projected_sgd at an order beyond the batches' length",
        lambda: projected_sgd(sequence_batches(U, Y), order=10**6),
        DataError,
        r"^order: 1000000 is larger than the data supports: .* 400 samples, .* at most 399",
        lambda: projected_sgd(sequence_batches(U[:50], Y[:50]), order=49, steps=1),  # fmt: skip
    ),
    (
        "projected_sgd at an order whose region memory cannot hold",
        lambda: projected_sgd(
            lambda g: (np.zeros((1, 10**6)), np.zeros((1, 10**6))), order=30_000, steps=1
        ),
        ParameterError,
        r"^order: the region's projection for 30000 coefficients needs about .* GiB, more "
        r"than .* region=None",
        lambda: projected_sgd(  # a region for a sane order is built and used
            lambda g: (np.zeros((1, 400)), np.zeros((1, 400))), order=30, steps=0
        ),  # fmt: skip
    ),
    (
        "gauss_newton at an order beyond the data (the same refusal)",
        lambda: gauss_newton(U, Y, order=10**6),
        DataError,
        r"^order: 1000000 is larger than the data supports",
        lambda: gauss_newton(U, Y, order=2),
    ),
    (
        "with_input_delay of a million samples",
        lambda: statespace.with_input_delay(SS1, 10**6),
        ParameterError,
        r"^delay: the delayed model's 1000002 x 1000002 state matrix .* needs about 7.28 TiB",
        lambda: statespace.with_input_delay(SS1, 300),
    ),
    (
        "a transposed (1, T) record",
        lambda: IOData(U[None], Y[None]),
        DataError,
        r"^u: 400 channels but only 1 sample\(s\); time runs along axis 0, .* pass u\.T",
        lambda: IOData(U[None].T, Y[None].T),
    ),
    (
        "select_order on 5 samples",
        lambda: subspace.select_order(U[None, :5, None], Y[None, :5, None], [1, 2], max_iter=5),
        DataError,
        r"^u3, y3: 5 samples per sequence are too short to choose an order: .* at least 13",
        lambda: subspace.select_order(U[None, :60, None], Y[None, :60, None], [1, 2], max_iter=5),
    ),
    (
        "random_state='seed' with method='gn'",
        lambda: LDSRegressor(order=2, random_state="seed").fit(U, Y),
        ParameterError,
        r"^random_state: must be None, a non-negative integer seed or a numpy Generator",
        lambda: LDSRegressor(order=2, random_state=np.random.RandomState(0)).fit(U, Y),
    ),
    (
        "estimate_delay on a record too short to test a delay",
        lambda: delay.estimate_delay(U[:SHORT], Y[:SHORT]),
        DataError,
        r"^u, y: 40 samples per sequence are too short to estimate an input delay",
        lambda: delay.estimate_delay(U, Y),
    ),
    (
        "markov_tail_length of a string",
        lambda: risk.markov_tail_length("model"),
        ParameterError,
        r"^models: must be a tuple of systems, got str",
        lambda: risk.markov_tail_length([TRUTH, SS1]),
    ),
    (
        "markov_tail_length of a non-system",
        lambda: risk.markov_tail_length((TRUTH, None)),
        ParameterError,
        r"^models: need one or more systems",
        lambda: risk.markov_tail_length((TRUTH,)),
    ),
    (
        "simulate_canonical of a non-system",
        lambda: simulate_canonical("model", U[None, :, None]),
        ParameterError,
        r"^models: 'str' has no simulate method",
        lambda: simulate_canonical(LDSRegressor(order=1).fit(U, Y), U[None, :, None]),
    ),
    (
        "simulate_canonical of a (T,) input",
        lambda: simulate_canonical(TRUTH, U),
        DataError,
        r"^u3: must be canonical \(N, T, m\) inputs, got shape \(400,\)",
        lambda: simulate_canonical(SS1, U[None, :, None]),
    ),
    (
        "restore_output with the wrong channel count and no offsets",
        lambda: IOData(U, Y).restore_output(np.ones((10, 3))),
        DataError,
        r"^y_pred: expected 1 columns, got shape \(10, 3\)",
        lambda: IOData(U, Y).restore_output(np.ones((10, 1))),
    ),
    (
        "plots.predictions of a string",
        lambda: plots.predictions(U, Y, "snapshots"),
        ParameterError,
        r"^snapshots: must be a sequence of \(step, model\) pairs, got str",
        lambda: plots.predictions(U, Y, [(0, TRUTH), [5, SS1]]),
    ),
    (
        "plots.predictions with a fractional step",
        lambda: plots.predictions(U, Y, [(1.5, TRUTH)]),
        ParameterError,
        r"^snapshots\[0\] step: must be an integer",
        lambda: plots.predictions(U, Y, [(np.int64(1), TRUTH)]),
    ),
    (
        "plots.compare_plot on a string for axes",
        lambda: plots.compare_plot(TRUTH, U, Y, ax="axes"),
        ParameterError,
        r"^ax: must be a matplotlib Axes or None, got str",
        lambda: plots.compare_plot(TRUTH, U, Y, ax=plots.pacman([0.1, 0.2]).axes[0]),
    ),
    (
        "plots.bode_plot on a string for the figure",
        lambda: plots.bode_plot(TRUTH, fig="figure"),
        ParameterError,
        r"^fig: must be a matplotlib Figure or None, got str",
        lambda: plots.bode_plot(TRUTH, fig=plots.pacman([0.1, 0.2])),
    ),
]


@pytest.mark.parametrize("what,bad,error,match,valid", LEAKS, ids=[c[0] for c in LEAKS])
def test_audit_leaks_are_refused_by_name(what, bad, error, match, valid):
    """Each once a raw ValueError/IndexError/AttributeError/MemoryError or a silent answer."""
    with pytest.raises(error, match=match):
        bad()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the valid calls' own warnings are not the point
        valid()


def test_open_npy_names_an_archives_arrays(tmp_path):
    """An .npz archive failed as ``'NpzFile' object has no attribute 'ndim'``."""
    from learnlds.datasets.readers import open_npy

    with pytest.raises(FileFormatError, match=r"npz archive.* holds \['a'\], without .*'u'"):
        open_npy(_npz(tmp_path, a=np.ones(5)))
    with pytest.raises(FileFormatError, match="'u' and 'y' cannot be memory-mapped"):
        open_npy(_npz(tmp_path, u=U, y=Y))
    assert len(IOData.from_file(_npz(tmp_path, u=U, y=Y))) == len(U)  # read whole: fine
    np.save(tmp_path / "log.npy", np.c_[U, Y])
    assert open_npy(tmp_path / "log.npy")[0].shape == (len(U), 1)


def test_learnlds_reduce_is_the_function():
    """The package exports the function under its module's name (a documented wart:
    ``import learnlds.reduce as m`` gives the function; the module is in
    ``sys.modules``)."""
    import sys

    import learnlds

    big = CanonicalSystem.random_stable(4, 0.8, random_state=0)
    assert learnlds.reduce(big, 2).order == 2
    assert sys.modules["learnlds.reduce"].hankel_singular_values(big).shape == (4,)


def test_estimated_delay_on_a_short_record_fits_without_one_and_says_so():
    """``input_delay='auto'`` where no delay can be tested: a warning naming the length,
    the fit without a delay (it was a silent untested 0)."""
    with pytest.warns(UserWarning, match=r"input_delay='auto': u, y: 40 samples .* too short"):
        est = LDSRegressor(order=2, input_delay="auto").fit(U[:SHORT], Y[:SHORT])
    assert est.input_delay_.tolist() == [0] and est.get_params()["input_delay"] == "auto"


def test_save_npy_stack_refuses_a_file_for_its_folder(tmp_path):
    """Once a NotADirectoryError naming ``folder/u`` (after nothing was checked)."""
    from learnlds.distributed import save_npy_stack

    plain = tmp_path / "plain"
    plain.write_text("x")
    with pytest.raises(ParameterError, match=r"^folder: .*plain is a file"):
        save_npy_stack(plain, np.ones((3, 100)), np.ones((3, 100)))
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "u").write_text("x")
    with pytest.raises(ParameterError, match=r"^folder/u: .* is a file"):
        save_npy_stack(tmp_path / "dir", np.ones((3, 100)), np.ones((3, 100)))
    assert save_npy_stack(tmp_path / "ok", np.ones((3, 100)), np.ones((3, 100))).is_dir()


def test_report_refuses_snapshots_that_are_not_pairs(tmp_path):
    """Once a ValueError from ``int('x')`` deep inside the page's animation."""
    from learnlds.datasets import synthetic_dryer
    from learnlds.report import write_report

    d = synthetic_dryer(200)
    kw = {"data": d, "model": d.truth, "surface_views": 1, "save_figures": False}
    with pytest.raises(ParameterError, match=r"^snapshots: must be a sequence"):
        write_report(tmp_path / "a", snapshots="x", **kw)
    with pytest.raises(ParameterError, match=r"^transfer\[1\]\[0\]: must be a \(step, model\)"):
        write_report(tmp_path / "b", transfer=(d.truth, [d.truth]), **kw)
    with pytest.raises(ParameterError, match=r"^transfer: must be a \(truth, snapshots\) pair"):
        write_report(tmp_path / "c", transfer=d.truth, **kw)
