"""``researchgym plugins``: every registry's components, where each comes from, which fail."""

from __future__ import annotations

import typer

from researchgym.cli._output import console


def plugins() -> None:
    """List the agent kinds, models, sandbox providers, sinks and task collections.

    Built-in ones and those of installed plug-ins (entry points of the groups
    researchgym.agents, .models, .sandboxes, .sinks, .tasks); a plug-in that cannot be used
    is listed with the reason, and exits 1.
    """
    from rich.markup import escape

    from researchgym.agents import AGENTS, MODELS
    from researchgym.sandboxes import SANDBOXES
    from researchgym.storage import SINKS
    from researchgym.tasks import TASKS

    problems = 0
    for registry in (AGENTS, MODELS, SANDBOXES, SINKS, TASKS):
        console.print(f"[bold]{registry.group}[/] ({registry.what})")
        for entry in registry.entries():
            problems += entry.problem is not None
            line = f"  {escape(entry.name):<18} {escape(entry.origin)}"
            if entry.problem is not None:
                line += f"\n    [red]cannot be used:[/] {escape(entry.problem)}"
            console.print(line, soft_wrap=True, highlight=False)
    console.print("Model names no provider above claims go to litellm.", style="dim")
    if problems:
        raise typer.Exit(1)
