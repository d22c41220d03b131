"""Monthly idle cost in us-east-1, itemised, computed from the resources the program registered.

"Idle" means the stack running with no traffic: every load balancer, NAT gateway, endpoint and
public IPv4 address for the whole month, and each ECS service at its idle task count (the
autoscaling minimum, else the desired count). Charges that depend on traffic or volume are named in
`excluded` but not estimated.

Prices are us-east-1 on-demand list prices, each a named constant with its source and the date it
was checked. To price a new kind of resource, add its price constant and a function decorated
with `@prices("<type token>")` that returns `Line`s; totals, grouping, JSON and text follow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from tools.mocks import RegisteredResource
from tools.plan.lookups import (
    CONTAINER_INSIGHTS_OFF,
    CPU_UNITS_PER_VCPU,
    MIB_PER_GIB,
    capacity_base,
    capacity_weight,
    container_insights,
    dig,
    idle_tasks,
    load_balancer_type,
    metric_periods,
    queried_metrics,
    runtime_platform,
    vpc_endpoint_type,
)
from tools.plan.refs import Index

PRICES_REGION = "us-east-1"
PRICES_CHECKED = "2026-11-25"
# AWS's own convention for a month of hours (24 x 365 / 12), used by the AWS Pricing Calculator.
HOURS_PER_MONTH = 730
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Price:
    """One list price: `usd` per `unit` per `per` (hour or month)."""

    usd: Decimal
    unit: str
    per: str
    source: str

    def __str__(self) -> str:
        return f"${self.usd}/{'h' if self.per == 'hour' else 'month'}"


def _p(usd: str, unit: str, per: str, source: str) -> Price:
    return Price(Decimal(usd), unit, per, source)


ELB_PRICING = "https://aws.amazon.com/elasticloadbalancing/pricing/"
VPC_PRICING = "https://aws.amazon.com/vpc/pricing/"
FARGATE_PRICING = "https://aws.amazon.com/fargate/pricing/"
# All checked on PRICES_CHECKED against the AWS pages named (us-east-1 tab), and against
# third-party summaries of the same list prices (vantage.sh/blog/fargate-pricing,
# handbook.vantage.sh/aws/services/elb-pricing).
ALB_HOUR = _p("0.0225", "load balancer", "hour", ELB_PRICING)
NLB_HOUR = _p("0.0225", "load balancer", "hour", ELB_PRICING)
# Every public IPv4 address, attached or idle, since 2024-02-01: ALB nodes (one per AZ), NAT
# gateways' Elastic IPs, tasks with a public IP.
# Source: https://aws.amazon.com/blogs/aws/new-aws-public-ipv4-address-charge-public-ip-insights/
PUBLIC_IPV4_HOUR = _p("0.005", "public IPv4 address", "hour", VPC_PRICING)
NAT_GATEWAY_HOUR = _p("0.045", "NAT gateway", "hour", VPC_PRICING)
# Per endpoint per AZ it has a network interface in. Gateway endpoints (S3, DynamoDB) are free.
INTERFACE_ENDPOINT_AZ_HOUR = _p(
    "0.01", "endpoint-AZ", "hour", "https://aws.amazon.com/privatelink/pricing/"
)
# Fargate, Linux, per vCPU-hour and per GB-hour, by CPU architecture.
FARGATE_VCPU_HOUR = {
    "X86_64": _p("0.04048", "vCPU", "hour", FARGATE_PRICING),
    "ARM64": _p("0.03238", "vCPU", "hour", FARGATE_PRICING),
}
FARGATE_GB_HOUR = {
    "X86_64": _p("0.004445", "GB", "hour", FARGATE_PRICING),
    "ARM64": _p("0.00356", "GB", "hour", FARGATE_PRICING),
}
# Fargate Spot's price moves with spare capacity; AWS advertises "up to 70%" off on-demand and the
# us-east-1 Spot price has sat near that. Assumed: exactly 70% off, for any architecture.
FARGATE_SPOT_DISCOUNT = Decimal("0.70")
# CloudWatch alarms, per alarm metric a month: standard (period >= 60 s) and high resolution
# (< 60 s). A metric-math alarm is billed for each metric it queries, so the unit is the metric.
# Target tracking scaling policies create two alarms (scale out, scale in) that are billed too.
CLOUDWATCH_PRICING = "https://aws.amazon.com/cloudwatch/pricing/"
ALARM_METRIC = "alarm metric"
ALARM_MONTH = _p("0.10", ALARM_METRIC, "month", CLOUDWATCH_PRICING)
ALARM_HIGH_RES_MONTH = _p("0.30", ALARM_METRIC, "month", CLOUDWATCH_PRICING)
HIGH_RESOLUTION_BELOW_S = 60  # an alarm on a period under a minute is billed as high resolution
TARGET_TRACKING_ALARMS = 2
SECRET_MONTH = _p("0.40", "secret", "month", "https://aws.amazon.com/secrets-manager/pricing/")
# Customer managed KMS keys (AWS managed and AWS owned keys are free).
KMS_KEY_MONTH = _p("1.00", "key", "month", "https://aws.amazon.com/kms/pricing/")

# EFS bills only by use (Regional file system, elastic throughput): an empty, idle file system
# costs $0, so it adds no line to the idle estimate; what it bills by is named under "Not
# included". us-east-1, Regional with elastic throughput, from https://aws.amazon.com/efs/pricing/
# since EFS Archive's launch (2023-11-27; the page's table is quoted at blog.gslin.org/archives/
# tag/tiering): Infrequent Access is $0.016, not the legacy throughput modes' $0.025 that some
# summaries still give. Checked on EFS_PRICES_CHECKED.
EFS_PRICING = "https://aws.amazon.com/efs/pricing/"
EFS_PRICES_CHECKED = "2026-12-04"
EFS_STANDARD_GB_MONTH = _p("0.30", "GB", "month", EFS_PRICING)
EFS_INFREQUENT_GB_MONTH = _p("0.016", "GB", "month", EFS_PRICING)
EFS_INFREQUENT_READ_GB = Decimal("0.01")  # per GB read from Infrequent Access storage
EFS_ELASTIC_READ_GB = Decimal("0.03")  # per GB read, elastic throughput
EFS_ELASTIC_WRITE_GB = Decimal("0.06")  # per GB written, elastic throughput
EFS_BY_USE = (
    f"EFS storage (${EFS_STANDARD_GB_MONTH.usd}/GB-month Standard, "
    f"${EFS_INFREQUENT_GB_MONTH.usd}/GB-month Infrequent Access plus ${EFS_INFREQUENT_READ_GB}/GB "
    f"read from it) and elastic throughput (${EFS_ELASTIC_READ_GB}/GB read, "
    f"${EFS_ELASTIC_WRITE_GB}/GB written); an empty, idle file system costs $0 "
    f"({EFS_PRICING}, checked {EFS_PRICES_CHECKED})"
)
# AWS WAF: each web ACL, and each rule in it (an AWS managed rule group counts as one rule; the
# Common, KnownBadInputs and IP reputation groups carry no subscription fee of their own), a month;
# requests inspected are billed per million on top. Checked 2026-12-04 against AWS's blog "Cost-
# effective ways for securing your web applications using AWS WAF" and third-party summaries of
# the same list prices (c3x.dev, awsnegotiations.com); the same in every region.
WAF_PRICING = "https://aws.amazon.com/waf/pricing/"
WAF_ACL_MONTH = _p("5.00", "web ACL", "month", WAF_PRICING)
WAF_RULE_MONTH = _p("1.00", "rule", "month", WAF_PRICING)

ASSUMPTIONS = (
    f"{HOURS_PER_MONTH} hours a month; us-east-1 on-demand list prices checked {PRICES_CHECKED}",
    "idle: no traffic, each service at its autoscaling minimum (else its desired count)",
    f"Fargate Spot at {FARGATE_SPOT_DISCOUNT:.0%} off on-demand (it varies; AWS says up to 70%)",
    "no free tier, savings plans or credits",
)


@dataclass
class Line:
    """One priced item: `quantity` units at `price`, for one resource."""

    item: str  # what it is, e.g. "Public IPv4: load balancer"
    resource: str  # the resource it comes from
    quantity: Decimal
    price: Price
    note: str = ""
    alarms: int = 0  # for alarm metrics: how many alarms they belong to
    monthly: Decimal = field(init=False)

    def __post_init__(self) -> None:
        hours = HOURS_PER_MONTH if self.price.per == "hour" else 1
        self.monthly = (self.quantity * self.price.usd * hours).quantize(CENT, ROUND_HALF_UP)


@dataclass
class Context:
    """What pricers may need besides the resource: the index and the traffic-dependent extras."""

    index: Index
    excluded: set[str] = field(default_factory=set)


Pricer = Callable[[RegisteredResource, Context], list[Line]]
PRICERS: dict[str, Pricer] = {}
# Traffic- or volume-dependent charges, named when a resource of the type exists.
EXCLUDED_BY_TYPE: dict[str, str] = {
    "aws:lb/loadBalancer:LoadBalancer": "load balancer capacity units (LCU-hours, traffic)",
    "aws:ec2/natGateway:NatGateway": "NAT gateway data processing (per GB)",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "interface endpoint data processing (per GB)",
    "aws:cloudwatch/logGroup:LogGroup": "CloudWatch Logs ingestion and storage (per GB)",
    "aws:ecr/repository:Repository": "ECR image storage (per GB-month)",
    "aws:ec2/flowLog:FlowLog": "VPC flow log delivery (per GB)",
    "aws:s3/bucket:Bucket": "S3 storage and requests",
    "aws:s3/bucketV2:BucketV2": "S3 storage and requests",
    "aws:scheduler/schedule:Schedule": "scheduled tasks' Fargate time (per run)",
    "aws:sns/topic:Topic": "SNS notifications (per message)",
    "aws:secretsmanager/secret:Secret": "Secrets Manager API calls (per 10,000)",
    "aws:route53/zone:Zone": "Route 53 hosted zone and queries",
    "aws:sqs/queue:Queue": "SQS requests (per million; idle workers' polls are requests too)",
    "aws:servicediscovery/httpNamespace:HttpNamespace": (
        "Cloud Map registered instances and lookups (per instance-month, per million)"
    ),
    "aws:kms/key:Key": "KMS requests and rotated key material (per 10,000 / per version)",
    "aws:efs/fileSystem:FileSystem": EFS_BY_USE,
    "aws:efs/backupPolicy:BackupPolicy": "AWS Backup's copies of the file systems (per GB-month)",
    # CloudFront has no monthly charge: a distribution and its VPC origin cost nothing idle.
    "aws:cloudfront/distribution:Distribution": (
        "CloudFront requests (per 10,000) and data transfer out to viewers (per GB)"
    ),
    "aws:wafv2/webAcl:WebAcl": "AWS WAF requests inspected (per million)",
}
ALWAYS_EXCLUDED = ("data transfer out to the internet and between AZs (per GB)",)


def prices(*types: str) -> Callable[[Pricer], Pricer]:
    def register(fn: Pricer) -> Pricer:
        for t in types:
            PRICERS[t] = fn
        return fn

    return register


# -- pricers -------------------------------------------------------------------------------------


@prices("aws:lb/loadBalancer:LoadBalancer")
def _load_balancer(r: RegisteredResource, ctx: Context) -> list[Line]:
    kind = load_balancer_type(r)
    price = {"application": ALB_HOUR, "network": NLB_HOUR}.get(kind)
    if price is None:
        ctx.excluded.add(f"{kind} load balancer {r.name} (not modeled)")
        return []
    label = "Application Load Balancer" if kind == "application" else "Network Load Balancer"
    lines = [Line(label, r.name, Decimal(1), price)]
    public = not r.inputs.get("internal") and r.inputs.get("ipAddressType") != (
        "dualstack-without-public-ipv4"
    )
    if public:
        subnets = r.inputs.get("subnets") or r.inputs.get("subnetMappings") or []
        lines.append(
            Line(
                "Public IPv4: load balancer",
                r.name,
                Decimal(len(subnets)),
                PUBLIC_IPV4_HOUR,
                "one per AZ",
            )
        )
    return lines


@prices("aws:ec2/eip:Eip")
def _elastic_ip(r: RegisteredResource, ctx: Context) -> list[Line]:
    users = [
        n.name
        for n in ctx.index.of_type("aws:ec2/natGateway:NatGateway")
        if ctx.index.resolve(n.inputs.get("allocationId")) is r
    ]
    item = "Public IPv4: NAT gateway" if users else "Public IPv4: Elastic IP"
    return [Line(item, r.name, Decimal(1), PUBLIC_IPV4_HOUR)]


@prices("aws:ec2/natGateway:NatGateway")
def _nat_gateway(r: RegisteredResource, ctx: Context) -> list[Line]:
    # A public NAT gateway's address is its Elastic IP, priced with the Eip resource.
    return [Line("NAT gateway", r.name, Decimal(1), NAT_GATEWAY_HOUR)]


@prices("aws:ec2/vpcEndpoint:VpcEndpoint")
def _vpc_endpoint(r: RegisteredResource, ctx: Context) -> list[Line]:
    if vpc_endpoint_type(r) != "Interface":
        return []
    azs = len(r.inputs.get("subnetIds") or []) or 1
    # com.amazonaws.<region>.<service>, where the service may itself have dots (ecr.api).
    name = str(r.inputs.get("serviceName", ""))
    service = ".".join(name.split(".")[3:]) if name.startswith("com.amazonaws.") else name
    return [
        Line(
            "Interface VPC endpoints",
            r.name,
            Decimal(azs),
            INTERFACE_ENDPOINT_AZ_HOUR,
            f"{service}, one per AZ",
        )
    ]


@prices("aws:cloudwatch/metricAlarm:MetricAlarm")
def _alarm(r: RegisteredResource, ctx: Context) -> list[Line]:
    # Billed per metric the alarm evaluates: one, or each metric a metric-math alarm queries.
    metrics = len(queried_metrics(r)) or 1
    high_res = any(p < HIGH_RESOLUTION_BELOW_S for p in metric_periods(r))
    price = ALARM_HIGH_RES_MONTH if high_res else ALARM_MONTH
    note = "high resolution" if high_res else ""
    return [Line("CloudWatch alarms", r.name, Decimal(metrics), price, note, alarms=1)]


@prices("aws:appautoscaling/policy:Policy")
def _scaling_policy(r: RegisteredResource, ctx: Context) -> list[Line]:
    if r.inputs.get("policyType") != "TargetTrackingScaling":
        return []
    return [
        Line(
            "CloudWatch alarms",
            r.name,
            Decimal(TARGET_TRACKING_ALARMS),
            ALARM_MONTH,
            "target tracking's own",
            alarms=TARGET_TRACKING_ALARMS,
        )
    ]


@prices("aws:wafv2/webAcl:WebAcl")
def _web_acl(r: RegisteredResource, ctx: Context) -> list[Line]:
    rules = len(r.inputs.get("rules") or [])
    lines = [Line("AWS WAF web ACL", r.name, Decimal(1), WAF_ACL_MONTH)]
    if rules:
        note = "each AWS managed rule group is one"
        lines.append(Line("AWS WAF web ACL rules", r.name, Decimal(rules), WAF_RULE_MONTH, note))
    return lines


@prices("aws:kms/key:Key")
def _kms_key(r: RegisteredResource, ctx: Context) -> list[Line]:
    return [Line("KMS keys", r.name, Decimal(1), KMS_KEY_MONTH)]


@prices("aws:secretsmanager/secret:Secret")
def _secret(r: RegisteredResource, ctx: Context) -> list[Line]:
    return [Line("Secrets Manager secrets", r.name, Decimal(1), SECRET_MONTH)]


@prices("aws:ecs/cluster:Cluster")
def _cluster(r: RegisteredResource, ctx: Context) -> list[Line]:
    if container_insights(r) != CONTAINER_INSIGHTS_OFF:
        ctx.excluded.add(
            f"Container Insights on {r.name} (custom metrics and performance logs, per metric/GB)"
        )
    return []


def split_by_capacity_provider(count: int, strategies: list[dict[str, Any]]) -> dict[str, int]:
    """How ECS spreads `count` tasks over a capacity provider strategy: each provider's `base`
    first (in order), the rest in proportion to `weight` (largest remainder, ties in order)."""
    if not strategies:
        return {"FARGATE": count}
    placed = {s["capacityProvider"]: 0 for s in strategies}
    left = count
    for s in strategies:
        n = min(capacity_base(s), left)
        placed[s["capacityProvider"]] += n
        left -= n
    weights = [(s["capacityProvider"], capacity_weight(s)) for s in strategies]
    total = sum(w for _, w in weights)
    if left and total == 0:
        placed[weights[0][0]] += left
    elif left:
        shares = [(cp, Decimal(left * w) / total) for cp, w in weights]
        for cp, share in shares:
            placed[cp] += int(share)
        rest = left - sum(int(share) for _, share in shares)
        by_fraction = sorted(
            range(len(shares)), key=lambda i: (-(shares[i][1] - int(shares[i][1])), i)
        )
        for i in by_fraction[:rest]:
            placed[shares[i][0]] += 1
    return {cp: n for cp, n in placed.items() if n}


def _strategies(service: RegisteredResource, index: Index) -> list[dict[str, Any]]:
    if service.inputs.get("capacityProviderStrategies"):
        return list(service.inputs["capacityProviderStrategies"])
    if service.inputs.get("launchType"):
        return [{"capacityProvider": service.inputs["launchType"], "base": 0, "weight": 1}]
    cluster = index.resolve(service.inputs.get("cluster"))
    cluster_name = cluster.inputs.get("name") if cluster else None
    for cp in index.of_type("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders"):
        if cluster_name and cp.inputs.get("clusterName") == cluster_name:
            return list(cp.inputs.get("defaultCapacityProviderStrategies") or [])
    return []


def fargate_task_hour(arch: str, vcpu: Decimal, gb: Decimal, spot: bool) -> Decimal:
    """On-demand or Spot price of one task-hour."""
    price = vcpu * FARGATE_VCPU_HOUR[arch].usd + gb * FARGATE_GB_HOUR[arch].usd
    return price * (1 - FARGATE_SPOT_DISCOUNT) if spot else price


@prices("aws:ecs/service:Service")
def _service(r: RegisteredResource, ctx: Context) -> list[Line]:
    ix = ctx.index
    tasks = idle_tasks(r, ix)
    task_def = ix.resolve(r.inputs.get("taskDefinition"))
    if tasks == 0 or task_def is None:
        return []
    os_family, arch = runtime_platform(task_def)
    if os_family != "LINUX" or arch not in FARGATE_VCPU_HOUR:
        ctx.excluded.add(f"{r.name}: Fargate {os_family} {arch} (not modeled)")
        return []
    # Fargate requires a task-level size, so every task definition a Fargate service runs has one.
    vcpu = Decimal(int(task_def.inputs["cpu"])) / CPU_UNITS_PER_VCPU
    gb = Decimal(int(task_def.inputs["memory"])) / MIB_PER_GIB
    lines = []
    for provider, n in split_by_capacity_provider(tasks, _strategies(r, ix)).items():
        if provider not in ("FARGATE", "FARGATE_SPOT"):
            ctx.excluded.add(f"{r.name}: {n} task(s) on capacity provider {provider} (not modeled)")
            continue
        spot = provider == "FARGATE_SPOT"
        hourly = fargate_task_hour(arch, vcpu, gb, spot)
        note = f"{vcpu:g} vCPU + {gb:g} GB" + (f", {FARGATE_SPOT_DISCOUNT:.0%} off" if spot else "")
        price = Price(hourly, "task", "hour", FARGATE_PRICING)
        item = f"Fargate {'Spot' if spot else 'on-demand'} {arch}"
        lines.append(Line(item, r.name, Decimal(n), price, note))
    if dig(r.inputs, "networkConfiguration", "assignPublicIp"):
        lines.append(Line("Public IPv4: tasks", r.name, Decimal(tasks), PUBLIC_IPV4_HOUR))
    return lines


# -- the estimate ----------------------------------------------------------------------------------


def estimate(index: Index, region: str) -> dict[str, Any]:
    """The itemised monthly idle cost, as plain data (JSON-ready)."""
    ctx = Context(index)
    lines: list[Line] = []
    for r in sorted(index.resources, key=lambda r: (r.type, r.name)):
        if not r.custom:
            continue
        if r.type in EXCLUDED_BY_TYPE:
            ctx.excluded.add(EXCLUDED_BY_TYPE[r.type])
        pricer = PRICERS.get(r.type)
        if pricer is not None:
            lines.extend(pricer(r, ctx))
    items = _group(lines)
    total = sum((i["monthly_dec"] for i in items), Decimal(0))
    for i in items:
        del i["monthly_dec"]
    assumptions = list(ASSUMPTIONS)
    if region != PRICES_REGION:
        assumptions.insert(0, f"the stack is in {region}; these are {PRICES_REGION} prices")
    return {
        "currency": "USD",
        "prices_region": PRICES_REGION,
        "prices_checked": PRICES_CHECKED,
        "hours_per_month": HOURS_PER_MONTH,
        "items": items,
        "total": float(total),
        "excluded": sorted(ctx.excluded) + list(ALWAYS_EXCLUDED),
        "assumptions": assumptions,
        "lines": [_line_json(x) for x in lines],
    }


def _line_json(line: Line) -> dict[str, Any]:
    d = asdict(line)
    d["quantity"] = float(line.quantity)
    d["monthly"] = float(line.monthly)
    d["price"] = {**asdict(line.price), "usd": float(line.price.usd)}
    return d


def _group(lines: list[Line]) -> list[dict[str, Any]]:
    """Lines of the same item at the same price become one item, with their resources listed."""
    groups: dict[tuple[str, Decimal, str, str], list[Line]] = {}
    for line in lines:
        key = (line.item, line.price.usd, line.price.per, line.note)
        groups.setdefault(key, []).append(line)
    items: list[dict[str, Any]] = []
    for (item, usd, per, note), members in groups.items():
        monthly = sum((m.monthly for m in members), Decimal(0))
        items.append(
            {
                "item": item,
                "quantity": float(sum((m.quantity for m in members), Decimal(0))),
                "unit": members[0].price.unit,
                "unit_price": float(usd),
                "per": per,
                "note": note,
                "resources": sorted({m.resource for m in members}),
                "monthly": float(monthly),
                "monthly_dec": monthly,
                # Alarm metrics also say how many alarms they are ("5 alarms, 6 metrics").
                **(
                    {"alarms": sum(m.alarms for m in members)}
                    if members[0].price.unit == ALARM_METRIC
                    else {}
                ),
            }
        )
    items.sort(
        key=lambda i: (
            _ITEM_ORDER.get(i["item"].split(":")[0].split(" ")[0], 99),
            i["item"],
            i["note"],
        )
    )
    return items


# Display order: what you pay for the service itself first, then the network around it.
_ITEM_ORDER = {
    "Fargate": 0,
    "Application": 1,
    "Network": 1,
    "NAT": 2,
    "Interface": 3,
    "Public": 4,
    "AWS": 5,
}
