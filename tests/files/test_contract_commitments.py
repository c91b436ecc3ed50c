"""The ``commitments:`` section of a contract file: read into models, every mistake located."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from slaledger.core.commitment_spec import Deadline, FirstResponse, Percentile, PerEvent
from slaledger.errors import ContractError
from slaledger.files.contract_file import load_contract

HEAD = """\
contract: demo
name: Demo SLA
services:
  api: {name: API, target: "99.9", downtime: {rule: probe-ratio}}
calendars:
  uk-office: {timezone: UTC, open: {mon-fri: "09:00-18:00"}}
  short-friday: {timezone: UTC, open: {mon-thu: "09:00-18:00", fri: "09:00-12:00"}}
commitments:
"""

ALL_FOUR = """\
  support-p1: {kind: first-response, severity: P1, within: 1h, calendar: uk-office}
  support-p3: {kind: first-response, severity: P3, within: 1bd, calendar: uk-office}
  hardware-swap:
    kind: deadline
    records: hardware-swap
    within: 4h
    calendar: always
    late_credit: {per_started_hour: 1d, cap: "100"}
  ddos-mitigation:
    kind: per-event
    records: ddos
    below: 2s
    covers: {min_peak_gbps: "1"}
  vps-provisioning:
    kind: percentile
    records: provisioning
    statistic: median
    below: 90s
    window: 30d
  vps-p95: {kind: percentile, records: provisioning, statistic: {percentile: 95},
            below: 5m, window: 30d}
"""


def load(tmp_path: Path, commitments: str) -> object:
    path = tmp_path / "contract.yaml"
    path.write_text(HEAD + commitments, encoding="utf-8")
    return load_contract(path)


def problems(tmp_path: Path, commitments: str) -> list[str]:
    path = tmp_path / "contract.yaml"
    path.write_text(HEAD + commitments, encoding="utf-8")
    with pytest.raises(ContractError) as caught:
        load_contract(path)
    return [str(problem).removeprefix(f"{path}:") for problem in caught.value.problems]


def test_the_four_kinds_read_as_written(tmp_path: Path) -> None:
    path = tmp_path / "contract.yaml"
    path.write_text(HEAD + ALL_FOUR, encoding="utf-8")
    commitments = load_contract(path).commitments
    p1 = commitments["support-p1"]
    assert p1 == FirstResponse(
        kind="first-response", severity="P1", within="1h", calendar="uk-office"
    )
    swap = commitments["hardware-swap"]
    assert isinstance(swap, Deadline)
    assert swap.late_credit is not None
    assert (swap.late_credit.per_started_hour, swap.late_credit.cap) == (
        86_400_000_000,
        Decimal(100),
    )
    ddos = commitments["ddos-mitigation"]
    assert isinstance(ddos, PerEvent)
    assert (ddos.below, ddos.covers.min_peak_gbps) == (2_000_000, Decimal(1))
    median = commitments["vps-provisioning"]
    assert isinstance(median, Percentile)
    assert median.statistic.is_median
    assert (median.below, median.window) == (90_000_000, 30 * 86_400_000_000)
    p95 = commitments["vps-p95"]
    assert isinstance(p95, Percentile)
    assert p95.statistic.percentile == Decimal(95)
    assert p95.model_dump(mode="json")["statistic"] == {"percentile": "95"}
    assert median.model_dump(mode="json")["statistic"] == "median"


def test_an_unknown_calendar_is_located(tmp_path: Path) -> None:
    assert problems(
        tmp_path, "  p1: {kind: first-response, severity: P1, within: 1h, calendar: uk}\n"
    ) == [
        "9: commitments.p1.calendar: expected a calendar of the contract "
        "(uk-office, short-friday, always), got 'uk'"
    ]


def test_business_days_in_a_calendar_whose_days_differ(tmp_path: Path) -> None:
    assert problems(
        tmp_path,
        "  p3: {kind: first-response, severity: P3, within: 2bd, calendar: short-friday}\n",
    ) == [
        "9: commitments.p3.within: '2bd': a business day has no single length in a calendar "
        "whose open days differ; write the duration in hours or minutes"
    ]


def test_a_severity_used_twice(tmp_path: Path) -> None:
    assert problems(
        tmp_path,
        "  a: {kind: first-response, severity: P1, within: 1h, calendar: uk-office}\n"
        "  b: {kind: first-response, severity: P1, within: 2h, calendar: always}\n",
    ) == [
        "10: commitments.b.severity: severity 'P1' already has a first-response commitment "
        "(a); expected each severity once"
    ]


@pytest.mark.parametrize("rank", ["0", '"0"', "101", '"-5"'])
def test_a_percentile_outside_0_to_100(tmp_path: Path, rank: str) -> None:
    shown = rank.strip('"')
    quoted = f"'{shown}'" if rank.startswith('"') else shown
    assert problems(
        tmp_path,
        f"  p: {{kind: percentile, records: provisioning, statistic: {{percentile: {rank}}},\n"
        "      below: 90s, window: 30d}\n",
    ) == [
        "9: commitments.p.statistic.percentile: expected a percentile more than 0 and at "
        f"most 100, got {quoted}"
    ]


def test_durations_without_a_unit(tmp_path: Path) -> None:
    assert problems(
        tmp_path,
        "  p1: {kind: first-response, severity: P1, within: 15, calendar: always}\n"
        "  p: {kind: percentile, records: provisioning, statistic: median, below: 90,\n"
        "      window: 30d}\n"
        "  d: {kind: per-event, records: ddos, below: 2}\n",
    ) == [
        "9: commitments.p1.within: expected a duration with a unit (15m, 4h, 2bd), got 15",
        "10: commitments.p.below: expected a duration with a unit (2s, 90s, 30d), got 90",
        "12: commitments.d.below: expected a duration with a unit (2s, 90s, 30d), got 2",
    ]


def test_other_mistakes(tmp_path: Path) -> None:
    assert problems(
        tmp_path,
        "  x: {kind: uptime}\n"
        "  s: {kind: percentile, records: provisioning, statistic: mean, below: 9s, "
        "window: 1d}\n"
        "  w: {kind: first-response, severity: P2, within: 2d, calendar: always}\n"
        "  h: {kind: deadline, records: ticket, within: 4h, calendar: always}\n",
    ) == [
        "9: commitments.x.kind: expected kind first-response, deadline, per-event or "
        "percentile, got 'uptime'",
        "10: commitments.s.statistic: expected median or {percentile: 95}, got 'mean'",
        "11: commitments.w.within: expected a duration of open time like 15m, 4h or 2bd, got '2d'",
        "12: commitments.h.records: expected 'hardware-swap', got 'ticket'",
    ]
