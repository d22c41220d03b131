"""`run -- COMMAND...`: a one-off task from the service's task definition, in the service's network.

The task uses the service's current task definition, network configuration and capacity provider
strategy (all read from DescribeServices), with the `app` container's command overridden. The tool
follows the task to STOPPED, prints its log lines as CloudWatch receives them, and exits with the
container's exit code (see tools/ops/errors.py for the tool's own codes).
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from tools.ops import errors
from tools.ops.aws import (
    CONTAINER_NAME,
    Clients,
    LogConfig,
    app_container,
    app_container_state,
    describe_service,
    describe_task_definition,
    error_code,
    log_config,
    revision,
    task_id,
)
from tools.ops.console import Clock, Console, duration
from tools.ops.errors import OpsError
from tools.ops.logs import LogEvent, LogFollower
from tools.ops.outputs import StackOutputs
from tools.ops.reasons import STUCK_PENDING_HINT, hint_for

# The interval of boto3's own ECS `tasks_stopped` waiter. ECS reports state changes every few
# seconds and DescribeTasks is rate-limited per account, so polling faster buys nothing.
POLL_INTERVAL_S = 6.0

# Longest wait for the task to stop. Migrations and batch jobs finish in minutes; anything longer
# should be a scheduled task, not a terminal session. Raise it with --timeout.
DEFAULT_TIMEOUT_S = 15 * 60

# Longest wait for the task to leave PROVISIONING/PENDING. Fargate usually starts a task in under
# two minutes, image pull included; ten minutes without starting means a pull or network problem
# that ECS keeps retrying rather than reporting.
DEFAULT_START_TIMEOUT_S = 10 * 60

# ECS lists who started a task; this lets `aws ecs list-tasks --started-by tools.ops` find ours.
STARTED_BY = "tools.ops"

# States of a task that has not started its containers yet.
STARTING_STATES = frozenset({"PROVISIONING", "PENDING", "ACTIVATING"})

# The JSON document keeps at most this many log lines (the last ones): enough for a migration's
# output, small enough to pass around. Every line is still printed as it arrives.
JSON_LOG_LINES_MAX = 1000


def build_run_task_request(service: dict[str, Any], command: Sequence[str]) -> dict[str, Any]:
    """The RunTask request for one task like the service's, with the command overridden."""
    network = service.get("networkConfiguration")
    if not network or "awsvpcConfiguration" not in network:
        raise OpsError(
            f"service {service.get('serviceName')!r} has no awsvpc network configuration to run"
            " the task in"
        )
    request: dict[str, Any] = {
        "cluster": service["clusterArn"],
        "taskDefinition": service["taskDefinition"],
        "count": 1,
        "startedBy": STARTED_BY,
        "networkConfiguration": network,
        "overrides": {"containerOverrides": [{"name": CONTAINER_NAME, "command": list(command)}]},
    }
    # RunTask takes a capacity provider strategy or a launch type, never both. With neither it
    # would use the cluster's default strategy, which may differ from the service's.
    if service.get("capacityProviderStrategy"):
        request["capacityProviderStrategy"] = service["capacityProviderStrategy"]
    elif service.get("launchType"):
        request["launchType"] = service["launchType"]
    if service.get("platformVersion"):
        request["platformVersion"] = service["platformVersion"]
    return request


@dataclass
class RunResult:
    """How a run ended; `exit_code` is the tool's, `container_exit_code` the container's."""

    exit_code: int
    outcome: str
    message: str | None = None
    hint: str | None = None
    task: dict[str, Any] = field(default_factory=dict)
    logs: list[LogEvent] = field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def container(self) -> dict[str, Any]:
        return app_container_state(self.task)


def describe_failures(failures: Sequence[dict[str, Any]]) -> str:
    """RunTask's `failures` list as one line."""
    parts = []
    for failure in failures:
        text = failure.get("reason") or "unknown reason"
        if failure.get("detail"):
            text += f" ({failure['detail']})"
        if failure.get("arn"):
            text += f" for {failure['arn']}"
        parts.append(text)
    return "; ".join(parts) or "RunTask started no task and reported no reason"


class TaskRun:
    """Starts one task and follows it to STOPPED, printing progress and log lines."""

    def __init__(
        self,
        clients: Clients,
        console: Console,
        clock: Clock,
        request: dict[str, Any],
        logs: LogConfig | None,
        timeout_s: float,
        start_timeout_s: float,
    ) -> None:
        self.clients = clients
        self.console = console
        self.clock = clock
        self.request = request
        self.log_config = logs
        self.timeout_s = timeout_s
        self.start_timeout_s = start_timeout_s
        self.logs: list[LogEvent] = []
        self._started_at = 0.0

    def elapsed(self) -> float:
        return self.clock.monotonic() - self._started_at

    def start(self) -> RunResult:
        self._started_at = self.clock.monotonic()
        try:
            resp = self.clients.ecs.run_task(**self.request)
        except ClientError as exc:
            detail = exc.response.get("Error", {}).get("Message", "")
            message = f"RunTask was refused: {error_code(exc)}: {detail}"
            return RunResult(
                errors.EXIT_DID_NOT_START,
                "run-task-failed",
                message=message,
                hint=hint_for(message) or "check the request against the service's settings",
            )
        tasks = resp.get("tasks") or []
        if resp.get("failures") or not tasks:
            message = f"RunTask started no task: {describe_failures(resp.get('failures') or [])}"
            hint = hint_for(message)
            return RunResult(errors.EXIT_DID_NOT_START, "run-task-failed", message, hint)
        return self.follow(tasks[0])

    def follow(self, task: dict[str, Any]) -> RunResult:
        arn = task["taskArn"]
        short = task_id(arn)[:8]
        follower = None
        if self.log_config is not None:
            follower = LogFollower(
                self.clients.logs(self.log_config.region),
                self.log_config.group,
                self.log_config.stream_for(task_id(arn)),
            )
        cluster = self.request["cluster"].rsplit("/", 1)[-1]
        self.console.say(
            f"started task {task_id(arn)}: https://{self.clients.region}.console.aws.amazon.com"
            f"/ecs/v2/clusters/{cluster}/tasks/{task_id(arn)}"
        )
        if follower is not None:
            self.console.say(f"logs: {follower.group} {follower.stream}")
        status = None
        ran = False
        try:
            while True:
                task = self._describe(arn) or task
                # Lines first: those written before a state change then read before it. The
                # task reaches STOPPED tens of seconds after its container exits (ECS
                # deprovisions the network first), so this poll also has the last lines.
                if follower is not None:
                    self._print(follower.poll())
                if task.get("lastStatus") != status:
                    status = task.get("lastStatus")
                    self.console.say(f"task {short} {status} ({duration(self.elapsed())})")
                # startedAt also covers a short task whose RUNNING fell between two polls.
                ran = ran or status == "RUNNING" or bool(task.get("startedAt"))
                if status == "STOPPED":
                    return self._stopped(task, ran)
                if status in STARTING_STATES and self.elapsed() >= self.start_timeout_s:
                    self._stop(arn, f"not started after {duration(self.start_timeout_s)}")
                    return RunResult(
                        errors.EXIT_DID_NOT_START,
                        "stuck-starting",
                        message=(
                            f"task {short} was still {status} after {duration(self.elapsed())}"
                            " (--start-timeout); stopped it"
                        ),
                        hint=STUCK_PENDING_HINT,
                        task=task,
                        logs=self.logs,
                        elapsed_s=self.elapsed(),
                    )
                if self.elapsed() >= self.timeout_s:
                    self._stop(arn, f"--timeout of {duration(self.timeout_s)} reached")
                    return RunResult(
                        errors.EXIT_TIMEOUT,
                        "timeout",
                        message=(
                            f"task {short} was still {status} after {duration(self.elapsed())}"
                            " (--timeout); stopped it"
                        ),
                        hint="if the command needs longer, raise --timeout (seconds)",
                        task=task,
                        logs=self.logs,
                        elapsed_s=self.elapsed(),
                    )
                self.clock.sleep(POLL_INTERVAL_S)
        except KeyboardInterrupt:
            self._stop(arn, "interrupted (Ctrl-C)")
            return RunResult(
                errors.EXIT_INTERRUPTED,
                "interrupted",
                message=f"interrupted; stopped task {short}",
                task=task,
                logs=self.logs,
                elapsed_s=self.elapsed(),
            )

    def _describe(self, arn: str) -> dict[str, Any] | None:
        resp = self.clients.ecs.describe_tasks(cluster=self.request["cluster"], tasks=[arn])
        tasks = resp.get("tasks") or []
        return dict(tasks[0]) if tasks else None

    def _print(self, events: list[LogEvent]) -> None:
        self.logs.extend(events)
        for event in events:
            if self.console.json_mode:
                print(event.message, file=self.console.err, flush=True)
            else:
                self.console.line(event.message)

    def _stop(self, arn: str, why: str) -> None:
        try:
            self.clients.ecs.stop_task(
                cluster=self.request["cluster"], task=arn, reason=f"Stopped by {STARTED_BY}: {why}"
            )
        except ClientError as exc:
            self.console.say(f"could not stop task {task_id(arn)}: {exc}; stop it in the console")

    def _stopped(self, task: dict[str, Any], ran: bool) -> RunResult:
        short = task_id(task["taskArn"])[:8]
        container = app_container_state(task)
        code = container.get("exitCode")
        reason = task.get("stoppedReason") or task.get("stopCode") or "no reason given"
        texts = (task.get("stoppedReason"), task.get("stopCode"), container.get("reason"))
        if code is not None:
            # A container's code is 0-255; anything else would wrap around in the shell.
            exit_code = code if 0 <= code <= 255 else 1
            message = f"task {short} exited with code {code} after {duration(self.elapsed())}"
            if code != 0:
                message += f" ({reason})"
            return RunResult(
                exit_code,
                "exited",
                message=message,
                hint=hint_for(*texts) if code != 0 else None,
                task=task,
                logs=self.logs,
                elapsed_s=self.elapsed(),
            )
        detail = reason
        if container.get("reason") and container["reason"] not in detail:
            detail += f"; container: {container['reason']}"
        what = "did not start" if not ran else "stopped without an exit code"
        return RunResult(
            errors.EXIT_KILLED if ran else errors.EXIT_DID_NOT_START,
            "no-exit-code" if ran else "did-not-start",
            message=f"task {short} {what}: {detail}",
            hint=hint_for(*texts) or "read the task's stopped reason and events in the ECS console",
            task=task,
            logs=self.logs,
            elapsed_s=self.elapsed(),
        )


def run_command(
    clients: Clients,
    outputs: StackOutputs,
    console: Console,
    clock: Clock,
    command: Sequence[str],
    timeout_s: float = DEFAULT_TIMEOUT_S,
    start_timeout_s: float = DEFAULT_START_TIMEOUT_S,
) -> int:
    service = describe_service(clients, outputs.cluster_name, outputs.service_name)
    request = build_run_task_request(service, command)
    container = app_container(describe_task_definition(clients, request["taskDefinition"]))
    logs = log_config(container)
    console.say(
        f"running `{shlex.join(command)}` in a one-off task of {outputs.service_name}"
        f" ({revision(request['taskDefinition'])}, cluster {outputs.cluster_name},"
        f" {clients.region})"
    )
    if logs is None:
        console.say(f"container {CONTAINER_NAME!r} does not log to CloudWatch; no output to show")
    result = TaskRun(clients, console, clock, request, logs, timeout_s, start_timeout_s).start()
    if result.message:
        console.say(result.message)
    if result.hint:
        console.say(f"what to check: {result.hint}")
    if console.json_mode:
        console.document(run_document(outputs, command, request, logs, result))
    return result.exit_code


def run_document(
    outputs: StackOutputs,
    command: Sequence[str],
    request: dict[str, Any],
    logs: LogConfig | None,
    result: RunResult,
) -> dict[str, Any]:
    task = result.task
    container = result.container
    arn = task.get("taskArn")
    kept = result.logs[-JSON_LOG_LINES_MAX:]
    return {
        "command": "run",
        "cluster": outputs.cluster_name,
        "service": outputs.service_name,
        "argv": list(command),
        "taskDefinition": revision(request["taskDefinition"]),
        "taskArn": arn,
        "taskId": task_id(arn) if arn else None,
        "outcome": result.outcome,
        "exitCode": result.exit_code,
        "containerExitCode": container.get("exitCode"),
        "lastStatus": task.get("lastStatus"),
        "stopCode": task.get("stopCode"),
        "stoppedReason": task.get("stoppedReason"),
        "containerReason": container.get("reason"),
        "message": result.message,
        "hint": result.hint,
        "elapsedSeconds": round(result.elapsed_s, 1),
        "logGroup": logs.group if logs else None,
        "logStream": logs.stream_for(task_id(arn)) if logs and arn else None,
        "logs": [event.as_json() for event in kept],
        "logsTruncated": len(result.logs) > len(kept),
    }
