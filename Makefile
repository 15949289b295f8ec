# The two commands of the README: `make run` and `make test`.
VENV ?= .venv
# The venv's interpreter: the first Python 3.11 below that can make a venv.
# Debian's and Ubuntu's python3.11 is built with profile-guided optimisation, as
# the Docker image's is (docker/Dockerfile); one built from source without it
# (pyenv's default) answers a hook call 10-15 % slower (README, Performance).
# `make PYTHON=/path/to/python3.11 ...` chooses another.
PYTHON ?= $(or $(shell for p in /usr/bin/python3.11 python3.11; do \
	  $$p -c 'import ensurepip, sys; sys.exit(sys.version_info[:2] != (3, 11))' >/dev/null 2>&1 \
	  && { echo $$p; break; }; done),python3)
BIN = $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: install run test bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed

# Local demo: embedded demo patients, client auth off, plain-http FHIR allowed;
# without SO_REUSEPORT, so that a second `make run` fails on the port in use.
run: install
	MBC_CDS_AUTH=off MBC_CDS_DEMO=true MBC_CDS_ALLOW_HTTP_FHIR=true MBC_CDS_REUSE_PORT=false \
	  $(BIN)/mbc-cds serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest -q -p no:cacheprovider

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache
