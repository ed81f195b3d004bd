# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CPU per request: the registry client against a bare urllib3 pool and bare ``http.client``.

    .venv/bin/python -m tests.benchmarks.per_request [--requests 400] [--rounds 2]

Issue 11, goal 1. One TLS + htpasswd ``docker-registry`` on 127.0.0.1; the same HEAD of a
manifest (a 404: nothing is pushed) ``--requests`` times over one kept-alive connection by each
contender, in this process, in turn, ``--rounds`` times. Prints the process's CPU time per
request (user + system, ms). The registry client is what the copy engine sends through; the
difference to ``http.client`` is what a lean connection pool of our own could save per request.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import resource
import ssl
import sys

import urllib3

from tests.support.collections_path import collections_root
from tests.support.registry import RegistryServer

PATH = "/v2/bench/app/manifests/v1"


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _per_request(send, count: int) -> float:
    send()  # connected, and the registry's scheme learnt
    start = _cpu()
    for _dummy in range(count):
        send()
    return (_cpu() - start) / count * 1000


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    sys.path.insert(0, collections_root())
    # pylint: disable-next=import-outside-toplevel
    from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import Credentials
    # pylint: disable-next=import-outside-toplevel
    from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.client import RegistryClient

    with RegistryServer(tls=True, auth="htpasswd") as registry:
        host, port = registry.host.rsplit(":", 1)
        client = RegistryClient(registry.host, Credentials(registry.username, registry.password),
                                ca_path=registry.ca_path, pool_size=1)
        context = ssl.create_default_context(cafile=registry.ca_path)
        context.check_hostname = False
        token = base64.b64encode(f"{registry.username}:{registry.password}".encode()).decode()
        headers = {"Authorization": "Basic " + token, "Accept": "application/vnd.oci.image.index.v1+json"}
        pool = urllib3.HTTPSConnectionPool(host, int(port), ssl_context=context, maxsize=1)
        plain = http.client.HTTPSConnection(host, int(port), context=context)

        def bare() -> None:
            plain.request("HEAD", PATH, headers=headers)
            plain.getresponse().read()

        print("ms of CPU per HEAD: registry client, bare urllib3 pool, bare http.client")
        for round_number in range(1, args.rounds + 1):
            ours = _per_request(lambda: client.head_manifest("bench/app", "v1"), args.requests)
            pooled = _per_request(lambda: pool.request("HEAD", PATH, headers=headers, retries=False), args.requests)
            lean = _per_request(bare, args.requests)
            print(f"round {round_number}: {ours:.3f} {pooled:.3f} {lean:.3f}")
        client.close()
        pool.close()
        plain.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
