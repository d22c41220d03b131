"""EC2/VPC controls: each VPC's default security group allows nothing, and VPCs log their flows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pulumi_policy import ResourceValidationArgs, Severity, StackValidationArgs

from .environment import everywhere, prod_mandatory_else_advisory
from .props import UNKNOWN, VPC, as_list, get, of_types, peek, referring, refers_to

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
