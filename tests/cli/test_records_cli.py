"""``slaledger records import`` into a real store: all or nothing, idempotent, later
versions replacing earlier ones; ``report --db`` settling the commitments from the store."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import Run

TICKET = (
    '{"kind": "ticket", "id": "T-1", "customer": "acme", "severity": "tier-1", '
    '"opened": "2026-10-05T09:00:00Z", "responses": [{"at": "2026-10-05T09:01:00Z", "by": "auto"}]}'
)
ANSWERED = TICKET.replace(
    '"by": "auto"}]', '"by": "auto"}, {"at": "2026-10-05T09:40:00Z", "by": "human"}]'
)
SWAP = (
    '{"kind": "hardware-swap", "id": "HW-7", "location": "fra", '
    '"diagnosed": "2026-10-07T10:00:00Z", "replaced": "2026-10-07T13:00:00Z"}'
)


def test_import_counts_new_unchanged_and_replaced_records(
    run_cli: Callable[..., Run], contracts: Path, tmp_path: Path
) -> None:
    contract = contracts / "hosting-pop.yaml"
    db = f"sqlite:///{tmp_path / 'store.db'}"
    records = tmp_path / "records.jsonl"
    records.write_text(f"{TICKET}\n\n{SWAP}\n")
    first = run_cli("records", "import", contract, records, "--db", db)
    assert (first.code, first.err) == (0, "")
    assert first.out == f"{records}: 2 records read: 2 new, 0 replaced, 0 unchanged\n"
    again = run_cli("records", "import", contract, records, "--db", db)
    assert again.out == f"{records}: 2 records read: 0 new, 0 replaced, 2 unchanged\n"
    records.write_text(f"{ANSWERED}\n{SWAP}\n")
    later = run_cli("records", "import", contract, records, "--db", db, "--as", "alice")
    assert later.out == f"{records}: 2 records read: 0 new, 1 replaced, 1 unchanged\n"


def test_a_bad_line_stores_nothing_of_the_file(
    run_cli: Callable[..., Run], contracts: Path, tmp_path: Path
) -> None:
    contract = contracts / "hosting-pop.yaml"
    db = f"sqlite:///{tmp_path / 'store.db'}"
    records = tmp_path / "records.jsonl"
    bad = SWAP.replace('"replaced": "2026-10-07T13:00:00Z"', '"replaced": "2026-10-07T09:00:00Z"')
    records.write_text(f"{TICKET}\n{bad}\n")
    run = run_cli("records", "import", contract, records, "--db", db)
    assert (run.code, run.out) == (2, "")
    assert run.err == (
        f"error: {records}:2: replaced: expected an instant at or after diagnosed "
        "(2026-10-07T10:00:00Z), got 2026-10-07T09:00:00Z\n"
    )
    records.write_text(f"{TICKET}\n")
    fine = run_cli("records", "import", contract, records, "--db", db)
    assert fine.out == f"{records}: 1 records read: 1 new, 0 replaced, 0 unchanged\n"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            SWAP.replace('"fra"', '"par"'),
            "location: location 'par' is not a location of contract hosting-pop (fra, ams, lon)",
        ),
        (
            '{"kind": "outage", "service": "cooling", "location": "fra", '
            '"start": "2026-10-10T01:00:00Z", "end": "2026-10-10T01:20:00Z"}',
            "service: expected a service of contract hosting-pop (network, power), got 'cooling'",
        ),
        (
            TICKET,
            "id: expected each ticket once, got 'T-1' again (first at #0)",
        ),
    ],
)
def test_a_record_the_contract_does_not_declare_is_refused_naming_its_line(
    run_cli: Callable[..., Run], contracts: Path, tmp_path: Path, line: str, expected: str
) -> None:
    contract = contracts / "hosting-pop.yaml"
    db = f"sqlite:///{tmp_path / 'store.db'}"
    records = tmp_path / "records.jsonl"
    records.write_text(f"{TICKET}\n{line}\n")
    run = run_cli("records", "import", contract, records, "--db", db)
    assert (run.code, run.out, run.err) == (2, "", f"error: {records}:2: {expected}\n")


def test_a_record_from_the_future_is_refused_naming_its_line(
    run_cli: Callable[..., Run], contracts: Path, tmp_path: Path
) -> None:
    contract = contracts / "hosting-pop.yaml"
    db = f"sqlite:///{tmp_path / 'store.db'}"
    records = tmp_path / "records.jsonl"
    records.write_text(f"{TICKET}\n{SWAP.replace('2026-10-07T13', '2099-10-07T13')}\n")
    run = run_cli("records", "import", contract, records, "--db", db)
    assert (run.code, run.out) == (2, "")
    assert run.err.startswith(
        f"error: {records}:2: replaced: expected an instant at or before now ("
    )
    assert run.err.endswith("), got 2099-10-07T13:00:00Z\n")


def test_db_report_settles_commitments_from_stored_records_like_the_records_file(
    run_cli: Callable[..., Run], contracts: Path, demo_files: Path, store_url: str
) -> None:
    path = contracts / "hosting-pop.yaml"
    folder = demo_files / "hosting-pop"
    records = folder / "records.jsonl"
    assert run_cli("import", path, folder / "observations.csv", "--db", store_url).code == 0
    stored = run_cli("records", "import", path, records, "--db", store_url)
    assert stored.code == 0, stored.err
    count = sum(1 for line in records.open() if line.strip())
    assert stored.out == f"{records}: {count} records read: {count} new, 0 replaced, 0 unchanged\n"
    common = ("--events", folder / "events.yaml", "--month", "2026-10", "--format", "json")
    from_db = run_cli("report", path, "--db", store_url, *common)
    from_files = run_cli(
        "report", path, "--probes", folder / "observations.csv", "--records", records, *common
    )
    assert from_db.code == 0, from_db.err
    assert json.loads(from_db.out) == json.loads(from_files.out)
    assert json.loads(from_db.out)["commitments"]
