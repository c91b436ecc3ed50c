"""Contract durations: ``90s``, ``5m``, ``48h``, ``30d`` (whole units, one suffix)."""

from __future__ import annotations

import re

from slaledger.core.timebase import US_PER_DAY, US_PER_HOUR, US_PER_MINUTE, US_PER_SECOND

_UNIT_US = {"s": US_PER_SECOND, "m": US_PER_MINUTE, "h": US_PER_HOUR, "d": US_PER_DAY}
_PATTERN = re.compile(r"^(\d+)([smhd])$")
EXPECTED = "a duration like 90s, 5m, 48h or 30d"


def parse_duration(text: str) -> int:
    """Microseconds in ``text``; ``ValueError`` naming the expected form otherwise."""
    match = _PATTERN.match(text.strip())
    if match is None:
        raise ValueError(f"expected {EXPECTED}, got {text!r}")
    return int(match.group(1)) * _UNIT_US[match.group(2)]


def format_duration(us: int) -> str:
    """The largest whole unit that expresses ``us`` exactly (``30d``, ``48h``, ``90s``);
    days only from three days on, since notices are usually given in hours."""
    if us % US_PER_DAY == 0 and us >= 3 * US_PER_DAY:
        return f"{us // US_PER_DAY}d"
    for suffix in ("h", "m", "s"):
        unit = _UNIT_US[suffix]
        if us % unit == 0:
            return f"{us // unit}{suffix}"
    return f"{us}us"
