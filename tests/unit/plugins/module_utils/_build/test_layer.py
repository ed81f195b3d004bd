# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The catalog layer is reproducible: same catalog, same bytes; fixed names, modes and times."""

from __future__ import annotations

import gzip
import hashlib
import json
import tarfile

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._build.layer import build_layer
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.layers import apply_layers
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.loader import load_catalog
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.model import Catalog
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import CatalogError
from tests.support.catalog_blobs import chain_package, make_catalog
from tests.support.catalog_images import tar_layer


def two_packages(order=("zeta", "alpha")):
    blobs = []
    for name in order:
        blobs.extend(chain_package(name, ["1.0.0", "1.1.0"]))
    return make_catalog(*blobs)


def members(layer):
    with tarfile.open(layer.path, "r:gz") as tar:
        return [(m.name, m.type, oct(m.mode), m.uid, m.gid, m.uname, m.gname, m.mtime) for m in tar.getmembers()]


def test_same_catalog_gives_the_same_bytes(tmp_path):
    first = build_layer(two_packages(), str(tmp_path))
    # the same catalog read in another order, in another directory
    (tmp_path / "other").mkdir()
    second = build_layer(two_packages(("alpha", "zeta")), str(tmp_path / "other"))
    with open(first.path, "rb") as a, open(second.path, "rb") as b:
        assert a.read() == b.read()
    assert (first.digest, first.diff_id, first.size) == (second.digest, second.diff_id, second.size)


def test_digest_diff_id_and_size_describe_the_file(tmp_path):
    layer = build_layer(two_packages(), str(tmp_path))
    with open(layer.path, "rb") as handle:
        data = handle.read()
    assert layer.size == len(data)
    assert layer.digest == "sha256:" + hashlib.sha256(data).hexdigest()
    assert layer.diff_id == "sha256:" + hashlib.sha256(gzip.decompress(data)).hexdigest()
    # gzip header: no file name, mtime 0
    assert data[3] & 0x08 == 0
    assert data[4:8] == b"\0\0\0\0"


def test_members_names_modes_owners_and_times(tmp_path):
    layer = build_layer(two_packages(), str(tmp_path))
    assert members(layer) == [
        ("configs", tarfile.DIRTYPE, "0o755", 0, 0, "", "", 0),
        ("configs/.wh..wh..opq", tarfile.REGTYPE, "0o644", 0, 0, "", "", 0),
        ("configs/alpha", tarfile.DIRTYPE, "0o755", 0, 0, "", "", 0),
        ("configs/alpha/catalog.json", tarfile.REGTYPE, "0o644", 0, 0, "", "", 0),
        ("configs/zeta", tarfile.DIRTYPE, "0o755", 0, 0, "", "", 0),
        ("configs/zeta/catalog.json", tarfile.REGTYPE, "0o644", 0, 0, "", "", 0),
        ("tmp", tarfile.DIRTYPE, "0o1777", 0, 0, "", "", 0),
        ("tmp/.wh.cache", tarfile.REGTYPE, "0o644", 0, 0, "", "", 0),
    ]


def test_package_json_is_opm_style_and_complete(tmp_path):
    layer = build_layer(two_packages(), str(tmp_path))
    with tarfile.open(layer.path, "r:gz") as tar:
        text = tar.extractfile("configs/alpha/catalog.json").read().decode("utf-8")
    decoder = json.JSONDecoder()
    blobs, pos = [], 0
    while pos < len(text):
        blob, pos = decoder.raw_decode(text, pos)
        blobs.append(blob)
        assert text[pos] == "\n"
        pos += 1
    # 4-space indented objects, one after the other
    assert text.startswith('{\n    "schema": "olm.package"')
    assert [(b["schema"], b["name"]) for b in blobs] == [
        ("olm.package", "alpha"), ("olm.channel", "stable"), ("olm.bundle", "alpha.v1.0.0"),
        ("olm.bundle", "alpha.v1.1.0")]


def test_blobs_of_no_package_go_to_configs_catalog_json(tmp_path):
    catalog = two_packages()
    catalog.others.append({"schema": "example.custom", "value": 1})
    layer = build_layer(catalog, str(tmp_path))
    with tarfile.open(layer.path, "r:gz") as tar:
        assert json.loads(tar.extractfile("configs/catalog.json").read()) == {"schema": "example.custom", "value": 1}
    assert [m[0] for m in members(layer)][:3] == ["configs", "configs/.wh..wh..opq", "configs/alpha"]
    assert "configs/catalog.json" in [m[0] for m in members(layer)]


def test_a_package_name_that_is_not_a_directory_name_is_refused(tmp_path):
    catalog = Catalog()
    catalog.packages["../evil"] = two_packages().packages["alpha"]
    with pytest.raises(CatalogError, match="cannot be a directory name"):
        build_layer(catalog, str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def _base_catalog_layer(tmp_path, directory="configs"):
    """A catalog image's own layer: package "old" and a junk file under ``directory``, an opm cache."""
    old = chain_package("old", ["1.0.0"])
    text = "".join(json.dumps(blob) + "\n" for blob in old).encode("utf-8")
    blob, _diff_id = tar_layer([(directory, None), (f"{directory}/old", None), (f"{directory}/old/catalog.json", text),
                                (f"{directory}/README", b"stale\n"), ("tmp", None), ("tmp/cache", None),
                                ("tmp/cache/cache.json", b"{}")])
    path = tmp_path / "base-layer.tar.gz"
    path.write_bytes(blob)
    return path


def test_the_base_catalog_under_configs_is_replaced_not_merged(tmp_path):
    base = _base_catalog_layer(tmp_path)
    layer = build_layer(two_packages(), str(tmp_path))
    root = tmp_path / "root"
    with open(base, "rb") as lower, open(layer.path, "rb") as upper:
        apply_layers([lower, upper], str(root))
    assert sorted(p.name for p in (root / "configs").iterdir()) == ["alpha", "zeta"]
    assert sorted(load_catalog(str(root / "configs")).packages) == ["alpha", "zeta"]
    assert not (root / "tmp" / "cache").exists()


def test_another_fbc_directory_of_the_base_is_whited_out(tmp_path):
    base = _base_catalog_layer(tmp_path, "opt/catalog")
    layer = build_layer(two_packages(), str(tmp_path), hidden=["/opt/catalog", "/configs"])
    names = [m[0] for m in members(layer)]
    assert "opt/.wh.catalog" in names and names.index("opt") < names.index("opt/.wh.catalog")
    assert names.count("configs/.wh..wh..opq") == 1
    root = tmp_path / "root"
    with open(base, "rb") as lower, open(layer.path, "rb") as upper:
        apply_layers([lower, upper], str(root))
    assert not (root / "opt" / "catalog").exists()
    assert sorted(p.name for p in (root / "configs").iterdir()) == ["alpha", "zeta"]


@pytest.mark.parametrize("hidden", ["/", "/opt/../etc", "/opt/.wh.x"])
def test_a_hidden_path_that_is_no_directory_is_refused(tmp_path, hidden):
    with pytest.raises(CatalogError, match="cannot be whited out"):
        build_layer(two_packages(), str(tmp_path), hidden=[hidden])


def test_a_package_named_like_a_whiteout_is_refused(tmp_path):
    catalog = Catalog()
    catalog.packages[".wh..wh..opq"] = two_packages().packages["alpha"]
    with pytest.raises(CatalogError, match="cannot be a directory name"):
        build_layer(catalog, str(tmp_path))
