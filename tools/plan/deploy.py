"""The modeled time of one deploy of each ECS service, itemised, from its registered settings.

A rolling deploy with minimumHealthyPercent 100 starts the new tasks alongside the old ones
(all at once when maximumPercent allows 200%), so its time does not grow with the task count:
    launch   the new task starts: image pull and app boot (a typical figure, not a setting)
    healthy  the target group sees `healthyThreshold` passing checks, `interval` apart. This counts
             every check on purpose, not one interval: a target takes traffic only after
             healthyThreshold consecutive passes, so one interval would be optimistic
    drain    the old task is deregistered and waits the target group's deregistration delay
    stop     the old task gets SIGTERM and finishes in-flight requests (the app's graceful timeout,
             else the container's stopTimeout, after which ECS sends SIGKILL)
That is the rollout: after it every user is on the new version. With deployment alarms attached
(`alarms` on the service), ECS then keeps the deployment IN_PROGRESS while it watches them, for a
"bake time" it computes from the alarms' configuration (AWS: deployment-alarm-failure), and
`pulumi up` (wait_for_steady_state) waits for that too. The plan shows it apart from the rollout,
as `alarm_watch`, estimated as the longest deployment alarm's evaluation window (period x
evaluation periods): an estimate, since ECS computes the real figure.

ECS's traffic-shifting strategies (BLUE_GREEN, CANARY, LINEAR) start the new tasks in the alternate
target group (launch, healthy as above), then:
    canary_shift, canary_bake   CANARY: canaryPercent of traffic moves to the new tasks, which
                                serve it alone for canaryBakeTimeInMinutes
    shift, step_bake            LINEAR: ceil(100 / stepPercent) shifts, stepBakeTimeInMinutes
                                between them (not after the last)
    shift                       BLUE_GREEN, CANARY: (the rest of) the traffic moves
    bake                        bakeTimeInMinutes with both revisions running; ECS watches the
                                deployment alarms during it, so there is no separate alarm watch
    drain, stop                 the old tasks, as above
A traffic shift is a listener rule change (`TRAFFIC_SHIFT_S`, a typical figure like the launch).

CloudFront's first creation (components.edge) is modelled apart, as `edge`: it happens once, on
the `pulumi up` that creates the distribution, and the app's rollout does not wait for it (no ECS
service depends on the edge; `app_rollout_waits` says so from the registered dependencies):
    origin         the VPC origin deploys: "can take up to 15 minutes" (CloudFront Developer
                   Guide, "Restrict access with VPC origins")
    admit          the load balancer admits CloudFront's group (one security group rule)
    propagate      the distribution deploys to every edge location: AWS states no figure; this is
                   how long AWS's own waiter (`aws cloudfront wait distribution-deployed`: 35 polls
                   60 s apart) waits at most
Both are upper bounds, not typical figures. A later change to the distribution redeploys it the same
way, and `pulumi up` waits for that too; a change to the app alone does not touch it.

This reads the service, target group, task definition and alarms the program registered, so the
figure is what is configured; `components.service.deploy_model` is the same model from the
constants, and a test keeps the two in step for every strategy.
"""

from __future__ import annotations

import math
from typing import Any

from components.service import TRAFFIC_SHIFT_S, TYPICAL_TASK_LAUNCH_S
from components.spec import GRACEFUL_TIMEOUT_ENV, shifts_traffic
from tools.mocks import RegisteredResource
from tools.plan.lookups import (
    ECS_DEFAULT_CANARY_BAKE_MIN,
    ECS_DEFAULT_CANARY_PERCENT,
    ECS_DEFAULT_LINEAR_STEP_BAKE_MIN,
    ECS_DEFAULT_LINEAR_STEP_PERCENT,
    TG_DEFAULT_DEREGISTRATION_S,
    TG_DEFAULT_HEALTHY,
    TG_DEFAULT_INTERVAL_S,
    alarm_period,
    deployment_strategy,
    dig,
    essential_container,
    stop_timeout,
)
from tools.plan.refs import Index

# The edge's first creation, upper bounds (see the module docstring).
VPC_ORIGIN_DEPLOY_MAX_S = 15 * 60
SECURITY_GROUP_RULE_S = 5  # one EC2 API call
DISTRIBUTION_WAITER_MAX_S = 35 * 60
EDGE_TYPES = ("aws:cloudfront/vpcOrigin:VpcOrigin", "aws:cloudfront/distribution:Distribution")


def _stop_seconds(container: dict[str, Any]) -> tuple[int, str]:
    env = {e.get("name"): e.get("value") for e in container.get("environment") or []}
    kill_after = stop_timeout(container)
    if str(env.get(GRACEFUL_TIMEOUT_ENV, "")).isdigit():
        return int(env[GRACEFUL_TIMEOUT_ENV]), (
            f"the app's graceful timeout after SIGTERM ({GRACEFUL_TIMEOUT_ENV}); "
            f"SIGKILL at {kill_after} s"
        )
    return kill_after, "the container's stopTimeout after SIGTERM"


def _minutes(value: Any, default: int) -> int:
    """A bake time in minutes as registered (pulumi-aws takes them as strings)."""
    return int(value) if value not in (None, "") else default


def _step(step: str, seconds: int, why: str) -> dict[str, Any]:
    return {"step": step, "seconds": seconds, "why": why}


def _traffic_shift_steps(strategy: str, config: dict[str, Any]) -> list[dict[str, Any]]:
    """The steps between the new tasks being healthy and the old ones draining."""
    steps = []
    if strategy == "CANARY":
        canary = config.get("canaryConfiguration") or {}
        percent = float(canary.get("canaryPercent") or ECS_DEFAULT_CANARY_PERCENT)
        bake = _minutes(canary.get("canaryBakeTimeInMinutes"), ECS_DEFAULT_CANARY_BAKE_MIN)
        share = f"{percent:g}% of traffic"
        steps += [
            _step("canary_shift", TRAFFIC_SHIFT_S, f"{share} moves to the new tasks"),
            _step("canary_bake", bake * 60, f"the new tasks serve {share} alone ({bake} min)"),
            _step("shift", TRAFFIC_SHIFT_S, "the rest of the traffic moves"),
        ]
    elif strategy == "LINEAR":
        linear = config.get("linearConfiguration") or {}
        percent = float(linear.get("stepPercent") or ECS_DEFAULT_LINEAR_STEP_PERCENT)
        bake = _minutes(linear.get("stepBakeTimeInMinutes"), ECS_DEFAULT_LINEAR_STEP_BAKE_MIN)
        shifts = math.ceil(100 / percent)
        steps += [
            _step("shift", shifts * TRAFFIC_SHIFT_S, f"{shifts} shifts of {percent:g}% of traffic"),
            _step("step_bake", (shifts - 1) * bake * 60, f"{bake} min between shifts"),
        ]
    else:
        steps.append(_step("shift", TRAFFIC_SHIFT_S, "all traffic moves to the new tasks"))
    bake = _minutes(config.get("bakeTimeInMinutes"), 0)
    steps.append(
        _step("bake", bake * 60, f"both revisions run ({bake} min); ECS watches the alarms")
    )
    return steps


def _alarm_window(alarm: RegisteredResource) -> tuple[int, int, int]:
    """(seconds, evaluation periods, period) of one alarm's evaluation window."""
    period = alarm_period(alarm)
    evaluations = int(alarm.inputs["evaluationPeriods"])
    return evaluations * period, evaluations, period


def alarm_watch(service: RegisteredResource, index: Index) -> dict[str, Any] | None:
    """How long ECS watches a rolling deploy's alarms after the rollout: an estimate."""
    alarms = service.inputs.get("alarms") or {}
    if not alarms.get("enable") or not alarms.get("alarmNames"):
        return None
    names = set(alarms["alarmNames"])
    found = [
        a
        for a in index.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
        if a.inputs.get("name") in names
    ]
    if not found:
        return None
    longest = max(sorted(found, key=lambda a: a.name), key=lambda a: _alarm_window(a)[0])
    seconds, evaluations, period = _alarm_window(longest)
    return {
        "seconds": seconds,
        "estimate": True,
        "alarms": sorted(a.name for a in found),
        "longest": longest.name,
        "why": (
            "estimated: users are already on the new version; ECS keeps the deployment "
            "IN_PROGRESS while it watches the alarms, for a time it computes from their "
            f"configuration (here: the longest window, {evaluations} x {period} s of "
            f"{longest.name}); pulumi up waits for it"
        ),
    }


def service_deploy(service: RegisteredResource, index: Index) -> dict[str, Any]:
    """The itemised deploy time of one service."""
    lb = dig(service.inputs, "loadBalancers", 0, default={})
    tg = index.resolve(lb.get("targetGroupArn"))
    hc = (tg.inputs.get("healthCheck") if tg else None) or {}
    interval = int(hc.get("interval", TG_DEFAULT_INTERVAL_S))
    healthy = int(hc.get("healthyThreshold", TG_DEFAULT_HEALTHY))
    drain = int(tg.inputs.get("deregistrationDelay", TG_DEFAULT_DEREGISTRATION_S)) if tg else 0
    task_def = index.resolve(service.inputs.get("taskDefinition"))
    stop, stop_why = _stop_seconds(essential_container(task_def))
    tg_name = tg.name if tg else "no target group"

    steps = [
        _step(
            "launch",
            TYPICAL_TASK_LAUNCH_S,
            "typical start of a small image on Fargate (pull + boot)",
        ),
        _step(
            "healthy",
            healthy * interval if tg else 0,
            f"{healthy} passing health checks {interval} s apart ({tg_name})"
            if tg
            else "no load balancer health check",
        ),
    ]
    strategy = deployment_strategy(service)
    shifting = shifts_traffic(strategy)
    if shifting:
        config = service.inputs.get("deploymentConfiguration") or {}
        steps += _traffic_shift_steps(strategy, config)
    steps += [
        _step(
            "drain",
            drain,
            f"deregistration delay ({tg_name})" if tg else "no target group to drain",
        ),
        _step("stop", stop, stop_why),
    ]
    total = sum(s["seconds"] for s in steps)
    # Under the traffic-shifting strategies ECS watches the alarms during the bake, counted above.
    watch = None if shifting else alarm_watch(service, index)
    return {
        "service": service.name,
        "strategy": strategy,
        "shifts_traffic": shifting,
        "steps": steps,
        "total": total,
        "alarm_watch": watch,
        "until_completed": total + (watch["seconds"] if watch else 0),
    }


def depends_on_any(resource: RegisteredResource, targets: set[str], index: Index) -> bool:
    """Whether `resource` waits for any of the URNs `targets`, directly or through what it
    depends on (its registered dependencies and its parents')."""
    by_urn = {r.urn: r for r in index.resources}
    seen: set[str] = set()
    todo = [resource.urn]
    while todo:
        urn = todo.pop()
        if urn in seen or urn not in by_urn:
            continue
        seen.add(urn)
        r = by_urn[urn]
        if urn in targets and r is not resource:
            return True
        todo += [*r.depends_on, r.parent]
    return False


def edge_first_creation(index: Index) -> dict[str, Any] | None:
    """The CloudFront edge's first creation, itemised (upper bounds), or None without one."""
    edge = [r for r in index.of_type(*EDGE_TYPES)]
    if not edge:
        return None
    targets = {r.urn for r in edge}
    waiting = sorted(
        s.name
        for s in index.of_type("aws:ecs/service:Service")
        if depends_on_any(s, targets, index)
    )
    steps = [
        _step(
            "origin",
            VPC_ORIGIN_DEPLOY_MAX_S,
            "up to: a VPC origin 'can take up to 15 minutes' to deploy (CloudFront docs)",
        ),
        _step("admit", SECURITY_GROUP_RULE_S, "the load balancer admits CloudFront's group"),
        _step(
            "propagate",
            DISTRIBUTION_WAITER_MAX_S,
            "up to: AWS states no figure; its own waiter gives a distribution this long to reach "
            "every edge location",
        ),
    ]
    return {
        "steps": steps,
        "total": sum(s["seconds"] for s in steps),
        "app_rollout_waits": bool(waiting),
        "waiting_services": waiting,
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
        "until_completed": max((s["until_completed"] for s in services), default=0),
        "edge": edge_first_creation(index),
    }
