"""Saved model files: one loader for every model learnlds writes.

Each model class writes versioned JSON with a ``format`` tag
(``learnlds.CanonicalSystem``, ``learnlds.StateSpaceSystem``); :func:`load` reads the
tag once and hands the document to the class that wrote it.
"""

from __future__ import annotations

import os
from typing import Any

from ._files import read_json_object
from .errors import FileFormatError
from .statespace import FORMAT_NAME as STATE_SPACE_FORMAT
from .statespace import StateSpaceSystem
from .systems import FORMAT_NAME as CANONICAL_FORMAT
from .systems import CanonicalSystem

__all__ = ["load", "load_with_metadata", "read_metadata"]


def load(path: str | os.PathLike[str]) -> CanonicalSystem | StateSpaceSystem:
    """Read any model learnlds saved (canonical form or state space).

    Parameters
    ----------
    path : str or os.PathLike
        A JSON file written by ``CanonicalSystem.save`` or ``StateSpaceSystem.save``.

    Returns
    -------
    CanonicalSystem or StateSpaceSystem
        The model, of the class that wrote it.

    Raises
    ------
    FileNotFoundError
        No such file.
    FileFormatError
        Not JSON, or not a learnlds model, or a version this learnlds cannot read.

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = CanonicalSystem([0.5], [1.0]).save(os.path.join(tmp, "m.json"))
    ...     type(load(p)).__name__
    'CanonicalSystem'
    """
    return _model(read_json_object(path), path)


def _model(doc: dict[str, Any], path: Any) -> CanonicalSystem | StateSpaceSystem:
    """The model a parsed model file holds (its ``format`` tag picks the class)."""
    kind = doc.get("format")
    try:
        if kind == STATE_SPACE_FORMAT:
            return StateSpaceSystem.from_dict(doc)
        if kind == CANONICAL_FORMAT:
            return CanonicalSystem.from_dict(doc)
    except FileFormatError as exc:
        raise FileFormatError(f"{path}: {exc}") from None
    except ValueError as exc:  # a field of the wrong shape or type
        raise FileFormatError(f"{path}: {exc}") from None
    raise FileFormatError(
        f"{path}: not a learnlds model (format {kind!r}; expected {CANONICAL_FORMAT!r} "
        f"or {STATE_SPACE_FORMAT!r})"
    )


def _metadata(doc: dict[str, Any], path: Any) -> dict[str, Any]:
    """The ``metadata`` object of a parsed model file (empty when there is none)."""
    meta = doc.get("metadata", {})
    if not isinstance(meta, dict):
        raise FileFormatError(f"{path}: 'metadata' must be an object, got {type(meta).__name__}")
    return meta


def read_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The ``metadata`` object saved beside a model (offsets, sample time, source).

    Parameters
    ----------
    path : str or os.PathLike
        A model file.

    Returns
    -------
    dict
        The metadata (empty when there is none).

    Raises
    ------
    FileFormatError
        ``metadata`` is present but not a JSON object.

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = CanonicalSystem([0.5], [1.0]).save(os.path.join(tmp, "m.json"), source="x")
    ...     read_metadata(p)
    {'source': 'x'}
    """
    return _metadata(read_json_object(path), path)


def load_with_metadata(
    path: str | os.PathLike[str],
) -> tuple[CanonicalSystem | StateSpaceSystem, dict[str, Any]]:
    """:func:`load` and :func:`read_metadata` from one read of the file.

    Parameters
    ----------
    path : str or os.PathLike
        A model file.

    Returns
    -------
    model : CanonicalSystem or StateSpaceSystem
        The model, of the class that wrote it.
    metadata : dict
        The metadata saved beside it (empty when there is none).

    Raises
    ------
    FileNotFoundError
        No such file.
    FileFormatError
        Not JSON, not a learnlds model, or ``metadata`` that is not a JSON object.

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = CanonicalSystem([0.5], [1.0]).save(os.path.join(tmp, "m.json"), source="x")
    ...     model, meta = load_with_metadata(p)
    >>> type(model).__name__, meta
    ('CanonicalSystem', {'source': 'x'})
    """
    doc = read_json_object(path)
    return _model(doc, path), _metadata(doc, path)
