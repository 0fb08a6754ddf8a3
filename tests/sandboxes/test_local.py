from __future__ import annotations

import os
import re
import stat
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import anyio
import pytest

from researchgym.errors import SandboxClosedError
from researchgym.sandboxes import LocalSandbox, LocalSandboxes, SandboxSpec, open_local_sandbox

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

CLOSED = re.escape("The sandbox is closed; open a new one.")


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[LocalSandbox]:
    async with await open_local_sandbox(root=tmp_path, env={"GREETING": "hi"}) as sandbox:
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
    async with await open_local_sandbox(root=tmp_path, env={"GREETING": "hi"}) as sandbox:
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
    async with await open_local_sandbox(root=tmp_path, cpus=[cpu]) as sandbox:
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


async def test_provider_copies_task_data_read_only(tmp_path: Path) -> None:
    source = await anyio.to_thread.run_sync(make_tree, tmp_path)
    async with (
        LocalSandboxes() as provider,
        await provider.open(SandboxSpec(data=source)) as sandbox,
    ):
        assert await sandbox.read_file("data/top.txt") == b"top"
        mode = (await anyio.Path(f"{sandbox.workdir}/data/top.txt").stat()).st_mode
        assert mode & 0o222 == 0
