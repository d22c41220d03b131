"""EC2/VPC controls: each VPC's default security group allows nothing, no security group admits the
world beyond a load balancer's listener ports, subnets hand out no public address by themselves,
and VPCs log their flows."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import PolicyResource, ResourceValidationArgs, Severity, StackValidationArgs
from pulumi_policy.proxy import UnknownValueError

from .environment import everywhere, prod_mandatory_else_advisory
from .props import (
    LISTENERS,
    LOAD_BALANCERS,
    SECURITY_GROUP,
    UNKNOWN,
    VPC,
    as_list,
    get,
    is_list,
    of_types,
    peek,
    referring,
    refers_to,
    refers_to_any,
    truthy,
)

Report = Callable[..., None]

DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
SECURITY_GROUP_RULES = frozenset(
    {
        "aws:ec2/securityGroupRule:SecurityGroupRule",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    }
)
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
SUBNET = "aws:ec2/subnet:Subnet"
# Adopts (or creates) a default subnet, whose map_public_ip_on_launch is true unless set: an absent
# value means a public address for everything (pulumi_aws ec2.DefaultSubnet's docs).
DEFAULT_SUBNET = "aws:ec2/defaultSubnet:DefaultSubnet"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
ALL_PROTOCOLS = ("-1", "all")
# Security groups spell protocols by name or IANA number; these name the ported two.
PORTED_PROTOCOLS = {"tcp": "tcp", "6": "tcp", "udp": "udp", "17": "udp"}
# ICMP carries no port and EC2.18/19 do not look at it; every other protocol (GRE 47, ESP 50,
# SCTP 132, ...) is admitted on all its ports whatever the rule says (EC2 API reference,
# IpPermission.IpProtocol: "specifying -1 or a protocol number other than tcp, udp, icmp, or icmpv6
# allows traffic on all ports, regardless of any port range you specify"), so no listener matches.
PORTLESS_EXEMPT_PROTOCOLS = ("icmp", "1", "icmpv6", "58")
MAX_PORT = 65535
# The security group protocol a listener's protocol arrives on (ELBv2's listener protocols).
LISTENER_TRANSPORT = {
    "HTTP": ("tcp",),
    "HTTPS": ("tcp",),
    "TCP": ("tcp",),
    "TLS": ("tcp",),
    "UDP": ("udp",),
    "TCP_UDP": ("tcp", "udp"),
    "GENEVE": ("udp",),
}
# Security Hub's EC2.6 asks for at least rejected traffic; ALL includes it.
FLOW_LOG_TRAFFIC = ("ALL", "REJECT")


# -- EC2.2 ----------------------------------------------------------------------------------------
def default_sg_no_rules(args: ResourceValidationArgs, report_violation: Report) -> None:
    if args.resource_type != DEFAULT_SECURITY_GROUP:
        return
    for direction in ("ingress", "egress"):
        rules = as_list(get(args.props, direction))
        if rules:
            report_violation(
                f"The VPC's default security group has {len(rules)} {direction} rule(s); it must "
                "allow nothing, so that a resource left in it is cut off. Remove them and give "
                "resources their own security groups."
            )


def default_sg_closed(args: StackValidationArgs, report_violation: Report) -> None:
    groups = of_types(args.resources, DEFAULT_SECURITY_GROUP)
    rules = of_types(args.resources, SECURITY_GROUP_RULES)
    for vpc in of_types(args.resources, VPC):
        adopted = [g for g in groups if refers_to(g, "vpcId", vpc)]
        if not adopted:
            report_violation(
                "This VPC's default security group is left as AWS creates it, allowing all "
                "outbound traffic and all traffic between its members. Adopt it with an "
                "aws.ec2.DefaultSecurityGroup that has no rules.",
                vpc.urn,
            )
        default_id = peek(vpc.props, "defaultSecurityGroupId")
        for rule in rules:
            by_vpc = (
                isinstance(default_id, str) and peek(rule.props, "securityGroupId") == default_id
            )
            if by_vpc or any(refers_to(rule, "securityGroupId", group) for group in adopted):
                report_violation(
                    "This rule opens the VPC's default security group, which must allow nothing. "
                    "Attach it to a security group of its own.",
                    rule.urn,
                )


# -- EC2.18 / EC2.19 / EC2.13 ----------------------------------------------------------------------
@dataclass(frozen=True)
class OpenIngress:
    """One rule admitting the world: the resource that holds it, the group it opens, what it
    admits (a protocol as security groups spell it, and a port range)."""

    holder: PolicyResource
    group: PolicyResource | None  # None: a rule resource whose group is not in the stack
    protocol: str
    from_port: int
    to_port: int
    source: str

    def describe(self) -> str:
        if self.protocol in ALL_PROTOCOLS:
            return f"all traffic from {self.source}"
        if self.protocol not in PORTED_PROTOCOLS:
            return f"protocol {self.protocol} (every port) from {self.source}"
        ports = (
            str(self.from_port)
            if self.from_port == self.to_port
            else f"{self.from_port}-{self.to_port}"
        )
        return f"{self.protocol} {ports} from {self.source}"


def _port(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def is_world(cidr: str) -> bool:
    """Whether `cidr` is the whole address space (what Security Hub's EC2.18/EC2.19 call
    unrestricted), however it is spelled: 0.0.0.0/0, ::/0, 0::/0, 0:0:0:0:0:0:0:0/0, 1.2.3.4/0."""
    try:
        return ipaddress.ip_network(cidr.strip(), strict=False).prefixlen == 0
    except ValueError:
        return False


def _world_sources(rule: Mapping[str, Any], *keys: str) -> list[str]:
    """The CIDRs among `keys` that are the world; one not known yet is not (it comes from a
    resource, such as the VPC's CIDR, which is never the world)."""
    found = []
    for key in keys:
        value = peek(rule, key)
        entries = value if is_list(value) else [value]
        for index in range(len(entries)):
            try:
                cidr = str(entries[index])
            except UnknownValueError:
                continue
            if is_world(cidr):
                found.append(cidr)
    return found


def _inline_open(group: PolicyResource) -> Iterator[OpenIngress]:
    for rule in as_list(peek(group.props, "ingress")):
        if not isinstance(rule, Mapping):
            continue
        for source in _world_sources(rule, "cidrBlocks", "ipv6CidrBlocks"):
            yield OpenIngress(
                group,
                group,
                str(peek(rule, "protocol")).lower(),
                _port(peek(rule, "fromPort"), 0),
                _port(peek(rule, "toPort"), MAX_PORT),
                source,
            )


def _rule_open(rule: PolicyResource, groups: list[PolicyResource]) -> Iterator[OpenIngress]:
    props = rule.props
    if rule.resource_type == SECURITY_GROUP_RULE:
        if peek(props, "type") != "ingress":
            return
        sources = _world_sources(props, "cidrBlocks", "ipv6CidrBlocks")
        protocol = peek(props, "protocol")
    else:
        sources = _world_sources(props, "cidrIpv4", "cidrIpv6")
        protocol = peek(props, "ipProtocol")
    group = next((g for g in groups if refers_to(rule, "securityGroupId", g)), None)
    for source in sources:
        yield OpenIngress(
            rule,
            group,
            str(protocol).lower(),
            _port(peek(props, "fromPort"), 0),
            _port(peek(props, "toPort"), MAX_PORT),
            source,
        )


def _listener_ports(resources: list[PolicyResource], group: PolicyResource) -> set[tuple[str, int]]:
    """(protocol, port) that the load balancers using `group` listen on."""
    admitted: set[tuple[str, int]] = set()
    for lb in of_types(resources, LOAD_BALANCERS):
        if not refers_to_any(lb, "securityGroups", group):
            continue
        for listener in referring(resources, LISTENERS, "loadBalancerArn", lb):
            # An ALB listener without a protocol is HTTP (HTTPS with a certificate): TCP anyway.
            protocol = str(peek(listener.props, "protocol") or "HTTP").upper()
            port = peek(listener.props, "port")
            if port is UNKNOWN or port is None:
                continue
            for transport in LISTENER_TRANSPORT.get(protocol, ("tcp",)):
                admitted.add((transport, int(port)))
    return admitted


def open_only_on_listener_ports(args: StackValidationArgs, report_violation: Report) -> None:
    groups = of_types(args.resources, SECURITY_GROUP)
    found = [o for g in groups for o in _inline_open(g)]
    found += [
        o
        for rule in of_types(args.resources, (SECURITY_GROUP_RULE, INGRESS_RULE))
        for o in _rule_open(rule, groups)
    ]
    for entry in found:
        if entry.protocol in PORTLESS_EXEMPT_PROTOCOLS:
            continue
        admitted = _listener_ports(args.resources, entry.group) if entry.group else set()
        protocol = PORTED_PROTOCOLS.get(entry.protocol)
        ports = range(entry.from_port, entry.to_port + 1)
        if protocol and all((protocol, p) in admitted for p in ports):
            continue
        listening = ", ".join(f"{t} {p}" for t, p in sorted(admitted)) or "none"
        report_violation(
            f"This security group rule admits {entry.describe()}, beyond what a load balancer "
            f"using the group listens on ({listening}). Admit the world only on a load "
            "balancer's listener ports; reach anything else through the load balancer, Session "
            "Manager (ECS Exec) or a narrower CIDR.",
            entry.holder.urn,
        )


# -- EC2.15 ---------------------------------------------------------------------------------------
def subnet_no_auto_public_ip(args: ResourceValidationArgs, report_violation: Report) -> None:
    if args.resource_type not in (SUBNET, DEFAULT_SUBNET):
        return
    default_subnet = args.resource_type == DEFAULT_SUBNET
    for prop, what in (
        ("mapPublicIpOnLaunch", "a public IPv4 address"),
        ("assignIpv6AddressOnCreation", "an IPv6 address"),
    ):
        value = get(args.props, prop)
        if default_subnet and prop == "mapPublicIpOnLaunch" and value is None:
            value = True
        if truthy(value):
            report_violation(
                f"This subnet gives every network interface launched in it {what} ({prop} is "
                "true), whether it asked for one or not. Set it false; give a public address "
                "only to what needs one (an ECS service's assignPublicIp)."
            )


# -- EC2.6 ----------------------------------------------------------------------------------------
def vpc_flow_logs(args: StackValidationArgs, report_violation: Report) -> None:
    for vpc in of_types(args.resources, VPC):
        logs = referring(args.resources, FLOW_LOG, "vpcId", vpc)
        traffic = [peek(log.props, "trafficType") for log in logs]
        if not any(t in FLOW_LOG_TRAFFIC or t is UNKNOWN for t in traffic):
            found = f" (only {', '.join(map(str, traffic))})" if traffic else ""
            report_violation(
                f"This VPC has no flow log of rejected or all traffic{found}. "
                "`pulumi config set flowLogs true`.",
                vpc.urn,
            )


POLICIES: list[Any] = [
    *everywhere(
        name="ec2-default-sg-no-rules",
        control="EC2.2",
        description="EC2.2: an adopted default security group has no ingress or egress rules.",
        validate=default_sg_no_rules,
        severity=Severity.HIGH,
        remediation="Remove ingress/egress from the aws.ec2.DefaultSecurityGroup.",
    ),
    *everywhere(
        name="ec2-default-sg-closed",
        control="EC2.2",
        description="EC2.2: every VPC in the stack adopts its default security group (which "
        "strips AWS's default rules) and no rule resource opens it again.",
        validate=default_sg_closed,
        severity=Severity.HIGH,
        remediation="Add aws.ec2.DefaultSecurityGroup(vpc_id=vpc.id) with no rules; attach rules "
        "to the resources' own security groups.",
        stack=True,
    ),
    *everywhere(
        name="ec2-sg-open-only-on-listener-ports",
        control="EC2.18/EC2.19/EC2.13",
        description="EC2.18/EC2.19/EC2.13: no security group admits the world (0.0.0.0/0 or ::/0) "
        "on a port that a load balancer using the group does not listen on (all ports, SSH and "
        "the other high-risk ports included), nor on any protocol but TCP, UDP and ICMP.",
        validate=open_only_on_listener_ports,
        severity=Severity.HIGH,
        remediation="Narrow the rule's CIDR, or admit the world only on the load balancer's "
        "security group, on its listener ports.",
        stack=True,
    ),
    *everywhere(
        name="ec2-subnet-no-auto-public-ip",
        control="EC2.15",
        description="EC2.15: subnets, default subnets included, do not assign public IPv4 (or "
        "IPv6) addresses on launch.",
        validate=subnet_no_auto_public_ip,
        severity=Severity.MEDIUM,
        remediation="map_public_ip_on_launch=False and assign_ipv6_address_on_creation=False on "
        "the subnet (a DefaultSubnet needs map_public_ip_on_launch=False set: it defaults to "
        "true).",
    ),
    *prod_mandatory_else_advisory(
        name="ec2-vpc-flow-logs",
        control="EC2.6",
        description="EC2.6: every VPC in the stack has a flow log of rejected (or all) traffic.",
        validate=vpc_flow_logs,
        severity=Severity.MEDIUM,
        remediation="`pulumi config set flowLogs true`.",
        stack=True,
    ),
]
