"""What only the Docker backend does: container settings, isolation, limits, pool, clean-up."""

from __future__ import annotations

import contextlib
import re
from typing import TYPE_CHECKING, Any

import aiodocker
import anyio
import pytest

from researchgym.errors import DockerUnavailableError, ImageMissingError, SandboxError
from researchgym.sandboxes import (
    SandboxSpec,
    container_config,
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
    assert host["SecurityOpt"] == ["no-new-privileges"]
    assert host["CpusetCpus"] == "1,3"
    assert "DeviceRequests" not in host


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
        "ls /sys/class/net; cat /var/lib/researchgym 2>&1; ls /var/lib/researchgym 2>&1",
        timeout=10,
    )
    lines = result.output.splitlines()
    assert lines[0] == "agent"
    assert lines[1].split() == ["CapEff:", "0000000000000000"]
    assert lines[2].split() == ["NoNewPrivs:", "1"]
    assert lines[3] == "lo"  # no network but loopback
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
    config = container_config(SandboxSpec(), image=sandbox_image, labels=TEST_LABELS, cpuset=[999])
    async with open_docker() as docker:
        with pytest.raises(SandboxError, match=r"^Docker could not (create|start) the sandbox: "):
            await start_docker_sandbox(docker, config)
        left = await docker.containers.list(all=True, filters={"label": ["researchgym.run=tests"]})
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
    orphan_labels: dict[str, Any] = {**TEST_LABELS, "researchgym.owner": "elsewhere:1"}
    live_labels: dict[str, Any] = {**TEST_LABELS}
    async with open_docker() as docker:
        live = await docker.containers.create(
            config=container_config(SandboxSpec(), image=sandbox_image, labels=live_labels)
            | {"Labels": {**live_labels, "researchgym.owner": _me()}}
        )
        orphan = await docker.containers.create(
            config=container_config(SandboxSpec(), image=sandbox_image, labels=orphan_labels)
        )
        try:
            names = [(await c.show())["Name"].lstrip("/") for c in (live, orphan)]
            result = await prune_sandboxes()
            assert names[1] in result.removed and names[0] in result.kept
            with pytest.raises(aiodocker.DockerError):
                await orphan.show()
            await live.show()  # still there: its owner (this process) runs
            assert names[0] in (await prune_sandboxes(everything=True)).removed
            with pytest.raises(aiodocker.DockerError):
                await live.show()
        finally:
            for container in (live, orphan):
                with contextlib.suppress(aiodocker.DockerError):
                    await container.delete(force=True)


def _me() -> str:
    import os
    import socket

    return f"{socket.gethostname()}:{os.getpid()}"


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
