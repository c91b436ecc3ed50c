"""``slaledger incident``: the commands against real SQLite and PostgreSQL databases, with
the clock fixed and ``--as`` recorded in the audit log."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from slaledger.app import root
from slaledger.cli import incident
from slaledger.store.audit_log import AuditLog
from slaledger.store.database import connect

NOW = 1_791_549_630_000_000
"""2026-10-09T12:40:30Z."""

CONTRACT_YAML = """\
contract: ops-cli
name: Ops CLI
services:
  api:
    name: API
    target: "99.9"
    downtime: {rule: probe-ratio}
    maintenance: {notice: 48h}
    excludable_causes: [force-majeure]
  web:
    name: Website
    target: "99.9"
    downtime: {rule: continuous-failure, min_duration: 5m}
"""


@pytest.fixture
def cli(tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    contract = tmp_path / "contract.yaml"
    contract.write_text(CONTRACT_YAML, encoding="utf-8")
    monkeypatch.setattr(root, "wall_clock", lambda: NOW)
    return CliRunner(env={"SLALEDGER_CONTRACT": str(contract)})


def run(cli: CliRunner, store_url: str, *args: str) -> Result:
    return cli.invoke(incident.command, [*args, "--db", store_url])


def test_open_update_resolve_classify_list_show(cli: CliRunner, store_url: str) -> None:
    opened = run(
        cli,
        store_url,
        "open",
        "Elevated API errors",
        "--service",
        "api",
        "--impact",
        "major",
        "--started",
        "2026-10-09T12:30:00Z",
        "--body",
        "Looking into *5xx*.",
        "--as",
        "alice",
    )
    assert (opened.exit_code, opened.output) == (
        0,
        "opened incident #1 'Elevated API errors' (api; major; investigating since "
        "2026-10-09T12:30:00Z)\n",
    )
    updated = run(
        cli,
        store_url,
        "update",
        "1",
        "--status",
        "identified",
        "--body",
        "Region down.",
        "--as",
        "bob",
    )
    assert updated.output == (
        "updated incident #1 'Elevated API errors' (api; major; identified since "
        "2026-10-09T12:30:00Z)\n"
    )
    resolved = run(cli, store_url, "resolve", "1", "--at", "2026-10-09T12:38:00Z", "--as", "bob")
    assert resolved.output == (
        "resolved incident #1 'Elevated API errors' (api; major; resolved "
        "2026-10-09T12:30:00Z → 2026-10-09T12:38:00Z)\n"
    )
    refused = run(cli, store_url, "classify", "1", "--cause", "ddos", "--as", "bob")
    assert refused.exit_code == 2
    assert refused.stderr == (
        "error: cause: contract 'ops-cli' does not let service 'api' exclude cause 'ddos' "
        "(allowed: force-majeure)\n"
    )
    classified = run(cli, store_url, "classify", "1", "--cause", "force-majeure", "--as", "bob")
    assert classified.output == (
        "classified incident #1 'Elevated API errors' (api; major; resolved "
        "2026-10-09T12:30:00Z → 2026-10-09T12:38:00Z; excluded as force-majeure)\n"
        "excluded 2026-10-09T12:30:00Z → 2026-10-09T12:38:00Z as force-majeure for api\n"
    )
    listed = run(cli, store_url, "list", "--resolved")
    assert listed.output == (
        "id  status    impact  started               resolved              services  title\n"
        "#1  resolved  major   2026-10-09T12:30:00Z  2026-10-09T12:38:00Z  api       "
        "Elevated API errors\n"
    )
    assert run(cli, store_url, "list", "--active").output == "no incidents\n"
    shown = run(cli, store_url, "show", "1", "--history")
    assert shown.output == (
        "incident #1 'Elevated API errors' (api; major; resolved 2026-10-09T12:30:00Z → "
        "2026-10-09T12:38:00Z; excluded as force-majeure)\n"
        "  2026-10-09T12:40:30Z  investigating by alice:\n"
        "    Looking into *5xx*.\n"
        "  2026-10-09T12:40:30Z  identified by bob:\n"
        "    Region down.\n"
        "history:\n"
        "  2026-10-09T12:40:30Z  incident.open by alice\n"
        "  2026-10-09T12:40:30Z  incident.update by bob\n"
        "  2026-10-09T12:40:30Z  incident.resolve by bob\n"
        "  2026-10-09T12:40:30Z  incident.classify by bob\n"
    )
    engine = connect(store_url)
    assert [e.actor for e in AuditLog(engine).history("incident", 1)] == [
        "alice",
        "bob",
        "bob",
        "bob",
    ]
    engine.dispose()


def test_errors_are_one_line_each_with_exit_code_2(cli: CliRunner, store_url: str) -> None:
    unknown = run(cli, store_url, "show", "4")
    assert (unknown.exit_code, unknown.stderr) == (2, "error: no incident #4\n")
    bad = run(cli, store_url, "open", "X", "--service", "shop", "--impact", "minor")
    assert (bad.exit_code, bad.stderr) == (
        2,
        "error: services: unknown service 'shop'; contract 'ops-cli' has: api, web\n",
    )
    when = run(
        cli, store_url, "open", "X", "--service", "api", "--impact", "minor", "--started", "noon"
    )
    assert when.stderr == (
        "error: --started: expected an ISO 8601 instant with Z or an offset, e.g. "
        "2026-11-01T00:00:00Z, got 'noon'\n"
    )


def test_the_default_actor_is_the_os_user(
    cli: CliRunner, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(incident.getpass, "getuser", lambda: "root-operator")
    run(cli, store_url, "open", "X", "--service", "*", "--impact", "none")
    engine = connect(store_url)
    [entry] = AuditLog(engine).history("incident", 1)
    engine.dispose()
    assert entry.actor == "root-operator"
    assert entry.after is not None
    assert entry.after["services"] == ["api", "web"]


def test_a_year_0026_typo_exits_2_with_one_line_and_a_mistake_is_edited_then_deleted(
    cli: CliRunner, store_url: str
) -> None:
    typo = run(cli, store_url, "open", "Outage", "--service", "api", "--impact", "major",
               "--started", "0026-10-09T12:30:00Z")  # fmt: skip
    assert (typo.exit_code, typo.stderr) == (
        2,
        "error: started: expected an instant from 2000-01-01T00:00:00Z to "
        "2026-10-09T12:40:30Z, got 0026-10-09T12:30:00Z\n",
    )
    opened = run(cli, store_url, "open", "Outgae", "--service", "api", "--impact", "minor")
    assert opened.exit_code == 0
    edited = run(cli, store_url, "edit", "1", "--title", "Outage", "--impact", "critical",
                 "--service", "api", "--service", "web", "--as", "bob")  # fmt: skip
    assert (edited.exit_code, edited.output) == (
        0,
        "corrected incident #1 'Outage' (api, web; critical; investigating since "
        "2026-10-09T12:40:30Z)\n",
    )
    deleted = run(cli, store_url, "delete", "1", "--as", "carol")
    assert (deleted.exit_code, deleted.output) == (
        0,
        "deleted incident #1 'Outage' (api, web; critical; investigating since "
        "2026-10-09T12:40:30Z)\n",
    )
    again = run(cli, store_url, "delete", "1")
    assert (again.exit_code, again.stderr) == (2, "error: no incident #1\n")
    history = AuditLog(connect(store_url)).history("incident", 1)
    assert [(e.action, e.actor) for e in history][1:] == [
        ("incident.edit", "bob"),
        ("incident.delete", "carol"),
    ]
