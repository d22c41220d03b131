"""What AWS (through pulumi-aws) answers when a resource is created: its ID and the attributes it
computes, one function per resource type.

To answer a new type, add a function decorated with `@answers("<type token>")` that returns
(ID, computed outputs) in AWS's shapes (IDs such as `vpc-0f3a...`, ARNs, DNS names); if Pulumi
names it when the program does not (`<logical name>-<7 hex>`), add the type to AUTONAMED. A type
without an answer gets `generic`: an ID and an ARN in AWS's usual shape, which tests/test_mocks.py
refuses for any type the committed stacks register unless it is listed in GENERIC_ANSWERED.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tools.mocks.ids import ACCOUNT_ID, hex_id, public_ip, uuid_id

# Resource types whose physical name Pulumi generates (`<logical name>-<7 hex>`) when not given.
AUTONAMED = {
    "aws:ecr/repository:Repository",
    "aws:iam/role:Role",
    "aws:iam/policy:Policy",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:ecs/cluster:Cluster",
    "aws:ecs/service:Service",
    "aws:lb/loadBalancer:LoadBalancer",
    "aws:lb/targetGroup:TargetGroup",
    "aws:ec2/securityGroup:SecurityGroup",
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:cloudwatch/metricAlarm:MetricAlarm",
    "aws:sns/topic:Topic",
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketV2:BucketV2",
    "aws:secretsmanager/secret:Secret",
    "aws:scheduler/schedule:Schedule",
    "aws:sqs/queue:Queue",
    "aws:appautoscaling/policy:Policy",
}
# Lower-case names for the services whose names must be lower case.
LOWERCASE_NAMES = {
    "aws:ecr/repository:Repository",
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketV2:BucketV2",
}
# Types the program registers that have no answer of their own yet and take `generic`'s: nothing
# the program, the tests or the plan read depends on their ID or ARN.
GENERIC_ANSWERED = {
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:appautoscaling/policy:Policy",
}
# The Route 53 hosted zone of every CloudFront distribution's own name, for alias records.
# Source: https://docs.aws.amazon.com/Route53/latest/APIReference/API_AliasTarget.html
CLOUDFRONT_ZONE_ID = "Z2FDTNDATAQYW2"
# Web ACL capacity units of the rules the program uses, as WAF reports the ACL's capacity.
# Source: AWS WAF Developer Guide, "AWS Managed Rules rule groups list"; a rate-based rule with
# no scope-down statement costs 2.
MANAGED_RULE_GROUP_WCUS = {
    "AWSManagedRulesCommonRuleSet": 700,
    "AWSManagedRulesKnownBadInputsRuleSet": 200,
    "AWSManagedRulesAmazonIpReputationList": 25,
}
RATE_BASED_RULE_WCUS = 2
# Route 53 hosted zone IDs of ALBs, by region (for alias records).
# Source: https://docs.aws.amazon.com/general/latest/gr/elb.html
ALB_ZONE_IDS = {
    "us-east-1": "Z35SXDOTRQ7X7K",
    "us-west-2": "Z1H1FL5HABSF5",
    "eu-west-1": "Z32O12XQLNTSW2",
}


@dataclass(frozen=True, kw_only=True)
class Registration:
    """One resource being created: what an answer may depend on."""

    type: str
    logical: str  # the name the program gave it
    name: str | None  # its physical name: the `name` input, or Pulumi's autoname
    inputs: dict[str, Any]
    region: str

    @property
    def hash(self) -> str:
        """The resource's own hex digest, the seed of its IDs."""
        return hex_id(self.type, self.logical)

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{ACCOUNT_ID}:{resource}"


Answer = tuple[str, dict[str, Any]]  # (ID, the attributes AWS computes)
ResourceAnswer = Callable[[Registration], Answer]
RESOURCES: dict[str, ResourceAnswer] = {}
# Answers for every type whose token starts with a prefix, after the exact ones.
FAMILIES: dict[str, ResourceAnswer] = {}


def answers(*types: str, family: str | None = None) -> Callable[[ResourceAnswer], ResourceAnswer]:
    def register(fn: ResourceAnswer) -> ResourceAnswer:
        for t in types:
            RESOURCES[t] = fn
        if family:
            FAMILIES[family] = fn
        return fn

    return register


def answer_for(type_token: str) -> ResourceAnswer:
    """The answer for a type: its own, else its family's, else `generic`."""
    if type_token in RESOURCES:
        return RESOURCES[type_token]
    family = next((fn for p, fn in FAMILIES.items() if type_token.startswith(p)), None)
    return family or generic


def generic(r: Registration) -> Answer:
    """Any type without an answer: an ID and an ARN in AWS's usual shape."""
    service = r.type.split(":")[1].split("/")[0]
    resource = f"{r.type.rsplit(':', 1)[-1].lower()}/{r.name or r.logical}"
    return f"{r.name or r.logical}-{r.hash[:8]}", {"arn": r.arn(service, resource)}


# -- EC2 and VPC -----------------------------------------------------------------------------------


@answers("aws:ec2/vpc:Vpc")
def _vpc(r: Registration) -> Answer:
    h = r.hash
    ident = f"vpc-{h}"
    return ident, {
        "arn": r.arn("ec2", f"vpc/{ident}"),
        "ipv6CidrBlock": f"2600:1f18:{h[:4]}:{h[4:6]}00::/56",
        "defaultSecurityGroupId": f"sg-{hex_id('default', h)}",
        "mainRouteTableId": f"rtb-{hex_id('main', h)}",
        "defaultNetworkAclId": f"acl-{hex_id('acl', h)}",
        "ownerId": ACCOUNT_ID,
    }


# EC2 resources whose ID is `<prefix>-<17 hex>` and whose ARN is `ec2:<prefix>/<ID>`.
EC2_ID_PREFIXES = {
    "aws:ec2/subnet:Subnet": "subnet",
    "aws:ec2/internetGateway:InternetGateway": "igw",
    "aws:ec2/routeTable:RouteTable": "rtb",
    "aws:ec2/securityGroup:SecurityGroup": "sg",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "sg",
    "aws:ec2/natGateway:NatGateway": "nat",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr",
    "aws:ec2/flowLog:FlowLog": "fl",
}


@answers(*EC2_ID_PREFIXES)
def _ec2(r: Registration) -> Answer:
    prefix = EC2_ID_PREFIXES[r.type]
    ident = f"{prefix}-{r.hash}"
    extra: dict[str, Any] = {"arn": r.arn("ec2", f"{prefix}/{ident}"), "ownerId": ACCOUNT_ID}
    if r.type == "aws:ec2/natGateway:NatGateway":
        extra["publicIp"] = public_ip(r.hash)
    if r.type == "aws:ec2/vpcEndpoint:VpcEndpoint":
        service = str(r.inputs.get("serviceName", "")).rsplit(".", 1)[-1]
        extra["dnsEntries"] = [
            {
                "dnsName": f"{ident}.{service}.{r.region}.vpce.amazonaws.com",
                "hostedZoneId": "Z7HUB22UULQXV",
            }
        ]
    return ident, extra


@answers("aws:ec2/route:Route")
def _route(r: Registration) -> Answer:
    return f"r-{r.inputs.get('routeTableId', 'rtb')}{hex_id(r.logical, n=10)}", {}


@answers("aws:ec2/routeTableAssociation:RouteTableAssociation")
def _route_table_association(r: Registration) -> Answer:
    return f"rtbassoc-{r.hash}", {}


@answers("aws:ec2/eip:Eip")
def _eip(r: Registration) -> Answer:
    ident = f"eipalloc-{r.hash}"
    ip = public_ip(r.hash)
    return ident, {
        "allocationId": ident,
        "publicIp": ip,
        "publicDns": f"ec2-{ip.replace('.', '-')}.compute-1.amazonaws.com",
    }


# -- load balancing --------------------------------------------------------------------------------


@answers("aws:lb/loadBalancer:LoadBalancer")
def _load_balancer(r: Registration) -> Answer:
    h = r.hash
    suffix = f"app/{r.name}/{h[:16]}"
    ident = r.arn("elasticloadbalancing", f"loadbalancer/{suffix}")
    return ident, {
        "arn": ident,
        "arnSuffix": suffix,
        "dnsName": f"{r.name}-{int(h[:8], 16) % 10**10}.{r.region}.elb.amazonaws.com",
        "zoneId": ALB_ZONE_IDS.get(r.region, ALB_ZONE_IDS["us-east-1"]),
    }


@answers("aws:lb/targetGroup:TargetGroup")
def _target_group(r: Registration) -> Answer:
    suffix = f"targetgroup/{r.name}/{r.hash[:16]}"
    ident = r.arn("elasticloadbalancing", suffix)
    return ident, {"arn": ident, "arnSuffix": suffix}


@answers("aws:lb/listener:Listener", "aws:lb/listenerRule:ListenerRule")
def _listener(r: Registration) -> Answer:
    kind = "listener" if r.type.endswith("Listener") else "listener-rule"
    resource = f"{kind}/app/lb/{r.hash[:16]}/{hex_id(r.logical, n=16)}"
    ident = r.arn("elasticloadbalancing", resource)
    return ident, {"arn": ident}


# -- image -----------------------------------------------------------------------------------------


@answers("aws:ecr/repository:Repository")
def _repository(r: Registration) -> Answer:
    return str(r.name), {
        "arn": r.arn("ecr", f"repository/{r.name}"),
        "registryId": ACCOUNT_ID,
        "repositoryUrl": f"{ACCOUNT_ID}.dkr.ecr.{r.region}.amazonaws.com/{r.name}",
    }


@answers("aws:ecr/lifecyclePolicy:LifecyclePolicy")
def _lifecycle_policy(r: Registration) -> Answer:
    return f"lifecycle-{r.hash}", {"registryId": ACCOUNT_ID}


@answers("docker:index/image:Image")
def _image(r: Registration) -> Answer:
    image_name = str(r.inputs.get("imageName", ""))
    build = r.inputs.get("build") or {}
    repo = image_name.rsplit(":", 1)[0]
    digest = "sha256:" + hex_id(image_name, json.dumps(r.inputs.get("build"), sort_keys=True), n=64)
    return f"{repo}@{digest}", {
        "repoDigest": f"{repo}@{digest}",
        "baseImageName": image_name,
        "registryServer": repo.split("/", 1)[0],
        "platform": build.get("platform"),
        "context": build.get("context"),
        "dockerfile": build.get("dockerfile"),
    }


# -- IAM and KMS -----------------------------------------------------------------------------------


@answers("aws:iam/role:Role")
def _role(r: Registration) -> Answer:
    # IAM puts a role's path in its ARN: arn:aws:iam::<account>:role/<path><name>.
    path = str(r.inputs.get("path") or "/")
    return str(r.name), {
        "arn": f"arn:aws:iam::{ACCOUNT_ID}:role{path}{r.name}",
        "uniqueId": "AROA" + hex_id(r.logical, n=17).upper(),
        "createDate": "2026-11-25T00:00:00Z",
    }


@answers("aws:iam/policy:Policy")
def _policy(r: Registration) -> Answer:
    ident = f"arn:aws:iam::{ACCOUNT_ID}:policy/{r.name}"
    return ident, {"arn": ident, "policyId": "ANPA" + r.hash.upper()}


@answers("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
def _oidc_provider(r: Registration) -> Answer:
    url = str(r.inputs.get("url", "")).removeprefix("https://")
    ident = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{url}"
    return ident, {"arn": ident}


@answers("aws:kms/key:Key")
def _kms_key(r: Registration) -> Answer:
    key_id = uuid_id(r.logical)
    return key_id, {"arn": r.arn("kms", f"key/{key_id}"), "keyId": key_id}


# -- ECS and autoscaling ---------------------------------------------------------------------------


@answers("aws:ecs/cluster:Cluster")
def _cluster(r: Registration) -> Answer:
    ident = r.arn("ecs", f"cluster/{r.name}")
    return ident, {"arn": ident}


@answers("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders")
def _cluster_capacity_providers(r: Registration) -> Answer:
    return str(r.inputs.get("clusterName")), {}


@answers("aws:ecs/taskDefinition:TaskDefinition")
def _task_definition(r: Registration) -> Answer:
    family = r.inputs.get("family")
    return f"{family}", {
        "arn": r.arn("ecs", f"task-definition/{family}:1"),
        "arnWithoutRevision": r.arn("ecs", f"task-definition/{family}"),
        "revision": 1,
    }


@answers("aws:ecs/service:Service")
def _service(r: Registration) -> Answer:
    cluster = str(r.inputs.get("cluster", "")).rsplit("/", 1)[-1]
    ident = r.arn("ecs", f"service/{cluster}/{r.name}")
    return ident, {"arn": ident}


@answers("aws:appautoscaling/target:Target")
def _scalable_target(r: Registration) -> Answer:
    return str(r.inputs.get("resourceId")), {
        "arn": r.arn("application-autoscaling", f"scalable-target/{r.hash}")
    }


# -- logs, alarms, notifications, queues, schedules ------------------------------------------------


@answers("aws:cloudwatch/logGroup:LogGroup")
def _log_group(r: Registration) -> Answer:
    return str(r.name), {"arn": r.arn("logs", f"log-group:{r.name}")}


@answers("aws:cloudwatch/metricAlarm:MetricAlarm")
def _metric_alarm(r: Registration) -> Answer:
    return str(r.name), {"arn": r.arn("cloudwatch", f"alarm:{r.name}")}


@answers("aws:sns/topic:Topic")
def _topic(r: Registration) -> Answer:
    ident = r.arn("sns", str(r.name))
    return ident, {"arn": ident}


@answers("aws:sns/topicSubscription:TopicSubscription")
def _topic_subscription(r: Registration) -> Answer:
    ident = f"{r.inputs.get('topic')}:{uuid_id(r.logical)}"
    return ident, {
        "arn": ident,
        "ownerId": ACCOUNT_ID,
        "pendingConfirmation": r.inputs.get("protocol") == "email",
    }


@answers("aws:sqs/queue:Queue")
def _queue(r: Registration) -> Answer:
    url = f"https://sqs.{r.region}.amazonaws.com/{ACCOUNT_ID}/{r.name}"
    return url, {"arn": r.arn("sqs", str(r.name)), "url": url}


@answers("aws:sqs/queuePolicy:QueuePolicy")
def _queue_policy(r: Registration) -> Answer:
    return str(r.inputs.get("queueUrl")), {}  # the provider's ID is the queue's URL


@answers("aws:servicediscovery/httpNamespace:HttpNamespace")
def _http_namespace(r: Registration) -> Answer:
    # Cloud Map IDs: ns-<16 characters>; an HTTP namespace has no hosted zone.
    ident = f"ns-{r.hash[:16]}"
    return ident, {
        "arn": r.arn("servicediscovery", f"namespace/{ident}"),
        "httpName": r.inputs.get("name"),
    }


@answers("aws:scheduler/schedule:Schedule")
def _schedule(r: Registration) -> Answer:
    # ID "<group>/<name>"; ARN arn:aws:scheduler:<region>:<account>:schedule/<group>/<name>
    group = r.inputs.get("groupName") or "default"
    return f"{group}/{r.name}", {
        "arn": r.arn("scheduler", f"schedule/{group}/{r.name}"),
        "groupName": group,
    }


# -- S3 --------------------------------------------------------------------------------------------


@answers("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
def _bucket(r: Registration) -> Answer:
    bucket = r.inputs.get("bucket") or r.name
    return str(bucket), {
        "bucket": bucket,
        "arn": f"arn:aws:s3:::{bucket}",
        "bucketDomainName": f"{bucket}.s3.amazonaws.com",
        "bucketRegionalDomainName": f"{bucket}.s3.{r.region}.amazonaws.com",
        "region": r.region,
    }


@answers(family="aws:s3/bucket")
def _bucket_configuration(r: Registration) -> Answer:
    """A bucket's policy, encryption, lifecycle, ...: the provider's ID is the bucket's name."""
    return str(r.inputs.get("bucket", r.hash)), {}


# -- certificates, DNS, secrets --------------------------------------------------------------------


@answers("aws:acm/certificate:Certificate")
def _certificate(r: Registration) -> Answer:
    ident = r.arn("acm", f"certificate/{uuid_id(r.logical)}")
    domain = r.inputs.get("domainName", "example.com")
    h = r.hash
    return ident, {
        "arn": ident,
        "domainValidationOptions": [
            {
                "domainName": domain,
                "resourceRecordName": f"_{h[:32]}.{domain}.",
                "resourceRecordType": "CNAME",
                "resourceRecordValue": f"_{h[:32]}.acm-validations.aws.",
            }
        ],
    }


@answers("aws:acm/certificateValidation:CertificateValidation")
def _certificate_validation(r: Registration) -> Answer:
    return f"{r.inputs.get('certificateArn')}", {}


@answers("aws:route53/record:Record")
def _record(r: Registration) -> Answer:
    fqdn = str(r.inputs.get("name", "")).rstrip(".")
    return f"{r.inputs.get('zoneId')}_{fqdn}_{r.inputs.get('type')}", {"fqdn": fqdn}


@answers("aws:secretsmanager/secret:Secret")
def _secret(r: Registration) -> Answer:
    ident = r.arn("secretsmanager", f"secret:{r.name}-{r.hash[:6]}")
    return ident, {"arn": ident}


@answers("aws:secretsmanager/secretVersion:SecretVersion")
def _secret_version(r: Registration) -> Answer:
    secret, version = str(r.inputs.get("secretId")), uuid_id(r.logical)
    return f"{secret}|{version}", {
        "arn": secret,
        "versionId": version,
        "versionStages": ["AWSCURRENT"],
    }


# -- CloudFront and WAF ----------------------------------------------------------------------------


def _cloudfront_id(prefix: str, r: Registration, n: int) -> str:
    """CloudFront's IDs: a prefix and upper-case letters and digits (E2QWRUHAPOMQZL)."""
    return prefix + hex_id(r.type, r.logical, n=n).upper()


@answers("aws:cloudfront/vpcOrigin:VpcOrigin")
def _vpc_origin(r: Registration) -> Answer:
    # CloudFront is global: its ARNs carry no region.
    ident = "vo_" + hex_id(r.type, r.logical, n=22)
    return ident, {
        "arn": f"arn:aws:cloudfront::{ACCOUNT_ID}:vpcorigin/{ident}",
        "etag": _cloudfront_id("E", r, 13),
    }


@answers("aws:cloudfront/distribution:Distribution")
def _distribution(r: Registration) -> Answer:
    ident = _cloudfront_id("E", r, 13)
    return ident, {
        "arn": f"arn:aws:cloudfront::{ACCOUNT_ID}:distribution/{ident}",
        "domainName": f"d{hex_id('domain', r.logical, n=13)}.cloudfront.net",
        "hostedZoneId": CLOUDFRONT_ZONE_ID,
        "status": "Deployed",
        "etag": _cloudfront_id("E", r, 14),
        "callerReference": uuid_id(r.logical),
        "inProgressValidationBatches": 0,
        "lastModifiedTime": "2026-11-25T00:00:00Z",
    }


def _web_acl_capacity(rules: list[dict[str, Any]]) -> int:
    total = 0
    for rule in rules:
        statement = rule.get("statement") or {}
        if "managedRuleGroupStatement" in statement:
            total += MANAGED_RULE_GROUP_WCUS[statement["managedRuleGroupStatement"]["name"]]
        elif "rateBasedStatement" in statement:
            total += RATE_BASED_RULE_WCUS
    return total


@answers("aws:wafv2/webAcl:WebAcl")
def _web_acl(r: Registration) -> Answer:
    # arn:aws:wafv2:<region>:<account>:global/webacl/<name>/<id> (CLOUDFRONT scope: us-east-1)
    ident = uuid_id(r.logical)
    scope = "global" if r.inputs.get("scope") == "CLOUDFRONT" else "regional"
    return ident, {
        "arn": r.arn("wafv2", f"{scope}/webacl/{r.name}/{ident}"),
        "capacity": _web_acl_capacity(list(r.inputs.get("rules") or [])),
        "lockToken": uuid_id(f"lock/{r.logical}"),
        "applicationIntegrationUrl": "",
    }


@answers("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration")
def _web_acl_logging(r: Registration) -> Answer:
    return str(r.inputs.get("resourceArn")), {}  # the provider's ID is the ACL's ARN


@answers("aws:wafv2/webAclAssociation:WebAclAssociation")
def _web_acl_association(r: Registration) -> Answer:
    return f"{r.inputs.get('webAclArn')},{r.inputs.get('resourceArn')}", {}


# -- EFS -------------------------------------------------------------------------------------------


@answers("aws:efs/fileSystem:FileSystem")
def _file_system(r: Registration) -> Answer:
    # File system IDs: fs- and 17 hex characters.
    ident = f"fs-{r.hash}"
    return ident, {
        "arn": r.arn("elasticfilesystem", f"file-system/{ident}"),
        "dnsName": f"{ident}.efs.{r.region}.amazonaws.com",
        "ownerId": ACCOUNT_ID,
        "numberOfMountTargets": 0,
        "creationToken": f"{r.logical}-{r.hash[:7]}",
        "performanceMode": r.inputs.get("performanceMode", "generalPurpose"),
        "throughputMode": r.inputs.get("throughputMode", "bursting"),
        "kmsKeyId": r.arn("kms", f"key/{uuid_id(r.hash)}"),
    }


@answers("aws:efs/accessPoint:AccessPoint")
def _access_point(r: Registration) -> Answer:
    ident = f"fsap-{r.hash}"
    file_system = str(r.inputs.get("fileSystemId", ""))
    return ident, {
        "arn": r.arn("elasticfilesystem", f"access-point/{ident}"),
        "fileSystemArn": r.arn("elasticfilesystem", f"file-system/{file_system}"),
        "ownerId": ACCOUNT_ID,
    }


@answers("aws:efs/mountTarget:MountTarget")
def _mount_target(r: Registration) -> Answer:
    ident = f"fsmt-{r.hash}"
    file_system = str(r.inputs.get("fileSystemId", ""))
    # The logical name ends with the AZ (components.file_system keys mount targets by it).
    az = r.logical.rsplit("-efs-", 1)[-1]
    h = r.hash
    return ident, {
        "availabilityZoneName": az,
        "availabilityZoneId": f"use1-az{int(h[:2], 16) % 6 + 1}",
        "dnsName": f"{file_system}.efs.{r.region}.amazonaws.com",
        "mountTargetDnsName": f"{az}.{file_system}.efs.{r.region}.amazonaws.com",
        "fileSystemArn": r.arn("elasticfilesystem", f"file-system/{file_system}"),
        "ipAddress": f"10.0.{int(h[2:4], 16) % 256}.{int(h[4:6], 16) % 250 + 4}",
        "networkInterfaceId": f"eni-{hex_id('eni', h)}",
        "ownerId": ACCOUNT_ID,
    }


@answers("aws:efs/backupPolicy:BackupPolicy", "aws:efs/fileSystemPolicy:FileSystemPolicy")
def _file_system_setting(r: Registration) -> Answer:
    return str(r.inputs.get("fileSystemId")), {}  # the provider's ID is the file system's
