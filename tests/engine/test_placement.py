from __future__ import annotations

import os
import re

import pytest

from researchgym.config import Cpus
from researchgym.engine.placement import engine_placement
from researchgym.errors import ConfigError

AVAILABLE = sorted(os.sched_getaffinity(0))


def test_engine_is_pinned_meanwhile_and_restored() -> None:
    with engine_placement(Cpus(engine=[AVAILABLE[-1]])):
        assert os.sched_getaffinity(0) == {AVAILABLE[-1]}
    assert sorted(os.sched_getaffinity(0)) == AVAILABLE


def test_no_placement_changes_nothing() -> None:
    with engine_placement(Cpus()):
        assert sorted(os.sched_getaffinity(0)) == AVAILABLE


@pytest.mark.parametrize("key", ["engine", "sandboxes"])
def test_unavailable_cpu_is_a_config_error(key: str) -> None:
    cpus = Cpus(**{key: [AVAILABLE[0], 4096]})
    message = (
        f"Bad run configuration: 'cpus.{key}': CPU 4096 is not available; "
        f"choose among {', '.join(map(str, AVAILABLE))}."
    )
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"), engine_placement(cpus):
        pytest.fail("placement accepted a CPU that does not exist")
    assert sorted(os.sched_getaffinity(0)) == AVAILABLE
