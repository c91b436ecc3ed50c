"""The statement chain: canonical bytes, and what verification catches (properties)."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from slaledger.core.statement_chain import (
    BadFileError,
    ChainBrokenError,
    NotCanonicalError,
    Signed,
    StatementFile,
    canonical_bytes,
    read_statement_file,
    seal,
    statement_object,
    verify_chain,
)
from slaledger.files.signing_key import PublicKey, SigningKey

KEY = SigningKey(Ed25519PrivateKey.from_private_bytes(bytes(range(32))))
OTHER = SigningKey(Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33))))
CHECKS = {KEY.key_id: PublicKey(KEY.private.public_key()).check}


def month_label(index: int) -> str:
    return f"{2022 + index // 12:04d}-{index % 12 + 1:02d}"


def chain(months: int, signer: SigningKey | None = KEY, contract: str = "hosting") -> list[Signed]:
    out: list[Signed] = []
    for index in range(months):
        previous = out[-1] if out else None
        report = {
            "contract": contract,
            "results": [{"service": "network", "availability": "0.9995", "credit_percent": 10}],
            "note": 'Grüße \u0007 "quoted"',
        }
        statement = statement_object(
            contract=contract,
            month=month_label(index),
            issued_at="2026-12-02T00:00:00Z",
            previous_month=None if previous is None else month_label(index - 1),
            previous_sha256=None if previous is None else previous.sha256,
            report=report,
        )
        out.append(seal(statement, signer))
    return out


def files(sealed: list[Signed]) -> list[StatementFile]:
    return [read_statement_file(f"s{i}.json", s.file_bytes()) for i, s in enumerate(sealed)]


def test_canonical_bytes_are_sorted_compact_utf8_and_refuse_floats() -> None:
    value = {"b": [1, True, None], "a": 'é\n\u0001"\\'}
    assert canonical_bytes(value) == '{"a":"é\\n\\u0001\\"\\\\","b":[1,true,null]}'.encode()
    with pytest.raises(NotCanonicalError, match="no floats"):
        canonical_bytes({"a": 0.5})


def test_the_signed_bytes_appear_verbatim_in_the_file() -> None:
    sealed = chain(2)[1]
    raw = sealed.file_bytes()
    assert raw.startswith(b'{"key_id":"' + KEY.key_id.encode() + b'","sha256":"')
    assert raw.endswith(b',"statement":' + sealed.signed + b"}")
    assert canonical_bytes(json.loads(raw)) == raw


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 24))
def test_a_chain_of_any_length_verifies(months: int) -> None:
    verified = verify_chain(files(chain(months)), CHECKS)
    assert [v.month for v in verified] == [month_label(i) for i in range(months)]
    assert verified[0].line(True).startswith("2022-01 ok: hosting, sha256 ")
    assert verified[-1].previous_month == (None if months == 1 else month_label(months - 2))


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_single_byte_change_fails(data: st.DataObject) -> None:
    sealed = chain(data.draw(st.integers(1, 6)))
    index = data.draw(st.integers(0, len(sealed) - 1))
    raw = bytearray(sealed[index].file_bytes())
    position = data.draw(st.integers(0, len(raw) - 1))
    raw[position] ^= data.draw(st.integers(1, 255))
    given_files = files(sealed)
    named: str | None = None
    try:
        given_files[index] = read_statement_file("changed.json", bytes(raw))
    except ChainBrokenError as error:  # no longer JSON: the month it was is named
        named = error.month
    except BadFileError:
        return  # not even its month can be read: a bad file (exit 2), never a pass
    if named is not None:
        assert named == month_label(index)
        return
    with pytest.raises(ChainBrokenError):
        verify_chain(given_files, CHECKS)


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_a_missing_month_fails_naming_it(data: st.DataObject) -> None:
    sealed = chain(data.draw(st.integers(2, 8)))
    gone = data.draw(st.integers(0, len(sealed) - 1))
    rest = files(sealed[:gone] + sealed[gone + 1 :])
    if gone == len(sealed) - 1:
        verify_chain(rest, CHECKS)  # the latest month not given: a shorter chain
        return
    with pytest.raises(ChainBrokenError) as raised:
        verify_chain(rest, CHECKS)
    assert str(raised.value).startswith(f"{month_label(gone + 1)}: {month_label(gone)} is missing")


def test_the_first_month_missing_fails_unless_partial() -> None:
    rest = files(chain(3)[1:])
    with pytest.raises(ChainBrokenError, match=r"^2022-02: 2022-01 is missing: 2022-02 chains"):
        verify_chain(rest, CHECKS)
    assert [v.month for v in verify_chain(rest, CHECKS, partial=True)] == ["2022-02", "2022-03"]


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_a_reordered_chain_fails_naming_the_month(data: st.DataObject) -> None:
    given_files = files(chain(data.draw(st.integers(2, 8))))
    i = data.draw(st.integers(0, len(given_files) - 2))
    j = data.draw(st.integers(i + 1, len(given_files) - 1))
    given_files[i], given_files[j] = given_files[j], given_files[i]
    with pytest.raises(ChainBrokenError) as raised:
        verify_chain(given_files, CHECKS)
    assert raised.value.month in {month_label(i), month_label(j), month_label(i + 1)}


def test_another_key_fails_naming_the_month_and_both_keys() -> None:
    with pytest.raises(ChainBrokenError) as raised:
        verify_chain(files(chain(2, OTHER)), CHECKS)
    assert str(raised.value) == (
        f"2022-01: signed by key {OTHER.key_id}, not by the key given ({KEY.key_id})"
    )


def test_a_signature_of_the_same_key_id_over_other_bytes_fails() -> None:
    good, forged = chain(1)[0], chain(1, contract="other")[0]
    raw = Signed(good.signed, good.sha256, forged.signature, good.key_id).file_bytes()
    with pytest.raises(ChainBrokenError, match=r"^2022-01: changed: the signature does not verify"):
        verify_chain([read_statement_file("x.json", raw)], CHECKS)


def test_unsigned_statements_verify_as_a_chain_but_fail_against_a_key() -> None:
    unsigned = files(chain(2, None))
    lines = [v.line(False) for v in verify_chain(unsigned, None)]
    assert lines[0].endswith(", unsigned, first of the chain")
    assert lines[1].endswith(", unsigned, after 2022-01")
    with pytest.raises(ChainBrokenError, match=r"^2022-01: unsigned: the provider has not signed"):
        verify_chain(unsigned, CHECKS)


def test_a_file_that_is_not_a_statement_is_a_bad_file() -> None:
    with pytest.raises(ValueError, match=r"^x.json: not JSON: Expecting value \(line 1, col"):
        read_statement_file("x.json", b"nope")
    with pytest.raises(ValueError, match=r"^x.json: not a slaledger statement"):
        read_statement_file("x.json", b"[]")


def test_a_statement_no_longer_json_after_a_changed_byte_names_its_month() -> None:
    raw = bytearray(chain(2)[1].file_bytes())
    raw[raw.index(b'"results":[') + len(b'"results":')] = ord("(")
    with pytest.raises(ChainBrokenError, match=r"^2022-02: changed: the file is not JSON: "):
        read_statement_file("x.json", bytes(raw))
    raw = bytearray(chain(1)[0].file_bytes())
    raw[-1] = 0xFF
    with pytest.raises(ChainBrokenError, match=r"^2022-01: changed: the file is not UTF-8"):
        read_statement_file("x.json", bytes(raw))


def test_every_single_byte_change_of_a_chain_fails() -> None:
    """Each byte of each file, changed one way: never a pass, and once the file's month can
    be read, that month is the one named."""
    sealed = chain(2)
    outcomes = {"bad file": 0, "named": 0}
    for index, statement in enumerate(sealed):
        original = statement.file_bytes()
        for position in range(len(original)):
            raw = bytearray(original)
            raw[position] ^= 0x01
            given_files = files(sealed)
            named: str | None = None
            try:
                given_files[index] = read_statement_file("changed.json", bytes(raw))
                verify_chain(given_files, CHECKS)
            except ChainBrokenError as error:
                named = error.month
            except BadFileError:
                outcomes["bad file"] += 1
                continue
            assert named is not None, f"passed with byte {position} of {month_label(index)}"
            outcomes["named"] += 1
    assert outcomes["named"] > 10 * outcomes["bad file"]
