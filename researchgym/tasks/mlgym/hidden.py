"""Finding the scoring files MLGym leaves in the agent's view (see ``importer``'s docstring).

Paths are relative to the task folder being built: ``workspace/...`` or ``data/...``.
"""

from __future__ import annotations

import ast
import csv
import os
import re
from pathlib import Path, PurePosixPath
from typing import NamedTuple

__all__ = ["Found", "drop_columns", "imported_modules", "scoring_files"]

LABEL_NAME = re.compile(r"label|answer|ground[_\-]?truth|solution", re.IGNORECASE)
"""A data file named so holds what is to be predicted."""
CODE_SUFFIXES = {".py", ".sh", ".ipynb", ".md"}
"""Files that are code or prose, whatever their names say."""


class Found(NamedTuple):
    """The files to hide."""

    moved: list[tuple[str, str]]
    """Files to move to eval/, each with the reason."""
    split: list[tuple[str, list[str], str]]
    """CSV files to copy whole to eval/ and leave without these columns, with the reason."""


def scoring_files(
    root: Path, scripts: list[str], submission: str, *, sample: str | None = None
) -> Found:
    """What in ``root``'s workspace/ and data/ would help the agent to score itself.

    Args:
        root: The task folder being built; the evaluation scripts are already in
            ``eval/mlgym/``.
        scripts: The evaluation scripts' paths, as ``workspace/...``.
        submission: The agent's artefact, relative to the workspace: never hidden.
        sample: The sample submission's file name, if the task names one.
    """
    names = {PurePosixPath(s).name for s in scripts}
    files = [f for f in _files(root) if f != f"workspace/{submission}"]
    moved = [(p, "a copy of an evaluation script") for p in files if PurePosixPath(p).name in names]
    moved += [(p, "named like labels") for p in files if _labels(p) and p not in dict(moved)]
    for script in scripts:
        view = root / "eval" / "mlgym" / script.removeprefix("workspace/")
        for module in imported_modules(view):
            path = f"workspace/{module}.py"
            if path in files and f"{module}.py" != submission and path not in dict(moved):
                reason = f"imported by {PurePosixPath(script).name}, and not the submission"
                moved.append((path, reason))
    taken = dict(moved)
    samples = [f for f in files if _is_sample(PurePosixPath(f).name, sample)]
    split = []
    for path in files:
        columns = [] if path in taken else _label_columns(root, path, samples)
        if columns:
            reason = (
                f"holds the label column(s) {', '.join(columns)}: the whole file is hidden, "
                "and the agent keeps a copy without them"
            )
            split.append((path, columns, reason))
    return Found(moved, split)


def imported_modules(script: Path) -> list[str]:
    """The top-level modules ``script`` imports, in order (none if it does not parse)."""
    try:
        tree = ast.parse(script.read_text(errors="replace"))
    except (OSError, SyntaxError, ValueError):
        return []
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module.split(".")[0])
    return list(dict.fromkeys(names))


def drop_columns(path: Path, columns: list[str]) -> None:
    """Rewrite the CSV file ``path`` without ``columns``."""
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    keep = [i for i, name in enumerate(rows[0]) if name not in columns]
    with path.open("w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(
            [row[i] for i in keep if i < len(row)] for row in rows
        )


def _files(root: Path) -> list[str]:
    return sorted(
        str(PurePosixPath(p.relative_to(root)))
        for folder in ("workspace", "data")
        for p in (root / folder).rglob("*")
        if p.is_file()
    )


def _labels(path: str) -> bool:
    name = PurePosixPath(path)
    return name.suffix.lower() not in CODE_SUFFIXES and bool(LABEL_NAME.search(name.name))


def _is_sample(name: str, sample: str | None) -> bool:
    return name == sample or name.lower().startswith("sample_submission")


def _label_columns(root: Path, path: str, samples: list[str]) -> list[str]:
    """The label columns that the test file ``path`` holds (none if not a labelled test file).

    The labels are the sample submission's columns after the first (the id) that the train
    file has too, or else the train file's last column, when the test file has all its columns.
    """
    name = PurePosixPath(path).name
    if not (name.lower().startswith("test") and name.lower().endswith(".csv")):
        return []
    train = root / os.path.dirname(path) / ("train" + name[4:])
    test_columns, train_columns = _header(root / path), _header(train)
    if not train_columns:
        return []
    if samples:
        sample = _header(root / samples[0])
        labels = [c for c in (sample[1:] or sample) if c in train_columns]
        if labels:
            return [c for c in labels if c in test_columns]
    if set(train_columns) <= set(test_columns):
        return [train_columns[-1]]
    return []


def _header(path: Path) -> list[str]:
    try:
        with path.open(newline="") as f:
            return next(csv.reader(f), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return []
