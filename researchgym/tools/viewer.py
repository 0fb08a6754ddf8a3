"""The file viewer's state, and the window of numbered lines it shows.

One ``Viewer`` per episode lives host-side, in the tool service: the open file, the first
line of its window, the window's size, and the shell's last known working directory (what
an agent's prompt footer shows). The window looks as in SWE-agent and MLGym:

```
[File: /home/agent/workspace/train.py (250 lines total)]
(34 more lines above)
35:def main():
...
(116 more lines below)
```
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_WINDOW", "LINE_CAP", "Viewer", "clamp_first", "render_window", "split_lines"]

DEFAULT_WINDOW = 100
"""Lines the viewer shows at once."""
LINE_CAP = 2000
"""Characters of one line the viewer shows; the rest is cut with a note."""


@dataclass
class Viewer:
    """What the agent's file viewer shows, kept across the commands of one episode."""

    cwd: str | None = None
    """The shell's working directory after the last command (the sandbox's workdir at
    first); None if unknown."""
    path: str | None = None
    """The open file: an absolute path, as the agent named it; None if none is open."""
    first: int = 1
    """The first line of the window, from 1."""
    window: int = DEFAULT_WINDOW
    """Lines the window shows."""

    def show(self, path: str, lines: list[str], *, line: int | None = None) -> str:
        """Open ``path`` (whose content is ``lines``) and render the window.

        Args:
            path: The file's absolute path.
            lines: Its lines.
            line: A line to bring into view, placed a sixth of a window from the top (as
                in SWE-agent); None keeps the current first line.

        Returns:
            The rendered window.
        """
        self.path = path
        if line is not None:
            self.first = line - self.window // 6
        self.first = clamp_first(self.first, len(lines), self.window)
        return render_window(path, lines, self.first, self.window)


def clamp_first(first: int, total: int, window: int) -> int:
    """Return ``first`` moved so that the window lies within a file of ``total`` lines.

    >>> clamp_first(-5, 250, 100), clamp_first(200, 250, 100), clamp_first(7, 30, 100)
    (1, 151, 1)
    """
    return max(1, min(first, total - window + 1))


def render_window(path: str, lines: list[str], first: int, window: int) -> str:
    """Render ``window`` lines from line ``first`` of ``lines``, numbered, with a header.

    >>> print(render_window("/w/a.py", ["a", "b", "c", "d"], 2, 2))
    [File: /w/a.py (4 lines total)]
    (1 more lines above)
    2:b
    3:c
    (1 more lines below)
    """
    shown = lines[first - 1 : first - 1 + window]
    out = [f"[File: {path} ({len(lines)} lines total)]"]
    if first > 1:
        out.append(f"({first - 1} more lines above)")
    out += [f"{first + i}:{_capped(line)}" for i, line in enumerate(shown)]
    below = len(lines) - (first - 1 + len(shown))
    if below > 0:
        out.append(f"({below} more lines below)")
    return "\n".join(out)


def split_lines(text: str) -> list[str]:
    r"""Split a file's text into lines: only ``\n`` ends a line, and a final one ends the last.

    >>> split_lines("a\n\nb\n"), split_lines("a\fb"), split_lines("")
    (['a', '', 'b'], ['a\x0cb'], [])
    """
    if not text:
        return []
    return text.removesuffix("\n").split("\n")


def _capped(line: str) -> str:
    if len(line) <= LINE_CAP:
        return line
    return f"{line[:LINE_CAP]}... [{len(line) - LINE_CAP} more characters on this line]"
