# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  auth_file:
    description:
      - An auth.json written by C(podman login) or C(docker login), the file the seed workflow
        passes to C(oc adm catalog mirror -a) and C(skopeo --authfile).
      - When not set, the first that exists of C($REGISTRY_AUTH_FILE),
        C($XDG_RUNTIME_DIR/containers/auth.json), C(~/.config/containers/auth.json) and
        C(~/.docker/config.json) is read.
      - Credential helpers named in the file (C(credHelpers), C(credsStore)) are run as docker runs
        them (C(docker-credential-<name> get)), for example C(ecr-login) for an Amazon ECR mirror.
      - Entries of O(registries) take precedence over this file for their host.
    type: path
  registries:
    description:
      - Per-registry settings, one entry a registry host (with its port when it has one).
      - Replaces C(--insecure) / C(--dest-tls-verify=false) and C(--creds) of C(oc) and C(skopeo),
        for the named registries only.
    type: list
    elements: dict
    default: []
    suboptions:
      host:
        description: Registry host, with the port if any, as it appears in image references (C(registry.example.com:5000)).
        type: str
        required: true
      username:
        description: User name for this registry; overrides the auth file.
        type: str
      password:
        description:
          - Password or token for this registry. Never logged nor returned.
        type: str
      tls_verify:
        description:
          - Verify the registry's TLS certificate. V(false) is for this registry only, and also
            lets it be reached over plain HTTP, as podman's insecure registries are; credentials
            then travel in clear, and the task warns before sending any.
          - Its token server and the hosts it redirects to keep their own settings (their own
            entry, else verification with the system CAs and this registry's CA).
        type: bool
        default: true
      ca_path:
        description:
          - A PEM CA bundle file, or a directory of C(.crt) files, to verify this registry's
            certificate with, in addition to the system trust store.
          - C(/etc/containers/certs.d/<host>/ca.crt) is also used when present.
        type: path
      client_cert:
        description:
          - A PEM client certificate to present to this registry, for registries that require
            mutual TLS (C(skopeo --cert-dir) with a C(*.cert) / C(*.key) pair). Give O(registries[].client_key) too.
          - Without it, a C(<name>.cert) with its C(<name>.key) in C(/etc/containers/certs.d/<host>/)
            (or C(/etc/docker/certs.d/<host>/)) is used when present, as podman and docker do.
        type: path
      client_key:
        description: The unencrypted PEM private key of O(registries[].client_cert).
        type: path
  retries:
    description:
      - How many times a request is retried after a 429 (honouring C(Retry-After)), a 5xx answer
        or a dropped connection, with exponential backoff. A blob upload is restarted whole.
    type: int
    default: 5
  timeout:
    description: Seconds to wait for a registry to answer a request before retrying it.
    type: float
    default: 60
notes:
  - Secrets given in O(registries) or read from the auth file never appear in task results,
    reports, logs or error messages.
"""
