# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TEST DOUBLE: simulated OLM package server for the stand-in API server (kube_apiserver.py).

:class:`PackageManifestSimulator` plays the part of OLM's package server: when a CatalogSource
turns READY (as :class:`tests.support.kube_olm_sim.CatalogSourceSimulator` decides, from a real
pull through the mirror policies), it reads the catalog image that the node pulled (the catalog
pod's ``imageID``) from the real test registry with :mod:`tests.support.kube_catalog_content`
(independent of the collection's code) and serves one PackageManifest
(packages.operators.coreos.com/v1) per package, in the shape ``oc get packagemanifest -o yaml``
shows:

- ``metadata``: name = the package, in the CatalogSource's namespace; labels: the CatalogSource's
  own labels, ``catalog``, ``catalog-namespace``, ``provider``, ``provider-url``, and the CSV's
  ``operatorframework.io/arch.*`` / ``os.*`` labels (``arch.amd64`` and ``os.linux`` when the
  CSV names none, as the package server defaults them);
- ``status``: catalogSource, catalogSourceDisplayName, catalogSourceNamespace,
  catalogSourcePublisher, packageName, defaultChannel, provider, and ``channels``: name,
  currentCSV (the channel head), currentCSVDesc (displayName, description, version, provider,
  installModes, relatedImages as a list of strings, annotations, keywords, links, maintainers,
  maturity, CRD descriptions ...), entries (name, version; newest first).

They go away when the CatalogSource is deleted or stops being READY, and follow it when its image
(or the pull the node made) changes.

Simplifications, each a place where a real package server does more or otherwise:
- PackageManifests live only in the CatalogSource's namespace (a real package server also shows
  the global catalog namespace's packages in every namespace);
- the same package in two CatalogSources of one namespace: a real package server lists both
  (same name, told apart by the ``catalog`` label); the store here holds one object per name, so
  the double serves the one from the CatalogSource whose name sorts first, and the other's comes
  back when that one goes away. :meth:`content` still gives each catalog's own packages;
- a bundle without a CSV in the catalog (no ``olm.bundle.object`` / ``olm.csv.metadata``) gets a
  description made from the FBC: displayName = package, all four install modes supported,
  relatedImages from the bundle;
- a catalog image that cannot be read (not a File-Based Catalog, sqlite) serves no packages; the
  reason is in :attr:`errors` (a real catalog pod would crash-loop instead);
- all of it happens at once, synchronously with the write that made the CatalogSource READY.
"""

from __future__ import annotations

import copy

from .kube_catalog_content import CatalogReadError, read_catalog
from .kube_store import KubeError

PACKAGES_API = "packages.operators.coreos.com/v1"
CATALOG_API = "operators.coreos.com/v1alpha1"
_DESC_FIELDS = ("annotations", "apiservicedefinitions", "customresourcedefinitions", "description", "displayName",
                "icon", "installModes", "keywords", "links", "maintainers", "maturity", "minKubeVersion",
                "nativeAPIs", "provider", "version")


def _version_key(version: str | None) -> tuple:
    core = (version or "0").split("+")[0].split("-")[0]
    return tuple(int(p) if p.isdigit() else 0 for p in core.split("."))


def csv_description(package: str, bundle: dict) -> dict:
    """currentCSVDesc of a bundle: from its CSV when the catalog carries one, else from the FBC."""
    csv = bundle.get("csv") or {}
    spec = csv.get("spec") or {}
    desc = {key: copy.deepcopy(spec[key]) for key in _DESC_FIELDS if key in spec and key != "annotations"}
    annotations = dict((csv.get("metadata") or {}).get("annotations") or {})
    if annotations:
        desc["annotations"] = annotations
    desc.setdefault("displayName", package)
    desc.setdefault("version", bundle.get("version") or "")
    desc.setdefault("provider", {"name": ""})
    desc.setdefault("installModes", [{"type": mode, "supported": True} for mode in
                                     ("OwnNamespace", "SingleNamespace", "MultiNamespace", "AllNamespaces")])
    images = [r.get("image") for r in bundle.get("relatedImages") or [] if r.get("image")]
    desc["relatedImages"] = list(dict.fromkeys(images))
    return desc


def package_manifest(catalog: dict, package: str, content: dict) -> dict:
    """The PackageManifest a package server would serve for ``package`` of ``catalog``."""
    meta, spec = catalog["metadata"], catalog.get("spec") or {}
    channels = []
    provider = {"name": ""}
    csv_labels: dict = {}
    for name in sorted(content["channels"]):
        channel = content["channels"][name]
        head = channel.get("head")
        bundle = content["bundles"].get(head) or {}
        entries = [{"name": e["name"], "version": (content["bundles"].get(e["name"]) or {}).get("version") or ""}
                   for e in channel["entries"] if e.get("name")]
        entries.sort(key=lambda e: _version_key(e["version"]), reverse=True)
        desc = csv_description(package, bundle)
        channels.append({"name": name, "currentCSV": head, "currentCSVDesc": desc, "entries": entries})
        if name == content.get("defaultChannel") or len(channels) == 1:
            provider = {k: v for k, v in (desc.get("provider") or {}).items() if k in ("name", "url")}
            csv_labels = ((bundle.get("csv") or {}).get("metadata") or {}).get("labels") or {}
    labels = dict(meta.get("labels") or {})
    platform = {k: v for k, v in csv_labels.items()
                if k.startswith(("operatorframework.io/arch.", "operatorframework.io/os."))}
    if not any(k.startswith("operatorframework.io/arch.") for k in platform):
        platform["operatorframework.io/arch.amd64"] = "supported"
    if not any(k.startswith("operatorframework.io/os.") for k in platform):
        platform["operatorframework.io/os.linux"] = "supported"
    labels.update(platform)
    labels.update({"catalog": meta["name"], "catalog-namespace": meta["namespace"],
                   "provider": provider.get("name", ""), "provider-url": provider.get("url", "")})
    return {
        "apiVersion": PACKAGES_API, "kind": "PackageManifest",
        "metadata": {"name": package, "namespace": meta["namespace"], "labels": labels},
        "spec": {},
        "status": {
            "catalogSource": meta["name"], "catalogSourceDisplayName": spec.get("displayName", ""),
            "catalogSourceNamespace": meta["namespace"], "catalogSourcePublisher": spec.get("publisher", ""),
            "packageName": package, "defaultChannel": content.get("defaultChannel") or "",
            "provider": provider, "channels": channels,
        },
    }


class PackageManifestSimulator:
    """Install with ``PackageManifestSimulator(api, catalog_sim).install()`` after the
    CatalogSourceSimulator (it reads the registries the node reaches from it)."""

    def __init__(self, api, catalog_sim):
        self.api = api
        self.catalog_sim = catalog_sim
        self.errors: dict[tuple[str, str], str] = {}  # (namespace, name) -> why its content is not served
        self._content: dict[tuple[str, str], dict] = {}  # READY catalogs' packages
        self._manifests: dict[tuple[str, str], dict] = {}  # their PackageManifests, by package
        self._seen: dict[tuple[str, str], str] = {}
        self._served: dict[str, set[str]] = {}  # namespace -> package names this double put there
        self._busy = False
        self._pending: list[tuple[str, str]] = []

    def install(self) -> "PackageManifestSimulator":
        self.api.store.listeners.append(self._on_change)
        for item in self._catalogs(None):
            self._pending.append((item["metadata"]["namespace"], item["metadata"]["name"]))
        self._drain()
        return self

    # --- what other simulations read ---------------------------------------------------------

    def content(self, namespace: str, name: str) -> dict | None:
        """The packages (kube_catalog_content.packages_of shape; do not modify) a READY
        CatalogSource serves, None when it is missing, not READY or unreadable."""
        return self._content.get((namespace, name))

    # --- the package server ------------------------------------------------------------------

    def _catalogs(self, namespace: str | None) -> list[dict]:
        return self.api.store.list(self.api.resource_type(CATALOG_API, "CatalogSource"), namespace)["items"]

    def _on_change(self, store, rtype, obj, event) -> None:
        del store, event  # the stored object is read again: events may arrive out of order when nested
        if rtype.kind != "CatalogSource":
            return
        self._pending.append((obj["metadata"]["namespace"], obj["metadata"]["name"]))
        if not self._busy:
            self._drain()

    def _drain(self) -> None:
        self._busy = True
        try:
            while self._pending:
                namespace, name = self._pending.pop(0)
                if self._sync_catalog(namespace, name):
                    self._sync_namespace(namespace)
        finally:
            self._busy = False

    def _pulled(self, catalog: dict) -> str | None:
        """The reference the node pulled for the catalog pod (its imageID), else the first pull
        candidate that resolves now."""
        meta = catalog["metadata"]
        pods = self.api.store.list(self.api.resource_type("v1", "Pod"), meta["namespace"],
                                   label_selector=f"olm.catalogSource={meta['name']}")["items"]
        for pod in pods:
            for status in (pod.get("status") or {}).get("containerStatuses") or []:
                if status.get("imageID"):
                    return status["imageID"]
        for candidate in self.catalog_sim.pull_candidates(catalog["spec"]["image"]):
            if self.catalog_sim.head_manifest(candidate) is None:
                return candidate
        return None

    def _sync_catalog(self, namespace: str, name: str) -> bool:
        """Re-read one CatalogSource; True when what it serves changed."""
        key = (namespace, name)
        catalog = self.api.get(CATALOG_API, "CatalogSource", name, namespace)
        state = ((catalog or {}).get("status") or {}).get("connectionState", {}).get("lastObservedState")
        if catalog is None or state != "READY" or not (catalog.get("spec") or {}).get("image"):
            self._seen.pop(key, None)
            self.errors.pop(key, None)
            changed = self._content.pop(key, None) is not None
            return self._manifests.pop(key, None) is not None or changed
        pulled = self._pulled(catalog)
        spec = catalog.get("spec") or {}
        fingerprint = repr((catalog["metadata"]["uid"], pulled, spec.get("displayName"), spec.get("publisher"),
                            sorted((catalog["metadata"].get("labels") or {}).items())))
        if self._seen.get(key) == fingerprint:
            return False
        self._seen[key] = fingerprint
        self.errors.pop(key, None)
        try:
            if pulled is None:
                raise CatalogReadError(f"{spec['image']}: no pull candidate resolves")
            content = read_catalog(pulled, self.catalog_sim.registries)
        except CatalogReadError as exc:
            self.errors[key] = str(exc)
            self._content.pop(key, None)
            self._manifests.pop(key, None)
            return True
        self._content[key] = content
        self._manifests[key] = {package: package_manifest(catalog, package, value)
                                for package, value in content.items()}
        return True

    def _sync_namespace(self, namespace: str) -> None:
        """Put the PackageManifests of ``namespace`` (first catalog by name wins a shared package);
        delete those no READY catalog serves any more."""
        wanted: dict[str, dict] = {}
        for (ns, _name), manifests in sorted(self._manifests.items()):
            if ns != namespace:
                continue
            for package, manifest in manifests.items():
                wanted.setdefault(package, manifest)
        rtype = self.api.resource_type(PACKAGES_API, "PackageManifest")
        for package in sorted(self._served.get(namespace, set()) - set(wanted)):
            try:
                self.api.store.delete(rtype, namespace, package)
            except KubeError:
                pass
        for package, manifest in sorted(wanted.items()):
            current = self.api.get(PACKAGES_API, "PackageManifest", package, namespace)
            if current is None or {k: current.get(k) for k in ("spec", "status")} != \
                    {k: manifest.get(k) for k in ("spec", "status")} or \
                    current["metadata"].get("labels") != manifest["metadata"]["labels"]:
                self.api.put(copy.deepcopy(manifest))
        self._served[namespace] = set(wanted)
