"""The bootstrap stack's config contract: each setting, its type, default and limits.

`load_config()` is pure: it takes the raw key/value pairs (strings and JSON as the Pulumi CLI hands
them over, or native values from tests) and returns a frozen `BootstrapConfig`, or raises
`ConfigError` naming every bad setting, the value given and what is allowed. Pulumi.yaml's
`config:` block mirrors `SETTINGS`.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ci_bootstrap.github_roles import DEPLOY_SUBJECTS, REPOSITORY_PATTERN

PROJECT = "fargate-app-bootstrap"

# IAM policy names (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreatePolicy.html).
POLICY_NAME_PATTERN = re.compile(r"^[A-Za-z0-9+=,.@_/-]{1,128}$")
# S3 bucket names (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
BUCKET_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
RETENTION_DAYS_MIN, RETENTION_DAYS_MAX = 1, 3650


@dataclass(frozen=True)
class Setting:
    key: str
    type: str  # string, boolean, integer, array
    default: Any
    description: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "githubRepository",
        "string",
        None,
        "OWNER/NAME exactly as GitHub spells it: only its workflows may assume the roles.",
    ),
    Setting(
        "deployStacks",
        "array",
        ["dev", "prod"],
        "The stacks this account holds, each given a deploy role (dev: main only; prod: prod"
        " environment only); one account per environment: [dev] in one, [prod] in the other.",
    ),
    Setting(
        "previewRole",
        "boolean",
        True,
        "Create the read-only role that pull requests (not forks) use for pulumi preview.",
    ),
    Setting(
        "createOidcProvider",
        "boolean",
        True,
        "Create GitHub's OIDC provider; false if this account already has one (one per account).",
    ),
    Setting(
        "deployPolicies",
        "array",
        ["PowerUserAccess"],
        "AWS managed policies for the deploy roles (the app's own IAM roles come on top).",
    ),
    Setting(
        "stateBucket",
        "boolean",
        True,
        "Create a versioned, encrypted, private state bucket; false with Pulumi Cloud.",
    ),
    Setting(
        "stateBucketName",
        "string",
        "",
        "The state bucket's name; empty lets Pulumi pick a unique one.",
    ),
    Setting(
        "stateVersionRetentionDays",
        "integer",
        90,
        "How long an overwritten state file stays recoverable, 1 to 3650 days.",
    ),
)


class ConfigError(ValueError):
    """Every problem with the stack's config, one per line."""


@dataclass(frozen=True)
class BootstrapConfig:
    """The validated settings; see SETTINGS (and Pulumi.yaml) for what each one means."""

    github_repository: str
    deploy_stacks: tuple[str, ...] = ("dev", "prod")
    preview_role: bool = True
    create_oidc_provider: bool = True
    deploy_policies: tuple[str, ...] = ("PowerUserAccess",)
    state_bucket: bool = True
    state_bucket_name: str = ""
    state_version_retention_days: int = 90


def _default(setting: Setting) -> Any:
    return tuple(setting.default) if isinstance(setting.default, list) else setting.default


def _parse(setting: Setting, value: Any) -> Any:
    """A raw value (native, or the CLI's string/JSON form) as the setting's type."""
    if setting.type == "string":
        if not isinstance(value, str):
            raise ValueError("expected a string")
        return value.strip()
    if setting.type == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ValueError("expected true or false")
    if setting.type == "integer":
        if isinstance(value, bool):
            raise ValueError("expected a whole number")
        if isinstance(value, int):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
        raise ValueError("expected a whole number")
    if setting.type == "array":
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                raise ValueError("expected a list, e.g. [dev, prod] in YAML") from None
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ValueError("expected a list of strings")
        return tuple(v.strip() for v in value)
    raise AssertionError(setting.type)


def load_config(raw: Mapping[str, Any], project: str = PROJECT) -> BootstrapConfig:
    """Validate raw config (keys bare or `project:key`) into a BootstrapConfig, or raise ConfigError
    listing every problem."""
    values = {k.removeprefix(f"{project}:"): v for k, v in raw.items()}
    problems: list[str] = []
    known = [s.key for s in SETTINGS]
    for key in sorted(k for k in values if ":" not in k and k not in known):
        close = difflib.get_close_matches(key, known, n=1)
        hint = f"; did you mean {close[0]}?" if close else f"; known settings: {', '.join(known)}"
        problems.append(f"{key}: is not a setting of {project}{hint}")
    got: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.key not in values or values[setting.key] is None:
            got[setting.key] = _default(setting)
            continue
        try:
            got[setting.key] = _parse(setting, values[setting.key])
        except ValueError as err:
            problems.append(f"{setting.key}: {values[setting.key]!r} is not valid: {err}")
            got[setting.key] = _default(setting)

    def problem(key: str, message: str) -> None:
        problems.append(f"{key}: {got[key]!r} {message}")

    repository = got["githubRepository"]
    if not repository:
        problems.append(
            "githubRepository is not set: `pulumi config set githubRepository OWNER/NAME` "
            "(exactly as GitHub spells it; the roles trust only that repository)"
        )
    elif not REPOSITORY_PATTERN.match(repository):
        problem("githubRepository", "is not OWNER/NAME, e.g. acme/fargate-app")

    stacks = got["deployStacks"]
    unknown = [s for s in stacks if s not in DEPLOY_SUBJECTS]
    if unknown:
        problem(
            "deployStacks",
            f"names stacks the deploy workflow does not deploy ({', '.join(unknown)}); "
            f"allowed: {', '.join(DEPLOY_SUBJECTS)}",
        )
    if len(set(stacks)) != len(stacks):
        problem("deployStacks", "names a stack twice")

    bad_policies = [p for p in got["deployPolicies"] if not POLICY_NAME_PATTERN.match(p)]
    if bad_policies:
        problem("deployPolicies", f"has names that are not IAM policy names: {bad_policies}")

    name = got["stateBucketName"]
    if name and not BUCKET_NAME_PATTERN.match(name):
        problem("stateBucketName", "is not an S3 bucket name (3-63 of a-z, 0-9, '.', '-')")
    if name and not got["stateBucket"]:
        problem("stateBucketName", "is set but stateBucket is false")

    days = got["stateVersionRetentionDays"]
    if not RETENTION_DAYS_MIN <= days <= RETENTION_DAYS_MAX:
        problem(
            "stateVersionRetentionDays",
            f"is out of range: {RETENTION_DAYS_MIN} to {RETENTION_DAYS_MAX} days",
        )

    if not stacks:
        # The preview role and the state bucket serve this account's stacks; with none, the
        # workflows would get no variable for them.
        problems.append(
            "deployStacks is empty: list the stacks whose resources live in this AWS account,"
            " e.g. `pulumi config set --path 'deployStacks[0]' prod`"
        )

    if problems:
        raise ConfigError(
            f"The {project} stack's config has {len(problems)} problem(s):\n"
            + "\n".join(f"  - {p}" for p in problems)
        )
    return BootstrapConfig(
        github_repository=repository,
        deploy_stacks=stacks,
        preview_role=got["previewRole"],
        create_oidc_provider=got["createOidcProvider"],
        deploy_policies=got["deployPolicies"],
        state_bucket=got["stateBucket"],
        state_bucket_name=name,
        state_version_retention_days=days,
    )


def from_pulumi() -> BootstrapConfig:
    """Read the running stack's config from the Pulumi runtime and validate it."""
    import pulumi
    from pulumi.runtime.config import CONFIG

    return load_config(dict(CONFIG.get()), project=pulumi.get_project())
