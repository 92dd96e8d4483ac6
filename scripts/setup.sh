#!/bin/sh
# Everything capkit needs on a fresh Debian machine with Node 20; safe to run again (it only does what is missing).
set -eu
cd "$(dirname "$0")/.."

PNPM_VERSION=10.34.9
# Debian packages the tests run against: oathtool (OATH cross-check), pcscd + the vsmartcard vpcd driver and
# the PC/SC tools (pcsc_scan, opensc-tool) for the virtual-card integration tests; PostgreSQL (server, and
# pgbench from -contrib) for the cluster store tests, which start their own server in a temporary directory;
# Chromium for the browser tests (Playwright drives /usr/bin/chromium and never downloads a browser); SoftHSM2
# for the PKCS#11 key provider's tests, which make their own token in a temporary directory.
# gcc and libc6-dev build the benchmarks' slow-sync disk (bench/slow-sync.c, preloaded into a PostgreSQL server).
APT_PACKAGES="oathtool pcscd libpcsclite-dev vsmartcard-vpcd pcsc-tools opensc postgresql postgresql-contrib tmux chromium e2fsprogs softhsm2 gcc libc6-dev"

missing=""
for p in $APT_PACKAGES; do
  # "install ok installed" only: a removed package keeps its config and still answers dpkg -s.
  [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing="$missing $p"
done
if [ -n "$missing" ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing Debian packages:$missing" >&2
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# pnpm: corepack on Node 20 cannot verify pnpm's signatures (its keys are outdated), so install it with npm.
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version)" != "$PNPM_VERSION" ]; then
  echo "setup: installing pnpm $PNPM_VERSION" >&2
  npm install -g "pnpm@$PNPM_VERSION" >/dev/null
fi

PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 pnpm install --frozen-lockfile --reporter=silent
