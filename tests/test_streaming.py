"""Streaming fits: block-by-block normal equations, records on disk, memory independent of T."""

from __future__ import annotations

import numpy as np
import pytest

from learnlds import CanonicalSystem, gauss_newton, train
from learnlds.errors import ConvergenceWarning
from learnlds.train import LeastSquaresProblem, dense_normal_equations

CASES = [  # N, T, m, p, burn_in, learn_d
    (1, 5000, 1, 1, 0, True),
    (1, 5000, 1, 1, 2100, True),
    (3, 900, 2, 3, 100, True),
    (40, 120, 1, 2, 10, False),
    (500, 20, 1, 1, 5, True),
]


@pytest.mark.parametrize("block", [64, 1000, 8192])
@pytest.mark.parametrize(("N", "T", "m", "p", "b", "learn_d"), CASES)
def test_streaming_normal_equations_equal_dense(monkeypatch, block, N, T, m, p, b, learn_d):
    monkeypatch.setattr(train, "STREAM_BLOCK", block)
    rng = np.random.default_rng(N + T)
    u, y = rng.normal(size=(N, T, m)), rng.normal(size=(N, T, p))
    a = np.array([-0.6, 0.2, -0.05])
    c3, d3 = rng.normal(size=(3, p, m)), rng.normal(size=(p, m))
    prob = LeastSquaresProblem(u, y, b, 3, learn_d)
    sse, JtJ, Jtr = prob.normal_equations(a, c3, d3)
    sse0, JtJ0, Jtr0 = dense_normal_equations(prob, a, c3, d3)
    assert sse == pytest.approx(sse0, rel=1e-12)
    np.testing.assert_allclose(JtJ, JtJ0, rtol=1e-11, atol=1e-11 * np.abs(JtJ0).max())
    np.testing.assert_allclose(Jtr, Jtr0, rtol=1e-10, atol=1e-11 * np.abs(Jtr0).max())
    assert prob.sse(a, c3, d3) == pytest.approx(sse0, rel=1e-12)


def test_gauss_newton_independent_of_block(monkeypatch):
    truth = CanonicalSystem([-0.6, 0.2, -0.05], [1.0, -0.4, 0.3], 0.5)
    rng = np.random.default_rng(3)
    u = rng.normal(size=30_000)
    y = truth.simulate(u, noise_std=0.1, random_state=rng)
    ref = gauss_newton(u, y, order=3)
    monkeypatch.setattr(train, "STREAM_BLOCK", 777)
    res = gauss_newton(u, y, order=3)
    np.testing.assert_allclose(res.model.markov(50), ref.model.markov(50), atol=1e-9)
    assert res.n_steps == ref.n_steps


TRUTH = CanonicalSystem([-0.6, 0.2, -0.05], [1.0, -0.4, 0.3], 0.5)


def _record(tmp_path, T=20_000, dtype=np.float64):
    rng = np.random.default_rng(5)
    u = rng.normal(size=T)
    y = TRUTH.simulate(u, noise_std=0.1, random_state=rng)
    np.save(tmp_path / "u.npy", u.astype(dtype))
    np.save(tmp_path / "y.npy", y.astype(dtype))
    mu = np.load(tmp_path / "u.npy", mmap_mode="r")
    my = np.load(tmp_path / "y.npy", mmap_mode="r")
    return u.astype(dtype), y.astype(dtype), mu, my


def test_gauss_newton_on_memmap_equals_in_memory(tmp_path):
    u, y, mu, my = _record(tmp_path)
    ref = gauss_newton(u, y, order=3, burn_in=None)
    res = gauss_newton(mu, my, order=3, burn_in=None)
    np.testing.assert_allclose(res.model.markov(50), ref.model.markov(50), atol=1e-12)


def test_memmap_float32_is_streamed(tmp_path):
    u, y, mu, my = _record(tmp_path, dtype=np.float32)
    io = train.streaming_io(mu, my)
    assert io.u.dtype == np.float32 and np.shares_memory(io.u, mu)
    ref = gauss_newton(u.astype(float), y.astype(float), order=3)
    res = gauss_newton(mu, my, order=3)
    np.testing.assert_allclose(res.model.markov(50), ref.model.markov(50), atol=1e-12)


def test_streaming_io_refuses_nan_late_in_a_large_record(tmp_path):
    u, y, mu, my = _record(tmp_path)
    y[-3] = np.nan
    np.save(tmp_path / "bad.npy", y)
    from learnlds.errors import DataError

    with pytest.raises(DataError, match="y: contains NaN"):
        gauss_newton(mu, np.load(tmp_path / "bad.npy", mmap_mode="r"), order=2)
    with pytest.raises(DataError, match="lengths differ"):
        train.streaming_io(mu, np.load(tmp_path / "y.npy", mmap_mode="r")[:-1])


def test_n4sid_on_memmap_equals_in_memory(tmp_path):
    from learnlds.baselines import n4sid

    u, y, mu, my = _record(tmp_path)
    np.testing.assert_allclose(n4sid(mu, my, 3).markov(30), n4sid(u, y, 3).markov(30), atol=1e-12)


def test_peak_memory_independent_of_length(tmp_path, monkeypatch):
    """tracemalloc peak of a fit on a memory-mapped record: the same at 2e4 and 2e5 samples."""
    import tracemalloc

    from learnlds import baselines
    from learnlds.baselines import n4sid

    monkeypatch.setattr(baselines, "_CHUNK", 4096)  # both lengths span several blocks

    peaks = {}
    for T in (20_000, 200_000):
        _, _, mu, my = _record(tmp_path, T=T)
        with pytest.warns(ConvergenceWarning):
            gauss_newton(mu, my, order=3, max_iter=2)  # compiled and warm
        for name, fit in (
            ("gn", lambda mu=mu, my=my: gauss_newton(mu, my, order=3)),
            ("n4sid", lambda mu=mu, my=my: n4sid(mu, my, 3)),
        ):
            tracemalloc.start()
            fit()
            peaks[name, T] = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
    for name in ("gn", "n4sid"):
        assert peaks[name, 200_000] < 1.3 * peaks[name, 20_000] + 2**20, peaks
    assert peaks["gn", 200_000] < 4 * 2**20  # a few blocks, not 8 bytes x 2e5 x parameters


def test_open_npy_one_array_with_a_column_split(tmp_path):
    from learnlds.datasets import IOData
    from learnlds.datasets.readers import open_npy

    arr = np.random.default_rng(0).normal(size=(200, 4))
    np.save(tmp_path / "log.npy", arr)
    u, y = open_npy(tmp_path / "log.npy", input_cols=[0, 1])
    assert isinstance(u.base, np.memmap) and u.shape == (200, 2) and y.shape == (200, 2)
    np.testing.assert_array_equal(y, arr[:, 2:])
    u, y = open_npy(tmp_path / "log.npy")  # default: column 0 in, column 1 out
    np.testing.assert_array_equal(np.c_[u, y], arr[:, :2])
    data = IOData.from_file(tmp_path / "log.npy", output_cols=[3])
    np.testing.assert_array_equal(data.y[:, 0], arr[:, 3])
    assert data.columns_used == (("col0", "col1", "col2"), ("col3",))


def test_open_npy_pair_and_folder(tmp_path):
    from learnlds.datasets.readers import open_npy

    rng = np.random.default_rng(1)
    np.save(tmp_path / "run_u.npy", rng.normal(size=50))
    np.save(tmp_path / "run_y.npy", rng.normal(size=(50, 2)))
    u1, y1 = open_npy(tmp_path / "run_y.npy")
    u2, y2 = open_npy(tmp_path / "run_u.npy")
    assert u1.shape == (50, 1) and y1.shape == (50, 2) and isinstance(u1, np.memmap)
    np.testing.assert_array_equal(u1, u2)
    folder = tmp_path / "rec"
    folder.mkdir()
    np.save(folder / "u.npy", rng.normal(size=30))
    np.save(folder / "y.npy", rng.normal(size=30))
    assert open_npy(folder)[1].shape == (30, 1)


def test_open_npy_errors(tmp_path):
    from learnlds.datasets.readers import open_npy
    from learnlds.errors import DataError, FileFormatError

    np.save(tmp_path / "one.npy", np.zeros(10))
    with pytest.raises(FileFormatError, match="one channel"):
        open_npy(tmp_path / "one.npy")
    (tmp_path / "junk.npy").write_bytes(b"not numpy")
    with pytest.raises(FileFormatError, match="junk.npy"):
        open_npy(tmp_path / "junk.npy")
    np.save(tmp_path / "a_u.npy", np.zeros(10))
    np.save(tmp_path / "a_y.npy", np.zeros(11))
    with pytest.raises(DataError, match="different lengths"):
        open_npy(tmp_path / "a_u.npy")
    with pytest.raises(FileNotFoundError):
        open_npy(tmp_path / "missing.npy")


def test_fit_from_open_npy_streams(tmp_path):
    from learnlds.datasets.readers import open_npy

    rng = np.random.default_rng(2)
    u = rng.normal(size=20_000)
    y = TRUTH.simulate(u, noise_std=0.1, random_state=rng)
    np.save(tmp_path / "rec.npy", np.c_[u, y])
    mu, my = open_npy(tmp_path / "rec.npy")
    res = gauss_newton(mu, my, order=3)
    ref = gauss_newton(u, y, order=3)
    np.testing.assert_allclose(res.model.markov(40), ref.model.markov(40), atol=1e-12)


@pytest.mark.parametrize("demean", [True, False])
@pytest.mark.parametrize("standardize", [True, False])
def test_streaming_moments_equal_the_estimators(monkeypatch, demean, standardize):
    from learnlds.estimator import _moments

    monkeypatch.setattr(train, "STREAM_BLOCK", 1000)
    x = np.random.default_rng(0).normal(size=(2, 7000, 2)) * [3.0, 0.01] + [5.0, -2.0]
    off, scale, _ = _moments(x, demean, standardize)
    off2, scale2 = train.streaming_moments(x, demean=demean, standardize=standardize)
    np.testing.assert_allclose(off2, off, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(scale2, scale, rtol=1e-12)
    with pytest.raises(train.DataError, match="NaN"):
        train.streaming_moments(np.full((1, 5, 1), np.nan))


def test_standardised_fit_of_a_memmap_without_copying_it(tmp_path):
    """What LDSRegressor.fit does (centre, scale, fit), on a mapped record, lazily."""
    from learnlds.estimator import _moments
    from learnlds.train import ScaledRecord, streaming_io, streaming_moments

    rng = np.random.default_rng(9)
    u = 4.0 * rng.normal(size=30_000) + 1.0
    y = 0.01 * TRUTH.simulate(u, noise_std=0.1, random_state=rng) + 3.0
    np.save(tmp_path / "u.npy", u)
    np.save(tmp_path / "y.npy", y)
    io = streaming_io(
        np.load(tmp_path / "u.npy", mmap_mode="r"), np.load(tmp_path / "y.npy", mmap_mode="r")
    )
    uc = ScaledRecord(io.u, *streaming_moments(io.u))
    yc = ScaledRecord(io.y, *streaming_moments(io.y))
    assert isinstance(uc[:, :10], np.ndarray) and uc[:, :10].shape == (1, 10, 1)
    res = gauss_newton(uc, yc, order=3, sequences=True, burn_in=None)
    u3, y3 = u[None, :, None], y[None, :, None]
    ref = gauss_newton(
        _moments(u3, True, True)[2], _moments(y3, True, True)[2],
        order=3, sequences=True, burn_in=None,
    )  # fmt: skip
    np.testing.assert_allclose(res.model.markov(40), ref.model.markov(40), atol=1e-9)
    assert np.asarray(uc).shape == (1, 30_000, 1)


def test_a_shorter_step_spares_the_projection_inside_the_region(monkeypatch):
    """The first Gauss-Newton step out of the region is retried ten times more damped;
    inside and lower, it is taken (no quadratic programme), else projected as before."""
    from learnlds.region import PacmanRegion

    calls = []
    original = PacmanRegion.project
    monkeypatch.setattr(
        PacmanRegion,
        "project",
        lambda self, a, *k, **kw: calls.append(1) or original(self, a, *k, **kw),
    )
    truth = CanonicalSystem([-0.6, 0.2, -0.05], np.random.default_rng(0).normal(size=3), 0.5)
    rng = np.random.default_rng(1)
    u = rng.normal(size=10_000)
    y = truth.simulate(u, noise_std=0.1, random_state=rng)
    res = gauss_newton(u, y, order=3)
    r = truth.markov(200)
    assert np.linalg.norm(res.model.markov(200) - r) / np.linalg.norm(r) == pytest.approx(
        4.866e-3, rel=1e-3
    )
    assert res.n_steps == 10 and not calls
    outside = CanonicalSystem([-1.2, 0.5], [1.0, 0.3], 0.0)  # optimum on the boundary
    y2 = outside.simulate(u[:5000], noise_std=0.1, random_state=rng)
    with pytest.warns(ConvergenceWarning):  # slow along the boundary; a few steps suffice
        res2 = gauss_newton(u[:5000], y2, order=2, max_iter=5)
    assert calls and PacmanRegion().contains(res2.model.a)


def _mimo_record(tmp_path, T):
    """A 2-input 2-output order-3 record saved as .npy files, and their memory maps."""
    from learnlds.statespace import StateSpaceSystem

    rng = np.random.default_rng(4)
    truth = StateSpaceSystem(
        np.diag([0.9, 0.5, -0.3]),
        rng.normal(size=(3, 2)),
        rng.normal(size=(2, 3)),
        np.zeros((2, 2)),
    )
    u = rng.normal(size=(T, 2))
    y = truth.simulate(u) + 0.1 * rng.normal(size=(T, 2))
    np.save(tmp_path / f"u{T}.npy", u)
    np.save(tmp_path / f"y{T}.npy", y)
    mu = np.load(tmp_path / f"u{T}.npy", mmap_mode="r")
    return u, y, mu, np.load(tmp_path / f"y{T}.npy", mmap_mode="r")


def test_mimo_state_space_fit_on_memmap_equals_in_memory(tmp_path, monkeypatch):
    """The MIMO refinement reads a mapped record a block at a time: same model as in memory."""
    from learnlds import LDSRegressor, estimator, statespace

    monkeypatch.setattr(estimator, "_SCREEN_SAMPLES", 2000)  # screen a part, refine on all
    monkeypatch.setattr(statespace, "_SIM_CHUNK", 1500)  # blocks straddle the record
    u, y, mu, my = _mimo_record(tmp_path, 6000)
    on_disk = LDSRegressor(order=3, max_iter=20).fit(mu, my)
    in_memory = LDSRegressor(order=3, max_iter=20).fit(u, y)
    assert on_disk.structure_ == in_memory.structure_ == "state-space"
    np.testing.assert_allclose(
        on_disk.system_.markov(30), in_memory.system_.markov(30), rtol=1e-9, atol=1e-9
    )


@pytest.mark.slow
def test_mimo_fit_peak_memory_independent_of_length(tmp_path, monkeypatch):
    """tracemalloc peak of a MIMO state-space fit of a mapped record: flat from 1e5 to 4e5."""
    import tracemalloc

    from learnlds import LDSRegressor, estimator

    monkeypatch.setattr(estimator, "_SCREEN_SAMPLES", 5000)
    peaks = {}
    for T in (100_000, 400_000):
        _, _, mu, my = _mimo_record(tmp_path, T)
        LDSRegressor(order=3, max_iter=1).fit(mu[:6000], my[:6000])  # compiled and warm
        tracemalloc.start()
        LDSRegressor(order=3, max_iter=5).fit(mu, my)
        peaks[T] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peaks[400_000] < 1.3 * peaks[100_000] + 2**20, peaks
    assert peaks[400_000] < 400_000 * 4 * 8, peaks  # below one copy of the data


def _slice_lengths(monkeypatch) -> list[int]:
    """The time lengths of the slices read from zarr stores from now on (appended as read)."""
    from learnlds import records

    seen: list[int] = []
    real = records._StoreView.__getitem__
    monkeypatch.setattr(
        records._StoreView,
        "__getitem__",
        lambda self, key: seen.append(real(self, key).shape[1]) or real(self, key),
    )
    return seen


def _zarr_record(tmp_path, u, y, name="rec.zarr"):
    """``u``, ``y`` written as arrays of a zarr group; the group's path and arrays."""
    zarr = pytest.importorskip("zarr")
    group = zarr.open_group(str(tmp_path / name), mode="w")
    group.create_array("u", data=u, chunks=(1000,) + u.shape[1:])
    group.create_array("y", data=y, chunks=(1000,) + y.shape[1:])
    return tmp_path / name, group["u"], group["y"]


@pytest.mark.parametrize("mimo", [False, True])
def test_fit_of_a_zarr_record_equals_in_memory(tmp_path, monkeypatch, mimo):
    """A zarr record is streamed (never converted whole) and gives the in-memory model."""
    from learnlds import LDSRegressor

    if mimo:
        u, y, _, _ = _mimo_record(tmp_path, 4000)
    else:
        u = np.random.default_rng(2).normal(size=4000)
        y = TRUTH.simulate(u, noise_std=0.1, random_state=3)
    _, zu, zy = _zarr_record(tmp_path, u, y)
    seen = _slice_lengths(monkeypatch)
    on_disk = LDSRegressor(order=3, max_iter=20).fit(zu, zy)
    in_memory = LDSRegressor(order=3, max_iter=20).fit(u, y)
    np.testing.assert_allclose(
        on_disk.system_.markov(30), in_memory.system_.markov(30), rtol=1e-9, atol=1e-12
    )
    assert seen and max(seen) <= 4000  # read by slices (the screening part is the whole record)
    assert on_disk.n_features_in_ == in_memory.n_features_in_


def test_a_long_zarr_record_is_never_read_whole(tmp_path, monkeypatch):
    """Beyond the 20,000-sample screening part no slice covers the record (the constant-
    input check used to read it whole, twice); a constant input is still refused."""
    from learnlds import LDSRegressor
    from learnlds.errors import DataError

    u = np.random.default_rng(5).normal(size=30_000)
    _, zu, zy = _zarr_record(tmp_path, u, TRUTH.simulate(u))
    seen = _slice_lengths(monkeypatch)
    LDSRegressor(order=3, max_iter=3).fit(zu, zy)
    assert max(seen) <= 20_000
    _, flat, _ = _zarr_record(tmp_path, np.full(30_000, 2.0), u, name="flat.zarr")
    with pytest.raises(DataError, match="input column 0 .* constant"):
        LDSRegressor(order=1).fit(flat, zy)
    with pytest.raises(DataError, match="output column 0 .* constant"):
        LDSRegressor(order=1).fit(zu, flat)


def test_store_window_reads_only_its_samples(tmp_path):
    from learnlds.errors import DataError
    from learnlds.train import StoreWindow, is_chunked_store

    _, zu, _ = _zarr_record(tmp_path, np.arange(50.0), np.zeros(50))
    window = StoreWindow(zu, 10, 30)
    assert is_chunked_store(zu) and is_chunked_store(window) and not is_chunked_store(zu[:3])
    assert window.shape == (20,) and len(window) == 20
    np.testing.assert_array_equal(window[:5], np.arange(10.0, 15.0))
    np.testing.assert_array_equal(window[-1], 29.0)
    np.testing.assert_array_equal(window[15:100], np.arange(25.0, 30.0))
    with pytest.raises(DataError, match="outside"):
        StoreWindow(zu, 40, 60)


def test_cli_fits_a_zarr_record(tmp_path, capsys):
    from learnlds import cli
    from learnlds.errors import FileFormatError
    from learnlds.modelfile import load

    u = np.random.default_rng(5).normal(size=3000)
    path, _, _ = _zarr_record(tmp_path, u, TRUTH.simulate(u, noise_std=0.05, random_state=6))
    out = tmp_path / "model.json"
    assert cli.main(["fit", str(path), "--order", "3", "--out", str(out)]) == 0
    text = capsys.readouterr().err
    assert "3000 samples on disk" in text and "validation fit: " in text  # read blockwise
    model = load(out)
    assert np.linalg.norm(model.markov(40) - TRUTH.markov(40)) < 0.05 * np.linalg.norm(
        TRUTH.markov(40)
    )
    assert cli.main(["fit", str(path), "--input-col", "0", "--out", str(out)]) == 2
    assert "--input-col" in capsys.readouterr().err
    zarr = pytest.importorskip("zarr")
    zarr.open_group(str(tmp_path / "bad.zarr"), mode="w").create_array("u", data=u)
    from learnlds.datasets.readers import open_zarr

    with pytest.raises(FileFormatError, match="missing \\['y'\\]"):
        open_zarr(tmp_path / "bad.zarr")
    with pytest.raises(FileNotFoundError, match="no zarr store here"):
        open_zarr(tmp_path / "absent.zarr")
    (tmp_path / "empty.zarr").mkdir()
    with pytest.raises(FileFormatError, match="not a readable zarr group"):
        open_zarr(tmp_path / "empty.zarr")


def test_fit_state_space_builds_its_start_of_a_mapped_record_on_the_beginning(
    tmp_path, monkeypatch
):
    """start=None on a memory-mapped record: the subspace start sees only the first
    samples (in memory), the fit all of them (a block at a time); same model as in memory."""
    from learnlds import subspace
    from learnlds.subspace import fit_state_space

    monkeypatch.setattr(subspace, "_START_SAMPLES", 1500)
    seen = []
    real = subspace.subspace_id
    monkeypatch.setattr(
        subspace,
        "subspace_id",
        lambda u3, y3, order: seen.append(u3.shape[1]) or real(u3, y3, order),
    )
    u, y, mu, my = _mimo_record(tmp_path, 5000)
    mapped, _ = fit_state_space(mu[None], my[None], 3, x0="zero", max_iter=30)
    assert seen == [1500]
    start = real(u[None, :1500], y[None, :1500], 3)
    ref, _ = fit_state_space(u[None], y[None], 3, x0="zero", max_iter=30, start=start)
    np.testing.assert_allclose(mapped.markov(30), ref.markov(30), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("store", ["npy", "zarr"])
def test_holdout_fits_of_a_record_on_disk_equal_the_protocol(tmp_path, monkeypatch, store):
    """Blockwise fits (two passes per part, zero-state simulation carried across blocks)
    are holdout()'s to 1e-9, and a zarr record is never read in one piece."""
    from learnlds import LDSRegressor
    from learnlds.errors import DataError, ParameterError
    from learnlds.validate import holdout, holdout_fits

    u, y, um, ym = _mimo_record(tmp_path, 40_001)  # odd: the protocol's rounding
    model = LDSRegressor(order=3, max_iter=5).fit(u[:2000], y[:2000]).system_
    if store == "zarr":
        _, um, ym = _zarr_record(tmp_path, np.asarray(u), np.asarray(y) + 7.0)
        y = np.asarray(y) + 7.0  # offsets are removed per part
    seen = _slice_lengths(monkeypatch)
    est, val = holdout_fits(model, um, ym, split=0.3)
    whole = holdout(model, np.asarray(u), np.asarray(y), split=0.3)
    np.testing.assert_allclose(est, whole.estimation_fits, rtol=1e-9)
    np.testing.assert_allclose(val, whole.validation_fits, rtol=1e-9)
    if store == "zarr":
        assert seen and max(seen) < 10_000
    with pytest.raises(
        DataError, match="2 input\\(s\\) and 2 output\\(s\\), but the model takes 1"
    ):
        holdout_fits(TRUTH, um, ym)
    with pytest.raises(ParameterError, match="split"):
        holdout_fits(model, um, ym, split=1.0)
    with pytest.raises(ParameterError, match="model"):
        holdout_fits(LDSRegressor(), um, ym)


def test_cli_fit_on_disk_without_a_validation_part_reports_the_estimation_fit(tmp_path, capsys):
    """--validation-fraction 0 on a memory-mapped record: the fit on all of it, read a
    block at a time, equal to the estimator's score of the same model."""
    import re

    from learnlds import cli
    from learnlds.modelfile import load
    from learnlds.validate import fit_percent

    u = np.random.default_rng(8).normal(size=5000)
    y = TRUTH.simulate(u) + 0.2 * np.random.default_rng(9).normal(size=5000)
    np.save(tmp_path / "rec.npy", np.column_stack([u, y]))
    out = tmp_path / "m.json"
    args = ["fit", str(tmp_path / "rec.npy"), "--order", "3", "--validation-fraction", "0"]
    assert cli.main([*args, "--out", str(out)]) == 0
    said = float(re.search(r"estimation fit: ([-\d.]+) %", capsys.readouterr().err).group(1))
    model = load(out)
    assert said == pytest.approx(fit_percent(y - y.mean(), model.simulate(u - u.mean())), abs=0.006)
