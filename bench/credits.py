"""Credits in money for 100,000 customers for one month, from a settled report.

The hosting seed's contract (examples/contracts/hosting-pop.yaml): network and power per
location at fra, ams and lon, settled for October 2026 with every tier reached somewhere
(network at lon 99.95 %, power at ams 99.7 %). 100,000 customers pay 9.00 to 999.99 in EUR
(70 %), GBP (20 %) or JPY (10 %, whole yen), each on one to three locations and both or
one service; 5 % had a hardware swap 1-60 hours late (one day of base fee per started
hour, capped at 100 %), so some totals hit the cap. Times ``settle_credits`` (the exact
fractions, the per-record and total caps, half-even rounding to each currency's minor unit,
invoice lines that add up) and the JSON of the credits section, best of three.

Run: ``.venv/bin/python bench/credits.py`` (about 30 s; ``--customers`` to change).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from slaledger.core.commitment_results import CommitmentResult, ItemResult
from slaledger.core.credits import settle_credits
from slaledger.core.customers import Customer
from slaledger.core.periods import calendar_month
from slaledger.core.report import ProbeCounts, Result
from slaledger.core.timebase import US_PER_HOUR, parse_instant
from slaledger.files.contract_file import load_contract
from slaledger.files.currencies import minor_units

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "contracts"
MONTH = (2026, 10)
FIGURES = {
    ("network", "fra"): "100",
    ("network", "ams"): "99.995",
    ("network", "lon"): "99.95",
    ("power", "fra"): "100",
    ("power", "ams"): "99.7",
    ("power", "lon"): "99.2",
}


def results() -> list[Result]:
    contract = load_contract(EXAMPLES / "hosting-pop.yaml")
    assert contract.credits is not None
    period = calendar_month(*MONTH, contract.zone)
    found = []
    for (service, location), figure in FIGURES.items():
        availability = Fraction(Decimal(figure))
        found.append(
            Result(
                service=service,
                location=location,
                rule=contract.services[service].downtime.rule,
                window="calendar-month",
                period=period,
                target=contract.services[service].target,
                total_minutes=period.minutes,
                downtime_minutes=0,
                excluded_minutes=0,
                availability=availability,
                met=availability >= contract.services[service].target,
                credit_percent=contract.credits.credit_for(availability),
                probes=ProbeCounts(),
            )
        )
    return found


def customers(count: int, rng: random.Random) -> list[Customer]:
    made = []
    for n in range(count):
        currency = rng.choices(["EUR", "GBP", "JPY"], [7, 2, 1])[0]
        fee = rng.randint(9, 999) * 100 if currency == "JPY" else rng.randint(900, 99999)
        text = str(fee) if currency == "JPY" else f"{fee // 100}.{fee % 100:02d}"
        locations = sorted(rng.sample(["fra", "ams", "lon"], rng.randint(1, 3)))
        services = rng.choice([None, ["network"], ["power"]])
        made.append(
            Customer.model_validate(
                {
                    "id": f"c{n}",
                    "name": f"Customer {n}",
                    "email": f"billing@c{n}.example",
                    "plan": "dedicated",
                    "currency": currency,
                    "base_fee": text,
                    "services": services,
                    "locations": locations,
                }
            )
        )
    return made


def swaps(count: int, rng: random.Random) -> CommitmentResult:
    due = parse_instant("2026-10-14T12:00:00Z")
    items = []
    for n in rng.sample(range(count), count // 20):
        late = rng.randint(1, 60) * US_PER_HOUR - rng.randint(0, US_PER_HOUR - 1)
        items.append(
            ItemResult(
                id=f"HW-{n}",
                start=due - 4 * US_PER_HOUR,
                due=due,
                end=due + late,
                elapsed_seconds=Decimal(0),
                status="late",
                late_hours=-(-late // US_PER_HOUR),
                customer=f"c{n}",
            )
        )
    counts = {"met": 0, "late": len(items), "pending": 0, "not-covered": 0}
    return CommitmentResult("hardware-swap", "deadline", False, counts, tuple(items))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    count = parser.parse_args().customers
    rng = random.Random(11)
    contract = load_contract(EXAMPLES / "hosting-pop.yaml")
    settled = results()
    book = customers(count, rng)
    late = swaps(count, rng)
    units = minor_units(["EUR", "GBP", "JPY"])
    best = best_cpu = best_json = float("inf")
    credits = ()
    for _ in range(3):
        started, cpu = time.perf_counter(), time.process_time()
        credits = settle_credits(contract, MONTH, settled, book, units, commitments=[late])
        best = min(best, time.perf_counter() - started)
        best_cpu = min(best_cpu, time.process_time() - cpu)
        started = time.perf_counter()
        json.dumps([credit.as_dict() for credit in credits])
        best_json = min(best_json, time.perf_counter() - started)
    statuses = {status: sum(c.status == status for c in credits) for status in ("issued", "none")}
    capped = sum(c.capped for c in credits)
    lines = sum(len(c.lines) for c in credits)
    assert all(sum(line.amount_minor for line in c.lines) == c.amount_minor for c in credits)
    print(f"customers: {count:,}  issued: {statuses['issued']:,}  none: {statuses['none']:,}")
    print(f"capped: {capped:,}  invoice lines: {lines:,}")
    print(f"settle_credits: {best:.2f} s wall, {best_cpu:.2f} s CPU (best of 3, budget 5 s)")
    print(f"credits JSON:   {best_json:.2f} s")


if __name__ == "__main__":
    main()
