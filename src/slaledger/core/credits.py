"""Credits in money: per customer and month, exactly as ``SETTLEMENT-SEMANTICS.md`` (Money).

1. Per service, the tier credit % of the customer's worst availability among its locations
   (the settled :class:`~slaledger.core.report.Result` already carries each tier credit).
2. The month's uptime credit % is the largest over its services (``credits.combine: max``)
   or their sum (``sum``).
3. Plus each late ``deadline`` record of that customer: late hours × ``per_started_hour`` of
   base fee (a day's fee is base fee / days in the month of ``due``), capped per record at
   the commitment's ``late_credit.cap`` % of base fee.
4. The total is capped at ``credits.cap`` % of base fee. Everything is exact (fractions);
   only the capped total is rounded, half-even, to the currency's minor unit. Each line is
   rounded the same way and the last line takes the difference, so lines add up to the total.
5. Plans in ``credits.excluded_plans`` get nothing (``not-covered``).
6. ``mode: automatic`` issues; ``on-request`` makes the credit ``claimable``: a claim received
   at or before the end of the month + ``claim_within`` issues it, a later one is refused.
"""

from __future__ import annotations

import calendar
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from slaledger.core.commitment_results import CommitmentResult, ItemResult
from slaledger.core.commitment_spec import Deadline, LateCredit
from slaledger.core.contract import Contract, Credits
from slaledger.core.credit_results import CreditLine, CreditStatus, CustomerCredit, LineKind
from slaledger.core.customers import Customer
from slaledger.core.durations import format_duration
from slaledger.core.figures import decimal_text
from slaledger.core.periods import calendar_month
from slaledger.core.records import Claim
from slaledger.core.report import Result
from slaledger.core.timebase import US_PER_DAY, US_PER_SECOND, format_instant, from_instant


@dataclass(frozen=True)
class LateRecord:
    """A late ``deadline`` item of one customer, with the commitment's ``late_credit``."""

    commitment: str
    item: ItemResult
    late_credit: LateCredit


@dataclass(frozen=True)
class _Exact:
    description: str
    amount: int
    """Positive: what is credited (negated on the invoice), in units of 1 / (d × scale)."""
    kind: LineKind
    service: str | None


def late_records(
    contract: Contract, commitments: Iterable[CommitmentResult] | None
) -> dict[str, list[LateRecord]]:
    """The late items of every ``deadline`` commitment that has a ``late_credit``, by customer."""
    found: dict[str, list[LateRecord]] = defaultdict(list)
    for result in commitments or ():
        spec = contract.commitments.get(result.commitment)
        if not isinstance(spec, Deadline) or spec.late_credit is None:
            continue
        for item in result.items:
            if item.status == "late" and item.customer is not None and item.late_hours:
                found[item.customer].append(LateRecord(result.commitment, item, spec.late_credit))
    return found


def settle_credits(
    contract: Contract,
    month: tuple[int, int],
    results: Sequence[Result],
    customers: Sequence[Customer],
    minor_units: Mapping[str, int],
    *,
    commitments: Iterable[CommitmentResult] | None = None,
    claims: Iterable[Claim] = (),
) -> tuple[CustomerCredit, ...]:
    """Each customer's credit for ``month`` from the month's settled ``results`` (and the
    commitments' late records, and the claims received). ``minor_units`` maps every
    customer's currency to its decimals."""
    credits = contract.credits
    if credits is None:
        credits = Credits(basis="none", mode="automatic", tiers=())
    zone = contract.zone
    key = f"{month[0]:04d}-{month[1]:02d}"
    period_end = calendar_month(*month, zone).end
    late = late_records(contract, commitments)
    first_claim: dict[str, int] = {}
    for claim in claims:
        if claim.month == key:
            first_claim[claim.customer] = min(
                claim.received, first_claim.get(claim.customer, claim.received)
            )
    by_service: dict[str, list[Result]] = defaultdict(list)
    for result in results:
        by_service[result.service].append(result)
    uptime_cache: dict[tuple[object, object], tuple[int, list[tuple[str, int, str]]]] = {}
    scale = _scale(contract, credits)
    settled = []
    for customer in customers:
        scope = (customer.services, customer.locations)
        if scope not in uptime_cache:
            uptime_cache[scope] = _uptime(contract, credits, by_service, customer)
        settled.append(
            _customer_credit(
                credits,
                customer,
                month,
                key,
                minor_units[customer.currency],
                uptime_cache[scope],
                late.get(customer.id, ()),
                first_claim.get(customer.id),
                period_end,
                zone,
                scale,
            )
        )
    return tuple(settled)


def _scale(contract: Contract, credits: Credits) -> int:
    """``M``: every exact amount of a customer whose base fee is ``n / d`` is an integer
    number of ``1 / (d × M)`` (percentages of it, and per-hour shares of a day's fee in a
    month of 28 to 31 days): integers instead of fractions, exact and fast."""
    caps = [credits.cap] + [
        spec.late_credit.cap
        for spec in contract.commitments.values()
        if isinstance(spec, Deadline) and spec.late_credit is not None
    ]
    scale = math.lcm(US_PER_DAY * math.lcm(28, 29, 30, 31), 100)
    for cap in caps:
        scale = math.lcm(scale, 100 * cap.as_integer_ratio()[1])
    return scale


def _half_even(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half-even to an integer, exactly."""
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2 == 1):
        quotient += 1
    return quotient


def _uptime(
    contract: Contract,
    credits: Credits,
    by_service: Mapping[str, list[Result]],
    customer: Customer,
) -> tuple[int, list[tuple[str, int, str]]]:
    """The month's uptime credit % and, per service with a credit, (service, %, description)."""
    per_service: list[tuple[str, int, str]] = []
    for service_id in customer.services or tuple(contract.services):
        service = contract.services[service_id]
        candidates = [
            result
            for result in by_service.get(service_id, ())
            if result.availability is not None
            and (
                customer.locations is None
                or not service.per_location
                or result.location in customer.locations
            )
        ]
        if not candidates:
            continue
        worst = min(candidates, key=lambda result: result.availability or 0)
        percent = worst.credit_percent
        if percent == 0:
            continue
        assert worst.availability is not None
        where = "" if worst.location is None else f" at {worst.location}"
        below = min(tier.below for tier in credits.tiers if worst.availability < tier.below)
        description = (
            f"{service_id}: availability {decimal_text(worst.availability)} %{where}, "
            f"target {service.target} %, tier below {below} %: {percent} % of base fee"
        )
        per_service.append((service_id, percent, description))
    if not per_service:
        return 0, []
    if credits.combine == "sum":
        return sum(percent for _, percent, _ in per_service), per_service
    largest = max(per_service, key=lambda entry: entry[1])  # the first of equals
    return largest[1], [largest]


def _customer_credit(
    credits: Credits,
    customer: Customer,
    month: tuple[int, int],
    key: str,
    places: int,
    uptime: tuple[int, list[tuple[str, int, str]]],
    late: Sequence[LateRecord],
    claimed: int | None,
    period_end: int,
    zone: ZoneInfo,
    scale: int,
) -> CustomerCredit:
    terms = customer.terms(month)
    percent, services = uptime

    def record(
        status: CreditStatus,
        total_minor: int = 0,
        capped: bool = False,
        lines: tuple[CreditLine, ...] = (),
        reason: str | None = None,
    ) -> CustomerCredit:
        return CustomerCredit(
            customer=customer.id,
            month=key,
            plan=terms.plan,
            currency=customer.currency,
            places=places,
            base_fee=terms.base_fee,
            status=status,
            percent=Decimal(percent),
            amount_minor=total_minor,
            capped=capped,
            lines=lines,
            reason=reason,
        )

    if terms.plan in credits.excluded_plans:
        percent = 0
        return record("not-covered", reason=f"plan {terms.plan} is not covered")
    # Exact amounts in units of 1 / (d × scale), the base fee being n / d.
    fee, fee_denominator = terms.base_fee.as_integer_ratio()
    unit = fee_denominator * scale
    per_percent = fee * (scale // 100)
    exact = [
        _Exact(description, per_percent * share, "uptime", service_id)
        for service_id, share, description in services
    ]
    exact.extend(_late_line(entry, fee, scale, zone) for entry in late)
    total = sum(line.amount for line in exact)
    cap, cap_denominator = credits.cap.as_integer_ratio()
    limit = fee * cap * (scale // (100 * cap_denominator))
    capped = total > limit
    if capped:
        exact.append(
            _Exact(
                f"cap: credits limited to {credits.cap} % of the base fee",
                limit - total,
                "cap",
                None,
            )
        )
        total = limit
    total_minor = -_half_even(total * 10**places, unit)
    if total_minor == 0:
        return record("none")
    lines = _rounded_lines(exact, total_minor, places, unit)
    if credits.mode == "automatic":
        return record("issued", total_minor, capped, lines)
    assert credits.claim_within is not None
    deadline = period_end + credits.claim_within
    if claimed is None:
        reason = f"claimable until {format_instant(deadline)}"
        return record("claimable", total_minor, capped, lines, reason)
    if claimed <= deadline:
        return record("issued", total_minor, capped, lines)
    reason = (
        f"claim received {format_instant(claimed)}, {_lateness(claimed - deadline)} after the "
        f"deadline {format_instant(deadline)}"
    )
    return record("refused", total_minor, capped, lines, reason)


def _late_line(entry: LateRecord, fee: int, scale: int, zone: ZoneInfo) -> _Exact:
    """Late hours × ``per_started_hour`` of a day's base fee (base fee / days in the month
    of ``due``), at most ``cap`` % of the base fee; in units of 1 / (d × scale)."""
    item = entry.item
    assert item.due is not None
    assert item.late_hours is not None
    local_due = from_instant(item.due).astimezone(zone)
    days = calendar.monthrange(local_due.year, local_due.month)[1]
    credit = entry.late_credit
    amount = item.late_hours * credit.per_started_hour * fee * (scale // (US_PER_DAY * days))
    cap, cap_denominator = credit.cap.as_integer_ratio()
    amount = min(amount, fee * cap * (scale // (100 * cap_denominator)))
    hours = "hour" if item.late_hours == 1 else "hours"
    description = (
        f"{entry.commitment} {item.id}: {item.late_hours} started {hours} late "
        f"(due {format_instant(item.due)}), "
        f"{_per_hour(credit.per_started_hour)} of base fee per hour"
    )
    return _Exact(description, amount, "late", entry.commitment)


def _per_hour(us: int) -> str:
    """``1d`` for a day (not ``24h``), else the duration's usual form."""
    return f"{us // US_PER_DAY}d" if us % US_PER_DAY == 0 else format_duration(us)


def _rounded_lines(
    exact: Sequence[_Exact], total_minor: int, places: int, unit: int
) -> tuple[CreditLine, ...]:
    """Each line half-even in minor units (negated); the last takes the difference."""
    rounded = [-_half_even(line.amount * 10**places, unit) for line in exact[:-1]]
    rounded.append(total_minor - sum(rounded))
    return tuple(
        CreditLine(line.description, minor, line.kind, line.service)
        for line, minor in zip(exact, rounded, strict=True)
    )


def _lateness(us: int) -> str:
    """How late a claim came: whole days, hours, minutes and seconds (``1d 2h 3m 4s``)."""
    seconds = -(-us // US_PER_SECOND)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{days}d"] if days else []
    parts += [f"{hours}h"] if hours else []
    parts += [f"{minutes}m"] if minutes else []
    parts += [f"{seconds}s"] if seconds or not parts else []
    return " ".join(parts)
