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
    "elasticloadbalancing": SAR + "list_awselasticloadbalancing.html",
    "iam": SAR + "list_awsidentityandaccessmanagementiam.html",
    "kms": SAR + "list_awskeymanagementservice.html",
    "logs": SAR + "list_amazoncloudwatchlogs.html",
    "route53": SAR + "list_amazonroute53.html",
    "s3": SAR + "list_amazons3.html",
    "scheduler": SAR + "list_amazoneventbridgescheduler.html",
    "secretsmanager": SAR + "list_awssecretsmanager.html",
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
    # AWSServiceRoleForCloudFrontVPCOrigin: CloudFront places a VPC origin's network interfaces
    # and security group with it (edge: cloudfront).
    "vpcorigin.cloudfront.amazonaws.com",
)
# The tag every resource of a stack carries (__main__.py's provider default_tags).
STACK_TAG = "stack"
# The names the program's S3 buckets start with: the access-log bucket, auto-named after its
# logical name `alb-logs-bucket` (components/access_logs.py under __main__.py's "alb-logs"). A test
# holds every bucket the program creates to this list.
APP_BUCKET_PREFIXES: tuple[str, ...] = ("alb-logs-bucket-",)


def stack_tag_condition(key: str, stack: str) -> dict[str, dict[str, str]]:
    """A condition that `key` (aws:RequestTag/stack, aws:ResourceTag/stack) names `stack`: exactly,
    or, for the review stacks' wildcard (stack_names.REVIEW_STACKS), any stack it matches."""
    return {("StringLike" if "*" in stack else "StringEquals"): {key: stack}}


def app_role_path(project: str, stack: str) -> str:
    return APP_ROLE_PATH.format(project=project, stack=stack)


def app_roles_arn(partition: str, account: str, project: str, stack: str) -> str:
    return f"arn:{partition}:iam::{account}:role{app_role_path(project, stack)}*"


def managed_policy_arns(partition: str) -> list[str]:
    return [f"arn:{partition}:iam::aws:policy/{p}" for p in APP_MANAGED_POLICIES]


# --- the table -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Need:
    """Requests a resource type's create, read, update and delete make: `actions` on `resource`
    (an ARN template: {partition} {region} {account} {project} {stack}), carrying `context`
    (condition keys; templates too, {boundary} being the stack's permissions boundary)."""

    actions: tuple[str, ...]
    resource: str = "*"
    context: tuple[tuple[str, str], ...] = ()


def _ec2(*actions: str, on: str) -> Need:
    return Need(actions, f"arn:{{partition}}:ec2:{{region}}:{{account}}:{on}")


EC2_READ = Need(("ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeRouteTables"))
TAGS_EC2 = ("ec2:CreateTags", "ec2:DeleteTags")
ROLES = "arn:{partition}:iam::{account}:role/{project}/{stack}/app-task-0000000"
BOUNDED = (("iam:PermissionsBoundary", "{boundary}"),)
TAGGED = ((f"aws:ResourceTag/{STACK_TAG}", "{stack}"),)
LOGS = "arn:{partition}:logs:{region}:{account}:log-group:/ecs/{project}/{stack}/app"
ECS = "arn:{partition}:ecs:{region}:{account}"
ELB = "arn:{partition}:elasticloadbalancing:{region}:{account}"
CERTIFICATE = (
    "arn:{partition}:acm:{region}:{account}:certificate/12345678-1234-1234-1234-123456789012"
)
SECRET = "arn:{partition}:secretsmanager:{region}:{account}:secret:app-DB-0000000-AbCdEf"
# CloudFront is global: its ARNs name no region.
VPC_ORIGIN = "arn:{partition}:cloudfront::{account}:vpcorigin/vo_0123456789abcdef012345"
DISTRIBUTION = "arn:{partition}:cloudfront::{account}:distribution/E0123456789ABC"
# A CLOUDFRONT-scope web ACL lives in us-east-1 (global/...); a REGIONAL one in the stack's region.
WEB_ACLS = (
    "arn:{partition}:wafv2:us-east-1:{account}:global/webacl/fargate-app-{stack}-waf/"
    "12345678-1234-1234-1234-123456789012",
    "arn:{partition}:wafv2:{region}:{account}:regional/webacl/fargate-app-{stack}-waf/"
    "12345678-1234-1234-1234-123456789012",
)
LOAD_BALANCER = ELB + ":loadbalancer/app/web-alb-0000000/0123456789abcdef"
WAF_ACL_ACTIONS = (
    "wafv2:CreateWebACL",
    "wafv2:GetWebACL",
    "wafv2:UpdateWebACL",
    "wafv2:DeleteWebACL",
    "wafv2:ListTagsForResource",
    "wafv2:TagResource",
    "wafv2:UntagResource",
)

RESOURCE_TYPES: dict[str, tuple[Need, ...]] = {
    "aws:ec2/vpc:Vpc": (
        _ec2("ec2:CreateVpc", "ec2:DeleteVpc", "ec2:ModifyVpcAttribute", *TAGS_EC2, on="vpc/v"),
        Need(("ec2:DescribeVpcAttribute", "ec2:DescribeNetworkAcls", "ec2:DescribeVpcs")),
    ),
    "aws:ec2/subnet:Subnet": (
        _ec2("ec2:CreateSubnet", "ec2:DeleteSubnet", "ec2:ModifySubnetAttribute", on="subnet/s"),
        EC2_READ,
    ),
    "aws:ec2/internetGateway:InternetGateway": (
        _ec2(
            "ec2:CreateInternetGateway",
            "ec2:DeleteInternetGateway",
            "ec2:AttachInternetGateway",
            "ec2:DetachInternetGateway",
            on="internet-gateway/igw",
        ),
        Need(("ec2:DescribeInternetGateways",)),
    ),
    "aws:ec2/eip:Eip": (
        _ec2(
            "ec2:AllocateAddress",
            "ec2:ReleaseAddress",
            "ec2:DisassociateAddress",
            on="elastic-ip/e",
        ),
        Need(("ec2:DescribeAddresses", "ec2:DescribeAddressesAttribute")),
    ),
    "aws:ec2/natGateway:NatGateway": (
        _ec2("ec2:CreateNatGateway", "ec2:DeleteNatGateway", on="natgateway/n"),
        Need(("ec2:DescribeNatGateways",)),
    ),
    "aws:ec2/routeTable:RouteTable": (
        _ec2("ec2:CreateRouteTable", "ec2:DeleteRouteTable", on="route-table/r"),
        EC2_READ,
    ),
    "aws:ec2/route:Route": (
        _ec2("ec2:CreateRoute", "ec2:DeleteRoute", "ec2:ReplaceRoute", on="route-table/r"),
        EC2_READ,
    ),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": (
        _ec2(
            "ec2:AssociateRouteTable",
            "ec2:DisassociateRouteTable",
            "ec2:ReplaceRouteTableAssociation",
            on="route-table/r",
        ),
        EC2_READ,
    ),
    "aws:ec2/securityGroup:SecurityGroup": (
        _ec2(
            "ec2:CreateSecurityGroup",
            "ec2:DeleteSecurityGroup",
            "ec2:RevokeSecurityGroupEgress",
            "ec2:RevokeSecurityGroupIngress",
            *TAGS_EC2,
            on="security-group/sg",
        ),
        Need(("ec2:DescribeSecurityGroups", "ec2:DescribeNetworkInterfaces")),
    ),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": (
        _ec2(
            "ec2:RevokeSecurityGroupIngress",
            "ec2:RevokeSecurityGroupEgress",
            *TAGS_EC2,
            on="security-group/sg",
        ),
        Need(("ec2:DescribeSecurityGroups",)),
    ),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": (
        _ec2(
            "ec2:AuthorizeSecurityGroupIngress",
            "ec2:RevokeSecurityGroupIngress",
            "ec2:ModifySecurityGroupRules",
            "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
            on="security-group-rule/sgr",
        ),
        Need(("ec2:DescribeSecurityGroupRules",)),
    ),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": (
        _ec2(
            "ec2:AuthorizeSecurityGroupEgress",
            "ec2:RevokeSecurityGroupEgress",
            "ec2:ModifySecurityGroupRules",
            "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
            on="security-group-rule/sgr",
        ),
        Need(("ec2:DescribeSecurityGroupRules",)),
    ),
    "aws:ec2/flowLog:FlowLog": (
        _ec2("ec2:CreateFlowLogs", "ec2:DeleteFlowLogs", *TAGS_EC2, on="vpc-flow-log/fl"),
        Need(("ec2:DescribeFlowLogs",)),
        Need(("iam:PassRole",), ROLES, (("iam:PassedToService", "vpc-flow-logs.amazonaws.com"),)),
    ),
    "aws:ec2/vpcEndpoint:VpcEndpoint": (
        _ec2(
            "ec2:CreateVpcEndpoint",
            "ec2:DeleteVpcEndpoints",
            "ec2:ModifyVpcEndpoint",
            *TAGS_EC2,
            on="vpc-endpoint/vpce",
        ),
        Need(("ec2:DescribeVpcEndpoints", "ec2:DescribePrefixLists")),
    ),
    "aws:ecr/repository:Repository": (
        Need(
            (
                "ecr:CreateRepository",
                "ecr:DeleteRepository",
                "ecr:DescribeRepositories",
                "ecr:PutImageScanningConfiguration",
                "ecr:PutImageTagMutability",
                "ecr:TagResource",
                "ecr:UntagResource",
                "ecr:ListTagsForResource",
                "ecr:BatchDeleteImage",
                "ecr:ListImages",
            ),
            "arn:{partition}:ecr:{region}:{account}:repository/app-repo-0000000",
        ),
    ),
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": (
        Need(
            ("ecr:PutLifecyclePolicy", "ecr:GetLifecyclePolicy", "ecr:DeleteLifecyclePolicy"),
            "arn:{partition}:ecr:{region}:{account}:repository/app-repo-0000000",
        ),
    ),
    # pulumi-docker builds on the runner and pushes with the token from getAuthorizationToken.
    "docker:index/image:Image": (
        Need(
            (
                "ecr:BatchCheckLayerAvailability",
                "ecr:InitiateLayerUpload",
                "ecr:UploadLayerPart",
                "ecr:CompleteLayerUpload",
                "ecr:PutImage",
                "ecr:BatchGetImage",
            ),
            "arn:{partition}:ecr:{region}:{account}:repository/app-repo-0000000",
        ),
    ),
    "aws:ecs/cluster:Cluster": (
        Need(
            (
                "ecs:CreateCluster",
                "ecs:DeleteCluster",
                "ecs:UpdateCluster",
                "ecs:UpdateClusterSettings",
                "ecs:DescribeClusters",
                "ecs:TagResource",
                "ecs:UntagResource",
                "ecs:ListTagsForResource",
            ),
            ECS + ":cluster/cluster-0000000",
        ),
        Need(
            ("iam:CreateServiceLinkedRole",),
            "arn:{partition}:iam::{account}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS",
            (("iam:AWSServiceName", "ecs.amazonaws.com"),),
        ),
    ),
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": (
        Need(("ecs:PutClusterCapacityProviders", "ecs:DescribeClusters"), ECS + ":cluster/c"),
    ),
    "aws:ecs/taskDefinition:TaskDefinition": (
        Need(("ecs:RegisterTaskDefinition", "ecs:DescribeTaskDefinition")),
        Need(
            ("ecs:DeregisterTaskDefinition", "ecs:DeleteTaskDefinitions", "ecs:TagResource"),
            ECS + ":task-definition/{project}-{stack}-app:1",
        ),
        Need(("iam:PassRole",), ROLES, (("iam:PassedToService", "ecs-tasks.amazonaws.com"),)),
    ),
    "aws:ecs/service:Service": (
        Need(
            (
                "ecs:CreateService",
                "ecs:UpdateService",
                "ecs:DeleteService",
                "ecs:DescribeServices",
                "ecs:TagResource",
                "ecs:UntagResource",
                "ecs:ListTagsForResource",
                "ecs:DescribeServiceDeployments",
                "ecs:ListServiceDeployments",
                "ecs:DescribeServiceRevisions",
            ),
            ECS + ":service/cluster-0000000/app",
        ),
        # blueGreen and canary: ECS shifts traffic with the infrastructure role.
        Need(("iam:PassRole",), ROLES, (("iam:PassedToService", "ecs.amazonaws.com"),)),
        Need(("elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeRules")),
    ),
    "aws:appautoscaling/target:Target": (
        Need(
            (
                "application-autoscaling:RegisterScalableTarget",
                "application-autoscaling:DeregisterScalableTarget",
                "application-autoscaling:DescribeScalableTargets",
                "application-autoscaling:TagResource",
                "application-autoscaling:UntagResource",
                "application-autoscaling:ListTagsForResource",
            )
        ),
        Need(
            ("iam:CreateServiceLinkedRole",),
            "arn:{partition}:iam::{account}:role/aws-service-role/"
            "ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService",
            (("iam:AWSServiceName", "ecs.application-autoscaling.amazonaws.com"),),
        ),
    ),
    "aws:appautoscaling/policy:Policy": (
        Need(
            (
                "application-autoscaling:PutScalingPolicy",
                "application-autoscaling:DeleteScalingPolicy",
                "application-autoscaling:DescribeScalingPolicies",
            )
        ),
        Need(
            ("cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms"),
            "arn:{partition}:cloudwatch:{region}:{account}:alarm:TargetTracking-service",
        ),
    ),
    "aws:lb/loadBalancer:LoadBalancer": (
        Need(
            (
                "elasticloadbalancing:CreateLoadBalancer",
                "elasticloadbalancing:DeleteLoadBalancer",
                "elasticloadbalancing:ModifyLoadBalancerAttributes",
                "elasticloadbalancing:SetSecurityGroups",
                "elasticloadbalancing:SetSubnets",
                "elasticloadbalancing:SetIpAddressType",
                "elasticloadbalancing:AddTags",
                "elasticloadbalancing:RemoveTags",
            ),
            ELB + ":loadbalancer/app/web-lb/0123456789abcdef",
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
            (("iam:AWSServiceName", "elasticloadbalancing.amazonaws.com"),),
        ),
    ),
    "aws:lb/targetGroup:TargetGroup": (
        Need(
            (
                "elasticloadbalancing:CreateTargetGroup",
                "elasticloadbalancing:DeleteTargetGroup",
                "elasticloadbalancing:ModifyTargetGroup",
                "elasticloadbalancing:ModifyTargetGroupAttributes",
                "elasticloadbalancing:AddTags",
            ),
            ELB + ":targetgroup/app-tg/0123456789abcdef",
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
        Need(
            (
                "elasticloadbalancing:CreateListener",
                "elasticloadbalancing:DeleteListener",
                "elasticloadbalancing:ModifyListener",
                "elasticloadbalancing:ModifyListenerAttributes",
                "elasticloadbalancing:AddListenerCertificates",
                "elasticloadbalancing:RemoveListenerCertificates",
                "elasticloadbalancing:AddTags",
            ),
            ELB + ":listener/app/web-lb/0123456789abcdef/0123456789abcdef",
        ),
        Need(
            (
                "elasticloadbalancing:DescribeListeners",
                "elasticloadbalancing:DescribeListenerAttributes",
                "elasticloadbalancing:DescribeListenerCertificates",
            )
        ),
        Need(("acm:DescribeCertificate",), CERTIFICATE),
    ),
    "aws:lb/listenerRule:ListenerRule": (
        Need(
            (
                "elasticloadbalancing:CreateRule",
                "elasticloadbalancing:DeleteRule",
                "elasticloadbalancing:ModifyRule",
                "elasticloadbalancing:SetRulePriorities",
                "elasticloadbalancing:AddTags",
            ),
            ELB + ":listener-rule/app/web-lb/0123456789abcdef/0123456789abcdef/0123456789abcdef",
        ),
        Need(("elasticloadbalancing:DescribeRules", "elasticloadbalancing:DescribeTags")),
    ),
    "aws:cloudwatch/logGroup:LogGroup": (
        Need(
            (
                "logs:CreateLogGroup",
                "logs:DeleteLogGroup",
                "logs:PutRetentionPolicy",
                "logs:DeleteRetentionPolicy",
                "logs:TagResource",
                "logs:UntagResource",
                "logs:ListTagsForResource",
                "logs:TagLogGroup",
                "logs:UntagLogGroup",
                "logs:ListTagsLogGroup",
                # The exec sessions' group is encrypted with the stack's key (kmsKeyId).
                "logs:AssociateKmsKey",
                "logs:DisassociateKmsKey",
            ),
            LOGS,
        ),
        Need(("logs:DescribeLogGroups",)),
    ),
    "aws:cloudwatch/metricAlarm:MetricAlarm": (
        Need(
            (
                "cloudwatch:PutMetricAlarm",
                "cloudwatch:DeleteAlarms",
                "cloudwatch:TagResource",
                "cloudwatch:UntagResource",
                "cloudwatch:ListTagsForResource",
            ),
            "arn:{partition}:cloudwatch:{region}:{account}:alarm:app-5xx-0000000",
        ),
        Need(("cloudwatch:DescribeAlarms",)),
    ),
    "aws:sns/topic:Topic": (
        Need(
            (
                "sns:CreateTopic",
                "sns:DeleteTopic",
                "sns:GetTopicAttributes",
                "sns:SetTopicAttributes",
                "sns:TagResource",
                "sns:UntagResource",
                "sns:ListTagsForResource",
            ),
            "arn:{partition}:sns:{region}:{account}:alarms-topic-0000000",
        ),
    ),
    "aws:sns/topicSubscription:TopicSubscription": (
        Need(
            (
                "sns:Subscribe",
                "sns:Unsubscribe",
                "sns:GetSubscriptionAttributes",
                "sns:SetSubscriptionAttributes",
                "sns:ListSubscriptionsByTopic",
            ),
            "arn:{partition}:sns:{region}:{account}:alarms-topic-0000000",
        ),
    ),
    "aws:kms/key:Key": (
        Need(("kms:CreateKey",), "*", ((f"aws:RequestTag/{STACK_TAG}", "{stack}"),)),
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
            "arn:{partition}:kms:{region}:{account}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            TAGGED,
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
            "arn:{partition}:s3:::alb-logs-bucket-0000000",
        ),
        # force_destroy (no deletionProtection) empties the bucket before deleting it.
        Need(
            ("s3:DeleteObject", "s3:DeleteObjectVersion"),
            "arn:{partition}:s3:::alb-logs-bucket-0000000/AWSLogs/x",
        ),
    ),
    "aws:s3/bucketPolicy:BucketPolicy": (
        Need(
            ("s3:PutBucketPolicy", "s3:GetBucketPolicy", "s3:DeleteBucketPolicy"),
            "arn:{partition}:s3:::alb-logs-bucket-0000000",
        ),
    ),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": (
        Need(
            ("s3:PutBucketPublicAccessBlock", "s3:GetBucketPublicAccessBlock"),
            "arn:{partition}:s3:::alb-logs-bucket-0000000",
        ),
    ),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": (
        Need(
            ("s3:PutBucketOwnershipControls", "s3:GetBucketOwnershipControls"),
            "arn:{partition}:s3:::alb-logs-bucket-0000000",
        ),
    ),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": (
        Need(
            ("s3:PutLifecycleConfiguration", "s3:GetLifecycleConfiguration"),
            "arn:{partition}:s3:::alb-logs-bucket-0000000",
        ),
    ),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        Need(
            ("s3:PutEncryptionConfiguration", "s3:GetEncryptionConfiguration"),
            "arn:{partition}:s3:::alb-logs-bucket-0000000",
        ),
    ),
    "aws:acm/certificate:Certificate": (
        Need(("acm:RequestCertificate",)),
        Need(
            (
                "acm:DescribeCertificate",
                "acm:DeleteCertificate",
                "acm:AddTagsToCertificate",
                "acm:RemoveTagsFromCertificate",
                "acm:ListTagsForCertificate",
            ),
            CERTIFICATE,
        ),
    ),
    "aws:acm/certificateValidation:CertificateValidation": (
        Need(
            ("acm:DescribeCertificate",),
            CERTIFICATE,
        ),
    ),
    "aws:route53/record:Record": (
        Need(
            ("route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets"),
            "arn:{partition}:route53:::hostedzone/Z0123456789ABCDEFGHIJ",
        ),
        Need(("route53:GetChange",), "arn:{partition}:route53:::change/C0123456789ABCDEFGHIJ"),
        Need(("route53:GetHostedZone",), "arn:{partition}:route53:::hostedzone/Z0123456789A"),
    ),
    "aws:scheduler/schedule:Schedule": (
        Need(
            (
                "scheduler:CreateSchedule",
                "scheduler:UpdateSchedule",
                "scheduler:DeleteSchedule",
                "scheduler:GetSchedule",
            ),
            "arn:{partition}:scheduler:{region}:{account}:schedule/default/jobs-nightly",
        ),
        Need(("iam:PassRole",), ROLES, (("iam:PassedToService", "scheduler.amazonaws.com"),)),
    ),
    "aws:sqs/queue:Queue": (
        Need(
            (
                "sqs:CreateQueue",
                "sqs:DeleteQueue",
                "sqs:GetQueueAttributes",
                "sqs:SetQueueAttributes",
                "sqs:GetQueueUrl",
                "sqs:TagQueue",
                "sqs:UntagQueue",
                "sqs:ListQueueTags",
            ),
            "arn:{partition}:sqs:{region}:{account}:jobs-nightly-dlq-0000000",
        ),
    ),
    "aws:sqs/queuePolicy:QueuePolicy": (
        Need(
            ("sqs:SetQueueAttributes", "sqs:GetQueueAttributes"),
            "arn:{partition}:sqs:{region}:{account}:jobs-nightly-dlq-0000000",
        ),
    ),
    # Secrets Manager by the stack's tag: a deploy role never reads another stack's secret.
    "aws:secretsmanager/secret:Secret": (
        Need(
            ("secretsmanager:CreateSecret",), SECRET, ((f"aws:RequestTag/{STACK_TAG}", "{stack}"),)
        ),
        Need(
            (
                "secretsmanager:DeleteSecret",
                "secretsmanager:DescribeSecret",
                "secretsmanager:GetResourcePolicy",
                "secretsmanager:UpdateSecret",
                "secretsmanager:TagResource",
                "secretsmanager:UntagResource",
            ),
            SECRET,
            TAGGED,
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
            TAGGED,
        ),
    ),
    # The edge (components/edge.py): CloudFront creates the VPC origin's network interfaces and
    # security group itself, under its service-linked role.
    "aws:cloudfront/vpcOrigin:VpcOrigin": (
        Need(("cloudfront:CreateVpcOrigin",)),
        Need(
            (
                "cloudfront:GetVpcOrigin",
                "cloudfront:UpdateVpcOrigin",
                "cloudfront:DeleteVpcOrigin",
                "cloudfront:TagResource",
                "cloudfront:UntagResource",
                "cloudfront:ListTagsForResource",
            ),
            VPC_ORIGIN,
        ),
        Need(("elasticloadbalancing:DescribeLoadBalancers",)),
        Need(
            ("iam:CreateServiceLinkedRole",),
            "arn:{partition}:iam::{account}:role/aws-service-role/"
            "vpcorigin.cloudfront.amazonaws.com/AWSServiceRoleForCloudFrontVPCOrigin",
            (("iam:AWSServiceName", "vpcorigin.cloudfront.amazonaws.com"),),
        ),
    ),
    "aws:cloudfront/distribution:Distribution": (
        Need(("cloudfront:CreateDistribution",)),
        Need(
            (
                "cloudfront:GetDistribution",
                "cloudfront:GetDistributionConfig",
                "cloudfront:UpdateDistribution",
                "cloudfront:DeleteDistribution",
                "cloudfront:TagResource",
                "cloudfront:UntagResource",
                "cloudfront:ListTagsForResource",
            ),
            DISTRIBUTION,
        ),
        # Naming a CLOUDFRONT-scope web ACL (web_acl_id): CloudFront reads it as the caller.
        Need(("wafv2:GetWebACL",), WEB_ACLS[0]),
    ),
    "aws:wafv2/webAcl:WebAcl": tuple(Need(WAF_ACL_ACTIONS, acl) for acl in WEB_ACLS),
    # WAF delivers to CloudWatch Logs through a log delivery and the log group's resource policy,
    # which it writes as the caller (AWS WAF Developer Guide, "Sending web ACL traffic logs to an
    # Amazon CloudWatch Logs log group": these permissions).
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": (
        *(
            Need(
                (
                    "wafv2:PutLoggingConfiguration",
                    "wafv2:GetLoggingConfiguration",
                    "wafv2:DeleteLoggingConfiguration",
                ),
                acl,
            )
            for acl in WEB_ACLS
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
        Need(
            ("wafv2:AssociateWebACL", "wafv2:DisassociateWebACL", "wafv2:GetWebACLForResource"),
            WEB_ACLS[1],
        ),
        Need(
            ("wafv2:AssociateWebACL", "wafv2:DisassociateWebACL", "wafv2:GetWebACLForResource"),
            LOAD_BALANCER,
        ),
        Need(("elasticloadbalancing:SetWebAcl",)),
    ),
    "aws:iam/role:Role": (
        Need(("iam:CreateRole",), ROLES, BOUNDED),
        Need(
            (
                "iam:DeleteRole",
                "iam:UpdateRole",
                "iam:UpdateAssumeRolePolicy",
                "iam:PutRolePermissionsBoundary",
            ),
            ROLES,
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
        ),
    ),
    "aws:iam/rolePolicy:RolePolicy": (
        Need(("iam:PutRolePolicy", "iam:DeleteRolePolicy"), ROLES, BOUNDED),
        Need(("iam:GetRolePolicy",), ROLES),
    ),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": (
        *(
            Need(("iam:AttachRolePolicy",), ROLES, (*BOUNDED, ("iam:PolicyARN", arn)))
            for arn in managed_policy_arns("{partition}")
        ),
        Need(("iam:DetachRolePolicy",), ROLES, BOUNDED),
        Need(("iam:ListAttachedRolePolicies",), ROLES),
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
        Need(("ecr:DescribeImages",), "arn:{partition}:ecr:{region}:210987654321:repository/app"),
    ),
    # CloudFront's VPC-origin security group, looked up once the origin exists (components.edge).
    "aws:ec2/getSecurityGroup:getSecurityGroup": (Need(("ec2:DescribeSecurityGroups",)),),
    "aws:route53/getZone:getZone": (
        Need(("route53:ListHostedZones", "route53:ListHostedZonesByName")),
        Need(
            ("route53:GetHostedZone", "route53:ListTagsForResource"),
            "arn:{partition}:route53:::hostedzone/Z0123456789ABCDEFGHIJ",
        ),
    ),
}


# --- the policy ----------------------------------------------------------------------------------


def _allow(sid: str, actions: list[str], resource: Any, **condition: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Action": actions,
        "Resource": resource,
    }
    if condition:
        statement["Condition"] = condition
    return statement


def service_statements(partition: str, account: str, project: str, stack: str) -> list[dict]:
    """The deploy role's grants for the app's resources, by service, in this account (any region:
    a stack may live in any). IAM is `iam_statements`'."""
    arn = f"arn:{partition}"

    def scoped(service: str) -> str:
        return f"{arn}:{service}:*:{account}:*"

    return [
        # Describe* calls take no resource (EC2 supports none for them): reads only.
        _allow("ReadTheNetwork", ["ec2:Describe*"], "*"),
        # Prefix lists of AWS services (S3's gateway endpoint) belong to AWS, not this account.
        _allow(
            "BuildTheNetwork",
            [
                "ec2:CreateVpc",
                "ec2:DeleteVpc",
                "ec2:ModifyVpcAttribute",
                "ec2:CreateSubnet",
                "ec2:DeleteSubnet",
                "ec2:ModifySubnetAttribute",
                "ec2:CreateInternetGateway",
                "ec2:DeleteInternetGateway",
                "ec2:AttachInternetGateway",
                "ec2:DetachInternetGateway",
                "ec2:AllocateAddress",
                "ec2:ReleaseAddress",
                "ec2:DisassociateAddress",
                "ec2:CreateNatGateway",
                "ec2:DeleteNatGateway",
                "ec2:CreateRouteTable",
                "ec2:DeleteRouteTable",
                "ec2:CreateRoute",
                "ec2:DeleteRoute",
                "ec2:ReplaceRoute",
                "ec2:AssociateRouteTable",
                "ec2:DisassociateRouteTable",
                "ec2:ReplaceRouteTableAssociation",
                "ec2:CreateSecurityGroup",
                "ec2:DeleteSecurityGroup",
                "ec2:AuthorizeSecurityGroupIngress",
                "ec2:AuthorizeSecurityGroupEgress",
                "ec2:RevokeSecurityGroupIngress",
                "ec2:RevokeSecurityGroupEgress",
                "ec2:ModifySecurityGroupRules",
                "ec2:UpdateSecurityGroupRuleDescriptions*",
                "ec2:CreateFlowLogs",
                "ec2:DeleteFlowLogs",
                "ec2:CreateVpcEndpoint",
                "ec2:DeleteVpcEndpoints",
                "ec2:ModifyVpcEndpoint",
                "ec2:CreateTags",
                "ec2:DeleteTags",
            ],
            f"{arn}:ec2:*:*:*",
        ),
        _allow("ReadTheLoadBalancers", ["elasticloadbalancing:Describe*"], "*"),
        _allow(
            "BuildTheLoadBalancer",
            [
                "elasticloadbalancing:Create*",
                "elasticloadbalancing:Delete*",
                "elasticloadbalancing:Modify*",
                "elasticloadbalancing:Set*",
                "elasticloadbalancing:AddTags",
                "elasticloadbalancing:RemoveTags",
                "elasticloadbalancing:AddListenerCertificates",
                "elasticloadbalancing:RemoveListenerCertificates",
            ],
            scoped("elasticloadbalancing"),
        ),
        _allow(
            "RunTheClusterAndService",
            [
                "ecs:DeleteCluster",
                "ecs:UpdateCluster",
                "ecs:UpdateClusterSettings",
                "ecs:PutClusterCapacityProviders",
                "ecs:DescribeClusters",
                "ecs:CreateService",
                "ecs:UpdateService",
                "ecs:DeleteService",
                "ecs:DescribeServices",
                "ecs:DescribeServiceDeployments",
                "ecs:ListServiceDeployments",
                "ecs:DescribeServiceRevisions",
                "ecs:DeregisterTaskDefinition",
                "ecs:DeleteTaskDefinitions",
                "ecs:TagResource",
                "ecs:UntagResource",
                "ecs:ListTagsForResource",
            ],
            scoped("ecs"),
        ),
        # Calls that name no resource (IAM accepts only "*" for them), and Application Auto
        # Scaling, which the service's scaling target and policy use.
        _allow(
            "CallsThatTakeNoResource",
            [
                "ecs:RegisterTaskDefinition",
                "ecs:DescribeTaskDefinition",
                "ecs:CreateCluster",
                "application-autoscaling:RegisterScalableTarget",
                "application-autoscaling:DeregisterScalableTarget",
                "application-autoscaling:Describe*",
                "application-autoscaling:PutScalingPolicy",
                "application-autoscaling:DeleteScalingPolicy",
                "application-autoscaling:TagResource",
                "application-autoscaling:UntagResource",
                "application-autoscaling:ListTagsForResource",
                "cloudwatch:DescribeAlarms",
                "logs:DescribeLogGroups",
                "ec2:DescribeAvailabilityZones",
                "ecr:GetAuthorizationToken",
                "acm:RequestCertificate",
                "kms:ListAliases",
                "route53:ListHostedZones",
                "route53:ListHostedZonesByName",
                # The edge (edge: cloudfront, waf): creating a VPC origin or distribution names
                # no resource yet, WAF's log delivery to CloudWatch Logs takes none, nor does an
                # ALB's web ACL association on ELB's side.
                "cloudfront:CreateVpcOrigin",
                "cloudfront:CreateDistribution",
                "logs:CreateLogDelivery",
                "logs:DeleteLogDelivery",
                "logs:PutResourcePolicy",
                "logs:DescribeResourcePolicies",
                "elasticloadbalancing:SetWebAcl",
            ],
            "*",
        ),
        _allow(
            "TheEdgeDistributionAndVpcOrigin",
            [
                "cloudfront:GetVpcOrigin",
                "cloudfront:UpdateVpcOrigin",
                "cloudfront:DeleteVpcOrigin",
                "cloudfront:GetDistribution",
                "cloudfront:GetDistributionConfig",
                "cloudfront:UpdateDistribution",
                "cloudfront:DeleteDistribution",
                "cloudfront:TagResource",
                "cloudfront:UntagResource",
                "cloudfront:ListTagsForResource",
            ],
            [
                f"{arn}:cloudfront::{account}:vpcorigin/*",
                f"{arn}:cloudfront::{account}:distribution/*",
            ],
        ),
        _allow(
            "TheWebAclItsLoggingAndAssociation",
            [
                *WAF_ACL_ACTIONS,
                "wafv2:PutLoggingConfiguration",
                "wafv2:GetLoggingConfiguration",
                "wafv2:DeleteLoggingConfiguration",
                "wafv2:AssociateWebACL",
                "wafv2:DisassociateWebACL",
                "wafv2:GetWebACLForResource",
            ],
            [scoped("wafv2"), f"{arn}:elasticloadbalancing:*:{account}:loadbalancer/app/*"],
        ),
        _allow(
            "AlarmsAndLogs",
            [
                "cloudwatch:PutMetricAlarm",
                "cloudwatch:DeleteAlarms",
                "cloudwatch:TagResource",
                "cloudwatch:UntagResource",
                "cloudwatch:ListTagsForResource",
                "logs:CreateLogGroup",
                "logs:DeleteLogGroup",
                "logs:PutRetentionPolicy",
                "logs:DeleteRetentionPolicy",
                "logs:TagResource",
                "logs:UntagResource",
                "logs:ListTagsForResource",
                "logs:TagLogGroup",
                "logs:UntagLogGroup",
                "logs:ListTagsLogGroup",
                "logs:AssociateKmsKey",
                "logs:DisassociateKmsKey",
            ],
            [scoped("cloudwatch"), scoped("logs")],
        ),
        _allow(
            "AlarmTopicQueuesAndSchedules",
            ["sns:*Topic*", "sns:*Subscri*", "sns:*Tag*", "sqs:*Queue*", "scheduler:*Schedule"],
            [scoped("sns"), scoped("sqs"), scoped("scheduler")],
        ),
        # The alarm topic's own key, by the stack's tag: no other key of the account (one whose
        # policy defers to IAM could otherwise be rewritten). The stacks' secrets keys admit no
        # IAM policy at all (their key policies name their principals).
        _allow(
            "CreateOnlyThisStacksKeys",
            ["kms:CreateKey"],
            "*",
            **stack_tag_condition(f"aws:RequestTag/{STACK_TAG}", stack),
        ),
        _allow(
            "TheAlarmTopicsKey",
            [
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
            ],
            f"{arn}:kms:*:{account}:key/*",
            **stack_tag_condition(f"aws:ResourceTag/{STACK_TAG}", stack),
        ),
        _allow(
            "TheImageRepositoryAndPushes",
            [
                "ecr:CreateRepository",
                "ecr:DeleteRepository",
                "ecr:DescribeRepositories",
                "ecr:PutImageScanningConfiguration",
                "ecr:PutImageTagMutability",
                "ecr:*LifecyclePolicy",
                "ecr:TagResource",
                "ecr:UntagResource",
                "ecr:ListTagsForResource",
                "ecr:BatchDeleteImage",
                "ecr:ListImages",
                "ecr:BatchCheckLayerAvailability",
                "ecr:InitiateLayerUpload",
                "ecr:UploadLayerPart",
                "ecr:CompleteLayerUpload",
                "ecr:PutImage",
                "ecr:BatchGetImage",
            ],
            f"{arn}:ecr:*:{account}:repository/*",
        ),
        # A prebuilt image may live in another account's registry (its policy decides).
        _allow("FindPrebuiltImages", ["ecr:DescribeImages"], f"{arn}:ecr:*:*:repository/*"),
        _allow(
            "CertificatesAndDns",
            [
                "acm:DescribeCertificate",
                "acm:DeleteCertificate",
                "acm:AddTagsToCertificate",
                "acm:RemoveTagsFromCertificate",
                "acm:ListTagsForCertificate",
                "route53:ChangeResourceRecordSets",
                "route53:ListResourceRecordSets",
                "route53:GetChange",
                "route53:GetHostedZone",
                "route53:ListTagsForResource",
            ],
            [
                f"{arn}:acm:*:{account}:certificate/*",
                f"{arn}:route53:::hostedzone/*",
                f"{arn}:route53:::change/*",
            ],
        ),
        # The program's buckets (the access-log bucket), by name: S3 ARNs name no account, so
        # this is what keeps the deploy role off every other bucket (the state bucket's policy
        # denies it too).
        _allow(
            "TheAccessLogBucket",
            [
                "s3:CreateBucket",
                "s3:DeleteBucket",
                "s3:ListBucket",
                "s3:ListBucketVersions",
                "s3:GetBucket*",
                "s3:GetAccelerateConfiguration",
                "s3:GetLifecycleConfiguration",
                "s3:GetReplicationConfiguration",
                "s3:GetEncryptionConfiguration",
                "s3:PutBucketTagging",
                "s3:PutBucketPolicy",
                "s3:DeleteBucketPolicy",
                "s3:PutBucketPublicAccessBlock",
                "s3:PutBucketOwnershipControls",
                "s3:PutLifecycleConfiguration",
                "s3:PutEncryptionConfiguration",
                "s3:DeleteObject",
                "s3:DeleteObjectVersion",
            ],
            [f"{arn}:s3:::{prefix}*" for prefix in APP_BUCKET_PREFIXES],
        ),
        # Only secrets tagged for this stack (every resource of the program is): a deploy never
        # reads or changes another stack's secret.
        _allow(
            "CreateOnlyThisStacksSecrets",
            ["secretsmanager:CreateSecret"],
            f"{arn}:secretsmanager:*:{account}:secret:*",
            **stack_tag_condition(f"aws:RequestTag/{STACK_TAG}", stack),
        ),
        _allow(
            "OnlyThisStacksSecrets",
            [
                "secretsmanager:DeleteSecret",
                "secretsmanager:DescribeSecret",
                "secretsmanager:GetResourcePolicy",
                "secretsmanager:UpdateSecret",
                "secretsmanager:TagResource",
                "secretsmanager:UntagResource",
                "secretsmanager:PutSecretValue",
                "secretsmanager:GetSecretValue",
                "secretsmanager:ListSecretVersionIds",
                "secretsmanager:UpdateSecretVersionStage",
            ],
            f"{arn}:secretsmanager:*:{account}:secret:*",
            **stack_tag_condition(f"aws:ResourceTag/{STACK_TAG}", stack),
        ),
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
