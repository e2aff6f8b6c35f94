# The two commands in the README: `make run` and `make test`.
.PHONY: setup run test lint bench bench-nlu eval lock wheel
setup:
	./scripts/setup.sh

run: setup
	.venv/bin/inngang run

test: setup
	./scripts/test.sh

lint:
	.venv/bin/ruff check bot nlu flows tests scripts
	.venv/bin/mypy --strict bot nlu flows

# The whole path a citizen waits on (web chat API) against bare Rasa parse, on SQLite, and on
# PostgreSQL when INNGANG_BENCH_POSTGRES_URL is set (one replica, then two behind nginx);
# BENCH_ARGS="--clients 1,8 --seconds 20".
bench: setup
	.venv/bin/python scripts/bench_e2e.py $(BENCH_ARGS)
	@if [ -n "$$INNGANG_BENCH_POSTGRES_URL" ]; then \
		.venv/bin/python scripts/bench_e2e.py --database-url "$$INNGANG_BENCH_POSTGRES_URL" $(BENCH_ARGS); \
		.venv/bin/python scripts/bench_e2e.py --database-url "$$INNGANG_BENCH_POSTGRES_URL" --replicas 2 $(BENCH_ARGS); \
	fi

# The understanding step alone against bare parse (sequential, one client).
bench-nlu: setup
	.venv/bin/python scripts/bench_nlu.py

eval: setup
	.venv/bin/inngang nlu eval

# The lock files scripts/setup.sh installs from, every package by hash: run after changing a
# dependency in pyproject.toml or nlu/rasa/requirements.in. Versions already locked are kept;
# `make lock UPGRADE=1` moves the unpinned ones to their newest releases.
#   requirements-dev.lock    the application with the postgres, e5 and dev extras (.venv)
#   requirements.lock        the application with the postgres and e5 extras (a server)
#   nlu/rasa/requirements.lock  Rasa and the pipeline components' packages (.venv-rasa)
UV ?= .venv/bin/uv
LOCK = pip compile --quiet --generate-hashes --custom-compile-command "make lock" \
	$(if $(UPGRADE),--upgrade)
lock:
	$(UV) $(LOCK) pyproject.toml --universal --python-version 3.11 \
		--extra postgres --extra e5 --extra dev -o requirements-dev.lock
	$(UV) $(LOCK) pyproject.toml --universal --python-version 3.11 \
		--extra postgres --extra e5 -c requirements-dev.lock -o requirements.lock
	$(UV) --directory nlu/rasa $(LOCK) requirements.in --python-version 3.10 \
		--python-platform x86_64-manylinux_2_28 -o requirements.lock

# The wheel (dist/inngang-*.whl): what `pip install` puts on a server (README). build/ is
# emptied first: setuptools would put files an earlier build left there into the wheel.
PYTHON ?= .venv/bin/python
wheel:
	rm -rf build
	$(PYTHON) -m pip wheel --no-deps --wheel-dir dist .
