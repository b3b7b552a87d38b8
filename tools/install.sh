#!/usr/bin/env bash
# Installs this repository from the lock, hash-checked, into one Python environment:
#
#   bash tools/install.sh suite PYTHON   the suite alone (requirements/suite.txt): the smoke gate, the canary image
#   bash tools/install.sh dev PYTHON     + its test tools and the reference stack, editable (requirements/dev.txt):
#                                        .ci/run, the demo, the deploy workflows' preflight
#
# PYTHON is the interpreter whose environment receives it (a venv's, or a CI runner's own). The
# installer (uv) comes first, with that interpreter's pip and --require-hashes; then everything
# else (the build backend included) with uv, --require-hashes; then the project itself with
# --no-deps --no-build-isolation, so nothing is resolved or fetched that the lock does not name.
# `dev` syncs: what the lock does not name is removed (the environment is exactly what was tested).
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-}" py="${2:-}"
case "$what" in suite | dev) ;; *) echo "usage: bash tools/install.sh suite|dev PYTHON" >&2; exit 4 ;; esac
[ -n "$py" ] && [ -x "$(command -v "$py")" ] || { echo "tools/install.sh: no Python at '${py}'" >&2; exit 4; }
py="$(command -v "$py")"
run() { echo "tools/install.sh: $*" >&2; "$@"; }  # each install said, so a log shows what was installed how
uv="$(dirname "$py")/uv"
locked_uv="$(grep -oE '^uv==[^ ]+' requirements/install.txt)"
if ! [ -x "$uv" ] || [ "uv $("$uv" --version | cut -d' ' -f2)" != "${locked_uv/==/ }" ]; then
  run "$py" -m pip install -q --disable-pip-version-check --no-deps --no-compile --require-hashes -r requirements/install.txt
fi
if [ "$what" = suite ]; then
  run "$uv" pip install --quiet --python "$py" --require-hashes -r requirements/suite.txt
  run "$uv" pip install --quiet --python "$py" --no-deps --no-build-isolation .
else
  run "$uv" pip sync --quiet --python "$py" --require-hashes requirements/dev.txt
  run "$uv" pip install --quiet --python "$py" --no-deps --no-build-isolation -e . -e ./refstack
fi
