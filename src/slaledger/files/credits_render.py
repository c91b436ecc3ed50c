"""Credits as text: the report's credits table and CSV, and invoice lines for billing.

JSON of a report's credits is each record's own ``as_dict``
(:mod:`slaledger.core.credit_results`). Invoice lines are what a billing system imports as
credit notes: only ``issued`` credits have them, one row per line, amounts negative.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from slaledger.core.credit_results import CustomerCredit, money_text

CREDITS_COLUMNS = (
    "customer",
    "month",
    "plan",
    "currency",
    "base_fee",
    "status",
    "percent",
    "amount",
    "amount_minor",
    "capped",
    "reason",
)
"""The report's credits CSV: one row per customer."""

INVOICE_COLUMNS = (
    "customer",
    "month",
    "description",
    "amount",
    "amount_minor",
    "currency",
)
"""An invoice line: the amount as a negative decimal and in minor units."""


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def credits_csv(credits: Sequence[CustomerCredit]) -> str:
    """The credits as a CSV table of :data:`CREDITS_COLUMNS`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CREDITS_COLUMNS)
    for credit in credits:
        fields = credit.as_dict()
        writer.writerow(_text(fields[column]) for column in CREDITS_COLUMNS)
    return out.getvalue()


def credits_table(credits: Sequence[CustomerCredit]) -> list[str]:
    """The credits for people: one line per customer, its invoice lines under it."""
    out = ["", "credits"]
    for credit in credits:
        fields = credit.as_dict()
        head = (
            f"  {credit.customer}  {credit.plan}  {credit.status}  {fields['amount']} "
            f"{credit.currency} of {fields['base_fee']} (uptime {fields['percent']} %"
            f"{', capped' if credit.capped else ''})"
        )
        out.append(head)
        if credit.reason:
            out.append(f"    {credit.reason}")
        out.extend(
            f"    {money_text(line.amount_minor, credit.places)}  {line.description}"
            for line in credit.lines
        )
    return out


def invoice_lines(credits: Sequence[CustomerCredit]) -> list[dict[str, Any]]:
    """Every line of every issued credit, as :data:`INVOICE_COLUMNS`."""
    return [
        {
            "customer": credit.customer,
            "month": credit.month,
            "description": line.description,
            "amount": money_text(line.amount_minor, credit.places),
            "amount_minor": line.amount_minor,
            "currency": credit.currency,
        }
        for credit in credits
        if credit.status == "issued"
        for line in credit.lines
    ]


def render_invoice_lines(credits: Sequence[CustomerCredit], fmt: str) -> str:
    """The invoice lines as ``csv`` or ``json`` (a list of objects)."""
    lines = invoice_lines(credits)
    if fmt == "json":
        return json.dumps(lines, indent=2, ensure_ascii=False) + "\n"
    out = io.StringIO()
    writer = csv.DictWriter(out, INVOICE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(lines)
    return out.getvalue()
