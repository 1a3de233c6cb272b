# The two README commands. `make site` builds the stakeholder site from the data into _site/;
# `make test` runs the test suite. Both create .venv/ and install the project on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: site test install clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

site: install
	$(BIN)/c2c fetch-data
	$(BIN)/c2c build

test: install
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) artifacts _site site/_build
