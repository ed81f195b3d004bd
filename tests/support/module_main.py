# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a module's ``main()`` in the test process, as Ansible would with task arguments."""

from __future__ import annotations

import json

import pytest


def run_main(module, args: dict, capsys) -> dict:
    """``module.main()`` with ``args`` as its task arguments; the JSON it exited with. Uses
    ansible-core 2.19's ``patch_module_args``, or sets the older ``basic._ANSIBLE_ARGS``."""
    from ansible.module_utils import basic

    try:
        from ansible.module_utils.testing import patch_module_args
    except ImportError:  # ansible-core before 2.19
        patch_module_args = None
    with pytest.raises(SystemExit):
        if patch_module_args is not None:
            with patch_module_args(args):
                module.main()
        else:
            basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode()
            try:
                module.main()
            finally:
                basic._ANSIBLE_ARGS = None
    return json.loads(capsys.readouterr().out)
