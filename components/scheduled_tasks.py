"""Scheduled tasks: the app's image run to completion on a timetable by EventBridge Scheduler.

Each job gets:
- its own task definition: the service's container (components.task_definition: image,
  environment and secrets, log group, non-root user, read-only root filesystem, ECS Exec setting)
  and roles, with the job's command and size, logging under its own stream prefix; a job that
  mounts file systems mounts its own (not the service's) and runs with task and execution roles
  of its own, so that only it may mount them (components.file_system);
- an EventBridge Scheduler schedule that calls ECS RunTask on Fargate in the service's subnets and
  security group, with a bounded retry policy;
- a dead-letter queue (SQS, SSE) that receives the invocations still failing after the retries,
  and an alarm that notifies the stack's alarm topic as soon as one arrives;
- its own role, trusted by EventBridge Scheduler for this account only, that may run only this
  job's task definition in this cluster, pass only the task's two roles to ECS, tag the task it
  starts and write to its dead-letter queue.

The schedule starts the task; it does not wait for it. A job that starts and then exits non-zero is
not a failed invocation (nothing goes to the dead-letter queue): its exit code and logs are in ECS
and CloudWatch like any task's. A run that outlasts its interval overlaps the next one, so jobs
should be idempotent or short.

AWS references: execution role and its confused-deputy conditions
(https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html#setting-up-execution-role),
dead-letter queues (https://docs.aws.amazon.com/scheduler/latest/UserGuide/configuring-schedule-dlq.html),
the permissions RunTask from EventBridge needs
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/CWE_IAM_role.html).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import pulumi
import pulumi_aws as aws

from components.alarms import NOT_BREACHING, alarm_name, notify
from components.exec_sessions import ExecSessionRecord
from components.file_system import FileSystemAccess
from components.naming import bounded
from components.roles import ECS_TASKS_PRINCIPAL, TaskRoles, TaskRolesArgs
from components.spec import TASK_NAME, RolePlacement, ScheduledTask, check_args
from components.task_definition import AppContainer, TaskPlacement, fargate_task_definition

SCHEDULER_PRINCIPAL = "scheduler.amazonaws.com"
# Schedules go in the account's default group; the trust policy's aws:SourceArn names it, because
# Scheduler presents the schedule *group's* ARN when it assumes the role, not the schedule's.
SCHEDULE_GROUP = "default"
# Scheduler's retry policy. RunTask fails for passing reasons (API throttling, a moment without
# Fargate capacity, an ENI limit); a few retries with Scheduler's backoff ride those out. Its
# defaults (185 attempts over 24 h) would start a nightly job the next morning, or pile retries
# onto the next runs of a frequent one.
MAXIMUM_RETRY_ATTEMPTS = 5
RETRY_ATTEMPTS_MAX = 185  # Scheduler's limit (and default)
# A run not started within an hour of its slot is late enough for a person to decide; the
# dead-letter queue tells them.
MAXIMUM_EVENT_AGE_S = 60 * 60
EVENT_AGE_MIN_S, EVENT_AGE_MAX_S = 60, 24 * 60 * 60  # Scheduler's limits
# SQS's maximum: a failure over a long weekend is still there to read on Monday.
DEAD_LETTER_RETENTION_S = 14 * 24 * 60 * 60
RETENTION_MIN_S = 60  # SQS's least
# One dead letter is a job that did not run: alarm on the first. SQS publishes queue metrics every
# five minutes; the alarm stays on until someone reads or purges the queue.
DEAD_LETTER_ALARM_PERIOD_S = 300
LOG_STREAM_PREFIX = "scheduled"  # a job's streams are scheduled-<name>/app/<task-id>
IAM_ROLE_NAME_MAX = 64
AUTONAME_SUFFIX_LEN = 8  # "-" and 7 random hex characters
SCHEDULE_NAME_MAX = 64  # letters, digits, ., - and _
SCHEDULE_DESCRIPTION_MAX = 512
TASK_FAMILY_MAX = 255


@dataclass(frozen=True, kw_only=True)
class ScheduledTasksArgs:
    """Settings of the scheduled jobs of one service.

    container: the service's container (FargateService.container), so a job's app settings load
        exactly as the service's do; each job replaces its command and logs to the service's log
        group under its own stream prefix. Required, with its log group known.
    placement: the service's placement and roles (FargateService.task_placement), so a job
        reaches what the service reaches, as the service (the task role carries ECS Exec's
        permissions when the container has it on). Required.
    tasks: the jobs. Default none.
    maximum_retry_attempts, maximum_event_age_s: Scheduler's retry policy. Default 5 attempts
        within one hour (see the constants' reasons).
    dead_letter_retention_s: how long failed invocations stay in the queue. Default 14 days,
        SQS's maximum.
    alarm_topic_arn: SNS topic the dead-letter alarms notify (components.alarm_topic). Default
        None: the alarms exist but notify nobody.
    roles: where the schedules' roles go (IAM path) and their permissions boundary. Default IAM's
        root path and no boundary; the program passes the stack's path and the stack's boundary.
    protect: protect each dead-letter queue, and the failed invocations in it, from deletion
        (`deletionProtection`; cfn-lint's I3011 counts a queue as stateful; SQS keeps nothing of
        a deleted queue). Default False.
    file_systems: by job name, the file systems its task mounts (FileSystem.access), instead of
        the service's. A job that mounts one runs with task and execution roles of its own
        (TaskRoles named after it): the service's grants (task_policy_statements, secret_arns,
        exec_sessions) and mounting its file systems, so only the tasks that mount a file system
        may. Default none: every job runs as the service.
    task_policy_statements, secret_arns, exec_sessions: what the service's roles are granted
        (components.roles.TaskRolesArgs), for the roles of a job that mounts. Default none.
    """

    container: AppContainer
    placement: TaskPlacement
    tasks: tuple[ScheduledTask, ...] = ()
    maximum_retry_attempts: int = MAXIMUM_RETRY_ATTEMPTS
    maximum_event_age_s: int = MAXIMUM_EVENT_AGE_S
    dead_letter_retention_s: int = DEAD_LETTER_RETENTION_S
    alarm_topic_arn: pulumi.Input[str] | None = None
    roles: RolePlacement = field(default_factory=RolePlacement)
    protect: bool = False
    file_systems: Mapping[str, tuple[FileSystemAccess, ...]] = field(default_factory=dict)
    task_policy_statements: tuple[dict, ...] = ()
    secret_arns: tuple[pulumi.Input[str], ...] = ()
    exec_sessions: ExecSessionRecord | None = None

    def problems(self) -> list[str]:
        """What is wrong with these settings (empty when nothing is), names of jobs aside
        (`ScheduledTasks` checks those against the names it derives)."""
        found = [f"container: {p}" for p in self.container.problems()]
        found += [f"roles: {p}" for p in self.roles.problems()]
        if self.container.logging.group is None:
            found.append(
                "container.logging.group: jobs log to their service's log group; pass the "
                "service's container (FargateService.container)"
            )
        names = {task.name for task in self.tasks}
        found += [
            f"file_systems {name!r}: no such job" for name in self.file_systems if name not in names
        ]
        for task in self.tasks:
            found += [f"task {task.name!r}: {p}" for p in task.size.problems()]
            if not task.command or not task.command[0]:
                found.append(f"task {task.name!r}: command: expected the program to run")
        if not 0 <= self.maximum_retry_attempts <= RETRY_ATTEMPTS_MAX:
            found.append(
                f"maximum_retry_attempts {self.maximum_retry_attempts}: expected 0 to "
                f"{RETRY_ATTEMPTS_MAX}"
            )
        if not EVENT_AGE_MIN_S <= self.maximum_event_age_s <= EVENT_AGE_MAX_S:
            found.append(
                f"maximum_event_age_s {self.maximum_event_age_s}: expected {EVENT_AGE_MIN_S} to "
                f"{EVENT_AGE_MAX_S}"
            )
        if not RETENTION_MIN_S <= self.dead_letter_retention_s <= DEAD_LETTER_RETENTION_S:
            found.append(
                f"dead_letter_retention_s {self.dead_letter_retention_s}: SQS keeps messages "
                f"{RETENTION_MIN_S} to {DEAD_LETTER_RETENTION_S} s"
            )
        return found


def scheduler_trust_policy(account_id: str, partition: str, region: str) -> str:
    """EventBridge Scheduler, acting for a schedule of this account's default group only."""
    group_arn = f"arn:{partition}:scheduler:{region}:{account_id}:schedule-group/{SCHEDULE_GROUP}"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "SchedulerForThisAccountsSchedulesOnly",
                    "Effect": "Allow",
                    "Principal": {"Service": SCHEDULER_PRINCIPAL},
                    "Action": "sts:AssumeRole",
                    "Condition": {
                        "StringEquals": {"aws:SourceAccount": account_id},
                        "ArnEquals": {"aws:SourceArn": group_arn},
                    },
                }
            ],
        }
    )


def schedule_role_policy(
    *,
    task_family_arn: str,
    cluster_arn: str,
    execution_role_arn: str,
    task_role_arn: str,
    dead_letter_queue_arn: str,
) -> str:
    """What the schedule's role may do: start this job and nothing else."""
    # Tasks are named arn:...:task/<cluster name>/<id>; tagging is confined to this cluster's.
    cluster_tasks = cluster_arn.replace(":cluster/", ":task/", 1) + "/*"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    # Every revision of this job's family: a deploy registers a new revision and
                    # repoints the schedule, and a run in between must not fail.
                    "Sid": "RunOnlyThisJobsTaskDefinitionInThisCluster",
                    "Effect": "Allow",
                    "Action": "ecs:RunTask",
                    "Resource": f"{task_family_arn}:*",
                    "Condition": {"ArnEquals": {"ecs:cluster": cluster_arn}},
                },
                {
                    "Sid": "PassOnlyTheJobsExecutionAndTaskRolesToEcsTasks",
                    "Effect": "Allow",
                    "Action": "iam:PassRole",
                    "Resource": [execution_role_arn, task_role_arn],
                    "Condition": {"StringEquals": {"iam:PassedToService": ECS_TASKS_PRINCIPAL}},
                },
                {
                    # ECS authorizes tags on create separately: propagating the task
                    # definition's tags (project, stack) to the task it starts needs this.
                    "Sid": "TagOnlyTheTasksItStartsInThisCluster",
                    "Effect": "Allow",
                    "Action": "ecs:TagResource",
                    "Resource": cluster_tasks,
                    "Condition": {"StringEquals": {"ecs:CreateAction": "RunTask"}},
                },
                {
                    # Scheduler delivers dead letters as the schedule's role.
                    "Sid": "SendFailedInvocationsToItsDeadLetterQueue",
                    "Effect": "Allow",
                    "Action": "sqs:SendMessage",
                    "Resource": dead_letter_queue_arn,
                },
            ],
        }
    )


def dead_letter_queue_policy(*, queue_arn: str, role_arn: str) -> str:
    """Only the schedule's role writes to its queue, and only over TLS.

    Scheduler sends dead letters as the schedule's role, not as scheduler.amazonaws.com, so the
    policy names the role; a condition on aws:SourceArn would never match those requests.
    """
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "TheSchedulesRoleSendsDeadLetters",
                    "Effect": "Allow",
                    "Principal": {"AWS": role_arn},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                },
                {
                    # A dead letter means "this job did not start"; nobody else may forge one.
                    "Sid": "NoOneElseSendsDeadLetters",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                    "Condition": {"ArnNotEquals": {"aws:PrincipalArn": role_arn}},
                },
                {
                    "Sid": "TlsOnly",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "sqs:*",
                    "Resource": queue_arn,
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
            ],
        }
    )


class ScheduledTasks(pulumi.ComponentResource):
    """Per job: task definition, schedule, scheduler role and its policy, dead-letter queue, its
    policy and its alarm. Children are keyed by the job's name, so adding or removing a job leaves
    the others untouched.

    Outputs (dicts keyed by job name):
        task_definition_arns, task_families: what each job runs.
        schedule_names: each job's schedule (in the default schedule group).
        role_arns: each schedule's role.
        dead_letter_queue_urls, dead_letter_queue_arns: where each job's failed invocations go.
        dead_letter_alarm_names: the alarm on each queue.
        task_role_arns: the own task role of each job that mounts a file system.
    """

    def __init__(
        self, name: str, args: ScheduledTasksArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(f"ScheduledTasks {name!r}", [*args.problems(), *name_problems(name, args.tasks)])
        super().__init__("fargate-app:scheduled:ScheduledTasks", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOptions(parent=self)
        project, stack = pulumi.get_project(), pulumi.get_stack()
        account_id = aws.get_caller_identity(opts=invoke).account_id
        partition = aws.get_partition(opts=invoke).partition
        region = aws.get_region(opts=invoke).region
        trust = scheduler_trust_policy(account_id, partition, region)

        self.task_definition_arns: dict[str, pulumi.Output[str]] = {}
        self.task_families: dict[str, pulumi.Output[str]] = {}
        self.schedule_names: dict[str, pulumi.Output[str]] = {}
        self.role_arns: dict[str, pulumi.Output[str]] = {}
        self.dead_letter_queue_urls: dict[str, pulumi.Output[str]] = {}
        self.dead_letter_queue_arns: dict[str, pulumi.Output[str]] = {}
        self.dead_letter_alarm_names: dict[str, pulumi.Output[str]] = {}

        self.task_role_arns: dict[str, pulumi.Output[str]] = {}
        for task in args.tasks:
            base = f"{name}-{task.name}"
            file_systems = args.file_systems.get(task.name, ())
            execution_role_arn, task_role_arn = (
                args.placement.execution_role_arn,
                args.placement.task_role_arn,
            )
            if file_systems:
                own = TaskRoles(
                    base,
                    TaskRolesArgs(
                        task_policy_statements=(
                            *args.task_policy_statements,
                            *(s for fs in file_systems for s in fs.statements),
                        ),
                        secret_arns=args.secret_arns,
                        enable_exec=args.container.enable_exec,
                        exec_sessions=args.exec_sessions,
                        roles=args.roles,
                    ),
                    child,
                )
                execution_role_arn, task_role_arn = own.execution_role_arn, own.task_role_arn
                self.task_role_arns[task.name] = own.task_role_arn
            task_definition = fargate_task_definition(
                f"{base}-task",
                family=bounded(f"{project}-{stack}-{base}", TASK_FAMILY_MAX),
                size=task.size,
                # The service's container, with the job's command, its own log streams and its
                # own file systems (not the service's).
                container=replace(
                    args.container,
                    command=task.command,
                    logging=replace(
                        args.container.logging,
                        region=args.container.logging.region or region,
                        stream_prefix=f"{LOG_STREAM_PREFIX}-{task.name}",
                    ),
                    mounts=(
                        *(m for m in args.container.mounts if m.efs is None),
                        *(fs.mount for fs in file_systems),
                    ),
                ),
                execution_role_arn=execution_role_arn,
                task_role_arn=task_role_arn,
                opts=child,
            )

            queue = aws.sqs.Queue(
                f"{base}-dlq",
                message_retention_seconds=args.dead_letter_retention_s,
                sqs_managed_sse_enabled=True,
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
            )
            role = aws.iam.Role(
                f"{base}-role",
                description=f"EventBridge Scheduler: starts the scheduled job {task.name}"[:1000],
                assume_role_policy=trust,
                path=args.roles.path,
                permissions_boundary=args.roles.permissions_boundary,
                opts=child,
            )
            role_policy = aws.iam.RolePolicy(
                f"{base}-policy",
                role=role.name,
                policy=pulumi.Output.all(
                    task_definition.arn_without_revision,
                    args.placement.cluster_arn,
                    execution_role_arn,
                    task_role_arn,
                    queue.arn,
                ).apply(
                    lambda a: schedule_role_policy(
                        task_family_arn=a[0],
                        cluster_arn=a[1],
                        execution_role_arn=a[2],
                        task_role_arn=a[3],
                        dead_letter_queue_arn=a[4],
                    )
                ),
                opts=child,
            )
            queue_policy = aws.sqs.QueuePolicy(
                f"{base}-dlq-policy",
                queue_url=queue.url,
                policy=pulumi.Output.all(queue.arn, role.arn).apply(
                    lambda a: dead_letter_queue_policy(queue_arn=a[0], role_arn=a[1])
                ),
                opts=child,
            )

            schedule = aws.scheduler.Schedule(
                f"{base}-schedule",
                name=bounded(
                    f"{project}-{stack}-{base}", SCHEDULE_NAME_MAX, allowed=r"0-9A-Za-z._-"
                ),
                group_name=SCHEDULE_GROUP,
                description=f"Runs the scheduled job {task.name}: {shlex.join(task.command)}"[
                    :SCHEDULE_DESCRIPTION_MAX
                ],
                schedule_expression=task.schedule,
                schedule_expression_timezone=task.timezone,
                state="ENABLED" if task.enabled else "DISABLED",
                # Exactly on time: jobs such as reports expect their slot, and it is free.
                flexible_time_window={"mode": "OFF"},
                # A one-time at() schedule stays after it runs; DELETE would make Pulumi see it
                # vanish and create it again on the next `pulumi up`.
                action_after_completion="NONE",
                target={
                    "arn": args.placement.cluster_arn,
                    "role_arn": role.arn,
                    "ecs_parameters": {
                        "task_definition_arn": task_definition.arn,
                        "task_count": 1,
                        "launch_type": "FARGATE",
                        "network_configuration": {
                            "subnets": args.placement.subnet_ids,
                            "security_groups": [
                                args.placement.security_group_id,
                                *(fs.security_group_id for fs in file_systems),
                            ],
                            "assign_public_ip": args.placement.assign_public_ip,
                        },
                        # The task carries the task definition's tags (project, stack, ...) and
                        # ECS's own (cluster), for cost allocation and finding it.
                        "propagate_tags": "TASK_DEFINITION",
                        "enable_ecs_managed_tags": True,
                        "enable_execute_command": args.container.enable_exec,
                    },
                    "retry_policy": {
                        "maximum_retry_attempts": args.maximum_retry_attempts,
                        "maximum_event_age_in_seconds": args.maximum_event_age_s,
                    },
                    "dead_letter_config": {"arn": queue.arn},
                },
                # The first run must find its permissions and file systems in place.
                opts=pulumi.ResourceOptions(
                    parent=self,
                    depends_on=[
                        role_policy,
                        queue_policy,
                        *(r for fs in file_systems for r in fs.ready),
                    ],
                ),
            )
            actions = notify(args.alarm_topic_arn)
            alarm = aws.cloudwatch.MetricAlarm(
                f"{base}-dead-letters",
                name=alarm_name(name, f"{task.name}-dead-letters"),
                alarm_description=(
                    f"The scheduled job {task.name} could not be started (RunTask kept failing "
                    "after the retries); the dead-letter queue holds the error."
                ),
                namespace="AWS/SQS",
                metric_name="ApproximateNumberOfMessagesVisible",
                dimensions={"QueueName": queue.name},
                statistic="Maximum",
                period=DEAD_LETTER_ALARM_PERIOD_S,
                evaluation_periods=1,
                comparison_operator="GreaterThanThreshold",
                threshold=0,
                treat_missing_data=NOT_BREACHING,
                alarm_actions=actions,
                ok_actions=actions,
                opts=child,
            )

            self.task_definition_arns[task.name] = task_definition.arn
            self.task_families[task.name] = task_definition.family
            self.schedule_names[task.name] = schedule.name
            self.role_arns[task.name] = role.arn
            self.dead_letter_queue_urls[task.name] = queue.url
            self.dead_letter_queue_arns[task.name] = queue.arn
            self.dead_letter_alarm_names[task.name] = alarm.name

        self.register_outputs(
            {
                "task_definition_arns": self.task_definition_arns,
                "task_families": self.task_families,
                "schedule_names": self.schedule_names,
                "role_arns": self.role_arns,
                "dead_letter_queue_urls": self.dead_letter_queue_urls,
                "dead_letter_queue_arns": self.dead_letter_queue_arns,
                "dead_letter_alarm_names": self.dead_letter_alarm_names,
                "task_role_arns": self.task_role_arns,
            }
        )


def name_problems(name: str, tasks: tuple[ScheduledTask, ...]) -> list[str]:
    """What AWS would refuse in the names derived from the component's and the jobs' names."""
    problems = []
    seen: set[str] = set()
    for task in tasks:
        if not TASK_NAME.match(task.name) or task.name in seen:
            problems.append(
                f"scheduled task name {task.name!r}: names are unique and use letters, "
                "digits, - and _"
            )
        seen.add(task.name)
        role = f"{name}-{task.name}-role"
        if len(role) + AUTONAME_SUFFIX_LEN > IAM_ROLE_NAME_MAX:
            problems.append(
                f"scheduled task {task.name!r} in component {name!r}: the role name {role!r} "
                f"plus Pulumi's suffix exceeds IAM's {IAM_ROLE_NAME_MAX} characters; use a "
                "shorter task or component name"
            )
    return problems
