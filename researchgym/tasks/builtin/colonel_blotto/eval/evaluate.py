"""Evaluator of the iterated Colonel Blotto game: plays row_strategy against a fixed
stochastic column player over many seeded games and writes the mean row payoff per round.

rgym_eval.play_repeated runs the strategy in its own process as the agent, all games one
round at a time; every allocation is checked here.
"""

import rgym_eval

BATTLEFIELDS = 6
SOLDIERS = 120
ROUNDS = 10
GAMES = 2_000
# The column player's seeds. `validate` plays other games than the final evaluation
# (`submit`), so that nothing a strategy records while validating helps it at the end.
SEEDS = {"validate": 2394256454348362949, "submit": 4147937037085187762}
COUNTER = 0.3  # how often the column player counters the row player's last allocation
CONCENTRATE = 0.3  # how often (otherwise) it concentrates on 3 or 4 battlefields


def column_allocation(history, rng):
    """A mix of three styles: a counter to the row player's last allocation, a concentrated
    push on a few battlefields, or a uniformly random split."""
    if history and rng.random() < COUNTER:
        return counter(history[-1][0], rng)
    if rng.random() < CONCENTRATE:
        return concentrated(rng)
    return uniform_split(rng)


def counter(last, rng):
    """Beat the row player's last allocation on its four weakest battlefields by one
    soldier each, and split the rest evenly over the other two."""
    order = sorted(range(BATTLEFIELDS), key=lambda i: (last[i], rng.random()))
    allocation = [0] * BATTLEFIELDS
    for i in order[:4]:
        allocation[i] = last[i] + 1
    rest = SOLDIERS - sum(allocation)  # >= 36: the four weakest hold at most 80
    allocation[order[4]] = rest // 2
    allocation[order[5]] = rest - rest // 2
    return allocation


def concentrated(rng):
    """Nearly even amounts on 3 or 4 random battlefields, nothing elsewhere."""
    k = rng.choice((3, 4))
    parts = [SOLDIERS // k] * k
    for _ in range(10):
        i, j = rng.sample(range(k), 2)
        shift = rng.randint(0, 5)
        if parts[i] >= shift:
            parts[i] -= shift
            parts[j] += shift
    allocation = [0] * BATTLEFIELDS
    for field, part in zip(rng.sample(range(BATTLEFIELDS), k), parts):
        allocation[field] = part
    return allocation


def uniform_split(rng):
    """A split drawn uniformly from all allocations of the soldiers."""
    cuts = sorted(rng.randint(0, SOLDIERS) for _ in range(BATTLEFIELDS - 1))
    return [b - a for a, b in zip([0, *cuts], [*cuts, SOLDIERS])]


def check(allocation):
    """Raise Invalid unless ``allocation`` is a valid one."""
    shown = rgym_eval.shown(allocation)  # only its type and size, in the final evaluation
    if not isinstance(allocation, list) or len(allocation) != BATTLEFIELDS:
        raise rgym_eval.Invalid(
            f"row_strategy returned {shown}; it must be a list of {BATTLEFIELDS} ints"
        )
    for soldiers in allocation:
        if not isinstance(soldiers, int) or isinstance(soldiers, bool) or soldiers < 0:
            raise rgym_eval.Invalid(
                f"row_strategy returned {shown}; each entry must be an int >= 0"
            )
    if sum(allocation) != SOLDIERS:
        raise rgym_eval.Invalid(
            f"row_strategy returned {shown}, which sums to {sum(allocation)}; "
            f"it must sum to {SOLDIERS}"
        )


def payoff(row, column):
    """+1 if the row player wins more battlefields, -1 if fewer, 0 if as many."""
    won = sum(r > c for r, c in zip(row, column))
    lost = sum(r < c for r, c in zip(row, column))
    return (won > lost) - (won < lost)


def evaluate():
    score = rgym_eval.play_repeated(
        games=GAMES,
        rounds=ROUNDS,
        seed=SEEDS[rgym_eval.mode()],
        check=check,
        opponent=column_allocation,
        payoff=payoff,
    )
    return {"Score": score}


if __name__ == "__main__":
    rgym_eval.main(evaluate)
