"""Files in a Docker sandbox: tar archives in and out, owned as the sandbox needs.

asyncio only (aiodocker).
"""

from __future__ import annotations

import io
import tarfile
from typing import TYPE_CHECKING

from researchgym.sandboxes._docker_exec import AGENT_UID, AGENT_USER
from researchgym.sandboxes.base import FileTooLargeError, SpecialFileError

if TYPE_CHECKING:
    from pathlib import Path, PurePosixPath

    from aiodocker.containers import DockerContainer


__all__ = ["only_file", "owner", "put_archive", "tree_tar"]


def owner(info: tarfile.TarInfo, mode: str) -> tarfile.TarInfo:
    """Set an entry's owner and mode: the agent's, root's read-only, or root's private."""
    if mode == "agent":
        info.uid = info.gid = AGENT_UID
        info.uname = info.gname = AGENT_USER
    else:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
    if mode == "read_only":
        info.mode &= ~0o222
    elif mode == "private":
        info.mode &= 0o700
    return info


def tree_tar(source: Path, name: str | None, mode: str) -> bytes:
    """A tar of ``source``'s contents under the top directory ``name`` (None: at the top)."""
    if not source.exists():
        raise FileNotFoundError(source)
    if not source.is_dir():
        raise NotADirectoryError(source)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for path, arcname in [(source, name)] if name else _children(source):
            archive.add(path, arcname=arcname, filter=lambda info: owner(info, mode))
    return buffer.getvalue()


def _children(source: Path) -> list[tuple[Path, str]]:
    return [(child, child.name) for child in sorted(source.iterdir())]


async def put_archive(container: DockerContainer, directory: PurePosixPath, data: bytes) -> None:
    # aiodocker's put_archive cannot ask Docker to refuse replacing a directory by a file
    # (it would silently delete the directory), so the request is made here, the same way.
    params = {"path": str(directory), "noOverwriteDirNonDir": "true"}
    url = f"containers/{container.id}/archive"
    async with container.docker._query(url, method="PUT", data=data, params=params):
        pass


def only_file(archive: tarfile.TarFile, path: str, *, limit: int) -> bytes:
    """The bytes of the one regular file an archive of a file holds, at most ``limit``.

    Raises:
        FileTooLargeError: If it is larger than ``limit`` bytes.
        SpecialFileError: If it is not a regular file.
    """
    member = archive.next()
    if member is None or not member.isreg():
        raise SpecialFileError(path)
    if member.size > limit:
        raise FileTooLargeError(path, size=member.size, limit=limit)
    extracted = archive.extractfile(member)
    assert extracted is not None  # a regular file's
    return extracted.read(limit)
