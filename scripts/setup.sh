#!/usr/bin/env bash
# Create what is missing: .venv (Python 3.11, the project + pinned deps) and .venv-rasa
# (Python 3.10, rasa==3.6.21). Idempotent: each venv carries a stamp with the hash of its
# inputs and is rebuilt only when they change. The Rasa venv holds nothing of this checkout,
# so it lives in a shared cache (keyed by that hash) and .venv-rasa is a link to it: a fresh
# clone on the same machine reuses it instead of reinstalling TensorFlow.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${CRM_CACHE_DIR:-$HOME/.cache/crm-assistant}"
mkdir -p "$CACHE" var

say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

find_python() {  # $1 = minor version, e.g. 3.10
  local v=$1 p
  if p=$(command -v "python$v") && "$p" -c 'import sys' 2>/dev/null; then echo "$p"; return; fi
  if command -v pyenv >/dev/null; then
    p=$(ls -d "$(pyenv root)"/versions/"$v".*/bin/python 2>/dev/null | sort -V | tail -1 || true)
    [ -n "$p" ] && { echo "$p"; return; }
  fi
  echo "python$v not found (install it, e.g. with pyenv)" >&2; exit 1
}

# pip warns once per package about this machine's optional local mirror; keep real errors only.
pip_q() { local pip=$1; shift; "$pip" install -q "$@" 2> >(grep -v "is ignored: it is neither" >&2); }

hash_of() { cat "$@" | sha256sum | cut -c1-16; }

# --- main venv --------------------------------------------------------------------------
PY311=$(find_python 3.11)
MAIN_HASH=$(hash_of pyproject.toml requirements/main.lock.txt <("$PY311" -V))
if [ "$(cat .venv/.crm-stamp 2>/dev/null || true)" != "$MAIN_HASH" ]; then
  say "creating .venv with $("$PY311" -V)"
  rm -rf .venv
  "$PY311" -m venv .venv
  pip_q .venv/bin/pip --upgrade pip
  # torch first and exactly: the CPU build on disk; a range would pull a CUDA build.
  pip_q .venv/bin/pip torch==2.13.0
  pip_q .venv/bin/pip -r requirements/main.lock.txt
  pip_q .venv/bin/pip --no-deps -e '.[dev]'
  echo "$MAIN_HASH" > .venv/.crm-stamp
else
  say ".venv is up to date"
fi

# --- Rasa venv (shared cache, linked) -----------------------------------------------------
PY310=$(find_python 3.10)
RASA_HASH=$(hash_of requirements/rasa.lock.txt <("$PY310" -V))
RASA_DIR="$CACHE/venv-rasa-$RASA_HASH"
if [ ! -f "$RASA_DIR/.crm-stamp" ]; then
  say "creating the Rasa venv with $("$PY310" -V) in $RASA_DIR (a few minutes, once)"
  rm -rf "$RASA_DIR" "$RASA_DIR.tmp"
  "$PY310" -m venv "$RASA_DIR.tmp"
  pip_q "$RASA_DIR.tmp/bin/pip" --upgrade pip setuptools wheel
  pip_q "$RASA_DIR.tmp/bin/pip" -r requirements/rasa.lock.txt
  mv "$RASA_DIR.tmp" "$RASA_DIR"
  # venv scripts hard-code their interpreter path; the move keeps python itself working,
  # and we always call "$RASA_DIR/bin/python -m rasa".
  echo "$RASA_HASH" > "$RASA_DIR/.crm-stamp"
fi
if [ "$(readlink .venv-rasa 2>/dev/null || true)" != "$RASA_DIR" ]; then
  rm -rf .venv-rasa
  ln -s "$RASA_DIR" .venv-rasa
fi
say "ready: .venv ($("$PY311" -V)), .venv-rasa -> $RASA_DIR"

# --- tools the tests drive (make test only) ------------------------------------------------
# Debian's Chromium for the browser tests (never a downloaded browser build) and Debian's
# docker-compose, which validates docker-compose.yml offline (no Docker engine runs here).
if [ "${1:-}" = "--with-browser" ]; then
  missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v docker-compose >/dev/null || missing+=(docker-compose)
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      say "installing Debian's ${missing[*]} for the tests"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
      say "missing for the tests: ${missing[*]} (install Debian's packages of those names)"
      exit 1
    fi
  fi
fi
