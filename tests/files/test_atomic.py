"""Atomic writes: the target holds the old content or the whole new one, never a mix."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from slaledger.files.atomic import atomic_write_bytes, atomic_write_text, atomic_writer


class WriteFailedError(Exception):
    """Stands for anything going wrong while the new content is being written."""


def write_then_fail(target: Path, mode: str, content: str | bytes, error: BaseException) -> None:
    with atomic_writer(target, mode) as file:
        file.write(content)
        file.flush()
        raise error


def names_in(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def test_write_text_creates_the_file(tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    atomic_write_text(target, "héllo\r\nworld\n")
    assert target.read_bytes() == "héllo\r\nworld\n".encode()
    assert names_in(tmp_path) == ["report.txt"]


def test_write_text_replaces_the_old_content(tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    target.write_text("old content that is longer than the new one\n")
    atomic_write_text(target, "new\n")
    assert target.read_text() == "new\n"
    assert names_in(tmp_path) == ["report.txt"]


def test_write_bytes(tmp_path: Path) -> None:
    target = tmp_path / "data.bin"
    atomic_write_bytes(target, b"\x00\x01\xff")
    assert target.read_bytes() == b"\x00\x01\xff"


def test_writer_in_binary_mode_writes_in_pieces(tmp_path: Path) -> None:
    target = tmp_path / "data.csv"
    with atomic_writer(target, "wb") as file:
        file.write(b"a,b\n")
        file.write(b"1,2\n")
        assert not target.exists()  # nothing visible until the block ends
    assert target.read_bytes() == b"a,b\n1,2\n"


def test_exception_mid_write_leaves_the_old_file_untouched(tmp_path: Path) -> None:
    target = tmp_path / "ledger.csv"
    target.write_text("old\n")
    with pytest.raises(WriteFailedError):
        write_then_fail(target, "w", "half of the new content", WriteFailedError())
    assert target.read_text() == "old\n"
    assert names_in(tmp_path) == ["ledger.csv"]  # the temporary file is gone


def test_exception_mid_write_creates_nothing(tmp_path: Path) -> None:
    target = tmp_path / "ledger.csv"
    with pytest.raises(WriteFailedError):
        write_then_fail(target, "wb", b"partial", WriteFailedError())
    assert names_in(tmp_path) == []


def test_keyboard_interrupt_is_cleaned_up_too(tmp_path: Path) -> None:
    target = tmp_path / "ledger.csv"
    with pytest.raises(KeyboardInterrupt):
        write_then_fail(target, "w", "partial", KeyboardInterrupt())
    assert names_in(tmp_path) == []


def test_replacing_keeps_the_permissions_of_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "shared.txt"
    target.write_text("old\n")
    target.chmod(0o640)
    atomic_write_text(target, "new\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_new_file_gets_the_usual_permissions(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    os.umask(umask)
    target = tmp_path / "new.txt"
    atomic_write_text(target, "x")
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask  # not mkstemp's 0o600


def test_missing_directory_is_an_os_error_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        atomic_write_text(tmp_path / "missing" / "report.txt", "x")
    assert names_in(tmp_path) == []


@pytest.mark.parametrize("mode", ["a", "r", "w+", "x", "ab"])
def test_only_write_modes_are_accepted(tmp_path: Path, mode: str) -> None:
    with pytest.raises(ValueError, match="atomic_writer mode must be 'w', 'wt' or 'wb'"):
        atomic_writer(tmp_path / "x.txt", mode)
    assert names_in(tmp_path) == []
