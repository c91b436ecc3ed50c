"""Events: maintenance windows and cause-bearing exclusion windows, as entered by operators."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BeforeValidator, Field, model_validator

from slaledger.core.model_base import StrictModel
from slaledger.core.timebase import format_instant, to_instant


def _services(value: object) -> object:
    """``"*"``, one id, or a list of ids; a single id becomes a one-item list."""
    if isinstance(value, str) and value != "*":
        return [value]
    return value


ServiceSelector = Annotated[
    Literal["*"] | tuple[Annotated[str, Field(min_length=1)], ...], BeforeValidator(_services)
]


class Window(StrictModel):
    services: ServiceSelector
    location: str | None = None
    start: AwareDatetime
    end: AwareDatetime

    @model_validator(mode="after")
    def _end_after_start(self) -> Window:
        if self.end <= self.start:
            raise ValueError(
                f"expected an end after start {format_instant(to_instant(self.start))}, "
                f"got {format_instant(to_instant(self.end))}"
            )
        return self

    def names(self, service: str) -> bool:
        return self.services == "*" or service in self.services


class MaintenanceWindow(Window):
    announced: AwareDatetime
    title: str = ""


class ExclusionWindow(Window):
    cause: str
    note: str = ""


class Events(StrictModel):
    maintenance: tuple[MaintenanceWindow, ...] = ()
    exclusions: tuple[ExclusionWindow, ...] = ()


def merge_events(*parts: Events) -> Events:
    """The windows of all ``parts`` (an events file's and the operators', say)."""
    return Events(
        maintenance=tuple(w for part in parts for w in part.maintenance),
        exclusions=tuple(w for part in parts for w in part.exclusions),
    )
