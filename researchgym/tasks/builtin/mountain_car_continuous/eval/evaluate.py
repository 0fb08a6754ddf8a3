"""Evaluator of continuous Mountain Car: runs the submitted MLP policy on seeded episodes
and writes the mean return.

The submission is parameters (policy.json), never code: it is read with the agent's
permissions (rgym_eval.read_submission), checked strictly, and run here on this file's own
copy of gymnasium's MountainCarContinuous-v0 dynamics (in double precision). The start
positions come from a seed that only this folder knows, one per mode: validating runs the
policy from other start positions than the final evaluation (submit), so that tuning a
policy to what validating reports says nothing more of the final score than honest
generalisation does.
"""

import json
import math
import random

import rgym_eval

EPISODES = 100
SEEDS = {"validate": 2_969_566_209_975_828_711, "submit": 2_733_930_748_309_743_229}
"""The hidden seeds of the start positions, by mode (rgym_eval.mode()): drawn at random, and
other than the workspace's development seeds (env.py, train.py)."""
MAX_STEPS = 999
MAX_HIDDEN = 64
MAX_ABS = 1e6
MAX_BYTES = 1_000_000
KEYS = ("W1", "b1", "W2", "b2")


def _numbers(key, values, count, what=None):
    """The list ``values`` of ``count`` finite numbers as floats, or Invalid."""
    if not isinstance(values, list) or len(values) != count:
        numbers = "1 number" if count == 1 else f"{count} numbers"
        raise rgym_eval.Invalid(f"{what or key} must be a list of {numbers}; found {_show(values)}")
    for x in values:
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            raise rgym_eval.Invalid(f"{key} holds {_show(x)}, which is not a number")
        if not abs(x) <= MAX_ABS:  # also catches NaN
            raise rgym_eval.Invalid(
                f"{key} holds {_show(x)}; every number must be finite with |x| <= {MAX_ABS:g}"
            )
    return [float(x) for x in values]


def _matrix(key, rows, count, columns):
    if not isinstance(rows, list) or len(rows) != count:
        raise rgym_eval.Invalid(
            f"{key} must be a list of {count} row(s) of {columns} numbers; found {_show(rows)}"
        )
    return [_numbers(key, row, columns, f"each row of {key}") for row in rows]


def _show(value):
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def read_policy():
    """The submitted policy, checked: (W1, b1, W2 row, b2) as floats."""
    raw = rgym_eval.read_submission(limit=MAX_BYTES)
    try:
        policy = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise rgym_eval.Invalid(f"policy.json is not valid JSON: {e}") from None
    if not isinstance(policy, dict) or sorted(policy) != sorted(KEYS):
        found = sorted(policy) if isinstance(policy, dict) else type(policy).__name__
        raise rgym_eval.Invalid(
            f"policy.json must be an object with exactly the keys W1, b1, W2, b2; found {found}"
        )
    b1 = policy["b1"]
    if not isinstance(b1, list) or not 1 <= len(b1) <= MAX_HIDDEN:
        raise rgym_eval.Invalid(
            f"b1 must be a list of 1 to {MAX_HIDDEN} numbers (one per hidden unit); "
            f"found {_show(b1)}"
        )
    hidden = len(b1)
    return (
        _matrix("W1", policy["W1"], hidden, 2),
        _numbers("b1", b1, hidden),
        _matrix("W2", policy["W2"], 1, hidden)[0],
        _numbers("b2", policy["b2"], 1)[0],
    )


def _no_constant(name):
    raise ValueError(f"{name} is not a number JSON allows")


def episode_return(policy, position):
    """One episode from ``position`` at rest: gymnasium's dynamics, the policy's actions."""
    w1, b1, w2, b2 = policy
    velocity = 0.0
    total = 0.0
    for _ in range(MAX_STEPS):
        hidden = [math.tanh(w[0] * position + w[1] * velocity + b) for w, b in zip(w1, b1)]
        action = math.tanh(sum(w * h for w, h in zip(w2, hidden)) + b2)
        force = min(max(action, -1.0), 1.0)
        velocity += force * 0.0015 - 0.0025 * math.cos(3 * position)
        velocity = min(max(velocity, -0.07), 0.07)
        position = min(max(position + velocity, -1.2), 0.6)
        if position == -1.2 and velocity < 0:
            velocity = 0.0
        goal = position >= 0.45 and velocity >= 0.0
        total += (100.0 if goal else 0.0) - 0.1 * action * action
        if goal:
            return total
    return total


def starts(mode):
    """The start positions of the episodes scored in ``mode``."""
    if mode not in SEEDS:
        raise ValueError(f"unknown evaluation mode {mode!r}")  # researchgym's bug, not the agent's
    rng = random.Random(SEEDS[mode])
    return [rng.uniform(-0.6, -0.4) for _ in range(EPISODES)]


def evaluate():
    policy = read_policy()
    returns = [episode_return(policy, start) for start in starts(rgym_eval.mode())]
    return {"Reward": sum(returns) / EPISODES, "Success": sum(r > 0 for r in returns) / EPISODES}


if __name__ == "__main__":
    rgym_eval.main(evaluate)
