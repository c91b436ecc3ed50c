"""``slaledger demo``: a scripted month of probes for each example contract, settled for real.

The demo takes the path a user takes: it writes the observations CSV, the events file and
(for contracts with commitments) the records, settles the month from those files with the
use-case ``slaledger report --records`` runs, and saves the JSON report next to them.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import click
from rich.console import Console

from slaledger.app import parse_month_option, report_from_files
from slaledger.cli.user_errors import reports_user_errors
from slaledger.core.report import Report
from slaledger.demo import demo_month, events_yaml
from slaledger.demo.live import run_live
from slaledger.demo.records import demo_records
from slaledger.errors import Problem, UserError
from slaledger.files.atomic import atomic_write_text
from slaledger.files.contract_file import load_contract
from slaledger.files.csv_observations import write_observations
from slaledger.files.report_render import render_report

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "contracts"
"""The example contracts of a source checkout (``src/slaledger/cli`` → repository root)."""

CONTRACTS = ("heft-io", "itstabyl", "hosting-pop")


@click.command("demo")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-output"),
    show_default=True,
    help="Folder for the generated files, one subfolder per contract.",
)
@click.option("--month", default="2026-10", show_default=True, help="Month to generate, YYYY-MM.")
@click.option(
    "--live",
    is_flag=True,
    help="Instead: run the live demo (target service, server and two agents on 127.0.0.1).",
)
@click.option(
    "--minutes",
    type=click.FloatRange(min=0.5),
    default=15.0,
    show_default=True,
    help="How long the live demo runs (Ctrl-C stops it sooner).",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8080,
    show_default=True,
    help="Port of the live demo's status page and API.",
)
@reports_user_errors
def command(out: Path, month: str, live: bool, minutes: float, port: int) -> None:
    """Generate a month of probes and events for each example contract and settle it.

    With --live, run the live demo instead: a scripted target service, `slaledger serve` and
    two `slaledger agent`s, printing the month-to-date figures every 30 seconds.
    """
    if live:
        run_live(_example("live-demo"), out / "live", minutes, port)
        return
    year, number = parse_month_option(month)
    label = f"{year:04d}-{number:02d}"
    console = Console(highlight=False)
    commands: list[str] = []
    for name in CONTRACTS:
        contract_path = _example(name)
        folder = out / name
        with console.status(f"{name}: generating, writing and settling {label}…"):
            run = _run(contract_path, folder, year, number, label)
        console.rule(f"[bold]{name}[/bold]  {label}")
        console.print(f"What happened ({len(run.incidents)} scripted incidents):", style="bold")
        for line in run.incidents:
            console.print(f"  • {line}", markup=False, soft_wrap=True)
        if run.records:
            console.print(
                f"Records ({run.records} in records.jsonl; the scripted ones):", style="bold"
            )
            for line in run.scripted:
                console.print(f"  • {line}", markup=False, soft_wrap=True)
        console.print()
        console.out(render_report(run.report, "table"), highlight=False)
        files = ["observations.csv", "events.yaml", *(["records.jsonl"] if run.records else [])]
        console.print(
            f"Files in {_shown(folder)}: {', '.join(files)}, report-{label}.json",
            markup=False,
            soft_wrap=True,
        )
        words = [
            f"{_program()} report",
            _quoted(contract_path),
            "--probes",
            _quoted(folder / "observations.csv"),
            "--events",
            _quoted(folder / "events.yaml"),
        ]
        if run.records:
            words += ["--records", _quoted(folder / "records.jsonl")]
        commands.append(" ".join([*words, "--month", label]))
    console.rule("[bold]Re-run the settlements yourself[/bold]")
    for line in commands:
        console.print(line, markup=False, soft_wrap=True)
    console.print("Add --format json or --format csv for the machine-readable reports.")


def _program() -> str:
    """How the user can call slaledger again: the script they ran, relative when it can be."""
    script = Path(sys.argv[0])
    if script.name != "slaledger":
        return "slaledger"
    return _quoted(script)


@dataclass(frozen=True)
class _Settled:
    """One contract's demo month: its report and what was scripted into it."""

    report: Report
    incidents: tuple[str, ...]
    records: int
    """How many records ``records.jsonl`` holds (0: none written)."""
    scripted: tuple[str, ...]


def _run(contract_path: Path, folder: Path, year: int, number: int, label: str) -> _Settled:
    """Write the month's files, read them back like a user's, settle and save the report."""
    contract = load_contract(contract_path)
    data = demo_month(contract, year, number)
    records = demo_records(contract, year, number)
    probes_path = folder / "observations.csv"
    events_path = folder / "events.yaml"
    records_path = folder / "records.jsonl"
    header = f"Maintenance and exclusions of {contract.contract}, {label} (slaledger demo)."
    with _writing(folder):
        folder.mkdir(parents=True, exist_ok=True)
        write_observations(probes_path, data.observations)
        atomic_write_text(events_path, events_yaml(data.events, header=header))
        if records.records:
            atomic_write_text(records_path, records.jsonl())
    # What `slaledger report … --records` does: outages merged into uptime, commitments added.
    report = report_from_files(
        contract_path,
        probes_path,
        events_path,
        label,
        records_path=records_path if records.records else None,
    )
    with _writing(folder):
        atomic_write_text(folder / f"report-{label}.json", render_report(report, "json"))
    return _Settled(report, data.incidents, len(records.records), records.scripted)


@contextmanager
def _writing(folder: Path) -> Iterator[None]:
    """Turn a failed write (folder is a file, no permission, disk full) into a user error."""
    try:
        yield
    except OSError as error:
        where = error.filename if error.filename is not None else folder
        reason = error.strerror or str(error)
        raise UserError(
            Problem(f"cannot write the demo files: {reason}", source=str(where))
        ) from None


def _example(name: str) -> Path:
    path = EXAMPLES / f"{name}.yaml"
    if not path.is_file():
        raise UserError(
            Problem(
                f"example contract {name}.yaml not found in {EXAMPLES}; the demo needs the "
                "examples/ folder of a slaledger source checkout (run it from there, e.g. "
                "`make demo`)",
                field="demo",
            )
        )
    return path


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it lies below it."""
    absolute = path.resolve()
    try:
        return str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return os.fspath(absolute)


def _quoted(path: Path) -> str:
    return shlex.quote(_shown(path))
