"""The Sandbox protocol, checked alike on every backend (see tests/sandboxes/backends.py).

Known differences, each tested where it shows:
- A local sandbox runs as the current user: as root, read-only files can still be written.
- Docker runs the agent's shell as `agent` and `run` as root; local runs both as the user.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

import anyio
import pytest

from researchgym.errors import SandboxClosedError
from researchgym.sandboxes import (
    FileTooLargeError,
    LocalSandbox,
    OutsideSandboxError,
    Sandbox,
    SpecialFileError,
)
from tests.sandboxes.backends import any_sandbox, parametrize_backends

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["any_sandbox"]  # the fixture, imported for its tests

CLOSED = re.escape("The sandbox is closed; open a new one.")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    parametrize_backends(metafunc)


async def alive(sandbox: Sandbox, pid: int) -> bool:
    """Whether a process of the agent's shell exists and is not a zombie.

    Asked in the shell: an isolated local sandbox runs its shell and its trusted programs
    in PID namespaces of their own, where the same pid names different processes.
    """
    state = await sandbox.exec(f"ps -o stat= -p {pid}", timeout=10)
    return state.exit_code == 0 and not state.output.strip().startswith("Z")


async def eventually_dead(sandbox: Sandbox, pid: int) -> bool:
    for _ in range(50):
        if not await alive(sandbox, pid):
            return True
        await anyio.sleep(0.05)
    return False


def make_tree(root: Path) -> Path:
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "src" / "top.txt").write_text("top")
    (root / "src" / "pkg" / "inner.txt").write_text("inner")
    (root / "src" / "link").symlink_to("top.txt")
    (root / "src" / "run.sh").write_text("echo ran\n")
    (root / "src" / "run.sh").chmod(0o755)
    return root / "src"


async def test_shell_starts_in_the_workdir_with_the_environment(any_sandbox: Sandbox) -> None:
    result = await any_sandbox.exec('pwd; echo "$GREETING"', timeout=5)
    assert result.output == f"{any_sandbox.workdir}\nhi\n"


async def test_file_round_trip_is_byte_exact(any_sandbox: Sandbox) -> None:
    data = bytes(range(256)) * 3
    await any_sandbox.write_file("a/b/c.bin", data)
    assert await any_sandbox.read_file("a/b/c.bin") == data
    assert await any_sandbox.read_file(f"{any_sandbox.workdir}/a/b/c.bin") == data
    result = await any_sandbox.exec("wc -c < a/b/c.bin; echo x >> a/b/c.bin", timeout=5)
    assert (result.exit_code, result.output) == (0, "768\n")  # the agent may change it


async def test_file_written_by_the_shell_can_be_read(any_sandbox: Sandbox) -> None:
    await any_sandbox.exec("printf 'x\\000y' > out.bin", timeout=5)
    assert await any_sandbox.read_file("out.bin") == b"x\x00y"


async def test_file_errors_are_stdlib_errors(any_sandbox: Sandbox) -> None:
    with pytest.raises(FileNotFoundError):
        await any_sandbox.read_file("missing.txt")
    await any_sandbox.write_file("dir/file", b"")
    with pytest.raises(IsADirectoryError):
        await any_sandbox.read_file("dir")
    with pytest.raises(IsADirectoryError):
        await any_sandbox.write_file("dir", b"x")
    assert await any_sandbox.exists("dir/file")


async def test_the_file_api_follows_links_only_into_the_workspace_and_home(
    any_sandbox: Sandbox,
) -> None:
    home = any_sandbox.workdir.parent
    await any_sandbox.exec(
        "echo mine > a.txt && ln -s a.txt same && mkdir d && ln -s ../a.txt d/up && "
        "ln -s d dirlink && ln -s loop loop && ln -s /etc/hostname out && ln -s /etc etc && "
        f"echo h > {home}/h.txt && ln -s {home}/h.txt home",
        timeout=5,
    )
    for path in ("same", "d/up", "dirlink/up", "d/../a.txt", f"{any_sandbox.workdir}/same"):
        assert await any_sandbox.read_file(path) == b"mine\n", path
    assert await any_sandbox.read_file("home") == b"h\n"
    for path in ("out", "etc/hostname", "/etc/hostname"):
        with pytest.raises(OutsideSandboxError, match="outside the workspace and home"):
            await any_sandbox.read_file(path)
        with pytest.raises(OutsideSandboxError):
            await any_sandbox.write_file(path, b"x")
    with pytest.raises(OSError, match="Too many levels of symbolic links"):
        await any_sandbox.read_file("loop")
    await any_sandbox.write_file("dirlink/up", b"through\n")  # written where the link leads
    assert (await any_sandbox.exec("cat a.txt; stat -c %F d/up", timeout=5)).output == (
        "through\nsymbolic link\n"
    )


async def test_a_read_stops_at_its_limit_and_at_special_files(any_sandbox: Sandbox) -> None:
    await any_sandbox.exec("truncate -s 3G sparse && mkfifo pipe && printf 12345 > five", timeout=5)
    with pytest.raises(FileTooLargeError) as raised:
        await any_sandbox.read_file("sparse", limit=2**20)
    assert (raised.value.size, raised.value.limit) == (3 * 2**30, 2**20)
    with pytest.raises(FileTooLargeError, match="5 bytes, over the limit of 4 bytes"):
        await any_sandbox.read_file("five", limit=4)
    assert await any_sandbox.read_file("five", limit=5) == b"12345"
    for call in (any_sandbox.read_file("pipe"), any_sandbox.write_file("pipe", b"x")):
        with pytest.raises(SpecialFileError, match="not a regular file"):
            await call  # and nothing blocks on the pipe
    with pytest.raises(OutsideSandboxError):
        await any_sandbox.read_file("/dev/null")


async def test_write_keeps_the_mode_and_exclusive_refuses_what_exists(
    any_sandbox: Sandbox,
) -> None:
    await any_sandbox.exec(
        "echo old > run.sh && chmod 751 run.sh && ln -s nowhere dangling", timeout=5
    )
    await any_sandbox.write_file("run.sh", b"echo new\n")
    assert (await any_sandbox.exec("stat -c %a run.sh && ./run.sh", timeout=5)).output == (
        "751\nnew\n"
    )
    for path in ("run.sh", "dangling"):
        with pytest.raises(FileExistsError):
            await any_sandbox.write_file(path, b"", exclusive=True)
    await any_sandbox.write_file("new/dir/made.txt", b"", exclusive=True)
    await any_sandbox.write_file("dangling", b"made\n")  # a dangling link makes its target
    assert (await any_sandbox.exec("cat nowhere new/dir/made.txt", timeout=5)).output == "made\n"


async def test_the_file_helper_comes_back_after_the_agent_kills_it(any_sandbox: Sandbox) -> None:
    await any_sandbox.write_file("a.txt", b"a")
    await any_sandbox.exec("pkill -9 -f 'python3 -I -S' || true", timeout=5)
    assert await any_sandbox.read_file("a.txt") == b"a"


async def test_exists_sees_files_directories_and_dangling_links(any_sandbox: Sandbox) -> None:
    assert not await any_sandbox.exists("made/later.txt")
    await any_sandbox.exec(
        "mkdir made && touch made/later.txt && ln -s nowhere made/link", timeout=5
    )
    for path in ("made", "made/later.txt", "made/link", f"{any_sandbox.workdir}/made/later.txt"):
        assert await any_sandbox.exists(path), path


async def test_upload_copies_a_directory_s_contents(any_sandbox: Sandbox, tmp_path: Path) -> None:
    source = await anyio.to_thread.run_sync(make_tree, tmp_path)
    await any_sandbox.upload(source, "data")
    result = await any_sandbox.exec(
        "cat data/top.txt data/pkg/inner.txt; readlink data/link; ./data/run.sh", timeout=5
    )
    assert result.output == "topinnertop.txt\nran\n"  # modes are kept: run.sh runs
    await any_sandbox.exec("echo more > data/new.txt", timeout=5)
    assert await any_sandbox.read_file("data/new.txt") == b"more\n"


async def test_upload_into_the_workdir_itself(any_sandbox: Sandbox, tmp_path: Path) -> None:
    source = await anyio.to_thread.run_sync(make_tree, tmp_path)
    await any_sandbox.upload(source, str(any_sandbox.workdir))
    assert (await any_sandbox.exec("cat top.txt; touch mine", timeout=5)).output == "top"
    assert await any_sandbox.exists("mine")


async def test_upload_read_only_refuses_the_agent(any_sandbox: Sandbox, tmp_path: Path) -> None:
    source = await anyio.to_thread.run_sync(make_tree, tmp_path)
    await any_sandbox.upload(source, "data", read_only=True)
    modes = await any_sandbox.exec("stat -c %a data data/top.txt data/pkg", timeout=5)
    assert [int(mode, 8) & 0o222 for mode in modes.output.split()] == [0, 0, 0]
    if isinstance(any_sandbox, LocalSandbox) and os.geteuid() == 0:
        return  # known difference: a local sandbox run by root can write anyway
    result = await any_sandbox.exec(
        "echo x > data/top.txt; echo x > data/new.txt; rm -f data/top.txt; chmod u+w data",
        timeout=5,
    )
    assert result.exit_code != 0
    assert await any_sandbox.read_file("data/top.txt") == b"top"
    assert not await any_sandbox.exists("data/new.txt")


async def test_upload_of_a_missing_directory_fails(any_sandbox: Sandbox, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        await any_sandbox.upload(tmp_path / "nope", "data")
    await anyio.Path(tmp_path / "file").write_text("")
    with pytest.raises(NotADirectoryError):
        await any_sandbox.upload(tmp_path / "file", "data")


async def test_private_dir_takes_trusted_files(any_sandbox: Sandbox, tmp_path: Path) -> None:
    source = await anyio.to_thread.run_sync(make_tree, tmp_path)
    target = f"{any_sandbox.private_dir}/eval-1"
    await any_sandbox.upload(source, target)
    ran = await any_sandbox.run(["cat", "top.txt"], timeout=10, cwd=target)
    assert (ran.exit_code, ran.output) == (0, "top")
    await any_sandbox.remove(target)
    assert not await any_sandbox.exists(target)


async def test_remove_files_trees_and_missing_paths(any_sandbox: Sandbox) -> None:
    await any_sandbox.write_file("t/a/b.txt", b"b")
    await any_sandbox.write_file("f.txt", b"f")
    await any_sandbox.exec("chmod 000 t/a", timeout=5)
    await any_sandbox.remove("t")
    await any_sandbox.remove("f.txt")
    await any_sandbox.remove("never-there")
    assert (await any_sandbox.exec("ls -A", timeout=5)).output == ""


async def test_exec_timeout_keeps_the_sandbox_usable(any_sandbox: Sandbox) -> None:
    started = anyio.current_time()
    result = await any_sandbox.exec("cd /tmp; sleep 30", timeout=0.3)
    assert anyio.current_time() - started < 2
    assert (result.timed_out, result.exit_code) == (True, 137)
    assert (await any_sandbox.exec("pwd", timeout=5)).output == "/tmp\n"


async def test_timeout_spares_background_jobs_of_earlier_commands(any_sandbox: Sandbox) -> None:
    started = await any_sandbox.exec("sleep 1000 >/dev/null 2>&1 & echo $!", timeout=5)
    earlier_job = int(started.output)
    await anyio.sleep(0.3)  # the job must be older than the next command, by a margin
    result = await any_sandbox.exec("sleep 1000 & echo $! > job.pid; sleep 30", timeout=0.3)
    assert result.timed_out
    assert await eventually_dead(any_sandbox, int(await any_sandbox.read_file("job.pid")))
    assert await alive(any_sandbox, earlier_job)


async def test_run_is_outside_the_shell_session(any_sandbox: Sandbox) -> None:
    await any_sandbox.exec("cd /; X=1", timeout=5)
    await any_sandbox.write_file("sub/marker", b"")
    result = await any_sandbox.run(["sh", "-c", 'pwd; echo "x$X"; ls; exit 4'], timeout=5)
    assert (result.exit_code, result.output) == (4, f"{any_sandbox.workdir}\nx\nsub\n")
    result = await any_sandbox.run(["ls"], timeout=5, cwd="sub")
    assert result.output == "marker\n"
    result = await any_sandbox.run(["sh", "-c", 'echo "$EXTRA"'], timeout=5, env={"EXTRA": "x"})
    assert result.output == "x\n"


async def test_run_timeout_kills_what_it_started(any_sandbox: Sandbox) -> None:
    script = "sleep 30 & echo $! > /tmp/child.pid; wait"
    started = anyio.current_time()
    result = await any_sandbox.run(["sh", "-c", script], timeout=0.3)
    assert anyio.current_time() - started < 3
    assert (result.exit_code, result.timed_out) == (137, True)
    child = int((await any_sandbox.run(["cat", "/tmp/child.pid"], timeout=5)).output)
    assert await eventually_dead(any_sandbox, child)


async def test_run_ends_when_the_program_ends_even_if_a_child_holds_its_output(
    any_sandbox: Sandbox,
) -> None:
    started = anyio.current_time()
    result = await any_sandbox.run(
        ["sh", "-c", "sleep 30 & echo $! > /tmp/child.pid; echo done"], timeout=20
    )
    assert anyio.current_time() - started < 5
    assert (result.exit_code, result.timed_out, result.output) == (0, False, "done\n")
    child = int((await any_sandbox.run(["cat", "/tmp/child.pid"], timeout=5)).output)
    assert await eventually_dead(any_sandbox, child)


async def test_run_of_a_missing_program_is_a_result(any_sandbox: Sandbox) -> None:
    result = await any_sandbox.run(["no-such-program-x"], timeout=5)
    assert result.exit_code == 127
    assert "no-such-program-x" in result.output


async def test_use_after_close_raises(any_sandbox: Sandbox, tmp_path: Path) -> None:
    await any_sandbox.aclose()
    await any_sandbox.aclose()
    calls = [
        any_sandbox.exec("echo", timeout=1),
        any_sandbox.run(["true"], timeout=1),
        any_sandbox.read_file("x"),
        any_sandbox.write_file("x", b""),
        any_sandbox.exists("x"),
        any_sandbox.upload(tmp_path, "x"),
        any_sandbox.remove("x"),
    ]
    for call in calls:
        with pytest.raises(SandboxClosedError, match=f"^{CLOSED}$"):
            await call


async def test_trusted_runs_ignore_what_the_agent_left_in_its_home(any_sandbox: Sandbox) -> None:
    user_site = "python3 -c 'import site; print(site.getusersitepackages())'"
    plant = (
        f"site=$({user_site}) && mkdir -p $site && echo 'import os; "
        'open("/tmp/pwned-%d" % os.getuid(), "w").close()\' > $site/usercustomize.py'
    )
    assert (await any_sandbox.exec(plant, timeout=10)).exit_code == 0
    check = 'echo "$HOME"; python3 -c "import site; print(site.ENABLE_USER_SITE)"'
    ran = await any_sandbox.run(["sh", "-c", check], timeout=10)
    home, enabled = ran.output.split()
    assert home != str(any_sandbox.workdir.parent) and enabled != "True"
    trusted = (await any_sandbox.run(["id", "-u"], timeout=10)).output.strip()
    assert not await any_sandbox.exists(f"/tmp/pwned-{trusted}")


async def test_read_private_reads_only_the_private_directory(
    any_sandbox: Sandbox, tmp_path: Path
) -> None:
    (tmp_path / "eval").mkdir()
    (tmp_path / "eval" / "result.json").write_text('{"Score": 1}')
    target = f"{any_sandbox.private_dir}/eval-2"
    await any_sandbox.upload(tmp_path / "eval", target)
    assert await any_sandbox.read_private(f"{target}/result.json") == b'{"Score": 1}'
    with pytest.raises(FileTooLargeError):
        await any_sandbox.read_private(f"{target}/result.json", limit=4)
    with pytest.raises(FileNotFoundError):
        await any_sandbox.read_private(f"{target}/nothing.json")
    await any_sandbox.write_file("mine.json", b"{}")
    with pytest.raises(ValueError, match="is not under the private directory"):
        await any_sandbox.read_private("mine.json")
