"""UptimeRobot exports (API v2 getMonitors JSON with logs, dashboard CSV) → exact observations.

Also the :func:`read_import` entry point's own checks and the ``slaledger`` format.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from slaledger.core.contract import Contract
from slaledger.core.events import Events
from slaledger.core.observations import ERROR_CODES, Observations
from slaledger.core.settle import settle
from slaledger.core.timebase import format_instant
from slaledger.errors import ObservationsError, UsageError
from slaledger.files.imports import ImportedFile, read_import

ERROR_NAMES = {code: name for name, code in ERROR_CODES.items()}
OCTOBER = (2026, 10)


def hosting_contract(rule: dict[str, Any] | None = None) -> Contract:
    """Hosting-like: per-PoP network and power, first fail to first success, 99.99 %."""
    downtime = rule or {"rule": "first-fail-to-first-success", "rounding": "ceil-minute"}
    service = {"target": "99.99", "per_location": True, "downtime": downtime}
    return Contract.model_validate(
        {
            "contract": "hosting-pop",
            "name": "Hosting network and power uptime",
            "services": {
                "network": {"name": "Network FRA", **service},
                "power": {"name": "Power uptime", **service},
            },
            "credits": {
                "basis": "monthly-base-fee",
                "mode": "automatic",
                "tiers": [{"below": "99.99", "credit": 10}, {"below": "99.9", "credit": 25}],
            },
        }
    )


def unix(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def rows(observations: Observations) -> list[tuple[str, str, str, int, str]]:
    """(instant, service, location, status, error) per observation, in order."""
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


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def read(
    path: Path,
    contract: Contract | None = None,
    *,
    location: str | None = None,
    timezone: str | None = None,
    service: str | None = None,
) -> Observations:
    return read_import(
        path,
        "uptimerobot",
        contract or hosting_contract(),
        location=location,
        timezone=timezone,
        service=service,
    ).observations


def problem(path: Path, **options: Any) -> str:
    with pytest.raises(ObservationsError) as caught:
        read(path, **options)
    assert len(caught.value.problems) == 1
    return str(caught.value.problems[0])


# --- API v2 getMonitors JSON -----------------------------------------------------------

SMALL_API = """{
  "stat": "ok",
  "pagination": {"offset": 0, "limit": 50, "total": 1},
  "monitors": [
    {
      "id": 777749809,
      "friendly_name": "Network FRA",
      "url": "https://fra.example.net/health",
      "type": 1,
      "interval": 60,
      "status": 2,
      "create_datetime": 1790812000,
      "logs": [
        {"id": 3, "type": 2, "datetime": 1791541325, "duration": 95,
         "reason": {"code": "200", "detail": "OK"}},
        {"id": 2, "type": 1, "datetime": 1791540905, "duration": 420,
         "reason": {"code": "503", "detail": "Service Unavailable"}},
        {"id": 1, "type": 98, "datetime": 1791540840, "duration": 65,
         "reason": {"code": "98", "detail": "Started"}}
      ]
    }
  ]
}
"""

SMALL_EXPECTED = [
    ("2026-10-09T10:15:05Z", "network", "fra", 503, "connect"),
    *[(f"2026-10-09T10:{m}:00Z", "network", "fra", 503, "connect") for m in range(16, 23)],
    ("2026-10-09T10:22:05Z", "network", "fra", 0, ""),
    ("2026-10-09T10:23:00Z", "network", "fra", 0, ""),
]


def test_api_log_becomes_change_instants_and_minute_buckets(tmp_path: Path) -> None:
    observations = read(write(tmp_path, "monitors.json", SMALL_API), location="fra")
    # started (98) is no data; down carries connect and the reason's HTTP status; up nothing
    assert rows(observations) == SMALL_EXPECTED
    assert observations.services == ("network",)
    assert observations.locations == ("fra",)
    assert observations.retry_after.dtype == np.bool_
    assert not observations.retry_after.any()


def test_monitor_matched_by_service_id_and_default_location(tmp_path: Path) -> None:
    path = write(tmp_path, "monitors.json", SMALL_API.replace('"Network FRA"', '"power"'))
    observations = read(path)
    assert {(r[1], r[2]) for r in rows(observations)} == {("power", "default")}


def test_service_argument_maps_the_one_monitor(tmp_path: Path) -> None:
    path = write(tmp_path, "monitors.json", SMALL_API.replace('"Network FRA"', '"fra edge"'))
    observations = read(path, service="power", location="fra")
    assert rows(observations) == [(t, "power", loc, s, e) for t, _, loc, s, e in SMALL_EXPECTED]


def month_of_logs() -> dict[str, Any]:
    """October 2026 of one monitor: a 7-minute outage, an hour paused, up until the export."""
    spans = [
        (98, "2026-09-30T23:58:30Z", "2026-09-30T23:59:00Z", {"code": "98", "detail": "Started"}),
        (2, "2026-09-30T23:59:00Z", "2026-10-09T10:15:05Z", {"code": "200", "detail": "OK"}),
        (
            1,
            "2026-10-09T10:15:05Z",
            "2026-10-09T10:22:05Z",
            {"code": "333333", "detail": "Timeout"},
        ),
        (2, "2026-10-09T10:22:05Z", "2026-10-20T12:00:00Z", {"code": "200", "detail": "OK"}),
        (99, "2026-10-20T12:00:00Z", "2026-10-20T13:00:00Z", {"code": "99", "detail": "Paused"}),
        (2, "2026-10-20T13:00:00Z", "2026-11-01T00:00:00Z", {"code": "200", "detail": "OK"}),
    ]
    logs = [
        {
            "id": 5_000_000 + index,
            "type": kind,
            "datetime": unix(start),
            "duration": unix(end) - unix(start),
            "reason": reason,
        }
        for index, (kind, start, end, reason) in enumerate(spans)
    ]
    monitor = {
        "id": 777749809,
        "friendly_name": "Network FRA",
        "url": "https://fra.example.net/health",
        "type": 1,
        "interval": 60,
        "status": 2,
        "logs": logs[::-1],  # the API lists the newest first
    }
    return {
        "stat": "ok",
        "pagination": {"offset": 0, "limit": 50, "total": 1},
        "monitors": [monitor],
    }


def test_month_of_api_logs_settles_a_seven_minute_outage(tmp_path: Path) -> None:
    path = write(tmp_path, "monitors.json", json.dumps(month_of_logs(), indent=2))
    observations = read(path, location="fra")
    stamps = observations.timestamp
    # one row per minute of the month but the paused hour, the change instants off the minute
    # (10:15:05, 10:22:05), and September's last minute
    assert len(observations) == 1 + (44_640 - 60) + 2
    assert np.all(np.diff(stamps) > 0)
    paused = (stamps >= unix("2026-10-20T12:00:00Z") * 10**6) & (
        stamps < unix("2026-10-20T13:00:00Z") * 10**6
    )
    assert not paused.any()
    assert format_instant(int(stamps[-1])) == "2026-10-31T23:59:00Z"

    result = settle(hosting_contract(), observations, Events(), OCTOBER).results[0]
    assert (result.service, result.location) == ("network", "fra")
    assert result.downtime_minutes == 7
    assert result.total_minutes == 44_640
    assert [(e.start, e.end, e.counted_minutes) for e in result.episodes] == [
        (unix("2026-10-09T10:15:05Z") * 10**6, unix("2026-10-09T10:22:05Z") * 10**6, 7)
    ]
    assert result.credit_percent == 10  # 99.984319 %


def test_month_of_api_logs_under_continuous_failure_counts_touched_buckets(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "monitors.json", json.dumps(month_of_logs(), indent=2))
    rule = {"rule": "continuous-failure", "min_duration": "5m"}
    contract = hosting_contract(rule)
    result = settle(contract, read(path, contract, location="fra"), Events(), OCTOBER).results[0]
    # down 10:15:05-10:22:05 touches the buckets 10:15 to 10:22
    assert result.downtime_minutes == 8


def test_pages_saved_as_an_array_are_one_import(tmp_path: Path) -> None:
    page = json.loads(SMALL_API)
    other = json.loads(SMALL_API.replace('"Network FRA"', '"Power uptime"'))
    path = write(tmp_path, "pages.json", json.dumps([page, other]))
    assert {r[1] for r in rows(read(path))} == {"network", "power"}


def test_events_at_one_instant_keep_the_one_that_lasted(tmp_path: Path) -> None:
    logs = [
        {"type": 98, "datetime": 1791540840, "duration": 0},
        {"type": 2, "datetime": 1791540840, "duration": 60},
        {"type": 1, "datetime": 1791540900},  # the newest: no duration, only its instant
    ]
    doc = {"stat": "ok", "monitors": [{"id": 1, "friendly_name": "network", "logs": logs}]}
    assert rows(read(write(tmp_path, "m.json", json.dumps(doc)))) == [
        ("2026-10-09T10:14:00Z", "network", "default", 0, ""),
        ("2026-10-09T10:15:00Z", "network", "default", 0, "connect"),
    ]


def test_api_failure_answer(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "fail.json",
        '{"stat": "fail", "error": {"type": "invalid_parameter", '
        '"message": "api_key is invalid."}}\n',
    )
    assert problem(path) == f"{path}:1: stat: the API answered 'fail': api_key is invalid."


def test_bad_api_datetime(tmp_path: Path) -> None:
    path = write(
        tmp_path, "m.json", SMALL_API.replace('"datetime": 1791540905', '"datetime": "2026-10-09"')
    )
    assert problem(path) == (
        f"{path}:16: monitors[0].logs[1].datetime: expected Unix time in whole seconds, "
        'got "2026-10-09"'
    )


def test_bad_api_type_and_duration(tmp_path: Path) -> None:
    path = write(tmp_path, "m.json", SMALL_API.replace('"type": 98', '"type": 3'))
    assert problem(path) == (
        f"{path}:18: monitors[0].logs[2].type: expected 1 (down), 2 (up), 98 (started) "
        "or 99 (paused), got 3"
    )
    path = write(tmp_path, "m.json", SMALL_API.replace('"duration": 420', '"duration": -5'))
    assert problem(path) == (
        f"{path}:16: monitors[0].logs[1].duration: expected whole seconds, 0 or more, got -5"
    )


def test_missing_api_fields(tmp_path: Path) -> None:
    path = write(tmp_path, "m.json", SMALL_API.replace('"datetime": 1791541325, ', ""))
    assert problem(path) == (
        f"{path}:14: monitors[0].logs[0].datetime: missing; found the keys 'id', 'type', "
        "'duration', 'reason'"
    )
    no_logs = json.loads(SMALL_API)
    del no_logs["monitors"][0]["logs"]
    path = write(tmp_path, "m.json", json.dumps(no_logs, indent=2))
    assert problem(path) == (
        f"{path}:9: monitors[0].logs: missing; request getMonitors with logs=1; found the "
        "keys 'id', 'friendly_name', 'url', 'type', 'interval', 'status', 'create_datetime'"
    )
    path = write(tmp_path, "m.json", '{"stat": "ok", "pagination": {}}')
    assert problem(path) == (
        f"{path}:1: expected an UptimeRobot getMonitors response, an object with a "
        "'monitors' list; found the keys 'stat', 'pagination'"
    )


def test_bad_json(tmp_path: Path) -> None:
    path = write(tmp_path, "m.json", SMALL_API.replace('/health",', '/health"'))
    assert problem(path) == f"{path}:9: expected valid JSON: Expecting ',' delimiter"


def test_unknown_monitor(tmp_path: Path) -> None:
    path = write(tmp_path, "m.json", SMALL_API.replace('"Network FRA"', '"Network AMS"'))
    assert problem(path) == (
        f"{path}:7: monitors[0].friendly_name: monitor 'Network AMS' is neither a service id "
        "nor a service name of contract hosting-pop; give --service or --map "
        "'Network AMS=SERVICE', or name the monitor after one of: network (Network FRA), "
        "power (Power uptime)"
    )


def test_monitor_named_like_two_services(tmp_path: Path) -> None:
    contract = hosting_contract()
    twins = contract.model_copy(
        update={
            "services": {
                sid: service.model_copy(update={"name": "Network FRA"})
                for sid, service in contract.services.items()
            }
        }
    )
    path = write(tmp_path, "m.json", SMALL_API)
    with pytest.raises(ObservationsError) as caught:
        read(path, twins)
    assert str(caught.value) == (
        f"{path}:7: monitors[0].friendly_name: monitor 'Network FRA' is the name of services "
        "network, power; give --map 'Network FRA=SERVICE'"
    )


def test_service_argument_needs_one_monitor(tmp_path: Path) -> None:
    page = json.loads(SMALL_API)
    page["monitors"].append({**page["monitors"][0], "friendly_name": "Power uptime"})
    path = write(tmp_path, "m.json", json.dumps(page, indent=2))
    assert problem(path, service="network") == (
        f"{path}:52: monitors[1].friendly_name: --service network maps one monitor, but the "
        "file has 2: 'Network FRA', 'Power uptime'; import each monitor on its own, or map "
        "each with --map"
    )


def test_two_monitors_for_one_service(tmp_path: Path) -> None:
    page = json.loads(SMALL_API)
    page["monitors"].append({**page["monitors"][0], "friendly_name": "network"})
    path = write(tmp_path, "m.json", json.dumps(page, indent=2))
    assert problem(path) == (
        f"{path}:52: monitors[1].friendly_name: monitors 'Network FRA' and 'network' both "
        "stand for service network; keep one of them in the file"
    )


# --- dashboard CSV ---------------------------------------------------------------------

DASHBOARD_CSV = (
    "Event,Monitor,Monitor URL,Date-Time,Reason,Duration (in mins.)\r\n"
    "Up,Network FRA,https://fra.example.net/health,2026-10-09 12:22:05,OK,1\r\n"
    "Down,Network FRA,https://fra.example.net/health,2026-10-09 12:15:05,"
    "Service Unavailable,7\r\n"
    "Up,Network FRA,https://fra.example.net/health,2026-10-09 11:58:00,OK,17\r\n"
    "Started,Network FRA,https://fra.example.net/health,2026-10-09 11:57:40,,0\r\n"
)

DASHBOARD_EXPECTED = [
    ("2026-10-09T09:58:00Z", "network", "fra", 0, ""),
    *[(f"2026-10-09T{h}:{m:02}:00Z", "network", "fra", 0, "") for h, m in [("09", 59)]],
    *[(f"2026-10-09T10:{m:02}:00Z", "network", "fra", 0, "") for m in range(16)],
    ("2026-10-09T10:15:05Z", "network", "fra", 503, "connect"),
    *[(f"2026-10-09T10:{m}:00Z", "network", "fra", 503, "connect") for m in range(16, 23)],
    ("2026-10-09T10:22:05Z", "network", "fra", 0, ""),
    ("2026-10-09T10:23:00Z", "network", "fra", 0, ""),
]


def test_dashboard_csv_in_local_time(tmp_path: Path) -> None:
    path = write(tmp_path, "uptimerobot-all_monitors-logs.csv", DASHBOARD_CSV)
    observations = read(path, timezone="Europe/Berlin", location="fra")
    # 12:15:05 in Berlin (CEST) is 10:15:05Z; a row lasts until the next one (its rounded
    # minutes only end the newest: 12:22:05 + 1 min)
    assert rows(observations) == DASHBOARD_EXPECTED


def test_dashboard_durations_in_hours_and_minutes(tmp_path: Path) -> None:
    text = (
        "\ufeffEvent,Monitor,Monitor URL,Date-Time,Reason,Duration (in mins.)\n"
        "Down,power,https://pdu.example.net,2026-10-09 10:15:05,Connection Timeout,"
        '"1 hrs, 2 mins"\n'
    )
    observations = read(write(tmp_path, "logs.csv", text), timezone="UTC")
    got = rows(observations)
    assert got[0] == ("2026-10-09T10:15:05Z", "power", "default", 0, "connect")
    assert got[-1] == ("2026-10-09T11:17:00Z", "power", "default", 0, "connect")
    assert len(got) == 1 + 62  # 10:16 … 11:17, until 11:17:05


def test_dashboard_pauses_are_no_data_and_minutes_without_seconds(tmp_path: Path) -> None:
    text = (
        "event,monitor,date-time,duration (in mins.)\n"
        "up,power,2026-10-09T10:03,1\n"
        "PAUSED,power,2026-10-09 10:01:30,\n"
        "Down,power,2026-10-09 10:00:30,1\n"
    )
    assert rows(read(write(tmp_path, "logs.csv", text), timezone="UTC")) == [
        ("2026-10-09T10:00:30Z", "power", "default", 0, "connect"),
        ("2026-10-09T10:01:00Z", "power", "default", 0, "connect"),
        ("2026-10-09T10:03:00Z", "power", "default", 0, ""),
    ]


def test_dashboard_csv_with_both_duration_columns(tmp_path: Path) -> None:
    text = (
        "Event,Monitor,Monitor URL,Date-Time,Reason,Duration,Duration (in mins.)\n"
        "Down,power,https://pdu.example.net,2026-10-09 10:15:05,500 Internal Server Error,"
        '"0 hrs, 2 mins",2\n'
    )
    got = rows(read(write(tmp_path, "logs.csv", text), timezone="UTC"))
    assert got == [
        ("2026-10-09T10:15:05Z", "power", "default", 500, "connect"),
        ("2026-10-09T10:16:00Z", "power", "default", 500, "connect"),
        ("2026-10-09T10:17:00Z", "power", "default", 500, "connect"),
    ]


def test_dashboard_csv_needs_the_timezone(tmp_path: Path) -> None:
    path = write(tmp_path, "logs.csv", DASHBOARD_CSV)
    assert problem(path) == (
        f"{path}:1: Date-Time: the UptimeRobot dashboard CSV has local times without an "
        "offset: give --timezone, the account's time zone (e.g. Europe/Berlin, or UTC)"
    )


def test_dashboard_csv_unknown_timezone(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        read(write(tmp_path, "logs.csv", DASHBOARD_CSV), timezone="CEST")
    assert str(caught.value) == (
        "--timezone: expected an IANA time zone like UTC or Europe/Berlin, got 'CEST'"
    )


def test_dashboard_bad_date_time(tmp_path: Path) -> None:
    path = write(
        tmp_path, "logs.csv", DASHBOARD_CSV.replace("2026-10-09 12:15:05", "10/09/2026 12:15")
    )
    assert problem(path, timezone="UTC") == (
        f"{path}:3: Date-Time: expected a local date and time like 2026-10-09 10:15:05 "
        "(no offset), got '10/09/2026 12:15'"
    )
    path = write(
        tmp_path, "logs.csv", DASHBOARD_CSV.replace("2026-10-09 12:15:05", "2026-02-30 12:15:05")
    )
    assert problem(path, timezone="UTC") == (
        f"{path}:3: Date-Time: expected a local date and time like 2026-10-09 10:15:05 "
        "(no offset), got '2026-02-30 12:15:05': no such date or time"
    )


def test_dashboard_times_the_clocks_skipped_or_repeated(tmp_path: Path) -> None:
    skipped = DASHBOARD_CSV.replace("2026-10-09 11:58:00", "2026-03-29 02:30:00")
    path = write(tmp_path, "logs.csv", skipped)
    assert problem(path, timezone="Europe/Berlin") == (
        f"{path}:4: Date-Time: '2026-03-29 02:30:00' does not exist in Europe/Berlin (the "
        "clocks skipped it); is --timezone the account's time zone?"
    )
    repeated = DASHBOARD_CSV.replace("2026-10-09 11:58:00", "2026-10-25 02:30:00")
    path = write(tmp_path, "logs.csv", repeated)
    assert problem(path, timezone="Europe/Berlin") == (
        f"{path}:4: Date-Time: '2026-10-25 02:30:00' happened twice in Europe/Berlin (the "
        "clocks went back); set the account's time zone to UTC, export again and import with "
        "--timezone UTC"
    )


def test_dashboard_bad_event_and_duration(tmp_path: Path) -> None:
    path = write(tmp_path, "logs.csv", DASHBOARD_CSV.replace("Started,", "SSL expiry,"))
    assert problem(path, timezone="UTC") == (
        f"{path}:5: Event: expected Up, Down, Started or Paused, got 'SSL expiry'"
    )
    path = write(tmp_path, "logs.csv", DASHBOARD_CSV.replace("OK,17", "OK,17 minutes and more"))
    assert problem(path, timezone="UTC") == (
        f"{path}:4: Duration (in mins.): expected minutes like 12, or a duration like "
        "'1 hrs, 2 mins', got '17 minutes and more'"
    )


def test_dashboard_missing_column_and_short_row(tmp_path: Path) -> None:
    path = write(tmp_path, "logs.csv", "Event,Monitor,Monitor URL,Reason\nUp,a,b,OK\n")
    assert problem(path, timezone="UTC") == (
        f"{path}:1: expected an UptimeRobot logs export with the columns Event, Monitor, "
        "Date-Time and Duration (in mins.); missing Date-Time, Duration (in mins.); the "
        "header has: 'Event', 'Monitor', 'Monitor URL', 'Reason'"
    )
    path = write(tmp_path, "logs.csv", DASHBOARD_CSV.replace(",OK,17", ",OK"))
    assert problem(path, timezone="UTC") == (
        f"{path}:4: expected 6 fields as in the header, found 5"
    )


def test_dashboard_unknown_monitor(tmp_path: Path) -> None:
    text = DASHBOARD_CSV + "Down,Mail relay,smtp://mx.example.net,2026-10-09 13:00:00,Timeout,3\r\n"
    path = write(tmp_path, "logs.csv", text)
    assert problem(path, timezone="UTC") == (
        f"{path}:6: Monitor: monitor 'Mail relay' is neither a service id nor a service name "
        "of contract hosting-pop; give --map 'Mail relay=SERVICE', or --skip-unmapped to leave "
        "it out; the services: network (Network FRA), power (Power uptime)"
    )


# --- read_import: arguments and the slaledger format -----------------------------------


def test_unknown_service_argument(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        read(write(tmp_path, "m.json", SMALL_API), service="netwrk")
    assert str(caught.value) == (
        "--service: unknown service 'netwrk'; the contract has: network, power"
    )


def test_slaledger_format_fills_empty_locations_sorts_and_dedupes(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "obs.csv",
        "timestamp,service,location,status,error\n"
        "2026-10-09T10:16:05Z,power,,200,\n"
        "2026-10-09T10:15:05Z,network,ams,200,\n"
        "2026-10-09T10:15:05Z,power,,,timeout\n"
        "2026-10-09T10:15:05Z,power,,200,\n",
    )
    observations = read_import(
        path, "slaledger", hosting_contract(), location="fra", timezone=None, service=None
    ).observations
    assert rows(observations) == [
        ("2026-10-09T10:15:05Z", "network", "ams", 200, ""),
        ("2026-10-09T10:15:05Z", "power", "fra", 0, "timeout"),  # the failing one is kept
        ("2026-10-09T10:16:05Z", "power", "fra", 200, ""),
    ]
    with pytest.raises(UsageError) as caught:
        read_import(
            path, "slaledger", hosting_contract(), location=None, timezone=None, service="power"
        )
    assert str(caught.value) == (
        "--service: does not apply to the slaledger format, whose rows name their service"
    )


def test_empty_export_is_no_observations(tmp_path: Path) -> None:
    path = write(tmp_path, "m.json", '{"stat": "ok", "monitors": []}')
    assert len(read(path)) == 0
    path = write(
        tmp_path, "logs.csv", "Event,Monitor,Monitor URL,Date-Time,Reason,Duration (in mins.)\n"
    )
    assert len(read(path, timezone="UTC")) == 0


def test_instants_are_utc_microseconds(tmp_path: Path) -> None:
    observations = read(write(tmp_path, "m.json", SMALL_API))
    assert int(observations.timestamp[0]) == int(
        datetime(2026, 10, 9, 10, 15, 5, tzinfo=UTC).timestamp() * 1_000_000
    )


# --- whole-account exports: --map and --skip-unmapped ----------------------------------


def account_api() -> str:
    """getMonitors of a whole account: four monitors, two of them in no contract."""
    page = json.loads(SMALL_API)
    monitor = page["monitors"][0]
    page["monitors"] = [
        {**monitor, "id": 777749801, "friendly_name": "My Web Page"},
        {**monitor, "id": 777749802, "friendly_name": "Mail relay", "url": "smtp.example.net"},
        {**monitor, "id": 777749803, "friendly_name": "Power uptime"},
        {**monitor, "id": 777749804, "friendly_name": "Blog", "url": "https://blog.example.net"},
    ]
    page["pagination"]["total"] = 4
    return json.dumps(page, indent=2)


def imported(path: Path, *monitor_map: str, skip: bool = False, **options: Any) -> ImportedFile:
    return read_import(
        path,
        options.pop("fmt", "uptimerobot"),
        hosting_contract(),
        location="fra",
        timezone=options.pop("timezone", None),
        service=options.pop("service", None),
        monitor_map=monitor_map,
        skip_unmapped=skip,
    )


def test_account_export_with_unmapped_monitors_is_refused_naming_them(tmp_path: Path) -> None:
    path = write(tmp_path, "account.json", account_api())
    with pytest.raises(ObservationsError) as caught:
        imported(path)
    assert str(caught.value) == (
        f"{path}:11: monitors[0].friendly_name: 3 monitors are neither service ids nor service "
        "names of contract hosting-pop: 'My Web Page', 'Mail relay', 'Blog'; give --map "
        "'My Web Page=SERVICE' for each, or --skip-unmapped to leave them out; the services: "
        "network (Network FRA), power (Power uptime)"
    )
    with pytest.raises(ObservationsError) as caught:
        imported(path, "My Web Page=network")
    assert str(caught.value) == (
        f"{path}:52: monitors[1].friendly_name: 2 monitors are neither service ids nor service "
        "names of contract hosting-pop: 'Mail relay', 'Blog'; give --map 'Mail relay=SERVICE' "
        "for each, or --skip-unmapped to leave them out; the services: network (Network FRA), "
        "power (Power uptime)"
    )


def test_map_and_skip_unmapped_read_the_account_export_unchanged(tmp_path: Path) -> None:
    path = write(tmp_path, "account.json", account_api())
    result = imported(path, "My Web Page=network", skip=True)
    assert result.skipped == ("Mail relay", "Blog")
    power = [(t, "power", loc, s, e) for t, _, loc, s, e in SMALL_EXPECTED]
    assert rows(result.observations) == SMALL_EXPECTED + power
    with pytest.raises(ObservationsError) as caught:
        imported(path, "My Web Page=network", "Mail relay=power", skip=True)
    assert str(caught.value) == (
        f"{path}:93: monitors[2].friendly_name: monitors 'Mail relay' and 'Power uptime' both "
        "stand for service power; keep one of them in the file"
    )


def test_map_and_skip_unmapped_in_the_dashboard_csv(tmp_path: Path) -> None:
    text = (
        DASHBOARD_CSV.replace("Network FRA", "My Web Page")
        + "Down,Mail relay,smtp://mx.example.net,2026-10-09 13:00:00,Timeout,3\r\n"
        + "Down,Blog,https://blog.example.net,2026-10-09 13:00:00,Timeout,3\r\n"
    )
    path = write(tmp_path, "logs.csv", text)
    with pytest.raises(ObservationsError) as caught:
        imported(path, "My Web Page=network", timezone="Europe/Berlin")
    assert str(caught.value) == (
        f"{path}:6: Monitor: 2 monitors are neither service ids nor service names of contract "
        "hosting-pop: 'Mail relay', 'Blog'; give --map 'Mail relay=SERVICE' for each, or "
        "--skip-unmapped to leave them out; the services: network (Network FRA), "
        "power (Power uptime)"
    )
    result = imported(path, "My Web Page=network", skip=True, timezone="Europe/Berlin")
    assert result.skipped == ("Mail relay", "Blog")
    assert rows(result.observations) == DASHBOARD_EXPECTED


@pytest.mark.parametrize(
    ("monitor_map", "options", "message"),
    [
        (("My Web Page",), {}, "--map: expected MONITOR NAME=SERVICE, got 'My Web Page'"),
        (("=network",), {}, "--map: expected MONITOR NAME=SERVICE, got '=network'"),
        (
            ("My Web Page=web",),
            {},
            "--map: unknown service 'web' in 'My Web Page=web'; the contract has: network, power",
        ),
        (
            ("My Web Page=network", "My Web Page=power"),
            {},
            "--map: monitor 'My Web Page' is mapped to network and to power",
        ),
        (
            ("My Web Pages=network",),
            {},
            "--map: the file has no monitor named 'My Web Pages'; its monitors: 'My Web Page', "
            "'Mail relay', 'Power uptime', 'Blog'",
        ),
        (
            ("My Web Page=network",),
            {"service": "network"},
            "--map: give either --service for the file's one monitor, or --map",
        ),
        (
            ("My Web Page=network",),
            {"fmt": "statuscake"},
            "--map: applies to UptimeRobot exports only; a statuscake file names no check: "
            "give --service",
        ),
        (
            ("My Web Page=network",),
            {"fmt": "slaledger"},
            "--map: applies to UptimeRobot exports only; a slaledger file names its services "
            "per row",
        ),
    ],
)
def test_bad_map_arguments(
    tmp_path: Path, monitor_map: tuple[str, ...], options: dict[str, Any], message: str
) -> None:
    path = write(tmp_path, "account.json", account_api())
    with pytest.raises(UsageError) as caught:
        imported(path, *monitor_map, **options)
    assert str(caught.value) == message


def test_skip_unmapped_applies_to_uptimerobot_only(tmp_path: Path) -> None:
    path = write(tmp_path, "account.json", account_api())
    with pytest.raises(UsageError) as caught:
        imported(path, skip=True, fmt="statuscake", service="network")
    assert str(caught.value) == (
        "--skip-unmapped: applies to UptimeRobot exports only; a statuscake file names no "
        "check: give --service"
    )
