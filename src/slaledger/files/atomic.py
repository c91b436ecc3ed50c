"""Atomic file writes: readers see the old file or the whole new one, never a partial one.

The new content goes to a temporary file in the target's directory, is flushed and
fsynced, then renamed over the target with :func:`os.replace` (atomic on POSIX within one
file system). On any exception the target is left untouched and the temporary file removed.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import IO, Any, BinaryIO, Literal, TextIO, overload

from slaledger.errors import Problem, UserError

_TEXT_MODES = frozenset({"w", "wt"})
_BINARY_MODES = frozenset({"wb"})


def read_input(path: Path, error_type: type[UserError]) -> bytes:
    """The bytes of a user's input file; one problem naming the file when it cannot be read."""
    try:
        return Path(path).read_bytes()
    except OSError as error:
        reason = error.strerror or str(error)
        raise error_type(Problem(f"cannot read the file: {reason}", str(path))) from None


def decode_utf8(data: bytes, source: str, error_type: type[UserError]) -> str:
    """``data`` as text; else one located problem naming the first byte that is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        found = data[error.start : error.start + 1].hex()
        raise error_type(
            Problem(f"expected UTF-8 text, found the byte 0x{found}", source, line)
        ) from None


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _current_umask()
"""Read once at import: :func:`os.umask` can only be read by setting it."""


def atomic_write_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8, newlines written as given), atomically."""
    with atomic_writer(path) as file:
        file.write(text)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``, atomically."""
    with atomic_writer(path, "wb") as file:
        file.write(data)


@overload
def atomic_writer(path: Path, mode: Literal["w", "wt"] = "w") -> AbstractContextManager[TextIO]: ...


@overload
def atomic_writer(path: Path, mode: Literal["wb"]) -> AbstractContextManager[BinaryIO]: ...


@overload
def atomic_writer(path: Path, mode: str = "w") -> AbstractContextManager[IO[Any]]: ...


def atomic_writer(path: Path, mode: str = "w") -> AbstractContextManager[IO[Any]]:
    """A context manager yielding a file whose content replaces ``path`` on a clean exit.

    ``mode`` is ``"w"`` (UTF-8 text, no newline translation) or ``"wb"``. The new file
    keeps the permission bits of the file it replaces, or gets the usual ``0o666`` less
    the umask when it is new.
    """
    if mode not in _TEXT_MODES and mode not in _BINARY_MODES:
        raise ValueError(f"atomic_writer mode must be 'w', 'wt' or 'wb', not {mode!r}")
    return _atomic_writer(Path(path), mode)


@contextlib.contextmanager
def _atomic_writer(path: Path, mode: str) -> Iterator[IO[Any]]:
    directory = path.parent
    descriptor, temp_name = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    temp_path = Path(temp_name)
    file: IO[Any] | None = None
    try:
        os.fchmod(descriptor, _permissions_for(path))
        if mode in _BINARY_MODES:
            file = os.fdopen(descriptor, "wb")
        else:
            file = os.fdopen(descriptor, "w", encoding="utf-8", newline="")
        with file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp_path, path)
    except BaseException:
        if file is None:  # fdopen never took ownership of the descriptor
            os.close(descriptor)
        with contextlib.suppress(FileNotFoundError):
            temp_path.unlink()
        raise
    _fsync_directory(directory)


def _permissions_for(path: Path) -> int:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return 0o666 & ~_UMASK


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable; not every platform can open a directory."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(descriptor)
    finally:
        os.close(descriptor)
