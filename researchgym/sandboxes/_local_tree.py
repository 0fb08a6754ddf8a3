"""Files of a local sandbox, handled on the host: copied in, made read-only, removed.

Only for the engine's own copies (a workspace laid out before the agent starts, the
evaluator's files) and for removing a tree: never for reading or writing an agent's file
(``AgentFiles`` does that, as the agent).
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from pathlib import Path

from researchgym.sandboxes.base import FileTooLargeError, SpecialFileError

__all__ = ["copy_tree", "read_host_file", "remove_tree"]

_NO_WRITE = ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)


def copy_tree(
    source: Path, destination: Path, *, read_only: bool, owner: tuple[int, int] | None = None
) -> None:
    """Copy ``source``'s contents into ``destination`` (blocking); links stay links.

    Args:
        source: A host folder.
        destination: Where its contents go (made if missing).
        read_only: Take the write permission off what was copied (and off ``destination``
            if it was made here).
        owner: Give what was copied to this user and group (unless ``read_only``).

    Raises:
        FileNotFoundError: If ``source`` does not exist.
        NotADirectoryError: If it is not a folder.
    """
    if not source.is_dir():
        # Raises FileNotFoundError if missing, else says it is not a directory.
        source.stat()
        raise NotADirectoryError(20, "Not a directory", str(source))
    created = not destination.exists()
    shutil.copytree(source, destination, symlinks=True, dirs_exist_ok=True)
    if not read_only:
        if owner is not None:
            _give(source, destination, owner, created=created)
        return
    for dirpath, dirnames, filenames in os.walk(source):
        target = destination / Path(dirpath).relative_to(source)
        for name in (*dirnames, *filenames):
            _drop_write(target / name)
    if created:
        _drop_write(destination)


def _drop_write(path: Path) -> None:
    mode = path.lstat().st_mode
    if not stat.S_ISLNK(mode):
        path.chmod(stat.S_IMODE(mode) & _NO_WRITE)


def remove_tree(path: Path) -> None:
    """Remove a file or tree, restoring write permission where it is missing."""
    try:
        _remove(path)
    except PermissionError:
        _unlock(path.parent)
        if path.is_dir() and not path.is_symlink():
            _unlock_tree(path)
        _remove(path)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _unlock_tree(top: Path) -> None:
    # Unlock each directory before listing it, so that even a `chmod 000` one opens.
    stack = [top]
    while stack:
        directory = stack.pop()
        _unlock(directory)
        with os.scandir(directory) as entries:
            stack.extend(Path(e.path) for e in entries if e.is_dir(follow_symlinks=False))


def _unlock(directory: Path) -> None:
    directory.chmod(stat.S_IMODE(directory.stat().st_mode) | stat.S_IRWXU)


def _give(source: Path, destination: Path, owner: tuple[int, int], *, created: bool) -> None:
    for dirpath, dirnames, filenames in os.walk(source):
        target = destination / Path(dirpath).relative_to(source)
        for name in (*dirnames, *filenames):
            os.lchown(target / name, *owner)
    if created:
        os.lchown(destination, *owner)


def read_host_file(path: Path, *, limit: int) -> bytes:
    """A regular file's bytes, at most ``limit``; a link is not followed (blocking).

    Raises:
        FileNotFoundError: If there is no such file.
        FileTooLargeError: If it is larger than ``limit`` bytes.
        SpecialFileError: If it is not a regular file (a link included).
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise SpecialFileError(str(path)) from None
        raise
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SpecialFileError(str(path))
        if info.st_size > limit:
            raise FileTooLargeError(str(path), size=info.st_size, limit=limit)
        data = file.read(limit + 1)
    if len(data) > limit:
        raise FileTooLargeError(str(path), size=None, limit=limit)
    return data
