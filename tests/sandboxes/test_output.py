from __future__ import annotations

import re

import pytest

from researchgym.sandboxes import CappedOutput, CappedText
from researchgym.sandboxes.output import decode_output


def test_short_output_is_kept_whole() -> None:
    out = CappedOutput(10)
    out.write(b"abc")
    out.write(b"defgh")
    assert out.text() == CappedText("abcdefgh", truncated=False)
    assert out.total == 8


def test_output_exactly_at_the_cap_is_not_truncated() -> None:
    out = CappedOutput(10)
    out.write(b"01234")
    out.write(b"56789")
    assert out.text() == CappedText("0123456789", truncated=False)


def test_long_output_keeps_head_and_tail_with_a_note() -> None:
    out = CappedOutput(10)
    for i in range(100):
        out.write(str(i % 10).encode())
    text, truncated = out.text()
    assert truncated
    assert re.fullmatch(re.escape("01234\n[... 90 bytes omitted ...]\n56789"), text)
    assert out.total == 100


@pytest.mark.parametrize("chunk", [1, 3, 7, 1000])
def test_tail_rolls_whatever_the_chunk_size(chunk: int) -> None:
    data = bytes(range(256)) * 20
    out = CappedOutput(64)
    for start in range(0, len(data), chunk):
        out.write(data[start : start + chunk])
    head, tail = data[:32], data[-32:]
    expected = (
        f"{decode_output(head)}\n[... {len(data) - 64} bytes omitted ...]\n{decode_output(tail)}"
    )
    assert out.text() == CappedText(expected, truncated=True)


def test_suffix_goes_after_the_tail() -> None:
    out = CappedOutput(4)
    out.write(b"abcdef")
    assert out.text(suffix="!") == CappedText("ab\n[... 2 bytes omitted ...]\nef!", truncated=True)


def test_invalid_utf8_and_nul_are_replaced() -> None:
    assert decode_output(b"a\x00b\xffc\xe2\x82") == "a\ufffdb\ufffdc\ufffd"
    assert decode_output("héllo ✓".encode()) == "héllo ✓"


def test_cap_below_two_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^The output cap must be at least 2 bytes, got 1\.$"):
        CappedOutput(1)
