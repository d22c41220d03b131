"""`python -m tools.ops` against moto's server: the CLI is driven as a user would drive it.

Each test gets a fresh moto account with the app's resources (tests/ops_fixtures.py). Where moto
does not model what ECS or ELB do (a container's exit code and stop reason, a task's progress
through PENDING, service events, target health), the fixtures set it on moto's own in-process
state and say so there.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.validate import ParamValidator

REPO_ROOT = Path(__file__).resolve().parents[1]
# `tools.ops` and `tests.ops_fixtures` import from the repository root, which a bare `pytest`
# does not put on sys.path (pytest's `pythonpath = ["."]` setting would).
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.ops_fixtures import (  # noqa: E402
    CLUSTER,
    LOG_GROUP,
    REGION,
    SERVICE,
    WORKER,
    WORKER_SERVICE,
    App,
    Outcome,
    Step,
    TaskScript,
    Worker,
    add_worker,
    create_app,
    ecs_model,
    exit_recent_task,
    fail_recent_task,
    fresh_account,
    make_healthy,
    moto_server,
    refuse_run_task,
    service_model,
    set_target_health,
    task_ip,
    task_model,
)
from tools.ops import errors  # noqa: E402
from tools.ops.cli import main  # noqa: E402
from tools.ops.console import Clock  # noqa: E402
from tools.pipes import EXIT_BROKEN_PIPE  # noqa: E402


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """One moto server for the session."""
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An empty moto account that boto3 reaches through AWS_ENDPOINT_URL, with fake credentials.

    The environment is set per test (monkeypatch), so no other test file sees it."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    # Never read the developer's own AWS config or credentials.
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with fresh_account(moto_endpoint):
        yield


@pytest.fixture
def app(aws: None) -> App:
    return create_app()


@pytest.fixture
def outputs(app: App, tmp_path: Path) -> str:
    return str(app.write_outputs(tmp_path))


def run_ops(argv: list[str], script: TaskScript | None = None) -> int:
    if script is None:
        return main(argv, clock=Clock(sleep=_no_sleep))
    return main(argv, clock=script.clock(), session_factory=script.session_factory)


def _no_sleep(seconds: float) -> None:
    raise AssertionError(f"status must not wait, but slept {seconds} s")


def states_shown(stderr: str) -> list[str]:
    """The task states from progress lines like `ops: task 1a2b3c4d PENDING (6s)`."""
    return re.findall(r"^ops: task \w+ ([A-Z]+) \(\d", stderr, flags=re.MULTILINE)


# --- run ------------------------------------------------------------------------------------


def test_run_streams_the_task_logs_and_exits_0(outputs: str, capsys: Any) -> None:
    script = TaskScript(
        [
            Step("PROVISIONING"),
            Step("PENDING"),
            Step("RUNNING", ("Running migrations", "Applying 0001_initial... OK")),
            Step("RUNNING", ("Applying 0002_orders... OK",)),
            Step("STOPPED", ("Done.",)),
        ]
    )

    code = run_ops(["run", "--outputs", outputs, "--", "python", "-m", "app.migrate"], script)

    out, err = capsys.readouterr()
    assert code == 0, f"a task whose container exits 0 must exit 0; stderr:\n{err}"
    assert out.splitlines() == [
        "Running migrations",
        "Applying 0001_initial... OK",
        "Applying 0002_orders... OK",
        "Done.",
    ], "every log line must be printed once, in order, on stdout"
    assert states_shown(err) == ["PROVISIONING", "PENDING", "RUNNING", "STOPPED"], (
        f"stderr must show each state change once:\n{err}"
    )
    assert "exited with code 0" in err


def test_run_sends_a_valid_request_for_the_service_s_task(app: App, outputs: str) -> None:
    script = TaskScript([Step("RUNNING"), Step("STOPPED")])

    run_ops(["run", "--outputs", outputs, "--", "sh", "-c", "echo $HOME"], script)

    (request,) = script.requests
    model = botocore.session.get_session().get_service_model("ecs").operation_model("RunTask")
    report = ParamValidator().validate(request, model.input_shape)
    assert not report.has_errors(), f"RunTask request is invalid:\n{report.generate_report()}"
    assert request["taskDefinition"] == app.task_definition_arn
    assert request["networkConfiguration"] == app.network_configuration, (
        "the task must run in the service's subnets and security groups"
    )
    assert request["capacityProviderStrategy"] == service_model().capacity_provider_strategy, (
        "the task must use the service's capacity provider strategy"
    )
    assert "launchType" not in request, "RunTask rejects a launch type next to a strategy"
    assert request["overrides"] == {
        "containerOverrides": [{"name": "app", "command": ["sh", "-c", "echo $HOME"]}]
    }
    assert request["startedBy"] == "tools.ops"
    task = task_model(script.task_arn or "")
    assert task.started_by == "tools.ops" and task.overrides == request["overrides"]


def test_run_exits_with_the_container_exit_code(outputs: str, capsys: Any) -> None:
    script = TaskScript(
        [
            Step("PENDING"),
            Step("RUNNING", ("migration 0003 failed: column exists",)),
            Step("STOPPED"),
        ],
        Outcome(exit_code=3),
    )

    code = run_ops(["run", "--outputs", outputs, "--", "python", "-m", "app.migrate"], script)

    out, err = capsys.readouterr()
    assert code == 3, f"the tool must exit with the container's code 3, got {code}:\n{err}"
    assert "migration 0003 failed: column exists" in out
    assert "exited with code 3 after 12s (Essential container in task exited)" in err


def test_run_of_a_task_that_cannot_pull_its_image_explains_why(outputs: str, capsys: Any) -> None:
    reason = (
        "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to"
        " resolve ref 123456789012.dkr.ecr.eu-west-1.amazonaws.com/fargate-app:abc123: not found"
    )
    script = TaskScript(
        [Step("PROVISIONING"), Step("PENDING"), Step("STOPPED")],
        Outcome(exit_code=None, stop_code="TaskFailedToStart", stopped_reason=reason),
    )

    code = run_ops(["run", "--outputs", outputs, "--", "true"], script)

    _, err = capsys.readouterr()
    assert code == errors.EXIT_DID_NOT_START, f"expected 125, got {code}:\n{err}"
    assert f"did not start: {reason}" in err, "the stopped reason must be shown as ECS gave it"
    assert "what to check: the image could not be pulled" in err
    assert "ecr:BatchGetImage" in err


@pytest.mark.parametrize(
    ("outcome", "reason", "hint"),
    [
        (
            Outcome(
                exit_code=None,
                container_reason="OutOfMemoryError: Container killed due to memory usage",
            ),
            "Essential container in task exited; container: OutOfMemoryError: Container killed",
            "what to check: the container used more memory than the task has",
        ),
        (
            Outcome(
                exit_code=None,
                stop_code="SpotInterruption",
                stopped_reason="Your Spot Task was interrupted.",
            ),
            "Your Spot Task was interrupted.",
            "what to check: FARGATE_SPOT capacity was reclaimed",
        ),
    ],
    ids=["out-of-memory", "spot-reclaimed"],
)
def test_run_of_a_task_killed_without_an_exit_code_exits_137(
    outputs: str, capsys: Any, outcome: Outcome, reason: str, hint: str
) -> None:
    # The exit code is left out as ECS leaves it out: set on moto's task by the fixtures.
    script = TaskScript(
        [Step("PENDING"), Step("RUNNING", ("Applying 0004_big_backfill...",)), Step("STOPPED")],
        outcome,
    )

    code = run_ops(["run", "--json", "--outputs", outputs, "--", "python", "-m", "migrate"], script)

    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert code == errors.EXIT_KILLED == 137, (
        f"a command that ran and was killed must exit 137, not 125 (never ran); got {code}:\n{err}"
    )
    assert "stopped without an exit code: " + reason in err, err
    assert hint in err
    assert doc["outcome"] == "no-exit-code" and doc["exitCode"] == 137
    assert doc["containerExitCode"] is None


def test_every_exit_code_is_documented() -> None:
    codes = {
        name: value
        for name, value in vars(errors).items()
        if name.startswith("EXIT_") and isinstance(value, int) and value != errors.EXIT_OK
    }
    page = (REPO_ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    section = page.split("\n## Exit codes\n", 1)[1].split("\n## ", 1)[0]
    table = {line.split("|")[1].strip() for line in section.splitlines() if line.startswith("| ")}
    for name, value in codes.items():
        assert str(value) in table, (
            f"the exit code table in docs/operations.md has no row for {value} ({name})"
        )
        assert re.search(rf"\b{value}\b", errors.EXIT_CODES_HELP), f"--help omits {value} ({name})"


def test_run_of_a_task_stuck_pending_stops_it(outputs: str, capsys: Any) -> None:
    script = TaskScript([Step("PROVISIONING"), Step("PENDING")])

    code = run_ops(["run", "--outputs", outputs, "--start-timeout", "60", "--", "true"], script)

    _, err = capsys.readouterr()
    assert code == errors.EXIT_DID_NOT_START, f"expected 125, got {code}:\n{err}"
    assert "was still PENDING after 1m00s (--start-timeout); stopped it" in err
    assert "what to check: the task never reached RUNNING" in err
    task = task_model(script.task_arn or "")
    assert task.desired_status == "STOPPED", "a task the tool gave up on must be stopped"
    assert task.stopped_reason.startswith("Stopped by tools.ops: not started after 1m00s")


def test_run_past_its_timeout_stops_the_task_and_exits_124(outputs: str, capsys: Any) -> None:
    script = TaskScript([Step("PENDING"), Step("RUNNING", ("working...",))])

    code = run_ops(["run", "--outputs", outputs, "--timeout", "30", "--", "sleep", "3600"], script)

    out, err = capsys.readouterr()
    assert code == errors.EXIT_TIMEOUT, f"expected 124, got {code}:\n{err}"
    assert out.splitlines() == ["working..."]
    assert "still RUNNING after 30s (--timeout); stopped it" in err
    assert task_model(script.task_arn or "").desired_status == "STOPPED"
    assert set(script.fake.sleeps) == {6.0}, "polls every POLL_INTERVAL_S, never for real"


def test_run_reports_run_task_failures(outputs: str, capsys: Any) -> None:
    script = TaskScript([Step("PENDING")])

    def refuse(parsed: dict[str, Any], **_: Any) -> None:
        # moto's RunTask never returns `failures`; rewrite its answer into one ECS gives when
        # Fargate has no capacity (botocore's documented after-call event).
        parsed["tasks"] = []
        parsed["failures"] = [
            {
                "arn": f"arn:aws:ecs:{REGION}:123456789012:cluster/{CLUSTER}",
                "reason": "Capacity is unavailable at this time. Please try again later.",
            }
        ]

    def session_factory(**kwargs: Any) -> boto3.Session:
        session = boto3.Session(**kwargs)
        session.events.register("after-call.ecs.RunTask", refuse)
        return session

    code = main(
        ["run", "--outputs", outputs, "--", "true"],
        clock=script.clock(),
        session_factory=session_factory,
    )

    _, err = capsys.readouterr()
    assert code == errors.EXIT_DID_NOT_START, f"expected 125, got {code}:\n{err}"
    assert "RunTask started no task: Capacity is unavailable at this time" in err
    assert "what to check: Fargate has no capacity" in err


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("iam:PassRole", "arn:aws:iam::123456789012:role/fargate-app-dev-task"),
        ("ecs:RunTask", "arn:aws:ecs:eu-west-1:123456789012:task-definition/fargate-app-dev:1"),
    ],
    ids=["no-pass-role", "no-run-task"],
)
def test_run_without_a_permission_names_it(
    outputs: str, capsys: Any, action: str, resource: str
) -> None:
    # ECS's wording for a caller whose policies do not allow the action.
    denied = (
        "User: arn:aws:sts::123456789012:assumed-role/developer/jane is not authorized to"
        f" perform: {action} on resource: {resource} because no identity-based policy allows"
        f" the {action} action"
    )
    script = TaskScript([Step("PENDING")])

    # moto's state set directly: its ECS backend refuses RunTask (see refuse_run_task).
    with refuse_run_task("AccessDeniedException", denied):
        code = run_ops(["run", "--outputs", outputs, "--", "python", "-m", "app.migrate"], script)

    out, err = capsys.readouterr()
    assert code == errors.EXIT_DID_NOT_START, f"expected 125 (never ran), got {code}:\n{err}"
    assert out == "", "no task ran, so there is no output"
    assert f"RunTask was refused: AccessDeniedException: {denied}" in err, err
    assert "what to check: a permission is missing: the message names the action" in err
    assert "RunTask also needs iam:PassRole on both roles" in err
    assert "Traceback" not in err
    assert script.task_arn is None and not ecs_model().tasks.get(CLUSTER), "no task was started"


def test_run_json_prints_one_document(outputs: str, capsys: Any) -> None:
    script = TaskScript([Step("RUNNING", ("hello",)), Step("STOPPED")], Outcome(exit_code=3))

    code = run_ops(["run", "--json", "--outputs", outputs, "--", "echo", "hello"], script)

    out, err = capsys.readouterr()
    doc = json.loads(out)  # stdout must hold the document and nothing else
    assert code == 3
    assert doc["outcome"] == "exited" and doc["exitCode"] == 3 and doc["containerExitCode"] == 3
    assert doc["argv"] == ["echo", "hello"]
    assert [line["message"] for line in doc["logs"]] == ["hello"]
    assert doc["logStream"] == f"app/app/{doc['taskId']}" and doc["logGroup"] == LOG_GROUP
    assert "hello" in err, "in --json mode the log lines still stream, on stderr"


# --- status ---------------------------------------------------------------------------------


def test_status_of_a_healthy_service(app: App, outputs: str, capsys: Any) -> None:
    make_healthy(app)

    code = run_ops(["status", "--outputs", outputs])

    out, err = capsys.readouterr()
    assert code == 0, f"a healthy service must exit 0:\n{out}\n{err}"
    assert out.startswith(f"Service {SERVICE} (cluster {CLUSTER}, {REGION}): HEALTHY\n")
    assert "problem:" not in out
    assert "Tasks: 2 desired, 2 running, 0 pending" in out
    assert f"PRIMARY  {app.task_definition_arn.rsplit('/', 1)[-1]}" in out
    assert "COMPLETED" in out and "has reached a steady state" in out
    for arn in app.running_task_arns:
        assert f"{task_ip(arn)}:8000  healthy" in out
    assert "ServiceSchedulerInitiated  app exit 0  Scaling activity initiated" in out
    assert out.count("GET /healthz 200") == 2, "the latest lines of both tasks' streams"


@pytest.mark.parametrize(
    ("breakage", "problem"),
    [
        ("rollout-failed", "rollout of fargate-app-dev:1 FAILED: ECS deployment circuit breaker"),
        ("rollout-stuck", "rollout of fargate-app-dev:1 still IN_PROGRESS after 45m"),
        ("tasks-missing", "1 of 2 desired tasks running (1 pending)"),
        ("target-unhealthy", "1 of 2 targets unhealthy in target group fargate-app-dev-tg:"),
        ("task-failed", "1 task(s) failed in the last 15m00s: "),
    ],
)
def test_status_of_an_unhealthy_service(
    app: App, outputs: str, capsys: Any, breakage: str, problem: str
) -> None:
    make_healthy(app)
    service = service_model()
    deployment = service.deployments[0]
    if breakage == "rollout-failed":
        deployment["rolloutState"] = "FAILED"
        deployment["rolloutStateReason"] = "ECS deployment circuit breaker: tasks failed to start."
    elif breakage == "rollout-stuck":
        deployment["rolloutState"] = "IN_PROGRESS"
        deployment["createdAt"] = datetime.now(UTC) - timedelta(minutes=45)
    elif breakage == "tasks-missing":
        service.running_count, service.pending_count = 1, 1
    elif breakage == "target-unhealthy":
        ip = task_ip(app.running_task_arns[0])
        set_target_health(
            app.target_group_arn,
            {ip: ("unhealthy", "Target.FailedHealthChecks", "Health checks failed with [502]")},
        )
    elif breakage == "task-failed":
        fail_recent_task(app)

    code = run_ops(["status", "--outputs", outputs])

    out, _ = capsys.readouterr()
    assert code == errors.EXIT_UNHEALTHY, f"{breakage}: expected exit 1, got {code}:\n{out}"
    assert "): NOT HEALTHY" in out.splitlines()[0]
    problems = [line for line in out.splitlines() if line.startswith("  problem: ")]
    assert len(problems) == 1 and problem in problems[0], (
        f"{breakage}: expected exactly the problem {problem!r}, got {problems}"
    )


def test_status_does_not_count_an_old_failure(app: App, outputs: str, capsys: Any) -> None:
    make_healthy(app)
    fail_recent_task(app, minutes_ago=40)

    code = run_ops(["status", "--outputs", outputs])

    out, _ = capsys.readouterr()
    assert code == 0, f"a failure older than the 15 min window is history, not a problem:\n{out}"
    assert "TaskFailedToStart" in out, "it is still listed among the stopped tasks"


def test_status_json_explains_a_failed_task(app: App, outputs: str, capsys: Any) -> None:
    make_healthy(app)
    failed = fail_recent_task(app)

    code = run_ops(["status", "--json", "--outputs", outputs, "--tasks", "1"])

    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert code == 1 and doc["healthy"] is False and err == ""
    assert doc["desiredCount"] == 2 and doc["runningCount"] == 2
    assert [d["rolloutState"] for d in doc["deployments"]] == ["COMPLETED"]
    assert {t["state"] for t in doc["targets"]} == {"healthy"}
    (stopped,) = doc["stoppedTasks"]
    assert stopped["taskId"] == failed.rsplit("/", 1)[-1] and stopped["failed"] is True
    assert stopped["stopCode"] == "TaskFailedToStart"
    assert stopped["containers"] == [{"name": "app", "exitCode": None, "reason": None}]
    assert stopped["hint"].startswith("the image could not be pulled")
    assert len(doc["events"]) == 2 and len(doc["logs"]) == 2


def test_status_says_what_to_read_when_the_app_container_exited(
    app: App, outputs: str, capsys: Any
) -> None:
    """EssentialContainerExited: the app stopped by itself; its exit code and last log lines
    say why, and status says to read them."""
    make_healthy(app)
    exited = exit_recent_task(app, exit_code=1)

    code = run_ops(["status", "--outputs", outputs])

    out, _ = capsys.readouterr()
    assert code == errors.EXIT_UNHEALTHY
    lines = out.splitlines()
    stopped = lines.index("Stopped tasks (newest first):")
    short_id = exited.rsplit("/", 1)[-1][:8]
    (row,) = [i for i, line in enumerate(lines) if i > stopped and line.startswith(f"  {short_id}")]
    assert "EssentialContainerExited" in lines[row] and "app exit 1" in lines[row], lines[row]
    hint = lines[row + 1]
    assert hint.strip().startswith("what to check:"), (
        f"no hint under the exited task:\n{lines[row]}\n{hint}"
    )
    assert "exit code" in hint and "log lines" in hint, (
        f"the hint does not say what to read: {hint}"
    )


def test_status_runs_as_a_module(app: App, outputs: str) -> None:
    make_healthy(app)

    done = subprocess.run(
        [sys.executable, "-m", "tools.ops", "status", "--json", "--outputs", outputs],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["healthy"] is True


def test_status_to_a_closed_pipe_exits_quietly(app: App, outputs: str) -> None:
    """`python -m tools.ops status | head`: the reader is gone before status prints; no
    traceback (Python's SIGPIPE recipe, exit 1)."""
    make_healthy(app)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tools.ops", "status", "--outputs", outputs],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    proc.stdout.close()  # as `head` does once it has its lines
    _, err = proc.communicate(timeout=60)
    assert "Traceback" not in err and "BrokenPipeError" not in err, (
        f"a closed pipe printed an error:\n{err}"
    )
    assert proc.returncode == EXIT_BROKEN_PIPE, f"exit status {proc.returncode}"


# --- errors speak to the user ---------------------------------------------------------------


def one_error_line(capsys: Any) -> str:
    out, err = capsys.readouterr()
    assert out == "", "nothing may reach stdout on an error"
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ops: error: "), f"expected one line:\n{err}"
    return lines[0]


@pytest.mark.parametrize("command", [["status"], ["run", "--", "true"]])
def test_unknown_cluster(app: App, tmp_path: Path, capsys: Any, command: list[str]) -> None:
    outputs = app.write_outputs(tmp_path, clusterName="no-such-cluster")

    code = run_ops([command[0], "--outputs", str(outputs), *command[1:]])

    assert code == errors.EXIT_USAGE
    assert "ECS cluster 'no-such-cluster' not found in eu-west-1" in one_error_line(capsys)


def test_unknown_service(app: App, tmp_path: Path, capsys: Any) -> None:
    outputs = app.write_outputs(tmp_path, serviceName="no-such-service")

    code = run_ops(["status", "--outputs", str(outputs)])

    assert code == errors.EXIT_USAGE
    assert "ECS service 'no-such-service' not found in cluster" in one_error_line(capsys)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"clusterName": "c",', "is not valid JSON (line 1, column 21"),
        ('["c"]', "expected a JSON object of stack outputs"),
        ('{"url": 3}', "missing clusterName; missing serviceName; url must be a non-empty string"),
    ],
)
def test_bad_outputs_file(
    aws: None, tmp_path: Path, capsys: Any, content: str, message: str
) -> None:
    path = tmp_path / "outputs.json"
    path.write_text(content, encoding="utf-8")

    code = run_ops(["status", "--outputs", str(path)])

    assert code == errors.EXIT_USAGE
    assert message in one_error_line(capsys)


def test_missing_credentials(outputs: str, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")

    code = run_ops(["status", "--outputs", outputs])

    assert code == errors.EXIT_USAGE
    assert "no AWS credentials found" in one_error_line(capsys)


def test_missing_region(outputs: str, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION")

    code = run_ops(["status", "--outputs", outputs])

    assert code == errors.EXIT_USAGE
    assert "no AWS region configured: set AWS_REGION" in one_error_line(capsys)


def test_without_pulumi_suggests_outputs(
    aws: None, tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))

    code = run_ops(["status", "--stack", "dev"])

    assert code == errors.EXIT_USAGE
    line = one_error_line(capsys)
    assert "pulumi CLI is not installed" in line and "--outputs FILE" in line


def test_region_flag_overrides_the_environment(outputs: str, capsys: Any) -> None:
    code = run_ops(["status", "--outputs", outputs, "--region", "us-east-1"])

    assert code == errors.EXIT_USAGE
    assert f"ECS cluster '{CLUSTER}' not found in us-east-1" in one_error_line(capsys)


def test_outputs_come_from_pulumi_for_the_given_stack(
    app: App, tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_healthy(app)
    # A stand-in `pulumi` on PATH that records its arguments and prints the stack's outputs.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (tmp_path / "outputs.json").write_text(json.dumps(app.outputs), encoding="utf-8")
    pulumi = bin_dir / "pulumi"
    pulumi.write_text(
        f'#!/bin/sh\necho "$@" > {tmp_path}/args\ncat {tmp_path}/outputs.json\n', encoding="utf-8"
    )
    pulumi.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")

    code = run_ops(["status", "--stack", "dev", "--json"])

    assert code == 0, capsys.readouterr().err
    args = (tmp_path / "args").read_text().split()
    assert args == ["stack", "output", "--json", "--stack", "dev"]
    assert json.loads(capsys.readouterr().out)["service"] == SERVICE


# --- another of the stack's services (--service NAME) ---------------------------------------------


@pytest.fixture
def worker(app: App) -> Worker:
    return add_worker(app)


@pytest.fixture
def services_outputs(app: App, worker: Worker, tmp_path: Path) -> str:
    return str(app.write_outputs(tmp_path, services={WORKER: worker.output}))


def test_run_with_service_runs_that_services_task(
    app: App, worker: Worker, services_outputs: str
) -> None:
    script = TaskScript([Step("RUNNING"), Step("STOPPED")])

    code = run_ops(
        ["run", "--outputs", services_outputs, "--service", WORKER, "--", "python", "-m", "drain"],
        script,
    )

    assert code == 0
    (request,) = script.requests
    model = botocore.session.get_session().get_service_model("ecs").operation_model("RunTask")
    report = ParamValidator().validate(request, model.input_shape)
    assert not report.has_errors(), f"RunTask request is invalid:\n{report.generate_report()}"
    assert request["taskDefinition"] == worker.task_definition_arn, "not the worker's task"
    assert request["networkConfiguration"] == worker.network_configuration(app), (
        "the task must run in the worker's subnets and security groups"
    )
    assert request["overrides"]["containerOverrides"][0]["command"] == ["python", "-m", "drain"]


def test_status_with_service_reports_that_service(
    worker: Worker, services_outputs: str, capsys: Any
) -> None:
    code = run_ops(["status", "--outputs", services_outputs, "--service", WORKER])

    out, err = capsys.readouterr()
    assert out.startswith(f"Service {WORKER_SERVICE} (cluster {CLUSTER}, {REGION}): "), out
    assert "the service has no load balancer target group" in out, out
    assert "the service is scaled to zero tasks" in out, out
    assert code == 0, f"a worker scaled to zero with nothing failing is healthy:\n{out}\n{err}"


def test_service_app_is_the_main_service(services_outputs: str, capsys: Any) -> None:
    run_ops(["status", "--outputs", services_outputs, "--service", "app"])

    out, _ = capsys.readouterr()
    assert out.startswith(f"Service {SERVICE} "), out


def test_an_unknown_service_names_the_known_ones(services_outputs: str, capsys: Any) -> None:
    code = run_ops(["status", "--outputs", services_outputs, "--service", "nope"])

    assert code == errors.EXIT_USAGE
    line = one_error_line(capsys)
    assert "no service 'nope'" in line and f"app, {WORKER}" in line, line
