"""``AgentFiles``: the agent's files, read and written with the agent's own rights.

A sandbox's file API (``read_file``, ``write_file``, ``exists``) acts on paths the agent
chose, among files the agent can change at any moment, for example swapping a file for a
symbolic link between a check and a use. So it never acts with more rights than the agent:
every backend runs the same small program inside the sandbox as the agent's user
(``_file_helper.py``, whose docstring says how it walks a path without letting the kernel
follow a link), started at the first request and kept for the sandbox's life, and this is
the engine's side of it.

Whatever the helper sends back is the agent's to shape (the agent may stop, kill or trace a
process of its own user): a reply is read in bounded pieces (a header line of at most 64
KiB, then at most the limit the caller gave), and a reply that breaks the protocol, or none
within ``timeout``, ends the helper; the next request starts a new one. A helper that died
(the agent ran ``pkill python3``) is started again once, transparently.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import anyio
from anyio.abc import AsyncResource
from anyio.streams.buffered import BufferedByteReceiveStream

from researchgym.sandboxes.base import (
    DEFAULT_READ_LIMIT,
    FileTooLargeError,
    OutsideSandboxError,
    SpecialFileError,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    from anyio.abc import ByteStream

__all__ = ["HELPER_SOURCE", "AgentFiles", "HelperSpawner", "helper_argv"]

HELPER_SOURCE = (Path(__file__).parent / "_file_helper.py").read_text()
"""The helper program, run with ``python3 -I -S -c``."""

HelperSpawner: TypeAlias = "Callable[[list[str]], Awaitable[ByteStream]]"
"""Starts ``argv`` in the sandbox as the agent; the stream is its stdin and stdout, and
closing it ends the process."""

_HEADER_MAX = 64 * 1024
_BROKEN = (
    anyio.EndOfStream,
    anyio.IncompleteRead,
    anyio.BrokenResourceError,
    anyio.ClosedResourceError,
    anyio.DelimiterNotFound,
)


def helper_argv(python: str, *, roots: Sequence[str], workdir: str) -> list[str]:
    """The command line that starts the helper with ``python``.

    ``-I -S``: nothing of the agent's environment, working directory or site-packages is
    imported.
    """
    return [python, "-I", "-S", "-c", HELPER_SOURCE, json.dumps(list(roots)), workdir]


class _ProtocolError(Exception):
    """The helper's reply is not one."""


class AgentFiles(AsyncResource):
    """Files of one sandbox, through a helper process that runs as the agent.

    Args:
        spawn: Starts the helper as the agent and returns its streams.
        argv: The helper's command line (``helper_argv``).
        timeout: Seconds one request may take before the helper is given up.
    """

    def __init__(
        self,
        spawn: HelperSpawner,
        argv: list[str],
        *,
        timeout: float = 60.0,
    ) -> None:
        self._spawn = spawn
        self._argv = argv
        self._timeout = timeout
        self._stream: ByteStream | None = None
        self._replies: BufferedByteReceiveStream | None = None
        self._lock = anyio.Lock()

    async def read(self, path: str, *, limit: int = DEFAULT_READ_LIMIT) -> bytes:
        """Return a regular file's content, read as the agent.

        Raises:
            FileNotFoundError: If there is no such file.
            IsADirectoryError: If it is a directory.
            PermissionError: If the agent may not read it.
            OutsideSandboxError: If it lies outside the agent's workspace and home.
            SpecialFileError: If it is a FIFO, a socket or a device.
            FileTooLargeError: If it is larger than ``limit`` bytes (nothing is read).
            OSError: If a path has too many links, or the helper failed or did not answer.
        """
        _, content = await self._request({"op": "read", "path": path, "limit": limit}, path)
        return content

    async def write(self, path: str, data: bytes, *, exclusive: bool = False) -> None:
        """Write a regular file as the agent, creating it and its directories if missing.

        An existing file keeps its mode and owner.

        Raises:
            FileExistsError: With ``exclusive``, if something exists at ``path``.
            IsADirectoryError: If it is a directory.
            PermissionError: If the agent may not write it.
            OutsideSandboxError: If it lies outside the agent's workspace and home.
            SpecialFileError: If it is a FIFO, a socket or a device.
            OSError: For the rest (no space left, too many links, the helper failed).
        """
        request = {"op": "write", "path": path, "size": len(data), "exclusive": exclusive}
        await self._request(request, path, data)

    async def exists(self, path: str) -> bool:
        """Return True if the agent sees something at ``path`` (a dangling link counts).

        Raises:
            OSError: If the helper failed or did not answer.
        """
        header, _ = await self._request({"op": "exists", "path": path}, path)
        return header.get("exists") is True

    async def aclose(self) -> None:
        """End the helper. Idempotent."""
        await self._discard()

    async def _request(
        self, request: dict[str, Any], path: str, payload: bytes = b""
    ) -> tuple[dict[str, Any], bytes]:
        if "\0" in path:
            raise _error({"error": "EINVAL"}, path)
        message = json.dumps(request).encode() + b"\n" + payload
        limit = int(request.get("limit", 0))
        async with self._lock:
            for attempt in range(2):
                try:
                    with anyio.fail_after(self._timeout):
                        reply = await self._exchange(message, limit)
                except _BROKEN:
                    await self._discard()
                    if attempt:
                        raise _error({"error": "EIO"}, path) from None
                    continue
                except TimeoutError:
                    await self._discard()
                    raise _error({"error": "ETIMEDOUT"}, path) from None
                except _ProtocolError:
                    await self._discard()
                    raise _error({"error": "EIO"}, path) from None
                except BaseException:  # cancelled mid-request: the stream's state is unknown
                    await self._discard()
                    raise
                header, content = reply
                if "error" in header:
                    raise _error(header, path, limit)
                return header, content
        raise AssertionError("unreachable")

    async def _exchange(self, message: bytes, limit: int) -> tuple[dict[str, Any], bytes]:
        if self._stream is None or self._replies is None:
            self._stream = await self._spawn(self._argv)
            self._replies = BufferedByteReceiveStream(self._stream)
        await self._stream.send(message)
        line = await self._replies.receive_until(b"\n", _HEADER_MAX)
        try:
            reply = json.loads(line)
        except ValueError:
            raise _ProtocolError from None
        if not isinstance(reply, dict):
            raise _ProtocolError
        if "ok" in reply and isinstance(reply["ok"], dict):
            header: dict[str, Any] = reply["ok"]
            size = header.get("size", 0) if limit else 0
            if not isinstance(size, int) or not 0 <= size <= limit:
                raise _ProtocolError
            return header, await self._replies.receive_exactly(size) if size else b""
        if isinstance(reply.get("error"), str):
            return reply, b""
        raise _ProtocolError

    async def _discard(self) -> None:
        stream, self._stream, self._replies = self._stream, None, None
        if stream is not None:
            with anyio.CancelScope(shield=True):
                await stream.aclose()


def _error(reply: dict[str, Any], path: str, limit: int = 0) -> OSError:
    """The exception a helper's error reply stands for."""
    name = reply["error"]
    if name == "EFBIG":
        size = reply.get("size")
        return FileTooLargeError(path, size=size if isinstance(size, int) else None, limit=limit)
    if name == "SPECIAL":
        return SpecialFileError(path)
    if name == "OUTSIDE":
        return OutsideSandboxError(path)
    code = getattr(errno, name, None) if name.startswith("E") and name.isalnum() else None
    code = code if isinstance(code, int) else errno.EIO
    return OSError(code, os.strerror(code), path)
