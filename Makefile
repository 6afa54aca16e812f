# Two commands matter (see README): `make demo` and `make test`. Both create .venv.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test install browser fonts lint test-sqlite test-postgresql bench bench-smoke docs crash audit-deps translations clean

install:
	@scripts/bootstrap.sh

demo: install fonts
	$(VENV)/bin/onboarding demo

browser:
	@scripts/ensure-chromium.sh

fonts:
	@scripts/ensure-fonts.sh

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

test: install browser fonts lint
	ONBOARDING_TEST_DB=sqlite $(VENV)/bin/pytest -n 2 --dist loadgroup -p no:cacheprovider
	ONBOARDING_TEST_DB=postgresql $(VENV)/bin/pytest -n 2 --dist loadgroup -p no:cacheprovider
	$(VENV)/bin/python bench/run.py --smoke

test-sqlite: install
	ONBOARDING_TEST_DB=sqlite $(VENV)/bin/pytest

test-postgresql: install
	ONBOARDING_TEST_DB=postgresql $(VENV)/bin/pytest

bench: install
	@scripts/ensure-wrk.sh || true
	$(VENV)/bin/python bench/run.py

docs: install browser
	$(VENV)/bin/python scripts/screenshots.py

translations: install
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -o onboarding/translations/messages.pot .
	$(VENV)/bin/pybabel update -i onboarding/translations/messages.pot -d onboarding/translations
	$(VENV)/bin/pybabel compile -d onboarding/translations

audit-deps: install
	$(VENV)/bin/pip install -q pip-audit && $(VENV)/bin/pip-audit

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
