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

import lazy_loader

# Each name is imported from its module when first used (the names: __init__.pyi).
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
