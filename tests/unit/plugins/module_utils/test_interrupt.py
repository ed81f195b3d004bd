# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SIGTERM and SIGINT as an exception (issue 7, item 14): the run unwinds through its ``finally``
blocks, so the catalog cache keeps no temporary directory, and a module fails cleanly."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import tarfile
import threading

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog import image as image_module
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.index import IndexLocation
from ansible_collections.airgap.operatorhub.plugins.module_utils.args import run_module
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import Interrupted
from ansible_collections.airgap.operatorhub.plugins.module_utils.interrupt import interruptible


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_raises_interrupted_and_the_handlers_are_restored(signum):
    before = signal.getsignal(signum)
    with pytest.raises(Interrupted) as err:
        with interruptible():
            os.kill(os.getpid(), signum)
            for dummy in range(1000):  # the handler runs between bytecodes of the main thread
                pass
    assert err.value.signame == signal.Signals(signum).name
    assert isinstance(err.value, KeyboardInterrupt)
    assert signal.getsignal(signum) is before


def test_outside_the_main_thread_nothing_changes():
    seen = []

    def worker():
        with interruptible():
            seen.append(signal.getsignal(signal.SIGTERM))

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen == [signal.getsignal(signal.SIGTERM)]


class _Layer:
    def __init__(self, digest, size=1 << 20):
        self.digest = digest
        self.size = size


class _Manifest:
    layers = [_Layer("sha256:" + "1" * 64)]


class _InterruptedClient:
    """Serves a layer whose download is interrupted half-way, as SIGTERM would."""

    @contextlib.contextmanager
    def open_blob(self, repo, digest, size=None):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            data = b"x" * 200000
            info = tarfile.TarInfo("configs/p/catalog.json")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        whole = buf.getvalue()

        def chunks():
            yield whole[:100000]
            raise Interrupted("SIGTERM")

        yield chunks()


def test_an_interrupted_extraction_leaves_no_temporary_directory(tmp_path):
    cache = tmp_path / "cache"
    with pytest.raises(Interrupted):
        image_module._extract(_InterruptedClient(), "cat", _Manifest(), IndexLocation("fbc", "/configs"),
                              str(cache), "sha256-" + "2" * 64, {"format": 1})
    assert os.listdir(cache) == []


class _Module:
    check_mode = False
    params = {"registries": [], "auth_file": None}

    def __init__(self):
        self.failed = None

    def fail_json(self, **kwargs):
        self.failed = kwargs
        raise SystemExit(1)

    def exit_json(self, **kwargs):
        raise AssertionError("not interrupted")

    def warn(self, text):
        pass


def test_run_module_turns_sigterm_into_a_clean_failure():
    module = _Module()

    def engine(request, auth, check_mode):
        os.kill(os.getpid(), signal.SIGTERM)
        for dummy in range(100000):
            pass
        return {"changed": False}

    with pytest.raises(SystemExit):
        run_module(module, lambda m: None, engine)
    assert module.failed["interrupted"] == "SIGTERM"
    assert module.failed["msg"].startswith("interrupted by SIGTERM: ")
    assert "running the task again resumes it" in module.failed["msg"]
