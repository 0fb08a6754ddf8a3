"""``researchgym replay``: a stored episode's actions re-run in a fresh sandbox, and compared."""

from __future__ import annotations

from typing import Annotated

import typer

from researchgym.cli._options import DEFAULT_DB, SANDBOX_HELP, DbOption, sandbox_kind
from researchgym.cli._output import console


def replay(
    episode: Annotated[str, typer.Argument(help="The id of a stored episode.")],
    db: DbOption = DEFAULT_DB,
    sandbox: Annotated[
        str | None,
        typer.Option(
            callback=sandbox_kind, help=f"Where to replay it (default: as it ran): {SANDBOX_HELP}."
        ),
    ] = None,
) -> None:
    """Re-run a stored episode's actions in a fresh sandbox and compare what happens."""
    import anyio

    from researchgym.config import StorageConfig
    from researchgym.engine import replay_episode

    store = StorageConfig(format="parquet" if db.is_dir() else "duckdb", path=db)
    with console.status(f"Replaying {episode}"):
        result = anyio.run(lambda: replay_episode(episode, store=store, sandbox=sandbox))
    console.print(f"Replayed {result.steps} steps of {episode} as {result.replay_episode_id}.")
    for mismatch in result.mismatches:
        console.print(
            f"step {mismatch.step} ({mismatch.command[:60]!r}): the observation differs\n"
            f"  stored:   {mismatch.stored[:200]!r}\n  replayed: {mismatch.replayed[:200]!r}",
            highlight=False,
        )
    console.print(f"scores: stored {result.stored_scores}, replayed {result.replayed_scores}")
    console.print(f"exit: stored {result.stored_status!r}, replayed {result.replayed_status!r}")
    if not result.matches:
        console.print("The replay does not match.", style="bold red")
        raise typer.Exit(1)
    console.print("The replay matches: same observations, scores and exit status.")
