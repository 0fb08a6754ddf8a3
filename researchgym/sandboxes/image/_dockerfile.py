"""The sandbox image built from ``files/Dockerfile``, for hosts that reach a container registry.

Whether a registry answers is decided by pulling the Dockerfile's base image, which the
build needs anyway: the first answer must come within a few seconds (an offline daemon
fails at once or hangs on its name look-up), and once it has come the pull runs to the end.
"""

from __future__ import annotations

import gzip
import io
import tarfile
from collections import deque
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any

import aiodocker
import anyio

from researchgym.errors import ImageBuildError
from researchgym.sandboxes.image._rootfs import IMAGE_FILES

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Mapping

__all__ = ["BASE_IMAGE", "build_context", "build_from_dockerfile", "pull_base_image"]

BASE_IMAGE = "debian:bookworm-slim"
"""The Dockerfile's ``FROM``."""

_OUTPUT_TAIL = 25
_BUILD_OFFLINE = "or build offline: researchgym sandbox build --method offline"


async def pull_base_image(
    docker: aiodocker.Docker, *, answer_within: float, progress: Callable[[str], None]
) -> str | None:
    """Pull the Dockerfile's base image, unless no registry answers in time.

    Args:
        docker: The daemon.
        answer_within: Seconds the registry has to give its first answer.
        progress: Called with a short line as the pull goes on.

    Returns:
        None once the image is pulled, or why no registry could be used.

    Raises:
        ImageBuildError: If the pull failed after the registry had answered.
    """
    progress(f"pulling {BASE_IMAGE}")
    events = docker.images.pull(BASE_IMAGE, stream=True)
    try:
        try:
            with anyio.fail_after(answer_within):
                first = await anext(events, None)
        except TimeoutError:
            return f"no answer within {answer_within:g} s"
        except aiodocker.DockerError as e:
            return e.message
        if first is not None:
            progress(_pull_line(first))
        async for event in events:
            progress(_pull_line(event))
    except aiodocker.DockerError as e:
        raise ImageBuildError(
            "dockerfile",
            f"pulling {BASE_IMAGE} failed: {e.message}",
            hint=f"Try again, {_BUILD_OFFLINE}",
        ) from e
    finally:
        await _close(events)
    return None


async def build_from_dockerfile(
    docker: aiodocker.Docker,
    *,
    tag: str,
    labels: Mapping[str, str],
    progress: Callable[[str], None],
) -> str:
    """Build the image ``tag`` from the package's Dockerfile (its base image must be there).

    Args:
        docker: The daemon.
        tag: The image's name and tag.
        labels: Labels to put on the image.
        progress: Called with each line the build prints.

    Returns:
        The new image's id.

    Raises:
        ImageBuildError: If a step of the build fails (the message ends with its last lines).
    """
    context = await anyio.to_thread.run_sync(build_context)
    tail: deque[str] = deque(maxlen=_OUTPUT_TAIL)
    build = docker.images.build(
        fileobj=io.BytesIO(context), encoding="gzip", tag=tag, labels=labels, stream=True
    )
    try:
        async for event in build:
            for line in str(event.get("stream", "")).splitlines():
                if line.strip():
                    tail.append(line.rstrip())
                    progress(f"docker build: {line.strip()}")
        image: dict[str, Any] = await docker.images.inspect(tag)
    except aiodocker.DockerError as e:
        raise ImageBuildError(
            "dockerfile",
            e.message,
            hint=f"Fix the cause shown in the output, {_BUILD_OFFLINE}",
            output=tuple(tail),
        ) from e
    finally:
        await _close(build)
    return str(image["Id"])


def build_context() -> bytes:
    """Return the build context, the files in ``files/``, as a gzipped tar (blocking)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path in sorted(IMAGE_FILES.iterdir()):
            if path.is_file():
                tar.add(path, arcname=path.name)
    return gzip.compress(buffer.getvalue())


async def _close(events: AsyncIterator[Any]) -> None:
    # aiodocker's streams are async generators: closing one releases its HTTP response.
    if isinstance(events, AsyncGenerator):
        await events.aclose()


def _pull_line(event: Mapping[str, Any]) -> str:
    words = [str(event[key]) for key in ("id", "status", "progress") if event.get(key)]
    return f"pulling {BASE_IMAGE}: {' '.join(words)}"
