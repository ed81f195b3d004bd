# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The subscription_state filter: resolved, unsatisfiable and pending as OLM's Subscription status
says them, called directly and through Ansible's templating as the operator_install role calls it."""

from __future__ import annotations

import jinja2
import pytest

from ansible.errors import AnsibleError

from ansible_collections.airgap.operatorhub.plugins.filter.subscription_state import FilterModule, subscription_state

PLAN = {"apiVersion": "operators.coreos.com/v1alpha1", "kind": "InstallPlan", "name": "install-abcde",
        "namespace": "ns"}


def _failed(reason, status="True"):
    return {"type": "ResolutionFailed", "status": status, "reason": reason, "message": f"{reason}: why"}


HEALTHY = {"type": "CatalogSourcesUnhealthy", "status": "False", "reason": "AllCatalogSourcesHealthy"}
PENDING_PLAN = {"type": "InstallPlanPending", "status": "True", "reason": "Installing"}


def _sub(**status):
    return {"apiVersion": "operators.coreos.com/v1alpha1", "kind": "Subscription",
            "metadata": {"name": "p", "namespace": "ns"}, "spec": {"name": "p"}, "status": status}


@pytest.mark.parametrize("subscription, resolved, unsatisfiable", [
    # nothing read yet, or not looked at by OLM yet
    ({}, False, False),
    (None, False, False),
    (_sub(), False, False),
    ({"metadata": {"name": "p"}, "status": None}, False, False),
    # a plan made for the current CSV
    (_sub(currentCSV="p.v1", installPlanRef=PLAN, conditions=[HEALTHY, PENDING_PLAN]), True, False),
    # installed already (the plan reference may be gone)
    (_sub(currentCSV="p.v1", installedCSV="p.v1", state="AtLatestKnown"), True, False),
    # a current CSV without a plan and another CSV installed: an upgrade OLM has not planned yet
    (_sub(currentCSV="p.v2", installedCSV="p.v1"), False, False),
    (_sub(currentCSV="", installPlanRef=PLAN), False, False),
    (_sub(installedCSV="p.v1"), False, False),
    # OLM does not requeue ConstraintsNotSatisfiable
    (_sub(conditions=[HEALTHY, _failed("ConstraintsNotSatisfiable")]), False, True),
    # the reasons OLM retries, and conditions that do not hold, are not unsatisfiable
    (_sub(conditions=[HEALTHY, _failed("ErrorPreventedResolution")]), False, False),
    (_sub(conditions=[_failed("ConstraintsNotSatisfiable", status="False")]), False, False),
    (_sub(conditions=[{"type": "ResolutionFailed", "status": "True"}]), False, False),
    (_sub(conditions=[{"type": "CatalogSourcesUnhealthy", "status": "True", "reason": "ConstraintsNotSatisfiable"}]),
     False, False),
    # both at once (a stale condition beside a new plan): each said as it is
    (_sub(currentCSV="p.v1", installPlanRef=PLAN, conditions=[_failed("ConstraintsNotSatisfiable")]), True, True),
])
def test_resolved_unsatisfiable_pending(subscription, resolved, unsatisfiable):
    state = subscription_state(subscription)
    assert (state["resolved"], state["unsatisfiable"]) == (resolved, unsatisfiable)
    assert state["pending"] is (not resolved and not unsatisfiable)


def test_conditions_are_those_that_hold_in_order():
    retried = _failed("ErrorPreventedResolution")
    sub = _sub(conditions=[PENDING_PLAN, HEALTHY, retried, {"type": "BundleUnpacking", "status": "Unknown"}, "junk"])
    assert subscription_state(sub)["conditions"] == [PENDING_PLAN, retried]
    assert subscription_state({})["conditions"] == []


@pytest.mark.parametrize("value, words", [
    (["a list"], "the input (a Subscription resource) must be a dictionary, not list"),
    ({"status": "Running"}, "status must be a dictionary, not str"),
    ({"status": {"conditions": {"type": "x"}}}, "status.conditions must be a list, not dict"),
])
def test_not_a_subscription_is_refused(value, words):
    with pytest.raises(AnsibleError, match=r"subscription_state: " + words.replace("(", r"\(").replace(")", r"\)")):
        subscription_state(value)


def test_registered_under_its_name():
    assert FilterModule().filters() == {"subscription_state": subscription_state}


@pytest.mark.parametrize("resources, expected", [
    ([], {"resolved": False, "unsatisfiable": False, "pending": True, "conditions": []}),
    ([_sub(conditions=[_failed("ConstraintsNotSatisfiable")])],
     {"resolved": False, "unsatisfiable": True, "pending": False, "conditions": [_failed("ConstraintsNotSatisfiable")]}),
])
def test_in_the_expression_the_role_uses(resources, expected):
    """k8s_info's resources, empty when the Subscription is missing, through Jinja as the role's
    ``until`` reads them (``first`` of nothing is undefined: ``default({})`` makes it none)."""
    environment = jinja2.Environment()
    environment.filters["airgap.operatorhub.subscription_state"] = subscription_state
    expression = environment.compile_expression(
        "(result.resources | default([]) | first | default({}) | airgap.operatorhub.subscription_state)")
    assert expression(result={"resources": resources}) == expected
