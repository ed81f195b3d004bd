# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A channel's upgrade graph, and the entries a version range keeps of it (oc-mirror's rules, see
:mod:`filter`)."""

from __future__ import annotations

from collections import deque
from typing import Any, Dict, List, Optional, Sequence, Set

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.model import Package
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.semver import Version, VersionRange
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import CatalogError


def bundle_version(bundle: Any) -> Optional[Version]:
    """The bundle's version, None when it has none or an invalid one."""
    try:
        return bundle.semver
    except CatalogError:
        return None


def package_versions(pkg: Package) -> Dict[str, Optional[Version]]:
    """Bundle name to version (None when missing or invalid) for every bundle of ``pkg``."""
    return {name: bundle_version(bundle) for name, bundle in pkg.bundles.items()}


class ChannelGraph:
    """A channel's upgrade graph, checked the way the catalog-filter / OLM check it: one head
    (no entry replaces or skips it), no cycle, every entry reachable from the head."""

    def __init__(self, entries: Sequence[Any], where: str, error: type = CatalogError):
        self.by_name: Dict[str, Any] = {}
        incoming: Dict[str, Set[str]] = {}
        problems: List[str] = []
        for entry in entries:
            if entry.name in self.by_name:
                problems.append(f"duplicate channel entry {entry.name!r}")
                continue
            self.by_name[entry.name] = entry
            if entry.replaces:
                if entry.replaces == entry.name:
                    problems.append(f"entry {entry.name!r} replaces itself")
                incoming.setdefault(entry.replaces, set()).add(entry.name)
            for skip in entry.skips or ():
                if skip == entry.name:
                    problems.append(f"entry {entry.name!r} skips itself")
                incoming.setdefault(skip, set()).add(entry.name)
        heads = [entry.name for entry in entries if not incoming.get(entry.name)]
        heads = list(dict.fromkeys(heads))
        if not entries:
            problems.append("the channel has no entries")
        elif not heads:
            problems.append("no channel head (every entry is replaced or skipped by another: a cycle)")
        elif len(heads) > 1:
            problems.append(f"multiple channel heads found: {', '.join(sorted(heads))}")
        if problems:
            raise error(f"{where}: {'; '.join(problems)}")
        self.head: str = heads[0]
        remaining = {target: set(sources) for target, sources in incoming.items()}
        queue = deque([self.head])
        while queue:
            current = self.by_name.get(queue.popleft())
            if current is None:
                continue
            for target in self.edges(current.name):
                sources = remaining.get(target)
                if sources is None:
                    continue
                sources.discard(current.name)
                if not sources:
                    del remaining[target]
                    queue.append(target)
        if remaining:
            raise error(f"{where}: detected a cycle in the upgrade graph of the channel "
                        f"(involving {', '.join(sorted(remaining)[:5])}); fix the replaces/skips of its entries")

    def edges(self, name: str) -> List[str]:
        entry = self.by_name.get(name)
        if entry is None:
            return []
        out = [entry.replaces] if entry.replaces else []
        for skip in entry.skips or ():
            if skip not in out:
                out.append(skip)
        return out

    def skips(self, name: str) -> List[str]:
        entry = self.by_name.get(name)
        return list(dict.fromkeys(entry.skips or ())) if entry is not None else []

    def replaces_chain(self) -> List[str]:
        chain: List[str] = []
        seen: Set[str] = set()
        current: Optional[str] = self.head
        while current is not None and current not in seen:
            chain.append(current)
            seen.add(current)
            entry = self.by_name.get(current)
            current = entry.replaces if entry is not None and entry.replaces else None
        return chain

    def path(self, start: str, target: str) -> Optional[List[str]]:
        """Names on a shortest upgrade path from ``start`` down to ``target`` (both included)."""
        parents: Dict[str, Optional[str]] = {start: None}
        queue = deque([start])
        while queue:
            current = queue.popleft()
            if current == target:
                out = []
                node: Optional[str] = current
                while node is not None:
                    out.append(node)
                    node = parents[node]
                return out[::-1]
            for child in self.edges(current):
                if child not in parents and child in self.by_name:
                    parents[child] = current
                    queue.append(child)
        return None


def select_range(graph: ChannelGraph, version_range: VersionRange, versions: Dict[str, Optional[Version]],
                 where: str, warnings: List[str]) -> Set[str]:
    """The entries the catalog-filter keeps for a version range (the rule is in :mod:`filter`'s doc)."""
    chain = graph.replaces_chain()

    def in_range(name: str) -> bool:
        return version_range.check(versions.get(name))

    seen: Set[str] = set()
    counts: Dict[str, int] = {}
    running = 0
    for name in reversed(chain):
        count = running
        if name not in seen and in_range(name):
            seen.add(name)
            count += 1
        for skip in graph.skips(name):
            if skip not in seen and in_range(skip):
                seen.add(skip)
                count += 1
        counts[name] = running = count

    best = -1
    head_index = 0
    tail_index = len(chain)
    for index, name in enumerate(chain):
        if counts[name] >= best:
            head_index, best = index, counts[name]
        if counts[name] == 0:
            tail_index = index
            break

    keep: Set[str] = set()
    for name in chain[head_index:tail_index]:
        version = versions.get(name)
        if version is None:
            warnings.append(f"{where}: including bundle {name!r}: it has no version but is required to keep every "
                            f"bundle of the range {version_range} connected")
        elif not version_range.check(version):
            warnings.append(f"{where}: including bundle {name!r} with version {version}: it falls outside the range "
                            f"{version_range} but is required to keep every bundle of the range connected")
        keep.add(name)
        for skip in graph.skips(name):
            if in_range(skip):
                keep.add(skip)
    return keep
