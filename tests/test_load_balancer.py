"""The load balancer (components/load_balancer.py), in the committed stacks (HTTP only).

What a user relies on: an internet-facing, dual-stack ALB over the public subnets of every AZ,
reachable on port 80 from anywhere (IPv4 and IPv6) and on nothing else, that drops malformed
headers, answers unknown paths with a 404 instead of some service, and whose URL is the stack's.
"""

from __future__ import annotations

import re

import pulumi
import pytest

from components.load_balancer import LoadBalancer, LoadBalancerArgs
from tools.mocks import ProgramRun, RegisteredResource

ALB = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
SUBNET = "aws:ec2/subnet:Subnet"


@pytest.fixture(params=["dev", "prod"])
def run(request: pytest.FixtureRequest, run_stack) -> ProgramRun:
    return run_stack(request.param)


def lb_child(run: ProgramRun, type_token: str) -> list[RegisteredResource]:
    component = [r for r in run.of_type("fargate-app:lb:LoadBalancer") if r.name == "web"]
    assert len(component) == 1, "expected the LoadBalancer component 'web'"
    return [r for r in run.children(component[0]) if r.type == type_token]


def alb(run: ProgramRun) -> RegisteredResource:
    found = lb_child(run, ALB)
    assert len(found) == 1, f"expected one ALB in the load balancer component, got {found}"
    return found[0]


def lb_security_group(run: ProgramRun) -> RegisteredResource:
    groups = alb(run).inputs["securityGroups"]
    assert len(groups) == 1, f"{alb(run).urn} has security groups {groups}, want its own one"
    return next(g for g in run.of_type(SECURITY_GROUP) if g.id == groups[0])


def rules(run: ProgramRun, type_token: str, group: RegisteredResource) -> list[RegisteredResource]:
    return [r for r in run.of_type(type_token) if r.inputs["securityGroupId"] == group.id]


def public_subnet_ids(run: ProgramRun) -> set[str]:
    """Subnets whose route table sends 0.0.0.0/0 to the internet gateway."""
    igw = run.one("aws:ec2/internetGateway:InternetGateway").id
    tables = {
        r.inputs["routeTableId"]
        for r in run.of_type("aws:ec2/route:Route")
        if r.inputs.get("destinationCidrBlock") == "0.0.0.0/0" and r.inputs.get("gatewayId") == igw
    }
    return {
        a.inputs["subnetId"]
        for a in run.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")
        if a.inputs["routeTableId"] in tables
    }


def test_the_alb_is_internet_facing_and_dual_stack(run: ProgramRun) -> None:
    lb = alb(run)
    assert lb.inputs.get("loadBalancerType", "application") == "application", lb.urn
    assert lb.inputs.get("internal") is False, f"{lb.urn} must be internet-facing"
    assert lb.inputs.get("ipAddressType") == "dualstack", f"{lb.urn} must answer IPv6 clients"


def test_the_alb_spans_the_public_subnet_of_every_az(run: ProgramRun) -> None:
    lb = alb(run)
    subnets = set(lb.inputs["subnets"])
    assert subnets == public_subnet_ids(run), f"{lb.urn} is not on exactly the public subnets"
    azs = {s.inputs["availabilityZone"] for s in run.of_type(SUBNET) if s.id in subnets}
    assert len(azs) == len(subnets) >= 2, f"{lb.urn}: an ALB needs one subnet in each of 2+ AZs"


def test_the_alb_drops_invalid_header_fields(run: ProgramRun) -> None:
    lb = alb(run)
    assert lb.inputs.get("dropInvalidHeaderFields") is True, (
        f"{lb.urn} forwards malformed headers to the app (Security Hub ELB.4)"
    )


def test_the_alb_admits_http_from_anywhere_and_nothing_else(run: ProgramRun) -> None:
    group = lb_security_group(run)
    admitted = set()
    for rule in rules(run, INGRESS, group):
        source = rule.inputs.get("cidrIpv4") or rule.inputs.get("cidrIpv6")
        assert source, f"{rule.urn} admits a source other than an address range"
        admitted.add(
            (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"], source)
        )
    assert admitted == {("tcp", 80, 80, "0.0.0.0/0"), ("tcp", 80, 80, "::/0")}, (
        f"{group.urn} admits {sorted(admitted)}; want port 80 from anywhere, IPv4 and IPv6"
    )
    assert not group.inputs.get("ingress"), f"{group.urn} has inline rules besides its own"


def test_the_alb_only_talks_to_targets_inside_the_vpc(run: ProgramRun) -> None:
    group = lb_security_group(run)
    vpc_cidr = run.one("aws:ec2/vpc:Vpc").inputs["cidrBlock"]
    egress = rules(run, EGRESS, group)
    assert egress, f"{group.urn} cannot reach its targets"
    for rule in egress:
        assert rule.inputs.get("cidrIpv4") == vpc_cidr and not rule.inputs.get("cidrIpv6"), (
            f"{rule.urn} lets the load balancer reach outside the VPC"
        )


def test_the_http_listener_answers_unknown_paths_with_404(run: ProgramRun) -> None:
    listeners = [lst for lst in lb_child(run, LISTENER) if lst.inputs["port"] == 80]
    assert len(listeners) == 1, "expected one listener on port 80"
    listener = listeners[0]
    assert (
        listener.inputs["protocol"] == "HTTP" and listener.inputs["loadBalancerArn"] == alb(run).id
    )
    [action] = listener.inputs["defaultActions"]
    assert action["type"] == "fixed-response", f"{listener.urn} forwards unmatched requests"
    assert action["fixedResponse"]["statusCode"] == "404", listener.urn


def test_the_url_output_is_the_albs_http_address(run: ProgramRun) -> None:
    dns = alb(run).outputs["dnsName"]
    assert run.outputs["url"] == f"http://{dns}"
    assert re.fullmatch(r"http://[a-z0-9-]+\.us-east-1\.elb\.amazonaws\.com", run.outputs["url"])


def test_only_prod_protects_the_alb_from_deletion(dev: ProgramRun, prod: ProgramRun) -> None:
    assert alb(prod).inputs.get("enableDeletionProtection") is True, alb(prod).urn
    assert not alb(dev).inputs.get("enableDeletionProtection"), "dev must destroy in one step"


@pulumi.runtime.test
def test_the_component_exposes_its_url_and_security_group(pulumi_mocks) -> pulumi.Output:
    lb = LoadBalancer(
        "web",
        LoadBalancerArgs(
            vpc_id="vpc-0123", vpc_cidr="10.0.0.0/16", subnet_ids=["subnet-a", "subnet-b"]
        ),
    )

    def check(values: list[str]) -> None:
        url, dns_name, group = values
        assert url == f"http://{dns_name}" and dns_name.endswith(".elb.amazonaws.com")
        assert group.startswith("sg-")

    return pulumi.Output.all(lb.url, lb.dns_name, lb.security_group_id).apply(check)
