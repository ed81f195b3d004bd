# Entry points (README): `make test`, `make demo`. Both bootstrap the machine first
# (hack/bootstrap.sh: Debian packages, .venv, .build/collections), which is quick once done.
SHELL := /bin/bash
VENV := $(CURDIR)/.venv
# The same requirements with the oldest ansible-core meta/runtime.yml supports (hack/bootstrap.sh).
VENV_OLDEST := $(CURDIR)/.venv-oldest
COLLECTIONS := $(CURDIR)/.build/collections
export PATH := $(VENV)/bin:$(PATH)
# Extra pytest arguments, e.g. `make test PYTEST_ARGS="-k proxy -x"`.
PYTEST_ARGS ?=
# The newest ansible-core's run (unit + integration) is spread over two pytest-xdist workers, a test
# file each at a time (module-scoped registries are started once). PYTEST_XDIST="" runs serially.
PYTEST_XDIST ?= -n 2 --dist loadfile

.PHONY: bootstrap test unit unit-oldest integration sanity demo clean

bootstrap:
	@bash hack/bootstrap.sh

# Unit tests on the oldest and the newest supported ansible-core; integration and sanity on the newest.
test: bootstrap
	python -m pytest tests/unit tests/integration $(PYTEST_XDIST) --durations=10 $(PYTEST_ARGS)
	PATH=$(VENV_OLDEST)/bin:$$PATH AIRGAP_EXPECT_OLDEST_ANSIBLE_CORE=1 \
		$(VENV_OLDEST)/bin/python -m pytest tests/unit $(PYTEST_XDIST) $(PYTEST_ARGS)
	bash hack/sanity.sh

unit: bootstrap
	python -m pytest tests/unit $(PYTEST_ARGS)

unit-oldest: bootstrap
	PATH=$(VENV_OLDEST)/bin:$$PATH AIRGAP_EXPECT_OLDEST_ANSIBLE_CORE=1 \
		$(VENV_OLDEST)/bin/python -m pytest tests/unit $(PYTEST_XDIST) $(PYTEST_ARGS)

integration: bootstrap
	python -m pytest tests/integration $(PYTEST_XDIST) $(PYTEST_ARGS)

sanity: bootstrap
	bash hack/sanity.sh

demo: bootstrap
	ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) PYTHONPATH=$(COLLECTIONS):$(CURDIR) bash hack/demo.sh

clean:
	rm -rf .build .pytest_cache tests/output
