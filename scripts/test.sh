#!/usr/bin/env bash
# Install what the tests need on a fresh Debian machine (as root, or with sudo) and run every
# test: engine, rule files, scenarios, HTTP and fuzzing (also through a real gunicorn), nginx in
# front of two app processes, the Containerfile and Kubernetes linters, and real headless
# Chromium with axe. Extra arguments go to pytest, e.g.  bash scripts/test.sh -k api
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup-env.sh

debian_packages chromium poppler-utils nginx npm
make_venv requirements-dev.txt
if [ -f pyproject.toml ]; then .venv/bin/python -m pip install -q --no-deps -e .; fi
npm_tools tests/js
PYTHON=.venv/bin/python bash scripts/compile_translations.sh >/dev/null
exec .venv/bin/python -m pytest "$@"
