"""The metrics functions, on the runs of tests/storage/test_views (see EPISODES there), by hand."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import pytest

from researchgym.analysis import (
    BASELINE,
    SolverScore,
    actions,
    best_at_k,
    costs,
    exit_statuses,
    failures,
    profile_scores,
    solver_name,
)
from researchgym.storage import open_database
from tests.storage.test_views import write_runs

if TYPE_CHECKING:
    from collections.abc import Iterator

    import duckdb
    import pyarrow as pa


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    with open_database(write_runs(tmp_path_factory.mktemp("metrics"), "duckdb")) as connection:
        yield connection


def pick(table: pa.Table, *columns: str) -> list[tuple[Any, ...]]:
    return [tuple(row[c] for c in columns) for row in table.to_pylist()]


def scores_at(con: duckdb.DuckDBPyConnection, runs: list[str] | None, k: int) -> dict[Any, Any]:
    """(task, agent) -> (attempts, scored, Best Attempt@k, Best Submission@k)."""
    table = best_at_k(con, runs, k)
    columns = ("attempts", "scored", "best_attempt_at_k", "best_submission_at_k")
    return {(r["task_id"], r["agent"]): tuple(r[c] for c in columns) for r in table.to_pylist()}


class TestBestAtK:
    def test_attempts_beyond_k_are_left_out(self, con: duckdb.DuckDBPyConnection) -> None:
        # r1, llm on up: per attempt (best attempt, last submission): 1 (5, 4), 2 (6, 6),
        # 3 (none), 4 (2, 2), 5 (9, 9).
        assert scores_at(con, ["r1"], 1)["up", "llm"] == (1, 1, 5.0, 4.0)
        assert scores_at(con, ["r1"], 2)["up", "llm"] == (2, 2, 6.0, 6.0)
        assert scores_at(con, ["r1"], 4)["up", "llm"] == (4, 3, 6.0, 6.0)
        assert scores_at(con, ["r1"], 5)["up", "llm"] == (5, 4, 9.0, 9.0)

    def test_k_larger_than_the_attempts_counts_them_all(
        self, con: duckdb.DuckDBPyConnection
    ) -> None:
        assert scores_at(con, ["r1"], 10) == {
            ("down", "llm"): (2, 2, 7.0, 8.0),
            ("down", "team"): (1, 1, 3.0, 12.0),
            ("up", "baseline"): (1, 1, 1.0, 1.0),
            ("up", "llm"): (5, 4, 9.0, 9.0),
            ("up", "team"): (2, 0, None, None),
        }

    def test_lower_is_better_takes_the_lowest(self, con: duckdb.DuckDBPyConnection) -> None:
        # down, llm: attempt 1 (7 then autosubmitted 8), attempt 2 (9.5 only).
        assert scores_at(con, ["r1"], 1)["down", "llm"] == (1, 1, 7.0, 8.0)
        assert scores_at(con, ["r1"], 2)["down", "llm"] == (2, 2, 7.0, 8.0)

    def test_several_runs_take_the_first_k_by_attempt_then_start(
        self, con: duckdb.DuckDBPyConnection
    ) -> None:
        # Attempt 1 of r1 (5, 4) started before attempt 1 of r2 (7, 7); both come before
        # attempt 2 of r1.
        assert scores_at(con, ["r1", "r2"], 1)["up", "llm"] == (1, 1, 5.0, 4.0)
        assert scores_at(con, ["r1", "r2"], 2)["up", "llm"] == (2, 2, 7.0, 7.0)
        assert scores_at(con, None, 2) == scores_at(con, ["r1", "r2"], 2)
        assert scores_at(con, ["r2"], 4) == {("up", "llm"): (1, 1, 7.0, 7.0)}
        assert scores_at(con, [], 4) == {}

    def test_k_must_be_positive(self, con: duckdb.DuckDBPyConnection) -> None:
        with pytest.raises(ValueError, match=r"^k counts attempts: it must be 1 or more, not 0\.$"):
            best_at_k(con, ["r1"], 0)


def test_failures_per_model_task_and_agent(con: duckdb.DuckDBPyConnection) -> None:
    columns = ("episodes", "errors", "failed", "incomplete")
    # m1 (llm): errors e02 (exit_cost, scored), e03 (no score), e07 (scored); m1, m2 (team):
    # e09 failed, e11 cancelled (no error); none (baseline): one submitted.
    assert pick(failures(con, ["r1"]), "model", *columns) == [
        (None, 1, 0, 0, 0),
        ("m1", 7, 3, 1, 2),
        ("m1, m2", 3, 1, 1, 0),
    ]
    assert pick(failures(con, ["r1"], by="task"), "task_id", *columns) == [
        ("down", 3, 1, 0, 1),
        ("up", 8, 3, 2, 1),
    ]
    assert pick(failures(con, None, by="agent"), "agent", *columns) == [
        ("baseline", 1, 0, 0, 0),
        ("llm", 8, 3, 1, 2),
        ("team", 3, 1, 1, 0),
    ]


def test_exit_statuses_per_model(con: duckdb.DuckDBPyConnection) -> None:
    statuses = pick(exit_statuses(con, ["r1"]), "model", "exit_status", "episodes", "share")
    assert statuses == [
        (None, "submitted", 1, 1.0),
        ("m1", "submitted", 3, 3 / 7),
        ("m1", "autosubmission (exit_cost)", 1, 1 / 7),
        ("m1", "autosubmission (max_steps)", 1, 1 / 7),
        ("m1", "exit_error", 1, 1 / 7),
        ("m1", "submission_not_found (submit)", 1, 1 / 7),
        ("m1, m2", "cancelled", 1, 1 / 3),
        ("m1, m2", "early_exit", 1, 1 / 3),
        ("m1, m2", "submitted", 1, 1 / 3),
    ]
    by_task = pick(exit_statuses(con, ["r1"], by="task"), "task_id", "exit_status", "episodes")
    assert by_task[:3] == [
        ("down", "autosubmission (max_steps)", 1),
        ("down", "submission_not_found (submit)", 1),
        ("down", "submitted", 1),
    ]


def test_action_classes_overall_and_per_step_model_and_task(
    con: duckdb.DuckDBPyConnection,
) -> None:
    # r1: e01 View, Edit, Validate, Submit (m1, up); e08 Bash, Edit (m1, m2; down).
    assert pick(actions(con, ["r1"]), "action_class", "steps", "share") == [
        ("Edit", 2, 2 / 6), ("Bash", 1, 1 / 6), ("Submit", 1, 1 / 6), ("Validate", 1, 1 / 6),
        ("View", 1, 1 / 6),
    ]  # fmt: skip
    assert pick(actions(con, ["r1"], by="step"), "step", "action_class", "steps", "share") == [
        (1, "Bash", 1, 0.5), (1, "View", 1, 0.5), (2, "Edit", 2, 1.0),
        (3, "Validate", 1, 1.0), (4, "Submit", 1, 1.0),
    ]  # fmt: skip
    assert pick(actions(con, ["r1"], by="model"), "model", "action_class", "share") == [
        ("m1", "Edit", 0.25), ("m1", "Submit", 0.25), ("m1", "Validate", 0.25),
        ("m1", "View", 0.25), ("m1, m2", "Bash", 0.5), ("m1, m2", "Edit", 0.5),
    ]  # fmt: skip
    by_task = pick(actions(con, None, by="task"), "task_id", "action_class", "steps")
    assert by_task == [
        ("down", "Bash", 1), ("down", "Edit", 1), ("up", "Edit", 1),
        ("up", "Python", 1),  # r2's
        ("up", "Submit", 1), ("up", "Validate", 1), ("up", "View", 1),
    ]  # fmt: skip


def test_costs_per_model_task_and_agent(con: duckdb.DuckDBPyConnection) -> None:
    columns = ("episodes", "calls", "unpriced_calls", "input_tokens", "output_tokens", "cost_usd")
    # m1: e01's two calls (300 in, 30 out, $1.5) and e08's executor (30, 3, $0.25);
    # m2: e08's planner, unpriced (50, 5, $0).
    assert pick(costs(con, ["r1"]), "model", *columns) == [
        ("m1", 2, 3, 0, 330, 33, 1.75),
        ("m2", 1, 1, 1, 50, 5, 0.0),
    ]
    assert pick(costs(con, ["r1"], by="agent"), "agent", *columns) == [
        ("llm", 1, 2, 0, 300, 30, 1.5),
        ("team", 1, 2, 1, 80, 8, 0.25),
    ]
    assert pick(costs(con, None, by="task"), "task_id", *columns) == [
        ("down", 1, 2, 1, 80, 8, 0.25),
        ("up", 2, 3, 0, 1300, 130, 6.5),
    ]


@pytest.mark.parametrize(
    ("function", "by", "allowed"),
    [
        (failures, "step", "model, task, agent"),
        (costs, "all", "model, task, agent"),
        (actions, "member", "all, model, task, agent, step"),
    ],
)
def test_an_unknown_dimension_is_refused(
    con: duckdb.DuckDBPyConnection, function: Any, by: str, allowed: str
) -> None:
    with pytest.raises(ValueError, match=rf"^\w+ are counted by {allowed}, not '{by}'\.$"):
        function(con, ["r1"], by=by)


def test_profile_scores_have_the_baselines_and_one_solver_per_agent(
    con: duckdb.DuckDBPyConnection,
) -> None:
    def both(task: str, solver: str, scores: tuple[float | None, float | None]) -> set[Any]:
        direction: Literal["max", "min"] = "max" if task == "up" else "min"
        return {
            SolverScore(task, solver, "best_attempt", scores[0], direction),
            SolverScore(task, solver, "best_submission", scores[1], direction),
        }

    scores = profile_scores(con, ["r1"], 4)
    assert len(scores) == len(set(scores)) == 14
    assert set(scores) == (
        both("up", BASELINE, (1.0, 1.0)) | both("down", BASELINE, (10.0, 10.0))
        | both("up", "baseline (agent)", (1.0, 1.0))
        | both("up", "llm", (6.0, 6.0)) | both("down", "llm", (7.0, 8.0))
        | both("up", "team", (None, None)) | both("down", "team", (3.0, 12.0))
    )  # fmt: skip


def test_an_agent_labelled_baseline_is_not_the_tasks_baseline() -> None:
    assert (solver_name("baseline"), solver_name("llm")) == ("baseline (agent)", "llm")
