"""fargate-app: an app's source (app/, or `build`) to a load-balanced service on ECS Fargate, one
stack per environment.

config -> network -> image -> secrets -> (exec session record) -> the workers' queues -> file
systems -> roles -> cluster -> service namespace -> (certificate, access logs) -> load balancer ->
(web ACL) -> (CloudFront edge) -> (DNS) -> alarm topic -> internal services -> the app's container
-> service (with its deployment alarms) -> alarms -> web services and workers -> scheduled jobs ->
who may mount each file system -> outputs
"""

from dataclasses import replace
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components.access_logs import AccessLogBucket, AccessLogBucketArgs
from components.alarm_topic import AlarmTopic, AlarmTopicArgs
from components.alarms import Alarms, AlarmsArgs
from components.app_service import AppService, AppServiceArgs
from components.certificate import Certificate, CertificateArgs
from components.cluster import Cluster, ClusterArgs
from components.dns import AliasRecords, AliasRecordsArgs
from components.edge import Edge, EdgeArgs
from components.exec_sessions import ExecSessions, ExecSessionsArgs
from components.file_system import FileSystem, FileSystemAccess, FileSystemArgs
from components.image import ContainerImage, ContainerImageArgs
from components.load_balancer import LoadBalancer, LoadBalancerArgs
from components.namespace import ServiceNamespace, ServiceNamespaceArgs
from components.network import Network, NetworkArgs
from components.queue import WorkQueue, WorkQueueArgs, send_statements
from components.roles import TaskRoles, TaskRolesArgs
from components.scheduled_tasks import ScheduledTasks, ScheduledTasksArgs
from components.secrets import AppSecrets, AppSecretsArgs
from components.service import (
    FargateService,
    FargateServiceArgs,
    LoadBalancerRoute,
    ServiceConnect,
    ServicePlacement,
)
from components.spec import (
    CLOUDFRONT_REGION,
    FileSystemMount,
    ServiceSpec,
    queue_url_env,
    service_namespace_name,
    stack_tag_key,
)
from components.task_definition import AppContainer, writable_mounts
from components.web_acl import WebAcl, WebAclArgs
from stack_config import ConfigError, config_warnings, from_pulumi

try:
    cfg = from_pulumi()
except ConfigError as err:
    raise pulumi.RunError(str(err)) from None

# Pulumi runs the program in the project's directory: the Dockerfile the stack builds is there.
for warning in config_warnings(cfg, Path.cwd()):
    pulumi.log.warn(warning)
if cfg.sync_traffic_routing and cfg.deployment.shifts_traffic:
    pulumi.log.warn(
        "syncTrafficRouting is on: this pulumi up resets the service's live target group and the "
        "rule's weights; turn it off afterwards (pulumi config set syncTrafficRouting false)"
    )

# Every resource goes through this provider, so every taggable one carries these tags. The
# project-qualified stack tag comes last, so no setting can change it: the CI deploy roles reach a
# stack's resources by it (docs/security.md).
provider = aws.Provider(
    "aws",
    region=cfg.region,
    default_tags={
        "tags": {
            "project": cfg.project,
            "stack": cfg.stack,
            **cfg.tags,
            stack_tag_key(cfg.project): cfg.stack,
        }
    },
)
opts = pulumi.ResourceOptions(providers=[provider])

network = Network(
    "network",
    NetworkArgs(
        cidr=cfg.vpc_cidr,
        availability_zones=cfg.availability_zones,
        nat_gateways=cfg.nat_gateways,
        vpc_endpoints=cfg.vpc_endpoints,
        extra_endpoints=cfg.endpoint_services,
        other_accounts=cfg.other_accounts,
        flow_logs=cfg.flow_logs,
        flow_log_retention_days=cfg.log_retention_days,
        protect=cfg.deletion_protection,
        roles=cfg.roles,
        vpc_origin=cfg.cloudfront,
    ),
    opts,
)
image = ContainerImage(
    "app",
    ContainerImageArgs(
        build=cfg.build, platform=cfg.platform, prebuilt=cfg.image, protect=cfg.deletion_protection
    ),
    opts,
)
secrets = AppSecrets(
    "app", AppSecretsArgs(values=cfg.secret_values, protect=cfg.deletion_protection), opts
)
secret_arns: dict[str, pulumi.Input[str]] = {
    **cfg.secrets,
    **secrets.arns,
}  # env var name -> ARN, injected by ECS at start
# With ECS Exec, every session is recorded in an encrypted log group and encrypted with its own key.
exec_sessions = (
    ExecSessions(
        "exec",
        ExecSessionsArgs(
            log_retention_days=cfg.log_retention_days, protect=cfg.deletion_protection
        ),
        opts,
    )
    if cfg.enable_exec
    else None
)
# Each worker's queue (docs/services.md): every service gets its URL and may send to it.
queues = {
    s.name: WorkQueue(
        s.name,
        WorkQueueArgs(max_receives=s.max_receives, protect=cfg.deletion_protection),
        opts,
    )
    for s in cfg.workers
}
queue_urls: dict[str, pulumi.Input[str]] = {queue_url_env(n): q.url for n, q in queues.items()}
queue_arns = tuple(q.arn for q in queues.values())
# Persistent files (docs/file-systems.md): mount targets in the private subnets of the tasks' AZs.
file_systems = {
    fs.name: FileSystem(
        fs.name,
        FileSystemArgs(
            vpc_id=network.vpc_id,
            subnet_ids=dict(zip(network.azs, network.private_subnet_ids, strict=True)),
            user=fs.user,
            directory=fs.directory,
            infrequent_access_days=fs.infrequent_access_days,
            protect=cfg.deletion_protection,
        ),
        opts,
    )
    for fs in cfg.file_systems
}


def mounted(mounts: tuple[FileSystemMount, ...]) -> tuple[FileSystemAccess, ...]:
    """What a task needs for each file system it mounts."""
    return tuple(file_systems[m.file_system].access(m.path, m.read_only) for m in mounts)


main_mounts = mounted(cfg.mounts)
task_statements = tuple(send_statements(list(queue_arns)))
roles = TaskRoles(
    "app",
    TaskRolesArgs(
        task_policy_statements=(
            *task_statements,
            *(s for fs in main_mounts for s in fs.statements),
        ),
        secret_arns=tuple(secret_arns.values()),
        enable_exec=cfg.enable_exec,
        exec_sessions=exec_sessions.record if exec_sessions else None,
        load_balancer_infrastructure=cfg.deployment.shifts_traffic,
        roles=cfg.roles,
    ),
    opts,
)
cluster = Cluster(
    "cluster",
    ClusterArgs(
        container_insights=cfg.container_insights,
        exec_sessions=exec_sessions.record if exec_sessions else None,
    ),
    opts,
)
# Where the services find the internal ones (Service Connect).
namespace = (
    ServiceNamespace(
        "services",
        ServiceNamespaceArgs(
            vpc_id=network.vpc_id, name=service_namespace_name(cfg.project, cfg.stack)
        ),
        opts,
    )
    if cfg.service_connect
    else None
)
connect = (
    ServiceConnect(
        namespace_arn=namespace.namespace_arn,
        members_security_group_id=namespace.members_security_group_id,
    )
    if namespace
    else None
)
certificate = (
    Certificate(
        "domain",
        CertificateArgs(
            domain_name=cfg.domain_name,
            hosted_zone=cfg.hosted_zone,
            also_in_regions=cfg.certificate_regions,
        ),
        opts,
    )
    if cfg.domain_name
    else None
)
access_logs = (
    AccessLogBucket("alb-logs", AccessLogBucketArgs(protect=cfg.deletion_protection), opts)
    if cfg.access_logs
    else None
)
# Behind CloudFront the load balancer is internal, in the private subnets, reached only through
# the edge's VPC origin; otherwise it faces the internet from the public subnets.
lb = LoadBalancer(
    "web",
    LoadBalancerArgs(
        vpc_id=network.vpc_id,
        subnet_ids=network.private_subnet_ids if cfg.cloudfront else network.public_subnet_ids,
        internal=cfg.cloudfront,
        deletion_protection=cfg.deletion_protection,
        certificate_arn=certificate.certificate_arn if certificate else cfg.certificate_arn or None,
        access_logs=access_logs,
    ),
    opts,
)
web_acl = (
    WebAcl(
        "waf",
        WebAclArgs(
            scope=cfg.waf_scope,
            associate_with=None if cfg.cloudfront else lb.arn,
            rate_limit=cfg.waf_rate_limit,
            log_retention_days=cfg.log_retention_days,
            protect=cfg.deletion_protection,
        ),
        opts,
    )
    if cfg.waf
    else None
)
edge = (
    Edge(
        "edge",
        EdgeArgs(
            load_balancer_arn=lb.arn,
            load_balancer_dns_name=lb.dns_name,
            load_balancer_security_group_id=lb.security_group_id,
            vpc_id=network.vpc_id,
            origin_https=lb.https,
            origin_response_timeout_s=cfg.origin_response_timeout,
            cached_paths=cfg.cached_paths,
            domain_name=cfg.domain_name,
            certificate_arn=certificate.arn_in(CLOUDFRONT_REGION) if certificate else None,
            web_acl_arn=web_acl.arn if web_acl else None,
        ),
        opts,
    )
    if cfg.cloudfront
    else None
)
if certificate:
    AliasRecords(
        "domain",
        AliasRecordsArgs(
            zone_id=certificate.zone_id,
            domain_name=cfg.domain_name,
            target_dns_name=edge.domain_name if edge else lb.dns_name,
            target_zone_id=edge.hosted_zone_id if edge else lb.zone_id,
            evaluate_target_health=edge is None,
        ),
        opts,
    )
alarm_topic = AlarmTopic(
    "alarms",
    AlarmTopicArgs(
        email=cfg.alarm_email,
        encrypted=cfg.alarm_topic_encryption,
        protect=cfg.deletion_protection,
    ),
    opts,
)
# Where viewers reach the app: its own name, else CloudFront's, else the load balancer's.
url = f"https://{cfg.domain_name}" if cfg.domain_name else edge.url if edge else lb.url
placement = ServicePlacement(
    cluster_arn=cluster.cluster_arn,
    cluster_name=cluster.cluster_name,
    capacity_providers=cluster.capacity_providers,
    vpc_id=network.vpc_id,
    subnet_ids=network.task_subnet_ids,
    assign_public_ip=network.tasks_public_ip,
    spot=cfg.spot,
    on_demand_base=cfg.on_demand_base,
)
listener = LoadBalancerRoute(
    listener_arn=lb.listener_arn,
    security_group_id=lb.security_group_id,
    arn_suffix=lb.arn_suffix,
)


def app_service(spec: ServiceSpec, calls: tuple[pulumi.Resource, ...] = ()) -> AppService:
    """One of the stack's services, on the main service's cluster, network and load balancer."""
    return AppService(
        spec.name,
        AppServiceArgs(
            spec=spec,
            image=image.image_ref,
            placement=placement,
            alarm_topic_arn=alarm_topic.topic_arn,
            listener=listener,
            service_connect=connect,
            queue=queues.get(spec.name),
            queue_urls=queue_urls,
            queue_arns=queue_arns,
            deployment=cfg.deployment,
            infrastructure_role_arn=roles.infrastructure_role_arn,
            infrastructure_role_name=roles.infrastructure_role_name,
            cpu_architecture=cfg.cpu_architecture,
            enable_exec=cfg.enable_exec,
            exec_sessions=exec_sessions.record if exec_sessions else None,
            egress=cfg.egress_rules,
            base_url=url,
            depends_on=calls,
            log_retention_days=cfg.log_retention_days,
            protect=cfg.deletion_protection,
            roles=cfg.roles,
            file_systems=mounted(spec.mounts),
        ),
        opts,
    )


# Internal services first: a task resolves only the endpoints that existed when it started.
internal = {spec.name: app_service(spec) for spec in cfg.internal_services}
# The app's container, as the service and the scheduled jobs both run it.
container = AppContainer(
    image=image.image_ref,
    port=cfg.container_port,
    health_check_path=cfg.health_check_path,
    env={**cfg.env, **queue_urls},
    secrets=secret_arns,
    user=cfg.container_user,
    read_only_root=cfg.read_only_root_filesystem,
    mounts=(*writable_mounts(cfg.writable_paths), *(fs.mount for fs in main_mounts)),
    cpu_architecture=cfg.cpu_architecture,
    enable_exec=cfg.enable_exec,
)
service = FargateService(
    "app",
    FargateServiceArgs(
        container=container,
        placement=placement,
        load_balancer=(
            replace(listener, priority=cfg.main_rule_priority)
            if cfg.main_rule_priority
            else listener
        ),
        service_connect=connect,
        depends_on=(*internal.values(), *(r for fs in main_mounts for r in fs.ready)),
        execution_role_arn=roles.execution_role_arn,
        task_role_arn=roles.task_role_arn,
        size=cfg.task_size,
        scaling=cfg.scaling,
        deployment=cfg.deployment,
        infrastructure_role_arn=roles.infrastructure_role_arn,
        infrastructure_role_name=roles.infrastructure_role_name,
        log_retention_days=cfg.log_retention_days,
        protect=cfg.deletion_protection,
        alarm_topic_arn=alarm_topic.topic_arn,
        egress=cfg.egress_rules,
        client_security_group_ids=tuple(fs.security_group_id for fs in main_mounts),
    ),
    opts,
)
Alarms(
    "app",
    AlarmsArgs(
        topic_arn=alarm_topic.topic_arn,
        cluster_name=cluster.cluster_name,
        service_name=service.service_name,
        lb_arn_suffix=lb.arn_suffix,
        target_group_arn_suffixes=tuple(service.target_group_arn_suffixes),
    ),
    opts,
)
services = {
    **internal,
    **{
        spec.name: app_service(spec, tuple(internal.values()))
        for spec in (*cfg.web_services, *cfg.workers)
    },
}

# Scheduled jobs: the service's container (in its log group), placement and roles, run to
# completion on a timetable.
jobs = (
    ScheduledTasks(
        "jobs",
        ScheduledTasksArgs(
            tasks=cfg.scheduled_tasks,
            container=service.container,
            placement=service.task_placement,
            alarm_topic_arn=alarm_topic.topic_arn,
            roles=cfg.roles,
            protect=cfg.deletion_protection,
            file_systems={t.name: mounted(t.mounts) for t in cfg.scheduled_tasks if t.mounts},
            task_policy_statements=task_statements,
            secret_arns=tuple(secret_arns.values()),
            exec_sessions=exec_sessions.record if exec_sessions else None,
        ),
        opts,
    )
    if cfg.scheduled_tasks
    else None
)

# Each file system's policy names the task roles that mount it, which exist only now.
mounters = [
    *((roles.task_role_arn, m) for m in cfg.mounts),
    *((services[s.name].task_role_arn, m) for s in cfg.services for m in s.mounts),
    *((jobs.task_role_arns[t.name], m) for t in cfg.scheduled_tasks if jobs for m in t.mounts),
]
for fs_name, fs in file_systems.items():
    fs.restrict_to(
        writers=[arn for arn, m in mounters if m.file_system == fs_name and not m.read_only],
        readers=[arn for arn, m in mounters if m.file_system == fs_name and m.read_only],
    )

pulumi.export("url", url)
pulumi.export("clusterName", cluster.cluster_name)
pulumi.export("serviceName", service.service_name)
pulumi.export("imageRef", image.image_ref)
pulumi.export("logGroupName", service.log_group_name)
pulumi.export("repositoryUrl", image.repository_url)
if file_systems:
    pulumi.export(
        "fileSystems",
        {
            name: {"fileSystemId": fs.file_system_id, "accessPointId": fs.access_point_id}
            for name, fs in file_systems.items()
        },
    )
if jobs:
    pulumi.export(
        "scheduledTasks",
        {
            name: {
                "scheduleName": jobs.schedule_names[name],
                "taskFamily": jobs.task_families[name],
                "deadLetterQueueUrl": jobs.dead_letter_queue_urls[name],
            }
            for name in jobs.schedule_names
        },
    )
if services:
    pulumi.export(
        "services",
        {
            name: {
                "type": svc.kind,
                "serviceName": svc.service_name,
                **({"url": svc.url} if svc.url is not None else {}),
                **({"queueUrl": svc.queue_url} if svc.queue_url is not None else {}),
                **(
                    {"serviceConnectUrl": svc.service_connect_url}
                    if svc.service_connect_url is not None
                    else {}
                ),
                "logGroupName": svc.log_group_name,
            }
            for name, svc in services.items()
        },
    )
