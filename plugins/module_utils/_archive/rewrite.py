# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Another registry on the disconnected side: the export planned ``dest`` (a registry, maybe with
a path prefix); an import may push under another one. :class:`DestRewriter` moves a reference
from the planned prefix to the new one, and :func:`sync_manifests` writes the plan's files
(mapping.txt and the cluster files under ``manifests/``) into ``output_dir``, rewritten for the
new prefix, so ``oc apply`` and the cluster roles point at where the images really are.

Only the fields that name mirror locations are rewritten: the ``mirrors`` of ImageContentSourcePolicy,
ImageDigestMirrorSet and ImageTagMirrorSet entries (their ``source`` stays: it is the
original registry the cluster asks for), a CatalogSource's ``spec.image``, a ClusterCatalog's
``spec.source.image.ref``, and the destination side of mapping.txt lines.
"""

from __future__ import annotations

import os
import re
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.format import (
    MANIFESTS_DIR,
    MAPPING_FILE,
    ArchiveError,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.documents import dump_yaml_documents
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.reference import parse, split_registry
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import ConfigError, InvalidReference
from ansible_collections.airgap.operatorhub.plugins.module_utils.files import write_atomic

_MIRROR_LISTS = {
    "ImageContentSourcePolicy": "repositoryDigestMirrors",
    "ImageDigestMirrorSet": "imageDigestMirrors",
    "ImageTagMirrorSet": "imageTagMirrors",
}
_YAML_SUFFIXES = (".yaml", ".yml")


def normalize_prefix(text: str, option: str) -> str:
    """``registry[:port][/path]`` without a scheme, tag or trailing slash; ConfigError naming ``option``."""
    value = (text or "").strip()
    for scheme in ("docker://", "https://", "http://"):
        if value.startswith(scheme):
            value = value[len(scheme):]
    value = value.rstrip("/")
    if not value:
        raise ConfigError(f"{option} is empty: give a registry, optionally with a path, e.g. mirror.example.com:5000/olm")
    first, dummy, path = value.partition("/")
    if path:
        registry = split_registry(value)[0]
    else:
        registry = first if ("." in first or ":" in first or first == "localhost") else None
    if registry != first:
        raise ConfigError(f"{option} {text!r} does not start with a registry host (a name with a dot or a port, or "
                          "localhost), e.g. mirror.example.com:5000/olm")
    try:
        parse(f"{value}/x:t")
        if path:
            parse(f"{value}:t")
    except InvalidReference as exc:
        raise ConfigError(f"{option} {text!r} is not a registry[/path] prefix: {exc}") from None
    return value


class DestRewriter:
    """Moves references under ``old`` (the planned prefix) to ``new``; anything else is left as is."""

    def __init__(self, old: str, new: str):
        self.old = normalize_prefix(old, "contents.json dest")
        self.new = normalize_prefix(new, "dest")
        self.old_host = self.old.split("/", 1)[0]
        self.new_host = self.new.split("/", 1)[0]
        self.unmatched: List[str] = []

    @property
    def identity(self) -> bool:
        return self.old == self.new

    def ref(self, text: str, record: bool = True) -> str:
        """``old/x/y:tag`` -> ``new/x/y:tag``; ``old`` itself -> ``new``; the old registry alone (a
        registry-scoped mirror) -> the new registry. Anything else is returned as is and, with
        ``record``, listed in ``unmatched``."""
        if text == self.old:
            return self.new
        for separator in ("/", ":", "@"):
            if text.startswith(self.old + separator) and (separator == "/" or "/" in self.old):
                return self.new + text[len(self.old):]
        if text == self.old_host:
            return self.new_host
        if record:
            self.unmatched.append(text)
        return text

    def mapping(self, content: str) -> str:
        """mapping.txt with the destination of every ``SRC=DST`` word rewritten; comments kept."""
        lines = []
        for line in content.splitlines(keepends=True):
            body, hash_mark, comment = line.partition("#")
            words = body.split()
            new_body = body
            if words and all("=" in w for w in words):
                for word in words:
                    src, dst = word.split("=", 1)
                    new_body = new_body.replace(word, f"{src}={self.ref(dst)}", 1)
            elif len(words) >= 2 and not any("=" in w for w in words):
                # 'SRC DST [DST...]'
                rest = body[body.index(words[0]) + len(words[0]):]
                for word in words[1:]:
                    rest = rest.replace(word, self.ref(word), 1)
                new_body = body[:body.index(words[0]) + len(words[0])] + rest
            lines.append(new_body + hash_mark + self._comment(comment))
        return "".join(lines)

    def _comment(self, text: str) -> str:
        """A comment's mentions of the planned prefix (catalog_mirror names the pruned catalog there)."""
        if not text:
            return text
        # ':' and '@' follow a repository path; after a bare host, ':' would start another port
        follows = r"[/:@\s]" if "/" in self.old else r"[/\s]"
        pattern = r"(?<![\w.-])" + re.escape(self.old) + r"(?=" + follows + r"|$)"
        return re.sub(pattern, lambda match: self.new, text)

    def document(self, doc: Any) -> Any:
        """One Kubernetes object with its mirror locations rewritten (changed in place)."""
        if not isinstance(doc, dict):
            return doc
        kind = doc.get("kind")
        spec = doc.get("spec") if isinstance(doc.get("spec"), dict) else None
        if spec is None:
            return doc
        if kind in _MIRROR_LISTS:
            for entry in spec.get(_MIRROR_LISTS[kind]) or []:
                if isinstance(entry, dict) and isinstance(entry.get("mirrors"), list):
                    entry["mirrors"] = [self.ref(m) if isinstance(m, str) else m for m in entry["mirrors"]]
        elif kind == "CatalogSource" and isinstance(spec.get("image"), str):
            spec["image"] = self.ref(spec["image"])
        elif kind == "ClusterCatalog":
            image = (spec.get("source") or {}).get("image") if isinstance(spec.get("source"), dict) else None
            if isinstance(image, dict) and isinstance(image.get("ref"), str):
                image["ref"] = self.ref(image["ref"])
        return doc

    def yaml_text(self, content: str, where: str) -> str:
        import yaml

        try:
            documents = [d for d in yaml.safe_load_all(content) if d is not None]
        except yaml.YAMLError as exc:
            raise ArchiveError(f"{where} is not valid YAML: {exc}") from None
        return dump_yaml_documents(self.document(d) for d in documents)


def plan_files(archive_dir: str) -> List[Tuple[str, str]]:
    """(relative path, absolute path) of the plan's files: mapping.txt and every regular file
    under manifests/ (symbolic links are not followed: the directory came across the gap)."""
    files = []
    mapping = os.path.join(archive_dir, MAPPING_FILE)
    if os.path.isfile(mapping) and not os.path.islink(mapping):
        files.append((MAPPING_FILE, mapping))
    root = os.path.join(archive_dir, MANIFESTS_DIR)
    if os.path.isdir(root) and not os.path.islink(root):
        for directory, dirs, names in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not os.path.islink(os.path.join(directory, d)))
            for name in sorted(names):
                path = os.path.join(directory, name)
                if os.path.isfile(path) and not os.path.islink(path):
                    files.append((os.path.relpath(path, root), path))
    return files


def _render(relative: str, path: str, rewriter: Optional[DestRewriter]) -> bytes:
    with open(path, "rb") as handle:
        data = handle.read()
    is_mapping = os.path.basename(relative) == MAPPING_FILE
    if rewriter is None or rewriter.identity or not (is_mapping or relative.endswith(_YAML_SUFFIXES)):
        return data
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ArchiveError(f"{path} is not UTF-8 text") from None
    if is_mapping:
        return rewriter.mapping(text).encode("utf-8")
    return rewriter.yaml_text(text, path).encode("utf-8")


def sync_manifests(archive_dir: str, output_dir: str, rewriter: Optional[DestRewriter],
                   check_mode: bool) -> Dict[str, List[str]]:
    """Write the plan's files into ``output_dir`` (the top mapping.txt as ``output_dir/mapping.txt``,
    ``manifests/<catalog>/...`` as ``output_dir/<catalog>/...``, as catalog_mirror's output_dir
    holds them), rewritten by ``rewriter``. A file already holding that content is left alone.
    Returns ``{"files": every path, "changed": the paths written (or that would be)}``."""
    output_dir = os.path.abspath(os.path.expanduser(output_dir))
    if os.path.exists(output_dir) and not os.path.isdir(output_dir):
        raise ConfigError(f"output_dir {output_dir} exists and is not a directory")
    files, changed = [], []
    for relative, path in plan_files(archive_dir):
        target = os.path.join(output_dir, relative)
        try:
            data = _render(relative, path, rewriter)
        except OSError as exc:
            raise ArchiveError(f"cannot read {path}: {exc.strerror or exc}") from None
        files.append(target)
        try:
            with open(target, "rb") as handle:
                if handle.read() == data:
                    continue
        except OSError:
            pass
        changed.append(target)
        if check_mode:
            continue
        try:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            write_atomic(target, data)
        except OSError as exc:
            raise ConfigError(f"{target}: cannot be written ({exc.strerror or exc}); check output_dir") from None
    return {"files": files, "changed": changed}
