"""Evaluator of the diabetes regression task: the RMSE of submission.csv against the hidden
test targets (R2 and MAE are reported too).

The submission predicts every test id, but only half of them are scored in each mode: the
validate rows when the agent validates, the submit rows in the final evaluation (the split
column of test_labels.csv, hidden). What validating shows of the targets says nothing of
the final evaluation's.

The submission is read with the agent's permissions and parsed defensively by
rgym_eval.read_predictions: UTF-8 text, the header id,prediction, each test id exactly once
and no other, a finite number for each. Anything else is rgym_eval.Invalid, never a score.
"""

import math

import rgym_eval

LABELS = "test_labels.csv"
LARGEST = 1e15
"""The largest prediction accepted (in absolute value): squares of errors stay finite."""
SPLIT_SEED = 279_349_397_982_072_116
"""The seed the split column of test_labels.csv was drawn with (see SOURCE.md): recorded
here, out of the agent's sight, to regenerate that column; the evaluator reads the column."""


def parse_prediction(token):
    shown = rgym_eval.quoted(token)
    try:
        value = float(token)
    except ValueError:
        raise rgym_eval.Invalid(f"the prediction {shown} is not a number") from None
    if not math.isfinite(value):
        raise rgym_eval.Invalid(f"the prediction {shown} is not a finite number")
    if abs(value) > LARGEST:
        raise rgym_eval.Invalid(f"the prediction {shown} is over {LARGEST:g} in size")
    return value


def evaluate():
    targets, ids = rgym_eval.read_split_labels(LABELS, float)
    # every test id is predicted, scored in this mode or not
    predictions = rgym_eval.read_predictions(targets, parse_prediction)
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
