# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tags for images that are addressed by digest only.

A registry garbage-collects manifests that no tag points to, so a ``src@sha256:...`` mirrored to
a destination without a tag must land under one. Three conventions exist in the field:

- ``oc``: ``oc adm catalog mirror`` / ``oc image mirror``: FNV-1a 32-bit hash of the source
  reference string, lower-case hex, not zero-padded;
- ``oc-mirror``: ``sha256-<hex>`` (oc-mirror v2);
- ``short``: the first 8 hex characters of the digest (the seed workflow's skopeo script).
"""

from __future__ import annotations

from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import ConfigError

DIGEST_TAG_MODES = ("oc", "oc-mirror", "short")

_FNV32_OFFSET = 0x811C9DC5
_FNV32_PRIME = 0x01000193


def fnv1a32(text: str) -> str:
    """FNV-1a 32-bit hash of ``text`` (UTF-8), formatted like Go's ``%x``."""
    value = _FNV32_OFFSET
    for byte in text.encode("utf-8"):
        value = ((value ^ byte) * _FNV32_PRIME) & 0xFFFFFFFF
    return format(value, "x")


def digest_tag(source: str, digest: str, mode: str = "oc") -> str:
    """Return the tag a digest-only ``source`` lands under in ``mode``.

    ``source`` is the source reference string as oc prints it (registry/path@digest).
    """
    algorithm, dummy, hexpart = digest.partition(":")
    if mode == "oc":
        return fnv1a32(source)
    if mode == "oc-mirror":
        return f"{algorithm}-{hexpart}"
    if mode == "short":
        return hexpart[:8]
    raise ConfigError(f"digest_tag {mode!r} is not one of {', '.join(DIGEST_TAG_MODES)}")
