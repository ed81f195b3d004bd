# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The yardstick of bench_mirror: a naive parallel copy of a mapping, with no checks at all.

    python -m tests.benchmarks.yardstick PARAMS.json

Written only to measure what the machine allows (issue 11): no retries, no digest checks, no
HEAD after a push, no resume. It is what any client has to do at least, done plainly:

1. plan: GET each source manifest (the mapping's reference) and the child manifests of an
   index, by digest; collect the unique blobs (configs and layers) of the whole mapping;
2. blobs, ``threads`` at a time: each unique blob once, a streamed GET from the source fed into
   one streamed ``PUT <upload>?digest=`` (after the POST that opens the upload session) into the
   first destination repository that needs it;
3. manifests, ``threads`` images at a time: a cross-repository mount (POST ?mount=&from=) of each
   blob the image's repository did not get in step 2, then the child manifests, then the top
   manifest under its tag.

Every thread keeps one keep-alive connection per host (http.client, TLS verified with the
target's CA, Basic credentials sent up front). PARAMS.json: ``mapping_file``, ``threads``,
``source`` and ``target``, each ``{"host", "tls", "ca_path", "username", "password"}``. Prints
one JSON line: seconds per step, CPU seconds of this process, blobs, bytes and requests.
"""

from __future__ import annotations

import base64
import http.client
import json
import resource
import ssl
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

ACCEPT = ", ".join((
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
))
CHUNK = 1 << 20


def split_ref(ref: str) -> tuple[str, str, str]:
    """(host, repository, tag or digest) of ``host/repo:tag`` or ``host/repo@sha256:...``."""
    host, rest = ref.split("/", 1)
    if "@" in rest:
        repo, ref_part = rest.split("@", 1)
    else:
        repo, ref_part = rest.rsplit(":", 1)
    return host, repo, ref_part


class Endpoints:
    """One keep-alive connection per (thread, endpoint)."""

    def __init__(self, endpoints: dict[str, dict]):
        self.endpoints = endpoints
        self.local = threading.local()
        self.requests = 0
        self._lock = threading.Lock()
        self.contexts = {}
        for name, e in endpoints.items():
            if e.get("tls"):
                self.contexts[name] = ssl.create_default_context(cafile=e.get("ca_path"))
            e["auth"] = ({"Authorization": "Basic " + base64.b64encode(
                f"{e['username']}:{e['password']}".encode()).decode()} if e.get("username") else {})

    def conn(self, name: str) -> http.client.HTTPConnection:
        conns = getattr(self.local, "conns", None)
        if conns is None:
            conns = self.local.conns = {}
        conn = conns.get(name)
        if conn is None:
            host, port = self.endpoints[name]["host"].rsplit(":", 1)
            if name in self.contexts:
                conn = http.client.HTTPSConnection(host, int(port), context=self.contexts[name], timeout=120)
            else:
                conn = http.client.HTTPConnection(host, int(port), timeout=120)
            conns[name] = conn
        return conn

    def request(self, name: str, method: str, path: str, headers: dict | None = None, body=None):
        """One exchange; returns (status, headers, body bytes)."""
        conn = self.conn(name)
        conn.request(method, path, body=body, headers={**self.endpoints[name]["auth"], **(headers or {})})
        resp = conn.getresponse()
        data = resp.read()
        with self._lock:
            self.requests += 1
        return resp.status, resp, data

    def copy_blob(self, src_repo: str, dst_repo: str, digest: str, size: int) -> int:
        """GET from the source streamed into POST + PUT ?digest= on the target."""
        status, resp, dummy = self.request("target", "POST", f"/v2/{dst_repo}/blobs/uploads/",
                                           headers={"Content-Length": "0"})
        if status != 202:
            raise RuntimeError(f"POST upload {dst_repo}: HTTP {status}")
        location = resp.getheader("Location")
        if "://" in location:
            location = "/" + location.split("://", 1)[1].split("/", 1)[1]
        src = self.conn("source")
        src.request("GET", f"/v2/{src_repo}/blobs/{digest}", headers=self.endpoints["source"]["auth"])
        body = src.getresponse()
        dst = self.conn("target")
        dst.putrequest("PUT", location + ("&" if "?" in location else "?") + "digest=" + digest)
        for k, v in {**self.endpoints["target"]["auth"], "Content-Type": "application/octet-stream",
                     "Content-Length": str(size)}.items():
            dst.putheader(k, v)
        dst.endheaders()
        buffer = bytearray(CHUNK)
        view = memoryview(buffer)
        sent = 0
        while True:
            n = body.readinto(buffer)
            if not n:
                break
            dst.send(view[:n])
            sent += n
        body.read()
        resp = dst.getresponse()
        resp.read()
        with self._lock:
            self.requests += 2
        if resp.status != 201:
            raise RuntimeError(f"PUT blob {digest} to {dst_repo}: HTTP {resp.status}")
        return sent


def plan(endpoints: Endpoints, pairs: list[tuple[str, str]], pool: ThreadPoolExecutor) -> list[dict]:
    def one(pair: tuple[str, str]) -> dict:
        src, dst = pair
        dummy, src_repo, ref = split_ref(src)
        dummy, dst_repo, tag = split_ref(dst)
        status, resp, top = endpoints.request("source", "GET", f"/v2/{src_repo}/manifests/{ref}", {"Accept": ACCEPT})
        if status != 200:
            raise RuntimeError(f"GET {src}: HTTP {status}")
        image = {"src_repo": src_repo, "dst_repo": dst_repo, "tag": tag, "children": [], "blobs": {},
                 "top": (resp.getheader("Content-Type"), top)}
        doc = json.loads(top)
        manifests = [doc]
        for child in doc.get("manifests") or []:
            status, resp, raw = endpoints.request("source", "GET", f"/v2/{src_repo}/manifests/{child['digest']}",
                                                  {"Accept": ACCEPT})
            if status != 200:
                raise RuntimeError(f"GET {src_repo}@{child['digest']}: HTTP {status}")
            image["children"].append((child["digest"], resp.getheader("Content-Type"), raw))
            manifests.append(json.loads(raw))
        for m in manifests:
            for blob in ([m["config"]] if "config" in m else []) + list(m.get("layers") or []):
                image["blobs"][blob["digest"]] = blob["size"]
        return image

    return list(pool.map(one, pairs))


def run(params: dict) -> dict:
    threads = int(params.get("threads") or 8)
    with open(params["mapping_file"]) as f:
        pairs = [tuple(line.strip().split("=", 1)) for line in f if line.strip() and not line.startswith("#")]
    endpoints = Endpoints({"source": dict(params["source"]), "target": dict(params["target"])})
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        images = plan(endpoints, pairs, pool)
        t1 = time.monotonic()
        # each unique blob once, into the first repository that needs it
        owner: dict[str, tuple[dict, int]] = {}
        for image in images:
            for digest, size in image["blobs"].items():
                owner.setdefault(digest, (image, size))
        sent = sum(pool.map(lambda item: endpoints.copy_blob(item[1][0]["src_repo"], item[1][0]["dst_repo"],
                                                             item[0], item[1][1]), owner.items()))
        t2 = time.monotonic()

        def manifests(image: dict) -> None:
            dst_repo = image["dst_repo"]
            for digest in image["blobs"]:
                first = owner[digest][0]
                if first is not image and first["dst_repo"] != dst_repo:
                    status, dummy, dummy = endpoints.request(
                        "target", "POST", f"/v2/{dst_repo}/blobs/uploads/?mount={digest}&from={first['dst_repo']}",
                        {"Content-Length": "0"})
                    if status != 201:
                        raise RuntimeError(f"mount {digest} into {dst_repo}: HTTP {status}")
            for ref, (media_type, raw) in [(d, (t, r)) for d, t, r in image["children"]] + [(image["tag"], image["top"])]:
                status, dummy, dummy = endpoints.request("target", "PUT", f"/v2/{dst_repo}/manifests/{ref}",
                                                         {"Content-Type": media_type}, raw)
                if status != 201:
                    raise RuntimeError(f"PUT manifest {dst_repo}:{ref}: HTTP {status}")

        list(pool.map(manifests, images))
    t3 = time.monotonic()
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "copy_seconds": t3 - t0,
        "plan_seconds": t1 - t0,
        "blobs_seconds": t2 - t1,
        "manifests_seconds": t3 - t2,
        "copy_cpu_seconds": (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime),
        "images": len(images),
        "blobs_uploaded": len(owner),
        "bytes_sent": sent,
        "requests_sent": endpoints.requests,
    }


# --- in bench_mirror's process ------------------------------------------------------------------


def run_yardstick(workdir: str, mapping_file: str, src, dst, threads: int) -> dict:
    """Run this file as a child process (so its CPU is its own) on ``mapping_file``, from the
    endpoint ``src`` to ``dst`` (tests.support Endpoints); its JSON, plus the child's wall time."""
    import os

    from tests.benchmarks._common import ROOT, child_env, run_measured, write_params

    os.makedirs(workdir, exist_ok=True)

    def endpoint(e) -> dict:
        return {"host": e.host, "tls": e.tls, "ca_path": e.ca_path, "username": e.username, "password": e.password}

    path = write_params(os.path.join(workdir, "yardstick.json"), {
        "mapping_file": mapping_file, "threads": threads, "source": endpoint(src), "target": endpoint(dst),
    })
    run = run_measured([sys.executable, "-m", "tests.benchmarks.yardstick", path], env=child_env(), cwd=ROOT)
    run.check("yardstick child")
    out = json.loads([line for line in run.stdout.splitlines() if line.startswith("{")][-1])
    out.update(seconds=run.seconds, threads=threads)
    return out


def _ratio(num, den):
    return None if num is None or not den else num / den


def yardstick_ratios(results: dict, wall_target: float, cpu_target: float) -> tuple[dict, dict]:
    """First-run ratios of B and C to the yardstick Y (wall time of the whole process, and the
    client's CPU-seconds), and whether they meet issue 11's targets."""
    y = (results.get("Y") or {}).get("first")
    b = (results.get("B") or {}).get("first")
    c = (results.get("C") or {}).get("first")
    ratios = {
        "B_over_Y_first": _ratio(b and b["seconds"], y and y["seconds"]),
        "C_over_Y_first": _ratio(c and c["seconds"], y and y["seconds"]),
        # inside the processes: the engine's run_mapping_mirror against the yardstick's copy
        "C_engine_over_Y_copy_first": _ratio(c and c.get("engine_seconds"), y and y.get("copy_seconds")),
        "cpu_B_over_Y_first": _ratio(b and b.get("client_cpu_seconds"), y and y.get("client_cpu_seconds")),
        "cpu_C_over_Y_first": _ratio(c and c.get("client_cpu_seconds"), y and y.get("client_cpu_seconds")),
    }

    def within(value, limit):
        return None if value is None else value <= limit

    targets = {
        "first_run_at_most_1_2_of_yardstick": within(ratios["B_over_Y_first"], wall_target),
        "engine_first_run_at_most_1_2_of_yardstick": within(ratios["C_over_Y_first"], wall_target),
        "engine_cpu_at_most_1_3_of_yardstick": within(ratios["cpu_C_over_Y_first"], cpu_target),
    }
    return ratios, targets


def yardstick_lines(doc: dict, fmt, verdict) -> list[str]:
    """The summary lines of the yardstick ratios (none without a yardstick run)."""
    y = (doc["results"].get("Y") or {}).get("first")
    if not y:
        return []
    r, t = doc["ratios"], doc["targets"]
    lines = [
        f"Y yardstick: {y['threads']} threads, {y['requests_sent']} requests sent (source and target), "
        f"copy {y['copy_seconds']:.2f}s (plan {y['plan_seconds']:.2f}, blobs {y['blobs_seconds']:.2f}, "
        f"manifests {y['manifests_seconds']:.2f})",
        f"B/Y first run: {fmt(r['B_over_Y_first'])}   target <= 1.2   "
        f"{verdict(t['first_run_at_most_1_2_of_yardstick'])}   (Ansible's start-up included)",
        f"C/Y first run: {fmt(r['C_over_Y_first'])}   target <= 1.2   "
        f"{verdict(t['engine_first_run_at_most_1_2_of_yardstick'])}   (in-process: engine/copy "
        f"{fmt(r['C_engine_over_Y_copy_first'])})",
    ]
    c = (doc["results"].get("C") or {}).get("first")
    if c:
        lines.append(
            f"CPU C/Y first run: {fmt(r['cpu_C_over_Y_first'])}   target <= 1.3   "
            f"{verdict(t['engine_cpu_at_most_1_3_of_yardstick'])}   (client CPU-s per MiB: engine "
            f"{c['client_cpu_seconds_per_mib']:.4f}, yardstick {y['client_cpu_seconds_per_mib']:.4f}; "
            f"module through Ansible CPU B/Y {fmt(r['cpu_B_over_Y_first'])})")
    return lines


def main(argv: list[str]) -> int:
    with open(argv[0]) as f:
        params = json.load(f)
    print(json.dumps(run(params)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
