"""Evaluator of the iterated Prisoner's Dilemma: plays row_strategy against a fixed
stochastic opponent over many seeded games and writes the mean row payoff per round.

rgym_eval.play_repeated runs the strategy in its own process as the agent, all games one
round at a time; every move is checked here.
"""

import rgym_eval

ROUNDS = 10
GAMES = 10_000
# The column player's seeds. `validate` plays other games than the final evaluation
# (`submit`), so that nothing a strategy records while validating helps it at the end.
SEEDS = {"validate": 1464962305292062328, "submit": 2645457190669787344}
# PAYOFF[row_move][column_move] = (row payoff, column payoff); 0 cooperates, 1 defects.
PAYOFF = {0: {0: (3, 3), 1: (0, 5)}, 1: {0: (5, 0), 1: (1, 1)}}


def column_strategy(history, rng):
    """A forgiving, noisy tit for tat that holds a grudge against repeated defection."""
    if not history:
        return 0 if rng.random() < 0.9 else 1
    recent = [row for row, _ in history[-3:]]
    if sum(recent) >= 2:
        return 1 if rng.random() < 0.9 else 0
    if rng.random() < 0.8:
        return history[-1][0]
    return rng.randint(0, 1)


def check(row):
    """Raise Invalid unless ``row`` is a move: the int 0 or 1."""
    if not isinstance(row, int) or isinstance(row, bool) or row not in (0, 1):
        shown = rgym_eval.shown(row)  # only its type, in the final evaluation
        raise rgym_eval.Invalid(f"row_strategy returned {shown}; it must be 0 or 1")


def evaluate():
    score = rgym_eval.play_repeated(
        games=GAMES,
        rounds=ROUNDS,
        seed=SEEDS[rgym_eval.mode()],
        check=check,
        opponent=column_strategy,
        payoff=lambda row, column: PAYOFF[row][column][0],
    )
    return {"Score": score}


if __name__ == "__main__":
    rgym_eval.main(evaluate)
