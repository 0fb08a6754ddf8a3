"""Baseline: random search over small MLP policies; writes policy.json.

Draws a few random policies, scores each on ONE training episode, and keeps the best. It
takes well under a second, and it overfits: the policy it keeps reached the goal from that one
start position, but from many other start positions it does not (python3 env.py shows
it). There is plenty of room for better methods: more episodes per candidate, hill
climbing or evolution strategies, policy gradients, or a controller designed by hand and
written as parameters.

Usage: python3 train.py [seed]
"""

import json
import random
import sys

from env import mean_return

HIDDEN = 4
CANDIDATES = 10
EPISODES = 1  # training episodes per candidate
TRAIN_SEED = 1  # start positions of the training episodes
VELOCITY_SCALE = 5.0  # the velocity is small (|v| <= 0.07): its weights are drawn larger


def random_policy(rng):
    """A policy with standard normal weights, N(0, VELOCITY_SCALE) for the velocity's."""
    return {
        "W1": [[rng.gauss(0, 1), rng.gauss(0, VELOCITY_SCALE)] for _ in range(HIDDEN)],
        "b1": [rng.gauss(0, 1) for _ in range(HIDDEN)],
        "W2": [[rng.gauss(0, 1) for _ in range(HIDDEN)]],
        "b2": [rng.gauss(0, 1)],
    }


def main(seed=0):
    rng = random.Random(seed)
    best, best_score = None, float("-inf")
    for candidate in range(CANDIDATES):
        policy = random_policy(rng)
        score = mean_return(policy, EPISODES, seed=TRAIN_SEED)
        if score > best_score:
            best, best_score = policy, score
        print(f"candidate {candidate + 1}: return {score:8.3f}, best {best_score:8.3f}")
    with open("policy.json", "w") as f:
        json.dump(best, f)
    print(f"wrote policy.json (training return {best_score:.3f})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
