"""The scripted months of the three example contracts.

Each incident is written so that its effect on the report can be worked out by hand (the
expected figures are in ``tests/demo/test_scenario.py``). Times are counted from the start
of the month and stay within days 1–28, so the same script fits any month.
"""

from __future__ import annotations

from typing import TypeVar

from slaledger.core.contract import ContinuousFailure, Contract, ProbeRatio
from slaledger.core.events import Events, ExclusionWindow, MaintenanceWindow, Window
from slaledger.demo.incidents import Clock, Failure, Incident, Scenario

HEFT_LOCATIONS = ("fra", "ams", "hel")
ITSTABYL_LOCATIONS = ("ext-lon",)
HOSTING_POPS = ("fra", "ams", "lon")

HEFT_SERVICES = (
    "tracking-js",
    "static-app",
    "tracking-api",
    "data-api",
    "authentication",
    "site-sharing",
)
HEFT_NOISE = 30
"""Isolated failures per heft-io service: one location, one minute, never confirmed."""

W = TypeVar("W", bound=Window)

RECHECK_SECONDS = 32
"""The hosting prober re-checks a failed PoP this long after each failed probe."""


def heft_io(clock: Clock) -> Scenario:
    """Continuous failure, 5 minutes confirmed by 2 of 3 locations."""
    at = clock.at
    incidents = (
        Incident(
            service="tracking-js",
            locations=("fra", "ams"),
            start=at(3, 14, 2),
            probes=4,
            failure=Failure(status=502),
            summary="502s confirmed by 2 locations for exactly 4 minutes: under 5m, not counted",
        ),
        Incident(
            service="static-app",
            locations=("fra", "ams"),
            start=at(8, 9, 30),
            probes=12,
            failure=Failure(error="timeout"),
            summary="timeouts confirmed by 2 locations for 12 minutes: 12 minutes counted",
        ),
        Incident(
            service="tracking-api",
            locations=("hel",),
            start=at(12, 20, 0),
            probes=20,
            failure=Failure(error="connect"),
            summary="20 minutes of connect errors seen from hel only: not confirmed, not counted",
        ),
        Incident(
            service="data-api",
            locations=HEFT_LOCATIONS,
            start=at(14, 2, 10),
            probes=25,
            failure=Failure(status=503),
            summary="25 minutes of 503s in maintenance announced 72 h ahead: scheduled, excluded",
        ),
        Incident(
            service="authentication",
            locations=("fra", "hel"),
            start=at(20, 23, 5),
            probes=18,
            failure=Failure(status=500),
            summary="18 minutes of 500s in maintenance announced 6 h ahead: emergency, 18 counted",
        ),
        Incident(
            service="tracking-js",
            locations=HEFT_LOCATIONS,
            start=at(24, 6, 8),
            probes=10,
            failure=Failure(error="dns"),
            summary="10 minutes of DNS failures in an upstream-network exclusion: excluded",
        ),
    )
    events = Events(
        maintenance=(
            MaintenanceWindow(
                services="*",
                start=clock.moment(14, 2, 0),
                end=clock.moment(14, 3, 0),
                announced=clock.moment(11, 2, 0),
                title="Database upgrade",
            ),
            MaintenanceWindow(
                services=("authentication",),
                start=clock.moment(20, 23, 0),
                end=clock.moment(20, 23, 45),
                announced=clock.moment(20, 17, 0),
                title="Session store security patch",
            ),
        ),
        exclusions=(
            ExclusionWindow(
                services=("tracking-js",),
                start=clock.moment(24, 6, 0),
                end=clock.moment(24, 6, 30),
                cause="upstream-network",
                note="Upstream DNS provider outage",
            ),
        ),
    )
    return Scenario(HEFT_LOCATIONS, incidents, events, dict.fromkeys(HEFT_SERVICES, HEFT_NOISE))


def itstabyl(clock: Clock) -> Scenario:
    """Probe ratio from one third-party location; 503 with Retry-After is excluded."""
    at = clock.at
    breaker = Failure(status=503, retry_after=True)
    incidents = (
        Incident(
            service="scan-api",
            locations=ITSTABYL_LOCATIONS,
            start=at(6, 11, 20),
            probes=18,
            failure=Failure(status=503),
            summary="18 probes answered 503 without Retry-After: 18 down",
        ),
        Incident(
            service="dashboard",
            locations=ITSTABYL_LOCATIONS,
            start=at(6, 11, 22),
            probes=10,
            failure=Failure(status=502),
            summary="10 probes answered 502: 10 down",
        ),
        Incident(
            service="scan-api",
            locations=ITSTABYL_LOCATIONS,
            start=at(13, 16, 40),
            probes=25,
            failure=Failure(error="timeout"),
            summary="25 probes timed out: 25 down",
        ),
        Incident(
            service="scan-api",
            locations=ITSTABYL_LOCATIONS,
            start=at(17, 8, 0),
            probes=46,
            failure=breaker,
            summary="circuit breaker open, 46 probes answered 503 with Retry-After: excluded",
        ),
        Incident(
            service="scan-api",
            locations=ITSTABYL_LOCATIONS,
            start=at(22, 13, 0),
            probes=20,
            failure=Failure(status=504),
            summary="20 probes answered 504 during a force-majeure exclusion: excluded",
        ),
        Incident(
            service="scan-api",
            locations=ITSTABYL_LOCATIONS,
            start=at(27, 19, 3),
            probes=12,
            failure=Failure(status=500),
            summary="12 probes answered 500: 12 down",
        ),
        Incident(
            service="dashboard",
            locations=ITSTABYL_LOCATIONS,
            start=at(28, 22, 5),
            probes=11,
            failure=Failure(status=502),
            summary="11 probes answered 502 inside maintenance announced 76 h ahead: excluded",
        ),
    )
    events = Events(
        maintenance=(
            MaintenanceWindow(
                services="*",
                start=clock.moment(28, 22, 0),
                end=clock.moment(28, 22, 30),
                announced=clock.moment(25, 18, 0),
                title="Job queue migration",
            ),
        ),
        exclusions=(
            ExclusionWindow(
                services="*",
                start=clock.moment(22, 13, 0),
                end=clock.moment(22, 13, 20),
                cause="force-majeure",
                note="Regional cloud-provider outage",
            ),
        ),
    )
    return Scenario(ITSTABYL_LOCATIONS, incidents, events, noise={"scan-api": 15, "dashboard": 12})


def hosting_pop(clock: Clock) -> Scenario:
    """Per-PoP first failed probe to first successful probe, rounded up to minutes."""
    at = clock.at
    incidents = (
        Incident(
            service="network",
            locations=("fra",),
            start=at(9, 10, 15),
            probes=8,
            failure=Failure(error="connect"),
            summary="unreachable 7 min 32 s, first failed to first successful probe: 8 minutes",
            recheck=RECHECK_SECONDS,
        ),
        Incident(
            service="power",
            locations=("ams",),
            start=at(15, 14, 2),
            probes=3,
            failure=Failure(error="timeout"),
            summary="power blip, first failed probe to first success 2 min 32 s: 3 minutes",
            recheck=RECHECK_SECONDS,
        ),
        Incident(
            service="network",
            locations=("fra",),
            start=at(21, 3, 40),
            probes=52,
            failure=Failure(error="timeout"),
            summary="upstream carrier failure (counts) for 51 min 32 s: 52 minutes",
            recheck=RECHECK_SECONDS,
        ),
        Incident(
            service="network",
            locations=("ams",),
            start=at(27, 1, 5),
            probes=16,
            failure=Failure(error="connect"),
            summary="unreachable 15 min 32 s in maintenance announced 4 days ahead: excluded",
            recheck=RECHECK_SECONDS,
        ),
    )
    events = Events(
        maintenance=(
            MaintenanceWindow(
                services=("network",),
                location="ams",
                start=clock.moment(27, 1, 0),
                end=clock.moment(27, 1, 30),
                announced=clock.moment(22, 9, 0),
                title="Core router firmware upgrade",
            ),
        ),
    )
    return Scenario(HOSTING_POPS, incidents, events)


SCRIPTS = {"heft-io": heft_io, "itstabyl": itstabyl, "hosting-pop": hosting_pop}


def scenario_for(contract: Contract, clock: Clock) -> Scenario:
    """The script of a known example contract, else a quiet month with harmless noise.

    Incidents naming a service the contract lacks are dropped, so an edited example
    contract still gets a consistent month.
    """
    script = SCRIPTS.get(contract.contract)
    if script is None:
        return generic(contract)
    scenario = script(clock)
    incidents = tuple(i for i in scenario.incidents if i.service in contract.services)
    return Scenario(
        scenario.locations, incidents, _only_known(scenario.events, contract), scenario.noise
    )


def generic(contract: Contract) -> Scenario:
    """Three locations, no incidents; noise only where it cannot add downtime by itself."""
    noise: dict[str, int] = {}
    for service_id, service in contract.services.items():
        rule = service.downtime
        if isinstance(rule, ProbeRatio):
            noise[service_id] = 10
        elif isinstance(rule, ContinuousFailure) and rule.confirm >= 2 and not service.per_location:
            noise[service_id] = HEFT_NOISE
    return Scenario(HEFT_LOCATIONS, noise=noise)


def _only_known(events: Events, contract: Contract) -> Events:
    """``events`` with services the contract lacks left out (and windows left empty dropped)."""
    return Events(
        maintenance=tuple(
            w for w in (_trim(w, contract) for w in events.maintenance) if w is not None
        ),
        exclusions=tuple(
            w for w in (_trim(w, contract) for w in events.exclusions) if w is not None
        ),
    )


def _trim(window: W, contract: Contract) -> W | None:
    if window.services == "*":
        return window
    names = tuple(name for name in window.services if name in contract.services)
    return window.model_copy(update={"services": names}) if names else None
