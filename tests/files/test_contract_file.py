"""Contract files: every mistake reported at once, each located and said in one plain line."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from slaledger.core.contract import ContinuousFailure
from slaledger.errors import ContractError
from slaledger.files.contract_file import load_contract

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "contracts"

VALID = """\
contract: demo
name: Demo SLA
timezone: UTC
services:
  api:
    name: API
    target: "99.9"
    downtime: {rule: continuous-failure, min_duration: 5m, confirm: 2}
    outcomes:
      - {match: {error: any}, outcome: down}
      - {match: {status: 5xx}, outcome: down}
    maintenance: {notice: 48h}
credits:
  basis: monthly-fee
  mode: automatic
  tiers:
    - {below: "99.9", credit: 10}
    - {below: "99.0", credit: 25}
"""


def write(tmp_path: Path, text: str, name: str = "contract.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ContractError) as caught:
        load_contract(path)
    return [str(problem) for problem in caught.value.problems]


def test_valid_contract_loads(tmp_path: Path) -> None:
    contract = load_contract(write(tmp_path, VALID))
    service = contract.services["api"]
    assert contract.contract == "demo"
    assert service.target == Decimal("99.9")
    assert isinstance(service.downtime, ContinuousFailure)
    assert service.downtime.min_duration == 300_000_000
    assert service.downtime.confirm == 2
    assert contract.credits is not None
    assert [tier.credit for tier in contract.credits.tiers] == [10, 25]


@pytest.mark.parametrize("name", ["heft-io", "hosting-pop", "itstabyl"])
def test_example_contracts_load(name: str) -> None:
    contract = load_contract(EXAMPLES / f"{name}.yaml")
    assert contract.contract == name


def test_example_contract_figures() -> None:
    heft = load_contract(EXAMPLES / "heft-io.yaml")
    assert list(heft.services) == [
        "tracking-js",
        "static-app",
        "tracking-api",
        "data-api",
        "authentication",
        "site-sharing",
    ]
    # The anchored list of causes is shared by every service.
    assert heft.services["site-sharing"].excludable_causes[0] == "force-majeure"
    itstabyl = load_contract(EXAMPLES / "itstabyl.yaml")
    assert itstabyl.credits is not None
    assert itstabyl.credits.claim_within == 30 * 86_400_000_000
    assert itstabyl.services["dashboard"].outcomes[0].outcome == "excluded"


def test_syntax_error(tmp_path: Path) -> None:
    path = write(tmp_path, "contract: demo\nname: Demo\n services: {}\n")
    assert problems(path) == [f"{path}:3: invalid YAML: mapping values are not allowed here"]


def test_unclosed_flow_sequence(tmp_path: Path) -> None:
    path = write(tmp_path, "contract: demo\nexclude_from: [downtime\nname: Demo\n")
    assert problems(path) == [
        f"{path}:3: invalid YAML: expected ',' or ']', but got ':' "
        "(while parsing a flow sequence started on line 2)"
    ]


def test_duplicate_key(tmp_path: Path) -> None:
    text = VALID.replace('    target: "99.9"\n', '    target: "99.9"\n    target: "99.5"\n')
    path = write(tmp_path, text)
    assert problems(path) == [
        f"{path}:8: duplicate key 'target'; a key may appear only once in a mapping"
    ]


def test_scalar_that_cannot_be_read_is_located(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("credit: 25", "credit: !!int many"))
    assert problems(path) == [
        f"{path}:18: invalid YAML: cannot read 'many': invalid literal for int() with base 10: "
        "'many'"
    ]


def test_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path, "# nothing here yet\n")
    assert problems(path) == [f"{path}:1: the file is empty; expected a mapping of keys"]


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, "# a list\n- contract: demo\n")
    assert problems(path) == [f"{path}:2: expected a mapping of keys at the top level, got a list"]


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    assert problems(path) == [f"{path}: cannot read the file: No such file or directory"]


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "contract.yaml"
    path.write_bytes(b"contract: demo\nname: D\xe9mo\n")
    assert problems(path) == [f"{path}:2: expected UTF-8 text, found the byte 0xe9"]


def test_unknown_key_at_top_level(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("timezone: UTC\n", "timezone: UTC\nzone: CET\n"))
    assert problems(path) == [
        f"{path}:4: zone: unknown key 'zone'; "
        "expected one of: contract, name, timezone, effective_from, locations, services, credits, "
        "stale_after, calendars, commitments"
    ]


def test_unknown_key_nested(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("{notice: 48h}", "{notice: 48h, window: sunday}"))
    assert problems(path) == [
        f"{path}:12: services.api.maintenance.window: unknown key 'window'; expected one of: notice"
    ]


def test_unknown_key_inside_a_downtime_rule(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("confirm: 2}", "confirm: 2, rounding: ceil-minute}"))
    assert problems(path) == [
        f"{path}:8: services.api.downtime.rounding: unknown key 'rounding'; "
        "expected one of: rule, min_duration, confirm"
    ]


def test_missing_key_is_reported_on_its_parent(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("    name: API\n", ""))
    assert problems(path) == [f"{path}:5: services.api.name: missing required key"]


def test_missing_key_in_a_list_item(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace('{below: "99.0", credit: 25}', '{below: "99.0"}'))
    assert problems(path) == [f"{path}:18: credits.tiers[1].credit: missing required key"]


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("high", "expected a percentage like \"99.9\", got 'high'"),
        ('"100.5"', "expected a percentage from 0 to 100, got '100.5'"),
        ("true", 'expected a percentage like "99.9", got True'),
    ],
)
def test_bad_target(tmp_path: Path, target: str, message: str) -> None:
    path = write(tmp_path, VALID.replace('target: "99.9"', f"target: {target}"))
    assert problems(path) == [f"{path}:7: services.api.target: {message}"]


def test_target_written_as_an_unquoted_float_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace('target: "99.9"', "target: 99.95"))
    assert problems(path) == [
        f'{path}:7: services.api.target: expected a quoted percentage like "99.9" (an unquoted '
        "number is read as a binary float), got 99.95"
    ]


def test_target_written_as_a_whole_number_is_exact(tmp_path: Path) -> None:
    contract = load_contract(write(tmp_path, VALID.replace('target: "99.9"', "target: 99")))
    assert contract.services["api"].target == Decimal("99")


@pytest.mark.parametrize(
    ("duration", "message"),
    [
        ("5 minutes", "expected a duration like 90s, 5m, 48h or 30d, got '5 minutes'"),
        ("300", "expected a duration with a unit (90s, 5m, 48h, 30d), got 300"),
    ],
)
def test_bad_duration(tmp_path: Path, duration: str, message: str) -> None:
    path = write(tmp_path, VALID.replace("min_duration: 5m", f"min_duration: {duration}"))
    assert problems(path) == [f"{path}:8: services.api.downtime.min_duration: {message}"]


def test_bad_timezone(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("timezone: UTC", "timezone: Europe/Frankfurt"))
    assert problems(path) == [
        f"{path}:3: timezone: expected an IANA time zone like UTC or Europe/Berlin, "
        "got 'Europe/Frankfurt'"
    ]


def test_bad_rule(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("rule: continuous-failure", "rule: uptime-ratio"))
    assert problems(path) == [
        f"{path}:8: services.api.downtime.rule: expected rule probe-ratio, continuous-failure "
        "or first-fail-to-first-success, got 'uptime-ratio'"
    ]


def test_missing_rule(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("rule: continuous-failure, ", ""))
    assert problems(path) == [
        f"{path}:8: services.api.downtime.rule: missing required key; expected rule "
        "probe-ratio, continuous-failure or first-fail-to-first-success"
    ]


def test_literal_and_union_fields(tmp_path: Path) -> None:
    text = VALID.replace("{error: any}, outcome: down", "{error: any}, outcome: broken")
    path = write(tmp_path, text.replace("status: 5xx", "status: 6xx"))
    assert problems(path) == [
        f"{path}:10: services.api.outcomes[0].outcome: expected one of 'up', 'down', "
        "'excluded', got 'broken'",
        f"{path}:11: services.api.outcomes[1].match.status: expected an HTTP status code from "
        "100 to 599 or a class 1xx, 2xx, 3xx, 4xx or 5xx, got '6xx'",
    ]


def test_on_request_without_claim_within(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("mode: automatic", "mode: on-request"))
    assert problems(path) == [f"{path}:13: credits: mode on-request needs claim_within, e.g. 30d"]


def test_several_mistakes_reported_together_in_file_order(tmp_path: Path) -> None:
    text = """\
contract: demo
name: Demo SLA
timezone: Mars/Olympus
services:
  api:
    name: API
    target: "99,9"
    window: weekly
    downtime: {rule: continuous-failure, min_duration: 5m, confirm: 0}
    per_location: maybe
  web:
    target: "99.5"
    downtime: {rule: probe-ratio}
    colour: blue
credits:
  basis: monthly-fee
  mode: sometimes
  tiers:
    - {below: "99.9", credit: 110}
"""
    path = write(tmp_path, text)
    assert problems(path) == [
        f"{path}:3: timezone: expected an IANA time zone like UTC or Europe/Berlin, "
        "got 'Mars/Olympus'",
        f"{path}:7: services.api.target: expected a percentage like \"99.9\", got '99,9'",
        f"{path}:8: services.api.window: expected one of 'calendar-month', 'trailing-30d', "
        "got 'weekly'",
        f"{path}:9: services.api.downtime.confirm: expected a number at least 1, got 0",
        f"{path}:10: services.api.per_location: expected true or false, got 'maybe'",
        f"{path}:11: services.web.name: missing required key",
        f"{path}:14: services.web.colour: unknown key 'colour'; expected one of: name, "
        "description, target, window, per_location, downtime, outcomes, maintenance, "
        "stale_after, excludable_causes, exclude_from, locations, checks",
        f"{path}:17: credits.mode: expected one of 'automatic', 'on-request', got 'sometimes'",
        f"{path}:19: credits.tiers[0].credit: expected a number at most 100, got 110",
    ]


def test_every_message_is_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, "a: [1, 2\nb: {c: 1, c: 2}\n")
    for line in problems(path):
        assert "\n" not in line


def test_an_empty_mapping_in_a_list_is_located(tmp_path: Path) -> None:
    rules = (
        "      - {match: {error: any}, outcome: down}\n"
        "      - {match: {status: 5xx}, outcome: down}\n"
    )
    text = VALID.replace(rules, "      - {}\n")
    path = write(tmp_path, text)
    assert problems(path) == [
        f"{path}:10: services.api.outcomes[0].match: missing required key",
        f"{path}:10: services.api.outcomes[0].outcome: missing required key",
    ]


def test_locations_are_declared_and_narrowed_per_service(tmp_path: Path) -> None:
    text = VALID.replace("timezone: UTC\n", "timezone: UTC\nlocations: [fra, ams]\n").replace(
        "    maintenance: {notice: 48h}\n",
        "    maintenance: {notice: 48h}\n    locations: [ams]\n",
    )
    contract = load_contract(write(tmp_path, text))
    assert contract.locations == ("fra", "ams")
    assert contract.locations_of("api") == ("ams",)
    assert contract.undeclared("fra") is None
    assert contract.undeclared("fake") == "'fake' is not a location of contract demo (fra, ams)"


@pytest.mark.parametrize(
    ("top", "service", "message"),
    [
        (
            "locations: []\n",
            "",
            "contract.yaml:4: locations: expected at least one location, e.g. [fra, ams]",
        ),
        (
            "locations: [fra, fra]\n",
            "",
            "contract.yaml:4: locations: 'fra' is listed more than once",
        ),
        (
            "locations: [fra west]\n",
            "",
            "contract.yaml:4: locations: expected location names of letters, digits, '.', '_' "
            "or '-' (at most 200), like fra or us-east, got 'fra west'",
        ),
        (
            "",
            "    locations: [fra]\n",
            "contract.yaml:4: services: services.api.locations narrows the contract's "
            "locations, but the contract declares none; add a top-level locations list",
        ),
        (
            "locations: [fra]\n",
            "    locations: [ams]\n",
            "contract.yaml:5: services: services.api.locations: ams not among the contract's "
            "locations (fra)",
        ),
        (
            "locations: [fra]\n",
            "    checks: [{type: tcp, host: 127.0.0.1, port: 1, locations: [lon]}]\n",
            "contract.yaml:5: services: services.api.checks[0].locations: lon not among the "
            "locations of service api (fra)",
        ),
    ],
)
def test_bad_locations(tmp_path: Path, top: str, service: str, message: str) -> None:
    text = VALID.replace("timezone: UTC\n", f"timezone: UTC\n{top}").replace(
        "    maintenance: {notice: 48h}\n", f"    maintenance: {{notice: 48h}}\n{service}"
    )
    path = write(tmp_path, text)
    assert [p.removeprefix(f"{tmp_path}/") for p in problems(path)] == [message]


def test_effective_from_is_an_instant_with_an_offset(tmp_path: Path) -> None:
    text = VALID.replace(
        "timezone: UTC\n", "timezone: UTC\neffective_from: 2026-05-01T02:00:00+02:00\n"
    )
    assert load_contract(write(tmp_path, text)).start == 1_777_593_600_000_000
    naive = VALID.replace("timezone: UTC\n", "timezone: UTC\neffective_from: 2026-05-01\n")
    assert [p.removeprefix(f"{tmp_path}/") for p in problems(write(tmp_path, naive))] == [
        "contract.yaml:4: effective_from: expected a timestamp with Z or an offset, like "
        "2026-10-14T02:00:00Z, got '2026-05-01'"
    ]
