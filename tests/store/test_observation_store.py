from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from sqlalchemy import inspect

from slaledger.app import open_store
from slaledger.core.observations import ERROR_CODES, Observations
from slaledger.core.timebase import US_PER_DAY, US_PER_MINUTE, to_instant
from slaledger.store.database import connect, migrate
from slaledger.store.observation_store import BatchConflictError

OCT_1 = to_instant(datetime(2026, 10, 1, tzinfo=UTC))
NOV_1 = to_instant(datetime(2026, 11, 1, tzinfo=UTC))


def minutes(
    service: str, location: str, first: int, count: int, down: range = range(0)
) -> Observations:
    """One probe a minute, 5 s past the minute, down (connect error) at the given offsets."""
    ts = OCT_1 + (first + np.arange(count, dtype=np.int64)) * US_PER_MINUTE + 5_000_000
    error = np.zeros(count, np.int8)
    error[list(down)] = ERROR_CODES["connect"]
    status = np.where(error == 0, 200, 0).astype(np.int16)
    return Observations(
        timestamp=ts,
        service=np.zeros(count, np.int32),
        location=np.zeros(count, np.int16),
        status=status,
        error=error,
        retry_after=np.zeros(count, bool),
        services=(service,),
        locations=(location,),
    )


def as_rows(o: Observations) -> list[tuple[object, ...]]:
    return sorted(
        zip(
            o.timestamp.tolist(),
            [o.services[i] for i in o.service.tolist()],
            [o.locations[i] for i in o.location.tolist()],
            o.status.tolist(),
            o.error.tolist(),
            o.retry_after.tolist(),
            strict=True,
        )
    )


def test_migrations_create_the_schema_once(store_url: str) -> None:
    engine = connect(store_url)
    migrate(engine)
    migrate(engine)
    tables = set(inspect(engine).get_table_names())
    assert {
        "services",
        "locations",
        "checks",
        "observations",
        "segments",
        "ingest_batches",
    } <= tables
    assert "alembic_version" in tables


def assert_grouped(loaded: Observations) -> None:
    """Packed rows grouped by (service, location) in time order, then rows not yet packed,
    grouped the same way: the series order starts again at most once."""
    group = loaded.service.astype(np.int64) * 10 + loaded.location
    step = np.diff(group)
    assert int((step < 0).sum()) <= 1
    assert bool(np.all(np.diff(loaded.timestamp)[step == 0] > 0))


def test_ingest_stores_each_observation_once(store_url: str) -> None:
    store = open_store(store_url)
    batch = minutes("api", "fra", 0, 100, down=range(10, 13))
    first = store.ingest(batch, received_at=OCT_1)
    assert (first.received, first.stored) == (100, 100)
    again = store.ingest(batch, received_at=OCT_1)
    assert (again.received, again.stored) == (100, 0)
    overlapping = store.ingest(minutes("api", "fra", 50, 100), received_at=OCT_1)
    assert overlapping.stored == 50
    loaded = store.load(OCT_1, NOV_1)
    assert len(loaded) == 150
    assert loaded.services == ("api",)
    assert int((loaded.error == ERROR_CODES["connect"]).sum()) == 3


def test_a_batch_sent_twice_is_stored_once(store_url: str) -> None:
    store = open_store(store_url)
    batch = minutes("api", "fra", 0, 10)
    assert store.ingest(batch, received_at=OCT_1, batch_id="agent-fra-1").stored == 10
    repeat = store.ingest(batch, received_at=OCT_1, batch_id="agent-fra-1")
    assert (repeat.stored, repeat.duplicate_batch) == (0, True)


def test_a_batch_id_holds_one_content(store_url: str) -> None:
    store = open_store(store_url)
    first = minutes("api", "fra", 0, 10)
    store.ingest(first, received_at=OCT_1, batch_id="b1", source="agent fra", digest="a" * 64)
    again = store.ingest(first, received_at=OCT_1 + 1, batch_id="b1", digest="a" * 64)
    assert (again.stored, again.duplicate_batch) == (0, True)
    with pytest.raises(BatchConflictError) as conflict:
        store.ingest(
            minutes("api", "fra", 10, 20), received_at=OCT_1, batch_id="b1", digest="b" * 64
        )
    assert (conflict.value.source, conflict.value.received_at) == ("agent fra", OCT_1)
    assert len(store.load(OCT_1 - US_PER_DAY, OCT_1 + US_PER_DAY)) == 10
    # A batch stored before digests were kept (none) is a duplicate whatever is sent again.
    store.ingest(first, received_at=OCT_1, batch_id="legacy")
    legacy = store.ingest(first, received_at=OCT_1, batch_id="legacy", digest="c" * 64)
    assert legacy.duplicate_batch


def test_compaction_keeps_every_observation_and_loads_in_group_order(store_url: str) -> None:
    store = open_store(store_url)
    parts = [
        minutes("web", "ams", 0, 3000, down=range(100, 110)),
        minutes("api", "fra", 0, 3000),
        minutes("api", "ams", 1400, 1000),
    ]
    for part in parts:
        store.ingest(part, received_at=OCT_1)
    before = as_rows(store.load(OCT_1, NOV_1))
    moved = store.compact(OCT_1 + 2 * US_PER_DAY)  # the first two days are closed
    assert moved == 2880 + 2880 + 1000
    loaded = store.load(OCT_1, NOV_1)
    assert as_rows(loaded) == before
    assert_grouped(loaded)
    # A re-import after compaction still stores nothing new once compacted again.
    store.ingest(parts[0], received_at=OCT_1)
    store.compact(OCT_1 + 2 * US_PER_DAY)
    assert as_rows(store.load(OCT_1, NOV_1)) == before


def test_partial_compaction_keeps_the_hot_table_small_and_loads_the_same(
    store_url: str,
) -> None:
    store = open_store(store_url)
    parts = [
        minutes("web", "ams", 0, 200, down=range(100, 110)),
        minutes("api", "fra", 0, 200),
        minutes("api", "ams", 50, 100),
    ]
    for part in parts:
        store.ingest(part, received_at=OCT_1)
    before = as_rows(store.load(OCT_1, NOV_1))
    # Everything before minute 150 of the day goes into today's segments; later rows stay hot.
    moved = store.compact(OCT_1 + 150 * US_PER_MINUTE, whole_days=False)
    assert moved == 150 + 150 + 100
    loaded = store.load(OCT_1, NOV_1)
    assert as_rows(loaded) == before
    assert_grouped(loaded)
    # A row sent again after it was packed lands in the hot table, among packed rows: the
    # load merges it in its place and drops the repeat, and so does the next compaction.
    late = minutes("web", "ams", 20, 1)
    assert store.ingest(late, received_at=OCT_1).stored == 1
    merged = store.load(OCT_1, NOV_1)
    assert as_rows(merged) == before
    assert store.compact(OCT_1 + 150 * US_PER_MINUTE, whole_days=False) == 1
    assert as_rows(store.load(OCT_1, NOV_1)) == before


def test_load_is_limited_to_the_range_and_services(store_url: str) -> None:
    store = open_store(store_url)
    store.ingest(minutes("api", "fra", 0, 120), received_at=OCT_1)
    store.ingest(minutes("web", "fra", 0, 120), received_at=OCT_1)
    store.compact(OCT_1 + US_PER_DAY)
    window = store.load(OCT_1 + 30 * US_PER_MINUTE, OCT_1 + 60 * US_PER_MINUTE, services=["api"])
    assert len(window) == 30
    assert {window.services[i] for i in window.service.tolist()} == {"api"}


def test_pruning_raw_days(store_url: str) -> None:
    store = open_store(store_url)
    store.ingest(minutes("api", "fra", 0, 3 * 1440), received_at=OCT_1)
    store.compact(OCT_1 + 3 * US_PER_DAY)
    assert store.prune_raw(OCT_1 + 2 * US_PER_DAY) == 2
    assert len(store.load(OCT_1, NOV_1)) == 1440


@pytest.mark.parametrize("url", ["mysql://x/y", "not a url"])
def test_unsupported_urls_are_user_errors(url: str) -> None:
    from slaledger.errors import UsageError

    with pytest.raises(UsageError, match="--db: expected a"):
        connect(url)


def test_history_packs_straight_into_segments_and_merges(store_url: str) -> None:
    store = open_store(store_url)
    month = minutes("api", "fra", 0, 31 * 1440, down=range(100, 107))
    assert store.pack_history(month) == 31 * 1440
    assert store.pack_history(month) == 0
    store.ingest(minutes("api", "fra", 31 * 1440 - 10, 20), received_at=NOV_1)
    loaded = store.load(OCT_1, NOV_1 + US_PER_DAY)
    assert len(loaded) == 31 * 1440 + 10
    assert as_rows(store.load(OCT_1, NOV_1)) == as_rows(month)


def test_segments_round_trip_every_column() -> None:
    from slaledger.store.segments import SegmentRows, pack, unpack

    rows = SegmentRows(
        timestamp=np.array([OCT_1, OCT_1 + 5, OCT_1 + 3 * US_PER_DAY], dtype=np.int64),
        check=np.array([1, 2, 1], dtype=np.int32),
        status=np.array([200, 0, 503], dtype=np.int16),
        error=np.array([0, ERROR_CODES["tls"], 0], dtype=np.int8),
        retry_after=np.array([False, False, True]),
        latency_ms=np.array([12.5, np.nan, 3.0], dtype=np.float32),
    )
    back = unpack(pack(rows))
    for name in ("timestamp", "check", "status", "error", "retry_after"):
        assert getattr(back, name).tolist() == getattr(rows, name).tolist(), name
    assert np.array_equal(back.latency_ms, rows.latency_ms, equal_nan=True)


def test_different_results_at_one_instant_are_both_kept(store_url: str) -> None:
    """Files name no check: two results at the same second are two observations, while the
    same result imported twice is one."""
    both = Observations(
        timestamp=np.array([OCT_1, OCT_1], dtype=np.int64),
        service=np.zeros(2, np.int32),
        location=np.zeros(2, np.int16),
        status=np.array([200, 0], dtype=np.int16),
        error=np.array([0, ERROR_CODES["tls"]], dtype=np.int8),
        retry_after=np.zeros(2, bool),
        services=("api",),
        locations=("fra",),
    )
    store = open_store(store_url)
    assert store.pack_history(both) == 2
    assert store.pack_history(both) == 0
    assert store.ingest(both, received_at=OCT_1).stored == 2
    store.compact(NOV_1)
    assert sorted(store.load(OCT_1, NOV_1).error.tolist()) == [0, ERROR_CODES["tls"]]


def test_compaction_packs_exactly_what_it_removes(store_url: str) -> None:
    """Rows from two writers are all packed once (the day is deleted and read in one DELETE …
    RETURNING, so a row committed meanwhile is either packed or left hot, never dropped)."""
    first = open_store(store_url)
    second = open_store(store_url)
    first.ingest(minutes("api", "fra", 0, 10), received_at=OCT_1)
    second.ingest(minutes("api", "fra", 10, 1), received_at=OCT_1)
    assert first.compact(OCT_1 + US_PER_DAY) == 11
    assert len(second.load(OCT_1, NOV_1)) == 11
