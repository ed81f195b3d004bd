# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading FBC files: .indexignore, JSON and YAML streams, errors that name the file and line,
package selection while streaming."""

from __future__ import annotations

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
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.render import write_fbc
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import CatalogError
from tests.support.corpus import CORPUS, needs_corpus


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
