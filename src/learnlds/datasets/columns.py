"""Column selection rules shared by the file readers and :class:`~learnlds.datasets.IOData`.

Columns are chosen by header name or 0-based index; errors name the file (or
record) and list what is available.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import DataError, ParameterError

__all__ = ["ColumnSpec", "UnknownColumnError"]

ColumnSpec = int | str | Sequence[int | str] | None


class UnknownColumnError(ParameterError):
    """A column name that the file (or record) does not have; ``role`` says whether it
    was asked for as an ``'input'`` or an ``'output'``, so a caller can try other columns.

    Parameters
    ----------
    message : str
        What is missing and what the file has.
    role : {'input', 'output'}
        What the missing column was asked for as.

    Examples
    --------
    >>> UnknownColumnError("x.csv: unknown input column 'a'", "input").role
    'input'
    """

    def __init__(self, message: str, role: str) -> None:
        super().__init__(message)
        self.role = role


def _as_list(spec: ColumnSpec) -> list[int | str]:
    if isinstance(spec, str | int | np.integer):
        return [spec]  # type: ignore[list-item]
    try:
        return list(spec)  # type: ignore[arg-type]
    except TypeError:
        return [spec]  # type: ignore[list-item]


def _pick_one(item: Any, names: list[str], role: str, where: str) -> int:
    if isinstance(item, str):
        if item not in names:
            avail = ", ".join(repr(n) for n in names)
            raise UnknownColumnError(
                f"{where}: unknown {role} column {item!r}; available: {avail}", role
            )
        return names.index(item)
    if isinstance(item, int | np.integer) and not isinstance(item, bool):
        idx = int(item)
        if not -len(names) <= idx < len(names):
            raise ParameterError(
                f"{where}: {role} column index {idx} is out of range; there are "
                f"{len(names)} columns (0 to {len(names) - 1})"
            )
        return idx % len(names)
    raise ParameterError(f"{where}: {role} columns are names or 0-based indices, got {item!r}")


def _pick(spec: ColumnSpec, names: list[str], role: str, where: str) -> list[int]:
    """0-based indices for ``spec`` (names or indices); ``None`` means all columns."""
    if spec is None:
        return list(range(len(names)))
    out: list[int] = []
    for item in _as_list(spec):
        idx = _pick_one(item, names, role, where)
        if idx in out:
            raise ParameterError(f"{where}: {role} column {names[idx]!r} is listed twice")
        out.append(idx)
    if not out:
        raise ParameterError(f"{where}: no {role} column chosen")
    return out


def _pick_labels(spec: ColumnSpec, labels: list[Any], role: str, where: str) -> list[int]:
    """Like :func:`_pick` for DataFrame labels (which need not be strings)."""
    if spec is None:
        raise ParameterError(f"{where}: {role}_cols must be given")
    items = [spec] if not isinstance(spec, list | tuple) else list(spec)
    out: list[int] = []
    for item in items:
        if item in labels:
            out.append(labels.index(item))
        elif isinstance(item, int | np.integer) and -len(labels) <= int(item) < len(labels):
            out.append(int(item) % len(labels))
        else:
            avail = ", ".join(repr(c) for c in labels)
            raise UnknownColumnError(
                f"{where}: unknown {role} column {item!r}; available: {avail}", role
            )
    if not out:
        raise ParameterError(f"{where}: no {role} column chosen")
    return out


def _no_overlap(ui: list[int], yi: list[int], names: list[str], where: str) -> None:
    both = [names[i] for i in ui if i in yi]
    if both:
        raise ParameterError(f"{where}: column(s) {both} chosen as both input and output")


def _check_finite(
    data: np.ndarray, names: list[str], where: str, lines: Sequence[int] | None = None
) -> None:
    """``DataError`` naming the first NaN/inf: its column and file line (or data row)."""
    bad = ~np.isfinite(data)
    if bad.any():
        col = int(np.argmax(bad.any(axis=0)))
        row = int(np.argmax(bad[:, col]))
        kind = "NaN" if np.isnan(data[row, col]) else "inf"
        at = f"line {lines[row]}" if lines is not None else f"data row {row}, 0-based"
        raise DataError(
            f"{where}: column {names[col]!r} contains {kind} (first at {at}); "
            "remove or interpolate missing samples first"
        )
