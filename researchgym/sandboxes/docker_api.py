"""The connection to the Docker Engine API (aiodocker), and its errors translated to ours.

asyncio only: aiodocker runs on aiohttp. Everything that talks to Docker goes through
``open_docker`` so that an unreachable daemon always gives the same clear error.
"""

from __future__ import annotations

import os
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import aiodocker
import aiohttp
import anyio

from researchgym.errors import DockerUnavailableError, SandboxError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

__all__ = ["docker_reachable", "open_docker"]


@asynccontextmanager
async def open_docker() -> AsyncIterator[aiodocker.Docker]:
    """Connect to the Docker daemon (DOCKER_HOST, else the local socket) and check it answers.

    Raises:
        DockerUnavailableError: If no daemon answers, or its socket may not be used.
        SandboxError: If a request made in the body fails and the body lets it through.
    """
    url = await anyio.to_thread.run_sync(_docker_url)
    if url is None:
        raise DockerUnavailableError(f"there is no socket at {', '.join(map(str, _SOCKETS))}")
    try:
        docker = aiodocker.Docker(url)
    except (ValueError, OSError) as e:
        raise DockerUnavailableError(str(e)) from e
    try:
        try:
            await docker.version()
        except aiodocker.DockerError as e:
            if e.status != _CANNOT_CONNECT:
                raise DockerUnavailableError(f"it answered {e.status}: {e.message}") from e
            raise DockerUnavailableError(_reason(e)) from e
        except (aiohttp.ClientError, OSError) as e:
            raise DockerUnavailableError(str(e)) from e
        try:
            yield docker
        except aiodocker.DockerError as e:  # what the body did not handle, said as ours
            raise SandboxError(f"Docker refused a request ({e.status}): {e.message}") from e
        except aiohttp.ClientError as e:
            raise SandboxError(f"The connection to Docker failed: {e}") from e
    finally:
        await docker.close()


async def docker_reachable() -> bool:
    """Return True if a Docker daemon answers."""
    try:
        async with open_docker():
            return True
    except DockerUnavailableError:
        return False


_SOCKETS = (Path("/run/docker.sock"), Path("/var/run/docker.sock"))
"""Where a local daemon listens when DOCKER_HOST does not say."""


def _docker_url() -> str | None:
    """DOCKER_HOST, else the first local socket (looked for off the event loop)."""
    if os.environ.get("DOCKER_HOST"):
        return os.environ["DOCKER_HOST"]
    rootless = Path(os.environ.get("XDG_RUNTIME_DIR", "/nonexistent")) / "docker.sock"
    return next((f"unix://{p}" for p in (*_SOCKETS, rootless) if p.is_socket()), None)


_CANNOT_CONNECT = 900
"""The status aiodocker gives a connection that failed before any HTTP."""


def _reason(error: aiodocker.DockerError) -> str:
    cause = error.__context__  # aiodocker raises its error while handling aiohttp's
    os_error = cause.os_error if isinstance(cause, aiohttp.ClientConnectorError) else None
    where = os.environ.get("DOCKER_HOST") or "its socket"
    if isinstance(os_error, PermissionError):
        return f"permission denied on {where}"
    if isinstance(os_error, FileNotFoundError | ConnectionRefusedError):
        return f"nothing listens on {where}"
    return error.message
