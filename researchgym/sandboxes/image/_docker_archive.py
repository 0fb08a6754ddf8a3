"""A root filesystem tar loaded into Docker as a one-layer image, through ``POST /images/load``.

The request body is a docker-archive, made on the fly while it is sent, so that hundreds of
megabytes never sit in memory: the root filesystem tar goes in as ``rootfs/layer.tar``
(hashed as it streams), then the image config, which needs that hash as the layer's
``diff_id``, then ``manifest.json``. The order does not matter to Docker, which unpacks the
whole archive before reading the manifest.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import aiodocker
import anyio

from researchgym.errors import ImageBuildError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Mapping
    from pathlib import Path

__all__ = ["archive_chunks", "load_rootfs"]

_CHUNK = 1 << 20
_REPORT_EVERY = 64 << 20
_LAYER = "rootfs/layer.tar"


async def load_rootfs(
    docker: aiodocker.Docker,
    rootfs: Path,
    *,
    tag: str,
    config: Mapping[str, Any],
    progress: Callable[[str], None],
) -> str:
    """Load the root filesystem tar ``rootfs`` into Docker as the image ``tag``.

    Args:
        docker: The daemon.
        rootfs: A tar of the whole root filesystem.
        tag: The image's name and tag.
        config: The image's run settings (``Env``, ``Cmd``, ``WorkingDir``, ``Labels``...).
        progress: Called with a short line as the upload goes on.

    Returns:
        The new image's id.

    Raises:
        ImageBuildError: If Docker refuses the image.
    """
    architecture = str((await docker.version()).get("Arch", "amd64"))
    chunks = archive_chunks(
        rootfs, tag=tag, config=config, architecture=architecture, progress=progress
    )
    try:
        await docker.images.import_image(data=chunks, stream=False)
        image: dict[str, Any] = await docker.images.inspect(tag)
    except aiodocker.DockerError as e:
        raise ImageBuildError(
            "offline",
            f"Docker did not load the image: {e.message}",
            hint="Check the daemon's free disk space (docker system df), then build again.",
        ) from e
    return str(image["Id"])


async def archive_chunks(
    rootfs: Path,
    *,
    tag: str,
    config: Mapping[str, Any],
    architecture: str,
    progress: Callable[[str], None] = lambda _: None,
) -> AsyncIterator[bytes]:
    """Yield a docker-archive of a one-layer image made of ``rootfs``, piece by piece.

    Args:
        rootfs: A tar of the whole root filesystem: the image's one layer.
        tag: The image's name and tag.
        config: The image's run settings.
        architecture: The image's CPU architecture, in Go's words (``amd64``, ``arm64``).
        progress: Called with a short line every 64 MiB.
    """
    size = (await anyio.Path(rootfs).stat()).st_size
    digest = hashlib.sha256()
    yield _header(_LAYER, size)
    sent = 0
    async with await anyio.open_file(rootfs, "rb") as layer:
        while chunk := await layer.read(_CHUNK):
            digest.update(chunk)
            yield chunk
            sent += len(chunk)
            if sent % _REPORT_EVERY < len(chunk):
                progress(f"loading into Docker: {sent >> 20} of {size >> 20} MiB")
    yield _padding(size)
    image_config = _image_config(config, architecture, f"sha256:{digest.hexdigest()}")
    config_name = f"{hashlib.sha256(image_config).hexdigest()}.json"
    manifest = [{"Config": config_name, "RepoTags": [tag], "Layers": [_LAYER]}]
    yield _member(config_name, image_config)
    yield _member("manifest.json", json.dumps(manifest).encode())
    yield b"\0" * 2 * tarfile.BLOCKSIZE  # the end of the archive


def _image_config(config: Mapping[str, Any], architecture: str, diff_id: str) -> bytes:
    created = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return json.dumps(
        {
            "architecture": architecture,
            "os": "linux",
            "created": created,
            "config": dict(config),
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            "history": [{"created": created, "created_by": "researchgym sandbox build (offline)"}],
        }
    ).encode()


def _header(name: str, size: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o644
    info.mtime = int(time.time())
    return info.tobuf(format=tarfile.PAX_FORMAT)


def _padding(size: int) -> bytes:
    return b"\0" * (-size % tarfile.BLOCKSIZE)


def _member(name: str, data: bytes) -> bytes:
    return _header(name, len(data)) + data + _padding(len(data))
