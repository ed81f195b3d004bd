# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The FBC model over the whole real catalog corpus (loaded and rendered back), old-style
channels, channel heads and bundles."""

from __future__ import annotations

import functools
import json
import os

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.fbc import (
    iter_fbc_blobs,
    iter_fbc_files,
    load_fbc,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.model import Catalog, Channel, ChannelEntry
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.render import render_fbc, write_fbc
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.semver import parse_version
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import CatalogError
from tests.support.corpus import CORPUS, inventory, needs_corpus

INVENTORY = inventory()
FBC_ITEMS = sorted(k for k in INVENTORY if k.startswith("fbc/")) or ["fbc/(corpus absent)"]


@functools.lru_cache(maxsize=None)
def corpus_catalog(item):
    """Each corpus item parsed once per session: (sorted canonical blobs as read, Catalog).
    Tests must not modify the returned catalog."""
    path = str(CORPUS / item)
    return sorted(canon(b) for dummy, b in iter_fbc_blobs(path)), load_fbc(path)


def canon(blob):
    return json.dumps(blob, sort_keys=True)


def counts(catalog):
    bundles = list(catalog.bundles())
    return {
        "packages": len(catalog.packages),
        # INVENTORY counts olm.channel blobs, not channels synthesized from old-style properties
        "channels": sum(1 for c in catalog.channels() if not c.synthesized),
        "bundles": len(bundles),
        "relatedImage_entries": sum(len(b.related_images or []) for b in bundles),
        "unique_images": len(catalog.images()),
    }


# ---------------------------------------------------------------------------------------------
# The whole corpus


@needs_corpus
@pytest.mark.parametrize("item", FBC_ITEMS)
def test_corpus_item_loads_with_inventory_counts(item):
    catalog = corpus_catalog(item)[1]
    keys = ("packages", "channels", "bundles", "relatedImage_entries", "unique_images")
    expected = {k: INVENTORY[item][k] for k in keys}
    assert counts(catalog) == expected


@needs_corpus
@pytest.mark.parametrize("item", FBC_ITEMS)
def test_corpus_item_round_trips(item):
    read, catalog = corpus_catalog(item)
    assert sorted(canon(b) for b in render_fbc(catalog, synthesized=False)) == read
    # with synthesized channels, the extra blobs are exactly those channels
    rendered = [canon(b) for b in render_fbc(catalog)]
    extra = sorted(set(rendered) - set(read))
    assert len(extra) == sum(1 for c in catalog.channels() if c.synthesized)


@needs_corpus
def test_every_fbc_file_in_the_corpus_loads():
    """Not only the INVENTORY items: every catalog file under fbc/, one by one."""
    files = list(iter_fbc_files(str(CORPUS / "fbc")))
    assert len(files) > 60
    for path in files:
        catalog = load_fbc(path)
        assert catalog.packages or catalog.others, path
        for channel in catalog.channels():
            if all(e.name in catalog.packages[channel.package].bundles for e in channel.entries):
                channel.head()


@needs_corpus
def test_round_trip_through_files_is_byte_stable(tmp_path):
    catalog = corpus_catalog("fbc/community-operators-prod/v4.21")[1]
    written = write_fbc(catalog, str(tmp_path / "out"))
    assert len(written) == INVENTORY["fbc/community-operators-prod/v4.21"]["packages"] == 8
    assert sorted(os.listdir(tmp_path / "out")) == sorted(catalog.packages)
    again = load_fbc(str(tmp_path / "out"))
    assert sorted(canon(b) for b in render_fbc(again)) == sorted(canon(b) for b in render_fbc(catalog))
    # files rewritten only when their content changes
    assert write_fbc(again, str(tmp_path / "out")) == []
    before = os.stat(tmp_path / "out" / "kube-green" / "catalog.json").st_mtime_ns
    again.packages["kube-green"].description = "changed"
    assert write_fbc(again, str(tmp_path / "out")) == [str(tmp_path / "out" / "kube-green" / "catalog.json")]
    assert os.stat(tmp_path / "out" / "kube-green" / "catalog.json").st_mtime_ns >= before


@needs_corpus
def test_yaml_timestamps_stay_strings():
    catalog = corpus_catalog("fbc/community-operators-prod/v4.21")[1]
    seen = 0
    for bundle in catalog.bundles():
        for value in bundle.properties_of("olm.csv.metadata"):
            created = (value.get("annotations") or {}).get("createdAt")
            if created is not None:
                assert isinstance(created, str)
                seen += 1
    assert seen > 100


# ---------------------------------------------------------------------------------------------
# Old-style channels (channel membership as bundle properties)


@needs_corpus
def test_old_style_channels_are_synthesized():
    catalog = load_fbc(str(CORPUS / "fbc/oc/test-declcfg"))
    etcd = catalog.packages["etcd"]
    assert sorted(etcd.channels) == ["alpha", "stable"]
    assert all(c.synthesized for c in etcd.channels.values())
    alpha = etcd.channels["alpha"]
    assert [e.to_dict() for e in alpha.entries] == [
        {"name": "etcdoperator.v0.9.0"},
        {"name": "etcdoperator.v0.9.2", "replaces": "etcdoperator.v0.9.0", "skips": ["etcdoperator.v0.9.1"]},
    ]
    assert alpha.head() == "etcdoperator.v0.9.2"
    prometheus = catalog.packages["prometheus"]
    assert prometheus.channel_heads() == {"stable": "prometheusoperator.0.15.0",
                                          "preview": "prometheusoperator.0.22.2"}
    assert catalog.validate() == []
    # rendered as opm migrate would: olm.channel blobs, bundles untouched
    schemas = [b["schema"] for b in render_fbc(catalog)]
    assert schemas.count("olm.channel") == 4


def test_old_style_skip_range_and_no_synthesis_when_channels_exist(tmp_path):
    blobs = [
        {"schema": "olm.package", "name": "p"},
        {"schema": "olm.bundle", "name": "p.v2", "package": "p", "image": "r/p:2", "properties": [
            {"type": "olm.channel", "value": {"name": "a", "replaces": "p.v1"}},
            {"type": "olm.skipRange", "value": "<2.0.0"},
            {"type": "olm.package", "value": {"packageName": "p", "version": "2.0.0"}}]},
        {"schema": "olm.bundle", "name": "p.v1", "package": "p", "image": "r/p:1", "properties": [
            {"type": "olm.channel", "value": {"name": "a"}}]},
    ]
    catalog = Catalog.from_blobs(blobs)
    assert [e.to_dict() for e in catalog.packages["p"].channels["a"].entries] == [
        {"name": "p.v2", "replaces": "p.v1", "skipRange": "<2.0.0"}, {"name": "p.v1"}]
    with_channel = Catalog.from_blobs(blobs + [{"schema": "olm.channel", "name": "b", "package": "p",
                                                "entries": [{"name": "p.v1"}]}])
    assert list(with_channel.packages["p"].channels) == ["b"]


# ---------------------------------------------------------------------------------------------
# Model helpers


def _channel(*entries):
    return Channel("c", "p", [ChannelEntry(n, r, s) for n, r, s in entries])


@pytest.mark.parametrize("entries,head", [
    ([("a", None, None)], "a"),
    ([("a", None, None), ("b", "a", None), ("c", "b", ["x"])], "c"),
    ([("a", None, None), ("c", None, ["a", "b"]), ("b", "a", None)], "c"),
    # a replaces edge to a skipped entry ends the chain walk (opm does the same)
    ([("b", "a", None), ("a", "b", None), ("c", "a", ["a", "b"])], "c"),
])
def test_channel_head(entries, head):
    assert _channel(*entries).head() == head


@pytest.mark.parametrize("entries,message", [
    ([("a", None, None), ("b", None, None)], "multiple channel heads found in the upgrade graph: a, b"),
    ([("a", "b", None), ("b", "a", None)], "no channel head"),
    ([("c", "b", None), ("b", "a", None), ("a", "b", None)], "cycle in the replaces chain: c -> b -> a -> b"),
    ([], "has no entries"),
])
def test_channel_head_errors_name_the_channel(entries, message):
    with pytest.raises(CatalogError) as err:
        _channel(*entries).head()
    assert "package 'p', channel 'c'" in str(err.value) and message in str(err.value)


def test_bundle_images_and_version():
    catalog = Catalog.from_blobs([
        {"schema": "olm.bundle", "name": "b.v1", "package": "b", "image": "r/b-bundle:1",
         "properties": [{"type": "olm.package", "value": {"packageName": "other", "version": "9.9.9"}},
                        {"type": "olm.package", "value": {"packageName": "b", "version": "1.0.0+x"}}],
         "relatedImages": [{"name": "op", "image": "r/op:1"}, {"name": "", "image": "r/b-bundle:1"},
                           {"name": "again", "image": "r/op:1"}, {"name": "empty", "image": ""}]},
        {"schema": "olm.bundle", "name": "b.v0", "package": "b", "image": "r/b-bundle:0"},
    ])
    bundle = catalog.bundle("b", "b.v1")
    assert bundle.images() == ["r/b-bundle:1", "r/op:1"]
    assert bundle.version == "1.0.0+x" and bundle.semver == parse_version("1.0.0")
    with pytest.raises(CatalogError, match="bundle 'b.v0' of package 'b': no olm.package property"):
        catalog.bundle("b", "b.v0").semver
    assert catalog.images() == ["r/b-bundle:0", "r/b-bundle:1", "r/op:1"]
    assert not catalog.packages["b"].declared
    assert "no olm.package blob" in catalog.validate()[0]
    # an undeclared package is not invented on render; blobs keep their absent keys absent
    assert [b["schema"] for b in render_fbc(catalog)] == ["olm.bundle", "olm.bundle"]
    assert "properties" not in catalog.bundle("b", "b.v0").to_blob()
