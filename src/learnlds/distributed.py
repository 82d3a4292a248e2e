"""Scale-out on Dask: the same losses, gradients and solvers over data that do not fit one machine.

Every quantity the solvers need is a sum over sequences -- the loss, its gradient, and
the Gauss-Newton normal equations ``J^T J`` and ``J^T r`` -- so each Dask chunk of
sequences computes its part with the in-memory code and the parts are added. Nothing
here re-implements the mathematics: chunks call :mod:`learnlds.risk` and
:class:`learnlds.train.LeastSquaresProblem`.

Data are Dask arrays of sequences, ``(N, T)`` (SISO) or ``(N, T, m)`` / ``(N, T, p)``,
chunked along ``N`` only (each sequence whole inside one chunk). One long record is
first cut into windows overlapping by the burn-in (:func:`record_to_dask`), so every
sample is scored exactly once. ``dask.compute`` runs on whatever scheduler is active:
a ``distributed.Client`` when one exists, else threads. Persist the arrays
(``x.persist()``) so that the data stay on the workers between iterations.
"""

from __future__ import annotations

from typing import Any

import numpy as np

try:
    import dask
    import dask.array as da
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("learnlds.distributed needs Dask: pip install 'learnlds[dask]'") from exc

from .region import PacmanRegion
from .risk import Gradient, loss_and_grad, resolve_burn_in
from .systems import CanonicalSystem
from .train import (
    LeastSquaresProblem,
    ParamLayout,
    TrainResult,
    initial_model,
    levenberg_marquardt,
    resolve_region,
    tile_windows,
)

__all__ = [
    "as_sequence_chunks",
    "dask_gauss_newton",
    "dask_loss_and_grad",
    "record_to_dask",
]


def as_sequence_chunks(x: Any, y: Any, chunk: int | None = None) -> tuple[da.Array, da.Array]:
    """Dask arrays of sequences chunked along ``N`` only, with ``y`` aligned to ``x``.

    numpy inputs are wrapped (``chunk`` sequences per block, default: about 8 blocks).
    """
    xd = x if isinstance(x, da.Array) else da.asarray(np.asarray(x, dtype=float))
    yd = y if isinstance(y, da.Array) else da.asarray(np.asarray(y, dtype=float))
    if xd.ndim not in (2, 3) or yd.ndim != xd.ndim:
        raise ValueError(
            f"x and y: need 2-D (N, T) or 3-D (N, T, channels) arrays, got {xd.shape}, {yd.shape}"
        )
    if xd.shape[:2] != yd.shape[:2]:
        raise ValueError(f"x and y: (N, T) differ, x {xd.shape} vs y {yd.shape}")
    N = xd.shape[0]
    rows = chunk if chunk is not None else max(1, -(-N // 8))
    if rows < 1:
        raise ValueError(f"chunk: must be >= 1, got {rows}")
    if chunk is not None or len(xd.chunks[0]) == 1 or any(len(c) > 1 for c in xd.chunks[1:]):
        xd = xd.rechunk((rows,) + xd.shape[1:])
    yd = yd.rechunk((xd.chunks[0],) + yd.shape[1:])
    return xd, yd


def record_to_dask(
    x: Any, y: Any, window: int, burn_in: int, chunk: int | None = None
) -> tuple[da.Array, da.Array]:
    """One long SISO record as Dask arrays of windows overlapping by ``burn_in``.

    See :func:`learnlds.train.tile_windows`; use the same ``burn_in`` in the loss.
    """
    wx, wy = tile_windows(x, y, window, burn_in)
    return as_sequence_chunks(np.ascontiguousarray(wx), np.ascontiguousarray(wy), chunk)


# --------------------------------------------------------------------------- gradient
def _chunk_loss_grad(model: CanonicalSystem, xb: np.ndarray, yb: np.ndarray, b: int):
    """Sum (not mean) of the loss and gradient over one chunk, and its sample count."""
    value, grad = loss_and_grad(model, xb, yb, b)
    count = xb.shape[0] * (xb.shape[1] - b)
    return value * count, grad * count, count


def dask_loss_and_grad(
    model: CanonicalSystem, x: da.Array, y: da.Array, burn_in: int | None = None
) -> tuple[float, Gradient]:
    """:func:`learnlds.risk.loss_and_grad` over Dask chunks of sequences, summed exactly.

    A drop-in ``objective`` for :func:`learnlds.train.projected_sgd` (full-batch steps
    over the whole distributed data set).
    """
    xd, yd = as_sequence_chunks(x, y) if not _aligned(x, y) else (x, y)
    b = resolve_burn_in(burn_in, int(xd.shape[1]))
    parts = [
        dask.delayed(_chunk_loss_grad)(model, xb, yb, b)
        for xb, yb in zip(_blocks(xd), _blocks(yd), strict=True)
    ]
    results = dask.compute(*parts)
    total = sum(r[2] for r in results)
    value = sum(r[0] for r in results) / total
    grad = results[0][1]
    for r in results[1:]:
        grad = grad + r[1]
    return float(value), grad * (1.0 / total)


def _aligned(x: Any, y: Any) -> bool:
    return (
        isinstance(x, da.Array)
        and isinstance(y, da.Array)
        and x.chunks[0] == y.chunks[0]
        and all(len(c) == 1 for c in x.chunks[1:])
        and all(len(c) == 1 for c in y.chunks[1:])
    )


def _blocks(arr: da.Array) -> list:
    """The delayed blocks of an array chunked along its first axis only."""
    return list(arr.to_delayed().reshape(-1))


# --------------------------------------------------------------------------- Gauss-Newton
def _chunk_problem(spec: tuple[int, bool], xb, yb, b: int) -> LeastSquaresProblem:
    x3 = xb if xb.ndim == 3 else xb[..., None]
    y3 = yb if yb.ndim == 3 else yb[..., None]
    return LeastSquaresProblem(x3, y3, b, *spec)


def _chunk_normal_equations(spec, xb, yb, b, a, c3, d3):
    return _chunk_problem(spec, xb, yb, b).normal_equations(a, c3, d3)


def _chunk_sse(spec, xb, yb, b, a, c3, d3):
    return _chunk_problem(spec, xb, yb, b).sse(a, c3, d3)


class DaskProblem(ParamLayout):
    """The Gauss-Newton least-squares problem with its data in Dask chunks."""

    def __init__(self, x: da.Array, y: da.Array, b: int, n: int, learn_d: bool) -> None:
        m = 1 if x.ndim == 2 else int(x.shape[2])
        p = 1 if y.ndim == 2 else int(y.shape[2])
        super().__init__(n, m, p, learn_d)
        self.b = b
        self.count = int(x.shape[0]) * (int(x.shape[1]) - b)
        self._xb, self._yb = _blocks(x), _blocks(y)

    def _map(self, fn, a, c3, d3):
        parts = [
            dask.delayed(fn)((self.n, self.learn_d), xb, yb, self.b, a, c3, d3)
            for xb, yb in zip(self._xb, self._yb, strict=True)
        ]
        return dask.compute(*parts)

    def sse(self, a, c3, d3) -> float:
        return float(sum(self._map(_chunk_sse, a, c3, d3)))

    def normal_equations(self, a, c3, d3):
        parts = self._map(_chunk_normal_equations, a, c3, d3)
        sse = sum(p[0] for p in parts)
        JtJ = sum(p[1] for p in parts)
        Jtr = sum(p[2] for p in parts)
        return float(sse), JtJ, Jtr


def dask_gauss_newton(
    x: Any,
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

    ``x``, ``y``: Dask (or numpy) arrays of sequences; see :func:`as_sequence_chunks`.
    Only ``(2n + 1)``-sized matrices travel back to the client at each iteration.
    """
    xd, yd = (x, y) if _aligned(x, y) else as_sequence_chunks(x, y)
    N, T = int(xd.shape[0]), int(xd.shape[1])
    b = resolve_burn_in(burn_in, T)
    siso = xd.ndim == 2
    problem = DaskProblem(xd, yd, b, int(order), learn_d)
    problem.require_samples(N * (T - b) * problem.p, b)
    model = initial_model(init, order, problem.m, problem.p)
    return levenberg_marquardt(
        problem, model, resolve_region(region), max_iter, tol, stability_margin, siso
    )
