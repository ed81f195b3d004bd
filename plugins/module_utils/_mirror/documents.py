# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes objects written as YAML documents, byte for byte the way oc writes them.

oc serializes with sigs.k8s.io/yaml: keys sorted, block style, double quotes where quoting is
needed, list items not indented under their key, no line folding. A file of several objects
puts ``---`` before each. The size helpers let mirror sets be split under a byte limit without
dumping every candidate object.
"""

from __future__ import annotations

import re
import traceback
from typing import Any, Iterable, Iterator, Mapping

from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import AirgapError

try:
    import yaml

    HAS_YAML = True
    YAML_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised by ansible-test sanity only
    HAS_YAML = False
    YAML_IMPORT_ERROR = traceback.format_exc()

_PRINTABLE_ASCII = re.compile(r"^[\x20-\x7e]*$")
_LIBYAML_DUMPER = getattr(yaml, "CSafeDumper", None) if HAS_YAML else None


def _require_yaml() -> None:
    if not HAS_YAML:
        raise AirgapError(f"writing YAML documents needs the PyYAML Python library: {YAML_IMPORT_ERROR}")


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


def document_size(document: Mapping[str, Any]) -> int:
    """Bytes of ``document`` as :func:`dump_yaml` writes it."""
    return len(dump_yaml(document).encode("utf-8"))


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, Mapping):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _strings(value)


def list_item_size(item: Mapping[str, Any], indent: int, exact: bool = True) -> int:
    """Bytes of ``item`` as one entry of a block list nested ``indent`` columns deep.

    ``exact=False`` may use libyaml for speed when that cannot change the size; the caller
    checks the result against :func:`document_size`.
    """
    _require_yaml()
    dumper = _GoStyleDumper
    # libyaml may pick ' where we write ", which is the same length unless a string holds
    # quotes, backslashes or non-printable characters
    if not exact and _LIBYAML_DUMPER is not None and all(
        _PRINTABLE_ASCII.match(text) and not set(text) & set("'\"\\") for text in _strings(item)
    ):
        dumper = _LIBYAML_DUMPER
    text = yaml.dump([dict(item)], Dumper=dumper, sort_keys=True, default_flow_style=False,
                     allow_unicode=True, width=1 << 30)
    return len(text.encode("utf-8")) + indent * text.count("\n")
