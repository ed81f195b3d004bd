# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mirror_sets.py: ICSP / IDMS / ITMS objects, their names, scopes and size limit, beyond the peers' cases."""

from __future__ import annotations

import pytest

pytest.importorskip("yaml")

from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import ConfigError
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.documents import dump_yaml
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.mirror_sets import (
    MAX_MIRROR_SET_SIZE,
    icsp_objects,
    idms_objects,
    itms_objects,
    mirror_set_objects,
    mirror_sets,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.naming import PlannedImage, plan_catalog, plan_images
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.reference import parse

D1 = "sha256:" + "1" * 64


def test_unknown_scope_and_kind_are_refused():
    with pytest.raises(ConfigError, match="scope 'cluster'"):
        mirror_sets([], "digest", "oc", "cluster")
    with pytest.raises(ConfigError, match="mirror kind"):
        mirror_sets([], "both")


def test_file_catalog_mirror_sets_use_the_origin():
    """Leg 2 of oc's air-gap flow: copied from file://, but the cluster still asks for quay.io."""
    planned = plan_catalog("file://local/index/example/image:tag", [f"quay.io/a/b@{D1}"], "m.example.com")
    by_source = {str(p.source): p for p in planned}
    item = by_source[f"file://local/index/example/image/a/b@{D1}"]
    assert str(item.origin) == f"quay.io/a/b@{D1}"
    assert mirror_sets(planned) == {"operator": {"quay.io/a/b": ["m.example.com/a/b"]}}
    # the catalog itself lives in the file store only: not in any mirror set
    assert mirror_sets(planned, "tag") == {}


def _planned_digests(count):
    return [PlannedImage(parse(f"quay.io/ns{i}/img@{D1}"), parse(f"m.example.com/ns{i}/img:t@{D1}")) for i in range(count)]


def test_icsp_split_names_and_sizes():
    # oc names them after the catalog's name (library-go Name: ns/index), '/' turned into '-'
    objects = icsp_objects(_planned_digests(40), "ns/index", max_size=1000)
    assert len(objects) > 1
    assert [o["metadata"]["name"] for o in objects] == [f"ns-index-{i}" for i in range(len(objects))]
    for obj in objects:
        assert obj["metadata"]["labels"] == {"operators.openshift.org/catalog": "true"}
        assert len(dump_yaml(obj).encode()) <= 1000
    sources = [e["source"] for o in objects for e in o["spec"]["repositoryDigestMirrors"]]
    assert sorted(sources) == sorted(f"quay.io/ns{i}/img" for i in range(40))


def test_split_fills_objects_as_far_as_the_limit():
    objects = idms_objects(_planned_digests(40), "c", max_size=1000)
    for obj in objects[:-1]:
        # one more entry would not have fitted
        entry = {"mirrors": ["m.example.com/ns99/img"], "source": "quay.io/ns99/img"}
        bigger = dict(obj, spec={"imageDigestMirrors": obj["spec"]["imageDigestMirrors"] + [entry]})
        assert len(dump_yaml(bigger).encode()) > 1000 - 4


@pytest.mark.parametrize("max_size", [0, -1, MAX_MIRROR_SET_SIZE + 1, True, "100"])
def test_max_size_is_checked(max_size):
    with pytest.raises(ConfigError, match="max_size"):
        idms_objects(_planned_digests(1), "c", max_size=max_size)


def test_entry_larger_than_max_size():
    with pytest.raises(ConfigError, match=r"larger than max_size 150 bytes .*--max-icsp-size"):
        icsp_objects(_planned_digests(1), "c", max_size=150)


def test_nothing_by_digest_gives_no_object():
    planned = plan_images(["quay.io/a/b:1"], "m.example.com")
    assert icsp_objects(planned, "c") == []
    assert idms_objects(planned, "c") == []
    assert [o["spec"]["imageTagMirrors"] for o in itms_objects(planned, "c")] == [
        [{"mirrors": ["m.example.com/a/b"], "source": "quay.io/a/b"}]
    ]


def test_single_object_form_keeps_an_empty_list():
    (obj,) = mirror_set_objects("ImageTagMirrorSet", "x", {}, numbered=False)
    assert obj["spec"] == {"imageTagMirrors": []}
    assert obj["metadata"] == {"name": "x"}


def test_oc_mode_needs_a_name():
    with pytest.raises(ConfigError, match="name"):
        idms_objects(_planned_digests(1), None)


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
    assert [o["metadata"]["name"] for o in idms_objects(planned, naming="oc-mirror")] == ["idms-operator-0"]
    assert [o["metadata"]["name"] for o in itms_objects(planned, "redhat-operator-index", naming="oc-mirror")] == [
        "redhat-operator-index-operator-0"
    ]
    assert "labels" not in idms_objects(planned, naming="oc-mirror")[0]["metadata"]


def test_both_origin_goes_to_both_sets():
    planned = plan_images([f"quay.io/a/b:v1@{D1}"], "m.example.com", "oc-mirror")
    assert mirror_sets(planned, "digest", "oc-mirror") == mirror_sets(planned, "tag", "oc-mirror") == {
        "operator": {"quay.io/a": ["m.example.com/a"]}
    }
