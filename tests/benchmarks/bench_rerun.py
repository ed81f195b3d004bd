# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A re-run that changes nothing, against an empty playbook, with nothing between the module and
the registries (issue 11, goal 2: <= 0.5 s beyond the empty playbook for 40 images).

    .venv/bin/python -m tests.benchmarks.bench_rerun [--images 40] [--repeat 6]

bench_mirror measures the same re-run, but through its counting proxy in front of the target,
which adds a Python TLS hop to every request. Here: ``--images`` two-platform images (small
layers: a re-run sends no blob) in a plain-HTTP source and a TLS + htpasswd target
(``docker-registry``), one first run, then ``--repeat`` times, alternating, ``ansible-playbook``
of one image_mirror_from_mapping task (tag lines) and of one ``ansible.builtin.ping`` task. Prints
the minimum wall time and CPU time (children's user + system) of each, and the difference.
Never asserted; run by hand.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import yaml

from tests.benchmarks._common import MODULE, child_env
from tests.support.images import make_image_set, push_image_set
from tests.support.registry import RegistryServer, registry_options

PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")


def timed(playbook: str, cwd: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the whole process tree) of one ansible-playbook run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    proc = subprocess.run([PLAYBOOK, "-i", "localhost,", playbook], env=child_env(), cwd=cwd,
                          capture_output=True, text=True, check=False)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{playbook} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--images", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=6)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="bench-rerun-")
    try:
        with RegistryServer(tls=False, auth=None) as src, RegistryServer(tls=True, auth="htpasswd") as dst:
            images = make_image_set(os.path.join(work, "set"), count=args.images,
                                    platforms=("linux/amd64", "linux/arm64"), shared_layers=2,
                                    shared_layer_size=64 * 1024, own_layer_size=16 * 1024, seed=5)
            push_image_set(images, src, "src", parallel=4)
            mapping = os.path.join(work, "mapping.txt")
            with open(mapping, "w") as handle:
                handle.writelines(f"{src.host}/src/{i.name}:{i.tag}={dst.host}/bench/{i.name}:{i.tag}\n"
                                  for i in images.images)
            task = {MODULE: {"mapping_file": mapping, "registries": registry_options(src, dst),
                             "report_file": os.path.join(work, "report.json")}}
            for name, tasks in (("mirror.yml", [task]), ("ping.yml", [{"ansible.builtin.ping": {}}])):
                with open(os.path.join(work, name), "w") as handle:
                    yaml.safe_dump([{"hosts": "localhost", "connection": "local", "gather_facts": False,
                                     "tasks": tasks}], handle)
            first = timed("mirror.yml", work)
            print(f"first run {first[0]:.2f} s ({args.images} images)")
            runs: dict[str, list[tuple[float, float]]] = {"mirror.yml": [], "ping.yml": []}
            for _dummy in range(args.repeat):
                for name, measured in runs.items():
                    measured.append(timed(name, work))
            best = {name: (min(w for w, _c in m), min(c for _w, c in m)) for name, m in runs.items()}
            for name, (wall, cpu) in best.items():
                print(f"{name:11s} min wall {wall:.3f} s, min CPU {cpu:.3f} s (of {args.repeat})")
            wall = best["mirror.yml"][0] - best["ping.yml"][0]
            cpu = best["mirror.yml"][1] - best["ping.yml"][1]
            print(f"re-run beyond ping: wall {wall:.3f} s, CPU {cpu:.3f} s; target <= 0.5 s: "
                  f"{'met' if wall <= 0.5 else 'MISSED'}; load average now {os.getloadavg()}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
