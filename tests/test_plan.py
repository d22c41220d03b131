"""`python -m tools.plan`: the offline plan of a stack (resources, idle cost, deploy time).

What a reviewer relies on: each committed stack's plan is kept in tests/snapshots/<stack>.txt, so a
change to the infrastructure shows as a readable diff (update them with
`python -m tools.plan --update-snapshots`); the dev stack stays at or under $31 a month idle;
each stack deploys as its own deploymentStrategy's model says, a rolling one in 75 s or less, both
computed from what the program registers; every documented setting plans, in lines of at most 100
columns; the JSON says what the text says; config errors read exactly as `pulumi up` prints them,
with exit status 1.
"""

from __future__ import annotations

import ast
import difflib
import io
import itertools
import json
import random
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from components.alarms import ERROR_RATE_EVALUATION_PERIODS, PERIOD_S
from components.service import deploy_model
from components.spec import STRATEGIES, shifts_traffic
from stack_config import SETTINGS, ConfigError, StackConfig, load_config
from tools import urns
from tools.mocks import (
    ACCOUNT_ID,
    ProgramRun,
    RegisteredResource,
    Secure,
    config_for_runtime,
    config_secret_keys,
    load_stack_config,
)
from tools.pipes import EXIT_BROKEN_PIPE
from tools.plan import cost, deploy, render
from tools.plan.cli import UPDATE_COMMAND, main, snapshot_path
from tools.plan.model import Project, build_plan, find_project, plan_of
from tools.plan.refs import Index
from tools.plan.tree import tree

ROOT = Path(__file__).resolve().parent.parent
PROJECT = find_project(ROOT)
# The stacks git tracks, as in CI's clean clone: a developer's own Pulumi.alice.yaml is not one.
STACKS = PROJECT.committed_stacks()
DEV_IDLE_BUDGET_USD = 31  # dev is about $30 a month idle; more means something got expensive
DEPLOY_BUDGET_S = 75  # one rolling deploy, as components/service.py promises


@pytest.fixture(scope="module")
def plans(run_stack: Callable[..., ProgramRun]) -> dict[str, dict[str, Any]]:
    """The plan of every committed stack, from the session's cached program runs."""
    return {stack: plan_of(run_stack(stack), PROJECT) for stack in STACKS}


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


# --- snapshots -----------------------------------------------------------------------------------


def test_the_committed_stacks_are_found() -> None:
    assert {"dev", "prod"} <= set(STACKS), f"expected dev and prod among {STACKS}"


@pytest.mark.parametrize("stack", STACKS)
def test_plan_matches_its_snapshot(plans: dict[str, dict[str, Any]], stack: str) -> None:
    path = snapshot_path(PROJECT, stack)
    assert path.exists(), f"no snapshot for stack {stack}: run `{UPDATE_COMMAND}` and commit it"
    want, got = path.read_text(), render.render(plans[stack])
    if got != want:
        diff = difflib.unified_diff(
            want.splitlines(), got.splitlines(), f"{path.name} (committed)", "plan now", lineterm=""
        )
        shown = "\n".join(list(diff)[:80])
        pytest.fail(
            f"the plan of stack {stack} changed. If the change is intended, run "
            f"`{UPDATE_COMMAND}` and commit the diff:\n{shown}"
        )


def test_every_snapshot_belongs_to_a_stack() -> None:
    stale = [
        p.name for p in snapshot_path(PROJECT, "x").parent.glob("*.txt") if p.stem not in STACKS
    ]
    assert not stale, f"snapshots without a Pulumi.<stack>.yaml: {stale}; run `{UPDATE_COMMAND}`"


def test_the_order_does_not_depend_on_registration_order(dev: ProgramRun) -> None:
    shuffled = list(dev.resources)
    random.Random(7).shuffle(shuffled)
    again = plan_of(replace(dev, resources=shuffled), PROJECT)
    assert render.render(again) == render.render(plan_of(dev, PROJECT))


# --- cost ----------------------------------------------------------------------------------------


def test_dev_costs_at_most_31_dollars_a_month_idle(
    plans: dict[str, dict[str, Any]], dev: ProgramRun
) -> None:
    estimate = plans["dev"]["cost"]
    names = {r.name for r in dev.resources}
    for item in estimate["items"]:
        assert set(item["resources"]) <= names, f"{item['item']} prices resources dev lacks"
    assert estimate["total"] == pytest.approx(sum(i["monthly"] for i in estimate["items"]))
    assert estimate["total"] <= DEV_IDLE_BUDGET_USD, (
        f"dev costs ${estimate['total']:.2f}/month idle, over ${DEV_IDLE_BUDGET_USD}: "
        + "; ".join(f"{i['item']} ${i['monthly']:.2f}" for i in estimate["items"])
    )


def test_a_stack_in_another_region_says_in_its_summary_line_whose_prices_it_shows(
    run_stack: Callable[..., ProgramRun],
) -> None:
    plan = plan_of(run_stack("dev", {"aws:region": "eu-west-1"}), PROJECT)
    line = render.headline(plan)
    assert f"/month idle at {cost.PRICES_REGION} prices" in line, (
        f"a eu-west-1 stack priced at {cost.PRICES_REGION} list prices does not say so: {line!r}"
    )


def test_dev_pays_for_the_load_balancer_and_one_spot_task_and_not_its_addresses(
    plans: dict[str, dict[str, Any]],
) -> None:
    items = {i["item"]: i for i in plans["dev"]["cost"]["items"]}
    assert items["Application Load Balancer"]["monthly"] == 16.43
    assert "Public IPv4: load balancer" not in items, "behind CloudFront it is internal"
    assert items["Public IPv4: tasks"]["quantity"] == 1, "the one task has a public IP"
    assert "Fargate Spot X86_64" in items and "NAT gateway" not in items


@pytest.mark.parametrize("stack", STACKS)
def test_alarms_are_priced_per_metric_and_say_how_many_alarms_that_is(
    plans: dict[str, dict[str, Any]], run_stack: Callable[..., ProgramRun], stack: str
) -> None:
    alarms = [r for r in run_stack(stack).resources if r.type.endswith("metricAlarm:MetricAlarm")]
    metrics = sum(
        sum(1 for q in a.inputs.get("metricQueries") or [] if "metric" in q) or 1 for a in alarms
    )
    (item,) = [
        i
        for i in plans[stack]["cost"]["items"]
        if i["item"] == "CloudWatch alarms" and not i["note"]
    ]
    assert (item["alarms"], item["quantity"], item["unit"]) == (
        len(alarms),
        metrics,
        "alarm metric",
    )
    text = render.render(plans[stack])
    assert f"{len(alarms)} alarms, {metrics} metrics: " in text, "the text names both counts"


def fake(
    type_: str, name: str, inputs: dict[str, Any], outputs: dict[str, Any] | None = None
) -> RegisteredResource:
    """A registered resource as the mocks record it (ID `<name>-id`, ARN `arn:<name>`)."""
    return RegisteredResource(
        type=type_,
        name=name,
        urn=f"urn:pulumi:t::p::{type_}::{name}",
        id=f"{name}-id",
        inputs=inputs,
        outputs={**inputs, "arn": f"arn:{name}", **(outputs or {})},
        custom=True,
        parent="",
        provider="",
        protect=False,
        ignore_changes=[],
        depends_on=[],
        delete_before_replace=False,
        retain_on_delete=False,
    )


def synthetic() -> list[RegisteredResource]:
    return [
        fake("aws:lb/loadBalancer:LoadBalancer", "public-alb", {"subnets": ["a", "b", "c"]}),
        fake(
            "aws:lb/loadBalancer:LoadBalancer",
            "inner-alb",
            {"internal": True, "subnets": ["a", "b"]},
        ),
        fake("aws:ec2/eip:Eip", "nat-ip", {"domain": "vpc"}),
        fake("aws:ec2/natGateway:NatGateway", "nat", {"allocationId": "nat-ip-id"}),
        fake(
            "aws:ec2/vpcEndpoint:VpcEndpoint",
            "ecr",
            {
                "vpcEndpointType": "Interface",
                "serviceName": "com.amazonaws.us-east-1.ecr.api",
                "subnetIds": ["a", "b"],
            },
        ),
        fake("aws:ec2/vpcEndpoint:VpcEndpoint", "s3", {"vpcEndpointType": "Gateway"}),
        fake(
            "aws:ecs/taskDefinition:TaskDefinition",
            "arm-task",
            {
                "cpu": "1024",
                "memory": "2048",
                "runtimePlatform": {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
            },
        ),
        fake(
            "aws:ecs/service:Service",
            "arm-svc",
            {
                "taskDefinition": "arn:arm-task",
                "desiredCount": 3,
                "launchType": "FARGATE",
                "networkConfiguration": {"assignPublicIp": True},
            },
            {"name": "arm-svc-1"},
        ),
        fake("aws:ecs/taskDefinition:TaskDefinition", "x86-task", {"cpu": "256", "memory": "512"}),
        fake(
            "aws:ecs/service:Service",
            "x86-svc",
            {
                "taskDefinition": "arn:x86-task",
                "desiredCount": 5,
                "capacityProviderStrategies": [
                    {"capacityProvider": "FARGATE", "base": 1, "weight": 0},
                    {"capacityProvider": "FARGATE_SPOT", "base": 0, "weight": 1},
                ],
            },
            {"name": "x86-svc-1"},
        ),
        fake(
            "aws:appautoscaling/target:Target",
            "x86-scaling",
            {
                "serviceNamespace": "ecs",
                "resourceId": "service/c/x86-svc-1",
                "minCapacity": 3,
                "maxCapacity": 9,
            },
        ),
        fake("aws:cloudwatch/metricAlarm:MetricAlarm", "slow", {"period": 60}),
        fake("aws:cloudwatch/metricAlarm:MetricAlarm", "fast", {"period": 10}),
    ]


def test_the_cost_model_adds_up_a_synthetic_stack() -> None:
    estimate = cost.estimate(Index(synthetic()), "us-east-1")
    got = {(i["item"], i["note"]): (i["quantity"], i["monthly"]) for i in estimate["items"]}
    # Each: quantity x hourly price x 730 h, rounded to the cent.
    want = {
        ("Application Load Balancer", ""): (2, 32.86),  # 2 x 0.0225 x 730 = 16.425 each
        ("Public IPv4: load balancer", "one per AZ"): (3, 10.95),  # internal: none
        ("NAT gateway", ""): (1, 32.85),
        ("Public IPv4: NAT gateway", ""): (1, 3.65),
        ("Interface VPC endpoints", "ecr.api, one per AZ"): (2, 14.60),  # gateway: free
        # 3 x (1 vCPU x 0.03238 + 2 GB x 0.00356) x 730 = 86.505
        ("Fargate on-demand ARM64", "1 vCPU + 2 GB"): (3, 86.51),
        ("Public IPv4: tasks", ""): (3, 10.95),
        # autoscaling minimum 3: the on-demand base of 1, then 2 on Spot
        ("Fargate on-demand X86_64", "0.25 vCPU + 0.5 GB"): (1, 9.01),  # 0.0123425 x 730
        ("Fargate Spot X86_64", "0.25 vCPU + 0.5 GB, 70% off"): (2, 5.41),  # x 0.3
        ("CloudWatch alarms", ""): (1, 0.10),
        ("CloudWatch alarms", "high resolution"): (1, 0.30),
    }
    assert got == want
    alarm_items = [i for i in estimate["items"] if i["item"] == "CloudWatch alarms"]
    assert [(i["alarms"], i["unit"]) for i in alarm_items] == [(1, "alarm metric")] * 2
    assert estimate["total"] == pytest.approx(sum(m for _, m in want.values()))
    assert Decimal(str(estimate["total"])) == Decimal("207.19")


def test_traffic_dependent_charges_are_named_not_priced() -> None:
    excluded = " ".join(cost.estimate(Index(synthetic()), "us-east-1")["excluded"])
    for charge in (
        "capacity units",
        "NAT gateway data processing",
        "endpoint data processing",
        "data transfer out",
    ):
        assert charge in excluded


@pytest.mark.parametrize(
    ("count", "strategy", "want"),
    [
        (1, [("FARGATE", 0, 0), ("FARGATE_SPOT", 0, 1)], {"FARGATE_SPOT": 1}),
        (2, [("FARGATE", 2, 0), ("FARGATE_SPOT", 0, 1)], {"FARGATE": 2}),
        (5, [("FARGATE", 1, 1), ("FARGATE_SPOT", 0, 3)], {"FARGATE": 2, "FARGATE_SPOT": 3}),
        (3, [("FARGATE", 0, 1), ("FARGATE_SPOT", 0, 1)], {"FARGATE": 2, "FARGATE_SPOT": 1}),
        (4, [], {"FARGATE": 4}),
    ],
)
def test_tasks_spread_over_capacity_providers_as_ecs_places_them(
    count: int, strategy: list[tuple[str, int, int]], want: dict[str, int]
) -> None:
    strategies = [{"capacityProvider": cp, "base": b, "weight": w} for cp, b, w in strategy]
    assert cost.split_by_capacity_provider(count, strategies) == want


# --- deploy time ---------------------------------------------------------------------------------


def stack_config_of(stack: str) -> StackConfig:
    """A committed stack's config as the program gets it (encrypted values decrypted offline)."""
    raw = load_stack_config(ROOT, stack)
    return load_config(
        config_for_runtime(PROJECT.name, raw),
        stack=stack,
        project=PROJECT.name,
        secret_keys=config_secret_keys(PROJECT.name, raw),
    )


@pytest.mark.parametrize("stack", STACKS)
def test_deploy_time_is_what_the_service_component_models_for_the_stack_s_strategy(
    plans: dict[str, dict[str, Any]], stack: str
) -> None:
    """Each committed stack's load-balanced services (the main one and web services) are held to
    the deploy model of its own deploymentStrategy, a rolling one also to the deploy budget;
    internal services and workers roll without a load balancer."""
    cfg = stack_config_of(stack)
    want = deploy_model(cfg.deployment_strategy, cfg.bake_time_minutes)
    unbalanced = {f"{s.name}-svc" for s in cfg.services if s.kind != "web"}
    services = plans[stack]["deploy"]["services"]
    assert services, f"stack {stack} has no ECS service to deploy"
    for service in services:
        steps = {s["step"]: s["seconds"] for s in service["steps"]}
        if service["service"] in unbalanced:
            assert not service["shifts_traffic"], f"{stack}/{service['service']} rolls: {steps}"
            continue
        assert steps == want, (
            f"{stack}/{service['service']} ({cfg.deployment_strategy}): the registered service, "
            f"target group and task definition give {steps}, components.service.deploy_model "
            f"says {want}"
        )
        if not shifts_traffic(cfg.deployment_strategy):
            assert service["total"] <= DEPLOY_BUDGET_S, (
                f"{stack}/{service['service']} deploys in {service['total']} s, "
                f"over {DEPLOY_BUDGET_S} s"
            )


@pytest.mark.parametrize(
    ("strategy", "bake_minutes", "canary_percent"), [("blueGreen", 3, 10), ("canary", 4, 20)]
)
def test_traffic_shifting_deploy_time_is_what_the_service_component_models(
    run_stack: Callable[..., ProgramRun], strategy: str, bake_minutes: int, canary_percent: int
) -> None:
    overrides = {
        "deploymentStrategy": strategy,
        "bakeTimeMinutes": bake_minutes,
        "canaryPercent": canary_percent,
    }
    for stack in ("dev", "prod"):
        plan = plan_of(run_stack(stack, overrides), PROJECT)
        (service,) = plan["deploy"]["services"]
        steps = {s["step"]: s["seconds"] for s in service["steps"]}
        want = deploy_model(strategy, bake_minutes)
        assert steps == want, (
            f"{stack} with {overrides}: the registered service, target group and task definition "
            f"give {steps}, components.service.deploy_model says {want}"
        )
        assert service["total"] == sum(want.values())
        assert service["alarm_watch"] is None, "ECS watches the alarms during the bake, counted"


def test_a_canary_of_five_minutes_takes_685_s() -> None:
    """Both bakes, both shifts: what components.service.traffic_shift_deploy_model('canary', 5)
    says, from the service's canaryConfiguration and bakeTimeInMinutes."""
    assert sum(deploy_model("canary", 5).values()) == 685
    resources = [
        *deploy_fixture(),
        deployed_service(
            deploymentConfiguration={
                "strategy": "CANARY",
                "bakeTimeInMinutes": "5",
                "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": "7"},
            }
        ),
    ]
    (service,) = deploy.model(Index(resources))["services"]
    steps = {s["step"]: s["seconds"] for s in service["steps"]}
    assert steps["canary_bake"] == 7 * 60, "the canary bakes canaryBakeTimeInMinutes"
    assert steps["bake"] == 5 * 60, "after the full shift it bakes bakeTimeInMinutes"
    assert service["total"] == 45 + 10 + 5 + 420 + 5 + 300 + 10 + 10


def test_the_summary_line_names_the_configured_strategy(
    run_stack: Callable[..., ProgramRun],
) -> None:
    """A canary stack's summary says "canary deploy", not the rolling default's name."""
    overrides = {"deploymentStrategy": "canary", "bakeTimeMinutes": 5}
    plan = plan_of(run_stack("dev", overrides), PROJECT)
    line = render.headline(plan)
    want = f"canary deploy {sum(deploy_model('canary', 5).values())} s"
    assert want in line, f"dev with {overrides}: the summary line reads {line!r}, not {want!r}"
    assert "rolling" not in line, f"a canary stack's summary calls its deploy rolling: {line!r}"


def test_the_deploy_table_aligns_step_names_longer_than_alarm_watch() -> None:
    """canary_shift and canary_bake are longer than the default column: every step's seconds
    still end in the same column."""
    resources = [
        *deploy_fixture(),
        deployed_service(
            deploymentConfiguration={
                "strategy": "CANARY",
                "bakeTimeInMinutes": "5",
                "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": "7"},
            }
        ),
    ]
    lines = render._deploy(deploy.model(Index(resources)))
    ends = {line.split()[0]: line.index(" s ") for line in lines[1:] if " s " in line}
    assert "canary_shift" in ends and "canary_bake" in ends, lines
    assert len(set(ends.values())) == 1, f"the seconds do not line up: {lines}"


def test_a_linear_deploy_shifts_in_steps_with_a_bake_between_them() -> None:
    resources = [
        *deploy_fixture(),
        deployed_service(
            deploymentConfiguration={
                "strategy": "LINEAR",
                "bakeTimeInMinutes": "2",
                "linearConfiguration": {"stepPercent": 25.0, "stepBakeTimeInMinutes": "3"},
            }
        ),
    ]
    (service,) = deploy.model(Index(resources))["services"]
    steps = {s["step"]: s["seconds"] for s in service["steps"]}
    assert steps["shift"] == 4 * 5, "four shifts of 25%"
    assert steps["step_bake"] == 3 * 3 * 60, "a step bake between shifts, none after the last"
    assert steps["bake"] == 2 * 60


@pytest.mark.parametrize("strategy", [s.ecs for s in STRATEGIES])
def test_a_deploy_shifts_traffic_exactly_when_components_spec_says_the_strategy_does(
    strategy: str,
) -> None:
    """ECS's spelling, as the service registers it; components.spec.shifts_traffic decides."""
    service = deployed_service(
        deploymentConfiguration={"strategy": strategy, "bakeTimeInMinutes": "1"},
        alarms={"alarmNames": ["slow"], "enable": True},
    )
    alarm = fake(
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "slow",
        {"name": "slow", "period": 60, "evaluationPeriods": 2},
    )
    (got,) = deploy.model(Index([*deploy_fixture(), alarm, service]))["services"]
    steps = [s["step"] for s in got["steps"]]
    shifting = shifts_traffic(strategy)
    assert got["shifts_traffic"] is shifting
    assert ("shift" in steps and "bake" in steps) is shifting, (
        f"{strategy}: components.spec says shifts traffic={shifting}, the plan's steps are {steps}"
    )
    assert (got["alarm_watch"] is None) is shifting, (
        f"{strategy}: ECS watches the alarms during the bake of a traffic shift, after a rollout"
    )


def deploy_fixture() -> list[RegisteredResource]:
    """A target group and a task definition as the service component registers them."""
    return [
        fake(
            "aws:lb/targetGroup:TargetGroup",
            "tg",
            {"healthCheck": {"interval": 5, "healthyThreshold": 2}, "deregistrationDelay": 10},
        ),
        fake(
            "aws:ecs/taskDefinition:TaskDefinition",
            "task",
            {
                "containerDefinitions": json.dumps(
                    [
                        {
                            "essential": True,
                            "environment": [{"name": "GRACEFUL_TIMEOUT", "value": "10"}],
                        }
                    ]
                )
            },
        ),
    ]


def deployed_service(**inputs: Any) -> RegisteredResource:
    """A service of deploy_fixture's task definition behind its target group, with `inputs`."""
    return fake(
        "aws:ecs/service:Service",
        "svc",
        {"taskDefinition": "arn:task", "loadBalancers": [{"targetGroupArn": "arn:tg"}], **inputs},
    )


@pytest.mark.parametrize("stack", STACKS)
def test_a_rolling_deploy_then_waits_for_ecs_to_watch_the_deployment_alarms(
    plans: dict[str, dict[str, Any]], run_stack: Callable[..., ProgramRun], stack: str
) -> None:
    strategy = stack_config_of(stack).deployment_strategy
    if shifts_traffic(strategy):
        pytest.skip(f"{stack} deploys {strategy}: ECS watches the alarms during the bake instead")
    run = run_stack(stack)
    by_name = {
        r.inputs.get("name"): r for r in run.resources if r.type.endswith("metricAlarm:MetricAlarm")
    }
    for service in plans[stack]["deploy"]["services"]:
        registered = next(r for r in run.resources if r.name == service["service"])
        names = (registered.inputs.get("alarms") or {}).get("alarmNames")
        if not names:  # an internal service or a worker: no load balancer alarms to watch
            assert service["alarm_watch"] is None, f"{stack}/{service['service']} has no alarms"
            continue
        windows = [
            by_name[n].inputs["evaluationPeriods"]
            * max(
                q["metric"]["period"] for q in by_name[n].inputs["metricQueries"] if "metric" in q
            )
            for n in names
        ]
        watch = service["alarm_watch"]
        assert watch is not None, f"{stack}/{service['service']} has deployment alarms {names}"
        assert watch["seconds"] == max(windows) == ERROR_RATE_EVALUATION_PERIODS * PERIOD_S, (
            f"{stack}: ECS watches the alarms for about the longest window, {max(windows)} s"
        )
        assert watch["estimate"] is True
        assert service["until_completed"] == service["total"] + watch["seconds"]
        assert service["total"] <= DEPLOY_BUDGET_S, "the rollout itself stays the headline"
    text = render.render(plans[stack])
    assert re.search(r"^  alarm watch +180 s  estimated: users are already on the new", text, re.M)
    assert re.search(r"rolling deploy \d+ s \+ 180 s alarm watch$", text.splitlines()[1])


def test_no_alarm_watch_without_enabled_deployment_alarms() -> None:
    alarm = fake(
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "slow",
        {"name": "slow", "period": 300, "evaluationPeriods": 4},
    )
    for alarms, want in (
        ({"alarmNames": ["slow"], "enable": True}, 1200),
        ({"alarmNames": ["slow"], "enable": False}, None),
        (None, None),
    ):
        service = deployed_service(**({"alarms": alarms} if alarms else {}))
        (got,) = deploy.model(Index([*deploy_fixture(), alarm, service]))["services"]
        assert (got["alarm_watch"] or {}).get("seconds") == want, f"alarms {alarms}"


# --- the resource tree ---------------------------------------------------------------------------


def settings_of(plan: dict[str, Any], type_: str, name: str) -> dict[str, str]:
    found = [r for r in plan["resources"] if r["type"] == type_ and r["name"] == name]
    assert len(found) == 1, f"expected one {type_} {name} in the plan, found {len(found)}"
    return found[0]["settings"]


def test_the_tree_shows_where_tasks_run_and_whether_they_are_public(
    plans: dict[str, dict[str, Any]],
) -> None:
    dev = settings_of(plans["dev"], "aws:ecs/service:Service", "app-svc")
    prod = settings_of(plans["prod"], "aws:ecs/service:Service", "app-svc")
    assert (dev["public IP"], prod["public IP"]) == ("yes", "no"), "only dev tasks are public"
    assert dev["subnets"].startswith("2 public:") and prod["subnets"].startswith("2 private:")
    assert "autoscaled 2 to 6" in prod["tasks"]


def test_the_plan_says_what_private_subnets_no_task_uses_are_for(
    plans: dict[str, dict[str, Any]], run_stack: Callable[..., ProgramRun]
) -> None:
    """dev without CloudFront (edge none) and without a NAT runs its tasks and its load balancer
    in the public subnets, so the private ones hold nothing: the plan says why they exist. Where
    something runs in them (committed dev's internal load balancer, prod's tasks, interface
    endpoints), it says nothing of the kind."""
    edge_none = plan_of(run_stack("dev", {"edge": "none"}), PROJECT)
    subnets = [r for r in edge_none["resources"] if r["display_type"] == "aws:ec2:Subnet"]
    private = [r for r in subnets if r["settings"].get("tier") == "private"]
    assert private, "dev has no private subnet to explain"
    for subnet in private:
        assert subnet["settings"].get("used by", "").startswith("nothing yet"), (
            f"dev (edge none)'s {subnet['name']} holds nothing and the plan does not say what it "
            f"is for: {subnet['settings']}"
        )
    with_endpoints = plan_of(run_stack("dev", {"edge": "none", "vpcEndpoints": True}), PROJECT)
    for plan in (plans["dev"], plans["prod"], with_endpoints):
        used = [
            r["name"]
            for r in plan["resources"]
            if r["display_type"] == "aws:ec2:Subnet" and "used by" in r["settings"]
        ]
        assert not used, f"{plan['stack']}: subnets in use are called unused: {used}"


def test_the_tree_shows_every_protected_resource_as_protected(
    plans: dict[str, dict[str, Any]], prod: ProgramRun
) -> None:
    flagged = {r["urn"] for r in plans["prod"]["resources"] if "protected" in r["flags"]}
    assert flagged == {r.urn for r in prod.resources if r.protect}


def test_the_tree_puts_every_resource_under_its_component(plans: dict[str, dict[str, Any]]) -> None:
    resources = plans["prod"]["resources"]
    for before, after in itertools.pairwise(resources):
        assert after["depth"] <= before["depth"] + 1, f"{after['urn']} is not under its parent"


def test_the_access_log_bucket_shows_its_expiry_and_encryption(
    plans: dict[str, dict[str, Any]], run_stack: Callable[..., ProgramRun]
) -> None:
    run = run_stack("prod")
    (lifecycle,) = [r for r in run.resources if r.type.endswith("BucketLifecycleConfiguration")]
    days = lifecycle.inputs["rules"][0]["expiration"]["days"]
    shown = settings_of(
        plans["prod"],
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        lifecycle.name,
    )
    assert f"expire after {days} days" in shown["rules"], shown
    (sse,) = [
        r for r in run.resources if r.type.endswith("BucketServerSideEncryptionConfiguration")
    ]
    algorithm = sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"]
    shown = settings_of(plans["prod"], sse.type, sse.name)
    assert shown["encryption"].startswith(algorithm), shown


def test_a_lifecycle_rule_shows_its_transitions() -> None:
    rule = fake(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "expiry",
        {
            "bucket": "b",
            "rules": [
                {
                    "id": "age-out",
                    "status": "Enabled",
                    "transitions": [{"days": 30, "storageClass": "STANDARD_IA"}],
                    "expiration": {"days": 365},
                }
            ],
        },
    )
    (entry,) = tree(Index([rule]))
    assert entry["settings"]["rules"] == (
        "age-out (Enabled), all objects, to STANDARD_IA after 30 days, expire after 365 days"
    )


@pytest.mark.parametrize("stack", STACKS)
def test_plan_lines_fit_in_100_columns(plans: dict[str, dict[str, Any]], stack: str) -> None:
    long = [line for line in render.render(plans[stack]).splitlines() if len(line) > render.WIDTH]
    assert not long, f"{stack}: lines over {render.WIDTH} columns: {long}"


def test_a_word_longer_than_a_line_is_cut_after_a_separator_and_loses_nothing() -> None:
    arn = "arn:aws:iam::123456789012:policy/" + "/".join(["a-long-path-segment"] * 6) + "/boundary"
    line = f"        permissions boundary: {arn}"
    pieces = render.fit([line])
    assert all(len(p) <= render.WIDTH for p in pieces), pieces
    assert all(p.rstrip().endswith(("/", ":")) for p in pieces[:-1]), f"cut mid-name: {pieces}"
    assert "".join("".join(pieces).split()) == "".join(line.split()), "nothing lost"
    assert pieces[0].startswith("        permissions boundary:"), "the indentation is kept"


# --- every documented setting ---------------------------------------------------------------------

WORDS = "as people write them, with several words and a-rather-long-unbroken-token-in-the-middle"
DIGEST = "sha256:" + "0123456789abcdef" * 4


def every_setting_on(region: str) -> tuple[dict[str, Any], ...]:
    """Every documented setting turned on, each at about its longest (names, paths, ARNs,
    commands), in groups of settings that go together: HTTPS from a domain, blue/green and private
    tasks behind one NAT on x86 Spot, a build of its own run as the image's user; then a
    certificate, a canary, a NAT per AZ with endpoints and a prebuilt image on ARM64 with a
    writable root; then CloudFront with WAF and cached paths on a domain. A setting added to
    stack_config.SETTINGS needs a value here."""
    arn = f"arn:aws:{{}}:{region}:{ACCOUNT_ID}"
    jobs = {
        "nightly-report-for-finance-teams": {  # TASK_NAME_MAX characters
            "schedule": "cron(30 2 ? * MON-FRI *)",
            "command": "python -m app.reports.nightly --since yesterday --format csv --upload",
            "timezone": "America/Argentina/Buenos_Aires",
            "cpu": 2048,
            "memory": 4096,
            "mounts": {
                "uploaded-files-of-every-customer": {"path": "/srv/uploads", "readOnly": True},
                "finance-reports-archive-by-year": "/srv/reports/archive",
            },
        },
        "one-off-data-migration": {
            "schedule": "at(2027-01-31T23:59:59)",
            "command": ["python", "-m", "app.migrate", "--from", "v1", "--to", "v2"],
            "enabled": False,
        },
    }
    return (
        {
            "vpcCidr": "10.128.0.0/16",
            "availabilityZones": 3,
            "natGateways": "single",
            "cpu": 1024,
            "memory": 8192,
            "desiredCount": 3,
            "minCount": 2,
            "maxCount": 12,
            "cpuTarget": 45,
            "spot": True,
            "onDemandBase": 2,
            "containerPort": 8443,
            "healthCheckPath": "/internal/health/readiness-including-every-downstream-dependency",
            "logRetentionDays": 3653,
            "containerInsights": True,
            "deletionProtection": True,
            "env": {"FEATURE_FLAGS_FOR_THE_CHECKOUT_FLOW": WORDS, "GREETING": WORDS},
            "domainName": "checkout-service.eu.internal-tools.example.com",
            "hostedZone": "internal-tools.example.com",
            "secrets": {
                "DATABASE_URL": arn.format("secretsmanager")
                + ":secret:fargate-app/checkout/database-url-AbCdEf:url::",
                "FEATURE_CONFIG": arn.format("ssm") + ":parameter/fargate-app/checkout/features",
            },
            "secretValues": Secure({"PAYMENT_PROVIDER_SECRET_KEY": "s3cr3t", "API_TOKEN": "t"}),
            "alarmEmail": "platform-engineering-on-call-rotation@example.com",
            "alarmTopicEncryption": False,
            "deploymentStrategy": "blueGreen",
            "bakeTimeMinutes": 1440,
            "syncTrafficRouting": True,
            "enableExec": True,
            "accessLogs": True,
            "flowLogs": True,
            "scheduledTasks": jobs,
            "fileSystems": {
                # 32 characters; the main service runs as its image's user, so the user is given
                "uploaded-files-of-every-customer": {
                    "infrequentAccessDays": 365,
                    "user": "10001:10001",
                },
                "finance-reports-archive-by-year": {"user": "10001:10001"},
            },
            "mounts": {"uploaded-files-of-every-customer": "/var/lib/checkout/uploads"},
            "tags": {"cost-center": WORDS, "owner": "platform-engineering"},
            "permissionsBoundary": f"arn:aws:iam::{ACCOUNT_ID}:policy/fargate-app-bootstrap/"
            "fargate-app-checkout-app-roles-boundary",
            "services": {
                "checkout-api": {
                    "type": "web",
                    "path": ["/api/checkout/*", "/api/v2/checkout-and-payments/*"],
                    "host": ["api.checkout-service.eu.internal-tools.example.com"],
                    "command": "gunicorn --config python:checkout.gunicorn checkout.wsgi:app",
                    "containerPort": 9000,
                    "healthCheckPath": "/api/checkout/health/readiness-including-downstream",
                    "env": {"CHECKOUT_FEATURE_FLAGS": WORDS},
                    "mounts": {
                        "uploaded-files-of-every-customer": {
                            "path": "/var/lib/checkout-api/customer-uploads",
                            "readOnly": True,
                        }
                    },
                    "secrets": {
                        "PAYMENT_API_KEY": arn.format("secretsmanager")
                        + ":secret:fargate-app/checkout/payment-api-key-AbCdEf"
                    },
                },
                "search-index": {
                    "type": "internal",
                    "containerPort": 8080,
                    "cpu": 512,
                    "memory": 2048,
                },
                "email-sender": {
                    "type": "worker",
                    "command": "python -m app.workers.email_sender --batch-size 10",
                    "minCount": 0,
                    "maxCount": 5,
                    "backlogPerTask": 20,
                    "maxReceives": 5,
                },
            },
            "taskEgress": {
                "postgres-primary-and-replicas": {
                    "port": 5432,
                    "cidr": "10.128.64.0/18",
                    "description": "the orders database cluster, primary and read replicas",
                },
                "statsd": {"port": "8125-8126", "protocol": "udp", "cidr": "10.128.0.0/16"},
            },
            "build": {
                "context": "tests/fixtures/image-context",
                "dockerfile": "tests/fixtures/web.Dockerfile",
            },
            "containerUser": "image",
            "writablePaths": ["/tmp", "/var/cache/checkout-service/rendered-templates", "/run"],
            "policyWaivers": {
                "elb-deletion-protection": f"the load balancer is shared, {WORDS}",
                "ecs-container-non-root-user": f"the vendor's image runs as its own user, {WORDS}",
            },
        },
        {
            "vpcCidr": "172.31.0.0/20",
            "natGateways": "perAz",
            "vpcEndpoints": True,
            "cpu": 4096,
            "memory": 30720,
            "cpuArchitecture": "ARM64",
            "spot": False,
            "containerPort": 80,
            "image": f"{ACCOUNT_ID}.dkr.ecr.{region}.amazonaws.com/platform/"
            f"checkout-service-with-a-long-repository-name@{DIGEST}",
            "certificateArn": arn.format("acm")
            + ":certificate/12345678-1234-1234-1234-123456789012",
            "deploymentStrategy": "canary",
            "bakeTimeMinutes": 30,
            "canaryPercent": 25,
            "scheduledTasks": {"hourly-sync": {"schedule": "rate(1 hour)", "command": "true"}},
            "readOnlyRootFilesystem": False,
            "policyWaivers": {
                "ecs-container-read-only-root": f"the image writes its root, {WORDS}"
            },
        },
        {
            "edge": "cloudfront",
            "cachedPaths": ["/static/*", "/assets/fingerprinted-build-output/*.js", "*.woff2"],
            "originResponseTimeout": 60,
            "waf": True,
            "wafRateLimit": 2_000_000_000,
            "domainName": "checkout-service.eu.internal-tools.example.com",
            "hostedZone": "internal-tools.example.com",
            "services": {
                # Behind CloudFront a host rule takes only the distribution's own names.
                "checkout-api": {
                    "type": "web",
                    "path": ["/api/checkout/*", "/api/v2/checkout-and-payments/*"],
                    "host": ["checkout-service.eu.internal-tools.example.com"],
                },
            },
        },
    )


def test_every_documented_setting_is_turned_on_by_a_group() -> None:
    groups = every_setting_on("us-east-1")
    off = [s.key for s in SETTINGS if all(g.get(s.key, s.default) == s.default for g in groups)]
    assert not off, f"settings no group of every_setting_on() turns on: {off}; add a value"


@pytest.fixture(scope="module")
def every_setting_plans(run_config: Callable[..., ProgramRun]) -> dict[str, dict[str, Any]]:
    """Each group of every_setting_on(), planned under each committed stack's name and region
    (the group's settings over the defaults: what the stack itself sets might not go with them)."""
    defaults = {s.key: s.default for s in SETTINGS}
    plans = {}
    for stack in STACKS:
        region = load_stack_config(ROOT, stack)["aws:region"]
        for i, group in enumerate(every_setting_on(region)):
            config = {"aws:region": region, **defaults, **group}
            run = run_config(config, stack=stack, check=False)
            assert run.error is None, f"{stack} with group {i} does not plan: {run.error}"
            plans[f"{stack} with group {i}"] = plan_of(run, PROJECT)
    return plans


def test_every_documented_setting_plans_in_lines_of_at_most_100_columns(
    every_setting_plans: dict[str, dict[str, Any]],
) -> None:
    long = {
        variant: [line for line in render.render(plan).splitlines() if len(line) > render.WIDTH]
        for variant, plan in every_setting_plans.items()
    }
    a, b = list(every_setting_plans.values())[:2]
    long["--compare"] = [
        line for line in render.render_compare(a, b).splitlines() if len(line) > render.WIDTH
    ]
    long = {variant: lines for variant, lines in long.items() if lines}
    assert not long, f"lines over {render.WIDTH} columns: {long}"


def test_every_documented_setting_deploys_as_its_strategy_s_model_says(
    every_setting_plans: dict[str, dict[str, Any]],
) -> None:
    """The main service and web services deploy by deploymentStrategy; internal services and
    workers, which no load balancer fronts, roll."""
    for variant, plan in every_setting_plans.items():
        group = {
            **{s.key: s.default for s in SETTINGS},
            **every_setting_on(plan["region"])[int(variant.rpartition(" ")[2])],
        }
        kinds = {f"{name}-svc": s["type"] for name, s in group["services"].items()}
        want = deploy_model(group["deploymentStrategy"], group["bakeTimeMinutes"])
        for service in plan["deploy"]["services"]:
            steps = {s["step"]: s["seconds"] for s in service["steps"]}
            if kinds.get(service["service"], "web") == "web":
                assert steps == want, (
                    f"{variant}: {service['service']} deploys in {steps}, not {want}"
                )
            else:
                assert not service["shifts_traffic"] and "bake" not in steps, (
                    f"{variant}: {service['service']} has no load balancer and rolls: {steps}"
                )


def test_an_unknown_resource_type_prints_its_type_name_and_simple_inputs() -> None:
    widget = fake(
        "aws:newservice/widget:Widget",
        "my-widget",
        {"size": 3, "mode": "fast", "password": "hunter2", "nested": {"a": 1}},
    )
    (entry,) = tree(Index([widget]))
    assert (entry["display_type"], entry["name"]) == ("aws:newservice:Widget", "my-widget")
    assert entry["settings"] == {"mode": "fast", "size": "3"}, "no secrets, no nested values"


def test_ids_and_arns_print_as_the_names_of_their_resources(
    plans: dict[str, dict[str, Any]],
) -> None:
    text = render.render(plans["prod"])
    made_up = re.findall(r"\b(?:subnet|sg|vpc|igw|rtb|nat|eipalloc)-[0-9a-f]{8,}|arn:aws:\S+", text)
    assert not made_up, f"the plan shows mock values instead of resource names: {made_up[:5]}"
    assert ACCOUNT_ID not in text, "the plan shows the mocks' account ID"


# --- the command ---------------------------------------------------------------------------------


def test_json_says_what_the_text_says() -> None:
    code, text, _ = cli("dev", "-q")
    assert code == 0
    code, doc, _ = cli("dev", "--json", "-q")
    assert code == 0
    assert render.render(json.loads(doc)) == text


def test_progress_goes_to_stderr_and_the_plan_to_stdout() -> None:
    code, out, err = cli("dev")
    assert code == 0
    assert out.startswith("Plan of stack dev") and "plan:" not in out
    assert re.search(r"^plan: dev: \d+ resources .* \(\d+\.\d s\)$", err, re.M), err


def test_a_reader_that_stops_early_ends_the_plan_quietly() -> None:
    """`python -m tools.plan --compare dev prod --json | head`: the reader is gone before the
    plan is written; the plan exits without a traceback (Python's SIGPIPE recipe, exit 1)."""
    command = [sys.executable, "-m", "tools.plan", "--compare", "dev", "prod", "--json", "-q"]
    proc = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    proc.stdout.close()  # as `head` does once it has its lines
    _, err = proc.communicate(timeout=300)
    assert "Traceback" not in err and "BrokenPipeError" not in err, (
        f"a closed pipe printed an error:\n{err}"
    )
    assert proc.returncode == EXIT_BROKEN_PIPE, f"exit status {proc.returncode}"


def test_compare_shows_both_stacks_side_by_side(plans: dict[str, dict[str, Any]]) -> None:
    code, out, _ = cli("--compare", "dev", "prod", "-q")
    assert code == 0
    assert re.search(r"^\s+dev\s+prod$", out, re.M), "a header with both stacks"
    dev_total, prod_total = (render.money(plans[s]["cost"]["total"]) for s in ("dev", "prod"))
    total = rf"^  Total\s+{re.escape(dev_total)}\s+{re.escape(prod_total)}$"
    assert re.search(total, out, re.M), "both totals on one line"
    assert re.search(r"^    public IP\s+yes\s+no$", out, re.M), "the settings that differ"
    assert "Resources only in prod" in out


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """This project with its own stacks: the program and Pulumi.yaml linked, no stack files."""
    for entry in ("__main__.py", "Pulumi.yaml", "components", "stack_config", "app"):
        (tmp_path / entry).symlink_to(ROOT / entry)
    return tmp_path


def test_config_errors_print_as_pulumi_up_prints_them_and_exit_1(project_copy: Path) -> None:
    (project_copy / "Pulumi.broken.yaml").write_text(
        "config:\n  aws:region: us-east-1\n  fargate-app:cpu: 300\n  fargate-app:spto: true\n"
    )
    with pytest.raises(ConfigError) as expected:
        load_config(load_stack_config(project_copy, "broken"), stack="broken")
    code, out, err = cli("-C", str(project_copy), "broken", "-q")
    assert (code, out) == (1, "")
    assert err == f"error: {expected.value}\n"
    code, out, _ = cli("-C", str(project_copy), "broken", "--json", "-q")
    assert code == 1
    assert json.loads(out) == {"error": str(expected.value), "problems": expected.value.problems}


def test_a_value_of_the_wrong_type_stops_as_the_pulumi_cli_stops_it(project_copy: Path) -> None:
    """The Pulumi CLI checks Pulumi.yaml's declared types before the program runs, key by key in
    sorted order, and stops at the first mismatch (pulumi/pulumi: workspace/config.go)."""
    (project_copy / "Pulumi.broken.yaml").write_text(
        "config:\n  aws:region: us-east-1\n  fargate-app:spot: maybe\n"
        "  fargate-app:cpu: lots\n  fargate-app:desiredCont: 2\n"
    )
    want = "Stack 'broken' with configuration key 'cpu' must be of type 'integer'"
    code, out, err = cli("-C", str(project_copy), "broken", "-q")
    assert (code, out) == (1, "")
    assert err == f"error: validating stack config: {want}\n", "cpu sorts before spot"
    code, out, _ = cli("-C", str(project_copy), "broken", "--json", "-q")
    assert code == 1
    assert json.loads(out) == {"error": f"validating stack config: {want}", "problems": [want]}


def test_a_plain_secret_beside_encrypted_ones_is_refused(project_copy: Path) -> None:
    """The CLI marks all of secretValues secret once one value is encrypted, so `pulumi up` would
    accept a plain one beside it, committed in the stack file: the plan refuses it."""
    (project_copy / "Pulumi.mixed.yaml").write_text(
        "config:\n  aws:region: us-east-1\n  fargate-app:secretValues:\n"
        "    DB_PASSWORD:\n      secure: v1:AAAA:BBBB==\n    API_TOKEN: hunter2\n"
    )
    code, out, err = cli("-C", str(project_copy), "mixed", "-q")

    assert (code, out) == (1, ""), err
    assert "secretValues.API_TOKEN: stored in plain text in Pulumi.mixed.yaml" in err, err
    assert "pulumi config set --secret --path 'secretValues.API_TOKEN' VALUE" in err, err
    assert "DB_PASSWORD" not in err and "hunter2" not in err, err
    (project_copy / "Pulumi.encrypted.yaml").write_text(
        "config:\n  aws:region: us-east-1\n  fargate-app:secretValues:\n"
        "    DB_PASSWORD:\n      secure: v1:AAAA:BBBB==\n"
    )
    assert cli("-C", str(project_copy), "encrypted", "-q")[0] == 0


def test_a_setting_given_bare_and_namespaced_is_refused_naming_both_lines(
    project_copy: Path,
) -> None:
    """The Pulumi CLI reads `logRetentionDays` as `fargate-app:logRetentionDays`: with both in the
    file, which one `pulumi up` uses is not defined, so the plan refuses the file."""
    (project_copy / "Pulumi.twice.yaml").write_text(
        "config:\n  aws:region: us-east-1\n  fargate-app:logRetentionDays: 30\n"
        "  cpu: 512\n  logRetentionDays: 14\n  fargate-app:cpu: 1024\n"
    )
    code, out, err = cli("-C", str(project_copy), "twice", "-q")
    assert (code, out) == (1, ""), err
    named = {
        "logRetentionDays": (
            "as logRetentionDays (line 5) and fargate-app:logRetentionDays (line 3)"
        ),
        "cpu": "as cpu (line 4) and fargate-app:cpu (line 6)",
    }
    for setting, lines in named.items():
        assert f"{setting}: given twice in Pulumi.twice.yaml, {lines}" in err, err
    code, out, _ = cli("-C", str(project_copy), "twice", "--json", "-q")
    assert code == 1 and len(json.loads(out)["problems"]) == 2, out


def test_a_region_the_az_table_does_not_list_is_planned_with_a_note_saying_so(
    project_copy: Path,
) -> None:
    (project_copy / "Pulumi.hyderabad.yaml").write_text(
        "config:\n  aws:region: ap-south-2\n  fargate-app:availabilityZones: 3\n"
    )
    code, out, err = cli("-C", str(project_copy), "hyderabad", "-q")
    assert code == 0, err
    head = " ".join(out.split("Resources")[0].split())
    assert "Note: availabilityZones not checked: ap-south-2 is not in the offline table" in head
    assert "`pulumi up` checks them against AWS" in head, head
    code, out, _ = cli("-C", str(project_copy), "hyderabad", "--json", "-q")
    assert code == 0 and "ap-south-2" in json.loads(out)["notes"][0]
    (project_copy / "Pulumi.ireland.yaml").write_text(
        "config:\n  aws:region: eu-west-1\n  fargate-app:availabilityZones: 3\n"
    )
    code, out, _ = cli("-C", str(project_copy), "ireland", "--json", "-q")
    assert code == 0 and json.loads(out)["notes"] == [], "a listed region is checked: no note"


@pytest.mark.parametrize(
    ("value", "type_", "accepted"),
    [
        ('"512"', "integer", True),  # the CLI reads every scalar as its text
        ("512", "string", True),
        ("5.0", "integer", False),
        ("yes", "boolean", False),  # YAML 1.1 would say true; the CLI wants true or false
        ("true", "boolean", True),
        ("[1, 2]", "string", False),
        ("{secure: v1:AAAA}", "string", True),  # encrypted: not decrypted offline, not checked
    ],
)
def test_the_type_check_reads_values_as_the_pulumi_cli_does(
    project_copy: Path, value: str, type_: str, accepted: bool
) -> None:
    key = {"integer": "cpu", "string": "natGateways", "boolean": "spot"}[type_]
    if "secure" in value:
        key = "alarmEmail"
    (project_copy / "Pulumi.typed.yaml").write_text(
        f"config:\n  aws:region: us-east-1\n  fargate-app:{key}: {value}\n"
    )
    _, _, err = cli("-C", str(project_copy), "typed", "-q")
    rejected = f"configuration key '{key}' must be of type '{type_}'" in err
    assert rejected is not accepted, err


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            "config: [1, 2]\n",
            "Pulumi.odd.yaml: `config:` must map setting names to values, not a list",
        ),
        ("- 1\n- 2\n", "Pulumi.odd.yaml must be a mapping with a `config:` key, not a list"),
        ("config:\n  1: 2\n", "Pulumi.odd.yaml: config key '1' (line 2) is not a setting name"),
        ("config: {cpu: [\n", "Pulumi.odd.yaml is not valid YAML"),
    ],
)
def test_a_malformed_stack_file_is_an_error_that_names_the_file(
    project_copy: Path, text: str, says: str
) -> None:
    (project_copy / "Pulumi.odd.yaml").write_text(text)
    code, out, err = cli("-C", str(project_copy), "odd", "-q")
    assert (code, out) == (1, "")
    assert err.startswith(f"error: {says}"), err
    assert "Traceback" not in err


def test_compare_checks_both_stacks_before_planning_either() -> None:
    code, out, err = cli("--compare", "dev", "nosuch")
    assert (code, out) == (2, "")
    assert "no stack 'nosuch'" in err
    assert "running the program" not in err, "dev was planned before nosuch was refused"


def test_any_stack_file_can_be_planned(project_copy: Path) -> None:
    (project_copy / "Pulumi.staging.yaml").write_text(
        "config:\n  aws:region: us-east-1\n  fargate-app:vpcEndpoints: true\n"
        "  fargate-app:cpuArchitecture: ARM64\n"
    )
    code, out, _ = cli("-C", str(project_copy), "staging", "--json", "-q")
    assert code == 0
    items = {i["item"]: i for i in json.loads(out)["cost"]["items"]}
    assert items["Fargate on-demand ARM64"]["quantity"] == 1
    endpoint_azs = sum(
        i["quantity"] for i in items.values() if i["item"] == "Interface VPC endpoints"
    )
    assert endpoint_azs >= 2, "interface endpoints are priced per AZ"


def test_an_unknown_stack_is_a_usage_error_that_names_the_stacks() -> None:
    code, out, err = cli("qa", "-q")
    assert (code, out) == (2, "")
    assert "no stack 'qa'" in err and all(s in err for s in STACKS)


def test_no_stack_is_a_usage_error() -> None:
    code, _, err = cli("-q")
    assert code == 2 and "name one stack" in err


def git(project: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(project), *args], check=True, capture_output=True)


def test_snapshots_are_of_the_committed_stacks_only(
    project_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A developer's own Pulumi.alice.yaml, untracked, gets no snapshot; a committed stack whose
    plan fails does not stop the others, and the command exits 1 naming it."""
    monkeypatch.setattr(urns, "VARIANTS", {"dev": urns.VARIANTS["dev"]})  # URNs: tested below
    (project_copy / "Pulumi.dev.yaml").symlink_to(ROOT / "Pulumi.dev.yaml")
    (project_copy / "Pulumi.broken.yaml").write_text("config:\n  fargate-app:cpu: lots\n")
    (project_copy / "Pulumi.alice.yaml").write_text("config:\n  aws:region: eu-west-1\n")
    snapshots = project_copy / "tests" / "snapshots"
    snapshots.mkdir(parents=True)
    (snapshots / "broken.txt").write_text("old plan\n")
    git(project_copy, "init", "-q")
    git(project_copy, "add", "Pulumi.dev.yaml", "Pulumi.broken.yaml")
    assert Project.at(project_copy).committed_stacks() == ["broken", "dev"]

    code, out, err = cli("-C", str(project_copy), "--update-snapshots", "-q")
    assert code == 1, out
    assert (snapshots / "dev.txt").read_text().startswith("Plan of stack dev"), "dev still updated"
    assert not (snapshots / "alice.txt").exists(), "an untracked stack gets no snapshot"
    assert "Pulumi.alice.yaml: skipped (not in git" in out
    assert (snapshots / "broken.txt").read_text() == "old plan\n", (
        "a failed plan keeps its snapshot"
    )
    assert "tests/snapshots/broken.txt: not updated" in out
    assert "1 of 2 stacks failed" in err and "broken: validating stack config:" in err


def test_snapshots_update_with_one_command(project_copy: Path) -> None:
    """The plans, and the URN fixtures of the variants built on the committed stacks: one command
    after an intended change. A copy with only dev gets dev's variants, none of prod's."""
    (project_copy / "Pulumi.dev.yaml").symlink_to(ROOT / "Pulumi.dev.yaml")
    snapshots = project_copy / "tests" / "snapshots"
    snapshots.mkdir(parents=True)
    stale = [snapshots / "gone.txt", snapshots / "gone.urns"]
    for path in stale:
        path.write_text("old\n")
    code, out, _ = cli("-C", str(project_copy), "--update-snapshots", "-q")
    assert code == 0, out
    assert (snapshots / "dev.txt").read_text().startswith("Plan of stack dev")
    assert not any(p.exists() for p in stale), "snapshots of nothing committed are removed"
    assert "gone.txt: removed" in out and "gone.urns: removed" in out
    written = sorted(p.stem for p in snapshots.glob("*.urns"))
    assert written == sorted(urns.variants_of(["dev"])), f"URN fixtures written: {written}"
    for name in written:
        assert f"tests/snapshots/{name}.urns: created" in out
        assert urns.read_fixture(name, project_copy) == urns.read_fixture(name), (
            f"{name}: the copy's URNs differ from the committed fixture of the same program"
        )


def test_a_urn_variant_that_fails_keeps_its_fixture_and_fails_the_update(
    project_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project_copy / "Pulumi.dev.yaml").symlink_to(ROOT / "Pulumi.dev.yaml")
    broken = urns.Variant(stack="dev", overrides={"cpu": 300})
    monkeypatch.setattr(urns, "VARIANTS", {"dev": urns.VARIANTS["dev"], "dev-broken": broken})
    fixture = urns.fixture_path("dev-broken", project_copy)
    fixture.parent.mkdir(parents=True)
    fixture.write_text("old\n")
    code, out, err = cli("-C", str(project_copy), "--update-snapshots", "-q")
    assert code == 1, out
    assert "tests/snapshots/dev-broken.urns: not updated (the program failed)" in out
    assert fixture.read_text() == "old\n", "a failed variant keeps its fixture"
    assert urns.fixture_path("dev", project_copy).exists(), "the others are still written"
    assert "1 URN variants failed" in err and "dev-broken (URNs):" in err and "cpu" in err


def test_the_project_is_found_from_the_working_directory(project_copy: Path) -> None:
    (project_copy / "docs").mkdir()
    assert find_project(project_copy / "docs") == Project.at(project_copy.resolve())


# --- structure -----------------------------------------------------------------------------------

PLAN_PACKAGE = ROOT / "tools" / "plan"
# Who may import whom inside tools/plan: the models (cost, deploy) and the display (tree) read the
# lookups and references, never each other; render formats plain data and imports none of them.
PLAN_IMPORTS_ALLOWED = {
    "__init__": set(),
    "__main__": {"cli"},
    "cli": {"model", "render"},
    "model": {"cost", "deploy", "services", "tree", "lookups", "refs"},
    "services": {"lookups", "refs"},
    "cost": {"lookups", "refs"},
    "deploy": {"lookups", "refs"},
    "tree": {"lookups", "refs"},
    "lookups": {"refs"},
    "refs": set(),
    "render": set(),
}


def _plan_imports(module: str) -> set[str]:
    """The tools.plan modules `module` imports, by their short names."""
    found = set()
    for node in ast.walk(ast.parse((PLAN_PACKAGE / f"{module}.py").read_text())):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        found |= {n.split(".")[2] for n in names if n.startswith("tools.plan.")}
    return found


def test_every_plan_module_has_a_place_in_the_import_layers() -> None:
    modules = {p.stem for p in PLAN_PACKAGE.glob("*.py")}
    assert modules == set(PLAN_IMPORTS_ALLOWED), (
        "place a new tools/plan module in PLAN_IMPORTS_ALLOWED (what it may import), or remove "
        f"a gone one: modules {sorted(modules)}, placed {sorted(PLAN_IMPORTS_ALLOWED)}"
    )


@pytest.mark.parametrize("module", sorted(PLAN_IMPORTS_ALLOWED))
def test_the_models_read_lookups_not_the_display(module: str) -> None:
    """cli -> model -> {cost, deploy, tree} -> {lookups, refs}; render only formats."""
    extra = _plan_imports(module) - PLAN_IMPORTS_ALLOWED[module]
    assert not extra, (
        f"tools/plan/{module}.py imports {sorted(extra)}; it may import only "
        f"{sorted(PLAN_IMPORTS_ALLOWED[module]) or 'nothing from tools.plan'}"
    )


# --- what the defaults admit (issue 14) ----------------------------------------------------------
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
ADMITTING = {
    "vpcEndpoints": True,
    "natGateways": "none",
    "enableExec": True,
    "taskEgress": {"postgres": {"port": 5432, "cidr": "10.20.0.0/16"}},
}


def shown(run: ProgramRun, type_token: str, name: str) -> dict[str, str]:
    """The settings the plan shows for the resource of `type_token` called `name`."""
    rows = tree(Index(run.resources))
    [row] = [row for row in rows if row["name"] == name and row["type"] == type_token]
    return row["settings"]


def test_the_plan_shows_what_the_tasks_egress_admits(run_stack) -> None:
    run = run_stack("dev", ADMITTING)
    assert shown(run, "aws:ec2/securityGroup:SecurityGroup", "app-sg")["admits out"] == (
        "tcp 443 to 0.0.0.0/0; tcp 5432 to 10.20.0.0/16"
    )


def test_the_plan_shows_each_endpoints_policy_scope(run_stack) -> None:
    run = run_stack("dev", ADMITTING)
    s3 = shown(run, ENDPOINT, "network-s3")["policy"]
    assert f"aws:PrincipalAccount {ACCOUNT_ID} and aws:ResourceAccount {ACCOUNT_ID}" in s3, s3
    assert "allow s3:GetObject on prod-us-east-1-starport-layer-bucket/*" in s3, s3
    channels = shown(run, ENDPOINT, "network-ssmmessages")["policy"]
    assert channels == f"allow any action if aws:PrincipalAccount {ACCOUNT_ID}", channels


def test_the_plan_shows_the_dropped_capabilities_and_the_exec_record(run_stack) -> None:
    run = run_stack("dev", ADMITTING)
    assert (
        shown(run, "aws:ecs/taskDefinition:TaskDefinition", "app-task")["app: linux capabilities"]
        == "drops ALL"
    )
    sessions = shown(run, "aws:ecs/cluster:Cluster", "cluster-cluster")["exec sessions"]
    assert sessions.startswith("OVERRIDE to /ecs/fargate-app/dev/exec-sessions (encrypted)")
    assert "data encrypted with exec-key" in sessions, sessions


def test_the_plan_lists_the_stacks_policy_waivers_with_their_reasons(
    plans, project_copy: Path
) -> None:
    reason = "the vendor image runs as root, until it ships a user"
    stack_file = (ROOT / "Pulumi.prod.yaml").read_text()
    (project_copy / "Pulumi.prod.yaml").write_text(
        stack_file + f"  fargate-app:policyWaivers:\n    ecs-container-non-root-user: {reason}\n"
    )
    plan = build_plan("prod", Project.at(project_copy))
    assert plan["waivers"] == {"ecs-container-non-root-user": reason}
    section = render.render(plan).split("\nPolicy waivers\n", 1)[1]
    assert section.startswith(f"  ecs-container-non-root-user: {reason}"), section
    assert plans["dev"]["waivers"] == {}
    assert render.render(plans["dev"]).endswith("\nPolicy waivers\n  none\n")
