#!/usr/bin/env bash
# The real Statuspage clients the tests run against our /api/v2 (tests/web/test_statuspage_*):
# `make test` (and so .ci/run) runs this first. Idempotent, and silent when all is in place.
#
# - npm's statuspage.io and @statuspage/status-widget: `npm ci` in tests/web/clients from its
#   package-lock.json; Debian's nodejs and npm are installed with apt-get when missing, as
#   root or with password-less sudo.
# - PyPI's statuscheck, in a venv of its own (tests/web/clients/.venv): it pins click 7 and
#   httpx 0.16, which slaledger's own .venv cannot hold.
#
# What cannot be done is said in one line; those tests are then skipped (they fail under
# CI=true). This script itself never fails.
set -u
cd "$(dirname "$0")/../tests/web/clients" || exit 0
PYTHON="${PYTHON:-python3}"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo -n "$@"
  else
    return 1
  fi
}

if ! command -v npm >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    nodejs npm >/dev/null 2>&1 && echo "test clients: installed Debian's nodejs and npm"
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "test clients: npm is missing and could not be installed; the npm client tests are skipped"
elif [ ! -f node_modules/.installed ] || [ package-lock.json -nt node_modules/.installed ]; then
  if npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null 2>&1; then
    touch node_modules/.installed
  else
    echo "test clients: npm ci failed in tests/web/clients; the npm client tests are skipped"
  fi
fi

if [ ! -f .venv/.installed ] || [ requirements.txt -nt .venv/.installed ]; then
  if "$PYTHON" -m venv .venv >/dev/null 2>&1 &&
    .venv/bin/python -m pip install --quiet -r requirements.txt >/dev/null 2>&1; then
    touch .venv/.installed
  else
    echo "test clients: statuscheck could not be installed; its test is skipped"
  fi
fi
exit 0
