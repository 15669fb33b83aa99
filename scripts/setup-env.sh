# shellcheck shell=bash
# Shared by scripts/run.sh and scripts/test.sh (sourced, not run):
#   debian_packages PKG-IF-MISSING...   install Debian packages that are missing (root or sudo)
#   make_venv LOCKFILE                  make or refresh .venv from the lock file, with hashes
#
# The virtual environment is made with the SYSTEM Python (/usr/bin/python3 where it exists),
# not whatever python3 comes first on PATH, so a fresh Debian machine and CI take the same path.
# Debian's own python3 refuses `pip install` outside a virtual environment, and `python3 -m venv`
# needs Debian's python3-venv: it is installed when making the environment fails.

VENV="${VENV:-.venv}"

_sudo() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

_apt_updated=""
apt_install() {
  command -v apt-get >/dev/null 2>&1 || {
    echo "Please install these packages with your system's package manager: $*" >&2; return 1; }
  echo "Installing Debian packages: $*"
  if [ -z "$_apt_updated" ]; then _sudo apt-get update -qq; _apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive _sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Pango (and fonts) for the PDF summary; every other Debian package the caller asks for.
debian_packages() {
  local need=() p
  { ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null; } | grep -q 'libpango-1.0' \
    || need+=(libpango-1.0-0 libpangoft2-1.0-0)
  fc-list 2>/dev/null | grep -qi dejavu || need+=(fonts-dejavu-core fontconfig)
  for p in "$@"; do
    case "$p" in
      chromium)      [ -x /usr/bin/chromium ] || need+=(chromium) ;;
      poppler-utils) command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils) ;;
      nginx)         [ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || need+=(nginx) ;;
      npm)           command -v npm >/dev/null 2>&1 || need+=(nodejs npm) ;;
      *)             dpkg -s "$p" >/dev/null 2>&1 || need+=("$p") ;;
    esac
  done
  if ((${#need[@]})); then apt_install "${need[@]}"; fi
}

system_python() {
  if [ -x /usr/bin/python3 ]; then echo /usr/bin/python3; else command -v python3; fi
}

# Make .venv if it is missing, broken or made by another Python; then install the lock file
# with hashes (skipped when the lock has not changed since the last install).
make_venv() {
  local lock="$1" py home
  py="$(system_python)"
  home="$(dirname "$(readlink -f "$py")")"
  if [ -f "$VENV/pyvenv.cfg" ] && ! grep -qx "home = $home" "$VENV/pyvenv.cfg"; then
    echo "$VENV was made by another Python: making it again with $py"; rm -rf "$VENV"
  fi
  if ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
    rm -rf "$VENV"
    if ! "$py" -m venv "$VENV" >/dev/null 2>&1; then
      rm -rf "$VENV"
      local ver; ver="$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
      apt_install python3-venv "python$ver-venv"
      "$py" -m venv "$VENV"
    fi
  fi
  local stamp="$VENV/.installed-$(basename "$lock")" sum
  sum="$(sha256sum "$lock" | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ]; then
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --require-hashes -r "$lock"
    echo "$sum" > "$stamp"
  fi
}

# Install the JavaScript test tools (LHC-Forms, CSIRO's SDC populate) from a package-lock.json,
# skipped when the lock has not changed since the last install.
npm_tools() {
  local dir="$1" stamp sum
  stamp="$dir/node_modules/.installed-lock"
  sum="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ]; then
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
    echo "$sum" > "$stamp"
  fi
}
