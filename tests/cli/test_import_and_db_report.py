"""``slaledger import`` into a real store and ``report --db`` equal to ``report --probes``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import Run
from slaledger.store import schema
from slaledger.store.database import connect, migrate

HEADER = "timestamp,service,location,status,error,latency_ms,retry_after\n"


@pytest.mark.parametrize("contract", ["heft-io", "itstabyl", "hosting-pop"])
def test_db_report_equals_file_report_to_the_last_field(
    run_cli: Callable[..., Run], contracts: Path, demo_files: Path, store_url: str, contract: str
) -> None:
    path = contracts / f"{contract}.yaml"
    probes = demo_files / contract / "observations.csv"
    events = demo_files / contract / "events.yaml"
    imported = run_cli("import", path, probes, "--db", store_url)
    assert imported.code == 0, imported.err
    lines = sum(1 for _ in probes.open()) - 1
    assert (
        imported.out == f"{probes}: {lines} observations read, {lines} stored (0 already present)\n"
    )
    common = ("--events", events, "--month", "2026-10", "--format", "json")
    from_db = run_cli("report", path, "--db", store_url, *common)
    from_file = run_cli("report", path, "--probes", probes, *common)
    assert from_db.code == 0, from_db.err
    assert json.loads(from_db.out) == json.loads(from_file.out)


def test_importing_the_same_file_twice_stores_it_once(
    run_cli: Callable[..., Run], contracts: Path, tmp_path: Path
) -> None:
    probes = tmp_path / "probes.csv"
    probes.write_text(
        HEADER
        + "2026-10-01T01:40:05Z,network,fra,,connect,,\n"
        + "2026-10-01T01:47:37Z,network,fra,200,,12,\n"
    )
    db = f"sqlite:///{tmp_path / 'store.db'}"
    contract = contracts / "hosting-pop.yaml"
    first = run_cli("import", contract, probes, "--db", db)
    assert first.out == f"{probes}: 2 observations read, 2 stored (0 already present)\n"
    second = run_cli("import", contract, probes, "--db", db)
    assert second.out == f"{probes}: already imported; nothing stored\n"
    # The same rows under another file name are recognised row by row.
    copy = tmp_path / "copy.csv"
    copy.write_bytes(probes.read_bytes() + b"2026-10-01T01:48:37Z,network,fra,200,,12,\n")
    third = run_cli("import", contract, copy, "--db", db)
    assert third.out == f"{copy}: 3 observations read, 1 stored (2 already present)\n"
    report = run_cli("report", contract, "--db", db, "--month", "2026-10", "--format", "json")
    fra = json.loads(report.out)["results"][0]
    assert (fra["location"], fra["downtime_minutes"], fra["probes"]) == (
        "fra",
        8,
        {"up": 2, "down": 1, "excluded": 0},
    )


def test_bad_import_stores_nothing(
    run_cli: Callable[..., Run], contracts: Path, tmp_path: Path
) -> None:
    probes = tmp_path / "probes.csv"
    probes.write_text(
        HEADER + "2026-10-01T01:40:05Z,network,fra,,connect,,\nbad,network,fra,200,,,\n"
    )
    db = f"sqlite:///{tmp_path / 'store.db'}"
    run = run_cli("import", contracts / "hosting-pop.yaml", probes, "--db", db)
    assert run.code == 2
    assert run.err.startswith(f"error: {probes}:3: timestamp: expected an ISO 8601 instant")
    report = run_cli(
        "report",
        contracts / "hosting-pop.yaml",
        "--db",
        db,
        "--month",
        "2026-10",
        "--format",
        "json",
    )
    assert all(
        r["probes"] == {"up": 0, "down": 0, "excluded": 0}
        for r in json.loads(report.out)["results"]
    )


def test_report_needs_exactly_one_source(
    run_cli: Callable[..., Run], contracts: Path, tmp_path: Path
) -> None:
    run = run_cli("report", contracts / "hosting-pop.yaml", "--month", "2026-10")
    assert (run.code, run.err) == (
        2,
        "error: --probes: expected exactly one of --probes FILE or --db URL\n",
    )


def test_an_import_with_an_instant_out_of_bounds_or_an_undeclared_location_stores_nothing(
    run_cli: Callable[..., Run], contracts: Path, tmp_path: Path, store_url: str
) -> None:
    contract = contracts / "heft-io.yaml"
    before = tmp_path / "before.csv"
    before.write_text(
        HEADER
        + "2026-05-01T00:00:05Z,data-api,fra,200,,12,\n"
        + "2026-04-30T23:59:05Z,data-api,fra,200,,12,\n"
    )
    run = run_cli("import", contract, before, "--db", store_url)
    assert (run.code, run.out) == (2, "")
    assert run.err == (
        f"error: {before}:3: timestamp: 2026-04-30T23:59:05Z is before the contract's "
        "effective_from (2026-05-01T00:00:00Z); remove the lines before it\n"
    )
    ahead = tmp_path / "ahead.csv"
    ahead.write_text(HEADER + "2999-01-01T00:00:00Z,data-api,fra,200,,12,\n")
    run = run_cli("import", contract, ahead, "--db", store_url)
    assert run.code == 2
    assert run.err.startswith(f"error: {ahead}:2: timestamp: 2999-01-01T00:00:00Z is in the future")
    ghost = tmp_path / "ghost.csv"
    ghost.write_text(HEADER + "2026-10-01T00:00:05Z,data-api,ghost1,500,,12,\n")
    run = run_cli("import", contract, ghost, "--db", store_url)
    assert (run.code, run.err) == (
        2,
        f"error: {ghost}: location: location 'ghost1' is not a location of service data-api "
        "of contract heft-io (fra, ams, hel)\n",
    )
    engine = connect(store_url)
    migrate(engine)  # the refused imports did not even create the schema
    with engine.connect() as connection:
        for table in (schema.observations, schema.segments, schema.ingest_batches):
            assert connection.execute(select(func.count()).select_from(table)).scalar_one() == 0
    engine.dispose()


def _account_export(tmp_path: Path) -> Path:
    """An UptimeRobot getMonitors export of a whole account: four monitors, two in no contract."""
    logs = [
        {"id": 2, "type": 2, "datetime": 1791541325, "duration": 95, "reason": {"code": "200"}},
        {"id": 1, "type": 1, "datetime": 1791540905, "duration": 420, "reason": {"code": "503"}},
    ]
    names = ["My Web Page", "Mail relay", "power", "Blog"]
    monitors = [
        {"id": 777749800 + n, "friendly_name": name, "type": 1, "interval": 60, "logs": logs}
        for n, name in enumerate(names)
    ]
    path = tmp_path / "account.json"
    path.write_text(json.dumps({"stat": "ok", "monitors": monitors}, indent=2))
    return path


def test_whole_account_export_needs_map_or_skip_unmapped(
    run_cli: Callable[..., Run], contracts: Path, tmp_path: Path
) -> None:
    export = _account_export(tmp_path)
    contract = contracts / "hosting-pop.yaml"
    db = f"sqlite:///{tmp_path / 'store.db'}"
    common = ("--db", db, "--format", "uptimerobot", "--location", "fra")
    refused = run_cli("import", contract, export, *common)
    assert (refused.code, refused.out) == (2, "")
    assert refused.err == (
        f"error: {export}:6: monitors[0].friendly_name: 3 monitors are neither service ids "
        "nor service names of contract hosting-pop: 'My Web Page', 'Mail relay', 'Blog'; give "
        "--map 'My Web Page=SERVICE' for each, or --skip-unmapped to leave them out; the "
        "services: network (Network uptime (per PoP)), power (Power uptime (per PoP))\n"
    )
    run = run_cli(
        "import", contract, export, *common, "--map", "My Web Page=network", "--skip-unmapped"
    )
    assert run.code == 0, run.err
    assert run.out == (
        f"{export}: skipped monitor 'Mail relay': it stands for no service\n"
        f"{export}: skipped monitor 'Blog': it stands for no service\n"
        f"{export}: 20 observations read, 20 stored (0 already present)\n"
    )
    report = run_cli("report", contract, "--db", db, "--month", "2026-10", "--format", "json")
    downtime = {
        (r["service"], r["location"]): r["downtime_minutes"]
        for r in json.loads(report.out)["results"]
    }
    assert downtime == {("network", "fra"): 7, ("power", "fra"): 7}
