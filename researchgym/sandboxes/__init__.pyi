"""The face of ``researchgym.sandboxes``: the names it exports, and their modules.

Type checkers read it, and so does the lazy loader of ``__init__.py``, which imports each
name from its module when it is first used.
"""

from ._isolation import LocalIsolation, local_isolation
from .agent_files import AgentFiles
from .base import (
    DEFAULT_READ_LIMIT,
    ExecResult,
    FileTooLargeError,
    OutsideSandboxError,
    Sandbox,
    SandboxSpec,
    SpecialFileError,
    memory_bytes,
)
from .disk import (
    DEFAULT_DISK,
    DISK_ROOT,
    DiskSupport,
    SandboxDisk,
    disk_support,
    open_disk,
    prune_disks,
)
from .docker import DockerSandbox, container_config, start_docker_sandbox
from .docker_api import docker_reachable, open_docker
from .docker_pool import (
    DockerSandboxes,
    PoolStatistics,
    PruneResult,
    open_docker_sandboxes,
    prune_sandboxes,
)
from .image import (
    BuildMethod,
    SandboxImage,
    SandboxStatus,
    build_image,
    image_name,
    sandbox_status,
)
from .local import LocalSandbox, LocalSandboxes, open_local_sandbox
from .output import DEFAULT_OUTPUT_CAP, CappedOutput, CappedText
from .provider import (
    SANDBOXES,
    ProviderFactory,
    ProviderOptions,
    SandboxChoice,
    SandboxKind,
    SandboxProvider,
    choose_sandboxes,
    open_sandboxes,
    remove_leftovers,
)
from .shell import (
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
    "SANDBOXES",
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
    "ProviderFactory",
    "ProviderOptions",
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
