"""The sandbox image, ``researchgym/sandbox:<version>``: building it, and what the daemon has.

Two ways build the same image:

- ``dockerfile``: ``files/Dockerfile`` on ``debian:bookworm-slim``, where a registry answers;
- ``offline``: a Debian root filesystem made by mmdebstrap from the host's apt sources,
  loaded into Docker as a one-layer image.

``auto`` tries the first and falls back to the second within a few seconds when no registry
answers. Both install ``files/packages.txt`` and run the same scripts, so that the image is
the same whichever way built it. The package's face shows how to use it; asyncio only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, get_args

import aiodocker
import anyio

import researchgym
from researchgym.errors import (
    DockerUnavailableError,
    ImageBuildError,
    UnknownComponentError,
)
from researchgym.sandboxes._isolation import LocalIsolation, local_isolation
from researchgym.sandboxes.disk import DiskSupport, disk_support
from researchgym.sandboxes.docker_api import open_docker
from researchgym.sandboxes.image._docker_archive import load_rootfs
from researchgym.sandboxes.image._dockerfile import build_from_dockerfile, pull_base_image
from researchgym.sandboxes.image._rootfs import find_mmdebstrap, open_rootfs

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "IMAGE_REPOSITORY",
    "REGISTRY_ANSWER_WITHIN",
    "VERSION_LABEL",
    "BuildMethod",
    "SandboxImage",
    "SandboxStatus",
    "build_image",
    "image_config",
    "image_name",
    "sandbox_status",
]

IMAGE_REPOSITORY = "researchgym/sandbox"
VERSION_LABEL = "researchgym.version"
"""The label that says which version of researchgym built an image."""

BuildMethod = Literal["auto", "dockerfile", "offline"]
"""How to build the image: from the Dockerfile, offline from Debian packages, or ``auto``:
the Dockerfile where a registry answers, else offline."""

REGISTRY_ANSWER_WITHIN = 5.0
"""Seconds a registry has to answer before ``auto`` builds offline."""

_DOCKERFILE_ANSWER_WITHIN = 60.0
"""Seconds a registry has to answer when the Dockerfile was asked for by name."""

_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class SandboxImage:
    """A sandbox image in the Docker daemon."""

    name: str
    """Its repository and tag, ``researchgym/sandbox:<version>``."""
    id: str
    """Docker's id of it (``sha256:...``)."""
    size: int
    """Bytes on disk."""
    created: datetime
    """When it was built (UTC)."""


@dataclass(frozen=True)
class SandboxStatus:
    """What ``researchgym sandbox status`` shows."""

    image: str
    """The image this version of researchgym runs its sandboxes in."""
    reachable: bool
    """Whether the Docker daemon answered."""
    problem: str | None
    """Why it did not, and what to do (None when it did)."""
    docker_version: str | None
    """The daemon's version (None when unreachable)."""
    images: tuple[SandboxImage, ...]
    """The sandbox images the daemon has, of every version, sorted by name."""
    disks: DiskSupport
    """Whether sandboxes have disk limits here."""
    local: LocalIsolation
    """What local sandboxes isolate here."""

    @property
    def ready(self) -> bool:
        """Whether the image this version needs is built."""
        return any(found.name == self.image for found in self.images)


def image_name(version: str = researchgym.__version__) -> str:
    """Return the name and tag of the sandbox image of a researchgym version (default: this).

    >>> image_name("1.2.3")
    'researchgym/sandbox:1.2.3'
    """
    return f"{IMAGE_REPOSITORY}:{version}"


def image_config(version: str = researchgym.__version__) -> dict[str, Any]:
    """Return the image's run settings, as the Dockerfile sets them, plus its version label."""
    return {
        "Env": [f"PATH={_PATH}", "LANG=C.UTF-8"],
        "WorkingDir": "/home/agent/workspace",
        "Cmd": ["sleep", "infinity"],
        "Labels": {VERSION_LABEL: version},
    }


async def build_image(
    *,
    method: BuildMethod = "auto",
    force: bool = False,
    progress: Callable[[str], None] | None = None,
) -> str:
    """Build this version's sandbox image, unless it is built already.

    Args:
        method: ``"dockerfile"``, ``"offline"``, or ``"auto"``: the Dockerfile where a
            registry answers within ``REGISTRY_ANSWER_WITHIN`` seconds, else offline.
        force: Build again even if the image is there (the old one is removed when no
            container uses it).
        progress: Called with a short line at each step (the CLI shows the latest).

    Returns:
        The image's id.

    Raises:
        UnknownComponentError: If ``method`` is none of the three.
        BuildToolMissingError: If building offline and mmdebstrap is not installed.
        DockerUnavailableError: If no Docker daemon answers.
        ImageBuildError: If the build fails (the message ends with its last lines of output).
    """
    if method not in get_args(BuildMethod):
        raise UnknownComponentError("image build method", method, list(get_args(BuildMethod)))
    report = progress or _ignore
    if method == "offline":  # say what is missing before any work
        await anyio.to_thread.run_sync(find_mmdebstrap)
    name = image_name()
    async with open_docker() as docker:
        old = await _image_id(docker, name)
        if old is not None and not force:
            report(f"{name} is already built")
            return old
        new = await _build(docker, name, method, report)
        if old is not None and old != new:
            await _remove_unused(docker, old)
    report(f"built {name}")
    return new


async def sandbox_status() -> SandboxStatus:
    """Say whether Docker answers, which sandbox images it has, and if disks are limited."""
    disks = await anyio.to_thread.run_sync(disk_support)
    local = await anyio.to_thread.run_sync(local_isolation)
    try:
        async with open_docker() as docker:
            version = str((await docker.version()).get("Version", "unknown"))
            images = await _sandbox_images(docker)
    except DockerUnavailableError as e:
        return SandboxStatus(image_name(), False, str(e), None, (), disks, local)
    return SandboxStatus(image_name(), True, None, version, images, disks, local)


async def _build(
    docker: aiodocker.Docker, name: str, method: BuildMethod, report: Callable[[str], None]
) -> str:
    if method != "offline":
        within = REGISTRY_ANSWER_WITHIN if method == "auto" else _DOCKERFILE_ANSWER_WITHIN
        problem = await pull_base_image(docker, answer_within=within, progress=report)
        if problem is None:
            labels = {VERSION_LABEL: researchgym.__version__}
            return await build_from_dockerfile(docker, tag=name, labels=labels, progress=report)
        if method == "dockerfile":
            raise ImageBuildError(
                "dockerfile",
                f"no registry answered ({problem})",
                hint="Build offline instead: researchgym sandbox build --method offline",
            )
        report(f"no registry answered ({problem}): building offline from Debian packages")
    async with open_rootfs(progress=report) as rootfs:
        return await load_rootfs(docker, rootfs, tag=name, config=image_config(), progress=report)


async def _image_id(docker: aiodocker.Docker, name: str) -> str | None:
    try:
        image: dict[str, Any] = await docker.images.inspect(name)
    except aiodocker.DockerError as e:
        if e.status == _NOT_FOUND:
            return None
        raise
    return str(image["Id"])


async def _remove_unused(docker: aiodocker.Docker, image_id: str) -> None:
    try:
        await docker.images.delete(image_id)
    except aiodocker.DockerError as e:
        if e.status != _CONFLICT:  # a container still uses it: leave it to `docker image prune`
            raise


async def _sandbox_images(docker: aiodocker.Docker) -> tuple[SandboxImage, ...]:
    found = []
    for image in await docker.images.list(filters={"reference": [IMAGE_REPOSITORY]}):
        for tag in image.get("RepoTags") or ():
            if tag.startswith(f"{IMAGE_REPOSITORY}:"):
                created = datetime.fromtimestamp(image["Created"], UTC)
                found.append(SandboxImage(tag, image["Id"], image["Size"], created))
    return tuple(sorted(found, key=lambda i: i.name))


def _ignore(_: str) -> None:
    pass


_NOT_FOUND = 404
_CONFLICT = 409
