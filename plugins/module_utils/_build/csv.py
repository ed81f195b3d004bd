# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a bundle's manifests say, read the way ``opm render`` reads them.

Pure functions over the parsed manifests of one bundle: the ClusterServiceVersion (CSV), its
CRDs and the other objects. They give the ``olm.bundle`` properties (``olm.package``,
``olm.gvk``, ``olm.gvk.required``, ``olm.csv.metadata`` or ``olm.bundle.object``), the
relatedImages, and the upgrade edges (replaces, skips, ``olm.skipRange``) of a channel entry.
Reading files and directories is bundle.py's job.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any, Dict, Iterable, List, Optional, Tuple

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.fbc import check_yaml_node
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import CatalogError

try:
    import yaml

    HAS_YAML = True
except ImportError:  # pragma: no cover - exercised by ansible-test sanity only
    yaml = None
    HAS_YAML = False

KIND_CSV = "ClusterServiceVersion"
KIND_CRD = "CustomResourceDefinition"
ANNOTATION_SKIP_RANGE = "olm.skipRange"
ANNOTATION_CONTAINER_IMAGE = "containerImage"
RELATED_IMAGE_ENV_PREFIX = "RELATED_IMAGE_"

# The olm.csv.metadata value, as opm's property.CSVMetadata marshals it: these CSV fields are left
# out when empty; apiServiceDefinitions, crdDescriptions and provider are Go structs, which
# omitempty never drops, so they are always present ({} when the CSV has none).
_METADATA_SPEC_FIELDS = (
    ("apiServiceDefinitions", "apiservicedefinitions", True),
    ("crdDescriptions", "customresourcedefinitions", True),
    ("description", "description", False),
    ("displayName", "displayName", False),
    ("installModes", "installModes", False),
    ("keywords", "keywords", False),
    ("links", "links", False),
    ("maintainers", "maintainers", False),
    ("maturity", "maturity", False),
    ("minKubeVersion", "minKubeVersion", False),
    ("nativeAPIs", "nativeAPIs", False),
    ("provider", "provider", True),
)

if HAS_YAML:
    _YAML_BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class _ManifestLoader(_YAML_BASE):  # type: ignore[misc,valid-type]
        """SafeLoader that leaves timestamps as strings (a CSV's createdAt), as Go's YAML reader does."""

    _ManifestLoader.yaml_implicit_resolvers = {
        first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in _YAML_BASE.yaml_implicit_resolvers.items()
    }


def _bounded_documents(handle: Any, path: str) -> List[Any]:
    """Every document of a YAML stream, each bounded before it is built: bundle images come from
    registries we do not control, and an alias bomb or a deep nesting is refused (check_yaml_node)."""
    loader = _ManifestLoader(handle)
    try:
        docs = []
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                docs.append(None)
                continue
            check_yaml_node(node, path)
            docs.append(loader.construct_document(node))
        return docs
    finally:
        loader.dispose()


def load_documents(path: str) -> List[Dict[str, Any]]:
    """The objects of a YAML (several documents) or JSON manifest file; empty documents skipped."""
    if not HAS_YAML:
        raise CatalogError(f"{path}: reading bundle manifests needs the PyYAML Python package; install it")
    try:
        with open(path, encoding="utf-8") as handle:
            docs = _bounded_documents(handle, path)
    except OSError as exc:
        raise CatalogError(f"{path}: cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise CatalogError(f"{path}: not UTF-8 text; a bundle manifest must be a YAML or JSON file") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else path
        problem = getattr(exc, "problem", None) or str(exc)
        raise CatalogError(f"{where}: invalid YAML: {problem}; fix the manifest") from None
    out = []
    for number, doc in enumerate(docs, 1):
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise CatalogError(f"{path} (document {number}): a manifest must be a mapping (a Kubernetes "
                               f"object), got {type(doc).__name__}")
        out.append(doc)
    return out


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _mapping(value: Any, where: str) -> Dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise CatalogError(f"{where} must be a mapping, got {type(value).__name__}; fix the manifest")
    return value


def _list(value: Any, where: str) -> List[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise CatalogError(f"{where} must be a list, got {type(value).__name__}; fix the manifest")
    return value


class BundleManifests:
    """The objects of one bundle, in file order: the CSV, its CRDs and every object (CSV and
    CRDs included), each object with the file it came from."""

    def __init__(self, where: str, objects: Iterable[Tuple[str, Dict[str, Any]]]):
        self.where = where
        self.objects: List[Tuple[str, Dict[str, Any]]] = list(objects)
        csvs = [(path, obj) for path, obj in self.objects if obj.get("kind") == KIND_CSV]
        if not csvs:
            raise CatalogError(f"{where}: no ClusterServiceVersion found among the manifests; a bundle needs "
                               "exactly one (kind: ClusterServiceVersion)")
        if len(csvs) > 1:
            paths = ", ".join(found[0] for found in csvs)
            raise CatalogError(f"{where}: {len(csvs)} ClusterServiceVersions ({paths}); a bundle holds exactly one")
        self.csv_path, self.csv = csvs[0]
        self.crds = [(path, obj) for path, obj in self.objects if obj.get("kind") == KIND_CRD]
        self.spec = _mapping(self.csv.get("spec"), f"{self.csv_path}: spec")
        self.metadata = _mapping(self.csv.get("metadata"), f"{self.csv_path}: metadata")
        self.annotations = _mapping(self.metadata.get("annotations"), f"{self.csv_path}: metadata.annotations")

    @property
    def name(self) -> str:
        name = _text(self.metadata.get("name"))
        if not name:
            raise CatalogError(f"{self.csv_path}: metadata.name is missing; the CSV name is the bundle name")
        return name

    @property
    def version(self) -> str:
        version = _text(self.spec.get("version"))
        if not version:
            raise CatalogError(f"{self.csv_path}: spec.version is missing; set the bundle's semver version")
        return version

    # channel entry edges ------------------------------------------------------------------

    @property
    def replaces(self) -> Optional[str]:
        return _text(self.spec.get("replaces")) or None

    @property
    def skips(self) -> List[str]:
        return [_text(item) for item in _list(self.spec.get("skips"), f"{self.csv_path}: spec.skips") if item]

    @property
    def skip_range(self) -> Optional[str]:
        return _text(self.annotations.get(ANNOTATION_SKIP_RANGE)) or None

    # properties ---------------------------------------------------------------------------

    def provided_gvks(self) -> List[Dict[str, str]]:
        """Every version of every CRD in the bundle, plus the owned API services (opm's
        ProvidedAPIs): group/kind from the CRD file, not from the CSV's owned list."""
        found = []
        for path, crd in self.crds:
            spec = _mapping(crd.get("spec"), f"{path}: spec")
            group = _text(spec.get("group"))
            kind = _text(_mapping(spec.get("names"), f"{path}: spec.names").get("kind"))
            if not group or not kind:
                raise CatalogError(f"{path}: the CustomResourceDefinition needs spec.group and spec.names.kind")
            for version in _list(spec.get("versions"), f"{path}: spec.versions"):
                found.append(_gvk(group, kind, _text(_mapping(version, f"{path}: spec.versions[]").get("name"))))
            if spec.get("version"):  # apiextensions v1beta1
                found.append(_gvk(group, kind, _text(spec["version"])))
        for api in self._api_services("owned"):
            found.append(_gvk(_text(api.get("group")), _text(api.get("kind")), _text(api.get("version"))))
        return _unique(found)

    def required_gvks(self) -> List[Dict[str, str]]:
        """The CSV's required CRDs (group from the ``<plural>.<group>`` name) and API services."""
        found = []
        where = f"{self.csv_path}: spec.customresourcedefinitions.required"
        crds = _mapping(self.spec.get("customresourcedefinitions"), f"{self.csv_path}: spec.customresourcedefinitions")
        for item in _list(crds.get("required"), where):
            item = _mapping(item, where + "[]")
            name = _text(item.get("name"))
            if "." not in name:
                raise CatalogError(f"{where}: name {name!r} is not <plural>.<group>; give the CRD's full name")
            found.append(_gvk(name.split(".", 1)[1], _text(item.get("kind")), _text(item.get("version"))))
        for api in self._api_services("required"):
            found.append(_gvk(_text(api.get("group")), _text(api.get("kind")), _text(api.get("version"))))
        return _unique(found)

    def _api_services(self, which: str) -> List[Dict[str, Any]]:
        where = f"{self.csv_path}: spec.apiservicedefinitions"
        services = _mapping(self.spec.get("apiservicedefinitions"), where)
        return [_mapping(item, f"{where}.{which}[]") for item in _list(services.get(which), f"{where}.{which}")]

    def csv_metadata(self) -> Dict[str, Any]:
        """The ``olm.csv.metadata`` value: what a catalog shows about the operator, without the
        install strategy (opm uses it instead of ``olm.bundle.object`` when the bundle has an image)."""
        out: Dict[str, Any] = {}
        if self.annotations:
            out["annotations"] = {str(k): _text(v) for k, v in self.annotations.items()}
        for key, spec_key, always in _METADATA_SPEC_FIELDS:
            value = self.spec.get(spec_key)
            if value in (None, "", [], {}):
                if always:
                    out[key] = {}
                continue
            out[key] = value
        labels = _mapping(self.metadata.get("labels"), f"{self.csv_path}: metadata.labels")
        if labels:
            out["labels"] = {str(k): _text(v) for k, v in labels.items()}
        return dict(sorted(out.items()))

    def bundle_objects(self) -> List[Dict[str, Any]]:
        """One ``olm.bundle.object`` value per manifest object: its JSON, base64-encoded."""
        out = []
        for _path, obj in self.objects:
            data = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
            out.append({"data": base64.b64encode(data).decode("ascii")})
        return out

    # images -------------------------------------------------------------------------------

    def declared_related_images(self) -> List[Dict[str, str]]:
        where = f"{self.csv_path}: spec.relatedImages"
        out = []
        for item in _list(self.spec.get("relatedImages"), where):
            item = _mapping(item, where + "[]")
            image = _text(item.get("image"))
            if not image:
                raise CatalogError(f"{where}: an entry has no image ({item!r}); give each entry name and image")
            out.append({"name": _text(item.get("name")), "image": image})
        return out

    def operator_images(self) -> List[str]:
        """Images the install strategy runs or points at: every container and initContainer of
        each deployment, their ``RELATED_IMAGE_*`` env values, then the ``containerImage``
        annotation; in that order, duplicates kept for the caller to drop."""
        images = []
        install = _mapping(self.spec.get("install"), f"{self.csv_path}: spec.install")
        where = f"{self.csv_path}: spec.install.spec.deployments"
        deployments = _list(_mapping(install.get("spec"), f"{self.csv_path}: spec.install.spec").get("deployments"),
                            where)
        for number, deployment in enumerate(deployments):
            at = f"{where}[{number}]"
            spec = _mapping(_mapping(deployment, at).get("spec"), f"{at}.spec")
            pod = _mapping(_mapping(spec.get("template"), f"{at}.spec.template").get("spec"),
                           f"{at}.spec.template.spec")
            for field in ("initContainers", "containers"):
                for container in _list(pod.get(field), f"{at}.spec.template.spec.{field}"):
                    container = _mapping(container, f"{at}.spec.template.spec.{field}[]")
                    if container.get("image"):
                        images.append(_text(container["image"]))
                    for env in _list(container.get("env"), f"{at}.spec.template.spec.{field}[].env"):
                        if not isinstance(env, dict):
                            continue
                        if _text(env.get("name")).startswith(RELATED_IMAGE_ENV_PREFIX) and env.get("value"):
                            images.append(_text(env["value"]).strip())
        container_image = _text(self.annotations.get(ANNOTATION_CONTAINER_IMAGE)).strip()
        if container_image:
            images.append(container_image)
        return images

    def related_images(self, bundle_image: Optional[str]) -> List[Dict[str, str]]:
        """relatedImages as opm renders them, widened: the CSV's spec.relatedImages (with their
        names), the bundle image, then every image of :meth:`operator_images` not already
        listed (name ""). opm adds deployment containers too; ``RELATED_IMAGE_*`` values and
        ``containerImage`` are added here because operators pull them at run time, and a mirror
        that misses one fails at install. Sorted by image then name, as opm sorts them."""
        out = []
        seen_pairs = set()
        seen_images = set()
        for item in self.declared_related_images():
            key = (item["name"], item["image"])
            if key not in seen_pairs:
                seen_pairs.add(key)
                seen_images.add(item["image"])
                out.append(item)
        extra = ([bundle_image] if bundle_image else []) + self.operator_images()
        for image in extra:
            if image and image not in seen_images:
                seen_images.add(image)
                out.append({"name": "", "image": image})
        return sorted(out, key=lambda item: (item["image"], item["name"]))

    def icon(self) -> Optional[Dict[str, str]]:
        """The CSV's first icon as an ``olm.package`` icon, or None."""
        icons = self.spec.get("icon")
        if not isinstance(icons, list) or not icons or not isinstance(icons[0], dict):
            return None
        first = icons[0]
        if not first.get("base64data"):
            return None
        return {"base64data": _text(first["base64data"]), "mediatype": _text(first.get("mediatype"))}


def _gvk(group: str, kind: str, version: str) -> Dict[str, str]:
    return {"group": group, "kind": kind, "version": version}


def _unique(items: List[Dict[str, str]]) -> List[Dict[str, str]]:
    seen = set()
    out = []
    for item in items:
        key = (item["group"], item["kind"], item["version"])
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def read_manifest_dir(path: str, where: Optional[str] = None) -> BundleManifests:
    """Every ``.yaml`` / ``.yml`` / ``.json`` file directly in ``path``, in name order."""
    try:
        names = sorted(os.listdir(path))
    except OSError as exc:
        raise CatalogError(f"{path}: cannot list the manifests directory ({exc.strerror})") from None
    objects = []
    for name in names:
        full = os.path.join(path, name)
        if not name.lower().endswith((".yaml", ".yml", ".json")) or not os.path.isfile(full):
            continue
        objects.extend((full, doc) for doc in load_documents(full))
    return BundleManifests(where or path, objects)
