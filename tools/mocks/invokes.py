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

from tools.mocks.ids import ACCOUNT_ID, hex_id

AZ_ID_PREFIX = {"us-east-1": "use1", "us-west-2": "usw2", "eu-west-1": "euw1"}
AZ_COUNT = 6  # us-east-1 has six AZs, the most of any region
# The account Elastic Load Balancing delivers access logs from, by region; the us-east-1 one
# elsewhere. Source: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
ELB_LOG_DELIVERY_ACCOUNTS = {"us-east-1": "127311923021", "us-west-2": "797873946194"}


@dataclass(frozen=True, kw_only=True)
class Invoke:
    """One data source call: its arguments, and the region and AZ count it is answered for."""

    args: dict[str, Any]
    region: str
    az_count: int


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
        "arn": f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/deployer/session",
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
    letters = "abcdef"[: call.az_count]
    prefix = AZ_ID_PREFIX.get(region, region.replace("-", "")[:4])
    return {
        "id": region,
        "names": [f"{region}{c}" for c in letters],
        "zoneIds": [f"{prefix}-az{i + 1}" for i in range(len(letters))],
        "groupNames": [region] * len(letters),
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
