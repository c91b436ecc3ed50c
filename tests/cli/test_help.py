"""Every command, option and argument of the CLI explains itself in ``--help``."""

from __future__ import annotations

from collections.abc import Iterator

import click

from slaledger.cli.main import cli


def _commands(command: click.Command, path: str) -> Iterator[tuple[str, click.Command]]:
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from _commands(sub, f"{path} {name}")
    else:
        yield path, command


def test_every_option_and_argument_has_help() -> None:
    missing = []
    commands = list(_commands(cli, "slaledger"))
    assert len(commands) >= 20  # the walk reaches the subcommands of every group
    for path, command in commands:
        text = command.help or ""
        if not text.strip():
            missing.append(f"{path}: no help")
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden and not param.help:
                missing.append(f"{path} {param.opts[0]}: no help")
            if isinstance(param, click.Argument) and param.human_readable_name not in text:
                missing.append(f"{path} {param.human_readable_name}: not named in the help")
    assert missing == []
