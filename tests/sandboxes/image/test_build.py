"""The sandbox image: what is in it, how it is built, and what a build says when it cannot."""

from __future__ import annotations

import hashlib
import io
import json
import re
import tarfile
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import aiodocker
import anyio
import pytest

import researchgym
from researchgym.errors import (
    BuildToolMissingError,
    DockerUnavailableError,
    ImageBuildError,
    UnknownComponentError,
)
from researchgym.sandboxes.docker_api import open_docker
from researchgym.sandboxes.image import (
    VERSION_LABEL,
    _dockerfile,
    _rootfs,
    build_image,
    image_config,
    image_name,
    sandbox_status,
)
from researchgym.sandboxes.image._apt_sources import read_host_sources
from researchgym.sandboxes.image._docker_archive import archive_chunks

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

asyncio_only = pytest.mark.parametrize("anyio_backend", ["asyncio"])  # aiodocker needs asyncio

TEST_LABELS = {"researchgym.managed": "1", "researchgym.run": "tests"}


class Ran:
    """What a command run in a throwaway container gave."""

    def __init__(self, code: int, output: str) -> None:
        self.code = code
        self.output = output


async def run_in(image: str, script: str, *, user: str = "root") -> Ran:
    """Run ``sh -c script`` in a throwaway container without network; remove it in any case."""
    async with open_docker() as docker:
        config: dict[str, Any] = {
            "Image": image,
            "Cmd": ["sh", "-c", script],
            "User": user,
            "Labels": TEST_LABELS,
            "HostConfig": {"NetworkMode": "none"},
        }
        container = await docker.containers.create(config)
        try:
            await container.start()
            with anyio.fail_after(60):
                result = await container.wait()
            output = "".join(await container.log(stdout=True, stderr=True))
        finally:
            with anyio.CancelScope(shield=True):
                await container.delete(force=True)
    return Ran(int(result["StatusCode"]), output)


# What is in the image.


@asyncio_only
async def test_the_agent_user_owns_its_workspace(sandbox_image: str) -> None:
    ran = await run_in(
        sandbox_image,
        "id -u agent; id -g agent; stat -c '%U:%G %a %n' /home/agent /home/agent/workspace; "
        'pwd; echo "$LANG"; command -v python3',
    )
    assert (ran.code, ran.output.splitlines()) == (
        0,
        [
            "1000",
            "1000",
            "agent:agent 755 /home/agent",
            "agent:agent 755 /home/agent/workspace",
            "/home/agent/workspace",
            "C.UTF-8",
            "/usr/bin/python3",
        ],
    )


@asyncio_only
async def test_the_evaluators_folder_is_roots_alone(sandbox_image: str) -> None:
    owner = await run_in(sandbox_image, "stat -c '%U:%G %a' /var/lib/researchgym")
    assert owner.output == "root:root 700\n"
    agent = await run_in(sandbox_image, "ls /var/lib/researchgym", user="agent")
    assert agent.code != 0
    assert "Permission denied" in agent.output


@asyncio_only
async def test_python_has_the_packages_the_tasks_need(sandbox_image: str) -> None:
    ran = await run_in(
        sandbox_image,
        "python3 -c 'import numpy, scipy.stats, sklearn.linear_model, pandas; print(\"ok\")'",
        user="agent",
    )
    assert (ran.code, ran.output) == (0, "ok\n")


@asyncio_only
async def test_the_image_is_labelled_and_set_up_to_idle(sandbox_image: str) -> None:
    async with open_docker() as docker:
        image: dict[str, Any] = await docker.images.inspect(sandbox_image)
    config = image["Config"]
    expected = image_config()
    assert set(expected["Env"]) <= set(config["Env"])
    assert (config["WorkingDir"], config["Cmd"]) == (expected["WorkingDir"], expected["Cmd"])
    assert config["Labels"][VERSION_LABEL] == researchgym.__version__
    assert image["Size"] < 600_000_000  # no compiler, no documentation


# Building.


def test_the_image_is_named_after_the_version() -> None:
    assert image_name() == f"researchgym/sandbox:{researchgym.__version__}"


@asyncio_only
async def test_building_again_does_nothing(sandbox_image: str) -> None:
    said: list[str] = []
    started = time.monotonic()
    image_id = await build_image(progress=said.append)
    assert time.monotonic() - started < 5
    assert said == [f"{sandbox_image} is already built"]
    async with open_docker() as docker:
        assert image_id == (await docker.images.inspect(sandbox_image))["Id"]


@asyncio_only
async def test_status_lists_the_image(sandbox_image: str) -> None:
    status = await sandbox_status()
    assert (status.reachable, status.problem, status.ready) == (True, None, True)
    assert status.docker_version
    (image,) = [found for found in status.images if found.name == sandbox_image]
    assert 100_000_000 < image.size < 600_000_000
    assert image.created <= datetime.now(UTC)


@asyncio_only
async def test_an_unknown_method_is_refused() -> None:
    expected = "Unknown image build method 'docker'. Choose one of: auto, dockerfile, offline."
    with pytest.raises(UnknownComponentError, match=f"^{re.escape(expected)}$"):
        await build_image(method="docker")  # type: ignore[arg-type]


@asyncio_only
async def test_a_missing_mmdebstrap_is_named_with_its_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    expected = (
        "Cannot build the sandbox image offline: mmdebstrap is not installed (not found on "
        "PATH). Install it with `apt-get install -y mmdebstrap`, or build from the Dockerfile "
        "where a registry is reachable: researchgym sandbox build --method dockerfile"
    )
    with pytest.raises(BuildToolMissingError, match=f"^{re.escape(expected)}$"):
        await build_image(method="offline", force=True)


@asyncio_only
async def test_a_failing_mmdebstrap_shows_its_last_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "bin" / "mmdebstrap"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'I: downloading'\necho 'E: 404 Not Found' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake.parent))
    said: list[str] = []
    expected = (
        "Building the sandbox image (offline) failed: mmdebstrap exited with status 3. Check "
        "that this host can install Debian bookworm packages with apt (apt-get update), then "
        "build again.\nIts last lines of output:\n  I: downloading\n  E: 404 Not Found"
    )
    with pytest.raises(ImageBuildError, match=f"^{re.escape(expected)}$"):
        async with _rootfs.open_rootfs(progress=said.append):
            pass
    assert said[-1] == "mmdebstrap: downloading"


@asyncio_only
async def test_an_unreachable_daemon_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = f"unix://{tmp_path}/docker.sock"
    monkeypatch.setenv("DOCKER_HOST", host)
    expected = str(DockerUnavailableError(f"nothing listens on {host}"))
    with pytest.raises(DockerUnavailableError, match=f"^{re.escape(expected)}$"):
        await build_image()
    status = await sandbox_status()
    assert (status.reachable, status.problem, status.images) == (False, expected, ())


# The registry check.


class FakeImages:
    """Stands in for ``docker.images``: its pull yields what ``pull_events`` gives."""

    def __init__(self, pull_events: AsyncIterator[dict[str, Any]]) -> None:
        self.pull_events = pull_events

    def pull(self, name: str, *, stream: bool) -> AsyncIterator[dict[str, Any]]:
        return self.pull_events


class FakeDocker:
    def __init__(self, pull_events: AsyncIterator[dict[str, Any]]) -> None:
        self.images = FakeImages(pull_events)


async def _silent() -> AsyncIterator[dict[str, Any]]:
    await anyio.sleep_forever()
    yield {}


async def _refused() -> AsyncIterator[dict[str, Any]]:
    raise aiodocker.DockerError(500, "lookup registry: no such host")
    yield {}


async def _pulled() -> AsyncIterator[dict[str, Any]]:
    yield {"status": "Pulling from library/debian", "id": "bookworm-slim"}
    await anyio.sleep(0.2)  # after the first answer, the pull is given all the time it needs
    yield {"status": "Status: Downloaded newer image for debian:bookworm-slim"}


@asyncio_only
@pytest.mark.parametrize(
    ("events", "expected"),
    [
        (_silent, "no answer within 0.1 s"),
        (_refused, "lookup registry: no such host"),
        (_pulled, None),
    ],
)
async def test_the_registry_must_answer_within_seconds(events: Any, expected: str | None) -> None:
    docker: Any = FakeDocker(events())
    said: list[str] = []
    started = time.monotonic()
    assert await _dockerfile.pull_base_image(docker, answer_within=0.1, progress=said.append) == (
        expected
    )
    assert time.monotonic() - started < 1
    assert said[0] == "pulling debian:bookworm-slim"


# One package list, one set-up, for both ways of building.


def test_the_dockerfile_sets_what_the_offline_build_sets() -> None:
    dockerfile = (_rootfs.IMAGE_FILES / "Dockerfile").read_text()
    config = image_config()
    assert f"FROM {_dockerfile.BASE_IMAGE}\n" in dockerfile
    assert "ENV LANG=C.UTF-8\n" in dockerfile and "LANG=C.UTF-8" in config["Env"]
    assert f"WORKDIR {config['WorkingDir']}\n" in dockerfile
    assert f"CMD {json.dumps(config['Cmd'])}\n" in dockerfile
    for name in ("packages.txt", "dpkg-excludes.cfg", "no-pythran.sh", "setup.sh"):
        assert f"/tmp/researchgym/{name}" in dockerfile


def test_the_build_context_holds_the_shared_files() -> None:
    with tarfile.open(fileobj=io.BytesIO(_dockerfile.build_context())) as context:
        names = set(context.getnames())
    assert names == {
        "Dockerfile",
        "packages.txt",
        "dpkg-excludes.cfg",
        "no-pythran.sh",
        "setup.sh",
    }


def test_mmdebstrap_installs_the_package_list_with_the_shared_scripts(tmp_path: Path) -> None:
    packages = _rootfs.read_packages()
    assert {"python3", "python3-numpy", "python3-scipy", "python3-sklearn"} <= set(packages)
    tool = _rootfs.Mmdebstrap("/usr/bin/mmdebstrap", None)
    mirror = tmp_path / "host.sources"
    argv = _rootfs.mmdebstrap_argv(tool, tmp_path / "r.tar", packages=packages, mirrors=[mirror])
    assert argv[:3] == [
        "/usr/bin/mmdebstrap",
        "--variant=minbase",
        f"--include={','.join(packages)}",
    ]
    assert argv[-3:] == ["bookworm", str(tmp_path / "r.tar"), str(mirror)]
    assert f"--dpkgopt={_rootfs.IMAGE_FILES / 'dpkg-excludes.cfg'}" in argv
    hooks = [arg for arg in argv if arg.startswith(("--essential-hook", "--customize-hook"))]
    assert [re.findall(r"sh /tmp/(\S+) &&", hook) for hook in hooks] == [
        ["no-pythran.sh"],
        ["setup.sh"],
    ]


def test_only_the_hosts_debian_main_sources_are_used(tmp_path: Path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list").write_text(
        "# the release\n"
        "deb [ arch=amd64 signed-by=/k.gpg ] http://mirror.test/debian bookworm main contrib\n"
        "deb-src http://mirror.test/debian bookworm main\n"
        "deb http://vendor.test/apt bookworm stable\n"
    )
    (tmp_path / "sources.list.d" / "old.list").write_text(
        "deb http://m.test/debian bullseye main\n"
    )
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\n# a comment\nURIs: http://mirror.test/debian\n"
        "Suites: bookworm bookworm-updates\nComponents: main\n"
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
        "Types: deb\nURIs: http://mirror.test/debian-security\nSuites: bookworm-security\n"
        "Components: main\nEnabled: no\n"
    )
    (tmp_path / "sources.list.d" / "vendor.sources").write_text(
        "Types: deb\nURIs: http://vendor.test/node\nSuites: nodistro\nComponents: main\n"
    )
    sources = read_host_sources(tmp_path)
    assert sources.one_line == (
        "deb [ arch=amd64 signed-by=/k.gpg ] http://mirror.test/debian bookworm main contrib",
    )
    assert sources.deb822 == (
        "Types: deb\nURIs: http://mirror.test/debian\nSuites: bookworm bookworm-updates\n"
        "Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg",
    )
    written = sources.write(tmp_path)
    assert [path.name for path in written] == ["host.list", "host.sources"]


# The docker-archive the offline build streams into Docker.


@asyncio_only
async def test_the_archive_holds_one_layer_its_config_and_manifest(tmp_path: Path) -> None:
    rootfs = tmp_path / "rootfs.tar"
    with tarfile.open(rootfs, "w") as tar:
        info = tarfile.TarInfo("./etc/hostname")
        info.size = 8
        tar.addfile(info, io.BytesIO(b"sandbox\n"))
    layer = rootfs.read_bytes()
    config = image_config("9.9")
    chunks = archive_chunks(
        rootfs, tag="researchgym/sandbox:9.9", config=config, architecture="arm64"
    )
    body = b"".join([chunk async for chunk in chunks])
    with tarfile.open(fileobj=io.BytesIO(body)) as archive:
        members = {m.name: archive.extractfile(m).read() for m in archive if m.isfile()}  # type: ignore[union-attr]
    (manifest,) = json.loads(members["manifest.json"])
    image = json.loads(members[manifest["Config"]])
    assert manifest["RepoTags"] == ["researchgym/sandbox:9.9"]
    assert members[manifest["Layers"][0]] == layer
    assert manifest["Config"] == f"{hashlib.sha256(members[manifest['Config']]).hexdigest()}.json"
    assert image["rootfs"] == {
        "type": "layers",
        "diff_ids": [f"sha256:{hashlib.sha256(layer).hexdigest()}"],
    }
    assert (image["architecture"], image["os"], image["config"]) == ("arm64", "linux", config)
