"""Your strategy for the iterated Colonel Blotto game. Edit row_strategy."""

BATTLEFIELDS = 6
SOLDIERS = 120


def row_strategy(history):
    """Choose the row player's allocation for the next round.

    Args:
        history: The rounds played so far, oldest first, as [your_allocation,
            their_allocation] pairs; empty in the first round. An allocation is a list of
            6 non-negative ints that sum to 120.

    Returns:
        A list of 6 non-negative ints that sum to 120: the soldiers on each battlefield.
    """
    return [SOLDIERS // BATTLEFIELDS] * BATTLEFIELDS  # an even split: 20 everywhere


if __name__ == "__main__":
    print("first allocation:", row_strategy([]))
