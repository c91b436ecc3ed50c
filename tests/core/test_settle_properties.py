"""Properties of settlement over small random inputs, for each of the three rules.

Each case is one contract (one or two services, one rule), a few locations probing in runs of
up / 4xx / 5xx / timeout / open-breaker minutes around a period edge or mid-month, and a few
maintenance and exclusion windows. Besides the invariants (exclusions never add downtime,
availability in range, row order and far-away rows irrelevant, deterministic JSON), the
engine is compared with a naive reading of the rules as docs/semantics.md states them, written
independently below.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from builders import Row, contract, observations
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slaledger.core.contract import Contract
from slaledger.core.events import Events
from slaledger.core.periods import Period, calendar_month
from slaledger.core.report import Report
from slaledger.core.settle import settle
from slaledger.core.timebase import US_PER_DAY, US_PER_MINUTE, to_instant
from slaledger.core.windows import check_events

MONTH = (2026, 10)
LOCATIONS = ("ams", "fra", "hel")
SERVICES = ("api", "web")
SECONDS = (0, 1, 29, 30, 59)
STATES: dict[str, tuple[int | None, str | None, bool]] = {
    "up": (200, None, False),
    "4xx": (404, None, False),
    "5xx": (500, None, False),
    "timeout": (None, "timeout", False),
    "breaker": (503, None, True),
}
OUTCOMES = [
    {"match": {"status": 503, "retry_after": "present"}, "outcome": "excluded"},
    {"match": {"error": "any"}, "outcome": "down"},
    {"match": {"status": "5xx"}, "outcome": "down"},
]
TIERS = [
    {"below": "99.99", "credit": 10},
    {"below": "99.9", "credit": 25},
    {"below": "95", "credit": 50},
    {"below": "50", "credit": 100},
]
SCHEDULED_LEAD = timedelta(hours=72)
EMERGENCY_LEAD = timedelta(hours=1)
FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclass(frozen=True)
class Win:
    """A window: scheduled or emergency maintenance, or a force-majeure exclusion."""

    kind: str  # "scheduled" | "emergency" | "exclusion"
    start: datetime
    end: datetime
    services: str | tuple[str, ...]
    location: str | None

    def as_event(self) -> dict[str, Any]:
        window: dict[str, Any] = {
            "services": self.services if self.services == "*" else list(self.services),
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }
        if self.location is not None:
            window["location"] = self.location
        if self.kind == "exclusion":
            window["cause"] = "force-majeure"
        else:
            lead = SCHEDULED_LEAD if self.kind == "scheduled" else EMERGENCY_LEAD
            window["announced"] = (self.start - lead).isoformat()
        return window


@dataclass(frozen=True)
class Case:
    rule: str
    params: dict[str, Any]
    zone: str
    per_location: bool
    exclude_from: tuple[str, ...]
    services: tuple[str, ...]
    rows: tuple[Row, ...]
    windows: tuple[Win, ...]

    @property
    def downtime(self) -> dict[str, Any]:
        return {"rule": self.rule, **self.params}

    @property
    def contract(self) -> Contract:
        return self.contract_with(dict.fromkeys(self.services, self.downtime))

    def contract_with(self, downtimes: dict[str, dict[str, Any]]) -> Contract:
        """This case's contract with the given services, each settled by its own rule."""
        return contract(
            {
                "contract": "prop",
                "name": "Property contract",
                "timezone": self.zone,
                "services": {
                    service: {
                        "name": service,
                        "target": "99.9",
                        "per_location": self.per_location,
                        "downtime": downtime,
                        "outcomes": OUTCOMES,
                        "maintenance": {"notice": "48h"},
                        "excludable_causes": ["force-majeure"],
                        "exclude_from": list(self.exclude_from),
                    }
                    for service, downtime in downtimes.items()
                },
                "credits": {"basis": "monthly-fee", "mode": "automatic", "tiers": TIERS},
            }
        )

    @property
    def period(self) -> Period:
        return calendar_month(*MONTH, ZoneInfo(self.zone))

    def events(self, windows: tuple[Win, ...] | None = None) -> Events:
        chosen = self.windows if windows is None else windows
        return Events.model_validate(
            {
                "maintenance": [w.as_event() for w in chosen if w.kind != "exclusion"],
                "exclusions": [w.as_event() for w in chosen if w.kind == "exclusion"],
            }
        )


def run(
    case: Case, rows: tuple[Row, ...] | None = None, windows: tuple[Win, ...] | None = None
) -> Report:
    the_contract = case.contract
    the_events = case.events(windows)
    assert check_events(the_contract, the_events) == []
    data = observations(case.rows if rows is None else rows)
    return settle(the_contract, data, the_events, MONTH)


def as_utc(instant: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=instant)


@st.composite
def windows_near(draw: st.DrawFn, anchor: datetime, services: tuple[str, ...]) -> Win:
    start = anchor + timedelta(
        minutes=draw(st.integers(-25, 40)), seconds=draw(st.sampled_from(SECONDS))
    )
    length = timedelta(minutes=draw(st.integers(0, 20)), seconds=draw(st.sampled_from((1, 30, 60))))
    chosen = draw(st.sampled_from(["*", *((s,) for s in services)]))
    location = draw(st.sampled_from([None, None, *LOCATIONS]))
    kind = draw(st.sampled_from(["scheduled", "scheduled", "emergency", "exclusion"]))
    return Win(kind, start, start + length, chosen, location)


@st.composite
def cases(draw: st.DrawFn, rules: tuple[str, ...] = ("cf", "ff", "pr")) -> Case:
    rule = draw(st.sampled_from(rules))
    params: dict[str, Any]
    if rule == "cf":
        name = "continuous-failure"
        params = {
            "min_duration": draw(st.sampled_from(["1m", "3m", "5m", "150s"])),
            "confirm": draw(st.integers(1, 3)),
        }
    elif rule == "ff":
        name = "first-fail-to-first-success"
        params = {"confirm": draw(st.integers(1, 3))}
    else:
        name, params = "probe-ratio", {}
    zone = draw(st.sampled_from(["UTC", "Europe/Berlin"]))
    period = calendar_month(*MONTH, ZoneInfo(zone))
    anchor = as_utc(
        draw(st.sampled_from([period.start, period.start + 15 * US_PER_DAY, period.end]))
    )
    services = SERVICES[: draw(st.integers(1, 2))]
    rows: list[Row] = []
    for service in services:
        for location in LOCATIONS[: draw(st.integers(1, 3))]:
            minute = draw(st.integers(-25, 5))
            segments = draw(
                st.lists(
                    st.tuples(
                        st.sampled_from([*STATES, "none"]),
                        st.integers(1, 7),
                        st.sampled_from(SECONDS),
                    ),
                    max_size=6,
                )
            )
            for state, length, second in segments:
                for offset in range(length):
                    if state != "none":
                        when = anchor + timedelta(minutes=minute + offset, seconds=second)
                        rows.append((when, service, location, *STATES[state]))
                minute += length
        extras = draw(
            st.lists(
                st.tuples(
                    st.integers(-25, 40),
                    st.sampled_from(SECONDS),
                    st.sampled_from(LOCATIONS),
                    st.sampled_from(list(STATES)),
                ),
                max_size=4,
            )
        )
        for minute, second, location, state in extras:
            when = anchor + timedelta(minutes=minute, seconds=second)
            rows.append((when, service, location, *STATES[state]))
        # Echoes: a second probe at the very instant and location of an earlier one.
        own = [row for row in rows if row[1] == service]
        echoes = st.tuples(st.integers(0, 1000), st.sampled_from(list(STATES)))
        for index, state in draw(st.lists(echoes, max_size=3 if own else 0)):
            when, _service, location, *_rest = own[index % len(own)]
            rows.append((when, service, location, *STATES[state]))
    wins = draw(st.lists(windows_near(anchor, services), max_size=3))
    return Case(
        rule=name,
        params=params,
        zone=zone,
        per_location=draw(st.booleans()),
        exclude_from=draw(st.sampled_from([("downtime",), ("downtime", "total")])),
        services=services,
        rows=tuple(rows),
        windows=tuple(wins),
    )


def keyed(report: Report) -> dict[tuple[str, str | None], Any]:
    return {(r.service, r.location): r for r in report.results}


# ---- invariants --------------------------------------------------------------------------


@FAST
@given(case=cases(("cf", "ff")), extra=st.data())
def test_excluding_time_never_adds_downtime(case: Case, extra: st.DataObject) -> None:
    anchor = as_utc(case.period.start + 15 * US_PER_DAY)
    if case.rows:
        anchor = min(r[0] for r in case.rows)
    window = extra.draw(windows_near(anchor, case.services))
    scheduled = replace(window, kind=extra.draw(st.sampled_from(["scheduled", "exclusion"])))
    before = keyed(run(case))
    after = keyed(run(case, windows=(*case.windows, scheduled)))
    assert before.keys() == after.keys()
    for key, old in before.items():
        new = after[key]
        assert new.downtime_minutes <= old.downtime_minutes, key
        assert new.excluded_minutes >= old.excluded_minutes, key
        assert (new.availability is None) == (old.availability is None), key
        if old.availability is not None and case.exclude_from == ("downtime",):
            assert new.availability >= old.availability, key
        assert new.probes.up + new.probes.down + new.probes.excluded == (
            old.probes.up + old.probes.down + old.probes.excluded
        )


@FAST
@given(case=cases())
def test_figures_stay_in_range(case: Case) -> None:
    report = run(case)
    period = case.period
    for result in report.results:
        assert result.period == period
        assert (result.met is None) == (result.availability is None)
        if result.availability is None:
            assert result.credit_percent == 0
        else:
            assert 0 <= result.availability <= 100
            text = result.availability_text
            assert text is not None
            exact = Decimal(result.availability.numerator) / Decimal(
                result.availability.denominator
            )
            assert abs(Decimal(text) - exact) <= Decimal("0.0000005")
        if result.rule == "probe-ratio":
            assert result.total_minutes is None
            assert result.downtime_minutes is None
            assert result.episodes == ()
            continue
        assert result.total_minutes is not None
        assert result.downtime_minutes is not None
        assert result.excluded_minutes is not None
        assert 0 <= result.excluded_minutes <= period.minutes
        assert 0 <= result.downtime_minutes <= result.total_minutes <= period.minutes
        counted = sum(e.counted_minutes for e in result.episodes)
        assert result.downtime_minutes == min(counted, result.total_minutes)
        for episode in result.episodes:
            assert episode.start < episode.end
            assert episode.end > period.start
            assert episode.start < period.end
            assert (episode.counted_minutes > 0) == (
                episode.status in ("counted", "emergency-maintenance")
            )


@FAST
@given(case=cases(), seed=st.randoms(use_true_random=False))
def test_row_order_does_not_matter(case: Case, seed: Any) -> None:
    shuffled = list(case.rows)
    seed.shuffle(shuffled)
    assert run(case, rows=tuple(shuffled)).as_dict() == run(case).as_dict()


def closed(rows: tuple[Row, ...]) -> tuple[Row, ...]:
    """``rows`` with an up probe a minute after each (service, location)'s last one, so no
    first-fail interval is left open at the end of the data."""
    last: dict[tuple[str, str], datetime] = {}
    for when, service, location, *_ in rows:
        last[service, location] = max(when, last.get((service, location), when))
    closing = [
        (when + timedelta(minutes=1), service, location, 200)
        for (service, location), when in sorted(last.items())
    ]
    return (*rows, *closing)


@FAST
@given(case=cases(), extra=st.data())
def test_rows_far_outside_the_month_change_nothing(case: Case, extra: st.DataObject) -> None:
    period = case.period
    base_rows = closed(case.rows) if case.rule == "first-fail-to-first-success" else case.rows
    added: list[Row] = []
    spots = st.tuples(
        st.sampled_from(["before", "after"]),
        st.integers(US_PER_DAY + 1, 20 * US_PER_DAY),
        st.sampled_from([*SERVICES, "other"]),
        st.sampled_from([*LOCATIONS, "lon"]),
        st.sampled_from(list(STATES)),
    )
    for side, distance, service, location, state in extra.draw(st.lists(spots, max_size=8)):
        at = period.start - distance if side == "before" else period.end - 1 + distance
        added.append((as_utc(at), service, location, *STATES[state]))
    # Before the month, every location's far-away probes end with a success, so none of
    # them opens a first-fail interval that the month's own probes would close.
    before = [row for row in added if row[0] < as_utc(period.start)]
    added += [
        (as_utc(period.start - US_PER_DAY), service, location, 200)
        for service, location in sorted({(row[1], row[2]) for row in before})
    ]
    base = run(case, rows=base_rows).as_dict()
    assert run(case, rows=(*base_rows, *added)).as_dict() == base


DOWNTIMES = st.sampled_from(
    [
        {"rule": "probe-ratio"},
        {"rule": "continuous-failure", "min_duration": "3m", "confirm": 2},
        {"rule": "continuous-failure", "min_duration": "1m", "confirm": 1},
        {"rule": "first-fail-to-first-success", "confirm": 1},
        {"rule": "first-fail-to-first-success", "confirm": 2},
    ]
)


def only(windows: tuple[Win, ...], service: str) -> tuple[Win, ...]:
    """The windows that name ``service``, naming nothing else."""
    return tuple(
        w if w.services == "*" else replace(w, services=(service,))
        for w in windows
        if w.services == "*" or service in w.services
    )


@FAST
@given(case=cases(), other=DOWNTIMES)
def test_each_service_settles_as_if_alone(case: Case, other: dict[str, Any]) -> None:
    downtimes = {"api": case.downtime, "web": other}
    both = case.contract_with(downtimes)
    data = observations(case.rows)
    together = settle(both, data, case.events(), MONTH).as_dict()["results"]
    for service, downtime in downtimes.items():
        alone = case.contract_with({service: downtime})
        the_events = case.events(only(case.windows, service))
        assert check_events(alone, the_events) == []
        results = settle(alone, data, the_events, MONTH).as_dict()["results"]
        assert [r for r in together if r["service"] == service] == results


@FAST
@given(case=cases())
def test_report_json_is_deterministic(case: Case) -> None:
    first = json.dumps(run(case).as_dict())
    again = run(case)
    assert json.dumps(again.as_dict()) == first
    # The same observations split and joined again settle the same.
    data = observations(case.rows)
    half = len(data) // 2
    joined = type(data).concat([data.take(np.arange(half)), data.take(np.arange(half, len(data)))])
    the_events = case.events()
    assert json.dumps(settle(case.contract, joined, the_events, MONTH).as_dict()) == first


# ---- a naive reading of the spec ---------------------------------------------------------


def classify(status: int | None, error: str | None, retry_after: bool) -> str:
    if status == 503 and retry_after:
        return "excluded"
    if error:
        return "down"
    if status is not None and 500 <= status <= 599:
        return "down"
    return "up"


Span = tuple[int, int]


def merged(spans: list[Span]) -> list[Span]:
    out: list[Span] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def inside(point: int, spans: list[Span]) -> bool:
    return any(start <= point < end for start, end in spans)


def bucket_starts(spans: list[Span], lo: int, hi: int) -> int:
    """Minute buckets starting in ``[lo, hi)`` whose start lies in ``spans``."""
    count = 0
    for start, end in merged(spans):
        a, b = max(start, lo), min(end, hi)
        if a < b:
            count += -(-b // US_PER_MINUTE) - -(-a // US_PER_MINUTE)
    return count


@dataclass(frozen=True)
class Obs:
    t: int
    service: str
    location: str
    outcome: str


def naive_settle(case: Case) -> dict[tuple[str, str | None], dict[str, Any]]:
    period = case.period
    lo, hi = period.start, period.end
    excluding = [w for w in case.windows if w.kind != "emergency"]
    obs = [
        Obs(to_instant(when), service, location, classify(status, error, retry))
        for when, service, location, status, error, retry in case.rows
    ]

    def spans(service: str, location: str | None) -> list[Span]:
        """Excluded time of ``service``: service-wide windows and those bound to
        ``location``."""
        return [
            (to_instant(w.start), to_instant(w.end))
            for w in excluding
            if (w.services == "*" or service in w.services)
            and (w.location is None or w.location == location)
        ]

    results: dict[tuple[str, str | None], dict[str, Any]] = {}
    for service in case.services:
        mine = [o for o in obs if o.service == service]
        keys: list[str | None] = [None]
        if case.per_location:
            # Locations probed in the period, and those whose interval open since before the
            # period runs into it (it counts to the period's end).
            probed = {o.location for o in mine if lo <= o.t < hi}
            still_down = {
                location
                for location in {o.location for o in mine}
                if case.rule == "first-fail-to-first-success"
                and naive_first_fail(
                    [o for o in mine if o.location == location],
                    case,
                    spans(service, location),
                    1,
                    service,
                )
                > 0
            }
            keys = sorted(probed | still_down) or [None]
        for key in keys:
            if case.per_location and key is None:
                rows = []
            else:
                rows = [o for o in mine if key is None or o.location == key]
            probes = {"up": 0, "down": 0, "excluded": 0}
            for o in rows:
                if lo <= o.t < hi:
                    hidden = o.outcome == "excluded" or inside(o.t, spans(service, o.location))
                    probes["excluded" if hidden else o.outcome] += 1
            figures: dict[str, Any] = {"probes": probes}
            if case.rule == "probe-ratio":
                up, down = probes["up"], probes["down"]
                availability = None if up + down == 0 else Fraction(100 * up, up + down)
            else:
                windows = spans(service, key)
                excluded = bucket_starts(windows, lo, hi)
                total = period.minutes - (excluded if "total" in case.exclude_from else 0)
                confirm = 1 if case.per_location else case.params["confirm"]
                if case.rule == "continuous-failure":
                    downtime = naive_continuous(rows, case, windows, confirm, service)
                else:
                    downtime = naive_first_fail(rows, case, windows, confirm, service)
                downtime = min(downtime, total)
                has_data = sum(probes.values()) > 0 or downtime > 0
                availability = (
                    Fraction(100 * (total - downtime), total) if has_data and total else None
                )
                figures |= {"total": total, "downtime": downtime, "excluded": excluded}
            figures["availability"] = availability
            results[service, key] = figures
    return results


def naive_continuous(
    rows: list[Obs], case: Case, windows: list[Span], confirm: int, service: str
) -> int:
    period = case.period
    failing: dict[int, set[str]] = {}
    for o in rows:
        if o.outcome == "down":
            failing.setdefault(o.t // US_PER_MINUTE, set()).add(o.location)
    confirmed = sorted(m for m, where in failing.items() if len(where) >= confirm)
    runs: list[list[int]] = []
    for m in confirmed:
        if runs and runs[-1][-1] == m - 1:
            runs[-1].append(m)
        else:
            runs.append([m])
    needed = max(1, -(-min_duration(case) // US_PER_MINUTE))
    downtime = 0
    for run_ in runs:
        if len(run_) < needed:
            continue
        for m in run_:
            start = m * US_PER_MINUTE
            if not period.start <= start < period.end or inside(start, windows):
                continue
            if not case.per_location:
                voting = [
                    loc
                    for loc in failing[m]
                    if not inside(start, location_windows(case, service, loc))
                ]
                if len(voting) < confirm:
                    continue
            downtime += 1
    return downtime


def location_windows(case: Case, service: str, location: str) -> list[Span]:
    return [
        (to_instant(w.start), to_instant(w.end))
        for w in case.windows
        if w.kind != "emergency"
        and (w.services == "*" or service in w.services)
        and w.location == location
    ]


RANK = {"up": 0, "excluded": 1, "down": 2}


def naive_first_fail(
    rows: list[Obs], case: Case, windows: list[Span], confirm: int, service: str
) -> int:
    period = case.period
    raw: dict[str, list[Span]] = {}
    for location in sorted({o.location for o in rows}):
        opened: int | None = None
        spans: list[Span] = []
        # At one instant: successes, then excluded probes, then failures (pessimistic).
        ranked = sorted(
            (o for o in rows if o.location == location), key=lambda o: (o.t, RANK[o.outcome])
        )
        for o in ranked:
            if o.outcome == "down" and opened is None:
                opened = o.t
            elif o.outcome == "up" and opened is not None:
                spans.append((opened, o.t))
                opened = None
        if opened is not None:
            spans.append((opened, max(opened, period.end)))
        raw[location] = spans
    cuts = {loc: [] if case.per_location else location_windows(case, service, loc) for loc in raw}
    points = {period.start, period.end}
    for loc, spans in raw.items():
        points |= {p for span in spans for p in span}
        points |= {p for span in cuts[loc] for p in span}
    points |= {p for span in windows for p in span}
    edges = sorted(points)
    downtime = 0
    kept = 0
    in_episode = False
    touches = False
    for a, b in itertools.pairwise(edges):
        depth = sum(inside(a, spans) for spans in raw.values())
        if depth >= confirm:
            in_episode = True
            touches |= a < period.end and b > period.start
            effective = sum(
                inside(a, spans) and not inside(a, cuts[loc]) for loc, spans in raw.items()
            )
            if effective >= confirm and period.start <= a < period.end and not inside(a, windows):
                kept += b - a
        elif in_episode:
            downtime += -(-kept // US_PER_MINUTE) if touches else 0
            in_episode, touches, kept = False, False, 0
    if in_episode:
        downtime += -(-kept // US_PER_MINUTE) if touches else 0
    return downtime


def min_duration(case: Case) -> int:
    text = case.params["min_duration"]
    unit = {"s": 1_000_000, "m": US_PER_MINUTE}[text[-1]]
    return int(text[:-1]) * unit


def six_places(value: Fraction) -> str:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return str(exact.quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN))


def credit(value: Fraction | None) -> int:
    if value is None:
        return 0
    under = [t for t in TIERS if value < Fraction(Decimal(t["below"]))]
    return min(under, key=lambda t: Decimal(t["below"]))["credit"] if under else 0


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def test_engine_agrees_with_a_naive_reading(case: Case) -> None:
    expected = naive_settle(case)
    got = keyed(run(case))
    assert got.keys() == expected.keys()
    for key, want in expected.items():
        result = got[key]
        assert result.probes.as_dict() == want["probes"], key
        if case.rule != "probe-ratio":
            assert result.total_minutes == want["total"], key
            assert result.excluded_minutes == want["excluded"], key
            assert result.downtime_minutes == want["downtime"], key
        availability = want["availability"]
        assert result.availability == availability, key
        text = None if availability is None else six_places(availability)
        assert result.availability_text == text, key
        assert result.met == (None if availability is None else availability >= Fraction(999, 10))
        assert result.credit_percent == credit(availability), key
