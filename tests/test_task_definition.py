"""The app's container as one value (components/task_definition.py), run by service and jobs.

What a user relies on: the service and its scheduled jobs run the same container (image,
environment, secrets, user, read-only root, mounts, exec), so a job loads its settings exactly as
the service does, and it logs to the service's log group under its own prefix; a mount the
container is given is a volume of the task that ECS accepts; and the two components stay apart
(neither imports the other), so either can change without the other.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import botocore.session
import pulumi_aws as aws
from botocore.validate import ParamValidator

from components.scheduled_tasks import ScheduledTasks, ScheduledTasksArgs
from components.service import (
    FargateService,
    FargateServiceArgs,
    LoadBalancerRoute,
    ServicePlacement,
)
from components.spec import DEFAULT_WRITABLE_PATHS, ScheduledTask
from components.task_definition import AppContainer, Mount
from tools.mocks import ProgramRun, RegisteredResource

ROOT = Path(__file__).resolve().parent.parent
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:" + "0" * 64
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
JOB = ScheduledTask(name="report", schedule="rate(1 day)", command=("python", "-m", "report"))


def service_and_jobs(container: AppContainer) -> None:
    """Given one container value, when a service runs it and its jobs run the service's."""
    capacity = aws.ecs.ClusterCapacityProviders("capacity", cluster_name="c")
    cluster_arn = "arn:aws:ecs:us-east-1:123456789012:cluster/c"
    service = FargateService(
        "app",
        FargateServiceArgs(
            container=container,
            placement=ServicePlacement(
                cluster_arn=cluster_arn,
                cluster_name="c",
                capacity_providers=capacity,
                vpc_id="vpc-1",
                subnet_ids=["subnet-1", "subnet-2"],
            ),
            load_balancer=LoadBalancerRoute(listener_arn="listener", security_group_id="sg-lb"),
            execution_role_arn="arn:aws:iam::123456789012:role/exec",
            task_role_arn="arn:aws:iam::123456789012:role/task",
        ),
    )
    ScheduledTasks(
        "jobs",
        ScheduledTasksArgs(
            tasks=(JOB,),
            container=service.container,
            placement=service.task_placement,
        ),
    )


def container_of(run: ProgramRun, logical: str) -> dict[str, Any]:
    (only,) = json.loads(run.named(logical).inputs["containerDefinitions"])
    return only


def task_definition(run: ProgramRun, logical: str) -> RegisteredResource:
    found = run.named(logical)
    assert found.type == TASK_DEFINITION, f"{logical} is a {found.type}"
    return found


def test_the_jobs_run_the_services_container_in_its_log_group(run_component) -> None:
    container = AppContainer(
        image=IMAGE, env={"LOG_LEVEL": "info"}, secrets={"DB_URL": SECRET}, enable_exec=True
    )
    run = run_component(lambda: service_and_jobs(container))
    service, job = container_of(run, "app-task"), container_of(run, "jobs-report-task")
    log_group = run.named("app-logs")
    assert log_group.type == LOG_GROUP
    for which, c in (("service", service), ("job", job)):
        options = c["logConfiguration"]["options"]
        assert options["awslogs-group"] == log_group.inputs["name"], f"{which}: {options}"
        assert options["awslogs-region"] == "us-east-1", f"{which}: {options}"
    assert service["logConfiguration"]["options"]["awslogs-stream-prefix"] == "app"
    assert job["logConfiguration"]["options"]["awslogs-stream-prefix"] == "scheduled-report"
    assert job["command"] == list(JOB.command) and "command" not in service
    same = ("image", "environment", "secrets", "user", "readonlyRootFilesystem", "mountPoints")
    for key in (*same, "linuxParameters", "portMappings", "stopTimeout"):
        assert job[key] == service[key], f"the job's {key} differs from the service's"
    assert (
        task_definition(run, "jobs-report-task").inputs["volumes"]
        == (task_definition(run, "app-task").inputs["volumes"])
    )


def test_a_container_takes_more_mounts_as_task_volumes_ecs_accepts(run_component) -> None:
    cache = Mount(volume="cache", path="/var/cache/app")
    run = run_component(
        lambda: service_and_jobs(
            AppContainer(image=IMAGE, mounts=(*AppContainer(image=IMAGE).mounts, cache))
        )
    )
    task = task_definition(run, "app-task").inputs
    assert [v["name"] for v in task["volumes"]] == ["tmp", "cache"]
    mounts = {
        m["sourceVolume"]: m["containerPath"] for m in container_of(run, "app-task")["mountPoints"]
    }
    assert mounts == {"tmp": DEFAULT_WRITABLE_PATHS[0], "cache": "/var/cache/app"}
    shape = (
        botocore.session.get_session()
        .get_service_model("ecs")
        .operation_model("RegisterTaskDefinition")
        .input_shape
    )
    request = {
        "family": task["family"],
        "containerDefinitions": json.loads(task["containerDefinitions"]),
        "volumes": task["volumes"],
    }
    report = ParamValidator().validate(request, shape)
    assert not report.has_errors(), report.generate_report()


def test_a_container_may_keep_a_writable_root(run_component) -> None:
    run = run_component(lambda: service_and_jobs(AppContainer(image=IMAGE, read_only_root=False)))
    assert container_of(run, "app-task")["readonlyRootFilesystem"] is False


def _imports(module: str) -> set[str]:
    tree = ast.parse((ROOT / "components" / f"{module}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_service_and_the_jobs_do_not_import_each_other() -> None:
    assert "components.service" not in _imports("scheduled_tasks")
    assert "components.scheduled_tasks" not in _imports("service")
    for module in ("service", "scheduled_tasks"):
        assert "components.task_definition" in _imports(module), f"{module} builds its own"


def test_a_container_may_keep_its_capabilities(run_component) -> None:
    run = run_component(
        lambda: service_and_jobs(AppContainer(image=IMAGE, dropped_capabilities=()))
    )
    assert "linuxParameters" not in container_of(run, "app-task")


def test_a_container_refuses_a_capability_ecs_does_not_know() -> None:
    problems = AppContainer(image=IMAGE, dropped_capabilities=("ALL", "CAP_SYS_ADMIN")).problems()
    assert [p for p in problems if "'CAP_SYS_ADMIN'" in p and "dropped_capabilities" in p], problems


def test_a_container_refuses_two_mounts_at_one_path() -> None:
    twice = (Mount(volume="a", path="/data"), Mount(volume="b", path="/data"))
    problems = AppContainer(image=IMAGE, mounts=twice).problems()
    assert [p for p in problems if "'/data' is mounted twice" in p], problems
