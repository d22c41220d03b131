"""Task definition: the app's container, described by one value, and the Fargate task that runs it.

`AppContainer` says everything about the container (image, command, port, health check path,
environment, secrets, user, read-only root and its writable mounts, architecture, logging, ECS
Exec); `fargate_task_definition` turns it, a task size and the two roles into an ECS task
definition. The service (components.service) and each scheduled job (components.scheduled_tasks)
run the same value, so a job loads its settings exactly as the service does; neither component
imports the other.

Not a ComponentResource: each task definition stays a child of the component that runs it, under
its old logical name, so no deployed resource's URN changes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pulumi
import pulumi_aws as aws

from components.spec import (
    CONTAINER_NAME,
    DEFAULT_CONTAINER_PORT,
    DEFAULT_CONTAINER_USER,
    DEFAULT_CPU_ARCHITECTURE,
    DEFAULT_HEALTH_CHECK_PATH,
    DEFAULT_WRITABLE_PATHS,
    EXEC_AGENT_VOLUMES,
    GRACEFUL_TIMEOUT_ENV,
    HEALTH_CHECK_PATH_ENV,
    PORT_ENV,
    UNPRIVILEGED_PORT_START,
    TaskSize,
    architecture_issues,
    env_name_issues,
    health_check_path_issues,
    port_issues,
    user_problem,
    writable_volume_name,
)

LOG_STREAM_PREFIX = "app"  # the service's streams are app/app/<task-id>
PORT_NAME = "http"  # the container's port mapping, as Service Connect names it
# gunicorn's graceful_timeout (passed as GRACEFUL_TIMEOUT): in-flight requests get this long after
# SIGTERM, on top of the load balancer's drain.
APP_GRACEFUL_TIMEOUT_S = 10
# ECS sends SIGKILL this long after SIGTERM (default 30 s); above the app's own deadline so a clean
# shutdown is never cut short, and not much above so a stuck one does not hold up the deploy.
STOP_TIMEOUT_S = APP_GRACEFUL_TIMEOUT_S + 5
# The app image's numeric non-root user and group (app/Dockerfile: USER 10001:10001), the
# `containerUser` default. Stated in the task definition, so ECS, Security Hub (ECS.20) and the
# policy pack can see it is not root.
APP_USER = DEFAULT_CONTAINER_USER
# For a containerPort below spec.UNPRIVILEGED_PORT_START the task lowers Linux's privileged-port
# bound to that port in its own network namespace (a per-namespace sysctl; Fargate 1.4 takes net.*
# systemControls).
UNPRIVILEGED_PORT_SYSCTL = "net.ipv4.ip_unprivileged_port_start"
# Task volume names: RegisterTaskDefinition allows letters, digits, - and _, up to 255.
VOLUME_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
# The names linuxParameters.capabilities accepts (botocore's ECS model, KernelCapabilities).
LINUX_CAPABILITIES = (
    "ALL", "AUDIT_CONTROL", "AUDIT_WRITE", "BLOCK_SUSPEND", "CHOWN", "DAC_OVERRIDE",
    "DAC_READ_SEARCH", "FOWNER", "FSETID", "IPC_LOCK", "IPC_OWNER", "KILL", "LEASE",
    "LINUX_IMMUTABLE", "MAC_ADMIN", "MAC_OVERRIDE", "MKNOD", "NET_ADMIN", "NET_BIND_SERVICE",
    "NET_BROADCAST", "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_ADMIN", "SYS_BOOT",
    "SYS_CHROOT", "SYS_MODULE", "SYS_NICE", "SYS_PACCT", "SYS_PTRACE", "SYS_RAWIO", "SYS_RESOURCE",
    "SYS_TIME", "SYS_TTY_CONFIG", "SYSLOG", "WAKE_ALARM",
)  # fmt: skip
# Every capability removed: the app runs as a non-root user (which holds none anyway) and binds a
# low port through a sysctl, not NET_BIND_SERVICE; dropping them from the bounding set as well
# means no setuid binary in the image can gain one. ECS Exec's agent runs as root inside the
# container (ECS developer guide, "ECS Exec": "The SSM agent and its child processes run as root
# even when you specify a user ID"), so with exec on it and its shells are root without
# capabilities; AWS documents none that exec needs (aws/containers-roadmap#1360): docs/security.md.
DROP_ALL_CAPABILITIES = ("ALL",)


@dataclass(frozen=True, kw_only=True)
class EfsVolume:
    """A task volume that is an EFS file system, mounted through its access point, over TLS, with
    the task role's IAM identity (components.file_system).

    file_system_id: the file system (fs-...). Required.
    access_point_id: its access point (fsap-...), which fixes the user and directory. Required.
    """

    file_system_id: pulumi.Input[str]
    access_point_id: pulumi.Input[str]


@dataclass(frozen=True, kw_only=True)
class Mount:
    """A volume in the container's file system.

    volume: the task volume's name (letters, digits, - and _), unique in the task. Required.
    path: where the container sees it, an absolute path. Required.
    read_only: whether the container may only read it. Default False.
    efs: the file system the volume is. Default None: task storage with no source of its own,
        empty at start and gone with the task (scratch space).
    """

    volume: str
    path: str
    read_only: bool = False
    efs: EfsVolume | None = None


def writable_mounts(paths: tuple[str, ...]) -> tuple[Mount, ...]:
    """Task storage at each of `paths`: what a read-only root leaves writable (the `writablePaths`
    setting). ECS creates each mount owned by root with mode 0755 unless the image declares the
    path a VOLUME (components.spec, DEFAULT_WRITABLE_PATHS)."""
    return tuple(Mount(volume=writable_volume_name(p), path=p) for p in paths)


@dataclass(frozen=True, kw_only=True)
class ContainerLogging:
    """Where the container's output goes: CloudWatch Logs, through the awslogs driver.

    group: the log group. Default None: the log group of the service that runs the container;
        FargateService creates it and fills this in, and its `container` output is what the
        scheduled jobs run.
    region: the log group's region. Default None: the stack's.
    stream_prefix: streams are <prefix>/<container>/<task-id>. Default "app"; each scheduled job
        writes under its own.
    """

    group: pulumi.Input[str] | None = None
    region: str | None = None
    stream_prefix: str = LOG_STREAM_PREFIX


@dataclass(frozen=True, kw_only=True)
class TaskPlacement:
    """Where a service's tasks run and as whom: what a standalone task of the same app (a scheduled
    job) takes to reach what the service reaches. FargateService.task_placement gives it, so the
    program wires the service's placement and roles once.

    cluster_arn: the cluster. Required.
    subnet_ids: the subnets the tasks run in. Required.
    security_group_id: the tasks' security group. Required.
    assign_public_ip: give tasks a public IP; only for tasks in public subnets (no NAT). Default
        False.
    execution_role_arn, task_role_arn: the tasks' roles. Required.
    """

    cluster_arn: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    security_group_id: pulumi.Input[str]
    assign_public_ip: bool = False
    execution_role_arn: pulumi.Input[str]
    task_role_arn: pulumi.Input[str]


@dataclass(frozen=True, kw_only=True)
class AppContainer:
    """The app's container, as the service and the scheduled jobs run it.

    image: the image, by digest (components.image). Required.
    command: replaces the image's CMD; no shell runs it. Default (): the image's own, as the
        service runs it; a scheduled job sets its command.
    port: where the app listens; the target group forwards to it and the program passes it as
        PORT. Below 1024 the task lowers Linux's privileged-port bound for it, so the non-root app
        may bind it. Default 8000, the sample app's. None: it listens on none (a worker), so it
        gets no port mapping, PORT or HEALTH_CHECK_PATH.
    health_check_path: what the load balancer's health check requests, passed as
        HEALTH_CHECK_PATH. Default /health, the sample app's.
    env: extra environment variables (values may be outputs, such as a queue's URL). Default none.
        PORT, HEALTH_CHECK_PATH and GRACEFUL_TIMEOUT are the program's (spec.RESERVED_ENV).
    secrets: env var name -> Secrets Manager secret or SSM parameter ARN, injected by ECS when the
        task starts (never plain environment); the execution role must be allowed to read them.
        Default none.
    user: the container's numeric uid:gid, or None: the task definition names none and the image's
        own USER holds (which the policy pack cannot see; the config asks for its waiver). Default
        APP_USER, the sample image's non-root user.
    read_only_root: the root file system is read-only (Security Hub ECS.5). Default True.
    mounts: volumes in the container; with a read-only root, its only writable paths. Default
        /tmp, task storage (app/Dockerfile declares it a VOLUME; see `writable_mounts`).
    cpu_architecture: X86_64 or ARM64, matching the image. Default X86_64, the only one Fargate
        Spot runs.
    logging: where its output goes. Default CloudWatch Logs in the service's log group.
    enable_exec: ECS Exec into the container: an init process (AWS's recommendation, so sessions'
        child processes are reaped) and the SSM agent's writable paths; the task role must allow
        it (components.roles). Default False.
    dropped_capabilities: Linux capabilities removed from the container
        (linuxParameters.capabilities.drop). Default ALL (DROP_ALL_CAPABILITIES says why); the
        container adds none (the policy pack's ecs-no-added-capabilities).
    """

    image: pulumi.Input[str]
    command: tuple[str, ...] = ()
    port: int | None = DEFAULT_CONTAINER_PORT
    health_check_path: str = DEFAULT_HEALTH_CHECK_PATH
    env: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    secrets: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    user: str | None = APP_USER
    read_only_root: bool = True
    mounts: tuple[Mount, ...] = writable_mounts(DEFAULT_WRITABLE_PATHS)
    cpu_architecture: str = DEFAULT_CPU_ARCHITECTURE
    logging: ContainerLogging = field(default_factory=ContainerLogging)
    enable_exec: bool = False
    dropped_capabilities: tuple[str, ...] = DROP_ALL_CAPABILITIES

    @property
    def all_mounts(self) -> tuple[Mount, ...]:
        """`mounts`, and with exec the SSM agent's writable paths."""
        agent = tuple(Mount(volume=v, path=p) for v, p in EXEC_AGENT_VOLUMES.items())
        return (*self.mounts, *(agent if self.enable_exec else ()))

    def problems(self) -> list[str]:
        """What is wrong with these settings (empty when nothing is)."""
        found = []
        if self.command and not self.command[0]:
            found.append("command: the first word is the program to run and cannot be empty")
        if self.port is not None:
            found += [i.problem() for i in port_issues("port", self.port)]
        path = health_check_path_issues("health_check_path", self.health_check_path)
        found += [i.problem() for i in path]
        for what, names in (("env", self.env), ("secrets", self.secrets)):
            found += [i.problem() for name in names for i in env_name_issues(what, name)]
        found += [f"secrets {n!r}: also in env" for n in sorted(set(self.env) & set(self.secrets))]
        if user_problem(self.user):
            found.append(f"user {self.user!r}: {user_problem(self.user)}")
        arch = architecture_issues("cpu_architecture", self.cpu_architecture)
        found += [i.problem() for i in arch]
        volumes = [m.volume for m in self.all_mounts]
        found += [
            f"mounts: volume {v!r} is used twice"
            for v in sorted({v for v in volumes if volumes.count(v) > 1})
        ]
        paths = [m.path for m in self.all_mounts]
        found += [
            f"mounts: path {p!r} is mounted twice"
            for p in sorted({p for p in paths if paths.count(p) > 1})
        ]
        for mount in self.mounts:
            if not VOLUME_NAME.match(mount.volume):
                found.append(f"mounts: volume {mount.volume!r}: letters, digits, - and _")
            if not mount.path.startswith("/"):
                found.append(f"mounts: path {mount.path!r} is not absolute")
        if not self.logging.stream_prefix:
            found.append("logging.stream_prefix: Fargate's awslogs driver needs one")
        found += [
            f"dropped_capabilities {c!r}: not a Linux capability ECS knows "
            f"({', '.join(LINUX_CAPABILITIES)})"
            for c in self.dropped_capabilities
            if c not in LINUX_CAPABILITIES
        ]
        return found

    @property
    def linux_parameters(self) -> dict[str, Any]:
        """The container's linuxParameters: its dropped capabilities and, with exec, an init
        process. Empty when there is neither (ECS then stores none)."""
        linux: dict[str, Any] = {}
        if self.dropped_capabilities:
            linux["capabilities"] = {"drop": list(self.dropped_capabilities)}
        if self.enable_exec:
            linux["initProcessEnabled"] = True
        return linux


def container_definitions(container: AppContainer) -> str:
    """The task's single container, as ECS's RegisterTaskDefinition expects it (JSON), from a
    container whose image, secrets, log group and region are known (see `app_containers`).

    `privileged` is never set: Fargate rejects it (Security Hub ECS.4).
    """
    port = container.port
    environment = {
        **container.env,
        **(
            {PORT_ENV: str(port), HEALTH_CHECK_PATH_ENV: container.health_check_path}
            if port is not None
            else {}
        ),
        GRACEFUL_TIMEOUT_ENV: str(APP_GRACEFUL_TIMEOUT_S),
    }
    secrets = container.secrets
    return json.dumps(
        [
            {
                "name": CONTAINER_NAME,
                "image": container.image,
                "essential": True,
                **({"command": list(container.command)} if container.command else {}),
                # Named, with its protocol: Service Connect publishes a port by this name. A
                # worker listens on none (and an empty list would read as a change: AWS drops it).
                **(
                    {
                        "portMappings": [
                            {
                                "name": PORT_NAME,
                                "containerPort": port,
                                "hostPort": port,
                                "protocol": "tcp",
                                "appProtocol": "http",
                            }
                        ]
                    }
                    if port is not None
                    else {}
                ),
                "environment": [{"name": k, "value": v} for k, v in sorted(environment.items())],
                # Only when there are some: AWS drops an empty list, which would read as a change.
                **(
                    {"secrets": [{"name": k, "valueFrom": v} for k, v in sorted(secrets.items())]}
                    if secrets
                    else {}
                ),
                # No user: the image's own USER holds.
                **({"user": container.user} if container.user is not None else {}),
                **(
                    {
                        "systemControls": [
                            {"namespace": UNPRIVILEGED_PORT_SYSCTL, "value": str(port)}
                        ]
                    }
                    if port is not None and port < UNPRIVILEGED_PORT_START
                    else {}
                ),
                **(
                    {"linuxParameters": container.linux_parameters}
                    if container.linux_parameters
                    else {}
                ),
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {
                        "awslogs-group": container.logging.group,
                        "awslogs-region": container.logging.region,
                        "awslogs-stream-prefix": container.logging.stream_prefix,
                        # A slow CloudWatch never blocks the app's stdout (and so its requests).
                        "mode": "non-blocking",
                        "max-buffer-size": "25m",
                    },
                },
                "stopTimeout": STOP_TIMEOUT_S,
                "readonlyRootFilesystem": container.read_only_root,
                "mountPoints": [
                    {"sourceVolume": m.volume, "containerPath": m.path, "readOnly": m.read_only}
                    for m in container.all_mounts
                ],
            }
        ]
    )


def app_containers(container: AppContainer) -> pulumi.Output[str]:
    """`container_definitions` once the image, the log group, the environment and the secret
    ARNs are known."""
    return pulumi.Output.all(
        image=container.image,
        group=container.logging.group,
        env=pulumi.Output.from_input(dict(container.env)),
        secrets=pulumi.Output.from_input(dict(container.secrets)),
    ).apply(
        lambda known: container_definitions(
            replace(
                container,
                image=known["image"],
                env=known["env"],
                secrets=known["secrets"],
                logging=replace(container.logging, group=known["group"]),
            )
        )
    )


def task_volumes(container: AppContainer) -> list[aws.ecs.TaskDefinitionVolumeArgsDict]:
    """The task definition's volumes: one per mount, task storage or a file system (see `Mount`)."""
    return [task_volume(m) for m in container.all_mounts]


def task_volume(mount: Mount) -> aws.ecs.TaskDefinitionVolumeArgsDict:
    """One mount's volume. A file system is mounted through its access point (whose directory is
    the volume's root, so root_directory stays unset), encrypted in transit, as the task role."""
    if mount.efs is None:
        return {"name": mount.volume}
    return {
        "name": mount.volume,
        "efs_volume_configuration": {
            "file_system_id": mount.efs.file_system_id,
            "transit_encryption": "ENABLED",
            "authorization_config": {
                "access_point_id": mount.efs.access_point_id,
                "iam": "ENABLED",
            },
        },
    }


def fargate_task_definition(
    resource_name: str,
    *,
    family: str,
    size: TaskSize,
    container: AppContainer,
    execution_role_arn: pulumi.Input[str],
    task_role_arn: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> aws.ecs.TaskDefinition:
    """A Fargate task definition running `container` (awsvpc networking, its volumes): the
    service's, and each scheduled job's. The container's log group and region must be set."""
    if container.logging.group is None or container.logging.region is None:
        raise ValueError(
            f"{resource_name}: the container's log group and region must be known; "
            "FargateService fills them in"
        )
    return aws.ecs.TaskDefinition(
        resource_name,
        family=family,
        cpu=str(size.cpu),
        memory=str(size.memory),
        network_mode="awsvpc",
        requires_compatibilities=["FARGATE"],
        runtime_platform={
            "operating_system_family": "LINUX",
            "cpu_architecture": container.cpu_architecture,
        },
        execution_role_arn=execution_role_arn,
        task_role_arn=task_role_arn,
        volumes=task_volumes(container),
        container_definitions=app_containers(container),
        opts=opts,
    )
