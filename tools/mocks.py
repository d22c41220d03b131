"""Pulumi mocks that answer like AWS, and a harness that runs a whole program under them.

Shared by the tests and the offline plan (`python -m tools.plan`): both run the real program and
look at every resource it registers. Answers look like AWS's (IDs such as `vpc-0f3a...`, ARNs,
ALB DNS names, ECR repository URLs, image digests; auto-named resources get Pulumi's
`<name>-<7 hex>` names) and are deterministic, so the same program gives the same plan.

In preview mode (`preview=True`) the mocks behave like `pulumi preview`: inputs are known, but
every value AWS computes (IDs, ARNs, DNS names, digests) is unknown.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import runpy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc, settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"
UNKNOWN = rpc.UNKNOWN  # what preview mode returns for values only AWS knows
# Route 53 hosted zone IDs of ALBs, by region (for alias records).
# Source: https://docs.aws.amazon.com/general/latest/gr/elb.html
ALB_ZONE_IDS = {
    "us-east-1": "Z35SXDOTRQ7X7K",
    "us-west-2": "Z1H1FL5HABSF5",
    "eu-west-1": "Z32O12XQLNTSW2",
}
AZ_ID_PREFIX = {"us-east-1": "use1", "us-west-2": "usw2", "eu-west-1": "euw1"}
AZ_COUNT = 6  # us-east-1 has six AZs, the most of any region


def _hex(*parts: str, n: int = 17) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:n]


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


@dataclass
class RegisteredResource:
    """One resource the program registered, as the engine saw it."""

    type: str
    name: str
    urn: str
    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    custom: bool
    parent: str
    provider: str
    protect: bool
    ignore_changes: list[str]
    depends_on: list[str]
    delete_before_replace: bool
    retain_on_delete: bool
    component_outputs: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.urn


class AwsMocks(pulumi_mocks.Mocks):
    """Answers resource registrations and invokes the way AWS (through pulumi-aws) would."""

    def __init__(
        self, *, region: str = DEFAULT_REGION, preview: bool = False, az_count: int = AZ_COUNT
    ):
        self.region = region
        self.preview = preview
        self.az_count = az_count
        self.invokes: list[tuple[str, dict[str, Any]]] = []

    # -- invokes -------------------------------------------------------------------------------
    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict, list | None]:
        self.invokes.append((args.token, dict(args.args)))
        region = args.args.get("region") or self.region
        token = args.token
        if token == "aws:index/getRegion:getRegion":
            return {
                "id": region,
                "region": region,
                "name": region,
                "endpoint": f"ec2.{region}.amazonaws.com",
                "description": region,
            }, []
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "id": ACCOUNT_ID,
                "accountId": ACCOUNT_ID,
                "arn": f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/deployer/session",
                "userId": "AROAEXAMPLEID:session",
            }, []
        if token == "aws:index/getPartition:getPartition":
            return {
                "id": "aws",
                "partition": "aws",
                "dnsSuffix": "amazonaws.com",
                "reverseDnsPrefix": "com.amazonaws",
            }, []
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            letters = "abcdef"[: self.az_count]
            prefix = AZ_ID_PREFIX.get(region, region.replace("-", "")[:4])
            return {
                "id": region,
                "names": [f"{region}{c}" for c in letters],
                "zoneIds": [f"{prefix}-az{i + 1}" for i in range(len(letters))],
                "groupNames": [region] * len(letters),
                "state": args.args.get("state"),
            }, []
        if token == "aws:ecr/getAuthorizationToken:getAuthorizationToken":
            registry = args.args.get("registryId") or ACCOUNT_ID
            return {
                "id": region,
                "authorizationToken": base64.b64encode(b"AWS:mock-ecr-password").decode(),
                "userName": "AWS",
                "password": "mock-ecr-password",
                "proxyEndpoint": f"https://{registry}.dkr.ecr.{region}.amazonaws.com",
                "expiresAt": "2026-11-26T05:00:00Z",
            }, []
        if token == "aws:ecr/getImage:getImage":
            repo, tag = args.args["repositoryName"], args.args.get("imageTag", "")
            registry = args.args.get("registryId") or ACCOUNT_ID
            digest = args.args.get("imageDigest") or "sha256:" + _hex(repo, tag, n=64)
            return {
                "id": digest,
                "imageDigest": digest,
                "imageTags": [tag] if tag else [],
                "imagePushedAt": 1764000000,
                "imageSizeInBytes": 52_428_800,
                "registryId": registry,
                "repositoryName": repo,
                "imageUri": f"{registry}.dkr.ecr.{region}.amazonaws.com/{repo}@{digest}",
            }, []
        if token == "aws:route53/getZone:getZone":
            zone = str(args.args.get("name", "example.com")).rstrip(".")
            zone_id = "Z" + _hex("zone", zone, n=20).upper()
            return {
                "id": zone_id,
                "zoneId": zone_id,
                "name": zone,
                "arn": f"arn:aws:route53:::hostedzone/{zone_id}",
                "privateZone": False,
                "nameServers": [f"ns-{i}.awsdns-{i:02d}.net" for i in (1, 2)],
                "resourceRecordSetCount": 2,
            }, []
        if token == "aws:elb/getServiceAccount:getServiceAccount":
            # The us-east-1 ELB account that delivers access logs (AWS's documented value).
            elb_account = {"us-east-1": "127311923021", "us-west-2": "797873946194"}.get(
                region, "127311923021"
            )
            return {
                "id": elb_account,
                "arn": f"arn:aws:iam::{elb_account}:root",
                "region": region,
            }, []
        raise NotImplementedError(f"tools/mocks.py does not answer the invoke {token}; add it")

    # -- resources -----------------------------------------------------------------------------
    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str | None, dict]:
        inputs = dict(args.inputs)
        if not args.custom:
            return "", {}
        if args.typ.startswith("pulumi:providers:"):
            return ("" if self.preview else _uuid(args.name)), inputs
        region = inputs.get("region") or self.region
        name = inputs.get("name")
        if not name and args.typ in AUTONAMED:
            name = f"{args.name}-{_hex(args.typ, args.name, n=7)}"
            if args.typ in LOWERCASE_NAMES:
                name = name.lower()
        ident, computed = self._computed(args.typ, args.name, name, inputs, region)
        if name and "name" not in inputs:
            computed.setdefault("name", name)
        if self.preview:
            # Values the user chose stay known; what AWS computes is unknown until it exists.
            chosen = {
                k: v for k, v in computed.items() if k == "name" and args.typ not in AUTONAMED
            }
            unknown = {k: UNKNOWN for k in computed if k not in chosen}
            return "", {**inputs, **unknown, **chosen}
        return ident, {**inputs, **computed}

    def _computed(
        self, typ: str, logical: str, name: str | None, inputs: dict[str, Any], region: str
    ) -> tuple[str, dict[str, Any]]:
        """The resource's ID and the attributes AWS fills in."""
        h = _hex(typ, logical)
        acct = ACCOUNT_ID
        arn = lambda service, resource: f"arn:aws:{service}:{region}:{acct}:{resource}"  # noqa: E731
        if typ == "aws:ec2/vpc:Vpc":
            ident = f"vpc-{h}"
            return ident, {
                "arn": arn("ec2", f"vpc/{ident}"),
                "ipv6CidrBlock": f"2600:1f18:{h[:4]}:{h[4:6]}00::/56",
                "defaultSecurityGroupId": f"sg-{_hex('default', h)}",
                "mainRouteTableId": f"rtb-{_hex('main', h)}",
                "defaultNetworkAclId": f"acl-{_hex('acl', h)}",
                "ownerId": acct,
            }
        simple_ec2 = {
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
        if typ in simple_ec2:
            prefix = simple_ec2[typ]
            ident = f"{prefix}-{h}"
            extra: dict[str, Any] = {"arn": arn("ec2", f"{prefix}/{ident}"), "ownerId": acct}
            if typ == "aws:ec2/natGateway:NatGateway":
                extra["publicIp"] = _ip(h)
            if typ == "aws:ec2/vpcEndpoint:VpcEndpoint":
                service = str(inputs.get("serviceName", "")).rsplit(".", 1)[-1]
                extra["dnsEntries"] = [
                    {
                        "dnsName": f"{ident}.{service}.{region}.vpce.amazonaws.com",
                        "hostedZoneId": "Z7HUB22UULQXV",
                    }
                ]
            return ident, extra
        if typ == "aws:ec2/route:Route":
            return f"r-{inputs.get('routeTableId', 'rtb')}{_hex(logical, n=10)}", {}
        if typ == "aws:ec2/routeTableAssociation:RouteTableAssociation":
            return f"rtbassoc-{h}", {}
        if typ == "aws:ec2/eip:Eip":
            ident = f"eipalloc-{h}"
            return ident, {
                "allocationId": ident,
                "publicIp": _ip(h),
                "publicDns": f"ec2-{_ip(h).replace('.', '-')}.compute-1.amazonaws.com",
            }
        if typ == "aws:lb/loadBalancer:LoadBalancer":
            suffix = f"app/{name}/{h[:16]}"
            ident = arn("elasticloadbalancing", f"loadbalancer/{suffix}")
            return ident, {
                "arn": ident,
                "arnSuffix": suffix,
                "dnsName": f"{name}-{int(h[:8], 16) % 10**10}.{region}.elb.amazonaws.com",
                "zoneId": ALB_ZONE_IDS.get(region, "Z35SXDOTRQ7X7K"),
            }
        if typ == "aws:lb/targetGroup:TargetGroup":
            suffix = f"targetgroup/{name}/{h[:16]}"
            ident = arn("elasticloadbalancing", suffix)
            return ident, {"arn": ident, "arnSuffix": suffix}
        if typ in ("aws:lb/listener:Listener", "aws:lb/listenerRule:ListenerRule"):
            kind = "listener" if typ.endswith("Listener") else "listener-rule"
            ident = arn("elasticloadbalancing", f"{kind}/app/lb/{h[:16]}/{_hex(logical, n=16)}")
            return ident, {"arn": ident}
        if typ == "aws:ecr/repository:Repository":
            return str(name), {
                "arn": arn("ecr", f"repository/{name}"),
                "registryId": acct,
                "repositoryUrl": f"{acct}.dkr.ecr.{region}.amazonaws.com/{name}",
            }
        if typ == "aws:ecr/lifecyclePolicy:LifecyclePolicy":
            return f"lifecycle-{h}", {"registryId": acct}
        if typ == "docker:index/image:Image":
            image_name = str(inputs.get("imageName", ""))
            repo = image_name.rsplit(":", 1)[0]
            digest = "sha256:" + _hex(
                image_name, json.dumps(inputs.get("build"), sort_keys=True), n=64
            )
            return f"{repo}@{digest}", {
                "repoDigest": f"{repo}@{digest}",
                "baseImageName": image_name,
                "registryServer": repo.split("/", 1)[0],
                "platform": (inputs.get("build") or {}).get("platform"),
                "context": (inputs.get("build") or {}).get("context"),
                "dockerfile": (inputs.get("build") or {}).get("dockerfile"),
            }
        if typ == "aws:iam/role:Role":
            path = inputs.get("path") or "/"  # IAM names a role arn:...:role<path><name>
            return str(name), {
                "arn": f"arn:aws:iam::{acct}:role{path}{name}",
                "uniqueId": "AROA" + _hex(logical, n=17).upper(),
                "createDate": "2026-11-25T00:00:00Z",
            }
        if typ == "aws:iam/policy:Policy":
            ident = f"arn:aws:iam::{acct}:policy/{name}"
            return ident, {"arn": ident, "policyId": "ANPA" + h.upper()}
        if typ == "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
            url = str(inputs.get("url", "")).removeprefix("https://")
            ident = f"arn:aws:iam::{acct}:oidc-provider/{url}"
            return ident, {"arn": ident}
        if typ == "aws:ecs/cluster:Cluster":
            ident = arn("ecs", f"cluster/{name}")
            return ident, {"arn": ident}
        if typ == "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders":
            return str(inputs.get("clusterName")), {}
        if typ == "aws:ecs/taskDefinition:TaskDefinition":
            family = inputs.get("family")
            return f"{family}", {
                "arn": arn("ecs", f"task-definition/{family}:1"),
                "arnWithoutRevision": arn("ecs", f"task-definition/{family}"),
                "revision": 1,
            }
        if typ == "aws:ecs/service:Service":
            cluster = str(inputs.get("cluster", "")).rsplit("/", 1)[-1]
            ident = arn("ecs", f"service/{cluster}/{name}")
            return ident, {"arn": ident}
        if typ == "aws:cloudwatch/logGroup:LogGroup":
            return str(name), {"arn": arn("logs", f"log-group:{name}")}
        if typ == "aws:appautoscaling/target:Target":
            return str(inputs.get("resourceId")), {
                "arn": arn("application-autoscaling", f"scalable-target/{h}")
            }
        if typ == "aws:s3/bucket:Bucket" or typ == "aws:s3/bucketV2:BucketV2":
            bucket = inputs.get("bucket") or name
            return str(bucket), {
                "bucket": bucket,
                "arn": f"arn:aws:s3:::{bucket}",
                "bucketDomainName": f"{bucket}.s3.amazonaws.com",
                "bucketRegionalDomainName": f"{bucket}.s3.{region}.amazonaws.com",
                "region": region,
            }
        if typ == "aws:acm/certificate:Certificate":
            ident = arn("acm", f"certificate/{_uuid(logical)}")
            domain = inputs.get("domainName", "example.com")
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
        if typ == "aws:acm/certificateValidation:CertificateValidation":
            return f"{inputs.get('certificateArn')}", {}
        if typ == "aws:route53/record:Record":
            fqdn = str(inputs.get("name", "")).rstrip(".")
            return f"{inputs.get('zoneId')}_{fqdn}_{inputs.get('type')}", {"fqdn": fqdn}
        if typ.startswith("aws:s3/bucket") and typ not in ("aws:s3/bucket:Bucket",):
            return str(inputs.get("bucket", h)), {}
        if typ == "aws:sns/topic:Topic":
            ident = arn("sns", str(name))
            return ident, {"arn": ident}
        if typ == "aws:secretsmanager/secret:Secret":
            ident = arn("secretsmanager", f"secret:{name}-{h[:6]}")
            return ident, {"arn": ident}
        if typ == "aws:secretsmanager/secretVersion:SecretVersion":
            secret, version = str(inputs.get("secretId")), _uuid(logical)
            return f"{secret}|{version}", {
                "arn": secret,
                "versionId": version,
                "versionStages": ["AWSCURRENT"],
            }
        if typ == "aws:kms/key:Key":
            key_id = _uuid(logical)
            return key_id, {"arn": arn("kms", f"key/{key_id}"), "keyId": key_id}
        if typ == "aws:sns/topicSubscription:TopicSubscription":
            ident = f"{inputs.get('topic')}:{_uuid(logical)}"
            return ident, {
                "arn": ident,
                "ownerId": acct,
                "pendingConfirmation": inputs.get("protocol") == "email",
            }
        if typ == "aws:cloudwatch/metricAlarm:MetricAlarm":
            return str(name), {"arn": arn("cloudwatch", f"alarm:{name}")}
        if typ == "aws:sqs/queue:Queue":
            return f"https://sqs.{region}.amazonaws.com/{acct}/{name}", {
                "arn": arn("sqs", str(name)),
                "url": f"https://sqs.{region}.amazonaws.com/{acct}/{name}",
            }
        if typ == "aws:sqs/queuePolicy:QueuePolicy":
            return str(inputs.get("queueUrl")), {}  # the provider's ID is the queue's URL
        if typ == "aws:scheduler/schedule:Schedule":
            # ID "<group>/<name>"; ARN arn:aws:scheduler:<region>:<account>:schedule/<group>/<name>
            group = inputs.get("groupName") or "default"
            return f"{group}/{name}", {
                "arn": arn("scheduler", f"schedule/{group}/{name}"),
                "groupName": group,
            }
        # Anything else: an ID and an ARN in AWS's usual shape.
        service = typ.split(":")[1].split("/")[0]
        ident = f"{name or logical}-{h[:8]}"
        return ident, {"arn": arn(service, f"{typ.rsplit(':', 1)[-1].lower()}/{name or logical}")}


def _uuid(seed: str) -> str:
    h = _hex(seed, n=32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def _ip(h: str) -> str:
    return f"54.{int(h[0:2], 16)}.{int(h[2:4], 16)}.{int(h[4:6], 16) or 1}"


def _plain(struct: Any) -> Any:
    """A registration's properties as plain Python values, without rehydrating resource
    references (which would start work on the engine thread's event loop): secrets are unwrapped,
    resource references become their URN, unknowns stay `UNKNOWN`."""

    def convert(value: Any) -> Any:
        if isinstance(value, dict):
            sig = value.get(rpc._special_sig_key)
            if sig == rpc._special_secret_sig:
                return convert(value.get("value"))
            if sig == rpc._special_resource_sig:
                return value.get("urn")
            if sig in (rpc._special_asset_sig, rpc._special_archive_sig):
                return {k: v for k, v in value.items() if k != rpc._special_sig_key}
            if sig == rpc._special_output_value_sig:
                return convert(value.get("value", UNKNOWN))
            return {k: convert(v) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v) for v in value]
        if isinstance(value, float) and value.is_integer():
            return int(value)  # protobuf carries every number as a double
        return value

    return convert(json_format.MessageToDict(struct)) if struct is not None else {}


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The mock engine, also keeping what `new_resource` does not see: parent, provider, resource
    options (protect, ignore_changes, depends_on) and components' registered outputs."""

    def __init__(self, mocks: AwsMocks) -> None:
        super().__init__(mocks)
        self.records: dict[str, RegisteredResource] = {}
        self.order: list[str] = []

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        registration = self.resources[response.urn]
        record = RegisteredResource(
            type=request.type,
            name=request.name,
            urn=response.urn,
            id=registration.id or "",
            inputs=_plain(request.object),
            outputs=dict(registration.state),
            custom=bool(request.custom),
            parent=request.parent,
            provider=request.provider,
            protect=bool(getattr(request, "protect", False)),
            ignore_changes=list(request.ignoreChanges),
            depends_on=list(request.dependencies),
            delete_before_replace=bool(request.deleteBeforeReplace),
            retain_on_delete=bool(getattr(request, "retainOnDelete", False)),
        )
        self.records[response.urn] = record
        self.order.append(response.urn)
        return response

    def RegisterResourceOutputs(self, request):
        if request.urn in self.records:
            self.records[request.urn].component_outputs = _plain(request.outputs)
        return super().RegisterResourceOutputs(request)


class Unknown:
    """A stack output whose value is not known until the resource exists (preview)."""

    def __repr__(self) -> str:
        return "<unknown>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unknown)

    def __hash__(self) -> int:
        return 0


@dataclass
class ProgramRun:
    """What a program registered under the mocks."""

    project: str
    stack: str
    preview: bool
    resources: list[RegisteredResource]
    outputs: dict[str, Any]
    invokes: list[tuple[str, dict[str, Any]]]
    error: BaseException | None = None
    warnings: list[str] = field(default_factory=list)  # what `pulumi up` would print as warnings

    def of_type(self, type_token: str) -> list[RegisteredResource]:
        return [r for r in self.resources if r.type == type_token]

    def one(self, type_token: str) -> RegisteredResource:
        found = self.of_type(type_token)
        if len(found) != 1:
            names = ", ".join(r.name for r in found) or "none"
            raise AssertionError(f"expected exactly one {type_token}, found {len(found)}: {names}")
        return found[0]

    def named(self, name: str) -> RegisteredResource:
        found = [r for r in self.resources if r.name == name]
        if len(found) != 1:
            raise AssertionError(f"expected one resource named {name!r}, found {len(found)}")
        return found[0]

    def by_urn(self, urn: str) -> RegisteredResource:
        return next(r for r in self.resources if r.urn == urn)

    def children(self, parent: RegisteredResource) -> list[RegisteredResource]:
        return [r for r in self.resources if r.parent == parent.urn]

    @property
    def custom_resources(self) -> list[RegisteredResource]:
        return [
            r for r in self.resources if r.custom and not r.type.startswith("pulumi:providers:")
        ]


@dataclass(frozen=True)
class Secure:
    """A config value kept encrypted (`pulumi config set --secret`): the program gets the plain
    value, and its key is among the secret keys, as the CLI hands them over."""

    value: Any


# Pulumi.<stack>.yaml's form of an encrypted value. Offline there is no key to decrypt it, so the
# program gets a placeholder: any non-empty string, or one of the right form where a setting's
# form is checked.
SECURE_FIELD = "secure"
OFFLINE_SECRET = "secret-not-decrypted-offline"
OFFLINE_SECRET_PLACEHOLDERS = {"alarmEmail": "secret-not-decrypted@offline.invalid"}


def _reveal(value: Any, placeholder: str) -> tuple[Any, bool]:
    """`value` as the program sees it, and whether any of it was a secret."""
    if isinstance(value, Secure):
        return _reveal(value.value, placeholder)[0], True
    if isinstance(value, dict):
        if set(value) == {SECURE_FIELD} and isinstance(value[SECURE_FIELD], str):
            return placeholder, True
        pairs = {k: _reveal(v, OFFLINE_SECRET) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, any(s for _, s in pairs.values())
    if isinstance(value, list):
        items = [_reveal(v, OFFLINE_SECRET) for v in value]
        return [v for v, _ in items], any(s for _, s in items)
    return value, False


def _runtime_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value)


def _full_key(project: str, key: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def config_for_runtime(project: str, config: Mapping[str, Any]) -> dict[str, str]:
    """Config as the Pulumi CLI hands it to a program: namespaced keys, string values, JSON for
    maps and lists (Pulumi.<stack>.yaml's `fargate-app:cpu: 256` arrives as "256"), secrets
    decrypted (`Secure` values; `{secure: ...}` ones become placeholders offline)."""
    out = {}
    for key, value in config.items():
        full = _full_key(project, key)
        placeholder = OFFLINE_SECRET_PLACEHOLDERS.get(full.rpartition(":")[2], OFFLINE_SECRET)
        out[full] = _runtime_value(_reveal(value, placeholder)[0])
    return out


def config_secret_keys(project: str, config: Mapping[str, Any]) -> list[str]:
    """The keys whose values are (or hold) secrets, as the CLI lists them in
    PULUMI_CONFIG_SECRET_KEYS."""
    return sorted(_full_key(project, key) for key, value in config.items() if _reveal(value, "")[1])


class _RecordingLog(logging.Logger):
    """Where the mocks' engine sends the program's pulumi.log messages; keeps the warnings."""

    def __init__(self) -> None:
        super().__init__("pulumi-program")
        self.warnings: list[str] = []

    def warning(self, msg: object, *args: Any, **kwargs: Any) -> None:
        self.warnings.append(str(msg))


def run_program(
    program: Callable[[], Any] | str | Path,
    *,
    project: str,
    stack: str,
    config: Mapping[str, Any] | None = None,
    preview: bool = False,
    region: str | None = None,
    az_count: int = AZ_COUNT,
    cwd: str | Path | None = None,
) -> ProgramRun:
    """Run `program` (a callable, or the path of a `__main__.py`) under the mocks.

    `config` keys may be bare (`cpu`) or namespaced (`aws:region`); values are native (as in a
    Pulumi.<stack>.yaml) and are handed over as the CLI would. An exception the program raises is
    returned in `.error`, not raised, so tests can assert on config errors.
    """
    runtime_config = config_for_runtime(project, config or {})
    region = region or runtime_config.get("aws:region") or DEFAULT_REGION
    mocks = AwsMocks(region=region, preview=preview, az_count=az_count)
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_all_config(runtime_config, config_secret_keys(project, config or {}))
    settings.ROOT.set(None)
    log = _RecordingLog()
    pulumi.runtime.set_mocks(
        mocks, project=project, stack=stack, preview=preview, monitor=monitor, logger=log
    )
    settings.SETTINGS.rpc_manager.clear()
    settings.SETTINGS.outputs.clear()

    if isinstance(program, str | Path):
        path = Path(program).resolve()
        workdir = Path(cwd) if cwd else path.parent

        def body() -> None:
            runpy.run_path(str(path), run_name="__main__")
    else:
        workdir = Path(cwd) if cwd else Path.cwd()
        body = program  # type: ignore[assignment]

    error: BaseException | None = None
    previous = Path.cwd()
    try:
        os.chdir(workdir)  # Pulumi runs programs from the project directory
        _sync_await(run_pulumi_func(body))
    except Exception as err:  # returned to the caller, which asserts on it
        error = err
    finally:
        os.chdir(previous)

    outputs = _stack_outputs() if error is None else {}
    records = [monitor.records[u] for u in monitor.order]
    return ProgramRun(project, stack, preview, records, outputs, mocks.invokes, error, log.warnings)


def _stack_outputs() -> dict[str, Any]:
    root = settings.get_root_resource()
    result: dict[str, Any] = {}
    for key, value in getattr(root, "outputs", {}).items():
        out = pulumi.Output.from_input(value)
        known = _sync_await(out.is_known())
        result[key] = _sync_await(out.future()) if known else Unknown()
    return result


def load_stack_config(project_dir: str | Path, stack: str) -> dict[str, Any]:
    """A committed stack's config (Pulumi.<stack>.yaml), with Pulumi.yaml's defaults under it."""
    import yaml

    project_dir = Path(project_dir)
    project = yaml.safe_load((project_dir / "Pulumi.yaml").read_text())
    name = project["name"]

    def full(key: str) -> str:
        return key if ":" in key else f"{name}:{key}"

    values: dict[str, Any] = {}
    for key, decl in (project.get("config") or {}).items():
        if isinstance(decl, dict) and "default" in decl:
            values[full(key)] = decl["default"]
    stack_file = project_dir / f"Pulumi.{stack}.yaml"
    stack_values = (yaml.safe_load(stack_file.read_text()) or {}).get("config") or {}
    values.update({full(k): v for k, v in stack_values.items()})
    return values


__all__ = [
    "ACCOUNT_ID",
    "OFFLINE_SECRET",
    "SECURE_FIELD",
    "UNKNOWN",
    "AwsMocks",
    "ProgramRun",
    "RecordingMonitor",
    "RegisteredResource",
    "Secure",
    "Unknown",
    "config_for_runtime",
    "config_secret_keys",
    "load_stack_config",
    "run_program",
]
