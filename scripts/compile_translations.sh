#!/usr/bin/env bash
# Build step: compile the interface's message catalogs (translations/*/LC_MESSAGES/messages.po ->
# .mo). The .mo files are not in git. Run after every checkout or update, before starting the app
# or building a wheel. With --extract it first re-extracts translations/messages.pot from the code
# and templates and merges new strings into every language's .po (for translators).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if [ "${1:-}" = "--extract" ]; then
  "$PY" -m babel.messages.frontend extract -F babel.cfg -k _l --no-location --sort-output \
    --add-comments=Translators: --project=bonemets -o translations/messages.pot .
  "$PY" -m babel.messages.frontend update -i translations/messages.pot -d translations \
    --no-fuzzy-matching --ignore-obsolete --width 100
fi
"$PY" -m babel.messages.frontend compile -d translations --statistics
# Fail the build on an untranslated or fuzzy entry (it would show in English, or out of date).
"$PY" -m bonemets.translations --check
