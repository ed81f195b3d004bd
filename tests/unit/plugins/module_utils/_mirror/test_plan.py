# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plan.py behaviour beyond the peers' cases: options, errors, edge cases, YAML shape."""

from __future__ import annotations

import pytest

pytest.importorskip("yaml")

from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import ConfigError, InvalidReference
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.plan import (
    MAX_MIRROR_SET_SIZE,
    FileReference,
    ImageReference,
    PlannedImage,
    catalog_source,
    catalog_source_name,
    catalog_target,
    cluster_catalog,
    dump_yaml,
    dump_yaml_documents,
    icsp_manifests,
    idms_manifests,
    itms_manifests,
    mapping_lines,
    mirror_set_manifests,
    mirror_sets,
    parse_destination,
    plan_catalog,
    plan_images,
    target_for,
    with_max_nested_paths,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.reference import parse
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.tags import fnv1a32

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64


# ---------------------------------------------------------------------------------------------
# destinations and options


@pytest.mark.parametrize(
    "text, registry, repository",
    [
        ("quay.io", "quay.io", ""),
        ("localhost:5000/org", "localhost:5000", "org"),
        ("docker://mirror.example.com/a/b/", "mirror.example.com", "a/b"),
        # the first component of a destination is always the registry
        ("myregistry/mynamespace", "myregistry", "mynamespace"),
        ("index.docker.io/me", "docker.io", "me"),
    ],
)
def test_parse_destination(text, registry, repository):
    dest = parse_destination(text)
    assert (dest.registry, dest.repository, dest.tag, dest.digest) == (registry, repository, None, None)


def test_parse_destination_file():
    assert parse_destination("file:///local/index") == FileReference("local/index")
    assert str(parse_destination("file://a/b")) == "file://a/b"


@pytest.mark.parametrize(
    "text, reason",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("quay.io/org:tag", "has a tag"),
        ("quay.io/org@" + D1, "has a digest"),
        ("quay.io/Org", "not valid"),
        ("bad host!/org", "not a registry"),
        ("file://", "no directory"),
    ],
)
def test_bad_destinations_name_the_option(text, reason):
    with pytest.raises(ConfigError, match=rf"^dest .*{reason}|^dest is {reason}"):
        target_for("quay.io/a/b:1", text)


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
    with pytest.raises(ConfigError, match="scope 'cluster'"):
        mirror_sets([], "digest", "oc", "cluster")
    with pytest.raises(ConfigError, match="mirror kind"):
        mirror_sets([], "both")
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
    # no registry written: library-go keeps none, and inserts no 'library/'
    assert target_for(f"nginx@{D1}", "m.example.com").target.tag == fnv1a32(f"nginx@{D1}")
    assert target_for(f"docker.io/nginx@{D1}", "m.example.com").target.tag == fnv1a32(f"docker.io/library/nginx@{D1}")
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
        f"quay.io/a/b@{D1}=m.example.com/a/b:{fnv1a32('quay.io/a/b@' + D1)}",
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


def test_file_catalog_mirror_sets_use_the_origin():
    """Leg 2 of oc's air-gap flow: copied from file://, but the cluster still asks for quay.io."""
    planned = plan_catalog("file://local/index/example/image:tag", [f"quay.io/a/b@{D1}"], "m.example.com")
    by_source = {str(p.source): p for p in planned}
    item = by_source[f"file://local/index/example/image/a/b@{D1}"]
    assert str(item.origin) == f"quay.io/a/b@{D1}"
    assert mirror_sets(planned) == {"operator": {"quay.io/a/b": ["m.example.com/a/b"]}}
    # the catalog itself lives in the file store only: not in any mirror set
    assert mirror_sets(planned, "tag") == {}


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


# ---------------------------------------------------------------------------------------------
# mirror sets


def _planned_digests(count):
    return [PlannedImage(parse(f"quay.io/ns{i}/img@{D1}"), parse(f"m.example.com/ns{i}/img:t@{D1}")) for i in range(count)]


def test_icsp_split_names_and_sizes():
    # oc names them after the catalog's name (library-go Name: ns/index), '/' turned into '-'
    objects = icsp_manifests(_planned_digests(40), "ns/index", max_size=1000)
    assert len(objects) > 1
    assert [o["metadata"]["name"] for o in objects] == [f"ns-index-{i}" for i in range(len(objects))]
    for obj in objects:
        assert obj["metadata"]["labels"] == {"operators.openshift.org/catalog": "true"}
        assert len(dump_yaml(obj).encode()) <= 1000
    sources = [e["source"] for o in objects for e in o["spec"]["repositoryDigestMirrors"]]
    assert sorted(sources) == sorted(f"quay.io/ns{i}/img" for i in range(40))


def test_split_fills_objects_as_far_as_the_limit():
    objects = idms_manifests(_planned_digests(40), "c", max_size=1000)
    for obj in objects[:-1]:
        # one more entry would not have fitted
        entry = {"mirrors": ["m.example.com/ns99/img"], "source": "quay.io/ns99/img"}
        bigger = dict(obj, spec={"imageDigestMirrors": obj["spec"]["imageDigestMirrors"] + [entry]})
        assert len(dump_yaml(bigger).encode()) > 1000 - 4


@pytest.mark.parametrize("max_size", [0, -1, MAX_MIRROR_SET_SIZE + 1, True, "100"])
def test_max_size_is_checked(max_size):
    with pytest.raises(ConfigError, match="max_size"):
        idms_manifests(_planned_digests(1), "c", max_size=max_size)


def test_entry_larger_than_max_size():
    with pytest.raises(ConfigError, match=r"larger than max_size 150 bytes .*--max-icsp-size"):
        icsp_manifests(_planned_digests(1), "c", max_size=150)


def test_nothing_by_digest_gives_no_object():
    planned = plan_images(["quay.io/a/b:1"], "m.example.com")
    assert icsp_manifests(planned, "c") == []
    assert idms_manifests(planned, "c") == []
    assert [o["spec"]["imageTagMirrors"] for o in itms_manifests(planned, "c")] == [
        [{"mirrors": ["m.example.com/a/b"], "source": "quay.io/a/b"}]
    ]
    assert dump_yaml_documents([]) == ""


def test_single_object_form_keeps_an_empty_list():
    (obj,) = mirror_set_manifests("ImageTagMirrorSet", "x", {}, numbered=False)
    assert obj["spec"] == {"imageTagMirrors": []}
    assert obj["metadata"] == {"name": "x"}


def test_oc_mode_needs_a_name():
    with pytest.raises(ConfigError, match="name"):
        idms_manifests(_planned_digests(1), None)


def test_scopes():
    planned = [PlannedImage(parse(f"quay.io/org/team/img@{D1}"), parse(f"m.example.com/mirror/org/team/img:t@{D1}"))]
    assert mirror_sets(planned, scope="repository") == {"operator": {"quay.io/org/team/img": ["m.example.com/mirror/org/team/img"]}}
    assert mirror_sets(planned, scope="registry") == {"operator": {"quay.io": ["m.example.com"]}}
    assert mirror_sets(planned, scope="namespace") == {"operator": {"quay.io/org/team": ["m.example.com/mirror/org/team"]}}
    assert mirror_sets(planned, scope="auto") == {"operator": {"quay.io/org/team": ["m.example.com/mirror/org/team"]}}
    # auto compares whole components: xteam/img does not keep team/img
    other = [PlannedImage(parse(f"quay.io/team/img@{D1}"), parse(f"m.example.com/xteam/img:t@{D1}"))]
    assert mirror_sets(other, scope="auto") == {"operator": {"quay.io/team/img": ["m.example.com/xteam/img"]}}


def test_oc_mirror_object_names_take_a_prefix():
    planned = plan_images([f"quay.io/a/b@{D1}", "quay.io/a/c:1"], "m.example.com", "oc-mirror")
    assert [o["metadata"]["name"] for o in idms_manifests(planned, naming="oc-mirror")] == ["idms-operator-0"]
    assert [o["metadata"]["name"] for o in itms_manifests(planned, "redhat-operator-index", naming="oc-mirror")] == [
        "redhat-operator-index-operator-0"
    ]
    assert "labels" not in idms_manifests(planned, naming="oc-mirror")[0]["metadata"]


def test_both_origin_goes_to_both_sets():
    planned = plan_images([f"quay.io/a/b:v1@{D1}"], "m.example.com", "oc-mirror")
    assert mirror_sets(planned, "digest", "oc-mirror") == mirror_sets(planned, "tag", "oc-mirror") == {
        "operator": {"quay.io/a": ["m.example.com/a"]}
    }


# ---------------------------------------------------------------------------------------------
# CatalogSource / ClusterCatalog


@pytest.mark.parametrize(
    "ref, naming, expected",
    [
        ("quay.io/the/index:1", "oc", "index"),
        ("quay.io/a/b/c:1", "oc", "b-c"),
        ("quay.io/ubi8-minimal:1", "oc", "ubi8-minimal"),
        ("quay.io/org/my_index.v2:1", "oc", "my-index-v2"),
        ("m.example.com/ns/redhat/redhat-operator-index:v4.15", "oc-mirror", "cs-redhat-operator-index-v4-15"),
        ("m.example.com/ns/idx:v4.17.0-20241114", "oc-mirror", "cs-idx-v4-17-0-2024"),
        ("m.example.com/ns/idx@" + D2, "oc-mirror", "cs-idx-222222222222"),
        ("m.example.com/ns/idx:V1_X", "oc-mirror", "cs-idx-v1-x"),
        ("m.example.com/ns/" + "a" * 80 + ":1", "oc-mirror", ("cs-" + "a" * 80)[:63]),
    ],
)
def test_catalog_source_name(ref, naming, expected):
    assert catalog_source_name(ref, naming) == expected
    assert catalog_source_name(parse(ref), naming) == expected


def test_cluster_catalog_prefix():
    assert catalog_source_name("m.example.com/ns/idx:v1", "oc-mirror", prefix="cc") == "cc-idx-v1"


def test_catalog_source_options():
    obj = catalog_source("my", "m.example.com/a/b:1", display_name="Mine", publisher="Ops", update_interval="10m")
    assert obj["spec"] == {"image": "m.example.com/a/b:1", "sourceType": "grpc", "displayName": "Mine",
                           "publisher": "Ops", "updateStrategy": {"registryPoll": {"interval": "10m"}}}
    with pytest.raises(ConfigError, match="update_interval"):
        catalog_source("my", "m.example.com/a/b:1", update_interval="ten minutes")
    with pytest.raises(ConfigError, match="file://"):
        catalog_source("my", FileReference("x/y", "1"))


def test_cluster_catalog_options():
    obj = cluster_catalog("cc-x", "m.example.com/a/b:1", priority=5, poll_interval_minutes=15)
    image = {"ref": "m.example.com/a/b:1", "pollIntervalMinutes": 15}
    assert obj["spec"] == {"priority": 5, "source": {"type": "Image", "image": image}}
    with pytest.raises(ConfigError, match="poll_interval_minutes"):
        cluster_catalog("cc-x", f"m.example.com/a/b@{D1}", poll_interval_minutes=15)
    with pytest.raises(ConfigError, match="poll_interval_minutes"):
        cluster_catalog("cc-x", "m.example.com/a/b:1", poll_interval_minutes=0)
    with pytest.raises(ConfigError, match="priority"):
        cluster_catalog("cc-x", "m.example.com/a/b:1", priority=2 ** 40)


# ---------------------------------------------------------------------------------------------
# YAML


def test_yaml_is_written_like_oc():
    obj = mirror_set_manifests("ImageContentSourcePolicy", "c", {"docker.io": ["quay.io"]},
                               labels={"operators.openshift.org/catalog": "true"})[0]
    assert dump_yaml(obj) == (
        "apiVersion: operator.openshift.io/v1alpha1\n"
        "kind: ImageContentSourcePolicy\n"
        "metadata:\n"
        "  labels:\n"
        '    operators.openshift.org/catalog: "true"\n'
        "  name: c-0\n"
        "spec:\n"
        "  repositoryDigestMirrors:\n"
        "  - mirrors:\n"
        "    - quay.io\n"
        "    source: docker.io\n"
    )
    assert dump_yaml_documents([obj, obj]) == ("---\n" + dump_yaml(obj)) * 2


def test_long_references_are_not_folded():
    ref = "m.example.com/" + "/".join(["component"] * 20) + ":" + "t" * 100
    assert dump_yaml({"image": ref}) == f"image: {ref}\n"


def test_image_reference_targets_are_plain_references():
    planned = target_for("quay.io/a/b:1", "m.example.com")
    assert isinstance(planned.target, ImageReference)
    assert planned.target == parse("m.example.com/a/b:1")
