from __future__ import annotations

from researchgym.agents.history import shown


def conversation(turns: int) -> list[dict[str, str]]:
    messages = [{"role": "system", "content": "rules"}, {"role": "user", "content": "the task"}]
    for i in range(turns):
        messages += [
            {"role": "assistant", "content": f"reply {i}"},
            {"role": "user", "content": f"observation {i}\nsecond line\nthird"},
        ]
    return messages


def test_the_first_messages_and_the_last_observations_stay() -> None:
    messages = conversation(5)
    out = shown(messages, keep=2)
    assert out[:2] == messages[:2]
    assert [m["content"] for m in out if m["role"] == "assistant"] == [
        f"reply {i}" for i in range(5)
    ]
    observations = [m["content"] for m in out[2:] if m["role"] == "user"]
    assert observations == ["Old output omitted (3 lines)."] * 3 + [
        "observation 3\nsecond line\nthird",
        "observation 4\nsecond line\nthird",
    ]
    assert messages == conversation(5)  # the conversation itself is not changed


def test_short_conversations_are_shown_whole() -> None:
    assert shown(conversation(2), keep=5) == conversation(2)
    assert shown(conversation(0), keep=0) == conversation(0)


def test_keep_zero_folds_every_observation() -> None:
    out = shown(conversation(2), keep=0)
    assert [m["content"] for m in out[2:] if m["role"] == "user"] == [
        "Old output omitted (3 lines)."
    ] * 2
