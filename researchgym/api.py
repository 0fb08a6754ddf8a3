"""Runs from Python: ``run(config) -> RunResult``, in a script or a notebook.

``run`` takes a RunConfig, a mapping of the same keys, or the path of a YAML file, runs it
with a progress bar, and returns a ``RunResult`` whose readers return pandas DataFrames.
Inside a running event loop (a Jupyter cell), the engine runs on an event loop of its own
in a worker thread, so that the cell needs no ``await``.

Readers hold no connection: each opens the store read-only for its query and closes it
again. A DuckDB file has one writer or any number of readers at a time, so a connection
kept open would keep the next run from opening the file; a ``RunResult`` never does.
Whoever opens a connection of their own (``open_database``) closes it before the next run.

Example::

    result = researchgym.run({"tasks": ["diabetes_regression"], "attempts": 2})
    result.report()  # Best Attempt@k and Best Submission@k per task and agent
"""

from __future__ import annotations

import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from researchgym.config import RunConfig, StorageConfig, load_run_config, run_config

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    import pandas as pd
    import pyarrow as pa
    from anyio.abc import TaskStatus
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from researchgym.analysis import Report
    from researchgym.engine import Runner, RunStatistics

__all__ = ["RunResult", "execute", "read", "run"]

T = TypeVar("T")


def run(
    config: RunConfig | Mapping[str, Any] | str | Path,
    *,
    progress: bool = True,
    force: bool = False,
) -> RunResult:
    """Run a configuration to its end and return what it stored.

    Args:
        config: A RunConfig, a mapping of its keys, or a YAML file of them.
        progress: Show a progress bar.
        force: Resume the run even if a task or an agent changed since it was stored.

    Raises:
        ResearchGymError: If the configuration, a task, an agent, the sandboxes or the store
            are wrong (the message says what, and how to fix it).
        KeyboardInterrupt: If interrupted; everything recorded so far is stored.
    """

    def body() -> RunResult:
        from researchgym.engine import Runner

        runner = Runner(_config(config), force=force)
        _execute(runner, progress=progress)
        return RunResult(runner.config.run_id, runner.config.storage, runner.statistics())

    return _on_own_loop(body)


def execute(runner: Runner, *, progress: bool = True, console: Console | None = None) -> None:
    """Run ``runner`` on an event loop of its own, showing its progress.

    In a thread that runs an event loop already (a notebook's), the run gets a thread of
    its own and this one waits for it.
    """
    _on_own_loop(lambda: _execute(runner, progress=progress, console=console))


def _execute(runner: Runner, *, progress: bool, console: Console | None = None) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("[bold]episodes"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=console,
        disable=not progress,
    )
    with bar:
        task = bar.add_task("run", total=None, detail="loading tasks")
        anyio.run(_run_and_watch, runner, bar, task)


def _on_own_loop(function: Callable[[], T]) -> T:
    """Call ``function`` here, or in a thread of its own if this one runs an event loop.

    In that thread it imports, reads files and runs its own event loop; the caller's loop
    waits, as it does for any call without ``await``.
    """
    if not _in_event_loop():
        return function()
    outcome: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            outcome.append(function())
        except BaseException as e:
            failure.append(e)

    thread = threading.Thread(target=target, name="researchgym-run")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return outcome[0]


def _in_event_loop() -> bool:
    import asyncio

    import sniffio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        try:
            sniffio.current_async_library()
        except sniffio.AsyncLibraryNotFoundError:
            return False
    return True


async def _run_and_watch(runner: Runner, progress: Progress, bar: TaskID) -> None:
    started = time.monotonic()
    ctrl_c = anyio.Event()
    async with anyio.create_task_group() as tg:
        if threading.current_thread() is threading.main_thread():
            await tg.start(_cancel_on_ctrl_c, tg.cancel_scope, ctrl_c)
        tg.start_soon(_watch, runner, progress, bar)
        await runner.run()
        tg.cancel_scope.cancel()
    if ctrl_c.is_set():
        raise KeyboardInterrupt
    _show(runner, progress, bar, runner.statistics().steps / (time.monotonic() - started))


async def _cancel_on_ctrl_c(
    scope: anyio.CancelScope, pressed: anyio.Event, *, task_status: TaskStatus[None]
) -> None:
    """Cancel the run's scope at Ctrl-C (SIGINT), which ``execute`` then raises.

    asyncio's own handling cancels the main task once, and one ``except`` of that
    cancellation anywhere below lets the run go on and end as if it were complete; an anyio
    scope stays cancelled until every task in it has stopped.
    """
    with anyio.open_signal_receiver(signal.SIGINT) as signals:
        task_status.started()
        async for _ in signals:
            pressed.set()
            scope.cancel()
            return


async def _watch(runner: Runner, progress: Progress, bar: TaskID) -> None:
    last_steps, last_time = 0, time.monotonic()
    while True:
        await anyio.sleep(0.25)
        now, steps = time.monotonic(), runner.statistics().steps
        _show(runner, progress, bar, (steps - last_steps) / (now - last_time))
        last_steps, last_time = steps, now


def _show(runner: Runner, progress: Progress, bar: TaskID, rate: float) -> None:
    s = runner.statistics()
    detail = f"running {s.running}  crashed {s.crashed}  steps {s.steps}  {rate:,.0f} steps/s"
    progress.update(bar, total=s.episodes or None, completed=s.done, detail=detail)


def _config(config: RunConfig | Mapping[str, Any] | str | Path) -> RunConfig:
    if isinstance(config, RunConfig):
        return config
    if isinstance(config, str | Path):
        return load_run_config(Path(config))
    return run_config(dict(config), source="the configuration given to run()")


@dataclass(frozen=True)
class RunResult:
    """What a run stored, read back as pandas DataFrames (each read opens and closes)."""

    run_id: str
    storage: StorageConfig
    """Where the run is stored."""
    statistics: RunStatistics
    """Episodes planned, done and crashed, and steps, as the run ended."""

    def episodes(self) -> pd.DataFrame:
        """One row per episode: task, agent, attempt, exit status, steps, times, ..."""
        return self.sql("SELECT * FROM episodes WHERE run_id = $run ORDER BY started_at")

    def scores(self) -> pd.DataFrame:
        """One row per scored validate, submit and autosubmission, in order."""
        return self.sql("SELECT * FROM scores WHERE run_id = $run ORDER BY episode_id, seq")

    def report(self, k: int = 4) -> pd.DataFrame:
        """Per task and agent: Best Attempt@k and Best Submission@k beside the baseline."""
        return self._read(lambda con: _report(con, self.run_id, k).scores)

    def solvers(self, k: int = 4) -> pd.DataFrame:
        """Per solver (each agent, and the baseline): the AUP of both profiles, costs."""
        return self._read(lambda con: _report(con, self.run_id, k).solvers)

    def sql(self, sql: str, params: Mapping[str, object] | None = None) -> pd.DataFrame:
        """Any reading SQL over the store; ``$run`` is this run's id."""
        values = {"run": self.run_id, **(params or {})} if "$run" in sql else params
        return self._read(lambda con: _query(con, sql, values))

    def _read(self, reader: Callable[[Any], Any]) -> pd.DataFrame:
        from researchgym.errors import StorageError
        from researchgym.storage import READABLE

        if self.storage.format not in READABLE:
            raise StorageError(
                f"The run {self.run_id} went to the sink '{self.storage.format}' at "
                f"{self.storage.path}, which researchgym does not read back (it reads "
                f"{' and '.join(sorted(READABLE))} stores)."
            )
        return read(self.storage.path, reader)


def _report(con: Any, run_id: str, k: int) -> Report:
    from researchgym.analysis import report

    return report(con, [run_id], k=k)


def _query(con: Any, sql: str, params: Mapping[str, object] | None) -> pa.Table:
    from researchgym.storage import query

    return query(con, sql, params)


def read(store: str | Path, reader: Callable[[Any], Any]) -> pd.DataFrame:
    """Open ``store`` read-only, let ``reader`` turn the connection into an Arrow table, close.

    All of it happens in a thread of its own if this one runs an event loop (a notebook's).

    Raises:
        StorageError: If there is no store at ``store``, or it cannot be read.
        DatabaseLockedError: If another process is writing the DuckDB file.
    """

    def body() -> pd.DataFrame:
        from researchgym.storage import open_database

        con = open_database(Path(store))
        try:
            table = reader(con)
        finally:
            con.close()
        frame: pd.DataFrame = table.to_pandas()
        return frame

    return _on_own_loop(body)
