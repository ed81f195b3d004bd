# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TEST DOUBLE for the demo lab (``make demo``): the stand-in Kubernetes API server
(:mod:`tests.support.kube_apiserver`) with every simulation of cluster behaviour
(:func:`tests.support.kube_sims.install_simulators`: catalog pods, MachineConfigPools rolling,
PackageManifests, operator installs), run in the background like the lab's registries:

    python -m tests.support.kube_lab serve --dir DIR [--step-seconds S]

It reads DIR/lab.json, written by :mod:`tests.support.lab`: the simulated nodes reach only the
lab's **target** registry (the private mirror; the source registry "does not resolve", as in an
air gap). It writes DIR/kube/kubeconfig (server, token, the CA copied to DIR/kube/ca.crt) and then
DIR/kube/kube.json (url, kubeconfig, ca_path, pid) once it serves, and serves until SIGTERM.
:func:`start` runs it detached and waits for kube.json; :func:`stop` ends it. It is not a
cluster: see kube_apiserver.py for what it speaks and the simulators for what they simplify.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from types import SimpleNamespace

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULE = "tests.support.kube_lab"


def _endpoint(described: dict) -> SimpleNamespace:
    """What the simulators need of a registry (host, tls, ca_path, username, password), from
    RegistryServer.describe() as lab.json holds it."""
    return SimpleNamespace(host=described["host"], tls=described["tls"], ca_path=described.get("ca_path"),
                           username=described.get("username"), password=described.get("password"))


def serve(directory: str, step_seconds: float = 0.3) -> int:
    # Imported here: `start` and `stop` run in processes that need none of it.
    from .kube_apiserver import KubeApiServer  # pylint: disable=import-outside-toplevel
    from .kube_sims import install_simulators, stop_simulators  # pylint: disable=import-outside-toplevel

    directory = os.path.abspath(directory)
    with open(os.path.join(directory, "lab.json"), encoding="utf-8") as handle:
        lab = json.load(handle)
    kube_dir = os.path.join(directory, "kube")
    os.makedirs(kube_dir, exist_ok=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    with KubeApiServer() as api:
        sims = install_simulators(api, [_endpoint(lab["target"])], step_seconds=step_seconds)
        try:
            ca_path = os.path.join(kube_dir, "ca.crt")
            shutil.copyfile(api.ca_path, ca_path)
            kubeconfig = os.path.join(kube_dir, "kubeconfig")
            with open(api.kubeconfig, encoding="utf-8") as handle:
                config = yaml.safe_load(handle)
            config["clusters"][0]["cluster"]["certificate-authority"] = ca_path
            _write(kubeconfig, yaml.safe_dump(config))
            _write(os.path.join(kube_dir, "kube.json"), json.dumps({
                "url": api.url, "kubeconfig": kubeconfig, "ca_path": ca_path, "pid": os.getpid(),
                "simulators": sorted(sims), "nodes_reach": [lab["target"]["host"]],
            }, indent=2))
            while not done.wait(0.5):
                pass
        finally:
            stop_simulators(sims)
    return 0


def _write(path: str, text: str) -> None:
    with open(path + ".tmp", "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path + ".tmp", 0o600)  # the kubeconfig holds the token
    os.replace(path + ".tmp", path)


def alive(pid: int | None) -> bool:
    """Whether ``pid`` is still a kube_lab server (not a recycled pid)."""
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return MODULE.encode() in handle.read()
    except OSError:
        return False


def start(directory: str, step_seconds: float = 0.3, timeout: float = 60) -> dict:
    """Start ``serve`` detached (it outlives this process, as the registries do); returns
    kube.json once it serves."""
    directory = os.path.abspath(directory)
    kube_dir = os.path.join(directory, "kube")
    shutil.rmtree(kube_dir, ignore_errors=True)
    os.makedirs(kube_dir)
    log_path = os.path.join(kube_dir, "kube.log")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p))
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen(  # pylint: disable=consider-using-with
            [sys.executable, "-m", MODULE, "serve", "--dir", directory, "--step-seconds", str(step_seconds)],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    info_path = os.path.join(kube_dir, "kube.json")
    deadline = time.monotonic() + timeout
    while not os.path.exists(info_path):
        if process.poll() is not None or time.monotonic() > deadline:
            stop({"pid": process.pid})
            with open(log_path, encoding="utf-8") as log:
                raise RuntimeError(f"the stand-in API server did not start (see {log_path}):\n{log.read()[-4000:]}")
        time.sleep(0.05)
    with open(info_path, encoding="utf-8") as handle:
        info = json.load(handle)
    info["log_path"] = log_path
    return info


def stop(info: dict | None) -> bool:
    """Stop the server of ``info`` (kube.json, as lab.json records it); True when one was stopped."""
    pid = (info or {}).get("pid")
    if not alive(pid):
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if alive(pid):
        os.kill(pid, signal.SIGKILL)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description=__doc__.split("\n\n", maxsplit=1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_serve = sub.add_parser("serve", help="serve the stand-in API server with the simulations until SIGTERM")
    p_serve.add_argument("--dir", required=True)
    p_serve.add_argument("--step-seconds", type=float, default=0.3,
                         help="time between two steps of the MachineConfigPool rollout")
    args = parser.parse_args(argv)
    return serve(args.dir, args.step_seconds)


if __name__ == "__main__":
    sys.exit(main())
