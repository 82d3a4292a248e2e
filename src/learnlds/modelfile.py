"""Saved model files: one loader for every model learnlds writes.

Each model class writes versioned JSON with a ``format`` tag
(``learnlds.CanonicalSystem``, ``learnlds.StateSpaceSystem``); :func:`load` reads the
tag once and hands the document to the class that wrote it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .errors import FileFormatError
from .statespace import FORMAT_NAME as STATE_SPACE_FORMAT
from .statespace import StateSpaceSystem
from .systems import FORMAT_NAME as CANONICAL_FORMAT
from .systems import CanonicalSystem

__all__ = ["load", "read_metadata"]


def _document(path: str | os.PathLike[str]) -> dict[str, Any]:
    p = Path(path)
    try:
        text = p.read_text()
    except FileNotFoundError:
        raise FileNotFoundError(f"{p}: no such model file") from None
    except UnicodeDecodeError as exc:
        raise FileFormatError(f"{p}: not a learnlds model (binary content)") from exc
    except OSError as exc:
        raise FileFormatError(f"{p}: cannot read model file ({exc.strerror})") from exc
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileFormatError(f"{p}: invalid JSON ({exc.msg}, line {exc.lineno})") from exc
    if not isinstance(doc, dict):
        raise FileFormatError(f"{p}: not a learnlds model (expected a JSON object)")
    return doc


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
    doc = _document(path)
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
    meta = _document(path).get("metadata", {})
    if not isinstance(meta, dict):
        raise FileFormatError(f"{path}: 'metadata' must be an object, got {type(meta).__name__}")
    return meta
