# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TEST DOUBLE support: what a catalog image serves, read independently of the collection's code.

The simulated OLM (kube_packages_sim.py, kube_install_sim.py) needs the packages of a
CatalogSource's image. On a cluster, the catalog pod runs ``opm serve`` over the image's File-Based
Catalog. Here the image is read straight from the real test registry with plain HTTP(S) (the
registry's scheme, CA and basic credentials, as :meth:`CatalogSourceSimulator.head_manifest`
reaches it), and :mod:`tarfile`, :mod:`json` and :mod:`yaml`: none of the collection's catalog code,
so a bug there cannot hide itself in the tests that use this.

What it does, as a node and ``opm serve`` would:

- an index (OCI index or Docker manifest list) gives its ``linux/amd64`` manifest;
- the config's label ``operators.operatorframework.io.index.configs.v1`` names the catalog
  directory (``/configs`` when absent);
- the layers (gzip or plain tar) are applied in order, whiteouts (``.wh.NAME``) and opaque
  directories (``.wh..wh..opq``) included, keeping only files under that directory;
- ``*.json`` files are streams of JSON objects, ``*.yaml`` / ``*.yml`` files YAML documents;
  other files are ignored.

Simplifications: sqlite catalogs (``/database/index.db``) are not read; ``.indexignore`` is not
honoured; no digest check of layers (the registry is the test's own). Results are cached by the
manifest digest (an image's content cannot change under a digest).
"""

from __future__ import annotations

import base64
import binascii
import http.client
import json
import posixpath
import ssl
import tarfile
import threading

import yaml

from .kube_olm_sim import MANIFEST_TYPES, split_reference

LABEL_CONFIGS = "operators.operatorframework.io.index.configs.v1"
INDEX_TYPES = ("application/vnd.oci.image.index.v1+json",
               "application/vnd.docker.distribution.manifest.list.v2+json")
PLATFORM = ("linux", "amd64")

_CACHE: dict[str, dict] = {}
_CACHE_LOCK = threading.Lock()


class CatalogReadError(Exception):
    """The catalog image could not be read (the registry's words, or what is wrong in it)."""


class _Registry:
    """HTTP(S) to one registry endpoint (RegistryServer / FaultProxy / anything with host, tls,
    ca_path, username, password)."""

    def __init__(self, endpoint):
        self.endpoint = endpoint

    def _connection(self):
        host = self.endpoint.host
        if self.endpoint.tls:
            context = ssl.create_default_context(cafile=self.endpoint.ca_path)
            return http.client.HTTPSConnection(host, timeout=30, context=context)
        return http.client.HTTPConnection(host, timeout=30)

    def _headers(self, accept: str | None = None) -> dict:
        headers = {}
        if accept:
            headers["Accept"] = accept
        if self.endpoint.username:
            token = base64.b64encode(f"{self.endpoint.username}:{self.endpoint.password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        return headers

    def get(self, path: str, accept: str | None = None):
        """(connection, response) of a GET that answered 200; the caller reads and closes."""
        connection = self._connection()
        try:
            connection.request("GET", path, headers=self._headers(accept))
            response = connection.getresponse()
            if response.status in (301, 302, 307, 308):
                location = response.getheader("Location") or ""
                response.read()
                connection.close()
                if location.startswith("/"):
                    return self.get(location, accept)
                raise CatalogReadError(f"GET {path}: redirected off the registry to {location}")
            if response.status != 200:
                body = response.read(2048).decode("utf-8", "replace")
                raise CatalogReadError(f"GET {path}: HTTP {response.status} {body.strip()}")
            return connection, response
        except OSError as exc:
            connection.close()
            raise CatalogReadError(f"GET {path}: {exc}") from None
        except CatalogReadError:
            connection.close()
            raise

    def get_json(self, path: str, accept: str | None = None) -> tuple[dict, str | None, str | None]:
        """(document, media type, Docker-Content-Digest)."""
        connection, response = self.get(path, accept)
        try:
            data = response.read()
        finally:
            connection.close()
        try:
            doc = json.loads(data)
        except ValueError as exc:
            raise CatalogReadError(f"GET {path}: not JSON ({exc})") from None
        media_type = (response.getheader("Content-Type") or "").split(";")[0].strip()
        return doc, doc.get("mediaType") or media_type, response.getheader("Docker-Content-Digest")


def _member_path(name: str) -> str:
    """A tar member's path relative to the image root (``./a/b``, ``/a/b`` and ``a/b`` alike)."""
    while name.startswith("./"):
        name = name[2:]
    name = posixpath.normpath(name.lstrip("/")) if name.strip("./") else ""
    return "" if name == "." else name


def _apply_layer(files: dict[str, bytes], stream, root: str) -> None:
    """Apply one layer tar (streamed) to ``files`` (path -> content, paths without a leading /).
    Whiteouts hide what lower layers hold, not what this layer adds."""
    added: set[str] = set()
    try:
        with tarfile.open(fileobj=stream, mode="r|*") as tar:
            for member in tar:
                name = _member_path(member.name)
                directory, base = posixpath.split(name)
                if base == ".wh..wh..opq":
                    prefix = directory + "/"
                    for path in [p for p in files if p.startswith(prefix) and p not in added]:
                        del files[path]
                    continue
                if base.startswith(".wh."):
                    gone = posixpath.join(directory, base[4:])
                    for path in [p for p in files if (p == gone or p.startswith(gone + "/")) and p not in added]:
                        del files[path]
                    continue
                if not (name == root or name.startswith(root + "/")):
                    continue
                if member.isfile():
                    handle = tar.extractfile(member)
                    files[name] = handle.read() if handle else b""
                    added.add(name)
                elif not member.isdir():
                    files.pop(name, None)  # links and devices: not catalog content
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise CatalogReadError(f"layer is not a readable tar: {exc}") from None


def _objects(path: str, data: bytes) -> list[dict]:
    """The FBC objects of one file (JSON stream or YAML documents); [] for other files."""
    text = data.decode("utf-8")
    out = []
    if path.endswith(".json"):
        decoder, index = json.JSONDecoder(), 0
        while True:
            while index < len(text) and text[index].isspace():
                index += 1
            if index >= len(text):
                break
            try:
                obj, index = decoder.raw_decode(text, index)
            except ValueError as exc:
                raise CatalogReadError(f"{path}: invalid JSON: {exc}") from None
            out.append(obj)
    elif path.endswith((".yaml", ".yml")):
        try:
            out = [doc for doc in yaml.safe_load_all(text) if doc is not None]
        except yaml.YAMLError as exc:
            raise CatalogReadError(f"{path}: invalid YAML: {exc}") from None
    return [obj for obj in out if isinstance(obj, dict)]


def _csv_of(bundle: dict) -> tuple[dict | None, str | None]:
    """The bundle's CSV (from olm.bundle.object) or its metadata (olm.csv.metadata) as a CSV-shaped
    object, and which property gave it."""
    for prop in bundle.get("properties") or []:
        value = prop.get("value") or {}
        if prop.get("type") == "olm.bundle.object" and isinstance(value, dict) and value.get("data"):
            try:
                obj = json.loads(base64.b64decode(value["data"]))
            except (ValueError, binascii.Error):
                continue
            if isinstance(obj, dict) and obj.get("kind") == "ClusterServiceVersion":
                return obj, "olm.bundle.object"
    for prop in bundle.get("properties") or []:
        value = prop.get("value")
        if prop.get("type") == "olm.csv.metadata" and isinstance(value, dict):
            spec = {k: v for k, v in value.items() if k not in ("annotations", "labels")}
            if "crdDescriptions" in spec:
                spec["customresourcedefinitions"] = spec.pop("crdDescriptions")
            if "apiServiceDefinitions" in spec:
                spec["apiservicedefinitions"] = spec.pop("apiServiceDefinitions")
            obj = {"apiVersion": "operators.coreos.com/v1alpha1", "kind": "ClusterServiceVersion",
                   "metadata": {"name": bundle.get("name"), "annotations": value.get("annotations") or {},
                                "labels": value.get("labels") or {}},
                   "spec": spec}
            return obj, "olm.csv.metadata"
    return None, None


def _version(bundle: dict) -> str | None:
    for prop in bundle.get("properties") or []:
        if prop.get("type") == "olm.package" and isinstance(prop.get("value"), dict):
            return prop["value"].get("version")
    return None


def _version_key(version: str | None) -> tuple:
    core = (version or "0").split("+")[0].split("-")[0]
    return tuple(int(p) if p.isdigit() else 0 for p in core.split("."))


def _head(entries: list[dict], bundles: dict) -> str | None:
    """The channel head: the entry no other entry replaces or skips (the highest version if
    several, where opm would refuse the channel)."""
    names = [e["name"] for e in entries if e.get("name")]
    replaced = set()
    for entry in entries:
        if entry.get("replaces"):
            replaced.add(entry["replaces"])
        replaced.update(entry.get("skips") or [])
    heads = [n for n in names if n not in replaced] or names
    if not heads:
        return None
    return max(heads, key=lambda n: _version_key((bundles.get(n) or {}).get("version")))


def packages_of(objects: list[dict]) -> dict:
    """packages -> {defaultChannel, description, channels: {name: {entries, head}}, bundles: {name:
    {image, version, relatedImages, properties, csv, csvSource}}} from FBC objects."""
    packages: dict[str, dict] = {}

    def package(name):
        return packages.setdefault(name, {"defaultChannel": None, "description": "", "channels": {}, "bundles": {}})

    for obj in objects:
        schema = obj.get("schema")
        if schema == "olm.package" and obj.get("name"):
            pkg = package(obj["name"])
            pkg["defaultChannel"] = obj.get("defaultChannel")
            pkg["description"] = obj.get("description") or ""
        elif schema == "olm.channel" and obj.get("package") and obj.get("name"):
            package(obj["package"])["channels"][obj["name"]] = {"entries": list(obj.get("entries") or [])}
        elif schema == "olm.bundle" and obj.get("package") and obj.get("name"):
            csv, source = _csv_of(obj)
            package(obj["package"])["bundles"][obj["name"]] = {
                "image": obj.get("image"), "version": _version(obj),
                "relatedImages": list(obj.get("relatedImages") or []),
                "properties": list(obj.get("properties") or []), "csv": csv, "csvSource": source,
            }
    for pkg in packages.values():
        for channel in pkg["channels"].values():
            channel["head"] = _head(channel["entries"], pkg["bundles"])
        if not pkg["defaultChannel"] and len(pkg["channels"]) == 1:
            pkg["defaultChannel"] = next(iter(pkg["channels"]))
    return packages


def read_catalog(ref: str, registries) -> dict:
    """The packages (see :func:`packages_of`) of the catalog image ``ref`` in one of ``registries``
    (endpoints by host). Raises :class:`CatalogReadError`."""
    by_host = registries if isinstance(registries, dict) else {r.host: r for r in registries}
    repo, _sep, ident = split_reference(ref)
    host, _slash, path = repo.partition("/")
    if host not in by_host:
        raise CatalogReadError(f"{ref}: no such registry host {host}")
    registry = _Registry(by_host[host])
    top, media_type, digest = registry.get_json(f"/v2/{path}/manifests/{ident}", MANIFEST_TYPES)
    key = f"{host}/{path}@{digest or ident}"
    with _CACHE_LOCK:
        if digest and digest in _CACHE:
            return _CACHE[digest]
    manifest = top
    if media_type in INDEX_TYPES or "manifests" in top:
        chosen = [m for m in top.get("manifests") or []
                  if (m.get("platform") or {}).get("os") == PLATFORM[0]
                  and (m.get("platform") or {}).get("architecture") == PLATFORM[1]]
        if not chosen:
            raise CatalogReadError(f"{ref}: no {PLATFORM[0]}/{PLATFORM[1]} manifest in the index")
        manifest = registry.get_json(f"/v2/{path}/manifests/{chosen[0]['digest']}", MANIFEST_TYPES)[0]
    config = registry.get_json(f"/v2/{path}/blobs/{manifest['config']['digest']}")[0]
    labels = (config.get("config") or {}).get("Labels") or {}
    root = posixpath.normpath((labels.get(LABEL_CONFIGS) or "/configs").strip("/")) or "."
    files: dict[str, bytes] = {}
    for layer in manifest.get("layers") or []:
        connection, response = registry.get(f"/v2/{path}/blobs/{layer['digest']}")
        try:
            _apply_layer(files, response, root)
        finally:
            connection.close()
    objects = []
    for name in sorted(files):
        try:
            objects.extend(_objects(name, files[name]))
        except UnicodeDecodeError:
            raise CatalogReadError(f"{key}: {name} is not UTF-8") from None
    packages = packages_of(objects)
    if digest:
        with _CACHE_LOCK:
            _CACHE[digest] = packages
    return packages
