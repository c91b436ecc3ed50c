"""The commitments on the status page and in /api/v1/sla, end to end: the demo month's
records, the publisher settling them through the engine on a real store, a real server.

The counts are those worked out by hand in ``tests/demo/test_records.py`` (October 2026),
seen on November 15th, 12:00 UTC: the P3 and the tier-2 ticket still pending at the end of
October are overdue by then, so each shows as a second miss.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_server import serving
from snapshots import Snapshots, public_app
from test_status_page import fetch, text_of

from slaledger.app import open_stores
from slaledger.core.events import Events
from slaledger.core.publication import StatusSnapshot
from slaledger.core.records import record_json
from slaledger.core.timebase import parse_instant
from slaledger.demo.records import demo_records
from slaledger.files.contract_file import load_contract
from slaledger.status.commitment_figures import FixedRecords
from slaledger.status.publisher import Publisher
from slaledger.store.figure_store import FigureStore
from slaledger.store.incident_store import IncidentStore
from slaledger.store.maintenance_store import MaintenanceStore

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "contracts"
NOV_15 = parse_instant("2026-11-15T12:00:00Z")


def published(name: str, tmp_path: Path) -> tuple[StatusSnapshot, list[dict[str, object]]]:
    contract = load_contract(EXAMPLES / f"{name}.yaml")
    records = demo_records(contract, 2026, 10).records
    stores = open_stores(f"sqlite:///{tmp_path / f'{name}.db'}")
    publisher = Publisher(
        contract,
        Events(),
        stores,
        IncidentStore(stores.engine, contract),
        MaintenanceStore(stores.engine, contract),
        FigureStore(stores.engine, contract.contract),
        records=FixedRecords(records),
    )
    return publisher.tick(NOV_15), [record_json(record) for record in records]


@pytest.fixture(scope="module")
def hosting(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, list[dict[str, object]]]]:
    snapshot, records = published("hosting-pop", tmp_path_factory.mktemp("hosting"))
    contract = load_contract(EXAMPLES / "hosting-pop.yaml")
    with serving(public_app(Snapshots(snapshot), contract)) as url:
        yield url, records


def test_the_page_shows_each_commitment_month_by_month(
    hosting: tuple[str, list[dict[str, object]]],
) -> None:
    url, _ = hosting
    status, _, body = fetch(url + "/")
    assert status == 200
    html = body.decode()
    text = text_of(html)
    assert "Commitments beyond uptime" in text
    assert (
        "Support first response, tier-1 first human response within 15m (24/7) "
        "Support first response, tier-1, by month "
        "Month Result Met Missed Pending Compliance Figure "
        "2026-11 nothing judged 0 0 0 – to date "
        "2026-10 not met 13 1 0 92.9 % settled "
        "2026-09 nothing judged 0 0 0 – settled"
    ) in text
    assert "2026-10 not met 21 2 0 91.3 % settled" in text  # tier-2
    assert (
        "Hardware swap done within 4h of cet-support hours "
        "Hardware swap, by month "
        "Month Result Met Late Pending Late hours Figure "
        "2026-11 nothing judged 0 0 0 0 to date "
        "2026-10 not met 5 1 0 2 settled"
    ) in text
    assert (
        "Month Result Covered Met Missed Not covered Figure "
        "2026-11 nothing judged 0 0 0 0 to date "
        "2026-10 not met 15 14 1 5 settled"
    ) in text
    assert (
        "Month Result Days judged Days met Worst day Figure 2026-11 met 14 14 62.4 s to date "
        "2026-10 met 31 31 62.9 s settled 2026-09 met 30 30 60.8 s settled"
    ) in text
    assert (
        "VPS provisioning median under 90s over a trailing 30d. Now: 62.2 s over 468 requests"
        in text
    )


def test_the_provisioning_chart_is_an_accessible_inline_svg(
    hosting: tuple[str, list[dict[str, object]]],
) -> None:
    url, _ = hosting
    html = fetch(url + "/")[2].decode()
    (svg,) = re.findall(r"<svg role=\"img\".*?</svg>", html, re.S)
    assert 'aria-labelledby="chart-vps-provisioning-title chart-vps-provisioning-desc"' in svg
    assert (
        '<title id="chart-vps-provisioning-title">VPS provisioning: median of the trailing 30 '
        "days, at the end of each of the last 90 days</title>"
    ) in svg
    assert (
        "Target: under 90 s. Latest: 62.4 s on 2026-11-14. 75 of 75 judged days met, from "
        "2026-08-17 to 2026-11-14."
    ) in svg
    assert svg.count("<polyline") == 1
    (points,) = re.findall(r'<polyline class="values" points="([^"]+)"', svg)
    assert len(points.split()) == 75
    assert '<text class="target-label"' in svg
    assert "target: under 90 s" in svg
    assert list(re.findall(r">(\d+ s)</text>", svg)) == [
        "0 s",
        "30 s",
        "60 s",
        "90 s",
        "120 s",
    ]
    assert ">2026-08-17</text>" in svg
    assert ">2026-11-14</text>" in svg
    assert "<script" not in html


def test_the_api_gives_counts_and_figures(hosting: tuple[str, list[dict[str, object]]]) -> None:
    url, _ = hosting
    status, _, body = fetch(url + "/api/v1/sla")
    assert status == 200
    commitments = {c["id"]: c for c in json.loads(body)["commitments"]}
    assert list(commitments) == [
        "support-tier1",
        "support-tier2",
        "hardware-swap",
        "ddos-mitigation",
        "vps-provisioning",
    ]
    tier1 = commitments["support-tier1"]
    assert (tier1["kind"], tier1["severity"], tier1["within"], tier1["calendar"]) == (
        "first-response",
        "tier-1",
        "15m",
        "always",
    )
    assert tier1["months"][1] == {
        "month": "2026-10",
        "settled": True,
        "met": False,
        "counts": {"met": 13, "missed": 1, "pending": 0, "not-covered": 0},
        "late_hours": None,
        "judged_days": None,
        "met_days": None,
        "worst_seconds": None,
    }
    swap = commitments["hardware-swap"]["months"][1]
    assert (swap["counts"], swap["late_hours"]) == (
        {"met": 5, "late": 1, "pending": 0, "not-covered": 0},
        2,
    )
    ddos = commitments["ddos-mitigation"]
    assert (ddos["below_seconds"], ddos["min_peak_gbps"]) == ("2", "1")
    assert ddos["months"][1]["counts"] == {"met": 14, "missed": 1, "pending": 0, "not-covered": 5}
    vps = commitments["vps-provisioning"]
    assert (vps["statistic"], vps["window_days"], vps["below_seconds"]) == ("median", 30, "90")
    assert vps["now"] == {
        "day": "2026-11-15",
        "at": "2026-11-15T12:00:00Z",
        "count": 468,
        "value_seconds": "62.2435",
        "met": True,
    }
    assert len(vps["days"]) == 90
    assert vps["days"][0] == {
        "day": "2026-08-17",
        "at": "2026-08-18T00:00:00Z",
        "count": 0,
        "value_seconds": None,
        "met": None,
    }
    assert vps["days"][-1]["at"] == "2026-11-15T00:00:00Z"
    assert vps["months"][1]["judged_days"] == 31


def test_no_customer_or_record_id_is_public(
    hosting: tuple[str, list[dict[str, object]]], tmp_path: Path
) -> None:
    url, records = hosting
    public = fetch(url + "/")[2].decode() + fetch(url + "/api/v1/sla")[2].decode()
    snapshot, itstabyl = published("itstabyl", tmp_path)
    with serving(
        public_app(Snapshots(snapshot), load_contract(EXAMPLES / "itstabyl.yaml"))
    ) as other:
        public += fetch(other + "/")[2].decode() + fetch(other + "/api/v1/sla")[2].decode()
    assert "Support first response, P3" in public
    secrets = {str(r[key]) for r in [*records, *itstabyl] for key in ("id", "customer") if key in r}
    assert len(secrets) > 1800
    leaked = sorted(secret for secret in secrets if re.search(rf"\b{re.escape(secret)}\b", public))
    assert leaked == []
