"""Values the stack config and the components share, and the one home of each fact they share.

Importing this module loads no pulumi module, so the config contract (stack_config) can build these
values and check against these facts without the SDK, and a test or tool can use them alone.

Each default, limit and list of choices that more than one place needs is written here once: the
settings table (stack_config.settings) takes its defaults from these constants, the components'
args take theirs from them too, and both check against the same limits. A setting that switches
something off (False), an empty map and an absent value need no constant: "not used" is the default
everywhere. Defaults that only one component knows stay beside its args, documented there.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# --- task size ------------------------------------------------------------------------------------
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
DEFAULT_CPU = 256  # CPU units: Fargate's smallest task, enough for the sample app
DEFAULT_MEMORY_MIB = 512  # the least Fargate pairs with 256 CPU units


def as_ranges(values: Sequence[int]) -> str:
    """`512, 1024, 2048`, or `1024 to 4096 in steps of 1024` for a longer evenly spaced list."""
    if len(values) <= 3:
        return ", ".join(map(str, values))
    step = values[1] - values[0]
    return f"{values[0]} to {values[-1]} in steps of {step}"


def joined(items: Sequence[str], last: str = "or") -> str:
    """`a, b or c` (or `a, b and c` with last="and")."""
    return ", ".join(items[:-1]) + f" {last} " + items[-1] if len(items) > 1 else "".join(items)


@dataclass(frozen=True, kw_only=True)
class Issue:
    """One thing wrong with a value: the field, the value given, and what is allowed.

    The rule and its wording live with the value (TaskSize.issues(), ...); each reader names the
    field its own way. A component says `cpu 300: Fargate CPU units are ...` (problem()); the
    config maps the field to its setting, `cpu: 300 is not allowed; Fargate CPU units are ...`
    (stack_config.parsing.Problems.add_issues). `allowed` may name other fields as {field}, which
    each reader fills with its own name for them.
    """

    field: str
    value: Any  # None: a relation between fields that `allowed` states whole
    allowed: str

    def allowed_for(self, names: Mapping[str, str] | None = None) -> str:
        """`allowed`, with the fields it names called as `names` calls them (default: as is)."""
        return self.allowed.format_map(_NamesOr(names or {}))

    def problem(self) -> str:
        """The issue as a component reports it: `field value: allowed` (a relation: `allowed`)."""
        if self.value is None:
            return self.allowed_for()
        shown = repr(self.value) if isinstance(self.value, str) else self.value
        return f"{self.field} {shown}: {self.allowed_for()}"


class _NamesOr(dict[str, str]):
    """A field's name from `names`, else the field's own."""

    def __missing__(self, key: str) -> str:
        return key


@dataclass(frozen=True, kw_only=True)
class TaskSize:
    """A Fargate task's size.

    cpu: CPU units. Default DEFAULT_CPU (256), Fargate's smallest.
    memory: MiB; must be one of Fargate's pairings with cpu. Default DEFAULT_MEMORY_MIB (512).
    """

    cpu: int = DEFAULT_CPU
    memory: int = DEFAULT_MEMORY_MIB

    def issues(self) -> list[Issue]:
        """What is wrong with this size (empty when nothing is): the one home of Fargate's
        pairing rule, for the components, the config, its services and its jobs."""
        if self.cpu not in FARGATE_MEMORY_BY_CPU:
            units = ", ".join(map(str, FARGATE_MEMORY_BY_CPU))
            return [Issue(field="cpu", value=self.cpu, allowed=f"Fargate CPU units are {units}")]
        allowed = FARGATE_MEMORY_BY_CPU[self.cpu]
        if self.memory not in allowed:
            return [
                Issue(
                    field="memory",
                    value=self.memory,
                    allowed=f"with cpu {self.cpu} Fargate allows {as_ranges(allowed)} MiB",
                )
            ]
        return []

    def problems(self) -> list[str]:
        """What is wrong with this size (empty when nothing is), as a component says it."""
        return [issue.problem() for issue in self.issues()]


# --- CPU architecture -----------------------------------------------------------------------------
# ECS's runtime platform -> the Docker platform an image for it is built for.
PLATFORM_BY_ARCHITECTURE = {"X86_64": "linux/amd64", "ARM64": "linux/arm64"}
CPU_ARCHITECTURES = tuple(PLATFORM_BY_ARCHITECTURE)
DEFAULT_CPU_ARCHITECTURE = "X86_64"  # the only one Fargate Spot runs
SPOT_CPU_ARCHITECTURES = ("X86_64",)  # Fargate Spot does not run ARM64 tasks


def architecture_issues(field: str, cpu_architecture: str) -> list[Issue]:
    """A CPU architecture Fargate does not run."""
    if cpu_architecture in CPU_ARCHITECTURES:
        return []
    allowed = f"expected {joined(CPU_ARCHITECTURES)}"
    return [Issue(field=field, value=cpu_architecture, allowed=allowed)]


def spot_issues(spot: bool, cpu_architecture: str) -> list[Issue]:
    """Spot asked for tasks of an architecture Fargate Spot does not run."""
    if not spot or cpu_architecture in SPOT_CPU_ARCHITECTURES:
        return []
    only = joined(SPOT_CPU_ARCHITECTURES)
    allowed = f"Fargate Spot does not run {cpu_architecture} tasks, only {only}"
    return [Issue(field="spot", value=True, allowed=allowed)]


# --- logs -----------------------------------------------------------------------------------------
# CloudWatch Logs accepts only these retention periods (days).
# Source: https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip
DEFAULT_LOG_RETENTION_DAYS = 30  # a month to look back on an incident; prod keeps longer


def retention_issues(field: str, days: int) -> list[Issue]:
    """A log group's retention CloudWatch would refuse (the app's, flow logs', exec sessions')."""
    if days in LOG_RETENTION_DAYS:
        return []
    allowed = "CloudWatch allows " + ", ".join(map(str, LOG_RETENTION_DAYS))
    return [Issue(field=field, value=days, allowed=allowed)]


# --- the network (components.network) -------------------------------------------------------------
DEFAULT_VPC_CIDR = "10.0.0.0/16"  # room for /20 subnets
MIN_AZS = 2  # an ALB must span at least two AZs
MAX_AZS = 6  # the subnet plan reserves room for six; no AWS region has more usable AZs
DEFAULT_AVAILABILITY_ZONES = MIN_AZS  # the fewest an ALB accepts, and the cheapest
VPC_PREFIX_MIN = 16  # AWS's largest VPC CIDR block
VPC_PREFIX_MAX = 24  # the smallest VPC in which an ALB's subnets (at least /27 each) still fit
ALB_MIN_SUBNET_PREFIX = 27  # an ALB needs subnets of at least /27 with 8 free addresses
MAX_SUBNET_NEW_BITS = 4  # 16 slots: 6 public + 6 private, and 4 spare for a later tier
DEFAULT_NAT_GATEWAYS = "none"  # no NAT cost: tasks in public subnets, reachable only from the ALB


@dataclass(frozen=True, kw_only=True)
class NatMode:
    """A choice of the natGateways setting: how many NAT gateways, and what that means for tasks."""

    name: str
    gateways: int | None  # NAT gateways in the first AZs; None: one in every AZ
    meaning: str


NAT_MODE_CHOICES = (
    NatMode(name="none", gateways=0, meaning="tasks in public subnets, no NAT cost"),
    NatMode(name="single", gateways=1, meaning="one NAT gateway; tasks in private subnets"),
    NatMode(
        name="perAz",
        gateways=None,
        meaning="a NAT gateway per AZ, so losing one AZ cuts off no other; tasks in private "
        "subnets",
    ),
)
NAT_MODES = tuple(mode.name for mode in NAT_MODE_CHOICES)


def nat_mode_issues(field: str, mode: str) -> list[Issue]:
    """A natGateways mode that is not one of NAT_MODE_CHOICES."""
    if mode in NAT_MODES:
        return []
    return [Issue(field=field, value=mode, allowed="expected one of " + ", ".join(NAT_MODES))]


def nat_gateway_azs(mode: str, azs: Sequence[str]) -> list[str]:
    """The AZs (of those the network spans, in order) that get a NAT gateway in `mode`."""
    (gateways,) = (choice.gateways for choice in NAT_MODE_CHOICES if choice.name == mode)
    return list(azs if gateways is None else azs[:gateways])


def subnet_new_bits(vpc_prefix: int) -> int:
    """Bits added to the VPC prefix for every subnet: as many slots as fit at the ALB's minimum."""
    return min(MAX_SUBNET_NEW_BITS, ALB_MIN_SUBNET_PREFIX - vpc_prefix)


def max_azs_for_prefix(prefix: int) -> int:
    """How many AZs' public and private subnets fit, each at least /27 (see components.network)."""
    slots = 2 ** subnet_new_bits(prefix)
    return min(MAX_AZS, slots // 2)


def vpc_cidr_issues(field: str, cidr: str) -> list[Issue]:
    """A VPC CIDR that is not IPv4, or not of a size the network can carve (VPC_PREFIX_MIN to
    VPC_PREFIX_MAX)."""
    example = "expected an IPv4 CIDR such as 10.0.0.0/16"
    try:
        net = ipaddress.ip_network(cidr, strict=True)
    except ValueError as err:
        return [Issue(field=field, value=cidr, allowed=f"{example} ({err})")]
    if net.version != 4:
        return [Issue(field=field, value=cidr, allowed=example)]
    if not VPC_PREFIX_MIN <= net.prefixlen <= VPC_PREFIX_MAX:
        allowed = f"the prefix must be /{VPC_PREFIX_MIN} to /{VPC_PREFIX_MAX}"
        return [Issue(field=field, value=cidr, allowed=allowed)]
    return []


def availability_zone_issues(field: str, azs: int, cidr: str | None) -> list[Issue]:
    """An AZ count an ALB cannot span, or more AZs than the VPC `cidr` (when it is valid; None
    when it is not known) fits subnets for. The message names the VPC's field as {cidr}."""
    if not MIN_AZS <= azs <= MAX_AZS:
        allowed = f"expected {MIN_AZS} to {MAX_AZS} (an ALB needs two AZs)"
        return [Issue(field=field, value=azs, allowed=allowed)]
    if cidr is None or vpc_cidr_issues("cidr", cidr):
        return []
    prefix = ipaddress.ip_network(cidr).prefixlen
    if azs > max_azs_for_prefix(prefix):
        allowed = (
            f"{{cidr}} /{prefix} fits subnets (at least /{ALB_MIN_SUBNET_PREFIX} each, the ALB's "
            f"minimum) for at most {max_azs_for_prefix(prefix)} AZs; use a larger {{cidr}} "
            "such as /23"
        )
        return [Issue(field=field, value=azs, allowed=allowed)]
    return []


def tasks_are_private(nat_gateways: str, vpc_endpoints: bool) -> bool:
    """Tasks run in private subnets without public IPs whenever they have a private way out: a NAT
    gateway, or the VPC endpoints of the AWS services they need."""
    return nat_gateways != "none" or vpc_endpoints


# --- what tasks may reach (components.service's security group) ----------------------------------
HTTPS_PORT = 443
ANY_IPV4 = "0.0.0.0/0"
EGRESS_PROTOCOLS = ("tcp", "udp")
# Names of egress rules: they name the rule's resource (`<service>-egress-<name>`).
EGRESS_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
# What EC2 takes as a security group rule's description: up to 255 of these characters, no
# apostrophe (EC2 API reference, IpRange.Description).
SG_RULE_DESCRIPTION_MAX = 255
SG_RULE_DESCRIPTION = re.compile(r"^[A-Za-z0-9 ._\-:/()#,@\[\]+=&;{}!$*]{0,255}$")


@dataclass(frozen=True, kw_only=True)
class EgressRule:
    """One kind of connection the app's tasks may open (their security group's egress).

    name: names the rule's resource; lower-case letters, digits and -, up to 32. Required.
    port: the first (or only) destination port. Required.
    to_port: the last port of a range. Default None: `port` alone.
    protocol: tcp or udp. Default tcp.
    cidr: where to, an IPv4 or IPv6 CIDR. Default 0.0.0.0/0.
    description: what the traffic is for, shown on the rule. Default empty.

    Security groups do not filter the Amazon-provided DNS resolver (the VPC's +2 address and
    169.254.169.253), the ECS task metadata and credentials endpoint (169.254.170.2) or the
    Amazon Time Sync Service, so no rule is needed for them (Amazon VPC user guide, "Security
    group rules": "Security groups don't filter traffic destined to and from ...").
    """

    name: str
    port: int
    to_port: int | None = None
    protocol: str = "tcp"
    cidr: str = ANY_IPV4
    description: str = ""

    @property
    def last_port(self) -> int:
        return self.port if self.to_port is None else self.to_port

    @property
    def ipv6(self) -> bool:
        return ":" in self.cidr

    @property
    def admits(self) -> str:
        """What the rule lets out, in words: `tcp 443 to 0.0.0.0/0`."""
        ports = f"{self.port}" if self.last_port == self.port else f"{self.port}-{self.last_port}"
        return f"{self.protocol} {ports} to {self.cidr}"

    def problems(self) -> list[str]:
        """What is wrong with this rule (empty when nothing is)."""
        found = []
        if not EGRESS_NAME.match(self.name):
            found.append(f"name {self.name!r}: 1 to 32 lower-case letters, digits and -")
        if self.protocol not in EGRESS_PROTOCOLS:
            found.append(f"protocol {self.protocol!r}: expected {joined(EGRESS_PROTOCOLS)}")
        if not 1 <= self.port <= self.last_port <= MAX_PORT:
            found.append(
                f"ports {self.port}-{self.last_port}: expected 1 to {MAX_PORT}, the first no "
                "higher than the last"
            )
        try:
            ipaddress.ip_network(self.cidr, strict=True)
        except ValueError:
            found.append(f"cidr {self.cidr!r}: expected a CIDR such as 10.1.0.0/16 or ::/0")
        if not SG_RULE_DESCRIPTION.match(self.description):
            found.append(
                f"description {self.description!r}: up to 255 letters, digits, spaces and "
                "._-:/()#,@[]+=&;{}!$*"
            )
        return found


# HTTPS out, to anywhere: ECR (the registry and its image layers in S3), CloudWatch Logs, Secrets
# Manager and SSM for the task's secrets, ECS Exec's channels, and the app's own HTTPS calls.
HTTPS_EGRESS = EgressRule(
    name="https",
    port=HTTPS_PORT,
    description="HTTPS: image pulls, logs, secrets, exec and the app HTTPS calls",
)
# What every service's tasks need. A feature that opens another port adds its rule where the stack's
# egress is put together (stack_config's StackConfig.egress_rules): NFS (2049) to the VPC for a file
# system, Service Connect's ports between services.
REQUIRED_TASK_EGRESS = (HTTPS_EGRESS,)


def service_connect_egress(
    internal: Sequence[tuple[str, int]], vpc_cidr: str
) -> tuple[EgressRule, ...]:
    """What a Service Connect client's tasks need beside REQUIRED_TASK_EGRESS: its proxy connects
    to an internal service's tasks on their container port, inside the VPC. One rule a port, from
    the (name, port) of each internal service."""
    by_port: dict[int, list[str]] = {}
    for name, port in internal:
        by_port.setdefault(port, []).append(name)
    return tuple(
        EgressRule(
            name=f"service-connect-{port}",
            port=port,
            cidr=vpc_cidr,
            description=f"Service Connect to the internal services {', '.join(sorted(names))}"[
                :SG_RULE_DESCRIPTION_MAX
            ],
        )
        for port, names in sorted(by_port.items())
    )


def egress_problems(rules: Sequence[EgressRule]) -> list[str]:
    """What is wrong with a security group's egress rules: each rule's problems, names used
    twice, and the same traffic admitted twice (EC2 refuses a duplicate rule)."""
    found = [f"{rule.name}: {p}" for rule in rules for p in rule.problems()]
    names = [rule.name for rule in rules]
    found += [
        f"{n}: the name is used twice" for n in sorted({n for n in names if names.count(n) > 1})
    ]
    seen: dict[tuple[str, int, int, str], str] = {}
    for rule in rules:
        key = (rule.protocol, rule.port, rule.last_port, rule.cidr)
        if key in seen:
            found.append(f"{rule.name}: admits {rule.admits}, as {seen[key]} does already")
        seen.setdefault(key, rule.name)
    return found


# --- the app's container (components.task_definition) ---------------------------------------------
# The task definition's single container; the ops tool (tools/ops) finds it by this name.
CONTAINER_NAME = "app"
# The sample app's own defaults (app/webapp/settings.py); the program passes both to it anyway.
DEFAULT_CONTAINER_PORT = 8000
DEFAULT_HEALTH_CHECK_PATH = "/health"
MAX_PORT = 65535
# ALB health check paths: up to 1024 characters of URL path characters.
HEALTH_CHECK_PATH_PATTERN = re.compile(r"/[A-Za-z0-9._~!$&'()*+,;=:@%/-]{0,1023}")
# Linux lets only root bind ports below this, and ECS adds no capability for it
# (containers-roadmap#1721). For such a containerPort the task lowers the bound to that port in its
# own network namespace (components.task_definition).
UNPRIVILEGED_PORT_START = 1024
# The names linuxParameters.capabilities accepts (botocore's ECS model, KernelCapabilities).
LINUX_CAPABILITIES = (
    "ALL", "AUDIT_CONTROL", "AUDIT_WRITE", "BLOCK_SUSPEND", "CHOWN", "DAC_OVERRIDE",
    "DAC_READ_SEARCH", "FOWNER", "FSETID", "IPC_LOCK", "IPC_OWNER", "KILL", "LEASE",
    "LINUX_IMMUTABLE", "MAC_ADMIN", "MAC_OVERRIDE", "MKNOD", "NET_ADMIN", "NET_BIND_SERVICE",
    "NET_BROADCAST", "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_ADMIN", "SYS_BOOT",
    "SYS_CHROOT", "SYS_MODULE", "SYS_NICE", "SYS_PACCT", "SYS_PTRACE", "SYS_RAWIO", "SYS_RESOURCE",
    "SYS_TIME", "SYS_TTY_CONFIG", "SYSLOG", "WAKE_ALARM",
)  # fmt: skip
# Every capability removed: the app runs as a non-root user (which holds none anyway) and binds a
# low port through a sysctl, not NET_BIND_SERVICE; dropping them from the bounding set as well
# means no setuid binary in the image can gain one. ECS Exec's agent runs as root inside the
# container (ECS developer guide, "ECS Exec": "The SSM agent and its child processes run as root
# even when you specify a user ID"), so with exec on it and its shells are root without
# capabilities. Whether exec works without any is not verified (docs/security.md); keepCapabilities
# (capabilities_to_drop) keeps some where exec or an image needs them.
ALL_CAPABILITIES = "ALL"
DROP_ALL_CAPABILITIES = (ALL_CAPABILITIES,)
# What a container holds unless told otherwise: the container runtime's default set, which ECS's
# KernelCapabilities add and drop are relative to ("the default configuration provided by Docker",
# ECS API reference; moby/moby oci/caps/defaults.go lists these 14).
RUNTIME_DEFAULT_CAPABILITIES = (
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
    "NET_BIND_SERVICE", "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
)  # fmt: skip
# The one capability Fargate lets a task add (ECS API reference, KernelCapabilities.add); adding
# any is the policy pack's ecs-no-added-capabilities to refuse.
FARGATE_ADDABLE_CAPABILITIES = ("SYS_PTRACE",)


def capabilities_to_drop(kept: Collection[str]) -> tuple[str, ...]:
    """linuxParameters.capabilities.drop that leaves the container only `kept` (capabilities of
    the runtime's default set): ALL when nothing is kept, else every other default one. Keeping
    one never adds it, so ecs-no-added-capabilities holds."""
    if not kept:
        return DROP_ALL_CAPABILITIES
    return tuple(c for c in RUNTIME_DEFAULT_CAPABILITIES if c not in kept)


ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# What the program tells the app through its environment, from other settings; a user value of the
# same name would silently disagree with them.
PORT_ENV = "PORT"  # containerPort
HEALTH_CHECK_PATH_ENV = "HEALTH_CHECK_PATH"  # healthCheckPath
GRACEFUL_TIMEOUT_ENV = "GRACEFUL_TIMEOUT"  # the seconds the app gets to finish after SIGTERM
RESERVED_ENV = (PORT_ENV, HEALTH_CHECK_PATH_ENV, GRACEFUL_TIMEOUT_ENV)

# Who the container runs as, and what it may write. The defaults are the sample image's
# (app/Dockerfile: USER 10001:10001, VOLUME /tmp) and the safe ones: not root (Security Hub ECS.20),
# read-only root file system (ECS.5).
DEFAULT_CONTAINER_USER = "10001:10001"
# `containerUser` this word: the task definition names no user, so the image's own USER holds.
IMAGE_USER = "image"
CONTAINER_USER = re.compile(r"^(?P<uid>\d{1,10}):(?P<gid>\d{1,10})$")
MAX_ID = 4294967294  # Linux's largest uid/gid: uid_t is 32 bits and (uid_t)-1 means "none"
ROOT_UID = 0
DEFAULT_READ_ONLY_ROOT = True
# Task storage mounted over these paths is all a read-only root leaves writable. ECS creates each
# mount owned by root with mode 0755, unless the image declares the path a VOLUME: then the mount
# starts as the image's copy of that path, with its owner and mode (aws/containers-roadmap#938;
# "Bind mounts" in the ECS developer guide).
DEFAULT_WRITABLE_PATHS = ("/tmp",)
WRITABLE_PATH = re.compile(r"^(/[A-Za-z0-9._@+-]+)+$")
# ECS Exec's SSM agent writes under these paths (volume name -> path). AWS documents exec as
# unsupported with a read-only root filesystem; giving the agent these writable volumes is the
# known way to keep both (aws-containers/amazon-ecs-exec-checker#71, containers-roadmap#1359).
# Mounted only with exec.
EXEC_AGENT_VOLUMES = {
    "exec-managed-agents": "/managed-agents",
    "exec-ssm-state": "/var/lib/amazon/ssm",
    "exec-ssm-logs": "/var/log/amazon/ssm",
}


def user_problem(user: str | None) -> str | None:
    """What is wrong with a container user: None (the image's own) or a numeric `uid:gid`."""
    if user is None:
        return None
    m = CONTAINER_USER.match(user)
    if not m or int(m["uid"]) > MAX_ID or int(m["gid"]) > MAX_ID:
        return (
            f"expected a numeric uid:gid such as {DEFAULT_CONTAINER_USER} (each 0 to {MAX_ID}), "
            f"or {IMAGE_USER} for the image's own USER"
        )
    return None


def runs_as_root(user: str | None) -> bool:
    """Whether the task definition lets the container run as root: it names uid 0, or no user at
    all (then the image decides, and the policy pack cannot see what it says)."""
    return user is None or user.split(":", 1)[0] == str(ROOT_UID)


def writable_volume_name(path: str) -> str:
    """The task volume mounted at a writable path: the path's segments joined by -, other
    characters as _ (/tmp -> tmp, /var/cache/app -> var-cache-app); RegisterTaskDefinition takes
    letters, digits, - and _."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", path.strip("/").replace("/", "-"))


def writable_path_problem(path: str) -> str | None:
    """What is wrong with one writable path (None when nothing is)."""
    if not WRITABLE_PATH.match(path) or any(s in (".", "..") for s in path.split("/")):
        return (
            "expected an absolute path such as /tmp or /var/cache/app: letters, digits, . _ @ + -, "
            "no trailing /, no . or .. segments"
        )
    return None


def port_issues(field: str, port: int) -> list[Issue]:
    """A port TCP does not have."""
    if 1 <= port <= MAX_PORT:
        return []
    return [Issue(field=field, value=port, allowed=f"expected 1 to {MAX_PORT}")]


def health_check_path_issues(field: str, path: str) -> list[Issue]:
    """A health check path the load balancer would refuse."""
    if HEALTH_CHECK_PATH_PATTERN.fullmatch(path):
        return []
    allowed = "expected a URL path starting with /, such as /health"
    return [Issue(field=field, value=path, allowed=allowed)]


def env_name_issues(
    field: str, name: str, *, program_sets: Sequence[str] = RESERVED_ENV
) -> list[Issue]:
    """An environment variable's name a container cannot have, or one the program sets itself
    (`program_sets`: RESERVED_ENV, and in a stack of several services each worker's queue URL)."""
    if not ENV_NAME.match(name):
        allowed = "names are letters, digits and _, not starting with a digit"
        return [Issue(field=field, value=name, allowed=allowed)]
    if name in program_sets:
        allowed = f"the program sets {joined(program_sets, 'and')} itself"
        return [Issue(field=field, value=name, allowed=allowed)]
    return []


# --- scaling (components.service) -----------------------------------------------------------------
DEFAULT_TASK_COUNT = 1  # desired, minimum and maximum: one task, no autoscaling
DEFAULT_CPU_TARGET = 60  # percent: headroom for a spike while new tasks launch
CPU_TARGET_MIN, CPU_TARGET_MAX = 10, 90  # below 10% thrashes; above 90% leaves no headroom to scale
DEFAULT_ON_DEMAND_BASE = 0  # with spot on, every task may be a Spot task


@dataclass(frozen=True, kw_only=True)
class Scaling:
    """How many tasks a service runs.

    desired_count: tasks to run; with autoscaling, the count at first deploy. Default 1.
    min_count, max_count: autoscaling's bounds; autoscaling is on when max_count > min_count.
        Default 1 and 1: one task, no autoscaling.
    cpu_target: average service CPU percent that target tracking holds. Default 60: headroom for a
        spike while new tasks launch.
    """

    desired_count: int = DEFAULT_TASK_COUNT
    min_count: int = DEFAULT_TASK_COUNT
    max_count: int = DEFAULT_TASK_COUNT
    cpu_target: int = DEFAULT_CPU_TARGET

    @property
    def autoscaling(self) -> bool:
        return self.max_count > self.min_count

    def issues(self, *, scales_to_zero: bool = False) -> list[Issue]:
        """What is wrong with these counts (empty when nothing is): the one home of the rules,
        for the components and the config's main service and services. A service that
        `scales_to_zero` (a worker with nothing to do) may have min_count and desired_count 0.
        The order of the three is checked once each is allowed on its own."""
        least = 0 if scales_to_zero else 1
        found = [
            Issue(field=name, value=value, allowed=f"expected at least {least_of}")
            for name, value, least_of in (
                ("min_count", self.min_count, least),
                ("desired_count", self.desired_count, least),
                ("max_count", self.max_count, 1),
            )
            if value < least_of
        ]
        if not found and self.min_count > self.max_count:
            # The bounds contradict each other whatever desired_count is: name them, not it.
            found.append(
                Issue(
                    field="min_count",
                    value=None,
                    allowed=f"{{min_count}} {self.min_count} is above {{max_count}} "
                    f"{self.max_count}; raise {{max_count}} or lower {{min_count}}",
                )
            )
        elif not found and not self.min_count <= self.desired_count <= self.max_count:
            found.append(
                Issue(
                    field="desired_count",
                    value=None,
                    allowed=f"{{min_count}} {self.min_count} <= {{desired_count}} "
                    f"{self.desired_count} <= {{max_count}} {self.max_count} must hold",
                )
            )
        if not CPU_TARGET_MIN <= self.cpu_target <= CPU_TARGET_MAX:
            found.append(
                Issue(
                    field="cpu_target",
                    value=self.cpu_target,
                    allowed=f"expected {CPU_TARGET_MIN} to {CPU_TARGET_MAX}",
                )
            )
        return found

    def problems(self, *, scales_to_zero: bool = False) -> list[str]:
        """What is wrong with these counts (empty when nothing is), as a component says it."""
        return [issue.problem() for issue in self.issues(scales_to_zero=scales_to_zero)]


def on_demand_base_issues(on_demand_base: int, max_count: int | None) -> list[Issue]:
    """What is wrong with the tasks kept on on-demand Fargate: at least 0, and no more than the
    service may run (`max_count`; None when that is not known)."""
    if on_demand_base < 0 or (max_count is not None and on_demand_base > max_count):
        bound = "{max_count}" + (f" ({max_count})" if max_count is not None else "")
        return [
            Issue(field="on_demand_base", value=on_demand_base, allowed=f"expected 0 to {bound}")
        ]
    return []


# --- deployment strategies (components.service) ---------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class DeploymentStrategy:
    """One of ECS's deployment strategies.

    setting: its name in the `deploymentStrategy` setting; None for one the program does not offer.
    ecs: its name in ECS's deploymentConfiguration.strategy.
    shifts_traffic: whether ECS starts the new tasks in a second target group and moves the
        listener rule's weights to them (so the service needs two target groups and the ECS
        infrastructure role), rather than replacing tasks in one group.
    """

    setting: str | None
    ecs: str
    shifts_traffic: bool


# ECS's native strategies (CreateService's DeploymentStrategy enum, botocore's ecs model).
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-types.html
STRATEGIES = (
    DeploymentStrategy(setting="rolling", ecs="ROLLING", shifts_traffic=False),
    DeploymentStrategy(setting="blueGreen", ecs="BLUE_GREEN", shifts_traffic=True),
    DeploymentStrategy(setting="canary", ecs="CANARY", shifts_traffic=True),
    DeploymentStrategy(setting=None, ecs="LINEAR", shifts_traffic=True),  # not offered (yet)
)
DEPLOYMENT_STRATEGIES = tuple(s.setting for s in STRATEGIES if s.setting)  # the setting's choices
DEFAULT_DEPLOYMENT_STRATEGY = "rolling"  # the fastest (75 s), with no second target group or role
DEFAULT_BAKE_TIME_MINUTES = 5
BAKE_TIME_MAX_MIN = 1440  # ECS's limit
DEFAULT_CANARY_PERCENT = 10
CANARY_PERCENT_MIN, CANARY_PERCENT_MAX = 1, 99


def deployment_strategy(name: str) -> DeploymentStrategy:
    """The strategy called `name`, in the setting's spelling (blueGreen) or ECS's (BLUE_GREEN)."""
    for strategy in STRATEGIES:
        if name in (strategy.setting, strategy.ecs):
            return strategy
    known = ", ".join(s.setting or s.ecs for s in STRATEGIES)
    raise ValueError(f"deployment strategy {name!r}: expected one of {known}")


def shifts_traffic(strategy: str) -> bool:
    """Does `strategy` (rolling, blueGreen, canary, or ECS's ROLLING, BLUE_GREEN, CANARY, LINEAR)
    move traffic between two target groups? The one answer to the question, for the program, the
    config, the components and the plan."""
    return deployment_strategy(strategy).shifts_traffic


@dataclass(frozen=True, kw_only=True)
class Deployment:
    """How a service deploys a new revision.

    strategy: rolling, blueGreen or canary (ECS's native strategies). Default rolling: the fastest
        (75 s), with no second target group or infrastructure role.
    bake_time_minutes: blueGreen/canary: minutes both revisions run after all traffic has shifted
        (and, for canary, minutes the canary serves alone). Default 5.
    canary_percent: canary: percent of traffic the new revision gets first. Default 10.
    sync_traffic_routing: blueGreen/canary: this `pulumi up` writes the service's target groups and
        the rule's weights as the program has them, though ECS owns them between deploys. For a
        running service's switch from rolling; default False.
    """

    strategy: str = DEFAULT_DEPLOYMENT_STRATEGY
    bake_time_minutes: int = DEFAULT_BAKE_TIME_MINUTES
    canary_percent: int = DEFAULT_CANARY_PERCENT
    sync_traffic_routing: bool = False

    @property
    def shifts_traffic(self) -> bool:
        """blueGreen and canary: two target groups, and ECS moves traffic between them."""
        return shifts_traffic(self.strategy)

    @property
    def ecs_owns_routing(self) -> bool:
        """Whether `pulumi up` leaves the live target group and the weights to ECS."""
        return self.shifts_traffic and not self.sync_traffic_routing

    def issues(self) -> list[Issue]:
        """What is wrong with these settings (empty when nothing is): the one home of the rules,
        for the components and the config."""
        found = []
        if self.strategy not in DEPLOYMENT_STRATEGIES:
            allowed = "expected one of " + ", ".join(DEPLOYMENT_STRATEGIES)
            found.append(Issue(field="strategy", value=self.strategy, allowed=allowed))
        if not 0 <= self.bake_time_minutes <= BAKE_TIME_MAX_MIN:
            allowed = f"expected 0 to {BAKE_TIME_MAX_MIN}"
            found.append(
                Issue(field="bake_time_minutes", value=self.bake_time_minutes, allowed=allowed)
            )
        if not CANARY_PERCENT_MIN <= self.canary_percent <= CANARY_PERCENT_MAX:
            allowed = f"expected {CANARY_PERCENT_MIN} to {CANARY_PERCENT_MAX}"
            found.append(Issue(field="canary_percent", value=self.canary_percent, allowed=allowed))
        return found

    def problems(self) -> list[str]:
        """What is wrong with these settings (empty when nothing is), as a component says it."""
        return [issue.problem() for issue in self.issues()]


# --- the edge (components.edge, components.web_acl) -----------------------------------------------
# How viewers reach the load balancer: `none`, straight to an internet-facing ALB; `cloudfront`, to
# a CloudFront distribution whose VPC origin reaches an internal ALB in the private subnets.
EDGE_MODES = ("none", "cloudfront")
DEFAULT_EDGE = "none"  # a deployed stack keeps its load balancer until its owner moves it
# CloudFront's origin response timeout: its default 30 s; 1 to 60 s without a quota increase
# ("Response timeout per origin", quota L-AECE9FA7: the API takes up to 120 s, and values above 60
# are refused until the quota is raised). Source: CloudFront Developer Guide, "Response timeout",
# and botocore's cloudfront model (VpcOriginConfig.OriginReadTimeout).
DEFAULT_ORIGIN_RESPONSE_TIMEOUT_S = 30
ORIGIN_RESPONSE_TIMEOUT_MIN_S, ORIGIN_RESPONSE_TIMEOUT_MAX_S = 1, 60
# CloudFront path patterns: up to 255 of A-Z a-z 0-9 _ - . * $ / ~ " ' @ : + & and the wildcards *
# and ?, case sensitive; a leading / is optional (CloudFront Developer Guide, "Cache behavior
# settings", Path pattern).
CLOUDFRONT_PATH_PATTERN = re.compile(r"^[A-Za-z0-9_\-.*$/~\"'@:+&?]{1,255}$")
# Patterns that match every path: they would cache the app's dynamic pages too. The default
# behavior (`*`, never cached) is the one that matches everything.
MATCH_ALL_PATTERNS = ("*", "/*")
CACHED_PATHS_MAX = 24  # 25 cache behaviors per distribution (CloudFront quota), one the default
# AWS WAF's rate-based rule: requests one client IP may send in WAF's default 5-minute window
# before it is blocked. WAF takes 10 to 2,000,000,000 (botocore's wafv2 model, RateLimit).
DEFAULT_WAF_RATE_LIMIT = 2000  # ~7 requests/s sustained: far above a person, far below a flood
WAF_RATE_LIMIT_MIN, WAF_RATE_LIMIT_MAX = 10, 2_000_000_000
WAF_RATE_WINDOW_S = 300  # WAF's default evaluation window; it takes 60, 120, 300 or 600
# Regions where CloudFront reaches VPC origins, and the AZs (by AZ ID, the same in every account)
# it does not reach there. Source: CloudFront Developer Guide, "Restrict access with VPC origins",
# Supported AWS Regions for VPC origins (checked 2026-12-04); a region AWS adds goes here.
VPC_ORIGIN_REGIONS = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "af-south-1", "ap-east-1", "ap-east-2",
    "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
    "ap-southeast-4", "ap-southeast-5", "ap-southeast-7", "ap-northeast-1", "ap-northeast-2",
    "ap-northeast-3", "ca-central-1", "ca-west-1", "eu-central-1", "eu-central-2", "eu-west-1",
    "eu-west-2", "eu-west-3", "eu-south-1", "eu-south-2", "eu-north-1", "il-central-1",
    "me-south-1", "me-central-1", "sa-east-1", "mx-central-1",
)  # fmt: skip
VPC_ORIGIN_UNSUPPORTED_AZ_IDS = ("use1-az3", "usw1-az2", "apne1-az3", "cac1-az3")
# CloudFront's own certificates live in us-east-1, whatever the region of what they front
# (ACM User Guide, "Supported Regions"); so does a CLOUDFRONT-scope web ACL and its log group
# (AWS WAF Developer Guide: CloudFront web ACLs are managed in US East (N. Virginia)).
CLOUDFRONT_REGION = "us-east-1"


def path_pattern_problems(patterns: Sequence[str]) -> list[str]:
    """What is wrong with the paths CloudFront may cache, each named (empty when nothing is)."""
    found = [
        f"{p!r} is not a CloudFront path pattern: up to 255 of the letters, digits and "
        "_-.*$/~\"'@:+&? (such as /static/*)"
        for p in patterns
        if not CLOUDFRONT_PATH_PATTERN.match(p)
    ]
    found += [
        f"{p!r} matches every path, so the app's dynamic pages would be cached too; name the "
        "static ones, such as /static/*"
        for p in patterns
        if p in MATCH_ALL_PATTERNS
    ]
    # CloudFront treats a pattern with and without its leading / alike.
    seen: set[str] = set()
    for p in patterns:
        key = p.removeprefix("/")
        if key in seen:
            found.append(f"{p!r} is given twice (with or without its leading /, it is one path)")
        seen.add(key)
    if len(patterns) > CACHED_PATHS_MAX:
        found.append(
            f"{len(patterns)} given; a distribution takes {CACHED_PATHS_MAX} besides its default "
            "behavior (CloudFront quota 'Cache behaviors per distribution')"
        )
    return found


# --- alarms (components.alarm_topic) --------------------------------------------------------------
DEFAULT_ALARM_TOPIC_ENCRYPTED = True  # its own KMS key, about $1 a month
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


# --- secrets (components.secrets) -----------------------------------------------------------------
# A deleted secret can be restored this many days; AWS allows 7 to 30 (or 0: gone at once).
PROTECTED_RECOVERY_WINDOW_DAYS = 30  # prod: AWS's longest, a month to notice a mistaken delete


# --- the image (components.image) -----------------------------------------------------------------
# What to build, relative to the project (Pulumi.yaml's directory, where Pulumi runs the program):
# the sample app and Docker's default file name in it.
DEFAULT_BUILD_CONTEXT = "app"
DOCKERFILE_NAME = "Dockerfile"
DEFAULT_DOCKERFILE = f"{DEFAULT_BUILD_CONTEXT}/{DOCKERFILE_NAME}"


@dataclass(frozen=True, kw_only=True)
class ImageBuild:
    """An image built from source: the Docker build context and the Dockerfile.

    Both are paths relative to the project (the directory of Pulumi.yaml), so that the state is the
    same on every machine (an absolute path would show a diff, and rebuild, on each one);
    pulumi-docker reads a Dockerfile path relative to the project too, and sends a Dockerfile from
    outside the context along with it (pulumi/pulumi-docker#542).

    context: the directory Docker sends to the build. Default "app", the sample app.
    dockerfile: the Dockerfile. Default "app/Dockerfile"; the stack config defaults it to
        `<context>/Dockerfile`, Docker's own default.
    """

    context: str = DEFAULT_BUILD_CONTEXT
    dockerfile: str = DEFAULT_DOCKERFILE


@dataclass(frozen=True, kw_only=True)
class ImageRef:
    """A prebuilt ECR image reference, split into its parts (exactly one of tag and digest)."""

    uri: str
    account: str
    region: str
    repository: str
    tag: str | None = None
    digest: str | None = None


# --- file systems (components.file_system; issue 16: `fileSystems` and `mounts`) ----------------
# EFS lifecycle transitions (TransitionToIA: AFTER_<n>_DAY(S), botocore's EFS model).
INFREQUENT_ACCESS_DAYS = (1, 7, 14, 30, 60, 90, 180, 270, 365)
# A month untouched: files read daily or weekly stay in Standard storage, where reads cost least;
# what nobody opened for a month costs about a twelfth in Infrequent Access.
DEFAULT_INFREQUENT_ACCESS_DAYS = 30
FILE_SYSTEM_NAME = re.compile(r"^[a-z](?:[a-z0-9-]{0,30}[a-z0-9])?$")  # names its resources
NFS_PORT = 2049  # EFS mount targets listen on NFS's port only
EFS_VOLUME_PREFIX = "efs-"  # a file system's task volume is efs-<name>, beside the writable paths
# The security groups a task's network interface may carry (VPC quota, "Security groups per network
# interface", 5 unless raised): its own, Service Connect's members group, one per file system.
SECURITY_GROUPS_PER_INTERFACE = 5
# A mount path: a writable path's grammar (not /, normalised: ECS takes it as written).
MOUNT_PATH = WRITABLE_PATH
MOUNT_PATH_MAX = 255


@dataclass(frozen=True, kw_only=True)
class FileSystemSpec:
    """One entry of `fileSystems`, validated (stack_config.file_systems).

    name: its key in `fileSystems`; names its resources and its access point's directory.
    user: the numeric uid:gid its access point acts as and owns its directory with: the user the
        containers that mount it run as. Required (the config defaults it to the container user).
    infrequent_access_days: days without access after which a file moves to Infrequent Access
        storage. Default DEFAULT_INFREQUENT_ACCESS_DAYS (30).
    """

    name: str
    user: str
    infrequent_access_days: int = DEFAULT_INFREQUENT_ACCESS_DAYS

    @property
    def uid(self) -> int:
        return int(self.user.split(":")[0])

    @property
    def gid(self) -> int:
        return int(self.user.split(":")[1])

    @property
    def directory(self) -> str:
        """The access point's root: the file system's own directory, never EFS's / (EFS.3)."""
        return f"/{self.name}"


@dataclass(frozen=True, kw_only=True)
class FileSystemMount:
    """One entry of a `mounts` setting: a file system of `fileSystems` in a task's container.

    file_system: the file system's name. Required.
    path: where the container sees it, absolute. Required.
    read_only: the task may only read it (no ClientWrite either). Default False.
    """

    file_system: str
    path: str
    read_only: bool = False


# --- scheduled jobs (components.scheduled_tasks) --------------------------------------------------
# Names: letters, digits, - and _ fit every name derived from them (task family, schedule, role,
# queue, log stream prefix). The length bound keeps the longest auto-named child, the role
# "<component>-<name>-role" plus Pulumi's 8-character suffix, within IAM's 64 characters for a
# component name of up to 18 characters.
TASK_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
TASK_NAME_MAX = 32
DEFAULT_TIMEZONE = "UTC"  # EventBridge Scheduler's own


@dataclass(frozen=True, kw_only=True)
class ScheduledTask:
    """One job, as the stack config's `scheduledTasks` describes it (validated there).

    name: the job's key in `scheduledTasks`; names its resources.
    schedule: an EventBridge Scheduler expression: cron(...), rate(...) or at(...).
    command: the container's command, replacing the image's CMD (no shell runs it).
    cpu, memory: the task's size. Default DEFAULT_CPU/DEFAULT_MEMORY_MIB (256/512), Fargate's
        smallest; the config defaults them to the service's size.
    timezone: IANA time zone the expression is evaluated in. Default UTC, Scheduler's own.
    enabled: False keeps the schedule but pauses it (state DISABLED). Default True.
    mounts: the file systems its task mounts (its own, not the service's). Default none; a job
        that mounts one runs with a task role of its own.
    """

    name: str
    schedule: str
    command: tuple[str, ...]
    cpu: int = DEFAULT_CPU
    memory: int = DEFAULT_MEMORY_MIB
    timezone: str = DEFAULT_TIMEZONE
    enabled: bool = True
    mounts: tuple[FileSystemMount, ...] = ()

    @property
    def size(self) -> TaskSize:
        return TaskSize(cpu=self.cpu, memory=self.memory)


# --- IAM roles (every component that creates one) ------------------------------------------------
# IAM's rules for a path: `/`, or `/`-delimited segments of printable ASCII, at most 512 characters
# (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html).
IAM_PATH = re.compile(r"^/(?:[\x21-\x7e]+/)?$")
IAM_PATH_MAX = 512
# A managed policy's ARN, in any partition, with or without a path.
ACCOUNT_ID = re.compile(r"^\d{12}$")  # an AWS account ID: 12 digits, leading zeros included
MANAGED_POLICY_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:policy/(?:[\w+=,.@-]+/)*[\w+=,.@-]+$")


def stack_role_path(project: str, stack: str) -> str:
    """Where the program puts a stack's roles: the bootstrap's deploy role of that stack may
    create, change and pass roles under exactly this path (bootstrap/ci_bootstrap)."""
    return f"/{project}/{stack}/"


# The delivery path's scoping tags (bootstrap/ci_bootstrap/deploy_permissions.py, a test keeps the
# two in step). Every resource carries the stack's tag, project-qualified so that no other
# project's `stack` tag falls under a stack's grants; the role that deploys a stack carries its
# deploys tag, which the alarm topic's key admits.
STACK_TAG_KEY = "{project}:stack"
DEPLOYS_TAG_KEY = "{project}:deploys"


def stack_tag_key(project: str) -> str:
    return STACK_TAG_KEY.format(project=project)


def deploys_tag_key(project: str) -> str:
    return DEPLOYS_TAG_KEY.format(project=project)


# --- the KMS keys the program makes ------------------------------------------------------------
# What pulumi up does to a key after creating it: read, update, rotate, tag and delete it; no
# cryptography (bootstrap/ci_bootstrap/deploy_permissions.py's table, `aws:kms/key:Key`).
KEY_MANAGEMENT_ACTIONS = (
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
    "kms:PutKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:EnableKeyRotation",
    "kms:DisableKeyRotation",
    "kms:ListResourceTags",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:EnableKey",
    "kms:DisableKey",
    "kms:UpdateKeyDescription",
)


def account_governs_key_statement(account_id: str, partition: str) -> dict[str, object]:
    """AWS's default key-policy statement: IAM policies of this account may grant use of the key
    (an app role's kms:Decrypt, an administrator's), without which nobody could be granted it."""
    return {
        "Sid": "IamPoliciesOfThisAccountGovernTheKey",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }


def deploy_role_manages_key_statement(
    account_id: str, project: str, stack: str
) -> dict[str, object]:
    """The role that deploys `stack` (the bootstrap tags it `<project>:deploys: <stack>`) manages
    the key. The grant is the key's own: the bootstrap gives deploy roles no IAM grant on keys by
    their tags, which a role allowed to tag a new key could write onto any key; so every key the
    program makes names its deploy role here, or CI could create it and then never update it."""
    return {
        "Sid": "TheStacksDeployRoleManagesTheKey",
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": list(KEY_MANAGEMENT_ACTIONS),
        "Resource": "*",
        "Condition": {
            "StringEquals": {
                "aws:PrincipalAccount": account_id,
                f"aws:PrincipalTag/{deploys_tag_key(project)}": stack,
            }
        },
    }


# Secrets Manager names the program's secrets start with: the bootstrap's deploy role reaches a
# stack's secrets by this prefix, which no tag can fake (deploy_permissions.APP_SECRET_PREFIX).
SECRET_NAME_PREFIX = "{project}/{stack}/"


def secret_name_prefix(project: str, stack: str) -> str:
    return SECRET_NAME_PREFIX.format(project=project, stack=stack)


@dataclass(frozen=True, kw_only=True)
class RolePlacement:
    """Where a component's IAM roles live and what bounds them.

    path: the IAM path of every role it creates. Default "/", IAM's own; the program passes
        `stack_role_path(project, stack)`, so a stack's CI deploy role can be confined to its own
        roles. A role's path cannot change in place: changing it replaces the role.
    permissions_boundary: the ARN of a managed policy set as every role's permissions boundary
        (the bootstrap makes one per stack). Default None: no boundary, for users without the
        bootstrap. Changes in place.
    """

    path: str = "/"
    permissions_boundary: str | None = None

    def problems(self) -> list[str]:
        problems = []
        if not IAM_PATH.match(self.path) or len(self.path) > IAM_PATH_MAX:
            problems.append(
                f"path {self.path!r}: IAM paths are / or /segments/ of printable ASCII, at most "
                f"{IAM_PATH_MAX} characters"
            )
        boundary = self.permissions_boundary
        if boundary is not None and not MANAGED_POLICY_ARN.match(boundary):
            problems.append(f"permissions_boundary {boundary!r}: expected a managed policy ARN")
        return problems


# --- the stack's other services (issue 15: `services`) --------------------------------------------
# A service is one of three kinds. web: behind the stack's load balancer on its own paths or hosts.
# internal: no load balancer; the stack's other services reach it at http://NAME:PORT through ECS
# Service Connect. worker: no port; drains its own SQS queue.
WEB, INTERNAL, WORKER = "web", "internal", "worker"
SERVICE_TYPES = (WEB, INTERNAL, WORKER)
# Names are DNS labels (lower case letters, digits and -, starting with a letter): a name becomes
# the Service Connect host name, a Cloud Map DNS name, an ECR repository and <NAME>_QUEUE_URL.
SERVICE_NAME = re.compile(r"^[a-z](?:[a-z0-9-]*[a-z0-9])?$")
DNS_LABEL_MAX = 63
DISCOVERY_NAME_MAX = 64  # a Cloud Map service name Service Connect creates
# The main service's component name, and the stack's other components: a service named like one
# would share its children's logical names (and, under the mocks, their physical ones).
MAIN_SERVICE = "app"
STACK_COMPONENTS = (
    "app",
    "network",
    "cluster",
    "web",
    "alarms",
    "jobs",
    "domain",
    "alb-logs",
    "services",
    "exec",
    "edge",
    "waf",
)
JOBS_COMPONENT = "jobs"  # components.scheduled_tasks' instance: its jobs' names start jobs-<job>
AUTONAME_SUFFIX_LEN = 8  # Pulumi's auto-name suffix: "-" and 7 random hex characters


@dataclass(frozen=True)
class GeneratedName:
    """A name AWS limits that the program derives from a service's name."""

    what: str  # the resource, as a user knows it
    suffix: str  # appended to the service name
    limit: int  # AWS's limit on the whole name
    autonamed: bool  # Pulumi appends AUTONAME_SUFFIX_LEN characters
    types: tuple[str, ...]  # the kinds of service that get it
    traffic_shift_only: bool = False  # only with blueGreen/canary

    def length(self, name: str) -> int:
        return len(name) + len(self.suffix) + (AUTONAME_SUFFIX_LEN if self.autonamed else 0)


# The generated names with the tightest limits; the others (log group, family, alarms, ECS service)
# are bounded with a hash (components.naming) or far from their limits.
GENERATED_NAMES = (
    # https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html
    GeneratedName("target group", "-tg", 32, True, (WEB,)),
    GeneratedName("alternate target group", "-tg-alt", 32, True, (WEB,), traffic_shift_only=True),
    # https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html
    GeneratedName("execution role", "-exec", 64, True, SERVICE_TYPES),
    GeneratedName("task role", "-task", 64, True, SERVICE_TYPES),
    GeneratedName(
        "ECS infrastructure role", "-ecs-infra", 64, True, (WEB,), traffic_shift_only=True
    ),
    # https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html
    GeneratedName("queue", "-queue", 80, True, (WORKER,)),
    GeneratedName("dead-letter queue", "-dlq", 80, True, (WORKER,)),
    # https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceConnectService.html
    GeneratedName("Service Connect discovery name", "-sc", DISCOVERY_NAME_MAX, False, (INTERNAL,)),
)


def generated_name_problems(name: str, kind: str, shifts: bool) -> list[str]:
    """The generated names of service `name` (of `kind`) that would exceed AWS's limits."""
    return [
        f"its {g.what} name ({name}{g.suffix}"
        + (" plus Pulumi's 8-character suffix" if g.autonamed else "")
        + f") would be {g.length(name)} characters; AWS allows {g.limit}"
        for g in GENERATED_NAMES
        if kind in g.types and (shifts or not g.traffic_shift_only) and g.length(name) > g.limit
    ]


def service_name_max(kind: str, shifts: bool) -> int:
    """The longest name a service of `kind` may have (the tightest of its generated names)."""
    limits = [
        g.limit - len(g.suffix) - (AUTONAME_SUFFIX_LEN if g.autonamed else 0)
        for g in GENERATED_NAMES
        if kind in g.types and (shifts or not g.traffic_shift_only)
    ]
    return min([DNS_LABEL_MAX, *limits])


def queue_url_env(service: str) -> str:
    """The environment variable that holds worker `service`'s queue URL: API -> API_QUEUE_URL."""
    return service.upper().replace("-", "_") + "_QUEUE_URL"


def service_namespace_name(project: str, stack: str) -> str:
    """The stack's Service Connect namespace (Cloud Map): <stack>.<project>.internal, each part a
    DNS label (lower case; other characters become -)."""

    def label(text: str) -> str:
        return (
            re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", text.lower()))
            .strip("-")[:DNS_LABEL_MAX]
            .strip("-")
            or "x"
        )

    return f"{label(stack)}.{label(project)}.internal"


# The Application Load Balancer's quotas (not adjustable, but the rules per load balancer).
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html
ALB_RULES_MAX = 100  # rules per load balancer, default rules excluded
ALB_TARGET_GROUPS_MAX = 100  # target groups per load balancer
ALB_CONDITION_VALUES_PER_RULE = 5  # condition values (host and path together) per rule
ALB_CONDITION_WILDCARDS_PER_RULE = 5  # * and ? per rule
ALB_WILDCARDS = "*?"  # in path and host patterns: * any run of characters, ? exactly one
# Listener rules: "up to three comparison strings per condition and up to five per rule".
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-rules.html
ALB_VALUES_PER_CONDITION = 3
# Path patterns: case-sensitive, up to 128 characters of these; * any run, ? one character.
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-condition-types.html
ALB_PATTERN_MAX = 128
# Request paths start with /: a pattern starting otherwise (but with a wildcard) would match none.
PATH_PATTERN = re.compile(r"^[/*?][A-Za-z0-9_\-.$/~\"'@:+&*?]{0,127}$")
# Host names: case-insensitive, up to 128 characters of letters, digits, - . * ?; at least one
# "." and only letters after the last one.
HOST_PATTERN = re.compile(r"^(?=.{1,128}$)[A-Za-z0-9\-.*?]*\.[A-Za-z*?]+$")


# ECS Service Connect adds a proxy container to every task of a service in its namespace, sized
# from the task's own CPU and memory: "We recommend adding 256 CPU units and at least 64 MiB of
# memory to your task CPU and memory for the Service Connect proxy container."
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-connect-concepts-deploy.html#service-connect-concepts-proxy
SERVICE_CONNECT_PROXY_CPU = 256
SERVICE_CONNECT_PROXY_MEMORY_MIB = 64


def size_with_proxy(size: TaskSize) -> TaskSize | None:
    """The smallest Fargate size with room for `size` and the Service Connect proxy beside it
    (None when even the largest has none)."""
    cpu_needed = size.cpu + SERVICE_CONNECT_PROXY_CPU
    memory_needed = size.memory + SERVICE_CONNECT_PROXY_MEMORY_MIB
    for cpu, memories in FARGATE_MEMORY_BY_CPU.items():
        fits = [m for m in memories if m >= memory_needed]
        if cpu >= cpu_needed and fits:
            return TaskSize(cpu=cpu, memory=fits[0])
    return None


# Workers: their queue, its dead-letter queue, and how they scale on its backlog.
DEFAULT_MAX_RECEIVES = 5  # a message that failed five times will not succeed on the sixth
MAX_RECEIVES_MIN, MAX_RECEIVES_MAX = 1, 1000  # SQS's maxReceiveCount range
# Messages one task may have waiting before another starts: AWS's rule is the latency a message
# may wait divided by the time one takes; 10 suits jobs of seconds that may wait a minute.
# https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-target-tracking-metric-math.html
DEFAULT_BACKLOG_PER_TASK = 10
BACKLOG_PER_TASK_MIN, BACKLOG_PER_TASK_MAX = 1, 100_000


@dataclass(frozen=True, kw_only=True)
class Route:
    """Where the load balancer sends a web service's requests: every request whose host matches
    one of `hosts` (any host when empty) and whose path matches one of `paths` (any path when
    empty); at least one of the two is given. `priority` orders the rule (lower first)."""

    paths: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    priority: int = 1


def alb_pattern_matches(pattern: str, text: str, *, case_sensitive: bool) -> bool:
    """Does `text` match the ALB pattern `pattern` (`*` any run of characters, `?` exactly one)?"""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    flags = 0 if case_sensitive else re.IGNORECASE
    return re.fullmatch(regex, text, flags | re.DOTALL) is not None


def web_address(route: Route) -> tuple[str | None, str] | None:
    """Where a web service answers, as (host, path): its first host without wildcards (None when
    it has no host: any host, so the stack's address) and the first of its paths, cut at the first
    wildcard, that its own rule takes (/api/* -> /api/). None when its patterns name no such
    address (only wildcard hosts; paths such as *.jpg or /img/*.png): any address made up for it
    would be answered by another service."""
    host: str | None = None
    if route.hosts:
        named = [h.lower() for h in route.hosts if not any(c in h for c in ALB_WILDCARDS)]
        if not named:
            return None
        host = named[0]
    if not route.paths:
        return host, "/"
    for path in route.paths:
        prefix = re.split(r"[*?]", path, maxsplit=1)[0] or "/"
        if any(alb_pattern_matches(p, prefix, case_sensitive=True) for p in route.paths):
            return host, prefix
    return None


def web_url(base_url: str, address: tuple[str | None, str]) -> str:
    """The url of a web service's `web_address`, on the stack's address `base_url` when it names
    no host: https://app.example.com + (None, /api/) -> https://app.example.com/api/."""
    host, path = address
    scheme, _, stack_address = base_url.partition("://")
    return f"{scheme}://{host or stack_address.split('/', 1)[0]}{path}"


@dataclass(frozen=True, kw_only=True)
class ServiceSpec:
    """One entry of the `services` setting, validated (stack_config.services), with the main
    service's settings filled in where it leaves them unset.

    name: its key in `services`; names its components and resources.
    kind: web, internal or worker.
    command: replaces the image's CMD. Default (): the image's own.
    port: where it listens (web, internal); None for a worker.
    health_check_path: what the load balancer's health check requests (web); passed to the app.
    size, scaling: task size and counts; a worker may scale to zero.
    cpu_target: web, internal: average CPU percent target tracking holds.
    spot, on_demand_base: capacity, as the main service's settings.
    env, secrets: its own environment and secrets (env var name -> ARN); none are inherited.
    build, image: its own image, built or prebuilt; neither: the main service's image.
    route: web: its listener rule.
    backlog_per_task, max_receives: worker: messages per task it scales on; receives before a
        message goes to the dead-letter queue.
    container_user, read_only_root, writable_paths: who its container runs as (None: the image's
        own USER) and what it may write (no paths with a writable root); unset, the main
        container's. Default the sample image's 10001:10001 on a read-only root with /tmp writable.
    mounts: the file systems its tasks mount. Default none.
    """

    name: str
    kind: str
    command: tuple[str, ...] = ()
    port: int | None = DEFAULT_CONTAINER_PORT
    health_check_path: str = DEFAULT_HEALTH_CHECK_PATH
    size: TaskSize = TaskSize()
    scaling: Scaling = Scaling()
    spot: bool = False
    on_demand_base: int = DEFAULT_ON_DEMAND_BASE
    env: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    build: ImageBuild | None = None
    image: ImageRef | None = None
    route: Route | None = None
    backlog_per_task: int = DEFAULT_BACKLOG_PER_TASK
    max_receives: int = DEFAULT_MAX_RECEIVES
    container_user: str | None = DEFAULT_CONTAINER_USER
    read_only_root: bool = DEFAULT_READ_ONLY_ROOT
    writable_paths: tuple[str, ...] = DEFAULT_WRITABLE_PATHS
    mounts: tuple[FileSystemMount, ...] = ()

    @property
    def queue_env(self) -> str:
        return queue_url_env(self.name)


# --- components' argument checks ------------------------------------------------------------------
def check_args(component: str, problems: Sequence[str]) -> None:
    """Raise one ValueError naming every problem with a component's arguments (none: return).

    Components call it before super().__init__, so bad arguments leave nothing in state, not
    even the component (tests/test_component_args.py holds every component to it)."""
    if problems:
        raise ValueError(f"{component}: " + "; ".join(problems))
