"""Plug-ins: the registries, the example distribution the test environment installs
(tests/plugin), and plug-ins that fail or take a built-in's name, as real distributions on
the path."""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any

import pytest

import researchgym
from researchgym.agents import AGENTS, MODELS
from researchgym.errors import PluginError, StorageError, UnknownComponentError
from researchgym.plugins import BUILT_IN, Registry
from researchgym.sandboxes import SANDBOXES
from researchgym.storage import SINKS
from researchgym.tasks import TASKS, resolve_task, task_names
from tests.cli.helpers import cli

if TYPE_CHECKING:
    from pathlib import Path

EXAMPLE = "'researchgym-example-plugin 0.1.0'"
"""How the example distribution is named as an origin."""


def distribution(site: Path, name: str, entry_points: str) -> None:
    """Install a distribution's metadata under ``site``: what pip leaves in site-packages."""
    info = site / f"{name.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(entry_points)


def test_the_example_distribution_extends_every_registry() -> None:
    registries: list[tuple[Registry[Any], str]] = [
        (AGENTS, "ask-model"),
        (MODELS, "echo"),
        (SANDBOXES, "counted-local"),
        (SINKS, "jsonl"),
        (TASKS, "example"),
    ]
    for registry, name in registries:
        assert name in registry.names()
        (entry,) = [e for e in registry.entries() if e.name == name]
        assert EXAMPLE in entry.origin and entry.problem is None
        assert callable(registry.get(name)) or name == "example"
    assert task_names("example") == ["example/guess"]
    assert resolve_task("guess").spec.id == resolve_task("example/guess").spec.id == "guess"


def test_a_run_uses_the_plug_in_s_agent_model_sandboxes_and_tasks(tmp_path: Path) -> None:
    result = researchgym.run(
        {
            "tasks": ["example"],
            "agents": [{"kind": "ask-model", "params": {"model": "echo/echo 40 > answer.txt"}}],
            "attempts": 2,
            "sandbox": {"kind": "counted-local"},
            "storage": {"path": str(tmp_path / "runs.duckdb")},
        },
        progress=False,
    )
    episodes = result.episodes()
    assert list(episodes["sandbox"]) == ["counted-local"] * 2
    assert set(episodes["exit_status"]) == {"submitted"}
    assert set(result.scores()["score"]) == {-2.0}  # |40 - 42|, scored by the plug-in's task
    calls = result.sql("SELECT request_model, response FROM llm_calls WHERE run_id = $run")
    assert set(calls["request_model"]) == {"echo/echo 40 > answer.txt"}
    assert sorted(calls["response"]) == ["echo 40 > answer.txt"] * 2 + ["submit"] * 2


def test_a_plug_in_sink_gets_every_table_s_rows(tmp_path: Path) -> None:
    result = researchgym.run(
        {
            "tasks": ["example/guess"],
            "agents": [{"kind": "baseline"}],
            "attempts": 1,
            "sandbox": {"kind": "local"},
            "storage": {"format": "jsonl", "path": str(tmp_path / "out")},
        },
        progress=False,
    )
    lines = (tmp_path / "out" / "episodes.jsonl").read_text().splitlines()
    ended = [json.loads(line) for line in lines][-1]
    assert (ended["episode_id"], ended["exit_status"]) == (
        f"{result.run_id}-{ended['attempt_key'][:12]}-1",
        "submitted",
    )
    with pytest.raises(StorageError, match="does not read back"):
        result.episodes()


def test_a_run_config_may_name_module_attribute(tmp_path: Path) -> None:
    result = researchgym.run(
        {
            "tasks": ["example/guess"],
            "agents": [{"kind": "rgym_example.agent:ask_model", "label": "asked"}],
            "attempts": 1,
            "sandbox": {"kind": "rgym_example.sandboxes:CountedSandboxes"},
            "storage": {"path": str(tmp_path / "runs.duckdb")},
        },
        progress=False,
    )
    episodes = result.episodes()
    assert (episodes["agent"][0], episodes["exit_status"][0]) == ("asked", "submitted")


def test_names_that_are_not_there() -> None:
    with pytest.raises(UnknownComponentError, match="ask-model") as unknown:
        AGENTS.get("nope")
    assert "baseline" in unknown.value.known
    with pytest.raises(PluginError, match=r"the module no_such_module .* ModuleNotFoundError"):
        AGENTS.get("no_such_module:thing")
    with pytest.raises(PluginError, match="not a callable"):
        AGENTS.get("researchgym.words:AGENT")  # a string, not a factory


def test_built_ins_are_found_without_reading_any_distribution() -> None:
    registry = Registry[Any]("widget", "researchgym-test.none", accepts=callable, expected="x")
    registry.add("lazy", "researchgym.words:ActionClass")
    assert registry.get("lazy").__name__ == "ActionClass"
    assert registry._plugins is None  # no metadata read for a built-in
    assert registry.entries()[0] == ("lazy", BUILT_IN, None)


def test_a_broken_plug_in_names_its_distribution_and_leaves_the_others_usable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    group = "researchgym-test.broken"
    distribution(
        tmp_path,
        "broken-plugin",
        f"[{group}]\nbroken = no_such_module_anywhere:thing\nfine = rgym_example.agent:ask_model\n",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = Registry[Any]("agent kind", group, accepts=callable, expected="a callable")
    with pytest.raises(PluginError) as failed:
        registry.get("broken")
    message = str(failed.value)
    assert "'broken-plugin 0.1'" in message and "ModuleNotFoundError" in message
    assert "no_such_module_anywhere" in message
    assert registry.get("fine").__name__ == "ask_model"
    problems = {e.name: e.problem for e in registry.entries()}
    assert problems["fine"] is None and "ModuleNotFoundError" in str(problems["broken"])


def test_a_plug_in_may_not_take_a_built_in_s_name_or_another_s(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    group = "researchgym-test.clash"
    distribution(tmp_path, "first-plugin", f"[{group}]\nbaseline = os:getcwd\ntwice = os:getpid\n")
    distribution(tmp_path, "second-plugin", f"[{group}]\ntwice = os:getppid\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = Registry[Any]("agent kind", group, accepts=callable, expected="a callable")
    registry.add("baseline", os.getuid)
    assert registry.get("baseline") is os.getuid  # the built-in, always
    refused = [e for e in registry.entries() if e.problem is not None]
    by_name = {e.name: e for e in refused}
    assert "'first-plugin 0.1'" in by_name["baseline"].origin
    assert BUILT_IN in str(by_name["baseline"].problem)
    with pytest.raises(PluginError) as both:
        registry.get("twice")
    assert "'first-plugin 0.1'" in str(both.value) and "'second-plugin 0.1'" in str(both.value)
    assert registry.names() == ["baseline"]


def test_the_cli_lists_plug_ins_and_reports_a_broken_one(tmp_path: Path) -> None:
    distribution(
        tmp_path,
        "broken-plugin",
        "[researchgym.agents]\nbroken = no_such_module_anywhere:thing\n"
        "[researchgym.sinks]\nduckdb = rgym_example.sink:JsonLinesSink\n",
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    listed = cli("plugins", env=env)
    assert listed.returncode == 1, listed.stderr
    out = " ".join(listed.stdout.split())
    assert "ask-model the distribution " + EXAMPLE in out  # the others stay usable
    assert "broken the distribution 'broken-plugin 0.1'" in out
    assert "ModuleNotFoundError: No module named 'no_such_module_anywhere'" in out
    assert "its name is the built-in sink's, from researchgym (built in)" in out
    ran = cli("run", "--agent", "broken", "--task", "example/guess", env=env)
    assert ran.returncode == 1
    error = " ".join(ran.stderr.split())
    assert "The agent kind 'broken' from the distribution 'broken-plugin 0.1'" in error
    assert "Traceback" not in ran.stderr
    unknown = cli("run", "--sandbox", "nowhere", env=env)
    assert unknown.returncode == 2
    assert "known: auto, counted-local, docker, local" in " ".join(unknown.stderr.split())
