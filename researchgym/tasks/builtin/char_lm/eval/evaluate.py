"""Evaluator of char_lm: feeds a hidden test text to model.py's predict, strictly online,
and writes its bits per character.

Each mode has a hidden text of its own, from the same generator (see ../SOURCE.md):
validate.txt for the validate command, which an agent may run many times, and submit.txt
for the final evaluation, so that a model that records the text it is shown while
validating has nothing to replay at the end. Messages about a failure in submit mode
quote none of submit.txt: they give the context's length, not its characters, and of what
the model answered only numbers (rgym_eval.shown), since its answers may carry the text.

The model runs in a process of its own as the agent (rgym_eval.Player). Each line of the
text is a document, predicted from its start: at step i, one batch asks predict for the
i-character prefix of every document longer than i, so no character is ever sent before
the model has given its distribution for it. Every distribution is checked here (length,
numbers, non-negative, sum within TOLERANCE of 1), renormalised, and scored here.
"""

import json
import math
from pathlib import Path

import rgym_eval

HERE = Path(__file__).parent
TOLERANCE = 1e-3
STEP_TIMEOUT = 30.0  # seconds for one batch (one prediction per document)


def check(probs, vocab_size, where):
    """The distribution ``probs``, renormalised; Invalid if it is not one."""
    if not isinstance(probs, list) or len(probs) != vocab_size:
        size = f"{len(probs)} entries" if isinstance(probs, list) else type(probs).__name__
        raise rgym_eval.Invalid(
            f"predict({where}) returned {size}; it must return a list of {vocab_size} numbers"
            " (one per character of data/vocab.json, in its order)"
        )
    total = 0.0
    for p in probs:
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1 + TOLERANCE:
            raise rgym_eval.Invalid(
                f"predict({where}) returned {rgym_eval.shown(p)}; every entry must be a"
                " probability: a finite number from 0 to 1"
            )
        total += p
    if not abs(total - 1) <= TOLERANCE:
        raise rgym_eval.Invalid(
            f"predict({where}) returned probabilities that sum to {total:.6g}; they must sum"
            f" to 1 within {TOLERANCE:g}"
        )
    return [p / total for p in probs]


def describe(context, quote):
    """``context`` for a message: its end if ``quote``, else only its length."""
    if not context:
        return '""'
    if not quote:
        return f"<the first {len(context)} characters of a hidden document>"
    shown = context if len(context) <= 30 else "..." + context[-27:]
    return json.dumps(shown)


def zero_probability(context, char, quote):
    """The reason a distribution that gives ``char`` no probability is invalid."""
    came = f", {json.dumps(char)}" if quote else ""
    return (
        f"predict({describe(context, quote)}) gave probability 0 to the character that came"
        f" next{came}: that is infinitely many bits; give every character some probability"
    )


def evaluate():
    mode = rgym_eval.mode()
    quote = mode == "validate"  # the validate text may be quoted; the final one never is
    vocab = json.loads((HERE / "vocabulary.json").read_text())
    index = {c: i for i, c in enumerate(vocab)}
    documents = (HERE / f"{mode}.txt").read_text().splitlines(keepends=True)
    bits = 0.0
    with rgym_eval.Player() as player:
        for i in range(max(map(len, documents))):
            live = [d for d in documents if len(d) > i]
            answers = player.map("predict", [[d[:i]] for d in live], timeout=STEP_TIMEOUT)
            for document, probs in zip(live, answers):
                where = describe(document[:i], quote)
                p = check(probs, len(vocab), where)[index[document[i]]]
                if p <= 0:
                    raise rgym_eval.Invalid(zero_probability(document[:i], document[i], quote))
                bits -= math.log2(p)
    return {"BPC": bits / sum(map(len, documents))}


if __name__ == "__main__":
    rgym_eval.main(evaluate)
