"""The bootstrap program (bootstrap/), run under the shared AWS-like mocks.

What an administrator relies on: GitHub's OIDC provider for the STS audience; roles that trust only
this repository, each for exactly one kind of job (pull requests: a read-only preview; main: dev;
the prod environment: prod); and a state bucket that keeps old versions, is encrypted and is
never public. Also: the outputs are exactly the GitHub variables the workflows read.
"""

from __future__ import annotations

import fnmatch
import json
import re
import sys
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from tools.mocks import ACCOUNT_ID, ProgramRun, RegisteredResource, run_program

ROOT = Path(__file__).resolve().parent.parent
BOOTSTRAP = ROOT / "bootstrap"
# Pulumi runs bootstrap/__main__.py with bootstrap/ on sys.path; so do these tests.
if str(BOOTSTRAP) not in sys.path:
    sys.path.insert(0, str(BOOTSTRAP))

from ci_bootstrap.config import SETTINGS, ConfigError, load_config  # noqa: E402
from ci_bootstrap.github_roles import (  # noqa: E402
    APP_PROJECT,
    DEPLOY_SUBJECTS,
    ROLE_PATH,
    GitHubActionsRoles,
    GitHubActionsRolesArgs,
)
from ci_bootstrap.state_bucket import StateBucket, StateBucketArgs  # noqa: E402

PROJECT = "fargate-app-bootstrap"
REPO = "acme/fargate-app"
REGION = "eu-west-1"
OIDC_HOST = "token.actions.githubusercontent.com"
PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{OIDC_HOST}"
ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
INLINE = "aws:iam/rolePolicy:RolePolicy"
BUCKET = "aws:s3/bucket:Bucket"


def bootstrap(preview: bool = False, **config: Any) -> ProgramRun:
    full = {"githubRepository": REPO, "aws:region": REGION, **config}
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


def test_pull_requests_of_this_repository_get_the_preview_role(run: ProgramRun) -> None:
    preview = role(run, "-preview")
    assert trusted_subject(preview) == f"repo:{REPO}:pull_request", preview.urn


def test_only_the_main_branch_deploys_dev(run: ProgramRun) -> None:
    dev = role(run, "-deploy-dev")
    assert trusted_subject(dev) == f"repo:{REPO}:ref:refs/heads/main", dev.urn


def test_only_the_prod_environment_deploys_prod(run: ProgramRun) -> None:
    prod = role(run, "-deploy-prod")
    assert trusted_subject(prod) == f"repo:{REPO}:environment:prod", (
        f"{prod.urn}: prod must be reachable only through the `prod` environment's approval gate"
    )


def test_no_role_trusts_another_repository_or_a_pattern(run: ProgramRun) -> None:
    subjects = [trusted_subject(r) for r in run.of_type(ROLE)]
    assert len(subjects) == 3 and len(set(subjects)) == 3, f"one subject per role: {subjects}"
    for subject in subjects:
        assert subject.startswith(f"repo:{REPO}:") and "*" not in subject, subject


def test_the_deploy_subjects_are_what_the_deploy_workflow_presents() -> None:
    jobs = yaml.safe_load((ROOT / ".github/workflows/deploy.yml").read_text())["jobs"]
    dev, prod = jobs["deploy-dev"], jobs["deploy-prod"]
    # A job without an environment presents its branch; main is the only branch that deploys.
    assert DEPLOY_SUBJECTS["dev"] == "ref:refs/heads/main"
    assert "environment" not in dev and dev["if"] == "github.ref == 'refs/heads/main'"
    environment = prod["environment"]
    name = environment["name"] if isinstance(environment, dict) else environment
    assert DEPLOY_SUBJECTS["prod"] == f"environment:{name}"


# configure-aws-credentials' own default for role-duration-seconds (one hour).
ACTION_DEFAULT_DURATION_S = 3600
# IAM's bounds for a role's MaxSessionDuration.
IAM_MAX_SESSION_S = (3600, 12 * 3600)
# (workflow, job) -> the role it assumes (suffix of the role's name).
JOB_ROLES = {
    ("pull-request.yml", "preview"): "-preview",
    ("deploy.yml", "deploy-dev"): "-deploy-dev",
    ("deploy.yml", "deploy-prod"): "-deploy-prod",
}


def test_credentials_outlive_every_job_that_uses_them(run: ProgramRun) -> None:
    for (workflow, name), suffix in JOB_ROLES.items():
        job = yaml.safe_load((ROOT / ".github/workflows" / workflow).read_text())["jobs"][name]
        (step,) = [
            s
            for s in job["steps"]
            if str(s.get("uses", "")).startswith("aws-actions/configure-aws-credentials@")
        ]
        duration_s = int(step["with"].get("role-duration-seconds", ACTION_DEFAULT_DURATION_S))
        timeout_s = int(job["timeout-minutes"]) * 60
        assumed = role(run, suffix)
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


def test_the_preview_role_is_read_only(run: ProgramRun) -> None:
    preview = role(run, "-preview")
    managed = [a.inputs["policyArn"] for a in for_role(run, ATTACHMENT, preview)]
    assert managed == ["arn:aws:iam::aws:policy/ReadOnlyAccess"], f"{preview.urn}: {managed}"
    for s in inline_policy(run, preview)["Statement"]:
        if s["Effect"] == "Allow":
            writes = [a for a in actions(s) if not re.match(r"^[a-z0-9]+:(Get|List|Describe)", a)]
            assert not writes, f"{preview.urn}: the preview role may write: {writes}"


def test_pull_request_code_cannot_read_data(run: ProgramRun) -> None:
    preview = role(run, "-preview")
    deny = statement(inline_policy(run, preview), "NoDataReadsFromPullRequestCode")
    assert deny["Effect"] == "Deny"
    for action in ("s3:GetObject", "secretsmanager:GetSecretValue", "ssm:GetParameter"):
        assert action in actions(deny), f"{preview.urn}: pull-request code may call {action}"
    bucket_arn = run.one(BUCKET).outputs["arn"]
    assert deny["NotResource"] == [f"{bucket_arn}/*"], "only the state objects are exempt"


def test_the_preview_role_reads_the_state(run: ProgramRun) -> None:
    bucket_arn = run.one(BUCKET).outputs["arn"]
    read = statement(inline_policy(run, role(run, "-preview")), "ReadPulumiStateForPreviews")
    assert "s3:GetObject" in actions(read) and f"{bucket_arn}/*" in read["Resource"]


def test_deploy_roles_manage_the_app_but_never_the_ci_roles(run: ProgramRun) -> None:
    for stack in ("dev", "prod"):
        deploy = role(run, f"-deploy-{stack}")
        managed = [a.inputs["policyArn"] for a in for_role(run, ATTACHMENT, deploy)]
        assert managed == ["arn:aws:iam::aws:policy/PowerUserAccess"], f"{deploy.urn}: {managed}"
        policy = inline_policy(run, deploy)
        deny = statement(policy, "NeverChangeTheCiRoles")
        assert deny["Effect"] == "Deny" and actions(deny) == ["iam:*"], deploy.urn
        assert deny["Resource"] == f"arn:aws:iam::{ACCOUNT_ID}:role{ROLE_PATH}*", deploy.urn
        passing = statement(policy, "PassTheAppsRolesToItsServicesOnly")
        services = passing["Condition"]["StringEquals"]["iam:PassedToService"]
        assert "ecs-tasks.amazonaws.com" in services, deploy.urn
        state = statement(policy, f"ReadAndWriteThe{stack.capitalize()}StacksStateOnly")
        assert "s3:PutObject" in actions(state), f"{deploy.urn} cannot write the stack's state"


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


def allows(policy: dict[str, Any], action: str, resource: str) -> bool:
    """Whether the policy's statements allow `action` on `resource` (IAM's `*` and `?` wildcards;
    no statement here has conditions on S3)."""
    allowed = False
    for s in policy["Statement"]:
        resources = s.get("Resource", [])
        resources = [resources] if isinstance(resources, str) else resources
        if not any(fnmatch.fnmatchcase(action, a) for a in actions(s)):
            continue
        if any(fnmatch.fnmatchcase(resource, r) for r in resources):
            if s["Effect"] == "Deny":
                return False
            allowed = True
    return allowed


def test_each_deploy_role_reads_and_writes_only_its_own_stacks_state(run: ProgramRun) -> None:
    bucket = run.one(BUCKET).outputs["arn"]
    for stack, other in (("dev", "prod"), ("prod", "dev")):
        deploy = role(run, f"-deploy-{stack}")
        policy = inline_policy(run, deploy)
        for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
            for key in state_keys(stack):
                assert allows(policy, action, f"{bucket}/{key}"), (
                    f"{deploy.urn}: pulumi up of {stack} needs {action} on {key}"
                )
            for key in [
                *state_keys(other),
                *state_keys(stack, project="another-project"),
                f".pulumi/stacks/fargate-app/{stack}2.json",
                "notes.txt",
            ]:
                assert not allows(policy, action, f"{bucket}/{key}"), (
                    f"{deploy.urn}: the {stack} deploy role may {action} {key}"
                )
        assert allows(policy, "s3:GetObject", f"{bucket}/.pulumi/meta.yaml"), (
            f"{deploy.urn}: every Pulumi CLI reads .pulumi/meta.yaml at login"
        )
        assert not allows(policy, "s3:PutObject", f"{bucket}/.pulumi/meta.yaml"), deploy.urn
        assert allows(policy, "s3:ListBucket", bucket), (
            f"{deploy.urn}: Pulumi lists the bucket to find a checkpoint and its locks"
        )


def test_the_state_keys_are_named_after_the_apps_project() -> None:
    app = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["name"]
    assert app == APP_PROJECT, (
        f"the deploy roles may write state of project {APP_PROJECT!r}, but the app is {app!r}"
    )


def test_every_ci_role_lives_under_the_path_the_deploy_roles_may_not_touch(run: ProgramRun) -> None:
    for r in run.of_type(ROLE):
        assert r.inputs["path"] == ROLE_PATH, f"{r.urn} is outside {ROLE_PATH}"


def test_roles_and_policies_belong_to_the_component(run: ProgramRun) -> None:
    component = run.one("fargate-app:bootstrap:GitHubActionsRoles")
    for type_token in (
        ROLE,
        ATTACHMENT,
        INLINE,
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
    ):
        for r in run.of_type(type_token):
            assert r.parent == component.urn, f"{r.urn} is not a child of {component.urn}"
    assert set(component.component_outputs) == {
        "provider_arn",
        "preview_role_arn",
        "deploy_role_arns",
    }


def test_a_split_account_gets_only_its_stacks_role() -> None:
    result = bootstrap(deployStacks=["prod"], previewRole=False, stateBucket=False)
    assert result.error is None, result.error
    roles = result.of_type(ROLE)
    assert [trusted_subject(r) for r in roles] == [f"repo:{REPO}:environment:prod"]
    assert set(result.outputs["githubVariables"]) == {"AWS_REGION", "AWS_ROLE_ARN_PROD"}


def test_one_account_per_environment_gives_every_variable_once() -> None:
    """The recommended setup: the bootstrap run in a dev account and in a prod account."""
    accounts = {stack: bootstrap(deployStacks=[stack]) for stack in ("dev", "prod")}
    for stack, result in accounts.items():
        assert result.error is None, result.error
        assert [trusted_subject(r) for r in result.of_type(ROLE) if "-deploy-" in r.name] == [
            f"repo:{REPO}:{DEPLOY_SUBJECTS[stack]}"
        ], f"the {stack} account must hold only the {stack} deploy role"
    dev, prod = (set(accounts[s].outputs["githubVariables"]) for s in ("dev", "prod"))
    assert dev & prod == {"AWS_REGION"}, (
        f"the two accounts' variables collide: {sorted(dev & prod - {'AWS_REGION'})}"
    )
    assert dev | prod == workflow_variables(), "together they must be what the workflows read"
    prod_variables = accounts["prod"].outputs["githubVariables"]
    assert prod_variables["AWS_ROLE_ARN_PREVIEW_PROD"] == accounts["prod"].outputs["previewRoleArn"]
    bucket = accounts["prod"].one(BUCKET).outputs["bucket"]
    assert prod_variables["PULUMI_BACKEND_URL_PROD"] == f"s3://{bucket}?region={REGION}"


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
        inline_policy(result, role(result, "-preview")), "NoDataReadsFromPullRequestCode"
    )
    assert deny["Resource"] == "*", "without a state bucket no object read is exempt"


# --- outputs and config --------------------------------------------------------------------------


def workflow_variables() -> set[str]:
    """Every GitHub variable the workflows read: `vars.NAME`, and the names a matrix gives to
    `vars[matrix.<x>_variable]`."""
    used: set[str] = set()
    for path in (ROOT / ".github/workflows").glob("*.yml"):
        used |= set(re.findall(r"vars\.([A-Z0-9_]+)", path.read_text()))
        for job in yaml.safe_load(path.read_text())["jobs"].values():
            for entry in job.get("strategy", {}).get("matrix", {}).get("include", []):
                used |= {v for k, v in entry.items() if k.endswith("_variable")}
    return used


def test_outputs_are_the_github_variables_the_workflows_read(run: ProgramRun) -> None:
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
        assert variables[f"AWS_ROLE_ARN_PREVIEW_{suffix}"] == run.outputs["previewRoleArn"]


def test_a_preview_of_the_bootstrap_stack_works() -> None:
    result = bootstrap(preview=True)
    assert result.error is None, f"pulumi preview of the bootstrap stack would fail: {result.error}"
    assert len(result.of_type(ROLE)) == 3


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
            }
        )
    message = str(raised.value)
    for expected in (
        "githubRepository: 'not a repository' is not OWNER/NAME",
        "allowed: dev, prod",
        "stateVersionRetentionDays: 0 is out of range",
        "did you mean githubRepository?",
    ):
        assert expected in message, message


def test_an_account_must_hold_a_stack() -> None:
    with pytest.raises(ConfigError) as raised:
        load_config({"githubRepository": REPO, "deployStacks": "[]"})
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
            "aws:region": REGION,
        }
    )
    assert cfg.deploy_stacks == ("prod",) and cfg.preview_role is False
    assert cfg.state_version_retention_days == 365


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


@pytest.mark.parametrize(
    ("build", "named"),
    [
        (lambda: GitHubActionsRoles("ci", GitHubActionsRolesArgs(repository="acme")), "'acme'"),
        (
            lambda: StateBucket("state", StateBucketArgs(noncurrent_version_days=0)),
            "noncurrent_version_days 0",
        ),
    ],
    ids=["a repository without its owner", "versions that expire at once"],
)
def test_bad_component_arguments_fail_before_anything_is_created(build, named: str) -> None:
    run = run_program(build, project=PROJECT, stack="test", config={"aws:region": REGION})
    assert isinstance(run.error, ValueError) and named in str(run.error), run.error
    assert not run.custom_resources, [r.urn for r in run.custom_resources]
