"""Smoke-test each stack's image as its ECS task would run it: build, start, health check, stop.

    python -m tools.smoke                   # every committed stack
    python -m tools.smoke --stack dev       # one (repeat --stack for more)
    python -m tools.smoke -C path/to/project --timeout 90

For each stack, everything comes from the program itself, never written twice: the stack's config
through its own loader (stack_config), and the container as the task definition describes it
(components.task_definition.container_definitions: port, environment, user, read-only root, the
writable mounts, the privileged-port sysctl, the init process, the stop timeout). The tool then:

1. builds the stack's `build` (context and Dockerfile) for the stack's platform with Docker, as
   `pulumi up` does (an arm64 stack needs QEMU on an x86_64 machine);
2. runs it as the task would: the task's user, a read-only root file system, and each writable
   path mounted as ECS mounts it (a path the image declares a VOLUME starts as the image's copy,
   any other is empty and owned by root with mode 0755), the task's plain environment;
3. fails unless the health check path answers what the target group's matcher accepts within
   `--timeout` seconds, or the container exits first (its logs are printed);
4. checks the container's user can write each writable path (when the image has /bin/sh to try);
5. stops it as ECS does (SIGTERM, then SIGKILL after the stop timeout) and fails if it had to be
   killed.

The stack's `services` are tested alike, each as its own task definition runs it (its build, or
the main service's image; its port, health path, command, environment, user and file system); a
worker is skipped, as it listens on no port and takes its work from a queue this tool cannot
supply.

A service that deploys a prebuilt `image` has nothing to build, and one with secrets gets them from
AWS at start, which this tool cannot do: each says so and is skipped. Exit status 0 when every
stack passed or was skipped, 1 when one failed, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.service import HEALTH_CHECK_MATCHER, HEALTH_CHECK_TIMEOUT_S
from components.spec import MAIN_SERVICE, WORKER, ImageBuild
from components.task_definition import (
    AppContainer,
    ContainerLogging,
    container_definitions,
    writable_mounts,
)
from stack_config import ConfigError, StackConfig, load_config
from tools.mocks import config_for_runtime, config_secret_keys, load_stack_config
from tools.plan.model import PlanError, Project, find_project

# How long the app gets to answer its health path: the service ignores failing checks for its 30 s
# grace period; twice that leaves room for an arm64 image started under QEMU, several times slower.
START_TIMEOUT_S = 60
POLL_INTERVAL_S = 1  # between health requests: a healthy app is found within a second
SIGKILL_EXIT = 137  # 128 + 9: Docker's exit code for a container it had to kill
DOCKER_TIMEOUT_S = 60  # for each short docker command (inspect, exec, rm)
BUILD_TIMEOUT_S = 1800  # an emulated arm64 build of a large image can take many minutes
IMAGE_NAME = "fargate-app-smoke"
# A file each writable path must take: created and removed again by the container's own user.
WRITE_PROBE = 'f="$1/.fargate-app-smoke-$$" && : > "$f" && rm -f "$f"'


class SmokeError(Exception):
    """The stack's image failed the smoke test; the message says how."""


@dataclass(frozen=True, kw_only=True)
class Outcome:
    stack: str
    passed: bool
    skipped: str = ""  # why the stack was not run
    lines: list[str] = field(default_factory=list)


def matcher_accepts(matcher: str, status: int) -> bool:
    """Whether an ALB health check matcher ("200", "200,202", "200-299") accepts `status`."""
    for part in matcher.split(","):
        low, _, high = part.strip().partition("-")
        if int(low) <= status <= int(high or low):
            return True
    return False


def stack_config(project: Project, stack: str) -> StackConfig:
    """The stack's config as `pulumi up` hands it to the program, checked by its loader."""
    raw = load_stack_config(project.root, stack)
    return load_config(
        config_for_runtime(project.name, raw),
        stack=stack,
        project=project.name,
        secret_keys=config_secret_keys(project.name, raw),
        project_dir=project.root,
    )


def stack_builds(project: Project) -> dict[ImageBuild, list[str]]:
    """Each distinct build of the committed stacks, their services' included, with the stacks that
    build it (a stack that deploys a prebuilt image builds nothing)."""
    builds: dict[ImageBuild, list[str]] = {}
    for stack in project.committed_stacks():
        cfg = stack_config(project, stack)
        found = [cfg.build] if cfg.image is None else []
        found += [s.build for s in cfg.services if s.build is not None]
        for build in found:
            if stack not in builds.setdefault(build, []):
                builds[build].append(stack)
    return builds


@dataclass(frozen=True, kw_only=True)
class Target:
    """One container the stack runs that this tool can start: the main service's, or one of its
    `services` (web or internal), as its task definition has it."""

    service: str  # MAIN_SERVICE or the service's name
    build: ImageBuild
    port: int
    health_check_path: str
    env: Mapping[str, str]
    command: tuple[str, ...] = ()
    user: str | None
    read_only_root: bool
    writable_paths: tuple[str, ...]


def targets(cfg: StackConfig) -> list[tuple[str, Target | str]]:
    """Each of the stack's services by name, with what to run, or why it is skipped."""
    found: list[tuple[str, Target | str]] = []
    main_reason = skip_reason(cfg)
    found.append(
        (
            MAIN_SERVICE,
            main_reason
            or Target(
                service=MAIN_SERVICE,
                build=cfg.build,
                port=cfg.container_port,
                health_check_path=cfg.health_check_path,
                env=dict(cfg.env),
                user=cfg.container_user,
                read_only_root=cfg.read_only_root_filesystem,
                writable_paths=cfg.writable_paths,
            ),
        )
    )
    for s in cfg.services:
        reason = ""
        if s.kind == WORKER or s.port is None:
            reason = (
                "a worker listens on no port, so it has no health path to answer; it takes its "
                "work from its queue, which this test cannot supply"
            )
        elif s.image is not None:
            reason = f"it deploys the prebuilt image {s.image.uri}; there is nothing to build"
        elif s.build is None and cfg.image is not None:
            reason = f"it runs the main service's prebuilt image {cfg.image.uri}"
        elif s.secrets:
            reason = (
                f"its app gets the secrets {', '.join(sorted(s.secrets))} from AWS when it "
                "starts, which this test cannot supply"
            )
        found.append(
            (
                s.name,
                reason
                or Target(
                    service=s.name,
                    build=s.build or cfg.build,
                    port=s.port or cfg.container_port,
                    health_check_path=s.health_check_path,
                    env=dict(s.env),
                    command=s.command,
                    user=s.container_user,
                    read_only_root=s.read_only_root,
                    writable_paths=s.writable_paths,
                ),
            )
        )
    return found


def task_container(cfg: StackConfig, target: Target, image: str) -> dict[str, Any]:
    """The container definition exactly as the service's task definition has it."""
    container = AppContainer(
        image=image,
        command=target.command,
        port=target.port,
        health_check_path=target.health_check_path,
        env=dict(target.env),
        user=target.user,
        read_only_root=target.read_only_root,
        mounts=writable_mounts(target.writable_paths),
        cpu_architecture=cfg.cpu_architecture,
        enable_exec=cfg.enable_exec,
        logging=ContainerLogging(group="smoke", region=cfg.region),
    )
    [definition] = json.loads(container_definitions(container))
    return dict(definition)


def skip_reason(cfg: StackConfig) -> str:
    """Why the main service's image cannot be smoke-tested here (empty: it can)."""
    if cfg.image is not None:
        return f"it deploys the prebuilt image {cfg.image.uri}; there is nothing to build"
    secrets = sorted({*cfg.secrets, *cfg.secret_values})
    if secrets:
        return (
            f"its app gets the secrets {', '.join(secrets)} from AWS when it starts, which this "
            "test cannot supply"
        )
    return ""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_args(
    definition: dict[str, Any], *, name: str, platform: str, host_port: int, volumes: set[str]
) -> list[str]:
    """`docker run` arguments that start the container as ECS starts the task's."""
    port = definition["portMappings"][0]["containerPort"]
    args = ["run", "--detach", "--name", name, "--platform", platform]
    args += ["--publish", f"127.0.0.1:{host_port}:{port}"]
    if definition.get("user"):
        args += ["--user", definition["user"]]
    if definition.get("readonlyRootFilesystem"):
        args.append("--read-only")
    if definition.get("linuxParameters", {}).get("initProcessEnabled"):
        args.append("--init")
    for control in definition.get("systemControls", []):
        args += ["--sysctl", f"{control['namespace']}={control['value']}"]
    for mount in definition.get("mountPoints", []):
        path = mount["containerPath"]
        if path not in volumes:
            # Docker itself gives a VOLUME path the image's copy, as ECS does; any other path ECS
            # creates empty, owned by root with mode 0755.
            args += ["--mount", f"type=tmpfs,destination={path},tmpfs-mode=0755"]
    for variable in definition.get("environment", []):
        args += ["--env", f"{variable['name']}={variable['value']}"]
    args.append(definition["image"])
    args += definition.get("command", [])
    return args


class Docker:
    """The docker CLI; each call's output is returned, a failure raises SmokeError."""

    def __init__(self, binary: str, cwd: Path) -> None:
        self.binary, self.cwd = binary, cwd

    def __call__(
        self, *args: str, timeout: float = DOCKER_TIMEOUT_S, check: bool = True, show: bool = False
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [self.binary, *args],
            cwd=self.cwd,
            capture_output=not show,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and done.returncode != 0:
            raise SmokeError(
                f"`docker {' '.join(args[:2])} ...` failed ({done.returncode}):\n"
                f"{(done.stdout or '') + (done.stderr or '')}".rstrip()
            )
        return done


def build(docker: Docker, build: ImageBuild, platform: str, tag: str) -> None:
    """What pulumi-docker builds: the context with its Dockerfile, for the task's platform."""
    docker(
        "build",
        "--platform",
        platform,
        "--file",
        build.dockerfile,
        "--tag",
        tag,
        build.context,
        timeout=BUILD_TIMEOUT_S,
        show=True,
    )


def declared_volumes(docker: Docker, tag: str) -> set[str]:
    text = docker("image", "inspect", "--format", "{{json .Config.Volumes}}", tag).stdout.strip()
    return set(json.loads(text or "null") or {})


def health_status(url: str) -> int | None:
    """The status the health path answers, or None when nothing answers (yet)."""
    try:
        with urllib.request.urlopen(url, timeout=HEALTH_CHECK_TIMEOUT_S) as response:
            return int(response.status)
    except urllib.error.HTTPError as err:
        return int(err.code)
    except (OSError, ValueError):
        return None


def running(docker: Docker, name: str) -> bool:
    done = docker("inspect", "--format", "{{.State.Running}}", name, check=False)
    return done.stdout.strip() == "true"


def wait_healthy(
    docker: Docker, name: str, url: str, matcher: str, timeout_s: float, say: Callable[[str], None]
) -> None:
    started = time.monotonic()
    status: int | None = None
    while time.monotonic() - started < timeout_s:
        status = health_status(url)
        if status is not None and matcher_accepts(matcher, status):
            say(f"{url} answered {status} after {time.monotonic() - started:.1f} s")
            return
        if not running(docker, name):
            raise SmokeError("the container exited before its health path answered")
        time.sleep(POLL_INTERVAL_S)
    last = f"last answer {status}" if status is not None else "nothing answered"
    raise SmokeError(
        f"the health path did not answer what the target group accepts ({matcher}) within "
        f"{timeout_s:g} s ({last})"
    )


def check_writable(
    docker: Docker, name: str, definition: dict[str, Any], say: Callable[[str], None]
) -> None:
    paths = [m["containerPath"] for m in definition.get("mountPoints", []) if not m["readOnly"]]
    if not paths or not definition.get("readonlyRootFilesystem"):
        return
    if docker("exec", name, "sh", "-c", "true", check=False).returncode != 0:
        say("skipped the writable-path check: the image has no /bin/sh to run it")
        return
    user = definition.get("user") or "the image's user"
    for path in paths:
        if docker("exec", name, "sh", "-c", WRITE_PROBE, "sh", path, check=False).returncode:
            raise SmokeError(
                f"{user} cannot write {path} (writablePaths): declare it a VOLUME in the "
                "Dockerfile's final stage, owned by that user"
            )
    say(f"{user} can write {', '.join(paths)}")


def stop(docker: Docker, name: str, stop_timeout_s: int, say: Callable[[str], None]) -> None:
    started = time.monotonic()
    docker("stop", "--time", str(stop_timeout_s), name, timeout=stop_timeout_s + DOCKER_TIMEOUT_S)
    took = time.monotonic() - started
    code = docker("inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip()
    if code == str(SIGKILL_EXIT):
        raise SmokeError(
            f"it did not stop within the {stop_timeout_s} s stop timeout after SIGTERM and was "
            "killed, as ECS would kill it: handle SIGTERM (as PID 1 a process gets no default "
            "handler) and finish in time"
        )
    say(f"stopped {took:.1f} s after SIGTERM (exit code {code})")


def smoke_stack(
    docker: Docker,
    cfg: StackConfig,
    target: Target,
    *,
    built: dict[tuple[ImageBuild, str], str],
    timeout_s: float,
    say: Callable[[str], None],
) -> None:
    """Build (once per build and platform) and run one service's image; raises SmokeError."""
    key = (target.build, cfg.platform)
    if key not in built:
        tag = f"{IMAGE_NAME}:{cfg.stack}-{target.service}-{cfg.platform.rsplit('/', 1)[-1]}"
        say(f"building {target.build.context} ({target.build.dockerfile}) for {cfg.platform}")
        build(docker, target.build, cfg.platform, tag)
        built[key] = tag
    tag = built[key]
    definition = task_container(cfg, target, tag)
    name = f"{IMAGE_NAME}-{cfg.stack}-{target.service}-{os.getpid()}"
    host_port = free_port()
    args = run_args(
        definition,
        name=name,
        platform=cfg.platform,
        host_port=host_port,
        volumes=declared_volumes(docker, tag),
    )
    say(
        f"running as {definition.get('user') or 'the image user'}, read-only root "
        f"{'yes' if definition['readonlyRootFilesystem'] else 'no'}, port "
        f"{target.port}, health path {target.health_check_path}"
    )
    docker(*args)
    try:
        url = f"http://127.0.0.1:{host_port}{target.health_check_path}"
        wait_healthy(docker, name, url, HEALTH_CHECK_MATCHER, timeout_s, say)
        check_writable(docker, name, definition, say)
        stop(docker, name, int(definition["stopTimeout"]), say)
    except SmokeError:
        logs = docker("logs", name, check=False)
        say("container logs follow:\n" + (logs.stdout + logs.stderr).rstrip())
        raise
    finally:
        docker("rm", "--force", name, check=False)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.smoke", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--stack", action="append", help="a stack to test (default: every committed one)"
    )
    parser.add_argument("-C", "--cwd", type=Path, help="the project directory (default: here)")
    parser.add_argument(
        "--timeout", type=float, default=START_TIMEOUT_S,
        help=f"seconds the app has to answer its health path (default {START_TIMEOUT_S})",
    )  # fmt: skip
    args = parser.parse_args(argv)
    project = find_project(args.cwd)
    stacks = args.stack or project.committed_stacks()
    try:
        for stack in stacks:
            project.check_stack(stack)
    except PlanError as err:
        print(f"smoke: {err}", file=sys.stderr)
        return 2
    binary = shutil.which("docker")
    if binary is None:
        print("smoke: docker is not installed (or not on PATH)", file=sys.stderr)
        return 2
    annotate = os.environ.get("GITHUB_ACTIONS") == "true"
    docker = Docker(binary, project.root)
    built: dict[tuple[ImageBuild, str], str] = {}
    failed = []
    for stack in stacks:

        def say(line: str, stack: str = stack) -> None:
            print(f"{stack}: {line}", flush=True)

        try:
            cfg = stack_config(project, stack)
            for service, target in targets(cfg):
                # The main service's lines read as before; a service's name its service.
                label = "" if service == MAIN_SERVICE else f"service {service}: "

                def tell(line: str, label: str = label, say: Callable[[str], None] = say) -> None:
                    say(label + line)

                if isinstance(target, str):
                    tell(f"skipped: {target}")
                    continue
                try:
                    smoke_stack(docker, cfg, target, built=built, timeout_s=args.timeout, say=tell)
                except SmokeError as err:
                    raise SmokeError(f"{label}{err}") from err
                tell("passed")
        except (ConfigError, SmokeError, subprocess.TimeoutExpired) as err:
            failed.append(stack)
            say(f"FAILED: {err}")
            if annotate:
                print(f"::error::{stack}: {str(err).splitlines()[0]}", flush=True)
    if failed:
        print(f"smoke: failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
