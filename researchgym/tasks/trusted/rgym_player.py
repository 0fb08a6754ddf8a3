"""The untrusted side of an evaluation: runs the submission's module as the agent's user.

``rgym_eval.Player`` starts this source with ``python3 -I -c`` and the module's path. It
keeps the protocol's output for itself and points the module's stdout at stderr, so that
nothing the module prints can pass for an answer. Then, one JSON line each way: a request
``{"call": name, "args": [...]}`` gets ``{"ok": result}`` or ``{"error": reason}``, and
``{"call": name, "batch": [[...], ...]}`` gets the list of the results of one call per
argument list. The first
line says whether the module loaded.

Standard library only, and no imports from the evaluator's side: the agent's user cannot
read it.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import traceback
import types
from typing import Any


def load(path: str) -> types.ModuleType:
    """Import the submission's module from its source."""
    module = types.ModuleType("submission")
    module.__file__ = path
    sys.modules["submission"] = module
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a pipe must not hang the load
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{os.path.basename(path)} is not a regular file")
        code = compile(f.read(), path, "exec")  # from source, never from stale bytecode
    exec(code, module.__dict__)
    return module


def error() -> str:
    """The exception being handled, in a line; its traceback goes to stderr."""
    kind, value, _ = sys.exc_info()
    traceback.print_exc()
    return f"{kind.__name__ if kind else 'error'}: {value}"


def plain(value: Any) -> Any:
    """Numpy's numbers and arrays as JSON's."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def serve(path: str) -> None:
    """Load the module at ``path``, then answer requests until stdin ends."""
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # the module's prints go to stderr
    sys.stdout = sys.stderr
    requests = sys.stdin
    sys.stdin = open(os.devnull)  # noqa: SIM115  (for the module's whole life)

    def answer(message: dict[str, Any]) -> None:
        answers.write(json.dumps(message, allow_nan=False, default=plain) + "\n")
        answers.flush()

    try:
        module = load(path)
    except BaseException:
        answer({"error": f"the module does not load: {error()}"})
        return
    answer({"ok": None})
    for line in requests:
        request = json.loads(line)
        function = getattr(module, request["call"], None)
        if not callable(function):
            answer({"error": f"it defines no function {request['call']}"})
            continue
        try:
            if "batch" in request:
                answer({"ok": [function(*args) for args in request["batch"]]})
            else:
                answer({"ok": function(*request["args"])})
        except BaseException:
            answer({"error": error()})


if __name__ == "__main__":
    serve(sys.argv[1])
