"""Files as the agent may see them: paths resolved and checked from the agent's side.

A sandbox's ``read_file`` and ``write_file`` may act with more rights than the agent has
(the Docker backend goes through the daemon, as root, following symbolic links). So a
tool never hands them a path the agent typed. It first resolves the path in the agent's
own shell, where the agent's rights apply: ``realpath -e`` (relative to the shell's working
directory, with every link resolved) and ``[[ -r ]]``/``[[ -w ]]``; only the resolved
absolute path reaches the file API, and only if the agent itself could read (or write) it.

The checks run in a fresh ``bash -p`` started by its absolute path from the agent's
shell: a command word with a slash is never looked up as a function or alias, and ``-p``
ignores ``BASH_ENV`` and functions exported into the environment, so nothing the agent
defined in its shell can answer in the check's place. ``PATH`` is reset in the script.
The fresh shell always exits 0 and reports on its first output line, so a shell the agent
put in ``set -e`` survives a failed check.

A limit: a background process of the agent could swap a checked path for a link between
the check and the file API's access. Closing that would take a file API that acts as the
agent itself.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Literal, NamedTuple

import anyio

from researchgym.tools.base import ToolError
from researchgym.tools.viewer import split_lines

if TYPE_CHECKING:
    from researchgym.sandboxes import ExecResult
    from researchgym.tools.base import ToolContext

__all__ = [
    "MAX_FILE_BYTES",
    "Resolved",
    "create_file",
    "read_lines",
    "resolve",
    "run_script",
    "write_lines",
]

MAX_FILE_BYTES = 32 * 2**20
"""The largest file the viewer opens: it is read whole, and again for every command."""

Access = Literal["read", "write"]

_CLEAN_BASH = ("/bin/bash", "--noprofile", "--norc", "-p", "-c")
_PRELUDE = "PATH=/usr/bin:/bin; export LC_ALL=C\n"

_RESOLVE = r"""
if ! p=$(realpath -e -- "$1" 2>&1); then
    case $p in *"Permission denied"*) echo denied ;; *) echo missing ;; esac; exit 0
fi
if [[ -d $p ]]; then echo directory
elif [[ ! -f $p ]]; then echo special
elif [[ ! -r $p ]]; then echo denied
elif [[ $2 == write && ! -w $p ]]; then echo read-only
else echo "ok $(stat -c '%a %s' -- "$p")"
fi
printf '%s' "$p"
"""

_CREATE = r"""
if [[ -e $1 || -L $1 ]]; then echo exists; exit 0; fi
mkdir -p -- "$(dirname -- "$1")" 2>/dev/null
if ! err=$( { set -C; : > "$1"; } 2>&1 ); then echo failed; printf '%s' "${err##*: }"; exit 0; fi
echo ok; realpath -e -- "$1"
"""


class Resolved(NamedTuple):
    """A file the agent may use, as the file API should be given it."""

    path: str
    """Absolute, with no symbolic links."""
    mode: str
    """Its permission bits, in octal as ``stat`` prints them (``644``)."""
    size: int
    """Its size in bytes."""


async def run_script(context: ToolContext, script: str, *args: str) -> list[str]:
    """Run a bash ``script`` with ``args`` as the agent, in its shell's working directory.

    The viewer learns the shell's working directory from the result.

    Returns:
        The output's lines.

    Raises:
        ToolError: If the script ran past the command time limit.
        SandboxError: If the sandbox fails.
    """
    source = f"{_PRELUDE}{script}\nexit 0\n"
    command = shlex.join([*_CLEAN_BASH, source, "researchgym", *args])
    result: ExecResult = await context.sandbox.exec(command, timeout=context.timeout)
    context.viewer.cwd = result.cwd or context.viewer.cwd
    if result.timed_out:
        raise ToolError(f"Error: this took longer than {context.timeout:g} s and was stopped.")
    return result.output.split("\n")


async def resolve(context: ToolContext, path: str, access: Access = "read") -> Resolved:
    """Resolve ``path`` as the agent, and check that it is a file the agent may use.

    Raises:
        ToolError: If it does not exist, is not a regular file, or the agent may not read
            it (or, for ``write``, write it).
        SandboxError: If the sandbox fails.
    """
    status, *rest = await run_script(context, _RESOLVE, path, access)
    resolved = "\n".join(rest)
    if status.startswith("ok "):
        mode, size = status.split()[1:]
        return Resolved(resolved, mode, int(size))
    raise ToolError(_refusal(status, path, resolved))


async def read_lines(context: ToolContext, file: Resolved, *, editing: bool = False) -> list[str]:
    """Return the lines of a resolved file.

    Raises:
        ToolError: If it is larger than ``MAX_FILE_BYTES``, binary, or (``editing``) not
            UTF-8 text.
        SandboxError: If the sandbox fails.
    """
    if file.size > MAX_FILE_BYTES:
        raise ToolError(
            f"Error: {file.path} is {file.size / 2**20:.0f} MiB, too large to open (the limit "
            f"is {MAX_FILE_BYTES // 2**20} MiB). Look at parts of it with head, tail, grep or "
            "sed -n '100,200p'."
        )
    data = await _read(context, file.path)
    if b"\0" in data:
        raise ToolError(f"Error: {file.path} is a binary file; only text files can be shown.")
    try:
        text = data.decode("utf-8", errors="strict" if editing else "replace")
    except UnicodeDecodeError:
        raise ToolError(f"Error: {file.path} is not UTF-8 text, so it cannot be edited.") from None
    return await anyio.to_thread.run_sync(split_lines, text)


async def write_lines(context: ToolContext, file: Resolved, lines: list[str]) -> None:
    """Write ``lines`` to a resolved file, keeping its permission bits.

    Raises:
        ToolError: If the file cannot be written.
        SandboxError: If the sandbox fails.
    """
    data = "".join(f"{line}\n" for line in lines).encode()
    try:
        await context.sandbox.write_file(file.path, data)
    except OSError as e:
        raise ToolError(f"Error: {file.path} could not be written ({e}).") from None
    if file.mode != "644":  # a backend may write a new file with its own mode
        await run_script(context, 'chmod -- "$1" "$2" 2>/dev/null', file.mode, file.path)


async def create_file(context: ToolContext, path: str) -> Resolved:
    """Create an empty file as the agent (and its directories), refusing to replace one.

    Raises:
        ToolError: If ``path`` exists, or the agent may not create it.
        SandboxError: If the sandbox fails.
    """
    status, *rest = await run_script(context, _CREATE, path)
    if status == "exists":
        raise ToolError(f"Error: File '{path}' already exists. Use open {path} to view it.")
    if status != "ok":
        reason = "\n".join(rest).strip() or "unknown error"
        raise ToolError(f"Error: cannot create {path}: {reason}.")
    return await resolve(context, rest[0], "write")


async def _read(context: ToolContext, path: str) -> bytes:
    try:
        return await context.sandbox.read_file(path)
    except OSError as e:  # it changed since it was resolved
        raise ToolError(f"Error: {path} could not be read ({e}).") from None


def _refusal(status: str, path: str, resolved: str) -> str:
    if status == "missing":
        return f"Error: File {path} not found."
    if status == "directory":
        return (
            f"Error: {path} is a directory. You can only open files. "
            "Use cd or ls to navigate directories."
        )
    if status == "special":
        return f"Error: {path} is not a regular file."
    if status == "read-only":
        return f"Error: {resolved} is read-only; you cannot edit it."
    if status == "denied":
        return f"Error: permission denied: you may not read {path}."
    return f"Error: cannot check {path}: {status}"
