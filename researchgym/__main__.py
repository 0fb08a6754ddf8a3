"""``python -m researchgym``: the same as the ``researchgym`` command."""

from __future__ import annotations

from researchgym.cli import main

main()
