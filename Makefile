# Coterie developer commands. `make run` and `make test` do all set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
VENDOR := src/coterie/web/static/vendor

.PHONY: run test test-deep fuzz lint fmt typecheck docs install assets tryton migrate demo lock bench clean

run: install assets ## create .venv, install, migrate, load the demo network if empty, serve :8000 with a job worker
	$(BIN)/coterie serve --migrate --demo-if-empty --with-worker

install: $(VENV)/.installed

$(VENV)/.installed: requirements-dev.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

assets: $(VENDOR)/.installed

$(VENDOR)/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx.min.js
	mkdir -p $(VENDOR)/swagger-ui
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css $(VENDOR)/swagger-ui/
	cp node_modules/sortablejs/Sortable.min.js $(VENDOR)/sortable.min.js
	cp node_modules/cytoscape/dist/cytoscape.min.js $(VENDOR)/cytoscape.min.js
	cp node_modules/chart.js/dist/chart.umd.min.js $(VENDOR)/chart.umd.min.js
	touch $@

# Tryton 8.2, the real CRM the sync tests and benchmark run (tests/fixtures/tryton_peer.py): its
# own virtualenv, so it never mixes with Coterie's dependencies
TRYTON_VENV := .venv-tryton

tryton: $(TRYTON_VENV)/.installed

$(TRYTON_VENV)/.installed: requirements-tryton.lock
	test -x $(TRYTON_VENV)/bin/python || $(PYTHON) -m venv $(TRYTON_VENV)
	$(TRYTON_VENV)/bin/python -m pip install --quiet -r requirements-tryton.lock
	touch $@

lint: install ## ruff (lint + format check), mypy --strict on src/, bench/ and docs/hooks/, the import layers (lint-imports)
	$(BIN)/ruff check src bench tests docs/hooks
	$(BIN)/ruff format --check src bench tests docs/hooks
	$(BIN)/mypy
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

fmt: install
	$(BIN)/ruff check --fix src bench tests docs/hooks
	$(BIN)/ruff format src bench tests docs/hooks

# then the date-sensitive tests (marker `clock`) again on SQLite with the clock a year ahead
test: install assets tryton lint ## lint, type-check, the docs site (strict), the whole suite on SQLite and PostgreSQL
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet
	$(BIN)/python -m pytest -n 2 --dist loadgroup
	COTERIE_TEST_CLOCK_SHIFT_DAYS=365 COTERIE_TEST_DATABASES=sqlite \
		$(BIN)/python -m pytest -n 2 --dist loadgroup -m clock -q

FUZZ_EXAMPLES ?= 200

fuzz: install assets ## schemathesis over every API operation: valid and invalid data, many examples
	COTERIE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) COTERIE_FUZZ_NEGATIVE=1 \
		$(BIN)/python -m pytest tests/test_api_fuzz.py -p no:cacheprovider

test-deep: install assets ## the suite with the thorough Hypothesis profile
	HYPOTHESIS_PROFILE=deep $(BIN)/python -m pytest -n 2 --dist loadgroup

docs: install ## the documentation site (MkDocs, Material theme) into site/
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

migrate: install
	$(BIN)/coterie db upgrade

demo: install
	$(BIN)/coterie demo load

SCALE ?= smoke

bench: install tryton ## benchmarks against baselines (+ HTTP, load test, growth curves), then the outbox: SCALE=smoke|small|medium|large, BENCH_DATABASE_URL=...
	$(BIN)/python -m bench run --scale $(SCALE) $(if $(BENCH_DATABASE_URL),--database-url $(BENCH_DATABASE_URL))
	$(BIN)/python -m bench outbox $(if $(BENCH_DATABASE_URL),--database-url $(BENCH_DATABASE_URL))
	$(BIN)/python -m bench sync $(if $(BENCH_DATABASE_URL),--database-url $(BENCH_DATABASE_URL))

lock: install ## re-pin dependencies after editing pyproject.toml
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links --extra dev -o requirements-dev.lock pyproject.toml

clean:
	rm -rf $(VENV) $(TRYTON_VENV) .cache/tryton node_modules $(VENDOR) .mypy_cache .ruff_cache .pytest_cache site
