"""Events files: windows validated, then checked against the contract, every mistake located."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from slaledger.core.contract import Contract
from slaledger.errors import EventsError
from slaledger.files.contract_file import load_contract
from slaledger.files.events_file import load_events

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "contracts"


@pytest.fixture(scope="module")
def hosting() -> Contract:
    return load_contract(EXAMPLES / "hosting-pop.yaml")


@pytest.fixture(scope="module")
def heft() -> Contract:
    return load_contract(EXAMPLES / "heft-io.yaml")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "events.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path, contract: Contract) -> list[str]:
    with pytest.raises(EventsError) as caught:
        load_events(path, contract)
    return [str(problem) for problem in caught.value.problems]


@pytest.mark.parametrize("text", ["", "\n", "# no events this month\n"])
def test_empty_file_means_no_events(tmp_path: Path, hosting: Contract, text: str) -> None:
    events = load_events(write(tmp_path, text), hosting)
    assert events.maintenance == ()
    assert events.exclusions == ()


def test_windows_load_with_exact_instants(tmp_path: Path, heft: Contract) -> None:
    text = """\
maintenance:
  - {services: "*", start: 2026-10-14T02:00:00Z, end: 2026-10-14T03:00:00Z,
     announced: 2026-10-10T09:00:00Z, title: Database upgrade}
exclusions:
  - services: [data-api]
    location: fra
    start: 2026-10-20T12:00:00+02:00
    end: 2026-10-20T10:30:00.250Z
    cause: force-majeure
    note: Regional cloud outage
"""
    events = load_events(write(tmp_path, text), heft)
    (maintenance,) = events.maintenance
    assert maintenance.services == "*"
    assert maintenance.start == datetime(2026, 10, 14, 2, tzinfo=UTC)
    assert maintenance.announced == datetime(2026, 10, 10, 9, tzinfo=UTC)
    assert maintenance.title == "Database upgrade"
    (exclusion,) = events.exclusions
    assert exclusion.services == ("data-api",)
    assert exclusion.location == "fra"
    assert exclusion.start == datetime(2026, 10, 20, 10, tzinfo=UTC)
    assert exclusion.start.utcoffset() is not None
    assert exclusion.end == datetime(2026, 10, 20, 10, 30, 0, 250_000, tzinfo=UTC)
    assert exclusion.cause == "force-majeure"


def test_single_service_id_is_accepted(tmp_path: Path, hosting: Contract) -> None:
    text = """\
maintenance:
  - services: network
    location: fra
    start: 2026-10-14T02:00:00Z
    end: 2026-10-14T03:00:00Z
    announced: 2026-10-10T09:00:00Z
"""
    events = load_events(write(tmp_path, text), hosting)
    assert events.maintenance[0].services == ("network",)
    assert events.maintenance[0].location == "fra"


def test_unknown_service(tmp_path: Path, hosting: Contract) -> None:
    text = """\
maintenance:
  - services: [network, storage]
    start: 2026-10-14T02:00:00Z
    end: 2026-10-14T03:00:00Z
    announced: 2026-10-10T09:00:00Z
  - services: dns
    start: 2026-10-15T02:00:00Z
    end: 2026-10-15T03:00:00Z
    announced: 2026-10-10T09:00:00Z
"""
    path = write(tmp_path, text)
    assert problems(path, hosting) == [
        f"{path}:2: maintenance[0].services[1]: unknown service 'storage'; "
        "contract 'hosting-pop' has: network, power",
        f"{path}:6: maintenance[1].services: unknown service 'dns'; "
        "contract 'hosting-pop' has: network, power",
    ]


def test_hosting_contract_allows_no_cause(tmp_path: Path, hosting: Contract) -> None:
    text = """\
exclusions:
  - services: "*"
    start: 2026-10-14T02:00:00Z
    end: 2026-10-14T03:00:00Z
    cause: force-majeure
"""
    path = write(tmp_path, text)
    assert problems(path, hosting) == [
        f"{path}:5: exclusions[0].cause: contract 'hosting-pop' does not let service 'network' "
        "exclude cause 'force-majeure' (allowed: none)"
    ]


def test_heft_contract_allows_force_majeure_only_among_its_causes(
    tmp_path: Path, heft: Contract
) -> None:
    text = """\
exclusions:
  - {services: [tracking-js], start: 2026-10-14T02:00:00Z, end: 2026-10-14T03:00:00Z,
     cause: force-majeure}
  - {services: [tracking-js], start: 2026-10-15T02:00:00Z, end: 2026-10-15T03:00:00Z,
     cause: bad-deploy}
"""
    path = write(tmp_path, text)
    assert problems(path, heft) == [
        f"{path}:5: exclusions[1].cause: contract 'heft-io' does not let service 'tracking-js' "
        "exclude cause 'bad-deploy' (allowed: force-majeure, upstream-network, "
        "ddos-mitigated-at-edge, customer-misuse, suspension)"
    ]


@pytest.mark.parametrize("end", ["2026-10-14T01:59:00Z", "2026-10-14T04:00:00+02:00"])
def test_end_not_after_start_is_an_error_on_end(
    tmp_path: Path, hosting: Contract, end: str
) -> None:
    text = f"""\
maintenance:
  - services: "*"
    start: 2026-10-14T02:00:00Z
    end: {end}
    announced: 2026-10-10T09:00:00Z
"""
    path = write(tmp_path, text)
    shown = "2026-10-14T01:59:00Z" if end.endswith("Z") else "2026-10-14T02:00:00Z"
    assert problems(path, hosting) == [
        f"{path}:4: maintenance[0].end: expected an end after start 2026-10-14T02:00:00Z, "
        f"got {shown}"
    ]


def test_timestamps_need_an_offset(tmp_path: Path, hosting: Contract) -> None:
    text = """\
maintenance:
  - services: "*"
    start: 2026-10-14T02:00:00
    end: 2026-10-14
    announced: 2026-02-30T09:00:00Z
"""
    path = write(tmp_path, text)
    expected = "expected a timestamp with Z or an offset, like 2026-10-14T02:00:00Z"
    assert problems(path, hosting) == [
        f"{path}:3: maintenance[0].start: {expected}, got 2026-10-14T02:00:00",
        f"{path}:4: maintenance[0].end: {expected}, got '2026-10-14'",
        f"{path}:5: maintenance[0].announced: {expected}, got '2026-02-30T09:00:00Z'",
    ]


def test_malformed_windows_reported_together(tmp_path: Path, hosting: Contract) -> None:
    text = """\
maintenance:
  - services: 7
    start: 2026-10-14T02:00:00Z
    end: 2026-10-14T03:00:00Z
  - services: [network, ""]
    start: 2026-10-14T02:00:00Z
    end: 2026-10-14T03:00:00Z
    announced: 2026-10-10T09:00:00Z
    reason: upgrade
exclusions:
  - {services: "*", start: 2026-10-14T02:00:00Z, end: 2026-10-14T03:00:00Z}
incidents: []
"""
    path = write(tmp_path, text)
    assert problems(path, hosting) == [
        f"{path}:2: maintenance[0].services: expected '*', a service id or a list of service "
        "ids, got 7",
        f"{path}:2: maintenance[0].announced: missing required key",
        f"{path}:5: maintenance[1].services[1]: expected a non-empty string, got ''",
        f"{path}:9: maintenance[1].reason: unknown key 'reason'; expected one of: services, "
        "location, start, end, announced, title",
        f"{path}:11: exclusions[0].cause: missing required key",
        f"{path}:12: incidents: unknown key 'incidents'; expected one of: maintenance, exclusions",
    ]


def test_syntax_error_in_events(tmp_path: Path, hosting: Contract) -> None:
    path = write(tmp_path, "maintenance:\n  - services: [network\n")
    assert problems(path, hosting) == [
        f"{path}:3: invalid YAML: expected ',' or ']', but got '<stream end>' "
        "(while parsing a flow sequence started on line 2)"
    ]


def test_events_top_level_must_be_a_mapping(tmp_path: Path, hosting: Contract) -> None:
    path = write(tmp_path, "- services: '*'\n")
    assert problems(path, hosting) == [
        f"{path}:1: expected a mapping of keys at the top level, got a list"
    ]
