#!/usr/bin/env bash
# The browser tests drive Debian's Chromium with Playwright (no browser download): install it once.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
echo "==> installing Debian's chromium for the browser tests (first time only)"
if [ "$(id -u)" != 0 ]; then
  echo "error: /usr/bin/chromium is missing; install it with: sudo apt-get install chromium" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
/usr/bin/chromium --version
