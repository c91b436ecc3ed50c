"""Minute runs settle exactly as the observations they came from, or refuse to."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from builders import contract, observations
from hypothesis import given
from test_settle_properties import FAST, MONTH, Case, cases, run

from slaledger.core.classified import (
    Classified,
    classify_observations,
    collapse_runs,
    outcomes_fingerprint,
)
from slaledger.core.events import Events
from slaledger.core.settle import SplitRunError, outcome_rules, settle_classified


def _runs(case: Case) -> Classified:
    data = observations(case.rows)
    return collapse_runs(classify_observations(data, outcome_rules(case.contract)))


@FAST
@given(case=cases())
def test_runs_settle_like_raw_observations_or_refuse(case: Case) -> None:
    expected = json.dumps(run(case).as_dict())
    try:
        got = settle_classified(case.contract, _runs(case), case.events(), MONTH)
    except SplitRunError:
        whole_minutes = all(w.start.second == 0 and w.end.second == 0 for w in case.windows)
        assert not whole_minutes, "only an edge inside a minute may refuse"
        return
    assert json.dumps(got.as_dict()) == expected


@FAST
@given(case=cases())
def test_runs_with_whole_minute_windows_always_settle(case: Case) -> None:
    windows = tuple(
        replace(w, start=w.start.replace(second=0), end=w.end.replace(second=0))
        for w in case.windows
        if w.end.replace(second=0) > w.start.replace(second=0)
    )
    case = replace(case, windows=windows)
    got = settle_classified(case.contract, _runs(case), case.events(), MONTH)
    assert got.as_dict() == run(case).as_dict()


SERVICE = {
    "name": "API",
    "target": "99.9",
    "downtime": {"rule": "probe-ratio"},
    "excludable_causes": ["force-majeure"],
}


def test_runs_count_every_observation_and_keep_first_and_last() -> None:
    rows = [
        ("2026-10-05T10:00:05Z", "api", "fra", 200),
        ("2026-10-05T10:00:25Z", "api", "fra", 200),
        ("2026-10-05T10:00:45Z", "api", "fra", 500),
        ("2026-10-05T10:00:50Z", "api", "fra", 502),
        ("2026-10-05T10:01:05Z", "api", "fra", 200),
    ]
    the_contract = contract({"contract": "c", "name": "C", "services": {"api": SERVICE}})
    runs = collapse_runs(classify_observations(observations(rows), outcome_rules(the_contract)))
    assert runs.weight is not None
    assert runs.last is not None
    assert runs.weight.tolist() == [2, 2, 1]
    assert runs.outcome.tolist() == [0, 1, 0]
    assert ((runs.last - runs.timestamp) // 1_000_000).tolist() == [20, 5, 0]


def test_an_edge_inside_a_counted_minute_is_refused_with_where_it_falls() -> None:
    rows = [
        ("2026-10-05T10:00:05Z", "api", "fra", 200),
        ("2026-10-05T10:00:45Z", "api", "fra", 200),
    ]
    the_contract = contract({"contract": "c", "name": "C", "services": {"api": SERVICE}})
    runs = collapse_runs(classify_observations(observations(rows), outcome_rules(the_contract)))
    events = Events.model_validate(
        {
            "exclusions": [
                {
                    "services": "api",
                    "start": "2026-10-05T10:00:30Z",
                    "end": "2026-10-05T11:00:00Z",
                    "cause": "force-majeure",
                }
            ]
        }
    )
    with pytest.raises(SplitRunError) as raised:
        settle_classified(the_contract, runs, events, MONTH)
    assert str(raised.value) == (
        "cannot settle exactly from the long-term tier: api at fra: the edge "
        "2026-10-05T10:00:30Z falls inside the minute whose observations "
        "(2026-10-05T10:00:05Z to 2026-10-05T10:00:45Z) are kept only as a count; settle "
        "with period and window edges on whole minutes, or while raw observations are kept"
    )


def test_fingerprint_names_the_classification() -> None:
    default = contract({"contract": "c", "name": "C", "services": {"api": SERVICE}})
    other = contract(
        {
            "contract": "c",
            "name": "C",
            "services": {
                "api": {**SERVICE, "outcomes": [{"match": {"status": 404}, "outcome": "down"}]}
            },
        }
    )
    first = outcomes_fingerprint(default.services["api"].outcomes)
    assert first == outcomes_fingerprint(default.services["api"].outcomes)
    assert len(first) == 16
    assert first != outcomes_fingerprint(other.services["api"].outcomes)
