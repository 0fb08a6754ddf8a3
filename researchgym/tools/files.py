"""Files as the agent may see them: the viewer's and editor's file access, and shell checks.

The viewer and the editor go through the sandbox's file API (``Sandbox.read_file`` and
``write_file``), which acts inside the sandbox with the agent's own rights, follows links
only as the agent would, confines itself to the agent's workspace and home, and reads
nothing of a file over its limit (``researchgym.sandboxes.agent_files``). A path the agent
typed is taken from the shell's working directory as last seen; the API's refusals become
the observations below.

The search commands run scripts in the agent's shell instead (``run_script``), and check a
file there (``resolve``). The scripts run in a fresh ``bash -p`` started by its absolute
path from the agent's shell: a command word with a slash is never looked up as a function
or alias, and ``-p`` ignores ``BASH_ENV`` and functions exported into the environment, so
nothing the agent defined in its shell can answer in the check's place. ``PATH`` is reset
in the script. The fresh shell always exits 0 and reports on its first output line, so a
shell the agent put in ``set -e`` survives a failed check.
"""

from __future__ import annotations

import posixpath
import shlex
from typing import TYPE_CHECKING

import anyio

from researchgym.sandboxes import FileTooLargeError, OutsideSandboxError, SpecialFileError
from researchgym.tools.base import ToolError
from researchgym.tools.viewer import split_lines

if TYPE_CHECKING:
    from researchgym.sandboxes import ExecResult
    from researchgym.tools.base import ToolContext

__all__ = [
    "MAX_FILE_BYTES",
    "agent_path",
    "create_file",
    "read_lines",
    "resolve",
    "run_script",
    "write_lines",
]

MAX_FILE_BYTES = 32 * 2**20
"""The largest file the viewer opens: it is read whole, and again for every command."""

_CLEAN_BASH = ("/bin/bash", "--noprofile", "--norc", "-p", "-c")
_PRELUDE = "PATH=/usr/bin:/bin; export LC_ALL=C\n"

_RESOLVE = r"""
if ! p=$(realpath -e -- "$1" 2>&1); then
    case $p in *"Permission denied"*) echo denied ;; *) echo missing ;; esac; exit 0
fi
if [[ -d $p ]]; then echo directory
elif [[ ! -f $p ]]; then echo special
elif [[ ! -r $p ]]; then echo denied
else echo ok
fi
printf '%s' "$p"
"""


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


async def resolve(context: ToolContext, path: str) -> str:
    """Resolve ``path`` in the agent's shell, as the agent; return it with no links.

    Raises:
        ToolError: If it does not exist, is not a regular file, or the agent may not read it.
        SandboxError: If the sandbox fails.
    """
    status, *rest = await run_script(context, _RESOLVE, path)
    if status == "ok":
        return "\n".join(rest)
    raise ToolError(_refusal(status, path))


def agent_path(context: ToolContext, path: str) -> str:
    """``path`` as the agent typed it, made absolute from the shell's working directory."""
    cwd = context.viewer.cwd or str(context.sandbox.workdir)
    return posixpath.normpath(posixpath.join(cwd, path))


async def read_lines(
    context: ToolContext, path: str, *, editing: bool = False, name: str | None = None
) -> list[str]:
    """Return the lines of the file at ``path`` (absolute), read as the agent.

    Args:
        context: The episode's tool context.
        path: The file.
        editing: Refuse what is not UTF-8 text (for display, bad bytes are replaced).
        name: How the agent named the file, for the messages (default: ``path``).

    Raises:
        ToolError: If the agent may not read it, it is not a regular file, it is larger
            than ``MAX_FILE_BYTES``, binary, or (``editing``) not UTF-8 text.
        SandboxError: If the sandbox fails.
    """
    name = name or path
    try:
        data = await context.sandbox.read_file(path, limit=MAX_FILE_BYTES)
    except FileTooLargeError as e:
        size = "over" if e.size is None else f"{e.size / 2**20:.0f} MiB,"
        raise ToolError(
            f"Error: {name} is {size} too large to open (the limit is "
            f"{MAX_FILE_BYTES // 2**20} MiB). Look at parts of it with head, tail, grep or "
            "sed -n '100,200p'."
        ) from None
    except OSError as e:
        raise ToolError(_failure(e, name)) from None
    if b"\0" in data:
        raise ToolError(f"Error: {name} is a binary file; only text files can be shown.")
    try:
        text = data.decode("utf-8", errors="strict" if editing else "replace")
    except UnicodeDecodeError:
        raise ToolError(f"Error: {name} is not UTF-8 text, so it cannot be edited.") from None
    return await anyio.to_thread.run_sync(split_lines, text)


async def write_lines(context: ToolContext, path: str, lines: list[str]) -> None:
    """Write ``lines`` to the file at ``path`` as the agent; it keeps its mode.

    Raises:
        ToolError: If the agent may not write it.
        SandboxError: If the sandbox fails.
    """
    data = "".join(f"{line}\n" for line in lines).encode()
    try:
        await context.sandbox.write_file(path, data)
    except OSError as e:
        raise ToolError(_failure(e, path, writing=True)) from None


async def create_file(context: ToolContext, path: str) -> str:
    """Create an empty file as the agent (and its directories), refusing to replace one.

    Returns:
        Its path, absolute.

    Raises:
        ToolError: If something exists at ``path``, or the agent may not create it there.
        SandboxError: If the sandbox fails.
    """
    absolute = agent_path(context, path)
    try:
        await context.sandbox.write_file(absolute, b"", exclusive=True)
    except FileExistsError:
        raise ToolError(
            f"Error: File '{path}' already exists. Use open {path} to view it."
        ) from None
    except OSError as e:
        reason = _REASONS.get(type(e), e.strerror or "it cannot be created")
        raise ToolError(f"Error: cannot create {path}: {reason}.") from None
    return absolute


def _failure(error: OSError, path: str, *, writing: bool = False) -> str:
    """The observation for a file the API refused to read (or write)."""
    if isinstance(error, FileNotFoundError):
        return f"Error: File {path} not found."
    if isinstance(error, IsADirectoryError):
        return f"Error: {path} is a directory. You can only open files. " + _NAVIGATE
    if isinstance(error, SpecialFileError):
        return f"Error: {path} is not a regular file."
    if isinstance(error, OutsideSandboxError):
        return (
            f"Error: {path} is outside your workspace and home; the editor opens files there "
            "only. Read others with cat, head or sed -n '1,100p'."
        )
    if isinstance(error, PermissionError):
        if writing:
            return f"Error: {path} is read-only; you cannot edit it."
        return f"Error: permission denied: you may not read {path}."
    return f"Error: {path} could not be {'written' if writing else 'read'} ({error.strerror})."


_NAVIGATE = "Use cd or ls to navigate directories."
_REASONS: dict[type[OSError], str] = {
    OutsideSandboxError: "it is outside your workspace and home",
    PermissionError: "Permission denied",
    NotADirectoryError: "a part of the path is not a directory",
}


def _refusal(status: str, path: str) -> str:
    if status == "missing":
        return f"Error: File {path} not found."
    if status == "directory":
        return f"Error: {path} is a directory. You can only open files. " + _NAVIGATE
    if status == "special":
        return f"Error: {path} is not a regular file."
    if status == "denied":
        return f"Error: permission denied: you may not read {path}."
    return f"Error: cannot check {path}: {status}"
