"""Alarms (components/alarms.py, components/alarm_topic.py, the deployment alarms in
components/service.py).

What an on-call engineer relies on: five alarms with stable names (5xx rate, unhealthy hosts, p99
latency, CPU, memory) watching this service's load balancer, target groups, cluster and service and
nothing else; each notifies the alarm topic when it fires and when it clears; an idle stack does
not page; the topic is encrypted where the stack pays for a key, and CloudWatch can still publish
to it; `alarmEmail` subscribes that address and no other; and a deploy that trips the 5xx or
unhealthy alarm rolls back, which needs the alarms to exist before the service.
"""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from components import alarms as alarms_module
from components.alarm_topic import topic_key_policy
from components.alarms import (
    CPU_HIGH_PERCENT,
    ERROR_RATE_DATAPOINTS,
    ERROR_RATE_EVALUATION_PERIODS,
    ERROR_RATE_MIN_REQUESTS,
    ERROR_RATE_PERCENT,
    LATENCY_P99_S,
    MEMORY_HIGH_PERCENT,
    PERIOD_S,
    UNHEALTHY_EVALUATION_PERIODS,
    alarm_name,
)
from components.spec import deploys_tag_key
from tests.conftest import STACKS
from tools.mocks import ProgramRun, RegisteredResource

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
KEY = "aws:kms/key:Key"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
CLUSTER = "aws:ecs/cluster:Cluster"
SERVICE = "aws:ecs/service:Service"
WHATS = ("5xx-rate", "unhealthy-hosts", "latency-p99", "cpu-high", "memory-high")
DEPLOY_ALARMS = ("5xx-rate", "unhealthy-hosts")
EMAIL = "oncall@example.com"
PUT_METRIC_ALARM = (
    botocore.session.get_session().get_service_model("cloudwatch").operation_model("PutMetricAlarm")
)


def alarms(run: ProgramRun) -> dict[str, RegisteredResource]:
    """The app's alarms by what they watch (the last part of their names); a scheduled job's
    dead-letter alarm is its own (tests/test_scheduled_tasks.py)."""
    prefix = f"fargate-app-{run.stack}-app-"
    return {
        a.inputs["name"].removeprefix(prefix): a
        for a in run.of_type(ALARM)
        if a.inputs["name"].startswith(prefix)
    }


def ecs_service(run: ProgramRun) -> RegisteredResource:
    [service] = [r for r in run.of_type(SERVICE) if r.name == "app-svc"]
    return service


def service_target_groups(run: ProgramRun) -> list[RegisteredResource]:
    [component] = [r for r in run.of_type("fargate-app:service:FargateService") if r.name == "app"]
    return [r for r in run.children(component) if r.type == TARGET_GROUP]


def metrics(alarm: RegisteredResource) -> list[dict[str, Any]]:
    return [q["metric"] for q in alarm.inputs.get("metricQueries", []) if "metric" in q]


def expression(alarm: RegisteredResource) -> str:
    [returned] = [q for q in alarm.inputs["metricQueries"] if q.get("returnData")]
    return returned["expression"]


def topic(run: ProgramRun) -> RegisteredResource:
    return run.one(TOPIC)


# --- which alarms, named how ----------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_the_stack_has_the_five_alarms_with_stable_names(run_stack, stack: str) -> None:
    run = run_stack(stack)
    assert sorted(alarms(run)) == sorted(WHATS)
    for what, alarm in alarms(run).items():
        assert alarm.inputs["name"] == f"fargate-app-{stack}-app-{what}", alarm.urn


@pytest.mark.parametrize("stack", STACKS)
def test_alarm_names_are_known_in_preview(run_stack, stack: str) -> None:
    """ECS refers to the deployment alarms by name before anything exists."""
    run = run_stack(stack, preview=True)
    assert sorted(alarms(run)) == sorted(WHATS)


def test_alarm_names_stay_within_cloudwatchs_limit(monkeypatch) -> None:
    monkeypatch.setattr(alarms_module.pulumi, "get_stack", lambda: "s" * 400)
    monkeypatch.setattr(alarms_module.pulumi, "get_project", lambda: "fargate-app")
    long_a, long_b = alarm_name("app", "5xx-rate"), alarm_name("app", "unhealthy-hosts")
    assert len(long_a) <= 255 and len(long_b) <= 255
    assert long_a != long_b, "cut names keep a hash of the full name, so they stay apart"


# --- whom they notify ----------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_every_alarm_notifies_the_topic_when_it_fires_and_clears(run_stack, stack: str) -> None:
    run = run_stack(stack)
    arn = topic(run).outputs["arn"]
    for alarm in alarms(run).values():
        assert alarm.inputs["alarmActions"] == [arn], alarm.urn
        assert alarm.inputs["okActions"] == [arn], alarm.urn


@pytest.mark.parametrize("stack", STACKS)
def test_an_idle_stack_does_not_page(run_stack, stack: str) -> None:
    for alarm in alarms(run_stack(stack)).values():
        assert alarm.inputs["treatMissingData"] == "notBreaching", alarm.urn


def test_without_alarm_email_nobody_is_subscribed(run_stack) -> None:
    assert not run_stack("prod").of_type(SUBSCRIPTION)


@pytest.mark.parametrize("stack", STACKS)
def test_alarm_email_subscribes_that_address_to_the_topic(run_stack, stack: str) -> None:
    run = run_stack(stack, {"alarmEmail": EMAIL})
    [subscription] = run.of_type(SUBSCRIPTION)
    assert subscription.inputs["protocol"] == "email"
    assert subscription.inputs["endpoint"] == EMAIL
    assert subscription.inputs["topic"] == topic(run).outputs["arn"]


def test_prod_encrypts_the_topic_with_a_key_cloudwatch_may_use(run_stack) -> None:
    run = run_stack("prod")
    key = run.one(KEY)
    assert topic(run).inputs["kmsMasterKeyId"] == key.outputs["arn"], (
        "an AWS managed alias/aws/sns key would silently drop every alarm notification"
    )
    assert key.inputs["enableKeyRotation"] is True
    statements = {s["Sid"]: s for s in json.loads(key.inputs["policy"])["Statement"]}
    [cloudwatch] = [
        s for s in statements.values() if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert sorted(cloudwatch["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert cloudwatch["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}
    assert cloudwatch["Condition"]["ArnLike"] == {
        "aws:SourceArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:*"
    }


def test_the_topic_key_admits_its_stack_s_deploy_role_to_manage_it_and_no_other() -> None:
    """The bootstrap's deploy roles get no IAM grant on keys (one that reached keys by tag would
    let a role that may tag a new key claim any key): the key's own policy names the role that
    deploys its stack, by the tag the bootstrap gives that role."""
    policy = json.loads(topic_key_policy("123456789012", "aws", "us-east-1", "fargate-app", "prod"))
    [deployer] = [s for s in policy["Statement"] if s["Sid"] == "TheStacksDeployRoleManagesTheKey"]
    assert deployer["Condition"]["StringEquals"] == {
        "aws:PrincipalAccount": "123456789012",
        f"aws:PrincipalTag/{deploys_tag_key('fargate-app')}": "prod",
    }
    assert not [a for a in deployer["Action"] if a in ("kms:Decrypt", "kms:Encrypt", "kms:*")], (
        "the deploy role manages the key; it has no use for its cryptography"
    )


def test_dev_skips_the_key(run_stack) -> None:
    run = run_stack("dev")
    assert not run.of_type(KEY), "dev does not pay $1 a month to encrypt alarm names"
    assert topic(run).inputs.get("kmsMasterKeyId") in (None, ""), topic(run).urn


# --- what they watch -----------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_load_balancer_alarms_watch_this_alb_and_the_services_target_group(run_stack, stack):
    """Every target group of the service: one, or two for blueGreen and canary deploys."""
    run = run_stack(stack)
    lb = run.one(LOAD_BALANCER).outputs["arnSuffix"]
    groups = {g.outputs["arnSuffix"] for g in service_target_groups(run)}
    for what in ("5xx-rate", "unhealthy-hosts", "latency-p99"):
        alarm = alarms(run)[what]
        watched = set()
        for metric in metrics(alarm):
            assert metric["namespace"] == "AWS/ApplicationELB", alarm.urn
            assert metric["dimensions"]["LoadBalancer"] == lb, alarm.urn
            # The load balancer's own 5xx have no target group (it answered, not a target).
            if metric["metricName"].startswith("HTTPCode_ELB_"):
                assert set(metric["dimensions"]) == {"LoadBalancer"}, alarm.urn
            else:
                assert set(metric["dimensions"]) == {"LoadBalancer", "TargetGroup"}, alarm.urn
                watched.add(metric["dimensions"]["TargetGroup"])
            assert metric["period"] == PERIOD_S
        assert watched == groups, f"{alarm.urn} watches {watched}; the service's are {groups}"


@pytest.mark.parametrize("stack", STACKS)
def test_service_alarms_watch_this_cluster_and_service(run_stack, stack: str) -> None:
    run = run_stack(stack)
    dimensions = {
        "ClusterName": run.one(CLUSTER).outputs["name"],
        "ServiceName": ecs_service(run).outputs["name"],
    }
    for what, metric, threshold in (
        ("cpu-high", "CPUUtilization", CPU_HIGH_PERCENT),
        ("memory-high", "MemoryUtilization", MEMORY_HIGH_PERCENT),
    ):
        alarm = alarms(run)[what]
        assert alarm.inputs["namespace"] == "AWS/ECS" and alarm.inputs["metricName"] == metric
        assert alarm.inputs["dimensions"] == dimensions, alarm.urn
        assert alarm.inputs["statistic"] == "Average"
        assert alarm.inputs["threshold"] == threshold
        assert alarm.inputs["comparisonOperator"] == "GreaterThanThreshold"


def test_cpu_alarm_sits_above_any_autoscaling_target() -> None:
    assert CPU_HIGH_PERCENT >= 90, "cpuTarget goes up to 90: below that the alarm fires at target"


def test_the_5xx_alarm_is_a_rate_of_requests_not_a_count(prod: ProgramRun) -> None:
    alarm = alarms(prod)["5xx-rate"]
    assert {m["metricName"]: m["stat"] for m in metrics(alarm)} == {
        "HTTPCode_Target_5XX_Count": "Sum",
        "HTTPCode_ELB_5XX_Count": "Sum",
        "HTTPCode_ELB_503_Count": "Sum",
        "RequestCount": "Sum",
    }
    # 502/504 had a target, so they are in RequestCount already; 503s found none.
    assert expression(alarm) == (
        f"IF((FILL(requests0, 0) + FILL(unrouted, 0)) >= {ERROR_RATE_MIN_REQUESTS}, "
        "100 * (FILL(errors0, 0) + FILL(lberrors, 0)) "
        "/ (FILL(requests0, 0) + FILL(unrouted, 0)), 0)"
    )


def test_the_5xx_alarm_counts_the_load_balancer_s_own_5xx(prod: ProgramRun) -> None:
    """A deploy whose tasks crash or time out gets 502/503/504 from the load balancer, never a
    target 5xx: the deployment alarm must see those to roll it back."""
    alarm = alarms(prod)["5xx-rate"]
    lb_level = [m for m in metrics(alarm) if m["metricName"].startswith("HTTPCode_ELB_")]

    assert {m["metricName"] for m in lb_level} == {
        "HTTPCode_ELB_5XX_Count",
        "HTTPCode_ELB_503_Count",
    }, f"{alarm.urn}: the load balancer's own 5xx are not counted"
    for metric in lb_level:
        assert set(metric["dimensions"]) == {"LoadBalancer"}, (
            f"{alarm.urn}: the ALB publishes its own 5xx per load balancer only, "
            f"not with {sorted(metric['dimensions'])}"
        )
    assert alarm.inputs["threshold"] == ERROR_RATE_PERCENT
    assert alarm.inputs["evaluationPeriods"] == ERROR_RATE_EVALUATION_PERIODS
    assert alarm.inputs["datapointsToAlarm"] == ERROR_RATE_DATAPOINTS
    assert alarm.inputs["comparisonOperator"] == "GreaterThanThreshold"


def test_the_unhealthy_alarm_fires_on_any_unhealthy_target(prod: ProgramRun) -> None:
    alarm = alarms(prod)["unhealthy-hosts"]
    assert [(m["metricName"], m["stat"]) for m in metrics(alarm)] == [
        ("UnHealthyHostCount", "Maximum")
    ]
    assert alarm.inputs["threshold"] == 0 and alarm.inputs["comparisonOperator"] == (
        "GreaterThanThreshold"
    )
    assert alarm.inputs["evaluationPeriods"] == UNHEALTHY_EVALUATION_PERIODS


def test_the_latency_alarm_watches_p99_target_response_time(prod: ProgramRun) -> None:
    alarm = alarms(prod)["latency-p99"]
    assert [(m["metricName"], m["stat"]) for m in metrics(alarm)] == [("TargetResponseTime", "p99")]
    assert alarm.inputs["threshold"] == LATENCY_P99_S


@pytest.mark.parametrize("stack", STACKS)
def test_cloudwatch_accepts_every_alarm(run_stack, stack: str) -> None:
    for alarm in alarms(run_stack(stack)).values():
        request = put_metric_alarm_request(alarm)
        report = ParamValidator().validate(request, PUT_METRIC_ALARM.input_shape)
        assert not report.has_errors(), f"{alarm.urn}: {report.generate_report()}"
        returned = [m for m in request.get("Metrics", []) if m.get("ReturnData")]
        assert not request.get("Metrics") or len(returned) == 1, "exactly one returned expression"
        assert len(request.get("Metrics", [])) <= 20, "CloudWatch's limit per alarm"


def put_metric_alarm_request(alarm: RegisteredResource) -> dict[str, Any]:
    """The PutMetricAlarm request the provider makes from the registered inputs."""
    i = alarm.inputs
    renames = {
        "name": "AlarmName",
        "alarmDescription": "AlarmDescription",
        "alarmActions": "AlarmActions",
        "okActions": "OKActions",
        "comparisonOperator": "ComparisonOperator",
        "threshold": "Threshold",
        "evaluationPeriods": "EvaluationPeriods",
        "datapointsToAlarm": "DatapointsToAlarm",
        "treatMissingData": "TreatMissingData",
        "namespace": "Namespace",
        "metricName": "MetricName",
        "statistic": "Statistic",
        "period": "Period",
    }
    request: dict[str, Any] = {api: i[key] for key, api in renames.items() if key in i}
    if "dimensions" in i:
        request["Dimensions"] = [{"Name": k, "Value": v} for k, v in i["dimensions"].items()]
    if "threshold" in request:
        request["Threshold"] = float(request["Threshold"])
    if "metricQueries" in i:
        request["Metrics"] = []
        for q in i["metricQueries"]:
            query: dict[str, Any] = {"Id": q["id"], "ReturnData": q.get("returnData", False)}
            if "expression" in q:
                query["Expression"] = q["expression"]
                query["Label"] = q.get("label", "")
            else:
                m = q["metric"]
                query["MetricStat"] = {
                    "Metric": {
                        "Namespace": m["namespace"],
                        "MetricName": m["metricName"],
                        "Dimensions": [{"Name": k, "Value": v} for k, v in m["dimensions"].items()],
                    },
                    "Period": m["period"],
                    "Stat": m["stat"],
                }
            request["Metrics"].append(query)
    return request


# --- deployment alarms ----------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_a_deploy_that_trips_the_5xx_or_unhealthy_alarm_rolls_back(run_stack, stack: str) -> None:
    run = run_stack(stack)
    service = ecs_service(run)
    names = [alarms(run)[what].inputs["name"] for what in DEPLOY_ALARMS]
    assert service.inputs["alarms"] == {"alarmNames": names, "enable": True, "rollback": True}, (
        service.urn
    )


@pytest.mark.parametrize("stack", STACKS)
def test_the_deployment_alarms_exist_before_the_service(run_stack, stack: str) -> None:
    run = run_stack(stack)
    service = ecs_service(run)
    for what in DEPLOY_ALARMS:
        assert alarms(run)[what].urn in service.depends_on, f"{service.urn} must wait for {what}"


@pytest.mark.parametrize("stack", STACKS)
def test_the_other_alarms_are_not_deployment_alarms(run_stack, stack: str) -> None:
    """A CPU spike during a deploy under load is not the new revision's fault."""
    run = run_stack(stack)
    names = ecs_service(run).inputs["alarms"]["alarmNames"]
    for what in ("latency-p99", "cpu-high", "memory-high"):
        assert alarms(run)[what].inputs["name"] not in names


def test_the_alarms_belong_to_their_components(prod: ProgramRun) -> None:
    [service] = [r for r in prod.of_type("fargate-app:service:FargateService") if r.name == "app"]
    [watcher] = prod.of_type("fargate-app:alarms:Alarms")
    parents = {what: alarm.parent for what, alarm in alarms(prod).items()}
    assert {w for w, p in parents.items() if p == service.urn} == set(DEPLOY_ALARMS)
    assert {w for w, p in parents.items() if p == watcher.urn} == {
        "latency-p99",
        "cpu-high",
        "memory-high",
    }
    [topic_component] = prod.of_type("fargate-app:alarms:AlarmTopic")
    assert topic(prod).parent == topic_component.urn
