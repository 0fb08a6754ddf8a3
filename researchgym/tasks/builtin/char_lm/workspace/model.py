"""The submission: predict(context) gives the next character's distribution.

This baseline interpolates the trigram, bigram and unigram estimates counted by train.py
(ngram.json) with fixed weights; the unigram is add-one smoothed, so every character of
the vocabulary gets some probability.
"""

import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
WEIGHTS = [0.2, 0.3, 0.5]  # of the estimates from 0, 1 and 2 characters of context

with open(os.path.join(HERE, "ngram.json")) as f:
    _MODEL = json.load(f)
VOCAB = _MODEL["vocab"]
ORDER = _MODEL["order"]
COUNTS = [
    {c: {int(k): v for k, v in row.items()} for c, row in table.items()}
    for table in _MODEL["counts"]
]
_cache = {}


def predict(context):
    """The probabilities of each character of data/vocab.json coming next after ``context``.

    Args:
        context: The document so far (an empty string before its first character).

    Returns:
        A list of len(VOCAB) non-negative numbers that sum to 1, in vocab.json's order.
    """
    key = ("\n" * (ORDER - 1) + context)[len(context) :]
    if key not in _cache:
        _cache[key] = _distribution(key)
    return _cache[key]


def _distribution(key):
    size = len(VOCAB)
    probs = [0.0] * size
    unused = 0.0  # weight of the contexts never seen in training, given to the unigram
    for n, weight in enumerate(WEIGHTS):
        followers = COUNTS[n].get(key[len(key) - n :] if n else "")
        if n == 0:
            total = sum(followers.values()) + size
            estimate = {i: followers.get(i, 0) + 1 for i in range(size)}
        elif followers is None:
            unused += weight
            continue
        else:
            total = sum(followers.values())
            estimate = followers
        for i, c in estimate.items():
            probs[i] += weight * c / total
    if unused:
        followers = COUNTS[0][""]
        total = sum(followers.values()) + size
        for i in range(size):
            probs[i] += unused * (followers.get(i, 0) + 1) / total
    return probs
