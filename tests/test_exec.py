"""ECS Exec (`enableExec`) and the container's security controls (components/task_definition.py,
components/roles.py).

What a user relies on: nobody can open a shell in a task unless the stack turns exec on; with it
on, the app's role can open exec sessions and nothing more, the task definition has what exec needs
(an init process, the SSM agent's writable paths) while the root filesystem stays read-only; and
in every case the container runs as the image's non-root user and is never privileged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from components.roles import EXEC_ACTIONS, EXEC_SID
from components.spec import EXEC_AGENT_VOLUMES
from stack_config import NON_ROOT_POLICY as NON_ROOT
from stack_config import READ_ONLY_ROOT_POLICY as READ_ONLY_ROOT
from stack_config import load_config
from tests.iam_eval import ALLOW, Request, allowed, kms_decide
from tools.mocks import ProgramRun, RegisteredResource, config_for_runtime, load_stack_config

ROOT = Path(__file__).resolve().parent.parent
STACKS = ("dev", "prod")
PROJECT = "fargate-app"
ON = {"enableExec": True}
SERVICE = "aws:ecs/service:Service"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
LOG_GROUP_OF_SESSIONS = "aws:cloudwatch/logGroup:LogGroup"
KMS_KEY = "aws:kms/key:Key"
SSM_PATHS = {"/managed-agents", "/var/lib/amazon/ssm", "/var/log/amazon/ssm"}
REGISTER_TASK_DEFINITION = (
    botocore.session.get_session()
    .get_service_model("ecs")
    .operation_model("RegisterTaskDefinition")
)


def child(run: ProgramRun, type_token: str) -> RegisteredResource:
    [service] = [r for r in run.of_type("fargate-app:service:FargateService") if r.name == "app"]
    [found] = [r for r in run.children(service) if r.type == type_token]
    return found


def container(run: ProgramRun) -> dict[str, Any]:
    [app] = json.loads(child(run, TASK_DEFINITION).inputs["containerDefinitions"])
    return app


def role(run: ProgramRun, key: str) -> RegisteredResource:
    arn = child(run, TASK_DEFINITION).inputs[key]
    [found] = [r for r in run.of_type(ROLE) if r.outputs["arn"] == arn]
    return found


def granted(run: ProgramRun, role_: RegisteredResource) -> list[dict[str, Any]]:
    policies = [p for p in run.of_type(ROLE_POLICY) if p.inputs["role"] == role_.outputs["name"]]
    return [s for p in policies for s in json.loads(p.inputs["policy"])["Statement"]]


def actions(statement: dict[str, Any]) -> list[str]:
    value = statement["Action"]
    return value if isinstance(value, list) else [value]


# --- off by default -----------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_exec_is_off_in_the_committed_stacks(run_stack, stack: str) -> None:
    run = run_stack(stack)
    service = child(run, SERVICE)
    assert service.inputs.get("enableExecuteCommand") is False, f"{service.urn}: exec must be off"


@pytest.mark.parametrize("stack", STACKS)
def test_without_exec_no_role_may_open_sessions(run_stack, stack: str) -> None:
    run = run_stack(stack)
    everything = json.dumps([p.inputs.get("policy") for p in run.of_type(ROLE_POLICY)])
    assert "ssmmessages" not in everything, "exec permissions without enableExec"


@pytest.mark.parametrize("stack", STACKS)
def test_without_exec_the_task_definition_is_unchanged(run_stack, stack: str) -> None:
    run = run_stack(stack)
    app = container(run)
    assert "initProcessEnabled" not in app.get("linuxParameters", {})
    assert {m["containerPath"] for m in app["mountPoints"]} == {"/tmp"}
    assert [v["name"] for v in child(run, TASK_DEFINITION).inputs["volumes"]] == ["tmp"]


# --- on -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_exec_turns_on_execute_command_on_the_service(run_stack, stack: str) -> None:
    service = child(run_stack(stack, ON), SERVICE)
    assert service.inputs["enableExecuteCommand"] is True, service.urn


def session_record(run: ProgramRun) -> tuple[RegisteredResource, RegisteredResource]:
    """The exec sessions' log group and key."""
    [component] = run.of_type("fargate-app:exec:ExecSessions")
    [group] = [r for r in run.children(component) if r.type == LOG_GROUP_OF_SESSIONS]
    [key] = [r for r in run.children(component) if r.type == KMS_KEY]
    return group, key


def by_sid(statements: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in statements}


@pytest.mark.parametrize("stack", STACKS)
def test_the_app_role_gets_exactly_the_session_channel_actions(run_stack, stack: str) -> None:
    run = run_stack(stack, ON)
    statement = by_sid(granted(run, role(run, "taskRoleArn")))[EXEC_SID]
    assert (
        sorted(actions(statement))
        == sorted(EXEC_ACTIONS)
        == sorted(
            [
                "ssmmessages:CreateControlChannel",
                "ssmmessages:CreateDataChannel",
                "ssmmessages:OpenControlChannel",
                "ssmmessages:OpenDataChannel",
            ]
        )
    )
    # ssmmessages has no resource types: "*" is the only resource IAM takes, and the Sid says so.
    assert statement["Resource"] == "*" and statement["Effect"] == "Allow"
    assert "NoResourceScope" in statement["Sid"], statement["Sid"]
    assert not any(a.endswith("*") for a in actions(statement)), "no wildcard actions"


@pytest.mark.parametrize("stack", STACKS)
def test_the_app_role_may_record_sessions_in_their_log_group_and_decrypt_with_their_key(
    run_stack, stack: str
) -> None:
    run = run_stack(stack, ON)
    statements = granted(run, role(run, "taskRoleArn"))
    group, key = session_record(run)
    group_arn, key_arn = group.outputs["arn"], key.outputs["arn"]
    may = lambda action, resource: allowed(Request(action, resource), [{"Statement": statements}])  # noqa: E731
    for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
        assert may(action, f"{group_arn}:log-stream:ecs-execute-command-1"), action
        assert not may(action, f"{group_arn}-other:log-stream:s"), f"{action} beyond its group"
    assert may("logs:DescribeLogGroups", "*")
    assert may("kms:Decrypt", key_arn)
    # Through the key's own policy, as KMS decides: it must hand the key to IAM.
    task_role = role(run, "taskRoleArn")
    request = Request("kms:Decrypt", key_arn, task_role.outputs["arn"])
    key_policy = json.loads(key.inputs["policy"])
    assert kms_decide(request, [{"Statement": statements}], key_policy) == ALLOW, (
        "the key policy keeps the task role from decrypting its sessions"
    )
    assert not may("kms:Decrypt", key_arn.rsplit("/", 1)[0] + "/another-key")
    assert not may("kms:GenerateDataKey", key_arn), "the task only decrypts"
    assert len(statements) == 4, f"expected channels, describe, write and decrypt: {statements}"


def test_the_execution_role_gets_no_exec_permission(run_stack) -> None:
    run = run_stack("prod", ON)
    assert "ssmmessages" not in json.dumps(granted(run, role(run, "executionRoleArn")))


def test_the_task_role_is_ready_before_the_tasks(run_stack) -> None:
    run = run_stack("prod", ON)
    [policy] = [p for p in run.of_type(ROLE_POLICY) if "ssmmessages" in p.inputs["policy"]]
    assert policy.urn in child(run, TASK_DEFINITION).depends_on, (
        "a task started before the grant cannot open sessions until it is replaced"
    )


@pytest.mark.parametrize("stack", STACKS)
def test_exec_runs_an_init_process(run_stack, stack: str) -> None:
    assert container(run_stack(stack, ON))["linuxParameters"]["initProcessEnabled"] is True


@pytest.mark.parametrize("stack", STACKS)
def test_the_root_filesystem_stays_read_only_with_writable_agent_paths(run_stack, stack) -> None:
    run = run_stack(stack, ON)
    app = container(run)
    assert app["readonlyRootFilesystem"] is True, "Security Hub ECS.5 holds with exec on"
    volumes = {v["name"] for v in child(run, TASK_DEFINITION).inputs["volumes"]}
    mounts = {m["containerPath"]: m for m in app["mountPoints"]}
    assert SSM_PATHS | {"/tmp"} == set(mounts)
    for path in SSM_PATHS:
        assert mounts[path]["sourceVolume"] in volumes and mounts[path]["readOnly"] is False, path
    assert set(EXEC_AGENT_VOLUMES.values()) == SSM_PATHS


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("overrides", [{}, ON], ids=["default", "exec"])
def test_ecs_accepts_the_task_definition(run_stack, stack: str, overrides: dict) -> None:
    definition = child(run_stack(stack, overrides), TASK_DEFINITION)
    members = REGISTER_TASK_DEFINITION.input_shape.members
    request = {k: v for k, v in definition.inputs.items() if k in members and k != "tags"}
    request["containerDefinitions"] = json.loads(request["containerDefinitions"])
    report = ParamValidator().validate(request, REGISTER_TASK_DEFINITION.input_shape)
    assert not report.has_errors(), f"{definition.urn}: {report.generate_report()}"


@pytest.mark.parametrize("stack", STACKS)
def test_preview_plans_exec_with_its_grant(run_stack, stack: str) -> None:
    run = run_stack(stack, ON, preview=True)
    assert child(run, SERVICE).inputs["enableExecuteCommand"] is True
    assert [p for p in run.of_type(ROLE_POLICY) if p.name == "app-task-exec"]


# --- the container's security controls -----------------------------------------------------------


def stack_user(stack: str) -> str | None:
    """The containerUser the committed stack asks for, through the program's own loader."""
    raw = config_for_runtime(PROJECT, load_stack_config(ROOT, stack))
    return load_config(raw, stack=stack).container_user


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("overrides", [{}, ON], ids=["default", "exec"])
def test_the_container_runs_as_the_stack_s_non_root_user(run_stack, stack, overrides) -> None:
    user = container(run_stack(stack, overrides)).get("user")
    assert user == stack_user(stack), "the task definition names the stack's containerUser"
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) != 0 and gid.isdigit() and int(gid) != 0, (
        "a numeric, non-root UID:GID (Security Hub ECS.20)"
    )


WAIVED = "the vendor image needs it, ticket OPS-12"
# (settings, the user ECS gets (None: the key is absent), read-only root, writable paths)
RUNTIME_VARIANTS = {
    "another-user": ({"containerUser": "1000:1000"}, "1000:1000", True, {"/tmp"}),
    "image-user": (
        {"containerUser": "image", "policyWaivers": {NON_ROOT: WAIVED}},
        None,
        True,
        {"/tmp"},
    ),
    "writable-root": (
        {"readOnlyRootFilesystem": False, "policyWaivers": {READ_ONLY_ROOT: WAIVED}},
        "10001:10001",
        False,
        set(),
    ),
    "more-paths": (
        {"writablePaths": ["/tmp", "/var/cache/app", "/home/app/.cache"]},
        "10001:10001",
        True,
        {"/tmp", "/var/cache/app", "/home/app/.cache"},
    ),
}


@pytest.mark.parametrize("variant", RUNTIME_VARIANTS)
def test_the_container_runs_as_the_settings_say_and_ecs_accepts_it(run_stack, variant) -> None:
    settings, user, read_only, paths = RUNTIME_VARIANTS[variant]
    run = run_stack("dev", settings)
    app = container(run)
    assert app.get("user") == user, f"{variant}: user {app.get('user')!r}"
    assert app["readonlyRootFilesystem"] is read_only
    volumes = {v["name"] for v in child(run, TASK_DEFINITION).inputs["volumes"]}
    mounts = {m["containerPath"]: m["sourceVolume"] for m in app["mountPoints"]}
    assert set(mounts) == paths and set(mounts.values()) <= volumes, (mounts, volumes)
    definition = child(run, TASK_DEFINITION)
    members = REGISTER_TASK_DEFINITION.input_shape.members
    request = {k: v for k, v in definition.inputs.items() if k in members and k != "tags"}
    request["containerDefinitions"] = json.loads(request["containerDefinitions"])
    report = ParamValidator().validate(request, REGISTER_TASK_DEFINITION.input_shape)
    assert not report.has_errors(), f"{variant}: {report.generate_report()}"


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("overrides", [{}, ON], ids=["default", "exec"])
def test_the_container_is_never_privileged(run_stack, stack, overrides) -> None:
    app = container(run_stack(stack, overrides))
    assert "privileged" not in app, "Fargate rejects privileged containers (Security Hub ECS.4)"
    capabilities = app.get("linuxParameters", {}).get("capabilities", {})
    assert not capabilities.get("add"), "no added Linux capabilities"


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("overrides", [{}, ON], ids=["default", "exec"])
def test_the_container_drops_every_linux_capability(run_stack, stack, overrides) -> None:
    capabilities = container(run_stack(stack, overrides))["linuxParameters"]["capabilities"]
    assert capabilities == {"drop": ["ALL"]}, (
        "the app needs no capability, and ECS Exec's root agent runs with none (docs/security.md)"
    )


# --- sessions recorded and encrypted ------------------------------------------------------------
UPDATE_CLUSTER = (
    botocore.session.get_session().get_service_model("ecs").operation_model("UpdateCluster")
)


def cluster(run: ProgramRun) -> RegisteredResource:
    [found] = run.of_type("aws:ecs/cluster:Cluster")
    return found


@pytest.mark.parametrize("stack", STACKS)
def test_without_exec_nothing_records_sessions(run_stack, stack: str) -> None:
    run = run_stack(stack)
    assert not run.of_type("fargate-app:exec:ExecSessions")
    assert "configuration" not in cluster(run).inputs, "an execute command configuration"


@pytest.mark.parametrize("stack", STACKS)
def test_the_cluster_records_every_session_in_the_encrypted_log_group(run_stack, stack) -> None:
    run = run_stack(stack, ON)
    group, key = session_record(run)
    configuration = cluster(run).inputs["configuration"]["executeCommandConfiguration"]
    assert configuration == {
        "kmsKeyId": key.outputs["arn"],
        "logging": "OVERRIDE",
        "logConfiguration": {
            "cloudWatchLogGroupName": group.outputs["name"],
            "cloudWatchEncryptionEnabled": True,
        },
    }
    assert group.inputs["kmsKeyId"] == key.outputs["arn"], "ECS refuses an unencrypted group"


def test_ecs_accepts_the_execute_command_configuration(run_stack) -> None:
    configuration = cluster(run_stack("prod", ON)).inputs["configuration"]
    request = {"cluster": "c", "configuration": configuration}
    report = ParamValidator().validate(request, UPDATE_CLUSTER.input_shape)
    assert not report.has_errors(), report.generate_report()


@pytest.mark.parametrize("stack", STACKS)
def test_the_session_key_rotates_and_survives_a_mistaken_delete(run_stack, stack) -> None:
    _, key = session_record(run_stack(stack, ON))
    assert key.inputs["enableKeyRotation"] is True, "Security Hub KMS.4"
    assert key.inputs["deletionWindowInDays"] == 30, "KMS's longest: a month to cancel"


def test_prod_protects_the_session_record(run_stack) -> None:
    group, key = session_record(run_stack("prod", ON))
    assert group.protect and key.protect, "deletionProtection: sessions outlive a pulumi destroy"
    dev_group, dev_key = session_record(run_stack("dev", ON))
    assert not dev_group.protect and not dev_key.protect


def test_cloudwatch_logs_may_use_the_key_for_the_session_group_only(run_stack) -> None:
    group, key = session_record(run_stack("prod", ON))
    policy = json.loads(key.inputs["policy"])
    logs = {"Service": "logs.us-east-1.amazonaws.com"}
    [statement] = [s for s in policy["Statement"] if s["Principal"] == logs]
    context = statement["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"]
    assert context == group.outputs["arn"], "the key encrypts this log group and no other"
    for s in policy["Statement"]:
        assert s.get("Sid"), "every statement says what it allows"


def test_the_session_log_group_keeps_the_stacks_retention(run_stack) -> None:
    group, _ = session_record(run_stack("prod", ON))
    assert group.inputs["retentionInDays"] == 90
    assert group.outputs["name"] == "/ecs/fargate-app/prod/exec-sessions"


def test_private_tasks_reach_kms_through_an_endpoint_to_decrypt_sessions(run_stack) -> None:
    run = run_stack("dev", {**ON, "vpcEndpoints": True, "natGateways": "none"})
    services = {
        r.inputs["serviceName"].rsplit(".", 1)[-1]
        for r in run.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
    }
    assert {"ssmmessages", "kms", "logs"} <= services, services


def test_preview_plans_the_record_with_exec(run_stack) -> None:
    run = run_stack("prod", ON, preview=True)
    assert len(run.of_type("fargate-app:exec:ExecSessions")) == 1
    configuration = cluster(run).inputs["configuration"]["executeCommandConfiguration"]
    assert configuration["logging"] == "OVERRIDE"
