from decimal import Decimal
from fractions import Fraction

import pytest

from slaledger.core.contract import Credits
from slaledger.core.figures import (
    allowed_downtime_minutes,
    credit_percent,
    decimal_text,
    meets,
    minute_availability,
    ratio_availability,
    whole_minutes_allowed,
)

HOSTING_TIERS = Credits.model_validate(
    {
        "basis": "monthly-base-fee",
        "mode": "automatic",
        "tiers": [
            {"below": "99.99", "credit": 10},
            {"below": "99.9", "credit": 25},
            {"below": "99.5", "credit": 50},
            {"below": "99.0", "credit": 100},
        ],
    }
)


def test_spec_example_availability() -> None:
    availability = minute_availability(44640, 7)
    assert availability == Fraction(100 * 44633, 44640)
    assert decimal_text(availability) == "99.984319"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Fraction(1, 2_000_000), "0.000000"),  # 0.0000005 -> half-even to 0
        (Fraction(3, 2_000_000), "0.000002"),  # 0.0000015 -> 0.000002
        (Fraction(100), "100.000000"),
        (Fraction(2, 3), "0.666667"),
    ],
)
def test_decimal_text_rounds_half_even(value: Fraction, text: str) -> None:
    assert decimal_text(value) == text


def test_ratio_and_unknown() -> None:
    assert ratio_availability(999, 1) == Fraction(999, 10)
    assert ratio_availability(0, 0) is None
    assert minute_availability(0, 0) is None
    assert minute_availability(10, 20) == 0


def test_meets_is_exact() -> None:
    assert meets(Fraction(9999, 100), Decimal("99.99")) is True
    assert meets(Fraction(999899, 10000), Decimal("99.99")) is False
    assert meets(None, Decimal("99.9")) is None


@pytest.mark.parametrize(
    ("availability", "credit"),
    [
        ("100", 0),
        ("99.99", 0),
        ("99.989999", 10),
        ("99.9", 10),
        ("99.5", 25),
        ("99.0", 50),
        ("98.999999", 100),
    ],
)
def test_credit_of_smallest_tier_strictly_above(availability: str, credit: int) -> None:
    assert credit_percent(Fraction(availability), HOSTING_TIERS) == credit


def test_credit_without_scheme_or_data_is_zero() -> None:
    assert credit_percent(Fraction(50), None) == 0
    assert credit_percent(None, HOSTING_TIERS) == 0


def test_allowed_downtime_matches_the_heft_table() -> None:
    thirty_days = 30 * 1440
    assert allowed_downtime_minutes(Decimal("99.99"), thirty_days) == Fraction(432, 100)
    assert allowed_downtime_minutes(Decimal("99.9"), thirty_days) == Fraction(432, 10)
    assert allowed_downtime_minutes(Decimal("99.5"), thirty_days) == 216  # 3.6 h
    assert whole_minutes_allowed(Decimal("99.99"), thirty_days) == 4
