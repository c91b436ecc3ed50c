"""A real API server on 127.0.0.1 (uvicorn in a thread) over a real store, with a clock the
test moves, and a small HTTP client."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn
from fastapi import FastAPI

from slaledger.core.contract import Contract
from slaledger.core.events import Events
from slaledger.core.timebase import US_PER_SECOND
from slaledger.store.database import connect, migrate
from slaledger.store.observation_store import ObservationStore
from slaledger.store.tokens import TokenStore
from slaledger.web.app import create_app
from slaledger.web.server import listen, url_of

CONTRACT = Contract.model_validate(
    {
        "contract": "web-test",
        "name": "Web test",
        "services": {
            "api": {"name": "API", "target": "99.5", "downtime": {"rule": "probe-ratio"}},
            "web": {
                "name": "Website",
                "target": "99.9",
                "downtime": {"rule": "continuous-failure", "min_duration": "2m"},
            },
            "edge": {
                "name": "Edge",
                "target": "99.99",
                "per_location": True,
                "downtime": {"rule": "first-fail-to-first-success"},
            },
        },
    }
)


class Clock:
    """A clock the test sets: microseconds since the epoch."""

    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * US_PER_SECOND)


@dataclass
class Api:
    url: str
    app: FastAPI
    store: ObservationStore
    tokens: TokenStore
    clock: Clock
    agent_token: str
    """The agent token of location ``fra``."""

    def token_for(self, location: str) -> str:
        """An agent token bound to ``location`` (created on first use)."""
        if location == "fra":
            return self.agent_token
        made: dict[str, str] = self.__dict__.setdefault("_made", {})
        if location not in made:
            made[location] = self.tokens.create(
                "agent", f"agent-{location}", self.clock(), location=location
            )
        return made[location]


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    headers: dict[str, str]


def request(
    url: str, *, body: bytes | None = None, token: str | None = None, method: str = "GET"
) -> Reply:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    call = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(call, timeout=10) as response:
            return Reply(response.status, json.loads(response.read()), dict(response.headers))
    except urllib.error.HTTPError as error:
        return Reply(error.code, json.loads(error.read()), dict(error.headers))


def post(url: str, payload: Any, token: str | None) -> Reply:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return request(url, body=raw, token=token, method="POST")


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread on a free 127.0.0.1 port; yields its URL."""
    sock = listen("127.0.0.1", 0)
    config = uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.01)
        yield url_of(sock)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


START = 1_791_549_630_000_000
"""2026-10-09T12:40:30Z: the clock the API tests start from."""


@contextmanager
def started_api(store_url: str, contract: Contract = CONTRACT, **options: Any) -> Iterator[Api]:
    """The API for ``contract`` over the store at ``store_url``, with an agent token for
    location ``fra``."""
    engine = connect(store_url)
    migrate(engine)
    store = ObservationStore(engine)
    tokens = TokenStore(engine)
    clock = Clock(START)
    app = create_app(contract, Events(), store, tokens, clock, **options)
    agent = tokens.create("agent", "agent-fra", START, location="fra")
    try:
        with serving(app) as url:
            yield Api(url, app, store, tokens, clock, agent)
    finally:
        engine.dispose()
