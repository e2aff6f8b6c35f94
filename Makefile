# The two commands in the README: `make run` and `make test`.
.PHONY: setup run test lint bench bench-nlu eval
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
# PostgreSQL when INNGANG_BENCH_POSTGRES_URL is set; BENCH_ARGS="--clients 1,8 --seconds 20".
bench: setup
	.venv/bin/python scripts/bench_e2e.py $(BENCH_ARGS)
	@if [ -n "$$INNGANG_BENCH_POSTGRES_URL" ]; then \
		.venv/bin/python scripts/bench_e2e.py --database-url "$$INNGANG_BENCH_POSTGRES_URL" $(BENCH_ARGS); \
	fi

# The understanding step alone against bare parse (sequential, one client).
bench-nlu: setup
	.venv/bin/python scripts/bench_nlu.py

eval: setup
	.venv/bin/inngang nlu eval
