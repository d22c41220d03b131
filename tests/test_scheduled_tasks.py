"""Scheduled tasks: the `scheduledTasks` setting and components/scheduled_tasks.py.

What a user relies on:
- a bad job definition is refused before anything is created, each problem naming
  `scheduledTasks.<job>.<field>`, the value and what is allowed;
- each job runs the app's image with its own command and size, on its schedule, in exactly the
  service's subnets and security group (and public-IP setting), with retries and a dead-letter
  queue for invocations that keep failing;
- the schedule's role can start only that job's task definition in this cluster and pass only the
  task's two roles, nothing else.

The program runs under the shared mocks (tools/mocks/), normally and in preview. Requests are
checked against botocore's service models (ECS RegisterTaskDefinition, Scheduler CreateSchedule),
with the Pulumi inputs mapped to API fields the way the provider's expanders do (see
`create_schedule_request`).
"""

from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.model import Shape
from botocore.validate import ParamValidator

from components.scheduled_tasks import (
    DEAD_LETTER_RETENTION_S,
    MAXIMUM_EVENT_AGE_S,
    MAXIMUM_RETRY_ATTEMPTS,
    name_problems,
)
from components.spec import ScheduledTask
from stack_config import FARGATE_MEMORY_BY_CPU, ConfigError, load_config
from tools.mocks import ACCOUNT_ID, UNKNOWN, ProgramRun, RegisteredResource, load_stack_config
from tools.mocks import run_program as _run_program

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "__main__.py"
PROJECT = "fargate-app"
REGION = "us-east-1"
SCHEDULE = "aws:scheduler/schedule:Schedule"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
QUEUE = "aws:sqs/queue:Queue"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
COMPONENT = "fargate-app:scheduled:ScheduledTasks"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"

JOBS = {
    "nightly-report": {
        "schedule": "cron(30 2 * * ? *)",
        "command": ["python", "-m", "webapp.report", "--since", "1d"],
        "cpu": 512,
        "memory": 1024,
        "timezone": "Europe/Berlin",
    },
    "hourly_sync": {
        "schedule": "rate(1 hour)",
        "command": "python -m webapp.sync --mode 'full sync'",
        "enabled": False,
    },
}


def run_program(stack: str, jobs: Any = None, *, preview: bool = False, **overrides: Any):
    config = load_stack_config(ROOT, stack)
    if jobs is not None:
        config[f"{PROJECT}:scheduledTasks"] = jobs
    config.update({f"{PROJECT}:{k}": v for k, v in overrides.items()})
    return _run_program(PROGRAM, project=PROJECT, stack=stack, config=config, preview=preview)


def ok(run: ProgramRun) -> ProgramRun:
    assert run.error is None, f"the program failed under the mocks: {run.error}"
    return run


@pytest.fixture(scope="module")
def dev() -> ProgramRun:
    """dev (public subnets, no NAT) with two jobs."""
    return ok(run_program("dev", JOBS))


@pytest.fixture(scope="module")
def prod() -> ProgramRun:
    """prod (private subnets behind NAT) with the same jobs."""
    return ok(run_program("prod", JOBS))


@pytest.fixture(scope="module")
def dev_preview() -> ProgramRun:
    return ok(run_program("dev", JOBS, preview=True))


SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:app/db-url-AbCdEf"


@pytest.fixture(scope="module")
def dev_secrets_exec() -> ProgramRun:
    """dev with a secret injected into the app and ECS Exec on."""
    return ok(run_program("dev", JOBS, secrets={"DATABASE_URL": SECRET_ARN}, enableExec=True))


# --- validation ----------------------------------------------------------------------------------


def config_with(jobs: Any, **settings: Any):
    return load_config(
        {"aws:region": REGION, "scheduledTasks": jobs, **settings}, stack="test", project=PROJECT
    )


def problems_of(jobs: Any, **settings: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        config_with(jobs, **settings)
    return caught.value.problems


def only_problem(jobs: Any, **settings: Any) -> str:
    found = problems_of(jobs, **settings)
    assert len(found) == 1, f"expected one problem, got {found}"
    return found[0]


def job(**fields: Any) -> dict[str, Any]:
    return {"job": {"schedule": "rate(1 day)", "command": ["true"], **fields}}


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 3 * * ? *)",
        "cron(0/15 8-18 ? * MON-FRI *)",
        "cron(*/5 * * * ? *)",
        "cron(0 12 L * ? *)",
        "cron(0 12 LW * ? *)",
        "cron(0 12 15W * ? *)",
        "cron(0 12 ? * 6L *)",
        "cron(0 9 ? * MON#1 *)",
        "cron(0 9 ? * 2#3 *)",
        "cron(0 0 1 JAN,jul ? 2030-2035)",
        "cron(5,35 14 ? * SUN,SAT *)",
        "rate(1 minute)",
        "rate(15 minutes)",
        "rate(1 hour)",
        "rate(12 hours)",
        "rate(1 day)",
        "rate(7 days)",
        "at(2030-01-31T09:00:00)",
    ],
)
def test_valid_schedule_expressions_are_accepted(expression):
    cfg = config_with(job(schedule=expression))
    assert cfg.scheduled_tasks[0].schedule == expression


def test_an_expression_is_stored_with_single_spaces_as_aws_shows_it_back():
    cfg = config_with(job(schedule="cron( 0  3 * *   ? * )"))
    assert cfg.scheduled_tasks[0].schedule == "cron(0 3 * * ? *)"


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("0 3 * * *", "expected cron(...), rate(...) or at(...)"),
        ("daily", "expected cron(...), rate(...) or at(...)"),
        ("cron(0 3 * * *)", "cron() takes 6 fields"),
        ("cron(0 3 * * *)", "`0 3 * * *` is cron(0 3 * * ? *)"),
        ("cron(0 3 * * ? * *)", "cron() takes 6 fields (minutes hours day-of-month month"),
        ("cron(0 3 * * * *)", "exactly one of day-of-month and day-of-week must be ?"),
        ("cron(0 3 ? * ? *)", "exactly one of day-of-month and day-of-week must be ?"),
        ("cron(0 3 1 * MON *)", "exactly one of day-of-month and day-of-week must be ?"),
        ("cron(60 3 * * ? *)", "minutes field '60' is not valid; it takes 0-59"),
        ("cron(0 24 * * ? *)", "hours field '24' is not valid; it takes 0-23"),
        ("cron(0 3 32 * ? *)", "day-of-month field '32' is not valid; it takes 1-31"),
        ("cron(0 3 0 * ? *)", "day-of-month field '0' is not valid"),
        ("cron(0 3 * 13 ? *)", "month field '13' is not valid; it takes 1-12 or JAN-DEC"),
        ("cron(0 3 * JANUARY ? *)", "month field 'JANUARY' is not valid"),
        ("cron(0 3 ? * 8 *)", "day-of-week field '8' is not valid; it takes 1-7 or SUN-SAT"),
        ("cron(0 3 ? * MON#6 *)", "day-of-week field 'MON#6' is not valid"),
        ("cron(0 3 * * ? 2200)", "year field '2200' is not valid; it takes 1970-2199"),
        ("cron(0 3 * * ? ?)", "year field '?' is not valid"),
        ("cron(0/0 3 * * ? *)", "minutes field '0/0' is not valid"),
        ("cron(0 L * * ? *)", "hours field 'L' is not valid"),
        ("rate(1 minutes)", "with a value of 1 the unit is singular: rate(1 minute)"),
        ("rate(5 hour)", "with a value above 1 the unit is plural: rate(5 hours)"),
        ("rate(0 minutes)", "rate()'s value must be at least 1"),
        ("rate(1 week)", "a unit of minute(s), hour(s) or day(s)"),
        ("rate(five minutes)", "a whole number and a unit"),
        ("at(2030-02-30T09:00:00)", "at() takes a valid date and time as yyyy-mm-ddThh:mm:ss"),
        ("at(2030-01-31 09:00)", "at() takes a valid date and time as yyyy-mm-ddThh:mm:ss"),
        ("rate(1 day)" + " " * 250, "expressions are at most 256 characters"),
    ],
)
def test_invalid_schedule_expressions_are_refused_with_what_is_allowed(expression, message):
    found = [p for p in problems_of(job(schedule=expression)) if message in p]
    assert found, (
        f"{expression!r}: no problem says {message!r}: {problems_of(job(schedule=expression))}"
    )
    assert found[0].startswith("scheduledTasks.job.schedule: "), found[0]
    assert repr(expression) in found[0], f"the problem does not show the value: {found[0]}"


def test_every_bad_cron_field_is_reported_at_once():
    found = problems_of(job(schedule="cron(61 25 * 13 MON ?)"))
    for field_name in ("minutes", "hours", "month", "year"):
        assert any(f"{field_name} field" in p for p in found), (field_name, found)
    assert any("exactly one of day-of-month and day-of-week" in p for p in found), found


@pytest.mark.parametrize("name", ["a", "nightly-report", "sync_2", "x" * 32])
def test_job_names_of_letters_digits_dash_and_underscore_up_to_32_are_accepted(name):
    cfg = config_with({name: job()["job"]})
    assert cfg.scheduled_tasks[0].name == name


@pytest.mark.parametrize("name", ["nightly report", "job.1", "jöb", "x" * 33, ""])
def test_other_job_names_are_refused(name):
    problem = only_problem({name: job()["job"]})
    assert problem.startswith(f"scheduledTasks.{name}: "), problem
    assert "job names are 1 to 32 letters, digits, - and _" in problem


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["python", "-m", "job"], ("python", "-m", "job")),
        ("python -m job --since '1 day'", ("python", "-m", "job", "--since", "1 day")),
        (["sh", "-c", "a | b"], ("sh", "-c", "a | b")),
        (["sleep", 60], ("sleep", "60")),
    ],
)
def test_a_command_is_a_list_or_a_string_split_into_words(command, expected):
    assert config_with(job(command=command)).scheduled_tasks[0].command == expected


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ([], "expected at least the program to run"),
        ("", "expected at least the program to run"),
        ("   ", "expected at least the program to run"),
        ([""], "expected at least the program to run"),
        ("python -m job --name 'unclosed", "could not be split into words (No closing quotation)"),
        ("python -m job | tee out", "no shell runs the command, so | would be passed"),
        ("migrate && report", 'for a pipeline use a list: ["sh", "-c", "a | b"]'),
        ({"program": "python"}, "expected a list of strings or a string"),
        (["python", ["-m"]], "expected a list of strings or a string"),
        ([True], "expected a list of strings or a string"),
        (5, "expected a list of strings or a string"),
    ],
)
def test_bad_commands_are_refused(command, message):
    problem = only_problem(job(command=command))
    assert problem.startswith("scheduledTasks.job.command: "), problem
    assert message in problem, problem


def test_size_defaults_to_the_services():
    cfg = config_with(job(), cpu=1024, memory=4096)
    assert (cfg.scheduled_tasks[0].cpu, cfg.scheduled_tasks[0].memory) == (1024, 4096)


def test_a_job_can_have_its_own_fargate_size():
    cfg = config_with(job(cpu="2048", memory=16384))
    assert (cfg.scheduled_tasks[0].cpu, cfg.scheduled_tasks[0].memory) == (2048, 16384)
    assert 16384 in FARGATE_MEMORY_BY_CPU[2048]


@pytest.mark.parametrize(
    ("fields", "settings", "key", "message"),
    [
        ({"cpu": 300}, {}, "cpu", "Fargate CPU units are 256, 512, 1024"),
        ({"cpu": "lots"}, {}, "cpu", "expected a whole number"),
        ({"cpu": 256, "memory": 4096}, {}, "memory", "with cpu 256 Fargate allows 512, 1024, 2048"),
        (
            {"memory": 8192},
            {},
            "memory",
            "with cpu 256 Fargate allows 512, 1024, 2048 MiB (cpu is the service's; set "
            "scheduledTasks.job.cpu to change it)",
        ),
        (
            {"cpu": 1024},
            {},
            "memory",
            "512 is not allowed; with cpu 1024 Fargate allows 2048 to 8192 in steps of 1024 MiB "
            "(the service's memory; set scheduledTasks.job.memory)",
        ),
        ({"memory": "1.5GB"}, {}, "memory", "expected a whole number"),
    ],
)
def test_bad_sizes_are_refused_with_fargates_pairings(fields, settings, key, message):
    problem = only_problem(job(**fields), **settings)
    assert problem.startswith(f"scheduledTasks.job.{key}: "), problem
    assert message in problem, problem


def test_a_job_is_not_blamed_for_the_services_bad_cpu():
    found = problems_of(job(), cpu=300)
    assert [p for p in found if p.startswith("cpu: ")], found
    assert not [p for p in found if p.startswith("scheduledTasks")], found


def test_timezone_and_enabled():
    cfg = config_with(job(timezone="America/New_York", enabled="false"))
    assert cfg.scheduled_tasks[0].timezone == "America/New_York"
    assert cfg.scheduled_tasks[0].enabled is False
    default = config_with(job()).scheduled_tasks[0]
    assert (default.timezone, default.enabled) == ("UTC", True)


@pytest.mark.parametrize(
    ("fields", "key", "message"),
    [
        ({"timezone": "Europe/Berln"}, "timezone", "did you mean Europe/Berlin?"),
        ({"timezone": "CEST+2"}, "timezone", "expected an IANA time zone such as UTC"),
        ({"timezone": ""}, "timezone", "expected an IANA time zone"),
        ({"timezone": 2}, "timezone", "expected an IANA time zone"),
        ({"enabled": "yes"}, "enabled", "expected true or false"),
    ],
)
def test_bad_timezone_or_enabled_is_refused(fields, key, message):
    problem = only_problem(job(**fields))
    assert problem.startswith(f"scheduledTasks.job.{key}: "), problem
    assert message in problem, problem


def test_unknown_fields_get_a_suggestion_like_unknown_settings():
    found = problems_of(job(comand="x", schedul="rate(1 day)", colour="red"))
    assert "scheduledTasks.job.comand: unknown field; did you mean `command`?" in found
    assert "scheduledTasks.job.schedul: unknown field; did you mean `schedule`?" in found
    assert (
        "scheduledTasks.job.colour: unknown field; fields are schedule, command, cpu, memory, "
        "timezone, enabled, mounts" in found
    )


def test_missing_schedule_and_command_say_how_to_set_them():
    found = problems_of({"job": {}})
    assert len(found) == 2, found
    assert found[0].startswith("scheduledTasks.job.schedule: not set; add one such as cron(")
    assert "pulumi config set --path 'scheduledTasks.job.schedule'" in found[0]
    assert found[1].startswith("scheduledTasks.job.command: not set;")
    assert "pulumi config set --path 'scheduledTasks.job.command'" in found[1]


def test_an_entry_that_is_not_a_map_is_refused():
    problem = only_problem({"job": "cron(0 3 * * ? *)"})
    assert problem.startswith("scheduledTasks.job: 'cron(0 3 * * ? *)' is not allowed; expected")


@pytest.mark.parametrize("raw", ["[1, 2]", "not json", ["a"]])
def test_scheduled_tasks_must_be_a_map(raw):
    problem = only_problem(raw)
    assert problem.startswith("scheduledTasks: "), problem
    assert "expected a map of job names to {schedule, command" in problem


def test_the_json_pulumi_hands_over_is_parsed():
    cfg = config_with(json.dumps(JOBS))
    assert [t.name for t in cfg.scheduled_tasks] == ["nightly-report", "hourly_sync"]
    nightly, hourly = cfg.scheduled_tasks
    assert nightly == ScheduledTask(
        name="nightly-report",
        schedule="cron(30 2 * * ? *)",
        command=("python", "-m", "webapp.report", "--since", "1d"),
        cpu=512,
        memory=1024,
        timezone="Europe/Berlin",
        enabled=True,
    )
    assert hourly.command == ("python", "-m", "webapp.sync", "--mode", "full sync")
    assert (hourly.cpu, hourly.memory, hourly.enabled) == (256, 512, False)


def test_every_problem_of_every_job_is_reported_together():
    found = problems_of(
        {
            "a": {"schedule": "cron(0 3 * * *)", "command": "x | y"},
            "b b": {"schedule": "rate(2 hour)", "command": [], "cpu": 3},
        }
    )
    keys = [p.split(":", 1)[0] for p in found]
    assert keys == [
        "scheduledTasks.a.schedule",
        "scheduledTasks.a.command",
        "scheduledTasks.b b",
        "scheduledTasks.b b.schedule",
        "scheduledTasks.b b.command",
        "scheduledTasks.b b.cpu",
    ], found


def test_no_jobs_by_default():
    cfg = load_config({"aws:region": REGION}, stack="test", project=PROJECT)
    assert cfg.scheduled_tasks == ()


def test_a_bad_job_creates_nothing():
    run = run_program("dev", {"job": {"schedule": "cron(0 3 * * *)", "command": "x"}})
    assert run.error is not None, "a bad scheduledTasks entry was accepted"
    assert "scheduledTasks.job.schedule" in str(run.error)
    assert not run.custom_resources, "resources were registered despite a config error"


def test_a_role_name_within_iam_s_limit_passes() -> None:
    fits = ScheduledTask(name="x" * 32, schedule="rate(1 day)", command=("true",))
    assert name_problems("jobs", (fits,)) == [], "a 32-character job name in 'jobs' fits IAM"


def test_every_name_aws_would_refuse_is_reported_together() -> None:
    """A role name past IAM's limit and a job named twice: both in one message, not one a run."""
    long = ScheduledTask(name="x" * 32, schedule="rate(1 day)", command=("a",))
    twice = ScheduledTask(name="a", schedule="rate(1 day)", command=("a",))
    problems = name_problems("c" * 30, (long, twice, twice))
    assert any("exceeds IAM's 64 characters" in p for p in problems), problems
    assert any("names are unique" in p for p in problems), problems


# --- the program under the mocks -----------------------------------------------------------------


def of_job(run: ProgramRun, type_token: str, job_name: str) -> RegisteredResource:
    found = [r for r in run.of_type(type_token) if r.name.startswith(f"jobs-{job_name}-")]
    assert len(found) == 1, f"expected one {type_token} for {job_name}, got {found}"
    return found[0]


def schedule_of(run: ProgramRun, job_name: str) -> RegisteredResource:
    return run.named(f"jobs-{job_name}-schedule")


def policy_json(resource: RegisteredResource, key: str = "policy") -> dict[str, Any]:
    return json.loads(resource.inputs[key])


def typed(run: ProgramRun, type_token: str, name: str) -> RegisteredResource:
    found = [r for r in run.of_type(type_token) if r.name == name]
    assert len(found) == 1, f"expected one {type_token} named {name}, got {len(found)}"
    return found[0]


def service_task_definition(run: ProgramRun) -> RegisteredResource:
    return typed(run, TASK_DEFINITION, "app-task")


def service_containers(run: ProgramRun) -> list[dict[str, Any]]:
    return json.loads(service_task_definition(run).inputs["containerDefinitions"])


def job_containers(run: ProgramRun, job_name: str) -> list[dict[str, Any]]:
    return json.loads(run.named(f"jobs-{job_name}-task").inputs["containerDefinitions"])


def test_no_jobs_no_scheduler_resources():
    run = ok(run_program("dev"))
    assert not run.of_type(COMPONENT)
    for token in (SCHEDULE, QUEUE, QUEUE_POLICY):
        assert not run.of_type(token), f"{token} created without scheduledTasks"
    assert "scheduledTasks" not in run.outputs
    assert not [a for a in run.of_type(ALARM) if a.name.endswith("-dead-letters")]


def test_one_schedule_per_job_with_its_expression_timezone_and_state(dev):
    schedules = dev.of_type(SCHEDULE)
    assert sorted(s.name for s in schedules) == [
        "jobs-hourly_sync-schedule",
        "jobs-nightly-report-schedule",
    ]
    nightly, hourly = schedule_of(dev, "nightly-report"), schedule_of(dev, "hourly_sync")
    assert nightly.inputs["scheduleExpression"] == "cron(30 2 * * ? *)"
    assert nightly.inputs["scheduleExpressionTimezone"] == "Europe/Berlin"
    assert nightly.inputs["state"] == "ENABLED"
    assert hourly.inputs["scheduleExpression"] == "rate(1 hour)"
    assert hourly.inputs["scheduleExpressionTimezone"] == "UTC"
    assert hourly.inputs["state"] == "DISABLED", f"{hourly.urn}: enabled false must pause it"
    for schedule in schedules:
        assert schedule.inputs["flexibleTimeWindow"] == {"mode": "OFF"}, schedule.urn
        assert schedule.inputs["groupName"] == "default", schedule.urn
        assert schedule.inputs["name"].startswith("fargate-app-dev-jobs-"), schedule.urn


def test_each_schedule_runs_its_own_task_definition_on_fargate_in_the_cluster(dev):
    cluster_arn = dev.one("aws:ecs/cluster:Cluster").outputs["arn"]
    for job_name in JOBS:
        target = schedule_of(dev, job_name).inputs["target"]
        ecs = target["ecsParameters"]
        assert target["arn"] == cluster_arn, f"{job_name}: the target is not the app's cluster"
        task_definition = dev.named(f"jobs-{job_name}-task")
        assert ecs["taskDefinitionArn"] == task_definition.outputs["arn"], job_name
        assert ecs["launchType"] == "FARGATE", job_name
        assert ecs["taskCount"] == 1, job_name
        assert ecs["propagateTags"] == "TASK_DEFINITION", job_name
        assert ecs["enableEcsManagedTags"] is True, job_name
        assert target["roleArn"] == of_job(dev, ROLE, job_name).outputs["arn"], job_name


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_jobs_run_in_exactly_the_services_network(stack, dev, prod):
    run = {"dev": dev, "prod": prod}[stack]
    service_network = run.one("aws:ecs/service:Service").inputs["networkConfiguration"]
    for job_name in JOBS:
        network = schedule_of(run, job_name).inputs["target"]["ecsParameters"][
            "networkConfiguration"
        ]
        assert network["subnets"] == service_network["subnets"], f"{stack}/{job_name}: subnets"
        assert network["securityGroups"] == service_network["securityGroups"], (
            f"{stack}/{job_name}: security group differs from the service's"
        )
        assert network["assignPublicIp"] == service_network["assignPublicIp"], (
            f"{stack}/{job_name}: public IP setting differs from the service's"
        )


def test_prod_jobs_get_no_public_ip_and_dev_jobs_do(dev, prod):
    assert all(
        s.inputs["target"]["ecsParameters"]["networkConfiguration"]["assignPublicIp"] is False
        for s in prod.of_type(SCHEDULE)
    ), "prod jobs run in private subnets and must not get a public IP"
    assert all(
        s.inputs["target"]["ecsParameters"]["networkConfiguration"]["assignPublicIp"] is True
        for s in dev.of_type(SCHEDULE)
    ), "dev jobs run in public subnets without NAT and need a public IP to pull the image"


def test_retries_are_bounded_and_failures_go_to_the_jobs_own_dead_letter_queue(dev):
    for job_name in JOBS:
        target = schedule_of(dev, job_name).inputs["target"]
        assert target["retryPolicy"] == {
            "maximumRetryAttempts": MAXIMUM_RETRY_ATTEMPTS,
            "maximumEventAgeInSeconds": MAXIMUM_EVENT_AGE_S,
        }, job_name
        queue = of_job(dev, QUEUE, job_name)
        assert target["deadLetterConfig"] == {"arn": queue.outputs["arn"]}, job_name


def test_dead_letter_queues_are_encrypted_standard_queues_kept_14_days(dev):
    queues = dev.of_type(QUEUE)
    assert len(queues) == len(JOBS)
    for queue in queues:
        assert queue.inputs["sqsManagedSseEnabled"] is True, f"{queue.urn}: not encrypted"
        assert queue.inputs["messageRetentionSeconds"] == DEAD_LETTER_RETENTION_S == 1209600
        assert not queue.inputs.get("fifoQueue"), f"{queue.urn}: Scheduler refuses FIFO DLQs"


def test_only_the_schedules_role_may_send_to_its_dead_letter_queue(dev):
    for job_name in JOBS:
        queue = of_job(dev, QUEUE, job_name)
        role_arn = of_job(dev, ROLE, job_name).outputs["arn"]
        policy = policy_json(dev.named(f"jobs-{job_name}-dlq-policy"))
        assert dev.named(f"jobs-{job_name}-dlq-policy").inputs["queueUrl"] == queue.outputs["url"]
        queue_arn = queue.outputs["arn"]
        assert all(s.get("Sid") for s in policy["Statement"]), "every statement says why"
        assert allowed(policy, "sqs:SendMessage", queue_arn, {"aws:PrincipalArn": role_arn})
        others = {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT_ID}:role/admin"}
        assert denied(policy, "sqs:SendMessage", queue_arn, others), "others can forge dead letters"
        insecure = {"aws:PrincipalArn": role_arn, "aws:SecureTransport": "false"}
        assert denied(policy, "sqs:SendMessage", queue_arn, insecure), "plain HTTP is allowed"


def test_the_schedules_role_trusts_only_scheduler_for_this_accounts_schedules(dev):
    for job_name in JOBS:
        role = of_job(dev, ROLE, job_name)
        statements = policy_json(role, "assumeRolePolicy")["Statement"]
        assert len(statements) == 1, role.urn
        (trust,) = statements
        assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}, role.urn
        assert trust["Action"] == "sts:AssumeRole"
        assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT_ID}
        assert trust["Condition"]["ArnEquals"] == {
            "aws:SourceArn": f"arn:aws:scheduler:{REGION}:{ACCOUNT_ID}:schedule-group/default"
        }


class Grants:
    """The ARNs a job's role policy is judged against."""

    def __init__(self, run: ProgramRun, job_name: str) -> None:
        self.policy = policy_json(of_job(run, ROLE_POLICY, job_name))
        role = of_job(run, ROLE, job_name)
        assert of_job(run, ROLE_POLICY, job_name).inputs["role"] == role.outputs["name"]
        self.cluster = run.one("aws:ecs/cluster:Cluster").outputs["arn"]
        self.family = run.named(f"jobs-{job_name}-task").outputs["arnWithoutRevision"]
        self.service_family = service_task_definition(run).outputs["arnWithoutRevision"]
        self.execution_role = typed(run, ROLE, "app-exec").outputs["arn"]
        self.task_role = typed(run, ROLE, "app-task").outputs["arn"]
        self.queue = of_job(run, QUEUE, job_name).outputs["arn"]
        self.role = role.outputs["arn"]


@pytest.fixture(scope="module")
def grants(dev) -> dict[str, Grants]:
    return {name: Grants(dev, name) for name in JOBS}


def test_every_statement_of_the_role_policy_has_a_sid(grants):
    for job_name, g in grants.items():
        for statement in g.policy["Statement"]:
            assert re.fullmatch(r"[A-Za-z0-9]+", statement.get("Sid", "")), (job_name, statement)
            assert statement["Effect"] == "Allow"
            assert statement["Resource"] != "*", f"{job_name}: {statement['Sid']} on every resource"


def test_the_role_may_run_only_its_jobs_task_definition_in_this_cluster(grants):
    g = grants["nightly-report"]
    in_cluster = {"ecs:cluster": g.cluster}
    assert allowed(g.policy, "ecs:RunTask", f"{g.family}:1", in_cluster)
    assert allowed(g.policy, "ecs:RunTask", f"{g.family}:42", in_cluster), "a later revision"
    other_cluster = {"ecs:cluster": g.cluster.replace("fargate-app-dev", "other")}
    assert denied(g.policy, "ecs:RunTask", f"{g.family}:1", other_cluster)
    assert denied(g.policy, "ecs:RunTask", f"{g.service_family}:1", in_cluster), "the service's"
    other_job = grants["hourly_sync"].family
    assert denied(g.policy, "ecs:RunTask", f"{other_job}:1", in_cluster), "another job's"
    assert denied(g.policy, "ecs:RunTask", f"{g.family}-evil:1", in_cluster), "a prefix match"


def test_the_role_may_pass_only_the_tasks_two_roles_and_only_to_ecs_tasks(grants):
    g = grants["nightly-report"]
    to_ecs = {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
    assert allowed(g.policy, "iam:PassRole", g.execution_role, to_ecs)
    assert allowed(g.policy, "iam:PassRole", g.task_role, to_ecs)
    assert denied(g.policy, "iam:PassRole", g.role, to_ecs), "its own role"
    admin = f"arn:aws:iam::{ACCOUNT_ID}:role/admin"
    assert denied(g.policy, "iam:PassRole", admin, to_ecs), "any other role"
    to_lambda = {"iam:PassedToService": "lambda.amazonaws.com"}
    assert denied(g.policy, "iam:PassRole", g.task_role, to_lambda), "to another service"
    (statement,) = [s for s in g.policy["Statement"] if s["Action"] == "iam:PassRole"]
    assert sorted(statement["Resource"]) == sorted([g.execution_role, g.task_role])


def test_the_role_may_tag_only_tasks_it_starts_and_write_only_to_its_queue(grants):
    g = grants["nightly-report"]
    task = g.cluster.replace(":cluster/", ":task/") + "/0123456789abcdef"
    assert allowed(g.policy, "ecs:TagResource", task, {"ecs:CreateAction": "RunTask"})
    assert denied(g.policy, "ecs:TagResource", task, {}), "retagging running tasks"
    service = g.cluster.replace(":cluster/", ":service/") + "/app"
    assert denied(g.policy, "ecs:TagResource", service, {"ecs:CreateAction": "RunTask"})
    assert allowed(g.policy, "sqs:SendMessage", g.queue, {})
    assert denied(g.policy, "sqs:SendMessage", grants["hourly_sync"].queue, {}), "another's DLQ"


def test_the_role_may_do_nothing_else(grants):
    for job_name, g in grants.items():
        actions = sorted(s["Action"] for s in g.policy["Statement"])
        assert actions == ["ecs:RunTask", "ecs:TagResource", "iam:PassRole", "sqs:SendMessage"], (
            job_name
        )


@pytest.mark.parametrize("variant", ["dev", "dev with secrets and exec"])
def test_each_job_runs_the_services_container_with_its_own_command_and_log_stream(
    variant, dev, dev_secrets_exec
):
    run = dev if variant == "dev" else dev_secrets_exec
    (service,) = service_containers(run)
    for job_name, spec in JOBS.items():
        (container,) = job_containers(run, job_name)
        expected_command = (
            spec["command"]
            if isinstance(spec["command"], list)
            else ["python", "-m", "webapp.sync", "--mode", "full sync"]
        )
        assert container["command"] == expected_command, job_name
        prefix = container["logConfiguration"]["options"]["awslogs-stream-prefix"]
        assert prefix == f"scheduled-{job_name}", job_name
        assert prefix != service["logConfiguration"]["options"]["awslogs-stream-prefix"]
        # Everything else (image, environment and secrets, log group, user, read-only root, exec
        # agent paths) is the service's: a job loads its settings exactly as the service does.
        same = {k: v for k, v in container.items() if k != "command"}
        same["logConfiguration"] = json.loads(json.dumps(same["logConfiguration"]))
        same["logConfiguration"]["options"]["awslogs-stream-prefix"] = service["logConfiguration"][
            "options"
        ]["awslogs-stream-prefix"]
        assert same == service, f"{job_name}: the job's container drifted from the service's"
        assert "command" not in service, "the service must keep the image's CMD"


def test_each_job_has_its_own_size_and_the_services_roles_and_platform(dev):
    service = service_task_definition(dev).inputs
    for job_name, size in {
        "nightly-report": ("512", "1024"),
        "hourly_sync": ("256", "512"),
    }.items():
        task = dev.named(f"jobs-{job_name}-task").inputs
        assert (task["cpu"], task["memory"]) == size, job_name
        for key in ("executionRoleArn", "taskRoleArn", "runtimePlatform", "volumes"):
            assert task[key] == service[key], f"{job_name}: {key} differs from the service's"
        assert task["networkMode"] == "awsvpc"
        assert task["requiresCompatibilities"] == ["FARGATE"]
        assert task["family"] == f"fargate-app-dev-jobs-{job_name}"


def test_arm64_stacks_run_jobs_on_arm64():
    run = ok(run_program("dev", JOBS, cpuArchitecture="ARM64", spot=False))
    for job_name in JOBS:
        platform = run.named(f"jobs-{job_name}-task").inputs["runtimePlatform"]
        assert platform["cpuArchitecture"] == "ARM64", job_name


def test_task_definitions_are_valid_register_task_definition_requests(dev):
    ecs = botocore.session.get_session().get_service_model("ecs")
    shape = ecs.operation_model("RegisterTaskDefinition").input_shape
    for job_name in JOBS:
        inputs = dev.named(f"jobs-{job_name}-task").inputs
        request = {
            "family": inputs["family"],
            "containerDefinitions": json.loads(inputs["containerDefinitions"]),
            "cpu": inputs["cpu"],
            "memory": inputs["memory"],
            "networkMode": inputs["networkMode"],
            "requiresCompatibilities": inputs["requiresCompatibilities"],
            "executionRoleArn": inputs["executionRoleArn"],
            "taskRoleArn": inputs["taskRoleArn"],
            "runtimePlatform": inputs["runtimePlatform"],
            "volumes": inputs["volumes"],
        }
        assert set(inputs) <= set(request), f"unmapped inputs: {set(inputs) - set(request)}"
        report = ParamValidator().validate(request, shape)
        assert not report.has_errors(), f"{job_name}: {report.generate_report()}"
        assert not strict_problems(request, shape), f"{job_name}: {strict_problems(request, shape)}"
        assert int(request["memory"]) in FARGATE_MEMORY_BY_CPU[int(request["cpu"])], job_name


def create_schedule_request(inputs: dict[str, Any]) -> dict[str, Any]:
    """The CreateSchedule request the provider sends for these Pulumi inputs.

    Field for field as terraform-provider-aws's scheduler expanders map them (the bridged provider
    runs that code): snake/camel-case names become the API's PascalCase, and the one change of
    shape is the network configuration, which the API nests under `awsvpcConfiguration` with
    `AssignPublicIp` as ENABLED/DISABLED instead of a boolean. Every input must be mapped, so a
    field added later cannot go unchecked.
    """
    target, used = inputs["target"], set()
    ecs = target["ecsParameters"]
    network = ecs["networkConfiguration"]
    request = {
        "Name": inputs["name"],
        "GroupName": inputs["groupName"],
        "Description": inputs["description"],
        "ScheduleExpression": inputs["scheduleExpression"],
        "ScheduleExpressionTimezone": inputs["scheduleExpressionTimezone"],
        "State": inputs["state"],
        "ActionAfterCompletion": inputs["actionAfterCompletion"],
        "FlexibleTimeWindow": {"Mode": inputs["flexibleTimeWindow"]["mode"]},
        "Target": {
            "Arn": target["arn"],
            "RoleArn": target["roleArn"],
            "DeadLetterConfig": {"Arn": target["deadLetterConfig"]["arn"]},
            "RetryPolicy": {
                "MaximumRetryAttempts": target["retryPolicy"]["maximumRetryAttempts"],
                "MaximumEventAgeInSeconds": target["retryPolicy"]["maximumEventAgeInSeconds"],
            },
            "EcsParameters": {
                "TaskDefinitionArn": ecs["taskDefinitionArn"],
                "TaskCount": ecs["taskCount"],
                "LaunchType": ecs["launchType"],
                "PropagateTags": ecs["propagateTags"],
                "EnableECSManagedTags": ecs["enableEcsManagedTags"],
                "EnableExecuteCommand": ecs["enableExecuteCommand"],
                "NetworkConfiguration": {
                    "awsvpcConfiguration": {
                        "Subnets": network["subnets"],
                        "SecurityGroups": network["securityGroups"],
                        "AssignPublicIp": "ENABLED" if network["assignPublicIp"] else "DISABLED",
                    }
                },
            },
        },
    }
    used = {
        "name", "groupName", "description", "scheduleExpression", "scheduleExpressionTimezone",
        "state", "actionAfterCompletion", "flexibleTimeWindow", "target",
    }  # fmt: skip
    assert set(inputs) == used, f"unmapped schedule inputs: {set(inputs) ^ used}"
    target_keys = {"arn", "roleArn", "deadLetterConfig", "retryPolicy", "ecsParameters"}
    assert set(target) == target_keys, f"unmapped target inputs: {set(target) ^ target_keys}"
    ecs_keys = {
        "taskDefinitionArn", "taskCount", "launchType", "propagateTags", "enableEcsManagedTags",
        "enableExecuteCommand", "networkConfiguration",
    }  # fmt: skip
    assert set(ecs) == ecs_keys, f"unmapped ecsParameters inputs: {set(ecs) ^ ecs_keys}"
    assert set(network) == {"subnets", "securityGroups", "assignPublicIp"}
    return request


def test_schedules_are_valid_create_schedule_requests(dev):
    scheduler = botocore.session.get_session().get_service_model("scheduler")
    shape = scheduler.operation_model("CreateSchedule").input_shape
    for job_name in JOBS:
        request = create_schedule_request(schedule_of(dev, job_name).inputs)
        report = ParamValidator().validate(request, shape)
        assert not report.has_errors(), f"{job_name}: {report.generate_report()}"
        problems = strict_problems(request, shape)
        assert not problems, f"{job_name}: {problems}"


def test_a_schedule_waits_for_its_permissions(dev):
    for job_name in JOBS:
        schedule = schedule_of(dev, job_name)
        for name in (f"jobs-{job_name}-policy", f"jobs-{job_name}-dlq-policy"):
            assert dev.named(name).urn in schedule.depends_on, (
                f"{schedule.urn} may fire before {name} exists"
            )


def test_every_job_resource_belongs_to_the_component_and_is_named_after_the_job(dev):
    (component,) = dev.of_type(COMPONENT)
    children = dev.children(component)
    assert len(children) == 7 * len(JOBS), [c.name for c in children]
    for job_name in JOBS:
        names = sorted(c.name for c in children if c.name.startswith(f"jobs-{job_name}-"))
        assert names == sorted(
            f"jobs-{job_name}-{suffix}"
            for suffix in (
                "task",
                "dlq",
                "role",
                "policy",
                "dlq-policy",
                "schedule",
                "dead-letters",
            )
        ), job_name


def test_adding_a_job_leaves_the_others_untouched(dev):
    alone = ok(run_program("dev", {"nightly-report": JOBS["nightly-report"]}))
    for resource in alone.resources:
        if resource.name.startswith("jobs-nightly-report-"):
            twin = dev.named(resource.name)
            assert twin.urn == resource.urn and twin.inputs == resource.inputs, resource.urn


def test_the_stack_exports_each_jobs_schedule_family_and_dead_letter_queue(dev):
    exported = dev.outputs["scheduledTasks"]
    assert set(exported) == set(JOBS)
    for job_name in JOBS:
        assert exported[job_name] == {
            "scheduleName": schedule_of(dev, job_name).inputs["name"],
            "taskFamily": f"fargate-app-dev-jobs-{job_name}",
            "deadLetterQueueUrl": of_job(dev, QUEUE, job_name).outputs["url"],
        }


def test_preview_plans_the_same_resources_with_known_schedules(dev, dev_preview):
    assert sorted(r.urn for r in dev_preview.resources) == sorted(r.urn for r in dev.resources)
    for job_name in JOBS:
        planned = schedule_of(dev_preview, job_name).inputs
        assert (
            planned["scheduleExpression"] == schedule_of(dev, job_name).inputs["scheduleExpression"]
        )
        assert planned["name"] == schedule_of(dev, job_name).inputs["name"]
        # ARNs AWS assigns are unknown until the resources exist.
        assert planned["target"]["roleArn"] == UNKNOWN


# --- a tiny IAM evaluator: enough of AWS's rules for these policies -------------------------------


def _condition_holds(operator: str, key: str, expected: Any, context: dict[str, str]) -> bool:
    values = expected if isinstance(expected, list) else [expected]
    actual = context.get(key)
    if operator in ("StringEquals", "ArnEquals"):
        return actual is not None and actual in values
    if operator == "ArnNotEquals":  # negated operators hold when the key is absent
        return actual is None or actual not in values
    if operator == "Bool":
        return actual is not None and actual in [str(v).lower() for v in values]
    raise AssertionError(f"the evaluator does not know the condition operator {operator}")


def _matches(statement: dict[str, Any], action: str, resource: str, context: dict[str, str]):
    actions = (
        statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
    )
    resources = statement["Resource"]
    resources = resources if isinstance(resources, list) else [resources]
    if not any(fnmatch.fnmatchcase(action, a) for a in actions):
        return False
    if not any(fnmatch.fnmatchcase(resource, r) for r in resources):
        return False
    return all(
        _condition_holds(op, key, expected, context)
        for op, pairs in statement.get("Condition", {}).items()
        for key, expected in pairs.items()
    )


def decision(policy: dict[str, Any], action: str, resource: str, context: dict[str, str]) -> str:
    matching = [s for s in policy["Statement"] if _matches(s, action, resource, context)]
    if any(s["Effect"] == "Deny" for s in matching):
        return "deny"
    return "allow" if matching else "implicit deny"


def allowed(policy: dict[str, Any], action: str, resource: str, context: dict[str, str]) -> bool:
    return decision(policy, action, resource, context) == "allow"


def denied(policy: dict[str, Any], action: str, resource: str, context: dict[str, str]) -> bool:
    return decision(policy, action, resource, context) != "allow"


# --- what botocore's validator leaves out: enums, patterns, maximums ------------------------------


def strict_problems(value: Any, shape: Shape, path: str = "") -> list[str]:
    """ParamValidator checks types, required members and minimums; this adds the service model's
    enums, patterns and maximums, which AWS enforces on the server."""
    out: list[str] = []
    meta = shape.metadata
    if shape.type_name == "structure":
        for key, member in shape.members.items():
            if key in value:
                out += strict_problems(value[key], member, f"{path}.{key}")
    elif shape.type_name == "list":
        if "max" in meta and len(value) > meta["max"]:
            out.append(f"{path}: {len(value)} items, at most {meta['max']}")
        for i, item in enumerate(value):
            out += strict_problems(item, shape.member, f"{path}[{i}]")
    elif shape.type_name == "string":
        if shape.enum and value not in shape.enum:
            out.append(f"{path}: {value!r} not one of {shape.enum}")
        if "max" in meta and len(value) > meta["max"]:
            out.append(f"{path}: {len(value)} characters, at most {meta['max']}")
        if "pattern" in meta and not re.fullmatch(meta["pattern"], value):
            out.append(f"{path}: {value!r} does not match {meta['pattern']}")
    elif shape.type_name in ("integer", "long") and "max" in meta and value > meta["max"]:
        out.append(f"{path}: {value} above {meta['max']}")
    return out


def test_jobs_share_the_services_secrets_and_exec_setting(dev, dev_secrets_exec):
    service = service_task_definition(dev_secrets_exec).inputs
    (service_container,) = service_containers(dev_secrets_exec)
    assert service_container["secrets"] == [{"name": "DATABASE_URL", "valueFrom": SECRET_ARN}]
    for job_name in JOBS:
        task = dev_secrets_exec.named(f"jobs-{job_name}-task").inputs
        (container,) = job_containers(dev_secrets_exec, job_name)
        assert container["secrets"] == service_container["secrets"], job_name
        assert task["volumes"] == service["volumes"], f"{job_name}: exec agent volumes missing"
        ecs = schedule_of(dev_secrets_exec, job_name).inputs["target"]["ecsParameters"]
        assert ecs["enableExecuteCommand"] is True, job_name
        off = schedule_of(dev, job_name).inputs["target"]["ecsParameters"]
        assert off["enableExecuteCommand"] is False, f"{job_name}: exec on without enableExec"


def test_a_dead_letter_alarms_the_stacks_topic_at_once(dev):
    topic = dev.one("aws:sns/topic:Topic").outputs["arn"]
    cloudwatch = botocore.session.get_session().get_service_model("cloudwatch")
    shape = cloudwatch.operation_model("PutMetricAlarm").input_shape
    for job_name in JOBS:
        alarm = dev.named(f"jobs-{job_name}-dead-letters")
        i = alarm.inputs
        queue = of_job(dev, QUEUE, job_name)
        assert (i["namespace"], i["metricName"]) == (
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
        )
        assert i["dimensions"] == {"QueueName": queue.outputs["name"]}, f"{alarm.urn}: wrong queue"
        assert (i["comparisonOperator"], i["threshold"]) == ("GreaterThanThreshold", 0), (
            f"{alarm.urn}: must fire on the first dead letter"
        )
        assert i["evaluationPeriods"] == 1
        assert i["treatMissingData"] == "notBreaching", f"{alarm.urn}: an idle queue is fine"
        assert i["alarmActions"] == i["okActions"] == [topic], f"{alarm.urn}: notifies nobody"
        assert i["name"] == f"fargate-app-dev-jobs-{job_name}-dead-letters"
        request = {
            "AlarmName": i["name"],
            "AlarmDescription": i["alarmDescription"],
            "Namespace": i["namespace"],
            "MetricName": i["metricName"],
            "Dimensions": [{"Name": k, "Value": v} for k, v in i["dimensions"].items()],
            "Statistic": i["statistic"],
            "Period": i["period"],
            "EvaluationPeriods": i["evaluationPeriods"],
            "Threshold": float(i["threshold"]),
            "ComparisonOperator": i["comparisonOperator"],
            "TreatMissingData": i["treatMissingData"],
            "AlarmActions": i["alarmActions"],
            "OKActions": i["okActions"],
        }
        report = ParamValidator().validate(request, shape)
        assert not report.has_errors(), f"{alarm.urn}: {report.generate_report()}"
        assert not strict_problems(request, shape), strict_problems(request, shape)
