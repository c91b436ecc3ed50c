"""The customers file: history entries and fields located like a contract's mistakes."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from slaledger.errors import CustomersError
from slaledger.files.contract_file import load_contract
from slaledger.files.customers_file import load_customers

CONTRACTS = Path(__file__).resolve().parents[2] / "examples" / "contracts"

BAD = """\
customers:
  - id: acme
    name: ACME GmbH
    email: billing@acme.example
    plan: dedicated
    currency: EUR
    base_fee: "120.00"
    changes:
      - {from: 2026-13, base_fee: 130.5}
      - {from: 2026-11}
      - {from: 2026-10, plan: x, colour: red}
  - id: acme
    name: ACME
    email: nope
    plan: p
    base_fee: "1"
"""


def test_every_mistake_is_located(tmp_path: Path) -> None:
    path = tmp_path / "customers.yaml"
    path.write_text(BAD, encoding="utf-8")
    with pytest.raises(CustomersError) as caught:
        load_customers(path, load_contract(CONTRACTS / "hosting-pop.yaml"))
    assert [str(problem) for problem in caught.value.problems] == [
        f"{path}:9: customers[0].changes[0].from: expected a month like 2026-10, got '2026-13'",
        f'{path}:9: customers[0].changes[0].base_fee: expected a quoted decimal like "120.00" '
        "(an unquoted number is read as a binary float), got 130.5",
        f"{path}:10: customers[0].changes[1]: expected plan, base_fee or both to change",
        f"{path}:11: customers[0].changes[2].colour: unknown key 'colour'; expected one of: "
        "from, plan, base_fee",
        f"{path}:12: customers[1].currency: missing required key",
        f"{path}:14: customers[1].email: expected a billing email like billing@acme.example, "
        "got 'nope'",
    ]


def test_repeated_ids_and_changes_out_of_order(tmp_path: Path) -> None:
    path = tmp_path / "customers.yaml"
    entry = (
        "  - {{id: {id}, name: N, email: a@b.example, plan: p, currency: EUR, "
        'base_fee: "1.00"{more}}}\n'
    )
    path.write_text(
        "customers:\n"
        + entry.format(id="a", more="")
        + entry.format(
            id="a",
            more=', changes: [{from: 2026-11, plan: q}, {from: 2026-10, base_fee: "2.00"}]',
        ),
        encoding="utf-8",
    )
    with pytest.raises(CustomersError) as caught:
        load_customers(path, load_contract(CONTRACTS / "hosting-pop.yaml"))
    assert [str(problem) for problem in caught.value.problems] == [
        f"{path}:3: customers[1].changes: expected changes in order of 'from', one per month"
    ]
    path.write_text("customers:\n" + entry.format(id="a", more="") * 2, encoding="utf-8")
    with pytest.raises(CustomersError) as caught:
        load_customers(path, load_contract(CONTRACTS / "hosting-pop.yaml"))
    assert [str(problem) for problem in caught.value.problems] == [
        f"{path}:3: customers[1].id: expected a unique id; 'a' is already customers[0]"
    ]


def test_the_minor_units_come_from_the_cldr(tmp_path: Path) -> None:
    path = tmp_path / "customers.yaml"
    path.write_text(
        "customers:\n"
        + "".join(
            f"  - {{id: c{code}, name: N, email: a@b.example, plan: p, currency: {code}, "
            f'base_fee: "{fee}"}}\n'
            for code, fee in (("EUR", "1.00"), ("JPY", "100"), ("BHD", "1.000"))
        ),
        encoding="utf-8",
    )
    book = load_customers(path, load_contract(CONTRACTS / "hosting-pop.yaml"))
    assert book.minor_units == {"EUR": 2, "JPY": 0, "BHD": 3}
    assert book.customers.customers[2].base_fee == Decimal("1.000")
