"""The ``commitments:`` section of a contract: promises beyond uptime, as written.

```yaml
commitments:
  support-p1:    {kind: first-response, severity: P1, within: 1h, calendar: uk-office}
  hardware-swap:
    kind: deadline
    records: hardware-swap
    within: 4h
    calendar: cet-support
    late_credit: {per_started_hour: 1d, cap: "100"}
  ddos-mitigation:
    kind: per-event
    records: ddos
    below: 2s
    covers: {min_peak_gbps: "1"}
  vps-provisioning:
    kind: percentile
    records: provisioning
    statistic: median             # or {percentile: 95}
    below: 90s
    window: 30d
```

``within`` is open time of the commitment's calendar: ``15m``, ``4h`` or ``Nbd`` (N business
days, N × one open day's length). Whether the calendar exists, whether ``bd`` makes sense in
it and whether a severity is promised twice depend on the whole contract and are checked
there (:func:`commitment_findings`), each at the field it is about.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, PlainSerializer

from slaledger.core.business_calendar import ALWAYS_WEEK, Week
from slaledger.core.calendar_spec import ALWAYS, CalendarSpec
from slaledger.core.durations import format_duration, parse_duration
from slaledger.core.model_base import StrictModel
from slaledger.core.timebase import US_PER_MINUTE

_OPEN_TIME = re.compile(r"^(\d+)(m|h|bd)$")
OPEN_TIME_EXPECTED = "a duration of open time like 15m, 4h or 2bd"
_ELAPSED_EXPECTED = "a duration like 2s, 90s, 5m, 4h or 30d"


def _open_time(value: Any) -> str:
    """``15m``, ``4h`` or ``2bd``, kept as text: ``bd`` needs the calendar to mean a length."""
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(f"expected a duration with a unit (15m, 4h, 2bd), got {value!r}")
    if not isinstance(value, str) or not _OPEN_TIME.match(value.strip()):
        shown = repr(value) if isinstance(value, str) else "a " + type(value).__name__
        raise ValueError(f"expected {OPEN_TIME_EXPECTED}, got {shown}")
    if int(_OPEN_TIME.match(value.strip())[1]) == 0:  # type: ignore[index]
        raise ValueError(f"expected a duration of more than 0, got {value!r}")
    return value.strip()


def _elapsed(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(f"expected a duration with a unit (2s, 90s, 30d), got {value!r}")
    if not isinstance(value, str):
        raise ValueError(f"expected {_ELAPSED_EXPECTED}, got a {type(value).__name__}")
    try:
        us = parse_duration(value)
    except ValueError:
        raise ValueError(f"expected {_ELAPSED_EXPECTED}, got {value!r}") from None
    if us <= 0:
        raise ValueError(f"expected a duration of more than 0, got {value!r}")
    return us


OpenTime = Annotated[str, BeforeValidator(_open_time)]
"""Open time of a calendar as written: ``15m``, ``4h``, ``2bd``."""

Elapsed = Annotated[int, BeforeValidator(_elapsed), PlainSerializer(format_duration)]
"""Wall-clock microseconds, written ``2s``, ``90s``, ``30d``."""


def _decimal(value: Any, what: str, example: str) -> Decimal:
    if isinstance(value, float):
        raise ValueError(
            f'expected a quoted {what} like "{example}" (an unquoted number is read as a '
            f"binary float), got {value!r}"
        )
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise ValueError(f'expected a {what} like "{example}", got {value!r}')
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f'expected a {what} like "{example}", got {value!r}') from None
    if not number.is_finite():
        raise ValueError(f'expected a {what} like "{example}", got {value!r}')
    return number


def _percentile(value: Any) -> Decimal:
    number = _decimal(value, "percentile", "95")
    if not Decimal(0) < number <= Decimal(100):
        raise ValueError(f"expected a percentile more than 0 and at most 100, got {value!r}")
    return number


def _gbps(value: Any) -> Decimal:
    number = _decimal(value, "rate in Gbps", "1")
    if number < 0:
        raise ValueError(f'expected a rate in Gbps of at least 0 like "1", got {value!r}')
    return number


def _cap(value: Any) -> Decimal:
    number = _decimal(value, "percentage", "100")
    if not Decimal(0) <= number <= Decimal(100):
        raise ValueError(f"expected a percentage from 0 to 100, got {value!r}")
    return number


PercentileRank = Annotated[Decimal, BeforeValidator(_percentile), PlainSerializer(str)]
Gbps = Annotated[Decimal, BeforeValidator(_gbps), PlainSerializer(str)]
CapPercentage = Annotated[Decimal, BeforeValidator(_cap), PlainSerializer(str)]


class FirstResponse(StrictModel):
    """Tickets of ``severity`` get a human reply within ``within`` open time of ``calendar``."""

    kind: Literal["first-response"]
    severity: Annotated[str, Field(min_length=1)]
    within: OpenTime
    calendar: str


class LateCredit(StrictModel):
    """Per started hour late, ``per_started_hour`` of base fee; at most ``cap`` % per record."""

    per_started_hour: Elapsed
    cap: CapPercentage = Decimal(100)


class Deadline(StrictModel):
    """Each record is done (``replaced``) within ``within`` open time of ``diagnosed``."""

    kind: Literal["deadline"]
    records: Literal["hardware-swap"]
    within: OpenTime
    calendar: str
    late_credit: LateCredit | None = None


class Covers(StrictModel):
    min_peak_gbps: Gbps = Decimal(0)


class PerEvent(StrictModel):
    """Each event (``mitigated − detected``) takes strictly less than ``below``."""

    kind: Literal["per-event"]
    records: Literal["ddos"]
    below: Elapsed
    covers: Covers = Covers()


class Statistic(StrictModel):
    """``median`` (``percentile`` is ``None``: the middle value, or the mean of the two middle
    values) or ``{percentile: p}`` (nearest rank)."""

    percentile: PercentileRank | None = None

    @property
    def is_median(self) -> bool:
        return self.percentile is None


def _statistic(value: Any) -> Any:
    if value == "median":
        return {}
    if isinstance(value, dict) and set(value) == {"percentile"}:
        return value
    shown = repr(value) if isinstance(value, (str, int)) else "a " + type(value).__name__
    raise ValueError(f"expected median or {{percentile: 95}}, got {shown}")


def _statistic_text(value: Statistic) -> Any:
    return "median" if value.percentile is None else {"percentile": str(value.percentile)}


StatisticSpec = Annotated[Statistic, BeforeValidator(_statistic), PlainSerializer(_statistic_text)]


class Percentile(StrictModel):
    """A statistic of ``ready − requested`` over a trailing ``window``, under ``below``."""

    kind: Literal["percentile"]
    records: Literal["provisioning"]
    statistic: StatisticSpec
    below: Elapsed
    window: Elapsed


CommitmentSpec = Annotated[
    FirstResponse | Deadline | PerEvent | Percentile, Field(discriminator="kind")
]
AnyCommitment = FirstResponse | Deadline | PerEvent | Percentile

Finding = tuple[tuple[str | int, ...], str]
"""A path below the contract's top level and what is wrong there."""


def week_of(name: str, calendars: dict[str, CalendarSpec]) -> Week | None:
    """The opening hours of calendar ``name`` (``always`` is built in), ``None`` if unknown."""
    if name == ALWAYS:
        return ALWAYS_WEEK
    spec = calendars.get(name)
    return None if spec is None else spec.week


def business_day_us(week: Week) -> int | None:
    """The length of one open day, or ``None`` when the open weekdays differ in length."""
    lengths = {sum(end - start for start, end in hours) for hours in week if hours}
    return lengths.pop() * US_PER_MINUTE if len(lengths) == 1 else None


def open_time_us(text: str, week: Week) -> int:
    """Microseconds of open time in ``15m``, ``4h`` or ``Nbd`` in a calendar of ``week``."""
    match = _OPEN_TIME.match(text)
    if match is None:
        raise ValueError(f"expected {OPEN_TIME_EXPECTED}, got {text!r}")
    if match[2] != "bd":
        return parse_duration(text)
    length = business_day_us(week)
    if length is None:
        raise ValueError(
            f"{text!r}: a business day has no single length in a calendar whose open days "
            "differ; write the duration in hours or minutes"
        )
    return int(match[1]) * length


def commitment_findings(
    commitments: dict[str, AnyCommitment], calendars: dict[str, CalendarSpec]
) -> list[Finding]:
    """What is wrong with ``commitments`` given the contract's ``calendars``, located."""
    findings: list[Finding] = []
    severities: dict[str, str] = {}
    for name, commitment in commitments.items():
        here = ("commitments", name)
        if isinstance(commitment, FirstResponse):
            earlier = severities.setdefault(commitment.severity, name)
            if earlier != name:
                findings.append(
                    (
                        (*here, "severity"),
                        f"severity {commitment.severity!r} already has a first-response "
                        f"commitment ({earlier}); expected each severity once",
                    )
                )
        if not isinstance(commitment, (FirstResponse, Deadline)):
            continue
        week = week_of(commitment.calendar, calendars)
        if week is None:
            known = ", ".join([*calendars, ALWAYS])
            findings.append(
                (
                    (*here, "calendar"),
                    f"expected a calendar of the contract ({known}), got {commitment.calendar!r}",
                )
            )
            continue
        try:
            open_time_us(commitment.within, week)
        except ValueError as error:
            findings.append(((*here, "within"), str(error)))
    return findings
