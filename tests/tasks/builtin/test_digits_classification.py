"""The built-in digits classification: its data, baseline and evaluator, run as the engine does."""

from __future__ import annotations

import csv
import gzip
import random
import re
from collections import Counter
from typing import TYPE_CHECKING, Literal

import pytest

from researchgym.sandboxes import LocalSandbox, open_local_sandbox
from researchgym.tasks import EvaluationResult, evaluate, resolve_task

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

TASK = resolve_task("digits_classification")
SPLITS = ("train", "validation", "test")
PIXELS = [f"pixel_{r}_{c}" for r in range(8) for c in range(8)]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


HIDDEN = read_csv(TASK.eval_dir / "test_labels.csv")
LABELS = {int(row["id"]): int(row["target"]) for row in HIDDEN}
"""The hidden test labels, id to digit: only a test may read them, to build submissions."""
SPLIT = {int(row["id"]): row["split"] for row in HIDDEN}
"""Which half of the test rows each id is in: scored by validate or by submit."""
SUBMIT = [i for i in LABELS if SPLIT[i] == "submit"]
VALIDATE = [i for i in LABELS if SPLIT[i] == "validate"]


def csv_of(predictions: dict[int, int] | None = None, *, extra: str = "") -> bytes:
    """A submission: the header, one line per prediction (default: the true labels)."""
    rows = LABELS if predictions is None else predictions
    return ("id,prediction\n" + "".join(f"{i},{v}\n" for i, v in rows.items()) + extra).encode()


def replaced(line: int, text: str) -> bytes:
    """The perfect submission with its ``line``-th line (1: the header) replaced by ``text``."""
    lines = csv_of().decode().splitlines()
    lines[line - 1] = text
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
async def sandbox() -> AsyncIterator[LocalSandbox]:
    """A fresh sandbox laid out as an episode's: the workspace, and data/ read-only."""
    async with await open_local_sandbox() as sb:
        await sb.upload(TASK.workspace_dir, str(sb.workdir))
        await sb.upload(TASK.data_dir, str(sb.workdir / "data"), read_only=True)
        yield sb


async def score(
    sandbox: LocalSandbox, content: bytes, mode: Literal["validate", "submit"] = "submit"
) -> EvaluationResult:
    await sandbox.write_file("submission.csv", content)
    return await evaluate(TASK, sandbox, mode=mode)


def test_the_data_hold_no_test_labels() -> None:
    train, validation, test = (read_csv(TASK.data_dir / f"{s}.csv") for s in SPLITS)
    assert list(train[0]) == list(validation[0]) == [*PIXELS, "target"]
    assert list(test[0]) == ["id", *PIXELS]
    assert [int(row["id"]) for row in test] == sorted(LABELS) == list(range(359))
    assert (len(train), len(validation), len(test)) == (1079, 359, 359)  # 1797 images, 60/20/20
    assert set(LABELS.values()) == set(range(10))
    assert {int(row["target"]) for row in train} == set(range(10))
    shown = [p.name for folder in (TASK.workspace_dir, TASK.data_dir) for p in folder.rglob("*")]
    assert sorted(shown) == ["baseline.py", "test.csv", "train.csv", "validation.csv"]


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_shipped_baseline_scores_what_task_yaml_says(sandbox: LocalSandbox) -> None:
    for command in TASK.spec.baseline.commands:
        ran = await sandbox.exec(command, timeout=60)
        assert ran.exit_code == 0, ran.output
        assert "validation accuracy: " in ran.output
    result = await evaluate(TASK, sandbox)  # the final evaluation: mode submit
    assert result.status == "scored", result.error
    assert result.score == pytest.approx(TASK.spec.baseline.score, abs=1e-9)
    assert result.metrics == {"Accuracy": result.score}
    validated = await evaluate(TASK, sandbox, mode="validate")  # the other half of the rows
    assert validated.status == "scored", validated.error
    assert validated.score is not None and result.score is not None
    assert abs(validated.score - result.score) > 0.01


def test_validate_and_submit_rows_are_disjoint_halves_of_test_csv() -> None:
    """Nothing validating shows is a submit row's label: the halves share no row."""
    test_ids = {int(row["id"]) for row in read_csv(TASK.data_dir / "test.csv")}
    assert set(SPLIT.values()) == {"validate", "submit"}
    assert not set(VALIDATE) & set(SUBMIT)
    assert set(VALIDATE) | set(SUBMIT) == test_ids
    assert (len(VALIDATE), len(SUBMIT)) == (180, 179)
    validate_digits = Counter(LABELS[i] for i in VALIDATE)
    submit_digits = Counter(LABELS[i] for i in SUBMIT)
    assert all(abs(validate_digits[d] - submit_digits[d]) <= 1 for d in range(10))  # stratified
    # drawn as SOURCE.md says, from a random 62-bit seed kept in eval/ only
    source = (TASK.eval_dir / "evaluate.py").read_text()
    found = re.search(r"^SPLIT_SEED = ([0-9_]+)$", source, re.MULTILINE)
    assert found is not None
    seed = int(found[1])
    assert 2**40 < seed < 2**62  # not a date nor a small number
    assert str(seed) not in "".join(p.read_text() for p in TASK.workspace_dir.rglob("*.py"))
    rng, drawn = random.Random(seed), dict[int, str]()
    for digit in range(10):
        ids = sorted(i for i in LABELS if LABELS[i] == digit)
        rng.shuffle(ids)
        for i in ids:
            drawn[i] = ("validate", "submit")[len(drawn) % 2]
    assert drawn == SPLIT


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_each_mode_scores_its_own_half_of_the_rows(sandbox: LocalSandbox) -> None:
    """Wrong on the validate rows only: validating sees it, the final evaluation not."""
    content = csv_of({i: d if SPLIT[i] == "submit" else (d + 1) % 10 for i, d in LABELS.items()})
    validated, submitted = await score(sandbox, content, "validate"), await score(sandbox, content)
    assert (validated.score, submitted.score) == (0.0, 1.0)
    content = csv_of({i: d if SPLIT[i] == "validate" else (d + 1) % 10 for i, d in LABELS.items()})
    validated, submitted = await score(sandbox, content, "validate"), await score(sandbox, content)
    assert (validated.score, submitted.score) == (1.0, 0.0)
    # every row must still be predicted, scored or not
    only_submit = await score(sandbox, csv_of({i: LABELS[i] for i in SUBMIT}))
    assert only_submit.status == "evaluation_format_error"
    assert only_submit.error is not None and "no prediction for 180 of the 359" in only_submit.error


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_scores_come_from_the_hidden_labels(sandbox: LocalSandbox) -> None:
    backwards = dict(reversed(LABELS.items()))  # any order of lines will do
    perfect = await score(sandbox, csv_of(backwards))
    assert perfect.metrics == {"Accuracy": 1.0}
    assert perfect.score is not None and perfect.score > TASK.spec.baseline.score

    wrong = {i: (label + 1) % 10 if i % 4 == 0 else label for i, label in LABELS.items()}
    quarter_wrong = await score(sandbox, csv_of(wrong))
    wrong_submit_rows = sum(i % 4 == 0 for i in SUBMIT)  # ids 0, 4, ..., 356 are wrong
    assert quarter_wrong.score == (179 - wrong_submit_rows) / 179
    assert 0.7 < quarter_wrong.score < 0.8

    all_sevens = await score(sandbox, csv_of(dict.fromkeys(LABELS, 7)))
    sevens = sum(LABELS[i] == 7 for i in SUBMIT)
    assert all_sevens.score == sevens / 179
    assert all_sevens.score < 0.2 < TASK.spec.baseline.score  # the baseline learned something


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_classes_written_as_floats_a_bom_and_crlf_are_read(sandbox: LocalSandbox) -> None:
    floats = "id,prediction\r\n" + "".join(f"{i},{v:.1f}\r\n" for i, v in LABELS.items())
    result = await score(sandbox, b"\xef\xbb\xbf" + floats.encode() + b"\r\n")
    assert result.status == "scored", result.error
    assert result.score == 1.0


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_evaluation_is_deterministic(sandbox: LocalSandbox) -> None:
    content = csv_of({i: (label * i) % 10 for i, label in LABELS.items()})
    first, second = await score(sandbox, content), await score(sandbox, content)
    assert first.status == "scored" and first.metrics == second.metrics


MALFORMED = {
    "empty": (b"", "submission.csv is empty; it needs the header id,prediction"),
    "blank lines": (b"\n \n\n", "submission.csv is empty; it needs the header id,prediction"),
    "wrong header": (
        replaced(1, "id,label"),
        "the header of submission.csv is 'id,label'; it must be id,prediction",
    ),
    "no header": (b"0,7\n", "the header of submission.csv is '0,7'; it must be id,prediction"),
    "missing ids": (
        csv_of({i: v for i, v in LABELS.items() if i < 300}),
        "submission.csv has no prediction for 59 of the 359 test ids"
        " (for example 300, 301, 302, 303, 304)",
    ),
    "duplicate id": (
        csv_of(extra="5,1\n"),
        "line 361 of submission.csv: the id 5 is there already, on line 7",
    ),
    "extra id": (
        csv_of(extra="359,1\n"),
        "line 361 of submission.csv: 359 is not an id of data/test.csv",
    ),
    "id not a number": (
        replaced(2, "first,7"),
        "line 2 of submission.csv: the id 'first' is not a whole number",
    ),
    "id of 5000 digits": (  # int() refuses over 4300 digits: Invalid, not a crash
        replaced(2, "7" * 5000 + ",7"),
        f"line 2 of submission.csv: the id '{'7' * 40}...' (5000 digits) is not an id of"
        " data/test.csv",
    ),
    "id of 19 digits": (
        replaced(2, "9" * 19 + ",7"),
        "line 2 of submission.csv: the id '9999999999999999999' (19 digits) is not an id of"
        " data/test.csv",
    ),
    "id of 5001 digits, leading zeros": (  # the id 1, read as such: on line 3 again
        replaced(2, "0" * 5000 + "1,7"),
        "line 3 of submission.csv: the id 1 is there already, on line 2",
    ),
    "id in other digits": (
        replaced(2, "\u0967,7"),  # DEVANAGARI DIGIT ONE: int() would read it as 1
        "line 2 of submission.csv: the id '\u0967' is not a whole number",
    ),
    "class 10": (
        replaced(3, "1,10"),
        "line 3 of submission.csv: the prediction '10' is not a class: a whole number from 0 to 9",
    ),
    "negative class": (
        replaced(3, "1,-1"),
        "line 3 of submission.csv: the prediction '-1' is not a class: a whole number from 0 to 9",
    ),
    "fractional class": (
        replaced(3, "1,2.5"),
        "line 3 of submission.csv: the prediction '2.5' is not a class: a whole number from 0 to 9",
    ),
    "class name": (
        replaced(3, "1,two"),
        "line 3 of submission.csv: the prediction 'two' is not a class: a whole number from 0 to 9",
    ),
    "nan": (
        replaced(3, "1,nan"),
        "line 3 of submission.csv: the prediction 'nan' is not a class: a whole number from 0 to 9",
    ),
    "no prediction": (
        replaced(3, "1,"),
        "line 3 of submission.csv: the prediction '' is not a class: a whole number from 0 to 9",
    ),
    "one field": (
        replaced(4, "2"),
        "line 4 of submission.csv has 1 field; each line must be id,prediction",
    ),
    "binary garbage": (bytes(range(255, -1, -1)), "submission.csv is not UTF-8 text (byte 0)"),
    "gzipped": (gzip.compress(csv_of(), mtime=0), "submission.csv is not UTF-8 text (byte 1)"),
    "NUL characters": (
        b"id,prediction\n0,7\x00\n",
        "submission.csv contains NUL characters: it is not a CSV file",
    ),
}


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize(("content", "reason"), list(MALFORMED.values()), ids=list(MALFORMED))
async def test_malformed_submission_is_a_format_error(
    sandbox: LocalSandbox, content: bytes, reason: str
) -> None:
    result = await score(sandbox, content)
    assert result.status == "evaluation_format_error"
    assert result.error is not None
    assert re.fullmatch(re.escape(f"invalid submission: {reason}"), result.error)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_link_out_of_the_workspace_is_a_format_error(sandbox: LocalSandbox) -> None:
    # a perfect file: only where it lies is wrong
    await sandbox.write_file("out/predictions.csv", csv_of())
    await sandbox.exec("ln -s out/predictions.csv submission.csv", timeout=10)
    inside = await evaluate(TASK, sandbox)
    assert inside.status == "scored" and inside.score == 1.0  # a link within is fine
    outside = f"{sandbox.workdir.parent}/predictions.csv"  # the agent's home
    await sandbox.exec(
        f"cp out/predictions.csv {outside}; ln -sf {outside} submission.csv", timeout=10
    )
    result = await evaluate(TASK, sandbox)
    assert result.status == "evaluation_format_error"
    assert result.error == (
        f"invalid submission: submission.csv is a link to {outside}, outside the"
        " workspace; write the file itself"
    )


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_missing_submission_is_not_found(sandbox: LocalSandbox) -> None:
    result = await evaluate(TASK, sandbox)
    assert result.status == "submission_not_found"
    assert result.score is None


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_the_agent_sees_no_evaluator_nor_labels(sandbox: LocalSandbox) -> None:
    listing = (await sandbox.exec("ls -AR", timeout=10)).output
    assert "baseline.py" in listing and "test.csv" in listing
    assert "evaluate" not in listing and "test_labels" not in listing
    header = (await sandbox.exec("head -1 data/test.csv", timeout=10)).output.strip()
    assert header == ",".join(["id", *PIXELS])
