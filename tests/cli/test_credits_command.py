"""``slaledger report --customers`` and ``slaledger credits``: money, exact, and every
mistake in a customers file located."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import Run

CONTRACT = """\
contract: hosting
name: Hosting SLA
locations: [fra, ams]
services:
  network: {name: Network, target: "99.99", per_location: true, downtime: {rule: probe-ratio}}
credits:
  basis: monthly-base-fee
  mode: automatic
  tiers:
    - {below: "99.99", credit: 10}
    - {below: "99.9", credit: 25}
calendars:
  cet-support:
    timezone: Europe/Berlin
    open: {mon-fri: "09:00-22:00"}
commitments:
  hardware-swap:
    kind: deadline
    records: hardware-swap
    within: 4h
    calendar: cet-support
    late_credit: {per_started_hour: 1d, cap: "100"}
"""

CUSTOMERS = """\
customers:
  - {id: acme, name: ACME GmbH, email: billing@acme.example, plan: dedicated,
     currency: EUR, base_fee: "120.00", locations: [fra]}
  - {id: sakura, name: Sakura KK, email: seikyu@sakura.example, plan: dedicated,
     currency: JPY, base_fee: "18000", locations: [ams]}
"""

# Diagnosed 10:00 CEST, due 14:00 CEST (12:00Z), replaced 3 h 20 min late: 4 started hours.
SWAP = {
    "kind": "hardware-swap",
    "id": "HW-7",
    "customer": "acme",
    "location": "fra",
    "diagnosed": "2026-10-14T08:00:00Z",
    "replaced": "2026-10-14T15:20:00Z",
}


def _probes() -> str:
    """2,000 probes per location; one 503 at fra: 99.95 %, below 99.99 (10 %)."""
    rows = ["timestamp,service,location,status,error,latency_ms,retry_after"]
    for i in range(2000):
        at = f"2026-10-{1 + i // 1440:02d}T{(i // 60) % 24:02d}:{i % 60:02d}:00Z"
        rows.append(f"{at},network,fra,{503 if i == 0 else 200},,12,")
        rows.append(f"{at},network,ams,200,,12,")
    return "\n".join(rows) + "\n"


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "contract.yaml").write_text(CONTRACT, encoding="utf-8")
    (tmp_path / "probes.csv").write_text(_probes(), encoding="utf-8")
    (tmp_path / "records.jsonl").write_text(json.dumps(SWAP) + "\n", encoding="utf-8")
    (tmp_path / "customers.yaml").write_text(CUSTOMERS, encoding="utf-8")
    return tmp_path


def run(run_cli: Callable[..., Run], command: str, files: Path, *options: str) -> Run:
    return run_cli(
        command,
        files / "contract.yaml",
        "--probes",
        files / "probes.csv",
        "--month",
        "2026-10",
        "--records",
        files / "records.jsonl",
        "--customers",
        files / "customers.yaml",
        *options,
    )


NETWORK_LINE = (
    "network: availability 99.950000 % at fra, target 99.99 %, tier below 99.99 %: 10 % of base fee"
)
SWAP_LINE = (
    "hardware-swap HW-7: 4 started hours late (due 2026-10-14T12:00:00Z), 1d of base fee per hour"
)


def test_report_json_has_the_credits_section_as_specified(
    run_cli: Callable[..., Run], files: Path
) -> None:
    done = run(run_cli, "report", files, "--format", "json")
    assert done.code == 0, done.err
    assert json.loads(done.out)["credits"] == [
        {
            "customer": "acme",
            "month": "2026-10",
            "plan": "dedicated",
            "currency": "EUR",
            "base_fee": "120.00",
            "status": "issued",
            "percent": "10",
            "amount": "-27.48",
            "amount_minor": -2748,
            "capped": False,
            "lines": [
                {"description": NETWORK_LINE, "amount": "-12.00"},
                {"description": SWAP_LINE, "amount": "-15.48"},
            ],
            "reason": None,
        },
        {
            "customer": "sakura",
            "month": "2026-10",
            "plan": "dedicated",
            "currency": "JPY",
            "base_fee": "18000",
            "status": "none",
            "percent": "0",
            "amount": "0",
            "amount_minor": 0,
            "capped": False,
            "lines": [],
            "reason": None,
        },
    ]


def test_report_csv_ends_with_the_credits_table(run_cli: Callable[..., Run], files: Path) -> None:
    done = run(run_cli, "report", files, "--format", "csv")
    assert done.code == 0, done.err
    assert done.out.endswith(
        "\ncustomer,month,plan,currency,base_fee,status,percent,amount,amount_minor,capped,reason\n"
        "acme,2026-10,dedicated,EUR,120.00,issued,10,-27.48,-2748,false,\n"
        "sakura,2026-10,dedicated,JPY,18000,none,0,0,0,false,\n"
    )


def test_credits_prints_the_invoice_lines_as_csv(run_cli: Callable[..., Run], files: Path) -> None:
    done = run(run_cli, "credits", files)
    assert done.code == 0, done.err
    assert done.out == (
        "customer,month,description,amount,amount_minor,currency\n"
        f'acme,2026-10,"{NETWORK_LINE}",-12.00,-1200,EUR\n'
        f'acme,2026-10,"{SWAP_LINE}",-15.48,-1548,EUR\n'
    )


def test_credits_prints_the_invoice_lines_as_json(run_cli: Callable[..., Run], files: Path) -> None:
    done = run(run_cli, "credits", files, "--format", "json")
    assert done.code == 0, done.err
    assert json.loads(done.out)[1] == {
        "customer": "acme",
        "month": "2026-10",
        "description": SWAP_LINE,
        "amount": "-15.48",
        "amount_minor": -1548,
        "currency": "EUR",
    }


BAD_CUSTOMERS = """\
customers:
  - id: acme
    name: ACME GmbH
    email: billing@acme.example
    plan: dedicated
    currency: EUR
    base_fee: {fee}
  - id: zed
    name: Zed
    email: zed@zed.example
    plan: dedicated
    currency: ZZZ
    base_fee: "1"
    services: [network, dns]
    locations: [fra, par]
  - id: yen
    name: Yen
    email: yen@yen.example
    plan: dedicated
    currency: JPY
    base_fee: "100.5"
"""


def test_a_fee_written_as_a_float_is_located(run_cli: Callable[..., Run], files: Path) -> None:
    path = files / "customers.yaml"
    path.write_text(BAD_CUSTOMERS.format(fee="120.00"), encoding="utf-8")
    done = run(run_cli, "credits", files)
    assert done.code == 2
    assert done.out == ""
    assert done.err == (
        f'error: {path}:7: customers[0].base_fee: expected a quoted decimal like "120.00" '
        "(an unquoted number is read as a binary float), got 120.0\n"
    )


def test_unknown_currency_service_location_and_finer_fee_are_located(
    run_cli: Callable[..., Run], files: Path
) -> None:
    path = files / "customers.yaml"
    path.write_text(BAD_CUSTOMERS.format(fee='"120.00"'), encoding="utf-8")
    done = run(run_cli, "report", files)
    assert done.code == 2
    assert done.err == (
        f"error: {path}:12: customers[1].currency: expected a known ISO 4217 currency code "
        "like EUR or JPY, got 'ZZZ'\n"
        f"error: {path}:14: customers[1].services[1]: expected a service of contract hosting "
        "(network), got 'dns'\n"
        f"error: {path}:15: customers[1].locations[1]: expected a location of contract hosting "
        "(fra, ams), got 'par'\n"
        f"error: {path}:21: customers[2].base_fee: expected at most 0 decimals (JPY has 0), "
        "got '100.5'\n"
    )


def test_a_claim_for_an_unknown_customer_is_located(
    run_cli: Callable[..., Run], files: Path
) -> None:
    records = files / "records.jsonl"
    claim = {
        "kind": "claim",
        "customer": "nobody",
        "month": "2026-10",
        "received": "2026-11-02T10:00:00Z",
    }
    records.write_text(json.dumps(SWAP) + "\n" + json.dumps(claim) + "\n", encoding="utf-8")
    done = run(run_cli, "credits", files)
    assert done.code == 2
    assert done.out == ""
    assert done.err == (
        f"error: {records}:2: customer: expected a customer of the customers file "
        "(acme, sakura), got 'nobody'\n"
    )


def test_the_example_customers_files_fit_their_contracts(contracts: Path) -> None:
    from slaledger.files.contract_file import load_contract
    from slaledger.files.customers_file import load_customers

    examples = contracts.parent / "customers"
    for name in ("hosting-pop", "itstabyl"):
        book = load_customers(examples / f"{name}.yaml", load_contract(contracts / f"{name}.yaml"))
        assert book.customers.customers


ON_REQUEST = CONTRACT.replace(
    "  mode: automatic\n",
    "  mode: on-request\n  claim_within: 30d\n  excluded_plans: [free]\n  combine: sum\n",
)


def test_claims_stored_after_the_month_decide_credits_from_the_db(
    run_cli: Callable[..., Run], files: Path
) -> None:
    """Claims arrive after the month; ``--db`` reads them, on time and late alike."""
    contract = files / "contract.yaml"
    contract.write_text(ON_REQUEST, encoding="utf-8")
    (files / "customers.yaml").write_text(
        CUSTOMERS.replace("plan: dedicated,\n     currency: JPY", "plan: free,\n     currency: JPY")
        + "  - {id: late, name: Late Ltd, email: a@late.example, plan: pro, currency: EUR,\n"
        '     base_fee: "10.00", locations: [fra]}\n',
        encoding="utf-8",
    )
    claims = [
        {
            "kind": "claim",
            "customer": "acme",
            "month": "2026-10",
            "received": "2026-11-30T23:59:59Z",
        },
        {
            "kind": "claim",
            "customer": "late",
            "month": "2026-10",
            "received": "2026-12-02T01:02:03Z",
        },
    ]
    records = files / "stored.jsonl"
    records.write_text("".join(json.dumps(r) + "\n" for r in [SWAP, *claims]), encoding="utf-8")
    db = f"sqlite:///{files / 'store.db'}"
    assert run_cli("import", contract, files / "probes.csv", "--db", db).code == 0
    stored = run_cli("records", "import", contract, records, "--db", db)
    assert stored.code == 0, stored.err
    done = run_cli(
        "report",
        contract,
        "--db",
        db,
        "--month",
        "2026-10",
        "--customers",
        files / "customers.yaml",
        "--format",
        "json",
    )
    assert done.code == 0, done.err
    credits = {c["customer"]: c for c in json.loads(done.out)["credits"]}
    assert (credits["acme"]["status"], credits["acme"]["amount"]) == ("issued", "-27.48")
    assert credits["sakura"]["status"] == "not-covered"
    assert credits["late"]["status"] == "refused"
    assert credits["late"]["amount"] == "-1.00"
    assert credits["late"]["reason"] == (
        "claim received 2026-12-02T01:02:03Z, 1d 1h 2m 3s after the deadline 2026-12-01T00:00:00Z"
    )


def test_credit_keys_of_the_contract_are_located(run_cli: Callable[..., Run], files: Path) -> None:
    contract = files / "contract.yaml"
    contract.write_text(
        CONTRACT.replace("  mode: automatic\n", "  mode: automatic\n  combine: avg\n  cap: 50.5\n"),
        encoding="utf-8",
    )
    done = run(run_cli, "credits", files)
    assert done.code == 2
    assert done.err == (
        f"error: {contract}:9: credits.combine: expected one of 'max', 'sum', got 'avg'\n"
        f'error: {contract}:10: credits.cap: expected a quoted percentage like "99.9" (an '
        "unquoted number is read as a binary float), got 50.5\n"
    )


def test_the_seed_examples_settle_the_demo_month_in_money(
    run_cli: Callable[..., Run], contracts: Path, demo_files: Path
) -> None:
    """The example customers on the demo's month: the hosting seed issues automatically
    (worst location, a late swap, JPY), Itstabyl issues on a claim on day 30, refuses one on
    day 31 and covers no free tier."""
    examples = contracts.parent / "customers"
    hosting = demo_files / "hosting-pop"
    done = run_cli(
        "credits",
        contracts / "hosting-pop.yaml",
        "--probes",
        hosting / "observations.csv",
        "--events",
        hosting / "events.yaml",
        "--month",
        "2026-10",
        "--records",
        hosting / "records.jsonl",
        "--customers",
        examples / "hosting-pop.yaml",
    )
    assert done.code == 0, done.err
    network = (
        "network: availability 99.865591 % at fra, target 99.99 %, tier below 99.9 %: "
        "25 % of base fee"
    )
    assert done.out == (
        "customer,month,description,amount,amount_minor,currency\n"
        f'nordwind-gmbh,2026-10,"{network}",-30.00,-3000,EUR\n'
        'nordwind-gmbh,2026-10,"hardware-swap HW-901: 2 started hours late '
        '(due 2026-10-14T18:00:00Z), 1d of base fee per hour",-7.74,-774,EUR\n'
        f'kesselhaus,2026-10,"{network}",-22.25,-2225,EUR\n'
        f'tessera-ai,2026-10,"{network}",-4500,-4500,JPY\n'
    )
    itstabyl = demo_files / "itstabyl"
    done = run_cli(
        "report",
        contracts / "itstabyl.yaml",
        "--probes",
        itstabyl / "observations.csv",
        "--events",
        itstabyl / "events.yaml",
        "--month",
        "2026-10",
        "--records",
        examples / "itstabyl-claims.jsonl",
        "--customers",
        examples / "itstabyl.yaml",
        "--format",
        "json",
    )
    assert done.code == 0, done.err
    credits = json.loads(done.out)["credits"]
    assert [(c["customer"], c["status"], c["amount"]) for c in credits] == [
        ("brightpath", "issued", "-4.90"),
        ("quayside", "refused", "-19.90"),
        ("tinkerer", "not-covered", "0.00"),
    ]
    assert credits[1]["reason"] == (
        "claim received 2026-12-01T09:30:00Z, 9h 30m after the deadline 2026-12-01T00:00:00Z"
    )
