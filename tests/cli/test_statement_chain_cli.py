"""``slaledger key generate``, ``statement issue --signing-key``, ``statement export`` and
``statement verify``, run as the real command."""

from __future__ import annotations

import json
import shutil
import stat
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conftest import Run


def test_key_generate_writes_a_private_key_only_its_owner_reads(
    run_cli: Callable[..., Run], tmp_path: Path
) -> None:
    made = run_cli("key", "generate", "--out", tmp_path)
    assert made.code == 0, made.err
    private = tmp_path / "statement-signing.key"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    public = (tmp_path / "statement-signing.pub").read_text()
    assert public.startswith("-----BEGIN PUBLIC KEY-----\n")
    assert made.out.endswith(public)
    assert made.out.startswith(f"private key {private} (keep it secret; mode 0600), key id ")
    before = private.read_bytes()
    again = run_cli("key", "generate", "--out", tmp_path)
    assert (again.code, again.out) == (2, "")
    assert again.err == (
        f"error: {private}: a key is already there; refusing to overwrite (use --force)\n"
    )
    assert private.read_bytes() == before
    forced = run_cli("key", "generate", "--out", tmp_path, "--force")
    assert forced.code == 0, forced.err
    assert private.read_bytes() != before
    assert stat.S_IMODE(private.stat().st_mode) == 0o600


def test_issued_statements_verify_offline_and_a_changed_byte_fails(
    run_cli: Callable[..., Run], contracts: Path, demo_files: Path, tmp_path: Path
) -> None:
    keys, other, out = tmp_path / "keys", tmp_path / "other", tmp_path / "out"
    for directory in (keys, other, out):
        directory.mkdir()
    assert run_cli("key", "generate", "--out", keys).code == 0
    assert run_cli("key", "generate", "--out", other).code == 0
    db = f"sqlite:///{tmp_path / 'store.db'}"
    path = contracts / "heft-io.yaml"
    observations = demo_files / "heft-io" / "observations.csv"
    assert run_cli("import", path, observations, "--db", db).code == 0
    for month in ("2026-10", "2026-11"):
        issued = run_cli(
            "statement", "issue", path, "--db", db, "--month", month,
            "--signing-key", keys / "statement-signing.key", "--at", "2026-12-02T00:00:00Z",
        )  # fmt: skip
        assert issued.code == 0, issued.err
    exported = run_cli("statement", "export", path, "--db", db, "--out", out)
    assert exported.code == 0, exported.err
    files = sorted(out.iterdir())
    assert [f.name for f in files] == [
        "statement-heft-io-2026-10.json",
        "statement-heft-io-2026-11.json",
    ]
    public = keys / "statement-signing.pub"
    verified = run_cli("statement", "verify", "--key", public, out)
    assert verified.code == 0, verified.err
    lines = verified.out.splitlines()
    assert lines[0].startswith("2026-10 ok: heft-io, sha256 ")
    assert lines[0].endswith("ok, first of the chain")
    assert lines[1].endswith("ok, after 2026-10")
    assert lines[2] == "chain of 2 statements of heft-io verified, 2026-10 to 2026-11"

    changed = tmp_path / "changed"
    shutil.copytree(out, changed)
    target = changed / "statement-heft-io-2026-10.json"
    data = bytearray(target.read_bytes())
    at = data.index(b'"downtime_minutes":') + len(b'"downtime_minutes":')
    data[at] = ord("7") if data[at] != ord("7") else ord("8")
    target.write_bytes(bytes(data))
    failed = run_cli("statement", "verify", "--key", public, changed)
    assert (failed.code, failed.out) == (1, "")
    assert failed.err == "FAILED 2026-10: changed: its content does not match its SHA-256\n"

    wrong = run_cli("statement", "verify", "--key", other / "statement-signing.pub", out)
    assert wrong.code == 1
    assert wrong.err.startswith("FAILED 2026-10: signed by key ")

    reordered = run_cli("statement", "verify", "--key", public, files[1], files[0])
    assert reordered.code == 1
    assert reordered.err.startswith("FAILED 2026-11: 2026-10 is missing")

    bad = tmp_path / "bad.json"
    bad.write_text("not json")
    refused = run_cli("statement", "verify", "--key", public, files[0], bad)
    assert refused.code == 2
    assert refused.err == (f"error: {bad}: not JSON: Expecting value (line 1, column 1)\n")


def test_serve_signs_the_statements_it_issues_and_serves_them(
    run_cli: Callable[..., Run], contracts: Path, demo_files: Path, tmp_path: Path
) -> None:
    """The publisher of ``serve --signing-key`` issues October and November 2026 (the
    machine's clock is past them), signed, and the API serves what verifies offline."""
    from test_serve import Served

    keys = tmp_path / "keys"
    keys.mkdir()
    assert run_cli("key", "generate", "--out", keys).code == 0
    db = f"sqlite:///{tmp_path / 'store.db'}"
    path = contracts / "heft-io.yaml"
    observations = demo_files / "heft-io" / "observations.csv"
    assert run_cli("import", path, observations, "--db", db).code == 0
    extra = ("--no-probes", "--refresh-seconds", "1")
    served = Served(path, db, extra=(*extra, "--signing-key", str(keys / "statement-signing.key")))
    try:
        deadline = time.monotonic() + 180
        listed: dict[str, Any] = {}
        while time.monotonic() < deadline:
            with urllib.request.urlopen(f"{served.url}/api/v1/statements", timeout=10) as reply:
                listed = json.loads(reply.read())
            if [s["month"] for s in listed["statements"]][:2] == ["2026-10", "2026-11"]:
                break
            time.sleep(1)
        october, november = listed["statements"][:2]
        assert november["previous_sha256"] == october["sha256"]
        with urllib.request.urlopen(f"{served.url}/api/v1/statements/key", timeout=10) as reply:
            assert reply.read() == (keys / "statement-signing.pub").read_bytes()
        out = tmp_path / "downloaded"
        out.mkdir()
        for entry in (october, november):
            with urllib.request.urlopen(served.url + entry["url"], timeout=10) as reply:
                (out / f"{entry['month']}.json").write_bytes(reply.read())
    finally:
        served.kill()
    verified = run_cli("statement", "verify", "--key", keys / "statement-signing.pub", out)
    assert verified.code == 0, verified.err
    assert verified.out.splitlines()[-1] == (
        "chain of 2 statements of heft-io verified, 2026-10 to 2026-11"
    )
