"""Scale-out on Dask: the same losses, gradients and solvers over data that do not fit one machine.

Every quantity the solvers need is a sum over sequences -- the loss, its gradient, and
the Gauss-Newton normal equations ``J^T J`` and ``J^T r`` -- so each Dask chunk of
sequences computes its part with the in-memory code and the parts are added. Nothing
here re-implements the mathematics: chunks call :mod:`learnlds.risk` and
:class:`learnlds.train.LeastSquaresProblem`.

Data are arrays of sequences (Dask or numpy), ``(N, T)`` for one input and one output
or ``(N, T, m)`` / ``(N, T, p)``, chunked along ``N`` only (each sequence whole inside
one chunk). One long record is first cut into windows overlapping by the burn-in
(:func:`record_to_dask`), so every sample is scored exactly once. ``dask.compute``
runs on whatever scheduler is active: a ``distributed.Client`` when one exists, else
threads. Persist the arrays (``u.persist()``) so that the data stay on the workers
between iterations.

Data on disk: :func:`save_npy_stack` writes sequences as stacks of ``.npy`` files and
:func:`open_npy_stack` maps them back as Dask arrays whose every block is opened
(``np.load(mmap_mode="r")``) by the worker task that reads it, so nothing is shipped
from the client and a worker lost mid-fit costs only the recomputation of its blocks
(tested with process workers and a SIGKILL). :func:`dask_batches` draws minibatches
of such sequences for :func:`learnlds.train.projected_sgd` with
``objective=dask_loss_and_grad``. Each chunk runs the streaming kernels of
:class:`learnlds.train.LeastSquaresProblem`, so a worker needs memory for one block
of samples, not for its chunk.

numpy data go through :func:`learnlds._boundary.as_io`; Dask arrays are checked for
shape and type up front (reading their values would compute them), and a chunk whose
loss is not finite is scanned for NaN or inf, so bad values still raise
:class:`~learnlds.errors.DataError`.

Examples
--------
>>> from learnlds.systems import CanonicalSystem
>>> truth = CanonicalSystem([-0.5], [1.0])
>>> u = np.random.default_rng(0).normal(size=(8, 100))
>>> ud, yd = as_sequence_chunks(u, truth.simulate(u), chunk=2)
>>> ud.numblocks, float(dask_loss_and_grad(truth, ud, yd, burn_in=0)[0])
((4, 1), 0.0)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

try:
    import dask
    import dask.array as da
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("learnlds.distributed needs Dask: pip install 'learnlds[dask]'") from exc

from ._boundary import (
    as_io,
    check_bool,
    check_int,
    renamed_parameters,
    resolve_burn_in,
)
from ._files import as_path, check_output_folder, import_zarr, open_zarr_group
from .errors import DataError, ParameterError
from .region import PacmanRegion
from .risk import Gradient, loss_and_grad
from .systems import CanonicalSystem
from .train import (
    LeastSquaresProblem,
    ParamLayout,
    TrainResult,
    _lm,
    _solver_settings,
    _warn_unconverged,
    initial_model,
    resolve_region,
    tile_windows,
)

__all__ = [
    "DaskProblem",
    "as_sequence_chunks",
    "dask_batches",
    "dask_gauss_newton",
    "dask_loss_and_grad",
    "open_npy_stack",
    "open_zarr_sequences",
    "record_to_dask",
    "save_npy_stack",
    "save_zarr_sequences",
]


# --------------------------------------------------------------------------- data
def _check_dask_pair(ud: da.Array, yd: da.Array) -> tuple[da.Array, da.Array]:
    """Shape and type checks of Dask sequences, without computing them; SISO as ``(N, T)``."""
    for name, arr in (("u", ud), ("y", yd)):
        if arr.ndim not in (2, 3):
            raise DataError(
                f"{name}: sequences must be 2-D (N, T) or 3-D (N, T, channels), got shape "
                f"{arr.shape}"
            )
        if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
            raise DataError(f"{name}: must be numeric, got dtype {arr.dtype}")
        if np.issubdtype(arr.dtype, np.complexfloating):
            raise DataError(f"{name}: must be real, got dtype {arr.dtype}")
    if ud.shape[:2] != yd.shape[:2]:
        raise DataError(f"u and y: (N, T) differ, u has shape {ud.shape} and y {yd.shape}")
    if ud.shape[0] == 0 or ud.shape[1] == 0:
        raise DataError(f"u: no samples (shape {ud.shape})")
    m = 1 if ud.ndim == 2 else ud.shape[2]
    p = 1 if yd.ndim == 2 else yd.shape[2]
    if m == 1 and p == 1:
        return (ud if ud.ndim == 2 else ud[..., 0]), (yd if yd.ndim == 2 else yd[..., 0])
    return (ud if ud.ndim == 3 else ud[..., None]), (yd if yd.ndim == 3 else yd[..., None])


def _chunked(ud: da.Array, yd: da.Array, chunk: int | None) -> tuple[da.Array, da.Array]:
    """Rechunk along ``N`` only (default about 8 blocks), ``y`` aligned with ``u``."""
    N = ud.shape[0]
    rows = chunk if chunk is not None else max(1, -(-N // 8))
    if chunk is not None or len(ud.chunks[0]) == 1 or any(len(c) > 1 for c in ud.chunks[1:]):
        ud = ud.rechunk((rows,) + ud.shape[1:])
    yd = yd.rechunk((ud.chunks[0],) + yd.shape[1:])
    return ud.astype(float, copy=False), yd.astype(float, copy=False)


@renamed_parameters(x="u")
def as_sequence_chunks(u: Any, y: Any, chunk: int | None = None) -> tuple[da.Array, da.Array]:
    """Dask arrays of sequences chunked along ``N`` only, with ``y`` aligned to ``u``.

    Parameters
    ----------
    u, y : array_like or dask.array.Array
        Sequences: ``(N, T)`` or ``(N, T, channels)``. numpy data are validated by
        :func:`learnlds._boundary.as_io` and wrapped; Dask arrays are checked for
        shape and type.
    chunk : int, optional
        Sequences per block; default about 8 blocks (Dask arrays already chunked
        along ``N`` only keep their chunks).

    Returns
    -------
    u, y : dask.array.Array
        ``(N, T)`` when there is one input and one output, else ``(N, T, m)`` and
        ``(N, T, p)``.

    Raises
    ------
    DataError
        Bad data or mismatched shapes.
    ParameterError
        ``chunk`` not a positive integer.

    Examples
    --------
    >>> ud, yd = as_sequence_chunks(np.zeros((10, 50)), np.zeros((10, 50)), chunk=4)
    >>> ud.chunks[0], yd.shape
    ((4, 4, 2), (10, 50))
    """
    chunk = check_int(chunk, "chunk", low=1, allow_none=True)
    if u is None or y is None:
        raise DataError(f"{'u' if u is None else 'y'}: required (inputs and outputs to fit)")
    if isinstance(u, da.Array) or isinstance(y, da.Array):
        ud, yd = _check_dask_pair(da.asarray(u), da.asarray(y))
        return _chunked(ud, yd, chunk)
    io = as_io(u, y, sequences=True)
    u3, y3 = (io.u[..., 0], io.y[..., 0]) if io.is_siso else (io.u, io.y)  # type: ignore[index]
    return _chunked(da.asarray(u3), da.asarray(y3), chunk)


@renamed_parameters(x="u")
def record_to_dask(
    u: Any, y: Any, window: int, burn_in: int | None, chunk: int | None = None
) -> tuple[da.Array, da.Array]:
    """One long SISO record as Dask arrays of windows overlapping by ``burn_in``.

    Parameters
    ----------
    u, y : array_like
        One record, ``(T,)`` each.
    window : int
        Samples per window.
    burn_in : int or None
        Overlap, the burn-in the loss must use; ``None``: ``window // 4``.
    chunk : int, optional
        Windows per block.

    Returns
    -------
    u, y : dask.array.Array
        ``(N, window)`` windows (see :func:`learnlds.train.tile_windows`).

    Raises
    ------
    ParameterError
        ``chunk`` not a positive integer (the others: see ``tile_windows``).

    Examples
    --------
    >>> ud, yd = record_to_dask(np.arange(100.0), np.zeros(100), window=40, burn_in=10)
    >>> ud.shape
    (3, 40)
    """
    chunk = check_int(chunk, "chunk", low=1, allow_none=True)
    wu, wy = tile_windows(u, y, window, burn_in)
    return _chunked(
        da.asarray(np.ascontiguousarray(wu)), da.asarray(np.ascontiguousarray(wy)), chunk
    )


def save_npy_stack(
    folder: str | os.PathLike[str], u: Any, y: Any, chunk: int | None = None
) -> Path:
    """Write sequences as two stacks of ``.npy`` files that workers read themselves.

    ``folder/u`` and ``folder/y`` hold one ``.npy`` file per block of sequences (the
    layout of :func:`dask.array.to_npy_stack`); :func:`open_npy_stack` maps them
    back. On a cluster the folder is a shared file system; Dask arrays are written
    block by block without gathering them on the client.

    Parameters
    ----------
    folder : str or os.PathLike
        Where to write (created when missing).
    u, y : array_like or dask.array.Array
        Sequences ``(N, T)`` or ``(N, T, channels)`` (see :func:`as_sequence_chunks`).
    chunk : int, optional
        Sequences per file; default about 8 files.

    Returns
    -------
    pathlib.Path
        ``folder``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = save_npy_stack(tmp, np.zeros((6, 20)), np.ones((6, 20)), chunk=4)
    ...     ud, yd = open_npy_stack(tmp)
    ...     shape, chunks, total = ud.shape, ud.chunks[0], float(yd.sum().compute())
    >>> shape, chunks, total
    ((6, 20), (4, 2), 120.0)
    """
    ud, yd = as_sequence_chunks(u, y, chunk)
    root = check_output_folder(folder, "folder")
    for name in ("u", "y"):
        check_output_folder(root / name, f"folder/{name}")
    for name, arr in (("u", ud), ("y", yd)):
        (root / name).mkdir(parents=True, exist_ok=True)
        da.to_npy_stack(str(root / name), arr, axis=0)
    return root


def open_npy_stack(folder: str | os.PathLike[str]) -> tuple[da.Array, da.Array]:
    """Dask sequences on ``.npy`` stacks: each block memory-mapped by the task that uses it.

    Nothing is read on the client and no data travel from it: each block's task runs
    ``np.load(path, mmap_mode="r")`` on whichever worker runs it, so a worker that
    dies loses nothing that cannot be read again, and Dask simply recomputes its
    blocks elsewhere (the sums, added on the client in block order, do not change).

    Parameters
    ----------
    folder : str or os.PathLike
        A folder written by :func:`save_npy_stack` (``u/`` and ``y/`` stacks).

    Returns
    -------
    u, y : dask.array.Array
        Aligned sequences for :func:`dask_gauss_newton`, :func:`dask_loss_and_grad`
        and :func:`dask_batches`.

    Raises
    ------
    FileNotFoundError
        No stack in ``folder``.
    DataError
        Stacks of different shapes or block sizes.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = save_npy_stack(tmp, np.zeros((3, 10, 2)), np.zeros((3, 10)), chunk=2)
    ...     ud, yd = open_npy_stack(tmp)
    >>> ud.shape, yd.shape
    ((3, 10, 2), (3, 10, 1))
    """
    root = as_path(folder, "folder")
    for name in ("u", "y"):
        if not (root / name / "info").is_file():
            raise FileNotFoundError(f"{root / name}: no .npy stack here (see save_npy_stack)")
    ud = da.from_npy_stack(str(root / "u"), mmap_mode="r")
    yd = da.from_npy_stack(str(root / "y"), mmap_mode="r")
    ud, yd = _check_dask_pair(ud, yd)
    if ud.chunks[0] != yd.chunks[0]:
        raise DataError(f"{root}: the u and y stacks split the sequences differently")
    return ud, yd


def save_zarr_sequences(
    path: str | os.PathLike[str], u: Any, y: Any, chunk: int | None = None
) -> Path:
    """Write sequences to a zarr group (arrays ``u`` and ``y``, one chunk per block of sequences).

    The zarr counterpart of :func:`save_npy_stack`: each Dask block is written by the
    task that holds it (nothing gathered on the client), and :func:`open_zarr_sequences`
    reads it back as Dask arrays whose tasks read their own chunks. On a cluster the
    store lies on a shared file system (or an object store zarr can reach).

    Parameters
    ----------
    path : str or os.PathLike
        The ``.zarr`` store to write (replaced if it exists).
    u, y : array_like or dask.array.Array
        Sequences ``(N, T)`` or ``(N, T, channels)`` (see :func:`as_sequence_chunks`).
    chunk : int, optional
        Sequences per zarr chunk; default about 8 chunks.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    DataError
        Bad sequences (see :func:`as_sequence_chunks`).
    ImportError
        zarr is not installed.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = save_zarr_sequences(tmp + "/s.zarr", np.zeros((6, 20)), np.ones((6, 20)), chunk=4)
    ...     ud, yd = open_zarr_sequences(tmp + "/s.zarr")
    ...     shape, chunks, total = ud.shape, ud.chunks[0], float(yd.sum().compute())
    >>> shape, chunks, total
    ((6, 20), (4, 2), 120.0)
    """
    import_zarr("save_zarr_sequences")  # before any work
    ud, yd = as_sequence_chunks(u, y, chunk)
    root = as_path(path)
    for name, arr in (("u", ud), ("y", yd)):
        da.to_zarr(arr, str(root), component=name, overwrite=True)
    return root


def open_zarr_sequences(path: str | os.PathLike[str]) -> tuple[da.Array, da.Array]:
    """Dask sequences on a zarr group written by :func:`save_zarr_sequences` (or by hand).

    The arrays ``u`` and ``y`` (``(N, T)`` or ``(N, T, channels)``, chunked along ``N``
    only) become Dask arrays whose tasks read their own chunks from the store: no data
    travel from the client, and a lost worker's chunks are simply read again.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.zarr`` store.

    Returns
    -------
    u, y : dask.array.Array
        Aligned sequences for :func:`dask_gauss_newton`, :func:`dask_loss_and_grad`
        and :func:`dask_batches`.

    Raises
    ------
    FileNotFoundError
        Nothing at ``path``.
    FileFormatError
        Not a readable zarr group, or one without arrays ``u`` and ``y``.
    DataError
        Arrays of different shapes, or chunked along time or differently along ``N``.
    ImportError
        zarr is not installed.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = save_zarr_sequences(tmp + "/s.zarr", np.zeros((3, 10, 2)), np.zeros((3, 10)))
    ...     ud, yd = open_zarr_sequences(tmp + "/s.zarr")
    >>> ud.shape, yd.shape
    ((3, 10, 2), (3, 10, 1))
    """
    root = open_zarr_group(path, " (see save_zarr_sequences)")[0]
    ud, yd = (da.from_zarr(str(root), component=k) for k in ("u", "y"))
    if any(len(c) > 1 for arr in (ud, yd) for c in arr.chunks[1:]):
        raise DataError(f"{root}: chunk the sequences along N only (whole sequences per chunk)")
    ud, yd = _check_dask_pair(ud, yd)
    if ud.chunks[0] != yd.chunks[0]:
        raise DataError(f"{root}: u and y are chunked differently along the sequences")
    return ud, yd


def dask_batches(u: Any, y: Any, batch_size: int) -> Any:
    """Minibatches of Dask sequences for :func:`learnlds.train.projected_sgd`, read where they lie.

    Each call draws ``batch_size`` sequences without replacement (the draw of
    :func:`learnlds.train.sequence_batches`, so the same generator picks the same
    sequences) and returns them as lazy Dask arrays; with
    ``objective=dask_loss_and_grad`` the workers holding (or reading from disk) those
    sequences compute the gradient, and only the gradient travels.

    Parameters
    ----------
    u, y : dask.array.Array or array_like
        Sequences (see :func:`as_sequence_chunks`, :func:`open_npy_stack`).
    batch_size : int
        Sequences per minibatch.

    Returns
    -------
    BatchSource
        ``source(random_state) -> (u_batch, y_batch)``, Dask arrays.

    Raises
    ------
    ParameterError
        ``batch_size`` not a positive integer.

    Examples
    --------
    >>> src = dask_batches(np.zeros((10, 30)), np.zeros((10, 30)), batch_size=4)
    >>> ub, yb = src(np.random.default_rng(0))
    >>> ub.shape, type(ub).__name__
    ((4, 30), 'Array')
    """
    bs = check_int(batch_size, "batch_size", low=1)
    ud, yd = (u, y) if _aligned(u, y) else as_sequence_chunks(u, y)
    N = int(ud.shape[0])

    def draw(random_state: np.random.Generator) -> tuple[da.Array, da.Array]:
        if bs >= N:  # type: ignore[operator]
            return ud, yd
        idx = random_state.choice(N, size=bs, replace=False)
        return ud[idx], yd[idx]

    return draw


def _aligned(u: Any, y: Any) -> bool:
    """Whether ``u`` and ``y`` already are Dask sequences chunked alike along ``N`` only."""
    return (
        isinstance(u, da.Array)
        and isinstance(y, da.Array)
        and u.dtype == np.float64
        and y.dtype == np.float64
        and (u.ndim, y.ndim) in ((2, 2), (3, 3))
        and not (u.ndim == 3 and u.shape[2] == 1 and y.shape[2] == 1)  # SISO is (N, T)
        and u.shape[:2] == y.shape[:2]
        and u.chunks[0] == y.chunks[0]
        and all(len(c) == 1 for c in u.chunks[1:])
        and all(len(c) == 1 for c in y.chunks[1:])
    )


def _blocks(arr: da.Array) -> list:
    """The delayed blocks of an array chunked along its first axis only."""
    return list(arr.to_delayed().reshape(-1))


def _scan(ub: np.ndarray, yb: np.ndarray) -> None:
    """Raise DataError when a chunk holds NaN or inf (called only after a non-finite loss)."""
    for name, arr in (("u", ub), ("y", yb)):
        if not np.all(np.isfinite(arr)):
            bad = "NaN" if np.any(np.isnan(arr)) else "inf"
            raise DataError(f"{name}: contains {bad} values")


# --------------------------------------------------------------------------- gradient
def _chunk_loss_grad(model: CanonicalSystem, ub: np.ndarray, yb: np.ndarray, burn_in: int):
    """Sum (not mean) of the loss and gradient over one chunk, and its sample count."""
    value, grad = loss_and_grad(model, ub, yb, burn_in, sequences=True)
    if not np.isfinite(value):
        _scan(ub, yb)
    count = ub.shape[0] * (ub.shape[1] - burn_in)
    return value * count, grad * count, count


def dask_loss_and_grad(
    model: CanonicalSystem, u: Any, y: Any, burn_in: int | None = None
) -> tuple[float, Gradient]:
    """:func:`learnlds.risk.loss_and_grad` over Dask chunks of sequences, summed exactly.

    A drop-in ``objective`` for :func:`learnlds.train.projected_sgd` (full-batch
    steps over the whole distributed data set).

    Parameters
    ----------
    model : CanonicalSystem
        The model.
    u, y : dask.array.Array or array_like
        Sequences (see :func:`as_sequence_chunks`).
    burn_in : int, optional
        Samples of each sequence left out of the loss; ``None``: ``T // 4``.

    Returns
    -------
    loss : float
        Mean squared error after the burn-in over all sequences.
    grad : Gradient
        Its exact gradient.

    Raises
    ------
    ParameterError
        ``model`` not a system, or a bad ``burn_in``.

    Examples
    --------
    >>> truth = CanonicalSystem([-0.5], [1.0])
    >>> u = np.random.default_rng(0).normal(size=(4, 50))
    >>> value, grad = dask_loss_and_grad(CanonicalSystem([0.0], [1.0]), u, truth.simulate(u))
    >>> value > 0, grad.a.shape
    (True, (1,))
    """
    if not isinstance(model, CanonicalSystem):
        raise ParameterError(f"model: must be a CanonicalSystem, got {type(model).__name__}")
    ud, yd = (u, y) if _aligned(u, y) else as_sequence_chunks(u, y)
    b = resolve_burn_in(burn_in, int(ud.shape[1]))
    parts = [
        dask.delayed(_chunk_loss_grad)(model, ub, yb, b)
        for ub, yb in zip(_blocks(ud), _blocks(yd), strict=True)
    ]
    results = dask.compute(*parts)
    total = sum(r[2] for r in results)
    value = sum(r[0] for r in results) / total
    grad = results[0][1]
    for r in results[1:]:
        grad = grad + r[1]
    return float(value), grad * (1.0 / total)


# --------------------------------------------------------------------------- Gauss-Newton
def _chunk_problem(spec: tuple[int, bool], ub, yb, burn_in: int) -> LeastSquaresProblem:
    u3 = ub if ub.ndim == 3 else ub[..., None]
    y3 = yb if yb.ndim == 3 else yb[..., None]
    return LeastSquaresProblem(u3, y3, burn_in, *spec)


def _chunk_normal_equations(spec, ub, yb, burn_in, a, c3, d3):
    out = _chunk_problem(spec, ub, yb, burn_in).normal_equations(a, c3, d3)
    if not np.isfinite(out[0]):
        _scan(ub, yb)
    return out


def _chunk_sse(spec, ub, yb, burn_in, a, c3, d3):
    return _chunk_problem(spec, ub, yb, burn_in).sse(a, c3, d3)


def _npy_files(arr: da.Array) -> list[str] | None:
    """The ``.npy`` file of each block when ``arr`` is a bare :func:`open_npy_stack` array.

    Tasks can then open their block themselves (``np.load(mmap_mode="r")``): one task
    per block, no data dependency, nothing to move between workers.
    """
    graph = dict(arr.__dask_graph__())
    if len(arr.dask.layers) != 1 or not arr.name.startswith("from-npy-stack-"):
        return None
    paths = []
    for key in arr.__dask_keys__() if arr.ndim == 1 else _flat_keys(arr):
        task = graph.get(key)
        if not (isinstance(task, tuple) and len(task) == 3 and task[0] is np.load):
            return None
        paths.append(task[1])
    return paths


def _flat_keys(arr: da.Array) -> list:
    keys = arr.__dask_keys__()
    while isinstance(keys, list) and keys and isinstance(keys[0], list):
        if len(keys[0]) != 1:
            return []
        keys = [k[0] for k in keys]
    return keys


def _chunk_normal_equations_files(spec, path_u, path_y, burn_in, a, c3, d3):
    ub, yb = np.load(path_u, mmap_mode="r"), np.load(path_y, mmap_mode="r")
    return _chunk_normal_equations(spec, ub, yb, burn_in, a, c3, d3)


def _chunk_sse_files(spec, path_u, path_y, burn_in, a, c3, d3):
    ub, yb = np.load(path_u, mmap_mode="r"), np.load(path_y, mmap_mode="r")
    return _chunk_sse(spec, ub, yb, burn_in, a, c3, d3)


_ON_FILES = {_chunk_normal_equations: _chunk_normal_equations_files, _chunk_sse: _chunk_sse_files}


class DaskProblem(ParamLayout):
    """The Gauss-Newton least-squares problem with its data in Dask chunks.

    Parameters
    ----------
    u, y : dask.array.Array
        Aligned sequences from :func:`as_sequence_chunks`.
    burn_in : int
        Samples of each sequence left out of the loss, ``0 <= burn_in < T``.
    order : int
        Model order.
    learn_d : bool
        Whether ``d`` is a parameter.

    Attributes
    ----------
    count : int
        Samples scored, ``N (T - burn_in)``.

    Examples
    --------
    >>> ud, yd = as_sequence_chunks(np.ones((4, 10)), np.ones((4, 10)), chunk=2)
    >>> prob = DaskProblem(ud, yd, 0, 1, True)
    >>> prob.count, prob.sse(np.zeros(1), np.zeros((1, 1, 1)), np.ones((1, 1)))
    (40, 0.0)
    """

    def __init__(self, u: da.Array, y: da.Array, burn_in: int, order: int, learn_d: bool) -> None:
        m = 1 if u.ndim == 2 else int(u.shape[2])
        p = 1 if y.ndim == 2 else int(y.shape[2])
        super().__init__(order, m, p, learn_d)
        self.burn_in = int(burn_in)
        self.count = int(u.shape[0]) * (int(u.shape[1]) - self.burn_in)
        self._ub, self._yb = _blocks(u), _blocks(y)
        files = _npy_files(u), _npy_files(y)
        self._files = files if None not in files and len(files[0]) == len(self._ub) else None

    def _map(self, fn, a, c3, d3):
        spec = (self.order, self.learn_d)
        if self._files is not None:  # each task maps its own block from disk
            fn, blocks = _ON_FILES[fn], zip(*self._files, strict=True)
        else:
            blocks = zip(self._ub, self._yb, strict=True)
        parts = [dask.delayed(fn)(spec, ub, yb, self.burn_in, a, c3, d3) for ub, yb in blocks]
        return dask.compute(*parts)

    def sse(self, a: np.ndarray, c3: np.ndarray, d3: np.ndarray) -> float:
        """Sum of squared residuals after the burn-in, summed over chunks.

        Parameters
        ----------
        a, c3, d3 : numpy.ndarray
            ``(n,)``, ``(n, p, m)`` and ``(p, m)``.

        Returns
        -------
        float
            ``loss * count``.

        Examples
        --------
        >>> ud, yd = as_sequence_chunks(np.ones((2, 5)), np.zeros((2, 5)), chunk=1)
        >>> DaskProblem(ud, yd, 0, 1, True).sse(np.zeros(1), np.zeros((1, 1, 1)), np.ones((1, 1)))
        10.0
        """
        return float(sum(self._map(_chunk_sse, a, c3, d3)))

    def normal_equations(
        self, a: np.ndarray, c3: np.ndarray, d3: np.ndarray
    ) -> tuple[float, np.ndarray, np.ndarray]:
        """``(sse, J^T J, J^T r)`` summed over chunks; only small matrices travel back.

        Parameters
        ----------
        a, c3, d3 : numpy.ndarray
            ``(n,)``, ``(n, p, m)`` and ``(p, m)``.

        Returns
        -------
        sse : float
            Sum of squared residuals.
        JtJ, Jtr : numpy.ndarray
            ``(n_params, n_params)`` and ``(n_params,)``.

        Examples
        --------
        >>> ud, yd = as_sequence_chunks(np.ones((2, 5)), np.zeros((2, 5)), chunk=1)
        >>> prob = DaskProblem(ud, yd, 0, 1, True)
        >>> prob.normal_equations(np.zeros(1), np.zeros((1, 1, 1)), np.ones((1, 1)))[2]
        array([ 0.,  8., 10.])
        """
        parts = self._map(_chunk_normal_equations, a, c3, d3)
        sse = sum(p[0] for p in parts)
        JtJ = sum(p[1] for p in parts)
        Jtr = sum(p[2] for p in parts)
        return float(sse), JtJ, Jtr


@renamed_parameters(x="u")
def dask_gauss_newton(
    u: Any,
    y: Any,
    *,
    order: int,
    burn_in: int | None = 0,
    region: PacmanRegion | str | None = "pacman",
    init: str | CanonicalSystem = "zero",
    max_iter: int = 100,
    tol: float = 1e-10,
    learn_d: bool = True,
    stability_margin: float = 1e-6,
) -> TrainResult:
    """:func:`learnlds.train.gauss_newton` with the normal equations summed over Dask chunks.

    Only ``(n_params x n_params)`` matrices travel back to the client at each iteration.

    Parameters
    ----------
    u, y : dask.array.Array or array_like
        Sequences (see :func:`as_sequence_chunks`; ``x`` is a deprecated alias of ``u``).
    order : int
        Model order.
    burn_in : int or None, default 0
        Samples of each sequence left out of the loss; ``None``: ``T // 4``.
    region : PacmanRegion, 'pacman' or None, default 'pacman'
        Where ``a`` is kept.
    init : {'zero', 'identity'} or CanonicalSystem, default 'zero'
        The starting model.
    max_iter : int, default 100
        Most iterations; stopping there warns ``ConvergenceWarning``.
    tol : float, default 1e-10
        Stop when the relative decrease of the loss falls below it.
    learn_d : bool, default True
        Learn the feed-through ``d``.
    stability_margin : float, default 1e-6
        Without a region, the spectral radius stays below ``1 - stability_margin``.

    Returns
    -------
    TrainResult
        As :func:`learnlds.train.gauss_newton`'s.

    Examples
    --------
    >>> truth = CanonicalSystem([-0.5], [1.0], 0.2)
    >>> u = np.random.default_rng(0).normal(size=(6, 100))
    >>> res = dask_gauss_newton(u, truth.simulate(u), order=1)
    >>> res.converged, np.round(res.model.a, 6)
    (True, array([-0.5]))
    """
    max_iter, tol, margin = _solver_settings(max_iter, tol, stability_margin)
    learn_d = check_bool(learn_d, "learn_d")
    ud, yd = (u, y) if _aligned(u, y) else as_sequence_chunks(u, y)
    N, T = int(ud.shape[0]), int(ud.shape[1])
    b = resolve_burn_in(burn_in, T)
    problem = DaskProblem(ud, yd, b, check_int(order, "order", low=1), learn_d)  # type: ignore[arg-type]
    problem.require_samples(N * (T - b) * problem.n_outputs, b)
    model = initial_model(init, order, problem.n_inputs, problem.n_outputs)
    result = _lm(problem, model, resolve_region(region), max_iter, tol, margin, ud.ndim == 2)
    _warn_unconverged(result)
    return result
