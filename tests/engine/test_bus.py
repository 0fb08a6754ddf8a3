from __future__ import annotations

import anyio
import pytest
from anyio import wait_all_tasks_blocked
from anyio.lowlevel import checkpoint

from researchgym.engine import Envelope, open_bus
from researchgym.errors import RequestTimeoutError, UndeliverableError, UnexpectedMessageError


class Log:
    """A recorder that keeps what it sees."""

    def __init__(self) -> None:
        self.seen: list[tuple[Envelope, str | None]] = []

    async def __call__(self, envelope: Envelope, error: str | None) -> None:
        self.seen.append((envelope, error))


@pytest.fixture
def log() -> Log:
    return Log()


async def test_send_is_fifo_per_recipient(log: Log) -> None:
    async with (
        open_bus(run_id="r", hook=log) as bus,
        bus.endpoint("a", episode_id="e") as a,
        bus.endpoint("b", episode_id="e") as b,
    ):
        for i in range(10):
            await a.send("b", i)
        assert [(await b.receive()).payload for _ in range(10)] == list(range(10))
    assert [env.payload for env, _ in log.seen] == list(range(10))
    assert all(err is None for _, err in log.seen)


async def test_a_payload_is_read_as_the_type_the_receiver_expects() -> None:
    async with (
        open_bus(run_id="r") as bus,
        bus.endpoint("client", episode_id="e") as client,
        bus.endpoint("server", episode_id="e") as server,
        anyio.create_task_group() as tg,
    ):

        async def serve() -> None:
            async for request in server:
                number = request.payload_as(int)
                await server.reply(request, str(number) if number else number)

        tg.start_soon(serve)
        assert await client.ask("server", 7, str, timeout=5) == "7"
        with pytest.raises(UnexpectedMessageError) as wrong:
            await client.ask("server", 0, str, timeout=5)  # the reply is an int
        assert (wrong.value.expected, wrong.value.got, wrong.value.sender) == (
            "str",
            "int",
            "server",
        )
        tg.cancel_scope.cancel()
        await client.send("server", "not a number")
        received = await server.receive()
        with pytest.raises(UnexpectedMessageError, match="of type int, but client sent a str"):
            received.payload_as(int)


async def test_envelope_carries_everything_the_recorder_stores(log: Log) -> None:
    async with (
        open_bus(run_id="r", hook=log) as bus,
        bus.endpoint("a", episode_id="e") as a,
        bus.endpoint("b", episode_id="e") as b,
    ):
        sent = await a.send("b", {"x": 1})
        got = await b.receive()
    assert got is sent
    assert (got.run_id, got.episode_id, got.sender, got.recipient, got.topic, got.type) == (
        "r",
        "e",
        "a",
        "b",
        None,
        "dict",
    )
    assert got.correlation_id is None and got.id.startswith("r:")


async def test_episodes_are_separate_address_spaces() -> None:
    async with (
        open_bus(run_id="r") as bus,
        bus.endpoint("a", episode_id="e1") as a1,
        bus.endpoint("b", episode_id="e1") as b1,
        bus.endpoint("b", episode_id="e2") as b2,
    ):
        await a1.send("b", "for e1")
        assert (await b1.receive()).payload == "for e1"
        with anyio.move_on_after(0.05):
            await b2.receive()
            pytest.fail("e2 received a message of e1")


async def test_duplicate_endpoint_name_is_refused() -> None:
    async with open_bus(run_id="r") as bus, bus.endpoint("a", episode_id="e"):
        with pytest.raises(ValueError, match=r"^Episode e already has an endpoint named 'a'\.$"):
            bus.endpoint("a", episode_id="e")


async def test_request_reply_with_correlation_id(log: Log) -> None:
    async with (
        open_bus(run_id="r", hook=log) as bus,
        bus.endpoint("client", episode_id="e") as client,
        bus.endpoint("server", episode_id="e") as server,
        anyio.create_task_group() as tg,
    ):

        async def serve() -> None:
            async for request in server:
                await server.reply(request, request.payload_as(int) * 2)

        tg.start_soon(serve)
        replies = [await client.request("server", n, timeout=5) for n in (1, 2, 3)]
        tg.cancel_scope.cancel()
    assert [r.payload for r in replies] == [2, 4, 6]
    requests = [env for env, _ in log.seen if env.sender == "client"]
    assert [r.correlation_id for r in replies] == [q.id for q in requests]
    # the recorder saw each request before its reply
    order = [env.sender for env, _ in log.seen]
    assert order == ["client", "server"] * 3


async def test_request_timeout_then_late_reply_is_undeliverable(log: Log) -> None:
    async with (
        open_bus(run_id="r", hook=log) as bus,
        bus.endpoint("client", episode_id="e") as client,
        bus.endpoint("server", episode_id="e") as server,
    ):
        with pytest.raises(RequestTimeoutError, match=r"^'server' did not reply within 0\.05 s\.$"):
            await client.request("server", "ping", timeout=0.05)
        request = await server.receive()
        with pytest.raises(
            UndeliverableError,
            match=r"^Cannot deliver to 'client': the request was abandoned or already "
            r"answered\.$",
        ):
            await server.reply(request, "pong")
    assert bus.statistics().pending_requests == 0
    assert log.seen[-1][1] == "the request was abandoned or already answered"


async def test_second_reply_is_refused() -> None:
    async with (
        open_bus(run_id="r") as bus,
        bus.endpoint("client", episode_id="e") as client,
        bus.endpoint("server", episode_id="e") as server,
        anyio.create_task_group() as tg,
    ):
        results: list[object] = []

        async def ask() -> None:
            results.append((await client.request("server", "q", timeout=5)).payload)

        tg.start_soon(ask)
        request = await server.receive()
        await server.reply(request, "first")
        with pytest.raises(UndeliverableError):
            await server.reply(request, "second")
    assert results == ["first"]


async def test_unknown_recipient_raises_at_sender_and_is_recorded(log: Log) -> None:
    async with open_bus(run_id="r", hook=log) as bus, bus.endpoint("a", episode_id="e") as a:
        with pytest.raises(
            UndeliverableError, match=r"^Cannot deliver to 'nobody': no such endpoint\.$"
        ):
            await a.send("nobody", "hello")
        with pytest.raises(UndeliverableError):
            await a.request("nobody", "hello", timeout=1)
    assert [(env.recipient, err) for env, err in log.seen] == [
        ("nobody", "no such endpoint"),
        ("nobody", "no such endpoint"),
    ]
    assert bus.statistics().undeliverable == 2


async def test_backpressure_blocks_sender_until_recipient_reads() -> None:
    async with (
        open_bus(run_id="r", buffer_size=2) as bus,
        bus.endpoint("a", episode_id="e") as a,
        bus.endpoint("b", episode_id="e") as b,
    ):
        await a.send("b", 1)
        await a.send("b", 2)
        sent: list[int] = []
        async with anyio.create_task_group() as tg:

            async def third() -> None:
                await a.send("b", 3)
                sent.append(3)

            tg.start_soon(third)
            await wait_all_tasks_blocked()
            assert sent == []  # blocked on the full mailbox
            assert (await b.receive()).payload == 1
        assert sent == [3]
        assert [(await b.receive()).payload for _ in range(2)] == [2, 3]


async def test_unread_messages_are_recorded_as_lost(log: Log) -> None:
    async with (
        open_bus(run_id="r", hook=log) as bus,
        bus.endpoint("a", episode_id="e") as a,
        bus.endpoint("b", episode_id="e"),
    ):
        await a.send("b", 1)
    assert [(env.payload, err) for env, err in log.seen] == [
        (1, None),
        (1, "the endpoint closed before reading it"),
    ]


async def test_sender_giving_up_on_a_full_mailbox_is_recorded(log: Log) -> None:
    async with (
        open_bus(run_id="r", buffer_size=1, hook=log) as bus,
        bus.endpoint("a", episode_id="e") as a,
        bus.endpoint("b", episode_id="e") as b,
    ):
        await a.send("b", 1)
        with anyio.move_on_after(0.05):
            await a.send("b", 2)
        assert (await b.receive()).payload == 1
    assert [(env.payload, err) for env, err in log.seen] == [
        (1, None),
        (2, None),
        (2, "the sender stopped waiting for room"),
    ]


async def test_request_to_an_endpoint_that_closes_unread_fails_at_once() -> None:
    async with open_bus(run_id="r") as bus, bus.endpoint("client", episode_id="e") as client:
        server = bus.endpoint("server", episode_id="e")
        async with anyio.create_task_group() as tg:
            tg.start_soon(server.aclose)  # runs once the request waits for its reply
            with pytest.raises(
                UndeliverableError,
                match=r"^Cannot deliver to 'server': the endpoint closed before reading it\.$",
            ):
                await client.request("server", "q", timeout=30)


async def test_request_received_but_never_answered_fails_when_the_server_closes() -> None:
    async with open_bus(run_id="r") as bus, bus.endpoint("client", episode_id="e") as client:
        server = bus.endpoint("server", episode_id="e")
        async with anyio.create_task_group() as tg:

            async def take_and_quit() -> None:
                await server.receive()
                await server.aclose()

            tg.start_soon(take_and_quit)
            with pytest.raises(
                UndeliverableError,
                match=r"^Cannot deliver to 'server': the recipient closed without replying\.$",
            ):
                await client.request("server", "q", timeout=30)
        assert bus.statistics().pending_requests == 0


async def test_recipient_closing_while_sender_waits_raises(log: Log) -> None:
    async with (
        open_bus(run_id="r", buffer_size=1, hook=log) as bus,
        bus.endpoint("a", episode_id="e") as a,
    ):
        b = bus.endpoint("b", episode_id="e")
        await a.send("b", 1)
        async with anyio.create_task_group() as tg:
            failures: list[str] = []

            async def blocked() -> None:
                try:
                    await a.send("b", 2)
                except UndeliverableError as e:
                    failures.append(e.reason)

            tg.start_soon(blocked)
            await wait_all_tasks_blocked()
            await b.aclose()
        assert failures == ["the endpoint closed"]
    errors = [(env.payload, err) for env, err in log.seen if err]
    assert sorted(errors, key=str) == sorted(
        [(1, "the endpoint closed before reading it"), (2, "the endpoint closed")], key=str
    )


async def test_send_to_closed_endpoint_is_undeliverable() -> None:
    async with open_bus(run_id="r") as bus, bus.endpoint("a", episode_id="e") as a:
        b = bus.endpoint("b", episode_id="e")
        await b.aclose()
        await b.aclose()  # idempotent
        with pytest.raises(UndeliverableError, match="no such endpoint"):
            await a.send("b", "late")
        with pytest.raises(anyio.EndOfStream):
            await b.receive()


async def test_publish_reaches_every_subscriber_in_order(log: Log) -> None:
    async with (
        open_bus(run_id="r", hook=log) as bus,
        bus.endpoint("pub", episode_id="e") as pub,
        bus.endpoint("s1", episode_id="e") as s1,
        bus.endpoint("s2", episode_id="e") as s2,
        bus.endpoint("other", episode_id="e") as other,
    ):
        s1.subscribe("news")
        s2.subscribe("news")
        other.subscribe("sport")
        assert await pub.publish("news", "a") == 2
        assert await pub.publish("news", "b") == 2
        for sub in (s1, s2):
            assert [(await sub.receive()).payload for _ in range(2)] == ["a", "b"]
        with anyio.move_on_after(0.05):
            await other.receive()
            pytest.fail("a subscriber of another topic got the message")
        await s2.aclose()
        assert await pub.publish("news", "c") == 1
    assert [(env.topic, env.recipient, env.payload, err) for env, err in log.seen] == [
        ("news", None, "a", None),
        ("news", None, "b", None),
        ("news", None, "c", None),
        # s1 closed without reading c:
        ("news", None, "c", "the endpoint closed before reading it"),
    ]


async def test_statistics_count_what_happened() -> None:
    async with (
        open_bus(run_id="r") as bus,
        bus.endpoint("a", episode_id="e") as a,
        bus.endpoint("b", episode_id="e"),
    ):
        await a.send("b", 1)
        with pytest.raises(UndeliverableError):
            await a.send("c", 1)
        stats = bus.statistics()
    assert (stats.sent, stats.undeliverable, stats.endpoints) == (1, 1, 2)
    assert bus.statistics().endpoints == 0


async def test_cancelled_request_leaves_nothing_pending() -> None:
    async with (
        open_bus(run_id="r") as bus,
        bus.endpoint("a", episode_id="e") as a,
        bus.endpoint("b", episode_id="e"),
    ):
        with anyio.move_on_after(0.01):
            await a.request("b", "q", timeout=10)
        await checkpoint()
        assert bus.statistics().pending_requests == 0


async def test_subscriber_closing_during_publish_does_not_stop_the_others(log: Log) -> None:
    async with (
        open_bus(run_id="r", buffer_size=1, hook=log) as bus,
        bus.endpoint("pub", episode_id="e") as pub,
        bus.endpoint("s1", episode_id="e") as s1,
        bus.endpoint("s3", episode_id="e") as s3,
    ):
        s2 = bus.endpoint("s2", episode_id="e")
        for sub in (s1, s2, s3):
            sub.subscribe("t")
        await pub.publish("t", "first")  # every mailbox is now full
        async with anyio.create_task_group() as tg:
            failures: list[UndeliverableError] = []

            async def publish() -> None:
                try:
                    await pub.publish("t", "second")
                except UndeliverableError as e:
                    failures.append(e)

            tg.start_soon(publish)
            await wait_all_tasks_blocked()  # waiting for room at s1
            await s2.aclose()
            assert (await s1.receive()).payload == "first"
            assert (await s3.receive()).payload == "first"
        assert [f.recipient for f in failures] == ["s2"]
        assert (await s1.receive()).payload == "second"
        assert (await s3.receive()).payload == "second"
