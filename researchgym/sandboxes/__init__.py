"""Sandboxes: where an episode's commands run and its files live.

```
base.py        Sandbox (the contract) and ExecResult
shell.py       ShellSession: the persistent-bash protocol any backend speaks over two pipes
output.py      CappedOutput: head-and-tail output capping
local.py       LocalSandbox: a temporary directory and a local bash, no isolation
_processes.py  local process plumbing (spawning, killing a session via /proc)
```

Usage:

```
async with await open_local_sandbox() as sb:
    result = await sb.exec("echo hi", timeout=10)
```

A failed command is a result; a dead shell raises ``SandboxBrokenError``; use after
``aclose()`` raises ``SandboxClosedError``.
"""

from __future__ import annotations

from researchgym.sandboxes.base import ExecResult, Sandbox
from researchgym.sandboxes.local import LocalSandbox, open_local_sandbox
from researchgym.sandboxes.output import DEFAULT_OUTPUT_CAP, CappedOutput, CappedText
from researchgym.sandboxes.shell import (
    DEFAULT_GRACE,
    RESTART_NOTE,
    SHELL_ARGV,
    ShellSession,
    ShellSpawner,
    ShellTransport,
)

__all__ = [
    "DEFAULT_GRACE",
    "DEFAULT_OUTPUT_CAP",
    "RESTART_NOTE",
    "SHELL_ARGV",
    "CappedOutput",
    "CappedText",
    "ExecResult",
    "LocalSandbox",
    "Sandbox",
    "ShellSession",
    "ShellSpawner",
    "ShellTransport",
    "open_local_sandbox",
]
