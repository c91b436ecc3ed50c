import json
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import Run

HEADER = "timestamp,service,location,status,error,latency_ms,retry_after\n"


@pytest.fixture
def probes(tmp_path: Path) -> Path:
    path = tmp_path / "probes.csv"
    path.write_text(
        HEADER
        + "2026-10-01T01:40:05Z,network,fra,,connect,,\n"
        + "2026-10-01T01:41:05Z,network,fra,,connect,,\n"
        + "2026-10-01T01:47:37Z,network,fra,200,,12,\n"
        + "2026-10-01T01:40:05Z,network,ams,200,,12,\n"
    )
    return path


def test_report_json_follows_the_spec(
    run_cli: Callable[..., Run], contracts: Path, probes: Path
) -> None:
    run = run_cli(
        "report",
        contracts / "hosting-pop.yaml",
        "--probes",
        probes,
        "--month",
        "2026-10",
        "--format",
        "json",
    )
    assert run.code == 0, run.err
    report = json.loads(run.out)
    assert report["contract"] == "hosting-pop"
    assert report["period"] == {"start": "2026-10-01T00:00:00Z", "end": "2026-11-01T00:00:00Z"}
    fra = report["results"][1]
    assert fra == {
        "service": "network",
        "location": "fra",
        "rule": "first-fail-to-first-success",
        "target": "99.99",
        "total_minutes": 44640,
        "downtime_minutes": 8,
        "excluded_minutes": 0,
        "availability": "99.982079",
        "met": False,
        "credit_percent": 10,
        "probes": {"up": 1, "down": 2, "excluded": 0},
        "episodes": [
            {
                "start": "2026-10-01T01:40:05Z",
                "end": "2026-10-01T01:47:37Z",
                "counted_minutes": 8,
                "status": "counted",
                "reason": "down 7m32s from first failed to first successful probe; "
                "7m32s counted, rounded up to 8 min",
            }
        ],
    }
    assert [(r["service"], r["location"]) for r in report["results"]] == [
        ("network", "ams"),
        ("network", "fra"),
        ("power", None),
    ]


def test_report_table_lists_counted_episodes(
    run_cli: Callable[..., Run], contracts: Path, probes: Path
) -> None:
    run = run_cli(
        "report", contracts / "hosting-pop.yaml", "--probes", probes, "--month", "2026-10"
    )
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0] == "hosting-pop  2026-10-01T00:00:00Z -> 2026-11-01T00:00:00Z"
    fra = next(i for i, line in enumerate(lines) if line.startswith("network  fra"))
    assert lines[fra].split() == [
        "network",
        "fra",
        "first-fail-to-first-success",
        "99.982079",
        "%",
        "99.99",
        "%",
        "NO",
        "10",
        "%",
        "8",
        "0",
        "1/2/0",
    ]
    assert lines[fra + 1].startswith(
        "    2026-10-01T01:40:05Z -> 2026-10-01T01:47:37Z  counted, 8 min: down 7m32s"
    )
    power = next(line for line in lines if line.startswith("power"))
    assert "no data" in power


def test_report_csv(run_cli: Callable[..., Run], contracts: Path, probes: Path) -> None:
    run = run_cli(
        "report",
        contracts / "hosting-pop.yaml",
        "--probes",
        probes,
        "--month",
        "2026-10",
        "--format",
        "csv",
    )
    lines = run.out.splitlines()
    assert lines[0].startswith("contract,service,location,rule,period_start,period_end,target,")
    assert lines[2] == (
        "hosting-pop,network,fra,first-fail-to-first-success,2026-10-01T00:00:00Z,"
        "2026-11-01T00:00:00Z,99.99,44640,8,0,99.982079,false,10,1,2,0,1,1"
    )


@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("2026-1", "error: --month: expected a month as YYYY-MM, e.g. 2026-10, got '2026-1'"),
        ("Oct 2026", "error: --month: expected a month as YYYY-MM, e.g. 2026-10, got 'Oct 2026'"),
    ],
)
def test_month_in_the_wrong_form(
    run_cli: Callable[..., Run], contracts: Path, probes: Path, month: str, message: str
) -> None:
    run = run_cli("report", contracts / "hosting-pop.yaml", "--probes", probes, "--month", month)
    assert (run.code, run.out, run.err) == (2, "", message + "\n")


def test_bad_row_names_file_line_and_field(
    run_cli: Callable[..., Run], contracts: Path, tmp_path: Path
) -> None:
    path = tmp_path / "probes.csv"
    path.write_text(
        HEADER + "2026-10-01T01:40:05Z,network,fra,200,,,\n2026-10-01 01:41,network,fra,200,,,\n"
    )
    run = run_cli("report", contracts / "hosting-pop.yaml", "--probes", path, "--month", "2026-10")
    assert run.code == 2
    assert run.err == (
        f"error: {path}:3: timestamp: expected an ISO 8601 instant with Z or an offset, "
        "e.g. 2026-10-01T00:00:00Z, got '2026-10-01 01:41'\n"
    )


def test_unknown_service(run_cli: Callable[..., Run], contracts: Path, tmp_path: Path) -> None:
    path = tmp_path / "probes.csv"
    path.write_text(HEADER + "2026-10-01T01:40:05Z,dns,fra,200,,,\n")
    run = run_cli("report", contracts / "hosting-pop.yaml", "--probes", path, "--month", "2026-10")
    assert run.code == 2
    assert run.err == (
        f"error: {path}:2: service: unknown service 'dns'; the contract has: network, power\n"
    )


def test_cause_the_contract_does_not_allow(
    run_cli: Callable[..., Run], contracts: Path, probes: Path, tmp_path: Path
) -> None:
    events = tmp_path / "events.yaml"
    events.write_text(
        "exclusions:\n"
        "  - {services: [network], start: 2026-10-02T00:00:00Z, end: 2026-10-02T01:00:00Z,\n"
        "     cause: force-majeure}\n"
    )
    run = run_cli(
        "report",
        contracts / "hosting-pop.yaml",
        "--probes",
        probes,
        "--events",
        events,
        "--month",
        "2026-10",
    )
    assert run.code == 2
    assert run.err == (
        f"error: {events}:3: exclusions[0].cause: contract 'hosting-pop' does not let service "
        "'network' exclude cause 'force-majeure' (allowed: none)\n"
    )


def test_window_end_not_after_start(
    run_cli: Callable[..., Run], contracts: Path, probes: Path, tmp_path: Path
) -> None:
    events = tmp_path / "events.yaml"
    events.write_text(
        "maintenance:\n"
        "  - services: '*'\n"
        "    start: 2026-10-14T02:00:00Z\n"
        "    end: 2026-10-14T02:00:00Z\n"
        "    announced: 2026-10-10T09:00:00Z\n"
    )
    run = run_cli(
        "report",
        contracts / "hosting-pop.yaml",
        "--probes",
        probes,
        "--events",
        events,
        "--month",
        "2026-10",
    )
    assert run.code == 2
    assert run.err.startswith(f"error: {events}:4: maintenance[0].end: ")
    assert run.err.count("\n") == 1


def test_scheduled_maintenance_cuts_downtime(
    run_cli: Callable[..., Run], contracts: Path, probes: Path, tmp_path: Path
) -> None:
    events = tmp_path / "events.yaml"
    events.write_text(
        "maintenance:\n"
        "  - {services: '*', start: 2026-10-01T01:42:00Z, end: 2026-10-01T01:45:00Z,\n"
        "     announced: 2026-09-28T09:00:00Z, title: Router swap}\n"
    )
    run = run_cli(
        "report",
        contracts / "hosting-pop.yaml",
        "--probes",
        probes,
        "--events",
        events,
        "--month",
        "2026-10",
        "--format",
        "json",
    )
    fra = json.loads(run.out)["results"][1]
    # 7m32s less the 3 scheduled minutes leaves 4m32s: 5 minutes.
    assert (fra["downtime_minutes"], fra["excluded_minutes"], fra["availability"]) == (
        5,
        3,
        "99.988799",
    )


def test_a_month_before_effective_from_is_not_settled(
    run_cli: Callable[..., Run], contracts: Path, tmp_path: Path
) -> None:
    path = tmp_path / "heft.csv"
    path.write_text(HEADER + "2026-04-10T00:00:05Z,data-api,fra,200,,12,\n")
    run = run_cli("report", contracts / "heft-io.yaml", "--probes", path, "--month", "2026-04")
    assert (run.code, run.out) == (2, "")
    assert run.err == (
        "error: contract heft-io is in force from 2026-05-01T00:00:00Z (effective_from); "
        "2026-04-01T00:00:00Z to 2026-05-01T00:00:00Z is before it\n"
    )
