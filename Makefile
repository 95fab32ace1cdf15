# Two entry points for a fresh machine: `make crawl` (the main job) and `make test`.
# Each creates the virtualenv it needs first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DB ?= data/elciudadano.db
ARGS ?=
# Python keeps what it compiles (in __pycache__, ignored by git) even where the environment
# says not to: the suite's processes would each compile the project and rewrite every test
# module's asserts again (7 s of CPU a pytest process instead of 3).
export PYTHONDONTWRITEBYTECODE :=

.PHONY: crawl test lint test-wordpress test-browser serve bench demo clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# pywb (the Webrecorder replay server a test replays a WARC export in), in a virtualenv of
# its own (its pins are not the project's): part of the set-up, made once
PYWB := $(VENV)/tools/pywb/bin/wayback
$(PYWB): | $(STAMP)
	$(BIN)/python -m venv $(VENV)/tools/pywb
	$(VENV)/tools/pywb/bin/pip install --quiet 'pywb>=2.8,<3'

# The project's bytecode and pytest's rewritten test modules, made by one process whenever a
# source changed: in a fresh clone the suite's five processes (4 workers, the zygote) had each
# compiled all of it at once (7 s of the first run).
SOURCES := $(wildcard archive/*.py archive/*/*.py archive/*/*/*.py crawler/*.py crawler/*/*.py \
	ciudadano/*.py standin/*.py tests/*.py tests/*/*.py)
COMPILED := $(VENV)/.compiled
$(COMPILED): $(STAMP) $(SOURCES)
	$(BIN)/python -m compileall -q archive crawler ciudadano standin tests
	-$(BIN)/python -m pytest --collect-only -q -p no:playwright -p no:cacheprovider \
	  --ignore=tests/wordpress --ignore=tests/browser >/dev/null
	touch $@

crawl: $(STAMP)
	$(BIN)/ciudadano crawl --db $(DB) $(ARGS)

# The suite in TEST_WORKERS processes at once (pytest-xdist; TEST_WORKERS=0: in this one), a
# test file to one process, so the crawls a file's tests share are made once (loadgroup's
# marks are lost on pytest 9); ARGS go to pytest after these (ARGS="-x -k crawl", "-n 4").
# Four on two cores: a third of the suite's time is tests waiting (on a server's delay, a
# timeout, a signal), which the others fill (measured: 3 -> 72 s, 4 -> 60-65 s, 5 -> 64 s).
# The tests' files go to memory (/dev/shm) where there is one: SQLite's syncs cost nothing.
TEST_WORKERS ?= 4
TEST_TMP ?= $(shell [ -d /dev/shm ] && [ -w /dev/shm ] && echo /dev/shm/ciudadano-tests)
test: $(STAMP) $(PYWB) $(COMPILED)
	$(if $(TEST_TMP),mkdir -p $(TEST_TMP))
	TMPDIR=$(TEST_TMP) $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile \
	  --no-loadscope-reorder -p no:playwright --ignore=tests/wordpress --ignore=tests/browser \
	  $(ARGS)

# ruff's rules (pyproject.toml) and its formatter, both clean; `ruff format .` mends the format
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The crawl against a real WordPress from Debian's packages (installed here when missing; as
# root, as CI runs): MariaDB and PHP's built-in server on 127.0.0.1, started and stopped by
# the tests themselves.
WORDPRESS_PACKAGES := wordpress wordpress-l10n wordpress-theme-twentytwentythree \
	mariadb-server php-cli php-mysql php-xml
test-wordpress: $(STAMP)
	@if ! command -v mariadbd >/dev/null || ! command -v php >/dev/null || \
	    ! test -d /usr/share/wordpress/wp-content/themes/twentytwentythree || \
	    ! test -f /usr/share/wordpress/wp-content/languages/es_CL.mo; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends $(WORDPRESS_PACKAGES); fi
	$(BIN)/python -m pytest tests/wordpress $(ARGS)

# The reading room as a person uses it: Playwright (the test extra) drives Debian's Chromium
# (installed here when missing, as root, as CI runs; Playwright downloads no browser), axe-core
# from npm checks each page (into tests/browser/node/, gitignored). Screenshots under
# screenshots/<run time>/.
AXE := tests/browser/node/node_modules/axe-core/axe.min.js
test-browser: $(STAMP)
	@if ! command -v chromium >/dev/null || ! test -f /usr/lib/chromium/locales/es.pak; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends chromium chromium-l10n fonts-dejavu-core; fi
	@if ! test -f $(AXE); then \
	  if ! command -v npm >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends npm; fi; \
	  npm install --silent --no-audit --no-fund --prefix tests/browser/node axe-core@4; fi
	$(BIN)/python -m pytest tests/browser $(ARGS)

serve: $(STAMP)
	$(BIN)/ciudadano serve --db $(DB) $(ARGS)

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m benchmarks $(ARGS)

clean:
	rm -rf $(VENV) *.egg-info

# Offline demo: crawl the local stand-in of the site, then open the result in Datasette.
demo: $(STAMP)
	$(BIN)/python -m standin --port 8000 & site=$$!; sleep 2; \
	$(BIN)/ciudadano crawl --db data/demo.db --base-url http://127.0.0.1:8000 -s AUTOTHROTTLE_ENABLED=False; \
	kill $$site; $(BIN)/ciudadano serve --db data/demo.db
