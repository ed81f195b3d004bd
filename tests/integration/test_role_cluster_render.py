# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster roles default_sources and catalog_sources in render-only mode, through ansible-playbook.

Each case runs the four ways of the house style (check, real, check again, real again: no
change), reads back the files written, compares them with the objects expected and validates
every one against the real upstream CRD schema (tests/fixtures/crds). The catalogSource.yaml
files read by catalog_sources are written with the builder catalog_mirror uses.

No cluster is reachable here; the cluster mode is only checked up to the connection: the
options reach kubernetes.core per inventory host (the error names the API server each host
was given) and the token never shows.
"""

from __future__ import annotations

import json
import os
import re
import socket

import pytest
import yaml

jsonschema = pytest.importorskip("jsonschema")

from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.catalog_source import catalog_source
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.documents import dump_yaml
from tests.support.corpus import CRDS, needs
from tests.support.crd_schemas import assert_matches_crd
from tests.support.playbook import run_playbook

CRD_FILES = {
    "OperatorHub": CRDS / "openshift-api" / "0000_03_marketplace_01_operatorhubs.crd.yaml",
    "CatalogSource": CRDS / "operator-framework-api" / "operators.coreos.com_catalogsources.yaml",
}
pytestmark = needs(*CRD_FILES.values())

DIGEST = "sha256:" + "5e" * 32
_DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


def assert_valid(obj):
    """``obj`` is accepted by the schema of its CRD's served storage version."""
    assert_matches_crd(obj, CRD_FILES[obj["kind"]])


def write_play(tmp_path, roles):
    path = tmp_path / "play.yml"
    path.write_text(yaml.safe_dump([{"name": "cluster roles", "hosts": "all", "gather_facts": False,
                                     "roles": [{"role": f"airgap.operatorhub.{role}"} for role in roles]}],
                                   sort_keys=False))
    return str(path)


def _short(task):
    """A task's name without its role prefix."""
    return task["task"].split(" : ", 1)[-1]


def four_ways(tmp_path, extra_vars, render_dirs):
    """Both roles in one play: check, real, check again, real again. The first check writes
    nothing and shows a diff; each role's render task changes in the first two runs only; the
    tasks that would reach a cluster are skipped."""
    play = write_play(tmp_path, ["default_sources", "catalog_sources"])
    runs = {}
    for label, check in (("check", True), ("real", False), ("check-again", True), ("real-again", False)):
        run = run_playbook(str(tmp_path / label), play, extra_vars, check=check,
                           env={"ANSIBLE_DIFF_ALWAYS": "1", "ANSIBLE_PIPELINING": "1"})
        assert run.rc == 0, (label, run.output)
        if label == "check":
            assert not any(os.path.exists(d) for d in render_dirs), "check mode wrote a render directory"
        tasks = run.result["tasks"]
        for render in ("Render the OperatorHub object", "Render the CatalogSources"):
            changed = [t["result"].get("changed") for t in tasks if _short(t) == render]
            assert changed and all(c is (label in ("check", "real")) for c in changed), (label, render, run.output)
        cluster = [t for t in tasks if _short(t).startswith(("Patch the OperatorHub", "Apply the CatalogSources"))]
        assert len(cluster) == 2 and all(t["status"] == "skipped" for t in cluster), cluster
        runs[label] = run
    for label in ("check-again", "real-again"):
        assert runs[label].result["stats"]["localhost"]["changed"] == 0, (label, runs[label].output)
    return runs


def read_rendered(render_dir):
    """{file name: the one object it holds}, every object validated against its CRD."""
    out = {}
    for name in sorted(os.listdir(render_dir)):
        with open(os.path.join(render_dir, name), encoding="utf-8") as handle:
            docs = [d for d in yaml.safe_load_all(handle) if d is not None]
        assert len(docs) == 1, name
        assert_valid(docs[0])
        out[name] = docs[0]
    return out


def write_manifests(root):
    """Two catalog directories as catalog_mirror writes them (one CatalogSource each)."""
    objects = {
        "redhat-operator-index": catalog_source("redhat-operator-index",
                                                f"mirror.example.com:5000/olm/redhat-operator-index@{DIGEST}"),
        "cs-community-operator-index-v4-16": catalog_source(
            "cs-community-operator-index-v4-16", "mirror.example.com:5000/olm/community-operator-index:v4.16",
            display_name="Community", update_interval="10m", namespace="olm"),
    }
    for directory, obj in objects.items():
        os.makedirs(root / directory)
        (root / directory / "catalogSource.yaml").write_text(dump_yaml(obj))
    return objects


def test_both_roles_render_four_ways(tmp_path):
    ops_render, cs_render, manifests = tmp_path / "gitops-hub", tmp_path / "gitops-cs", tmp_path / "manifests"
    from_files = write_manifests(manifests)
    toleration = {"key": "node-role.kubernetes.io/infra", "operator": "Exists", "effect": "NoSchedule"}
    extra_vars = {
        "default_sources_render_dir": str(ops_render),
        "catalog_sources_manifests_dir": str(manifests),
        "catalog_sources_render_dir": str(cs_render),
        "catalog_sources_security_context_config": "restricted",
        "catalog_sources_node_selector": {"node-role.kubernetes.io/infra": ""},
        "catalog_sources_list": [
            {"name": "certified", "image": f"mirror.example.com:5000/olm/certified-operator-index@{DIGEST}",
             "display_name": "Certified (mirror)", "publisher": "Platform team", "poll_interval": "1h",
             "security_context_config": "legacy", "tolerations": [toleration]},
            {"name": "minimal", "image": f"mirror.example.com:5000/olm/minimal@{DIGEST}"},
        ],
    }
    runs = four_ways(tmp_path, extra_vars, (ops_render, cs_render))
    # diff mode: the first check run shows the objects it would write
    assert "+  disableAllDefaultSources: true" in runs["check"].output
    assert "+  name: certified" in runs["check"].output

    assert read_rendered(ops_render) == {"operatorhub-cluster.yaml": {
        "apiVersion": "config.openshift.io/v1", "kind": "OperatorHub", "metadata": {"name": "cluster"},
        "spec": {"disableAllDefaultSources": True}}}
    assert (ops_render / "operatorhub-cluster.yaml").read_text().startswith("---\n")

    rendered = read_rendered(cs_render)
    assert sorted(rendered) == ["catalogsource-certified.yaml", "catalogsource-cs-community-operator-index-v4-16.yaml",
                                "catalogsource-minimal.yaml", "catalogsource-redhat-operator-index.yaml"]
    infra = {"node-role.kubernetes.io/infra": ""}
    for name, obj in from_files.items():
        # the file's object, moved to the catalog namespace, with the settings of every CatalogSource
        want = json.loads(json.dumps(obj))
        want["metadata"]["namespace"] = "openshift-marketplace"
        want["spec"]["grpcPodConfig"] = {"securityContextConfig": "restricted", "nodeSelector": infra}
        assert rendered[f"catalogsource-{name}.yaml"] == want
    assert rendered["catalogsource-cs-community-operator-index-v4-16.yaml"]["spec"]["updateStrategy"] == {
        "registryPoll": {"interval": "10m"}}
    assert rendered["catalogsource-certified.yaml"] == {
        "apiVersion": "operators.coreos.com/v1alpha1", "kind": "CatalogSource",
        "metadata": {"name": "certified", "namespace": "openshift-marketplace"},
        "spec": {"sourceType": "grpc", "image": f"mirror.example.com:5000/olm/certified-operator-index@{DIGEST}",
                 "displayName": "Certified (mirror)", "publisher": "Platform team",
                 "updateStrategy": {"registryPoll": {"interval": "1h"}},
                 # the entry's own settings win; the node selector is the role's
                 "grpcPodConfig": {"securityContextConfig": "legacy", "nodeSelector": infra,
                                   "tolerations": [toleration]}}}
    assert rendered["catalogsource-minimal.yaml"]["spec"] == {
        "sourceType": "grpc", "image": f"mirror.example.com:5000/olm/minimal@{DIGEST}",
        "grpcPodConfig": {"securityContextConfig": "restricted", "nodeSelector": infra}}
    for obj in rendered.values():
        assert len(obj["metadata"]["name"]) <= 63 and _DNS1035_LABEL.match(obj["metadata"]["name"])


def _closed_ports(count):
    """Ports nothing listens on (bound, then released)."""
    sockets = [socket.socket() for dummy in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def test_refusals_and_cluster_connection_per_host(tmp_path):
    """One inventory, one host per case, each running the role its host variables name.

    A named list of default sources is rendered; bad input fails before anything is written. In cluster mode each host's cluster_host
    reaches kubernetes.core (a role's own option wins over it), so one inventory holds many
    clusters; the api_key shows nowhere, even with -vvv.
    """
    manifests, empty = tmp_path / "manifests", tmp_path / "empty"
    write_manifests(manifests)
    empty.mkdir()
    port_a, port_b, port_own, port_cs = _closed_ports(4)
    secret = "sha256~NotARealTokenButKeepItHidden"
    out = str(tmp_path / "out")
    one = [{"name": "a", "image": f"m.example.com/a@{DIGEST}"}]

    def kubeconfig(port):
        path = tmp_path / f"kubeconfig-{port}"
        path.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "c",
            "clusters": [{"name": "c", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
            "users": [{"name": "u", "user": {"token": "kubeconfig-token"}}],
            "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}]}))
        return str(path)
    cases = {
        "named-sources": {"role_under_test": "default_sources", "default_sources_render_dir": str(tmp_path / "named"),
                          "default_sources_names": ["redhat-operators", "community-operators"]},
        "bad-source-name": {"role_under_test": "default_sources", "default_sources_render_dir": out,
                            "default_sources_names": ["Red Hat Operators"]},
        "catalog-twice-and-bad": {
            "role_under_test": "catalog_sources", "catalog_sources_manifests_dir": str(manifests),
            "catalog_sources_render_dir": out,
            "catalog_sources_list": [
                {"name": "redhat-operator-index", "image": f"m.example.com/a@{DIGEST}"},
                {"name": "Bad_Name", "image": f"m.example.com/b@{DIGEST}", "poll_interval": "5 minutes"}]},
        "catalog-empty-dir": {"role_under_test": "catalog_sources", "catalog_sources_manifests_dir": str(empty),
                              "catalog_sources_render_dir": out},
        # a kubeconfig per host; the role's own option wins over the host's cluster_ variable
        "cluster-a": {"role_under_test": "default_sources", "cluster_kubeconfig": kubeconfig(port_a)},
        "cluster-b": {"role_under_test": "default_sources", "cluster_kubeconfig": kubeconfig(port_b),
                      "default_sources_kubeconfig": kubeconfig(port_own)},
        "cluster-c": {"role_under_test": "catalog_sources", "cluster_kubeconfig": kubeconfig(port_cs),
                      "catalog_sources_list": one},
        # with a token, kubernetes.core's failure would show it: the task output is hidden
        "cluster-token": {"role_under_test": "default_sources", "cluster_host": f"http://127.0.0.1:{port_own}",
                          "cluster_api_key": secret},
    }
    host_vars = tmp_path / "host_vars"
    host_vars.mkdir()
    for host, variables in cases.items():
        (host_vars / f"{host}.yml").write_text(yaml.safe_dump(variables))
    play = tmp_path / "play.yml"
    play.write_text(yaml.safe_dump([{"name": "one case per host", "hosts": "all", "gather_facts": False, "tasks": [
        {"name": "Run the role", "ansible.builtin.include_role": {"name": "airgap.operatorhub.{{ role_under_test }}"}}]}]))
    run = run_playbook(str(tmp_path / "run"), str(play), {}, hosts=tuple(cases), verbosity=3,
                       env={"ANSIBLE_FORKS": "10", "ANSIBLE_PIPELINING": "1"})
    assert run.rc != 0
    failed = {t["host"]: t for t in run.result["tasks"] if t["status"] == "failed"}
    assert sorted(failed) == sorted(set(cases) - {"named-sources"}), run.output
    # names mode leaves disableAllDefaultSources alone: a cluster with all disabled keeps them all off
    assert_valid(read_rendered(tmp_path / "named")["operatorhub-cluster.yaml"])
    assert read_rendered(tmp_path / "named")["operatorhub-cluster.yaml"]["spec"] == {
        "sources": [{"name": "redhat-operators", "disabled": True}, {"name": "community-operators", "disabled": True}]}
    messages = {host: failed[host]["result"].get("msg", "") for host in failed}
    assert "Red Hat Operators" in messages["bad-source-name"]
    for text in ("CatalogSource redhat-operator-index is given twice", "['Bad_Name'] are not DNS-1035 labels",
                 "poll intervals ['5 minutes'] are not durations"):
        assert text in messages["catalog-twice-and-bad"]
    assert f"no catalogSource.yaml under catalog_sources_manifests_dir {empty}" in messages["catalog-empty-dir"]
    assert not os.path.exists(out)
    for host, port, task in (("cluster-a", port_a, "Patch the OperatorHub"), ("cluster-b", port_own, "Patch the OperatorHub"),
                             ("cluster-c", port_cs, "Apply the CatalogSources")):
        assert _short(failed[host]).startswith(task), failed[host]
        assert f"port={port}" in json.dumps(failed[host]["result"]), (host, messages[host])
    assert _short(failed["cluster-token"]).startswith("Patch the OperatorHub"), failed["cluster-token"]
    assert "port=" not in json.dumps(failed["cluster-token"]["result"])
    assert secret not in run.output
    assert secret not in json.dumps(run.result["tasks"])
