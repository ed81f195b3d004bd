# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Ansible glue: the option sets shared by the modules (documented once in the
``airgap.operatorhub.registry`` and ``airgap.operatorhub.copy`` doc fragments), the conversion of
module parameters into the engines' typed requests, and the one way every module ends.

Defaults come from the request types, so each lives in one place.

The catalog modules' glue is in ``args_catalog.py``: Ansible ships every module_utils file a
module imports, even inside a function, and parses each one on the controller at every run, so
the glue of image_mirror_from_mapping and archive_import names nothing of _catalog or _build.
For the same reason the exports' glue (archive settings) is in ``args_archive.py``.
"""

from __future__ import annotations

from dataclasses import fields

from ansible.module_utils.basic import env_fallback

from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.requests import (
    MappingMirrorRequest,
    TransferSettings,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.settings import ConnectionSettings
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import ConfigError


def default_of(request_type, name):
    """The default of field ``name`` of a request dataclass: the one place it is written."""
    for item in fields(request_type):
        if item.name == name:
            return item.default
    raise KeyError(f"{request_type.__name__} has no field {name}")


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
        required_together=[("username", "password"), ("client_cert", "client_key")],
    ),
    retries=dict(type="int", default=default_of(ConnectionSettings, "retries")),
    timeout=dict(type="float", default=default_of(ConnectionSettings, "timeout")),
)

# The copy engine's options.
COPY_ARGUMENT_SPEC = dict(
    filter_by_os=dict(type="str"),
    parallel_images=dict(type="int", default=default_of(TransferSettings, "parallel_images")),
    parallel_layers=dict(type="int", default=default_of(TransferSettings, "parallel_layers")),
    continue_on_error=dict(type="bool", default=default_of(TransferSettings, "continue_on_error")),
    report_file=dict(type="path"),
    progress_interval=dict(type="float", default=default_of(TransferSettings, "progress_interval")),
    # read by the action plugin only; declared so the module accepts it
    progress_display=dict(type="str", default="auto", choices=["auto", "poll", "off"]),
)


# Mirror to archives instead of a registry (documented in the airgap.operatorhub.archive fragment).
# archive_size and archive_history are raw: a size is "4GiB" or bytes, a history a path or false.
ARCHIVE_ARGUMENT_SPEC = dict(
    archive_dir=dict(type="path"),
    archive_size=dict(type="raw"),
    archive_history=dict(type="raw"),
)


def registry_argument_spec(**extra):
    """The shared registry options plus a module's own ones."""
    spec = dict(REGISTRY_ARGUMENT_SPEC)
    spec.update(extra)
    return spec


def copy_argument_spec(**extra):
    """The shared registry options, the copy engine's options, and a module's own ones."""
    return registry_argument_spec(**dict(COPY_ARGUMENT_SPEC, **extra))


def archive_copy_argument_spec(**extra):
    """copy_argument_spec plus the archive options (the modules that can mirror to archives)."""
    return copy_argument_spec(**dict(ARCHIVE_ARGUMENT_SPEC, **extra))


def mapping_argument_spec(**extra):
    """The options of the modules that read mapping lines (image_mirror_from_mapping,
    archive_export; documented in the airgap.operatorhub.mapping fragment): copy_argument_spec,
    the mapping options and a module's own ones."""
    return copy_argument_spec(**dict(
        mapping_file=dict(type="list", elements="path"),
        mapping=dict(type="list", elements="str"),
        include=dict(type="list", elements="str"),
        exclude=dict(type="list", elements="str"),
        digest_tag=dict(type="str", default=default_of(MappingMirrorRequest, "digest_tag"),
                        choices=["oc", "oc-mirror", "short"]),
        shard_index=dict(type="int", default=default_of(MappingMirrorRequest, "shard_index")),
        shard_count=dict(type="int", default=default_of(MappingMirrorRequest, "shard_count")),
        **extra))


# --- parameters -> requests --------------------------------------------------------------------


def connection_settings(params):
    return ConnectionSettings(retries=params["retries"], timeout=params["timeout"])


def transfer_settings(params):
    return TransferSettings(
        filter_by_os=params.get("filter_by_os"),
        parallel_images=params["parallel_images"],
        parallel_layers=params["parallel_layers"],
        continue_on_error=params["continue_on_error"],
        report_file=params.get("report_file"),
        progress_interval=params["progress_interval"],
    )


def no_archive_options(params):
    """Refuse archive_size and archive_history given without archive_dir."""
    if params.get("archive_size") is not None or params.get("archive_history") is not None:
        raise ConfigError("archive_size and archive_history need archive_dir: the directory that receives the "
                          "archives")


def _strings(value):
    return None if value is None else tuple(value)


def mapping_mirror_request(module):
    """image_mirror_from_mapping's parameters as a MappingMirrorRequest. A task with archive_dir
    is archive_export's, which the action plugin runs instead: reached here (the module run
    without its action plugin), it is refused, naming the module to use."""
    params = module.params
    if params.get("archive_dir"):
        raise ConfigError("archive_dir is handled by airgap.operatorhub.archive_export (the mirror to archives): "
                          "run that module with the same options, or run this one through its action plugin (an "
                          "ordinary task does), which runs archive_export for a task with archive_dir")
    no_archive_options(params)
    return mapping_request(params)


def mapping_request(params, archive=None):
    """The mapping options of ``params`` as a MappingMirrorRequest; ``archive``: the export's
    ArchiveSettings (args_archive.py), None to push to the registries."""
    return MappingMirrorRequest(
        mapping_files=tuple(params.get("mapping_file") or ()),
        mapping=tuple(params.get("mapping") or ()),
        include=_strings(params.get("include")),
        exclude=_strings(params.get("exclude")),
        digest_tag=params["digest_tag"],
        shard_index=params["shard_index"],
        shard_count=params["shard_count"],
        transfer=transfer_settings(params),
        connection=connection_settings(params),
        archive=archive,
    )


# --- the end of every module -------------------------------------------------------------------


def _missing_libraries(libraries):
    """The names of ``libraries`` (``urllib3``, ``PyYAML``) that do not import here, and their
    tracebacks. The collection's module_utils import without them (ansible-test's import sanity
    test runs without them), so a module asks here, before it reads anything."""
    import importlib
    import traceback

    missing, errors = [], []
    for library in libraries:
        try:
            importlib.import_module({"PyYAML": "yaml"}.get(library, library))
        except ImportError:
            missing.append(library)
            errors.append(traceback.format_exc())
    return missing, "".join(errors)


def run_module(module, build_request, engine, libraries=("urllib3",)):
    """Build the request from the parameters, call ``engine(request, auth, check_mode)`` and end
    the module with its result.

    First, a managed host without one of ``libraries`` fails the task with Ansible's usual
    message naming them, and the import's traceback in ``exception``.

    Engine errors become ``fail_json`` with every known secret redacted (credential helpers'
    secrets included: the list is read after the run), engine warnings become Ansible warnings,
    and a result with ``failures`` fails the task with its ``msg``, keeping the rest of the result.

    Parsers turn bad input into AirgapError themselves, naming the input. The one net below is
    for what input can cause anywhere, past any parser: a RecursionError (a catalog or manifest
    nested deeper than the stack, met by the code that walks it) or a MemoryError (input too
    large). Those end as ``fail_json`` too, with the traceback in ``exception`` (shown with
    -vvv). Any other exception is a bug and keeps its traceback. SIGTERM and SIGINT interrupt the
    engine (see :mod:`interrupt`): it cleans up, and the task fails saying a re-run resumes.
    """
    import traceback

    from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import redact
    from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import AirgapError
    from ansible_collections.airgap.operatorhub.plugins.module_utils.interrupt import interruptible, signal_name

    missing, errors = _missing_libraries(libraries)
    if missing:
        from ansible.module_utils.basic import missing_required_lib

        module.fail_json(msg=missing_required_lib(" and ".join(missing)), exception=errors)
    auth = None
    try:
        auth = auth_store_from_params(module.params)
        with interruptible():
            result = engine(build_request(module), auth, module.check_mode)
    except KeyboardInterrupt as exc:
        module.fail_json(msg=f"interrupted by {signal_name(exc)}: the run stopped and cleaned up; what it finished "
                             "stays, so running the task again resumes it", interrupted=signal_name(exc))
    except AirgapError as exc:
        module.fail_json(msg=redact(str(exc), auth.secrets() if auth is not None else []))
    except (RecursionError, MemoryError) as exc:
        what = "nested too deeply" if isinstance(exc, RecursionError) else "too large"
        module.fail_json(msg=redact(f"{type(exc).__name__}: {exc}: the task's input (a catalog, manifest or file it "
                                    f"reads) is most likely {what} to be processed; check that input",
                                    auth.secrets() if auth is not None else []),
                         exception=traceback.format_exc())
    # The secrets are read now, at output: credential helpers run during the engine's run, and
    # what they answered must not appear in the result, its msg or its warnings (issue 7, item 5).
    result = _redacted(result, auth.secrets())
    for warning in result.pop("warnings", []):
        module.warn(warning)
    msg = result.pop("msg", None)
    if result.get("failures"):
        module.fail_json(msg=msg, **result)
    module.exit_json(**result)


def _redacted(value, secrets):
    """``value`` (a result: dicts, lists, strings) with every secret in its strings redacted, as
    ``auth.redact`` does. The forms of the secrets are worked out once, not once per string: a
    result lists every image, seven strings each."""
    from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import REDACTED, secret_forms

    forms = sorted({form for secret in secrets or () if secret for form in secret_forms(str(secret))},
                   key=len, reverse=True)
    if not forms:
        return value

    def hide(item):
        if isinstance(item, str):
            for form in forms:
                if form in item:
                    item = item.replace(form, REDACTED)
            return item
        if isinstance(item, dict):
            return {key: hide(inner) for key, inner in item.items()}
        if isinstance(item, (list, tuple)):
            return [hide(inner) for inner in item]
        return item

    return hide(value)


def auth_store_from_params(params):
    """Build the engine's AuthStore from validated module parameters."""
    from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import AuthStore, RegistryConfig

    registries = [RegistryConfig.from_dict(entry, index) for index, entry in enumerate(params.get("registries") or [])]
    return AuthStore(auth_file=params.get("auth_file"), registries=registries)
