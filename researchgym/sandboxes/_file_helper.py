"""The file helper: reads and writes the agent's files with the agent's rights.

This is a program, not a module of the engine: ``AgentFiles`` starts it inside the sandbox
as the agent's user (never root), once per sandbox, as
``python3 -I -S -c <this source> ROOTS_JSON WORKDIR``, and speaks to it over its stdin and
stdout, one request at a time. Standard library only; it runs on the sandbox's Python.

Request: one JSON line ``{"op": "read" | "write" | "exists", "path": ...}`` with, for
``read``, ``"limit"`` (bytes), and for ``write``, ``"size"`` and ``"exclusive"``, followed
by ``size`` bytes of content. Reply: one JSON line, ``{"ok": {...}}`` or
``{"error": NAME, ...}`` (an errno name, ``SPECIAL``, or ``OUTSIDE``), followed, for a
read, by ``size`` bytes.

Why it looks like this: the engine's own access to a sandbox (the Docker daemon's archive
API, a root process) has more rights than the agent, and follows symbolic links that the
agent can swap in between any check and any use. Here the kernel never follows a link: a
path is walked from ``/`` one component at a time, each opened with ``O_NOFOLLOW``
relative to the directory opened before it, and a link met on the way is read and followed
by this program, as the agent, at most 40 times. The file finally opened is the one
used (read, truncated and written through the same descriptor), and its real path must lie
in one of the roots (the agent's workspace and home): the agent's own rights decide what it
may touch, and the roots confine the engine's tools to the agent's own files. A read
refuses, before reading, anything that is not a regular file or is larger than its limit,
and never reads more than the limit, so no file makes the engine hold more than it asked.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # not imported when it runs: every millisecond of start-up is the agent's
    from typing import Any

_MAX_STEPS = 40
"""Links followed (and files found made meanwhile) on the way to one path, at most."""
_CHUNK = 1 << 20
_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_NOFOLLOW = os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK  # a FIFO must not block an open


class _Refused(Exception):
    """A request that cannot be done: the reply names why."""

    def __init__(self, name: str, **detail: object) -> None:
        super().__init__(name)
        self.name = name
        self.detail = detail


class _Walk:
    """The directories opened so far on the way to a path's last component."""

    def __init__(self, roots: list[str]) -> None:
        self.roots = roots
        self.names: list[str] = []
        self.fds = [os.open("/", _DIRECTORY)]
        self.steps = 0

    def path(self, name: str) -> str:
        return "/" + "/".join([*self.names, name])

    def inside(self, name: str) -> bool:
        path = self.path(name)
        return any(path == root or path.startswith(root.rstrip("/") + "/") for root in self.roots)

    def towards(self, name: str) -> bool:
        """Whether ``name`` lies in a root or on the way to one."""
        path = self.path(name).rstrip("/") + "/"
        return self.inside(name) or any(root.startswith(path) for root in self.roots)

    def enter(self, fd: int, name: str) -> None:
        self.fds.append(fd)
        self.names.append(name)

    def up(self) -> None:
        if self.names:
            self.names.pop()
            os.close(self.fds.pop())

    def step(self) -> None:
        self.steps += 1
        if self.steps > _MAX_STEPS:
            raise _Refused("ELOOP")

    def close(self) -> None:
        for fd in self.fds:
            os.close(fd)


def _components(path: str) -> list[str]:
    return [part for part in path.split("/") if part not in ("", ".")]


def _is_link(name: str, directory: int) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=directory, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _open_path(path: str, roots: list[str], flags: int, *, create: bool, exclusive: bool) -> int:
    """Open ``path`` as described above; return the descriptor of its last component.

    ``create``: make missing parent directories (inside the roots) and the file itself.
    ``exclusive``: refuse a last component that exists, even as a link.
    """
    todo = _components(path)[::-1]
    walk = _Walk(roots)
    try:
        while todo:
            name = todo.pop()
            if name == "..":
                walk.up()
                continue
            last = not todo
            directory = walk.fds[-1]
            try:
                if last and (exclusive or not create):
                    return _last(walk, name, flags, exclusive=exclusive)
                if last:
                    try:
                        return _last(walk, name, flags, exclusive=False)
                    except FileNotFoundError:
                        return _last(walk, name, flags, exclusive=True)
                walk.enter(os.open(name, _DIRECTORY, dir_fd=directory), name)
            except OSError as e:
                if not (last and exclusive) and _is_link(name, directory):  # follow it here
                    walk.step()
                    target = os.readlink(name, dir_fd=directory)
                    if target.startswith("/"):
                        while walk.names:
                            walk.up()
                    todo.extend(_components(target)[::-1])
                    continue
                if not walk.towards(name):
                    raise _Refused("OUTSIDE") from None
                if e.errno == errno.EEXIST and create and not exclusive:
                    walk.step()  # made meanwhile: open it
                    todo.append(name)
                    continue
                if e.errno != errno.ENOENT or not create or last:
                    raise
                if not walk.inside(name):
                    raise _Refused("OUTSIDE") from None
                try:
                    os.mkdir(name, 0o755, dir_fd=directory)
                except FileExistsError:
                    walk.step()
                todo.append(name)
        raise _Refused("EISDIR")
    finally:
        walk.close()


def _last(walk: _Walk, name: str, flags: int, *, exclusive: bool) -> int:
    """Open (or, ``exclusive``, create) the last component, refusing it outside the roots."""
    if exclusive:
        if not walk.inside(name):
            raise _Refused("OUTSIDE")
        creating = flags | os.O_CREAT | os.O_EXCL | _NOFOLLOW
        return os.open(name, creating, 0o644, dir_fd=walk.fds[-1])
    try:
        fd = os.open(name, flags | _NOFOLLOW, dir_fd=walk.fds[-1])
    except OSError as e:
        if _is_link(name, walk.fds[-1]):
            raise  # the caller follows it
        if not walk.inside(name):
            raise _Refused("OUTSIDE") from None
        if e.errno == errno.ENXIO:
            raise _Refused("SPECIAL") from None  # a socket, or a FIFO nobody reads
        raise
    if not walk.inside(name):
        os.close(fd)
        raise _Refused("OUTSIDE")
    return fd


def _regular(fd: int) -> os.stat_result:
    info = os.fstat(fd)
    if stat.S_ISDIR(info.st_mode):
        raise _Refused("EISDIR")
    if not stat.S_ISREG(info.st_mode):
        raise _Refused("SPECIAL")
    return info


def _read(request: dict[str, Any], roots: list[str]) -> None:
    limit = int(request["limit"])
    fd = _open_path(request["path"], roots, os.O_RDONLY, create=False, exclusive=False)
    with os.fdopen(fd, "rb", buffering=0) as file:
        size = _regular(fd).st_size
        if size > limit:
            raise _Refused("EFBIG", size=size)
        data = bytearray()
        while len(data) <= limit and (chunk := file.read(min(_CHUNK, limit + 1 - len(data)))):
            data += chunk
        if len(data) > limit:  # it grew since fstat
            raise _Refused("EFBIG", size=os.fstat(fd).st_size)
    _reply({"ok": {"size": len(data)}}, bytes(data))


def _write(request: dict[str, Any], roots: list[str], content: bytes) -> None:
    exclusive = bool(request.get("exclusive"))
    fd = _open_path(request["path"], roots, os.O_WRONLY, create=True, exclusive=exclusive)
    with os.fdopen(fd, "wb", buffering=0) as file:
        _regular(fd)
        os.ftruncate(fd, 0)
        view = memoryview(content)
        while view:
            view = view[file.write(view) or 0 :]
    _reply({"ok": {}})


def _exists(request: dict[str, Any], roots: list[str]) -> None:
    parent, _, name = str(request["path"]).rstrip("/").rpartition("/")
    try:
        fd = _open_path(parent or "/", ["/"], os.O_RDONLY, create=False, exclusive=False)
    except (OSError, _Refused):
        _reply({"ok": {"exists": False}})
        return
    try:
        os.stat(name or ".", dir_fd=fd, follow_symlinks=False)
        found = True
    except OSError:
        found = False
    finally:
        os.close(fd)
    _reply({"ok": {"exists": found}})


def _reply(header: dict[str, Any], payload: bytes = b"") -> None:
    sys.stdout.buffer.write(json.dumps(header).encode() + b"\n" + payload)
    sys.stdout.buffer.flush()


def _serve(roots: list[str], workdir: str) -> None:
    stdin = sys.stdin.buffer
    while line := stdin.readline():
        request = json.loads(line)
        content = stdin.read(int(request.get("size", 0))) if request["op"] == "write" else b""
        request["path"] = os.path.join(workdir, str(request["path"]))
        try:
            if request["op"] == "read":
                _read(request, roots)
            elif request["op"] == "write":
                _write(request, roots, content)
            else:
                _exists(request, roots)
        except _Refused as e:
            _reply({"error": e.name, **e.detail})
        except OSError as e:
            _reply({"error": errno.errorcode.get(e.errno or 0, "EIO")})
        except ValueError:  # a path with a NUL byte
            _reply({"error": "EINVAL"})


if __name__ == "__main__":
    _serve(json.loads(sys.argv[1]), sys.argv[2])
