# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The resource types of the stand-in Kubernetes API server (TEST DOUBLE, see kube_apiserver.py).

Custom resources come from the real upstream CRDs under tests/fixtures/crds/ (names, scope,
versions, status subresource, openAPIV3Schema); a few types that have no CRD file are defined
here by hand, minimally: Namespace and Pod (core v1), ClusterVersion (config.openshift.io/v1, a CRD on
a real cluster whose upstream manifest the fixtures do not carry) and PackageManifest
(packages.operators.coreos.com/v1, an aggregated read-only API on a real cluster).

Also here: schema validation (jsonschema over openAPIV3Schema) and pruning of unknown fields,
as the real server does for structural schemas, the discovery documents, and the Table that
kubectl get asks for (its printer columns).
"""

from __future__ import annotations

import datetime
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema
import yaml

from .corpus import CRDS

# Verbs the stand-in implements (no watch, no deletecollection): discovery lists only these.
ALL_VERBS = ["create", "delete", "get", "list", "patch", "update"]
READ_VERBS = ["get", "list"]
STATUS_VERBS = ["get", "patch", "update"]
_OPEN_OBJECT = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


@dataclass(frozen=True)
class ResourceType:
    """One served group/version/resource."""

    group: str  # "" for the core group
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    custom: bool = True  # a custom resource: no strategic merge patch, resourceVersion required on update
    status: bool = False  # has the status subresource
    short_names: tuple = ()
    categories: tuple = ()
    verbs: tuple = tuple(ALL_VERBS)
    schema: dict = field(default_factory=lambda: dict(_OPEN_OBJECT), compare=False, hash=False)
    columns: tuple = field(default=(), compare=False, hash=False)  # additionalPrinterColumns

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """``plural.group`` as error messages name it (``catalogsources.operators.coreos.com``)."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def discovery(self) -> list[dict]:
        """This type's entries in an APIResourceList (the resource, then its status subresource)."""
        entry = {
            "name": self.plural, "singularName": self.singular, "namespaced": self.namespaced,
            "kind": self.kind, "verbs": list(self.verbs),
        }
        if self.short_names:
            entry["shortNames"] = list(self.short_names)
        if self.categories:
            entry["categories"] = list(self.categories)
        entries = [entry]
        if self.status:
            entries.append({"name": f"{self.plural}/status", "singularName": "", "namespaced": self.namespaced,
                            "kind": self.kind, "verbs": list(STATUS_VERBS)})
        return entries


def _crd_types(crd: dict) -> list[ResourceType]:
    spec = crd["spec"]
    names = spec["names"]
    types = []
    for version in spec["versions"]:
        if not version.get("served", True):
            continue
        types.append(ResourceType(
            group=spec["group"], version=version["name"], kind=names["kind"], plural=names["plural"],
            singular=names.get("singular") or names["kind"].lower(), namespaced=spec["scope"] == "Namespaced",
            status="status" in (version.get("subresources") or {}),
            short_names=tuple(names.get("shortNames") or ()), categories=tuple(names.get("categories") or ()),
            schema=(version.get("schema") or {}).get("openAPIV3Schema") or dict(_OPEN_OBJECT),
            columns=tuple(version.get("additionalPrinterColumns") or ()),
        ))
    return types


def _hand_defined() -> list[ResourceType]:
    namespace_schema = {
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"},
            "spec": {"type": "object", "properties": {"finalizers": {"type": "array", "items": {"type": "string"}}}},
            "status": {"type": "object", "properties": {"phase": {"type": "string"}}},
        },
    }
    cluster_version_schema = {
        "type": "object",
        "required": ["spec"],
        "properties": {
            "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"},
            "spec": {"type": "object", "required": ["clusterID"], "x-kubernetes-preserve-unknown-fields": True,
                     "properties": {"clusterID": {"type": "string"}, "channel": {"type": "string"}}},
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                       "properties": {"desired": {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                                                  "properties": {"version": {"type": "string"}}}}},
        },
    }
    return [
        ResourceType(group="", version="v1", kind="Namespace", plural="namespaces", singular="namespace",
                     namespaced=False, custom=False, status=True, short_names=("ns",), schema=namespace_schema),
        # Written by the simulations (catalog pods); open schema.
        ResourceType(group="", version="v1", kind="Pod", plural="pods", singular="pod", namespaced=True,
                     custom=False, status=True, short_names=("po",), categories=("all",)),
        ResourceType(group="config.openshift.io", version="v1", kind="ClusterVersion", plural="clusterversions",
                     singular="clusterversion", namespaced=False, status=True, schema=cluster_version_schema),
        # Read-only for clients, as on a real cluster: the test double fills it (simulated OLM).
        ResourceType(group="packages.operators.coreos.com", version="v1", kind="PackageManifest",
                     plural="packagemanifests", singular="packagemanifest", namespaced=True, custom=False,
                     verbs=tuple(READ_VERBS), categories=("olm",),
                     columns=({"name": "Catalog", "type": "string", "jsonPath": ".status.catalogSourceDisplayName"},
                              {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"})),
    ]


@functools.lru_cache(maxsize=None)
def _load_crd(path: str) -> dict:
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def default_types(crd_dir: Path = CRDS) -> list[ResourceType]:
    """Every type the stand-in serves: the CRDs found under ``crd_dir`` plus the hand-defined ones."""
    types = _hand_defined()
    for path in sorted(crd_dir.rglob("*.yaml")):
        crd = _load_crd(str(path))
        if isinstance(crd, dict) and crd.get("kind") == "CustomResourceDefinition":
            types.extend(_crd_types(crd))
    return types


_VERSION = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_priority(version: str) -> tuple:
    """Sort key giving Kubernetes' version order: GA before beta before alpha, higher first."""
    match = _VERSION.match(version)
    if not match:
        return (3, version)
    major, stage, minor = match.groups()
    rank = {None: 0, "beta": 1, "alpha": 2}[stage]
    return (rank, -int(major), -int(minor or 0))


# --- schema ----------------------------------------------------------------------------------

def prune(obj, schema: dict, path: str = "") -> list[str]:
    """Drop, in place, the fields ``schema`` does not declare (as the API server prunes custom
    resources); return their paths (``spec.foo``) for a strict field validation error or a warning."""
    pruned: list[str] = []
    if not isinstance(schema, dict) or schema.get("x-kubernetes-preserve-unknown-fields"):
        return pruned
    if isinstance(obj, dict) and (schema.get("type") == "object" or "properties" in schema):
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        for key in list(obj):
            child = f"{path}.{key}" if path else key
            if props is not None and key in props:
                pruned += prune(obj[key], props[key], child)
            elif isinstance(extra, dict):
                pruned += prune(obj[key], extra, child)
            elif props is not None and extra is not True and not (path == "" and key in ("apiVersion", "kind", "metadata")):
                del obj[key]
                pruned.append(child)
    elif isinstance(obj, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(obj):
            pruned += prune(item, schema["items"], f"{path}[{index}]")
    return pruned


def _int_or_string(schema):
    """openAPIV3Schema's ``x-kubernetes-int-or-string`` as JSON Schema (jsonschema ignores it)."""
    if isinstance(schema, dict):
        out = {key: _int_or_string(value) for key, value in schema.items()}
        if schema.get("x-kubernetes-int-or-string"):
            out.pop("type", None)
            out.setdefault("anyOf", [{"type": "integer"}, {"type": "string"}])
        if schema.get("nullable"):
            kind = out.get("type")
            if isinstance(kind, str):
                out["type"] = [kind, "null"]
        return out
    if isinstance(schema, list):
        return [_int_or_string(item) for item in schema]
    return schema


@functools.lru_cache(maxsize=None)
def _validator(rtype: ResourceType):
    return jsonschema.Draft7Validator(_int_or_string(rtype.schema))


def schema_errors(rtype: ResourceType, obj: dict) -> list[dict]:
    """The openAPIV3Schema violations of ``obj`` as Status ``details.causes`` (empty when valid)."""
    causes = []
    for error in sorted(_validator(rtype).iter_errors(obj), key=lambda e: list(e.absolute_path)):
        where = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in error.absolute_path)
        causes.append({"reason": "FieldValueInvalid", "message": f"Invalid value: {error.message}",
                       "field": where.replace(".[", "[")})
    return causes


# --- Table (what kubectl get prints) -----------------------------------------------------------

_PATH_STEP = re.compile(r'\.([^.\[]+)|\[\?\(@\.([^=]+)=="([^"]*)"\)\]|\[(\d+)\]')


def _json_path(obj, path: str):
    """A jsonPath of additionalPrinterColumns: keys (``.a.b.c``), list indexes
    (``.spec.clusterServiceVersionNames[0]``) and list filters
    (``.status.conditions[?(@.type=="Updated")].status``, first match); None when absent."""
    node = obj
    for key, field_name, value, index in _PATH_STEP.findall(path):
        if index:
            if not isinstance(node, list) or int(index) >= len(node):
                return None
            node = node[int(index)]
        elif key:
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
        else:
            if not isinstance(node, list):
                return None
            node = next((i for i in node if isinstance(i, dict) and str(i.get(field_name)) == value), None)
            if node is None:
                return None
    return node


def _age(timestamp: str | None) -> str | None:
    """kubectl's short age (``42s``, ``5m``, ``3h``, ``2d``) since an RFC 3339 timestamp."""
    if not timestamp:
        return None
    then = datetime.datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    seconds = max(0, int((datetime.datetime.now(datetime.timezone.utc) - then).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= 2 * size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def table(rtype: ResourceType, items: list[dict], resource_version: str) -> dict:
    """A meta.k8s.io/v1 Table of ``items``: Name plus the CRD's additionalPrinterColumns (Name
    and Age without them), rows carrying PartialObjectMetadata, as the server answers kubectl."""
    columns = list(rtype.columns) or [{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]
    definitions = [{"name": "Name", "type": "string", "format": "name", "description": "Name of the object",
                    "priority": 0}]
    definitions += [{"name": c["name"], "type": c.get("type", "string"), "format": c.get("format", ""),
                     "description": c.get("description", ""), "priority": c.get("priority", 0)} for c in columns]
    rows = []
    for item in items:
        cells = [item["metadata"]["name"]]
        for column in columns:
            value = _json_path(item, column.get("jsonPath", ""))
            cells.append(_age(value) if column.get("type") == "date" else value)
        rows.append({"cells": cells, "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                                "metadata": item["metadata"]}})
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": resource_version},
            "columnDefinitions": definitions, "rows": rows}
