"""What only the Docker backend does: container settings, isolation, limits, pool, clean-up."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiodocker
import anyio
import pytest

from researchgym.errors import DockerUnavailableError, ImageMissingError, SandboxError
from researchgym.sandboxes import (
    DISK_ROOT,
    OutsideSandboxError,
    SandboxSpec,
    container_config,
    disk_support,
    open_docker,
    open_docker_sandboxes,
    prune_sandboxes,
    start_docker_sandbox,
)
from tests.sandboxes.backends import TEST_LABELS

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from researchgym.sandboxes import DockerSandbox


@pytest.fixture
def anyio_backend() -> str:
    """aiodocker needs asyncio."""
    return "asyncio"


def test_container_settings_isolate_the_agent() -> None:
    config = container_config(
        SandboxSpec(cpus=1.5, memory="512m"), image="img:1", labels={"a": "b"}, cpuset=[1, 3]
    )
    host = config["HostConfig"]
    assert (config["Image"], config["Labels"], config["NetworkDisabled"]) == (
        "img:1",
        {"a": "b"},
        True,
    )
    assert host["NetworkMode"] == "none"
    assert (host["Memory"], host["MemorySwap"]) == (512 * 2**20, 512 * 2**20)
    assert host["NanoCpus"] == 1_500_000_000
    assert host["PidsLimit"] > 0
    assert host["CapDrop"] == ["ALL"]
    assert host["CapAdd"] == [
        "SETUID",
        "SETGID",
        "KILL",
    ]  # root's, to run and stop the agent's code
    assert host["SecurityOpt"] == ["no-new-privileges"]
    assert host["CpusetCpus"] == "1,3"
    assert "DeviceRequests" not in host
    assert host["ReadonlyRootfs"] is True  # what is written goes to the places below
    assert host["Mounts"] == [
        {"Type": "volume", "Target": target}
        for target in ("/home/agent", "/tmp", "/var/tmp", "/var/lib/researchgym")
    ]


def test_gpus_are_requested_when_asked_for() -> None:
    config = container_config(SandboxSpec(gpus=2), image="img", labels={})
    assert config["HostConfig"]["DeviceRequests"] == [
        {"Driver": "", "Count": 2, "Capabilities": [["gpu"]]}
    ]


def test_network_only_when_asked_for() -> None:
    config = container_config(SandboxSpec(network=True), image="img", labels={})
    assert (config["HostConfig"]["NetworkMode"], config["NetworkDisabled"]) == ("bridge", False)


def test_a_bad_memory_size_says_how_to_write_it() -> None:
    with pytest.raises(
        ValueError, match=r"^'lots' is not a memory size; write it like 512m or 2g\.$"
    ):
        container_config(SandboxSpec(memory="lots"), image="img", labels={})


@pytest.fixture
async def docker_sandbox(sandbox_image: str) -> AsyncIterator[DockerSandbox]:
    config = container_config(SandboxSpec(memory="256m"), image=sandbox_image, labels=TEST_LABELS)
    async with (
        open_docker() as docker,
        await start_docker_sandbox(docker, config, memory="256m") as sb,
    ):
        yield sb


async def test_the_agent_is_unprivileged_and_offline(docker_sandbox: DockerSandbox) -> None:
    result = await docker_sandbox.exec(
        "id -un; grep CapEff /proc/self/status; grep NoNewPrivs /proc/self/status; "
        "ls /sys/class/net; grep -E 'CapPrm|CapAmb' /proc/self/status; "
        "cat /var/lib/researchgym 2>&1; ls /var/lib/researchgym 2>&1",
        timeout=10,
    )
    lines = result.output.splitlines()
    assert lines[0] == "agent"
    assert lines[1].split() == ["CapEff:", "0000000000000000"]
    assert lines[2].split() == ["NoNewPrivs:", "1"]
    assert lines[3] == "lo"  # no network but loopback
    # root keeps a few capabilities (container_config); the agent gets none of them
    assert [line.split() for line in lines[4:6]] == [
        ["CapPrm:", "0000000000000000"],
        ["CapAmb:", "0000000000000000"],
    ]
    assert "Permission denied" in lines[-1]


async def test_running_out_of_memory_is_said(docker_sandbox: DockerSandbox) -> None:
    result = await docker_sandbox.exec("python3 -c 'x = bytearray(600 * 2**20)'", timeout=30)
    assert (result.exit_code, result.timed_out) == (137, False)
    assert result.output.endswith("\n[Killed: the sandbox ran out of memory (its limit is 256m).]")
    assert (await docker_sandbox.exec("echo alive", timeout=5)).output == "alive\n"


async def test_closing_removes_the_container(docker_sandbox: DockerSandbox) -> None:
    container = docker_sandbox.container
    await docker_sandbox.aclose()
    with pytest.raises(aiodocker.DockerError) as gone:
        await container.show()
    assert gone.value.status == 404


async def test_a_container_that_cannot_start_says_why(sandbox_image: str) -> None:
    labels = {**TEST_LABELS, "researchgym.run": f"tests-unstartable-{os.getpid()}"}
    config = container_config(SandboxSpec(), image=sandbox_image, labels=labels, cpuset=[999])
    async with open_docker() as docker:
        with pytest.raises(SandboxError, match=r"^Docker could not (create|start) the sandbox: "):
            await start_docker_sandbox(docker, config)
        run = labels["researchgym.run"]
        left = await docker.containers.list(all=True, filters={"label": [f"researchgym.run={run}"]})
    assert left == []


async def test_no_daemon_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    message = (
        "Cannot reach the Docker daemon: nothing listens on unix:///nonexistent/docker.sock. "
        "Start it (for example `dockerd &`), check that you may use its socket (DOCKER_HOST, "
        "the docker group), or run with --sandbox local."
    )
    with pytest.raises(DockerUnavailableError, match=f"^{re.escape(message)}$"):
        async with open_docker():
            pass


async def test_a_missing_image_says_how_to_build_it() -> None:
    message = (
        "The sandbox image researchgym/sandbox:nope is not built. "
        "Build it with: researchgym sandbox build"
    )
    with pytest.raises(ImageMissingError, match=f"^{re.escape(message)}$"):
        async with open_docker_sandboxes(run_id="tests", image="researchgym/sandbox:nope"):
            pass


async def test_warm_pool_hands_out_started_sandboxes(sandbox_image: str) -> None:
    spec = SandboxSpec(memory="256m")
    async with open_docker_sandboxes(
        run_id="tests-pool", image=sandbox_image, pool_size=2, concurrent_starts=2
    ) as provider:
        with anyio.fail_after(30):
            await provider.warm(spec, 3)
        assert provider.statistics(spec) == (2, 0, 3)
        started = anyio.current_time()
        first = await provider.open(spec)
        assert anyio.current_time() - started < 0.05  # no start to wait for
        async with first:
            assert (await first.exec("echo warm", timeout=5)).output == "warm\n"
        with anyio.fail_after(30):
            await provider.warm(spec, 0)  # the pool refills to what is expected, not beyond
        assert provider.statistics(spec) == (2, 0, 2)
    async with open_docker() as docker:
        left = await docker.containers.list(
            all=True, filters={"label": ["researchgym.run=tests-pool"]}
        )
    assert left == []  # the warm sandboxes nobody took are removed with the provider


async def test_prune_removes_leftovers_but_not_live_runs(sandbox_image: str) -> None:
    run = f"tests-prune-{os.getpid()}"
    here = socket.gethostname()
    owners = {"live": f"{here}:{os.getpid()}", "dead": f"{here}:999999999", "other": "far:1"}
    async with open_docker() as docker:
        made = {}
        for role, owner in owners.items():
            labels = {**TEST_LABELS, "researchgym.run": run, "researchgym.owner": owner}
            config = container_config(SandboxSpec(), image=sandbox_image, labels=labels)
            made[role] = await docker.containers.create(config=config, name=f"{run}-{role}")
        try:
            result = await prune_sandboxes(run_id=run)
            assert result.removed == [f"{run}-dead"]
            assert sorted(result.kept) == [f"{run}-live", f"{run}-other"]
            result = await prune_sandboxes(run_id=run, everything=True)
            assert sorted(result.removed) == [f"{run}-live", f"{run}-other"]
            for container in made.values():
                with pytest.raises(aiodocker.DockerError):
                    await container.show()
        finally:
            for container in made.values():
                with contextlib.suppress(aiodocker.DockerError):
                    await container.delete(force=True)


async def test_task_data_is_mounted_read_only(sandbox_image: str, tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.csv").write_text("x,y\n1,2\n")
    spec = SandboxSpec(memory="256m", data=tmp_path / "data")
    async with (
        open_docker_sandboxes(run_id="tests-data", image=sandbox_image) as provider,
        await provider.open(spec) as sandbox,
    ):
        assert await sandbox.read_file("data/train.csv") == b"x,y\n1,2\n"
        for attack in (
            "echo forged > data/train.csv",
            "echo new > data/new.csv",
            "rm -f data/train.csv",
            "mv data data.orig",
            "chmod u+w data",
        ):
            result = await sandbox.exec(attack, timeout=5)
            assert result.exit_code != 0, attack
        listing = await sandbox.exec("cat data/train.csv; ls data", timeout=5)
        assert listing.output == "x,y\n1,2\ntrain.csv\n"


async def test_trusted_runs_ignore_what_the_agent_left_in_its_home(
    docker_sandbox: DockerSandbox,
) -> None:
    plant = (
        "mkdir -p ~/.local/lib/python3.11/site-packages && "
        'echo \'open("/tmp/pwned", "w").close()\' '
        "> ~/.local/lib/python3.11/site-packages/usercustomize.py && "
        "python3 -c pass && ls /tmp/pwned && rm /tmp/pwned"
    )
    assert (await docker_sandbox.exec(plant, timeout=10)).output == "/tmp/pwned\n"  # it works
    ran = await docker_sandbox.run(["sh", "-c", 'echo "$HOME"; id -u; python3 -c pass'], timeout=10)
    assert ran.output == "/root\n0\n"
    assert not await docker_sandbox.exists("/tmp/pwned")


async def test_timeouts_ignore_what_the_agent_left_in_its_home(
    docker_sandbox: DockerSandbox,
) -> None:
    # the sandbox's own python helpers must not run the agent's code (it could hang them)
    plant = (
        "mkdir -p ~/.local/lib/python3.11/site-packages && "
        "printf 'import os, time\\nif \"RGYM_SHELL\" not in os.environ: time.sleep(600)\\n' "
        "> ~/.local/lib/python3.11/site-packages/usercustomize.py"
    )
    assert (await docker_sandbox.exec(plant, timeout=10)).exit_code == 0
    with anyio.fail_after(10):
        result = await docker_sandbox.exec("sleep 100", timeout=0.5)
    assert result.timed_out and "restarted" not in result.output


async def test_pool_waits_for_its_own_starts_rather_than_starting_more(
    sandbox_image: str,
) -> None:
    run = f"tests-pool-race-{os.getpid()}"
    spec = SandboxSpec(memory="256m")
    async with open_docker_sandboxes(
        run_id=run, image=sandbox_image, pool_size=2, concurrent_starts=4
    ) as provider:
        provider.expect(spec, 4)  # two start for the pool at once
        opened: list[DockerSandbox] = []

        async def take() -> None:
            opened.append(await provider.open(spec))

        async with anyio.create_task_group() as tg:
            for _ in range(4):
                tg.start_soon(take)
        try:
            assert len(opened) == 4
            assert provider.statistics(spec) == (0, 0, 0)
            async with open_docker() as docker:
                labels = {"label": [f"researchgym.run={run}"]}
                started = await docker.containers.list(all=True, filters=labels)
            assert len(started) == 4  # none wasted
        finally:
            for sandbox in opened:
                await sandbox.aclose()


async def test_containers_are_named_for_their_episode(sandbox_image: str) -> None:
    spec = SandboxSpec(memory="256m")
    async with open_docker_sandboxes(
        run_id="tests-names", image=sandbox_image, pool_size=1
    ) as provider:
        async with await provider.open(spec, name="rgym-run/ep 1") as cold:
            info = await cold.container.show()
            assert info["Name"] == "/rgym-run-ep-1"
            assert info["Config"]["Labels"]["researchgym.episode"] == "rgym-run/ep 1"
        with anyio.fail_after(30):
            await provider.warm(spec, 1)
        async with await provider.open(spec, name="rgym-ep-2") as warm:
            for _ in range(200):  # renamed in the background
                if (await warm.container.show())["Name"] == "/rgym-ep-2":
                    break
                await anyio.sleep(0.02)
            else:
                pytest.fail("the warm container was never renamed")


async def test_files_are_read_and_written_with_the_agents_rights(
    docker_sandbox: DockerSandbox, tmp_path: Path
) -> None:
    await docker_sandbox.run(
        ["sh", "-c", "echo secret > /var/lib/researchgym/key; chmod 600 /var/lib/researchgym/key"],
        timeout=10,
    )
    (tmp_path / "sealed").mkdir()
    (tmp_path / "sealed" / "root.txt").write_text("secret")
    (tmp_path / "sealed" / "root.txt").chmod(0o600)
    await docker_sandbox.upload(tmp_path / "sealed", "sealed", read_only=True)  # root's, 0400
    await docker_sandbox.exec("ln -s /var/lib/researchgym/key link", timeout=10)
    with pytest.raises(OutsideSandboxError):
        await docker_sandbox.read_file("link")
    with pytest.raises(PermissionError) as denied:
        await docker_sandbox.read_file("sealed/root.txt")  # in the workspace, but root's
    assert denied.value.errno == errno.EACCES
    with pytest.raises(PermissionError):
        await docker_sandbox.write_file("sealed/root.txt", b"mine")
    await docker_sandbox.write_file("made/new.txt", b"new")
    owners = await docker_sandbox.exec(
        "stat -c '%U %a' made made/new.txt sealed/root.txt", timeout=10
    )
    assert owners.output == "agent 755\nagent 644\nroot 400\n"


async def test_the_system_is_read_only_even_for_root(docker_sandbox: DockerSandbox) -> None:
    """No path on the evaluator's Python path, nor any system path, can be written."""
    places = [
        "/usr/lib/python3/dist-packages/evil.pth",
        "/usr/local/lib/python3.11/dist-packages/sitecustomize.py",
        "/usr/lib/python3.11/sitecustomize.py",
        "/etc/profile.d/evil.sh",
        "/root/.bashrc",
    ]
    script = 'for p in "$@"; do touch "$p" 2>/dev/null && echo "wrote $p"; done; echo done'
    as_agent = await docker_sandbox.exec(f"set -- {' '.join(places)}; {script}", timeout=10)
    as_root = await docker_sandbox.run(["sh", "-c", script, "-", *places], timeout=10)
    assert (as_agent.output, as_root.output) == ("done\n", "done\n")
    writable = "touch ~/a /tmp/b /var/tmp/c workspace-file && echo ok"
    assert (await docker_sandbox.exec(writable, timeout=10)).output == "ok\n"


async def volumes(docker: aiodocker.Docker) -> set[str]:
    listed: dict[str, Any] = await docker.volumes.list()  # type: ignore[no-untyped-call]
    return {volume["Name"] for volume in listed["Volumes"] or []}


async def test_volumes_go_with_the_container(sandbox_image: str) -> None:
    async with open_docker() as docker:
        before = await volumes(docker)
        config = container_config(SandboxSpec(), image=sandbox_image, labels=TEST_LABELS)
        sandbox = await start_docker_sandbox(docker, config)
        mounts = (await sandbox.container.show())["Mounts"]
        used = {m["Name"] for m in mounts if m["Type"] == "volume"}
        assert len(used) == 4 and not used & before
        await sandbox.aclose()
        assert not used & await volumes(docker)


needs_disks = pytest.mark.skipif(
    not disk_support().enforced,
    reason=f"no disk limits here ({disk_support().detail}); CI runs as root, where they are",
)


def mounted(folder: Path) -> bool:
    """Whether a disk's file system is mounted (else its folder must be gone too)."""
    if f" {folder / 'mnt'} " in Path("/proc/mounts").read_text():
        return True
    assert not folder.exists()
    return False


@needs_disks
async def test_a_disk_filler_gets_no_space_left_in_its_own_sandbox(sandbox_image: str) -> None:
    spec = SandboxSpec(memory="256m", disk="64m")
    free = shutil.disk_usage(DISK_ROOT).free
    async with open_docker_sandboxes(run_id="tests-disk", image=sandbox_image) as provider:
        sandbox = await provider.open(spec)
        assert sandbox.disk is not None
        filled = await sandbox.exec(
            "dd if=/dev/zero of=big bs=1M count=200 2>&1; "
            "dd if=/dev/zero of=/tmp/more bs=1M count=10 2>&1; df -k . | tail -1",
            timeout=60,
        )
        assert filled.output.count("No space left on device") == 2
        assert int(filled.output.split()[-3]) < 1024  # kilobytes left on the disk
        used = free - shutil.disk_usage(DISK_ROOT).free
        assert used < 80 * 2**20, f"the host lost {used} bytes"
        assert (await sandbox.exec("rm big && echo ok > f && cat f", timeout=10)).output == "ok\n"
        folder = sandbox.disk.folder
        assert mounted(folder)
        await sandbox.aclose()
        assert not mounted(folder)


@needs_disks
async def test_prune_removes_the_disks_of_runs_that_died() -> None:
    make = (
        "import anyio\n"
        "from researchgym.sandboxes import open_disk\n"
        "disk = anyio.run(lambda: open_disk(2**24, owner=(0, 0)))\n"
        "print(disk.folder)\n"
    )
    made = await anyio.run_process([sys.executable, "-c", make])  # exits without closing it
    folder = Path(made.stdout.decode().strip())
    assert mounted(folder)
    result = await prune_sandboxes(run_id="tests-no-such-run")
    assert folder.name in result.disks
    assert not mounted(folder)


async def test_a_container_killed_from_outside_says_so(docker_sandbox: DockerSandbox) -> None:
    await docker_sandbox.container.kill()
    with pytest.raises(
        SandboxError,
        match=r"^The sandbox's shell is gone: the sandbox was killed \(exit 137\); open a new "
        r"sandbox\.$",
    ):
        await docker_sandbox.exec("echo hi", timeout=10)
