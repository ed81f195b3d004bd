# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How registries are reached, as one typed value: the defaults of the ``retries`` and
``timeout`` options live here and nowhere else (the argument spec reads them from here)."""

from __future__ import annotations

from dataclasses import dataclass

from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import ConfigError


@dataclass(frozen=True)
class ConnectionSettings:
    """Retries of one failed request (429, 5xx, dropped connections) and one request's timeout."""

    retries: int = 5
    timeout: float = 60.0

    def __post_init__(self) -> None:
        if self.retries is None or self.retries < 0:
            raise ConfigError(f"retries must be 0 or more, got {self.retries!r}")
        if self.timeout is None or self.timeout <= 0:
            raise ConfigError(f"timeout must be more than 0 seconds, got {self.timeout!r}")
