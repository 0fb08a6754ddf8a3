r"""What an LLM agent shows its model: the first messages and the recent turns in full.

The system message and the task stay; of the observations, only the last ``keep`` are
shown in full, older ones replaced by a one-line note, so that long episodes fit the
context window while the model still sees what it did (its own replies stay whole).

>>> messages = [{"role": "system", "content": "s"}, {"role": "user", "content": "task"}]
>>> for i in range(3):
...     messages += [{"role": "assistant", "content": f"a{i}"},
...                  {"role": "user", "content": f"line\nobservation {i}"}]
>>> for m in shown(messages, keep=1)[2:]:
...     print(repr(m["content"]))
'a0'
'Old output omitted (2 lines).'
'a1'
'Old output omitted (2 lines).'
'a2'
'line\nobservation 2'
"""

from __future__ import annotations

__all__ = ["shown"]

_FIRST = 2
"""The system message and the task: always shown."""


def shown(messages: list[dict[str, str]], *, keep: int) -> list[dict[str, str]]:
    """Return the messages to send, older observations replaced by a note.

    Args:
        messages: The whole conversation: system, task, then assistant/user turns.
        keep: How many of the latest observations to show in full.
    """
    observations = [i for i, m in enumerate(messages) if i >= _FIRST and m["role"] == "user"]
    hidden = set(observations[: max(len(observations) - keep, 0)])
    return [
        {"role": m["role"], "content": _note(m["content"])} if i in hidden else m
        for i, m in enumerate(messages)
    ]


def _note(content: str) -> str:
    return f"Old output omitted ({content.count(chr(10)) + 1} lines)."
