"""Sandboxes: where an episode's commands run and its files live.

```
base.py         Sandbox (the contract), SandboxSpec, ExecResult, the file API's errors
agent_files.py  AgentFiles: the agent's files, through a helper that runs as the agent
                (_file_helper.py, the program)
provider.py     SandboxProvider, open_sandboxes(kind): what opens a run's sandboxes;
                choose_sandboxes: what auto picks, and what the sandboxes protect
shell.py        ShellSession: the persistent-bash protocol any backend speaks over two pipes
output.py       CappedOutput: head-and-tail output capping
local.py        LocalSandbox(es): folders and a local bash, isolated where bubblewrap runs
                (_isolation.py: local_isolation(), the view; _local_tree.py: host copies)
_processes.py   local process plumbing (spawning, killing a session via /proc)
docker.py       DockerSandbox: a container per episode, over the Engine API (asyncio only);
                _docker_exec (the shell and helper processes) and _docker_files (tars)
disk.py         open_disk, disk_support: each sandbox's writable places on a disk of its own
docker_pool.py  DockerSandboxes: start limit, warm pool, clean-up (prune_sandboxes)
docker_api.py   open_docker: the connection, with clear errors
image/          build_image, sandbox_status: the sandbox image (offline from Debian packages,
                or from image/files/Dockerfile where a registry answers)
```

Usage:

```
async with open_sandboxes("auto", run_id="r") as sandboxes:
    async with await sandboxes.open(SandboxSpec(memory="1g")) as sb:
        result = await sb.exec("echo hi", timeout=10)
```

A failed command is a result; a dead shell raises ``SandboxBrokenError``; use after
``aclose()`` raises ``SandboxClosedError``.
"""

from __future__ import annotations

from researchgym.sandboxes._isolation import LocalIsolation, local_isolation
from researchgym.sandboxes.agent_files import AgentFiles
from researchgym.sandboxes.base import (
    DEFAULT_READ_LIMIT,
    ExecResult,
    FileTooLargeError,
    OutsideSandboxError,
    Sandbox,
    SandboxSpec,
    SpecialFileError,
    memory_bytes,
)
from researchgym.sandboxes.disk import (
    DEFAULT_DISK,
    DISK_ROOT,
    DiskSupport,
    SandboxDisk,
    disk_support,
    open_disk,
    prune_disks,
)
from researchgym.sandboxes.docker import DockerSandbox, container_config, start_docker_sandbox
from researchgym.sandboxes.docker_api import docker_reachable, open_docker
from researchgym.sandboxes.docker_pool import (
    DockerSandboxes,
    PoolStatistics,
    PruneResult,
    open_docker_sandboxes,
    prune_sandboxes,
)
from researchgym.sandboxes.image import (
    BuildMethod,
    SandboxImage,
    SandboxStatus,
    build_image,
    image_name,
    sandbox_status,
)
from researchgym.sandboxes.local import LocalSandbox, LocalSandboxes, open_local_sandbox
from researchgym.sandboxes.output import DEFAULT_OUTPUT_CAP, CappedOutput, CappedText
from researchgym.sandboxes.provider import (
    SandboxChoice,
    SandboxKind,
    SandboxProvider,
    choose_sandboxes,
    open_sandboxes,
    remove_leftovers,
)
from researchgym.sandboxes.shell import (
    DEFAULT_GRACE,
    RESTART_NOTE,
    SHELL_ARGV,
    ShellSession,
    ShellSpawner,
    ShellTransport,
)

__all__ = [
    "DEFAULT_DISK",
    "DEFAULT_GRACE",
    "DEFAULT_OUTPUT_CAP",
    "DEFAULT_READ_LIMIT",
    "DISK_ROOT",
    "RESTART_NOTE",
    "SHELL_ARGV",
    "AgentFiles",
    "BuildMethod",
    "CappedOutput",
    "CappedText",
    "DiskSupport",
    "DockerSandbox",
    "DockerSandboxes",
    "ExecResult",
    "FileTooLargeError",
    "LocalIsolation",
    "LocalSandbox",
    "LocalSandboxes",
    "OutsideSandboxError",
    "PoolStatistics",
    "PruneResult",
    "Sandbox",
    "SandboxChoice",
    "SandboxDisk",
    "SandboxImage",
    "SandboxKind",
    "SandboxProvider",
    "SandboxSpec",
    "SandboxStatus",
    "ShellSession",
    "ShellSpawner",
    "ShellTransport",
    "SpecialFileError",
    "build_image",
    "choose_sandboxes",
    "container_config",
    "disk_support",
    "docker_reachable",
    "image_name",
    "local_isolation",
    "memory_bytes",
    "open_disk",
    "open_docker",
    "open_docker_sandboxes",
    "open_local_sandbox",
    "open_sandboxes",
    "prune_disks",
    "prune_sandboxes",
    "remove_leftovers",
    "sandbox_status",
    "start_docker_sandbox",
]
