"""The digest of a task's eval/, and the checked copy of it that each evaluation uploads.

eval/ is hashed once, when the task is loaded (``tree_digest``). Each evaluation copies it
into a fresh folder, hashing the very bytes it writes (``snapshot``), and uploads that copy
only if its digest is the one recorded at load. The check is of the copy itself, so nothing
can swap the evaluator between the check and the upload.

The digest is SHA-256 over every entry, in the order of their relative paths: a folder by
its path; a file by its path, whether its owner may execute it, and the SHA-256 of its
bytes. ``__pycache__`` folders are neither hashed nor copied: they hold derived files, which
could stand in for their source. Anything that is neither a file nor a folder (a symbolic
link, a FIFO, a device) is refused: what a link would copy is up to what it points at.
Files are opened without following links, relative to their folder's descriptor, so a
folder swapped for a link while it is read cannot lead the copy elsewhere.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
from pathlib import Path

__all__ = ["Unfit", "snapshot", "tree_digest", "unfit_entries"]

SKIPPED = "__pycache__"
"""Folders of eval/ that are neither hashed nor copied."""
_CHUNK = 1 << 20
_ONLY_FILES = "eval/ may hold only files and folders, since it is copied for each evaluation"


class Unfit(Exception):
    """An entry of eval/ that cannot be hashed: not a file or a folder, or unreadable."""

    def __init__(self, path: Path, what: str, hint: str = "") -> None:
        """``path`` is ``what`` ("is a symbolic link"); ``hint`` says what to do."""
        self.path = path
        self.what = what
        self.hint = hint
        super().__init__(f"{path} {what}")

    @property
    def problem(self) -> str:
        """What is wrong, and what to do about it."""
        return f"{self.what}; {self.hint}" if self.hint else self.what


def unfit_entries(folder: Path) -> list[Unfit]:
    """Every entry of ``folder`` (itself included) that is neither a file nor a folder."""
    found = []
    for path in _entries(folder):
        try:
            mode = path.lstat().st_mode
        except OSError as e:
            found.append(Unfit(path, f"cannot be read: {e.strerror}"))
            continue
        if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
            found.append(_odd(path, mode))
    return found


def _entries(folder: Path) -> list[Path]:
    if folder.is_symlink():
        return [folder]
    found = [folder]
    for parent, folders, files in os.walk(folder):  # never into a link
        folders[:] = [name for name in folders if name != SKIPPED]
        found += [Path(parent, name) for name in sorted(folders + files)]
    return found


def tree_digest(folder: Path) -> str:
    """The digest of ``folder``'s contents (hex).

    Raises:
        Unfit: If it holds something other than files and folders, or cannot be read.
    """
    return _copy(folder, None)


def snapshot(folder: Path, into: Path) -> str:
    """Copy ``folder``'s contents into the new folder ``into``; return the copy's digest.

    Files keep their permissions (always readable by their owner); the folders are their
    owner's.

    Raises:
        Unfit: As ``tree_digest``.
        OSError: If the copy cannot be written.
    """
    os.mkdir(into, 0o700)
    return _copy(folder, into)


def _copy(folder: Path, into: Path | None) -> str:
    entries: list[tuple[bytes, bytes]] = []
    top = _open(folder, None, os.O_DIRECTORY)
    try:
        _copy_folder(top, folder, b"", into, entries)
    finally:
        os.close(top)
    digest = hashlib.sha256()
    for relative, record in sorted(entries):
        # length-prefixed paths and fixed-length records: no two trees share a stream
        digest.update(len(relative).to_bytes(8, "big") + relative + record)
    return digest.hexdigest()


def _copy_folder(
    fd: int, path: Path, relative: bytes, into: Path | None, entries: list[tuple[bytes, bytes]]
) -> None:
    try:
        with os.scandir(fd) as listing:
            names = sorted(entry.name for entry in listing)
    except OSError as e:
        raise Unfit(path, f"cannot be read: {e.strerror}") from None
    for name in names:
        here, key = path / name, relative + b"/" + os.fsencode(name)
        try:
            mode = os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode
        except OSError as e:
            raise Unfit(here, f"cannot be read: {e.strerror}") from None
        if stat.S_ISDIR(mode) and name != SKIPPED:
            entries.append((key, b"d"))
            child = _open(here, fd, os.O_DIRECTORY)
            try:
                target = None if into is None else into / name
                if target is not None:
                    os.mkdir(target, 0o700)
                _copy_folder(child, here, key, target, entries)
            finally:
                os.close(child)
        elif stat.S_ISREG(mode):
            entries.append((key, _copy_file(fd, here, None if into is None else into / name)))
        elif not stat.S_ISDIR(mode):
            raise _odd(here, mode)


def _copy_file(folder_fd: int, path: Path, target: Path | None) -> bytes:
    """The file's record (kind, executable, SHA-256 of its bytes), copied to ``target``."""
    fd = _open(path, folder_fd, os.O_NONBLOCK)  # a FIFO put there meanwhile must not block
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _odd(path, info.st_mode)
        digest = hashlib.sha256()
        with open(target, "xb") if target is not None else contextlib.nullcontext() as out:
            while chunk := _read(fd, path):
                digest.update(chunk)
                if out is not None:
                    out.write(chunk)
        if target is not None:
            os.chmod(target, stat.S_IMODE(info.st_mode) & 0o777 | stat.S_IRUSR)
    finally:
        os.close(fd)
    executable = b"x" if info.st_mode & stat.S_IXUSR else b"-"
    return b"f" + executable + digest.digest()


def _open(path: Path, folder_fd: int | None, flags: int) -> int:
    name = path.name if folder_fd is not None else str(path)
    try:
        return os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | flags, dir_fd=folder_fd)
    except OSError as e:
        if e.errno in (errno.ELOOP, errno.ENOTDIR) and _is_link(name, folder_fd):
            raise _odd(path, stat.S_IFLNK) from None  # O_NOFOLLOW met a link
        raise Unfit(path, f"cannot be read: {e.strerror}") from None


def _is_link(name: str, folder_fd: int | None) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=folder_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _read(fd: int, path: Path) -> bytes:
    try:
        return os.read(fd, _CHUNK)
    except OSError as e:
        raise Unfit(path, f"cannot be read: {e.strerror}") from None


def _odd(path: Path, mode: int) -> Unfit:
    if stat.S_ISLNK(mode):
        return Unfit(path, "is a symbolic link", f"{_ONLY_FILES}: put the file itself there")
    kind = "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
    return Unfit(path, f"is {kind}, not a file or a folder", _ONLY_FILES)
