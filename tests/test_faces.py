"""Light faces: the package, the engine and the command's help load no backend; a backend is
imported when it is used. Each check runs in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

BACKENDS = ["aiodocker", "aiohttp", "duckdb", "pyarrow", "litellm", "matplotlib", "pandas"]

HELP = """
import sys
from researchgym.cli import main
sys.argv = ["researchgym", "--help"]
try:
    main()
except SystemExit:
    pass
"""


def loaded(code: str) -> list[str]:
    """The backends a fresh interpreter has loaded after running ``code``."""
    probe = (
        f"{code}\nimport json, sys\nprint(json.dumps(sorted(set({BACKENDS!r}) & set(sys.modules))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    result: list[str] = json.loads(done.stdout.splitlines()[-1])
    return result


@pytest.mark.parametrize(
    "code",
    ["import researchgym", "import researchgym.engine", HELP],
    ids=["package", "engine", "help"],
)
def test_a_face_loads_no_backend(code: str) -> None:
    assert loaded(code) == []


def test_a_backend_is_imported_when_it_is_used() -> None:
    assert loaded("from researchgym.engine import Bus, open_bus") == []
    assert {"duckdb", "pyarrow"} <= set(loaded("from researchgym.engine import Runner"))
    assert loaded("from researchgym.storage import DuckDBSink") == ["duckdb", "pyarrow"]
    assert "aiodocker" in loaded("from researchgym.sandboxes import DockerSandbox")


def test_the_names_of_a_lazy_face_are_its_own() -> None:
    import researchgym.analysis as analysis
    import researchgym.engine as engine

    # a function named like its module is the function, however it was reached first
    assert callable(analysis.report) and analysis.report.__module__ == "researchgym.analysis.report"
    assert engine.open_env.__module__ == "researchgym.engine.standalone"
    assert "Runner" in dir(engine) and "Runner" in engine.__all__
    with pytest.raises(AttributeError):
        getattr(engine, "no_such_name")  # noqa: B009
