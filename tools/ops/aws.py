"""boto3 clients and the lookups both commands share: the service and its `app` container."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from components.spec import CONTAINER_NAME  # the contract with the program: its one container
from tools.ops.errors import OpsError

# Standard retry mode backs off on throttling (DescribeTasks and GetLogEvents are rate-limited per
# account) and on transient 5xx; five attempts ride out a burst without hiding a real outage.
BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, user_agent_extra="tools.ops")

SessionFactory = Callable[..., boto3.Session]


@dataclass
class Clients:
    """One session's clients; CloudWatch Logs may live in another region (awslogs-region)."""

    session: boto3.Session
    region: str
    ecs: Any
    elbv2: Any
    _logs: dict[str, Any] = field(default_factory=dict)

    def logs(self, region: str | None = None) -> Any:
        region = region or self.region
        if region not in self._logs:
            self._logs[region] = self.session.client("logs", region_name=region, config=BOTO_CONFIG)
        return self._logs[region]


def make_clients(region: str | None, session_factory: SessionFactory = boto3.Session) -> Clients:
    # botocore reads AWS_DEFAULT_REGION and the profile but not AWS_REGION, which the AWS CLI
    # and the other SDKs honour first; do the same so the region is the one the user expects.
    region = region or os.environ.get("AWS_REGION") or None
    session = session_factory(region_name=region) if region else session_factory()
    if not session.region_name:
        raise OpsError(
            "no AWS region configured: set AWS_REGION (or AWS_DEFAULT_REGION, or a profile's"
            " region) or pass --region"
        )
    return Clients(
        session=session,
        region=session.region_name,
        ecs=session.client("ecs", config=BOTO_CONFIG),
        elbv2=session.client("elbv2", config=BOTO_CONFIG),
    )


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def describe_service(clients: Clients, cluster: str, service: str) -> dict[str, Any]:
    """The service as ECS describes it, or a message naming what was not found and where."""
    try:
        resp = clients.ecs.describe_services(cluster=cluster, services=[service])
    except ClientError as exc:
        if error_code(exc) == "ClusterNotFoundException":
            raise OpsError(
                f"ECS cluster {cluster!r} not found in {clients.region}; check the stack"
                " (--stack/--outputs) and the region (--region, AWS_REGION)"
            ) from None
        raise
    services = resp.get("services", [])
    if not services:
        reasons = ", ".join(f.get("reason", "?") for f in resp.get("failures", [])) or "MISSING"
        raise OpsError(
            f"ECS service {service!r} not found in cluster {cluster!r} ({clients.region}):"
            f" {reasons}; has the stack been deployed (`pulumi up`)?"
        )
    found: dict[str, Any] = services[0]
    if found.get("status") == "INACTIVE":
        raise OpsError(
            f"ECS service {service!r} in cluster {cluster!r} has been deleted (INACTIVE)"
        )
    return found


def describe_task_definition(clients: Clients, arn: str) -> dict[str, Any]:
    taskdef: dict[str, Any] = clients.ecs.describe_task_definition(taskDefinition=arn)[
        "taskDefinition"
    ]
    return taskdef


def app_container(task_definition: dict[str, Any]) -> dict[str, Any]:
    containers = task_definition.get("containerDefinitions", [])
    for container in containers:
        if container.get("name") == CONTAINER_NAME:
            return dict(container)
    names = ", ".join(c.get("name", "?") for c in containers) or "none"
    raise OpsError(
        f"task definition {revision(task_definition.get('taskDefinitionArn', '?'))} has no"
        f" container named {CONTAINER_NAME!r} (it has: {names})"
    )


@dataclass(frozen=True)
class LogConfig:
    """Where the awslogs driver writes the `app` container's output."""

    group: str
    region: str | None
    stream_prefix: str

    def stream_for(self, task_id: str) -> str:
        # awslogs names streams prefix/container-name/task-id.
        return f"{self.stream_prefix}/{CONTAINER_NAME}/{task_id}"


def log_config(container: dict[str, Any]) -> LogConfig | None:
    """The container's awslogs settings, or None when it logs elsewhere."""
    conf = container.get("logConfiguration") or {}
    options = conf.get("options") or {}
    if conf.get("logDriver") != "awslogs" or not options.get("awslogs-group"):
        return None
    return LogConfig(
        group=options["awslogs-group"],
        region=options.get("awslogs-region"),
        stream_prefix=options.get("awslogs-stream-prefix", ""),
    )


def task_id(task_arn: str) -> str:
    return task_arn.rsplit("/", 1)[-1]


def revision(task_definition_arn: str) -> str:
    """`family:revision` from a task definition ARN, as the console shows it."""
    return task_definition_arn.rsplit("/", 1)[-1]


def app_container_state(task: dict[str, Any]) -> dict[str, Any]:
    """The `app` container of a described task (empty if ECS has not reported it yet)."""
    for container in task.get("containers", []):
        if container.get("name") == CONTAINER_NAME:
            return dict(container)
    return {}
