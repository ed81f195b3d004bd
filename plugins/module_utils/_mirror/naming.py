# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Target naming: where each source image lands under a destination, and the ``mapping.txt`` lines.

Pure functions over image references; nothing here talks to a registry or reads a catalog.

Two naming modes, each reproducing its peer tool:

- ``oc``: ``oc adm catalog mirror``. The destination path and the source path (registry dropped)
  are concatenated and squeezed into ``max_components`` path components (the tail joined with
  ``-``); a digest-only source is tagged with the FNV-1a 32-bit hash of its reference string; a
  source with neither tag nor digest gets ``latest``. ``file://`` destinations and sources
  (oc's on-disk store) are handled the way oc does.
- ``oc-mirror``: oc-mirror v2. The target is ``<dest>/<source path without registry>``, optionally
  squeezed to ``max_nested_paths`` components; a digest-only source is tagged ``sha256-<hex>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Union

from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import ConfigError, InvalidReference
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.reference import ImageReference, parse
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.endpoints import (
    HUB_ALIASES,
    PATH_COMPONENT,
    Endpoint,
    FileReference,
    WrittenReference,
    parse_destination,
    parse_source,
    split_written,
    strip_transport,
    text_by_digest,
    text_without_digest,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.tags import DIGEST_TAG_MODES, digest_tag

NAMING_MODES = ("oc", "oc-mirror")
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
        return f"{text_by_digest(self.source)}={text_without_digest(self.target)}"


# ---------------------------------------------------------------------------------------------
# Checks and helpers


def _oc_string(written: WrittenReference) -> str:
    """The source as library-go's DockerImageReference.String() prints it (oc's hash input)."""
    path = written.path
    if written.registry in HUB_ALIASES and "/" not in path:
        path = "library/" + path
    name = f"{written.registry}/{path}" if written.registry else path
    return f"{name}@{written.digest}" if written.digest else f"{name}:{written.tag or 'latest'}"


def _oc_mirror_string(written: WrittenReference) -> str:
    """The source as oc-mirror's ImageSpec.Reference holds it (as written, no transport)."""
    name = f"{written.registry}/{written.path}" if written.registry else written.path
    if written.tag:
        name += ":" + written.tag
    if written.digest:
        name += "@" + written.digest
    return name


def check_naming(naming: str) -> None:
    """Refuse a naming mode other than NAMING_MODES."""
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
        if not PATH_COMPONENT.match(component):
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
    dummy, text = strip_transport(reference.strip(), ("docker://",))
    written = split_written(text)
    if not written.tag and not written.digest:
        raise InvalidReference(f"{reference} unable to parse image correctly: tag and digest are empty")
    name = text.split("@", 1)[0]
    if written.tag:
        name = name[: -(len(written.tag) + 1)]
    registry, sep, path = name.partition("/")
    if max_nested_paths == 0 or not sep:
        return text
    return registry + "/" + "/".join(_squeeze(path.split("/"), max_nested_paths)) + text[len(name):]


def _oc_components(components: List[str], dest_components: List[str], max_components: int) -> List[str]:
    """oc's target path: the destination's components, then the source's, squeezed."""
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
    check_naming(naming)
    ref, written = parse_source(source)
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
        components = _oc_components(ref.repository.split("/"), dest.repository.split("/"), max_components)
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


def _merge_planned(planned: Iterable[PlannedImage]) -> List[PlannedImage]:
    """Drop duplicates, refuse two different images landing on the same target, sort."""
    by_source: Dict[str, PlannedImage] = {}
    for item in planned:
        by_source.setdefault(text_by_digest(item.source) + "=" + str(item.target), item)
    by_target: Dict[str, PlannedImage] = {}
    for key in sorted(by_source):
        item = by_source[key]
        target_key = text_without_digest(item.target)
        other = by_target.get(target_key)
        if other is not None and (other.source.name != item.source.name or other.source.digest != item.source.digest):
            raise ConfigError(
                f"{text_by_digest(other.source)} and {text_by_digest(item.source)} would both be mirrored to "
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
    check_naming(naming)
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
    return _merge_planned(planned)


def _oc_catalog_location(catalog: str) -> Union[ImageReference, FileReference]:
    """Parse a catalog the way oc does, including ``file://`` and registry-only names."""
    if catalog.startswith("file://"):
        text = catalog[len("file://"):]
        text = text[1:] if text.startswith("/") else text
        written = split_written(text)
        path = f"{written.registry}/{written.path}" if written.registry else written.path
        return FileReference(path, written.tag, written.digest)
    dummy, text = strip_transport(catalog, ("docker://",))
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
    check_naming(naming)
    if target_name is not None:
        for component in target_name.split("/"):
            if not PATH_COMPONENT.match(component):
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
    ref, written = parse_source(catalog)
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
    check_naming(naming)
    planned = plan_images(images, dest, naming, max_components, max_nested_paths, digest_tag_mode,
                          "operatorRelatedImage", catalog if naming == "oc" else None)
    location = _oc_catalog_location(catalog) if naming == "oc" else None
    if isinstance(location, FileReference):
        _check_max_components(max_components)
        target_dest = _parsed_dest(dest)
        limit = 0 if isinstance(target_dest, FileReference) else max_components
        components = _oc_components(location.repository.split("/"), target_dest.repository.split("/"), limit)
        tag = location.tag or "latest"
        if isinstance(target_dest, FileReference):
            target: Endpoint = FileReference("/".join(components), tag, location.digest)
        else:
            target = _target_reference(target_dest.registry, "/".join(components), tag, location.digest, catalog)
        catalog_entry = PlannedImage(source=location, target=target, origin=None, image_type="operatorCatalog")
    else:
        ref, dummy = parse_source(catalog)
        target = catalog_target(catalog, dest, naming, max_components, max_nested_paths, digest_tag_mode,
                                target_name, target_tag)
        source = ref if (ref.tag or ref.digest) else ref.with_tag("latest")
        catalog_entry = PlannedImage(source=source, target=target, origin=source, image_type="operatorCatalog")
    return _merge_planned(planned + [catalog_entry])


# ---------------------------------------------------------------------------------------------
# mapping.txt


def mapping_lines(planned: Iterable[PlannedImage]) -> List[str]:
    """``SRC=DST`` lines as oc writes them (source by digest when it has one, target by tag), sorted."""
    return sorted({item.mapping_line for item in planned})
