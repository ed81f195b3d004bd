# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Object store and request semantics of the stand-in Kubernetes API server (TEST DOUBLE, see
kube_apiserver.py): create / replace / patch / delete with resourceVersion, generation, uid and
creationTimestamp kept as a real server keeps them, selectors, patch formats, and errors as
Kubernetes ``Status`` objects.

Simplifications, each one a place where a real server does more:
- server-side apply merges the applied object into the stored one (JSON merge patch semantics);
  there is no field ownership, so no apply conflicts and no removal of fields a manager stopped
  applying. ``fieldManager`` is required, as on a real server; ``force`` is accepted.
- objects are deleted at once (no finalizers, no graceful deletion); deleting a namespace
  deletes what it holds at once.
- a resource served in several versions is stored once; reading it in another version only
  changes ``apiVersion`` (a CRD's ``conversion: None``).
"""

from __future__ import annotations

import copy
import datetime
import json
import re
import threading
import uuid

import yaml

from .kube_types import ResourceType, prune, schema_errors


class KubeError(Exception):
    """A request the server refuses, as a ``Status`` object."""

    def __init__(self, code: int, reason: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict:
        body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": self.message, "reason": self.reason, "code": self.code}
        if self.details is not None:
            body["details"] = self.details
        return body


def not_found(rtype: ResourceType, name: str) -> KubeError:
    return KubeError(404, "NotFound", f'{rtype.qualified} "{name}" not found',
                     {"name": name, "group": rtype.group, "kind": rtype.plural})


def conflict(rtype: ResourceType, name: str) -> KubeError:
    return KubeError(409, "Conflict", f'Operation cannot be fulfilled on {rtype.qualified} "{name}": the object has been '
                     "modified; please apply your changes to the latest version and try again",
                     {"name": name, "group": rtype.group, "kind": rtype.plural})


def invalid(rtype: ResourceType, name: str, causes: list[dict]) -> KubeError:
    text = ", ".join(f"{c['field']}: {c['message']}" if c.get("field") else c["message"] for c in causes)
    return KubeError(422, "Invalid", f'{rtype.kind}.{rtype.group or "core"} "{name}" is invalid: [{text}]',
                     {"name": name, "group": rtype.group, "kind": rtype.kind, "causes": causes})


def bad_request(message: str) -> KubeError:
    return KubeError(400, "BadRequest", message)


# --- patches ---------------------------------------------------------------------------------

def merge_patch(target, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise bad_request(f"invalid JSON pointer {path!r}")
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _parent(doc, parts: list[str], path: str):
    node = doc
    for part in parts[:-1]:
        try:
            node = node[int(part)] if isinstance(node, list) else node[part]
        except (KeyError, IndexError, ValueError, TypeError):
            raise KubeError(422, "Invalid", f"the server rejected our request due to an error in our request: "
                            f"doc is missing path: {path!r}") from None
    return node


def json_patch(doc, operations):
    """RFC 6902 JSON patch (add, remove, replace, move, copy, test)."""
    if not isinstance(operations, list):
        raise bad_request("json patch: the body must be a list of operations")
    doc = copy.deepcopy(doc)
    for op in operations:
        name, path = op.get("op"), op.get("path", "")
        if name in ("move", "copy"):
            source = _pointer(op.get("from", ""))
            value = copy.deepcopy(_get(doc, source, op.get("from", "")))
            if name == "move":
                doc = _remove(doc, source, op["from"])
            doc = _add(doc, _pointer(path), value, path)
        elif name == "add":
            doc = _add(doc, _pointer(path), copy.deepcopy(op.get("value")), path)
        elif name == "remove":
            doc = _remove(doc, _pointer(path), path)
        elif name == "replace":
            parts = _pointer(path)
            _get(doc, parts, path)
            doc = _add(_remove(doc, parts, path), parts, copy.deepcopy(op.get("value")), path)
        elif name == "test":
            if _get(doc, _pointer(path), path) != op.get("value"):
                raise KubeError(422, "Invalid", f"testing value {path} failed")
        else:
            raise bad_request(f"json patch: unexpected operation {name!r}")
    return doc


def _get(doc, parts, path):
    node = _parent(doc, parts + ["-"], path) if parts else doc
    return node


def _add(doc, parts, value, path):
    if not parts:
        return value
    parent = _parent(doc, parts, path)
    last = parts[-1]
    if isinstance(parent, list):
        index = len(parent) if last == "-" else int(last)
        if index > len(parent):
            raise KubeError(422, "Invalid", f"add operation: index out of bounds at {path!r}")
        parent.insert(index, value)
    elif isinstance(parent, dict):
        parent[last] = value
    else:
        raise KubeError(422, "Invalid", f"doc is missing path: {path!r}")
    return doc


def _remove(doc, parts, path):
    if not parts:
        return None
    parent = _parent(doc, parts, path)
    last = parts[-1]
    try:
        if isinstance(parent, list):
            del parent[int(last)]
        else:
            del parent[last]
    except (KeyError, IndexError, ValueError, TypeError):
        raise KubeError(422, "Invalid", f"the server rejected our request due to an error in our request: "
                        f"doc is missing path: {path!r}") from None
    return doc


# --- selectors -------------------------------------------------------------------------------

_SET_TERM = re.compile(r"^\s*([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")


def _split_terms(selector: str) -> list[str]:
    terms, depth, current = [], 0, ""
    for char in selector:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += char
    terms.append(current)
    return [t.strip() for t in terms if t.strip()]


def label_matcher(selector: str | None):
    """A predicate on a labels dict for a labelSelector (=, ==, !=, in, notin, exists, !exists)."""
    checks = []
    for term in _split_terms(selector or ""):
        match = _SET_TERM.match(term)
        if match:
            key, operator, values = match.group(1), match.group(2), {v.strip() for v in match.group(3).split(",")}
            if operator == "in":
                checks.append(lambda labels, k=key, v=values: labels.get(k) in v)
            else:
                checks.append(lambda labels, k=key, v=values: labels.get(k) not in v)
        elif "!=" in term:
            key, value = (s.strip() for s in term.split("!=", 1))
            checks.append(lambda labels, k=key, v=value: labels.get(k) != v)
        elif "=" in term:
            key, value = (s.strip() for s in term.replace("==", "=").split("=", 1))
            checks.append(lambda labels, k=key, v=value: labels.get(k) == v)
        elif term.startswith("!"):
            checks.append(lambda labels, k=term[1:].strip(): k not in labels)
        elif re.match(r"^[\w./-]+$", term):
            checks.append(lambda labels, k=term: k in labels)
        else:
            raise bad_request(f"unable to parse requirement: {term!r}")
    return lambda labels: all(check(labels or {}) for check in checks)


def field_matcher(selector: str | None):
    """A predicate on an object for a fieldSelector on metadata.name / metadata.namespace."""
    checks = []
    for term in _split_terms(selector or ""):
        negate = "!=" in term
        key, value = (s.strip() for s in term.replace("!=", "=").replace("==", "=").split("=", 1))
        if key not in ("metadata.name", "metadata.namespace"):
            raise bad_request(f'"{key}" is not a known field selector: only "metadata.name", "metadata.namespace"')
        field = key.split(".", 1)[1]
        checks.append(lambda obj, f=field, v=value, n=negate: (obj["metadata"].get(f, "") == v) != n)
    return lambda obj: all(check(obj) for check in checks)


# --- the store -------------------------------------------------------------------------------

def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Store:
    """Objects by (group, plural, namespace, name), with one resourceVersion counter."""

    def __init__(self):
        self.lock = threading.RLock()
        self.objects: dict[tuple, dict] = {}
        self.revision = 0
        self.listeners: list = []  # callables (store, rtype, obj, event) run after each write

    def _key(self, rtype: ResourceType, namespace: str | None, name: str) -> tuple:
        return (rtype.group, rtype.plural, namespace if rtype.namespaced else None, name)

    def _view(self, rtype: ResourceType, obj: dict) -> dict:
        out = copy.deepcopy(obj)
        out["apiVersion"] = rtype.api_version
        out["kind"] = rtype.kind
        return out

    def _next_version(self) -> str:
        self.revision += 1
        return str(self.revision)

    def get(self, rtype: ResourceType, namespace: str | None, name: str) -> dict:
        with self.lock:
            obj = self.objects.get(self._key(rtype, namespace, name))
            if obj is None:
                raise not_found(rtype, name)
            return self._view(rtype, obj)

    def list(self, rtype: ResourceType, namespace: str | None, label_selector=None, field_selector=None) -> dict:
        labels, fields = label_matcher(label_selector), field_matcher(field_selector)
        with self.lock:
            items = [self._view(rtype, obj) for key, obj in sorted(self.objects.items())
                     if key[:2] == (rtype.group, rtype.plural) and (namespace is None or key[2] == namespace)
                     and labels(obj["metadata"].get("labels")) and fields(obj)]
            return {"apiVersion": rtype.api_version, "kind": f"{rtype.kind}List",
                    "metadata": {"resourceVersion": str(self.revision)}, "items": items}

    def namespace_exists(self, namespace: str) -> bool:
        with self.lock:
            return ("", "namespaces", None, namespace) in self.objects

    def _check(self, rtype: ResourceType, obj: dict, strict: bool) -> list[str]:
        """Validate ``obj`` in place (pruned); return the pruned fields as warnings."""
        name = obj.get("metadata", {}).get("name", "")
        pruned = prune(obj, rtype.schema)
        if pruned and strict:
            raise bad_request(f"{rtype.kind} in version \"{rtype.version}\" cannot be handled as a {rtype.kind}: "
                              + ", ".join(f'strict decoding error: unknown field "{p}"' for p in pruned))
        causes = schema_errors(rtype, obj)
        if causes:
            raise invalid(rtype, name, causes)
        return [f'unknown field "{p}"' for p in pruned]

    def _check_identity(self, rtype: ResourceType, obj, namespace: str | None, name: str | None) -> None:
        if not isinstance(obj, dict):
            raise bad_request("the body of the request is not a JSON object")
        if obj.get("kind") != rtype.kind or obj.get("apiVersion") not in (rtype.api_version, None):
            raise bad_request(f"the API version in the data ({obj.get('apiVersion')}) and kind ({obj.get('kind')}) "
                              f"do not match the request ({rtype.api_version}, {rtype.kind})")
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise bad_request("metadata must be an object")
        if rtype.namespaced:
            if meta.get("namespace") not in (None, "", namespace):
                raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        if name is not None and meta.get("name") not in (None, name):
            raise bad_request("the name of the object does not match the name on the URL")

    def create(self, rtype: ResourceType, namespace: str | None, obj, dry_run=False, strict=False) -> tuple[dict, list]:
        self._check_identity(rtype, obj, namespace, None)
        obj = copy.deepcopy(obj)
        meta = obj["metadata"]
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
        name = meta.get("name")
        if not name:
            raise invalid(rtype, "", [{"reason": "FieldValueRequired", "field": "metadata.name",
                                       "message": "Required value: name or generateName is required"}])
        with self.lock:
            if rtype.namespaced and not self.namespace_exists(namespace):
                raise KubeError(404, "NotFound", f'namespaces "{namespace}" not found',
                                {"name": namespace, "kind": "namespaces"})
            key = self._key(rtype, namespace, name)
            if key in self.objects:
                raise KubeError(409, "AlreadyExists", f'{rtype.qualified} "{name}" already exists',
                                {"name": name, "group": rtype.group, "kind": rtype.plural})
            for server_set in ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields"):
                meta.pop(server_set, None)
            if rtype.status:
                obj.pop("status", None)
            if rtype.kind == "Namespace":
                obj["status"] = {"phase": "Active"}
            warnings = self._check(rtype, obj, strict)
            meta.update(uid=str(uuid.uuid4()), creationTimestamp=_now(), generation=1)
            if dry_run:
                meta["resourceVersion"] = ""
                return self._view(rtype, obj), warnings
            meta["resourceVersion"] = self._next_version()
            self.objects[key] = obj
            self._notify(rtype, obj, "ADDED")
            return self._view(rtype, obj), warnings

    def put(self, rtype: ResourceType, obj: dict) -> dict:
        """Store ``obj`` as the server's own controllers would (no validation, no namespace check):
        for a test or a simulation to set what clients cannot (status, read-only types)."""
        with self.lock:
            obj = copy.deepcopy(obj)
            meta = obj.setdefault("metadata", {})
            key = self._key(rtype, meta.get("namespace"), meta["name"])
            old = self.objects.get(key)
            meta.setdefault("uid", old["metadata"]["uid"] if old else str(uuid.uuid4()))
            meta.setdefault("creationTimestamp", old["metadata"]["creationTimestamp"] if old else _now())
            meta.setdefault("generation", old["metadata"].get("generation", 1) if old else 1)
            meta["resourceVersion"] = self._next_version()
            obj["apiVersion"], obj["kind"] = rtype.api_version, rtype.kind
            self.objects[key] = obj
            self._notify(rtype, obj, "MODIFIED" if old else "ADDED")
            return self._view(rtype, obj)

    def update(self, rtype: ResourceType, namespace: str | None, name: str, new, subresource: str | None = None,
               dry_run=False, strict=False, require_version=True) -> tuple[dict, list]:
        """PUT (``new`` is the whole object) on the resource or its status subresource."""
        self._check_identity(rtype, new, namespace, name)
        with self.lock:
            key = self._key(rtype, namespace, name)
            old = self.objects.get(key)
            if old is None:
                raise not_found(rtype, name)
            version = new["metadata"].get("resourceVersion")
            if version and version != old["metadata"]["resourceVersion"]:
                raise conflict(rtype, name)
            if not version and require_version and rtype.custom:
                raise invalid(rtype, name, [{"reason": "FieldValueInvalid", "field": "metadata.resourceVersion",
                                             "message": "Invalid value: 0x0: must be specified for an update"}])
            return self._write(rtype, key, old, copy.deepcopy(new), subresource, dry_run, strict)

    def patch(self, rtype: ResourceType, namespace: str | None, name: str, patch_type: str, body: bytes,
              subresource: str | None = None, dry_run=False, strict=False, field_manager=None) -> tuple[dict, list]:
        """PATCH with one of the four patch content types; apply creates a missing object."""
        try:
            patch = yaml.safe_load(body) if patch_type == "application/apply-patch+yaml" else json.loads(body or b"null")
        except (ValueError, yaml.YAMLError) as exc:
            raise bad_request(f"the body of the request could not be decoded: {exc}") from None
        with self.lock:
            key = self._key(rtype, namespace, name)
            old = self.objects.get(key)
            if patch_type == "application/apply-patch+yaml":
                if not field_manager:
                    raise KubeError(422, "Invalid", 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: '
                                    "Required value: is required for apply patch")
                self._check_identity(rtype, patch, namespace, name)
                if old is None:
                    if subresource:
                        raise not_found(rtype, name)
                    return self.create(rtype, namespace, patch, dry_run=dry_run, strict=strict)
                new = merge_patch(old, patch)
            elif old is None:
                raise not_found(rtype, name)
            elif patch_type == "application/merge-patch+json":
                new = merge_patch(old, patch)
            elif patch_type == "application/strategic-merge-patch+json":
                if rtype.custom:
                    raise KubeError(415, "UnsupportedMediaType", "the body of the request was in an unknown format - "
                                    "accepted media types include: application/json-patch+json, "
                                    "application/merge-patch+json, application/apply-patch+yaml")
                new = merge_patch(old, patch)  # built-in types here have no list merge keys
            elif patch_type == "application/json-patch+json":
                new = json_patch(old, patch)
            else:
                raise KubeError(415, "UnsupportedMediaType", f"the body of the request was in an unknown format - "
                                f"{patch_type!r} is not a patch type")
            if not isinstance(new, dict):
                raise bad_request("the patched object is not a JSON object")
            version = (patch.get("metadata") or {}).get("resourceVersion") if isinstance(patch, dict) else None
            if version and version != old["metadata"]["resourceVersion"]:
                raise conflict(rtype, name)
            new["metadata"] = dict(new.get("metadata") or {}, resourceVersion=old["metadata"]["resourceVersion"])
            self._check_identity(rtype, new, namespace, name)
            return self._write(rtype, key, old, new, subresource, dry_run, strict)

    def _write(self, rtype, key, old, new, subresource, dry_run, strict) -> tuple[dict, list]:
        if subresource == "status":
            merged = copy.deepcopy(old)
            if "status" in new:
                merged["status"] = new["status"]
            else:
                merged.pop("status", None)
            new = merged
        else:
            if rtype.status:
                if "status" in old:
                    new["status"] = copy.deepcopy(old["status"])
                else:
                    new.pop("status", None)
            for server_set in ("uid", "creationTimestamp", "generation", "resourceVersion"):
                new["metadata"][server_set] = old["metadata"][server_set]
            new["metadata"].pop("managedFields", None)
        warnings = self._check(rtype, new, strict)
        if new == old:
            return self._view(rtype, old), warnings  # a no-op write keeps the resourceVersion
        if {k: v for k, v in new.items() if k not in ("metadata", "status")} != \
                {k: v for k, v in old.items() if k not in ("metadata", "status")}:
            new["metadata"]["generation"] = old["metadata"]["generation"] + 1
        if dry_run:
            return self._view(rtype, new), warnings
        new["metadata"]["resourceVersion"] = self._next_version()
        self.objects[key] = new
        self._notify(rtype, new, "MODIFIED")
        return self._view(rtype, new), warnings

    def delete(self, rtype: ResourceType, namespace: str | None, name: str, dry_run=False) -> dict:
        with self.lock:
            key = self._key(rtype, namespace, name)
            obj = self.objects.get(key)
            if obj is None:
                raise not_found(rtype, name)
            if dry_run:
                return self._view(rtype, obj)
            del self.objects[key]
            if rtype.kind == "Namespace" and not rtype.group:
                for other in [k for k in self.objects if k[2] == name]:
                    del self.objects[other]
            self._notify(rtype, obj, "DELETED")
            return self._view(rtype, obj)

    def _notify(self, rtype, obj, event) -> None:
        for listener in list(self.listeners):
            listener(self, rtype, copy.deepcopy(obj), event)
