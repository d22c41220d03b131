"""Service: the app on Fargate behind the shared load balancer, with its logs and autoscaling.

A deploy is a rolling replacement that never drops below the desired count (100% healthy minimum,
200% maximum), so even a single-task service has no downtime. The timings below are chosen so one
rolling deploy models at 75 s (see `rolling_deploy_model`), against 6+ minutes with the ALB's
defaults (30 s health check interval x 5, 300 s drain).

With `deployment_strategy` blueGreen or canary, ECS's native strategies replace the rolling update:
the new tasks start in an alternate target group, ECS shifts the listener rule's weights to it (all
at once, or `canary_percent` first), keeps the old tasks for the bake time, then removes them
(`traffic_shift_deploy_model`). Either way, a deploy that trips the 5xx-rate or unhealthy-hosts
alarm (components.alarms) rolls back.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.alarms import deploy_alarm_specs, notify
from components.naming import bounded

CONTAINER_NAME = "app"
LOG_STREAM_PREFIX = "app"  # streams are app/app/<task-id>
# Health checks: the ALB's minimum interval, so a new task is found healthy in two checks (10 s).
HEALTH_CHECK_INTERVAL_S = 5
HEALTH_CHECK_TIMEOUT_S = 4  # must be below the interval
HEALTHY_THRESHOLD = 2  # the ALB's minimum
UNHEALTHY_THRESHOLD = 3  # 15 s of failures before a task is pulled: one slow answer is not enough
# Requests to this app finish in well under a second; AWS's default of 300 s slows every deploy.
DEREGISTRATION_DELAY_S = 10
# gunicorn's graceful_timeout (passed as GRACEFUL_TIMEOUT): in-flight requests get this long after
# SIGTERM, on top of the drain above.
APP_GRACEFUL_TIMEOUT_S = 10
# ECS sends SIGKILL this long after SIGTERM (default 30 s); above the app's own deadline so a clean
# shutdown is never cut short, and not much above so a stuck one does not hold up the deploy.
STOP_TIMEOUT_S = APP_GRACEFUL_TIMEOUT_S + 5
# ECS ignores failing health checks this long after a task starts; the app boots in ~2 s, so this
# only guards slow cold starts (and does not delay a healthy task: it counts as soon as it passes).
HEALTH_CHECK_GRACE_PERIOD_S = 30
MIN_HEALTHY_PERCENT = 100  # never fewer healthy tasks than desired during a deploy...
MAX_PERCENT = 200  # ...so start the new ones alongside the old
SCALE_OUT_COOLDOWN_S = 60  # react to load within a minute
SCALE_IN_COOLDOWN_S = 300  # remove capacity slowly, so a brief lull does not cause flapping
TMP_VOLUME = "tmp"  # the only writable path: the root filesystem is read-only
TMP_PATH = "/tmp"  # app/Dockerfile declares it a VOLUME, so the app user may write it
# ECS Exec's SSM agent writes under these paths. AWS documents exec as unsupported with a read-only
# root filesystem; giving the agent these writable volumes is the known way to keep both
# (aws-containers/amazon-ecs-exec-checker#71, containers-roadmap#1359). Mounted only with exec.
EXEC_AGENT_VOLUMES = {
    "exec-managed-agents": "/managed-agents",
    "exec-ssm-state": "/var/lib/amazon/ssm",
    "exec-ssm-logs": "/var/log/amazon/ssm",
}
# The app image's numeric non-root user and group (app/Dockerfile: USER 10001:10001). Stated in the
# task definition too, so ECS, Security Hub (ECS.20) and the policy pack can see it is not root.
APP_USER = "10001:10001"
# Linux lets only root bind ports below this, and ECS adds no capability for it
# (containers-roadmap#1721). For such a containerPort the task lowers the bound to that port in its
# own network namespace (a per-namespace sysctl; Fargate 1.4 takes net.* systemControls).
UNPRIVILEGED_PORT_START = 1024
UNPRIVILEGED_PORT_SYSCTL = "net.ipv4.ip_unprivileged_port_start"
# Typical time from RunTask to a container answering, for a small image on Fargate (pull + start).
TYPICAL_TASK_LAUNCH_S = 45
DEPLOYMENT_STRATEGIES = {"rolling": "ROLLING", "blueGreen": "BLUE_GREEN", "canary": "CANARY"}
# ALB weighted forward: the production target group takes everything until ECS shifts traffic.
FULL_WEIGHT, NO_WEIGHT = 100, 0
# A listener rule change reaches the ALB's nodes within seconds.
TRAFFIC_SHIFT_S = 5
# `pulumi up` waits for each deploy (wait_for_steady_state), by default up to 20 minutes; a
# blueGreen or canary deploy gets its modelled length plus those 20, so a long bake cannot time out.
DEPLOY_TIMEOUT_MARGIN_MIN = 20


def rolling_deploy_model(launch_s: int = TYPICAL_TASK_LAUNCH_S) -> dict[str, int]:
    """Seconds one rolling deploy takes, itemised: the new task launches and passes its health
    checks, then the old one drains and stops."""
    return {
        "launch": launch_s,
        "healthy": HEALTHY_THRESHOLD * HEALTH_CHECK_INTERVAL_S,
        "drain": DEREGISTRATION_DELAY_S,
        "stop": APP_GRACEFUL_TIMEOUT_S,
    }


def traffic_shift_deploy_model(
    strategy: str, bake_time_minutes: int, launch_s: int = TYPICAL_TASK_LAUNCH_S
) -> dict[str, int]:
    """Seconds one blueGreen or canary deploy takes, itemised: the new tasks launch and pass their
    health checks in the alternate target group; a canary first gets its share of traffic and bakes;
    all traffic shifts; both revisions run for the bake time; then the old tasks drain and stop.
    (ECS watches the deployment alarms throughout.)"""
    if strategy not in ("blueGreen", "canary"):
        raise ValueError(f"{strategy!r} shifts no traffic; see rolling_deploy_model")
    bake_s = bake_time_minutes * 60
    canary = (
        {"canary_shift": TRAFFIC_SHIFT_S, "canary_bake": bake_s} if strategy == "canary" else {}
    )
    return {
        "launch": launch_s,
        "healthy": HEALTHY_THRESHOLD * HEALTH_CHECK_INTERVAL_S,
        **canary,
        "shift": TRAFFIC_SHIFT_S,
        "bake": bake_s,
        "drain": DEREGISTRATION_DELAY_S,
        "stop": APP_GRACEFUL_TIMEOUT_S,
    }


def deploy_model(
    strategy: str, bake_time_minutes: int = 0, launch_s: int = TYPICAL_TASK_LAUNCH_S
) -> dict[str, int]:
    """Seconds one deploy takes under `strategy` (rolling, blueGreen or canary), itemised."""
    if strategy == "rolling":
        return rolling_deploy_model(launch_s)
    return traffic_shift_deploy_model(strategy, bake_time_minutes, launch_s)


def deployment_configuration(
    strategy: str, bake_time_minutes: int, canary_percent: int
) -> aws.ecs.ServiceDeploymentConfigurationArgsDict:
    """The service's `deployment_configuration`. Always explicit, ROLLING included: ECS keeps the
    last strategy it was given, so leaving it out would not switch a service back to rolling."""
    config: aws.ecs.ServiceDeploymentConfigurationArgsDict = {
        "strategy": DEPLOYMENT_STRATEGIES[strategy]
    }
    if strategy != "rolling":
        # ECS requires a bake time for BLUE_GREEN; pulumi-aws takes these minutes as strings.
        config["bake_time_in_minutes"] = str(bake_time_minutes)
    if strategy == "canary":
        config["canary_configuration"] = {
            "canary_percent": float(canary_percent),
            "canary_bake_time_in_minutes": str(bake_time_minutes),
        }
    return config


def task_volumes(enable_exec: bool = False) -> list[aws.ecs.TaskDefinitionVolumeArgsDict]:
    """The task definition's volumes: the app's /tmp, and with exec the SSM agent's paths."""
    names = [TMP_VOLUME, *(EXEC_AGENT_VOLUMES if enable_exec else ())]
    return [{"name": n} for n in names]


def capacity_provider_strategy(
    spot: bool, on_demand_base: int
) -> list[aws.ecs.ServiceCapacityProviderStrategyArgsDict]:
    """Tasks up to `on_demand_base` on FARGATE, the rest on FARGATE_SPOT (or all on FARGATE)."""
    if not spot:
        return [{"capacity_provider": "FARGATE", "base": 0, "weight": 1}]
    return [
        {"capacity_provider": "FARGATE", "base": on_demand_base, "weight": 0},
        {"capacity_provider": "FARGATE_SPOT", "base": 0, "weight": 1},
    ]


def container_definitions(
    *,
    image: str,
    port: int,
    health_check_path: str,
    env: dict[str, str],
    log_group: str,
    region: str,
    command: list[str] | None = None,
    log_stream_prefix: str = LOG_STREAM_PREFIX,
    secrets: Mapping[str, str] | None = None,
    user: str = APP_USER,
    enable_exec: bool = False,
) -> str:
    """The task's single container, as ECS's RegisterTaskDefinition expects it (JSON).

    `command` replaces the image's CMD (scheduled jobs); `log_stream_prefix` keeps their streams
    apart from the service's. `secrets` maps env var names to Secrets Manager or SSM ARNs that ECS
    injects at start (never plain `environment`). `user` is the image's non-root UID:GID.
    `enable_exec` adds what ECS Exec needs: an init process (AWS's recommendation, so sessions'
    child processes are reaped) and the SSM agent's writable paths (see `task_volumes`).
    `privileged` is never set: Fargate rejects it (Security Hub ECS.4).
    """
    mounts = {TMP_VOLUME: TMP_PATH, **(EXEC_AGENT_VOLUMES if enable_exec else {})}
    environment = {
        **env,
        "PORT": str(port),
        "HEALTH_CHECK_PATH": health_check_path,
        "GRACEFUL_TIMEOUT": str(APP_GRACEFUL_TIMEOUT_S),
    }
    return json.dumps(
        [
            {
                "name": CONTAINER_NAME,
                "image": image,
                "essential": True,
                **({"command": list(command)} if command else {}),
                "portMappings": [
                    {
                        "name": "http",
                        "containerPort": port,
                        "hostPort": port,
                        "protocol": "tcp",
                        "appProtocol": "http",
                    }
                ],
                "environment": [{"name": k, "value": v} for k, v in sorted(environment.items())],
                # Only when there are some: AWS drops an empty list, which would read as a change.
                **(
                    {"secrets": [{"name": k, "valueFrom": v} for k, v in sorted(secrets.items())]}
                    if secrets
                    else {}
                ),
                "user": user,
                **(
                    {
                        "systemControls": [
                            {"namespace": UNPRIVILEGED_PORT_SYSCTL, "value": str(port)}
                        ]
                    }
                    if port < UNPRIVILEGED_PORT_START
                    else {}
                ),
                **({"linuxParameters": {"initProcessEnabled": True}} if enable_exec else {}),
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {
                        "awslogs-group": log_group,
                        "awslogs-region": region,
                        "awslogs-stream-prefix": log_stream_prefix,
                        # A slow CloudWatch never blocks the app's stdout (and so its requests).
                        "mode": "non-blocking",
                        "max-buffer-size": "25m",
                    },
                },
                "stopTimeout": STOP_TIMEOUT_S,
                "readonlyRootFilesystem": True,
                "mountPoints": [
                    {"sourceVolume": volume, "containerPath": path, "readOnly": False}
                    for volume, path in mounts.items()
                ],
            }
        ]
    )


def app_containers(
    *,
    image: pulumi.Input[str],
    log_group: pulumi.Input[str],
    secrets: Mapping[str, pulumi.Input[str]],
    **options: Any,
) -> pulumi.Output[str]:
    """`container_definitions` once the image, the log group and the secret ARNs are known."""
    return pulumi.Output.all(
        image=image, log_group=log_group, secrets=pulumi.Output.from_input(dict(secrets))
    ).apply(
        lambda a: container_definitions(
            image=a["image"], log_group=a["log_group"], secrets=a["secrets"], **options
        )
    )


def fargate_task_definition(
    resource_name: str,
    *,
    family: str,
    cpu: int,
    memory: int,
    cpu_architecture: str,
    execution_role_arn: pulumi.Input[str],
    task_role_arn: pulumi.Input[str],
    enable_exec: bool,
    containers: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> aws.ecs.TaskDefinition:
    """A Fargate task definition for the app's container (awsvpc networking, the writable
    volumes): the service's, and each scheduled job's."""
    return aws.ecs.TaskDefinition(
        resource_name,
        family=family,
        cpu=str(cpu),
        memory=str(memory),
        network_mode="awsvpc",
        requires_compatibilities=["FARGATE"],
        runtime_platform={"operating_system_family": "LINUX", "cpu_architecture": cpu_architecture},
        execution_role_arn=execution_role_arn,
        task_role_arn=task_role_arn,
        volumes=task_volumes(enable_exec),
        container_definitions=containers,
        opts=opts,
    )


@dataclass(frozen=True)
class FargateServiceArgs:
    """Settings of one service.

    Wiring (required): cluster_arn, cluster_name, capacity_providers (the cluster's, to depend on),
        vpc_id, subnet_ids (where tasks run), listener_arn and lb_security_group_id (the shared load
        balancer), image (by digest), execution_role_arn, task_role_arn.
    assign_public_ip: give tasks a public IP; only for tasks in public subnets (no NAT). Default
        False.
    cpu, memory: task size in CPU units and MiB. Default 256/512, Fargate's smallest.
    cpu_architecture: X86_64 or ARM64. Default X86_64, the only one Fargate Spot runs.
    container_port, health_check_path: where the app listens and answers health checks.
        Default 8000 and /health, the app's own defaults.
    env: extra environment variables for the app. Default none.
    desired_count, min_count, max_count: tasks; autoscaling is on when max_count > min_count.
        Default 1, 1, 1.
    cpu_target: average CPU percent that autoscaling holds. Default 60: headroom for a spike while
        new tasks launch.
    spot, on_demand_base: run tasks beyond on_demand_base on Fargate Spot. Default False, 0.
    log_retention_days: how long CloudWatch keeps logs. Default 30.
    protect: protect the log group from deletion. Default False.
    path_patterns, priority: the listener rule that routes to this service. Default every path at
        priority 100, so a second service can claim narrower paths at a lower number.
    family, log_group_name: physical names; default from project, stack and component name.
    secrets: env var name -> Secrets Manager secret or SSM parameter ARN, injected by ECS at task
        start (the execution role must be allowed to read them). Default none.
    user: the container's UID:GID. Default APP_USER, the app image's non-root user.
    enable_exec: ECS Exec into the tasks (the task role must allow it; see components.roles).
        Default False.
    deployment_strategy: rolling, blueGreen or canary (ECS's native strategies). Default rolling:
        the fastest (75 s), with no second target group or infrastructure role.
    bake_time_minutes: blueGreen/canary: minutes both revisions run after all traffic has shifted
        (and, for canary, minutes the canary serves alone). Default 5.
    canary_percent: canary: percent of traffic the new revision gets first. Default 10.
    sync_traffic_routing: blueGreen/canary: this `pulumi up` writes the service's target groups and
        the rule's weights as the program has them, though ECS owns them between deploys. For a
        running service's switch from rolling; default False.
    infrastructure_role_arn: the role ECS assumes to shift traffic; required for blueGreen/canary.
    lb_arn_suffix: the load balancer as CloudWatch names it. With it, the service gets its two
        deployment alarms (5xx rate, unhealthy hosts; components.alarms) and rolls back a deploy
        that trips them. Default None: no deployment alarms.
    alarm_topic_arn: SNS topic the deployment alarms notify. Default None: they notify nobody.
    """

    cluster_arn: pulumi.Input[str]
    cluster_name: pulumi.Input[str]
    capacity_providers: pulumi.Resource
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    listener_arn: pulumi.Input[str]
    lb_security_group_id: pulumi.Input[str]
    image: pulumi.Input[str]
    execution_role_arn: pulumi.Input[str]
    task_role_arn: pulumi.Input[str]
    assign_public_ip: bool = False
    cpu: int = 256
    memory: int = 512
    cpu_architecture: str = "X86_64"
    container_port: int = 8000
    health_check_path: str = "/health"
    env: dict[str, str] = field(default_factory=dict)
    desired_count: int = 1
    min_count: int = 1
    max_count: int = 1
    cpu_target: int = 60
    spot: bool = False
    on_demand_base: int = 0
    log_retention_days: int = 30
    protect: bool = False
    path_patterns: tuple[str, ...] = ("/*",)
    priority: int = 100
    family: str = ""
    log_group_name: str = ""
    secrets: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    user: str = APP_USER
    enable_exec: bool = False
    deployment_strategy: str = "rolling"
    bake_time_minutes: int = 5
    canary_percent: int = 10
    sync_traffic_routing: bool = False
    infrastructure_role_arn: pulumi.Input[str] | None = None
    lb_arn_suffix: pulumi.Input[str] | None = None
    alarm_topic_arn: pulumi.Input[str] | None = None

    @property
    def autoscaling(self) -> bool:
        return self.max_count > self.min_count

    @property
    def shifts_traffic(self) -> bool:
        """blueGreen and canary: two target groups, and ECS moves traffic between them."""
        return self.deployment_strategy != "rolling"

    @property
    def ecs_owns_routing(self) -> bool:
        """Whether `pulumi up` leaves the live target group and the weights to ECS."""
        return self.shifts_traffic and not self.sync_traffic_routing


class FargateService(pulumi.ComponentResource):
    """Log group, target group(s) and routing rule, deployment alarms, security group, task
    definition, ECS service and CPU target-tracking autoscaling.

    Outputs:
        service_name, service_arn: the ECS service.
        task_definition_arn, task_family: what it runs.
        log_group_name: where its logs go.
        target_group_arn, target_group_arn_suffix: its (production) load balancer targets.
        target_group_arn_suffixes: every target group it uses, as CloudWatch names them (two for
            blueGreen/canary), for alarms.
        listener_rule_arn: the rule that routes to it (ECS's production listener rule).
        deploy_alarm_names: the alarms a deploy must not trip (none without lb_arn_suffix).
        security_group_id: the tasks' security group.
    """

    def __init__(
        self, name: str, args: FargateServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("fargate-app:service:FargateService", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        project, stack = pulumi.get_project(), pulumi.get_stack()
        region = aws.get_region(opts=pulumi.InvokeOptions(parent=self)).region
        # Family: letters, digits, - and _, up to 255. Log group: also / and ., up to 512.
        family = args.family or bounded(f"{project}-{stack}-{name}", 255)
        log_group_name = args.log_group_name or "/ecs/" + bounded(
            f"{project}/{stack}/{name}", 500, allowed=r"A-Za-z0-9_./-"
        )

        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=log_group_name,
            retention_in_days=args.log_retention_days,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        if args.deployment_strategy not in DEPLOYMENT_STRATEGIES:
            raise ValueError(
                f"deployment_strategy {args.deployment_strategy!r}: expected one of "
                + ", ".join(DEPLOYMENT_STRATEGIES)
            )
        if args.shifts_traffic and args.infrastructure_role_arn is None:
            raise ValueError(
                f"deployment_strategy {args.deployment_strategy} needs infrastructure_role_arn, "
                "the role ECS assumes to shift traffic "
                "(TaskRolesArgs(load_balancer_infrastructure=True))"
            )

        def make_target_group(suffix: str) -> aws.lb.TargetGroup:
            return aws.lb.TargetGroup(
                f"{name}-{suffix}",
                vpc_id=args.vpc_id,
                target_type="ip",
                protocol="HTTP",
                port=args.container_port,
                deregistration_delay=DEREGISTRATION_DELAY_S,
                health_check={
                    "enabled": True,
                    "path": args.health_check_path,
                    "protocol": "HTTP",
                    "port": "traffic-port",
                    "matcher": "200",
                    "interval": HEALTH_CHECK_INTERVAL_S,
                    "timeout": HEALTH_CHECK_TIMEOUT_S,
                    "healthy_threshold": HEALTHY_THRESHOLD,
                    "unhealthy_threshold": UNHEALTHY_THRESHOLD,
                },
                opts=child,
            )

        target_group = make_target_group("tg")
        # blueGreen/canary: ECS starts each new revision in the other group, then moves the rule's
        # weights over; both groups are identical.
        alternate = make_target_group("tg-alt") if args.shifts_traffic else None
        actions: list[aws.lb.ListenerRuleActionArgsDict]
        if alternate is None:
            actions = [{"type": "forward", "target_group_arn": target_group.arn}]
        else:
            actions = [
                {
                    "type": "forward",
                    "forward": {
                        "target_groups": [
                            {"arn": target_group.arn, "weight": FULL_WEIGHT},
                            {"arn": alternate.arn, "weight": NO_WEIGHT},
                        ]
                    },
                }
            ]
        listener_rule = aws.lb.ListenerRule(
            f"{name}-route",
            listener_arn=args.listener_arn,
            priority=args.priority,
            conditions=[{"path_pattern": {"values": list(args.path_patterns)}}],
            actions=actions,
            # ECS owns the weights once it shifts traffic: after a deploy the live revision may sit
            # in either group, and resetting the weights would send users to the empty one.
            opts=pulumi.ResourceOptions(
                parent=self, ignore_changes=["actions"] if args.ecs_owns_routing else None
            ),
        )
        target_groups = [target_group] if alternate is None else [target_group, alternate]

        specs: dict[str, dict] = {}
        deploy_alarms: list[aws.cloudwatch.MetricAlarm] = []
        if args.lb_arn_suffix is not None:
            specs = deploy_alarm_specs(
                name, args.lb_arn_suffix, [tg.arn_suffix for tg in target_groups]
            )
            deploy_alarms = [
                aws.cloudwatch.MetricAlarm(
                    f"{name}-{what}",
                    **spec,
                    alarm_actions=notify(args.alarm_topic_arn),
                    ok_actions=notify(args.alarm_topic_arn),
                    opts=child,
                )
                for what, spec in specs.items()
            ]

        sg = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.vpc_id,
            description="Tasks: the app port from the load balancer only",
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-from-lb",
            security_group_id=sg.id,
            referenced_security_group_id=args.lb_security_group_id,
            ip_protocol="tcp",
            from_port=args.container_port,
            to_port=args.container_port,
            description="App port from the load balancer",
            opts=child,
        )
        # Out: ECR, CloudWatch Logs and whatever the app calls, over HTTPS and other protocols.
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-egress",
            security_group_id=sg.id,
            ip_protocol="-1",
            cidr_ipv4="0.0.0.0/0",
            description="Outbound: image pulls, logs and the app's own calls",
            opts=child,
        )

        task_definition = fargate_task_definition(
            f"{name}-task",
            family=family,
            cpu=args.cpu,
            memory=args.memory,
            cpu_architecture=args.cpu_architecture,
            execution_role_arn=args.execution_role_arn,
            task_role_arn=args.task_role_arn,
            enable_exec=args.enable_exec,
            containers=app_containers(
                image=args.image,
                log_group=log_group.name,
                secrets=args.secrets,
                port=args.container_port,
                health_check_path=args.health_check_path,
                env=dict(args.env),
                region=region,
                user=args.user,
                enable_exec=args.enable_exec,
            ),
            opts=child,
        )

        attachment: aws.ecs.ServiceLoadBalancerArgsDict = {
            "target_group_arn": target_group.arn,
            "container_name": CONTAINER_NAME,
            "container_port": args.container_port,
        }
        if alternate is not None and args.infrastructure_role_arn is not None:
            attachment["advanced_configuration"] = {
                "alternate_target_group_arn": alternate.arn,
                "production_listener_rule": listener_rule.arn,
                "role_arn": args.infrastructure_role_arn,
            }
        rollback_alarms: aws.ecs.ServiceAlarmsArgsDict | None = (
            {"alarm_names": [s["name"] for s in specs.values()], "enable": True, "rollback": True}
            if specs
            else None
        )
        network: aws.ecs.ServiceNetworkConfigurationArgsDict = {
            "subnets": args.subnet_ids,
            "security_groups": [sg.id],
            "assign_public_ip": args.assign_public_ip,
        }
        service = aws.ecs.Service(
            f"{name}-svc",
            cluster=args.cluster_arn,
            task_definition=task_definition.arn,
            desired_count=args.desired_count,
            capacity_provider_strategies=capacity_provider_strategy(args.spot, args.on_demand_base),
            # Changing the capacity provider strategy otherwise replaces the service; with this
            # set, any service change rolls out as a normal zero-downtime deploy instead.
            force_new_deployment=True,
            network_configuration=network,
            load_balancers=[attachment],
            health_check_grace_period_seconds=HEALTH_CHECK_GRACE_PERIOD_S,
            # The native strategies need ECS's own controller (not CodeDeploy or EXTERNAL).
            deployment_controller={"type": "ECS"},
            deployment_configuration=deployment_configuration(
                args.deployment_strategy, args.bake_time_minutes, args.canary_percent
            ),
            # Rolling: the batch sizes. blueGreen/canary start a full set of new tasks beside the
            # old ones, which these same values (100% healthy, 200% running) allow.
            deployment_minimum_healthy_percent=MIN_HEALTHY_PERCENT,
            deployment_maximum_percent=MAX_PERCENT,
            # A deploy whose tasks never get healthy stops and rolls back by itself (ECS's failure
            # detection covers rolling and blue/green deployments)...
            deployment_circuit_breaker={"enable": True, "rollback": True},
            # ...as does one that trips the 5xx-rate or unhealthy-hosts alarm...
            alarms=rollback_alarms,
            # ...and `pulumi up` waits for it, failing when the new tasks never get healthy.
            wait_for_steady_state=True,
            # Interrupting `pulumi up` (Ctrl-C) rolls the deploy back, not leaving it half-way.
            sigint_rollback=True,
            availability_zone_rebalancing="ENABLED",
            propagate_tags="SERVICE",
            enable_ecs_managed_tags=True,
            enable_execute_command=args.enable_exec,
            opts=pulumi.ResourceOptions(
                parent=self,
                # ECS checks the alarms it is given exist; the service's name, which the other
                # alarms need, only exists after it.
                depends_on=[listener_rule, args.capacity_providers, *deploy_alarms],
                ignore_changes=service_ignore_changes(args) or None,
                custom_timeouts=deploy_timeouts(args),
            ),
        )

        if args.autoscaling:
            target = aws.appautoscaling.Target(
                f"{name}-scaling",
                service_namespace="ecs",
                scalable_dimension="ecs:service:DesiredCount",
                resource_id=pulumi.Output.concat("service/", args.cluster_name, "/", service.name),
                min_capacity=args.min_count,
                max_capacity=args.max_count,
                opts=child,
            )
            aws.appautoscaling.Policy(
                f"{name}-cpu",
                policy_type="TargetTrackingScaling",
                service_namespace=target.service_namespace,
                scalable_dimension=target.scalable_dimension,
                resource_id=target.resource_id,
                target_tracking_scaling_policy_configuration={
                    "predefined_metric_specification": {
                        "predefined_metric_type": "ECSServiceAverageCPUUtilization"
                    },
                    "target_value": float(args.cpu_target),
                    "scale_in_cooldown": SCALE_IN_COOLDOWN_S,
                    "scale_out_cooldown": SCALE_OUT_COOLDOWN_S,
                },
                opts=child,
            )

        self.service_name: pulumi.Output[str] = service.name
        self.service_arn: pulumi.Output[str] = service.arn
        self.task_definition_arn: pulumi.Output[str] = task_definition.arn
        self.task_family: pulumi.Output[str] = task_definition.family
        self.log_group_name: pulumi.Output[str] = log_group.name
        self.target_group_arn: pulumi.Output[str] = target_group.arn
        self.target_group_arn_suffix: pulumi.Output[str] = target_group.arn_suffix
        self.target_group_arn_suffixes: list[pulumi.Output[str]] = [
            tg.arn_suffix for tg in target_groups
        ]
        self.listener_rule_arn: pulumi.Output[str] = listener_rule.arn
        self.deploy_alarm_names: list[pulumi.Output[str]] = [a.name for a in deploy_alarms]
        self.security_group_id: pulumi.Output[str] = sg.id
        self.register_outputs(
            {
                "service_name": self.service_name,
                "service_arn": self.service_arn,
                "task_definition_arn": self.task_definition_arn,
                "task_family": self.task_family,
                "log_group_name": self.log_group_name,
                "target_group_arn": self.target_group_arn,
                "target_group_arn_suffix": self.target_group_arn_suffix,
                "target_group_arn_suffixes": self.target_group_arn_suffixes,
                "listener_rule_arn": self.listener_rule_arn,
                "deploy_alarm_names": self.deploy_alarm_names,
                "security_group_id": self.security_group_id,
            }
        )


def service_ignore_changes(args: FargateServiceArgs) -> list[str]:
    """Service inputs something other than `pulumi up` owns once the service runs."""
    ignored = []
    if args.autoscaling:
        ignored.append("desiredCount")  # autoscaling sets the count; `pulumi up` must not reset it
    if args.ecs_owns_routing:
        # After each blueGreen/canary deploy ECS swaps the service's two target groups, recording
        # the group now live as its target group; writing the original back would make the next
        # deploy reuse the live group (hashicorp/terraform-provider-aws#45678). The whole block:
        # narrower property paths are not honoured alike by the engine and pulumi-aws's bridge
        # (pulumi-terraform-bridge#3561), so a switch from rolling takes sync_traffic_routing.
        ignored.append("loadBalancers")
    return ignored


def deploy_timeouts(args: FargateServiceArgs) -> pulumi.CustomTimeouts | None:
    """How long `pulumi up` waits for a deploy: the provider's default for rolling, the modelled
    blueGreen/canary deploy plus that default otherwise (their bake times can exceed it alone)."""
    if not args.shifts_traffic:
        return None
    model_s = sum(
        traffic_shift_deploy_model(args.deployment_strategy, args.bake_time_minutes).values()
    )
    minutes = f"{math.ceil(model_s / 60) + DEPLOY_TIMEOUT_MARGIN_MIN}m"
    return pulumi.CustomTimeouts(create=minutes, update=minutes)
