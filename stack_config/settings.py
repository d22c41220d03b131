"""The settings table: every stack setting's key, type, default and meaning, the limits the loader
checks them against, and the typed `StackConfig` it returns.

Pulumi.yaml's `config:` block mirrors `SETTINGS` (tests keep the two in step).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from components.spec import ImageRef, ScheduledTask, subnet_new_bits

PROJECT = "fargate-app"

# Fargate's task CPU/memory pairings, in CPU units -> allowed MiB.
# Source: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
FARGATE_MEMORY_BY_CPU: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}

# CloudWatch Logs accepts only these retention periods (days).
# Source: https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip

MIN_AZS = 2  # an ALB must span at least two AZs
MAX_AZS = 6  # the subnet plan reserves room for six; no AWS region has more usable AZs
VPC_PREFIX_MIN = 16  # AWS's largest VPC CIDR block
VPC_PREFIX_MAX = 24  # the smallest VPC in which an ALB's subnets (at least /27 each) still fit
CPU_TARGET_MIN, CPU_TARGET_MAX = 10, 90  # below 10% thrashes; above 90% leaves no headroom to scale
NAT_MODES = ("none", "single", "perAz")
CPU_ARCHITECTURES = ("X86_64", "ARM64")
# Set by the program from other settings; a user value in `env` would silently disagree with them.
RESERVED_ENV = frozenset({"PORT", "HEALTH_CHECK_PATH", "GRACEFUL_TIMEOUT"})
RESERVED_TAGS = frozenset({"project", "stack"})
# Names that look like they hold a secret (Security Hub ECS.8): such values belong in `secrets`.
SECRET_NAME_PARTS = ("PASSWORD", "SECRET", "TOKEN", "KEY")
# Names Security Hub ECS.8 checks that hold no such part: the ECS agent's registry credentials.
SECRET_ENV_NAMES = ("ECS_ENGINE_AUTH_DATA",)
DEPLOYMENT_STRATEGIES = ("rolling", "blueGreen", "canary")
BAKE_TIME_MAX_MIN = 1440  # ECS's limit
CANARY_PERCENT_MIN, CANARY_PERCENT_MAX = 1, 99
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
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
TAG_KEY_MAX, TAG_VALUE_MAX = 128, 256  # AWS tag limits
REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")
# <account>.dkr.ecr.<region>.amazonaws.com/<repo>(:tag|@sha256:digest)
ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/"
    r"(?P<repository>[a-z0-9]+(?:[._/-][a-z0-9]+)*)"
    r"(?:@(?P<digest>sha256:[0-9a-f]{64})|:(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))$"
)


@dataclass(frozen=True)
class Setting:
    """One stack setting: its key under the project namespace, schema type, default and meaning."""

    key: str
    type: str  # Pulumi.yaml schema type: string, integer, boolean; "map" has no Pulumi schema type
    default: Any
    description: str


SETTINGS: tuple[Setting, ...] = (
    Setting("vpcCidr", "string", "10.0.0.0/16", "IPv4 CIDR of the VPC, /16 to /24; subnets are carved from it."),
    Setting("availabilityZones", "integer", 2, "How many AZs to spread subnets, NAT and tasks over: 2 to 6."),
    Setting("natGateways", "string", "none", "none (tasks in public subnets, no NAT cost), single or perAz (tasks in private subnets)."),
    Setting("vpcEndpoints", "boolean", False, "Add S3, ECR and CloudWatch Logs endpoints so private tasks need no NAT."),
    Setting("cpu", "integer", 256, "Task CPU units: 256, 512, 1024, 2048, 4096, 8192 or 16384."),
    Setting("memory", "integer", 512, "Task memory in MiB; must be a valid Fargate pairing with cpu."),
    Setting("cpuArchitecture", "string", "X86_64", "X86_64 or ARM64 (Graviton, ~20% cheaper; Fargate Spot runs only X86_64)."),
    Setting("desiredCount", "integer", 1, "Tasks to run; with autoscaling, the count at first deploy."),
    Setting("minCount", "integer", 1, "Autoscaling lower bound."),
    Setting("maxCount", "integer", 1, "Autoscaling upper bound; autoscaling is on when it exceeds minCount."),
    Setting("cpuTarget", "integer", 60, "Average service CPU percent that target tracking holds: 10 to 90."),
    Setting("spot", "boolean", False, "Run tasks beyond onDemandBase on Fargate Spot (about 70% cheaper, may be interrupted)."),
    Setting("onDemandBase", "integer", 0, "Tasks always kept on on-demand Fargate when spot is on: 0 to maxCount."),
    Setting("containerPort", "integer", 8000, "Port the app listens on: 1 to 65535. Below 1024 the task lowers Linux's privileged-port bound in its own network namespace, so the non-root app may bind it."),
    Setting("healthCheckPath", "string", "/health", "Path the load balancer health check requests; starts with /."),
    Setting("logRetentionDays", "integer", 30, "Days CloudWatch keeps the app's logs; one of CloudWatch's allowed values."),
    Setting("containerInsights", "boolean", False, "Enable CloudWatch Container Insights on the cluster (billed per metric)."),
    Setting("deletionProtection", "boolean", False, "Protect what holds data from deletion (pulumi protect): the ECR repository, log groups, access-log bucket and secrets (with a 30-day recovery window); also the load balancer's own deletion protection (ELB.6). Set true in prod."),
    Setting("image", "string", "", "A prebuilt ECR image (URI with :tag or @sha256:digest) to deploy instead of building app/; empty builds app/."),
    Setting("env", "map", {}, "Environment variables for the app: names of letters, digits and _, not starting with a digit; secret-looking names belong in secrets."),
    Setting("domainName", "string", "", "DNS name for the app (app.example.com): an ACM certificate validated by DNS and A/AAAA alias records in hostedZone; needs hostedZone."),
    Setting("hostedZone", "string", "", "Route 53 public hosted zone name that holds domainName (example.com)."),
    Setting("certificateArn", "string", "", "An existing ACM certificate (same region) for HTTPS, instead of domainName/hostedZone."),
    Setting("secrets", "map", {}, "Env var name -> Secrets Manager secret ARN (optionally with :json-key::) or SSM parameter ARN, injected as container secrets."),
    Setting("secretValues", "map", {}, "Env var name -> value kept in Pulumi's encrypted config (`pulumi config set --secret --path 'secretValues.NAME' VALUE`; values in plain text are refused); the program stores each in Secrets Manager and injects it as a container secret."),
    Setting("alarmEmail", "string", "", "Email address subscribed to the alarms' SNS topic; empty subscribes nobody."),
    Setting("alarmTopicEncryption", "boolean", True, "Encrypt alarm notifications with the topic's own KMS key (about $1/month; CloudWatch cannot publish to the aws/sns key)."),
    Setting("deploymentStrategy", "string", "rolling", "rolling, blueGreen or canary: ECS's native deployment strategies."),
    Setting("bakeTimeMinutes", "integer", 5, "blueGreen/canary: minutes the new tasks serve before the old ones go (0 to 1440); a canary bakes twice, before and after the full shift."),
    Setting("canaryPercent", "integer", 10, "canary: percent of traffic the new tasks get first (1 to 99)."),
    Setting("syncTrafficRouting", "boolean", False, "blueGreen/canary: for one pulumi up, write the service's target groups and the listener rule's weights as the program has them, though ECS owns them between deploys. Set it to switch a running service from rolling, then set it back to false."),
    Setting("enableExec", "boolean", False, "ECS Exec into running tasks for debugging."),
    Setting("accessLogs", "boolean", False, "ALB access logs to an encrypted, private S3 bucket (Security Hub ELB.5); costs S3 storage."),
    Setting("flowLogs", "boolean", False, "VPC flow logs to CloudWatch Logs (Security Hub EC2.6); costs log ingestion."),
    Setting("scheduledTasks", "map", {}, "Jobs run on a timetable: name -> {schedule: cron(...), rate(...) or at(...), command, cpu, memory, timezone, enabled}; cpu/memory default to the service's."),
    Setting("tags", "map", {}, "Extra tags for every resource; keys may not start with aws:."),
)  # fmt: skip
SETTINGS_BY_KEY = {s.key: s for s in SETTINGS}
SECRET_SETTINGS = frozenset({"secretValues"})  # never echoed in an error


@dataclass(frozen=True)
class StackConfig:
    """The validated settings of one stack. Field defaults match `SETTINGS`."""

    project: str
    stack: str
    region: str
    vpc_cidr: str = "10.0.0.0/16"
    availability_zones: int = 2
    nat_gateways: str = "none"
    vpc_endpoints: bool = False
    cpu: int = 256
    memory: int = 512
    cpu_architecture: str = "X86_64"
    desired_count: int = 1
    min_count: int = 1
    max_count: int = 1
    cpu_target: int = 60
    spot: bool = False
    on_demand_base: int = 0
    container_port: int = 8000
    health_check_path: str = "/health"
    log_retention_days: int = 30
    container_insights: bool = False
    deletion_protection: bool = False
    image: ImageRef | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    domain_name: str = ""
    hosted_zone: str = ""
    certificate_arn: str = ""
    secrets: Mapping[str, str] = field(default_factory=dict)
    secret_values: Mapping[str, str] = field(default_factory=dict)
    alarm_email: str = ""
    alarm_topic_encryption: bool = True
    deployment_strategy: str = "rolling"
    bake_time_minutes: int = 5
    canary_percent: int = 10
    sync_traffic_routing: bool = False
    enable_exec: bool = False
    access_logs: bool = False
    flow_logs: bool = False
    scheduled_tasks: tuple[ScheduledTask, ...] = ()

    @property
    def endpoint_services(self) -> tuple[str, ...]:
        """Interface endpoints that private tasks without a NAT need beyond ECR and Logs, for the
        features turned on: secrets are fetched at task start, exec opens SSM sessions."""
        services = []
        if self.secret_values or any(SECRET_ARN.match(a) for a in self.secrets.values()):
            services.append("secretsmanager")
        if any(SSM_ARN.match(a) for a in self.secrets.values()):
            services.append("ssm")
        if self.enable_exec:
            services.append("ssmmessages")
        return tuple(services)

    @property
    def https(self) -> bool:
        """HTTPS is served when a certificate is configured or created."""
        return bool(self.certificate_arn or self.domain_name)

    @property
    def private_tasks(self) -> bool:
        """Tasks run in private subnets without public IPs whenever they have a private way out."""
        return self.nat_gateways != "none" or self.vpc_endpoints

    @property
    def autoscaling(self) -> bool:
        return self.max_count > self.min_count

    @property
    def platform(self) -> str:
        """The Docker platform matching the task's CPU architecture."""
        return "linux/arm64" if self.cpu_architecture == "ARM64" else "linux/amd64"


def max_azs_for_prefix(prefix: int) -> int:
    """How many AZs' public and private subnets fit, each at least /27 (see components.network)."""
    slots = 2 ** subnet_new_bits(prefix)
    return min(MAX_AZS, slots // 2)
