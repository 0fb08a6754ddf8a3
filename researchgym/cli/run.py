"""``researchgym run``: agents on tasks, every event stored, with a progress bar."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from researchgym.cli._options import AgentOption, SandboxOption
from researchgym.cli._output import console, errors
from researchgym.errors import ConfigError

if TYPE_CHECKING:
    from researchgym.config import RunConfig


def run(
    config: Annotated[
        Path | None, typer.Argument(help="A run configuration (YAML); options override it.")
    ] = None,
    task: Annotated[
        list[str] | None,
        typer.Option(help="Built-in task id or task folder (repeat; default: every built-in)."),
    ] = None,
    agent: AgentOption = None,
    model: Annotated[
        str | None,
        typer.Option(help="The LLM agent's model, as litellm names it (openai/gpt-4o)."),
    ] = None,
    planner_model: Annotated[
        str | None, typer.Option(help="The planner's model (planner-executor).")
    ] = None,
    executor_model: Annotated[
        str | None, typer.Option(help="The executor's model (planner-executor).")
    ] = None,
    api_base: Annotated[
        str | None,
        typer.Option(help="An OpenAI-compatible server for the models (http://host:port/v1)."),
    ] = None,
    attempts: Annotated[int | None, typer.Option(help="Episodes per task and agent.")] = None,
    concurrency: Annotated[int | None, typer.Option(help="Episodes at the same time.")] = None,
    max_steps: Annotated[int | None, typer.Option(help="Actions per episode.")] = None,
    sandbox: SandboxOption = None,
    pool: Annotated[
        int | None, typer.Option(help="Docker containers kept started ahead of need.")
    ] = None,
    db: Annotated[Path | None, typer.Option(help="DuckDB file to store the run in.")] = None,
    parquet: Annotated[
        Path | None, typer.Option(help="Store Parquet files in this directory instead.")
    ] = None,
    resume: Annotated[
        str | None,
        typer.Option(
            help="Continue this stored run: keep its episodes that ended, run the rest (its "
            "stored configuration, with the options given on top)."
        ),
    ] = None,
    retry_errors: Annotated[
        int | None,
        typer.Option(help="Tries again an episode ended by an infrastructure failure, N times."),
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Resume even if a task or an agent changed since the run.")
    ] = False,
) -> None:
    """Run agents on tasks and store every event (or resume a run: --resume RUN_ID)."""
    from researchgym.config import load_run_config, run_config

    overrides: dict[str, Any] = {
        "tasks": task or None,
        "agents": _agents(agent, model, planner_model, executor_model),
        "attempts": attempts,
        "models": {"api_base": api_base} if api_base else None,
        "retry_errors": retry_errors,
    }
    limits = {"max_steps": max_steps, "concurrent_episodes": concurrency}
    if any(v is not None for v in limits.values()):
        overrides["limits"] = {k: v for k, v in limits.items() if v is not None}
    box = {"kind": sandbox, "pool": pool}
    if any(v is not None for v in box.values()):
        overrides["sandbox"] = {k: v for k, v in box.items() if v is not None}
    if parquet is not None and db is not None:
        raise ConfigError("Pass --db or --parquet, not both: a run is stored in one place.")
    if parquet is not None or db is not None:
        overrides["storage"] = (
            {"format": "parquet", "path": parquet} if parquet else {"format": "duckdb", "path": db}
        )
    if resume is not None:
        overrides.update(run_id=resume, resume=True)
        if config is None:
            cfg = _stored_config(resume, overrides)
            _run_with_progress(cfg, force=force)
            return
    cfg = load_run_config(config, **overrides) if config else run_config(overrides)
    _run_with_progress(cfg, force=force)


def _stored_config(run_id: str, overrides: dict[str, Any]) -> RunConfig:
    """The configuration a stored run ran with, with ``overrides`` on top."""
    from researchgym.config import merge, run_config
    from researchgym.storage import stored_run

    storage = run_config({"storage": overrides.get("storage")}).storage
    stored = stored_run(storage.path, run_id)
    if stored is None or stored.run is None:
        raise ConfigError(
            f"There is no configuration of a run '{run_id}' in {storage.path} to resume: "
            "pass --db (or --parquet) where it is stored, or its run configuration file with "
            "the same run_id."
        )
    data = json.loads(str(stored.run["config"]))
    return run_config(merge(data, overrides), source=f"the stored run {run_id}")


def _agents(
    kinds: list[str] | None, model: str | None, planner: str | None, executor: str | None
) -> list[dict[str, Any]] | None:
    """The agents the options ask for (None: those of the configuration or the default)."""
    if not kinds:
        if planner or executor:
            kinds = ["planner-executor"]
        elif model:
            kinds = ["llm"]
        else:
            return None
    agents: list[dict[str, Any]] = []
    for kind in kinds:
        params: dict[str, Any] = {}
        if kind == "llm" and model:
            params = {"model": model}
        elif kind == "planner-executor":
            params = {
                "planner": {"model": planner or model or "mock"},
                "executor": {"model": executor or model or "mock"},
            }
        agents.append({"kind": kind, "params": params})
    return agents


def _run_with_progress(cfg: RunConfig, *, force: bool = False) -> None:
    import anyio

    from researchgym.api import execute
    from researchgym.engine import Runner
    from researchgym.sandboxes import choose_sandboxes

    choice = anyio.run(choose_sandboxes, cfg.sandbox.kind)
    console.print(choice.describe(), soft_wrap=True, highlight=False)
    if cfg.sandbox.kind == "auto":  # settled once: the run stores what ran, and why
        box = cfg.sandbox.model_copy(update={"kind": choice.kind, "chosen": choice.because})
        cfg = cfg.model_copy(update={"sandbox": box})
    runner = Runner(cfg, force=force)
    if runner.admission.note is not None:
        console.print(runner.admission.note, style="yellow", soft_wrap=True, highlight=False)
    resumed = " (resumed)" if cfg.resume else ""
    console.print(f"Run [bold]{cfg.run_id}[/]{resumed} -> {cfg.storage.path}")
    try:
        execute(runner, console=console)
    except KeyboardInterrupt:
        errors.print("Cancelled. Everything recorded so far is stored.")
        raise typer.Exit(130) from None
    stats = runner.statistics()
    console.print(f"{stats.done} episodes ({stats.crashed} crashed), {stats.steps} steps.")
    if stats.exhausted:
        errors.print(
            f"{stats.exhausted} episodes failed because this process ran out of open files; "
            "the run is stored as failed. Run fewer episodes at once (--concurrency), or "
            "raise the hard limit on open files (ulimit -Hn).",
            soft_wrap=True,
        )
    console.print(_report_hint(cfg), soft_wrap=True)
    if not any(_real_models(agent.params) for agent in cfg.agents):
        console.print(OFFLINE_HINT, style="dim", soft_wrap=True)


def _report_hint(cfg: RunConfig) -> str:
    from researchgym.storage import READABLE

    if cfg.storage.format in READABLE:
        return f"Report: researchgym report --db {cfg.storage.path}"
    return f"Stored by the sink '{cfg.storage.format}' under {cfg.storage.path}."


OFFLINE_HINT = (
    "These agents ran offline (no model, or the mock model). To run a real model: "
    "researchgym run --model openai/gpt-4o (with OPENAI_API_KEY set), or --model "
    "openai/<name> --api-base http://127.0.0.1:8000/v1 for a local OpenAI-compatible server."
)


def _real_models(params: Any) -> list[str]:
    """The real (not mock) model names in an agent's parameters, however nested."""
    if isinstance(params, dict):
        found = [v for k, v in params.items() if k == "model" and isinstance(v, str)]
        nested = [m for v in params.values() for m in _real_models(v)]
        return [m for m in found if not m.startswith("mock")] + nested
    return []
