# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Disk to registry: archive_import against ``skopeo copy --all oci:DIR:REF docker://…`` per image.

    .venv/bin/python -m tests.benchmarks.bench_archive_import [--images 20] [--layer-mib 4] ...

1. The image set of bench_archive (same generator, same seed: ``--images`` OCI indexes of
   ``--platforms`` platforms over ``--shared-layers`` shared base layers, plus one own layer per
   platform image) is pushed with skopeo into a plain-HTTP source registry and exported by the
   collection's own export (run_mapping_export, ``archive_dir``, ``--archive-mib`` archives)
   under the planned prefix mirror.example.com:5000/bench. Not timed.
2. For skopeo, the archives are extracted once into one OCI layout (split blobs joined). Not timed.
3. Each contender pushes the set into its own fresh TLS + htpasswd ``docker-registry`` behind a
   counting FaultProxy (no faults), so the bytes written are measured on the wire:
   A - ``skopeo copy --all oci:LAYOUT:<planned ref> docker://TARGET/bench/<name>:v1`` once per
       image, one after another (the seed's way: extract, then a loop);
   B - the module through ``ansible-playbook`` (one task: archive_dir, dest, registries);
   C - the engine alone (run_archive_import in a child process, no Ansible);
   then two re-runs of the engine into C's target, everything present: with ``verify: changed``
   (the archives C checked are trusted, not hashed) and with ``verify: always``.
   Every child runs under /usr/bin/time: its %M is the peak RSS (skopeo: the largest of its runs;
   B: the largest process of the ansible-playbook tree, the controller included). B and C start
   without the record of checked archives, so both hash every archive.
4. ``skopeo inspect --raw`` of every target index must hash to the source digest.
5. A table on stdout, JSON to ``--out`` (default tests/benchmarks/results/archive-import-latest.json).

Targets (issue 10): import <= 1/2 of skopeo's time, peak RSS < 150 MB. Reported, never asserted.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

import yaml

from tests.benchmarks._common import (
    MIB,
    ROOT,
    CpuMeter,
    child_env,
    machine_info,
    mib,
    run_measured,
    table,
    write_json,
)
from tests.support.faultproxy import FaultProxy
from tests.support.images import make_image_set, push_image_set
from tests.support.registry import RegistryServer, registry_options

PLANNED = "mirror.example.com:5000/bench"
MODULE = "airgap.operatorhub.archive_import"
STATE_FILE = ".import-state.json"
TARGET_RATIO = 1 / 2
TARGET_RSS = 150 * 10 ** 6
_PART = re.compile(r"^(blobs/sha256/[0-9a-f]{64})\.part-(\d+)$")

_EXPORT = r"""
import json, sys
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.export import run_mapping_export
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.settings import ArchiveSettings
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.requests import MappingMirrorRequest, TransferSettings
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import AuthStore

params = json.load(open(sys.argv[1]))
request = MappingMirrorRequest(mapping=tuple(params["lines"]), transfer=TransferSettings(),
                               archive=ArchiveSettings(directory=params["dir"], size=params["size"], history=False))
result = run_mapping_export(request, AuthStore(registries=params["registries"], env={}))
assert not result["failures"], result["failures"]
print(json.dumps({"summary": result["summary"]}))
"""

_IMPORT = r"""
import json, sys, time
start = time.monotonic()
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive import importer
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.requests import TransferSettings
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import AuthStore

params = json.load(open(sys.argv[1]))
imported = time.monotonic()
spent = {"verify_seconds": 0.0}
plain = importer.verify_archives


def timed(*args, **kwargs):
    begin = time.monotonic()
    try:
        return plain(*args, **kwargs)
    finally:
        spent["verify_seconds"] += time.monotonic() - begin


importer.verify_archives = timed
request = importer.ArchiveImportRequest(archive_dir=params["dir"], dest=params["dest"], verify=params["verify"],
                                        transfer=TransferSettings())
result = importer.run_archive_import(request, AuthStore(registries=params["registries"], env={}))
print(json.dumps({"import_seconds": imported - start, "engine_seconds": time.monotonic() - imported,
                  "verify_seconds": spent["verify_seconds"], "summary": result["summary"],
                  "failures": result["failures"], "archives_verified": len(result["archives_verified"]),
                  "archives_trusted": len(result["archives_trusted"])}))
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_archive_import",
                                description=__doc__.split("\n\n", maxsplit=1)[0])
    p.add_argument("--images", type=int, default=20, help="images in the set; default 20 (bench_archive's)")
    p.add_argument("--platforms", type=int, default=2, choices=(1, 2, 3, 4), help="platforms per image; default 2")
    p.add_argument("--shared-layers", type=int, default=2, help="base layers shared by every image, per platform")
    p.add_argument("--layer-mib", type=float, default=4.0, help="size of a shared base layer in MiB; default 4")
    p.add_argument("--own-layer-mib", type=float, default=2.0, help="size of an image's own layer in MiB; default 2")
    p.add_argument("--archive-mib", type=float, default=16.0, help="archive_size of the export; default 16 MiB")
    p.add_argument("--seed", type=int, default=11, help="generator seed; default 11 (bench_archive's)")
    p.add_argument("--out", default=os.path.join(ROOT, "tests", "benchmarks", "results", "archive-import-latest.json"))
    return p.parse_args(argv)


class Target:
    """A fresh TLS + htpasswd registry with a counting proxy in front."""

    def __init__(self, workdir: str, name: str):
        self.registry = RegistryServer(tls=True, auth="htpasswd", workdir=os.path.join(workdir, f"target-{name}")).start()
        self.proxy = FaultProxy(self.registry).start()

    def counters(self, sizes: dict) -> dict:
        p = self.proxy
        return {"bytes_written": p.upload_bytes, "requests": p.count(),
                "blobs_sent_more_than_once": sum(1 for d, n in p.uploaded_by_digest.items() if n > sizes.get(d, n))}

    def stop(self) -> None:
        self.proxy.stop()
        self.registry.stop()


def extract(archive_dir: str, layout: str) -> None:
    """One OCI layout from every archive of ``archive_dir``, split blobs joined (what skopeo needs)."""
    contents = json.load(open(os.path.join(archive_dir, "contents.json")))
    parts: dict = {}
    for archive in contents["archives"]:
        with tarfile.open(os.path.join(archive_dir, archive["name"])) as tar:
            for member in tar:
                if not member.isfile():
                    continue
                match = _PART.match(member.name)
                name = match.group(1) + ".part-" + match.group(2) if match else member.name
                path = os.path.join(layout, name)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with tar.extractfile(member) as src, open(path, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
                if match:
                    parts.setdefault(match.group(1), []).append((int(match.group(2)), path))
    for blob, pieces in parts.items():
        with open(os.path.join(layout, blob), "wb") as dst:
            for dummy, path in sorted(pieces):
                with open(path, "rb") as src:
                    shutil.copyfileobj(src, dst, 1 << 20)
                os.unlink(path)


def run_skopeo(layout: str, images, target: Target, env: dict) -> dict:
    seconds, rss, cpu = 0.0, 0, 0.0
    for image in images:
        run = run_measured(["skopeo", "copy", "--all", "--quiet", *target.proxy.skopeo_args("dest"),
                            f"oci:{layout}:{PLANNED}/{image.name}:{image.tag}",
                            f"docker://{target.proxy.host}/bench/{image.name}:{image.tag}"],
                           env=env, gnu_time=True).check("skopeo copy")
        seconds += run.seconds
        rss = max(rss, run.maxrss_kib)
        cpu += run.cpu_seconds
    return {"seconds": seconds, "peak_rss_kib": rss, "cpu_tool": cpu}


def run_playbook(work: str, archive_dir: str, target: Target, env: dict) -> dict:
    report = os.path.join(work, "report.json")
    play = [{"name": "benchmark: import archives", "hosts": "localhost", "connection": "local",
             "gather_facts": False, "tasks": [{"name": "import", MODULE: {
                 "archive_dir": archive_dir, "dest": f"{target.proxy.host}/bench",
                 "registries": registry_options(target.proxy), "report_file": report}}]}]
    playbook = os.path.join(work, "import.yml")
    with open(playbook, "w") as handle:
        yaml.safe_dump(play, handle, sort_keys=False)
    ansible_playbook = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    run = run_measured([ansible_playbook, "-i", "localhost,", playbook], env=env, cwd=work, gnu_time=True)
    run.check("ansible-playbook")
    doc = json.load(open(report))
    return {"seconds": run.seconds, "peak_rss_kib": run.maxrss_kib, "cpu_tool": run.cpu_seconds,
            "summary": doc.get("summary"), "archives_verified": len(doc.get("archives_verified") or [])}


def run_engine(work: str, archive_dir: str, target: Target, env: dict, verify: str, tag: str) -> dict:
    script = os.path.join(work, "import_child.py")
    with open(script, "w") as handle:
        handle.write(_IMPORT)
    params = os.path.join(work, f"import-{tag}.json")
    with open(params, "w") as handle:
        json.dump({"dir": archive_dir, "dest": f"{target.proxy.host}/bench", "verify": verify,
                   "registries": registry_options(target.proxy)}, handle)
    run = run_measured([sys.executable, script, params], env=env, cwd=ROOT, gnu_time=True).check("engine child")
    out = json.loads(run.stdout.strip().splitlines()[-1])
    if out["failures"]:
        raise RuntimeError(f"engine import failed: {out['failures'][:3]}")
    return {"seconds": run.seconds, "peak_rss_kib": run.maxrss_kib, "cpu_tool": run.cpu_seconds, **out}


def check_digests(images, target: Target) -> int:
    good = 0
    for image in images:
        proc = subprocess.run(["skopeo", "inspect", "--raw", *target.proxy.skopeo_args(),
                               f"docker://{target.proxy.host}/bench/{image.name}:{image.tag}"],
                              capture_output=True, timeout=120, check=False)
        if proc.returncode == 0 and "sha256:" + hashlib.sha256(proc.stdout).hexdigest() == image.digest:
            good += 1
    return good


def _forget_checks(archive_dir: str) -> None:
    try:
        os.unlink(os.path.join(archive_dir, STATE_FILE))
    except FileNotFoundError:
        pass


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    platforms = ("linux/amd64", "linux/arm64", "linux/ppc64le", "linux/s390x")[:args.platforms]
    work = tempfile.mkdtemp(prefix="bench-archive-import-")
    info = machine_info()
    env = child_env(XDG_CACHE_HOME=os.path.join(work, "cache"))
    targets: list[Target] = []
    try:
        meta = make_image_set(os.path.join(work, "set"), count=args.images, platforms=platforms,
                              shared_layers=args.shared_layers, shared_layer_size=int(args.layer_mib * MIB),
                              own_layer_size=int(args.own_layer_mib * MIB), seed=args.seed)
        unique = meta.total_blob_bytes
        archive_dir = os.path.join(work, "archives")
        with RegistryServer(tls=False, auth=None, workdir=os.path.join(work, "source")) as source:
            push_image_set(meta, source, "src", parallel=4)
            params = os.path.join(work, "export.json")
            with open(params, "w") as handle:
                json.dump({"lines": [f"{source.host}/src/{i.name}:{i.tag}={PLANNED}/{i.name}:{i.tag}"
                                     for i in meta.images],
                           "dir": archive_dir, "size": int(args.archive_mib * MIB),
                           "registries": registry_options(source)}, handle)
            script = os.path.join(work, "export_child.py")
            with open(script, "w") as handle:
                handle.write(_EXPORT)
            run_measured([sys.executable, script, params], env=env).check("export")
        shutil.rmtree(os.path.join(work, "set"))
        contents = json.load(open(os.path.join(archive_dir, "contents.json")))
        archive_bytes = sum(a["size"] for a in contents["archives"])
        layout = os.path.join(work, "layout")
        extract(archive_dir, layout)
        print(f"bench_archive_import: {info['nproc']} CPUs ({info['cpu']}), load average {info['loadavg_at_start']}; "
              f"{len(meta.images)} images x {len(platforms)} platforms, {len(meta.blob_sizes)} unique blobs, "
              f"{mib(unique)}; {len(contents['archives'])} archives, {mib(archive_bytes)}", flush=True)

        results: dict = {}
        runs = [("A", "A skopeo copy --all oci: per image"), ("B", "B archive_import (ansible-playbook)"),
                ("C", "C engine alone (run_archive_import)"),
                ("C2", "C re-run, verify: changed (all present)"), ("C3", "C re-run, verify: always (all present)")]
        target = None
        for key, label in runs:
            if key in ("A", "B", "C"):
                target = Target(work, key)
                targets.append(target)
                _forget_checks(archive_dir)
            target.proxy.reset()
            print(f"{label} ...", end=" ", flush=True)
            meter = CpuMeter({"target_registry": target.registry.process.pid}).start()
            if key == "A":
                out = run_skopeo(layout, meta.images, target, env)
            elif key == "B":
                out = run_playbook(work, archive_dir, target, env)
            else:
                out = run_engine(work, archive_dir, target, env, "always" if key == "C3" else "changed", key)
            out["cpu"] = meter.stop()
            out.update(target.counters(meta.blob_sizes))
            if key in ("A", "B", "C"):
                out["digests_identical"] = check_digests(meta.images, target)
            results[key] = out
            print(f"{out['seconds']:.2f} s", flush=True)

        rows = []
        for key, label in runs:
            r = results[key]
            hashed = r.get("archives_verified")
            rows.append([label, f"{r['seconds']:.2f}", f"{r['seconds'] / len(meta.images):.3f}",
                         f"{r['verify_seconds']:.2f}" if "verify_seconds" in r else "-",
                         "-" if hashed is None else f"{hashed}/{len(contents['archives'])}",
                         mib(r["bytes_written"]), r["blobs_sent_more_than_once"], r["requests"],
                         f"{r['peak_rss_kib'] / 1024:.0f} MiB", r["cpu"]["other_processes"],
                         f"{r['digests_identical']}/{len(meta.images)}" if "digests_identical" in r else "-"])
        print()
        print(table(["contender", "seconds", "s/image", "hash s", "archives hashed", "written", "blobs twice",
                     "requests", "peak RSS", "cpu others s", "digests identical"], rows))
        a = results["A"]["seconds"]
        ratios = {"B/A": results["B"]["seconds"] / a, "C/A": results["C"]["seconds"] / a,
                  "C engine/A": results["C"]["engine_seconds"] / a}
        rss = {k: results[k]["peak_rss_kib"] * 1024 for k in ("B", "C")}
        print(f"\nunique blob bytes {unique}; written B {results['B']['bytes_written']}, C {results['C']['bytes_written']}, "
              f"A {results['A']['bytes_written']}")
        print("; ".join(f"{k} {v:.2f} ({'met' if v <= TARGET_RATIO else 'MISSED'} <= 1/2)" for k, v in ratios.items()))
        print(f"peak RSS engine {rss['C'] / 1e6:.0f} MB ({'met' if rss['C'] < TARGET_RSS else 'MISSED'} < 150 MB), "
              f"ansible-playbook tree {rss['B'] / 1e6:.0f} MB; load average at start {info['loadavg_at_start']}, "
              f"now {list(os.getloadavg())}")
        document = {"machine": info, "args": vars(args), "images": len(meta.images), "unique_blob_bytes": unique,
                    "archives": len(contents["archives"]), "archive_bytes": archive_bytes, "results": results,
                    "ratios": ratios, "loadavg_at_end": list(os.getloadavg())}
        print(f"JSON: {write_json(args.out, document)}")
    finally:
        for target in targets:
            target.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
