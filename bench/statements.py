"""Verifying a five-year chain of 60 monthly statements offline (target: under 1 s).

Each statement holds a month's report the size of a large provider's: 300 results (100
services at 3 locations, an episode each), 20 commitments and the credits of 1,000
customers as their totals. The chain is issued and signed through the store (SQLite),
written as the files the API serves, then checked three ways: ``verify_chain`` over the
files in memory, the same reading them from disk, and ``slaledger statement verify`` run as
a customer runs it (process start included).

Run: ``PYTHONPATH=src python bench/statements.py [SERVICES CUSTOMERS]`` (about 15 s; the
default is 100 services and 1,000 customers).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from slaledger.core.statement_chain import read_statement_file, verify_chain
from slaledger.files.signing_key import PublicKey, SigningKey
from slaledger.store.database import connect, migrate
from slaledger.store.statements import StatementStore

MONTHS = 60
NOW = 1_796_083_200_000_000


def month_label(index: int) -> str:
    return f"{2022 + index // 12:04d}-{index % 12 + 1:02d}"


def report(month: str, services: int = 100, customers: int = 1000) -> str:
    results = [
        {
            "service": f"service-{s:03d}",
            "location": location,
            "rule": "first-fail-to-first-success",
            "target": "99.95",
            "total_minutes": 44640,
            "downtime_minutes": s % 7,
            "excluded_minutes": 0,
            "availability": f"0.99{s:04d}",
            "met": s % 5 != 0,
            "credit_percent": 10 if s % 5 == 0 else 0,
            "probes": {"up": 44640, "down": s % 7, "excluded": 0},
            "episodes": [
                {
                    "start": f"{month}-03T10:00:00Z",
                    "end": f"{month}-03T10:07:00Z",
                    "counted_minutes": s % 7,
                    "status": "down",
                    "reason": "timeout",
                }
            ],
        }
        for s in range(services)
        for location in ("fra1", "ams1", "nyc1")
    ]
    commitments = [
        {
            "commitment": f"support-p{c}",
            "kind": "first-response",
            "met": c % 3 != 0,
            "counts": {"met": 400 + c, "missed": c % 3, "pending": 0, "not-covered": 0},
        }
        for c in range(20)
    ]
    credits = [
        {
            "customer": f"customer-{k:04d}",
            "month": month,
            "currency": "EUR",
            "status": "issued" if k % 4 else "none",
            "amount": f"-{k % 97}.{k % 100:02d}",
            "amount_minor": -((k % 97) * 100 + k % 100),
        }
        for k in range(customers)
    ]
    document = {
        "contract": "hosting",
        "results": results,
        "commitments": commitments,
        "credits": credits,
    }
    return json.dumps(document, indent=2) + "\n"


def main() -> None:
    services, customers = (int(a) for a in sys.argv[1:3]) if len(sys.argv) > 2 else (100, 1000)
    key = SigningKey(Ed25519PrivateKey.generate())
    public = PublicKey(key.private.public_key())
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        engine = connect(f"sqlite:///{directory / 'bench.db'}")
        migrate(engine)
        store = StatementStore(engine)
        documents = [report(month_label(i), services, customers) for i in range(MONTHS)]
        started = time.perf_counter()
        for index, document in enumerate(documents):
            store.issue("hosting", month_label(index), document, NOW + index, key)
        issued = time.perf_counter() - started

        started = time.perf_counter()
        out = directory / "statements"
        out.mkdir()
        for statement in store.months("hosting"):
            name = f"statement-hosting-{statement.month}.json"
            (out / name).write_bytes(statement.file_bytes())
        exported = time.perf_counter() - started
        sizes = [p.stat().st_size for p in sorted(out.iterdir())]
        print(
            f"{MONTHS} statements of {sum(sizes) / MONTHS / 1024:.0f} KiB each "
            f"({sum(sizes) / 2**20:.1f} MiB in all)"
        )
        print(
            f"issued, chained and signed in the store: {issued:.2f} s; "
            f"exported as files: {exported:.2f} s"
        )

        checks = {key.key_id: public.check}
        raws = [(p.name, p.read_bytes()) for p in sorted(out.iterdir())]
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            files = [read_statement_file(name, raw) for name, raw in raws]
            verified = verify_chain(files, checks)
            best = min(best, time.perf_counter() - started)
        assert len(verified) == MONTHS
        print(f"verify_chain, files in memory: {best:.3f} s")

        started = time.perf_counter()
        files = [read_statement_file(p.name, p.read_bytes()) for p in sorted(out.iterdir())]
        verify_chain(files, checks)
        print(f"verify_chain, files read from disk: {time.perf_counter() - started:.3f} s")

        (directory / "key.pub").write_bytes(key.public_pem)
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "slaledger", "statement", "verify",
             "--key", str(directory / "key.pub"), str(out)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        whole = time.perf_counter() - started
        assert done.returncode == 0, done.stderr
        print(
            f"slaledger statement verify (a new process): {whole:.2f} s; "
            f"{done.stdout.splitlines()[-1]}"
        )
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import slaledger.cli.main"], check=True)
        print(
            f"  of which starting Python and importing the CLI: "
            f"{time.perf_counter() - started:.2f} s"
        )


if __name__ == "__main__":
    main()
