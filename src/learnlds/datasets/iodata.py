"""Input/output data sets: a small container, file readers, DaISy sets and a synthetic dryer.

* :class:`IOData` holds one experiment (inputs ``u`` of shape ``(T, n_inputs)``,
  outputs ``y`` of shape ``(T, n_outputs)``, sampling time, names and units) and
  reads CSV, whitespace text and ``.npz`` files with clear errors.
* :func:`load_daisy` returns real measured sets from DaISy (KU Leuven's Database for
  the Identification of Systems). It looks for the file in an explicit ``path``, the
  folder named by ``LEARNLDS_DATA``, the user cache, and only then downloads it
  (sha256-verified) into the cache. Without a network it says what to download and
  where to put it.
* :func:`prbs` and :func:`synthetic_dryer` give data that needs no files at all: a
  clearly labelled synthetic imitation of the DaISy hair dryer with a known system.

Only :mod:`learnlds.systems` is imported from the package, so this module can be used
on its own.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from .systems import CanonicalSystem, as_real_array

__all__ = [
    "DAISY",
    "DAISY_URL_ENV",
    "DATA_ENV",
    "DaisySet",
    "IOData",
    "daisy_cache_dir",
    "find_daisy",
    "load_daisy",
    "prbs",
    "synthetic_dryer",
    "synthetic_dryer_system",
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

ColumnSpec = int | str | Sequence[int | str] | None

_TEXT_SUFFIXES = (".dat", ".txt", ".asc")
_SUPPORTED = ".csv, .dat, .txt, .asc, .npz (text files may be gzipped: .csv.gz, .dat.gz, ...)"


# =========================================================================== IOData
def _as_signal(value: Any, name: str) -> np.ndarray:
    """A finite ``(T, k)`` float array from a 1-D or 2-D array."""
    arr = as_real_array(value, name, ndim=(1, 2))
    if arr.ndim == 1:
        arr = arr[:, None]
    return arr


def _names(value: Any, count: int, default: str, what: str) -> tuple[str, ...]:
    if value is None:
        return tuple(f"{default}{i + 1}" if count > 1 else default for i in range(count))
    items = (value,) if isinstance(value, str) else tuple(value)
    if len(items) != count:
        raise ValueError(f"{what}: expected {count} entries (one per channel), got {len(items)}")
    return tuple(str(v) for v in items)


def _units(value: Any, count: int, what: str) -> tuple[str, ...]:
    if value is None:
        return ("",) * count
    if isinstance(value, str):
        return (value,) * count
    return _names(value, count, "", what)


@dataclass(frozen=True, eq=False)
class IOData:
    """One input/output experiment, sampled at a constant rate.

    ``u`` has shape ``(T, n_inputs)`` and ``y`` shape ``(T, n_outputs)`` (1-D arrays are
    accepted and become one column). Arrays are copied and made read-only so that a
    data set cannot change under a model fitted to it. ``offsets`` holds the means
    removed by :meth:`detrend` (``None`` when nothing was removed); ``truth`` is the
    known system for synthetic data (``None`` for measurements).
    """

    u: np.ndarray
    y: np.ndarray
    dt: float | None = None
    input_names: tuple[str, ...] | None = None
    output_names: tuple[str, ...] | None = None
    input_units: tuple[str, ...] | None = None
    output_units: tuple[str, ...] | None = None
    name: str = "data"
    description: str = ""
    synthetic: bool = False
    time_unit: str = "s"
    offsets: tuple[np.ndarray, np.ndarray] | None = None
    truth: CanonicalSystem | None = field(default=None, repr=False)
    source: str | None = None

    def __post_init__(self) -> None:
        u = _as_signal(self.u, "u").copy()
        y = _as_signal(self.y, "y").copy()
        if u.shape[0] != y.shape[0]:
            raise ValueError(
                f"u and y must have the same number of samples, got {u.shape[0]} and {y.shape[0]}"
            )
        if u.shape[0] == 0:
            raise ValueError("u, y: the data set is empty (0 samples)")
        if u.shape[1] == 0 or y.shape[1] == 0:
            raise ValueError(
                f"u, y: need at least one input and one output, got {u.shape}, {y.shape}"
            )
        dt = self.dt
        if dt is not None:
            try:
                dt = float(dt)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"dt: must be a number or None, got {self.dt!r}") from exc
            if not (np.isfinite(dt) and dt > 0):
                raise ValueError(f"dt: the sampling time must be finite and > 0, got {dt}")
        nu, ny = u.shape[1], y.shape[1]
        set_ = object.__setattr__
        set_(self, "input_names", _names(self.input_names, nu, "u", "input_names"))
        set_(self, "output_names", _names(self.output_names, ny, "y", "output_names"))
        set_(self, "input_units", _units(self.input_units, nu, "input_units"))
        set_(self, "output_units", _units(self.output_units, ny, "output_units"))
        if self.offsets is not None:
            ou = as_real_array(self.offsets[0], "offsets[0]").reshape(-1).copy()
            oy = as_real_array(self.offsets[1], "offsets[1]").reshape(-1).copy()
            if ou.shape != (nu,) or oy.shape != (ny,):
                raise ValueError(
                    f"offsets: expected shapes ({nu},) and ({ny},), got {ou.shape} and {oy.shape}"
                )
            ou.setflags(write=False)
            oy.setflags(write=False)
            set_(self, "offsets", (ou, oy))
        if self.truth is not None and not isinstance(self.truth, CanonicalSystem):
            raise ValueError(f"truth: must be a CanonicalSystem or None, got {type(self.truth)}")
        u.setflags(write=False)
        y.setflags(write=False)
        set_(self, "u", u)
        set_(self, "y", y)
        set_(self, "dt", dt)
        set_(self, "name", str(self.name))
        set_(self, "synthetic", bool(self.synthetic))

    # ------------------------------------------------------------------ shape facts
    def __len__(self) -> int:
        return int(self.u.shape[0])

    @property
    def n_inputs(self) -> int:
        return int(self.u.shape[1])

    @property
    def n_outputs(self) -> int:
        return int(self.y.shape[1])

    @property
    def is_siso(self) -> bool:
        return self.n_inputs == 1 and self.n_outputs == 1

    @property
    def u1(self) -> np.ndarray:
        """The single input as a 1-D array of length ``T`` (a view)."""
        if self.n_inputs != 1:
            raise ValueError(f"u1: the data set '{self.name}' has {self.n_inputs} inputs, not 1")
        return self.u[:, 0]

    @property
    def y1(self) -> np.ndarray:
        """The single output as a 1-D array of length ``T`` (a view)."""
        if self.n_outputs != 1:
            raise ValueError(f"y1: the data set '{self.name}' has {self.n_outputs} outputs, not 1")
        return self.y[:, 0]

    @property
    def time(self) -> np.ndarray:
        """Sample times ``k * dt`` (sample indices when ``dt`` is unknown)."""
        k = np.arange(len(self), dtype=float)
        return k * self.dt if self.dt is not None else k

    def __repr__(self) -> str:
        kind = "synthetic" if self.synthetic else "measured"
        dt = "dt unknown" if self.dt is None else f"dt={self.dt:g} {self.time_unit}"
        return (
            f"IOData(name={self.name!r}, T={len(self)}, inputs={list(self.input_names)}, "
            f"outputs={list(self.output_names)}, {dt}, {kind}"
            f"{', detrended' if self.offsets is not None else ''})"
        )

    # ------------------------------------------------------------------ transforms
    def detrend(self) -> IOData:
        """A copy with the mean of every channel removed; the means go to ``offsets``.

        Repeated calls accumulate the offsets, so :meth:`restore_output` always returns
        to the original level.
        """
        mu, my = self.u.mean(axis=0), self.y.mean(axis=0)
        if self.offsets is not None:
            off = (self.offsets[0] + mu, self.offsets[1] + my)
        else:
            off = (mu, my)
        return replace(self, u=self.u - mu, y=self.y - my, offsets=off)

    def restore_output(self, y_pred: Any) -> np.ndarray:
        """Add the removed output means back to a prediction made on detrended data.

        ``y_pred`` has shape ``(T,)`` (single output) or ``(T, n_outputs)``.
        """
        yp = as_real_array(y_pred, "y_pred", ndim=(1, 2))
        if self.offsets is None:
            return yp.copy()
        oy = self.offsets[1]
        if yp.ndim == 1:
            if self.n_outputs != 1:
                raise ValueError(
                    f"y_pred: 1-D predictions need a single-output data set, this one has "
                    f"{self.n_outputs} outputs"
                )
            return yp + oy[0]
        if yp.shape[1] != self.n_outputs:
            raise ValueError(f"y_pred: expected {self.n_outputs} columns, got shape {yp.shape}")
        return yp + oy

    def split(self, fraction: float = 0.5) -> tuple[IOData, IOData]:
        """``(estimation, validation)``: the first ``fraction`` of the samples and the rest."""
        fraction = float(fraction)
        if not 0.0 < fraction < 1.0:
            raise ValueError(f"fraction: must lie strictly between 0 and 1, got {fraction}")
        cut = int(round(fraction * len(self)))
        if cut < 1 or cut > len(self) - 1:
            raise ValueError(
                f"fraction: {fraction} of {len(self)} samples leaves an empty part; "
                "use more data or a fraction nearer 0.5"
            )
        est = replace(self, u=self.u[:cut], y=self.y[:cut], name=f"{self.name} (estimation)")
        val = replace(self, u=self.u[cut:], y=self.y[cut:], name=f"{self.name} (validation)")
        return est, val

    def select(self, inputs: ColumnSpec = None, outputs: ColumnSpec = None) -> IOData:
        """A copy keeping only some channels, chosen by 0-based index or by name."""
        ui = _pick(inputs, list(self.input_names), "input", self.name)
        yi = _pick(outputs, list(self.output_names), "output", self.name)
        off = None
        if self.offsets is not None:
            off = (self.offsets[0][ui], self.offsets[1][yi])
        everything = ui == list(range(self.n_inputs)) and yi == list(range(self.n_outputs))
        return replace(
            self,
            u=self.u[:, ui],
            y=self.y[:, yi],
            input_names=[self.input_names[i] for i in ui],
            output_names=[self.output_names[i] for i in yi],
            input_units=[self.input_units[i] for i in ui],
            output_units=[self.output_units[i] for i in yi],
            offsets=off,
            truth=self.truth if everything else None,
        )

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_arrays(cls, u: Any, y: Any, dt: float | None = None, **kwargs: Any) -> IOData:
        """Wrap arrays; ``kwargs`` are the other fields (names, units, ``name``, ...)."""
        return cls(u=u, y=y, dt=dt, **kwargs)

    @classmethod
    def from_pandas(
        cls,
        df: Any,
        input_cols: ColumnSpec,
        output_cols: ColumnSpec,
        dt: float | None = None,
        **kwargs: Any,
    ) -> IOData:
        """Take columns of a DataFrame (by label, or by position when not a label).

        Channel names default to the column labels.
        """
        if not hasattr(df, "columns") or not hasattr(df, "to_numpy"):
            raise ValueError(f"df: expected a pandas DataFrame, got {type(df).__name__}")
        labels = list(df.columns)
        where = kwargs.get("name") or "DataFrame"
        ui = _pick_labels(input_cols, labels, "input", where)
        yi = _pick_labels(output_cols, labels, "output", where)
        _no_overlap(ui, yi, [str(c) for c in labels], where)
        try:
            data = df.iloc[:, ui + yi].to_numpy(dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}: the chosen columns are not all numeric ({exc})") from exc
        names = [str(labels[i]) for i in ui + yi]
        _check_finite(data, names, where)
        kwargs.setdefault("input_names", names[: len(ui)])
        kwargs.setdefault("output_names", names[len(ui) :])
        return cls(u=data[:, : len(ui)], y=data[:, len(ui) :], dt=dt, **kwargs)

    @classmethod
    def from_file(
        cls,
        path: str | os.PathLike[str],
        input_cols: ColumnSpec = None,
        output_cols: ColumnSpec = None,
        dt: float | None = None,
        **kwargs: Any,
    ) -> IOData:
        """Read a data file: ``.csv``, whitespace text (``.dat``/``.txt``/``.asc``) or ``.npz``.

        Text files may start with a header row of column names (detected because it is
        not numeric) and may contain ``#`` or ``%`` comment lines; ``.gz`` is read
        transparently. Columns are chosen by header name or 0-based index. Default: when
        neither ``input_cols`` nor ``output_cols`` is given, column 0 is the input and
        column 1 the output; when only one of them is given, the other takes all the
        remaining columns. Headerless columns are named ``col0``, ``col1``, ...

        ``.npz`` archives hold arrays ``u`` and ``y`` (or ``input``/``output``,
        ``inputs``/``outputs``) and optionally ``dt``, ``input_names``,
        ``output_names``; ``input_cols``/``output_cols`` then pick columns of ``u``/``y``.
        """
        p = Path(path)
        kwargs.setdefault("name", _stem(p))
        kwargs.setdefault("source", str(p))
        if _base_suffix(p) == ".npz":
            return _read_npz(cls, p, input_cols, output_cols, dt, kwargs)
        header, data = _read_table(p)
        ncol = data.shape[1]
        names = header if header is not None else [f"col{i}" for i in range(ncol)]
        if input_cols is None and output_cols is None:
            if ncol < 2:
                raise ValueError(
                    f"{p}: needs at least 2 columns (input, output) but has {ncol}; "
                    "choose columns with input_cols= and output_cols="
                )
            ui, yi = [0], [1]
        elif output_cols is None:
            ui = _pick(input_cols, names, "input", str(p))
            yi = [i for i in range(ncol) if i not in ui]
        elif input_cols is None:
            yi = _pick(output_cols, names, "output", str(p))
            ui = [i for i in range(ncol) if i not in yi]
        else:
            ui = _pick(input_cols, names, "input", str(p))
            yi = _pick(output_cols, names, "output", str(p))
        if not ui or not yi:
            raise ValueError(f"{p}: no column left for the {'inputs' if not ui else 'outputs'}")
        _no_overlap(ui, yi, names, str(p))
        _check_finite(data[:, ui + yi], [names[i] for i in ui + yi], str(p))
        if header is not None:
            kwargs.setdefault("input_names", [names[i] for i in ui])
            kwargs.setdefault("output_names", [names[i] for i in yi])
        return cls(u=data[:, ui], y=data[:, yi], dt=dt, **kwargs)

    def to_pandas(self) -> Any:
        """A DataFrame with one column per channel (pandas is imported only here)."""
        import pandas as pd

        cols = {n: self.u[:, i] for i, n in enumerate(self.input_names)}
        for i, n in enumerate(self.output_names):
            cols[n if n not in cols else f"{n} (output)"] = self.y[:, i]
        return pd.DataFrame(cols, index=pd.Index(self.time, name="time"))


# --------------------------------------------------------------------------- column picking
def _as_list(spec: ColumnSpec) -> list[int | str]:
    if isinstance(spec, (str, int, np.integer)):
        return [spec]  # type: ignore[list-item]
    return list(spec)  # type: ignore[arg-type]


def _pick(spec: ColumnSpec, names: list[str], role: str, where: str) -> list[int]:
    """0-based indices for ``spec`` (names or indices); ``None`` means all columns."""
    if spec is None:
        return list(range(len(names)))
    out: list[int] = []
    for item in _as_list(spec):
        if isinstance(item, str):
            hits = [i for i, n in enumerate(names) if n == item]
            if not hits:
                avail = ", ".join(repr(n) for n in names)
                raise ValueError(f"{where}: unknown {role} column {item!r}; available: {avail}")
            idx = hits[0]
        elif isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            idx = int(item)
            if not -len(names) <= idx < len(names):
                raise ValueError(
                    f"{where}: {role} column index {idx} is out of range; there are "
                    f"{len(names)} columns (0 to {len(names) - 1})"
                )
            idx %= len(names)
        else:
            raise ValueError(f"{where}: {role} columns are names or 0-based indices, got {item!r}")
        if idx in out:
            raise ValueError(f"{where}: {role} column {names[idx]!r} is listed twice")
        out.append(idx)
    if not out:
        raise ValueError(f"{where}: no {role} column chosen")
    return out


def _pick_labels(spec: ColumnSpec, labels: list[Any], role: str, where: str) -> list[int]:
    """Like :func:`_pick` for DataFrame labels (which need not be strings)."""
    if spec is None:
        raise ValueError(f"{where}: {role}_cols must be given")
    items = [spec] if not isinstance(spec, (list, tuple)) else list(spec)
    out: list[int] = []
    for item in items:
        if item in labels:
            out.append(labels.index(item))
        elif isinstance(item, (int, np.integer)) and -len(labels) <= int(item) < len(labels):
            out.append(int(item) % len(labels))
        else:
            avail = ", ".join(repr(c) for c in labels)
            raise ValueError(f"{where}: unknown {role} column {item!r}; available: {avail}")
    if not out:
        raise ValueError(f"{where}: no {role} column chosen")
    return out


def _no_overlap(ui: list[int], yi: list[int], names: list[str], where: str) -> None:
    both = [names[i] for i in ui if i in yi]
    if both:
        raise ValueError(f"{where}: column(s) {both} chosen as both input and output")


def _check_finite(data: np.ndarray, names: list[str], where: str) -> None:
    bad = ~np.isfinite(data)
    if bad.any():
        col = int(np.argmax(bad.any(axis=0)))
        row = int(np.argmax(bad[:, col]))
        kind = "NaN" if np.isnan(data[row, col]) else "inf"
        raise ValueError(
            f"{where}: column {names[col]!r} contains {kind} (first at data row {row}, 0-based); "
            "remove or interpolate missing samples first"
        )


# --------------------------------------------------------------------------- file readers
def _base_suffix(p: Path) -> str:
    suffixes = [s.lower() for s in p.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def _stem(p: Path) -> str:
    name = p.name
    if name.lower().endswith(".gz"):
        name = name[:-3]
    return Path(name).stem


def _read_bytes(p: Path) -> bytes:
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ValueError(f"{p}: cannot read file ({exc.strerror or exc})") from exc
    if p.name.lower().endswith(".gz") or raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise ValueError(f"{p}: not a valid gzip file ({exc})") from exc
    return raw


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _read_table(p: Path, raw: bytes | None = None) -> tuple[list[str] | None, np.ndarray]:
    """``(header or None, data of shape (rows, cols))`` from a CSV or whitespace text file.

    ``raw`` is the (uncompressed) content when the caller has already read it.
    """
    suffix = _base_suffix(p)
    if suffix != ".csv" and suffix not in _TEXT_SUFFIXES:
        raise ValueError(
            f"{p}: unsupported file type {suffix or '(none)'!r}; supported: {_SUPPORTED}"
        )
    if raw is None:
        raw = _read_bytes(p)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{p}: not a text file (byte {exc.start} is not UTF-8)") from exc
    lines = [
        (k + 1, s)
        for k, line in enumerate(text.splitlines())
        if (s := line.strip()) and not s.startswith(("#", "%"))
    ]
    if not lines:
        raise ValueError(f"{p}: the file holds no data rows")
    if suffix == ".csv":
        first = lines[0][1]
        delim = next((d for d in (",", ";", "\t") if d in first), None)
        if delim is None:
            rows = [[s] for _, s in lines]
        else:
            rows = [
                [t.strip() for t in r] for r in csv.reader([s for _, s in lines], delimiter=delim)
            ]
    else:
        rows = [s.split() for _, s in lines]
    header: list[str] | None = None
    if not all(_is_number(t) for t in rows[0]):
        header = [t.strip().strip('"').strip("'") for t in rows[0]]
        if len(set(header)) != len(header):
            dup = sorted({h for h in header if header.count(h) > 1})
            raise ValueError(f"{p}: duplicate column names in the header: {dup}")
        lines, rows = lines[1:], rows[1:]
    if not rows:
        raise ValueError(f"{p}: the file holds a header but no data rows")
    ncol = len(header) if header is not None else len(rows[0])
    for (lineno, _), r in zip(lines, rows, strict=True):
        if len(r) != ncol:
            ref = "the header" if header is not None else "the first row"
            raise ValueError(
                f"{p}, line {lineno}: {len(r)} fields where {ref} has {ncol}; "
                "rows of different lengths (missing or extra values)"
            )
    try:
        data = np.array(rows, dtype=float)
    except ValueError:
        names = header if header is not None else [f"col{i}" for i in range(ncol)]
        for (lineno, _), r in zip(lines, rows, strict=True):
            for j, tok in enumerate(r):
                if not _is_number(tok):
                    what = "an empty field" if tok == "" else f"{tok!r}, which is not a number"
                    raise ValueError(f"{p}, line {lineno}, column {names[j]!r}: {what}") from None
        raise  # pragma: no cover - numpy and float() disagree
    return header, data


def _read_npz(
    cls: type[IOData],
    p: Path,
    input_cols: ColumnSpec,
    output_cols: ColumnSpec,
    dt: float | None,
    kwargs: dict[str, Any],
) -> IOData:
    try:
        with np.load(p, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except OSError as exc:
        raise ValueError(f"{p}: cannot read file ({exc})") from exc
    except Exception as exc:  # zipfile.BadZipFile, pickled objects, ...
        raise ValueError(f"{p}: not a readable .npz archive ({exc})") from exc
    pairs = (("u", "y"), ("input", "output"), ("inputs", "outputs"))
    keys = next((pair for pair in pairs if pair[0] in arrays and pair[1] in arrays), None)
    if keys is None:
        raise ValueError(
            f"{p}: expected arrays named 'u' and 'y' (or 'input' and 'output'); "
            f"found {sorted(arrays) or 'none'}"
        )
    u = as_real_array(arrays[keys[0]], f"{p}: array {keys[0]!r}", ndim=(1, 2))
    y = as_real_array(arrays[keys[1]], f"{p}: array {keys[1]!r}", ndim=(1, 2))
    if u.shape[0] != y.shape[0]:
        raise ValueError(
            f"{p}: arrays {keys[0]!r} and {keys[1]!r} have different lengths "
            f"({u.shape[0]} and {y.shape[0]} samples)"
        )
    if dt is None and "dt" in arrays:
        dt = float(as_real_array(arrays["dt"], f"{p}: array 'dt'").reshape(-1)[0])
    for key in ("input_names", "output_names", "input_units", "output_units"):
        if key in arrays and key not in kwargs:
            kwargs[key] = [str(s) for s in np.atleast_1d(arrays[key])]
    data = cls(u=u, y=y, dt=dt, **kwargs)
    if input_cols is not None or output_cols is not None:
        data = data.select(input_cols, output_cols)
    return data


# =========================================================================== DaISy
@dataclass(frozen=True)
class DaisySet:
    """What :func:`load_daisy` knows about one DaISy file (columns are 0-based)."""

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

    @property
    def relative_url(self) -> str:
        """Path of the gzipped file below a DaISy base URL."""
        return f"{self.category}/{self.filename}.gz"

    def urls(self) -> list[str]:
        """Download locations: ``$LEARNLDS_DAISY_URL`` alone when set, else the defaults."""
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
    return DaisySet(**kw)


DAISY: Mapping[str, DaisySet] = MappingProxyType(
    {
        s.name: s
        for s in (
            _set(
                name="dryer",
                filename="dryer.dat",
                category="mechanical",
                shape=(1000, 2),
                inputs=(0,),
                outputs=(1,),
                dt=0.08,
                input_names=("heater voltage",),
                output_names=("outlet air temperature",),
                input_units=("V",),
                output_units=("V (thermocouple)",),
                description=(
                    "DaISy [96-006], the hair dryer (Feedback PT326 process trainer): air fanned "
                    "through a tube and heated at the inlet. Input: heater voltage, binary "
                    "3.41/6.41 V switching with probability 0.2; output: outlet air temperature "
                    "as thermocouple volts. Sampling time 0.08 s (Ljung; DaISy states none). SISO."
                ),
                sha256="adcb2f5a1d9e174d08dd49f7f037626745b5e69cbda0bc1e8dca2a7c687d4538",
            ),
            _set(
                name="ballbeam",
                filename="ballbeam.dat",
                category="mechanical",
                shape=(1000, 2),
                inputs=(0,),
                outputs=(1,),
                dt=0.1,
                input_names=("beam angle",),
                output_names=("ball position",),
                description=(
                    "DaISy ball-and-beam: input beam angle, output ball position. Open loop the "
                    "plant is integrating (marginally unstable). Sampling time 0.1 s. SISO."
                ),
                sha256="e9c48a4f7474953969d4950b4ef72558084b1995f776792ac0cbc80550e6ff42",
            ),
            _set(
                name="flutter",
                filename="flutter.dat",
                category="mechanical",
                shape=(1024, 2),
                inputs=(0,),
                outputs=(1,),
                input_names=("u",),
                output_names=("y",),
                description=(
                    "DaISy wing flutter: highly coloured input u, output y. Sampling time not "
                    "stated. SISO."
                ),
                sha256="e944d4bc32ac403bc20f64e45afff525456dd19166962ebcc47a2cc9f9b39d81",
            ),
            _set(
                name="CD_player_arm",
                filename="CD_player_arm.dat",
                category="mechanical",
                shape=(2048, 4),
                inputs=(0, 1),
                outputs=(2, 3),
                description=(
                    "DaISy CD player arm: inputs in columns 1-2, outputs in columns 3-4. "
                    "Sampling time not stated. MIMO 2x2."
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
                    "DaISy glass furnace: column 1 is a sample index, inputs in columns 2-4, "
                    "outputs in columns 5-10. Sampling time not stated. MIMO 3x6."
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


def _daisy_entry(name: str) -> DaisySet:
    key = str(name).strip()
    if key.lower().endswith(".gz"):
        key = key[:-3]
    if key.lower().endswith(".dat"):
        key = key[:-4]
    for k, entry in DAISY.items():
        if k.lower() == key.lower():
            return entry
    raise ValueError(f"unknown DaISy set {name!r}; known sets: {', '.join(DAISY)}")


def daisy_cache_dir() -> Path:
    """The user cache folder for downloaded DaISy files.

    ``$XDG_CACHE_HOME/learnlds/daisy`` when ``XDG_CACHE_HOME`` is set, ``%LOCALAPPDATA%``
    on Windows, else ``~/.cache/learnlds/daisy``. Not created here.
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


def _search_folders() -> list[Path]:
    folders = []
    env = os.environ.get(DATA_ENV)
    if env:
        folders.append(Path(env).expanduser())
    folders.append(daisy_cache_dir())
    return folders


def _explicit(entry: DaisySet, path: str | os.PathLike[str]) -> Path:
    p = Path(path).expanduser()
    if p.is_dir():
        found = next((c for c in _candidates(p, entry.filename) if c.is_file()), None)
        if found is None:
            raise ValueError(f"{p}: folder has no {entry.filename} (nor {entry.filename}.gz)")
        return found
    if p.is_file():
        return p
    raise ValueError(f"{p}: no such file or folder (given as the path of DaISy set {entry.name!r})")


def find_daisy(name: str, path: str | os.PathLike[str] | None = None) -> Path | None:
    """The local file of DaISy set ``name``, or ``None``; never downloads or verifies.

    Looks in ``path`` (a file or a folder) when given, else in ``$LEARNLDS_DATA`` and
    then the cache folder (:func:`daisy_cache_dir`).
    """
    entry = _daisy_entry(name)
    if path is not None:
        try:
            return _explicit(entry, path)
        except ValueError:
            return None
    for folder in _search_folders():
        for c in _candidates(folder, entry.filename):
            if c.is_file():
                return c
    return None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _download(entry: DaisySet, timeout: float) -> Path:
    """Fetch, gunzip, verify and cache ``entry``; ``ValueError`` says what to do by hand."""
    cache = daisy_cache_dir()
    tried: list[str] = []
    mismatch: list[str] = []
    for url in entry.urls():
        try:
            req = urllib.request.Request(url, headers={"User-Agent": "learnlds"})
            with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310
                payload = resp.read()
        except (urllib.error.URLError, OSError, ValueError) as exc:
            if isinstance(exc, urllib.error.HTTPError):
                reason: object = f"HTTP {exc.code} {exc.reason}"
            else:
                reason = getattr(exc, "reason", None) or exc
            tried.append(f"{url} ({reason})")
            continue
        if payload[:2] == b"\x1f\x8b":
            try:
                payload = gzip.decompress(payload)
            except (OSError, EOFError) as exc:
                mismatch.append(f"{url}: the download is not valid gzip ({exc})")
                continue
        got = _sha256(payload)
        if got != entry.sha256:
            mismatch.append(f"{url}: sha256 {got}, expected {entry.sha256}")
            continue
        try:
            cache.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=cache, prefix=f".{entry.filename}.", suffix=".part")
            with os.fdopen(fd, "wb") as fh:
                fh.write(payload)
            target = cache / entry.filename
            os.replace(tmp, target)
        except OSError as exc:
            raise ValueError(
                f"downloaded {entry.filename} from {url} (sha256 verified) but cannot store it "
                f"in the cache folder {cache} ({exc}); set {DATA_ENV} to a writable folder "
                "holding the file, or pass path="
            ) from exc
        return target
    if mismatch:
        raise ValueError(
            f"DaISy set {entry.name!r}: sha256 verification failed for the downloaded "
            f"{entry.filename}; nothing was stored. " + "; ".join(mismatch)
        )
    raise ValueError(_manual_instructions(entry, "could not be downloaded: " + "; ".join(tried)))


def _manual_instructions(entry: DaisySet, why: str) -> str:
    env = os.environ.get(DATA_ENV)
    env_folder = (
        f"{Path(env).expanduser()} (from {DATA_ENV})" if env else f"a folder named by {DATA_ENV}"
    )
    urls = " or ".join(entry.urls())
    return (
        f"DaISy set {entry.name!r} ({entry.filename}) was not found locally and {why}. "
        f"Download {urls}, gunzip it, and put {entry.filename} in {env_folder} or in the "
        f"cache folder {daisy_cache_dir()}; or pass load_daisy({entry.name!r}, path=...)."
    )


def _verify_local(entry: DaisySet, p: Path, raw: bytes) -> None:
    got = _sha256(raw)
    if got != entry.sha256:
        raise ValueError(
            f"{p}: sha256 {got} does not match the DaISy {entry.filename} "
            f"({entry.sha256}); the file is corrupt or a different file. Replace it, or pass "
            "verify=False to load it anyway"
        )


def load_daisy(
    name: str,
    path: str | os.PathLike[str] | None = None,
    *,
    verify: bool = True,
    download: bool = True,
    timeout: float = 30.0,
) -> IOData:
    """Load a DaISy data set (one of :data:`DAISY`) as :class:`IOData`.

    Look-up order: ``path`` (the file itself or a folder holding it; an explicit path
    that does not exist is an error), ``$LEARNLDS_DATA``, :func:`daisy_cache_dir`, and
    finally a download (``$LEARNLDS_DAISY_URL`` overrides the base URL), gunzipped,
    sha256-verified and stored in the cache. Local files are verified too unless
    ``verify=False``. Raises ``ValueError`` saying what to download and where to put it
    when the file is nowhere and cannot be fetched.
    """
    entry = _daisy_entry(name)
    if path is not None:
        p: Path | None = _explicit(entry, path)
    else:
        p = find_daisy(entry.name)
    if p is None:
        if not download:
            raise ValueError(
                _manual_instructions(entry, "downloading was disabled (download=False)")
            )
        p = _download(entry, timeout)
    raw = _read_bytes(p)
    if verify:
        _verify_local(entry, p, raw)
    _, data = _read_table(p, raw)
    need = max(entry.inputs + entry.outputs) + 1
    if data.shape[1] < need:
        raise ValueError(
            f"{p}: has {data.shape[1]} columns but DaISy {entry.filename} needs {need} "
            f"(expected shape {entry.shape})"
        )
    return IOData(
        u=data[:, list(entry.inputs)],
        y=data[:, list(entry.outputs)],
        dt=entry.dt,
        time_unit=entry.time_unit,
        input_names=entry.input_names,
        output_names=entry.output_names,
        input_units=entry.input_units,
        output_units=entry.output_units,
        name=entry.name,
        description=entry.description,
        synthetic=False,
        source=str(p),
    )


# =========================================================================== synthetic data
def prbs(
    T: int,
    p_switch: float = 0.2,
    levels: tuple[float, float] = (-1.0, 1.0),
    rng: Any = None,
    *,
    start: int | None = None,
) -> np.ndarray:
    """Random binary signal of length ``T`` that switches level with probability ``p_switch``.

    At every step after the first the signal flips between ``levels[0]`` and
    ``levels[1]`` with probability ``p_switch`` (the DaISy dryer input). ``start``
    (0 or 1) picks the first level; by default it is drawn at random.
    """
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T < 1:
        raise ValueError(f"T: must be an integer >= 1, got {T!r}")
    p = float(p_switch)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p_switch: must be a probability in [0, 1], got {p_switch}")
    lv = as_real_array(levels, "levels", ndim=(1,))
    if lv.shape != (2,):
        raise ValueError(f"levels: must be two numbers (low, high), got {lv.shape[0]}")
    if lv[0] == lv[1]:
        raise ValueError(f"levels: the two levels must differ, got {tuple(lv)}")
    if start is not None and start not in (0, 1):
        raise ValueError(f"start: must be 0, 1 or None, got {start!r}")
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    first = int(gen.integers(2)) if start is None else int(start)
    flips = gen.random(int(T) - 1) < p
    state = (first + np.concatenate(([0], np.cumsum(flips)))) % 2
    return lv[state]


SYNTHETIC_DRYER_DT = 0.08
SYNTHETIC_DRYER_LEVELS = (3.41, 6.41)
SYNTHETIC_DRYER_U_REF = 4.91  # mid level: the truth maps u - U_REF to y - Y_OFFSET
SYNTHETIC_DRYER_Y_OFFSET = 4.89
SYNTHETIC_DRYER_NOISE = 0.02


def synthetic_dryer_system() -> CanonicalSystem:
    """The known system behind :func:`synthetic_dryer` (order 4 canonical form).

    ``G(z) = (0.028 z + 0.01925) / (z^2 (z - 0.85)(z - 0.65))``, i.e.
    ``(0.028 q^-3 + 0.01925 q^-4) / ((1 - 0.85 q^-1)(1 - 0.65 q^-1))``: a two-pole thermal
    low-pass with three samples of delay (two of dead time on top of the canonical form's
    one) and DC gain 0.9 V/V. The two poles at 0 are the dead time.
    """
    p1, p2 = 0.85, 0.65
    gain = 0.9
    b_sum = gain * (1 - p1) * (1 - p2)  # 0.04725
    b0, b1 = 0.028, b_sum - 0.028  # q^-3 and q^-4 coefficients
    a = np.array([-(p1 + p2), p1 * p2, 0.0, 0.0])  # p_a(z) = z^2 (z - p1)(z - p2)
    c = np.array([b1, b0, 0.0, 0.0])  # c(z) = b1 + b0 z
    return CanonicalSystem(a, c, 0.0)


def synthetic_dryer(
    T: int = 1000, rng: Any = 0, *, noise_std: float = SYNTHETIC_DRYER_NOISE
) -> IOData:
    """Synthetic hair-dryer-like data that needs no files (labelled synthetic).

    Input: :func:`prbs` with levels 3.41/6.41 V switching with probability 0.2.
    Output: ``y_t = 4.89 + G(q)(u_t - 4.91) + e_t`` with ``G`` from
    :func:`synthetic_dryer_system` and ``e_t ~ N(0, noise_std^2)``; ``dt = 0.08`` s.
    The same ``rng`` seed gives the same data. ``.truth`` holds ``G`` (it relates the
    detrended signals).
    """
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T < 1:
        raise ValueError(f"T: must be an integer >= 1, got {T!r}")
    noise = float(noise_std)
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise_std: must be finite and >= 0, got {noise_std}")
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    sys = synthetic_dryer_system()
    u = prbs(int(T), 0.2, SYNTHETIC_DRYER_LEVELS, gen)
    y = SYNTHETIC_DRYER_Y_OFFSET + sys.simulate(u - SYNTHETIC_DRYER_U_REF)
    if noise > 0:
        y = y + gen.normal(scale=noise, size=y.shape)
    return IOData(
        u=u,
        y=y,
        dt=SYNTHETIC_DRYER_DT,
        input_names=("heater voltage",),
        output_names=("outlet air temperature",),
        input_units=("V",),
        output_units=("V",),
        name="synthetic-dryer",
        description=(
            "SYNTHETIC data imitating the DaISy hair dryer (not a measurement): PRBS heater "
            "voltage 3.41/6.41 V switching with probability 0.2, a known two-pole thermal "
            "low-pass (poles 0.85, 0.65, DC gain 0.9) with three samples of delay, output "
            f"offset {SYNTHETIC_DRYER_Y_OFFSET} V and Gaussian noise of std {noise:g} V, "
            f"dt = {SYNTHETIC_DRYER_DT} s."
        ),
        synthetic=True,
        truth=sys,
    )
