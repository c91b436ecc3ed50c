"""StatusCake API v1 exports (uptime periods, uptime history) → exact observations."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from slaledger.core.contract import Contract
from slaledger.core.events import Events
from slaledger.core.observations import ERROR_CODES, Observations
from slaledger.core.settle import settle
from slaledger.core.timebase import format_instant
from slaledger.errors import ObservationsError
from slaledger.files.imports import read_import

ERROR_NAMES = {code: name for name, code in ERROR_CODES.items()}
OCTOBER = (2026, 10)
LINKS = {
    "self": "https://api.statuscake.com/v1/uptime/6514286/periods?limit=100",
    "next": "https://api.statuscake.com/v1/uptime/6514286/periods?before=1790812740&limit=100",
}


def hosting_contract(rule: dict[str, Any] | None = None) -> Contract:
    downtime = rule or {"rule": "first-fail-to-first-success", "rounding": "ceil-minute"}
    service = {"target": "99.99", "per_location": True, "downtime": downtime}
    return Contract.model_validate(
        {
            "contract": "hosting-pop",
            "name": "Hosting network and power uptime",
            "services": {
                "network": {"name": "Network uptime (per PoP)", **service},
                "power": {"name": "Power uptime (per PoP)", **service},
            },
        }
    )


def micros(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()) * 1_000_000


def rows(observations: Observations) -> list[tuple[str, str, str, int, str]]:
    return [
        (
            format_instant(int(observations.timestamp[i])),
            observations.services[observations.service[i]],
            observations.locations[observations.location[i]],
            int(observations.status[i]),
            ERROR_NAMES.get(int(observations.error[i]), ""),
        )
        for i in range(len(observations))
    ]


def write(tmp_path: Path, text: str, name: str = "export.json") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def read(
    path: Path,
    *,
    service: str | None = "network",
    location: str | None = None,
    contract: Contract | None = None,
) -> Observations:
    return read_import(
        path,
        "statuscake",
        contract or hosting_contract(),
        location=location,
        timezone=None,
        service=service,
    ).observations


def problem(path: Path, **options: Any) -> str:
    with pytest.raises(ObservationsError) as caught:
        read(path, **options)
    assert len(caught.value.problems) == 1
    return str(caught.value.problems[0])


# --- periods -------------------------------------------------------------------------------

PERIODS = """{
  "data": [
    {
      "created_at": "2026-10-09T10:22:05+00:00",
      "duration": 100000,
      "status": "up"
    },
    {
      "created_at": "2026-10-09T10:15:05+00:00",
      "duration": 420000,
      "ended_at": "2026-10-09T10:22:05+00:00",
      "status": "down"
    },
    {
      "created_at": "2026-10-09T10:13:30.250000000Z",
      "duration": 95000,
      "ended_at": "2026-10-09T10:15:05Z",
      "status": "up"
    }
  ],
  "links": {
    "self": "https://api.statuscake.com/v1/uptime/6514286/periods?limit=25"
  }
}
"""


def test_periods_become_change_instants_and_minute_buckets(tmp_path: Path) -> None:
    observations = read(write(tmp_path, PERIODS), location="fra")
    # nanosecond fractions are cut to microseconds; the current period (no ended_at) lasts its
    # duration so far: 10:22:05 + 100 s = 10:23:45
    assert rows(observations) == [
        ("2026-10-09T10:13:30.25Z", "network", "fra", 0, ""),
        ("2026-10-09T10:14:00Z", "network", "fra", 0, ""),
        ("2026-10-09T10:15:00Z", "network", "fra", 0, ""),
        ("2026-10-09T10:15:05Z", "network", "fra", 0, "connect"),
        *[(f"2026-10-09T10:{m}:00Z", "network", "fra", 0, "connect") for m in range(16, 23)],
        ("2026-10-09T10:22:05Z", "network", "fra", 0, ""),
        ("2026-10-09T10:23:00Z", "network", "fra", 0, ""),
    ]
    assert observations.services == ("network",)
    assert observations.locations == ("fra",)


def test_open_period_without_duration_is_only_its_instant(tmp_path: Path) -> None:
    text = json.dumps(
        {
            "data": [
                {"created_at": "2026-10-09T10:22:05Z", "status": "down"},
                {
                    "created_at": "2026-10-09T10:20:00Z",
                    "ended_at": "2026-10-09T10:22:05Z",
                    "duration": 125000,
                    "status": "up",
                },
            ],
            "links": LINKS,
        }
    )
    assert rows(read(write(tmp_path, text))) == [
        ("2026-10-09T10:20:00Z", "network", "default", 0, ""),
        ("2026-10-09T10:21:00Z", "network", "default", 0, ""),
        ("2026-10-09T10:22:00Z", "network", "default", 0, ""),
        ("2026-10-09T10:22:05Z", "network", "default", 0, "connect"),
    ]


def month_of_periods() -> dict[str, Any]:
    """October 2026: a 7-minute outage; no period 12:00-13:00 on the 20th (no data)."""
    spans = [
        ("up", "2026-09-30T23:59:00Z", "2026-10-09T10:15:05Z"),
        ("down", "2026-10-09T10:15:05Z", "2026-10-09T10:22:05Z"),
        ("up", "2026-10-09T10:22:05Z", "2026-10-20T12:00:00Z"),
        ("up", "2026-10-20T13:00:00Z", None),  # current: runs for its duration so far
    ]
    data = []
    for status, start, end in spans[::-1]:  # newest first, as the API lists them
        stop = end or "2026-11-01T00:00:00Z"
        period: dict[str, Any] = {
            "created_at": start.replace("Z", "+00:00"),
            "duration": (micros(stop) - micros(start)) // 1000,
            "status": status,
        }
        if end is not None:
            period["ended_at"] = end.replace("Z", "+00:00")
        data.append(period)
    return {"data": data, "links": LINKS}


def test_month_of_periods_settles_a_seven_minute_outage(tmp_path: Path) -> None:
    path = write(tmp_path, json.dumps(month_of_periods(), indent=2))
    observations = read(path, location="fra")
    stamps = observations.timestamp
    assert len(observations) == 1 + (44_640 - 60) + 2
    assert np.all(np.diff(stamps) > 0)
    gap = (stamps >= micros("2026-10-20T12:00:00Z")) & (stamps < micros("2026-10-20T13:00:00Z"))
    assert not gap.any()

    result = settle(hosting_contract(), observations, Events(), OCTOBER).results[0]
    assert (result.service, result.location, result.downtime_minutes) == ("network", "fra", 7)
    assert [(e.start, e.end, e.counted_minutes, e.status) for e in result.episodes] == [
        (micros("2026-10-09T10:15:05Z"), micros("2026-10-09T10:22:05Z"), 7, "counted")
    ]
    assert result.probes.down == 8  # 10:15:05 and the buckets 10:16 … 10:22


def test_periods_missing_service(tmp_path: Path) -> None:
    path = write(tmp_path, PERIODS)
    assert problem(path, service=None) == (
        f"{path}: a StatusCake export does not name its check: give --service, one of: "
        "network (Network uptime (per PoP)), power (Power uptime (per PoP))"
    )


def test_periods_bad_timestamps(tmp_path: Path) -> None:
    path = write(tmp_path, PERIODS.replace("2026-10-09T10:15:05+00:00", "09/10/2026 10:15:05"))
    assert problem(path) == (
        f"{path}:9: data[1].created_at: expected an RFC 3339 instant like "
        '2026-10-01T00:00:00Z, got "09/10/2026 10:15:05"'
    )
    path = write(tmp_path, PERIODS.replace("10:15:05Z", "10:15:05"))
    assert problem(path) == (
        f"{path}:17: data[2].ended_at: expected an RFC 3339 instant like "
        '2026-10-01T00:00:00Z, got "2026-10-09T10:15:05"'
    )
    path = write(
        tmp_path,
        PERIODS.replace('"ended_at": "2026-10-09T10:22:05', '"ended_at": "2026-10-09T10:02:05'),
    )
    assert problem(path) == (
        f"{path}:11: data[1].ended_at: expected an instant not before created_at, "
        'got "2026-10-09T10:02:05+00:00"'
    )


def test_periods_missing_and_bad_fields(tmp_path: Path) -> None:
    path = write(tmp_path, PERIODS.replace('"status": "down"', '"state": "down"'))
    assert problem(path) == f"{path}:8: data[1].status: missing; expected up or down"
    path = write(tmp_path, PERIODS.replace('"status": "down"', '"status": "paused"'))
    assert problem(path) == f'{path}:12: data[1].status: expected up or down, got "paused"'
    path = write(tmp_path, PERIODS.replace('"status": "down"', '"status": ["down"]'))
    assert problem(path) == f'{path}:12: data[1].status: expected up or down, got ["down"]'
    path = write(tmp_path, PERIODS.replace('"duration": 420000', '"duration": "7m"'))
    assert problem(path) == (
        f'{path}:10: data[1].duration: expected whole milliseconds, 0 or more, got "7m"'
    )
    path = write(tmp_path, PERIODS.replace('"created_at": "2026-10-09T10:13:30.250000000Z",', ""))
    assert problem(path) == (
        f"{path}:14: data[2].created_at: missing; expected an RFC 3339 instant like "
        "2026-10-01T00:00:00Z"
    )


def test_rows_must_be_objects(tmp_path: Path) -> None:
    path = write(tmp_path, '{"data": [{"created_at": "2026-10-09T10:15:05Z", "status": "up"}, 7]}')
    assert problem(path) == f"{path}:1: data[1]: expected an object, got 7"


def test_not_a_statuscake_response(tmp_path: Path) -> None:
    path = write(tmp_path, '{"monitors": []}\n')
    assert problem(path) == (
        f"{path}:1: expected a StatusCake API v1 response, an object with a 'data' list; "
        "found the keys 'monitors'"
    )
    path = write(tmp_path, '{"data": [{"created_at": "2026-10-09T10:15:05Z", "uptime": 99.9}]}')
    assert problem(path) == (
        f"{path}:1: data[0]: expected an uptime period (created_at, status, ended_at, "
        "duration) or a history result (created_at, location, status_code, performance); "
        "found the keys 'created_at', 'uptime'"
    )


# --- history --------------------------------------------------------------------------------

HISTORY = """{
  "data": [
    {
      "created_at": "2026-10-09T10:16:05+00:00",
      "location": "frankfurt",
      "performance": 211,
      "status_code": 200
    },
    {
      "created_at": "2026-10-09T10:15:35Z",
      "location": "london"
    },
    {
      "created_at": "2026-10-09T10:15:05+00:00",
      "location": "frankfurt",
      "status_code": 0
    },
    {
      "created_at": "2026-10-09T10:15:05+00:00",
      "location": "frankfurt",
      "performance": 38,
      "status_code": 200
    },
    {
      "created_at": "2026-10-09T12:15:05+02:00",
      "location": "london",
      "performance": 180,
      "status_code": 503
    },
    {
      "created_at": "2026-10-09T10:14:05Z",
      "performance": 35,
      "status_code": 200
    }
  ],
  "links": {
    "self": "https://api.statuscake.com/v1/uptime/6514286/history?limit=25"
  }
}
"""


def test_history_rows_are_probe_results(tmp_path: Path) -> None:
    observations = read(write(tmp_path, HISTORY), service="power", location="fra")
    # status_code 0 or absent: no response (connect); two results at one instant and place:
    # the failing one is kept; a row without location takes --location
    assert rows(observations) == [
        ("2026-10-09T10:14:05Z", "power", "fra", 200, ""),
        ("2026-10-09T10:15:05Z", "power", "frankfurt", 0, "connect"),
        ("2026-10-09T10:16:05Z", "power", "frankfurt", 200, ""),
        ("2026-10-09T10:15:05Z", "power", "london", 503, ""),
        ("2026-10-09T10:15:35Z", "power", "london", 0, "connect"),
    ]
    assert observations.locations == ("fra", "frankfurt", "london")


def test_history_settles_per_location(tmp_path: Path) -> None:
    observations = read(write(tmp_path, HISTORY), service="power")
    results = settle(hosting_contract(), observations, Events(), OCTOBER).results
    power = [(r.location, r.downtime_minutes) for r in results if r.service == "power"]
    # frankfurt: down 10:15:05 → 10:16:05; london: down from 10:15:05, never up again
    assert power[:2] == [("default", 0), ("frankfurt", 1)]
    assert power[2][0] == "london"


def test_history_bad_status_code_and_location(tmp_path: Path) -> None:
    path = write(tmp_path, HISTORY.replace('"status_code": 503', '"status_code": "503"'))
    assert problem(path) == (
        f"{path}:28: data[4].status_code: expected an HTTP status code from 100 to 599, or 0, "
        'got "503"'
    )
    path = write(tmp_path, HISTORY.replace('"location": "london"\n', '"location": 7\n'))
    assert problem(path) == f"{path}:11: data[1].location: expected the location's name, got 7"
    path = write(tmp_path, HISTORY.replace("2026-10-09T10:14:05Z", "2026-10-09T10:14:60Z"))
    assert problem(path) == (
        f"{path}:31: data[5].created_at: expected an RFC 3339 instant like "
        '2026-10-01T00:00:00Z, got "2026-10-09T10:14:60Z"'
    )


def test_pages_and_empty_exports(tmp_path: Path) -> None:
    first = json.loads(HISTORY)
    second = {
        "data": [{"created_at": "2026-10-09T10:17:05Z", "location": "london", "status_code": 200}],
        "links": {},
    }
    path = write(tmp_path, json.dumps([first, second]))
    assert rows(read(path))[-1] == ("2026-10-09T10:17:05Z", "network", "london", 200, "")
    assert len(read(write(tmp_path, '{"data": [], "links": {}}'))) == 0
