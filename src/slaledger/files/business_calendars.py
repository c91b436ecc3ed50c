"""Business calendars of a contract, with public holidays from the ``holidays`` library.

The core (:mod:`slaledger.core.business_calendar`) never imports ``holidays``: this adapter
injects a pure function from a year to that year's ``{date: name}``, which the core calls once
per local year it lays out. Holiday names are in English where the library has them
(``en_US`` when the country's own language is not English), since they are shown as the reason
a day was closed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import holidays

from slaledger.core.business_calendar import BusinessCalendar, HolidaysOfYear
from slaledger.core.calendar_spec import ALWAYS, CalendarSpec, HolidaySource
from slaledger.core.contract import Contract
from slaledger.errors import Problem, UserError
from slaledger.files.yaml_document import YamlDocument


def _language(source: HolidaySource) -> str | None:
    entity = holidays.country_holidays(source.country, subdiv=source.subdivision)
    default = str(entity.default_language or "")
    if default.startswith("en"):
        return default
    languages = entity.supported_languages or ()
    return "en_US" if "en_US" in languages else None


def holidays_of_year(source: HolidaySource) -> HolidaysOfYear:
    """The holidays of ``source`` as a function of the year (``NotImplementedError`` when the
    library has no such country or subdivision)."""
    language = _language(source)

    def of_year(year: int) -> Mapping[date, str]:
        found = holidays.country_holidays(
            source.country, subdiv=source.subdivision, years=year, language=language
        )
        return {day: str(name) for day, name in found.items() if day.year == year}

    return of_year


def holiday_problems(document: YamlDocument, contract: Contract) -> list[Problem]:
    """A located problem for each calendar whose holiday country or subdivision is unknown."""
    problems = []
    for name, spec in contract.calendars.items():
        source = spec.holidays
        if source is None:
            continue
        path: tuple[str, ...] = ("calendars", name, "holidays")
        try:
            holidays_of_year(source)
        except NotImplementedError:
            supported = holidays.list_supported_countries()
            if source.country not in supported:
                message = (
                    f"expected a country code the holidays library knows (GB, DE, US, …), "
                    f"got {source.country!r}"
                )
                problems.append(document.problem((*path, "country"), message))
            else:
                subdivisions = ", ".join(supported[source.country]) or "none"
                message = (
                    f"expected a subdivision of {source.country} ({subdivisions}), "
                    f"got {source.subdivision!r}"
                )
                problems.append(document.problem((*path, "subdivision"), message))
    return problems


def build_calendar(spec: CalendarSpec) -> BusinessCalendar:
    """The core calendar of a validated ``spec``."""
    source = spec.holidays
    return BusinessCalendar(
        spec.zone,
        spec.week,
        holidays_of_year=None if source is None else holidays_of_year(source),
        extra_closed=spec.extra_closed,
    )


def calendar_names(contract: Contract) -> list[str]:
    return [*contract.calendars, ALWAYS]


def calendar_of(contract: Contract, name: str, field: str | None = None) -> BusinessCalendar:
    """The calendar ``name`` of ``contract`` (``always`` is built in)."""
    if name == ALWAYS:
        return BusinessCalendar.always()
    spec = contract.calendars.get(name)
    if spec is None:
        known = ", ".join(calendar_names(contract))
        raise UserError(
            Problem(f"unknown calendar {name!r}; the contract has: {known}", field=field)
        )
    return build_calendar(spec)
