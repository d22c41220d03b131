"""The stack's other services (components/app_service.py, queue.py, namespace.py), in the whole
program, as `pulumi up` and as `pulumi preview`.

What a user relies on: each service is its own: security group, log group, task family, roles,
autoscaling, circuit breaker and alarms; a web service gets its own rule and target group on the
stack's one load balancer; an internal service is reachable at http://NAME:PORT by the stack's
services only; a worker drains an encrypted queue with a dead-letter
queue, scales on its backlog down to zero and up again; every service may send to every queue and
only the worker receives; tasks in the Service Connect namespace have room for its proxy; and what
ECS, Application Auto Scaling, SQS, ELB, CloudWatch and Cloud Map would be sent fits their API
models.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from components.spec import (
    SERVICE_CONNECT_PROXY_CPU,
    SERVICE_CONNECT_PROXY_MEMORY_MIB,
    STACK_COMPONENTS,
)
from stack_config.routes import CATCH_ALL_PRIORITY
from tools.mocks import ProgramRun, RegisteredResource
from tools.urns import VARIANTS, variant_config

BOOTSTRAP = Path(__file__).resolve().parent.parent / "bootstrap"
if str(BOOTSTRAP) not in sys.path:
    sys.path.insert(0, str(BOOTSTRAP))

from ci_bootstrap.deploy_permissions import (  # noqa: E402  (IAM's quota and its measure)
    INLINE_ROLE_POLICY_MAX_CHARS,
    policy_chars,
)

SERVICES = {
    "api": {"type": "web", "path": ["/api/*"], "containerPort": 9000, "command": "python -m api"},
    "search": {"type": "internal", "containerPort": 8080, "command": "python -m search"},
    "mailer": {
        "type": "worker",
        "command": "python -m mailer",
        "minCount": 0,
        "maxCount": 4,
        "backlogPerTask": 20,
        "maxReceives": 3,
    },
}
JOBS = {"nightly": {"schedule": "cron(0 3 * * ? *)", "command": "python -m report"}}
SERVICE = "aws:ecs/service:Service"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
QUEUE = "aws:sqs/queue:Queue"
POLICY = "aws:appautoscaling/policy:Policy"
TARGET = "aws:appautoscaling/target:Target"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
RULE = "aws:lb/listenerRule:ListenerRule"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
FARGATE_SERVICE = "fargate-app:service:FargateService"
APP_SERVICE = "fargate-app:services:AppService"
WORK_QUEUE = "fargate-app:queue:WorkQueue"
MODELS = botocore.session.get_session()


@pytest.fixture(scope="module", params=[False, True], ids=["up", "preview"])
def run(request: pytest.FixtureRequest, run_stack) -> ProgramRun:
    """dev with a web, an internal and a worker service and a scheduled job."""
    return run_stack("dev", {"services": SERVICES, "scheduledTasks": JOBS}, preview=request.param)


@pytest.fixture(scope="module")
def up(run_stack) -> ProgramRun:
    return run_stack("dev", {"services": SERVICES, "scheduledTasks": JOBS})


@pytest.fixture(scope="module")
def blue_green(run_stack) -> ProgramRun:
    return run_stack("dev", {"services": SERVICES, "deploymentStrategy": "blueGreen"})


# --- finding a service's resources --------------------------------------------------------------


def descendants(run: ProgramRun, root: RegisteredResource) -> Iterator[RegisteredResource]:
    for child in run.children(root):
        yield child
        yield from descendants(run, child)


def component(run: ProgramRun, name: str) -> RegisteredResource:
    """The service's outermost component: AppService, or the main service's FargateService."""
    kind = FARGATE_SERVICE if name == "app" else APP_SERVICE
    [found] = [r for r in run.of_type(kind) if r.name == name]
    return found


def owned(run: ProgramRun, name: str, type_token: str) -> list[RegisteredResource]:
    return [r for r in descendants(run, component(run, name)) if r.type == type_token]


def own(run: ProgramRun, name: str, type_token: str) -> RegisteredResource:
    found = owned(run, name, type_token)
    assert len(found) == 1, f"service {name} has {len(found)} {type_token}, want its own one"
    return found[0]


def queues(run: ProgramRun, name: str) -> dict[str, RegisteredResource]:
    """A worker's queue and dead-letter queue, by logical name (its WorkQueue component)."""
    [work_queue] = [r for r in run.of_type("fargate-app:queue:WorkQueue") if r.name == name]
    return {q.name: q for q in descendants(run, work_queue) if q.type == QUEUE}


def containers(run: ProgramRun, name: str) -> list[dict[str, Any]]:
    definition = own(run, name, TASK_DEFINITION)
    return json.loads(definition.inputs["containerDefinitions"])


def policy_of(run: ProgramRun, role: RegisteredResource) -> list[dict[str, Any]]:
    return [
        statement
        for p in run.of_type(ROLE_POLICY)
        if p.inputs.get("role") == role.outputs.get("name", role.inputs.get("name"))
        for statement in json.loads(p.inputs["policy"])["Statement"]
    ]


def task_role(run: ProgramRun, name: str) -> RegisteredResource:
    roles = [r for r in owned(run, name, ROLE) if r.name == f"{name}-task"]
    if name == "app":  # the main service's roles are their own component
        roles = [r for r in run.of_type(ROLE) if r.name == "app-task"]
    assert len(roles) == 1, f"no task role of {name}"
    return roles[0]


# --- each service is its own --------------------------------------------------------------------


@pytest.mark.parametrize(
    "type_token",
    [SECURITY_GROUP, "aws:cloudwatch/logGroup:LogGroup", TASK_DEFINITION, SERVICE],
)
def test_each_service_has_its_own(run: ProgramRun, type_token: str) -> None:
    found = {name: own(run, name, type_token).urn for name in ("app", *SERVICES)}
    assert len(set(found.values())) == len(found), f"services share a {type_token}: {found}"


def test_each_service_has_its_own_task_and_execution_roles(run: ProgramRun) -> None:
    for name in SERVICES:
        names = sorted(r.name for r in owned(run, name, ROLE))
        assert names == [f"{name}-exec", f"{name}-task"], f"{name}'s roles: {names}"


def test_each_service_has_its_own_task_family_and_log_group(up: ProgramRun) -> None:
    for name in SERVICES:
        family = own(up, name, TASK_DEFINITION).inputs["family"]
        assert family == f"fargate-app-dev-{name}", family
        [app] = containers(up, name)
        group = app["logConfiguration"]["options"]["awslogs-group"]
        assert group == f"/ecs/fargate-app/dev/{name}", f"{name} logs to {group}"


def test_every_service_rolls_back_a_failed_deploy(run: ProgramRun) -> None:
    for name in SERVICES:
        breaker = own(run, name, SERVICE).inputs["deploymentCircuitBreaker"]
        assert breaker == {"enable": True, "rollback": True}, f"{name}: {breaker}"


def test_every_service_alarms_on_cpu_and_memory(up: ProgramRun) -> None:
    for name in SERVICES:
        alarms = {a.inputs["name"] for a in owned(up, name, ALARM)}
        for what in ("cpu-high", "memory-high"):
            assert f"fargate-app-dev-{name}-{what}" in alarms, f"{name}: no {what} alarm"


def test_the_command_replaces_the_images(up: ProgramRun) -> None:
    [api] = containers(up, "api")
    assert api["command"] == ["python", "-m", "api"], api.get("command")


# --- web ----------------------------------------------------------------------------------------


def test_a_web_service_has_its_rule_on_the_stacks_one_listener(up: ProgramRun) -> None:
    rule = own(up, "api", RULE)
    [main_rule] = [r for r in up.of_type(RULE) if r.name == "app-route"]
    assert rule.inputs["listenerArn"] == main_rule.inputs["listenerArn"], "another listener"
    assert rule.inputs["conditions"] == [{"pathPattern": {"values": ["/api/*"]}}]
    assert rule.inputs["priority"] < main_rule.inputs["priority"] == CATCH_ALL_PRIORITY, (
        "the main service's catch-all would be evaluated before the api's rule"
    )


def test_a_web_service_gets_the_5xx_latency_and_unhealthy_alarms(up: ProgramRun) -> None:
    alarms = {a.inputs["name"] for a in owned(up, "api", ALARM)}
    for what in ("5xx-rate", "unhealthy-hosts", "latency-p99"):
        assert f"fargate-app-dev-api-{what}" in alarms, f"api: no {what} alarm"
    service = own(up, "api", SERVICE)
    assert service.inputs["alarms"]["rollback"], "a deploy that trips the 5xx alarm must roll back"


def test_only_the_load_balancer_reaches_a_web_services_port(up: ProgramRun) -> None:
    [rule] = owned(up, "api", INGRESS)
    lb_group = next(r for r in up.of_type(SECURITY_GROUP) if r.name == "web-sg")
    assert rule.inputs["referencedSecurityGroupId"] == lb_group.id
    assert (rule.inputs["fromPort"], rule.inputs["toPort"]) == (9000, 9000)


def test_web_services_deploy_as_the_main_service_does(blue_green: ProgramRun) -> None:
    groups = owned(blue_green, "api", TARGET_GROUP)
    assert len(groups) == 2, "blueGreen needs the api's own two target groups"
    strategy = own(blue_green, "api", SERVICE).inputs["deploymentConfiguration"]["strategy"]
    assert strategy == "BLUE_GREEN", strategy


def test_the_names_a_service_may_not_take_are_every_component_the_stack_makes(run_config) -> None:
    """A service is a top-level component named by its key: the names of the stack's own top-level
    components (prod-all: every feature on, edge and web ACL included) are refused for it."""
    run = run_config(variant_config("prod-all"), stack=VARIANTS["prod-all"].stack)
    registered = {r.urn for r in run.resources}
    own = {
        r.name
        for r in run.resources
        if not r.custom
        and r.parent not in registered  # the stack's own children
        and r.type not in (APP_SERVICE, WORK_QUEUE)
    }
    assert {"app", "network"} <= own, f"the stack's top-level components not found: {own}"
    missing = sorted(own - set(STACK_COMPONENTS))
    assert not missing, f"services may take the names of the stack's components {missing}"


def test_the_roles_ecs_shifts_traffic_with_fit_iams_inline_policy_limit(run_stack) -> None:
    """With blueGreen or canary, ECS assumes a role to shift each load-balanced service's traffic;
    every such service's grant must fit IAM's 10,240 characters of inline policy a role, however
    many web services the load balancer takes."""
    services = {
        f"web{i:02d}-{'x' * 11}": {"type": "web", "path": [f"/s{i:02d}/*"]} for i in range(30)
    }
    run = run_stack("dev", {"services": services, "deploymentStrategy": "blueGreen"})
    by_role: dict[str, int] = {}
    for policy in run.of_type(ROLE_POLICY):
        by_role[policy.inputs["role"]] = by_role.get(policy.inputs["role"], 0) + policy_chars(
            json.loads(policy.inputs["policy"])
        )
    assert by_role, "no inline policies"
    for role, size in by_role.items():
        assert size <= INLINE_ROLE_POLICY_MAX_CHARS, (
            f"role {role}: its inline policies total {size} characters; IAM allows "
            f"{INLINE_ROLE_POLICY_MAX_CHARS}, so `pulumi up` would fail"
        )


def test_internal_services_and_workers_deploy_rolling(blue_green: ProgramRun) -> None:
    for name in ("search", "mailer"):
        config = own(blue_green, name, SERVICE).inputs["deploymentConfiguration"]
        assert config["strategy"] == "ROLLING", f"{name}: {config}"
        assert not owned(blue_green, name, TARGET_GROUP), f"{name} has a target group"


# --- internal -----------------------------------------------------------------------------------


def test_an_internal_service_is_published_as_name_and_port(up: ProgramRun) -> None:
    connect = own(up, "search", SERVICE).inputs["serviceConnectConfiguration"]
    [published] = connect["services"]
    assert published["clientAlias"] == [{"dnsName": "search", "port": 8080}], published
    [app] = containers(up, "search")
    assert app["portMappings"][0]["name"] == published["portName"], "the port name differs"
    assert up.outputs["services"]["search"]["serviceConnectUrl"] == "http://search:8080"


def test_every_service_joins_the_stacks_namespace(run: ProgramRun) -> None:
    namespace = run.one("aws:servicediscovery/httpNamespace:HttpNamespace")
    for name in ("app", *SERVICES):
        connect = own(run, name, SERVICE).inputs.get("serviceConnectConfiguration") or {}
        assert connect.get("enabled") and connect.get("namespace") == namespace.outputs.get(
            "arn"
        ), f"{name} is not in the namespace"


def test_only_the_stacks_services_reach_an_internal_service(up: ProgramRun) -> None:
    members = next(r for r in up.of_type(SECURITY_GROUP) if r.name == "services-members")
    [rule] = owned(up, "search", INGRESS)
    assert rule.inputs["referencedSecurityGroupId"] == members.id, rule.inputs
    assert (rule.inputs["fromPort"], rule.inputs["toPort"]) == (8080, 8080)
    for name in ("app", *SERVICES):
        groups = own(up, name, SERVICE).inputs["networkConfiguration"]["securityGroups"]
        assert members.id in groups, f"{name}'s tasks cannot reach search"


def test_scheduled_jobs_are_not_admitted_by_internal_services(up: ProgramRun) -> None:
    """Service Connect serves only the tasks of ECS services (docs/services.md): a job hands such
    work to a worker through its queue instead, so it is not given the members' group."""
    members = next(r for r in up.of_type(SECURITY_GROUP) if r.name == "services-members")
    schedule = up.one("aws:scheduler/schedule:Schedule")
    groups = schedule.inputs["target"]["ecsParameters"]["networkConfiguration"]["securityGroups"]
    assert members.id not in groups, "a job's task could reach an internal service's port"


def test_tasks_in_the_namespace_have_room_for_the_proxy(up: ProgramRun) -> None:
    for name in ("app", *SERVICES):
        definition = own(up, name, TASK_DEFINITION)
        cpu, memory = int(definition.inputs["cpu"]), int(definition.inputs["memory"])
        assert cpu >= 256 + SERVICE_CONNECT_PROXY_CPU, f"{name}: {cpu} CPU units"
        assert memory >= 512 + SERVICE_CONNECT_PROXY_MEMORY_MIB, f"{name}: {memory} MiB"


def test_services_wait_for_the_internal_services_they_call(up: ProgramRun) -> None:
    search = own(up, "search", SERVICE)  # a dependency on a component is one on its resources
    for name in ("app", "api", "mailer"):
        service = own(up, name, SERVICE)
        assert search.urn in service.depends_on, f"{name} may start before search's endpoint"


def test_without_an_internal_service_there_is_no_namespace(run_stack) -> None:
    run = run_stack("dev", {"services": {"api": SERVICES["api"]}})
    assert not run.of_type("aws:servicediscovery/httpNamespace:HttpNamespace")
    assert not own(run, "app", SERVICE).inputs.get("serviceConnectConfiguration")


# --- worker -------------------------------------------------------------------------------------


def test_a_worker_listens_on_no_port(up: ProgramRun) -> None:
    [app] = containers(up, "mailer")
    assert "portMappings" not in app, app.get("portMappings")
    env = {e["name"] for e in app["environment"]}
    assert "PORT" not in env and "HEALTH_CHECK_PATH" not in env, env
    assert not owned(up, "mailer", INGRESS), "nothing should reach a worker"
    assert "loadBalancers" not in own(up, "mailer", SERVICE).inputs


def test_a_workers_queue_is_encrypted_with_a_dead_letter_queue(up: ProgramRun) -> None:
    found = queues(up, "mailer")
    assert set(found) == {"mailer-queue", "mailer-dlq"}, set(queues)
    assert all(q.inputs["sqsManagedSseEnabled"] for q in found.values()), "a queue is plain"
    redrive = json.loads(found["mailer-queue"].inputs["redrivePolicy"])
    assert redrive == {
        "deadLetterTargetArn": found["mailer-dlq"].outputs["arn"],
        "maxReceiveCount": 3,
    }


def test_a_worker_scales_on_its_backlog_down_to_zero(up: ProgramRun) -> None:
    target = own(up, "mailer", TARGET)
    assert (target.inputs["minCapacity"], target.inputs["maxCapacity"]) == (0, 4)
    [backlog] = [p for p in owned(up, "mailer", POLICY) if p.name == "mailer-backlog"]
    config = backlog.inputs["targetTrackingScalingPolicyConfiguration"]
    assert config["targetValue"] == 20, config["targetValue"]
    queries = {m["id"]: m for m in config["customizedMetricSpecification"]["metrics"]}
    assert queries["tasks"]["metricStat"]["stat"] == "SampleCount", "not the running-task count"
    assert "messages" in queries["backlog"]["expression"] and queries["backlog"]["returnData"]


def test_a_worker_starts_a_task_when_messages_wait_and_none_runs(up: ProgramRun) -> None:
    [step] = [p for p in owned(up, "mailer", POLICY) if p.name == "mailer-from-zero"]
    config = step.inputs["stepScalingPolicyConfiguration"]
    assert config["adjustmentType"] == "ChangeInCapacity"
    assert config["stepAdjustments"] == [{"metricIntervalLowerBound": "0", "scalingAdjustment": 1}]
    [alarm] = [a for a in owned(up, "mailer", ALARM) if a.name == "mailer-idle-with-work"]
    assert alarm.inputs["alarmActions"] == [step.outputs["arn"]], "the alarm starts nothing"


def test_a_worker_alarms_on_old_messages_and_dead_letters(up: ProgramRun) -> None:
    alarms = {a.inputs["name"]: a for a in owned(up, "mailer", ALARM)}
    age = alarms["fargate-app-dev-mailer-queue-age"]
    assert age.inputs["metricName"] == "ApproximateAgeOfOldestMessage"
    dead = alarms["fargate-app-dev-mailer-dead-letters"]
    dlq = queues(up, "mailer")["mailer-dlq"]
    assert dead.inputs["dimensions"] == {"QueueName": dlq.outputs["name"]}


def test_every_service_and_job_gets_every_queues_url(up: ProgramRun) -> None:
    queue = queues(up, "mailer")["mailer-queue"]
    definitions = [own(up, n, TASK_DEFINITION) for n in ("app", *SERVICES)]
    definitions += [d for d in up.of_type(TASK_DEFINITION) if "jobs-nightly" in d.name]
    assert len(definitions) == 5, [d.name for d in definitions]
    for definition in definitions:
        [app] = json.loads(definition.inputs["containerDefinitions"])
        env = {e["name"]: e["value"] for e in app["environment"]}
        assert env.get("MAILER_QUEUE_URL") == queue.outputs["url"], definition.urn


def test_every_service_may_send_and_only_the_worker_receives(up: ProgramRun) -> None:
    queue = queues(up, "mailer")["mailer-queue"]
    for name in ("app", *SERVICES):
        statements = policy_of(up, task_role(up, name))
        actions = {
            a for s in statements if queue.outputs["arn"] in str(s["Resource"]) for a in s["Action"]
        }
        assert "sqs:SendMessage" in actions, f"{name} may not send"
        assert ("sqs:ReceiveMessage" in actions) == (name == "mailer"), f"{name}: {actions}"
    queue_policy = up.named("mailer-queue-policy")
    [deny, _tls] = json.loads(queue_policy.inputs["policy"])["Statement"]
    worker_role = task_role(up, "mailer")
    assert deny["Effect"] == "Deny" and "sqs:ReceiveMessage" in deny["Action"]
    assert deny["Condition"]["ArnNotEquals"]["aws:PrincipalArn"] == worker_role.outputs["arn"]


# --- outputs ------------------------------------------------------------------------------------


def test_the_services_output_says_where_each_service_is(up: ProgramRun) -> None:
    services = up.outputs["services"]
    assert set(services) == set(SERVICES), set(services)
    assert services["api"]["url"].endswith("/api/"), services["api"]
    assert services["mailer"]["queueUrl"].startswith("https://sqs."), services["mailer"]
    for name, entry in services.items():
        assert entry["serviceName"] == own(up, name, SERVICE).outputs["name"], name


def test_a_web_services_url_is_one_its_own_rule_takes(run_stack) -> None:
    """The url names an address the service answers: where its patterns name none (only wildcard
    hosts, a path that is all pattern), it has no url rather than one the main service answers."""
    services = {
        "api": {"type": "web", "host": ["www.example.com"], "path": ["/api/*"]},
        "img": {"type": "web", "host": ["www.example.com"], "path": ["/img/*.png"]},
        "admin": {"type": "web", "host": ["*.admin.example.com"]},
        "shop": {"type": "web", "host": ["*.shop.example.com", "shop.example.com"]},
    }
    # Host rules need the load balancer facing viewers (behind CloudFront only its names arrive).
    found = run_stack("dev", {"services": services, "edge": "none"}).outputs["services"]
    assert found["api"]["url"] == "http://www.example.com/api/", found["api"]
    assert found["shop"]["url"] == "http://shop.example.com/", found["shop"]
    for name in ("img", "admin"):
        assert "url" not in found[name], f"{name}'s url {found[name].get('url')} is not its own"


def test_a_stack_without_services_exports_none(dev: ProgramRun) -> None:
    assert "services" not in dev.outputs


# --- what AWS would be sent fits its API ----------------------------------------------------------


def validate(service: str, operation: str, params: dict[str, Any]) -> None:
    shape = MODELS.get_service_model(service).operation_model(operation).input_shape
    report = ParamValidator().validate(params, shape)
    assert not report.has_errors(), f"{service} {operation}: {report.generate_report()}"


def test_create_service_with_service_connect_fits_ecs(up: ProgramRun) -> None:
    for name in ("search", "mailer"):
        inputs = own(up, name, SERVICE).inputs
        connect = inputs["serviceConnectConfiguration"]
        network = inputs["networkConfiguration"]
        params: dict[str, Any] = {
            "cluster": inputs["cluster"],
            "serviceName": name,
            "taskDefinition": inputs["taskDefinition"],
            "desiredCount": inputs["desiredCount"],
            "capacityProviderStrategy": inputs["capacityProviderStrategies"],
            "networkConfiguration": {
                "awsvpcConfiguration": {
                    "subnets": network["subnets"],
                    "securityGroups": network["securityGroups"],
                    "assignPublicIp": "ENABLED" if network["assignPublicIp"] else "DISABLED",
                }
            },
            "serviceConnectConfiguration": {
                "enabled": connect["enabled"],
                "namespace": connect["namespace"],
                **(
                    {
                        "services": [
                            {
                                "portName": s["portName"],
                                "discoveryName": s["discoveryName"],
                                "clientAliases": s["clientAlias"],
                            }
                            for s in connect["services"]
                        ]
                    }
                    if connect.get("services")
                    else {}
                ),
            },
            "deploymentConfiguration": {
                "maximumPercent": inputs["deploymentMaximumPercent"],
                "minimumHealthyPercent": inputs["deploymentMinimumHealthyPercent"],
                "deploymentCircuitBreaker": inputs["deploymentCircuitBreaker"],
                "strategy": inputs["deploymentConfiguration"]["strategy"],
            },
        }
        assert "serviceRegistries" not in inputs, "Service Connect registers the tasks itself"
        validate("ecs", "CreateService", params)


def _metric_stat(stat: dict[str, Any]) -> dict[str, Any]:
    metric = stat["metric"]
    return {
        "Metric": {
            "Namespace": metric["namespace"],
            "MetricName": metric["metricName"],
            "Dimensions": [{"Name": d["name"], "Value": d["value"]} for d in metric["dimensions"]],
        },
        "Stat": stat["stat"],
    }


def test_put_scaling_policy_with_a_customized_metric_fits_application_auto_scaling(
    up: ProgramRun,
) -> None:
    for policy in owned(up, "mailer", POLICY):
        inputs = policy.inputs
        params: dict[str, Any] = {
            "PolicyName": policy.outputs.get("name", policy.name),
            "ServiceNamespace": inputs["serviceNamespace"],
            "ResourceId": inputs["resourceId"],
            "ScalableDimension": inputs["scalableDimension"],
            "PolicyType": inputs["policyType"],
        }
        if "targetTrackingScalingPolicyConfiguration" in inputs:
            config = inputs["targetTrackingScalingPolicyConfiguration"]
            params["TargetTrackingScalingPolicyConfiguration"] = {
                "TargetValue": float(config["targetValue"]),
                "ScaleInCooldown": config["scaleInCooldown"],
                "ScaleOutCooldown": config["scaleOutCooldown"],
                "CustomizedMetricSpecification": {
                    "Metrics": [
                        {
                            "Id": m["id"],
                            "ReturnData": m["returnData"],
                            **({"Expression": m["expression"]} if "expression" in m else {}),
                            **({"Label": m["label"]} if "label" in m else {}),
                            **(
                                {"MetricStat": _metric_stat(m["metricStat"])}
                                if "metricStat" in m
                                else {}
                            ),
                        }
                        for m in config["customizedMetricSpecification"]["metrics"]
                    ]
                },
            }
        else:
            config = inputs["stepScalingPolicyConfiguration"]
            params["StepScalingPolicyConfiguration"] = {
                "AdjustmentType": config["adjustmentType"],
                "Cooldown": config["cooldown"],
                "MetricAggregationType": config["metricAggregationType"],
                "StepAdjustments": [
                    {
                        "MetricIntervalLowerBound": float(s["metricIntervalLowerBound"]),
                        "ScalingAdjustment": s["scalingAdjustment"],
                    }
                    for s in config["stepAdjustments"]
                ],
            }
        validate("application-autoscaling", "PutScalingPolicy", params)


def test_create_queue_attributes_fit_sqs(up: ProgramRun) -> None:
    names = set(MODELS.get_service_model("sqs").shape_for("QueueAttributeName").enum)
    for queue in queues(up, "mailer").values():
        attributes = {
            "MessageRetentionPeriod": str(queue.inputs["messageRetentionSeconds"]),
            "SqsManagedSseEnabled": str(queue.inputs["sqsManagedSseEnabled"]).lower(),
            **(
                {"RedrivePolicy": queue.inputs["redrivePolicy"]}
                if "redrivePolicy" in queue.inputs
                else {}
            ),
        }
        assert set(attributes) <= names, set(attributes) - names
        validate("sqs", "CreateQueue", {"QueueName": queue.name, "Attributes": attributes})
        if "RedrivePolicy" in attributes:  # SQS reads it as JSON with these two keys
            assert set(json.loads(attributes["RedrivePolicy"])) == {
                "deadLetterTargetArn",
                "maxReceiveCount",
            }


def test_a_host_and_path_rule_fits_elb(run_stack) -> None:
    services = {"admin": {"type": "web", "host": ["admin.example.com"], "path": ["/admin/*"]}}
    # An internet-facing load balancer: behind CloudFront a host needs to be its domainName.
    rule = own(run_stack("dev", {"services": services, "edge": "none"}), "admin", RULE).inputs
    conditions = []
    for condition in rule["conditions"]:
        if "hostHeader" in condition:
            conditions.append(
                {
                    "Field": "host-header",
                    "HostHeaderConfig": {"Values": condition["hostHeader"]["values"]},
                }
            )
        if "pathPattern" in condition:
            conditions.append(
                {
                    "Field": "path-pattern",
                    "PathPatternConfig": {"Values": condition["pathPattern"]["values"]},
                }
            )
    assert len(conditions) == 2, rule["conditions"]
    validate(
        "elbv2",
        "CreateRule",
        {
            "ListenerArn": rule["listenerArn"],
            "Priority": rule["priority"],
            "Conditions": conditions,
            "Actions": [
                {"Type": "forward", "TargetGroupArn": rule["actions"][0]["targetGroupArn"]}
            ],
        },
    )


def test_the_scale_from_zero_alarm_fits_cloudwatch(up: ProgramRun) -> None:
    [alarm] = [a for a in owned(up, "mailer", ALARM) if a.name == "mailer-idle-with-work"]
    inputs = alarm.inputs
    metrics = []
    for q in inputs["metricQueries"]:
        entry: dict[str, Any] = {"Id": q["id"], "ReturnData": q["returnData"]}
        if "expression" in q:
            entry |= {"Expression": q["expression"], "Label": q["label"]}
        else:
            m = q["metric"]
            entry["MetricStat"] = {
                "Metric": {
                    "Namespace": m["namespace"],
                    "MetricName": m["metricName"],
                    "Dimensions": [{"Name": k, "Value": v} for k, v in m["dimensions"].items()],
                },
                "Period": m["period"],
                "Stat": m["stat"],
            }
        metrics.append(entry)
    validate(
        "cloudwatch",
        "PutMetricAlarm",
        {
            "AlarmName": inputs["name"],
            "EvaluationPeriods": inputs["evaluationPeriods"],
            "Threshold": float(inputs["threshold"]),
            "ComparisonOperator": inputs["comparisonOperator"],
            "TreatMissingData": inputs["treatMissingData"],
            "AlarmActions": inputs["alarmActions"],
            "Metrics": metrics,
        },
    )


def test_the_namespace_fits_cloud_map(up: ProgramRun) -> None:
    namespace = up.one("aws:servicediscovery/httpNamespace:HttpNamespace").inputs
    validate(
        "servicediscovery",
        "CreateHttpNamespace",
        {"Name": namespace["name"], "Description": namespace["description"]},
    )


def test_every_services_roles_go_under_the_stacks_path_with_its_boundary(run_stack) -> None:
    """The bootstrap's deploy role may manage exactly the roles under the stack's path, with its
    boundary (issues 12 and 13): the services' roles are no exception."""
    boundary = (
        "arn:aws:iam::123456789012:policy/fargate-app-bootstrap/fargate-app-dev-roles-boundary"
    )
    run = run_stack("dev", {"services": SERVICES, "permissionsBoundary": boundary})
    roles = [r for name in SERVICES for r in owned(run, name, ROLE)]
    assert len(roles) == 2 * len(SERVICES), [r.name for r in roles]
    for role in roles:
        assert role.inputs.get("path") == "/fargate-app/dev/", role.urn
        assert role.inputs.get("permissionsBoundary") == boundary, role.urn


def test_every_service_may_connect_to_the_internal_services_ports(up: ProgramRun) -> None:
    """Task egress is HTTPS only (issue 14); Service Connect's proxies connect to an internal
    service's tasks on its port, inside the VPC."""
    vpc = up.one("aws:ec2/vpc:Vpc")
    for name in ("app", *SERVICES):
        group = own(up, name, SECURITY_GROUP)
        rules = [
            r
            for r in up.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
            if r.inputs["securityGroupId"] == group.id
        ]
        admitted = {(r.inputs.get("fromPort"), r.inputs.get("cidrIpv4")) for r in rules}
        assert (8080, vpc.inputs["cidrBlock"]) in admitted, (
            f"{name} cannot reach search: {admitted}"
        )


# --- who each service's container runs as, and what it may write --------------------------------

OWN_CONTAINERS = {
    "vendor": {
        "type": "internal",
        "containerPort": 8080,
        "containerUser": "0:0",
        "readOnlyRootFilesystem": False,
    },
    "cache": {
        "type": "worker",
        "containerUser": "1000:1000",
        "writablePaths": ["/tmp", "/var/cache/app"],
    },
}
WAIVERS = {
    "ecs-container-non-root-user": "the vendor image binds as root and drops privileges itself",
    "ecs-container-read-only-root": "the vendor image writes its own state under /opt/vendor",
}


@pytest.fixture(scope="module")
def own_containers(run_stack) -> ProgramRun:
    return run_stack("dev", {"services": OWN_CONTAINERS, "policyWaivers": WAIVERS})


def task_volumes(run: ProgramRun, name: str) -> dict[str, str]:
    """The task's volumes, by name -> where its container mounts each."""
    [container] = containers(run, name)
    return {m["sourceVolume"]: m["containerPath"] for m in container.get("mountPoints", [])}


def test_a_service_runs_as_the_main_container_unless_it_says_otherwise(up: ProgramRun) -> None:
    [main] = containers(up, "app")
    for name in SERVICES:
        [container] = containers(up, name)
        assert container["user"] == main["user"] == "10001:10001", f"{name} runs as {container}"
        assert container["readonlyRootFilesystem"] is True, f"{name}'s root is writable"
        assert task_volumes(up, name) == {"tmp": "/tmp"}, f"{name} may write elsewhere than /tmp"


def test_a_service_may_run_as_root_on_a_writable_root_with_the_waivers(
    own_containers: ProgramRun,
) -> None:
    [container] = containers(own_containers, "vendor")
    assert container["user"] == "0:0", container
    assert container["readonlyRootFilesystem"] is False, "vendor's root should be writable"
    assert task_volumes(own_containers, "vendor") == {}, "a writable root needs no task storage"
    [main] = containers(own_containers, "app")
    assert (main["user"], main["readonlyRootFilesystem"]) == ("10001:10001", True), (
        "the main container changed with a service's settings"
    )


def test_a_service_takes_its_own_user_and_writable_paths(own_containers: ProgramRun) -> None:
    [container] = containers(own_containers, "cache")
    assert container["user"] == "1000:1000", container
    assert container["readonlyRootFilesystem"] is True
    assert task_volumes(own_containers, "cache") == {
        "tmp": "/tmp",
        "var-cache-app": "/var/cache/app",
    }


@pytest.mark.parametrize("name", ["vendor", "cache"])
def test_a_services_own_task_definition_fits_ecs(own_containers: ProgramRun, name: str) -> None:
    task = own(own_containers, name, TASK_DEFINITION).inputs
    validate(
        "ecs",
        "RegisterTaskDefinition",
        {
            "family": task["family"],
            "containerDefinitions": json.loads(task["containerDefinitions"]),
            "volumes": task.get("volumes", []),
        },
    )
