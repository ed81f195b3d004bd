# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rendering the catalog model back to FBC blobs and files, as ``opm render`` lays them out."""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Iterable, Iterator, List

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.model import Catalog, Package
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import CatalogError


def package_blobs(pkg: Package, synthesized: bool = True) -> Iterator[Dict[str, Any]]:
    """Blobs of one package in ``opm render`` order: package, channels and bundles (each sorted
    by name), blobs of other schemas (stable by schema), then deprecations."""
    if pkg.declared:
        yield pkg.to_blob()
    for name in sorted(pkg.channels):
        channel = pkg.channels[name]
        if synthesized or not channel.synthesized:
            yield channel.to_blob()
    for name in sorted(pkg.bundles):
        yield pkg.bundles[name].to_blob()
    yield from sorted(pkg.others, key=lambda blob: str(blob.get("schema", "")))
    for dep in pkg.deprecations:
        yield dep.to_blob()


def render_fbc(catalog: Catalog, synthesized: bool = True) -> Iterator[Dict[str, Any]]:
    """Every blob of the catalog, packages sorted by name, then blobs of no package.

    Channels built from old-style bundle properties are rendered as olm.channel blobs (what
    ``opm migrate`` produces) unless ``synthesized`` is False.
    """
    for name in sorted(catalog.packages):
        yield from package_blobs(catalog.packages[name], synthesized)
    yield from catalog.others


def dumps_blobs(blobs: Iterable[Dict[str, Any]]) -> str:
    """A JSON stream as opm writes it: each blob indented by 4 spaces, followed by a newline."""
    return "".join(json.dumps(blob, indent=4, ensure_ascii=False) + "\n" for blob in blobs)


def _write_if_changed(path: str, text: str) -> bool:
    data = text.encode("utf-8")
    try:
        with open(path, "rb") as handle:
            if handle.read() == data:
                return False
    except FileNotFoundError:
        pass
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)
    return True


def write_fbc(catalog: Catalog, out_dir: str, synthesized: bool = True) -> List[str]:
    """Write ``out_dir/<package>/catalog.json`` per package (and ``out_dir/catalog.json`` for
    blobs of no package), as ``opm render`` lays out an index. Files are rewritten only when
    their content changes; returns the paths written."""
    written: List[str] = []
    try:
        os.makedirs(out_dir, exist_ok=True)
        for name in sorted(catalog.packages):
            if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
                raise CatalogError(f"package name {name!r} cannot be a directory name; fix the catalog")
            pkg_dir = os.path.join(out_dir, name)
            os.makedirs(pkg_dir, exist_ok=True)
            target = os.path.join(pkg_dir, "catalog.json")
            if _write_if_changed(target, dumps_blobs(package_blobs(catalog.packages[name], synthesized))):
                written.append(target)
        if catalog.others:
            target = os.path.join(out_dir, "catalog.json")
            if _write_if_changed(target, dumps_blobs(catalog.others)):
                written.append(target)
    except OSError as exc:
        raise CatalogError(f"{exc.filename or out_dir}: cannot write the catalog: {exc.strerror}") from exc
    return written
