"""Importing observations from files: our own CSV and third-party monitors' exports.

:func:`read_import` is the one entry point. Whatever the format, the result is sorted by
(service, location, time), holds one observation per (service, location, instant), and has
name tables of the names it uses, sorted. Nothing here touches storage.

Formats (see ``docs/imports.md``):

- ``slaledger``: the observations CSV, read by ``csv_observations.read_observations``;
- ``uptimerobot``: the API v2 ``getMonitors`` JSON with logs, or the dashboard's logs CSV;
- ``statuscake``: the API v1 ``/uptime/{id}/periods`` or ``/uptime/{id}/history`` JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal, get_args

import numpy as np

from slaledger.core.contract import Contract
from slaledger.core.instant_bounds import InstantBounds
from slaledger.core.observations import DEFAULT_LOCATION, Observations
from slaledger.errors import ObservationsError, Problem, UsageError
from slaledger.files.csv_observations import read_observations
from slaledger.files.imports.intervals_to_observations import (
    ImportedFile,
    ImportRows,
    ImportTarget,
    build_observations,
)
from slaledger.files.imports.statuscake import read_statuscake
from slaledger.files.imports.uptimerobot import read_uptimerobot

ImportFormat = Literal["slaledger", "uptimerobot", "statuscake"]
IMPORT_FORMATS: tuple[str, ...] = get_args(ImportFormat)

__all__ = ["IMPORT_FORMATS", "ImportFormat", "ImportedFile", "read_import"]


def read_import(
    path: Path,
    fmt: ImportFormat,
    contract: Contract,
    *,
    location: str | None,
    timezone: str | None,
    service: str | None,
    bounds: InstantBounds | None = None,
    monitor_map: Sequence[str] = (),
    skip_unmapped: bool = False,
) -> ImportedFile:
    """Read ``path`` in format ``fmt`` as observations of ``contract``'s services.

    Every location must be one the contract declares for its service (when it declares
    them); given ``bounds``, every instant must lie within them.

    ``location`` names the location of observations that have none (state logs, rows with an
    empty location); default ``default``. ``timezone`` is the zone of an UptimeRobot
    dashboard CSV's local times (required there, ignored where instants carry their offset).
    ``service`` maps the file's one monitor to that service, instead of matching monitor
    names to service ids or names. ``monitor_map`` holds ``--map`` values, ``NAME=SERVICE``:
    the monitor ``NAME`` stands for ``SERVICE``; with ``skip_unmapped`` the monitors that
    stand for no service are left out and named in the result, instead of refusing the file.

    Raises :class:`~slaledger.errors.UsageError` for a bad argument and
    :class:`~slaledger.errors.ObservationsError` for a bad file, one located problem each.
    """
    if fmt not in IMPORT_FORMATS:
        raise UsageError(
            Problem(f"expected one of {', '.join(IMPORT_FORMATS)}, got {fmt!r}", field="--format")
        )
    if service is not None and service not in contract.services:
        raise UsageError(
            Problem(
                f"unknown service {service!r}; the contract has: {', '.join(contract.services)}",
                field="--service",
            )
        )
    if location is not None and not location.strip():
        raise UsageError(Problem("expected a location name, got ''", field="--location"))
    location = None if location is None else location.strip()
    mapping = _monitor_map(monitor_map, contract, service)
    if fmt != "uptimerobot" and (mapping or skip_unmapped):
        option = "--map" if mapping else "--skip-unmapped"
        raise UsageError(
            Problem(
                f"applies to UptimeRobot exports only; a {fmt} file names "
                + ("no check: give --service" if fmt == "statuscake" else "its services per row"),
                field=option,
            )
        )
    target = ImportTarget(contract, service, location, bounds, mapping, skip_unmapped)
    if fmt == "uptimerobot":
        imported = read_uptimerobot(path, target, timezone)
    elif fmt == "statuscake":
        imported = ImportedFile(read_statuscake(path, target))
    elif service is not None:
        raise UsageError(
            Problem(
                "does not apply to the slaledger format, whose rows name their service",
                field="--service",
            )
        )
    else:
        imported = ImportedFile(_own_csv(path, target))
    _check_locations(imported.observations, contract, str(path))
    return imported


def _check_locations(observations: Observations, contract: Contract, source: str) -> None:
    """:class:`ObservationsError` naming locations the contract does not declare (for the
    service they measure)."""
    if contract.locations is None or not len(observations):
        return
    pairs = np.unique(
        observations.service.astype(np.int64) * len(observations.locations) + observations.location
    )
    for pair in pairs.tolist():
        service = observations.services[pair // len(observations.locations)]
        location = observations.locations[pair % len(observations.locations)]
        allowed = contract.locations_of(service)
        if allowed is None or location in allowed:
            continue
        hint = "; give --location" if location == DEFAULT_LOCATION else ""
        raise ObservationsError(
            Problem(
                f"location {location!r} is not a location of service {service} of contract "
                f"{contract.contract} ({', '.join(allowed)}){hint}",
                source,
                field="location",
            )
        )


def _monitor_map(texts: Sequence[str], contract: Contract, service: str | None) -> dict[str, str]:
    """``--map NAME=SERVICE`` values as monitor name → service id (the last ``=`` splits)."""
    mapping: dict[str, str] = {}
    if texts and service is not None:
        raise UsageError(
            Problem("give either --service for the file's one monitor, or --map", field="--map")
        )
    for text in texts:
        name, equals, sid = text.rpartition("=")
        name, sid = name.strip(), sid.strip()
        if not equals or not name:
            raise UsageError(Problem(f"expected MONITOR NAME=SERVICE, got {text!r}", field="--map"))
        if sid not in contract.services:
            raise UsageError(
                Problem(
                    f"unknown service {sid!r} in {text!r}; the contract has: "
                    + ", ".join(contract.services),
                    field="--map",
                )
            )
        if mapping.setdefault(name, sid) != sid:
            raise UsageError(
                Problem(
                    f"monitor {name!r} is mapped to {mapping[name]} and to {sid}", field="--map"
                )
            )
    return mapping


def _own_csv(path: Path, target: ImportTarget) -> Observations:
    """Our CSV, with ``--location`` for rows without one, sorted and without duplicates."""
    observations = read_observations(path, target.contract.services, target.bounds)
    if not len(observations):
        return observations
    locations = list(observations.locations)
    if target.location is not None and DEFAULT_LOCATION in locations:
        locations[locations.index(DEFAULT_LOCATION)] = target.location
    return build_observations(
        ImportRows(
            service=observations.service.astype(np.int64),
            location=observations.location.astype(np.int64),
            timestamp=observations.timestamp,
            status=observations.status,
            error=observations.error,
            retry_after=observations.retry_after,
            services=observations.services,
            locations=locations,
        ),
        str(path),
    )
