# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TEST DOUBLE: simulated OLM operator install for the stand-in API server (kube_apiserver.py).

:class:`InstallSimulator` plays OLM's catalog and OLM operators and the nodes that pull the
operator's images, for Subscriptions (operators.coreos.com/v1alpha1):

1. **Resolve**: the Subscription's catalog (``spec.source`` / ``sourceNamespace``) must be READY
   (its content as :class:`~tests.support.kube_packages_sim.PackageManifestSimulator` read it
   from the real registry); the CSV is ``spec.startingCSV`` or the head of ``spec.channel`` (the
   package's default channel when empty). Otherwise the Subscription gets OLM's conditions:
   ``CatalogSourcesUnhealthy`` (catalog missing or not READY; resolved again when it turns READY)
   or ``ResolutionFailed`` (package, channel or CSV not in the catalog).
   With ``resolve_with_namespace_sources`` set, the resolver also lists the CatalogSources of the
   Subscription's namespace, as OLM's resolver cache does: one not READY gives ``ResolutionFailed``
   with reason ``ErrorPreventedResolution``, which OLM retries, until it turns READY or is deleted
   (OLM lists the global namespace's too: left out, so one test's broken catalog blocks no other).
2. **InstallPlan** ``install-xxxxx`` in the Subscription's namespace, owned by it: spec approval,
   approved (true for Automatic), clusterServiceVersionNames, generation; status phase
   ``RequiresApproval`` (Manual) or ``Installing``, catalogSources, bundleLookups. The
   Subscription's status gets state ``UpgradePending``, currentCSV, installPlanRef, installplan,
   catalogHealth and the ``InstallPlanPending`` condition (reason RequiresApproval / Installing).
3. **Approved** (at once for Automatic, when ``spec.approved`` turns true for Manual):
   - no OperatorGroup in the namespace (or several): InstallPlan ``Failed`` with OLM's words
     ("invalid operator group - no operator group found that is managing this namespace"), the
     Subscription's ``InstallPlanFailed`` condition, no CSV;
   - the bundle is "unpacked": its image must resolve through the mirror policies (a real HEAD
     of each pull candidate, :meth:`CatalogSourceSimulator.pull_candidates` / ``head_manifest``),
     else InstallPlan ``Failed`` with a condition naming the bundle image and each location's
     pull error, and the Subscription's ``BundleUnpackFailed`` condition;
   - else the CSV (the catalog's own, from ``olm.bundle.object``, else one synthesized with a
     deployment ``<package>-controller-manager`` running the bundle's related images) is created
     with the OperatorGroup's annotations, and the InstallPlan goes ``Complete``.
4. **CSV and pods**: one pod per deployment, its containers the deployment's images; related
   images that no deployment runs are added as containers of the first deployment's pod (on a
   cluster the operator pulls them for its operands): the issue asks that every image of the
   bundle be pulled. An image pulls when a pull candidate resolves in the real registry. All
   pull: pods Running, CSV ``Succeeded`` (reason InstallSucceeded), the Subscription
   ``AtLatestKnown`` with ``installedCSV``. Otherwise the pod's containers wait in
   ``ImagePullBackOff`` with a message naming the image and why each location failed
   (``manifest unknown`` ...), and the CSV goes ``Failed`` with reason InstallCheckFailed, its
   message naming the deployment (or stays ``Installing`` / InstallWaiting with
   ``install_timeout_elapsed=False``); the Subscription stays ``UpgradePending`` without
   ``installedCSV``. A mirror policy change pulls again (the kubelet's back-off retries).
   An OperatorGroup whose install mode the CSV does not support: CSV ``Failed`` with reason
   UnsupportedOperatorGroup and OLM's message (InstallModeSet.Supports: OwnNamespace for the
   namespace itself, SingleNamespace for another one, MultiNamespace for several), as OLM. OperatorGroups get ``status.namespaces`` (``[""]`` for all
   namespaces) as OLM writes it.

Simplifications, each a place where OLM does more or otherwise: all at once, synchronously
with the write that caused it (the install timeout counted as elapsed, see above); no
Deployment, ReplicaSet, RBAC, CRD or unpack Job objects (pods only); no dependency resolution
and no upgrades along ``replaces`` (a changed Subscription spec gives a new InstallPlan for the
new head); the Subscription's ``installedCSV`` only once the CSV Succeeded (OLM sets it when the
InstallPlan completes); a failed InstallPlan is final, as in OLM. What it writes is checked
against the real CRDs' schemas (an AssertionError names the field otherwise).
"""

from __future__ import annotations

import base64
import copy
import datetime
import hashlib
import random

from .kube_olm_sim import MIRROR_KINDS
from .kube_types import schema_errors

OLM_API = "operators.coreos.com/v1alpha1"
OG_API = "operators.coreos.com/v1"
_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"  # Kubernetes' generateName alphabet
NO_OPERATOR_GROUP = "invalid operator group - no operator group found that is managing this namespace"
MANY_OPERATOR_GROUPS = "csv created in namespace with multiple operatorgroups, can't pick one automatically"


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _condition(kind: str, status: str, reason: str = "", message: str = "") -> dict:
    out = {"type": kind, "status": status, "lastTransitionTime": _now()}
    if reason:
        out["reason"] = reason
    if message:
        out["message"] = message
    return out


def _ref(obj: dict) -> dict:
    meta = obj["metadata"]
    return {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": meta["name"],
            "namespace": meta.get("namespace"), "resourceVersion": meta.get("resourceVersion"), "uid": meta["uid"]}


def synthesized_csv(package: str, name: str, bundle: dict) -> dict:
    """A minimal CSV for a bundle the catalog carries no CSV for: one deployment running the
    bundle's related images (the bundle image itself excluded)."""
    images = [r["image"] for r in bundle.get("relatedImages") or []
              if r.get("image") and r["image"] != bundle.get("image")]
    images = list(dict.fromkeys(images))
    containers = [{"name": "manager" if i == 0 else f"container-{i}", "image": image} for i, image in enumerate(images)]
    deployment = f"{package}-controller-manager"
    return {"apiVersion": OLM_API, "kind": "ClusterServiceVersion", "metadata": {"name": name},
            "spec": {"displayName": package, "version": bundle.get("version") or "0.0.0",
                     "installModes": [{"type": m, "supported": True}
                                      for m in ("OwnNamespace", "SingleNamespace", "MultiNamespace", "AllNamespaces")],
                     "install": {"strategy": "deployment", "spec": {"deployments": [{
                         "name": deployment,
                         "spec": {"selector": {"matchLabels": {"app": deployment}},
                                  "template": {"metadata": {"labels": {"app": deployment}},
                                               "spec": {"containers": containers}}}}]}},
                     "relatedImages": [{"name": r.get("name", ""), "image": r["image"]}
                                       for r in bundle.get("relatedImages") or [] if r.get("image")]}}


def _unsupported(supported: set, namespace: str, targets: list) -> str | None:
    """Why a CSV supporting the install modes ``supported`` cannot run in ``namespace`` for an
    OperatorGroup selecting ``targets`` ([] for all namespaces), in OLM's words; None when it can."""
    if not targets:
        mode, what = "AllNamespaces", "all namespaces"
    elif len(targets) == 1:
        mode, what = ("OwnNamespace", "own namespace") if targets[0] == namespace else ("SingleNamespace", "one namespace")
    elif "MultiNamespace" not in supported:
        mode, what = "MultiNamespace", f"{len(targets)} namespaces"
    else:
        mode, what = "OwnNamespace", "own namespace"
        if namespace not in targets:
            return None
    return None if mode in supported else f"{mode} InstallModeType not supported, cannot configure to watch {what}"


class InstallSimulator:
    """Install with ``InstallSimulator(api, catalog_sim, packages_sim).install()`` after the
    CatalogSourceSimulator and the PackageManifestSimulator."""

    def __init__(self, api, catalog_sim, packages_sim, install_timeout_elapsed: bool = True):
        self.api = api
        self.catalog_sim = catalog_sim
        self.packages_sim = packages_sim
        self.install_timeout_elapsed = install_timeout_elapsed
        self.resolve_with_namespace_sources = False  # see the module's docstring, 1.
        self._resolved: dict[tuple[str, str], str] = {}  # subscription -> spec fingerprint resolved
        self._unhealthy: dict[tuple[str, str], str] = {}  # subscription -> spec fingerprint waiting for its catalog
        self._plans: dict[tuple[str, str], dict] = {}  # (namespace, InstallPlan) -> what it installs
        self._installs: dict[tuple[str, str], dict] = {}  # (namespace, CSV) -> the same, once created
        self._pending: list[tuple[str, str, str]] = []
        self._busy = False

    def install(self) -> "InstallSimulator":
        self.api.store.listeners.append(self._on_change)
        for sub in self._list(OLM_API, "Subscription", None):
            self._pending.append(("Subscription", sub["metadata"]["namespace"], sub["metadata"]["name"]))
        self._drain()
        return self

    # --- plumbing ------------------------------------------------------------------------------

    def _list(self, api_version: str, kind: str, namespace: str | None, selector: str | None = None) -> list[dict]:
        return self.api.store.list(self.api.resource_type(api_version, kind), namespace,
                                   label_selector=selector)["items"]

    def _put(self, obj: dict) -> dict:
        """Write as a controller would, checked against the real CRD schema."""
        rtype = self.api.resource_type(obj["apiVersion"], obj["kind"])
        errors = schema_errors(rtype, obj)
        if errors and rtype.custom:
            raise AssertionError(f"the simulation wrote an invalid {obj['kind']}: {errors}")
        return self.api.put(obj)

    def _on_change(self, store, rtype, obj, event) -> None:
        del store, event  # objects are read again when handled
        meta = obj.get("metadata") or {}
        if rtype.kind in ("Subscription", "InstallPlan", "CatalogSource", "OperatorGroup"):
            self._pending.append((rtype.kind, meta.get("namespace"), meta.get("name")))
        elif rtype.kind in MIRROR_KINDS:
            self._pending.append(("mirror", "", ""))
        else:
            return
        if not self._busy:
            self._drain()

    def _drain(self) -> None:
        self._busy = True
        try:
            while self._pending:
                kind, namespace, name = self._pending.pop(0)
                if kind == "Subscription":
                    self._sync_subscription(namespace, name)
                elif kind == "InstallPlan":
                    self._sync_install_plan(namespace, name)
                elif kind == "OperatorGroup":
                    self._sync_operator_group(namespace, name)
                elif kind == "CatalogSource":
                    for sub in self._list(OLM_API, "Subscription", None):
                        if (sub["metadata"]["namespace"], sub["metadata"]["name"]) not in self._resolved:
                            self._sync_subscription(sub["metadata"]["namespace"], sub["metadata"]["name"], True)
                else:
                    for key in list(self._installs):
                        self._sync_csv(*key)
        finally:
            self._busy = False

    def _update_subscription(self, sub: dict, **status) -> None:
        current = self.api.get(OLM_API, "Subscription", sub["metadata"]["name"], sub["metadata"]["namespace"])
        if current is None:
            return
        merged = dict(current.get("status") or {})
        for key, value in status.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        merged["lastUpdated"] = _now()
        current["status"] = merged
        self._put(current)

    @staticmethod
    def _conditions(sub: dict, *changes: dict, drop: tuple = ()) -> list[dict]:
        """The Subscription's conditions with ``changes`` replacing those of the same type."""
        kinds = {c["type"] for c in changes} | set(drop)
        kept = [c for c in (sub.get("status") or {}).get("conditions") or [] if c.get("type") not in kinds]
        return kept + list(changes)

    def _sync_operator_group(self, namespace: str, name: str) -> None:
        """status.namespaces as OLM's OperatorGroup controller writes it ([""] for all namespaces)."""
        group = self.api.get(OG_API, "OperatorGroup", name, namespace)
        if group is None:
            return
        targets = [t for t in (group.get("spec") or {}).get("targetNamespaces") or [] if t] or [""]
        if (group.get("status") or {}).get("namespaces") != targets:
            group["status"] = dict(group.get("status") or {}, namespaces=targets, lastUpdated=_now())
            self._put(group)

    # --- resolution ----------------------------------------------------------------------------

    def _sync_subscription(self, namespace: str, name: str, catalog_changed: bool = False) -> None:
        sub = self.api.get(OLM_API, "Subscription", name, namespace)
        key = (namespace, name)
        if sub is None:
            self._resolved.pop(key, None)
            self._unhealthy.pop(key, None)
            return
        spec = sub.get("spec") or {}
        fingerprint = repr((sub["metadata"]["uid"], spec.get("name"), spec.get("channel"), spec.get("source"),
                            spec.get("sourceNamespace"), spec.get("startingCSV"), spec.get("installPlanApproval")))
        if self._resolved.get(key) == fingerprint or (self._unhealthy.get(key) == fingerprint and not catalog_changed):
            return
        self._unhealthy.pop(key, None)
        source, source_ns = spec.get("source"), spec.get("sourceNamespace")
        catalog = self.api.get(OLM_API, "CatalogSource", source or "", source_ns) if source and source_ns else None
        content = self.packages_sim.content(source_ns, source) if catalog else None
        health = [{"catalogSourceRef": _ref(catalog) if catalog else
                   {"apiVersion": OLM_API, "kind": "CatalogSource", "name": source, "namespace": source_ns},
                   "healthy": content is not None, "lastUpdated": _now()}]
        if content is None:
            self._unhealthy[key] = fingerprint
            why = "missing" if catalog is None else "unhealthy"
            self._update_subscription(sub, catalogHealth=health, conditions=self._conditions(
                sub, _condition("CatalogSourcesUnhealthy", "True", "UnhealthyCatalogSourceFound",
                                f"targeted catalogsource {source_ns}/{source} {why}")))
            return
        healthy = _condition("CatalogSourcesUnhealthy", "False", "AllCatalogSourcesHealthy",
                             "all available catalogsources are healthy")
        unlisted = [c["metadata"]["name"] for c in self._list(OLM_API, "CatalogSource", namespace)
                    if self.resolve_with_namespace_sources and self.packages_sim.content(namespace, c["metadata"]["name"]) is None]
        if unlisted:  # resolved again when a CatalogSource changes
            self._unhealthy[key] = fingerprint
            self._update_subscription(sub, catalogHealth=health, conditions=self._conditions(sub, healthy, _condition(
                "ResolutionFailed", "True", "ErrorPreventedResolution", f"failed to populate resolver cache from source "
                f"{unlisted[0]}/{namespace}: failed to list bundles: rpc error: code = Unavailable desc = connection error")))
            return
        package = content.get(spec.get("name"))
        channel_name = spec.get("channel") or (package or {}).get("defaultChannel")
        channel = (package or {}).get("channels", {}).get(channel_name)
        csv_name = spec.get("startingCSV") or (channel or {}).get("head")
        where = f"in the catalog referenced by subscription {name}, subscription {name} exists"
        if package is None:
            problem = f"no operators found in package {spec.get('name')} {where}"
        elif channel is None:
            problem = f"no operators found in channel {channel_name} of package {spec.get('name')} {where}"
        elif csv_name not in [e.get("name") for e in channel["entries"]] or csv_name not in package["bundles"]:
            problem = (f"no operators found with name {csv_name} in channel {channel_name} of package "
                       f"{spec.get('name')} {where}")
        else:
            problem = None
        if problem:
            self._resolved[key] = fingerprint
            self._update_subscription(sub, catalogHealth=health, conditions=self._conditions(
                sub, healthy, _condition("ResolutionFailed", "True", "ConstraintsNotSatisfiable",
                                         f"constraints not satisfiable: {problem}")))
            return
        self._resolved[key] = fingerprint
        self._create_install_plan(sub, catalog, spec["name"], package["bundles"][csv_name], csv_name, health, healthy)

    def _create_install_plan(self, sub, catalog, package, bundle, csv_name, health, healthy) -> None:
        meta, spec = sub["metadata"], sub["spec"]
        approval = spec.get("installPlanApproval") or "Automatic"
        automatic = approval == "Automatic"
        plan = self._put({
            "apiVersion": OLM_API, "kind": "InstallPlan",
            "metadata": {"name": "install-" + "".join(random.choices(_NAME_CHARS, k=5)),
                         "generateName": "install-", "namespace": meta["namespace"],
                         "labels": {f"operators.coreos.com/{package}.{meta['namespace']}": ""},
                         "ownerReferences": [{"apiVersion": OLM_API, "kind": "Subscription", "name": meta["name"],
                                              "uid": meta["uid"], "blockOwnerDeletion": False, "controller": False}]},
            "spec": {"approval": approval, "approved": automatic, "clusterServiceVersionNames": [csv_name],
                     "generation": 1},
            "status": {"phase": "Installing" if automatic else "RequiresApproval",
                       "catalogSources": [catalog["metadata"]["name"]],
                       "bundleLookups": [{"path": bundle.get("image") or "", "identifier": csv_name, "replaces": "",
                                          "catalogSourceRef": {"name": catalog["metadata"]["name"],
                                                               "namespace": catalog["metadata"]["namespace"]}}],
                       "conditions": []},
        })
        self._installs.pop((meta["namespace"], csv_name), None)
        self._plans[(meta["namespace"], plan["metadata"]["name"])] = {
            "subscription": meta["name"], "package": package, "bundle": bundle, "csv": csv_name,
            "catalog": catalog["metadata"]["name"], "catalog_namespace": catalog["metadata"]["namespace"]}
        pending = _condition("InstallPlanPending", "True", "Installing" if automatic else "RequiresApproval")
        self._update_subscription(
            sub, state="UpgradePending", currentCSV=csv_name, installedCSV=None, catalogHealth=health,
            installPlanGeneration=1, installPlanRef=_ref(plan),
            installplan={"apiVersion": OLM_API, "kind": "InstallPlan", "name": plan["metadata"]["name"],
                         "uuid": plan["metadata"]["uid"]},
            conditions=self._conditions(sub, healthy, pending, drop=("ResolutionFailed", "InstallPlanFailed",
                                                                     "BundleUnpackFailed")))
        if automatic:
            self._execute(meta["namespace"], plan["metadata"]["name"])

    # --- the InstallPlan ---------------------------------------------------------------------

    def _sync_install_plan(self, namespace: str, name: str) -> None:
        plan = self.api.get(OLM_API, "InstallPlan", name, namespace)
        if plan is None or (plan.get("status") or {}).get("phase") != "RequiresApproval":
            return
        if (plan.get("spec") or {}).get("approved") is True:
            self._execute(namespace, name)

    def _fail_plan(self, plan: dict, info: dict, reason: str, message: str, sub_condition: dict) -> None:
        status = plan["status"]
        status.update(phase="Failed", message=message,
                      conditions=[_condition("Installed", "False", reason, message)])
        self._put(plan)
        sub = self.api.get(OLM_API, "Subscription", info["subscription"], plan["metadata"]["namespace"])
        if sub is not None:
            self._update_subscription(sub, conditions=self._conditions(sub, sub_condition, drop=("InstallPlanPending",)))

    def _pull(self, image: str) -> str | None:
        """None when a node pulls ``image`` (some pull candidate resolves), else the failures."""
        failures = []
        for candidate in self.catalog_sim.pull_candidates(image):
            why = self.catalog_sim.head_manifest(candidate)
            if why is None:
                return None
            failures.append(f"{candidate}: {why}")
        return "; ".join(failures)

    def _execute(self, namespace: str, name: str) -> None:
        plan = self.api.get(OLM_API, "InstallPlan", name, namespace)
        info = self._plans.get((namespace, name))
        if plan is None or info is None:
            return
        plan["status"]["phase"] = "Installing"
        plan = self._put(plan)
        groups = self._list(OG_API, "OperatorGroup", namespace)
        if len(groups) != 1:
            message = NO_OPERATOR_GROUP if not groups else MANY_OPERATOR_GROUPS
            self._fail_plan(plan, info, "InstallComponentFailed", message,
                            _condition("InstallPlanFailed", "True", "InstallComponentFailed", message))
            return
        bundle = info["bundle"]
        why = self._pull(bundle.get("image") or "")
        if why is not None:
            pod = f"{info['catalog_namespace']}/{hashlib.sha256(name.encode()).hexdigest()[:10]}-unpack"
            detail = f'Back-off pulling image "{bundle.get("image")}": {why}'
            message = (f"bundle unpacking failed. Reason: ImagePullBackOff, Message: unpack pod({pod}) "
                       f"container(pull) is pending: {detail}")
            plan["status"]["bundleLookups"][0]["conditions"] = [
                _condition("BundleLookupFailed", "True", "JobFailed", message)]
            self._fail_plan(plan, info, "InstallCheckFailed", message,
                            _condition("BundleUnpackFailed", "True", "BundleUnpackFailed", message))
            return
        csv = copy.deepcopy(bundle.get("csv")) if bundle.get("csvSource") == "olm.bundle.object" else None
        csv = csv or synthesized_csv(info["package"], info["csv"], bundle)
        group = groups[0]
        targets = (group.get("status") or {}).get("namespaces") or (group.get("spec") or {}).get("targetNamespaces") or []
        targets = [t for t in targets if t]
        csv["metadata"] = {
            "name": info["csv"], "namespace": namespace,
            "labels": dict((csv.get("metadata") or {}).get("labels") or {},
                           **{f"operators.coreos.com/{info['package']}.{namespace}": ""}),
            "annotations": dict((csv.get("metadata") or {}).get("annotations") or {},
                                **{"olm.operatorGroup": group["metadata"]["name"], "olm.operatorNamespace": namespace,
                                   "olm.targetNamespaces": ",".join(targets)}),
        }
        csv["apiVersion"], csv["kind"] = OLM_API, "ClusterServiceVersion"
        csv.pop("status", None)
        self._put(csv)
        self._installs[(namespace, info["csv"])] = info
        plan["status"].update(phase="Complete", conditions=[_condition("Installed", "True")], plan=[{
            "resolving": info["csv"], "status": "Created",
            "resource": {"group": "operators.coreos.com", "version": "v1alpha1", "kind": "ClusterServiceVersion",
                         "name": info["csv"], "sourceName": info["catalog"], "sourceNamespace": info["catalog_namespace"],
                         "manifest": base64.b64encode(info["csv"].encode()).decode()}}])
        self._put(plan)
        self._sync_csv(namespace, info["csv"], targets=targets)

    # --- the CSV and its pods ----------------------------------------------------------------

    def _sync_csv(self, namespace: str, name: str, targets: list | None = None) -> None:
        csv = self.api.get(OLM_API, "ClusterServiceVersion", name, namespace)
        info = self._installs.get((namespace, name))
        if csv is None or info is None or (csv.get("status") or {}).get("phase") == "Succeeded":
            return
        if targets is None:
            targets = [t for t in csv["metadata"].get("annotations", {}).get("olm.targetNamespaces", "").split(",") if t]
        supported = {m.get("type") for m in (csv.get("spec") or {}).get("installModes") or [] if m.get("supported")}
        history = [_condition("Pending", "", "RequirementsUnknown", "requirements not yet checked")]
        message = _unsupported(supported, namespace, targets)
        if message:
            self._csv_status(csv, history, "Failed", "UnsupportedOperatorGroup", message)
            return
        history += [_condition("InstallReady", "", "AllRequirementsMet", "all requirements found, attempting install"),
                    _condition("Installing", "", "InstallSucceeded", "waiting for install components to report healthy")]
        deployments = ((csv.get("spec") or {}).get("install") or {}).get("spec", {}).get("deployments") or []
        pods = self._pods(csv, info, deployments)
        failed = [deployment for deployment, _pod, ok in pods if not ok]
        for _deployment, pod, _ok in pods:
            self.api.put(pod)
        if not failed:
            history.append(_condition("Succeeded", "", "InstallSucceeded", "install strategy completed with no errors"))
            self._csv_status(csv, history, "Succeeded", "InstallSucceeded", "install strategy completed with no errors")
            sub = self.api.get(OLM_API, "Subscription", info["subscription"], namespace)
            if sub is not None:
                self._update_subscription(sub, state="AtLatestKnown", installedCSV=name, currentCSV=name,
                                          conditions=self._conditions(sub, drop=("InstallPlanPending",)))
            return
        deployment = failed[0]
        waiting = (f"installing: waiting for deployment {deployment} to become ready: deployment \"{deployment}\" "
                   "not available: Deployment does not have minimum availability.")
        history.append(_condition("Installing", "", "InstallWaiting", waiting))
        if self.install_timeout_elapsed:
            message = (f"install failed: deployment {deployment} not ready before timeout: deployment "
                       f"\"{deployment}\" exceeded its progress deadline")
            history.append(_condition("Failed", "", "InstallCheckFailed", message))
            self._csv_status(csv, history, "Failed", "InstallCheckFailed", message)
        else:
            self._csv_status(csv, history, "Installing", "InstallWaiting", waiting)

    def _csv_status(self, csv: dict, history: list[dict], phase: str, reason: str, message: str) -> None:
        now = _now()
        conditions = [{"phase": c["type"], "reason": c["reason"], "message": c["message"],
                       "lastTransitionTime": now, "lastUpdateTime": now} for c in history]
        csv["status"] = {"phase": phase, "reason": reason, "message": message, "conditions": conditions,
                         "lastTransitionTime": now, "lastUpdateTime": now}
        self._put(csv)

    def _pods(self, csv: dict, info: dict, deployments: list[dict]) -> list[tuple[str, dict, bool]]:
        """(deployment, pod, whether all its images pulled): one pod per deployment; related images
        no deployment runs join the first one's."""
        bundle = info["bundle"]
        used = set()
        specs = []
        for deployment in deployments:
            template = (deployment.get("spec") or {}).get("template") or {}
            pod_spec = copy.deepcopy(template.get("spec") or {})
            containers = pod_spec.setdefault("containers", [])
            used.update(c.get("image") for c in containers + (pod_spec.get("initContainers") or []))
            specs.append((deployment["name"], dict((template.get("metadata") or {}).get("labels") or {}), pod_spec))
        related = [r for r in (bundle.get("relatedImages") or []) + ((csv.get("spec") or {}).get("relatedImages") or [])
                   if r.get("image") and r["image"] != bundle.get("image") and r["image"] not in used]
        if related and not specs:
            specs.append((f"{info['package']}-controller-manager", {}, {"containers": []}))
        for index, entry in enumerate(related):
            if entry["image"] not in used:
                used.add(entry["image"])
                specs[0][2]["containers"].append({"name": f"related-{entry.get('name') or index}", "image": entry["image"]})
        pods = []
        for deployment, labels, pod_spec in specs:
            statuses, ready = [], True
            for container in pod_spec.get("containers") or []:
                why = self._pull(container.get("image") or "")
                status = {"name": container.get("name"), "image": container.get("image"), "restartCount": 0}
                if why is None:
                    status.update(ready=True, started=True, state={"running": {"startedAt": _now()}})
                else:
                    ready = False
                    status.update(ready=False, started=False, state={"waiting": {
                        "reason": "ImagePullBackOff", "message": f'Back-off pulling image "{container.get("image")}": {why}'}})
                statuses.append(status)
            suffix = hashlib.sha256(f"{csv['metadata']['uid']}/{deployment}".encode()).hexdigest()
            pods.append((deployment, {
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": f"{deployment}-{suffix[:10]}-{suffix[10:15]}", "namespace": csv["metadata"]["namespace"],
                             "labels": dict(labels, **{"olm.owner": csv["metadata"]["name"],
                                                       "olm.owner.namespace": csv["metadata"]["namespace"]})},
                "spec": pod_spec,
                "status": {"phase": "Running" if ready else "Pending", "containerStatuses": statuses,
                           "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
            }, ready))
        return pods
