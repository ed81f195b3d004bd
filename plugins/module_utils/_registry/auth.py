# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Registry credentials and TLS settings.

Credentials come from, in this order (the first source that has an entry for the host wins):

1. ``registries[]`` entries of the module / role (exact ``host[:port]``);
2. the ``auth_file`` option;
3. ``$REGISTRY_AUTH_FILE``;
4. ``$XDG_RUNTIME_DIR/containers/auth.json`` (where ``podman login`` writes);
5. ``~/.config/containers/auth.json``;
6. ``~/.docker/config.json`` (where ``docker login`` writes).

Auth files are the ``{"auths": {KEY: ENTRY}}`` format shared by podman, skopeo and docker. KEY is
``host[:port]``, optionally with a repository path for podman's repository-scoped logins
(``host/ns/repo``, longest match wins), or the legacy URL forms ``https://host`` and
``https://host/v1/``. ENTRY holds ``auth`` (base64 of ``user:password``), or ``username`` and
``password``, or an ``identitytoken`` (an OAuth2 refresh token).

Credential helpers are run as docker runs them: within one file, ``credHelpers[host]`` comes
first, then the ``auths`` entries, then ``credsStore``; the helper is the executable
``docker-credential-<name>`` on PATH, asked with ``get`` and the host on standard input, and
answers ``{"Username", "Secret"}`` (``<token>`` as the user for an identity token). Each answer
is asked once per run.

No message, repr or warning of this module contains a password, token or ``auth`` value.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import shutil
import subprocess
import threading
import re
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence
from urllib.parse import quote, quote_plus

from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import AuthError, ConfigError

# Names the Docker Hub is known by in auth files; all are the same registry.
DOCKER_HUB = "docker.io"
_HUB_ALIASES = ("docker.io", "index.docker.io", "registry-1.docker.io")

# Username that marks an identity token (docker's convention for OAuth2 refresh tokens).
IDENTITY_TOKEN_USER = "<token>"

DEFAULT_CERTS_DIRS = ("/etc/containers/certs.d", "/etc/docker/certs.d")

REDACTED = "********"

_HOST_RE = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
    r"|\[[0-9A-Fa-f:.]+\])(?::[0-9]+)?$"
)


def canonical_host(host: str) -> str:
    """``host[:port]`` lower-cased, with every Docker Hub alias mapped to ``docker.io``."""
    host = (host or "").strip().lower()
    return DOCKER_HUB if host in _HUB_ALIASES else host


@dataclass
class RegistryConfig:
    """One ``registries[]`` entry: credentials and TLS settings for one registry host."""

    host: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls_verify: bool = True
    ca_path: str | None = None
    client_cert: str | None = None
    client_key: str | None = None

    @classmethod
    def from_dict(cls, d: Mapping, index: int) -> RegistryConfig:
        """Build one entry from its validated option (types, required and paired keys are the
        argument spec's job); check what a spec cannot: the host's form and that files exist.
        Errors name ``registries[INDEX].FIELD`` and never echo a password."""
        where = f"registries[{index}]"
        raw_host = d.get("host") or ""
        host = raw_host.strip()
        for prefix in ("https://", "http://"):
            if host.lower().startswith(prefix):
                host = host[len(prefix):]
        host = host.rstrip("/")
        if not _HOST_RE.fullmatch(host):
            raise ConfigError(
                f"{where}.host {raw_host!r} is not a host[:port] (no path, no scheme), for example "
                "registry.example.com:5000"
            )
        ca_path = d.get("ca_path")
        if ca_path is not None and not os.path.exists(ca_path):
            raise ConfigError(f"{where}.ca_path {ca_path!r} does not exist: give a PEM CA file or a directory of .crt files")
        for name in ("client_cert", "client_key"):
            value = d.get(name)
            if value is not None and not os.path.isfile(value):
                raise ConfigError(f"{where}.{name} {value!r} is not a file: give a PEM file")
        return cls(host=host, username=d.get("username") or None, password=d.get("password") or None,
                   tls_verify=bool(d.get("tls_verify", True)), ca_path=ca_path,
                   client_cert=d.get("client_cert"), client_key=d.get("client_key"))


@dataclass(frozen=True)
class Credentials:
    """A username and password; an identity token has the username ``<token>``."""

    username: str
    password: str = field(repr=False)

    @property
    def is_identity_token(self) -> bool:
        return self.username == IDENTITY_TOKEN_USER

    def basic_header(self) -> str:
        """The value of an ``Authorization: Basic`` header (keep it out of logs)."""
        raw = f"{self.username}:{self.password}".encode("utf-8")
        return "Basic " + base64.b64encode(raw).decode("ascii")

    def secrets(self) -> list[str]:
        out = [self.password, base64.b64encode(f"{self.username}:{self.password}".encode("utf-8")).decode("ascii")]
        return [s for s in out if s]


@dataclass
class _Entry:
    host: str
    path: str
    credentials: Credentials
    exact_key: bool  # written as host[/path] rather than a legacy URL


def _split_key(key: str) -> tuple[str, str] | None:
    """(canonical host, repository path or "") of an auth file key, or None if it is unusable."""
    key = key.strip()
    lowered = key.lower()
    if lowered.startswith("https://") or lowered.startswith("http://"):
        # Legacy docker keys are URLs whose path (/v1/, /v2/) never scopes a repository.
        rest = key.split("://", 1)[1]
        host = rest.split("/", 1)[0]
        return canonical_host(host), ""
    host, dummy, path = key.partition("/")
    if not host:
        return None
    return canonical_host(host), path.strip("/")


class AuthStore:
    """Answers "which credentials and TLS settings for this registry host".

    ``env`` replaces ``os.environ`` (for HOME, REGISTRY_AUTH_FILE, XDG_RUNTIME_DIR); tests pass it
    explicitly. An explicitly named ``auth_file`` that is missing, unreadable or not valid JSON
    raises AuthError; so does a ``$REGISTRY_AUTH_FILE`` that exists but cannot be read. Problems
    with the default files are reported in :attr:`warnings` and the file is skipped.
    """

    def __init__(
        self,
        auth_file: str | None = None,
        registries: list[RegistryConfig] | None = None,
        env: Mapping[str, str] | None = None,
        certs_dirs: Sequence[str] | None = None,
    ):
        self._env = dict(os.environ if env is None else env)
        self._registries: dict[str, RegistryConfig] = {}
        for index, reg in enumerate(registries or []):
            if isinstance(reg, Mapping):
                reg = RegistryConfig.from_dict(reg, index)
            key = canonical_host(reg.host)
            if key in self._registries:
                raise ConfigError(f"registries[{index}].host {reg.host!r} is listed twice; keep one entry per registry")
            self._registries[key] = reg
        self._certs_dirs = tuple(DEFAULT_CERTS_DIRS if certs_dirs is None else certs_dirs)
        self.warnings: list[str] = []
        self.files: list[str] = []  # the auth files actually read, in precedence order
        self._files: list[list[_Entry]] = []
        # per file read: (credHelpers {host: helper}, credsStore helper or None)
        self._helpers: list[tuple[dict[str, str], str | None]] = []
        self._helper_answers: dict[tuple[str, str], Credentials | None] = {}
        self._helper_lock = threading.Lock()
        for path, explicit in self._candidate_files(auth_file):
            entries = self._read_file(path, explicit)
            if entries is not None:
                self.files.append(path)
                self._files.append(entries)

    def __repr__(self) -> str:
        return f"AuthStore(files={self.files!r}, registries={sorted(self._registries)!r})"

    # -- sources ---------------------------------------------------------------------------
    def _home(self) -> str:
        return self._env.get("HOME") or os.path.expanduser("~")

    def _candidate_files(self, auth_file: str | None) -> list[tuple[str, str | None]]:
        """(path, why it is explicit or None) in precedence order, without duplicates."""
        out: list[tuple[str, str | None]] = []
        if auth_file:
            out.append((os.path.expanduser(auth_file), "auth_file"))
        env_file = self._env.get("REGISTRY_AUTH_FILE")
        if env_file:
            out.append((os.path.expanduser(env_file), "REGISTRY_AUTH_FILE"))
        xdg = self._env.get("XDG_RUNTIME_DIR")
        if xdg:
            out.append((os.path.join(xdg, "containers", "auth.json"), None))
        home = self._home()
        out.append((os.path.join(home, ".config", "containers", "auth.json"), None))
        out.append((os.path.join(home, ".docker", "config.json"), None))
        seen: set[str] = set()
        unique = []
        for path, why in out:
            real = os.path.abspath(path)
            if real not in seen:
                seen.add(real)
                unique.append((path, why))
        return unique

    def _read_file(self, path: str, explicit: str | None) -> list[_Entry] | None:
        if not os.path.exists(path):
            if explicit == "auth_file":
                raise AuthError(f"auth file {path} (auth_file) does not exist: create it with podman login --authfile {path} REGISTRY, or fix the path")
            if explicit:
                self.warnings.append(f"auth file {path} (from ${explicit}) does not exist; ignored")
            return None
        problem = None
        try:
            with open(path, "rb") as handle:
                data = json.loads(handle.read().decode("utf-8"))
            if not isinstance(data, dict):
                problem = "is not a JSON object"
        except OSError as exc:
            problem = f"cannot be read ({exc.strerror or type(exc).__name__})"
        except (UnicodeDecodeError, ValueError) as exc:
            # The decoder's message quotes no content, only a position.
            where = f" at line {exc.lineno} column {exc.colno}" if hasattr(exc, "lineno") else ""
            problem = f"is not valid JSON{where}"
        if problem:
            if explicit:
                label = "auth_file" if explicit == "auth_file" else f"${explicit}"
                raise AuthError(f"auth file {path} ({label}) {problem}: fix it or log in again with podman login --authfile {path}")
            self.warnings.append(f"auth file {path} {problem}; ignored")
            return None
        return self._parse(path, data)

    def _parse(self, path: str, data: dict) -> list[_Entry]:
        helpers: dict[str, str] = {}
        if isinstance(data.get("credHelpers"), dict):
            for key, name in data["credHelpers"].items():
                split = _split_key(str(key))
                if split is not None and isinstance(name, str) and name:
                    helpers[split[0]] = name
        store = data.get("credsStore") if isinstance(data.get("credsStore"), str) and data.get("credsStore") else None
        self._helpers.append((helpers, store))
        auths = data.get("auths", {})
        if not isinstance(auths, dict):
            self.warnings.append(f"auth file {path}: 'auths' is not an object; ignored")
            return []
        entries: list[_Entry] = []
        for key, value in auths.items():
            split = _split_key(str(key))
            if split is None:
                continue
            host, repo_path = split
            if not isinstance(value, dict):
                self.warnings.append(f"auth file {path}: entry {key!r} is not an object; ignored")
                continue
            creds = self._entry_credentials(path, str(key), value)
            if creds is None:
                continue
            exact = not str(key).lower().startswith(("http://", "https://"))
            entries.append(_Entry(host=host, path=repo_path, credentials=creds, exact_key=exact))
        return entries

    def _entry_credentials(self, path: str, key: str, value: dict) -> Credentials | None:
        token = value.get("identitytoken")
        if isinstance(token, str) and token:
            return Credentials(IDENTITY_TOKEN_USER, token)
        auth = value.get("auth")
        if isinstance(auth, str) and auth:
            try:
                decoded = base64.b64decode(auth.strip(), validate=False).decode("utf-8")
            except (binascii.Error, ValueError):
                decoded = None
            if decoded is None or ":" not in decoded:
                self.warnings.append(
                    f"auth file {path}: entry {key!r} has an 'auth' value that is not base64 of user:password; ignored"
                )
                return None
            user, dummy, password = decoded.partition(":")
            # A docker login with an identity token stores "user:" here; nothing usable.
            if user and password:
                return Credentials(user, password)
        user, password = value.get("username"), value.get("password")
        if isinstance(user, str) and user and isinstance(password, str) and password:
            return Credentials(user, password)
        return None

    # -- questions -------------------------------------------------------------------------
    def credentials_for(self, host: str, repository: str | None = None) -> Credentials | None:
        """Credentials for ``host`` (and ``repository``, for repository-scoped keys), or None."""
        key = canonical_host(host)
        reg = self._registries.get(key)
        if reg is not None and reg.username is not None and reg.password is not None:
            return Credentials(reg.username, reg.password)
        repository = (repository or "").strip("/")
        for entries, (helpers, store) in zip(self._files, self._helpers):
            if key in helpers:
                answer = self._ask_helper(helpers[key], key)
                if answer is not None:
                    return answer
            best: _Entry | None = None
            for entry in entries:
                if entry.host != key:
                    continue
                if entry.path and not (repository == entry.path or repository.startswith(entry.path + "/")):
                    continue
                if (
                    best is None
                    or len(entry.path) > len(best.path)
                    or (len(entry.path) == len(best.path) and entry.exact_key and not best.exact_key)
                ):
                    best = entry
            if best is not None:
                return best.credentials
            if store:
                answer = self._ask_helper(store, key)
                if answer is not None:
                    return answer
        return None

    def _ask_helper(self, name: str, host: str) -> Credentials | None:
        """``docker-credential-<name> get`` for ``host``, once per (helper, host) and run."""
        with self._helper_lock:
            if (name, host) in self._helper_answers:
                return self._helper_answers[(name, host)]
            answer = self._run_helper(name, host)
            self._helper_answers[(name, host)] = answer
            return answer

    def _run_helper(self, name: str, host: str) -> Credentials | None:
        program = f"docker-credential-{name}"
        executable = shutil.which(program, path=self._env.get("PATH", os.defpath))
        if executable is None:
            self.warnings.append(f"credential helper {program} (for {host}) is not on PATH; its credentials are not used")
            return None
        try:
            proc = subprocess.run([executable, "get"], input=host.encode("utf-8"), capture_output=True,
                                  timeout=60, check=False, env=self._env)
        except (OSError, subprocess.TimeoutExpired) as exc:
            self.warnings.append(f"credential helper {program} for {host} could not run: {type(exc).__name__}")
            return None
        if proc.returncode != 0:
            # "credentials not found" is an ordinary answer; any other output is not quoted (it
            # could hold a secret), only its exit code.
            if b"not found" not in proc.stdout + proc.stderr:
                self.warnings.append(f"credential helper {program} for {host} failed (exit code {proc.returncode})")
            return None
        try:
            data = json.loads(proc.stdout.decode("utf-8"))
            user, secret = data.get("Username"), data.get("Secret")
        except (UnicodeDecodeError, ValueError, AttributeError):
            self.warnings.append(f"credential helper {program} for {host} did not answer JSON with Username and Secret")
            return None
        if not (isinstance(user, str) and user and isinstance(secret, str) and secret):
            return None
        return Credentials(user, secret)

    def registry_config(self, host: str) -> RegistryConfig | None:
        return self._registries.get(canonical_host(host))

    def tls_for(self, host: str) -> tuple[bool, str | None]:
        """(verify, ca_path) for ``host``.

        A registries[] entry decides verify and its ca_path; without a ca_path, a
        ``certs.d/<host>/`` directory of /etc/containers or /etc/docker holding ``.crt`` files
        (as podman and docker use them) is given as the CA directory.
        """
        reg = self._registries.get(canonical_host(host))
        verify = reg.tls_verify if reg is not None else True
        if reg is not None and reg.ca_path:
            return verify, reg.ca_path
        for root in self._certs_dirs:
            directory = os.path.join(root, host)
            try:
                names = os.listdir(directory)
            except OSError:
                continue
            if any(name.endswith(".crt") for name in names):
                return verify, directory
        return verify, None

    def client_cert_for(self, host: str) -> tuple[str, str] | None:
        """(certificate, key) PEM files to present to ``host`` (mutual TLS), or None.

        A registries[] entry's client_cert / client_key; else, as podman and docker do, a
        ``<name>.cert`` with its ``<name>.key`` in ``certs.d/<host>/``.
        """
        reg = self._registries.get(canonical_host(host))
        if reg is not None and reg.client_cert and reg.client_key:
            return reg.client_cert, reg.client_key
        for root in self._certs_dirs:
            directory = os.path.join(root, host)
            try:
                names = sorted(os.listdir(directory))
            except OSError:
                continue
            for name in names:
                if name.endswith(".cert"):
                    key = os.path.join(directory, name[: -len(".cert")] + ".key")
                    if os.path.isfile(key):
                        return os.path.join(directory, name), key
        return None

    def secrets(self) -> list[str]:
        """Every password, token and auth blob known, for :func:`redact`."""
        out: list[str] = []
        for reg in self._registries.values():
            if reg.username and reg.password:
                out.extend(Credentials(reg.username, reg.password).secrets())
        for entries in self._files:
            for entry in entries:
                out.extend(entry.credentials.secrets())
        with self._helper_lock:
            for answer in self._helper_answers.values():
                if answer is not None:
                    out.extend(answer.secrets())
        return sorted(set(out), key=len, reverse=True)


def secret_forms(secret: str) -> set[str]:
    """The forms a secret can show up in: as is, URL-quoted, form-quoted, and base64."""
    if not secret:
        return set()
    forms = {secret, quote(secret, safe=""), quote_plus(secret)}
    forms.add(base64.b64encode(secret.encode("utf-8")).decode("ascii"))
    return {f for f in forms if f}


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret in ``text`` by ``********``.

    Besides each secret as given, its URL-quoted and base64 forms are replaced; give
    ``Credentials.secrets()`` (password and base64 ``user:password``) to also catch Basic
    headers. Longer secrets are replaced first so that one secret containing another is fully
    hidden.
    """
    if not text:
        return text
    forms: set[str] = set()
    for secret in secrets or ():
        if secret:
            forms |= secret_forms(str(secret))
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, REDACTED)
    return text
