"""Real measured data from DaISy, the Database for the Identification of Systems (KU Leuven).

:data:`DAISY` lists the sets :func:`load_daisy` knows. The three small SISO records
(``dryer``, ``ballbeam``, ``flutter``) ship with the package (``datasets/data/``,
each with a README giving its description and citation), so they load offline with
no set-up. The larger sets are looked for in a folder the user names and in a cache,
and downloaded (sha256-verified) only as a last resort.

Look-up order of :func:`load_daisy`: an explicit ``path``, the folder named by the
``LEARNLDS_DATA`` environment variable, the data shipped with the package, the user
cache (:func:`daisy_cache_dir`), and finally a verified download into that cache.

Source: De Moor B.L.R. (ed.), DaISy: Database for the Identification of Systems,
Department of Electrical Engineering, ESAT/STADIUS, KU Leuven, Belgium.

Examples
--------
>>> sorted(name for name, entry in DAISY.items() if entry.shipped)
['ballbeam', 'dryer', 'flutter']
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .._boundary import check_bool, check_float
from .._files import as_path
from ..errors import DataError, FileFormatError, ParameterError
from .iodata import IOData
from .readers import _gunzip, _parse_table, _read_bytes

__all__ = [
    "CITATION",
    "DAISY",
    "DAISY_URL_ENV",
    "DATA_ENV",
    "DEFAULT_DAISY_URLS",
    "DaisySet",
    "daisy_cache_dir",
    "find_daisy",
    "load_daisy",
]

DATA_ENV = "LEARNLDS_DATA"
"""Environment variable naming a folder that holds DaISy ``.dat`` files."""

DAISY_URL_ENV = "LEARNLDS_DAISY_URL"
"""Environment variable overriding the DaISy base URL (category folders below it)."""

DEFAULT_DAISY_URLS: tuple[str, ...] = (
    "https://homes.esat.kuleuven.be/~smc/daisy/daisydata/",
    "https://ftp.esat.kuleuven.be/pub/SISTA/data/",
)
"""Base URLs tried in order when ``LEARNLDS_DAISY_URL`` is unset (best effort)."""

CITATION = (
    "De Moor B.L.R. (ed.), DaISy: Database for the Identification of Systems, Department of "
    "Electrical Engineering, ESAT/STADIUS, KU Leuven, Belgium"
)
"""How to cite the DaISy data sets."""

_SHIPPED_PACKAGE = __package__ or "learnlds.datasets"


@dataclass(frozen=True)
class DaisySet:
    """What :func:`load_daisy` knows about one DaISy file (columns are 0-based).

    Parameters
    ----------
    name : str
        Short name, the key in :data:`DAISY`.
    filename : str
        File name, e.g. ``dryer.dat``.
    category : str
        DaISy's folder for the set (``mechanical``, ``process_industry``, ...).
    shape : tuple of int
        Rows and columns of the file.
    inputs, outputs : tuple of int
        0-based columns holding the inputs and the outputs.
    dt : float or None
        Sampling time (``None`` when DaISy states none).
    time_unit : str
        Unit of ``dt``.
    input_names, output_names : tuple of str
        Channel names.
    input_units, output_units : tuple of str
        Channel units (``""`` when unknown).
    description : str
        What the plant is, its columns and sampling time.
    sha256 : str
        Hash of the uncompressed file, checked on every load.
    daisy_id : str
        DaISy's number for the set, e.g. ``96-006`` (``""`` where not known).
    shipped : bool
        Whether the file ships with the package (loads offline with no set-up).

    Examples
    --------
    >>> DAISY["dryer"].relative_url, DAISY["dryer"].daisy_id, DAISY["dryer"].shipped
    ('mechanical/dryer.dat.gz', '96-006', True)
    """

    name: str
    filename: str
    category: str
    shape: tuple[int, int]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    dt: float | None
    time_unit: str
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    input_units: tuple[str, ...]
    output_units: tuple[str, ...]
    description: str
    sha256: str
    daisy_id: str
    shipped: bool

    @property
    def relative_url(self) -> str:
        """Path of the gzipped file below a DaISy base URL."""
        return f"{self.category}/{self.filename}.gz"

    def urls(self) -> list[str]:
        """Download locations: ``$LEARNLDS_DAISY_URL`` alone when set, else the defaults.

        Returns
        -------
        list of str
            Full URLs of the gzipped file, in the order they are tried.

        Examples
        --------
        >>> import os
        >>> "LEARNLDS_DAISY_URL" in os.environ or DAISY["flutter"].urls()[0].endswith(
        ...     "mechanical/flutter.dat.gz")
        True
        """
        env = os.environ.get(DAISY_URL_ENV)
        bases = [env] if env else list(DEFAULT_DAISY_URLS)
        return [b.rstrip("/") + "/" + self.relative_url for b in bases]


def _set(**kw: Any) -> DaisySet:
    nu, ny = len(kw["inputs"]), len(kw["outputs"])
    kw.setdefault("input_names", tuple(f"u{i + 1}" for i in range(nu)))
    kw.setdefault("output_names", tuple(f"y{i + 1}" for i in range(ny)))
    kw.setdefault("input_units", ("",) * nu)
    kw.setdefault("output_units", ("",) * ny)
    kw.setdefault("dt", None)
    kw.setdefault("time_unit", "s")
    kw.setdefault("daisy_id", "")
    kw.setdefault("shipped", False)
    return DaisySet(**kw)


_SISO = {"inputs": (0,), "outputs": (1,), "category": "mechanical", "shipped": True}

DAISY: Mapping[str, DaisySet] = MappingProxyType(
    {
        s.name: s
        for s in (
            _set(
                name="dryer",
                filename="dryer.dat",
                shape=(1000, 2),
                dt=0.08,
                input_names=("heater voltage",),
                output_names=("outlet air temperature",),
                input_units=("V",),
                output_units=("V (thermocouple)",),
                description=(
                    "DaISy [96-006], data of a laboratory setup acting like a hair dryer "
                    "(Feedback PT326 process trainer): air fanned through a tube and heated at "
                    "the inlet. Input: heater voltage, binary 3.41/6.41 V switching with "
                    "probability 0.2; output: outlet air temperature as thermocouple volts. "
                    "Sampling time 0.08 s (Ljung; DaISy states none). SISO."
                ),
                sha256="adcb2f5a1d9e174d08dd49f7f037626745b5e69cbda0bc1e8dca2a7c687d4538",
                daisy_id="96-006",
                **_SISO,
            ),
            _set(
                name="ballbeam",
                filename="ballbeam.dat",
                shape=(1000, 2),
                dt=0.1,
                input_names=("beam angle",),
                output_names=("ball position",),
                description=(
                    "DaISy [96-004], data of the ball-and-beam setup at SISTA: input beam angle, "
                    "output ball position. Open loop the plant is integrating (marginally "
                    "unstable). Sampling time 0.1 s. SISO."
                ),
                sha256="e9c48a4f7474953969d4950b4ef72558084b1995f776792ac0cbc80550e6ff42",
                daisy_id="96-004",
                **_SISO,
            ),
            _set(
                name="flutter",
                filename="flutter.dat",
                shape=(1024, 2),
                input_names=("u",),
                output_names=("y",),
                description=(
                    "DaISy [96-008], wing flutter data: highly coloured input u, output y. "
                    "Sampling time not stated. SISO."
                ),
                sha256="e944d4bc32ac403bc20f64e45afff525456dd19166962ebcc47a2cc9f9b39d81",
                daisy_id="96-008",
                **_SISO,
            ),
            _set(
                name="CD_player_arm",
                filename="CD_player_arm.dat",
                category="mechanical",
                shape=(2048, 4),
                inputs=(0, 1),
                outputs=(2, 3),
                description=(
                    "DaISy data of a CD-player arm: inputs in columns 1-2, outputs in columns "
                    "3-4. Sampling time not stated. MIMO 2x2."
                ),
                sha256="a2ef4bf51c3102487a0690c7a68d97f3b1966cd07319580011a97fc0af904eaa",
            ),
            _set(
                name="glassfurnace",
                filename="glassfurnace.dat",
                category="process_industry",
                shape=(1247, 10),
                inputs=(1, 2, 3),
                outputs=(4, 5, 6, 7, 8, 9),
                description=(
                    "DaISy data of a glass furnace (Philips): column 1 is a sample index, inputs "
                    "in columns 2-4, outputs in columns 5-10. Sampling time not stated. MIMO 3x6."
                ),
                sha256="073cc118b7aaf589da46b8472be1767ed5240186a4d00df36bc389326a3f8f35",
            ),
            _set(
                name="cstr",
                filename="cstr.dat",
                category="process_industry",
                shape=(7500, 4),
                inputs=(1,),
                outputs=(2, 3),
                dt=0.1,
                time_unit="min",
                input_names=("coolant flow",),
                output_names=("concentration", "temperature"),
                description=(
                    "DaISy continuous stirred tank reactor (simulated): column 1 is time, input "
                    "coolant flow, outputs concentration and temperature. Sampling time 0.1 min. "
                    "SIMO 1x2."
                ),
                sha256="0ffdda8a1b962d377dc34371be105bd9dcaef7fcca40554e666841efeec6b84d",
            ),
        )
    }
)
"""Registry of the DaISy sets :func:`load_daisy` knows, keyed by name."""


# --------------------------------------------------------------------------- where files are
def _daisy_entry(name: Any) -> DaisySet:
    if not isinstance(name, str):
        raise ParameterError(f"name: a DaISy set name is a string, got {name!r}")
    key = name.strip()
    if key.lower().endswith(".gz"):
        key = key[:-3]
    if key.lower().endswith(".dat"):
        key = key[:-4]
    for k, entry in DAISY.items():
        if k.lower() == key.lower():
            return entry
    raise ParameterError(f"name: unknown DaISy set {name!r}; known sets: {', '.join(DAISY)}")


def daisy_cache_dir() -> Path:
    """The user cache folder for downloaded DaISy files (not created here).

    ``$XDG_CACHE_HOME/learnlds/daisy`` when ``XDG_CACHE_HOME`` is set,
    ``%LOCALAPPDATA%\\learnlds\\daisy`` on Windows, else ``~/.cache/learnlds/daisy``.

    Returns
    -------
    pathlib.Path
        The folder.

    Examples
    --------
    >>> daisy_cache_dir().parts[-2:]
    ('learnlds', 'daisy')
    """
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        root = Path(xdg)
    elif os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        root = Path(os.environ["LOCALAPPDATA"])
    else:
        root = Path.home() / ".cache"
    return root / "learnlds" / "daisy"


def _candidates(folder: Path, filename: str) -> list[Path]:
    return [folder / filename, folder / f"{filename}.gz", folder / "daisy" / filename]


def _in_folder(folder: Path, entry: DaisySet) -> Path | None:
    return next((c for c in _candidates(folder, entry.filename) if c.is_file()), None)


def _env_folder() -> Path | None:
    env = os.environ.get(DATA_ENV)
    return Path(env).expanduser() if env else None


def _shipped(entry: DaisySet) -> Traversable | None:
    """The packaged copy of ``entry`` (``None`` when the set is not shipped)."""
    if not entry.shipped:
        return None
    res = resources.files(_SHIPPED_PACKAGE).joinpath("data", entry.filename)
    return res if res.is_file() else None


def _explicit(entry: DaisySet, path: str | os.PathLike[str]) -> Path:
    p = as_path(path).expanduser()
    if p.is_dir():
        found = _in_folder(p, entry)
        if found is None:
            raise FileNotFoundError(
                f"{p}: folder has no {entry.filename} (nor {entry.filename}.gz)"
            )
        return found
    if p.is_file():
        return p
    raise FileNotFoundError(
        f"{p}: no such file or folder (given as the path of DaISy set {entry.name!r})"
    )


def _local(entry: DaisySet) -> Path | Traversable | None:
    """``$LEARNLDS_DATA``, then the shipped copy, then the cache (never downloads)."""
    env = _env_folder()
    found = _in_folder(env, entry) if env is not None else None
    if found is not None:
        return found
    shipped = _shipped(entry)
    if shipped is not None:
        return shipped
    return _in_folder(daisy_cache_dir(), entry)


def find_daisy(name: str, path: str | os.PathLike[str] | None = None) -> Path | None:
    """The local file of DaISy set ``name``, or ``None``; never downloads or verifies.

    Looks in ``path`` (a file or a folder) when given, else in ``$LEARNLDS_DATA``, the
    data shipped with the package (``dryer``, ``ballbeam``, ``flutter``) and the cache
    folder (:func:`daisy_cache_dir`), in that order.

    Parameters
    ----------
    name : str
        A set of :data:`DAISY` (case and a ``.dat``/``.gz`` suffix do not matter).
    path : str or os.PathLike, optional
        The file itself or a folder holding it.

    Returns
    -------
    pathlib.Path or None
        The file, or ``None`` when it is not there.

    Examples
    --------
    >>> find_daisy("dryer").name
    'dryer.dat'
    """
    entry = _daisy_entry(name)
    if path is not None:
        try:
            return _explicit(entry, path)
        except FileNotFoundError:
            return None
    found = _local(entry)
    if found is None or isinstance(found, Path):
        return found
    # shipped inside a zip archive: load_daisy reads it there, but it has no file path
    return _in_folder(daisy_cache_dir(), entry)


# --------------------------------------------------------------------------- downloads
def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fetch(url: str, timeout: float) -> bytes:
    req = urllib.request.Request(url, headers={"User-Agent": "learnlds"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310
        return resp.read()


def _store(entry: DaisySet, payload: bytes, url: str) -> Path:
    """Write verified bytes atomically into the cache."""
    cache = daisy_cache_dir()
    try:
        cache.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache, prefix=f".{entry.filename}.", suffix=".part")
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
        target = cache / entry.filename
        os.replace(tmp, target)
    except OSError as exc:
        raise OSError(
            f"downloaded {entry.filename} from {url} (sha256 verified) but cannot store it "
            f"in the cache folder {cache} ({exc}); set {DATA_ENV} to a writable folder "
            "holding the file, or pass path="
        ) from exc
    return target


def _download(entry: DaisySet, timeout: float) -> Path:
    """Fetch, gunzip, verify and cache ``entry``; the errors say what to do by hand."""
    tried: list[str] = []
    mismatch: list[str] = []
    for url in entry.urls():
        try:
            payload = _fetch(url, timeout)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            if isinstance(exc, urllib.error.HTTPError):
                reason: object = f"HTTP {exc.code} {exc.reason}"
            else:
                reason = getattr(exc, "reason", None) or exc
            tried.append(f"{url} ({reason})")
            continue
        try:
            payload = _gunzip(payload, url)
        except FileFormatError as exc:
            mismatch.append(str(exc))
            continue
        got = _sha256(payload)
        if got != entry.sha256:
            mismatch.append(f"{url}: sha256 {got}, expected {entry.sha256}")
            continue
        return _store(entry, payload, url)
    if mismatch:
        raise FileFormatError(
            f"DaISy set {entry.name!r}: sha256 verification failed for the downloaded "
            f"{entry.filename}; nothing was stored. " + "; ".join(mismatch)
        )
    raise FileNotFoundError(
        _manual_instructions(entry, "could not be downloaded: " + "; ".join(tried))
    )


def _manual_instructions(entry: DaisySet, why: str) -> str:
    env = _env_folder()
    env_folder = f"{env} (from {DATA_ENV})" if env else f"a folder named by {DATA_ENV}"
    urls = " or ".join(entry.urls())
    return (
        f"DaISy set {entry.name!r} ({entry.filename}) was not found locally and {why}. "
        f"Download {urls}, gunzip it, and put {entry.filename} in {env_folder} or in the "
        f"cache folder {daisy_cache_dir()}; or pass load_daisy({entry.name!r}, path=...)."
    )


# --------------------------------------------------------------------------- loading
def _verify(entry: DaisySet, where: str, raw: bytes) -> None:
    got = _sha256(raw)
    if got != entry.sha256:
        raise FileFormatError(
            f"{where}: sha256 {got} does not match the DaISy {entry.filename} "
            f"({entry.sha256}); the file is corrupt or a different file. Replace it, or pass "
            "verify=False to load it anyway"
        )


def _raw_bytes(found: Path | Traversable) -> bytes:
    if isinstance(found, Path):
        return _read_bytes(found)
    return _gunzip(found.read_bytes(), str(found))


def _to_iodata(entry: DaisySet, raw: bytes, where: str) -> IOData:
    table = _parse_table(raw, where, delimited=False)
    need = max(entry.inputs + entry.outputs) + 1
    if table.data.shape[1] < need:
        raise DataError(
            f"{where}: has {table.data.shape[1]} columns but DaISy {entry.filename} needs "
            f"{need} (expected shape {entry.shape})"
        )
    return IOData(
        u=table.data[:, list(entry.inputs)],
        y=table.data[:, list(entry.outputs)],
        dt=entry.dt,
        time_unit=entry.time_unit,
        input_names=entry.input_names,
        output_names=entry.output_names,
        input_units=entry.input_units,
        output_units=entry.output_units,
        name=entry.name,
        description=entry.description,
        synthetic=False,
        source=where,
    )


def load_daisy(
    name: str,
    path: str | os.PathLike[str] | None = None,
    *,
    verify: bool = True,
    download: bool = True,
    timeout: float = 30.0,
) -> IOData:
    """Load a DaISy data set (one of :data:`DAISY`) as :class:`~learnlds.datasets.IOData`.

    Look-up order: ``path`` (the file itself or a folder holding it), the folder named
    by ``$LEARNLDS_DATA``, the copy shipped with the package (``dryer``, ``ballbeam``,
    ``flutter``: these always load offline), :func:`daisy_cache_dir`, and finally a
    download (``$LEARNLDS_DAISY_URL`` overrides the base URL), gunzipped,
    sha256-verified and stored in the cache. Every file is verified against the
    registry's sha256 unless ``verify=False``.

    Parameters
    ----------
    name : str
        A set of :data:`DAISY` (case and a ``.dat``/``.gz`` suffix do not matter).
    path : str or os.PathLike, optional
        The file or a folder holding it; when given, nothing else is searched.
    verify : bool, default True
        Check the file's sha256 against the registry.
    download : bool, default True
        Allow downloading a set that is nowhere locally.
    timeout : float, default 30.0
        Seconds to wait for each download attempt.

    Returns
    -------
    IOData
        The record with the registry's names, units, sampling time and description;
        ``source`` says which file was read.

    Raises
    ------
    ParameterError
        An unknown set name or a bad ``verify``/``download``/``timeout``.
    FileNotFoundError
        ``path`` does not exist or lacks the file, or the set is nowhere and cannot be
        downloaded (the message says what to download and where to put it).
    FileFormatError
        The file fails the sha256 check or does not parse.

    Examples
    --------
    >>> d = load_daisy("dryer")
    >>> len(d), d.dt, d.input_names, d.output_names
    (1000, 0.08, ('heater voltage',), ('outlet air temperature',))
    """
    entry = _daisy_entry(name)
    verify = check_bool(verify, "verify")
    download = check_bool(download, "download")
    timeout = check_float(timeout, "timeout", low=0.0, low_open=True)
    found = _explicit(entry, path) if path is not None else _local(entry)
    if found is None:
        if not download:
            raise FileNotFoundError(
                _manual_instructions(entry, "downloading was disabled (download=False)")
            )
        found = _download(entry, timeout)
    raw = _raw_bytes(found)
    if verify:
        _verify(entry, str(found), raw)
    return _to_iodata(entry, raw, str(found))
