"""Tests for learnlds.datasets: IOData, readers, DaISy loading and download, PRBS, dryer."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import socket
import threading
import warnings
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SHIPPED, daisy_path

import learnlds.datasets.daisy as daisy_module
from learnlds.datasets import (
    CITATION,
    DAISY,
    DAISY_URL_ENV,
    DATA_ENV,
    IOData,
    daisy_cache_dir,
    find_daisy,
    load_daisy,
    prbs,
    read_table,
    synthetic_dryer,
    synthetic_dryer_system,
)
from learnlds.errors import DataError, FileFormatError, ParameterError, UnsupportedShapeError

PACKAGE_DATA = resources.files("learnlds.datasets") / "data"


# --------------------------------------------------------------------------- fixtures
@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No LEARNLDS_DATA, an empty temporary cache; returns the cache folder."""
    monkeypatch.delenv(DATA_ENV, raising=False)
    monkeypatch.delenv(DAISY_URL_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    cache = daisy_cache_dir()
    assert cache == tmp_path / "xdg" / "learnlds" / "daisy"
    return cache


@pytest.fixture
def unshipped(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """As ``isolated``, and the shipped copies hidden (as if the package lacked them)."""
    monkeypatch.setattr(daisy_module, "_shipped", lambda entry: None)
    return isolated


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # keep pytest output clean
        pass


@pytest.fixture
def serve() -> Iterator:
    """Start an HTTP server on 127.0.0.1 serving a folder; returns its base URL."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(root: Path) -> str:
        handler = functools.partial(_Quiet, directory=str(root))
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return f"http://127.0.0.1:{srv.server_address[1]}/"

    yield start
    for srv in servers:
        srv.shutdown()
        srv.server_close()


def _shipped_bytes(name: str) -> bytes:
    return (PACKAGE_DATA / DAISY[name].filename).read_bytes()


def _daisy_tree(root: Path, content: bytes, name: str = "dryer") -> None:
    entry = DAISY[name]
    target = root / entry.relative_url
    target.parent.mkdir(parents=True)
    target.write_bytes(gzip.compress(content))


# --------------------------------------------------------------------------- shipped data
def test_exactly_the_three_small_sets_ship() -> None:
    assert SHIPPED == ("dryer", "ballbeam", "flutter")
    files = sorted(p.name for p in PACKAGE_DATA.iterdir() if p.name.endswith(".dat"))
    assert files == ["ballbeam.dat", "dryer.dat", "flutter.dat"]
    for name in SHIPPED:
        entry = DAISY[name]
        assert hashlib.sha256(_shipped_bytes(name)).hexdigest() == entry.sha256
        readme = (PACKAGE_DATA / f"{name}.README.md").read_text(encoding="utf-8")
        assert f"[{entry.daisy_id}]" in readme and entry.daisy_id in entry.description
        assert "De Moor B.L.R. (ed.), DaISy: Database for the Identification of Systems" in readme
        assert "ESAT/STADIUS, KU Leuven" in readme and entry.sha256 in readme
    assert "ESAT/STADIUS" in CITATION
    assert not any(DAISY[n].shipped for n in ("CD_player_arm", "glassfurnace", "cstr"))


@pytest.mark.parametrize("name, T", [("dryer", 1000), ("ballbeam", 1000), ("flutter", 1024)])
def test_shipped_sets_load_offline(isolated: Path, name: str, T: int, monkeypatch) -> None:
    monkeypatch.setenv(DAISY_URL_ENV, "http://127.0.0.1:1/")  # any download would fail
    data = load_daisy(name, download=False)
    assert len(data) == T and data.is_siso and not data.synthetic and data.name == name
    assert Path(data.source).parent.name == "data" and Path(data.source).name == f"{name}.dat"
    assert find_daisy(name) == Path(data.source)
    assert not isolated.exists()  # nothing was cached or downloaded


def test_dryer_columns_and_metadata(isolated: Path) -> None:
    dryer = load_daisy("dryer")
    raw = np.loadtxt(find_daisy("dryer"))
    np.testing.assert_array_equal(dryer.u1, raw[:, 0])
    np.testing.assert_array_equal(dryer.y1, raw[:, 1])
    assert set(np.unique(dryer.u1)) == {3.41, 6.41}
    assert dryer.dt == 0.08 and dryer.input_units == ("V",)
    assert "heater" in dryer.input_names[0] and "temperature" in dryer.output_names[0]
    assert "96-006" in dryer.description
    assert load_daisy("BallBeam.dat").dt == 0.1  # case and suffix tolerant


def test_env_folder_comes_before_the_shipped_copy(isolated: Path, tmp_path: Path, monkeypatch):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "flutter.dat").write_bytes(_shipped_bytes("flutter"))
    monkeypatch.setenv(DATA_ENV, str(folder))
    assert find_daisy("flutter") == folder / "flutter.dat"
    assert load_daisy("flutter").source == str(folder / "flutter.dat")
    assert find_daisy("dryer").parent.name == "data"  # not in the folder: the shipped copy


def test_shipped_copy_comes_before_the_cache(isolated: Path) -> None:
    isolated.mkdir(parents=True)
    (isolated / "dryer.dat").write_bytes(b"1 2\n")
    assert load_daisy("dryer").source != str(isolated / "dryer.dat")


# --------------------------------------------------------------------------- larger sets
@pytest.mark.parametrize(
    "name, T, nu, ny",
    [("CD_player_arm", 2048, 2, 2), ("glassfurnace", 1247, 3, 6), ("cstr", 7500, 1, 2)],
)
def test_larger_sets(name: str, T: int, nu: int, ny: int) -> None:
    path = daisy_path(name)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == DAISY[name].sha256
    data = load_daisy(name, path=path.parent)
    assert len(data) == T and data.u.shape == (T, nu) and data.y.shape == (T, ny)
    assert not data.synthetic and data.name == name and DAISY[name].shape[0] == T


def test_larger_set_columns() -> None:
    glass_path = daisy_path("glassfurnace")
    glass = load_daisy("glassfurnace", path=glass_path)
    raw = np.loadtxt(glass_path)
    np.testing.assert_array_equal(glass.u, raw[:, 1:4])  # column 1 (1-based) is an index
    np.testing.assert_array_equal(glass.y, raw[:, 4:10])
    # read as a plain file, the index column is recognised and not taken as the input
    plain = IOData.from_file(glass_path)
    np.testing.assert_array_equal(plain.u1, raw[:, 1])
    assert "skipped time/index column 'col0'" in plain.column_note

    cstr_path = daisy_path("cstr")
    cstr = load_daisy("CSTR.dat", path=cstr_path.parent)  # case and suffix tolerant
    raw = np.loadtxt(cstr_path)
    np.testing.assert_array_equal(cstr.u1, raw[:, 1])
    np.testing.assert_array_equal(cstr.y, raw[:, 2:4])
    assert cstr.dt == 0.1 and cstr.time_unit == "min"
    assert IOData.from_file(cstr_path).columns_used == (("col1",), ("col2",))


# --------------------------------------------------------------------------- look-up errors
def test_find_daisy_missing(isolated: Path, tmp_path: Path) -> None:
    assert find_daisy("cstr") is None
    assert find_daisy("dryer", path=tmp_path / "nowhere") is None
    with pytest.raises(ParameterError, match="unknown DaISy set 'hairdryer'; known sets: dryer"):
        find_daisy("hairdryer")
    with pytest.raises(ParameterError, match="name: a DaISy set name is a string"):
        load_daisy(3)


def test_sha256_mismatch_local(tmp_path: Path) -> None:
    bad = tmp_path / "dryer.dat"
    bad.write_bytes(_shipped_bytes("dryer").replace(b"4.7660989", b"4.7660990", 1))
    with pytest.raises(FileFormatError, match=r"sha256 .* does not match .*verify=False"):
        load_daisy("dryer", path=bad)
    data = load_daisy("dryer", path=tmp_path, verify=False)
    assert data.y1[0] == pytest.approx(4.7660990)


def test_explicit_path_missing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope.dat: no such file or folder"):
        load_daisy("dryer", path=tmp_path / "nope.dat")
    with pytest.raises(FileNotFoundError, match="folder has no dryer.dat"):
        load_daisy("dryer", path=tmp_path)


def test_load_daisy_parameters() -> None:
    with pytest.raises(ParameterError, match="verify: must be True or False"):
        load_daisy("dryer", verify="yes")
    with pytest.raises(ParameterError, match="timeout"):
        load_daisy("dryer", timeout=0)


def test_local_gzip_is_read(tmp_path: Path) -> None:
    (tmp_path / "ballbeam.dat.gz").write_bytes(gzip.compress(_shipped_bytes("ballbeam")))
    assert len(load_daisy("ballbeam", path=tmp_path)) == 1000


# --------------------------------------------------------------------------- downloads
def test_download_to_cache(unshipped: Path, tmp_path: Path, serve, monkeypatch) -> None:
    root = tmp_path / "www"
    _daisy_tree(root / "SISTA" / "data", _shipped_bytes("dryer"))
    base = serve(root)
    monkeypatch.setenv(DAISY_URL_ENV, base + "SISTA/data")  # no trailing slash on purpose
    assert DAISY["dryer"].urls() == [base + "SISTA/data/mechanical/dryer.dat.gz"]
    assert find_daisy("dryer") is None
    data = load_daisy("dryer")
    cached = unshipped / "dryer.dat"
    assert cached.is_file()
    assert hashlib.sha256(cached.read_bytes()).hexdigest() == DAISY["dryer"].sha256
    assert data.source == str(cached) and len(data) == 1000
    assert find_daisy("dryer") == cached
    assert [p.name for p in unshipped.iterdir()] == ["dryer.dat"]  # no partial files left
    # second call is served from the cache, even with the server unreachable
    monkeypatch.setenv(DAISY_URL_ENV, "http://127.0.0.1:1/")
    assert len(load_daisy("dryer")) == 1000


def test_download_corrupted(unshipped: Path, tmp_path: Path, serve, monkeypatch) -> None:
    raw = _shipped_bytes("dryer")
    _daisy_tree(tmp_path / "www", raw[:-20] + b"9" * 20)
    monkeypatch.setenv(DAISY_URL_ENV, serve(tmp_path / "www"))
    with pytest.raises(FileFormatError, match=r"sha256 verification failed .*nothing was stored"):
        load_daisy("dryer")
    assert not unshipped.exists() or not any(unshipped.iterdir())


def test_download_missing_file_on_server(isolated: Path, tmp_path: Path, serve, monkeypatch):
    (tmp_path / "www").mkdir()
    monkeypatch.setenv(DAISY_URL_ENV, serve(tmp_path / "www"))
    with pytest.raises(FileNotFoundError, match=r"404"):
        load_daisy("cstr")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_download_unreachable_says_what_to_do(isolated: Path, monkeypatch, tmp_path: Path) -> None:
    base = f"http://127.0.0.1:{_closed_port()}/daisy/"
    monkeypatch.setenv(DAISY_URL_ENV, base)
    with pytest.raises(FileNotFoundError) as info:
        load_daisy("glassfurnace", timeout=5)
    msg = str(info.value)
    assert f"Download {base}process_industry/glassfurnace.dat.gz" in msg
    assert "put glassfurnace.dat in" in msg and str(isolated) in msg and DATA_ENV in msg
    assert "shared" not in msg
    # with LEARNLDS_DATA set, the message names that folder
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "mydata"))
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "mydata")):
        load_daisy("glassfurnace", timeout=5)


def test_download_disabled(isolated: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"download=False.*Download https://"):
        load_daisy("cstr", download=False)


# --------------------------------------------------------------------------- IOData
def test_iodata_basics() -> None:
    t = np.arange(10.0)
    d = IOData.from_arrays(t, 2 * t + 1, dt=0.5, name="ramp")
    assert len(d) == 10 and d.u.shape == (10, 1) and d.is_siso
    assert d.input_names == ("u",) and d.output_names == ("y",) and d.input_units == ("",)
    assert d.columns_used is None and d.column_note == ""
    np.testing.assert_array_equal(d.time, 0.5 * t)
    with pytest.raises(ValueError):
        d.u[0, 0] = 3.0  # read-only
    assert "ramp" in repr(d) and "T=10" in repr(d)


@pytest.mark.parametrize(
    "args, kwargs, error, pattern",
    [
        ((np.zeros(5), np.zeros(4)), {}, DataError, "same number of samples, got 5 and 4"),
        (([1.0, np.nan], [1.0, 2.0]), {}, DataError, "u: contains NaN"),
        (([1.0, 2.0], [1.0, np.inf]), {}, DataError, "y: contains inf"),
        ((["a", "b"], [1.0, 2.0]), {}, DataError, "u: must be numeric"),
        ((np.zeros((2, 2, 2)), np.zeros(2)), {}, DataError, "u: must be 1-D or 2-D"),
        ((np.zeros(0), np.zeros(0)), {}, DataError, "empty"),
        (([1.0], [1.0]), {"dt": 0}, ParameterError, "dt: the sampling time must be finite and > 0"),
        (([1.0], [1.0]), {"dt": "0.1"}, ParameterError, "dt: must be a number or None"),
        (
            (np.zeros((3, 2)), np.zeros(3)),
            {"input_names": ["a"]},
            ParameterError,
            "input_names: expected 2 entries",
        ),
        (([1.0], [1.0]), {"truth": "G"}, ParameterError, "truth: must be a CanonicalSystem"),
    ],
)
def test_iodata_validation(args, kwargs, error, pattern) -> None:
    with pytest.raises(error, match=pattern):
        IOData.from_arrays(*args, **kwargs)


def test_detrend_and_restore() -> None:
    rng = np.random.default_rng(1)
    u = rng.normal(3.0, 1.0, size=(200, 2))
    y = rng.normal(-5.0, 1.0, size=200)
    d = IOData.from_arrays(u, y)
    dd = d.detrend()
    assert d.offsets is None
    np.testing.assert_allclose(dd.u.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(dd.offsets[0], u.mean(axis=0))
    np.testing.assert_allclose(dd.offsets[1], [y.mean()])
    np.testing.assert_allclose(dd.restore_output(dd.y1), y)
    np.testing.assert_allclose(dd.restore_output(dd.y), y[:, None])
    np.testing.assert_allclose(dd.detrend().offsets[1], [y.mean()])  # accumulates, stays put
    est, val = dd.split(0.75)
    assert len(est) == 150 and len(val) == 50 and est.offsets is not None
    np.testing.assert_allclose(val.restore_output(val.y1), y[150:])
    with pytest.raises(DataError, match="y_pred: expected 1 columns"):
        dd.restore_output(np.zeros((200, 2)))


def test_split() -> None:
    d = synthetic_dryer(T=101)
    est, val = d.split()
    assert (len(est), len(val)) == (50, 51)
    np.testing.assert_array_equal(np.concatenate((est.u1, val.u1)), d.u1)
    assert est.truth is d.truth and est.dt == d.dt and "estimation" in est.name
    for bad in (0.0, 1.0, -0.1, 2, "half"):
        with pytest.raises(ParameterError, match="fraction"):
            d.split(bad)
    with pytest.raises(DataError, match="empty part"):
        IOData.from_arrays([1.0, 2.0], [1.0, 2.0]).split(0.1)


def test_select_and_siso_views() -> None:
    d = IOData.from_arrays(np.zeros((4, 2)), np.ones((4, 3)), output_names=["a", "b", "c"])
    with pytest.raises(UnsupportedShapeError, match="2 inputs, not 1"):
        _ = d.u1
    s = d.select(inputs=1, outputs=["c", "a"])
    assert s.output_names == ("c", "a") and s.input_names == ("u2",)
    with pytest.raises(ParameterError, match=r"unknown output column 'z'; available: 'a', 'b'"):
        d.select(outputs="z")
    with pytest.raises(ParameterError, match="listed twice"):
        d.select(outputs=["a", 0])


def test_from_pandas() -> None:
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"t": np.arange(5.0), "volt": np.arange(5.0), "temp": np.arange(5.0) ** 2})
    d = IOData.from_pandas(df, "volt", ["temp"], dt=0.1)
    assert d.input_names == ("volt",) and d.output_names == ("temp",) and d.dt == 0.1
    assert d.columns_used == (("volt",), ("temp",))
    np.testing.assert_array_equal(d.y1, np.arange(5.0) ** 2)
    with pytest.raises(ParameterError, match=r"unknown output column 'tmp'; available: 't'"):
        IOData.from_pandas(df, "volt", "tmp")
    with pytest.raises(ParameterError, match="df: expected a pandas DataFrame"):
        IOData.from_pandas(np.zeros((3, 2)), 0, 1)
    df.loc[2, "temp"] = np.nan
    with pytest.raises(DataError, match="column 'temp' contains NaN"):
        IOData.from_pandas(df, "volt", "temp")
    back = synthetic_dryer(T=20).to_pandas()
    assert list(back.columns) == ["heater voltage", "outlet air temperature"]


# --------------------------------------------------------------------------- from_file
def test_from_file_csv(tmp_path: Path) -> None:
    p = tmp_path / "run.csv"
    p.write_text("# a comment\ntime,volt,temp\n0,1.5,10\n0.1,2.5,11\n0.2,3.5,12\n")
    d = IOData.from_file(p)  # the time column is never a signal by default
    assert d.input_names == ("volt",) and d.output_names == ("temp",) and d.name == "run"
    assert d.columns_used == (("volt",), ("temp",))
    assert "skipped time/index column 'time' (column 0)" in d.column_note
    d = IOData.from_file(p, input_cols="volt", output_cols=2, dt=0.1)
    np.testing.assert_array_equal(d.u1, [1.5, 2.5, 3.5])
    np.testing.assert_array_equal(d.y1, [10, 11, 12])
    assert d.output_names == ("temp",) and d.dt == 0.1 and d.source == str(p)
    assert d.column_note == ""  # the caller chose
    d = IOData.from_file(p, input_cols=["time", "volt"])  # outputs: the rest
    assert d.u.shape == (3, 2) and d.output_names == ("temp",)
    d = IOData.from_file(p, output_cols="temp")  # inputs: the rest but the time column
    assert d.input_names == ("volt",)
    with pytest.raises(
        ParameterError, match=r"unknown input column 'voltage'; available: 'time', 'volt', 'temp'"
    ):
        IOData.from_file(p, input_cols="voltage", output_cols="temp")
    with pytest.raises(ParameterError, match="index 3 is out of range; there are 3 columns"):
        IOData.from_file(p, input_cols=3, output_cols=1)
    with pytest.raises(ParameterError, match="both input and output"):
        IOData.from_file(p, input_cols="volt", output_cols=["volt"])
    q = tmp_path / "semi.csv"
    q.write_text('"u (V)";"y (V)"\n1;2\n3;4\n')
    assert IOData.from_file(q).input_names == ("u (V)",)


@pytest.mark.parametrize(
    "header", ["t", "Time", "time (s)", "t [s]", "time_s", "index", "idx", "Sample", "n", "k"]
)
def test_time_like_headers_are_skipped(tmp_path: Path, header: str) -> None:
    p = tmp_path / "log.csv"
    p.write_text(f"{header},heater,temp\n0,1,20\n1,2,21\n2,1,22\n")
    d = IOData.from_file(p)
    assert d.columns_used == (("heater",), ("temp",))
    assert f"skipped time/index column {header!r}" in d.column_note


UNEVEN = "is not {} (steps {}): no dt taken from it, and the samples are modelled"


@pytest.mark.parametrize(
    "header,times,dt,said",
    [
        ("time", "0,0.1,0.2,0.3", 0.1, "dt 0.1 from the time column 'time'"),
        # dt is in seconds everywhere: a column in ms was taken as 5 s before
        ("t [ms]", "5,10,15,20", 0.005, "dt 0.005 s from the time column 't [ms]' (5 ms)"),
        ("time_min", "0,0.5,1,1.5", 30.0, "dt 30 s from the time column 'time_min' (0.5 min)"),
        ("tmins", "0,0.5,1,1.5", 30.0, "dt 30 s from the time column 'tmins' (0.5 mins)"),
        ("time [hh:mm]", "1,2,3,4", None, "unit 'hh:mm' not understood, so no dt taken"),
        ("Time (s)", "1.2,1.4,1.6,1.8", 0.2, "dt 0.2 from the time column 'Time (s)'"),
        ("index", "0,1,2,3", None, ""),  # a sample index is not a sampling time
        ("sample", "0,1,2,3", None, ""),
        (
            "time",
            "0,0.1,0.3,0.4",
            None,
            UNEVEN.format("evenly spaced", "0.1 to 0.2"),
        ),  # said, not silent
        ("time", "0.3,0.2,0.1,0", None, UNEVEN.format("increasing", "-0.1 to -0.1")),  # decreasing
    ],
)
def test_sampling_time_from_a_time_column(tmp_path: Path, header, times, dt, said) -> None:
    p = tmp_path / "log.csv"
    rows = "".join(f"{t},{k},{k * k}\n" for k, t in enumerate(times.split(",")))
    p.write_text(f"{header},heater,temp\n{rows}")
    d = IOData.from_file(p)
    assert d.dt == dt and said in d.column_note
    assert ("no dt taken" in d.column_note) == ("no dt" in said)
    d = IOData.from_file(p, input_cols="heater", output_cols="temp")
    assert d.dt == dt and d.column_note.startswith(f"{p}: " if said else "")
    assert said in d.column_note
    given = IOData.from_file(p, dt=0.5)
    assert given.dt == 0.5 and "no dt" not in given.column_note  # the caller's dt wins


def test_default_choice_is_reported(tmp_path: Path) -> None:
    p = tmp_path / "four.csv"
    p.write_text("a,b,c,d\n1,2,3,4\n5,6,7,9\n2,2,2,2\n")
    d = IOData.from_file(p)
    assert d.columns_used == (("a",), ("b",))
    assert d.column_note.endswith(
        "used column 'a' (column 0) as input and 'b' (column 1) as output; "
        "not used: 'c' (column 2), 'd' (column 3); choose columns with input_cols= and "
        "output_cols= (CLI: --input-col, --output-col)"
    )
    two = tmp_path / "two.dat"
    two.write_text("1 2\n3 4\n5 6\n")
    assert IOData.from_file(two).column_note == ""  # nothing to choose
    only_time = tmp_path / "only_time.csv"
    only_time.write_text("time,y\n0,1\n1,2\n")
    with pytest.raises(DataError, match="besides the time/index column 'time'"):
        IOData.from_file(only_time)


def test_headerless_index_column(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    data = np.column_stack((np.arange(1.0, 21.0), rng.normal(size=20), rng.normal(size=20)))
    p = tmp_path / "indexed.dat"
    np.savetxt(p, data)
    d = IOData.from_file(p)
    np.testing.assert_array_equal(d.u1, data[:, 1])
    np.testing.assert_array_equal(d.y1, data[:, 2])
    assert d.columns_used == (("col1",), ("col2",))
    assert "skipped time/index column 'col0'" in d.column_note
    # a first column that is a signal (not evenly increasing) is used
    data[:, 0] = rng.normal(size=20)
    np.savetxt(p, data)
    assert IOData.from_file(p).columns_used == (("col0",), ("col1",))


def test_from_file_dat_and_txt(tmp_path: Path) -> None:
    arr = np.array([[1.0, 2.0, 3.0], [-4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])
    p = tmp_path / "x.dat"
    np.savetxt(p, arr)
    d = IOData.from_file(p)
    np.testing.assert_array_equal(d.u1, arr[:, 0])
    np.testing.assert_array_equal(d.y1, arr[:, 1])
    assert d.input_names == ("u",) and d.columns_used == (("col0",), ("col1",))
    d = IOData.from_file(p, input_cols=[0, "col1"], output_cols=-1)
    np.testing.assert_array_equal(d.y1, arr[:, 2])
    q = tmp_path / "x.txt"
    q.write_text("% matlab comment\nu1 u2 y\n" + "\n".join(" ".join(map(str, r)) for r in arr))
    d = IOData.from_file(q, output_cols="y")
    assert d.input_names == ("u1", "u2")
    g = tmp_path / "x.dat.gz"
    g.write_bytes(gzip.compress(p.read_bytes()))
    assert IOData.from_file(g).name == "x" and len(IOData.from_file(g)) == 3
    header, table = read_table(q)
    assert header == ["u1", "u2", "y"] and table.shape == (3, 3)


def test_from_file_npz(tmp_path: Path) -> None:
    p = tmp_path / "exp.npz"
    np.savez(p, u=np.arange(6.0), y=np.arange(12.0).reshape(6, 2), dt=0.25, output_names=["a", "b"])
    d = IOData.from_file(p)
    assert d.u.shape == (6, 1) and d.y.shape == (6, 2) and d.dt == 0.25
    assert d.output_names == ("a", "b")
    assert IOData.from_file(p, output_cols="b").output_names == ("b",)
    q = tmp_path / "io.npz"
    np.savez(q, input=np.zeros(3), output=np.ones(3))
    assert len(IOData.from_file(q, dt=1.0)) == 3
    r = tmp_path / "bad.npz"
    np.savez(r, x=np.zeros(3))
    with pytest.raises(FileFormatError, match=r"expected arrays named 'u' and 'y'.*found \['x'\]"):
        IOData.from_file(r)
    s = tmp_path / "short.npz"
    np.savez(s, u=np.zeros(4), y=np.zeros(3))
    with pytest.raises(
        DataError, match=r"short.npz: arrays 'u' and 'y' have different lengths \(4 and 3"
    ):
        IOData.from_file(s)
    n = tmp_path / "nan.npz"
    np.savez(n, u=np.zeros(3), y=np.array([0.0, np.nan, 1.0]))
    with pytest.raises(DataError, match=r"nan.npz: array 'y': contains NaN"):
        IOData.from_file(n)
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    with pytest.raises(FileFormatError, match="junk.npz: not a readable .npz archive"):
        IOData.from_file(junk)
    with pytest.raises(FileNotFoundError, match="gone.npz"):
        IOData.from_file(tmp_path / "gone.npz")


@pytest.mark.parametrize(
    "name, text, error, pattern",
    [
        (
            "words.csv",
            "a,b\n1,2\nx,3\n",
            FileFormatError,
            r"words.csv, line 3, column 'a': 'x', which is not a number",
        ),
        ("empty_field.csv", "a,b\n1,2\n3,\n", FileFormatError, r"line 3, column 'b': an empty"),
        (
            "ragged.dat",
            "1 2\n3 4\n5\n",
            FileFormatError,
            r"ragged.dat, line 3: 1 fields where the first row has 2",
        ),
        ("ragged.csv", "u,y\n1,2,3\n", FileFormatError, r"line 2: 3 fields where the header has 2"),
        (
            "nan.dat",
            "1 2\n3 nan\n",
            DataError,
            r"nan.dat: column 'col1' contains NaN \(first at line 2",
        ),
        (
            "inf.csv",
            "u,y\ninf,1\n",
            DataError,
            r"inf.csv: column 'u' contains inf \(first at line 2",
        ),
        (
            "blank.dat",
            "\n\n# nothing\n",
            FileFormatError,
            r"blank.dat: the file holds no data rows",
        ),
        ("header_only.csv", "u,y\n", FileFormatError, r"header but no data rows"),
        ("one_col.dat", "1\n2\n", DataError, r"needs at least 2 columns"),
        ("dup.csv", "u,u\n1,2\n", FileFormatError, r"dup.csv, line 1: duplicate column names"),
        ("data.xlsx", "1,2\n", FileFormatError, r"unsupported file type '.xlsx'; supported: .csv"),
    ],
)
def test_from_file_errors(tmp_path: Path, name: str, text: str, error, pattern: str) -> None:
    p = tmp_path / name
    p.write_text(text)
    with pytest.raises(error, match=pattern):
        IOData.from_file(p)


def test_from_file_binary_and_missing(tmp_path: Path) -> None:
    b = tmp_path / "bin.dat"
    b.write_bytes(bytes(range(256)))
    with pytest.raises(FileFormatError, match="bin.dat: not a text file"):
        IOData.from_file(b)
    b.write_bytes(bytes(range(128, 256)) * 4)  # no NUL byte, not UTF-8
    with pytest.raises(FileFormatError, match="bin.dat: not a text file"):
        IOData.from_file(b)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("temp \xb0C,volt\n1,2\n3,4\n".encode("latin-1"))  # text, not UTF-8
    assert IOData.from_file(latin).input_names == ("temp \xb0C",)
    with pytest.raises(FileNotFoundError, match="missing.csv") as info:
        IOData.from_file(tmp_path / "missing.csv")
    assert info.value.filename == str(tmp_path / "missing.csv")
    g = tmp_path / "broken.dat.gz"
    g.write_bytes(b"\x1f\x8bgarbage")
    with pytest.raises(FileFormatError, match="broken.dat.gz: not a valid gzip file"):
        IOData.from_file(g)


# --------------------------------------------------------------------------- prbs
def test_prbs_statistics() -> None:
    x = prbs(20000, 0.2, (3.41, 6.41), random_state=np.random.default_rng(7))
    assert x.shape == (20000,)
    assert set(np.unique(x)) == {3.41, 6.41}
    rate = np.mean(x[1:] != x[:-1])
    assert abs(rate - 0.2) < 0.015  # binomial std ~0.003
    assert abs(np.mean(x == 3.41) - 0.5) < 0.05
    np.testing.assert_array_equal(prbs(50, 0.3, random_state=3), prbs(50, 0.3, random_state=3))
    np.testing.assert_array_equal(prbs(50, 0.3, (-1, 1), 3), prbs(50, 0.3, random_state=3))
    assert set(np.unique(prbs(100, 0.5))) <= {-1.0, 1.0}
    assert np.all(prbs(30, 0.0, (0, 1), random_state=1, start=1) == 1.0)
    alt = prbs(6, 1.0, (0, 1), start=0)
    np.testing.assert_array_equal(alt, [0, 1, 0, 1, 0, 1])
    assert prbs(1, 0.5).shape == (1,)


def test_prbs_rng_is_a_deprecated_alias() -> None:
    with pytest.warns(DeprecationWarning, match="'rng' is deprecated, use 'random_state'"):
        old = prbs(40, 0.3, rng=5)
    np.testing.assert_array_equal(old, prbs(40, 0.3, random_state=5))
    with pytest.raises(ParameterError, match="pass only random_state"):
        prbs(40, rng=1, random_state=1)


@pytest.mark.parametrize(
    "kwargs, error, pattern",
    [
        ({"T": 0}, ParameterError, "T: must be >= 1"),
        ({"T": 2.5}, ParameterError, "T: must be an integer"),
        ({"T": 10, "p_switch": 1.5}, ParameterError, "p_switch: must be <= 1"),
        ({"T": 10, "p_switch": -0.1}, ParameterError, "p_switch"),
        ({"T": 10, "levels": (1.0, 1.0)}, ParameterError, "levels: the two levels must differ"),
        ({"T": 10, "levels": (1.0, 2.0, 3.0)}, ParameterError, "levels: must be two numbers"),
        ({"T": 10, "levels": (1.0, np.nan)}, DataError, "levels: contains NaN"),
        ({"T": 10, "start": 2}, ParameterError, "start: must be 0, 1 or None"),
        ({"T": 10, "random_state": 1.5}, ParameterError, "random_state"),
    ],
)
def test_prbs_validation(kwargs: dict, error, pattern: str) -> None:
    with pytest.raises(error, match=pattern):
        prbs(**kwargs)


# --------------------------------------------------------------------------- synthetic dryer
def test_synthetic_dryer() -> None:
    a, b = synthetic_dryer(), synthetic_dryer()
    np.testing.assert_array_equal(a.u, b.u)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.array_equal(a.y, synthetic_dryer(random_state=1).y)
    assert len(a) == 1000 and a.dt == 0.08 and a.is_siso
    assert a.synthetic and a.name == "synthetic-dryer" and "synthetic" in a.description.lower()
    assert set(np.unique(a.u1)) == {3.41, 6.41}
    assert abs(np.mean(a.u1[1:] != a.u1[:-1]) - 0.2) < 0.05
    assert 4.6 < a.y1.mean() < 5.2

    G = synthetic_dryer_system()
    assert a.truth == G and G.is_stable()
    poles = np.sort(np.abs(G.poles()))[::-1]
    assert 0.6 <= poles[0] <= 0.9 and 0.6 <= poles[1] <= 0.9 and np.all(poles[2:] < 1e-12)
    dc = G.frequency_response(0.0).real
    assert dc > 0
    r = G.markov(6)
    assert np.all(r[:3] == 0) and r[3] > 0  # three samples of delay
    # the noise-free part is exactly the known system plus the documented offsets
    clean = synthetic_dryer(T=300, random_state=5, noise_std=0.0)
    np.testing.assert_allclose(clean.y1, 4.89 + G.simulate(clean.u1 - 4.91), atol=1e-12)
    resid = synthetic_dryer(T=300, random_state=5).y1 - clean.y1
    assert 0.01 < resid.std() < 0.03
    # a long constant step settles at the DC gain
    step = 4.89 + G.simulate(np.ones(400))
    assert step[-1] - 4.89 == pytest.approx(dc, rel=1e-6)
    with pytest.raises(ParameterError, match="noise_std"):
        synthetic_dryer(noise_std=-1)
    with pytest.raises(ParameterError, match="T: must be >= 1"):
        synthetic_dryer(T=0)


def test_synthetic_dryer_rng_is_a_deprecated_alias() -> None:
    with pytest.warns(DeprecationWarning, match="'rng' is deprecated"):
        old = synthetic_dryer(200, rng=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the new name does not warn
        new = synthetic_dryer(200, random_state=4)
    np.testing.assert_array_equal(old.y, new.y)


def test_spreadsheet_exports_trailing_delimiters_and_decimal_commas(tmp_path: Path) -> None:
    """A delimiter at the end of every line (an empty last column) is dropped; a decimal
    comma is named as such, with the number written the way the reader wants it."""
    p = tmp_path / "export.csv"
    p.write_text("u;y;\n1.5;2.0;\n2.5;3.0;\n3.5;5.0;\n")
    d = IOData.from_file(p)
    assert d.columns_used == (("u",), ("y",)) and d.y1.tolist() == [2.0, 3.0, 5.0]
    q = tmp_path / "comma.csv"
    q.write_text("u;y\n1,5;2\n2,5;3\n")
    with pytest.raises(
        FileFormatError,
        match=r"'1,5', which is not a number \(decimal commas are not read; write 1.5\)",
    ):
        IOData.from_file(q)
    r = tmp_path / "ragged.csv"  # only some lines end with a delimiter: still an error
    r.write_text("u,y\n1,2,\n3,4\n5,6\n")
    with pytest.raises(FileFormatError, match="line 2: 3 fields where the header has 2"):
        IOData.from_file(r)


@pytest.mark.parametrize(
    "header,inputs,outputs,by_name",
    [
        ("y,u", ("u",), ("y",), True),  # read by position it was fitted backwards, unsaid
        ("u1,u2,y", ("u1", "u2"), ("y",), True),  # by position: u1 -> u2, and y unused
        ("time,y,u", ("u",), ("y",), True),
        ("voltage,y", ("voltage",), ("y",), False),  # one role named, same as by position
        ("y,voltage", ("voltage",), ("y",), True),
        ("u,temp", ("u",), ("temp",), False),
        ("output_1,input_1,input_2", ("input_1", "input_2"), ("output_1",), True),
        ("a,b", ("a",), ("b",), False),  # nothing named: by position, as documented
    ],
)
def test_default_columns_follow_role_names_in_the_header(
    tmp_path: Path, header, inputs, outputs, by_name
):
    p = tmp_path / "roles.csv"
    width = header.count(",") + 1
    rows = "".join(",".join(str(k * width + j) for j in range(width)) + "\n" for k in range(6))
    p.write_text(f"{header}\n{rows}")
    d = IOData.from_file(p)
    assert (d.input_names, d.output_names) == (inputs, outputs)
    assert ("(by their names)" in d.column_note) == by_name


def test_the_index_pandas_writes_is_skipped_not_used_as_the_input(tmp_path: Path) -> None:
    """``DataFrame.to_csv`` heads its index with an empty name (``Unnamed: 0`` once read
    back by pandas); it was taken as the input, the first signal as the output."""
    frame = pd.DataFrame({"volt": np.sin(np.arange(40.0)), "temp": np.cos(np.arange(40.0))})
    for name, text in [
        ("plain.csv", frame.to_csv()),
        ("unnamed.csv", frame.to_csv().replace(",volt", "Unnamed: 0,volt", 1)),
    ]:
        (tmp_path / name).write_text(text)
        d = IOData.from_file(tmp_path / name)
        assert (d.input_names, d.output_names) == (("volt",), ("temp",))
        assert "skipped time/index column" in d.column_note
    (tmp_path / "signal.csv").write_text(",a,b\n0.3,1,2\n0.1,2,3\n0.7,3,1\n")
    d = IOData.from_file(tmp_path / "signal.csv")  # an unnamed column that is no index: kept
    assert d.input_names == ("",)


def test_dates_and_times_in_a_time_column_give_the_sampling_time(tmp_path: Path) -> None:
    """A log with ISO timestamps was refused ('not a number'); the column is now read as
    seconds since its first row, skipped as a time axis, and its even step is dt."""
    stamps = pd.date_range("2024-01-01", periods=20, freq="100ms")
    frame = pd.DataFrame({"timestamp": stamps, "u": np.arange(20.0) % 3, "y": np.arange(20.0)})
    frame.to_csv(tmp_path / "log.csv", index=False)
    d = IOData.from_file(tmp_path / "log.csv")
    assert d.dt == pytest.approx(0.1) and (d.input_names, d.output_names) == (("u",), ("y",))
    assert "dt 0.1 s from the dates and times in column 'timestamp'" in d.column_note
    header, data = read_table(tmp_path / "log.csv")
    np.testing.assert_allclose(data[:, 0], 0.1 * np.arange(20))
    text = (
        "date,u,y\n2024-01-01T00:00:00Z,1,2\n2024-01-01T00:00:01Z,2,3\n2024-01-01T00:00:03Z,1,1\n"
    )
    (tmp_path / "gap.csv").write_text(text)  # UTC 'Z' read; a gap is said, no dt
    gap = IOData.from_file(tmp_path / "gap.csv")
    assert gap.dt is None and "not evenly spaced (steps 1 to 2)" in gap.column_note
    clock = "time,u,y\n23:59:59.0,1,2\n23:59:59.5,2,3\n24:00:00.0,1,1\n24:00:00.5,2,2\n"
    (tmp_path / "clock.csv").write_text(clock)  # times of day (hh:mm:ss.f)
    assert IOData.from_file(tmp_path / "clock.csv").dt == pytest.approx(0.5)
    (tmp_path / "days.csv").write_text("timestamp,u,y\nmonday,1,2\ntuesday,2,3\n")
    with pytest.raises(FileFormatError, match="'monday', which is not a number"):
        IOData.from_file(tmp_path / "days.csv")


def test_channels_first_archives_get_a_transpose_hint(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "cf.npz", u=rng.normal(size=(2, 300)), y=rng.normal(size=(1, 300)))
    with pytest.raises(DataError, match=r"\(2 and 1 samples\); both have 300 columns.*transposed"):
        IOData.from_file(tmp_path / "cf.npz")
    np.savez(tmp_path / "short.npz", u=rng.normal(size=(40, 2)), y=rng.normal(size=(39, 2)))
    with pytest.raises(DataError, match=r"\(40 and 39 samples\)$"):  # no hint: not transposed
        IOData.from_file(tmp_path / "short.npz")
