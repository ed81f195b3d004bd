# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import base64
import json
import os
import sys

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import (
    AuthStore,
    Credentials,
    RegistryConfig,
    redact,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import AuthError, ConfigError


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def write(path, data) -> str:
    os.makedirs(os.path.dirname(str(path)), exist_ok=True)
    with open(path, "w") as f:
        f.write(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def auths(**entries) -> dict:
    return {"auths": entries}


@pytest.fixture
def home(tmp_path):
    h = tmp_path / "home"
    h.mkdir()
    return h


def store(home, **kw) -> AuthStore:
    env = kw.pop("env", {})
    env.setdefault("HOME", str(home))
    return AuthStore(env=env, certs_dirs=kw.pop("certs_dirs", ()), **kw)


# -- RegistryConfig ----------------------------------------------------------------------------
def test_registry_config_from_dict(tmp_path):
    ca = write(tmp_path / "ca.crt", "x")
    cfg = RegistryConfig.from_dict(
        {"host": "https://quay.example.com:8443/", "username": "u", "password": "pw-zebra", "tls_verify": False, "ca_path": ca}, 0
    )
    assert cfg.host == "quay.example.com:8443"
    assert cfg.tls_verify is False and cfg.ca_path == ca
    assert cfg.password == "pw-zebra"
    assert "pw-zebra" not in repr(cfg) and "password" not in repr(cfg)


# Types, unknown keys and paired keys (username/password, client_cert/client_key) are the
# argument spec's to check: see test_args.py.
@pytest.mark.parametrize("entry,field", [
    ({"username": "u", "password": "s3cret-value"}, "registries[3].host"),
    ({"host": "reg/ns", "password": "s3cret-value"}, "registries[3].host"),
    ({"host": "reg", "ca_path": "/nonexistent/ca.crt"}, "registries[3].ca_path"),
    ({"host": "reg", "client_cert": "/nonexistent/c.pem", "client_key": "/nonexistent/k.pem"},
     "registries[3].client_cert"),
])
def test_registry_config_errors(entry, field):
    with pytest.raises(ConfigError) as info:
        RegistryConfig.from_dict(entry, 3)
    assert field in str(info.value)
    assert "s3cret-value" not in str(info.value)


# -- credentials -------------------------------------------------------------------------------
def test_auth_blob_and_username_password_entries(home, tmp_path):
    f = write(tmp_path / "auth.json", auths(**{
        "reg.example.com": {"auth": b64("alice:pa:ss")},
        "other.example.com:5000": {"username": "bob", "password": "pw2"},
        "tok.example.com": {"auth": b64("carol:"), "identitytoken": "refresh-123"},
        "empty.example.com": {},
    }))
    s = store(home, auth_file=f)
    assert s.credentials_for("reg.example.com") == Credentials("alice", "pa:ss")
    assert s.credentials_for("REG.example.com") == Credentials("alice", "pa:ss")
    assert s.credentials_for("other.example.com:5000") == Credentials("bob", "pw2")
    assert s.credentials_for("other.example.com") is None  # the port is part of the key
    tok = s.credentials_for("tok.example.com")
    assert tok.username == "<token>" and tok.password == "refresh-123" and tok.is_identity_token
    assert s.credentials_for("empty.example.com") is None
    assert s.credentials_for("nowhere.example.com") is None


@pytest.mark.parametrize("key", [
    "reg.example.com", "https://reg.example.com", "http://reg.example.com/v1/", "https://reg.example.com/v2/",
])
def test_key_normalization(home, tmp_path, key):
    f = write(tmp_path / "a.json", auths(**{key: {"auth": b64("u:p")}}))
    assert store(home, auth_file=f).credentials_for("reg.example.com", "any/repo") == Credentials("u", "p")


@pytest.mark.parametrize("key", ["docker.io", "index.docker.io", "https://index.docker.io/v1/", "registry-1.docker.io"])
@pytest.mark.parametrize("asked", ["docker.io", "registry-1.docker.io", "index.docker.io"])
def test_docker_hub_aliases(home, tmp_path, key, asked):
    f = write(tmp_path / "a.json", auths(**{key: {"auth": b64("hub:pw")}}))
    assert store(home, auth_file=f).credentials_for(asked, "library/busybox") == Credentials("hub", "pw")


def test_exact_key_beats_legacy_key_for_the_same_host(home, tmp_path):
    f = write(tmp_path / "a.json", auths(**{
        "https://index.docker.io/v1/": {"auth": b64("old:1")},
        "docker.io": {"auth": b64("new:2")},
    }))
    assert store(home, auth_file=f).credentials_for("docker.io").username == "new"


def test_repository_scoped_keys_longest_match(home, tmp_path):
    f = write(tmp_path / "a.json", auths(**{
        "quay.io": {"auth": b64("host:1")},
        "quay.io/org": {"auth": b64("org:2")},
        "quay.io/org/team": {"auth": b64("team:3")},
        "quay.io/org/team/app": {"auth": b64("app:4")},
    }))
    s = store(home, auth_file=f)
    assert s.credentials_for("quay.io", "org/team/app").username == "app"
    assert s.credentials_for("quay.io", "org/team/other").username == "team"
    assert s.credentials_for("quay.io", "org/teamx").username == "org"  # path components, not prefixes
    assert s.credentials_for("quay.io", "elsewhere/x").username == "host"
    assert s.credentials_for("quay.io").username == "host"


def test_precedence_chain(home, tmp_path):
    xdg = tmp_path / "run"
    explicit = write(tmp_path / "explicit.json", auths(**{"a.io": {"auth": b64("explicit:1")}}))
    env_file = write(tmp_path / "env.json", auths(**{"a.io": {"auth": b64("env:1")}, "b.io": {"auth": b64("env:2")}}))
    write(xdg / "containers" / "auth.json", auths(**{
        "b.io": {"auth": b64("xdg:2")}, "c.io": {"auth": b64("xdg:3")}}))
    write(home / ".config" / "containers" / "auth.json", auths(**{
        "c.io": {"auth": b64("config:3")}, "d.io": {"auth": b64("config:4")}}))
    write(home / ".docker" / "config.json", auths(**{
        "d.io": {"auth": b64("docker:4")}, "e.io": {"auth": b64("docker:5")}, "r.io": {"auth": b64("docker:6")}}))
    registries = [RegistryConfig("r.io", "inventory", "pw"), RegistryConfig("notls.io", tls_verify=False)]
    s = store(home, auth_file=explicit, registries=registries,
              env={"REGISTRY_AUTH_FILE": env_file, "XDG_RUNTIME_DIR": str(xdg)})
    got = {h: s.credentials_for(h).username for h in ("a.io", "b.io", "c.io", "d.io", "e.io", "r.io")}
    assert got == {"a.io": "explicit", "b.io": "env", "c.io": "xdg", "d.io": "config", "e.io": "docker",
                   "r.io": "inventory"}
    # a registries[] entry without credentials does not hide the files
    assert s.credentials_for("notls.io") is None
    assert s.files[0] == explicit


def test_default_files_without_xdg(home):
    write(home / ".config" / "containers" / "auth.json", auths(**{"c.io": {"auth": b64("config:3")}}))
    assert store(home).credentials_for("c.io").username == "config"


def test_explicit_auth_file_errors_name_the_file_not_the_content(home, tmp_path):
    bad = write(tmp_path / "bad.json", '{"auths": {"r.io": {"auth": "c2VjcmV0LXBhc3N3b3Jk"}} TRAILING')
    with pytest.raises(AuthError) as info:
        store(home, auth_file=bad)
    assert bad in str(info.value) and "not valid JSON" in str(info.value)
    assert "c2VjcmV0" not in str(info.value) and "TRAILING" not in str(info.value)
    with pytest.raises(AuthError, match="does not exist"):
        store(home, auth_file=str(tmp_path / "missing.json"))
    with pytest.raises(AuthError, match="REGISTRY_AUTH_FILE"):
        store(home, env={"REGISTRY_AUTH_FILE": bad})
    unreadable = tmp_path / "dir.json"
    unreadable.mkdir()
    with pytest.raises(AuthError, match="cannot be read"):
        store(home, auth_file=str(unreadable))


def test_invalid_default_file_is_a_warning(home):
    write(home / ".docker" / "config.json", "{{{")
    s = store(home)
    assert s.credentials_for("x.io") is None
    assert any("config.json" in w and "not valid JSON" in w for w in s.warnings)


def helper_dir(tmp_path, name, answers, exit_code=0):
    """A real ``docker-credential-<name>`` executable speaking docker's helper protocol: it reads
    the host on stdin for ``get`` and prints the answer for it (or "not found", exit 1)."""
    directory = tmp_path / "bin"
    directory.mkdir(exist_ok=True)
    program = directory / f"docker-credential-{name}"
    calls = tmp_path / f"{name}.calls"
    program.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        f"answers = {answers!r}\n"
        "host = sys.stdin.read().strip()\n"
        f"open({str(calls)!r}, 'a').write(sys.argv[1] + ' ' + host + '\\n')\n"
        "if host not in answers:\n"
        "    print('credentials not found in native keychain'); sys.exit(1)\n"
        f"if {exit_code}:\n"
        f"    print('boom ' + answers[host][1]); sys.exit({exit_code})\n"
        "print(json.dumps({'ServerURL': host, 'Username': answers[host][0], 'Secret': answers[host][1]}))\n"
    )
    program.chmod(0o755)
    return str(directory), calls


def test_cred_helpers_then_auths_then_creds_store(home, tmp_path):
    bin_dir, calls = helper_dir(tmp_path, "vault", {"gcr.io": ["helper-user", "helper-secret-1"],
                                                    "other.io": ["store-user", "store-secret-2"]})
    f = write(tmp_path / "a.json", {"auths": {"gcr.io": {"auth": b64("file-user:file-pw")},
                                              "r.io": {"auth": b64("r-user:r-pw")}},
                                    "credsStore": "vault", "credHelpers": {"gcr.io": "vault"}})
    s = store(home, auth_file=f, env={"PATH": bin_dir})
    assert s.credentials_for("gcr.io") == Credentials("helper-user", "helper-secret-1")  # credHelpers first
    assert s.credentials_for("r.io") == Credentials("r-user", "r-pw")  # then auths
    assert s.credentials_for("other.io") == Credentials("store-user", "store-secret-2")  # then credsStore
    assert s.credentials_for("none.io") is None  # the store says "not found": no warning
    assert s.credentials_for("gcr.io") == Credentials("helper-user", "helper-secret-1")
    assert calls.read_text().splitlines() == ["get gcr.io", "get other.io", "get none.io"]  # asked once each
    assert s.warnings == []
    assert "helper-secret-1" in s.secrets() and "store-secret-2" in s.secrets()


def test_cred_helper_missing_or_failing_is_a_warning_without_secrets(home, tmp_path):
    bin_dir, dummy = helper_dir(tmp_path, "broken", {"gcr.io": ["u", "leaky-secret-3"]}, exit_code=3)
    f = write(tmp_path / "a.json", {"auths": {}, "credHelpers": {"gcr.io": "broken", "ghcr.io": "absent"}})
    s = store(home, auth_file=f, env={"PATH": bin_dir})
    assert s.credentials_for("gcr.io") is None
    assert s.credentials_for("ghcr.io") is None
    text = " ".join(s.warnings)
    assert "docker-credential-broken for gcr.io failed (exit code 3)" in text
    assert "docker-credential-absent (for ghcr.io) is not on PATH" in text
    assert "leaky-secret-3" not in text


def test_bad_auth_blob_is_skipped_with_a_warning(home, tmp_path):
    f = write(tmp_path / "a.json", auths(**{"r.io": {"auth": b64("no-colon-here")}}))
    s = store(home, auth_file=f)
    assert s.credentials_for("r.io") is None
    assert any("r.io" in w for w in s.warnings)
    assert "no-colon-here" not in " ".join(s.warnings)


def test_duplicate_registry_entries():
    with pytest.raises(ConfigError, match="registries\\[1\\].host"):
        AuthStore(registries=[RegistryConfig("r.io"), RegistryConfig("R.io")], env={"HOME": "/nonexistent"})


# -- TLS ---------------------------------------------------------------------------------------
def test_tls_for(home, tmp_path):
    certs = tmp_path / "certs.d"
    write(certs / "local.io:5000" / "ca.crt", "x")
    write(certs / "keys.io" / "client.cert", "x")
    ca = write(tmp_path / "my-ca.pem", "x")
    s = store(home, certs_dirs=[str(certs)], registries=[
        RegistryConfig("insecure.io", tls_verify=False), RegistryConfig("mine.io", ca_path=ca),
        RegistryConfig("local.io:5000", "u", "p"),
    ])
    assert s.tls_for("public.io") == (True, None)
    assert s.tls_for("insecure.io") == (False, None)
    assert s.tls_for("mine.io") == (True, ca)
    assert s.tls_for("local.io:5000") == (True, str(certs / "local.io:5000"))
    assert s.tls_for("keys.io") == (True, None)


# -- secrets -----------------------------------------------------------------------------------
def test_secrets_and_redact(home, tmp_path):
    f = write(tmp_path / "a.json", auths(**{
        "r.io": {"auth": b64("alice:file-pass")}, "t.io": {"identitytoken": "tok-abc-123"}}))
    s = store(home, auth_file=f, registries=[RegistryConfig("x.io", "bob", "inv-pass")])
    secrets = s.secrets()
    for needed in ("file-pass", b64("alice:file-pass"), "tok-abc-123", "inv-pass", b64("bob:inv-pass")):
        assert needed in secrets
    text = (f"login alice:file-pass, Authorization: Basic {b64('bob:inv-pass')} token=tok-abc-123 "
            f"form=inv%2Dpass raw={b64('inv-pass')}")
    out = redact(text, secrets)
    for leaked in ("file-pass", "inv-pass", "tok-abc-123", b64("bob:inv-pass")):
        assert leaked not in out
    assert "********" in out and out.startswith("login alice:")
    assert "file-pass" not in repr(s) and "inv-pass" not in repr(s)


def test_redact_handles_quoted_forms_and_overlaps():
    out = redact("a=p%40ss%2Fword b=p@ss/word c=p@ss/word-longer", ["p@ss/word", "p@ss/word-longer"])
    assert "p@ss" not in out and "p%40ss" not in out
    assert redact("", ["x"]) == "" and redact("keep", []) == "keep"


def test_credentials_repr_hides_password():
    c = Credentials("mirror", "hunter2-secret")
    assert "hunter2-secret" not in repr(c) and "mirror" in repr(c)
    assert c.basic_header() == "Basic " + b64("mirror:hunter2-secret")
