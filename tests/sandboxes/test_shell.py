from __future__ import annotations

import math
import os
import re
from functools import partial
from typing import TYPE_CHECKING

import anyio
import pytest
from anyio.abc import ByteReceiveStream, ByteSendStream

from researchgym.errors import SandboxBrokenError, SandboxClosedError
from researchgym.sandboxes import DEFAULT_GRACE, RESTART_NOTE, Sandbox, ShellSession
from researchgym.sandboxes._processes import spawn_local_shell
from tests.sandboxes.backends import any_sandbox, parametrize_backends

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from anyio.streams.memory import MemoryObjectReceiveStream

    from researchgym.sandboxes import ShellSpawner

__all__ = ["any_sandbox"]  # the fixture, imported for its tests

GRACE = 0.3


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    parametrize_backends(metafunc)


async def run(sandbox: Sandbox | ShellSession, command: str, timeout: float = 5) -> tuple[int, str]:
    result = await sandbox.exec(command, timeout=timeout)
    assert not result.timed_out
    assert not result.truncated
    return result.exit_code, result.output


# --- against a real bash, in every backend -------------------------------------------


@pytest.mark.parametrize(
    ("command", "status"),
    [("true", 0), ("false", 1), ("exit 42 | true; (exit 42)", 42), ("sh -c 'exit 1'", 1)],
)
async def test_exit_status(any_sandbox: Sandbox, command: str, status: int) -> None:
    assert await run(any_sandbox, command) == (status, "")


async def test_stdout_and_stderr_interleave_in_order(any_sandbox: Sandbox) -> None:
    command = "echo one; echo two >&2; echo three; sh -c 'echo four >&2'"
    assert await run(any_sandbox, command) == (0, "one\ntwo\nthree\nfour\n")


@pytest.mark.parametrize("text", ["no newline", "two\n\n", "\n", "", "  spaces  "])
async def test_output_is_byte_exact(any_sandbox: Sandbox, text: str) -> None:
    assert await run(any_sandbox, f"printf '%s' '{text}'") == (0, text)


async def test_marker_like_output_is_returned_intact(any_sandbox: Sandbox) -> None:
    assert await run(any_sandbox, r"printf '\n__RGYM_deadbeef__:0\n'") == (
        0,
        "\n__RGYM_deadbeef__:0\n",
    )


async def test_framing_like_text_and_quotes_are_returned_intact(any_sandbox: Sandbox) -> None:
    framing = """' </dev/null; builtin printf '\\n__RGYM_feed__:%d\\n' "$?"\n"""
    command = f"cat <<'EOF'\n{framing}EOF"
    assert await run(any_sandbox, command) == (0, framing)
    assert await run(any_sandbox, "echo \"it's\" '\\'") == (0, "it's \\\n")


async def test_binary_output_is_replaced_not_fatal(any_sandbox: Sandbox) -> None:
    assert await run(any_sandbox, r"printf 'a\000b\377c'") == (0, "a\ufffdb\ufffdc")
    status, output = await run(any_sandbox, "head -c 2000 /dev/urandom")
    assert status == 0
    assert len(output) > 0


async def test_cd_variables_and_functions_persist(any_sandbox: Sandbox) -> None:
    await run(any_sandbox, "mkdir sub; cd sub; X=41; inc() { echo $(($1 + 1)); }")
    assert await run(any_sandbox, "pwd; echo $X; inc $X") == (
        0,
        f"{any_sandbox.workdir}/sub\n41\n42\n",
    )


async def test_each_command_tells_the_shell_s_working_directory(any_sandbox: Sandbox) -> None:
    assert (await any_sandbox.exec("true", timeout=5)).cwd == str(any_sandbox.workdir)
    assert (await any_sandbox.exec("mkdir -p 'a b' && cd 'a b'", timeout=5)).cwd == (
        f"{any_sandbox.workdir}/a b"
    )
    assert (await any_sandbox.exec("cd /tmp; false", timeout=5)).cwd == "/tmp"


@pytest.mark.parametrize("command", ['echo "abc', "echo 'abc", "if true; then", "echo $(", "}"])
async def test_syntax_error_is_status_2_and_the_session_goes_on(
    any_sandbox: Sandbox, command: str
) -> None:
    status, _ = await run(any_sandbox, command)
    assert status == 2
    assert await run(any_sandbox, "echo ok") == (0, "ok\n")


async def test_trailing_backslash_does_not_eat_the_framing(any_sandbox: Sandbox) -> None:
    assert await run(any_sandbox, "echo \\") == (0, "\\\n")
    assert await run(any_sandbox, "echo ok") == (0, "ok\n")


async def test_command_reading_stdin_returns_at_once(any_sandbox: Sandbox) -> None:
    assert await run(any_sandbox, "cat; wc -c", timeout=2) == (0, "0\n")


async def test_timeout_kills_the_command_and_keeps_the_shell(any_sandbox: Sandbox) -> None:
    await run(any_sandbox, "mkdir -p d && cd d")
    started = anyio.current_time()
    result = await any_sandbox.exec("sleep 30", timeout=0.3)
    assert anyio.current_time() - started < 0.3 + DEFAULT_GRACE + 1
    assert result.timed_out
    assert result.exit_code == 137
    assert re.fullmatch(r"bash: line \d+: +\d+ Killed +sleep 30\n", result.output)
    assert await run(any_sandbox, "pwd") == (0, f"{any_sandbox.workdir}/d\n")


async def test_timeout_kills_a_command_substitution(any_sandbox: Sandbox) -> None:
    result = await any_sandbox.exec("echo got $(sleep 30; echo late)", timeout=0.3)
    assert (result.timed_out, result.output, result.exit_code) == (True, "got\n", 0)
    assert await run(any_sandbox, "echo ok") == (0, "ok\n")


async def test_timeout_of_a_builtin_loop_restarts_the_shell(any_sandbox: Sandbox) -> None:
    await run(any_sandbox, "mkdir -p d && cd d && X=1")
    started = anyio.current_time()
    result = await any_sandbox.exec("echo spinning; while :; do :; done", timeout=0.3)
    assert 0.3 + DEFAULT_GRACE <= anyio.current_time() - started < 0.3 + DEFAULT_GRACE + 2
    assert (result.timed_out, result.exit_code, result.truncated) == (True, 137, False)
    note = (
        "\n[The command did not stop at its timeout, so the shell was restarted: "
        "its working directory and variables are reset.]\n"
    )
    assert re.fullmatch(re.escape("spinning\n" + note), result.output)
    assert note == RESTART_NOTE
    assert await run(any_sandbox, "pwd; echo x$X") == (0, f"{any_sandbox.workdir}\nx\n")


async def test_huge_output_is_capped_quickly(any_sandbox: Sandbox) -> None:
    started = anyio.current_time()
    result = await any_sandbox.exec("yes | head -c 30000000; printf END", timeout=20)
    assert anyio.current_time() - started < 10
    assert (result.exit_code, result.truncated, result.timed_out) == (0, True, False)
    half = "y\n" * 16384
    omitted = 30000003 - 65536
    expected = half + f"\n[... {omitted} bytes omitted ...]\n" + half[3:] + "END"
    assert re.fullmatch(re.escape(expected), result.output)
    assert await run(any_sandbox, "echo ok") == (0, "ok\n")


async def test_exit_breaks_the_session(any_sandbox: Sandbox) -> None:
    message = (
        "The sandbox's shell is gone: the shell exited with status 3 "
        "(did a command run 'exit'?); open a new sandbox."
    )
    with pytest.raises(SandboxBrokenError, match=f"^{re.escape(message)}$") as caught:
        await any_sandbox.exec("exit 3", timeout=5)
    assert caught.value.reason.startswith("the shell exited with status 3")
    with pytest.raises(SandboxBrokenError, match=f"^{re.escape(message)}$"):
        await any_sandbox.exec("echo hi", timeout=5)


async def test_concurrent_execs_are_serialized(any_sandbox: Sandbox) -> None:
    outputs: list[str] = []

    async def one(i: int) -> None:
        result = await any_sandbox.exec(f"echo start {i}; sleep 0.1; echo end {i}", timeout=5)
        outputs.append(result.output)

    started = anyio.current_time()
    async with anyio.create_task_group() as tg:
        for i in range(3):
            tg.start_soon(one, i)
    assert anyio.current_time() - started >= 0.3
    assert sorted(outputs) == [f"start {i}\nend {i}\n" for i in range(3)]


async def test_cancelled_exec_does_not_leak_into_the_next(any_sandbox: Sandbox) -> None:
    with anyio.move_on_after(0.2):
        await any_sandbox.exec("sleep 30; echo late", timeout=60)
    assert await run(any_sandbox, "echo next") == (0, "next\n")


async def test_closed_sandbox_refuses_commands(any_sandbox: Sandbox) -> None:
    await any_sandbox.aclose()
    await any_sandbox.aclose()
    with pytest.raises(SandboxClosedError, match=r"^The sandbox is closed; open a new one"):
        await any_sandbox.exec("echo hi", timeout=5)


# --- a session of its own -------------------------------------------------------------


async def test_small_cap_still_finds_the_marker(tmp_path: Path) -> None:
    spawn = partial(spawn_local_shell, cwd=tmp_path, env={"PATH": os.environ["PATH"]})
    async with await ShellSession.open(spawn, output_cap=8) as session:
        result = await session.exec("seq 1 100000", timeout=10)
        assert result.output.endswith("\n99999\n100000\n"[-4:])
        assert result.output.startswith("1\n2\n")
        assert result.truncated
        result = await session.exec("printf 12345678", timeout=10)
        assert (result.output, result.truncated) == ("12345678", False)


# --- against a scripted transport ------------------------------------------------------

FRAME = re.compile(
    rb"builtin eval '(.*)' </dev/null; "
    rb"builtin printf '\\n(__RGYM_[0-9a-f]{32}__:)%d:%s\\0' \"\$\?\" \"\$PWD\"\n",
    re.DOTALL,
)


class _Output(ByteReceiveStream):
    def __init__(self, receive: MemoryObjectReceiveStream[bytes]) -> None:
        self._receive = receive

    async def receive(self, max_bytes: int = 65536) -> bytes:
        return await self._receive.receive()

    async def aclose(self) -> None:
        await self._receive.aclose()


class _Input(ByteSendStream):
    def __init__(self, on_input: Callable[[bytes], None]) -> None:
        self._on_input = on_input

    async def send(self, item: bytes) -> None:
        self._on_input(item)

    async def aclose(self) -> None:
        pass


class FakeShell:
    """Answers framed commands from a table, in chunks of ``chunk`` bytes.

    ``hang`` waits for an interrupt, ``spin`` never answers, ``exit`` ends the output.
    """

    def __init__(self, replies: dict[str, bytes], *, chunk: int) -> None:
        self.replies = replies
        self.chunk = chunk
        self.received: list[str] = []
        self.interrupts = 0
        self.closed = False
        self._hanging = b""
        self._out, receive = anyio.create_memory_object_stream[bytes](math.inf)
        self.receive_stream = _Output(receive)
        self.send_stream = _Input(self._on_input)

    def _on_input(self, data: bytes) -> None:
        if data == b"set -m\n":
            self.received.append("set -m")
            return
        match = FRAME.fullmatch(data)
        assert match is not None
        command, marker = match[1].decode().replace("'\\''", "'"), match[2]
        self.received.append(command)
        if command == "exit":
            self._out.close()
        elif command == "hang":
            self._hanging = marker
        elif command != "spin":
            self._emit(self.replies[command] + b"\n" + marker + b"0:/w\0")

    def _emit(self, data: bytes) -> None:
        for start in range(0, len(data), self.chunk):
            self._out.send_nowait(data[start : start + self.chunk])

    def begin_command(self) -> None:
        pass

    async def interrupt(self) -> None:
        self.interrupts += 1
        if self._hanging:
            self._emit(b"Killed\n\n" + self._hanging + b"137:/w\0")
            self._hanging = b""

    async def exit_status(self) -> int | None:
        return None

    async def gone(self) -> None:
        return None

    async def aclose(self) -> None:
        self.closed = True
        self._out.close()
        await self.receive_stream.aclose()


@pytest.fixture
def shells() -> list[FakeShell]:
    return []


def spawner(shells: list[FakeShell], replies: dict[str, bytes], chunk: int = 65536) -> ShellSpawner:
    async def spawn() -> FakeShell:
        shells.append(FakeShell(replies, chunk=chunk))
        return shells[-1]

    return spawn


@pytest.mark.parametrize("chunk", [1, 2, 5, 40])
async def test_marker_split_across_chunks(shells: list[FakeShell], chunk: int) -> None:
    replies = {"a": b"hello\n\nworld", "b": b"__RGYM_", "c": b""}
    async with await ShellSession.open(spawner(shells, replies, chunk)) as session:
        for command, output in replies.items():
            assert await run(session, command) == (0, output.decode())
    assert shells[0].received == ["set -m", "a", "b", "c"]


async def test_quotes_reach_the_shell_unchanged(shells: list[FakeShell]) -> None:
    command = "echo 'it'\\''s' \"'\""
    async with await ShellSession.open(spawner(shells, {command: b"x"})) as session:
        assert await run(session, command) == (0, "x")


async def test_timeout_interrupts_and_reads_the_status(shells: list[FakeShell]) -> None:
    async with await ShellSession.open(spawner(shells, {"a": b"A"})) as session:
        result = await session.exec("hang", timeout=0.05)
        assert (result.exit_code, result.output, result.timed_out) == (137, "Killed\n", True)
        assert shells[0].interrupts == 1
        assert await run(session, "a") == (0, "A")
    assert len(shells) == 1


async def test_silent_shell_is_restarted(shells: list[FakeShell]) -> None:
    async with await ShellSession.open(spawner(shells, {"a": b"A"}), grace=0.35) as session:
        result = await session.exec("spin", timeout=0.05)
        assert (result.exit_code, result.output, result.timed_out) == (137, RESTART_NOTE, True)
        assert 3 <= shells[0].interrupts <= 5
        assert shells[0].closed
        assert await run(session, "a") == (0, "A")
    assert [shell.received for shell in shells] == [["set -m", "spin"], ["set -m", "a"]]


async def test_end_of_output_breaks_the_session(shells: list[FakeShell]) -> None:
    message = "The sandbox's shell is gone: the shell exited (did a command run 'exit'?); "
    async with await ShellSession.open(spawner(shells, {})) as session:
        with pytest.raises(SandboxBrokenError, match=f"^{re.escape(message)}open a new sandbox.$"):
            await session.exec("exit", timeout=1)


async def test_close_during_a_command_says_closed(shells: list[FakeShell]) -> None:
    session = await ShellSession.open(spawner(shells, {}))
    errors: list[SandboxClosedError] = []

    async def hang() -> None:
        try:
            await session.exec("hang", timeout=5)
        except SandboxClosedError as exc:
            errors.append(exc)

    async with anyio.create_task_group() as tg:
        tg.start_soon(hang)
        await anyio.wait_all_tasks_blocked()
        await session.aclose()
    assert len(errors) == 1
    assert shells[0].received == ["set -m", "hang"]
