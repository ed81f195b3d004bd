# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The blob calls of the registry client: size, streamed download, mount, upload.

A download resumes with a Range request after a dropped connection and checks the digest after
the last chunk. An upload is one POST and one PUT ``?digest=`` carrying the body; a large body is
streamed and its last piece is withheld until the content is verified, so content that does not
match its digest never reaches the registry whole and is never committed. An upload is retried
only as a whole: a new upload session fed from a fresh call of its source factory. A
cross-repository mount is trusted when the registry's answer names the digest asked for.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
from typing import Callable, ContextManager, Iterable, Iterator
from urllib.parse import urlencode

from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.token import repository_scope
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.transport import (
    Response,
    TransientError,
    Urllib3Error,
    error_code,
    error_text,
    release_response,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.urls import ref_segment, repo_path
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import DigestMismatch, RegistryError

log = logging.getLogger("airgap.operatorhub.registry")

# Blobs up to this size are read into memory and sent in one PUT (one request fewer); larger
# ones are streamed. Bounded so that parallel_layers uploads in flight stay within a few MiB.
SMALL_BLOB = 1 << 20


def digest_algorithm(digest: str) -> str:
    """The hash algorithm of ``digest``; RegistryError unless sha256, sha384 or sha512."""
    algorithm = digest.split(":", 1)[0]
    if algorithm not in ("sha256", "sha384", "sha512"):
        raise RegistryError(f"digest {digest!r} uses an unsupported algorithm: use sha256 or sha512")
    return algorithm


def read_small_blob(client, repo: str, digest: str, limit: int) -> bytes | None:
    """A small blob (an image config) read whole, or None as soon as it passes ``limit`` bytes:
    the caller says what it expected. The client checks the digest as the last chunk arrives."""
    data = bytearray()
    with client.open_blob(repo, digest) as chunks:
        for chunk in chunks:
            data.extend(chunk)
            if len(data) > limit:
                return None
    return bytes(data)


class BlobsMixin:
    """The blob calls of RegistryClient, sent through its ``_request`` and ``_transport``,
    failing through its ``_fail``."""

    def blob_size(self, repo: str, digest: str) -> int | None:
        scopes = [repository_scope(repo, "pull")]
        response = self._request(
            "HEAD", f"/v2/{repo_path(repo, self.host)}/blobs/{ref_segment(digest, self.host)}", scopes=scopes, follow_redirects=True
        )
        if response.status == 404:
            return None
        if response.status != 200:
            raise self._fail(response, "HEAD", f"blob {repo}@{digest}", scopes)
        length = response.headers.get("Content-Length")
        return int(length) if length and length.isdigit() else None

    @contextlib.contextmanager
    def open_blob(self, repo: str, digest: str, chunk_size: int = 1 << 20,
                  size: int | None = None) -> Iterator[Iterator[bytes]]:
        """Stream a blob: ``with client.open_blob(repo, digest) as chunks: for chunk in chunks: ...``.

        Follows redirects to storage backends (without the registry's Authorization), resumes
        with a Range request when the connection drops mid-body, and raises DigestMismatch after
        the last chunk if the content does not hash to ``digest``. With ``size`` (the descriptor's),
        a body declared or sent longer than that is refused as soon as it is seen, not read to its end.
        """
        scopes = [repository_scope(repo, "pull")]
        algorithm = digest_algorithm(digest)
        state = {"response": None}
        response = self._request(
            "GET", f"/v2/{repo_path(repo, self.host)}/blobs/{ref_segment(digest, self.host)}", scopes=scopes, stream=True, follow_redirects=True
        )
        if response.status != 200:
            raise self._fail(response, "GET", f"blob {repo}@{digest}", scopes)
        state["response"] = response
        final_url = response.geturl() if hasattr(response, "geturl") else None
        try:
            yield self._blob_chunks(state, repo, digest, algorithm, chunk_size, final_url, scopes, size)
        finally:
            if state["response"] is not None:
                release_response(state["response"], drain=False)

    def _blob_chunks(self, state, repo, digest, algorithm, chunk_size, final_url, scopes, size) -> Iterator[bytes]:
        hasher = hashlib.new(algorithm)
        received = 0
        length = state["response"].headers.get("Content-Length")
        expected = int(length) if length and length.isdigit() else None
        if size is not None and expected is not None and expected > size:
            raise self._overlong(repo, digest, size, f"declares {expected} bytes")
        path = f"/v2/{repo_path(repo, self.host)}/blobs/{ref_segment(digest, self.host)}"
        resumes = 0
        skip = 0
        while True:
            response = state["response"]
            try:
                for chunk in response.stream(chunk_size, decode_content=False):
                    if skip:
                        if len(chunk) <= skip:
                            skip -= len(chunk)
                            continue
                        chunk = chunk[skip:]
                        skip = 0
                    hasher.update(chunk)
                    received += len(chunk)
                    if size is not None and received > size:
                        raise self._overlong(repo, digest, size, f"sent more than {size} bytes")
                    yield chunk
                if expected is None or received >= expected:
                    break
                cause = f"connection dropped after {received} of {expected} bytes"
            except Urllib3Error as exc:
                cause = f"connection dropped after {received} bytes: {type(exc).__name__}"
            except OSError as exc:
                cause = f"connection dropped after {received} bytes: {exc}"
            release_response(response, drain=False)
            state["response"] = None
            resumes += 1
            self._transport.wait_or_raise(resumes, TransientError(cause), "GET", self._transport.url(path))
            response = self._request(
                "GET", path, scopes=scopes, stream=True, follow_redirects=True,
                headers={"Range": f"bytes={received}-"},
            )
            state["response"] = response
            if response.status == 206:
                skip = 0
                content_range = response.headers.get("Content-Range", "")
                match = re.match(r"bytes (\d+)-", content_range)
                if match and int(match.group(1)) != received:
                    skip = received - int(match.group(1))
                    if skip < 0:
                        raise RegistryError(f"blob {repo}@{digest} on {self.host}: bad Content-Range on resume")
            elif response.status == 200:
                skip = received  # the server ignored Range: skip what we already have
            else:
                raise self._fail(response, "GET", f"blob {repo}@{digest}", scopes)
        actual = f"{algorithm}:{hasher.hexdigest()}"
        if actual != digest:
            raise DigestMismatch(
                f"blob {self.host}/{repo}@{digest}: received {received} bytes that hash to {actual}; "
                "the registry or a proxy served other content"
            )

    def _overlong(self, repo: str, digest: str, size: int, what: str) -> DigestMismatch:
        return DigestMismatch(
            f"blob {self.host}/{repo}@{digest}: the registry {what} for a blob of {size} bytes (its descriptor's "
            "size); refusing to read on: the registry or a proxy serves other content"
        )

    def mount_blob(self, repo: str, digest: str, from_repo: str, size: int | None = None) -> bool:
        """Cross-repository mount; True if mounted (201), False if the registry declined (202).

        A 201 whose ``Docker-Content-Digest`` names ``digest`` is the registry's own word that
        the blob is there (docker-registry and the registries built on distribution send it);
        one naming another digest raises DigestMismatch. Without that header, and with ``size``
        (the descriptor's), a HEAD confirms the blob's size, else RegistryError.
        """
        scopes = [repository_scope(repo, "pull,push"), repository_scope(from_repo, "pull")]
        query = urlencode([("mount", digest), ("from", from_repo)])
        response = self._request(
            "POST", f"/v2/{repo_path(repo, self.host)}/blobs/uploads/?{query}", scopes=scopes, body=b"",
            headers={"Content-Length": "0"},
        )
        if response.status == 201:
            returned = response.headers.get("Docker-Content-Digest")
            if returned and returned != digest:
                raise DigestMismatch(
                    f"blob {digest} mounted from {from_repo} into {self.host}/{repo}: the registry answered "
                    f"that it mounted {returned}; the registry or a proxy is not serving this blob: run again, and if it "
                    "persists check the registry and any proxy in front of it"
                )
            if not returned and size is not None:
                found = self.blob_size(repo, digest)
                if found != size:
                    raise RegistryError(
                        f"blob {digest} was mounted from {from_repo} into {self.host}/{repo} but a HEAD there "
                        f"answers size {found}, not {size}; the registry did not keep the blob it said it mounted"
                    )
            return True
        if response.status == 202:
            self._cancel(response.headers.get("Location"), response.url, scopes)
            return False
        raise self._fail(response, "POST", f"mount of blob {digest} from {from_repo} into {repo}", scopes)

    def _start_upload(self, repo: str, scopes) -> str:
        response = self._request(
            "POST", f"/v2/{repo_path(repo, self.host)}/blobs/uploads/", scopes=scopes, body=b"", headers={"Content-Length": "0"}
        )
        if response.status != 202:
            raise self._fail(response, "POST", f"blob upload to {repo}", scopes)
        location = response.headers.get("Location")
        if not location:
            raise RegistryError(f"registry {self.host} started an upload to {repo} without a Location header")
        return self._location(response.url, location)

    def _cancel(self, location: str | None, base: str, scopes) -> None:
        """Best-effort DELETE of an upload session, so nothing is left half-written."""
        if not location:
            return
        url = self._location(base, location)
        try:
            response = self._request("DELETE", url, scopes=scopes, replayable=False)
            if not isinstance(response, Response):
                release_response(response)
        except Exception as exc:  # noqa: BLE001 - cleanup must not hide the real error
            log.debug("cancelling upload on %s failed: %s", self.host, self._secrets.redact(str(exc)))

    def upload_blob(
        self,
        repo: str,
        digest: str,
        size: int,
        source: Callable[[], ContextManager[Iterable[bytes]]],
        chunk_size: int = SMALL_BLOB,
        verified: bool = False,
    ) -> int:
        """Upload a blob from ``source()`` (called again for each attempt); returns bytes sent.

        A POST opens an upload session and one PUT ``?digest=`` (Content-Length ``size``)
        carries the body and commits it. Blobs up to ``chunk_size`` are read into memory and
        checked before the PUT; larger ones are streamed, one chunk held back: the last one is
        sent only once the content is verified. If the content does not hash to ``digest`` or
        has another size, the PUT's body is never completed (its connection is closed), the
        session is deleted and DigestMismatch raised: nothing is committed.

        ``verified=True`` says the source checks the digest itself and raises on the ``next()``
        after its last chunk (as ``open_blob`` does), so the content is not hashed a second
        time here; that DigestMismatch aborts the PUT before its last chunk is sent.
        """
        scopes = [repository_scope(repo, "pull,push")]
        algorithm = digest_algorithm(digest)
        attempt = 0
        while True:
            location = None
            try:
                location = self._start_upload(repo, scopes)
                hasher = None if verified else hashlib.new(algorithm)
                if size <= chunk_size:
                    sent = self._upload_small(location, repo, digest, size, source, hasher, scopes)
                else:
                    sent = self._upload_stream(location, repo, digest, size, source, hasher, scopes)
                location = None
                return sent
            except TransientError as transient:
                self._cancel(location, self._transport.base(), scopes)
                attempt += 1
                self._transport.wait_or_raise(attempt, transient, "upload of blob", f"{self._transport.base()}/v2/{repo}/blobs/{digest}")
            except BaseException:
                self._cancel(location, self._transport.base(), scopes)
                raise

    @staticmethod
    def _commit_url(location: str, digest: str) -> str:
        """The URL of the PUT that commits an upload session as ``digest``."""
        return location + ("&" if "?" in location else "?") + urlencode([("digest", digest)])

    def _check_content(self, repo: str, digest: str, size: int, hasher, count: int) -> None:
        """DigestMismatch unless the ``count`` bytes read hash to ``digest`` (``hasher`` None: a
        verifying source checked it) and are ``size``."""
        actual = f"{hasher.name}:{hasher.hexdigest()}" if hasher is not None else digest
        if actual != digest or count != size:
            raise self._mismatch(repo, digest, size, actual, count)

    def _mismatch(self, repo: str, digest: str, size: int, actual: str, count: int) -> DigestMismatch:
        # a verifying source (actual == digest here) raised nothing, so only the size is wrong
        hashing = f" hashing to {actual}" if actual != digest else ""
        return DigestMismatch(
            f"blob {digest} for {self.host}/{repo}: the source gave {count} bytes{hashing} "
            f"(expected {size} bytes); nothing was committed: the source is corrupt or changed"
        )

    def _upload_small(self, location, repo, digest, size, source, hasher, scopes) -> int:
        data = bytearray()
        count = 0
        with source() as chunks:
            for chunk in chunks:
                if hasher is not None:
                    hasher.update(chunk)
                count += len(chunk)
                if count <= size:
                    data += chunk
        self._check_content(repo, digest, size, hasher, count)
        response = self._request(
            "PUT", self._commit_url(location, digest), scopes=scopes, body=bytes(data), replayable=False,
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(len(data))},
        )
        self._check_committed(response, repo, digest, scopes)
        return len(data)

    def _upload_stream(self, location, repo, digest, size, source, hasher, scopes) -> int:
        generator = self._withheld_body(repo, digest, size, source, hasher)
        try:
            # urllib3 closes the connection of a request whose body generator raises (the
            # registry sees a body cut short and commits nothing) and lets the error through.
            response = self._request(
                "PUT", self._commit_url(location, digest), scopes=scopes, body=generator, replayable=False,
                headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
            )
        finally:
            generator.close()
        self._check_committed(response, repo, digest, scopes)
        return size

    def _withheld_body(self, repo, digest, size, source, hasher) -> Iterator[bytes]:
        """The body of a streamed PUT: the source's chunks, each one sent only once the next
        has been read, the last only once the content is verified (by ``hasher`` here, or by a
        verifying source whose ``next()`` after its last chunk raises). A source that passes
        ``size`` bytes raises at once; one that ends short raises before the last chunk: the
        registry never receives a complete body for content that is not ``digest``."""
        count = 0
        held = None
        for chunk in self._read_source(source, repo, digest):
            if not chunk:
                continue
            if not isinstance(chunk, bytes):
                chunk = bytes(chunk)  # a source may reuse its buffer; this one is held
            count += len(chunk)
            if count > size:
                raise DigestMismatch(
                    f"blob {digest} for {self.host}/{repo}: the source gave more than its {size} bytes; "
                    "nothing was committed: the source is corrupt or changed"
                )
            if hasher is not None:
                hasher.update(chunk)
            if held is not None:
                yield held
            held = chunk
        self._check_content(repo, digest, size, hasher, count)
        if held is not None:
            yield held

    def _read_source(self, source, repo, digest) -> Iterator[bytes]:
        """The chunks of ``source()``. A source read inside the PUT (the archive's files,
        catalog_build's own layer) that fails with an OSError would reach urllib3 as a failure of
        the connection, and be retried as a registry that dropped it: it becomes a RegistryError
        that names the source instead, and is not retried."""
        try:
            with source() as chunks:
                yield from chunks
        except OSError as exc:
            raise RegistryError(
                f"reading the content of blob {digest} to upload to {self.host}/{repo} failed: "
                f"{type(exc).__name__}: {exc}; nothing was committed: check the source (its disk or file)"
            ) from exc

    def _check_committed(self, response, repo, digest, scopes) -> None:
        if response.status not in (201, 204):
            if response.status == 400 and error_code(response.data) in ("DIGEST_INVALID", "SIZE_INVALID"):
                raise DigestMismatch(self._secrets.redact(
                    f"blob {digest} for {self.host}/{repo}: the registry rejected the content"
                    f"{error_text(response.data, prefix=': ')}"
                ))
            raise self._fail(response, "PUT", f"blob upload of {digest} to {repo}", scopes)
        returned = response.headers.get("Docker-Content-Digest")
        if returned and returned != digest:
            raise DigestMismatch(f"blob {self.host}/{repo}: uploaded {digest} but the registry stored {returned}")
