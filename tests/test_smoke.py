"""The smoke test of each stack's image (tools/smoke.py), run against a fake `docker` on PATH.

What a user relies on: CI builds exactly what the stack builds, for its platform, and runs it as
the task would (the task definition's user, read-only root, writable paths mounted as ECS mounts
them, port, plain environment); it fails unless the health path answers what the target group
accepts within the bound, when the container exits, when its user cannot write a writable path,
and when it must be killed to stop; it says what it skips and why; and it always removes its
container. The fake docker (tests/fixtures/fake_docker.py) records every call and serves HTTP on
the published port, as the app would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.service import HEALTH_CHECK_MATCHER
from components.spec import ImageBuild
from tools import smoke
from tools.mocks import ProgramRun
from tools.plan.model import Project
from tools.smoke import stack_builds

ROOT = Path(__file__).resolve().parent.parent
FAKE_DOCKER = ROOT / "tests" / "fixtures" / "fake_docker.py"
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"


class Fake:
    """The fake docker's calls and the paths its "container" was asked for."""

    def __init__(self, tmp_path: Path) -> None:
        self.state = tmp_path / "docker-state"
        self.state.mkdir()
        self.log = tmp_path / "docker-calls.jsonl"

    def calls(self, command: str | None = None) -> list[list[str]]:
        if not self.log.exists():
            return []
        found = [json.loads(line) for line in self.log.read_text().splitlines()]
        return [c for c in found if command is None or c[0] == command]

    def requested(self) -> list[str]:
        return [p for f in self.state.glob("*.requests") for p in f.read_text().splitlines()]


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Fake:
    """A `docker` on PATH that is the fake; the health poll sped up."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE_DOCKER}" "$@"\n')
    docker.chmod(0o755)
    found = Fake(tmp_path)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_DOCKER_LOG", str(found.log))
    monkeypatch.setenv("FAKE_DOCKER_STATE", str(found.state))
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.setattr(smoke, "POLL_INTERVAL_S", 0.05)
    return found


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """This project's program and app, with stack files of the test's own."""
    copy = tmp_path / "project"
    copy.mkdir()
    for entry in ("__main__.py", "Pulumi.yaml", "components", "stack_config", "app"):
        (copy / entry).symlink_to(ROOT / entry)
    return copy


def stack_file(project: Path, stack: str, **settings: Any) -> None:
    lines = ["config:", "  aws:region: us-east-1"]
    lines += [f"  fargate-app:{key}: {json.dumps(value)}" for key, value in settings.items()]
    (project / f"Pulumi.{stack}.yaml").write_text("\n".join(lines) + "\n")


def run_smoke(*args: str) -> tuple[int, str]:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = smoke.main(list(args))
    return code, out.getvalue()


def env_of(run_args: list[str]) -> dict[str, str]:
    pairs = [run_args[i + 1] for i, a in enumerate(run_args) if a == "--env"]
    return dict(p.split("=", 1) for p in pairs)


def task_container(run: ProgramRun) -> dict[str, Any]:
    [definition] = [
        r for r in run.of_type("aws:ecs/taskDefinition:TaskDefinition") if r.name == "app-task"
    ]
    [container] = json.loads(definition.inputs["containerDefinitions"])
    return dict(container)


# --- a stack that passes --------------------------------------------------------------------------


def test_the_dev_image_is_built_and_run_as_its_task_runs_it(fake: Fake, dev: ProgramRun) -> None:
    code, out = run_smoke("-C", str(ROOT), "--stack", "dev")
    assert code == 0, out
    task = task_container(dev)

    [build] = fake.calls("build")
    assert build[build.index("--platform") + 1] == "linux/amd64"
    assert build[build.index("--file") + 1] == "app/Dockerfile" and build[-1] == "app"
    [run] = fake.calls("run")
    assert run[run.index("--user") + 1] == task["user"] and "--read-only" in run
    port = task["portMappings"][0]["containerPort"]
    assert run[run.index("--publish") + 1].endswith(f":{port}")
    assert env_of(run) == {e["name"]: e["value"] for e in task["environment"]}, (
        "the container gets exactly the task definition's plain environment"
    )
    assert "--mount" not in run, "/tmp is the image's VOLUME: Docker mounts it as ECS does"
    [target_group] = [
        r for r in dev.of_type("aws:lb/targetGroup:TargetGroup") if r.name == "app-tg"
    ]
    health_path = target_group.inputs["healthCheck"]["path"]
    assert fake.requested() and set(fake.requested()) == {health_path}
    [stop] = fake.calls("stop")
    assert stop[stop.index("--time") + 1] == str(task["stopTimeout"])
    assert fake.calls("rm"), "the container is removed"
    assert "dev: passed" in out


def test_the_port_health_path_and_user_are_the_stack_s(fake: Fake, project: Path) -> None:
    stack_file(
        project, "byo", containerPort=8080, healthCheckPath="/healthz", containerUser="1000:1000"
    )
    code, out = run_smoke("-C", str(project), "--stack", "byo")
    assert code == 0, out
    [run] = fake.calls("run")
    assert run[run.index("--publish") + 1].endswith(":8080")
    assert env_of(run)["PORT"] == "8080" and env_of(run)["HEALTH_CHECK_PATH"] == "/healthz"
    assert run[run.index("--user") + 1] == "1000:1000"
    assert set(fake.requested()) == {"/healthz"}


def test_a_writable_path_the_image_does_not_declare_is_mounted_as_ecs_mounts_it(
    fake: Fake, project: Path
) -> None:
    stack_file(project, "paths", writablePaths=["/tmp", "/var/cache/app"])
    code, out = run_smoke("-C", str(project), "--stack", "paths")
    assert code == 0, out
    [run] = fake.calls("run")
    mounts = [run[i + 1] for i, a in enumerate(run) if a == "--mount"]
    assert mounts == ["type=tmpfs,destination=/var/cache/app,tmpfs-mode=0755"], (
        "ECS creates a path the image does not declare empty, owned by root with mode 0755"
    )
    probes = [c for c in fake.calls("exec") if c[-1] in ("/tmp", "/var/cache/app")]
    assert {c[-1] for c in probes} == {"/tmp", "/var/cache/app"}, "each path is written"


def test_the_image_s_own_user_and_a_writable_root_are_run_as_such(
    fake: Fake, project: Path
) -> None:
    stack_file(
        project,
        "vendor",
        containerUser="image",
        readOnlyRootFilesystem=False,
        policyWaivers={
            "ecs-container-non-root-user": "the vendor image runs as root",
            "ecs-container-read-only-root": "the vendor image writes its root",
        },
    )
    code, out = run_smoke("-C", str(project), "--stack", "vendor")
    assert code == 0, out
    [run] = fake.calls("run")
    assert "--user" not in run and "--read-only" not in run and "--mount" not in run


def test_a_privileged_port_and_exec_start_as_the_task_does(fake: Fake, project: Path) -> None:
    stack_file(project, "low", containerPort=80, enableExec=True)
    code, out = run_smoke("-C", str(project), "--stack", "low")
    assert code == 0, out
    [run] = fake.calls("run")
    assert run[run.index("--sysctl") + 1] == "net.ipv4.ip_unprivileged_port_start=80"
    assert "--init" in run, "exec gives the task an init process"


def test_stacks_sharing_a_build_and_platform_build_it_once(fake: Fake) -> None:
    code, out = run_smoke("-C", str(ROOT), "--stack", "dev", "--stack", "prod")
    assert code == 0, out
    assert len(fake.calls("build")) == 1 and len(fake.calls("run")) == 2


@pytest.mark.parametrize(
    ("arch", "platform"), [("ARM64", "linux/arm64"), ("X86_64", "linux/amd64")]
)
def test_each_stack_is_built_for_the_platform_it_deploys(
    fake: Fake, project: Path, arch: str, platform: str
) -> None:
    stack_file(project, "arch", cpuArchitecture=arch)
    code, out = run_smoke("-C", str(project), "--stack", "arch")
    assert code == 0, out
    [build] = fake.calls("build")
    [run] = fake.calls("run")
    assert build[build.index("--platform") + 1] == platform
    assert run[run.index("--platform") + 1] == platform


# --- a stack that fails ---------------------------------------------------------------------------


def test_a_health_path_answering_what_the_matcher_refuses_fails_within_the_bound(
    fake: Fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_HEALTH_STATUS", "503")
    code, out = run_smoke("-C", str(ROOT), "--stack", "dev", "--timeout", "0.5")
    assert code == 1, out
    assert f"what the target group accepts ({HEALTH_CHECK_MATCHER})" in out
    assert "last answer 503" in out and "fake app: boom" in out, "the logs are printed"
    assert fake.calls("rm"), "a failed container is removed too"


def test_a_container_that_exits_fails_at_once_with_its_logs(
    fake: Fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_EXITS", "1")
    code, out = run_smoke("-C", str(ROOT), "--stack", "dev", "--timeout", "30")
    assert code == 1, out
    assert "exited before its health path answered" in out and "fake app: boom" in out
    assert len(fake.calls("inspect")) == 1, "it stops polling once the container is gone"


def test_a_path_the_user_cannot_write_fails(fake: Fake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_UNWRITABLE", "/tmp")
    code, out = run_smoke("-C", str(ROOT), "--stack", "dev")
    assert code == 1, out
    assert "10001:10001 cannot write /tmp" in out and "VOLUME" in out


def test_an_image_without_a_shell_skips_only_the_write_check(
    fake: Fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_NO_SHELL", "1")
    code, out = run_smoke("-C", str(ROOT), "--stack", "dev")
    assert code == 0, out
    assert "skipped the writable-path check: the image has no /bin/sh" in out


def test_an_app_killed_at_the_stop_timeout_fails(
    fake: Fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_EXIT_CODE", "137")
    code, out = run_smoke("-C", str(ROOT), "--stack", "dev")
    assert code == 1, out
    assert "did not stop within the 15 s stop timeout after SIGTERM" in out


def test_a_failed_build_fails_the_stack(fake: Fake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_BUILD_FAILS", "1")
    code, out = run_smoke("-C", str(ROOT), "--stack", "dev")
    assert code == 1 and "dev: FAILED" in out and not fake.calls("run"), out


def test_failures_are_annotated_on_github(fake: Fake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_EXITS", "1")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    _, out = run_smoke("-C", str(ROOT), "--stack", "dev")
    assert "::error::dev: the container exited" in out


# --- what it skips --------------------------------------------------------------------------------


def test_a_prebuilt_image_is_skipped_and_says_so(fake: Fake, project: Path) -> None:
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/web@sha256:" + "a" * 64
    stack_file(project, "prebuilt", image=image)
    code, out = run_smoke("-C", str(project), "--stack", "prebuilt")
    assert code == 0, out
    assert f"prebuilt: skipped: it deploys the prebuilt image {image}" in out
    assert fake.calls() == [], "nothing is built or run"


def test_a_stack_with_secrets_is_skipped_naming_them(fake: Fake, project: Path) -> None:
    stack_file(project, "secret", secrets={"DB_URL": SECRET_ARN})
    code, out = run_smoke("-C", str(project), "--stack", "secret")
    assert code == 0, out
    assert "secret: skipped: its app gets the secrets DB_URL from AWS" in out
    assert fake.calls() == []


def test_an_unknown_stack_is_a_usage_error(fake: Fake) -> None:
    code, out = run_smoke("-C", str(ROOT), "--stack", "nosuch")
    assert code == 2 and "no stack 'nosuch'" in out


def test_a_stack_whose_config_is_refused_fails(fake: Fake, project: Path) -> None:
    stack_file(project, "bad", containerUser="0:0")
    code, out = run_smoke("-C", str(project), "--stack", "bad")
    assert code == 1 and "ecs-container-non-root-user" in out and fake.calls() == [], out


# --- the pieces -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("matcher", "status", "accepted"),
    [
        ("200", 200, True),
        ("200", 204, False),
        ("200-299", 204, True),
        ("200-299", 301, False),
        ("200,202", 202, True),
        ("200,202", 201, False),
    ],
)
def test_the_matcher_is_read_as_the_alb_reads_it(matcher: str, status: int, accepted: bool) -> None:
    assert smoke.matcher_accepts(matcher, status) is accepted


def test_the_workflow_s_command_runs_the_tool(fake: Fake) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tools.smoke", "--stack", "dev"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "dev: passed" in done.stdout


def test_a_service_s_own_build_is_one_of_the_stack_s_builds(tmp_path: Path) -> None:
    """hadolint and the app-tests check read stack_builds: a service's build is checked too."""
    (tmp_path / "Pulumi.yaml").write_text("name: fargate-app\nruntime: python\n")
    for context in ("app", "search"):
        (tmp_path / context).mkdir()
        (tmp_path / context / "Dockerfile").write_text("FROM scratch\n")
    service = {"type": "internal", "containerPort": 8080, "build": {"context": "search"}}
    config = {"aws:region": "eu-west-1", "fargate-app:services": {"search": service}}
    (tmp_path / "Pulumi.dev.yaml").write_text(yaml.safe_dump({"config": config}))
    builds = stack_builds(Project.at(tmp_path))
    assert builds == {
        ImageBuild(context="app", dockerfile="app/Dockerfile"): ["dev"],
        ImageBuild(context="search", dockerfile="search/Dockerfile"): ["dev"],
    }, builds


# --- the stack's other services -------------------------------------------------------------------


def with_services(project: Path, services: dict[str, Any], **settings: Any) -> None:
    """A stack `several` whose service api builds from api/ (the sample app's Dockerfile)."""
    (project / "api").mkdir()
    (project / "api" / "Dockerfile").write_text((ROOT / "app" / "Dockerfile").read_text())
    stack_file(project, "several", services=services, **settings)


def runs_by_name(fake: Fake) -> dict[str, list[str]]:
    return {run[run.index("--name") + 1]: run for run in fake.calls("run")}


def test_each_service_is_built_and_run_as_its_own_task_runs_it(fake: Fake, project: Path) -> None:
    api = {
        "type": "web",
        "path": ["/api/*"],
        "containerPort": 9000,
        "healthCheckPath": "/api/health",
        "build": {"context": "api"},
        "containerUser": "2000:2000",
        "writablePaths": ["/tmp", "/var/cache/api"],
        "command": ["python", "-m", "api"],
        "env": {"MODE": "api"},
    }
    search = {"type": "internal", "containerPort": 8080}
    with_services(project, {"api": api, "search": search})
    code, out = run_smoke("-C", str(project), "--stack", "several")
    assert code == 0, out
    builds = {(b[b.index("--file") + 1], b[-1]) for b in fake.calls("build")}
    assert builds == {("app/Dockerfile", "app"), ("api/Dockerfile", "api")}, builds
    runs = runs_by_name(fake)
    assert len(runs) == 3, f"the main service, api and search each run once: {list(runs)}"
    [run] = [r for n, r in runs.items() if "-api-" in n]
    assert run[run.index("--publish") + 1].endswith(":9000")
    assert run[run.index("--user") + 1] == "2000:2000" and "--read-only" in run
    assert env_of(run)["MODE"] == "api" and env_of(run)["PORT"] == "9000"
    assert run[-3:] == ["python", "-m", "api"], "the service's command replaces the image's"
    mounts = [run[i + 1] for i, a in enumerate(run) if a == "--mount"]
    assert mounts == ["type=tmpfs,destination=/var/cache/api,tmpfs-mode=0755"], mounts
    [search_run] = [r for n, r in runs.items() if "-search-" in n]
    assert search_run[search_run.index("--publish") + 1].endswith(":8080")
    assert "/api/health" in fake.requested()
    assert "several: service api: passed" in out and "several: service search: passed" in out


def test_a_worker_is_skipped_saying_why(fake: Fake, project: Path) -> None:
    with_services(project, {"mailer": {"type": "worker"}})
    code, out = run_smoke("-C", str(project), "--stack", "several")
    assert code == 0, out
    assert "several: service mailer: skipped: a worker listens on no port" in out, out
    assert len(fake.calls("run")) == 1, "only the main service runs"


def test_a_service_with_secrets_is_skipped_naming_them(fake: Fake, project: Path) -> None:
    service = {"type": "internal", "containerPort": 8080, "secrets": {"DB_URL": SECRET_ARN}}
    with_services(project, {"search": service})
    code, out = run_smoke("-C", str(project), "--stack", "several")
    assert code == 0, out
    assert "service search: skipped: its app gets the secrets DB_URL from AWS" in out, out


def test_a_failing_service_fails_the_stack_naming_it(
    fake: Fake, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = {"type": "internal", "containerPort": 8080, "writablePaths": ["/tmp", "/srv/data"]}
    with_services(project, {"search": service})
    monkeypatch.setenv("FAKE_UNWRITABLE", "/srv/data")  # only the service writes there
    code, out = run_smoke("-C", str(project), "--stack", "several")
    assert code == 1, out
    assert "several: passed" in out, "the main service passed"
    assert "several: FAILED: service search: " in out and "/srv/data" in out, out
