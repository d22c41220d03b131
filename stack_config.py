"""The stack config contract: every setting, its type, default and limits, validated in one pass.

`load_config()` is pure: it takes the raw key/value pairs (as Pulumi hands them to the program,
strings and JSON, or native values from tests) and returns a frozen `StackConfig`, or raises
`ConfigError` listing every problem at once, each naming the setting, the value given and what is
allowed. Nothing here registers a resource, so a bad config creates nothing.

Pulumi.yaml's `config:` block mirrors `SETTINGS` (tests keep the two in step).
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import os
import re
import shlex
import zoneinfo
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from components.spec import TASK_NAME, TASK_NAME_MAX, ImageRef, ScheduledTask, subnet_new_bits

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


class ConfigError(Exception):
    """Every problem with a stack's config, reported together."""

    def __init__(self, stack: str, problems: list[str]):
        self.stack = stack
        self.problems = problems
        count = f"{len(problems)} problem" + ("s" if len(problems) != 1 else "")
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"Stack '{stack}' config has {count}; nothing was created:\n{lines}\n"
            f"Fix with `pulumi config set <key> <value> --stack {stack}` "
            f"(see the config table in README.md)."
        )


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, key: str, value: Any, allowed: str) -> None:
        self.items.append(f"{key}: {_show(value)} is not allowed; {allowed}")


def _show(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else repr(value)


# Parsers take the raw value (a string from Pulumi, or a native value from tests) and return the
# typed value, or raise ValueError with what is allowed.
def _integer(raw: Any) -> int:
    if isinstance(raw, bool):
        raise ValueError("expected a whole number")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and re.fullmatch(r"\s*-?\d+\s*", raw):
        return int(raw)
    raise ValueError("expected a whole number")


def _boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true"
    raise ValueError("expected true or false")


def _string(raw: Any) -> str:
    if isinstance(raw, str):
        return raw
    raise ValueError("expected a string")


def _map(raw: Any) -> dict[str, str]:
    """A map of names to scalar values; numbers and booleans become strings, as env vars are."""
    value = raw
    if isinstance(raw, str):
        try:
            value = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError:
            raise ValueError("expected a map of names to values") from None
    if not isinstance(value, dict):
        raise ValueError("expected a map of names to values")
    out: dict[str, str] = {}
    bad: list[tuple[str, str]] = []  # (name, the value as given)
    for k, v in value.items():
        if isinstance(v, bool):
            out[str(k)] = "true" if v else "false"
        elif isinstance(v, str | int | float):
            out[str(k)] = str(v)
        else:
            out[str(k)] = BAD_VALUE
            bad.append((str(k), _show(v)))
    if bad:
        raise PartialMap(bad, out)
    return out


BAD_VALUE = "<invalid>"  # stands in for a value of the wrong type while the names are checked


class PartialMap(ValueError):
    """A map with values of the wrong type; `parsed` holds every name, so that the names' own rules
    are checked (and reported) too, with BAD_VALUE for the values that are not."""

    def __init__(self, bad: list[tuple[str, str]], parsed: dict[str, str]) -> None:
        super().__init__(
            "; ".join(f"the value of {k!r} must be a string or number, not {v}" for k, v in bad)
        )
        self.names = [k for k, _ in bad]
        self.parsed = parsed

    def redacted(self) -> str:
        """The message without the values, for a map of secrets."""
        return "; ".join(f"the value of {k!r} must be a string or number" for k in self.names)


PARSERS: dict[str, Callable[[Any], Any]] = {
    "integer": _integer,
    "boolean": _boolean,
    "string": _string,
    "map": _map,
}


def _suggest(
    key: str, known: Iterable[str] = SETTINGS_BY_KEY, label: str = "known settings"
) -> str:
    """`did you mean ...?` for a misspelt key; case slips (`CPU`) count as misspellings."""
    names = list(known)
    by_lower = {name.lower(): name for name in names}
    close = difflib.get_close_matches(key.lower(), list(by_lower), n=1, cutoff=0.6)
    if close:
        return f"did you mean `{by_lower[close[0]]}`?"
    return f"{label} " + ", ".join(names)


def load_config(
    raw: Mapping[str, Any],
    *,
    stack: str,
    project: str = PROJECT,
    region: str | None = None,
    secret_keys: Collection[str] | None = None,
) -> StackConfig:
    """Parse and validate a stack's config.

    `raw` maps keys to values; keys may be bare (`cpu`) or namespaced (`fargate-app:cpu`,
    `aws:region`). `region` defaults to `aws:region` in `raw`, then AWS_REGION/AWS_DEFAULT_REGION.
    `secret_keys` are the keys Pulumi holds encrypted (`pulumi config set --secret`), as the CLI
    lists them; given, values that must be secret (SECRET_SETTINGS) are refused in plain text.
    """
    problems = _Problems()
    ours: dict[str, Any] = {}
    for full_key, value in raw.items():
        namespace, _, key = full_key.rpartition(":")
        if namespace in ("", project):
            ours[key] = value
    if region is None:
        region = (
            raw.get("aws:region")
            or os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION")
        )

    values: dict[str, Any] = {}
    partial: dict[str, dict[str, str]] = {}
    for key, value in ours.items():
        setting = SETTINGS_BY_KEY.get(key)
        if setting is None:
            problems.items.append(f"{key}: unknown setting; {_suggest(key)}")
            continue
        try:
            values[key] = KEY_PARSERS.get(key, PARSERS[setting.type])(value)
        except ValueError as err:
            secret = key in SECRET_SETTINGS
            why = err.redacted() if secret and isinstance(err, PartialMap) else str(err)
            problems.add(key, "<secret>" if secret else value, f"{why} (type {setting.type})")
            if isinstance(err, PartialMap):
                partial[key] = err.parsed
    get = {s.key: values.get(s.key, partial.get(s.key, s.default)) for s in SETTINGS}
    # parsed or defaulted; a map with bad values still has its names checked
    ok = {k for k in get if k not in ours or k in values or k in partial}

    if not region:
        problems.items.append(
            "aws:region: not set; set the AWS region, e.g. `pulumi config set aws:region us-east-1`"
        )
    elif not REGION.match(region):
        problems.add("aws:region", region, "expected an AWS region name such as us-east-1")

    _check_network(get, ok, problems)
    _check_task(get, ok, problems)
    _check_counts(get, ok, problems)
    _check_service(get, ok, problems)
    image = _check_image(get, ok, problems, region or "")
    _check_maps(get, ok, problems)
    _check_https(get, ok, problems, region or "")
    _check_secrets(get, ok, problems)
    if secret_keys is not None:
        _check_encrypted(ours, secret_keys, project, stack, problems)
    _check_operations(get, ok, problems)
    scheduled_tasks = _check_scheduled_tasks(get, ok, problems)

    if problems.items:
        raise ConfigError(stack, problems.items)
    return StackConfig(
        project=project,
        stack=stack,
        region=str(region),
        vpc_cidr=str(ipaddress.ip_network(get["vpcCidr"], strict=True)),
        availability_zones=get["availabilityZones"],
        nat_gateways=get["natGateways"],
        vpc_endpoints=get["vpcEndpoints"],
        cpu=get["cpu"],
        memory=get["memory"],
        cpu_architecture=get["cpuArchitecture"],
        desired_count=get["desiredCount"],
        min_count=get["minCount"],
        max_count=get["maxCount"],
        cpu_target=get["cpuTarget"],
        spot=get["spot"],
        on_demand_base=get["onDemandBase"],
        container_port=get["containerPort"],
        health_check_path=get["healthCheckPath"],
        log_retention_days=get["logRetentionDays"],
        container_insights=get["containerInsights"],
        deletion_protection=get["deletionProtection"],
        image=image,
        env=dict(get["env"]),
        tags=dict(get["tags"]),
        domain_name=get["domainName"],
        hosted_zone=get["hostedZone"],
        certificate_arn=get["certificateArn"],
        secrets=dict(get["secrets"]),
        secret_values=dict(get["secretValues"]),
        alarm_email=get["alarmEmail"],
        alarm_topic_encryption=get["alarmTopicEncryption"],
        deployment_strategy=get["deploymentStrategy"],
        bake_time_minutes=get["bakeTimeMinutes"],
        canary_percent=get["canaryPercent"],
        sync_traffic_routing=get["syncTrafficRouting"],
        enable_exec=get["enableExec"],
        access_logs=get["accessLogs"],
        flow_logs=get["flowLogs"],
        scheduled_tasks=scheduled_tasks,
    )


def max_azs_for_prefix(prefix: int) -> int:
    """How many AZs' public and private subnets fit, each at least /27 (see components.network)."""
    slots = 2 ** subnet_new_bits(prefix)
    return min(MAX_AZS, slots // 2)


def _check_network(get: dict[str, Any], ok: set[str], problems: _Problems) -> None:
    prefix = None
    if "vpcCidr" in ok:
        cidr = get["vpcCidr"]
        try:
            net = ipaddress.ip_network(cidr, strict=True)
        except ValueError as err:
            problems.add("vpcCidr", cidr, f"expected an IPv4 CIDR such as 10.0.0.0/16 ({err})")
        else:
            if net.version != 4:
                problems.add("vpcCidr", cidr, "expected an IPv4 CIDR such as 10.0.0.0/16")
            elif not VPC_PREFIX_MIN <= net.prefixlen <= VPC_PREFIX_MAX:
                problems.add(
                    "vpcCidr", cidr, f"the prefix must be /{VPC_PREFIX_MIN} to /{VPC_PREFIX_MAX}"
                )
            else:
                prefix = net.prefixlen
    if "availabilityZones" in ok:
        azs = get["availabilityZones"]
        if not MIN_AZS <= azs <= MAX_AZS:
            problems.add(
                "availabilityZones", azs, f"expected {MIN_AZS} to {MAX_AZS} (an ALB needs two AZs)"
            )
        elif prefix is not None and azs > max_azs_for_prefix(prefix):
            problems.add(
                "availabilityZones",
                azs,
                f"vpcCidr /{prefix} fits subnets (at least /27 each, the ALB's minimum) for "
                f"at most {max_azs_for_prefix(prefix)} AZs; use a larger vpcCidr such as /23",
            )
    if "natGateways" in ok and get["natGateways"] not in NAT_MODES:
        problems.add("natGateways", get["natGateways"], "expected one of " + ", ".join(NAT_MODES))


def _check_task(get: dict[str, Any], ok: set[str], problems: _Problems) -> None:
    cpu_ok = "cpu" in ok and get["cpu"] in FARGATE_MEMORY_BY_CPU
    if "cpu" in ok and not cpu_ok:
        problems.add(
            "cpu", get["cpu"], "Fargate CPU units are " + ", ".join(map(str, FARGATE_MEMORY_BY_CPU))
        )
    if cpu_ok and "memory" in ok:
        allowed = FARGATE_MEMORY_BY_CPU[get["cpu"]]
        if get["memory"] not in allowed:
            problems.add(
                "memory",
                get["memory"],
                f"with cpu {get['cpu']} Fargate allows {_ranges(allowed)} MiB",
            )
    if "cpuArchitecture" in ok:
        arch = get["cpuArchitecture"]
        if arch not in CPU_ARCHITECTURES:
            problems.add("cpuArchitecture", arch, "expected X86_64 or ARM64")
        elif arch == "ARM64" and "spot" in ok and get["spot"]:
            problems.add(
                "spot",
                True,
                "Fargate Spot does not run ARM64 tasks; set spot false or cpuArchitecture X86_64",
            )


def _ranges(values: tuple[int, ...]) -> str:
    if len(values) <= 3:
        return ", ".join(map(str, values))
    step = values[1] - values[0]
    return f"{values[0]} to {values[-1]} in steps of {step}"


def _check_counts(get: dict[str, Any], ok: set[str], problems: _Problems) -> None:
    keys = ("minCount", "desiredCount", "maxCount")
    for key in keys:
        if key in ok and get[key] < 1:
            problems.add(key, get[key], "expected at least 1")
    if all(k in ok for k in keys):
        lo, want, hi = (get[k] for k in keys)
        if lo >= 1 and not lo <= want <= hi:
            problems.items.append(
                f"desiredCount: minCount {lo} <= desiredCount {want} <= maxCount {hi} must hold; "
                "adjust the three so that it does"
            )
    if "cpuTarget" in ok and not CPU_TARGET_MIN <= get["cpuTarget"] <= CPU_TARGET_MAX:
        problems.add(
            "cpuTarget", get["cpuTarget"], f"expected {CPU_TARGET_MIN} to {CPU_TARGET_MAX}"
        )
    if "onDemandBase" in ok:
        base = get["onDemandBase"]
        hi = get["maxCount"] if "maxCount" in ok else None
        if base < 0 or (hi is not None and base > hi):
            problems.add("onDemandBase", base, f"expected 0 to maxCount ({hi})")


def _check_service(get: dict[str, Any], ok: set[str], problems: _Problems) -> None:
    if "containerPort" in ok and not 1 <= get["containerPort"] <= 65535:
        problems.add("containerPort", get["containerPort"], "expected 1 to 65535")
    if "healthCheckPath" in ok:
        path = get["healthCheckPath"]
        # ALB health check paths: up to 1024 chars of URL path characters.
        if not re.fullmatch(r"/[A-Za-z0-9._~!$&'()*+,;=:@%/-]{0,1023}", path):
            problems.add(
                "healthCheckPath", path, "expected a URL path starting with /, such as /health"
            )
    if "logRetentionDays" in ok and get["logRetentionDays"] not in LOG_RETENTION_DAYS:
        problems.add(
            "logRetentionDays",
            get["logRetentionDays"],
            "CloudWatch allows " + ", ".join(map(str, LOG_RETENTION_DAYS)),
        )


def _check_image(
    get: dict[str, Any], ok: set[str], problems: _Problems, region: str
) -> ImageRef | None:
    if "image" not in ok or not get["image"]:
        return None
    uri = get["image"]
    m = ECR_IMAGE.match(uri)
    if not m:
        problems.add(
            "image",
            uri,
            "expected an ECR image URI with a tag or digest, such as "
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.2.3 or ...@sha256:<64 hex>",
        )
        return None
    ref = ImageRef(uri=uri, **m.groupdict())
    private_without_nat = get.get("natGateways") == "none" and get.get("vpcEndpoints") is True
    if private_without_nat and region and ref.region != region:
        problems.add(
            "image",
            uri,
            f"private tasks here reach ECR only through this VPC's endpoints in {region}; "
            f"use an image from {region} or set natGateways single or perAz",
        )
    return ref


def _check_maps(get: dict[str, Any], ok: set[str], problems: _Problems) -> None:
    if "env" in ok:
        for name in get["env"]:
            if not ENV_NAME.match(name):
                problems.add(
                    f"env.{name}",
                    name,
                    "names are letters, digits and _, not starting with a digit",
                )
            elif name in RESERVED_ENV:
                problems.add(
                    f"env.{name}",
                    name,
                    "the program sets PORT, HEALTH_CHECK_PATH and GRACEFUL_TIMEOUT itself "
                    "(from containerPort and healthCheckPath); remove it from env",
                )
    if "tags" in ok:
        for key, value in get["tags"].items():
            if key.lower().startswith("aws:"):
                problems.add(
                    f"tags.{key}", key, "tag keys may not start with aws: (AWS reserves it)"
                )
            elif key in RESERVED_TAGS:
                problems.add(f"tags.{key}", key, "the program sets project and stack tags itself")
            elif not 1 <= len(key) <= TAG_KEY_MAX or len(value) > TAG_VALUE_MAX:
                problems.add(
                    f"tags.{key}",
                    value,
                    f"keys are 1 to {TAG_KEY_MAX} characters, values at most {TAG_VALUE_MAX}",
                )


def _check_https(get: dict[str, Any], ok: set[str], problems: _Problems, region: str) -> None:
    domain = get["domainName"] if "domainName" in ok else ""
    zone = get["hostedZone"] if "hostedZone" in ok else ""
    cert = get["certificateArn"] if "certificateArn" in ok else ""
    for key, value in (("domainName", domain), ("hostedZone", zone)):
        if value and not DNS_NAME.match(value):
            problems.add(key, value, "expected a lower-case DNS name such as app.example.com")
    if domain and not zone:
        problems.items.append(
            f"hostedZone: not set; set the Route 53 zone that holds {domain}, e.g. "
            f"`pulumi config set hostedZone {domain.split('.', 1)[-1]}`"
        )
    elif zone and not domain:
        problems.items.append(f"domainName: not set; set the app's name in {zone}, e.g. app.{zone}")
    elif (
        domain
        and DNS_NAME.match(domain)
        and DNS_NAME.match(zone)
        and domain != zone
        and not domain.endswith("." + zone)
    ):
        problems.add("domainName", domain, f"it must be {zone} or a name under it")
    if cert:
        m = ACM_ARN.match(cert)
        if not m:
            problems.add(
                "certificateArn",
                cert,
                "expected an ACM certificate ARN such as "
                "arn:aws:acm:us-east-1:123456789012:certificate/<uuid>",
            )
        elif region and m["region"] != region:
            problems.add(
                "certificateArn", cert, f"an ALB needs a certificate from its own region {region}"
            )
        if domain or zone:
            problems.items.append(
                "certificateArn: set either certificateArn or domainName with hostedZone, not both"
            )


def _check_secrets(get: dict[str, Any], ok: set[str], problems: _Problems) -> None:
    env = get["env"] if "env" in ok else {}
    secrets = get["secrets"] if "secrets" in ok else {}
    values = get["secretValues"] if "secretValues" in ok else {}
    for name in env:
        if not ENV_NAME.match(name):
            continue
        if name.upper() in SECRET_ENV_NAMES:
            why = "it holds credentials (Security Hub ECS.8 checks this name)"
        elif any(part in name.upper() for part in SECRET_NAME_PARTS):
            why = "it looks like a secret (its name contains " + "/".join(SECRET_NAME_PARTS) + ")"
        else:
            continue
        problems.add(
            f"env.{name}",
            name,
            f"{why}, and env values are stored in plain text; put its ARN in `secrets` or its "
            f"value in `pulumi config set --secret --path 'secretValues.{name}' ...`",
        )
    for key, entries in (("secrets", secrets), ("secretValues", values)):
        for name in entries:
            if not ENV_NAME.match(name):
                problems.add(
                    f"{key}.{name}",
                    name,
                    "names are letters, digits and _, not starting with a digit",
                )
            elif name in RESERVED_ENV:
                problems.add(f"{key}.{name}", name, "the program sets this variable itself")
            elif name in env:
                problems.add(f"{key}.{name}", name, "it is also in env; keep it in one place")
    for name in set(secrets) & set(values):
        problems.add(f"secretValues.{name}", name, "it is also in secrets; keep it in one place")
    for name, arn in secrets.items():
        if arn != BAD_VALUE and not (SECRET_ARN.match(arn) or SSM_ARN.match(arn)):
            problems.add(
                f"secrets.{name}",
                arn,
                "expected a Secrets Manager secret ARN (optionally ending :json-key::) or an SSM "
                "parameter ARN",
            )
    for name, value in values.items():
        if not value:
            problems.add(f"secretValues.{name}", "", "expected a non-empty value")


def _check_encrypted(
    ours: Mapping[str, Any],
    secret_keys: Collection[str],
    project: str,
    stack: str,
    problems: _Problems,
) -> None:
    """Settings whose values are secrets must be kept encrypted, not in Pulumi.<stack>.yaml's
    plain text (which is committed)."""
    for key in sorted(SECRET_SETTINGS & set(ours)):
        if ours[key] in (None, "", {}, "{}") or {key, f"{project}:{key}"} & set(secret_keys):
            continue
        problems.items.append(
            f"{key}: stored in plain text in Pulumi.{stack}.yaml; set each value encrypted with "
            f"`pulumi config set --secret --path '{key}.NAME' VALUE` "
            f"(and remove the plain one: `pulumi config rm --path '{key}.NAME'` first)"
        )


def _check_operations(get: dict[str, Any], ok: set[str], problems: _Problems) -> None:
    if "alarmEmail" in ok and get["alarmEmail"] and not EMAIL.match(get["alarmEmail"]):
        problems.add("alarmEmail", get["alarmEmail"], "expected an email address")
    if "deploymentStrategy" in ok and get["deploymentStrategy"] not in DEPLOYMENT_STRATEGIES:
        problems.add(
            "deploymentStrategy",
            get["deploymentStrategy"],
            "expected one of " + ", ".join(DEPLOYMENT_STRATEGIES),
        )
    if "bakeTimeMinutes" in ok and not 0 <= get["bakeTimeMinutes"] <= BAKE_TIME_MAX_MIN:
        problems.add(
            "bakeTimeMinutes", get["bakeTimeMinutes"], f"expected 0 to {BAKE_TIME_MAX_MIN}"
        )
    if "canaryPercent" in ok and not (
        CANARY_PERCENT_MIN <= get["canaryPercent"] <= CANARY_PERCENT_MAX
    ):
        problems.add(
            "canaryPercent",
            get["canaryPercent"],
            f"expected {CANARY_PERCENT_MIN} to {CANARY_PERCENT_MAX}",
        )


def from_pulumi() -> StackConfig:
    """Read the running stack's config from the Pulumi runtime and validate it."""
    import pulumi
    from pulumi.runtime.config import (
        CONFIG,
        get_config_env,
        get_config_secret_keys_env,
        is_config_secret,
    )

    # The CLI hands a program its config as JSON in PULUMI_CONFIG; tests and the automation API
    # set the runtime's config map instead, which wins.
    raw = {**get_config_env(), **CONFIG.get()}
    # The CLI lists the encrypted keys in PULUMI_CONFIG_SECRET_KEYS (absent when there are none);
    # the runtime's own list holds those the tests and the automation API set.
    secret_keys = {*get_config_secret_keys_env(), *(k for k in raw if is_config_secret(k))}
    return load_config(
        raw, stack=pulumi.get_stack(), project=pulumi.get_project(), secret_keys=secret_keys
    )


# --- scheduledTasks: jobs run on a timetable (components/scheduled_tasks.py) ----------------------
# EventBridge Scheduler's expressions.
# Source: https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html
SCHEDULE_EXPRESSION = re.compile(r"^(?P<kind>cron|rate|at)\((?P<body>.*)\)$", re.DOTALL)
SCHEDULE_EXPRESSION_MAX = 256  # CreateSchedule's limit
SCHEDULE_EXAMPLES = "cron(0 3 * * ? *) (03:00 daily), rate(6 hours) or at(2030-01-31T09:00:00)"
RATE_UNITS = ("minute", "minutes", "hour", "hours", "day", "days")
CRON_FIELDS = ("minutes", "hours", "day-of-month", "month", "day-of-week", "year")
CRON_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
CRON_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")  # 1 is Sunday
# field -> (lowest, highest, names for lowest.., what the field takes)
CRON_RANGES: dict[str, tuple[int, int, tuple[str, ...], str]] = {
    "minutes": (0, 59, (), "0-59 and the wildcards , - * /"),
    "hours": (0, 23, (), "0-23 and the wildcards , - * /"),
    "day-of-month": (1, 31, (), "1-31 and the wildcards , - * ? / L W"),
    "month": (1, 12, CRON_MONTHS, "1-12 or JAN-DEC and the wildcards , - * /"),
    "day-of-week": (1, 7, CRON_DAYS, "1-7 or SUN-SAT and the wildcards , - * ? L #"),
    "year": (1970, 2199, (), "1970-2199 and the wildcards , - * /"),
}
SCHEDULED_TASK_FIELDS = ("schedule", "command", "cpu", "memory", "timezone", "enabled")
SCHEDULE_TIMEZONE_MAX = 50  # CreateSchedule's limit
# A string `command` is split into words as a POSIX shell would, but no shell runs it: these would
# reach the program as literal arguments.
SHELL_OPERATORS = frozenset({"|", "||", "&", "&&", ";", "<", ">", ">>", "2>", "2>&1"})


def _scheduled_tasks_map(raw: Any) -> dict[str, Any]:
    """`scheduledTasks` as Pulumi hands it over (JSON text) or as a native map; entries are checked
    by `_check_scheduled_tasks`."""
    value = raw
    if isinstance(raw, str):
        try:
            value = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError:
            value = None
    if not isinstance(value, dict):
        raise ValueError("expected a map of job names to {schedule, command, cpu, memory, ...}")
    return {str(k): v for k, v in value.items()}


# Settings whose values need more than their type's parser.
KEY_PARSERS: dict[str, Callable[[Any], Any]] = {"scheduledTasks": _scheduled_tasks_map}


def schedule_expression_problems(expression: str) -> list[str]:
    """What is wrong with an EventBridge Scheduler expression (empty when it is valid)."""
    if len(expression) > SCHEDULE_EXPRESSION_MAX:
        return [f"expressions are at most {SCHEDULE_EXPRESSION_MAX} characters"]
    m = SCHEDULE_EXPRESSION.match(expression.strip())
    if not m:
        return [f"expected cron(...), rate(...) or at(...), such as {SCHEDULE_EXAMPLES}"]
    kind, body = m["kind"], m["body"].strip()
    if kind == "rate":
        return _rate_problems(body)
    if kind == "at":
        try:
            datetime.strptime(body, "%Y-%m-%dT%H:%M:%S")
        except ValueError:
            return [
                "at() takes a valid date and time as yyyy-mm-ddThh:mm:ss, such as "
                "at(2030-01-31T09:00:00), in the schedule's timezone"
            ]
        return []
    return _cron_problems(body)


def _rate_problems(body: str) -> list[str]:
    m = re.fullmatch(r"(\d+)\s+([a-z]+)", body)
    if not m or m[2] not in RATE_UNITS:
        return [
            "rate() takes a whole number and a unit of minute(s), hour(s) or day(s), such as "
            "rate(15 minutes); for weekly or monthly runs use cron(...)"
        ]
    count, unit = int(m[1]), m[2]
    if count < 1:
        return ["rate()'s value must be at least 1"]
    if count == 1 and unit.endswith("s"):
        return [f"with a value of 1 the unit is singular: rate(1 {unit[:-1]})"]
    if count > 1 and not unit.endswith("s"):
        return [f"with a value above 1 the unit is plural: rate({count} {unit}s)"]
    return []


def _cron_problems(body: str) -> list[str]:
    fields = body.split()
    if len(fields) != len(CRON_FIELDS):
        hint = (
            "; a Unix crontab line needs a year and a ? in day-of-month or day-of-week, "
            "e.g. `0 3 * * *` is cron(0 3 * * ? *)"
            if len(fields) == 5
            else ""
        )
        return [f"cron() takes 6 fields ({' '.join(CRON_FIELDS)}), got {len(fields)}{hint}"]
    out = [
        f"cron()'s {name} field {text!r} is not valid; it takes {CRON_RANGES[name][3]}"
        for name, text in zip(CRON_FIELDS, fields, strict=True)
        if not _cron_field_ok(name, text)
    ]
    day_of_month, day_of_week = fields[2], fields[4]
    if (day_of_month == "?") == (day_of_week == "?"):
        out.append(
            "exactly one of day-of-month and day-of-week must be ?, e.g. cron(0 3 * * ? *) "
            "(every day) or cron(0 3 ? * MON-FRI *) (weekdays)"
        )
    return out


def _cron_field_ok(name: str, text: str) -> bool:
    lo, hi, names, _ = CRON_RANGES[name]
    upper = text.upper()
    if name in ("day-of-month", "day-of-week") and text == "?":
        return True
    if name == "day-of-month" and re.fullmatch(r"L|LW|([1-9]|[12]\d|3[01])W", upper):
        return True
    day = r"([1-7]|" + "|".join(CRON_DAYS) + ")"
    if name == "day-of-week" and re.fullmatch(rf"L|{day}L|{day}#[1-5]", upper):
        return True

    def value(token: str) -> int | None:
        if token.isdigit():
            return int(token) if lo <= int(token) <= hi else None
        return names.index(token) + lo if token in names else None

    for item in upper.split(","):
        base, slash, step = item.partition("/")
        if slash and not (step.isdigit() and 1 <= int(step) <= hi):
            return False
        if base == "*":
            continue
        first, dash, last = base.partition("-")
        if value(first) is None or (dash and value(last) is None):
            return False
    return True


def _command(raw: Any) -> tuple[str, ...]:
    """A list of arguments, or a string split into words like a POSIX shell's (no shell runs it)."""
    if isinstance(raw, str):
        try:
            words = shlex.split(raw)
        except ValueError as err:
            raise ValueError(f"the command could not be split into words ({err})") from None
        operators = sorted(SHELL_OPERATORS.intersection(words))
        if operators:
            raise ValueError(
                f"no shell runs the command, so {', '.join(operators)} would be passed as a literal "
                'argument; for a pipeline use a list: ["sh", "-c", "a | b"]'
            )
    elif isinstance(raw, list) and all(
        isinstance(w, str | int | float) and not isinstance(w, bool) for w in raw
    ):
        words = [str(w) for w in raw]
    else:
        raise ValueError("expected a list of strings or a string (split into words)")
    if not words or not words[0]:
        raise ValueError("expected at least the program to run, e.g. python -m myjob")
    return tuple(words)


def _check_scheduled_tasks(
    get: dict[str, Any], ok: set[str], problems: _Problems
) -> tuple[ScheduledTask, ...]:
    if "scheduledTasks" not in ok:
        return ()
    service_cpu = get["cpu"] if "cpu" in ok and get["cpu"] in FARGATE_MEMORY_BY_CPU else None
    service_memory = get["memory"] if "memory" in ok else None
    zones = zoneinfo.available_timezones()  # empty without a tz database: then not checked
    tasks: list[ScheduledTask] = []
    for name, entry in get["scheduledTasks"].items():
        key = f"scheduledTasks.{name}"
        before = len(problems.items)
        if not TASK_NAME.match(name) or len(name) > TASK_NAME_MAX:
            problems.add(
                key,
                name,
                f"job names are 1 to {TASK_NAME_MAX} letters, digits, - and _ "
                "(they name the job's AWS resources)",
            )
        if not isinstance(entry, dict):
            problems.add(key, entry, "expected a map with schedule and command (see README.md)")
            continue
        for field_name in entry:
            if field_name not in SCHEDULED_TASK_FIELDS:
                hint = _suggest(field_name, SCHEDULED_TASK_FIELDS, label="fields are")
                problems.items.append(f"{key}.{field_name}: unknown field; {hint}")

        schedule = entry.get("schedule")
        if schedule is None:
            problems.items.append(
                f"{key}.schedule: not set; add one such as {SCHEDULE_EXAMPLES}: "
                f"`pulumi config set --path '{key}.schedule' 'cron(0 3 * * ? *)'`"
            )
        elif not isinstance(schedule, str):
            problems.add(
                f"{key}.schedule", schedule, f"expected a string such as {SCHEDULE_EXAMPLES}"
            )
        else:
            for problem in schedule_expression_problems(schedule):
                problems.add(f"{key}.schedule", schedule, problem)

        command: tuple[str, ...] = ()
        if "command" not in entry:
            problems.items.append(
                f"{key}.command: not set; add the command to run, as a list or a string: "
                f"`pulumi config set --path '{key}.command' 'python -m myjob'`"
            )
        else:
            try:
                command = _command(entry["command"])
            except ValueError as err:
                problems.add(f"{key}.command", entry["command"], str(err))

        size: dict[str, int | None] = {"cpu": service_cpu, "memory": service_memory}
        for field_name in ("cpu", "memory"):
            if field_name in entry:
                try:
                    size[field_name] = _integer(entry[field_name])
                except ValueError as err:
                    problems.add(f"{key}.{field_name}", entry[field_name], str(err))
                    size[field_name] = None
        cpu, memory = size["cpu"], size["memory"]
        if "cpu" in entry and cpu is not None and cpu not in FARGATE_MEMORY_BY_CPU:
            problems.add(
                f"{key}.cpu",
                cpu,
                "Fargate CPU units are " + ", ".join(map(str, FARGATE_MEMORY_BY_CPU)),
            )
        elif cpu in FARGATE_MEMORY_BY_CPU and memory is not None:
            allowed = FARGATE_MEMORY_BY_CPU[cpu]
            if memory not in allowed and "memory" in entry:
                whose = "" if "cpu" in entry else f" (the service's; set {key}.cpu to change it)"
                problems.add(
                    f"{key}.memory",
                    memory,
                    f"with cpu {cpu}{whose} Fargate allows {_ranges(allowed)} MiB",
                )
            elif memory not in allowed and "cpu" in entry:
                problems.add(
                    f"{key}.memory",
                    memory,
                    f"it defaults to the service's memory, which Fargate does not pair with cpu "
                    f"{cpu} ({_ranges(allowed)} MiB); set {key}.memory",
                )

        timezone = entry.get("timezone", "UTC")
        if not isinstance(timezone, str) or not timezone or len(timezone) > SCHEDULE_TIMEZONE_MAX:
            problems.add(
                f"{key}.timezone", timezone, "expected an IANA time zone such as Europe/Berlin"
            )
        elif zones and timezone not in zones:
            close = difflib.get_close_matches(timezone, sorted(zones), n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            problems.add(
                f"{key}.timezone",
                timezone,
                f"expected an IANA time zone such as UTC, Europe/Berlin or America/New_York{hint}",
            )

        enabled = True
        if "enabled" in entry:
            try:
                enabled = _boolean(entry["enabled"])
            except ValueError as err:
                problems.add(f"{key}.enabled", entry["enabled"], str(err))

        if len(problems.items) == before and cpu is not None and memory is not None:
            tasks.append(
                ScheduledTask(
                    name=name,
                    schedule=_normalised_expression(str(schedule)),
                    command=command,
                    cpu=cpu,
                    memory=memory,
                    timezone=str(timezone),
                    enabled=enabled,
                )
            )
    return tuple(tasks)


def _normalised_expression(expression: str) -> str:
    """The expression with single spaces, as AWS shows it back (so Pulumi sees no diff)."""
    m = SCHEDULE_EXPRESSION.match(expression.strip())
    assert m is not None  # validated
    return f"{m['kind']}({' '.join(m['body'].split())})"
