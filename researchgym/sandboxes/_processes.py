"""Local processes for ``LocalSandbox``: the shell transport, one-shot runs, and cleanup.

Every process we start leads a session of its own (``start_new_session=True``). The shell's
commands, its background jobs and their children all stay in that session, each pipeline
in a process group of its own (the shell runs ``set -m``). Killing is therefore done by
scanning ``/proc`` for the session, which finds even processes whose parent died.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from typing import TYPE_CHECKING, NamedTuple

import anyio

from researchgym.errors import SandboxBrokenError
from researchgym.sandboxes.base import ExecResult
from researchgym.sandboxes.output import CappedOutput
from researchgym.sandboxes.shell import SHELL_ARGV

if TYPE_CHECKING:
    from pathlib import Path

    from anyio.abc import ByteReceiveStream, ByteSendStream, Process

__all__ = ["LocalShellTransport", "run_process", "spawn_local_shell"]

_CHUNK = 65536
_EXIT_WAIT = 1.0
_KILL_ROUNDS = 5


class _ProcInfo(NamedTuple):
    pid: int
    pgid: int
    sid: int


def _session_members(sid: int) -> list[_ProcInfo]:
    """Return the live (not zombie) processes of a session, read from /proc."""
    members = []
    for name in os.listdir("/proc"):
        # getsid is one system call; only the session's few members have their stat read.
        if not name.isdigit() or _sid(int(name)) != sid:
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as file:
                stat = file.read()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: fields start after the last ")".
        fields = stat[stat.rindex(b")") + 2 :].split(maxsplit=4)
        if fields[0] != b"Z":
            members.append(_ProcInfo(int(name), int(fields[2]), sid))
    return members


def _sid(pid: int) -> int | None:
    try:
        return os.getsid(pid)
    except OSError:
        return None


def _kill(members: list[_ProcInfo], *, spare: int | None) -> None:
    """SIGKILL each process's group; in the session leader's own group, each process alone."""
    for member in members:
        if member.pid == spare:
            continue
        try:
            if member.pgid == member.sid:
                # Command substitutions run in the shell's group, which must survive.
                os.kill(member.pid, signal.SIGKILL)
            else:
                os.killpg(member.pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _kill_children(shell_pid: int) -> None:
    _kill(_session_members(shell_pid), spare=shell_pid)


def _kill_session(sid: int) -> None:
    """Kill a whole session, again until nothing is left (a loop may fork while we scan)."""
    for _ in range(_KILL_ROUNDS):
        members = _session_members(sid)
        if not members:
            return
        _kill(members, spare=None)


def _status(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


class LocalShellTransport:
    """A ``ShellTransport`` over a local bash process that leads its own session."""

    def __init__(self, process: Process) -> None:
        if process.stdin is None or process.stdout is None:
            raise ValueError("The shell process needs piped stdin and stdout.")
        self._process = process
        self.send_stream: ByteSendStream = process.stdin
        self.receive_stream: ByteReceiveStream = process.stdout

    async def interrupt(self) -> None:
        """Kill every process of the shell's session except the shell."""
        await anyio.to_thread.run_sync(_kill_children, self._process.pid)

    async def exit_status(self) -> int | None:
        """Wait up to a second for the shell to end and return its status."""
        with anyio.move_on_after(_EXIT_WAIT):
            await self._process.wait()
        returncode = self._process.returncode
        return None if returncode is None else _status(returncode)

    async def aclose(self) -> None:
        """Kill the shell's whole session, then reap the shell."""
        with anyio.CancelScope(shield=True):
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()
            await anyio.to_thread.run_sync(_kill_session, self._process.pid)
            await self._process.aclose()


async def spawn_local_shell(*, cwd: Path, env: dict[str, str]) -> LocalShellTransport:
    """Start a bash in ``cwd`` that leads a new session.

    Args:
        cwd: The shell's starting directory.
        env: Its whole environment.

    Returns:
        The transport.

    Raises:
        OSError: If bash cannot be started.
    """
    process = await anyio.open_process(
        SHELL_ARGV,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=cwd,
        env=env,
        start_new_session=True,
    )
    return LocalShellTransport(process)


async def run_process(
    argv: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    timeout: float,
    output_cap: int,
    grace: float,
) -> ExecResult:
    """Run a program in a new session, capturing capped output, killing its group at timeout.

    A program that cannot be started gives exit status 127 (not found) or 126 (not
    executable), with the reason as output, as a shell would.

    Args:
        argv: The program and its arguments.
        cwd: Its working directory.
        env: Its whole environment.
        timeout: Seconds before its process group is killed.
        output_cap: Bytes of output kept (head and tail halves).
        grace: Seconds to collect the last output after the kill.

    Returns:
        The result.

    Raises:
        SandboxBrokenError: If the system cannot start processes (out of memory, say).
    """
    started = anyio.current_time()
    output = CappedOutput(output_cap)
    try:
        process = await anyio.open_process(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=env,
            start_new_session=True,
        )
    except (FileNotFoundError, PermissionError, NotADirectoryError) as exc:
        output.write(f"{exc}\n".encode())
        status = 127 if isinstance(exc, FileNotFoundError) else 126
        return _result(status, output, timed_out=False, started=started)
    except OSError as exc:
        raise SandboxBrokenError(f"cannot start a process ({exc})") from exc
    async with process:
        try:
            timed_out = await _collect(process, output, timeout=timeout, grace=grace)
        finally:
            # Also ends what outlived the program in its group (a server it left running).
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode is not None
    return _result(_status(process.returncode), output, timed_out=timed_out, started=started)


async def _collect(process: Process, output: CappedOutput, *, timeout: float, grace: float) -> bool:
    """Read the output and wait for the process; return True if it timed out."""
    assert process.stdout is not None
    with anyio.move_on_after(timeout) as scope:
        await _drain(process.stdout, output)
        await process.wait()
    if not scope.cancelled_caught:
        return False
    await anyio.to_thread.run_sync(_kill_session, process.pid)
    with anyio.move_on_after(grace):
        await _drain(process.stdout, output)
    await process.wait()
    return True


async def _drain(stream: ByteReceiveStream, output: CappedOutput) -> None:
    try:
        while True:
            output.write(await stream.receive(_CHUNK))
    except anyio.EndOfStream:
        return


def _result(status: int, output: CappedOutput, *, timed_out: bool, started: float) -> ExecResult:
    capped = output.text()
    return ExecResult(
        exit_code=status,
        output=capped.text,
        timed_out=timed_out,
        truncated=capped.truncated,
        duration=anyio.current_time() - started,
    )
