# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry client against a hostile registry (tests/support/hostile.py, on 127.0.0.1):
credentials never reach another host or travel in clear, bodies are read boundedly, digests
from manifests are validated before they become request paths (issue 7, items 1-4, 7, 9)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import time

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import AuthStore
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.manifest import (
    MEDIA_OCI_INDEX,
    MEDIA_OCI_MANIFEST,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.pool import RegistryPool
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import (
    AuthError,
    DigestMismatch,
    NotFound,
    RegistryError,
)
from tests.support.hostile import HostileServer, Reply, basic, endless
from tests.support.pki import CertificateAuthority, issue_client_cert

USER, PASSWORD = "mirror", "s3cret-Pa55w0rd"
BASIC = basic(USER, PASSWORD)
TOKEN = "tok-0123456789abcdef"
BLOB = b"hostile registry test blob\n"
BLOB_DIGEST = "sha256:" + hashlib.sha256(BLOB).hexdigest()
HUGE = 64 << 20


@pytest.fixture
def servers():
    started = []

    def start(handler=None, **kw) -> HostileServer:
        server = HostileServer(handler, **kw).start()
        started.append(server)
        return server

    yield start
    for server in reversed(started):
        server.stop()


def pool_for(tmp_path, *entries) -> RegistryPool:
    store = AuthStore(registries=list(entries), env={"HOME": str(tmp_path)}, certs_dirs=())
    return RegistryPool(store, retries=0, backoff=0.0)


def entry(server: HostileServer, **kw) -> dict:
    out = {"host": server.host, "username": USER, "password": PASSWORD}
    if server.tls:
        out["ca_path"] = server.ca_path
    else:
        out["tls_verify"] = False
    out.update(kw)
    return out


def basic_only(handler):
    """The registry's side: 401 with a Basic challenge unless the right Basic header came."""

    def serve(request):
        if request.authorization != BASIC:
            return Reply(401, {"WWW-Authenticate": 'Basic realm="hostile"', "Content-Type": "application/json"},
                         b'{"errors":[{"code":"UNAUTHORIZED"}]}')
        return handler(request)

    return serve


def fishing(request):
    """A foreign host that asks for credentials."""
    return Reply(401, {"WWW-Authenticate": 'Basic realm="phish"'}, b"")


def source():
    return contextlib.nullcontext([BLOB])


# -- item 1: credentials go only to the registry's own scheme, host and port --------------------


def test_upload_location_on_another_host_gets_no_credentials(servers, tmp_path):
    foreign = servers(fishing)
    registry = servers(basic_only(lambda r: Reply(202, {"Location": f"{foreign.url}/upload/1"})
                                  if r.method == "POST" else Reply(404)))
    client = pool_for(tmp_path, entry(registry)).client(registry.host)
    with pytest.raises(AuthError) as info:
        client.upload_blob("ns/app", BLOB_DIGEST, len(BLOB), source)
    assert foreign.received, "the upload went to the Location given"
    assert foreign.authorizations() == []
    text = str(info.value)
    assert registry.host in text and foreign.host in text
    assert PASSWORD not in text and BASIC.split()[1] not in text


def test_cancel_location_on_another_host_gets_no_credentials(servers, tmp_path):
    foreign = servers(fishing)
    registry = servers(basic_only(lambda r: Reply(202, {"Location": f"{foreign.url}/cancel/1"})))
    client = pool_for(tmp_path, entry(registry)).client(registry.host)
    assert client.mount_blob("ns/app", BLOB_DIGEST, "ns/base") is False
    assert foreign.authorizations() == []


def test_mount_answered_with_another_digest_is_refused(servers, tmp_path):
    other = "sha256:" + hashlib.sha256(b"something else").hexdigest()
    registry = servers(basic_only(lambda r: Reply(201, {"Docker-Content-Digest": other, "Location": "/v2/x"})
                                  if r.method == "POST" else Reply(404)))
    client = pool_for(tmp_path, entry(registry)).client(registry.host)
    with pytest.raises(DigestMismatch) as info:
        client.mount_blob("ns/app", BLOB_DIGEST, "ns/base", size=len(BLOB))
    assert BLOB_DIGEST in str(info.value) and other in str(info.value) and "ns/base" in str(info.value)
    # the answer was the refusal: no HEAD was asked to settle it
    assert [r.method for r in registry.received if r.authorization == BASIC] == ["POST"]


def test_link_on_another_host_gets_no_credentials(servers, tmp_path):
    foreign = servers(fishing)

    def tags(request):
        return Reply(200, {"Content-Type": "application/json",
                           "Link": f'<{foreign.url}/v2/ns/app/tags/list?last=a>; rel="next"'},
                     b'{"name":"ns/app","tags":["a"]}')

    registry = servers(basic_only(tags))
    client = pool_for(tmp_path, entry(registry)).client(registry.host)
    with pytest.raises(AuthError) as info:
        client.list_tags("ns/app")
    assert foreign.received and foreign.authorizations() == []
    assert registry.host in str(info.value)


def test_redirect_from_https_to_http_on_the_same_host_drops_credentials(servers, tmp_path):
    def serve(request):
        if not request.tls:  # the same host:port, reached in clear
            return Reply(200, {"Content-Type": "application/octet-stream"}, BLOB)
        if request.authorization != BASIC:
            return Reply(401, {"WWW-Authenticate": 'Basic realm="hostile"'}, b"")
        return Reply(307, {"Location": f"http://{registry.host}/storage/blob"}, b"")

    registry = servers(serve, tls=True)
    client = pool_for(tmp_path, entry(registry)).client(registry.host)
    with client.open_blob("ns/app", BLOB_DIGEST) as chunks:
        assert b"".join(chunks) == BLOB
    plain = [r for r in registry.received if not r.tls]
    assert [r.path for r in plain] == ["/storage/blob"]
    assert all(r.authorization is None for r in plain)


def test_plain_http_location_of_an_https_registry_is_upgraded(servers, tmp_path):
    """A registry behind a TLS-terminating proxy answers Location: http://its-own-host/...: the
    request goes to https on that host and port, with the credentials, never in clear."""

    def serve(request):
        if request.method == "POST":
            return Reply(202, {"Location": f"http://{registry.host}/v2/ns/app/blobs/uploads/u1"}, b"")
        if request.method == "PUT" and request.path.startswith("/v2/ns/app/blobs/uploads/u1?"):
            return Reply(201, {"Docker-Content-Digest": BLOB_DIGEST}, b"")
        return Reply(404)

    registry = servers(lambda r: basic_only(serve)(r) if r.tls else Reply(400), tls=True)
    client = pool_for(tmp_path, entry(registry)).client(registry.host)
    assert client.upload_blob("ns/app", BLOB_DIGEST, len(BLOB), source) == len(BLOB)
    assert all(r.tls for r in registry.received)
    assert [r.method for r in registry.received if r.authorization == BASIC] == ["POST", "PUT"]


# -- item 2: the token realm ---------------------------------------------------------------------


def test_token_realm_over_plain_http_is_refused(servers, tmp_path):
    foreign = servers(lambda r: Reply(200, {"Content-Type": "application/json"}, json.dumps({"token": TOKEN}).encode()))
    registry = servers(lambda r: Reply(401, {"WWW-Authenticate": f'Bearer realm="{foreign.url}/token",service="x"'}, b""),
                       tls=True)
    client = pool_for(tmp_path, entry(registry)).client(registry.host)
    with pytest.raises(AuthError) as info:
        client.get_manifest("ns/app", "v1")
    assert foreign.received == []
    text = str(info.value)
    assert registry.host in text and "http://" in text and "https" in text


# -- item 3: a foreign host gets its own TLS settings --------------------------------------------


def test_token_server_of_an_unverified_registry_is_verified(servers, tmp_path):
    realm = servers(lambda r: Reply(200, {"Content-Type": "application/json"}, json.dumps({"token": TOKEN}).encode()),
                    tls=True)  # its own CA, which nothing trusts
    registry = servers(lambda r: Reply(401, {"WWW-Authenticate": f'Bearer realm="{realm.url}/token"'}, b""),
                       tls=True)
    client = pool_for(tmp_path, entry(registry, tls_verify=False, ca_path=None)).client(registry.host)
    with pytest.raises(RegistryError) as info:
        client.get_manifest("ns/app", "v1")
    assert realm.received == []
    assert "TLS verification of " + realm.host in str(info.value)


def test_client_certificate_is_offered_to_its_registry_only(servers, tmp_path):
    ca = CertificateAuthority(str(tmp_path / "ca"))
    pair = issue_client_cert(ca, str(tmp_path / "client"))
    manifest = json.dumps({"schemaVersion": 2, "mediaType": MEDIA_OCI_MANIFEST,
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                      "digest": BLOB_DIGEST, "size": len(BLOB)}, "layers": []}).encode()

    def token(request):
        if request.authorization != BASIC:
            return Reply(401, {"WWW-Authenticate": 'Basic realm="token"'}, b"")
        return Reply(200, {"Content-Type": "application/json"}, json.dumps({"token": TOKEN}).encode())

    realm = servers(token, tls=True, ca=ca, request_client_cert=True)

    def serve(request):
        if request.authorization != "Bearer " + TOKEN:
            return Reply(401, {"WWW-Authenticate": f'Bearer realm="{realm.url}/token",service="hostile"'}, b"")
        return Reply(200, {"Content-Type": MEDIA_OCI_MANIFEST}, manifest)

    registry = servers(serve, tls=True, ca=ca, request_client_cert=True)
    client = pool_for(tmp_path, entry(registry, client_cert=pair.cert_path, client_key=pair.key_path)).client(registry.host)
    assert client.get_manifest("ns/app", "v1").raw == manifest
    assert registry.received and all(r.client_cert for r in registry.received)
    assert realm.received and not any(r.client_cert for r in realm.received)


# -- item 4: a plain-http fallback never sends Basic credentials silently -----------------------


def test_plain_http_fallback_warns_before_sending_basic(servers, tmp_path):
    registry = servers(basic_only(lambda r: Reply(200, {"Content-Type": "application/json"}, b"{}")))
    pool = pool_for(tmp_path, entry(registry))  # tls_verify: false, served over plain http
    pool.client(registry.host).ping()
    assert registry.authorizations() == [BASIC]
    warnings = [w for w in pool.auth.warnings if registry.host in w]
    assert warnings and "plain http" in warnings[0] and PASSWORD not in warnings[0]


def test_plain_http_fallback_without_credentials_does_not_warn(servers, tmp_path):
    registry = servers(lambda r: Reply(200, {"Content-Type": "application/json"}, b"{}"))
    pool = pool_for(tmp_path, {"host": registry.host, "tls_verify": False})
    pool.client(registry.host).ping()
    assert pool.auth.warnings == []


# -- item 7: bounded bodies ----------------------------------------------------------------------


def _huge(with_length: bool, status: int = 200, content_type: str = "application/json") -> Reply:
    headers = {"Content-Type": content_type}
    if with_length:
        headers["Content-Length"] = str(HUGE)
    return Reply(status, headers, endless(HUGE), content_length=False)


@pytest.mark.parametrize("with_length", [True, False], ids=["content-length", "until-close"])
@pytest.mark.parametrize("what", ["manifest", "tag list", "error body", "blob error body", "token"])
def test_huge_bodies_are_refused_boundedly(servers, tmp_path, what, with_length):
    if what == "token":
        realm = servers(lambda r: _huge(with_length), tls=True)
        registry = servers(lambda r: Reply(401, {"WWW-Authenticate": f'Bearer realm="{realm.url}/token"'}, b""),
                           tls=True, ca=realm.ca)
        sender = realm
    else:
        status = 404 if "error" in what else 200
        registry = servers(lambda r: _huge(with_length, status, MEDIA_OCI_MANIFEST if what == "manifest"
                                           else "application/json"))
        sender = registry
    client = pool_for(tmp_path, entry(registry)).client(registry.host)
    calls = {
        "manifest": lambda: client.get_manifest("ns/app", "v1"),
        "tag list": lambda: client.list_tags("ns/app"),
        "error body": lambda: client.get_manifest("ns/app", "v1"),
        "token": lambda: client.get_manifest("ns/app", "v1"),
    }
    if what == "blob error body":
        def call():
            with client.open_blob("ns/app", BLOB_DIGEST) as chunks:
                b"".join(chunks)
    else:
        call = calls[what]
    with pytest.raises(RegistryError) as info:
        call()
    text = str(info.value)
    assert registry.host in text
    if "error" in what:
        assert isinstance(info.value, NotFound)
    else:
        assert "bytes" in text
    # the client stopped reading early: what was sent fits in the socket buffers past the cap
    assert sender.bytes_sent < HUGE // 2


# -- item 9: digests from manifests ------------------------------------------------------------


EVIL = "sha256:../../../other/manifests/latest"


def test_digest_in_an_index_is_validated_before_it_becomes_a_path(servers, tmp_path):
    index = json.dumps({"schemaVersion": 2, "mediaType": MEDIA_OCI_INDEX, "manifests": [
        {"mediaType": MEDIA_OCI_MANIFEST, "digest": EVIL, "size": 10,
         "platform": {"os": "linux", "architecture": "amd64"}}]}).encode()
    registry = servers(basic_only(lambda r: Reply(200, {"Content-Type": MEDIA_OCI_INDEX}, index)))
    client = pool_for(tmp_path, entry(registry)).client(registry.host)
    manifest = client.get_manifest("ns/app", "v1")
    with pytest.raises(RegistryError) as info:
        manifest.children
    assert EVIL in str(info.value) and "manifests[0]" in str(info.value)


@pytest.mark.parametrize("field", ["config", "layers"])
def test_digest_of_a_config_or_layer_is_validated(field):
    from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.manifest import parse_manifest

    good = {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": BLOB_DIGEST, "size": 1}
    bad = dict(good, digest="sha256:" + "a" * 63 + "\n")
    doc = {"schemaVersion": 2, "mediaType": MEDIA_OCI_MANIFEST, "config": good, "layers": [good]}
    doc[field] = bad if field == "config" else [bad]
    manifest = parse_manifest(json.dumps(doc).encode(), MEDIA_OCI_MANIFEST)
    with pytest.raises(RegistryError):
        manifest.blobs


def test_digest_header_of_a_head_is_validated(servers, tmp_path):
    registry = servers(lambda r: Reply(200, {"Content-Type": MEDIA_OCI_MANIFEST, "Docker-Content-Digest": EVIL,
                                             "Content-Length": "10"}, b""))
    client = pool_for(tmp_path, {"host": registry.host, "tls_verify": False}).client(registry.host)
    with pytest.raises(RegistryError) as info:
        client.head_manifest("ns/app", "v1")
    assert registry.host in str(info.value) and EVIL in str(info.value)


@pytest.mark.parametrize("call", ["get_manifest", "head_manifest", "delete_manifest", "blob_size"])
def test_a_digest_reference_never_leaves_its_path_segment(servers, tmp_path, call):
    registry = servers(lambda r: Reply(404, {"Content-Type": "application/json"}, b"{}"))
    client = pool_for(tmp_path, {"host": registry.host, "tls_verify": False}).client(registry.host)
    with pytest.raises(RegistryError):
        result = getattr(client, call)("ns/app", EVIL)
        if result is None:  # a HEAD's 404 is an answer, not an error
            raise RegistryError("absent")
    assert not any("other" in path or "/../" in path for path in registry.paths())


@pytest.mark.parametrize("repo", ["ns/../other", "../x", "ns//app", "./app"])
def test_a_repository_with_dot_segments_is_refused(servers, tmp_path, repo):
    registry = servers(lambda r: Reply(404, {"Content-Type": "application/json"}, b"{}"))
    client = pool_for(tmp_path, {"host": registry.host, "tls_verify": False}).client(registry.host)
    with pytest.raises(RegistryError) as info:
        client.list_tags(repo)
    assert repo in str(info.value)
    assert [p for p in registry.paths() if p != "/v2/"] == []


def test_hostile_server_stops_itself():
    server = HostileServer(lifetime=0.2).start()
    port = server.port
    assert port
    deadline = time.monotonic() + 5
    while server.port and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.port == 0


@pytest.mark.parametrize("with_length", [True, False], ids=["content-length", "until-close"])
def test_a_blob_longer_than_its_descriptor_is_refused_boundedly(servers, tmp_path, with_length):
    registry = servers(lambda r: _huge(with_length, 200, "application/octet-stream"))
    client = pool_for(tmp_path, {"host": registry.host, "tls_verify": False}).client(registry.host)
    with pytest.raises(DigestMismatch) as info:
        with client.open_blob("ns/app", BLOB_DIGEST, size=len(BLOB)) as chunks:
            for dummy in chunks:
                pass
    assert registry.host in str(info.value) and f"{len(BLOB)} bytes" in str(info.value)
    assert registry.bytes_sent < HUGE // 2
