from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

REPO = Path(__file__).resolve().parents[1]
CONTRACTS = REPO / "examples" / "contracts"


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def _run_cli(*args: str | Path, cwd: Path | None = None) -> Run:
    done = subprocess.run(
        [sys.executable, "-m", "slaledger", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def run_cli() -> Callable[..., Run]:
    """Runs the real ``slaledger`` command in a subprocess."""
    return _run_cli


@pytest.fixture
def contracts() -> Path:
    return CONTRACTS


@pytest.fixture(scope="session")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's month for the three seed contracts (``slaledger demo``), written once."""
    out = tmp_path_factory.mktemp("demo")
    run = _run_cli("demo", "--out", out)
    assert run.code == 0, run.err
    return out


# Stores: every store test runs against a real SQLite file and a real PostgreSQL schema.
# PostgreSQL is found at SLALEDGER_TEST_PG (default 127.0.0.1:5432, database test). On a laptop
# without it those tests are skipped with a message; under CI (CI=true) they fail.

PG_DSN = os.environ.get("SLALEDGER_TEST_PG", "host=127.0.0.1 port=5432 dbname=test user=postgres")
PG_URL_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _pg_available() -> str | None:
    try:
        with psycopg.connect(PG_DSN, connect_timeout=3):
            return None
    except psycopg.Error as error:
        return str(error).strip().splitlines()[0]


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    problem = _pg_available()
    if problem is not None:
        message = f"PostgreSQL not reachable at {PG_DSN!r}: {problem}"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI needs it: .ci/run starts the machine's cluster)")
        pytest.skip(message)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_DSN, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{PG_URL_BASE}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")
