# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Domain exceptions raised by the engine.

Modules turn these into ``fail_json(msg=str(exc))``, so every message must say what failed,
on which object, why, and what to do next, and must never carry a secret.
"""

from __future__ import annotations


class AirgapError(Exception):
    """Base class of every error the engine raises on purpose."""


class InvalidReference(AirgapError):
    """An image reference that does not follow the distribution reference grammar."""


class MappingError(AirgapError):
    """A mapping line that cannot be used; ``origin`` is ``file:line``."""

    def __init__(self, message: str, origin: str | None = None):
        self.origin = origin
        self.reason = message
        super().__init__(f"{origin}: {message}" if origin else message)


class AuthError(AirgapError):
    """Credentials missing, unreadable or refused by a registry."""


class RegistryError(AirgapError):
    """A registry answered with an error, or could not be reached after the retries."""

    def __init__(self, message: str, status: int | None = None, code: str | None = None):
        self.status = status
        self.code = code
        super().__init__(message)


class NotFound(RegistryError):
    """The registry answered 404 / MANIFEST_UNKNOWN / BLOB_UNKNOWN / NAME_UNKNOWN."""


class DigestMismatch(AirgapError):
    """Content read or written does not match the digest it was addressed by."""


class CatalogError(AirgapError):
    """A catalog (FBC, sqlite, image) that cannot be read, with the file and what is wrong."""


class ConfigError(AirgapError):
    """An option or configuration file value that is invalid, naming the field."""


class Interrupted(KeyboardInterrupt):
    """SIGTERM (or SIGINT) arrived: the run stops, cleans up and reports itself interrupted.

    A KeyboardInterrupt, so Ctrl-C and SIGTERM take the same path, and so that no ``except
    Exception`` on the way can swallow it. ``signame`` is ``SIGTERM`` or ``SIGINT``.
    """

    def __init__(self, signame: str = "SIGINT"):
        self.signame = signame
        super().__init__(f"interrupted by {signame}")
