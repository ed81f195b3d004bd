# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import ssl

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.tls import (
    ProxyChoice,
    split_proxy_credentials,
    ssl_context_for,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import RegistryError

_PROXY_VARIABLES = ("http_proxy", "https_proxy", "no_proxy", "all_proxy")


@pytest.mark.parametrize(
    "proxy, expected",
    [
        ("proxy.example:3128", ("http://proxy.example:3128", None, "")),
        ("https://proxy.example", ("https://proxy.example", None, "")),
        ("http://user:s3cret@proxy.example:3128", ("http://proxy.example:3128", "user:s3cret", "s3cret")),
        ("http://user@proxy.example", ("http://proxy.example", "user:", "")),
    ],
)
def test_split_proxy_credentials(proxy, expected):
    assert split_proxy_credentials(proxy) == expected


@pytest.fixture
def proxy_env(monkeypatch):
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    return monkeypatch


def test_proxy_choice_follows_the_environment_and_remembers(proxy_env):
    proxy_env.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    proxy_env.setenv("NO_PROXY", "internal.example,10.0.0.1")
    choice = ProxyChoice()
    assert choice.proxy_for("https", "reg.example:5000") == "http://proxy.example:3128"
    # NO_PROXY entries match with or without the port
    assert choice.proxy_for("https", "internal.example:5000") == ""
    assert choice.proxy_for("https", "10.0.0.1:443") == ""
    assert choice.proxy_for("http", "reg.example:5000") == ""  # no http_proxy set
    proxy_env.delenv("HTTPS_PROXY")
    assert choice.proxy_for("https", "reg.example:5000") == "http://proxy.example:3128"
    assert ProxyChoice().proxy_for("https", "reg.example:5000") == ""


def test_ssl_context_is_shared_per_settings(tmp_path):
    assert ssl_context_for(False, None) is ssl_context_for(False, None)
    insecure = ssl_context_for(False, None)
    assert insecure.verify_mode == ssl.CERT_NONE and not insecure.check_hostname
    empty_dir = tmp_path / "certs.d"
    empty_dir.mkdir()
    (empty_dir / "README.txt").write_text("not a certificate, and not read")
    verified = ssl_context_for(True, str(empty_dir))
    assert verified.verify_mode == ssl.CERT_REQUIRED and verified is not insecure


def test_unloadable_ca_says_which_file(tmp_path):
    bad = tmp_path / "ca.pem"
    bad.write_text("not PEM")
    with pytest.raises(RegistryError, match=f"CA file {bad} .ca_path. cannot be loaded"):
        ssl_context_for(True, str(bad))
    ca_dir = tmp_path / "dir"
    ca_dir.mkdir()
    (ca_dir / "registry.crt").write_text("not PEM either")
    with pytest.raises(RegistryError, match=f"CA file {ca_dir / 'registry.crt'} .ca_path. cannot be loaded"):
        ssl_context_for(True, str(ca_dir))


def test_unloadable_client_certificate(tmp_path):
    cert, key = tmp_path / "client.cert", tmp_path / "client.key"
    cert.write_text("junk")
    key.write_text("junk")
    with pytest.raises(RegistryError, match="client certificate .* cannot be loaded"):
        ssl_context_for(False, None, (str(cert), str(key)))
