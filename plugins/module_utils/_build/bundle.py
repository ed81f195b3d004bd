# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Operator bundles rendered to File-Based Catalog blobs, as ``opm render`` does, with no
container engine.

Three inputs:

- a bundle directory in the registry+v1 layout: ``manifests/`` (the CSV, CRDs, other objects)
  and ``metadata/annotations.yaml`` (package, channels, default channel), optionally
  ``metadata/dependencies.yaml``;
- the older packagemanifest layout: a ``<name>.package.yaml`` (packageName, channels with their
  currentCSV, defaultChannel) beside one directory per version holding a CSV and its CRDs;
- a bundle image, pulled through the registry client and unpacked with ``apply_layers``, then
  read as a bundle directory.

Each bundle gives one ``olm.bundle`` blob (see csv.py for its properties and relatedImages).
``image`` is the bundle image reference; a directory rendered without one gets ``image: ""``
and, as opm does for an image-less bundle, ``olm.bundle.object`` properties carrying every
manifest (OLM installs such a bundle from the catalog, having no image to pull). A bundle with
an image gets ``olm.csv.metadata`` instead, never both: the objects are in the image.

Channels: a registry+v1 bundle joins each channel its annotations list, with the CSV's
``spec.replaces``, ``spec.skips`` and ``olm.skipRange`` annotation as the entry's edges; a
packagemanifest's channel holds its currentCSV and every CSV its replaces chain reaches.
Entries are merged across bundles into one ``olm.channel`` blob per channel; ``replaces`` naming
a bundle that was not rendered is kept as written (an upgrade edge from an older catalog).
The ``olm.package`` blob takes its defaultChannel from the annotations of the highest version
(from the package file for a packagemanifest), else the only channel.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from ansible_collections.airgap.operatorhub.plugins.module_utils._build.csv import (
    BundleManifests,
    load_documents,
    read_manifest_dir,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.image import ChunkReader, pick_platform
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.layers import apply_layers
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.model import Catalog
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.semver import parse_version
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.reference import parse
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import (
    CatalogError,
    ConfigError,
    InvalidReference,
    RegistryError,
)

ANNOTATION_PACKAGE = "operators.operatorframework.io.bundle.package.v1"
ANNOTATION_CHANNELS = "operators.operatorframework.io.bundle.channels.v1"
ANNOTATION_DEFAULT_CHANNEL = "operators.operatorframework.io.bundle.channel.default.v1"
ANNOTATIONS_FILE = os.path.join("metadata", "annotations.yaml")
DEPENDENCIES_FILE = os.path.join("metadata", "dependencies.yaml")


class RenderedBundle:
    """One rendered bundle: its ``olm.bundle`` blob and what its channel entries need."""

    def __init__(self, blob: Dict[str, Any], manifests: BundleManifests, channels: Sequence[str],
                 default_channel: Optional[str], origin: str):
        self.blob = blob
        self.name: str = blob["name"]
        self.package: str = blob["package"]
        self.version = manifests.version
        self.replaces = manifests.replaces
        self.skips = manifests.skips
        self.skip_range = manifests.skip_range
        self.icon = manifests.icon()
        self.channels = list(channels)
        self.default_channel = default_channel
        self.origin = origin

    def entry(self) -> Dict[str, Any]:
        entry: Dict[str, Any] = {"name": self.name}
        if self.replaces:
            entry["replaces"] = self.replaces
        if self.skips:
            entry["skips"] = list(self.skips)
        if self.skip_range:
            entry["skipRange"] = self.skip_range
        return entry


def _sorted_properties(props: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """opm's order: by type then by the value's compact JSON, with the olm.csv.metadata /
    olm.bundle.object properties moved to the end."""
    def key(prop):
        return prop["type"], json.dumps(prop["value"], separators=(",", ":"), ensure_ascii=False)

    tail_types = ("olm.bundle.object", "olm.csv.metadata")
    head = sorted((p for p in props if p["type"] not in tail_types), key=key)
    tail = sorted((p for p in props if p["type"] in tail_types), key=key)
    return head + tail


def _dependencies(path: str) -> List[Dict[str, Any]]:
    """``metadata/dependencies.yaml`` as properties: olm.gvk -> olm.gvk.required, olm.package ->
    olm.package.required {packageName, versionRange}, anything else (olm.constraint, ...) as is."""
    if not os.path.isfile(path):
        return []
    docs = load_documents(path)
    deps = docs[0].get("dependencies") if docs else None
    if deps is None:
        return []
    if not isinstance(deps, list):
        raise CatalogError(f"{path}: dependencies must be a list of {{type, value}}; fix the file")
    out = []
    for number, dep in enumerate(deps):
        where = f"{path}: dependencies[{number}]"
        if not isinstance(dep, dict) or not dep.get("type") or not isinstance(dep.get("value"), dict):
            raise CatalogError(f"{where}: needs a type and a value mapping; fix the file")
        value = dep["value"]
        if dep["type"] == "olm.gvk":
            out.append({"type": "olm.gvk.required", "value": {
                "group": str(value.get("group") or ""), "kind": str(value.get("kind") or ""),
                "version": str(value.get("version") or "")}})
        elif dep["type"] == "olm.package":
            if not value.get("packageName") or not value.get("version"):
                raise CatalogError(f"{where}: an olm.package dependency needs packageName and version (a "
                                   "version range); fix the file")
            out.append({"type": "olm.package.required", "value": {
                "packageName": str(value["packageName"]), "versionRange": str(value["version"])}})
        else:
            out.append({"type": str(dep["type"]), "value": value})
    return out


def bundle_blob(manifests: BundleManifests, package: str, image: Optional[str],
                dependencies: Iterable[Dict[str, Any]] = ()) -> Dict[str, Any]:
    """The ``olm.bundle`` blob of one bundle's manifests."""
    props: List[Dict[str, Any]] = [{"type": "olm.package",
                                    "value": {"packageName": package, "version": manifests.version}}]
    props += [{"type": "olm.gvk", "value": gvk} for gvk in manifests.provided_gvks()]
    required = manifests.required_gvks()
    props += [{"type": "olm.gvk.required", "value": gvk} for gvk in required]
    for dep in dependencies:
        if dep["type"] == "olm.gvk.required" and dep["value"] in required:
            continue
        props.append(dep)
    if image:
        props.append({"type": "olm.csv.metadata", "value": manifests.csv_metadata()})
    else:
        props += [{"type": "olm.bundle.object", "value": obj} for obj in manifests.bundle_objects()]
    return {"schema": "olm.bundle", "name": manifests.name, "package": package, "image": image or "",
            "properties": _sorted_properties(props), "relatedImages": manifests.related_images(image)}


def is_bundle_dir(path: str) -> bool:
    return os.path.isdir(os.path.join(path, "manifests")) and os.path.isdir(os.path.join(path, "metadata"))


def package_file(path: str) -> Optional[str]:
    """The packagemanifest's package file in ``path`` (``*.package.yaml`` / ``.yml``), or None."""
    try:
        names = sorted(os.listdir(path))
    except OSError:
        return None
    found = [n for n in names if n.endswith((".package.yaml", ".package.yml")) or n in ("package.yaml",)]
    if len(found) > 1:
        raise CatalogError(f"{path}: several package files ({', '.join(found)}); a packagemanifest directory "
                           "holds one package")
    return os.path.join(path, found[0]) if found else None


def render_bundle_dir(path: str, image: Optional[str] = None) -> RenderedBundle:
    """Render a registry+v1 bundle directory. ``image`` is the bundle's image reference (None
    for a bare directory: ``image: ""`` with olm.bundle.object properties, as opm does)."""
    annotations_path = os.path.join(path, ANNOTATIONS_FILE)
    if not os.path.isfile(annotations_path):
        raise CatalogError(f"{annotations_path}: missing; a registry+v1 bundle needs metadata/annotations.yaml "
                           f"naming its package ({ANNOTATION_PACKAGE}) and channels ({ANNOTATION_CHANNELS})")
    docs = load_documents(annotations_path)
    annotations = docs[0].get("annotations") if docs else None
    if not isinstance(annotations, dict):
        raise CatalogError(f"{annotations_path}: no 'annotations' mapping; add one with {ANNOTATION_PACKAGE} "
                           f"and {ANNOTATION_CHANNELS}")
    package = str(annotations.get(ANNOTATION_PACKAGE) or "").strip()
    if not package:
        raise CatalogError(f"{annotations_path}: annotations.{ANNOTATION_PACKAGE} is missing; set the package name")
    channels = [c.strip() for c in str(annotations.get(ANNOTATION_CHANNELS) or "").split(",") if c.strip()]
    if not channels:
        raise CatalogError(f"{annotations_path}: annotations.{ANNOTATION_CHANNELS} is missing or empty; list the "
                           "bundle's channels, comma-separated")
    default = str(annotations.get(ANNOTATION_DEFAULT_CHANNEL) or "").strip() or None
    manifests = read_manifest_dir(os.path.join(path, "manifests"), f"{path}/manifests")
    blob = bundle_blob(manifests, package, image, _dependencies(os.path.join(path, DEPENDENCIES_FILE)))
    return RenderedBundle(blob, manifests, channels, default, path)


def render_packagemanifest(path: str) -> Tuple[List[RenderedBundle], Dict[str, Any]]:
    """Render a packagemanifest directory: its bundles (image "", olm.bundle.object, channels
    from the package file) and the package file's content."""
    pkg_path = package_file(path)
    if pkg_path is None:
        raise CatalogError(f"{path}: no <name>.package.yaml; not a packagemanifest directory")
    docs = load_documents(pkg_path)
    pkg = docs[0] if docs else {}
    package = str(pkg.get("packageName") or "").strip()
    if not package:
        raise CatalogError(f"{pkg_path}: packageName is missing; set the package name")
    heads: Dict[str, str] = {}
    for number, channel in enumerate(pkg.get("channels") or []):
        if not isinstance(channel, dict) or not channel.get("name") or not channel.get("currentCSV"):
            raise CatalogError(f"{pkg_path}: channels[{number}] needs a name and a currentCSV; fix the file")
        heads[str(channel["name"])] = str(channel["currentCSV"])
    if not heads:
        raise CatalogError(f"{pkg_path}: channels is missing or empty; list each channel with its currentCSV")
    by_name: Dict[str, BundleManifests] = {}
    for entry in sorted(os.listdir(path)):
        sub = os.path.join(path, entry)
        if not os.path.isdir(sub):
            continue
        manifests = read_manifest_dir(sub)
        if manifests.name in by_name:
            raise CatalogError(f"{sub}: CSV {manifests.name} also in {by_name[manifests.name].where}; each version "
                               "directory must hold a different CSV")
        by_name[manifests.name] = manifests
    membership: Dict[str, List[str]] = {}
    for channel, head in heads.items():
        if head not in by_name:
            raise CatalogError(f"{pkg_path}: channel {channel!r} has currentCSV {head}, which no version directory "
                               f"holds (CSVs found: {', '.join(sorted(by_name)) or 'none'})")
        current: Optional[str] = head
        seen = set()
        while current in by_name and current not in seen:
            seen.add(current)
            membership.setdefault(current, []).append(channel)
            current = by_name[current].replaces
    stranded = sorted(set(by_name) - set(membership))
    if stranded:
        raise CatalogError(f"{pkg_path}: {', '.join(stranded)} in no channel (no currentCSV reaches it through "
                           "replaces); remove its directory or make a channel's replaces chain include it")
    default = str(pkg.get("defaultChannel") or "").strip() or None
    rendered = [RenderedBundle(bundle_blob(manifests, package, None), manifests, membership.get(name, []),
                               default, manifests.where)
                for name, manifests in sorted(by_name.items())]
    return rendered, pkg


def render_bundle_image(pool: Any, reference: str, work_dir: Optional[str] = None,
                        platform: str = "linux/amd64") -> RenderedBundle:
    """Pull bundle image ``reference`` through ``pool`` (a RegistryPool), apply its layers into
    a temporary directory and render that, with ``image`` = ``reference`` as given."""
    try:
        image = parse(reference)
    except InvalidReference as exc:
        raise ConfigError(f"bundles: {reference!r} is neither an existing directory nor an image reference "
                          f"({exc})") from None
    client = pool.client(image.api_host, image.repository)
    repo = image.repository
    ref = image.ref if (image.tag or image.digest) else "latest"
    try:
        manifest = client.get_manifest(repo, ref)
        if manifest.is_index:
            manifest = client.get_manifest(repo, pick_platform(manifest, platform, reference).digest)
    except RegistryError as exc:
        raise type(exc)(f"bundle image {reference}: {exc}", status=exc.status, code=exc.code) from None
    tmp = tempfile.mkdtemp(prefix="bundle-", dir=work_dir)
    try:
        def streams() -> Iterator[io.BufferedReader]:
            for layer in manifest.layers:
                with client.open_blob(repo, layer.digest, size=layer.size) as chunks:
                    raw = ChunkReader(chunks, layer.digest)
                    yield io.BufferedReader(raw, 1 << 20)
                    raw.drain()  # read to the end so the client checks the blob's digest

        root = apply_layers(streams(), os.path.join(tmp, "root"))
        if not is_bundle_dir(root):
            raise CatalogError(f"bundle image {reference}: no /manifests and /metadata directories in the image; "
                               "not a registry+v1 bundle image")
        rendered = render_bundle_dir(root, reference)
        rendered.origin = reference
        return rendered
    except CatalogError as exc:
        text = str(exc).replace(tmp + os.sep + "root", reference)
        raise CatalogError(text) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _render_input(item: str, pool: Any) -> Tuple[List[RenderedBundle], Optional[Dict[str, Any]]]:
    if os.path.isdir(item):
        if is_bundle_dir(item):
            return [render_bundle_dir(item)], None
        if package_file(item):
            return render_packagemanifest(item)
        raise CatalogError(f"{item}: neither a bundle directory (manifests/ and metadata/) nor a packagemanifest "
                           "directory (<name>.package.yaml and one directory per version)")
    if os.path.exists(item):
        raise ConfigError(f"bundles: {item} is a file; give a bundle directory or a bundle image reference")
    if pool is None:
        raise ConfigError(f"bundles: {item} is not a local directory, and no registry access was given to pull it")
    return [render_bundle_image(pool, item)], None


def _version_key(bundle: RenderedBundle):
    try:
        return (0, parse_version(bundle.version, bundle.origin), bundle.name)
    except CatalogError:
        return (1, None, bundle.name)


def catalog_blobs(bundles: Sequence[RenderedBundle]) -> List[Dict[str, Any]]:
    """olm.package, olm.channel and olm.bundle blobs for rendered bundles, package by package
    in name order; entries and bundles in version order."""
    by_package: Dict[str, List[RenderedBundle]] = {}
    for bundle in bundles:
        group = by_package.setdefault(bundle.package, [])
        clash = [b for b in group if b.name == bundle.name]
        if clash:
            raise CatalogError(f"bundles: {bundle.origin} and {clash[0].origin} are both bundle {bundle.name} of "
                               f"package {bundle.package}; give each bundle once")
        group.append(bundle)
    blobs: List[Dict[str, Any]] = []
    for package in sorted(by_package):
        group = sorted(by_package[package], key=_version_key)
        channels: Dict[str, List[Dict[str, Any]]] = {}
        for bundle in group:
            for channel in bundle.channels:
                channels.setdefault(channel, []).append(bundle.entry())
        default = group[-1].default_channel
        for bundle in reversed(group):
            if default:
                break
            default = bundle.default_channel
        if not default:
            if len(channels) != 1:
                raise CatalogError(f"package {package}: no default channel among {', '.join(sorted(channels))}; set "
                                   f"{ANNOTATION_DEFAULT_CHANNEL} in the newest bundle's metadata/annotations.yaml")
            default = next(iter(channels))
        if default not in channels:
            raise CatalogError(f"package {package}: default channel {default!r} (from {group[-1].origin}) holds no "
                               f"rendered bundle (channels: {', '.join(sorted(channels)) or 'none'})")
        package_blob: Dict[str, Any] = {"schema": "olm.package", "name": package, "defaultChannel": default}
        icon = next((b.icon for b in reversed(group) if b.icon), None)
        if icon:
            package_blob["icon"] = icon
        blobs.append(package_blob)
        for name in sorted(channels):
            blobs.append({"schema": "olm.channel", "package": package, "name": name, "entries": channels[name]})
        blobs.extend(bundle.blob for bundle in group)
    return blobs


def render_bundles(inputs: Sequence[str], pool: Any = None) -> Catalog:
    """Render bundle inputs (bundle or packagemanifest directories, bundle image references
    pulled through ``pool``) to a catalog of olm.package, olm.channel and olm.bundle blobs, for
    catalog_build to merge with other FBC. Raises CatalogError / ConfigError naming the input."""
    rendered: List[RenderedBundle] = []
    for item in inputs:
        bundles, _pkg = _render_input(str(item), pool)
        rendered.extend(bundles)
    return Catalog.from_blobs(catalog_blobs(rendered))
