"""The trusted side of an evaluation: what a task's evaluator imports as ``rgym_eval``.

An evaluator (``eval/evaluate.py``) runs as the sandbox's trusted user, out of the agent's
reach. It never imports or executes the agent's code itself. Instead:

- a program submission runs in its own process as the agent's user, behind ``Player``: the
  evaluator calls the submission's functions with JSON arguments and gets JSON results back,
  one line each way, under a time limit; the evaluator checks every answer and computes the
  metric itself;
- a file submission (predictions, parameters) is read by ``read_submission``, with the
  agent's permissions, so that a symbolic link cannot make the evaluator read its own files.

Anything wrong with the submission raises ``Invalid``; ``main`` turns it into a non-zero exit
with the reason on stderr, which researchgym records as ``evaluation_format_error``: no score.
The result is written with ``write_result``. Environment (set by researchgym)::

    RGYM_WORKSPACE   the agent's workspace
    RGYM_SUBMISSION  the artefact's path
    RGYM_RESULT      where the JSON result goes
    RGYM_VERDICT     where ``main`` writes why the submission is invalid
    RGYM_MODE        validate or submit (see ``mode``)
    RGYM_AGENT_USER  the user the agent's code runs as (unset: the evaluator's own user)

In the final evaluation (``mode() == "submit"``) the submission's code is shown the hidden
final inputs, so nothing it says may reach a message: not its output, not its exception
messages, not the text of its answers (an evaluator quotes an answer only through
``shown``). While validating they help the agent debug, and are quoted. Of a final
evaluation's output researchgym keeps nothing: only the reason that ``main`` writes to
``$RGYM_VERDICT``.

Standard library only: the evaluator runs on whatever Python the sandbox has.
"""

from __future__ import annotations

import builtins
import contextlib
import csv
import ctypes
import io
import json
import math
import os
import pwd
import random
import re
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NoReturn, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Collection
    from types import TracebackType

T = TypeVar("T")

__all__ = [
    "Invalid",
    "Player",
    "agent_user",
    "main",
    "mode",
    "play_repeated",
    "quoted",
    "read_predictions",
    "read_split_labels",
    "read_submission",
    "shown",
    "submission",
    "workspace",
    "write_result",
]

_PLAYER_SOURCE = (Path(__file__).parent / "rgym_player.py").read_text()
_MAX_LINE = 64 * 1024 * 1024
"""Bytes one answer of the submission may take."""
_MAX_FILE = 64 * 1024 * 1024
"""Bytes a file submission may take."""
_STDERR_KEPT = 2000
"""Characters of the submission's own output quoted when it fails while validating."""
_PR_SET_PDEATHSIG = 1
_SHOWN = 60
"""Characters of an answer quoted in a message."""
_LOADING = "the module does not load: "
_BUILTIN_ERRORS = frozenset(
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
)
"""Exception names the final evaluation may repeat: any other name is the submission's own."""


class Invalid(Exception):
    """The submission cannot be scored; the message says why, for the agent."""


def workspace() -> Path:
    """The agent's workspace."""
    return Path(os.environ["RGYM_WORKSPACE"])


def submission() -> Path:
    """The submission artefact's path."""
    return Path(os.environ["RGYM_SUBMISSION"])


def mode() -> str:
    """``validate`` or ``submit``: which inputs to score on.

    ``validate`` may run many times in an episode, ``submit`` once, at its end. Score each on
    its own seeds, instances or hidden labels, so that a submission that records what it is
    shown while validating learns nothing of the final evaluation.
    """
    return os.environ.get("RGYM_MODE", "submit")


def agent_user() -> str | None:
    """The user the agent's code runs as, or None for the evaluator's own user."""
    return os.environ.get("RGYM_AGENT_USER") or None


def write_result(metrics: dict[str, float]) -> None:
    """Write the evaluation's result: metric name to a finite number."""
    for name, value in metrics.items():
        if not math.isfinite(value):
            raise Invalid(f"the metric {name} is {value}, not a finite number")
    Path(os.environ["RGYM_RESULT"]).write_text(json.dumps(metrics))


def main(evaluate: Callable[[], dict[str, float]]) -> NoReturn:
    """Run ``evaluate``, write its metrics, and exit: 0 if scored, 2 with the reason if not.

    researchgym reads exit code 2 as the verdict "invalid submission", and the reason (printed,
    and written to ``$RGYM_VERDICT``) as what is shown to the agent.
    """
    try:
        write_result(evaluate())
    except Invalid as e:
        print(f"invalid submission: {e}", file=sys.stderr)
        if os.environ.get("RGYM_VERDICT"):
            Path(os.environ["RGYM_VERDICT"]).write_text(str(e))
        sys.exit(2)
    sys.exit(0)


def shown(value: Any) -> str:
    """An answer of the submission's code, for a message: its ``repr``, cut short.

    In the final evaluation an answer may carry what the code was shown there (the hidden
    inputs), so a number, a bool or None is shown as itself, and anything else by its type
    and size alone: "a str of 3 characters", "a list of 6 items".
    """
    if mode() != "validate" and not (value is None or isinstance(value, bool | int | float)):
        size = len(value) if isinstance(value, str | list | dict) else None
        unit = "character" if isinstance(value, str) else "item"
        return f"a {type(value).__name__}" + (
            "" if size is None else f" of {size} {unit}" + ("s" if size != 1 else "")
        )
    try:
        text = repr(value)
    except ValueError:  # an int of more digits than Python converts
        return "an int of thousands of digits"
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def _as_agent() -> dict[str, Any]:
    """Popen arguments that run a process as the agent's user, with no other groups."""
    user = agent_user()
    if user is None:  # the same user: only the evaluator's own variables are kept from it
        env = {
            k: v for k, v in os.environ.items() if not k.startswith("RGYM_") and k != "PYTHONPATH"
        }
        return {"preexec_fn": _die_with_parent, "env": env}
    entry = pwd.getpwnam(user)
    return {
        "user": entry.pw_uid,
        "group": entry.pw_gid,
        "extra_groups": [],
        "preexec_fn": _die_with_parent,
        "env": {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": entry.pw_dir, "LANG": "C.UTF-8"},
    }


def _die_with_parent() -> None:
    # Runs in the child after its user changed (a change of user clears the setting): if
    # the evaluator is killed (its time limit), the submission dies with it.
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


_NOT_REGULAR, _TOO_LARGE, _OS_ERROR = 3, 4, 5
"""How the reader of ``read_submission`` exits when it reads nothing."""


def read_submission(path: Path | None = None, *, limit: int = _MAX_FILE) -> bytes:
    """Read a file submission with the agent's permissions.

    The reader runs as the agent, and what it says is not quoted: it reports only a code (and
    an errno), from which this builds the message.

    Raises:
        Invalid: If the agent could not read it, it is not a regular file, or it is too big.
    """
    path = path or submission()
    reader = (
        "import os, stat, sys\n"
        "p, limit = sys.argv[1], int(sys.argv[2])\n"
        "try:\n"
        "    fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK)\n"  # a pipe must not block it
        "except OSError as e:\n"
        f"    print(e.errno, file=sys.stderr); sys.exit({_OS_ERROR})\n"
        "info = os.fstat(fd)\n"
        f"if not stat.S_ISREG(info.st_mode): sys.exit({_NOT_REGULAR})\n"
        f"if info.st_size > limit: sys.exit({_TOO_LARGE})\n"
        "sys.stdout.buffer.write(os.fdopen(fd, 'rb').read(limit + 1))\n"
    )
    kwargs = _as_agent()
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-c", reader, str(path), str(limit)],
            capture_output=True,
            timeout=60,
            check=False,
            cwd=str(workspace()),
            **kwargs,
        )
    except subprocess.TimeoutExpired:
        raise Invalid(f"reading {path.name} took over 60 s") from None
    if done.returncode != 0:
        raise Invalid(f"cannot read {path.name}: {_unread(done, path, limit)}")
    if len(done.stdout) > limit:
        raise Invalid(f"{path.name} is larger than {limit} bytes")
    output: bytes = done.stdout
    return output


def _unread(done: subprocess.CompletedProcess[bytes], path: Path, limit: int) -> str:
    """Why the reader read nothing, from its exit code and the errno it printed."""
    if done.returncode == _NOT_REGULAR:
        return f"{path} is not a regular file"
    if done.returncode == _TOO_LARGE:
        return f"{path} is larger than {limit} bytes"
    number = done.stderr.strip()
    if done.returncode == _OS_ERROR and number.isdigit() and len(number) <= 4:
        error = OSError(int(number), os.strerror(int(number)), str(path))  # its subclass
        return f"{type(error).__name__}: {error}"
    return "it is not readable"


class Player:
    """The submission's code in a process of its own, as the agent's user.

    ``call(function, *args)`` calls a function of the submission's module and returns its
    JSON result. The submission's own output goes to a capped log, never into the protocol.
    When the submission fails, the reason quotes that output and its exception's message
    while validating; in the final evaluation it gives only a builtin exception's name.
    Use as a context manager: the process is killed on exit.
    """

    def __init__(self, path: Path | None = None, *, start_timeout: float = 60.0) -> None:
        """Start the submission at ``path`` (default: the submission artefact).

        Raises:
            Invalid: If the module cannot be loaded within ``start_timeout`` seconds.
        """
        path = path or submission()
        self._name = path.name
        self._stderr: deque[str] = deque(maxlen=40)
        self._buffer = b""
        self._process = subprocess.Popen(
            [sys.executable, "-I", "-c", _PLAYER_SOURCE, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=str(workspace()),
            start_new_session=True,
            **_as_agent(),
        )
        assert self._process.stdout and self._process.stderr
        os.set_blocking(self._process.stdout.fileno(), False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._process.stdout, selectors.EVENT_READ)
        threading.Thread(target=self._drain, args=(self._process.stderr,), daemon=True).start()
        self._answer(start_timeout, f"loading {self._name}", None)

    def call(self, function: str, *args: Any, timeout: float = 10.0) -> Any:
        """Call ``function(*args)`` in the submission and return its result.

        Raises:
            Invalid: If the function is missing, raises, answers other than JSON, or takes
                over ``timeout`` seconds.
        """
        return self._exchange({"call": function, "args": args}, timeout, function)

    def map(self, function: str, batch: list[list[Any]], *, timeout: float = 10.0) -> list[Any]:
        """Call ``function(*args)`` for each ``args`` of ``batch``, in one exchange.

        Raises:
            Invalid: As for ``call``, for any of the calls; ``timeout`` covers them all.
        """
        answer = self._exchange({"call": function, "batch": batch}, timeout, function)
        if not isinstance(answer, list) or len(answer) != len(batch):
            self._fail(f"{function}() gave an answer that is not one")
        return answer

    def _exchange(self, request: dict[str, Any], timeout: float, function: str) -> Any:
        assert self._process.stdin
        try:
            self._process.stdin.write(json.dumps(request).encode() + b"\n")
            self._process.stdin.flush()
        except (BrokenPipeError, ConnectionResetError):
            self._fail(f"{self._name} exited before {function}()")
        return self._answer(timeout, f"{function}()", function)

    def _answer(self, timeout: float, what: str, function: str | None) -> Any:
        line = self._read_line(timeout, what)
        try:
            message = json.loads(line)
        except (ValueError, RecursionError):  # not JSON, or nested past Python's limit
            self._fail(f"{what} gave an answer that is not JSON")
        if not isinstance(message, dict) or not ({"ok", "error"} & message.keys()):
            self._fail(f"{what} gave an answer that is not one")
        if "error" in message:
            self._fail(f"{what} failed: {_said(message['error'], function)}")
        return message["ok"]

    def _read_line(self, timeout: float, what: str) -> bytes:
        deadline = time.monotonic() + timeout
        assert self._process.stdout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not self._selector.select(left):
                self._fail(f"{what} took over {timeout:g} s")
            chunk = os.read(self._process.stdout.fileno(), 1 << 20)
            if not chunk:
                self._process.wait()
                self._fail(f"{self._name} exited (code {self._process.returncode}) during {what}")
            self._buffer += chunk
            if len(self._buffer) > _MAX_LINE:
                self._fail(f"{what} answered with over {_MAX_LINE} bytes")
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def _fail(self, reason: str) -> NoReturn:
        self.close()
        if mode() != "validate":  # its output may carry the hidden inputs
            raise Invalid(reason)
        time.sleep(0.05)  # the last words on stderr
        said = "".join(self._stderr).strip()[-_STDERR_KEPT:]
        raise Invalid(f"{reason}" + (f"\nits output ended with:\n{said}" if said else ""))

    def _drain(self, stream: IO[bytes]) -> None:
        for line in iter(lambda: stream.readline(_STDERR_KEPT), b""):
            self._stderr.append(line.decode(errors="replace")[-_STDERR_KEPT:])

    def close(self) -> None:
        """Kill the submission's process and everything it started."""
        with contextlib.suppress(ProcessLookupError):  # it, and all it started, had ended
            os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait()

    def __enter__(self) -> Player:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _said(error: object, function: str | None) -> str:
    """What the submission's process says went wrong, for the reason it failed.

    All of it while validating. In the final evaluation that process is the submission's
    and may say anything, so only what the evaluator can check is kept: the function it
    lacks, or the name of a builtin exception; never a message.
    """
    text = str(error)
    if mode() == "validate" or (function and text == f"it defines no function {function}"):
        return text
    loading = _LOADING if function is None and text.startswith(_LOADING) else ""
    name = text.removeprefix(loading).split(":", 1)[0]
    kind = name if name in _BUILTIN_ERRORS else "an exception"
    return f"{loading}{kind} (the final evaluation does not quote its message)"


# Prediction files: a CSV of id,prediction for every id of data/test.csv, scored against
# hidden labels whose split column says which ids each mode scores.

_PREDICTIONS_HEADER = ["id", "prediction"]
_PREDICTIONS_LIMIT = 4 * 1024 * 1024
_IDS_SHOWN = 5
"""Ids quoted in an error about missing ids."""
_ID_DIGITS = 18
"""Digits an id may have, leading zeros aside: far more than any test id has."""


def quoted(token: str) -> str:
    """A token of the submission, quoted and cut to 40 characters, for a message."""
    return repr(token if len(token) <= 40 else token[:40] + "...")


def read_split_labels(path: str, convert: Callable[[str], T]) -> tuple[dict[int, T], list[int]]:
    """Every test id's label, and the ids this mode scores (sorted).

    ``path`` is a CSV with the columns id, target and split (``validate`` or ``submit``):
    each mode scores its own rows, so what validating shows says nothing of the final
    evaluation's labels.
    """
    current = mode()
    if current not in ("validate", "submit"):
        raise ValueError(f"unknown evaluation mode {current!r}")  # researchgym's bug
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    labels = {int(row["id"]): convert(row["target"]) for row in rows}
    return labels, sorted(int(row["id"]) for row in rows if row["split"] == current)


def read_predictions(ids: Collection[int], parse: Callable[[str], T]) -> dict[int, T]:
    """The submission's predictions, id to ``parse(prediction)``: each of ``ids`` once.

    The file is read with the agent's permissions and must lie in the workspace; it must be
    UTF-8 text with the header id,prediction, then one line per id (in any order). ``parse``
    raises Invalid for a prediction it refuses.

    Raises:
        Invalid: For anything else, naming the line.
    """
    name, text = _submission_text()
    reader = csv.reader(io.StringIO(text, newline=""))
    predictions: dict[int, T] = {}
    lines: dict[int, int] = {}
    try:
        header = [field.strip() for field in next((row for row in reader if row), [])]
        if header != _PREDICTIONS_HEADER:
            shown = quoted(",".join(header))
            raise Invalid(f"the header of {name} is {shown}; it must be id,prediction")
        for row in reader:
            if row:
                where = f"line {reader.line_num} of {name}"
                key, value = _parse_row(row, where, ids, parse)
                if key in lines:
                    seen = f"line {lines[key]}"
                    raise Invalid(f"{where}: the id {key} is there already, on {seen}")
                predictions[key], lines[key] = value, reader.line_num
    except csv.Error as e:
        raise Invalid(f"{name} is not valid CSV: {e}") from None
    missing = sorted(set(ids) - predictions.keys())
    if missing:
        raise Invalid(
            f"{name} has no prediction for {len(missing)} of the {len(ids)} test ids"
            f" (for example {', '.join(map(str, missing[:_IDS_SHOWN]))})"
        )
    return predictions


def _submission_text() -> tuple[str, str]:
    path = submission()
    # Read first, with the agent's permissions: a link to what the agent may not read fails
    # there, before this process (which may read more) resolves where the link leads.
    raw = read_submission(path, limit=_PREDICTIONS_LIMIT)
    real = os.path.realpath(path)
    root = os.path.realpath(workspace())
    if os.path.commonpath([real, root]) != root:
        raise Invalid(
            f"{path.name} is a link to {real}, outside the workspace; write the file itself"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise Invalid(f"{path.name} is not UTF-8 text (byte {e.start})") from None
    if "\x00" in text:
        raise Invalid(f"{path.name} contains NUL characters: it is not a CSV file")
    if not text.strip():
        raise Invalid(f"{path.name} is empty; it needs the header id,prediction")
    return path.name, text


def _parse_row(
    row: list[str], where: str, ids: Collection[int], parse: Callable[[str], T]
) -> tuple[int, T]:
    if len(row) != len(_PREDICTIONS_HEADER):
        fields = f"{len(row)} field" + ("s" if len(row) != 1 else "")
        raise Invalid(f"{where} has {fields}; each line must be id,prediction")
    token = row[0].strip()
    if not re.fullmatch(r"[0-9]+", token):
        raise Invalid(f"{where}: the id {quoted(token)} is not a whole number")
    significant = token.lstrip("0") or "0"
    if len(significant) > _ID_DIGITS:  # int() refuses over 4300 digits; no id comes near
        raise Invalid(
            f"{where}: the id {quoted(token)} ({len(token)} digits) is not an id of data/test.csv"
        )
    key = int(significant)
    if key not in ids:
        raise Invalid(f"{where}: {key} is not an id of data/test.csv")
    try:
        return key, parse(row[1].strip())
    except Invalid as e:
        raise Invalid(f"{where}: {e}") from None


# Repeated games: the submission's row_strategy(history) against a hidden opponent.


def play_repeated(
    *,
    games: int,
    rounds: int,
    seed: int,
    check: Callable[[Any], None],
    opponent: Callable[[list[tuple[Any, Any]], random.Random], Any],
    payoff: Callable[[Any, Any], float],
) -> float:
    """The row player's mean payoff per round over ``games`` games of ``rounds`` rounds.

    The submission's ``row_strategy(history)`` plays the row; all games advance one round at a
    time, each round one batch of calls. ``check`` raises Invalid for a move it refuses;
    ``opponent(history, rng)`` draws the column's move, from one ``random.Random(seed)`` for
    every game in turn. Histories hold (row, column) pairs, oldest first.
    """
    rng = random.Random(seed)
    histories: list[list[tuple[Any, Any]]] = [[] for _ in range(games)]
    total = 0.0
    with Player() as player:
        for _ in range(rounds):
            moves = player.map("row_strategy", [[h] for h in histories], timeout=60)
            for history, row in zip(histories, moves, strict=True):
                check(row)
                column = opponent(history, rng)
                total += payoff(row, column)
                history.append((row, column))
    return total / (games * rounds)
