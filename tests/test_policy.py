"""The security policy pack (policy/): each policy against passing and failing resources, the
whole pack against both committed stacks (and prod with a domain), and the pack loading as the CLI
runs it.

What a user relies on: a prod stack that violates a listed Security Hub control cannot be deployed
with `--policy-pack policy`; dev deploys with advisories for the controls it skips to save money.
Resources here are given as the engine hands them to policies: wire (camelCase) names, JSON strings
where the API takes JSON, through tests/policy_fixtures.py's emulation of the engine.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy import EnforcementLevel, StackValidationPolicy

from tests.policy_fixtures import (
    ADVISORY,
    MANDATORY,
    POLICIES,
    POLICY_DIR,
    Outcome,
    Res,
    check,
    evaluate,
    policy_named,
    resources_from_run,
)
from tools.mocks import UNKNOWN, ProgramRun, Secure, load_stack_config

ROOT = Path(__file__).resolve().parent.parent

TASK_DEF = "aws:ecs/taskDefinition:TaskDefinition"
SERVICE = "aws:ecs/service:Service"
TASK_SET = "aws:ecs/taskSet:TaskSet"
CLUSTER = "aws:ecs/cluster:Cluster"
REPO = "aws:ecr/repository:Repository"
ECR_LIFECYCLE = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
LB = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
RULE = "aws:lb/listenerRule:ListenerRule"
BUCKET = "aws:s3/bucket:Bucket"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
S3_LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
VPC = "aws:ec2/vpc:Vpc"
DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"

# The controls issues 4 and 14 list, and the container's non-root user (Security Hub ECS.20).
REQUIRED_CONTROLS = {
    "ECS.2",
    "ECS.16",
    "ECS.4",
    "ECS.5",
    "ECS.8",
    "ECS.9",
    "ECS.12",
    "ECS.20",
    "ECR.1",
    "ECR.2",
    "ECR.3",
    "ELB.1",
    "ELB.4",
    "ELB.5",
    "ELB.6",
    "EC2.2",
    "EC2.6",
    "EC2.13",
    "EC2.15",
    "EC2.18",
    "EC2.19",
    "IAM.1",
    "IAM.21",
    "KMS.4",
    "SNS.1",
    "SQS.1",
    "EFS.1",
    "EFS.2",
    "EFS.3",
    "EFS.4",
    # CloudFront and WAF (issue 17)
    "CloudFront.3",
    "CloudFront.6",
    "CloudFront.9",
    "CloudFront.10",
    "WAF.10",
    "WAF.11",
    "WAF.12",
}
CONTROL = re.compile(r"\b(?:ECS|ECR|ELB|EC2|IAM|KMS|SNS|SQS|CloudFront|WAF|EFS)\.\d+\b")
# Controls whose cost dev may skip: mandatory in prod, advisory elsewhere.
COSTED = (
    "ecs-cluster-container-insights",
    "elb-access-logs",
    "ec2-vpc-flow-logs",
    "sns-topic-encrypted",
    "efs-backups",
)


def names(outcome: Outcome) -> list[str]:
    return sorted({f.policy for f in outcome.findings})


def assert_passes(outcome: Outcome, what: str = "expected no violation") -> None:
    if outcome.findings:
        pytest.fail(f"{what}, got:\n{outcome.report()}", pytrace=False)


def assert_fails(outcome: Outcome, *, level: str = MANDATORY, count: int = 1) -> None:
    at_level = [f for f in outcome.findings if f.level == level]
    if len(at_level) != count or len(outcome.findings) != count:
        pytest.fail(
            f"expected exactly {count} {level} violation(s), got:\n{outcome.report()}",
            pytrace=False,
        )


# -- resources, valid unless a test changes them ---------------------------------------------------
def container(**overrides: Any) -> dict[str, Any]:
    """A container definition that meets every control, as the service component writes it."""
    base = {
        "name": "app",
        "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:" + "a" * 64,
        "essential": True,
        "user": "10001:10001",
        "readonlyRootFilesystem": True,
        "environment": [{"name": "LOG_LEVEL", "value": "info"}],
        "secrets": [{"name": "DB_PASSWORD", "valueFrom": "arn:aws:ssm:us-east-1:1:parameter/db"}],
        "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/app"}},
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def task_def(*containers: Mapping[str, Any], **props: Any) -> Res:
    return Res(
        TASK_DEF,
        {"containerDefinitions": json.dumps(list(containers or [container()])), **props},
        name="task",
    )


def cluster(insights: str | None = "enabled") -> Res:
    props = {"settings": [{"name": "containerInsights", "value": insights}]} if insights else {}
    return Res(CLUSTER, props, name="cluster")


def repo(**props: Any) -> Res:
    base = {"imageTagMutability": "IMMUTABLE", "imageScanningConfiguration": {"scanOnPush": True}}
    return Res(REPO, {**base, **props}, name="repo", outputs={**base, **props, "name": "app-repo"})


def ecr_lifecycle(repository: str = "app-repo", rules: int = 1) -> Res:
    policy = {
        "rules": [{"rulePriority": i + 1, "action": {"type": "expire"}} for i in range(rules)]
    }
    return Res(ECR_LIFECYCLE, {"repository": repository, "policy": json.dumps(policy)}, "repo-lc")


def alb(name: str = "alb", **props: Any) -> Res:
    base = {
        "loadBalancerType": "application",
        "dropInvalidHeaderFields": True,
        "enableDeletionProtection": True,
        "accessLogs": {"enabled": True, "bucket": "logs-bucket", "prefix": "alb"},
    }
    arn = f"arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/{name}/1"
    merged = {k: v for k, v in {**base, **props}.items() if v is not None}
    return Res(LB, merged, name=name, outputs={**merged, "arn": arn, "id": arn})


def listener(name: str, lb: Res, protocol: str, actions: list[dict[str, Any]], **props: Any) -> Res:
    arn = f"arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/{lb.name}/1/{name}"
    inputs = {
        "loadBalancerArn": lb.outputs["arn"],  # type: ignore[index]
        "protocol": protocol,
        "defaultActions": actions,
        **props,
    }
    return Res(LISTENER, inputs, name=name, outputs={**inputs, "arn": arn, "id": arn})


REDIRECT = {
    "type": "redirect",
    "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"},
}
NOT_FOUND = {
    "type": "fixed-response",
    "fixedResponse": {"statusCode": "404", "contentType": "text/plain"},
}
FORWARD = {
    "type": "forward",
    "targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/tg/1",
}
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


def https_stack(http_actions: list[dict[str, Any]] | None = None) -> list[Res]:
    lb = alb()
    return [
        lb,
        listener("https", lb, "HTTPS", [NOT_FOUND], certificateArn=CERT),
        listener("http", lb, "HTTP", http_actions if http_actions is not None else [REDIRECT]),
    ]


def rule(name: str, on: Res, actions: list[dict[str, Any]]) -> Res:
    return Res(RULE, {"listenerArn": on.outputs["arn"], "actions": actions}, name=name)  # type: ignore[index]


ELB_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "ElbDeliversAccessLogs",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::127311923021:root"},
            "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::logs-bucket/alb/AWSLogs/123456789012/*",
        }
    ],
}


def log_bucket_stack(**replace_parts: Res | None) -> list[Res]:
    """An ALB logging to a bucket that meets ELB.5; `replace_parts` swaps or drops one part."""
    parts: dict[str, Res | None] = {
        "lb": alb(),
        "bucket": Res(
            BUCKET, {}, name="logs", outputs={"bucket": "logs-bucket", "id": "logs-bucket"}
        ),
        "sse": Res(
            SSE,
            {
                "bucket": "logs-bucket",
                "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}],
            },
            name="sse",
        ),
        "pab": Res(
            PAB,
            {
                "bucket": "logs-bucket",
                "blockPublicAcls": True,
                "blockPublicPolicy": True,
                "ignorePublicAcls": True,
                "restrictPublicBuckets": True,
            },
            name="pab",
        ),
        "policy": Res(
            BUCKET_POLICY,
            {"bucket": "logs-bucket", "policy": json.dumps(ELB_POLICY)},
            name="policy",
        ),
        "lifecycle": Res(
            S3_LIFECYCLE,
            {
                "bucket": "logs-bucket",
                "rules": [{"id": "expire", "status": "Enabled", "expiration": {"days": 90}}],
            },
            name="lifecycle",
        ),
    }
    parts.update(replace_parts)
    return [r for r in parts.values() if r is not None]


def vpc(name: str = "vpc", vpc_id: str = "vpc-1") -> Res:
    return Res(
        VPC,
        {"cidrBlock": "10.0.0.0/16"},
        name=name,
        outputs={"id": vpc_id, "defaultSecurityGroupId": f"sg-default-{vpc_id}"},
    )


def default_sg(vpc_id: str = "vpc-1", **props: Any) -> Res:
    return Res(
        DEFAULT_SG,
        {"vpcId": vpc_id, **props},
        name=f"dsg-{vpc_id}",
        outputs={"vpcId": vpc_id, "id": f"sg-adopted-{vpc_id}", **props},
    )


def flow_log(vpc_id: str = "vpc-1", traffic: str = "ALL") -> Res:
    return Res(
        FLOW_LOG,
        {"vpcId": vpc_id, "trafficType": traffic, "logDestinationType": "cloud-watch-logs"},
        name=f"fl-{vpc_id}-{traffic}",
    )


# == the pack's shape ==============================================================================
def test_policy_names_are_unique_kebab_case() -> None:
    all_names = [p.name for p in POLICIES]
    assert len(all_names) == len(set(all_names)), f"duplicate policy names: {all_names}"
    bad = [n for n in all_names if not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", n)]
    assert not bad, f"policy names must be kebab-case: {bad}"


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
def test_every_policy_cites_its_control_in_its_description(policy: Any) -> None:
    cited = CONTROL.findall(policy.description)
    if policy.framework is None:
        # Not a Security Hub control: the description says which issue asked for it.
        assert re.match(r"Issue \d+ ", policy.description), policy.description
    else:
        assert cited, f"{policy.name}: the description names no control: {policy.description!r}"
        assert set(policy.framework.reference.split("/")) <= set(cited)
        assert policy.url.startswith("https://docs.aws.amazon.com/securityhub/")
    assert policy.remediation_steps


def test_every_listed_control_has_a_policy() -> None:
    cited = {c for p in POLICIES for c in CONTROL.findall(p.description)}
    assert cited >= REQUIRED_CONTROLS, f"no policy for {sorted(REQUIRED_CONTROLS - cited)}"


TWIN_SUFFIXES = ("-nonprod", "-waived")


def enforced_policies() -> list[Any]:
    """The mandatory policies, without their advisory twins."""
    return [p for p in POLICIES if not p.name.endswith(TWIN_SUFFIXES)]


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
def test_policies_are_mandatory_except_their_advisory_twins(policy: Any) -> None:
    if policy.name.endswith("-nonprod"):
        assert policy.enforcement_level == EnforcementLevel.ADVISORY
        twin = policy_named(policy.name.removesuffix("-nonprod"))
        assert twin.enforcement_level == EnforcementLevel.MANDATORY
        assert twin.name in COSTED
    elif policy.name.endswith("-waived"):
        assert policy.enforcement_level == EnforcementLevel.ADVISORY
        twin = policy_named(policy.name.removesuffix("-waived"))
        assert twin.enforcement_level == EnforcementLevel.MANDATORY
    else:
        assert policy.enforcement_level == EnforcementLevel.MANDATORY
        assert policy_named(policy.name + "-waived"), f"{policy.name} cannot be waived"


def test_the_readme_table_lists_every_policy() -> None:
    readme = (POLICY_DIR / "README.md").read_text()
    listed = set(re.findall(r"^\| [^|]+ \| `([a-z0-9-]+)` \|", readme, re.MULTILINE))
    mandatory = {p.name for p in enforced_policies()}
    assert listed == mandatory, f"README.md table out of step: {sorted(listed ^ mandatory)}"


def test_the_security_doc_lists_every_control_with_its_security_hub_id() -> None:
    """docs/security.md's table: each mandatory policy once, under the controls it cites."""
    doc = (ROOT / "docs" / "security.md").read_text()
    rows = re.findall(r"^\| ([^|]+) \| ([^|]+) \| [^|]+ \| [^|]+ \|$", doc, re.MULTILINE)
    listed: dict[str, str] = {}
    for controls, names in rows:
        for name in re.findall(r"`([a-z0-9-]+)`", names):
            listed[name] = controls
    mandatory = {p.name for p in enforced_policies()}
    assert set(listed) == mandatory, (
        f"docs/security.md out of step: {sorted(set(listed) ^ mandatory)}"
    )
    for policy in enforced_policies():
        cited = set(CONTROL.findall(policy.description))
        assert cited <= set(CONTROL.findall(listed[policy.name])), (
            f"docs/security.md lists {policy.name} under {listed[policy.name]!r}, "
            f"not {sorted(cited)}"
        )


def test_the_stack_config_accepts_waivers_of_exactly_the_packs_mandatory_policies() -> None:
    from stack_config import WAIVABLE_POLICIES

    assert set(WAIVABLE_POLICIES) == {p.name for p in enforced_policies()}, (
        "stack_config.WAIVABLE_POLICIES and the pack's mandatory policies differ: "
        f"{sorted(set(WAIVABLE_POLICIES) ^ {p.name for p in enforced_policies()})}"
    )


def test_the_pack_reads_waivers_from_the_setting_the_config_defines() -> None:
    from security_controls.environment import WAIVERS_SETTING

    from stack_config import SETTINGS_BY_KEY

    assert WAIVERS_SETTING in SETTINGS_BY_KEY


# == waivers =======================================================================================
WAIVER = {"ecs-container-non-root-user": "the vendor image runs as root"}


def root_task() -> Res:
    return task_def(container(user="0"))


def test_an_unwaived_control_fails_and_its_waived_twin_stands_aside() -> None:
    outcome = check("ecs-container-non-root-user", [root_task()], stack="prod")
    assert_fails(outcome)
    twin = check("ecs-container-non-root-user-waived", [root_task()], stack="prod")
    assert_passes(twin)
    assert twin.not_applicable, "the twin says the control is enforced"


def test_a_waived_control_is_reported_as_advisory_with_the_reason() -> None:
    policies = [
        policy_named("ecs-container-non-root-user"),
        policy_named("ecs-container-non-root-user-waived"),
    ]
    outcome = evaluate([root_task()], stack="prod", policies=policies, waivers=WAIVER)
    assert_fails(outcome, level=ADVISORY)
    (finding,) = outcome.findings
    assert finding.policy == "ecs-container-non-root-user-waived"
    assert "the vendor image runs as root" in finding.message, finding.message
    assert any("waived by the stack's policyWaivers" in r for _, r in outcome.not_applicable)


def test_a_waiver_of_one_control_leaves_the_others_enforced() -> None:
    privileged_root = task_def(container(user="0", privileged=True))
    outcome = evaluate([privileged_root], stack="prod", waivers=WAIVER)
    mandatory = sorted({f.policy for f in outcome.findings if f.level == MANDATORY})
    assert mandatory == ["ecs-container-not-privileged"], outcome.report()


def test_a_pack_run_without_the_stack_config_waives_nothing() -> None:
    assert_fails(check("ecs-container-non-root-user", [root_task()], stack="prod", waivers=None))


# == prod or not ===================================================================================
PUBLIC_SERVICE = Res(SERVICE, {"networkConfiguration": {"assignPublicIp": True, "subnets": ["s"]}})


def test_prod_only_policy_applies_in_the_prod_stack() -> None:
    assert_fails(check("ecs-no-public-ip", [PUBLIC_SERVICE], stack="prod"))


def test_prod_only_policy_is_not_applicable_in_dev() -> None:
    outcome = check("ecs-no-public-ip", [PUBLIC_SERVICE], stack="dev")
    assert_passes(outcome)
    assert outcome.not_applicable == [
        ("ecs-no-public-ip", "stack 'dev' is not a production stack (prodStacks: prod)")
    ]


def test_prod_stacks_come_from_policy_config() -> None:
    config = {"prodStacks": ["production", "prod-eu"]}
    assert_fails(check("ecs-no-public-ip", [PUBLIC_SERVICE], stack="prod-eu", config=config))
    assert_passes(check("ecs-no-public-ip", [PUBLIC_SERVICE], stack="prod", config=config))


def test_a_pack_run_without_a_stack_name_applies_prod_rules() -> None:
    assert_fails(check("ecs-no-public-ip", [PUBLIC_SERVICE], stack=None))


@pytest.mark.parametrize("name", COSTED)
def test_costed_controls_are_advisory_outside_prod(name: str) -> None:
    failing = {
        "ecs-cluster-container-insights": [cluster(insights="disabled")],
        "elb-access-logs": [alb(accessLogs=None)],
        "ec2-vpc-flow-logs": [vpc(), default_sg()],
        "sns-topic-encrypted": [Res("aws:sns/topic:Topic", {}, name="topic")],
        "efs-backups": [Res(EFS, {"encrypted": True}, name="shared-efs")],
    }[name]
    prod = evaluate(
        failing, stack="prod", policies=[policy_named(name), policy_named(name + "-nonprod")]
    )
    dev = evaluate(
        failing, stack="dev", policies=[policy_named(name), policy_named(name + "-nonprod")]
    )
    assert [(f.policy, f.level) for f in prod.findings] == [(name, MANDATORY)], prod.report()
    assert [(f.policy, f.level) for f in dev.findings] == [(name + "-nonprod", ADVISORY)], (
        dev.report()
    )


# == ECS ===========================================================================================
@pytest.mark.parametrize("typ", [SERVICE, TASK_SET])
@pytest.mark.parametrize(
    ("assign", "fails"), [(True, True), ("true", True), (False, False), (None, False)]
)
def test_ecs_2_16_no_public_ip_in_prod(typ: str, assign: Any, fails: bool) -> None:
    network = {"subnets": ["subnet-1"], "assignPublicIp": assign}
    outcome = check("ecs-no-public-ip", [Res(typ, {"networkConfiguration": network})])
    if fails:
        assert_fails(outcome)
        assert "natGateways" in outcome.findings[0].message
    else:
        assert_passes(outcome)


@pytest.mark.parametrize(("privileged", "fails"), [(True, True), (False, False), (None, False)])
def test_ecs_4_not_privileged(privileged: Any, fails: bool) -> None:
    outcome = check("ecs-container-not-privileged", [task_def(container(privileged=privileged))])
    assert_fails(outcome) if fails else assert_passes(outcome)


def test_ecs_4_names_the_privileged_container_among_several() -> None:
    outcome = check(
        "ecs-container-not-privileged",
        [task_def(container(), container(name="sidecar", privileged=True))],
    )
    assert_fails(outcome)
    assert "'sidecar'" in outcome.findings[0].message


@pytest.mark.parametrize(("read_only", "fails"), [(True, False), (False, True), (None, True)])
def test_ecs_5_read_only_root_filesystem(read_only: Any, fails: bool) -> None:
    outcome = check(
        "ecs-container-read-only-root", [task_def(container(readonlyRootFilesystem=read_only))]
    )
    assert_fails(outcome) if fails else assert_passes(outcome)


@pytest.mark.parametrize(
    "variable",
    [
        {"name": "DB_PASSWORD", "value": "hunter2"},
        {"name": "api_token", "value": "x"},
        {"name": "CLIENT_SECRET", "value": "x"},
        {"name": "STRIPE_KEY", "value": "x"},
        {"name": "AWS_ACCESS_KEY_ID", "value": "AKIAIOSFODNN7EXAMPLE"},
        {"name": "ECS_ENGINE_AUTH_DATA", "value": '{"registry": {"auth": "x"}}'},
        {"name": "UPSTREAM", "value": "AKIAIOSFODNN7EXAMPLE"},
        {"name": "CREDS", "value": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
    ],
    ids=lambda v: v["name"],
)
def test_ecs_8_secret_looking_environment_variables_fail(variable: dict[str, str]) -> None:
    outcome = check("ecs-no-secrets-in-environment", [task_def(container(environment=[variable]))])
    assert_fails(outcome)
    assert variable["name"] in outcome.findings[0].message


@pytest.mark.parametrize(
    "variable",
    [
        {"name": "LOG_LEVEL", "value": "debug"},
        {"name": "GIT_SHA", "value": "3f786850e387550fdab836ed7e6dc881de23001b"},
        {"name": "HEALTH_CHECK_PATH", "value": "/health"},
    ],
    ids=lambda v: v["name"],
)
def test_ecs_8_ordinary_environment_variables_pass(variable: dict[str, str]) -> None:
    outcome = check("ecs-no-secrets-in-environment", [task_def(container(environment=[variable]))])
    assert_passes(outcome)


def test_ecs_8_the_pack_and_the_stack_config_refuse_the_same_names() -> None:
    """The pack installs on its own, so it keeps its own copy of what the config refuses in env."""
    from security_controls import ecs

    import stack_config

    assert ecs.SECRET_NAME_PARTS == stack_config.SECRET_NAME_PARTS
    assert ecs.SECRET_NAME_WORDS == stack_config.SECRET_NAME_WORDS
    assert ecs.SECRET_NAMES == stack_config.SECRET_ENV_NAMES


@pytest.mark.parametrize(
    "name",
    ["DB_PASS", "DB_PWD", "PASSWD", "API_CREDENTIALS", "AWS_CREDS", "PASSTHROUGH", "COMPASS_URL"],
)
def test_ecs_8_the_pack_flags_exactly_the_names_the_stack_config_refuses(name: str) -> None:
    """Reading the names the same way, not only listing the same words: DB_PASS is a password,
    PASSTHROUGH is not."""
    from stack_config import ConfigError, load_config

    try:
        load_config({"aws:region": "us-east-1", "env": {name: "hunter2hunter2"}}, stack="test")
        refused = False
    except ConfigError as err:
        refused = any(p.startswith(f"env.{name}:") for p in err.problems)
    env = [{"name": name, "value": "hunter2hunter2"}]
    flagged = bool(
        check("ecs-no-secrets-in-environment", [task_def(container(environment=env))]).findings
    )
    expected = name not in ("PASSTHROUGH", "COMPASS_URL")
    should = "refuse" if expected else "accept"
    assert (refused, flagged) == (expected, expected), (
        f"{name}: the config {'refuses' if refused else 'accepts'} it, the pack "
        f"{'flags' if flagged else 'passes'} it; both should {should} it"
    )


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("command", ["psql", "postgresql://app:s3cret@db/app"]),
        ("entryPoint", ["/bin/sh", "-c", "exec app --db=postgres://u:p@db/app"]),
        ("dockerLabels", {"backup": "mysql://root:hunter2@db/x"}),
        ("command", ["aws", "--key", "AKIAIOSFODNN7EXAMPLE"]),
    ],
    ids=["command", "entry-point", "docker-label", "access-key-in-command"],
)
def test_ecs_8_credentials_in_the_command_entry_point_or_labels_fail(key: str, value: Any) -> None:
    outcome = check("ecs-no-secrets-in-environment", [task_def(container(**{key: value}))])
    assert_fails(outcome)
    assert key in outcome.findings[0].message, outcome.report()


def test_ecs_8_an_ordinary_command_passes() -> None:
    command = ["gunicorn", "--bind", "0.0.0.0:8000", "https://example.com:8443/users/@me"]
    assert_passes(check("ecs-no-secrets-in-environment", [task_def(container(command=command))]))


def test_ecs_8_secrets_passed_through_secrets_pass() -> None:
    # container() passes DB_PASSWORD through `secrets`, which is what ECS.8 asks for.
    assert_passes(check("ecs-no-secrets-in-environment", [task_def()]))


@pytest.mark.parametrize(
    ("log_configuration", "fails"),
    [
        ({"logDriver": "awslogs", "options": {"awslogs-group": "g"}}, False),
        ({"options": {"awslogs-group": "g"}}, True),
        (None, True),
    ],
)
def test_ecs_9_every_container_logs(log_configuration: Any, fails: bool) -> None:
    outcome = check(
        "ecs-container-logging", [task_def(container(logConfiguration=log_configuration))]
    )
    assert_fails(outcome) if fails else assert_passes(outcome)


@pytest.mark.parametrize(
    ("user", "fails"),
    [
        ("10001:10001", False),
        ("app", False),
        ("1000", False),
        (None, True),
        ("", True),
        ("root", True),
        ("0", True),
        ("0:0", True),
        ("root:app", True),
    ],
)
def test_ecs_20_containers_run_as_a_non_root_user(user: Any, fails: bool) -> None:
    outcome = check("ecs-container-non-root-user", [task_def(container(user=user))])
    assert_fails(outcome) if fails else assert_passes(outcome)


def test_ecs_20_does_not_apply_to_windows_containers() -> None:
    windows = task_def(
        container(user=None), runtimePlatform={"operatingSystemFamily": "WINDOWS_SERVER_2022_CORE"}
    )
    assert_passes(check("ecs-container-non-root-user", [windows]))


@pytest.mark.parametrize(
    ("insights", "fails"),
    [("enabled", False), ("enhanced", False), ("disabled", True), (None, True)],
)
def test_ecs_12_container_insights_in_prod(insights: str | None, fails: bool) -> None:
    outcome = check("ecs-cluster-container-insights", [cluster(insights)])
    assert_fails(outcome) if fails else assert_passes(outcome)


def test_task_definition_unknown_in_preview_is_reported_as_cannot_run() -> None:
    """The image digest is unknown until the image is pushed: the engine says the policy cannot
    run during the preview (advisory), and it runs for real during `pulumi up`."""
    unknown = Res(TASK_DEF, {"containerDefinitions": UNKNOWN}, name="task")
    outcome = check("ecs-container-not-privileged", [unknown])
    assert_fails(outcome, level=ADVISORY)
    assert "can't run during preview" in outcome.findings[0].message


# == ECR ===========================================================================================
@pytest.mark.parametrize(
    ("scan", "fails"), [({"scanOnPush": True}, False), ({"scanOnPush": False}, True), (None, True)]
)
def test_ecr_1_scan_on_push(scan: Any, fails: bool) -> None:
    props = {"imageScanningConfiguration": scan} if scan is not None else {}
    outcome = check("ecr-scan-on-push", [Res(REPO, props)])
    assert_fails(outcome) if fails else assert_passes(outcome)


@pytest.mark.parametrize(
    ("mutability", "fails"),
    [("IMMUTABLE", False), ("MUTABLE", True), ("IMMUTABLE_WITH_EXCLUSION", True), (None, True)],
)
def test_ecr_2_immutable_tags(mutability: str | None, fails: bool) -> None:
    props = {"imageTagMutability": mutability} if mutability else {}
    outcome = check("ecr-immutable-tags", [Res(REPO, props)])
    assert_fails(outcome) if fails else assert_passes(outcome)


def test_ecr_3_repository_with_a_lifecycle_policy_passes() -> None:
    assert_passes(check("ecr-lifecycle-policy", [repo(), ecr_lifecycle()]))


def test_ecr_3_repository_without_a_lifecycle_policy_fails_on_the_repository() -> None:
    outcome = check("ecr-lifecycle-policy", [repo()])
    assert_fails(outcome)
    assert outcome.findings[0].urn == repo().the_urn


def test_ecr_3_another_repositorys_lifecycle_policy_does_not_count() -> None:
    assert_fails(check("ecr-lifecycle-policy", [repo(), ecr_lifecycle(repository="other-repo")]))


def test_ecr_3_lifecycle_policy_without_rules_fails() -> None:
    outcome = check("ecr-lifecycle-policy", [repo(), ecr_lifecycle(rules=0)])
    assert_fails(outcome)
    assert "no rules" in outcome.findings[0].message


def test_ecr_3_links_by_the_engines_record_when_names_are_unknown() -> None:
    """In a preview of a new stack the repository's name is unknown; the engine records that the
    lifecycle policy's `repository` was computed from the repository."""
    new_repo = replace(repo(), outputs={"name": UNKNOWN, "arn": UNKNOWN})
    policy = Res(
        ECR_LIFECYCLE,
        {"repository": UNKNOWN, "policy": UNKNOWN},
        name="repo-lc",
        prop_deps={"repository": ["repo"]},
    )
    assert_passes(check("ecr-lifecycle-policy", [new_repo, policy]))


# == ELB ===========================================================================================
def test_elb_1_http_redirecting_to_https_passes() -> None:
    assert_passes(check("elb-http-redirects-to-https", https_stack()))


@pytest.mark.parametrize(
    "actions",
    [
        [NOT_FOUND],
        [FORWARD],
        [{"type": "redirect", "redirect": {"protocol": "#{protocol}", "port": "443"}}],
        [],
    ],
    ids=["fixed-response", "forward", "redirect-keeping-http", "no-action"],
)
def test_elb_1_http_listener_that_does_not_redirect_fails(actions: list[dict[str, Any]]) -> None:
    outcome = check("elb-http-redirects-to-https", https_stack(actions))
    assert_fails(outcome)
    assert outcome.findings[0].urn.endswith("::http")


def test_elb_1_http_only_load_balancer_is_not_required_to_redirect() -> None:
    lb = alb()
    assert_passes(
        check("elb-http-redirects-to-https", [lb, listener("http", lb, "HTTP", [NOT_FOUND])])
    )


def test_elb_1_forwarding_rule_left_on_the_http_listener_fails() -> None:
    lb, https, http = https_stack()
    outcome = check("elb-http-redirects-to-https", [lb, https, http, rule("app", http, [FORWARD])])
    assert_fails(outcome)
    assert outcome.findings[0].urn.endswith("::app")


@pytest.mark.parametrize(
    "actions",
    [
        [NOT_FOUND],
        [{"type": "redirect", "redirect": {"protocol": "HTTP", "port": "8080"}}],
        [{"type": "authenticate-oidc", "authenticateOidc": {}}, FORWARD],
    ],
    ids=["fixed-response", "redirect-to-http", "authenticate-then-forward"],
)
def test_elb_1_any_rule_on_the_http_listener_that_answers_requests_fails(
    actions: list[dict[str, Any]],
) -> None:
    lb, https, http = https_stack()
    outcome = check("elb-http-redirects-to-https", [lb, https, http, rule("r", http, actions)])
    assert_fails(outcome)
    assert outcome.findings[0].urn.endswith("::r"), "the finding should name the rule"


def test_elb_1_a_rule_on_the_http_listener_redirecting_to_https_passes() -> None:
    lb, https, http = https_stack()
    resources = [lb, https, http, rule("to-https", http, [REDIRECT])]
    assert_passes(check("elb-http-redirects-to-https", resources))


def test_elb_1_forwarding_rule_on_the_https_listener_passes() -> None:
    lb, https, http = https_stack()
    assert_passes(
        check("elb-http-redirects-to-https", [lb, https, http, rule("app", https, [FORWARD])])
    )


def test_elb_1_another_load_balancers_certificate_does_not_apply() -> None:
    secure, plain = alb("secure"), alb("plain")
    resources = [
        secure,
        listener("secure-https", secure, "HTTPS", [NOT_FOUND], certificateArn=CERT),
        listener("secure-http", secure, "HTTP", [REDIRECT]),
        plain,
        listener("plain-http", plain, "HTTP", [FORWARD]),
    ]
    assert_passes(check("elb-http-redirects-to-https", resources))


@pytest.mark.parametrize(
    ("props", "fails"),
    [
        ({"dropInvalidHeaderFields": True}, False),
        ({"dropInvalidHeaderFields": False}, True),
        ({}, True),
        ({"loadBalancerType": "network"}, False),
    ],
)
def test_elb_4_drop_invalid_header_fields(props: dict[str, Any], fails: bool) -> None:
    lb = Res(LB, props)
    outcome = check("elb-drop-invalid-headers", [lb])
    assert_fails(outcome) if fails else assert_passes(outcome)


@pytest.mark.parametrize(
    ("access_logs", "fails"),
    [
        ({"enabled": True, "bucket": "logs-bucket"}, False),
        ({"enabled": True, "bucket": UNKNOWN}, False),
        ({"enabled": False, "bucket": "logs-bucket"}, True),
        ({"enabled": True, "bucket": ""}, True),
        (None, True),
    ],
)
def test_elb_5_access_logs_in_prod(access_logs: Any, fails: bool) -> None:
    outcome = check("elb-access-logs", [alb(accessLogs=access_logs)])
    assert_fails(outcome) if fails else assert_passes(outcome)


def test_elb_5_compliant_access_log_bucket_passes() -> None:
    assert_passes(check("elb-access-log-bucket", log_bucket_stack()))


def test_elb_5_bucket_links_through_the_engines_record_in_a_preview() -> None:
    lb = alb(accessLogs={"enabled": True, "bucket": UNKNOWN})
    lb = replace(lb, prop_deps={"accessLogs": ["logs"]})
    bucket = Res(BUCKET, {}, name="logs", outputs={"bucket": UNKNOWN, "id": UNKNOWN})
    parts = {
        k: replace(r, props={**r.props, "bucket": UNKNOWN}, prop_deps={"bucket": ["logs"]})
        for k, r in zip(("sse", "pab", "policy", "lifecycle"), log_bucket_stack()[2:], strict=True)
    }
    assert_passes(check("elb-access-log-bucket", log_bucket_stack(lb=lb, bucket=bucket, **parts)))


@pytest.mark.parametrize(
    ("part", "replacement", "problem"),
    [
        ("sse", None, "not encrypted"),
        (
            "sse",
            Res(
                SSE,
                {
                    "bucket": "logs-bucket",
                    "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}],
                },
                name="sse",
            ),
            "not encrypted",
        ),
        ("pab", None, "not private"),
        (
            "pab",
            Res(
                PAB,
                {
                    "bucket": "logs-bucket",
                    "blockPublicAcls": True,
                    "blockPublicPolicy": False,
                    "ignorePublicAcls": True,
                    "restrictPublicBuckets": True,
                },
                name="pab",
            ),
            "not private",
        ),
        ("policy", None, "no bucket policy"),
        (
            "policy",
            Res(
                BUCKET_POLICY,
                {
                    "bucket": "logs-bucket",
                    "policy": json.dumps(
                        {
                            "Statement": [
                                {
                                    **ELB_POLICY["Statement"][0],
                                    "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                                }
                            ]
                        }
                    ),
                },
                name="policy",
            ),
            "no bucket policy",
        ),
        (
            "policy",
            Res(
                BUCKET_POLICY,
                {
                    "bucket": "logs-bucket",
                    "policy": json.dumps(
                        {"Statement": [{**ELB_POLICY["Statement"][0], "Effect": "Deny"}]}
                    ),
                },
                name="policy",
            ),
            "no bucket policy",
        ),
        ("lifecycle", None, "keeps logs forever"),
        (
            "lifecycle",
            Res(
                S3_LIFECYCLE,
                {
                    "bucket": "logs-bucket",
                    "rules": [{"id": "x", "status": "Disabled", "expiration": {"days": 90}}],
                },
                name="lifecycle",
            ),
            "keeps logs forever",
        ),
        (
            "sse",
            Res(
                SSE,
                {
                    "bucket": "another-bucket",
                    "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}],
                },
                name="sse",
            ),
            "not encrypted",
        ),
    ],
    ids=[
        "no-encryption",
        "sse-kms",
        "no-public-access-block",
        "public-access-partly-blocked",
        "no-bucket-policy",
        "policy-for-another-account",
        "policy-denies",
        "no-lifecycle",
        "lifecycle-disabled",
        "encryption-of-another-bucket",
    ],
)
def test_elb_5_access_log_bucket_problems(part: str, replacement: Res | None, problem: str) -> None:
    outcome = check("elb-access-log-bucket", log_bucket_stack(**{part: replacement}))
    assert_fails(outcome)
    assert problem in outcome.findings[0].message
    assert outcome.findings[0].urn.endswith("::logs")


def test_elb_5_log_delivery_service_principal_is_accepted() -> None:
    statement = {
        **ELB_POLICY["Statement"][0],
        "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
    }
    policy = Res(
        BUCKET_POLICY,
        {"bucket": "logs-bucket", "policy": json.dumps({"Statement": [statement]})},
        name="policy",
    )
    assert_passes(check("elb-access-log-bucket", log_bucket_stack(policy=policy)))


def test_elb_5_bucket_outside_the_stack_fails_on_the_load_balancer() -> None:
    outcome = check("elb-access-log-bucket", [alb()])
    assert_fails(outcome)
    assert "does not manage" in outcome.findings[0].message
    assert outcome.findings[0].urn.endswith("::alb")


def test_elb_5_no_bucket_checks_without_access_logs() -> None:
    assert_passes(check("elb-access-log-bucket", [alb(accessLogs={"enabled": False})]))


@pytest.mark.parametrize(
    ("props", "fails"),
    [
        ({"enableDeletionProtection": True}, False),
        ({"enableDeletionProtection": False}, True),
        ({}, True),
        ({"loadBalancerType": "network"}, True),
    ],
)
def test_elb_6_deletion_protection_in_prod(props: dict[str, Any], fails: bool) -> None:
    outcome = check("elb-deletion-protection", [Res(LB, props)])
    assert_fails(outcome) if fails else assert_passes(outcome)


def test_elb_6_not_applied_in_dev() -> None:
    assert_passes(check("elb-deletion-protection", [Res(LB, {})], stack="dev"))


# == EC2 ===========================================================================================
@pytest.mark.parametrize(
    ("props", "fails"),
    [
        ({}, False),
        ({"ingress": [], "egress": []}, False),
        ({"ingress": [{"protocol": "-1", "fromPort": 0, "toPort": 0, "self": True}]}, True),
        (
            {
                "egress": [
                    {"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}
                ]
            },
            True,
        ),
    ],
)
def test_ec2_2_default_security_group_has_no_rules(props: dict[str, Any], fails: bool) -> None:
    outcome = check("ec2-default-sg-no-rules", [Res(DEFAULT_SG, {"vpcId": "vpc-1", **props})])
    assert_fails(outcome) if fails else assert_passes(outcome)


def test_ec2_2_vpc_with_its_default_security_group_adopted_passes() -> None:
    assert_passes(check("ec2-default-sg-closed", [vpc(), default_sg()]))


def test_ec2_2_vpc_without_an_adopted_default_security_group_fails() -> None:
    outcome = check("ec2-default-sg-closed", [vpc(), vpc("other", "vpc-2"), default_sg("vpc-2")])
    assert_fails(outcome)
    assert outcome.findings[0].urn.endswith("::vpc")


@pytest.mark.parametrize(
    "rule_type",
    [
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
        "aws:ec2/securityGroupRule:SecurityGroupRule",
    ],
)
@pytest.mark.parametrize("target", ["sg-default-vpc-1", "sg-adopted-vpc-1"])
def test_ec2_2_rule_opening_the_default_security_group_fails(rule_type: str, target: str) -> None:
    opening = Res(rule_type, {"securityGroupId": target, "ipProtocol": "-1"}, name="opening")
    outcome = check("ec2-default-sg-closed", [vpc(), default_sg(), opening])
    assert_fails(outcome)
    assert outcome.findings[0].urn.endswith("::opening")


def test_ec2_2_rules_on_other_security_groups_pass() -> None:
    other = Res(
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        {"securityGroupId": "sg-app"},
        name="app",
    )
    assert_passes(check("ec2-default-sg-closed", [vpc(), default_sg(), other]))


@pytest.mark.parametrize(
    ("traffic", "fails"), [("ALL", False), ("REJECT", False), ("ACCEPT", True)]
)
def test_ec2_6_vpc_flow_logs_in_prod(traffic: str, fails: bool) -> None:
    outcome = check("ec2-vpc-flow-logs", [vpc(), flow_log(traffic=traffic)])
    assert_fails(outcome) if fails else assert_passes(outcome)


def test_ec2_6_each_vpc_needs_its_own_flow_log() -> None:
    outcome = check("ec2-vpc-flow-logs", [vpc(), vpc("other", "vpc-2"), flow_log("vpc-2")])
    assert_fails(outcome)
    assert outcome.findings[0].urn.endswith("::vpc")


# == protection (issue 4) ==========================================================================
@pytest.mark.parametrize("typ", [REPO, LOG_GROUP, BUCKET])
@pytest.mark.parametrize("protect", [True, False])
def test_prod_stateful_resources_are_protected(typ: str, protect: bool) -> None:
    outcome = check("prod-stateful-resources-protected", [Res(typ, {}, protect=protect)])
    assert_passes(outcome) if protect else assert_fails(outcome)


def test_protection_is_not_required_in_dev_or_of_stateless_resources() -> None:
    assert_passes(check("prod-stateful-resources-protected", [Res(REPO, {})], stack="dev"))
    assert_passes(check("prod-stateful-resources-protected", [Res(LB, {})], stack="prod"))


# == issue 14: what the pack used to let through ===================================================
# -- added Linux capabilities ---------------------------------------------------------------------
@pytest.mark.parametrize("capability", ["SYS_ADMIN", "SYS_PTRACE", "CAP_NET_ADMIN"])
def test_an_added_linux_capability_fails(capability: str) -> None:
    linux = {"capabilities": {"add": [capability], "drop": ["ALL"]}}
    outcome = check("ecs-no-added-capabilities", [task_def(container(linuxParameters=linux))])
    assert_fails(outcome)
    assert capability.removeprefix("CAP_") in outcome.findings[0].message


def test_a_capability_fargate_rejects_is_called_out() -> None:
    linux = {"capabilities": {"add": ["SYS_ADMIN"]}}
    outcome = check("ecs-no-added-capabilities", [task_def(container(linuxParameters=linux))])
    assert "Fargate rejects it" in outcome.findings[0].message, outcome.report()


@pytest.mark.parametrize(
    "linux",
    [None, {"capabilities": {"drop": ["ALL"]}}, {"capabilities": {"add": []}}],
    ids=["no-linux-parameters", "drop-all", "empty-add"],
)
def test_containers_that_add_no_capability_pass(linux: Any) -> None:
    outcome = check("ecs-no-added-capabilities", [task_def(container(linuxParameters=linux))])
    assert_passes(outcome)


# -- credentials in env values (ECS.8) ------------------------------------------------------------
@pytest.mark.parametrize(
    "value",
    [
        "postgres://app:s3cret@db.internal:5432/app",
        "redis://:s3cret@cache.internal:6379/0",
        "postgresql://app:pa/ss@db.internal/app",
        "amqp://guest:guest@mq:5672/",
        "Server=db;User Id=app;Password=s3cret;",
        "host=db user=app password=s3cret",
    ],
)
def test_ecs_8_a_password_inside_an_env_value_fails(value: str) -> None:
    env = [{"name": "DATABASE_URL", "value": value}]
    outcome = check("ecs-no-secrets-in-environment", [task_def(container(environment=env))])
    assert_fails(outcome)
    assert "DATABASE_URL" in outcome.findings[0].message


@pytest.mark.parametrize(
    "value",
    [
        "postgres://app@db.internal:5432/app",
        "https://api.example.com/v1?page=2",
        "https://api.example.com:8443/users/@me",
        "http://[::1]:8080/health",
        "password-reset",
    ],
)
def test_ecs_8_urls_and_values_without_a_password_pass(value: str) -> None:
    env = [{"name": "UPSTREAM_URL", "value": value}]
    outcome = check("ecs-no-secrets-in-environment", [task_def(container(environment=env))])
    assert_passes(outcome)


# -- security groups open to the world (EC2.18, EC2.19, EC2.13) ----------------------------------
SG = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"


def security_group(name: str, **props: Any) -> Res:
    return Res(SG, props, name=name, outputs={**props, "id": f"sg-{name}"})


def world_ingress(name: str, group: str, protocol: str, port: int | None, **props: Any) -> Res:
    rule = {"securityGroupId": f"sg-{group}", "ipProtocol": protocol, "cidrIpv4": "0.0.0.0/0"}
    if port is not None:
        rule.update(fromPort=port, toPort=port)
    return Res(INGRESS, {**rule, **props}, name=name)


def public_lb_stack(*rules: Res, listen_on: tuple[int, ...] = (80,)) -> list[Res]:
    """A load balancer in its own group listening on `listen_on`, a task group, and `rules`."""
    lb = alb(securityGroups=["sg-lb"])
    listeners = [listener(f"l{p}", lb, "HTTP", [NOT_FOUND], port=p) for p in listen_on]
    return [lb, *listeners, security_group("lb"), security_group("tasks"), *rules]


def test_the_load_balancers_listener_ports_may_be_open_to_the_world() -> None:
    rules = [
        world_ingress("lb-http", "lb", "tcp", 80),
        world_ingress("lb-http6", "lb", "tcp", 80, cidrIpv4=None, cidrIpv6="::/0"),
    ]
    assert_passes(check("ec2-sg-open-only-on-listener-ports", public_lb_stack(*rules)))


@pytest.mark.parametrize(
    ("group", "protocol", "port"),
    [
        ("lb", "tcp", 22),
        ("lb", "-1", None),
        ("tasks", "tcp", 80),
        ("tasks", "tcp", 22),
        ("lb", "udp", 80),
    ],
    ids=["ssh-on-the-lb", "all-traffic", "listener-port-on-another-group", "ssh", "udp"],
)
def test_a_group_open_to_the_world_beyond_the_listener_ports_fails(
    group: str, protocol: str, port: int | None
) -> None:
    rule = world_ingress("open", group, protocol, port)
    outcome = check("ec2-sg-open-only-on-listener-ports", public_lb_stack(rule))
    assert_fails(outcome)
    assert outcome.findings[0].urn.endswith("::open")


@pytest.mark.parametrize("protocol", ["47", "50", "132"], ids=["gre", "esp", "sctp"])
def test_a_protocol_other_than_tcp_udp_or_icmp_open_to_the_world_fails(protocol: str) -> None:
    """Such a protocol is open on every port whatever the rule says, even on the load balancer's
    group, so no listener can excuse it."""
    rule = world_ingress("open", "lb", protocol, None)
    outcome = check("ec2-sg-open-only-on-listener-ports", public_lb_stack(rule))
    assert_fails(outcome)
    assert f"protocol {protocol}" in outcome.findings[0].message, outcome.report()


@pytest.mark.parametrize("protocol", ["icmp", "1", "icmpv6", "58"])
def test_icmp_open_to_the_world_is_not_looked_at(protocol: str) -> None:
    rule = world_ingress("ping", "tasks", protocol, None, fromPort=-1, toPort=-1)
    assert_passes(check("ec2-sg-open-only-on-listener-ports", public_lb_stack(rule)))


def test_a_port_range_wider_than_the_listeners_fails() -> None:
    rule = world_ingress("range", "lb", "tcp", None, fromPort=80, toPort=443)
    outcome = check(
        "ec2-sg-open-only-on-listener-ports", public_lb_stack(rule, listen_on=(80, 443))
    )
    assert_fails(outcome)


def test_inline_and_legacy_rules_open_to_the_world_fail_too() -> None:
    inline = security_group(
        "inline",
        ingress=[{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}],
    )
    legacy = Res(
        SG_RULE,
        {
            "type": "ingress",
            "securityGroupId": "sg-tasks",
            "protocol": "tcp",
            "fromPort": 22,
            "toPort": 22,
            "cidrBlocks": ["0.0.0.0/0"],
        },
        name="legacy",
    )
    outcome = check("ec2-sg-open-only-on-listener-ports", public_lb_stack(inline, legacy))
    assert sorted(f.urn.rsplit("::", 1)[-1] for f in outcome.findings) == ["inline", "legacy"], (
        outcome.report()
    )


def test_the_world_beside_a_cidr_not_known_yet_still_fails() -> None:
    inline = security_group(
        "tasks",
        ingress=[
            {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": [UNKNOWN, "0.0.0.0/0"]}
        ],
    )
    outcome = check("ec2-sg-open-only-on-listener-ports", [*public_lb_stack()[:-1], inline])
    assert_fails(outcome)


@pytest.mark.parametrize("cidr", ["0::/0", "0:0:0:0:0:0:0:0/0", "::0/0", "10.1.2.3/0"])
def test_the_world_however_spelled_fails(cidr: str) -> None:
    source = {"cidrIpv4": None, "cidrIpv6": cidr} if ":" in cidr else {"cidrIpv4": cidr}
    rule = world_ingress("open", "tasks", "tcp", 22, **source)
    outcome = check("ec2-sg-open-only-on-listener-ports", public_lb_stack(rule))
    assert_fails(outcome)


def test_a_narrower_source_than_the_world_passes() -> None:
    rule = world_ingress("office", "tasks", "tcp", 22, cidrIpv4="203.0.113.0/24")
    assert_passes(check("ec2-sg-open-only-on-listener-ports", public_lb_stack(rule)))


def test_the_load_balancers_group_links_through_the_engines_record_in_a_preview() -> None:
    lb = replace(alb(securityGroups=UNKNOWN), prop_deps={"securityGroups": ["lb"]}, outputs=None)
    lb = replace(lb, outputs={**lb.props, "arn": UNKNOWN})
    http = Res(
        LISTENER,
        {"loadBalancerArn": UNKNOWN, "protocol": "HTTP", "port": 80, "defaultActions": [NOT_FOUND]},
        name="http",
        prop_deps={"loadBalancerArn": ["alb"]},
    )
    group = Res(SG, {}, name="lb", outputs={"id": UNKNOWN})
    rule = Res(
        INGRESS,
        {
            "securityGroupId": UNKNOWN,
            "ipProtocol": "tcp",
            "fromPort": 80,
            "toPort": 80,
            "cidrIpv4": "0.0.0.0/0",
        },
        name="lb-http",
        prop_deps={"securityGroupId": ["lb"]},
    )
    assert_passes(check("ec2-sg-open-only-on-listener-ports", [lb, http, group, rule]))


# -- EC2.15 ---------------------------------------------------------------------------------------
SUBNET = "aws:ec2/subnet:Subnet"


@pytest.mark.parametrize("prop", ["mapPublicIpOnLaunch", "assignIpv6AddressOnCreation"])
def test_ec2_15_a_subnet_that_hands_out_addresses_fails(prop: str) -> None:
    outcome = check("ec2-subnet-no-auto-public-ip", [Res(SUBNET, {prop: True})])
    assert_fails(outcome)
    assert prop in outcome.findings[0].message


def test_ec2_15_a_subnet_that_hands_out_nothing_passes() -> None:
    subnet = Res(SUBNET, {"mapPublicIpOnLaunch": False, "cidrBlock": "10.0.0.0/20"})
    assert_passes(check("ec2-subnet-no-auto-public-ip", [subnet]))


# -- IAM wildcard grants (IAM.1, IAM.21) and trust to the world ---------------------------------
DEFAULT_SUBNET = "aws:ec2/defaultSubnet:DefaultSubnet"


@pytest.mark.parametrize(
    ("props", "fails"),
    [({}, True), ({"mapPublicIpOnLaunch": True}, True), ({"mapPublicIpOnLaunch": False}, False)],
    ids=["left-as-aws-made-it", "true", "false"],
)
def test_ec2_15_a_default_subnet_hands_out_public_addresses_unless_told_not_to(
    props: dict[str, Any], fails: bool
) -> None:
    subnet = Res(DEFAULT_SUBNET, {"availabilityZone": "us-east-1a", **props}, name="default-a")
    outcome = check("ec2-subnet-no-auto-public-ip", [subnet])
    if fails:
        assert_fails(outcome)
    else:
        assert_passes(outcome)


ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
MANAGED_POLICY = "aws:iam/policy:Policy"


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@pytest.mark.parametrize("typ", [ROLE_POLICY, MANAGED_POLICY])
@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:*"], "Resource": ["*"]},
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
        {"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:s3:::nothing"},
        {"Effect": "Allow", "Action": "*:*", "Resource": "*"},
        {"Effect": "Allow", "Action": "*", "Resource": "arn:*:*:*:*:*"},
    ],
    ids=["star-star", "service-star", "not-action", "not-resource", "star-colon-star", "star-arn"],
)
def test_a_wildcard_grant_on_every_resource_fails(typ: str, statement: dict[str, Any]) -> None:
    outcome = check("iam-no-wildcard-grants", [Res(typ, {"policy": document(statement)})])
    assert_fails(outcome)


def test_a_wildcard_grant_in_a_roles_inline_policies_fails() -> None:
    inline = [
        {"name": "admin", "policy": document({"Effect": "Allow", "Action": "*", "Resource": "*"})}
    ]
    outcome = check("iam-no-wildcard-grants", [Res(ROLE, {"inlinePolicies": inline})])
    assert_fails(outcome)
    assert "'admin'" in outcome.findings[0].message


SCOPED_SERVICE_WILDCARD = {
    "Effect": "Allow",
    "Action": "sqs:*",
    "Resource": "arn:aws:sqs:us-east-1:123456789012:jobs",
}


def test_iam_21_a_customer_managed_policy_with_a_service_wildcard_fails_whatever_the_resource() -> (
    None
):
    policy = Res(MANAGED_POLICY, {"policy": document(SCOPED_SERVICE_WILDCARD)})
    outcome = check("iam-no-wildcard-grants", [policy])
    assert_fails(outcome)
    assert "IAM.21" in outcome.findings[0].message


def test_iam_21_an_inline_policy_may_grant_a_service_wildcard_on_named_resources() -> None:
    policy = Res(ROLE_POLICY, {"policy": document(SCOPED_SERVICE_WILDCARD)})
    assert_passes(check("iam-no-wildcard-grants", [policy]))


def test_iam_21_a_customer_managed_policy_with_a_prefix_wildcard_passes() -> None:
    statement = {"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}
    assert_passes(
        check("iam-no-wildcard-grants", [Res(MANAGED_POLICY, {"policy": document(statement)})])
    )


ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"


@pytest.mark.parametrize(
    ("typ", "props"),
    [
        ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", {"policyArn": ADMINISTRATOR_ACCESS}),
        (ROLE, {"managedPolicyArns": [ADMINISTRATOR_ACCESS]}),
        (
            "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
            {"policyArns": ["arn:aws-us-gov:iam::aws:policy/AdministratorAccess"]},
        ),
    ],
    ids=["attachment", "managed-policy-arns", "exclusive-attachments-govcloud"],
)
def test_attaching_aws_administrator_access_fails(typ: str, props: dict[str, Any]) -> None:
    outcome = check("iam-no-wildcard-grants", [Res(typ, {"role": "r", **props})])
    assert_fails(outcome)
    assert "AdministratorAccess" in outcome.findings[0].message


def test_attaching_a_narrower_aws_managed_policy_passes() -> None:
    arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
    attachment = Res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", {"policyArn": arn})
    assert_passes(check("iam-no-wildcard-grants", [attachment]))


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "Action": "ssmmessages:OpenDataChannel", "Resource": "*"},
        {"Effect": "Allow", "Action": "sqs:*", "Resource": "arn:aws:sqs:us-east-1:1:q"},
        {"Effect": "Deny", "Action": "*", "Resource": "*"},
    ],
    ids=["named-action", "wildcard-on-one-resource", "deny"],
)
def test_named_actions_scoped_wildcards_and_denies_pass(statement: dict[str, Any]) -> None:
    assert_passes(
        check("iam-no-wildcard-grants", [Res(ROLE_POLICY, {"policy": document(statement)})])
    )


def trust(principal: Any, **condition: Any) -> Res:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": principal,
        "Action": "sts:AssumeRole",
    }
    if condition:
        statement["Condition"] = condition
    return Res(ROLE, {"assumeRolePolicy": document(statement)}, name="role")


@pytest.mark.parametrize(
    "principal", ["*", {"AWS": "*"}, {"AWS": ["arn:aws:iam::123456789012:root", "*"]}]
)
def test_a_role_that_trusts_the_world_fails(principal: Any) -> None:
    assert_fails(check("iam-no-public-trust", [trust(principal)]))


def test_a_role_that_trusts_the_world_but_only_its_own_account_passes() -> None:
    role = trust("*", StringEquals={"aws:PrincipalAccount": "123456789012"})
    assert_passes(check("iam-no-public-trust", [role]))


def test_a_negated_condition_does_not_pin_the_caller() -> None:
    role = trust("*", StringNotEquals={"aws:PrincipalAccount": "999999999999"})
    assert_fails(check("iam-no-public-trust", [role]))


@pytest.mark.parametrize(
    "condition",
    [
        {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/x"}},
        {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::12345678901?:role/x"}},
        {"StringLike": {"aws:PrincipalAccount": "1*"}},
        {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": ["o-*/r-ab12/"]}},
        {"StringEquals": {"aws:PrincipalAccount": "*"}},
        {"ForAllValues:StringEquals": {"aws:PrincipalOrgPaths": ["o-a1b2c3d4e5/r-ab12/"]}},
    ],
    ids=[
        "like-any-account",
        "arnlike-question-mark",
        "like-prefix",
        "org-path-in-any-org",
        "equals-star",
        "for-all-values",
    ],
)
def test_a_condition_that_names_no_caller_does_not_pin_trust_to_the_world(
    condition: dict[str, Any],
) -> None:
    assert_fails(check("iam-no-public-trust", [trust("*", **condition)]))


@pytest.mark.parametrize(
    "condition",
    [
        {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/deployer"}},
        {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/ci-*"}},
        {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": ["o-a1b2c3d4e5/r-ab12/ou-ab12-1/*"]}},
        {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
    ],
    ids=[
        "like-without-wildcards",
        "wildcard-role-in-one-account",
        "org-path-below-one-org",
        "org-id",
    ],
)
def test_a_condition_naming_the_caller_exactly_pins_trust_to_the_world(
    condition: dict[str, Any],
) -> None:
    assert_passes(check("iam-no-public-trust", [trust("*", **condition)]))


@pytest.mark.parametrize(
    "principal",
    [{"Service": "ecs-tasks.amazonaws.com"}, {"AWS": "arn:aws:iam::123456789012:root"}],
)
def test_a_role_that_trusts_a_named_principal_passes(principal: Any) -> None:
    assert_passes(check("iam-no-public-trust", [trust(principal)]))


# -- KMS.4, SNS.1, SQS.1 --------------------------------------------------------------------------
KMS_KEY = "aws:kms/key:Key"
TOPIC = "aws:sns/topic:Topic"
QUEUE = "aws:sqs/queue:Queue"


@pytest.mark.parametrize(("rotation", "fails"), [(True, False), (False, True), (None, True)])
def test_kms_4_keys_rotate(rotation: Any, fails: bool) -> None:
    props = {"enableKeyRotation": rotation} if rotation is not None else {}
    outcome = check("kms-key-rotation", [Res(KMS_KEY, props)])
    assert_fails(outcome) if fails else assert_passes(outcome)


@pytest.mark.parametrize(
    "props",
    [{"customerMasterKeySpec": "RSA_2048", "keyUsage": "SIGN_VERIFY"}, {"keySpec": "HMAC_256"}],
    ids=["asymmetric", "hmac"],
)
def test_kms_4_keys_that_cannot_rotate_are_not_held_to_it(props: dict[str, Any]) -> None:
    assert_passes(check("kms-key-rotation", [Res(KMS_KEY, props)]))


@pytest.mark.parametrize(("key", "fails"), [("arn:aws:kms:us-east-1:1:key/k", False), (None, True)])
def test_sns_1_topics_are_encrypted_in_prod(key: str | None, fails: bool) -> None:
    props = {"kmsMasterKeyId": key} if key else {}
    outcome = check("sns-topic-encrypted", [Res(TOPIC, props)])
    assert_fails(outcome) if fails else assert_passes(outcome)


@pytest.mark.parametrize(
    ("props", "fails"),
    [
        ({"sqsManagedSseEnabled": True}, False),
        ({"kmsMasterKeyId": "alias/aws/sqs"}, False),
        ({"sqsManagedSseEnabled": False}, True),
        ({}, True),
    ],
    ids=["sse-sqs", "sse-kms", "sse-off", "unstated"],
)
def test_sqs_1_queues_are_encrypted_in_every_stack(props: dict[str, Any], fails: bool) -> None:
    for stack in ("prod", "dev"):
        outcome = check("sqs-queue-encrypted", [Res(QUEUE, props)], stack=stack)
        assert_fails(outcome) if fails else assert_passes(outcome)


# -- ELB.1 in production, and the CloudFront VPC origin exception ---------------------------------
VPC_ORIGIN = "aws:cloudfront/vpcOrigin:VpcOrigin"


def http_only_stack(*, internal: bool = False) -> list[Res]:
    """An ALB with only an HTTP listener, which serves requests (a forwarding rule on it)."""
    lb = alb(internal=internal)
    http = listener("http", lb, "HTTP", [NOT_FOUND])
    return [lb, http, rule("app", http, [FORWARD])]


def vpc_origin(target: Res) -> Res:
    """A CloudFront VPC origin whose endpoint is `target`, as pulumi-aws registers it."""
    config = {
        "arn": target.outputs["arn"],  # type: ignore[index]
        "httpPort": 80,
        "httpsPort": 443,
        "name": "app",
        "originProtocolPolicy": "http-only",
        "originSslProtocols": {"items": ["TLSv1.2"], "quantity": 1},
    }
    return Res(VPC_ORIGIN, {"vpcOriginEndpointConfig": config}, name="origin")


def test_elb_1_a_production_load_balancer_serving_plain_http_fails() -> None:
    outcome = check("elb-https-in-prod", http_only_stack())
    assert_fails(outcome, count=2)
    named = sorted(f.urn.rsplit("::", 1)[1] for f in outcome.findings)
    assert named == ["app", "http"], f"both the listener and its forwarding rule serve: {named}"


def test_elb_1_a_redirecting_default_does_not_excuse_a_forwarding_rule_in_production() -> None:
    """A prod ALB without HTTPS whose HTTP listener redirects by default but has a rule that
    forwards /* serves everything over plain HTTP."""
    lb = alb()
    http = listener("http", lb, "HTTP", [REDIRECT])
    outcome = check("elb-https-in-prod", [lb, http, rule("app", http, [FORWARD])])
    assert_fails(outcome)
    assert outcome.findings[0].urn.endswith("::app"), "the finding should name the rule"


def test_elb_1_a_production_http_listener_that_only_redirects_passes() -> None:
    lb = alb()
    http = listener("http", lb, "HTTP", [REDIRECT])
    assert_passes(check("elb-https-in-prod", [lb, http, rule("to-https", http, [REDIRECT])]))


def test_elb_1_plain_http_is_not_held_against_dev() -> None:
    outcome = check("elb-https-in-prod", http_only_stack(), stack="dev")
    assert_passes(outcome)
    assert outcome.not_applicable


def test_elb_1_a_production_load_balancer_with_https_is_left_to_the_redirect_policy() -> None:
    assert_passes(check("elb-https-in-prod", https_stack()))


@pytest.mark.parametrize("policy", ["elb-https-in-prod", "elb-http-redirects-to-https"])
def test_elb_1_an_internal_load_balancer_behind_a_cloudfront_vpc_origin_passes(
    policy: str,
) -> None:
    stack = http_only_stack(internal=True)
    assert_passes(check(policy, [*stack, vpc_origin(stack[0])]))


def test_elb_1_a_vpc_origin_does_not_excuse_an_internet_facing_load_balancer() -> None:
    stack = http_only_stack(internal=False)
    assert_fails(check("elb-https-in-prod", [*stack, vpc_origin(stack[0])]), count=2)


def test_elb_1_an_internal_load_balancer_no_vpc_origin_names_fails() -> None:
    stack = http_only_stack(internal=True)
    assert_fails(check("elb-https-in-prod", [*stack, vpc_origin(alb("elsewhere"))]), count=2)


def test_elb_1_the_exception_covers_http_beside_https_behind_cloudfront() -> None:
    lb = alb(internal=True)
    resources = [
        lb,
        listener("https", lb, "HTTPS", [NOT_FOUND], certificateArn=CERT),
        listener("http", lb, "HTTP", [FORWARD]),
    ]
    assert_fails(check("elb-http-redirects-to-https", resources))
    assert_passes(check("elb-http-redirects-to-https", [*resources, vpc_origin(lb)]))


def test_elb_1_the_exception_links_through_the_engines_record_in_a_preview() -> None:
    stack = http_only_stack(internal=True)
    origin = vpc_origin(stack[0])
    unknown_arn = {**origin.props["vpcOriginEndpointConfig"], "arn": UNKNOWN}
    origin = replace(
        origin,
        props={"vpcOriginEndpointConfig": unknown_arn},
        prop_deps={"vpcOriginEndpointConfig": ["alb"]},
    )
    assert_passes(check("elb-https-in-prod", [*stack, origin]))


# == the committed stacks ==========================================================================
def committed_waivers(stack: str) -> dict[str, str]:
    """The committed stack's policyWaivers, as the CLI hands them to the pack."""
    from stack_config import load_config

    return dict(load_config(load_stack_config(ROOT, stack), stack=stack).policy_waivers)


def evaluate_run(run: ProgramRun) -> Outcome:
    """The whole pack against a run, with the committed stack's waivers (overrides in the
    fixtures never change them)."""
    assert run.error is None, f"stack {run.stack!r} failed under the mocks: {run.error}"
    return evaluate(resources_from_run(run), stack=run.stack, waivers=committed_waivers(run.stack))


def assert_only_waived(outcome: Outcome, stack: str, what: str) -> None:
    """No finding but the advisory reports of the controls the stack's file waives."""
    waived = {f"{name}-waived" for name in committed_waivers(stack)}
    unexpected = [f for f in outcome.findings if f.policy not in waived or f.level != ADVISORY]
    if unexpected:
        pytest.fail(f"{what}, got:\n{Outcome(unexpected).report()}", pytrace=False)


def test_prod_violates_no_policy_it_does_not_waive(prod: ProgramRun) -> None:
    assert_only_waived(evaluate_run(prod), "prod", "prod must pass every policy it does not waive")


def test_prod_waives_nothing_cloudfront_serves_it_https_with_no_domain() -> None:
    """Committed prod has no domain of its own; CloudFront serves it HTTPS on *.cloudfront.net
    (issue 17), so ELB.1 needs no waiver any more."""
    assert committed_waivers("prod") == {}


def test_prod_without_cloudfront_really_is_held_to_https(run_stack: Any) -> None:
    """The HTTPS control still bites: prod on an internet-facing load balancer serves plain HTTP
    (its web ACL goes on the load balancer, so that control is met)."""
    outcome = evaluate(resources_from_run(run_stack("prod", {"edge": "none"})), stack="prod")
    assert {f.policy for f in outcome.mandatory} == {"elb-https-in-prod"}, outcome.report()


def test_dev_violates_no_mandatory_policy(dev: ProgramRun) -> None:
    assert_passes(Outcome(evaluate_run(dev).mandatory), "dev must pass every mandatory policy")


def test_dev_advisories_are_only_the_controls_it_skips_to_save_money(dev: ProgramRun) -> None:
    outcome = evaluate_run(dev)
    allowed = {f"{name}-nonprod" for name in COSTED}
    assert set(names(outcome)) <= allowed, outcome.report()


def test_prod_preview_violates_no_mandatory_policy(prod_preview: ProgramRun) -> None:
    """A preview knows fewer values (no IDs, no image digest): the stack policies link resources
    through dependencies instead, and container policies wait for `pulumi up`."""
    outcome = evaluate_run(prod_preview)
    assert not outcome.mandatory, outcome.report()
    waived = {f"{name}-waived" for name in committed_waivers("prod")}
    advisory = [f for f in outcome.advisory if f.policy not in waived]
    waiting = {f.policy for f in advisory}
    assert all("can't run during preview" in f.message for f in advisory), outcome.report()
    assert waiting <= {p.name for p in POLICIES if not isinstance(p, StackValidationPolicy)}


# HTTPS on the load balancer itself: an internet-facing one (behind CloudFront, ELB.1 excepts it).
DOMAIN_CONFIGS: dict[str, dict[str, Any]] = {
    "domain": {"edge": "none", "domainName": "app.example.com", "hostedZone": "example.com"},
    "certificate": {"edge": "none", "certificateArn": CERT},
}


def _require_settings(*keys: str) -> None:
    from stack_config import SETTINGS_BY_KEY

    missing = [k for k in keys if k not in SETTINGS_BY_KEY]
    if missing:
        pytest.skip(f"stack_config has no {', '.join(missing)} setting yet")


@pytest.fixture(params=sorted(DOMAIN_CONFIGS), scope="module")
def prod_https(request: pytest.FixtureRequest, run_stack: Any) -> ProgramRun:
    overrides = DOMAIN_CONFIGS[request.param]
    _require_settings(*overrides)
    return run_stack("prod", overrides)


def test_prod_with_https_violates_no_policy(prod_https: ProgramRun) -> None:
    assert_passes(evaluate_run(prod_https), "prod with HTTPS must pass every policy")


def test_prod_with_https_needs_no_waiver(prod_https: ProgramRun) -> None:
    outcome = evaluate(resources_from_run(prod_https), stack="prod")
    assert_passes(outcome, "prod with HTTPS must pass every policy without waivers")


def test_prod_with_https_is_checked_for_the_redirect(prod_https: ProgramRun) -> None:
    """The ELB.1 policy really sees the program's listeners: the HTTP listener turned into a
    forwarder is caught."""
    resources = resources_from_run(prod_https)
    http = [r for r in resources if r.type == LISTENER and r.props.get("protocol") == "HTTP"]
    assert len(http) == 1, "expected one HTTP listener"
    forwarding = replace(
        http[0],
        props={**http[0].props, "defaultActions": [FORWARD]},
        outputs={**(http[0].outputs or {}), "defaultActions": [FORWARD]},
    )
    tampered = [forwarding if r is http[0] else r for r in resources]
    outcome = check("elb-http-redirects-to-https", tampered, stack="prod")
    assert [f.urn for f in outcome.findings] == [http[0].urn], outcome.report()


# Other optional features, all at once: whatever the program can build must meet the controls.
FEATURE_CONFIGS: dict[str, dict[str, Any]] = {
    "blue-green-with-domain": {
        "deploymentStrategy": "blueGreen",
        "domainName": "app.example.com",
        "hostedZone": "example.com",
    },
    "canary-with-certificate": {
        "deploymentStrategy": "canary",
        "edge": "none",
        "certificateArn": CERT,
    },
    "secrets-exec-alarms-jobs": {
        "secrets": {
            "DB_PASSWORD": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
        },
        "enableExec": True,
        "alarmEmail": "oncall@example.com",
        "scheduledTasks": {"nightly": {"schedule": "cron(0 3 * * ? *)", "command": ["true"]}},
    },
    "endpoints-secret-values-logs": {
        "vpcEndpoints": True,
        "natGateways": "none",
        "secretValues": Secure({"API_TOKEN": "s3cr3t-value"}),
        "enableExec": True,
        "accessLogs": True,
        "flowLogs": True,
    },
}


@pytest.mark.parametrize("stack", ["prod", "dev"])
@pytest.mark.parametrize("features", sorted(FEATURE_CONFIGS))
def test_optional_features_meet_the_controls(run_stack: Any, stack: str, features: str) -> None:
    overrides = FEATURE_CONFIGS[features]
    _require_settings(*overrides)
    outcome = evaluate_run(run_stack(stack, overrides))
    if stack == "prod":
        assert_only_waived(outcome, stack, f"prod with {features} must pass every policy")
    else:
        assert_passes(Outcome(outcome.mandatory), f"dev with {features}: no mandatory violation")


# A stack whose container gives a control up names the waiver (the config refuses it otherwise):
# the pack then reports exactly that control, as advisory, and enforces every other.
RUNTIME_WAIVERS = {
    "image-user": ({"containerUser": "image"}, "ecs-container-non-root-user"),
    "root-user": ({"containerUser": "0:0"}, "ecs-container-non-root-user"),
    "writable-root": ({"readOnlyRootFilesystem": False}, "ecs-container-read-only-root"),
}


@pytest.mark.parametrize("variant", sorted(RUNTIME_WAIVERS))
def test_a_container_setting_the_stack_waives_is_reported_as_advisory_only(
    run_stack: Any, variant: str
) -> None:
    settings, policy = RUNTIME_WAIVERS[variant]
    reason = "the vendor image needs it, ticket OPS-12"
    run = run_stack("prod", {**settings, "policyWaivers": {policy: reason}})
    assert run.error is None, run.error
    # What the committed stack is reported for anyway; the container setting adds only its own.
    before = evaluate(resources_from_run(run_stack("prod")), stack="prod")
    outcome = evaluate(resources_from_run(run), stack="prod", waivers={policy: reason})
    policies = lambda findings: {f.policy for f in findings}  # noqa: E731
    assert policies(outcome.mandatory) == policies(before.mandatory), outcome.report()
    waived = [f for f in outcome.advisory if f.policy == f"{policy}-waived"]
    assert waived and all(reason in f.message for f in waived), outcome.report()
    assert policies(outcome.advisory) == policies(before.advisory) | {f"{policy}-waived"}, (
        outcome.report()
    )
    unwaived = evaluate(resources_from_run(run), stack="prod")
    assert policies(unwaived.mandatory) == policies(before.mandatory) | {policy}, (
        "without the waiver it would fail"
    )


@pytest.mark.parametrize("variant", sorted(RUNTIME_WAIVERS))
def test_a_services_container_setting_the_stack_waives_is_reported_on_it_alone(
    run_stack: Any, variant: str
) -> None:
    """The same settings on a service of `services`: the one waiver covers it, and the pack reports
    the control on that service's task definition only."""
    settings, policy = RUNTIME_WAIVERS[variant]
    reason = "the vendor image needs it, ticket OPS-12"
    vendor = {"type": "internal", "containerPort": 8080}
    run = run_stack(
        "prod", {"services": {"vendor": {**vendor, **settings}}, "policyWaivers": {policy: reason}}
    )
    assert run.error is None, run.error
    before = evaluate(
        resources_from_run(run_stack("prod", {"services": {"vendor": vendor}})), stack="prod"
    )
    outcome = evaluate(resources_from_run(run), stack="prod", waivers={policy: reason})
    policies = lambda findings: {f.policy for f in findings}  # noqa: E731
    assert policies(outcome.mandatory) == policies(before.mandatory), outcome.report()
    waived = [f for f in outcome.advisory if f.policy == f"{policy}-waived"]
    assert waived and all("vendor-task" in (f.urn or "") for f in waived), outcome.report()


def _without(run: ProgramRun, typ: str) -> list[Res]:
    resources = resources_from_run(run)
    assert any(r.type == typ for r in resources), f"prod has no {typ}"
    return [r for r in resources if r.type != typ]


@pytest.mark.parametrize(
    ("missing", "policy", "on"),
    [
        (BUCKET_POLICY, "elb-access-log-bucket", BUCKET),
        (SSE, "elb-access-log-bucket", BUCKET),
        (PAB, "elb-access-log-bucket", BUCKET),
        (S3_LIFECYCLE, "elb-access-log-bucket", BUCKET),
        (FLOW_LOG, "ec2-vpc-flow-logs", VPC),
        (ECR_LIFECYCLE, "ecr-lifecycle-policy", REPO),
        (DEFAULT_SG, "ec2-default-sg-closed", VPC),
    ],
)
def test_prod_stack_policies_see_the_programs_resources(
    prod: ProgramRun, missing: str, policy: str, on: str
) -> None:
    """The stack policies link the program's real resources: take one away and they notice."""
    outcome = check(policy, _without(prod, missing), stack="prod")
    assert len(outcome.findings) == 1, outcome.report()
    assert f"${on}::" in outcome.findings[0].urn or f"::{on}::" in outcome.findings[0].urn


# == resources built with the installed pulumi-aws ================================================
def build_with_sdk(compliant: bool) -> None:
    """Every resource type the pack checks, built with pulumi_aws (so with the SDK's own wire
    names), meeting every control or breaking every one."""
    import pulumi
    import pulumi_aws as aws

    good = compliant
    keep = pulumi.ResourceOptions(protect=good)
    vpc = aws.ec2.Vpc("vpc", cidr_block="10.0.0.0/16")
    aws.ec2.DefaultSecurityGroup(
        "default-sg",
        vpc_id=vpc.id,
        ingress=[] if good else [{"protocol": "-1", "from_port": 0, "to_port": 0, "self": True}],
    )
    if not good:
        aws.vpc.SecurityGroupIngressRule(
            "open-default",
            security_group_id=vpc.default_security_group_id,
            ip_protocol="-1",
            cidr_ipv4="0.0.0.0/0",
        )
    aws.ec2.FlowLog(
        "flow-log",
        vpc_id=vpc.id,
        traffic_type="ALL" if good else "ACCEPT",
        log_destination="arn:aws:logs:us-east-1:123456789012:log-group:flow",
        iam_role_arn="arn:aws:iam::123456789012:role/flow",
    )
    repo = aws.ecr.Repository(
        "repo",
        image_tag_mutability="IMMUTABLE" if good else "MUTABLE",
        image_scanning_configuration={"scan_on_push": good},
        opts=keep,
    )
    if good:
        aws.ecr.LifecyclePolicy(
            "repo-lifecycle",
            repository=repo.name,
            policy=json.dumps({"rules": [{"rulePriority": 1, "action": {"type": "expire"}}]}),
        )
    cluster = aws.ecs.Cluster(
        "cluster",
        settings=[{"name": "containerInsights", "value": "enabled" if good else "disabled"}],
    )
    log_group = aws.cloudwatch.LogGroup("logs", retention_in_days=30, opts=keep)
    bad_container = container(
        privileged=True,
        readonlyRootFilesystem=False,
        environment=[
            {"name": "API_TOKEN", "value": "x"},
            {"name": "DATABASE_URL", "value": "postgres://app:s3cret@db/app"},
        ],
        logConfiguration=None,
        user=None,
        linuxParameters={"capabilities": {"add": ["SYS_ADMIN"]}},
    )
    good_container = container(linuxParameters={"capabilities": {"drop": ["ALL"]}})
    task = aws.ecs.TaskDefinition(
        "task",
        family="app",
        cpu="256",
        memory="512",
        network_mode="awsvpc",
        requires_compatibilities=["FARGATE"],
        container_definitions=log_group.name.apply(
            lambda _: json.dumps([good_container if good else bad_container])
        ),
    )
    aws.ecs.Service(
        "service",
        cluster=cluster.arn,
        task_definition=task.arn,
        network_configuration={"subnets": ["subnet-1"], "assign_public_ip": not good},
    )
    aws.ec2.Subnet(
        "subnet",
        vpc_id=vpc.id,
        cidr_block="10.0.0.0/20",
        map_public_ip_on_launch=not good,
    )
    trust = {"Service": "ecs-tasks.amazonaws.com"} if good else "*"
    role = aws.iam.Role(
        "role",
        assume_role_policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": trust, "Action": "sts:AssumeRole"}],
            }
        ),
    )
    aws.iam.RolePolicy(
        "role-policy",
        role=role.name,
        policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "ReadOneQueue" if good else "Everything",
                        "Effect": "Allow",
                        "Action": "sqs:ReceiveMessage" if good else "*",
                        "Resource": "arn:aws:sqs:us-east-1:123456789012:q" if good else "*",
                    }
                ],
            }
        ),
    )
    key = aws.kms.Key("key", enable_key_rotation=good, deletion_window_in_days=7)
    aws.sns.Topic("topic", kms_master_key_id=key.arn if good else None)
    aws.sqs.Queue("queue", sqs_managed_sse_enabled=good)
    files = aws.efs.FileSystem("files", encrypted=good, opts=keep)
    if good:
        aws.efs.BackupPolicy(
            "files-backup", file_system_id=files.id, backup_policy={"status": "ENABLED"}
        )
    aws.efs.AccessPoint(
        "files-ap",
        file_system_id=files.id,
        posix_user={"uid": 10001, "gid": 10001} if good else None,
        root_directory={"path": "/files"} if good else None,
    )
    bucket = aws.s3.Bucket("access-logs", opts=keep)
    if good:
        aws.s3.BucketServerSideEncryptionConfiguration(
            "access-logs-sse",
            bucket=bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
        )
        aws.s3.BucketPublicAccessBlock(
            "access-logs-private",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        aws.s3.BucketPolicy("access-logs-policy", bucket=bucket.id, policy=json.dumps(ELB_POLICY))
        aws.s3.BucketLifecycleConfiguration(
            "access-logs-expiry",
            bucket=bucket.id,
            rules=[{"id": "expire", "status": "Enabled", "expiration": {"days": 90}}],
        )
    lb_sg = aws.ec2.SecurityGroup("alb-sg", vpc_id=vpc.id)
    for port in (80, 443):
        aws.vpc.SecurityGroupIngressRule(
            f"alb-sg-{port}",
            security_group_id=lb_sg.id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            cidr_ipv4="0.0.0.0/0",
        )
    if not good:  # SSH from anywhere
        aws.vpc.SecurityGroupIngressRule(
            "alb-sg-ssh",
            security_group_id=lb_sg.id,
            ip_protocol="tcp",
            from_port=22,
            to_port=22,
            cidr_ipv4="0.0.0.0/0",
        )
    lb = aws.lb.LoadBalancer(
        "alb",
        load_balancer_type="application",
        security_groups=[lb_sg.id],
        drop_invalid_header_fields=good,
        enable_deletion_protection=good,
        access_logs={"bucket": bucket.bucket, "enabled": True},
    )
    if not good:  # and one without access logs at all, serving plain HTTP
        plain = aws.lb.LoadBalancer("alb-unlogged", load_balancer_type="application")
        aws.lb.Listener(
            "plain-http",
            load_balancer_arn=plain.arn,
            port=80,
            protocol="HTTP",
            default_actions=[
                {
                    "type": "fixed-response",
                    "fixed_response": {"content_type": "text/plain", "status_code": "404"},
                }
            ],
        )
    aws.lb.Listener(
        "https",
        load_balancer_arn=lb.arn,
        port=443,
        protocol="HTTPS",
        certificate_arn=CERT,
        ssl_policy="ELBSecurityPolicy-TLS13-1-2-2021-06",
        default_actions=[
            {
                "type": "fixed-response",
                "fixed_response": {"content_type": "text/plain", "status_code": "404"},
            }
        ],
    )
    redirect = {
        "type": "redirect",
        "redirect": {"protocol": "HTTPS", "port": "443", "status_code": "HTTP_301"},
    }
    forward = {
        "type": "forward",
        "target_group_arn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/1",
    }
    http = aws.lb.Listener(
        "http", load_balancer_arn=lb.arn, port=80, protocol="HTTP", default_actions=[redirect]
    )
    if not good:
        aws.lb.ListenerRule(
            "route-over-http",
            listener_arn=http.arn,
            priority=100,
            conditions=[{"path_pattern": {"values": ["/*"]}}],
            actions=[forward],
        )
    # The edge (issue 17): web ACLs, a VPC origin to the load balancer, a distribution.
    metrics = {
        "cloudwatch_metrics_enabled": good,
        "metric_name": "m",
        "sampled_requests_enabled": True,
    }
    acls = {}
    for scope in ("CLOUDFRONT", "REGIONAL"):
        acls[scope] = aws.wafv2.WebAcl(
            f"acl-{scope.lower()}",
            scope=scope,
            default_action={"allow": {}},
            visibility_config=metrics,
            rules=[
                {
                    "name": "aws-common",
                    "priority": 0,
                    "override_action": {"none": {}},
                    "statement": {
                        "managed_rule_group_statement": {
                            "vendor_name": "AWS",
                            "name": "AWSManagedRulesCommonRuleSet",
                        }
                    },
                    "visibility_config": metrics,
                }
            ]
            if good
            else [],
        )
        if good:
            aws.wafv2.WebAclLoggingConfiguration(
                f"acl-{scope.lower()}-logging",
                resource_arn=acls[scope].arn,
                log_destination_configs=[
                    "arn:aws:logs:us-east-1:123456789012:log-group:aws-waf-logs-x"
                ],
            )
    if good:
        aws.wafv2.WebAclAssociation(
            "alb-acl", resource_arn=lb.arn, web_acl_arn=acls["REGIONAL"].arn
        )
    origin = aws.cloudfront.VpcOrigin(
        "origin",
        vpc_origin_endpoint_config={
            "name": "origin",
            "arn": lb.arn,
            "http_port": 80,
            "https_port": 443,
            "origin_protocol_policy": "https-only" if good else "http-only",
            "origin_ssl_protocols": {
                "items": ["TLSv1.2"] if good else ["TLSv1", "TLSv1.2"],
                "quantity": 1 if good else 2,
            },
        },
    )
    aws.cloudfront.Distribution(
        "cdn",
        enabled=True,
        origins=[
            {
                "origin_id": "lb",
                "domain_name": lb.dns_name,
                "vpc_origin_config": {"vpc_origin_id": origin.id},
            }
        ],
        default_cache_behavior={
            "target_origin_id": "lb",
            "viewer_protocol_policy": "redirect-to-https" if good else "allow-all",
            "allowed_methods": ["GET", "HEAD"],
            "cached_methods": ["GET", "HEAD"],
            "cache_policy_id": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
        },
        restrictions={"geo_restriction": {"restriction_type": "none"}},
        viewer_certificate={"cloudfront_default_certificate": True},
        web_acl_id=acls["CLOUDFRONT"].arn if good else None,
    )


@pytest.fixture(scope="module", params=[True, False], ids=["compliant", "noncompliant"])
def sdk_built(request: pytest.FixtureRequest, run_component: Any) -> tuple[bool, list[Res]]:
    run = run_component(lambda: build_with_sdk(request.param))
    return request.param, resources_from_run(run)


def test_sdk_built_resources_meet_or_break_every_policy(sdk_built: tuple[bool, list[Res]]) -> None:
    """The property names the policies read are the installed SDK's: resources built with
    pulumi_aws pass every policy when compliant, and trip every one when not."""
    compliant, resources = sdk_built
    prod, dev = evaluate(resources, stack="prod"), evaluate(resources, stack="dev")
    if compliant:
        assert_passes(prod, "compliant resources in prod")
        assert_passes(dev, "compliant resources in dev")
        return
    mandatory = {p.name for p in enforced_policies()}
    tripped = {f.policy for f in prod.mandatory}
    assert tripped == mandatory, (
        f"policies that missed their violation: {sorted(mandatory - tripped)}"
    )
    assert {f.policy for f in dev.advisory} == {f"{n}-nonprod" for n in COSTED}, dev.report()
    # Every control waived: each finding moves to its advisory -waived twin, none is lost.
    waived = evaluate(
        resources, stack="prod", waivers={n: "crafted to break it" for n in mandatory}
    )
    assert not waived.mandatory, waived.report()
    assert {f.policy for f in waived.advisory} >= {f"{n}-waived" for n in mandatory}, (
        waived.report()
    )


# == the pack loads and answers as the CLI drives it ===============================================
@pytest.fixture(scope="module")
def pack_server() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    """policy/ started the way the CLI starts a Python policy pack (`python -m pulumi.policy
    <engine> .` in the pack's directory, with the stack in the environment)."""
    yield from _pack_server({})


@pytest.fixture(scope="module")
def waiving_pack_server() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    """The pack started for a stack whose config waives the non-root control, with the config as
    the CLI passes it (PULUMI_CONFIG: JSON text, a map setting's value itself JSON text)."""
    config = {"fargate-app:policyWaivers": json.dumps(WAIVER), "aws:region": "us-east-1"}
    yield from _pack_server({"PULUMI_CONFIG": json.dumps(config)})


def _pack_server(extra_env: Mapping[str, str]) -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    import grpc

    env = {
        **os.environ,
        "PULUMI_STACK": "prod",
        "PULUMI_PROJECT": "fargate-app",
        "PULUMI_DRY_RUN": "true",
        **extra_env,
    }
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:0", "."],
        cwd=POLICY_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    first_line: list[bytes] = []
    reader = threading.Thread(target=lambda: first_line.append(process.stdout.readline()))  # type: ignore[union-attr]
    reader.start()
    reader.join(timeout=60)
    port = first_line[0].decode().strip() if first_line else ""
    if not port.isdigit():
        process.kill()
        _, stderr = process.communicate(timeout=10)
        pytest.fail(f"the policy pack did not start (stdout {port!r}):\n{stderr.decode()}")
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        channel.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_pack_starts_and_describes_every_policy(pack_server: Any) -> None:
    info = pack_server.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "fargate-app-security"
    described = {p.name: p for p in info.policies}
    assert set(described) == {p.name for p in POLICIES}
    for policy in POLICIES:
        level = (
            analyzer_pb2.ADVISORY if policy.name.endswith(TWIN_SUFFIXES) else analyzer_pb2.MANDATORY
        )
        assert described[policy.name].enforcementLevel == level, policy.name


def test_pack_reports_a_violation_over_grpc(pack_server: Any) -> None:
    props = struct_pb2.Struct()
    props.update({"containerDefinitions": json.dumps([container(privileged=True)])})
    response = pack_server.Analyze(
        analyzer_pb2.AnalyzeRequest(
            urn="urn:pulumi:prod::p::t::task", type=TASK_DEF, name="task", properties=props
        )
    )
    found = [(d.policyName, d.enforcementLevel) for d in response.diagnostics]
    assert found == [("ecs-container-not-privileged", analyzer_pb2.MANDATORY)]


def test_pack_reads_the_stacks_waivers_from_the_cli_environment(
    waiving_pack_server: Any, pack_server: Any
) -> None:
    props = struct_pb2.Struct()
    props.update({"containerDefinitions": json.dumps([container(user="root")])})
    request = analyzer_pb2.AnalyzeRequest(
        urn="urn:pulumi:prod::p::t::task", type=TASK_DEF, name="task", properties=props
    )
    enforced = [
        (d.policyName, d.enforcementLevel) for d in pack_server.Analyze(request).diagnostics
    ]
    assert enforced == [("ecs-container-non-root-user", analyzer_pb2.MANDATORY)]
    waived = waiving_pack_server.Analyze(request).diagnostics
    assert [(d.policyName, d.enforcementLevel) for d in waived] == [
        ("ecs-container-non-root-user-waived", analyzer_pb2.ADVISORY)
    ]
    assert "the vendor image runs as root" in waived[0].message


def test_prod_with_every_kind_of_service_violates_no_policy(run_stack: Any) -> None:
    """The stack's other services (docs/services.md) meet every control the main service does:
    their images, log groups, tasks and networks are built alike."""
    from tools.urns import SERVICES

    run = run_stack("prod", {"services": SERVICES})
    assert_only_waived(
        evaluate_run(run), "prod", "prod with services must pass every policy it does not waive"
    )


# -- EFS (issue 16) --------------------------------------------------------------------------------
EFS = "aws:efs/fileSystem:FileSystem"
EFS_ACCESS_POINT = "aws:efs/accessPoint:AccessPoint"
EFS_BACKUP = "aws:efs/backupPolicy:BackupPolicy"


@pytest.mark.parametrize(("props", "fails"), [({"encrypted": True}, False), ({}, True)])
def test_efs_1_file_systems_are_encrypted_in_every_stack(props: dict, fails: bool) -> None:
    for stack in ("prod", "dev"):
        outcome = check("efs-encrypted", [Res(EFS, props)], stack=stack)
        assert_fails(outcome) if fails else assert_passes(outcome)


def test_efs_2_a_file_system_without_an_enabled_backup_policy_fails_in_prod() -> None:
    fs = Res(EFS, {"encrypted": True}, name="shared-efs", outputs={"encrypted": True, "id": "fs-1"})
    assert_fails(check("efs-backups", [fs]))
    off = Res(EFS_BACKUP, {"fileSystemId": "fs-1", "backupPolicy": {"status": "DISABLED"}},
              name="shared-efs-backup")  # fmt: skip
    assert_fails(check("efs-backups", [fs, off]))
    on = replace(off, props={**off.props, "backupPolicy": {"status": "ENABLED"}})
    assert_passes(check("efs-backups", [fs, on]))
    other = replace(on, props={**on.props, "fileSystemId": "fs-2"})
    assert_fails(check("efs-backups", [fs, other])), "another file system's backups do not count"


@pytest.mark.parametrize(
    ("root", "fails"),
    [({"path": "/shared"}, False), ({"path": "/"}, True), (None, True)],
    ids=["own-directory", "slash", "unset"],
)
def test_efs_3_access_points_have_a_directory_of_their_own(root: Any, fails: bool) -> None:
    props = {"posixUser": {"uid": 10001, "gid": 10001}, **({"rootDirectory": root} if root else {})}
    outcome = check("efs-access-point-root-directory", [Res(EFS_ACCESS_POINT, props)], stack="dev")
    assert_fails(outcome) if fails else assert_passes(outcome)


@pytest.mark.parametrize(
    ("user", "fails"),
    [({"uid": 10001, "gid": 10001}, False), (None, True)],
    ids=["fixed-user", "client-says"],
)
def test_efs_4_access_points_enforce_a_user(user: Any, fails: bool) -> None:
    props = {"rootDirectory": {"path": "/shared"}, **({"posixUser": user} if user else {})}
    outcome = check("efs-access-point-user", [Res(EFS_ACCESS_POINT, props)], stack="dev")
    assert_fails(outcome) if fails else assert_passes(outcome)


def test_production_file_systems_are_protected() -> None:
    assert_fails(check("prod-stateful-resources-protected", [Res(EFS, {"encrypted": True})]))


def test_the_pack_passes_the_program_with_file_systems_in_prod(run_stack) -> None:
    from tools.urns import FILES

    run = run_stack("prod", FILES)
    outcome = evaluate(resources_from_run(run), stack="prod")
    efs = [v for v in outcome.mandatory if "efs" in v.policy or "EFS" in v.message]
    assert not efs, efs
