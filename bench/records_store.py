"""Storing records: a batch of tickets into the record store (SQLite file, or PostgreSQL when
``SLALEDGER_BENCH_PG`` names a URL), then the same batch again (all unchanged), then a tenth
of them with a human reply (replaced and audited), then a month read back.

    PYTHONPATH=src python bench/records_store.py [COUNT]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from slaledger.core.records import HardwareSwap, Response, Ticket
from slaledger.core.timebase import parse_instant
from slaledger.store.database import connect, migrate
from slaledger.store.record_store import RecordStore

OCTOBER = parse_instant("2026-10-01T00:00:00Z")
NOVEMBER = parse_instant("2026-11-01T00:00:00Z")


def tickets(count: int, *, answered_every: int = 0) -> list[Ticket | HardwareSwap]:
    span = NOVEMBER - OCTOBER
    made: list[Ticket | HardwareSwap] = []
    for index in range(count):
        opened = OCTOBER + index * (span // count)
        responses = [Response.model_construct(at=opened + 5_000_000, by="auto")]
        if answered_every and index % answered_every == 0:
            responses.append(Response.model_construct(at=opened + 1_800_000_000, by="human"))
        made.append(  # built as validated records are: instants already integers
            Ticket.model_construct(
                kind="ticket",
                id=f"T-{index}",
                customer=f"c{index % 500}",
                severity=("P1", "P2", "P3")[index % 3],
                opened=opened,
                responses=tuple(responses),
            )
        )
    return made


def timed(label: str, action: object) -> None:
    start = time.perf_counter()
    outcome = action()  # type: ignore[operator]
    seconds = time.perf_counter() - start
    print(f"{label:<34} {seconds:7.2f} s  {outcome}")


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as folder:
        url = os.environ.get("SLALEDGER_BENCH_PG") or f"sqlite:///{Path(folder) / 'b.db'}"
        engine = connect(url)
        migrate(engine)
        store = RecordStore(engine)
        batch = tickets(count)
        print(f"{count} tickets, {url.split(':')[0]}")
        timed("store (all new)", lambda: store.store("bench", batch, now=1, actor="bench"))
        timed("store again (all unchanged)", lambda: store.store("bench", batch, now=2, actor="b"))
        later = tickets(count, answered_every=10)
        timed("a tenth answered (replaced)", lambda: store.store("bench", later, now=3, actor="b"))
        timed("read October back", lambda: len(store.records("bench", OCTOBER, NOVEMBER)))
        engine.dispose()


if __name__ == "__main__":
    main()
