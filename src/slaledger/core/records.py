"""Operator records: what the commitments beyond uptime are settled from.

Six kinds, one JSON object each (``SETTLEMENT-SEMANTICS.md``, "Records"):

```json
{"kind": "ticket", "id": "T-1", "customer": "acme", "severity": "P1", "opened": "…",
 "responses": [{"at": "…", "by": "auto"}, {"at": "…", "by": "human"}]}
{"kind": "hardware-swap", "id": "HW-7", "customer": "acme", "location": "fra1",
 "diagnosed": "…", "replaced": "…"}
{"kind": "ddos", "id": "D-3", "location": "fra1", "detected": "…", "mitigated": "…",
 "peak_gbps": "3.2"}
{"kind": "provisioning", "id": "vps-9", "location": "fra1", "requested": "…",
 "ready": "…", "failed": false}
{"kind": "outage", "service": "power", "location": "fra1", "start": "…", "end": "…",
 "note": "UPS transfer fault"}
{"kind": "claim", "customer": "acme", "month": "2026-10", "received": "…"}
```

Instants are integer microseconds since the epoch (read from ISO 8601 text with ``Z`` or an
offset by :func:`~slaledger.core.timebase.parse_instant`); decimals are :class:`Decimal`
read from strings (or whole numbers), never from binary floats. An instant that contradicts
another of the same record (a reply before the ticket was opened, a swap replaced before it
was diagnosed) is an error naming the later field, not a negative figure.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, PlainSerializer, TypeAdapter, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

from slaledger.core.model_base import StrictModel
from slaledger.core.timebase import format_instant, parse_instant


def _instant(value: Any) -> int:
    if not isinstance(value, str):
        raise ValueError(
            f"expected an instant with Z or an offset, like 2026-10-01T09:30:00Z, got "
            f"{_shown(value)}"
        )
    return parse_instant(value)


def _shown(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return "an object" if isinstance(value, dict) else "a list"
    return repr(value) if isinstance(value, str) else str(value)


Instant = Annotated[int, BeforeValidator(_instant), PlainSerializer(format_instant)]
"""An instant in integer microseconds, written as ISO 8601 text with ``Z`` or an offset."""


def _decimal(value: Any) -> Decimal:
    """A non-negative decimal from ``"3.2"`` or a whole number; never a float."""
    if isinstance(value, float):
        raise ValueError(
            f'expected a quoted decimal like "3.2" (an unquoted number is read as a binary '
            f"float), got {value!r}"
        )
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise ValueError(f'expected a decimal like "3.2", got {_shown(value)}')
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f'expected a decimal like "3.2", got {value!r}') from None
    if not number.is_finite() or number < 0:
        raise ValueError(f'expected a decimal of at least 0 like "3.2", got {value!r}')
    return number


NonNegativeDecimal = Annotated[Decimal, BeforeValidator(_decimal), PlainSerializer(str)]

RecordId = Annotated[str, Field(min_length=1, max_length=200)]
Name = Annotated[str, Field(min_length=1, max_length=200)]

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _month(value: Any) -> str:
    if not isinstance(value, str) or not _MONTH.match(value):
        raise ValueError(f"expected a month like 2026-10, got {_shown(value)}")
    return value


Month = Annotated[str, BeforeValidator(_month)]


def _not_before(field: str | tuple[str | int, ...], value: int, earlier: str, bound: int) -> None:
    """A located error unless ``value`` (at ``field``) is at or after ``bound`` (``earlier``)."""
    if value >= bound:
        return
    message = (
        f"expected an instant at or after {earlier} ({format_instant(bound)}), "
        f"got {format_instant(value)}"
    )
    _fail((field,) if isinstance(field, str) else field, message, format_instant(value))


def _fail(location: tuple[str | int, ...], message: str, value: Any) -> None:
    """Raise a validation error at ``location`` of the record (not at the record itself)."""
    error = PydanticCustomError("value_error", "{error}", {"error": message})
    raise ValidationError.from_exception_data(
        "record", [InitErrorDetails(type=error, loc=location, input=value)]
    )


class Response(StrictModel):
    at: Instant
    by: Literal["auto", "human"]


class Ticket(StrictModel):
    """A support ticket; the first ``human`` response is its first response."""

    kind: Literal["ticket"]
    id: RecordId
    customer: Name | None = None
    severity: Name
    opened: Instant
    responses: tuple[Response, ...] = ()

    @model_validator(mode="after")
    def _responses_after_opening(self) -> Ticket:
        for index, response in enumerate(self.responses):
            _not_before(("responses", index, "at"), response.at, "opened", self.opened)
        return self

    @property
    def first_human_response(self) -> int | None:
        """The earliest ``by: human`` response, whatever order they are listed in."""
        human = [response.at for response in self.responses if response.by == "human"]
        return min(human) if human else None


class HardwareSwap(StrictModel):
    """A failed part: diagnosed, then (perhaps not yet) replaced."""

    kind: Literal["hardware-swap"]
    id: RecordId
    customer: Name | None = None
    location: Name | None = None
    diagnosed: Instant
    replaced: Instant | None = None

    @model_validator(mode="after")
    def _replaced_after_diagnosis(self) -> HardwareSwap:
        if self.replaced is not None:
            _not_before("replaced", self.replaced, "diagnosed", self.diagnosed)
        return self


class Ddos(StrictModel):
    """A DDoS attack: detected, mitigated, and how large it was at its peak."""

    kind: Literal["ddos"]
    id: RecordId
    customer: Name | None = None
    location: Name | None = None
    detected: Instant
    mitigated: Instant
    peak_gbps: NonNegativeDecimal

    @model_validator(mode="after")
    def _mitigated_after_detection(self) -> Ddos:
        _not_before("mitigated", self.mitigated, "detected", self.detected)
        return self


class Provisioning(StrictModel):
    """A provisioning request: ready (or failed, or neither yet)."""

    kind: Literal["provisioning"]
    id: RecordId
    customer: Name | None = None
    location: Name | None = None
    requested: Instant
    ready: Instant | None = None
    failed: bool = False

    @model_validator(mode="after")
    def _ready_after_request(self) -> Provisioning:
        if self.ready is not None:
            _not_before("ready", self.ready, "requested", self.requested)
        return self


class Outage(StrictModel):
    """Down time no probe sees (a power fault), recorded by an operator: ``[start, end)``."""

    kind: Literal["outage"]
    id: RecordId | None = None
    service: Name
    location: Name | None = None
    start: Instant
    end: Instant
    note: str = ""

    @model_validator(mode="after")
    def _end_after_start(self) -> Outage:
        if self.end <= self.start:
            message = (
                f"expected an instant after start ({format_instant(self.start)}), "
                f"got {format_instant(self.end)}"
            )
            _fail(("end",), message, format_instant(self.end))
        return self


class Claim(StrictModel):
    """A customer's claim for the credits of ``month`` (contracts with ``mode: on-request``)."""

    kind: Literal["claim"]
    id: RecordId | None = None
    customer: Name
    month: Month
    received: Instant


AnyRecord = Ticket | HardwareSwap | Ddos | Provisioning | Outage | Claim
"""A record of any kind."""

Record = Annotated[AnyRecord, Field(discriminator="kind")]

RECORD_MODELS: dict[str, type[StrictModel]] = {
    "ticket": Ticket,
    "hardware-swap": HardwareSwap,
    "ddos": Ddos,
    "provisioning": Provisioning,
    "outage": Outage,
    "claim": Claim,
}
"""Each record kind and its model."""

RECORD_KINDS = tuple(RECORD_MODELS)

RECORD_ADAPTER: TypeAdapter[AnyRecord] = TypeAdapter(Record)
"""Validates one record object of any kind (``RECORD_ADAPTER.validate_python(obj)``)."""


def record_key(record: AnyRecord) -> str:
    """What identifies a record among those of its kind: its ``id``; an outage without one
    by service, location and start, a claim without one by customer and month."""
    if record.id is not None:
        return record.id
    if isinstance(record, Outage):
        return f"{record.service}@{record.location or '*'}@{format_instant(record.start)}"
    assert isinstance(record, Claim)
    return f"{record.customer}@{record.month}"


def record_json(record: AnyRecord) -> dict[str, Any]:
    """The record as its JSON object (instants as ISO 8601 UTC text, decimals as strings)."""
    return record.model_dump(mode="json", exclude_none=True)
