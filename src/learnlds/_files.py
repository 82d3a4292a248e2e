"""Files learnlds writes: checked before the work, written atomically.

A file is written to a temporary file in the same folder, flushed to disk and
renamed over the target, so a failure (full disk, interrupt) leaves the previous
file intact and never a truncated one.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from .errors import FileFormatError, ParameterError

__all__ = [
    "as_path",
    "atomic_open",
    "atomic_write_text",
    "check_output_folder",
    "check_output_path",
    "folder_mode",
    "import_zarr",
    "open_zarr_group",
    "read_json_object",
]


def as_path(path: Any, what: str = "path") -> Path:
    """A file or folder argument as a ``Path``, refusing what is not a path.

    ``None``, a number or bytes would otherwise fail inside ``pathlib`` with a
    ``TypeError`` that does not say which argument was wrong.

    Parameters
    ----------
    path : str or os.PathLike
        What the user passed.
    what : str, default 'path'
        The argument's name, for the message.

    Returns
    -------
    pathlib.Path
        ``path`` as a ``Path``.

    Raises
    ------
    ParameterError
        ``path`` is not a string or an ``os.PathLike``, or is empty.

    Examples
    --------
    >>> as_path("model.json").name
    'model.json'
    >>> as_path(None, "out")
    Traceback (most recent call last):
    ...
    learnlds.errors.ParameterError: out: expected a file path (str or os.PathLike), got NoneType
    """
    if not isinstance(path, (str, os.PathLike)):
        raise ParameterError(
            f"{what}: expected a file path (str or os.PathLike), got {type(path).__name__}"
        )
    fspath = os.fspath(path)
    if not isinstance(fspath, str):
        raise ParameterError(f"{what}: expected a text path, got {type(fspath).__name__}")
    if not fspath:
        raise ParameterError(f"{what}: the path is empty")
    return Path(fspath)


def check_output_path(path: str | os.PathLike[str], what: str = "output") -> Path:
    """Refuse, before any work, an output path whose folder is missing or not writable.

    Parameters
    ----------
    path : str or os.PathLike
        The file to be written.
    what : str, default 'output'
        The option's name, for the message.

    Returns
    -------
    pathlib.Path
        ``path`` as a ``Path``.

    Raises
    ------
    ParameterError
        The folder does not exist or is not writable, or ``path`` is a folder.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> check_output_path(folder + "/model.json").name
    'model.json'
    """
    p = as_path(path, what)
    parent = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise ParameterError(f"{what}: {p} is a folder, expected a file name")
    if not parent.is_dir():
        raise ParameterError(f"{what}: folder {parent} does not exist (for {p})")
    if not os.access(parent, os.W_OK):
        raise ParameterError(f"{what}: folder {parent} is not writable (for {p})")
    return p


def check_output_folder(path: str | os.PathLike[str], what: str = "out_dir") -> Path:
    """Refuse, before any work, a folder to write into that is an existing file.

    Without it a report built in a temporary folder fails only when moved into place,
    with an ``OSError`` that names the temporary path.

    Parameters
    ----------
    path : str or os.PathLike
        The folder to be written (created with its parents when missing).
    what : str, default 'out_dir'
        The option's name, for the message.

    Returns
    -------
    pathlib.Path
        ``path`` as a ``Path``.

    Raises
    ------
    ParameterError
        ``path`` exists and is not a folder, or is a folder that is not writable.

    Examples
    --------
    >>> import tempfile
    >>> check_output_folder(tempfile.mkdtemp() + "/report").name
    'report'
    """
    p = as_path(path, what)
    if p.exists() and not p.is_dir():
        raise ParameterError(
            f"{what}: {p} is a file; this writes into a folder: give a folder name"
        )
    if p.is_dir() and not os.access(p, os.W_OK):
        raise ParameterError(f"{what}: folder {p} is not writable")
    return p


def _umask() -> int:
    """The process's file-creation mask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _file_mode(target: Path) -> int:
    """The permissions a replaced file keeps, or a new one gets from the umask (not 0600)."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        return 0o666 & ~_umask()


def folder_mode() -> int:
    """Permissions of a new folder under the umask (``mkdtemp`` makes them 0700).

    Returns
    -------
    int
        ``0o777`` less the umask's bits.

    Examples
    --------
    >>> folder_mode() & 0o700
    448
    """
    return 0o777 & ~_umask()


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on success it replaces ``path`` atomically.

    Parameters
    ----------
    path : str or os.PathLike
        The final file.
    mode : {'w', 'wb'}, default 'w'
        Text or binary.
    **kwargs
        Passed to :func:`open` (e.g. ``encoding``, ``newline``).

    Yields
    ------
    file object
        The temporary file to write to.

    Raises
    ------
    ParameterError
        ``mode`` is not a write mode, or ``path`` is a folder or in a missing or
        read-only folder (:func:`check_output_path`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> with atomic_open(target) as fh:
    ...     _ = fh.write("hello")
    >>> target.read_text()
    'hello'
    """
    if mode not in ("w", "wb"):
        raise ParameterError(f"mode: must be 'w' or 'wb', got {mode!r}")
    target = check_output_path(path, "path")  # not the temporary file's OSError
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    try:
        if "b" not in mode:
            kwargs.setdefault("encoding", "utf-8")
        with os.fdopen(fd, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _file_mode(target))  # mkstemp's 0600 would hide the file from others
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_open`).

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.
    text : str
        Its new contents.

    Returns
    -------
    pathlib.Path
        The written file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = atomic_write_text(pathlib.Path(tempfile.mkdtemp()) / "b.txt", "x")
    >>> p.read_text()
    'x'
    """
    with atomic_open(path, "w") as fh:
        fh.write(text)
    return Path(path)


def read_json_object(path: str | os.PathLike[str], what: str = "model file") -> dict[str, Any]:
    """Read a JSON file whose top level is an object, with errors that name the file.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    what : str, default 'model file'
        What the file should be, for the messages.

    Returns
    -------
    dict
        The parsed object.

    Raises
    ------
    FileNotFoundError
        No such file.
    FileFormatError
        Binary content, unreadable, invalid JSON, or not a JSON object.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = atomic_write_text(pathlib.Path(tempfile.mkdtemp()) / "m.json", '{"a": 1}')
    >>> read_json_object(p)
    {'a': 1}
    """
    p = as_path(path, "path")
    try:
        text = p.read_text()
    except FileNotFoundError:
        raise FileNotFoundError(f"{p}: no such {what}") from None
    except UnicodeDecodeError as exc:
        raise FileFormatError(f"{p}: not a learnlds {what} (binary content)") from exc
    except OSError as exc:
        raise FileFormatError(f"{p}: cannot read {what} ({exc.strerror})") from exc
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileFormatError(
            f"{p}: not a learnlds {what} (invalid JSON: {exc.msg}, line {exc.lineno})"
        ) from exc
    if not isinstance(doc, dict):
        raise FileFormatError(f"{p}: not a learnlds {what} (expected a JSON object)")
    return doc


def import_zarr(where: str) -> Any:
    """The zarr module, or an ImportError naming ``where`` and the install command.

    Parameters
    ----------
    where : str
        The store (or call) that needs zarr, for the message.

    Returns
    -------
    module
        ``zarr``.

    Raises
    ------
    ImportError
        zarr is not installed.

    Examples
    --------
    >>> import_zarr("log.zarr").__name__
    'zarr'
    """
    try:
        import zarr
    except ImportError as exc:  # pragma: no cover - zarr is in the [test] extra
        raise ImportError(f"{where}: zarr stores need the zarr package: pip install zarr") from exc
    return zarr


def open_zarr_group(path: str | os.PathLike[str], hint: str = "") -> tuple[Path, Any]:
    """Open a zarr group holding arrays ``u`` and ``y`` for reading, with errors that name it.

    The one opener behind :func:`learnlds.datasets.readers.open_zarr` (one record) and
    :func:`learnlds.distributed.open_zarr_sequences` (Dask sequences), so both refuse a
    missing, broken or incomplete store the same way.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.zarr`` store (a directory).
    hint : str, default ''
        Appended to the message about missing arrays (where such a store is written).

    Returns
    -------
    root : pathlib.Path
        The store's path.
    group : zarr.Group
        The group, opened read-only; ``group["u"]`` and ``group["y"]`` exist.

    Raises
    ------
    ImportError
        zarr is not installed.
    FileNotFoundError
        Nothing at ``path``.
    FileFormatError
        Not a readable zarr group, or one without an array ``u`` or ``y``.

    Examples
    --------
    >>> import tempfile
    >>> try:
    ...     open_zarr_group(tempfile.mkdtemp() + "/absent.zarr")
    ... except FileNotFoundError as exc:
    ...     print(str(exc).split(": ")[-1])
    no zarr store here
    """
    root = as_path(path)
    zarr = import_zarr(str(root))
    if not root.exists():
        raise FileNotFoundError(f"{root}: no zarr store here")
    try:
        group = zarr.open_group(str(root), mode="r")
        missing = [k for k in ("u", "y") if k not in group]
    except Exception as exc:  # zarr raises several types for a broken store
        raise FileFormatError(f"{root}: not a readable zarr group ({exc})") from exc
    if missing:
        raise FileFormatError(
            f"{root}: a zarr record needs arrays 'u' and 'y'; missing {missing}{hint}"
        )
    return root, group
