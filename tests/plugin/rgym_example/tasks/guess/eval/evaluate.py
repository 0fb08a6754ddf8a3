"""Scores answer.txt: minus its distance to 42."""

import rgym_eval


def evaluate():
    text = rgym_eval.read_submission(limit=100).decode("utf-8", "replace").strip()
    try:
        guess = int(text)
    except ValueError:
        raise rgym_eval.Invalid("answer.txt must hold a whole number") from None
    return {"Closeness": -abs(guess - 42)}


if __name__ == "__main__":
    rgym_eval.main(evaluate)
