from __future__ import annotations

from researchgym.config import SandboxConfig
from researchgym.engine import RunContext
from researchgym.sandboxes import LocalSandboxes, SandboxSpec
from researchgym.tasks import resolve_task

TASK = resolve_task("prisoners_dilemma")


def context(**sandbox: object) -> RunContext:
    return RunContext(
        bus=None,  # type: ignore[arg-type]  # sandbox_spec uses none of the others
        recorder=None,  # type: ignore[arg-type]
        limits=None,  # type: ignore[arg-type]
        sandboxes=LocalSandboxes(),
        sandbox=SandboxConfig.model_validate(sandbox),
    )


def test_sandbox_spec_is_the_task_s_resources() -> None:
    resources = TASK.spec.resources
    assert context().sandbox_spec(TASK) == SandboxSpec(
        cpus=resources.cpus, memory=resources.memory, gpus=resources.gpus, network=False
    )


def test_the_run_configuration_overrides_them() -> None:
    spec = context(cpus=2, memory="8g", gpus=1, pids=64).sandbox_spec(TASK)
    assert spec == SandboxSpec(cpus=2, memory="8g", gpus=1, network=False, pids=64)
