"""Evaluator of the digits classification task: the accuracy of submission.csv against the
hidden test labels.

The submission predicts every test id, but only half of them are scored in each mode: the
validate rows when the agent validates, the submit rows in the final evaluation (the split
column of test_labels.csv, hidden, stratified by class). What validating shows of the
labels says nothing of the final evaluation's.

The submission is read with the agent's permissions and parsed defensively by
rgym_eval.read_predictions: UTF-8 text, the header id,prediction, each test id exactly once
and no other, a class (a whole number from 0 to 9) for each. Anything else is rgym_eval.Invalid,
never a score.
"""

import re

import rgym_eval

LABELS = "test_labels.csv"
CLASS = re.compile(r"[0-9](?:\.0*)?")
"""A class: a digit, also written as a float (7.0), as numpy arrays of floats print them."""
SPLIT_SEED = 269_738_280_717_701_181
"""The seed the split column of test_labels.csv was drawn with (see SOURCE.md): recorded
here, out of the agent's sight, to regenerate that column; the evaluator reads the column."""


def parse_prediction(token):
    shown = rgym_eval.quoted(token)
    if not CLASS.fullmatch(token):
        raise rgym_eval.Invalid(
            f"the prediction {shown} is not a class: a whole number from 0 to 9"
        )
    return int(token[0])


def evaluate():
    labels, ids = rgym_eval.read_split_labels(LABELS, int)
    # every test id is predicted, scored in this mode or not
    predictions = rgym_eval.read_predictions(labels, parse_prediction)
    correct = sum(predictions[i] == labels[i] for i in ids)
    return {"Accuracy": correct / len(ids)}


if __name__ == "__main__":
    rgym_eval.main(evaluate)
