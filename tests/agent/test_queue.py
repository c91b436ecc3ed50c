"""The agent's queue: one SQLite file, batches whole or absent, ids kept across restarts."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from slaledger.agent.queue import SCHEMA, BatchQueue, QueueError, wire_results
from slaledger.probes.result import ProbeResult

NOW = 1_800_000_000_000_000


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> int:
        self.now += 1_000
        return self.now


def result(instant: int, **fields: Any) -> ProbeResult:
    values: dict[str, Any] = {"status": 200, "error": None, "latency_ms": 12.5} | fields
    return ProbeResult(instant, "api", "fra", "api:http:0", **values)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "agent.queue"


@pytest.fixture
def queue(path: Path) -> Iterator[BatchQueue]:
    with BatchQueue(path, "fra", Clock()) as opened:
        yield opened


def test_wire_form_is_compact_json_of_the_ingest_results() -> None:
    results = [
        result(NOW, latency_ms=12.5),
        result(NOW + 1, status=None, error="timeout", latency_ms=10000.0),
        result(NOW + 2, status=503, retry_after=True, latency_ms=3.25, detail="x", phases={}),
    ]
    assert wire_results(results) == (
        b'[{"instant":1800000000000000,"service":"api","check_id":"api:http:0","status":200,'
        b'"error":null,"latency_ms":12.5,"retry_after":false},'
        b'{"instant":1800000000000001,"service":"api","check_id":"api:http:0","status":null,'
        b'"error":"timeout","latency_ms":10000.0,"retry_after":false},'
        b'{"instant":1800000000000002,"service":"api","check_id":"api:http:0","status":503,'
        b'"error":null,"latency_ms":3.25,"retry_after":true}]'
    )


def test_append_oldest_acknowledge_and_pending(queue: BatchQueue) -> None:
    assert queue.pending() == (0, 0)
    first = queue.append([result(NOW), result(NOW + 1)])
    second = queue.append([result(NOW + 2)])
    third = queue.append([result(NOW + 3), result(NOW + 4), result(NOW + 5)])
    assert len({first, second, third}) == 3
    assert all(len(b) == 32 and int(b, 16) >= 0 and b[12] == "4" for b in (first, second, third))
    assert queue.pending() == (3, 6)
    assert queue.oldest(2) == [
        (first, wire_results([result(NOW), result(NOW + 1)])),
        (second, wire_results([result(NOW + 2)])),
    ]
    assert queue.acknowledge(second) is True
    assert queue.acknowledge(second) is False
    assert queue.pending() == (2, 5)
    assert [batch_id for batch_id, _ in queue.oldest(10)] == [first, third]
    assert queue.acknowledge(first)
    assert queue.acknowledge(third)
    assert queue.pending() == (0, 0)
    assert queue.oldest(10) == []


def test_batches_keep_their_ids_and_order_across_restarts(path: Path) -> None:
    with BatchQueue(path, "fra", Clock()) as queue:
        ids = [queue.append([result(NOW + i)]) for i in range(5)]
        queue.acknowledge(ids[1])
    with BatchQueue(path, "fra", Clock()) as queue:
        assert queue.pending() == (4, 4)
        assert queue.oldest(10) == [
            (batch_id, wire_results([result(NOW + i)])) for i, batch_id in enumerate(ids) if i != 1
        ]
        later = queue.append([result(NOW + 9)])
        assert queue.oldest(10)[-1][0] == later


def test_the_file_is_wal_with_the_documented_schema(queue: BatchQueue, path: Path) -> None:
    created = queue.append([result(NOW)])
    reader = sqlite3.connect(path)
    try:
        assert reader.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert reader.execute("PRAGMA user_version").fetchone() == (2,)
        assert reader.execute("SELECT key, value FROM meta").fetchall() == [("location", "fra")]
        assert reader.execute(
            "SELECT seq, batch_id, created_at, results FROM batches"
        ).fetchall() == [(1, created, NOW + 1_000, 1)]
        columns = {
            table: [row[1] for row in reader.execute(f"PRAGMA table_info({table})")]
            for table in ("recorded", "batches", "rejected")
        }
    finally:
        reader.close()
    assert columns == {
        "recorded": ["seq", "created_at", "results", "payload"],
        "batches": ["seq", "batch_id", "created_at", "results", "payload"],
        "rejected": ["batch_id", "created_at", "rejected_at", "results", "payload", "reason"],
    }


def test_recorded_results_are_sealed_into_batches_oldest_first(queue: BatchQueue) -> None:
    assert queue.seal() is None
    queue.record([result(NOW), result(NOW + 1)])
    queue.record([result(NOW + 2)])
    queue.record([result(NOW + 3), result(NOW + 4), result(NOW + 5)])
    assert (queue.recorded(), queue.pending()) == (6, (0, 6))
    first = queue.seal(limit=4)  # the first two records fit; the third would not
    assert (queue.recorded(), queue.pending()) == (3, (1, 6))
    second = queue.seal(limit=2)  # a record is never split: at least one goes in
    assert queue.seal() is None
    assert (queue.recorded(), queue.pending()) == (0, (2, 6))
    assert queue.oldest(10) == [
        (first, wire_results([result(NOW + i) for i in range(3)])),
        (second, wire_results([result(NOW + i) for i in range(3, 6)])),
    ]
    with pytest.raises(ValueError, match="at least one result"):
        queue.record([])


def test_opening_seals_what_a_crashed_agent_recorded(path: Path) -> None:
    with BatchQueue(path, "fra", Clock()) as queue:
        direct = queue.append([result(NOW)])
        for i in range(1, 1_501):
            queue.record([result(NOW + i)])
    with BatchQueue(path, "fra", Clock()) as queue:
        assert (queue.recorded(), queue.pending()) == (0, (3, 1_501))
        batches = queue.oldest(10)
    assert batches[0][0] == direct
    assert [len(json.loads(payload)) for _, payload in batches] == [1, 1_000, 500]
    instants = [r["instant"] for _, payload in batches for r in json.loads(payload)]
    assert instants == [NOW + i for i in range(1_501)]


def test_a_version_1_queue_gets_the_recorded_table(path: Path) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    for statement in SCHEMA.split(";")[1:]:  # as version 1 made it: no recorded table
        if statement.strip():
            db.execute(statement)
    db.execute("INSERT INTO meta VALUES ('location', 'fra')")
    db.execute(
        "INSERT INTO batches (batch_id, created_at, results, payload) VALUES (?, ?, ?, ?)",
        ("a" * 32, NOW, 1, wire_results([result(NOW)])),
    )
    db.execute("PRAGMA user_version = 1")
    db.close()
    with BatchQueue(path, "fra", Clock()) as queue:
        assert queue.pending() == (1, 1)
        queue.record([result(NOW + 1)])
        sealed = queue.seal()
        assert [batch_id for batch_id, _ in queue.oldest(10)] == ["a" * 32, sealed]


def test_reject_moves_a_batch_aside_with_its_reason(queue: BatchQueue) -> None:
    bad = queue.append([result(NOW), result(NOW + 1)])
    good = queue.append([result(NOW + 2)])
    assert queue.reject(bad, "results[0].error: invalid value") is True
    assert queue.reject(bad, "again") is False
    assert queue.pending() == (1, 1)
    assert [batch_id for batch_id, _ in queue.oldest(10)] == [good]
    [rejected] = queue.rejected()
    assert rejected.batch_id == bad
    assert rejected.results == 2
    assert rejected.reason == "results[0].error: invalid value"
    assert rejected.created_at == NOW + 1_000
    assert rejected.rejected_at == NOW + 3_000


def test_append_refuses_an_empty_batch_and_another_location(queue: BatchQueue) -> None:
    with pytest.raises(ValueError, match="at least one result"):
        queue.append([])
    other = ProbeResult(NOW, "api", "ams", "api:http:0", 200, None, 1.0)
    with pytest.raises(ValueError, match="result of location 'ams' in the queue of 'fra'"):
        queue.append([result(NOW), other])
    assert queue.pending() == (0, 0)


def test_a_queue_belongs_to_one_location_and_one_agent(path: Path) -> None:
    with BatchQueue(path, "fra", Clock()):
        with pytest.raises(QueueError) as busy:
            BatchQueue(path, "fra", Clock())
        assert str(busy.value) == (f"queue {path} is in use by another agent (locked: {path}.lock)")
    with pytest.raises(QueueError) as other:
        BatchQueue(path, "ams", Clock())
    assert str(other.value) == (
        f"queue {path} holds results of location fra, not ams; give each location its own --queue"
    )
    with BatchQueue(path, "fra", Clock()) as queue:  # the lock was let go
        assert queue.pending() == (0, 0)


def test_a_file_that_is_not_a_queue_is_refused(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello, this is not SQLite at all, just some text to fill a page\n" * 20)
    with pytest.raises(QueueError) as raised:
        BatchQueue(text, "fra", Clock())
    assert str(raised.value) == f"{text} is not an agent queue: file is not a database"
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE t (x)")
    connection.close()
    with pytest.raises(QueueError) as raised:
        BatchQueue(other, "fra", Clock())
    assert str(raised.value) == f"{other} is not an agent queue: it holds other tables"
    with pytest.raises(QueueError) as raised:
        BatchQueue(tmp_path / "missing" / "q", "fra", Clock())
    assert (
        str(raised.value)
        == f"cannot open queue {tmp_path / 'missing' / 'q'}: No such file or directory"
    )


WRITER = """
import sys
from pathlib import Path
from slaledger.agent.queue import BatchQueue
from slaledger.probes.result import ProbeResult

size = int(sys.argv[2])
with BatchQueue(Path(sys.argv[1]), "fra", lambda: 0) as queue:
    n = queue.pending()[1]
    while True:
        batch_id = queue.append(
            [ProbeResult(n + i, "api", "fra", "api:http:0", 200, None, 1.0) for i in range(size)]
        )
        n += size
        print(batch_id, flush=True)
"""


def test_kill_9_leaves_every_appended_batch_whole(path: Path, tmp_path: Path) -> None:
    """A writer appends batches of 200 results as fast as it can and prints each id once
    stored; killed at once, again and again, the file holds every printed batch, whole."""
    printed: list[str] = []
    for round_ in range(3):
        out = tmp_path / f"writer-{round_}.out"
        with out.open("w") as sink:
            writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path), "200"], stdout=sink)
            deadline = time.monotonic() + 10
            while out.stat().st_size < 33 * (3 + 5 * round_) and time.monotonic() < deadline:
                time.sleep(0.005)
            os.kill(writer.pid, signal.SIGKILL)
            writer.wait()
        printed += out.read_text().split()
    with BatchQueue(path, "fra", Clock()) as queue:
        stored = queue.oldest(100_000)
        batches, results = queue.pending()
    ids = [batch_id for batch_id, _ in stored]
    assert [batch_id for batch_id in ids if batch_id in set(printed)] == printed
    assert len(ids) - len(printed) <= 3  # stored, then killed before it was printed
    assert (batches, results) == (len(ids), 200 * len(ids))
    instants = [r["instant"] for _, payload in stored for r in json.loads(payload)]
    assert instants == list(range(200 * len(ids)))


RECORDER = """
import sys
from pathlib import Path
from slaledger.agent.queue import BatchQueue
from slaledger.probes.result import ProbeResult

with BatchQueue(Path(sys.argv[1]), "fra", lambda: 0) as queue:
    n = queue.pending()[1]
    while True:
        made = [ProbeResult(n + i, "api", "fra", "api:http:0", 200, None, 1.0) for i in range(5)]
        queue.record(made)
        n += 5
        if n % 100 == 0:
            queue.seal(limit=40)
        print(n, flush=True)
"""


def test_kill_9_keeps_every_recorded_result_once(path: Path, tmp_path: Path) -> None:
    """A writer records 5 results at a time, sealing now and then, and prints how many it
    has recorded; killed again and again, the queue holds every printed result exactly once,
    in order, whether it was still recorded or already in a batch."""
    printed = 0
    for round_ in range(3):
        out = tmp_path / f"recorder-{round_}.out"
        with out.open("w") as sink:
            writer = subprocess.Popen([sys.executable, "-c", RECORDER, str(path)], stdout=sink)
            deadline = time.monotonic() + 10
            while out.stat().st_size < 200 * (1 + round_) and time.monotonic() < deadline:
                time.sleep(0.005)
            os.kill(writer.pid, signal.SIGKILL)
            writer.wait()
        printed = max([printed, *map(int, out.read_text().split())])
    with BatchQueue(path, "fra", Clock()) as queue:
        stored = queue.oldest(100_000)
        batches, results = queue.pending()
    instants = [r["instant"] for _, payload in stored for r in json.loads(payload)]
    assert printed <= len(instants) <= printed + 5
    assert instants == list(range(len(instants)))
    assert (batches, results) == (len(stored), len(instants))
