"""The prompts of LLM agents, in one place.

A system message says what the agent is, lists the commands and the reply format; the task
comes as the first user message; each later user message is an observation with a footer
saying where the agent stands (step, open file, working directory).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from researchgym.agents.base import Observation

__all__ = ["FORMAT_ERROR", "footer", "system_prompt", "task_prompt"]

SYSTEM = """\
You are an autonomous research agent. You work alone, inside a sandbox: a Linux machine with \
a bash shell in your workspace, and no internet. You cannot ask questions. You act one \
command at a time, and see each command's output before the next.

COMMANDS:
{commands}

RESPONSE FORMAT:
Each reply has two parts. First a discussion: what you learned from the last output, what \
you will do next and why. Then exactly one command in a fenced code block, and nothing \
after it. For example:

The baseline strategy is simple; I will read it before changing it.

```
open strategy.py
```

Rules: one command per reply. Interactive programs (vim, nano, a bare python) are not \
available: use open and edit to change files, and run scripts with `python3 script.py`. \
Long jobs must finish within the command time limit. Use validate to score your work as \
you go; submit only when you are done: it ends the episode.
"""

TASK = "TASK:\n{description}\n"

FORMAT_ERROR = """\
Your reply was not in the required format: {problem}.
Reply again with a discussion, then exactly one command in a fenced code block (```), and \
nothing after the block."""


def system_prompt(command_docs: str) -> str:
    """The system message of an LLM agent."""
    return SYSTEM.format(commands=command_docs.strip())


def task_prompt(description: str, observation: Observation) -> str:
    """The first user message: the task, and where the agent stands."""
    return TASK.format(description=description.strip()) + "\n" + footer(observation)


def footer(observation: Observation) -> str:
    """Where the agent stands, after each observation (as MLGym shows it).

    >>> from researchgym.agents.base import Observation
    >>> print(footer(Observation("", 3, 50, None, "/home/agent/workspace")))
    (Current Step: 3, Remaining Steps: 47)
    (Open file: n/a)
    (Current directory: /home/agent/workspace)
    bash-$
    """
    remaining = observation.max_steps - observation.step
    return (
        f"(Current Step: {observation.step}, Remaining Steps: {remaining})\n"
        f"(Open file: {observation.open_file or 'n/a'})\n"
        f"(Current directory: {observation.cwd or 'n/a'})\n"
        "bash-$"
    )
