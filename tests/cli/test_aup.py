"""`researchgym aup`: AUP per solver from a CSV of scores, as a user runs it."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

import pytest

from tests.cli.helpers import cli

if TYPE_CHECKING:
    from pathlib import Path

# best attempt (worked out in tests/analysis/test_profiles.py, TWO_TASKS):
#   t1: baseline 1, A 2, B 4; t2: baseline 2, A 4, B 1 (infeasible): tau_max 0.7,
#   AUP A 0.549, B 0.539, baseline 0.248.
# best submission:
#   t1: baseline 1, A 1, B 2: best 2, r = baseline 2, A 2, B 1; R = 2
#   t2: baseline 2, A 2, B missing: best 2, r = baseline 1, A 1; R = 1; B 1.05
#   A and baseline: log10 r = 0.30103 on t1 and 0 on t2, as A's best attempt: 0.549.
#   B: 0 on t1, log10 1.05 = 0.02119 on t2, first reached at i = 16 (15.1):
#      0.7/499 * (16 * 0.5 + 483) = 0.688778 -> 0.689.
# tau_max: max(ceil(4.2), ceil(2.1), ceil(2.1), ceil(1.05)) = 5 -> 0.7, for both.
SCORES = """task,solver,variant,score,direction
t1,baseline,best_attempt,1,max
t1,A,best_attempt,2,max
t1,B,best_attempt,4,max
t2,baseline,best_attempt,2,max
t2,A,best_attempt,4,max
t2,B,best_attempt,1,max
t1,baseline,best_submission,1,max
t1,A,best_submission,1,max
t1,B,best_submission,2,max
t2,baseline,best_submission,2,max
t2,A,best_submission,2,max
t2,B,best_submission,,max
"""


@pytest.fixture
def scores(tmp_path: Path) -> Path:
    path = tmp_path / "scores.csv"
    path.write_text(SCORES)
    return path


def test_a_table_by_aup_with_the_tau_max(scores: Path) -> None:
    done = cli("aup", scores)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    body = [line.split() for line in lines if line.split()[:1] in (["A"], ["B"], ["baseline"])]
    assert body == [
        ["A", "0.549", "0.549"],
        ["B", "0.539", "0.689"],
        ["baseline", "0.248", "0.549"],
    ]
    assert lines[-1] == "tau_max = 0.7 (derived from the scores)"


def test_csv(scores: Path) -> None:
    done = cli("aup", scores, "--format", "csv")
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        '"solver","aup_best_attempt","aup_best_submission","tau_max"\n'
        '"A",0.549,0.549,0.7\n'
        '"B",0.539,0.689,0.7\n'
        '"baseline",0.248,0.549,0.7\n'
    )


def test_json_with_a_given_tau_max(scores: Path) -> None:
    # The grid is tau_i = i / 499. Best attempt: A: log10 2 first reached at i = 151
    # (150.2): (151 * 0.5 + 348) / 499 = 0.848697 -> 0.849; B: log10 2.1 at 161 (160.8):
    # (161 * 0.5 + 338) / 499 = 0.838677 -> 0.839; baseline: 0.5 from 151, 1 from log10 4
    # at 301 (300.4): (150 * 0.5 + 198) / 499 = 0.547094 -> 0.547. Best submission: A and
    # the baseline as A's best attempt; B: log10 1.05 at 11 (10.6): (11 * 0.5 + 488) / 499
    # = 0.988978 -> 0.989.
    done = cli("aup", scores, "--tau-max", "1", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [
        {"solver": "A", "aup_best_attempt": 0.849, "aup_best_submission": 0.849, "tau_max": 1.0},
        {"solver": "B", "aup_best_attempt": 0.839, "aup_best_submission": 0.989, "tau_max": 1.0},
        {
            "solver": "baseline",
            "aup_best_attempt": 0.547,
            "aup_best_submission": 0.849,
            "tau_max": 1.0,
        },
    ]


def test_a_broken_csv_is_one_line_and_exit_1(tmp_path: Path) -> None:
    path = tmp_path / "scores.csv"
    path.write_text(SCORES.replace("t1,B,best_attempt", "t1,B,best"))
    wide = {**os.environ, "COLUMNS": "1000"}  # so that rich does not wrap the long line
    done = cli("aup", path, env=wide)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == (
        f"error: {path}, line 4: unknown variant 'best': use best_attempt or best_submission.\n"
    )


def test_a_tau_max_not_above_zero(scores: Path) -> None:
    done = cli("aup", scores, "--tau-max", "0")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == "error: --tau-max takes a number above 0, not 0.\n"
