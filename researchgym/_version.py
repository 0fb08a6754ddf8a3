"""The version of researchgym: pyproject.toml reads it from here (one place, no lookup)."""

from __future__ import annotations

__version__ = "0.2.0"
