"""Exact availability figures: fractions, half-even decimal text, targets and credits."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from slaledger.core.contract import Credits

DECIMALS = 6


def ratio_availability(up: int, down: int) -> Fraction | None:
    """``up / (up + down) × 100``; ``None`` when there is nothing to judge."""
    if up + down == 0:
        return None
    return Fraction(100 * up, up + down)


def minute_availability(total: int, downtime: int) -> Fraction | None:
    """``(total − downtime) / total × 100``, downtime capped at total; ``None`` for total 0."""
    if total <= 0:
        return None
    return Fraction(100 * (total - min(downtime, total)), total)


def decimal_text(value: Fraction, places: int = DECIMALS) -> str:
    """``value`` rounded half-even to ``places`` decimals, as text (``"99.984319"``)."""
    scaled = value * 10**places
    quotient, remainder = divmod(scaled.numerator, scaled.denominator)
    twice = 2 * remainder
    if twice > scaled.denominator or (twice == scaled.denominator and quotient % 2 == 1):
        quotient += 1
    sign = "-" if quotient < 0 else ""
    digits = str(abs(quotient)).rjust(places + 1, "0")
    return f"{sign}{digits[:-places]}.{digits[-places:]}" if places else f"{sign}{digits}"


def as_fraction(value: Decimal) -> Fraction:
    return Fraction(value)


def meets(availability: Fraction | None, target: Decimal) -> bool | None:
    """Exact ``availability ≥ target``; ``None`` when availability is unknown."""
    return None if availability is None else availability >= as_fraction(target)


def credit_percent(availability: Fraction | None, credits: Credits | None) -> int:
    """Credit owed: the tier of the smallest ``below`` strictly above ``availability``."""
    if availability is None or credits is None:
        return 0
    return credits.credit_for(availability)


def allowed_downtime_minutes(target: Decimal, minutes: int) -> Fraction:
    """Downtime a target allows in a period of ``minutes``: ``minutes × (100 − target) / 100``."""
    return Fraction(minutes) * (100 - as_fraction(target)) / 100


def whole_minutes_allowed(target: Decimal, minutes: int) -> int:
    """The most whole minutes of downtime that still meet ``target``."""
    allowed = allowed_downtime_minutes(target, minutes)
    return allowed.numerator // allowed.denominator
