# The two set-up commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app directory
STAMP := $(VENV)/.installed
# npm writes this file on every install: a make target newer than package-lock.json.
NODE_STAMP := node_modules/.package-lock.json

.PHONY: run test install lint browser-deps translations messages clean bench

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) translations $(NODE_STAMP)

# axe-core for the accessibility browser tests. Without npm the tests that need it are skipped
# (REQUIRE_BROWSER=1, as in CI, makes that a failure), so a machine without Node can still test.
$(NODE_STAMP): package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund; \
	else echo "npm not found: skipping axe-core (the accessibility browser tests will be skipped)"; fi

translations: $(STAMP)
	@if ls directory/translations/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
		$(BIN)/pybabel -q compile -d directory/translations; fi

# Interface text: the msgids are the bokmål source; nn and en are catalogs under
# directory/translations. `make messages` extracts the text from the code and templates and
# updates both catalogs; translate what is new or fuzzy, then `make translations` compiles.
# The template (messages.pot) and the compiled .mo files are generated, not committed.
MESSAGES_POT := directory/translations/messages.pot
BABEL_KEYWORDS := -k _l -k lazy_gettext -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2

messages: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg $(BABEL_KEYWORDS) -c TRANSLATORS: \
		--add-location=file --sort-by-file --project=directory --version=0.1.0 \
		--ignore-dirs=".* ._ node_modules instance" -o $(MESSAGES_POT) .
	$(BIN)/pybabel update -i $(MESSAGES_POT) -d directory/translations -w 76 --ignore-obsolete

run: install
	$(FLASK) init-db
	$(FLASK) seed-demo --if-empty
	$(FLASK) reindex
	$(FLASK) run --host 127.0.0.1 --port 5000

test: install
	$(BIN)/pytest

# ruff's rules include its S rules (bandit's security checks, see pyproject.toml); pip-audit
# looks up the installed packages' known vulnerabilities and needs the network: unreachable, it
# says so and lint passes (tools/audit_dependencies.py). Not part of `make test`.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python tools/audit_dependencies.py

# Debian's Chromium for the browser tests (needs root; CI runs it).
browser-deps:
	@test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

# The scale_bench line needs the PostgreSQL at 127.0.0.1:5432 (it recreates the database
# bench_scale): 100,000 activities, Whoosh and the PostgreSQL backend side by side, in process and
# over HTTP. floor.py: our pages as a percentage of a bare Flask page (uses wrk when installed).
bench: install
	$(BIN)/python bench/search_bench.py 10000
	$(BIN)/python bench/http_bench.py
	$(BIN)/python bench/export_bench.py --requests 200
	$(BIN)/python bench/distance_bench.py --activities 10000
	$(BIN)/python bench/scale_bench.py --activities 100000 --backends whoosh,postgres
	$(BIN)/python bench/floor.py --activities 10000

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache node_modules
