"""Attacks on the host's resources: a disk filler, a fork bomb, processes that try to
outlive their commands and their sandbox. Each sandbox must take the harm alone, and the
episode (and the engine) go on."""

from __future__ import annotations

import os
import shutil
from typing import TYPE_CHECKING

import anyio
import pytest

from researchgym.sandboxes import DISK_ROOT, disk_support, local_isolation
from tests.security.conftest import MEMORY_BUDGET, attack, make_secret_task

if TYPE_CHECKING:
    from pathlib import Path

needs_disks = pytest.mark.skipif(
    not disk_support().enforced,
    reason=f"no disk limits here ({disk_support().detail}); CI runs as root, where they are",
)


@needs_disks
async def test_a_disk_filler_fills_its_own_disk_only(
    backend: str, tmp_path: Path, secret: str
) -> None:
    task = make_secret_task(tmp_path / "task", secret)
    free = shutil.disk_usage(DISK_ROOT).free

    async def host_lost() -> int:
        return free - (await anyio.to_thread.run_sync(shutil.disk_usage, DISK_ROOT)).free

    commands = [
        "dd if=/dev/zero of=fill bs=1M count=4096 2>&1 | head -1; "
        "dd if=/dev/zero of=/tmp/fill bs=1M count=64 2>&1 | head -1",
        "df -k . | tail -1",
        "rm fill /tmp/fill && echo 'def answer():\n    return 0' > answer.py && echo written",
        "validate",
    ]
    done = await attack(
        tmp_path, backend, commands, task=task, sandbox={"disk": "64m"}, probe=host_lost
    )
    assert done.outputs[0].count("No space left on device") == 2
    assert int(done.outputs[1].split()[3]) < 1024  # kilobytes left on the sandbox's disk
    assert max(done.probes) < 96 * 2**20, done.probes  # the host gave at most the disk
    assert done.outputs[2] == "written\n"  # and the sandbox works again once it is cleared
    assert (done.scores, done.exit_status) == ([0.0, 0.0], "submitted")


def limits_hold(backend: str) -> None:
    if backend == "local" and not local_isolation().user:
        pytest.skip("local sandboxes limit processes only under root; CI runs as root")


async def test_a_fork_bomb_stays_in_its_sandbox(backend: str, tmp_path: Path, secret: str) -> None:
    """The bomb may leave its own sandbox unable to start the evaluator (its processes take
    every process slot), so the episode may end in an error; nothing else is hurt."""
    limits_hold(backend)
    task = make_secret_task(tmp_path / "task", secret, timeouts={"command": 5})

    async def shells() -> int:  # the bomb's processes are copies of the agent's shell
        return len(await anyio.to_thread.run_sync(running, "bash\0--noprofile\0--norc\0"))

    commands = ["bomb() { bomb | bomb & }; bomb", "echo alive", "validate"]
    bombed = await attack(
        tmp_path, backend, commands, task=task, sandbox={"pids": 64}, probe=shells
    )
    assert 4 < max(bombed.probes) <= 64, bombed.probes  # it went off, and met the limit
    assert all(score == 0.0 for score in bombed.scores)
    assert bombed.memory_rise < MEMORY_BUDGET
    after = await attack(tmp_path / "after", backend, ["echo ok"], task=task)
    assert (after.outputs[0], after.scores, after.exit_status) == ("ok\n", [0.0], "submitted")


async def test_no_process_outlives_its_sandbox(backend: str, tmp_path: Path, secret: str) -> None:
    task = make_secret_task(tmp_path / "task", secret)
    token = f"{os.getpid()}.{len(str(tmp_path))}1"  # a sleep nobody else runs

    async def count() -> int:
        return len(await anyio.to_thread.run_sync(running, f"sleep\0{token}\0"))

    commands = [
        f"(setsid sleep {token} &); (nohup sleep {token} >/dev/null 2>&1 &)",
        f"python3 -c 'import os\nif os.fork() == 0:\n os.setsid()\n "
        f'os.execvp("sleep", ["sleep", "{token}"])\'',
        f'echo \'import subprocess; subprocess.Popen(["sleep", "{token}"], '
        "start_new_session=True)' >> answer.py",
        "validate",
    ]
    done = await attack(tmp_path, backend, commands, task=task, probe=count)
    assert done.probes[1] >= 3  # they ran, beside the agent's commands
    for _ in range(250):  # the container's removal or the namespace's end, as the kernel goes
        if not await count():
            break
        await anyio.sleep(0.02)
    assert await count() == 0


def running(cmdline: str) -> list[int]:
    """Host processes whose command line is ``cmdline`` (arguments ended by NULs)."""
    found = []
    for name in os.listdir("/proc"):
        try:
            with open(f"/proc/{name}/cmdline", "rb") as file:
                if file.read() == cmdline.encode():
                    found.append(int(name))
        except (OSError, ValueError):
            continue
    return found
