# Two commands are all a fresh clone needs: `make demo` and `make test`.
# Both create the virtual environment, install symdtd into it and check that
# Graphviz's `dot` program is there (installing Debian's package as root).
VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed-core

.PHONY: test test-slow lint demo docs bench dot clean extras

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test,docs]"
	touch $@

dot:
	@if ! command -v dot >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Graphviz 'dot' not found: installing Debian's graphviz package"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null; \
	  else \
	    echo "Graphviz's 'dot' program is missing. Install it, then run make again:"; \
	    echo "  Debian/Ubuntu: sudo apt-get install graphviz"; \
	    echo "  macOS:         brew install graphviz"; \
	    exit 1; \
	  fi; \
	fi

# optional extras (scikit-learn, PyTorch, ipywidgets, Pillow, Dask) for the importer, slider, picture and selection tests; CI installs them
extras: $(STAMP)
	$(PY) -m pip install --quiet -e ".[sklearn,torch,widgets,images,dask]"

# ruff, configured in pyproject.toml; `make test` runs it first
lint: $(STAMP)
	$(PY) -m ruff check symdtd tests benchmarks docs/conf.py

test: $(STAMP) dot lint
	$(PY) -m pytest -q -m "not slow"

# the long profiles (the verdict audit's full sweep); .ci/run runs them after `make test`
test-slow: $(STAMP) dot
	$(PY) -m pytest -q -m slow -p no:cacheprovider tests

demo: $(STAMP) dot
	$(VENV)/bin/symdtd demo -o demo-output

docs: $(STAMP) dot
	$(PY) -m sphinx -W -q -b html docs docs/_build/html

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) demo-output docs/_build .pytest_cache
