"""The front door: user data and parameters become canonical arrays here, once.

Every public entry point (estimator, solvers, baselines, validation, CLI, Dask)
calls this module; everything below it receives canonical arrays and trusts them.

The layout rule, the same everywhere:

* time runs along axis 0 of a record: ``(T,)`` is one single-channel record and
  ``(T, m)`` one record with ``m`` channels;
* several sequences only when asked (``sequences=True``): ``(N, T)`` is ``N``
  single-channel sequences and ``(N, T, m)`` ``N`` sequences of ``m`` channels.

Canonical arrays are ``(N, T, m)`` inputs and ``(N, T, p)`` outputs
(:class:`IOArrays`); SISO code takes the view ``u[..., 0]``.

The burn-in rule lives here too: ``burn_in=None`` means ``T // 4`` (the paper's
choice), an integer ``0 <= burn_in < T`` is used as given.
"""

from __future__ import annotations

import functools
import numbers
import os
import sys
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from .errors import DataError, ParameterError

__all__ = [
    "LAZY_SIZE",
    "IOArrays",
    "as_float_array",
    "as_io",
    "check_bool",
    "check_choice",
    "check_column_names",
    "check_float",
    "check_int",
    "check_memory",
    "check_random_state",
    "channel_mismatch",
    "column_names",
    "first_non_finite",
    "renamed_parameters",
    "resolve_burn_in",
    "user_stacklevel",
]

F = TypeVar("F", bound=Callable[..., Any])


# --------------------------------------------------------------------------- arrays
def as_float_array(value: Any, name: str, *, ndim: Iterable[int] | None = None) -> np.ndarray:
    """``value`` as a finite float64 array, or a :class:`DataError` naming ``name``.

    Parameters
    ----------
    value : array_like
        Numbers (lists, numpy arrays, pandas objects).
    name : str
        The argument's name, used in error messages.
    ndim : iterable of int, optional
        Allowed numbers of dimensions.

    Returns
    -------
    numpy.ndarray
        A float64 array (no copy when ``value`` already is one).

    Raises
    ------
    DataError
        Non-numeric, complex with a non-zero imaginary part, wrong dimension, NaN or inf.

    Examples
    --------
    >>> as_float_array([1, 2, 3], "u")
    array([1., 2., 3.])
    """
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged lists and other unreadable objects
        raise DataError(f"{name}: cannot be read as an array ({exc})") from exc
    if arr.dtype == object:
        raise DataError(f"{name}: must be numeric, got objects of mixed type or ragged rows")
    if np.iscomplexobj(arr):
        if np.any(np.imag(arr) != 0):
            raise DataError(f"{name}: must be real, got complex values")
        arr = np.real(arr)
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise DataError(f"{name}: must be numeric, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if ndim is not None:
        allowed = tuple(ndim)
        if arr.ndim not in allowed:
            text = " or ".join(f"{k}-D" for k in allowed)
            raise DataError(f"{name}: must be {text}, got shape {arr.shape}")
    bad = first_non_finite(arr, axis=0, block=_FINITE_BLOCK)
    if bad is not None:
        raise DataError(f"{name}: contains {bad[1]} values")
    return arr


_FINITE_BLOCK = 1 << 18  # elements per block of the finiteness check

#: Arrays with more elements than this (and every ``numpy.memmap``) are read a block at
#: a time by the solvers instead of copied whole (:func:`learnlds.records.streaming_io`,
#: the state-space fits).
LAZY_SIZE = 1 << 22


def first_non_finite(arr: Any, *, axis: int = 0, block: int = 8192) -> tuple[int, str] | None:
    """Where ``arr`` first holds NaN or inf along ``axis``, checked in blocks.

    A whole-array ``isfinite`` would allocate a byte per sample of a long record and
    read a record on disk at once; this reads about ``block`` elements at a time
    (anything sliceable: arrays, memory maps, lazy records).

    Parameters
    ----------
    arr : numpy.ndarray or record
        An array, or a record with ``shape`` and slicing (``axis`` 0 or 1).
    axis : {0, 1}
        The axis walked (time: 0 for ``(T, k)`` data, 1 for canonical ``(N, T, k)``).
    block : int
        Elements per block, about.

    Returns
    -------
    (int, str) or None
        Start of the first block holding a bad value and ``'NaN'`` or ``'inf'``;
        ``None`` when all values are finite.

    Examples
    --------
    >>> first_non_finite(np.array([1.0, 2.0, np.inf]), block=2)
    (2, 'inf')
    >>> first_non_finite(np.zeros((1, 5, 2)), axis=1) is None
    True
    """
    shape = tuple(arr.shape)
    if not shape:
        return None if np.isfinite(arr) else (0, "NaN" if np.isnan(arr) else "inf")
    width = max(1, int(np.prod(shape)) // max(1, shape[axis]))
    step = max(1, block // width)
    for t0 in range(0, shape[axis], step):
        part = np.asarray(arr[t0 : t0 + step] if axis == 0 else arr[:, t0 : t0 + step])
        if not np.all(np.isfinite(part)):
            return t0, "NaN" if np.any(np.isnan(part)) else "inf"
    return None


@dataclass(frozen=True)
class IOArrays:
    """Input/output data in canonical form: ``u`` ``(N, T, m)`` and ``y`` ``(N, T, p)``.

    Parameters
    ----------
    u : numpy.ndarray
        Inputs, ``(N, T, m)``.
    y : numpy.ndarray or None
        Outputs, ``(N, T, p)``, or ``None`` when only inputs were given.
    sequences : bool
        Whether the user passed sequences (``True``) or one record.

    Examples
    --------
    >>> io = as_io([1.0, 2.0, 3.0], [0.0, 1.0, 0.5])
    >>> io.u.shape, io.n_inputs, io.sequences
    ((1, 3, 1), 1, False)
    """

    u: np.ndarray
    y: np.ndarray | None
    sequences: bool

    @property
    def n_sequences(self) -> int:
        """Number of sequences ``N`` (1 for a record)."""
        return int(self.u.shape[0])

    @property
    def length(self) -> int:
        """Samples per sequence ``T``."""
        return int(self.u.shape[1])

    @property
    def n_inputs(self) -> int:
        """Input channels ``m``."""
        return int(self.u.shape[2])

    @property
    def n_outputs(self) -> int | None:
        """Output channels ``p`` (``None`` without outputs)."""
        return None if self.y is None else int(self.y.shape[2])

    @property
    def is_siso(self) -> bool:
        """One input and (if given) one output."""
        return self.n_inputs == 1 and (self.y is None or self.y.shape[2] == 1)

    def to_user(self, out: np.ndarray) -> np.ndarray:
        """Lay a canonical ``(N, T, k)`` result out like the user's data.

        A record gives ``(T, k)``, sequences ``(N, T, k)``; a single channel
        (``k == 1``) drops its axis: ``(T,)`` or ``(N, T)``.

        Parameters
        ----------
        out : numpy.ndarray
            Canonical ``(N, T, k)`` array.

        Returns
        -------
        numpy.ndarray
            The same values in the user's layout.

        Examples
        --------
        >>> io = as_io([1.0, 2.0])
        >>> io.to_user(np.zeros((1, 2, 1))).shape
        (2,)
        """
        res = out if self.sequences else out[0]
        return res[..., 0] if res.shape[-1] == 1 else res


def _canonical(arr: np.ndarray, name: str, sequences: bool) -> np.ndarray:
    if sequences:
        if arr.ndim == 2:
            return arr[:, :, None]
        if arr.ndim == 3:
            return arr
        raise DataError(
            f"{name}: sequences=True needs (N, T) or (N, T, channels) arrays, got shape {arr.shape}"
        )
    if arr.ndim == 1:
        return arr[None, :, None]
    if arr.ndim == 2:
        return arr[None]
    raise DataError(
        f"{name}: a record is (T,) or (T, channels) with time along axis 0, got shape "
        f"{arr.shape}; pass sequences=True for (N, T, channels) sequences"
    )


def channel_mismatch(
    arr3: np.ndarray, name: str, expected: int | None, what: str, sequences: bool
) -> str:
    """The message for canonical data whose channel count is not the model's ('' if it is).

    Parameters
    ----------
    arr3 : numpy.ndarray
        Canonical ``(N, T, k)`` data.
    name : str
        The argument's name (``'u'`` or ``'y'``).
    expected : int or None
        The model's channel count (``None``: anything goes).
    what : str
        ``'input'`` or ``'output'``.
    sequences : bool
        Whether the data were read as sequences (a hint is given when not).

    Returns
    -------
    str
        The message, or ``''`` when the count agrees.

    Examples
    --------
    >>> channel_mismatch(np.zeros((1, 250, 2)), "u", 1, "input", False)[:34]
    'u: has 2 input channel(s) (columns'
    """
    if expected is None or arr3.shape[2] == expected:
        return ""
    hint = ""
    if not sequences and expected == 1 and arr3.shape[2] > 1:
        hint = f"; for {arr3.shape[1]} sequences of {arr3.shape[2]} samples pass sequences=True"
    return (
        f"{name}: has {arr3.shape[2]} {what} channel(s) (columns, time along axis 0) but the "
        f"model has {expected}{hint}"
    )


def column_names(u: Any) -> np.ndarray | None:
    """A data frame's column names when all are strings (scikit-learn's rule), else None.

    Parameters
    ----------
    u : object
        Data as given (a pandas ``DataFrame`` has ``columns``).

    Returns
    -------
    numpy.ndarray or None
        The names, an object array; ``None`` for arrays and unnamed or mixed columns.

    Examples
    --------
    >>> import pandas as pd
    >>> column_names(pd.DataFrame({"a": [1.0], "b": [2.0]})).tolist()
    ['a', 'b']
    >>> column_names(np.zeros((3, 2))) is None
    True
    """
    columns = getattr(u, "columns", None)
    if columns is None or isinstance(u, np.ndarray):
        return None
    names = np.asarray(list(columns), dtype=object)
    return names if names.size and all(isinstance(n, str) for n in names) else None


def check_column_names(fitted: Any, u: Any, name: str = "u") -> None:
    """Refuse a data frame whose columns are not ``fitted`` in that order.

    A fitted estimator reads its inputs by position; a frame with the right columns in
    another order (or other columns) would feed the wrong inputs without a word. The
    message carries scikit-learn's wording, which its checks and callers match on.

    Parameters
    ----------
    fitted : array_like of str or None
        The names seen in ``fit`` (``feature_names_in_``); ``None``: nothing to check.
    u : object
        The data given now; only a frame with string column names is checked.
    name : str, default 'u'
        The argument's name, for the message (``'y'``: the columns are outputs).

    Raises
    ------
    DataError
        The columns differ from ``fitted`` or come in another order.

    Examples
    --------
    >>> import pandas as pd
    >>> check_column_names(["a", "b"], pd.DataFrame({"a": [1.0], "b": [2.0]}))
    >>> try:
    ...     check_column_names(["a", "b"], pd.DataFrame({"b": [1.0], "a": [2.0]}))
    ... except DataError as exc:
    ...     print(str(exc).splitlines()[-1])
    Feature names must be in the same order as they were in fit.
    """
    given = column_names(u)
    if fitted is None or given is None:
        return
    fitted = np.asarray(fitted, dtype=object)
    if given.size == fitted.size and np.all(given == fitted):
        return
    text = "The feature names should match those that were passed during fit.\n"
    unseen, missing = sorted(set(given) - set(fitted)), sorted(set(fitted) - set(given))
    if not unseen and not missing:
        text += "Feature names must be in the same order as they were in fit.\n"
    for title, names in (
        ("unseen at fit time", unseen),
        ("seen at fit time, yet now missing", missing),
    ):
        if names:
            text += f"Feature names {title}:\n" + "".join(f"- {n}\n" for n in names[:5])
            text += "- ...\n" if len(names) > 5 else ""
    what = "outputs" if name == "y" else "inputs"
    raise DataError(
        f"{name}: columns {list(given)} are not the {what} the model was fitted on, "
        f"{list(fitted)}, in that order; select and order them as in fit. {text}"
    )


def _channel_check(arr3: np.ndarray, name: str, expected: int | None, what: str, seq: bool) -> None:
    message = channel_mismatch(arr3, name, expected, what, seq)
    if message:
        raise DataError(message)


def as_io(
    u: Any,
    y: Any = None,
    *,
    sequences: bool = False,
    n_inputs: int | None = None,
    n_outputs: int | None = None,
    min_length: int = 1,
    require_y: bool = False,
) -> IOArrays:
    """Validate input/output data and lay them out as canonical ``(N, T, channels)`` arrays.

    Parameters
    ----------
    u : array_like
        Inputs: ``(T,)`` or ``(T, m)`` for one record; with ``sequences=True``
        ``(N, T)`` or ``(N, T, m)``.
    y : array_like, optional
        Outputs, laid out by the same rule as ``u``.
    sequences : bool, default False
        Read the leading axis as the sequence index. Never guessed from shapes.
    n_inputs, n_outputs : int, optional
        Channel counts the data must have (a fitted model's).
    min_length : int, default 1
        Fewest samples per sequence accepted.
    require_y : bool, default False
        Refuse ``y=None`` (for callers that compare outputs).

    Returns
    -------
    IOArrays
        ``u`` ``(N, T, m)`` and ``y`` ``(N, T, p)`` (or ``None``).

    Raises
    ------
    DataError
        Non-numeric or non-finite values, wrong dimensions, lengths that differ,
        channel counts that disagree with the model, fewer than ``min_length`` samples,
        no outputs when ``require_y``.

    Examples
    --------
    >>> io = as_io(np.zeros((100, 3)), np.zeros(100))
    >>> io.u.shape, io.y.shape
    ((1, 100, 3), (1, 100, 1))
    >>> as_io(np.zeros((4, 50)), np.zeros((4, 50)), sequences=True).u.shape
    (4, 50, 1)
    """
    seq = check_bool(sequences, "sequences")
    if u is None:
        raise DataError("u: the inputs are required, got None")
    if y is None and require_y:
        raise DataError("y: the outputs are required, got None")
    u3 = _canonical(as_float_array(u, "u"), "u", seq)
    if u3.size == 0 or u3.shape[1] == 0:
        raise DataError(f"u: no samples (shape {np.shape(u)})")
    _channel_check(u3, "u", n_inputs, "input", seq)
    y3 = None
    if y is not None:
        y3 = _canonical(as_float_array(y, "y"), "y", seq)
        if y3.shape[:2] != u3.shape[:2]:
            what = "lengths" if not seq else "(N, T)"
            raise DataError(
                f"u and y: {what} differ, u has shape {np.shape(u)} and y {np.shape(y)} "
                "(time along axis 0" + (", sequences along axis 0" if seq else "") + ")"
            )
        if y3.shape[2] == 0:
            raise DataError("y: has no output channels")
        _channel_check(y3, "y", n_outputs, "output", seq)
    if u3.shape[1] < min_length:
        raise DataError(
            f"u: {u3.shape[1]} samples per sequence is too short, need at least {min_length}"
        )
    return IOArrays(u3, y3, seq)


# --------------------------------------------------------------------------- parameters
def check_int(
    value: Any,
    name: str,
    *,
    low: int | None = None,
    high: int | None = None,
    allow_none: bool = False,
) -> int | None:
    """An integer parameter in ``[low, high]`` (``None`` only when allowed).

    Parameters
    ----------
    value : Any
        What the user passed.
    name : str
        The parameter's name, for the message.
    low, high : int, optional
        Inclusive bounds.
    allow_none : bool, default False
        Accept ``None`` (returned as is).

    Returns
    -------
    int or None
        ``value`` as a Python ``int``.

    Raises
    ------
    ParameterError
        Not an integer (``bool`` and ``2.5`` are not), or out of bounds.

    Examples
    --------
    >>> check_int(3, "order", low=1)
    3
    """
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        kind = "an integer" + (" or None" if allow_none else "")
        raise ParameterError(f"{name}: must be {kind}, got {value!r}")
    v = int(value)
    if low is not None and v < low:
        raise ParameterError(f"{name}: must be >= {low}, got {v}")
    if high is not None and v > high:
        raise ParameterError(f"{name}: must be <= {high}, got {v}")
    return v


def check_float(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    allow_none: bool = False,
) -> float | None:
    """A finite real parameter within bounds (open or closed at each end).

    Parameters
    ----------
    value : Any
        What the user passed.
    name : str
        The parameter's name, for the message.
    low, high : float, optional
        Bounds.
    low_open, high_open : bool, default False
        Exclude the bound itself.
    allow_none : bool, default False
        Accept ``None`` (returned as is).

    Returns
    -------
    float or None
        ``value`` as a Python ``float``.

    Raises
    ------
    ParameterError
        Not a real number, NaN or inf, or out of bounds.

    Examples
    --------
    >>> check_float(0.05, "lr", low=0.0, low_open=True)
    0.05
    """
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ParameterError(f"{name}: must be a real number, got {value!r}")
    v = float(value)
    if not np.isfinite(v):
        raise ParameterError(f"{name}: must be finite, got {v}")
    if low is not None and (v < low or (low_open and v == low)):
        raise ParameterError(f"{name}: must be {'>' if low_open else '>='} {low}, got {v}")
    if high is not None and (v > high or (high_open and v == high)):
        raise ParameterError(f"{name}: must be {'<' if high_open else '<='} {high}, got {v}")
    return v


def check_bool(value: Any, name: str) -> bool:
    """A boolean parameter (``numpy.bool_`` accepted; ``0``/``1`` and strings are not).

    Parameters
    ----------
    value : Any
        What the user passed.
    name : str
        The parameter's name, for the message.

    Returns
    -------
    bool
        ``value`` as a Python ``bool``.

    Raises
    ------
    ParameterError
        Anything but ``True`` or ``False``.

    Examples
    --------
    >>> check_bool(True, "demean")
    True
    """
    if isinstance(value, bool | np.bool_):
        return bool(value)
    raise ParameterError(f"{name}: must be True or False, got {value!r}")


def check_choice(value: Any, name: str, choices: Iterable[Any]) -> Any:
    """One of a fixed set of values (compared with ``==``, strings case-sensitive).

    Parameters
    ----------
    value : Any
        What the user passed.
    name : str
        The parameter's name, for the message.
    choices : iterable
        The allowed values.

    Returns
    -------
    Any
        ``value`` unchanged.

    Raises
    ------
    ParameterError
        ``value`` is not among ``choices``.

    Examples
    --------
    >>> check_choice("gn", "method", ("gn", "psgd"))
    'gn'
    """
    options = tuple(choices)
    for c in options:
        if type(value) is type(c) and value == c:
            return value
    listed = ", ".join(repr(c) for c in options)
    raise ParameterError(f"{name}: must be one of {listed}; got {value!r}")


def _memory_limit() -> int | None:
    """Bytes this process may allocate at most: physical memory, or the address-space
    limit when lower (``None`` where neither can be read)."""
    limits = []
    try:
        limits.append(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):  # pragma: no cover - not POSIX
        pass
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        if soft != resource.RLIM_INFINITY and soft > 0:
            limits.append(int(soft))
    except (ImportError, OSError, ValueError):  # pragma: no cover - not POSIX
        pass
    return min(limits) if limits else None


def _bytes_text(nbytes: float) -> str:
    """``nbytes`` in a readable binary unit (``'7.3 TiB'``)."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if nbytes < 1024 or unit == "TiB":
            return f"{nbytes:.3g} {unit}" if unit != "B" else f"{int(nbytes)} B"
        nbytes /= 1024
    return ""  # pragma: no cover - unreachable


def check_memory(nbytes: float, name: str, what: str, advice: str | None = None) -> None:
    """Refuse up front a size whose arrays this machine cannot hold.

    Without it numpy raises a ``MemoryError`` deep inside (or the process is killed)
    after the work before it was done; this names the argument that asked for it.

    Parameters
    ----------
    nbytes : float
        The estimated allocation, in bytes.
    name : str
        The argument that sets the size (``'order'``, ``'delay'``), for the message.
    what : str
        What needs the memory, for the message.
    advice : str, optional
        What to do instead (default: use a smaller ``name``).

    Raises
    ------
    ParameterError
        ``nbytes`` exceeds the physical memory (or the address-space limit).

    Examples
    --------
    >>> check_memory(8 * 100**2, "order", "a 100 x 100 matrix")
    >>> check_memory(8e18, "delay", "the state matrix")
    Traceback (most recent call last):
    ...
    learnlds.errors.ParameterError: delay: the state matrix needs about 7.28e+06 TiB, ...
    """
    limit = _memory_limit()
    if limit is not None and nbytes > limit:
        raise ParameterError(
            f"{name}: {what} needs about {_bytes_text(nbytes)}, more than the "
            f"{_bytes_text(limit)} of memory this machine has; {advice or f'use a smaller {name}'}"
        )


def check_random_state(random_state: Any) -> np.random.Generator:
    """A numpy ``Generator`` from ``None``, an integer seed, a ``SeedSequence`` or a generator.

    A ``Generator`` is returned as is (shared state), so a caller can thread one
    generator through several calls.

    Parameters
    ----------
    random_state : None, int, numpy.random.SeedSequence or numpy.random.Generator
        The source of randomness.

    Returns
    -------
    numpy.random.Generator
        The generator to draw from.

    Raises
    ------
    ParameterError
        Anything else (a float, a string, a negative seed).

    Examples
    --------
    >>> g = check_random_state(0)
    >>> check_random_state(g) is g
    True
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    if random_state is None or isinstance(random_state, np.random.SeedSequence):
        return np.random.default_rng(random_state)
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ParameterError(f"random_state: a seed must be >= 0, got {random_state}")
        return np.random.default_rng(int(random_state))
    raise ParameterError(
        f"random_state: must be None, a non-negative integer seed or a numpy Generator, "
        f"got {random_state!r}"
    )


def resolve_burn_in(burn_in: int | None, length: int) -> int:
    """The burn-in rule: ``None`` means ``length // 4``; an integer must be in ``[0, length)``.

    Parameters
    ----------
    burn_in : int or None
        Samples at the start of every sequence left out of the loss.
    length : int
        Samples per sequence ``T``.

    Returns
    -------
    int
        The burn-in to use.

    Raises
    ------
    ParameterError
        Not an integer or ``None``, negative, or leaving no sample to score.

    Examples
    --------
    >>> resolve_burn_in(None, 100), resolve_burn_in(0, 100)
    (25, 0)
    """
    if burn_in is None:
        return int(length) // 4
    b = check_int(burn_in, "burn_in", low=0)
    if b >= length:
        raise ParameterError(
            f"burn_in: {b} leaves no samples in sequences of length {length} (need burn_in < T)"
        )
    return b


def renamed_parameters(**old_to_new: str) -> Callable[[F], F]:
    """Accept deprecated keyword names for one release, warning and forwarding to the new ones.

    The old names stay out of the signature (so the public signature shows one
    vocabulary); passing both an old and its new name is an error.

    Parameters
    ----------
    **old_to_new : str
        Old keyword name mapped to its new one, e.g. ``x="u"``.

    Returns
    -------
    callable
        A decorator.

    Raises
    ------
    ParameterError
        (From the decorated function) both an old name and its new one were passed.

    Examples
    --------
    >>> @renamed_parameters(x="u")
    ... def f(u):
    ...     return u
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     f(x=2)
    2
    """

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            for old, new in old_to_new.items():
                if old in kwargs:
                    if new in kwargs:
                        raise ParameterError(
                            f"{old}: is the deprecated name of {new}; pass only {new}"
                        )
                    warnings.warn(
                        f"{func.__qualname__}: the keyword {old!r} is deprecated, use {new!r}",
                        DeprecationWarning,
                        stacklevel=2,
                    )
                    kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def user_stacklevel() -> int:
    """``stacklevel`` for :func:`warnings.warn` that points at the first caller outside
    learnlds (the user's line), whatever depth of wrappers the warning comes through.

    Returns
    -------
    int
        Frames from the caller of this function up to the first one outside the package.

    Examples
    --------
    >>> user_stacklevel() >= 1
    True
    """
    package = os.path.dirname(os.path.abspath(__file__)) + os.sep
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1
    return level
