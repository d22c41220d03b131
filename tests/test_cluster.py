"""The cluster (components/cluster.py).

What a user relies on: Container Insights exactly when `containerInsights` says so (it is billed
per metric), both Fargate capacity providers on the cluster so a service can mix on-demand and
Spot, and a cluster name that says which project and stack it belongs to.
"""

from __future__ import annotations

import re

import pytest

from components.cluster import Cluster, ClusterArgs
from tools.mocks import ProgramRun, RegisteredResource

CLUSTER = "aws:ecs/cluster:Cluster"
CAPACITY = "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders"


def component_child(run: ProgramRun, type_token: str) -> RegisteredResource:
    component = [r for r in run.of_type("fargate-app:cluster:Cluster") if r.name == "cluster"]
    assert len(component) == 1, "expected the Cluster component 'cluster'"
    found = [r for r in run.children(component[0]) if r.type == type_token]
    assert len(found) == 1, f"expected one {type_token} in the cluster component, got {found}"
    return found[0]


def insights(cluster: RegisteredResource) -> str:
    settings = {s["name"]: s["value"] for s in cluster.inputs.get("settings", [])}
    return settings.get("containerInsights", "disabled")


@pytest.mark.parametrize(("enabled", "want"), [(False, "disabled"), (True, "enabled")])
def test_container_insights_follow_the_setting(run_component, enabled: bool, want: str) -> None:
    run = run_component(lambda: Cluster("cluster", ClusterArgs(container_insights=enabled)))
    cluster = component_child(run, CLUSTER)
    assert insights(cluster) == want, f"{cluster.urn}: containerInsights={enabled}"


def test_dev_pays_for_no_insights_and_prod_has_them(dev: ProgramRun, prod: ProgramRun) -> None:
    assert insights(component_child(dev, CLUSTER)) == "disabled"
    assert insights(component_child(prod, CLUSTER)) == "enabled"


def test_the_cluster_offers_fargate_and_fargate_spot(dev: ProgramRun) -> None:
    cluster = component_child(dev, CLUSTER)
    capacity = component_child(dev, CAPACITY)
    assert capacity.inputs["clusterName"] == cluster.outputs["name"], (
        f"{capacity.urn} is attached to another cluster"
    )
    assert sorted(capacity.inputs["capacityProviders"]) == ["FARGATE", "FARGATE_SPOT"], (
        f"{capacity.urn}: a service's Spot strategy needs FARGATE_SPOT on the cluster"
    )


def test_one_off_tasks_default_to_on_demand_fargate(dev: ProgramRun) -> None:
    capacity = component_child(dev, CAPACITY)
    strategy = capacity.inputs.get("defaultCapacityProviderStrategies") or []
    weighted = [s["capacityProvider"] for s in strategy if s.get("weight", 0) > 0]
    assert weighted == ["FARGATE"], f"{capacity.urn}: one-off tasks must not be interrupted"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_cluster_is_named_after_project_and_stack(run_stack, stack: str) -> None:
    run = run_stack(stack)
    cluster = component_child(run, CLUSTER)
    assert cluster.inputs["name"] == f"fargate-app-{stack}", cluster.urn
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,255}", cluster.inputs["name"]), cluster.urn
    assert run.outputs["clusterName"] == cluster.inputs["name"]
