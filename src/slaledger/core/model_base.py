"""What the contract's models share: the strict base model and the vocabularies."""

from __future__ import annotations

import re
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict

IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
"""Ids of contracts, services, checks and causes."""

ERROR_CLASSES = ("timeout", "connect", "dns", "tls", "assertion", "other")
STATUS_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx")


class StrictModel(BaseModel):
    """Frozen, and every unknown key is an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _zone_name(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"expected an IANA time zone like UTC or Europe/Berlin, got {value!r}"
        ) from None
    return value


ZoneName = Annotated[str, AfterValidator(_zone_name)]
"""An IANA time zone name (contracts and business calendars)."""
