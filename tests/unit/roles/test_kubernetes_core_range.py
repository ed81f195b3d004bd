# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kubernetes.core range the cluster roles need: one range in galaxy.yml and requirements.yml,
and the installed kubernetes.core (the one the role tests run) inside it and requiring an
ansible-core range that covers this collection's meta/runtime.yml."""

from __future__ import annotations

import glob
import json
import os
import re

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def _load(name):
    with open(os.path.join(ROOT, name), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _version(text):
    return tuple(int(part) for part in text.split("."))


def _bounds(spec):
    """(lower, upper) of a '>=X,<Y' range."""
    match = re.fullmatch(r">=(\d+\.\d+\.\d+),<(\d+\.\d+\.\d+)", spec.replace(" ", ""))
    assert match, f"kubernetes.core range {spec!r} is not '>=X.Y.Z,<A.B.C'"
    return _version(match.group(1)), _version(match.group(2))


def test_galaxy_and_requirements_agree():
    galaxy = _load("galaxy.yml")["dependencies"]["kubernetes.core"]
    requirements = [c["version"] for c in _load("requirements.yml")["collections"] if c["name"] == "kubernetes.core"]
    assert requirements == [galaxy]
    lower, upper = _bounds(galaxy)
    # 6.0.0: the first release requiring ansible-core >= 2.16 with the 2.19 templating changes
    assert lower >= (6, 0, 0) and upper == (lower[0] + 1, 0, 0)


def test_installed_kubernetes_core_fits():
    import ansible_collections  # pylint: disable=import-outside-toplevel

    manifests = [m for path in ansible_collections.__path__
                 for m in glob.glob(os.path.join(path, "kubernetes", "core", "MANIFEST.json"))]
    if not manifests:
        pytest.skip("kubernetes.core is not installed (the `ansible` package, installed by hack/bootstrap.sh in .venv)")
    with open(manifests[0], encoding="utf-8") as handle:
        installed = _version(json.load(handle)["collection_info"]["version"])
    lower, upper = _bounds(_load("galaxy.yml")["dependencies"]["kubernetes.core"])
    assert lower <= installed < upper
    with open(os.path.join(os.path.dirname(manifests[0]), "meta", "runtime.yml"), encoding="utf-8") as handle:
        theirs = _version(re.search(r">=\s*([\d.]+)", yaml.safe_load(handle)["requires_ansible"]).group(1))
    ours = _version(re.search(r">=\s*([\d.]+)", _load("meta/runtime.yml")["requires_ansible"]).group(1))
    assert theirs <= ours, "kubernetes.core wants a newer ansible-core than this collection's oldest"
