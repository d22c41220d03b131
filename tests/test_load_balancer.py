"""The load balancer (components/load_balancer.py), in the committed stacks on an internet-facing
load balancer (`edge: none`, HTTP only; behind CloudFront: tests/test_edge.py).

What a user relies on: an internet-facing, dual-stack ALB over the public subnets of every AZ,
reachable on port 80 from anywhere (IPv4 and IPv6) and on nothing else, reaching out only to its
services' tasks on their ports (a rule each, whatever the number of services), that drops malformed
headers, answers unknown paths with a 404 instead of some service, and whose URL is the stack's.
"""

from __future__ import annotations

import re

import pulumi
import pytest

from components.access_logs import AccessLogBucket, AccessLogBucketArgs
from components.load_balancer import LoadBalancer, LoadBalancerArgs
from components.network import Network, NetworkArgs
from tools.mocks import UNKNOWN, ProgramRun, RegisteredResource, Unknown
from tools.urns import SERVICES, run_variant

ALB = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
SUBNET = "aws:ec2/subnet:Subnet"


@pytest.fixture(params=["dev", "prod"])
def run(request: pytest.FixtureRequest, run_stack) -> ProgramRun:
    return run_stack(request.param, {"edge": "none"})


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


TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
ECS_SERVICE = "aws:ecs/service:Service"


def target_ports(run: ProgramRun) -> set[tuple[str, int]]:
    """(security group, port) for every port the load balancer must reach a task on: each
    load-balanced service's group that admits the load balancer, with its target groups' ports
    and their health checks' ports."""
    lb_group = lb_security_group(run)
    admitting = {
        r.inputs["securityGroupId"]
        for r in run.of_type(INGRESS)
        if r.inputs.get("referencedSecurityGroupId") == lb_group.id
    }
    groups = {tg.outputs["arn"]: tg for tg in run.of_type(TARGET_GROUP)}
    wanted = set()
    for service in run.of_type(ECS_SERVICE):
        attached = service.inputs.get("loadBalancers") or []
        if not attached:
            continue
        (own,) = set(service.inputs["networkConfiguration"]["securityGroups"]) & admitting
        for attachment in attached:
            tg = groups[attachment["targetGroupArn"]]
            check = tg.inputs.get("healthCheck", {}).get("port", "traffic-port")
            for port in {
                tg.inputs["port"],
                tg.inputs["port"] if check == "traffic-port" else check,
            }:
                wanted.add((own, int(port)))
    return wanted


def egress_reach(run: ProgramRun) -> set[tuple[str, int]]:
    """(security group, port) the load balancer's egress rules let it reach; fails on a rule
    that opens an address range or a range of ports."""
    reach = set()
    for rule in rules(run, EGRESS, lb_security_group(run)):
        i = rule.inputs
        assert not i.get("cidrIpv4") and not i.get("cidrIpv6"), (
            f"{rule.urn} lets the load balancer reach addresses, not only its tasks' group"
        )
        assert i["ipProtocol"] == "tcp" and i["fromPort"] == i["toPort"], (
            f"{rule.urn} opens {i['ipProtocol']} {i['fromPort']}-{i['toPort']}, not one port"
        )
        reach.add((i["referencedSecurityGroupId"], i["fromPort"]))
    return reach


def test_the_alb_reaches_only_its_tasks_and_only_on_their_port(run: ProgramRun) -> None:
    wanted, reach = target_ports(run), egress_reach(run)
    assert wanted, "no load-balanced service found: the test checks nothing"
    assert reach == wanted, (
        f"the load balancer may reach {sorted(reach)}; its targets and health checks need "
        f"exactly {sorted(wanted)} (task security group, port)"
    )


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_behind_cloudfront_the_internal_alb_also_reaches_only_its_tasks(
    run_stack, stack: str
) -> None:
    """The committed stacks (edge cloudfront): the internal load balancer's way out is the same."""
    run = run_stack(stack)
    assert alb(run).inputs.get("internal") is True, f"{stack}'s load balancer is not internal"
    wanted, reach = target_ports(run), egress_reach(run)
    assert wanted, "no load-balanced service found: the test checks nothing"
    assert reach == wanted, (
        f"{stack}: the internal load balancer may reach {sorted(reach)}; its targets and health "
        f"checks need exactly {sorted(wanted)}"
    )


def test_each_service_behind_the_alb_gets_its_own_egress_rule() -> None:
    """The main service and the web services of tools.urns.SERVICES (one on its own port) on
    one load balancer: a rule each, to its own tasks' group and port; the internal service and
    the worker get none."""
    run = run_variant("dev-services")
    webs = 1 + sum(s["type"] == "web" for s in SERVICES.values())
    wanted, reach = target_ports(run), egress_reach(run)
    assert len({group for group, _ in wanted}) == webs, (
        f"expected the {webs} web services' task groups, got {wanted}"
    )
    assert reach == wanted, (
        f"the load balancer may reach {sorted(reach)}; its {webs} services need {sorted(wanted)}"
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
        LoadBalancerArgs(vpc_id="vpc-0123", subnet_ids=["subnet-a", "subnet-b"]),
    )

    def check(values: list[str]) -> None:
        url, dns_name, group = values
        assert url == f"http://{dns_name}" and dns_name.endswith(".elb.amazonaws.com")
        assert group.startswith("sg-")

    return pulumi.Output.all(lb.url, lb.dns_name, lb.security_group_id).apply(check)


# --- preview: what `pulumi preview` shows before the load balancer exists ------------------------
# Built over a real Network, so its VPC and subnets are unknown in preview as they are in a stack;
# wiring is read from what each resource depends on.

CERTIFICATE_ARN = (
    "arn:aws:acm:us-east-1:123456789012:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
)
LB_VARIANTS = ("http", "https", "access-logs")


@pytest.fixture(scope="module")
def lb_over_network(run_component):
    """Given a Network, when LoadBalancer 'web' is created over its public subnets (cached)."""
    cache: dict[tuple[str, bool], ProgramRun] = {}

    def build(variant: str = "http", *, preview: bool = False) -> ProgramRun:
        def program() -> None:
            network = Network("network", NetworkArgs(availability_zones=3))
            logs = (
                AccessLogBucket("alb-logs", AccessLogBucketArgs())
                if variant == "access-logs"
                else None
            )
            LoadBalancer(
                "web",
                LoadBalancerArgs(
                    vpc_id=network.vpc_id,
                    subnet_ids=network.public_subnet_ids,
                    certificate_arn=CERTIFICATE_ARN if variant == "https" else None,
                    access_logs=logs,
                ),
            )

        if (variant, preview) not in cache:
            cache[variant, preview] = run_component(program, preview=preview)
        return cache[variant, preview]

    return build


def lb_uses(run: ProgramRun, resource: RegisteredResource, type_token: str) -> list:
    return [r for r in run.of_type(type_token) if r.urn in resource.depends_on]


def planned_sg(run: ProgramRun) -> RegisteredResource:
    groups = lb_uses(run, alb(run), SECURITY_GROUP)
    assert len(groups) == 1, f"preview plans {alb(run).urn} with {len(groups)} security groups"
    return groups[0]


def planned_rules(run: ProgramRun, type_token: str) -> list[RegisteredResource]:
    group = planned_sg(run)
    return [r for r in run.of_type(type_token) if group.urn in r.depends_on]


@pytest.mark.parametrize("variant", LB_VARIANTS)
def test_preview_plans_exactly_the_load_balancer_an_update_creates(
    lb_over_network, variant: str
) -> None:
    up = {r.urn for r in lb_over_network(variant).resources}
    planned = {r.urn for r in lb_over_network(variant, preview=True).resources}
    assert planned == up, (
        f"{variant}: `pulumi preview` hides {sorted(up - planned)} that `pulumi up` creates "
        f"and shows {sorted(planned - up)} that it does not"
    )


def test_preview_shows_an_internet_facing_alb_on_every_public_subnet(lb_over_network) -> None:
    run = lb_over_network(preview=True)
    lb = alb(run)
    assert lb.inputs.get("internal") is False and lb.inputs["ipAddressType"] == "dualstack", (
        f"preview shows {lb.urn} internal={lb.inputs.get('internal')}, "
        f"ipAddressType={lb.inputs.get('ipAddressType')}"
    )
    assert lb.inputs.get("dropInvalidHeaderFields") is True, lb.urn
    subnets = lb_uses(run, lb, SUBNET)
    assert sorted(s.name for s in subnets) == [f"network-public-us-east-1{az}" for az in "abc"], (
        f"preview plans {lb.urn} on {sorted(s.name for s in subnets)}, want the public subnets"
    )


@pytest.mark.parametrize(("variant", "ports"), [("http", {80}), ("https", {80, 443})])
def test_preview_shows_the_alb_open_to_anyone_on_its_listener_ports_only(
    lb_over_network, variant: str, ports: set[int]
) -> None:
    run = lb_over_network(variant, preview=True)
    admitted = {
        (
            r.inputs["ipProtocol"],
            r.inputs["fromPort"],
            r.inputs["toPort"],
            r.inputs.get("cidrIpv4") or r.inputs.get("cidrIpv6"),
        )
        for r in planned_rules(run, INGRESS)
    }
    want = {("tcp", p, p, cidr) for p in ports for cidr in ("0.0.0.0/0", "::/0")}
    assert admitted == want, (
        f"preview shows {planned_sg(run).urn} admitting {sorted(admitted)}, want {sorted(want)}"
    )
    egress = planned_rules(run, EGRESS)
    assert not egress, (
        f"preview shows a load balancer with no service behind it reaching "
        f"{[r.inputs for r in egress]}; each service adds its own way out"
    )


def test_preview_shows_the_http_listener_answering_404(lb_over_network) -> None:
    run = lb_over_network(preview=True)
    [listener] = lb_child(run, LISTENER)
    assert alb(run).urn in listener.depends_on, f"{listener.urn} is planned on another ALB"
    assert (listener.inputs["port"], listener.inputs["protocol"]) == (80, "HTTP"), listener.urn
    [action] = listener.inputs["defaultActions"]
    assert action["type"] == "fixed-response", f"preview shows {listener.urn} forwarding"
    assert action["fixedResponse"]["statusCode"] == "404", listener.urn


def test_preview_shows_https_with_the_certificate_and_http_redirected(lb_over_network) -> None:
    run = lb_over_network("https", preview=True)
    listeners = {x.inputs["port"]: x for x in lb_child(run, LISTENER)}
    assert sorted(listeners) == [80, 443], f"preview shows listeners on {sorted(listeners)}"
    https = listeners[443]
    assert https.inputs["protocol"] == "HTTPS", https.urn
    assert https.inputs["certificateArn"] == CERTIFICATE_ARN, https.urn
    assert https.inputs["sslPolicy"].startswith("ELBSecurityPolicy-TLS13"), https.urn
    [redirect] = listeners[80].inputs["defaultActions"]
    assert redirect["type"] == "redirect" and redirect["redirect"]["statusCode"] == "HTTP_301", (
        f"preview shows {listeners[80].urn} serving plain HTTP beside HTTPS"
    )
    outputs = run.one("fargate-app:lb:LoadBalancer").component_outputs
    assert outputs["listener_arn"] == UNKNOWN, "services must attach to a planned listener"


def test_preview_shows_the_url_as_known_after_apply(lb_over_network, dev_preview) -> None:
    outputs = lb_over_network(preview=True).one("fargate-app:lb:LoadBalancer").component_outputs
    assert outputs["url"] == UNKNOWN and outputs["dns_name"] == UNKNOWN, (
        f"preview shows the url {outputs['url']!r} before the ALB has a DNS name"
    )
    assert dev_preview.outputs["url"] == Unknown(), dev_preview.outputs["url"]


def test_preview_shows_access_logs_going_to_the_bucket_after_its_policy(lb_over_network) -> None:
    run = lb_over_network("access-logs", preview=True)
    lb = alb(run)
    assert lb.inputs["accessLogs"]["enabled"] is True, f"preview shows {lb.urn} without logs"
    policies = lb_uses(run, lb, "aws:s3/bucketPolicy:BucketPolicy")
    assert len(policies) == 1, (
        f"preview plans {lb.urn} before the bucket policy: the ALB would refuse to enable logs"
    )
