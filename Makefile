# The two commands in the README: `make run` and `make test`.
.PHONY: setup run test lint bench eval
setup:
	./scripts/setup.sh

run: setup
	.venv/bin/inngang run

test: setup
	./scripts/test.sh

lint:
	.venv/bin/ruff check bot nlu flows tests scripts
	.venv/bin/mypy --strict bot nlu flows

bench: setup
	.venv/bin/python scripts/bench_nlu.py

eval: setup
	.venv/bin/inngang nlu eval
