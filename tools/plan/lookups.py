"""What the plan's models (cost, deploy) and its display (tree) both read from the registered
resources: small lookups over their inputs, and AWS's defaults for inputs a program may leave unset.

The import graph: cli -> model -> {cost, deploy, tree} -> {lookups, refs}; render formats the plain
data the model builds and imports none of them. A model never reads the display, so a change to
how the tree prints a setting cannot change a price or a deploy time.

A default here is AWS's (or ECS's, or CloudWatch's), with its source: the value AWS uses when the
input is left out. A key every registered resource of its type carries (a Fargate task's cpu and
memory, an alarm's evaluation periods, a scalable target's minimum) is read without one: a copy
of the program's own default here would be a second home for it.
"""

from __future__ import annotations

import json
from typing import Any

from tools.mocks import RegisteredResource
from tools.plan.refs import Index

# -- AWS's defaults --------------------------------------------------------------------------------
# Target group health checks and draining, for HTTP targets of type instance or ip.
# Source: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html
# and .../application/edit-target-group-attributes.html (deregistration delay).
TG_DEFAULT_INTERVAL_S = 30
TG_DEFAULT_TIMEOUT_S = 5  # the ELBv2 API reference says 6 s for HTTP; the user guide, 5
TG_DEFAULT_HEALTHY = 5
TG_DEFAULT_UNHEALTHY = 2
TG_DEFAULT_DEREGISTRATION_S = 300
# Source: the ELBv2 API reference, CreateLoadBalancer's Type ("The default is application").
ELB_DEFAULT_TYPE = "application"
# Source: the EC2 API reference, CreateVpcEndpoint's VpcEndpointType ("Default: Gateway").
VPC_ENDPOINT_DEFAULT_TYPE = "Gateway"
# Source: the ECS API reference, ContainerDefinition: stopTimeout ("For tasks that use the Fargate
# launch type ... if the parameter is not specified, the default value of 30 seconds is used") and
# essential ("If this parameter is omitted, a container is assumed to be essential").
ECS_DEFAULT_STOP_TIMEOUT_S = 30
ECS_DEFAULT_ESSENTIAL = True
# A task definition without runtimePlatform runs as Linux on x86-64, the only platform ECS had
# before ARM64 and Windows tasks (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/
# task_definition_parameters.html#runtime-platform; AWS Batch's RuntimePlatform documents the same).
ECS_DEFAULT_OS_FAMILY = "LINUX"
ECS_DEFAULT_CPU_ARCHITECTURE = "X86_64"
# Source: the ECS API reference, CapacityProviderStrategyItem: base and weight ("If no value is
# specified, the default value of 0 is used").
ECS_DEFAULT_CAPACITY_BASE = 0
ECS_DEFAULT_CAPACITY_WEIGHT = 0
# Source: pulumi-aws's ecs.ServiceDeploymentConfigurationArgs.strategy ("Default: ROLLING"): a
# service without one deploys by rolling update, as every service did before the other strategies.
ECS_DEFAULT_DEPLOYMENT_STRATEGY = "ROLLING"
# Source: the ECS API reference, CanaryConfiguration and LinearConfiguration ("The default value
# is ..."; CDK's TrafficShiftConfig documents the same).
ECS_DEFAULT_CANARY_PERCENT = 5.0
ECS_DEFAULT_CANARY_BAKE_MIN = 10
ECS_DEFAULT_LINEAR_STEP_PERCENT = 10.0
ECS_DEFAULT_LINEAR_STEP_BAKE_MIN = 6
# Container Insights is off unless the cluster, or the account's containerInsights setting (itself
# disabled unless changed), turns it on. Source: the ECS API reference, ClusterSetting.value.
CONTAINER_INSIGHTS_OFF = "disabled"


# ECS sizes a task in CPU units, 1,024 to a vCPU, and memory in MiB (Fargate prices per GB of it).
# Source: the ECS API reference, TaskDefinition.cpu and .memory.
CPU_UNITS_PER_VCPU = 1024
MIB_PER_GIB = 1024


# -- lookups ---------------------------------------------------------------------------------------


def dig(value: Any, *path: str | int, default: Any = None) -> Any:
    """`value[path[0]][path[1]]...`, or `default` where a step is missing or None."""
    for step in path:
        if isinstance(value, dict) and isinstance(step, str):
            value = value.get(step)
        elif isinstance(value, list) and isinstance(step, int) and -len(value) <= step < len(value):
            value = value[step]
        else:
            return default
        if value is None:
            return default
    return value


def parse_json(value: Any) -> Any:
    """A JSON document given as a string (a policy, container definitions), else `value` itself;
    None for a string that is not JSON."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def container_definitions(task_definition: RegisteredResource) -> list[dict[str, Any]]:
    return parse_json(task_definition.inputs.get("containerDefinitions")) or []


def essential_container(task_definition: RegisteredResource | None) -> dict[str, Any]:
    """The task's first essential container (the app), or {} without one."""
    containers = container_definitions(task_definition) if task_definition else []
    return next((c for c in containers if c.get("essential", ECS_DEFAULT_ESSENTIAL)), {})


def efs_volumes(task_definition: RegisteredResource | None) -> dict[str, dict[str, Any]]:
    """The task's EFS volumes by name (the others are task storage)."""
    volumes = task_definition.inputs.get("volumes") if task_definition else None
    return {
        v["name"]: v["efsVolumeConfiguration"]
        for v in volumes or []
        if v.get("efsVolumeConfiguration")
    }


def writable_paths(
    task_definition: RegisteredResource | None, container: dict[str, Any]
) -> list[str] | None:
    """The task storage a read-only root leaves the container writable (its file systems are
    shown apart); None when the root file system is writable (everything is)."""
    if not container.get("readonlyRootFilesystem"):
        return None
    efs = efs_volumes(task_definition)
    return [
        m["containerPath"]
        for m in container.get("mountPoints") or []
        if not m.get("readOnly") and m.get("sourceVolume") not in efs
    ]


def stop_timeout(container: dict[str, Any]) -> int:
    """Seconds ECS waits after SIGTERM before it kills the container."""
    return int(container.get("stopTimeout", ECS_DEFAULT_STOP_TIMEOUT_S))


def runtime_platform(task_definition: RegisteredResource) -> tuple[str, str]:
    """(operating system family, CPU architecture) the task runs on."""
    platform = task_definition.inputs.get("runtimePlatform") or {}
    return (
        str(platform.get("operatingSystemFamily", ECS_DEFAULT_OS_FAMILY)),
        str(platform.get("cpuArchitecture", ECS_DEFAULT_CPU_ARCHITECTURE)),
    )


def capacity_base(item: dict[str, Any]) -> int:
    """A capacity provider strategy item's base: the tasks placed on it first."""
    return int(item.get("base", ECS_DEFAULT_CAPACITY_BASE))


def capacity_weight(item: dict[str, Any]) -> int:
    """A capacity provider strategy item's weight: its share of the tasks beyond the bases."""
    return int(item.get("weight", ECS_DEFAULT_CAPACITY_WEIGHT))


def deployment_strategy(service: RegisteredResource) -> str:
    """The ECS service's deployment strategy, in ECS's spelling (ROLLING, BLUE_GREEN, ...)."""
    return str(
        dig(service.inputs, "deploymentConfiguration", "strategy")
        or ECS_DEFAULT_DEPLOYMENT_STRATEGY
    )


def container_insights(cluster: RegisteredResource) -> str:
    """The cluster's containerInsights setting: disabled, enabled or enhanced."""
    return next(
        (
            str(s.get("value"))
            for s in cluster.inputs.get("settings") or []
            if s.get("name") == "containerInsights"
        ),
        CONTAINER_INSIGHTS_OFF,
    )


def load_balancer_type(load_balancer: RegisteredResource) -> str:
    return str(load_balancer.inputs.get("loadBalancerType", ELB_DEFAULT_TYPE))


def vpc_endpoint_type(endpoint: RegisteredResource) -> str:
    return str(endpoint.inputs.get("vpcEndpointType", VPC_ENDPOINT_DEFAULT_TYPE))


def queried_metrics(alarm: RegisteredResource) -> list[dict[str, Any]]:
    """The metrics a metric-math alarm queries (its expressions left out); [] for one metric."""
    return [q["metric"] for q in alarm.inputs.get("metricQueries") or [] if q.get("metric")]


def metric_periods(alarm: RegisteredResource) -> list[int]:
    """The period, in seconds, of each metric the alarm evaluates: every metric a metric-math alarm
    queries, else the alarm's own. CloudWatch requires one or the other (PutMetricAlarm: "Period is
    required for alarms based on static thresholds"; MetricStat.Period is required)."""
    return [int(m["period"]) for m in queried_metrics(alarm)] or [int(alarm.inputs["period"])]


def alarm_period(alarm: RegisteredResource) -> int:
    """The length of one of the alarm's evaluation periods: its own period, else (metric math)
    the longest period among the metrics it queries."""
    return max(metric_periods(alarm))


def idle_tasks(service: RegisteredResource, index: Index) -> int:
    """An ECS service's tasks with no traffic: its autoscaling minimum, else its desired count."""
    target = scaling_target(service, index)
    if target is not None:
        return int(target.inputs["minCapacity"])
    return int(service.inputs["desiredCount"])


def scaling_target(service: RegisteredResource, ix: Index) -> RegisteredResource | None:
    """The Application Auto Scaling target of an ECS service, if it has one."""
    name = service.outputs.get("name") or service.inputs.get("name")
    if not name:
        return None
    for t in ix.of_type("aws:appautoscaling/target:Target"):
        rid = str(t.inputs.get("resourceId", ""))
        if t.inputs.get("serviceNamespace") == "ecs" and rid.endswith(f"/{name}"):
            return t
    return None
