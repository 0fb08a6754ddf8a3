from __future__ import annotations

import os
import re
import stat
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import anyio
import pytest

import researchgym
from researchgym.errors import SandboxClosedError, SandboxError
from researchgym.sandboxes import (
    LocalSandbox,
    OutsideSandboxError,
    local_isolation,
    open_local_sandbox,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

CLOSED = re.escape("The sandbox is closed; open a new one.")


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[LocalSandbox]:
    """A local sandbox without isolation: its paths and processes are the host's."""
    async with await open_local_sandbox(
        root=tmp_path, env={"GREETING": "hi"}, isolate=False
    ) as sandbox:
        yield sandbox


async def alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie waiting to be reaped."""
    try:
        stat_line = await anyio.Path(f"/proc/{pid}/stat").read_bytes()
    except FileNotFoundError:
        return False
    return stat_line[stat_line.rindex(b")") + 2 :][:1] != b"Z"


async def eventually_dead(pid: int) -> bool:
    for _ in range(100):
        if not await alive(pid):
            return True
        await anyio.sleep(0.02)
    return False


async def test_workspace_is_a_fresh_directory_under_root(
    sandbox: LocalSandbox, tmp_path: Path
) -> None:
    workdir = Path(sandbox.workdir)
    assert isinstance(sandbox.workdir, PurePosixPath)
    assert (workdir.name, workdir.parent.name) == ("workspace", "home")
    assert workdir.parent.parent.parent == tmp_path
    assert [path async for path in anyio.Path(workdir).iterdir()] == []
    result = await sandbox.exec('pwd; echo "$HOME"', timeout=5)
    assert result.output == f"{workdir}\n{workdir.parent}\n"


async def test_environment_is_trimmed_and_extended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RGYM_TEST_SECRET", "s3cret")
    async with await open_local_sandbox(
        root=tmp_path, env={"GREETING": "hi"}, isolate=False
    ) as sandbox:
        result = await sandbox.exec('echo "$GREETING/$RGYM_TEST_SECRET"; command -v sh', timeout=5)
        assert result.output.startswith("hi/\n/")
        result = await sandbox.run(
            ["sh", "-c", 'echo "$GREETING $EXTRA"'], timeout=5, env={"EXTRA": "x"}
        )
        assert result.output == "hi x\n"


def make_tree(root: Path) -> Path:
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "src" / "top.txt").write_text("top")
    (root / "src" / "pkg" / "inner.txt").write_text("inner")
    (root / "src" / "link").symlink_to("top.txt")
    return root / "src"


async def test_upload_read_only_drops_write_permission(
    sandbox: LocalSandbox, tmp_path: Path
) -> None:
    source = await anyio.to_thread.run_sync(make_tree, tmp_path)
    await sandbox.upload(source, "data", read_only=True)
    data = anyio.Path(sandbox.workdir) / "data"
    for path in (data, data / "top.txt", data / "pkg", data / "pkg" / "inner.txt"):
        assert stat.S_IMODE((await path.stat()).st_mode) & 0o222 == 0, path
    assert (await anyio.Path(source / "top.txt").stat()).st_mode & stat.S_IWUSR
    await sandbox.remove("data")
    assert not await data.exists()


async def test_processes_run_on_the_chosen_cpus(tmp_path: Path) -> None:
    cpu = max(os.sched_getaffinity(0))
    check = "grep Cpus_allowed_list /proc/self/status"
    expected = ["Cpus_allowed_list:", str(cpu)]
    async with await open_local_sandbox(root=tmp_path, cpus=[cpu], isolate=False) as sandbox:
        assert (await sandbox.exec(check, timeout=5)).output.split() == expected
        # a program is pinned as soon as it has started: what it starts then is pinned too
        ran = await sandbox.run(["sh", "-c", f"sleep 0.2; {check}"], timeout=5)
        assert ran.output.split() == expected


async def test_run_timeout_kills_the_whole_group(sandbox: LocalSandbox) -> None:
    script = "sleep 30 & echo $! > child.pid; wait"
    started = anyio.current_time()
    result = await sandbox.run(["sh", "-c", script], timeout=0.3)
    assert anyio.current_time() - started < 2
    assert (result.exit_code, result.timed_out) == (137, True)
    child = int(await sandbox.read_file("child.pid"))
    assert await eventually_dead(child)


async def test_run_leaves_nothing_of_its_group_behind(sandbox: LocalSandbox) -> None:
    script = "sleep 30 >/dev/null 2>&1 & echo $! > child.pid"
    result = await sandbox.run(["sh", "-c", script], timeout=5)
    assert (result.exit_code, result.timed_out) == (0, False)
    assert await eventually_dead(int(await sandbox.read_file("child.pid")))


async def test_run_output_is_capped(tmp_path: Path) -> None:
    async with await open_local_sandbox(root=tmp_path, output_cap=10) as sandbox:
        result = await sandbox.run(["seq", "1", "1000"], timeout=5)
        expected = "1\n2\n3\n[... 3883 bytes omitted ...]\n1000\n"
        assert re.fullmatch(re.escape(expected), result.output)
        assert result.truncated


async def test_run_of_a_missing_program_is_a_result(sandbox: LocalSandbox) -> None:
    result = await sandbox.run(["no-such-program-x"], timeout=5)
    assert result.exit_code == 127
    assert re.fullmatch(
        r"\[Errno 2\] No such file or directory: 'no-such-program-x'\n", result.output
    )
    await sandbox.write_file("plain.sh", b"echo hi\n")
    result = await sandbox.run(["./plain.sh"], timeout=5)
    assert result.exit_code == 126
    assert re.fullmatch(r"\[Errno 13\] Permission denied: '\./plain\.sh'\n", result.output)


async def test_aclose_kills_background_processes_and_removes_the_directory(
    sandbox: LocalSandbox,
) -> None:
    result = await sandbox.exec("sleep 1000 & echo $!; (sleep 1000 &) ; true", timeout=5)
    pid = int(result.output)
    assert await alive(pid)
    root = anyio.Path(sandbox.workdir).parent
    await sandbox.aclose()
    assert await eventually_dead(pid)
    assert not await root.exists()


async def test_aclose_ends_a_run_in_flight(sandbox: LocalSandbox) -> None:
    errors: list[SandboxClosedError] = []

    async def run() -> None:
        try:
            await sandbox.run(["sleep", "30"], timeout=60)
        except SandboxClosedError as exc:
            errors.append(exc)

    started = anyio.current_time()
    async with anyio.create_task_group() as tg:
        tg.start_soon(run)
        await anyio.sleep(0.1)
        await sandbox.aclose()
    assert anyio.current_time() - started < 2
    assert len(errors) == 1


async def test_task_data_is_read_only(tmp_path: Path) -> None:
    source = await anyio.to_thread.run_sync(make_tree, tmp_path)
    for isolate in (False, None):  # a read-only copy; a read-only mount where isolated
        async with await open_local_sandbox(root=tmp_path, data=source, isolate=isolate) as sb:
            assert await sb.read_file("data/top.txt") == b"top"
            tried = await sb.exec("echo x > data/top.txt || echo x > data/new.txt", timeout=5)
            if isolate is None or os.geteuid() != 0:  # root ignores modes: only a mount holds
                assert tried.exit_code != 0
                assert (await sb.exec("ls data; cat data/top.txt", timeout=5)).output == (
                    "link\npkg\ntop.txt\ntop"
                )


# Isolation: bubblewrap namespaces, nobody under root, a disk. CI installs bubblewrap and
# runs as root, so none of these skip there.

ISOLATION = local_isolation()
isolated_only = pytest.mark.skipif(
    not ISOLATION.namespaces, reason=f"local sandboxes cannot isolate here: {ISOLATION.detail}"
)
root_only = pytest.mark.skipif(
    not ISOLATION.user, reason="not root: the agent and the evaluator share this user"
)


@pytest.fixture
async def isolated(tmp_path: Path) -> AsyncIterator[LocalSandbox]:
    async with await open_local_sandbox(root=tmp_path, isolate=True) as sandbox:
        yield sandbox


def processes_with(token: str) -> list[int]:
    """Host processes whose command line holds ``token``."""
    found = []
    for name in os.listdir("/proc"):
        try:
            with open(f"/proc/{name}/cmdline", "rb") as file:
                if token.encode() in file.read():
                    found.append(int(name))
        except (OSError, ValueError):
            continue
    return found


@isolated_only
async def test_an_isolated_sandbox_sees_its_view_and_no_more(
    isolated: LocalSandbox, tmp_path: Path
) -> None:
    (tmp_path / "task" / "eval").mkdir(parents=True)
    (tmp_path / "task" / "eval" / "labels.csv").write_text("hidden")
    package = Path(researchgym.__file__).parent
    result = await isolated.exec(
        f"pwd; echo $HOME; ls {tmp_path}/task/eval/labels.csv {package}/tasks/builtin "
        f"{isolated.private_dir} /sys 2>&1 | sed 's/.*cannot access //'",
        timeout=10,
    )
    assert result.output.splitlines() == [
        str(isolated.workdir),
        "/home/agent",
        f"'{tmp_path}/task/eval/labels.csv': No such file or directory",
        f"'{package}/tasks/builtin': No such file or directory",
        f"'{isolated.private_dir}': No such file or directory",
        "'/sys': No such file or directory",
    ]


@isolated_only
async def test_an_isolated_sandbox_has_no_network(isolated: LocalSandbox) -> None:
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    async with listener:
        dial = f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=5)"
        result = await isolated.exec(f'python3 -c "{dial}" 2>&1 | tail -1', timeout=20)
    assert result.output == "ConnectionRefusedError: [Errno 111] Connection refused\n"


@isolated_only
async def test_no_process_of_an_isolated_sandbox_outlives_it(tmp_path: Path) -> None:
    token = f"{os.getpid()}.4321"  # a sleep no one else runs
    escapes = (
        f"setsid sleep {token} & (sleep {token} &) & nohup sleep {token} >/dev/null 2>&1 & "
        f"python3 -c 'import os, time\nif os.fork() == 0:\n os.setsid()\n "
        f'os.execvp("sleep", ["sleep", "{token}"])\' ; disown -a'
    )
    sandbox = await open_local_sandbox(root=tmp_path, isolate=True)
    async with sandbox:
        await sandbox.exec(escapes, timeout=10)
        await sandbox.run(["sh", "-c", f"setsid sleep {token} & echo started"], timeout=10)
        for _ in range(100):
            if len(processes_with(f"sleep\0{token}")) >= 4:
                break
            await anyio.sleep(0.02)
        assert len(processes_with(f"sleep\0{token}")) >= 4
    for _ in range(250):
        if not processes_with(f"sleep\0{token}"):
            break
        await anyio.sleep(0.02)
    assert processes_with(f"sleep\0{token}") == []


@isolated_only
async def test_the_private_directory_is_for_trusted_processes_only(
    isolated: LocalSandbox, tmp_path: Path
) -> None:
    (tmp_path / "eval").mkdir()
    (tmp_path / "eval" / "key.txt").write_text("secret")
    target = f"{isolated.private_dir}/eval-1"
    await isolated.upload(tmp_path / "eval", target)
    assert (await isolated.run(["cat", "key.txt"], timeout=10, cwd=target)).output == "secret"
    agent = await isolated.exec(f"cat {target}/key.txt", timeout=10)
    assert agent.exit_code != 0 and "secret" not in agent.output
    with pytest.raises(OutsideSandboxError):
        await isolated.read_file(f"{target}/key.txt")


@isolated_only
@root_only
async def test_under_root_the_agent_is_nobody_without_capabilities(
    isolated: LocalSandbox,
) -> None:
    check = "id -un; grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status"
    agent = (await isolated.exec(check, timeout=10)).output.split()
    assert agent == [
        "nobody",
        "CapEff:",
        "0000000000000000",
        "CapBnd:",
        "0000000000000000",
        "NoNewPrivs:",
        "1",
    ]
    assert isolated.agent_user == "nobody"
    trusted = (await isolated.run(["sh", "-c", check], timeout=10)).output.split()
    assert trusted[:3] == ["root", "CapEff:", "00000000000000e0"]  # SETGID, SETUID, KILL
    await isolated.write_file("mine.txt", b"x")
    made = await isolated.exec("stat -c %U mine.txt; touch /etc/x /usr/x 2>&1 | wc -l", timeout=10)
    assert made.output == "nobody\n2\n"


@isolated_only
@root_only
async def test_a_local_disk_filler_gets_no_space_left(tmp_path: Path) -> None:
    async with await open_local_sandbox(root=tmp_path, disk=32 * 2**20, isolate=True) as sb:
        assert sb.disk is not None
        filled = await sb.exec("dd if=/dev/zero of=big bs=1M count=100 2>&1 | head -1", timeout=60)
        assert "No space left on device" in filled.output
        assert (await sb.exec("rm big; echo ok > f; cat f", timeout=10)).output == "ok\n"
        folder = sb.disk.folder
    assert not await anyio.Path(folder).exists()


async def test_asking_for_isolation_where_there_is_none_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no bubblewrap on it
    local_isolation.cache_clear()
    try:
        with pytest.raises(
            SandboxError,
            match=r"^Local sandboxes cannot be isolated here: bubblewrap is not installed "
            r"\(apt-get install bubblewrap\)\.$",
        ):
            await open_local_sandbox(root=tmp_path, isolate=True)
    finally:
        local_isolation.cache_clear()


SPAWN_UNTIL_REFUSED = (
    "import subprocess\n"
    "n = 0\n"
    "try:\n"
    "    while n < 500:\n"
    "        subprocess.Popen(['sleep', '1000'])\n"
    "        n += 1\n"
    "except OSError as e:\n"
    "    print(n, e.strerror)\n"
)


@isolated_only
@root_only
async def test_a_local_fork_bomb_and_memory_hog_meet_their_limits(tmp_path: Path) -> None:
    async with await open_local_sandbox(
        root=tmp_path, pids=32, memory=256 * 2**20, isolate=True
    ) as sandbox:
        hog = await sandbox.exec("python3 -c 'x = bytearray(600 * 2**20)'", timeout=30)
        assert (hog.exit_code, hog.timed_out) == (137, False)
        await sandbox.write_file("spawn.py", SPAWN_UNTIL_REFUSED.encode())
        spawned = await sandbox.exec("python3 spawn.py", timeout=30)
        count, reason = spawned.output.split(" ", 1)
        assert int(count) < 32 and reason == "Resource temporarily unavailable\n"
        assert (await sandbox.exec("pkill sleep; echo alive", timeout=10)).output == "alive\n"


async def test_a_process_that_shows_no_group_while_it_exits_is_killed_alone() -> None:
    """/proc may show a dying process's group as -1 (or 0): os.killpg(-1) is EINVAL, and a
    group of 1 would be init's. Such a process is killed by its pid, with no error."""
    from researchgym.sandboxes._processes import _kill, _ProcInfo

    async with await anyio.open_process(["sleep", "30"]) as process:
        for pgid in (-1, 0, 1):
            _kill([_ProcInfo(process.pid, os.getpid(), pgid, os.getsid(0), 0)])
        assert await process.wait() == -9
