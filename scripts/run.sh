#!/usr/bin/env bash
# Install the app into .venv (from the lock file, with hashes) and serve it on
# http://127.0.0.1:5000 with Flask's development server. For production see the README's
# "Running in production" (gunicorn behind nginx, deploy/): `bash scripts/run.sh --install-only`
# makes .venv and stops.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup-env.sh

debian_packages
make_venv requirements.txt
PYTHON=.venv/bin/python bash scripts/compile_translations.sh >/dev/null
if [ "${1:-}" = "--install-only" ]; then exit 0; fi   # e.g. before running gunicorn instead
# Each run gets its own key unless one is given (a restart then voids open forms' CSRF tokens).
export SECRET_KEY="${SECRET_KEY:-$(.venv/bin/python -c 'import secrets; print(secrets.token_hex(32))')}"
exec .venv/bin/flask --app app run "$@"
