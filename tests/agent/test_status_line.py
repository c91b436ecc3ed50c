"""The agent's status line: what happened between two snapshots of its figures."""

from __future__ import annotations

from dataclasses import replace

from slaledger.agent.pusher import PusherStats
from slaledger.agent.runner import AgentStats, status_line
from slaledger.probes.scheduler import SchedulerStats

PROBES = SchedulerStats(
    started=0,
    completed=0,
    failed=0,
    in_flight=0,
    overruns=0,
    skipped=0,
    lag_p50_ms=None,
    lag_p99_ms=None,
)
PUSHES = PusherStats(
    acknowledged=0,
    results=0,
    stored=0,
    duplicates=0,
    rejected=0,
    failures=0,
    failing_since=None,
    last_error=None,
)


def snapshot(**probes: int | float) -> AgentStats:
    return AgentStats(replace(PROBES, **probes), PUSHES, 0, 0)


def test_crashed_probes_are_shown_only_when_there_are_some() -> None:
    before = snapshot()
    quiet = snapshot(started=12, completed=12, failed=1, lag_p99_ms=2.4)
    crashed = snapshot(started=12, completed=9, failed=1, crashed=3, lag_p99_ms=2.4)
    tail = "pushed 0 batches (0 results, 0 duplicate, 0 rejected); queued 0 batches (0 results)"
    assert status_line(before, quiet) == f"probes 12 (1 failed, lag p99 2ms); {tail}; server ok"
    assert status_line(before, crashed) == (
        f"probes 9 (1 failed, 3 crashed, lag p99 2ms); {tail}; server ok"
    )
    assert status_line(crashed, crashed) == f"probes 0 (0 failed, lag p99 2ms); {tail}; server ok"
