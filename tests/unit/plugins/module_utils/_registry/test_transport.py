# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import json

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.transport import (
    MAX_RETRY_AFTER,
    Secrets,
    error_code,
    error_text,
    parse_next_link,
    parse_retry_after,
    Transport,
    quote_path,
    short_url,
    split_url,
)

# Wed, 21 Oct 2015 07:28:00 GMT
DATE = 1445412480.0


@pytest.mark.parametrize(
    "value, now, expected",
    [
        (None, None, None),
        ("", None, None),
        ("   ", None, None),
        ("soon", None, None),
        ("0", None, 0.0),
        ("7", None, 7.0),
        (" 2.5 ", None, 2.5),
        ("-3", None, 0.0),
        ("3600", None, MAX_RETRY_AFTER),
        ("Wed, 21 Oct 2015 07:28:00 GMT", DATE - 5, 5.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", DATE + 5, 0.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", DATE - 3600, MAX_RETRY_AFTER),
        ("Wed, 32 Oct 2015 07:28:00 GMT", DATE, None),
    ],
)
def test_parse_retry_after(value, now, expected):
    assert parse_retry_after(value, now=now) == expected


@pytest.mark.parametrize(
    "header, expected",
    [
        (None, None),
        ("", None),
        ('</v2/org/app/tags/list?n=2&last=b>; rel="next"', "/v2/org/app/tags/list?n=2&last=b"),
        ("</v2/a/tags/list?last=x>;rel=next", "/v2/a/tags/list?last=x"),
        ('</prev>; rel="prev", <https://r.example/v2/a/tags/list?last=z>; rel="next"',
         "https://r.example/v2/a/tags/list?last=z"),
        ('</prev>; rel="prev"', None),
        ("no link here", None),
    ],
)
def test_parse_next_link(header, expected):
    assert parse_next_link(header) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("org/app", "org/app"),
        ("sha256:" + "ab" * 32, "sha256:" + "ab" * 32),
        ("a b", "a%20b"),
        ("v1?x#y", "v1%3Fx%23y"),
    ],
)
def test_quote_path(text, expected):
    assert quote_path(text) == expected


def test_short_url_drops_scheme_and_query():
    assert short_url("https://r.example:5000/v2/a/blobs/uploads/u1?_state=SECRET&digest=sha256:x") == (
        "r.example:5000/v2/a/blobs/uploads/u1"
    )


def errors_body(*entries) -> bytes:
    return json.dumps({"errors": [{"code": c, "message": m} for c, m in entries]}).encode()


@pytest.mark.parametrize(
    "data, code, text",
    [
        (errors_body(("MANIFEST_UNKNOWN", "manifest unknown")), "MANIFEST_UNKNOWN", ": MANIFEST_UNKNOWN manifest unknown"),
        (errors_body(("A", "one"), ("B", "two"), ("C", "three"), ("D", "four")), "A", ": A one; B two; C three"),
        (b'{"errors": [{"message": "no code"}]}', None, ": no code"),
        (b'{"errors": "not a list"}', None, ': {"errors": "not a list"}'),
        (b"<html>\n  Bad   gateway\n</html>", None, ": <html> Bad gateway </html>"),
        (b"x" * 300, None, ": " + "x" * 200),
        (b"", None, ""),
        (None, None, ""),
    ],
)
def test_error_code_and_text(data, code, text):
    assert error_code(data) == code
    assert error_text(data) == text


def test_error_text_prefix():
    assert error_text(errors_body(("DENIED", "nope")), prefix=" - ") == " - DENIED nope"


def test_secrets_are_redacted_once_known():
    secrets = Secrets(["first-secret"])
    secrets.add("")
    secrets.add("token-xyz")
    text = secrets.redact("sent first-secret then token-xyz")
    assert "first-secret" not in text and "token-xyz" not in text and text.startswith("sent ")


@pytest.mark.parametrize("url, expected", [
    ("https://Reg.Example:5000/v2/r/blobs/uploads/1?_state=a%2Bb&digest=sha256:0",
     ("https", "Reg.Example:5000", "/v2/r/blobs/uploads/1?_state=a%2Bb&digest=sha256:0")),
    ("HTTP://127.0.0.1/v2/", ("http", "127.0.0.1", "/v2/")),
    # anything else is left to urllib3's own parser
    ("https://reg.example", None),  # no path
    ("https://reg.example?x=1", None),
    ("https://[::1]:5000/v2/", None),
    ("https://user:secret@reg.example/v2/", None),
    ("https://reg.example:99999/v2/", None),
    ("https://reg.example:/v2/", None),
    ("https://reg.example/v2/#fragment", None),
    ("https://r\u00e9g.example/v2/", None),
    # urllib3 percent-encodes the target either way
    ("https://reg.example/v2/a b", ("https", "reg.example", "/v2/a b")),
    ("ftp://reg.example/v2/", None),
    ("/v2/", None),
])
def test_split_url(url, expected):
    assert split_url(url) == expected


def test_one_pool_manager_per_origin_and_settings():
    transport = Transport("reg.example:5000", Secrets([]), tls_verify=False)
    first, direct = transport._manager_for("https://reg.example:5000/v2/")
    assert direct
    # the same origin, however the URL goes on, reuses it; so does a URL only urllib3 can parse
    assert transport._manager_for("https://reg.example:5000/v2/r/blobs/uploads/x?_state=1")[0] is first
    assert transport._manager_for("https://reg.example:5000?x")[0] is first
    # another host gets its own TLS settings (verified, unlike the registry), hence another manager
    other, direct = transport._manager_for("https://storage.example/blob")
    assert other is not first and direct
    transport.close()
    assert transport._manager_for("https://reg.example:5000/v2/")[0] is not first
