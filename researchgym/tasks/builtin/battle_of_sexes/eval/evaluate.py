"""Evaluator of the iterated Battle of the Sexes: plays row_strategy against a fixed
stochastic column player over many seeded games and writes the mean row payoff per round.

rgym_eval.play_repeated runs the strategy in its own process as the agent, all games one
round at a time; every move is checked here.
"""

import rgym_eval

ROUNDS = 10
GAMES = 10_000
# The column player's seeds. `validate` plays other games than the final evaluation
# (`submit`), so that nothing a strategy records while validating helps it at the end.
SEEDS = {"validate": 1106718096821251090, "submit": 3946796049415563554}
# PAYOFF[(row_move, column_move)] = (row payoff, column payoff); any other pair pays (0, 0).
PAYOFF = {(0, 0): (2, 1), (1, 1): (1, 2)}


def column_strategy(history, rng):
    """A follower with a sense of fairness.

    It opens with its own preference (1) more often than not. Then it keeps score of the
    coordinated rounds: once the row player has had its favourite outcome (0, 0) three times
    more than the column its own (1, 1), it insists on 1; while the row player is behind, it
    returns the favour with 0. Otherwise it follows the row player's last move, with noise.
    """
    if not history:
        return 1 if rng.random() < 0.6 else 0
    lead = sum(1 for row, column in history if row == column == 0) - sum(
        1 for row, column in history if row == column == 1
    )
    if lead >= 3:
        return 1 if rng.random() < 0.9 else 0
    if lead <= -1:
        return 0 if rng.random() < 0.9 else 1
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
        payoff=lambda row, column: PAYOFF.get((row, column), (0, 0))[0],
    )
    return {"Score": score}


if __name__ == "__main__":
    rgym_eval.main(evaluate)
