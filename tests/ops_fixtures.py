"""A moto server with the app's AWS resources, for tests/test_ops.py.

`create_app` builds with boto3 what the Pulumi program deploys (VPC, subnets, security group,
cluster, task definition, log group, target group, service) and the stack outputs that point at it.

moto does not model everything ECS and ELB do: its tasks never exit on their own (and have no
exit code or stop reason), services start no tasks and record no events, and every registered
target is healthy. ThreadedMotoServer runs in the test process, so the helpers below set those
facts on moto's own backend objects (`moto.backends.get_backend`), and use moto's documented
state-transition API (POST /moto-api/state-manager/set-transition) to keep moto from advancing
tasks by itself. Each such place says so.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from moto.backends import get_backend
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.exceptions import JsonRESTError
from moto.elbv2.models import FakeHealthStatus
from moto.server import ThreadedMotoServer

from tools.ops.console import Clock

REGION = "eu-west-1"
CLUSTER = "fargate-app-dev"
SERVICE = "fargate-app-dev-svc"
FAMILY = "fargate-app-dev"
LOG_GROUP = "/ecs/fargate-app-dev"
CONTAINER_PORT = 8000
STREAM_PREFIX = "app"  # the Pulumi program's awslogs-stream-prefix


# --- the server -----------------------------------------------------------------------------


@contextmanager
def moto_server() -> Iterator[str]:
    """A moto server on 127.0.0.1 and a free port (port 0: the OS picks one); yields its URL."""
    # werkzeug logs each request to stderr, which would mix into the CLI's captured stderr.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@contextmanager
def fresh_account(endpoint: str) -> Iterator[None]:
    """An empty moto account whose ECS tasks stay in the state a test puts them in."""
    _moto_api(endpoint, "reset", None)  # moto's documented POST /moto-api/reset
    # moto's default for ecs::task advances a task one state each time it is described, so a
    # task would reach STOPPED after four polls whatever the test wants. A "manual" transition
    # that needs a million describes keeps each task where the test puts it (moto docs:
    # Configuration > State Transitions, server mode). The setting is global to the process,
    # so it is removed again for whatever runs next.
    _moto_api(
        endpoint,
        "state-manager/set-transition",
        {"model_name": "ecs::task", "transition": {"progression": "manual", "times": 1_000_000}},
    )
    try:
        yield
    finally:
        _moto_api(endpoint, "state-manager/unset-transition", {"model_name": "ecs::task"})


def _moto_api(endpoint: str, path: str, body: dict[str, Any] | None) -> None:
    data = json.dumps(body).encode() if body is not None else b""
    request = urllib.request.Request(f"{endpoint}/moto-api/{path}", data=data, method="POST")
    with urllib.request.urlopen(request, timeout=10) as resp:
        resp.read()


# --- moto's in-process state ----------------------------------------------------------------


def ecs_model() -> Any:
    return get_backend("ecs")[DEFAULT_ACCOUNT_ID][REGION]


def task_model(task_arn: str) -> Any:
    return ecs_model().tasks[CLUSTER][task_arn]


def service_model() -> Any:
    return ecs_model().services[f"{CLUSTER}:{SERVICE}"]


def set_task_state(
    task_arn: str,
    status: str,
    *,
    exit_code: int | None = None,
    stop_code: str | None = None,
    stopped_reason: str | None = None,
    container_reason: str | None = None,
    stopped_at: datetime | None = None,
) -> None:
    """Put a moto task in a lifecycle state; moto has no API for what a container does."""
    task = task_model(task_arn)
    container = task.containers[0]
    now = datetime.now(UTC)
    task.status = status
    if status == "RUNNING":
        task.started_at = now
        container.last_status = "RUNNING"
    if status == "STOPPED":
        task.desired_status = "STOPPED"
        task.stop_code = stop_code
        task.stopped_reason = stopped_reason or ""
        task.stopped_at = stopped_at or now
        container.last_status = "STOPPED"
        # moto reports exitCode 0 for every container; None leaves it out, as ECS does for a
        # container that never ran.
        container.exitCode = exit_code
        if container_reason:
            container.reason = container_reason


@contextmanager
def refuse_run_task(code: str, message: str) -> Iterator[None]:
    """RunTask answers with the error `code` and `message`, as ECS does for a caller that lacks a
    permission. moto checks no IAM permission for ECS by default, never evaluates iam:PassRole,
    and its optional IAM enforcement answers ECS's JSON API with an XML body no AWS endpoint
    sends. So this replaces run_task on moto's in-process ECS backend object with one that raises
    moto's own JsonRESTError: the error still goes through moto's HTTP server and botocore's
    parser as AWS's would, and no task is created."""
    backend = ecs_model()

    def refuse(*_: Any, **__: Any) -> None:
        raise JsonRESTError(code, message)

    backend.run_task = refuse
    try:
        yield
    finally:
        vars(backend).pop("run_task", None)


def set_target_health(target_group_arn: str, states: dict[str, tuple[str, str, str]]) -> None:
    """Report some targets as `state` with a reason: moto computes every registered target as
    healthy and has no health-check state to set, so this replaces the computation on moto's
    target group object for the given target ids."""
    group = get_backend("elbv2")[DEFAULT_ACCOUNT_ID][REGION].target_groups[target_group_arn]
    computed = type(group).health_for

    def health_for(target: dict[str, Any], ec2_backend: Any) -> FakeHealthStatus:
        if target["Id"] in states:
            state, reason, description = states[target["Id"]]
            port = target.get("Port", group.port)
            return FakeHealthStatus(
                target["Id"], port, group.health_check_port, state, reason, description
            )
        return computed(group, target, ec2_backend)

    group.health_for = health_for  # type: ignore[method-assign]


# --- the app's resources --------------------------------------------------------------------


@dataclass
class App:
    """What the Pulumi program creates, and the stack outputs that name it."""

    vpc_id: str
    subnet_ids: list[str]
    security_group_id: str
    task_definition_arn: str
    target_group_arn: str
    outputs: dict[str, str]
    running_task_arns: list[str] = field(default_factory=list)

    @property
    def network_configuration(self) -> dict[str, Any]:
        return {
            "awsvpcConfiguration": {
                "subnets": self.subnet_ids,
                "securityGroups": [self.security_group_id],
                "assignPublicIp": "DISABLED",
            }
        }

    def write_outputs(self, directory: Path, **changes: Any) -> Path:
        path = directory / "outputs.json"
        path.write_text(json.dumps({**self.outputs, **changes}), encoding="utf-8")
        return path


def create_app() -> App:
    ec2 = boto3.client("ec2", region_name=REGION)
    ecs = boto3.client("ecs", region_name=REGION)
    logs = boto3.client("logs", region_name=REGION)
    elbv2 = boto3.client("elbv2", region_name=REGION)

    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    # moto's RunTask with awsvpc networking needs DNS hostnames (see /work/shared/NOTES.md).
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    subnet_ids = [
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=f"{REGION}{az}")["Subnet"][
            "SubnetId"
        ]
        for cidr, az in (("10.0.10.0/24", "a"), ("10.0.11.0/24", "b"))
    ]
    sg_id = ec2.create_security_group(
        VpcId=vpc_id, GroupName="fargate-app-dev-tasks", Description="app tasks"
    )["GroupId"]

    ecs.create_cluster(clusterName=CLUSTER, capacityProviders=["FARGATE", "FARGATE_SPOT"])
    logs.create_log_group(logGroupName=LOG_GROUP)
    task_definition_arn = ecs.register_task_definition(
        family=FAMILY,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[
            {
                "name": "app",
                "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/fargate-app:abc123",
                "memory": 512,  # moto needs each container's own memory
                "essential": True,
                "portMappings": [{"containerPort": CONTAINER_PORT, "protocol": "tcp"}],
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {
                        "awslogs-group": LOG_GROUP,
                        "awslogs-region": REGION,
                        "awslogs-stream-prefix": STREAM_PREFIX,
                    },
                },
            }
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    target_group_arn = elbv2.create_target_group(
        Name="fargate-app-dev-tg",
        Protocol="HTTP",
        Port=CONTAINER_PORT,
        VpcId=vpc_id,
        TargetType="ip",
        HealthCheckPath="/healthz",
    )["TargetGroups"][0]["TargetGroupArn"]
    app = App(
        vpc_id=vpc_id,
        subnet_ids=subnet_ids,
        security_group_id=sg_id,
        task_definition_arn=task_definition_arn,
        target_group_arn=target_group_arn,
        outputs={
            "clusterName": CLUSTER,
            "serviceName": SERVICE,
            "logGroupName": LOG_GROUP,
            "url": "http://fargate-app-dev-123.eu-west-1.elb.amazonaws.com",
            "imageRef": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/fargate-app:abc123",
            "repositoryUrl": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/fargate-app",
        },
    )
    ecs.create_service(
        cluster=CLUSTER,
        serviceName=SERVICE,
        taskDefinition=task_definition_arn,
        desiredCount=2,
        networkConfiguration=app.network_configuration,
        loadBalancers=[
            {
                "targetGroupArn": target_group_arn,
                "containerName": "app",
                "containerPort": CONTAINER_PORT,
            }
        ],
    )
    # moto's CreateService drops capacityProviderStrategy (it reports launchType EC2); the real
    # service has the strategy the Pulumi program gives it, so put it on moto's service object.
    service = service_model()
    service.launch_type = None
    service.capacity_provider_strategy = [
        {"capacityProvider": "FARGATE", "weight": 1, "base": 1},
        {"capacityProvider": "FARGATE_SPOT", "weight": 3, "base": 0},
    ]
    return app


WORKER = "mailer"  # a worker of the stack's services (docs/services.md): no port, no target group
WORKER_SERVICE = "mailer-svc-986830b"
WORKER_FAMILY = "fargate-app-dev-mailer"
WORKER_LOG_GROUP = "/ecs/fargate-app/dev/mailer"


@dataclass
class Worker:
    """A worker beside the main service, as the program deploys one, and its entry in the
    stack's `services` output."""

    task_definition_arn: str
    security_group_id: str
    output: dict[str, str]

    def network_configuration(self, app: App) -> dict[str, Any]:
        return {
            "awsvpcConfiguration": {
                "subnets": app.subnet_ids,
                "securityGroups": [self.security_group_id],
                "assignPublicIp": "DISABLED",
            }
        }


def add_worker(app: App) -> Worker:
    """A worker service on the app's cluster: its own task definition (no port), security group
    and log group, no load balancer; and the stack outputs' `services` entry that names it."""
    ec2 = boto3.client("ec2", region_name=REGION)
    ecs = boto3.client("ecs", region_name=REGION)
    logs = boto3.client("logs", region_name=REGION)
    sg_id = ec2.create_security_group(
        VpcId=app.vpc_id, GroupName="mailer-sg", Description="mailer tasks"
    )["GroupId"]
    logs.create_log_group(logGroupName=WORKER_LOG_GROUP)
    arn = ecs.register_task_definition(
        family=WORKER_FAMILY,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[
            {
                "name": "app",
                "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/fargate-app:abc123",
                "command": ["python", "-m", "mailer"],
                "memory": 512,  # moto needs each container's own memory
                "essential": True,
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {
                        "awslogs-group": WORKER_LOG_GROUP,
                        "awslogs-region": REGION,
                        "awslogs-stream-prefix": STREAM_PREFIX,
                    },
                },
            }
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    worker = Worker(
        task_definition_arn=arn,
        security_group_id=sg_id,
        output={
            "type": "worker",
            "serviceName": WORKER_SERVICE,
            "logGroupName": WORKER_LOG_GROUP,
            "queueUrl": "https://sqs.eu-west-1.amazonaws.com/123456789012/mailer-queue-36ff2a3",
        },
    )
    ecs.create_service(
        cluster=CLUSTER,
        serviceName=WORKER_SERVICE,
        taskDefinition=arn,
        desiredCount=0,
        networkConfiguration=worker.network_configuration(app),
    )
    # As for the main service: moto drops the strategy the program gives the service.
    service = ecs_model().services[f"{CLUSTER}:{WORKER_SERVICE}"]
    service.launch_type = None
    service.capacity_provider_strategy = [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]
    return worker


def put_logs(task_arn: str, lines: list[str]) -> None:
    """Write lines to the task's stream as the awslogs driver would (app/app/<task-id>)."""
    logs = boto3.client("logs", region_name=REGION)
    stream = f"{STREAM_PREFIX}/app/{task_arn.rsplit('/', 1)[-1]}"
    existing = logs.describe_log_streams(logGroupName=LOG_GROUP, logStreamNamePrefix=stream)
    if not existing["logStreams"]:
        logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName=stream)
    start = int(datetime.now(UTC).timestamp() * 1000)
    logs.put_log_events(
        logGroupName=LOG_GROUP,
        logStreamName=stream,
        logEvents=[{"timestamp": start + i, "message": line} for i, line in enumerate(lines)],
    )


def start_service_task(app: App, started_minutes_ago: int = 30) -> str:
    """A task of the service. moto's services start no tasks, so start one with RunTask in the
    service's group, as the ECS scheduler would."""
    ecs = boto3.client("ecs", region_name=REGION)
    task = ecs.run_task(
        cluster=CLUSTER,
        taskDefinition=app.task_definition_arn,
        group=f"service:{SERVICE}",
        startedBy="ecs-svc/1234567890",
        networkConfiguration=app.network_configuration,
        capacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}],
    )["tasks"][0]
    task_model(task["taskArn"]).started_at = datetime.now(UTC) - timedelta(
        minutes=started_minutes_ago
    )
    return str(task["taskArn"])


def task_ip(task_arn: str) -> str:
    for attachment in task_model(task_arn).attachments:
        for detail in attachment["details"]:
            if detail["name"] == "privateIPv4Address":
                return str(detail["value"])
    raise AssertionError(f"task {task_arn} has no private IP in moto")


def make_healthy(app: App) -> None:
    """The service after a good deploy: two tasks serving, rollout COMPLETED, an old task that
    the scheduler replaced, a steady-state event and some request logs."""
    ecs = boto3.client("ecs", region_name=REGION)
    elbv2 = boto3.client("elbv2", region_name=REGION)
    # moto sets runningCount to the desired count on UpdateService.
    ecs.update_service(cluster=CLUSTER, service=SERVICE, desiredCount=2)
    for _ in range(2):
        arn = start_service_task(app)
        app.running_task_arns.append(arn)
        put_logs(arn, [f'{{"level": "info", "msg": "GET /healthz 200", "task": "{arn[-6:]}"}}'])
    elbv2.register_targets(
        TargetGroupArn=app.target_group_arn,
        Targets=[{"Id": task_ip(arn), "Port": CONTAINER_PORT} for arn in app.running_task_arns],
    )
    replaced = start_service_task(app, started_minutes_ago=90)
    set_task_state(
        replaced,
        "STOPPED",
        exit_code=0,
        stop_code="ServiceSchedulerInitiated",
        stopped_reason="Scaling activity initiated by (deployment ecs-svc/1234567890)",
        stopped_at=datetime.now(UTC) - timedelta(minutes=5),
    )
    now = datetime.now(UTC)
    # moto keeps rolloutState as created (IN_PROGRESS while runningCount was 0) and records no
    # service events; set both on its service object as ECS would after the deploy settled.
    service = service_model()
    deployment = service.deployments[0]
    deployment.update(
        rolloutState="COMPLETED",
        rolloutStateReason=f"ECS deployment {deployment['id']} completed.",
        runningCount=2,
        pendingCount=0,
        createdAt=now - timedelta(minutes=40),
        updatedAt=now - timedelta(minutes=35),
    )
    service.events = [
        {
            "id": "e2",
            "createdAt": now - timedelta(minutes=30),
            "message": f"(service {SERVICE}) has reached a steady state.",
        },
        {
            "id": "e1",
            "createdAt": now - timedelta(minutes=36),
            "message": f"(service {SERVICE}) has started 2 tasks: (task a) (task b).",
        },
    ]


def fail_recent_task(app: App, minutes_ago: int = 2) -> str:
    """A service task that could not pull its image a moment ago."""
    arn = start_service_task(app, started_minutes_ago=minutes_ago)
    set_task_state(
        arn,
        "STOPPED",
        stop_code="TaskFailedToStart",
        stopped_reason="CannotPullContainerError: pull image manifest has been retried 5 time(s):"
        " failed to resolve ref fargate-app:missing: not found",
        stopped_at=datetime.now(UTC) - timedelta(minutes=minutes_ago),
    )
    return arn


def exit_recent_task(app: App, exit_code: int, minutes_ago: int = 2) -> str:
    """A service task whose app container exited by itself with `exit_code` a moment ago."""
    arn = start_service_task(app, started_minutes_ago=minutes_ago)
    set_task_state(
        arn,
        "STOPPED",
        exit_code=exit_code,
        stop_code="EssentialContainerExited",
        stopped_reason="Essential container in task exited",
        stopped_at=datetime.now(UTC) - timedelta(minutes=minutes_ago),
    )
    return arn


# --- scripted one-off tasks for `run` -------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One poll's worth of a task's life: its state, and log lines written since the last one."""

    status: str
    logs: tuple[str, ...] = ()


@dataclass
class Outcome:
    """How the scripted task ends when it reaches STOPPED."""

    exit_code: int | None = 0
    stop_code: str = "EssentialContainerExited"
    stopped_reason: str = "Essential container in task exited"
    container_reason: str | None = None


class FakeClock:
    """The CLI's clock: sleeping advances time at once and moves the script one step."""

    def __init__(self, on_sleep: Callable[[], None]) -> None:
        self.t = 0.0
        self.sleeps: list[float] = []
        self._on_sleep = on_sleep

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds
        self._on_sleep()

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.t)


@dataclass
class TaskScript:
    """Plays a one-off task's life in moto, one step per poll of the CLI.

    moto creates every task RUNNING, and nothing in it runs, exits or logs. The script hooks
    the CLI's boto3 session (botocore's documented event system): when RunTask returns it moves
    the new task to the first step, then each sleep of the CLI moves it to the next step (the
    last repeats), writing the step's log lines to CloudWatch Logs through the API. It also
    records the RunTask request as the CLI sent it.
    """

    steps: list[Step]
    outcome: Outcome = field(default_factory=Outcome)
    task_arn: str | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    index: int = 0
    fake: FakeClock = field(init=False)

    def __post_init__(self) -> None:
        self.fake = FakeClock(on_sleep=self.advance)

    def session_factory(self, **kwargs: Any) -> boto3.Session:
        session = boto3.Session(**kwargs)
        session.events.register("before-parameter-build.ecs.RunTask", self._record)
        session.events.register("after-call.ecs.RunTask", self._started)
        return session

    def clock(self) -> Clock:
        """The clock to give the CLI: its sleeps advance the fake time and the script."""
        return Clock(monotonic=self.fake.monotonic, sleep=self.fake.sleep, now=self.fake.now)

    def _record(self, params: dict[str, Any], **_: Any) -> None:
        self.requests.append(json.loads(json.dumps(params)))

    def _started(self, parsed: dict[str, Any], **_: Any) -> None:
        if not parsed.get("tasks"):
            return
        self.task_arn = parsed["tasks"][0]["taskArn"]
        self._apply(self.steps[0])
        parsed["tasks"][0]["lastStatus"] = self.steps[0].status

    def advance(self) -> None:
        if self.task_arn is None or task_model(self.task_arn).status == "STOPPED":
            return  # stopped by the CLI (timeout, start timeout) or already done
        if self.index + 1 < len(self.steps):  # the last step lasts until the CLI gives up
            self.index += 1
            self._apply(self.steps[self.index])

    def _apply(self, step: Step) -> None:
        assert self.task_arn is not None
        if step.status == "STOPPED":
            set_task_state(
                self.task_arn,
                "STOPPED",
                exit_code=self.outcome.exit_code,
                stop_code=self.outcome.stop_code,
                stopped_reason=self.outcome.stopped_reason,
                container_reason=self.outcome.container_reason,
            )
        else:
            set_task_state(self.task_arn, step.status)
        if step.logs:
            put_logs(self.task_arn, list(step.logs))
