"""The pusher against a stand-in for the server's ingest endpoint on 127.0.0.1.

:class:`StandIn` implements the wire format exactly (tokens, validation with 422s naming the
field, duplicate batches) and has switches to fail, hang or go away; the agent process tests
use it too.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal, cast

import pytest
from aiohttp import web

from slaledger.agent.pusher import Pusher, TokenRejectedError, backoff_delay, ingest_url
from slaledger.agent.queue import BatchQueue
from slaledger.probes.result import ProbeResult

LOCAL = "127.0.0.1"
TOKEN = "agent-token-fra"
ERRORS = (None, "timeout", "connect", "dns", "tls", "assertion", "other")
RESULT_FIELDS = ("instant", "service", "check_id", "status", "error", "latency_ms", "retry_after")
Mode = Literal["ok", "fail", "hang", "store-then-fail", "forbidden", "conflict"]


class StandIn:
    """``POST /api/v1/ingest`` as the slaledger server answers it.

    ``mode``: ``ok``; ``fail`` answers 503 without storing; ``hang`` never answers;
    ``store-then-fail`` stores the batch, then answers 500 (the agent must send it again and
    learn it is a duplicate). :meth:`down` stops listening (connections are refused) and
    :meth:`up` listens again on the same port.
    """

    def __init__(self, tokens: tuple[str, ...] = (TOKEN,)) -> None:
        self.tokens = tokens
        self.mode: Mode = "ok"
        self.batches: dict[str, dict[str, Any]] = {}
        """Stored batches by id: ``{"location": ..., "results": [...]}``, in arrival order."""
        self.requests: list[tuple[str, str | None]] = []
        """Every request as ``(batch_id or "", answer status or None)``."""
        self.duplicates = 0
        self.port = 0
        self._runner: web.AppRunner | None = None
        app = web.Application()
        app.router.add_post("/api/v1/ingest", self._ingest)
        self._app = app

    @property
    def url(self) -> str:
        return f"http://{LOCAL}:{self.port}"

    @property
    def stored(self) -> list[tuple[str, str, str, int]]:
        """Every stored result as ``(location, service, check_id, instant)``."""
        return [
            (batch["location"], r["service"], r["check_id"], r["instant"])
            for batch in self.batches.values()
            for r in batch["results"]
        ]

    async def up(self) -> None:
        runner = web.AppRunner(self._app, handle_signals=False, shutdown_timeout=0.1)
        await runner.setup()
        site = web.TCPSite(runner, LOCAL, self.port, reuse_address=True)
        await site.start()
        server = cast(asyncio.base_events.Server, site._server)
        self.port = int(server.sockets[0].getsockname()[1])
        self._runner = runner

    async def down(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _ingest(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            document = json.loads(body)
            batch_id = document.get("batch_id", "") if isinstance(document, dict) else ""
        except ValueError:
            document, batch_id = None, ""
        batch_id = batch_id if isinstance(batch_id, str) else ""
        answer = await self._answer(request, document, batch_id)
        self.requests.append((batch_id, None if answer is None else str(answer.status)))
        if answer is None:
            await asyncio.sleep(3600)
            raise AssertionError("unreachable")
        return answer

    async def _answer(
        self, request: web.Request, document: Any, batch_id: str
    ) -> web.Response | None:
        if self.mode == "hang":
            return None
        if self.mode == "fail":
            return web.json_response({"error": "unavailable"}, status=503)
        if self.mode == "forbidden":
            error = "location: token 'agent-fra' reports for location fra, not ams"
            return web.json_response({"error": error}, status=403)
        if self.mode == "conflict":
            return web.json_response({"error": "batch_id: already stored"}, status=409)
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth.removeprefix("Bearer ") not in self.tokens:
            error = "missing agent token" if not auth else "unknown agent token"
            return web.json_response({"error": error}, status=401)
        problem = validate(document)
        if problem is not None:
            return web.json_response({"error": problem}, status=422)
        results = document["results"]
        if batch_id in self.batches:
            self.duplicates += 1
            answer = {"batch_id": batch_id, "received": len(results), "stored": 0}
            return web.json_response({**answer, "duplicate": True})
        self.batches[batch_id] = {"location": document["location"], "results": results}
        if self.mode == "store-then-fail":
            return web.json_response({"error": "lost the answer"}, status=500)
        answer = {"batch_id": batch_id, "received": len(results), "stored": len(results)}
        return web.json_response({**answer, "duplicate": False})


def validate(document: Any) -> str | None:
    """Why an ingest body is malformed (naming the field), or None."""
    if not isinstance(document, dict) or set(document) != {"batch_id", "location", "results"}:
        return "body: expected an object with batch_id, location and results"
    if not isinstance(document["batch_id"], str) or not re.fullmatch(
        "[0-9a-f]{32}", document["batch_id"]
    ):
        return "batch_id: expected a uuid4 in hex"
    if not isinstance(document["location"], str) or not document["location"]:
        return "location: expected a location name"
    if not isinstance(document["results"], list) or not document["results"]:
        return "results: expected a non-empty list"
    for index, r in enumerate(document["results"]):
        where = f"results[{index}]"
        if not isinstance(r, dict) or set(r) != set(RESULT_FIELDS):
            return f"{where}: expected the fields {', '.join(RESULT_FIELDS)}"
        checks: dict[str, Callable[[Any], bool]] = {
            "instant": lambda v: type(v) is int,
            "service": lambda v: isinstance(v, str) and bool(v),
            "check_id": lambda v: isinstance(v, str) and bool(v),
            "status": lambda v: v is None or (type(v) is int and 100 <= v <= 599),
            "error": lambda v: v in ERRORS,
            "latency_ms": lambda v: type(v) in (int, float) and v >= 0,
            "retry_after": lambda v: type(v) is bool,
        }
        for name, valid in checks.items():
            if not valid(r[name]):
                return f"{where}.{name}: invalid value {json.dumps(r[name])}"
    return None


@asynccontextmanager
async def stand_in(tokens: tuple[str, ...] = (TOKEN,)) -> AsyncIterator[StandIn]:
    server = StandIn(tokens)
    await server.up()
    try:
        yield server
    finally:
        await server.down()


def run(coroutine: Awaitable[Any], limit: float = 10.0) -> Any:
    async def bounded() -> Any:
        async with asyncio.timeout(limit):
            return await coroutine

    return asyncio.run(bounded())


# --- Helpers -------------------------------------------------------------------------------

_ticks = itertools.count(1_800_000_000_000_000, 1_000)


def clock() -> int:
    return next(_ticks)


def result(instant: int, check: str = "api:http:0", **fields: Any) -> ProbeResult:
    values: dict[str, Any] = {"status": 200, "error": None, "latency_ms": 12.5} | fields
    return ProbeResult(instant, check.partition(":")[0], "fra", check, **values)


def fill(queue: BatchQueue, batches: int, size: int = 3) -> list[str]:
    base = 1_800_000_000_000_000
    return [
        queue.append([result(base + (b * size + i) * 1_000_000) for i in range(size)])
        for b in range(batches)
    ]


class Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str) -> None:
        self.lines.append(line)


def pusher(queue: BatchQueue, server: str, log: Lines, **options: Any) -> Pusher:
    settings: dict[str, Any] = {
        "timeout": 2.0,
        "backoff_base": 0.02,
        "backoff_cap": 0.1,
        "poll": 0.05,
        "draw": lambda: 0.5,
    } | options
    token = settings.pop("token", TOKEN)
    return Pusher(queue, server, token, say=log, clock=clock, **settings)


async def until(condition: Callable[[], bool], limit: float = 5.0) -> None:
    async with asyncio.timeout(limit):
        while not condition():
            await asyncio.sleep(0.01)


async def stop(push: Pusher, task: asyncio.Task[None]) -> None:
    push.finish()
    await task


@pytest.fixture
def queue(tmp_path: Path) -> Iterator[BatchQueue]:
    with BatchQueue(tmp_path / "fra.queue", "fra", clock) as opened:
        yield opened


# --- Tests ---------------------------------------------------------------------------------


def test_ingest_url_and_backoff() -> None:
    assert ingest_url("http://127.0.0.1:8080") == "http://127.0.0.1:8080/api/v1/ingest"
    assert ingest_url("https://sla.example.com/x/") == "https://sla.example.com/x/api/v1/ingest"
    assert ingest_url("http://h/api/v1/ingest") == "http://h/api/v1/ingest"
    assert [backoff_delay(n, 0.5, 30.0, 0.0) for n in range(1, 9)] == [
        0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 15.0,
    ]  # fmt: skip
    assert [backoff_delay(n, 0.5, 30.0, 1.0) for n in (1, 2, 7, 1000)] == [0.5, 1.0, 30.0, 30.0]


def test_sends_every_batch_oldest_first_in_the_wire_format(queue: BatchQueue) -> None:
    ids = fill(queue, 4)
    log = Lines()

    async def scenario() -> None:
        async with stand_in() as server:
            push = pusher(queue, server.url, log)
            task = asyncio.create_task(push.run())
            await until(lambda: queue.pending() == (0, 0))
            await stop(push, task)
            assert [batch_id for batch_id, _ in server.requests] == ids
            assert list(server.batches) == ids
            first = server.batches[ids[0]]
            assert first == {
                "location": "fra",
                "results": [
                    {
                        "instant": 1_800_000_000_000_000 + i * 1_000_000,
                        "service": "api",
                        "check_id": "api:http:0",
                        "status": 200,
                        "error": None,
                        "latency_ms": 12.5,
                        "retry_after": False,
                    }
                    for i in range(3)
                ],
            }
            stats = push.stats()
            assert (stats.acknowledged, stats.results, stats.stored, stats.duplicates) == (
                4,
                12,
                12,
                0,
            )
            assert (stats.failures, stats.failing_since, stats.last_error) == (0, None, None)

    run(scenario())
    assert log.lines == []
    assert queue.oldest(10) == []


def test_new_batches_are_sent_when_notified(queue: BatchQueue) -> None:
    async def scenario() -> None:
        async with stand_in() as server:
            push = pusher(queue, server.url, Lines(), poll=60.0)
            task = asyncio.create_task(push.run())
            await asyncio.sleep(0.05)
            batch_id = fill(queue, 1)[0]
            push.notify()
            await until(lambda: batch_id in server.batches, limit=1.0)
            await stop(push, task)

    run(scenario())


def test_server_down_keeps_batches_until_it_comes_back(queue: BatchQueue) -> None:
    ids = fill(queue, 3)
    log = Lines()

    async def scenario() -> None:
        server = StandIn()
        await server.up()
        await server.down()  # the port is known and refuses connections
        push = pusher(queue, server.url, log)
        task = asyncio.create_task(push.run())
        await until(lambda: push.stats().failures >= 3)
        assert queue.pending() == (3, 9)
        stats = push.stats()
        assert stats.failing_since is not None
        assert stats.last_error == "Connection refused"
        await server.up()
        try:
            await until(lambda: queue.pending() == (0, 0))
            await stop(push, task)
        finally:
            await server.down()
        assert list(server.batches) == ids
        assert push.stats().failing_since is None

    run(scenario())
    assert len(log.lines) == 2
    assert re.fullmatch(
        r"cannot push to http://127\.0\.0\.1:\d+/api/v1/ingest: Connection refused; results "
        r"stay queued, retrying with backoff up to 0\.1s",
        log.lines[0],
    )
    assert re.fullmatch(
        r"pushing to http://127\.0\.0\.1:\d+/api/v1/ingest again, after \d+ failed attempts? "
        r"over 0s",
        log.lines[1],
    )


def test_an_answer_lost_after_storing_is_sent_again_and_counted_once(queue: BatchQueue) -> None:
    ids = fill(queue, 2)
    log = Lines()

    async def scenario() -> None:
        async with stand_in() as server:
            server.mode = "store-then-fail"
            push = pusher(queue, server.url, log)
            task = asyncio.create_task(push.run())
            await until(lambda: queue.pending() == (0, 0))
            await stop(push, task)
            assert server.requests == [
                (ids[0], "500"),
                (ids[0], "200"),
                (ids[1], "500"),
                (ids[1], "200"),
            ]
            assert server.duplicates == 2
            assert len(server.stored) == len(set(server.stored)) == 6
            stats = push.stats()
            assert (stats.acknowledged, stats.results, stats.stored, stats.duplicates) == (
                2,
                6,
                0,
                2,
            )
            assert stats.failures == 2

    run(scenario())
    assert [line.split(": ", 1)[1] for line in log.lines[::2]] == [
        "HTTP 500: lost the answer; results stay queued, retrying with backoff up to 0.1s"
    ] * 2


def test_a_server_that_hangs_times_out_and_503_is_retried(queue: BatchQueue) -> None:
    ids = fill(queue, 1)
    log = Lines()

    async def scenario() -> None:
        async with stand_in() as server:
            server.mode = "hang"
            push = pusher(queue, server.url, log, timeout=0.2)
            task = asyncio.create_task(push.run())
            await until(lambda: push.stats().failures == 2)
            server.mode = "fail"
            await until(lambda: push.stats().failures == 3)
            assert push.stats().last_error == "HTTP 503: unavailable"
            server.mode = "ok"
            await until(lambda: queue.pending() == (0, 0))
            await stop(push, task)
            assert list(server.batches) == ids
            assert [status for _, status in server.requests] == [None, None, "503", "200"]

    run(scenario())
    assert [line.split("ingest: ", 1)[1] for line in log.lines[:2]] == [
        "no answer within 0.2s; results stay queued, retrying with backoff up to 0.1s",
        "HTTP 503: unavailable; results stay queued, retrying with backoff up to 0.1s",
    ]


def test_a_wrong_token_stops_the_pusher_and_keeps_the_queue(queue: BatchQueue) -> None:
    fill(queue, 2)

    async def scenario() -> None:
        async with stand_in() as server:
            push = pusher(queue, server.url, Lines(), token="wrong")
            with pytest.raises(TokenRejectedError) as raised:
                await push.run()
            assert str(raised.value) == (
                f"the server at {server.url}/api/v1/ingest refused the agent token (401: "
                "unknown agent token); check --token or SLALEDGER_AGENT_TOKEN"
            )
            assert len(server.requests) == 1

    run(scenario())
    assert queue.pending() == (2, 6)


def test_a_malformed_batch_is_set_aside_and_the_rest_goes_on(queue: BatchQueue) -> None:
    good = fill(queue, 1)
    bad = queue.append([result(1, error=cast(Any, "bogus"))])
    later = fill(queue, 1)
    log = Lines()

    async def scenario() -> None:
        async with stand_in() as server:
            push = pusher(queue, server.url, log)
            task = asyncio.create_task(push.run())
            await until(lambda: queue.pending() == (0, 0))
            await stop(push, task)
            assert list(server.batches) == [*good, *later]
            assert push.stats().rejected == 1

    run(scenario())
    assert log.lines == [
        f'batch {bad} rejected by the server as malformed: results[0].error: invalid value "bogus"'
        f"; moved to the rejected table of {queue.path}"
    ]
    [rejected] = queue.rejected()
    assert (rejected.batch_id, rejected.results, rejected.reason) == (
        bad,
        1,
        'results[0].error: invalid value "bogus"',
    )


def test_finish_drains_or_gives_up_at_the_first_failure(queue: BatchQueue) -> None:
    fill(queue, 2)

    async def scenario() -> None:
        server = StandIn()
        await server.up()
        await server.down()
        push = pusher(queue, server.url, Lines(), backoff_base=60.0, backoff_cap=60.0)
        task = asyncio.create_task(push.run())
        await until(lambda: push.stats().failures == 1)
        push.finish()  # interrupts the 30-60 s backoff
        await asyncio.wait_for(task, 1.0)
        assert queue.pending() == (2, 6)
        await server.up()
        try:
            push = pusher(queue, server.url, Lines())
            push.finish()
            await asyncio.wait_for(push.run(), 2.0)
        finally:
            await server.down()
        assert queue.pending() == (0, 0)
        assert len(server.batches) == 2

    run(scenario())


def test_a_200_without_a_receipt_is_not_an_acknowledgement(queue: BatchQueue) -> None:
    """A proxy or login page answering 200 must not empty the queue."""
    fill(queue, 1)

    async def scenario() -> list[str]:
        async def login_page(_request: web.Request) -> web.Response:
            return web.Response(text="<html>Login required</html>", content_type="text/html")

        app = web.Application()
        app.router.add_post("/api/v1/ingest", login_page)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        log = Lines()
        push = pusher(queue, url, log)
        task = asyncio.create_task(push.run())
        await until(lambda: push.stats().failures >= 2)
        push.finish()
        await task
        await runner.cleanup()
        return log.lines

    lines = run(scenario())
    assert queue.pending() == (1, 3)
    assert any("HTTP 200 without a receipt for batch" in line for line in lines)


def test_a_token_bound_to_another_location_stops_the_pusher(queue: BatchQueue) -> None:
    fill(queue, 2)

    async def scenario() -> None:
        async with stand_in() as server:
            server.mode = "forbidden"
            push = pusher(queue, server.url, Lines())
            with pytest.raises(TokenRejectedError) as raised:
                await push.run()
            assert str(raised.value) == (
                f"the server at {server.url}/api/v1/ingest refused the agent token (403: "
                "location: token 'agent-fra' reports for location fra, not ams); check --token "
                "or SLALEDGER_AGENT_TOKEN"
            )

    run(scenario())
    assert queue.pending() == (2, 6)


def test_a_batch_id_the_server_holds_with_other_rows_is_set_aside(queue: BatchQueue) -> None:
    [batch] = fill(queue, 1)
    log = Lines()

    async def scenario() -> None:
        async with stand_in() as server:
            server.mode = "conflict"
            push = pusher(queue, server.url, log)
            task = asyncio.create_task(push.run())
            await until(lambda: queue.pending() == (0, 0))
            await stop(push, task)

    run(scenario())
    assert log.lines == [
        f"batch {batch} rejected by the server as a batch id already used: batch_id: already "
        f"stored; moved to the rejected table of {queue.path}"
    ]
