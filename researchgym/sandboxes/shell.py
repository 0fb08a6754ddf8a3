"""The persistent-shell protocol: one long-lived bash per sandbox, spoken over two byte pipes.

``ShellSession`` knows nothing about where the shell runs. A backend gives it a ``spawn``
coroutine that starts a bash and returns a ``ShellTransport``: a ``ByteSendStream`` to the
shell's stdin, a ``ByteReceiveStream`` from its merged stdout and stderr, and an
``interrupt()`` that kills what the shell is running without killing the shell. The local
backend spawns a process; a Docker backend can attach to ``docker exec`` instead.

```
async with await ShellSession.open(spawn) as session:
    result = await session.exec("cd /tmp && ls", timeout=10)
```
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Protocol, TypeAlias

import anyio
from anyio.abc import AsyncResource

from researchgym.errors import SandboxBrokenError, SandboxClosedError, SandboxError
from researchgym.sandboxes.base import ExecResult
from researchgym.sandboxes.output import DEFAULT_OUTPUT_CAP, CappedOutput

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from anyio.abc import ByteReceiveStream, ByteSendStream

__all__ = [
    "DEFAULT_GRACE",
    "RESTART_NOTE",
    "SHELL_ARGV",
    "ShellSession",
    "ShellSpawner",
    "ShellTransport",
]

# The protocol, and why it looks like this.
#
# One bash (`bash --noprofile --norc`, stderr merged into stdout) lives as long as the
# sandbox, so `cd`, variables and functions persist and a command costs no process start.
# The first line sent is `set -m`: with job control on, bash puts every external command or
# pipeline in a process group of its own (and, being non-interactive, prints no job
# notices), so a timeout can kill the command's groups and leave the shell alive.
#
# Each command is sent as one framed line:
#
#     builtin eval '<command, each ' written '\''>' </dev/null;
#     builtin printf '\n<MARK>%d:%s\0' "$?" "$PWD"
#
# - The command travels as a single-quoted literal, so nothing in it can reach the framing:
#   an unmatched quote or a dangling `\` is a syntax error inside `eval` (exit status 2),
#   and the printf still runs.
# - No `{ ...; }` around `eval`: bash 5.2 mis-parses a `{` on the line after an eval that
#   failed on an unterminated quote or a trailing backslash, which would lose the marker.
# - `</dev/null` keeps a command that reads stdin (`cat`, a bare `python3`) from eating the
#   framed lines queued behind it. `eval` runs in the shell itself, so state persists.
# - `builtin` keeps a function the agent named `eval` or `printf` from hijacking the frame.
# - <MARK> is `__RGYM_<32 random hex digits>__:`, new for every command: output cannot contain it by
#   chance, and a late marker of an earlier command can never end a later one.
#
# Reading: chunks go through `_Reply.feed`, which looks for b"\n" + MARK, keeping the last
# len(MARK) bytes unflushed so a marker split across chunks is still found, then reads the
# status and the shell's working directory up to the NUL that ends them (a path may hold a
# newline, never a NUL): each command tells where it left the shell at no extra cost. The
# "\n" before MARK is ours and is dropped, so the output
# is byte-exact. Everything before it streams into a `CappedOutput` (head and rolling
# tail), so a 300 MB output never sits in memory and marker detection never depends on
# what the cap keeps.
#
# Timeout: the transport's `interrupt()` kills the processes started since the command was
# sent (`begin_command()`), sparing the background jobs of earlier commands; we then read on
# for `grace` seconds, interrupting again every 0.1 s (a loop starts a new child per
# iteration). If the marker comes, the shell reports the status (137 for SIGKILL). If not,
# the shell itself is busy (`while :; do :; done` is all builtins): we kill it and spawn a
# fresh one, and the output says so. Either way the session goes on.
#
# If the caller is cancelled mid-command, the reply is remembered as stale; the next exec
# first interrupts it and drains up to its marker, so no earlier output or marker leaks
# into a later result.

SHELL_ARGV = ("bash", "--noprofile", "--norc")
"""How a backend starts the shell: stdin a pipe, stderr merged into stdout."""

DEFAULT_GRACE = 1.0
"""Seconds to wait for a command to die after its timeout before restarting the shell."""

RESTART_NOTE = (
    "\n[The command did not stop at its timeout, so the shell was restarted: "
    "its working directory and variables are reset.]\n"
)
"""Appended to the output of a command whose shell had to be restarted."""

_PRELUDE = b"set -m\n"
_RESTART_DEADLINE = 30.0
"""Seconds a new shell may take to start; the restart is shielded, so it must end."""
_CHUNK = 65536
_REINTERRUPT_INTERVAL = 0.1
_KILLED_STATUS = 137
_STREAM_ERRORS = (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError)


class ShellTransport(Protocol):
    """A running bash as a backend provides it.

    The backend starts ``SHELL_ARGV`` with stderr merged into stdout, in the sandbox's
    working directory.
    """

    @property
    def send_stream(self) -> ByteSendStream:
        """The shell's stdin."""

    @property
    def receive_stream(self) -> ByteReceiveStream:
        """The shell's stdout and stderr, merged."""

    def begin_command(self) -> None:
        """Note that a command is about to be sent: ``interrupt`` kills what it starts."""

    async def interrupt(self) -> None:
        """Kill (SIGKILL) the processes the current command started.

        The shell itself and the background jobs of earlier commands stay alive.
        """

    async def exit_status(self) -> int | None:
        """Wait briefly for the shell to end and return its status (128 + N for signal N).

        Returns:
            The status, or None if it is not known.
        """

    async def gone(self) -> str | None:
        """Why the sandbox around the shell is gone, if it is (its container was killed).

        Returns:
            The reason, or None if the sandbox is there (the shell alone ended).
        """

    async def aclose(self) -> None:
        """Kill the shell and everything it started, and close the streams."""


ShellSpawner: TypeAlias = "Callable[[], Awaitable[ShellTransport]]"
"""Starts a fresh shell; called once at open and again whenever the shell is restarted."""


class _Reply:
    """Parses one command's output up to its end marker."""

    __slots__ = ("_needle", "_pending", "cwd", "exit_code", "leftover", "output")

    def __init__(self, marker: str, output: CappedOutput) -> None:
        self._needle = b"\n" + marker.encode()
        self._pending = bytearray()
        self.output = output
        self.exit_code: int | None = None
        self.cwd: str | None = None
        self.leftover = b""

    def feed(self, chunk: bytes) -> bool:
        """Consume a chunk; return True once the marker and the status have arrived."""
        pending = self._pending
        pending += chunk
        needle = self._needle
        at = pending.find(needle)
        if at < 0:
            cut = len(pending) - len(needle) + 1
            if cut > 0:
                self.output.write(pending[:cut])
                del pending[:cut]
            return False
        end = pending.find(b"\0", at + len(needle))
        if at:
            self.output.write(pending[:at])
        if end < 0:
            del pending[:at]
            return False
        status, _, cwd = bytes(pending[at + len(needle) : end]).partition(b":")
        self.exit_code = int(status)
        self.cwd = cwd.decode(errors="replace")
        self.leftover = bytes(pending[end + 1 :])
        return True

    def flush(self) -> None:
        """Move the bytes held back as a possible marker start into the output."""
        self.output.write(self._pending)
        self._pending.clear()


def _frame(command: str, marker: str) -> bytes:
    quoted = command.replace("'", "'\\''")
    end = f'builtin printf \'\\n{marker}%d:%s\\0\' "$?" "$PWD"\n'
    return f"builtin eval '{quoted}' </dev/null; {end}".encode(errors="replace")


class ShellSession(AsyncResource):
    """A persistent bash, with framed commands, capped output and timeouts.

    Commands run one at a time: concurrent ``exec`` calls queue. Create one with ``open``.

    Args:
        spawn: Starts a fresh shell.
        transport: The shell ``spawn`` already started.
        output_cap: Bytes of output kept per command (head and tail halves).
        grace: Seconds a timed-out command gets to die before the shell is restarted.
    """

    def __init__(
        self,
        spawn: ShellSpawner,
        transport: ShellTransport,
        *,
        output_cap: int = DEFAULT_OUTPUT_CAP,
        grace: float = DEFAULT_GRACE,
    ) -> None:
        self._spawn = spawn
        self._transport = transport
        self._output_cap = output_cap
        self._grace = grace
        # Uncontended almost always: skip the scheduler round trip of a normal acquire.
        self._lock = anyio.Lock(fast_acquire=True)
        self._leftover = b""
        self._stale: _Reply | None = None
        self._broken: str | None = None
        self._broken_by_agent = False
        self._closed = False

    @classmethod
    async def open(
        cls,
        spawn: ShellSpawner,
        *,
        output_cap: int = DEFAULT_OUTPUT_CAP,
        grace: float = DEFAULT_GRACE,
    ) -> ShellSession:
        """Start a shell and return a session on it.

        Args:
            spawn: Starts a fresh shell.
            output_cap: Bytes of output kept per command (head and tail halves).
            grace: Seconds a timed-out command gets to die before the shell is restarted.

        Returns:
            The session; close it with ``aclose()``.

        Raises:
            SandboxBrokenError: If the shell died at once.
        """
        transport = await spawn()
        session = cls(spawn, transport, output_cap=output_cap, grace=grace)
        try:
            await transport.send_stream.send(_PRELUDE)
        except _STREAM_ERRORS as exc:
            failure = await session._fail()
            await session.aclose()
            raise failure from exc
        except BaseException:
            await session.aclose()  # shielded: no shell outlives a failed open
            raise
        return session

    async def exec(self, command: str, *, timeout: float) -> ExecResult:
        """Run a command in the shell; see ``Sandbox.exec``.

        Raises:
            SandboxBrokenError: If the shell exited (for example the command ran ``exit``).
            SandboxClosedError: If the session was closed.
        """
        async with self._lock:
            self._check_usable()
            try:
                if self._stale is not None:
                    await self._stop(self._stale)
                    self._leftover = b""
                return await self._exec_framed(command, timeout)
            except _STREAM_ERRORS as exc:
                raise await self._fail() from exc

    async def aclose(self) -> None:
        """Kill the shell and everything it started. Idempotent."""
        if self._closed:
            return
        self._closed = True
        with anyio.CancelScope(shield=True):
            await self._transport.aclose()

    def _check_usable(self) -> None:
        if self._closed:
            raise SandboxClosedError()
        if self._broken is not None:
            raise SandboxBrokenError(self._broken, by_agent=self._broken_by_agent)

    async def _exec_framed(self, command: str, timeout: float) -> ExecResult:
        marker = f"__RGYM_{os.urandom(16).hex()}__:"
        reply = _Reply(marker, CappedOutput(self._output_cap))
        if self._leftover:
            reply.feed(self._leftover)
        self._stale = reply
        started = anyio.current_time()
        self._transport.begin_command()
        await self._transport.send_stream.send(_frame(command, marker))
        with anyio.move_on_after(timeout):
            await self._receive(reply)
        timed_out = reply.exit_code is None
        restarted = timed_out and await self._stop(reply)
        self._stale = None
        self._leftover = reply.leftover
        capped = reply.output.text(suffix=RESTART_NOTE if restarted else "")
        return ExecResult(
            exit_code=_KILLED_STATUS if reply.exit_code is None else reply.exit_code,
            output=capped.text,
            timed_out=timed_out,
            truncated=capped.truncated,
            duration=anyio.current_time() - started,
            cwd=reply.cwd,
        )

    async def _receive(self, reply: _Reply) -> None:
        receive = self._transport.receive_stream.receive
        while not reply.feed(await receive(_CHUNK)):
            pass

    async def _stop(self, reply: _Reply) -> bool:
        """Kill the running command and read up to its marker; return True if restarted."""
        with anyio.move_on_after(self._grace):
            while reply.exit_code is None:
                await self._transport.interrupt()
                with anyio.move_on_after(_REINTERRUPT_INTERVAL):
                    await self._receive(reply)
        if reply.exit_code is not None:
            return False
        reply.flush()
        await self._restart()
        return True

    async def _restart(self) -> None:
        # Shielded: a cancellation between killing the old shell and starting the new one
        # would leave the session without a shell.
        with anyio.CancelScope(shield=True):
            await self._transport.aclose()
            try:
                with anyio.fail_after(_RESTART_DEADLINE):
                    self._transport = await self._spawn()
            except (OSError, SandboxError, TimeoutError) as exc:
                self._broken = f"the shell could not be restarted ({exc or 'no answer'})"
                raise SandboxBrokenError(self._broken) from exc
            if self._closed:
                await self._transport.aclose()
                raise SandboxClosedError()
            await self._transport.send_stream.send(_PRELUDE)

    async def _fail(self) -> SandboxClosedError | SandboxBrokenError:
        """Turn a stream failure into our error, marking the session broken."""
        if self._closed:
            return SandboxClosedError()
        status = await self._transport.exit_status()  # first: it waits for the end
        gone = await self._transport.gone()
        said = "exited" if status is None else f"exited with status {status}"
        why = gone or f"the shell {said} (did a command run 'exit'?)"
        self._broken = f"{why}; open a new sandbox"
        self._broken_by_agent = gone is None
        self._stale = None
        return SandboxBrokenError(self._broken, by_agent=self._broken_by_agent)
