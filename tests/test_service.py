"""The service (components/service.py): task definition, ECS service, target group, autoscaling.

What a user relies on: only the load balancer reaches the tasks, on the app's port; health checks
on the app's path that find a new task healthy fast; a rolling deploy that never drops below the
desired count, rolls itself back, makes `pulumi up` wait, and models at 75 s or less with the
settings actually registered; Spot and on-demand as configured; autoscaling only when the bounds
differ, without `pulumi up` undoing it; logs kept as long as asked; and a task definition that ECS
accepts, running the app with the environment its settings promise.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import botocore.session
import pytest
from botocore.model import Shape
from botocore.validate import ParamValidator

from components.cluster import Cluster, ClusterArgs
from components.image import ContainerImage, ContainerImageArgs
from components.load_balancer import LoadBalancer, LoadBalancerArgs
from components.network import Network, NetworkArgs
from components.roles import TaskRoles, TaskRolesArgs
from components.service import (
    FargateService,
    FargateServiceArgs,
    LoadBalancerRoute,
    ServicePlacement,
    rolling_deploy_model,
)
from components.spec import Scaling
from components.task_definition import UNPRIVILEGED_PORT_SYSCTL, AppContainer
from tools.mocks import UNKNOWN, ProgramRun, RegisteredResource

REGION = "us-east-1"
SERVICE = "aws:ecs/service:Service"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
SCALING_TARGET = "aws:appautoscaling/target:Target"
SCALING_POLICY = "aws:appautoscaling/policy:Policy"
LISTENER_RULE = "aws:lb/listenerRule:ListenerRule"
REGISTER_TASK_DEFINITION = (
    botocore.session.get_session()
    .get_service_model("ecs")
    .operation_model("RegisterTaskDefinition")
)
FARGATE_MAX_STOP_TIMEOUT_S = 120  # ECS's limit for stopTimeout on Fargate
LAUNCH_S = 45  # the assumed task launch time
DEPLOY_BUDGET_S = 75  # the limit for one modelled rolling deploy
CUSTOM = {"containerPort": 9000, "healthCheckPath": "/ready", "env": {"FEATURE_FLAG": "on"}}


# --- finding the app's resources by how they are wired --------------------------------------------


def ecs_service(run: ProgramRun) -> RegisteredResource:
    component = [r for r in run.of_type("fargate-app:service:FargateService") if r.name == "app"]
    assert len(component) == 1, "expected the FargateService component 'app'"
    found = [r for r in run.children(component[0]) if r.type == SERVICE]
    assert len(found) == 1, f"expected one ECS service in {component[0].urn}, got {len(found)}"
    return found[0]


def with_output(run: ProgramRun, type_token: str, key: str, value: Any) -> RegisteredResource:
    found = [r for r in run.of_type(type_token) if r.outputs.get(key) == value]
    assert len(found) == 1, f"expected one {type_token} with {key}={value}, found {len(found)}"
    return found[0]


def task_definition(run: ProgramRun) -> RegisteredResource:
    return with_output(run, TASK_DEFINITION, "arn", ecs_service(run).inputs["taskDefinition"])


def container(run: ProgramRun) -> dict[str, Any]:
    """The container the load balancer sends traffic to."""
    name = ecs_service(run).inputs["loadBalancers"][0]["containerName"]
    containers = json.loads(task_definition(run).inputs["containerDefinitions"])
    found = [c for c in containers if c["name"] == name]
    assert len(found) == 1, f"no single container named {name} in {task_definition(run).urn}"
    return found[0]


def environment(run: ProgramRun) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container(run).get("environment", [])}


def target_group(run: ProgramRun) -> RegisteredResource:
    [attachment] = ecs_service(run).inputs["loadBalancers"]
    return with_output(run, TARGET_GROUP, "arn", attachment["targetGroupArn"])


def task_security_group(run: ProgramRun) -> RegisteredResource:
    [group] = ecs_service(run).inputs["networkConfiguration"]["securityGroups"]
    return next(g for g in run.of_type(SECURITY_GROUP) if g.id == group)


def lb_security_group_id(run: ProgramRun) -> str:
    alb = next(r for r in run.of_type("aws:lb/loadBalancer:LoadBalancer") if r.name == "web-alb")
    [group] = alb.inputs["securityGroups"]
    return group


def log_group(run: ProgramRun) -> RegisteredResource:
    name = container(run)["logConfiguration"]["options"]["awslogs-group"]
    return with_output(run, LOG_GROUP, "name", name)


def scaling(run: ProgramRun, type_token: str) -> list[RegisteredResource]:
    """Autoscaling resources that act on the app's service."""
    service = ecs_service(run)
    resource_id = f"service/{run.outputs['clusterName']}/{service.outputs['name']}"
    return [r for r in run.of_type(type_token) if r.inputs.get("resourceId") == resource_id]


@pytest.fixture(params=["dev", "prod"])
def run(request: pytest.FixtureRequest, run_stack) -> ProgramRun:
    return run_stack(request.param)


@pytest.fixture(scope="module")
def custom(run_stack) -> ProgramRun:
    """dev with another port, health check path and an extra env var."""
    return run_stack("dev", CUSTOM)


# --- who reaches the tasks ------------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["dev", "prod", "custom"])
def test_only_the_load_balancer_reaches_the_tasks_on_the_container_port(
    run_stack, variant: str
) -> None:
    run = run_stack("dev", CUSTOM) if variant == "custom" else run_stack(variant)
    port = container(run)["portMappings"][0]["containerPort"]
    group = task_security_group(run)
    assert not group.inputs.get("ingress"), f"{group.urn} has inline ingress rules"
    ingress = [r for r in run.of_type(INGRESS) if r.inputs["securityGroupId"] == group.id]
    assert len(ingress) == 1, f"{group.urn} has {len(ingress)} ingress rules, want 1"
    [rule] = ingress
    assert rule.inputs.get("referencedSecurityGroupId") == lb_security_group_id(run), (
        f"{rule.urn} admits something other than the load balancer's security group"
    )
    assert not (rule.inputs.get("cidrIpv4") or rule.inputs.get("cidrIpv6")), rule.urn
    assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == (
        "tcp",
        port,
        port,
    ), f"{rule.urn} must open tcp {port} only"


# --- target group and health checks ---------------------------------------------------------------


def test_the_target_group_sends_to_task_ips_on_the_container_port(custom: ProgramRun) -> None:
    group = target_group(custom)
    assert group.inputs["targetType"] == "ip", f"{group.urn}: awsvpc tasks register by IP"
    assert (group.inputs["protocol"], group.inputs["port"]) == ("HTTP", 9000), group.urn
    assert group.inputs["vpcId"] == custom.one("aws:ec2/vpc:Vpc").id, group.urn


def test_the_health_check_requests_the_health_check_path(custom: ProgramRun) -> None:
    check = target_group(custom).inputs["healthCheck"]
    assert check.get("enabled", True) and check["path"] == "/ready", check
    assert check.get("port", "traffic-port") in ("traffic-port", "9000"), check
    assert check.get("matcher", "200") == "200", "only a 200 means healthy"


def test_the_health_check_finds_a_new_task_healthy_within_ten_seconds(run: ProgramRun) -> None:
    group = target_group(run)
    check = group.inputs["healthCheck"]
    assert check["interval"] == 5 and check["healthyThreshold"] == 2, (
        f"{group.urn}: the ALB's minimums (5 s x 2) find a task healthy fastest; got "
        f"{check['interval']} s x {check['healthyThreshold']}"
    )
    assert check["timeout"] < check["interval"], f"{group.urn}: timeout must be below interval"
    assert check["unhealthyThreshold"] >= 2, f"{group.urn}: one slow answer must not kill a task"


def test_old_tasks_drain_in_seconds_not_the_aws_default_five_minutes(run: ProgramRun) -> None:
    group = target_group(run)
    delay = int(group.inputs["deregistrationDelay"])
    assert 0 < delay <= 30, f"{group.urn}: deregistration delay {delay} s"


def test_the_listener_routes_to_the_apps_target_group(run: ProgramRun) -> None:
    group = target_group(run)
    rules = [
        r
        for r in run.of_type(LISTENER_RULE)
        if any(a.get("targetGroupArn") == group.outputs["arn"] for a in r.inputs["actions"])
    ]
    assert len(rules) == 1, f"no listener rule forwards to {group.urn}"
    listener = next(x for x in run.of_type("aws:lb/listener:Listener") if x.inputs["port"] == 80)
    assert rules[0].inputs["listenerArn"] == listener.outputs["arn"], rules[0].urn
    assert rules[0].urn in ecs_service(run).depends_on, (
        f"{ecs_service(run).urn} must wait for {rules[0].urn}: ECS refuses a target group "
        "that no listener uses"
    )


# --- the rolling deploy ---------------------------------------------------------------------------


def test_a_rolling_deploy_models_at_75_seconds_or_less() -> None:
    model = rolling_deploy_model(launch_s=LAUNCH_S)
    assert model["launch"] == LAUNCH_S
    assert sum(model.values()) <= DEPLOY_BUDGET_S, f"{model} adds up to {sum(model.values())} s"


def test_each_term_of_the_deploy_model_is_what_is_registered(run: ProgramRun) -> None:
    model = rolling_deploy_model(launch_s=LAUNCH_S)
    group = target_group(run)
    check = group.inputs["healthCheck"]
    assert model["healthy"] == check["interval"] * check["healthyThreshold"], (
        f"the model assumes {model['healthy']} s to healthy; {group.urn} takes "
        f"{check['interval']} x {check['healthyThreshold']}"
    )
    assert model["drain"] == int(group.inputs["deregistrationDelay"]), (
        f"the model drains in {model['drain']} s; {group.urn} in "
        f"{group.inputs['deregistrationDelay']} s"
    )
    graceful = int(environment(run)["GRACEFUL_TIMEOUT"])
    assert model["stop"] == graceful, (
        f"the model stops in {model['stop']} s; the app is given {graceful} s (GRACEFUL_TIMEOUT)"
    )
    stop_timeout = container(run)["stopTimeout"]
    assert graceful < stop_timeout <= FARGATE_MAX_STOP_TIMEOUT_S, (
        f"{task_definition(run).urn}: ECS kills the container {stop_timeout} s after SIGTERM, "
        f"which must leave the app its {graceful} s graceful shutdown"
    )


def test_a_deploy_never_drops_below_the_desired_count(run: ProgramRun) -> None:
    service = ecs_service(run)
    assert service.inputs["deploymentMinimumHealthyPercent"] == 100, service.urn
    assert service.inputs["deploymentMaximumPercent"] == 200, (
        f"{service.urn}: new tasks must start alongside the old, even with one task"
    )


def test_a_failing_deploy_rolls_back_and_fails_pulumi_up(run: ProgramRun) -> None:
    service = ecs_service(run)
    assert service.inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}, (
        f"{service.urn}: tasks that never get healthy must roll back by themselves"
    )
    assert service.inputs.get("waitForSteadyState") is True, (
        f"{service.urn}: `pulumi up` must wait for the deploy and fail when it fails"
    )


def test_new_tasks_get_a_health_check_grace_period(run: ProgramRun) -> None:
    service = ecs_service(run)
    grace = service.inputs.get("healthCheckGracePeriodSeconds", 0)
    assert 0 < grace <= 120, f"{service.urn}: grace period {grace} s"


# --- capacity, counts and autoscaling -------------------------------------------------------------


def on_demand_tasks(strategy: list[dict[str, Any]], tasks: int) -> int:
    """How many of `tasks` ECS places on FARGATE under `strategy` (base first, then by weight)."""
    placed = {s["capacityProvider"]: 0 for s in strategy}
    left = tasks
    for s in strategy:
        take = min(s.get("base", 0), left)
        placed[s["capacityProvider"]] += take
        left -= take
    total = sum(s.get("weight", 0) for s in strategy)
    if left and total:
        for s in strategy:
            placed[s["capacityProvider"]] += left * s.get("weight", 0) // total
    return placed.get("FARGATE", 0)


@pytest.mark.parametrize(
    ("stack", "overrides", "tasks", "on_demand"),
    [
        ("dev", {}, 1, 0),
        ("dev", {"spot": False}, 1, 1),
        ("prod", {}, 2, 2),
        ("prod", {}, 6, 2),
        ("prod", {"spot": False}, 6, 6),
    ],
    ids=["dev-spot", "dev-on-demand", "prod-base", "prod-scaled-out", "prod-on-demand"],
)
def test_tasks_are_placed_on_spot_and_on_demand_as_configured(
    run_stack, stack: str, overrides: dict, tasks: int, on_demand: int
) -> None:
    run = run_stack(stack, overrides)
    service = ecs_service(run)
    strategy = service.inputs["capacityProviderStrategies"]
    assert {s["capacityProvider"] for s in strategy} <= {"FARGATE", "FARGATE_SPOT"}, strategy
    got = on_demand_tasks(strategy, tasks)
    assert got == on_demand, (
        f"{service.urn}: with {tasks} tasks, {got} run on on-demand Fargate, want {on_demand}"
    )


def test_the_service_waits_for_the_clusters_capacity_providers(run: ProgramRun) -> None:
    service = ecs_service(run)
    capacity = run.one("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders")
    assert capacity.urn in service.depends_on, (
        f"{service.urn} uses a capacity provider strategy before the cluster has the providers"
    )
    assert service.inputs["cluster"] == run.one("aws:ecs/cluster:Cluster").outputs["arn"]


def test_the_service_starts_with_the_desired_count(run: ProgramRun) -> None:
    want = {"dev": 1, "prod": 2}[run.stack]
    assert ecs_service(run).inputs["desiredCount"] == want


def test_no_autoscaling_when_min_equals_max(dev: ProgramRun) -> None:
    assert not scaling(dev, SCALING_TARGET) and not scaling(dev, SCALING_POLICY), (
        "dev has minCount == maxCount: nothing to scale"
    )
    assert "desiredCount" not in ecs_service(dev).ignore_changes, (
        "without autoscaling, `pulumi up` must apply a new desiredCount"
    )


def test_autoscaling_holds_the_service_between_min_and_max(prod: ProgramRun) -> None:
    [target] = scaling(prod, SCALING_TARGET)
    assert target.inputs["serviceNamespace"] == "ecs"
    assert target.inputs["scalableDimension"] == "ecs:service:DesiredCount"
    assert (target.inputs["minCapacity"], target.inputs["maxCapacity"]) == (2, 6), target.urn


@pytest.mark.parametrize("cpu_target", [60, 45])
def test_autoscaling_tracks_the_cpu_target(run_stack, cpu_target: int) -> None:
    run = run_stack("prod", {"cpuTarget": cpu_target})
    [policy] = scaling(run, SCALING_POLICY)
    assert policy.inputs["policyType"] == "TargetTrackingScaling", policy.urn
    config = policy.inputs["targetTrackingScalingPolicyConfiguration"]
    metric = config["predefinedMetricSpecification"]["predefinedMetricType"]
    assert metric == "ECSServiceAverageCPUUtilization", policy.urn
    assert config["targetValue"] == cpu_target, f"{policy.urn} holds {config['targetValue']}%"


def test_pulumi_up_does_not_reset_the_count_autoscaling_chose(prod: ProgramRun) -> None:
    service = ecs_service(prod)
    assert "desiredCount" in service.ignore_changes, (
        f"{service.urn}: each `pulumi up` would reset the task count to desiredCount"
    )


# --- logs -----------------------------------------------------------------------------------------


def test_logs_are_kept_for_log_retention_days(run: ProgramRun) -> None:
    want = {"dev": 7, "prod": 90}[run.stack]
    group = log_group(run)
    assert group.inputs["retentionInDays"] == want, f"{group.urn}: logRetentionDays is {want}"
    assert run.outputs["logGroupName"] == group.outputs["name"]


def test_the_container_logs_to_its_log_group_with_awslogs(run: ProgramRun) -> None:
    logging = container(run)["logConfiguration"]
    options = logging["options"]
    assert logging["logDriver"] == "awslogs"
    assert options["awslogs-region"] == REGION and options.get("awslogs-stream-prefix"), options
    assert options["awslogs-group"] == log_group(run).outputs["name"]


# --- the task definition --------------------------------------------------------------------------


def register_task_definition_request(definition: RegisteredResource) -> dict[str, Any]:
    """The RegisterTaskDefinition request the provider makes from the registered inputs."""
    members = REGISTER_TASK_DEFINITION.input_shape.members
    request: dict[str, Any] = {}
    for key, value in definition.inputs.items():
        if key not in members:
            continue  # provider-only inputs such as skipDestroy
        if key == "containerDefinitions":
            value = json.loads(value)
        elif key == "tags":
            value = [{"key": k, "value": v} for k, v in value.items()]
        request[key] = value
    return request


def enum_problems(value: Any, shape: Shape, path: str = "") -> list[str]:
    """Values outside the enums of ECS's model (ParamValidator checks types, not enums)."""
    if shape.type_name == "structure" and isinstance(value, dict):
        return [
            p
            for key, item in value.items()
            if key in shape.members
            for p in enum_problems(item, shape.members[key], f"{path}.{key}")
        ]
    if shape.type_name == "list" and isinstance(value, list):
        return [
            p for i, v in enumerate(value) for p in enum_problems(v, shape.member, f"{path}[{i}]")
        ]
    if shape.type_name == "string" and shape.enum and value not in shape.enum:
        return [f"{path}: {value!r} is not one of {shape.enum}"]
    return []


@pytest.mark.parametrize(
    ("stack", "overrides"),
    [
        ("dev", {}),
        ("prod", {}),
        ("dev", CUSTOM),
        ("dev", {"cpuArchitecture": "ARM64", "spot": False}),
        ("dev", {"containerPort": 80}),
    ],
    ids=["dev", "prod", "custom", "arm64", "port-80"],
)
def test_ecs_accepts_the_task_definition(run_stack, stack: str, overrides: dict) -> None:
    definition = task_definition(run_stack(stack, overrides))
    request = register_task_definition_request(definition)
    shape = REGISTER_TASK_DEFINITION.input_shape
    report = ParamValidator().validate(request, shape)
    assert not report.has_errors(), f"{definition.urn}: {report.generate_report()}"
    assert not enum_problems(request, shape), f"{definition.urn}: {enum_problems(request, shape)}"
    for c in request["containerDefinitions"]:
        for mapping in c.get("portMappings", []):
            assert mapping.get("hostPort", mapping["containerPort"]) == mapping["containerPort"], (
                f"{definition.urn}: awsvpc tasks need hostPort == containerPort"
            )


def test_the_task_is_a_fargate_task_of_the_configured_size(run: ProgramRun) -> None:
    definition = task_definition(run)
    size = {"dev": ("256", "512"), "prod": ("512", "1024")}[run.stack]
    assert (definition.inputs["cpu"], definition.inputs["memory"]) == size, definition.urn
    assert definition.inputs["networkMode"] == "awsvpc", definition.urn
    assert definition.inputs["requiresCompatibilities"] == ["FARGATE"], definition.urn


def test_the_app_gets_its_port_health_path_and_graceful_timeout(custom: ProgramRun) -> None:
    env = environment(custom)
    assert env["PORT"] == "9000" and env["HEALTH_CHECK_PATH"] == "/ready", env
    assert int(env["GRACEFUL_TIMEOUT"]) > 0, env
    [mapping] = container(custom)["portMappings"]
    assert mapping["containerPort"] == 9000 and mapping.get("protocol", "tcp") == "tcp"
    assert ecs_service(custom).inputs["loadBalancers"][0]["containerPort"] == 9000


def test_the_env_from_config_reaches_the_container(dev: ProgramRun, custom: ProgramRun) -> None:
    assert environment(dev)["LOG_LEVEL"] == "debug", "Pulumi.dev.yaml sets env.LOG_LEVEL"
    assert environment(custom)["FEATURE_FLAG"] == "on"


def test_the_root_filesystem_is_read_only_with_a_writable_tmp(run: ProgramRun) -> None:
    definition = task_definition(run)
    c = container(run)
    assert c.get("readonlyRootFilesystem") is True, f"{definition.urn} (Security Hub ECS.5)"
    volumes = {v["name"] for v in definition.inputs.get("volumes", [])}
    tmp = [m for m in c.get("mountPoints", []) if m["containerPath"] == "/tmp"]
    assert tmp and tmp[0]["sourceVolume"] in volumes and not tmp[0].get("readOnly"), (
        f"{definition.urn}: gunicorn needs a writable /tmp"
    )


# --- the component in a stack of its own: preview, and a second service ---------------------------
# The service built over real Network, Cluster, LoadBalancer, TaskRoles and ContainerImage
# components, as __main__.py wires them, so that in preview its inputs are as unknown as in a stack.
# Every ID and ARN is unknown in preview, so wiring is read from what each resource depends on.

Services = tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]  # (name, FargateServiceArgs fields)
# FargateServiceArgs settings by dotted path (group.field), on top of the fixture's wiring.
SERVICE_VARIANTS: dict[str, dict[str, Any]] = {
    "rolling": {},
    "autoscaling": {
        "scaling": Scaling(desired_count=2, min_count=2, max_count=6),
        "placement.spot": True,
    },
    "blue-green": {"deployment.strategy": "blueGreen"},
    "canary": {"deployment.strategy": "canary"},
    "exec": {"container.enable_exec": True},
}
API = {
    "load_balancer.path_patterns": ("/api/*",),
    "load_balancer.priority": 10,
    "container.port": 9000,
    "container.health_check_path": "/api/health",
}
TWO_SERVICES: Services = (("app", ()), ("api", tuple(API.items())))
LISTENER = "aws:lb/listener:Listener"
ALB = "aws:lb/loadBalancer:LoadBalancer"
CLUSTER = "aws:ecs/cluster:Cluster"
CAPACITY = "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders"
SUBNET = "aws:ec2/subnet:Subnet"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


@pytest.fixture(scope="module")
def services(run_component):
    """Given FargateServiceArgs fields per service, when those services are created in one stack
    beside one network, cluster, load balancer, set of roles and image (cached)."""
    cache: dict[tuple, ProgramRun] = {}

    def build(specs: Services, *, preview: bool = False, nat: str = "none") -> ProgramRun:
        def program() -> None:
            network = Network("network", NetworkArgs(nat_gateways=nat))
            image = ContainerImage("app", ContainerImageArgs())
            roles = TaskRoles("app", TaskRolesArgs(load_balancer_infrastructure=True))
            cluster = Cluster("cluster", ClusterArgs())
            lb = LoadBalancer(
                "web",
                LoadBalancerArgs(
                    vpc_id=network.vpc_id,
                    subnet_ids=network.public_subnet_ids,
                ),
            )
            for name, fields in specs:
                args = FargateServiceArgs(
                    container=AppContainer(image=image.image_ref),
                    placement=ServicePlacement(
                        cluster_arn=cluster.cluster_arn,
                        cluster_name=cluster.cluster_name,
                        capacity_providers=cluster.capacity_providers,
                        vpc_id=network.vpc_id,
                        subnet_ids=network.task_subnet_ids,
                        assign_public_ip=network.tasks_public_ip,
                    ),
                    load_balancer=LoadBalancerRoute(
                        listener_arn=lb.listener_arn,
                        security_group_id=lb.security_group_id,
                        arn_suffix=lb.arn_suffix,
                    ),
                    execution_role_arn=roles.execution_role_arn,
                    task_role_arn=roles.task_role_arn,
                    infrastructure_role_arn=roles.infrastructure_role_arn,
                    infrastructure_role_name=roles.infrastructure_role_name,
                )
                FargateService(name, with_settings(args, dict(fields)))

        key = (specs, preview, nat)
        if key not in cache:
            cache[key] = run_component(program, preview=preview)
        return cache[key]

    return build


def with_settings(args: Any, settings: dict[str, Any]) -> Any:
    """`args` with each `group.field` (or top-level field) of `settings` replaced."""
    for path, value in settings.items():
        group, _, name = path.partition(".")
        if name:
            value = replace(getattr(args, group), **{name: value})
        args = replace(args, **{group: value})
    return args


def one_service(variant: str) -> Services:
    return (("app", tuple(SERVICE_VARIANTS[variant].items())),)


def part_of(run: ProgramRun, service: str, type_token: str) -> list[RegisteredResource]:
    """The `type_token` resources inside the FargateService named `service`."""
    [component] = [
        r for r in run.of_type("fargate-app:service:FargateService") if r.name == service
    ]
    return [r for r in run.children(component) if r.type == type_token]


def only(run: ProgramRun, service: str, type_token: str) -> RegisteredResource:
    found = part_of(run, service, type_token)
    assert len(found) == 1, f"service {service!r} has {len(found)} {type_token}, want its own one"
    return found[0]


def depends(resource: RegisteredResource, on: RegisteredResource) -> bool:
    return on.urn in resource.depends_on


def unknown_free_mismatches(planned: Any, applied: Any, path: str = "") -> list[str]:
    """Where a value preview already knows differs from the one `pulumi up` uses."""
    if planned == UNKNOWN:
        return []
    if isinstance(planned, dict) and isinstance(applied, dict):
        keys = set(planned) | set(applied)
        return [
            m
            for k in sorted(keys)
            for m in unknown_free_mismatches(planned.get(k), applied.get(k), f"{path}.{k}")
        ]
    if isinstance(planned, list) and isinstance(applied, list) and len(planned) == len(applied):
        return [
            m
            for i, (p, a) in enumerate(zip(planned, applied, strict=True))
            for m in unknown_free_mismatches(p, a, f"{path}[{i}]")
        ]
    return [] if planned == applied else [f"{path}: preview {planned!r}, up {applied!r}"]


@pytest.mark.parametrize("variant", SERVICE_VARIANTS)
def test_preview_plans_exactly_the_service_resources_an_update_creates(
    services, variant: str
) -> None:
    up = {r.urn for r in services(one_service(variant)).resources}
    planned = {r.urn for r in services(one_service(variant), preview=True).resources}
    assert planned == up, (
        f"{variant}: `pulumi preview` hides {sorted(up - planned)} that `pulumi up` creates "
        f"and shows {sorted(planned - up)} that it does not"
    )


@pytest.mark.parametrize("variant", SERVICE_VARIANTS)
@pytest.mark.parametrize(
    "type_token", [SERVICE, TARGET_GROUP, LISTENER_RULE, TASK_DEFINITION, LOG_GROUP, INGRESS]
)
def test_what_preview_already_knows_is_what_an_update_applies(
    services, variant: str, type_token: str
) -> None:
    up = {r.urn: r for r in services(one_service(variant)).of_type(type_token)}
    for planned in services(one_service(variant), preview=True).of_type(type_token):
        differences = unknown_free_mismatches(planned.inputs, up[planned.urn].inputs)
        assert not differences, f"{planned.urn} ({variant}): {differences}"
        assert planned.ignore_changes == up[planned.urn].ignore_changes, planned.urn


def test_preview_shows_the_health_check_that_finds_a_new_task_healthy_fast(services) -> None:
    run = services(TWO_SERVICES, preview=True)
    for name, path, port in (("app", "/health", 8000), ("api", "/api/health", 9000)):
        group = only(run, name, TARGET_GROUP)
        assert (group.inputs["targetType"], group.inputs["port"]) == ("ip", port), group.urn
        check = group.inputs["healthCheck"]
        assert (check["path"], check["matcher"]) == (path, "200"), (
            f"preview shows {group.urn} checking {check['path']} for {check['matcher']}"
        )
        assert (check["interval"], check["healthyThreshold"]) == (5, 2), (
            f"preview shows {group.urn} finding a task healthy in "
            f"{check['interval']} s x {check['healthyThreshold']}, want 5 s x 2"
        )
        assert 0 < int(group.inputs["deregistrationDelay"]) <= 30, group.urn


@pytest.mark.parametrize("variant", ["rolling", "autoscaling", "blue-green"])
def test_preview_shows_the_zero_downtime_deploy_settings(services, variant: str) -> None:
    service = only(services(one_service(variant), preview=True), "app", SERVICE)
    inputs = service.inputs
    assert (inputs["deploymentMinimumHealthyPercent"], inputs["deploymentMaximumPercent"]) == (
        100,
        200,
    ), f"preview shows {service.urn} able to drop below the desired count during a deploy"
    assert inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}, service.urn
    assert inputs.get("waitForSteadyState") is True, (
        f"preview shows {service.urn} letting `pulumi up` finish before the deploy does"
    )
    assert 0 < inputs["healthCheckGracePeriodSeconds"] <= 120, service.urn
    want = {"rolling": "ROLLING", "autoscaling": "ROLLING", "blue-green": "BLUE_GREEN"}[variant]
    assert inputs["deploymentConfiguration"]["strategy"] == want, service.urn
    alarms = inputs["alarms"]
    assert alarms["rollback"] is True and sorted(alarms["alarmNames"]) == [
        "fargate-app-test-app-5xx-rate",
        "fargate-app-test-app-unhealthy-hosts",
    ], f"preview shows {service.urn} rolling back on {alarms}"


SWAPPED_BY_ECS = ["loadBalancers"]  # the live target group, which ECS swaps after each deploy


@pytest.mark.parametrize(
    ("variant", "ignored", "rule_ignored"),
    [
        ("rolling", [], []),
        ("autoscaling", ["desiredCount"], []),
        ("blue-green", SWAPPED_BY_ECS, ["actions"]),
        ("canary", SWAPPED_BY_ECS, ["actions"]),
    ],
)
def test_preview_shows_what_pulumi_up_leaves_to_ecs_and_autoscaling(
    services, variant: str, ignored: list[str], rule_ignored: list[str]
) -> None:
    run = services(one_service(variant), preview=True)
    service = only(run, "app", SERVICE)
    assert sorted(service.ignore_changes) == ignored, (
        f"preview shows {service.urn} ignoring {service.ignore_changes}, want {ignored}: "
        "`pulumi up` would undo what autoscaling or ECS's deploys set"
    )
    rule = only(run, "app", LISTENER_RULE)
    assert sorted(rule.ignore_changes) == rule_ignored, (
        f"preview shows {rule.urn} ignoring {rule.ignore_changes}, want {rule_ignored}: "
        "`pulumi up` would reset the weights ECS shifted"
    )
    targets = part_of(run, "app", SCALING_TARGET)
    if variant != "autoscaling":
        assert not targets, f"preview shows autoscaling for {variant}"
        return
    [target] = targets
    assert (target.inputs["minCapacity"], target.inputs["maxCapacity"]) == (2, 6), target.urn
    assert depends(target, service), f"{target.urn} is not planned for {service.urn}"
    [policy] = part_of(run, "app", SCALING_POLICY)
    config = policy.inputs["targetTrackingScalingPolicyConfiguration"]
    assert config["targetValue"] == 60, f"preview shows {policy.urn} holding {config}"


@pytest.mark.parametrize(("nat", "public_ip"), [("none", True), ("single", False)])
def test_preview_shows_where_tasks_run_and_whether_they_get_a_public_ip(
    services, nat: str, public_ip: bool
) -> None:
    run = services(one_service("rolling"), preview=True, nat=nat)
    service = only(run, "app", SERVICE)
    network = service.inputs["networkConfiguration"]
    assert network.get("assignPublicIp", False) is public_ip, (
        f"preview shows {service.urn} with assignPublicIp={network.get('assignPublicIp')!r} "
        f"and natGateways={nat}, want {public_ip}"
    )
    tier = "public" if public_ip else "private"
    subnets = sorted(s.name for s in run.of_type(SUBNET) if depends(service, s))
    assert subnets == [f"network-{tier}-us-east-1a", f"network-{tier}-us-east-1b"], (
        f"preview plans {service.urn}'s tasks in {subnets}, want the {tier} subnets"
    )


def test_preview_admits_only_the_load_balancer_to_the_tasks(services) -> None:
    run = services(TWO_SERVICES, preview=True)
    lb_group = next(g for g in run.of_type(SECURITY_GROUP) if g.name == "web-sg")
    for name, port in (("app", 8000), ("api", 9000)):
        group = only(run, name, SECURITY_GROUP)
        service = only(run, name, SERVICE)
        assert depends(service, group), f"{service.urn} is planned without {group.urn}"
        [rule] = [r for r in run.of_type(INGRESS) if depends(r, group)]
        assert depends(rule, lb_group) and not rule.inputs.get("cidrIpv4"), (
            f"preview shows {rule.urn} admitting something other than the load balancer"
        )
        assert (rule.inputs["fromPort"], rule.inputs["toPort"]) == (port, port), rule.urn


# --- a second service in the same stack -----------------------------------------------------------

UP_AND_PREVIEW = pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])


@UP_AND_PREVIEW
def test_a_second_service_collides_with_no_name(services, preview: bool) -> None:
    run = services(TWO_SERVICES, preview=preview)
    urns = [r.urn for r in run.resources]
    assert len(urns) == len(set(urns)), (
        f"duplicate URNs: {sorted(u for u in urns if urns.count(u) > 1)}"
    )
    seen: dict[tuple[str, str], str] = {}
    for r in run.custom_resources:
        name = r.inputs.get("name") or r.outputs.get("name")
        if not isinstance(name, str) or name == UNKNOWN:
            continue
        assert (r.type, name) not in seen, (
            f"{r.urn} and {seen[r.type, name]} would both be called {name!r} in AWS"
        )
        seen[r.type, name] = r.urn
    families = sorted(r.inputs["family"] for r in run.of_type(TASK_DEFINITION))
    assert families == ["fargate-app-test-api", "fargate-app-test-app"], (
        f"the services' task definitions share a family: {families}"
    )
    if not preview:
        for type_token in (SERVICE, TARGET_GROUP, SECURITY_GROUP, LOG_GROUP, ALARM):
            names = [r.outputs.get("name") for r in run.of_type(type_token)]
            assert len(set(names)) == len(names), f"{type_token} names collide: {names}"


@UP_AND_PREVIEW
def test_each_service_has_its_own_target_group_security_group_log_group_and_rule(
    services, preview: bool
) -> None:
    run = services(TWO_SERVICES, preview=preview)
    for type_token in (TARGET_GROUP, SECURITY_GROUP, LOG_GROUP, LISTENER_RULE, TASK_DEFINITION):
        app, api = only(run, "app", type_token), only(run, "api", type_token)
        assert app.urn != api.urn, f"the services share {app.urn}"
    logs = {n: only(run, n, LOG_GROUP).inputs["name"] for n in ("app", "api")}
    assert logs == {"app": "/ecs/fargate-app/test/app", "api": "/ecs/fargate-app/test/api"}, logs
    for name in ("app", "api"):
        service, group = only(run, name, SERVICE), only(run, name, TARGET_GROUP)
        assert depends(service, group) and depends(service, only(run, name, SECURITY_GROUP)), (
            f"{service.urn} is not wired to its own target group and security group"
        )
        [attachment] = service.inputs["loadBalancers"]
        if not preview:
            assert attachment["targetGroupArn"] == group.outputs["arn"], service.urn
            [task_group] = service.inputs["networkConfiguration"]["securityGroups"]
            assert task_group == only(run, name, SECURITY_GROUP).id, service.urn
        definition = only(run, name, TASK_DEFINITION)
        if not preview:
            [c] = json.loads(definition.inputs["containerDefinitions"])
            assert c["logConfiguration"]["options"]["awslogs-group"] == logs[name], (
                f"{definition.urn} logs to another service's log group"
            )


@UP_AND_PREVIEW
def test_both_services_route_from_the_one_listener_with_distinct_priorities(
    services, preview: bool
) -> None:
    run = services(TWO_SERVICES, preview=preview)
    [alb] = run.of_type(ALB)
    [listener] = run.of_type(LISTENER)
    rules = {n: only(run, n, LISTENER_RULE) for n in ("app", "api")}
    for name, rule in rules.items():
        assert depends(rule, listener), f"{rule.urn} is not on the load balancer's listener"
        if not preview:
            assert rule.inputs["listenerArn"] == listener.outputs["arn"], rule.urn
        group = only(run, name, TARGET_GROUP)
        [action] = rule.inputs["actions"]
        assert depends(rule, group) and action["type"] == "forward", (
            f"{rule.urn} does not forward to {group.urn}"
        )
        if not preview:
            assert action["targetGroupArn"] == group.outputs["arn"], rule.urn
    got = {n: (r.inputs["priority"], r.inputs["conditions"]) for n, r in rules.items()}
    assert got == {
        "app": (100, [{"pathPattern": {"values": ["/*"]}}]),
        "api": (10, [{"pathPattern": {"values": ["/api/*"]}}]),
    }, got
    assert len({p for p, _ in got.values()}) == 2, "the ALB refuses two rules at one priority"
    assert depends(listener, alb) and len(run.of_type(ALB)) == 1, "one load balancer for both"


@UP_AND_PREVIEW
def test_both_services_run_on_the_one_cluster(services, preview: bool) -> None:
    run = services(TWO_SERVICES, preview=preview)
    [cluster] = run.of_type(CLUSTER)
    [capacity] = run.of_type(CAPACITY)
    for name in ("app", "api"):
        service = only(run, name, SERVICE)
        assert depends(service, cluster) and depends(service, capacity), (
            f"{service.urn} is not planned on {cluster.urn} after its capacity providers"
        )
        if not preview:
            assert service.inputs["cluster"] == cluster.outputs["arn"], service.urn
    if not preview:
        names = {only(run, n, SERVICE).outputs["name"] for n in ("app", "api")}
        assert len(names) == 2, f"both services would be named {names} in one cluster"


@pytest.mark.parametrize(
    ("port", "lowered"), [(80, True), (1023, True), (1024, False), (8000, False)]
)
def test_a_port_below_1024_is_one_the_non_root_app_may_bind(run_stack, port, lowered) -> None:
    """The app runs as user 10001, and Linux lets only root bind ports below 1024: for such a
    containerPort the task lowers that bound to the port in its own network namespace."""
    app = container(run_stack("dev", {"containerPort": port}))
    controls = {c["namespace"]: c["value"] for c in app.get("systemControls", [])}

    if lowered:
        assert controls == {UNPRIVILEGED_PORT_SYSCTL: str(port)}, (
            f"port {port}: the app (user {app['user']}) could not bind it: {controls}"
        )
    else:
        assert not controls, f"port {port} needs no system control, got {controls}"
