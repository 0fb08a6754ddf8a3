"""Processes in a Docker sandbox: the agent's shell over an attached exec, and short helpers.

asyncio only (aiodocker).
"""

from __future__ import annotations

import contextlib
import time
import uuid
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

import aiodocker
import anyio
from anyio.streams.stapled import StapledByteStream

from researchgym.errors import SandboxBrokenError, SandboxError
from researchgym.sandboxes.output import DEFAULT_OUTPUT_CAP, CappedOutput
from researchgym.sandboxes.shell import SHELL_ARGV

if TYPE_CHECKING:
    from aiodocker.containers import DockerContainer
    from aiodocker.stream import Stream
    from anyio.abc import ByteStream

__all__ = [
    "AGENT_HOME",
    "AGENT_UID",
    "AGENT_USER",
    "WORKDIR",
    "DockerShell",
    "drain",
    "exit_code",
    "kill",
    "marker_env",
    "oom_kills",
    "run_helper",
    "spawn_helper",
]

AGENT_USER = "agent"
AGENT_UID = 1000
AGENT_HOME = PurePosixPath("/home/agent")
WORKDIR = AGENT_HOME / "workspace"

_CHUNK = 65536
_STDOUT = 1
"""The stream number of stdout in Docker's multiplexed exec output."""
_HELPER_DEADLINE = 10.0
"""Seconds a helper (killing a command's processes) may take: clean-up must not hang."""

# Kills, as the agent, the processes of one shell (or one `run`) started since a moment
# `began` (a wall-clock time, in seconds since the epoch), or all of them. They are found by a
# variable in their environment that the shell was started with and that every process it
# starts inherits. A process's start is kept in clock ticks since boot, so the script turns
# `began` into that clock by the two clocks' difference as it runs: the time the exec took to
# start, however long on a busy daemon, does not move the line. The wall clock is the one
# the host and the container share (the same kernel, or a virtual machine kept in time); a
# margin of 0.1 s covers a drift between them.
_KILL_SCRIPT = r"""
import os, sys, time
marker, began = sys.argv[1].encode(), sys.argv[2]
since = -1.0
if began != "all":
    ago = time.time() - float(began)
    since = (time.clock_gettime(time.CLOCK_BOOTTIME) - ago - 0.1) * os.sysconf("SC_CLK_TCK")
found = {}
for name in os.listdir("/proc"):
    if not name.isdigit() or int(name) == os.getpid():
        continue
    try:
        environ = open(f"/proc/{name}/environ", "rb").read().split(b"\0")
        stat = open(f"/proc/{name}/stat", "rb").read()
    except OSError:
        continue
    if marker in environ:
        fields = stat[stat.rindex(b")") + 2:].split()
        found[int(name)] = (int(fields[1]), int(fields[19]))
for pid, (ppid, started) in found.items():
    leader = ppid not in found
    if (began == "all" or not leader) and started >= since:
        try:
            os.kill(pid, 9)
        except OSError:
            pass
"""


class DockerShell:
    """A ``ShellTransport`` over ``docker exec`` of bash with an attached stdin stream."""

    def __init__(
        self, container: DockerContainer, execution: Any, stream: Stream, *, marker: str
    ) -> None:
        self._container = container
        self._execution = execution
        self._marker = marker
        self._command_started = time.time()
        self.send_stream = _SendStream(stream)
        self.receive_stream = _ReceiveStream(stream)

    @classmethod
    async def spawn(cls, container: DockerContainer) -> DockerShell:
        marker = f"RGYM_SHELL={uuid.uuid4().hex}"
        # stderr joins stdout inside the container: one pipe keeps their order.
        argv = ["bash", "-c", f"exec {' '.join(SHELL_ARGV)} 2>&1"]
        try:
            execution = await container.exec(
                argv,
                stdin=True,
                user=AGENT_USER,
                workdir=str(WORKDIR),
                environment=marker_env(marker),
            )
            stream = execution.start(detach=False)
            await stream.__aenter__()
        except aiodocker.DockerError as e:
            raise SandboxBrokenError(f"the shell could not be started ({e.message})") from e
        return cls(container, execution, stream, marker=marker)

    def begin_command(self) -> None:
        self._command_started = time.time()

    async def interrupt(self) -> None:
        await kill(self._container, self._marker, began=f"{self._command_started:.3f}")

    async def exit_status(self) -> int | None:
        with anyio.move_on_after(1):
            while True:
                info = await self._execution.inspect()
                if not info["Running"]:
                    code: int | None = info["ExitCode"]
                    return code
                await anyio.sleep(0.05)
        return None

    async def gone(self) -> str | None:
        try:
            info = await self._container.show()
        except aiodocker.DockerError as e:
            return "the sandbox's container was removed" if e.status == 404 else None
        state = info.get("State") or {}
        if state.get("Running", True):
            return None
        code = state.get("ExitCode")
        if state.get("OOMKilled"):
            return f"the sandbox ran out of memory (exit {code})"
        return f"the sandbox was killed (exit {code})"

    async def aclose(self) -> None:
        with anyio.CancelScope(shield=True):
            await self.send_stream.aclose()
            with contextlib.suppress(SandboxError):  # the container is gone: so is the shell
                await kill(self._container, self._marker, began="all")


class _SendStream(anyio.abc.ByteSendStream):
    def __init__(self, stream: Stream) -> None:
        self._stream = stream

    async def send(self, item: bytes) -> None:
        try:
            await self._stream.write_in(item)
        # aiodocker asserts that the connection still has a transport: when the program
        # ended and the daemon closed the connection, that assertion is how it says so.
        except (RuntimeError, ConnectionError, AssertionError) as e:
            raise anyio.BrokenResourceError from e

    async def send_eof(self) -> None:
        await self._stream.close()

    async def aclose(self) -> None:
        await self._stream.close()


class _ReceiveStream(anyio.abc.ByteReceiveStream):
    def __init__(self, stream: Stream, *, only: int | None = None) -> None:
        self._stream = stream
        self._only = only
        self._left = b""

    async def receive(self, max_bytes: int = _CHUNK) -> bytes:
        while not self._left:
            message = await self._stream.read_out()
            if message is None:
                raise anyio.EndOfStream
            if self._only is None or message.stream == self._only:
                self._left = bytes(message.data)
        chunk, self._left = self._left[:max_bytes], self._left[max_bytes:]
        return chunk

    async def aclose(self) -> None:
        await self._stream.close()


async def spawn_helper(container: DockerContainer, argv: list[str]) -> ByteStream:
    """Start ``argv`` as the agent with its stdin attached; return its stdin and stdout.

    Closing the stream closes the program's stdin. Its stderr is dropped.

    Raises:
        SandboxBrokenError: If the container cannot run processes.
    """
    marker = f"RGYM_HELPER={uuid.uuid4().hex}"
    try:
        execution = await container.exec(
            argv, stdin=True, user=AGENT_USER, workdir=str(WORKDIR), environment=marker_env(marker)
        )
        stream = execution.start(detach=False)
        await stream.__aenter__()
    except aiodocker.DockerError as e:
        raise SandboxBrokenError(f"the container cannot run processes ({e.message})") from e
    return StapledByteStream(_SendStream(stream), _ReceiveStream(stream, only=_STDOUT))


def marker_env(marker: str, *, user: str = AGENT_USER) -> dict[str, str]:
    """The environment of a process started for ``user``, carrying ``marker``.

    Root's processes get root's home and no Python user site, so that nothing the agent
    left in its home (a ``usercustomize.py``, say) runs in trusted code.
    """
    name, value = marker.split("=", 1)
    if user == AGENT_USER:
        return {name: value, "HOME": "/home/agent", "LANG": "C.UTF-8"}
    return {name: value, "HOME": "/root", "LANG": "C.UTF-8", "PYTHONNOUSERSITE": "1"}


async def drain(stream: Stream, output: CappedOutput, ended: anyio.Event | None = None) -> None:
    while (message := await stream.read_out()) is not None:
        output.write(bytes(message.data))
    if ended is not None:
        ended.set()


async def exit_code(execution: Any, ended: anyio.Event) -> int:
    """Wait for an exec's program to end and return its status.

    The output's end usually comes first and is the cue to ask; a program whose children
    keep the output open is polled for instead.
    """
    with anyio.move_on_after(0.05):
        await ended.wait()
    delay = 0.005
    while True:
        info = await execution.inspect()
        if not info["Running"] and info["ExitCode"] is not None:
            code: int = info["ExitCode"]
            return code
        await anyio.sleep(delay)
        delay = min(delay * 2, 0.1)


async def run_helper(container: DockerContainer, argv: list[str], *, user: str = AGENT_USER) -> str:
    """Run a short helper and return its output once it has ended."""
    output = CappedOutput(DEFAULT_OUTPUT_CAP)
    try:
        execution = await container.exec(argv, stdin=False, user=user)
        async with execution.start(detach=False) as stream:
            await drain(stream, output)
    except aiodocker.DockerError as e:
        raise SandboxBrokenError(f"the container cannot run processes ({e.message})") from e
    return output.text().text


async def kill(
    container: DockerContainer, marker: str, *, began: str, user: str = AGENT_USER
) -> None:
    """Kill processes carrying ``marker``, as their own user (root has no CAP_KILL)."""
    # -I: isolated from the agent's environment and user site, which it controls.
    argv = ["python3", "-I", "-c", _KILL_SCRIPT, marker, began]
    with anyio.move_on_after(_HELPER_DEADLINE):
        await run_helper(container, argv, user=user)


async def oom_kills(container: DockerContainer) -> int:
    """How many processes the kernel killed in the container for lack of memory."""
    script = (
        "cat /sys/fs/cgroup/memory.events /sys/fs/cgroup/memory/memory.oom_control "
        "2>/dev/null | awk '$1 == \"oom_kill\" {print $2}'"
    )
    text = (await run_helper(container, ["sh", "-c", script])).strip()
    return int(text) if text.isdigit() else 0
