# Entry points (README): `make test`, `make demo`. Both bootstrap the machine first
# (hack/bootstrap.sh: Debian packages, .venv, .build/collections), which is quick once done.
SHELL := /bin/bash
VENV := $(CURDIR)/.venv
COLLECTIONS := $(CURDIR)/.build/collections
export PATH := $(VENV)/bin:$(PATH)
# Extra pytest arguments, e.g. `make test PYTEST_ARGS="-k proxy -x"` or PYTEST_ARGS="-n 2".
PYTEST_ARGS ?=

.PHONY: bootstrap test unit integration sanity demo clean

bootstrap:
	@bash hack/bootstrap.sh

test: bootstrap
	python -m pytest tests/unit tests/integration --durations=10 $(PYTEST_ARGS)
	bash hack/sanity.sh

unit: bootstrap
	python -m pytest tests/unit $(PYTEST_ARGS)

integration: bootstrap
	python -m pytest tests/integration $(PYTEST_ARGS)

sanity: bootstrap
	bash hack/sanity.sh

demo: bootstrap
	ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) PYTHONPATH=$(COLLECTIONS):$(CURDIR) bash hack/demo.sh

clean:
	rm -rf .build .pytest_cache tests/output
