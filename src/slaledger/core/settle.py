"""Settling a contract for a month: the one place availability is computed."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from slaledger.core.classified import Classified, classify_observations, edges_of, split_run
from slaledger.core.contract import (
    DEFAULT_OUTCOMES,
    ContinuousFailure,
    Contract,
    FirstFailToFirstSuccess,
    OutcomeRule,
    ProbeRatio,
    Service,
)
from slaledger.core.events import Events
from slaledger.core.figures import (
    credit_percent,
    meets,
    minute_availability,
    ratio_availability,
)
from slaledger.core.intervals import IntervalSet
from slaledger.core.observations import Observations
from slaledger.core.outages import OutageKey, check_outage_services
from slaledger.core.periods import Period, calendar_month, trailing_days
from slaledger.core.probe_counts import count_probes
from slaledger.core.report import Episode, ProbeCounts, Report, Result
from slaledger.core.rule_continuous import settle_continuous_failure
from slaledger.core.rule_first_fail import settle_first_fail
from slaledger.core.rule_input import ResultKey, RuleInput, RuleOutcome
from slaledger.core.timebase import format_instant
from slaledger.core.windows import ServiceWindows, resolve_windows
from slaledger.errors import Problem, UserError

TRAILING_DAYS = 30


def service_period(service: Service, month: Period, at: int | None) -> Period:
    """The settlement period of ``service``: the month, or the 30 days ending at ``at``."""
    if service.window == "trailing-30d":
        return trailing_days(month.end if at is None else at, TRAILING_DAYS)
    return month


class NotInForceError(UserError):
    """A period that ends before the contract's ``effective_from``: nothing to settle."""


def in_force(contract: Contract, period: Period) -> Period:
    """The part of ``period`` from the contract's ``effective_from`` on; nothing before it is
    settled. :class:`NotInForceError` when the whole period lies before it."""
    start = contract.start
    if start is None or period.start >= start:
        return period
    if period.end <= start:
        raise NotInForceError(
            Problem(
                f"contract {contract.contract} is in force from {format_instant(start)} "
                f"(effective_from); {format_instant(period.start)} to "
                f"{format_instant(period.end)} is before it"
            )
        )
    return Period(start, period.end)


def settle(
    contract: Contract,
    observations: Observations,
    events: Events,
    month: tuple[int, int],
    *,
    at: int | None = None,
    known_until: int | None = None,
    outages: Mapping[OutageKey, IntervalSet] | None = None,
) -> Report:
    """Settle every service of ``contract`` for calendar ``month`` (in the contract's zone).

    ``events`` must have passed :func:`slaledger.core.windows.check_events`; ``at`` ends
    trailing windows (default: the end of the month). ``known_until`` is when the data ends,
    for figures to date: a first-fail interval still open then counts up to that instant, not
    to the end of the period. ``outages`` is recorded down time per (service, location)
    (:func:`slaledger.core.outages.outage_intervals`), merged with what the probes show.
    """
    classified = classify_observations(observations, outcome_rules(contract))
    return settle_classified(
        contract, classified, events, month, at=at, known_until=known_until, outages=outages
    )


def outcome_rules(contract: Contract) -> defaultdict[str, tuple[OutcomeRule, ...]]:
    """Each service's outcome rules; services the contract lacks get the default ones."""
    rules: defaultdict[str, tuple[OutcomeRule, ...]] = defaultdict(lambda: DEFAULT_OUTCOMES)
    rules.update({name: service.outcomes for name, service in contract.services.items()})
    return rules


class SplitRunError(UserError):
    """Raw observations are gone and an edge falls inside a minute kept only as a count."""


def settle_classified(
    contract: Contract,
    classified: Classified,
    events: Events,
    month: tuple[int, int],
    *,
    at: int | None = None,
    known_until: int | None = None,
    period: Period | None = None,
    outages: Mapping[OutageKey, IntervalSet] | None = None,
) -> Report:
    """:func:`settle` for observations already classified, or minute runs of them.

    ``period`` settles every service over that period instead of its contractual window
    (a day's figure, say); the month then only names the report.
    """
    month_period = calendar_month(*month, contract.zone) if period is None else period
    month_period = in_force(contract, month_period)
    windows = resolve_windows(contract, events)
    outages = {key: spans for key, spans in (outages or {}).items() if spans}
    if outages:
        check_outage_services(contract, outages)
        unseen = [name for _, name in outages if name not in classified.locations]
        if unseen:  # down time where no probe reported: those locations get codes too
            classified = replace(
                classified, locations=(*classified.locations, *dict.fromkeys(unseen))
            )
    groups: dict[tuple[object, bool, Period], list[str]] = {}
    # Only runs of several observations can be split by an edge: usually few or none.
    several = None if classified.last is None else classified.last > classified.timestamp
    spans = None if several is None or not several.any() else classified.take(several)
    for service_id, service in contract.services.items():
        own = in_force(
            contract, service_period(service, month_period, at) if period is None else period
        )
        groups.setdefault((service.downtime, service.per_location, own), []).append(service_id)
        if spans is not None and service_id in spans.services:
            _check_separable(spans, service_id, windows[service_id], own)

    settled: dict[str, list[Result]] = {}
    for (_rule, per_location, own), service_ids in groups.items():
        data = _group_input(
            classified, service_ids, windows, own, per_location=per_location, outages=outages
        )
        if known_until is not None:
            data = replace(data, known_until=known_until)
        group_results = _settle_group(contract, service_ids, data)
        settled.update(group_results)
    results = [result for service_id in contract.services for result in settled[service_id]]
    return Report(contract=contract.contract, period=month_period, results=tuple(results))


def _check_separable(
    classified: Classified, service_id: str, windows: ServiceWindows, period: Period
) -> None:
    excluded = [windows.everywhere, *windows.by_location.values()]
    split = split_run(
        classified,
        classified.services.index(service_id),
        edges_of(excluded, (period.start, period.end)),
    )
    if split is not None:
        raise SplitRunError(
            Problem(
                f"cannot settle exactly from the long-term tier: {split}; settle with "
                "period and window edges on whole minutes, or while raw observations are kept"
            )
        )


def _group_input(
    data: Classified,
    service_ids: Sequence[str],
    windows: dict[str, ServiceWindows],
    period: Period,
    *,
    per_location: bool,
    outages: Mapping[OutageKey, IntervalSet],
) -> RuleInput:
    """The rows of ``service_ids`` with service codes renumbered to the group's order."""
    location_codes = {name: code for code, name in enumerate(data.locations)}
    group_outages = {
        (index, location_codes[location]): outages[(service_id, location)]
        for index, service_id in enumerate(service_ids)
        for (outage_service, location) in outages
        if outage_service == service_id
    }
    local = np.full(max(len(data.services), 1), -1, dtype=np.int32)
    for index, service_id in enumerate(service_ids):
        if service_id in data.services:
            local[data.services.index(service_id)] = index
    if np.array_equal(local[: len(data.services)], np.arange(len(data.services))):
        rows = None  # the group is every service, in the data's own order
        service = data.service
    else:
        codes = local[data.service] if len(data) else data.service
        keep = codes >= 0
        rows = np.flatnonzero(keep) if not keep.all() else None
        service = codes if rows is None else codes[rows]
    if rows is not None:
        data = data.take(rows)
    return RuleInput(
        timestamp=data.timestamp,
        service=service,
        location=data.location,
        outcome=data.outcome,
        windows=tuple(windows[service_id] for service_id in service_ids),
        locations=data.locations,
        period=period,
        per_location=per_location,
        weight=data.weight,
        outages=group_outages,
    )


def _settle_group(
    contract: Contract, service_ids: Sequence[str], data: RuleInput
) -> dict[str, list[Result]]:
    rule = contract.services[service_ids[0]].downtime
    counts = count_probes(data)
    outcomes: dict[ResultKey, RuleOutcome] = {}
    if isinstance(rule, ContinuousFailure):
        outcomes = settle_continuous_failure(data, rule)
    elif isinstance(rule, FirstFailToFirstSuccess):
        outcomes = settle_first_fail(data, rule)
    results: dict[str, list[Result]] = {}
    for index, service_id in enumerate(service_ids):
        keys: list[ResultKey] = [(index, None)]
        if data.per_location:
            seen = sorted(
                {key for key in (*counts, *outcomes) if key[0] == index},
                key=lambda key: data.locations[key[1] or 0],
            )
            keys = seen or keys
        results[service_id] = [
            _result(
                contract, service_id, data, key, counts.get(key, ProbeCounts()), outcomes.get(key)
            )
            for key in keys
        ]
    return results


def _result(
    contract: Contract,
    service_id: str,
    data: RuleInput,
    key: ResultKey,
    probes: ProbeCounts,
    outcome: RuleOutcome | None,
) -> Result:
    service = contract.services[service_id]
    # An interval still open from before the period is data too: it runs to the period's end.
    has_data = probes.up + probes.down + probes.excluded > 0 or (
        outcome is not None and outcome.downtime_minutes > 0
    )
    total = downtime = excluded = None
    episodes: tuple[Episode, ...] = ()
    if isinstance(service.downtime, ProbeRatio):
        availability = ratio_availability(probes.up, probes.down)
    else:
        excluded = data.excluded_for(*key).minute_starts_in(data.period.start, data.period.end)
        total = data.period.minutes - (excluded if "total" in service.exclude_from else 0)
        downtime = 0 if outcome is None else min(outcome.downtime_minutes, total)
        episodes = () if outcome is None else outcome.episodes
        availability = minute_availability(total, downtime) if has_data else None
    return Result(
        service=service_id,
        location=None if key[1] is None else data.locations[key[1]],
        rule=service.downtime.rule,
        window=service.window,
        period=data.period,
        target=service.target,
        total_minutes=total,
        downtime_minutes=downtime,
        excluded_minutes=excluded,
        availability=availability,
        met=meets(availability, service.target),
        credit_percent=credit_percent(availability, contract.credits),
        probes=probes,
        episodes=episodes,
    )
