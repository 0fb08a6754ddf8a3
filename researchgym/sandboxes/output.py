"""Output capping shared by every sandbox backend.

A command may print gigabytes; an agent needs the start (what it was doing) and the end (how
it failed). ``CappedOutput`` keeps the first half of the cap and a rolling last half while the
bytes stream past, so memory stays bounded by the cap whatever the command prints.

>>> out = CappedOutput(cap=8)
>>> out.write(b"0123456789")
>>> print(out.text().text)
0123
[... 2 bytes omitted ...]
6789
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["DEFAULT_OUTPUT_CAP", "CappedOutput", "CappedText", "decode_output"]

DEFAULT_OUTPUT_CAP = 64 * 1024
"""Bytes of output a command may return (head and tail halves) before the middle is cut."""


class CappedText(NamedTuple):
    """Decoded output, possibly with its middle cut out."""

    text: str
    """The output as text; when cut, head + omission note + tail."""
    truncated: bool
    """True if bytes were omitted."""


def decode_output(data: bytes | bytearray) -> str:
    """Decode command output for an agent.

    Invalid UTF-8 and NUL bytes become U+FFFD: a stray binary byte must never be fatal, and
    some stores and model APIs reject NUL characters in text.

    Args:
        data: Raw output bytes.

    Returns:
        The text.
    """
    text = data.decode("utf-8", errors="replace")
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


class CappedOutput:
    """Collects a stream of bytes, keeping the first and last ``cap // 2`` bytes.

    Args:
        cap: The most bytes kept; must be at least 2.
    """

    def __init__(self, cap: int) -> None:
        if cap < 2:
            raise ValueError(f"The output cap must be at least 2 bytes, got {cap}.")
        self._half = cap // 2
        self._head = bytearray()
        self._tail = bytearray()
        self._total = 0

    @property
    def total(self) -> int:
        """Bytes written so far, kept or not."""
        return self._total

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Add bytes at the end of the stream."""
        view = memoryview(data)
        self._total += len(view)
        room = self._half - len(self._head)
        if room > 0:
            self._head += view[:room]
            view = view[room:]
        if len(view) >= self._half:
            self._tail = bytearray(view[len(view) - self._half :])
        elif view:
            self._tail += view
            excess = len(self._tail) - self._half
            if excess > 0:
                # bytearray drops a prefix in O(1), so the rolling tail costs no copying.
                del self._tail[:excess]

    def text(self, *, suffix: str = "") -> CappedText:
        """Return the decoded output, with the omission note if bytes were dropped.

        Args:
            suffix: Text appended after the output (for example a note from the sandbox).

        Returns:
            The text and whether it was truncated.
        """
        omitted = self._total - len(self._head) - len(self._tail)
        if omitted == 0:
            return CappedText(decode_output(self._head + self._tail) + suffix, False)
        note = f"\n[... {omitted} bytes omitted ...]\n"
        text = decode_output(self._head) + note + decode_output(self._tail) + suffix
        return CappedText(text, True)
