"""The publisher in its own process reports a failed build: the server then knows its
figures are not current instead of serving the last snapshot as if it were."""

from __future__ import annotations

import time
from pathlib import Path

from slaledger.app import Root, Settings
from slaledger.core.events import Events
from slaledger.files.contract_file import load_contract
from slaledger.store.database import connect, migrate


def wait_for(check: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not callable(check) or not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_failing_build_is_reported_and_a_good_one_clears_it(
    contracts: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = connect(url)
    migrate(engine)
    contract = load_contract(contracts / "live-demo.yaml")
    root = Root(Settings(db_url=url, public_url="http://status.test", every_seconds=0.5))
    process = root.publisher_process(contract, Events())
    process.start(timeout=120)
    try:
        assert process.problem() is None
        with engine.begin() as connection:
            connection.exec_driver_sql("ALTER TABLE observations RENAME TO observations_away")
        wait_for(lambda: process.problem() is not None)
        assert process.problem() == (
            "the publisher cannot build the figures: no such table: observations"
        )
        with engine.begin() as connection:
            connection.exec_driver_sql("ALTER TABLE observations_away RENAME TO observations")
        wait_for(lambda: process.problem() is None)
    finally:
        process.stop()
        engine.dispose()
