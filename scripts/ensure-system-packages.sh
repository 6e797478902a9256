#!/usr/bin/env bash
# System packages the tests drive for real: Debian's chromium (browser tests, through Playwright,
# no browser download) and the PostgreSQL server binaries (the DATABASE_URL=postgresql tests).
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "==> installing ${missing[*]} for the tests (first time only)"
if [ "$(id -u)" != 0 ]; then
  echo "error: missing ${missing[*]}; install with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
