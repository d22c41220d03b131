"""The settings table: every stack setting's key, type, default and meaning, the limits the loader
checks them against, and the typed `StackConfig` it returns.

Pulumi.yaml's `config:` block mirrors `SETTINGS` (tests keep the two in step).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from components.spec import (
    BAKE_TIME_MAX_MIN,
    CANARY_PERCENT_MAX,
    CANARY_PERCENT_MIN,
    CLOUDFRONT_REGION,
    CPU_ARCHITECTURES,
    CPU_TARGET_MAX,
    CPU_TARGET_MIN,
    DEFAULT_ALARM_TOPIC_ENCRYPTED,
    DEFAULT_AVAILABILITY_ZONES,
    DEFAULT_BAKE_TIME_MINUTES,
    DEFAULT_BUILD_CONTEXT,
    DEFAULT_CANARY_PERCENT,
    DEFAULT_CONTAINER_PORT,
    DEFAULT_CONTAINER_USER,
    DEFAULT_CPU,
    DEFAULT_CPU_ARCHITECTURE,
    DEFAULT_CPU_TARGET,
    DEFAULT_DEPLOYMENT_STRATEGY,
    DEFAULT_DOCKERFILE,
    DEFAULT_EDGE,
    DEFAULT_HEALTH_CHECK_PATH,
    DEFAULT_INFREQUENT_ACCESS_DAYS,
    DEFAULT_LOG_RETENTION_DAYS,
    DEFAULT_MEMORY_MIB,
    DEFAULT_NAT_GATEWAYS,
    DEFAULT_ON_DEMAND_BASE,
    DEFAULT_ORIGIN_RESPONSE_TIMEOUT_S,
    DEFAULT_READ_ONLY_ROOT,
    DEFAULT_TASK_COUNT,
    DEFAULT_VPC_CIDR,
    DEFAULT_WAF_RATE_LIMIT,
    DEFAULT_WRITABLE_PATHS,
    DEPLOYMENT_STRATEGIES,
    EDGE_MODES,
    FARGATE_ADDABLE_CAPABILITIES,
    FARGATE_MEMORY_BY_CPU,
    IMAGE_USER,
    INFREQUENT_ACCESS_DAYS,
    INTERNAL,
    MAX_AZS,
    MAX_PORT,
    MIN_AZS,
    NAT_MODE_CHOICES,
    ORIGIN_RESPONSE_TIMEOUT_MAX_S,
    ORIGIN_RESPONSE_TIMEOUT_MIN_S,
    PLATFORM_BY_ARCHITECTURE,
    PROTECTED_RECOVERY_WINDOW_DAYS,
    REQUIRED_TASK_EGRESS,
    RUNTIME_DEFAULT_CAPABILITIES,
    SPOT_CPU_ARCHITECTURES,
    UNPRIVILEGED_PORT_START,
    VPC_PREFIX_MAX,
    VPC_PREFIX_MIN,
    WAF_RATE_LIMIT_MAX,
    WAF_RATE_LIMIT_MIN,
    WAF_RATE_WINDOW_S,
    WEB,
    WORKER,
    Deployment,
    EgressRule,
    FileSystemMount,
    FileSystemSpec,
    ImageBuild,
    ImageRef,
    RolePlacement,
    Scaling,
    ScheduledTask,
    ServiceSpec,
    TaskSize,
    capabilities_to_drop,
    joined,
    service_connect_egress,
    stack_role_path,
    tasks_are_private,
)
from stack_config.routes import CATCH_ALL_PRIORITY

PROJECT = "fargate-app"
RESERVED_TAGS = frozenset({"project", "stack"})
# The policy pack's mandatory policies (policy/security_controls), which a stack may waive in
# `policyWaivers`; tests/test_policy.py keeps this list and the pack's in step.
WAIVABLE_POLICIES = (
    "ecs-no-public-ip",
    "ecs-container-not-privileged",
    "ecs-no-added-capabilities",
    "ecs-container-read-only-root",
    "ecs-no-secrets-in-environment",
    "ecs-container-logging",
    "ecs-container-non-root-user",
    "ecs-cluster-container-insights",
    "ecr-scan-on-push",
    "ecr-immutable-tags",
    "ecr-lifecycle-policy",
    "elb-http-redirects-to-https",
    "elb-https-in-prod",
    "elb-drop-invalid-headers",
    "elb-access-logs",
    "elb-access-log-bucket",
    "elb-deletion-protection",
    "cloudfront-viewers-https",
    "cloudfront-tls-to-origin",
    "cloudfront-origin-tls-modern",
    "waf-in-prod",
    "waf-acl-has-rules",
    "waf-logging",
    "waf-rule-metrics",
    "ec2-default-sg-no-rules",
    "ec2-default-sg-closed",
    "ec2-sg-open-only-on-listener-ports",
    "ec2-subnet-no-auto-public-ip",
    "ec2-vpc-flow-logs",
    "iam-no-wildcard-grants",
    "iam-no-public-trust",
    "kms-key-rotation",
    "sns-topic-encrypted",
    "sqs-queue-encrypted",
    "efs-encrypted",
    "efs-backups",
    "efs-access-point-root-directory",
    "efs-access-point-user",
    "prod-stateful-resources-protected",
)
# The two a stack gives up when its container runs as root or writes its root file system.
NON_ROOT_POLICY = "ecs-container-non-root-user"
READ_ONLY_ROOT_POLICY = "ecs-container-read-only-root"
WAIVER_REASON_MIN_CHARS = 10  # a reason a reviewer can judge, not "x" or "temp"
# Names that look like they hold a secret (Security Hub ECS.8): such values belong in `secrets`.
SECRET_NAME_PARTS = ("PASSWORD", "PASSWD", "SECRET", "TOKEN", "KEY", "CREDENTIAL")
# ...and whole words of a name (split at _) too short to look for inside others: DB_PASS, DB_PWD,
# AWS_CREDS, but not PASSTHROUGH or COMPASS.
SECRET_NAME_WORDS = ("PASS", "PWD", "CREDS")
# Names Security Hub ECS.8 checks that hold no such part: the ECS agent's registry credentials.
SECRET_ENV_NAMES = ("ECS_ENGINE_AUTH_DATA",)


def secret_env_reason(name: str) -> str | None:
    """Why an environment variable `name` must not hold its value in `env` (plain text), or None."""
    if name.upper() in SECRET_ENV_NAMES:
        return "it holds credentials (Security Hub ECS.8 checks this name)"
    if hint := secret_name_hint(name):
        return f"it looks like a secret (its name contains {hint})"
    return None


DNS_NAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$"
)
ACM_ARN = re.compile(
    r"^arn:aws[a-z-]*:acm:(?P<region>[a-z0-9-]+):\d{12}:certificate/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)
# Secrets Manager: ...:secret:<name>[:json-key:version-stage:version-id]; SSM: ...:parameter/<name>.
SECRET_ARN = re.compile(
    r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+(:[^:]*:[^:]*:[^:]*)?$"
)
SSM_ARN = re.compile(r"^arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter/[A-Za-z0-9/_.-]+$")
TAG_KEY_MAX, TAG_VALUE_MAX = 128, 256  # AWS tag limits
REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")
# <account>.dkr.ecr.<region>.amazonaws.com/<repo>(:tag|@sha256:digest)
ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/"
    r"(?P<repository>[a-z0-9]+(?:[._/-][a-z0-9]+)*)"
    r"(?:@(?P<digest>sha256:[0-9a-f]{64})|:(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))$"
)


def unreachable_image(image_region: str, region: str, private_without_nat: bool) -> str | None:
    """Why the tasks could not pull an ECR image from `image_region`, or None when they can:
    private tasks without NAT reach ECR only through the VPC's endpoints, which serve the stack's
    own region (VPC endpoints do not serve other regions' APIs)."""
    if not private_without_nat or not region or image_region == region:
        return None
    return (
        f"private tasks here reach ECR only through this VPC's endpoints in {region}; "
        f"use an image from {region} or set natGateways single or perAz"
    )


def secret_name_hint(name: str) -> str | None:
    """What in `name` reads as a secret's (SECRET_NAME_PARTS, SECRET_NAME_WORDS), or None. The
    policy pack's ECS.8 check reads names the same way (tests/test_policy.py holds them in step)."""
    upper = name.upper()
    part = next((p for p in SECRET_NAME_PARTS if p in upper), None)
    word = next((w for w in SECRET_NAME_WORDS if w in upper.split("_")), None)
    return part or word


@dataclass(frozen=True)
class Setting:
    """One stack setting: its key under the project namespace, schema type, default and meaning."""

    key: str
    # Pulumi.yaml schema type: string, integer, boolean, array (of strings); "map" has no Pulumi
    # schema type
    type: str
    default: Any
    description: str


SETTINGS: tuple[Setting, ...] = (
    Setting("vpcCidr", "string", DEFAULT_VPC_CIDR, f"IPv4 CIDR of the VPC, /{VPC_PREFIX_MIN} to /{VPC_PREFIX_MAX}; subnets are carved from it."),
    Setting("availabilityZones", "integer", DEFAULT_AVAILABILITY_ZONES, f"How many AZs to spread subnets, NAT and tasks over: {MIN_AZS} to {MAX_AZS}."),
    Setting("natGateways", "string", DEFAULT_NAT_GATEWAYS, joined([f"{m.name} ({m.meaning})" for m in NAT_MODE_CHOICES]) + "."),
    Setting("vpcEndpoints", "boolean", False, "Add S3, ECR and CloudWatch Logs endpoints so private tasks need no NAT."),
    Setting("endpointAccounts", "map", {}, "With vpcEndpoints: further AWS accounts whose resources the endpoint policies admit, name -> 12-digit account ID (quoted, leading zeros kept), such as the regional account of an AWS-owned ECR repository the tasks pull from: GuardDuty's Fargate runtime monitoring agent's (GuardDuty user guide, 'Amazon ECR repository hosting GuardDuty agent'). This account and those of the images and secrets the settings name are admitted already."),
    Setting("cpu", "integer", DEFAULT_CPU, f"Task CPU units: {joined(tuple(map(str, FARGATE_MEMORY_BY_CPU)))}."),
    Setting("memory", "integer", DEFAULT_MEMORY_MIB, "Task memory in MiB; must be a valid Fargate pairing with cpu."),
    Setting("cpuArchitecture", "string", DEFAULT_CPU_ARCHITECTURE, f"{joined(CPU_ARCHITECTURES)} (Graviton, ~20% cheaper; Fargate Spot runs only {joined(SPOT_CPU_ARCHITECTURES)})."),
    Setting("desiredCount", "integer", DEFAULT_TASK_COUNT, "Tasks to run; with autoscaling, the count at first deploy."),
    Setting("minCount", "integer", DEFAULT_TASK_COUNT, "Autoscaling lower bound."),
    Setting("maxCount", "integer", DEFAULT_TASK_COUNT, "Autoscaling upper bound; autoscaling is on when it exceeds minCount."),
    Setting("cpuTarget", "integer", DEFAULT_CPU_TARGET, f"Average service CPU percent that target tracking holds: {CPU_TARGET_MIN} to {CPU_TARGET_MAX}."),
    Setting("spot", "boolean", False, "Run tasks beyond onDemandBase on Fargate Spot (about 70% cheaper, may be interrupted)."),
    Setting("onDemandBase", "integer", DEFAULT_ON_DEMAND_BASE, "Tasks always kept on on-demand Fargate when spot is on: 0 to maxCount."),
    Setting("containerPort", "integer", DEFAULT_CONTAINER_PORT, f"Port the app listens on: 1 to {MAX_PORT}. Below {UNPRIVILEGED_PORT_START} the task lowers Linux's privileged-port bound in its own network namespace, so the non-root app may bind it."),
    Setting("healthCheckPath", "string", DEFAULT_HEALTH_CHECK_PATH, "Path the load balancer health check requests; starts with /."),
    Setting("logRetentionDays", "integer", DEFAULT_LOG_RETENTION_DAYS, "Days CloudWatch keeps the app's logs; one of CloudWatch's allowed values."),
    Setting("containerInsights", "boolean", False, "Enable CloudWatch Container Insights on the cluster (billed per metric)."),
    Setting("deletionProtection", "boolean", False, f"Protect what holds data from deletion (pulumi protect): the ECR repository, log groups, access-log bucket, the worker and dead-letter queues, the KMS keys (deletable only after KMS's longest wait, 30 days) and secrets (with a {PROTECTED_RECOVERY_WINDOW_DAYS}-day recovery window); also the load balancer's own deletion protection (ELB.6). Set true in prod."),
    Setting("image", "string", "", "A prebuilt ECR image (URI with :tag or @sha256:digest) to deploy instead of building one (build); empty builds."),
    Setting("build", "map", {"context": DEFAULT_BUILD_CONTEXT, "dockerfile": DEFAULT_DOCKERFILE}, "The image built when image is empty: {context, dockerfile}, paths relative to the project (the directory of Pulumi.yaml); dockerfile defaults to <context>/Dockerfile and may lie outside the context. The image's tag hashes the context (as its .dockerignore filters it) and the Dockerfile, so it changes exactly when they do."),
    Setting("containerUser", "string", DEFAULT_CONTAINER_USER, f"The numeric uid:gid the container runs as, stated in the task definition so that ECS and the policy pack see it is not root; or {IMAGE_USER} for the image's own USER. Root (uid 0) or {IMAGE_USER} needs policyWaivers.{NON_ROOT_POLICY}. Default: the sample image's non-root user."),
    Setting("readOnlyRootFilesystem", "boolean", DEFAULT_READ_ONLY_ROOT, f"The container's root file system is read-only (Security Hub ECS.5): it can write only writablePaths. false needs policyWaivers.{READ_ONLY_ROOT_POLICY}."),
    Setting("writablePaths", "array", list(DEFAULT_WRITABLE_PATHS), "With a read-only root, the absolute paths the app may write: each is empty task storage, gone with the task. ECS mounts each owned by root with mode 0755 unless the image declares it a VOLUME (then it keeps the image's owner and mode), so a non-root app needs the VOLUME (docs/own-app.md)."),
    Setting("env", "map", {}, "Environment variables for the app: names of letters, digits and _, not starting with a digit; secret-looking names belong in secrets."),
    Setting("domainName", "string", "", "DNS name for the app (app.example.com): an ACM certificate validated by DNS and A/AAAA alias records in hostedZone; needs hostedZone."),
    Setting("hostedZone", "string", "", "Route 53 public hosted zone name that holds domainName (example.com)."),
    Setting("certificateArn", "string", "", "An existing ACM certificate (same region) for HTTPS, instead of domainName/hostedZone."),
    Setting("secrets", "map", {}, "Env var name -> Secrets Manager secret ARN (optionally with :json-key::) or SSM parameter ARN, injected as container secrets."),
    Setting("secretValues", "map", {}, "Env var name -> value kept in Pulumi's encrypted config (`pulumi config set --secret --path 'secretValues.NAME' VALUE`; values in plain text are refused); the program stores each in Secrets Manager and injects it as a container secret."),
    Setting("alarmEmail", "string", "", "Email address subscribed to the alarms' SNS topic; empty subscribes nobody."),
    Setting("alarmTopicEncryption", "boolean", DEFAULT_ALARM_TOPIC_ENCRYPTED, "Encrypt alarm notifications with the topic's own KMS key (about $1/month; CloudWatch cannot publish to the aws/sns key)."),
    Setting("deploymentStrategy", "string", DEFAULT_DEPLOYMENT_STRATEGY, f"{joined(DEPLOYMENT_STRATEGIES)}: ECS's native deployment strategies."),
    Setting("bakeTimeMinutes", "integer", DEFAULT_BAKE_TIME_MINUTES, f"blueGreen/canary: minutes the new tasks serve before the old ones go (0 to {BAKE_TIME_MAX_MIN}); a canary bakes twice, before and after the full shift."),
    Setting("canaryPercent", "integer", DEFAULT_CANARY_PERCENT, f"canary: percent of traffic the new tasks get first ({CANARY_PERCENT_MIN} to {CANARY_PERCENT_MAX})."),
    Setting("syncTrafficRouting", "boolean", False, "blueGreen/canary: for one pulumi up, write the service's target groups and the listener rule's weights as the program has them, though ECS owns them between deploys. Set it to switch a running service from rolling, then set it back to false."),
    Setting("enableExec", "boolean", False, "ECS Exec into running tasks for debugging."),
    Setting("keepCapabilities", "map", {}, f"Linux capabilities every container keeps, of the runtime's default set ({joined(RUNTIME_DEFAULT_CAPABILITIES)}): name -> why the image or ECS Exec needs it. Empty drops them all; keeping some drops the other defaults instead. None can be added: Fargate admits adding only {joined(FARGATE_ADDABLE_CAPABILITIES)}, and the policy pack refuses that too."),
    Setting("edge", "string", DEFAULT_EDGE, f"How viewers reach the app: {joined(EDGE_MODES)}. none: an internet-facing load balancer. cloudfront: a CloudFront distribution, HTTPS on its own *.cloudfront.net name with no domain needed (or on domainName), reaching an internal load balancer in the private subnets through a VPC origin; viewers are redirected to HTTPS and nothing is cached but cachedPaths. Moving a deployed stack replaces its load balancer: docs/edge.md."),
    Setting("cachedPaths", "array", [], "edge cloudfront: CloudFront path patterns (such as /static/*) whose responses CloudFront caches as the app's Cache-Control says (AWS's managed CachingOptimized policy); every other request reaches the app uncached."),
    Setting("originResponseTimeout", "integer", DEFAULT_ORIGIN_RESPONSE_TIMEOUT_S, f"edge cloudfront: seconds CloudFront waits for the app's response before it answers 504: {ORIGIN_RESPONSE_TIMEOUT_MIN_S} to {ORIGIN_RESPONSE_TIMEOUT_MAX_S} (above {ORIGIN_RESPONSE_TIMEOUT_MAX_S} needs a CloudFront quota increase)."),
    Setting("waf", "boolean", False, "An AWS WAF web ACL with AWS's managed Common, KnownBadInputs and Amazon IP reputation rules and a per-IP rate limit, logged to CloudWatch (aws-waf-logs-...): on the distribution with edge cloudfront, else on the load balancer. Billed per ACL and rule each month and per request (the plan prices it); set true in prod."),
    Setting("wafRateLimit", "integer", DEFAULT_WAF_RATE_LIMIT, f"waf: requests one client IP may send in {WAF_RATE_WINDOW_S // 60} minutes before WAF blocks it: {WAF_RATE_LIMIT_MIN} to {WAF_RATE_LIMIT_MAX:,}."),
    Setting("accessLogs", "boolean", False, "ALB access logs to an encrypted, private S3 bucket (Security Hub ELB.5); costs S3 storage."),
    Setting("flowLogs", "boolean", False, "VPC flow logs to CloudWatch Logs (Security Hub EC2.6); costs log ingestion."),
    Setting("scheduledTasks", "map", {}, "Jobs run on a timetable: name -> {schedule: cron(...), rate(...) or at(...), command, cpu, memory, timezone, enabled, mounts}; cpu/memory default to the service's."),
    Setting("services", "map", {}, "The stack's other services on the same cluster and load balancer: name -> {type: web, internal or worker, command, containerPort, healthCheckPath, cpu, memory, desiredCount, minCount, maxCount, cpuTarget, spot, onDemandBase, env, secrets, build or image, containerUser, readOnlyRootFilesystem, writablePaths, mounts; web: path and/or host (with edge cloudfront, a host must match domainName); worker: backlogPerTask, maxReceives}; unset sizes, counts and container settings are the main service's (docs/services.md)."),
    Setting("fileSystems", "map", {}, f"Persistent, shared files: name -> an EFS file system {{user: the numeric uid:gid its access point acts as (default the container user, which it must equal), infrequentAccessDays: {joined(tuple(map(str, INFREQUENT_ACCESS_DAYS)))} (default {DEFAULT_INFREQUENT_ACCESS_DAYS})}}: encrypted, elastic throughput, reached over TLS with IAM through its access point by the tasks that mount it only; backed up and protected with deletionProtection (docs/file-systems.md)."),
    Setting("mounts", "map", {}, "The main service's file systems: name in fileSystems -> the absolute path its container sees it at, or {path, readOnly}. services.NAME.mounts and scheduledTasks.NAME.mounts take the same, each task mounting its own."),
    Setting("tags", "map", {}, "Extra tags for every resource; keys may not start with aws:."),
    Setting("permissionsBoundary", "string", "", "ARN of the IAM managed policy set as the permissions boundary of every role the program creates (the bootstrap outputs it per stack: stackSettings.<stack>.permissionsBoundary; its deploy roles create roles only with it). Empty: no boundary, for a stack deployed without the bootstrap. Roles always go under the IAM path /<project>/<stack>/."),
    Setting("taskEgress", "map", {}, "Connections the app's tasks may open beyond HTTPS to anywhere (all they need otherwise; DNS needs no rule): name -> {port: 5432 or a range 8000-8100, protocol: tcp (default) or udp, cidr: where to, description}. Each becomes an egress rule of the tasks' security group, shown in the plan."),
    Setting("policyWaivers", "map", {}, "Policy-pack policies this stack gives up: policy name -> the reason (at least 10 characters), e.g. ecs-container-non-root-user: 'the vendor image runs as root'. The pack then reports that policy as advisory, with the reason, instead of failing; the plan lists the waivers. Default none: every mandatory policy is enforced."),
)  # fmt: skip
SETTINGS_BY_KEY = {s.key: s for s in SETTINGS}
SECRET_SETTINGS = frozenset({"secretValues"})  # never echoed in an error


@dataclass(frozen=True, kw_only=True)
class StackConfig:
    """The validated settings of one stack, one field a setting (plus project, stack and region).

    Every field is required: `load_config()` is its one constructor and fills each from the stack's
    config or the setting's default in `SETTINGS`, the one place defaults are written.
    """

    project: str
    stack: str
    region: str
    vpc_cidr: str
    availability_zones: int
    nat_gateways: str
    vpc_endpoints: bool
    endpoint_accounts: Mapping[str, str]
    cpu: int
    memory: int
    cpu_architecture: str
    desired_count: int
    min_count: int
    max_count: int
    cpu_target: int
    spot: bool
    on_demand_base: int
    container_port: int
    health_check_path: str
    log_retention_days: int
    container_insights: bool
    deletion_protection: bool
    image: ImageRef | None
    build: ImageBuild
    # None: the image's own USER (containerUser `image`)
    container_user: str | None
    read_only_root_filesystem: bool
    # Empty with a writable root: only a read-only root needs them.
    writable_paths: tuple[str, ...]
    env: Mapping[str, str]
    tags: Mapping[str, str]
    domain_name: str
    hosted_zone: str
    certificate_arn: str
    secrets: Mapping[str, str]
    secret_values: Mapping[str, str]
    alarm_email: str
    alarm_topic_encryption: bool
    deployment_strategy: str
    bake_time_minutes: int
    canary_percent: int
    sync_traffic_routing: bool
    enable_exec: bool
    keep_capabilities: Mapping[str, str]
    access_logs: bool
    flow_logs: bool
    scheduled_tasks: tuple[ScheduledTask, ...]
    services: tuple[ServiceSpec, ...]
    permissions_boundary: str
    policy_waivers: Mapping[str, str]
    task_egress: tuple[EgressRule, ...]
    file_systems: tuple[FileSystemSpec, ...]
    mounts: tuple[FileSystemMount, ...]
    edge: str
    cached_paths: tuple[str, ...]
    origin_response_timeout: int
    waf: bool
    waf_rate_limit: int

    @property
    def endpoint_services(self) -> tuple[str, ...]:
        """Interface endpoints that private tasks without a NAT need beyond ECR and Logs, for the
        features turned on: secrets are fetched at task start, exec opens SSM sessions and
        decrypts them with its KMS key (components.exec_sessions), every service may send to the
        workers' queues."""
        arns = [*self.secrets.values(), *(a for s in self.services for a in s.secrets.values())]
        services = []
        if self.secret_values or any(SECRET_ARN.match(a) for a in arns):
            services.append("secretsmanager")
        if any(SSM_ARN.match(a) for a in arns):
            services.append("ssm")
        if self.enable_exec:
            services += ["ssmmessages", "kms"]
        if self.workers:
            services.append("sqs")
        return tuple(services)

    def services_of(self, kind: str) -> tuple[ServiceSpec, ...]:
        return tuple(s for s in self.services if s.kind == kind)

    @property
    def web_services(self) -> tuple[ServiceSpec, ...]:
        return self.services_of(WEB)

    @property
    def internal_services(self) -> tuple[ServiceSpec, ...]:
        return self.services_of(INTERNAL)

    @property
    def workers(self) -> tuple[ServiceSpec, ...]:
        return self.services_of(WORKER)

    @property
    def service_connect(self) -> bool:
        """Every service joins the stack's Service Connect namespace when it has an internal one."""
        return bool(self.internal_services)

    @property
    def main_rule_priority(self) -> int | None:
        """The main service's catch-all rule goes last once web services have rules of their own;
        None: the component's default."""
        return CATCH_ALL_PRIORITY if self.web_services else None

    @property
    def egress_rules(self) -> tuple[EgressRule, ...]:
        """Everything the tasks may connect to: HTTPS to anywhere, what the stack's features need
        (Service Connect: each internal service's port, in the VPC; a file system would add NFS
        here), then taskEgress."""
        return (*REQUIRED_TASK_EGRESS, *self.connect_egress, *self.task_egress)

    @property
    def connect_egress(self) -> tuple[EgressRule, ...]:
        """Every service is a Service Connect client: it reaches the internal services' ports."""
        return service_connect_egress(
            [(s.name, s.port) for s in self.internal_services if s.port is not None],
            self.vpc_cidr,
        )

    @property
    def dropped_capabilities(self) -> tuple[str, ...]:
        """What every container drops: ALL, or the runtime's defaults but keepCapabilities."""
        return capabilities_to_drop(self.keep_capabilities)

    @property
    def all_mounts(self) -> tuple[FileSystemMount, ...]:
        """Every task's mounts: the main service's, each service's and each job's."""
        return (
            *self.mounts,
            *(m for s in self.services for m in s.mounts),
            *(m for t in self.scheduled_tasks for m in t.mounts),
        )

    @property
    def unmounted_file_systems(self) -> tuple[str, ...]:
        """File systems no task mounts: they cost their storage and serve nobody (a warning)."""
        used = {m.file_system for m in self.all_mounts}
        return tuple(fs.name for fs in self.file_systems if fs.name not in used)

    @property
    def warnings(self) -> tuple[str, ...]:
        """What the program warns about (pulumi.log.warn) and the plan shows: allowed, but
        probably not meant."""
        return tuple(
            f"fileSystems.{name}: no task mounts it (mounts, services.NAME.mounts or "
            "scheduledTasks.NAME.mounts); it keeps its files and their cost, serving nobody"
            for name in self.unmounted_file_systems
        )

    @property
    def other_accounts(self) -> tuple[str, ...]:
        """The accounts the settings name whose resources the tasks use: every prebuilt image's
        registry and every referenced secret's, the main service's and each of `services`', and
        endpointAccounts (the VPC endpoints admit these besides the stack's own; the account
        deployed to is not known here, so it may be among them)."""
        arns = [*self.secrets.values(), *(a for s in self.services for a in s.secrets.values())]
        images = [self.image, *(s.image for s in self.services)]
        accounts = {arn.split(":")[4] for arn in arns}
        accounts.update(image.account for image in images if image is not None)
        accounts.update(self.endpoint_accounts.values())
        return tuple(sorted(accounts))

    @property
    def roles(self) -> RolePlacement:
        """Every role under the stack's own IAM path, with the stack's boundary when set."""
        return RolePlacement(
            path=stack_role_path(self.project, self.stack),
            permissions_boundary=self.permissions_boundary or None,
        )

    @property
    def https(self) -> bool:
        """The load balancer serves HTTPS when a certificate is configured or created."""
        return bool(self.certificate_arn or self.domain_name)

    @property
    def cloudfront(self) -> bool:
        """Viewers reach the app through CloudFront, and the load balancer is internal."""
        return self.edge == "cloudfront"

    @property
    def certificate_regions(self) -> tuple[str, ...]:
        """Regions besides the stack's own that need the domain's certificate: CloudFront's, when
        it serves domainName and the stack is elsewhere."""
        if self.cloudfront and self.domain_name and self.region != CLOUDFRONT_REGION:
            return (CLOUDFRONT_REGION,)
        return ()

    @property
    def waf_scope(self) -> str:
        """Where the web ACL sits: on the distribution (CLOUDFRONT), else on the load balancer."""
        return "CLOUDFRONT" if self.cloudfront else "REGIONAL"

    @property
    def private_tasks(self) -> bool:
        """Tasks run in private subnets without public IPs whenever they have a private way out."""
        return tasks_are_private(self.nat_gateways, self.vpc_endpoints)

    @property
    def platform(self) -> str:
        """The Docker platform matching the task's CPU architecture."""
        return PLATFORM_BY_ARCHITECTURE[self.cpu_architecture]

    @property
    def task_size(self) -> TaskSize:
        """The service's task size (and each scheduled job's unless it sets its own)."""
        return TaskSize(cpu=self.cpu, memory=self.memory)

    @property
    def scaling(self) -> Scaling:
        return Scaling(
            desired_count=self.desired_count,
            min_count=self.min_count,
            max_count=self.max_count,
            cpu_target=self.cpu_target,
        )

    @property
    def autoscaling(self) -> bool:
        return self.scaling.autoscaling

    @property
    def deployment(self) -> Deployment:
        return Deployment(
            strategy=self.deployment_strategy,
            bake_time_minutes=self.bake_time_minutes,
            canary_percent=self.canary_percent,
            sync_traffic_routing=self.sync_traffic_routing,
        )
