"""The resource tree: every resource under its component, with the settings that matter.

Order: the component tree (a resource under its parent), and among siblings providers first, then
resources, then child components, each by type and name. Registration order under the mocks is
not deterministic; this order is, so the committed snapshots only change when the program does.

Settings: `SHOWN` maps a resource type to a function returning its key settings as
(name, value) pairs. A type without one still prints, with its type, name and its simple inputs
(`generic_settings`), so a newly added resource is visible before anyone writes a formatter.
To show a new type well, add a function decorated with `@shows("aws:<module>/<x>:<X>")`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from components.edge import MANAGED_POLICY_NAMES
from components.spec import (
    RUNTIME_DEFAULT_CAPABILITIES,
    SERVICE_CONNECT_PROXY_CPU,
    SERVICE_CONNECT_PROXY_MEMORY_MIB,
)
from tools.mocks import RegisteredResource
from tools.plan.lookups import (
    CPU_UNITS_PER_VCPU,
    MIB_PER_GIB,
    TG_DEFAULT_DEREGISTRATION_S,
    TG_DEFAULT_HEALTHY,
    TG_DEFAULT_INTERVAL_S,
    TG_DEFAULT_TIMEOUT_S,
    TG_DEFAULT_UNHEALTHY,
    alarm_period,
    capacity_base,
    capacity_weight,
    container_definitions,
    container_insights,
    deployment_strategy,
    dig,
    efs_volumes,
    load_balancer_type,
    parse_json,
    runtime_platform,
    scaling_target,
    stop_timeout,
    vpc_endpoint_type,
    writable_paths,
)
from tools.plan.refs import Index, is_provider, short_type

# What a formatter returns: (name, value) pairs; a value of None or "" is left out.
Settings = list[tuple[str, Any]]
Formatter = Callable[[RegisteredResource, Index], Settings]

SHOWN: dict[str, Formatter] = {}

# Generic display: at most this many simple inputs, each value cut to this many characters.
GENERIC_MAX_SETTINGS = 8
GENERIC_MAX_CHARS = 60
# Inputs never shown by the generic display: noise (tags) or values that may be secret.
GENERIC_SKIP = frozenset({"tags", "tagsAll", "name", "namePrefix", "region"})
SECRET_KEY = re.compile(r"password|secret|token|private|credential", re.IGNORECASE)
# The image tag is a hash of app/: shown as a placeholder so that editing the app does not change
# the committed plans (the infrastructure did not change).
CONTENT_HASH_TAG = re.compile(r":[0-9a-f]{12,64}-(amd64|arm64)$")


def shows(*types: str) -> Callable[[Formatter], Formatter]:
    def register(fn: Formatter) -> Formatter:
        for t in types:
            SHOWN[t] = fn
        return fn

    return register


# -- order ---------------------------------------------------------------------------------------


def _rank(r: RegisteredResource) -> int:
    if is_provider(r):
        return 0
    return 1 if r.custom else 2


def sort_key(r: RegisteredResource) -> tuple[int, str, str]:
    return (_rank(r), r.type, r.name)


def ordered(index: Index) -> list[tuple[int, RegisteredResource]]:
    """(depth, resource) in display order: depth 0 are the stack's direct children."""
    children: dict[str, list[RegisteredResource]] = {}
    roots = []
    for r in index.resources:
        if r.parent in index.by_urn:
            children.setdefault(r.parent, []).append(r)
        else:
            roots.append(r)
    out: list[tuple[int, RegisteredResource]] = []

    def walk(nodes: list[RegisteredResource], depth: int) -> None:
        for node in sorted(nodes, key=sort_key):
            out.append((depth, node))
            walk(children.get(node.urn, []), depth + 1)

    walk(roots, 0)
    return out


def flags(r: RegisteredResource) -> list[str]:
    out = []
    if r.protect:
        out.append("protected")
    if r.retain_on_delete:
        out.append("retained on delete")
    if r.delete_before_replace:
        out.append("deleted before replace")
    if r.ignore_changes:
        out.append("ignores changes to " + ", ".join(sorted(r.ignore_changes)))
    return out


def tree(index: Index) -> list[dict[str, Any]]:
    """The resource tree as plain data (for JSON and for the text renderer)."""
    providers = [r for r in index.resources if is_provider(r)]
    out = []
    for depth, r in ordered(index):
        settings = settings_of(r, index)
        if r.custom and not is_provider(r) and len(providers) > 1 and r.provider:
            settings.append(("provider", r.provider.split("::")[-2]))
        out.append(
            {
                "depth": depth,
                "type": r.type,
                "display_type": short_type(r.type),
                "name": r.name,
                "urn": r.urn,
                "component": not r.custom,
                "flags": flags(r),
                "settings": dict(settings),
            }
        )
    return out


def settings_of(r: RegisteredResource, index: Index) -> list[tuple[str, str]]:
    if not r.custom:
        return []
    fn = SHOWN.get(r.type, generic_settings)
    return [(k, str(v)) for k, v in fn(r, index) if v is not None and v != ""]


def generic_settings(r: RegisteredResource, index: Index) -> Settings:
    """Simple inputs (strings, numbers, booleans, short lists) of a type without a formatter."""
    out: Settings = []
    for key in sorted(r.inputs):
        value = r.inputs[key]
        if key in GENERIC_SKIP or SECRET_KEY.search(key):
            continue
        if isinstance(value, dict):
            continue
        if isinstance(value, list) and not all(isinstance(v, str | int | float) for v in value):
            continue
        document = parse_json(value) if isinstance(value, str) and value[:1] in "{[" else None
        if isinstance(document, dict | list):
            # A JSON document (a policy, usually): its statements' Sids say what it allows.
            out.append((key, statement_ids(document) or "(JSON document)"))
            continue
        text = index.label(value)
        if len(text) > GENERIC_MAX_CHARS:
            text = text[: GENERIC_MAX_CHARS - 3] + "..."
        out.append((key, text))
        if len(out) == GENERIC_MAX_SETTINGS:
            break
    return out


# -- helpers -------------------------------------------------------------------------------------


def yes_no(value: Any) -> str:
    return "yes" if value else "no"


def _ports(protocol: Any, lo: Any, hi: Any) -> str:
    proto = str(protocol)
    if proto in ("-1", "all"):
        return "all traffic"
    if lo is None or (lo == 0 and hi in (0, 65535) and proto != "icmp"):
        return f"{proto} all ports"
    return f"{proto} {lo}" if lo == hi or hi is None else f"{proto} {lo}-{hi}"


def _peer(rule: dict[str, Any], index: Index) -> str:
    for key in ("cidrIpv4", "cidrIpv6", "prefixListId"):
        if rule.get(key):
            return index.label(rule[key])
    if rule.get("referencedSecurityGroupId"):
        return index.label(rule["referencedSecurityGroupId"])
    for key in ("cidrBlocks", "ipv6CidrBlocks", "securityGroups", "prefixListIds"):
        if rule.get(key):
            return index.label(rule[key])
    return "itself" if rule.get("self") else "nothing"


def _gib(mib: Any) -> str:
    return f"{int(mib) / MIB_PER_GIB:g} GB"


def _vcpu(units: Any) -> str:
    return f"{int(units) / CPU_UNITS_PER_VCPU:g} vCPU"


# -- providers and networking --------------------------------------------------------------------


@shows("pulumi:providers:aws")
def _aws_provider(r: RegisteredResource, ix: Index) -> Settings:
    tags = dig(parse_json(r.inputs.get("defaultTags")), "tags", default={})
    return [
        ("region", r.inputs.get("region")),
        ("default tags", ", ".join(f"{k}={v}" for k, v in sorted(tags.items())) or "none"),
    ]


@shows("aws:ec2/vpc:Vpc")
def _vpc(r: RegisteredResource, ix: Index) -> Settings:
    return [
        ("cidr", r.inputs.get("cidrBlock")),
        ("ipv6", "Amazon-provided /56" if r.inputs.get("assignGeneratedIpv6CidrBlock") else "no"),
        (
            "dns",
            f"hostnames {yes_no(r.inputs.get('enableDnsHostnames'))}, "
            f"resolution {yes_no(r.inputs.get('enableDnsSupport', True))}",
        ),
    ]


@shows("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
def _default_sg(r: RegisteredResource, ix: Index) -> Settings:
    rules = len(r.inputs.get("ingress") or []) + len(r.inputs.get("egress") or [])
    return [("rules", f"{rules}" if rules else "none: the default group allows nothing")]


# Why the network makes private subnets that nothing in the stack uses yet (dev without a NAT):
# they cost nothing, and an internal load balancer, interface endpoints or a NAT gateway (with the
# tasks moving in) can use them later without changing the VPC's layout.
UNUSED_PRIVATE_SUBNET = (
    "nothing yet (free; kept for an internal load balancer, VPC endpoints or a NAT gateway, "
    "so adding one changes no subnet)"
)


def _mentions(value: Any, wanted: str) -> bool:
    if isinstance(value, dict):
        return any(_mentions(v, wanted) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_mentions(v, wanted) for v in value)
    return value == wanted


def _subnet_users(subnet: RegisteredResource, ix: Index) -> list[str]:
    """The resources placed in the subnet (its route table association aside)."""
    return sorted(
        r.name
        for r in ix.resources
        if r is not subnet
        and r.custom
        and r.type != "aws:ec2/routeTableAssociation:RouteTableAssociation"
        and subnet.id
        and _mentions(r.inputs, subnet.id)
    )


@shows("aws:ec2/subnet:Subnet")
def _subnet(r: RegisteredResource, ix: Index) -> Settings:
    tier = dig(r.inputs, "tags", "tier")
    out = [
        ("az", r.inputs.get("availabilityZone")),
        (
            "cidr",
            f"{r.inputs.get('cidrBlock')}"
            + (", IPv6 /64" if r.inputs.get("ipv6CidrBlock") else ""),
        ),
        ("tier", tier),
        ("public IP on launch", yes_no(r.inputs.get("mapPublicIpOnLaunch"))),
    ]
    if tier == "private" and not _subnet_users(r, ix):
        out.append(("used by", UNUSED_PRIVATE_SUBNET))
    return out


@shows("aws:ec2/routeTable:RouteTable")
def _route_table(r: RegisteredResource, ix: Index) -> Settings:
    inline = r.inputs.get("routes") or []
    routes = [ix.label(i) for i in inline]
    routes += [
        _route_text(x, ix)
        for x in ix.of_type("aws:ec2/route:Route")
        if ix.resolve(x.inputs.get("routeTableId")) is r
    ]
    return [("routes", "; ".join(sorted(routes)) or "local only")]


def _route_text(route: RegisteredResource, ix: Index) -> str:
    dest = route.inputs.get("destinationCidrBlock") or route.inputs.get("destinationIpv6CidrBlock")
    targets = (
        "gatewayId",
        "natGatewayId",
        "egressOnlyGatewayId",
        "transitGatewayId",
        "vpcEndpointId",
        "networkInterfaceId",
        "vpcPeeringConnectionId",
    )
    target = next((route.inputs[k] for k in targets if route.inputs.get(k)), None)
    return f"{ix.label(dest)} via {ix.label(target)}"


@shows("aws:ec2/route:Route")
def _route(r: RegisteredResource, ix: Index) -> Settings:
    return [("route", _route_text(r, ix)), ("table", ix.label(r.inputs.get("routeTableId")))]


@shows("aws:ec2/routeTableAssociation:RouteTableAssociation")
def _rta(r: RegisteredResource, ix: Index) -> Settings:
    return [
        ("subnet", ix.label(r.inputs.get("subnetId") or r.inputs.get("gatewayId"))),
        ("table", ix.label(r.inputs.get("routeTableId"))),
    ]


@shows("aws:ec2/internetGateway:InternetGateway")
def _igw(r: RegisteredResource, ix: Index) -> Settings:
    return [("vpc", ix.label(r.inputs.get("vpcId")))]


@shows("aws:ec2/eip:Eip")
def _eip(r: RegisteredResource, ix: Index) -> Settings:
    users = [
        n.name
        for n in ix.of_type("aws:ec2/natGateway:NatGateway")
        if ix.resolve(n.inputs.get("allocationId")) is r
    ]
    return [("public IPv4", "1 (Elastic IP)"), ("used by", ", ".join(users) or "nothing")]


@shows("aws:ec2/natGateway:NatGateway")
def _nat(r: RegisteredResource, ix: Index) -> Settings:
    return [
        ("connectivity", r.inputs.get("connectivityType", "public")),
        ("subnet", ix.label(r.inputs.get("subnetId"))),
        ("elastic IP", ix.label(r.inputs.get("allocationId"))),
    ]


@shows("aws:ec2/vpcEndpoint:VpcEndpoint")
def _endpoint(r: RegisteredResource, ix: Index) -> Settings:
    kind = vpc_endpoint_type(r)
    out = [("service", r.inputs.get("serviceName")), ("type", kind)]
    if kind == "Interface":
        subnets = r.inputs.get("subnetIds") or []
        out += [
            ("subnets", f"{len(subnets)}: {ix.label(subnets)}"),
            ("private DNS", yes_no(r.inputs.get("privateDnsEnabled"))),
            ("security groups", ix.label(r.inputs.get("securityGroupIds") or [])),
        ]
    else:
        out.append(("route tables", ix.label(r.inputs.get("routeTableIds") or [])))
    out.append(("policy", policy_scope(parse_json(r.inputs.get("policy")), ix)))
    return out


def _values_text(value: Any, ix: Index) -> str:
    values = value if isinstance(value, list) else [value]
    return ", ".join(ix.label(v) for v in values)


def policy_scope(document: Any, ix: Index) -> str:
    """What a resource policy (an endpoint's) lets through, a statement a clause: its actions, on
    what, under which conditions. No document: the service's default, full access."""
    statements = dig(document, "Statement", default=[])
    if isinstance(statements, dict):
        statements = [statements]
    clauses = []
    for st in statements:
        if not isinstance(st, dict):
            continue
        actions = "any action" if st.get("Action") == "*" else _values_text(st.get("Action"), ix)
        resources = st.get("Resource")
        clause = f"{st.get('Effect', 'Allow').lower()} {actions}"
        if resources not in (None, "*", ["*"]):
            clause += " on " + _values_text(resources, ix).replace("arn:aws:s3:::", "")
        conditions = [
            f"{key} {_values_text(value, ix)}"
            for keys in (st.get("Condition") or {}).values()
            for key, value in keys.items()
        ]
        if conditions:
            clause += " if " + " and ".join(conditions)
        clauses.append(clause)
    return "; ".join(clauses) or "full access (no endpoint policy)"


def _admits(rules: list[dict[str, Any]], word: str, ix: Index) -> str:
    return "; ".join(
        f"{_ports(x.get('ipProtocol'), x.get('fromPort'), x.get('toPort'))} {word} {_peer(x, ix)}"
        for x in rules
    )


@shows("aws:ec2/securityGroup:SecurityGroup")
def _sg(r: RegisteredResource, ix: Index) -> Settings:
    out = [("description", r.inputs.get("description"))]
    for direction, key, word in (("in", "ingress", "from"), ("out", "egress", "to")):
        for rule in r.inputs.get(key) or []:
            ports = _ports(rule.get("protocol"), rule.get("fromPort"), rule.get("toPort"))
            out.append((f"inline {direction}", f"{ports} {word} {_peer(rule, ix)}"))
    rules = [
        x
        for x in ix.of_type(
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
        )
        if ix.resolve(x.inputs.get("securityGroupId")) is r
    ]
    out.append(("rule resources", ", ".join(sorted(x.name for x in rules)) or "none"))
    if not r.inputs.get("egress"):
        # What the tasks (or the load balancer) may reach, in one line; a group without egress
        # rules reaches nothing (pulumi-aws removes AWS's default allow-all rule).
        egress = [x.inputs for x in sorted(rules, key=lambda x: x.name) if "Egress" in x.type]
        out.append(("admits out", _admits(egress, "to", ix) or "nothing"))
    return out


@shows(
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
)
def _sg_rule(r: RegisteredResource, ix: Index) -> Settings:
    ingress = r.type.endswith("IngressRule")
    ports = _ports(r.inputs.get("ipProtocol"), r.inputs.get("fromPort"), r.inputs.get("toPort"))
    return [
        (
            "allows",
            f"{'in' if ingress else 'out'}: {ports} "
            f"{'from' if ingress else 'to'} {_peer(r.inputs, ix)}",
        ),
        ("group", ix.label(r.inputs.get("securityGroupId"))),
        ("description", r.inputs.get("description")),
    ]


@shows("aws:ec2/flowLog:FlowLog")
def _flow_log(r: RegisteredResource, ix: Index) -> Settings:
    source = next(
        (
            r.inputs[k]
            for k in ("vpcId", "subnetId", "eniId", "transitGatewayId")
            if r.inputs.get(k)
        ),
        None,
    )
    destination = r.inputs.get("logDestination") or r.inputs.get("logGroupName")
    return [
        ("captures", f"{r.inputs.get('trafficType', 'ALL')} traffic of {ix.label(source)}"),
        ("to", f"{r.inputs.get('logDestinationType', 'cloud-watch-logs')} {ix.label(destination)}"),
        (
            "aggregation",
            f"{r.inputs['maxAggregationInterval']} s"
            if r.inputs.get("maxAggregationInterval")
            else None,
        ),
    ]


# -- image, roles, cluster ---------------------------------------------------------------------


@shows("aws:ecr/repository:Repository")
def _repo(r: RegisteredResource, ix: Index) -> Settings:
    enc = dig(r.inputs, "encryptionConfigurations", 0, "encryptionType", default="AES256")
    return [
        ("tags", "immutable" if r.inputs.get("imageTagMutability") == "IMMUTABLE" else "mutable"),
        ("scan on push", yes_no(dig(r.inputs, "imageScanningConfiguration", "scanOnPush"))),
        ("encryption", enc),
        ("force delete", yes_no(r.inputs.get("forceDelete"))),
    ]


@shows("aws:ecr/lifecyclePolicy:LifecyclePolicy")
def _lifecycle(r: RegisteredResource, ix: Index) -> Settings:
    rules = dig(parse_json(r.inputs.get("policy")), "rules", default=[])
    shown = []
    for rule in rules:
        sel = rule.get("selection", {})
        if sel.get("countType") == "imageCountMoreThan":
            tags = sel.get("tagStatus", "any")
            shown.append(f"keep the last {sel.get('countNumber')} images (tags: {tags})")
        else:
            shown.append(rule.get("description", "rule"))
    return [("repository", ix.label(r.inputs.get("repository"))), ("rules", "; ".join(shown))]


@shows("docker:index/image:Image")
def _image(r: RegisteredResource, ix: Index) -> Settings:
    name = CONTENT_HASH_TAG.sub(r":<hash of the build context>-\1", str(r.inputs.get("imageName")))
    build = r.inputs.get("build") or {}
    return [
        ("build", f"{build.get('context')} ({build.get('dockerfile')})"),
        ("platform", build.get("platform")),
        ("pushed as", ix.label(name)),
    ]


@shows("aws:iam/role:Role")
def _role(r: RegisteredResource, ix: Index) -> Settings:
    out = [("description", r.inputs.get("description")), ("path", r.inputs.get("path", "/"))]
    if r.inputs.get("permissionsBoundary"):
        out.append(("permissions boundary", ix.label(r.inputs["permissionsBoundary"])))
    for st in dig(parse_json(r.inputs.get("assumeRolePolicy")), "Statement", default=[]):
        principal = st.get("Principal", {})
        who = principal.get("Service") or principal.get("Federated") or principal.get("AWS")
        conditions = sorted(key for op in (st.get("Condition") or {}).values() for key in op)
        out.append(
            (
                f"trust {st.get('Sid', '')}".strip(),
                f"{ix.label(who)}" + (f" if {', '.join(conditions)}" if conditions else ""),
            )
        )
    return out


@shows("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
def _attachment(r: RegisteredResource, ix: Index) -> Settings:
    return [
        ("role", ix.label(r.inputs.get("role"))),
        ("policy", ix.label(r.inputs.get("policyArn")).rsplit("/", 1)[-1]),
    ]


def statement_ids(document: Any) -> str:
    """A policy's statements by Sid (or effect and actions): what it allows, in a line."""
    statements = dig(document, "Statement", default=[])
    if isinstance(statements, dict):
        statements = [statements]
    return "; ".join(
        str(s.get("Sid") or f"{s.get('Effect')} {s.get('Action')}")
        for s in statements
        if isinstance(s, dict)
    )


@shows(
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/policy:Policy",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:sns/topicPolicy:TopicPolicy",
    "aws:sqs/queuePolicy:QueuePolicy",
)
def _policy(r: RegisteredResource, ix: Index) -> Settings:
    target = next((k for k in ("role", "bucket", "arn", "queueUrl") if r.inputs.get(k)), None)
    return [
        (target or "attached to", ix.label(r.inputs.get(target)) if target else None),
        ("statements", statement_ids(parse_json(r.inputs.get("policy"))) or "none"),
    ]


@shows("aws:kms/key:Key")
def _kms_key(r: RegisteredResource, ix: Index) -> Settings:
    spec = r.inputs.get("keySpec") or r.inputs.get("customerMasterKeySpec") or "SYMMETRIC_DEFAULT"
    return [
        ("description", r.inputs.get("description")),
        (
            "usage",
            f"{r.inputs.get('keyUsage', 'ENCRYPT_DECRYPT')} {spec}",
        ),
        ("rotation", "yearly" if r.inputs.get("enableKeyRotation") else "off"),
        ("deletion window", f"{r.inputs.get('deletionWindowInDays', 30)} days"),
        ("policy", statement_ids(parse_json(r.inputs.get("policy"))) or "the account's default"),
    ]


@shows("aws:ecs/cluster:Cluster")
def _cluster(r: RegisteredResource, ix: Index) -> Settings:
    exec_config = dig(r.inputs, "configuration", "executeCommandConfiguration", default={})
    log = exec_config.get("logConfiguration") or {}
    sessions = None
    if exec_config:
        group = ix.label(log.get("cloudWatchLogGroupName"))
        sessions = (
            f"{exec_config.get('logging', 'DEFAULT')} to {group}"
            + (" (encrypted)" if log.get("cloudWatchEncryptionEnabled") else "")
            + (
                f", data encrypted with {ix.label(exec_config['kmsKeyId'])}"
                if exec_config.get("kmsKeyId")
                else ""
            )
        )
    return [
        ("name", r.inputs.get("name")),
        ("container insights", container_insights(r)),
        ("exec sessions", sessions),
    ]


def _strategy_text(strategies: list[dict[str, Any]]) -> str:
    return "; ".join(
        f"{s.get('capacityProvider')} base {capacity_base(s)} weight {capacity_weight(s)}"
        for s in strategies
    )


@shows("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders")
def _capacity(r: RegisteredResource, ix: Index) -> Settings:
    return [
        ("cluster", ix.label(r.inputs.get("clusterName"))),
        ("capacity providers", ", ".join(r.inputs.get("capacityProviders") or [])),
        (
            "default strategy",
            _strategy_text(r.inputs.get("defaultCapacityProviderStrategies") or []),
        ),
    ]


# -- load balancing --------------------------------------------------------------------------------


@shows("aws:lb/loadBalancer:LoadBalancer")
def _alb(r: RegisteredResource, ix: Index) -> Settings:
    subnets = r.inputs.get("subnets") or [
        m.get("subnetId") for m in r.inputs.get("subnetMappings") or []
    ]
    logs = r.inputs.get("accessLogs") or {}
    return [
        ("type", load_balancer_type(r)),
        ("scheme", "internal" if r.inputs.get("internal") else "internet-facing"),
        ("ip address type", r.inputs.get("ipAddressType", "ipv4")),
        ("subnets", f"{len(subnets)}: {ix.label(subnets)}"),
        ("security groups", ix.label(r.inputs.get("securityGroups") or [])),
        ("idle timeout", f"{r.inputs.get('idleTimeout', 60)} s"),
        ("drop invalid headers", yes_no(r.inputs.get("dropInvalidHeaderFields"))),
        ("deletion protection", yes_no(r.inputs.get("enableDeletionProtection"))),
        (
            "access logs",
            f"to {ix.label(logs.get('bucket'))}"
            + (f"/{logs['prefix']}" if logs.get("prefix") else "")
            if logs.get("enabled")
            else "off",
        ),
    ]


def _action_text(action: dict[str, Any], ix: Index) -> str:
    kind = action.get("type")
    if kind == "forward":
        groups = [action.get("targetGroupArn")] if action.get("targetGroupArn") else []
        groups += [g.get("arn") for g in dig(action, "forward", "targetGroups", default=[])]
        return f"forward to {ix.label(groups)}"
    if kind == "fixed-response":
        fixed = action.get("fixedResponse") or {}
        return f"fixed {fixed.get('statusCode')} {fixed.get('contentType', '')}".strip()
    if kind == "redirect":
        red = action.get("redirect") or {}
        where = f"{red.get('protocol', '#{protocol}')}:{red.get('port', '#{port}')}"
        return f"redirect {red.get('statusCode')} to {where}"
    return str(kind)


@shows("aws:lb/listener:Listener")
def _listener(r: RegisteredResource, ix: Index) -> Settings:
    return [
        ("listens", f"{r.inputs.get('protocol')} {r.inputs.get('port')}"),
        ("load balancer", ix.label(r.inputs.get("loadBalancerArn"))),
        ("default", "; ".join(_action_text(a, ix) for a in r.inputs.get("defaultActions") or [])),
        (
            "certificate",
            ix.label(r.inputs["certificateArn"]) if r.inputs.get("certificateArn") else None,
        ),
        ("tls policy", r.inputs.get("sslPolicy")),
    ]


@shows("aws:lb/listenerRule:ListenerRule")
def _listener_rule(r: RegisteredResource, ix: Index) -> Settings:
    conditions = []
    for c in r.inputs.get("conditions") or []:
        for key, value in sorted(c.items()):
            values = value.get("values") if isinstance(value, dict) else value
            conditions.append(f"{key} {ix.label(values)}")
    return [
        ("listener", ix.label(r.inputs.get("listenerArn"))),
        ("priority", str(r.inputs.get("priority", "next free"))),
        ("when", "; ".join(conditions)),
        ("then", "; ".join(_action_text(a, ix) for a in r.inputs.get("actions") or [])),
    ]


@shows("aws:lb/targetGroup:TargetGroup")
def _target_group(r: RegisteredResource, ix: Index) -> Settings:
    hc = r.inputs.get("healthCheck") or {}
    interval = hc.get("interval", TG_DEFAULT_INTERVAL_S)
    healthy = hc.get("healthyThreshold", TG_DEFAULT_HEALTHY)
    unhealthy = hc.get("unhealthyThreshold", TG_DEFAULT_UNHEALTHY)
    return [
        (
            "targets",
            f"{r.inputs.get('targetType', 'instance')} on "
            f"{r.inputs.get('protocol')} {r.inputs.get('port')}",
        ),
        (
            "health check",
            f"{hc.get('protocol', 'HTTP')} {hc.get('path', '/')} expects "
            f"{hc.get('matcher', '200')}, every {interval} s, timeout "
            f"{hc.get('timeout', TG_DEFAULT_TIMEOUT_S)} s",
        ),
        ("healthy after", f"{healthy} passes ({healthy * interval} s)"),
        ("unhealthy after", f"{unhealthy} failures ({unhealthy * interval} s)"),
        (
            "deregistration delay",
            f"{r.inputs.get('deregistrationDelay', TG_DEFAULT_DEREGISTRATION_S)} s",
        ),
    ]


# -- the edge: CloudFront and WAF ------------------------------------------------------------------


def _policy_name(policy_id: Any) -> str:
    return MANAGED_POLICY_NAMES.get(str(policy_id), str(policy_id))


@shows("aws:cloudfront/vpcOrigin:VpcOrigin")
def _vpc_origin(r: RegisteredResource, ix: Index) -> Settings:
    config = r.inputs.get("vpcOriginEndpointConfig") or {}
    policy = config.get("originProtocolPolicy")
    tls = ", ".join(dig(config, "originSslProtocols", "items", default=[]))
    talks = {
        "http-only": f"HTTP {config.get('httpPort')}",
        "https-only": f"HTTPS {config.get('httpsPort')} ({tls})",
    }.get(str(policy), f"{policy} (HTTP {config.get('httpPort')}, HTTPS {config.get('httpsPort')})")
    return [("reaches", ix.label(config.get("arn"))), ("cloudfront to it", talks)]


def _behavior_text(b: dict[str, Any]) -> str:
    cached = b.get("cachePolicyId")
    forwards = b.get("originRequestPolicyId")
    return (
        f"{_policy_name(cached) if cached else 'legacy cache settings'}"
        + (f", forwards {_policy_name(forwards)}" if forwards else "")
        + f", viewers {b.get('viewerProtocolPolicy')}"
    )


@shows("aws:cloudfront/distribution:Distribution")
def _distribution(r: RegisteredResource, ix: Index) -> Settings:
    certificate = r.inputs.get("viewerCertificate") or {}
    own = certificate.get("cloudfrontDefaultCertificate")
    [origin, *_] = r.inputs.get("origins") or [{}]
    vpc = origin.get("vpcOriginConfig") or {}
    cached = r.inputs.get("orderedCacheBehaviors") or []
    return [
        (
            "names",
            ix.label(r.inputs.get("aliases") or []) if not own else "its own *.cloudfront.net",
        ),
        (
            "viewer tls",
            "CloudFront's certificate for *.cloudfront.net (its policy, TLSv1, is fixed)"
            if own
            else f"{ix.label(certificate.get('acmCertificateArn'))}, "
            f"{certificate.get('minimumProtocolVersion')}, {certificate.get('sslSupportMethod')}",
        ),
        (
            "origin",
            f"{ix.label(origin.get('domainName'))} through {ix.label(vpc.get('vpcOriginId'))}"
            if vpc
            else ix.label(origin.get("domainName")),
        ),
        ("origin response timeout", f"{vpc.get('originReadTimeout', 30)} s" if vpc else None),
        ("default", _behavior_text(r.inputs.get("defaultCacheBehavior") or {})),
        *((f"path {b.get('pathPattern')}", _behavior_text(b)) for b in cached),
        ("ipv6", yes_no(r.inputs.get("isIpv6Enabled"))),
        ("http versions", r.inputs.get("httpVersion")),
        ("web acl", ix.label(r.inputs["webAclId"]) if r.inputs.get("webAclId") else "none"),
    ]


def _waf_rule_text(rule: dict[str, Any]) -> str:
    statement = rule.get("statement") or {}
    if "managedRuleGroupStatement" in statement:
        group = statement["managedRuleGroupStatement"]
        how = "counts only" if "count" in (rule.get("overrideAction") or {}) else "as written"
        return f"{group.get('vendorName')} {group.get('name')} ({how})"
    if "rateBasedStatement" in statement:
        rate = statement["rateBasedStatement"]
        action = ", ".join(rule.get("action") or {})
        key = "client IP" if rate.get("aggregateKeyType") == "IP" else rate.get("aggregateKeyType")
        return (
            f"{action} any {key} over {rate.get('limit')} requests in "
            f"{rate.get('evaluationWindowSec', 300)} s"
        )
    return ", ".join(statement)


@shows("aws:wafv2/webAcl:WebAcl")
def _web_acl(r: RegisteredResource, ix: Index) -> Settings:
    rules = sorted(r.inputs.get("rules") or [], key=lambda x: x.get("priority", 0))
    region = r.inputs.get("region")
    return [
        ("scope", str(r.inputs.get("scope")) + (f" (in {region})" if region else "")),
        ("otherwise", ", ".join(r.inputs.get("defaultAction") or {})),
        *((f"rule {x.get('priority')}", f"{x.get('name')}: {_waf_rule_text(x)}") for x in rules),
    ]


@shows("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration")
def _web_acl_logging(r: RegisteredResource, ix: Index) -> Settings:
    return [
        ("web acl", ix.label(r.inputs.get("resourceArn"))),
        ("logs to", ix.label(r.inputs.get("logDestinationConfigs") or [])),
    ]


@shows("aws:wafv2/webAclAssociation:WebAclAssociation")
def _web_acl_association(r: RegisteredResource, ix: Index) -> Settings:
    return [
        ("web acl", ix.label(r.inputs.get("webAclArn"))),
        ("protects", ix.label(r.inputs.get("resourceArn"))),
    ]


# -- service ---------------------------------------------------------------------------------------


@shows("aws:cloudwatch/logGroup:LogGroup")
def _log_group(r: RegisteredResource, ix: Index) -> Settings:
    days = r.inputs.get("retentionInDays")
    return [
        ("name", r.inputs.get("name")),
        ("retention", f"{days} days" if days else "never expires"),
        ("kms key", ix.label(r.inputs["kmsKeyId"]) if r.inputs.get("kmsKeyId") else None),
        ("region", r.inputs.get("region")),  # only when not the provider's
    ]


@shows("aws:ecs/taskDefinition:TaskDefinition")
def _task_definition(r: RegisteredResource, ix: Index) -> Settings:
    out = [
        ("family", r.inputs.get("family")),
        ("size", f"{_vcpu(r.inputs['cpu'])}, {_gib(r.inputs['memory'])}"),
        ("platform", " ".join(runtime_platform(r))),
        (
            "roles",
            f"execution {ix.label(r.inputs.get('executionRoleArn'))}, "
            f"task {ix.label(r.inputs.get('taskRoleArn'))}",
        ),
    ]
    if r.inputs.get("ephemeralStorage"):
        out.append(("ephemeral storage", f"{dig(r.inputs, 'ephemeralStorage', 'sizeInGib')} GiB"))
    for c in container_definitions(r):
        name = c.get("name")
        ports = ", ".join(
            f"{p.get('containerPort')}/{p.get('protocol', 'tcp')}"
            for p in c.get("portMappings") or []
        )
        env = ", ".join(
            f"{e['name']}={e['value']}"
            for e in sorted(c.get("environment") or [], key=lambda e: e["name"])
        )
        secrets = ", ".join(sorted(s["name"] for s in c.get("secrets") or []))
        logs = c.get("logConfiguration") or {}
        out += [
            (f"{name}: image", ix.label(c.get("image"))),
            (f"{name}: ports", ports or "none"),
            (f"{name}: environment", env or "none"),
            (f"{name}: secrets", secrets or None),
            (
                f"{name}: logs",
                f"{logs.get('logDriver')} to {dig(logs, 'options', 'awslogs-group')}"
                if logs
                else "none",
            ),
            (f"{name}: stop timeout", f"{stop_timeout(c)} s"),
            (f"{name}: user", c.get("user") or "the image's own (the task names none)"),
            (f"{name}: read-only root", yes_no(c.get("readonlyRootFilesystem"))),
            (f"{name}: writable paths", _writable_paths(r, c)),
            (f"{name}: file systems", _file_system_mounts(r, c, ix)),
            (f"{name}: linux capabilities", _capabilities(c)),
            (
                f"{name}: health check",
                " ".join(map(str, dig(c, "healthCheck", "command", default=[]))) or None,
            ),
        ]
    return out


def _file_system_mounts(r: RegisteredResource, container: dict[str, Any], ix: Index) -> str | None:
    """The EFS volumes the container mounts, where, through what and how (None: none)."""
    volumes = efs_volumes(r)
    mounts = []
    for m in container.get("mountPoints") or []:
        efs = volumes.get(m.get("sourceVolume"))
        if efs is None:
            continue
        auth = efs.get("authorizationConfig") or {}
        how = [
            "read-only" if m.get("readOnly") else "read-write",
            *(["TLS"] if efs.get("transitEncryption") == "ENABLED" else []),
            *(["IAM"] if auth.get("iam") == "ENABLED" else []),
        ]
        through = f" through {ix.label(auth['accessPointId'])}" if auth.get("accessPointId") else ""
        mounts.append(
            f"{m.get('containerPath')}: {ix.label(efs.get('fileSystemId'))}{through} "
            f"({', '.join(how)})"
        )
    return "; ".join(mounts) or None


def _writable_paths(r: RegisteredResource, c: dict[str, Any]) -> str:
    """The task storage a read-only root leaves writable (file systems are shown apart)."""
    paths = writable_paths(r, c)
    if paths is None:
        return "all: the root file system is writable"
    return ", ".join(paths) or "none"


def _capabilities(container: dict[str, Any]) -> str:
    """What the container's Linux capabilities are, against the runtime's default set: a drop of
    all the defaults but a few reads as what it keeps (keepCapabilities)."""
    capabilities = dig(container, "linuxParameters", "capabilities", default={})
    dropped = capabilities.get("drop") or []
    kept = [c for c in RUNTIME_DEFAULT_CAPABILITIES if c not in dropped]
    parts = [
        f"{verb} {', '.join(capabilities[key])}"
        for key, verb in (("drop", "drops"), ("add", "adds"))
        if capabilities.get(key)
    ]
    if dropped and set(dropped) <= set(RUNTIME_DEFAULT_CAPABILITIES) and kept:
        parts[0] = f"keeps only {', '.join(kept)} of the runtime's default set"
    return "; ".join(parts) or "the runtime's default set"


@shows("aws:ecs/service:Service")
def _service(r: RegisteredResource, ix: Index) -> Settings:
    net = r.inputs.get("networkConfiguration") or {}
    subnets = net.get("subnets") or []
    resolved = [ix.resolve(s) for s in subnets]
    tiers = {dig(s.inputs, "tags", "tier") if s else None for s in resolved}
    tier = next(iter(tiers)) if len(tiers) == 1 and None not in tiers else None
    target = scaling_target(r, ix)
    strategies = r.inputs.get("capacityProviderStrategies") or []
    lbs = [
        f"{ix.label(lb.get('targetGroupArn'))} -> "
        f"{lb.get('containerName')}:{lb.get('containerPort')}"
        for lb in r.inputs.get("loadBalancers") or []
    ]
    breaker = r.inputs.get("deploymentCircuitBreaker") or {}
    deploy = deployment_strategy(r)
    controller = dig(r.inputs, "deploymentController", "type", default="ECS")
    return [
        ("cluster", ix.label(r.inputs.get("cluster"))),
        ("task definition", ix.label(r.inputs.get("taskDefinition"))),
        (
            "tasks",
            f"desired {r.inputs.get('desiredCount', 0)}"
            + (
                f", autoscaled {target.inputs.get('minCapacity')} to "
                f"{target.inputs.get('maxCapacity')} ({target.name})"
                if target
                else ", no autoscaling"
            ),
        ),
        (
            "capacity",
            _strategy_text(strategies)
            if strategies
            else r.inputs.get("launchType", "cluster default"),
        ),
        ("subnets", f"{len(subnets)}" + (f" {tier}" if tier else "") + f": {ix.label(subnets)}"),
        ("public IP", yes_no(net.get("assignPublicIp"))),
        ("security groups", ix.label(net.get("securityGroups") or [])),
        ("load balancer", "; ".join(lbs) or "none"),
        ("service connect", _service_connect_text(r, ix)),
        (
            "deployment",
            f"{controller} {deploy}, {r.inputs.get('deploymentMinimumHealthyPercent', 100)}%"
            f" to {r.inputs.get('deploymentMaximumPercent', 200)}% of desired",
        ),
        (
            "circuit breaker",
            ("on, with rollback" if breaker.get("rollback") else "on")
            if breaker.get("enable")
            else "off",
        ),
        (
            "health check grace",
            f"{r.inputs.get('healthCheckGracePeriodSeconds', 0)} s" if lbs else None,
        ),
        ("waits for steady state", yes_no(r.inputs.get("waitForSteadyState"))),
    ]


def _service_connect_text(r: RegisteredResource, ix: Index) -> str | None:
    """Its Service Connect namespace, what it publishes there, and the room made for the proxy."""
    connect = r.inputs.get("serviceConnectConfiguration") or {}
    if not connect.get("enabled"):
        return None
    published = [
        f"http://{alias.get('dnsName') or s.get('portName')}:{alias.get('port')}"
        for s in connect.get("services") or []
        for alias in s.get("clientAlias") or []
    ]
    role = f"publishes {', '.join(published)}" if published else "a client"
    return (
        f"{role} in {ix.label(connect.get('namespace'))}; the task has room for the proxy "
        f"(AWS: +{SERVICE_CONNECT_PROXY_CPU} CPU units, +{SERVICE_CONNECT_PROXY_MEMORY_MIB} MiB)"
    )


@shows("aws:appautoscaling/target:Target")
def _scaling_target(r: RegisteredResource, ix: Index) -> Settings:
    return [
        (
            "scales",
            f"{r.inputs.get('scalableDimension')} from {r.inputs.get('minCapacity')} "
            f"to {r.inputs.get('maxCapacity')}",
        ),
        ("resource", ix.label(r.inputs.get("resourceId"))),
    ]


@shows("aws:appautoscaling/policy:Policy")
def _scaling_policy(r: RegisteredResource, ix: Index) -> Settings:
    tt = r.inputs.get("targetTrackingScalingPolicyConfiguration") or {}
    metric = dig(tt, "predefinedMetricSpecification", "predefinedMetricType") or dig(
        tt, "customizedMetricSpecification", "metricName"
    )
    queries = dig(tt, "customizedMetricSpecification", "metrics") or []
    returned = [q for q in queries if q.get("returnData")]
    if returned:
        used = [
            f"{dig(q, 'metricStat', 'metric', 'metricName')} {dig(q, 'metricStat', 'stat')}"
            for q in queries
            if q.get("metricStat")
        ]
        metric = (
            f"{returned[0].get('label') or returned[0].get('id')} (metric math over "
            + ", ".join(used)
            + ")"
        )
    out = [("type", r.inputs.get("policyType", "StepScaling"))]
    step = r.inputs.get("stepScalingPolicyConfiguration") or {}
    if step:
        adjustments = [
            f"{a.get('scalingAdjustment'):+d} from {a.get('metricIntervalLowerBound', '-inf')} "
            f"to {a.get('metricIntervalUpperBound', '+inf')} above the threshold"
            for a in step.get("stepAdjustments") or []
        ]
        alarms = [
            a.name
            for a in ix.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
            if r.outputs.get("arn") in (a.inputs.get("alarmActions") or [])
        ]
        out += [
            ("steps", f"{step.get('adjustmentType')}: " + "; ".join(adjustments)),
            ("cooldown", f"{step.get('cooldown', 0)} s"),
            ("when", ", ".join(alarms) or "no alarm invokes it"),
        ]
    if tt:
        out += [
            ("holds", f"{metric} at {tt.get('targetValue'):g}"),
            (
                "cooldowns",
                f"out {tt.get('scaleOutCooldown', 300)} s, in {tt.get('scaleInCooldown', 300)} s",
            ),
            ("scale in", "disabled" if tt.get("disableScaleIn") else "enabled"),
        ]
    return out


@shows("aws:servicediscovery/httpNamespace:HttpNamespace")
def _namespace(r: RegisteredResource, ix: Index) -> Settings:
    return [("name", r.inputs.get("name")), ("description", r.inputs.get("description"))]


@shows("aws:efs/fileSystem:FileSystem")
def _file_system(r: RegisteredResource, ix: Index) -> Settings:
    lifecycle = r.inputs.get("lifecyclePolicies") or []
    to_ia = next((p["transitionToIa"] for p in lifecycle if p.get("transitionToIa")), None)
    back = next(
        (
            p["transitionToPrimaryStorageClass"]
            for p in lifecycle
            if p.get("transitionToPrimaryStorageClass")
        ),
        None,
    )
    return [
        ("encrypted at rest", yes_no(r.inputs.get("encrypted"))),
        ("throughput", r.inputs.get("throughputMode") or "bursting"),
        (
            "infrequent access",
            f"{to_ia.lower().replace('_', ' ')} without access"
            + (f", back to Standard {back.lower().replace('_', ' ')}" if back else "")
            if to_ia
            else "never",
        ),
        ("files", "kept when tasks stop or are replaced; deleted only by the app (or with it)"),
        ("bills by use", "storage and elastic throughput, no idle charge (under Not included)"),
    ]


@shows("aws:efs/accessPoint:AccessPoint")
def _access_point(r: RegisteredResource, ix: Index) -> Settings:
    user = r.inputs.get("posixUser") or {}
    root = r.inputs.get("rootDirectory") or {}
    creation = root.get("creationInfo") or {}
    return [
        ("file system", ix.label(r.inputs.get("fileSystemId"))),
        ("acts as", f"{user.get('uid')}:{user.get('gid')}" if user else "the client's user"),
        (
            "directory",
            f"{root.get('path', '/')}"
            + (
                f" (created {creation['ownerUid']}:{creation['ownerGid']} "
                f"{creation['permissions']})"
                if creation
                else ""
            ),
        ),
    ]


@shows("aws:efs/mountTarget:MountTarget")
def _mount_target(r: RegisteredResource, ix: Index) -> Settings:
    return [
        ("file system", ix.label(r.inputs.get("fileSystemId"))),
        ("subnet", ix.label(r.inputs.get("subnetId"))),
        ("security groups", ", ".join(ix.label(g) for g in r.inputs.get("securityGroups") or [])),
    ]


@shows("aws:efs/backupPolicy:BackupPolicy")
def _backup_policy(r: RegisteredResource, ix: Index) -> Settings:
    return [
        ("file system", ix.label(r.inputs.get("fileSystemId"))),
        ("automatic backups", dig(r.inputs, "backupPolicy", "status")),
    ]


@shows("aws:efs/fileSystemPolicy:FileSystemPolicy")
def _file_system_policy(r: RegisteredResource, ix: Index) -> Settings:
    return [
        ("file system", ix.label(r.inputs.get("fileSystemId"))),
        ("statements", statement_ids(r.inputs.get("policy"))),
    ]


@shows("aws:sqs/queue:Queue")
def _queue(r: RegisteredResource, ix: Index) -> Settings:
    redrive = parse_json(r.inputs.get("redrivePolicy")) or {}
    retention = r.inputs.get("messageRetentionSeconds")
    encryption = (
        "SQS-managed (SSE-SQS)"
        if r.inputs.get("sqsManagedSseEnabled")
        else (
            f"KMS {ix.label(r.inputs['kmsMasterKeyId'])}"
            if r.inputs.get("kmsMasterKeyId")
            else "none"
        )
    )
    return [
        ("keeps messages", f"{int(retention) // 86400} days" if retention else None),
        ("encryption", encryption),
        (
            "dead letters",
            f"to {ix.label(redrive.get('deadLetterTargetArn'))} after "
            f"{redrive.get('maxReceiveCount')} receives"
            if redrive
            else None,
        ),
    ]


# -- certificates, DNS, secrets, alarms, notifications, buckets, schedules ------------------------


@shows("aws:acm/certificate:Certificate")
def _certificate(r: RegisteredResource, ix: Index) -> Settings:
    return [
        ("domain", r.inputs.get("domainName")),
        ("also", ", ".join(r.inputs.get("subjectAlternativeNames") or []) or None),
        ("validation", r.inputs.get("validationMethod")),
        ("region", r.inputs.get("region")),  # only when not the provider's
    ]


@shows("aws:acm/certificateValidation:CertificateValidation")
def _cert_validation(r: RegisteredResource, ix: Index) -> Settings:
    return [("certificate", ix.label(r.inputs.get("certificateArn")))]


@shows("aws:route53/record:Record")
def _record(r: RegisteredResource, ix: Index) -> Settings:
    aliases = r.inputs.get("aliases") or []
    value = (
        "alias " + ix.label([a.get("name") for a in aliases])
        if aliases
        else ix.label(r.inputs.get("records") or [])
    )
    return [
        ("record", f"{ix.label(r.inputs.get('name'))} {r.inputs.get('type')}"),
        ("zone", ix.label(r.inputs.get("zoneId"))),
        ("value", value),
    ]


@shows("aws:secretsmanager/secret:Secret")
def _secret(r: RegisteredResource, ix: Index) -> Settings:
    return [
        ("name", r.inputs.get("name")),
        (
            "recovery window",
            f"{r.inputs['recoveryWindowInDays']} days"
            if "recoveryWindowInDays" in r.inputs
            else None,
        ),
        ("kms key", ix.label(r.inputs["kmsKeyId"]) if r.inputs.get("kmsKeyId") else None),
    ]


@shows("aws:secretsmanager/secretVersion:SecretVersion")
def _secret_version(r: RegisteredResource, ix: Index) -> Settings:
    return [("secret", ix.label(r.inputs.get("secretId"))), ("value", "(secret, not shown)")]


@shows("aws:cloudwatch/metricAlarm:MetricAlarm")
def _alarm(r: RegisteredResource, ix: Index) -> Settings:
    metric = f"{r.inputs.get('namespace', '')}/{r.inputs.get('metricName', '')}".strip("/")
    if not metric:
        queried = [dig(q, "metric", "metricName") for q in r.inputs.get("metricQueries") or []]
        names = list(dict.fromkeys(str(n) for n in queried if n))
        count = sum(1 for n in queried if n)
        metric = f"metric math over {', '.join(names)} ({count} metric{'s' * (count != 1)})"
    stat = r.inputs.get("statistic") or r.inputs.get("extendedStatistic") or ""
    return [
        ("watches", f"{metric} {stat}".strip()),
        (
            "alarm when",
            f"{r.inputs.get('comparisonOperator')} {r.inputs.get('threshold')} for "
            f"{r.inputs.get('datapointsToAlarm', r.inputs.get('evaluationPeriods'))} of "
            f"{r.inputs.get('evaluationPeriods')} x {alarm_period(r)} s",
        ),
        ("missing data", r.inputs.get("treatMissingData", "missing")),
        (
            "notifies",
            ix.label(
                sorted(
                    set((r.inputs.get("alarmActions") or []) + (r.inputs.get("okActions") or []))
                )
            ),
        ),
    ]


@shows("aws:sns/topic:Topic")
def _topic(r: RegisteredResource, ix: Index) -> Settings:
    return [
        ("name", r.inputs.get("name")),
        (
            "kms key",
            ix.label(r.inputs["kmsMasterKeyId"]) if r.inputs.get("kmsMasterKeyId") else "none",
        ),
    ]


@shows("aws:sns/topicSubscription:TopicSubscription")
def _subscription(r: RegisteredResource, ix: Index) -> Settings:
    return [
        ("topic", ix.label(r.inputs.get("topic"))),
        ("delivers to", f"{r.inputs.get('protocol')} {ix.label(r.inputs.get('endpoint'))}"),
    ]


@shows("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
def _bucket(r: RegisteredResource, ix: Index) -> Settings:
    return [
        ("bucket", r.inputs.get("bucket")),
        ("force destroy", yes_no(r.inputs.get("forceDestroy"))),
    ]


def _lifecycle_rule(rule: dict[str, Any]) -> str:
    prefix = dig(rule, "filter", "prefix") or rule.get("prefix")
    parts = [f"{rule.get('id', 'rule')} ({rule.get('status', 'Enabled')})"]
    parts.append(f"objects under {prefix}" if prefix else "all objects")
    for t in rule.get("transitions") or []:
        parts.append(f"to {t.get('storageClass')} after {t.get('days')} days")
    if dig(rule, "expiration", "days"):
        parts.append(f"expire after {dig(rule, 'expiration', 'days')} days")
    if dig(rule, "noncurrentVersionExpiration", "noncurrentDays"):
        days = dig(rule, "noncurrentVersionExpiration", "noncurrentDays")
        parts.append(f"old versions expire after {days} days")
    if dig(rule, "abortIncompleteMultipartUpload", "daysAfterInitiation"):
        days = dig(rule, "abortIncompleteMultipartUpload", "daysAfterInitiation")
        parts.append(f"unfinished uploads abort after {days} day{'s' * (days != 1)}")
    return ", ".join(parts)


@shows(
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
)
def _bucket_lifecycle(r: RegisteredResource, ix: Index) -> Settings:
    rules = r.inputs.get("rules") or []
    return [
        ("bucket", ix.label(r.inputs.get("bucket"))),
        ("rules", "; ".join(_lifecycle_rule(rule) for rule in rules) or "none"),
    ]


# S3's names for its server-side encryption algorithms.
SSE_KINDS = {"AES256": "SSE-S3, S3-managed keys", "aws:kms": "SSE-KMS", "aws:kms:dsse": "DSSE-KMS"}


@shows(
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
def _bucket_encryption(r: RegisteredResource, ix: Index) -> Settings:
    shown = []
    for rule in r.inputs.get("rules") or []:
        default = rule.get("applyServerSideEncryptionByDefault") or {}
        algorithm = str(default.get("sseAlgorithm", "none"))
        text = f"{algorithm} ({SSE_KINDS[algorithm]})" if algorithm in SSE_KINDS else algorithm
        if default.get("kmsMasterKeyId"):
            text += f" with {ix.label(default['kmsMasterKeyId'])}"
        if rule.get("bucketKeyEnabled"):
            text += ", bucket key"
        shown.append(text)
    return [("bucket", ix.label(r.inputs.get("bucket"))), ("encryption", "; ".join(shown))]


@shows("aws:s3/bucketOwnershipControls:BucketOwnershipControls")
def _bucket_ownership(r: RegisteredResource, ix: Index) -> Settings:
    return [
        ("bucket", ix.label(r.inputs.get("bucket"))),
        ("object ownership", dig(r.inputs, "rule", "objectOwnership")),
    ]


@shows("aws:scheduler/schedule:Schedule")
def _schedule(r: RegisteredResource, ix: Index) -> Settings:
    target = r.inputs.get("target") or {}
    ecs = target.get("ecsParameters") or {}
    window = r.inputs.get("flexibleTimeWindow") or {}
    return [
        (
            "when",
            f"{r.inputs.get('scheduleExpression')} "
            f"({r.inputs.get('scheduleExpressionTimezone', 'UTC')})",
        ),
        ("state", r.inputs.get("state", "ENABLED")),
        (
            "runs",
            ix.label(ecs.get("taskDefinitionArn") or target.get("arn"))
            + (f" x {ecs['taskCount']}" if ecs.get("taskCount") else ""),
        ),
        ("on", ix.label(target.get("arn")) if ecs else None),
        ("window", window.get("mode")),
    ]
