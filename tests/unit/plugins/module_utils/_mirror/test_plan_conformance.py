# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The peers' own test cases, replayed against the mirror planning (naming, mirror sets, CatalogSource).

- ``oc_mapping_cases.yaml``: openshift/oc pkg/cli/admin/catalog tests (naming ``oc``).
- ``expected/oc-mirror-v2_cases.yaml``: oc-mirror v2 tests (naming ``oc-mirror``); its filter cases
  belong to the catalog filter tests and are not replayed here.

The YAML is read at test time from tests/fixtures/catalogs (located by tests/support/corpus.py);
every test skips with the reason when it is absent. Test ids are the cases' own names.
"""

from __future__ import annotations

import json
import os
import sqlite3

import pytest

yaml = pytest.importorskip("yaml")

from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import AirgapError, ConfigError
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.catalog_source import (
    catalog_source,
    catalog_source_for,
    catalog_source_name,
    cluster_catalog_for,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.documents import dump_yaml
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.endpoints import parse_destination
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.mirror_sets import (
    icsp_objects,
    idms_objects,
    itms_objects,
    mirror_set_objects,
    mirror_sets,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.naming import (
    PlannedImage,
    catalog_target,
    mapping_lines,
    plan_catalog,
    plan_images,
    target_for,
    with_max_nested_paths,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.reference import ImageReference, parse
from tests.support.corpus import CORPUS

CATALOGS = str(CORPUS)
OC_CASES = os.path.join(CATALOGS, "oc_mapping_cases.yaml")
V2_CASES = os.path.join(CATALOGS, "expected", "oc-mirror-v2_cases.yaml")


def _load(path):
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


OC = _load(OC_CASES)
V2 = _load(V2_CASES)
OC_MISSING = pytest.mark.skipif(OC is None, reason=f"test fixture not found: {OC_CASES}")
V2_MISSING = pytest.mark.skipif(V2 is None, reason=f"test fixture not found: {V2_CASES}")


def cases(data, key, name_key="name"):
    """(case, id) params for the list ``data[key]``; a placeholder skip when the file is absent."""
    if data is None:
        return [pytest.param(None, id=f"{key}-corpus-absent")]
    items = data[key]["cases"] if isinstance(data[key], dict) else data[key]
    ids, out = {}, []
    for case in items:
        name = str(case.get(name_key) or case.get("go_test"))
        count = ids.get(name, 0)
        ids[name] = count + 1
        # a few Go tests reuse one name for several rows; keep the id readable and unique
        case_id = name if count == 0 else f"{name} [{count + 1}]"
        out.append(pytest.param(case, id=case_id))
    return out


def strip_transport(text):
    return text.split("://", 1)[1] if text.startswith("docker://") else text


# ---------------------------------------------------------------------------------------------
# oc: naming


def oc_target_text(target):
    path = "/".join(p for p in (target["namespace"], target["name"]) if p)
    if target["type"] == "file":
        base = "file://" + "/".join(p for p in (target["registry"], path) if p)
    else:
        base = f"{target['registry']}/{path}"
    return base


def check_oc_expected(planned, expected):
    by_line = {p.mapping_line: p for p in planned}
    assert sorted(by_line) == sorted(e["mapping_line"] for e in expected)
    for case in expected:
        item = by_line[case["mapping_line"]]
        source = case["source"]
        assert (f"{item.source.name}@{item.source.digest}" if item.source.digest else str(item.source)) == source
        target = case["target"]
        assert item.target.name == oc_target_text(target)
        assert item.target.tag == target["tag"]
        assert (item.target.digest or "") == target["id"]
        if case["target_by_digest"]:
            assert f"{item.target.name}@{item.target.digest}" == case["target_by_digest"]
        else:
            assert item.target.digest is None
    assert mapping_lines(planned) == sorted(e["mapping_line"] for e in expected)


@OC_MISSING
@pytest.mark.parametrize("case", cases(OC, "mapping_for_images_cases"))
def test_oc_mapping_for_images(case):
    planned = plan_images(case["images"], case["dest"], "oc", case["max_components"], catalog=case["src_index"])
    check_oc_expected(planned, case["expected"])


def catalog_images(relative):
    """The images `oc adm catalog mirror` reads from a test catalog (bundle images + relatedImages).

    Read here with plain json/sqlite3 so the naming test does not depend on the catalog loader.
    """
    path = os.path.join(CATALOGS, relative)
    images = set()
    if relative.endswith(".db"):
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            images.update(row[0] for row in connection.execute("SELECT image FROM related_image"))
            images.update(row[0] for row in connection.execute("SELECT bundlepath FROM operatorbundle"))
        finally:
            connection.close()
    else:
        decoder = json.JSONDecoder()
        for name in sorted(os.listdir(path)):
            if not name.endswith((".json", ".yaml")):
                continue
            with open(os.path.join(path, name), encoding="utf-8") as handle:
                text = handle.read()
            position = 0
            while True:
                while position < len(text) and text[position].isspace():
                    position += 1
                if position >= len(text):
                    break
                blob, position = decoder.raw_decode(text, position)
                if blob.get("schema") == "olm.bundle":
                    images.add(blob.get("image", ""))
                    images.update(r.get("image", "") for r in blob.get("relatedImages") or [])
    return sorted(i for i in images if i)


def catalog_params(data, key):
    out = []
    for param in cases(data, key):
        case = param.values[0]
        if case is None:
            out.append(pytest.param(None, None, id=param.id))
            continue
        for catalog in case["catalog"]:
            out.append(pytest.param(case, catalog, id=f"{param.id} <{catalog}>"))
    return out


@OC_MISSING
@pytest.mark.parametrize("case, catalog", catalog_params(OC, "mirror_catalog_cases") + catalog_params(OC, "airgap_cases"))
def test_oc_mirror_catalog(case, catalog):
    if not os.path.exists(os.path.join(CATALOGS, catalog)):
        pytest.skip(f"test fixture not found: {os.path.join(CATALOGS, catalog)}")
    images = catalog_images(catalog)
    assert images, f"no images read from {catalog}"
    planned = plan_catalog(case["src_index"], images, case["dest"], "oc", case["max_components"])
    check_oc_expected(planned, case["expected"])


@OC_MISSING
def test_oc_sqlite_and_fbc_give_the_same_images():
    assert catalog_images("sqlite/oc-test.db") == catalog_images("fbc/oc/test-declcfg")


def described(text):
    """A reference from the cases' prose: 'REF (no digest)' or 'NAME tag T id DIGEST'."""
    text = text.split(" (")[0]
    if " tag " in text:
        name, dummy, rest = text.partition(" tag ")
        tag, dummy, digest = rest.partition(" id ")
        ref = parse(f"{name}:{tag}")
        return ref, digest
    return parse(text), None


@OC_MISSING
@pytest.mark.parametrize("case", cases(OC, "write_to_mapping_cases"))
def test_oc_write_to_mapping(case):
    planned = []
    if case.get("mapping"):
        for source_text, target_text in case["mapping"].items():
            source = parse(source_text)
            target, dummy = described(target_text)
            planned.append(PlannedImage(source, target.with_digest(source.digest)))
    else:
        for line in case["want"]:
            source_text, target_text = line.split("=")
            source = parse(source_text)
            planned.append(PlannedImage(source, parse(target_text).with_digest(source.digest)))
    assert mapping_lines(planned) == sorted(case["want"])
    # and our own naming reaches the same targets from the sources alone (dest quay.io/olmtest)
    for item in planned:
        assert target_for(item.source, "quay.io/olmtest").mapping_line == item.mapping_line


def registry_mapping_planned(mapping):
    planned = []
    for source_text, target_text in mapping.items():
        source = parse(source_text)
        target, dummy = described(target_text)
        planned.append(PlannedImage(source, target))
    return planned


@OC_MISSING
@pytest.mark.parametrize("case", cases(OC, "registry_mapping_cases"))
def test_oc_registry_mapping(case):
    planned = registry_mapping_planned(case["mapping"])
    got = mirror_sets(planned, "digest", "oc", case["scope"] or "repository")
    flat = {source: mirrors for sets in got.values() for source, mirrors in sets.items()}
    assert flat == {k: [v] for k, v in case["want"].items()}


def mirror_set_case(case, kind):
    mapping = {k: [v] for k, v in case["registry_mapping"].items()}
    if "want_error" in case:
        with pytest.raises(ConfigError, match="max_size"):
            mirror_set_objects(kind, case["object_name"], mapping, case["byte_limit"], numbered=False,
                               labels={"operators.openshift.org/catalog": "true"})
        return
    objects = mirror_set_objects(kind, case["object_name"], mapping, case["byte_limit"], numbered=False,
                                 labels={"operators.openshift.org/catalog": "true"})
    assert len(objects) == 1
    assert dump_yaml(objects[0]) == case["want_yaml"]


@OC_MISSING
@pytest.mark.parametrize("case", cases(OC, "icsp_cases"))
def test_oc_generate_icsp(case):
    mirror_set_case(case, "ImageContentSourcePolicy")


@OC_MISSING
@pytest.mark.parametrize("case", cases(OC, "idms_cases"))
def test_oc_generate_idms(case):
    mirror_set_case(case, "ImageDigestMirrorSet")


@OC_MISSING
@pytest.mark.parametrize("case", cases(OC, "icsp_split_cases"))
@pytest.mark.parametrize("builder", [icsp_objects, idms_objects], ids=["ICSP", "IDMS"])
def test_oc_split_mirror_sets(case, builder):
    # registries foo-N -> bar-N (each by digest) until keys + values reach 100000 bytes
    planned, total, index = [], 0, 0
    digest = "sha256:" + "d" * 64
    while total < 100000:
        source = ImageReference(f"foo-{index}", "img", None, digest)
        target = ImageReference(f"bar-{index}", "img", "x", digest)
        planned.append(PlannedImage(source, target))
        total += len(f"foo-{index}") + len(f"bar-{index}")
        index += 1
    objects = builder(planned, "catalog", scope=case["scope"], max_size=case["limit"])
    assert len(objects) > 1
    seen = []
    for number, obj in enumerate(objects):
        assert obj["metadata"]["name"] == f"catalog-{number}"
        assert len(dump_yaml(obj).encode()) <= case["limit"]
        key = "repositoryDigestMirrors" if obj["kind"] == "ImageContentSourcePolicy" else "imageDigestMirrors"
        seen.extend(entry["source"] for entry in obj["spec"][key])
    assert sorted(seen) == sorted(f"foo-{i}" for i in range(index))


@OC_MISSING
@pytest.mark.parametrize("case", cases(OC, "catalog_source_cases"))
def test_oc_generate_catalog_source(case):
    source = parse(case["source"])
    target, digest = described(case["mapped_to"])
    planned = PlannedImage(source, target.with_digest(digest or None), image_type="operatorCatalog")
    assert dump_yaml(catalog_source_for(planned, "oc")) == case["want_yaml"]


# ---------------------------------------------------------------------------------------------
# oc-mirror v2: mirror sets over the image lists of its tests


def image_list(name):
    """The CopyImageSchema list ``name`` as PlannedImages (oci:// origins cannot be pulled by a cluster)."""
    planned = []
    for entry in V2["image_lists"][name]:
        origin = strip_transport(entry["origin"])
        planned.append(
            PlannedImage(
                source=_dest_ref(entry["source"]),
                target=_dest_ref(entry["destination"]),
                origin=None if entry["origin"].startswith("oci://") else parse(origin),
                image_type=entry["type"],
            )
        )
    return planned


def _dest_ref(text):
    """A destination as oc-mirror writes it: the first component is always the registry."""
    text = strip_transport(text)
    digest = None
    if "@" in text:
        text, digest = text.split("@", 1)
    tag = None
    if text.rfind(":") > text.rfind("/"):
        text, tag = text.rsplit(":", 1)
    location = parse_destination(text)
    return ImageReference(location.registry, location.repository, tag, digest)


def spec_list(obj):
    key = "imageDigestMirrors" if obj["kind"] == "ImageDigestMirrorSet" else "imageTagMirrors"
    return sorted(obj["spec"][key], key=lambda e: e["source"])


def same_mirror_sets(got, expected):
    """oc-mirror compares entries order-insensitively (assert.ElementsMatch)."""
    assert sorted(o["metadata"]["name"] for o in got) == sorted(o["metadata"]["name"] for o in expected)
    by_name = {o["metadata"]["name"]: o for o in got}
    for want in expected:
        have = by_name[want["metadata"]["name"]]
        assert have["apiVersion"] == want["apiVersion"]
        assert have["kind"] == want["kind"]
        assert spec_list(have) == spec_list(want)
        assert "status" not in have


@V2_MISSING
@pytest.mark.parametrize("case", cases(V2, "idms_itms_generator_cases", "caseName"))
def test_v2_idms_itms_files(case):
    planned = image_list(case["imgList"])
    files = []
    if idms_objects(planned, naming="oc-mirror"):
        files.append("idms-oc-mirror.yaml")
    if itms_objects(planned, naming="oc-mirror"):
        files.append("itms-oc-mirror.yaml")
    assert len(files) == case["expectedNumberFilesGenerated"]
    assert files == case["expectedFiles"]


@V2_MISSING
@pytest.mark.parametrize("case", cases(V2, "generate_idms_cases", "caseName"))
def test_v2_generate_idms(case):
    same_mirror_sets(idms_objects(image_list(case["imgList"]), naming="oc-mirror"), case["expected"])


@V2_MISSING
@pytest.mark.parametrize("case", cases(V2, "generate_itms_cases", "caseName"))
def test_v2_generate_itms(case):
    same_mirror_sets(itms_objects(image_list(case["imgList"]), naming="oc-mirror"), case["expected"])


@V2_MISSING
@pytest.mark.parametrize("case", cases(V2, "generate_image_mirrors_cases", "caseName"))
def test_v2_generate_image_mirrors(case):
    kind = "digest" if case["mode"] == "DigestsOnly" else "tag"
    scope = "repository" if case["forceRepositoryScope"] else "auto"
    got = mirror_sets(image_list(case["imgList"]), kind, "oc-mirror", scope)
    assert {c: {s: sorted(m) for s, m in sets.items()} for c, sets in got.items()} == {
        c: {s: sorted(m) for s, m in sets.items()} for c, sets in (case["expected"] or {}).items()
    }


# ---------------------------------------------------------------------------------------------
# oc-mirror v2: CatalogSource / ClusterCatalog

V2_CATALOG = "registry.redhat.io/redhat/redhat-operator-index:v4.15"
V2_CATALOG_DEST = "myregistry/mynamespace/redhat/redhat-operator-index:v4.15"


def v2_catalog_planned(case):
    if case.get("imgList"):
        entry = [e for e in case["imgList"] if e["type"] == "operatorCatalog"][0]
        return PlannedImage(_dest_ref(entry["source"]), _dest_ref(entry["destination"]),
                            parse(strip_transport(entry["origin"])), "operatorCatalog")
    if "7c4ef7434c97" in str(case):
        # the digest-pinned catalog of the "catalog using a digest as tag" case
        digest_case = [c for c in V2["catalog_source_cases"] if c.get("imgList")][0]
        return v2_catalog_planned(digest_case)
    # the imgList of the nominal cases (noted, not listed, in the corpus): the catalog and its
    # mirror, plus a second copy to the local cache that must not produce a CatalogSource
    return PlannedImage(parse(V2_CATALOG), _dest_ref(V2_CATALOG_DEST), parse(V2_CATALOG), "operatorCatalog")


@V2_MISSING
@pytest.mark.parametrize("case", cases(V2, "catalog_source_cases", "caseName"))
def test_v2_catalog_source(case):
    planned = v2_catalog_planned(case)
    if case["caseName"].startswith("ClusterCatalog"):
        obj = cluster_catalog_for(planned, "oc-mirror")
        assert obj["kind"] == case["expected"]["kind"]
        assert obj["metadata"]["name"] == case["expected_name"]
        assert obj["spec"]["source"] == case["expected"]["spec"]["source"]
        return
    kwargs = {}
    if "template" in case["caseName"]:
        # targetCatalogSourceTemplate with spec.updateStrategy.registryPoll.interval 30m0s
        kwargs["update_interval"] = "30m0s"
    obj = catalog_source_for(planned, "oc-mirror", **kwargs)
    expected_spec = case.get("expected_spec") or case["expected"]["spec"]
    assert obj["spec"] == expected_spec
    if "expected" in case:
        assert obj["apiVersion"] == case["expected"]["apiVersion"]
        assert obj["kind"] == case["expected"]["kind"]
        assert obj["metadata"]["name"] == case["expected"]["metadata"]["name"]
        assert obj["metadata"]["namespace"] == case["expected"]["metadata"]["namespace"]
    if "expected_file" in case:
        assert obj["metadata"]["name"] + ".yaml" == case["expected_file"]


@V2_MISSING
def test_v2_local_cache_copy_gets_no_catalog_source():
    """OCPBUGS-41608: the copy of the catalog into oc-mirror's cache is not a CatalogSource.

    We have no cache: plan_catalog plans exactly one catalog entry, so exactly one CatalogSource.
    """
    planned = plan_catalog(V2_CATALOG, [], "myregistry.example/mynamespace", "oc-mirror")
    catalogs = [p for p in planned if p.image_type == "operatorCatalog"]
    assert len(catalogs) == 1
    assert catalog_source_for(catalogs[0], "oc-mirror")["metadata"]["name"] == "cs-redhat-operator-index-v4-15"


# ---------------------------------------------------------------------------------------------
# oc-mirror v2: naming


@V2_MISSING
@pytest.mark.parametrize("case", cases(V2, "with_max_nested_paths_cases", "go_test"))
def test_v2_with_max_nested_paths(case):
    if "expectedError" in case:
        with pytest.raises(AirgapError, match="tag and digest are empty"):
            with_max_nested_paths(case["imgRef"], case["maxNestedPaths"])
        return
    assert with_max_nested_paths(case["imgRef"], case["maxNestedPaths"]) == case["expectedOutRef"]
    # the same squeeze applied by the planner to an image mirrored under a nested destination
    ref = parse(case["imgRef"])
    registry, dummy, path = case["imgRef"].split("@")[0].partition("/")
    first, dummy, rest = path.partition("/")
    planned = target_for(f"source.example/{rest}@{ref.digest}", f"{registry}/{first}", "oc-mirror",
                         max_nested_paths=case["maxNestedPaths"])
    assert f"{planned.target.name}@{planned.target.digest}" == case["expectedOutRef"]


# Inputs of the TestPrepareM2MCopyBatch catalog rows, transcribed from oc-mirror's
# internal/pkg/operator/common_test.go (the corpus keeps only their expected destinations).
M2M_CATALOG_INPUTS = {
    "catalog image - targetTag v4.10.0": {"target_tag": "v4.10.0"},
    "catalog image - targetCatalog 12345/certified-operators-pinned": {
        "target_name": "12345/certified-operators-pinned"},
    "catalog image - targetTag v4.17.0-20241114 & targetCatalog redhat/certified-operators-pinned": {
        "target_tag": "v4.17.0-20241114", "target_name": "redhat/certified-operators-pinned"},
    "oci catalog - targetTag v1.0 & targetCatalog coffee-shop-index": {
        "catalog": "oci:///tmp/test/catalog-on-disk2", "target_tag": "v1.0", "target_name": "coffee-shop-index"},
    "oci catalog - targetCatalog tea-shop-index only": {
        "catalog": "oci:///tmp/test/catalog-on-disk3", "target_name": "tea-shop-index"},
    "oci catalog - targetTag v1.1 only (catalog-on-disk1)": {
        "catalog": "oci:///tmp/test/catalog-on-disk1", "target_tag": "v1.1"},
    "oci catalog nominal (catalog-on-disk4)": {"catalog": "oci:///tmp/test/catalog-on-disk4"},
}


@V2_MISSING
@pytest.mark.parametrize("case", cases(V2, "m2m_destination_cases", "caseName"))
def test_v2_m2m_destination(case):
    dest = case.get("destination", "docker://localhost:5000/test")
    if "expected_final_destination" in case:
        inputs = dict(M2M_CATALOG_INPUTS.get(case["caseName"], {}))
        catalog = inputs.pop("catalog", None) or strip_transport(case["origin"])
        target = catalog_target(catalog, dest, "oc-mirror", **inputs)
        assert "docker://" + str(target) == case["expected_final_destination"]
        return
    digest_tag_mode = "oc" if "generateV1DestTags" in case["caseName"] else None
    for entry in case["expected"]:
        origin = strip_transport(entry["origin"])
        if entry["type"] == "operatorCatalog":
            if entry["destination"].startswith("docker://" + case.get("cache", "\0")):
                continue  # oc-mirror's own cache copy: we have no cache
            target = catalog_target(origin, dest, "oc-mirror")
            assert "docker://" + str(target) == entry["destination"]
            continue
        planned = target_for(origin, dest, "oc-mirror", digest_tag_mode=digest_tag_mode, image_type=entry["type"])
        assert "docker://" + planned.mapping_line.split("=", 1)[1] == entry["destination"]
        if digest_tag_mode is None:
            # the copy is pulled by digest when the origin has one
            assert parse(strip_transport(entry["source"])) == planned.source.with_tag(
                None if planned.source.digest else planned.source.tag)


@V2_MISSING
@pytest.mark.parametrize("case", cases(V2, "cached_catalog_cases", "go_test"))
def test_v2_cached_catalog(case):
    # cachedCatalog names the filtered catalog in oc-mirror's cache: the same rule as catalog_target
    target_name, expected = case["targetCatalog"], case["expected"]
    if target_name and target_name != target_name.lower():
        # 'targetTag' is not a valid repository name (upper case): a registry would refuse it,
        # so we refuse it up front, and check the rule with the name a registry would accept
        with pytest.raises(ConfigError, match="target_name"):
            catalog_target(case["catalog"], case["localStorage"], "oc-mirror", target_name=target_name)
        expected = expected.replace("/" + target_name, "/" + target_name.lower())
        target_name = target_name.lower()
    target = catalog_target(case["catalog"], case["localStorage"], "oc-mirror",
                            target_name=target_name, target_tag=case["filteredTag"])
    assert "docker://" + str(target) == expected


# ---------------------------------------------------------------------------------------------
# cross-mode: our objects for the oc catalog cases are accepted by CatalogSource naming rules


@OC_MISSING
def test_oc_catalog_source_name_is_the_index_name():
    assert catalog_source_name("quay.io/the/index:1", "oc") == "index"
    obj = catalog_source(catalog_source_name("quay.io/the/index:1"), "quay.io/the/index:1")
    assert obj["metadata"] == {"name": "index", "namespace": "openshift-marketplace"}
