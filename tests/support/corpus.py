# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the tests find real catalogs and CRDs: tests/fixtures, carried by the repository.

The fixtures are a trimmed copy of the team's corpus (tests/fixtures/SOURCES.md says what comes
from where); this module is the only place that knows their location. A test that needs a
fixture which is missing is skipped with the path it looked for, never errors.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CORPUS = FIXTURES / "catalogs"
CRDS = FIXTURES / "crds"
# The catalogs several test files read.
COMMUNITY = CORPUS / "fbc" / "community-operators-prod" / "v4.21"
OC_DECLCFG = CORPUS / "fbc" / "oc" / "test-declcfg"
OC_SQLITE = CORPUS / "sqlite" / "oc-test.db"
TEST_CATALOG_LATEST = CORPUS / "fbc" / "oc-mirror" / "integration-test-catalogs" / "test-catalog-latest"
# Bundle directories (registry+v1) and a packagemanifest, for rendering bundles to olm.bundle.
BUNDLES = FIXTURES / "bundles"
NHC_BUNDLES = BUNDLES / "community-operators-prod" / "node-healthcheck-operator"  # 0.11.0, 0.12.0
TRUSTIFY_BUNDLE = BUNDLES / "community-operators-prod" / "trustify-operator" / "0.1.0-alpha.9"
GITLAB_RUNNER_BUNDLE = BUNDLES / "community-operators-prod" / "gitlab-runner-operator" / "1.52.0"
ETCD_BUNDLES = BUNDLES / "operator-registry"  # etcd.0.9.0, etcd.0.9.2
ETCD_PACKAGEMANIFEST = BUNDLES / "operator-registry-packagemanifests" / "etcd"


def needs(*paths: Path):
    """Skip marker for a test that reads ``paths``: skipped, naming the first missing one."""
    missing = [p for p in paths if not p.exists()]
    return pytest.mark.skipif(bool(missing), reason=f"test fixture not found: {missing[0]}" if missing else "")


needs_corpus = needs(CORPUS / "INVENTORY.json")
needs_crds = needs(CRDS)


def inventory() -> dict:
    """INVENTORY.json's items (counts per catalog, computed by hack/fixture_inventory.py), or {}
    when the fixtures are absent."""
    try:
        with open(CORPUS / "INVENTORY.json", encoding="utf-8") as handle:
            return json.load(handle)["items"]
    except OSError:
        return {}
