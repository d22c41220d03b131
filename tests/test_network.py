"""The network (components/network.py), built alone and inside the whole program.

What a user relies on: one public and one private subnet in each AZ, carved from vpcCidr without
overlap, that keep their names and ranges when an AZ is added; the ways out that `natGateways`
and `vpcEndpoints` promise (and no NAT cost when they say none); tasks in private subnets exactly
when they have a private way out; a default security group that admits nothing; and a clear error
when the region has fewer AZs than asked for.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

import pulumi
import pulumi_aws as aws
import pytest

from components.network import Network, NetworkArgs, aws_lookup_options
from tools.mocks import ProgramRun, RegisteredResource, Secure, region_az_count

REGION = "us-east-1"
SUBNET = "aws:ec2/subnet:Subnet"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
ROUTE = "aws:ec2/route:Route"
NAT = "aws:ec2/natGateway:NatGateway"
EIP = "aws:ec2/eip:Eip"
IGW = "aws:ec2/internetGateway:InternetGateway"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
ANY_IPV4, ANY_IPV6 = "0.0.0.0/0", "::/0"

BuildNetwork = Callable[..., ProgramRun]


@pytest.fixture(scope="module")
def network(run_component) -> BuildNetwork:
    """Given NetworkArgs, when the Network component is created on its own, by `pulumi up` or
    (`preview=True`) by `pulumi preview` (cached)."""
    cache: dict[tuple, ProgramRun] = {}

    def build(
        *, az_count: int | None = None, check: bool = True, preview: bool = False, **args
    ) -> ProgramRun:
        key = (az_count, check, preview, tuple(sorted(args.items())))
        if key not in cache:
            cache[key] = run_component(
                lambda: Network("network", NetworkArgs(**args)),
                az_count=az_count,
                check=check,
                preview=preview,
            )
        return cache[key]

    return build


# --- how subnets reach the internet, read from the routes actually registered ---------------------


def route_table_of(run: ProgramRun, subnet: RegisteredResource) -> RegisteredResource:
    assoc = [a for a in run.of_type(ASSOCIATION) if a.inputs["subnetId"] == subnet.id]
    assert len(assoc) == 1, f"{subnet.urn} is associated with {len(assoc)} route tables, want 1"
    return next(t for t in run.of_type(ROUTE_TABLE) if t.id == assoc[0].inputs["routeTableId"])


def routes_of(run: ProgramRun, table: RegisteredResource) -> list[RegisteredResource]:
    return [r for r in run.of_type(ROUTE) if r.inputs["routeTableId"] == table.id]


def default_route(run: ProgramRun, subnet: RegisteredResource) -> RegisteredResource | None:
    found = [
        r
        for r in routes_of(run, route_table_of(run, subnet))
        if r.inputs.get("destinationCidrBlock") == ANY_IPV4
    ]
    assert len(found) <= 1, f"{subnet.urn} has {len(found)} IPv4 default routes"
    return found[0] if found else None


def is_public(run: ProgramRun, subnet: RegisteredResource) -> bool:
    route = default_route(run, subnet)
    igw = run.one(IGW)
    return route is not None and route.inputs.get("gatewayId") == igw.id


def public_subnets(run: ProgramRun) -> list[RegisteredResource]:
    return [s for s in run.of_type(SUBNET) if is_public(run, s)]


def private_subnets(run: ProgramRun) -> list[RegisteredResource]:
    return [s for s in run.of_type(SUBNET) if not is_public(run, s)]


def az_of(subnet: RegisteredResource) -> str:
    return subnet.inputs["availabilityZone"]


def azs(n: int) -> list[str]:
    return [f"{REGION}{c}" for c in "abcdef"[:n]]


# --- subnets --------------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [2, 3, 6])
def test_each_az_gets_one_public_and_one_private_subnet_named_by_its_az(
    network: BuildNetwork, count: int
) -> None:
    run = network(availability_zones=count)
    for tier, subnets in (("public", public_subnets(run)), ("private", private_subnets(run))):
        assert sorted(az_of(s) for s in subnets) == azs(count), (
            f"{tier} subnets are in {[az_of(s) for s in subnets]}, want one in each of {azs(count)}"
        )
        for s in subnets:
            assert s.name.endswith(az_of(s)), f"{s.urn} must be keyed by its AZ {az_of(s)}"


@pytest.mark.parametrize(
    ("cidr", "count"),
    [("10.0.0.0/16", 2), ("10.0.0.0/16", 6), ("172.16.0.0/20", 6), ("10.1.2.0/24", 4),
     ("192.168.0.0/23", 6)],
)  # fmt: skip
def test_subnets_are_carved_from_the_vpc_cidr_without_overlap(
    network: BuildNetwork, cidr: str, count: int
) -> None:
    run = network(cidr=cidr, availability_zones=count)
    vpc_net = ipaddress.ip_network(run.one("aws:ec2/vpc:Vpc").inputs["cidrBlock"])
    assert str(vpc_net) == cidr
    nets = {s.urn: ipaddress.ip_network(s.inputs["cidrBlock"]) for s in run.of_type(SUBNET)}
    assert len(nets) == 2 * count
    for urn, net in nets.items():
        assert net.subnet_of(vpc_net), f"{urn}: {net} is outside the VPC's {vpc_net}"
        assert net.prefixlen <= 27, f"{urn}: {net} is smaller than the /27 an ALB needs"
    for urn, net in nets.items():
        for other_urn, other in nets.items():
            assert urn == other_urn or not net.overlaps(other), f"{urn} {net} overlaps {other_urn}"


@pytest.mark.parametrize("nat", ["none", "perAz"])
def test_adding_an_az_keeps_every_existing_subnet_and_route_as_it_was(
    network: BuildNetwork, nat: str
) -> None:
    before = network(availability_zones=2, nat_gateways=nat)
    after = {r.urn: r for r in network(availability_zones=3, nat_gateways=nat).resources}
    for r in before.resources:
        assert r.urn in after, f"{r.urn} would be deleted when availabilityZones goes 2 -> 3"
    for s in before.of_type(SUBNET):
        assert after[s.urn].inputs["cidrBlock"] == s.inputs["cidrBlock"], (
            f"{s.urn} would move from {s.inputs['cidrBlock']} to "
            f"{after[s.urn].inputs['cidrBlock']} (a replacement) when an AZ is added"
        )
        assert after[s.urn].inputs["availabilityZone"] == az_of(s), s.urn


def test_public_subnets_get_distinct_ipv6_ranges_from_the_vpc(network: BuildNetwork) -> None:
    run = network(availability_zones=3)
    vpc = run.one("aws:ec2/vpc:Vpc")
    assert vpc.inputs.get("assignGeneratedIpv6CidrBlock") is True, f"{vpc.urn} has no IPv6 block"
    vpc_v6 = ipaddress.ip_network(vpc.outputs["ipv6CidrBlock"])
    ranges = [ipaddress.ip_network(s.inputs["ipv6CidrBlock"]) for s in public_subnets(run)]
    assert len(set(ranges)) == 3, f"the public subnets share IPv6 ranges: {ranges}"
    for net in ranges:
        assert net.prefixlen == 64 and net.subnet_of(vpc_v6), f"{net} is not a /64 of {vpc_v6}"


def test_the_vpc_resolves_private_dns_names(network: BuildNetwork) -> None:
    vpc = network().one("aws:ec2/vpc:Vpc")
    assert vpc.inputs.get("enableDnsSupport") is True, vpc.urn
    assert vpc.inputs.get("enableDnsHostnames") is True, (
        f"{vpc.urn}: interface endpoints' private DNS names need DNS hostnames"
    )


# --- routes and NAT -------------------------------------------------------------------------------


def test_public_subnets_route_ipv4_and_ipv6_to_the_internet_gateway(network: BuildNetwork) -> None:
    run = network(availability_zones=3)
    igw = run.one(IGW)
    assert igw.inputs["vpcId"] == run.one("aws:ec2/vpc:Vpc").id
    for s in public_subnets(run):
        routes = routes_of(run, route_table_of(run, s))
        by_destination = {
            r.inputs.get("destinationCidrBlock") or r.inputs.get("destinationIpv6CidrBlock"): r
            for r in routes
        }
        for destination in (ANY_IPV4, ANY_IPV6):
            route = by_destination.get(destination)
            assert route and route.inputs.get("gatewayId") == igw.id, (
                f"{s.urn}: no route for {destination} to the internet gateway"
            )


def test_no_nat_means_no_nat_gateway_no_eip_and_no_way_out_from_private_subnets(
    network: BuildNetwork,
) -> None:
    run = network(nat_gateways="none")
    assert not run.of_type(NAT) and not run.of_type(EIP), "natGateways none must cost nothing"
    for s in private_subnets(run):
        assert default_route(run, s) is None, f"{s.urn} has a default route without a NAT"


def test_a_single_nat_in_the_first_az_serves_every_private_subnet(network: BuildNetwork) -> None:
    run = network(nat_gateways="single", availability_zones=3)
    nat = run.one(NAT)
    first_public = next(s for s in public_subnets(run) if az_of(s) == azs(3)[0])
    assert nat.inputs["subnetId"] == first_public.id, f"{nat.urn} is not in a public subnet"
    assert nat.inputs["allocationId"] == run.one(EIP).id, f"{nat.urn} has no Elastic IP"
    for s in private_subnets(run):
        route = default_route(run, s)
        assert route and route.inputs.get("natGatewayId") == nat.id, (
            f"{s.urn} does not reach the internet through {nat.urn}"
        )


def test_per_az_nat_gives_each_private_subnet_the_nat_of_its_own_az(
    network: BuildNetwork,
) -> None:
    run = network(nat_gateways="perAz", availability_zones=3)
    nats = run.of_type(NAT)
    assert len(nats) == 3 and len(run.of_type(EIP)) == 3, f"{len(nats)} NATs for 3 AZs"
    public_by_id = {s.id: s for s in public_subnets(run)}
    nat_az = {n.id: az_of(public_by_id[n.inputs["subnetId"]]) for n in nats}
    assert sorted(nat_az.values()) == azs(3), f"NATs are in {sorted(nat_az.values())}"
    for s in private_subnets(run):
        route = default_route(run, s)
        assert route, f"{s.urn} has no way out"
        assert nat_az[route.inputs["natGatewayId"]] == az_of(s), (
            f"{s.urn} in {az_of(s)} goes out through a NAT in another AZ, "
            "so an outage there cuts it off"
        )


# --- VPC endpoints --------------------------------------------------------------------------------


def test_no_endpoints_unless_asked_for(network: BuildNetwork) -> None:
    assert not network().of_type(ENDPOINT), "interface endpoints cost ~$7/month each per AZ"


def test_vpc_endpoints_add_the_s3_gateway_for_every_private_route_table(
    network: BuildNetwork,
) -> None:
    run = network(vpc_endpoints=True, availability_zones=3)
    s3 = [
        e for e in run.of_type(ENDPOINT) if e.inputs["serviceName"] == f"com.amazonaws.{REGION}.s3"
    ]
    assert len(s3) == 1, "ECR image layers come from S3: a gateway endpoint is needed"
    assert s3[0].inputs["vpcEndpointType"] == "Gateway", s3[0].urn
    private_tables = {route_table_of(run, s).id for s in private_subnets(run)}
    assert set(s3[0].inputs["routeTableIds"]) == private_tables, (
        f"{s3[0].urn} is not on every private route table"
    )


@pytest.mark.parametrize("service", ["ecr.api", "ecr.dkr", "logs"])
def test_vpc_endpoints_add_private_dns_interface_endpoints_in_the_private_subnets(
    network: BuildNetwork, service: str
) -> None:
    run = network(vpc_endpoints=True, availability_zones=3)
    found = [
        e for e in run.of_type(ENDPOINT)
        if e.inputs["serviceName"] == f"com.amazonaws.{REGION}.{service}"
    ]  # fmt: skip
    assert len(found) == 1, f"no {service} endpoint: private tasks could not pull or log"
    endpoint = found[0]
    assert endpoint.inputs["vpcEndpointType"] == "Interface", endpoint.urn
    assert endpoint.inputs.get("privateDnsEnabled") is True, (
        f"{endpoint.urn}: without private DNS, ECS still resolves the public endpoint"
    )
    assert sorted(endpoint.inputs["subnetIds"]) == sorted(s.id for s in private_subnets(run))
    vpc_cidr = run.one("aws:ec2/vpc:Vpc").inputs["cidrBlock"]
    for group in endpoint.inputs["securityGroupIds"]:
        rules = [r for r in run.of_type(INGRESS) if r.inputs["securityGroupId"] == group]
        assert rules, f"{endpoint.urn}: its security group admits nothing"
        for rule in rules:
            assert (rule.inputs["fromPort"], rule.inputs["toPort"]) == (443, 443), rule.urn
            assert rule.inputs.get("cidrIpv4") == vpc_cidr, (
                f"{rule.urn} must admit HTTPS from the VPC only"
            )


# --- security and errors --------------------------------------------------------------------------


def test_the_default_security_group_allows_nothing(network: BuildNetwork) -> None:
    run = network()
    default = run.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert default.inputs["vpcId"] == run.one("aws:ec2/vpc:Vpc").id, default.urn
    assert not default.inputs.get("ingress") and not default.inputs.get("egress"), (
        f"{default.urn} must have no rules (Security Hub EC2.2)"
    )


def test_a_region_with_fewer_azs_than_requested_is_a_clear_error(network: BuildNetwork) -> None:
    run = network(availability_zones=3, az_count=2, check=False)
    assert isinstance(run.error, pulumi.RunError), f"expected a RunError, got {run.error!r}"
    message = str(run.error)
    for words in ("availabilityZones", "3", REGION, "2"):
        assert words in message, f"the error does not say {words!r}: {message}"
    assert not run.resources, (
        f"nothing should be left in state, not even the component: {[r.urn for r in run.resources]}"
    )


def test_offline_a_listed_region_offers_its_own_azs_and_no_more(run_stack) -> None:
    """eu-west-1 has three AZs (tools/mocks/regions.py, from AWS's Regions and Availability Zones
    page): a stack there asking for four fails offline as `pulumi up` would, naming the region."""
    assert region_az_count("eu-west-1") == 3
    run = run_stack("dev", {"aws:region": "eu-west-1", "availabilityZones": 4}, check=False)
    assert isinstance(run.error, pulumi.RunError), f"expected a RunError, got {run.error!r}"
    message = str(run.error)
    assert "availabilityZones: 4 requested but region eu-west-1 offers 3" in message, message
    three = run_stack("dev", {"aws:region": "eu-west-1", "availabilityZones": 3})
    zones = {s.inputs["availabilityZone"] for s in three.of_type(SUBNET)}
    assert zones == {"eu-west-1a", "eu-west-1b", "eu-west-1c"}, zones


# --- where tasks run, in the whole program --------------------------------------------------------


@pytest.mark.parametrize(
    ("nat", "endpoints", "private"),
    [("none", False, False), ("single", False, True), ("perAz", False, True), ("none", True, True)],
)
def test_tasks_run_in_private_subnets_without_public_ip_exactly_when_they_have_a_way_out(
    run_stack, nat: str, endpoints: bool, private: bool
) -> None:
    run = run_stack("dev", {"natGateways": nat, "vpcEndpoints": endpoints})
    service = next(s for s in run.of_type("aws:ecs/service:Service") if s.name == "app-svc")
    network_config = service.inputs["networkConfiguration"]
    want = private_subnets(run) if private else public_subnets(run)
    assert sorted(network_config["subnets"]) == sorted(s.id for s in want), (
        f"{service.urn}: tasks must run in the {'private' if private else 'public'} subnets "
        f"with natGateways={nat}, vpcEndpoints={endpoints}"
    )
    assert network_config.get("assignPublicIp", False) is (not private), (
        f"{service.urn}: assignPublicIp must be {not private} with natGateways={nat}, "
        f"vpcEndpoints={endpoints}"
    )


@pytest.mark.parametrize(
    ("nat", "endpoints"),
    [(nat, endpoints) for nat in ("none", "single", "perAz") for endpoints in (False, True)],
)
def test_tasks_can_always_pull_their_image_and_write_logs(
    run_stack, nat: str, endpoints: bool
) -> None:
    run = run_stack("dev", {"natGateways": nat, "vpcEndpoints": endpoints})
    service = next(s for s in run.of_type("aws:ecs/service:Service") if s.name == "app-svc")
    config = service.inputs["networkConfiguration"]
    services = {e.inputs["serviceName"].removeprefix(f"com.amazonaws.{REGION}.")
                for e in run.of_type(ENDPOINT)}  # fmt: skip
    for subnet in (s for s in run.of_type(SUBNET) if s.id in config["subnets"]):
        if is_public(run, subnet):
            assert config.get("assignPublicIp") is True, (
                f"{service.urn}: tasks in the public {subnet.urn} need a public IP to reach ECR"
            )
            continue
        route = default_route(run, subnet)
        via_nat = route is not None and route.inputs.get("natGatewayId")
        assert via_nat or {"ecr.api", "ecr.dkr", "s3", "logs"} <= services, (
            f"{service.urn}: tasks in {subnet.urn} have neither a NAT route nor the ECR, S3 "
            f"and Logs endpoints (natGateways={nat}, vpcEndpoints={endpoints}), so they "
            "cannot pull their image"
        )


@pulumi.runtime.test
def test_the_component_tells_services_where_tasks_run(pulumi_mocks) -> pulumi.Output:
    public = Network("public", NetworkArgs(nat_gateways="none"))
    private = Network("private", NetworkArgs(nat_gateways="single"))
    assert public.tasks_public_ip is True and private.tasks_public_ip is False
    assert public.azs == azs(2)

    def check(ids: list) -> None:
        pub_tasks, pub_public, priv_tasks, priv_private, priv_public = ids
        assert pub_tasks == pub_public, "without a NAT, tasks run in the public subnets"
        assert priv_tasks == priv_private, "with a NAT, tasks run in the private subnets"
        assert not set(priv_tasks) & set(priv_public)

    return pulumi.Output.all(
        pulumi.Output.all(*public.task_subnet_ids),
        pulumi.Output.all(*public.public_subnet_ids),
        pulumi.Output.all(*private.task_subnet_ids),
        pulumi.Output.all(*private.private_subnet_ids),
        pulumi.Output.all(*private.public_subnet_ids),
    ).apply(check)


@pytest.mark.parametrize(
    "extra,wanted",
    [
        ({}, set()),
        (
            {"secrets": {"DB": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"}},
            {"secretsmanager"},
        ),
        ({"secretValues": Secure({"DB_PASSWORD": "s3cr3t"})}, {"secretsmanager"}),
        ({"secrets": {"URL": "arn:aws:ssm:us-east-1:123456789012:parameter/app/url"}}, {"ssm"}),
        ({"enableExec": True}, {"ssmmessages", "kms"}),
    ],
)
def test_endpoints_cover_what_private_tasks_fetch_without_a_nat(run_config, extra, wanted):
    """Private tasks that reach AWS only through endpoints still get their secrets and exec."""
    run = run_config({"aws:region": "us-east-1", "vpcEndpoints": True, **extra})
    services = {
        r.inputs["serviceName"].removeprefix("com.amazonaws.us-east-1.")
        for r in run.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
        if r.inputs["vpcEndpointType"] == "Interface"
    }
    assert services == {"ecr.api", "ecr.dkr", "logs"} | wanted


# --- preview: what `pulumi preview` shows before any ID exists ------------------------------------
# Every ID is unknown in preview, so wiring is read from the resources each one takes inputs from
# (its dependencies), which the engine knows before anything exists.


def uses(
    run: ProgramRun, resource: RegisteredResource, type_token: str
) -> list[RegisteredResource]:
    """The resources of `type_token` that `resource` depends on (takes inputs from)."""
    return [r for r in run.of_type(type_token) if r.urn in resource.depends_on]


def planned_route_table_of(run: ProgramRun, subnet: RegisteredResource) -> RegisteredResource:
    assoc = [a for a in run.of_type(ASSOCIATION) if subnet.urn in a.depends_on]
    assert len(assoc) == 1, f"{subnet.urn} is planned with {len(assoc)} route tables, want 1"
    tables = uses(run, assoc[0], ROUTE_TABLE)
    assert len(tables) == 1, f"{assoc[0].urn} associates {len(tables)} route tables, want 1"
    return tables[0]


def planned_default_route(run: ProgramRun, subnet: RegisteredResource) -> RegisteredResource | None:
    table = planned_route_table_of(run, subnet)
    found = [
        r
        for r in run.of_type(ROUTE)
        if table.urn in r.depends_on and r.inputs.get("destinationCidrBlock") == ANY_IPV4
    ]
    assert len(found) <= 1, f"{subnet.urn} is planned with {len(found)} IPv4 default routes"
    return found[0] if found else None


def planned_public(run: ProgramRun) -> list[RegisteredResource]:
    """Subnets whose planned default route goes to the internet gateway."""
    igw = run.one(IGW)
    return [
        s
        for s in run.of_type(SUBNET)
        if (route := planned_default_route(run, s)) is not None and igw.urn in route.depends_on
    ]


def planned_private(run: ProgramRun) -> list[RegisteredResource]:
    public = {s.urn for s in planned_public(run)}
    return [s for s in run.of_type(SUBNET) if s.urn not in public]


PREVIEW_VARIANTS = [
    {"nat_gateways": "none"},
    {"nat_gateways": "single", "availability_zones": 3},
    {"nat_gateways": "perAz", "availability_zones": 3},
    {"vpc_endpoints": True, "extra_endpoints": ("secretsmanager",)},
    {"flow_logs": True},
]


@pytest.mark.parametrize(
    "args", PREVIEW_VARIANTS, ids=["none", "single", "perAz", "endpoints", "flow-logs"]
)
def test_preview_plans_exactly_the_network_an_update_creates(network: BuildNetwork, args) -> None:
    up = {r.urn for r in network(**args).resources}
    planned = {r.urn for r in network(preview=True, **args).resources}
    assert planned == up, (
        f"with {args}, `pulumi preview` hides {sorted(up - planned)} that `pulumi up` creates "
        f"and shows {sorted(planned - up)} that it does not"
    )


@pytest.mark.parametrize("count", [2, 3])
def test_preview_shows_each_azs_public_and_private_subnet_with_its_final_range(
    network: BuildNetwork, count: int
) -> None:
    up = {s.urn: s.inputs["cidrBlock"] for s in network(availability_zones=count).of_type(SUBNET)}
    run = network(availability_zones=count, preview=True)
    for tier, subnets in (("public", planned_public(run)), ("private", planned_private(run))):
        assert sorted(az_of(s) for s in subnets) == azs(count), (
            f"preview plans {tier} subnets in {[az_of(s) for s in subnets]}, "
            f"want one in each of {azs(count)}"
        )
    for s in run.of_type(SUBNET):
        assert s.inputs["cidrBlock"] == up[s.urn], (
            f"preview shows {s.urn} as {s.inputs['cidrBlock']}, but `pulumi up` creates "
            f"{up[s.urn]}: the plan a reviewer approves must be the one applied"
        )


@pytest.mark.parametrize(("nat", "count"), [("none", 0), ("single", 1), ("perAz", 3)])
def test_preview_shows_the_nat_gateways_and_private_routes_natgateways_asks_for(
    network: BuildNetwork, nat: str, count: int
) -> None:
    run = network(nat_gateways=nat, availability_zones=3, preview=True)
    nats = run.of_type(NAT)
    assert len(nats) == count and len(run.of_type(EIP)) == count, (
        f"preview of natGateways={nat} over 3 AZs shows {len(nats)} NAT gateways and "
        f"{len(run.of_type(EIP))} Elastic IPs, want {count} of each (~$33/month a NAT)"
    )
    public_az = {s.urn: az_of(s) for s in planned_public(run)}
    nat_az = {}
    for n in nats:
        subnets = uses(run, n, SUBNET)
        assert len(subnets) == 1 and subnets[0].urn in public_az, (
            f"{n.urn} is not planned in a public subnet, so it could not reach the internet"
        )
        assert len(uses(run, n, EIP)) == 1, f"{n.urn} is planned without its Elastic IP"
        nat_az[n.urn] = public_az[subnets[0].urn]
    for s in planned_private(run):
        route = planned_default_route(run, s)
        if not count:
            assert route is None, f"{s.urn} is planned with a default route but no NAT"
            continue
        via = uses(run, route, NAT) if route else []
        assert len(via) == 1, f"{s.urn} is planned without a route through a NAT gateway"
        want = az_of(s) if nat == "perAz" else azs(3)[0]
        assert nat_az[via[0].urn] == want, (
            f"preview routes {s.urn} through the NAT in {nat_az[via[0].urn]}, want {want}"
        )


@pytest.mark.parametrize(
    ("nat", "endpoints", "public_ip"),
    [
        ("none", False, True),
        ("single", False, False),
        ("perAz", False, False),
        ("none", True, False),
    ],
)
def test_preview_already_knows_whether_tasks_get_a_public_ip(
    network: BuildNetwork, nat: str, endpoints: bool, public_ip: bool
) -> None:
    run = network(nat_gateways=nat, vpc_endpoints=endpoints, preview=True)
    outputs = run.one("fargate-app:network:Network").component_outputs
    assert outputs["tasks_public_ip"] is public_ip, (
        f"in preview the network says tasks_public_ip={outputs['tasks_public_ip']!r} with "
        f"natGateways={nat}, vpcEndpoints={endpoints}; want {public_ip}"
    )
    assert outputs["azs"] == azs(2), f"preview names the AZs {outputs['azs']}"
    assert len(outputs["task_subnet_ids"]) == 2, (
        f"preview gives services {len(outputs['task_subnet_ids'])} task subnets, want one per AZ"
    )


def test_preview_plans_the_endpoints_in_the_private_subnets(network: BuildNetwork) -> None:
    run = network(vpc_endpoints=True, availability_zones=3, preview=True)
    private = {s.urn for s in planned_private(run)}
    private_tables = {planned_route_table_of(run, s).urn for s in planned_private(run)}
    for endpoint in run.of_type(ENDPOINT):
        if endpoint.inputs["vpcEndpointType"] == "Gateway":
            tables = {t.urn for t in uses(run, endpoint, ROUTE_TABLE)}
            assert tables == private_tables, f"{endpoint.urn} is not on every private route table"
            continue
        assert endpoint.inputs.get("privateDnsEnabled") is True, endpoint.urn
        assert {s.urn for s in uses(run, endpoint, SUBNET)} == private, (
            f"preview plans {endpoint.urn} outside the private subnets"
        )


def test_preview_reports_too_few_azs_with_the_same_clear_error(network: BuildNetwork) -> None:
    run = network(availability_zones=3, az_count=2, check=False, preview=True)
    assert isinstance(run.error, pulumi.RunError), f"expected a RunError, got {run.error!r}"
    for words in ("availabilityZones", "3", REGION, "2"):
        assert words in str(run.error), f"the preview error does not say {words!r}: {run.error}"
    assert not run.of_type(SUBNET), "preview must not plan a half-built network"


@pytest.mark.parametrize(
    ("nat", "endpoints", "private"),
    [("none", False, False), ("single", False, True), ("perAz", False, True), ("none", True, True)],
)
def test_preview_plans_tasks_in_the_subnets_and_with_the_public_ip_an_update_uses(
    run_stack, nat: str, endpoints: bool, private: bool
) -> None:
    run = run_stack("dev", {"natGateways": nat, "vpcEndpoints": endpoints}, preview=True)
    service = next(s for s in run.of_type("aws:ecs/service:Service") if s.name == "app-svc")
    want = planned_private(run) if private else planned_public(run)
    assert {s.urn for s in uses(run, service, SUBNET)} == {s.urn for s in want}, (
        f"preview plans {service.urn}'s tasks outside the {'private' if private else 'public'} "
        f"subnets (natGateways={nat}, vpcEndpoints={endpoints})"
    )
    assign = service.inputs["networkConfiguration"].get("assignPublicIp", False)
    assert assign is (not private), (
        f"preview shows assignPublicIp={assign!r} for {service.urn}, want {not private}"
    )


def test_prod_preview_plans_private_tasks_without_public_ip_in_two_azs(prod_preview) -> None:
    service = next(
        s for s in prod_preview.of_type("aws:ecs/service:Service") if s.name == "app-svc"
    )
    subnets = uses(prod_preview, service, SUBNET)
    private = {s.urn for s in planned_private(prod_preview)}
    assert subnets and {s.urn for s in subnets} <= private, (
        f"prod's preview plans {service.urn}'s tasks in a public subnet"
    )
    assert len({az_of(s) for s in subnets}) >= 2, f"prod tasks span {len(subnets)} AZ(s), want 2+"
    assert service.inputs["networkConfiguration"].get("assignPublicIp") is False, (
        f"prod's preview gives {service.urn}'s tasks a public IP"
    )


def test_the_az_lookup_before_the_network_registers_uses_the_program_s_aws_provider(
    pulumi_mocks,
) -> None:
    """The program passes its provider in `providers`; the lookup made before the component
    exists must use it (its region), not the default provider."""
    provider = aws.Provider("regional", region="eu-west-1")
    for opts in (
        pulumi.ResourceOptions(providers=[provider]),
        pulumi.ResourceOptions(providers={"aws": provider}),
        pulumi.ResourceOptions(provider=provider),
    ):
        assert aws_lookup_options(opts).provider is provider, opts
    assert aws_lookup_options(None).provider is None
