# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""RegistryClient against real distribution registries (plain, TLS + htpasswd, token auth), with
skopeo as the independent reader and the fault proxy for retries."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
import time
import traceback
import uuid

import pytest
import urllib3

from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import AuthStore, Credentials, RegistryConfig
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import (
    AuthError,
    DigestMismatch,
    NotFound,
    RegistryError,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.manifest import (
    MEDIA_DOCKER_LIST,
    MEDIA_DOCKER_MANIFEST,
    MEDIA_OCI_INDEX,
    MEDIA_OCI_MANIFEST,
    parse_manifest,
    sha256_digest,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.client import RegistryClient
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.pool import RegistryPool
from tests.support.faultproxy import drop_request_after, drop_response_after, request_kind, status, strip_headers

# Small chunk size so that "large" (streamed PUT) uploads stay cheap in tests.
CHUNK = 64 * 1024


def repo_name(prefix: str = "it") -> str:
    return f"{prefix}/{uuid.uuid4().hex[:10]}"


def source_of(data: bytes, piece: int = 16 * 1024):
    """A blob source factory; counts how often it was opened."""
    calls = []

    @contextlib.contextmanager
    def factory():
        calls.append(1)
        yield (data[i:i + piece] for i in range(0, len(data), piece))

    factory.calls = calls
    return factory


def wait_for(condition, seconds: float = 10.0) -> bool:
    """Whether ``condition()`` held within ``seconds``: the proxy handles a request the client
    gave up on in its own thread, maybe after the client has moved on."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def client_for(endpoint, **kw) -> RegistryClient:
    creds = Credentials(endpoint.username, endpoint.password) if endpoint.auth else None
    kw.setdefault("backoff", 0.01)
    if endpoint.tls:
        return RegistryClient(endpoint.host, credentials=creds, ca_path=endpoint.ca_path, **kw)
    return RegistryClient(endpoint.host, credentials=creds, tls_verify=False, **kw)


def push_image(client: RegistryClient, repo: str, tag: str = "v1", layer_size: int = 200_000,
               media_type: str = MEDIA_OCI_MANIFEST, arch: str = "amd64"):
    """Upload a config and one layer (streamed when larger than CHUNK) and a manifest."""
    config = json.dumps({"architecture": arch, "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    layer = os.urandom(layer_size)
    docker = media_type == MEDIA_DOCKER_MANIFEST
    for blob in (config, layer):
        sent = client.upload_blob(repo, sha256_digest(blob), len(blob), source_of(blob), chunk_size=CHUNK)
        assert sent == len(blob)
    doc = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json" if docker
                   else "application/vnd.oci.image.config.v1+json",
                   "digest": sha256_digest(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip" if docker
                    else "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": sha256_digest(layer), "size": len(layer)}],
    }
    manifest = parse_manifest(json.dumps(doc, indent=2).encode(), media_type)
    assert client.put_manifest(repo, tag, manifest) == manifest.digest
    return manifest, config, layer


def read_blob(client, repo, digest) -> bytes:
    with client.open_blob(repo, digest) as chunks:
        return b"".join(chunks)


def no_secret(exc: BaseException, *secrets: str) -> None:
    texts = [str(exc), repr(exc), "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))]
    for text in texts:
        for secret in secrets:
            assert secret not in text


# -- plain registry ------------------------------------------------------------------------------
@pytest.mark.parametrize("media_type", [MEDIA_OCI_MANIFEST, MEDIA_DOCKER_MANIFEST])
def test_push_and_read_back(plain_registry, skopeo_inspect, media_type):
    client = client_for(plain_registry)  # tls_verify false: falls back to plain http
    repo = repo_name()
    client.ping()
    manifest, config, layer = push_image(client, repo, media_type=media_type)

    got = client.get_manifest(repo, "v1")
    assert got.raw == manifest.raw and got.digest == manifest.digest and got.media_type == media_type
    assert client.get_manifest(repo, manifest.digest).raw == manifest.raw
    head = client.head_manifest(repo, "v1")
    assert (head.digest, head.size, head.media_type) == (manifest.digest, len(manifest.raw), media_type)
    assert client.head_manifest(repo, "nope") is None
    assert client.blob_size(repo, sha256_digest(layer)) == len(layer)
    assert client.blob_size(repo, "sha256:" + "0" * 64) is None
    assert read_blob(client, repo, sha256_digest(layer)) == layer
    assert client.list_tags(repo) == ["v1"]
    with pytest.raises(NotFound):
        client.get_manifest(repo, "missing")
    with pytest.raises(NotFound):
        client.list_tags(repo_name("absent"))

    # skopeo, an independent client, reads the same bytes and digest
    ref = f"{repo}:v1"
    assert skopeo_inspect(plain_registry, ref, raw=True) == manifest.raw
    assert skopeo_inspect(plain_registry, ref)["Digest"] == manifest.digest
    assert skopeo_inspect(plain_registry, ref, raw=True, config=True) == config
    client.close()


def test_index_tags_pagination_and_delete(plain_registry, skopeo_inspect):
    client = client_for(plain_registry)
    repo = repo_name()
    children = [push_image(client, repo, tag=arch, layer_size=1000, arch=arch)[0] for arch in ("amd64", "arm64")]
    for media_type in (MEDIA_OCI_INDEX, MEDIA_DOCKER_LIST):
        index = parse_manifest(json.dumps({
            "schemaVersion": 2, "mediaType": media_type,
            "manifests": [{"mediaType": c.media_type, "digest": c.digest, "size": len(c.raw),
                           "platform": {"os": "linux", "architecture": arch}}
                          for c, arch in zip(children, ("amd64", "arm64"))],
        }).encode(), None)
        client.put_manifest(repo, "multi", index)
        got = client.get_manifest(repo, "multi")
        assert got.is_index and got.media_type == media_type and got.digest == index.digest
        assert [c.platform_string for c in got.children] == ["linux/amd64", "linux/arm64"]
        assert skopeo_inspect(plain_registry, f"{repo}:multi", raw=True) == index.raw
    for i in range(5):
        client.put_manifest(repo, f"t{i}", children[0])
    tags = client.list_tags(repo)
    assert sorted(tags) == sorted(["amd64", "arm64", "multi"] + [f"t{i}" for i in range(5)])

    client.delete_manifest(repo, children[1].digest)
    assert client.head_manifest(repo, children[1].digest) is None
    with pytest.raises(NotFound):
        client.delete_manifest(repo, children[1].digest)


def test_cross_repo_mount(plain_registry):
    client = client_for(plain_registry)
    src, dst = repo_name("src"), repo_name("dst")
    dummy, dummy, layer = push_image(client, src, layer_size=5000)
    digest = sha256_digest(layer)
    assert client.mount_blob(dst, digest, src) is True
    assert client.blob_size(dst, digest) == len(layer)
    # a blob the source repository does not have: the registry starts an upload instead (202);
    # that session is cancelled and nothing appears
    absent = sha256_digest(b"never uploaded " + uuid.uuid4().bytes)
    assert client.mount_blob(dst, absent, src) is False
    assert client.blob_size(dst, absent) is None


def test_mount_is_confirmed_by_the_digest_header_or_else_a_head(plain_registry, fault_proxy_factory):
    proxy = fault_proxy_factory(plain_registry)
    client = client_for(proxy)
    src = repo_name("msrc")
    dummy, dummy, layer = push_image(client, src, layer_size=5000)
    digest, size = sha256_digest(layer), len(layer)
    mount = "/blobs/uploads/\\?mount="

    def seen():
        return [(method, request_kind(path), code) for method, path, code in proxy.log]

    # docker-registry's 201 names the digest mounted: that is the confirmation, no HEAD
    proxy.reset()
    assert client.mount_blob(repo_name("mdst"), digest, src, size=size) is True
    assert seen() == [("POST", "upload", 201)]
    # a 201 without the header: a HEAD of the blob's size confirms it
    proxy.reset()
    proxy.add_rule(strip_headers("Docker-Content-Digest"), method="POST", path=mount)
    dst = repo_name("mdst")
    assert client.mount_blob(dst, digest, src, size=size) is True
    assert seen() == [("POST", "upload", 201), ("HEAD", "blob", 200)]
    # ... and refutes a size the blob does not have
    proxy.add_rule(strip_headers("Docker-Content-Digest"), method="POST", path=mount)
    other = repo_name("mdst")
    with pytest.raises(RegistryError) as info:
        client.mount_blob(other, digest, src, size=size + 1)
    text = str(info.value)
    assert all(word in text for word in (other, digest, src, f"size {size},", f"not {size + 1}")), text


def test_https_client_against_plain_http_says_what_to_do(plain_registry):
    client = RegistryClient(plain_registry.host, retries=0)
    with pytest.raises(RegistryError) as info:
        client.ping()
    assert plain_registry.host in str(info.value) and "tls_verify" in str(info.value)


def test_digest_mismatch_commits_nothing(plain_registry, fault_proxy_factory):
    proxy = fault_proxy_factory(plain_registry)
    client = client_for(proxy)
    repo = repo_name()
    for size in (1000, 3 * CHUNK + 17):  # read into memory, then streamed
        good = os.urandom(size)
        bad = good[:-1] + bytes([good[-1] ^ 1])
        for wrong in (bad, good[:-10], good + b"extra"):
            with pytest.raises(DigestMismatch) as info:
                client.upload_blob(repo, sha256_digest(good), size, source_of(wrong), chunk_size=CHUNK)
            assert sha256_digest(good) in str(info.value)
            assert client.blob_size(repo, sha256_digest(good)) is None
            assert client.blob_size(repo, sha256_digest(wrong)) is None
    # every session was deleted and no upload was committed with a digest: the three streamed
    # PUTs were started (their body travels in them now) and none was finished
    assert not proxy.uploaded_by_digest
    assert proxy.count("DELETE", "upload") == 6
    assert wait_for(lambda: proxy.count("PUT", "upload") == 3)
    assert [entry for entry in proxy.log if entry[0] == "PUT"] == []


# -- TLS + htpasswd ------------------------------------------------------------------------------
def test_tls_and_basic_auth(tls_registry, skopeo_inspect):
    client = client_for(tls_registry)
    repo = repo_name()
    manifest, dummy, layer = push_image(client, repo)
    assert client.get_manifest(repo, "v1").digest == manifest.digest
    assert skopeo_inspect(tls_registry, f"{repo}:v1", raw=True) == manifest.raw
    # a directory of .crt files works as ca_path too (podman's certs.d layout)
    by_dir = RegistryClient(tls_registry.host, Credentials(tls_registry.username, tls_registry.password),
                            ca_path=tls_registry.cert_dir)
    assert read_blob(by_dir, repo, sha256_digest(layer)) == layer
    # verification off: https without verification
    insecure = RegistryClient(tls_registry.host, Credentials(tls_registry.username, tls_registry.password),
                              tls_verify=False)
    assert insecure.head_manifest(repo, "v1").digest == manifest.digest


def registry_blob(endpoint, repo: str, digest: str) -> bytes | None:
    """The blob as the registry itself serves it (urllib3, not the client under test); None if 404."""
    http = urllib3.PoolManager(ca_certs=endpoint.ca_path, cert_reqs="CERT_REQUIRED", retries=False)
    headers = urllib3.make_headers(basic_auth=f"{endpoint.username}:{endpoint.password}")
    response = http.request("GET", f"{endpoint.url}/v2/{repo}/blobs/{digest}", headers=headers)
    assert response.status in (200, 404), response.status
    return response.data if response.status == 200 else None


def test_streamed_upload_is_one_put_whose_tail_waits_for_the_check(tls_registry, fault_proxy_factory):
    proxy = fault_proxy_factory(tls_registry)
    # one connection: a half-sent PUT put back in the pool would take the next request with it
    client = client_for(proxy, pool_size=1, retries=0, timeout=10)
    repo = repo_name("stream")
    size = 4 * CHUNK + 123  # 16 KiB pieces: the last one is 123 bytes
    blob = os.urandom(size)
    client.ping()
    proxy.reset()
    assert client.upload_blob(repo, sha256_digest(blob), size, source_of(blob), chunk_size=CHUNK) == size
    assert [(method, code) for method, path, code in proxy.log] == [("POST", 202), ("PUT", 201)]
    assert dict(proxy.uploaded_by_digest) == {sha256_digest(blob): size}
    assert registry_blob(tls_registry, repo, sha256_digest(blob)) == blob

    good = os.urandom(size)
    digest = sha256_digest(good)

    def verified(data):
        """A source that checks its digest itself, as open_blob does: it raises on the next()
        after its last chunk."""
        calls = []

        def chunks():
            yield from (data[i:i + 16 * 1024] for i in range(0, len(data), 16 * 1024))
            raise DigestMismatch("the source's own check failed")

        @contextlib.contextmanager
        def factory():
            calls.append(1)
            yield chunks()

        factory.calls = calls
        return factory

    cases = [
        ("last byte corrupt", source_of(good[:-1] + bytes([good[-1] ^ 1])), False),
        ("checked by the source", verified(good[:-1] + bytes([good[-1] ^ 1])), True),
        ("short", source_of(good[:-10]), False),
        ("long", source_of(good + b"extra"), False),
    ]
    for name, source, checked in cases:
        proxy.reset()
        with pytest.raises(DigestMismatch):
            client.upload_blob(repo, digest, size, source, chunk_size=CHUNK, verified=checked)
        assert len(source.calls) == 1, name  # not retried
        # the PUT was started and its body never completed: the registry saw no whole body
        assert wait_for(lambda: proxy.count("PUT", "upload") == 1), name
        assert proxy.upload_bytes <= size - 123, (name, proxy.upload_bytes)
        assert [entry for entry in proxy.log if entry[0] == "PUT"] == [], name
        assert not proxy.uploaded_by_digest, name
        assert client.blob_size(repo, digest) is None, name  # the next request has a sound connection
        assert registry_blob(tls_registry, repo, digest) is None, name


def test_a_source_that_fails_to_read_is_not_taken_for_the_registry(tls_registry, fault_proxy_factory):
    """An OSError of the source (a disk error under the archive's files) inside the streamed PUT
    would reach urllib3 as a dropped connection and be retried as the registry's fault."""
    proxy = fault_proxy_factory(tls_registry)
    client = client_for(proxy, pool_size=1, retries=3, timeout=10)
    repo = repo_name("eio")
    blob = os.urandom(4 * CHUNK)
    calls = []

    @contextlib.contextmanager
    def failing():
        calls.append(1)

        def chunks():
            yield blob[:CHUNK]
            raise OSError(5, "Input/output error")

        yield chunks()

    with pytest.raises(RegistryError) as info:
        client.upload_blob(repo, sha256_digest(blob), len(blob), failing, chunk_size=CHUNK)
    text = str(info.value)
    assert "reading the content of blob" in text and "Input/output error" in text, text
    assert "check the source" in text and "reachable" not in text, text
    assert calls == [1]  # not retried as a registry failure
    assert client.blob_size(repo, sha256_digest(blob)) is None


def test_tls_unknown_ca(tls_registry):
    client = RegistryClient(tls_registry.host, Credentials(tls_registry.username, tls_registry.password), retries=0)
    with pytest.raises(RegistryError) as info:
        client.ping()
    text = str(info.value)
    assert f"TLS verification of {tls_registry.host} failed" in text
    assert "ca_path" in text and "tls_verify: false for this registry only" in text
    # the right CA but a name the certificate does not carry ("127.1" reaches 127.0.0.1)
    port = tls_registry.host.rsplit(":", 1)[1]
    other_name = RegistryClient(f"127.1:{port}", ca_path=tls_registry.ca_path, retries=0)
    with pytest.raises(RegistryError, match="TLS verification of 127.1:.* failed"):
        other_name.ping()


def test_wrong_password_never_leaks(tls_registry, caplog):
    secret = "Wr0ng-" + uuid.uuid4().hex
    retries = []
    client = RegistryClient(tls_registry.host, Credentials(tls_registry.username, secret),
                            ca_path=tls_registry.ca_path, on_retry=retries.append)
    caplog.set_level(logging.DEBUG)
    for call in (client.ping, lambda: client.get_manifest("x/y", "v1"),
                 lambda: client.upload_blob("x/y", sha256_digest(b"a"), 1, source_of(b"a"))):
        with pytest.raises(AuthError) as info:
            call()
        assert f"registry {tls_registry.host} refused the credentials of user '{tls_registry.username}'" in str(info.value)
        no_secret(info.value, secret, Credentials("u", secret).basic_header()[6:],
                  Credentials(tls_registry.username, secret).basic_header()[6:])
    assert secret not in repr(client) and secret not in caplog.text and not retries
    anonymous = RegistryClient(tls_registry.host, ca_path=tls_registry.ca_path)
    with pytest.raises(AuthError, match="requires credentials"):
        anonymous.get_manifest("x/y", "v1")


def test_pool_from_auth_store(tls_registry, tmp_path):
    auth_file = tls_registry.write_auth_file(str(tmp_path / "auth.json"))
    store = AuthStore(auth_file=auth_file, registries=[RegistryConfig(tls_registry.host, ca_path=tls_registry.ca_path)],
                      env={"HOME": str(tmp_path)})
    pool = RegistryPool(store, retries=1)
    client = pool.client(tls_registry.host)
    assert pool.client(tls_registry.host) is client
    repo = repo_name()
    manifest, dummy, dummy = push_image(client, repo, layer_size=100)
    assert client.head_manifest(repo, "v1").digest == manifest.digest
    pool.close()


def test_threads_share_a_small_pool(tls_registry):
    client = client_for(tls_registry, pool_size=2)
    repo = repo_name()
    blobs = [os.urandom(20_000 + i) for i in range(12)]
    errors = []

    def work(part):
        try:
            for blob in part:
                client.upload_blob(repo, sha256_digest(blob), len(blob), source_of(blob), chunk_size=CHUNK)
                assert read_blob(client, repo, sha256_digest(blob)) == blob
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(blobs[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    assert all(client.blob_size(repo, sha256_digest(b)) == len(b) for b in blobs)


# -- token auth ----------------------------------------------------------------------------------
def test_token_flow_scopes_and_cache(token_registry, skopeo_inspect):
    server = token_registry.token_server
    client = client_for(token_registry)
    src, dst = repo_name("tsrc"), repo_name("tdst")
    client.ping()
    manifest, dummy, layer = push_image(client, src)
    pushed = [c for c in server.issued if any(a["name"] == src for a in c["access"])]
    assert any(sorted(a["actions"]) == ["pull", "push"] for c in pushed for a in c["access"] if a["name"] == src)

    before = server.requests
    for dummy in range(5):
        assert client.blob_size(src, sha256_digest(layer)) == len(layer)
        assert client.get_manifest(src, "v1").digest == manifest.digest
    assert server.requests == before  # the pull+push token serves pulls until it expires

    assert client.mount_blob(dst, sha256_digest(layer), src) is True
    mount = server.issued[-1]["access"]
    assert {"type": "repository", "name": src, "actions": ["pull"]} in mount
    assert any(a["name"] == dst and sorted(a["actions"]) == ["pull", "push"] for a in mount)
    assert skopeo_inspect(token_registry, f"{src}:v1", raw=True) == manifest.raw

    # an expired token is refreshed once on a 401
    tokens = client._authenticator
    with tokens._lock:
        tokens._tokens = {k: ("expired-or-bogus", v[1]) for k, v in tokens._tokens.items()}
    assert client.get_manifest(src, "v1").digest == manifest.digest


def test_token_denied_and_refused(token_registry):
    server = token_registry.token_server
    repo = repo_name("denied")
    server.deny.add((token_registry.username, repo))
    try:
        client = client_for(token_registry)
        with pytest.raises(AuthError) as info:
            client.upload_blob(repo, sha256_digest(b"x"), 1, source_of(b"x"))
        assert "denied" in str(info.value) and repo in str(info.value) and "push" in str(info.value)
    finally:
        server.deny.discard((token_registry.username, repo))
    secret = "bad-" + uuid.uuid4().hex
    bad = RegistryClient(token_registry.host, Credentials(token_registry.username, secret),
                         ca_path=token_registry.ca_path)
    with pytest.raises(AuthError) as info:
        bad.get_manifest(repo, "v1")
    assert f"refused the credentials of user '{token_registry.username}'" in str(info.value)
    no_secret(info.value, secret)


# -- faults and retries --------------------------------------------------------------------------
def test_retries_on_500_and_429(plain_registry, fault_proxy_factory):
    proxy = fault_proxy_factory(plain_registry)
    retries = []
    client = client_for(proxy, on_retry=retries.append)
    repo = repo_name()
    manifest, dummy, layer = push_image(client, repo, layer_size=1000)

    proxy.add_rule(status(500), method="HEAD", path="/blobs/")
    assert client.blob_size(repo, sha256_digest(layer)) == len(layer)
    assert len(retries) == 1 and "500" in retries[0] and "HEAD" in retries[0]

    proxy.add_rule(status(429, {"Retry-After": "1"}), method="GET", path="/manifests/", count=1)
    start = time.monotonic()
    assert client.get_manifest(repo, "v1").digest == manifest.digest
    assert time.monotonic() - start >= 0.9
    assert "429" in retries[-1] and len(retries) == 2

    proxy.add_rule(status(503), method="GET", path="/manifests/", count=None)
    few = client_for(proxy, retries=2)
    with pytest.raises(RegistryError) as info:
        few.get_manifest(repo, "v1")
    text = str(info.value)
    assert proxy.host in text and "GET" in text and f"/v2/{repo}/manifests/v1" in text and "503" in text


@pytest.mark.parametrize("size", [CHUNK // 2, 4 * CHUNK])
def test_dropped_upload_restarts_the_whole_blob(plain_registry, fault_proxy_factory, size):
    proxy = fault_proxy_factory(plain_registry)
    retries = []
    client = client_for(proxy, on_retry=retries.append)
    repo = repo_name()
    blob = os.urandom(size)
    digest = sha256_digest(blob)
    proxy.add_rule(drop_request_after(size // 3), method="PUT", path="/blobs/uploads/")  # small or streamed
    source = source_of(blob)
    assert client.upload_blob(repo, digest, size, source, chunk_size=CHUNK) == size
    assert len(source.calls) == 2 and len(retries) == 1
    assert proxy.count("POST", "upload") == 2  # a new session for the second attempt
    assert proxy.count("PATCH") == 0
    assert read_blob(client, repo, digest) == blob

    # a 500 on the final PUT also restarts from scratch
    proxy.reset()
    retries.clear()
    blob2 = os.urandom(size)
    proxy.add_rule(status(500), method="PUT", path="/blobs/uploads/")
    source2 = source_of(blob2)
    assert client.upload_blob(repo, sha256_digest(blob2), size, source2, chunk_size=CHUNK) == size
    assert len(source2.calls) == 2 and len(retries) == 1
    assert read_blob(client, repo, sha256_digest(blob2)) == blob2


def test_tag_list_follows_link_pagination(plain_registry, fault_proxy_factory):
    # distribution 2.8 does not paginate tags/list; the proxy serves a first page with a Link
    # header whose next page is the real registry's answer.
    proxy = fault_proxy_factory(plain_registry)
    client = client_for(proxy)
    repo = repo_name()
    manifest, dummy, dummy = push_image(client, repo, layer_size=10)
    client.put_manifest(repo, "v2", manifest)
    first_page = json.dumps({"name": repo, "tags": ["page1-a", "page1-b"]})
    proxy.add_rule(status(200, {"Content-Type": "application/json",
                                "Link": f'</v2/{repo}/tags/list?last=page1-b&n=2>; rel="next"'}, first_page),
                   method="GET", path="/tags/list$")
    assert client.list_tags(repo) == ["page1-a", "page1-b", "v1", "v2"]
    assert [e[1] for e in proxy.log if "/tags/list" in e[1]] == [
        f"/v2/{repo}/tags/list", f"/v2/{repo}/tags/list?last=page1-b&n=2"]


def test_dropped_download_resumes(plain_registry, fault_proxy_factory):
    proxy = fault_proxy_factory(plain_registry)
    retries = []
    client = client_for(proxy, on_retry=retries.append)
    repo = repo_name()
    blob = os.urandom(300_000)
    digest = sha256_digest(blob)
    client.upload_blob(repo, digest, len(blob), source_of(blob), chunk_size=CHUNK)
    proxy.add_rule(drop_response_after(100_000), method="GET", path="/blobs/sha256")
    assert read_blob(client, repo, digest) == blob
    assert len(retries) == 1
    ranged = [entry for entry in proxy.log if entry[0] == "GET" and "/blobs/sha256" in entry[1]]
    assert [code for dummy, dummy, code in ranged] == [200, 206]  # the first one cut after 100 kB


def test_proxy_environment_is_respected(plain_registry, monkeypatch):
    # a proxy on a port where nothing listens: used unless NO_PROXY names the registry
    from tests.support.registry import free_port

    dead = f"http://127.0.0.1:{free_port()}"
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", dead)
    monkeypatch.setenv("HTTPS_PROXY", dead)
    proxied = RegistryClient("http://" + plain_registry.host, retries=0)
    with pytest.raises(RegistryError, match="failed after 1 attempt"):
        proxied.ping()
    monkeypatch.setenv("NO_PROXY", "example.com,127.0.0.1")
    direct = RegistryClient("http://" + plain_registry.host, retries=0)
    direct.ping()


def test_unreachable_host_fails_once_then_at_once():
    """A registry nobody answers for: the first request waits out its retries, the next ones of
    the run fail at once (no second round of retries) with the same cause."""
    from tests.support.registry import free_port

    retries = []
    client = RegistryClient(f"127.0.0.1:{free_port()}", tls_verify=False, retries=3, backoff=0.01,
                            on_retry=retries.append)
    try:
        with pytest.raises(RegistryError) as first:
            client.blob_size("ns/repo", "sha256:" + "0" * 64)
        assert len(retries) == 3
        assert "failed after 4 attempt(s)" in str(first.value) and "reachable" in str(first.value)
        with pytest.raises(RegistryError) as second:
            client.get_manifest("ns/other", "v1")
        assert len(retries) == 3  # not tried again
        assert "not tried again in this run" in str(second.value)
        # the message says it is about the registry, not the request that found it down
        assert str(second.value).startswith(f"registry {client.host} is not tried again in this run: "
                                            "an earlier request found it unreachable (")
        assert "ns/repo" in str(second.value)  # the earlier request, named as the cause
    finally:
        client.close()


def test_a_dropped_connection_does_not_mark_the_host_unreachable(plain_registry, fault_proxy_factory):
    proxy = fault_proxy_factory(plain_registry)
    proxy.add_rule(drop_response_after(0), method="GET", path="/v2/", count=None)
    client = client_for(proxy, retries=1, backoff=0.01)
    try:
        with pytest.raises(RegistryError):
            client.list_tags("ns/none")
        proxy.reset()
        with pytest.raises(NotFound):  # the host answers again: a real answer, not "not tried again"
            client.list_tags("ns/none")
    finally:
        client.close()


def test_mutual_tls_registry_needs_the_client_certificate(registry_factory, tmp_path, skopeo_inspect):
    """A registry that requires client certificates (http.tls.clientcas): refused without one,
    served with the registries[] pair, and with podman's certs.d/<host>/client.cert convention."""
    from tests.support.registry import registry_options

    registry = registry_factory(tls=True, mtls=True)
    with_cert = RegistryPool(AuthStore(registries=registry_options(registry), env={}), backoff=0.01)
    without = RegistryPool(AuthStore(registries=[{"host": registry.host, "ca_path": registry.ca_path}], env={},
                                     certs_dirs=()), retries=0)
    certs_d = tmp_path / "certs.d"
    (certs_d / registry.host).mkdir(parents=True)
    for name in ("client.cert", "client.key"):
        (certs_d / registry.host / name).write_bytes(open(os.path.join(registry.cert_dir, name), "rb").read())
    from_certs_d = RegistryPool(AuthStore(registries=[{"host": registry.host, "ca_path": registry.ca_path}],
                                          env={}, certs_dirs=[str(certs_d)]))
    try:
        with pytest.raises(RegistryError) as refused:
            without.client(registry.host).list_tags("mtls/none")
        assert registry.host in str(refused.value) and "client_cert" in str(refused.value)
        data = b"served only to clients with a certificate"
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        client = with_cert.client(registry.host)
        client.upload_blob("mtls/repo", digest, len(data), lambda: contextlib.nullcontext([data]))
        assert client.blob_size("mtls/repo", digest) == len(data)
        assert from_certs_d.client(registry.host).blob_size("mtls/repo", digest) == len(data)
    finally:
        for pool in (with_cert, without, from_certs_d):
            pool.close()
