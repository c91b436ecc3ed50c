"""The figures job on a real store: statements, month and day figures, exact."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import pytest

from conftest import Run
from slaledger.app import open_stores
from slaledger.core.commitments import RecordSet, calendar_names
from slaledger.core.events import Events
from slaledger.core.timebase import to_instant
from slaledger.files.business_calendars import calendar_of
from slaledger.files.contract_file import load_contract
from slaledger.files.events_file import load_events
from slaledger.status.figures_job import FiguresJob
from slaledger.store.database import connect
from slaledger.store.figure_store import FigureStore
from slaledger.store.record_store import RecordStore


def instant(text: str) -> int:
    return to_instant(datetime.fromisoformat(text.replace("Z", "+00:00")))


def _run_until_done(job: FiguresJob, now: int) -> int:
    rounds = 0
    while job.due(now):
        job.run(now)
        rounds += 1
        assert rounds < 50
    return rounds


@pytest.mark.parametrize("name", ["heft-io", "itstabyl", "hosting-pop"])
def test_statement_and_figures_equal_the_report(
    run_cli: Callable[..., Run], contracts: Path, demo_files: Path, store_url: str, name: str
) -> None:
    path = contracts / f"{name}.yaml"
    events_path = demo_files / name / "events.yaml"
    assert (
        run_cli("import", path, demo_files / name / "observations.csv", "--db", store_url).code == 0
    )
    contract = load_contract(path)
    events = load_events(events_path, contract)
    stores = open_stores(store_url)
    figures = FigureStore(connect(store_url), contract.contract)
    job = FiguresJob(contract, stores, figures, lambda: events)

    # Inside the grace day: figures, but no statement yet.
    job.run(instant("2026-11-01T12:00:00Z"))
    assert stores.statements.get(contract.contract, "2026-10") is None
    october = [f for f in figures.load("2026-10", "2026-10") if f.period == "2026-10"]
    assert october
    assert not any(f.settled for f in october)

    now = instant("2026-11-05T00:00:00Z")
    _run_until_done(job, now)
    statement = stores.statements.get(contract.contract, "2026-10")
    assert statement is not None
    report = run_cli(
        "report",
        path,
        "--db",
        store_url,
        "--events",
        events_path,
        "--month",
        "2026-10",
        "--format",
        "json",
    )
    assert statement.document == report.out
    settled = [f for f in figures.load("2026-10", "2026-10") if f.period == "2026-10"]
    assert all(f.settled for f in settled)
    for result in json.loads(report.out)["results"]:
        figure = next(
            f for f in settled if (f.service, f.location) == (result["service"], result["location"])
        )
        assert figure.downtime_minutes == result["downtime_minutes"]
        shown = None if figure.availability is None else f"{float(figure.availability):.6f}"
        assert shown == (
            None if result["availability"] is None else f"{float(result['availability']):.6f}"
        )
        assert figure.credit_percent == result["credit_percent"]
    days = {f.period for f in figures.load("2026-10-01", "2026-10-31") if len(f.period) == 10}
    assert len(days) == 31
    # Settled figures are never replaced, even when the windows change.
    job.events = Events
    _run_until_done(job, now)
    assert [f for f in figures.load("2026-10", "2026-10") if f.period == "2026-10"] == settled


def test_day_figures_of_a_continuous_failure_service_add_up_to_the_month(
    run_cli: Callable[..., Run], contracts: Path, demo_files: Path, tmp_path: Path
) -> None:
    path = contracts / "heft-io.yaml"
    db = f"sqlite:///{tmp_path / 'store.db'}"
    assert (
        run_cli("import", path, demo_files / "heft-io" / "observations.csv", "--db", db).code == 0
    )
    contract = load_contract(path)
    events = load_events(demo_files / "heft-io" / "events.yaml", contract)
    figures = FigureStore(connect(db), contract.contract)
    job = FiguresJob(contract, open_stores(db), figures, lambda: events)
    _run_until_done(job, instant("2026-11-05T00:00:00Z"))
    for service in contract.services:
        rows = [
            f
            for f in figures.load("2026-10-01", "2026-10-31")
            if f.service == service and f.location is None and len(f.period) == 10
        ]
        month = next(
            f
            for f in figures.load("2026-10", "2026-10")
            if f.period == "2026-10" and f.service == service and f.location is None
        )
        assert sum(f.downtime_minutes or 0 for f in rows) == month.downtime_minutes
        assert all(isinstance(f.availability, Fraction) for f in rows)


def test_a_day_is_settled_again_once_its_late_probes_are_in(
    run_cli: Callable[..., Run], contracts: Path, demo_files: Path, tmp_path: Path
) -> None:
    path = contracts / "itstabyl.yaml"
    db = f"sqlite:///{tmp_path / 'store.db'}"
    probes = demo_files / "itstabyl" / "observations.csv"
    assert run_cli("import", path, probes, "--db", db).code == 0
    contract = load_contract(path)
    job = FiguresJob(contract, open_stores(db), FigureStore(connect(db), contract.contract), Events)
    _run_until_done(job, instant("2026-10-31T00:30:00Z"))
    # 2026-10-30 was settled half an hour after it ended; a day's grace later, once more.
    assert "2026-10-30" not in [label for label, _ in job.due(instant("2026-10-31T23:00:00Z"))]
    again = [label for label, _ in job.due(instant("2026-11-01T00:30:00Z"))]
    assert "2026-10-30" in again
    _run_until_done(job, instant("2026-11-01T00:30:00Z"))
    assert "2026-10-30" not in [label for label, _ in job.due(instant("2026-11-01T01:00:00Z"))]


@pytest.mark.parametrize("name", ["itstabyl", "hosting-pop"])
def test_the_statement_of_a_month_includes_its_commitments_and_outages(
    run_cli: Callable[..., Run], contracts: Path, demo_files: Path, store_url: str, name: str
) -> None:
    path = contracts / f"{name}.yaml"
    events_path = demo_files / name / "events.yaml"
    records_path = demo_files / name / "records.jsonl"
    for command in (
        ("import", path, demo_files / name / "observations.csv", "--db", store_url),
        ("records", "import", path, records_path, "--db", store_url),
    ):
        run = run_cli(*command)
        assert run.code == 0, run.err
    contract = load_contract(path)
    events = load_events(events_path, contract)
    stores = open_stores(store_url)
    figures = FigureStore(connect(store_url), contract.contract)
    stored = RecordStore(stores.engine)
    calendars = {name: calendar_of(contract, name) for name in calendar_names(contract)}
    job = FiguresJob(
        contract,
        stores,
        figures,
        lambda: events,
        records=lambda: RecordSet.of(stored.records(contract.contract, 0, 2**62)),
        calendars=calendars,
    )
    _run_until_done(job, instant("2026-11-05T00:00:00Z"))
    statement = stores.statements.get(contract.contract, "2026-10")
    assert statement is not None
    report = run_cli(
        "report",
        path,
        "--db",
        store_url,
        "--events",
        events_path,
        "--month",
        "2026-10",
        "--format",
        "json",
    )
    assert report.code == 0, report.err
    assert statement.document == report.out
    from_file = run_cli(
        "report",
        path,
        "--probes",
        demo_files / name / "observations.csv",
        "--events",
        events_path,
        "--records",
        records_path,
        "--month",
        "2026-10",
        "--format",
        "json",
    )
    assert json.loads(statement.document) == json.loads(from_file.out)
    commitments = json.loads(statement.document)["commitments"]
    assert [c["commitment"] for c in commitments] == list(contract.commitments)


def test_months_catching_up_are_issued_oldest_first_chained_and_signed(
    run_cli: Callable[..., Run], contracts: Path, demo_files: Path, store_url: str
) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from slaledger.core.statement_chain import read_statement_file, verify_chain
    from slaledger.files.signing_key import PublicKey, SigningKey

    key = SigningKey(Ed25519PrivateKey.from_private_bytes(bytes(range(32))))
    path = contracts / "heft-io.yaml"
    observations = demo_files / "heft-io" / "observations.csv"
    assert run_cli("import", path, observations, "--db", store_url).code == 0
    contract = load_contract(path)
    stores = open_stores(store_url)
    figures = FigureStore(connect(store_url), contract.contract)
    job = FiguresJob(contract, stores, figures, Events, signer=key)
    _run_until_done(job, instant("2027-02-05T00:00:00Z"))
    chain = stores.statements.months(contract.contract)
    assert [(s.month, s.previous_month) for s in chain] == [
        ("2026-10", None),
        ("2026-11", "2026-10"),
        ("2026-12", "2026-11"),
        ("2027-01", "2026-12"),
    ]
    files = [read_statement_file(s.month, s.file_bytes()) for s in chain]
    checks = {key.key_id: PublicKey(key.private.public_key()).check}
    assert len(verify_chain(files, checks)) == 4
