"""Registries: the named components of each extension point, built in or from plug-ins.

A ``Registry`` maps names to components of one kind: agent kinds, models, sandbox
providers, sinks, task collections. The package adds its own in code, as a value or as a
``"module:attribute"`` imported on first use; an installed distribution adds its own
through entry points of the registry's group, each imported when its name is first used::

    # the plug-in's pyproject.toml
    [project.entry-points."researchgym.agents"]
    my-agent = "my_package.agents:make_agent"

A name that holds a colon (``my_package.agents:make_agent``) is imported as it says, so a
run configuration can use a component that no distribution publishes.

A plug-in never takes a built-in's name: one that tries is refused, and so are two plug-ins
that give the same name, each with both origins named. A plug-in that fails to import is
reported with its distribution and the error when its name is used (and by ``researchgym
plugins``); the others stay usable.

Looking up a name that is not built in reads the installed distributions' metadata once
(blocking: the engine looks names up in a worker thread before a run starts).
"""

from __future__ import annotations

import importlib
import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar, cast

from researchgym.errors import PluginError, UnknownComponentError

if TYPE_CHECKING:
    from collections.abc import Callable
    from importlib.metadata import EntryPoint

__all__ = ["BUILT_IN", "Registry", "RegistryEntry"]

T = TypeVar("T")
T_Value = TypeVar("T_Value")

_log = logging.getLogger(__name__)

BUILT_IN = "researchgym (built in)"
"""The origin of the package's own components."""


class RegistryEntry(NamedTuple):
    """One name of a registry, for listings."""

    name: str
    origin: str
    """``researchgym (built in)``, or the distribution and entry point it comes from."""
    problem: str | None
    """Why it cannot be used (refused, or failed to import); None if it can."""


@dataclass
class _Entry:
    origin: str
    target: str | EntryPoint | None
    """What to import on first use (``module:attribute``, an entry point); None once done."""
    value: Any = None
    problem: str | None = None


class Registry(Generic[T]):
    """The components of one extension point, by name.

    Args:
        what: What a component is, in messages ("agent kind", "sink").
        group: The entry-point group plug-ins use (``researchgym.agents``).
        accepts: Whether a loaded object is a component of this kind.
        expected: What a component must be, in messages ("a callable (context, **params)").
    """

    def __init__(
        self, what: str, group: str, *, accepts: Callable[[object], bool], expected: str
    ) -> None:
        self.what = what
        self.group = group
        self._accepts = accepts
        self._expected = expected
        self._builtins: dict[str, _Entry] = {}
        self._plugins: dict[str, _Entry] | None = None  # found on first need
        self._refused: list[RegistryEntry] = []  # plug-ins that took a built-in's name
        self._lock = threading.RLock()

    def add(self, name: str, value: T | str, *, origin: str = BUILT_IN) -> None:
        """Add a component in code: the object, or ``"module:attribute"`` imported on use.

        Args:
            name: Its name; one added before under it is replaced.
            value: The component.
            origin: Where it comes from, for listings (default: researchgym itself).
        """
        target = value if isinstance(value, str) else None
        self._builtins[name] = _Entry(origin, target, None if target else value)

    def register(self, name: str) -> Callable[[T_Value], T_Value]:
        """A decorator adding the decorated object as the component ``name``.

        Its origin is researchgym for the package's own, else the module it is defined in.
        """

        def register(value: T_Value) -> T_Value:
            module = str(getattr(value, "__module__", ""))
            builtin = module.split(".")[0] == "researchgym"
            self.add(name, cast("T", value), origin=BUILT_IN if builtin else f"the module {module}")
            return value

        return register

    def builtin_names(self) -> list[str]:
        """The names added in code, sorted (no plug-in is looked for)."""
        return sorted(self._builtins)

    def names(self) -> list[str]:
        """Every usable name, built in or from a plug-in that is not refused, sorted."""
        plugins = self._found()
        usable = [name for name, entry in plugins.items() if entry.problem is None]
        return sorted({*self._builtins, *usable})

    def __contains__(self, name: object) -> bool:
        """Whether ``name`` is known: built in, a plug-in's, or ``module:attribute``."""
        if not isinstance(name, str):
            return False
        return name in self._builtins or ":" in name or name in self.names()

    def unknown(self, name: str, *, also: tuple[str, ...] = ()) -> str | None:
        """Why ``name`` names nothing here, in words.

        Returns:
            None if it names a component, or is one of the other words ``also`` allows.
        """
        if name in also or name in self:
            return None
        known = ", ".join([*also, *self.names()])
        return f"no {self.what} is called '{name}' (known: {known})"

    def get(self, name: str) -> T:
        """The component called ``name`` (imported now if it was not yet).

        Raises:
            UnknownComponentError: If no component has that name, listing those that do.
            PluginError: If the component is a refused plug-in, cannot be imported, or is
                not a component of this kind; naming where it comes from.
        """
        with self._lock:
            entry = self._entry(name)
            if entry.target is not None:
                self._load(entry)
            if entry.problem is not None:
                raise PluginError(self.what, name, entry.origin, entry.problem)
            return cast("T", entry.value)

    def entries(self) -> list[RegistryEntry]:
        """Every name, its origin, and why it cannot be used; every plug-in is imported."""
        with self._lock:
            found = {**self._found(), **self._builtins}
            for entry in found.values():
                if entry.target is not None:
                    self._load(entry)
            listed = [RegistryEntry(n, e.origin, e.problem) for n, e in found.items()]
            return sorted([*listed, *self._refused])

    def _entry(self, name: str) -> _Entry:
        if name in self._builtins:
            return self._builtins[name]
        plugins = self._found()
        if name not in plugins and ":" in name:
            plugins[name] = _Entry(f"the module {name.split(':')[0]}", name)
        if name not in plugins:
            raise UnknownComponentError(self.what, name, self.names())
        return plugins[name]

    def _load(self, entry: _Entry) -> None:
        target, entry.target = entry.target, None
        if target is None:
            return
        try:
            value = _resolve(target) if isinstance(target, str) else target.load()
        except Exception as e:  # a plug-in's import may fail in any way
            entry.problem = f"importing it failed: {type(e).__name__}: {e}"
            return
        if not self._accepts(value):
            entry.problem = f"it is {value!r}, not {self._expected}"
            return
        entry.value = value

    def _found(self) -> dict[str, _Entry]:
        """The plug-ins of the group, read once from the installed distributions."""
        with self._lock:
            if self._plugins is None:
                self._plugins = self._discover()
            return self._plugins

    def _discover(self) -> dict[str, _Entry]:
        from importlib.metadata import entry_points

        plugins: dict[str, _Entry] = {}
        seen: set[tuple[str, str]] = set()  # a distribution twice on the path counts once
        for point in entry_points(group=self.group):
            origin = _origin(point)
            if (origin, point.name) in seen:
                continue
            seen.add((origin, point.name))
            if point.name in self._builtins:
                clash = f"its name is the built-in {self.what}'s, from {BUILT_IN}; rename it"
                self._refused.append(RegistryEntry(point.name, origin, clash))
                _log.warning("%s", PluginError(self.what, point.name, origin, clash))
            elif point.name in plugins:
                first = plugins[point.name]
                first.problem = f"{origin} gives the same name; uninstall one of them"
                first.target = None
            else:
                plugins[point.name] = _Entry(origin, point)
        return plugins


def _origin(point: EntryPoint) -> str:
    dist = point.dist
    where = f"'{dist.name} {dist.version}'" if dist is not None else "an unknown distribution"
    return f"the distribution {where} (entry point {point.name} = {point.value})"


def _resolve(target: str) -> Any:
    module, _, attribute = target.partition(":")
    value: Any = importlib.import_module(module)
    for part in attribute.split(".") if attribute else []:
        value = getattr(value, part)
    return value
