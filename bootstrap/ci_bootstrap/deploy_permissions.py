"""What a stack's deploy role may do: the app's resource types, the IAM it needs, and nothing more.

Two halves that a test holds against each other:

- `RESOURCE_TYPES` and `INVOKES`: the table of what `pulumi up` calls for each resource type and
  data source the program uses (Pulumi type token -> the actions, the resource they act on, the
  condition keys the request carries), with the AWS Service Authorization Reference page of each
  service (`SAR_PAGES`) as the source of the action names, resource types and condition keys. A
  new resource type in the program (SQS, EFS, CloudFront, WAF, Service Discovery, ...) needs a
  row here: tests/test_deploy_permissions.py runs the program with every optional feature and
  names any type without one.
- `service_statements()` and `iam_statements()`: the policy the deploy role gets, written by
  service, scoped to this account (and, for IAM, to the stack's role path and permissions
  boundary). The test evaluates every row of the table against it.

The policy is split into customer managed policies of at most IAM's size (`pack()`); the guardrails
(explicit denies, the state bucket, IAM) are the role's inline policy. IAM quotas: an inline role
policy (all of a role's together) at most 10,240 characters and a managed policy at most 6,144,
whitespace not counted; at most 10 managed policies attached to a role by default (IAM User
Guide, "IAM and AWS STS quotas": https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# IAM quotas (see the module docstring), in characters without whitespace.
INLINE_ROLE_POLICY_MAX_CHARS = 10_240
MANAGED_POLICY_MAX_CHARS = 6_144
MANAGED_POLICIES_PER_ROLE_MAX = 10

# The AWS Service Authorization Reference: actions, resource types and condition keys, by service.
SAR = "https://docs.aws.amazon.com/service-authorization/latest/reference/"
SAR_PAGES: dict[str, str] = {
    "acm": SAR + "list_awscertificatemanager.html",
    "cloudfront": SAR + "list_amazoncloudfront.html",
    "application-autoscaling": SAR + "list_awsapplicationautoscaling.html",
    "cloudwatch": SAR + "list_amazoncloudwatch.html",
    "ec2": SAR + "list_amazonec2.html",
    "ecr": SAR + "list_amazonelasticcontainerregistry.html",
    "ecs": SAR + "list_amazonelasticcontainerservice.html",
    "elasticfilesystem": SAR + "list_amazonelasticfilesystem.html",
    "elasticloadbalancing": SAR + "list_awselasticloadbalancing.html",
    "iam": SAR + "list_awsidentityandaccessmanagementiam.html",
    "kms": SAR + "list_awskeymanagementservice.html",
    "logs": SAR + "list_amazoncloudwatchlogs.html",
    "route53": SAR + "list_amazonroute53.html",
    "s3": SAR + "list_amazons3.html",
    "scheduler": SAR + "list_amazoneventbridgescheduler.html",
    "secretsmanager": SAR + "list_awssecretsmanager.html",
    "servicediscovery": SAR + "list_awscloudmap.html",
    "sns": SAR + "list_amazonsns.html",
    "sqs": SAR + "list_amazonsqs.html",
    "sts": SAR + "list_awssecuritytokenservice.html",
    "wafv2": SAR + "list_awswafv2.html",
}

# Every IAM role the program creates lives under this path (the contract with the program).
APP_ROLE_PATH = "/{project}/{stack}/"
# The AWS managed policies the program attaches to its roles, and no other: the ECS agent's
# (components/roles.py EXECUTION_POLICY). The blue/green infrastructure role's
# AmazonECSInfrastructureRolePolicyForLoadBalancers gave way to a grant on the service's own load
# balancer resources (issue 14); detaching it on the upgrade needs no policy ARN.
APP_MANAGED_POLICIES: tuple[str, ...] = ("service-role/AmazonECSTaskExecutionRolePolicy",)
# The services the app's roles are handed to: ECS tasks, ECS itself (the infrastructure role of
# blue/green and canary deploys), VPC flow logs, and EventBridge Scheduler (scheduled jobs).
PASSABLE_TO_SERVICES: tuple[str, ...] = (
    "ecs-tasks.amazonaws.com",
    "ecs.amazonaws.com",
    "vpc-flow-logs.amazonaws.com",
    "scheduler.amazonaws.com",
)
# Service-linked roles AWS creates on an account's first cluster, load balancer or scaling target
# (created by the caller's request, under /aws-service-role/, with AWS's own policy).
SERVICE_LINKED_ROLES: tuple[str, ...] = (
    "ecs.amazonaws.com",
    "elasticloadbalancing.amazonaws.com",
    "ecs.application-autoscaling.amazonaws.com",
    "elasticfilesystem.amazonaws.com",
    # AWSServiceRoleForCloudFrontVPCOrigin: CloudFront places a VPC origin's network interfaces
    # and security group with it (edge: cloudfront).
    "vpcorigin.cloudfront.amazonaws.com",
)
# The tag that scopes a stack's resources: project-qualified, so that no other project's resources
# (which may well carry a `stack` tag of their own) fall under a stack's grants. __main__.py puts
# it on every resource the program creates, through the provider's default tags
# (components/spec.py STACK_TAG_KEY; a test keeps the two equal).
STACK_TAG_KEY = "{project}:stack"
# The tag on a stack's deploy role naming the stack it deploys. The program's alarm-topic key
# lets the role so tagged manage it (components/alarm_topic.py; a test keeps the two equal), so
# that no IAM grant has to reach KMS keys by their (writable) tags. No deploy role may write it.
DEPLOYS_TAG_KEY = "{project}:deploys"
# The names the program's S3 buckets start with: the access-log bucket, auto-named after its
# logical name `alb-logs-bucket` (components/access_logs.py under __main__.py's "alb-logs"). A test
# holds every bucket the program creates to this list.
APP_BUCKET_PREFIXES: tuple[str, ...] = ("alb-logs-bucket-",)
# Where the program's Secrets Manager secrets live: their names start with the stack's own
# prefix (components/secrets.py), which no other stack's grant reaches and no tag can fake.
APP_SECRET_PREFIX = "{project}/{stack}/"


def stack_tag_condition(key: str, stack: str, if_exists: bool = False) -> dict[str, Any]:
    """A condition that `key` (aws:RequestTag/..., aws:ResourceTag/...) names `stack`: exactly,
    or, for the review stacks' wildcard (stack_names.REVIEW_STACKS), any stack it matches; with
    `if_exists`, also a request that lacks the key."""
    operator = "StringLike" if "*" in stack else "StringEquals"
    operator += "IfExists" if if_exists else ""
    return {operator: {key: stack}}


def stack_tag(project: str) -> str:
    return STACK_TAG_KEY.format(project=project)


def deploys_tag(project: str) -> str:
    return DEPLOYS_TAG_KEY.format(project=project)


def app_role_path(project: str, stack: str) -> str:
    return APP_ROLE_PATH.format(project=project, stack=stack)


def app_roles_arn(partition: str, account: str, project: str, stack: str) -> str:
    return f"arn:{partition}:iam::{account}:role{app_role_path(project, stack)}*"


def managed_policy_arns(partition: str) -> list[str]:
    return [f"arn:{partition}:iam::aws:policy/{p}" for p in APP_MANAGED_POLICIES]


# --- the table -----------------------------------------------------------------------------------

# How the deploy policy grants a row (`Need.scope`), and so what the request carries. A stack's
# resources carry its tag (STACK_TAG_KEY); where the Service Authorization Reference lists
# aws:ResourceTag / aws:RequestTag for an action, the grant is scoped by it:
ANY = "any"  # calls that name no resource: "*", the only resource IAM accepts for them
ACCOUNT = "account"  # any resource of the service in this account: reads, and what tags can't scope
CREATE = "create"  # a new resource, only when the request tags it for the stack
# A new resource, or one of the stack's own; never one tagged for another stack, never given
# another stack's tag. Tagging calls (a create that tags authorizes TagResource against the new,
# untagged resource) and create-or-update calls (PutMetricAlarm, RegisterScalableTarget).
MINE_OR_NEW = "mine-or-new"
OWNED = "owned"  # only resources tagged for the stack
# EC2's tags sent with a create call (ec2:CreateTags with ec2:CreateAction): only the stack's.
TAGGED_AT_CREATE = "tagged-at-create"
# A tagging call on the stack's own resource that does not give it another stack's tag.
OWNED_KEEPS_TAG = "owned-keeps-tag"
NAMED = "named"  # by name: `Need.grant` is the pattern (the stack's secrets, the program's buckets)
# Granted elsewhere: by iam_statements (the stack's role path, its boundary), by the alarm-topic
# key's own policy (components/alarm_topic.py), by the record names the bootstrap's domainNames
# allow (dns_statement).
IAM = "iam"
KEY_POLICY = "key-policy"
DNS = "dns"
GRANTED_HERE = (ANY, ACCOUNT, CREATE, MINE_OR_NEW, OWNED, TAGGED_AT_CREATE, OWNED_KEEPS_TAG, NAMED)


@dataclass(frozen=True)
class Need:
    """Requests a resource type's create, read, update and delete make: `actions` on `resource`
    (an example ARN, a template: {partition} {region} {account} {project} {stack}), granted as
    `scope` says (NAMED: on `grant`, a template too), carrying `context` beyond what the scope
    implies (condition keys; templates, {boundary} being the stack's permissions boundary,
    {domain} one of the bootstrap's domainNames). `grant`, when given, is the resource pattern the
    policy names instead of the scope's own (NAMED: always)."""

    actions: tuple[str, ...]
    resource: str = "*"
    scope: str = ANY
    context: tuple[tuple[str, str], ...] = ()
    grant: str = ""


def request_context(need: Need, project: str, stack: str) -> dict[str, str]:
    """The condition keys a request of `need` for `stack` carries, as the scope implies (the
    stack's tag on the new or existing resource) and the row lists (unrendered templates)."""
    key = stack_tag(project)
    implied = {
        CREATE: {f"aws:RequestTag/{key}": stack},
        MINE_OR_NEW: {f"aws:RequestTag/{key}": stack},
        OWNED: {f"aws:ResourceTag/{key}": stack},
        TAGGED_AT_CREATE: {f"aws:RequestTag/{key}": stack},
        OWNED_KEEPS_TAG: {f"aws:ResourceTag/{key}": stack, f"aws:RequestTag/{key}": stack},
        KEY_POLICY: {f"aws:ResourceTag/{key}": stack},  # the key carries it, as every resource
    }.get(need.scope, {})
    return {**implied, **dict(need.context)}


EC2_ARN = "arn:{partition}:ec2:{region}:{account}:"


def _ec2_new(action: str, on: str) -> tuple[Need, Need]:
    """A call that creates the EC2 resource `on`: the new resource, tagged for the stack by the
    call itself, and the ec2:CreateTags EC2 authorizes for those tags (ec2:CreateAction names
    the call)."""
    return (
        Need((action,), EC2_ARN + on, CREATE),
        Need(
            ("ec2:CreateTags",),
            EC2_ARN + on,
            TAGGED_AT_CREATE,
            (("ec2:CreateAction", action.partition(":")[2]),),
        ),
    )


def _ec2_own(*actions: str, on: str) -> Need:
    return Need(actions, EC2_ARN + on, OWNED)


def _ec2_tags(on: str) -> tuple[Need, Need]:
    """Tag changes on the stack's own resource: never giving it another stack's tag, and never
    removing the stack's (guardrail_statements)."""
    return (
        Need(("ec2:CreateTags",), EC2_ARN + on, OWNED_KEEPS_TAG),
        Need(("ec2:DeleteTags",), EC2_ARN + on, OWNED),
    )


EC2_READ = Need(("ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeRouteTables"))
ROLES = "arn:{partition}:iam::{account}:role/{project}/{stack}/app-task-0000000"
BOUNDED = (("iam:PermissionsBoundary", "{boundary}"),)
ECS = "arn:{partition}:ecs:{region}:{account}"
ELB = "arn:{partition}:elasticloadbalancing:{region}:{account}"
LOAD_BALANCER = ELB + ":loadbalancer/app/web-lb/0123456789abcdef"
LISTENER = ELB + ":listener/app/web-lb/0123456789abcdef/0123456789abcdef"
CERTIFICATE = (
    "arn:{partition}:acm:{region}:{account}:certificate/12345678-1234-1234-1234-123456789012"
)
REPOSITORY = "arn:{partition}:ecr:{region}:{account}:repository/app-repo-0000000"
LOG_GROUP = "arn:{partition}:logs:{region}:{account}:log-group:/ecs/{project}/{stack}/app"
ALARM = "arn:{partition}:cloudwatch:{region}:{account}:alarm:{project}-{stack}-app-5xx"
TOPIC = "arn:{partition}:sns:{region}:{account}:alarms-topic-0000000"
QUEUE = "arn:{partition}:sqs:{region}:{account}:jobs-nightly-dlq-0000000"
EFS = "arn:{partition}:elasticfilesystem:{region}:{account}"
FILE_SYSTEM = EFS + ":file-system/fs-0123456789abcdef0"
ACCESS_POINT = EFS + ":access-point/fsap-0123456789abcdef0"
NAMESPACE = "arn:{partition}:servicediscovery:{region}:{account}:namespace/ns-0123456789abcdef"
KEY = "arn:{partition}:kms:{region}:{account}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
BUCKET = "arn:{partition}:s3:::alb-logs-bucket-0000000"
BUCKETS = "arn:{partition}:s3:::alb-logs-bucket-*"  # and their objects: `*` spans the `/`
SECRET = (
    "arn:{partition}:secretsmanager:{region}:{account}:secret:"
    "{project}/{stack}/DB_PASSWORD-20260101000000000000000000-AbCdEf"
)
SECRETS = "arn:{partition}:secretsmanager:*:{account}:secret:" + APP_SECRET_PREFIX + "*"
ZONE = "arn:{partition}:route53:::hostedzone/Z0123456789ABCDEFGHIJ"
# The edge (components/edge.py, web_acl.py). CloudFront is global: its ARNs name no region. A
# CLOUDFRONT-scope web ACL lives in us-east-1 (global/...), a REGIONAL one in the stack's region.
VPC_ORIGIN = "arn:{partition}:cloudfront::{account}:vpcorigin/vo_0123456789abcdef012345"
DISTRIBUTION = "arn:{partition}:cloudfront::{account}:distribution/E0123456789ABC"
WEB_ACLS = tuple(
    f"arn:{{partition}}:wafv2:{region}:{{account}}:{scope}/webacl/{{project}}-{{stack}}-waf/"
    "12345678-1234-1234-1234-123456789012"
    for region, scope in (("us-east-1", "global"), ("{region}", "regional"))
)
# WAF associates a REGIONAL web ACL with the load balancer, an ELB resource: by its ARN pattern.
APP_LOAD_BALANCERS = "arn:{partition}:elasticloadbalancing:*:{account}:loadbalancer/app/*"
# The names of the alarms Application Auto Scaling makes for a target tracking policy, on the
# caller's permissions and without tags (Application Auto Scaling User Guide, "Target tracking
# scaling policies": the caller needs cloudwatch:PutMetricAlarm, DescribeAlarms, DeleteAlarms).
TARGET_TRACKING_ALARMS = "arn:{partition}:cloudwatch:*:{account}:alarm:TargetTracking-*"
# The alarm-topic key's management, as its policy grants it to the stack's deploy role.
KEY_POLICY_CONTEXT = (
    ("aws:PrincipalTag/" + DEPLOYS_TAG_KEY, "{stack}"),
    ("aws:PrincipalAccount", "{account}"),
)

RESOURCE_TYPES: dict[str, tuple[Need, ...]] = {
    # EC2: each network resource the stack's own, by its tag, as for every other service. EC2
    # authorizes each resource a call names on its own (the new one by the tags the call sends,
    # the ones it uses by their own tags), so each grant names one resource type
    # (grant_pattern). pulumi-aws sends every create's tags in the create call (TagSpecifications;
    # terraform-provider-aws internal/service/ec2: vpc_.go, vpc_subnet.go, vpc_internet_gateway.go,
    # ec2_eip.go, vpc_nat_gateway.go, vpc_route_table.go, vpc_security_group.go,
    # vpc_security_group_ingress_rule.go, vpc_flow_log.go, vpc_endpoint.go), which EC2 authorizes as
    # ec2:CreateTags with ec2:CreateAction naming the call. A route and a route-table association
    # have no tags: they act on the stack's route tables and subnets. The VPC's default security
    # group is AWS's, created untagged with the VPC: the program adopts it by tagging it first
    # (vpc_default_security_group.go: tags, then its rules), hence the one grant to tag an untagged
    # resource (docs/security.md, shared accounts). What tags cannot scope remains: ECS places a
    # stack's tasks in whatever subnets and security groups its service names.
    "aws:ec2/vpc:Vpc": (
        *_ec2_new("ec2:CreateVpc", on="vpc/v"),
        _ec2_own("ec2:DeleteVpc", "ec2:ModifyVpcAttribute", on="vpc/v"),
        *_ec2_tags(on="vpc/v"),
        Need(("ec2:DescribeVpcAttribute", "ec2:DescribeNetworkAcls", "ec2:DescribeVpcs")),
    ),
    "aws:ec2/subnet:Subnet": (
        *_ec2_new("ec2:CreateSubnet", on="subnet/s"),
        _ec2_own("ec2:CreateSubnet", on="vpc/v"),
        _ec2_own("ec2:DeleteSubnet", "ec2:ModifySubnetAttribute", on="subnet/s"),
        *_ec2_tags(on="subnet/s"),
        EC2_READ,
    ),
    "aws:ec2/internetGateway:InternetGateway": (
        *_ec2_new("ec2:CreateInternetGateway", on="internet-gateway/igw"),
        _ec2_own(
            "ec2:DeleteInternetGateway",
            "ec2:AttachInternetGateway",
            "ec2:DetachInternetGateway",
            on="internet-gateway/igw",
        ),
        _ec2_own("ec2:AttachInternetGateway", "ec2:DetachInternetGateway", on="vpc/v"),
        *_ec2_tags(on="internet-gateway/igw"),
        Need(("ec2:DescribeInternetGateways",)),
    ),
    "aws:ec2/eip:Eip": (
        *_ec2_new("ec2:AllocateAddress", on="elastic-ip/e"),
        _ec2_own("ec2:ReleaseAddress", "ec2:DisassociateAddress", on="elastic-ip/e"),
        # The interface the address is on is the NAT gateway's, AWS's and untagged; the address
        # must still be the stack's.
        Need(("ec2:DisassociateAddress",), EC2_ARN + "network-interface/eni", ACCOUNT),
        *_ec2_tags(on="elastic-ip/e"),
        Need(("ec2:DescribeAddresses", "ec2:DescribeAddressesAttribute")),
    ),
    "aws:ec2/natGateway:NatGateway": (
        *_ec2_new("ec2:CreateNatGateway", on="natgateway/n"),
        _ec2_own("ec2:DeleteNatGateway", on="natgateway/n"),
        *(_ec2_own("ec2:CreateNatGateway", on=on) for on in ("subnet/s", "elastic-ip/e", "vpc/v")),
        *_ec2_tags(on="natgateway/n"),
        Need(("ec2:DescribeNatGateways",)),
    ),
    "aws:ec2/routeTable:RouteTable": (
        *_ec2_new("ec2:CreateRouteTable", on="route-table/r"),
        _ec2_own("ec2:CreateRouteTable", on="vpc/v"),
        _ec2_own("ec2:DeleteRouteTable", on="route-table/r"),
        *_ec2_tags(on="route-table/r"),
        EC2_READ,
    ),
    "aws:ec2/route:Route": (
        _ec2_own("ec2:CreateRoute", "ec2:DeleteRoute", "ec2:ReplaceRoute", on="route-table/r"),
        EC2_READ,
    ),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": (
        *(
            _ec2_own(
                "ec2:AssociateRouteTable",
                "ec2:DisassociateRouteTable",
                "ec2:ReplaceRouteTableAssociation",
                on=on,
            )
            for on in ("route-table/r", "subnet/s")
        ),
        EC2_READ,
    ),
    "aws:ec2/securityGroup:SecurityGroup": (
        *_ec2_new("ec2:CreateSecurityGroup", on="security-group/sg"),
        _ec2_own("ec2:CreateSecurityGroup", on="vpc/v"),
        _ec2_own(
            "ec2:DeleteSecurityGroup",
            "ec2:RevokeSecurityGroupEgress",
            "ec2:RevokeSecurityGroupIngress",
            on="security-group/sg",
        ),
        *_ec2_tags(on="security-group/sg"),
        Need(("ec2:DescribeSecurityGroups", "ec2:DescribeNetworkInterfaces")),
    ),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": (
        # Adopting the VPC's default group: tag it (untagged, or the stack's already), strip it.
        Need(("ec2:CreateTags",), EC2_ARN + "security-group/sg", MINE_OR_NEW),
        _ec2_own(
            "ec2:RevokeSecurityGroupIngress",
            "ec2:RevokeSecurityGroupEgress",
            on="security-group/sg",
        ),
        *_ec2_tags(on="security-group/sg"),
        Need(("ec2:DescribeSecurityGroups",)),
    ),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": (
        *_ec2_new("ec2:AuthorizeSecurityGroupIngress", on="security-group-rule/sgr"),
        _ec2_own(
            "ec2:AuthorizeSecurityGroupIngress",
            "ec2:RevokeSecurityGroupIngress",
            "ec2:ModifySecurityGroupRules",
            "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
            on="security-group/sg",
        ),
        _ec2_own("ec2:ModifySecurityGroupRules", on="security-group-rule/sgr"),
        *_ec2_tags(on="security-group-rule/sgr"),
        Need(("ec2:DescribeSecurityGroupRules",)),
    ),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": (
        *_ec2_new("ec2:AuthorizeSecurityGroupEgress", on="security-group-rule/sgr"),
        _ec2_own(
            "ec2:AuthorizeSecurityGroupEgress",
            "ec2:RevokeSecurityGroupEgress",
            "ec2:ModifySecurityGroupRules",
            "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
            on="security-group/sg",
        ),
        _ec2_own("ec2:ModifySecurityGroupRules", on="security-group-rule/sgr"),
        *_ec2_tags(on="security-group-rule/sgr"),
        Need(("ec2:DescribeSecurityGroupRules",)),
    ),
    "aws:ec2/flowLog:FlowLog": (
        *_ec2_new("ec2:CreateFlowLogs", on="vpc-flow-log/fl"),
        _ec2_own("ec2:CreateFlowLogs", on="vpc/v"),
        _ec2_own("ec2:DeleteFlowLogs", on="vpc-flow-log/fl"),
        *_ec2_tags(on="vpc-flow-log/fl"),
        Need(("ec2:DescribeFlowLogs",)),
        Need(
            ("iam:PassRole",),
            ROLES,
            IAM,
            (("iam:PassedToService", "vpc-flow-logs.amazonaws.com"),),
        ),
    ),
    "aws:ec2/vpcEndpoint:VpcEndpoint": (
        *_ec2_new("ec2:CreateVpcEndpoint", on="vpc-endpoint/vpce"),
        _ec2_own("ec2:DeleteVpcEndpoints", "ec2:ModifyVpcEndpoint", on="vpc-endpoint/vpce"),
        _ec2_own("ec2:CreateVpcEndpoint", on="vpc/v"),
        *(
            _ec2_own("ec2:CreateVpcEndpoint", "ec2:ModifyVpcEndpoint", on=on)
            for on in ("route-table/r", "security-group/sg", "subnet/s")
        ),
        *_ec2_tags(on="vpc-endpoint/vpce"),
        Need(("ec2:DescribeVpcEndpoints", "ec2:DescribePrefixLists")),
    ),
    "aws:ecr/repository:Repository": (
        Need(("ecr:CreateRepository",), REPOSITORY, CREATE),
        Need(("ecr:TagResource",), REPOSITORY, MINE_OR_NEW),
        Need(
            (
                "ecr:DeleteRepository",
                "ecr:PutImageScanningConfiguration",
                "ecr:PutImageTagMutability",
                "ecr:UntagResource",
                "ecr:BatchDeleteImage",
            ),
            REPOSITORY,
            OWNED,
        ),
        Need(
            ("ecr:DescribeRepositories", "ecr:ListTagsForResource", "ecr:ListImages"),
            REPOSITORY,
            ACCOUNT,
        ),
    ),
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": (
        Need(("ecr:PutLifecyclePolicy", "ecr:DeleteLifecyclePolicy"), REPOSITORY, OWNED),
        Need(("ecr:GetLifecyclePolicy",), REPOSITORY, ACCOUNT),
    ),
    # pulumi-docker builds on the runner and pushes with the token from getAuthorizationToken.
    "docker:index/image:Image": (
        Need(
            (
                "ecr:InitiateLayerUpload",
                "ecr:UploadLayerPart",
                "ecr:CompleteLayerUpload",
                "ecr:PutImage",
            ),
            REPOSITORY,
            OWNED,
        ),
        Need(("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage"), REPOSITORY, ACCOUNT),
    ),
    "aws:ecs/cluster:Cluster": (
        Need(("ecs:CreateCluster",), ECS + ":cluster/cluster-0000000", CREATE),
        Need(("ecs:TagResource",), ECS + ":cluster/cluster-0000000", MINE_OR_NEW),
        Need(
            (
                "ecs:DeleteCluster",
                "ecs:UpdateCluster",
                "ecs:UpdateClusterSettings",
                "ecs:UntagResource",
            ),
            ECS + ":cluster/cluster-0000000",
            OWNED,
        ),
        Need(
            ("ecs:DescribeClusters", "ecs:ListTagsForResource"),
            ECS + ":cluster/cluster-0000000",
            ACCOUNT,
        ),
        Need(
            ("iam:CreateServiceLinkedRole",),
            "arn:{partition}:iam::{account}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS",
            IAM,
            (("iam:AWSServiceName", "ecs.amazonaws.com"),),
        ),
    ),
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": (
        Need(("ecs:PutClusterCapacityProviders",), ECS + ":cluster/c", OWNED),
        Need(("ecs:DescribeClusters",), ECS + ":cluster/c", ACCOUNT),
    ),
    "aws:ecs/taskDefinition:TaskDefinition": (
        # Granted on "*": the revision a registration makes does not exist yet.
        Need(("ecs:RegisterTaskDefinition",), "*", CREATE),
        Need(("ecs:DescribeTaskDefinition", "ecs:DeregisterTaskDefinition")),
        Need(("ecs:TagResource",), ECS + ":task-definition/{project}-{stack}-app:1", MINE_OR_NEW),
        Need(
            ("ecs:DeleteTaskDefinitions", "ecs:UntagResource"),
            ECS + ":task-definition/{project}-{stack}-app:1",
            OWNED,
        ),
        Need(("iam:PassRole",), ROLES, IAM, (("iam:PassedToService", "ecs-tasks.amazonaws.com"),)),
    ),
    "aws:ecs/service:Service": (
        Need(("ecs:CreateService",), ECS + ":service/cluster-0000000/app", CREATE),
        Need(("ecs:TagResource",), ECS + ":service/cluster-0000000/app", MINE_OR_NEW),
        Need(
            ("ecs:UpdateService", "ecs:DeleteService", "ecs:UntagResource"),
            ECS + ":service/cluster-0000000/app",
            OWNED,
        ),
        Need(
            (
                "ecs:DescribeServices",
                "ecs:ListTagsForResource",
                "ecs:DescribeServiceDeployments",
                "ecs:ListServiceDeployments",
                "ecs:DescribeServiceRevisions",
            ),
            ECS + ":service/cluster-0000000/app",
            ACCOUNT,
        ),
        # blueGreen and canary: ECS shifts traffic with the infrastructure role.
        Need(("iam:PassRole",), ROLES, IAM, (("iam:PassedToService", "ecs.amazonaws.com"),)),
        Need(("elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeRules")),
    ),
    # Application Auto Scaling names no resource ARN before the target exists: "*", by tag.
    "aws:appautoscaling/target:Target": (
        Need(
            (
                "application-autoscaling:RegisterScalableTarget",
                "application-autoscaling:TagResource",
            ),
            scope=MINE_OR_NEW,
        ),
        Need(
            (
                "application-autoscaling:DeregisterScalableTarget",
                "application-autoscaling:UntagResource",
            ),
            scope=OWNED,
        ),
        Need(
            (
                "application-autoscaling:DescribeScalableTargets",
                "application-autoscaling:ListTagsForResource",
            )
        ),
        Need(
            ("iam:CreateServiceLinkedRole",),
            "arn:{partition}:iam::{account}:role/aws-service-role/"
            "ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService",
            IAM,
            (("iam:AWSServiceName", "ecs.application-autoscaling.amazonaws.com"),),
        ),
    ),
    "aws:appautoscaling/policy:Policy": (
        Need(
            (
                "application-autoscaling:PutScalingPolicy",
                "application-autoscaling:DeleteScalingPolicy",
            ),
            scope=OWNED,
        ),
        Need(("application-autoscaling:DescribeScalingPolicies",)),
        Need(
            ("cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms"),
            "arn:{partition}:cloudwatch:{region}:{account}:alarm:TargetTracking-service",
            NAMED,
            grant=TARGET_TRACKING_ALARMS,
        ),
    ),
    "aws:lb/loadBalancer:LoadBalancer": (
        Need(("elasticloadbalancing:CreateLoadBalancer",), LOAD_BALANCER, CREATE),
        Need(("elasticloadbalancing:AddTags",), LOAD_BALANCER, MINE_OR_NEW),
        Need(
            (
                "elasticloadbalancing:DeleteLoadBalancer",
                "elasticloadbalancing:ModifyLoadBalancerAttributes",
                "elasticloadbalancing:SetSecurityGroups",
                "elasticloadbalancing:SetSubnets",
                "elasticloadbalancing:SetIpAddressType",
                "elasticloadbalancing:RemoveTags",
            ),
            LOAD_BALANCER,
            OWNED,
        ),
        Need(
            (
                "elasticloadbalancing:DescribeLoadBalancers",
                "elasticloadbalancing:DescribeLoadBalancerAttributes",
                "elasticloadbalancing:DescribeTags",
            )
        ),
        Need(
            ("iam:CreateServiceLinkedRole",),
            "arn:{partition}:iam::{account}:role/aws-service-role/"
            "elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing",
            IAM,
            (("iam:AWSServiceName", "elasticloadbalancing.amazonaws.com"),),
        ),
    ),
    "aws:lb/targetGroup:TargetGroup": (
        Need(
            ("elasticloadbalancing:CreateTargetGroup",),
            ELB + ":targetgroup/app-tg/0123456789abcdef",
            CREATE,
        ),
        Need(
            ("elasticloadbalancing:AddTags",),
            ELB + ":targetgroup/app-tg/0123456789abcdef",
            MINE_OR_NEW,
        ),
        Need(
            (
                "elasticloadbalancing:DeleteTargetGroup",
                "elasticloadbalancing:ModifyTargetGroup",
                "elasticloadbalancing:ModifyTargetGroupAttributes",
                "elasticloadbalancing:RemoveTags",
            ),
            ELB + ":targetgroup/app-tg/0123456789abcdef",
            OWNED,
        ),
        Need(
            (
                "elasticloadbalancing:DescribeTargetGroups",
                "elasticloadbalancing:DescribeTargetGroupAttributes",
                "elasticloadbalancing:DescribeTags",
            )
        ),
    ),
    "aws:lb/listener:Listener": (
        # A listener is created on the stack's own load balancer.
        Need(("elasticloadbalancing:CreateListener",), LOAD_BALANCER, OWNED),
        Need(("elasticloadbalancing:AddTags",), LISTENER, MINE_OR_NEW),
        Need(
            (
                "elasticloadbalancing:DeleteListener",
                "elasticloadbalancing:ModifyListener",
                "elasticloadbalancing:ModifyListenerAttributes",
                "elasticloadbalancing:AddListenerCertificates",
                "elasticloadbalancing:RemoveListenerCertificates",
                "elasticloadbalancing:RemoveTags",
            ),
            LISTENER,
            OWNED,
        ),
        Need(
            (
                "elasticloadbalancing:DescribeListeners",
                "elasticloadbalancing:DescribeListenerAttributes",
                "elasticloadbalancing:DescribeListenerCertificates",
            )
        ),
        Need(("acm:DescribeCertificate",), CERTIFICATE, ACCOUNT),
    ),
    "aws:lb/listenerRule:ListenerRule": (
        # A rule is created on the stack's own listener.
        Need(("elasticloadbalancing:CreateRule",), LISTENER, OWNED),
        Need(
            ("elasticloadbalancing:AddTags",),
            ELB + ":listener-rule/app/web-lb/0123456789abcdef/0123456789abcdef/0123456789abcdef",
            MINE_OR_NEW,
        ),
        Need(
            (
                "elasticloadbalancing:DeleteRule",
                "elasticloadbalancing:ModifyRule",
                "elasticloadbalancing:SetRulePriorities",
                "elasticloadbalancing:RemoveTags",
            ),
            ELB + ":listener-rule/app/web-lb/0123456789abcdef/0123456789abcdef/0123456789abcdef",
            OWNED,
        ),
        Need(("elasticloadbalancing:DescribeRules", "elasticloadbalancing:DescribeTags")),
    ),
    "aws:cloudwatch/logGroup:LogGroup": (
        Need(("logs:CreateLogGroup",), LOG_GROUP, CREATE),
        Need(("logs:TagResource", "logs:TagLogGroup"), LOG_GROUP, MINE_OR_NEW),
        Need(
            (
                "logs:DeleteLogGroup",
                "logs:PutRetentionPolicy",
                "logs:DeleteRetentionPolicy",
                "logs:UntagResource",
                "logs:UntagLogGroup",
                # The exec sessions' group is encrypted with the stack's key (kmsKeyId).
                "logs:AssociateKmsKey",
                "logs:DisassociateKmsKey",
            ),
            LOG_GROUP,
            OWNED,
        ),
        Need(("logs:ListTagsForResource", "logs:ListTagsLogGroup"), LOG_GROUP, ACCOUNT),
        Need(("logs:DescribeLogGroups",)),
    ),
    "aws:cloudwatch/metricAlarm:MetricAlarm": (
        # PutMetricAlarm creates and updates alike.
        Need(("cloudwatch:PutMetricAlarm", "cloudwatch:TagResource"), ALARM, MINE_OR_NEW),
        Need(("cloudwatch:DeleteAlarms", "cloudwatch:UntagResource"), ALARM, OWNED),
        Need(("cloudwatch:ListTagsForResource",), ALARM, ACCOUNT),
        Need(("cloudwatch:DescribeAlarms",)),
    ),
    "aws:sns/topic:Topic": (
        # CreateTopic returns the topic of that name if it exists.
        Need(("sns:CreateTopic", "sns:TagResource"), TOPIC, MINE_OR_NEW),
        Need(("sns:DeleteTopic", "sns:SetTopicAttributes", "sns:UntagResource"), TOPIC, OWNED),
        Need(("sns:GetTopicAttributes", "sns:ListTagsForResource"), TOPIC, ACCOUNT),
    ),
    "aws:sns/topicSubscription:TopicSubscription": (
        Need(("sns:Subscribe",), TOPIC, OWNED),
        Need(("sns:ListSubscriptionsByTopic",), TOPIC, ACCOUNT),
        # A subscription's own calls name no resource: "*" (docs/security.md, shared accounts).
        Need(("sns:Unsubscribe", "sns:GetSubscriptionAttributes", "sns:SetSubscriptionAttributes")),
    ),
    "aws:kms/key:Key": (
        Need(("kms:CreateKey",), "*", CREATE),
        # Tagging a key while creating it needs kms:TagResource in a policy not restricted to
        # particular keys (KMS Developer Guide, "Controlling access to tags"): "*", still never on
        # another stack's key. No grant here reaches a key by its tags (KEY_POLICY below).
        Need(("kms:TagResource",), KEY, MINE_OR_NEW, grant="*"),
        Need(("kms:ListAliases",)),
        Need(
            (
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
            ),
            KEY,
            KEY_POLICY,
            KEY_POLICY_CONTEXT,
        ),
    ),
    "aws:s3/bucket:Bucket": (
        Need(
            (
                "s3:CreateBucket",
                "s3:DeleteBucket",
                "s3:ListBucket",
                "s3:ListBucketVersions",
                "s3:GetBucketLocation",
                "s3:GetBucketAcl",
                "s3:GetBucketCORS",
                "s3:GetBucketWebsite",
                "s3:GetBucketVersioning",
                "s3:GetAccelerateConfiguration",
                "s3:GetBucketRequestPayment",
                "s3:GetBucketLogging",
                "s3:GetLifecycleConfiguration",
                "s3:GetReplicationConfiguration",
                "s3:GetEncryptionConfiguration",
                "s3:GetBucketObjectLockConfiguration",
                "s3:GetBucketTagging",
                "s3:PutBucketTagging",
                "s3:GetBucketPolicy",
            ),
            BUCKET,
            NAMED,
            grant=BUCKETS,
        ),
        # force_destroy (no deletionProtection) empties the bucket before deleting it.
        Need(
            ("s3:DeleteObject", "s3:DeleteObjectVersion"),
            BUCKET + "/AWSLogs/x",
            NAMED,
            grant=BUCKETS,
        ),
    ),
    "aws:s3/bucketPolicy:BucketPolicy": (
        Need(
            ("s3:PutBucketPolicy", "s3:GetBucketPolicy", "s3:DeleteBucketPolicy"),
            BUCKET,
            NAMED,
            grant=BUCKETS,
        ),
    ),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": (
        Need(
            ("s3:PutBucketPublicAccessBlock", "s3:GetBucketPublicAccessBlock"),
            BUCKET,
            NAMED,
            grant=BUCKETS,
        ),
    ),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": (
        Need(
            ("s3:PutBucketOwnershipControls", "s3:GetBucketOwnershipControls"),
            BUCKET,
            NAMED,
            grant=BUCKETS,
        ),
    ),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": (
        Need(
            ("s3:PutLifecycleConfiguration", "s3:GetLifecycleConfiguration"),
            BUCKET,
            NAMED,
            grant=BUCKETS,
        ),
    ),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        Need(
            ("s3:PutEncryptionConfiguration", "s3:GetEncryptionConfiguration"),
            BUCKET,
            NAMED,
            grant=BUCKETS,
        ),
    ),
    "aws:acm/certificate:Certificate": (
        Need(("acm:RequestCertificate",), "*", CREATE),
        Need(("acm:AddTagsToCertificate",), CERTIFICATE, MINE_OR_NEW),
        Need(("acm:DeleteCertificate", "acm:RemoveTagsFromCertificate"), CERTIFICATE, OWNED),
        Need(("acm:DescribeCertificate", "acm:ListTagsForCertificate"), CERTIFICATE, ACCOUNT),
    ),
    "aws:acm/certificateValidation:CertificateValidation": (
        Need(("acm:DescribeCertificate",), CERTIFICATE, ACCOUNT),
    ),
    "aws:route53/record:Record": (
        Need(
            ("route53:ChangeResourceRecordSets",),
            ZONE,
            DNS,
            (("route53:ChangeResourceRecordSetsNormalizedRecordNames", "{domain}"),),
        ),
        Need(("route53:ListResourceRecordSets", "route53:GetHostedZone"), ZONE, ACCOUNT),
        Need(
            ("route53:GetChange",),
            "arn:{partition}:route53:::change/C0123456789ABCDEFGHIJ",
            ACCOUNT,
        ),
    ),
    # EventBridge Scheduler's schedules carry no tags (pulumi-aws has none for them): any schedule
    # of the account (docs/security.md, shared accounts).
    "aws:scheduler/schedule:Schedule": (
        Need(
            (
                "scheduler:CreateSchedule",
                "scheduler:UpdateSchedule",
                "scheduler:DeleteSchedule",
                "scheduler:GetSchedule",
            ),
            "arn:{partition}:scheduler:{region}:{account}:schedule/default/{project}-{stack}-x",
            ACCOUNT,
        ),
        Need(("iam:PassRole",), ROLES, IAM, (("iam:PassedToService", "scheduler.amazonaws.com"),)),
    ),
    # Service Connect's namespace (a stack with an internal service): a Cloud Map HTTP namespace,
    # created with the stack's tag like every resource the program makes.
    "aws:servicediscovery/httpNamespace:HttpNamespace": (
        Need(("servicediscovery:CreateHttpNamespace", "servicediscovery:TagResource"), "*", CREATE),
        Need(
            ("servicediscovery:DeleteNamespace", "servicediscovery:UpdateHttpNamespace"),
            NAMESPACE,
            OWNED,
        ),
        Need(
            ("servicediscovery:GetNamespace", "servicediscovery:GetOperation"), NAMESPACE, ACCOUNT
        ),
        Need(("servicediscovery:ListTagsForResource", "servicediscovery:UntagResource")),
    ),
    # A stack's file systems (fileSystems), tagged for the stack like every resource the program
    # makes: created only so tagged, changed only when so tagged. EFS makes a mount target's
    # network interface in the caller's name, so the caller may make and read them
    # (Amazon EFS User Guide, "CreateMountTarget": ec2:CreateNetworkInterface,
    # ec2:DescribeSubnets, ec2:DescribeNetworkInterfaces), and its service-linked role.
    "aws:efs/fileSystem:FileSystem": (
        Need(("elasticfilesystem:CreateFileSystem",), "*", CREATE),
        Need(("elasticfilesystem:TagResource",), FILE_SYSTEM, MINE_OR_NEW),
        Need(
            (
                "elasticfilesystem:DeleteFileSystem",
                "elasticfilesystem:UpdateFileSystem",
                "elasticfilesystem:PutLifecycleConfiguration",
                "elasticfilesystem:UntagResource",
            ),
            FILE_SYSTEM,
            OWNED,
        ),
        Need(
            (
                "elasticfilesystem:DescribeFileSystems",
                "elasticfilesystem:DescribeLifecycleConfiguration",
                "elasticfilesystem:ListTagsForResource",
            ),
            FILE_SYSTEM,
            ACCOUNT,
        ),
        Need(
            ("iam:CreateServiceLinkedRole",),
            "arn:{partition}:iam::{account}:role/aws-service-role/elasticfilesystem.amazonaws.com/"
            "AWSServiceRoleForAmazonElasticFileSystem",
            IAM,
            (("iam:AWSServiceName", "elasticfilesystem.amazonaws.com"),),
        ),
    ),
    "aws:efs/mountTarget:MountTarget": (
        Need(
            (
                "elasticfilesystem:CreateMountTarget",
                "elasticfilesystem:DeleteMountTarget",
                "elasticfilesystem:ModifyMountTargetSecurityGroups",
            ),
            FILE_SYSTEM,
            OWNED,
        ),
        Need(
            (
                "elasticfilesystem:DescribeMountTargets",
                "elasticfilesystem:DescribeMountTargetSecurityGroups",
            ),
            FILE_SYSTEM,
            ACCOUNT,
        ),
        # EFS makes the mount target's interface with the caller's permissions: in the stack's
        # subnet with its security group; the interface itself is new and untagged (one type).
        _ec2_own("ec2:CreateNetworkInterface", on="subnet/s"),
        _ec2_own("ec2:CreateNetworkInterface", on="security-group/sg"),
        Need(("ec2:CreateNetworkInterface",), EC2_ARN + "network-interface/eni", ACCOUNT),
        Need(("ec2:DescribeSubnets", "ec2:DescribeNetworkInterfaces")),
    ),
    "aws:efs/accessPoint:AccessPoint": (
        # Made on the stack's file system, tagged for the stack.
        Need(("elasticfilesystem:CreateAccessPoint",), FILE_SYSTEM, OWNED),
        Need(("elasticfilesystem:TagResource",), ACCESS_POINT, MINE_OR_NEW),
        Need(
            ("elasticfilesystem:DeleteAccessPoint", "elasticfilesystem:UntagResource"),
            ACCESS_POINT,
            OWNED,
        ),
        Need(
            ("elasticfilesystem:DescribeAccessPoints", "elasticfilesystem:ListTagsForResource"),
            ACCESS_POINT,
            ACCOUNT,
        ),
    ),
    "aws:efs/backupPolicy:BackupPolicy": (
        Need(("elasticfilesystem:PutBackupPolicy",), FILE_SYSTEM, OWNED),
        Need(("elasticfilesystem:DescribeBackupPolicy",), FILE_SYSTEM, ACCOUNT),
    ),
    "aws:efs/fileSystemPolicy:FileSystemPolicy": (
        Need(
            ("elasticfilesystem:PutFileSystemPolicy", "elasticfilesystem:DeleteFileSystemPolicy"),
            FILE_SYSTEM,
            OWNED,
        ),
        Need(("elasticfilesystem:DescribeFileSystemPolicy",), FILE_SYSTEM, ACCOUNT),
    ),
    "aws:sqs/queue:Queue": (
        # CreateQueue returns the queue of that name if it exists with the same attributes.
        Need(("sqs:CreateQueue", "sqs:TagQueue"), QUEUE, MINE_OR_NEW),
        Need(("sqs:DeleteQueue", "sqs:SetQueueAttributes", "sqs:UntagQueue"), QUEUE, OWNED),
        Need(("sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags"), QUEUE, ACCOUNT),
    ),
    "aws:sqs/queuePolicy:QueuePolicy": (
        Need(("sqs:SetQueueAttributes",), QUEUE, OWNED),
        Need(("sqs:GetQueueAttributes",), QUEUE, ACCOUNT),
    ),
    # By name, not by tag: creating a secret with tags authorizes secretsmanager:TagResource on
    # the new, untagged secret, and a grant that allowed that would let a deploy role tag any
    # secret of the account as its own. Names are immutable.
    "aws:secretsmanager/secret:Secret": (
        Need(
            (
                "secretsmanager:CreateSecret",
                "secretsmanager:TagResource",
                "secretsmanager:DeleteSecret",
                "secretsmanager:DescribeSecret",
                "secretsmanager:GetResourcePolicy",
                "secretsmanager:UpdateSecret",
                "secretsmanager:UntagResource",
            ),
            SECRET,
            NAMED,
            grant=SECRETS,
        ),
    ),
    "aws:secretsmanager/secretVersion:SecretVersion": (
        Need(
            (
                "secretsmanager:PutSecretValue",
                "secretsmanager:GetSecretValue",
                "secretsmanager:DescribeSecret",
                "secretsmanager:ListSecretVersionIds",
                "secretsmanager:UpdateSecretVersionStage",
            ),
            SECRET,
            NAMED,
            grant=SECRETS,
        ),
    ),
    # The edge: a VPC origin and a distribution, created with the stack's tag like every resource
    # of the program. CloudFront creates the VPC origin's network interfaces and security group
    # itself, under its service-linked role.
    "aws:cloudfront/vpcOrigin:VpcOrigin": (
        Need(("cloudfront:CreateVpcOrigin",), "*", CREATE),
        Need(("cloudfront:TagResource",), VPC_ORIGIN, MINE_OR_NEW),
        Need(
            (
                "cloudfront:UpdateVpcOrigin",
                "cloudfront:DeleteVpcOrigin",
                "cloudfront:UntagResource",
            ),
            VPC_ORIGIN,
            OWNED,
        ),
        Need(("cloudfront:GetVpcOrigin", "cloudfront:ListTagsForResource"), VPC_ORIGIN, ACCOUNT),
        Need(("elasticloadbalancing:DescribeLoadBalancers",)),
        Need(
            ("iam:CreateServiceLinkedRole",),
            "arn:{partition}:iam::{account}:role/aws-service-role/"
            "vpcorigin.cloudfront.amazonaws.com/AWSServiceRoleForCloudFrontVPCOrigin",
            IAM,
            (("iam:AWSServiceName", "vpcorigin.cloudfront.amazonaws.com"),),
        ),
    ),
    "aws:cloudfront/distribution:Distribution": (
        Need(("cloudfront:CreateDistribution",), "*", CREATE),
        Need(("cloudfront:TagResource",), DISTRIBUTION, MINE_OR_NEW),
        Need(
            (
                "cloudfront:UpdateDistribution",
                "cloudfront:DeleteDistribution",
                "cloudfront:UntagResource",
            ),
            DISTRIBUTION,
            OWNED,
        ),
        Need(
            (
                "cloudfront:GetDistribution",
                "cloudfront:GetDistributionConfig",
                "cloudfront:ListTagsForResource",
            ),
            DISTRIBUTION,
            ACCOUNT,
        ),
        # Naming a CLOUDFRONT-scope web ACL (web_acl_id): CloudFront reads it as the caller.
        Need(("wafv2:GetWebACL",), WEB_ACLS[0], ACCOUNT),
    ),
    "aws:wafv2/webAcl:WebAcl": tuple(
        need
        for acl in WEB_ACLS
        for need in (
            Need(("wafv2:CreateWebACL",), acl, CREATE),
            Need(("wafv2:TagResource",), acl, MINE_OR_NEW),
            Need(("wafv2:UpdateWebACL", "wafv2:DeleteWebACL", "wafv2:UntagResource"), acl, OWNED),
            Need(("wafv2:GetWebACL", "wafv2:ListTagsForResource"), acl, ACCOUNT),
        )
    ),
    # WAF delivers to CloudWatch Logs through a log delivery and the log group's resource policy,
    # which it writes as the caller (AWS WAF Developer Guide, "Sending web ACL traffic logs to an
    # Amazon CloudWatch Logs log group": these permissions); they name no resource.
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": (
        *(
            need
            for acl in WEB_ACLS
            for need in (
                Need(
                    ("wafv2:PutLoggingConfiguration", "wafv2:DeleteLoggingConfiguration"),
                    acl,
                    OWNED,
                ),
                Need(("wafv2:GetLoggingConfiguration",), acl, ACCOUNT),
            )
        ),
        Need(
            (
                "logs:CreateLogDelivery",
                "logs:DeleteLogDelivery",
                "logs:PutResourcePolicy",
                "logs:DescribeResourcePolicies",
                "logs:DescribeLogGroups",
            )
        ),
    ),
    "aws:wafv2/webAclAssociation:WebAclAssociation": (
        Need(("wafv2:AssociateWebACL",), WEB_ACLS[1], OWNED),
        Need(("wafv2:GetWebACLForResource",), WEB_ACLS[1], ACCOUNT),
        Need(
            ("wafv2:AssociateWebACL", "wafv2:DisassociateWebACL", "wafv2:GetWebACLForResource"),
            LOAD_BALANCER,
            NAMED,
            grant=APP_LOAD_BALANCERS,
        ),
        Need(("elasticloadbalancing:SetWebAcl",)),
    ),
    "aws:iam/role:Role": (
        Need(("iam:CreateRole",), ROLES, IAM, BOUNDED),
        Need(
            (
                "iam:DeleteRole",
                "iam:UpdateRole",
                "iam:UpdateAssumeRolePolicy",
                "iam:PutRolePermissionsBoundary",
            ),
            ROLES,
            IAM,
            BOUNDED,
        ),
        Need(
            (
                "iam:GetRole",
                "iam:TagRole",
                "iam:UntagRole",
                "iam:ListRoleTags",
                "iam:ListRolePolicies",
                "iam:ListAttachedRolePolicies",
                "iam:ListInstanceProfilesForRole",
                "iam:UpdateRoleDescription",
            ),
            ROLES,
            IAM,
        ),
    ),
    "aws:iam/rolePolicy:RolePolicy": (
        Need(("iam:PutRolePolicy", "iam:DeleteRolePolicy"), ROLES, IAM, BOUNDED),
        Need(("iam:GetRolePolicy",), ROLES, IAM),
    ),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": (
        *(
            Need(("iam:AttachRolePolicy",), ROLES, IAM, (*BOUNDED, ("iam:PolicyARN", arn)))
            for arn in managed_policy_arns("{partition}")
        ),
        Need(("iam:DetachRolePolicy",), ROLES, IAM, BOUNDED),
        Need(("iam:ListAttachedRolePolicies",), ROLES, IAM),
    ),
}

# Data sources (invokes) the program calls, by token; those AWS answers without a permission
# (getRegion, getPartition: the provider's own configuration; getServiceAccount: a table in the
# provider) need no row, and sts:GetCallerIdentity needs no permission at all.
NO_PERMISSION_INVOKES: frozenset[str] = frozenset(
    {
        "aws:index/getRegion:getRegion",
        "aws:index/getPartition:getPartition",
        "aws:index/getCallerIdentity:getCallerIdentity",
        "aws:elb/getServiceAccount:getServiceAccount",
    }
)
INVOKES: dict[str, tuple[Need, ...]] = {
    "aws:index/getAvailabilityZones:getAvailabilityZones": (
        Need(("ec2:DescribeAvailabilityZones",)),
    ),
    "aws:ecr/getAuthorizationToken:getAuthorizationToken": (Need(("ecr:GetAuthorizationToken",)),),
    # A prebuilt image may live in another account's registry (that registry's policy decides).
    "aws:ecr/getImage:getImage": (
        Need(
            ("ecr:DescribeImages",),
            "arn:{partition}:ecr:{region}:210987654321:repository/app",
            NAMED,
            grant="arn:{partition}:ecr:*:*:repository/*",
        ),
    ),
    # CloudFront's VPC-origin security group, looked up once the origin exists (components.edge).
    "aws:ec2/getSecurityGroup:getSecurityGroup": (Need(("ec2:DescribeSecurityGroups",)),),
    "aws:route53/getZone:getZone": (
        Need(("route53:ListHostedZones", "route53:ListHostedZonesByName")),
        Need(("route53:GetHostedZone", "route53:ListTagsForResource"), ZONE, ACCOUNT),
    ),
}

# Reads granted by wildcard beyond the table: the provider reads more than the table can list
# (waiting for a network interface to detach, a load balancer to settle) and a read changes
# nothing. Only actions of the Read and List access levels may be here (a test checks).
READ_WILDCARDS: tuple[str, ...] = (
    "ec2:Describe*",
    "elasticloadbalancing:Describe*",
    "application-autoscaling:Describe*",
)
# What ACCOUNT means per service, where not its resources of this account in any region (EC2's:
# one resource type, grant_pattern).
ACCOUNT_PATTERNS: dict[str, str] = {}
# Statement ids: what each service's statement is about, and how the scope limits it.
SERVICE_WORDS: dict[str, str] = {
    "acm": "Certificates",
    "cloudfront": "TheEdge",
    "application-autoscaling": "Scaling",
    "cloudwatch": "Alarms",
    "ec2": "Network",
    "ecr": "Images",
    "ecs": "Containers",
    "elasticfilesystem": "FileSystems",
    "elasticloadbalancing": "LoadBalancers",
    "kms": "Keys",
    "logs": "Logs",
    "route53": "Dns",
    "s3": "Buckets",
    "scheduler": "Schedules",
    "secretsmanager": "Secrets",
    "servicediscovery": "ServiceDiscovery",
    "sns": "Topics",
    "sqs": "Queues",
    "wafv2": "WebAcls",
}
SCOPE_WORDS: dict[str, str] = {
    ANY: "CallsThatNameNoResource",
    ACCOUNT: "InThisAccount",
    CREATE: "CreatedOnlyTaggedForTheStack",
    MINE_OR_NEW: "NewOrTheStacksOwnNeverAnothers",
    OWNED: "OnlyTheStacksOwn",
    TAGGED_AT_CREATE: "TagsOnlyTheStacksInTheCreateCall",
    OWNED_KEEPS_TAG: "TagsOnlyTheStacksOwnKeepingItsTag",
    NAMED: "ByTheirNames",
}
# What removes a tag, per service: no deploy role may remove the stack tag (it would turn a
# resource of its stack into one it may claim, and another stack's into an untagged one).
UNTAG_ACTIONS: tuple[str, ...] = (
    "acm:RemoveTagsFromCertificate",
    "application-autoscaling:UntagResource",
    "cloudfront:UntagResource",
    "cloudwatch:UntagResource",
    "ec2:DeleteTags",
    "ecr:UntagResource",
    "ecs:UntagResource",
    "elasticfilesystem:DeleteTags",
    "elasticfilesystem:UntagResource",
    "elasticloadbalancing:RemoveTags",
    "kms:UntagResource",
    "logs:UntagLogGroup",
    "logs:UntagResource",
    "secretsmanager:UntagResource",
    "sns:UntagResource",
    "sqs:UntagQueue",
    "servicediscovery:UntagResource",
    "wafv2:UntagResource",
)


# --- the policy ----------------------------------------------------------------------------------


def _fill(template: str, **values: str) -> str:
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


def grant_pattern(need: Need) -> str:
    """The resource pattern (a template) a row is granted on: see the scopes above."""
    if need.grant:
        return need.grant
    if need.resource == "*":
        return "*"
    service = need.actions[0].split(":")[0]
    if service == "ec2":
        # EC2 authorizes each resource of a call on its own, with the condition keys of its type:
        # a grant per type, so that a create's tags never stand in for the tags of what it uses.
        kind = need.resource.rpartition(":")[2].partition("/")[0]
        return f"arn:{{partition}}:ec2:*:{{account}}:{kind}/*"
    if need.scope == ACCOUNT and service in ACCOUNT_PATTERNS:
        return ACCOUNT_PATTERNS[service]
    _, _, _, region, account, _ = need.resource.split(":", 5)
    return f"arn:{{partition}}:{service}:{'*' if region else ''}:{account and '{account}'}:*"


def _merged(*conditions: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for condition in conditions:
        for operator, keys in condition.items():
            out.setdefault(operator, {}).update(keys)
    return out


def scope_condition(
    scope: str, project: str, stack: str, create_actions: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The condition of a grant of `scope`; TAGGED_AT_CREATE's names the EC2 create calls
    (`create_actions`) whose tags it allows."""
    key = stack_tag(project)
    if scope == CREATE:
        return stack_tag_condition(f"aws:RequestTag/{key}", stack)
    if scope == TAGGED_AT_CREATE:
        return _merged(
            stack_tag_condition(f"aws:RequestTag/{key}", stack),
            {"StringEquals": {"ec2:CreateAction": sorted(create_actions)}},
        )
    if scope == OWNED_KEEPS_TAG:
        return _merged(
            stack_tag_condition(f"aws:ResourceTag/{key}", stack),
            stack_tag_condition(f"aws:RequestTag/{key}", stack, if_exists=True),
        )
    if scope == MINE_OR_NEW:
        # A key the request lacks satisfies ...IfExists: a new resource has no tags yet, and a
        # tagging call need not touch the stack tag; one that sets it must set its own stack.
        requested = stack_tag_condition(f"aws:RequestTag/{key}", stack, if_exists=True)
        ((operator, keys),) = requested.items()
        return {operator: {**keys, f"aws:ResourceTag/{key}": stack}}
    if scope == OWNED:
        return stack_tag_condition(f"aws:ResourceTag/{key}", stack)
    return {}


def service_statements(
    partition: str,
    account: str,
    project: str,
    stack: str,
    domain_names: tuple[str, ...] = (),
    leave_out: tuple[str, ...] = (),
) -> list[dict]:
    """The deploy role's grants for the app's resources, written from the table: one statement per
    service and scope (and pattern), in this account and any region (a stack may live in any).
    IAM is `iam_statements`' and the keys' management the keys' own policies'. `leave_out`: resource
    types the stacks never make, whose rows grant nothing."""
    grouped: dict[tuple[str, str, str], set[str]] = {}
    create_actions: dict[tuple[str, str, str], set[str]] = {}
    kept = [rows for token, rows in RESOURCE_TYPES.items() if token not in leave_out]
    for rows in (*kept, *INVOKES.values()):
        for need in rows:
            if need.scope not in GRANTED_HERE:
                continue
            service = need.actions[0].split(":")[0]
            pattern = _fill(
                grant_pattern(need),
                partition=partition,
                account=account,
                project=project,
                stack=stack,
            )
            scope = ANY if pattern == "*" and need.scope == ACCOUNT else need.scope
            grouped.setdefault((service, scope, pattern), set()).update(need.actions)
            create_actions.setdefault((service, scope, pattern), set()).update(
                v for k, v in need.context if k == "ec2:CreateAction"
            )
    statements = []
    numbered: dict[str, int] = {}
    for (service, scope, pattern), actions in sorted(grouped.items()):
        sid = f"{SERVICE_WORDS[service]}{SCOPE_WORDS[scope]}"
        numbered[sid] = numbered.get(sid, 0) + 1
        statement: dict[str, Any] = {
            "Sid": sid if numbered[sid] == 1 else f"{sid}{numbered[sid]}",
            "Effect": "Allow",
            "Action": sorted(actions),
            "Resource": pattern,
        }
        created = tuple(create_actions[(service, scope, pattern)])
        if condition := scope_condition(scope, project, stack, created):
            statement["Condition"] = condition
        statements.append(statement)
    statements.append(
        {
            "Sid": "ReadsTheProviderMakesBeyondTheTable",
            "Effect": "Allow",
            "Action": list(READ_WILDCARDS),
            "Resource": "*",
        }
    )
    if dns := dns_statement(partition, domain_names):
        statements.append(dns)
    return statements


def dns_names(domain: str) -> list[str]:
    """The record names the program writes for a domain: its alias records, and the ACM
    validation record beneath it (`_<token>.<domain>`), as Route 53 normalizes them (lower case,
    no trailing dot: Route 53 Developer Guide, "Using IAM policy conditions for fine-grained
    access control")."""
    name = domain.lower().rstrip(".")
    return [name, f"_*.{name}"]


def dns_statement(partition: str, domain_names: tuple[str, ...]) -> dict[str, Any] | None:
    """Record changes only to the names the bootstrap's domainNames allow (none: no grant)."""
    if not domain_names:
        return None
    names = [n for domain in domain_names for n in dns_names(domain)]
    key = "route53:ChangeResourceRecordSetsNormalizedRecordNames"
    return {
        "Sid": "DnsOnlyTheStacksRecordNames",
        "Effect": "Allow",
        "Action": "route53:ChangeResourceRecordSets",
        "Resource": f"arn:{partition}:route53:::hostedzone/*",
        # ForAllValues holds for a request without the key: Null makes sure it has one.
        "Condition": {"ForAllValues:StringLike": {key: names}, "Null": {key: "false"}},
    }


def guardrail_statements(project: str) -> list[dict]:
    """Denies that hold whatever else the role is given (deployPolicies included)."""
    return [
        {
            # Removing the stack tag would let a role claim the resource (or strip another
            # stack's resource of what keeps it out of reach).
            "Sid": "NeverRemoveTheStackTag",
            "Effect": "Deny",
            "Action": list(UNTAG_ACTIONS),
            "Resource": "*",
            "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": [stack_tag(project)]}},
        }
    ]


def iam_statements(
    partition: str, account: str, project: str, stack: str, boundary_arn: str
) -> list[dict]:
    """The deploy role's IAM: the stack's own roles, only with its boundary, only the managed
    policies the app uses, passed only to the services that use them; and the denies that keep
    it so whatever else the role is given."""
    roles = app_roles_arn(partition, account, project, stack)
    bounded = {"StringEquals": {"iam:PermissionsBoundary": boundary_arn}}
    policies = managed_policy_arns(partition)
    return [
        {
            "Sid": "CreateAndChangeTheStacksRolesOnlyWithItsBoundary",
            "Effect": "Allow",
            "Action": [
                "iam:CreateRole",
                "iam:PutRolePermissionsBoundary",
                "iam:PutRolePolicy",
                "iam:DeleteRolePolicy",
                "iam:DetachRolePolicy",
                "iam:UpdateAssumeRolePolicy",
                "iam:UpdateRole",
                "iam:DeleteRole",
            ],
            "Resource": roles,
            "Condition": bounded,
        },
        {
            "Sid": "AttachOnlyTheManagedPoliciesTheAppUses",
            "Effect": "Allow",
            "Action": "iam:AttachRolePolicy",
            "Resource": roles,
            "Condition": {**bounded, "ArnEquals": {"iam:PolicyARN": policies}},
        },
        {
            "Sid": "ReadAndTagTheStacksRoles",
            "Effect": "Allow",
            "Action": [
                "iam:GetRole",
                "iam:GetRolePolicy",
                "iam:ListRolePolicies",
                "iam:ListAttachedRolePolicies",
                "iam:ListInstanceProfilesForRole",
                "iam:ListRoleTags",
                "iam:TagRole",
                "iam:UntagRole",
                "iam:UpdateRoleDescription",
            ],
            "Resource": roles,
        },
        {
            "Sid": "PassTheStacksRolesToTheirServicesOnly",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": roles,
            "Condition": {"StringEquals": {"iam:PassedToService": list(PASSABLE_TO_SERVICES)}},
        },
        {
            "Sid": "LetAwsCreateItsServiceLinkedRoles",
            "Effect": "Allow",
            "Action": "iam:CreateServiceLinkedRole",
            "Resource": f"arn:{partition}:iam::{account}:role/aws-service-role/*",
            "Condition": {"StringEquals": {"iam:AWSServiceName": list(SERVICE_LINKED_ROLES)}},
        },
        {
            "Sid": "NeverRemoveAPermissionsBoundary",
            "Effect": "Deny",
            "Action": ["iam:DeleteRolePermissionsBoundary", "iam:DeleteUserPermissionsBoundary"],
            "Resource": "*",
        },
        {
            "Sid": "NeverCreateOrBoundARoleOtherwise",
            "Effect": "Deny",
            "Action": [
                "iam:CreateRole",
                "iam:PutRolePermissionsBoundary",
                "iam:PutUserPermissionsBoundary",
            ],
            "Resource": "*",
            "Condition": {"StringNotEquals": {"iam:PermissionsBoundary": boundary_arn}},
        },
        {
            "Sid": "NeverWriteManagedPolicies",
            "Effect": "Deny",
            "Action": [
                "iam:CreatePolicy",
                "iam:CreatePolicyVersion",
                "iam:SetDefaultPolicyVersion",
                "iam:DeletePolicy",
                "iam:DeletePolicyVersion",
                "iam:TagPolicy",
                "iam:UntagPolicy",
            ],
            "Resource": "*",
        },
        {
            "Sid": "NeverAttachOtherManagedPolicies",
            "Effect": "Deny",
            "Action": ["iam:AttachRolePolicy", "iam:AttachUserPolicy", "iam:AttachGroupPolicy"],
            "Resource": "*",
            "Condition": {"ArnNotEquals": {"iam:PolicyARN": policies}},
        },
        {
            "Sid": "NeverWriteRolesOutsideTheStack",
            "Effect": "Deny",
            "Action": [
                "iam:CreateRole",
                "iam:DeleteRole",
                "iam:UpdateRole",
                "iam:UpdateAssumeRolePolicy",
                "iam:PutRolePolicy",
                "iam:DeleteRolePolicy",
                "iam:AttachRolePolicy",
                "iam:DetachRolePolicy",
                "iam:PutRolePermissionsBoundary",
                "iam:TagRole",
                "iam:UntagRole",
                "iam:PassRole",
            ],
            "NotResource": roles,
        },
        {
            # The tag that lets a role manage a stack's alarm-topic key is the bootstrap's to give.
            "Sid": "NeverGiveARoleTheDeployTag",
            "Effect": "Deny",
            "Action": ["iam:TagRole", "iam:UntagRole", "iam:TagUser", "iam:CreateRole"],
            "Resource": "*",
            "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": [deploys_tag(project)]}},
        },
        {
            "Sid": "NeverUsersGroupsOrCredentials",
            "Effect": "Deny",
            "Action": [
                "iam:*User*",
                "iam:*Group*",
                "iam:*AccessKey*",
                "iam:*LoginProfile*",
                "iam:*OpenIDConnectProvider*",
                "iam:*SAMLProvider*",
                "iam:*InstanceProfile",
            ],
            "Resource": "*",
        },
        {
            # A role the deploy role could make trust it would still carry the boundary, but it
            # has no business assuming any role.
            "Sid": "NeverBecomeAnotherRole",
            "Effect": "Deny",
            "Action": "sts:AssumeRole",
            "Resource": "*",
        },
    ]


# --- size ----------------------------------------------------------------------------------------


def policy_chars(document: Mapping[str, Any]) -> int:
    """A policy's size as IAM counts it: characters of its JSON, whitespace not counted."""
    return len(re.sub(r"\s", "", json.dumps(document)))


def document(statements: list[dict]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": statements}


def pack(statements: list[dict], limit: int = MANAGED_POLICY_MAX_CHARS) -> list[dict[str, Any]]:
    """The statements as few policy documents as fit in `limit` each, in order. A single
    statement over the limit is a ValueError: split it in the source."""
    documents: list[list[dict]] = [[]]
    for statement in statements:
        if policy_chars(document([statement])) > limit:
            raise ValueError(f"statement {statement.get('Sid')} alone exceeds {limit} characters")
        if policy_chars(document([*documents[-1], statement])) > limit:
            documents.append([])
        documents[-1].append(statement)
    return [document(d) for d in documents if d]
