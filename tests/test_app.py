"""The composition root: use-cases called as a library with built objects, one clock from the
settings, and user errors of the stores mapped to one line and exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from slaledger import app
from slaledger.app import (
    Root,
    Settings,
    Settlement,
    read_import_file,
    report_from_files,
    report_from_store,
    store_import,
)
from slaledger.cli.main import cli
from slaledger.core.events import Events
from slaledger.errors import ConcurrentChangeError
from slaledger.files.contract_file import load_contract
from slaledger.store.minute_tier import MinuteTier
from slaledger.store.tiers import retain

NOW = 1_798_761_600_000_000
"""2027-01-01T00:00:00Z."""
OBSERVATIONS = (
    "timestamp,service,location,status,error,retry_after\n"
    "2026-10-01T00:00:05Z,tracking-js,fra,200,,\n"
    "2026-10-01T00:01:05Z,tracking-js,fra,,timeout,\n"
    "2026-10-01T00:02:05Z,tracking-js,ams,200,,\n"
)


@pytest.fixture
def observations(tmp_path: Path) -> Path:
    path = tmp_path / "observations.csv"
    path.write_text(OBSERVATIONS, encoding="utf-8")
    return path


def test_import_and_report_as_a_library_equal_the_file_report(
    contracts: Path, observations: Path, tmp_path: Path
) -> None:
    contract = load_contract(contracts / "heft-io.yaml")
    root = Root(Settings(db_url=f"sqlite:///{tmp_path / 'store.db'}"), clock=lambda: NOW)
    imported = read_import_file(
        contract, observations, "slaledger", location=None, timezone=None, service=None, now=NOW
    )
    outcome = store_import(root.observations(), imported, now=root.clock())
    assert (outcome.received, outcome.stored, outcome.already_imported) == (3, 3, False)
    again = store_import(root.observations(), imported, now=root.clock())
    assert (again.stored, again.already_imported) == (0, True)

    asked = Settlement(contract, Events(), (2026, 10), None)
    from_store = report_from_store(root.stores(), asked)
    from_file = report_from_files(contracts / "heft-io.yaml", observations, None, "2026-10")
    assert from_store.as_dict() == from_file.as_dict()


def test_the_clock_replays_from_the_settings_start() -> None:
    clock = Root(Settings(clock_start=NOW)).clock
    assert 0 <= clock() - NOW < 60_000_000


def test_a_day_that_keeps_changing_during_retention_is_a_user_error(
    contracts: Path, observations: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    path = contracts / "heft-io.yaml"
    imported = CliRunner().invoke(cli, ["import", str(path), str(observations), "--db", url])
    assert imported.exit_code == 0, imported.output
    monkeypatch.setattr(MinuteTier, "replace_raw_day", lambda *_args: False)

    with pytest.raises(ConcurrentChangeError) as raised:
        retain(app.open_stores(url), load_contract(path), now=NOW + 400 * 86_400_000_000)
    assert str(raised.value) == "day 2026-10-01 kept changing while it was rolled up; try again"

    done = CliRunner().invoke(
        cli, ["retain", str(path), "--db", url, "--at", "2028-06-01T00:00:00Z"]
    )
    assert (done.exit_code, done.stderr) == (
        2,
        "error: day 2026-10-01 kept changing while it was rolled up; try again\n",
    )
