"""researchgym.run: a configuration run from Python, in a script and inside a running event
loop (as in a notebook), read back as pandas DataFrames by readers that hold no connection."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import yaml

import researchgym
from researchgym.errors import ConfigError
from tests.tasks.test_evaluator import SCORE_ANSWER
from tests.tasks.test_loader import make_task

if TYPE_CHECKING:
    from pathlib import Path


def config(tmp_path: Path, **more: Any) -> dict[str, Any]:
    root = make_task(tmp_path / "toy")
    (root / "eval" / "evaluate.py").write_text(SCORE_ANSWER)
    return {
        "tasks": [str(root)],
        "agents": [{"kind": "baseline"}, {"kind": "llm", "label": "llm-mock"}],
        "attempts": 2,
        "sandbox": {"kind": "local"},
        "storage": {"path": str(tmp_path / "runs.duckdb")},
        **more,
    }


def test_a_run_from_a_script_reads_back_as_data_frames(tmp_path: Path) -> None:
    result = researchgym.run(config(tmp_path, run_id="r1"), progress=False)
    assert result.run_id == "r1"
    assert (result.statistics.episodes, result.statistics.done) == (4, 4)
    episodes = result.episodes()
    assert sorted(episodes["agent"]) == ["baseline", "baseline", "llm-mock", "llm-mock"]
    baseline = episodes[episodes["agent"] == "baseline"]
    assert set(baseline["exit_status"]) == {"submitted"}
    scores = result.scores()
    assert set(scores["episode_id"]) >= set(baseline["episode_id"])
    assert set(scores[scores["episode_id"].isin(baseline["episode_id"])]["score"]) == {0.0}
    report = result.report()
    assert sorted(report["agent"]) == ["baseline", "llm-mock"]
    assert {"best_attempt_at_k", "best_submission_at_k"} <= set(report.columns)
    solvers = result.solvers()
    assert "aup_best_attempt" in solvers.columns and "baseline" in set(solvers["solver"])


def test_readers_never_keep_the_next_run_from_the_file(tmp_path: Path) -> None:
    first = researchgym.run(config(tmp_path, run_id="a", attempts=1), progress=False)
    assert len(first.episodes()) == 2  # read: the file was opened, and closed again
    second = researchgym.run(config(tmp_path, run_id="b", attempts=1), progress=False)
    assert len(second.episodes()) == 2 and len(first.episodes()) == 2
    runs = first.sql("SELECT run_id FROM runs ORDER BY run_id")
    assert list(runs["run_id"]) == ["a", "b"]


async def test_a_run_inside_a_running_event_loop(tmp_path: Path) -> None:
    # as in a notebook's cell: no await, and the engine gets an event loop of its own
    result = researchgym.run(config(tmp_path, attempts=1), progress=False)
    assert result.statistics.done == 2 and len(result.episodes()) == 2


def test_a_yaml_file_by_str_or_path(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(config(tmp_path, run_id="y1", attempts=1)))
    assert researchgym.run(path, progress=False).statistics.done == 2
    path.write_text(yaml.safe_dump(config(tmp_path, run_id="y2", attempts=1)))
    assert researchgym.run(str(path), progress=False).run_id == "y2"


def test_a_bad_configuration_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^Bad run configuration in the configuration given "
                       r"to run\(\): 'attempts'"):  # fmt: skip
        researchgym.run(config(tmp_path, attempts=0), progress=False)
