"""The agent's durable queue: probe results waiting for the server, in one SQLite file.

Results reach the file as they are made: :meth:`BatchQueue.record` commits a handful of
results (the scheduler hands them over every few milliseconds) to the ``recorded`` table.
:meth:`BatchQueue.seal` then moves recorded results, oldest first, into one batch of at most
``limit`` results: their wire form (the ``results`` list of the ingest request, compact JSON)
under a fresh uuid4 batch id, in one transaction, so after a crash a result is recorded or in
exactly one batch, and a batch is either wholly in the file or not at all. Opening a queue
seals what a crashed agent left recorded. :meth:`BatchQueue.append` stores a batch directly.
The batch keeps its id until the server acknowledges it (:meth:`BatchQueue.acknowledge`
deletes it), so a batch sent before a crash is sent again with the same id and the server
stores it once. A batch the server rejects as malformed moves to the ``rejected`` table.

The file is in WAL mode with ``synchronous=FULL``: a commit is fsynced, so a result has
reached the disk when :meth:`record` returns. One process owns a queue at a time (an
exclusive lock on ``<file>.lock``, released by the system when the process dies); other
processes may read it. The methods are thread-safe, so async code can run them with
:func:`asyncio.to_thread`."""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from slaledger.core.timebase import Clock
from slaledger.errors import UserError
from slaledger.probes.result import ProbeResult

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no owner lock
    fcntl = None  # type: ignore[assignment]

SCHEMA_VERSION = 2
RECORDED = """
CREATE TABLE recorded (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at INTEGER NOT NULL,
    results INTEGER NOT NULL,
    payload BLOB NOT NULL
);
"""
SCHEMA = (
    RECORDED
    + """
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE batches (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    batch_id TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    results INTEGER NOT NULL,
    payload BLOB NOT NULL
);
CREATE TABLE rejected (
    batch_id TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    rejected_at INTEGER NOT NULL,
    results INTEGER NOT NULL,
    payload BLOB NOT NULL,
    reason TEXT NOT NULL
);
"""
)
"""``seq`` orders batches as appended and recorded results as recorded; ``created_at`` and
``rejected_at`` are µs since the epoch (UTC); ``results`` counts the results in ``payload``.
Version 1 had no ``recorded`` table: opening such a file adds it."""

BATCH_RESULTS = 1000
"""Most results :meth:`BatchQueue.seal` puts in one batch, unless told otherwise."""


class QueueError(UserError):
    """The queue file cannot be used: another agent holds it, it belongs to another location,
    or it is not a queue."""


@dataclass(frozen=True, slots=True)
class Rejected:
    batch_id: str
    created_at: int
    rejected_at: int
    results: int
    reason: str


def wire_results(results: Sequence[ProbeResult]) -> bytes:
    """The ``results`` list of an ingest request, as compact JSON."""
    return json.dumps(
        [
            {
                "instant": r.instant,
                "service": r.service,
                "check_id": r.check_id,
                "status": r.status,
                "error": r.error,
                "latency_ms": r.latency_ms,
                "retry_after": r.retry_after,
            }
            for r in results
        ],
        separators=(",", ":"),
        allow_nan=False,
    ).encode()


class BatchQueue:
    """The queue in ``path`` (created when missing) for the agent at ``location``.

    ``clock`` gives now in µs since the epoch (for ``created_at``); use as a context manager
    or call :meth:`close`.
    """

    def __init__(self, path: Path, location: str, clock: Clock) -> None:
        self.path = path
        self.location = location
        self._clock = clock
        self._lock = threading.Lock()
        self._owner = _take_ownership(path)
        try:
            self._db = _open(path, location)
            row = self._db.execute("SELECT count(*), coalesce(sum(results), 0) FROM batches")
            self._batches, self._results = row.fetchone()
            row = self._db.execute("SELECT coalesce(sum(results), 0) FROM recorded")
            self._recorded = int(row.fetchone()[0])
            while self.seal() is not None:  # what a crashed agent recorded
                pass
        except BaseException:
            self._owner.close()
            raise

    def __enter__(self) -> BatchQueue:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the file (waiting for a call running in another thread) and let it go."""
        with self._lock:
            if not self._owner.closed:
                self._db.close()
                self._owner.close()

    def append(self, results: Sequence[ProbeResult]) -> str:
        """Store ``results`` as one batch under a new id, durably; the id."""
        payload = self._wire(results)
        batch_id = uuid.uuid4().hex
        with self._lock:
            with _transaction(self._db):
                self._db.execute(
                    "INSERT INTO batches (batch_id, created_at, results, payload) "
                    "VALUES (?, ?, ?, ?)",
                    (batch_id, self._clock(), len(results), payload),
                )
            self._batches += 1
            self._results += len(results)
        return batch_id

    def record(self, results: Sequence[ProbeResult]) -> None:
        """Store ``results`` durably, to go into a batch at the next :meth:`seal`."""
        payload = self._wire(results)
        with self._lock:
            with _transaction(self._db):
                self._db.execute(
                    "INSERT INTO recorded (created_at, results, payload) VALUES (?, ?, ?)",
                    (self._clock(), len(results), payload),
                )
            self._recorded += len(results)

    def seal(self, limit: int = BATCH_RESULTS) -> str | None:
        """Move the oldest recorded results, as many as fit in ``limit`` (at least one
        :meth:`record` call's), into one new batch; its id, or None when none are recorded."""
        with self._lock:
            if not self._recorded:
                return None
            batch_id = uuid.uuid4().hex
            with _transaction(self._db):
                rows = self._db.execute(
                    "SELECT seq, results, payload FROM recorded ORDER BY seq LIMIT ?",
                    (max(limit, 1),),
                ).fetchall()
                taken, total = 0, 0
                for _, results, _ in rows:
                    if taken and total + results > limit:
                        break
                    taken, total = taken + 1, total + results
                payload = b"[" + b",".join(bytes(row[2])[1:-1] for row in rows[:taken]) + b"]"
                self._db.execute(
                    "INSERT INTO batches (batch_id, created_at, results, payload) "
                    "VALUES (?, ?, ?, ?)",
                    (batch_id, self._clock(), total, payload),
                )
                self._db.execute("DELETE FROM recorded WHERE seq <= ?", (rows[taken - 1][0],))
            self._recorded -= total
            self._batches += 1
            self._results += total
        return batch_id

    def recorded(self) -> int:
        """Results recorded and not yet sealed into a batch."""
        return self._recorded

    def _wire(self, results: Sequence[ProbeResult]) -> bytes:
        if not results:
            raise ValueError("a batch holds at least one result")
        for result in results:
            if result.location != self.location:
                raise ValueError(
                    f"result of location {result.location!r} in the queue of {self.location!r}"
                )
        return wire_results(results)

    def oldest(self, limit: int) -> list[tuple[str, bytes]]:
        """Up to ``limit`` batches as ``(batch_id, payload)``, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT batch_id, payload FROM batches ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()
        return [(batch_id, bytes(payload)) for batch_id, payload in rows]

    def acknowledge(self, batch_id: str) -> bool:
        """Forget a batch the server has; False when it was not in the queue."""
        with self._lock:
            with _transaction(self._db):
                row = self._db.execute(
                    "DELETE FROM batches WHERE batch_id = ? RETURNING results", (batch_id,)
                ).fetchone()
            if row is None:
                return False
            self._batches -= 1
            self._results -= row[0]
        return True

    def reject(self, batch_id: str, reason: str) -> bool:
        """Move a batch the server refused as malformed to ``rejected``, with the reason;
        False when it was not in the queue."""
        with self._lock:
            with _transaction(self._db):
                row = self._db.execute(
                    "DELETE FROM batches WHERE batch_id = ? "
                    "RETURNING batch_id, created_at, results, payload",
                    (batch_id,),
                ).fetchone()
                if row is not None:
                    self._db.execute(
                        "INSERT OR REPLACE INTO rejected "
                        "(batch_id, created_at, rejected_at, results, payload, reason) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        (row[0], row[1], self._clock(), row[2], row[3], reason),
                    )
            if row is None:
                return False
            self._batches -= 1
            self._results -= row[2]
        return True

    def pending(self) -> tuple[int, int]:
        """``(batches, results)`` waiting to be sent; the results include those recorded and
        not yet sealed into a batch."""
        return self._batches, self._results + self._recorded

    def rejected(self) -> list[Rejected]:
        """Every rejected batch, oldest rejection first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT batch_id, created_at, rejected_at, results, reason FROM rejected "
                "ORDER BY rejected_at, batch_id"
            ).fetchall()
        return [Rejected(*row) for row in rows]


def _take_ownership(path: Path) -> IO[bytes]:
    """An open, exclusively locked ``<path>.lock``; QueueError when another agent has it."""
    lock_path = path.with_name(path.name + ".lock")
    try:
        owner = open(lock_path, "ab")  # noqa: SIM115 - held open for the queue's life
    except OSError as error:
        raise QueueError(f"cannot open queue {path}: {error.strerror or error}") from None
    if fcntl is not None:
        try:
            fcntl.flock(owner.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            owner.close()
            raise QueueError(
                f"queue {path} is in use by another agent (locked: {lock_path})"
            ) from None
    return owner


def _open(path: Path, location: str) -> sqlite3.Connection:
    try:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as error:
        raise QueueError(f"cannot open queue {path}: {error}") from None
    try:
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = FULL")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version == 0:
            _create(db, location)
        elif version == 1:
            with _transaction(db):
                db.execute(RECORDED)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        elif version != SCHEMA_VERSION:
            raise QueueError(f"queue {path} has schema version {version}, not {SCHEMA_VERSION}")
        owner = _meta(db, "location")
        if owner != location:
            raise QueueError(
                f"queue {path} holds results of location {owner}, not {location}; "
                "give each location its own --queue"
            )
    except sqlite3.DatabaseError as error:
        db.close()
        raise QueueError(f"{path} is not an agent queue: {error}") from None
    except BaseException:
        db.close()
        raise
    return db


def _create(db: sqlite3.Connection, location: str) -> None:
    with _transaction(db):
        if db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            raise sqlite3.DatabaseError("it holds other tables")
        for statement in SCHEMA.split(";"):
            if statement.strip():
                db.execute(statement)
        db.execute("INSERT INTO meta VALUES ('location', ?)", (location,))
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    """One write transaction: committed when the block ends, rolled back when it raises."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
        db.execute("COMMIT")
    finally:
        if db.in_transaction:
            db.execute("ROLLBACK")


def _meta(db: sqlite3.Connection, key: str) -> Any:
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else row[0]
