"""The message bus: how the participants of an episode talk.

One bus per run, in process, on anyio memory object streams. A participant opens an
``Endpoint`` (its address is its name within its episode) and gets one mailbox, consumed in
order. Three ways to talk:

- ``send(recipient, payload)``: one way, direct.
- ``request(recipient, payload, timeout=...)``: direct, and wait for the ``reply`` that
  carries the request's id as its correlation id; ``ask(recipient, payload, ReplyType,
  timeout=...)`` returns that reply's payload, checked to be a ``ReplyType``.
- ``publish(topic, payload)``: to every endpoint of the episode subscribed to the topic.

A payload is any object; a receiver reads it as the type it expects with
``envelope.payload_as(Type)``, which raises ``UnexpectedMessageError`` for any other (the
messages of each endpoint: ``researchgym.engine.messages``).

Mailboxes are bounded: a sender waits while its recipient's mailbox is full (backpressure).
Nothing is dropped silently: a message for an address that does not exist or no longer
listens raises ``UndeliverableError`` at the sender, and the hook sees it. A request whose
recipient closes without answering fails at once, not at its timeout.

The hook (the run's recorder) sees every envelope once, before it is delivered, so that the
stored order is the causal order (a request is always recorded before its reply). If the
message is then not delivered after all (its recipient went away before reading it, or while
the sender waited for room, or the sender gave up waiting), the hook sees that envelope a
second time, with the error.

>>> async def main() -> None:
...     async with open_bus(run_id="r") as bus:
...         async with bus.endpoint("a", episode_id="e") as a:
...             async with bus.endpoint("b", episode_id="e") as b:
...                 await a.send("b", "hello")
...                 print((await b.receive()).payload)
>>> anyio.run(main)
hello
"""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple, Self, TypeVar

import anyio
from anyio.abc import AsyncResource

from researchgym.errors import RequestTimeoutError, UndeliverableError, UnexpectedMessageError

if TYPE_CHECKING:
    import builtins

    from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

__all__ = ["Bus", "BusStatistics", "Endpoint", "Envelope", "EnvelopeHook", "open_bus"]

T_Payload = TypeVar("T_Payload")


class Envelope(NamedTuple):
    """One message on the bus, with everything the recorder stores about it.

    A named tuple rather than a frozen dataclass: as immutable, and four times cheaper to
    build, which counts on the bus's hot path.
    """

    id: str
    """Unique in the run."""
    run_id: str
    episode_id: str
    sender: str
    recipient: str | None
    """The addressee of a direct message; None when published."""
    topic: str | None
    """The topic of a published message; None when direct."""
    type: str
    """The payload's class name (str for a plain string)."""
    correlation_id: str | None
    """For a reply, the id of the request it answers."""
    sent_at: float
    """Wall-clock seconds since the epoch."""
    payload: object

    def payload_as(self, kind: builtins.type[T_Payload]) -> T_Payload:
        """The payload, as the ``kind`` of message the receiver expects.

        Raises:
            UnexpectedMessageError: If it is of another type.
        """
        if not isinstance(self.payload, kind):
            raise UnexpectedMessageError(kind.__name__, self.type, self.sender)
        return self.payload


EnvelopeHook = Callable[[Envelope, str | None], Awaitable[None]]
"""Called with every envelope and None, or with an envelope and why it was not delivered."""


@dataclass(frozen=True)
class BusStatistics:
    """Counters of a bus, for monitoring and tests."""

    sent: int
    """Envelopes handed to mailboxes (a publish counts once per subscriber)."""
    undeliverable: int
    """Envelopes that could not be delivered."""
    pending_requests: int
    """Requests waiting for their reply now."""
    endpoints: int
    """Open endpoints now."""


@dataclass
class _Pending:
    done: anyio.Event = field(default_factory=anyio.Event)
    reply: Envelope | None = None
    error: str | None = None
    """Why no reply can come (the recipient closed without answering)."""


_CLOSED = (anyio.BrokenResourceError, anyio.ClosedResourceError)


class Bus:
    """The message bus of one run. Create it with ``open_bus``."""

    def __init__(self, *, run_id: str, buffer_size: int, hook: EnvelopeHook | None) -> None:
        self.run_id = run_id
        self._buffer_size = buffer_size
        self._hook = hook
        self._mailboxes: dict[tuple[str, str], MemoryObjectSendStream[Envelope]] = {}
        self._topics: dict[tuple[str, str], set[str]] = {}
        self._pending: dict[str, _Pending] = {}
        self._ids = itertools.count(1)
        self._sent = 0
        self._undeliverable = 0

    def endpoint(self, name: str, *, episode_id: str) -> Endpoint:
        """Open the endpoint ``name`` of an episode, with its mailbox.

        Raises:
            ValueError: If the episode already has an open endpoint of that name.
        """
        key = (episode_id, name)
        if key in self._mailboxes:
            raise ValueError(f"Episode {episode_id} already has an endpoint named '{name}'.")
        send, receive = anyio.create_memory_object_stream[Envelope](self._buffer_size)
        self._mailboxes[key] = send
        return Endpoint(self, name=name, episode_id=episode_id, mailbox=receive)

    def statistics(self) -> BusStatistics:
        """Return the bus's counters."""
        return BusStatistics(
            sent=self._sent,
            undeliverable=self._undeliverable,
            pending_requests=len(self._pending),
            endpoints=len(self._mailboxes),
        )

    def _envelope(
        self,
        sender: Endpoint,
        payload: object,
        *,
        recipient: str | None = None,
        topic: str | None = None,
        correlation_id: str | None = None,
    ) -> Envelope:
        return Envelope(
            id=f"{self.run_id}:{next(self._ids)}",
            run_id=self.run_id,
            episode_id=sender.episode_id,
            sender=sender.name,
            recipient=recipient,
            topic=topic,
            type=type(payload).__name__,
            correlation_id=correlation_id,
            sent_at=time.time(),
            payload=payload,
        )

    async def _record(self, envelope: Envelope, error: str | None = None) -> None:
        if error is not None:
            self._undeliverable += 1
        if self._hook is not None:
            await self._hook(envelope, error)

    async def _fail(self, envelope: Envelope, address: str, reason: str) -> UndeliverableError:
        with anyio.CancelScope(shield=True):
            await self._record(envelope, reason)
        return UndeliverableError(address, reason)

    async def _deliver(self, envelope: Envelope) -> None:
        assert envelope.recipient is not None
        if (envelope.episode_id, envelope.recipient) not in self._mailboxes:
            raise await self._fail(envelope, envelope.recipient, "no such endpoint")
        await self._record(envelope)
        await self._put(envelope, envelope.recipient)

    async def _put(self, envelope: Envelope, address: str) -> None:
        # Looked up after recording: the recipient may have closed while the hook waited.
        mailbox = self._mailboxes.get((envelope.episode_id, address))
        if mailbox is None:
            raise await self._fail(envelope, address, "the endpoint closed")
        try:
            mailbox.send_nowait(envelope)
        except anyio.WouldBlock:
            await self._put_waiting(mailbox, envelope, address)
        except _CLOSED:
            raise await self._fail(envelope, address, "the endpoint closed") from None
        self._sent += 1

    async def _put_waiting(
        self, mailbox: MemoryObjectSendStream[Envelope], envelope: Envelope, address: str
    ) -> None:
        try:
            await mailbox.send(envelope)
        except _CLOSED:
            raise await self._fail(envelope, address, "the endpoint closed") from None
        except anyio.get_cancelled_exc_class():
            await self._fail(envelope, address, "the sender stopped waiting for room")
            raise

    async def _publish(self, envelope: Envelope) -> int:
        assert envelope.topic is not None
        names = sorted(self._topics.get((envelope.episode_id, envelope.topic), ()))
        await self._record(envelope)
        failures: list[UndeliverableError] = []
        for name in names:
            try:
                await self._put(envelope, name)
            except UndeliverableError as e:
                failures.append(e)  # the others still get it
        if failures:
            raise failures[0]
        return len(names)

    async def _request(self, envelope: Envelope, timeout: float) -> Envelope:
        pending = self._pending[envelope.id] = _Pending()
        try:
            # move_on_after, not fail_after: this is the hot path, and fail_after adds a
            # generator-based context manager around the same cancel scope.
            with anyio.move_on_after(timeout):
                await self._deliver(envelope)
                await pending.done.wait()
        finally:
            del self._pending[envelope.id]
        if pending.reply is not None:
            return pending.reply
        if pending.error is not None:
            raise UndeliverableError(envelope.recipient or "", pending.error)
        raise RequestTimeoutError(envelope.recipient or "", timeout)

    async def _reply(self, envelope: Envelope) -> None:
        assert envelope.correlation_id is not None and envelope.recipient is not None
        pending = self._pending.get(envelope.correlation_id)
        if pending is None or pending.done.is_set():
            raise await self._fail(
                envelope, envelope.recipient, "the request was abandoned or already answered"
            )
        await self._record(envelope)
        pending.reply = envelope
        pending.done.set()
        self._sent += 1

    def _abandon(self, request_id: str, reason: str) -> None:
        """Wake the sender of a request that will get no reply."""
        pending = self._pending.get(request_id)
        if pending is not None and not pending.done.is_set():
            pending.error = reason
            pending.done.set()

    async def _close(self, endpoint: Endpoint, owed: set[str]) -> None:
        self._mailboxes.pop((endpoint.episode_id, endpoint.name)).close()
        for topic in endpoint.topics:
            subscribers = self._topics[(endpoint.episode_id, topic)]
            subscribers.discard(endpoint.name)
            if not subscribers:
                del self._topics[(endpoint.episode_id, topic)]
        for request_id in owed:
            self._abandon(request_id, "the recipient closed without replying")
        with anyio.CancelScope(shield=True):
            await self._drop_unread(endpoint._mailbox)

    async def _drop_unread(self, mailbox: MemoryObjectReceiveStream[Envelope]) -> None:
        while True:
            try:
                envelope = mailbox.receive_nowait()
            except (anyio.WouldBlock, anyio.EndOfStream):
                return
            await self._record(envelope, "the endpoint closed before reading it")
            self._abandon(envelope.id, "the endpoint closed before reading it")


class Endpoint(AsyncResource):
    """A participant's address on the bus, with its mailbox. Open it with ``Bus.endpoint``."""

    def __init__(
        self,
        bus: Bus,
        *,
        name: str,
        episode_id: str,
        mailbox: MemoryObjectReceiveStream[Envelope],
    ) -> None:
        self.name = name
        self.episode_id = episode_id
        self.topics: set[str] = set()
        self._bus = bus
        self._mailbox = mailbox
        self._owed: set[str] = set()
        """Ids of requests received and not answered yet."""
        self._closed = False

    async def send(self, recipient: str, payload: object) -> Envelope:
        """Send a message to an endpoint of this episode, waiting while its mailbox is full.

        Returns:
            The envelope that was sent.

        Raises:
            UndeliverableError: If the recipient does not exist or closed.
        """
        envelope = self._bus._envelope(self, payload, recipient=recipient)
        await self._bus._deliver(envelope)
        return envelope

    async def request(self, recipient: str, payload: object, *, timeout: float) -> Envelope:
        """Send a request and wait for its reply.

        Args:
            recipient: An endpoint of this episode.
            payload: The request.
            timeout: Seconds to wait for delivery and reply together.

        Returns:
            The reply's envelope.

        Raises:
            UndeliverableError: If the recipient does not exist, or closed before replying.
            RequestTimeoutError: If no reply came within ``timeout``.
        """
        envelope = self._bus._envelope(self, payload, recipient=recipient)
        return await self._bus._request(envelope, timeout)

    async def ask(
        self, recipient: str, payload: object, reply: type[T_Payload], *, timeout: float
    ) -> T_Payload:
        """Send a request and return its reply's payload, a ``reply``.

        Raises:
            UndeliverableError: If the recipient does not exist, or closed before replying.
            RequestTimeoutError: If no reply came within ``timeout``.
            UnexpectedMessageError: If the reply is not a ``reply``.
        """
        envelope = await self.request(recipient, payload, timeout=timeout)
        return envelope.payload_as(reply)

    async def reply(self, request: Envelope, payload: object) -> Envelope:
        """Answer a request.

        Returns:
            The reply's envelope.

        Raises:
            UndeliverableError: If the requester stopped waiting (timeout, cancellation) or
                the request was already answered.
        """
        envelope = self._bus._envelope(
            self, payload, recipient=request.sender, correlation_id=request.id
        )
        self._owed.discard(request.id)
        await self._bus._reply(envelope)
        return envelope

    async def publish(self, topic: str, payload: object) -> int:
        """Publish a message to every subscriber of a topic of this episode.

        Returns:
            The number of subscribers it was delivered to.

        Raises:
            UndeliverableError: If a subscriber closed meanwhile (the others still get it).
        """
        return await self._bus._publish(self._bus._envelope(self, payload, topic=topic))

    def subscribe(self, topic: str) -> None:
        """Receive, from now on, the messages published on ``topic`` in this episode."""
        self.topics.add(topic)
        self._bus._topics.setdefault((self.episode_id, topic), set()).add(self.name)

    async def receive(self) -> Envelope:
        """Return the next message of the mailbox, waiting for one.

        Raises:
            anyio.EndOfStream: If the endpoint was closed.
        """
        try:
            envelope = await self._mailbox.receive()
        except anyio.ClosedResourceError:
            raise anyio.EndOfStream from None
        if envelope.id in self._bus._pending:
            self._owed.add(envelope.id)
        return envelope

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Envelope:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        """Close the mailbox and free the address. Idempotent.

        Messages left unread are recorded as undeliverable, and the senders of requests it
        will not answer stop waiting with ``UndeliverableError``.
        """
        if not self._closed:
            self._closed = True
            await self._bus._close(self, self._owed)
            self._mailbox.close()


@asynccontextmanager
async def open_bus(
    *, run_id: str, buffer_size: int = 64, hook: EnvelopeHook | None = None
) -> AsyncIterator[Bus]:
    """Open the bus of a run.

    Args:
        run_id: Stamped on every envelope.
        buffer_size: Capacity of each mailbox; a sender waits while it is full.
        hook: Sees every envelope (see ``EnvelopeHook``); the run's recorder.

    Yields:
        The bus.
    """
    yield Bus(run_id=run_id, buffer_size=buffer_size, hook=hook)
