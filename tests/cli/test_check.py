import time
from collections.abc import Callable
from pathlib import Path

from conftest import Run


def test_check_prints_the_heft_table(run_cli: Callable[..., Run], contracts: Path) -> None:
    run = run_cli("check", contracts / "heft-io.yaml")
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0] == "heft-io: heft.io Service Level Agreement (May 2026) (months in UTC)"
    rows = {line.split()[0]: line for line in lines if line.startswith(("tracking", "data-api"))}
    # The seed's own table: 99.99 % ~ 4 min, 99.9 % ~ 43 min, 99.5 % ~ 3.6 h in 30 days.
    assert rows["tracking-js"].split()[-6:] == ["4.03", "min", "4.32", "min", "4.46", "min"]
    assert rows["tracking-api"].split()[-6:] == ["40.32", "min", "43.20", "min", "44.64", "min"]
    assert rows["data-api"].split()[-6:] == ["3.36", "h", "3.60", "h", "3.72", "h"]
    assert "continuous-failure >= 5m, 2 locations confirm" in rows["tracking-js"]
    assert lines[-1] == "credits: none"


def test_check_names_credit_terms(run_cli: Callable[..., Run], contracts: Path) -> None:
    run = run_cli("check", contracts / "itstabyl.yaml")
    assert run.out.splitlines()[-1] == (
        "credits: on-request within 30d, of monthly-fee: below 99.9 % -> 10 %, "
        "below 99.0 % -> 25 %, below 95.0 % -> 50 %"
    )


def test_check_reports_every_mistake_with_exit_2(
    run_cli: Callable[..., Run], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "contract: x\n"
        "name: y\n"
        "timezon: UTC\n"
        "services:\n"
        '  a: {name: A, target: "101", downtime: {rule: nope}}\n'
    )
    run = run_cli("check", bad)
    assert run.code == 2
    assert run.out == ""
    assert run.err.splitlines() == [
        f"error: {bad}:3: timezon: unknown key 'timezon'; expected one of: contract, name, "
        "timezone, effective_from, locations, services, credits, stale_after, calendars, "
        "commitments",
        f"error: {bad}:5: services.a.target: expected a percentage from 0 to 100, got '101'",
        f"error: {bad}:5: services.a.downtime.rule: expected rule probe-ratio, "
        "continuous-failure or first-fail-to-first-success, got 'nope'",
    ]
    assert "Traceback" not in run.err


def test_check_missing_file(run_cli: Callable[..., Run], tmp_path: Path) -> None:
    run = run_cli("check", tmp_path / "none.yaml")
    assert run.code == 2
    assert (
        run.err
        == f"error: {tmp_path / 'none.yaml'}: cannot read the file: No such file or directory\n"
    )


def test_check_shows_locations_and_the_start_of_the_sla(
    run_cli: Callable[..., Run], contracts: Path
) -> None:
    run = run_cli("check", contracts / "heft-io.yaml")
    assert run.out.splitlines()[-3:-1] == [
        "locations: fra, ams, hel",
        "in force from 2026-05-01T00:00:00Z",
    ]
    assert run.err == ""


def test_check_warns_when_a_contract_declares_no_locations(
    run_cli: Callable[..., Run], tmp_path: Path
) -> None:
    open_ = tmp_path / "open.yaml"
    open_.write_text(
        'contract: open\nname: Open\nservices:\n  a: {name: A, target: "99.9", '
        "downtime: {rule: probe-ratio}}\n"
    )
    run = run_cli("check", open_)
    assert run.code == 0
    assert "locations: none declared (any)\n" in run.out
    assert run.err == (
        "warning: contract open declares no locations: any agent token can report from "
        "anywhere, under any location name; declare them with a top-level locations: [fra, ams]\n"
    )


# Hostile files: refused while the file is composed, in well under a second.

LAUGHS = 'laughs: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{level}: &{level} [{','.join([f'*{previous}'] * 9)}]\n"
    for previous, level in zip("abcdefgh", "bcdefghi", strict=True)
)


def test_check_refuses_a_yaml_alias_bomb(run_cli: Callable[..., Run], tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    # A contract's head, then nine levels of nine aliases: 19 * 9**9 "lol"s if expanded.
    bomb.write_text(
        'contract: bomb\nname: "The billion laughs, 9 levels of 9 aliases: 589 bytes!"\n'
        "timezone: UTC\n"
        'services:\n  api: {name: API, target: "99.9", downtime: {rule: probe-ratio}}\n'
        + LAUGHS.replace("laughs:", "a:")
        + "x: [*i, *i, *i, *i, *i, *i, *i, *i, *i, *i, *i, *i, *i, *i, *i, *i, *i, *i, *i]\n"
    )
    assert len(bomb.read_bytes()) == 589
    started = time.monotonic()
    run = run_cli("check", bomb)
    assert time.monotonic() - started < 20  # the interpreter's start; the file takes ms
    assert run.code == 2
    assert run.out == ""
    assert run.err == (
        f"error: {bomb}:10: invalid YAML: aliases expand to more than 10000 values "
        "(an alias bomb?); write the values out instead\n"
    )


def test_check_refuses_deep_nesting(run_cli: Callable[..., Run], tmp_path: Path) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text("contract: deep\nname:\n  " + "[" * 100_000 + "]" * 100_000 + "\n")
    run = run_cli("check", deep)
    assert run.code == 2
    assert run.err == f"error: {deep}:3: invalid YAML: values nested more than 64 levels deep\n"
    assert "Traceback" not in run.err
