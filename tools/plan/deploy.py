"""The modeled time of one deploy of each ECS service, itemised, from its registered settings.

A rolling deploy with minimumHealthyPercent 100 starts the new tasks alongside the old ones
(all at once when maximumPercent allows 200%), so its time does not grow with the task count:
    launch   the new task starts: image pull and app boot (a typical figure, not a setting)
    healthy  the target group sees `healthyThreshold` passing checks, `interval` apart
    drain    the old task is deregistered and waits the target group's deregistration delay
    stop     the old task gets SIGTERM and finishes in-flight requests (the app's graceful timeout,
             else the container's stopTimeout, after which ECS sends SIGKILL)
Blue/green, linear and canary strategies add their bake time between healthy and drain.

This reads the target group and task definition the program registered, so the figure is what is
configured; `components.service.rolling_deploy_model` is the same model from the constants, and a
test keeps the two in step.
"""

from __future__ import annotations

from typing import Any

from components.service import TYPICAL_TASK_LAUNCH_S
from tools.mocks import RegisteredResource
from tools.plan.refs import Index
from tools.plan.tree import (
    ECS_DEFAULT_STOP_TIMEOUT_S,
    TG_DEFAULT_DEREGISTRATION_S,
    TG_DEFAULT_HEALTHY,
    TG_DEFAULT_INTERVAL_S,
    container_definitions,
    dig,
)

# The environment variable through which the app learns its graceful shutdown deadline.
GRACEFUL_TIMEOUT_ENV = "GRACEFUL_TIMEOUT"
BAKE_STRATEGIES = ("BLUE_GREEN", "LINEAR", "CANARY")


def _essential_container(task_def: RegisteredResource | None) -> dict[str, Any]:
    containers = container_definitions(task_def) if task_def else []
    return next((c for c in containers if c.get("essential", True)), {})


def _stop_seconds(container: dict[str, Any]) -> tuple[int, str]:
    env = {e.get("name"): e.get("value") for e in container.get("environment") or []}
    stop_timeout = container.get("stopTimeout", ECS_DEFAULT_STOP_TIMEOUT_S)
    if str(env.get(GRACEFUL_TIMEOUT_ENV, "")).isdigit():
        return int(env[GRACEFUL_TIMEOUT_ENV]), (
            f"the app's graceful timeout after SIGTERM ({GRACEFUL_TIMEOUT_ENV}); "
            f"SIGKILL at {stop_timeout} s"
        )
    return int(stop_timeout), "the container's stopTimeout after SIGTERM"


def service_deploy(service: RegisteredResource, index: Index) -> dict[str, Any]:
    """The itemised deploy time of one service."""
    lb = dig(service.inputs, "loadBalancers", 0, default={})
    tg = index.resolve(lb.get("targetGroupArn"))
    hc = (tg.inputs.get("healthCheck") if tg else None) or {}
    interval = int(hc.get("interval", TG_DEFAULT_INTERVAL_S))
    healthy = int(hc.get("healthyThreshold", TG_DEFAULT_HEALTHY))
    drain = int(tg.inputs.get("deregistrationDelay", TG_DEFAULT_DEREGISTRATION_S)) if tg else 0
    task_def = index.resolve(service.inputs.get("taskDefinition"))
    stop, stop_why = _stop_seconds(_essential_container(task_def))
    tg_name = tg.name if tg else "no target group"

    steps = [
        {
            "step": "launch",
            "seconds": TYPICAL_TASK_LAUNCH_S,
            "why": "typical start of a small image on Fargate (pull + boot)",
        },
        {
            "step": "healthy",
            "seconds": healthy * interval if tg else 0,
            "why": f"{healthy} passing health checks {interval} s apart ({tg_name})"
            if tg
            else "no load balancer health check",
        },
    ]
    config = service.inputs.get("deploymentConfiguration") or {}
    strategy = config.get("strategy", "ROLLING")
    if strategy in BAKE_STRATEGIES:
        bake = int(config.get("bakeTimeInMinutes", 0) or 0) * 60
        steps.append(
            {
                "step": "bake",
                "seconds": bake,
                "why": f"{strategy} bake time before the old tasks go",
            }
        )
    steps += [
        {
            "step": "drain",
            "seconds": drain,
            "why": f"deregistration delay ({tg_name})" if tg else "no target group to drain",
        },
        {"step": "stop", "seconds": stop, "why": stop_why},
    ]
    return {
        "service": service.name,
        "strategy": strategy,
        "steps": steps,
        "total": sum(s["seconds"] for s in steps),
    }


def model(index: Index) -> dict[str, Any]:
    services = [
        service_deploy(s, index)
        for s in sorted(index.of_type("aws:ecs/service:Service"), key=lambda r: r.name)
    ]
    return {
        "services": services,
        # Services deploy in parallel in one `pulumi up`; the slowest one sets the pace.
        "total": max((s["total"] for s in services), default=0),
    }
