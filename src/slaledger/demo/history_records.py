"""The live demo's records: 120 days of support tickets, DDoS events and provisioning
requests before ``now``, so the status page shows its commitments with a history (pure,
seeded; ``now`` is passed in).

Most tickets are answered in time and most attacks mitigated under 2 s; a few are not.
Provisioning slows down from 50 to 20 days ago (a storage migration, say), so the trailing
30-day median climbs over its 90 s target for a while and comes back: the page's chart
shows it. Nothing is dated after ``now``: an answer or a VPS not ready yet is left out.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from slaledger.core.records import RECORD_ADAPTER, AnyRecord
from slaledger.core.timebase import US_PER_DAY, US_PER_MINUTE, US_PER_SECOND, format_instant

DAYS = 120
CUSTOMERS = ("acme", "borealis", "cobalt", "dunmore", "eastgate", "fjord")
LOCATIONS = ("fra", "ams")
SLOW_DAYS = range(20, 50)
"""Days ago during which provisioning is slow."""


def history_records(now: int, seed: int = 11) -> list[AnyRecord]:
    """The records of the ``DAYS`` days before ``now``, oldest first."""
    rng = np.random.default_rng(seed)
    today = now // US_PER_DAY * US_PER_DAY
    made: list[tuple[int, dict[str, Any]]] = []
    counters = {"T-": 5001, "D-": 801, "vps-": 70001}

    def ident(prefix: str) -> str:
        counters[prefix] += 1
        return f"{prefix}{counters[prefix] - 1}"

    for days_ago in range(DAYS, -1, -1):
        day = today - days_ago * US_PER_DAY
        weekday = (day // US_PER_DAY + 3) % 7  # 1970-01-01 was a Thursday
        _tickets(rng, day, weekday, now, made, ident)
        if rng.random() < 0.35:
            _ddos(rng, day, now, made, ident)
        _provisioning(rng, day, days_ago in SLOW_DAYS, now, made, ident)
    made.sort(key=lambda pair: pair[0])
    return [RECORD_ADAPTER.validate_python(item) for _, item in made]


def _tickets(rng: Any, day: int, weekday: int, now: int, made: list[Any], ident: Any) -> None:
    if weekday < 5:
        for _ in range(int(rng.integers(0, 4))):
            opened = day + int(rng.integers(9 * 3600, 17 * 3600)) * US_PER_SECOND
            late = rng.random() < 0.08
            minutes = int(rng.integers(250, 600)) if late else int(rng.integers(8, 200))
            _ticket(rng, "normal", opened, minutes, now, made, ident)
    if rng.random() < 0.25:
        opened = day + int(rng.integers(0, 86_400)) * US_PER_SECOND
        minutes = int(rng.integers(31, 70)) if rng.random() < 0.1 else int(rng.integers(3, 25))
        _ticket(rng, "urgent", opened, minutes, now, made, ident)


def _ticket(
    rng: Any, severity: str, opened: int, minutes: int, now: int, made: list[Any], ident: Any
) -> None:
    if opened >= now:
        return
    responses = []
    auto = opened + int(rng.integers(3, 30)) * US_PER_SECOND
    if auto < now:
        responses.append({"at": format_instant(auto), "by": "auto"})
    human = opened + minutes * US_PER_MINUTE
    if human < now:
        responses.append({"at": format_instant(human), "by": "human"})
    customer = CUSTOMERS[int(rng.integers(len(CUSTOMERS)))]
    item = {
        "kind": "ticket",
        "id": ident("T-"),
        "customer": customer,
        "severity": severity,
        "opened": format_instant(opened),
        "responses": responses,
    }
    made.append((opened, item))


def _ddos(rng: Any, day: int, now: int, made: list[Any], ident: Any) -> None:
    detected = day + int(rng.integers(0, 86_400_000)) * 1000
    slow = rng.random() < 0.08
    activation = int(rng.integers(2000, 3500) if slow else rng.integers(400, 1900)) * 1000
    if detected + activation >= now:
        return
    tenths = int(rng.integers(3, 200))
    item = {
        "kind": "ddos",
        "id": ident("D-"),
        "location": LOCATIONS[int(rng.integers(len(LOCATIONS)))],
        "detected": format_instant(detected),
        "mitigated": format_instant(detected + activation),
        "peak_gbps": f"{tenths // 10}.{tenths % 10}",
    }
    made.append((detected, item))


def _provisioning(rng: Any, day: int, slow: bool, now: int, made: list[Any], ident: Any) -> None:
    count = int(rng.integers(20, 40))
    offsets = np.sort(rng.integers(0, 86_400, size=count))
    seconds = np.exp(rng.normal(np.log(115.0 if slow else 62.0), 0.3, size=count))
    failed = rng.random(count) < 0.01
    for offset, took, fail in zip(offsets.tolist(), seconds.tolist(), failed.tolist(), strict=True):
        requested = day + offset * US_PER_SECOND
        if requested >= now:
            continue
        ready = requested + round(took * 1000) * 1000
        item: dict[str, Any] = {
            "kind": "provisioning",
            "id": ident("vps-"),
            "location": LOCATIONS[int(rng.integers(len(LOCATIONS)))],
            "requested": format_instant(requested),
            "failed": fail,
        }
        if not fail and ready < now:
            item["ready"] = format_instant(ready)
        made.append((requested, item))
