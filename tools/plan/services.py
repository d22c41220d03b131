"""Each service of the stack with its own idle cost and the time of its deploy (the stack's other
services, issue 15, beside the main one).

A resource belongs to a service when it sits under the service's AppService component
(components.app_service), or, for the main service, under its top-level FargateService or Alarms
component named "app". Its cost is the sum of the cost lines of the resources it owns (its tasks,
their public IPs, its alarms and scaling policies); what no service owns (the load balancer, the
network, the queues and the namespace) is the stack's `shared` cost. Its deploy is its ECS service's
entry in the deploy model (tools.plan.deploy).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from components.spec import MAIN_SERVICE, WEB
from tools.mocks import RegisteredResource
from tools.plan.lookups import essential_container, idle_tasks, writable_paths
from tools.plan.refs import Index

APP_SERVICE = "fargate-app:services:AppService"
MAIN_COMPONENTS = ("fargate-app:service:FargateService", "fargate-app:alarms:Alarms")
ECS_SERVICE = "aws:ecs/service:Service"


def owner(resource: RegisteredResource, index: Index) -> str | None:
    """The service `resource` belongs to, by its parent chain; None: the stack's, shared."""
    node: RegisteredResource | None = resource
    while node is not None:
        parent = index.by_urn.get(node.parent)
        if node.type == APP_SERVICE:
            return node.name
        if node.type in MAIN_COMPONENTS and node.name == MAIN_SERVICE and parent is None:
            return MAIN_SERVICE
        node = parent
    return None


def kind_of(name: str, index: Index) -> str:
    for component in index.of_type(APP_SERVICE):
        if component.name == name:
            return str(component.component_outputs.get("kind", "?"))
    return WEB


def container(ecs: RegisteredResource, index: Index) -> dict[str, Any]:
    """Who the service's container runs as (None: the image's own user) and what it may write
    (writable_paths None: its whole root file system)."""
    task = index.resolve(ecs.inputs.get("taskDefinition"))
    c = essential_container(task)
    return {
        "user": c.get("user") or None,
        "read_only_root": bool(c.get("readonlyRootFilesystem")),
        "writable_paths": writable_paths(task, c),
    }


def model(index: Index, estimate: dict[str, Any], deploys: dict[str, Any]) -> dict[str, Any]:
    """Each service's kind, idle tasks, monthly cost, deploy and container (user, read-only root,
    writable paths); and the shared cost."""
    by_name: dict[str, RegisteredResource] = {}
    for r in index.resources:
        if r.custom:
            by_name.setdefault(r.name, r)
    monthly: dict[str | None, Decimal] = {}
    for line in estimate["lines"]:
        resource = by_name.get(line["resource"])
        key = owner(resource, index) if resource is not None else None
        monthly[key] = monthly.get(key, Decimal(0)) + Decimal(str(line["monthly"]))
    deploy_of = {d["service"]: d for d in deploys["services"]}
    services = []
    for ecs in sorted(index.of_type(ECS_SERVICE), key=lambda r: r.name):
        name = owner(ecs, index) or ecs.name
        deploy = deploy_of.get(ecs.name, {})
        services.append(
            {
                "name": name,
                "kind": kind_of(name, index),
                "ecs_service": ecs.name,
                "idle_tasks": idle_tasks(ecs, index),
                "monthly_idle_usd": float(monthly.get(name, Decimal(0))),
                "strategy": deploy.get("strategy"),
                "deploy_seconds": deploy.get("total", 0),
                "deploy_completed_seconds": deploy.get("until_completed", 0),
                **container(ecs, index),
            }
        )
    services.sort(key=lambda s: (s["name"] != MAIN_SERVICE, s["name"]))
    return {"services": services, "shared_monthly_idle_usd": float(monthly.get(None, Decimal(0)))}
