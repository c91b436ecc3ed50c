"""Files of the repository a user reads before the code: the licence the package declares."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parents[1]

APACHE_2_SHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"
"""SHA-256 of https://www.apache.org/licenses/LICENSE-2.0.txt, the licence's standard text."""


def test_license_holds_the_apache_2_text_the_package_declares() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"]
    assert declared == "Apache-2.0"
    text = (ROOT / "LICENSE").read_bytes()
    assert hashlib.sha256(text).hexdigest() == APACHE_2_SHA256
    lines = [line.strip() for line in text.decode().splitlines()]
    assert lines[1:3] == ["Apache License", "Version 2.0, January 2004"]
    assert "END OF TERMS AND CONDITIONS" in lines


def test_make_test_prepares_the_test_services_as_ci_does() -> None:
    dry = subprocess.run(
        ["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert "scripts/test-services.sh" in dry
    assert dry.index("scripts/test-services.sh") < dry.index(".venv/bin/pytest -q")
    # The real Statuspage clients (npm ci; nodejs and npm from apt when missing) as well.
    assert dry.index("scripts/test-clients.sh") < dry.index(".venv/bin/pytest -q")
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert ci[-3:] == ["scripts/test-services.sh", "", "make test"]


def _fake_machine(tmp_path: Path, *, pg_up: bool) -> dict[str, str]:
    """A PATH of stand-ins: pg_isready answers once ``pg-up`` exists, pg_ctlcluster and
    apt-get record their arguments (apt-get "installs" chromium), we are root."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "env", "ls", "sort", "tail", "sleep", "true", "touch", "chmod"):
        found = shutil.which(tool)
        assert found is not None
        (bin_dir / tool).symlink_to(found)
    log = tmp_path / "calls"
    chromium = tmp_path / "chromium"
    scripts = {
        "id": "echo 0",
        "pg_isready": f'[ -e "{tmp_path}/pg-up" ]',
        "pg_ctlcluster": f'echo "pg_ctlcluster $*" >> "{log}"; touch "{tmp_path}/pg-up"',
        "apt-get": (
            f'echo "apt-get $*" >> "{log}"; '
            f'case "$*" in *install*) printf "#!/bin/sh\\n" > "{chromium}"; '
            f'chmod +x "{chromium}";; esac'
        ),
    }
    for name, body in scripts.items():
        (bin_dir / name).write_text(f"#!{shutil.which('bash')}\n{body}\n")
        (bin_dir / name).chmod(0o755)
    (tmp_path / "etc" / "15").mkdir(parents=True)
    if pg_up:
        (tmp_path / "pg-up").touch()
    return {
        "PATH": str(bin_dir),
        "SLALEDGER_CHROMIUM": str(chromium),
        "SLALEDGER_PG_ETC": str(tmp_path / "etc"),
    }


def _services(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = str(ROOT / "scripts" / "test-services.sh")
    bash = shutil.which("bash")
    assert bash is not None
    return subprocess.run([bash, script], env=env, capture_output=True, text=True, check=False)


def test_test_services_start_postgresql_and_install_chromium(tmp_path: Path) -> None:
    env = _fake_machine(tmp_path, pg_up=False)
    first = _services(env)
    assert (first.returncode, first.stderr) == (0, "")
    assert first.stdout.splitlines() == [
        "test services: started PostgreSQL 15",
        "test services: installed Debian's chromium",
    ]
    assert (tmp_path / "calls").read_text().splitlines() == [
        "pg_ctlcluster --skip-systemctl-redirect 15 main start",
        "apt-get update -qq",
        "apt-get install -y -qq --no-install-recommends chromium",
    ]
    again = _services(env)  # idempotent, and quiet when everything is there
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")
    assert len((tmp_path / "calls").read_text().splitlines()) == 3


def test_test_services_say_what_they_cannot_do(tmp_path: Path) -> None:
    env = _fake_machine(tmp_path, pg_up=True)
    (Path(env["PATH"]) / "apt-get").unlink()  # not Debian
    outcome = _services(env)
    assert (outcome.returncode, outcome.stderr) == (0, "")
    assert outcome.stdout == (
        f"test services: no {tmp_path / 'chromium'} and it cannot be installed here (needs "
        "apt-get as root or password-less sudo); the browser tests are skipped\n"
    )


def _readme_commands(prefix: str) -> list[str]:
    """The README's console commands starting ``$ <prefix>``, continuation lines joined."""
    commands: list[str] = []
    lines = iter((ROOT / "README.md").read_text().splitlines())
    for line in lines:
        if line.startswith(f"$ {prefix}"):
            command = line[2:]
            while command.endswith("\\"):
                command = command[:-1] + next(lines).strip()
            commands.append(command)
    return commands


def test_readme_mentions_demo_minutes() -> None:
    assert "make demo DEMO_MINUTES=2" in (ROOT / "README.md").read_text()
    assert "DEMO_MINUTES ?= 15" in (ROOT / "Makefile").read_text()


def test_readme_maintenance_examples_run_today(tmp_path: Path) -> None:
    from slaledger.cli.maintenance import command as maintenance

    assert isinstance(maintenance, click.Group)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    db = f"sqlite:///{tmp_path / 'readme.db'}"

    (suggest,) = _readme_commands("slaledger maintenance suggest")
    required = [p.opts[0] for p in maintenance.commands["suggest"].params if p.required]
    assert [option for option in required if option.startswith("-")] == [
        "--duration",
        "--traffic",
        "--contract",
    ]
    assert all(f" {option} " in suggest for option in required if option.startswith("-"))
    suggested = subprocess.run(
        ["bash", "-c", suggest], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert suggested.stdout.startswith("suggested maintenance for data-api: ")

    (create,) = _readme_commands("slaledger maintenance create")
    assert re.search(r"\d{4}-\d\d-\d\d", create) is None  # relative dates: never in the past
    created = subprocess.run(
        ["bash", "-c", f"{create} --db {db}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert created.stdout.startswith("created maintenance #1 'Database upgrade' (data-api; ")
    assert "; scheduled)\nscheduled maintenance: announced " in created.stdout
