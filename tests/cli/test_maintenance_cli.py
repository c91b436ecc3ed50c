"""``slaledger maintenance``: create (with the notice verdict), list, cancel and suggest."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from slaledger.app import root
from slaledger.cli import maintenance
from slaledger.core.timebase import format_instant

NOW = 1_791_549_630_000_000
"""2026-10-09T12:40:30Z (a Friday)."""

CONTRACT_YAML = """\
contract: ops-cli
name: Ops CLI
services:
  api:
    name: API
    target: "99.9"
    downtime: {rule: probe-ratio}
    maintenance: {notice: 48h}
  web:
    name: Website
    target: "99.9"
    downtime: {rule: continuous-failure, min_duration: 5m}
"""


@pytest.fixture
def contract(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "contract.yaml"
    path.write_text(CONTRACT_YAML, encoding="utf-8")
    monkeypatch.setattr(root, "wall_clock", lambda: NOW)
    return path


def run(*args: str) -> Result:
    return CliRunner().invoke(maintenance.command, list(args))


def test_create_says_whether_the_notice_is_enough_then_list_and_cancel(
    contract: Path, store_url: str
) -> None:
    common = ["--contract", str(contract), "--db", store_url, "--as", "ops"]
    urgent = run(
        "create", "--service", "api", "--title", "Hotfix", "--start", "2026-10-09T15:40:30Z",
        "--end", "2026-10-09T16:00:00Z", *common,
    )  # fmt: skip
    assert (urgent.exit_code, urgent.output) == (
        0,
        "created maintenance #1 'Hotfix' (api; 2026-10-09T15:40:30Z → 2026-10-09T16:00:00Z; "
        "emergency)\n"
        "emergency maintenance: announced 3h before its start; api needs 48h notice — this "
        "window counts as downtime\n",
    )
    planned = run(
        "create", "--service", "*", "--title", "Upgrade", "--start", "2026-10-12T02:00:00Z",
        "--end", "2026-10-12T03:00:00Z", "--location", "fra", *common,
    )  # fmt: skip
    assert planned.output == (
        "created maintenance #2 'Upgrade' (* at fra; 2026-10-12T02:00:00Z → "
        "2026-10-12T03:00:00Z; emergency)\n"
        "emergency maintenance: announced 61h19m30s before its start; api needs 48h notice, "
        "web excludes no maintenance — this window counts as downtime for web (it is excluded "
        "for api)\n"
    )
    cancelled = run("cancel", "1", *common)
    assert cancelled.output == (
        "cancelled maintenance #1 'Hotfix' (api; 2026-10-09T15:40:30Z → 2026-10-09T16:00:00Z; "
        "emergency; cancelled); its time is no longer excluded\n"
    )
    again = run("cancel", "1", *common)
    assert (again.exit_code, again.stderr) == (
        2,
        "error: maintenance window #1 is already cancelled\n",
    )
    assert run("list", "--all", *common).output == (
        "id  kind                   start                 end                   announced"
        "             services  location  title\n"
        "#1  emergency (cancelled)  2026-10-09T15:40:30Z  2026-10-09T16:00:00Z  "
        "2026-10-09T12:40:30Z  api       -         Hotfix\n"
        "#2  emergency              2026-10-12T02:00:00Z  2026-10-12T03:00:00Z  "
        "2026-10-09T12:40:30Z  *         fra       Upgrade\n"
    )
    assert run("list", *common).output.count("\n") == 2


def traffic(tmp_path: Path) -> Path:
    """Two weeks of history, Mondays 2026-09-28 and 2026-10-05: 100 requests an hour,
    except Monday 03:00-05:00 (10 and 20, then 12 and 22) and Saturday 02:00-04:00 (8, 8)."""
    lines = ["hour,service,requests"]
    monday = 1_790_553_600_000_000  # 2026-09-28T00:00:00Z
    hour = 3_600_000_000
    quiet = {(0, 3): 10, (0, 4): 20, (5, 2): 8, (5, 3): 8}
    for week in range(2):
        for index in range(7 * 24):
            day, clock = divmod(index, 24)
            count = quiet.get((day, clock), 100)
            if (day, clock) in {(0, 3), (0, 4)}:
                count += 2 * week
            when = monday + (week * 7 * 24 + index) * hour
            lines.append(f"{_iso(when)},api,{count}")
    path = tmp_path / "traffic.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _iso(instant: int) -> str:
    return format_instant(instant)


def test_suggest_picks_the_quietest_window_with_enough_notice(
    contract: Path, tmp_path: Path, store_url: str
) -> None:
    path = traffic(tmp_path)
    # Saturday 2026-10-10 02:00 is only 37h ahead: too soon for 48h notice. The next quiet
    # window is Monday 2026-10-12 03:00-05:00 (mean 11 + 21 = 32 requests), before
    # Saturday 2026-10-17 02:00 (16), which is quieter still.
    found = run(
        "suggest", "api", "--duration", "2h", "--traffic", str(path), "--contract", str(contract)
    )
    assert (found.exit_code, found.output) == (
        0,
        "suggested maintenance for api: 2026-10-17T02:00:00Z → 2026-10-17T04:00:00Z (2h)\n"
        "expected requests: 16 (mean of 2 weeks at these hours of the week)\n"
        "notice: if created now (2026-10-09T12:40:30Z), scheduled maintenance: announced "
        "181h19m30s before its start; api needs 48h notice — excluded from downtime\n",
    )
    at = run(
        "suggest", "api", "--duration", "2h", "--traffic", str(path), "--contract", str(contract),
        "--at", "2026-10-08T00:00:00Z",
    )  # fmt: skip
    assert at.output.splitlines()[0] == (
        "suggested maintenance for api: 2026-10-10T02:00:00Z → 2026-10-10T04:00:00Z (2h)"
    )
    # With the database, windows already scheduled for api are avoided.
    created = CliRunner().invoke(
        maintenance.command,
        ["create", "--service", "api", "--title", "Taken", "--start", "2026-10-17T03:00:00Z",
         "--end", "2026-10-17T04:00:00Z", "--contract", str(contract), "--db", store_url],
    )  # fmt: skip
    assert created.exit_code == 0
    avoided = run(
        "suggest", "api", "--duration", "2h", "--traffic", str(path), "--contract", str(contract),
        "--db", store_url,
    )  # fmt: skip
    assert avoided.output.splitlines()[0] == (
        "suggested maintenance for api: 2026-10-12T03:00:00Z → 2026-10-12T05:00:00Z (2h)"
    )
    assert avoided.output.splitlines()[1] == (
        "expected requests: 32 (mean of 2 weeks at these hours of the week)"
    )
    assert avoided.output.splitlines()[-1] == (
        "avoided 1 maintenance window(s) already scheduled for api"
    )


def test_suggest_errors(contract: Path, tmp_path: Path) -> None:
    path = traffic(tmp_path)
    base = ["--traffic", str(path), "--contract", str(contract)]
    odd = run("suggest", "api", "--duration", "90m", *base)
    assert (odd.exit_code, odd.stderr) == (
        2,
        "error: --duration: expected a whole number of hours, e.g. 2h, got 90m\n",
    )
    unknown = run("suggest", "shop", "--duration", "2h", *base)
    assert unknown.stderr == (
        "error: SERVICE: unknown service 'shop'; contract 'ops-cli' has: api, web\n"
    )
    none = run("suggest", "web", "--duration", "2h", *base)
    assert none.stderr == f"error: {path}: the traffic file has no counts for web\n"
    far = run("suggest", "api", "--duration", "2h", *base, "--at", "2027-01-01T00:00:00Z")
    assert far.exit_code == 0  # the weekly profile still applies months later
    long = run("suggest", "api", "--duration", "400h", *base)
    assert long.stderr == (
        "error: --traffic: no 400h window for api with traffic data between "
        "2026-10-11T12:40:30Z and 2026-10-23T12:40:30Z; the traffic file covers "
        "2026-09-28T00:00:00Z to 2026-10-11T23:00:00Z\n"
    )


def test_a_year_0001_window_exits_2_and_a_mistaken_one_is_edited_then_deleted(
    contract: Path, store_url: str
) -> None:
    common = ["--contract", str(contract), "--db", store_url, "--as", "ops"]
    typo = run("create", "--service", "*", "--title", "Work", "--start", "0001-01-01T00:00:00Z",
               "--end", "0001-01-01T02:00:00Z", *common)  # fmt: skip
    assert (typo.exit_code, typo.stderr) == (
        2,
        "error: start: expected an instant from 2000-01-01T00:00:00Z to "
        "2036-10-16T12:40:30Z, got 0001-01-01T00:00:00Z\n",
    )
    made = run("create", "--service", "api", "--title", "Hotfix", "--start",
               "2026-10-09T15:40:30Z", "--end", "2026-10-09T16:00:00Z", *common)  # fmt: skip
    assert made.exit_code == 0
    edited = run("edit", "1", "--start", "2026-10-12T02:00:00Z", "--end",
                 "2026-10-12T03:00:00Z", *common)  # fmt: skip
    assert (edited.exit_code, edited.output) == (
        0,
        "corrected maintenance #1 'Hotfix' (api; 2026-10-12T02:00:00Z → 2026-10-12T03:00:00Z; "
        "scheduled)\n"
        "scheduled maintenance: announced 61h19m30s before its start; api needs 48h notice — "
        "excluded from downtime\n",
    )
    deleted = run("delete", "1", *common)
    assert (deleted.exit_code, deleted.output) == (
        0,
        "deleted maintenance #1 'Hotfix' (api; 2026-10-12T02:00:00Z → 2026-10-12T03:00:00Z; "
        "scheduled)\n",
    )
    assert run("list", "--all", *common).output.count("Hotfix") == 0
