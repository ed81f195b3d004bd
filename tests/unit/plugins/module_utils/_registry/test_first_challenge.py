# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The first challenge gate of a client with credentials (issue 11): when the first request
fails, or hangs, the requests waiting for its answer are released and go on their own."""

from __future__ import annotations

import socket
import threading

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import Credentials
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.client import RegistryClient
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.token import Authenticator
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.transport import Secrets
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import RegistryError
from tests.support.gate import watch_gate
from tests.support.hostile import HostileServer, Reply

THREADS = 6
CREDENTIALS = Credentials("mirror", "s3cret-Pa55w0rd")


def all_at_once(call, n: int = THREADS) -> list:
    """Run ``call()`` in ``n`` threads started together; what each returned or raised."""
    start = threading.Barrier(n)
    outcomes: list = [None] * n

    def work(index):
        start.wait()
        try:
            outcomes[index] = call()
        except Exception as exc:  # noqa: BLE001 - the test looks at it
            outcomes[index] = exc

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads), "a request hangs"
    return outcomes


@pytest.fixture
def server():
    started = HostileServer(lifetime=30.0).start()
    yield started
    started.stop()


def test_a_first_request_answered_500_releases_the_others(server):
    first_in = threading.Event()
    let_go = threading.Event()

    def answer(request):
        if not first_in.is_set():
            first_in.set()
            let_go.wait(5)  # the others reach the gate meanwhile
        return Reply(500, {"Content-Type": "application/json"}, b'{"errors":[{"code":"UNKNOWN"}]}')

    def release():
        while_held.append(len(server.received))
        let_go.set()

    server.handler = answer
    while_held: list = []
    # a waiter not released would wait for one exchange's time (40 s), longer than all_at_once's join
    client = RegistryClient(f"http://{server.host}", CREDENTIALS, retries=0, timeout=20)
    gate = watch_gate(client)
    # the first answer comes once the others wait for it (or, if they do not wait, have sent)
    # (and the first request reached the server: it may still be connecting when they all wait)
    threading.Thread(target=lambda: (gate.until_waiting(THREADS - 1), first_in.wait(10), release()),
                     daemon=True).start()
    outcomes = all_at_once(lambda: client.get_manifest("ns/app", "v1"))
    assert while_held == [1], "the others sent before the first request had its answer"
    # each request got its own answer and its own error; none was sent with credentials
    assert [type(o) for o in outcomes] == [RegistryError] * THREADS
    assert all("HTTP 500" in str(o) for o in outcomes)
    assert len(server.received) == THREADS
    assert server.authorizations() == []


def test_a_first_request_refused_a_connection_releases_the_others():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # nothing listens there now: the first request is refused, then the host is unreachable
    client = RegistryClient(f"http://127.0.0.1:{port}", CREDENTIALS, retries=0, timeout=20)
    outcomes = all_at_once(lambda: client.get_manifest("ns/app", "v1"))
    assert [type(o) for o in outcomes] == [RegistryError] * THREADS
    assert all(str(port) in str(o) for o in outcomes)


def test_a_hung_first_request_holds_the_others_no_longer_than_the_wait():
    auth = Authenticator("reg.example", CREDENTIALS, transport=None, secrets=Secrets([]), first_wait=0.2)
    assert auth.pass_gate() is True  # this caller goes first, and never opens the gate
    assert all_at_once(auth.pass_gate, 3) == [False] * 3
    # once the wait ran out, the gate stays open: later requests do not wait at all
    assert auth.pass_gate() is False


def test_a_client_without_credentials_never_waits():
    auth = Authenticator("reg.example", None, transport=None, secrets=Secrets([]), first_wait=60.0)
    assert [auth.pass_gate() for dummy in range(3)] == [False] * 3


def test_only_one_request_goes_first_and_opening_is_for_good():
    auth = Authenticator("reg.example", CREDENTIALS, transport=None, secrets=Secrets([]), first_wait=60.0)
    firsts = []
    taken = threading.Event()

    def take():
        if auth.pass_gate():
            firsts.append(1)
            taken.set()

    waiter = threading.Thread(target=take)
    take()
    waiter.start()
    assert taken.is_set() and firsts == [1]
    auth.open_gate()
    waiter.join(5)
    assert not waiter.is_alive() and firsts == [1]
    assert auth.pass_gate() is False
