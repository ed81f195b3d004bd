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
            client_cert=dict(type="path"),
            client_key=dict(type="path", no_log=False),
        ),
    ),
    retries=dict(type="int", default=5),
    timeout=dict(type="float", default=60.0),
)


# The copy engine's options (documented once in the ``airgap.operatorhub.copy`` doc fragment).
COPY_ARGUMENT_SPEC = dict(
    filter_by_os=dict(type="str"),
    parallel_images=dict(type="int", default=4),
    parallel_layers=dict(type="int", default=8),
    continue_on_error=dict(type="bool", default=True),
    report_file=dict(type="path"),
    progress_interval=dict(type="float", default=5.0),
    # read by the action plugin only; declared so the module accepts it
    progress_display=dict(type="str", default="auto", choices=["auto", "poll", "off"]),
)


def registry_argument_spec(**extra):
    """The shared registry options plus a module's own ones."""
    spec = dict(REGISTRY_ARGUMENT_SPEC)
    spec.update(extra)
    return spec


def copy_argument_spec(**extra):
    """The shared registry options, the copy engine's options, and a module's own ones."""
    return registry_argument_spec(**dict(COPY_ARGUMENT_SPEC, **extra))


def run_module(module, engine):
    """Call ``engine(params, auth, check_mode)`` and end the module with its result.

    Every module of the collection ends the same way: engine errors become ``fail_json`` with
    every known secret redacted, engine warnings become Ansible warnings, and a result with
    ``failures`` fails the task with its ``msg``, keeping the rest of the result.
    """
    from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import redact
    from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import AirgapError

    secrets = []
    try:
        auth = auth_store_from_params(module.params)
        secrets = auth.secrets()
        result = engine(module.params, auth, module.check_mode)
    except AirgapError as exc:
        module.fail_json(msg=redact(str(exc), secrets))
    for warning in result.pop("warnings", []):
        module.warn(warning)
    msg = result.pop("msg", None)
    if result.get("failures"):
        module.fail_json(msg=msg, **result)
    module.exit_json(**result)


def auth_store_from_params(params):
    """Build the engine's AuthStore from validated module parameters."""
    from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import AuthStore, RegistryConfig

    registries = [RegistryConfig.from_dict(entry, index) for index, entry in enumerate(params.get("registries") or [])]
    return AuthStore(auth_file=params.get("auth_file"), registries=registries)
