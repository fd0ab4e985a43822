# chainrule: `make run` installs everything and serves http://127.0.0.1:5000,
# `make test` installs everything and runs the tests. Both work on a fresh Debian
# machine with Python 3.11 as root (system packages come from apt when missing).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
# Pinned so pip takes the CPU build; any torch >= 2.2 works with chainrule.
TORCH_SPEC ?= torch==2.13.0
HOST ?= 127.0.0.1
PORT ?= 5000
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_INSTALL := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends

.PHONY: run serve-lan test install install-test system-deps system-deps-test bench clean

run: install
	$(BIN)/chainrule serve --host $(HOST) --port $(PORT)

# A classroom server: waitress on every network interface (students join by the LAN address).
serve-lan: install
	$(BIN)/chainrule serve --production --host 0.0.0.0 --port $(PORT)

# pytest's exit code 5 (no test collected) counts as a failure.
test: install-test
	@$(BIN)/python -m pytest -q $(PYTEST_ARGS); status=$$?; \
	  if [ $$status -eq 5 ]; then echo "no tests were collected" >&2; exit 1; fi; exit $$status

bench: install-test
	$(BIN)/python bench/benchmark.py

install: system-deps $(VENV)/.installed-app

install-test: system-deps-test $(VENV)/.installed-test

# bubblewrap walls each worker in (webapp/sandbox/isolation.py); without it chainrule
# serves only one person on loopback.
system-deps: .apt-updated
	@command -v dot >/dev/null || $(APT_INSTALL) graphviz
	@command -v bwrap >/dev/null || $(APT_INSTALL) bubblewrap

system-deps-test: system-deps
	@command -v chromium >/dev/null || $(APT_INSTALL) chromium fonts-dejavu-core
	@command -v redis-server >/dev/null || $(APT_INSTALL) redis-server

# apt-get update once, and only when something is missing.
.apt-updated:
	@if ! command -v dot >/dev/null || ! command -v chromium >/dev/null || ! command -v bwrap >/dev/null \
	    || ! command -v redis-server >/dev/null \
	    || ! $(PYTHON) -c 'import ensurepip' 2>/dev/null; then $(SUDO) apt-get update -q; fi
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || $(APT_INSTALL) python3-venv
	@touch $@

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed-app: $(VENV)/bin/python pyproject.toml
	$(BIN)/pip install -q "$(TORCH_SPEC)"
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed-app
	$(BIN)/pip install -q -e ".[test]"
	@touch $@

clean:
	rm -rf $(VENV) .apt-updated build *.egg-info .pytest_cache
