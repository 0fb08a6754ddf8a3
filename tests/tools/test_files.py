"""The viewer's files, read and written as the agent; and the search commands' shell checks.

The local sandbox runs as the current user, so the permission checks only bite in Docker,
where the agent's shell is the unprivileged ``agent``: the Docker section below checks that
the tools never read or write for the agent what it could not itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from researchgym.sandboxes import open_local_sandbox
from researchgym.tasks import Task, load_task
from researchgym.tools import ToolContext, ToolError
from researchgym.tools.files import MAX_FILE_BYTES, resolve, run_script
from tests.tasks.test_loader import make_task
from tests.tools.helpers import observe, tool_context, write

if TYPE_CHECKING:
    from pathlib import Path

SECRET = "the evaluator's answer key\n"


async def test_a_path_resolves_from_the_shells_directory(context: ToolContext) -> None:
    await write(context, "data/real.csv", "a,b\n")
    await observe(context, "ln -s data/real.csv link.csv && cd data && chmod 640 real.csv")
    workspace = context.sandbox.workdir
    assert await resolve(context, "../link.csv") == f"{workspace}/data/real.csv"
    assert context.viewer.cwd == f"{workspace}/data"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("nowhere.txt", "Error: File nowhere.txt not found."),
        ("dangling", "Error: File dangling not found."),
        ("/dev/null", "Error: /dev/null is not a regular file."),
        (
            "/tmp",
            "Error: /tmp is a directory. You can only open files. "
            "Use cd or ls to navigate directories.",
        ),
    ],
)
async def test_what_is_not_a_file_is_refused(context: ToolContext, path: str, message: str) -> None:
    await observe(context, "ln -s nowhere.txt dangling")
    with pytest.raises(ToolError, match="^" + message.replace(".", r"\.") + "$"):
        await resolve(context, path)


async def test_nothing_the_agent_defined_in_its_shell_answers_the_check(
    context: ToolContext,
) -> None:
    await write(context, "mine.txt", "mine\n")
    await write(context, "evil.sh", "realpath() { echo /etc/hostname; }\n")
    await write(context, "bin/realpath", "#!/bin/sh\necho /etc/hostname\n")
    await observe(
        context,
        "chmod +x bin/realpath; export PATH=$PWD/bin:$PATH BASH_ENV=$PWD/evil.sh; "
        "realpath() { echo /etc/hostname; }; export -f realpath; "
        "test() { return 0; }; set -e",
    )
    assert await resolve(context, "mine.txt") == f"{context.sandbox.workdir}/mine.txt"
    assert (await observe(context, "open missing.txt")).startswith("Error: File missing.txt")
    for command in ("search_file nothing mine.txt", "search_dir nothing", "find_file none.py"):
        assert (await observe(context, command)).startswith("No matches found for ")
    assert await observe(context, "echo alive") == "alive\n"  # set -e kept the shell


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("nowhere.txt", "Error: File nowhere.txt not found."),
        ("dangling", "Error: File dangling not found."),
        ("pipe", "Error: pipe is not a regular file."),
        (
            "sub",
            "Error: sub is a directory. You can only open files. Use cd or ls to "
            "navigate directories.",
        ),
        (
            "/etc/hostname",
            "Error: /etc/hostname is outside your workspace and home; the editor "
            "opens files there only. Read others with cat, head or sed -n '1,100p'.",
        ),
        (
            "up",
            "Error: up is outside your workspace and home; the editor opens files "
            "there only. Read others with cat, head or sed -n '1,100p'.",
        ),
    ],
)
async def test_open_refuses_what_the_editor_may_not_show(
    context: ToolContext, path: str, message: str
) -> None:
    await observe(context, "ln -s nowhere.txt dangling && mkfifo pipe && mkdir sub")
    await observe(context, "ln -s /etc/hostname up")
    assert await observe(context, f"open {path}") == message
    assert context.viewer.path is None


async def test_a_file_too_large_to_view_is_refused(context: ToolContext) -> None:
    await observe(context, f"truncate -s {MAX_FILE_BYTES + 1} big.csv")
    assert await observe(context, "open big.csv") == (
        "Error: big.csv is 32 MiB, too large to open (the limit is "
        "32 MiB). Look at parts of it with head, tail, grep or sed -n '100,200p'."
    )


@pytest.fixture
def hasty_task(tmp_path: Path) -> Task:
    return load_task(make_task(tmp_path / "t", lambda s: s.update(timeouts={"command": 0.5})))


async def test_a_check_past_the_time_limit_says_so(hasty_task: Task, tmp_path: Path) -> None:
    async with await open_local_sandbox(root=tmp_path) as sandbox:
        context = tool_context(sandbox, hasty_task)
        with pytest.raises(
            ToolError, match=r"^Error: this took longer than 0\.5 s and was stopped\.$"
        ):
            await run_script(context, "sleep 5")


# The Docker sandbox: the agent is `agent`; the engine could act as root, and must not.

docker_only = pytest.mark.parametrize("anyio_backend", ["asyncio"])


def outside(path: str) -> str:
    return (
        f"Error: {path} is outside your workspace and home; the editor opens files there "
        "only. Read others with cat, head or sed -n '1,100p'."
    )


async def private_file(context: ToolContext, tmp_path: Path) -> str:
    """Put a file in the sandbox's private directory (root's, mode 0700); return its path."""
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / "key.txt").write_text(SECRET)
    await context.sandbox.upload(tmp_path / "private", str(context.sandbox.private_dir))
    return f"{context.sandbox.private_dir}/key.txt"


async def root_read(context: ToolContext, path: str) -> str:
    return (await context.sandbox.run(["cat", path], timeout=10)).output


@docker_only
async def test_docker_links_to_what_the_agent_cannot_read_are_refused(
    docker_context: ToolContext, tmp_path: Path
) -> None:
    context = docker_context
    key = await private_file(context, tmp_path)
    await observe(context, f"ln -s /etc/shadow shadow && ln -s {key} key")
    await observe(context, f"ln -s /etc etc && ln -s {context.sandbox.private_dir} private")
    for path in ("etc/shadow", "private/key.txt", "shadow", "key", key):
        assert await observe(context, f"open {path}") == outside(path)
    await observe(context, "mkdir mine && echo s > mine/s && chmod 000 mine/s")
    assert await observe(context, "open mine/s") == (
        "Error: permission denied: you may not read mine/s."
    )
    assert await observe(context, "search_file root shadow") == (
        "Error: permission denied: you may not read shadow."
    )
    assert context.viewer.path is None


@docker_only
async def test_docker_an_open_file_swapped_for_a_link_is_not_edited(
    docker_context: ToolContext, tmp_path: Path
) -> None:
    context = docker_context
    key = await private_file(context, tmp_path)
    await write(context, "a.txt", "mine\n")
    await observe(context, "open a.txt")
    for target in ("/etc/shadow", key, "/etc/passwd"):
        await observe(context, f"ln -sf {target} a.txt")
        assert context.viewer.path is not None
        assert await observe(context, "edit 1:1\nleaked?\nend_of_edit") == outside(
            context.viewer.path
        )
        assert await observe(context, "goto 1") == outside(context.viewer.path)
    assert await root_read(context, key) == SECRET
    assert (await root_read(context, "/etc/passwd")).startswith("root:x:0:0:")


@docker_only
async def test_docker_a_file_the_agent_may_only_read_is_not_edited(
    docker_context: ToolContext,
) -> None:
    context = docker_context
    await write(context, "frozen.py", "x = 1\n")
    await observe(context, "chmod 444 frozen.py")
    assert (await observe(context, "open frozen.py")).endswith("\n1:x = 1")
    assert await observe(context, "edit 1:1\nx = 2\nend_of_edit") == (
        f"Error: {context.sandbox.workdir}/frozen.py is read-only; you cannot edit it."
    )
    assert await context.sandbox.read_file("frozen.py") == b"x = 1\n"
    assert await observe(context, "create /etc/evil.py") == (
        "Error: cannot create /etc/evil.py: it is outside your workspace and home."
    )
    await observe(context, "mkdir locked && chmod 555 locked")
    assert await observe(context, "create locked/new.py") == (
        "Error: cannot create locked/new.py: Permission denied."
    )


@docker_only
async def test_docker_edits_go_through_links_and_keep_the_mode(
    docker_context: ToolContext,
) -> None:
    context = docker_context
    await write(context, "run.sh", "echo hi\n")
    await observe(context, "chmod 755 run.sh && ln -s run.sh link.sh")
    await observe(context, "open link.sh")
    assert context.viewer.path == f"{context.sandbox.workdir}/link.sh"
    await observe(context, "edit 1:1\necho hello\nend_of_edit")
    assert await observe(context, "stat -c '%a %U %F' run.sh link.sh && ./link.sh") == (
        "755 agent regular file\n777 agent symbolic link\nhello\n"
    )
