# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""meta/runtime.yml's requires_ansible states the supported ansible-core range once; every file
that repeats it says the same, and the ansible-core running the tests is inside it (`make test`
runs the unit tests on the oldest series, .venv-oldest, and on the newest, .venv)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import yaml
from ansible.release import __version__ as ansible_version
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]


def _yaml(relative):
    return yaml.safe_load((ROOT / relative).read_text(encoding="utf-8"))


RANGE = _yaml("meta/runtime.yml")["requires_ansible"]


def bounds():
    """(lowest supported version, first unsupported version) of the range."""
    by_operator = {s.operator: Version(s.version) for s in SpecifierSet(RANGE)}
    return by_operator[">="], by_operator["<"]


def test_range_is_a_full_lower_bound_and_an_upper_bound():
    assert sorted(s.operator for s in SpecifierSet(RANGE)) == ["<", ">="]
    lower, upper = bounds()
    assert len(lower.release) == 3 and lower.micro == 0  # ">=2.16.0", not ">=2.16"
    assert lower < upper


def test_requirements_dev_installs_the_same_range():
    lines = [line.split("#", 1)[0].strip() for line in (ROOT / "requirements-dev.txt").read_text().splitlines()]
    (requirement,) = [line for line in lines if re.match(r"ansible-core\b", line)]
    assert SpecifierSet(requirement[len("ansible-core"):]) == SpecifierSet(RANGE)


def test_execution_environment_installs_the_same_range():
    package = _yaml("execution-environment.yml")["dependencies"]["ansible_core"]["package_pip"]
    assert package.startswith("ansible-core")
    assert SpecifierSet(package[len("ansible-core"):]) == SpecifierSet(RANGE)


def test_role_min_ansible_version_is_the_lower_bound():
    lower, dummy = bounds()
    assert _yaml("roles/mirror/meta/main.yml")["galaxy_info"]["min_ansible_version"] == f"{lower.major}.{lower.minor}"


def test_readme_states_the_range():
    lower, upper = bounds()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    # the upper bound excludes its series: ">=2.16.0,<2.20.0" is 2.16 to 2.19
    assert f"ansible-core {lower.major}.{lower.minor} to {upper.major}.{upper.minor - 1}" in readme
    assert f"`{RANGE}`" in readme


def test_the_ansible_core_running_the_tests_is_supported():
    assert Version(ansible_version) in SpecifierSet(RANGE)
    # set by `make test` for its run in .venv-oldest
    if os.environ.get("AIRGAP_EXPECT_OLDEST_ANSIBLE_CORE"):
        lower, dummy = bounds()
        assert Version(ansible_version).release[:2] == lower.release[:2]
