# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deterministic sample images, written as OCI image layouts and pushed with skopeo.

Layer content is random bytes from ``random.Random(seed)``: incompressible, so blob sizes are
what the caller asked for, and the same arguments always give the same digests. Each layer is a
real gzip'd tar holding one file, so umoci and skopeo treat it as a genuine layer.

An image set holds ``count`` multi-platform images (an OCI index, or a Docker manifest list with
``fmt="docker"``). Per platform, every image shares ``shared_layers`` base layers and adds one
layer of its own, as images built on one base do. All images of one call live in one layout
directory, each under its own ref name (the ``org.opencontainers.image.ref.name`` annotation),
so shared blobs are stored once.

skopeo's ``oci:`` transport only resolves OCI media types, so a ``fmt="docker"`` image is also
given a ``dir:`` view (skopeo's directory transport, hard links into the layout's blobs) under
``<layout>/skopeo-dir/<name>``; ``SampleImage.source`` names whichever skopeo should read.

Pushing uses ``skopeo copy --all --preserve-digests``: skopeo 1.9 then writes the manifests
byte for byte, so the registry's digests equal the generated ones (tests check this).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import random
import shutil
import subprocess
import tarfile
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
MEDIA_TYPES = {
    "oci": (OCI_INDEX, OCI_MANIFEST, OCI_CONFIG, OCI_LAYER),
    "docker": (DOCKER_LIST, DOCKER_MANIFEST, DOCKER_CONFIG, DOCKER_LAYER),
}
REF_ANNOTATION = "org.opencontainers.image.ref.name"
# Fixed tar/gzip metadata: the same content must give the same digest on any machine, any day.
EPOCH = 1700000000
STREAM_CHUNK = 1 << 20


@dataclass
class Blob:
    digest: str
    size: int
    media_type: str


@dataclass
class PlatformImage:
    """One single-platform manifest."""

    platform: str
    digest: str
    size: int
    media_type: str
    config: Blob
    layers: list[Blob]


@dataclass
class SampleImage:
    """One image in a layout: an index / manifest list, or (``make_single``) one manifest."""

    name: str
    tag: str
    ref: str
    digest: str
    size: int
    media_type: str
    manifests: list[PlatformImage]
    source: str = ""  # skopeo source name: oci:LAYOUT:REF, or dir:PATH for Docker media types

    @property
    def is_index(self) -> bool:
        return self.media_type in (OCI_INDEX, DOCKER_LIST)

    @property
    def manifest_digests(self) -> list[str]:
        return [m.digest for m in self.manifests]

    @property
    def blobs(self) -> dict[str, int]:
        """digest → size of every config and layer blob this image needs."""
        out: dict[str, int] = {}
        for m in self.manifests:
            for b in [m.config, *m.layers]:
                out[b.digest] = b.size
        return out


@dataclass
class ImageSet:
    """What a generator wrote: the layout directory and every image in it."""

    layout: str
    fmt: str
    images: list[SampleImage] = field(default_factory=list)
    # name -> "HOST/REPO:TAG" where a fixture pushed the images (push_image_set's return value)
    pushed: dict[str, str] = field(default_factory=dict)

    @property
    def blob_sizes(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for img in self.images:
            out.update(img.blobs)
        return out

    @property
    def total_blob_bytes(self) -> int:
        """Bytes of unique config and layer blobs (manifests not counted)."""
        return sum(self.blob_sizes.values())

    def image(self, name: str) -> SampleImage:
        for img in self.images:
            if img.name == name:
                return img
        raise KeyError(name)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ImageSet":
        images = []
        for i in data["images"]:
            manifests = [
                PlatformImage(
                    platform=m["platform"], digest=m["digest"], size=m["size"],
                    media_type=m["media_type"], config=Blob(**m["config"]),
                    layers=[Blob(**b) for b in m["layers"]],
                )
                for m in i["manifests"]
            ]
            images.append(SampleImage(**{**i, "manifests": manifests}))
        return cls(layout=data["layout"], fmt=data["fmt"], images=images, pushed=dict(data.get("pushed", {})))


# -- layout writing -----------------------------------------------------------------------------
class _Layout:
    def __init__(self, path: str):
        self.path = path
        self.blob_dir = os.path.join(path, "blobs", "sha256")
        os.makedirs(self.blob_dir, exist_ok=True)
        with open(os.path.join(path, "oci-layout"), "w") as f:
            json.dump({"imageLayoutVersion": "1.0.0"}, f)
        self.refs: list[dict] = []

    def put(self, data: bytes, media_type: str) -> Blob:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        path = os.path.join(self.blob_dir, digest[7:])
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.write(data)
        return Blob(digest, len(data), media_type)

    def put_json(self, obj: dict, media_type: str) -> Blob:
        return self.put(json.dumps(obj, indent=2, sort_keys=True).encode(), media_type)

    def add_ref(self, blob: Blob, ref: str) -> None:
        self.refs.append({
            "mediaType": blob.media_type, "digest": blob.digest, "size": blob.size,
            "annotations": {REF_ANNOTATION: ref},
        })

    def skopeo_source(self, fmt: str, top: Blob, ref: str, manifests: list[PlatformImage]) -> str:
        """The name skopeo reads this image by; writes the ``dir:`` view for Docker media types."""
        if fmt == "oci":
            return f"oci:{self.path}:{ref}"
        view = os.path.join(self.path, "skopeo-dir", ref)
        os.makedirs(view)
        with open(os.path.join(view, "version"), "w") as f:
            f.write("Directory Transport Version: 1.1\n")
        links = {top.digest: "manifest.json"}
        for m in manifests:
            if m.digest != top.digest:
                links[m.digest] = m.digest[7:] + ".manifest.json"
            for b in [m.config, *m.layers]:
                links[b.digest] = b.digest[7:]
        for digest, name in links.items():
            os.link(os.path.join(self.blob_dir, digest[7:]), os.path.join(view, name))
        return f"dir:{view}"

    def write_index(self) -> None:
        with open(os.path.join(self.path, "index.json"), "w") as f:
            json.dump({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": self.refs}, f, indent=2)


class _HashingWriter(io.RawIOBase):
    """File wrapper that hashes and counts what goes through it."""

    def __init__(self, f):
        self.f = f
        self.sha = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        self.sha.update(b)
        self.size += len(b)
        self.f.write(b)
        return len(b)


def _write_layer(layout: _Layout, rng: random.Random, size: int, filename: str,
                 media_type: str) -> tuple[Blob, str]:
    """Stream a gzip'd tar with one file of ``size`` random bytes into the layout.

    Returns the blob and the diff_id (digest of the uncompressed tar). Memory use is one
    STREAM_CHUNK whatever the size.
    """
    fd, tmp = tempfile.mkstemp(dir=layout.blob_dir, prefix=".layer-")
    diff = hashlib.sha256()

    class _DiffHasher(io.RawIOBase):
        def __init__(self, gz):
            self.gz = gz

        def writable(self) -> bool:
            return True

        def write(self, b) -> int:
            diff.update(b)
            return self.gz.write(b)

    with os.fdopen(fd, "wb") as raw:
        hashed = _HashingWriter(raw)
        with gzip.GzipFile(filename="", mode="wb", fileobj=hashed, compresslevel=1, mtime=0) as gz:
            sink = _DiffHasher(gz)
            with tarfile.open(fileobj=sink, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                info = tarfile.TarInfo(filename)
                info.size = size
                info.mtime = EPOCH
                info.mode = 0o644
                info.uname = info.gname = "root"
                tar.addfile(info, _RandomReader(rng, size))
    digest = "sha256:" + hashed.sha.hexdigest()
    final = os.path.join(layout.blob_dir, digest[7:])
    os.replace(tmp, final)
    return Blob(digest, hashed.size, media_type), "sha256:" + diff.hexdigest()


class _RandomReader(io.RawIOBase):
    """``size`` bytes from ``rng``, read in pieces (tarfile copies from it)."""

    def __init__(self, rng: random.Random, size: int):
        self.rng = rng
        self.left = size

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if n < 0 or n > self.left:
            n = self.left
        n = min(n, STREAM_CHUNK)
        self.left -= n
        return self.rng.randbytes(n) if n else b""


def _parse_platform(platform: str) -> dict:
    parts = platform.split("/")
    out = {"os": parts[0], "architecture": parts[1]}
    if len(parts) > 2:
        out["variant"] = parts[2]
    return out


def _write_manifest(layout: _Layout, fmt: str, platform: str, layers: list[tuple[Blob, str]],
                    label: str) -> PlatformImage:
    manifest_type, config_type = MEDIA_TYPES[fmt][1:3]
    plat = _parse_platform(platform)
    layer_blobs = [pair[0] for pair in layers]
    config = {
        **plat,
        "created": "2023-11-14T22:13:20Z",
        "config": {"Labels": {"airgap.test.image": label}, "Cmd": ["/bin/true"]},
        "rootfs": {"type": "layers", "diff_ids": [pair[1] for pair in layers]},
        "history": [{"created": "2023-11-14T22:13:20Z", "created_by": f"layer {i}"} for i in range(len(layers))],
    }
    config_blob = layout.put_json(config, config_type)
    manifest = {
        "schemaVersion": 2,
        "mediaType": manifest_type,
        "config": {"mediaType": config_type, "digest": config_blob.digest, "size": config_blob.size},
        "layers": [{"mediaType": b.media_type, "digest": b.digest, "size": b.size} for b in layer_blobs],
    }
    blob = layout.put_json(manifest, manifest_type)
    return PlatformImage(platform, blob.digest, blob.size, manifest_type, config_blob, layer_blobs)


def _write_index(layout: _Layout, fmt: str, manifests: list[PlatformImage]) -> Blob:
    index_type = MEDIA_TYPES[fmt][0]
    entries = []
    for m in manifests:
        entries.append({
            "mediaType": m.media_type, "digest": m.digest, "size": m.size,
            "platform": _parse_platform(m.platform),
        })
    return layout.put_json({"schemaVersion": 2, "mediaType": index_type, "manifests": entries}, index_type)


def _seed_rng(seed: int, *key) -> random.Random:
    # A sub-generator per (seed, key): changing one image's parameters leaves the others alone.
    return random.Random(hashlib.sha256(repr((seed,) + key).encode()).digest())


def _fresh_dir(path: str) -> None:
    if os.path.exists(path):
        shutil.rmtree(path)
    os.makedirs(path)


def make_image_set(out_dir: str, count: int = 3, platforms: tuple[str, ...] = ("linux/amd64", "linux/arm64"),
                   shared_layers: int = 2, shared_layer_size: int = 64 * 1024,
                   own_layer_size: int = 16 * 1024, seed: int = 1, fmt: str = "oci",
                   name_prefix: str = "app", tag: str = "v1") -> ImageSet:
    """Write ``count`` multi-platform images into the OCI layout ``out_dir`` (emptied first)."""
    if fmt not in MEDIA_TYPES:
        raise ValueError(f"fmt must be one of {sorted(MEDIA_TYPES)}")
    layer_type = MEDIA_TYPES[fmt][3]
    _fresh_dir(out_dir)
    layout = _Layout(out_dir)
    result = ImageSet(layout=out_dir, fmt=fmt)
    base: dict[str, list[tuple[Blob, str]]] = {}
    for platform in platforms:
        base[platform] = [
            _write_layer(layout, _seed_rng(seed, "base", platform, i), shared_layer_size,
                         f"base-{i}.bin", layer_type)
            for i in range(shared_layers)
        ]
    for n in range(count):
        name = f"{name_prefix}{n}"
        manifests = []
        for platform in platforms:
            own = _write_layer(layout, _seed_rng(seed, "own", name, platform), own_layer_size,
                               f"{name}.bin", layer_type)
            manifests.append(_write_manifest(layout, fmt, platform, base[platform] + [own], name))
        index = _write_index(layout, fmt, manifests)
        layout.add_ref(index, name)
        source = layout.skopeo_source(fmt, index, name, manifests)
        result.images.append(
            SampleImage(name, tag, name, index.digest, index.size, index.media_type, manifests, source)
        )
    layout.write_index()
    return result


def make_single(out_dir: str, name: str = "single", tag: str = "v1", platform: str = "linux/amd64",
                layer_sizes: tuple[int, ...] = (32 * 1024,), seed: int = 1, fmt: str = "oci") -> ImageSet:
    """Write one single-platform image (a plain manifest, no index) into the layout ``out_dir``."""
    layer_type = MEDIA_TYPES[fmt][3]
    _fresh_dir(out_dir)
    layout = _Layout(out_dir)
    layers = [
        _write_layer(layout, _seed_rng(seed, "single", name, i), size, f"layer-{i}.bin", layer_type)
        for i, size in enumerate(layer_sizes)
    ]
    manifest = _write_manifest(layout, fmt, platform, layers, name)
    top = Blob(manifest.digest, manifest.size, manifest.media_type)
    layout.add_ref(top, name)
    layout.write_index()
    source = layout.skopeo_source(fmt, top, name, [manifest])
    img = SampleImage(name, tag, name, manifest.digest, manifest.size, manifest.media_type, [manifest], source)
    return ImageSet(layout=out_dir, fmt=fmt, images=[img])


def make_big_layer_image(out_dir: str, size_bytes: int, name: str = "big", tag: str = "v1",
                         seed: int = 1, fmt: str = "oci") -> ImageSet:
    """One single-platform image with one layer of ``size_bytes`` random bytes, streamed to disk."""
    return make_single(out_dir, name=name, tag=tag, layer_sizes=(size_bytes,), seed=seed, fmt=fmt)


# -- caching ------------------------------------------------------------------------------------
class ImageCache:
    """Generated layouts under ``root``, one directory per distinct set of arguments.

    Generation is deterministic, so a layout made once serves the whole test session.
    """

    def __init__(self, root: str):
        self.root = root
        os.makedirs(root, exist_ok=True)

    def _get(self, kind: str, maker, kwargs: dict) -> ImageSet:
        key = hashlib.sha256(json.dumps([kind, kwargs], sort_keys=True).encode()).hexdigest()[:16]
        out_dir = os.path.join(self.root, f"{kind}-{key}")
        meta_path = out_dir + ".json"
        if os.path.exists(meta_path):
            with open(meta_path) as f:
                return ImageSet.from_dict(json.load(f))
        meta = maker(out_dir, **kwargs)
        with open(meta_path + ".tmp", "w") as f:
            json.dump(meta.to_dict(), f)
        os.replace(meta_path + ".tmp", meta_path)
        return meta

    def image_set(self, **kwargs) -> ImageSet:
        return self._get("set", make_image_set, kwargs)

    def single(self, **kwargs) -> ImageSet:
        return self._get("single", make_single, kwargs)

    def big_layer_image(self, **kwargs) -> ImageSet:
        return self._get("big", make_big_layer_image, kwargs)


# -- pushing ------------------------------------------------------------------------------------
def skopeo(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run skopeo, raising with its stderr when it fails."""
    proc = subprocess.run(["skopeo", *args], capture_output=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"skopeo {' '.join(a for a in args if 'creds' not in a)} failed: "
                           f"{proc.stderr.decode(errors='replace').strip()}")
    return proc


def push_image_set(meta: ImageSet, registry, repo_prefix: str = "src", parallel: int = 2) -> dict[str, str]:
    """Push every image to ``registry`` as ``HOST/<repo_prefix>/<name>:<tag>``; returns name → ref.

    ``registry``: a RegistryServer or FaultProxy (anything with ``host`` and ``skopeo_args``).
    """
    refs = {img.name: pushed_ref(img, registry, repo_prefix) for img in meta.images}

    def push(img: SampleImage) -> None:
        skopeo("copy", "--all", "--preserve-digests", "--quiet", *registry.skopeo_args("dest"),
               img.source, f"docker://{refs[img.name]}")

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        list(pool.map(push, meta.images))
    return refs


def pushed_ref(img: SampleImage, registry, repo_prefix: str = "src") -> str:
    """``HOST/<repo_prefix>/<name>:<tag>`` as push_image_set names it."""
    repo = f"{repo_prefix.strip('/')}/{img.name}" if repo_prefix else img.name
    return f"{registry.host}/{repo}:{img.tag}"


def write_mapping(meta: ImageSet, src_registry, dst_registry, path: str, src_prefix: str = "src",
                  dst_prefix: str = "mirror", by_digest: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """Write ``SRC=DST`` lines (``oc image mirror -f`` format) for every image of ``meta``.

    Sources are ``HOST/<src_prefix>/<name>:<tag>``, or ``...@sha256:...`` for the names listed in
    ``by_digest``; destinations are always ``HOST/<dst_prefix>/<name>:<tag>``.
    """
    pairs = []
    for img in meta.images:
        src_repo = f"{src_registry.host}/{src_prefix.strip('/')}/{img.name}"
        src = f"{src_repo}@{img.digest}" if img.name in by_digest else f"{src_repo}:{img.tag}"
        pairs.append((src, pushed_ref(img, dst_registry, dst_prefix)))
    with open(path, "w") as f:
        f.write("# sample images generated by tests/support/images.py\n")
        for src, dst in pairs:
            f.write(f"{src}={dst}\n")
    return pairs
