"""``slaledger report --records``: per-event and percentile commitments, and outage mistakes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import Run

CONTRACT = """\
contract: pop
name: PoP SLA
timezone: Europe/Berlin
locations: [fra, ams]
services:
  web: {name: Web, target: "99.9", downtime: {rule: probe-ratio}}
  power:
    name: Power
    target: "99.99"
    per_location: true
    downtime: {rule: first-fail-to-first-success}
commitments:
  ddos-mitigation:
    kind: per-event
    records: ddos
    below: 2s
    covers: {min_peak_gbps: "1"}
  vps-provisioning:
    kind: percentile
    records: provisioning
    statistic: median
    below: 90s
    window: 30d
"""

RECORDS = [
    {
        "kind": "ddos",
        "id": "D-1",
        "location": "fra",
        "detected": "2026-10-02T12:00:00Z",
        "mitigated": "2026-10-02T12:00:01.999999Z",
        "peak_gbps": "40",
    },
    {
        "kind": "ddos",
        "id": "D-2",
        "location": "fra",
        "detected": "2026-10-09T03:00:00Z",
        "mitigated": "2026-10-09T03:00:02Z",
        "peak_gbps": "3.2",
    },
    {
        "kind": "ddos",
        "id": "D-3",
        "location": "ams",
        "detected": "2026-10-20T08:00:00Z",
        "mitigated": "2026-10-20T08:00:09Z",
        "peak_gbps": "0.4",
    },
    {
        "kind": "provisioning",
        "id": "vps-1",
        "location": "fra",
        "requested": "2026-10-01T10:00:00+02:00",
        "ready": "2026-10-01T10:01:00+02:00",
    },
    {
        "kind": "provisioning",
        "id": "vps-2",
        "location": "fra",
        "requested": "2026-10-01T11:00:00+02:00",
        "ready": "2026-10-01T11:01:27+02:00",
    },
    {
        "kind": "provisioning",
        "id": "vps-3",
        "location": "ams",
        "requested": "2026-10-02T09:00:00+02:00",
        "failed": True,
    },
    {
        "kind": "provisioning",
        "id": "vps-4",
        "location": "ams",
        "requested": "2026-10-03T01:00:00+02:00",
        "ready": "2026-10-03T01:03:20+02:00",
    },
]

PROBES = "timestamp,service,location,status,error,latency_ms,retry_after\n" + (
    "2026-10-01T00:00:00Z,web,fra,200,,12,\n2026-10-01T00:00:00Z,power,fra,200,,12,\n"
)


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "contract.yaml").write_text(CONTRACT, encoding="utf-8")
    (tmp_path / "probes.csv").write_text(PROBES, encoding="utf-8")
    lines = [json.dumps(record) for record in RECORDS]
    (tmp_path / "records.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path


def report(run_cli: Callable[..., Run], files: Path, *options: str) -> Run:
    return run_cli(
        "report",
        files / "contract.yaml",
        "--probes",
        files / "probes.csv",
        "--month",
        "2026-10",
        "--records",
        files / "records.jsonl",
        "--at",
        "2026-10-04T12:00:00Z",
        *options,
    )


def test_json_has_events_not_met_and_one_value_per_local_day(
    run_cli: Callable[..., Run], files: Path
) -> None:
    run = report(run_cli, files, "--format", "json")
    assert run.code == 0, run.err
    assert json.loads(run.out)["commitments"] == [
        {
            "commitment": "ddos-mitigation",
            "kind": "per-event",
            "met": False,
            "counts": {"met": 1, "missed": 1, "pending": 0, "not-covered": 1},
            "items": [
                # D-1 (1.999999 s) is met and only counted; exactly 2 s is missed.
                {
                    "id": "D-2",
                    "start": "2026-10-09T03:00:00Z",
                    "due": "2026-10-09T03:00:02Z",
                    "end": "2026-10-09T03:00:02Z",
                    "elapsed_seconds": "2",
                    "status": "missed",
                    "late_hours": None,
                },
                # 0.4 Gbps is under the 1 Gbps minimum: listed, never judged.
                {
                    "id": "D-3",
                    "start": "2026-10-20T08:00:00Z",
                    "due": "2026-10-20T08:00:02Z",
                    "end": "2026-10-20T08:00:09Z",
                    "elapsed_seconds": "9",
                    "status": "not-covered",
                    "late_hours": None,
                },
            ],
        },
        {
            "commitment": "vps-provisioning",
            "kind": "percentile",
            "met": False,
            # Berlin's days end at 22:00Z in summer time; only days ended by --at are listed.
            "days": [
                # 60 s, 87 s → the mean of the middle two
                {"at": "2026-10-01T22:00:00Z", "count": 2, "value_seconds": "73.5", "met": True},
                # 60 s, 87 s, +inf (failed) → 87 s
                {"at": "2026-10-02T22:00:00Z", "count": 3, "value_seconds": "87", "met": True},
                # 60 s, 87 s, 200 s, +inf → (87 + 200) / 2
                {"at": "2026-10-03T22:00:00Z", "count": 4, "value_seconds": "143.5", "met": False},
            ],
        },
    ]


def test_table_and_csv_list_events_not_met_and_days_missed(
    run_cli: Callable[..., Run], files: Path
) -> None:
    table = report(run_cli, files)
    assert table.code == 0, table.err
    assert table.out.split("\n\ncommitments")[1].splitlines() == [
        " (evaluated at 2026-10-04T12:00:00Z):",
        "commitment        kind            met         items",
        "---------------------------------------------------",
        "ddos-mitigation   per-event       NO          1 met, 1 missed, 0 pending, 1 not-covered",
        "    missed      D-2  start 2026-10-09T03:00:00Z  due 2026-10-09T03:00:02Z  "
        "end 2026-10-09T03:00:02Z  elapsed 2 s",
        "    not-covered D-3  start 2026-10-20T08:00:00Z  due 2026-10-20T08:00:02Z  "
        "end 2026-10-20T08:00:09Z  elapsed 9 s",
        "vps-provisioning  percentile      NO          2 of 3 days judged met (3 days)",
        "    missed      day ending 2026-10-03T22:00:00Z  4 records  value 143.5 s",
    ]
    csv = report(run_cli, files, "--format", "csv")
    assert csv.code == 0, csv.err
    assert csv.out.split("\n\n")[1].splitlines()[-2:] == [
        "vps-provisioning,percentile,false,,,,,,,,,,,,,,,",
        "vps-provisioning,percentile,,,,,,,,missed,,,,,,2026-10-03T22:00:00Z,4,143.5",
    ]


def test_outage_of_a_probe_ratio_service_is_one_located_line(
    run_cli: Callable[..., Run], files: Path
) -> None:
    outage = {
        "kind": "outage",
        "service": "web",
        "location": "fra",
        "start": "2026-10-07T10:00:00Z",
        "end": "2026-10-07T10:20:00Z",
    }
    with (files / "records.jsonl").open("a", encoding="utf-8") as out:
        out.write(json.dumps(outage) + "\n")
    run = report(run_cli, files, "--format", "json")
    assert (run.code, run.out) == (2, "")
    assert run.err.splitlines() == [
        f"error: {files / 'records.jsonl'}:8: service: service web is settled by probe-ratio, "
        "which counts probes; an outage record applies only to continuous-failure or "
        "first-fail-to-first-success services"
    ]


def test_power_fault_and_probe_outage_count_their_union(
    run_cli: Callable[..., Run], files: Path
) -> None:
    probes = "".join(
        f"2026-10-07T{minute // 60:02d}:{minute % 60:02d}:00Z,power,fra,{status},,12,\n"
        for minute, status in [(600 + m, 500 if 15 <= m < 25 else 200) for m in range(40)]
    )
    with (files / "probes.csv").open("a", encoding="utf-8") as out:
        out.write(probes)
    outage = {
        "kind": "outage",
        "service": "power",
        "location": "fra",
        "start": "2026-10-07T10:00:00Z",
        "end": "2026-10-07T10:20:00Z",
        "note": "UPS transfer fault",
    }
    with (files / "records.jsonl").open("a", encoding="utf-8") as out:
        out.write(json.dumps(outage) + "\n")
    run = report(run_cli, files, "--format", "json")
    assert run.code == 0, run.err
    power = json.loads(run.out)["results"][1]
    # Probes down 10:15-10:25, the fault 10:00-10:20: 25 min, not 30 and not 20. October in
    # Berlin has 44,700 minutes (the 25th has 25 hours): (44700 - 25) / 44700 = 99.944072…
    assert (power["location"], power["downtime_minutes"], power["availability"]) == (
        "fra",
        25,
        "99.944072",
    )
    assert power["episodes"][0]["reason"] == (
        "down 25m00s from first failed to first successful probe, merged with a recorded "
        "outage (UPS transfer fault); 25m00s counted, rounded up to 25 min"
    )
