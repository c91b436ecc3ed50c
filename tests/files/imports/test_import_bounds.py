"""Imports hold only declared locations and instants from the contract's start up to now:
whatever the format, the first line outside is named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from slaledger.core.contract import Contract
from slaledger.core.instant_bounds import InstantBounds
from slaledger.core.timebase import US_PER_DAY
from slaledger.errors import ObservationsError
from slaledger.files.imports import ImportFormat, read_import

NOW = 1_794_830_400_000_000
"""2026-11-16T12:00:00Z."""
SERVICE = {"name": "Network", "target": "99.99", "downtime": {"rule": "probe-ratio"}}


def contract(**given: Any) -> Contract:
    return Contract.model_validate(
        {"contract": "pop", "name": "PoP", "services": {"network": SERVICE}, **given}
    )


STARTED = contract(effective_from="2026-10-01T00:00:00Z", locations=["fra", "ams"])
OPEN = contract()


def problem(
    path: Path, fmt: ImportFormat, target: Contract, *, location: str | None = None, **extra: Any
) -> str:
    with pytest.raises(ObservationsError) as caught:
        read_import(
            path,
            fmt,
            target,
            location=location,
            timezone=extra.get("timezone"),
            service=extra.get("service"),
            bounds=InstantBounds.for_import(target, NOW, 1827),
        )
    (only,) = caught.value.problems
    return str(only).removeprefix(f"{path.parent}/")


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


CSV = "timestamp,service,location,status,error\n"


def test_our_csv_names_the_first_line_outside_the_bounds(tmp_path: Path) -> None:
    future = write(
        tmp_path,
        "future.csv",
        CSV
        + "2026-11-16T11:59:00Z,network,fra,200,\n"
        + "2026-11-16T12:00:00.000001Z,network,fra,200,\n"
        + "2027-01-01T00:00:00Z,network,fra,200,\n",
    )
    assert problem(future, "slaledger", STARTED) == (
        "future.csv:3: timestamp: 2026-11-16T12:00:00.000001Z is in the future (the import "
        "runs at 2026-11-16T12:00:00Z) (and 1 more bad row)"
    )
    early = write(
        tmp_path,
        "early.csv",
        CSV + "2026-10-01T00:00:00Z,network,fra,200,\n2026-09-30T23:59:59Z,network,ams,500,\n",
    )
    assert problem(early, "slaledger", STARTED) == (
        "early.csv:3: timestamp: 2026-09-30T23:59:59Z is before the contract's effective_from "
        "(2026-10-01T00:00:00Z); remove the lines before it"
    )
    epoch = write(tmp_path, "epoch.csv", CSV + "1970-01-01T00:00:00Z,network,fra,200,\n")
    assert problem(epoch, "slaledger", OPEN) == (
        "epoch.csv:2: timestamp: 1970-01-01T00:00:00Z is before the long-term retention of "
        "1827 days (2021-11-15T12:00:00Z); remove the lines before it"
    )


def test_undeclared_locations_are_refused(tmp_path: Path) -> None:
    ghosts = write(
        tmp_path,
        "ghosts.csv",
        CSV
        + "2026-11-01T00:00:05Z,network,ghost1,500,\n2026-11-01T00:00:05Z,network,ghost2,500,\n",
    )
    assert problem(ghosts, "slaledger", STARTED) == (
        "ghosts.csv: location: location 'ghost1' is not a location of service network of "
        "contract pop (fra, ams)"
    )
    unnamed = write(tmp_path, "unnamed.csv", CSV + "2026-11-01T00:00:05Z,network,,500,\n")
    assert problem(unnamed, "slaledger", STARTED) == (
        "unnamed.csv: location: location 'default' is not a location of service network of "
        "contract pop (fra, ams); give --location"
    )
    narrowed = contract(
        locations=["fra", "ams"], services={"network": {**SERVICE, "locations": ["fra"]}}
    )
    ams = write(tmp_path, "ams.csv", CSV + "2026-11-01T00:00:05Z,network,ams,200,\n")
    assert problem(ams, "slaledger", narrowed) == (
        "ams.csv: location: location 'ams' is not a location of service network of contract "
        "pop (fra)"
    )
    assert problem(unnamed, "slaledger", STARTED, location="lon").endswith("(fra, ams)")


def test_uptimerobot_logs_and_rows_outside_the_bounds_are_named(tmp_path: Path) -> None:
    logs = [
        {"type": 2, "datetime": 1_793_577_600, "duration": 600},  # 2026-11-02T00:00:00Z
        {"type": 1, "datetime": 1_800_000_000, "duration": 60},  # 2027-01-15: the future
    ]
    document = {"stat": "ok", "monitors": [{"id": 1, "friendly_name": "network", "logs": logs}]}
    api = write(tmp_path, "api.json", json.dumps(document, indent=2))
    assert problem(api, "uptimerobot", STARTED, location="fra") == (
        "api.json:15: monitors[0].logs[1].datetime: 2027-01-15T08:00:00Z is in the future "
        "(the import runs at 2026-11-16T12:00:00Z)"
    )
    dashboard = write(
        tmp_path,
        "dashboard.csv",
        "Event,Monitor,Monitor URL,Date-Time,Reason,Duration (in mins.)\n"
        "Up,network,https://x,2026-10-02 00:00:00,OK,10\n"
        "Down,network,https://x,2026-09-30 23:00:00,Connection Timeout,5\n",
    )
    assert problem(dashboard, "uptimerobot", STARTED, location="fra", timezone="UTC") == (
        "dashboard.csv:3: Date-Time: 2026-09-30T23:00:00Z is before the contract's "
        "effective_from (2026-10-01T00:00:00Z); remove the lines before it"
    )


def test_statuscake_rows_outside_the_bounds_are_named(tmp_path: Path) -> None:
    periods = {
        "data": [
            {
                "created_at": "2026-11-16T11:00:00Z",
                "status": "up",
                "ended_at": "2026-11-16T13:00:00Z",
            },
            {"created_at": "2026-10-09T10:15:05Z", "status": "down"},
        ]
    }
    path = write(tmp_path, "periods.json", json.dumps(periods, indent=2))
    assert problem(path, "statuscake", STARTED, location="fra", service="network") == (
        "periods.json:6: data[0].ended_at: 2026-11-16T13:00:00Z is in the future (the import "
        "runs at 2026-11-16T12:00:00Z)"
    )
    history = {"data": [{"created_at": "2020-01-01T00:00:00Z", "status_code": 200}]}
    old = write(tmp_path, "history.json", json.dumps(history, indent=2))
    assert problem(old, "statuscake", OPEN, service="network") == (
        "history.json:4: data[0].created_at: 2020-01-01T00:00:00Z is before the long-term "
        "retention of 1827 days (2021-11-15T12:00:00Z); remove the lines before it"
    )


def test_instants_within_the_bounds_are_read(tmp_path: Path) -> None:
    inside = write(
        tmp_path,
        "inside.csv",
        CSV + "2026-10-01T00:00:00Z,network,fra,200,\n2026-11-16T12:00:00Z,network,ams,200,\n",
    )
    read = read_import(
        inside,
        "slaledger",
        STARTED,
        location=None,
        timezone=None,
        service=None,
        bounds=InstantBounds.for_import(STARTED, NOW, 1827),
    ).observations
    assert len(read) == 2
    assert InstantBounds.for_import(OPEN, NOW, 10).earliest == NOW - 10 * US_PER_DAY
