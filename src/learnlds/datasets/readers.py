"""Reading input/output data files: CSV, whitespace text (``.dat``/``.txt``/``.asc``), ``.npz``.

Text files may start with a header row of column names (detected because it is not
numeric) and may hold ``#`` or ``%`` comment lines; ``.gz`` files are read
transparently. Errors say which file and which line:

* a missing file raises the builtin :class:`FileNotFoundError` (with the path);
* a file that does not parse (binary data, ragged rows, words among numbers, a broken
  archive) raises :class:`~learnlds.errors.FileFormatError` naming the file and line;
* numbers that cannot be used (NaN, inf) raise :class:`~learnlds.errors.DataError`.

Default columns: a column whose header looks like a time or sample index (``time``,
``t``, ``t [s]``, ``index``, ``idx``, ``sample``, ``n``, ``k``, ``step``, ...) is never
taken as a signal by default; in a headerless file with three or more columns a first
column that increases in equal steps is taken for such an index too, and so is an
unnamed one (the index pandas writes). Header names that say a role (``u``, ``u2``,
``input_1``; ``y``, ``out``) choose the inputs and outputs in any order. The sampling
time ``dt`` is the even step of a time axis, in seconds: a unit in its header (``t
[ms]``, ``time_min``) is converted, and ISO dates and times (``2024-01-01 00:00:00.1``)
in a time-named column are read as seconds since its first row. When the default
choice is not obvious, the returned :class:`~learnlds.datasets.IOData` says which
columns it used in ``columns_used`` and ``column_note``.

Examples
--------
>>> import os, tempfile
>>> with tempfile.TemporaryDirectory() as folder:
...     path = os.path.join(folder, "log.csv")
...     with open(path, "w") as fh:
...         _ = fh.write("t,heater,temp,fan\\n0,1,20,5\\n1,2,21,5\\n2,1,22,5\\n")
...     fields, _ = read_fields(path)
>>> fields["columns_used"]
(['heater'], ['temp'])
>>> print(fields["column_note"][fields["column_note"].index("used"):])
used column 'heater' (column 1) as input and 'temp' (column 2) as output; skipped
time/index column 't' (column 0); not used: 'fan' (column 3); choose columns with
input_cols= and output_cols= (CLI: --input-col, --output-col); dt 1 from the time column 't'
"""

from __future__ import annotations

import csv
import errno
import gzip
import os
import re
import warnings
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .._boundary import as_float_array
from .._files import as_path, open_zarr_group
from ..errors import DataError, FileFormatError
from .columns import ColumnSpec, _check_finite, _no_overlap, _pick

__all__ = ["SUPPORTED", "open_npy", "open_zarr", "read_fields", "read_inputs", "read_table"]

SUPPORTED = (
    ".csv, .dat, .txt, .asc, .npz (text files may be gzipped: .csv.gz, .dat.gz, ...), "
    ".npy (memory-mapped: one (T, channels) array, or u.npy beside y.npy), "
    ".zarr (a group with arrays u and y, read lazily; needs the zarr package)"
)
"""The file types :meth:`IOData.from_file` understands, as a sentence for messages."""

_TEXT_SUFFIXES = (".dat", ".txt", ".asc")
_UNITS = re.compile(r"\s*[\(\[\{].*$")
_TIME_NAME = re.compile(
    r"^(t|k|n|#|no|nr|time|times|timestamp|date|datetime|index|idx|sample|samples|step|steps"
    r"|sample[ _-]?(index|idx|no|nr|number)|(t|time)[ _-]?(s|sec|secs|seconds|ms|min|mins"
    r"|minutes|h|hr|hours))$"
)
_TIME_AXIS = re.compile(
    r"^(t|time|times|(t|time)[ _-]?(?P<unit>s|sec|secs|seconds|ms|min|mins|minutes|h|hr|hours))$"
)
"""Header names of a time axis (not a sample index): an even step there is the sampling
time, in the ``unit`` the name carries (seconds when none)."""
_SECONDS = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1.0),
    **dict.fromkeys(("ms", "msec", "millisecond", "milliseconds"), 1e-3),
    **dict.fromkeys(("us", "\u00b5s", "\u03bcs", "usec", "microsecond", "microseconds"), 1e-6),
    **dict.fromkeys(("ns", "nanosecond", "nanoseconds"), 1e-9),
    **dict.fromkeys(("min", "mins", "minute", "minutes"), 60.0),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600.0),
}
"""Seconds per time unit, for a time column's header (``dt`` is in seconds everywhere)."""
_BRACKETED = re.compile(r"[\(\[\{]\s*([^\)\]\}]*?)\s*[\)\]\}]")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2}):(\d{2}(?:\.\d*)?)$")
"""A time of day, ``hh:mm:ss`` with optional fractions of a second."""
_UNNAMED = re.compile(r"^(unnamed: ?\d+)?$")
"""A header name that is none: how pandas' ``to_csv`` heads the index it writes."""
_INPUT_ROLE = re.compile(r"^(u|in|input|inputs)[ _.-]?\d*$")
_OUTPUT_ROLE = re.compile(r"^(y|out|output|outputs)[ _.-]?\d*$")
"""Header names that say a column's role (``u``, ``u2``, ``input_1``; ``y``, ``out``, ...)."""
_CHOOSE = "choose columns with input_cols= and output_cols= (CLI: --input-col, --output-col)"
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+([eE][+-]?\d+)?$")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")


class NoOutputColumnError(DataError):
    """A table with no column left for the outputs (:func:`read_inputs` reads such files).

    ``parsed`` holds the parsed table, so that a caller who needs only the inputs
    (simulating a model) reads them with :func:`_inputs_of_parsed` without parsing again.
    """

    def __init__(self, message: str, parsed: Any = None) -> None:
        super().__init__(message)
        self.parsed = parsed


class NonFiniteOutputError(DataError):
    """NaN or inf in an output column of a table whose input columns are all finite.

    ``input_cols`` holds the input columns chosen (0-based) and ``parsed`` the table, so
    a caller that needs the inputs only reads them with :func:`_inputs_of_parsed`.
    """

    def __init__(self, message: str, input_cols: list[int], parsed: Any = None) -> None:
        super().__init__(message)
        self.input_cols = list(input_cols)
        self.parsed = parsed


class _Table(NamedTuple):
    """A parsed text table: header (or ``None``), data ``(rows, cols)``, 1-based line
    numbers, and the columns read from dates and times (seconds since their first row)."""

    header: list[str] | None
    data: np.ndarray
    lines: list[int]
    clock: tuple[int, ...] = ()


# --------------------------------------------------------------------------- bytes and text
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


def _require_file(p: Path) -> None:
    if not p.exists():
        raise FileNotFoundError(errno.ENOENT, "no such data file", str(p))


def _read_bytes(p: Path) -> bytes:
    """The file's bytes, gunzipped when it is gzip (by name or by magic number)."""
    _require_file(p)
    raw = p.read_bytes()
    return _gunzip(raw, str(p), p.name.lower().endswith(".gz"))


def _gunzip(raw: bytes, where: str, named_gz: bool = False) -> bytes:
    if named_gz or raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise FileFormatError(f"{where}: not a valid gzip file ({exc})") from exc
    return raw


def _decode(raw: bytes, where: str) -> str:
    """UTF-8 (or Latin-1) text; binary data is a :class:`FileFormatError`."""
    if b"\x00" in raw:
        at = raw.index(b"\x00")
        raise FileFormatError(f"{where}: not a text file (byte {at} is NUL: binary data?)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        text = raw.decode("latin-1")
        if _CONTROL.search(text):
            raise FileFormatError(
                f"{where}: not a text file (byte {exc.start} is not UTF-8 and the file holds "
                "control characters: binary data?)"
            ) from None
        return text


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------- text tables
def _split_rows(lines: list[tuple[int, str]], delimited: bool) -> list[list[str]]:
    if not delimited:
        return [s.split() for _, s in lines]
    first = lines[0][1]
    delim = next((d for d in (",", ";", "\t") if d in first), None)
    if delim is None:
        return [[s] for _, s in lines]
    return [[t.strip() for t in r] for r in csv.reader([s for _, s in lines], delimiter=delim)]


def _clock_columns(rows: list[list[str]], names: list[str]) -> dict[int, np.ndarray]:
    """Columns named like time (``timestamp``, ``date``, ``time``) whose fields are ISO
    dates and times (``2024-01-01 00:00:00.100``) or times of day (``12:00:00.1``):
    seconds since their first row."""
    out: dict[int, np.ndarray] = {}
    for j, name in enumerate(names):
        if not _TIME_NAME.match(_bare(name)) or _is_number(rows[0][j]):
            continue
        clock = [_CLOCK.match(r[j]) for r in rows]
        if all(clock):  # times of day: hh:mm:ss(.fff)
            hms = np.array([[float(g) for g in c.groups()] for c in clock if c is not None])
            out[j] = hms @ np.array([3600.0, 60.0, 1.0])
            out[j] -= out[j][0]
            continue
        try:
            with warnings.catch_warnings():  # numpy warns about a trailing 'Z' (UTC)
                warnings.simplefilter("ignore")
                stamps = np.array([r[j].rstrip("Zz") for r in rows], dtype="datetime64[ns]")
        except (ValueError, TypeError, OverflowError):
            continue  # not dates: the numbers' error names the field
        if not np.isnat(stamps).any():
            out[j] = (stamps - stamps[0]) / np.timedelta64(1, "s")
    return out


def _numbers(
    rows: list[list[str]], lines: list[int], names: list[str], where: str, ref: str
) -> tuple[np.ndarray, tuple[int, ...]]:
    """The rows as floats, and the columns read from dates and times; the first bad field
    is a :class:`FileFormatError` with its line."""
    ncol = len(names)
    for lineno, r in zip(lines, rows, strict=True):
        if len(r) != ncol:
            raise FileFormatError(
                f"{where}, line {lineno}: {len(r)} fields where {ref} has {ncol}; "
                "rows of different lengths (missing or extra values)"
            )
    clock = _clock_columns(rows, names)
    if clock:
        rows = [["0" if j in clock else t for j, t in enumerate(r)] for r in rows]
    try:
        data = np.array(rows, dtype=float)
    except ValueError:
        raise _first_bad_field(rows, lines, names, where) from None
    for j, seconds in clock.items():
        data[:, j] = seconds
    return data, tuple(clock)


def _first_bad_field(
    rows: list[list[str]], lines: list[int], names: list[str], where: str
) -> FileFormatError:
    """The error naming the first field that is not a number, with its line and column."""
    for lineno, r in zip(lines, rows, strict=True):
        for j, tok in enumerate(r):
            if not _is_number(tok):
                what = "an empty field" if tok == "" else f"{tok!r}, which is not a number"
                if _DECIMAL_COMMA.match(tok):
                    what += f" (decimal commas are not read; write {tok.replace(',', '.')})"
                return FileFormatError(f"{where}, line {lineno}, column {names[j]!r}: {what}")
    return FileFormatError(f"{where}: the numbers cannot be read")  # pragma: no cover


def _parse_table(raw: bytes, where: str, delimited: bool) -> _Table:
    """Parse a CSV (``delimited``) or whitespace table from (uncompressed) bytes."""
    text = _decode(raw, where)
    lines = [
        (k + 1, s)
        for k, line in enumerate(text.splitlines())
        if (s := line.strip()) and not s.startswith(("#", "%"))
    ]
    if not lines:
        raise FileFormatError(f"{where}: the file holds no data rows")
    rows = _split_rows(lines, delimited)
    while len(rows[0]) > 1 and all(len(r) == len(rows[0]) and r[-1] == "" for r in rows):
        rows = [r[:-1] for r in rows]  # a trailing delimiter on every line (spreadsheet export)
    header: list[str] | None = None
    if not all(_is_number(t) for t in rows[0]):
        header = [t.strip().strip('"').strip("'") for t in rows[0]]
        if len(set(header)) != len(header):
            dup = sorted({h for h in header if header.count(h) > 1})
            raise FileFormatError(f"{where}, line {lines[0][0]}: duplicate column names {dup}")
        lines, rows = lines[1:], rows[1:]
    if not rows:
        raise FileFormatError(f"{where}: the file holds a header but no data rows")
    linenos = [k for k, _ in lines]
    names = header if header is not None else [f"col{i}" for i in range(len(rows[0]))]
    ref = "the header" if header is not None else "the first row"
    data, clock = _numbers(rows, linenos, names, where, ref)
    return _Table(header, data.reshape(len(rows), len(names)), linenos, clock)


def _check_suffix(p: Path, suffix: str) -> None:
    if suffix != ".csv" and suffix not in _TEXT_SUFFIXES:
        raise FileFormatError(
            f"{p}: unsupported file type {suffix or '(none)'!r}; supported: {SUPPORTED}"
        )


def read_table(path: str | os.PathLike[str]) -> tuple[list[str] | None, np.ndarray]:
    """The header and the numbers of a CSV or whitespace text file.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.csv``, ``.dat``, ``.txt`` or ``.asc`` file, optionally gzipped.

    Returns
    -------
    header : list of str or None
        Column names when the first row is not numeric, else ``None``.
    data : numpy.ndarray
        The numbers, shape ``(rows, columns)``.

    Raises
    ------
    FileNotFoundError
        No such file.
    FileFormatError
        An unsupported type or content that does not parse (the message names the line).

    Examples
    --------
    >>> from importlib.resources import files
    >>> header, data = read_table(files("learnlds.datasets") / "data" / "dryer.dat")
    >>> header, data.shape
    (None, (1000, 2))
    """
    table, _ = _text_table(as_path(path))
    return table.header, table.data


def _text_table(p: Path) -> tuple[_Table, list[str]]:
    """A text file's parsed table and its column names (``col0``, ... without a header)."""
    suffix = _base_suffix(p)
    _check_suffix(p, suffix)
    table = _parse_table(_read_bytes(p), str(p), suffix == ".csv")
    ncol = table.data.shape[1]
    return table, table.header if table.header is not None else [f"col{i}" for i in range(ncol)]


# --------------------------------------------------------------------------- column choice
def _bare(name: str) -> str:
    """A header lower-cased without a trailing unit: ``'Time [s]'`` -> ``'time'``."""
    return _UNITS.sub("", name.strip().lower()).strip()


def _evenly_increasing(col: np.ndarray) -> bool:
    step = np.diff(col)
    if step.size < 2 or step[0] <= 0:
        return False
    return bool(np.allclose(step, step[0], rtol=1e-4, atol=1e-9 * float(np.max(np.abs(col)))))


def _time_columns(table: _Table) -> list[int]:
    """Columns that hold a time or sample index (never taken as signals by default): named
    so, or unnamed (pandas writes its index as ``''`` or ``'Unnamed: 0'``) with an even
    increasing step."""
    if table.header is not None:
        return [
            i
            for i, name in enumerate(table.header)
            if _TIME_NAME.match(_bare(name))
            or (_UNNAMED.match(name.strip().lower()) and _evenly_increasing(table.data[:, i]))
        ]
    rows, cols = table.data.shape
    if cols >= 3 and rows >= 3 and _evenly_increasing(table.data[:, 0]):
        return [0]
    return []


def _time_unit(name: str) -> tuple[str, float | None]:
    """A time column's unit and its seconds: ``'t [ms]'`` -> ``('ms', 0.001)``; no unit
    means seconds; an unknown one gives ``None``."""
    found = _BRACKETED.search(name)
    if found is not None:
        unit = found.group(1).strip()
    else:  # the unit the time-axis name itself carries (the one rule that recognised it)
        axis = _TIME_AXIS.match(_bare(name))
        unit = (axis.group("unit") if axis else None) or "s"
    return unit, _SECONDS.get(unit.lower(), 1.0 if unit == "" else None)


def _sampling_time(table: _Table) -> tuple[float | None, str]:
    """``(dt, note)`` from the first time-axis column with an even step, else ``(None, "")``;
    a time axis with uneven steps gets no ``dt`` and a note that says so (the model
    treats the samples as evenly spaced, which the user should know)."""
    uneven = ""
    for i, name in enumerate(table.header or []):
        if not (_TIME_AXIS.match(_bare(name)) or i in table.clock):
            continue
        col = table.data[:, i]
        if _evenly_increasing(col):  # the mean step, without the last digits' rounding noise
            step = float(f"{(col[-1] - col[0]) / (len(col) - 1):.12g}")
            unit, seconds = ("s", 1.0) if i in table.clock else _time_unit(name)
            if seconds is None:
                return None, (
                    f"time column {name.strip()!r}: unit {unit!r} not understood, so no dt "
                    "taken from it; give dt (in seconds)"
                )
            if i in table.clock:
                return step, f"dt {step:g} s from the dates and times in column {name.strip()!r}"
            if seconds == 1.0:
                return step, f"dt {step:g} from the time column {name.strip()!r}"
            dt = float(f"{step * seconds:.12g}")
            return dt, f"dt {dt:g} s from the time column {name.strip()!r} ({step:g} {unit})"
        steps = np.diff(col)
        if not uneven and steps.size:
            kind = "is not increasing" if steps.min() <= 0 else "is not evenly spaced"
            uneven = (
                f"time column {name.strip()!r} {kind} (steps {steps.min():.4g} to "
                f"{steps.max():.4g}): no dt taken from it, and the samples are modelled as "
                "evenly spaced in file order; resample or sort the record, or give dt if "
                "the steps are rounding"
            )
    return None, uneven


def _label(i: int, names: list[str], has_header: bool) -> str:
    return f"{names[i]!r} (column {i})" if has_header else repr(names[i])


def _note(
    ui: list[int],
    yi: list[int],
    skipped: list[int],
    names: list[str],
    has_header: bool,
    where: str,
    by_name: bool = False,
) -> str:
    """Which columns a default choice used, or ``""`` when there was nothing to choose
    (``by_name``: the header names chose roles that their positions would not have)."""
    unused = [i for i in range(len(names)) if i not in ui + yi + skipped]
    if not skipped and not unused and not by_name:
        return ""

    def lab(idx: list[int]) -> str:
        return ", ".join(_label(i, names, has_header) for i in idx)

    s_in, s_out = ("s" if len(ui) > 1 else ""), ("s" if len(yi) > 1 else "")
    text = f"{where}: used column{s_in} {lab(ui)} as input and {lab(yi)} as output{s_out}"
    text += " (by their names)" if by_name else ""
    if skipped:
        text += f"; skipped time/index column {lab(skipped)}"
    if unused:
        text += f"; not used: {lab(unused)}"
    return text + "; " + _CHOOSE


def _default_roles(free: list[int], header: list[str] | None) -> tuple[list[int], list[int]]:
    """The default columns: those whose header names say their role (``u1, u2`` inputs,
    ``y`` output, in any order), else the first free column as input and the next as
    output. Read by position alone, a file headed ``y,u`` was fitted backwards."""
    if header is not None:
        named_in = [i for i in free if _INPUT_ROLE.match(_bare(header[i]))]
        named_out = [i for i in free if _OUTPUT_ROLE.match(_bare(header[i]))]
        if named_in and named_out:
            return named_in, named_out
        if named_out:
            return [next(i for i in free if i not in named_out)], named_out
        if named_in and len(named_in) < len(free):
            return named_in, [next(i for i in free if i not in named_in)]
    return [free[0]], [free[1]]


def _choose_columns(
    table: _Table, names: list[str], input_cols: ColumnSpec, output_cols: ColumnSpec, where: str
) -> tuple[list[int], list[int], str]:
    """``(input indices, output indices, note)`` under the documented defaults."""
    if input_cols is not None and output_cols is not None:
        ui = _pick(input_cols, names, "input", where)
        yi = _pick(output_cols, names, "output", where)
        _no_overlap(ui, yi, names, where)
        return ui, yi, ""
    skipped = _time_columns(table)
    ncol, by_name = len(names), False
    if input_cols is None and output_cols is None:
        free = [i for i in range(ncol) if i not in skipped]
        if len(free) < 2:
            extra = f" besides the time/index column {names[skipped[0]]!r}" if skipped else ""
            text = f"{where}: needs at least 2 columns (input, output){extra} but has "
            if len(free) == 1:
                raise NoOutputColumnError(f"{text}{len(free)}; {_CHOOSE}", (table, names))
            raise DataError(f"{text}{len(free)}; {_CHOOSE}")
        ui, yi = _default_roles(free, names if table.header is not None else None)
        by_name = (ui, yi) != ([free[0]], [free[1]])
    elif output_cols is None:
        ui = _pick(input_cols, names, "input", where)
        yi = [i for i in range(ncol) if i not in ui and i not in skipped]
    else:
        yi = _pick(output_cols, names, "output", where)
        ui = [i for i in range(ncol) if i not in yi and i not in skipped]
    if not ui:
        raise DataError(f"{where}: no column left for the inputs")
    if not yi:
        raise NoOutputColumnError(f"{where}: no column left for the outputs", (table, names))
    return ui, yi, _note(ui, yi, skipped, names, table.header is not None, where, by_name)


# --------------------------------------------------------------------------- files
def read_fields(
    path: str | os.PathLike[str],
    input_cols: ColumnSpec = None,
    output_cols: ColumnSpec = None,
    dt: float | None = None,
) -> tuple[dict[str, Any], tuple[ColumnSpec, ColumnSpec] | None]:
    """Read a data file into the fields of an :class:`~learnlds.datasets.IOData`.

    Columns are chosen by header name or 0-based index. Defaults: when neither
    ``input_cols`` nor ``output_cols`` is given, header names that say a role (``u``,
    ``u2``, ``input_1``; ``y``, ``out``) choose inputs and outputs in any order; else
    the first column that is not a time/index column is the input and the next one
    the output; when only one of
    them is given, the other takes all the remaining columns except time/index
    columns. Headerless columns are named ``col0``, ``col1``, ... ``.npz`` archives
    hold arrays ``u`` and ``y`` (or ``input``/``output``, ``inputs``/``outputs``) and
    optionally ``dt``, ``input_names``, ``output_names``, ``input_units``,
    ``output_units``; ``input_cols``/``output_cols`` then pick channels of ``u``/``y``.

    Parameters
    ----------
    path : str or os.PathLike
        The file (``.csv``, ``.dat``, ``.txt``, ``.asc``, ``.npz``; text may be gzipped).
    input_cols, output_cols : int, str, sequence of them, or None
        The columns to read as inputs and outputs.
    dt : float, optional
        Sampling time (an ``.npz`` archive may store it).

    Returns
    -------
    fields : dict
        Keyword arguments of ``IOData`` (``u``, ``y``, ``dt``, ``name``, ``source``,
        names, ``columns_used``, ``column_note``).
    selection : (input_cols, output_cols) or None
        Channels still to pick with ``IOData.select`` (``.npz`` archives), else ``None``.

    Raises
    ------
    FileNotFoundError
        No such file.
    FileFormatError
        The file does not parse (the message names the file and line).
    DataError
        NaN or inf in a chosen column, or too few columns.
    ParameterError
        An unknown or repeated column in ``input_cols``/``output_cols``.

    Examples
    --------
    >>> from importlib.resources import files
    >>> fields, _ = read_fields(files("learnlds.datasets") / "data" / "dryer.dat", dt=0.08)
    >>> fields["u"].shape, fields["columns_used"], fields["column_note"]
    ((1000, 1), (['col0'], ['col1']), '')
    """
    p = as_path(path)
    fields: dict[str, Any] = {"name": _stem(p), "source": str(p), "dt": dt}
    suffix = _base_suffix(p)
    if suffix == ".npz":
        return _read_npz(p, input_cols, output_cols, fields)
    if suffix == ".npy" or p.is_dir():
        fields["u"], fields["y"], fields["columns_used"] = _open_npy(p, input_cols, output_cols)
        fields["column_note"] = ""
        return fields, None
    table, names = _text_table(p)
    ui, yi, note = _choose_columns(table, names, input_cols, output_cols, str(p))
    _check_finite(table.data[:, ui], [names[i] for i in ui], str(p), table.lines)
    try:
        _check_finite(table.data[:, yi], [names[i] for i in yi], str(p), table.lines)
    except DataError as exc:  # typed: the inputs alone are still usable
        raise NonFiniteOutputError(str(exc), ui, (table, names)) from None
    if table.header is not None:
        fields["input_names"] = [names[i] for i in ui]
        fields["output_names"] = [names[i] for i in yi]
    fields["columns_used"] = ([names[i] for i in ui], [names[i] for i in yi])
    if dt is None:
        fields["dt"], found = _sampling_time(table)
        note += f"{'; ' if note else f'{p}: '}{found}" if found else ""
    fields["column_note"] = note
    fields["u"], fields["y"] = table.data[:, ui], table.data[:, yi]
    return fields, None


def read_inputs(
    path: str | os.PathLike[str], n_inputs: int, input_cols: ColumnSpec = None
) -> tuple[np.ndarray, list[str]]:
    """Read a text table that holds inputs only (no measured output), to simulate a model.

    Without ``input_cols``, the columns that are not a time/index column are the
    inputs, and there must be exactly ``n_inputs`` of them (never a guess).

    Parameters
    ----------
    path : str or os.PathLike
        A ``.csv``, ``.dat``, ``.txt`` or ``.asc`` file, optionally gzipped.
    n_inputs : int
        The model's input count.
    input_cols : int, str, sequence of them, or None
        The input columns by header name or 0-based index.

    Returns
    -------
    u : numpy.ndarray
        ``(T, n_inputs)`` inputs.
    names : list of str
        Their column names (``col0``, ... without a header).

    Raises
    ------
    FileNotFoundError
        No such file.
    FileFormatError
        The file does not parse.
    DataError
        A column count other than ``n_inputs``, or NaN/inf in a chosen column.
    ParameterError
        An unknown or repeated column in ``input_cols``.

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "plan.csv")
    ...     with open(path, "w") as fh:
    ...         _ = fh.write("time,heater\\n0,1\\n0.5,2\\n1.0,0\\n")
    ...     u, names = read_inputs(path, 1)
    >>> u.ravel(), names
    (array([1., 2., 0.]), ['heater'])
    """
    p = as_path(path)
    return _inputs_of_parsed(_text_table(p), p, n_inputs, input_cols)


def _inputs_of_parsed(
    parsed: tuple[Any, list[str]], path: Any, n_inputs: int, input_cols: ColumnSpec = None
) -> tuple[np.ndarray, list[str]]:
    """:func:`read_inputs` of a table already parsed (the ``parsed`` of a
    :class:`NoOutputColumnError` or :class:`NonFiniteOutputError`): no second read."""
    table, names = parsed
    if input_cols is not None:
        ui = _pick(input_cols, names, "input", str(path))
    else:
        skipped = _time_columns(table)
        ui = [i for i in range(len(names)) if i not in skipped]
    if len(ui) != n_inputs:
        chosen = ", ".join(repr(names[i]) for i in ui) or "none"
        raise DataError(
            f"{path}: {len(ui)} input column(s) ({chosen}) but the model takes {n_inputs}; "
            + _CHOOSE
        )
    _check_finite(table.data[:, ui], [names[i] for i in ui], str(path), table.lines)
    return table.data[:, ui], [names[i] for i in ui]


def _load_npz(p: Path) -> dict[str, np.ndarray]:
    _require_file(p)
    try:
        with np.load(p, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except Exception as exc:  # zipfile.BadZipFile, pickled objects, truncated archives
        raise FileFormatError(f"{p}: not a readable .npz archive ({exc})") from exc


def _lengths_differ(where: str, u_shape: tuple[int, ...], y_shape: tuple[int, ...]) -> DataError:
    """The error for ``u`` and ``y`` of different lengths, with a hint when both look
    like channels-first ``(channels, T)`` arrays (time runs along axis 0 here)."""
    text = f"{where} have different lengths ({u_shape[0]} and {y_shape[0]} samples)"
    if len(u_shape) == len(y_shape) == 2 and u_shape[1] == y_shape[1] > u_shape[0]:
        text += (
            f"; both have {u_shape[1]} columns: if time runs along their second axis, "
            "store them transposed ((T, channels): time along axis 0)"
        )
    return DataError(text)


def _read_npz(
    p: Path,
    input_cols: ColumnSpec,
    output_cols: ColumnSpec,
    fields: dict[str, Any],
) -> tuple[dict[str, Any], tuple[ColumnSpec, ColumnSpec] | None]:
    arrays = _load_npz(p)
    pairs = (("u", "y"), ("input", "output"), ("inputs", "outputs"))
    keys = next((pair for pair in pairs if pair[0] in arrays and pair[1] in arrays), None)
    if keys is None:
        raise FileFormatError(
            f"{p}: expected arrays named 'u' and 'y' (or 'input' and 'output'); "
            f"found {sorted(arrays) or 'none'}"
        )
    u = as_float_array(arrays[keys[0]], f"{p}: array {keys[0]!r}", ndim=(1, 2))
    y = as_float_array(arrays[keys[1]], f"{p}: array {keys[1]!r}", ndim=(1, 2))
    if u.shape[0] != y.shape[0]:
        raise _lengths_differ(f"{p}: arrays {keys[0]!r} and {keys[1]!r}", u.shape, y.shape)
    if fields["dt"] is None and "dt" in arrays:
        fields["dt"] = float(as_float_array(arrays["dt"], f"{p}: array 'dt'").reshape(-1)[0])
    for key in ("input_names", "output_names", "input_units", "output_units"):
        if key in arrays:
            fields[key] = [str(s) for s in np.atleast_1d(arrays[key])]
    fields["u"], fields["y"] = u, y
    wanted = input_cols is not None or output_cols is not None
    return fields, ((input_cols, output_cols) if wanted else None)


# --------------------------------------------------------------------------- .npy, memory-mapped
_PAIRS = (("u", "y"), ("input", "output"), ("inputs", "outputs"))


def _partner(p: Path) -> tuple[Path, Path] | None:
    """``(u.npy, y.npy)`` when ``p`` is either of a pair (also ``name_u.npy``, input/output)."""
    stem = p.name[: -len(".npy")]
    for a, b in _PAIRS:
        for mine, theirs, first in ((a, b, True), (b, a, False)):
            if stem == mine or any(stem.endswith(sep + mine) for sep in ("_", "-", ".")):
                other = p.with_name(stem[: len(stem) - len(mine)] + theirs + ".npy")
                if other.is_file():
                    return (p, other) if first else (other, p)
    return None


def _mmap(p: Path) -> np.ndarray:
    _require_file(p)
    try:
        arr = np.load(p, mmap_mode="r", allow_pickle=False)
    except Exception as exc:  # not an .npy file, pickled objects, truncated header
        raise FileFormatError(f"{p}: not a readable .npy array ({exc})") from exc
    if isinstance(arr, np.lib.npyio.NpzFile):  # np.load opens an archive whatever mmap_mode says
        _refuse_npz(p, arr)
    if arr.ndim not in (1, 2) or arr.dtype.kind not in "fiu":
        raise FileFormatError(
            f"{p}: expected a real (T,) or (T, channels) array, got {arr.dtype} "
            f"of shape {arr.shape}"
        )
    return arr


def _refuse_npz(p: Path, npz: Any) -> None:
    """An ``.npz`` archive given where an ``.npy`` array is mapped: say what it holds."""
    with npz:
        names = sorted(npz.files)
    has_pair = any(a in names and b in names for a, b in _PAIRS)
    held = (
        "its arrays 'u' and 'y' cannot be memory-mapped"
        if has_pair
        else f"it holds {names or 'no arrays'}, without the arrays 'u' and 'y' a record needs"
    )
    raise FileFormatError(
        f"{p}: an .npz archive, not an .npy array: {held}; read an archive with arrays "
        "'u' and 'y' with IOData.from_file, or save u.npy beside y.npy to map them"
    )


def _columns(arr2: np.ndarray, idx: list[int]) -> np.ndarray:
    """The chosen columns as a view when they are a contiguous run (no copy of the record)."""
    if idx == list(range(idx[0], idx[0] + len(idx))):
        return arr2[:, idx[0] : idx[0] + len(idx)]
    return arr2[:, idx]  # scattered columns: numpy copies them


def _open_npy(
    p: Path, input_cols: ColumnSpec, output_cols: ColumnSpec
) -> tuple[np.ndarray, np.ndarray, tuple[list[str], list[str]]]:
    if p.is_dir():
        pair = next(
            ((p / f"{a}.npy", p / f"{b}.npy") for a, b in _PAIRS if (p / f"{a}.npy").is_file()),
            None,
        )
        if pair is None or not pair[1].is_file():
            raise FileFormatError(f"{p}: a folder of .npy files needs u.npy and y.npy")
    else:
        pair = _partner(p)
    if pair is not None:
        u, y = _mmap(pair[0]), _mmap(pair[1])
        if u.shape[0] != y.shape[0]:
            raise _lengths_differ(f"{pair[0]} and {pair[1]}", u.shape, y.shape)
        u2, y2 = (u if u.ndim == 2 else u[:, None]), (y if y.ndim == 2 else y[:, None])
        names = ([f"u{i}" for i in range(u2.shape[1])], [f"y{i}" for i in range(y2.shape[1])])
        ui = _pick(input_cols, names[0], "input", str(pair[0])) if input_cols is not None else None
        yi = (
            _pick(output_cols, names[1], "output", str(pair[1]))
            if output_cols is not None
            else None
        )
        u2 = u2 if ui is None else _columns(u2, ui)
        y2 = y2 if yi is None else _columns(y2, yi)
        used = (
            names[0] if ui is None else [names[0][i] for i in ui],
            names[1] if yi is None else [names[1][i] for i in yi],
        )
        return u2, y2, used
    arr = _mmap(p)
    if arr.ndim == 1 or arr.shape[1] < 2:
        raise FileFormatError(
            f"{p}: one channel only; store a (T, inputs + outputs) array, or u.npy beside y.npy"
        )
    names = [f"col{i}" for i in range(arr.shape[1])]
    ui = _pick(input_cols, names, "input", str(p)) if input_cols is not None else None
    yi = _pick(output_cols, names, "output", str(p)) if output_cols is not None else None
    if ui is None and yi is None:
        ui, yi = [0], [1]
    elif ui is None:
        ui = [i for i in range(arr.shape[1]) if i not in yi]  # type: ignore[operator]
    elif yi is None:
        yi = [i for i in range(arr.shape[1]) if i not in ui]
    _no_overlap(ui, yi, names, str(p))  # type: ignore[arg-type]
    used = ([names[i] for i in ui], [names[i] for i in yi])  # type: ignore[union-attr]
    return _columns(arr, ui), _columns(arr, yi), used  # type: ignore[arg-type]


def open_npy(
    path: str | os.PathLike[str], input_cols: ColumnSpec = None, output_cols: ColumnSpec = None
) -> tuple[np.ndarray, np.ndarray]:
    """Memory-map a record stored as ``.npy``: ``(u, y)`` views that stay on disk.

    Either one ``(T, k)`` array whose columns are split into inputs and outputs
    (default: column 0 the input, column 1 the output; with only ``input_cols`` given
    the other columns are outputs, and the other way round), or ``u.npy`` beside
    ``y.npy`` (``path`` either of them, ``name_u.npy``/``name_y.npy`` too, or the
    folder holding them). Contiguous column choices are views, so nothing is read
    until a solver reads it block by block (:func:`learnlds.train.gauss_newton`,
    :func:`learnlds.baselines.n4sid`).

    Parameters
    ----------
    path : str or os.PathLike
        The ``.npy`` file or the folder.
    input_cols, output_cols : int, sequence of int, or None
        Columns (0-based, or names ``col0``... / ``u0``..., ``y0``...) to use.

    Returns
    -------
    u, y : numpy.ndarray
        ``(T, m)`` and ``(T, p)`` read-only views of the mapped file(s).

    Raises
    ------
    FileNotFoundError
        No such file.
    FileFormatError
        Not an ``.npy`` array (an ``.npz`` archive is named with the arrays it holds),
        not real, a single channel without its partner file.
    DataError
        ``u.npy`` and ``y.npy`` of different lengths.
    ParameterError
        An unknown or repeated column.

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "log.npy")
    ...     np.save(path, np.arange(12.0).reshape(4, 3))
    ...     u, y = open_npy(path, input_cols=[0, 1])
    ...     shapes, shared = (u.shape, y.shape), np.shares_memory(u, y.base)
    >>> shapes, shared
    (((4, 2), (4, 1)), True)
    """
    return _open_npy(as_path(path), input_cols, output_cols)[:2]


def open_zarr(path: str | os.PathLike[str]) -> tuple[Any, Any]:
    """Open a record kept in a zarr group: arrays ``u`` and ``y``, read only when sliced.

    Time runs along axis 0 of both (``(T,)`` or ``(T, channels)``). The arrays are
    returned as they are; :class:`learnlds.estimator.LDSRegressor` and
    :func:`learnlds.train.gauss_newton` stream them a block at a time, like a
    memory-mapped ``.npy`` record, so a record larger than memory can be fitted.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.zarr`` store (a directory).

    Returns
    -------
    u, y : zarr.Array
        The input and output arrays.

    Raises
    ------
    ImportError
        zarr is not installed.
    FileNotFoundError
        Nothing at ``path``.
    FileFormatError
        The store does not open, lacks ``u`` or ``y``, or holds arrays that are not
        real numbers of one or two dimensions.
    DataError
        ``u`` and ``y`` of different lengths.

    Examples
    --------
    >>> import os, tempfile, zarr
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     group = zarr.open_group(os.path.join(folder, "log.zarr"), mode="w")
    ...     _ = group.create_array("u", data=np.zeros(8))
    ...     _ = group.create_array("y", data=np.ones((8, 2)))
    ...     shapes = [a.shape for a in open_zarr(os.path.join(folder, "log.zarr"))]
    >>> shapes
    [(8,), (8, 2)]
    """
    path, group = open_zarr_group(path)
    arrays = {k: group[k] for k in ("u", "y")}
    for name, arr in arrays.items():
        if len(arr.shape) not in (1, 2) or np.dtype(arr.dtype).kind not in "fiu":
            raise FileFormatError(
                f"{path}/{name}: must be a 1-D or 2-D array of real numbers, got shape "
                f"{arr.shape} and dtype {arr.dtype}"
            )
    u, y = arrays["u"], arrays["y"]
    if u.shape[0] != y.shape[0]:
        raise _lengths_differ(f"{path}: u and y", tuple(u.shape), tuple(y.shape))
    return u, y
