#!/usr/bin/env bash
# What the tests need besides .venv, made ready where this machine allows; `make test` (and so
# .ci/run) runs it first. Idempotent, and silent when everything is already there.
#
# - PostgreSQL on 127.0.0.1:5432 (database `test`, user `postgres`) for the tests that run on
#   both backends: the machine's cluster is started when it is installed but down.
# - Debian's chromium at /usr/bin/chromium for the browser tests (Playwright drives it; no
#   browser is ever downloaded): installed with apt-get when missing, as root or with
#   password-less sudo.
#
# What cannot be done is said in one line; those tests are then skipped (they fail under
# CI=true). This script itself never fails.
set -u

CHROMIUM="${SLALEDGER_CHROMIUM:-/usr/bin/chromium}"
PG_ETC="${SLALEDGER_PG_ETC:-/etc/postgresql}"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo -n "$@"
  else
    return 1
  fi
}

if ! command -v pg_isready >/dev/null 2>&1; then
  echo "test services: PostgreSQL is not installed; its tests are skipped (apt-get install postgresql)"
elif ! pg_isready -q -h 127.0.0.1 -p 5432; then
  version="$(ls "$PG_ETC" 2>/dev/null | sort -V | tail -n 1)"
  if [ -n "$version" ] && command -v pg_ctlcluster >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$version" main start >/dev/null 2>&1 ||
      as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start >/dev/null 2>&1 || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      pg_isready -q -h 127.0.0.1 -p 5432 && break
      sleep 0.5
    done
  fi
  if pg_isready -q -h 127.0.0.1 -p 5432; then
    echo "test services: started PostgreSQL $version"
  else
    echo "test services: PostgreSQL does not answer on 127.0.0.1:5432 and could not be started; its tests are skipped"
  fi
fi

if [ ! -x "$CHROMIUM" ]; then
  if command -v apt-get >/dev/null 2>&1 &&
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 &&
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 &&
    [ -x "$CHROMIUM" ]; then
    echo "test services: installed Debian's chromium"
  else
    echo "test services: no $CHROMIUM and it cannot be installed here (needs apt-get as root or password-less sudo); the browser tests are skipped"
  fi
fi
exit 0
