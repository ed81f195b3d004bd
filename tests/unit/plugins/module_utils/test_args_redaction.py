# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secrets a credential helper answers during the run are redacted from everything the module
outputs: its error, its msg, its warnings, its result, the copy engine's messages (issue 7, item 5)."""

from __future__ import annotations

import json
import os
import stat

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.transfer import Copier
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import AuthStore
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.pool import RegistryPool
from ansible_collections.airgap.operatorhub.plugins.module_utils.args import run_module
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import RegistryError

SECRET = "helper-Secret-0xC0FFEE"
HOST = "helper.example"


class Ended(Exception):
    pass


class FakeModule:
    check_mode = False

    def __init__(self, auth_file):
        self.params = {"registries": [], "auth_file": auth_file}
        self.failed = None
        self.exited = None
        self.warnings = []

    def fail_json(self, **kwargs):
        self.failed = kwargs
        raise Ended()

    def exit_json(self, **kwargs):
        self.exited = kwargs
        raise Ended()

    def warn(self, text):
        self.warnings.append(text)


@pytest.fixture
def helper_auth_file(tmp_path, monkeypatch):
    """An auth file whose credentials for HOST come from docker-credential-fake, run on demand."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    helper = bindir / "docker-credential-fake"
    helper.write_text("#!/bin/sh\ncat >/dev/null\n"
                      f"echo '{json.dumps({'Username': 'robot', 'Secret': SECRET})}'\n")
    helper.chmod(helper.stat().st_mode | stat.S_IXUSR)
    auth_file = tmp_path / "auth.json"
    auth_file.write_text(json.dumps({"auths": {}, "credHelpers": {HOST: "fake"}}))
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    return str(auth_file)


def _engine(result_of):
    def engine(request, auth, check_mode):
        credentials = auth.credentials_for(HOST)  # the helper runs now, mid-run
        assert credentials.password == SECRET
        return result_of(credentials.password)
    return engine


def test_error_of_the_engine_is_redacted(helper_auth_file):
    def engine(request, auth, check_mode):
        raise RegistryError(f"{HOST} said: bad password {auth.credentials_for(HOST).password}")

    module = FakeModule(helper_auth_file)
    with pytest.raises(Ended):
        run_module(module, lambda m: None, engine)
    assert SECRET not in module.failed["msg"] and "********" in module.failed["msg"]


def test_msg_warnings_and_failures_of_a_result_are_redacted(helper_auth_file):
    module = FakeModule(helper_auth_file)
    with pytest.raises(Ended):
        run_module(module, lambda m: None, _engine(lambda secret: {
            "changed": False, "msg": f"1 failed: {secret}", "warnings": [f"note {secret}"],
            "failures": [{"origin": "mapping.txt:1", "error": f"echoed {secret}"}],
        }))
    assert module.failed is not None
    assert SECRET not in json.dumps(module.failed) and SECRET not in json.dumps(module.warnings)
    assert module.failed["msg"] == "1 failed: ********"
    assert module.warnings == ["note ********"]


def test_a_successful_result_is_redacted(helper_auth_file):
    module = FakeModule(helper_auth_file)
    with pytest.raises(Ended):
        run_module(module, lambda m: None, _engine(lambda secret: {"changed": True, "copied": [{"note": secret}]}))
    assert module.exited == {"changed": True, "copied": [{"note": "********"}]}


def test_copy_engine_messages_redact_secrets_learnt_during_the_run(helper_auth_file):
    auth = AuthStore(auth_file=helper_auth_file, certs_dirs=())
    copier = Copier(RegistryPool(auth))
    secret = auth.credentials_for(HOST).password  # after the Copier was built
    assert copier._redact(f"failed: {secret}") == "failed: ********"


def test_a_result_is_redacted_string_by_string_as_redact_does():
    import base64
    from urllib.parse import quote

    from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import redact
    from ansible_collections.airgap.operatorhub.plugins.module_utils.args import _redacted

    secrets = ["p@ss word", "p@ss", "dXNlcjpwQHNz"]
    texts = ["plain", "pw p@ss word and p@ss", quote("p@ss word", safe=""), base64.b64encode(b"p@ss word").decode(),
             "header dXNlcjpwQHNz"]
    result = {"copied": [{"source": t, "bytes_sent": 3, "ok": True} for t in texts], "summary": {"n": None},
              "msg": texts[1], "failures": (texts[2],)}
    redacted = _redacted(result, secrets)
    assert [i["source"] for i in redacted["copied"]] == [redact(t, secrets) for t in texts]
    assert redacted["msg"] == redact(texts[1], secrets) and "p@ss" not in json.dumps(redacted)
    assert redacted["failures"] == [redact(texts[2], secrets)] and redacted["summary"] == {"n": None}
    assert _redacted(result, []) is result
