"""Every error a user can cause or meet, in one tree.

```
ResearchGymError                 root: the CLI prints the message, never a traceback
├── ConfigError                  a run configuration that cannot be used
│   ├── TaskSpecError            a task folder or task.yaml that is broken (file, key)
│   ├── TaskChangedError         a task's eval/ changed after the run loaded it
│   ├── UnknownComponentError    a name no registry knows (agent kind, sink, ...)
│   ├── PluginError              a plug-in that cannot be used (fails to import, name clash)
│   ├── UnknownModelError        a model string no provider knows, or the provider denies
│   ├── MissingApiKeyError       a model's API key is not set in the environment
│   └── ApiKeyRejectedError      the provider refused the API key (401, 403)
├── ModelError                   a model call failed: the agent turns it into an exit status
│   ├── ContextWindowError       the prompt is over the model's context window (exit_context)
│   ├── ModelApiError            the API kept failing, or failed for good (exit_api)
│   │   └── MalformedReplyError  the server answered with something that is not a completion
│   └── RepliesExhaustedError    a scripted or replayed model has no reply left
├── SandboxError                 the place where commands run failed
│   ├── SandboxClosedError       we closed it, and something used it afterwards
│   ├── SandboxBrokenError       it died under us (the shell exited, the process vanished)
│   ├── DockerUnavailableError   no Docker daemon can be reached (or no permission)
│   ├── ImageMissingError        the sandbox image is not built
│   ├── BuildToolMissingError    a program the offline image build needs is missing
│   └── ImageBuildError          building the sandbox image failed
├── BusError                     a message could not go where it was sent
│   ├── UndeliverableError       no such recipient, or its mailbox is closed
│   ├── RequestTimeoutError      no reply within the request's timeout
│   └── UnexpectedMessageError   a payload of another type than its receiver expects
└── StorageError                 the event store cannot be used
    ├── DatabaseLockedError      another process holds the DuckDB file
    └── QueryError               DuckDB rejected a query
        └── QueryRefusedError    a query that would write, or read outside the stored runs
```

Each class builds its message from structured fields and keeps them on the instance, so
that tests and callers can inspect what went wrong without parsing the text.

Model errors are split by who can fix them. An unknown model or a missing or refused key is
the user's to fix before the run (``check_model`` finds most of them before it starts), so
they are ``ConfigError``. A ``ModelError`` happens to one episode while it runs, and its
agent ends the episode with a status that says why (``exit_context``, ``exit_api``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

__all__ = [
    "ApiKeyRejectedError",
    "BuildToolMissingError",
    "BusError",
    "ConfigError",
    "ContextWindowError",
    "DatabaseLockedError",
    "DockerUnavailableError",
    "ImageBuildError",
    "ImageMissingError",
    "MalformedReplyError",
    "MissingApiKeyError",
    "ModelApiError",
    "ModelError",
    "PluginError",
    "QueryError",
    "QueryRefusedError",
    "RepliesExhaustedError",
    "RequestTimeoutError",
    "ResearchGymError",
    "SandboxBrokenError",
    "SandboxClosedError",
    "SandboxError",
    "StorageError",
    "TaskChangedError",
    "TaskSpecError",
    "UndeliverableError",
    "UnexpectedMessageError",
    "UnknownComponentError",
    "UnknownModelError",
]


class ResearchGymError(Exception):
    """Root of every error researchgym raises on purpose."""


class ConfigError(ResearchGymError):
    """A run configuration that cannot be used."""


class TaskSpecError(ConfigError):
    """A task folder or its task.yaml is broken.

    Attributes:
        path: The file or folder at fault.
        key: The task.yaml key at fault (dotted), or None when the problem is the file itself.
        problem: What is wrong, in words.
    """

    def __init__(self, path: Path, problem: str, *, key: str | None = None) -> None:
        self.path = path
        self.key = key
        self.problem = problem
        where = f"{path}: key '{key}'" if key else str(path)
        super().__init__(f"Broken task: {where}: {problem}")


class TaskChangedError(ConfigError):
    """A task's ``eval/`` is not what the run loaded: its evaluator may have been swapped.

    The evaluation does not run; the episode ends with this error rather than a score.

    Attributes:
        root: The task folder.
        detail: What was found (a file that can no longer be read, a link), or None when
            only the content differs.
    """

    def __init__(self, root: Path, *, detail: str | None = None) -> None:
        self.root = root
        self.detail = detail
        found = f" ({detail})" if detail else ""
        super().__init__(
            f"The task folder {root} changed during the run: its eval/ is no longer what the"
            f" run loaded{found}, so the evaluation did not run. Leave task folders alone while"
            " a run uses them, and restart the run to use the task as it is now."
        )


class UnknownComponentError(ConfigError):
    """A name that no registry knows.

    Attributes:
        kind: What was looked up ("agent", "task", ...).
        name: The name that was given.
        known: The names that would have worked.
    """

    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        self.kind = kind
        self.name = name
        self.known = known
        super().__init__(
            f"Unknown {kind} '{name}'. Choose one of: {', '.join(sorted(known)) or '(none)'}."
        )


class PluginError(ConfigError):
    """A plug-in (an entry point of an installed distribution) that cannot be used.

    Attributes:
        what: The kind of component ("agent kind", "sink", ...).
        name: The plug-in's name (its entry point's).
        origin: Where it comes from: the distribution and the entry point.
        problem: Why it cannot be used, and what to do.
    """

    def __init__(self, what: str, name: str, origin: str, problem: str) -> None:
        self.what = what
        self.name = name
        self.origin = origin
        self.problem = problem
        super().__init__(f"The {what} '{name}' from {origin} cannot be used: {problem}")


class UnknownModelError(ConfigError):
    """A model that no provider knows: litellm cannot route it, or the provider denies it.

    Attributes:
        model: The model string that was given.
        hint: What was found, and what would work.
    """

    def __init__(self, model: str, hint: str) -> None:
        self.model = model
        self.hint = hint
        super().__init__(f"Unknown model '{model}': {hint}")


class MissingApiKeyError(ConfigError):
    """A model whose API key (or other setting) is missing from the environment.

    Attributes:
        model: The model string.
        env_vars: The environment variables to set.
    """

    def __init__(self, model: str, env_vars: Sequence[str]) -> None:
        self.model = model
        self.env_vars = tuple(env_vars)
        names = " and ".join(self.env_vars)
        plural = "s" if len(self.env_vars) > 1 else ""
        super().__init__(
            f"No API key for the model '{model}': the environment variable{plural} {names} "
            f"{'are' if plural else 'is'} not set. Set {names}, or give an api_base for a "
            "server that needs no key, or run offline with the mock model."
        )


class ApiKeyRejectedError(ConfigError):
    """The provider refused the API key (HTTP 401 or 403).

    Attributes:
        model: The model string.
        detail: What the provider said.
    """

    def __init__(self, model: str, detail: str) -> None:
        self.model = model
        self.detail = detail
        super().__init__(
            f"The provider refused the API key for the model '{model}': {detail}. Check the "
            "key in the provider's environment variable (OPENAI_API_KEY, ANTHROPIC_API_KEY, "
            "...) and that it may use this model."
        )


class ModelError(ResearchGymError):
    """A model call failed while an episode ran; the agent ends the episode with a status."""


class ContextWindowError(ModelError):
    """The prompt is over the model's context window; retrying the same prompt cannot help.

    Attributes:
        model: The model string.
        detail: What the provider said.
    """

    def __init__(self, model: str, detail: str) -> None:
        self.model = model
        self.detail = detail
        super().__init__(
            f"The prompt is over the context window of the model '{model}': {detail}. Keep "
            "fewer observations in the agent's history, or use a model with a larger window."
        )


class ModelApiError(ModelError):
    """A model's API failed: after every retry, or in a way that retrying cannot fix.

    Attributes:
        model: The model string.
        attempts: Requests made (1 when the error was not retried).
        error: The last error, in words.
    """

    def __init__(self, model: str, attempts: int, error: str) -> None:
        self.model = model
        self.attempts = attempts
        self.error = error
        tries = "once" if attempts == 1 else f"{attempts} times"
        super().__init__(
            f"The API of the model '{model}' failed ({tries}); the last error: {error}. Check "
            "that the provider (or the api_base server) is up, or allow more retries "
            "(models.retries)."
        )


class MalformedReplyError(ModelApiError):
    """The server kept answering with something that is not a completion.

    Not JSON, not UTF-8, no choices, or far too long: it is retried like a server error, and
    raised when the last answer was still unreadable. As for any ``ModelApiError``, the LLM
    agent then ends with ``exit_api``: one retry policy, never a format error asked again.

    Attributes:
        model: The model string.
        attempts: Requests made.
        problem: What was wrong with the last answer.
    """

    def __init__(self, model: str, problem: str, *, attempts: int = 1) -> None:
        super().__init__(model, attempts, f"the answer was not a completion: {problem}")
        self.problem = problem


class RepliesExhaustedError(ModelError):
    """A scripted (mock) or replayed model was asked for more replies than it has.

    Attributes:
        model: The model's name.
        replies: How many replies it had.
        hint: Why it may have run out, and what to do.
    """

    def __init__(self, model: str, replies: int, hint: str) -> None:
        self.model = model
        self.replies = replies
        self.hint = hint
        super().__init__(f"The model '{model}' has no reply left: all {replies} were used. {hint}")


class SandboxError(ResearchGymError):
    """The sandbox an episode runs in failed."""


class SandboxClosedError(SandboxError):
    """A sandbox was used after it was closed."""

    def __init__(self) -> None:
        super().__init__("The sandbox is closed; open a new one.")


class SandboxBrokenError(SandboxError):
    """The sandbox died under us (its shell exited or was killed).

    Attributes:
        reason: What was seen, in words.
        by_agent: True when the agent's own command ended the shell (it ran ``exit``), not
            the sandbox's failure: trying the episode again would not help.
    """

    def __init__(self, reason: str, *, by_agent: bool = False) -> None:
        self.reason = reason
        self.by_agent = by_agent
        super().__init__(f"The sandbox's shell is gone: {reason}.")


class DockerUnavailableError(SandboxError):
    """No Docker daemon can be reached.

    Attributes:
        reason: What the attempt to connect said.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(
            f"Cannot reach the Docker daemon: {reason}. Start it (for example `dockerd &`), "
            "check that you may use its socket (DOCKER_HOST, the docker group), or run with "
            "--sandbox local."
        )


class ImageMissingError(SandboxError):
    """The sandbox image does not exist in the Docker daemon.

    Attributes:
        image: The image's name and tag.
    """

    def __init__(self, image: str) -> None:
        self.image = image
        super().__init__(
            f"The sandbox image {image} is not built. Build it with: researchgym sandbox build"
        )


class BuildToolMissingError(SandboxError):
    """A program that the offline image build needs is not installed.

    Attributes:
        tool: The program that is missing.
        install: The command that installs it.
    """

    def __init__(self, tool: str, install: str) -> None:
        self.tool = tool
        self.install = install
        super().__init__(
            f"Cannot build the sandbox image offline: {tool} is not installed (not found on "
            f"PATH). Install it with `{install}`, or build from the Dockerfile where a registry "
            "is reachable: researchgym sandbox build --method dockerfile"
        )


class ImageBuildError(SandboxError):
    """Building the sandbox image failed.

    Attributes:
        method: How it was being built: ``"dockerfile"`` or ``"offline"``.
        problem: What went wrong, in words.
        hint: What to do about it.
        output: The last lines the build printed, oldest first.
    """

    def __init__(
        self, method: str, problem: str, *, hint: str, output: tuple[str, ...] = ()
    ) -> None:
        self.method = method
        self.problem = problem
        self.hint = hint
        self.output = output
        message = f"Building the sandbox image ({method}) failed: {problem}. {hint}"
        if output:
            message += "\nIts last lines of output:\n" + "\n".join(f"  {line}" for line in output)
        super().__init__(message)


class BusError(ResearchGymError):
    """A bus message could not be delivered or answered."""


class UndeliverableError(BusError):
    """A message was sent to a recipient that does not exist or no longer listens.

    Attributes:
        recipient: The address the message was sent to.
        reason: Why it could not be delivered.
    """

    def __init__(self, recipient: str, reason: str) -> None:
        self.recipient = recipient
        self.reason = reason
        super().__init__(f"Cannot deliver to '{recipient}': {reason}.")


class RequestTimeoutError(BusError):
    """A request got no reply within its timeout.

    Attributes:
        recipient: The address the request was sent to.
        timeout: The timeout in seconds.
    """

    def __init__(self, recipient: str, timeout: float) -> None:
        self.recipient = recipient
        self.timeout = timeout
        super().__init__(f"'{recipient}' did not reply within {timeout:g} s.")


class UnexpectedMessageError(BusError):
    """A message whose payload is not of the type its receiver expects (a bug, not a user's).

    Attributes:
        expected: The type the receiver expects.
        got: The payload's type.
        sender: Who sent it.
    """

    def __init__(self, expected: str, got: str, sender: str) -> None:
        self.expected = expected
        self.got = got
        self.sender = sender
        super().__init__(f"Expected a message of type {expected}, but {sender} sent a {got}.")


class StorageError(ResearchGymError):
    """The event store cannot be used."""


class DatabaseLockedError(StorageError):
    """Another process holds the DuckDB file.

    Attributes:
        path: The database file.
        holder: What DuckDB said about the process holding the lock.
    """

    def __init__(self, path: Path, holder: str) -> None:
        self.path = path
        self.holder = holder
        super().__init__(
            f"The database {path} is in use by another process ({holder}). Wait for that run "
            "to finish, or pass another database with --db."
        )


class QueryError(StorageError):
    """DuckDB rejected a query.

    Attributes:
        sql: The query.
        message: DuckDB's message.
    """

    def __init__(self, sql: str, message: str) -> None:
        self.sql = sql
        self.message = message
        super().__init__(f"The query failed: {message}")


class QueryRefusedError(QueryError):
    """A query that would write, or read outside the stored runs: researchgym's SQL only reads.

    A statement other than a read is refused before anything runs; a file other than the
    store's is refused by DuckDB, whose external access ``open_database`` turns off.

    Attributes:
        sql: The query.
        refused: What was refused, in words: ``"a COPY statement"``, ``"file access"``.
        message: The statement refused, or DuckDB's message.
    """

    def __init__(self, sql: str, refused: str, message: str) -> None:
        self.sql = sql
        self.refused = refused
        self.message = message
        # Not QueryError's "The query failed: ...": the query never ran, or stopped at the
        # first file it tried to open.
        StorageError.__init__(
            self,
            f"researchgym's SQL only reads the stored runs: {refused} is refused ({message}). "
            "It runs SELECT (DESCRIBE, SHOW and SUMMARIZE too) and EXPLAIN of a SELECT, over "
            "the tables and views of the database, and opens no other file. To save a result "
            "in a file, print it as csv or json and redirect it: "
            'researchgym sql "SELECT ..." --format csv > result.csv',
        )
