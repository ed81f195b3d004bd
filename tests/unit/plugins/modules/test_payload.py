# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What each module ships to the host: Ansible puts every module_utils file a module imports,
at any depth and even inside a function, into its AnsiballZ payload and parses each one on the
controller at every run. The modules that never read a catalog must not ship _catalog or _build."""

from __future__ import annotations

import ast
import functools
import os

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.requests import DEFAULT_PLATFORM
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.requests import CATALOG_PLATFORM

PLUGINS = os.path.join(os.path.dirname(os.path.abspath(__file__)), *[os.pardir] * 4, "plugins")
PREFIX = "ansible_collections.airgap.operatorhub.plugins."


def _file_of(name):
    base = os.path.join(PLUGINS, *name[len(PREFIX):].split("."))
    return base + ".py" if os.path.exists(base + ".py") else None


@functools.lru_cache(maxsize=None)
def _imports(path):
    """The collection's files that ``path`` imports anywhere in its AST."""
    with open(path) as handle:
        tree = ast.parse(handle.read())
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PREFIX):
            names += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names += [alias.name for alias in node.names if alias.name.startswith(PREFIX)]
    return {found for found in map(_file_of, names) if found}


def shipped(module):
    """The collection's module_utils files ``module`` ships: every import the AST holds, followed
    from file to file, as Ansible's dependency finder follows them."""
    todo, seen = [os.path.join(PLUGINS, "modules", module + ".py")], set()
    while todo:
        for found in _imports(todo.pop()) - seen:
            seen.add(found)
            todo.append(found)
    return {os.path.relpath(path, os.path.join(PLUGINS, "module_utils")) for path in seen}


@pytest.mark.parametrize("module", ["image_mirror_from_mapping", "archive_import"])
def test_modules_that_read_no_catalog_ship_no_catalog_code(module):
    files = shipped(module)
    assert "_mirror/runner.py" in files or "_archive/importer.py" in files  # the walk follows imports
    assert "_registry/client.py" in files
    assert sorted(f for f in files if f.startswith(("_catalog/", "_build/", "args_catalog"))) == []


def test_the_registry_mirror_ships_no_archive_code():
    # a task with archive_dir runs archive_export (the action plugin chooses), which ships it
    assert sorted(f for f in shipped("image_mirror_from_mapping") if f.startswith(("_archive/", "args_archive"))) == []
    export = shipped("archive_export")
    assert {"_archive/export.py", "_archive/settings.py", "args_archive.py", "_mirror/runner.py"} <= export
    assert sorted(f for f in export if f.startswith(("_catalog/", "_build/", "args_catalog"))) == []


def test_catalog_modules_ship_their_glue():
    for module in ("catalog_info", "catalog_build", "catalog_mirror"):
        assert {"args_catalog.py", "_catalog/requests.py"} <= shipped(module)


def test_the_catalog_platform_default_is_the_one_of_catalog_requests():
    assert CATALOG_PLATFORM == DEFAULT_PLATFORM
