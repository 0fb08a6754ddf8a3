"""Score model.py on a text the way the evaluator scores it on the hidden test text.

Each line is a document, predicted from its start one character at a time (its newline
included); the score is the mean number of bits per character, -log2 p(next character),
over all characters (lower is better). The evaluator runs predict in a process of its
own and sends each context as JSON; this runs it here, which is quicker to try things.

Usage: python3 bpc.py [text]   (default: data/valid.txt)
"""

import json
import math
import sys

import model

TOLERANCE = 1e-3


def bits_per_character(text, predict, vocab):
    index = {c: i for i, c in enumerate(vocab)}
    bits, count = 0.0, 0
    for document in text.splitlines(keepends=True):
        for i, char in enumerate(document):
            probs = predict(document[:i])
            total = sum(probs)
            if len(probs) != len(vocab) or abs(total - 1) > TOLERANCE or min(probs) < 0:
                raise ValueError(
                    f"predict({document[:i]!r}) is not a distribution over the vocabulary"
                )
            bits -= math.log2(probs[index[char]] / total)
            count += 1
    return bits / count


if __name__ == "__main__":
    path = sys.argv[1] if len(sys.argv) > 1 else "data/valid.txt"
    with open(path) as f:
        text = f.read()
    with open("data/vocab.json") as f:
        vocab = json.load(f)
    print(f"{path}: {bits_per_character(text, model.predict, vocab):.4f} bits per character")
