"""Continuous Mountain Car, in pure Python, and the policy format the evaluator reads.

The dynamics are gymnasium's MountainCarContinuous-v0 (computed in double precision):

    force    = clip(action, -1, 1)
    velocity = clip(velocity + 0.0015 * force - 0.0025 * cos(3 * position), -0.07, 0.07)
    position = clip(position + velocity, -1.2, 0.6)
    if position == -1.2 and velocity < 0: velocity = 0        (the left wall)
    done     = position >= 0.45 and velocity >= 0             (the goal)
    reward   = -0.1 * action**2, plus 100 on reaching the goal

An episode starts at rest at a position drawn uniformly from [-0.6, -0.4] and lasts at most
999 steps. The observation is (position, velocity).

A policy is a small MLP with H hidden units (1 <= H <= 64), stored as JSON:

    {"W1": [[w, w], ...H rows], "b1": [H numbers], "W2": [[H numbers]], "b2": [1 number]}

    hidden = tanh(W1 @ (position, velocity) + b1)
    action = tanh(W2 @ hidden + b2)

Every number must be finite with absolute value at most 1e6.

Run this file to score policy.json on a few episodes (the evaluator uses its own, hidden,
start positions): python3 env.py [policy.json] [episodes]
"""

import json
import math
import random
import sys

MIN_POSITION = -1.2
MAX_POSITION = 0.6
MAX_SPEED = 0.07
GOAL_POSITION = 0.45
GOAL_VELOCITY = 0.0
POWER = 0.0015
MAX_STEPS = 999
MAX_HIDDEN = 64
MAX_ABS = 1e6


class MountainCarContinuous:
    """The environment: reset(seed) gives the first observation, step(action) the rest."""

    def __init__(self):
        self.position = 0.0
        self.velocity = 0.0
        self.steps = 0

    def reset(self, seed=None, *, rng=None):
        """Start an episode; returns the observation (position, velocity)."""
        rng = rng or random.Random(seed)
        self.position = rng.uniform(-0.6, -0.4)
        self.velocity = 0.0
        self.steps = 0
        return (self.position, self.velocity)

    def step(self, action):
        """Apply a force; returns (observation, reward, terminated, truncated)."""
        force = min(max(action, -1.0), 1.0)
        velocity = self.velocity + force * POWER - 0.0025 * math.cos(3 * self.position)
        velocity = min(max(velocity, -MAX_SPEED), MAX_SPEED)
        position = min(max(self.position + velocity, MIN_POSITION), MAX_POSITION)
        if position == MIN_POSITION and velocity < 0:
            velocity = 0.0
        self.position, self.velocity = position, velocity
        self.steps += 1
        terminated = position >= GOAL_POSITION and velocity >= GOAL_VELOCITY
        reward = (100.0 if terminated else 0.0) - 0.1 * action * action
        truncated = not terminated and self.steps >= MAX_STEPS
        return (position, velocity), reward, terminated, truncated


def act(policy, observation):
    """The action of ``policy`` (a dict as in policy.json) for an observation."""
    position, velocity = observation
    hidden = [
        math.tanh(w[0] * position + w[1] * velocity + b) for w, b in zip(policy["W1"], policy["b1"])
    ]
    return math.tanh(sum(w * h for w, h in zip(policy["W2"][0], hidden)) + policy["b2"][0])


def episode_return(policy, seed=None, *, rng=None):
    """The return of one episode of ``policy``."""
    env = MountainCarContinuous()
    observation = env.reset(seed, rng=rng)
    total = 0.0
    while True:
        observation, reward, terminated, truncated = env.step(act(policy, observation))
        total += reward
        if terminated or truncated:
            return total


def mean_return(policy, episodes=20, seed=0):
    """The mean return of ``policy`` over ``episodes`` episodes seeded by ``seed``."""
    rng = random.Random(seed)
    return sum(episode_return(policy, rng=rng) for _ in range(episodes)) / episodes


def check_policy(policy):
    """Raise ValueError if ``policy`` breaks the format the evaluator accepts."""
    if not isinstance(policy, dict) or set(policy) != {"W1", "b1", "W2", "b2"}:
        raise ValueError("a policy is an object with exactly the keys W1, b1, W2, b2")
    if not isinstance(policy["b1"], list) or not 1 <= len(policy["b1"]) <= MAX_HIDDEN:
        raise ValueError(f"b1 must be a list of 1 to {MAX_HIDDEN} numbers")
    hidden = len(policy["b1"])
    for key, rows, columns in (("W1", hidden, 2), ("W2", 1, hidden)):
        matrix = policy[key]
        if not isinstance(matrix, list) or len(matrix) != rows:
            raise ValueError(f"{key} must be a list of {rows} rows of {columns} numbers")
        for row in matrix:
            _check_numbers(key, row, columns)
    _check_numbers("b1", policy["b1"], hidden)
    _check_numbers("b2", policy["b2"], 1)


def _check_numbers(key, values, count):
    if not isinstance(values, list) or len(values) != count:
        raise ValueError(f"{key} has a row that is not a list of {count} numbers")
    for x in values:
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            raise ValueError(f"{key} holds {x!r}, not a number")
        if not abs(x) <= MAX_ABS:
            raise ValueError(f"{key} holds {x}; numbers must be finite, |x| <= {MAX_ABS:g}")


if __name__ == "__main__":
    path = sys.argv[1] if len(sys.argv) > 1 else "policy.json"
    episodes = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    with open(path) as f:
        policy = json.load(f)
    check_policy(policy)
    print(f"mean return over {episodes} episodes: {mean_return(policy, episodes, seed=2024):.3f}")
