"""Evaluator of the diabetes regression task: the RMSE of submission.csv against the hidden
test targets (R2 and MAE are reported too).

The submission predicts every test id, but only half of them are scored in each mode: the
validate rows when the agent validates, the submit rows in the final evaluation (the split
column of test_labels.csv, hidden). What validating shows of the targets says nothing of
the final evaluation's.

The submission is read with the agent's permissions (rgym_eval.read_submission) and parsed
here, defensively: UTF-8 text, the header id,prediction, each test id exactly once and no
other, a finite number for each. Anything else is rgym_eval.Invalid, never a score.
"""

import csv
import io
import math
import os
import re

import rgym_eval

LABELS = "test_labels.csv"
HEADER = ["id", "prediction"]
MAX_BYTES = 4 * 1024 * 1024
LARGEST = 1e15
"""The largest prediction accepted (in absolute value): squares of errors stay finite."""
SHOWN = 5
"""Ids quoted in an error about missing ids."""
ID_DIGITS = 18
"""Digits an id may have, leading zeros aside: far more than any test id has."""
MODES = ("validate", "submit")
SPLIT_SEED = 279_349_397_982_072_116
"""The seed the split column of test_labels.csv was drawn with (see SOURCE.md): recorded
here, out of the agent's sight, to regenerate that column; the evaluator reads the column."""


def read_labels():
    """Every test id's label, and the ids scored in this mode (rgym_eval.mode())."""
    mode = rgym_eval.mode()
    if mode not in MODES:
        raise ValueError(f"unknown evaluation mode {mode!r}")  # researchgym's bug, not the agent's
    with open(LABELS, newline="") as f:
        rows = list(csv.DictReader(f))
    labels = {int(row["id"]): float(row["target"]) for row in rows}
    return labels, sorted(int(row["id"]) for row in rows if row["split"] == mode)


def quoted(token):
    return repr(token if len(token) <= 40 else token[:40] + "...")


def parse_prediction(token):
    try:
        value = float(token)
    except ValueError:
        raise rgym_eval.Invalid(f"the prediction {quoted(token)} is not a number") from None
    if not math.isfinite(value):
        raise rgym_eval.Invalid(f"the prediction {quoted(token)} is not a finite number")
    if abs(value) > LARGEST:
        raise rgym_eval.Invalid(f"the prediction {quoted(token)} is over {LARGEST:g} in size")
    return value


def submission_text():
    path = rgym_eval.submission()
    # Read first, with the agent's permissions: a link to what the agent may not read fails
    # there, before this process (which may read more) resolves where the link leads.
    raw = rgym_eval.read_submission(path, limit=MAX_BYTES)
    real = os.path.realpath(path)
    root = os.path.realpath(rgym_eval.workspace())
    if os.path.commonpath([real, root]) != root:
        raise rgym_eval.Invalid(
            f"{path.name} is a link to {real}, outside the workspace; write the file itself"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise rgym_eval.Invalid(f"{path.name} is not UTF-8 text (byte {e.start})") from None
    if "\x00" in text:
        raise rgym_eval.Invalid(f"{path.name} contains NUL characters: it is not a CSV file")
    if not text.strip():
        raise rgym_eval.Invalid(f"{path.name} is empty; it needs the header id,prediction")
    return path.name, text


def read_predictions(ids, parse):
    """The submission's predictions, id to value: each id of ``ids`` exactly once."""
    name, text = submission_text()
    reader = csv.reader(io.StringIO(text, newline=""))
    predictions, lines = {}, {}
    try:
        header = [field.strip() for field in next((row for row in reader if row), [])]
        if header != HEADER:
            shown = quoted(",".join(header))
            raise rgym_eval.Invalid(f"the header of {name} is {shown}; it must be id,prediction")
        for row in reader:
            if row:
                where = f"line {reader.line_num} of {name}"
                key, value = parse_row(row, where, ids, parse)
                if key in lines:
                    seen = f"line {lines[key]}"
                    raise rgym_eval.Invalid(f"{where}: the id {key} is there already, on {seen}")
                predictions[key], lines[key] = value, reader.line_num
    except csv.Error as e:
        raise rgym_eval.Invalid(f"{name} is not valid CSV: {e}") from None
    missing = sorted(set(ids) - predictions.keys())
    if missing:
        raise rgym_eval.Invalid(
            f"{name} has no prediction for {len(missing)} of the {len(ids)} test ids"
            f" (for example {', '.join(map(str, missing[:SHOWN]))})"
        )
    return predictions


def parse_row(row, where, ids, parse):
    if len(row) != len(HEADER):
        fields = f"{len(row)} field" + ("s" if len(row) != 1 else "")
        raise rgym_eval.Invalid(f"{where} has {fields}; each line must be id,prediction")
    token = row[0].strip()
    if not re.fullmatch(r"[0-9]+", token):
        raise rgym_eval.Invalid(f"{where}: the id {quoted(token)} is not a whole number")
    significant = token.lstrip("0") or "0"
    if len(significant) > ID_DIGITS:  # int() refuses over 4300 digits; no id comes near
        raise rgym_eval.Invalid(
            f"{where}: the id {quoted(token)} ({len(token)} digits) is not an id of data/test.csv"
        )
    key = int(significant)
    if key not in ids:
        raise rgym_eval.Invalid(f"{where}: {key} is not an id of data/test.csv")
    try:
        return key, parse(row[1].strip())
    except rgym_eval.Invalid as e:
        raise rgym_eval.Invalid(f"{where}: {e}") from None


def evaluate():
    targets, ids = read_labels()
    predictions = read_predictions(targets, parse_prediction)  # every test id, scored or not
    errors = [predictions[i] - targets[i] for i in ids]
    mean = math.fsum(targets[i] for i in ids) / len(ids)
    total = math.fsum((targets[i] - mean) ** 2 for i in ids)
    squared = math.fsum(e * e for e in errors)
    return {
        "RMSE": math.sqrt(squared / len(ids)),
        "R2": 1 - squared / total,
        "MAE": math.fsum(abs(e) for e in errors) / len(ids),
    }


if __name__ == "__main__":
    rgym_eval.main(evaluate)
