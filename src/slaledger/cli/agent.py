"""``slaledger agent``: run a contract's checks from one location and push the results."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import re
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import click

try:
    import uvloop
except ImportError:  # pragma: no cover - not on Windows
    uvloop = None  # type: ignore[assignment]

from slaledger.agent.pusher import Pusher, count
from slaledger.agent.queue import BatchQueue
from slaledger.agent.runner import Agent, AgentStats
from slaledger.app import build_clock
from slaledger.cli.user_errors import reports_user_errors
from slaledger.core.checks import format_check_duration
from slaledger.core.timebase import US_PER_SECOND, Clock, format_instant
from slaledger.errors import Problem, UsageError
from slaledger.files.contract_file import load_contract
from slaledger.probes.scheduler import ScheduledCheck, checks_for_location

TOKEN_ENV = "SLALEDGER_AGENT_TOKEN"
_LOCATION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
T = TypeVar("T")


@click.command("agent")
@click.argument("contract", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--location", required=True, help="Where this agent runs, like fra or us-east.")
@click.option("--server", required=True, help="Base URL of the slaledger server.")
@click.option("--token", help=f"The agent's token (default: ${TOKEN_ENV}).")
@click.option(
    "--queue",
    "queue_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Queue file (default: ./slaledger-agent-LOCATION.queue).",
)
@click.option("--status-interval", type=click.FloatRange(min=0.1), default=60.0, hidden=True)
@click.option("--max-backoff", type=click.FloatRange(min=0.1), default=30.0, hidden=True)
@reports_user_errors
def command(
    contract: Path,
    location: str,
    server: str,
    token: str | None,
    queue_path: Path | None,
    status_interval: float,
    max_backoff: float,
) -> None:
    """Run CONTRACT's checks from --location and push the results to --server.

    Results wait in the queue file until the server has them, across restarts and
    crashes. SIGINT or SIGTERM stops probing, queues every result and pushes what it can
    within a few seconds; a second signal stops at once.
    """
    if not _LOCATION.match(location):
        raise UsageError(
            Problem(
                f"expected a location name like fra or us-east, got {location!r}",
                field="--location",
            )
        )
    url = _server_url(server)
    token = _token(token)
    loaded = load_contract(contract)
    undeclared = loaded.undeclared(location)
    if undeclared is not None:
        raise UsageError(Problem(undeclared, field="--location"))
    checks = checks_for_location(loaded.services, location)
    if not checks:
        raise UsageError(Problem(f"no check runs at location {location}", str(contract)))
    path = queue_path or Path(f"slaledger-agent-{location}.queue")
    clock = build_clock()
    say, warn = _stamped(clock, err=False), _stamped(clock, err=True)
    with BatchQueue(path, location, clock) as queue:
        pusher = Pusher(queue, url, token, say=warn, clock=clock, backoff_cap=max_backoff)
        click.echo(describe_start(checks, location, pusher.url, queue))
        if _plain_text_over_network(url):
            warn(f"warning: the token goes to {url} unencrypted; use https")
        agent = Agent(checks, queue, pusher, clock=clock, say=say, status_interval=status_interval)
        stats = _run_loop(lambda: agent.run(handle_signals=True))
    click.echo(describe_stop(stats, path))


def describe_start(
    checks: Sequence[ScheduledCheck], location: str, url: str, queue: BatchQueue
) -> str:
    services = list(dict.fromkeys(entry.service for entry in checks))
    intervals = sorted({entry.check.interval for entry in checks})
    every = format_check_duration(intervals[0])
    if len(intervals) > 1:
        every += f" to {format_check_duration(intervals[-1])}"
    batches, results = queue.pending()
    return (
        f"slaledger agent at {location}: probing {count(len(checks), 'check')} of "
        f"{count(len(services), 'service')} ({', '.join(services)}) every {every}; "
        f"pushing to {url}; queue {queue.path} holds {count(results, 'result')} "
        f"in {count(batches, 'batch', 'batches')}"
    )


def describe_stop(stats: AgentStats, path: Path) -> str:
    if stats.queued_batches == 0:
        return f"stopped: every result pushed; queue {path} is empty"
    return (
        f"stopped: queue {path} keeps {count(stats.queued_results, 'result')} in "
        f"{count(stats.queued_batches, 'batch', 'batches')} for the next start"
    )


def _server_url(server: str) -> str:
    parts = urlsplit(server)
    try:
        port = parts.port
    except ValueError:
        port = 0
    if parts.scheme not in ("http", "https") or not parts.hostname or port == 0:
        raise UsageError(
            Problem(f"expected an http:// or https:// URL, got {server!r}", field="--server")
        )
    return server


def _token(given: str | None) -> str:
    token = given if given is not None else os.environ.get(TOKEN_ENV, "")
    if not token:
        raise UsageError(Problem(f"no agent token: give --token or set {TOKEN_ENV}"))
    if any(char.isspace() for char in token) or not token.isprintable():
        raise UsageError(Problem("expected a token without spaces", field="--token"))
    return token


def _plain_text_over_network(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname is None:
        return False
    if parts.hostname == "localhost":
        return False
    try:
        return not ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return True


def _stamped(clock: Clock, *, err: bool) -> Callable[[str], None]:
    """Prints each line after the second it is said in (on stderr with ``err``)."""

    def say(line: str) -> None:
        now = clock()
        click.echo(f"{format_instant(now - now % US_PER_SECOND)} {line}", err=err)

    return say


def _run_loop(main: Callable[[], Awaitable[T]]) -> T:
    """``main()`` on uvloop where it is installed, else on asyncio's loop."""

    async def wrapped() -> T:
        return await main()

    if uvloop is None:  # pragma: no cover - uvloop is a dependency off Windows
        return asyncio.run(wrapped())
    return uvloop.run(wrapped())
