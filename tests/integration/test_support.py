# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The test support itself: real registries, the token service, the fault proxy, sample images.

skopeo and urllib3 are the clients here, so a fault in tests/support shows up in this file and
not as a puzzling failure of the engine's tests.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import tarfile

import pytest
import urllib3

from tests.support import images
from tests.support.faultproxy import drop_request_after, drop_response_after, request_kind, status, strip_headers
from tests.support.registry import skopeo_inspect as inspect


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _pool(endpoint, retries=False) -> urllib3.PoolManager:
    kw = {"ca_certs": endpoint.ca_path, "cert_reqs": "CERT_REQUIRED"} if endpoint.tls else {}
    return urllib3.PoolManager(retries=retries, **kw)


def _basic(endpoint) -> dict:
    if not endpoint.auth:
        return {}
    token = base64.b64encode(f"{endpoint.username}:{endpoint.password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _skopeo(*args, check=True) -> subprocess.CompletedProcess:
    return subprocess.run(["skopeo", *args], capture_output=True, text=True, check=check, timeout=300)


@pytest.fixture(scope="module")
def single(image_cache):
    return image_cache.single(name="one", layer_sizes=(96 * 1024, 8 * 1024), seed=3)


# -- registries ---------------------------------------------------------------------------------
def test_tls_htpasswd_push_and_inspect(tls_registry, single, tmp_path):
    img = single.images[0]
    dest = f"docker://{tls_registry.host}/support/tls:v1"
    _skopeo("copy", "--preserve-digests", "--quiet", *tls_registry.skopeo_args("dest"), img.source, dest)
    assert _sha(inspect(tls_registry, "support/tls:v1", raw=True)) == img.digest
    assert inspect(tls_registry, f"{tls_registry.host}/support/tls:v1")["Digest"] == img.digest
    # the auth file carries the same credentials, podman-style
    auth_file = tls_registry.write_auth_file(str(tmp_path / "auth.json"))
    entry = json.loads(open(auth_file).read())["auths"][tls_registry.host]["auth"]
    assert base64.b64decode(entry).decode() == f"{tls_registry.username}:{tls_registry.password}"
    out = _skopeo("inspect", "--raw", "--authfile", auth_file, f"--cert-dir={tls_registry.cert_dir}", dest).stdout
    assert _sha(out.encode()) == img.digest


def test_wrong_password_is_refused(tls_registry):
    args = [a.replace(tls_registry.password, "not-the-password") for a in tls_registry.skopeo_args()]
    proc = _skopeo("inspect", "--raw", *args, f"docker://{tls_registry.host}/support/tls:v1", check=False)
    assert proc.returncode != 0
    assert "unauthorized" in proc.stderr or "authentication required" in proc.stderr
    r = _pool(tls_registry).request("GET", f"{tls_registry.url}/v2/")
    assert r.status == 401 and "Basic" in r.headers["WWW-Authenticate"]


def test_plain_registry_without_auth(plain_registry):
    r = _pool(plain_registry).request("GET", f"{plain_registry.url}/v2/")
    assert r.status == 200
    assert plain_registry.skopeo_args("src") == ["--src-tls-verify=false"]
    assert plain_registry.ca_path is None and plain_registry.username is None


def test_token_registry(token_registry, single):
    server = token_registry.token_server
    img = single.images[0]
    before = server.requests
    _skopeo("copy", "--preserve-digests", "--quiet", *token_registry.skopeo_args("dest"), img.source,
            f"docker://{token_registry.host}/support/token:v1")
    assert server.requests > before
    assert any(a["name"] == "support/token" and "push" in a["actions"]
               for claims in server.issued for a in claims["access"])
    assert _sha(inspect(token_registry, "support/token:v1", raw=True)) == img.digest
    # the registry verifies our JWTs itself: a bearer token without the scope is refused
    http = _pool(token_registry)
    url = f"{token_registry.url}/v2/support/token/manifests/v1"
    challenge = http.request("GET", url).headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ") and server.realm in challenge
    token = server.make_token(token_registry.username, [])[0]
    assert http.request("GET", url, headers={"Authorization": f"Bearer {token}"}).status == 401
    token = server.make_token(token_registry.username,
                              [{"type": "repository", "name": "support/token", "actions": ["pull"]}])[0]
    r = http.request("GET", url, headers={"Authorization": f"Bearer {token}",
                                          "Accept": img.media_type})
    assert r.status == 200 and _sha(r.data) == img.digest
    # bad credentials at the token endpoint
    bad = base64.b64encode(f"{token_registry.username}:nope".encode()).decode()
    assert http.request("GET", server.realm + "?scope=repository:x:pull",
                        headers={"Authorization": f"Basic {bad}"}).status == 401


def test_registry_factory_gives_empty_registries(registry_factory):
    reg = registry_factory(tls=True, auth="htpasswd")
    other = registry_factory()
    assert reg.host != other.host
    r = _pool(reg).request("GET", f"{reg.url}/v2/_catalog", headers=_basic(reg))
    assert r.status == 200 and json.loads(r.data) == {"repositories": []}
    assert os.path.isdir(reg.storage_dir)
    assert os.listdir(reg.cert_dir) == ["ca.crt"]


# -- fault proxy --------------------------------------------------------------------------------
@pytest.mark.parametrize("path, kind", [
    ("/v2/", "other"),
    ("/v2/a/b/manifests/v1", "manifest"),
    ("/v2/a/blobs/sha256:00", "blob"),
    ("/v2/a/b/c/blobs/uploads/", "upload"),
    ("/v2/a/blobs/uploads/123?_state=x&digest=sha256:00", "upload"),
    ("/v2/a/tags/list?n=10", "other"),
])
def test_request_kind(path, kind):
    assert request_kind(path) == kind


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_proxy_500_once_then_passes(registry_factory, fault_proxy_factory, single, tls):
    reg = registry_factory(tls=tls, auth="htpasswd" if tls else None)
    proxy = fault_proxy_factory(reg)
    assert proxy.tls == tls and proxy.host != reg.host
    rule = proxy.add_rule(status(500), method="PUT", path="/manifests/", count=1)
    img = single.images[0]
    dest = f"docker://{proxy.host}/support/fault:v1"
    first = _skopeo("copy", "--quiet", *proxy.skopeo_args("dest"), img.source, dest, check=False)
    assert first.returncode != 0 and "500" in first.stderr
    assert rule.fired == 1
    _skopeo("copy", "--preserve-digests", "--quiet", *proxy.skopeo_args("dest"), img.source, dest)
    assert rule.seen == 2 and rule.fired == 1
    assert _sha(inspect(reg, "support/fault:v1", raw=True)) == img.digest
    assert ("PUT", "/v2/support/fault/manifests/v1", 500) in proxy.log
    assert ("PUT", "/v2/support/fault/manifests/v1", 201) in proxy.log


def test_proxy_counts_upload_bytes(plain_registry, fault_proxy_factory, single):
    proxy = fault_proxy_factory(plain_registry)
    img = single.images[0]
    _skopeo("copy", "--preserve-digests", "--quiet", *proxy.skopeo_args("dest"), img.source,
            f"docker://{proxy.host}/support/count:v1")
    blobs = img.blobs
    assert dict(proxy.uploaded_by_digest) == blobs
    assert proxy.upload_bytes == sum(blobs.values())
    assert proxy.count("PUT", "manifest") == 1
    assert proxy.count(kind="upload") >= 2 * len(blobs)
    # a second copy finds every blob in place: nothing more is uploaded
    proxy.reset()
    _skopeo("copy", "--quiet", *proxy.skopeo_args("dest"), img.source, f"docker://{proxy.host}/support/count:v1")
    assert proxy.upload_bytes == 0 and proxy.count("HEAD", "blob") == len(blobs)


def test_proxy_monolithic_chunked_and_location_rewrite(plain_registry, fault_proxy_factory):
    proxy = fault_proxy_factory(plain_registry)
    http = _pool(proxy)
    data = os.urandom(300_000)
    digest = _sha(data)
    r = http.request("POST", f"{proxy.url}/v2/support/raw/blobs/uploads/")
    assert r.status == 202
    location = r.headers["Location"]
    assert location.startswith("/") or location.startswith(proxy.url), location
    upload = location if location.startswith("http") else proxy.url + location

    def pieces():
        for i in range(0, len(data), 50_000):
            yield data[i:i + 50_000]

    # chunked request body (no Content-Length)
    r = http.request("PATCH", upload, body=pieces(), chunked=True,
                     headers={"Content-Type": "application/octet-stream"})
    assert r.status == 202, r.data
    upload = r.headers["Location"]
    upload = upload if upload.startswith("http") else proxy.url + upload
    sep = "&" if "?" in upload else "?"
    r = http.request("PUT", f"{upload}{sep}digest={digest}")
    assert r.status == 201, r.data
    assert proxy.uploaded_by_digest[digest] == len(data) == proxy.upload_bytes
    # a chunked response streamed back: the registry answers blob GETs with a length, so check
    # the body and the count of downloaded bytes
    r = http.request("GET", f"{proxy.url}/v2/support/raw/blobs/{digest}", preload_content=False)
    assert b"".join(r.stream(65536)) == data
    assert proxy.download_bytes == len(data)


def test_proxy_streams_chunked_responses(registry_factory, fault_proxy_factory, single):
    reg = registry_factory()
    img = single.images[0]
    _skopeo("copy", "--preserve-digests", "--quiet", *reg.skopeo_args("dest"), img.source,
            f"docker://{reg.host}/support/many:v0")
    http = _pool(reg)
    manifest = http.request("GET", f"{reg.url}/v2/support/many/manifests/v0", headers={"Accept": img.media_type})
    # Go's server sends bodies over its 4 KiB buffer without a length: a long tag list is chunked
    tags = [f"tag-{i:03d}-{'x' * 30}" for i in range(150)]
    for tag in tags:
        r = http.request("PUT", f"{reg.url}/v2/support/many/manifests/{tag}", body=manifest.data,
                         headers={"Content-Type": img.media_type})
        assert r.status == 201
    direct = http.request("GET", f"{reg.url}/v2/support/many/tags/list")
    assert direct.headers.get("Transfer-Encoding") == "chunked"
    proxy = fault_proxy_factory(reg)
    via = _pool(proxy).request("GET", f"{proxy.url}/v2/support/many/tags/list")
    assert via.headers.get("Transfer-Encoding") == "chunked"
    assert via.data == direct.data and len(json.loads(via.data)["tags"]) == 151


def test_proxy_rewrites_absolute_location(plain_registry, fault_proxy_factory):
    proxy = fault_proxy_factory(plain_registry)
    http = _pool(proxy)
    # the registry builds absolute upload URLs from the Host it was sent (the upstream's)
    r = http.request("POST", f"{proxy.url}/v2/support/loc/blobs/uploads/")
    location = r.headers["Location"]
    assert plain_registry.host not in location
    if location.startswith("http"):
        assert location.startswith(proxy.url)


def test_proxy_429_then_retry_after(plain_registry, fault_proxy_factory):
    proxy = fault_proxy_factory(plain_registry)
    proxy.add_rule(status(429, {"Retry-After": "1"}, '{"errors": []}'), path="^/v2/$", count=2, after=1)
    http = _pool(proxy)
    codes = [http.request("GET", f"{proxy.url}/v2/").status for attempt in range(4)]
    assert codes == [200, 429, 429, 200]
    r = http.request("GET", f"{proxy.url}/v2/")
    assert r.status == 200
    proxy.add_rule(status(429, {"Retry-After": "1"}), path="^/v2/$")
    r = http.request("GET", f"{proxy.url}/v2/")
    assert r.status == 429 and r.headers["Retry-After"] == "1"


def test_proxy_drop_request_after(plain_registry, fault_proxy_factory):
    proxy = fault_proxy_factory(plain_registry)
    proxy.add_rule(drop_request_after(10_000), method="PATCH", path="/blobs/uploads/")
    http = _pool(proxy)
    r = http.request("POST", f"{proxy.url}/v2/support/drop/blobs/uploads/")
    upload = r.headers["Location"]
    upload = upload if upload.startswith("http") else proxy.url + upload
    with pytest.raises(urllib3.exceptions.HTTPError):
        http.request("PATCH", upload, body=os.urandom(200_000))
    assert proxy.upload_bytes >= 10_000
    assert ("PATCH", urllib3.util.parse_url(upload).request_uri, None) in proxy.log
    # the rule fired once: the connection pool recovers and the next request passes
    assert http.request("GET", f"{proxy.url}/v2/").status == 200


def test_proxy_strip_headers(plain_registry, fault_proxy_factory):
    proxy = fault_proxy_factory(plain_registry)
    rule = proxy.add_rule(strip_headers("docker-distribution-API-version"), method="GET", path="^/v2/$")
    http = _pool(proxy)
    stripped, kept = (http.request("GET", f"{proxy.url}/v2/") for attempt in range(2))
    assert stripped.status == kept.status == 200 and rule.fired == 1
    assert "Docker-Distribution-Api-Version" not in stripped.headers and "Content-Type" in stripped.headers
    assert kept.headers["Docker-Distribution-Api-Version"] == "registry/2.0"


def test_proxy_drop_response_after(plain_registry, fault_proxy_factory, image_set):
    proxy = fault_proxy_factory(plain_registry)
    img = image_set.images[0]
    layer = img.manifests[0].layers[0]
    proxy.add_rule(drop_response_after(1000), method="GET", path="/blobs/sha256:")
    http = _pool(proxy)
    url = f"{proxy.url}/v2/src/{img.name}/blobs/{layer.digest}"
    r = http.request("GET", url, preload_content=False)
    assert r.status == 200 and int(r.headers["Content-Length"]) == layer.size
    with pytest.raises(urllib3.exceptions.HTTPError):
        b"".join(r.stream(65536))
    r = http.request("GET", url)
    assert r.status == 200 and _sha(r.data) == layer.digest


def test_proxy_in_front_of_token_registry(token_registry, fault_proxy_factory, single):
    proxy = fault_proxy_factory(token_registry)
    img = single.images[0]
    _skopeo("copy", "--preserve-digests", "--quiet", *proxy.skopeo_args("dest"), img.source,
            f"docker://{proxy.host}/support/tokenproxy:v1")
    assert _sha(inspect(proxy, "support/tokenproxy:v1", raw=True)) == img.digest


# -- images -------------------------------------------------------------------------------------
def test_image_set_is_byte_identical_in_registry(image_set, plain_registry):
    assert len(image_set.images) == 3
    for img in image_set.images:
        assert img.is_index and len(img.manifests) == 2
        raw = inspect(plain_registry, image_set.pushed[img.name], raw=True)
        assert _sha(raw) == img.digest
        repo = image_set.pushed[img.name].rsplit(":", 1)[0]
        for m in img.manifests:
            assert _sha(inspect(plain_registry, f"{repo}@{m.digest}", raw=True)) == m.digest
    # base layers are shared across images, each image adds one layer per platform
    per_image = [set(img.blobs) for img in image_set.images]
    shared = set.intersection(*per_image)
    assert len(shared) == 2 * 2  # 2 base layers x 2 platforms
    assert image_set.total_blob_bytes == sum(image_set.blob_sizes.values())
    assert image_set.total_blob_bytes > 4 * 256 * 1024  # random data does not compress


def test_images_are_deterministic_and_real_layers(tmp_path):
    a = images.make_image_set(str(tmp_path / "a"), count=2, shared_layer_size=4096, own_layer_size=2048, seed=9)
    b = images.make_image_set(str(tmp_path / "b"), count=2, shared_layer_size=4096, own_layer_size=2048, seed=9)
    c = images.make_image_set(str(tmp_path / "c"), count=2, shared_layer_size=4096, own_layer_size=2048, seed=10)
    assert [i.digest for i in a.images] == [i.digest for i in b.images]
    assert a.images[0].digest != c.images[0].digest
    layer = a.images[0].manifests[0].layers[-1]
    with tarfile.open(os.path.join(a.layout, "blobs", "sha256", layer.digest[7:])) as tar:
        (member,) = tar.getmembers()
        assert member.size == 2048
    # umoci, an independent reader of OCI layouts, sees every image
    out = subprocess.run(["umoci", "ls", "--layout", a.layout], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["app0", "app1"]


def test_docker_format_and_single(registry_factory, image_cache):
    reg = registry_factory()
    docker = image_cache.image_set(count=1, shared_layers=1, shared_layer_size=8192, own_layer_size=4096,
                                   seed=5, fmt="docker")
    single = image_cache.single(name="solo", seed=5)
    refs = images.push_image_set(docker, reg, "d")
    refs.update(images.push_image_set(single, reg, "s"))
    raw = inspect(reg, refs["app0"], raw=True)
    assert json.loads(raw)["mediaType"] == images.DOCKER_LIST and _sha(raw) == docker.images[0].digest
    raw = inspect(reg, refs["solo"], raw=True)
    assert json.loads(raw)["mediaType"] == images.OCI_MANIFEST and _sha(raw) == single.images[0].digest
    assert not single.images[0].is_index


def test_big_layer_is_streamed(tmp_path):
    # a child process, so its peak RSS (VmHWM: ru_maxrss would carry the parent's peak over
    # exec) measures the writer alone
    code = (
        "import re; from tests.support import images; "
        f"m = images.make_big_layer_image({str(tmp_path / 'big')!r}, 48 * 1024 * 1024); "
        "print(m.total_blob_bytes, re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))"
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    total, rss_kib = map(int, out.stdout.split())
    assert total > 48 * 1024 * 1024
    assert rss_kib < 40 * 1024, f"peak RSS {rss_kib} KiB: the layer was held in memory"


def test_write_mapping(image_set, plain_registry, tls_registry, tmp_path):
    path = tmp_path / "mapping.txt"
    pairs = images.write_mapping(image_set, plain_registry, tls_registry, str(path), by_digest=("app0",))
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    assert lines == [f"{s}={d}" for s, d in pairs]
    assert lines[0] == (f"{plain_registry.host}/src/app0@{image_set.images[0].digest}="
                        f"{tls_registry.host}/mirror/app0:v1")
    assert lines[1] == f"{plain_registry.host}/src/app1:v1={tls_registry.host}/mirror/app1:v1"
