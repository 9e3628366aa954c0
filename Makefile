# basin: the make-driven pipeline. `make test` and `make demo` are all the set-up there is.
SHELL := /bin/bash

SWIFT        ?= swift
CONFIG       ?= release
BIN          := .build/$(CONFIG)/basin
SUDO         := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
DEBIAN_PKGS  := pkg-config libopenblas-dev libhdf5-dev hdf5-tools libpng-dev zlib1g-dev \
                libcairo2-dev fonts-dejavu-core dataset-fashion-mnist
THREADS      ?= 2

# Demo configuration (the pipeline issue extends this into the whole study).
DEMO_MODEL   ?= cnn
DEMO_EPOCHS  ?= 4
DEMO_LR      ?= 0.05
DEMO_SEED    ?= 0

.PHONY: all deps build test bench demo clean

all: build

## deps: install the Debian packages that are missing (apt-get, as root or through sudo).
deps:
	@missing=""; for p in $(DEBIAN_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing$$missing"; \
	  $(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y $$missing; \
	else echo "make deps: all Debian packages present"; fi

## build: the release binary .build/release/basin.
build: deps
	$(SWIFT) build -c $(CONFIG)

## test: the whole test suite (unit tests, gradient checks, golden values, CLI tests).
test: deps
	$(SWIFT) build -c $(CONFIG)
	BASIN_BIN=$(abspath $(BIN)) $(SWIFT) test -c $(CONFIG)

## bench: the workloads of ../shared/bench/WORKLOADS.md, one line per figure.
bench: build
	$(BIN) bench W5 --threads $(THREADS)
	for m in mlp cnn resnet20; do $(BIN) bench W1 $$m --threads $(THREADS) || exit 1; done
	for m in mlp cnn resnet20; do $(BIN) bench W2 $$m --threads $(THREADS) || exit 1; done
	$(BIN) bench W3 --threads $(THREADS)
	$(BIN) bench W4 --threads $(THREADS)

## demo: train the default model on all ten Fashion-MNIST classes and print test accuracy.
demo: build
	$(BIN) train --model $(DEMO_MODEL) --epochs $(DEMO_EPOCHS) --lr $(DEMO_LR) --seed $(DEMO_SEED) \
	  --threads $(THREADS)

clean:
	rm -rf .build
