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

Without a load balancer (the stack's internal services and workers) a service deploys rolling and
its circuit breaker alone rolls a failed deploy back. With Service Connect (`service_connect`) its
tasks join the stack's namespace: each gets ECS's proxy beside the app, and its task is sized for
it (spec.size_with_proxy); an internal service is published there as http://NAME:PORT. A worker
(`queue`) scales on its queue's backlog per task, down to zero.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import pulumi
import pulumi_aws as aws

from components.alarms import (
    ECS_NAMESPACE,
    NOT_BREACHING,
    SQS_NAMESPACE,
    alarm_name,
    deploy_alarm_specs,
    notify,
)
from components.naming import bounded
from components.roles import traffic_shift_statements
from components.spec import (
    CONTAINER_NAME,
    DEFAULT_BACKLOG_PER_TASK,
    DEFAULT_LOG_RETENTION_DAYS,
    DEFAULT_ON_DEMAND_BASE,
    DEPLOYMENT_STRATEGIES,
    REQUIRED_TASK_EGRESS,
    SERVICE_CONNECT_PROXY_CPU,
    SERVICE_CONNECT_PROXY_MEMORY_MIB,
    Deployment,
    EgressRule,
    Scaling,
    TaskSize,
    check_args,
    deployment_strategy,
    egress_problems,
    on_demand_base_issues,
    retention_issues,
    shifts_traffic,
    size_with_proxy,
    spot_issues,
)
from components.task_definition import (
    APP_GRACEFUL_TIMEOUT_S,
    PORT_NAME,
    AppContainer,
    TaskPlacement,
    fargate_task_definition,
)

# Health checks: the ALB's minimum interval, so a new task is found healthy in two checks (10 s).
HEALTH_CHECK_INTERVAL_S = 5
HEALTH_CHECK_TIMEOUT_S = 4  # must be below the interval
# The answers the target group counts as healthy (the ALB's Matcher: codes, lists "200,202" or
# ranges "200-299"): exactly 200, so a redirect or an empty 204 from a misrouted path is not health.
HEALTH_CHECK_MATCHER = "200"
HEALTHY_THRESHOLD = 2  # the ALB's minimum
UNHEALTHY_THRESHOLD = 3  # 15 s of failures before a task is pulled: one slow answer is not enough
# Health checks go to the port the requests go to, so the one port the load balancer may reach a
# service's tasks on (its `<service>-lb-to-tasks` egress rule) serves both.
HEALTH_CHECK_PORT = "traffic-port"
# The suffix of that rule's name: it is the service component's child, but the load balancer's rule.
LB_EGRESS_SUFFIX = "lb-to-tasks"
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
# Service Connect: the Cloud Map service ECS creates for an internal service's endpoint; its
# clients call it by the service's own name (the client alias).
DISCOVERY_NAME_SUFFIX = "-sc"
# Workers: queue and running-task metrics are per minute.
# Tasks running: ECS publishes each running task's CPU use once a minute, so the SampleCount of
# the service's CPUUtilization over a minute counts its running tasks; it is free, where Container
# Insights' RunningTaskCount is billed (and off in dev). Without tasks ECS publishes nothing.
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cloudwatch-metrics.html
# (aws/containers-roadmap#2718 describes this use of SampleCount.)
QUEUE_METRIC_PERIOD_S = 60
# Scaling up from zero: a queue with messages and no task starts one. A new task reports its first
# CPU sample within about a minute of starting, so three minutes pass before the alarm may start
# another.
ZERO_SCALE_OUT_COOLDOWN_S = 180
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
    host_headers: the host names the rule also requires (any of them). Default none: any host.
    """

    listener_arn: pulumi.Input[str]
    security_group_id: pulumi.Input[str]
    arn_suffix: pulumi.Input[str] | None = None
    path_patterns: tuple[str, ...] = ("/*",)
    priority: int = DEFAULT_RULE_PRIORITY
    host_headers: tuple[str, ...] = ()

    @property
    def conditions(self) -> list[aws.lb.ListenerRuleConditionArgsDict]:
        found: list[aws.lb.ListenerRuleConditionArgsDict] = []
        if self.host_headers:
            found.append({"host_header": {"values": list(self.host_headers)}})
        if self.path_patterns:
            found.append({"path_pattern": {"values": list(self.path_patterns)}})
        return found


@dataclass(frozen=True, kw_only=True)
class ServiceConnect:
    """The service's place in the stack's Service Connect namespace (components.namespace).

    namespace_arn: the namespace every service of the stack joins. Required.
    members_security_group_id: the group every task of the stack's services carries; an internal
        service admits it, and only it, on its port. Required.
    publish: publish the service as http://<component name>:<port> (an internal service). Default
        False: a client only.
    """

    namespace_arn: pulumi.Input[str]
    members_security_group_id: pulumi.Input[str]
    publish: bool = False


@dataclass(frozen=True, kw_only=True)
class QueueScaling:
    """A worker's queue, and how the service scales on it.

    queue_name: the SQS queue it drains (components.queue). Required.
    backlog_per_task: messages each task may have waiting; target tracking holds the queue's
        backlog per running task at this. Default spec.DEFAULT_BACKLOG_PER_TASK (10).
    """

    queue_name: pulumi.Input[str]
    backlog_per_task: int = DEFAULT_BACKLOG_PER_TASK


@dataclass(frozen=True, kw_only=True)
class FargateServiceArgs:
    """Settings of one service.

    container: what runs: the app's container (components.task_definition), image included.
        Required. Its log group is the service's own (leave `logging.group` unset).
    placement: where it runs: cluster, subnets, public IP, Spot (ServicePlacement). Required.
    load_balancer: how traffic reaches it (LoadBalancerRoute). Default None: no load balancer (an
        internal service or a worker), so it deploys rolling.
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
    service_connect: its place in the stack's Service Connect namespace (ServiceConnect). Default
        None: it joins none.
    queue: a worker's queue and backlog target (QueueScaling); the service scales on it instead of
        CPU, down to scaling.min_count, which may be 0. Default None.
    depends_on: what must exist before its tasks start, such as the internal services it calls
        (a task resolves only the Service Connect endpoints that existed when it started).
        Default none.
    egress: what the tasks may connect to (spec.EgressRule). Default HTTPS to anywhere, all a
        task needs (image, logs, secrets, exec, the app's HTTPS calls); DNS needs no rule, as
        security groups do not filter the Amazon-provided resolver. The program passes the
        stack's list (StackConfig.egress_rules).
    client_security_group_ids: groups its tasks carry beside their own: each file system's clients
        group, for a container that mounts one (components.file_system), which is what lets them
        reach it. Default none.
    """

    container: AppContainer
    placement: ServicePlacement
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
    load_balancer: LoadBalancerRoute | None = None
    service_connect: ServiceConnect | None = None
    queue: QueueScaling | None = None
    depends_on: tuple[pulumi.Resource, ...] = ()
    egress: tuple[EgressRule, ...] = REQUIRED_TASK_EGRESS
    client_security_group_ids: tuple[pulumi.Input[str], ...] = ()

    @property
    def task_size(self) -> TaskSize:
        """The registered size: `size`, or with Service Connect the smallest Fargate size with
        room for the proxy beside it."""
        if self.service_connect is None:
            return self.size
        return size_with_proxy(self.size) or self.size

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
        scales_to_zero = self.queue is not None
        found += [f"scaling: {p}" for p in self.scaling.problems(scales_to_zero=scales_to_zero)]
        found += [f"deployment: {p}" for p in self.deployment.problems()]
        arch = self.container.cpu_architecture
        found += [f"placement.{i.problem()}" for i in spot_issues(self.placement.spot, arch)]
        found += [
            f"placement.{issue.problem()}"
            for issue in on_demand_base_issues(
                self.placement.on_demand_base, self.scaling.max_count
            )
        ]
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
        found += [
            i.problem() for i in retention_issues("log_retention_days", self.log_retention_days)
        ]
        found += self._route_problems() + self._service_connect_problems()
        if self.queue is not None and self.container.port is not None:
            found.append("queue: a worker has no port; set container.port None")
        if self.queue is not None and self.queue.backlog_per_task < 1:
            found.append(f"queue.backlog_per_task {self.queue.backlog_per_task}: expected 1+")
        return found

    def _route_problems(self) -> list[str]:
        route = self.load_balancer
        if route is None:
            return (
                [
                    f"deployment strategy {self.deployment.strategy} shifts load balancer "
                    "traffic; a service without a load balancer deploys rolling"
                ]
                if not self.deployment.problems() and self.deployment.shifts_traffic
                else []
            )
        found = []
        if self.container.port is None:
            found.append("load_balancer: the container listens on no port (container.port)")
        if not RULE_PRIORITY_MIN <= route.priority <= RULE_PRIORITY_MAX:
            found.append(
                f"load_balancer.priority {route.priority}: expected {RULE_PRIORITY_MIN} to "
                f"{RULE_PRIORITY_MAX}"
            )
        if not route.path_patterns and not route.host_headers:
            found.append("load_balancer.path_patterns: at least one (such as /*), or a host")
        return found

    def _service_connect_problems(self) -> list[str]:
        connect = self.service_connect
        if connect is None:
            return []
        found = []
        if not self.size.problems() and size_with_proxy(self.size) is None:
            found.append(
                f"size: {self.size.cpu} CPU units and {self.size.memory} MiB leave no Fargate "
                f"size with room for the Service Connect proxy ({SERVICE_CONNECT_PROXY_CPU} CPU "
                f"units, {SERVICE_CONNECT_PROXY_MEMORY_MIB} MiB)"
            )
        if connect.publish and self.container.port is None:
            found.append("service_connect.publish: the container listens on no port")
        return found


class FargateService(pulumi.ComponentResource):
    """Log group, target group(s) and routing rule, deployment alarms, security group, task
    definition, ECS service and its autoscaling (CPU target tracking, or a worker's backlog).

    Outputs:
        service_name, service_arn: the ECS service.
        task_definition_arn, task_family: what it runs.
        log_group_name: where its logs go.
        target_group_arn, target_group_arn_suffix: its (production) load balancer targets; None
            without a load balancer.
        target_group_arn_suffixes: every target group it uses, as CloudWatch names them (two for
            blueGreen/canary; none without a load balancer), for alarms.
        listener_rule_arn: the rule that routes to it (ECS's production listener rule), or None.
        deploy_alarm_names: the alarms a deploy must not trip (none without an arn_suffix).
        security_group_id: the tasks' security group.
        security_group_ids: every group its tasks carry (with Service Connect, the members' too).
        service_connect_url: an internal service's http://NAME:PORT, or None.
        container: the container as the service runs it, in its log group and region: what the
            scheduled jobs run (components.scheduled_tasks). A value for the program, not a
            registered output; its one output, the log group, is log_group_name.
        task_placement: where its tasks run (cluster, subnets, its security group, public IP)
            and their roles: where the scheduled jobs run. A value for the program, not a
            registered output; its outputs are the inputs it was given and security_group_id.
    """

    def __init__(
        self, name: str, args: FargateServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(f"FargateService {name!r}", args.problems())
        super().__init__("fargate-app:service:FargateService", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        project, stack = pulumi.get_project(), pulumi.get_stack()
        region = aws.get_region(opts=pulumi.InvokeOptions(parent=self)).region
        port = args.container.port
        route, placement, deployment = args.load_balancer, args.placement, args.deployment
        connect = args.service_connect
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

        target_groups: list[aws.lb.TargetGroup] = []
        listener_rule: aws.lb.ListenerRule | None = None
        specs: dict[str, dict] = {}
        deploy_alarms: list[aws.cloudwatch.MetricAlarm] = []
        if route is not None and port is not None:
            target_groups, listener_rule = self._route(name, args, route, port)
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
            description=_security_group_description(args),
            opts=child,
        )
        if route is not None and port is not None:
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
            # ...and the load balancer's way out to them, on that port alone (requests and health
            # checks): its group reaches no address, only the groups of the services behind it,
            # each adding its own rule here (none of them knows the others).
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-{LB_EGRESS_SUFFIX}",
                security_group_id=route.security_group_id,
                referenced_security_group_id=sg.id,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                description=f"To the tasks of {name}: app port and health checks",
                opts=child,
            )
        if connect is not None and connect.publish and port is not None:
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-from-services",
                security_group_id=sg.id,
                referenced_security_group_id=connect.members_security_group_id,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                description="App port from the stack's services (Service Connect)",
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
        security_groups: list[pulumi.Input[str]] = [sg.id]
        if connect is not None:
            security_groups.append(connect.members_security_group_id)
        security_groups += args.client_security_group_ids

        task_definition = fargate_task_definition(
            f"{name}-task",
            family=family,
            size=args.task_size,
            container=container,
            execution_role_arn=args.execution_role_arn,
            task_role_arn=args.task_role_arn,
            opts=child,
        )

        self.service_connect_url: str | None = (
            f"http://{name}:{port}" if connect is not None and connect.publish else None
        )

        network: aws.ecs.ServiceNetworkConfigurationArgsDict = {
            "subnets": placement.subnet_ids,
            "security_groups": security_groups,
            "assign_public_ip": placement.assign_public_ip,
        }
        traffic_shift = self._traffic_shift(name, args, target_groups, listener_rule)
        rollback_alarms: aws.ecs.ServiceAlarmsArgsDict | None = (
            {"alarm_names": [s["name"] for s in specs.values()], "enable": True, "rollback": True}
            if specs
            else None
        )
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
            load_balancers=(
                [self._attachment(args, port, target_groups, listener_rule)]
                if target_groups and port is not None
                else None
            ),
            # ECS accepts a grace period only for a service behind a load balancer.
            health_check_grace_period_seconds=(
                HEALTH_CHECK_GRACE_PERIOD_S if target_groups else None
            ),
            service_connect_configuration=_service_connect(name, connect, port),
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
                # alarms need, only exists after it. A Service Connect client resolves only the
                # endpoints that existed when its task started, so it waits for those it calls.
                depends_on=[
                    *([listener_rule] if listener_rule is not None else []),
                    placement.capacity_providers,
                    *deploy_alarms,
                    *traffic_shift,
                    *args.depends_on,
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
            if args.queue is None:
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
            else:
                self._queue_scaling(name, args, args.queue, target, service)

        self.service_name: pulumi.Output[str] = service.name
        self.service_arn: pulumi.Output[str] = service.arn
        self.task_definition_arn: pulumi.Output[str] = task_definition.arn
        self.task_family: pulumi.Output[str] = task_definition.family
        self.log_group_name: pulumi.Output[str] = log_group.name
        self.target_group_arn: pulumi.Output[str] | None = (
            target_groups[0].arn if target_groups else None
        )
        self.target_group_arn_suffix: pulumi.Output[str] | None = (
            target_groups[0].arn_suffix if target_groups else None
        )
        self.target_group_arn_suffixes: list[pulumi.Output[str]] = [
            tg.arn_suffix for tg in target_groups
        ]
        self.listener_rule_arn: pulumi.Output[str] | None = (
            listener_rule.arn if listener_rule is not None else None
        )
        self.deploy_alarm_names: list[pulumi.Output[str]] = [a.name for a in deploy_alarms]
        self.security_group_id: pulumi.Output[str] = sg.id
        self.security_group_ids: list[pulumi.Input[str]] = security_groups
        self.container: AppContainer = container
        self.task_placement = TaskPlacement(
            cluster_arn=args.placement.cluster_arn,
            subnet_ids=args.placement.subnet_ids,
            security_group_id=self.security_group_id,
            assign_public_ip=args.placement.assign_public_ip,
            execution_role_arn=args.execution_role_arn,
            task_role_arn=args.task_role_arn,
        )
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
                "security_group_ids": self.security_group_ids,
                "service_connect_url": self.service_connect_url,
            }
        )

    def _route(
        self, name: str, args: FargateServiceArgs, route: LoadBalancerRoute, port: int
    ) -> tuple[list[aws.lb.TargetGroup], aws.lb.ListenerRule]:
        """The target group(s) and the listener rule that sends the route's requests to them."""
        deployment = args.deployment

        def make_target_group(suffix: str) -> aws.lb.TargetGroup:
            return aws.lb.TargetGroup(
                f"{name}-{suffix}",
                vpc_id=args.placement.vpc_id,
                target_type="ip",
                protocol="HTTP",
                port=port,
                deregistration_delay=DEREGISTRATION_DELAY_S,
                health_check={
                    "enabled": True,
                    "path": args.container.health_check_path,
                    "protocol": "HTTP",
                    "port": HEALTH_CHECK_PORT,
                    "matcher": HEALTH_CHECK_MATCHER,
                    "interval": HEALTH_CHECK_INTERVAL_S,
                    "timeout": HEALTH_CHECK_TIMEOUT_S,
                    "healthy_threshold": HEALTHY_THRESHOLD,
                    "unhealthy_threshold": UNHEALTHY_THRESHOLD,
                },
                opts=pulumi.ResourceOptions(parent=self),
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
            conditions=route.conditions,
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
        groups = [target_group] if alternate is None else [target_group, alternate]
        return groups, listener_rule

    @staticmethod
    def _attachment(
        args: FargateServiceArgs,
        port: int,
        target_groups: list[aws.lb.TargetGroup],
        listener_rule: aws.lb.ListenerRule | None,
    ) -> aws.ecs.ServiceLoadBalancerArgsDict:
        attachment: aws.ecs.ServiceLoadBalancerArgsDict = {
            "target_group_arn": target_groups[0].arn,
            "container_name": CONTAINER_NAME,
            "container_port": port,
        }
        if (
            len(target_groups) > 1
            and listener_rule is not None
            and args.infrastructure_role_arn is not None
            and args.infrastructure_role_name is not None
        ):
            attachment["advanced_configuration"] = {
                "alternate_target_group_arn": target_groups[1].arn,
                "production_listener_rule": listener_rule.arn,
                "role_arn": args.infrastructure_role_arn,
            }
        return attachment

    def _traffic_shift(
        self,
        name: str,
        args: FargateServiceArgs,
        target_groups: list[aws.lb.TargetGroup],
        listener_rule: aws.lb.ListenerRule | None,
    ) -> list[pulumi.Resource]:
        """ECS's role may touch this service's groups and rule, and nothing else on the load
        balancer; the service waits for the grant, so no deploy runs with a powerless role."""
        role_name = args.infrastructure_role_name
        if (
            len(target_groups) < 2
            or listener_rule is None
            or args.infrastructure_role_arn is None
            or role_name is None
        ):
            return []
        return [
            aws.iam.RolePolicy(
                f"{name}-traffic-shift",
                role=role_name,
                policy=pulumi.Output.all(
                    target_groups[0].arn, target_groups[1].arn, listener_rule.arn
                ).apply(
                    lambda arns: json.dumps(
                        {
                            "Version": "2012-10-17",
                            "Statement": traffic_shift_statements(arns[:2], arns[2]),
                        }
                    )
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
        ]

    def _queue_scaling(
        self,
        name: str,
        args: FargateServiceArgs,
        queue: QueueScaling,
        target: aws.appautoscaling.Target,
        service: aws.ecs.Service,
    ) -> None:
        """A worker's two policies: target tracking on the queue's backlog per running task, and
        a step up from zero tasks when messages wait (target tracking multiplies the running
        count, so from zero it never starts one)."""
        child = pulumi.ResourceOptions(parent=self)
        placement = args.placement
        running = Metric(
            namespace=ECS_NAMESPACE,
            metric_name="CPUUtilization",
            dimensions={"ClusterName": placement.cluster_name, "ServiceName": service.name},
            stat="SampleCount",
        )
        waiting = Metric(
            namespace=SQS_NAMESPACE,
            metric_name="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": queue.queue_name},
            stat="Maximum",
        )
        aws.appautoscaling.Policy(
            f"{name}-backlog",
            policy_type="TargetTrackingScaling",
            service_namespace=target.service_namespace,
            scalable_dimension=target.scalable_dimension,
            resource_id=target.resource_id,
            target_tracking_scaling_policy_configuration={
                "customized_metric_specification": {
                    "metrics": [
                        waiting.scaling_query("messages"),
                        running.scaling_query("tasks"),
                        {
                            "id": "backlog",
                            "expression": BACKLOG_PER_TASK_EXPRESSION,
                            "label": "Messages waiting per running task",
                            "return_data": True,
                        },
                    ]
                },
                "target_value": float(queue.backlog_per_task),
                "scale_in_cooldown": SCALE_IN_COOLDOWN_S,
                "scale_out_cooldown": SCALE_OUT_COOLDOWN_S,
            },
            opts=child,
        )
        from_zero = aws.appautoscaling.Policy(
            f"{name}-from-zero",
            policy_type="StepScaling",
            service_namespace=target.service_namespace,
            scalable_dimension=target.scalable_dimension,
            resource_id=target.resource_id,
            step_scaling_policy_configuration={
                "adjustment_type": "ChangeInCapacity",
                "cooldown": ZERO_SCALE_OUT_COOLDOWN_S,
                "metric_aggregation_type": "Maximum",
                "step_adjustments": [{"metric_interval_lower_bound": "0", "scaling_adjustment": 1}],
            },
            opts=child,
        )

        aws.cloudwatch.MetricAlarm(
            f"{name}-idle-with-work",
            name=alarm_name(name, "idle-with-work"),
            alarm_description=(
                f"Messages wait in {name}'s queue and no task runs: starts one (the backlog "
                "policy takes it from there)."
            ),
            metric_queries=[
                waiting.alarm_query("messages"),
                running.alarm_query("tasks"),
                {
                    "id": "idle",
                    "expression": IDLE_WITH_WORK_EXPRESSION,
                    "label": "1 when messages wait and no task runs",
                    "return_data": True,
                },
            ],
            comparison_operator="GreaterThanThreshold",
            threshold=0,
            evaluation_periods=1,
            treat_missing_data=NOT_BREACHING,
            alarm_actions=[from_zero.arn],
            opts=child,
        )


# Backlog per running task, with no task counted as one: target tracking needs a value, and from
# zero tasks the step policy below starts the first.
BACKLOG_PER_TASK_EXPRESSION = "FILL(messages, 0) / IF(FILL(tasks, 0) > 0, FILL(tasks, 0), 1)"
IDLE_WITH_WORK_EXPRESSION = "IF(FILL(messages, 0) > 0 AND FILL(tasks, 0) == 0, 1, 0)"
# pulumi-aws's shape of a customized metric's query (its name is longer than a line).
ScalingQuery = aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricArgsDict  # noqa: E501


@dataclass(frozen=True)
class Metric:
    """A CloudWatch metric a worker scales on, in the two shapes that query it."""

    namespace: str
    metric_name: str
    dimensions: dict[str, pulumi.Input[str]]
    stat: str

    def scaling_query(self, query_id: str) -> ScalingQuery:
        """As a target tracking policy's customized metric queries it."""
        return {
            "id": query_id,
            "return_data": False,
            "metric_stat": {
                "stat": self.stat,
                "metric": {
                    "namespace": self.namespace,
                    "metric_name": self.metric_name,
                    "dimensions": [{"name": k, "value": v} for k, v in self.dimensions.items()],
                },
            },
        }

    def alarm_query(self, query_id: str) -> aws.cloudwatch.MetricAlarmMetricQueryArgsDict:
        """As a metric-math alarm queries it, per minute."""
        return {
            "id": query_id,
            "return_data": False,
            "metric": {
                "namespace": self.namespace,
                "metric_name": self.metric_name,
                "dimensions": self.dimensions,
                "stat": self.stat,
                "period": QUEUE_METRIC_PERIOD_S,
            },
        }


def _security_group_description(args: FargateServiceArgs) -> str:
    if args.load_balancer is not None:
        return "Tasks: the app port from the load balancer only"
    if args.service_connect is not None and args.service_connect.publish:
        return "Tasks: the app port from the stack's services only"
    return "Tasks: nothing comes in"


def _service_connect(
    name: str, connect: ServiceConnect | None, port: int | None
) -> aws.ecs.ServiceServiceConnectConfigurationArgsDict | None:
    """The service's Service Connect configuration: a client of the namespace, and for an
    internal service its endpoint http://NAME:PORT."""
    if connect is None:
        return None
    config: aws.ecs.ServiceServiceConnectConfigurationArgsDict = {
        "enabled": True,
        "namespace": connect.namespace_arn,
    }
    if connect.publish and port is not None:
        config["services"] = [
            {
                "port_name": PORT_NAME,
                # The Cloud Map service ECS creates; the service's own name is its DNS name.
                "discovery_name": f"{name}{DISCOVERY_NAME_SUFFIX}",
                "client_alias": [{"dns_name": name, "port": port}],
            }
        ]
    return config


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
