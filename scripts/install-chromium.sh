#!/usr/bin/env bash
# Installs Debian's Chromium for the dashboard's browser tests (test/web/), the way
# scripts/with-postgres.sh installs PostgreSQL: only when it is missing, and only as root. Playwright's
# own browser download does not work here; playwright-core drives this system Chromium instead.
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "Chromium is not installed and this is not root: apt-get install -y chromium" >&2
  exit 1
fi
echo "Installing Chromium (Debian package)..." >&2
export DEBIAN_FRONTEND=noninteractive
timeout 300 apt-get update -qq
timeout 900 apt-get install -y -qq chromium >/dev/null
chromium --version >&2
