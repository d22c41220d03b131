"""Network: a VPC over N AZs with a public and a private subnet in each, and the ways out.

Subnet plan (fixed per VPC size, so adding an AZ never moves an existing subnet): the VPC is cut
into 2**new_bits equal slots; AZ i gets public slot i and private slot (half + i). A /16 gives /20
subnets; a /24 gives /27, the smallest an ALB accepts, and so fits at most 4 AZs.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

import pulumi
import pulumi_aws as aws

from components.spec import (
    DEFAULT_AVAILABILITY_ZONES,
    DEFAULT_LOG_RETENTION_DAYS,
    DEFAULT_NAT_GATEWAYS,
    DEFAULT_VPC_CIDR,
    HTTPS_PORT,
    VPC_ORIGIN_UNSUPPORTED_AZ_IDS,
    RolePlacement,
    availability_zone_issues,
    check_args,
    nat_gateway_azs,
    nat_mode_issues,
    retention_issues,
    subnet_new_bits,
    tasks_are_private,
    vpc_cidr_issues,
)

IPV6_SUBNET_PREFIX = 64  # AWS assigns a /56 to the VPC and requires /64 subnets
# Interface endpoints that let private tasks pull images and write logs without a NAT gateway.
# ECR layers themselves come from S3, through the (free) gateway endpoint.
INTERFACE_ENDPOINTS = ("ecr.api", "ecr.dkr", "logs")
ACCOUNT_ID = re.compile(r"^\d{12}$")
# Endpoint policies: what goes through an endpoint is a request by one of this account's principals
# (aws:PrincipalAccount) for a resource of this account or one the stack names
# (aws:ResourceAccount), so a task's credentials cannot reach another account's data, nor another
# account's credentials this VPC's. Every service here puts both keys in its requests' context
# (AWS's data perimeter endpoint policies for ECR, S3, SSM and the default one scope by resource
# account: github.com/aws-samples/data-perimeter-policy-examples), except ssmmessages: its actions
# have no resource type, so only the principal's account can scope it.
ENDPOINT_SCOPE_KEYS = ("aws:PrincipalAccount", "aws:ResourceAccount")
PRINCIPAL_SCOPED_ENDPOINTS = ("ssmmessages",)
# Actions with no resource type that the tasks call, by endpoint (Service Authorization
# Reference): a request for one may carry no resource account, and each answers only about the
# caller's own account (a token for its own registry, its own log groups), so this account's
# principals may call them whatever the request carries. The ECS agent logs in through both ECR
# endpoints; ECS Exec's agent looks up its log group.
NO_RESOURCE_ACTIONS = {
    "ecr.api": ("ecr:GetAuthorizationToken",),
    "ecr.dkr": ("ecr:GetAuthorizationToken",),
    "logs": ("logs:DescribeLogGroups",),
}
# ECR serves image layers from a bucket AWS owns in each region, through presigned URLs that ECR's
# own account signs, so neither key would match: the S3 endpoint admits reading that bucket by
# name, and only reading (Amazon ECR user guide, "Minimum Amazon S3 bucket permissions for Amazon
# ECR": arn:aws:s3:::prod-<region>-starport-layer-bucket/*, s3:GetObject). Without it no private
# task can pull its image.
ECR_LAYER_BUCKET = "prod-{region}-starport-layer-bucket"
# Flow log records are aggregated over this many seconds: 600 (the maximum) writes the fewest
# records, so costs least, and is still precise enough to investigate a connection problem.
FLOW_LOG_AGGREGATION_S = 600


def aws_lookup_options(opts: pulumi.ResourceOptions | None) -> pulumi.InvokeOptions:
    """Options for an AWS lookup made before a component registers: the AWS provider that its
    children would use (given as `provider` or among `providers`, else its parent's)."""
    if opts is None:
        return pulumi.InvokeOptions()
    provider = opts.provider
    if provider is None and opts.providers:
        given = opts.providers.values() if isinstance(opts.providers, Mapping) else opts.providers
        provider = next((p for p in given if p.package == "aws"), None)
    return pulumi.InvokeOptions(parent=opts.parent, provider=provider)


def plan_subnets(vpc_cidr: str, azs: int) -> list[tuple[str, str]]:
    """(public, private) IPv4 CIDRs for AZ 0..azs-1."""
    net = ipaddress.ip_network(vpc_cidr)
    slots = list(net.subnets(prefixlen_diff=subnet_new_bits(net.prefixlen)))
    half = len(slots) // 2
    if azs > half:
        raise ValueError(f"{vpc_cidr} fits subnets for at most {half} AZs")
    return [(str(slots[i]), str(slots[half + i])) for i in range(azs)]


def _nth_ipv6_subnet(vpc_ipv6_cidr: str, *, index: int) -> str:
    return str(
        list(ipaddress.ip_network(vpc_ipv6_cidr).subnets(new_prefix=IPV6_SUBNET_PREFIX))[index]
    )


@dataclass(frozen=True, kw_only=True)
class EndpointScope:
    """Whose requests, for whose resources, the VPC endpoints carry.

    account: this account, whose principals may use the endpoints. Required.
    resource_accounts: the accounts whose resources they may reach. Required.
    partition, region: where the endpoints are (for the ECR layer bucket's ARN). Required.
    """

    account: str
    resource_accounts: Sequence[str]
    partition: str
    region: str


def endpoint_policy(service: str, scope: EndpointScope) -> dict:
    """The endpoint policy of the endpoint for `service` (an endpoint service name such as
    "ecr.dkr", or "s3" for the gateway endpoint); see ENDPOINT_SCOPE_KEYS."""
    accounts = sorted(set(scope.resource_accounts))
    condition: dict[str, str | list[str]] = {"aws:PrincipalAccount": scope.account}
    if service not in PRINCIPAL_SCOPED_ENDPOINTS:
        condition["aws:ResourceAccount"] = accounts[0] if len(accounts) == 1 else accounts
    statements: list[dict] = [
        {
            "Sid": "ThisAccountsPrincipalsToTheStacksAccountsResources"
            if service not in PRINCIPAL_SCOPED_ENDPOINTS
            else "ThisAccountsPrincipalsOnlyTheServiceHasNoResourceTypes",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "*",
            "Resource": "*",
            "Condition": {"StringEquals": condition},
        }
    ]
    if service in NO_RESOURCE_ACTIONS:
        statements.append(
            {
                "Sid": "ThisAccountsPrincipalsCallsWithoutResourceTypes",
                "Effect": "Allow",
                "Principal": "*",
                "Action": list(NO_RESOURCE_ACTIONS[service]),
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:PrincipalAccount": scope.account}},
            }
        )
    if service == "s3":
        bucket = ECR_LAYER_BUCKET.format(region=scope.region)
        statements.append(
            {
                "Sid": "ReadEcrImageLayersFromTheBucketAwsServesThemFrom",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:{scope.partition}:s3:::{bucket}/*",
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


@dataclass(frozen=True, kw_only=True)
class NetworkArgs:
    """Settings of the network.

    cidr: the VPC's IPv4 CIDR. Default 10.0.0.0/16, room for /20 subnets.
    availability_zones: AZs to span. Default 2, the fewest an ALB accepts, and the cheapest.
    nat_gateways: one of components.spec's NAT_MODE_CHOICES, each with what it means. Default
        "none": no NAT cost; tasks run in public subnets with public IPs, reachable only from the
        ALB's security group. A NAT gateway costs about $33 a month and its data.
    vpc_endpoints: add the S3 gateway endpoint and ECR and CloudWatch Logs interface endpoints, so
        private tasks reach them without a NAT. Default False: interface endpoints cost about $7.30
        per endpoint per AZ a month, more than a NAT gateway for a small service.

    extra_endpoints: further interface endpoints (service names such as "secretsmanager") when
        vpc_endpoints is on, for what the tasks use beyond ECR and Logs. Default none.
    other_accounts: accounts besides this one whose resources the tasks reach through the
        endpoints (a prebuilt image's registry, a referenced secret's account). Default none: the
        endpoints admit this account's resources only (ENDPOINT_SCOPE_KEYS says how).
    flow_logs: record all the VPC's traffic (accepted and rejected) to CloudWatch Logs (Security
        Hub EC2.6). Default False: ingestion costs $0.50/GB, worth it in prod.
    flow_log_retention_days: how long flow logs are kept. Default 30.
    protect: protect the flow log group from deletion. Default False.
    roles: where the flow-log role goes (IAM path) and its permissions boundary. Default IAM's
        root path and no boundary; the program passes the stack's path and the stack's boundary.
    vpc_origin: the load balancer in these subnets is a CloudFront VPC origin, which CloudFront
        does not reach in a few AZs (spec.VPC_ORIGIN_UNSUPPORTED_AZ_IDS). AZ names map to AZ IDs
        per account, so only AWS can tell: the network stops, before it creates anything, when one
        of its AZs is one of those. Default False.
    """

    cidr: str = DEFAULT_VPC_CIDR
    availability_zones: int = DEFAULT_AVAILABILITY_ZONES
    nat_gateways: str = DEFAULT_NAT_GATEWAYS
    vpc_endpoints: bool = False
    extra_endpoints: tuple[str, ...] = ()
    other_accounts: tuple[str, ...] = ()
    flow_logs: bool = False
    flow_log_retention_days: int = DEFAULT_LOG_RETENTION_DAYS
    protect: bool = False
    roles: RolePlacement = field(default_factory=RolePlacement)
    vpc_origin: bool = False

    def problems(self) -> list[str]:
        """What is wrong with these settings (empty when nothing is)."""
        found = [f"roles: {p}" for p in self.roles.problems()]
        found += [i.problem() for i in vpc_cidr_issues("cidr", self.cidr)]
        azs = availability_zone_issues("availability_zones", self.availability_zones, self.cidr)
        found += [i.problem() for i in azs]
        found += [
            f"other_accounts {a!r}: an AWS account ID is 12 digits"
            for a in self.other_accounts
            if not ACCOUNT_ID.match(a)
        ]
        found += [i.problem() for i in nat_mode_issues("nat_gateways", self.nat_gateways)]
        retention = retention_issues("flow_log_retention_days", self.flow_log_retention_days)
        return found + [i.problem() for i in retention]


class Network(pulumi.ComponentResource):
    """VPC, subnets, internet gateway, route tables, NAT gateways and VPC endpoints.

    Outputs:
        vpc_id, vpc_cidr: the VPC.
        azs: the AZ names used, in order.
        public_subnet_ids, private_subnet_ids: one per AZ, in the order of `azs`.
        task_subnet_ids: where tasks run: private subnets when they have a private way out (a NAT
            or the endpoints), else public ones.
        tasks_public_ip: whether tasks need a public IP (only in public subnets).
    """

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(f"Network {name!r}", args.problems())
        # The region's zones are looked up before the component registers, so a count the region
        # cannot meet leaves nothing in state; the lookup uses the provider the component would.
        lookup = aws_lookup_options(opts)
        region = aws.get_region(opts=lookup).region
        available = aws.get_availability_zones(
            state="available",
            # Local and Wavelength zones are opt-in and cannot host an ALB.
            filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}],
            opts=lookup,
        )
        zones = available.names
        if len(zones) < args.availability_zones:
            raise pulumi.RunError(
                f"availabilityZones: {args.availability_zones} requested but region {region} "
                f"offers {len(zones)} ({', '.join(zones)}); set it to {len(zones)} or fewer"
            )
        azs = list(zones[: args.availability_zones])
        az_ids = dict(zip(available.names, available.zone_ids, strict=True))
        excluded = [
            f"{az} ({az_ids[az]})"
            for az in azs
            if args.vpc_origin and az_ids[az] in VPC_ORIGIN_UNSUPPORTED_AZ_IDS
        ]
        if excluded:
            raise pulumi.RunError(
                f"availabilityZones: this account's {', '.join(excluded)} cannot be used: "
                "CloudFront VPC origins do not reach it (CloudFront Developer Guide, Supported AWS "
                "Regions for VPC origins); set edge none, or use another region"
            )
        super().__init__("fargate-app:network:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        cidrs = plan_subnets(args.cidr, len(azs))

        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.cidr,
            enable_dns_hostnames=True,  # interface endpoints' private DNS needs both
            enable_dns_support=True,
            # IPv6 lets the load balancer answer IPv6 clients (dual stack) at no extra cost.
            assign_generated_ipv6_cidr_block=True,
            tags={"Name": f"{name}-vpc"},
            opts=child,
        )
        # Security Hub EC2.2: the default security group must allow nothing.
        aws.ec2.DefaultSecurityGroup(f"{name}-default-sg", vpc_id=vpc.id, opts=child)
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, opts=child)

        public_rt = aws.ec2.RouteTable(
            f"{name}-public", vpc_id=vpc.id, tags={"Name": f"{name}-public"}, opts=child
        )
        aws.ec2.Route(
            f"{name}-public-ipv4",
            route_table_id=public_rt.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=igw.id,
            opts=child,
        )
        aws.ec2.Route(
            f"{name}-public-ipv6",
            route_table_id=public_rt.id,
            destination_ipv6_cidr_block="::/0",
            gateway_id=igw.id,
            opts=child,
        )

        public_subnets: list[aws.ec2.Subnet] = []
        private_subnets: list[aws.ec2.Subnet] = []
        private_rts: list[aws.ec2.RouteTable] = []
        for index, (az, (public_cidr, private_cidr)) in enumerate(zip(azs, cidrs, strict=True)):
            public = aws.ec2.Subnet(
                f"{name}-public-{az}",
                vpc_id=vpc.id,
                availability_zone=az,
                cidr_block=public_cidr,
                ipv6_cidr_block=vpc.ipv6_cidr_block.apply(partial(_nth_ipv6_subnet, index=index)),
                # Tasks get a public IP only when the service asks for one; nothing else lives here.
                map_public_ip_on_launch=False,
                tags={"Name": f"{name}-public-{az}", "tier": "public"},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{az}", subnet_id=public.id, route_table_id=public_rt.id, opts=child
            )
            private = aws.ec2.Subnet(
                f"{name}-private-{az}",
                vpc_id=vpc.id,
                availability_zone=az,
                cidr_block=private_cidr,
                tags={"Name": f"{name}-private-{az}", "tier": "private"},
                opts=child,
            )
            # One private route table per AZ, so moving from a single NAT to one per AZ changes
            # routes in place rather than replacing tables.
            private_rt = aws.ec2.RouteTable(
                f"{name}-private-{az}",
                vpc_id=vpc.id,
                tags={"Name": f"{name}-private-{az}"},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{az}",
                subnet_id=private.id,
                route_table_id=private_rt.id,
                opts=child,
            )
            public_subnets.append(public)
            private_subnets.append(private)
            private_rts.append(private_rt)

        nat_azs = nat_gateway_azs(args.nat_gateways, azs)
        nats = {}
        for az in nat_azs:
            eip = aws.ec2.Eip(f"{name}-nat-{az}", domain="vpc", opts=child)
            nats[az] = aws.ec2.NatGateway(
                f"{name}-nat-{az}",
                allocation_id=eip.id,
                subnet_id=public_subnets[azs.index(az)].id,
                tags={"Name": f"{name}-nat-{az}"},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
            )
        for az, rt in zip(azs, private_rts, strict=True):
            if nats:
                nat = nats.get(az, nats[nat_azs[0]])
                aws.ec2.Route(
                    f"{name}-private-{az}-nat",
                    route_table_id=rt.id,
                    destination_cidr_block="0.0.0.0/0",
                    nat_gateway_id=nat.id,
                    opts=child,
                )

        if args.vpc_endpoints:
            services = (*INTERFACE_ENDPOINTS, *args.extra_endpoints)
            account_id = aws.get_caller_identity(opts=pulumi.InvokeOptions(parent=self)).account_id
            partition = aws.get_partition(opts=pulumi.InvokeOptions(parent=self)).partition
            scope = EndpointScope(
                account=account_id,
                resource_accounts=(account_id, *args.other_accounts),
                partition=partition,
                region=region,
            )
            self._endpoints(name, scope, vpc, private_subnets, private_rts, services)
        if args.flow_logs:
            self._flow_logs(name, vpc, args)

        private_tasks = tasks_are_private(args.nat_gateways, args.vpc_endpoints)
        self.vpc_id: pulumi.Output[str] = vpc.id
        self.vpc_cidr: pulumi.Output[str] = vpc.cidr_block
        self.azs: list[str] = azs
        self.public_subnet_ids: list[pulumi.Output[str]] = [s.id for s in public_subnets]
        self.private_subnet_ids: list[pulumi.Output[str]] = [s.id for s in private_subnets]
        self.task_subnet_ids = self.private_subnet_ids if private_tasks else self.public_subnet_ids
        self.tasks_public_ip: bool = not private_tasks
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "vpc_cidr": self.vpc_cidr,
                "azs": self.azs,
                "public_subnet_ids": self.public_subnet_ids,
                "private_subnet_ids": self.private_subnet_ids,
                "task_subnet_ids": self.task_subnet_ids,
                "tasks_public_ip": self.tasks_public_ip,
            }
        )

    def _flow_logs(self, name: str, vpc: aws.ec2.Vpc, args: NetworkArgs) -> None:
        invoke = pulumi.InvokeOptions(parent=self)
        account_id = aws.get_caller_identity(opts=invoke).account_id
        partition = aws.get_partition(opts=invoke).partition
        region = aws.get_region(opts=invoke).region
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            retention_in_days=args.flow_log_retention_days,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        role = aws.iam.Role(
            f"{name}-flow-logs",
            description="VPC flow logs: writes the VPC's flow records to its log group",
            path=args.roles.path,
            permissions_boundary=args.roles.permissions_boundary,
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "VpcFlowLogsOfThisAccountOnly",
                            "Effect": "Allow",
                            "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                            "Condition": {
                                "StringEquals": {"aws:SourceAccount": account_id},
                                "ArnLike": {
                                    "aws:SourceArn": f"arn:{partition}:ec2:{region}:{account_id}:"
                                    "vpc-flow-log/*"
                                },
                            },
                        }
                    ],
                }
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs",
            role=role.name,
            policy=log_group.arn.apply(
                lambda arn: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "WriteFlowRecordsToItsLogGroupOnly",
                                "Effect": "Allow",
                                "Action": [
                                    "logs:CreateLogStream",
                                    "logs:PutLogEvents",
                                    "logs:DescribeLogStreams",
                                ],
                                "Resource": [arn, f"{arn}:*"],
                            }
                        ],
                    }
                )
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.ec2.FlowLog(
            f"{name}-flow-logs",
            vpc_id=vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=log_group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=FLOW_LOG_AGGREGATION_S,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _endpoints(
        self,
        name: str,
        scope: EndpointScope,
        vpc: aws.ec2.Vpc,
        subnets: list[aws.ec2.Subnet],
        route_tables: list[aws.ec2.RouteTable],
        services: tuple[str, ...],
    ) -> None:
        child = pulumi.ResourceOptions(parent=self)
        region = scope.region
        aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=vpc.id,
            service_name=f"com.amazonaws.{region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[rt.id for rt in route_tables],
            policy=json.dumps(endpoint_policy("s3", scope)),
            opts=child,
        )
        sg = aws.ec2.SecurityGroup(
            f"{name}-endpoints",
            vpc_id=vpc.id,
            description="HTTPS from inside the VPC to the AWS service endpoints",
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-endpoints-https",
            security_group_id=sg.id,
            ip_protocol="tcp",
            from_port=HTTPS_PORT,
            to_port=HTTPS_PORT,
            cidr_ipv4=vpc.cidr_block,
            description="HTTPS from the VPC",
            opts=child,
        )
        for service in services:
            aws.ec2.VpcEndpoint(
                f"{name}-{service.replace('.', '-')}",
                vpc_id=vpc.id,
                service_name=f"com.amazonaws.{region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=[s.id for s in subnets],
                security_group_ids=[sg.id],
                policy=json.dumps(endpoint_policy(service, scope)),
                opts=child,
            )
