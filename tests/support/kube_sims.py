# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TEST DOUBLES, all at once: the stand-in API server's simulated cluster behaviour.

``install_simulators(kube_api, [registry])`` installs, in this order (each listens to the
store's writes, later ones read what earlier ones wrote):

- ``catalog``: :class:`~tests.support.kube_olm_sim.CatalogSourceSimulator` (catalog pods, READY
  from real pulls through the mirror policies);
- ``mcp``: :class:`~tests.support.kube_mcp_sim.MachineConfigPoolSimulator` (pools rolling after a
  mirror policy change), when ``mcp`` is true and that module exists; stop it with
  :func:`stop_simulators` (it runs a timer thread);
- ``packages``: :class:`~tests.support.kube_packages_sim.PackageManifestSimulator`;
- ``install``: :class:`~tests.support.kube_install_sim.InstallSimulator`.

Returns a dict of the simulators by those names (``mcp`` absent when not installed).
"""

from __future__ import annotations

import importlib

from .kube_install_sim import InstallSimulator
from .kube_olm_sim import CatalogSourceSimulator
from .kube_packages_sim import PackageManifestSimulator


def install_simulators(api, registries=(), mcp=True, **mcp_options) -> dict:
    """Install every simulation on ``api`` (a KubeApiServer); ``registries``: the endpoints a node
    reaches; ``mcp_options``: passed to MachineConfigPoolSimulator (``step_seconds`` ...)."""
    sims = {"catalog": CatalogSourceSimulator(api, registries=registries).install()}
    if mcp:
        try:
            module = importlib.import_module(".kube_mcp_sim", __package__)
        except ImportError:
            module = None
        if module is not None:
            sims["mcp"] = module.MachineConfigPoolSimulator(api, **mcp_options).install()
    sims["packages"] = PackageManifestSimulator(api, sims["catalog"]).install()
    sims["install"] = InstallSimulator(api, sims["catalog"], sims["packages"]).install()
    return sims


def stop_simulators(sims: dict) -> None:
    """Stop what runs in the background (the MCP simulator's timer thread)."""
    if "mcp" in sims and hasattr(sims["mcp"], "stop"):
        sims["mcp"].stop()
