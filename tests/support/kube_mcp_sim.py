# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TEST DOUBLE: simulated Machine Config Operator for the stand-in API server (kube_apiserver.py).

:class:`MachineConfigPoolSimulator` plays the part of the MCO's render and node controllers for
the MachineConfigPools (machineconfiguration.openshift.io/v1) ``master`` and ``worker`` it seeds,
with what the real controllers write in their status:

- ``spec.configuration`` / ``status.configuration``: ``rendered-<pool>-<md5 hex>`` and the
  MachineConfigs it is made of (``source``); ``status.machineCount``, ``updatedMachineCount``,
  ``readyMachineCount``, ``unavailableMachineCount``, ``degradedMachineCount``,
  ``observedGeneration``;
- the conditions RenderDegraded, NodeDegraded, Degraded, Updated and Updating with the node
  controller's words ("All nodes are updated with MachineConfig rendered-worker-...", "All
  nodes are updating to MachineConfig ...", "Pool is paused; will not update to ...").

When the mirror policies (ImageDigestMirrorSet, ImageTagMirrorSet, ImageContentSourcePolicy)
are created, changed or deleted so that what a node's registries.conf would hold changes (their
``spec``; a label alone renders nothing new, as on a cluster), each pool gets a new rendered
configuration, not at once but at the next step of a background timer thread (on a real cluster
the pools still say Updated right after the apply), and goes Updating. Each following step
updates one machine of each pool (maxUnavailable 1; pools roll side by side) until the pool is
Updated. A pool whose ``spec.paused`` is true gets its new configuration but does not roll.

:meth:`~MachineConfigPoolSimulator.degrade` makes a pool Degraded (a node failing its update, as
the MCO shows it: NodeDegraded with the reason and message given, Degraded with the message),
which stops its progress. Simplified: no Node objects and no MachineConfig objects; machines are
counts. :meth:`~MachineConfigPoolSimulator.stop` ends the thread (joins it).

The steps come from the timer thread every ``step_seconds``, or, with ``step_per_poll``, one
after each list of the pools a client sends (so a role's test sees the pools move between its
polls whatever the machine's load), or from the test itself (:meth:`step`).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import threading

MIRROR_TYPES = (
    ("config.openshift.io/v1", "ImageDigestMirrorSet"),
    ("config.openshift.io/v1", "ImageTagMirrorSet"),
    ("operator.openshift.io/v1alpha1", "ImageContentSourcePolicy"),
)
MCP_API = "machineconfiguration.openshift.io/v1"
# The MachineConfigs a fresh cluster's rendered configs are made of (per pool role).
BASE_CONFIGS = ("00-{role}", "01-{role}-container-runtime", "01-{role}-kubelet", "97-{role}-generated-kubelet",
                "98-{role}-generated-kubelet", "99-{role}-generated-registries", "99-{role}-ssh")
CONDITION_ORDER = ("RenderDegraded", "NodeDegraded", "Degraded", "Updated", "Updating")


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Pool:
    """What the simulated node controller knows of one pool's machines."""

    def __init__(self, name: str, machines: int):
        self.name = name
        self.machines = machines
        self.updated = machines  # machines on the target configuration
        self.degraded: tuple[str, str] | None = None  # (reason, message) of NodeDegraded


class MachineConfigPoolSimulator:
    """Install with ``MachineConfigPoolSimulator(kube_api).install()``; ``stop()`` when done
    (a test's ``finally``). ``step_seconds``: time between two steps (a render, or one machine
    of each rolling pool) of the timer thread; None: no thread, the test calls :meth:`step`.
    ``step_per_poll``: instead of a step every ``step_seconds``, the thread makes one step after
    each list of the pools a client sends (``oc get mcp``): a role polling the pools sees them
    move by one step between two polls, however slow the machine running the test is."""

    def __init__(self, api, machines: dict | None = None, step_seconds: float | None = 0.3,
                 step_per_poll: bool = False):
        self.api = api
        self.step_seconds = step_seconds
        self.step_per_poll = step_per_poll
        self.pools = {name: _Pool(name, count) for name, count in (machines or {"master": 3, "worker": 3}).items()}
        self.renders = 0  # how many times the mirror policies gave new rendered configs
        self.steps = 0  # steps made (by the thread or by step())
        self._rendered = ""  # fingerprint of the mirror policies the pools' configs hold
        self._pending = False  # the policies changed; the next step renders
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- lifecycle --------------------------------------------------------------------------------

    def install(self) -> "MachineConfigPoolSimulator":
        with self.api.store.lock:
            self._rendered = self._fingerprint()
            for pool in self.pools.values():
                config = self._configuration(pool.name)
                self.api.put({
                    "apiVersion": MCP_API, "kind": "MachineConfigPool",
                    "metadata": {"name": pool.name, "labels": self._labels(pool.name), "generation": 2},
                    "spec": {
                        "configuration": config,
                        "machineConfigSelector": {"matchLabels": {"machineconfiguration.openshift.io/role": pool.name}},
                        "nodeSelector": {"matchLabels": {f"node-role.kubernetes.io/{pool.name}": ""}},
                        "paused": False,
                    },
                })
                self._write_status(pool)
            self.api.store.listeners.append(self._on_change)
        if self.step_seconds is not None or self.step_per_poll:
            self._thread = threading.Thread(target=self._run, name="mcp-simulator", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        try:
            self.api.store.listeners.remove(self._on_change)
        except ValueError:
            pass

    def __enter__(self) -> "MachineConfigPoolSimulator":
        return self.install()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- what tests do --------------------------------------------------------------------------------

    def degrade(self, pool: str, reason: str, message: str) -> None:
        """A machine of ``pool`` fails its update: NodeDegraded True with ``reason`` and ``message``
        (the MCO's are "1 nodes are reporting degraded status on sync" and
        'Node worker-1 is reporting: "..."'), Degraded True; the pool stops rolling."""
        with self.api.store.lock:
            self.pools[pool].degraded = (reason, message)
            self._write_status(self.pools[pool])

    def rolling(self) -> list[str]:
        """The pools not yet Updated (a new configuration pending counts for every pool)."""
        with self.api.store.lock:
            if self._pending:
                return sorted(self.pools)
            return sorted(p.name for p in self.pools.values() if p.updated < p.machines)

    # --- the render controller ----------------------------------------------------------------------

    def _fingerprint(self) -> str:
        """What the policies put in registries.conf: their specs, in a stable order."""
        specs = []
        for api_version, kind in MIRROR_TYPES:
            try:
                items = self.api.store.list(self.api.resource_type(api_version, kind), None)["items"]
            except KeyError:
                continue
            specs += [[kind, item["metadata"]["name"], item.get("spec") or {}] for item in items]
        return json.dumps(specs, sort_keys=True)

    def _configuration(self, pool: str) -> dict:
        digest = hashlib.md5(f"{pool}\n{self._rendered}".encode(), usedforsecurity=False).hexdigest()
        source = [{"apiVersion": MCP_API, "kind": "MachineConfig", "name": name.format(role=pool)}
                  for name in BASE_CONFIGS]
        return {"name": f"rendered-{pool}-{digest}", "source": source}

    @staticmethod
    def _labels(pool: str) -> dict:
        labels = {"machineconfiguration.openshift.io/mco-built-in": "",
                  f"pools.operator.machineconfiguration.openshift.io/{pool}": ""}
        if pool == "master":
            labels["operator.machineconfiguration.openshift.io/required-for-upgrade"] = ""
        return labels

    def _on_change(self, store, rtype, obj, event) -> None:
        del store, obj, event  # the listener signature; the policies are read back whole
        if (rtype.api_version, rtype.kind) in MIRROR_TYPES and self._fingerprint() != self._rendered:
            self._pending = True

    def _render(self) -> None:
        self._pending = False
        fingerprint = self._fingerprint()
        if fingerprint == self._rendered:
            return  # changed back before the render: nothing new for the nodes
        self._rendered = fingerprint
        self.renders += 1
        for pool in self.pools.values():
            current = self.api.get(MCP_API, "MachineConfigPool", pool.name)
            if current is None:
                continue
            current["spec"]["configuration"] = self._configuration(pool.name)
            current["metadata"]["generation"] = current["metadata"].get("generation", 1) + 1
            self.api.put(current)
            pool.updated = 0
            self._write_status(pool)

    # --- the node controller ------------------------------------------------------------------------

    def _run(self) -> None:
        seen = len(self.api.requests)
        while not self._stop.wait(0.02 if self.step_per_poll else self.step_seconds):
            if not self.step_per_poll:
                self.step()
                continue
            new = self.api.requests[seen:]
            seen += len(new)
            for method, path, dummy in new:
                if method == "GET" and path.split("?")[0].endswith("/machineconfigpools"):
                    self.step()

    def step(self) -> None:
        """One step: render the new configurations if the policies changed, else update one more
        machine of each pool that is rolling (not paused, not degraded)."""
        with self.api.store.lock:
            self.steps += 1
            if self._pending:
                self._render()
                return
            for pool in self.pools.values():
                current = self.api.get(MCP_API, "MachineConfigPool", pool.name)
                if current is None:
                    continue
                paused = bool((current.get("spec") or {}).get("paused"))
                if pool.updated < pool.machines and not paused and pool.degraded is None:
                    pool.updated += 1
                self._write_status(pool)

    def _write_status(self, pool: _Pool) -> None:
        """The pool's status as the MCO's node controller computes it (calculateStatus)."""
        current = self.api.get(MCP_API, "MachineConfigPool", pool.name)
        if current is None:
            return
        spec = current.get("spec") or {}
        old = current.get("status") or {}
        target = spec.get("configuration") or {}
        degraded_count = 1 if pool.degraded else 0
        done = pool.updated == pool.machines
        rolling = not done and not spec.get("paused") and pool.degraded is None
        status = {
            "observedGeneration": current["metadata"].get("generation", 1),
            "machineCount": pool.machines,
            "updatedMachineCount": pool.updated,
            "readyMachineCount": pool.updated,
            # the machine being drained and rebooted
            "unavailableMachineCount": 1 if rolling else 0,
            "degradedMachineCount": degraded_count,
            "configuration": target if done else (old.get("configuration") or target),
        }
        target_line = f"MachineConfig {target.get('name')}"
        if done:
            updated = ("True", "", f"All nodes are updated with {target_line}")
            updating = ("False", "", "")
        elif spec.get("paused"):
            updated = ("False", "", "")
            updating = ("False", "", f"Pool is paused; will not update to {target_line}")
        else:
            updated = ("False", "", "")
            updating = ("True", "", f"All nodes are updating to {target_line}")
        if pool.degraded:
            node_degraded = ("True",) + pool.degraded
            degraded = ("True", "", pool.degraded[1])
        else:
            node_degraded = ("False", "", "")
            degraded = ("False", "", "")
        wanted = {"RenderDegraded": ("False", "", ""), "NodeDegraded": node_degraded, "Degraded": degraded,
                  "Updated": updated, "Updating": updating}
        before = {c["type"]: c for c in old.get("conditions") or []}
        conditions = []
        for kind in CONDITION_ORDER:
            state, reason, message = wanted[kind]
            previous = before.get(kind)
            since = previous["lastTransitionTime"] if previous and previous["status"] == state else _now()
            conditions.append({"lastTransitionTime": since, "message": message, "reason": reason,
                               "status": state, "type": kind})
        status["conditions"] = conditions
        if status != old:
            current["status"] = status
            self.api.put(current)
