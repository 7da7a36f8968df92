# Customer hub: the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
HOST   ?= 127.0.0.1
PORT   ?= 8000
PYTEST_ARGS ?=

.PHONY: install run test lint format migrate demo schema clean bench bench-events bench-webhooks bench-identity

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py demo

run: migrate
	$(BIN)/python manage.py demo
	@echo ""
	@echo "  Customer hub is starting on http://$(HOST):$(PORT)/"
	@echo "  Admin:     http://$(HOST):$(PORT)/admin/   (log in as acme-admin, password above)"
	@echo "  API docs:  http://$(HOST):$(PORT)/api/docs/   (Redoc: /api/redoc/, schema: /api/schema/)"
	@echo "  Worker:    manage.py hub_worker (webhook deliveries, background tasks), stopped with the server"
	@echo ""
	@$(BIN)/python manage.py hub_worker --threads 2 & WORKER=$$!; \
	trap 'kill $$WORKER 2>/dev/null; wait $$WORKER' EXIT INT TERM; \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

schema: install
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file docs/openapi.yaml

# Benchmark (docs/performance.md): PostgreSQL only. DATABASE_URL when it is PostgreSQL, else
# postgres://postgres@127.0.0.1:5432/hub_bench; the data (1,000,000 customers) is generated once.
BENCH_DATABASE_URL ?= $(if $(filter postgres%,$(DATABASE_URL)),$(DATABASE_URL),postgres://postgres@127.0.0.1:5432/hub_bench)
BENCH_ARGS ?=

bench: install
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		(apt-get install -y -qq wrk >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq wrk)); } \
		|| echo "wrk not available: the benchmark uses its Python load generator"
	DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python -m tests.bench.run $(BENCH_ARGS)
	@$(MAKE) --no-print-directory bench-events
	@$(MAKE) --no-print-directory bench-identity

# Issue 21's figures (docs/performance.md, "Change events" and "Webhook delivery"), on a
# database of their own: the outbox's cost on find-or-create, the worker's delivery rate to a
# local receiver, and commit-to-receipt latency under 100 writes/s for a minute.
BENCH_EVENTS_DATABASE_URL ?= $(BENCH_DATABASE_URL)_events
bench-events: install
	DATABASE_URL=$(BENCH_EVENTS_DATABASE_URL) $(BIN)/python -m tests.bench.outbox
	DATABASE_URL=$(BENCH_EVENTS_DATABASE_URL) $(BIN)/python -m tests.bench.webhooks
	DATABASE_URL=$(BENCH_EVENTS_DATABASE_URL) $(BIN)/python -m tests.bench.webhooks --rate 100 --duration 60

# Issue 20's figures (docs/performance.md, "Identity (issue 20)"), on the million customers:
# merging the customer with 1,000 orders and 50 addresses, find-or-create through the
# identifiers against a checkout of the commit before issue 20 (prepared by the script, on
# <database>_before), and the duplicate candidates.
BENCH_IDENTITY_DATABASE_URL ?= $(BENCH_DATABASE_URL)
BENCH_IDENTITY_ARGS ?=
bench-identity: install
	DATABASE_URL=$(BENCH_IDENTITY_DATABASE_URL) $(BIN)/python -m tests.bench.identity $(BENCH_IDENTITY_ARGS)
	DATABASE_URL=$(BENCH_IDENTITY_DATABASE_URL) $(BIN)/python -m tests.bench.duplicates

# Webhook delivery alone, with its own options (tests/bench/webhooks.py --help).
bench-webhooks: install
	DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python -m tests.bench.webhooks $(BENCH_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* staticfiles
