"""What a checker raises when a component breaks its contract, and how checks say so."""

from __future__ import annotations

__all__ = ["ConformanceError", "expect"]


class ConformanceError(AssertionError):
    """A component does not keep its contract.

    An ``AssertionError``, as Gymnasium's ``check_env`` raises, so that a test runner shows
    it as a failed check.

    Attributes:
        component: What was checked ("sandbox provider 'local'").
        promise: The part of the contract it broke, in words.
    """

    def __init__(self, component: str, promise: str) -> None:
        self.component = component
        self.promise = promise
        super().__init__(f"{component} does not keep its contract: {promise}")


def expect(condition: bool, component: str, promise: str) -> None:
    """Raise ``ConformanceError`` unless ``condition`` holds.

    Raises:
        ConformanceError: If it does not.
    """
    if not condition:
        raise ConformanceError(component, promise)
