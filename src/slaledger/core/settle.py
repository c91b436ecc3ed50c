"""Settling a contract for a month: the one place availability is computed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from slaledger.core.contract import (
    DEFAULT_OUTCOMES,
    ContinuousFailure,
    Contract,
    FirstFailToFirstSuccess,
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
from slaledger.core.observations import Observations
from slaledger.core.outcomes import classify
from slaledger.core.periods import Period, calendar_month, trailing_days
from slaledger.core.probe_counts import count_probes
from slaledger.core.report import Episode, ProbeCounts, Report, Result
from slaledger.core.rule_continuous import settle_continuous_failure
from slaledger.core.rule_first_fail import settle_first_fail
from slaledger.core.rule_input import ResultKey, RuleInput, RuleOutcome
from slaledger.core.windows import ServiceWindows, resolve_windows

TRAILING_DAYS = 30


def service_period(service: Service, month: Period, at: int | None) -> Period:
    """The settlement period of ``service``: the month, or the 30 days ending at ``at``."""
    if service.window == "trailing-30d":
        return trailing_days(month.end if at is None else at, TRAILING_DAYS)
    return month


def settle(
    contract: Contract,
    observations: Observations,
    events: Events,
    month: tuple[int, int],
    *,
    at: int | None = None,
    known_until: int | None = None,
) -> Report:
    """Settle every service of ``contract`` for calendar ``month`` (in the contract's zone).

    ``events`` must have passed :func:`slaledger.core.windows.check_events`; ``at`` ends
    trailing windows (default: the end of the month). ``known_until`` is when the data ends,
    for figures to date: a first-fail interval still open then counts up to that instant, not
    to the end of the period.
    """
    month_period = calendar_month(*month, contract.zone)
    windows = resolve_windows(contract, events)
    outcome = classify(
        observations,
        [
            contract.services[name].outcomes if name in contract.services else DEFAULT_OUTCOMES
            for name in observations.services
        ],
    )
    groups: dict[tuple[object, bool, Period], list[str]] = {}
    for service_id, service in contract.services.items():
        period = service_period(service, month_period, at)
        groups.setdefault((service.downtime, service.per_location, period), []).append(service_id)

    settled: dict[str, list[Result]] = {}
    for (_rule, per_location, period), service_ids in groups.items():
        data = _group_input(
            observations, outcome, service_ids, windows, period, per_location=per_location
        )
        if known_until is not None:
            data = replace(data, known_until=known_until)
        group_results = _settle_group(contract, service_ids, data)
        settled.update(group_results)
    results = [result for service_id in contract.services for result in settled[service_id]]
    return Report(contract=contract.contract, period=month_period, results=tuple(results))


def _group_input(
    observations: Observations,
    outcome: NDArray[np.int8],
    service_ids: Sequence[str],
    windows: dict[str, ServiceWindows],
    period: Period,
    *,
    per_location: bool,
) -> RuleInput:
    """The rows of ``service_ids`` with service codes renumbered to the group's order."""
    local = np.full(max(len(observations.services), 1), -1, dtype=np.int32)
    for index, service_id in enumerate(service_ids):
        if service_id in observations.services:
            local[observations.services.index(service_id)] = index
    if np.array_equal(local[: len(observations.services)], np.arange(len(observations.services))):
        rows = None  # the group is every service, in the data's own order
        service = observations.service
    else:
        codes = local[observations.service] if len(observations) else observations.service
        keep = codes >= 0
        rows = np.flatnonzero(keep) if not keep.all() else None
        service = codes if rows is None else codes[rows]
    if rows is not None:
        observations = observations.take(rows)
        outcome = outcome[rows]
    return RuleInput(
        timestamp=observations.timestamp,
        service=service,
        location=observations.location,
        outcome=outcome,
        windows=tuple(windows[service_id] for service_id in service_ids),
        locations=observations.locations,
        period=period,
        per_location=per_location,
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
