import pytest

from slaledger.core.durations import format_duration, parse_duration
from slaledger.core.timebase import format_instant


@pytest.mark.parametrize(
    ("text", "us"),
    [
        ("90s", 90_000_000),
        ("5m", 300_000_000),
        ("48h", 172_800_000_000),
        ("30d", 2_592_000_000_000),
    ],
)
def test_parse_and_format(text: str, us: int) -> None:
    assert parse_duration(text) == us
    assert format_duration(us) == text


@pytest.mark.parametrize("text", ["5", "5 min", "1.5h", "-5m", "h"])
def test_rejects_other_forms(text: str) -> None:
    with pytest.raises(ValueError, match="expected a duration like 90s, 5m, 48h or 30d"):
        parse_duration(text)


def test_format_instant_keeps_fractions_only_when_present() -> None:
    assert format_instant(0) == "1970-01-01T00:00:00Z"
    assert format_instant(1_500_000) == "1970-01-01T00:00:01.5Z"
