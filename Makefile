# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The daemon on the example plan: reminders go to the console (no channel is configured).
# It first shows what is coming; Ctrl-C stops it. Its state stays in the checkout (.state/),
# never in your real ~/.local/state/mgremind.
run: export STATE_DIRECTORY := $(CURDIR)/.state
run: $(STAMP)
	$(BIN)/mgremind -c config.example.toml next --count 3
	exec $(BIN)/mgremind -c config.example.toml run

# The whole suite: lint, types, tests.
test: $(STAMP)
	$(BIN)/ruff check mgremind tests bench
	$(BIN)/ruff format --check mgremind tests bench
	$(BIN)/mypy
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python bench/bench_plan.py
	$(BIN)/python bench/bench_startup.py
	$(BIN)/python bench/bench_daemon.py
	$(BIN)/python bench/bench_age.py
	$(BIN)/python bench/bench_daemon_age.py

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache .pytest_cache .hypothesis
