"""Credits in money, worked out by hand from the seeds (SETTLEMENT-SEMANTICS.md, Money)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from slaledger.core.commitment_results import CommitmentResult, ItemResult
from slaledger.core.contract import Contract
from slaledger.core.credits import settle_credits
from slaledger.core.customers import Customer
from slaledger.core.periods import calendar_month
from slaledger.core.records import Claim
from slaledger.core.report import ProbeCounts, Result
from slaledger.core.timebase import US_PER_HOUR, US_PER_MINUTE, parse_instant
from slaledger.files.contract_file import load_contract

CONTRACTS = Path(__file__).resolve().parents[2] / "examples" / "contracts"
HOSTING = load_contract(CONTRACTS / "hosting-pop.yaml")
ITSTABYL = load_contract(CONTRACTS / "itstabyl.yaml")
UNITS = {"EUR": 2, "GBP": 2, "JPY": 0}
OCTOBER = (2026, 10)


def result(contract: Contract, service: str, location: str | None, percent: str) -> Result:
    availability = Fraction(Decimal(percent))
    assert contract.credits is not None
    return Result(
        service=service,
        location=location,
        rule=contract.services[service].downtime.rule,
        window="calendar-month",
        period=calendar_month(*OCTOBER, contract.zone),
        target=contract.services[service].target,
        total_minutes=44640,
        downtime_minutes=0,
        excluded_minutes=0,
        availability=availability,
        met=availability >= contract.services[service].target,
        credit_percent=contract.credits.credit_for(availability),
        probes=ProbeCounts(),
    )


def customer(ident: str, plan: str, currency: str, fee: str, **more: object) -> Customer:
    return Customer.model_validate(
        {
            "id": ident,
            "name": ident.title(),
            "email": f"billing@{ident}.example",
            "plan": plan,
            "currency": currency,
            "base_fee": fee,
            **more,
        }
    )


def late_swap(customer_id: str, due: str, late_us: int) -> CommitmentResult:
    start = parse_instant(due) - 4 * US_PER_HOUR
    hours = -(-late_us // US_PER_HOUR)
    item = ItemResult(
        id="HW-7",
        start=start,
        due=parse_instant(due),
        end=parse_instant(due) + late_us,
        elapsed_seconds=Decimal(0),
        status="late",
        late_hours=hours,
        customer=customer_id,
    )
    counts = {"met": 0, "late": 1, "pending": 0, "not-covered": 0}
    return CommitmentResult("hardware-swap", "deadline", False, counts, (item,))


HOSTING_RESULTS = [
    result(HOSTING, "network", "fra", "99.95"),  # below 99.99: 10 %
    result(HOSTING, "network", "ams", "100"),
    result(HOSTING, "network", "lon", "99.5"),  # worse, but not the customer's location
    result(HOSTING, "power", "fra", "100"),
]


def test_hosting_at_99_95_with_a_swap_3h20_late_on_a_120_eur_base_fee() -> None:
    swap = late_swap("acme", "2026-10-14T12:00:00Z", 3 * US_PER_HOUR + 20 * US_PER_MINUTE)
    acme = customer("acme", "dedicated", "EUR", "120.00", locations=["fra"])
    (credit,) = settle_credits(HOSTING, OCTOBER, HOSTING_RESULTS, [acme], UNITS, commitments=[swap])
    # 10 % of 120.00 = 12.00; 4 started hours × one day of base fee (120.00 / 31 days)
    # = 15.483870…; 27.483870… rounds half-even to 27.48; lines 12.00 + 15.48.
    assert credit.as_dict() == {
        "customer": "acme",
        "month": "2026-10",
        "plan": "dedicated",
        "currency": "EUR",
        "base_fee": "120.00",
        "status": "issued",
        "percent": "10",
        "amount": "-27.48",
        "amount_minor": -2748,
        "capped": False,
        "lines": [
            {
                "description": "network: availability 99.950000 % at fra, target 99.99 %, "
                "tier below 99.99 %: 10 % of base fee",
                "amount": "-12.00",
            },
            {
                "description": "hardware-swap HW-7: 4 started hours late "
                "(due 2026-10-14T12:00:00Z), 1d of base fee per hour",
                "amount": "-15.48",
            },
        ],
        "reason": None,
    }


def test_the_worst_location_of_the_customer_counts() -> None:
    everywhere = customer("nord", "dedicated", "EUR", "89.00")
    (credit,) = settle_credits(HOSTING, OCTOBER, HOSTING_RESULTS, [everywhere], UNITS)
    assert (credit.percent, credit.amount) == (Decimal(25), "-22.25")  # lon 99.5: 25 %
    assert "at lon" in credit.lines[0].description


def test_the_total_is_capped_and_the_cap_is_a_line() -> None:
    swap = late_swap("acme", "2026-10-14T12:00:00Z", 40 * US_PER_HOUR)  # 40 days' fee: 100 %
    acme = customer("acme", "dedicated", "EUR", "120.00", locations=["fra"])
    (credit,) = settle_credits(HOSTING, OCTOBER, HOSTING_RESULTS, [acme], UNITS, commitments=[swap])
    assert credit.capped
    assert credit.amount == "-120.00"
    amounts = [line.amount_minor for line in credit.lines]
    assert amounts == [-1200, -12000, 1200]  # the per-record cap, then the total cap
    assert credit.lines[-1].description == "cap: credits limited to 100 % of the base fee"


def test_jpy_has_no_minor_unit_and_lines_add_up() -> None:
    swap = late_swap("sakura", "2026-10-14T12:00:00Z", 4 * US_PER_HOUR)
    sakura = customer("sakura", "dedicated", "JPY", "18000", locations=["fra"])
    (credit,) = settle_credits(
        HOSTING, OCTOBER, HOSTING_RESULTS, [sakura], UNITS, commitments=[swap]
    )
    # 1800 + 4 × 18000 / 31 = 4122.58… → 4123 yen; 1800 and the last line takes 2323.
    assert (credit.amount, credit.amount_minor) == ("-4123", -4123)
    assert [line.amount_minor for line in credit.lines] == [-1800, -2323]
    assert credit.as_dict()["base_fee"] == "18000"


ITSTABYL_RESULTS = [
    result(ITSTABYL, "scan-api", None, "99.0"),  # exactly 99.0: the better tier, 10 %
    result(ITSTABYL, "dashboard", None, "100"),
]


def claim(received: str) -> Claim:
    return Claim.model_validate(
        {"kind": "claim", "customer": "brightpath", "month": "2026-10", "received": received}
    )


def itstabyl(*claims: Claim) -> dict[str, object]:
    brightpath = customer("brightpath", "pro", "GBP", "49.00")
    (credit,) = settle_credits(
        ITSTABYL, OCTOBER, ITSTABYL_RESULTS, [brightpath], UNITS, claims=claims
    )
    return credit.as_dict()


def test_itstabyl_at_exactly_99_0_is_claimable_without_a_claim() -> None:
    credit = itstabyl()
    assert (credit["status"], credit["percent"], credit["amount"]) == ("claimable", "10", "-4.90")
    assert credit["reason"] == "claimable until 2026-12-01T00:00:00Z"


def test_itstabyl_claimed_on_day_30_is_issued() -> None:
    credit = itstabyl(claim("2026-11-30T16:00:00Z"))
    assert (credit["status"], credit["amount"], credit["reason"]) == ("issued", "-4.90", None)


def test_itstabyl_claimed_on_day_31_is_refused_with_the_deadline_and_how_late() -> None:
    credit = itstabyl(claim("2026-12-01T09:30:00Z"))
    assert credit["status"] == "refused"
    assert credit["reason"] == (
        "claim received 2026-12-01T09:30:00Z, 9h 30m after the deadline 2026-12-01T00:00:00Z"
    )


def test_a_free_tier_customer_is_not_covered() -> None:
    free = customer("tinkerer", "free", "GBP", "0.00")
    (credit,) = settle_credits(ITSTABYL, OCTOBER, ITSTABYL_RESULTS, [free], UNITS)
    fields = credit.as_dict()
    assert (fields["status"], fields["amount"], fields["lines"]) == ("not-covered", "0.00", [])
    assert fields["reason"] == "plan free is not covered"


def test_nothing_owed_is_none() -> None:
    fine = customer("acme", "dedicated", "EUR", "120.00", locations=["ams"])
    (credit,) = settle_credits(HOSTING, OCTOBER, HOSTING_RESULTS, [fine], UNITS)
    assert (credit.status, credit.amount, credit.lines) == ("none", "0.00", ())


def test_a_fee_change_applies_from_its_month() -> None:
    moved = customer(
        "nord",
        "dedicated",
        "EUR",
        "89.00",
        locations=["fra"],
        changes=[{"from": "2026-11", "plan": "xl", "base_fee": "149.00"}],
    )
    assert moved.terms(OCTOBER).base_fee == Decimal("89.00")
    assert moved.terms((2026, 11)).plan == "xl"
    assert moved.terms((2027, 1)).base_fee == Decimal("149.00")


@settings(max_examples=200, deadline=None)
@given(
    fee=st.decimals(min_value=0, max_value=10**6, places=2),
    availability=st.sampled_from(["100", "99.995", "99.95", "99.7", "99.2", "98"]),
    late_hours=st.lists(st.integers(min_value=1, max_value=2000), max_size=5),
    places=st.sampled_from([0, 2, 3]),
)
def test_credits_never_exceed_the_cap_and_lines_add_up(
    fee: Decimal, availability: str, late_hours: list[int], places: int
) -> None:
    fee = fee.quantize(Decimal(1).scaleb(-places))
    swaps = [late_swap("acme", "2026-10-14T12:00:00Z", hours * US_PER_HOUR) for hours in late_hours]
    acme = customer("acme", "dedicated", "EUR", str(fee), locations=["fra"])
    results = [result(HOSTING, "network", "fra", availability)]
    (credit,) = settle_credits(
        HOSTING, OCTOBER, results, [acme], {"EUR": places}, commitments=swaps
    )
    assert -credit.amount_minor <= fee.scaleb(places)
    assert sum(line.amount_minor for line in credit.lines) == credit.amount_minor
    assert credit.amount_minor <= 0


def test_combine_sum_adds_the_services_one_line_each() -> None:
    assert HOSTING.credits is not None
    summing = HOSTING.model_copy(
        update={"credits": HOSTING.credits.model_copy(update={"combine": "sum"})}
    )
    results = [result(HOSTING, "network", "fra", "99.95"), result(HOSTING, "power", "fra", "99.7")]
    acme = customer("acme", "dedicated", "EUR", "120.00", locations=["fra"])
    (credit,) = settle_credits(summing, OCTOBER, results, [acme], UNITS)
    # network 10 % + power 25 % (below 99.9) = 35 % of 120.00.
    assert (credit.percent, credit.amount) == (Decimal(35), "-42.00")
    assert [line.amount_minor for line in credit.lines] == [-1200, -3000]
    (largest,) = settle_credits(HOSTING, OCTOBER, results, [acme], UNITS)
    assert (largest.percent, largest.amount, len(largest.lines)) == (Decimal(25), "-30.00", 1)
