"""App service: one entry of the stack's `services` (web, internal or worker), everything the main
service has, for it alone: its image (its own build or prebuilt image, else the main service's),
its task and execution roles, its service (security group, log group, task family, autoscaling,
circuit breaker, deploy alarms) and its alarms.

- web: behind the stack's load balancer, on its own listener rule and target group(s); deploys as
  the main service does (rolling, blueGreen or canary).
- internal: no load balancer; published in the stack's namespace (components.namespace) as
  http://NAME:PORT through Service Connect; deploys rolling.
- worker: no port; drains its queue (components.queue), scaling on its backlog per task down to
  `minCount` (0 allowed); deploys rolling.

Every service may send to every worker's queue (its URL in <NAME>_QUEUE_URL); only the worker
receives from its own. Its secrets are its own, so its execution role reads exactly those.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import pulumi

from components.alarms import Alarms, AlarmsArgs, QueueWatch
from components.exec_sessions import ExecSessionRecord
from components.file_system import FileSystemAccess
from components.image import ContainerImage, ContainerImageArgs
from components.queue import WorkQueue, receive_statements, send_statements
from components.roles import TaskRoles, TaskRolesArgs
from components.service import (
    FargateService,
    FargateServiceArgs,
    LoadBalancerRoute,
    QueueScaling,
    ServiceConnect,
    ServicePlacement,
)
from components.spec import (
    DEFAULT_CPU_ARCHITECTURE,
    DEFAULT_LOG_RETENTION_DAYS,
    DROP_ALL_CAPABILITIES,
    INTERNAL,
    PLATFORM_BY_ARCHITECTURE,
    REQUIRED_TASK_EGRESS,
    WEB,
    WORKER,
    Deployment,
    EgressRule,
    ImageBuild,
    RolePlacement,
    ServiceSpec,
    check_args,
    spot_issues,
    web_address,
    web_url,
)
from components.task_definition import AppContainer, writable_mounts

ROLLING = Deployment()  # internal services and workers: no load balancer traffic to shift


@dataclass(frozen=True, kw_only=True)
class AppServiceArgs:
    """Settings of one service of the stack's `services`.

    spec: the service, as the config describes it (spec.ServiceSpec). Required.
    image: the main service's image, run when the service has neither build nor image. Required.
    placement: the stack's cluster and network (ServicePlacement); Spot and the on-demand base are
        the service's own. Required.
    listener: the stack's load balancer (LoadBalancerRoute without a route); the service's own
        paths, hosts and priority go on it. Required for a web service; default None.
    service_connect: the stack's namespace (ServiceConnect); an internal service publishes itself
        in it. Default None: the stack has no internal service.
    queue: a worker's own queue (components.queue). Required for a worker; default None.
    queue_urls: every worker's queue URL by its variable (<NAME>_QUEUE_URL), in the environment.
        Default none.
    queue_arns: every worker's queue, which the service may send to. Default none.
    deployment: the stack's deployment strategy: a web service's; the others deploy rolling.
        With blueGreen or canary a web service gets its own ECS infrastructure role, which its
        grant over its target groups and rule goes on: one shared role would hold every service's
        grant, and IAM allows a role 10,240 characters of inline policy (about ten services').
        Default rolling.
    cpu_architecture: the stack's; an image of its own is built for it. Default X86_64.
    enable_exec: ECS Exec into its tasks. Default False.
    dropped_capabilities: what its container drops (the stack's keepCapabilities decide). Default
        ALL, as AppContainer's.
    exec_sessions: with enable_exec, where the cluster records sessions and the key that encrypts
        them (components.exec_sessions), which its task role may use. Default None.
    egress: what its tasks may connect to: the stack's list (StackConfig.egress_rules). Default
        HTTPS to anywhere (spec.REQUIRED_TASK_EGRESS).
    base_url: the stack's address (https://app.example.com), for a web service's url. Default
        None: no url.
    depends_on: what its tasks must find when they start: the stack's internal services. Default
        none.
    log_retention_days, protect: as the main service's. Default 30 days, unprotected.
    alarm_topic_arn: the SNS topic its alarms notify (components.alarm_topic). Required.
    roles: where its roles go and their boundary. Default IAM's root path, no boundary.
    file_systems: the file systems its tasks mount (components.file_system: FileSystem.access),
        which its task role may mount and its tasks wait for. Default none.
    """

    spec: ServiceSpec
    image: pulumi.Input[str]
    placement: ServicePlacement
    alarm_topic_arn: pulumi.Input[str]
    listener: LoadBalancerRoute | None = None
    service_connect: ServiceConnect | None = None
    queue: WorkQueue | None = None
    queue_urls: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    queue_arns: tuple[pulumi.Input[str], ...] = ()
    deployment: Deployment = field(default_factory=Deployment)
    cpu_architecture: str = DEFAULT_CPU_ARCHITECTURE
    enable_exec: bool = False
    dropped_capabilities: tuple[str, ...] = DROP_ALL_CAPABILITIES
    exec_sessions: ExecSessionRecord | None = None
    egress: tuple[EgressRule, ...] = REQUIRED_TASK_EGRESS
    base_url: pulumi.Input[str] | None = None
    depends_on: tuple[pulumi.Resource, ...] = ()
    log_retention_days: int = DEFAULT_LOG_RETENTION_DAYS
    protect: bool = False
    roles: RolePlacement = field(default_factory=RolePlacement)
    file_systems: tuple[FileSystemAccess, ...] = ()

    def problems(self) -> list[str]:
        """What is wrong with these settings (empty when nothing is); the service's own settings
        are checked by the components it creates."""
        kind = self.spec.kind
        found = []
        if kind == WEB and (self.listener is None or self.spec.route is None):
            found.append("listener: a web service needs the load balancer and its route")
        if kind == WORKER and self.queue is None:
            found.append("queue: a worker needs its queue")
        if kind == INTERNAL and self.service_connect is None:
            found.append("service_connect: an internal service is reached through the namespace")
        found += [f"spec.{i.problem()}" for i in spot_issues(self.spec.spot, self.cpu_architecture)]
        if self.spec.build is not None and self.spec.image is not None:
            found.append("spec: build or image, not both")
        return found


class AppService(pulumi.ComponentResource):
    """Its image (when its own), TaskRoles (with its ECS infrastructure role when a web service
    shifts traffic), FargateService and Alarms, each named after it.

    Outputs:
        kind: web, internal or worker.
        service_name: the ECS service.
        url: a web service's address (spec.web_address), or None when its patterns name none.
        service_connect_url: an internal service's http://NAME:PORT, or None.
        queue_url: a worker's queue, or None.
        log_group_name, task_family: where it logs, what it runs.
        task_role_arn: its tasks' own role (a file system's policy names it).
    """

    def __init__(
        self, name: str, args: AppServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(f"AppService {name!r}", args.problems())
        super().__init__("fargate-app:services:AppService", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        spec = args.spec
        image: pulumi.Input[str] = args.image
        if spec.build is not None or spec.image is not None:
            image = ContainerImage(
                name,
                ContainerImageArgs(
                    build=spec.build or ImageBuild(),
                    platform=PLATFORM_BY_ARCHITECTURE[args.cpu_architecture],
                    prebuilt=spec.image,
                    protect=args.protect,
                ),
                child,
            ).image_ref
        statements = send_statements(list(args.queue_arns))
        if spec.kind == WORKER and args.queue is not None:
            statements += receive_statements(args.queue.arn)
        statements += [s for fs in args.file_systems for s in fs.statements]
        roles = TaskRoles(
            name,
            TaskRolesArgs(
                task_policy_statements=tuple(statements),
                secret_arns=tuple(spec.secrets.values()),
                enable_exec=args.enable_exec,
                exec_sessions=args.exec_sessions,
                load_balancer_infrastructure=spec.kind == WEB and args.deployment.shifts_traffic,
                roles=args.roles,
            ),
            child,
        )
        if args.queue is not None:
            args.queue.restrict_to(roles.task_role_arn)

        listener = args.listener
        route = (
            replace(
                listener,
                path_patterns=spec.route.paths,
                host_headers=spec.route.hosts,
                priority=spec.route.priority,
            )
            if spec.kind == WEB and listener is not None and spec.route is not None
            else None
        )
        connect = args.service_connect
        if connect is not None and spec.kind == INTERNAL:
            connect = replace(connect, publish=True)
        service = FargateService(
            name,
            FargateServiceArgs(
                container=AppContainer(
                    image=image,
                    command=spec.command,
                    port=spec.port,
                    health_check_path=spec.health_check_path,
                    env={**spec.env, **args.queue_urls},
                    secrets=dict(spec.secrets),
                    cpu_architecture=args.cpu_architecture,
                    enable_exec=args.enable_exec,
                    dropped_capabilities=args.dropped_capabilities,
                    user=spec.container_user,
                    read_only_root=spec.read_only_root,
                    # its writable paths (none with a writable root), and its file systems
                    mounts=(
                        *writable_mounts(spec.writable_paths),
                        *(fs.mount for fs in args.file_systems),
                    ),
                ),
                placement=replace(
                    args.placement, spot=spec.spot, on_demand_base=spec.on_demand_base
                ),
                load_balancer=route,
                service_connect=connect,
                queue=(
                    QueueScaling(queue_name=args.queue.name, backlog_per_task=spec.backlog_per_task)
                    if args.queue is not None
                    else None
                ),
                execution_role_arn=roles.execution_role_arn,
                task_role_arn=roles.task_role_arn,
                size=spec.size,
                scaling=spec.scaling,
                deployment=args.deployment if spec.kind == WEB else ROLLING,
                infrastructure_role_arn=roles.infrastructure_role_arn,
                infrastructure_role_name=roles.infrastructure_role_name,
                log_retention_days=args.log_retention_days,
                protect=args.protect,
                alarm_topic_arn=args.alarm_topic_arn,
                depends_on=(*args.depends_on, *(r for fs in args.file_systems for r in fs.ready)),
                egress=args.egress,
                client_security_group_ids=tuple(fs.security_group_id for fs in args.file_systems),
            ),
            child,
        )
        Alarms(
            name,
            AlarmsArgs(
                topic_arn=args.alarm_topic_arn,
                cluster_name=args.placement.cluster_name,
                service_name=service.service_name,
                lb_arn_suffix=route.arn_suffix if route is not None else None,
                target_group_arn_suffixes=tuple(service.target_group_arn_suffixes),
                queue=(
                    QueueWatch(
                        queue_name=args.queue.name,
                        dead_letter_queue_name=args.queue.dead_letter_name,
                    )
                    if args.queue is not None
                    else None
                ),
            ),
            child,
        )

        self.kind: str = spec.kind
        self.service_name: pulumi.Output[str] = service.service_name
        self.url: pulumi.Output[str] | None = None
        address = web_address(spec.route) if spec.route is not None else None
        if args.base_url is not None and address is not None:
            self.url = pulumi.Output.from_input(args.base_url).apply(
                lambda base: web_url(base, address)
            )
        self.service_connect_url: str | None = service.service_connect_url
        self.queue_url: pulumi.Output[str] | None = (
            args.queue.url if args.queue is not None else None
        )
        self.log_group_name: pulumi.Output[str] = service.log_group_name
        self.task_role_arn: pulumi.Output[str] = roles.task_role_arn
        self.task_family: pulumi.Output[str] = service.task_family
        self.register_outputs(
            {
                "kind": self.kind,
                "service_name": self.service_name,
                "url": self.url,
                "service_connect_url": self.service_connect_url,
                "queue_url": self.queue_url,
                "log_group_name": self.log_group_name,
                "task_role_arn": self.task_role_arn,
                "task_family": self.task_family,
            }
        )
