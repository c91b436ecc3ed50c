"""The contract model: services, targets, downtime rules, exclusions and credit tiers.

Pydantic models with exact types: percentages are :class:`~decimal.Decimal`, durations are
integer microseconds. Unknown keys are errors everywhere.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    PlainSerializer,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

from slaledger.core.calendar_spec import ALWAYS, CalendarSpec
from slaledger.core.checks import Checks, duplicate_check_ids
from slaledger.core.commitment_spec import AnyCommitment, CommitmentSpec, commitment_findings
from slaledger.core.durations import format_duration, parse_duration
from slaledger.core.model_base import IDENTIFIER, StrictModel, ZoneName
from slaledger.core.timebase import to_instant


def _percentage(value: Any) -> Decimal:
    """A percentage from ``"99.9"`` or a whole number; never a float, which is inexact."""
    if isinstance(value, float):
        raise ValueError(
            f'expected a quoted percentage like "99.9" (an unquoted number is read as a '
            f"binary float), got {value!r}"
        )
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise ValueError(f'expected a percentage like "99.9", got {value!r}')
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f'expected a percentage like "99.9", got {value!r}') from None
    if not number.is_finite() or not Decimal(0) <= number <= Decimal(100):
        raise ValueError(f"expected a percentage from 0 to 100, got {value!r}")
    return number


def _duration(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"expected a duration like 90s, 5m, 48h or 30d, got {value!r}")
    if isinstance(value, int):
        raise ValueError(f"expected a duration with a unit (90s, 5m, 48h, 30d), got {value!r}")
    return parse_duration(value)


Percentage = Annotated[Decimal, BeforeValidator(_percentage), PlainSerializer(str)]
"""An exact percentage, 0 to 100."""

Duration = Annotated[int, BeforeValidator(_duration), PlainSerializer(format_duration)]
"""A duration in integer microseconds, written ``90s``, ``5m``, ``48h`` or ``30d``."""

LOCATION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
"""A location name, as agents send it: letters, digits, '.', '_' or '-', at most 200."""


def _location_names(value: tuple[str, ...]) -> tuple[str, ...]:
    if not value:
        raise ValueError("expected at least one location, e.g. [fra, ams]")
    for name in value:
        if not LOCATION.match(name):
            raise ValueError(
                f"expected location names of letters, digits, '.', '_' or '-' (at most 200), "
                f"like fra or us-east, got {name!r}"
            )
        if value.count(name) > 1:
            raise ValueError(f"{name!r} is listed more than once")
    return value


NO_LOCATIONS_WARNING = (
    "contract {contract} declares no locations: any agent token can report from anywhere, "
    "under any location name; declare them with a top-level locations: [fra, ams]"
)
"""What ``check`` and ``serve`` say about a contract without ``locations``."""

Locations = Annotated[tuple[str, ...], AfterValidator(_location_names)]
"""The locations probes may report from: a non-empty list of distinct names."""


class Match(StrictModel):
    """Tests on one observation; every given test must hold."""

    error: Literal["any", "timeout", "connect", "dns", "tls", "assertion", "other"] | None = None
    status: (
        Annotated[int, Field(ge=100, le=599)] | Literal["1xx", "2xx", "3xx", "4xx", "5xx"] | None
    ) = None
    retry_after: Literal["present", "absent"] | None = None


class OutcomeRule(StrictModel):
    match: Match
    outcome: Literal["up", "down", "excluded"]


DEFAULT_OUTCOMES: tuple[OutcomeRule, ...] = (
    OutcomeRule(match=Match(error="any"), outcome="down"),
    OutcomeRule(match=Match(status="5xx"), outcome="down"),
)
"""Any error is down, a 5xx is down, everything else (2xx, 3xx, 4xx) is up."""


class ProbeRatio(StrictModel):
    rule: Literal["probe-ratio"]


class ContinuousFailure(StrictModel):
    rule: Literal["continuous-failure"]
    min_duration: Annotated[Duration, Field(gt=0)]
    confirm: Annotated[int, Field(ge=1)] = 1

    @property
    def min_buckets(self) -> int:
        """Consecutive confirmed-down minute buckets an episode needs to count."""
        return max(1, -(-self.min_duration // 60_000_000))


class FirstFailToFirstSuccess(StrictModel):
    rule: Literal["first-fail-to-first-success"]
    rounding: Literal["ceil-minute"] = "ceil-minute"
    confirm: Annotated[int, Field(ge=1)] = 1


DowntimeRule = Annotated[
    ProbeRatio | ContinuousFailure | FirstFailToFirstSuccess, Field(discriminator="rule")
]


class MaintenancePolicy(StrictModel):
    notice: Duration


class Service(StrictModel):
    name: str
    description: str | None = None
    target: Percentage
    window: Literal["calendar-month", "trailing-30d"] = "calendar-month"
    per_location: bool = False
    downtime: DowntimeRule
    outcomes: tuple[OutcomeRule, ...] = DEFAULT_OUTCOMES
    maintenance: MaintenancePolicy | None = None
    stale_after: Annotated[Duration, Field(gt=0)] | None = None
    """No probe result for this long: the page says "no recent data" instead of a state
    (default: the contract's ``stale_after``, else twice the longest check interval)."""
    excludable_causes: tuple[str, ...] = ()
    exclude_from: tuple[Literal["downtime", "total"], ...] = ("downtime",)
    locations: Locations | None = None
    """Narrows the contract's locations for this service."""
    checks: Checks = ()

    @field_validator("exclude_from")
    @classmethod
    def _downtime_always_excluded(
        cls, value: tuple[Literal["downtime", "total"], ...]
    ) -> tuple[Literal["downtime", "total"], ...]:
        if "downtime" not in value:
            raise ValueError("expected a list containing downtime, optionally total")
        return value

    @field_validator("excludable_causes")
    @classmethod
    def _causes_are_identifiers(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for cause in value:
            if not IDENTIFIER.match(cause):
                raise ValueError(f"expected cause names like force-majeure, got {cause!r}")
        return value


class CreditTier(StrictModel):
    below: Percentage
    credit: Annotated[int, Field(ge=0, le=100)]


class Credits(StrictModel):
    basis: str
    mode: Literal["automatic", "on-request"]
    claim_within: Duration | None = None
    excluded_plans: tuple[str, ...] = ()
    tiers: tuple[CreditTier, ...]
    combine: Literal["max", "sum"] = "max"
    """How the month's per-service credit percentages combine (DECISION: the largest)."""
    cap: Percentage = Decimal(100)
    """The most a customer's month of credits may be, in % of its base fee."""

    @model_validator(mode="after")
    def _consistent(self) -> Credits:
        if self.mode == "on-request" and self.claim_within is None:
            raise ValueError("mode on-request needs claim_within, e.g. 30d")
        if self.mode == "automatic" and self.claim_within is not None:
            raise ValueError("claim_within only applies to mode on-request")
        belows = [tier.below for tier in self.tiers]
        if len(set(belows)) != len(belows):
            raise ValueError("each tier needs a different 'below'")
        return self

    def credit_for(self, availability: Any) -> int:
        """The credit of the smallest ``below`` that ``availability`` is strictly under."""
        applicable = [tier for tier in self.tiers if availability < tier.below]
        return min(applicable, key=lambda tier: tier.below).credit if applicable else 0


class Contract(StrictModel):
    contract: str
    name: str
    timezone: ZoneName = "UTC"
    effective_from: AwareDatetime | None = None
    """The SLA's start: nothing before it is settled, stated or published."""
    locations: Locations | None = None
    """Where probes may report from; ``None``: anywhere (any agent token, any name)."""
    services: dict[str, Service]
    credits: Credits | None = None
    stale_after: Annotated[Duration, Field(gt=0)] | None = None
    """The default of every service's ``stale_after``."""
    calendars: dict[str, CalendarSpec] = Field(default_factory=dict)
    commitments: dict[str, CommitmentSpec] = Field(default_factory=dict)
    """Promises beyond uptime (support response, repair deadlines, per-event, percentile)."""

    @field_validator("contract")
    @classmethod
    def _id(cls, value: str) -> str:
        if not IDENTIFIER.match(value):
            raise ValueError(f"expected an id of letters, digits, '.', '_' or '-', got {value!r}")
        return value

    @field_validator("services")
    @classmethod
    def _service_ids(cls, value: dict[str, Service]) -> dict[str, Service]:
        if not value:
            raise ValueError("expected at least one service")
        for key in value:
            if not IDENTIFIER.match(key):
                raise ValueError(
                    f"expected service ids of letters, digits, '.', '_' or '-', got {key!r}"
                )
        repeated = duplicate_check_ids({key: service.checks for key, service in value.items()})
        if repeated:
            raise ValueError(
                f"check ids must be unique in the contract; used more than once: "
                f"{', '.join(repeated)}"
            )
        return value

    @field_validator("services")
    @classmethod
    def _locations_declared(
        cls, value: dict[str, Service], info: ValidationInfo
    ) -> dict[str, Service]:
        declared: tuple[str, ...] | None = info.data.get("locations")
        for service_id, service in value.items():
            if service.locations is not None:
                if declared is None:
                    raise ValueError(
                        f"services.{service_id}.locations narrows the contract's locations, "
                        "but the contract declares none; add a top-level locations list"
                    )
                extra = [name for name in service.locations if name not in declared]
                if extra:
                    raise ValueError(
                        f"services.{service_id}.locations: {', '.join(extra)} not among the "
                        f"contract's locations ({', '.join(declared)})"
                    )
            allowed = service.locations or declared
            if allowed is None:
                continue
            for index, check in enumerate(service.checks):
                extra = [name for name in check.locations if name not in allowed]
                if extra:
                    raise ValueError(
                        f"services.{service_id}.checks[{index}].locations: {', '.join(extra)} "
                        f"not among the locations of service {service_id} ({', '.join(allowed)})"
                    )
        return value

    @field_validator("calendars")
    @classmethod
    def _calendar_names(cls, value: dict[str, CalendarSpec]) -> dict[str, CalendarSpec]:
        for key in value:
            if not IDENTIFIER.match(key):
                raise ValueError(
                    f"expected calendar names of letters, digits, '.', '_' or '-', got {key!r}"
                )
            if key == ALWAYS:
                raise ValueError("'always' is built in (open 24/7) and cannot be redefined")
        return value

    @field_validator("commitments")
    @classmethod
    def _commitment_names(cls, value: dict[str, AnyCommitment]) -> dict[str, AnyCommitment]:
        for key in value:
            if not IDENTIFIER.match(key):
                raise ValueError(
                    f"expected commitment names of letters, digits, '.', '_' or '-', got {key!r}"
                )
        return value

    @model_validator(mode="after")
    def _commitments_fit(self) -> Contract:
        """Each commitment's calendar exists, its ``bd`` has a meaning there, and no
        severity is promised twice: every mistake at the field it is about."""
        findings = commitment_findings(self.commitments, self.calendars)
        if findings:
            raise ValidationError.from_exception_data(
                "Contract",
                [
                    InitErrorDetails(
                        type=PydanticCustomError("value_error", "{error}", {"error": message}),
                        loc=path,
                        input=None,
                    )
                    for path, message in findings
                ],
            )
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def stale_after_of(self, service_id: str) -> int | None:
        """How old a service's newest probe result may be before it counts as stale:
        its ``stale_after``, the contract's, else twice its longest check interval
        (``None``: a service without checks nor ``stale_after``, fed by imports only)."""
        service = self.services[service_id]
        if service.stale_after is not None:
            return service.stale_after
        if self.stale_after is not None:
            return self.stale_after
        if not service.checks:
            return None
        return 2 * max(check.interval for check in service.checks)

    @property
    def start(self) -> int | None:
        """``effective_from`` as an instant (microseconds since the epoch), if given."""
        return None if self.effective_from is None else to_instant(self.effective_from)

    def undeclared(self, location: str) -> str | None:
        """Why ``location`` may not report for this contract, or ``None`` when it may."""
        if self.locations is None or location in self.locations:
            return None
        return (
            f"{location!r} is not a location of contract {self.contract} "
            f"({', '.join(self.locations)})"
        )

    def locations_of(self, service: str) -> tuple[str, ...] | None:
        """Where ``service`` may be probed from; ``None`` when the contract declares nothing."""
        narrowed = self.services[service].locations
        return narrowed if narrowed is not None else self.locations
