"""What the contract's models share: the strict base model and the vocabularies."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
"""Ids of contracts, services, checks and causes."""

ERROR_CLASSES = ("timeout", "connect", "dns", "tls", "assertion", "other")
STATUS_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx")


class StrictModel(BaseModel):
    """Frozen, and every unknown key is an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)
