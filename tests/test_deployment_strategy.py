"""Deployment strategies (`deploymentStrategy`, `bakeTimeMinutes`, `canaryPercent`;
components/service.py and the ECS infrastructure role in components/roles.py).

What a user relies on: rolling stays today's 75-second deploy with nothing extra; blueGreen and
canary use ECS's native strategies, with the second target group, the production listener rule
forwarding to both (weights ECS moves and `pulumi up` leaves alone), and the infrastructure role
ECS assumes to move them; the bake time and canary share are what was configured; the service
inputs are what pulumi-aws and ECS's CreateService accept; a failed deploy still rolls back and
`pulumi up` waits for it long enough; and the deploy model itemises the bake time.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import botocore.session
import pulumi_aws as aws
import pytest
from botocore.model import Shape
from botocore.validate import ParamValidator

from components.service import (
    DEPLOY_TIMEOUT_MARGIN_MIN,
    FULL_WEIGHT,
    FargateService,
    FargateServiceArgs,
    LoadBalancerRoute,
    ServicePlacement,
    deploy_model,
    deploy_timeouts,
    deployment_configuration,
    rolling_deploy_model,
    traffic_shift_deploy_model,
)
from components.spec import Deployment
from components.task_definition import AppContainer
from tests.iam_eval import Request, allowed
from tools.mocks import ProgramRun, RegisteredResource

STACKS = ("dev", "prod")
SHIFTING = ("blueGreen", "canary")
SERVICE = "aws:ecs/service:Service"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
LISTENER_RULE = "aws:lb/listenerRule:ListenerRule"
ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
CREATE_SERVICE = (
    botocore.session.get_session().get_service_model("ecs").operation_model("CreateService")
)
BAKE, CANARY = 7, 25


def strategy(name: str, **extra: Any) -> dict[str, Any]:
    return {"deploymentStrategy": name, **extra}


def component(run: ProgramRun) -> RegisteredResource:
    [found] = [r for r in run.of_type("fargate-app:service:FargateService") if r.name == "app"]
    return found


def child(run: ProgramRun, type_token: str) -> list[RegisteredResource]:
    return [r for r in run.children(component(run)) if r.type == type_token]


def ecs_service(run: ProgramRun) -> RegisteredResource:
    [service] = child(run, SERVICE)
    return service


def rule(run: ProgramRun) -> RegisteredResource:
    [found] = child(run, LISTENER_RULE)
    return found


def groups(run: ProgramRun) -> dict[str, RegisteredResource]:
    return {g.name: g for g in child(run, TARGET_GROUP)}


def infrastructure_roles(run: ProgramRun) -> list[RegisteredResource]:
    return [
        r
        for r in run.of_type(ROLE)
        if "ecs.amazonaws.com" in json.dumps(json.loads(r.inputs["assumeRolePolicy"]))
        and "ecs-tasks" not in r.inputs["assumeRolePolicy"]
    ]


# --- rolling: today's behaviour -------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_rolling_is_the_default_with_one_target_group_and_a_plain_rule(run_stack, stack) -> None:
    run = run_stack(stack)
    assert list(groups(run)) == ["app-tg"]
    [action] = rule(run).inputs["actions"]
    assert action == {"type": "forward", "targetGroupArn": groups(run)["app-tg"].outputs["arn"]}
    assert rule(run).ignore_changes == [], "under rolling, pulumi up owns the rule"


@pytest.mark.parametrize("stack", STACKS)
def test_rolling_is_explicit_so_a_service_can_switch_back(run_stack, stack: str) -> None:
    service = ecs_service(run_stack(stack))
    assert service.inputs["deploymentConfiguration"] == {"strategy": "ROLLING"}, service.urn
    assert service.inputs["deploymentController"] == {"type": "ECS"}
    [attachment] = service.inputs["loadBalancers"]
    assert "advancedConfiguration" not in attachment


@pytest.mark.parametrize("stack", STACKS)
def test_rolling_needs_no_infrastructure_role(run_stack, stack: str) -> None:
    assert infrastructure_roles(run_stack(stack)) == []


def test_the_rolling_model_is_unchanged() -> None:
    assert deploy_model("rolling") == rolling_deploy_model()
    assert sum(rolling_deploy_model().values()) <= 75
    assert deploy_timeouts(Deployment(strategy="rolling")) is None, (
        "rolling keeps the provider's default wait"
    )


# --- blueGreen and canary -------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("name", SHIFTING)
def test_a_second_identical_target_group(run_stack, stack: str, name: str) -> None:
    found = groups(run_stack(stack, strategy(name)))
    assert sorted(found) == ["app-tg", "app-tg-alt"]
    primary, alternate = found["app-tg"].inputs, found["app-tg-alt"].inputs
    assert {k: v for k, v in primary.items() if k != "name"} == {
        k: v for k, v in alternate.items() if k != "name"
    }, "ECS puts each revision in either group: they must check and drain alike"


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("name", SHIFTING)
def test_the_rule_forwards_to_both_groups_all_traffic_to_the_primary(run_stack, stack, name):
    run = run_stack(stack, strategy(name))
    [action] = rule(run).inputs["actions"]
    assert action["type"] == "forward" and "targetGroupArn" not in action
    weights = {t["arn"]: t["weight"] for t in action["forward"]["targetGroups"]}
    assert weights == {
        groups(run)["app-tg"].outputs["arn"]: 100,
        groups(run)["app-tg-alt"].outputs["arn"]: 0,
    }


# --- what `pulumi up` sends after ECS has moved things -------------------------------------------
# The engine's ignoreChanges rule (pulumi.com/docs/iac/concepts/options/ignorechanges): for each
# ignored property path, the old inputs' value replaces the program's; a path the old inputs lack
# keeps the program's value (pulumi/pulumi#20278). `pulumi up` then diffs what remains.

_PATH_STEP = re.compile(r"([A-Za-z_]\w*)|\[(\d+)\]")


def _steps(path: str) -> list[str | int]:
    return [int(i) if i else name for name, i in _PATH_STEP.findall(path)]


def _lookup(value: Any, steps: list[str | int]) -> tuple[bool, Any]:
    for step in steps:
        present = (
            step < len(value)
            if isinstance(value, list) and isinstance(step, int)
            else isinstance(value, dict) and step in value
        )
        if not present:
            return False, None
        value = value[step]
    return True, value


def after_ignore_changes(old: dict, new: dict, ignored: list[str]) -> dict:
    """The inputs `pulumi up` goes on with: `new` with each ignored path that `old` has taken
    from `old`."""
    result = copy.deepcopy(new)
    for path in ignored:
        steps = _steps(path)
        found, value = _lookup(old, steps)
        if not found:
            continue
        parent_found, parent = _lookup(result, steps[:-1])
        assert parent_found, f"{path}: the program has no {steps[:-1]}"
        parent[steps[-1]] = copy.deepcopy(value)
    return result


def swapped(inputs: dict) -> dict:
    """The service's inputs as ECS records them after a blueGreen/canary deploy: the groups
    swapped."""
    swapped_inputs = copy.deepcopy(inputs)
    [attachment] = swapped_inputs["loadBalancers"]
    advanced = attachment["advancedConfiguration"]
    attachment["targetGroupArn"], advanced["alternateTargetGroupArn"] = (
        advanced["alternateTargetGroupArn"],
        attachment["targetGroupArn"],
    )
    return swapped_inputs


def shifted(inputs: dict) -> dict:
    """The rule as ECS leaves it after moving all traffic to the alternate group."""
    moved = copy.deepcopy(inputs)
    for group in moved["actions"][0]["forward"]["targetGroups"]:
        group["weight"] = FULL_WEIGHT - group["weight"]
    return moved


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("name", SHIFTING)
def test_pulumi_up_leaves_the_target_groups_ecs_swapped(run_stack, stack, name) -> None:
    """After a deploy ECS records the live group as the service's target group; writing the
    original back would make the next deploy reuse it (hashicorp/terraform-provider-aws#45678)."""
    service = ecs_service(run_stack(stack, strategy(name)))
    live = swapped(service.inputs)  # the state after a deploy and `pulumi refresh`

    sent = after_ignore_changes(live, service.inputs, service.ignore_changes)

    assert sent["loadBalancers"] == live["loadBalancers"], (
        f"{service.urn}: pulumi up would swap the target groups back: {sent['loadBalancers']}"
    )
    assert ("desiredCount" in service.ignore_changes) == (stack == "prod")


@pytest.mark.parametrize("name", SHIFTING)
def test_pulumi_up_leaves_the_weights_ecs_moved(run_stack, name: str) -> None:
    found = rule(run_stack("prod", strategy(name)))
    live = shifted(found.inputs)

    sent = after_ignore_changes(live, found.inputs, found.ignore_changes)

    assert sent["actions"] == live["actions"], (
        f"{found.urn}: after a deploy the live tasks may be in either group; resetting the "
        "weights would send users to the empty one"
    )


SYNC = {"syncTrafficRouting": True}


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("name", SHIFTING)
def test_a_plain_switch_from_rolling_keeps_the_rolling_block(run_stack, stack, name) -> None:
    """Why the switch takes syncTrafficRouting: without it `pulumi up` keeps the running service's
    load balancer block, which has no alternate group, and ECS refuses BLUE_GREEN/CANARY."""
    was = ecs_service(run_stack(stack))
    service = ecs_service(run_stack(stack, strategy(name)))

    sent = after_ignore_changes(was.inputs, service.inputs, service.ignore_changes)

    assert "advancedConfiguration" not in sent["loadBalancers"][0]


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("name", SHIFTING)
def test_switching_from_rolling_with_sync_gives_the_service_its_alternate_group(
    run_stack, stack, name
) -> None:
    was = ecs_service(run_stack(stack))
    service = ecs_service(run_stack(stack, strategy(name, **SYNC)))

    sent = after_ignore_changes(was.inputs, service.inputs, service.ignore_changes)

    [attachment] = sent["loadBalancers"]
    assert attachment == service.inputs["loadBalancers"][0], (
        f"{service.urn}: switching from rolling would keep the old load balancer block: "
        f"{attachment}"
    )
    assert attachment["advancedConfiguration"]["alternateTargetGroupArn"]
    assert ("desiredCount" in service.ignore_changes) == (stack == "prod"), (
        "syncTrafficRouting must not hand the task count back from autoscaling"
    )


@pytest.mark.parametrize("name", SHIFTING)
def test_switching_from_rolling_with_sync_gives_the_rule_both_groups(run_stack, name) -> None:
    was, found = rule(run_stack("prod")), rule(run_stack("prod", strategy(name, **SYNC)))

    sent = after_ignore_changes(was.inputs, found.inputs, found.ignore_changes)

    assert sent["actions"] == found.inputs["actions"], (
        f"{found.urn}: switching from rolling would keep the single-group forward"
    )


def test_sync_warns_that_it_must_be_turned_off_again(run_stack) -> None:
    run = run_stack("dev", strategy("blueGreen", **SYNC))
    assert any("syncTrafficRouting is on" in m for m in run.warnings), run.warnings


@pytest.mark.parametrize("stack", STACKS)
def test_rolling_leaves_the_load_balancers_to_pulumi(run_stack, stack: str) -> None:
    service = ecs_service(run_stack(stack))
    assert not [p for p in service.ignore_changes if p.startswith("loadBalancers")]


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("name", SHIFTING)
def test_the_service_names_the_alternate_group_rule_and_role(run_stack, stack, name) -> None:
    run = run_stack(stack, strategy(name))
    [attachment] = ecs_service(run).inputs["loadBalancers"]
    [role] = infrastructure_roles(run)
    assert attachment["targetGroupArn"] == groups(run)["app-tg"].outputs["arn"]
    assert attachment["advancedConfiguration"] == {
        "alternateTargetGroupArn": groups(run)["app-tg-alt"].outputs["arn"],
        "productionListenerRule": rule(run).outputs["arn"],
        "roleArn": role.outputs["arn"],
    }


def test_blue_green_bakes_for_the_configured_minutes(run_stack) -> None:
    service = ecs_service(run_stack("prod", strategy("blueGreen", bakeTimeMinutes=BAKE)))
    assert service.inputs["deploymentConfiguration"] == {
        "strategy": "BLUE_GREEN",
        "bakeTimeInMinutes": str(BAKE),
    }


def test_canary_sends_its_share_first_then_bakes(run_stack) -> None:
    overrides = strategy("canary", bakeTimeMinutes=BAKE, canaryPercent=CANARY)
    service = ecs_service(run_stack("prod", overrides))
    assert service.inputs["deploymentConfiguration"] == {
        "strategy": "CANARY",
        "bakeTimeInMinutes": str(BAKE),
        "canaryConfiguration": {
            "canaryPercent": CANARY,
            "canaryBakeTimeInMinutes": str(BAKE),
        },
    }


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("name", SHIFTING)
def test_failed_deploys_still_roll_back_and_pulumi_up_waits(run_stack, stack, name) -> None:
    service = ecs_service(run_stack(stack, strategy(name)))
    assert service.inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert service.inputs["alarms"]["rollback"] is True and service.inputs["alarms"]["enable"]
    assert service.inputs["waitForSteadyState"] is True
    assert service.inputs["sigintRollback"] is True, "needs the ECS controller and the wait"
    assert service.inputs["deploymentController"] == {"type": "ECS"}


@pytest.mark.parametrize("name", SHIFTING)
def test_the_full_new_revision_fits_the_deployment_percentages(run_stack, name: str) -> None:
    service = ecs_service(run_stack("prod", strategy(name)))
    assert service.inputs["deploymentMinimumHealthyPercent"] == 100
    assert service.inputs["deploymentMaximumPercent"] >= 200, "blue and green run side by side"


@pytest.mark.parametrize("name", SHIFTING)
def test_the_deployment_alarms_cover_both_target_groups(run_stack, name: str) -> None:
    run = run_stack("prod", strategy(name))
    suffixes = {g.outputs["arnSuffix"] for g in groups(run).values()}
    for alarm in run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"):
        if "metricQueries" not in alarm.inputs:
            continue
        watched = {
            q["metric"]["dimensions"]["TargetGroup"]
            for q in alarm.inputs["metricQueries"]
            if "metric" in q and "TargetGroup" in q["metric"]["dimensions"]
        }
        assert watched == suffixes, f"{alarm.urn} misses the revision in the other group"


# --- the infrastructure role ----------------------------------------------------------------------


@pytest.mark.parametrize("name", SHIFTING)
def test_the_infrastructure_role_trusts_ecs_of_this_account_only(run_stack, name: str) -> None:
    [role] = infrastructure_roles(run_stack("prod", strategy(name)))
    [statement] = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"Service": "ecs.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole" and statement["Effect"] == "Allow"
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    assert statement.get("Sid"), role.urn


def traffic_shift_grant(run: ProgramRun, role: RegisteredResource) -> RegisteredResource:
    inline = [
        p
        for p in run.of_type("aws:iam/rolePolicy:RolePolicy")
        if p.inputs["role"] == role.outputs["name"]
    ]
    assert len(inline) == 1, f"{role.urn}: expected one inline policy, got {len(inline)}"
    return inline[0]


def ecs_may(run: ProgramRun, action: str, resource: str) -> bool:
    [role] = infrastructure_roles(run)
    policy = json.loads(traffic_shift_grant(run, role).inputs["policy"])
    return allowed(Request(action, resource), [policy])


@pytest.mark.parametrize("name", SHIFTING)
def test_the_infrastructure_role_has_no_managed_policy(run_stack, name) -> None:
    """AWS's AmazonECSInfrastructureRolePolicyForLoadBalancers may modify every listener, rule and
    target group of the account; the role gets the service's own instead."""
    run = run_stack("prod", strategy(name))
    [role] = infrastructure_roles(run)
    attached = [a for a in run.of_type(ATTACHMENT) if a.inputs["role"] == role.outputs["name"]]
    assert attached == [], f"{role.urn} has {[a.inputs['policyArn'] for a in attached]}"


@pytest.mark.parametrize("name", SHIFTING)
def test_ecs_may_shift_this_services_traffic(run_stack, name) -> None:
    run = run_stack("prod", strategy(name))
    for group in groups(run).values():
        for action in ("RegisterTargets", "DeregisterTargets"):
            assert ecs_may(run, f"elasticloadbalancing:{action}", group.outputs["arn"]), action
    assert ecs_may(run, "elasticloadbalancing:ModifyRule", rule(run).outputs["arn"])
    for action in (
        "DescribeListeners",
        "DescribeRules",
        "DescribeTargetGroups",
        "DescribeTargetHealth",
    ):
        assert ecs_may(run, f"elasticloadbalancing:{action}", "*"), action


OTHER_GROUP = (
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/other/0123456789abcdef"
)
OTHER_RULE = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/lb/1/2/3"
OTHER_LISTENER = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/lb/1/2"


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("RegisterTargets", OTHER_GROUP),
        ("ModifyRule", OTHER_RULE),
        ("ModifyListener", OTHER_LISTENER),
        ("DeleteLoadBalancer", "*"),
    ],
)
def test_ecs_may_touch_nothing_else_on_the_load_balancer(run_stack, action, resource) -> None:
    run = run_stack("prod", strategy("blueGreen"))
    assert not ecs_may(run, f"elasticloadbalancing:{action}", resource), (
        f"the infrastructure role may {action} on {resource}"
    )


def test_the_grant_is_in_place_before_the_service_uses_the_role(run_stack) -> None:
    run = run_stack("prod", strategy("blueGreen"))
    [role] = infrastructure_roles(run)
    grant = traffic_shift_grant(run, role)
    assert grant.urn in ecs_service(run).depends_on, "ECS would find a role that can do nothing"
    for statement in json.loads(grant.inputs["policy"])["Statement"]:
        assert statement.get("Sid"), f"{grant.urn}: a statement without a Sid"


# --- what pulumi-aws and ECS accept ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["rolling", *SHIFTING])
def test_pulumi_aws_takes_the_deployment_configuration(name: str) -> None:
    config = deployment_configuration(name, BAKE, CANARY)
    args = aws.ecs.ServiceDeploymentConfigurationArgs(**config)
    assert (
        args.strategy == {"rolling": "ROLLING", "blueGreen": "BLUE_GREEN", "canary": "CANARY"}[name]
    )
    if name != "rolling":
        assert isinstance(config["bake_time_in_minutes"], str), "pulumi-aws types it as a string"
    if name == "canary":
        canary = aws.ecs.ServiceDeploymentConfigurationCanaryConfigurationArgs(
            **config["canary_configuration"]
        )
        assert isinstance(canary.canary_percent, float) and 0.1 <= canary.canary_percent <= 100


def create_service_request(service: RegisteredResource) -> dict[str, Any]:
    """The CreateService request the provider builds from the registered inputs."""
    i = service.inputs
    deployment = i["deploymentConfiguration"]
    config: dict[str, Any] = {
        "strategy": deployment["strategy"],
        "minimumHealthyPercent": i["deploymentMinimumHealthyPercent"],
        "maximumPercent": i["deploymentMaximumPercent"],
        "deploymentCircuitBreaker": i["deploymentCircuitBreaker"],
        "alarms": i["alarms"],
    }
    if "bakeTimeInMinutes" in deployment:
        config["bakeTimeInMinutes"] = int(deployment["bakeTimeInMinutes"])
    if "canaryConfiguration" in deployment:
        canary = deployment["canaryConfiguration"]
        config["canaryConfiguration"] = {
            "canaryPercent": float(canary["canaryPercent"]),
            "canaryBakeTimeInMinutes": int(canary["canaryBakeTimeInMinutes"]),
        }
    network = i["networkConfiguration"]
    return {
        "cluster": i["cluster"],
        "serviceName": service.outputs["name"],
        "taskDefinition": i["taskDefinition"],
        "desiredCount": i["desiredCount"],
        "loadBalancers": i["loadBalancers"],
        "capacityProviderStrategy": [
            {"capacityProvider": c["capacityProvider"], "base": c["base"], "weight": c["weight"]}
            for c in i["capacityProviderStrategies"]
        ],
        "deploymentConfiguration": config,
        "deploymentController": i["deploymentController"],
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": network["subnets"],
                "securityGroups": network["securityGroups"],
                "assignPublicIp": "ENABLED" if network["assignPublicIp"] else "DISABLED",
            }
        },
        "healthCheckGracePeriodSeconds": i["healthCheckGracePeriodSeconds"],
        "enableExecuteCommand": i["enableExecuteCommand"],
        "enableECSManagedTags": i["enableEcsManagedTags"],
        "propagateTags": i["propagateTags"],
        "availabilityZoneRebalancing": i["availabilityZoneRebalancing"],
    }


def enum_problems(value: Any, shape: Shape, path: str = "") -> list[str]:
    if shape.type_name == "structure" and isinstance(value, dict):
        return [
            p
            for key, item in value.items()
            if key in shape.members
            for p in enum_problems(item, shape.members[key], f"{path}.{key}")
        ]
    if shape.type_name == "list" and isinstance(value, list):
        return [
            p for n, v in enumerate(value) for p in enum_problems(v, shape.member, f"{path}[{n}]")
        ]
    if shape.type_name == "string" and shape.enum and value not in shape.enum:
        return [f"{path}: {value!r} is not one of {shape.enum}"]
    return []


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("name", ["rolling", *SHIFTING])
def test_ecs_accepts_the_service(run_stack, stack: str, name: str) -> None:
    service = ecs_service(run_stack(stack, strategy(name)))
    request = create_service_request(service)
    shape = CREATE_SERVICE.input_shape
    report = ParamValidator().validate(request, shape)
    assert not report.has_errors(), f"{service.urn}: {report.generate_report()}"
    assert not enum_problems(request, shape), f"{service.urn}: {enum_problems(request, shape)}"


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("name", SHIFTING)
def test_preview_plans_both_groups_and_the_role(run_stack, stack: str, name: str) -> None:
    run = run_stack(stack, strategy(name), preview=True)
    assert sorted(groups(run)) == ["app-tg", "app-tg-alt"]
    assert len(infrastructure_roles(run)) == 1
    assert rule(run).ignore_changes == ["actions"]


# --- the deploy model and how long pulumi up waits ------------------------------------------------


def test_the_blue_green_model_includes_the_bake_time() -> None:
    model = traffic_shift_deploy_model("blueGreen", BAKE)
    assert model["bake"] == BAKE * 60 and "canary_bake" not in model
    assert list(model) == ["launch", "healthy", "shift", "bake", "drain", "stop"]


def test_the_canary_model_bakes_the_canary_then_the_full_shift() -> None:
    model = traffic_shift_deploy_model("canary", BAKE)
    assert list(model) == [
        "launch",
        "healthy",
        "canary_shift",
        "canary_bake",
        "shift",
        "bake",
        "drain",
        "stop",
    ]
    assert model["canary_bake"] == model["bake"] == BAKE * 60
    assert sum(model.values()) > sum(traffic_shift_deploy_model("blueGreen", BAKE).values())


def test_the_model_refuses_rolling() -> None:
    with pytest.raises(ValueError, match="rolling"):
        traffic_shift_deploy_model("rolling", BAKE)


@pytest.mark.parametrize("name", SHIFTING)
@pytest.mark.parametrize("bake", [0, 60, 1440])
def test_pulumi_up_waits_past_the_whole_deploy(name: str, bake: int) -> None:
    timeouts = deploy_timeouts(Deployment(strategy=name, bake_time_minutes=bake))
    assert timeouts is not None and timeouts.create == timeouts.update
    minutes = int(timeouts.update.removesuffix("m"))
    modelled = sum(traffic_shift_deploy_model(name, bake).values()) / 60
    assert (
        modelled + DEPLOY_TIMEOUT_MARGIN_MIN <= minutes < modelled + DEPLOY_TIMEOUT_MARGIN_MIN + 1
    )


def test_a_shifting_strategy_without_the_infrastructure_role_is_refused(run_component) -> None:
    def build() -> None:
        FargateService(
            "app",
            FargateServiceArgs(
                container=AppContainer(image="i"),
                placement=ServicePlacement(
                    cluster_arn="c",
                    cluster_name="c",
                    capacity_providers=None,  # type: ignore[arg-type]
                    vpc_id="v",
                    subnet_ids=[],
                ),
                load_balancer=LoadBalancerRoute(listener_arn="l", security_group_id="s"),
                execution_role_arn="e",
                task_role_arn="t",
                deployment=Deployment(strategy="blueGreen"),
                infrastructure_role_arn=None,
            ),
        )

    run = run_component(build, check=False)
    assert run.error is not None and "infrastructure_role_arn" in str(run.error)
