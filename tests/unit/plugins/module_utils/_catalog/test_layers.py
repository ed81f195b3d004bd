# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Applying catalog image layers: order, OCI whiteouts, prefix-only extraction, and refusal of
every entry that could write or point outside the destination. Layers are built in memory."""

from __future__ import annotations

import io
import json
import os
import tarfile
from pathlib import Path

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.fbc import load_fbc
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.index import (
    LABEL_CONFIGS,
    LABEL_DATABASE,
    index_location,
    load_extracted,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.layers import apply_layers
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.render import render_fbc
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import CatalogError
from tests.support.corpus import CORPUS, needs_corpus


def layer(*entries, gz=True):
    """A tar layer: entries are (name, kind, data) with kind f(ile), d(ir), s(ymlink), h(ardlink)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz" if gz else "w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, data in entries:
            info = tarfile.TarInfo(name)
            info.mode = 0o644
            if kind == "f":
                payload = data.encode() if isinstance(data, str) else data
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
            elif kind == "d":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            elif kind == "s":
                info.type, info.linkname = tarfile.SYMTYPE, data
                tar.addfile(info)
            elif kind == "h":
                info.type, info.linkname = tarfile.LNKTYPE, data
                tar.addfile(info)
            elif kind == "fifo":
                info.type = tarfile.FIFOTYPE
                tar.addfile(info)
    buf.seek(0)
    return io.BufferedReader(buf)


def tree(root):
    out = {}
    for current, dirs, files in os.walk(root):
        for name in dirs + files:
            full = os.path.join(current, name)
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            if os.path.islink(full):
                out[rel] = "-> " + os.readlink(full)
            elif os.path.isdir(full):
                out[rel] = "/"
            else:
                out[rel] = Path(full).read_text(encoding="utf-8")
    return out


def test_layers_in_order_with_whiteouts(tmp_path):
    base = layer(("configs", "d", None), ("configs/a", "d", None), ("configs/a/catalog.json", "f", "A1"),
                 ("configs/b", "d", None), ("configs/b/catalog.json", "f", "B1"),
                 ("configs/b/old.json", "f", "old"), ("configs/keep.json", "f", "K"), ("etc/x", "f", "x"))
    update = layer(("configs/.wh.a", "f", ""),                         # delete a lower directory
                   ("configs/b/new.json", "f", "new"),                 # added before the opaque marker...
                   ("configs/b/.wh..wh..opq", "f", ""),                # ...survives it; lower files do not
                   ("configs/keep.json", "f", "K2"),                   # overwrite
                   ("configs/link.json", "s", "keep.json"), gz=False)
    apply_layers([base, update], str(tmp_path))
    assert tree(tmp_path) == {
        "configs": "/", "configs/b": "/", "configs/b/new.json": "new", "configs/keep.json": "K2",
        "configs/link.json": "-> keep.json", "etc": "/", "etc/x": "x"}


def test_whiteout_then_recreate_in_a_later_layer(tmp_path):
    apply_layers([layer(("configs/p/catalog.json", "f", "1")),
                  layer(("configs/.wh.p", "f", "")),
                  layer(("configs/p/catalog.json", "f", "3"))], str(tmp_path))
    assert tree(tmp_path)["configs/p/catalog.json"] == "3"


def test_only_prefix_extracts_the_configs_dir(tmp_path):
    layers = [layer(("bin/opm", "f", "binary"), ("configs/p/catalog.json", "f", "1"), ("configs.txt", "f", "no"),
                    ("tmp/cache/x", "f", "c")),
              layer((".wh.bin", "f", ""), ("configs/.wh.q", "f", ""), ("configs/q/catalog.json", "f", "2"),
                    ("dev-fifo", "fifo", None))]
    apply_layers(layers, str(tmp_path), only_prefix="/configs")
    assert tree(tmp_path) == {"configs": "/", "configs/p": "/", "configs/p/catalog.json": "1",
                              "configs/q": "/", "configs/q/catalog.json": "2"}


def test_whiteout_of_the_prefix_itself_and_root_opaque(tmp_path):
    apply_layers([layer(("configs/p/catalog.json", "f", "1")), layer((".wh.configs", "f", ""))],
                 str(tmp_path / "a"), only_prefix="configs/")
    assert tree(tmp_path / "a") == {}
    apply_layers([layer(("configs/p/catalog.json", "f", "1")),
                  layer((".wh..wh..opq", "f", ""), ("configs/q/catalog.json", "f", "2"))],
                 str(tmp_path / "b"), only_prefix="/configs")
    assert tree(tmp_path / "b") == {"configs": "/", "configs/q": "/", "configs/q/catalog.json": "2"}


def test_hardlink_inside_is_copied(tmp_path):
    apply_layers([layer(("configs/a.json", "f", "{}"), ("configs/b.json", "h", "configs/a.json"))], str(tmp_path))
    assert tree(tmp_path) == {"configs": "/", "configs/a.json": "{}", "configs/b.json": "{}"}


@pytest.mark.parametrize("layers,entry", [
    ([[("../evil", "f", "x")]], "'../evil'"),
    ([[("configs/../../evil", "f", "x")]], "'configs/../../evil'"),
    ([[("/etc/evil", "f", "x")]], "'/etc/evil'"),
    ([[("configs/out", "s", "../../outside")]], "'configs/out' -> '../../outside'"),
    ([[("configs/abs", "s", "/etc")]], "'configs/abs' -> '/etc'"),
    ([[("configs/hard", "h", "../etc/passwd")]], "'../etc/passwd'"),
    ([[("configs/hard", "h", "/etc/passwd")]], "'/etc/passwd'"),
    # a link that is fine lexically but escapes through another link
    ([[("configs/up", "s", "."), ("configs/esc", "s", "up/../../x")]], "'configs/esc' -> 'up/../../x'"),
    # a link made harmful by a later layer replacing what it resolves through
    ([[("configs/d", "d", None), ("configs/d/sub", "d", None), ("configs/sub", "d", None),
       ("configs/l", "s", "d/sub/../../../x")],
      [("configs/d", "s", ".")]], "'configs/l' -> 'd/sub/../../../x' resolves outside"),
])
def test_entries_escaping_the_destination_are_refused(tmp_path, layers, entry):
    dest = tmp_path / "dest"
    with pytest.raises(CatalogError) as err:
        apply_layers([layer(*entries) for entries in layers], str(dest))
    assert entry in str(err.value)
    assert "outside" in str(err.value) or "'..'" in str(err.value)
    assert not (tmp_path / "evil").exists() and not (tmp_path / "x").exists()


def test_write_through_a_link_inside_is_allowed(tmp_path):
    apply_layers([layer(("data", "d", None), ("configs", "s", "data"), ("configs/p.json", "f", "{}"))], str(tmp_path))
    assert tree(tmp_path) == {"data": "/", "data/p.json": "{}", "configs": "-> data"}


def test_write_through_a_link_planted_outside_is_refused(tmp_path):
    # a destination that already holds a link pointing out (an earlier, unchecked extraction)
    dest = tmp_path / "dest"
    dest.mkdir()
    (tmp_path / "outside").mkdir()
    os.symlink(str(tmp_path / "outside"), dest / "configs")
    with pytest.raises(CatalogError, match="'configs/p.json'.*symbolic link"):
        apply_layers([layer(("configs/p.json", "f", "{}"))], str(dest))
    assert os.listdir(tmp_path / "outside") == []


@pytest.mark.parametrize("data,message", [
    (b"\x28\xb5\x2f\xfd" + b"\0" * 64, "zstd-compressed layers are not supported"),
    (b"this is not a tar archive at all" * 40, "not a tar archive"),
])
def test_unreadable_layers(tmp_path, data, message):
    with pytest.raises(CatalogError, match=message):
        apply_layers([io.BufferedReader(io.BytesIO(data))], str(tmp_path))


def test_truncated_layer(tmp_path):
    whole = layer(("configs/p.json", "f", "x" * 100000), gz=False).read()
    with pytest.raises(CatalogError, match="layer 1"):
        apply_layers([io.BufferedReader(io.BytesIO(whole[:5000]))], str(tmp_path))


def _fbc_layers(src):
    """The FBC split over two layers the way an image build would, plus a whiteout of junk."""
    files = []
    for path in sorted(Path(src).rglob("*")):
        if path.is_file():
            files.append(("configs/" + path.relative_to(src).as_posix(), "f", path.read_bytes()))
    half = len(files) // 2
    return [layer(("configs", "d", None), ("configs/junk", "d", None), ("configs/junk/catalog.json", "f", "{"),
                  *files[:half]),
            layer(("configs/.wh.junk", "f", ""), *files[half:], gz=False)]


@needs_corpus
@pytest.mark.parametrize("item", ["fbc/oc/test-declcfg", "fbc/oc-mirror/integration-test-catalogs/test-catalog-latest",
                                  "fbc/oc-mirror/redhat-operator-index-extracts/jaeger-product"])
def test_image_layers_give_the_model_of_the_directory(tmp_path, item):
    src = CORPUS / item
    location = index_location({LABEL_CONFIGS: "/configs"})
    apply_layers(_fbc_layers(src), str(tmp_path), only_prefix=location.prefix)
    from_image = load_extracted(str(tmp_path), location)
    direct = load_fbc(str(src))
    canon = sorted(json.dumps(b, sort_keys=True) for b in render_fbc(direct))
    assert sorted(json.dumps(b, sort_keys=True) for b in render_fbc(from_image)) == canon


@needs_corpus
def test_sqlite_image_layer(tmp_path):
    data = (CORPUS / "sqlite/oc-test.db").read_bytes()
    location = index_location({LABEL_DATABASE: "/database/index.db"})
    apply_layers([layer(("bin/opm", "f", "x"), ("database/index.db", "f", data))], str(tmp_path),
                 only_prefix=location.prefix)
    assert sorted(os.listdir(tmp_path)) == ["database"]
    catalog = load_extracted(str(tmp_path), location, packages=["prometheus"])
    assert list(catalog.packages) == ["prometheus"] and len(catalog.packages["prometheus"].bundles) == 3
