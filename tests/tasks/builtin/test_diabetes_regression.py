"""The built-in diabetes regression: its data, baseline and evaluator, run as the engine does."""

from __future__ import annotations

import csv
import gzip
import math
import random
import re
from typing import TYPE_CHECKING, Literal

import pytest

from researchgym.sandboxes import LocalSandbox, open_local_sandbox
from researchgym.tasks import EvaluationResult, evaluate, resolve_task

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

TASK = resolve_task("diabetes_regression")
SPLITS = ("train", "validation", "test")
FEATURES = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


HIDDEN = read_csv(TASK.eval_dir / "test_labels.csv")
TARGETS = {int(row["id"]): float(row["target"]) for row in HIDDEN}
"""The hidden test targets, id to target: only a test may read them, to build submissions."""
SPLIT = {int(row["id"]): row["split"] for row in HIDDEN}
"""Which half of the test rows each id is in: scored by validate or by submit."""
SUBMIT = [i for i in TARGETS if SPLIT[i] == "submit"]
VALIDATE = [i for i in TARGETS if SPLIT[i] == "validate"]


def csv_of(predictions: dict[int, float] | None = None, *, extra: str = "") -> bytes:
    """A submission: the header, one line per prediction (default: the true targets)."""
    rows = TARGETS if predictions is None else predictions
    return ("id,prediction\n" + "".join(f"{i},{v!r}\n" for i, v in rows.items()) + extra).encode()


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


def spread(ids: list[int]) -> tuple[float, float]:
    """The mean and standard deviation of the targets of ``ids``."""
    mean = math.fsum(TARGETS[i] for i in ids) / len(ids)
    return mean, math.sqrt(math.fsum((TARGETS[i] - mean) ** 2 for i in ids) / len(ids))


def test_the_data_hold_no_test_targets() -> None:
    train, validation, test = (read_csv(TASK.data_dir / f"{s}.csv") for s in SPLITS)
    assert list(train[0]) == list(validation[0]) == [*FEATURES, "target"]
    assert list(test[0]) == ["id", *FEATURES]
    assert [int(row["id"]) for row in test] == sorted(TARGETS) == list(range(88))
    assert (len(train), len(validation), len(test)) == (266, 88, 88)  # 442 patients, 60/20/20
    shown = [p.name for folder in (TASK.workspace_dir, TASK.data_dir) for p in folder.rglob("*")]
    assert sorted(shown) == ["baseline.py", "test.csv", "train.csv", "validation.csv"]


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_shipped_baseline_scores_what_task_yaml_says(sandbox: LocalSandbox) -> None:
    for command in TASK.spec.baseline.commands:
        ran = await sandbox.exec(command, timeout=60)
        assert ran.exit_code == 0, ran.output
        assert "validation RMSE: " in ran.output
    result = await evaluate(TASK, sandbox)  # the final evaluation: mode submit
    assert result.status == "scored", result.error
    assert result.score == pytest.approx(TASK.spec.baseline.score, abs=1e-9)
    assert set(result.metrics) == {"RMSE", "R2", "MAE"}
    assert 0.4 < result.metrics["R2"] < 0.6  # a linear fit explains about half the variance
    validated = await evaluate(TASK, sandbox, mode="validate")  # the other half of the rows
    assert validated.status == "scored", validated.error
    assert validated.score is not None and result.score is not None
    assert abs(validated.score - result.score) > 1


def test_validate_and_submit_rows_are_disjoint_halves_of_test_csv() -> None:
    """Nothing validating shows is a submit row's target: the halves share no row."""
    test_ids = {int(row["id"]) for row in read_csv(TASK.data_dir / "test.csv")}
    assert set(SPLIT.values()) == {"validate", "submit"}
    assert not set(VALIDATE) & set(SUBMIT)
    assert set(VALIDATE) | set(SUBMIT) == test_ids
    assert len(VALIDATE) == len(SUBMIT) == 44
    # drawn as SOURCE.md says, from a random 62-bit seed kept in eval/ only: in each pair of
    # ids in target order, one validate row and one submit row
    source = (TASK.eval_dir / "evaluate.py").read_text()
    found = re.search(r"^SPLIT_SEED = ([0-9_]+)$", source, re.MULTILINE)
    assert found is not None
    seed = int(found[1])
    assert 2**40 < seed < 2**62  # not a date nor a small number
    assert str(seed) not in "".join(p.read_text() for p in TASK.workspace_dir.rglob("*.py"))
    rng, drawn = random.Random(seed), dict[int, str]()
    by_target = sorted(TARGETS, key=lambda i: (TARGETS[i], i))
    for pair in (sorted(by_target[k : k + 2]) for k in range(0, len(by_target), 2)):
        rng.shuffle(pair)
        drawn.update({pair[0]: "validate", pair[1]: "submit"})
    assert drawn == SPLIT


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_each_mode_scores_its_own_half_of_the_rows(sandbox: LocalSandbox) -> None:
    """Off by 10 on the validate rows only: validating sees it, the final evaluation not."""
    content = csv_of({i: t + (10 if SPLIT[i] == "validate" else 0) for i, t in TARGETS.items()})
    validated, submitted = await score(sandbox, content, "validate"), await score(sandbox, content)
    assert validated.metrics["RMSE"] == pytest.approx(10.0)
    assert submitted.metrics == {"RMSE": 0.0, "R2": 1.0, "MAE": 0.0}
    # and the other way round
    content = csv_of({i: t + (0 if SPLIT[i] == "validate" else 3) for i, t in TARGETS.items()})
    validated, submitted = await score(sandbox, content, "validate"), await score(sandbox, content)
    assert validated.metrics == {"RMSE": 0.0, "R2": 1.0, "MAE": 0.0}
    assert submitted.metrics["MAE"] == pytest.approx(3.0)
    # every row must still be predicted, scored or not
    only_submit = await score(sandbox, csv_of({i: TARGETS[i] for i in SUBMIT}))
    assert only_submit.status == "evaluation_format_error"
    assert only_submit.error is not None and "no prediction for 44 of the 88" in only_submit.error


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_scores_come_from_the_hidden_targets(sandbox: LocalSandbox) -> None:
    backwards = dict(reversed(TARGETS.items()))  # any order of lines will do
    perfect = await score(sandbox, csv_of(backwards))
    assert perfect.metrics == {"RMSE": 0.0, "R2": 1.0, "MAE": 0.0}
    assert perfect.score is not None and perfect.score < TASK.spec.baseline.score

    off_by_two = await score(sandbox, csv_of({i: t + 2 for i, t in TARGETS.items()}))
    assert off_by_two.metrics["RMSE"] == pytest.approx(2.0)
    assert off_by_two.metrics["MAE"] == pytest.approx(2.0)

    mean, deviation = spread(SUBMIT)  # R2 compares with the mean of the scored rows
    constant = await score(sandbox, csv_of(dict.fromkeys(TARGETS, mean)))
    assert constant.metrics["R2"] == pytest.approx(0.0, abs=1e-12)
    assert constant.metrics["RMSE"] == pytest.approx(deviation)
    assert constant.metrics["RMSE"] > TASK.spec.baseline.score  # the baseline learned something
    mean, deviation = spread(VALIDATE)
    constant = await score(sandbox, csv_of(dict.fromkeys(TARGETS, mean)), "validate")
    assert constant.metrics["R2"] == pytest.approx(0.0, abs=1e-12)
    assert constant.metrics["RMSE"] == pytest.approx(deviation)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_bom_crlf_and_blank_lines_are_read(sandbox: LocalSandbox) -> None:
    text = b"\xef\xbb\xbf" + csv_of().replace(b"\n", b"\r\n") + b"\r\n\r\n"
    result = await score(sandbox, text)
    assert result.status == "scored", result.error
    assert result.score == 0.0


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_evaluation_is_deterministic(sandbox: LocalSandbox) -> None:
    content = csv_of({i: t + (-1) ** i * (i % 7) * 3.3 for i, t in TARGETS.items()})
    first, second = await score(sandbox, content), await score(sandbox, content)
    assert first.status == "scored" and first.metrics == second.metrics


MALFORMED = {
    "empty": (b"", "submission.csv is empty; it needs the header id,prediction"),
    "blank lines": (b"\n \n\n", "submission.csv is empty; it needs the header id,prediction"),
    "wrong header": (
        replaced(1, "id,target"),
        "the header of submission.csv is 'id,target'; it must be id,prediction",
    ),
    "no header": (
        b"0,151.0\n",
        "the header of submission.csv is '0,151.0'; it must be id,prediction",
    ),
    "missing ids": (
        csv_of({i: t for i, t in TARGETS.items() if i not in (3, 7)}),
        "submission.csv has no prediction for 2 of the 88 test ids (for example 3, 7)",
    ),
    "header only": (
        b"id,prediction\n",
        "submission.csv has no prediction for 88 of the 88 test ids (for example 0, 1, 2, 3, 4)",
    ),
    "duplicate id": (
        csv_of(extra="0,100.0\n"),
        "line 90 of submission.csv: the id 0 is there already, on line 2",
    ),
    "extra id": (
        csv_of(extra="88,100.0\n"),
        "line 90 of submission.csv: 88 is not an id of data/test.csv",
    ),
    "negative id": (
        replaced(2, "-1,100"),
        "line 2 of submission.csv: the id '-1' is not a whole number",
    ),
    "float id": (
        replaced(2, "0.0,100"),
        "line 2 of submission.csv: the id '0.0' is not a whole number",
    ),
    "id of 5000 digits": (  # int() refuses over 4300 digits: Invalid, not a crash
        replaced(2, "9" * 5000 + ",100"),
        f"line 2 of submission.csv: the id '{'9' * 40}...' (5000 digits) is not an id of"
        " data/test.csv",
    ),
    "id of 19 digits": (
        replaced(2, "1" + "0" * 18 + ",100"),
        "line 2 of submission.csv: the id '1000000000000000000' (19 digits) is not an id of"
        " data/test.csv",
    ),
    "id of 5001 digits, leading zeros": (  # the id 1, read as such: on line 3 again
        replaced(2, "0" * 5000 + "1,100"),
        "line 3 of submission.csv: the id 1 is there already, on line 2",
    ),
    "id in other digits": (
        replaced(2, "\u0661,100"),  # ARABIC-INDIC DIGIT ONE: int() would read it as 1
        "line 2 of submission.csv: the id '\u0661' is not a whole number",
    ),
    "not a number": (
        replaced(3, "1,abc"),
        "line 3 of submission.csv: the prediction 'abc' is not a number",
    ),
    "no prediction": (
        replaced(3, "1,"),
        "line 3 of submission.csv: the prediction '' is not a number",
    ),
    "nan": (
        replaced(3, "1,nan"),
        "line 3 of submission.csv: the prediction 'nan' is not a finite number",
    ),
    "infinity": (
        replaced(3, "1,-inf"),
        "line 3 of submission.csv: the prediction '-inf' is not a finite number",
    ),
    "huge": (
        replaced(3, "1,1e300"),
        "line 3 of submission.csv: the prediction '1e300' is over 1e+15 in size",
    ),
    "three fields": (
        replaced(4, "2,100,3"),
        "line 4 of submission.csv has 3 fields; each line must be id,prediction",
    ),
    "binary garbage": (bytes(range(256)), "submission.csv is not UTF-8 text (byte 128)"),
    "gzipped": (gzip.compress(csv_of(), mtime=0), "submission.csv is not UTF-8 text (byte 1)"),
    "NUL characters": (
        b"id,prediction\n0,\x00\n",
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
    assert inside.status == "scored" and inside.score == 0.0  # a link within is fine
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
async def test_the_agent_sees_no_evaluator_nor_targets(sandbox: LocalSandbox) -> None:
    listing = (await sandbox.exec("ls -AR", timeout=10)).output
    assert "baseline.py" in listing and "test.csv" in listing
    assert "evaluate" not in listing and "test_labels" not in listing
    header = (await sandbox.exec("head -1 data/test.csv", timeout=10)).output.strip()
    assert header == ",".join(["id", *FEATURES])
