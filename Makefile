# Set-up from nothing, then the pipeline or the tests. `make repro` and `make test` are the
# README's two commands; both create the venv and install the data set when needed, and
# `make test` Chromium.
# PYTHON: any Python 3.11-3.13 to build the venv with. TENSORFLOW: cpu (the default) or gpu,
# the extra of pyproject.toml to install. Changing either needs `rm -rf .venv` first.
# TEST_WORKERS: the processes `make test` runs the tests in (pytest-xdist; 0 for one process).
PYTHON ?= python3
TENSORFLOW ?= cpu
TEST_WORKERS ?= 2
UV_VERSION := 0.13.9
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
DATASET_DIR := /usr/share/datasets/fashion-mnist
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: setup dataset chromium repro test benchmark scale docs

setup: $(INSTALLED)

# uv installs the pinned packages faster than pip (it downloads in parallel); where it
# cannot (it reads no pip.conf, so a private index is pip's alone), pip installs the same.
$(INSTALLED): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -c requirements.lock -e '.[test,$(TENSORFLOW)]' \
		|| $(BIN)/pip install --quiet -c requirements.lock -e '.[test,$(TENSORFLOW)]'
	touch $@

# Debian's package where apt is present; elsewhere the fetch stage downloads the files.
dataset:
	@if [ ! -d $(DATASET_DIR) ] && command -v apt-get >/dev/null; then \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq dataset-fashion-mnist; \
	fi

# Debian's Chromium, in which tests/pipeline/test_offline_plots.py opens the page of `dvc plots show`.
chromium:
	@if ! command -v chromium >/dev/null && command -v apt-get >/dev/null; then \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; \
	fi

repro: setup dataset
	dvc repro

# Whole modules go to a worker, in the order collected (tests/conftest.py puts the end-to-end
# module first), so a module's fixtures, such as its tiny `dvc repro`, are built once.
test: setup dataset chromium
	pytest -ra -n $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder

# The measured figures of README.md, docs/ and benchmarks/results/*.md, rewritten from the results
# files (benchmark pages from their JSON, then every `<!--fig ...-->` marker; docs/figures.py).
# `make test` does not run it: tests/test_docs.py fails, naming page and line, until it is run.
docs: setup
	python benchmarks/seeds.py --render
	python benchmarks/compare_machines.py > /dev/null
	python docs/figures.py

# What benchmarks/results/default.{json,md} come from: the committed params over five seeds,
# held out and all 70k images together, and clusters of free sizes as an ablation (the time it
# took is in docs/benchmarks.md). BENCHMARK_CACHE: a DVC cache kept between benchmarks, which restores
# encode and the clusterers of seeds an earlier benchmark ran (see seeds.py --cache).
BENCHMARK_CACHE ?=
benchmark: setup dataset
	python benchmarks/seeds.py --name default --seeds 0 1 2 3 4 --variant default \
		--variant "free_sizes:cluster_gmm.cluster_sizes=free;cluster_kmeans.cluster_sizes=free" \
		--all-images default $(if $(BENCHMARK_CACHE),--cache $(BENCHMARK_CACHE))
	$(MAKE) docs

# What benchmarks/results/scale.{json,md} and docs/scale/scale.png come from: the pipeline on
# 8,750 to 280,000 images, time and memory per stage (docs/scale.md says how long it takes).
# SCALE_DIR keeps each size's project: run again, only the stages whose code changed rerun.
SCALE_DIR ?= /tmp/fashion-scale
scale: setup dataset chromium
	dvc repro fetch
	python benchmarks/scale.py --workdir $(SCALE_DIR)
	$(MAKE) docs
