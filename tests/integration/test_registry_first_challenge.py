# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One 401 per registry per client, not one per thread (issue 11): threads that start at once
through one RegistryClient with credentials let the first request learn the registry's
challenge, then send credentials straight away. Real registries (TLS + htpasswd, TLS + token,
plain) behind the fault proxy, which holds the first request to show who waits for it."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import Credentials
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.client import RegistryClient
from tests.integration.test_registry_client import push_image
from tests.support.faultproxy import hold
from tests.support.gate import watch_gate

THREADS = 8


def client_through(proxy, credentials: bool = True) -> RegistryClient:
    creds = Credentials(proxy.username or "someone", proxy.password or "anything") if credentials else None
    if proxy.tls:
        return RegistryClient(proxy.host, credentials=creds, ca_path=proxy.ca_path, retries=0)
    return RegistryClient(f"http://{proxy.host}", credentials=creds, retries=0)


def arrivals_while_held(proxy, call, repos, wait_for_all: bool, gate=None):
    """Run ``call(repo)`` in one thread per repo, started at once, while the proxy holds the
    first request it gets. Returns (requests that reached the proxy while it held the first,
    results in repo order); every thread must have succeeded. With ``gate`` (a CountingGate in
    the client), the first request is released once all the others wait on the gate (or after
    10 s: then they did not wait, and reached the proxy)."""
    released = threading.Event()
    proxy.add_rule(hold(released, timeout=60), count=1)
    start = threading.Barrier(len(repos) + 1)
    results: dict[int, object] = {}
    errors: list[BaseException] = []

    def work(index, repo):
        start.wait()
        try:
            results[index] = call(repo)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i, repo)) for i, repo in enumerate(repos)]
    for thread in threads:
        thread.start()
    start.wait()
    # The threads all call at once. Give the others a chance to send while the first is held:
    # without the gate they all do within this time; with it, none may (they wait for an answer).
    if gate is not None:
        # the others wait on the gate, and the first request reached the proxy (it may still be
        # connecting when they all wait)
        gate.until_waiting(len(repos) - 1)
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline and proxy.count() < 1:
            time.sleep(0.01)
    else:
        deadline = time.monotonic() + (10.0 if wait_for_all else 0.5)
        while time.monotonic() < deadline and proxy.count() < len(repos):
            time.sleep(0.02)
    held = proxy.count()
    released.set()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)
    return held, [results[i] for i in range(len(repos))]


def statuses(proxy) -> list:
    return [entry[2] for entry in proxy.log]


def test_threads_starting_at_once_cost_one_401_basic(tls_registry, fault_proxy_factory):
    repo = f"gate/{uuid.uuid4().hex[:10]}"
    direct = RegistryClient(tls_registry.host, Credentials(tls_registry.username, tls_registry.password),
                            ca_path=tls_registry.ca_path)
    manifest, dummy, dummy = push_image(direct, repo, layer_size=1000)
    proxy = fault_proxy_factory(tls_registry)
    client = client_through(proxy)
    held, found = arrivals_while_held(proxy, lambda r: client.head_manifest(r, "v1"), [repo] * THREADS, False,
                                      gate=watch_gate(client))
    assert held == 1, "the other threads sent before the first request had its answer"
    assert [d.digest for d in found] == [manifest.digest] * THREADS
    # the first request got the one challenge, and every other request went with credentials
    assert statuses(proxy) == [401] + [200] * THREADS


def test_threads_starting_at_once_cost_one_401_bearer(token_registry, fault_proxy_factory):
    server = token_registry.token_server
    repos = [f"gate/b{i}-{uuid.uuid4().hex[:8]}" for i in range(THREADS)]
    proxy = fault_proxy_factory(token_registry)
    client = client_through(proxy)
    before, issued_before = server.requests, len(server.issued)
    held, found = arrivals_while_held(proxy, lambda r: client.head_manifest(r, "v1"), repos, False,
                                      gate=watch_gate(client))
    assert held == 1
    assert found == [None] * THREADS  # none of these repositories exists: a 404 each, with a token
    assert statuses(proxy) == [401] + [404] * THREADS
    # each thread fetched a token for its own repository (a token for one serves no other)
    assert server.requests - before == THREADS
    granted = sorted(a["name"] for claims in server.issued[issued_before:] for a in claims["access"])
    assert granted == sorted(repos)


@pytest.mark.parametrize("credentials", [True, False], ids=["credentials", "anonymous"])
def test_a_registry_without_auth_gets_no_401_and_no_deadlock(plain_registry, fault_proxy_factory, credentials):
    repos = [f"gate/p{i}-{uuid.uuid4().hex[:8]}" for i in range(THREADS)]
    proxy = fault_proxy_factory(plain_registry)
    client = client_through(proxy, credentials=credentials)
    held, found = arrivals_while_held(proxy, lambda r: client.head_manifest(r, "v1"), repos, not credentials,
                                      gate=watch_gate(client) if credentials else None)
    # with credentials the others wait for the first answer; without, nobody waits for anything
    assert held == (1 if credentials else THREADS)
    assert found == [None] * THREADS
    assert statuses(proxy) == [404] * THREADS
