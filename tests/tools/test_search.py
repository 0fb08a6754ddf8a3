"""search_dir, search_file and find_file, run in a local sandbox."""

from __future__ import annotations

import pytest

from researchgym.tools import FindFile, SearchDir, SearchFile, ToolContext
from tests.tools.helpers import observe, write


@pytest.fixture
async def workspace(context: ToolContext) -> str:
    """A small tree: two Python files, a text file, and a hidden directory."""
    await write(context, "train.py", "import torch\nlr = 0.1\nprint(lr)\n")
    await write(context, "src/model.py", "lr_scale = 2\n")
    await write(context, "src/notes.txt", "no match here\n")
    await write(context, ".git/config", "lr = secret\n")
    return str(context.sandbox.workdir)


async def test_search_dir_counts_matching_lines_per_file(
    context: ToolContext, workspace: str
) -> None:
    assert await observe(context, "search_dir lr") == (
        f'Found 3 matches for "lr" in {workspace}:\n'
        f"{workspace}/src/model.py (1 matches)\n"
        f"{workspace}/train.py (2 matches)\n"
        f'End of matches for "lr" in {workspace}'
    )


async def test_search_dir_in_a_directory(context: ToolContext, workspace: str) -> None:
    await observe(context, "cd src")
    assert await observe(context, "search_dir 'lr_scale = 2' ..") == (
        f'Found 1 matches for "lr_scale = 2" in {workspace}:\n'
        f"{workspace}/src/model.py (1 matches)\n"
        f'End of matches for "lr_scale = 2" in {workspace}'
    )
    assert await observe(context, "search_dir torch .") == (
        f'No matches found for "torch" in {workspace}/src'
    )


async def test_search_dir_lists_at_most_its_limit(context: ToolContext) -> None:
    for n in range(5):
        await write(context, f"f{n}.py", "hit\nhit\n")
    result = await SearchDir(limit=3)("search_dir hit", context)
    workspace = context.sandbox.workdir
    assert result.observation == (
        f'Found 10 matches for "hit" in {workspace}:\n'
        + "".join(f"{workspace}/f{n}.py (2 matches)\n" for n in range(3))
        + "(Only the first 3 of 5 files are shown; narrow your search.)\n"
        + f'End of matches for "hit" in {workspace}'
    )


@pytest.mark.parametrize(
    ("command", "observation"),
    [
        ("search_dir", "Usage: search_dir <search_term> [<dir>]"),
        ("search_dir x nowhere", "Error: directory nowhere not found."),
        ("search_dir x a b", "Usage: search_dir <search_term> [<dir>]"),
        ("search_dir 'a\\{1'", "Error: grep cannot use this search term: Unmatched \\{"),
        ("search_file", "Usage: search_file <search_term> [<file>]"),
        ("search_file x", "No file open. Use the open command first."),
        ("search_file x nowhere.py", "Error: File nowhere.py not found."),
        ("find_file", "Usage: find_file <file_name> [<dir>]"),
        ("find_file x.py nowhere", "Error: directory nowhere not found."),
    ],
)
async def test_bad_searches_say_why(
    context: ToolContext, workspace: str, command: str, observation: str
) -> None:
    assert await observe(context, command) == observation


async def test_search_file_lists_numbered_lines(context: ToolContext, workspace: str) -> None:
    await observe(context, "open train.py")
    assert await observe(context, "search_file lr") == (
        f'Found 2 matches for "lr" in {workspace}/train.py:\n'
        "Line 2:lr = 0.1\nLine 3:print(lr)\n"
        f'End of matches for "lr" in {workspace}/train.py'
    )
    assert await observe(context, "search_file lr src/notes.txt") == (
        f'No matches found for "lr" in {workspace}/src/notes.txt'
    )


async def test_search_file_lists_at_most_its_limit(context: ToolContext) -> None:
    await write(context, "log.txt", "".join(f"step {n}\n" for n in range(1, 8)))
    result = await SearchFile(limit=2)("search_file step log.txt", context)
    path = f"{context.sandbox.workdir}/log.txt"
    assert result.observation == (
        f'Found 7 matches for "step" in {path}:\nLine 1:step 1\nLine 2:step 2\n'
        "(Only the first 2 of 7 matching lines are shown; narrow your search.)\n"
        f'End of matches for "step" in {path}'
    )


async def test_find_file_finds_by_name_or_pattern(context: ToolContext, workspace: str) -> None:
    assert await observe(context, "find_file model.py") == (
        f'Found 1 matches for "model.py" in {workspace}:\n{workspace}/src/model.py'
    )
    assert await observe(context, "find_file '*.py' src") == (
        f'Found 1 matches for "*.py" in {workspace}/src:\n{workspace}/src/model.py'
    )
    assert await observe(context, "find_file missing.py") == (
        f'No matches found for "missing.py" in {workspace}'
    )


async def test_find_file_lists_at_most_its_limit(context: ToolContext) -> None:
    for n in range(4):
        await write(context, f"d{n}/cfg.yaml", "")
    result = await FindFile(limit=2)("find_file cfg.yaml", context)
    workspace = context.sandbox.workdir
    assert result.observation == (
        f'Found 4 matches for "cfg.yaml" in {workspace}:\n'
        f"{workspace}/d0/cfg.yaml\n{workspace}/d1/cfg.yaml\n"
        "(Only the first 2 of 4 files are shown; narrow your search.)"
    )
