"""The task roles (components/roles.py), as the task definition uses them.

What a user relies on: the ECS agent's execution role and the app's own task role are separate;
both can be assumed only by ECS tasks of this account (the confused-deputy guard); the execution
role has exactly AWS's managed execution policy; the app's role starts with nothing and never
holds a wildcard.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.roles import TaskRoles, TaskRolesArgs
from tools.mocks import ACCOUNT_ID, ProgramRun, RegisteredResource

REGION = "us-east-1"
ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
INLINE = "aws:iam/rolePolicy:RolePolicy"
EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"


def task_definition(run: ProgramRun) -> RegisteredResource:
    service = next(s for s in run.of_type("aws:ecs/service:Service") if s.name == "app-svc")
    return next(
        t
        for t in run.of_type("aws:ecs/taskDefinition:TaskDefinition")
        if t.outputs.get("arn") == service.inputs["taskDefinition"]
    )


def role_with_arn(run: ProgramRun, arn: str) -> RegisteredResource:
    found = [r for r in run.of_type(ROLE) if r.outputs.get("arn") == arn]
    assert len(found) == 1, f"no single role has the ARN {arn}"
    return found[0]


def execution_role(run: ProgramRun) -> RegisteredResource:
    return role_with_arn(run, task_definition(run).inputs["executionRoleArn"])


def task_role(run: ProgramRun) -> RegisteredResource:
    return role_with_arn(run, task_definition(run).inputs["taskRoleArn"])


def of_role(run: ProgramRun, type_token: str, role: RegisteredResource) -> list[RegisteredResource]:
    """Attachments or inline policies of `role` (they name it by its name)."""
    return [r for r in run.of_type(type_token) if r.inputs["role"] == role.outputs["name"]]


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


@pytest.fixture(params=["execution", "task"])
def either_role(request: pytest.FixtureRequest, dev: ProgramRun) -> RegisteredResource:
    return execution_role(dev) if request.param == "execution" else task_role(dev)


def test_the_execution_role_and_the_task_role_are_separate(dev: ProgramRun) -> None:
    assert execution_role(dev).urn != task_role(dev).urn, (
        "the app must not hold the ECS agent's permissions (image pulls, log writes)"
    )


def test_each_role_is_trusted_only_by_ecs_tasks(either_role: RegisteredResource) -> None:
    trust = json.loads(either_role.inputs["assumeRolePolicy"])
    statements = trust["Statement"]
    assert len(statements) == 1, f"{either_role.urn}: {len(statements)} trust statements, want 1"
    statement = statements[0]
    assert statement["Effect"] == "Allow" and statement["Action"] == "sts:AssumeRole"
    assert statement["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}, (
        f"{either_role.urn} trusts {statement['Principal']}, want ecs-tasks.amazonaws.com only"
    )
    assert statement.get("Sid"), f"{either_role.urn}: say why the statement exists"


def test_each_role_trusts_only_tasks_of_this_account(either_role: RegisteredResource) -> None:
    condition = json.loads(either_role.inputs["assumeRolePolicy"])["Statement"][0]["Condition"]
    assert condition["StringEquals"]["aws:SourceAccount"] == ACCOUNT_ID, (
        f"{either_role.urn}: without aws:SourceAccount another account's tasks could assume it"
    )
    source_arn = condition["ArnLike"]["aws:SourceArn"]
    assert source_arn == f"arn:aws:ecs:{REGION}:{ACCOUNT_ID}:*", (
        f"{either_role.urn}: aws:SourceArn {source_arn} is not this account's ECS in {REGION}"
    )


def test_the_execution_role_has_the_aws_managed_execution_policy(dev: ProgramRun) -> None:
    role = execution_role(dev)
    attached = [a.inputs["policyArn"] for a in of_role(dev, ATTACHMENT, role)]
    assert EXECUTION_POLICY in attached, f"{role.urn} cannot pull the image or write logs"


def test_the_task_role_has_no_managed_policy(dev: ProgramRun) -> None:
    role = task_role(dev)
    attached = [a.inputs["policyArn"] for a in of_role(dev, ATTACHMENT, role)]
    assert not attached, f"{role.urn}: managed policies grant wildcards; grant what the app needs"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_task_role_never_allows_wildcard_actions_or_resources(run_stack, stack: str) -> None:
    run = run_stack(stack)
    role = task_role(run)
    for policy in of_role(run, INLINE, role):
        for statement in json.loads(policy.inputs["policy"])["Statement"]:
            if statement.get("Effect") != "Allow":
                continue
            for action in as_list(statement.get("Action", [])):
                assert "*" not in action, f"{policy.urn} allows the wildcard action {action}"
            for resource in as_list(statement.get("Resource", [])):
                assert resource != "*" and not resource.endswith(":*"), (
                    f"{policy.urn} allows {resource}: name the app's resources"
                )
            assert "NotAction" not in statement and "NotResource" not in statement, policy.urn


def test_the_apps_own_grants_go_to_the_task_role_only(run_component) -> None:
    grant = {
        "Sid": "ReadTheAppsBucket",
        "Effect": "Allow",
        "Action": ["s3:GetObject"],
        "Resource": ["arn:aws:s3:::app-data/*"],
    }
    run = run_component(lambda: TaskRoles("app", TaskRolesArgs(task_policy_statements=(grant,))))
    roles = {r.name: r for r in run.of_type(ROLE)}
    inline = run.one(INLINE)
    assert inline.inputs["role"] == roles["app-task"].outputs["name"], (
        f"{inline.urn} must attach to the app's role, not the execution role"
    )
    assert json.loads(inline.inputs["policy"])["Statement"] == [grant]


def test_without_grants_the_task_role_can_do_nothing(run_component) -> None:
    run = run_component(lambda: TaskRoles("app", TaskRolesArgs()))
    assert not run.of_type(INLINE), "least privilege starts at zero"
    attachments = run.of_type(ATTACHMENT)
    assert [a.inputs["policyArn"] for a in attachments] == [EXECUTION_POLICY], attachments


# --- preview: what `pulumi preview` shows before the roles exist ----------------------------------
# Role names and ARNs are unknown in preview, so roles are found by their resource names and their
# policies by what they depend on.

GRANT = {
    "Sid": "ReadTheAppsBucket",
    "Effect": "Allow",
    "Action": ["s3:GetObject"],
    "Resource": ["arn:aws:s3:::app-data/*"],
}
SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:db-AbCdEf"
ROLE_VARIANTS = {
    "default": TaskRolesArgs(),
    "grant": TaskRolesArgs(task_policy_statements=(GRANT,)),
    "secrets": TaskRolesArgs(secret_arns=(SECRET_ARN,)),
    "exec": TaskRolesArgs(enable_exec=True),
    "blue-green": TaskRolesArgs(load_balancer_infrastructure=True),
}


@pytest.fixture(scope="module")
def roles(run_component):
    """Given TaskRolesArgs (by variant), when TaskRoles 'app' is created alone (cached)."""
    cache: dict[tuple[str, bool], ProgramRun] = {}

    def build(variant: str = "default", *, preview: bool = False) -> ProgramRun:
        if (variant, preview) not in cache:
            cache[variant, preview] = run_component(
                lambda: TaskRoles("app", ROLE_VARIANTS[variant]), preview=preview
            )
        return cache[variant, preview]

    return build


def planned_role(run: ProgramRun, name: str) -> RegisteredResource:
    found = [r for r in run.of_type(ROLE) if r.name == name]
    assert len(found) == 1, f"expected one role {name!r}, found {len(found)}"
    return found[0]


def planned_for(run: ProgramRun, type_token: str, role: RegisteredResource) -> list:
    """Attachments or inline policies planned for `role` (they take its name as input)."""
    return [r for r in run.of_type(type_token) if role.urn in r.depends_on]


@pytest.mark.parametrize("variant", ROLE_VARIANTS)
def test_preview_plans_exactly_the_roles_an_update_creates(roles, variant: str) -> None:
    up = {r.urn for r in roles(variant).resources}
    planned = {r.urn for r in roles(variant, preview=True).resources}
    assert planned == up, (
        f"{variant}: `pulumi preview` hides {sorted(up - planned)} that `pulumi up` creates "
        f"and shows {sorted(planned - up)} that it does not"
    )


@pytest.mark.parametrize("name", ["app-exec", "app-task"])
def test_preview_shows_each_role_trusted_only_by_this_accounts_ecs_tasks(roles, name: str) -> None:
    role = planned_role(roles(preview=True), name)
    trust = json.loads(role.inputs["assumeRolePolicy"])
    [statement] = trust["Statement"]
    assert statement["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}, (
        f"preview shows {role.urn} trusted by {statement['Principal']}"
    )
    condition = statement["Condition"]
    assert condition["StringEquals"]["aws:SourceAccount"] == ACCOUNT_ID, (
        f"preview shows {role.urn} without the aws:SourceAccount guard"
    )
    assert condition["ArnLike"]["aws:SourceArn"] == f"arn:aws:ecs:{REGION}:{ACCOUNT_ID}:*"
    up = planned_role(roles(), name)
    assert trust == json.loads(up.inputs["assumeRolePolicy"]), (
        f"preview shows another trust policy for {role.urn} than `pulumi up` applies"
    )


def test_preview_attaches_the_execution_policy_to_the_execution_role_only(roles) -> None:
    run = roles(preview=True)
    execution, task = planned_role(run, "app-exec"), planned_role(run, "app-task")
    attached = [a.inputs["policyArn"] for a in planned_for(run, ATTACHMENT, execution)]
    assert attached == [EXECUTION_POLICY], (
        f"preview shows {execution.urn} with {attached}: it could not pull the image"
    )
    assert not planned_for(run, ATTACHMENT, task) and not planned_for(run, INLINE, task), (
        f"preview shows grants on {task.urn}, which must start with nothing"
    )


def test_preview_gives_the_apps_grants_to_the_task_role(roles) -> None:
    run = roles("grant", preview=True)
    execution, task = planned_role(run, "app-exec"), planned_role(run, "app-task")
    [policy] = planned_for(run, INLINE, task)
    assert json.loads(policy.inputs["policy"])["Statement"] == [GRANT], policy.urn
    assert not planned_for(run, INLINE, execution), (
        f"preview gives the app's grant to {execution.urn}"
    )


def test_preview_shows_the_infrastructure_role_trusted_only_by_this_accounts_ecs(roles) -> None:
    run = roles("blue-green", preview=True)
    role = planned_role(run, "app-ecs-infra")
    [statement] = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"Service": "ecs.amazonaws.com"}, role.urn
    assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == ACCOUNT_ID, role.urn
    attached = [a.inputs["policyArn"] for a in planned_for(run, ATTACHMENT, role)]
    assert attached == [], (
        f"preview shows {role.urn} with {attached}; the service grants it its own resources"
    )


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_preview_plans_the_task_definition_after_its_roles_policies(run_stack, stack: str) -> None:
    run = run_stack(stack, preview=True)
    service = next(s for s in run.of_type("aws:ecs/service:Service") if s.name == "app-svc")
    [definition] = [
        t
        for t in run.of_type("aws:ecs/taskDefinition:TaskDefinition")
        if t.urn in service.depends_on
    ]
    used = [r for r in run.of_type(ROLE) if r.urn in definition.depends_on]
    assert sorted(r.name for r in used) == ["app-exec", "app-task"], (
        f"preview plans {definition.urn} with the roles {[r.name for r in used]}"
    )
    execution = planned_role(run, "app-exec")
    grants = planned_for(run, ATTACHMENT, execution) + planned_for(run, INLINE, execution)
    assert grants, f"preview shows {execution.urn} without its execution policy"
    for grant in grants:
        assert grant.urn in definition.depends_on, (
            f"{definition.urn} is planned before {grant.urn}: its tasks could start without it"
        )


def test_a_role_path_iam_refuses_fails_before_anything_is_created(run_component) -> None:
    from components.spec import RolePlacement

    run = run_component(
        lambda: TaskRoles("app", TaskRolesArgs(roles=RolePlacement(path="fargate-app/dev"))),
        check=False,
    )
    assert isinstance(run.error, ValueError) and "roles: path 'fargate-app/dev'" in str(run.error)
    assert not run.custom_resources, [r.urn for r in run.custom_resources]


def test_moving_the_roles_to_the_stack_s_path_keeps_their_urns_and_replaces_them(
    run_component,
) -> None:
    """The upgrade to the stack's path (docs/ci.md): the same URNs, so Pulumi replaces each role
    in place of deleting one resource and creating another; the path, which IAM cannot change
    (UpdateRole takes no Path), is the difference that replaces them."""
    from components.spec import RolePlacement, stack_role_path

    def roles(placement: RolePlacement) -> dict[str, RegisteredResource]:
        args = TaskRolesArgs(load_balancer_infrastructure=True, roles=placement)
        run = run_component(lambda: TaskRoles("app", args))
        return {r.urn: r for r in run.of_type("aws:iam/role:Role")}

    before = roles(RolePlacement())
    after = roles(RolePlacement(path=stack_role_path("fargate-app", "dev")))
    assert len(before) == 3 and set(before) == set(after), "the URNs stay the same"
    for urn, role in after.items():
        assert (before[urn].inputs.get("path"), role.inputs.get("path")) == (
            "/",
            "/fargate-app/dev/",
        ), urn
