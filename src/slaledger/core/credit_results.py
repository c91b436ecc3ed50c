"""What settling a month's credits produces: one record per customer, with invoice lines.

The JSON of each (``as_dict``) is the report's ``credits`` section, exactly as
``SETTLEMENT-SEMANTICS.md`` shows it, plus ``reason`` (why a credit is claimable, refused or
not covered; ``null`` otherwise). Amounts are negative decimal strings with the currency's
minor unit (``"-12.00"``, ``"-1200"`` for JPY) and the same figure in minor units.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

LineKind = Literal["uptime", "late", "cap"]
CreditStatus = Literal["none", "issued", "claimable", "refused", "not-covered"]
CREDIT_STATUSES: tuple[CreditStatus, ...] = (
    "none",
    "issued",
    "claimable",
    "refused",
    "not-covered",
)


def money_text(minor: int, places: int) -> str:
    """``-1200`` minor units of a 2-decimal currency as ``"-12.00"``; zero is ``"0.00"``."""
    text = format(Decimal(minor).scaleb(-places), f".{places}f")
    return text.removeprefix("-") if minor == 0 else text


@dataclass(frozen=True)
class CreditLine:
    """One invoice line: what it is for and its amount in minor units (negative: a credit)."""

    description: str
    amount_minor: int
    kind: LineKind
    service: str | None = None
    """The service (uptime lines) or the commitment (late lines) the line is for."""


@dataclass(frozen=True)
class CustomerCredit:
    """One customer's credit for one month."""

    customer: str
    month: str
    plan: str
    currency: str
    places: int
    """The currency's minor unit: 2 for EUR, 0 for JPY."""
    base_fee: Decimal
    status: CreditStatus
    percent: Decimal
    """The month's uptime credit % (after ``combine``), before late credits and the cap."""
    amount_minor: int
    capped: bool
    lines: tuple[CreditLine, ...]
    reason: str | None = None

    @property
    def amount(self) -> str:
        return money_text(self.amount_minor, self.places)

    def as_dict(self) -> dict[str, Any]:
        return {
            "customer": self.customer,
            "month": self.month,
            "plan": self.plan,
            "currency": self.currency,
            "base_fee": format(self.base_fee, f".{self.places}f"),
            "status": self.status,
            "percent": str(self.percent),
            "amount": self.amount,
            "amount_minor": self.amount_minor,
            "capped": self.capped,
            "lines": [
                {
                    "description": line.description,
                    "amount": money_text(line.amount_minor, self.places),
                }
                for line in self.lines
            ],
            "reason": self.reason,
        }
