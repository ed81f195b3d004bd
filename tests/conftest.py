# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared pytest setup: the collection on sys.path, real registries, fault proxies, images.

Fixtures (see tests/support/ for the classes):

``plain_registry`` / ``tls_registry`` / ``token_registry`` (session)
    RegistryServer: HTTP without auth / TLS + htpasswd / TLS + token auth. Shared by every
    test of the session: use your own repository names, or ``registry_factory`` for an empty one.
``registry_factory(tls=False, auth=None, **kwargs)`` (function)
    a fresh, started, empty RegistryServer; all stopped at teardown.
``fault_proxy_factory(upstream)`` (function)
    a started FaultProxy in front of ``upstream``; stopped at teardown.
``image_cache`` (session)
    ImageCache: deterministic layouts generated once per session.
``image_set`` (session)
    ImageSet of 3 two-platform OCI images sharing 2 base layers, pushed to ``plain_registry``
    as ``src/app0:v1`` ...; ``image_set.pushed`` maps name -> pushed reference.
``skopeo_inspect`` (fixture returning :func:`tests.support.registry.skopeo_inspect`)
``kube_api`` (function)
    KubeApiServer: the stand-in Kubernetes API server (a TEST DOUBLE, tests/support/kube_apiserver.py)
    on 127.0.0.1 over HTTPS, empty but for an OpenShift baseline (namespaces, OperatorHub cluster,
    ClusterVersion); ``url``, ``token``, ``ca_path``, ``kubeconfig``, ``kubectl(*args)``.
``sshd`` (session)
    SshServer: a throwaway sshd on 127.0.0.1 (root login by key only); ``sshd.host_vars(python)``
    are the inventory variables of a host reached over a real ssh connection. Skipped with the
    reason when sshd cannot run here.

Tests under tests/integration/ get the ``integration`` marker, and are skipped with a message
when /usr/bin/docker-registry or skopeo is missing.
"""

from __future__ import annotations

import os
import shutil
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from tests.support.collections_path import collections_root  # noqa: E402

COLLECTIONS_ROOT = collections_root()
if COLLECTIONS_ROOT not in sys.path:
    sys.path.insert(0, COLLECTIONS_ROOT)
# ansible-playbook / ansible-doc run by integration tests find the collection here too.
os.environ["ANSIBLE_COLLECTIONS_PATH"] = os.pathsep.join(
    p for p in (COLLECTIONS_ROOT, os.environ.get("ANSIBLE_COLLECTIONS_PATH")) if p
)

from tests.support.faultproxy import FaultProxy  # noqa: E402
from tests.support.images import ImageCache, push_image_set  # noqa: E402
from tests.support.registry import REGISTRY_BIN, RegistryServer, skopeo_inspect as _skopeo_inspect  # noqa: E402

MISSING_TOOLS = [p for p in (REGISTRY_BIN, shutil.which("skopeo") or "skopeo") if not os.path.exists(p)]
SKIP_REASON = (
    f"needs {' and '.join(MISSING_TOOLS)} (Debian packages docker-registry, skopeo; "
    "run hack/bootstrap.sh)"
)


def pytest_collection_modifyitems(config, items):
    integration_dir = os.path.join(ROOT, "tests", "integration") + os.sep
    for item in items:
        if str(item.fspath).startswith(integration_dir):
            item.add_marker(pytest.mark.integration)
        if MISSING_TOOLS and item.get_closest_marker("integration"):
            item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


def _require_tools() -> None:
    if MISSING_TOOLS:
        pytest.skip(SKIP_REASON)


@pytest.fixture(scope="session")
def plain_registry():
    _require_tools()
    with RegistryServer(tls=False, auth=None) as reg:
        yield reg


@pytest.fixture(scope="session")
def tls_registry():
    _require_tools()
    with RegistryServer(tls=True, auth="htpasswd") as reg:
        yield reg


@pytest.fixture(scope="session")
def token_registry():
    _require_tools()
    with RegistryServer(tls=True, auth="token") as reg:
        yield reg


@pytest.fixture
def registry_factory():
    _require_tools()
    started: list[RegistryServer] = []

    def factory(tls: bool = False, auth: str | None = None, **kwargs) -> RegistryServer:
        reg = RegistryServer(tls=tls, auth=auth, **kwargs)
        started.append(reg)
        return reg.start()

    yield factory
    for reg in reversed(started):
        reg.stop()


@pytest.fixture
def fault_proxy_factory():
    started: list[FaultProxy] = []

    def factory(upstream: RegistryServer) -> FaultProxy:
        proxy = FaultProxy(upstream)
        started.append(proxy)
        return proxy.start()

    yield factory
    for proxy in reversed(started):
        proxy.stop()


@pytest.fixture(scope="session")
def image_cache(tmp_path_factory) -> ImageCache:
    return ImageCache(str(tmp_path_factory.mktemp("images")))


@pytest.fixture(scope="session")
def image_set(image_cache, plain_registry):
    meta = image_cache.image_set(count=3, shared_layers=2, shared_layer_size=256 * 1024,
                                 own_layer_size=32 * 1024, seed=1)
    meta.pushed = push_image_set(meta, plain_registry, "src")
    return meta


@pytest.fixture(scope="session")
def skopeo_inspect():
    return _skopeo_inspect


@pytest.fixture
def kube_api():
    from tests.support.kube_apiserver import KubeApiServer

    with KubeApiServer() as api:
        yield api


@pytest.fixture(scope="session")
def sshd():
    from tests.support.sshd import SshServer, unavailable_reason

    reason = unavailable_reason()
    if reason:
        pytest.skip(f"throwaway sshd: {reason}")
    with SshServer() as server:
        yield server
