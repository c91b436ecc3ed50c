"""Automatic incidents from real month-to-date settlements: what opens, what resolves, when."""

from __future__ import annotations

from builders import contract, observations, steady, utc

from slaledger.core.events import Events
from slaledger.core.incident_detection import (
    Decisions,
    Escalation,
    OpenAutomatic,
    Opening,
    Resolution,
    detect_incidents,
    detection_key,
)
from slaledger.core.settle import settle
from slaledger.core.timebase import to_instant

CONTRACT = contract(
    {
        "contract": "ops",
        "name": "Ops",
        "services": {
            "web": {
                "name": "Website",
                "target": "99.9",
                "downtime": {"rule": "continuous-failure", "min_duration": "5m", "confirm": 2},
                "maintenance": {"notice": "48h"},
            },
            "edge": {
                "name": "Edge",
                "target": "99.9",
                "per_location": True,
                "downtime": {"rule": "first-fail-to-first-success"},
            },
            "api": {
                "name": "API",
                "target": "99.5",
                "downtime": {"rule": "probe-ratio"},
                "maintenance": {"notice": "48h"},
            },
        },
    }
)
START = "2026-10-09T12:00:00Z"


def at(text: str) -> int:
    return to_instant(utc(text))


def decide(
    rows: list[tuple[object, ...]], now: str, *open_: OpenAutomatic, events: Events | None = None
) -> Decisions:
    instant = at(now)
    data = observations(rows, base=START)
    kept = data.take(data.timestamp < instant)
    report = settle(CONTRACT, kept, events or Events(), (2026, 10), at=instant, known_until=instant)
    return detect_incidents(
        CONTRACT, report, list(open_), instant, observations=kept, events=events
    )


def healthy(minutes: int) -> list[tuple[object, ...]]:
    return [
        *steady("web", ["fra", "ams", "hel"], START, minutes, second=5),
        *steady("edge", ["fra", "ams"], START, minutes, second=5),
        *steady("api", ["fra", "ams"], START, minutes, second=5),
    ]


def test_nothing_opens_while_everything_is_up() -> None:
    assert decide(healthy(41), "2026-10-09T12:40:30Z") == Decisions()


def test_a_confirmed_run_opens_once_it_reaches_min_duration_and_not_before() -> None:
    def rows(minutes: int) -> list[tuple[object, ...]]:
        return [
            *steady("web", ["fra", "ams"], START, minutes, down=range(30, 60), second=5),
            *steady("web", "hel", START, minutes, second=5),
        ]

    # 12:30-12:34: four confirmed buckets, shorter than 5m: too short, nothing opens.
    assert decide(rows(34), "2026-10-09T12:34:30Z") == Decisions()
    opened = decide(rows(35), "2026-10-09T12:35:30Z")
    assert opened == Decisions(
        open=(
            Opening(
                key="web",
                service="web",
                location=None,
                started=at("2026-10-09T12:30:00Z"),
                title="Website outage",
                impact="major",
                reason="5 min down (minimum 5m); confirmed by at least 2 locations",
            ),
        )
    )


def test_one_location_failing_is_not_confirmed_and_past_runs_open_nothing() -> None:
    rows = [
        # fra alone fails 12:30-12:39: confirm 2 is not met.
        *steady("web", "fra", START, 41, down=range(30, 40), second=5),
        # fra and ams failed 12:05-12:14, counted, but over long ago.
        *steady("web", "ams", START, 41, down=range(5, 15), second=5),
        *steady("web", "hel", START, 41, second=5),
    ]
    rows += steady("web", "fra", START, 15, down=range(5, 15), second=20)
    assert decide(rows, "2026-10-09T12:40:30Z") == Decisions()


def test_a_per_location_first_fail_interval_still_open_opens_an_incident_for_its_location() -> None:
    rows = [
        *steady("edge", "fra", START, 41, down=range(35, 41), second=5),
        *steady("edge", "ams", START, 41, second=5),
    ]
    decisions = decide(rows, "2026-10-09T12:40:30Z")
    assert decisions.open == (
        Opening(
            key="edge@fra",
            service="edge",
            location="fra",
            started=at("2026-10-09T12:35:05Z"),
            title="Edge outage at fra",
            impact="minor",
            reason="down 5m25s from first failed to first successful probe; "
            "5m25s counted, rounded up to 6 min",
        ),
    )
    assert detection_key("edge", "fra") == "edge@fra"


def test_probe_ratio_opens_when_every_recent_probe_is_down_at_two_locations() -> None:
    both = steady("api", ["fra", "ams"], START, 41, down=[39, 40], second=5)
    decisions = decide(both, "2026-10-09T12:40:30Z")
    assert decisions.open == (
        Opening(
            key="api",
            service="api",
            location=None,
            started=at("2026-10-09T12:39:05Z"),
            title="API outage",
            impact="critical",  # every reporting location: a major outage
            reason="every probe down at ams, fra (4 probes since 2026-10-09T12:39:05Z)",
        ),
    )
    # One of two locations down: not confirmed.
    one = [
        *steady("api", "fra", START, 41, down=[39, 40], second=5),
        *steady("api", "ams", START, 41, second=5),
    ]
    assert decide(one, "2026-10-09T12:40:30Z") == Decisions()
    # A location with one down and one up probe in the window does not fail.
    flaky = steady("api", ["fra", "ams"], START, 41, down=[40], second=5)
    assert decide(flaky, "2026-10-09T12:40:30Z") == Decisions()


def test_probe_ratio_ignores_probes_in_scheduled_maintenance_but_not_in_emergency() -> None:
    both = steady("api", ["fra", "ams"], START, 41, down=[39, 40], second=5)

    def announced(text: str) -> Events:
        window = {
            "services": "api",
            "start": "2026-10-09T12:30:00Z",
            "end": "2026-10-09T13:00:00Z",
            "announced": text,
        }
        return Events.model_validate({"maintenance": [window]})

    scheduled = announced("2026-10-07T12:30:00Z")  # exactly 48h ahead
    assert decide(both, "2026-10-09T12:40:30Z", events=scheduled) == Decisions()
    emergency = announced("2026-10-07T12:30:01Z")
    assert [o.key for o in decide(both, "2026-10-09T12:40:30Z", events=emergency).open] == ["api"]


def test_an_open_incident_stays_open_while_the_run_goes_on_and_resolves_at_its_end() -> None:
    def rows(minutes: int) -> list[tuple[object, ...]]:
        return [
            *steady("web", ["fra", "ams"], START, minutes, down=range(30, 45), second=5),
            *steady("web", "hel", START, minutes, second=5),
        ]

    incident = OpenAutomatic(7, "web", at("2026-10-09T12:30:00Z"))
    assert decide(rows(41), "2026-10-09T12:40:30Z", incident) == Decisions()
    # Up again from 12:45; within the grace (2 minutes after 12:45) it is still open.
    assert decide(rows(47), "2026-10-09T12:46:30Z", incident) == Decisions()
    assert decide(rows(48), "2026-10-09T12:47:30Z", incident) == Decisions(
        resolve=(
            Resolution(
                7,
                at("2026-10-09T12:45:00Z"),
                "recovered at 2026-10-09T12:45:00Z: the contract's rule no longer confirms "
                "an outage",
            ),
        )
    )


def test_an_incident_whose_result_is_gone_resolves_now_and_an_open_one_is_not_opened_twice() -> (
    None
):
    both = steady("api", ["fra", "ams"], START, 41, down=[39, 40], second=5)
    open_api = OpenAutomatic(3, "api", at("2026-10-09T12:39:05Z"), "critical")
    assert decide(both, "2026-10-09T12:40:30Z", open_api) == Decisions()
    gone = OpenAutomatic(4, "retired", at("2026-10-09T12:00:00Z"))
    assert decide(healthy(41), "2026-10-09T12:40:30Z", gone).resolve == (
        Resolution(
            4,
            at("2026-10-09T12:40:30Z"),
            "recovered at 2026-10-09T12:40:30Z: the contract's rule no longer confirms an outage",
        ),
    )


def test_without_observations_probe_ratio_incidents_are_left_alone() -> None:
    instant = at("2026-10-09T12:40:30Z")
    data = observations(healthy(41), base=START)
    report = settle(CONTRACT, data, Events(), (2026, 10), at=instant, known_until=instant)
    open_api = OpenAutomatic(3, "api", at("2026-10-09T12:39:05Z"), "critical")
    open_web = OpenAutomatic(4, "web", at("2026-10-09T12:10:00Z"))
    decisions = detect_incidents(CONTRACT, report, [open_api, open_web], instant)
    assert [r.incident_id for r in decisions.resolve] == [4]


def test_an_outage_at_every_location_is_critical_and_at_some_of_them_major() -> None:
    everywhere = steady("web", ["fra", "ams", "hel"], START, 36, down=range(30, 60), second=5)
    (opening,) = decide(everywhere, "2026-10-09T12:35:30Z").open
    assert (opening.key, opening.impact) == ("web", "critical")
    two_of_three = [
        *steady("web", ["fra", "ams"], START, 36, down=range(30, 60), second=5),
        *steady("web", "hel", START, 36, second=5),
    ]
    (opening,) = decide(two_of_three, "2026-10-09T12:35:30Z").open
    assert (opening.key, opening.impact) == ("web", "major")


def test_a_per_location_service_down_at_every_location_is_critical_at_each() -> None:
    both = steady("edge", ["fra", "ams"], START, 41, down=range(35, 41), second=5)
    decisions = decide(both, "2026-10-09T12:40:30Z")
    assert [(o.key, o.impact) for o in decisions.open] == [
        ("edge@ams", "critical"),
        ("edge@fra", "critical"),
    ]


def test_an_open_incident_is_raised_to_critical_when_the_outage_reaches_every_location() -> None:
    rows = [
        *steady("web", ["fra", "ams"], START, 41, down=range(30, 60), second=5),
        *steady("web", "hel", START, 41, down=range(38, 60), second=5),
    ]
    incident = OpenAutomatic(7, "web", at("2026-10-09T12:30:00Z"), "major")
    assert decide(rows, "2026-10-09T12:40:30Z", incident) == Decisions(
        escalate=(Escalation(7, "critical", "the outage is now at every location"),)
    )
    raised = OpenAutomatic(7, "web", at("2026-10-09T12:30:00Z"), "critical")
    assert decide(rows, "2026-10-09T12:40:30Z", raised) == Decisions()
