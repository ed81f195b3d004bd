# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where ``ansible_collections.airgap.operatorhub`` is importable from, for tests and benchmarks."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def collections_root() -> str:
    """A directory holding ansible_collections/airgap/operatorhub -> the repo root.

    hack/bootstrap.sh makes .build/collections; without it, a throwaway symlink tree for this
    process, removed at exit.
    """
    built = os.path.join(ROOT, ".build", "collections")
    if os.path.isdir(os.path.join(built, "ansible_collections", "airgap", "operatorhub", "plugins")):
        return built
    tmp = tempfile.mkdtemp(prefix="airgap-collections-")
    os.makedirs(os.path.join(tmp, "ansible_collections", "airgap"))
    os.symlink(ROOT, os.path.join(tmp, "ansible_collections", "airgap", "operatorhub"))
    atexit.register(shutil.rmtree, tmp, True)
    return tmp
