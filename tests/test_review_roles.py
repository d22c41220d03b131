"""The bootstrap's review stacks (bootstrap/ci_bootstrap/review_roles.py and what serves them),
under the shared mocks, with the requests evaluated by tests/iam_eval.py.

What an administrator relies on when `reviewStacks` is on: a pull request's code, even once a
reviewer let it into the `pr-review` environment, reaches the review stacks (`pr-*`) and nothing
that belongs to a committed stack: not dev's or prod's state, secrets key, roles or permissions;
every role a review stack creates carries the review stacks' boundary; only main's sweep (the
`pr-sweep` environment) holds the sweep role; and no committed stack's role reaches the review
stacks' state or key either.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.iam_eval import ALLOW, DENY, Request, allowed, decide
from tools.mocks import ACCOUNT_ID, ProgramRun

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "bootstrap") not in sys.path:
    sys.path.insert(0, str(ROOT / "bootstrap"))

from ci_bootstrap.boundary import boundary_arn, boundary_document  # noqa: E402
from ci_bootstrap.deploy_permissions import stack_tag  # noqa: E402
from ci_bootstrap.github_roles import APP_PROJECT, DEPLOY_MAX_SESSION_S, ROLE_PATH  # noqa: E402
from ci_bootstrap.stack_names import REVIEW, REVIEW_STACKS  # noqa: E402

from tests.test_bootstrap import (  # noqa: E402
    BUCKET,
    KEY,
    KEY_ADMIN,
    MANAGED,
    REPO,
    ROLE,
    bootstrap,
    bucket_policy_of,
    identity_policies,
    may,
    role,
    state_keys,
    trusted_subject,
)

REGION = "eu-west-1"
REVIEW_BOUNDARY = boundary_arn("aws", ACCOUNT_ID, APP_PROJECT, REVIEW_STACKS)
DEV_BOUNDARY = boundary_arn("aws", ACCOUNT_ID, APP_PROJECT, "dev")
GUARDRAILS = "fargate-app:bootstrap:StackGuardrails"
TAGGED = f"aws:ResourceTag/{stack_tag(APP_PROJECT)}"  # a resource's stack tag


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    """The dev account's bootstrap with review stacks, accepted beside dev: dev's roles and the
    review stacks', so that every test can hold the two apart."""
    result = bootstrap(deployStacks=["dev"], reviewStacks=True, reviewStacksBesideDeployStacks=True)
    assert result.error is None, f"the bootstrap program failed: {result.error}"
    return result


def review_role(run: ProgramRun, kind: str) -> Any:
    return role(run, f"github-review-{kind}")


def app_role(stack: str, name: str = "app-task-0000000") -> str:
    return f"arn:aws:iam::{ACCOUNT_ID}:role/{APP_PROJECT}/{stack}/{name}"


# --- who may assume them -------------------------------------------------------------------------


def test_the_review_deploy_role_trusts_only_the_pr_review_environment(run: ProgramRun) -> None:
    deploy = review_role(run, "deploy")
    assert trusted_subject(deploy) == f"repo:{REPO}:environment:{REVIEW.deploy_environment}", (
        f"{deploy.urn}: a pull request's own workflow runs with this role, so only a job a "
        "required reviewer let into the pr-review environment may assume it"
    )


def test_the_sweep_role_trusts_only_the_main_only_pr_sweep_environment(run: ProgramRun) -> None:
    sweep = review_role(run, "sweep")
    assert trusted_subject(sweep) == f"repo:{REPO}:environment:{REVIEW.sweep_environment}", (
        f"{sweep.urn}: only main's scheduled sweep (the pr-sweep environment admits main only) "
        "may destroy review stacks without a reviewer"
    )
    assert REVIEW.sweep_environment != REVIEW.deploy_environment


def presented(workflow: str, job: str) -> str:
    """The OIDC subject (after `repo:OWNER/NAME:`) a review workflow's job presents: a job that
    names an environment presents `environment:<name>`."""
    jobs = yaml.safe_load((ROOT / ".github" / "workflows" / workflow).read_text())["jobs"]
    environment = jobs[job]["environment"]
    name = environment["name"] if isinstance(environment, dict) else environment
    return f"environment:{name}"


@pytest.mark.parametrize(
    ("kind", "workflow", "job"),
    [
        ("deploy", "review-stack.yml", "deploy"),
        ("sweep", "review-sweep.yml", "find"),
        ("sweep", "review-sweep.yml", "remove"),
    ],
)
def test_each_review_role_trusts_exactly_what_its_jobs_present(
    run: ProgramRun, kind: str, workflow: str, job: str
) -> None:
    r = review_role(run, kind)
    assert trusted_subject(r) == f"repo:{REPO}:{presented(workflow, job)}", (
        f"{r.urn}: {workflow} job {job} presents {presented(workflow, job)}; a role that trusts "
        "anything else cannot be assumed there, or can be assumed elsewhere"
    )


def test_the_review_roles_are_ci_roles_kept_and_long_enough_for_a_deploy(run: ProgramRun) -> None:
    for kind in ("deploy", "sweep"):
        r = review_role(run, kind)
        assert r.inputs["path"] == ROLE_PATH, (
            f"{r.urn}: under {ROLE_PATH}, where every deploy role is denied iam:*"
        )
        assert r.protect, f"{r.urn}: a bootstrap re-run without reviewStacks must not delete it"
        assert r.inputs["maxSessionDuration"] == DEPLOY_MAX_SESSION_S, r.urn


def test_no_committed_stack_s_role_trusts_a_review_environment(run: ProgramRun) -> None:
    for r in run.of_type(ROLE):
        if not r.name.startswith("github-review-"):
            subject = trusted_subject(r)
            assert REVIEW.deploy_environment not in subject, r.urn
            assert REVIEW.sweep_environment not in subject, r.urn


# --- what they may do ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["deploy", "sweep"])
def test_review_roles_create_roles_only_for_review_stacks_and_only_bounded(
    run: ProgramRun, kind: str
) -> None:
    r = review_role(run, kind)
    bounded = {"iam:PermissionsBoundary": REVIEW_BOUNDARY}
    assert may(run, r, "iam:CreateRole", app_role("pr-12"), **bounded), (
        f"{r.urn}: pulumi up of pr-12 creates its roles under /{APP_PROJECT}/pr-12/"
    )
    refused = {
        "without the boundary": ("iam:CreateRole", app_role("pr-12"), {}),
        "with dev's boundary": (
            "iam:CreateRole",
            app_role("pr-12"),
            {"iam:PermissionsBoundary": DEV_BOUNDARY},
        ),
        "on dev's path": ("iam:CreateRole", app_role("dev"), bounded),
        "on a path outside the app": (
            "iam:CreateRole",
            f"arn:aws:iam::{ACCOUNT_ID}:role/admin",
            bounded,
        ),
        "by changing a dev role's trust": ("iam:UpdateAssumeRolePolicy", app_role("dev"), {}),
        "by lifting a boundary": ("iam:DeleteRolePermissionsBoundary", app_role("pr-12"), bounded),
        "by attaching AdministratorAccess": (
            "iam:AttachRolePolicy",
            app_role("pr-12"),
            {**bounded, "iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"},
        ),
        "by passing a dev role to ECS": (
            "iam:PassRole",
            app_role("dev"),
            {"iam:PassedToService": "ecs-tasks.amazonaws.com"},
        ),
        "by assuming another role": ("sts:AssumeRole", f"arn:aws:iam::{ACCOUNT_ID}:role/x", {}),
        "by changing a CI role": (
            "iam:PutRolePolicy",
            review_role(run, "deploy" if kind == "sweep" else "sweep").outputs["arn"],
            {},
        ),
    }
    for what, (action, resource, context) in refused.items():
        assert not may(run, r, action, resource, **context), f"{r.urn} may act {what}"


@pytest.mark.parametrize("kind", ["deploy", "sweep"])
def test_review_roles_reach_review_stacks_state_only(run: ProgramRun, kind: str) -> None:
    bucket = run.one(BUCKET).outputs["arn"]
    r = review_role(run, kind)
    for stack in ("pr-12", "pr-3456"):
        for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
            for key in state_keys(stack):
                assert may(run, r, action, f"{bucket}/{key}"), (
                    f"{r.urn}: pulumi up, destroy and stack rm of {stack} need {action} on {key}"
                )
    for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
        for key in [*state_keys("dev"), *state_keys("prod"), ".pulumi/meta.yaml.bak"]:
            assert not may(run, r, action, f"{bucket}/{key}"), f"{r.urn} may {action} {key}"
    assert may(run, r, "s3:ListBucket", bucket), (
        f"{r.urn}: Pulumi, and the sweep's listing of review stacks, list the bucket"
    )


def test_whatever_a_review_role_is_given_the_bucket_keeps_it_off_other_state(
    run: ProgramRun,
) -> None:
    bucket = run.one(BUCKET).outputs["arn"]
    everything = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    for kind in ("deploy", "sweep"):
        principal = review_role(run, kind).outputs["arn"]
        for request in (
            Request("s3:GetObject", f"{bucket}/{state_keys('dev')[0]}", principal=principal),
            Request("s3:PutBucketPolicy", bucket, principal=principal),
        ):
            assert decide(request, [everything], resource_policies=[bucket_policy_of(run)]) == (
                DENY
            ), f"the review {kind} role, given s3:*, could {request.action} {request.resource}"


def test_no_committed_stack_s_role_reaches_the_review_stacks_state(run: ProgramRun) -> None:
    bucket = run.one(BUCKET).outputs["arn"]
    for name in ("-deploy-dev", "-preview-dev"):
        r = role(run, name)
        for key in state_keys("pr-12"):
            assert not may(run, r, "s3:GetObject", f"{bucket}/{key}"), f"{r.urn} reads {key}"
            assert not may(run, r, "s3:PutObject", f"{bucket}/{key}"), f"{r.urn} writes {key}"


def review_key(run: ProgramRun) -> Any:
    (guardrails,) = [g for g in run.of_type(GUARDRAILS) if g.name == "stack-pr"]
    (key,) = [k for k in run.children(guardrails) if k.type == KEY]
    return key


def key_policy_of(key: Any) -> dict[str, Any]:
    return json.loads(key.inputs["policy"])


def key_users(policy: dict[str, Any]) -> dict[str, set[str]]:
    """principal ARN -> the KMS actions the key policy grants it."""
    users: dict[str, set[str]] = {}
    for s in policy["Statement"]:
        principals = s["Principal"]["AWS"]
        for arn in [principals] if isinstance(principals, str) else principals:
            actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
            users.setdefault(arn, set()).update(actions)
    return users


def test_the_review_stacks_key_is_theirs_alone(run: ProgramRun) -> None:
    key = review_key(run)
    users = key_users(key_policy_of(key))
    deploy, sweep = (review_role(run, k).outputs["arn"] for k in ("deploy", "sweep"))
    assert set(users) == {deploy, sweep, KEY_ADMIN}, (
        f"{key.urn}: no committed stack's role, no account root: {sorted(users)}"
    )
    for arn in (deploy, sweep):
        assert users[arn] == {"kms:Decrypt", "kms:Encrypt"}, (
            f"{key.urn}: the workflows write each review stack's file afresh, so Pulumi makes "
            f"a new data key each run (kms:Encrypt) and opens the state's (kms:Decrypt): {arn}"
        )
    assert key.protect and key.inputs["enableKeyRotation"] is True, key.urn


def test_no_committed_stack_s_key_lets_a_review_role_in(run: ProgramRun) -> None:
    review_arns = {review_role(run, k).outputs["arn"] for k in ("deploy", "sweep")}
    for key in run.of_type(KEY):
        if key is review_key(run):
            continue
        assert not review_arns & set(key_users(key_policy_of(key))), (
            f"{key.urn} (a committed stack's secrets) names a review role"
        )


# --- the review stacks' boundary -----------------------------------------------------------------


def boundary_allows(action: str, resource: str, **context: Any) -> bool:
    everything = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    boundary = boundary_document("aws", ACCOUNT_ID, APP_PROJECT, REVIEW_STACKS)
    return allowed(Request(action, resource, context=context), [everything], boundary=boundary)


def test_the_review_boundary_exists_where_the_roles_conditions_point(run: ProgramRun) -> None:
    (guardrails,) = [g for g in run.of_type(GUARDRAILS) if g.name == "stack-pr"]
    (boundary,) = [b for b in run.children(guardrails) if b.type == MANAGED]
    arn = f"arn:aws:iam::{ACCOUNT_ID}:policy{boundary.inputs['path']}{boundary.inputs['name']}"
    assert arn == REVIEW_BOUNDARY, f"{boundary.urn} is {arn}; the review roles require it"
    assert run.outputs["githubVariables"][REVIEW.boundary_variable] == boundary.outputs["arn"], (
        "the review workflow sets each review stack's permissionsBoundary from this variable"
    )


def test_a_review_stack_s_app_roles_reach_its_own_things_but_no_committed_stack_s() -> None:
    logs = f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:/ecs/{APP_PROJECT}"
    secret = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:app-DB-AbCdEf"
    task = f"arn:aws:ecs:{REGION}:{ACCOUNT_ID}:task-definition/{APP_PROJECT}"
    assert boundary_allows("logs:PutLogEvents", f"{logs}/pr-12/app:log-stream:s")
    assert boundary_allows("secretsmanager:GetSecretValue", secret, **{TAGGED: "pr-12"})
    assert boundary_allows("ecs:RunTask", f"{task}-pr-12-nightly:1", **{TAGGED: "pr-12"})
    assert not boundary_allows("logs:PutLogEvents", f"{logs}/dev/app:log-stream:s")
    assert not boundary_allows("secretsmanager:GetSecretValue", secret, **{TAGGED: "dev"})
    assert not boundary_allows("ecs:RunTask", f"{task}-dev-nightly:1", **{TAGGED: "dev"})
    assert not boundary_allows("iam:CreateRole", app_role("pr-12"))


# --- config and outputs --------------------------------------------------------------------------


def test_the_outputs_give_every_review_variable(run: ProgramRun) -> None:
    variables = run.outputs["githubVariables"]
    assert set(REVIEW.variables) <= set(variables), sorted(variables)
    assert variables[REVIEW.deploy_role_variable] == review_role(run, "deploy").outputs["arn"]
    assert variables[REVIEW.sweep_role_variable] == review_role(run, "sweep").outputs["arn"]
    assert variables[REVIEW.backend_variable] == variables["PULUMI_BACKEND_URL_DEV"], (
        "the review stacks keep their state in this account's bucket"
    )
    assert variables[REVIEW.secrets_provider_variable].startswith("awskms://")
    assert (
        run.outputs["reviewStacks"]["secretsProvider"]
        == (variables[REVIEW.secrets_provider_variable])
    )


def test_without_review_stacks_nothing_of_them_is_made() -> None:
    result = bootstrap(deployStacks=["dev"])
    assert result.error is None, result.error
    made = [r.name for r in result.resources if r.name.startswith(("github-review", "stack-pr"))]
    assert not made, made
    assert not set(REVIEW.variables) & set(result.outputs["githubVariables"])
    assert result.outputs["reviewStacks"] is None


def test_an_account_may_hold_only_the_review_stacks() -> None:
    result = bootstrap(deployStacks=[], reviewStacks=True)
    assert result.error is None, result.error
    assert sorted(r.name for r in result.of_type(ROLE)) == [
        "github-review-deploy",
        "github-review-sweep",
    ]
    assert set(result.outputs["githubVariables"]) == {"AWS_REGION", *REVIEW.variables}


def test_review_stacks_need_the_state_bucket_and_nothing_is_created_without_it() -> None:
    result = bootstrap(deployStacks=[], reviewStacks=True, stateBucket=False)
    message = str(result.error)
    assert "reviewStacks: true needs this account's state bucket" in message, message
    assert not result.custom_resources


@pytest.fixture
def promotion(monkeypatch: pytest.MonkeyPatch):
    import ci_bootstrap.config

    def set_order(order: list[str]) -> None:
        monkeypatch.setattr(ci_bootstrap.config, "promotion_order", lambda: list(order))

    return set_order


def test_a_committed_stack_named_like_the_review_stacks_is_refused(promotion) -> None:
    promotion(["dev", "pr-staging"])
    result = bootstrap(
        deployStacks=["pr-staging"], reviewStacks=True, reviewStacksBesideDeployStacks=True
    )
    assert "starts with 'pr', which names the review stacks" in str(result.error), result.error
    assert not result.custom_resources


def test_review_roles_and_policies_belong_to_their_component(run: ProgramRun) -> None:
    component = run.one("fargate-app:bootstrap:ReviewStackRoles")
    children = run.children(component)
    roles = [c for c in children if c.type == ROLE]
    assert sorted(r.name for r in roles) == ["github-review-deploy", "github-review-sweep"]
    assert set(component.component_outputs) == {"deploy_role_arn", "sweep_role_arn"}
    for c in children:
        assert c.name.startswith("github-review-"), c.name


def test_both_review_roles_carry_the_same_scoped_service_policies(run: ProgramRun) -> None:
    deploy, sweep = (review_role(run, k) for k in ("deploy", "sweep"))
    deploy_docs = identity_policies(run, deploy)
    in_order = lambda docs: sorted(json.dumps(d, sort_keys=True) for d in docs)  # noqa: E731
    assert in_order(deploy_docs) == in_order(identity_policies(run, sweep)), (
        "the sweep destroys what the deploy role made: the same grants, held by main's code only"
    )
    actions = {
        a
        for d in deploy_docs
        for s in d["Statement"]
        if s["Effect"] == "Allow"
        for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }
    assert not [a for a in actions if a in ("*", "iam:*", "s3:*", "kms:*")], sorted(actions)


def test_a_review_role_may_not_read_another_stack_s_secret(run: ProgramRun) -> None:
    # The deploy roles reach secrets by the stack's name prefix, which no tag can fake.
    r = review_role(run, "deploy")
    secret = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:{APP_PROJECT}/{{}}/DB-AbCdEf"
    assert not may(run, r, "secretsmanager:GetSecretValue", secret.format("dev"))
    assert not may(
        run, r, "secretsmanager:GetSecretValue", secret.format("dev"), **{TAGGED: "pr-12"}
    )
    assert may(run, r, "secretsmanager:GetSecretValue", secret.format("pr-12"))
    assert not may(run, r, "secretsmanager:CreateSecret", secret.format("dev"))


def test_a_review_role_is_refused_services_the_app_does_not_use(run: ProgramRun) -> None:
    r = review_role(run, "deploy")
    for action, resource in (
        ("dynamodb:DeleteTable", f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/orders"),
        ("rds:DeleteDBInstance", f"arn:aws:rds:{REGION}:{ACCOUNT_ID}:db:orders"),
        ("lambda:UpdateFunctionCode", f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:x"),
    ):
        request = Request(action, resource, principal=r.outputs["arn"])
        assert decide(request, identity_policies(run, r)) != ALLOW, f"{r.urn} may {action}"


# --- the base stack's resources, when an account holds both ---------------------------------------

R, A = REGION, ACCOUNT_ID
DEV_TAGGED = {TAGGED: "dev"}
REQUEST_TAG = f"aws:RequestTag/{stack_tag(APP_PROJECT)}"
# What the review roles must not do to the base stack's resources (the review of issue 18's probe,
# tests/iam_eval deciding): its network by its tags, its access logs by their bucket's name, its
# service, listener, images and logs.
THE_BASE_S = [
    ("ec2:AuthorizeSecurityGroupIngress", f"arn:aws:ec2:{R}:{A}:security-group/sg-dev", DEV_TAGGED),
    ("ec2:RevokeSecurityGroupEgress", f"arn:aws:ec2:{R}:{A}:security-group/sg-dev", DEV_TAGGED),
    ("ec2:DeleteSecurityGroup", f"arn:aws:ec2:{R}:{A}:security-group/sg-dev", DEV_TAGGED),
    ("ec2:DeleteVpc", f"arn:aws:ec2:{R}:{A}:vpc/vpc-dev", DEV_TAGGED),
    ("ec2:CreateRoute", f"arn:aws:ec2:{R}:{A}:route-table/rtb-dev", DEV_TAGGED),
    ("ec2:DeleteFlowLogs", f"arn:aws:ec2:{R}:{A}:vpc-flow-log/fl-dev", DEV_TAGGED),
    ("ec2:ModifyVpcEndpoint", f"arn:aws:ec2:{R}:{A}:vpc-endpoint/vpce-dev", DEV_TAGGED),
    ("ec2:DisassociateAddress", f"arn:aws:ec2:{R}:{A}:elastic-ip/eipalloc-dev", DEV_TAGGED),
    ("ec2:DeleteNatGateway", f"arn:aws:ec2:{R}:{A}:natgateway/nat-dev", DEV_TAGGED),
    ("ec2:AssociateRouteTable", f"arn:aws:ec2:{R}:{A}:subnet/subnet-dev", DEV_TAGGED),
    # A review stack's subnet in the base's VPC: the new subnet's tag is the review stack's, the
    # VPC's is dev's, and EC2 authorizes each by its own.
    (
        "ec2:CreateSubnet",
        f"arn:aws:ec2:{R}:{A}:vpc/vpc-dev",
        {**DEV_TAGGED, REQUEST_TAG: "pr-12"},
    ),
    # Re-tagging the base's resource as a review stack's, or tagging it outside a create call.
    ("ec2:CreateTags", f"arn:aws:ec2:{R}:{A}:vpc/vpc-dev", {**DEV_TAGGED, REQUEST_TAG: "pr-12"}),
    ("ec2:CreateTags", f"arn:aws:ec2:{R}:{A}:subnet/subnet-x", {REQUEST_TAG: "pr-12"}),
    ("s3:PutBucketPolicy", "arn:aws:s3:::alb-logs-bucket-dev123", {}),
    ("s3:DeleteObject", "arn:aws:s3:::alb-logs-bucket-dev123/AWSLogs/x", {}),
    ("s3:DeleteBucket", "arn:aws:s3:::alb-logs-bucket-dev123", {}),
    ("ecs:UpdateService", f"arn:aws:ecs:{R}:{A}:service/fargate-app-dev/app", DEV_TAGGED),
    (
        "elasticloadbalancing:ModifyListener",
        f"arn:aws:elasticloadbalancing:{R}:{A}:listener/app/web/1/2",
        DEV_TAGGED,
    ),
    ("ecr:PutImage", f"arn:aws:ecr:{R}:{A}:repository/app-repo-dev", DEV_TAGGED),
    ("logs:DeleteLogGroup", f"arn:aws:logs:{R}:{A}:log-group:/ecs/fargate-app/dev/app", DEV_TAGGED),
]


@pytest.mark.parametrize("kind", ["deploy", "sweep"])
@pytest.mark.parametrize(
    ("action", "resource", "context"), THE_BASE_S, ids=[f"{a} {r}" for a, r, _ in THE_BASE_S]
)
def test_the_review_roles_may_not_touch_the_base_stack_s_resources(
    run: ProgramRun, kind: str, action: str, resource: str, context: dict[str, str]
) -> None:
    r = review_role(run, kind)
    assert not may(run, r, action, resource, **context), (
        f"{r.urn} may {action} on the base stack's {resource} ({context})"
    )


def test_the_review_roles_may_change_their_own_network() -> None:
    """The same requests on a review stack's own resources pass: the refusals above are the
    tags', not a grant gone missing."""
    result = bootstrap(deployStacks=[], reviewStacks=True)
    assert result.error is None, result.error
    r = review_role(result, "deploy")
    own = {TAGGED: "pr-12"}
    for action, resource, context in THE_BASE_S:
        if (
            action.startswith("ec2:")
            and context.get(TAGGED) == "dev"
            and REQUEST_TAG not in context
        ):
            mine = resource.replace("-dev", "-pr12")
            assert may(result, r, action, mine, **own), f"{r.urn} may not {action} on {mine}"
    new_subnet = {REQUEST_TAG: "pr-12", "ec2:CreateAction": "CreateSubnet"}
    subnet = f"arn:aws:ec2:{R}:{A}:subnet/subnet-pr12"
    assert may(result, r, "ec2:CreateSubnet", subnet, **{REQUEST_TAG: "pr-12"})
    assert may(result, r, "ec2:CreateTags", subnet, **new_subnet)
    assert not may(result, r, "ec2:CreateTags", subnet, **{**new_subnet, REQUEST_TAG: "dev"})


def test_review_stacks_beside_committed_stacks_need_the_administrator_s_consent() -> None:
    refused = bootstrap(deployStacks=["dev"], reviewStacks=True)
    message = str(refused.error)
    for expected in ("reviewStacks", "dev", "an account of their own", "reviewStacksBeside"):
        assert expected in message, message
    assert not refused.custom_resources, "nothing is created on a refused config"
    accepted = bootstrap(
        deployStacks=["dev"], reviewStacks=True, reviewStacksBesideDeployStacks=True
    )
    assert accepted.error is None, accepted.error
    alone = bootstrap(deployStacks=[], reviewStacks=True)
    assert alone.error is None, alone.error
    stray = bootstrap(deployStacks=["dev"], reviewStacksBesideDeployStacks=True)
    assert "reviewStacksBesideDeployStacks" in str(stray.error), stray.error
