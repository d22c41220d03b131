"""Secrets (components/secrets.py; the execution role's grant in components/roles.py; the
container's `secrets` in components/task_definition.py).

What a user relies on: a secret reaches the app as an environment variable that ECS injects from
Secrets Manager or SSM at task start, never as plain `environment` in the task definition; a value
kept in Pulumi's encrypted config becomes a Secrets Manager secret and stays encrypted in Pulumi's
state; the execution role may read exactly the configured secrets and nothing else; prod's secrets
cannot be deleted by accident; and without secrets there is no grant at all.
"""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import pulumi
import pytest
from botocore.validate import ParamValidator
from pulumi.runtime import rpc

from components.secrets import (
    PARTIAL_ARN_WILDCARD,
    PROTECTED_RECOVERY_WINDOW_DAYS,
    RECOVERY_WINDOW_DAYS,
    AppSecrets,
    AppSecretsArgs,
    read_permission,
    read_statements,
)
from components.spec import secret_name_prefix
from tools.mocks import (
    OFFLINE_SECRET,
    ProgramRun,
    RecordingMonitor,
    RegisteredResource,
    Secure,
)

ACCOUNT = "123456789012"
SM = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret"
FULL_ARN = f"{SM}:prod/db-AbC123"
JSON_KEY_ARN = f"{SM}:prod/api-XyZ789:token::"
PARTIAL_ARN = f"{SM}:prod/stripe"
PARAMETER_ARN = f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/app/feature-key"
SECRETS = {
    "DB_URL": FULL_ARN,
    "API_TOKEN": JSON_KEY_ARN,
    "STRIPE_KEY": PARTIAL_ARN,
    "FEATURE_KEY": PARAMETER_ARN,
}
VALUE = "correct-horse-battery-staple"  # a value kept in Pulumi's encrypted config
SECRET_VALUES = {"SESSION_SECRET": VALUE}
ON = {"secrets": SECRETS, "secretValues": Secure(SECRET_VALUES)}
STACKS = ("dev", "prod")
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
REGISTER_TASK_DEFINITION = (
    botocore.session.get_session()
    .get_service_model("ecs")
    .operation_model("RegisterTaskDefinition")
)


# --- helpers --------------------------------------------------------------------------------------


def task_definition(run: ProgramRun) -> RegisteredResource:
    [service] = [r for r in run.of_type("fargate-app:service:FargateService") if r.name == "app"]
    [definition] = [r for r in run.children(service) if r.type == TASK_DEFINITION]
    return definition


def container(run: ProgramRun) -> dict[str, Any]:
    [app] = json.loads(task_definition(run).inputs["containerDefinitions"])
    return app


def execution_role(run: ProgramRun) -> RegisteredResource:
    definition = task_definition(run)
    [role] = [
        r for r in run.of_type(ROLE) if r.outputs["arn"] == definition.inputs["executionRoleArn"]
    ]
    return role


def inline_policies(run: ProgramRun, role: RegisteredResource) -> list[RegisteredResource]:
    return [p for p in run.of_type(ROLE_POLICY) if p.inputs["role"] == role.outputs["name"]]


def statements(policy: RegisteredResource) -> list[dict[str, Any]]:
    return json.loads(policy.inputs["policy"])["Statement"]


def secrets_grant(run: ProgramRun) -> list[dict[str, Any]]:
    """Every statement of the execution role's inline policies."""
    return [s for p in inline_policies(run, execution_role(run)) for s in statements(p)]


def app_secret_arns(run: ProgramRun) -> dict[str, str]:
    """The program's own secrets by env var name (their logical names are app-<NAME>)."""
    return {r.name.removeprefix("app-"): r.outputs["arn"] for r in run.of_type(SECRET)}


# --- the IAM resource for each kind of ARN --------------------------------------------------------


def test_a_full_secret_arn_is_granted_as_is() -> None:
    assert read_permission(FULL_ARN) == ("secretsmanager:GetSecretValue", FULL_ARN)


def test_a_json_key_reference_grants_the_secret_not_the_key_suffix() -> None:
    assert read_permission(JSON_KEY_ARN) == (
        "secretsmanager:GetSecretValue",
        f"{SM}:prod/api-XyZ789",
    )


def test_a_partial_arn_matches_exactly_the_six_character_suffix() -> None:
    _, resource = read_permission(PARTIAL_ARN)
    assert resource == PARTIAL_ARN + "-??????", "IAM matches the full ARN, suffix included"
    assert PARTIAL_ARN_WILDCARD == "-??????" and "*" not in resource


def test_an_ssm_parameter_is_read_with_get_parameters() -> None:
    assert read_permission(PARAMETER_ARN) == ("ssm:GetParameters", PARAMETER_ARN)


def test_something_else_is_refused_with_the_setting_named() -> None:
    with pytest.raises(ValueError, match="secrets"):
        read_permission(f"arn:aws:s3:::{ACCOUNT}-bucket/key")


def test_no_arns_no_statements() -> None:
    assert read_statements([]) == []


def test_statements_name_their_reason_and_merge_duplicates() -> None:
    result = read_statements([FULL_ARN, FULL_ARN, PARAMETER_ARN])
    assert [s["Action"] for s in result] == ["secretsmanager:GetSecretValue", "ssm:GetParameters"]
    assert all(s["Sid"].isalnum() and s["Effect"] == "Allow" for s in result), result
    assert result[0]["Resource"] == [FULL_ARN]


# --- the committed stacks have no secrets: no grant, no secret resources --------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_without_secrets_the_execution_role_gets_no_statement(run_stack, stack: str) -> None:
    run = run_stack(stack)
    assert secrets_grant(run) == [], (
        f"{execution_role(run).urn} has an inline grant without secrets"
    )
    assert "secrets" not in container(run), "no secrets configured, none injected"
    assert not run.of_type(SECRET) and not run.of_type(SECRET_VERSION)


# --- with secrets --------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_each_secret_reaches_the_container_as_an_injected_secret(run_stack, stack: str) -> None:
    run = run_stack(stack, ON)
    injected = {s["name"]: s["valueFrom"] for s in container(run)["secrets"]}
    assert injected == {**SECRETS, **app_secret_arns(run)}, task_definition(run).urn


@pytest.mark.parametrize("stack", STACKS)
def test_no_secret_is_plain_environment(run_stack, stack: str) -> None:
    run = run_stack(stack, ON)
    names = {e["name"] for e in container(run).get("environment", [])}
    assert not names & {*SECRETS, *SECRET_VALUES}, (
        f"{task_definition(run).urn} (Security Hub ECS.8)"
    )


@pytest.mark.parametrize("stack", STACKS)
def test_a_config_value_appears_in_no_resource_but_its_secret_version(run_stack, stack) -> None:
    run = run_stack(stack, ON)
    holders = [r.urn for r in run.resources if VALUE in json.dumps(r.inputs)]
    [version] = run.of_type(SECRET_VERSION)
    assert holders == [version.urn], f"the secret value leaks into {holders}"


@pytest.mark.parametrize("stack", STACKS)
def test_one_secrets_manager_secret_per_config_value(run_stack, stack: str) -> None:
    run = run_stack(stack, {"secretValues": Secure({"A_SECRET": "a", "B_SECRET": "b"})})
    secrets, versions = run.of_type(SECRET), run.of_type(SECRET_VERSION)
    assert len(secrets) == len(versions) == 2
    by_id = {s.id: s for s in secrets}
    assert {v.inputs["secretId"] for v in versions} == set(by_id), "each value in its own secret"
    assert {v.inputs["secretString"] for v in versions} == {"a", "b"}


@pytest.mark.parametrize("stack", STACKS)
def test_each_secret_is_named_under_its_stack_s_prefix(run_stack, stack: str) -> None:
    """The stack's CI deploy role reaches its secrets by this prefix, never by a tag (a role that
    may tag a new secret could tag any secret as its own)."""
    run = run_stack(stack, {"secretValues": Secure({"DB_PASSWORD": "s3cr3t"})})
    (secret,) = run.of_type(SECRET)
    prefix = secret_name_prefix("fargate-app", stack)
    assert secret.inputs["namePrefix"] == f"{prefix}DB_PASSWORD-", secret.urn
    assert secret.outputs["name"].startswith(prefix), secret.outputs["name"]
    assert ":secret:" + prefix in secret.outputs["arn"], secret.outputs["arn"]


@pytest.mark.parametrize("stack", STACKS)
def test_a_config_value_kept_in_plain_text_is_refused(run_stack, stack: str) -> None:
    """`pulumi config set --path secretValues.X v` without --secret would commit the password to
    Pulumi.<stack>.yaml in plain text: refused before anything is created."""
    run = run_stack(stack, {"secretValues": {"DB_PASSWORD": VALUE}}, check=False)

    assert run.error is not None, "a plain-text secretValues was accepted"
    message = str(run.error)
    assert f"secretValues: stored in plain text in Pulumi.{stack}.yaml" in message, message
    assert "pulumi config set --secret --path 'secretValues.NAME' VALUE" in message, message
    assert VALUE not in message, "the error repeats the secret"
    assert not run.resources, "resources were registered despite the bad config"


def test_an_encrypted_value_from_a_stack_file_runs_offline(run_stack) -> None:
    """Pulumi.<stack>.yaml holds `{secure: v1:...}`; offline there is no key, so the program gets
    a placeholder and still creates the secret (tools.plan runs such stacks)."""
    ciphertext = "v1:AbCdEf0123456789:QUJDREVGR0hJSktMTU5PUA=="
    run = run_stack("dev", {"secretValues": {"DB_PASSWORD": {"secure": ciphertext}}})

    [version] = run.of_type(SECRET_VERSION)
    assert version.inputs["secretString"] == OFFLINE_SECRET
    assert ciphertext not in json.dumps([r.inputs for r in run.resources]), "ciphertext leaked"
    assert container(run)["secrets"][0]["name"] == "DB_PASSWORD"


def test_prod_secrets_are_protected_and_restorable_for_a_month(run_stack) -> None:
    run = run_stack("prod", ON)
    [secret] = run.of_type(SECRET)
    assert secret.protect, f"{secret.urn}: deletionProtection is on in prod"
    assert secret.inputs["recoveryWindowInDays"] == PROTECTED_RECOVERY_WINDOW_DAYS == 30
    [version] = run.of_type(SECRET_VERSION)
    assert not version.protect, f"{version.urn}: protecting it would block changing the value"


def test_dev_secrets_are_deletable_with_a_short_recovery_window(run_stack) -> None:
    [secret] = run_stack("dev", ON).of_type(SECRET)
    assert not secret.protect and secret.inputs["recoveryWindowInDays"] == RECOVERY_WINDOW_DAYS
    assert 7 <= RECOVERY_WINDOW_DAYS <= 30, "Secrets Manager accepts 7 to 30 days (or 0)"


@pytest.mark.parametrize("stack", STACKS)
def test_the_execution_role_reads_exactly_the_configured_secrets(run_stack, stack: str) -> None:
    run = run_stack(stack, ON)
    grant = secrets_grant(run)
    allowed = {(s["Action"], r) for s in grant for r in s["Resource"]}
    sm = "secretsmanager:GetSecretValue"
    own = {(sm, arn) for arn in app_secret_arns(run).values()}
    assert allowed == {
        (sm, FULL_ARN),
        (sm, f"{SM}:prod/api-XyZ789"),
        (sm, PARTIAL_ARN + "-??????"),
        ("ssm:GetParameters", PARAMETER_ARN),
        *own,
    }, execution_role(run).urn


@pytest.mark.parametrize("stack", STACKS)
def test_the_grant_has_reasons_and_no_wildcard_actions(run_stack, stack: str) -> None:
    for statement in secrets_grant(run_stack(stack, ON)):
        assert statement.get("Sid"), f"statement without a Sid: {statement}"
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        assert not any("*" in a for a in actions), statement
        assert statement["Effect"] == "Allow" and "Condition" not in statement
        assert not any(r == "*" or r.endswith(":*") for r in statement["Resource"]), statement


def test_no_kms_grant_with_aws_managed_keys(run_stack) -> None:
    actions = {a for s in secrets_grant(run_stack("prod", ON)) for a in [s["Action"]]}
    assert not any(a.startswith("kms:") for a in actions), (
        "aws/secretsmanager and aws/ssm need none"
    )


def test_the_grant_is_on_the_execution_role_not_the_app_role(run_stack) -> None:
    run = run_stack("prod", ON)
    definition = task_definition(run)
    [task_role] = [
        r for r in run.of_type(ROLE) if r.outputs["arn"] == definition.inputs["taskRoleArn"]
    ]
    granted = [s for p in inline_policies(run, task_role) for s in statements(p)]
    assert not [s for s in granted if "secretsmanager" in json.dumps(s)], task_role.urn


def test_tasks_start_only_after_the_secret_has_a_value_and_the_grant_exists(run_stack) -> None:
    run = run_stack("prod", ON)
    definition = task_definition(run)
    [version] = run.of_type(SECRET_VERSION)
    [grant] = inline_policies(run, execution_role(run))
    assert version.urn in definition.depends_on, "ECS fails to inject a secret with no value"
    assert grant.urn in definition.depends_on, "a task started before the grant cannot read it"


@pytest.mark.parametrize("stack", STACKS)
def test_ecs_accepts_the_task_definition_with_secrets(run_stack, stack: str) -> None:
    definition = task_definition(run_stack(stack, ON))
    members = REGISTER_TASK_DEFINITION.input_shape.members
    request = {k: v for k, v in definition.inputs.items() if k in members and k != "tags"}
    request["containerDefinitions"] = json.loads(request["containerDefinitions"])
    report = ParamValidator().validate(request, REGISTER_TASK_DEFINITION.input_shape)
    assert not report.has_errors(), f"{definition.urn}: {report.generate_report()}"


@pytest.mark.parametrize("stack", STACKS)
def test_preview_registers_the_secret_and_the_grant(run_stack, stack: str) -> None:
    run = run_stack(stack, ON, preview=True)
    assert len(run.of_type(SECRET)) == len(run.of_type(SECRET_VERSION)) == 1
    assert [p for p in run.of_type(ROLE_POLICY) if p.name == "app-exec-secrets"], (
        "the grant is planned in preview, its ARNs filled in at deploy"
    )


# --- the value travels as a Pulumi secret ---------------------------------------------------------


class RawRequests(RecordingMonitor):
    """Also keeps each registration's raw properties, secret markers included."""

    def __init__(self, monitor: RecordingMonitor) -> None:
        super().__init__(monitor.mocks)
        self.raw: dict[str, Any] = {}

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        self.raw[request.type + "::" + request.name] = request.object
        return response


@pytest.fixture
def raw_requests(pulumi_mocks: RecordingMonitor) -> RawRequests:
    monitor = RawRequests(pulumi_mocks)
    pulumi.runtime.set_mocks(monitor.mocks, project="fargate-app", stack="test", monitor=monitor)
    return monitor


@pulumi.runtime.test
def test_the_value_is_registered_as_a_pulumi_secret(raw_requests: RawRequests):
    secrets = AppSecrets("app", AppSecretsArgs(values={"SESSION_SECRET": VALUE}))

    def check(_: Any) -> None:
        struct = raw_requests.raw[f"{SECRET_VERSION}::app-SESSION_SECRET"]
        secret_string = struct.fields["secretString"].struct_value
        marker = secret_string.fields[rpc._special_sig_key].string_value
        assert marker == rpc._special_secret_sig, "secretString must be a Pulumi secret in state"

    return secrets.arns["SESSION_SECRET"].apply(check)
