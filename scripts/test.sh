#!/usr/bin/env bash
# Run the linters and the whole test suite (the Rasa integration tests included).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check bot nlu flows tests scripts
.venv/bin/mypy --strict bot nlu flows
.venv/bin/python -m pytest -q "$@"
