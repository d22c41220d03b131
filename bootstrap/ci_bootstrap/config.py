"""The bootstrap stack's config contract: each setting, its type, default and limits.

`load_config()` is pure: it takes the raw key/value pairs (strings and JSON as the Pulumi CLI hands
them over, or native values from tests) and the repository's promotion order, and returns a frozen
`BootstrapConfig`, or raises `ConfigError` naming every bad setting, the value given and what is
allowed. Pulumi.yaml's `config:` block mirrors `SETTINGS`.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ci_bootstrap.github_roles import APP_PROJECT, REPOSITORY_PATTERN, ROLE_PATH
from ci_bootstrap.stack_names import (
    PROMOTION_FILE,
    REVIEW,
    StackNameError,
    deploy_subject,
    names_for,
    naming_problems,
    preview_subject,
    promotion_order,
)
from ci_bootstrap.state_bucket import BUCKET_POLICY_MAX_BYTES, StackRoles, policy_bytes_at_most

PROJECT = "fargate-app-bootstrap"

# IAM policy names (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreatePolicy.html).
POLICY_NAME_PATTERN = re.compile(r"^[A-Za-z0-9+=,.@_/-]{1,128}$")
# Who may administer a KMS key: an IAM role or user of some account. The account root would hand
# the key to every IAM policy of the account (a deploy role's KMS grants included).
KEY_ADMINISTRATOR_PATTERN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/-]+$")
# What older bootstraps defaulted deployStacks to; a stack made then holds both roles.
OLD_DEFAULT_DEPLOY_STACKS = ("dev", "prod")
# S3 bucket names (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
BUCKET_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
RETENTION_DAYS_MIN, RETENTION_DAYS_MAX = 1, 3650
# A DNS name: labels of letters, digits and hyphens (RFC 1123), at least two.
DOMAIN_NAME_PATTERN = re.compile(
    r"^(?=.{1,253}\.?$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}\.?$"
)


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
        None,
        "The stacks this account holds, each given a deploy and a preview role (the first stack of"
        " .github/promotion.yml: main and pull requests; any other: its GitHub environments); one"
        " account per environment: [dev] in one, [prod] in the other.",
    ),
    Setting(
        "previewRole",
        "boolean",
        True,
        "Create each stack's read-only preview role (pull requests of this repository, not forks;"
        " a later stack's only in its <stack>-preview environment).",
    ),
    Setting(
        "createOidcProvider",
        "boolean",
        True,
        "Create GitHub's OIDC provider; false if this account already has one (one per account).",
    ),
    Setting(
        "secretsKeyAdministrators",
        "array",
        None,
        "IAM role or user ARNs that administer each stack's secrets key (and may use it to set"
        " secrets): at least the role that runs this bootstrap, best two; the key trusts nobody"
        " else but its stack's deploy and preview roles.",
    ),
    Setting(
        "sharedAccount",
        "boolean",
        False,
        "Accept the first stack of .github/promotion.yml (every push to main) in one account with"
        " a later stack: a push to main could then reach that stack's network and the resources"
        " no tag can scope (docs/security.md). Default false: one account per environment.",
    ),
    Setting(
        "domainNames",
        "array",
        [],
        "The DNS names (domainName settings) of this account's stacks: their deploy roles may"
        " write those records and the ACM validation records beneath them, and no other.",
    ),
    Setting(
        "retiredStacks",
        "array",
        [],
        "Stacks whose CI roles this run may delete (after `pulumi state unprotect`); the bootstrap"
        " refuses to drop a stack whose roles exist otherwise.",
    ),
    Setting(
        "deployPolicies",
        "array",
        [],
        "Extra AWS managed policies for the deploy roles on top of their scoped ones; each widens"
        " what a push to main can do.",
    ),
    Setting(
        "reviewStacks",
        "boolean",
        False,
        "Hold the pull requests' review stacks (pr-<number>, docs/review-stacks.md): their deploy"
        " role (environment pr-review), sweep role (environment pr-sweep), boundary and secrets"
        " key; needs the state bucket.",
    ),
    Setting(
        "reviewStacksBesideDeployStacks",
        "boolean",
        False,
        "Accept reviewStacks in one account with deployStacks: an approved pull request's code"
        " could then change what no tag scopes there (docs/security.md, shared accounts)."
        " Default false: the review stacks in an account of their own (deployStacks: []).",
    ),
    Setting(
        "stateBucket",
        "boolean",
        True,
        "Create a versioned, encrypted, private state bucket: the workflows' backend. False only"
        " if this account's stacks keep their state in a bucket made elsewhere.",
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


@dataclass(frozen=True, kw_only=True)
class BootstrapConfig:
    """The validated settings; see SETTINGS (and Pulumi.yaml) for what each one means.
    `promotion_order` is the repository's (.github/promotion.yml): it decides which subject each
    stack's roles trust (`deploy_subjects`, `preview_subjects`)."""

    github_repository: str
    promotion_order: tuple[str, ...]
    deploy_stacks: tuple[str, ...]
    secrets_key_administrators: tuple[str, ...]
    preview_role: bool = True
    create_oidc_provider: bool = True
    deploy_policies: tuple[str, ...] = ()
    review_stacks: bool = False
    shared_account: bool = False
    domain_names: tuple[str, ...] = ()
    retired_stacks: tuple[str, ...] = ()
    state_bucket: bool = True
    state_bucket_name: str = ""
    state_version_retention_days: int = 90

    @property
    def deploy_subjects(self) -> dict[str, str]:
        order = list(self.promotion_order)
        return {s: deploy_subject(s, order) for s in self.deploy_stacks}

    @property
    def preview_subjects(self) -> dict[str, str]:
        if not self.preview_role:
            return {}
        order = list(self.promotion_order)
        return {s: preview_subject(s, order) for s in self.deploy_stacks}

    @property
    def shared_preview_heir(self) -> str | None:
        """The stack whose preview role keeps the one preview role older bootstraps made: the
        first of this account's stacks in promotion order."""
        if not self.preview_role or not self.deploy_stacks:
            return None
        return min(self.deploy_stacks, key=self.promotion_order.index)


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


def load_config(
    raw: Mapping[str, Any], order: list[str], project: str = PROJECT
) -> BootstrapConfig:
    """Validate raw config (keys bare or `project:key`) into a BootstrapConfig, or raise ConfigError
    listing every problem. `order` is the promotion order (stack_names.promotion_order)."""
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
    if stacks is None:
        stacks = ()
        old = ", ".join(OLD_DEFAULT_DEPLOY_STACKS)
        problems.append(
            "deployStacks is not set: list the stacks whose resources live in this AWS account,"
            " e.g. `pulumi config set --path 'deployStacks[0]' prod`. A bootstrap stack made"
            f" before this setting was required holds the roles of [{old}]: set exactly those to"
            " keep them (roles are never deleted by leaving a stack out; they are protected)"
        )
    for naming in naming_problems(list(stacks)):
        problem("deployStacks", naming)
    unknown = [s for s in stacks if s not in order]
    if unknown:
        problem(
            "deployStacks",
            f"names stacks the deploy workflow does not deploy ({', '.join(unknown)}); "
            f"the stacks of {PROMOTION_FILE}: {', '.join(order)}",
        )
    if len(set(stacks)) != len(stacks):
        problem("deployStacks", "names a stack twice")

    if len(order) > 1 and stacks and not got["sharedAccount"]:
        first, gated = order[0], [s for s in stacks if s in order[1:]]
        if first in stacks and gated:
            problem(
                "deployStacks",
                f"puts {first} (the first stack of {PROMOTION_FILE}: every push to main deploys"
                f" it) in one account with {', '.join(gated)} (deployed only after approval). In"
                " one account a push to main could reach their network and the resources no tag"
                " can scope (docs/security.md, shared accounts). Bootstrap one account per"
                " environment, or `pulumi config set sharedAccount true` to accept it",
            )

    bad_names = [d for d in got["domainNames"] if not DOMAIN_NAME_PATTERN.match(d)]
    if bad_names:
        problem("domainNames", f"has entries that are not DNS names: {bad_names}")
    if set(got["retiredStacks"]) & set(stacks):
        problem("retiredStacks", "names a stack that deployStacks keeps")

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

    administrators = got["secretsKeyAdministrators"]
    if not administrators:
        administrators = ()
        problems.append(
            "secretsKeyAdministrators is not set: name the IAM roles or users that administer"
            " the stacks' secrets keys; they must include the role you run this bootstrap with"
            " (KMS refuses a key whose policy would lock out its creator), e.g."
            " `pulumi config set --path 'secretsKeyAdministrators[0]'"
            " arn:aws:iam::123456789012:role/Admin`"
        )
    bad_admins = [a for a in administrators if not KEY_ADMINISTRATOR_PATTERN.match(a)]
    if bad_admins:
        problem(
            "secretsKeyAdministrators",
            f"has entries that are not IAM role or user ARNs: {bad_admins} (an account root"
            " would hand the key to every IAM policy of the account)",
        )

    if got["deployStacks"] is not None and not stacks and not got["reviewStacks"]:
        # The preview role and the state bucket serve this account's stacks; with none, the
        # workflows would get no variable for them.
        problems.append(
            "deployStacks is empty: list the stacks whose resources live in this AWS account,"
            " e.g. `pulumi config set --path 'deployStacks[0]' prod` (or set reviewStacks true"
            " for an account that holds only the review stacks)"
        )
    if got["reviewStacks"] and stacks and not got["reviewStacksBesideDeployStacks"]:
        problem(
            "reviewStacks",
            f"puts the review stacks (each pull request's code, once a reviewer approves) in one"
            f" account with {', '.join(stacks)}. There an approved pull request could change what"
            " no tag scopes: schedules, subscriptions, task definitions, scaling alarms, untagged"
            " security groups, and place tasks in their network (docs/security.md, shared"
            " accounts). Bootstrap the review stacks in an account of their own (deployStacks:"
            " [] and reviewStacks: true), or `pulumi config set reviewStacksBesideDeployStacks"
            " true` to accept it",
        )
    if got["reviewStacksBesideDeployStacks"] and not got["reviewStacks"]:
        problem("reviewStacksBesideDeployStacks", "is set but reviewStacks is false")
    if got["reviewStacks"] and not got["stateBucket"]:
        # With Pulumi Cloud the workflows' one access token would reach every stack's state from
        # a pull request's code; the bucket's policy keeps the review roles to `pr-*` objects.
        problems.append(
            "reviewStacks: true needs this account's state bucket (stateBucket true): the review"
            " stacks keep their state there, where its policy keeps the review roles to the"
            " review stacks' objects; a Pulumi Cloud token would reach every stack's state"
        )

    if got["stateBucket"] and not problems:
        size = state_policy_bytes(stacks, got["previewRole"], got["reviewStacks"], name)
        if size > BUCKET_POLICY_MAX_BYTES:
            problem(
                "deployStacks",
                f"is too many stacks for one state bucket: their grants would make its policy"
                f" up to {size} bytes, and S3 allows {BUCKET_POLICY_MAX_BYTES}. Bootstrap some of"
                " them in another account (one account per environment)",
            )

    if problems:
        raise ConfigError(
            f"The {project} stack's config has {len(problems)} problem(s):\n"
            + "\n".join(f"  - {p}" for p in problems)
        )
    return BootstrapConfig(
        github_repository=repository,
        promotion_order=tuple(order),
        deploy_stacks=stacks,
        secrets_key_administrators=administrators,
        preview_role=got["previewRole"],
        create_oidc_provider=got["createOidcProvider"],
        deploy_policies=got["deployPolicies"],
        review_stacks=got["reviewStacks"],
        shared_account=got["sharedAccount"],
        domain_names=tuple(d.lower().rstrip(".") for d in got["domainNames"]),
        retired_stacks=got["retiredStacks"],
        state_bucket=got["stateBucket"],
        state_bucket_name=name,
        state_version_retention_days=days,
    )


# The state bucket's name when Pulumi picks it: `state-bucket` (StateBucket "state") and the
# autoname suffix.
AUTONAMED_STATE_BUCKET = "state-bucket-1234567"


def state_policy_bytes(
    stacks: tuple[str, ...], preview: bool, review: bool, bucket_name: str = ""
) -> int:
    """The most bytes the state bucket's policy takes for these stacks' CI roles (named as
    GitHubActionsRoles and ReviewStackRoles name them)."""
    suffix = "-1234567"  # Pulumi's autoname suffix
    roles = {
        stack: StackRoles(
            deploy=f"github-deploy-{names_for(stack).role_key}{suffix}",
            preview=f"github-preview-{names_for(stack).role_key}{suffix}" if preview else None,
        )
        for stack in stacks
    }
    sids = {stack: names_for(stack).sid for stack in stacks}
    if review:
        roles[REVIEW.names.stack] = StackRoles(
            deploy=f"github-review-deploy{suffix}", sweep=f"github-review-sweep{suffix}"
        )
        sids[REVIEW.names.stack] = REVIEW.names.sid
    bucket = bucket_name or AUTONAMED_STATE_BUCKET
    return policy_bytes_at_most(bucket, APP_PROJECT, roles, sids, ROLE_PATH)


def from_pulumi() -> BootstrapConfig:
    """Read the running stack's config from the Pulumi runtime and validate it."""
    import pulumi
    from pulumi.runtime.config import CONFIG

    try:
        order = promotion_order()
    except StackNameError as err:
        raise ConfigError(
            f"The {pulumi.get_project()} stack needs the repository's promotion order (run it "
            f"from a checkout of the repository): {err}"
        ) from None
    return load_config(dict(CONFIG.get()), order, project=pulumi.get_project())
