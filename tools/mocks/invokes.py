"""What AWS answers to the data sources (invokes) a program calls, one function per token.

To answer a new data source, add a function decorated with `@answers_invoke("<token>")` that
returns the outputs pulumi-aws would (the output names of its `get_<x>` result class). An invoke
without an answer fails the run with a message naming the token.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tools.mocks.ids import ACCOUNT_ID, CALLER_ROLE, CALLER_ROLE_ARN, hex_id
from tools.mocks.regions import UNLISTED_REGION_AZS, az_ids, region_az_count

# The account Elastic Load Balancing delivers access logs from, by region; the us-east-1 one
# elsewhere. Source: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
ELB_LOG_DELIVERY_ACCOUNTS = {"us-east-1": "127311923021", "us-west-2": "797873946194"}


@dataclass(frozen=True, kw_only=True)
class Invoke:
    """One data source call: its arguments, and the region it is answered for, with the AZ count
    to answer (None: the Region's own, from tools/mocks/regions.py)."""

    args: dict[str, Any]
    region: str
    az_count: int | None = None


InvokeAnswer = Callable[[Invoke], dict[str, Any]]
INVOKES: dict[str, InvokeAnswer] = {}


def answers_invoke(*tokens: str) -> Callable[[InvokeAnswer], InvokeAnswer]:
    def register(fn: InvokeAnswer) -> InvokeAnswer:
        for token in tokens:
            INVOKES[token] = fn
        return fn

    return register


@answers_invoke("aws:index/getRegion:getRegion")
def _region(call: Invoke) -> dict[str, Any]:
    region = call.region
    return {
        "id": region,
        "region": region,
        "name": region,
        "endpoint": f"ec2.{region}.amazonaws.com",
        "description": region,
    }


@answers_invoke("aws:index/getCallerIdentity:getCallerIdentity")
def _caller_identity(call: Invoke) -> dict[str, Any]:
    return {
        "id": ACCOUNT_ID,
        "accountId": ACCOUNT_ID,
        "arn": f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{CALLER_ROLE}/session",
        "userId": "AROAEXAMPLEID:session",
    }


@answers_invoke("aws:index/getPartition:getPartition")
def _partition(call: Invoke) -> dict[str, Any]:
    return {
        "id": "aws",
        "partition": "aws",
        "dnsSuffix": "amazonaws.com",
        "reverseDnsPrefix": "com.amazonaws",
    }


@answers_invoke("aws:index/getAvailabilityZones:getAvailabilityZones")
def _availability_zones(call: Invoke) -> dict[str, Any]:
    region = call.region
    count = call.az_count
    if count is None:
        count = region_az_count(region) or UNLISTED_REGION_AZS
    return {
        "id": region,
        "names": [f"{region}{chr(ord('a') + i)}" for i in range(count)],
        "zoneIds": az_ids(region, count),
        "groupNames": [region] * count,
        "state": call.args.get("state"),
    }


@answers_invoke("aws:ecr/getAuthorizationToken:getAuthorizationToken")
def _ecr_authorization_token(call: Invoke) -> dict[str, Any]:
    registry = call.args.get("registryId") or ACCOUNT_ID
    return {
        "id": call.region,
        "authorizationToken": base64.b64encode(b"AWS:mock-ecr-password").decode(),
        "userName": "AWS",
        "password": "mock-ecr-password",
        "proxyEndpoint": f"https://{registry}.dkr.ecr.{call.region}.amazonaws.com",
        "expiresAt": "2026-11-26T05:00:00Z",
    }


@answers_invoke("aws:ecr/getImage:getImage")
def _ecr_image(call: Invoke) -> dict[str, Any]:
    repo, tag = call.args["repositoryName"], call.args.get("imageTag", "")
    registry = call.args.get("registryId") or ACCOUNT_ID
    digest = call.args.get("imageDigest") or "sha256:" + hex_id(repo, tag, n=64)
    return {
        "id": digest,
        "imageDigest": digest,
        "imageTags": [tag] if tag else [],
        "imagePushedAt": 1764000000,
        "imageSizeInBytes": 52_428_800,
        "registryId": registry,
        "repositoryName": repo,
        "imageUri": f"{registry}.dkr.ecr.{call.region}.amazonaws.com/{repo}@{digest}",
    }


@answers_invoke("aws:route53/getZone:getZone")
def _route53_zone(call: Invoke) -> dict[str, Any]:
    zone = str(call.args.get("name", "example.com")).rstrip(".")
    zone_id = "Z" + hex_id("zone", zone, n=20).upper()
    return {
        "id": zone_id,
        "zoneId": zone_id,
        "name": zone,
        "arn": f"arn:aws:route53:::hostedzone/{zone_id}",
        "privateZone": False,
        "nameServers": [f"ns-{i}.awsdns-{i:02d}.net" for i in (1, 2)],
        "resourceRecordSetCount": 2,
    }


@answers_invoke("aws:elb/getServiceAccount:getServiceAccount")
def _elb_service_account(call: Invoke) -> dict[str, Any]:
    account = ELB_LOG_DELIVERY_ACCOUNTS.get(call.region, ELB_LOG_DELIVERY_ACCOUNTS["us-east-1"])
    return {"id": account, "arn": f"arn:aws:iam::{account}:root", "region": call.region}


# The security group CloudFront creates in a VPC with its first VPC origin (components.edge).
VPC_ORIGIN_SECURITY_GROUP = "CloudFront-VPCOrigins-Service-SG"


def _filter(call: Invoke, name: str) -> list[str]:
    """The values of the invoke's filter called `name` (none: empty)."""
    filters = call.args.get("filters") or []
    return next((list(f["values"]) for f in filters if f["name"] == name), [])


@answers_invoke("aws:ec2/getSecurityGroup:getSecurityGroup")
def _security_group(call: Invoke) -> dict[str, Any]:
    """A group looked up by name in a VPC; the one AWS creates itself is what the program looks up
    (a name pattern ending in `*` matches the group's full name)."""
    vpc = call.args.get("vpcId") or next(iter(_filter(call, "vpc-id")), "vpc-0")
    names = _filter(call, "group-name") or [call.args.get("name") or "default"]
    name = names[0].rstrip("*")
    ident = f"sg-{hex_id('security-group', vpc, name)}"
    return {
        "id": ident,
        "arn": f"arn:aws:ec2:{call.region}:{ACCOUNT_ID}:security-group/{ident}",
        "name": name,
        "description": name,
        "vpcId": vpc,
        "tags": {},
        "filters": call.args.get("filters"),
    }


@answers_invoke("aws:iam/getSessionContext:getSessionContext")
def _session_context(call: Invoke) -> dict[str, Any]:
    """The role behind an assumed-role ARN (IAM's own role ARN, with its path); any other ARN is
    its own issuer."""
    arn = str(call.args["arn"])
    parts = arn.split(":", 5)
    if parts[2] == "sts" and parts[5].startswith("assumed-role/"):
        _, role, session = parts[5].split("/", 2)
        issuer = CALLER_ROLE_ARN if role == CALLER_ROLE else f"arn:aws:iam::{parts[4]}:role/{role}"
        return {
            "id": arn,
            "arn": arn,
            "issuerArn": issuer,
            "issuerId": "AROAEXAMPLEID",
            "issuerName": role,
            "sessionName": session,
        }
    return {"id": arn, "arn": arn, "issuerArn": arn, "issuerId": "", "issuerName": "",
            "sessionName": ""}  # fmt: skip


# The IAM roles a test puts in the mocked account (getRoles, getRole): name -> (path, trust policy
# JSON). Empty by default: a fresh account.
EXISTING_ROLES: dict[str, tuple[str, str]] = {}


@answers_invoke("aws:iam/getRoles:getRoles")
def _roles(call: Invoke) -> dict[str, Any]:
    prefix = str(call.args.get("pathPrefix") or "/")
    names = sorted(n for n, (path, _) in EXISTING_ROLES.items() if path.startswith(prefix))
    return {
        "id": f"{ACCOUNT_ID}{prefix}",
        "names": names,
        "arns": [f"arn:aws:iam::{ACCOUNT_ID}:role{EXISTING_ROLES[n][0]}{n}" for n in names],
        "pathPrefix": prefix,
    }


@answers_invoke("aws:iam/getRole:getRole")
def _role(call: Invoke) -> dict[str, Any]:
    name = str(call.args["name"])
    if name not in EXISTING_ROLES:
        raise KeyError(f"no IAM role named {name} (NoSuchEntity)")
    path, trust = EXISTING_ROLES[name]
    return {
        "id": name,
        "name": name,
        "arn": f"arn:aws:iam::{ACCOUNT_ID}:role{path}{name}",
        "path": path,
        "assumeRolePolicy": trust,
        "description": "",
        "tags": {},
    }
