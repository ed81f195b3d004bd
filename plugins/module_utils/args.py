# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Option set shared by every module that talks to a registry (documented once in the
``airgap.operatorhub.registry`` doc fragment), and its conversion into engine objects."""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback

REGISTRY_ARGUMENT_SPEC = dict(
    auth_file=dict(type="path", fallback=(env_fallback, ["REGISTRY_AUTH_FILE"])),
    registries=dict(
        type="list",
        elements="dict",
        default=[],
        options=dict(
            host=dict(type="str", required=True),
            username=dict(type="str"),
            password=dict(type="str", no_log=True),
            tls_verify=dict(type="bool", default=True),
            ca_path=dict(type="path"),
        ),
    ),
    retries=dict(type="int", default=5),
    timeout=dict(type="float", default=60.0),
)


def registry_argument_spec(**extra):
    """The shared registry options plus a module's own ones."""
    spec = dict(REGISTRY_ARGUMENT_SPEC)
    spec.update(extra)
    return spec


def auth_store_from_params(params):
    """Build the engine's AuthStore from validated module parameters."""
    from ansible_collections.airgap.operatorhub.plugins.module_utils.auth import AuthStore, RegistryConfig

    registries = [RegistryConfig.from_dict(entry, index) for index, entry in enumerate(params.get("registries") or [])]
    return AuthStore(auth_file=params.get("auth_file"), registries=registries)
