"""Recorded outages (power faults no probe sees) merged into the uptime rules.

October 2026 has 44 640 minutes. Availability strings are ``(44640 − downtime) / 44640 × 100``
rounded half-even to six places.
"""

from __future__ import annotations

import pytest
from builders import (
    NO_EVENTS,
    OCTOBER,
    episode,
    events,
    instant,
    load_example,
    maintenance,
    minute_result,
    observations,
    one_service_contract,
    result,
    steady,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from slaledger.core.contract import Contract
from slaledger.core.intervals import IntervalSet
from slaledger.core.outages import Outage, OutageError, from_records, outage_intervals
from slaledger.core.records import Outage as OutageRecord
from slaledger.core.report import Report
from slaledger.core.settle import settle
from slaledger.core.windows import check_events
from slaledger.errors import UserError

FF = "first-fail-to-first-success"
CF = "continuous-failure"


@pytest.fixture(scope="module")
def hosting() -> Contract:
    return load_example("hosting-pop")


def outage(
    start: str, end: str, *, service: str = "power", location: str = "fra", line: int = 1
) -> Outage:
    return Outage(
        service, location, instant(start), instant(end), "UPS transfer fault", "faults.jsonl", line
    )


def settle_with(
    contract: Contract, rows: list[tuple[object, ...]], outages: list[Outage], event_set=NO_EVENTS
) -> Report:
    assert not check_events(contract, event_set)
    recorded = outage_intervals(contract, outages)
    return settle(contract, observations(rows), event_set, OCTOBER, outages=recorded)


# ---- first-fail-to-first-success ----------------------------------------------------------


def test_power_fault_overlapping_a_probe_outage_counts_the_union(hosting: Contract) -> None:
    # Probes at fra fail from 10:15 (first failed) to 10:25 (first successful): 10 min.
    # The recorded power fault is 10:00–10:20. Union: 10:00–10:25, 25 min, not 30 and not 20.
    rows = steady("power", "fra", "2026-10-07T09:50:00Z", 60, down=range(25, 35))
    fault = outage("2026-10-07T10:00:00Z", "2026-10-07T10:20:00Z")
    report = settle_with(hosting, rows, [fault])
    # (44640 − 25) / 44640 × 100 = 99.94399641…
    assert result(report, "power", "fra") == minute_result(
        "power",
        FF,
        "99.99",
        location="fra",
        total=44_640,
        downtime=25,
        excluded=0,
        availability="99.943996",
        met=False,
        credit=10,
        probes=(50, 10, 0),
        episodes=[
            episode(
                "2026-10-07T10:00:00Z",
                "2026-10-07T10:25:00Z",
                25,
                "counted",
                "down 25m00s from first failed to first successful probe, merged with a "
                "recorded outage (UPS transfer fault); 25m00s counted, rounded up to 25 min",
            )
        ],
    )


def test_outage_where_no_probe_reports_gets_its_own_result(hosting: Contract) -> None:
    rows = steady("power", "fra", "2026-10-07T09:50:00Z", 10)
    fault = outage("2026-10-07T10:00:00Z", "2026-10-07T10:20:00.5Z", location="lon")
    report = settle_with(hosting, rows, [fault])
    # 20 min 0.5 s rounds up once to 21 min: (44640 − 21) / 44640 × 100 = 99.95295698…
    assert result(report, "power", "lon") == minute_result(
        "power",
        FF,
        "99.99",
        location="lon",
        total=44_640,
        downtime=21,
        excluded=0,
        availability="99.952957",
        met=False,
        credit=10,
        probes=(0, 0, 0),
        episodes=[
            episode(
                "2026-10-07T10:00:00Z",
                "2026-10-07T10:20:00.5Z",
                21,
                "counted",
                "down 20m00.5s in a recorded outage (UPS transfer fault); 20m00.5s counted, "
                "rounded up to 21 min",
            )
        ],
    )
    assert result(report, "power", "fra")["downtime_minutes"] == 0


def test_outage_merges_only_at_its_own_location(hosting: Contract) -> None:
    rows = steady("power", ["fra", "ams"], "2026-10-07T09:50:00Z", 60, down=range(25, 35))
    report = settle_with(hosting, rows, [outage("2026-10-07T10:00:00Z", "2026-10-07T10:20:00Z")])
    assert result(report, "power", "fra")["downtime_minutes"] == 25
    assert result(report, "power", "ams")["downtime_minutes"] == 10
    # The network service shares the PoPs but not the power fault.
    assert result(report, "network")["downtime_minutes"] == 0


def test_overlapping_outage_records_are_one_union(hosting: Contract) -> None:
    faults = [
        outage("2026-10-07T10:00:00Z", "2026-10-07T10:20:00Z", line=1),
        outage("2026-10-07T10:10:00Z", "2026-10-07T10:30:00Z", line=2),
        outage("2026-10-07T10:30:00Z", "2026-10-07T10:31:00Z", line=3),  # touching
    ]
    report = settle_with(hosting, [], faults)
    assert result(report, "power", "fra")["downtime_minutes"] == 31
    assert len(result(report, "power", "fra")["episodes"]) == 1


def test_announced_maintenance_excludes_recorded_outage_time(hosting: Contract) -> None:
    window = maintenance(
        "2026-10-07T10:00:00Z", "2026-10-07T10:15:00Z", "2026-10-01T00:00:00Z", location="fra"
    )
    report = settle_with(
        hosting,
        [],
        [outage("2026-10-07T10:00:00Z", "2026-10-07T10:20:00Z")],
        events(maintenance=[window]),
    )
    fra = result(report, "power", "fra")
    assert fra["downtime_minutes"] == 5
    assert fra["episodes"][0]["reason"] == (
        "down 20m00s in a recorded outage (UPS transfer fault); 5m00s counted, rounded up to 5 min"
    )


def test_outage_still_needs_confirmation_across_locations() -> None:
    contract = one_service_contract({"rule": FF, "confirm": 2})
    rows = steady("api", "ams", "2026-10-07T09:50:00Z", 60, down=range(25, 35))
    rows += steady("api", "fra", "2026-10-07T09:50:00Z", 60)
    fault = outage("2026-10-07T10:00:00Z", "2026-10-07T10:20:00Z", service="api")
    report = settle_with(contract, rows, [fault])
    # ams's probes: 10:15–10:25; fra's fault: 10:00–10:20; both down 10:15–10:20.
    api = result(report, "api")
    assert api["downtime_minutes"] == 5
    assert api["episodes"][0]["reason"] == (
        "down 5m00s from first failed to first successful probe, merged with a recorded "
        "outage (UPS transfer fault); 5m00s counted, rounded up to 5 min; confirmed by at "
        "least 2 locations"
    )


# ---- continuous-failure -------------------------------------------------------------------


def test_continuous_failure_fails_every_bucket_the_outage_overlaps() -> None:
    contract = one_service_contract({"rule": CF, "min_duration": "5m"})
    # Probes fail the buckets 10:15 … 10:24; the outage 10:00:30–10:19:00.5 overlaps the
    # buckets 10:00 … 10:19. Together 10:00 … 10:24: one run of 25 buckets.
    rows = steady("api", "fra", "2026-10-07T09:50:00Z", 60, down=range(25, 35))
    fault = outage("2026-10-07T10:00:30Z", "2026-10-07T10:19:00.5Z", service="api")
    report = settle_with(contract, rows, [fault])
    # (44640 − 25) / 44640 × 100 = 99.94399641…
    assert result(report, "api") == minute_result(
        "api",
        CF,
        "99.9",
        total=44_640,
        downtime=25,
        excluded=0,
        availability="99.943996",
        met=True,
        credit=0,
        probes=(50, 10, 0),
        episodes=[
            episode(
                "2026-10-07T10:00:00Z",
                "2026-10-07T10:25:00Z",
                25,
                "counted",
                "25 min down (minimum 5m); includes a recorded outage (UPS transfer fault)",
            )
        ],
    )


def test_continuous_failure_short_outage_is_too_short() -> None:
    contract = one_service_contract({"rule": CF, "min_duration": "5m"})
    fault = outage("2026-10-07T10:00:00Z", "2026-10-07T10:04:00Z", service="api")
    report = settle_with(contract, steady("api", "fra", "2026-10-07T09:50:00Z", 5), [fault])
    api = result(report, "api")
    assert api["downtime_minutes"] == 0
    assert api["episodes"] == [
        episode(
            "2026-10-07T10:00:00Z",
            "2026-10-07T10:04:00Z",
            0,
            "too-short",
            "4 min down, shorter than the 5m minimum; includes a recorded outage (UPS "
            "transfer fault)",
        )
    ]


# ---- records that cannot apply -------------------------------------------------------------


def test_outage_for_a_probe_ratio_service_is_a_located_error() -> None:
    contract = one_service_contract({"rule": "probe-ratio"}, service="api")
    fault = outage("2026-10-07T10:00:00Z", "2026-10-07T10:20:00Z", service="api", line=7)
    with pytest.raises(OutageError) as raised:
        outage_intervals(contract, [fault])
    assert str(raised.value) == (
        "faults.jsonl:7: service: service api is settled by probe-ratio, which counts probes; "
        "an outage record applies only to continuous-failure or first-fail-to-first-success "
        "services"
    )


def test_settle_refuses_outages_for_a_probe_ratio_service() -> None:
    contract = one_service_contract({"rule": "probe-ratio"}, service="api")
    spans = {("api", "fra"): IntervalSet.of([(0, 60_000_000)])}
    with pytest.raises(UserError, match="settled by probe-ratio"):
        settle(contract, observations([]), NO_EVENTS, OCTOBER, outages=spans)


def test_unknown_service_and_location_are_each_located(hosting: Contract) -> None:
    faults = [
        outage("2026-10-07T10:00:00Z", "2026-10-07T10:20:00Z", service="powr", line=2),
        outage("2026-10-07T10:00:00Z", "2026-10-07T10:20:00Z", location="par", line=3),
        outage("2026-10-07T10:20:00Z", "2026-10-07T10:20:00Z", line=4),
    ]
    with pytest.raises(OutageError) as raised:
        outage_intervals(hosting, faults)
    assert [str(p) for p in raised.value.problems] == [
        "faults.jsonl:2: service: expected a service of contract hosting-pop "
        "(network, power), got 'powr'",
        "faults.jsonl:3: location: expected a location of service power (fra, ams, lon), got 'par'",
        "faults.jsonl:4: end: expected an end after the start",
    ]


def test_outage_records_become_located_outages(hosting: Contract) -> None:
    records = [
        OutageRecord.model_validate(
            {
                "kind": "outage",
                "service": "power",
                "location": "fra",
                "start": "2026-10-07T10:00:00Z",
                "end": "2026-10-07T10:20:00Z",
                "note": "UPS transfer fault",
            }
        ),
        OutageRecord.model_validate(
            {
                "kind": "outage",
                "service": "network",
                "start": "2026-10-08T10:00:00Z",
                "end": "2026-10-08T10:01:00Z",
            }
        ),
    ]
    outages = from_records(records, "faults.jsonl", [4, 9])
    assert outages[0] == Outage(
        "power",
        "fra",
        instant("2026-10-07T10:00:00Z"),
        instant("2026-10-07T10:20:00Z"),
        "UPS transfer fault",
        "faults.jsonl",
        4,
    )
    # Without a location, an outage is down time at every location of the service.
    spans = outage_intervals(hosting, outages)
    assert sorted(spans) == [
        ("network", "ams"),
        ("network", "fra"),
        ("network", "lon"),
        ("power", "fra"),
    ]
    assert spans[("network", "lon")] == IntervalSet.of(
        [(instant("2026-10-08T10:00:00Z"), instant("2026-10-08T10:01:00Z"))]
    )


def test_outage_without_location_needs_declared_locations() -> None:
    contract = one_service_contract({"rule": FF})
    fault = Outage("api", None, 0, 60_000_000, None, "faults.jsonl", 2)
    with pytest.raises(OutageError) as raised:
        outage_intervals(contract, [fault])
    assert str(raised.value) == (
        "faults.jsonl:2: location: expected the location of the outage: contract test "
        "declares no locations for an outage without one to apply to"
    )


# ---- properties ------------------------------------------------------------------------------

OCTOBER_START = instant("2026-10-01T00:00:00Z")
SPANS = st.lists(
    st.tuples(st.integers(0, 3 * 24 * 3_600_000_000), st.integers(1, 90 * 60_000_000)),
    min_size=1,
    max_size=8,
)


@settings(max_examples=100, deadline=None)
@given(SPANS)
def test_first_fail_counts_each_piece_of_the_union_rounded_up_once(
    spans: list[tuple[int, int]],
) -> None:
    contract = one_service_contract({"rule": FF}, per_location=True)
    faults = [
        Outage("api", "fra", OCTOBER_START + a, OCTOBER_START + a + d, None) for a, d in spans
    ]
    report = settle(
        contract, observations([]), NO_EVENTS, OCTOBER, outages=outage_intervals(contract, faults)
    )
    # The union by hand: sorted, merged where they overlap or touch.
    merged: list[list[int]] = []
    for start, end in sorted((o.start, o.end) for o in faults):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    expected = sum(-(-(end - start) // 60_000_000) for start, end in merged)
    assert result(report, "api", "fra")["downtime_minutes"] == expected


@settings(max_examples=100, deadline=None)
@given(SPANS)
def test_continuous_failure_counts_every_bucket_an_outage_touches(
    spans: list[tuple[int, int]],
) -> None:
    contract = one_service_contract({"rule": CF, "min_duration": "1m"}, per_location=True)
    faults = [
        Outage("api", "fra", OCTOBER_START + a, OCTOBER_START + a + d, None) for a, d in spans
    ]
    report = settle(
        contract, observations([]), NO_EVENTS, OCTOBER, outages=outage_intervals(contract, faults)
    )
    minute = 60_000_000
    buckets = {b for o in faults for b in range(o.start // minute, -(-o.end // minute))}
    assert result(report, "api", "fra")["downtime_minutes"] == len(buckets)
