"""Automatic incidents: which to open and which to resolve, from the month to date. Pure.

An incident opens when the contract's rule confirms an outage that is still going on:

- minute rules (``continuous-failure``, ``first-fail-to-first-success``): an episode of the
  month-to-date report that counts (status ``counted`` or ``emergency-maintenance``; for
  continuous-failure that means a confirmed run that reached ``min_duration``) and whose end
  is less than :data:`RECOVERY_GRACE` before ``now``. A run inside scheduled maintenance or
  an allowed exclusion counts nothing and opens nothing.
- ``probe-ratio`` (no episodes; the rule counts probes): over the last
  :data:`PROBE_WINDOW`, a location *fails* when every probe it made there is ``down``
  (probes classified ``excluded`` or inside excluded time are left out). The service is
  down when at least two locations fail, or its only reporting location does; a
  per-location service is down at each failing location. The incident starts at the
  earliest down probe of the window.

Impact: ``critical`` (a major outage) when the outage is at every location: for a pooled
service, every location that reported over the last :data:`PROBE_WINDOW` failed every probe;
for a per-location service, every location of it is down. Otherwise ``major`` for a pooled
service (a partial outage) and ``minor`` for one location of a per-location service. An
open incident whose outage spreads to every location is raised to ``critical``.

One incident per result (a service, or a service at one location for ``per_location``)
at a time; it resolves when that result no longer has an ongoing outage, at the end of its
latest counted episode (probe-ratio: the first up probe of the window; else ``now``). The
grace lets late probes arrive before a run is judged over.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from slaledger.core.contract import DEFAULT_OUTCOMES, Contract, ProbeRatio
from slaledger.core.events import Events
from slaledger.core.observations import Observations
from slaledger.core.outcomes import DOWN, UP, classify
from slaledger.core.publication import Impact
from slaledger.core.report import Report
from slaledger.core.timebase import US_PER_MINUTE, format_instant
from slaledger.core.windows import resolve_windows

RECOVERY_GRACE = 2 * US_PER_MINUTE
"""How long after a run's last down minute it is still taken as going on."""
PROBE_WINDOW = 2 * US_PER_MINUTE
"""How far back ``probe-ratio`` services are judged."""
PROBE_RATIO_CONFIRM = 2
"""Failing locations that confirm a ``probe-ratio`` outage (fewer when fewer report)."""


def detection_key(service: str, location: str | None) -> str:
    """What an automatic incident is about: ``service`` or ``service@location``."""
    return service if location is None else f"{service}@{location}"


@dataclass(frozen=True)
class Outage:
    """An outage the rule confirms and that is still going on."""

    started: int
    reason: str
    everywhere: bool = False
    """Every location is down (see the module's note on impact)."""


@dataclass(frozen=True)
class ResultState:
    """One result (service, or service at a location) as the rule sees it now."""

    service: str
    location: str | None
    outage: Outage | None
    recovered: int | None = None
    """When its latest confirmed outage ended, if one is known and over."""

    @property
    def key(self) -> str:
        return detection_key(self.service, self.location)


@dataclass(frozen=True)
class OpenAutomatic:
    """An automatic incident that is not resolved yet."""

    id: int
    key: str
    started: int
    impact: Impact = "major"


@dataclass(frozen=True)
class Opening:
    key: str
    service: str
    location: str | None
    started: int
    title: str
    impact: Impact
    reason: str


@dataclass(frozen=True)
class Resolution:
    incident_id: int
    resolved: int
    reason: str


@dataclass(frozen=True)
class Escalation:
    incident_id: int
    impact: Impact
    reason: str


@dataclass(frozen=True)
class Decisions:
    open: tuple[Opening, ...] = ()
    resolve: tuple[Resolution, ...] = ()
    escalate: tuple[Escalation, ...] = ()


_IMPACT_RANK: dict[Impact, int] = {"none": 0, "minor": 1, "major": 2, "critical": 3}


def impact_of(state: ResultState) -> Impact:
    """The impact of a result's ongoing outage (see the module's note)."""
    if state.outage is not None and state.outage.everywhere:
        return "critical"
    return "major" if state.location is None else "minor"


def minute_rule_states(report: Report, now: int, grace: int = RECOVERY_GRACE) -> list[ResultState]:
    """The state of every minute-rule result of a month-to-date ``report``."""
    states = []
    for result in report.results:
        if result.rule == "probe-ratio":
            continue
        counted = [e for e in result.episodes if e.status in ("counted", "emergency-maintenance")]
        ongoing = [e for e in counted if e.end + grace > now and e.start <= now]
        over = [e.end for e in counted if e.end + grace <= now]
        outage = None
        if ongoing:
            first = min(ongoing, key=lambda e: e.start)
            outage = Outage(first.start, first.reason)
        states.append(
            ResultState(result.service, result.location, outage, max(over) if over else None)
        )
    return states


Probes = dict[str, list[tuple[int, int]]]
"""Per location: (instant, outcome) of each up or down probe."""


def recent_probes(
    contract: Contract,
    observations: Observations,
    events: Events,
    now: int,
    services: Sequence[str],
    window: int = PROBE_WINDOW,
) -> dict[str, Probes]:
    """Each service's up and down probes of the last ``window`` before ``now`` by location,
    left out: probes classified ``excluded`` and those inside excluded time."""
    if not services:
        return {}
    recent = (observations.timestamp >= now - window) & (observations.timestamp < now)
    outcome = classify(
        observations,
        [
            contract.services[name].outcomes if name in contract.services else DEFAULT_OUTCOMES
            for name in observations.services
        ],
    )
    excluded = resolve_windows(contract, events)
    found: dict[str, Probes] = {}
    for service_id in services:
        code = (
            observations.services.index(service_id) if service_id in observations.services else -1
        )
        rows = np.flatnonzero(recent & (observations.service == code))
        by_location: dict[str, list[tuple[int, int]]] = {}
        for row in rows.tolist():
            name = observations.locations[int(observations.location[row])]
            at = int(observations.timestamp[row])
            kept = int(outcome[row]) in (UP, DOWN)
            if kept and not excluded[service_id].for_location(name).contains(np.array([at])).any():
                by_location.setdefault(name, []).append((at, int(outcome[row])))
        found[service_id] = by_location
    return found


def probe_ratio_states(
    contract: Contract,
    observations: Observations,
    events: Events,
    now: int,
    window: int = PROBE_WINDOW,
) -> list[ResultState]:
    """The state of every ``probe-ratio`` result over the last ``window`` before ``now``."""
    ratio = [sid for sid, s in contract.services.items() if isinstance(s.downtime, ProbeRatio)]
    gathered = recent_probes(contract, observations, events, now, ratio, window)
    states: list[ResultState] = []
    for service_id in ratio:
        service = contract.services[service_id]
        by_location = gathered[service_id]
        if service.per_location:
            for name, probes in sorted(by_location.items()):
                states.append(_ratio_state(service_id, name, {name: probes}, 1))
        else:
            need = min(PROBE_RATIO_CONFIRM, len(by_location)) or 1
            states.append(_ratio_state(service_id, None, by_location, need))
    return states


def _ratio_state(
    service: str, location: str | None, probes: Mapping[str, list[tuple[int, int]]], need: int
) -> ResultState:
    failing = sorted(name for name, seen in probes.items() if all(o == DOWN for _, o in seen))
    ups = [at for seen in probes.values() for at, o in seen if o == UP]
    if len(failing) >= need and failing:
        started = min(at for name in failing for at, _ in probes[name])
        where = ", ".join(failing)
        count = sum(len(probes[name]) for name in failing)
        reason = f"every probe down at {where} ({count} probes since {format_instant(started)})"
        everywhere = location is None and len(failing) == len(probes)
        return ResultState(service, location, Outage(started, reason, everywhere))
    return ResultState(service, location, None, min(ups) if ups else None)


def detect_incidents(
    contract: Contract,
    report: Report,
    open_automatic: Sequence[OpenAutomatic],
    now: int,
    *,
    observations: Observations | None = None,
    events: Events | None = None,
) -> Decisions:
    """Decisions from a month-to-date ``report`` settled at ``now``; ``observations`` (those
    the report was settled from) and ``events`` are needed for ``probe-ratio`` services."""
    states = minute_rule_states(report, now)
    if observations is not None:
        states = _where_down(
            contract,
            states,
            recent_probes(
                contract,
                observations,
                events or Events(),
                now,
                [
                    sid
                    for sid, s in contract.services.items()
                    if not isinstance(s.downtime, ProbeRatio)
                ],
            ),
        )
        states += probe_ratio_states(contract, observations, events or Events(), now)
    else:  # probe-ratio results cannot be judged: leave their incidents as they are
        open_automatic = [
            incident
            for incident in open_automatic
            if not isinstance(
                getattr(contract.services.get(incident.key.split("@")[0]), "downtime", None),
                ProbeRatio,
            )
        ]
    return decide(contract, states, open_automatic, now)


def _where_down(
    contract: Contract, states: list[ResultState], probes: Mapping[str, Probes]
) -> list[ResultState]:
    """Minute-rule states with ``everywhere`` set on pooled outages whose every reporting
    location failed each of its recent probes."""
    marked = []
    for state in states:
        outage = state.outage
        seen = probes.get(state.service, {})
        if (
            outage is not None
            and state.location is None
            and seen
            and all(all(o == DOWN for _, o in at) for at in seen.values())
        ):
            outage = Outage(outage.started, outage.reason, everywhere=True)
        marked.append(ResultState(state.service, state.location, outage, state.recovered))
    return marked


def _spread(contract: Contract, states: Sequence[ResultState]) -> list[ResultState]:
    """Per-location states with ``everywhere`` set when every location of their service is
    down (a service seen at a single location never is: one location is not all of them)."""
    by_service: dict[str, list[ResultState]] = {}
    for state in states:
        if state.location is not None:
            by_service.setdefault(state.service, []).append(state)
    total = {
        service: len(seen) > 1 and all(s.outage is not None for s in seen)
        for service, seen in by_service.items()
    }
    spread = []
    for state in states:
        outage = state.outage
        if outage is not None and state.location is not None and total[state.service]:
            outage = Outage(outage.started, outage.reason, everywhere=True)
        spread.append(ResultState(state.service, state.location, outage, state.recovered))
    return spread


def decide(
    contract: Contract,
    states: Sequence[ResultState],
    open_automatic: Sequence[OpenAutomatic],
    now: int,
) -> Decisions:
    """Incidents to open (ongoing outages without one) and to resolve (recovered results)."""
    states = _spread(contract, states)
    by_key = {state.key: state for state in states}
    open_keys = {incident.key for incident in open_automatic}
    openings = []
    for state in states:
        if state.outage is None or state.key in open_keys:
            continue
        service = contract.services.get(state.service)
        name = service.name if service is not None else state.service
        where = "" if state.location is None else f" at {state.location}"
        openings.append(
            Opening(
                key=state.key,
                service=state.service,
                location=state.location,
                started=state.outage.started,
                title=f"{name} outage{where}",
                impact=impact_of(state),
                reason=state.outage.reason,
            )
        )
    resolutions = []
    escalations = []
    for incident in open_automatic:
        seen = by_key.get(incident.key)
        if seen is not None and seen.outage is not None:
            impact = impact_of(seen)
            if _IMPACT_RANK[impact] > _IMPACT_RANK[incident.impact]:
                escalations.append(
                    Escalation(incident.id, impact, "the outage is now at every location")
                )
            continue
        recovered = now if seen is None or seen.recovered is None else seen.recovered
        resolved = min(now, max(incident.started, recovered))
        resolutions.append(
            Resolution(
                incident.id,
                resolved,
                f"recovered at {format_instant(resolved)}: "
                "the contract's rule no longer confirms an outage",
            )
        )
    return Decisions(tuple(openings), tuple(resolutions), tuple(escalations))
