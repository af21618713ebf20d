# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint format install clean lrs translations

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Python 3.11 or newer is needed (found $$($(PYTHON) --version))"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/socle demo

# The LRS peer of the xAPI tests (Node); skipped when Node/npm are absent.
lrs:
	@if command -v npm >/dev/null 2>&1; then \
	  test -d tests/lrs/node_modules/xapi-statements || \
	  (cd tests/lrs && npm ci --no-audit --no-fund --loglevel=error); \
	else echo "npm not found: LRS tests will be skipped"; fi

# PYTEST_ARGS narrows a run, e.g. CI's second pass on PostgreSQL.
test: $(STAMP) lrs
	$(BIN)/python -m pytest -W error $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check lti_tool/domain xapi
	$(BIN)/mypy --strict lti_tool/domain xapi
	$(BIN)/mypy lti_tool
	$(BIN)/socle content lint

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
