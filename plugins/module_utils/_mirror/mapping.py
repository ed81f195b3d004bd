# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mapping.txt: the ``SRC=DST`` lines ``oc adm catalog mirror --manifests-only`` writes and
``oc image mirror -f`` reads.

Syntax accepted, as oc's mapping file reader does:

- everything from ``#`` to the end of the line is a comment (``#`` cannot occur in a reference);
  blank lines are skipped;
- a line holds one or more ``SRC=DST`` words separated by white space; or, with no ``=`` at all,
  ``SRC DST [DST...]`` (one source to several destinations).

Where we differ from oc, on purpose:

- tabs separate words too (oc only splits on spaces and then fails on a tab);
- a line mixing ``SRC=DST`` words and bare words is refused (oc ignores the bare words silently,
  which hides a typo);
- a bad line does not stop the run: it becomes a :class:`MappingProblem` with its ``file:line``
  and the other lines go on;
- a destination with a digest (``dst@sha256:...``) is accepted when that digest is the source's
  own digest, and is then redundant: the content decides the digest, and the image still lands
  under a tag. oc refuses any digest on the destination; a different digest is refused here too;
- the same destination twice: an exact duplicate line is merged silently, a different source for
  the same ``registry/repository:tag`` is a problem on the later line (oc fails the whole file).

A destination without a tag takes the source's tag; a digest-only source lands under the tag
``digest_tag`` gives it (``oc``: FNV-1a of the source, ``oc-mirror``: ``sha256-<hex>``,
``short``: 8 hex characters), because a registry garbage-collects untagged manifests.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Iterable

from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import ConfigError, InvalidReference
from ansible_collections.airgap.operatorhub.plugins.module_utils.files import write_atomic
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.reference import ImageReference, parse
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.tags import DIGEST_TAG_MODES, digest_tag

_UNSUPPORTED_SCHEMES = ("file://", "s3://")


@dataclass(frozen=True)
class MappingEntry:
    """One image to mirror. ``dest`` always has a tag and never a digest."""

    source: ImageReference
    dest: ImageReference
    origin: str

    @property
    def line(self) -> str:
        """The entry as a normalized mapping line."""
        return f"{self.source}={self.dest}"


@dataclass(frozen=True)
class MappingProblem:
    """A line that cannot be used: where it is, what it says, and what to fix."""

    origin: str
    text: str
    reason: str

    def __str__(self) -> str:
        return f"{self.origin}: {self.reason}"


class _Parser:
    """Parses lines into entries, remembering destinations across every file of a run."""

    def __init__(self, digest_tag_mode: str, patterns: tuple[list, list] = ([], [])):
        if digest_tag_mode not in DIGEST_TAG_MODES:
            raise ConfigError(
                f"digest_tag {digest_tag_mode!r} is not one of {', '.join(DIGEST_TAG_MODES)}"
            )
        self.mode = digest_tag_mode
        self.include, self.exclude = patterns
        self.entries: list[MappingEntry] = []
        self.problems: list[MappingProblem] = []
        # str(dest) -> (str(source), origin) of the first line that claimed it
        self._seen: dict[str, tuple[str, str]] = {}

    def feed(self, lines: Iterable[str], origin_name: str, numbering: str = "line") -> None:
        if numbering not in ("line", "index"):
            raise ConfigError(f"numbering {numbering!r} is not 'line' or 'index'")
        for i, raw in enumerate(lines):
            origin = f"{origin_name}:{i + 1}" if numbering == "line" else f"{origin_name}[{i}]"
            if not isinstance(raw, str):
                self._problem(origin, repr(raw), "a mapping line must be a string of the form SRC=DST")
                continue
            self._line(raw.rstrip("\r\n"), origin)

    def _problem(self, origin: str, text: str, reason: str) -> None:
        last = self.problems[-1] if self.problems else None
        if last is not None and last.origin == origin and last.reason == reason:
            return  # 'SRC DST DST' with a bad SRC: say it once
        self.problems.append(MappingProblem(origin=origin, text=text, reason=reason))

    def _line(self, raw: str, origin: str) -> None:
        line = raw.split("#", 1)[0].strip()
        if not line:
            return
        words = line.split()
        pairs = [w for w in words if "=" in w]
        if pairs and len(pairs) != len(words):
            stray = " ".join(w for w in words if "=" not in w)
            self._problem(
                origin, raw,
                f"{stray!r} is not a SRC=DST pair; write one SRC=DST per word (or 'SRC DST' with no '=')",
            )
            return
        if pairs:
            todo = [tuple(w.split("=", 1)) for w in words]
        elif len(words) >= 2:
            todo = [(words[0], w) for w in words[1:]]
        else:
            self._problem(origin, raw, "not a mapping: write SRC=DST (source image = destination image)")
            return
        for src_text, dst_text in todo:
            self._pair(src_text, dst_text, origin, raw)

    def _pair(self, src_text: str, dst_text: str, origin: str, raw: str) -> None:
        if not src_text or not dst_text:
            self._problem(origin, raw, "SRC=DST needs an image on both sides of '='")
            return
        for text, side in ((src_text, "source"), (dst_text, "destination")):
            if text.startswith(_UNSUPPORTED_SCHEMES):
                self._problem(
                    origin, raw,
                    f"{side} {text!r}: file:// and s3:// locations are not supported here; "
                    "mirror registry to registry (use catalog_mirror for mirror-to-disk)",
                )
                return
        try:
            source = parse(src_text)
        except InvalidReference as exc:
            self._problem(origin, raw, f"source: {exc}; fix the reference")
            return
        if not source.tag and not source.digest:
            self._problem(
                origin, raw,
                f"source {src_text!r} has neither a tag nor a digest; add :tag or @sha256:<digest> "
                "(this module copies named images, it does not expand a repository to all its tags)",
            )
            return
        try:
            dest = parse(dst_text)
        except InvalidReference as exc:
            self._problem(origin, raw, f"destination: {exc}; fix the reference")
            return
        if dest.digest:
            if dest.digest != source.digest:
                self._problem(
                    origin, raw,
                    f"destination {dst_text!r} has a digest that is not the source's; a destination is "
                    "named by a tag (or no tag, to take the source's): remove @digest",
                )
                return
            dest = dest.with_digest(None)
        if not dest.tag:
            if source.tag:
                dest = dest.with_tag(source.tag)
            else:
                dest = dest.with_tag(digest_tag(str(source), source.digest or "", self.mode))

        src_key = str(source)
        if self.include and not any(p.search(src_key) for p in self.include):
            return
        if any(p.search(src_key) for p in self.exclude):
            return

        dst_key = str(dest)
        earlier = self._seen.get(dst_key)
        if earlier is not None:
            if earlier[0] == src_key:
                return
            self._problem(
                origin, raw,
                f"destination {dst_key} is already the target of {earlier[0]} at {earlier[1]}; "
                "each destination tag may be written once: give this line another tag",
            )
            return
        self._seen[dst_key] = (src_key, origin)
        self.entries.append(MappingEntry(source=source, dest=dest, origin=origin))


def _compile(patterns: list[str] | None, option: str) -> list:
    compiled = []
    for i, pattern in enumerate(patterns or []):
        try:
            compiled.append(re.compile(pattern))
        except (re.error, TypeError) as exc:
            raise ConfigError(
                f"{option}[{i}] {pattern!r} is not a valid regular expression: {exc}; fix the pattern"
            ) from None
    return compiled


def parse_lines(
    lines: Iterable[str],
    origin_name: str,
    digest_tag_mode: str = "oc",
    numbering: str = "line",
) -> tuple[list[MappingEntry], list[MappingProblem]]:
    """Parse mapping lines. ``origin`` is ``name:lineno`` (1-based) or ``name[i]`` (0-based)."""
    parser = _Parser(digest_tag_mode)
    parser.feed(lines, origin_name, numbering)
    return parser.entries, parser.problems


def load_mappings(
    files: list[str],
    inline: list[str],
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    digest_tag_mode: str = "oc",
) -> tuple[list[MappingEntry], list[MappingProblem]]:
    """Read every mapping file, then the inline lines (``mapping[i]``), as one mapping.

    ``include`` / ``exclude`` are regular expressions searched in the source reference: a line is
    kept when it matches one ``include`` (or there is none) and no ``exclude``.
    Raises ConfigError for a file that cannot be read or a bad expression.
    """
    if isinstance(files, str):
        files = [files]
    if isinstance(inline, str):
        inline = [inline]
    parser = _Parser(digest_tag_mode, (_compile(include, "include"), _compile(exclude, "exclude")))
    for path in files or []:
        try:
            with open(path, encoding="utf-8-sig") as handle:
                lines = handle.read().splitlines()
        except OSError as exc:
            raise ConfigError(
                f"mapping_file {path}: cannot be read ({exc.strerror or exc}); check the path and its permissions"
            ) from None
        except UnicodeDecodeError as exc:
            raise ConfigError(f"mapping_file {path}: is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        parser.feed(lines, path, "line")
    parser.feed(inline or [], "mapping", "index")
    return parser.entries, parser.problems


def shard_of(key: str, count: int) -> int:
    """Which of ``count`` shards ``key`` belongs to: stable across hosts, runs and Python versions
    (unlike ``hash()``, which is salted per process)."""
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big") % count


def select_shard(
    entries: list[MappingEntry], problems: list[MappingProblem], index: int, count: int
) -> tuple[list[MappingEntry], list[MappingProblem]]:
    """The part of a mapping that host ``index`` of ``count`` mirrors.

    Lines are split by destination repository, so every tag of a repository is mirrored by the
    same host (its blobs are sent to that repository once); each bad line is reported by one
    host only. Blobs shared by repositories of different shards are sent once per shard.
    """
    if count < 1 or not 0 <= index < count:
        raise ConfigError(f"shard_index must be from 0 to shard_count - 1 ({count - 1}), got {index}")
    if count == 1:
        return entries, problems
    return (
        [e for e in entries if shard_of(e.dest.name, count) == index],
        [p for p in problems if shard_of(f"{p.origin}={p.text}", count) == index],
    )


def format_mapping(entries: Iterable[MappingEntry]) -> str:
    """Mapping file text: one ``SRC=DST`` line per entry, readable by ``oc image mirror -f``."""
    return "".join(f"{e.source}={e.dest}\n" for e in entries)


def write_mapping(entries: Iterable[MappingEntry], path: str) -> bool:
    """Write ``entries`` to ``path`` atomically; return True if the file changed."""
    content = format_mapping(entries)
    try:
        with open(path, encoding="utf-8") as handle:
            if handle.read() == content:
                return False
    except FileNotFoundError:
        pass
    except (OSError, UnicodeDecodeError):
        pass  # unreadable or not text: rewrite it
    try:
        write_atomic(path, content.encode("utf-8"))
    except OSError as exc:
        raise ConfigError(f"mapping file {path}: cannot be written ({exc.strerror or exc}); check the directory") from None
    return True
