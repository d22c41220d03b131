"""`status`: what the service is doing, and whether it is healthy.

The service is healthy when none of these holds (each one found is listed as a problem, and the
command exits 1):

1. the service's status is not ACTIVE (it is DRAINING);
2. a deployment's rolloutState is FAILED (the circuit breaker gave up on it);
3. a deployment has been IN_PROGRESS for longer than ROLLOUT_STUCK_AFTER_S;
4. fewer tasks are running than desired;
5. a target of the service's target group is `unhealthy`, or none is `healthy` while tasks are
   desired;
6. a task of the service failed within RECENT_FAILURE_WINDOW_S: it could not start (stopCode
   TaskFailedToStart), its essential container exited on its own (EssentialContainerExited; a
   web server should never exit), or it failed a load balancer or container health check.

Tasks the scheduler stops during a deployment or scale-in, Spot interruptions, and tasks stopped
by hand are not failures. A rollout younger than ROLLOUT_STUCK_AFTER_S is reported as a note.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from tools.ops.aws import (
    CONTAINER_NAME,
    Clients,
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
from tools.ops.errors import EXIT_OK, EXIT_UNHEALTHY
from tools.ops.logs import LogEvent, iso, latest_lines
from tools.ops.outputs import StackOutputs
from tools.ops.reasons import hint_for

# A rolling deploy of this app takes a few minutes (Fargate start, ALB health checks, a short
# drain). Twice the usual worst case without a verdict means ECS is retrying a task that will not
# become healthy and no circuit breaker has stopped it yet.
ROLLOUT_STUCK_AFTER_S = 20 * 60

# A stopped task counts against health for this long: long enough to cover the deploy that caused
# it, short enough that one crash an hour ago does not fail every later check. (ECS keeps stopped
# tasks listed for about an hour.)
RECENT_FAILURE_WINDOW_S = 15 * 60

# How much history the report shows by default (--events, --tasks, --lines).
DEFAULT_EVENTS = 10
DEFAULT_STOPPED_TASKS = 5
DEFAULT_LOG_LINES = 20

# ListTasks and DescribeTasks take at most 100 tasks a call; a service of this size fits in one.
TASKS_PAGE = 100

# Target states that mean "serving" or "becoming ready" vs. "failing checks" (ELB target states).
UNHEALTHY_TARGET_STATES = frozenset({"unhealthy"})

_EPOCH = datetime.fromtimestamp(0, tz=UTC)


@dataclass
class Snapshot:
    """What AWS said about the service, gathered once, so rules and rendering agree."""

    service: dict[str, Any]
    targets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    stopped: list[dict[str, Any]] = field(default_factory=list)
    running_ids: list[str] = field(default_factory=list)
    logs: list[LogEvent] = field(default_factory=list)
    log_group: str | None = None
    notes: list[str] = field(default_factory=list)


def _service_tasks(clients: Clients, cluster: str, name: str, desired: str) -> list[dict[str, Any]]:
    arns = clients.ecs.list_tasks(
        cluster=cluster, serviceName=name, desiredStatus=desired, maxResults=TASKS_PAGE
    ).get("taskArns", [])
    if not arns:
        return []
    tasks = clients.ecs.describe_tasks(cluster=cluster, tasks=arns).get("tasks", [])
    # A service's tasks are in the group "service:NAME"; one-off tasks (ours) are not.
    return [t for t in tasks if t.get("group") == f"service:{name}"]


def gather(clients: Clients, outputs: StackOutputs, stopped_shown: int, log_lines: int) -> Snapshot:
    cluster, name = outputs.cluster_name, outputs.service_name
    service = describe_service(clients, cluster, name)
    snap = Snapshot(service=service)

    for lb in service.get("loadBalancers", []):
        arn = lb.get("targetGroupArn")
        if arn:
            snap.targets[arn] = clients.elbv2.describe_target_health(TargetGroupArn=arn).get(
                "TargetHealthDescriptions", []
            )
    if not service.get("loadBalancers"):
        snap.notes.append("the service has no load balancer target group; target health skipped")

    stopped = _service_tasks(clients, cluster, name, "STOPPED")
    stopped.sort(key=lambda t: t.get("stoppedAt") or t.get("createdAt") or _EPOCH, reverse=True)
    snap.stopped = stopped
    running = _service_tasks(clients, cluster, name, "RUNNING")
    snap.running_ids = [task_id(t["taskArn"]) for t in running]

    try:
        container = app_container(describe_task_definition(clients, service["taskDefinition"]))
        logs = log_config(container)
    except ClientError as exc:
        snap.notes.append(f"could not read the task definition: {error_code(exc)}")
        logs = None
    if logs is None:
        snap.notes.append(f"container {CONTAINER_NAME!r} does not log to CloudWatch")
        return snap
    snap.log_group = logs.group
    ids = snap.running_ids + [task_id(t["taskArn"]) for t in stopped[:stopped_shown]]
    snap.logs, note = latest_lines(
        clients.logs(logs.region),
        logs.group,
        f"{logs.stream_prefix}/{CONTAINER_NAME}",
        ids,
        log_lines,
    )
    if note:
        snap.notes.append(note)
    return snap


def task_failed(task: dict[str, Any]) -> bool:
    """Did this stopped service task fail, as opposed to being stopped on purpose?"""
    stop_code = task.get("stopCode")
    reason = (task.get("stoppedReason") or "").lower()
    return (
        stop_code in ("TaskFailedToStart", "EssentialContainerExited") or "health check" in reason
    )


def _age(now: datetime, moment: datetime | None) -> float | None:
    return (now - moment).total_seconds() if moment else None


def evaluate(snap: Snapshot, now: datetime) -> tuple[list[str], list[str]]:
    """(problems, notes) by the rules in this module's docstring."""
    service = snap.service
    problems: list[str] = []
    notes: list[str] = list(snap.notes)

    if service.get("status") != "ACTIVE":
        problems.append(f"service status is {service.get('status')}")

    for dep in service.get("deployments", []):
        rev = revision(dep.get("taskDefinition", "?"))
        state = dep.get("rolloutState")
        if state == "FAILED":
            why = dep.get("rolloutStateReason") or "no reason given"
            problems.append(f"rollout of {rev} FAILED: {why}")
        elif state == "IN_PROGRESS":
            age = _age(now, dep.get("createdAt"))
            if age is not None and age > ROLLOUT_STUCK_AFTER_S:
                problems.append(
                    f"rollout of {rev} still IN_PROGRESS after {duration(age)}"
                    f" (stuck after {duration(ROLLOUT_STUCK_AFTER_S)})"
                )
            else:
                notes.append(f"rollout of {rev} in progress ({duration(age or 0)} so far)")

    desired = service.get("desiredCount", 0)
    running = service.get("runningCount", 0)
    if running < desired:
        problems.append(
            f"{running} of {desired} desired tasks running ({service.get('pendingCount', 0)}"
            " pending)"
        )
    if desired == 0:
        notes.append("the service is scaled to zero tasks")

    for arn, targets in snap.targets.items():
        tg = target_group_name(arn)
        bad = [t for t in targets if t["TargetHealth"].get("State") in UNHEALTHY_TARGET_STATES]
        healthy = [t for t in targets if t["TargetHealth"].get("State") == "healthy"]
        if bad:
            reasons = sorted({_target_reason(t) for t in bad})
            problems.append(
                f"{len(bad)} of {len(targets)} targets unhealthy in target group {tg}:"
                f" {'; '.join(reasons)}"
            )
        elif desired > 0 and not healthy:
            problems.append(f"no healthy targets in target group {tg} ({len(targets)} registered)")

    recent = [
        t
        for t in snap.stopped
        if task_failed(t) and (_age(now, t.get("stoppedAt")) or 0) <= RECENT_FAILURE_WINDOW_S
    ]
    if recent:
        shown = "; ".join(
            f"{task_id(t['taskArn'])[:8]}: {t.get('stoppedReason') or t.get('stopCode')}"
            for t in recent[:3]
        )
        more = f" (and {len(recent) - 3} more)" if len(recent) > 3 else ""
        problems.append(
            f"{len(recent)} task(s) failed in the last {duration(RECENT_FAILURE_WINDOW_S)}:"
            f" {shown}{more}"
        )
    return problems, notes


def target_group_name(arn: str) -> str:
    # arn:...:targetgroup/NAME/ID
    parts = arn.split(":")[-1].split("/")
    return parts[1] if len(parts) >= 3 else arn


def _target_reason(target: dict[str, Any]) -> str:
    health = target["TargetHealth"]
    reason = health.get("Reason") or "no reason given"
    if health.get("Description"):
        reason += f" ({health['Description']})"
    return reason


def document(
    snap: Snapshot,
    outputs: StackOutputs,
    region: str,
    problems: list[str],
    notes: list[str],
    events: int,
    stopped_shown: int,
) -> dict[str, Any]:
    """The JSON document; the text report is rendered from it, so both always agree."""
    service = snap.service
    return {
        "command": "status",
        "healthy": not problems,
        "problems": problems,
        "notes": notes,
        "cluster": outputs.cluster_name,
        "service": outputs.service_name,
        "region": region,
        "url": outputs.url,
        "status": service.get("status"),
        "taskDefinition": revision(service.get("taskDefinition", "?")),
        "desiredCount": service.get("desiredCount", 0),
        "runningCount": service.get("runningCount", 0),
        "pendingCount": service.get("pendingCount", 0),
        "deployments": [
            {
                "id": dep.get("id"),
                "status": dep.get("status"),
                "rolloutState": dep.get("rolloutState"),
                "rolloutStateReason": dep.get("rolloutStateReason"),
                "taskDefinition": revision(dep.get("taskDefinition", "?")),
                "desiredCount": dep.get("desiredCount", 0),
                "runningCount": dep.get("runningCount", 0),
                "pendingCount": dep.get("pendingCount", 0),
                "failedTasks": dep.get("failedTasks", 0),
                "createdAt": iso(dep.get("createdAt")),
                "updatedAt": iso(dep.get("updatedAt")),
            }
            for dep in service.get("deployments", [])
        ],
        # ECS lists events newest first.
        "events": [
            {"createdAt": iso(e.get("createdAt")), "message": e.get("message")}
            for e in service.get("events", [])[:events]
        ],
        "targets": [
            {
                "targetGroup": target_group_name(arn),
                "targetGroupArn": arn,
                "id": t["Target"].get("Id"),
                "port": t["Target"].get("Port"),
                "state": t["TargetHealth"].get("State"),
                "reason": t["TargetHealth"].get("Reason"),
                "description": t["TargetHealth"].get("Description"),
            }
            for arn, targets in snap.targets.items()
            for t in targets
        ],
        "stoppedTasks": [_stopped_task(t) for t in snap.stopped[:stopped_shown]],
        "logGroup": snap.log_group,
        "logs": [event.as_json() for event in snap.logs],
    }


def _stopped_task(task: dict[str, Any]) -> dict[str, Any]:
    container = app_container_state(task)
    return {
        "taskId": task_id(task["taskArn"]),
        "taskDefinition": revision(task.get("taskDefinitionArn", "?")),
        "stoppedAt": iso(task.get("stoppedAt")),
        "stopCode": task.get("stopCode"),
        "stoppedReason": task.get("stoppedReason"),
        "failed": task_failed(task),
        "containers": [
            {"name": c.get("name"), "exitCode": c.get("exitCode"), "reason": c.get("reason")}
            for c in task.get("containers", [])
        ],
        "hint": hint_for(task.get("stoppedReason"), task.get("stopCode"), container.get("reason"))
        if task_failed(task)
        else None,
    }


def render(doc: dict[str, Any]) -> list[str]:
    """Plain text, one fact a line: readable in a terminal and pasted into a PR."""
    verdict = "HEALTHY" if doc["healthy"] else "NOT HEALTHY"
    lines = [f"Service {doc['service']} (cluster {doc['cluster']}, {doc['region']}): {verdict}"]
    lines += [f"  problem: {p}" for p in doc["problems"]]
    lines += [f"  note: {n}" for n in doc["notes"]]
    if doc.get("url"):
        lines.append(f"URL: {doc['url']}")
    lines.append(
        f"Tasks: {doc['desiredCount']} desired, {doc['runningCount']} running,"
        f" {doc['pendingCount']} pending (task definition {doc['taskDefinition']})"
    )

    lines += ["", "Deployments:"]
    for d in doc["deployments"]:
        lines.append(
            f"  {d['status']:<8} {d['taskDefinition']:<20} {d['rolloutState'] or '-':<12}"
            f" {d['desiredCount']} desired, {d['runningCount']} running, {d['pendingCount']}"
            f" pending, {d['failedTasks']} failed; started {d['createdAt']}"
        )
        if d.get("rolloutStateReason"):
            lines.append(f"           {d['rolloutStateReason']}")
    if not doc["deployments"]:
        lines.append("  (none)")

    lines += ["", "Recent events (newest first):"]
    lines += [f"  {e['createdAt']}  {e['message']}" for e in doc["events"]] or ["  (none)"]

    lines += ["", "Load balancer targets:"]
    for t in doc["targets"]:
        why = f"  {t['reason']}: {t['description'] or ''}".rstrip(": ") if t["reason"] else ""
        lines.append(f"  {t['targetGroup']}  {t['id']}:{t['port']}  {t['state']}{why}")
    if not doc["targets"]:
        lines.append("  (none registered)")

    lines += ["", "Stopped tasks (newest first):"]
    for s in doc["stoppedTasks"]:
        codes = ", ".join(
            f"{c['name']} exit {'-' if c['exitCode'] is None else c['exitCode']}"
            for c in s["containers"]
        )
        lines.append(
            f"  {s['taskId'][:8]}  {s['taskDefinition']}  {s['stoppedAt']}  {s['stopCode'] or '-'}"
            f"  {codes}  {s['stoppedReason'] or ''}".rstrip()
        )
        if s["hint"]:
            lines.append(f"           what to check: {s['hint']}")
    if not doc["stoppedTasks"]:
        lines.append("  (none)")

    lines += ["", f"Latest log lines ({doc['logGroup'] or 'no log group'}):"]
    for event in doc["logs"]:
        stream_task = event["stream"].rsplit("/", 1)[-1][:8]
        lines.append(f"  {event['timestamp']}  {stream_task}  {event['message']}")
    if not doc["logs"]:
        lines.append("  (none)")
    return lines


def status_command(
    clients: Clients,
    outputs: StackOutputs,
    console: Console,
    clock: Clock,
    events: int = DEFAULT_EVENTS,
    stopped_shown: int = DEFAULT_STOPPED_TASKS,
    log_lines: int = DEFAULT_LOG_LINES,
) -> int:
    snap = gather(clients, outputs, stopped_shown, log_lines)
    now = clock.now()
    problems, notes = evaluate(snap, now)
    doc = document(snap, outputs, clients.region, problems, notes, events, stopped_shown)
    if console.json_mode:
        console.document(doc)
    else:
        for line in render(doc):
            console.line(line)
    return EXIT_OK if not problems else EXIT_UNHEALTHY
