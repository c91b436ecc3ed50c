"""The dispatcher settles per-event and percentile commitments with the others, in order."""

from __future__ import annotations

from typing import Any

from builders import contract

from slaledger.core.commitments import RecordSet, settle_commitments
from slaledger.core.percentile import percentile_series
from slaledger.core.periods import calendar_month
from slaledger.core.records import RECORD_ADAPTER, Provisioning
from slaledger.core.timebase import parse_instant as t

COMMITMENTS: dict[str, Any] = {
    "vps-provisioning": {
        "kind": "percentile",
        "records": "provisioning",
        "statistic": {"percentile": 95},
        "below": "90s",
        "window": "30d",
    },
    "ddos-mitigation": {
        "kind": "per-event",
        "records": "ddos",
        "below": "2s",
        "covers": {"min_peak_gbps": "1"},
    },
}


def test_per_event_and_percentile_in_contract_order() -> None:
    terms = contract(
        {
            "contract": "hosting",
            "name": "Hosting",
            "timezone": "Europe/Berlin",
            "services": {
                "power": {
                    "name": "Power",
                    "target": "99.99",
                    "downtime": {"rule": "first-fail-to-first-success"},
                }
            },
            "commitments": COMMITMENTS,
        }
    )
    records = RecordSet.of(
        RECORD_ADAPTER.validate_python(line)
        for line in [
            {
                "kind": "ddos",
                "id": "D-3",
                "location": "fra",
                "detected": "2026-10-02T03:00:00Z",
                "mitigated": "2026-10-02T03:00:02Z",
                "peak_gbps": "3.2",
            },
            {
                "kind": "provisioning",
                "id": "vps-9",
                "requested": "2026-10-01T10:00:00+02:00",
                "ready": "2026-10-01T10:01:13.5+02:00",
            },
        ]
    )
    october = calendar_month(2026, 10, terms.zone)
    at = t("2026-10-03T12:00:00Z")
    results = [r.as_dict() for r in settle_commitments(terms, {}, records, october, at)]
    assert results == [
        {
            "commitment": "vps-provisioning",
            "kind": "percentile",
            "met": True,
            "days": [
                # Local days of Berlin end at 22:00 UTC in summer time.
                {"at": "2026-10-01T22:00:00Z", "count": 1, "value_seconds": "73.5", "met": True},
                {"at": "2026-10-02T22:00:00Z", "count": 1, "value_seconds": "73.5", "met": True},
            ],
        },
        {
            "commitment": "ddos-mitigation",
            "kind": "per-event",
            "met": False,
            "counts": {"met": 0, "missed": 1, "pending": 0, "not-covered": 0},
            "items": [
                {
                    "id": "D-3",
                    "start": "2026-10-02T03:00:00Z",
                    "due": "2026-10-02T03:00:02Z",
                    "end": "2026-10-02T03:00:02Z",
                    "elapsed_seconds": "2",
                    "status": "missed",
                    "late_hours": None,
                }
            ],
        },
    ]


def test_percentile_series_for_publication() -> None:
    terms = contract(
        {
            "contract": "hosting",
            "name": "Hosting",
            "timezone": "Europe/Berlin",
            "services": {
                "power": {
                    "name": "Power",
                    "target": "99.99",
                    "downtime": {"rule": "first-fail-to-first-success"},
                }
            },
            "commitments": COMMITMENTS,
        }
    )
    request = RECORD_ADAPTER.validate_python(
        {
            "kind": "provisioning",
            "id": "vps-9",
            "requested": "2026-10-01T10:00:00+02:00",
            "ready": "2026-10-01T10:01:40+02:00",
        }
    )
    assert isinstance(request, Provisioning)
    series = percentile_series(terms, [request], t("2026-10-03T12:00:00Z"))
    assert list(series) == ["vps-provisioning"]
    days = series["vps-provisioning"]
    assert len(days) == 90
    assert [day.as_dict() for day in days[-3:]] == [
        {"at": "2026-09-30T22:00:00Z", "count": 0, "value_seconds": None, "met": None},
        {"at": "2026-10-01T22:00:00Z", "count": 1, "value_seconds": "100", "met": False},
        {"at": "2026-10-02T22:00:00Z", "count": 1, "value_seconds": "100", "met": False},
    ]
