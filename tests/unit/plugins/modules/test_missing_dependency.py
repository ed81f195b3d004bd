# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module, on a managed host without urllib3 (or PyYAML, for those that read catalogs): the
task fails with Ansible's message naming what to install (the import's traceback goes to
``exception``), before it reads or contacts anything."""

from __future__ import annotations

import importlib
import sys

import pytest

from tests.support.module_main import run_main

PACKAGE = "ansible_collections.airgap.operatorhub.plugins.modules"

# module -> (arguments it accepts, whether it needs PyYAML)
MODULES = {
    "image_mirror_from_mapping": ({"mapping": ["a.example/x@sha256:" + "0" * 64 + "=b.example/x"]}, False),
    "archive_export": ({"mapping": ["a.example/x:v1=b.example/x:v1"], "archive_dir": "/nonexistent/carry"}, False),
    "archive_import": ({"archive_dir": "/nonexistent/carry"}, True),
    "catalog_info": ({"catalog": "a.example/index:v1"}, True),
    "catalog_mirror": ({"catalogs": [{"source": "a.example/index:v1"}], "dest": "b.example", "output_dir": "/nonexistent/out"}, True),
    "catalog_build": ({"base_image": "a.example/base:v1", "source": "a.example/index:v1", "dest": "b.example/index:v1"},
                      True),
}


def _main_without(name: str, library: str, args: dict, capsys, monkeypatch) -> dict:
    # the module and the collection's module_utils import without the library (a fresh import)
    for loaded in [m for m in sys.modules if m.startswith("ansible_collections.airgap.operatorhub.")]:
        monkeypatch.delitem(sys.modules, loaded)
    monkeypatch.setitem(sys.modules, library, None)  # importing it raises ImportError
    return run_main(importlib.import_module(f"{PACKAGE}.{name}"), args, capsys)


@pytest.mark.parametrize("name", sorted(MODULES))
@pytest.mark.parametrize("library, named", [("urllib3", "urllib3"), ("yaml", "PyYAML")])
def test_a_missing_library_fails_the_task_naming_it(name, library, named, capsys, monkeypatch):
    args, needs_yaml = MODULES[name]
    if library == "yaml" and not needs_yaml:
        pytest.skip(f"{name} does not need PyYAML")
    result = _main_without(name, library, args, capsys, monkeypatch)
    assert result["failed"] is True
    assert result["msg"].startswith(f"Failed to import the required Python library ({named}) on ")
