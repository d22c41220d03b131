"""ALB access logs (Security Hub ELB.5) and VPC flow logs (EC2.6): on in prod, off in dev, and
prod's log stores protected from deletion."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

from tools.mocks import ACCOUNT_ID, ProgramRun, load_stack_config, run_program

ROOT = Path(__file__).resolve().parent.parent


@cache
def plan(stack: str, preview: bool = False) -> ProgramRun:
    run = run_program(
        ROOT / "__main__.py",
        project="fargate-app",
        stack=stack,
        config=load_stack_config(ROOT, stack),
        preview=preview,
    )
    assert run.error is None, f"the program failed: {run.error}"
    return run


def test_dev_pays_for_neither_access_logs_nor_flow_logs():
    run = plan("dev")
    assert not run.of_type("aws:s3/bucket:Bucket")
    assert not run.of_type("aws:ec2/flowLog:FlowLog")
    alb = run.one("aws:lb/loadBalancer:LoadBalancer")
    assert not (alb.inputs.get("accessLogs") or {}).get("enabled")


@pytest.mark.parametrize("preview", [False, True])
def test_prod_load_balancer_writes_access_logs_to_its_bucket(preview):
    run = plan("prod", preview)
    alb = run.one("aws:lb/loadBalancer:LoadBalancer")
    bucket = run.one("aws:s3/bucket:Bucket")
    logs = alb.inputs["accessLogs"]
    assert logs["enabled"] is True
    assert logs["prefix"] == "alb"
    if not preview:
        assert logs["bucket"] == bucket.outputs["bucket"]
    policy = run.one("aws:s3/bucketPolicy:BucketPolicy")
    assert policy.urn in alb.depends_on, (
        "the ALB must wait for the bucket policy, or AWS refuses to enable access logs"
    )


def test_the_access_log_bucket_is_private_encrypted_and_expires_logs():
    run = plan("prod")
    block = run.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert all(
        block[k] is True
        for k in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
    ), block
    (rule,) = run.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    ).inputs["rules"]
    # ELB log delivery supports only SSE-S3.
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    ownership = run.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs
    assert ownership["rule"]["objectOwnership"] == "BucketOwnerEnforced"
    (lifecycle,) = run.one(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
    ).inputs["rules"]
    assert lifecycle["status"] == "Enabled" and lifecycle["expiration"]["days"] > 0


def test_the_bucket_policy_lets_only_elb_write_logs_and_refuses_plain_http():
    run = plan("prod")
    bucket = run.one("aws:s3/bucket:Bucket")
    statements = {
        s["Sid"]: s
        for s in json.loads(run.one("aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])[
            "Statement"
        ]
    }
    writers = [s for s in statements.values() if s["Effect"] == "Allow"]
    assert writers, "no statement lets ELB deliver logs"
    for statement in writers:
        assert statement["Action"] == "s3:PutObject"
        assert statement["Resource"] == f"{bucket.outputs['arn']}/alb/AWSLogs/{ACCOUNT_ID}/*"
    principals = [s["Principal"] for s in writers]
    assert {"AWS": "arn:aws:iam::127311923021:root"} in principals  # us-east-1's ELB account
    assert {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"} in principals
    deny = statements["DenyUnencryptedTransport"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {
        "Bool": {"aws:SecureTransport": "false"}
    }


def test_prod_vpc_records_all_traffic_to_cloudwatch_logs():
    run = plan("prod")
    flow = run.one("aws:ec2/flowLog:FlowLog")
    vpc = run.one("aws:ec2/vpc:Vpc")
    group = next(
        r for r in run.of_type("aws:cloudwatch/logGroup:LogGroup") if r.name == "network-flow-logs"
    )
    assert flow.inputs["vpcId"] == vpc.id
    assert flow.inputs["trafficType"] == "ALL"
    assert flow.inputs["logDestinationType"] == "cloud-watch-logs"
    assert flow.inputs["logDestination"] == group.outputs["arn"]
    assert group.inputs["retentionInDays"] >= 30


def test_the_flow_log_role_writes_only_to_its_log_group():
    run = plan("prod")
    role = next(r for r in run.of_type("aws:iam/role:Role") if r.name == "network-flow-logs")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT_ID}
    policy = next(
        r for r in run.of_type("aws:iam/rolePolicy:RolePolicy") if r.name == "network-flow-logs"
    )
    (statement,) = json.loads(policy.inputs["policy"])["Statement"]
    group_arn = next(
        r for r in run.of_type("aws:cloudwatch/logGroup:LogGroup") if r.name == "network-flow-logs"
    ).outputs["arn"]
    assert statement["Resource"] == [group_arn, f"{group_arn}:*"]
    assert all(not a.endswith("*") for a in statement["Action"]), statement["Action"]


@pytest.mark.parametrize(
    "type_token,name",
    [
        ("aws:s3/bucket:Bucket", "alb-logs-bucket"),
        ("aws:cloudwatch/logGroup:LogGroup", "network-flow-logs"),
    ],
)
def test_prod_log_stores_are_protected_from_deletion(type_token, name):
    resource = next(r for r in plan("prod").of_type(type_token) if r.name == name)
    assert resource.protect, f"{resource.urn} must be protected in prod"
    if type_token == "aws:s3/bucket:Bucket":
        assert resource.inputs["forceDestroy"] is False, "a protected bucket must keep its logs"


def test_prod_load_balancer_has_deletion_protection():
    alb = plan("prod").one("aws:lb/loadBalancer:LoadBalancer")
    assert alb.inputs["enableDeletionProtection"] is True
