"""ECS controls: tasks without public IPs, containers that are unprivileged (no privileged mode, no
added Linux capability), read-only, non-root, logged and free of plaintext secrets and
credentials, and clusters with Container Insights."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from pulumi_policy import ResourceValidationArgs, Severity

from .environment import everywhere, prod_mandatory_else_advisory, prod_only
from .props import TASK_DEFINITION, as_list, container_definitions, container_label, get, truthy

Report = Callable[..., None]

SERVICE_TYPES = frozenset({"aws:ecs/service:Service", "aws:ecs/taskSet:TaskSet"})
CLUSTER = "aws:ecs/cluster:Cluster"

# ECS.8: names that say "this is a secret" (matched anywhere in the name, case-insensitively)...
SECRET_NAME_PARTS = ("PASSWORD", "PASSWD", "SECRET", "TOKEN", "KEY", "CREDENTIAL")
# ...or as whole words of it (split at _), too short to look for inside others: DB_PASS, DB_PWD,
# AWS_CREDS, but not PASSTHROUGH or COMPASS...
SECRET_NAME_WORDS = ("PASS", "PWD", "CREDS")
# ...and names Security Hub's ECS.8 checks that hold no such word (the ECS agent's registry
# credentials).
SECRET_NAMES = ("ECS_ENGINE_AUTH_DATA",)
# ...and values shaped like AWS credentials: an access key ID (AKIA long-term, ASIA temporary) or a
# 40-character secret access key. The latter needs both letter cases and a digit, so that a
# 40-character hex digest (a git SHA, say) is not taken for one.
AWS_ACCESS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b")
AWS_SECRET_KEY = re.compile(r"^(?=.*[a-z])(?=.*[A-Z])(?=.*\d)[A-Za-z0-9/+]{40}$")
# ...and values that carry a password whatever the variable is called: a URL with one in its
# user info (postgres://app:s3cret@db/app, redis://:s3cret@cache, and postgresql://u:pa/ss@db with
# an unencoded /, which libpq and most drivers accept) or a connection string's password field
# (Server=db;User Id=app;Password=s3cret). What follows the first : is a port, not a password,
# when it is digits up to a /, ? or # or the end (https://host:8443/users/@me).
URL_WITH_PASSWORD = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:(?![0-9]+(?:[/?#]|$))[^\s@]+@")
PASSWORD_FIELD = re.compile(r"(?:^|[;&?\s])(?:password|passwd|pwd)\s*=\s*[^;&\s]", re.IGNORECASE)
CONTAINER_INSIGHTS_ON = ("enabled", "enhanced")
# The one Linux capability Fargate lets a container add (ECS developer guide, task definition
# parameters, `linuxParameters.capabilities`); every other add is rejected at registration.
FARGATE_ADDABLE_CAPABILITIES = ("SYS_PTRACE",)
ROOT_USERS = ("root", "0")


def _containers(args: ResourceValidationArgs) -> list[tuple[str, Mapping[str, Any]]]:
    if args.resource_type != TASK_DEFINITION:
        return []
    return [(container_label(c, i), c) for i, c in enumerate(container_definitions(args.props))]


# -- ECS.2 / ECS.16 -------------------------------------------------------------------------------
def no_public_ip(args: ResourceValidationArgs, report_violation: Report) -> None:
    if args.resource_type not in SERVICE_TYPES:
        return
    if truthy(get(args.props, "networkConfiguration", "assignPublicIp")):
        kind = "service" if args.resource_type.endswith("Service") else "task set"
        report_violation(
            f"This ECS {kind} gives its tasks public IP addresses (networkConfiguration."
            "assignPublicIp is true). Run production tasks in private subnets with a NAT "
            "gateway or VPC endpoints (`pulumi config set natGateways perAz`)."
        )


# -- ECS.4 ----------------------------------------------------------------------------------------
def not_privileged(args: ResourceValidationArgs, report_violation: Report) -> None:
    for label, container in _containers(args):
        if truthy(container.get("privileged")):
            report_violation(
                f"{label} runs privileged (root on the host). Remove `privileged`; Fargate "
                "does not need it."
            )


# -- added Linux capabilities (no Security Hub control) -------------------------------------------
def no_added_capabilities(args: ResourceValidationArgs, report_violation: Report) -> None:
    for label, container in _containers(args):
        added = get(container, "linuxParameters", "capabilities", "add", default=[])
        for capability in as_list(added):
            name = str(capability).upper().removeprefix("CAP_")
            why = (
                "it lets the container trace and inspect every process it can see"
                if name in FARGATE_ADDABLE_CAPABILITIES
                else "Fargate rejects it anyway (it admits only "
                + ", ".join(FARGATE_ADDABLE_CAPABILITIES)
                + ")"
            )
            report_violation(
                f"{label} adds the Linux capability {name}: {why}. Remove it from "
                "linuxParameters.capabilities.add and drop ALL instead."
            )


# -- ECS.5 ----------------------------------------------------------------------------------------
def read_only_root(args: ResourceValidationArgs, report_violation: Report) -> None:
    for label, container in _containers(args):
        if not truthy(container.get("readonlyRootFilesystem")):
            report_violation(
                f"{label} can write to its root filesystem. Set readonlyRootFilesystem: true and "
                "mount a volume where the app must write (/tmp)."
            )


# -- ECS.8 ----------------------------------------------------------------------------------------
def secret_like_name(name: str) -> str | None:
    """Why `name` reads as a secret's, or None."""
    upper = name.upper()
    if upper in SECRET_NAMES:
        return "a name Security Hub's ECS.8 checks"
    part = next((p for p in SECRET_NAME_PARTS if p in upper), None)
    word = next((w for w in SECRET_NAME_WORDS if w in upper.split("_")), None)
    found = part or word
    return f"a name containing {found}" if found else None


def aws_credential_like(value: str) -> bool:
    return bool(AWS_ACCESS_KEY_ID.search(value) or AWS_SECRET_KEY.match(value.strip()))


def embedded_password(value: str) -> str | None:
    """Where `value` carries a password (a URL's user info, a connection string's field), or
    None."""
    if URL_WITH_PASSWORD.search(value):
        return "a URL with a password in it"
    if PASSWORD_FIELD.search(value):
        return "a connection string with a password field"
    return None


def no_secrets_in_environment(args: ResourceValidationArgs, report_violation: Report) -> None:
    for label, container in _containers(args):
        for variable in container.get("environment") or []:
            if not isinstance(variable, Mapping):
                continue
            name = str(variable.get("name") or "")
            value = str(variable.get("value") or "")
            why = secret_like_name(name)
            if why:
                report_violation(
                    f"{label} gets {name} ({why}) as a plain environment "
                    "variable, readable by anyone who can describe the task definition. Pass it "
                    "through `secrets` instead "
                    f"(`pulumi config set --path 'secrets.{name}' <ARN>`)."
                )
            elif aws_credential_like(value):
                report_violation(
                    f"{label} gets {name} with a value that looks like an AWS access key. Never "
                    "put credentials in a task definition; give the task role the permissions."
                )
            elif (carrier := embedded_password(value)) is not None:
                report_violation(
                    f"{label} gets {name} as {carrier}, readable by anyone who can describe "
                    "the task definition. Keep the whole value in Secrets Manager and pass it "
                    f"through `secrets` (`pulumi config set --secret --path 'secretValues.{name}' "
                    "...`)."
                )
        for where, value in _other_texts(container):
            if aws_credential_like(value):
                carrier = "a value that looks like an AWS access key"
            else:
                carrier = embedded_password(value)
            if carrier is not None:
                report_violation(
                    f"{label} has {carrier} in its {where}, readable by anyone who can describe "
                    "the task definition. Read it from an environment variable passed through "
                    "`secrets` instead."
                )


def _other_texts(container: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(where, text) of what else a task definition shows in plain text: each word of the command
    and the entry point, and each Docker label's value."""
    found = [
        (key, str(word))
        for key in ("command", "entryPoint")
        for word in as_list(container.get(key))
        if word is not None
    ]
    labels = container.get("dockerLabels")
    if isinstance(labels, Mapping):
        found += [(f"dockerLabels.{k}", str(v)) for k, v in labels.items() if v is not None]
    return found


# -- ECS.9 ----------------------------------------------------------------------------------------
def logging_configured(args: ResourceValidationArgs, report_violation: Report) -> None:
    for label, container in _containers(args):
        log_config = container.get("logConfiguration")
        if not isinstance(log_config, Mapping) or not log_config.get("logDriver"):
            report_violation(
                f"{label} has no logConfiguration with a logDriver: its output is lost. "
                "Use the awslogs driver with a CloudWatch log group."
            )


# -- ECS.20 ---------------------------------------------------------------------------------------
def runs_as_root(user: str) -> bool:
    """`user` is "user", "uid", "user:group" or "uid:gid"; root is the user root or uid 0."""
    return user.split(":", 1)[0].strip() in ROOT_USERS


def non_root_user(args: ResourceValidationArgs, report_violation: Report) -> None:
    os_family = get(args.props, "runtimePlatform", "operatingSystemFamily", default="LINUX")
    if not str(os_family).startswith("LINUX"):
        return  # Windows containers have no `user` (their own control is ECS.21)
    for label, container in _containers(args):
        user = str(container.get("user") or "").strip()
        if not user:
            report_violation(
                f"{label} sets no `user`, so it runs as whatever the image says, root by default. "
                "Set `user` to the image's non-root uid:gid."
            )
        elif runs_as_root(user):
            report_violation(f"{label} runs as root (user {user!r}). Use a non-root uid:gid.")


# -- ECS.12 ---------------------------------------------------------------------------------------
def container_insights(args: ResourceValidationArgs, report_violation: Report) -> None:
    if args.resource_type != CLUSTER:
        return
    values = [
        str(s.get("value") or "")
        for s in get(args.props, "settings", default=[])
        if isinstance(s, Mapping) and s.get("name") == "containerInsights"
    ]
    if not any(v in CONTAINER_INSIGHTS_ON for v in values):
        report_violation(
            "Container Insights is off on this cluster (settings containerInsights is "
            f"{values[0] if values else 'not set'}). `pulumi config set containerInsights true`."
        )


POLICIES: list[Any] = [
    *prod_only(
        name="ecs-no-public-ip",
        control="ECS.2/ECS.16",
        description="ECS.2/ECS.16: production ECS services and task sets do not assign public IPs "
        "to their tasks.",
        validate=no_public_ip,
        severity=Severity.HIGH,
        remediation="Run tasks in private subnets: `pulumi config set natGateways perAz` (or "
        "single, or vpcEndpoints true).",
    ),
    *everywhere(
        name="ecs-container-not-privileged",
        control="ECS.4",
        description="ECS.4: ECS containers do not run privileged.",
        validate=not_privileged,
        severity=Severity.HIGH,
        remediation="Remove `privileged` from the container definition.",
    ),
    *everywhere(
        name="ecs-no-added-capabilities",
        control=None,
        description="Issue 14 (no Security Hub control): ECS containers add no Linux capability "
        "(linuxParameters.capabilities.add is empty; Fargate admits only SYS_PTRACE).",
        validate=no_added_capabilities,
        severity=Severity.HIGH,
        remediation="Remove linuxParameters.capabilities.add; set capabilities.drop to ['ALL'].",
    ),
    *everywhere(
        name="ecs-container-read-only-root",
        control="ECS.5",
        description="ECS.5: ECS containers have a read-only root filesystem.",
        validate=read_only_root,
        severity=Severity.HIGH,
        remediation="Set readonlyRootFilesystem: true; mount a task volume at each path the "
        "app writes.",
    ),
    *everywhere(
        name="ecs-no-secrets-in-environment",
        control="ECS.8",
        description="ECS.8: no secrets in container environment variables (names containing "
        "PASSWORD, PASSWD, SECRET, TOKEN, KEY or CREDENTIAL, or the word PASS, PWD or CREDS; "
        "values that look like AWS keys, URLs or connection strings with a password), nor such "
        "values in the command, entry point or Docker labels.",
        validate=no_secrets_in_environment,
        severity=Severity.HIGH,
        remediation="Move the value to Secrets Manager or SSM and pass it through the `secrets` "
        "setting.",
    ),
    *everywhere(
        name="ecs-container-logging",
        control="ECS.9",
        description="ECS.9: every ECS container has a logConfiguration.",
        validate=logging_configured,
        severity=Severity.HIGH,
        remediation="Give each container a logConfiguration (awslogs to a CloudWatch log group).",
    ),
    *everywhere(
        name="ecs-container-non-root-user",
        control="ECS.20",
        description="ECS.20: Linux ECS containers set a `user` that is not root.",
        validate=non_root_user,
        severity=Severity.MEDIUM,
        remediation="Set the container definition's `user` to the image's non-root uid:gid.",
    ),
    *prod_mandatory_else_advisory(
        name="ecs-cluster-container-insights",
        control="ECS.12",
        description="ECS.12: ECS clusters have Container Insights enabled.",
        validate=container_insights,
        severity=Severity.MEDIUM,
        remediation="`pulumi config set containerInsights true`.",
    ),
]
