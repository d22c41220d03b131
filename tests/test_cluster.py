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


# --- preview: what `pulumi preview` shows before the cluster exists -------------------------------


@pytest.mark.parametrize("enabled", [False, True], ids=["no-insights", "insights"])
def test_preview_plans_exactly_the_cluster_an_update_creates(run_component, enabled: bool) -> None:
    def build() -> None:
        Cluster("cluster", ClusterArgs(container_insights=enabled))

    up = {r.urn for r in run_component(build).resources}
    planned = {r.urn for r in run_component(build, preview=True).resources}
    assert planned == up, (
        f"`pulumi preview` hides {sorted(up - planned)} that `pulumi up` creates "
        f"and shows {sorted(planned - up)} that it does not"
    )


@pytest.mark.parametrize(("enabled", "want"), [(False, "disabled"), (True, "enabled")])
def test_preview_shows_container_insights_as_set(run_component, enabled: bool, want: str) -> None:
    run = run_component(
        lambda: Cluster("cluster", ClusterArgs(container_insights=enabled)), preview=True
    )
    cluster = component_child(run, CLUSTER)
    assert insights(cluster) == want, (
        f"preview shows {cluster.urn} with Container Insights {insights(cluster)}, "
        f"want {want} (containerInsights={enabled})"
    )


def test_preview_shows_fargate_and_fargate_spot_on_the_cluster(dev_preview: ProgramRun) -> None:
    cluster = component_child(dev_preview, CLUSTER)
    capacity = component_child(dev_preview, CAPACITY)
    assert cluster.urn in capacity.depends_on, f"{capacity.urn} is planned for another cluster"
    assert capacity.inputs["clusterName"] == cluster.inputs["name"] == "fargate-app-dev", (
        f"preview shows {capacity.urn} on {capacity.inputs['clusterName']!r}"
    )
    assert sorted(capacity.inputs["capacityProviders"]) == ["FARGATE", "FARGATE_SPOT"], (
        f"preview shows {capacity.urn} with {capacity.inputs['capacityProviders']}: the "
        "service's Spot strategy needs FARGATE_SPOT"
    )
    strategy = capacity.inputs.get("defaultCapacityProviderStrategies") or []
    weighted = [s["capacityProvider"] for s in strategy if s.get("weight", 0) > 0]
    assert weighted == ["FARGATE"], f"preview shows one-off tasks placed on {weighted}"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_preview_already_knows_the_cluster_name(run_stack, stack: str) -> None:
    run = run_stack(stack, preview=True)
    outputs = run.one("fargate-app:cluster:Cluster").component_outputs
    assert outputs["cluster_name"] == f"fargate-app-{stack}", (
        f"preview gives services the cluster name {outputs['cluster_name']!r}"
    )
    assert insights(component_child(run, CLUSTER)) == {"dev": "disabled", "prod": "enabled"}[stack]
