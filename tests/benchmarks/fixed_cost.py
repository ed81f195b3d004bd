# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a module costs every run before it does anything: its AnsiballZ payload.

    .venv/bin/python -m tests.benchmarks.fixed_cost [--module image_mirror_from_mapping] [--repeat 5]
        [--collections DIR]

Issue 11, goal 2. Needs no registry. Prints, for the module and for ``ansible.builtin.ping``
(what any one-task playbook pays):

- the payload: the AnsiballZ wrapper's bytes and the collection's module_utils files in it, as
  the controller builds it (``module_common.modify_module``: every file a module imports, at any
  depth, even inside a function);
- ``build ms``: the controller's CPU time to build it (it parses each file it ships, at every
  run), in a fresh process each time, ping's first;
- ``import ms``: the CPU time of importing the module from the payload's zip after
  ``ansible.module_utils.basic``, as the host does (zipimport compiles every source each time).

Each figure is the minimum over ``--repeat`` fresh processes: CPU time, not wall time, and the
minimum, because the machine is shared.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile

from tests.benchmarks._common import child_env

_BUILD = r"""
import json, sys, time
from ansible.executor import module_common
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader, module_loader
from ansible.template import Templar
init_plugin_loader()
out = {}
for name in sys.argv[2:]:
    found = module_loader.find_plugin_with_context(name)
    start = time.process_time()
    built = module_common.modify_module(
        module_name=name, module_path=found.plugin_resolved_path, module_args={}, templar=Templar(loader=DataLoader()),
        task_vars={"ansible_playbook_python": sys.executable}, module_compression="ZIP_DEFLATED", remote_is_local=True)
    out[name] = time.process_time() - start
    with open(sys.argv[1] + "." + name, "wb") as handle:
        handle.write(built.b_module_data)
print(json.dumps(out))
"""

_IMPORT = r"""
import sys, time
sys.path.insert(0, sys.argv[1])
from ansible.module_utils import basic  # noqa: F401  (ping imports it too)
start = time.process_time()
__import__(sys.argv[2])
print(time.process_time() - start)
"""


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m tests.benchmarks.fixed_cost", description=__doc__.split("\n\n", maxsplit=1)[0])
    p.add_argument("--module", default="image_mirror_from_mapping", help="module of the collection; default %(default)s")
    p.add_argument("--repeat", type=int, default=5, help="fresh processes per figure (the minimum counts); default 5")
    p.add_argument("--collections", default=None, metavar="DIR",
                   help="a directory holding ansible_collections/airgap/operatorhub to measure instead of this tree "
                        "(another commit's, from git archive): before and after")
    return p.parse_args(argv)


def payload_zip(wrapper: bytes) -> zipfile.ZipFile:
    match = re.search(rb"zip_data='([^']*)'", wrapper)
    if match is None:
        raise SystemExit("no zip_data in the AnsiballZ wrapper: this ansible-core builds it differently")
    return zipfile.ZipFile(io.BytesIO(base64.b64decode(match.group(1))))


def main(argv=None) -> int:
    args = parse_args(argv)
    fqcn = f"airgap.operatorhub.{args.module}"
    env = child_env()
    if args.collections:
        env.update(PYTHONPATH=os.path.abspath(args.collections), ANSIBLE_COLLECTIONS_PATH=os.path.abspath(args.collections))
    work = tempfile.mkdtemp(prefix="airgap-fixed-cost-")
    base = os.path.join(work, "payload")
    builds: dict[str, list[float]] = {"ansible.builtin.ping": [], fqcn: []}
    for dummy in range(args.repeat):
        out = subprocess.run([sys.executable, "-c", _BUILD, base, "ansible.builtin.ping", fqcn], env=env,
                             capture_output=True, text=True, check=True).stdout
        for name, seconds in json.loads(out.strip().splitlines()[-1]).items():
            builds[name].append(seconds)
    rows = []
    for name in builds:
        with open(f"{base}.{name}", "rb") as handle:
            wrapper = handle.read()
        archive = payload_zip(wrapper)
        ours = [i for i in archive.infolist() if i.filename.startswith("ansible_collections/airgap/")]
        zip_path = os.path.join(work, f"{name}.zip")
        with open(zip_path, "wb") as handle:
            handle.write(archive.fp.getvalue())
        module = ("ansible_collections.airgap.operatorhub.plugins.modules." + args.module if name == fqcn
                  else "ansible.modules.ping")
        imports = []
        for dummy in range(args.repeat):
            out = subprocess.run([sys.executable, "-c", _IMPORT, zip_path, module], env={"PATH": os.environ["PATH"]},
                                 capture_output=True, text=True, check=True).stdout
            imports.append(float(out.strip()))
        rows.append((name, len(wrapper), len(archive.infolist()), len(ours), sum(i.file_size for i in ours),
                     min(builds[name]) * 1000, min(imports) * 1000))
    print(f"{'module':46s} {'wrapper B':>10s} {'files':>6s} {'collection files':>17s} {'collection B':>13s} "
          f"{'build ms':>9s} {'import ms':>10s}")
    for row in rows:
        print(f"{row[0]:46s} {row[1]:10d} {row[2]:6d} {row[3]:17d} {row[4]:13d} {row[5]:9.0f} {row[6]:10.0f}")
    print(f"\n{fqcn} beyond ping: build {rows[1][5] - rows[0][5]:.0f} ms, import {rows[1][6]:.0f} ms "
          f"(min of {args.repeat}; CPU time on this machine, load {os.getloadavg()[0]:.1f})")
    for name in builds:
        os.unlink(f"{base}.{name}")
        os.unlink(os.path.join(work, f"{name}.zip"))
    os.rmdir(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
