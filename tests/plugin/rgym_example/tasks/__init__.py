"""The task collection ``example``: this folder's task folders."""

from pathlib import Path

FOLDER = Path(__file__).parent
