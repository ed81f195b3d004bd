# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FBC model, loaders and writer, over the whole real catalog corpus and edge cases."""

from __future__ import annotations

import functools
import json
import os

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog import fbc as fbc_module
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.fbc import (
    iter_fbc_blobs,
    iter_fbc_files,
    load_fbc,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.loader import load_catalog
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.model import Catalog, Channel, ChannelEntry
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.render import render_fbc, write_fbc
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.semver import Version, parse_version
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
    assert len(written) == 33
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


def test_yaml_timestamps_and_scalars(tmp_path):
    (tmp_path / "c.yaml").write_text(
        "---\nschema: olm.package\nname: p\ndefaultChannel: s\n---\n"
        "schema: olm.bundle\nname: p.v1.0.0\npackage: p\nimage: r.io/p/b:1\n"
        "properties:\n- type: olm.package\n  value: {packageName: p, version: 1.0.0}\n"
        "- type: olm.csv.metadata\n  value:\n    annotations:\n      createdAt: 2021-03-04T05:06:07Z\n"
        "      day: 2021-03-04\n      n: 3\n      ok: true\n      nothing: null\n"
        "---\nschema: olm.channel\nname: s\npackage: p\nentries:\n- name: p.v1.0.0\n",
        encoding="utf-8")
    catalog = load_fbc(str(tmp_path))
    annotations = catalog.bundle("p", "p.v1.0.0").properties_of("olm.csv.metadata")[0]["annotations"]
    assert annotations == {"createdAt": "2021-03-04T05:06:07Z", "day": "2021-03-04", "n": 3, "ok": True,
                           "nothing": None}
    out = tmp_path / "out"
    write_fbc(catalog, str(out))
    assert "2021-03-04T05:06:07Z" in (out / "p" / "catalog.json").read_text(encoding="utf-8")


def test_yaml_anchors_and_merge_keys(tmp_path):
    (tmp_path / "c.yaml").write_text(
        "schema: custom.thing\nbase: &b {a: 1}\nmerged:\n  <<: *b\n  c: 2\nlist: [*b]\n", encoding="utf-8")
    (blob,) = [b for dummy, b in iter_fbc_blobs(str(tmp_path))]
    assert blob["merged"] == {"a": 1, "c": 2} and blob["list"] == [{"a": 1}]


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
# .indexignore


@needs_corpus
def test_indexignore_in_corpus_skips_readme():
    files = [os.path.basename(p) for p in iter_fbc_files(str(CORPUS / "fbc/oc/test-declcfg"))]
    assert files == ["index.yaml"]


@pytest.mark.parametrize("patterns,expected", [
    ("", ["a.json", "b.yaml", "d/x.json", "d/e/y.yml", "keep.json"]),
    ("*.yaml\n", ["a.json", "d/x.json", "d/e/y.yml", "keep.json"]),
    ("# comment\n\nd/\n", ["a.json", "b.yaml", "keep.json"]),
    ("/x.json\n", ["a.json", "b.yaml", "d/x.json", "d/e/y.yml", "keep.json"]),
    ("x.json\n", ["a.json", "b.yaml", "d/e/y.yml", "keep.json"]),
    ("d/e\n", ["a.json", "b.yaml", "d/x.json", "keep.json"]),
    ("**/y.yml\n", ["a.json", "b.yaml", "d/x.json", "keep.json"]),
    ("*.json\n!keep.json\n", ["b.yaml", "d/e/y.yml", "keep.json"]),
    ("?.json\n", ["b.yaml", "d/e/y.yml", "keep.json"]),
    ("[ab].*\n", ["d/x.json", "d/e/y.yml", "keep.json"]),
])
def test_indexignore_patterns(tmp_path, patterns, expected):
    for rel in ["a.json", "b.yaml", "c.md", "d/x.json", "d/e/y.yml", "keep.json"]:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}", encoding="utf-8")
    (tmp_path / ".indexignore").write_text(patterns, encoding="utf-8")
    found = [os.path.relpath(p, tmp_path).replace(os.sep, "/") for p in iter_fbc_files(str(tmp_path))]
    assert sorted(found) == sorted(expected)


def test_nested_indexignore_is_relative_to_its_directory(tmp_path):
    for rel in ["x.json", "d/x.json", "d/y.json"]:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}", encoding="utf-8")
    (tmp_path / "d" / ".indexignore").write_text("/x.json\n", encoding="utf-8")
    found = sorted(os.path.relpath(p, tmp_path).replace(os.sep, "/") for p in iter_fbc_files(str(tmp_path)))
    assert found == ["d/y.json", "x.json"]


# ---------------------------------------------------------------------------------------------
# JSON streams, errors


def test_json_stream_across_small_chunks(tmp_path, monkeypatch):
    blobs = [{"schema": "olm.package", "name": "p"}]
    blobs += [{"schema": "custom", "package": "p", "n": i, "pad": "x" * (i * 7), "u": "é\u2028"} for i in range(60)]
    text = "".join(json.dumps(b, indent=(i % 3) or None, ensure_ascii=bool(i % 2)) + ("\n" if i % 2 else "  ")
                   for i, b in enumerate(blobs))
    (tmp_path / "catalog.json").write_text(text, encoding="utf-8")
    monkeypatch.setattr(fbc_module, "_CHUNK", 16)
    got = list(iter_fbc_blobs(str(tmp_path)))
    assert [b for dummy, b in got] == blobs
    # origins carry the right line number
    lines = text.split("\n")
    for origin, blob in got:
        line = int(origin.rsplit(":", 1)[1])
        assert "{" in lines[line - 1]


def test_json_file_with_yaml_extension_is_a_json_stream(tmp_path):
    (tmp_path / "index.yaml").write_text('{"schema":"olm.package","name":"a"}{"schema":"olm.package","name":"b"}',
                                         encoding="utf-8")
    assert sorted(load_fbc(str(tmp_path)).packages) == ["a", "b"]


@pytest.mark.parametrize("name,content,expect", [
    ("bad.json", '{"schema": "olm.package", "name": "a"}\n\n{"schema": "olm.package",\n "name": }\n',
     "bad.json:4:10: invalid JSON"),
    ("trunc.json", '{"schema": "olm.package", "name": "a"}\n{"schema": "olm', "trunc.json:2:"),
    ("list.yaml", "schema: olm.package\nname: a\n---\n- 1\n- 2\n", "list.yaml:4: a catalog blob must be a YAML mapping"),
    ("bad.yaml", "schema: olm.package\nname: [a\n", "bad.yaml:3:1: invalid YAML"),
    ("scalar.json", '{"schema": "x"}\n{"a": 1} [1]', "scalar.json:2:"),
    ("dup.json", '{"schema": "olm.package", "name": "a"}\n{"schema": "olm.package", "name": "a"}',
     "dup.json:2: package 'a' is declared twice (first at"),
    ("nobundlename.json", '{"schema": "olm.bundle", "package": "a"}', "nobundlename.json:1: olm.bundle blob needs"),
    ("badentries.json", '{"schema": "olm.channel", "package": "a", "name": "c", "entries": [1]}',
     "badentries.json:1: channel 'c'"),
])
def test_errors_name_the_file_and_line(tmp_path, name, content, expect):
    (tmp_path / name).write_text(content, encoding="utf-8")
    with pytest.raises(CatalogError) as err:
        load_fbc(str(tmp_path))
    assert expect in str(err.value)
    assert str(tmp_path / name) in str(err.value)


def test_missing_path_and_non_utf8(tmp_path):
    with pytest.raises(CatalogError, match="no such catalog file or directory"):
        load_fbc(str(tmp_path / "nope"))
    (tmp_path / "x.json").write_bytes(b"\xff\xfe{}")
    with pytest.raises(CatalogError, match="not UTF-8"):
        load_fbc(str(tmp_path / "x.json"))


def test_single_file_and_package_selection_while_streaming(tmp_path):
    blobs = []
    for pkg in ("a", "b", "c"):
        blobs += [{"schema": "olm.package", "name": pkg, "defaultChannel": "s"},
                  {"schema": "olm.channel", "name": "s", "package": pkg, "entries": [{"name": pkg + ".v1"}]},
                  {"schema": "olm.bundle", "name": pkg + ".v1", "package": pkg, "image": f"r/{pkg}:1",
                   "properties": [{"type": "olm.package", "value": {"packageName": pkg, "version": "1.0.0"}}]}]
    blobs.append({"schema": "unknown.root", "data": [1, 2]})
    (tmp_path / "all.json").write_text("\n".join(json.dumps(b) for b in blobs), encoding="utf-8")
    only = load_fbc(str(tmp_path / "all.json"), packages={"b"})
    assert list(only.packages) == ["b"] and only.others == [{"schema": "unknown.root", "data": [1, 2]}]
    pred = load_fbc(str(tmp_path / "all.json"), packages=lambda n: n != "a")
    assert sorted(pred.packages) == ["b", "c"]
    assert load_catalog(str(tmp_path / "all.json")).images() == ["r/a:1", "r/b:1", "r/c:1"]


# ---------------------------------------------------------------------------------------------
# Model helpers


@pytest.mark.parametrize("text,expected", [
    ("1.2.3", (1, 2, 3, (), "")),
    ("v0.9.2", (0, 9, 2, (), "")),
    ("1.0.0-rc.1", (1, 0, 0, ("rc", 1), "")),
    ("4.8.0-202110011559.p0", (4, 8, 0, (202110011559, "p0"), "")),
    ("0.8.0-0.1634606167.p", (0, 8, 0, (0, 1634606167, "p"), "")),
    ("1.2.3+build.5", (1, 2, 3, (), "build.5")),
    ("1.2.3-alpha+001", (1, 2, 3, ("alpha",), "001")),
])
def test_parse_version(text, expected):
    ver = parse_version(text)
    assert (ver.major, ver.minor, ver.patch, ver.prerelease, ver.build) == expected


@pytest.mark.parametrize("text", ["1.2", "01.2.3", "1.2.3-", "latest", "", "1.2.3-01"])
def test_parse_version_refuses(text):
    with pytest.raises(CatalogError, match="not a semantic version"):
        parse_version(text, "bundle x")


def test_version_order():
    order = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
             "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "2.0.0"]
    versions = [parse_version(v) for v in order]
    assert sorted(reversed(versions)) == versions
    assert parse_version("1.0.0+a") == parse_version("1.0.0+b")
    assert isinstance(max(versions), Version) and str(max(versions)) == "2.0.0"


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


def test_render_order_and_unknown_blobs(tmp_path):
    blobs = [
        {"schema": "zzz.custom", "note": "root"},
        {"schema": "olm.deprecations", "package": "p", "entries": [{"reference": {"schema": "olm.package"},
                                                                    "message": "gone"}]},
        {"schema": "olm.bundle", "name": "p.v2", "package": "p", "image": "r/p:2", "properties": []},
        {"schema": "olm.bundle", "name": "p.v1", "package": "p", "image": "r/p:1", "properties": []},
        {"schema": "olm.channel", "name": "z", "package": "p", "entries": [{"name": "p.v1"}]},
        {"schema": "olm.channel", "name": "a", "package": "p", "entries": [{"name": "p.v2", "skips": []}]},
        {"schema": "b.custom", "package": "p", "k": 1},
        {"schema": "a.custom", "package": "p", "k": 2},
        {"schema": "olm.package", "name": "p", "defaultChannel": "a", "extraField": {"x": 1}},
        {"schema": "aaa.custom", "note": "root2"},
    ]
    catalog = Catalog.from_blobs(blobs)
    order = [(b["schema"], b.get("name") or b.get("k") or b.get("note")) for b in render_fbc(catalog)]
    assert order == [("olm.package", "p"), ("olm.channel", "a"), ("olm.channel", "z"), ("olm.bundle", "p.v1"),
                     ("olm.bundle", "p.v2"), ("a.custom", 2), ("b.custom", 1), ("olm.deprecations", None),
                     ("zzz.custom", "root"), ("aaa.custom", "root2")]
    assert sorted(canon(b) for b in render_fbc(catalog)) == sorted(canon(b) for b in blobs)
    written = write_fbc(catalog, str(tmp_path))
    assert sorted(written) == [str(tmp_path / "catalog.json"), str(tmp_path / "p" / "catalog.json")]
    text = (tmp_path / "p" / "catalog.json").read_text(encoding="utf-8")
    assert text.startswith('{\n    "schema": "olm.package",\n    "name": "p",')
    assert [b for dummy, b in iter_fbc_blobs(str(tmp_path / "catalog.json"))] == [blobs[0], blobs[-1]]


def test_write_refuses_package_names_that_are_paths(tmp_path):
    catalog = Catalog.from_blobs([{"schema": "olm.package", "name": "../evil"}])
    with pytest.raises(CatalogError, match="cannot be a directory name"):
        write_fbc(catalog, str(tmp_path))
