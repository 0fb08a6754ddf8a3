"""Baseline: count the character n-grams of data/train.txt (up to trigrams) into ngram.json.

model.py loads the counts and predicts with a fixed interpolation of trigram, bigram and
unigram estimates. Every document is one line; before a document's first character the
context is padded with newlines, so that "the start of a document" looks like the
characters after the end of one.

Usage: python3 train.py   (then: python3 bpc.py, to score model.py on data/valid.txt)
"""

import json
from collections import Counter, defaultdict

ORDER = 3  # trigrams: two characters of context


def count(text, vocab):
    counts = [defaultdict(Counter) for _ in range(ORDER)]
    padded = "\n" * (ORDER - 1) + text
    for i in range(ORDER - 1, len(padded)):
        char = padded[i]
        for n in range(ORDER):  # n characters of context
            counts[n][padded[i - n : i]][vocab[char]] += 1
    return counts


def main():
    with open("data/train.txt") as f:
        text = f.read()
    with open("data/vocab.json") as f:
        chars = json.load(f)
    vocab = {c: i for i, c in enumerate(chars)}
    counts = count(text, vocab)
    tables = [
        {context: dict(followers) for context, followers in table.items()} for table in counts
    ]
    with open("ngram.json", "w") as f:
        json.dump({"vocab": chars, "order": ORDER, "counts": tables}, f)
    sizes = ", ".join(str(len(t)) for t in tables)
    print(f"wrote ngram.json: {sizes} contexts of length 0..{ORDER - 1}")


if __name__ == "__main__":
    main()
