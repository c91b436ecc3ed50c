"""Statements anyone can verify: the canonical bytes, the hash chain and its check.

A month's statement is signed as its *canonical bytes*: the statement object

``{"contract", "format", "issued_at", "month", "previous_month", "previous_sha256", "report"}``

serialised as JSON with keys sorted by code point, no whitespace outside strings
(separators ``,`` and ``:``), strings with every character written as itself in UTF-8
except ``"`` and ``\\`` (escaped with a backslash) and U+0000 to U+001F (``\\b \\t \\n \\f
\\r``, else ``\\u00xx`` with lowercase hex); numbers are integers only (no floats: every
figure is an exact decimal string); ``true``, ``false``, ``null``. ``format`` is
:data:`FORMAT`. ``previous_sha256`` is the SHA-256 (lowercase hex) of the canonical bytes
of the contract's previous statement, ``previous_month`` its month; both ``null`` for the
first.

The file a customer downloads is the canonical serialisation of
``{"key_id", "sha256", "signature", "statement"}``: ``sha256`` of the canonical bytes,
``signature`` the Ed25519 signature over them (128 lowercase hex digits) or ``null`` when
unsigned, ``key_id`` the first 16 hex digits of the SHA-256 of the signer's 32-byte raw
public key (or ``null``). The signature and the statement's own hash are outside the signed
bytes; the signed bytes appear verbatim in the file after ``"statement":``.

Hashing is pure; signing and checking a signature are the adapter's
(:mod:`slaledger.files.signing_key`), passed in as :class:`Signer` and
:data:`SignatureCheck`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

FORMAT = "slaledger-statement/1"
STATEMENT_KEYS = frozenset(
    {"contract", "format", "issued_at", "month", "previous_month", "previous_sha256", "report"}
)
FILE_KEYS = frozenset({"key_id", "sha256", "signature", "statement"})
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_HEX128 = re.compile(r"^[0-9a-f]{128}$")
_KEY_ID = re.compile(r"^[0-9a-f]{16}$")
_STATEMENT_MARK = b',"statement":'
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class NotCanonicalError(ValueError):
    """A value the canonical form cannot hold (a float, a non-string key, a lone surrogate)."""


def _check(value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise NotCanonicalError(f"expected string keys, got {key!r}")
            _check(item)
    elif isinstance(value, list):
        for item in value:
            _check(item)
    elif isinstance(value, float):
        raise NotCanonicalError(f"expected no floats (exact decimal strings), got {value!r}")
    elif not (value is None or isinstance(value, (str, int, bool))):
        raise NotCanonicalError(f"expected JSON values, got {type(value).__name__}")


def canonical_bytes(value: Any, *, checked: bool = False) -> bytes:
    """``value`` in the canonical form of the module's doc (:class:`NotCanonicalError` if it
    cannot be); ``checked``: ``value`` is known to hold no float (parsed by
    :func:`read_statement_file`), so it is not walked again."""
    if not checked:
        _check(value)
    try:
        return json.dumps(
            value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
        ).encode("utf-8")
    except UnicodeEncodeError as error:
        raise NotCanonicalError(f"expected valid Unicode: {error.reason}") from None


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def key_id_of(raw_public_key: bytes) -> str:
    """The id of an Ed25519 public key: the first 16 hex digits of its raw bytes' SHA-256."""
    return sha256_hex(raw_public_key)[:16]


class Signer(Protocol):
    """A provider's signing key (the adapter holds the private key)."""

    @property
    def key_id(self) -> str: ...

    def sign(self, data: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``data``."""
        ...


SignatureCheck = Callable[[bytes, bytes], bool]
"""``check(signature, data)``: whether ``signature`` is a valid one of ``data`` by one key."""


def statement_object(
    *,
    contract: str,
    month: str,
    issued_at: str,
    previous_month: str | None,
    previous_sha256: str | None,
    report: Mapping[str, Any],
) -> dict[str, Any]:
    return {
        "contract": contract,
        "format": FORMAT,
        "issued_at": issued_at,
        "month": month,
        "previous_month": previous_month,
        "previous_sha256": previous_sha256,
        "report": dict(report),
    }


@dataclass(frozen=True)
class Signed:
    """A statement's canonical bytes, their hash and (when signed) signature and key id."""

    signed: bytes
    sha256: str
    signature: str | None = None
    key_id: str | None = None

    def file_bytes(self) -> bytes:
        """The downloadable file: canonical, the signed bytes verbatim inside."""
        head = canonical_bytes(
            {"key_id": self.key_id, "sha256": self.sha256, "signature": self.signature}
        )
        return head[:-1] + b',"statement":' + self.signed + b"}"


def seal(statement: Mapping[str, Any], signer: Signer | None = None) -> Signed:
    """Canonical bytes, hash and signature of ``statement``."""
    signed = canonical_bytes(dict(statement))
    return sign(Signed(signed, sha256_hex(signed)), signer)


def sign(sealed: Signed, signer: Signer | None) -> Signed:
    if signer is None:
        return sealed
    return Signed(sealed.signed, sealed.sha256, signer.sign(sealed.signed).hex(), signer.key_id)


# --- Verification -----------------------------------------------------------------------


class BadFileError(ValueError):
    """Not a statement file at all (exit 2): not JSON, or without a statement's month."""


@dataclass(frozen=True)
class StatementFile:
    """A downloaded statement file, parsed (its bytes kept to check the form)."""

    name: str
    raw: bytes
    document: dict[str, Any]
    month: str
    floats: bool = False
    """It holds a number that is not an integer (never in a statement as issued)."""


_ISSUED_MONTH = re.compile(
    rb'^\{"key_id":[^{}]*,"statement":\{"contract":"(?:[^"\\]|\\.)*",'
    rb'"format":"[^"\\]*","issued_at":"[^"\\]*","month":"(\d{4}-\d{2})",'
)
"""The month of a statement file as issued, read from its bytes (a damaged file)."""


def _damaged(name: str, raw: bytes, why: str) -> ValueError:
    """:class:`ChainBrokenError` naming the month when the bytes still show a statement as
    issued (a byte changed after), else :class:`BadFileError`."""
    found = _ISSUED_MONTH.match(raw)
    if found is None:
        return BadFileError(f"{name}: {why}")
    return ChainBrokenError(found.group(1).decode(), f"changed: the file is {why}")


def read_statement_file(name: str, raw: bytes) -> StatementFile:
    """Parse a downloaded file; :class:`ChainBrokenError` naming the month when a statement
    as issued no longer parses, :class:`BadFileError` when it is not a statement at all."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _damaged(name, raw, f"not UTF-8 (byte {error.start})") from None
    floats = False
    try:
        try:
            document = json.loads(text, parse_float=_no_float, parse_constant=_no_float)
        except NotCanonicalError:  # a float: parsed again to tell its month
            floats = True
            document = json.loads(text)
    except json.JSONDecodeError as error:
        why = f"not JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        raise _damaged(name, raw, why) from None
    statement = document.get("statement") if isinstance(document, dict) else None
    month = statement.get("month") if isinstance(statement, dict) else None
    if not isinstance(month, str):
        raise BadFileError(f"{name}: not a slaledger statement (expected statement.month)")
    return StatementFile(name, raw, document, month, floats)


def _no_float(text: str) -> Any:
    raise NotCanonicalError(f"expected no floats (exact decimal strings), got {text}")


@dataclass(frozen=True)
class Verified:
    """One month that verified: its summary line's parts."""

    month: str
    contract: str
    sha256: str
    key_id: str | None
    signed: bool
    previous_month: str | None
    """The chained predecessor; ``None`` for the chain's first."""
    gap: int = 0
    """Months between the predecessor and this one that were never issued (older chains)."""

    def line(self, checked: bool) -> str:
        if not self.signed:
            who = "unsigned"
        elif checked:
            who = f"signature by key {self.key_id} ok"
        else:
            who = f"signed by key {self.key_id} (not checked: no --key)"
        after = (
            "first of the chain" if self.previous_month is None else f"after {self.previous_month}"
        )
        if self.gap:
            after += f" ({self.gap} months between never issued)"
        return f"{self.month} ok: {self.contract}, sha256 {self.sha256[:16]}…, {who}, {after}"


class ChainBrokenError(ValueError):
    """The chain does not verify; the message names the month."""

    def __init__(self, month: str, why: str) -> None:
        super().__init__(f"{month}: {why}")
        self.month = month


def months_between(first: str, last: str) -> int:
    """Whole months strictly between two ``YYYY-MM`` months (negative when out of order)."""
    a, b = (int(first[:4]) * 12 + int(first[5:7])), (int(last[:4]) * 12 + int(last[5:7]))
    return b - a - 1


def _verify_one(
    file: StatementFile, checks: Mapping[str, SignatureCheck] | None
) -> tuple[Verified, str]:
    month, document = file.month, file.document
    if set(document) != FILE_KEYS:
        fields = ", ".join(sorted(FILE_KEYS))
        raise ChainBrokenError(month, f"changed: expected the fields {fields}")
    statement = document["statement"]
    if set(statement) != STATEMENT_KEYS or statement["format"] != FORMAT:
        raise ChainBrokenError(month, f"changed: not a statement of format {FORMAT}")
    if not _MONTH.match(month):
        raise ChainBrokenError(month, "changed: the month is not YYYY-MM")
    if file.floats:
        raise ChainBrokenError(month, "changed: a number that is not an integer")
    try:
        whole = canonical_bytes(document, checked=True)
    except NotCanonicalError as error:
        raise ChainBrokenError(month, f"changed: {error}") from None
    if whole != file.raw:
        raise ChainBrokenError(month, "changed: the file is not byte for byte as issued")
    # The file is canonical, so the signed bytes are the statement's, verbatim at its end
    # (nothing before it can hold the marker: hex digits, key ids and null).
    signed = whole[whole.index(_STATEMENT_MARK) + len(_STATEMENT_MARK) : -1]
    own = sha256_hex(signed)
    if document["sha256"] != own:
        raise ChainBrokenError(month, "changed: its content does not match its SHA-256")
    signature, key_id = document["signature"], document["key_id"]
    if (signature is None) != (key_id is None):
        raise ChainBrokenError(month, "changed: a signature without a key id, or the reverse")
    if signature is not None and not (
        isinstance(signature, str)
        and _HEX128.match(signature)
        and isinstance(key_id, str)
        and _KEY_ID.match(key_id)
    ):
        raise ChainBrokenError(month, "changed: the signature or key id is malformed")
    if checks is not None:
        if signature is None:
            raise ChainBrokenError(month, "unsigned: the provider has not signed this statement")
        check = checks.get(key_id)
        if check is None:
            given = ", ".join(sorted(checks))
            raise ChainBrokenError(month, f"signed by key {key_id}, not by the key given ({given})")
        if not check(bytes.fromhex(signature), signed):
            raise ChainBrokenError(month, "changed: the signature does not verify")
    verified = Verified(
        month,
        str(statement["contract"]),
        own,
        key_id,
        signature is not None,
        statement["previous_month"],
    )
    return verified, own


def verify_chain(
    files: Sequence[StatementFile],
    checks: Mapping[str, SignatureCheck] | None,
    *,
    partial: bool = False,
) -> list[Verified]:
    """Check ``files`` as one contract's chain, oldest first: each file as issued, its hash,
    its signature by one of ``checks`` (key id → check; ``None``: signatures not checked),
    and each statement chained to the one before it. The first must be the chain's first
    unless ``partial``. Raises :class:`ChainBrokenError` naming the first month that fails."""
    done: list[Verified] = []
    previous: tuple[str, str] | None = None  # (month, sha256)
    contract: str | None = None
    for file in files:
        verified, own = _verify_one(file, checks)
        statement = file.document["statement"]
        month = verified.month
        if contract is not None and verified.contract != contract:
            raise ChainBrokenError(month, f"a statement of {verified.contract}, not of {contract}")
        contract = verified.contract
        link_month, link = statement["previous_month"], statement["previous_sha256"]
        if (link_month is None) != (link is None):
            raise ChainBrokenError(month, "changed: previous_month and previous_sha256 disagree")
        if link_month is not None and (
            not isinstance(link_month, str)
            or not _MONTH.match(link_month)
            or not isinstance(link, str)
            or not _HEX64.match(link)
            or link_month >= month
        ):
            raise ChainBrokenError(month, "changed: its link to the previous one is malformed")
        if previous is None:
            if link_month is not None and not partial:
                raise ChainBrokenError(
                    month,
                    f"{link_month} is missing: {month} chains to it "
                    "(give every statement from the first, or --partial)",
                )
        else:
            before, before_hash = previous
            if month <= before:
                raise ChainBrokenError(month, f"out of order: it comes after {before}")
            if link_month is None:
                raise ChainBrokenError(month, f"a chain's first statement, yet it follows {before}")
            if link_month != before:
                if link_month > before:
                    raise ChainBrokenError(month, f"{link_month} is missing: {month} chains to it")
                raise ChainBrokenError(month, f"it chains to {link_month}, not to {before}")
            if link != before_hash:
                raise ChainBrokenError(
                    month, f"it chains to another {before} than the one given (SHA-256 differs)"
                )
        if link_month is not None:
            verified = Verified(
                verified.month,
                verified.contract,
                verified.sha256,
                verified.key_id,
                verified.signed,
                link_month,
                months_between(link_month, month),
            )
        done.append(verified)
        previous = (month, own)
    return done
