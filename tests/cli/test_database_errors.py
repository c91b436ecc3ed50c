"""A database that cannot be opened is one line naming its URL (password hidden), exit 2, for
every command that opens one: they all open it through the composition root."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from slaledger.cli.main import cli

REFUSED = "postgresql+psycopg://u:secret@127.0.0.1:1/x"
REFUSED_LINE = (
    "error: --db: cannot open the database postgresql+psycopg://u:***@127.0.0.1:1/x: "
    'connection failed: connection to server at "127.0.0.1", port 1 failed: '
    "Connection refused\n"
)
NO_FOLDER = "sqlite:////nonexistent/dir/x.db"
NO_FOLDER_LINE = (
    "error: --db: cannot open the database sqlite:////nonexistent/dir/x.db: "
    "unable to open database file\n"
)


def commands(contract: Path, observations: Path) -> dict[str, list[str]]:
    """Every command that opens a store, without its ``--db``."""
    c = str(contract)
    return {
        "report": ["report", c, "--month", "2026-10"],
        "import": ["import", c, str(observations)],
        "retain": ["retain", c, "--at", "2028-01-01T00:00:00Z"],
        "statement issue": ["statement", "issue", c, "--month", "2026-10"],
        "statement show": ["statement", "show", c, "--month", "2026-10"],
        "token create": ["token", "create", "--scope", "admin", "--name", "ops"],
        "token list": ["token", "list"],
        "token revoke": ["token", "revoke", "ops"],
        "incident list": ["incident", "list", "--contract", c],
        "incident open": [
            *("incident", "open", "Down", "--service", "*", "--impact", "major"),
            *("--contract", c),
        ],
        "maintenance list": ["maintenance", "list", "--contract", c],
        "serve": ["serve", c, "--no-probes", "--port", "0"],
    }


NAMES = list(commands(Path(), Path()))


@pytest.fixture
def observations(tmp_path: Path) -> Path:
    path = tmp_path / "observations.csv"
    path.write_text(
        "timestamp,service,location,status,error,retry_after\n"
        "2026-10-01T00:00:05Z,tracking-js,fra,200,,\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("url", "line"), [(REFUSED, REFUSED_LINE), (NO_FOLDER, NO_FOLDER_LINE)])
def test_a_database_that_cannot_be_opened_is_one_line_and_exit_2(
    contracts: Path, observations: Path, name: str, url: str, line: str
) -> None:
    args = commands(contracts / "heft-io.yaml", observations)[name]
    done = CliRunner().invoke(cli, [*args, "--db", url])
    assert (done.exit_code, done.stderr, done.stdout) == (2, line, "")


def test_a_file_that_is_no_database_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("not a database\n" * 100, encoding="utf-8")
    done = CliRunner().invoke(cli, ["token", "list", "--db", f"sqlite:///{path}"])
    assert (done.exit_code, done.stderr) == (
        2,
        f"error: --db: cannot open the database sqlite:///{path}: file is not a database\n",
    )
