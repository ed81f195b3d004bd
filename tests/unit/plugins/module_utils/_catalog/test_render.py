# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rendering the model back to FBC: opm render order, unknown blobs kept, files per package."""

from __future__ import annotations

import json

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.fbc import iter_fbc_blobs
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.model import Catalog
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.render import render_fbc, write_fbc
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import CatalogError


def canon(blob):
    return json.dumps(blob, sort_keys=True)


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
