"""Pushing queued batches to the server's ingest endpoint, oldest first.

``POST <server>/api/v1/ingest`` with ``Authorization: Bearer <token>`` and the body
``{"batch_id", "location", "results"}``. A 200 acknowledges the batch (also when the server
already had it: ``duplicate``) and it leaves the queue. A 422 says the batch is malformed (or
from an undeclared location, or too old), a 409 that its id was stored with other rows: it
moves to the queue's ``rejected`` table with one line of log, and pushing goes on. A 401 says
the token is wrong, a 403 that it is bound to another location: :meth:`Pusher.run` raises
:class:`TokenRejectedError`. Anything else — no
connection, a timeout, a 5xx, any other status — is retried with the same batch id after an
exponential backoff with jitter (``base`` doubling per failure up to ``cap``; a 503's
``Retry-After`` is honoured up to ``cap``).
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp

from slaledger.agent.queue import BatchQueue
from slaledger.core.timebase import US_PER_SECOND, Clock
from slaledger.errors import UserError
from slaledger.probes.result import describe

INGEST_PATH = "/api/v1/ingest"
Say = Callable[[str], None]


class TokenRejectedError(UserError):
    """The server does not know the agent's token (401)."""


@dataclass(frozen=True, slots=True)
class PusherStats:
    """What the pusher has done since it started, and how the server is doing now."""

    acknowledged: int
    """Batches the server acknowledged (duplicates included)."""
    results: int
    """Results in those batches (the server's ``received``)."""
    stored: int
    """Results the server stored (the server's ``stored``)."""
    duplicates: int
    """Acknowledged batches the server already had."""
    rejected: int
    """Batches the server refused as malformed (422)."""
    failures: int
    """Attempts that did not get an answer or got one other than 200, 401 or 422."""
    failing_since: int | None
    """When the current run of failed attempts began (µs since the epoch), or None."""
    last_error: str | None


def ingest_url(server: str) -> str:
    """The ingest endpoint of the server at base URL ``server``."""
    base = server.rstrip("/")
    return base if base.endswith(INGEST_PATH) else base + INGEST_PATH


def count(n: int, one: str, many: str | None = None) -> str:
    """``1 batch``, ``2 batches``."""
    return f"{n} {one if n == 1 else many or one + 's'}"


def backoff_delay(failures: int, base: float, cap: float, draw: float) -> float:
    """Seconds to wait after ``failures`` consecutive failures (≥ 1): "equal jitter" — half
    of ``min(cap, base·2^(failures−1))`` plus ``draw`` (in [0, 1)) times the other half."""
    ceiling = min(cap, base * 2.0 ** min(failures - 1, 62))
    return ceiling / 2 + draw * ceiling / 2


Outcome = Literal["acknowledged", "rejected", "failed"]


class Pusher:
    """Sends ``queue``'s batches to ``server`` until :meth:`finish`; see the module docstring.

    ``say`` gets one line per notable event (a rejected batch, the server failing, the
    server answering again). ``timeout`` bounds one request (seconds); ``poll`` is how long
    an empty queue is left alone when :meth:`notify` is not called; ``draw`` gives jitter.
    """

    def __init__(
        self,
        queue: BatchQueue,
        server: str,
        token: str,
        *,
        say: Say,
        clock: Clock,
        timeout: float = 30.0,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        poll: float = 5.0,
        batch_limit: int = 100,
        draw: Callable[[], float] = random.random,
    ) -> None:
        self.url = ingest_url(server)
        self._queue = queue
        self._headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        }
        self._location = json.dumps(queue.location).encode()
        self._say = say
        self._clock = clock
        self._timeout = aiohttp.ClientTimeout(total=timeout, connect=min(timeout, 10.0))
        self._base = backoff_base
        self._cap = backoff_cap
        self._poll = poll
        self._limit = batch_limit
        self._draw = draw
        self._appended = asyncio.Event()
        self._finishing = asyncio.Event()
        self._acknowledged = self._results = self._stored = self._duplicates = 0
        self._rejected = self._failures = self._streak = 0
        self._failing_since: int | None = None
        self._last_error: str | None = None
        self._retry_after: float | None = None

    # --- Control ---------------------------------------------------------------------------

    def notify(self) -> None:
        """A batch was appended: send it without waiting for the next poll."""
        self._appended.set()

    def finish(self) -> None:
        """Send what is queued, then return from :meth:`run`; stop at the first failure."""
        self._finishing.set()

    def stats(self) -> PusherStats:
        return PusherStats(
            acknowledged=self._acknowledged,
            results=self._results,
            stored=self._stored,
            duplicates=self._duplicates,
            rejected=self._rejected,
            failures=self._failures,
            failing_since=self._failing_since,
            last_error=self._last_error,
        )

    async def run(self) -> None:
        """Push until :meth:`finish` (then until the queue is empty or a send fails)."""
        connector = aiohttp.TCPConnector(limit=1)
        async with aiohttp.ClientSession(connector=connector, timeout=self._timeout) as session:
            while True:
                self._appended.clear()
                batches = await asyncio.to_thread(self._queue.oldest, self._limit)
                if not batches:
                    if self._finishing.is_set():
                        return
                    await self._pause(self._poll, wake_on_append=True)
                    continue
                for batch_id, payload in batches:
                    if await self._push(session, batch_id, payload) == "failed":
                        if self._finishing.is_set():
                            return
                        await self._pause(self._next_delay(), wake_on_append=False)
                        break

    # --- One batch -------------------------------------------------------------------------

    async def _push(self, session: aiohttp.ClientSession, batch_id: str, payload: bytes) -> Outcome:
        parts = (b'{"batch_id":"', batch_id.encode(), b'","location":', self._location)
        body = b"".join((*parts, b',"results":', payload, b"}"))
        self._retry_after = None
        try:
            async with session.post(
                self.url, data=body, headers=self._headers, allow_redirects=False
            ) as response:
                status = response.status
                answer = await response.read()
                retry_after = response.headers.get("Retry-After", "")
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            return self._failed(_connection_problem(error, self._timeout.total))
        if status == 200:
            receipt = _json_object(answer)
            if receipt.get("batch_id") != batch_id:
                # A proxy, a login page or the wrong --server: not a receipt for this batch.
                return self._failed(
                    f"HTTP 200 without a receipt for batch {batch_id}: "
                    f"{_server_error(answer) or 'empty answer'}"
                )
            self._acknowledged_batch(batch_id, receipt)
            await asyncio.to_thread(self._queue.acknowledge, batch_id)
            return "acknowledged"
        reason = _server_error(answer)
        if status in (401, 403):
            raise TokenRejectedError(
                f"the server at {self.url} refused the agent token ({status}"
                f"{': ' + reason if reason else ''}); check --token or SLALEDGER_AGENT_TOKEN"
            )
        if status in (409, 422):
            why = reason or "malformed batch"
            await asyncio.to_thread(self._queue.reject, batch_id, why)
            self._rejected += 1
            what = "as malformed" if status == 422 else "as a batch id already used"
            self._say(
                f"batch {batch_id} rejected by the server {what}: {why}; "
                f"moved to the rejected table of {self._queue.path}"
            )
            return "rejected"
        if status == 503 and retry_after.strip().isdigit():
            self._retry_after = float(retry_after.strip())
        return self._failed(f"HTTP {status}" + (f": {reason}" if reason else ""))

    def _acknowledged_batch(self, batch_id: str, answer: dict[str, Any]) -> None:
        if self._streak:
            since = self._failing_since or self._clock()
            seconds = (self._clock() - since) / US_PER_SECOND
            self._say(
                f"pushing to {self.url} again, after {count(self._streak, 'failed attempt')} "
                f"over {seconds:.0f}s"
            )
        self._streak = 0
        self._failing_since = None
        self._acknowledged += 1
        received, stored = answer.get("received"), answer.get("stored")
        self._results += received if isinstance(received, int) else 0
        self._stored += stored if isinstance(stored, int) else 0
        if answer.get("duplicate") is True:
            self._duplicates += 1

    def _failed(self, reason: str) -> Outcome:
        self._failures += 1
        self._streak += 1
        if self._failing_since is None:
            self._failing_since = self._clock()
        if reason != self._last_error or self._streak == 1:
            self._say(
                f"cannot push to {self.url}: {reason}; results stay queued, retrying with "
                f"backoff up to {self._cap:g}s"
            )
        self._last_error = reason
        return "failed"

    def _next_delay(self) -> float:
        delay = backoff_delay(self._streak, self._base, self._cap, self._draw())
        if self._retry_after is not None:
            delay = max(delay, min(self._retry_after, self._cap))
        return delay

    async def _pause(self, seconds: float, *, wake_on_append: bool) -> None:
        """Wait ``seconds``, or less when :meth:`finish` (or, if asked, :meth:`notify`)."""
        waits = [asyncio.ensure_future(self._finishing.wait())]
        if wake_on_append:
            waits.append(asyncio.ensure_future(self._appended.wait()))
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()


def _connection_problem(error: BaseException, timeout: float | None) -> str:
    if isinstance(error, TimeoutError | aiohttp.ServerTimeoutError):
        return f"no answer within {timeout:g}s" if timeout else "timed out"
    if isinstance(error, aiohttp.ClientConnectorError):
        return describe(error.os_error)
    if isinstance(error, aiohttp.ServerDisconnectedError):
        return "the server closed the connection without answering"
    return describe(error)


def _json_object(answer: bytes) -> dict[str, Any]:
    try:
        document = json.loads(answer)
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def _server_error(answer: bytes) -> str:
    """The ``error`` of a JSON error answer, else the start of the body, on one line."""
    message = _json_object(answer).get("error")
    text = message if isinstance(message, str) else answer[:200].decode("utf-8", "replace")
    return " ".join(text.split())[:200]
