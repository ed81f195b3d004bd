# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TEST DOUBLE: simulated node and OLM behaviour for the stand-in API server (kube_apiserver.py).

:class:`CatalogSourceSimulator` plays the part of OLM's catalog operator and of the node that
pulls the catalog image. For every grpc CatalogSource with ``spec.image`` it "pulls" the image
the way CRI-O on an OpenShift node would: through the stored ImageDigestMirrorSets /
ImageContentSourcePolicies (digest references) and ImageTagMirrorSets (tag references), mirrors
in order and then the source unless ``mirrorSourcePolicy: NeverContactSource``, and a pull is a
real HEAD of the manifest in the real test registry. It then writes what a cluster would show:

- a catalog pod ``<name>-<hash>`` in the CatalogSource's namespace, label ``olm.catalogSource``,
  Running and ready, or Pending with its container waiting in ``ImagePullBackOff`` and a message
  naming the image and why each location failed (``manifest unknown``, ``no such host`` ...);
- ``status.connectionState.lastObservedState`` READY or TRANSIENT_FAILURE, with ``address``
  and ``lastConnect``, and ``status.registryService``.

Registries a node can reach are the ``registries`` given (RegistryServer / FaultProxy endpoints,
reached with their scheme, CA and credentials, as the cluster's pull secret would give); any other
host does not resolve, as in an air gap. Re-evaluated when a CatalogSource's image or a mirror
policy changes. Simplified: the pull happens at once, synchronously with the write that caused it;
with ``replace_delay`` seconds set, a changed image of a CatalogSource that already has a pod is
pulled only that much later (a timer thread), the old pod and its READY state kept meanwhile, as
OLM takes a while to replace a catalog pod.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import http.client
import json
import ssl
import threading

from .kube_store import KubeError

MIRROR_KINDS = ("ImageDigestMirrorSet", "ImageTagMirrorSet", "ImageContentSourcePolicy")
MANIFEST_TYPES = ", ".join((
    "application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json",
))


def split_reference(ref: str) -> tuple[str, str, str]:
    """(repository with host, ``:tag`` or ``@digest`` separator, tag or digest) of an image reference."""
    if "@" in ref:
        repo, digest = ref.split("@", 1)
        return repo, "@", digest
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > slash:
        return ref[:colon], ":", ref[colon + 1:]
    return ref, ":", "latest"


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class CatalogSourceSimulator:
    """Install with ``CatalogSourceSimulator(api, registries=[plain_registry]).install()``."""

    def __init__(self, api, registries=()):
        self.api = api
        self.registries = {reg.host: reg for reg in registries}
        self._seen: dict[tuple, str] = {}
        self._busy = False
        self.replace_delay = 0.0

    def install(self) -> "CatalogSourceSimulator":
        self.api.store.listeners.append(self._on_change)
        for item in self._list("operators.coreos.com/v1alpha1", "CatalogSource"):
            self._evaluate(item)
        return self

    # --- mirror policies, as CRI-O reads them from registries.conf -------------------------------

    def _list(self, api_version: str, kind: str) -> list[dict]:
        try:
            return self.api.store.list(self.api.resource_type(api_version, kind), None)["items"]
        except KeyError:
            return []

    def _policies(self) -> list[tuple[str, str, list[str], bool]]:
        """(kind of reference ``@`` / ``:``, source, mirrors, never contact source) rules."""
        rules = []
        for idms in self._list("config.openshift.io/v1", "ImageDigestMirrorSet"):
            for rule in idms.get("spec", {}).get("imageDigestMirrors") or []:
                rules.append(("@", rule["source"], list(rule.get("mirrors") or []),
                              rule.get("mirrorSourcePolicy") == "NeverContactSource"))
        for icsp in self._list("operator.openshift.io/v1alpha1", "ImageContentSourcePolicy"):
            for rule in icsp.get("spec", {}).get("repositoryDigestMirrors") or []:
                rules.append(("@", rule["source"], list(rule.get("mirrors") or []), False))
        for itms in self._list("config.openshift.io/v1", "ImageTagMirrorSet"):
            for rule in itms.get("spec", {}).get("imageTagMirrors") or []:
                rules.append((":", rule["source"], list(rule.get("mirrors") or []),
                              rule.get("mirrorSourcePolicy") == "NeverContactSource"))
        return rules

    def pull_candidates(self, ref: str) -> list[str]:
        """The references a node tries for ``ref``, in order: the mirrors of the longest matching
        source (all policies' rules for that source, in order), then the image itself."""
        repo, sep, ident = split_reference(ref)
        matching = [r for r in self._policies() if r[0] == sep and (repo == r[1] or repo.startswith(r[1] + "/"))]
        if not matching:
            return [ref]
        longest = max(len(r[1]) for r in matching)
        candidates, never_source = [], False
        for _kind, source, mirrors, never in (r for r in matching if len(r[1]) == longest):
            never_source = never_source or never
            for mirror in mirrors:
                candidate = f"{mirror}{repo[len(source):]}{sep}{ident}"
                if candidate not in candidates:
                    candidates.append(candidate)
        if not never_source:
            candidates.append(ref)
        return candidates

    def head_manifest(self, ref: str) -> str | None:
        """None when the manifest of ``ref`` can be pulled, else why not (the registry's words)."""
        repo, sep, ident = split_reference(ref)
        host, _slash, path = repo.partition("/")
        registry = self.registries.get(host)
        if registry is None:
            return f"dial tcp: lookup {host}: no such host"
        if registry.tls:
            connection = http.client.HTTPSConnection(host, timeout=10,
                                                     context=ssl.create_default_context(cafile=registry.ca_path))
        else:
            connection = http.client.HTTPConnection(host, timeout=10)
        headers = {"Accept": MANIFEST_TYPES}
        if registry.username:
            token = base64.b64encode(f"{registry.username}:{registry.password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        try:
            connection.request("HEAD", f"/v2/{path}/manifests/{ident}", headers=headers)
            response = connection.getresponse()
            response.read()
        except OSError as exc:
            return f"pinging container registry {host}: {exc}"
        finally:
            connection.close()
        if response.status == 200:
            if sep == "@" and response.getheader("Docker-Content-Digest") not in (None, ident):
                return f"manifest digest mismatch: got {response.getheader('Docker-Content-Digest')}"
            return None
        if response.status == 404:
            return "manifest unknown"
        if response.status in (401, 403):
            return "unauthorized: authentication required"
        return f"unexpected status {response.status}"

    # --- OLM ------------------------------------------------------------------------------------

    def _on_change(self, store, rtype, obj, event) -> None:
        del store  # the listener signature; the simulator writes through self.api
        if self._busy:
            return
        self._busy = True
        try:
            if rtype.kind in MIRROR_KINDS:
                for item in self._list("operators.coreos.com/v1alpha1", "CatalogSource"):
                    self._evaluate(item)
            elif rtype.kind == "CatalogSource":
                if event == "DELETED":
                    self._delete_pod(obj)
                    self._seen.pop((obj["metadata"]["namespace"], obj["metadata"]["name"]), None)
                else:
                    self._evaluate(obj)
        finally:
            self._busy = False

    def _pod_name(self, catalog: dict) -> str:
        return f"{catalog['metadata']['name']}-{hashlib.sha256(catalog['metadata']['uid'].encode()).hexdigest()[:5]}"

    def _delete_pod(self, catalog: dict) -> None:
        try:
            self.api.store.delete(self.api.resource_type("v1", "Pod"), catalog["metadata"]["namespace"],
                                  self._pod_name(catalog))
        except KubeError:
            pass

    def _evaluate(self, catalog: dict) -> None:
        spec = catalog.get("spec") or {}
        image = spec.get("image")
        if spec.get("sourceType") not in ("grpc", None) or not image:
            return
        key = (catalog["metadata"]["namespace"], catalog["metadata"]["name"])
        fingerprint = json.dumps([image, catalog["metadata"]["uid"], self._policies()])
        previous = self._seen.get(key)
        if previous == fingerprint:
            return
        self._seen[key] = fingerprint
        if self.replace_delay > 0 and previous and json.loads(previous)[0] != image:
            timer = threading.Timer(self.replace_delay, self._replace, key)
            timer.daemon = True
            timer.start()
            return
        self._pull(catalog, key, image)

    def _replace(self, namespace: str, name: str) -> None:
        """The delayed pull of a changed image (the timer thread)."""
        catalog = self.api.get("operators.coreos.com/v1alpha1", "CatalogSource", name, namespace)
        if catalog is not None and (catalog.get("spec") or {}).get("image"):
            self._pull(catalog, (namespace, name), catalog["spec"]["image"])

    def _pull(self, catalog: dict, key: tuple, image: str) -> None:
        failures = []
        pulled = None
        for candidate in self.pull_candidates(image):
            why = self.head_manifest(candidate)
            if why is None:
                pulled = candidate
                break
            failures.append(f"{candidate}: {why}")
        namespace, name = key
        container = {"name": "registry-server", "image": image}
        if pulled:
            container.update(ready=True, started=True, imageID=pulled, state={"running": {"startedAt": _now()}})
            pod_status = {"phase": "Running", "containerStatuses": [container]}
            state = "READY"
        else:
            message = f'Back-off pulling image "{image}": ' + "; ".join(failures)
            waiting = {"reason": "ImagePullBackOff", "message": message}
            container.update(ready=False, started=False, state={"waiting": waiting})
            pod_status = {"phase": "Pending", "containerStatuses": [container]}
            state = "TRANSIENT_FAILURE"
        self.api.put({"apiVersion": "v1", "kind": "Pod",
                      "metadata": {"name": self._pod_name(catalog), "namespace": namespace,
                                   "labels": {"olm.catalogSource": name, "olm.managed": "true"}},
                      "spec": {"containers": [{"name": "registry-server", "image": image}]},
                      "status": pod_status})
        current = self.api.get("operators.coreos.com/v1alpha1", "CatalogSource", name, namespace)
        if current is None:
            return
        current["status"] = dict(current.get("status") or {}, connectionState={
            "address": f"{name}.{namespace}.svc:50051", "lastObservedState": state, "lastConnect": _now(),
        }, registryService={"createdAt": _now(), "port": "50051", "protocol": "grpc", "serviceName": name,
                            "serviceNamespace": namespace})
        self.api.put(current)
