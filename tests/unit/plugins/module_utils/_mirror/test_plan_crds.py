# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every Kubernetes object kind the mirror planning writes, validated against the real upstream CRD schema.

The CRDs are upstream's, copied into tests/fixtures/crds (see tests/fixtures/SOURCES.md); the schema of the
served (storage) version is used, ``x-kubernetes-*`` extensions (CEL rules and the like) ignored
since no API server runs here. The generated YAML is read back before validation, so what is
checked is what a user would ``oc apply``.
"""

from __future__ import annotations

import re

import pytest

yaml = pytest.importorskip("yaml")
jsonschema = pytest.importorskip("jsonschema")

from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.catalog_source import (
    catalog_source,
    catalog_source_for,
    cluster_catalog,
    cluster_catalog_for,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.documents import (
    dump_yaml,
    dump_yaml_documents,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.mirror_sets import (
    icsp_objects,
    idms_objects,
    itms_objects,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.naming import (
    PlannedImage,
    plan_catalog,
    plan_images,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.reference import parse
from tests.support.corpus import CRDS, needs
from tests.support.crd_schemas import assert_matches_crd, crd_validator
CRD_FILES = {
    "ImageContentSourcePolicy": "openshift-api/0000_10_config-operator_01_imagecontentsourcepolicies.crd.yaml",
    "ImageDigestMirrorSet": "openshift-api/0000_10_config-operator_01_imagedigestmirrorsets.crd.yaml",
    "ImageTagMirrorSet": "openshift-api/0000_10_config-operator_01_imagetagmirrorsets.crd.yaml",
    "CatalogSource": "operator-framework-api/operators.coreos.com_catalogsources.yaml",
    "ClusterCatalog": "operator-controller/olm.operatorframework.io_clustercatalogs.yaml",
}
pytestmark = needs(*(CRDS / f for f in CRD_FILES.values()))

_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


def assert_valid(obj):
    """``obj`` as written (YAML round trip) is accepted by its CRD's schema."""
    obj = yaml.safe_load(dump_yaml(obj))
    kind = obj["kind"]
    assert_matches_crd(obj, CRDS / CRD_FILES[kind])
    name = obj["metadata"]["name"]
    assert len(name) <= 253 and _DNS1123_SUBDOMAIN.match(name), name
    if kind == "CatalogSource":
        # OLM names a Service after it
        assert len(name) <= 63 and _DNS1035_LABEL.match(name), name


D = ["sha256:" + c * 64 for c in "0123456789abcdef"]
MIXED = [
    "quay.io/coreos/etcd-operator@" + D[0],
    "quay.io/coreos/etcd-operator@" + D[1],
    "registry.redhat.io/ubi8-minimal@" + D[2],
    "registry.redhat.io/ubi8/ubi:latest",
    "gcr.io/kubebuilder/kube-rbac-proxy:v0.13.1@" + D[3],
    "docker.io/library/busybox:1.36",
    "nginx@" + D[4],
    "quay.io/test/etcd.0.9.0",
    "localhost:5000/deep/nested/path/to/image:v1",
]
CATALOGS = [
    "registry.redhat.io/redhat/redhat-operator-index:v4.15",
    "quay.io/operatorhubio/catalog@" + D[5],
    "quay.io/example/image:tag",
]
DESTS = ["mirror.example.com:5000", "mirror.example.com/org", "mirror.example.com/org/sub"]


def planned_sets():
    for naming in ("oc", "oc-mirror"):
        for catalog in CATALOGS:
            for dest in DESTS:
                images = [i for i in MIXED if naming == "oc" or "@" in i or ":" in i.rsplit("/", 1)[-1]]
                yield pytest.param(naming, catalog, plan_catalog(catalog, images, dest, naming),
                                   id=f"{naming}-{catalog.split('/')[-1][:20]}-{dest}")


@pytest.mark.parametrize("naming, catalog, planned", list(planned_sets()))
@pytest.mark.parametrize("scope", [None, "repository", "registry", "namespace"])
def test_mirror_sets_are_valid(naming, catalog, planned, scope):
    objects = (icsp_objects(planned, "catalog-x", scope, naming=naming)
               + idms_objects(planned, "catalog-x", scope, naming=naming)
               + itms_objects(planned, "catalog-x", scope, naming=naming))
    assert {o["kind"] for o in objects} == {"ImageContentSourcePolicy", "ImageDigestMirrorSet", "ImageTagMirrorSet"}
    for obj in objects:
        assert_valid(obj)
    # the aggregated file reads back as the same objects
    assert list(yaml.safe_load_all(dump_yaml_documents(objects))) == [yaml.safe_load(dump_yaml(o)) for o in objects]


@pytest.mark.parametrize("naming, catalog, planned", list(planned_sets()))
def test_catalog_objects_are_valid(naming, catalog, planned):
    entry = [p for p in planned if p.image_type == "operatorCatalog"][0]
    assert_valid(catalog_source_for(entry, naming))
    assert_valid(catalog_source_for(entry, naming, display_name="Red Hat Operators", publisher="Me",
                                    update_interval="30m0s"))
    assert_valid(cluster_catalog_for(entry, naming))
    assert_valid(cluster_catalog_for(entry, naming, priority=-10))
    if "@" not in str(cluster_catalog_for(entry, naming)["spec"]["source"]["image"]["ref"]):
        assert_valid(cluster_catalog_for(entry, naming, poll_interval_minutes=10))


def test_split_mirror_sets_are_valid():
    digest = D[6]
    planned = [PlannedImage(parse(f"quay.io/ns{i}/img@{digest}"), parse(f"mirror.example.com/ns{i}/img:x@{digest}"))
               for i in range(300)]
    for builder in (icsp_objects, idms_objects):
        objects = builder(planned, "big", max_size=2000)
        assert len(objects) > 5
        for obj in objects:
            assert_valid(obj)


def test_schema_catches_a_broken_object():
    """The validator is not vacuous: a wrong type and a bad mirror are reported."""
    obj = catalog_source("x", "quay.io/a/b:1")
    obj["spec"]["priority"] = "high"
    dummy, validator = crd_validator(CRDS / CRD_FILES["CatalogSource"], "CatalogSource")
    assert list(validator.iter_errors(obj))
    planned = plan_images(["quay.io/a/b@" + D[7]], "mirror.example.com")
    idms = idms_objects(planned, "c")[0]
    idms["spec"]["imageDigestMirrors"][0]["mirrors"] = ["https://not a registry"]
    dummy, validator = crd_validator(CRDS / CRD_FILES["ImageDigestMirrorSet"], "ImageDigestMirrorSet")
    assert list(validator.iter_errors(idms))
    cc = cluster_catalog("c", "quay.io/a/b:1")
    cc["spec"]["source"]["type"] = "Git"
    dummy, validator = crd_validator(CRDS / CRD_FILES["ClusterCatalog"], "ClusterCatalog")
    assert list(validator.iter_errors(cc))
