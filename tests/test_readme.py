"""The README's notebook example runs, as a notebook runs it: inside a running event loop."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import researchgym.api  # noqa: F401  (an import reads files; blockbuster would flag it in the loop)

README = Path(__file__).parent.parent / "README.md"


def example(marker: str) -> str:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    [block] = [str(b) for b in blocks if b.startswith(marker)]
    return block


NOTEBOOK = example("# notebook example")
"""Read once, before any event loop runs (a notebook's cell has its code already)."""


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # Jupyter's loop is asyncio's
async def test_the_notebook_example_runs_in_a_cell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    code = compile(NOTEBOOK, "README.md", "exec")
    exec(code, {})
    printed = capsys.readouterr().out
    assert printed.startswith("2 episodes: ['submitted', 'submitted']")
    assert "prisoners_dilemma" in printed and (tmp_path / "runs" / "notebook.duckdb").exists()
