# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""catalog_source.py: CatalogSource and ClusterCatalog names and options, beyond the peers' cases."""

from __future__ import annotations

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import ConfigError
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.catalog_source import catalog_source, catalog_source_name, cluster_catalog
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.endpoints import FileReference
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.reference import parse

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64


@pytest.mark.parametrize(
    "ref, naming, expected",
    [
        ("quay.io/the/index:1", "oc", "index"),
        ("quay.io/a/b/c:1", "oc", "b-c"),
        ("quay.io/ubi8-minimal:1", "oc", "ubi8-minimal"),
        ("quay.io/org/my_index.v2:1", "oc", "my-index-v2"),
        ("m.example.com/ns/redhat/redhat-operator-index:v4.15", "oc-mirror", "cs-redhat-operator-index-v4-15"),
        ("m.example.com/ns/idx:v4.17.0-20241114", "oc-mirror", "cs-idx-v4-17-0-2024"),
        ("m.example.com/ns/idx@" + D2, "oc-mirror", "cs-idx-222222222222"),
        ("m.example.com/ns/idx:V1_X", "oc-mirror", "cs-idx-v1-x"),
        ("m.example.com/ns/" + "a" * 80 + ":1", "oc-mirror", ("cs-" + "a" * 80)[:63]),
    ],
)
def test_catalog_source_name(ref, naming, expected):
    assert catalog_source_name(ref, naming) == expected
    assert catalog_source_name(parse(ref), naming) == expected


def test_cluster_catalog_prefix():
    assert catalog_source_name("m.example.com/ns/idx:v1", "oc-mirror", prefix="cc") == "cc-idx-v1"


def test_catalog_source_options():
    obj = catalog_source("my", "m.example.com/a/b:1", display_name="Mine", publisher="Ops", update_interval="10m")
    assert obj["spec"] == {"image": "m.example.com/a/b:1", "sourceType": "grpc", "displayName": "Mine",
                           "publisher": "Ops", "updateStrategy": {"registryPoll": {"interval": "10m"}}}
    with pytest.raises(ConfigError, match="update_interval"):
        catalog_source("my", "m.example.com/a/b:1", update_interval="ten minutes")
    with pytest.raises(ConfigError, match="file://"):
        catalog_source("my", FileReference("x/y", "1"))


def test_cluster_catalog_options():
    obj = cluster_catalog("cc-x", "m.example.com/a/b:1", priority=5, poll_interval_minutes=15)
    image = {"ref": "m.example.com/a/b:1", "pollIntervalMinutes": 15}
    assert obj["spec"] == {"priority": 5, "source": {"type": "Image", "image": image}}
    with pytest.raises(ConfigError, match="poll_interval_minutes"):
        cluster_catalog("cc-x", f"m.example.com/a/b@{D1}", poll_interval_minutes=15)
    with pytest.raises(ConfigError, match="poll_interval_minutes"):
        cluster_catalog("cc-x", "m.example.com/a/b:1", poll_interval_minutes=0)
    with pytest.raises(ConfigError, match="priority"):
        cluster_catalog("cc-x", "m.example.com/a/b:1", priority=2 ** 40)
