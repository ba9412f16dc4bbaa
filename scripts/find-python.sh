#!/usr/bin/env bash
# Print the path of a Python >= 3.12 (Django 6.1 needs it), or explain what is missing.
set -u
candidates=()
[ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
candidates+=(python3.14 python3.13 python3.12)
if command -v pyenv >/dev/null 2>&1; then
  for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.(1[2-9]|[2-9][0-9])(\.|$)' | sort -rV); do
    candidates+=("$(pyenv root)/versions/$v/bin/python3")
  done
fi
candidates+=(python3 python)
for c in "${candidates[@]}"; do
  path=$(command -v "$c" 2>/dev/null) || continue
  # pyenv shims exist for versions that are not selected: ask the interpreter itself
  if "$path" -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
    echo "$path"
    exit 0
  fi
done
echo "error: no Python 3.12 or newer found (Django 6.1 needs it)." >&2
echo "  tried: ${candidates[*]}" >&2
echo "  install one (e.g. 'pyenv install 3.13', or Debian's python3.12/python3.13 with venv)," >&2
echo "  or point PYTHON=/path/to/python3.12 at it." >&2
exit 1
