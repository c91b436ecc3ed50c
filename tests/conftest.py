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
from sqlalchemy.engine import make_url

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
# PostgreSQL is found at the SQLAlchemy URL in SLALEDGER_TEST_PG (default
# postgresql+psycopg://postgres@127.0.0.1:5432/test). Without it those tests are skipped with
# a message naming the URL; under CI (CI=true) they fail.

PG_URL = os.environ.get("SLALEDGER_TEST_PG") or "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def pg_conninfo(url: str) -> str:
    """The libpq form of a SQLAlchemy PostgreSQL URL (the driver name left out)."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def pg_url_with_schema(url: str, schema: str) -> str:
    """``url`` with every connection's search_path set to ``schema``."""
    return (
        make_url(url)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )


def _pg_available() -> str | None:
    try:
        with psycopg.connect(pg_conninfo(PG_URL), connect_timeout=3):
            return None
    except psycopg.Error as error:
        return str(error).strip().splitlines()[0]


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    problem = _pg_available()
    shown = make_url(PG_URL).render_as_string(hide_password=True)
    if problem is not None:
        message = f"PostgreSQL not reachable at {shown} (SLALEDGER_TEST_PG): {problem}"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI needs it: .ci/run starts the machine's cluster)")
        pytest.skip(message)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_conninfo(PG_URL), autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    try:
        yield pg_url_with_schema(PG_URL, schema)
    finally:
        with psycopg.connect(pg_conninfo(PG_URL), autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")
