# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A catalog image's cache entry is trusted only if this user owns it and nobody else can write
it (issue 7, item 13). An image pinned by digest and cached is read with no registry at all,
so these tests need none: the pool is never used."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.image import load_catalog_image
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import CatalogError

DIGEST = "sha256:" + "ab" * 32
IMAGE = f"registry.example.com/cat@{DIGEST}"
OTHER_UID = 4242


class NoPool:
    def client(self, *args):
        raise AssertionError("a cached, pinned image must not be fetched")


@pytest.fixture
def cache(tmp_path):
    root = tmp_path / "cache"
    entry = root / DIGEST.replace(":", "-")
    pkg = entry / "rootfs" / "configs" / "p"
    pkg.mkdir(parents=True, mode=0o755)
    (pkg / "catalog.json").write_text(json.dumps({"schema": "olm.package", "name": "p"}), encoding="utf-8")
    (entry / "meta.json").write_text(json.dumps({
        "format": 1, "image": IMAGE, "digest": DIGEST, "manifest": DIGEST, "platform": None,
        "labels": {}, "kind": "fbc", "path": "/configs"}), encoding="utf-8")
    for current, dirs, files in os.walk(root):
        for name in dirs:
            os.chmod(os.path.join(current, name), 0o755)
        for name in files:
            os.chmod(os.path.join(current, name), 0o644)
    return root, entry


def test_an_entry_of_our_own_is_used(cache):
    root, dummy = cache
    catalog, digest, dummy = load_catalog_image(NoPool(), IMAGE, str(root))
    assert list(catalog.packages) == ["p"] and digest == DIGEST


@pytest.mark.parametrize("rel,mode", [("", 0o775), ("meta.json", 0o666), ("rootfs/configs", 0o757),
                                      ("rootfs/configs/p/catalog.json", 0o664)])
def test_an_entry_others_can_write_is_refused(cache, rel, mode):
    root, entry = cache
    os.chmod(entry / rel if rel else entry, mode)
    with pytest.raises(CatalogError) as err:
        load_catalog_image(NoPool(), IMAGE, str(root))
    target = str(entry / rel) if rel else str(entry)
    assert f"{target} can be written by other users (mode {mode:04o})" in str(err.value)
    assert "remove the entry, or give a cache_dir of your own" in str(err.value)


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
@pytest.mark.parametrize("rel", ["", "meta.json", "rootfs/configs/p/catalog.json"])
def test_an_entry_another_user_owns_is_refused(cache, rel):
    root, entry = cache
    os.chown(entry / rel if rel else entry, OTHER_UID, -1)
    with pytest.raises(CatalogError, match=rf"is owned by uid {OTHER_UID}, not by this user \(uid 0\)"):
        load_catalog_image(NoPool(), IMAGE, str(root))
