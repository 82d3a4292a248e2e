"""Tests for learnlds.datasets: IOData, readers, DaISy loading and download, PRBS, dryer."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from learnlds.datasets import (
    DAISY,
    DAISY_URL_ENV,
    DATA_ENV,
    IOData,
    daisy_cache_dir,
    find_daisy,
    load_daisy,
    prbs,
    synthetic_dryer,
    synthetic_dryer_system,
)

REPO = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def daisy_dir() -> Path:
    """The shared DaISy folder: ``$LEARNLDS_DATA`` or ``<repo>/../shared/data/daisy``."""
    env = os.environ.get(DATA_ENV)
    folder = Path(env) if env else REPO.parent / "shared" / "data" / "daisy"
    if not (folder / "dryer.dat").is_file():
        pytest.skip(f"DaISy files not found in {folder}")
    return folder


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No LEARNLDS_DATA, an empty temporary cache; returns the cache folder."""
    monkeypatch.delenv(DATA_ENV, raising=False)
    monkeypatch.delenv(DAISY_URL_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    cache = daisy_cache_dir()
    assert cache == tmp_path / "xdg" / "learnlds" / "daisy"
    return cache


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


def _daisy_tree(root: Path, content: bytes, name: str = "dryer") -> None:
    entry = DAISY[name]
    target = root / entry.relative_url
    target.parent.mkdir(parents=True)
    target.write_bytes(gzip.compress(content))


# --------------------------------------------------------------------------- real DaISy files
def test_registry_matches_shared_files(daisy_dir: Path) -> None:
    for entry in DAISY.values():
        raw = (daisy_dir / entry.filename).read_bytes()
        assert hashlib.sha256(raw).hexdigest() == entry.sha256, entry.name


@pytest.mark.parametrize(
    "name, T, nu, ny",
    [
        ("dryer", 1000, 1, 1),
        ("ballbeam", 1000, 1, 1),
        ("flutter", 1024, 1, 1),
        ("CD_player_arm", 2048, 2, 2),
        ("glassfurnace", 1247, 3, 6),
        ("cstr", 7500, 1, 2),
    ],
)
def test_load_daisy_shapes(daisy_dir: Path, name: str, T: int, nu: int, ny: int) -> None:
    data = load_daisy(name, path=daisy_dir)
    assert len(data) == T and data.u.shape == (T, nu) and data.y.shape == (T, ny)
    assert not data.synthetic and data.name == name
    assert DAISY[name].shape[0] == T


def test_load_daisy_columns(daisy_dir: Path) -> None:
    dryer = load_daisy("dryer", path=daisy_dir / "dryer.dat")
    raw = np.loadtxt(daisy_dir / "dryer.dat")
    np.testing.assert_array_equal(dryer.u1, raw[:, 0])
    np.testing.assert_array_equal(dryer.y1, raw[:, 1])
    assert set(np.unique(dryer.u1)) == {3.41, 6.41}
    assert dryer.dt == 0.08 and dryer.input_units == ("V",)
    assert "heater" in dryer.input_names[0] and "temperature" in dryer.output_names[0]

    glass = load_daisy("glassfurnace", path=daisy_dir)
    raw = np.loadtxt(daisy_dir / "glassfurnace.dat")
    np.testing.assert_array_equal(glass.u, raw[:, 1:4])  # column 1 (1-based) is an index
    np.testing.assert_array_equal(glass.y, raw[:, 4:10])

    cstr = load_daisy("CSTR.dat", path=daisy_dir)  # case and suffix tolerant
    raw = np.loadtxt(daisy_dir / "cstr.dat")
    np.testing.assert_array_equal(cstr.u1, raw[:, 1])
    np.testing.assert_array_equal(cstr.y, raw[:, 2:4])
    assert cstr.dt == 0.1 and cstr.time_unit == "min"


def test_load_daisy_from_env(daisy_dir: Path, isolated: Path, monkeypatch) -> None:
    monkeypatch.setenv(DATA_ENV, str(daisy_dir))
    assert find_daisy("dryer") == daisy_dir / "dryer.dat"
    assert len(load_daisy("flutter")) == 1024


def test_find_daisy_missing(isolated: Path, tmp_path: Path) -> None:
    assert find_daisy("dryer") is None
    assert find_daisy("dryer", path=tmp_path / "nowhere") is None
    with pytest.raises(ValueError, match="unknown DaISy set 'hairdryer'; known sets: dryer"):
        find_daisy("hairdryer")


def test_sha256_mismatch_local(daisy_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "dryer.dat"
    raw = (daisy_dir / "dryer.dat").read_bytes()
    bad.write_bytes(raw.replace(b"4.7660989", b"4.7660990", 1))
    with pytest.raises(ValueError, match=r"sha256 .* does not match .*verify=False"):
        load_daisy("dryer", path=bad)
    data = load_daisy("dryer", path=tmp_path, verify=False)
    assert data.y1[0] == pytest.approx(4.7660990)


def test_explicit_path_missing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no such file or folder"):
        load_daisy("dryer", path=tmp_path / "nope.dat")
    with pytest.raises(ValueError, match="folder has no dryer.dat"):
        load_daisy("dryer", path=tmp_path)


def test_local_gzip_is_read(daisy_dir: Path, tmp_path: Path) -> None:
    raw = (daisy_dir / "ballbeam.dat").read_bytes()
    (tmp_path / "ballbeam.dat.gz").write_bytes(gzip.compress(raw))
    assert len(load_daisy("ballbeam", path=tmp_path)) == 1000


# --------------------------------------------------------------------------- downloads
def test_download_to_cache(
    daisy_dir: Path, isolated: Path, tmp_path: Path, serve, monkeypatch
) -> None:
    root = tmp_path / "www"
    _daisy_tree(root / "SISTA" / "data", (daisy_dir / "dryer.dat").read_bytes())
    base = serve(root)
    monkeypatch.setenv(DAISY_URL_ENV, base + "SISTA/data")  # no trailing slash on purpose
    assert DAISY["dryer"].urls() == [base + "SISTA/data/mechanical/dryer.dat.gz"]
    assert find_daisy("dryer") is None
    data = load_daisy("dryer")
    cached = isolated / "dryer.dat"
    assert cached.is_file()
    assert hashlib.sha256(cached.read_bytes()).hexdigest() == DAISY["dryer"].sha256
    assert data.source == str(cached) and len(data) == 1000
    assert find_daisy("dryer") == cached
    assert [p.name for p in isolated.iterdir()] == ["dryer.dat"]  # no partial files left
    # second call is served from the cache, even with the server unreachable
    monkeypatch.setenv(DAISY_URL_ENV, "http://127.0.0.1:1/")
    assert len(load_daisy("dryer")) == 1000


def test_download_corrupted(
    daisy_dir: Path, isolated: Path, tmp_path: Path, serve, monkeypatch
) -> None:
    raw = (daisy_dir / "dryer.dat").read_bytes()
    _daisy_tree(tmp_path / "www", raw[:-20] + b"9" * 20)
    monkeypatch.setenv(DAISY_URL_ENV, serve(tmp_path / "www"))
    with pytest.raises(ValueError, match=r"sha256 verification failed .*nothing was stored"):
        load_daisy("dryer")
    assert not isolated.exists() or not any(isolated.iterdir())


def test_download_missing_file_on_server(
    isolated: Path, tmp_path: Path, serve, monkeypatch
) -> None:
    (tmp_path / "www").mkdir()
    monkeypatch.setenv(DAISY_URL_ENV, serve(tmp_path / "www"))
    with pytest.raises(ValueError, match=r"404"):
        load_daisy("cstr")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_download_unreachable_says_what_to_do(isolated: Path, monkeypatch, tmp_path: Path) -> None:
    base = f"http://127.0.0.1:{_closed_port()}/daisy/"
    monkeypatch.setenv(DAISY_URL_ENV, base)
    with pytest.raises(ValueError) as info:
        load_daisy("glassfurnace", timeout=5)
    msg = str(info.value)
    assert f"Download {base}process_industry/glassfurnace.dat.gz" in msg
    assert "put glassfurnace.dat in" in msg and str(isolated) in msg and DATA_ENV in msg
    # with LEARNLDS_DATA set, the message names that folder
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "mydata"))
    with pytest.raises(ValueError, match=str(tmp_path / "mydata")):
        load_daisy("glassfurnace", timeout=5)


def test_download_disabled(isolated: Path) -> None:
    with pytest.raises(ValueError, match=r"download=False.*Download https://"):
        load_daisy("dryer", download=False)


# --------------------------------------------------------------------------- IOData
def test_iodata_basics() -> None:
    t = np.arange(10.0)
    d = IOData.from_arrays(t, 2 * t + 1, dt=0.5, name="ramp")
    assert len(d) == 10 and d.u.shape == (10, 1) and d.is_siso
    assert d.input_names == ("u",) and d.output_names == ("y",) and d.input_units == ("",)
    np.testing.assert_array_equal(d.time, 0.5 * t)
    with pytest.raises(ValueError):
        d.u[0, 0] = 3.0  # read-only
    assert "ramp" in repr(d) and "T=10" in repr(d)


def test_iodata_validation() -> None:
    with pytest.raises(ValueError, match="same number of samples, got 5 and 4"):
        IOData.from_arrays(np.zeros(5), np.zeros(4))
    with pytest.raises(ValueError, match="u: contains NaN"):
        IOData.from_arrays([1.0, np.nan], [1.0, 2.0])
    with pytest.raises(ValueError, match="y: contains inf"):
        IOData.from_arrays([1.0, 2.0], [1.0, np.inf])
    with pytest.raises(ValueError, match="dt: the sampling time must be finite and > 0"):
        IOData.from_arrays([1.0], [1.0], dt=0)
    with pytest.raises(ValueError, match="input_names: expected 2 entries"):
        IOData.from_arrays(np.zeros((3, 2)), np.zeros(3), input_names=["a"])
    with pytest.raises(ValueError, match="empty"):
        IOData.from_arrays(np.zeros(0), np.zeros(0))


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


def test_split() -> None:
    d = synthetic_dryer(T=101)
    est, val = d.split()
    assert (len(est), len(val)) == (50, 51)
    np.testing.assert_array_equal(np.concatenate((est.u1, val.u1)), d.u1)
    assert est.truth is d.truth and est.dt == d.dt and "estimation" in est.name
    for bad in (0.0, 1.0, -0.1, 2):
        with pytest.raises(ValueError, match="fraction"):
            d.split(bad)
    with pytest.raises(ValueError, match="empty part"):
        IOData.from_arrays([1.0, 2.0], [1.0, 2.0]).split(0.1)


def test_select_and_siso_views() -> None:
    d = IOData.from_arrays(np.zeros((4, 2)), np.ones((4, 3)), output_names=["a", "b", "c"])
    with pytest.raises(ValueError, match="2 inputs, not 1"):
        _ = d.u1
    s = d.select(inputs=1, outputs=["c", "a"])
    assert s.output_names == ("c", "a") and s.input_names == ("u2",)
    with pytest.raises(ValueError, match=r"unknown output column 'z'; available: 'a', 'b', 'c'"):
        d.select(outputs="z")


def test_from_pandas() -> None:
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"t": np.arange(5.0), "volt": np.arange(5.0), "temp": np.arange(5.0) ** 2})
    d = IOData.from_pandas(df, "volt", ["temp"], dt=0.1)
    assert d.input_names == ("volt",) and d.output_names == ("temp",) and d.dt == 0.1
    np.testing.assert_array_equal(d.y1, np.arange(5.0) ** 2)
    with pytest.raises(ValueError, match=r"unknown output column 'tmp'; available: 't', 'volt'"):
        IOData.from_pandas(df, "volt", "tmp")
    df.loc[2, "temp"] = np.nan
    with pytest.raises(ValueError, match="column 'temp' contains NaN"):
        IOData.from_pandas(df, "volt", "temp")
    back = synthetic_dryer(T=20).to_pandas()
    assert list(back.columns) == ["heater voltage", "outlet air temperature"]


# --------------------------------------------------------------------------- from_file
def test_from_file_csv(tmp_path: Path) -> None:
    p = tmp_path / "run.csv"
    p.write_text("# a comment\ntime,volt,temp\n0,1.5,10\n0.1,2.5,11\n0.2,3.5,12\n")
    d = IOData.from_file(p)  # default: column 0 input, column 1 output
    assert d.input_names == ("time",) and d.output_names == ("volt",) and d.name == "run"
    d = IOData.from_file(p, input_cols="volt", output_cols=2, dt=0.1)
    np.testing.assert_array_equal(d.u1, [1.5, 2.5, 3.5])
    np.testing.assert_array_equal(d.y1, [10, 11, 12])
    assert d.output_names == ("temp",) and d.dt == 0.1 and d.source == str(p)
    d = IOData.from_file(p, input_cols=["time", "volt"])  # outputs: the rest
    assert d.u.shape == (3, 2) and d.output_names == ("temp",)
    with pytest.raises(
        ValueError, match=r"unknown input column 'voltage'; available: 'time', 'volt', 'temp'"
    ):
        IOData.from_file(p, input_cols="voltage", output_cols="temp")
    with pytest.raises(ValueError, match="index 3 is out of range; there are 3 columns"):
        IOData.from_file(p, input_cols=3, output_cols=1)
    with pytest.raises(ValueError, match="both input and output"):
        IOData.from_file(p, input_cols="volt", output_cols=["volt"])
    q = tmp_path / "semi.csv"
    q.write_text('"u (V)";"y (V)"\n1;2\n3;4\n')
    assert IOData.from_file(q).input_names == ("u (V)",)


def test_from_file_dat_and_txt(tmp_path: Path) -> None:
    arr = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])
    p = tmp_path / "x.dat"
    np.savetxt(p, arr)
    d = IOData.from_file(p)
    np.testing.assert_array_equal(d.u1, arr[:, 0])
    np.testing.assert_array_equal(d.y1, arr[:, 1])
    assert d.input_names == ("u",)
    d = IOData.from_file(p, input_cols=[0, "col1"], output_cols=-1)
    np.testing.assert_array_equal(d.y1, arr[:, 2])
    q = tmp_path / "x.txt"
    q.write_text("% matlab comment\nu1 u2 y\n" + "\n".join(" ".join(map(str, r)) for r in arr))
    d = IOData.from_file(q, output_cols="y")
    assert d.input_names == ("u1", "u2")
    g = tmp_path / "x.dat.gz"
    g.write_bytes(gzip.compress(p.read_bytes()))
    assert IOData.from_file(g).name == "x" and len(IOData.from_file(g)) == 3


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
    with pytest.raises(ValueError, match=r"expected arrays named 'u' and 'y'.*found \['x'\]"):
        IOData.from_file(r)
    s = tmp_path / "short.npz"
    np.savez(s, u=np.zeros(4), y=np.zeros(3))
    with pytest.raises(
        ValueError, match=r"short.npz: arrays 'u' and 'y' have different lengths \(4 and 3"
    ):
        IOData.from_file(s)
    n = tmp_path / "nan.npz"
    np.savez(n, u=np.zeros(3), y=np.array([0.0, np.nan, 1.0]))
    with pytest.raises(ValueError, match=r"nan.npz: array 'y': contains NaN"):
        IOData.from_file(n)
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="junk.npz"):
        IOData.from_file(junk)


@pytest.mark.parametrize(
    "name, text, pattern",
    [
        (
            "words.csv",
            "a,b\n1,2\nx,3\n",
            r"words.csv, line 3, column 'a': 'x', which is not a number",
        ),
        ("empty_field.csv", "a,b\n1,2\n3,\n", r"line 3, column 'b': an empty field"),
        ("ragged.dat", "1 2\n3 4\n5\n", r"ragged.dat, line 3: 1 fields where the first row has 2"),
        ("ragged.csv", "u,y\n1,2,3\n", r"line 2: 3 fields where the header has 2"),
        ("nan.dat", "1 2\n3 nan\n", r"nan.dat: column 'col1' contains NaN \(first at data row 1"),
        ("inf.csv", "u,y\ninf,1\n", r"inf.csv: column 'u' contains inf"),
        ("blank.dat", "\n\n# nothing\n", r"blank.dat: the file holds no data rows"),
        ("header_only.csv", "u,y\n", r"header but no data rows"),
        ("one_col.dat", "1\n2\n", r"needs at least 2 columns"),
        ("dup.csv", "u,u\n1,2\n", r"duplicate column names"),
        ("data.xlsx", "1,2\n", r"unsupported file type '.xlsx'; supported: .csv"),
    ],
)
def test_from_file_errors(tmp_path: Path, name: str, text: str, pattern: str) -> None:
    p = tmp_path / name
    p.write_text(text)
    with pytest.raises(ValueError, match=pattern):
        IOData.from_file(p)


def test_from_file_binary_and_missing(tmp_path: Path) -> None:
    b = tmp_path / "bin.dat"
    b.write_bytes(bytes(range(256)))
    with pytest.raises(ValueError, match="bin.dat: not a text file"):
        IOData.from_file(b)
    with pytest.raises(ValueError, match="missing.csv: cannot read file"):
        IOData.from_file(tmp_path / "missing.csv")
    g = tmp_path / "broken.dat.gz"
    g.write_bytes(b"\x1f\x8bgarbage")
    with pytest.raises(ValueError, match="broken.dat.gz: not a valid gzip file"):
        IOData.from_file(g)


# --------------------------------------------------------------------------- prbs
def test_prbs_statistics() -> None:
    x = prbs(20000, 0.2, (3.41, 6.41), rng=np.random.default_rng(7))
    assert x.shape == (20000,)
    assert set(np.unique(x)) == {3.41, 6.41}
    rate = np.mean(x[1:] != x[:-1])
    assert abs(rate - 0.2) < 0.015  # binomial std ~0.003
    assert abs(np.mean(x == 3.41) - 0.5) < 0.05
    np.testing.assert_array_equal(prbs(50, 0.3, rng=3), prbs(50, 0.3, rng=3))
    assert set(np.unique(prbs(100, 0.5))) <= {-1.0, 1.0}
    assert np.all(prbs(30, 0.0, (0, 1), rng=1, start=1) == 1.0)
    alt = prbs(6, 1.0, (0, 1), start=0)
    np.testing.assert_array_equal(alt, [0, 1, 0, 1, 0, 1])
    assert prbs(1, 0.5).shape == (1,)


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        ({"T": 0}, "T: must be an integer >= 1"),
        ({"T": 2.5}, "T: must be an integer"),
        ({"T": 10, "p_switch": 1.5}, "p_switch: must be a probability"),
        ({"T": 10, "p_switch": -0.1}, "p_switch"),
        ({"T": 10, "levels": (1.0, 1.0)}, "levels: the two levels must differ"),
        ({"T": 10, "levels": (1.0, 2.0, 3.0)}, "levels: must be two numbers"),
        ({"T": 10, "levels": (1.0, np.nan)}, "levels: contains NaN"),
        ({"T": 10, "start": 2}, "start: must be 0, 1 or None"),
    ],
)
def test_prbs_validation(kwargs: dict, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        prbs(**kwargs)


# --------------------------------------------------------------------------- synthetic dryer
def test_synthetic_dryer() -> None:
    a, b = synthetic_dryer(), synthetic_dryer()
    np.testing.assert_array_equal(a.u, b.u)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.array_equal(a.y, synthetic_dryer(rng=1).y)
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
    clean = synthetic_dryer(T=300, rng=5, noise_std=0.0)
    np.testing.assert_allclose(clean.y1, 4.89 + G.simulate(clean.u1 - 4.91), atol=1e-12)
    resid = synthetic_dryer(T=300, rng=5).y1 - clean.y1
    assert 0.01 < resid.std() < 0.03
    # a long constant step settles at the DC gain
    step = 4.89 + G.simulate(np.ones(400))
    assert step[-1] - 4.89 == pytest.approx(dc, rel=1e-6)
    with pytest.raises(ValueError, match="noise_std"):
        synthetic_dryer(noise_std=-1)
