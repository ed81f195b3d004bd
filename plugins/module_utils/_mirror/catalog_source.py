# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The objects that make a mirrored catalog installable: an OLM v0 CatalogSource and an OLM v1
ClusterCatalog, named and pointed at the catalog image the way each naming mode does.

The builders return plain dicts; :mod:`.documents` writes them as YAML.
"""

from __future__ import annotations

import re
from typing import Any, Dict, Optional, Union

from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import ConfigError
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.reference import ImageReference
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.endpoints import (
    Endpoint,
    FileReference,
    split_written,
    strip_transport,
    text_without_digest,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.naming import PlannedImage, check_naming

MARKETPLACE_NAMESPACE = "openshift-marketplace"
_GO_DURATION = re.compile(r"^(?:[0-9]+(?:\.[0-9]+)?(?:ns|us|\u00b5s|ms|s|m|h))+$")


def _dns1035_characters(text: str) -> str:
    return "".join(c if ("a" <= c <= "z" or "0" <= c <= "9" or c == "-") else "-" for c in text.lower())


def _dns1035_label(text: str) -> str:
    """Make ``text`` a DNS-1035 label (OLM names a Service after the CatalogSource)."""
    name = re.sub(r"-+", "-", _dns1035_characters(text)).strip("-")[:63].rstrip("-")
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
    check_naming(naming)
    if isinstance(catalog, str):
        dummy, text = strip_transport(catalog.strip(), ("docker://",))
        written = split_written(text)
        repository, tag, digest = written.path, written.tag, written.digest
    else:
        repository, tag, digest = catalog.repository, catalog.tag, catalog.digest
    if naming == "oc":
        name = repository.split("/", 1)[1] if "/" in repository else repository
        return _dns1035_label(name)
    if digest and not tag:
        suffix = digest.split(":", 1)[-1][:12]
    else:
        suffix = _dns1035_characters((tag or "")[:12])
    suffix = suffix or "0"
    last = repository.rsplit("/", 1)[-1]
    return _dns1035_label(f"{prefix}-{last}-{suffix}".replace(".", "-"))


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
    check_naming(naming)
    target = planned.target
    if naming == "oc" and target.digest:
        return f"{target.name}@{target.digest}"
    return text_without_digest(target)


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
