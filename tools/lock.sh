#!/usr/bin/env bash
# The lock, and the hash-pinned files every install of this repository reads from it.
#
#   bash tools/lock.sh            re-export requirements/ from uv.lock (after editing pyproject.toml: run
#                                 `uv lock` first, or `--upgrade` below)
#   bash tools/lock.sh --upgrade  move uv.lock to the newest releases the floors allow, then re-export
#   bash tools/lock.sh --check    exit 1 when uv.lock or a file in requirements/ is not what it would be now
#
# pyproject.toml (and refstack/pyproject.toml) stay the packaging truth: floors for a user's
# `pip install lgtm-smoke`. uv.lock is what the tests passed with; requirements/ are its exports:
#   install.txt   the installer alone (uv): bootstrapped with pip --require-hashes
#   suite.txt     the suite alone: what the smoke gate and the canary image install
#   dev.txt       the suite with its test tools and the reference stack: .ci/run, the demo, the tests
#   checkov.txt   checkov in its own venv (.ci/install-infra-tools.sh), compiled from checkov.in
# Needs uv (requirements/install.txt) and PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
UV="${UV:-uv}"

HEADER="# Made by tools/lock.sh (do not edit): install with --require-hashes."

export_one() { # $1: output file, the rest: what to export from uv.lock
  local out="$1"; shift
  { echo "$HEADER"; "$UV" export --frozen --no-emit-workspace --no-default-groups --no-header --quiet "$@"; } >"$out"
}

export_all() { # $1: output folder
  export_one "$1/install.txt" --only-group installer
  export_one "$1/suite.txt" --package lgtm-smoke --group installer --group build
  export_one "$1/dev.txt" --all-packages --extra test --group installer --group build
  "$UV" pip compile requirements/checkov.in --universal --python-version 3.11 --generate-hashes --quiet \
    --no-header -o "$1/checkov.txt" ${CHECKOV_UPGRADE:+--upgrade}
}

case "${1:-}" in
  --check)
    "$UV" lock --check --quiet || { echo "uv.lock does not match pyproject.toml: run bash tools/lock.sh after uv lock" >&2; exit 1; }
    tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
    cp requirements/checkov.txt "$tmp/checkov.txt"  # compiled against itself: --check never upgrades
    export_all "$tmp"
    stale=0
    for f in install suite dev checkov; do
      cmp -s "$tmp/$f.txt" "requirements/$f.txt" || { echo "requirements/$f.txt is stale: run bash tools/lock.sh" >&2; stale=1; }
    done
    exit "$stale"
    ;;
  --upgrade) "$UV" lock --upgrade; CHECKOV_UPGRADE=1 export_all requirements ;;
  "") export_all requirements ;;
  *) echo "usage: bash tools/lock.sh [--upgrade|--check]" >&2; exit 4 ;;
esac
