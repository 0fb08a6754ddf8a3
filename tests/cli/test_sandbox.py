"""researchgym sandbox status and prune, and a run's containers when it is stopped."""

from __future__ import annotations

import os
import re
import subprocess
import time
from typing import TYPE_CHECKING

import yaml

from researchgym.sandboxes import disk_support, local_isolation
from tests.cli.helpers import CLI, cli, interrupt, labelled, rows

if TYPE_CHECKING:
    from pathlib import Path


def sleepy_config(tmp_path: Path, run_id: str, image: str) -> Path:
    config = tmp_path / "run.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "run_id": run_id,
                "tasks": ["prisoners_dilemma"],
                "agents": [{"kind": "scripted", "params": {"commands": ["sleep 0.05"] * 1000}}],
                "attempts": 3,
                "limits": {"max_steps": 2000},
                "sandbox": {"kind": "docker", "image": image},
            }
        )
    )
    return config


def start_and_wait_for_containers(config: Path, db: Path, run_id: str) -> subprocess.Popen[str]:
    run = subprocess.Popen(
        [CLI, "run", str(config), "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 300  # a loaded machine may take minutes to get there
    while len(labelled(run_id)) < 3:
        assert time.monotonic() < deadline and run.poll() is None, "no sandboxes started"
        time.sleep(0.2)
    return run


def test_killed_run_leaves_containers_that_prune_removes(
    tmp_path: Path, sandbox_image: str
) -> None:
    run_id = f"killed-{os.getpid()}"
    run = start_and_wait_for_containers(
        sleepy_config(tmp_path, run_id, sandbox_image), tmp_path / "db.duckdb", run_id
    )
    run.kill()  # no chance to clean up
    run.communicate(timeout=30)
    assert len(labelled(run_id)) == 3
    done = cli("sandbox", "prune", "--run", run_id)
    assert done.returncode == 0, done.stderr
    said = done.stdout.strip().splitlines()
    assert said[0] == "Removed 3 sandbox containers."
    if disk_support().enforced:  # and the disks of its sandboxes, which nobody unmounted
        assert re.fullmatch(r"Removed (\d+) sandbox disks of ended runs\.", said[1])
        assert int(said[1].split()[1]) >= 3
    assert labelled(run_id) == []


def test_ctrl_c_removes_the_run_s_containers(tmp_path: Path, sandbox_image: str) -> None:
    run_id = f"interrupted-{os.getpid()}"
    run = start_and_wait_for_containers(
        sleepy_config(tmp_path, run_id, sandbox_image), tmp_path / "db.duckdb", run_id
    )
    stderr = interrupt(run)
    assert run.returncode == 130, stderr
    assert labelled(run_id) == []
    assert rows(tmp_path / "db.duckdb", "SELECT status FROM runs") == [{"status": "cancelled"}]


def test_sandbox_status_says_what_sandboxes_protect() -> None:
    done = cli("sandbox", "status")
    assert done.returncode == 0, done.stderr
    lines = [" ".join(line.split()) for line in done.stdout.splitlines()]
    disks, local = disk_support(), local_isolation()
    limits = "enforced" if disks.enforced else "not enforced"
    assert lines[0] == f"Disk limits: {limits} ({disks.detail})."
    isolation = local.detail if local.namespaces else f"none ({local.detail})"
    assert lines[1] == f"Local sandboxes isolate: {isolation}."
