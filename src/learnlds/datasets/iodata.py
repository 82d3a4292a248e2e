"""The :class:`IOData` container: one input/output experiment with names, units and dt.

An :class:`IOData` holds inputs ``u`` of shape ``(T, n_inputs)`` and outputs ``y`` of
shape ``(T, n_outputs)`` (time along axis 0, the package's layout rule), the sampling
time, channel names and units, and where the data came from. It is immutable: its
arrays are read-only copies, so a data set cannot change under a model fitted to it.
The transforms (:meth:`IOData.detrend`, :meth:`IOData.split`, :meth:`IOData.select`)
return new objects.

The column-picking helpers used by :mod:`learnlds.datasets.readers` live here too, so
that picking channels of an :class:`IOData` and picking columns of a file follow the
same rules and give the same messages.

Examples
--------
>>> import numpy as np
>>> d = IOData(u=np.arange(4.0), y=2 * np.arange(4.0), dt=0.5)
>>> d
IOData(name='data', T=4, inputs=['u'], outputs=['y'], dt=0.5 s, measured)
"""

from __future__ import annotations

import numbers
import os
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .._boundary import as_float_array, check_float
from ..errors import DataError, ParameterError, UnsupportedShapeError
from ..systems import CanonicalSystem
from .columns import ColumnSpec, _check_finite, _no_overlap, _pick, _pick_labels
from .readers import read_fields

__all__ = ["ColumnSpec", "IOData"]

"""A column choice: one 0-based index or name, a list of them, or ``None`` (the default)."""


# --------------------------------------------------------------------------- field checks
def _as_signal(value: Any, name: str) -> np.ndarray:
    """A finite ``(T, k)`` float array from a 1-D or 2-D array."""
    arr = as_float_array(value, name, ndim=(1, 2))
    if arr.ndim == 1:
        arr = arr[:, None]
    return arr


def _frozen(arr: np.ndarray) -> np.ndarray:
    """A private copy, except a read-only memory map (a record on disk stays on disk)."""
    base: Any = arr
    while isinstance(base, np.ndarray) and not isinstance(base, np.memmap):
        base = base.base
    if isinstance(base, np.memmap) and not arr.flags.writeable:
        return arr.view()
    return arr.copy()


def _names(value: Any, count: int, default: str, what: str) -> tuple[str, ...]:
    if value is None:
        return tuple(f"{default}{i + 1}" if count > 1 else default for i in range(count))
    items = (value,) if isinstance(value, str) else tuple(value)
    if len(items) != count:
        raise ParameterError(
            f"{what}: expected {count} entries (one per channel), got {len(items)}"
        )
    return tuple(str(v) for v in items)


def _units(value: Any, count: int, what: str) -> tuple[str, ...]:
    if value is None:
        return ("",) * count
    if isinstance(value, str):
        return (value,) * count
    return _names(value, count, "", what)


def _check_dt(dt: Any) -> float | None:
    if dt is None:
        return None
    if isinstance(dt, bool) or not isinstance(dt, numbers.Real):
        raise ParameterError(f"dt: must be a number or None, got {dt!r}")
    value = float(dt)
    if not (np.isfinite(value) and value > 0):
        raise ParameterError(f"dt: the sampling time must be finite and > 0, got {value}")
    return value


def _check_offsets(offsets: Any, nu: int, ny: int) -> tuple[np.ndarray, np.ndarray]:
    ou = as_float_array(offsets[0], "offsets[0]").reshape(-1).copy()
    oy = as_float_array(offsets[1], "offsets[1]").reshape(-1).copy()
    if ou.shape != (nu,) or oy.shape != (ny,):
        raise DataError(
            f"offsets: expected shapes ({nu},) and ({ny},), got {ou.shape} and {oy.shape}"
        )
    ou.setflags(write=False)
    oy.setflags(write=False)
    return ou, oy


def _check_columns_used(value: Any, nu: int, ny: int) -> tuple[tuple[str, ...], ...] | None:
    if value is None:
        return None
    try:
        ins, outs = value
    except (TypeError, ValueError) as exc:
        raise ParameterError(
            f"columns_used: expected (input labels, output labels) or None, got {value!r}"
        ) from exc
    return _names(ins, nu, "", "columns_used[0]"), _names(outs, ny, "", "columns_used[1]")


# =========================================================================== IOData
@dataclass(frozen=True, eq=False)
class IOData:
    """One input/output experiment, sampled at a constant rate.

    1-D arrays are accepted and become one column. Arrays are copied and made
    read-only so that a data set cannot change under a model fitted to it.

    Parameters
    ----------
    u : array_like
        Inputs, shape ``(T,)`` or ``(T, n_inputs)``.
    y : array_like
        Outputs, shape ``(T,)`` or ``(T, n_outputs)``.
    dt : float, optional
        Sampling time in ``time_unit``; ``None`` when unknown.
    input_names, output_names : sequence of str, optional
        One name per channel (default ``u``/``y``, or ``u1``, ``u2``, ...).
    input_units, output_units : str or sequence of str, optional
        One unit per channel (a single string applies to all); default ``""``.
    name : str, default "data"
        Short name of the experiment.
    description : str, default ""
        What the data is (plant, columns, sampling).
    synthetic : bool, default False
        ``True`` for simulated data, so reports can say so.
    time_unit : str, default "s"
        Unit of ``dt``.
    offsets : tuple of two arrays, optional
        Means removed by :meth:`detrend` (``None`` when nothing was removed).
    truth : CanonicalSystem, optional
        The known system behind synthetic data (``None`` for measurements).
    source : str, optional
        Where the data was read from (a file path), if anywhere.
    columns_used : tuple of two tuples of str, optional
        The file's column labels read as inputs and as outputs (``None`` when the data
        did not come from a table).
    column_note : str, default ""
        A sentence saying which columns a reader chose by default when the choice was
        not obvious (more than two columns, or a time/index column skipped); empty when
        the caller chose the columns. Front ends print it.

    Attributes
    ----------
    n_inputs, n_outputs : int
        Number of input and output channels.
    is_siso : bool
        One input and one output.
    u1, y1 : numpy.ndarray
        The single input/output as 1-D arrays (single-channel data only).
    time : numpy.ndarray
        Sample times ``k * dt`` (indices when ``dt`` is unknown).

    Raises
    ------
    DataError
        ``u`` and ``y`` of different lengths, empty, NaN/inf or non-numeric, or with more
        channels than samples (a transposed ``(channels, T)`` record).
    ParameterError
        A bad ``dt``, wrong number of names or units, or ``truth`` of the wrong type.

    Examples
    --------
    >>> import numpy as np
    >>> d = IOData(u=np.zeros(5), y=np.ones((5, 2)), dt=0.1, name="test")
    >>> len(d), d.n_inputs, d.n_outputs, d.output_names
    (5, 1, 2, ('y1', 'y2'))
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
    columns_used: tuple[tuple[str, ...], tuple[str, ...]] | None = None
    column_note: str = ""

    def __post_init__(self) -> None:
        u = _frozen(_as_signal(self.u, "u"))
        y = _frozen(_as_signal(self.y, "y"))
        if u.shape[0] != y.shape[0]:
            raise DataError(
                f"u and y must have the same number of samples, got {u.shape[0]} and {y.shape[0]}"
            )
        if u.shape[0] == 0:
            raise DataError("u, y: the data set is empty (0 samples)")
        if u.shape[1] == 0 or y.shape[1] == 0:
            raise DataError(
                f"u, y: need at least one input and one output, got {u.shape}, {y.shape}"
            )
        for name, arr in (("u", u), ("y", y)):
            if arr.shape[1] > arr.shape[0]:  # (1, T): a transposed record, not T channels
                raise DataError(
                    f"{name}: {arr.shape[1]} channels but only {arr.shape[0]} sample(s); time "
                    f"runs along axis 0, so a record is (T,) or (T, channels): pass "
                    f"{name}.T if the samples lie along axis 1"
                )
        if self.truth is not None and not isinstance(self.truth, CanonicalSystem):
            raise ParameterError(
                f"truth: must be a CanonicalSystem or None, got {type(self.truth).__name__}"
            )
        nu, ny = u.shape[1], y.shape[1]
        set_ = object.__setattr__
        set_(self, "dt", _check_dt(self.dt))
        set_(self, "input_names", _names(self.input_names, nu, "u", "input_names"))
        set_(self, "output_names", _names(self.output_names, ny, "y", "output_names"))
        set_(self, "input_units", _units(self.input_units, nu, "input_units"))
        set_(self, "output_units", _units(self.output_units, ny, "output_units"))
        if self.offsets is not None:
            set_(self, "offsets", _check_offsets(self.offsets, nu, ny))
        set_(self, "columns_used", _check_columns_used(self.columns_used, nu, ny))
        u.setflags(write=False)
        y.setflags(write=False)
        set_(self, "u", u)
        set_(self, "y", y)
        set_(self, "name", str(self.name))
        set_(self, "synthetic", bool(self.synthetic))
        set_(self, "column_note", str(self.column_note))

    # ------------------------------------------------------------------ shape facts
    def __len__(self) -> int:
        return int(self.u.shape[0])

    @property
    def n_inputs(self) -> int:
        """Number of input channels."""
        return int(self.u.shape[1])

    @property
    def n_outputs(self) -> int:
        """Number of output channels."""
        return int(self.y.shape[1])

    @property
    def is_siso(self) -> bool:
        """``True`` for one input and one output."""
        return self.n_inputs == 1 and self.n_outputs == 1

    @property
    def u1(self) -> np.ndarray:
        """The single input as a 1-D array of length ``T`` (a view)."""
        if self.n_inputs != 1:
            raise UnsupportedShapeError(
                f"u1: the data set '{self.name}' has {self.n_inputs} inputs, not 1"
            )
        return self.u[:, 0]

    @property
    def y1(self) -> np.ndarray:
        """The single output as a 1-D array of length ``T`` (a view)."""
        if self.n_outputs != 1:
            raise UnsupportedShapeError(
                f"y1: the data set '{self.name}' has {self.n_outputs} outputs, not 1"
            )
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

        Repeated calls accumulate the offsets, so :meth:`restore_output` always
        returns to the original level.

        Returns
        -------
        IOData
            Zero-mean channels, ``offsets`` set.

        Examples
        --------
        >>> d = IOData(u=[1.0, 3.0], y=[10.0, 14.0]).detrend()
        >>> d.y1, d.offsets[1]
        (array([-2.,  2.]), array([12.]))
        """
        mu, my = self.u.mean(axis=0), self.y.mean(axis=0)
        if self.offsets is not None:
            off = (self.offsets[0] + mu, self.offsets[1] + my)
        else:
            off = (mu, my)
        return replace(self, u=self.u - mu, y=self.y - my, offsets=off)

    def restore_output(self, y_pred: Any) -> np.ndarray:
        """Add the removed output means back to a prediction made on detrended data.

        Parameters
        ----------
        y_pred : array_like
            Prediction, shape ``(T,)`` (single output) or ``(T, n_outputs)``.

        Returns
        -------
        numpy.ndarray
            ``y_pred`` plus the output offsets (a copy when there are none).

        Raises
        ------
        DataError
            ``y_pred`` of the wrong shape for this data set.

        Examples
        --------
        >>> d = IOData(u=[1.0, 3.0], y=[10.0, 14.0]).detrend()
        >>> d.restore_output([0.0, 1.0])
        array([12., 13.])
        """
        yp = as_float_array(y_pred, "y_pred", ndim=(1, 2))
        if yp.ndim == 1 and self.n_outputs != 1:
            raise DataError(
                f"y_pred: 1-D predictions need a single-output data set, this one has "
                f"{self.n_outputs} outputs"
            )
        if yp.ndim == 2 and yp.shape[1] != self.n_outputs:
            raise DataError(f"y_pred: expected {self.n_outputs} columns, got shape {yp.shape}")
        if self.offsets is None:
            return yp.copy()
        oy = self.offsets[1]
        return yp + (oy[0] if yp.ndim == 1 else oy)

    def split(self, fraction: float = 0.5) -> tuple[IOData, IOData]:
        """``(estimation, validation)``: the first ``fraction`` of the samples and the rest.

        Parameters
        ----------
        fraction : float, default 0.5
            Share of the samples in the estimation part, strictly between 0 and 1.

        Returns
        -------
        tuple of IOData
            The estimation part and the validation part.

        Raises
        ------
        ParameterError
            ``fraction`` outside ``(0, 1)``.
        DataError
            A part would be empty.

        Examples
        --------
        >>> est, val = IOData(u=range(10), y=range(10)).split(0.7)
        >>> len(est), len(val)
        (7, 3)
        """
        fraction = check_float(
            fraction, "fraction", low=0.0, high=1.0, low_open=True, high_open=True
        )
        cut = int(round(fraction * len(self)))
        if cut < 1 or cut > len(self) - 1:
            raise DataError(
                f"fraction: {fraction} of {len(self)} samples leaves an empty part; "
                "use more data or a fraction nearer 0.5"
            )
        est = replace(self, u=self.u[:cut], y=self.y[:cut], name=f"{self.name} (estimation)")
        val = replace(self, u=self.u[cut:], y=self.y[cut:], name=f"{self.name} (validation)")
        return est, val

    def select(self, inputs: ColumnSpec = None, outputs: ColumnSpec = None) -> IOData:
        """A copy keeping only some channels, chosen by 0-based index or by name.

        Parameters
        ----------
        inputs, outputs : int, str, sequence of them, or None
            Channels to keep (``None`` keeps all of that side).

        Returns
        -------
        IOData
            The chosen channels (``truth`` is dropped unless all channels are kept).

        Examples
        --------
        >>> import numpy as np
        >>> d = IOData(u=np.zeros((3, 2)), y=np.ones(3), input_names=["a", "b"])
        >>> d.select(inputs="b").input_names
        ('b',)
        """
        ui = _pick(inputs, list(self.input_names), "input", self.name)
        yi = _pick(outputs, list(self.output_names), "output", self.name)
        off = None
        if self.offsets is not None:
            off = (self.offsets[0][ui], self.offsets[1][yi])
        used = None
        if self.columns_used is not None:
            used = ([self.columns_used[0][i] for i in ui], [self.columns_used[1][i] for i in yi])
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
            columns_used=used,
        )

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_arrays(cls, u: Any, y: Any, dt: float | None = None, **kwargs: Any) -> IOData:
        """Wrap arrays; ``kwargs`` are the other fields (names, units, ``name``, ...).

        Parameters
        ----------
        u, y : array_like
            Inputs and outputs, ``(T,)`` or ``(T, k)``.
        dt : float, optional
            Sampling time.
        **kwargs
            Other :class:`IOData` fields.

        Returns
        -------
        IOData
            The wrapped data.

        Examples
        --------
        >>> IOData.from_arrays([1.0, 2.0], [3.0, 4.0], dt=0.1).dt
        0.1
        """
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

        Parameters
        ----------
        df : pandas.DataFrame
            The table.
        input_cols, output_cols : label, int or sequence of them
            Input and output columns.
        dt : float, optional
            Sampling time.
        **kwargs
            Other :class:`IOData` fields; channel names default to the column labels.

        Returns
        -------
        IOData
            The chosen columns.

        Raises
        ------
        ParameterError
            ``df`` is not a DataFrame, or an unknown column.
        DataError
            Non-numeric columns, NaN or inf.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"volt": [1.0, 2.0], "temp": [20.0, 21.0]})
        >>> IOData.from_pandas(df, "volt", "temp").output_names
        ('temp',)
        """
        if not hasattr(df, "columns") or not hasattr(df, "to_numpy"):
            raise ParameterError(f"df: expected a pandas DataFrame, got {type(df).__name__}")
        labels = list(df.columns)
        where = kwargs.get("name") or "DataFrame"
        ui = _pick_labels(input_cols, labels, "input", where)
        yi = _pick_labels(output_cols, labels, "output", where)
        _no_overlap(ui, yi, [str(c) for c in labels], where)
        try:
            data = df.iloc[:, ui + yi].to_numpy(dtype=float)
        except (TypeError, ValueError) as exc:
            raise DataError(f"{where}: the chosen columns are not all numeric ({exc})") from exc
        names = [str(labels[i]) for i in ui + yi]
        _check_finite(data, names, where)
        kwargs.setdefault("input_names", names[: len(ui)])
        kwargs.setdefault("output_names", names[len(ui) :])
        kwargs.setdefault("columns_used", (names[: len(ui)], names[len(ui) :]))
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

        The rules (header detection, comments, gzip, default columns and the
        time/index columns that are never taken by default) are those of
        :func:`learnlds.datasets.readers.read_fields`, which does the work.

        Parameters
        ----------
        path : str or os.PathLike
            The file.
        input_cols, output_cols : int, str, sequence of them, or None
            Columns by header name or 0-based index (see ``read_fields`` for defaults).
        dt : float, optional
            Sampling time.
        **kwargs
            Other :class:`IOData` fields.

        Returns
        -------
        IOData
            The data, with ``source``, ``columns_used`` and ``column_note`` set.

        Examples
        --------
        >>> import os, tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = os.path.join(folder, "run.csv")
        ...     with open(path, "w") as fh:
        ...         _ = fh.write("time,volt,temp\\n0,1.5,20\\n1,2.5,21\\n")
        ...     d = IOData.from_file(path)
        >>> d.input_names, d.output_names
        (('volt',), ('temp',))
        """
        fields, selection = read_fields(path, input_cols, output_cols, dt)
        data = cls(**{**fields, **kwargs})
        return data.select(*selection) if selection is not None else data

    def to_pandas(self) -> Any:
        """A DataFrame with one column per channel (pandas is imported only here).

        Returns
        -------
        pandas.DataFrame
            Inputs then outputs, indexed by :attr:`time`.

        Examples
        --------
        >>> IOData(u=[1.0, 2.0], y=[3.0, 4.0]).to_pandas().columns.tolist()
        ['u', 'y']
        """
        import pandas as pd

        cols = {n: self.u[:, i] for i, n in enumerate(self.input_names)}
        for i, n in enumerate(self.output_names):
            cols[n if n not in cols else f"{n} (output)"] = self.y[:, i]
        return pd.DataFrame(cols, index=pd.Index(self.time, name="time"))
