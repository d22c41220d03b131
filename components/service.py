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
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import pulumi
import pulumi_aws as aws

from components.alarms import deploy_alarm_specs, notify
from components.naming import bounded
from components.roles import traffic_shift_statements
from components.spec import (
    CONTAINER_NAME,
    DEFAULT_LOG_RETENTION_DAYS,
    DEFAULT_ON_DEMAND_BASE,
    DEPLOYMENT_STRATEGIES,
    LOG_RETENTION_DAYS,
    REQUIRED_TASK_EGRESS,
    SPOT_CPU_ARCHITECTURES,
    Deployment,
    EgressRule,
    Scaling,
    TaskSize,
    check_args,
    deployment_strategy,
    egress_problems,
    joined,
    shifts_traffic,
)
from components.task_definition import (
    APP_GRACEFUL_TIMEOUT_S,
    AppContainer,
    fargate_task_definition,
)

# Health checks: the ALB's minimum interval, so a new task is found healthy in two checks (10 s).
HEALTH_CHECK_INTERVAL_S = 5
HEALTH_CHECK_TIMEOUT_S = 4  # must be below the interval
HEALTHY_THRESHOLD = 2  # the ALB's minimum
UNHEALTHY_THRESHOLD = 3  # 15 s of failures before a task is pulled: one slow answer is not enough
# Requests to this app finish in well under a second; AWS's default of 300 s slows every deploy.
DEREGISTRATION_DELAY_S = 10
# ECS ignores failing health checks this long after a task starts; the app boots in ~2 s, so this
# only guards slow cold starts (and does not delay a healthy task: it counts as soon as it passes).
HEALTH_CHECK_GRACE_PERIOD_S = 30
MIN_HEALTHY_PERCENT = 100  # never fewer healthy tasks than desired during a deploy...
MAX_PERCENT = 200  # ...so start the new ones alongside the old
SCALE_OUT_COOLDOWN_S = 60  # react to load within a minute
SCALE_IN_COOLDOWN_S = 300  # remove capacity slowly, so a brief lull does not cause flapping
# Typical time from RunTask to a container answering, for a small image on Fargate (pull + start).
TYPICAL_TASK_LAUNCH_S = 45
# ALB weighted forward: the production target group takes everything until ECS shifts traffic.
FULL_WEIGHT, NO_WEIGHT = 100, 0
# Listener rules: ELBv2's priority range; every path at 100 leaves room below for narrower ones.
RULE_PRIORITY_MIN, RULE_PRIORITY_MAX = 1, 50000
DEFAULT_RULE_PRIORITY = 100
# A listener rule change reaches the ALB's nodes within seconds.
TRAFFIC_SHIFT_S = 5
# The egress rule each EgressRule becomes is `<service>-egress-<rule name>`, except the HTTPS rule:
# it keeps the name of the all-traffic rule it narrowed, so that `pulumi up` changes that rule in
# place (EC2's ModifySecurityGroupRules) and the tasks are never without a way out.
EGRESS_RESOURCE_SUFFIX = {REQUIRED_TASK_EGRESS[0].name: "egress"}
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
    if strategy not in DEPLOYMENT_STRATEGIES or not shifts_traffic(strategy):
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
    if not shifts_traffic(strategy):
        return rolling_deploy_model(launch_s)
    return traffic_shift_deploy_model(strategy, bake_time_minutes, launch_s)


def deployment_configuration(
    strategy: str, bake_time_minutes: int, canary_percent: int
) -> aws.ecs.ServiceDeploymentConfigurationArgsDict:
    """The service's `deployment_configuration`. Always explicit, ROLLING included: ECS keeps the
    last strategy it was given, so leaving it out would not switch a service back to rolling."""
    config: aws.ecs.ServiceDeploymentConfigurationArgsDict = {
        "strategy": deployment_strategy(strategy).ecs
    }
    if shifts_traffic(strategy):
        # ECS requires a bake time for BLUE_GREEN; pulumi-aws takes these minutes as strings.
        config["bake_time_in_minutes"] = str(bake_time_minutes)
    if strategy == "canary":
        config["canary_configuration"] = {
            "canary_percent": float(canary_percent),
            "canary_bake_time_in_minutes": str(bake_time_minutes),
        }
    return config


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


@dataclass(frozen=True, kw_only=True)
class ServicePlacement:
    """Where a service's tasks run, and on what capacity.

    cluster_arn, cluster_name: the cluster. Required.
    capacity_providers: the cluster's capacity-provider attachment (components.cluster); the
        service depends on it, as a capacity provider strategy needs it. Required.
    vpc_id, subnet_ids: the VPC, and the subnets tasks run in (components.network's
        task_subnet_ids). Required.
    assign_public_ip: give tasks a public IP; only for tasks in public subnets (no NAT). Default
        False.
    spot: run tasks beyond on_demand_base on Fargate Spot (about 70% cheaper, may be interrupted;
        X86_64 only). Default False.
    on_demand_base: tasks always kept on on-demand Fargate when spot is on. Default 0.
    """

    cluster_arn: pulumi.Input[str]
    cluster_name: pulumi.Input[str]
    capacity_providers: pulumi.Resource
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    assign_public_ip: bool = False
    spot: bool = False
    on_demand_base: int = DEFAULT_ON_DEMAND_BASE


@dataclass(frozen=True, kw_only=True)
class LoadBalancerRoute:
    """The service's place behind the shared load balancer (components.load_balancer).

    listener_arn: the listener the service's rule joins. Required.
    security_group_id: the load balancer's security group, the only source the tasks admit.
        Required.
    arn_suffix: the load balancer as CloudWatch names it. With it, the service gets its two
        deployment alarms (5xx rate, unhealthy hosts; components.alarms) and rolls back a deploy
        that trips them. Default None: no deployment alarms.
    path_patterns, priority: the listener rule that routes to this service. Default every path at
        priority 100, so a second service can claim narrower paths at a lower number.
    """

    listener_arn: pulumi.Input[str]
    security_group_id: pulumi.Input[str]
    arn_suffix: pulumi.Input[str] | None = None
    path_patterns: tuple[str, ...] = ("/*",)
    priority: int = DEFAULT_RULE_PRIORITY


@dataclass(frozen=True, kw_only=True)
class FargateServiceArgs:
    """Settings of one service.

    container: what runs: the app's container (components.task_definition), image included.
        Required. Its log group is the service's own (leave `logging.group` unset).
    placement: where it runs: cluster, subnets, public IP, Spot (ServicePlacement). Required.
    load_balancer: how traffic reaches it (LoadBalancerRoute). Required.
    execution_role_arn, task_role_arn: the task's two roles (components.roles). Required.
    size: task size. Default 256 CPU units and 512 MiB, Fargate's smallest (spec.TaskSize).
    scaling: task counts and autoscaling. Default one task, no autoscaling (spec.Scaling).
    deployment: how a new revision rolls out. Default rolling (spec.Deployment).
    infrastructure_role_arn, infrastructure_role_name: the role ECS assumes to shift traffic
        (components.roles); required for blueGreen and canary. The service grants it exactly what
        ECS does with this service's target groups and listener rule. Default None.
    log_retention_days: how long CloudWatch keeps the logs. Default 30.
    protect: protect the log group from deletion. Default False.
    family, log_group_name: physical names; default from project, stack and component name.
    alarm_topic_arn: SNS topic the deployment alarms notify. Default None: they notify nobody.
    egress: what the tasks may connect to (spec.EgressRule). Default HTTPS to anywhere, all a
        task needs (image, logs, secrets, exec, the app's HTTPS calls); DNS needs no rule, as
        security groups do not filter the Amazon-provided resolver. The program passes the
        stack's list (StackConfig.egress_rules).
    """

    container: AppContainer
    placement: ServicePlacement
    load_balancer: LoadBalancerRoute
    execution_role_arn: pulumi.Input[str]
    task_role_arn: pulumi.Input[str]
    size: TaskSize = field(default_factory=TaskSize)
    scaling: Scaling = field(default_factory=Scaling)
    deployment: Deployment = field(default_factory=Deployment)
    infrastructure_role_arn: pulumi.Input[str] | None = None
    infrastructure_role_name: pulumi.Input[str] | None = None
    log_retention_days: int = DEFAULT_LOG_RETENTION_DAYS
    protect: bool = False
    family: str = ""
    log_group_name: str = ""
    alarm_topic_arn: pulumi.Input[str] | None = None
    egress: tuple[EgressRule, ...] = REQUIRED_TASK_EGRESS

    def problems(self) -> list[str]:
        """What is wrong with these settings (empty when nothing is)."""
        found = [f"container: {p}" for p in self.container.problems()]
        found += [f"egress: {p}" for p in egress_problems(self.egress)]
        if self.container.logging.group is not None:
            found.append(
                "container.logging.group: the service logs to its own log group; leave it unset "
                "(log_group_name names it)"
            )
        found += [f"size: {p}" for p in self.size.problems()]
        found += [f"scaling: {p}" for p in self.scaling.problems()]
        found += [f"deployment: {p}" for p in self.deployment.problems()]
        arch = self.container.cpu_architecture
        if self.placement.spot and arch not in SPOT_CPU_ARCHITECTURES:
            found.append(
                f"placement.spot: Fargate Spot does not run {arch} tasks; it runs "
                + joined(SPOT_CPU_ARCHITECTURES)
            )
        if self.placement.on_demand_base < 0:
            found.append(f"placement.on_demand_base {self.placement.on_demand_base}: expected 0+")
        if (
            not self.deployment.problems()
            and self.deployment.shifts_traffic
            and (self.infrastructure_role_arn is None or self.infrastructure_role_name is None)
        ):
            found.append(
                f"deployment strategy {self.deployment.strategy} needs infrastructure_role_arn "
                "and infrastructure_role_name, the role ECS assumes to shift traffic "
                "(TaskRolesArgs(load_balancer_infrastructure=True))"
            )
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            found.append(
                f"log_retention_days {self.log_retention_days}: CloudWatch allows "
                + ", ".join(map(str, LOG_RETENTION_DAYS))
            )
        route = self.load_balancer
        if not RULE_PRIORITY_MIN <= route.priority <= RULE_PRIORITY_MAX:
            found.append(
                f"load_balancer.priority {route.priority}: expected {RULE_PRIORITY_MIN} to "
                f"{RULE_PRIORITY_MAX}"
            )
        if not route.path_patterns:
            found.append("load_balancer.path_patterns: at least one, such as /*")
        return found


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
        deploy_alarm_names: the alarms a deploy must not trip (none without an arn_suffix).
        security_group_id: the tasks' security group.
        container: the container as the service runs it, in its log group and region: what the
            scheduled jobs run (components.scheduled_tasks). A value for the program, not a
            registered output; its one output, the log group, is log_group_name.
    """

    def __init__(
        self, name: str, args: FargateServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("fargate-app:service:FargateService", name, None, opts)
        check_args(f"FargateService {name!r}", args.problems())
        child = pulumi.ResourceOptions(parent=self)
        project, stack = pulumi.get_project(), pulumi.get_stack()
        region = aws.get_region(opts=pulumi.InvokeOptions(parent=self)).region
        port = args.container.port
        route, placement, deployment = args.load_balancer, args.placement, args.deployment
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
        container = replace(
            args.container,
            logging=replace(
                args.container.logging,
                group=log_group.name,
                region=args.container.logging.region or region,
            ),
        )

        def make_target_group(suffix: str) -> aws.lb.TargetGroup:
            return aws.lb.TargetGroup(
                f"{name}-{suffix}",
                vpc_id=placement.vpc_id,
                target_type="ip",
                protocol="HTTP",
                port=port,
                deregistration_delay=DEREGISTRATION_DELAY_S,
                health_check={
                    "enabled": True,
                    "path": args.container.health_check_path,
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
        alternate = make_target_group("tg-alt") if deployment.shifts_traffic else None
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
            listener_arn=route.listener_arn,
            priority=route.priority,
            conditions=[{"path_pattern": {"values": list(route.path_patterns)}}],
            actions=actions,
            # ECS owns the weights once it shifts traffic: after a deploy the live revision may sit
            # in either group, and resetting the weights would send users to the empty one.
            # A rule is replaced only with its listener (a new load balancer: edge none to
            # cloudfront, docs/edge.md), and a target group serves one load balancer at a time
            # (ALB quota "load balancers per target group": 1; CreateRule's
            # TargetGroupAssociationLimitException), so the old rule goes before the new one.
            opts=pulumi.ResourceOptions(
                parent=self,
                ignore_changes=["actions"] if deployment.ecs_owns_routing else None,
                delete_before_replace=True,
            ),
        )
        target_groups = [target_group] if alternate is None else [target_group, alternate]

        specs: dict[str, dict] = {}
        deploy_alarms: list[aws.cloudwatch.MetricAlarm] = []
        if route.arn_suffix is not None:
            specs = deploy_alarm_specs(
                name, route.arn_suffix, [tg.arn_suffix for tg in target_groups]
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
            vpc_id=placement.vpc_id,
            description="Tasks: the app port from the load balancer only",
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-from-lb",
            security_group_id=sg.id,
            referenced_security_group_id=route.security_group_id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            description="App port from the load balancer",
            opts=child,
        )
        for rule in args.egress:
            suffix = EGRESS_RESOURCE_SUFFIX.get(rule.name, f"egress-{rule.name}")
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-{suffix}",
                security_group_id=sg.id,
                ip_protocol=rule.protocol,
                from_port=rule.port,
                to_port=rule.last_port,
                cidr_ipv4=None if rule.ipv6 else rule.cidr,
                cidr_ipv6=rule.cidr if rule.ipv6 else None,
                description=rule.description or None,
                opts=child,
            )

        task_definition = fargate_task_definition(
            f"{name}-task",
            family=family,
            size=args.size,
            container=container,
            execution_role_arn=args.execution_role_arn,
            task_role_arn=args.task_role_arn,
            opts=child,
        )

        attachment: aws.ecs.ServiceLoadBalancerArgsDict = {
            "target_group_arn": target_group.arn,
            "container_name": CONTAINER_NAME,
            "container_port": port,
        }
        traffic_shift: list[pulumi.Resource] = []
        role_arn, role_name = args.infrastructure_role_arn, args.infrastructure_role_name
        if alternate is not None and role_arn is not None and role_name is not None:
            attachment["advanced_configuration"] = {
                "alternate_target_group_arn": alternate.arn,
                "production_listener_rule": listener_rule.arn,
                "role_arn": role_arn,
            }
            # ECS's role may touch this service's groups and rule, and nothing else on the load
            # balancer; the service waits for the grant, so no deploy runs with a powerless role.
            traffic_shift.append(
                aws.iam.RolePolicy(
                    f"{name}-traffic-shift",
                    role=role_name,
                    policy=pulumi.Output.all(
                        target_group.arn, alternate.arn, listener_rule.arn
                    ).apply(
                        lambda arns: json.dumps(
                            {
                                "Version": "2012-10-17",
                                "Statement": traffic_shift_statements(arns[:2], arns[2]),
                            }
                        )
                    ),
                    opts=child,
                )
            )
        rollback_alarms: aws.ecs.ServiceAlarmsArgsDict | None = (
            {"alarm_names": [s["name"] for s in specs.values()], "enable": True, "rollback": True}
            if specs
            else None
        )
        network: aws.ecs.ServiceNetworkConfigurationArgsDict = {
            "subnets": placement.subnet_ids,
            "security_groups": [sg.id],
            "assign_public_ip": placement.assign_public_ip,
        }
        service = aws.ecs.Service(
            f"{name}-svc",
            cluster=placement.cluster_arn,
            task_definition=task_definition.arn,
            desired_count=args.scaling.desired_count,
            capacity_provider_strategies=capacity_provider_strategy(
                placement.spot, placement.on_demand_base
            ),
            # Changing the capacity provider strategy otherwise replaces the service; with this
            # set, any service change rolls out as a normal zero-downtime deploy instead.
            force_new_deployment=True,
            network_configuration=network,
            load_balancers=[attachment],
            health_check_grace_period_seconds=HEALTH_CHECK_GRACE_PERIOD_S,
            # The native strategies need ECS's own controller (not CodeDeploy or EXTERNAL).
            deployment_controller={"type": "ECS"},
            deployment_configuration=deployment_configuration(
                deployment.strategy, deployment.bake_time_minutes, deployment.canary_percent
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
            enable_execute_command=container.enable_exec,
            opts=pulumi.ResourceOptions(
                parent=self,
                # ECS checks the alarms it is given exist; the service's name, which the other
                # alarms need, only exists after it.
                depends_on=[
                    listener_rule,
                    placement.capacity_providers,
                    *deploy_alarms,
                    *traffic_shift,
                ],
                ignore_changes=service_ignore_changes(args) or None,
                custom_timeouts=deploy_timeouts(deployment),
            ),
        )

        if args.scaling.autoscaling:
            target = aws.appautoscaling.Target(
                f"{name}-scaling",
                service_namespace="ecs",
                scalable_dimension="ecs:service:DesiredCount",
                resource_id=pulumi.Output.concat(
                    "service/", placement.cluster_name, "/", service.name
                ),
                min_capacity=args.scaling.min_count,
                max_capacity=args.scaling.max_count,
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
                    "target_value": float(args.scaling.cpu_target),
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
        self.container: AppContainer = container
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
    if args.scaling.autoscaling:
        ignored.append("desiredCount")  # autoscaling sets the count; `pulumi up` must not reset it
    if args.deployment.ecs_owns_routing:
        # After each blueGreen/canary deploy ECS swaps the service's two target groups, recording
        # the group now live as its target group; writing the original back would make the next
        # deploy reuse the live group (hashicorp/terraform-provider-aws#45678). The whole block:
        # narrower property paths are not honoured alike by the engine and pulumi-aws's bridge
        # (pulumi-terraform-bridge#3561), so a switch from rolling takes sync_traffic_routing.
        ignored.append("loadBalancers")
    return ignored


def deploy_timeouts(deployment: Deployment) -> pulumi.CustomTimeouts | None:
    """How long `pulumi up` waits for a deploy: the provider's default for rolling, the modelled
    blueGreen/canary deploy plus that default otherwise (their bake times can exceed it alone)."""
    if not deployment.shifts_traffic:
        return None
    model_s = sum(
        traffic_shift_deploy_model(deployment.strategy, deployment.bake_time_minutes).values()
    )
    minutes = f"{math.ceil(model_s / 60) + DEPLOY_TIMEOUT_MARGIN_MIN}m"
    return pulumi.CustomTimeouts(create=minutes, update=minutes)
