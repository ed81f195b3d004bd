# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A large, deterministic image set for bench_scale, pushed straight into a plain-HTTP registry.

Shaped like the related images of an operator catalog: with ``platforms=1`` (as most of a
catalog's images are: every bundle image is one single-platform manifest) an image is one OCI
manifest; with more, an OCI index of one manifest per platform. Per platform, every image shares
``shared_layers`` base layers and adds one small layer of its own (a real gzip'd tar of
``own_kib`` KiB of random bytes) and a config of its own. The same arguments always give the
same digests.

Pushing 1,000 images one ``skopeo copy`` at a time takes minutes, so there are two faster ways,
and callers spot-check the result with skopeo either way:

- :func:`push_scale_set` (``http``): plain HTTP requests from a few threads into a running
  plain-HTTP registry: each base layer is uploaded once into ``<prefix>/base`` and mounted into
  every repository (as registries share catalog base layers), own layers and configs are uploaded
  (POST, then PUT with the digest), then the platform manifests by digest and the index under its
  tag. About 17 requests per two-platform image: tens of seconds for 1,000 images.
- :func:`store_scale_set` (``storage``): the same content written straight into the storage
  directory of a ``docker-registry`` that is not running yet, in the filesystem driver's layout
  (``blobs/sha256/<2>/<hex>/data``, and per repository the ``link`` files of its layers,
  manifest revisions and tag). About 2 s for 1,000 images; the registry then serves it as if it
  had been pushed.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import io
import json
import os
import random
import tarfile
import threading
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
PLATFORMS = ("linux/amd64", "linux/arm64", "linux/ppc64le", "linux/s390x")
EPOCH = 1700000000
KIB = 1024


@dataclass
class ScaleImage:
    """One generated image: its repository, index digest and the blobs it alone needs."""

    name: str
    repo: str
    tag: str
    digest: str  # of the top manifest: the index, or the manifest with one platform
    own_blobs: dict[str, int]  # configs and own layers: digest -> size
    manifests: list[str]  # the platform manifests of an index


@dataclass
class ScaleSet:
    prefix: str
    tag: str
    base_blobs: dict[str, int]
    images: list[ScaleImage] = field(default_factory=list)

    @property
    def blob_sizes(self) -> dict[str, int]:
        """digest -> size of every config and layer blob of the set."""
        out = dict(self.base_blobs)
        for img in self.images:
            out.update(img.own_blobs)
        return out

    def unique_blob_bytes(self, count: int) -> int:
        """Unique config and layer bytes of the first ``count`` images (what a first run writes)."""
        return sum(self.base_blobs.values()) + sum(
            size for img in self.images[:count] for size in img.own_blobs.values())

    def unique_blobs(self, count: int) -> int:
        return len(self.base_blobs) + sum(len(img.own_blobs) for img in self.images[:count])


def _rng(seed: int, *key) -> random.Random:
    return random.Random(hashlib.sha256(repr((seed,) + key).encode()).digest())


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _layer(rng: random.Random, size: int, filename: str) -> tuple[bytes, str]:
    """A gzip'd tar holding one file of ``size`` random bytes; returns (blob, diff_id)."""
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(filename)
        info.size = size
        info.mtime = EPOCH
        info.mode = 0o644
        info.uname = info.gname = "root"
        tar.addfile(info, io.BytesIO(rng.randbytes(size)))
    raw = tar_bytes.getvalue()
    return gzip.compress(raw, compresslevel=1, mtime=0), _digest(raw)


def _json(obj: dict) -> bytes:
    return json.dumps(obj, indent=2, sort_keys=True).encode()


def _platform(platform: str) -> dict:
    os_name, arch = platform.split("/")[:2]
    return {"os": os_name, "architecture": arch}


class _Builder:
    """Makes the bytes of the base layers and of image ``n``, deterministically."""

    def __init__(self, platforms: tuple[str, ...], shared_layers: int, layer_kib: int, own_kib: int, seed: int):
        self.platforms, self.own_kib, self.seed = platforms, own_kib, seed
        self.base: dict[str, list[tuple[bytes, str]]] = {
            p: [_layer(_rng(seed, "base", p, i), layer_kib * KIB, f"base-{i}.bin") for i in range(shared_layers)]
            for p in platforms
        }

    def image(self, name: str) -> tuple[dict[str, bytes], list[bytes], bytes, str]:
        """(own blobs digest -> bytes, platform manifests, top manifest, its media type) of one
        image; with one platform the top is that platform's manifest and there are no children."""
        blobs: dict[str, bytes] = {}
        manifests: list[bytes] = []
        entries = []
        for platform in self.platforms:
            own, diff_id = _layer(_rng(self.seed, "own", name, platform), self.own_kib * KIB, f"{name}.bin")
            layers = self.base[platform] + [(own, diff_id)]
            config = _json({
                **_platform(platform), "created": "2023-11-14T22:13:20Z",
                "config": {"Labels": {"airgap.bench.image": name}, "Cmd": ["/bin/true"]},
                "rootfs": {"type": "layers", "diff_ids": [pair[1] for pair in layers]},
            })
            blobs[_digest(config)] = config
            blobs[_digest(own)] = own
            manifest = _json({
                "schemaVersion": 2, "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, "digest": _digest(config), "size": len(config)},
                "layers": [{"mediaType": OCI_LAYER, "digest": _digest(b), "size": len(b)} for b, dummy in layers],
            })
            manifests.append(manifest)
            entries.append({"mediaType": OCI_MANIFEST, "digest": _digest(manifest),
                            "size": len(manifest), "platform": _platform(platform)})
        if len(manifests) == 1:
            return blobs, [], manifests[0], OCI_MANIFEST
        index = _json({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries})
        return blobs, manifests, index, OCI_INDEX


class _Pusher:
    """Registry v2 API calls over one keep-alive connection per thread (plain HTTP only)."""

    def __init__(self, host: str):
        self.host = host
        self.local = threading.local()

    def _conn(self) -> http.client.HTTPConnection:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection(self.host, timeout=120)
        return conn

    def call(self, method: str, path: str, body: bytes = b"", headers: dict | None = None,
             expect: tuple[int, ...] = (200, 201, 202)) -> http.client.HTTPResponse:
        conn = self._conn()
        try:
            conn.request(method, path, body=body, headers={"Content-Length": str(len(body)), **(headers or {})})
            resp = conn.getresponse()
            resp.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            self.local.conn = None
            raise
        if resp.status not in expect:
            raise RuntimeError(f"{method} {path}: HTTP {resp.status}")
        return resp

    def upload(self, repo: str, digest: str, data: bytes) -> None:
        resp = self.call("POST", f"/v2/{repo}/blobs/uploads/", expect=(202,))
        location = urllib.parse.urlsplit(resp.getheader("Location"))
        query = (location.query + "&" if location.query else "") + urllib.parse.urlencode({"digest": digest})
        self.call("PUT", f"{location.path}?{query}", data, {"Content-Type": "application/octet-stream"},
                  expect=(201,))

    def mount(self, repo: str, digest: str, from_repo: str, data: bytes) -> None:
        query = urllib.parse.urlencode({"mount": digest, "from": from_repo})
        resp = self.call("POST", f"/v2/{repo}/blobs/uploads/?{query}", expect=(201, 202))
        if resp.status == 202:  # mount refused: upload it (the session just opened is left to expire)
            self.upload(repo, digest, data)

    def manifest(self, repo: str, ref: str, media_type: str, data: bytes) -> None:
        self.call("PUT", f"/v2/{repo}/manifests/{ref}", data, {"Content-Type": media_type}, expect=(201,))


def push_scale_set(host: str, count: int, *, platforms: int = 2, shared_layers: int = 3, layer_kib: int = 256,
                   own_kib: int = 32, seed: int = 11, prefix: str = "scale", tag: str = "v1",
                   parallel: int = 8) -> ScaleSet:
    """Generate ``count`` images and push them to the plain-HTTP registry at ``host``."""
    builder = _Builder(PLATFORMS[:platforms], shared_layers, layer_kib, own_kib, seed)
    pusher = _Pusher(host)
    base_repo = f"{prefix}/base"
    base = {_digest(b): b for layers in builder.base.values() for b, dummy in layers}
    for digest, data in base.items():
        pusher.upload(base_repo, digest, data)
    result = ScaleSet(prefix=prefix, tag=tag, base_blobs={d: len(b) for d, b in base.items()})

    def push(n: int) -> ScaleImage:
        name = f"app{n:04d}"
        repo = f"{prefix}/{name}"
        blobs, manifests, index, index_type = builder.image(name)
        for digest, data in base.items():
            pusher.mount(repo, digest, base_repo, data)
        for digest, data in blobs.items():
            pusher.upload(repo, digest, data)
        for manifest in manifests:
            pusher.manifest(repo, _digest(manifest), OCI_MANIFEST, manifest)
        pusher.manifest(repo, tag, index_type, index)
        return ScaleImage(name, repo, tag, _digest(index), {d: len(b) for d, b in blobs.items()},
                          [_digest(m) for m in manifests])

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        result.images = list(pool.map(push, range(count)))
    return result


class _Storage:
    """Writes into a stopped filesystem-driver registry: blobs once, link files per repository."""

    def __init__(self, storage_dir: str):
        self.root = os.path.join(storage_dir, "docker", "registry", "v2")

    @staticmethod
    def _write(path: str, data: bytes) -> None:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)

    def blob(self, digest: str, data: bytes) -> None:
        hexpart = digest.split(":", 1)[1]
        path = os.path.join(self.root, "blobs", "sha256", hexpart[:2], hexpart, "data")
        if not os.path.exists(path):
            self._write(path, data)

    def link(self, repo: str, kind: str, digest: str) -> None:
        """``kind``: ``_layers`` or ``_manifests/revisions``."""
        hexpart = digest.split(":", 1)[1]
        self._write(os.path.join(self.root, "repositories", repo, kind, "sha256", hexpart, "link"), digest.encode())

    def tag(self, repo: str, tag: str, digest: str) -> None:
        tags = os.path.join(self.root, "repositories", repo, "_manifests", "tags", tag)
        self._write(os.path.join(tags, "current", "link"), digest.encode())
        self._write(os.path.join(tags, "index", "sha256", digest.split(":", 1)[1], "link"), digest.encode())


def store_scale_set(storage_dir: str, count: int, *, platforms: int = 2, shared_layers: int = 3,
                    layer_kib: int = 256, own_kib: int = 32, seed: int = 11, prefix: str = "scale",
                    tag: str = "v1") -> ScaleSet:
    """Generate ``count`` images into the storage directory of a registry before it starts.

    Same images and digests as :func:`push_scale_set` with the same arguments."""
    builder = _Builder(PLATFORMS[:platforms], shared_layers, layer_kib, own_kib, seed)
    store = _Storage(storage_dir)
    base = {_digest(b): b for layers in builder.base.values() for b, dummy in layers}
    for digest, data in base.items():
        store.blob(digest, data)
    result = ScaleSet(prefix=prefix, tag=tag, base_blobs={d: len(b) for d, b in base.items()})
    for n in range(count):
        name = f"app{n:04d}"
        repo = f"{prefix}/{name}"
        blobs, manifests, index, dummy = builder.image(name)
        for digest, data in blobs.items():
            store.blob(digest, data)
        for digest in [*base, *blobs]:
            store.link(repo, "_layers", digest)
        for manifest in [*manifests, index]:
            store.blob(_digest(manifest), manifest)
            store.link(repo, os.path.join("_manifests", "revisions"), _digest(manifest))
        store.tag(repo, tag, _digest(index))
        result.images.append(ScaleImage(name, repo, tag, _digest(index), {d: len(b) for d, b in blobs.items()},
                                        [_digest(m) for m in manifests]))
    return result


def fnv1a32(text: str) -> str:
    """The tag ``oc adm catalog mirror`` gives a digest-only source: FNV-1a 32 of it, Go's %x."""
    value = 0x811C9DC5
    for byte in text.encode("utf-8"):
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return format(value, "x")


def mapping_lines(images: list[ScaleImage], src_host: str, dst_host: str, *, by_tag: bool = False,
                  dst_prefix: str = "mirror") -> list[tuple[str, str]]:
    """``SRC=DST`` pairs. By default as oc writes them for a catalog: the source pinned by digest,
    the destination tagged with the FNV-1a of the source; ``by_tag``: ``src:v1=dst:v1``."""
    pairs = []
    for img in images:
        if by_tag:
            pairs.append((f"{src_host}/{img.repo}:{img.tag}", f"{dst_host}/{dst_prefix}/{img.repo}:{img.tag}"))
        else:
            source = f"{src_host}/{img.repo}@{img.digest}"
            pairs.append((source, f"{dst_host}/{dst_prefix}/{img.repo}:{fnv1a32(source)}"))
    return pairs


def write_mapping(path: str, pairs: list[tuple[str, str]]) -> str:
    with open(path, "w") as f:
        f.write("# generated by tests/benchmarks/scale_set.py\n")
        f.writelines(f"{src}={dst}\n" for src, dst in pairs)
    return path


def spread(count: int, sample: int) -> list[int]:
    """``sample`` indexes evenly spread over ``range(count)`` (all of them when sample >= count)."""
    if sample >= count:
        return list(range(count))
    return sorted({(i * count) // sample for i in range(sample)})
