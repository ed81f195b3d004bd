# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mirror plan: target names, ``mapping.txt`` lines and the cluster manifests that go with them.

Pure functions over image references; nothing here talks to a registry or reads a catalog.

Two naming modes, each reproducing its peer tool:

- ``oc``: ``oc adm catalog mirror``. The destination path and the source path (registry dropped)
  are concatenated and squeezed into ``max_components`` path components (the tail joined with
  ``-``); a digest-only source is tagged with the FNV-1a 32-bit hash of its reference string; a
  source with neither tag nor digest gets ``latest``. ``file://`` destinations and sources
  (oc's on-disk store) are handled the way oc does.
- ``oc-mirror``: oc-mirror v2. The target is ``<dest>/<source path without registry>``, optionally
  squeezed to ``max_nested_paths`` components; a digest-only source is tagged ``sha256-<hex>``.

Mirror sets: ``oc`` mode writes what ``oc adm catalog mirror`` writes (one ``<name>-<n>`` series,
repository or registry scope, the ``operators.openshift.org/catalog`` label, split to stay under
``max_size`` bytes); ``oc-mirror`` mode writes what oc-mirror v2 writes (one object per category,
``idms-operator-0`` ..., namespace scope when the mirror keeps the source path, catalog images
left out because the CatalogSource points at them directly). Digest origins go to
ImageDigestMirrorSet / ImageContentSourcePolicy, tag origins to ImageTagMirrorSet, an origin
with both to both.
"""

from __future__ import annotations

import re
import traceback
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import (
    AirgapError,
    ConfigError,
    InvalidReference,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.reference import (
    DOCKER_HUB,
    ImageReference,
    parse,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.tags import DIGEST_TAG_MODES, digest_tag

try:
    import yaml

    HAS_YAML = True
    YAML_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised by ansible-test sanity only
    HAS_YAML = False
    YAML_IMPORT_ERROR = traceback.format_exc()

NAMING_MODES = ("oc", "oc-mirror")
SCOPES = ("repository", "registry", "namespace", "auto")
MIRROR_KINDS = ("digest", "tag")
# oc-mirror v2alpha1 image types; they decide the category of an oc-mirror mirror set.
IMAGE_TYPES = (
    "operatorCatalog",
    "operatorBundle",
    "operatorRelatedImage",
    "generic",
    "ocpRelease",
    "ocpReleaseContent",
    "cincinnatiGraph",
)
CATEGORIES = ("operator", "release", "generic")
CATALOG_LABEL = "operators.openshift.org/catalog"
# oc refuses --max-icsp-size / --max-idms-size above this: kubectl apply keeps the whole object in
# an annotation limited to 256 KiB.
MAX_MIRROR_SET_SIZE = 250000
MARKETPLACE_NAMESPACE = "openshift-marketplace"

_HUB_ALIASES = ("docker.io", "index.docker.io", "registry-1.docker.io")
_HOST = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
    r"|\[[0-9A-Fa-f:.]+\])(?::[0-9]+)?$"
)
_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_GO_DURATION = re.compile(r"^(?:[0-9]+(?:\.[0-9]+)?(?:ns|us|\u00b5s|ms|s|m|h))+$")
_KIND_INFO = {
    # kind: (apiVersion, spec list key, option naming the size limit in oc)
    "ImageContentSourcePolicy": ("operator.openshift.io/v1alpha1", "repositoryDigestMirrors", "--max-icsp-size"),
    "ImageDigestMirrorSet": ("config.openshift.io/v1", "imageDigestMirrors", "--max-idms-size"),
    "ImageTagMirrorSet": ("config.openshift.io/v1", "imageTagMirrors", "--max-idms-size"),
}


@dataclass(frozen=True)
class FileReference:
    """A location in oc's ``file://`` store: ``file://<path>[:tag][@digest]``."""

    path: str
    tag: Optional[str] = None
    digest: Optional[str] = None

    @property
    def registry(self) -> str:
        return ""

    @property
    def repository(self) -> str:
        return self.path

    @property
    def name(self) -> str:
        return "file://" + self.path

    def with_tag(self, tag: Optional[str]) -> "FileReference":
        return FileReference(self.path, tag, self.digest)

    def with_digest(self, digest: Optional[str]) -> "FileReference":
        return FileReference(self.path, self.tag, digest)

    def __str__(self) -> str:
        out = self.name
        if self.tag:
            out += ":" + self.tag
        if self.digest:
            out += "@" + self.digest
        return out


Endpoint = Union[ImageReference, FileReference]


@dataclass(frozen=True)
class PlannedImage:
    """One image to mirror.

    ``source``: where to copy from (a registry reference, or an oc ``file://`` location).
    ``target``: where to copy to; always has a tag, and the source digest when the source had one.
    ``origin``: the reference workloads on the cluster use, i.e. the source side of mirror sets;
    defaults to ``source`` when that is a registry reference, None for a ``file://`` source with
    no known origin (then it is left out of mirror sets).
    ``image_type``: one of IMAGE_TYPES; decides the oc-mirror mirror-set category.
    """

    source: Endpoint
    target: Endpoint
    origin: Optional[ImageReference] = None
    image_type: str = "operatorRelatedImage"

    def __post_init__(self) -> None:
        if self.origin is None and isinstance(self.source, ImageReference):
            object.__setattr__(self, "origin", self.source)
        if self.image_type not in IMAGE_TYPES:
            raise ConfigError(f"image_type {self.image_type!r} is not one of {', '.join(IMAGE_TYPES)}")

    @property
    def origin_kind(self) -> str:
        """``digest`` (digest only), ``tag`` (tag only, or nothing: ``latest``) or ``both``."""
        ref = self.origin if self.origin is not None else self.source
        if ref.digest and ref.tag:
            return "both"
        return "digest" if ref.digest else "tag"

    @property
    def mapping_line(self) -> str:
        return f"{_mapping_source(self.source)}={_without_digest(self.target)}"


# ---------------------------------------------------------------------------------------------
# Reference helpers


def _strip_transport(text: str, allowed: Sequence[str]) -> Tuple[str, str]:
    for prefix in allowed:
        if text.startswith(prefix):
            return prefix, text[len(prefix):]
    return "", text


@dataclass(frozen=True)
class _Written:
    """A source reference as the user wrote it: registry only when one was written."""

    registry: Optional[str]
    path: str
    tag: Optional[str]
    digest: Optional[str]


def _split_written(text: str) -> _Written:
    rest = text
    digest = None
    if "@" in rest:
        rest, digest = rest.split("@", 1)
    tag = None
    slash, colon = rest.rfind("/"), rest.rfind(":")
    if colon > slash:
        rest, tag = rest[:colon], rest[colon + 1:]
    first, sep, remainder = rest.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return _Written(first, remainder, tag, digest)
    return _Written(None, rest, tag, digest)


def _as_source(source: Union[ImageReference, str]) -> Tuple[ImageReference, _Written]:
    if isinstance(source, ImageReference):
        return source, _Written(source.registry, source.repository, source.tag, source.digest)
    if not isinstance(source, str):
        raise InvalidReference(f"image reference {source!r} is not a string")
    dummy, text = _strip_transport(source.strip(), ("docker://",))
    ref = parse(text)
    return ref, _split_written(text)


def _oc_string(written: _Written) -> str:
    """The source as library-go's DockerImageReference.String() prints it (oc's hash input)."""
    path = written.path
    if written.registry in _HUB_ALIASES and "/" not in path:
        path = "library/" + path
    name = f"{written.registry}/{path}" if written.registry else path
    return f"{name}@{written.digest}" if written.digest else f"{name}:{written.tag or 'latest'}"


def _oc_mirror_string(written: _Written) -> str:
    """The source as oc-mirror's ImageSpec.Reference holds it (as written, no transport)."""
    name = f"{written.registry}/{written.path}" if written.registry else written.path
    if written.tag:
        name += ":" + written.tag
    if written.digest:
        name += "@" + written.digest
    return name


def _mapping_source(ref: Endpoint) -> str:
    # library-go prints the digest rather than the tag when a reference has both
    return f"{ref.name}@{ref.digest}" if ref.digest else str(ref)


def _without_digest(ref: Endpoint) -> str:
    return f"{ref.name}:{ref.tag}" if ref.tag else ref.name


def parse_destination(text: str, option: str = "dest") -> Union[ImageReference, FileReference]:
    """Parse a mirror destination: ``host[:port][/path...]``, ``docker://...`` or ``file://path``.

    Unlike an image reference, the first component of a destination always names the registry
    (``myregistry/ns`` is the registry ``myregistry``, not a Docker Hub namespace). The result is
    an ImageReference (or FileReference) with no tag and no digest; its repository may be empty.
    """
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f"{option} is empty: give a registry such as registry.example.com:5000[/namespace]")
    original = text
    prefix, text = _strip_transport(text.strip(), ("docker://", "file://"))
    if prefix == "file://":
        text = text[1:] if text.startswith("/") else text
        path = text.rstrip("/")
        if not path:
            raise ConfigError(f"{option} {original!r} names no directory after file://")
        return FileReference(path)
    if "@" in text:
        raise ConfigError(f"{option} {original!r} has a digest: a destination is a registry[/namespace]")
    registry, dummy, path = text.rstrip("/").partition("/")
    if not _HOST.match(registry):
        raise ConfigError(f"{option} {original!r}: {registry!r} is not a registry host[:port]")
    components = path.split("/") if path else []
    for component in components:
        if ":" in component:
            raise ConfigError(f"{option} {original!r} has a tag: a destination is a registry[/namespace]")
        if not _COMPONENT.match(component):
            raise ConfigError(
                f"{option} {original!r}: path component {component!r} is not valid "
                "(lower-case letters, digits and single separators . _ __ -)"
            )
    if registry in _HUB_ALIASES:
        registry = DOCKER_HUB
    return ImageReference(registry=registry, repository="/".join(components))


def _check_naming(naming: str) -> None:
    if naming not in NAMING_MODES:
        raise ConfigError(f"naming {naming!r} is not one of {', '.join(NAMING_MODES)}")


def _check_max_components(max_components: int) -> None:
    if not isinstance(max_components, int) or isinstance(max_components, bool) or max_components < 0:
        raise ConfigError(f"max_components {max_components!r} must be 0 (no limit) or an integer greater than 1")
    if max_components == 1:
        raise ConfigError(
            "max_components must be 0 (no limit) or greater than 1: a target needs at least a namespace "
            "and a name (oc: maxPathComponents must be 0 (no limit) or greater than 1)"
        )


def _check_max_nested_paths(max_nested_paths: int) -> None:
    if not isinstance(max_nested_paths, int) or isinstance(max_nested_paths, bool) or max_nested_paths < 0:
        raise ConfigError(f"max_nested_paths {max_nested_paths!r} must be 0 (no limit) or an integer greater than 1")
    if max_nested_paths == 1:
        raise ConfigError("max_nested_paths must be 0 (no limit) or greater than 1: 1 would leave no namespace")


def _digest_tag_mode(naming: str, digest_tag_mode: Optional[str]) -> str:
    mode = digest_tag_mode or ("oc" if naming == "oc" else "oc-mirror")
    if mode not in DIGEST_TAG_MODES:
        raise ConfigError(f"digest_tag_mode {mode!r} is not one of {', '.join(DIGEST_TAG_MODES)}")
    return mode


def _target_reference(registry: str, repository: str, tag: str, digest: Optional[str], what: str) -> ImageReference:
    for component in repository.split("/"):
        if not _COMPONENT.match(component):
            raise InvalidReference(f"target {registry}/{repository} for {what}: path component {component!r} is not valid")
    if len(f"{registry}/{repository}") > 255:
        raise InvalidReference(
            f"target {registry}/{repository} for {what} is longer than 255 characters: "
            "lower max_components / max_nested_paths or use a shorter destination"
        )
    return ImageReference(registry=registry, repository=repository).with_tag(tag).with_digest(digest)


# ---------------------------------------------------------------------------------------------
# Naming


def _squeeze(components: List[str], max_components: int) -> List[str]:
    """oc's rule: keep max-1 components, join the rest with '-' into the last one."""
    if max_components == 0 or len(components) <= max_components:
        return components
    return components[: max_components - 1] + ["-".join(components[max_components - 1:])]


def with_max_nested_paths(reference: str, max_nested_paths: int) -> str:
    """oc-mirror's WithMaxNestedPaths: squeeze the path (after the registry) of ``reference``."""
    _check_max_nested_paths(max_nested_paths)
    dummy, text = _strip_transport(reference.strip(), ("docker://",))
    written = _split_written(text)
    if not written.tag and not written.digest:
        raise InvalidReference(f"{reference} unable to parse image correctly: tag and digest are empty")
    name = text.split("@", 1)[0]
    if written.tag:
        name = name[: -(len(written.tag) + 1)]
    registry, sep, path = name.partition("/")
    if max_nested_paths == 0 or not sep:
        return text
    return registry + "/" + "/".join(_squeeze(path.split("/"), max_nested_paths)) + text[len(name):]


def _oc_mount(components: List[str], dest_components: List[str], max_components: int) -> List[str]:
    all_components = [c for c in dest_components + components if c]
    if not all_components:
        raise ConfigError("oc naming: neither the destination nor the source has a path")
    return _squeeze(all_components, max_components)


def target_for(
    source: Union[ImageReference, str],
    dest: str,
    naming: str = "oc",
    max_components: int = 2,
    max_nested_paths: int = 0,
    digest_tag_mode: Optional[str] = None,
    image_type: str = "operatorRelatedImage",
) -> PlannedImage:
    """Plan one image: where ``source`` lands under ``dest`` in ``naming`` mode."""
    return _plan_one(source, _parsed_dest(dest), naming, max_components, max_nested_paths, digest_tag_mode,
                     image_type, None)


def _parsed_dest(dest: Union[str, ImageReference, FileReference]) -> Union[ImageReference, FileReference]:
    if isinstance(dest, (ImageReference, FileReference)):
        return dest
    return parse_destination(dest)


def _plan_one(
    source: Union[ImageReference, str],
    dest: Union[ImageReference, FileReference],
    naming: str,
    max_components: int,
    max_nested_paths: int,
    digest_tag_mode: Optional[str],
    image_type: str,
    source_root: Optional[FileReference],
) -> PlannedImage:
    _check_naming(naming)
    ref, written = _as_source(source)
    mode = _digest_tag_mode(naming, digest_tag_mode)
    if naming == "oc":
        _check_max_components(max_components)
        if isinstance(dest, FileReference):
            # oc keeps names unchanged in a file store: the next hop renames them anyway
            max_components = 0
        if ref.tag:
            tag = ref.tag
        elif ref.digest:
            tag = digest_tag(_oc_string(written), ref.digest, mode)
        else:
            tag = "latest"
        components = _oc_mount(ref.repository.split("/"), dest.repository.split("/"), max_components)
        what = str(ref)
        if isinstance(dest, FileReference):
            target: Endpoint = FileReference("/".join(components), tag, ref.digest)
        else:
            target = _target_reference(dest.registry, "/".join(components), tag, ref.digest, what)
        if ref.digest or ref.tag:
            src: Endpoint = ref
        else:
            src = ref.with_tag("latest")
        origin = src
        if source_root is not None:
            # a file:// catalog: every image is read from under the catalog's directory
            src = FileReference("/".join([source_root.path] + ref.repository.split("/")),
                                None if (ref.digest and not ref.tag) else tag, ref.digest)
        return PlannedImage(source=src, target=target, origin=origin, image_type=image_type)

    _check_max_nested_paths(max_nested_paths)
    if isinstance(dest, FileReference):
        raise ConfigError(f"dest {dest}: naming oc-mirror mirrors to a registry; file:// is only for naming oc")
    if ref.tag:
        tag = ref.tag
    elif ref.digest:
        tag = digest_tag(_oc_mirror_string(written), ref.digest, mode)
    else:
        raise InvalidReference(
            f"{_oc_mirror_string(written)} unable to parse image correctly: tag and digest are empty "
            "(oc-mirror refuses images with neither; pin the image or use naming oc)"
        )
    components = [c for c in dest.repository.split("/") + written.path.split("/") if c]
    if max_nested_paths:
        components = _squeeze(components, max_nested_paths)
    target = _target_reference(dest.registry, "/".join(components), tag, ref.digest, str(ref))
    return PlannedImage(source=ref, target=target, origin=ref, image_type=image_type)


def _merge(planned: Iterable[PlannedImage]) -> List[PlannedImage]:
    """Drop duplicates, refuse two different images landing on the same target, sort."""
    by_source: Dict[str, PlannedImage] = {}
    for item in planned:
        by_source.setdefault(_mapping_source(item.source) + "=" + str(item.target), item)
    by_target: Dict[str, PlannedImage] = {}
    for key in sorted(by_source):
        item = by_source[key]
        target_key = _without_digest(item.target)
        other = by_target.get(target_key)
        if other is not None and (other.source.name != item.source.name or other.source.digest != item.source.digest):
            raise ConfigError(
                f"{_mapping_source(other.source)} and {_mapping_source(item.source)} would both be mirrored to "
                f"{target_key}: raise max_components / max_nested_paths (0 keeps full paths) or use another dest"
            )
        by_target[target_key] = item
    return [by_source[k] for k in sorted(by_source)]


def plan_images(
    sources: Iterable[Union[ImageReference, str]],
    dest: str,
    naming: str = "oc",
    max_components: int = 2,
    max_nested_paths: int = 0,
    digest_tag_mode: Optional[str] = None,
    image_type: str = "operatorRelatedImage",
    catalog: Optional[str] = None,
) -> List[PlannedImage]:
    """Plan every image of ``sources`` (empty strings skipped), duplicates merged, sorted by source.

    ``catalog`` (oc naming only) is the catalog the images come from; it matters only for oc's
    ``file://`` handling: a file destination is re-rooted under the catalog's path, and a
    ``file://`` catalog makes every source a location in that file store.
    """
    _check_naming(naming)
    target_dest = _parsed_dest(dest)
    source_root = None
    if naming == "oc" and catalog is not None:
        catalog_location = _oc_catalog_location(catalog)
        if isinstance(target_dest, FileReference):
            target_dest = FileReference("/".join([target_dest.path] + catalog_location.repository.split("/"))
                                        if catalog_location.repository else target_dest.path)
        if isinstance(catalog_location, FileReference):
            source_root = catalog_location
    planned = []
    for source in sources:
        if isinstance(source, str) and not source.strip():
            continue
        planned.append(_plan_one(source, target_dest, naming, max_components, max_nested_paths,
                                 digest_tag_mode, image_type, source_root))
    return _merge(planned)


def _oc_catalog_location(catalog: str) -> Union[ImageReference, FileReference]:
    """Parse a catalog the way oc does, including ``file://`` and registry-only names."""
    if catalog.startswith("file://"):
        text = catalog[len("file://"):]
        text = text[1:] if text.startswith("/") else text
        written = _split_written(text)
        path = f"{written.registry}/{written.path}" if written.registry else written.path
        return FileReference(path, written.tag, written.digest)
    dummy, text = _strip_transport(catalog, ("docker://",))
    if "/" not in text and ("." in text.split(":")[0] or text.startswith("localhost")):
        return ImageReference(registry=text, repository="")
    return parse(text)


def catalog_target(
    catalog: str,
    dest: str,
    naming: str = "oc",
    max_components: int = 2,
    max_nested_paths: int = 0,
    digest_tag_mode: Optional[str] = None,
    target_name: Optional[str] = None,
    target_tag: Optional[str] = None,
) -> Endpoint:
    """Where the catalog image itself lands.

    ``target_name`` replaces the catalog's repository path (oc-mirror ``targetCatalog``) and
    ``target_tag`` its tag (``targetTag``). An ``oci://`` catalog (oc-mirror only) is named after
    its directory. ``target_tag=""`` means no tag at all (a repository).
    """
    _check_naming(naming)
    if target_name is not None:
        for component in target_name.split("/"):
            if not _COMPONENT.match(component):
                raise ConfigError(f"target_name {target_name!r}: path component {component!r} is not valid")
    target_dest = _parsed_dest(dest)
    if catalog.startswith("oci://"):
        if naming != "oc-mirror":
            raise ConfigError(f"catalog {catalog!r}: oci:// catalogs are named by naming oc-mirror only")
        path = target_name or catalog.rstrip("/").rsplit("/", 1)[-1].lower()
        tag = target_tag if target_tag is not None else "latest"
        repository = "/".join(c for c in target_dest.repository.split("/") + path.split("/") if c)
        out = ImageReference(registry=target_dest.registry, repository=repository)
        return out.with_tag(tag or None)
    if naming == "oc":
        location = _oc_catalog_location(catalog)
        if isinstance(location, FileReference):
            raise ConfigError(f"catalog {catalog!r}: a file:// catalog is planned by plan_catalog")
        if not location.repository:
            raise ConfigError(f"catalog {catalog!r} names a registry but no repository")
        ref = location
        if target_name:
            ref = ImageReference(ref.registry, target_name, ref.tag, ref.digest)
        if target_tag:
            ref = ImageReference(ref.registry, ref.repository, target_tag, ref.digest)
        target = target_for(ref, target_dest, "oc", max_components, 0, digest_tag_mode, "operatorCatalog").target
        if target_tag == "":
            return ImageReference(target.registry, target.repository)
        return target
    _check_max_nested_paths(max_nested_paths)
    if isinstance(target_dest, FileReference):
        raise ConfigError(f"dest {target_dest}: naming oc-mirror mirrors to a registry; file:// is only for naming oc")
    ref, written = _as_source(catalog)
    if target_tag:
        tag: Optional[str] = target_tag
    elif ref.tag:
        tag = ref.tag
    elif ref.digest:
        tag = digest_tag(_oc_mirror_string(written), ref.digest, _digest_tag_mode(naming, digest_tag_mode))
    elif target_tag is None:
        raise InvalidReference(f"catalog {catalog} unable to parse image correctly: tag and digest are empty")
    else:
        tag = None
    path = target_name or written.path
    components = [c for c in target_dest.repository.split("/") + path.split("/") if c]
    if max_nested_paths:
        components = _squeeze(components, max_nested_paths)
    if target_tag == "":
        return ImageReference(target_dest.registry, "/".join(components))
    return _target_reference(target_dest.registry, "/".join(components), tag or "latest", ref.digest, catalog)


def plan_catalog(
    catalog: str,
    images: Iterable[Union[ImageReference, str]],
    dest: str,
    naming: str = "oc",
    max_components: int = 2,
    max_nested_paths: int = 0,
    digest_tag_mode: Optional[str] = None,
    target_name: Optional[str] = None,
    target_tag: Optional[str] = None,
) -> List[PlannedImage]:
    """Plan a catalog's images plus the catalog image itself (``image_type`` operatorCatalog).

    In oc naming this is ``oc adm catalog mirror CATALOG DEST``, ``file://`` catalogs and
    destinations included.
    """
    _check_naming(naming)
    planned = plan_images(images, dest, naming, max_components, max_nested_paths, digest_tag_mode,
                          "operatorRelatedImage", catalog if naming == "oc" else None)
    location = _oc_catalog_location(catalog) if naming == "oc" else None
    if isinstance(location, FileReference):
        _check_max_components(max_components)
        target_dest = _parsed_dest(dest)
        limit = 0 if isinstance(target_dest, FileReference) else max_components
        components = _oc_mount(location.repository.split("/"), target_dest.repository.split("/"), limit)
        tag = location.tag or "latest"
        if isinstance(target_dest, FileReference):
            target: Endpoint = FileReference("/".join(components), tag, location.digest)
        else:
            target = _target_reference(target_dest.registry, "/".join(components), tag, location.digest, catalog)
        own = PlannedImage(source=location, target=target, origin=None, image_type="operatorCatalog")
    else:
        ref, dummy = _as_source(catalog)
        target = catalog_target(catalog, dest, naming, max_components, max_nested_paths, digest_tag_mode,
                                target_name, target_tag)
        source = ref if (ref.tag or ref.digest) else ref.with_tag("latest")
        own = PlannedImage(source=source, target=target, origin=source, image_type="operatorCatalog")
    return _merge(planned + [own])


# ---------------------------------------------------------------------------------------------
# mapping.txt


def mapping_lines(planned: Iterable[PlannedImage]) -> List[str]:
    """``SRC=DST`` lines as oc writes them (source by digest when it has one, target by tag), sorted."""
    return sorted({item.mapping_line for item in planned})


# ---------------------------------------------------------------------------------------------
# Mirror sets


def _category(image_type: str) -> str:
    if image_type in ("operatorCatalog", "operatorBundle", "operatorRelatedImage"):
        return "operator"
    if image_type in ("ocpRelease", "ocpReleaseContent", "cincinnatiGraph"):
        return "release"
    return "generic"


def _scope_of(ref: ImageReference, scope: str) -> str:
    if scope == "registry":
        return ref.registry
    if scope == "namespace":
        namespace = ref.repository.rsplit("/", 1)[0] if "/" in ref.repository else ""
        return f"{ref.registry}/{namespace}" if namespace else ref.registry
    return ref.name


def _scope_pair(origin: ImageReference, target: ImageReference, scope: str) -> Tuple[str, str]:
    if scope == "auto":
        # oc-mirror: the parent paths are equivalent only when the mirror keeps the source path
        # as its tail; compared by whole components, so ns/xubi8 does not match ubi8.
        src_parts, dst_parts = origin.repository.split("/"), target.repository.split("/")
        if len(dst_parts) >= len(src_parts) and dst_parts[len(dst_parts) - len(src_parts):] == src_parts:
            scope = "namespace"
        else:
            scope = "repository"
    return _scope_of(origin, scope), _scope_of(target, scope)


def _default_scope(naming: str, scope: Optional[str]) -> str:
    if scope is None:
        return "repository" if naming == "oc" else "auto"
    if scope not in SCOPES:
        raise ConfigError(f"scope {scope!r} is not one of {', '.join(SCOPES)}")
    return scope


def mirror_sets(
    planned: Iterable[PlannedImage],
    kind: str = "digest",
    naming: str = "oc",
    scope: Optional[str] = None,
) -> Dict[str, Dict[str, List[str]]]:
    """The mirror entries by category: ``{category: {source: [mirrors]}}``.

    ``kind`` digest: images whose origin has a digest (oc-mirror also puts its release images
    there); tag: images whose origin has a tag. oc naming puts everything in category
    ``operator`` and keeps catalog images; oc-mirror naming leaves catalog and graph images out.
    ``scope``: repository (default for oc), registry, namespace (parent path) or auto (oc-mirror's
    default: namespace when the mirror keeps the source path, else repository).
    """
    _check_naming(naming)
    if kind not in MIRROR_KINDS:
        raise ConfigError(f"mirror kind {kind!r} is not one of {', '.join(MIRROR_KINDS)}")
    scope = _default_scope(naming, scope)
    out: Dict[str, Dict[str, List[str]]] = {}
    for item in planned:
        origin, target = item.origin, item.target
        if origin is None or not isinstance(target, ImageReference):
            continue  # file:// store or oci:// layout: nothing a cluster pulls from
        if naming == "oc-mirror" and item.image_type in ("operatorCatalog", "cincinnatiGraph"):
            continue  # the CatalogSource / UpdateService names these directly
        if kind == "digest":
            wanted = bool(origin.digest) or (naming == "oc-mirror" and item.image_type == "ocpRelease")
        else:
            wanted = bool(origin.tag) or not origin.digest
        if not wanted:
            continue
        source, mirror = _scope_pair(origin, target, scope)
        category = "operator" if naming == "oc" else _category(item.image_type)
        mirrors = out.setdefault(category, {}).setdefault(source, [])
        if mirror not in mirrors:
            mirrors.append(mirror)
    return {c: {s: out[c][s] for s in sorted(out[c])} for c in CATEGORIES if c in out}


def mirror_set_manifests(
    kind: str,
    name: str,
    mirrors: Mapping[str, Sequence[str]],
    max_size: int = MAX_MIRROR_SET_SIZE,
    numbered: bool = True,
    labels: Optional[Mapping[str, str]] = None,
) -> List[Dict[str, Any]]:
    """Build ``kind`` objects holding ``mirrors`` (source -> mirrors), each at most ``max_size`` bytes of YAML.

    ``numbered``: names ``<name>-0``, ``<name>-1``... and no object for no mirrors (what oc
    writes); otherwise a single object named ``name``, with an empty list when there is nothing
    (oc's generateICSP), and ``<name>-1``... if it had to be split.
    """
    if kind not in _KIND_INFO:
        raise ConfigError(f"mirror set kind {kind!r} is not one of {', '.join(_KIND_INFO)}")
    if not isinstance(max_size, int) or isinstance(max_size, bool) or not 0 < max_size <= MAX_MIRROR_SET_SIZE:
        raise ConfigError(
            f"max_size {max_size!r} for {kind} must be greater than 0 and at most {MAX_MIRROR_SET_SIZE} bytes "
            f"(oc {_KIND_INFO[kind][2]})"
        )
    api_version, list_key, dummy = _KIND_INFO[kind]
    base_name = "-".join(name.split("/"))

    def build(index: int, entries: List[Dict[str, Any]]) -> Dict[str, Any]:
        object_name = f"{base_name}-{index}" if numbered or index else base_name
        metadata: Dict[str, Any] = {"name": object_name}
        if labels:
            metadata["labels"] = dict(labels)
        return {"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": {list_key: entries}}

    entries = [{"mirrors": list(mirrors[source]), "source": source} for source in sorted(mirrors)]
    if not entries:
        return [] if numbered else [build(0, [])]
    # YAML of a block list is the sum of its items, so sizes add up without re-dumping the object:
    # size(k >= 1 entries) = size(no entries) - len(' []') + sum(size of each item's text).
    # The empty size depends on the object's name, hence on its index.
    for exact in (False, True):
        objects: List[Dict[str, Any]] = []
        current: List[Dict[str, Any]] = []
        current_size = _yaml_size(build(0, [])) - 3
        for entry in entries:
            entry_size = _item_size(entry, 2, exact)
            if current and current_size + entry_size > max_size:
                objects.append(build(len(objects), current))
                current, current_size = [], _yaml_size(build(len(objects), [])) - 3
            if current_size + entry_size > max_size:
                raise ConfigError(
                    f"unable to add mirror {entry['source']} -> {', '.join(entry['mirrors'])} to {kind} "
                    f"{base_name}: one entry alone is larger than max_size {max_size} bytes "
                    f"(oc {_KIND_INFO[kind][2]}); raise max_size"
                )
            current.append(entry)
            current_size += entry_size
        objects.append(build(len(objects), current))
        # the fast estimate is checked against what is really written; redo exactly if it was off
        if exact or all(_yaml_size(obj) <= max_size for obj in objects):
            break
    return objects


def _mirror_manifests(
    kind: str,
    mirror_kind: str,
    default_prefix: str,
    planned: Iterable[PlannedImage],
    name: Optional[str],
    naming: str,
    scope: Optional[str],
    max_size: int,
) -> List[Dict[str, Any]]:
    sets = mirror_sets(planned, mirror_kind, naming, scope)
    if naming == "oc":
        if not name:
            raise ConfigError(f"{kind} name is empty: oc names mirror sets after the catalog")
        return mirror_set_manifests(kind, name, sets.get("operator", {}), max_size, True, {CATALOG_LABEL: "true"})
    prefix = name or default_prefix
    objects: List[Dict[str, Any]] = []
    for category, mirrors in sets.items():
        objects.extend(mirror_set_manifests(kind, f"{prefix}-{category}", mirrors, max_size, True, None))
    return objects


def icsp_manifests(
    planned: Iterable[PlannedImage],
    name: Optional[str] = None,
    scope: Optional[str] = None,
    max_size: int = MAX_MIRROR_SET_SIZE,
    naming: str = "oc",
) -> List[Dict[str, Any]]:
    """ImageContentSourcePolicy objects for the digest origins (oc: ``<name>-<n>``; oc-mirror: ``<name or icsp>-<category>-<n>``)."""
    return _mirror_manifests("ImageContentSourcePolicy", "digest", "icsp", planned, name, naming, scope, max_size)


def idms_manifests(
    planned: Iterable[PlannedImage],
    name: Optional[str] = None,
    scope: Optional[str] = None,
    max_size: int = MAX_MIRROR_SET_SIZE,
    naming: str = "oc",
) -> List[Dict[str, Any]]:
    """ImageDigestMirrorSet objects for the digest origins (oc-mirror names: ``idms-<category>-<n>``)."""
    return _mirror_manifests("ImageDigestMirrorSet", "digest", "idms", planned, name, naming, scope, max_size)


def itms_manifests(
    planned: Iterable[PlannedImage],
    name: Optional[str] = None,
    scope: Optional[str] = None,
    max_size: int = MAX_MIRROR_SET_SIZE,
    naming: str = "oc",
) -> List[Dict[str, Any]]:
    """ImageTagMirrorSet objects for the tag origins (oc-mirror names: ``itms-<category>-<n>``)."""
    return _mirror_manifests("ImageTagMirrorSet", "tag", "itms", planned, name, naming, scope, max_size)


# ---------------------------------------------------------------------------------------------
# CatalogSource / ClusterCatalog


def _rfc1035(text: str) -> str:
    return "".join(c if ("a" <= c <= "z" or "0" <= c <= "9" or c == "-") else "-" for c in text.lower())


def _k8s_name(text: str) -> str:
    """Make ``text`` a DNS-1035 label (OLM names a Service after the CatalogSource)."""
    name = re.sub(r"-+", "-", _rfc1035(text)).strip("-")[:63].rstrip("-")
    if not name or not name[0].isalpha():
        name = ("c-" + name)[:63].rstrip("-") if name else "catalog"
    return name


def catalog_source_name(catalog: Union[ImageReference, str], naming: str = "oc", prefix: str = "cs") -> str:
    """The CatalogSource (``prefix`` cs) or ClusterCatalog (``cc``) name for a catalog reference.

    oc: the catalog's name without registry and first path component (``quay.io/the/index`` ->
    ``index``), given the source catalog. oc-mirror: ``<prefix>-<last path component>-<tag[:12]>``
    (digest-only: the first 12 hex of the digest), given the mirrored catalog. Either way made a
    valid DNS-1035 label.
    """
    _check_naming(naming)
    if isinstance(catalog, str):
        dummy, text = _strip_transport(catalog.strip(), ("docker://",))
        written = _split_written(text)
        repository, tag, digest = written.path, written.tag, written.digest
    else:
        repository, tag, digest = catalog.repository, catalog.tag, catalog.digest
    if naming == "oc":
        name = repository.split("/", 1)[1] if "/" in repository else repository
        return _k8s_name(name)
    if digest and not tag:
        suffix = digest.split(":", 1)[-1][:12]
    else:
        suffix = _rfc1035((tag or "")[:12])
    suffix = suffix or "0"
    last = repository.rsplit("/", 1)[-1]
    return _k8s_name(f"{prefix}-{last}-{suffix}".replace(".", "-"))


def _image_text(image: Union[Endpoint, str]) -> str:
    if isinstance(image, FileReference):
        raise ConfigError(f"image {image}: a CatalogSource needs a registry image, not a file:// location")
    return str(image).split("docker://", 1)[-1]


def catalog_source(
    name: str,
    image: Union[ImageReference, str],
    namespace: str = MARKETPLACE_NAMESPACE,
    display_name: Optional[str] = None,
    publisher: Optional[str] = None,
    update_interval: Optional[str] = None,
) -> Dict[str, Any]:
    """An operators.coreos.com/v1alpha1 CatalogSource (grpc) serving ``image``."""
    if not name:
        raise ConfigError("CatalogSource name is empty")
    if update_interval is not None and not _GO_DURATION.match(str(update_interval)):
        raise ConfigError(
            f"update_interval {update_interval!r} is not a duration such as 30m0s, 10m or 1h "
            "(spec.updateStrategy.registryPoll.interval)"
        )
    spec: Dict[str, Any] = {"image": _image_text(image), "sourceType": "grpc"}
    if display_name:
        spec["displayName"] = display_name
    if publisher:
        spec["publisher"] = publisher
    if update_interval:
        spec["updateStrategy"] = {"registryPoll": {"interval": str(update_interval)}}
    return {
        "apiVersion": "operators.coreos.com/v1alpha1",
        "kind": "CatalogSource",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def cluster_catalog(
    name: str,
    image: Union[ImageReference, str],
    priority: Optional[int] = None,
    poll_interval_minutes: Optional[int] = None,
) -> Dict[str, Any]:
    """An olm.operatorframework.io/v1 ClusterCatalog (OLM v1) serving ``image``."""
    if not name:
        raise ConfigError("ClusterCatalog name is empty")
    text = _image_text(image)
    source_image: Dict[str, Any] = {"ref": text}
    if poll_interval_minutes is not None:
        if "@" in text:
            raise ConfigError(
                f"poll_interval_minutes: ClusterCatalog {name} pins {text} by digest, which never changes; "
                "drop poll_interval_minutes or use a tag"
            )
        if not isinstance(poll_interval_minutes, int) or poll_interval_minutes < 1:
            raise ConfigError(f"poll_interval_minutes {poll_interval_minutes!r} must be an integer >= 1")
        source_image["pollIntervalMinutes"] = poll_interval_minutes
    spec: Dict[str, Any] = {"source": {"type": "Image", "image": source_image}}
    if priority is not None:
        if not isinstance(priority, int) or not -2147483648 <= priority <= 2147483647:
            raise ConfigError(f"priority {priority!r} must be a 32-bit integer")
        spec["priority"] = priority
    return {
        "apiVersion": "olm.operatorframework.io/v1",
        "kind": "ClusterCatalog",
        "metadata": {"name": name},
        "spec": spec,
    }


def catalog_image_for(planned: PlannedImage, naming: str = "oc") -> str:
    """The image a CatalogSource points at: oc uses the digest when the mapping has one, oc-mirror the tag."""
    _check_naming(naming)
    target = planned.target
    if naming == "oc" and target.digest:
        return f"{target.name}@{target.digest}"
    return _without_digest(target)


def catalog_source_for(planned: PlannedImage, naming: str = "oc", name: Optional[str] = None, **kwargs: Any) -> Dict[str, Any]:
    """CatalogSource for a planned catalog image, named and pointed as ``naming`` does."""
    if name is None:
        name = catalog_source_name(planned.origin or planned.source if naming == "oc" else planned.target, naming)
    return catalog_source(name, catalog_image_for(planned, naming), **kwargs)


def cluster_catalog_for(planned: PlannedImage, naming: str = "oc", name: Optional[str] = None, **kwargs: Any) -> Dict[str, Any]:
    """ClusterCatalog for a planned catalog image (oc-mirror name ``cc-...``)."""
    if name is None:
        if naming == "oc":
            name = catalog_source_name(planned.origin or planned.source, "oc")
        else:
            name = catalog_source_name(planned.target, "oc-mirror", prefix="cc")
    return cluster_catalog(name, catalog_image_for(planned, naming), **kwargs)


# ---------------------------------------------------------------------------------------------
# YAML


def _require_yaml() -> None:
    if not HAS_YAML:
        raise AirgapError(f"writing manifests needs the PyYAML Python library: {YAML_IMPORT_ERROR}")


if HAS_YAML:

    class _GoStyleDumper(yaml.SafeDumper):
        """Emit YAML like sigs.k8s.io/yaml: double quotes where quoting is needed, lists not indented."""

        def choose_scalar_style(self):  # type: ignore[no-untyped-def]
            style = super().choose_scalar_style()
            return '"' if style == "'" else style

        def ignore_aliases(self, data):  # type: ignore[no-untyped-def]
            return True


def dump_yaml(document: Mapping[str, Any]) -> str:
    """One object as oc writes it: keys sorted, block style, no document marker."""
    _require_yaml()
    return yaml.dump(dict(document), Dumper=_GoStyleDumper, sort_keys=True, default_flow_style=False,
                     allow_unicode=True, width=1 << 30)


def dump_yaml_documents(documents: Iterable[Mapping[str, Any]]) -> str:
    """Several objects as oc aggregates them: each preceded by ``---``; empty string for none."""
    return "".join("---\n" + dump_yaml(document) for document in documents)


def _yaml_size(document: Mapping[str, Any]) -> int:
    return len(dump_yaml(document).encode("utf-8"))


_SIZE_SAFE = re.compile(r"^[\x20-\x7e]*$")


def _item_size(item: Mapping[str, Any], indent: int, exact: bool = True) -> int:
    """Bytes of ``item`` as one entry of a block list nested ``indent`` columns deep."""
    dumper = _GoStyleDumper
    # libyaml is much faster; it may pick ' where we write ", which is the same length unless a
    # string holds quotes, backslashes or non-printable characters
    strings = [item["source"]] + list(item["mirrors"])
    if not exact and _FAST_DUMPER is not None and all(_SIZE_SAFE.match(t) and not set(t) & set("'\"\\") for t in strings):
        dumper = _FAST_DUMPER
    text = yaml.dump([dict(item)], Dumper=dumper, sort_keys=True, default_flow_style=False,
                     allow_unicode=True, width=1 << 30)
    return len(text.encode("utf-8")) + indent * text.count("\n")


_FAST_DUMPER = getattr(yaml, "CSafeDumper", None) if HAS_YAML else None
