"""Your strategy for the iterated Prisoner's Dilemma. Edit row_strategy."""

COOPERATE = 0
DEFECT = 1


def row_strategy(history):
    """Choose the row player's next move.

    Args:
        history: The rounds played so far, oldest first, as [your_move, their_move] pairs;
            empty in the first round. Moves are 0 (cooperate) or 1 (defect).

    Returns:
        The int 0 to cooperate or 1 to defect (not 1.0, True or "0").
    """
    if not history:
        return COOPERATE
    return history[-1][1]  # tit for tat: do what the opponent did last round


if __name__ == "__main__":
    print("first move:", row_strategy([]))
    print("after being defected against:", row_strategy([(0, 1)]))
