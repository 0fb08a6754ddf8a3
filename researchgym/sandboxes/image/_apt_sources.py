"""The host's apt sources for Debian's packages, which the offline image build downloads from.

The offline build must reach Debian's packages the way this host does (its mirror, a proxy
or a local copy), and never name a server of its own. So it takes the host's apt sources,
keeps the entries for the image's Debian release and its ``main`` component, and hands them
to mmdebstrap as files; other repositories the host uses (a vendor's, say) stay out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SUITE", "AptSources", "pick_deb822", "pick_one_line", "read_host_sources"]

SUITE = "bookworm"
"""The Debian release of the sandbox image (the Dockerfile's base image is its slim form)."""

APT_ETC = Path("/etc/apt")


@dataclass(frozen=True)
class AptSources:
    """Apt source entries, in the two formats apt reads."""

    one_line: tuple[str, ...]
    """Lines for a ``.list`` file (``deb [options] URI suite components``)."""
    deb822: tuple[str, ...]
    """Stanzas for a ``.sources`` file."""

    def write(self, folder: Path) -> list[Path]:
        """Write the entries into files in ``folder`` (blocking); return the files written."""
        files = []
        for name, entries, separator in (
            ("host.list", self.one_line, "\n"),
            ("host.sources", self.deb822, "\n\n"),
        ):
            if entries:
                path = folder / name
                path.write_text(separator.join(entries) + "\n")
                files.append(path)
        return files


def read_host_sources(etc: Path = APT_ETC, *, suite: str = SUITE) -> AptSources:
    """Read the host's apt sources and keep those for ``suite`` main (blocking).

    Args:
        etc: apt's configuration folder.
        suite: The Debian release whose entries to keep (its -updates and -security too).
    """
    one_line: list[str] = []
    deb822: list[str] = []
    lists = [etc / "sources.list", *sorted((etc / "sources.list.d").glob("*.list"))]
    for path in lists:
        if path.is_file():
            one_line += pick_one_line(path.read_text(errors="replace"), suite)
    for path in sorted((etc / "sources.list.d").glob("*.sources")):
        deb822 += pick_deb822(path.read_text(errors="replace"), suite)
    return AptSources(tuple(one_line), tuple(deb822))


def pick_one_line(text: str, suite: str) -> list[str]:
    r"""Return the ``deb`` lines of a ``sources.list`` text for ``suite`` main.

    >>> pick_one_line("deb [arch=amd64] http://m/debian bookworm main\n"
    ...               "deb http://v/apt bookworm stable\n# deb http://m/debian bookworm main",
    ...               "bookworm")
    ['deb [arch=amd64] http://m/debian bookworm main']
    """
    kept = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        # Options in brackets may hold spaces: drop them before splitting the rest.
        words = re.sub(r"\[[^\]]*\]", " ", line).split()
        if len(words) >= 4 and words[0] == "deb" and _wanted([words[2]], words[3:], suite):
            kept.append(line)
    return kept


def pick_deb822(text: str, suite: str) -> list[str]:
    r"""Return the stanzas of a deb822 ``.sources`` text for ``suite`` main, without comments.

    >>> pick_deb822("Types: deb\nURIs: http://m/debian\nSuites: bookworm bookworm-updates\n"
    ...             "Components: main\n\nTypes: deb\nURIs: http://v/apt\nSuites: nodistro\n"
    ...             "Components: main", "bookworm")
    ['Types: deb\nURIs: http://m/debian\nSuites: bookworm bookworm-updates\nComponents: main']
    """
    kept = []
    for stanza in re.split(r"\n\s*\n", text):
        lines = [line for line in stanza.splitlines() if line and not line.startswith("#")]
        fields = _fields(lines)
        if (
            "deb" in _words(fields, "types")
            and fields.get("enabled", "yes").lower() != "no"
            and _wanted(_words(fields, "suites"), _words(fields, "components"), suite)
        ):
            kept.append("\n".join(lines))
    return kept


def _fields(lines: list[str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in lines:
        if not line[0].isspace() and ":" in line:  # continuation lines belong to the last key
            key, _, value = line.partition(":")
            fields[key.strip().lower()] = value.strip()
    return fields


def _words(fields: dict[str, str], key: str) -> list[str]:
    return fields.get(key, "").split()


def _wanted(suites: list[str], components: list[str], suite: str) -> bool:
    ours = any(s == suite or s.startswith(f"{suite}-") for s in suites)
    return ours and "main" in components
