"""``slaledger key generate`` and the chain's statement commands: ``statement verify``
(offline, a customer's check), ``statement chain`` (chain and sign what is not) and
``statement export`` (the files the API serves)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from slaledger.app import open_stores
from slaledger.cli.user_errors import EXIT_USER_ERROR, reports_user_errors
from slaledger.core.statement_chain import (
    BadFileError,
    ChainBrokenError,
    SignatureCheck,
    StatementFile,
    read_statement_file,
    verify_chain,
)
from slaledger.errors import Problem, UsageError
from slaledger.files.atomic import atomic_write_bytes
from slaledger.files.contract_file import load_contract
from slaledger.files.signing_key import generate_key_pair, load_public_key, load_signing_key
from slaledger.store.database import DEFAULT_URL

EXIT_CHAIN_BROKEN = 1
_DB = click.option("--db", "db", default=DEFAULT_URL, show_default=True, help="Database URL.")


@click.group("key")
def key_command() -> None:
    """The provider's key pair that signs monthly statements."""


@key_command.command("generate")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Directory for statement-signing.key (mode 0600) and statement-signing.pub.",
)
@click.option("--force", is_flag=True, help="Replace an existing private key.")
@reports_user_errors
def generate(out: Path, force: bool) -> None:
    """Make a new Ed25519 key pair: sign statements with the private key (serve
    --signing-key), publish the public key (it is printed too)."""
    private, public, key = generate_key_pair(out, force=force)
    click.echo(f"private key {private} (keep it secret; mode 0600), key id {key.key_id}")
    click.echo(f"public key {public}:")
    click.echo(key.public_pem.decode(), nl=False)


def statement_files(paths: tuple[Path, ...]) -> list[StatementFile]:
    """The files given, a directory's ``*.json`` sorted by name; :class:`BadFileError` for one
    that cannot be read or is not a statement."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(path.glob("*.json"))
        else:
            files.append(path)
    if not files:
        raise BadFileError("no statement files given (a directory without *.json?)")
    parsed = []
    for path in files:
        try:
            raw = path.read_bytes()
        except OSError as error:
            raise BadFileError(f"{path}: cannot read the file: {error.strerror or error}") from None
        parsed.append(read_statement_file(str(path), raw))
    return parsed


@click.command("verify")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--key",
    "keys",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The provider's public key (PEM or 64 hex digits); repeat for keys used before. "
    "Without it only the chain is checked.",
)
@click.option(
    "--partial",
    is_flag=True,
    help="The first file need not be the chain's first (verify the latest months only).",
)
@reports_user_errors
def verify(files: tuple[Path, ...], keys: tuple[Path, ...], partial: bool) -> None:
    """Check statements offline, as downloaded from /api/v1/statements: FILES (or a
    directory of them) are one contract's chain, oldest first. Each must be byte for byte as
    issued, signed by the key given and chained to the one before it. Exit 0 with one line
    per month; 1 naming the first month that fails; 2 for a file that is not a statement."""
    checks: dict[str, SignatureCheck] | None = None
    if keys:
        checks = {}
        for path in keys:
            public = load_public_key(path)
            checks[public.key_id] = public.check
    try:
        parsed = statement_files(files)
        verified = verify_chain(parsed, checks, partial=partial)
    except BadFileError as error:
        raise UsageError(Problem(str(error))) from None
    except ChainBrokenError as error:
        click.echo(f"FAILED {error}", err=True)
        sys.exit(EXIT_CHAIN_BROKEN)
    for month in verified:
        click.echo(month.line(checked=checks is not None))
    first, last = verified[0], verified[-1]
    click.echo(
        f"chain of {len(verified)} statements of {first.contract} verified, "
        f"{first.month} to {last.month}"
        + ("" if checks is not None else " (signatures not checked: no --key)")
    )


@click.command("chain")
@_DB
@click.option(
    "--signing-key",
    "signing_key",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Sign every statement left unsigned with this private key.",
)
@reports_user_errors
def chain(db: str, signing_key: Path | None) -> None:
    """Chain the statements stored before the chain existed (once, in month order, per
    contract) and sign every unsigned statement with --signing-key."""
    signer = None if signing_key is None else load_signing_key(signing_key)
    done = open_stores(db).statements.chain(signer)
    click.echo(f"{done.chained} statements chained, {done.signed} more signed")


@click.command("export")
@click.argument("contract", type=click.Path(path_type=Path, dir_okay=False))
@_DB
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Directory for one file per month, as GET /api/v1/statements/{month} serves it.",
)
@reports_user_errors
def export(contract: Path, db: str, out: Path) -> None:
    """Write CONTRACT's chained statements as files (statement-CONTRACT-YYYY-MM.json), what
    a customer downloads and `slaledger statement verify` checks."""
    name = load_contract(contract).contract
    if not out.is_dir():
        raise UsageError(Problem("expected an existing directory", str(out), field="--out"))
    written = 0
    for statement in open_stores(db).statements.months(name):
        if not statement.chained:
            continue
        atomic_write_bytes(out / file_name(name, statement.month), statement.file_bytes())
        written += 1
    click.echo(f"{written} statements of {name} written to {out}")
    if not written:
        sys.exit(EXIT_USER_ERROR)


def file_name(contract: str, month: str) -> str:
    return f"statement-{contract}-{month}.json"
