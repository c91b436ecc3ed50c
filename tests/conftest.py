from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CONTRACTS = REPO / "examples" / "contracts"


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def _run_cli(*args: str | Path, cwd: Path | None = None) -> Run:
    done = subprocess.run(
        [sys.executable, "-m", "slaledger", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def run_cli() -> Callable[..., Run]:
    """Runs the real ``slaledger`` command in a subprocess."""
    return _run_cli


@pytest.fixture
def contracts() -> Path:
    return CONTRACTS
