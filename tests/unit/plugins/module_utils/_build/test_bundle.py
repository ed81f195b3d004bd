# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rendering real bundle directories to olm.bundle / olm.channel / olm.package blobs.

Expected values were read from the fixtures' YAML by hand (tests/fixtures/bundles), and the
etcd bundles are checked against their rendering in the oc test catalog (test-declcfg).
"""

from __future__ import annotations

import json
import shutil

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._build.bundle import (
    render_bundle_dir,
    render_bundles,
    render_packagemanifest,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import CatalogError, ConfigError
from tests.support import corpus

pytestmark = corpus.needs(corpus.NHC_BUNDLES, corpus.TRUSTIFY_BUNDLE, corpus.GITLAB_RUNNER_BUNDLE,
                          corpus.ETCD_BUNDLES, corpus.ETCD_PACKAGEMANIFEST, corpus.OC_DECLCFG)

BUNDLE_IMAGE = "quay.io/example/nhc-bundle:v0.12.0"
NHC = "node-healthcheck-operator"


def props(blob, ptype):
    return [p["value"] for p in blob["properties"] if p["type"] == ptype]


def images(blob):
    return [(item["name"], item["image"]) for item in blob["relatedImages"]]


def test_registry_v1_bundle_properties():
    blob = render_bundle_dir(str(corpus.NHC_BUNDLES / "0.12.0"), BUNDLE_IMAGE).blob
    assert blob["schema"] == "olm.bundle"
    assert blob["name"] == "node-healthcheck-operator.v0.12.0"
    assert blob["package"] == NHC
    assert blob["image"] == BUNDLE_IMAGE
    assert props(blob, "olm.package") == [{"packageName": NHC, "version": "0.12.0"}]
    assert props(blob, "olm.gvk") == [{"group": "remediation.medik8s.io", "kind": "NodeHealthCheck",
                                       "version": "v1alpha1"}]
    assert props(blob, "olm.gvk.required") == []
    assert props(blob, "olm.bundle.object") == []  # it has an image: olm.csv.metadata instead
    # opm's order: by type, the CSV metadata last.
    assert [p["type"] for p in blob["properties"]] == ["olm.gvk", "olm.package", "olm.csv.metadata"]
    [meta] = props(blob, "olm.csv.metadata")
    assert sorted(meta) == ["annotations", "apiServiceDefinitions", "crdDescriptions", "description",
                            "displayName", "installModes", "keywords", "links", "maintainers", "maturity",
                            "minKubeVersion", "provider"]
    assert meta["apiServiceDefinitions"] == {}
    assert meta["maturity"] == "alpha"
    assert meta["minKubeVersion"] == "1.20.0"
    assert meta["provider"] == {"name": "Medik8s", "url": "https://github.com/medik8s"}
    assert meta["maintainers"] == [{"email": "medik8s@googlegroups.com", "name": "Medik8s Team"}]
    assert meta["keywords"] == ["NHC", "Self Node Remediation", "SNR", "Remediation", "Fencing", "medik8s", "k8s"]
    assert meta["installModes"] == [{"supported": False, "type": "OwnNamespace"},
                                    {"supported": False, "type": "SingleNamespace"},
                                    {"supported": False, "type": "MultiNamespace"},
                                    {"supported": True, "type": "AllNamespaces"}]
    assert meta["annotations"]["createdAt"] == "2026-06-17T13:24:42Z"  # a string, not a datetime
    assert meta["annotations"]["olm.skipRange"] == ">=0.10.0 <0.12.0"
    assert [c["name"] for c in meta["crdDescriptions"]["owned"]] == ["nodehealthchecks.remediation.medik8s.io"]
    assert "install" not in meta and "relatedImages" not in meta


def test_related_images_come_from_the_deployments_without_spec_related_images():
    """The issue's test: every image the deployments reference is present (two deployments here,
    one with the kube-rbac-proxy sidecar), plus the bundle image; sorted by image."""
    blob = render_bundle_dir(str(corpus.NHC_BUNDLES / "0.11.0"), "quay.io/example/nhc-bundle:v0.11.0").blob
    assert images(blob) == [
        ("", "quay.io/brancz/kube-rbac-proxy:v0.15.0"),
        ("", "quay.io/example/nhc-bundle:v0.11.0"),
        ("", "quay.io/medik8s/node-healthcheck-operator:v0.11.0"),
        ("", "quay.io/medik8s/node-remediation-console:v0.11.0"),
    ]


def test_related_images_include_related_image_env_values():
    blob = render_bundle_dir(str(corpus.TRUSTIFY_BUNDLE), "quay.io/example/trustify-bundle:1").blob
    assert images(blob) == [
        ("", "ghcr.io/trustification/trustd:latest"),
        ("", "ghcr.io/trustification/trustify-keycloak:latest"),
        ("", "ghcr.io/trustification/trustify-operator:v0.1.0-alpha.9"),
        ("", "ghcr.io/trustification/trustify-ui:latest"),
        ("", "quay.io/example/trustify-bundle:1"),
        ("", "quay.io/sclorg/postgresql-16-c9s:latest"),
    ]


def test_spec_related_images_keep_their_names_and_images_are_not_repeated():
    blob = render_bundle_dir(str(corpus.GITLAB_RUNNER_BUNDLE), "quay.io/example/glr-bundle:1").blob
    registry = "registry.gitlab.com/gitlab-org/"
    helper = registry + ("ci-cd/gitlab-runner-ubi-images/gitlab-runner-helper-ocp@sha256:"
                         "650d4d305ed3db1fa0089cd1ba69ba05153e697a9e0efb3134b664d40be4ca6b")
    runner = registry + ("ci-cd/gitlab-runner-ubi-images/gitlab-runner-ocp@sha256:"
                         "21bbea455c523ef70c746b54beb528af1a3897a47b6d570e4ea4f0c165ebcbaf")
    operator = registry + ("gl-openshift/gitlab-runner-operator/gitlab-runner-operator@sha256:"
                           "5ffabd4ede31b2d3e1ff35ca70683d488385429c546bd50a45cadcf42d10f94f")
    proxy = registry + ("gl-openshift/gitlab-runner-operator/openshift4/ose-kube-rbac-proxy@sha256:"
                        "e6bfbe1e3a33d6f146ca70c040d0232ab254f98847efd1b2a382685c331e53a2")
    # The CSV lists each image under two names (and the operator under four); the deployment's
    # containers and RELATED_IMAGE_* values are the same images, so nothing unnamed is added
    # but the bundle image.
    assert images(blob) == [
        ("", "quay.io/example/glr-bundle:1"),
        ("gitlab-runner-helper", helper), ("gitlab_runner_helper", helper),
        ("gitlab-runner", runner), ("gitlab_runner", runner),
        ("gitlab-runner-operator", operator), ("gitlab_runner_operator", operator),
        ("gl-openshift/gitlab-runner-operator/gitlab-runner-operator-5ffabd4ede31b2d3e1ff35ca70683d488385429c546bd"
         "50a45cadcf42d10f94f-annotation", operator),
        ("manager", operator),
        ("kube-rbac-proxy", proxy), ("kube_rbac_proxy", proxy),
    ]


def test_channel_entries_and_package_merged_across_bundles():
    catalog = render_bundles([str(corpus.NHC_BUNDLES / "0.12.0"), str(corpus.NHC_BUNDLES / "0.11.0")])
    assert list(catalog.packages) == [NHC]
    pkg = catalog.packages[NHC]
    assert pkg.default_channel == "stable"
    assert list(pkg.channels) == ["stable"]
    assert [entry.to_dict() for entry in pkg.channels["stable"].entries] == [
        {"name": "node-healthcheck-operator.v0.11.0", "replaces": "node-healthcheck-operator.v0.10.0",
         "skipRange": ">=0.10.0 <0.11.0"},
        {"name": "node-healthcheck-operator.v0.12.0", "replaces": "node-healthcheck-operator.v0.11.0",
         "skipRange": ">=0.10.0 <0.12.0"},
    ]
    assert pkg.channels["stable"].head() == "node-healthcheck-operator.v0.12.0"
    assert sorted(pkg.bundles) == ["node-healthcheck-operator.v0.11.0", "node-healthcheck-operator.v0.12.0"]
    assert pkg.icon["mediatype"] == "image/png"


def test_bare_directory_gets_an_empty_image_and_bundle_objects_as_opm_does():
    blob = render_bundle_dir(str(corpus.ETCD_BUNDLES / "etcd.0.9.0")).blob
    assert blob["image"] == ""
    assert props(blob, "olm.csv.metadata") == []
    # One olm.bundle.object per manifest: the CSV and three CRDs.
    assert len(props(blob, "olm.bundle.object")) == 4
    assert images(blob) == [
        ("", "quay.io/coreos/etcd-operator@sha256:db563baa8194fcfe39d1df744ed70024b0f1f9e9b55b5923c2f3a413c44dc6b8")]


def test_dependencies_yaml_gives_required_properties():
    rendered = render_bundle_dir(str(corpus.ETCD_BUNDLES / "etcd.0.9.2"), "quay.io/test/etcd.0.9.2")
    blob = rendered.blob
    assert props(blob, "olm.gvk.required") == [
        {"group": "etcd.database.coreos.com", "kind": "EtcdCluster", "version": "v1beta2"},  # CSV required
        {"group": "testapi.coreos.com", "kind": "testapi", "version": "v1"},  # dependencies.yaml
    ]
    assert props(blob, "olm.constraint") == [{"failureMessage": 'require to have "certified"',
                                              "cel": {"rule": 'properties.exists(p, p.type == "certified")'}}]
    assert rendered.channels == ["alpha", "stable"]
    assert rendered.entry() == {"name": "etcdoperator.v0.9.2", "replaces": "etcdoperator.v0.9.0",
                                "skips": ["etcdoperator.v0.9.1"]}


def _declcfg_bundles():
    out = {}
    with open(corpus.OC_DECLCFG / "index.yaml", encoding="utf-8") as handle:
        text = handle.read()
    decoder, pos = json.JSONDecoder(), 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return out
        blob, pos = decoder.raw_decode(text, pos)
        if blob.get("schema") == "olm.bundle":
            out[blob["name"]] = blob


@pytest.mark.parametrize("directory", ["etcd.0.9.0", "etcd.0.9.2"])
def test_matches_the_oc_test_catalog_rendering(directory):
    """oc's test-declcfg holds the same bundles rendered by opm (image quay.io/test/<dir>): the
    provided GVKs and the operator image must agree. (Its relatedImages predate bundle images
    being added; its etcd 0.9.2 predates dependencies.yaml, so required GVKs only grow.)"""
    expected = _declcfg_bundles()
    blob = render_bundle_dir(str(corpus.ETCD_BUNDLES / directory), f"quay.io/test/{directory}").blob
    theirs = expected[blob["name"]]
    assert props(blob, "olm.gvk") == props(theirs, "olm.gvk")
    assert props(blob, "olm.package") == props(theirs, "olm.package")
    ours_required = props(blob, "olm.gvk.required")
    assert all(gvk in ours_required for gvk in props(theirs, "olm.gvk.required"))
    assert [ri for ri in blob["relatedImages"] if ri["image"] != blob["image"]] == theirs["relatedImages"]


def test_packagemanifest_channels_follow_the_replaces_chains():
    bundles, pkg = render_packagemanifest(str(corpus.ETCD_PACKAGEMANIFEST))
    assert pkg["defaultChannel"] == "alpha"
    assert {b.name: sorted(b.channels) for b in bundles} == {
        "etcdoperator.v0.6.1": ["alpha", "beta", "stable"],
        "etcdoperator.v0.9.0": ["alpha", "beta", "stable"],
        "etcdoperator.v0.9.2": ["alpha", "stable"],
    }
    catalog = render_bundles([str(corpus.ETCD_PACKAGEMANIFEST)])
    etcd = catalog.packages["etcd"]
    assert etcd.default_channel == "alpha"
    assert [e.to_dict() for e in etcd.channels["beta"].entries] == [
        {"name": "etcdoperator.v0.6.1"}, {"name": "etcdoperator.v0.9.0", "replaces": "etcdoperator.v0.6.1"}]
    assert etcd.channels["alpha"].entries[-1].to_dict() == {
        "name": "etcdoperator.v0.9.2", "replaces": "etcdoperator.v0.9.0", "skips": ["etcdoperator.v0.9.1"],
        "skipRange": "< 0.6.0"}
    v092 = etcd.bundles["etcdoperator.v0.9.2"].to_blob()
    assert v092["image"] == ""
    assert images(v092) == [
        ("", "quay.io/coreos/etcd-operator@sha256:c0301e4686c3ed4206e370b42de5a3bd2229b9fb4906cf85f3f30650424abec2"),
        ("etcd-v3.4.0", "quay.io/coreos/etcd@sha256:3816b6daf9b66d6ced6f0f966314e2d4f894982c6b1493061502f8c2bf86ac84"),
        ("etcd-3.4.1", "quay.io/coreos/etcd@sha256:49d3d4a81e0d030d3f689e7167f23e120abf955f7d08dbedf3ea246485acee9f"),
    ]
    assert [p["value"] for p in v092["properties"] if p["type"] == "olm.package"] == [
        {"packageName": "etcd", "version": "0.9.2"}]


# errors ---------------------------------------------------------------------------------------

@pytest.fixture
def broken(tmp_path):
    target = tmp_path / "nhc"
    shutil.copytree(corpus.NHC_BUNDLES / "0.12.0", target)
    return target


def test_missing_annotations_file_is_named(broken):
    (broken / "metadata" / "annotations.yaml").unlink()
    with pytest.raises(CatalogError, match=r"metadata/annotations\.yaml: missing.*package\.v1"):
        render_bundle_dir(str(broken))


def test_missing_package_annotation_is_named(broken):
    (broken / "metadata" / "annotations.yaml").write_text(
        "annotations:\n  operators.operatorframework.io.bundle.channels.v1: stable\n")
    with pytest.raises(CatalogError, match=r"annotations\.yaml: annotations\.operators\.operatorframework\.io"
                                           r"\.bundle\.package\.v1 is missing"):
        render_bundle_dir(str(broken))


def test_invalid_yaml_names_file_and_line(broken):
    csv = broken / "manifests" / "node-healthcheck-operator.clusterserviceversion.yaml"
    csv.write_text("kind: ClusterServiceVersion\nmetadata: [unclosed\n")
    with pytest.raises(CatalogError, match=r"node-healthcheck-operator\.clusterserviceversion\.yaml:\d+:\d+: "
                                           r"invalid YAML"):
        render_bundle_dir(str(broken))


def test_no_csv_is_refused(broken):
    (broken / "manifests" / "node-healthcheck-operator.clusterserviceversion.yaml").unlink()
    with pytest.raises(CatalogError, match=r"no ClusterServiceVersion found"):
        render_bundle_dir(str(broken))


def test_csv_without_version_names_the_field(broken):
    csv = broken / "manifests" / "node-healthcheck-operator.clusterserviceversion.yaml"
    csv.write_text(csv.read_text().replace("  version: 0.12.0\n", ""))
    with pytest.raises(CatalogError, match=r"clusterserviceversion\.yaml: spec\.version is missing"):
        render_bundle_dir(str(broken), "quay.io/x/y:1")


def test_same_bundle_twice_is_refused(broken):
    with pytest.raises(CatalogError, match=r"both bundle node-healthcheck-operator\.v0\.12\.0"):
        render_bundles([str(broken), str(corpus.NHC_BUNDLES / "0.12.0")])


def test_not_a_bundle_directory(tmp_path):
    with pytest.raises(CatalogError, match=r"neither a bundle directory"):
        render_bundles([str(tmp_path)])


def test_image_reference_without_registry_access(tmp_path):
    with pytest.raises(ConfigError, match=r"no registry access"):
        render_bundles(["quay.io/example/bundle:1"])
