"""The provider's Ed25519 key pair, in files: generate, load, sign, check.

Keys are PEM: the private key PKCS#8 (unencrypted; the file is mode 0600), the public key
SubjectPublicKeyInfo, the form ``openssl pkey -pubin`` reads. A public key may also be given
as its 32 raw bytes in 64 hex digits. Writes are atomic: a reader sees no file or the
whole one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from slaledger.core.statement_chain import SignatureCheck, key_id_of
from slaledger.errors import Problem, UsageError
from slaledger.files.atomic import atomic_write_bytes, read_input

PRIVATE_NAME = "statement-signing.key"
PUBLIC_NAME = "statement-signing.pub"


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_pem(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@dataclass(frozen=True)
class SigningKey:
    """A provider's private key: signs statements (a :class:`Signer`)."""

    private: Ed25519PrivateKey

    @property
    def key_id(self) -> str:
        return key_id_of(_raw(self.private.public_key()))

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data)

    @property
    def public_pem(self) -> bytes:
        return public_pem(self.private.public_key())


@dataclass(frozen=True)
class PublicKey:
    public: Ed25519PublicKey

    @property
    def key_id(self) -> str:
        return key_id_of(_raw(self.public))

    def check(self, signature: bytes, data: bytes) -> bool:
        try:
            self.public.verify(signature, data)
        except InvalidSignature:
            return False
        return True

    @property
    def as_check(self) -> SignatureCheck:
        return self.check


def _problem(path: Path, message: str) -> UsageError:
    return UsageError(Problem(message, str(path)))


def load_signing_key(path: Path) -> SigningKey:
    """The private key in ``path`` (PEM, PKCS#8, unencrypted)."""
    data = read_input(path, UsageError)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise _problem(
            path, "expected an unencrypted Ed25519 private key in PEM (slaledger key generate)"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise _problem(path, f"expected an Ed25519 private key, found {type(key).__name__}")
    return SigningKey(key)


def load_public_key(path: Path) -> PublicKey:
    """The public key in ``path``: PEM (SubjectPublicKeyInfo), a private key's PEM (its
    public half), or 64 hex digits of the raw key."""
    data = read_input(path, UsageError)
    text = data.strip()
    if len(text) == 64:
        try:
            return PublicKey(Ed25519PublicKey.from_public_bytes(bytes.fromhex(text.decode())))
        except (ValueError, UnicodeDecodeError):
            pass
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        try:
            private = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError):
            raise _problem(path, "expected an Ed25519 public key in PEM or 64 hex digits") from None
        if not isinstance(private, Ed25519PrivateKey):
            raise _problem(path, "expected an Ed25519 key") from None
        return PublicKey(private.public_key())
    if not isinstance(key, Ed25519PublicKey):
        raise _problem(path, f"expected an Ed25519 public key, found {type(key).__name__}")
    return PublicKey(key)


def _write_private(path: Path, data: bytes, *, force: bool) -> None:
    """Write the private key with mode 0600 from its first byte; atomically; refused over
    an existing file unless ``force``."""
    directory = path.parent
    descriptor, temp_name = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    temp = Path(temp_name)  # mkstemp creates it 0600
    try:
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        if force:
            os.replace(temp, path)
        else:
            try:
                os.link(temp, path)  # fails if the key exists, even in a race
            except FileExistsError:
                raise _problem(
                    path, "a key is already there; refusing to overwrite it (use --force)"
                ) from None
            temp.unlink()
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise


def generate_key_pair(directory: Path, *, force: bool = False) -> tuple[Path, Path, SigningKey]:
    """Make a new key pair in ``directory``: the private key (0600) and the public key."""
    if not directory.is_dir():
        raise _problem(directory, "expected an existing directory")
    private_path, public_path = directory / PRIVATE_NAME, directory / PUBLIC_NAME
    if private_path.exists() and not force:
        raise _problem(private_path, "a key is already there; refusing to overwrite (use --force)")
    key = SigningKey(Ed25519PrivateKey.generate())
    pem = key.private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_private(private_path, pem, force=force)
    atomic_write_bytes(public_path, key.public_pem)
    return private_path, public_path, key
