from __future__ import annotations

import re
from pathlib import Path

import pytest

from researchgym.config import RunConfig, load_run_config, run_config
from researchgym.errors import ConfigError


def test_defaults_are_the_default_run() -> None:
    cfg = RunConfig()
    assert (cfg.tasks, cfg.attempts) == (["builtin"], 2)
    assert [(a.kind, a.label, a.params) for a in cfg.agents] == [
        ("baseline", "baseline", {}),
        ("llm", "llm-mock", {}),  # offline: the llm kind's default model is the mock
    ]
    assert cfg.storage.path == Path("runs/researchgym.duckdb")
    assert re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{6}", cfg.run_id)
    assert RunConfig().run_id != cfg.run_id


def test_agent_label_defaults_to_kind() -> None:
    cfg = run_config(
        {
            "agents": [
                {"kind": "scripted", "params": {"commands": []}},
                {"kind": "baseline", "label": "b2"},
            ]
        }
    )
    assert [a.label for a in cfg.agents] == ["scripted", "b2"]


def test_yaml_with_overrides(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text(
        "tasks: [prisoners_dilemma]\nattempts: 5\nlimits: {max_steps: 7, concurrent_episodes: 3}\n"
    )
    cfg = load_run_config(path, attempts=3, tasks=None, limits={"max_steps": 9})
    assert (cfg.tasks, cfg.attempts) == (["prisoners_dilemma"], 3)
    assert (cfg.limits.max_steps, cfg.limits.concurrent_episodes) == (9, 3)


def test_bad_key_names_the_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("limits: {max_step: 7}\n")
    with pytest.raises(
        ConfigError,
        match="^"
        + re.escape(
            f"Bad run configuration in {path}: 'limits.max_step': Extra inputs are not permitted."
        )
        + "$",
    ):
        load_run_config(path)


def test_bad_value() -> None:
    with pytest.raises(
        ConfigError,
        match=r"^Bad run configuration in the command line: 'attempts': "
        r"Input should be greater than or equal to 1\.$",
    ):
        run_config({"attempts": 0})


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"^Cannot read the run configuration .*missing\.yaml: \[Errno 2\]"
    ):
        load_run_config(tmp_path / "missing.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n")
    with pytest.raises(ConfigError, match=r"must be a mapping of keys to values\.$"):
        load_run_config(tmp_path / "list.yaml")


def test_memory_sizes_are_checked() -> None:
    with pytest.raises(
        ConfigError,
        match=r"^Bad run configuration in the command line: 'sandbox\.memory': Value error, "
        r"'lots' is not a memory size; write it like 512m or 2g\.$",
    ):
        run_config({"sandbox": {"memory": "lots"}})
    assert run_config({"sandbox": {"memory": "1.5g"}}).sandbox.memory == "1.5g"
