# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""naming.py: target names in oc and oc-mirror modes, options and errors beyond the peers' cases."""

from __future__ import annotations

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import ConfigError, InvalidReference
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.endpoints import FileReference
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.mirror_sets import mirror_sets
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

D1 = "sha256:" + "1" * 64


# ---------------------------------------------------------------------------------------------
# options


def test_max_components_one_is_refused_like_oc():
    with pytest.raises(ConfigError, match=r"max_components must be 0 \(no limit\) or greater than 1"):
        target_for("quay.io/a/b:1", "quay.io/org", max_components=1)


@pytest.mark.parametrize("value", [-1, "2", True, 1.5])
def test_max_components_must_be_an_integer(value):
    with pytest.raises(ConfigError, match="max_components"):
        target_for("quay.io/a/b:1", "quay.io/org", max_components=value)


@pytest.mark.parametrize("value", [1, -3, "x"])
def test_max_nested_paths_is_checked(value):
    with pytest.raises(ConfigError, match="max_nested_paths"):
        target_for("quay.io/a/b:1", "quay.io/org", "oc-mirror", max_nested_paths=value)


def test_unknown_modes_are_refused():
    with pytest.raises(ConfigError, match="naming 'skopeo'"):
        target_for("quay.io/a/b:1", "quay.io", "skopeo")
    with pytest.raises(ConfigError, match="digest_tag_mode 'md5'"):
        target_for("quay.io/a/b@" + D1, "quay.io", digest_tag_mode="md5")
    with pytest.raises(ConfigError, match="image_type"):
        PlannedImage(parse("quay.io/a/b:1"), parse("quay.io/c/d:1"), image_type="helm")


# ---------------------------------------------------------------------------------------------
# oc naming


def test_oc_tag_and_digest_keeps_the_tag_and_pulls_by_digest():
    planned = target_for(f"quay.io/a/b:v1@{D1}", "mirror.example.com")
    assert str(planned.target) == f"mirror.example.com/a/b:v1@{D1}"
    assert planned.mapping_line == f"quay.io/a/b@{D1}=mirror.example.com/a/b:v1"
    assert planned.origin_kind == "both"


def test_oc_hash_input_is_the_reference_as_library_go_prints_it():
    # The tags are FNV-1a 32 of the strings named, worked out apart from the code under test.
    # no registry written: library-go keeps none, and inserts no 'library/' (hash of "nginx@sha256:1...1")
    assert target_for(f"nginx@{D1}", "m.example.com").target.tag == "64d33648"
    # docker.io written: 'library/' is inserted (hash of "docker.io/library/nginx@sha256:1...1"; of the
    # string as written, "docker.io/nginx@...", it would be 69892049)
    assert target_for(f"docker.io/nginx@{D1}", "m.example.com").target.tag == "23d8ec85"
    # but the target path has the Docker defaults applied either way
    assert target_for(f"nginx@{D1}", "m.example.com").target.repository == "library/nginx"


def test_oc_digest_tag_modes():
    assert target_for(f"quay.io/a/b@{D1}", "m.example.com", digest_tag_mode="oc-mirror").target.tag == "sha256-" + "1" * 64
    assert target_for(f"quay.io/a/b@{D1}", "m.example.com", digest_tag_mode="short").target.tag == "11111111"


def test_oc_file_destination_keeps_full_paths():
    planned = target_for("quay.io/a/b/c/d:1", "file://store", max_components=2)
    assert planned.target == FileReference("store/a/b/c/d", "1")
    assert planned.mapping_line == "quay.io/a/b/c/d:1=file://store/a/b/c/d:1"


def test_oc_flattening_collision_is_an_error():
    with pytest.raises(ConfigError, match="would both be mirrored to mirror.example.com/org/a-b-c:1"):
        plan_images(["quay.io/a/b-c:1", "quay.io/a-b/c:1"], "mirror.example.com/org")
    # max_components 0 keeps them apart
    assert len(plan_images(["quay.io/a/b-c:1", "quay.io/a-b/c:1"], "mirror.example.com/org", max_components=0)) == 2


def test_plan_images_merges_duplicates_and_sorts():
    planned = plan_images(
        ["quay.io/z/y:1", "", "quay.io/a/b", "quay.io/a/b:latest", parse("quay.io/z/y:1"), f"quay.io/a/b@{D1}"],
        "m.example.com",
    )
    assert [p.mapping_line for p in planned] == [
        "quay.io/a/b:latest=m.example.com/a/b:latest",
        f"quay.io/a/b@{D1}=m.example.com/a/b:3a213273",  # FNV-1a 32 of "quay.io/a/b@sha256:1...1"
        "quay.io/z/y:1=m.example.com/z/y:1",
    ]
    assert mapping_lines(planned + planned) == [p.mapping_line for p in planned]
    assert [p.origin_kind for p in planned] == ["tag", "digest", "tag"]


def test_target_too_long_is_refused():
    long_path = "/".join(["abcdefghij"] * 24)
    with pytest.raises(InvalidReference, match="longer than 255"):
        target_for(f"quay.io/{long_path}:1", "mirror.example.com/org", max_components=0)


def test_oc_catalog_target_name_and_tag():
    target = catalog_target("registry.redhat.io/redhat/redhat-operator-index:v4.15", "m.example.com/org", "oc",
                            target_name="mirror/redhat-operators", target_tag="v4.15-filtered")
    assert str(target) == "m.example.com/org/mirror-redhat-operators:v4.15-filtered"


# ---------------------------------------------------------------------------------------------
# oc-mirror naming


def test_oc_mirror_naming():
    planned = target_for(f"registry.redhat.io/ubi8/ubi-minimal@{D1}", "docker://m.example.com/ns", "oc-mirror")
    assert str(planned.target) == f"m.example.com/ns/ubi8/ubi-minimal:sha256-{'1' * 64}@{D1}"
    assert target_for("docker.io/nginx:1", "m.example.com", "oc-mirror").target.repository == "nginx"
    assert target_for("docker.io/library/nginx:1", "m.example.com", "oc-mirror").target.repository == "library/nginx"


def test_oc_mirror_refuses_images_with_neither_tag_nor_digest():
    with pytest.raises(InvalidReference, match="tag and digest are empty"):
        target_for("quay.io/a/b", "m.example.com", "oc-mirror")


def test_oc_mirror_refuses_file_destinations():
    with pytest.raises(ConfigError, match="file://"):
        target_for("quay.io/a/b:1", "file://x", "oc-mirror")


def test_oc_mirror_max_nested_paths_in_plan():
    planned = plan_images(["quay.io/a/b/c/d:1"], "m.example.com/org", "oc-mirror", max_nested_paths=3)
    assert planned[0].mapping_line == "quay.io/a/b/c/d:1=m.example.com/org/a/b-c-d:1"
    assert with_max_nested_paths("docker://r.example.com/a/b/c:1", 2) == "r.example.com/a/b-c:1"


def test_oc_mirror_catalog_plan():
    planned = plan_catalog("registry.redhat.io/redhat/redhat-operator-index:v4.15", [f"quay.io/a/b@{D1}"],
                           "m.example.com/ns", "oc-mirror", target_tag="v4.15.0")
    catalog = [p for p in planned if p.image_type == "operatorCatalog"][0]
    assert str(catalog.target) == "m.example.com/ns/redhat/redhat-operator-index:v4.15.0"
    # catalogs are left out of oc-mirror mirror sets: the CatalogSource names them
    assert mirror_sets(planned, "tag", "oc-mirror") == {}
    assert mirror_sets(planned, "digest", "oc-mirror") == {"operator": {"quay.io/a": ["m.example.com/ns/a"]}}


def test_catalog_target_rejects_bad_names_and_oci_in_oc():
    with pytest.raises(ConfigError, match="target_name"):
        catalog_target("quay.io/a/b:1", "m.example.com", "oc-mirror", target_name="Bad/Name")
    with pytest.raises(ConfigError, match="oci://"):
        catalog_target("oci:///tmp/x", "m.example.com", "oc")


def test_image_reference_targets_are_plain_references():
    planned = target_for("quay.io/a/b:1", "m.example.com")
    assert isinstance(planned.target, ImageReference)
    assert planned.target == parse("m.example.com/a/b:1")
