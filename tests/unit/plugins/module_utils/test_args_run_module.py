# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""run_module, the one way every module ends: engine errors and what input can cause past any
parser (RecursionError, MemoryError) become fail_json; a bug keeps its traceback (issue 7, item 10)."""

from __future__ import annotations

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils.args import run_module
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import CatalogError


class Ended(Exception):
    pass


class FakeModule:
    check_mode = False

    def __init__(self):
        self.params = {"registries": [], "auth_file": None}
        self.failed = None

    def fail_json(self, **kwargs):
        self.failed = kwargs
        raise Ended()

    def exit_json(self, **kwargs):
        raise AssertionError(f"exit_json({kwargs}) after an error")

    def warn(self, text):
        pass


def _engine_raising(exc):
    def engine(request, auth, check_mode):
        raise exc
    return engine


def _nested(depth):
    return 1 if depth == 0 else [_nested(depth - 1)]


def _walk(value):
    return sum(_walk(item) for item in value) if isinstance(value, list) else value


def test_recursion_error_from_deep_input_is_a_clean_failure():
    module = FakeModule()

    def engine(request, auth, check_mode):
        return _walk(_nested(5000))  # a walker meeting input deeper than the stack

    with pytest.raises(Ended):
        run_module(module, lambda m: None, engine)
    assert module.failed["msg"].startswith("RecursionError: maximum recursion depth exceeded")
    assert "most likely nested too deeply" in module.failed["msg"]
    assert "Traceback" in module.failed["exception"]


def test_memory_error_is_a_clean_failure():
    module = FakeModule()
    with pytest.raises(Ended):
        run_module(module, lambda m: None, _engine_raising(MemoryError()))
    assert "most likely too large" in module.failed["msg"]


def test_engine_errors_still_fail_with_their_message():
    module = FakeModule()
    with pytest.raises(Ended):
        run_module(module, lambda m: None, _engine_raising(CatalogError("a.json:3: bad")))
    assert module.failed == {"msg": "a.json:3: bad"}


@pytest.mark.parametrize("exc", [ValueError("bug"), KeyError("bug"), TypeError("bug")])
def test_a_bug_keeps_its_traceback(exc):
    module = FakeModule()
    with pytest.raises(type(exc)):
        run_module(module, lambda m: None, _engine_raising(exc))
    assert module.failed is None
