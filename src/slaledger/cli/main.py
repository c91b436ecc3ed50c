"""The ``slaledger`` command group."""

from __future__ import annotations

import click

from slaledger import __version__
from slaledger.cli import (
    agent,
    calendar,
    check,
    credits,
    demo,
    import_file,
    incident,
    maintenance,
    records,
    report,
    retention,
    serve,
    statement,
    statement_chain,
    token,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="slaledger")
def cli() -> None:
    """Service-level agreements as code: check contracts, settle months, prove the figures."""


for _module in (
    check,
    calendar,
    report,
    credits,
    import_file,
    serve,
    agent,
    token,
    incident,
    maintenance,
    demo,
    records,
    retention,
    statement,
):
    cli.add_command(_module.command)
cli.add_command(statement_chain.key_command)
for _command in (statement_chain.verify, statement_chain.chain, statement_chain.export):
    statement.command.add_command(_command)


def main() -> None:
    cli(prog_name="slaledger")
