"""Records read a block at a time: memory maps, zarr/HDF5 stores and lazy views.

A record larger than memory is never converted whole. The public entry is
:func:`streaming_io` (the checks of :func:`learnlds._boundary.as_io` on the first
samples, then NaN/inf block by block, then a canonical ``(N, T, k)`` view); the
solvers read its views a block at a time:

* :class:`StoreWindow`, :class:`_StoreView`: part of, and the canonical view of, a
  zarr array or HDF5 dataset (:func:`is_chunked_store`);
* :class:`_LazyRecord`: ``(concatenate(parts) - offset) / scale`` computed per slice;
  :class:`ScaledRecord` is the estimator's standardised record, with the statistics
  of :func:`streaming_moments`;
* :func:`_streamed` (raw user arrays) and :func:`_blockwise` (canonical records) say what
  is streamed rather than copied (beyond :data:`learnlds._boundary.LAZY_SIZE` values,
  memory maps and stores).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._boundary import LAZY_SIZE, IOArrays, as_float_array, as_io, check_bool, first_non_finite
from .errors import DataError, ParameterError

__all__ = [
    "STREAM_BLOCK",
    "ScaledRecord",
    "StoreWindow",
    "is_chunked_store",
    "streaming_io",
    "streaming_moments",
]

#: Samples (over all sequences) per block of the streaming solver: large enough that
#: BLAS and the kernel call overheads vanish, small enough to stay in cache.
STREAM_BLOCK = 8192


def _block(arr3: Any, i: int, t0: int, t1: int) -> np.ndarray:
    """Samples ``t0:t1`` of sequence ``i`` as a contiguous float ``(L, k)`` array (any record)."""
    return np.ascontiguousarray(arr3[i, t0:t1], dtype=float)


class _Record3:
    """What canonical ``(N, T, k)`` views read by slicing share: ``len`` and ``np.asarray``
    (which reads the whole record: for small records and tests only)."""

    ndim = 3
    shape: tuple[int, int, int]

    def __getitem__(self, key: Any) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    def __len__(self) -> int:
        return self.shape[0]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self[:, :]
        return out if dtype is None else out.astype(dtype)


class _LazyRecord(_Record3):
    """A canonical ``(N, T, k)`` record computed a block at a time from others.

    ``(concatenate(parts, channels) - offset) / scale``: ``_LazyRecord((u3,), scale)`` is
    ``u3 / scale``; ``_LazyRecord((u3, y3))`` the predictor's ``[u, y]`` input;
    `ScaledRecord` the estimator's standardised record. Fits of
    long or memory-mapped records read their data through it, so nothing of size ``T``
    is copied. A slice ``[rows, times(, channels)]`` computes that slice only.
    """

    dtype = np.dtype(np.float64)

    def __init__(self, parts: tuple[Any, ...], scale: Any = None, offset: Any = None) -> None:
        self.parts = parts
        k = sum(int(a.shape[2]) for a in parts)
        self.scale = np.ones(k) if scale is None else np.asarray(scale, float).reshape(-1)
        self.offset = np.zeros(k) if offset is None else np.asarray(offset, float).reshape(-1)
        self.shape = (*tuple(parts[0].shape[:2]), k)
        self.size = int(np.prod(self.shape))

    def __getitem__(self, key: Any) -> np.ndarray:
        key = key if isinstance(key, tuple) else (key,)
        key = key + (slice(None),) * (3 - len(key))
        blocks = [np.asarray(a[key[:2]], dtype=np.float64) for a in self.parts]
        whole = blocks[0] if len(blocks) == 1 else np.concatenate(blocks, axis=-1)
        return ((whole - self.offset) / self.scale)[..., key[2]]


def _blockwise(arr3: Any) -> bool:
    """Whether a canonical record (past the front door) is read a block at a time: not
    an in-memory array, a memory map, or larger than ``LAZY_SIZE``. See :func:`_streamed`."""
    return not isinstance(arr3, np.ndarray) or isinstance(arr3, np.memmap) or arr3.size > LAZY_SIZE


def _divide(arr3: Any, scale: np.ndarray) -> Any:
    """``arr3 / scale``: computed now for small in-memory data, lazily otherwise."""
    return _LazyRecord((arr3,), scale) if _blockwise(arr3) else arr3 / scale


def _concatenate(u3: Any, y3: Any) -> Any:
    """``[u3, y3]`` along channels: now for small in-memory data, lazily otherwise."""
    if _blockwise(u3) or _blockwise(y3):
        return _LazyRecord((u3, y3))
    return np.concatenate((u3, y3), axis=2)


def is_chunked_store(arr: Any) -> bool:
    """Whether ``arr`` is an on-disk array read by slicing (a ``zarr.Array``, an
    ``h5py.Dataset``): streamed like a memory map, never converted whole.

    Parameters
    ----------
    arr : object
        Anything.

    Returns
    -------
    bool
        True for a zarr array or HDF5 dataset of numbers, or a :class:`StoreWindow`.

    Examples
    --------
    >>> is_chunked_store(np.zeros(3))
    False
    """
    if isinstance(arr, StoreWindow):
        return True
    root = type(arr).__module__.split(".")[0]
    return (
        root in ("zarr", "h5py")
        and hasattr(arr, "shape")
        and np.dtype(getattr(arr, "dtype", object)).kind in "fiu"
    )


class StoreWindow:
    """Samples ``start:stop`` (along axis 0, time) of a zarr array or HDF5 dataset, unread.

    Slicing a store reads it; a window keeps a part of a record on disk (the CLI's
    estimation part) until a solver reads it a block at a time.

    Parameters
    ----------
    store : zarr.Array or h5py.Dataset
        The record, time along axis 0.
    start, stop : int
        The samples kept, ``0 <= start <= stop <= len``.

    Attributes
    ----------
    shape : tuple of int
        ``(stop - start, *store.shape[1:])``.
    dtype : numpy.dtype
        The store's.

    Raises
    ------
    DataError
        ``start:stop`` outside the record.

    Examples
    --------
    >>> window = StoreWindow(np.arange(10.0), 2, 6)  # any sliceable array works
    >>> window.shape, window[1:3]
    ((4,), array([3., 4.]))
    """

    def __init__(self, store: Any, start: int, stop: int) -> None:
        length = int(store.shape[0])
        if not 0 <= start <= stop <= length:
            raise DataError(f"window: {start}:{stop} is outside the record's {length} samples")
        self.store, self.start, self.stop = store, int(start), int(stop)
        self.shape = (self.stop - self.start, *tuple(int(s) for s in store.shape[1:]))
        self.dtype = np.dtype(store.dtype)

    def __getitem__(self, key: Any) -> np.ndarray:
        key = key if isinstance(key, tuple) else (key,)
        first = key[0]
        if isinstance(first, slice):
            lo, hi, step = first.indices(self.shape[0])
            first = slice(self.start + lo, self.start + hi, step)
        elif isinstance(first, int | np.integer):
            first = self.start + (int(first) if first >= 0 else self.shape[0] + int(first))
        else:
            raise TypeError("StoreWindow: index time with an integer or a slice")
        return np.asarray(self.store[(first, *key[1:])])

    def __len__(self) -> int:
        return self.shape[0]


class _StoreView(_Record3):
    """Canonical ``(N, T, k)`` view of a chunked store laid out by the layout rule.

    Slices ``[rows, times]`` (and a channel key) read only those samples from the store.
    """

    def __init__(self, store: Any, seq: bool) -> None:
        self.store, self.rank = store, len(store.shape)
        shape = tuple(int(s) for s in store.shape)
        if self.rank == 1:
            self.shape = (1, shape[0], 1)
        elif self.rank == 2:
            self.shape = (shape[0], shape[1], 1) if seq else (1, *shape)
        else:
            self.shape = shape
        self.seq, self.dtype = seq, np.dtype(store.dtype)
        self.size = int(np.prod(self.shape))

    def __getitem__(self, key: Any) -> np.ndarray:
        key = key if isinstance(key, tuple) else (key,)
        rows, times = (key + (slice(None), slice(None)))[:2]
        rest = key[2:]
        if self.rank == 3 or (self.rank == 2 and self.seq):
            block = np.asarray(self.store[rows, times])
            block = block[..., None] if self.rank == 2 else block
        else:
            block = np.asarray(self.store[times])
            block = block[:, None] if self.rank == 1 else block
            block = block[None] if not isinstance(rows, int | np.integer) else block
        return block[(Ellipsis, *rest)] if rest else block


def _streamed(arr: Any) -> bool:
    """Whether a raw user array is streamed instead of copied through ``as_io``: a
    zarr/HDF5 array, a memory map, or numbers beyond :data:`LAZY_SIZE` values."""
    if is_chunked_store(arr):
        return True
    return (
        isinstance(arr, np.ndarray)
        and arr.dtype.kind in "fiu"
        and (isinstance(arr, np.memmap) or arr.size > LAZY_SIZE)
    )


def _view3(arr: Any, seq: bool) -> Any:
    """The canonical ``(N, T, k)`` view of an array already checked on its first samples."""
    if is_chunked_store(arr):
        return _StoreView(arr, seq)
    arr = np.asarray(arr)  # a memmap stays mapped: np.asarray returns a view
    if arr.ndim == 1:
        return arr[None, :, None]
    if arr.ndim == 2:
        return arr[:, :, None] if seq else arr[None]
    return arr


def _check_finite_blocks(arr3: np.ndarray, name: str) -> None:
    bad = first_non_finite(arr3, axis=1, block=STREAM_BLOCK)
    if bad is not None:
        raise DataError(f"{name}: contains NaN or inf values (from sample {bad[0]} on)")


class ScaledRecord(_LazyRecord):
    """A lazy ``(arr - offset) / scale`` view of canonical ``(N, T, k)`` data (nothing copied).

    Slicing computes the slice only, so :func:`gauss_newton` fits standardised
    data (as :class:`learnlds.estimator.LDSRegressor` does) on a memory-mapped record
    a block at a time. Get the offsets and scales with :func:`streaming_moments`.

    Parameters
    ----------
    data : numpy.ndarray
        Canonical ``(N, T, k)`` data, e.g. ``streaming_io(u, y).u`` of a memmap.
    offset, scale : array_like
        Per channel, ``(k,)``.

    Attributes
    ----------
    shape : tuple of int
        ``data.shape``.
    ndim : int
        3.
    dtype : numpy.dtype
        float64.

    Raises
    ------
    DataError
        ``data`` is not canonical ``(N, T, k)`` numbers with samples.
    ParameterError
        ``offset`` or ``scale`` not ``k`` finite numbers, or a scale that is not positive.

    Examples
    --------
    >>> rec = ScaledRecord(np.arange(6.0).reshape(1, 6, 1), [1.0], [2.0])
    >>> rec.shape, rec[:, 2:4, 0]
    ((1, 6, 1), array([[0.5, 1. ]]))
    """

    def __init__(self, data: np.ndarray, offset: Any, scale: Any) -> None:
        data = _canonical_record(data)
        k = int(data.shape[2])
        off, sc = _per_channel(offset, "offset", k), _per_channel(scale, "scale", k)
        if np.any(sc <= 0):
            raise ParameterError(f"scale: must be positive per channel, got {sc}")
        super().__init__((data,), sc, off)
        self.data = data


def _per_channel(value: Any, name: str, k: int) -> np.ndarray:
    """``value`` as ``k`` finite floats (a scalar is used for every channel)."""
    try:
        arr = np.asarray(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise ParameterError(
            f"{name}: must be {k} numbers (one per channel), got {value!r}"
        ) from exc
    if arr.size == 1:
        arr = np.repeat(arr, k)
    if arr.size != k or not np.all(np.isfinite(arr)):
        raise ParameterError(f"{name}: must be {k} finite numbers (one per channel), got {value!r}")
    return arr


def _canonical_record(data: Any, name: str = "data") -> Any:
    """``data`` if it is canonical ``(N, T, k)`` numbers with samples, else a DataError.

    Only the shape and dtype are looked at (a memory map or store is not read); a list is
    converted. Without this a ``(T, k)`` record fails deep inside with numpy's unpacking
    or index error.
    """
    if not hasattr(data, "shape") or not hasattr(data, "dtype"):
        data = as_float_array(data, name)
    shape = tuple(int(s) for s in data.shape)
    if len(shape) != 3:
        hint = "; for one (T, k) record pass data[None]" if len(shape) == 2 else ""
        raise DataError(
            f"{name}: must be canonical (N, T, k) data (sequences, samples, channels), "
            f"got shape {shape}{hint}"
        )
    if np.dtype(data.dtype).kind not in "fiub":
        raise DataError(f"{name}: must be numeric, got dtype {np.dtype(data.dtype)}")
    if 0 in shape:
        raise DataError(f"{name}: has no samples or no channels (shape {shape})")
    return data


def streaming_moments(
    data: np.ndarray, *, demean: bool = True, standardize: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel offset and scale of canonical ``(N, T, k)`` data, a block at a time.

    The statistics of the estimator's standardisation (each channel divided by its
    largest magnitude first, so no overflow; mean; root mean square about it) in two
    passes of :data:`STREAM_BLOCK`-sized blocks (blocks combined by Chan's update),
    so a memory-mapped record is never read whole.

    Parameters
    ----------
    data : numpy.ndarray
        Canonical ``(N, T, k)`` data (a memmap view is fine).
    demean, standardize : bool, default True
        Remove the mean; divide by the spread (else by the largest magnitude only).

    Returns
    -------
    offset, scale : numpy.ndarray
        ``(k,)`` each: standardised data are ``(data - offset) / scale``.

    Raises
    ------
    DataError
        Not canonical ``(N, T, k)`` numbers, no samples, or NaN or inf in the data.

    Examples
    --------
    >>> off, sc = streaming_moments(np.array([1.0, 2.0, 3.0]).reshape(1, 3, 1))
    >>> off, np.round(sc, 6)
    (array([2.]), array([0.816497]))
    """
    opts = check_bool(demean, "demean"), check_bool(standardize, "standardize")
    return _streaming_stats(_canonical_record(data), *opts)[:2]


def _moments(
    arr: np.ndarray, demean: bool, standardize: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-channel offset and scale of in-memory ``(N, T, k)`` data and the normalised data
    (:func:`streaming_moments` is the same for records read a block at a time).

    Computed on the data divided by each channel's largest magnitude, so values
    anywhere in float64's range give the same normalised data without overflow.
    """
    peak = np.max(np.abs(arr), axis=(0, 1))
    peak[peak == 0] = 1.0
    unit = arr / peak
    mean = unit.mean(axis=(0, 1)) if demean else np.zeros(arr.shape[2])
    centred = unit - mean
    spread = np.sqrt(np.mean(centred**2, axis=(0, 1))) if standardize else 1.0 / peak
    spread = np.where(spread > 0, spread, 1.0 if standardize else spread)
    return mean * peak, spread * peak, centred / spread


def _streaming_stats(
    data: Any, demean: bool, standardize: bool, check: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`streaming_moments` plus which channels are constant (``(k,)`` bools), found
    in the same first pass (the estimator refuses a constant input without a third).
    ``check=False``: no NaN/inf check (canonical data, checked at the front door)."""
    N, T, k = data.shape
    step = max(1, STREAM_BLOCK // max(1, N * k))
    peak, low, high = np.zeros(k), np.full(k, np.inf), np.full(k, -np.inf)
    for t0 in range(0, T, step):
        blk = np.asarray(data[:, t0 : t0 + step], dtype=np.float64)
        if check and not np.isfinite(blk).all():
            raise DataError(f"data: contains NaN or inf values (from sample {t0} on)")
        peak = np.maximum(peak, np.abs(blk).max(axis=(0, 1)))
        low, high = np.minimum(low, blk.min(axis=(0, 1))), np.maximum(high, blk.max(axis=(0, 1)))
    constant = low == high
    peak[peak == 0] = 1.0
    count, mean, m2 = 0, np.zeros(k), np.zeros(k)
    for t0 in range(0, T, step):
        unit = np.asarray(data[:, t0 : t0 + step], dtype=np.float64).reshape(-1, k) / peak
        nb, mb = unit.shape[0], unit.mean(axis=0)
        delta = mb - mean
        m2 += ((unit - mb) ** 2).sum(axis=0) + delta**2 * count * nb / (count + nb)
        mean += delta * nb / (count + nb)
        count += nb
    if not demean:
        m2, mean = m2 + count * mean**2, np.zeros(k)
    spread = np.sqrt(m2 / count) if standardize else 1.0 / peak
    spread = np.where(spread > 0, spread, 1.0 if standardize else spread)
    return mean * peak, spread * peak, constant


def _dead_input(u3: Any) -> int | None:
    """The first input column of canonical ``u3`` that is zero throughout (it moves no
    output, so the parameters it drives are not determined), or ``None``; read a block
    at a time, so a record on disk is not loaded whole."""
    N, T, m = u3.shape
    step = max(1, STREAM_BLOCK // max(1, N * m))
    live = np.zeros(m, dtype=bool)
    for t0 in range(0, T, step):
        live |= np.any(np.asarray(u3[:, t0 : t0 + step]) != 0, axis=(0, 1))
        if live.all():
            return None
    return int(np.flatnonzero(~live)[0])


def streaming_io(u: Any, y: Any, *, sequences: bool = False) -> IOArrays:
    """:func:`learnlds._boundary.as_io` without copying large or memory-mapped arrays.

    Small data go through ``as_io``. A ``numpy.memmap`` (``np.load(path,
    mmap_mode="r")``) or an array of more than :data:`LAZY_SIZE` values is checked on
    its first samples by ``as_io``, then for NaN/inf a block at a time, and returned
    as a canonical view in its own dtype (the solvers convert one block at a time), so
    a record larger than memory is never read whole.

    Parameters
    ----------
    u, y : array_like or ScaledRecord
        Inputs and outputs by the layout rule (time along axis 0); two
        :class:`ScaledRecord` are taken as canonical sequences as they are.
    sequences : bool, default False
        Read the leading axis as the sequence index.

    Returns
    -------
    IOArrays
        Canonical ``(N, T, m)`` and ``(N, T, p)`` views.

    Raises
    ------
    DataError
        Bad data, as ``as_io`` says, no outputs (``y=None``), or NaN/inf anywhere in a
        large array.

    Examples
    --------
    >>> io = streaming_io(np.zeros(10), np.ones(10))
    >>> io.u.shape, io.y.shape
    ((1, 10, 1), (1, 10, 1))
    """
    seq = check_bool(sequences, "sequences")
    if y is None:
        raise DataError("y: the outputs are required, got None")
    if isinstance(u, ScaledRecord) and isinstance(y, ScaledRecord):  # canonical, checked
        if u.shape[:2] != y.shape[:2]:
            raise DataError(f"u and y: (N, T) differ, u has shape {u.shape} and y {y.shape}")
        return IOArrays(u, y, True)  # type: ignore[arg-type]
    if not (_streamed(u) and _streamed(y)):
        return as_io(u, y, sequences=seq)
    head = (slice(None), slice(0, 16)) if seq else (slice(0, 16),)
    as_io(u[head], y[head], sequences=seq)  # dtype, dimensions, channels on a few samples
    u3, y3 = _view3(u, seq), _view3(y, seq)
    if u3.shape[:2] != y3.shape[:2]:
        raise DataError(
            f"u and y: lengths differ, u has shape {np.shape(u)} and y {np.shape(y)} "
            "(time along axis 0" + (", sequences along axis 0" if seq else "") + ")"
        )
    _check_finite_blocks(u3, "u")
    _check_finite_blocks(y3, "y")
    return IOArrays(u3, y3, seq)
