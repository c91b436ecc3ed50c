"""Currencies and their minor units, from the Unicode CLDR data that ``babel`` maintains.

EUR has 2 decimals, JPY 0, BHD 3: not a table typed by hand. The core takes the result as an
argument (:func:`minor_units`), since reading locale data is an adapter's business.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from babel.numbers import get_currency_precision, list_currencies


@cache
def _known() -> frozenset[str]:
    return frozenset(list_currencies())


def minor_units(codes: Iterable[str]) -> dict[str, int]:
    """The minor unit of each known code among ``codes`` (unknown codes are left out)."""
    known = _known()
    return {code: get_currency_precision(code) for code in set(codes) if code in known}
