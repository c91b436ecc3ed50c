"""``slaledger retain`` and ``slaledger statement``: years of minute runs, exact figures."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import Run

AFTER_RETENTION = "2028-01-01T00:00:00Z"
"""Far enough after October 2026 that 400 days of raw retention have passed."""


@pytest.mark.parametrize("contract", ["heft-io", "itstabyl", "hosting-pop"])
def test_a_month_settles_the_same_after_raw_data_is_pruned(
    run_cli: Callable[..., Run], contracts: Path, demo_files: Path, store_url: str, contract: str
) -> None:
    path = contracts / f"{contract}.yaml"
    events = demo_files / contract / "events.yaml"
    assert (
        run_cli("import", path, demo_files / contract / "observations.csv", "--db", store_url).code
        == 0
    )
    report = ("report", path, "--db", store_url, "--events", events, "--month", "2026-10")
    before = run_cli(*report, "--format", "json")
    assert before.code == 0, before.err

    issued = run_cli(
        "statement",
        "issue",
        path,
        "--db",
        store_url,
        "--events",
        events,
        "--month",
        "2026-10",
        "--at",
        "2026-11-02T00:00:00Z",
    )
    assert issued.code == 0, issued.err
    name = json.loads(before.out)["contract"]
    assert issued.out.startswith(f"statement {name} 2026-10 issued at 2026-11-02T00:00:00Z; ")

    kept = run_cli("retain", path, "--db", store_url, "--at", AFTER_RETENTION)
    assert kept.code == 0, kept.err
    assert kept.out.startswith("3") or kept.out.split()[0].isdigit()
    rolled = int(kept.out.split()[0])
    assert rolled >= 31  # every day of October (and the demo's margin days) became runs

    after = run_cli(*report, "--format", "json")
    assert after.code == 0, after.err
    assert after.out == before.out

    shown = run_cli("statement", "show", path, "--db", store_url, "--month", "2026-10")
    assert shown.out == before.out
    again = run_cli(
        "statement", "issue", path, "--db", store_url, "--events", events, "--month", "2026-10"
    )
    assert " already issued at 2026-11-02T00:00:00Z" in again.out

    pruned = run_cli(
        "retain",
        path,
        "--db",
        store_url,
        "--at",
        "2032-01-01T00:00:00Z",
    )
    assert pruned.out.startswith("0 days of raw observations kept as minute runs; ")
    gone = run_cli(*report, "--format", "json")
    assert all(r["availability"] is None for r in json.loads(gone.out)["results"])
    # The statement outlives every observation it was settled from.
    assert (
        run_cli("statement", "show", path, "--db", store_url, "--month", "2026-10").out
        == before.out
    )


def test_a_window_edge_inside_a_pruned_minute_is_refused(
    run_cli: Callable[..., Run], contracts: Path, tmp_path: Path
) -> None:
    probes = tmp_path / "probes.csv"
    probes.write_text(
        "timestamp,service,location,status,error\n"
        "2026-10-05T10:00:05Z,api,fra,200,\n"
        "2026-10-05T10:00:45Z,api,fra,200,\n"
    )
    contract = tmp_path / "c.yaml"
    contract.write_text(
        'contract: c\nname: C\nservices:\n  api:\n    name: API\n    target: "99.9"\n'
        "    downtime:\n      rule: probe-ratio\n    excludable_causes: [force-majeure]\n"
    )
    events = tmp_path / "events.yaml"
    events.write_text(
        "exclusions:\n  - services: api\n    start: 2026-10-05T10:00:30Z\n"
        "    end: 2026-10-05T11:00:00Z\n    cause: force-majeure\n"
    )
    db = f"sqlite:///{tmp_path / 'store.db'}"
    assert run_cli("import", contract, probes, "--db", db).code == 0
    assert run_cli("retain", contract, "--db", db, "--at", AFTER_RETENTION).code == 0
    refused = run_cli("report", contract, "--db", db, "--events", events, "--month", "2026-10")
    assert refused.code == 2
    assert refused.err == (
        "error: cannot settle exactly from the long-term tier: api at fra: the edge "
        "2026-10-05T10:00:30Z falls inside the minute whose observations "
        "(2026-10-05T10:00:05Z to 2026-10-05T10:00:45Z) are kept only as a count; settle "
        "with period and window edges on whole minutes, or while raw observations are kept\n"
    )
    whole = run_cli("report", contract, "--db", db, "--month", "2026-10", "--format", "json")
    assert json.loads(whole.out)["results"][0]["probes"] == {"up": 2, "down": 0, "excluded": 0}


def test_changed_outcome_rules_cannot_reclassify_pruned_months(
    run_cli: Callable[..., Run], tmp_path: Path
) -> None:
    probes = tmp_path / "probes.csv"
    probes.write_text(
        "timestamp,service,location,status,error\n2026-10-05T10:00:05Z,api,fra,404,\n"
    )
    contract = tmp_path / "c.yaml"
    base = (
        'contract: c\nname: C\nservices:\n  api:\n    name: API\n    target: "99.9"\n'
        "    downtime:\n      rule: probe-ratio\n"
    )
    contract.write_text(base)
    db = f"sqlite:///{tmp_path / 'store.db'}"
    assert run_cli("import", contract, probes, "--db", db).code == 0
    assert run_cli("retain", contract, "--db", db, "--at", AFTER_RETENTION).code == 0
    contract.write_text(base + "    outcomes:\n      - {match: {status: 404}, outcome: down}\n")
    refused = run_cli("report", contract, "--db", db, "--month", "2026-10")
    assert refused.code == 2
    assert refused.err == (
        "error: c: services.api.outcomes: expected the outcome rules these months' minute "
        "runs were classified with; their raw observations are pruned, so they cannot be "
        "classified again under changed rules\n"
    )


def test_retention_options_are_checked(
    run_cli: Callable[..., Run], contracts: Path, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'store.db'}"
    bad = run_cli(
        "retain",
        contracts / "heft-io.yaml",
        "--db",
        db,
        "--raw-days",
        "500",
        "--minute-days",
        "100",
    )
    assert bad.code == 2
    assert bad.err == "error: --raw-days: expected 62 <= raw days <= minute days, got 500 and 100\n"
    early = run_cli(
        "statement",
        "issue",
        contracts / "heft-io.yaml",
        "--db",
        db,
        "--month",
        "2026-10",
        "--at",
        "2026-10-31T12:00:00Z",
    )
    assert early.code == 2
    assert early.err == "error: --month: expected a month that is over; 2026-10 is not\n"


def test_rows_for_a_day_kept_as_minute_runs_are_not_counted_twice(
    run_cli: Callable[..., Run], tmp_path: Path
) -> None:
    contract = tmp_path / "c.yaml"
    contract.write_text(
        "contract: c\nname: C\nservices:\n"
        '  a:\n    name: A\n    target: "99.9"\n    downtime:\n      rule: probe-ratio\n'
        '  b:\n    name: B\n    target: "99.9"\n    downtime:\n      rule: probe-ratio\n'
    )
    header = "timestamp,service,location,status,error\n"
    first = tmp_path / "first.csv"
    first.write_text(
        header
        + "".join(
            f"2026-10-05T10:{m:02d}:05Z,{s},fra,200,\n" for m in range(10) for s in ("a", "b")
        )
    )
    db = f"sqlite:///{tmp_path / 'store.db'}"
    assert run_cli("import", contract, first, "--db", db).code == 0
    assert run_cli("retain", contract, "--db", db, "--at", AFTER_RETENTION).code == 0
    late = tmp_path / "late.csv"
    late.write_text(header + "".join(f"2026-10-05T11:{m:02d}:05Z,a,fra,500,\n" for m in range(10)))
    again = run_cli("import", contract, late, "--db", db)
    assert again.out == f"{late}: 10 observations read, 0 stored (10 already present)\n"
    assert run_cli("retain", contract, "--db", db, "--at", AFTER_RETENTION).code == 0
    report = run_cli("report", contract, "--db", db, "--month", "2026-10", "--format", "json")
    probes = [r["probes"] for r in json.loads(report.out)["results"]]
    assert probes == [{"up": 10, "down": 0, "excluded": 0}] * 2
