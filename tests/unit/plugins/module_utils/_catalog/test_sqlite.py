# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Legacy sqlite index.db catalogs: every schema version of the corpus, and FBC equivalence."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.fbc import load_fbc
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.loader import load_catalog
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.render import render_fbc
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.sqlite import (
    load_sqlite,
    sqlite_schema_version,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import CatalogError
from tests.support.corpus import CORPUS, inventory, needs_corpus

INVENTORY = inventory()

DATABASES = [
    # file, schema version (last migration), channel heads
    ("oc-test.db", 7, {("etcd", "alpha"): "etcdoperator.v0.9.2", ("etcd", "stable"): "etcdoperator.v0.9.2",
                       ("prometheus", "preview"): "prometheusoperator.0.22.2",
                       ("prometheus", "stable"): "prometheusoperator.0.15.0"}),
    ("foo-index-v0.2.0.index.db", 12, {("foo", "beta"): "foo.v0.2.0"}),
    ("indexer-test.bundles.db", 5, {("etcd", "alpha"): "etcdoperator.v0.9.2", ("etcd", "beta"): "etcdoperator.v0.9.0",
                                    ("etcd", "stable"): "etcdoperator.v0.9.2",
                                    ("prometheus", "preview"): "prometheusoperator.0.22.2",
                                    ("strimzi-kafka-operator", "alpha"): "strimzi-cluster-operator.v0.12.2",
                                    ("strimzi-kafka-operator", "beta"): "strimzi-cluster-operator.v0.12.1",
                                    ("strimzi-kafka-operator", "stable"): "strimzi-cluster-operator.v0.11.1"}),
]


def _sha(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@needs_corpus
@pytest.mark.parametrize("name,version,heads", DATABASES)
def test_database_loads_with_inventory_counts(name, version, heads):
    path = CORPUS / "sqlite" / name
    before = _sha(path)
    assert sqlite_schema_version(str(path)) == version
    catalog = load_sqlite(str(path))
    bundles = list(catalog.bundles())
    expected = INVENTORY[f"sqlite/{name}"]
    assert len(catalog.packages) == expected["packages"]
    assert len(list(catalog.channels())) == expected["channels"]
    assert len(bundles) == expected["bundles"]
    assert sum(len(b.related_images) for b in bundles) == expected["relatedImage_entries"]
    # unique images include the bundle images (bundlepath) that are set
    assert len(catalog.images()) == expected["unique_images"]
    assert {(c.package, c.name): c.head() for c in catalog.channels()} == heads
    assert catalog.validate() == []
    for bundle in bundles:
        assert bundle.semver  # every bundle has an olm.package property with a version
        props = [(p["type"], json.dumps(p["value"], sort_keys=True)) for p in bundle.properties]
        assert props == sorted(props) or [t for t, dummy in props] == sorted(t for t, dummy in props)
    # read-only: the database file is untouched, and no journal is left behind
    assert _sha(path) == before
    assert not (CORPUS / "sqlite" / (name + "-journal")).exists()


@needs_corpus
def test_sqlite_channels_from_channel_entries():
    catalog = load_sqlite(str(CORPUS / "sqlite/foo-index-v0.2.0.index.db"))
    beta = catalog.packages["foo"].channels["beta"]
    assert [e.to_dict() for e in beta.entries] == [
        {"name": "foo.v0.1.0", "skipRange": "<0.1.0"},
        {"name": "foo.v0.2.0", "replaces": "foo.v0.1.0", "skips": ["foo.v0.1.1", "foo.v0.1.2"],
         "skipRange": "<0.2.0"}]
    bundle = catalog.bundle("foo", "foo.v0.1.0")
    types = [p["type"] for p in bundle.properties]
    assert types.count("olm.bundle.object") == 2
    assert {"type": "olm.gvk.required", "value": {"group": "test.bar", "kind": "Bar", "version": "v1alpha1"}} \
        in bundle.properties
    assert {"type": "olm.package.required", "value": {"packageName": "bar", "versionRange": "v0.1.0"}} \
        in bundle.properties
    assert bundle.related_images == [{"name": "operator", "image": "test.registry/foo-operator/foo:v0.1.0"},
                                     {"name": "", "image": "test.registry/foo-operator/foo-bundle:v0.1.0"}]


@needs_corpus
def test_old_schema_properties_built_from_api_tables():
    """Schema 5 has no properties/dependencies tables: built from api_provider/api_requirer."""
    catalog = load_sqlite(str(CORPUS / "sqlite/indexer-test.bundles.db"))
    bundle = catalog.bundle("etcd", "etcdoperator.v0.9.2")
    gvks = [p["value"]["kind"] for p in bundle.properties if p["type"] == "olm.gvk"]
    assert gvks == ["EtcdBackup", "EtcdCluster", "EtcdRestore"]
    assert [p["value"]["kind"] for p in bundle.properties if p["type"] == "olm.gvk.required"] == ["EtcdCluster"]
    assert bundle.version == "0.9.2"
    assert catalog.packages["etcd"].icon["mediatype"] == "image/png"
    # bundles without a bundle image keep an empty image, as opm renders them
    assert catalog.bundle("prometheus", "prometheusoperator.0.14.0").image == ""


def _summary(catalog):
    out = {}
    for pkg in catalog.packages.values():
        out[pkg.name] = {
            "default": pkg.default_channel,
            "channels": {c.name: sorted((e.name, e.replaces, tuple(e.skips or ()), e.skip_range)
                                        for e in c.entries) for c in pkg.channels.values()},
            "bundles": {b.name: (b.image, sorted(r["image"] for r in b.related_images)) for b in pkg.bundles.values()},
        }
    return out


@needs_corpus
def test_fbc_and_sqlite_forms_of_the_oc_catalog_are_the_same():
    fbc = load_fbc(str(CORPUS / "fbc/oc/test-declcfg"))
    db = load_sqlite(str(CORPUS / "sqlite/oc-test.db"))
    assert _summary(fbc) == _summary(db)
    assert fbc.images() == db.images() and len(db.images()) == 10
    # beyond what the plan needs: the same icons and bundle properties, minus the old-style ones
    for bundle in fbc.bundles():
        other = db.bundle(bundle.package, bundle.name)
        kept = [p for p in bundle.properties if p["type"] not in ("olm.channel", "olm.skips", "olm.skipRange")]
        assert sorted(map(json.dumps, kept)) == sorted(map(json.dumps, other.properties))
    assert {n: p.icon for n, p in fbc.packages.items()} == {n: p.icon for n, p in db.packages.items()}


@needs_corpus
def test_load_catalog_detects_sqlite_and_renders_fbc(tmp_path):
    catalog = load_catalog(str(CORPUS / "sqlite/oc-test.db"), packages=["etcd"])
    assert list(catalog.packages) == ["etcd"]
    schemas = [b["schema"] for b in render_fbc(catalog)]
    assert schemas == ["olm.package", "olm.channel", "olm.channel", "olm.bundle", "olm.bundle"]


def test_deprecated_bundles_are_left_out(tmp_path):
    path = tmp_path / "index.db"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE schema_migrations (version bigint NOT NULL);
        INSERT INTO schema_migrations VALUES (13);
        CREATE TABLE operatorbundle (name TEXT PRIMARY KEY, csv TEXT, bundle TEXT, bundlepath TEXT,
                                     skiprange TEXT, version TEXT, replaces TEXT, skips TEXT);
        CREATE TABLE package (name TEXT PRIMARY KEY, default_channel TEXT);
        CREATE TABLE channel (name TEXT, package_name TEXT, head_operatorbundle_name TEXT);
        CREATE TABLE channel_entry (entry_id INTEGER PRIMARY KEY, channel_name TEXT, package_name TEXT,
                                    operatorbundle_name TEXT, replaces INTEGER, depth INTEGER);
        CREATE TABLE related_image (image TEXT, operatorbundle_name TEXT);
        CREATE TABLE properties (type TEXT, value TEXT, operatorbundle_name TEXT, operatorbundle_version TEXT,
                                 operatorbundle_path TEXT);
        CREATE TABLE deprecated (operatorbundle_name TEXT PRIMARY KEY);
        INSERT INTO package VALUES ('p', 's');
        INSERT INTO channel VALUES ('s', 'p', 'p.v2');
        INSERT INTO operatorbundle VALUES ('p.v1', NULL, NULL, 'r/p-bundle:1', '', '1.0.0', '', '');
        INSERT INTO operatorbundle VALUES ('p.v2', NULL, NULL, 'r/p-bundle:2', '', '2.0.0', 'p.v1', '');
        INSERT INTO operatorbundle VALUES ('p.v0', NULL, NULL, 'r/p-bundle:0', '', '0.1.0', '', '');
        INSERT INTO channel_entry VALUES (1, 's', 'p', 'p.v2', 2, 0);
        INSERT INTO channel_entry VALUES (2, 's', 'p', 'p.v1', 3, 1);
        INSERT INTO channel_entry VALUES (3, 's', 'p', 'p.v0', NULL, 2);
        INSERT INTO properties VALUES ('olm.deprecated', '{}', 'p.v0', '0.1.0', 'r/p-bundle:0');
        INSERT INTO related_image VALUES ('r/op:2', 'p.v2');
    """)
    conn.commit()
    conn.close()
    catalog = load_sqlite(str(path))
    assert sorted(catalog.packages["p"].bundles) == ["p.v1", "p.v2"]
    assert [e.to_dict() for e in catalog.packages["p"].channels["s"].entries] == [
        # opm keeps the replaces edge to the deprecated bundle it leaves out
        {"name": "p.v1", "replaces": "p.v0"}, {"name": "p.v2", "replaces": "p.v1"}]
    assert catalog.images() == ["r/op:2", "r/p-bundle:1", "r/p-bundle:2"]


@pytest.mark.parametrize("content,message", [
    (b"not a database at all, just text" * 10, "not a readable sqlite database"),
    (None, "not an operator-registry index database (missing tables: channel, channel_entry"),
])
def test_bad_databases_name_the_file(tmp_path, content, message):
    path = tmp_path / "index.db"
    if content is None:
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE package (name TEXT)")
        conn.commit()
        conn.close()
    else:
        path.write_bytes(content)
    with pytest.raises(CatalogError) as err:
        load_sqlite(str(path))
    assert str(path) in str(err.value) and message in str(err.value)


def test_missing_database(tmp_path):
    with pytest.raises(CatalogError, match="no such sqlite index file"):
        load_sqlite(str(tmp_path / "nope.db"))
    assert not os.path.exists(tmp_path / "nope.db")
