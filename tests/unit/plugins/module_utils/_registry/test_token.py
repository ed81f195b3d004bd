# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import json

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import Credentials
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.token import (
    Authenticator,
    parse_challenge,
    repository_scope,
    scopes_cover,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.transport import Response, Secrets
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import AuthError, RegistryError


@pytest.mark.parametrize(
    "header, expected",
    [
        (None, None),
        ("", None),
        ('Basic realm="Registry Realm"', ("basic", {"realm": "Registry Realm"})),
        (
            'Bearer realm="https://auth.example.com/token",service="registry.example.com",'
            'scope="repository:org/app:pull,push"',
            ("bearer", {"realm": "https://auth.example.com/token", "service": "registry.example.com",
                        "scope": "repository:org/app:pull,push"}),
        ),
        (
            'Bearer realm="https://a/token",error="insufficient_scope",scope="repository:a:pull repository:b:push"',
            ("bearer", {"realm": "https://a/token", "error": "insufficient_scope",
                        "scope": "repository:a:pull repository:b:push"}),
        ),
        # unquoted values end at a comma or blank; spaces around "=" and after "," are allowed
        ("Bearer realm=https://a/token, service = reg", ("bearer", {"realm": "https://a/token", "service": "reg"})),
        # scheme and parameter names are case-insensitive
        ('BEARER Realm="x",SERVICE="y"', ("bearer", {"realm": "x", "service": "y"})),
        ('Bearer realm="say \\"hi\\""', ("bearer", {"realm": 'say "hi"'})),
        ("Negotiate", ("negotiate", {})),
    ],
)
def test_parse_challenge(header, expected):
    assert parse_challenge(header) == expected


def test_repository_scope():
    assert repository_scope("org/app", "pull,push") == "repository:org/app:pull,push"


@pytest.mark.parametrize(
    "have, need, covered",
    [
        ({"repository:a:pull,push"}, {"repository:a:pull"}, True),
        ({"repository:a:pull"}, {"repository:a:pull,push"}, False),
        ({"repository:a:pull"}, {"repository:b:pull"}, False),
        ({"repository:org/a:pull,push", "repository:org/b:pull"}, {"repository:org/a:push", "repository:org/b:pull"}, True),
        ({"repository:org/a:pull,push"}, {"repository:org/a:push", "repository:org/b:pull"}, False),
        ({"repository:a:pull"}, set(), True),
        (set(), {"repository:a:pull"}, False),
        # the same name in another resource type is another grant
        ({"registry:catalog:*"}, {"repository:catalog:*"}, False),
    ],
)
def test_scopes_cover(have, need, covered):
    assert scopes_cover(frozenset(have), frozenset(need)) is covered


class FakeTransport:
    """Answers token requests from a list of (status, body) and records them."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.requests = []

    def base(self):
        return "https://reg.example"

    def exchange(self, method, url, headers, body, max_body=None):
        self.requests.append((method, url, headers, body))
        status, payload = self.answers.pop(0)
        return Response(status, {}, json.dumps(payload).encode(), url)


BEARER = ("bearer", {"realm": "https://auth.example/token", "service": "reg.example"})
PULL = frozenset({"repository:org/app:pull"})
PUSH = frozenset({"repository:org/app:pull,push"})


def authenticator(answers, credentials=None):
    secrets = Secrets(credentials.secrets() if credentials else [])
    transport = FakeTransport(answers)
    return Authenticator("reg.example", credentials, transport, secrets), transport, secrets


def test_no_challenge_sends_nothing():
    auth, transport, dummy = authenticator([])
    assert auth.headers(PULL) == ({}, None, False)
    assert transport.requests == []


def test_bearer_token_is_fetched_once_and_serves_narrower_scopes():
    auth, transport, dummy = authenticator([(200, {"token": "tok-1", "expires_in": 300})], Credentials("u", "pw"))
    assert auth.accept_challenge(BEARER, None, False, PUSH) == (True, PUSH)
    assert auth.headers(PUSH) == ({"Authorization": "Bearer tok-1"}, "bearer", True)
    assert auth.headers(PUSH) == ({"Authorization": "Bearer tok-1"}, "bearer", False)
    assert auth.headers(PULL) == ({"Authorization": "Bearer tok-1"}, "bearer", False)
    assert len(transport.requests) == 1
    method, url, headers, dummy_body = transport.requests[0]
    assert method == "GET"
    assert url == "https://auth.example/token?service=reg.example&scope=repository%3Aorg%2Fapp%3Apull%2Cpush&account=u"
    assert headers == {"Authorization": "Basic dTpwdw=="}  # base64 of "u:pw"


def test_a_refused_fresh_token_is_not_asked_for_again():
    auth, dummy, dummy_secrets = authenticator([(200, {"token": "tok-1"})], Credentials("u", "pw"))
    auth.accept_challenge(BEARER, None, False, PULL)
    dummy_headers, kind, fresh = auth.headers(PULL)
    assert auth.accept_challenge(BEARER, kind, fresh, PULL) == (False, PULL)


def test_a_challenge_for_more_scopes_asks_again_with_them():
    wider = ("bearer", dict(BEARER[1], scope="repository:org/app:pull,push", error="insufficient_scope"))
    auth, dummy, dummy_secrets = authenticator([(200, {"token": "tok-1"})], Credentials("u", "pw"))
    auth.accept_challenge(BEARER, None, False, PULL)
    dummy_headers, kind, dummy_fresh = auth.headers(PULL)
    # a cached (not fresh) token refused for lack of scope: retry with the union of scopes
    assert auth.accept_challenge(wider, kind, False, PULL) == (True, PULL | {"repository:org/app:pull,push"})


def test_token_server_answers():
    answers = [(403, {}), (200, {"nothing": 1}), (200, {"access_token": "at-9"})]
    auth, dummy, secrets = authenticator(answers, Credentials("u", "pw"))
    auth.accept_challenge(BEARER, None, False, PULL)
    with pytest.raises(AuthError, match="denied a token for repository:org/app:pull .as user 'u'."):
        auth.headers(PULL)
    with pytest.raises(RegistryError, match="answered without a token"):
        auth.headers(PULL)
    assert auth.headers(PULL)[0] == {"Authorization": "Bearer at-9"}
    assert "at-9" not in secrets.redact("token at-9 and pw")
    assert "pw" not in secrets.redact("token at-9 and pw")


def test_basic_challenge_without_credentials_is_not_retried():
    auth, dummy, dummy_secrets = authenticator([])
    assert auth.accept_challenge(("basic", {"realm": "r"}), None, False, PULL) == (False, PULL)
    assert "requires credentials" in str(auth.refused("401 UNAUTHORIZED"))
    assert auth.who() == "anonymously"
