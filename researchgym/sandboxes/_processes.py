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
import time
from typing import TYPE_CHECKING, NamedTuple

import anyio
from anyio.abc import ByteStream

from researchgym.errors import SandboxBrokenError
from researchgym.sandboxes.base import ExecResult
from researchgym.sandboxes.output import CappedOutput
from researchgym.sandboxes.shell import SHELL_ARGV

if TYPE_CHECKING:
    from pathlib import Path

    from anyio.abc import ByteReceiveStream, ByteSendStream, Process

__all__ = [
    "LocalShellTransport",
    "run_process",
    "spawn_local_helper",
    "spawn_local_shell",
]

_CHUNK = 65536
_EXIT_WAIT = 1.0
_KILL_ROUNDS = 5


class _ProcInfo(NamedTuple):
    pid: int
    ppid: int
    pgid: int
    sid: int
    started: int
    """Clock ticks since boot (field 22 of /proc/<pid>/stat)."""


_TICKS = os.sysconf("SC_CLK_TCK")


def _now_in_ticks() -> int:
    """The clock of /proc/<pid>/stat's start times: ticks since boot, suspend included."""
    return int(time.clock_gettime(time.CLOCK_BOOTTIME) * _TICKS)


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
        # fields[0] is field 3 (state), [1] field 4 (ppid), [2] field 5 (pgrp), [19] field
        # 22 (starttime).
        fields = stat[stat.rindex(b")") + 2 :].split()
        if fields[0] != b"Z":
            info = _ProcInfo(int(name), int(fields[1]), int(fields[2]), sid, int(fields[19]))
            members.append(info)
    return members


def _sid(pid: int) -> int | None:
    try:
        return os.getsid(pid)
    except OSError:
        return None


def _kill(members: list[_ProcInfo], *, spare: frozenset[int] = frozenset()) -> None:
    """SIGKILL each process's group; in the session leader's own group, each process alone."""
    for member in members:
        if member.pid in spare:
            continue
        try:
            if member.pgid == member.sid or member.pgid <= 1:
                # Command substitutions run in the shell's group, which must survive; and a
                # process on its way out may show no group (-1, 0): it alone is killed.
                os.kill(member.pid, signal.SIGKILL)
            else:
                os.killpg(member.pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _kill_command(shell_pid: int, since: int, wrappers: int) -> None:
    """Kill what the shell started since tick ``since``; older background jobs live on."""
    members = _session_members(shell_pid)
    spare = _shell_chain(members, shell_pid, wrappers)
    _kill([m for m in members if m.started >= since], spare=spare)


def _shell_chain(members: list[_ProcInfo], started: int, wrappers: int) -> frozenset[int]:
    """The shell's own processes, spared by every interrupt.

    They are the process started and, ``wrappers`` levels down (a wrapper's processes, such
    as bubblewrap's), the first-born child of each, the last one being the shell: its start
    time could not tell it from a command sent within the same clock tick.
    """
    chain, parent = {started}, started
    for _ in range(wrappers):
        children = [m for m in members if m.ppid == parent]
        if not children:
            break
        parent = min(children, key=lambda m: (m.started, m.pid)).pid
        chain.add(parent)
    return frozenset(chain)


def _kill_session(sid: int) -> None:
    """Kill a whole session, again until nothing is left (a loop may fork while we scan)."""
    for _ in range(_KILL_ROUNDS):
        members = _session_members(sid)
        if not members:
            return
        _kill(members)


def _status(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


class LocalShellTransport:
    """A ``ShellTransport`` over a local bash process that leads its own session.

    Args:
        process: The process started: the shell, or a wrapper that starts it.
        wrappers: Processes between the one started and the shell (0: it is the shell).
    """

    def __init__(self, process: Process, *, wrappers: int = 0) -> None:
        if process.stdin is None or process.stdout is None:
            raise ValueError("The shell process needs piped stdin and stdout.")
        self._process = process
        self._wrappers = wrappers
        self._command_started = 0
        self.send_stream: ByteSendStream = process.stdin
        self.receive_stream: ByteReceiveStream = process.stdout

    def begin_command(self) -> None:
        """Note when the command about to be sent starts."""
        self._command_started = _now_in_ticks()

    async def interrupt(self) -> None:
        """Kill every process of the shell's session started since the command began.

        Background jobs of earlier commands are spared, unless they started within the
        same clock tick (10 ms) as the command.
        """
        await anyio.to_thread.run_sync(
            _kill_command, self._process.pid, self._command_started, self._wrappers
        )

    async def exit_status(self) -> int | None:
        """Wait up to a second for the shell to end and return its status."""
        with anyio.move_on_after(_EXIT_WAIT):
            await self._process.wait()
        returncode = self._process.returncode
        return None if returncode is None else _status(returncode)

    async def gone(self) -> str | None:
        """Why the wrapper around the shell (bubblewrap) is gone, if a signal killed it.

        The agent cannot signal the wrapper (root's, or out of its namespace); the shell
        itself the agent may kill or end, which is its own doing.
        """
        code = self._process.returncode
        if self._wrappers and code is not None and code < 0:
            return f"the sandbox was killed (signal {-code})"
        return None

    async def aclose(self) -> None:
        """Kill the shell's whole session, then reap the shell."""
        with anyio.CancelScope(shield=True):
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()
            await anyio.to_thread.run_sync(_kill_session, self._process.pid)
            await self._process.aclose()


async def spawn_local_shell(
    *,
    argv: list[str] | None = None,
    wrappers: int = 0,
    cwd: Path,
    env: dict[str, str],
    cpus: frozenset[int] | None = None,
) -> LocalShellTransport:
    """Start a bash in ``cwd`` that leads a new session.

    Args:
        argv: What starts the shell (default: ``SHELL_ARGV``; a wrapper of it, say).
        wrappers: Processes a wrapper puts between the one started and the shell.
        cwd: The shell's starting directory.
        env: Its whole environment.
        cpus: The CPUs it and its commands may run on (default: those of this process).

    Returns:
        The transport.

    Raises:
        OSError: If bash cannot be started.
    """
    process = await _spawn(argv or list(SHELL_ARGV), subprocess.PIPE, cwd=cwd, env=env, cpus=cpus)
    return LocalShellTransport(process, wrappers=wrappers)


class _HelperStream(ByteStream):
    """A helper process's stdin and stdout; closing it kills the process and reaps it."""

    def __init__(self, process: Process) -> None:
        assert process.stdin is not None and process.stdout is not None
        self._process = process
        self._stdin = process.stdin
        self._stdout = process.stdout

    async def send(self, item: bytes) -> None:
        await self._stdin.send(item)

    async def send_eof(self) -> None:
        await self._stdin.aclose()

    async def receive(self, max_bytes: int = _CHUNK) -> bytes:
        return await self._stdout.receive(max_bytes)

    async def aclose(self) -> None:
        with anyio.CancelScope(shield=True):
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()
            await self._process.aclose()


async def spawn_local_helper(
    argv: list[str], *, cwd: Path, env: dict[str, str], cpus: frozenset[int] | None = None
) -> ByteStream:
    """Start a helper program in a new session, stdin and stdout piped, stderr dropped.

    Raises:
        OSError: If it cannot be started.
    """
    process = await _spawn(
        argv, subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=cwd, env=env, cpus=cpus
    )
    return _HelperStream(process)


async def _spawn(
    argv: list[str],
    stdin: int,
    *,
    stderr: int = subprocess.STDOUT,
    cwd: Path,
    env: dict[str, str],
    cpus: frozenset[int] | None,
) -> Process:
    """Start a program leading a new session, stderr into stdout by default, on ``cpus``.

    The program is moved to ``cpus`` as soon as it has started; what it starts from then on
    runs there too.
    """
    process = await anyio.open_process(
        argv,
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=stderr,
        cwd=cwd,
        env=env,
        start_new_session=True,
    )
    if cpus:
        with contextlib.suppress(ProcessLookupError):  # it already ended
            os.sched_setaffinity(process.pid, cpus)
    return process


async def run_process(
    argv: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    timeout: float,
    output_cap: int,
    grace: float,
    cpus: frozenset[int] | None = None,
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
        cpus: The CPUs it may run on (default: those of this process).

    Returns:
        The result.

    Raises:
        SandboxBrokenError: If the system cannot start processes (out of memory, say).
    """
    started = anyio.current_time()
    output = CappedOutput(output_cap)
    try:
        process = await _spawn(argv, subprocess.DEVNULL, cwd=cwd, env=env, cpus=cpus)
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
    """Read the output while waiting for the process; return True if it timed out.

    The program's exit ends the run, not the end of its output: a child that keeps the
    output open (a server it left running) gets ``grace`` seconds to finish writing.
    """
    assert process.stdout is not None
    ended = anyio.Event()
    async with anyio.create_task_group() as tg:
        tg.start_soon(_drain, process.stdout, output, ended)
        with anyio.move_on_after(timeout) as scope:
            await process.wait()
        if scope.cancelled_caught:
            await anyio.to_thread.run_sync(_kill_session, process.pid)
        with anyio.move_on_after(grace):
            await ended.wait()
        tg.cancel_scope.cancel()
    await process.wait()
    return scope.cancelled_caught


async def _drain(stream: ByteReceiveStream, output: CappedOutput, ended: anyio.Event) -> None:
    try:
        while True:
            output.write(await stream.receive(_CHUNK))
    except anyio.EndOfStream:
        ended.set()


def _result(status: int, output: CappedOutput, *, timed_out: bool, started: float) -> ExecResult:
    capped = output.text()
    return ExecResult(
        exit_code=status,
        output=capped.text,
        timed_out=timed_out,
        truncated=capped.truncated,
        duration=anyio.current_time() - started,
    )
