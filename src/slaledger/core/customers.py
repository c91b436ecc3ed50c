"""Customers: who is owed credits, on which plan, in which currency, for which base fee.

The customers file of ``SETTLEMENT-SEMANTICS.md`` (section Money)::

    customers:
      - {id: acme, name: ACME GmbH, email: billing@acme.example, plan: pro,
         currency: EUR, base_fee: "120.00", services: [network, power], locations: [fra1],
         changes: [{from: 2026-11, plan: business, base_fee: "240.00"}]}

``base_fee`` is the monthly fee without add-ons, a decimal string (a binary float is an
error). ``services`` and ``locations`` default to all of the contract's. ``changes`` (DECISION)
is the customer's history: each entry takes effect from the first day of its month (``from``)
and changes the plan, the base fee or both; the last entry at or before a month wins. Which
currencies exist, and their minor units, is an adapter's business (the core reads no locale
data): :func:`check_customers` takes the known ones as an argument.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, NamedTuple

from pydantic import BeforeValidator, Field, PlainSerializer, field_validator, model_validator

from slaledger.core.contract import Contract
from slaledger.core.model_base import IDENTIFIER, StrictModel
from slaledger.core.records import Month

_CURRENCY = re.compile(r"^[A-Z]{3}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _fee(value: Any) -> Decimal:
    """A fee from a quoted decimal (``"120.00"``); never a binary float, never negative."""
    if isinstance(value, float):
        raise ValueError(
            f'expected a quoted decimal like "120.00" (an unquoted number is read as a '
            f"binary float), got {value!r}"
        )
    if not isinstance(value, str):
        raise ValueError(f'expected a quoted decimal like "120.00", got {value!r}')
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        raise ValueError(f'expected a decimal like "120.00", got {value!r}') from None
    if not number.is_finite() or number < 0:
        raise ValueError(f'expected a decimal of 0 or more like "120.00", got {value!r}')
    return number


Fee = Annotated[Decimal, BeforeValidator(_fee), PlainSerializer(str)]
"""A monthly fee: an exact, non-negative decimal written as a string."""


def _currency(value: Any) -> str:
    if not isinstance(value, str) or not _CURRENCY.match(value):
        raise ValueError(f"expected an ISO 4217 currency code like EUR or JPY, got {value!r}")
    return value


Currency = Annotated[str, BeforeValidator(_currency)]


def _identifier(value: str) -> str:
    if not IDENTIFIER.match(value):
        raise ValueError(f"expected an id of letters, digits, '.', '_' or '-', got {value!r}")
    return value


class Terms(NamedTuple):
    """What a customer pays in one month: its plan and monthly base fee."""

    plan: str
    base_fee: Decimal


class Change(StrictModel):
    """From the first day of ``from`` on, the customer's plan, base fee or both change."""

    from_: Month = Field(alias="from")
    plan: str | None = None
    base_fee: Fee | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> Change:
        if self.plan is None and self.base_fee is None:
            raise ValueError("expected plan, base_fee or both to change")
        return self


class Customer(StrictModel):
    id: str
    name: str
    email: str
    plan: str
    currency: Currency
    base_fee: Fee
    services: tuple[str, ...] | None = None
    """``None``: every service of the contract."""
    locations: tuple[str, ...] | None = None
    """``None``: every location (of ``per_location`` services)."""
    changes: tuple[Change, ...] = ()

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return _identifier(value)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not _EMAIL.match(value):
            raise ValueError(f"expected a billing email like billing@acme.example, got {value!r}")
        return value

    @field_validator("changes")
    @classmethod
    def _in_order(cls, value: tuple[Change, ...]) -> tuple[Change, ...]:
        months = [change.from_ for change in value]
        if months != sorted(months) or len(set(months)) != len(months):
            raise ValueError("expected changes in order of 'from', one per month")
        return value

    def terms(self, month: tuple[int, int]) -> Terms:
        """The plan and base fee in force during ``month``."""
        if not self.changes:
            return Terms(self.plan, self.base_fee)
        key = f"{month[0]:04d}-{month[1]:02d}"
        plan, fee = self.plan, self.base_fee
        for change in self.changes:
            if change.from_ > key:
                break
            plan = change.plan or plan
            fee = fee if change.base_fee is None else change.base_fee
        return Terms(plan, fee)


class Customers(StrictModel):
    customers: tuple[Customer, ...]

    def by_id(self) -> dict[str, Customer]:
        return {customer.id: customer for customer in self.customers}


FieldPath = tuple[str | int, ...]


def check_customers(
    customers: Customers, contract: Contract, minor_units: Mapping[str, int]
) -> list[tuple[FieldPath, str]]:
    """Every mistake that needs the whole file, the contract or the currency list, with its
    path: a repeated id, an unknown service or location, an unknown currency, a fee finer
    than the currency's minor unit."""
    found: list[tuple[FieldPath, str]] = []
    services = list(contract.services)
    every_location = contract.locations
    first: dict[str, int] = {}
    for index, customer in enumerate(customers.customers):
        here: FieldPath = ("customers", index)
        if customer.id in first:
            found.append(
                (
                    (*here, "id"),
                    f"expected a unique id; {customer.id!r} is already customers"
                    f"[{first[customer.id]}]",
                )
            )
        first.setdefault(customer.id, index)
        for position, service in enumerate(customer.services or ()):
            if service not in contract.services:
                found.append(
                    (
                        (*here, "services", position),
                        f"expected a service of contract {contract.contract} "
                        f"({', '.join(services)}), got {service!r}",
                    )
                )
        for position, location in enumerate(customer.locations or ()):
            if every_location is not None and location not in every_location:
                found.append(
                    (
                        (*here, "locations", position),
                        f"expected a location of contract {contract.contract} "
                        f"({', '.join(every_location)}), got {location!r}",
                    )
                )
            elif every_location is None:
                found.append(
                    (
                        (*here, "locations", position),
                        f"contract {contract.contract} declares no locations; got {location!r}",
                    )
                )
        places = minor_units.get(customer.currency)
        if places is None:
            found.append(
                (
                    (*here, "currency"),
                    f"expected a known ISO 4217 currency code like EUR or JPY, "
                    f"got {customer.currency!r}",
                )
            )
            continue
        fees = [((*here, "base_fee"), customer.base_fee)]
        fees += [
            ((*here, "changes", n, "base_fee"), change.base_fee)
            for n, change in enumerate(customer.changes)
            if change.base_fee is not None
        ]
        for path, fee in fees:
            if fee != fee.quantize(Decimal(1).scaleb(-places)):
                found.append(
                    (
                        path,
                        f"expected at most {places} decimals ({customer.currency} has "
                        f"{places}), got {str(fee)!r}",
                    )
                )
    return found
