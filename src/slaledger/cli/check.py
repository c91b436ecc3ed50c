"""``slaledger check``: validate a contract and show what each target allows."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import click

from slaledger.app import check_contract
from slaledger.cli.user_errors import reports_user_errors
from slaledger.core.contract import (
    NO_LOCATIONS_WARNING,
    ContinuousFailure,
    Contract,
    FirstFailToFirstSuccess,
    Service,
)
from slaledger.core.durations import format_duration
from slaledger.core.figures import allowed_downtime_minutes, decimal_text
from slaledger.core.timebase import format_instant

MONTH_DAYS = (28, 30, 31)


def describe_rule(service: Service) -> str:
    rule = service.downtime
    if isinstance(rule, ContinuousFailure):
        text = f"continuous-failure >= {format_duration(rule.min_duration)}"
        if rule.confirm > 1:
            text += f", {rule.confirm} locations confirm"
    elif isinstance(rule, FirstFailToFirstSuccess):
        text = f"first-fail-to-first-success, {rule.rounding}"
        if rule.confirm > 1:
            text += f", {rule.confirm} locations confirm"
    else:
        text = "probe-ratio"
    return text + (", per location" if service.per_location else "")


def format_allowance(minutes: Fraction) -> str:
    """``4.32 min`` under an hour, ``3.60 h`` from an hour (two decimals, half-even)."""
    if minutes < 60:
        return f"{decimal_text(minutes, 2)} min"
    return f"{decimal_text(minutes / 60, 2)} h"


def describe_contract(contract: Contract) -> str:
    header = f"{contract.contract}: {contract.name} (months in {contract.timezone})"
    columns = ("service", "rule", "target", *(f"{d}-day month" for d in MONTH_DAYS))
    rows = []
    for service_id, service in contract.services.items():
        allowances = (
            format_allowance(allowed_downtime_minutes(service.target, days * 1440))
            for days in MONTH_DAYS
        )
        rows.append((service_id, describe_rule(service), f"{service.target} %", *allowances))
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
    right = {2, 3, 4, 5}

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    lines = [header, "", "downtime allowed per month:", line(columns)]
    lines.append(line(tuple("-" * w for w in widths)))
    lines.extend(line(r) for r in rows)
    lines.append("")
    for service_id, service in contract.services.items():
        notice = (
            f"maintenance excluded with {format_duration(service.maintenance.notice)} notice"
            if service.maintenance
            else "no maintenance excluded"
        )
        causes = ", ".join(service.excludable_causes) or "none"
        narrowed = (
            "" if service.locations is None else f"; from {', '.join(service.locations)} only"
        )
        lines.append(f"{service_id}: {notice}; excludable causes: {causes}{narrowed}")
    where = "none declared (any)" if contract.locations is None else ", ".join(contract.locations)
    lines.append(f"locations: {where}")
    if contract.start is not None:
        lines.append(f"in force from {format_instant(contract.start)}")
    if contract.credits is None:
        lines.append("credits: none")
    else:
        c = contract.credits
        tiers = ", ".join(f"below {t.below} % -> {t.credit} %" for t in c.tiers)
        mode: str = c.mode
        if c.claim_within is not None:
            mode += f" within {format_duration(c.claim_within)}"
        lines.append(f"credits: {mode}, of {c.basis}: {tiers}")
    return "\n".join(lines) + "\n"


@click.command("check")
@click.argument("contract", type=click.Path(path_type=Path, dir_okay=False))
@reports_user_errors
def command(contract: Path) -> None:
    """Validate CONTRACT and print each service's rule, target and allowed downtime."""
    loaded = check_contract(contract)
    click.echo(describe_contract(loaded), nl=False)
    if loaded.locations is None:
        click.echo(f"warning: {NO_LOCATIONS_WARNING.format(contract=loaded.contract)}", err=True)
