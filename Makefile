VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 6379

.PHONY: run test install lint bench suite clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

run: install
	$(VENV)/bin/pykey-server --port $(PORT) --save "" --appendonly no

test: install
	$(VENV)/bin/ruff check -q .
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .

bench: install
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) build *.egg-info
