# The two commands a newcomer needs: `make demo` and `make test`.
# PYTHON picks the interpreter of a new .venv (`PYTHON=python3.12 make demo`; after
# `make clean` when .venv exists); PYTEST_ARGS narrows `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo demo-reset test lint format install clean lrs translations stack

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Python 3.11 or newer is needed (found $$($(PYTHON) --version))"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The demo's local LRS comes from `make lrs` when Node is installed; without it (or if npm
# cannot install it) the demo runs all the same, its statements waiting in the outbox.
demo: $(STAMP)
	@$(MAKE) --no-print-directory lrs || \
	  echo "the local LRS could not be installed (see above): the demo runs without it"
	$(BIN)/socle demo

# Forget the demo's state (SQLite database, secret key, demo LMS and LRS data): the next
# `make demo` starts afresh. Stop the demo first (Ctrl-C).
demo-reset:
	rm -rf instance

# The LRS of the demo and of the xAPI tests: Learning Locker's statement service from npm,
# run with Node; and the OpenID provider of the admin sign-in tests (oidc-provider). Without Node/npm, one line says what is missing and what still works.
lrs:
	@if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then \
	  test -f tests/lrs/node_modules/xapi-statements/dist/server.js || \
	  (cd tests/lrs && npm ci --no-audit --no-fund --loglevel=error); \
	  test -f tests/oidc/node_modules/oidc-provider/package.json || \
	  (cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error); \
	else echo "Node.js/npm not found: no local LRS (the demo keeps its xAPI statements in" \
	  "the outbox; the LRS tests are skipped); everything else works"; fi

# Random order (pytest-randomly; the seed is printed, `PYTEST_ARGS=--randomly-seed=N`
# replays an order, `-p no:randomly` keeps the file order). PYTEST_ARGS narrows a run, e.g.
# `make test PYTEST_ARGS=tests/xapi` or CI's second pass on PostgreSQL.
test: $(STAMP) lrs
	$(BIN)/python -m pytest -W error $(PYTEST_ARGS)

# The production services of docker/compose.yaml started natively (no Docker): two tool
# nodes, the background worker, the local PostgreSQL, the local LRS, and Caddy when installed.
stack: $(STAMP) lrs
	$(BIN)/python docker/native_stack.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check lti_tool/domain xapi
	$(BIN)/mypy --strict lti_tool/domain xapi
	$(BIN)/mypy lti_tool
	$(BIN)/socle content lint
	$(BIN)/socle content audit --strict --quiet

format: $(STAMP)
	$(BIN)/ruff format lti_tool/domain xapi
	$(BIN)/ruff check --fix .

# Extract the UI's French strings, merge them into each catalogue (English), compile the .mo
# files (committed, so an install needs no build step). New strings come out untranslated,
# never guessed: tests/web/test_i18n.py fails until each has its translation.
translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --add-comments=TRANSLATORS: \
	  --project=Socle --version=0.1.0 --copyright-holder="Socle" \
	  -o lti_tool/translations/messages.pot lti_tool
	$(BIN)/pybabel update -i lti_tool/translations/messages.pot -d lti_tool/translations \
	  --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile -d lti_tool/translations --statistics

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
