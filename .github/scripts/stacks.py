"""The committed stacks as the workflows need them, derived from the repository at run time.

    python .github/scripts/stacks.py            # JSON on stdout; `key=value` lines to
                                                # $GITHUB_OUTPUT when GitHub Actions sets it
    python .github/scripts/stacks.py ready STACK COMMAND
                                                # before a preview or deploy: fails naming what
                                                # the stack lacks for the workflows

Nothing here lists a stack: the stacks are the Pulumi.<stack>.yaml files git tracks, in the order
`.github/promotion.yml` gives (which must name each exactly once), each with the names
ci_bootstrap.stack_names derives (variables, environments) and its CPU architecture as the
program itself reads it (`stack_config.load_config`, fed the way `pulumi up` feeds the program).

Outputs (JSON for `fromJSON` in the workflows, but for `platforms`):
- first: the first stack of the promotion order (deployed on every push, previewed by every
  pull request without approval);
- gated: `{"include": [...]}`, the later stacks in promotion order, each waiting in its GitHub
  environments; has-gated: whether there is any (an empty matrix is an error on GitHub);
- platforms: each Docker platform some stack deploys (`linux/amd64 linux/arm64`), space-separated,
  for the smoke test.

A problem (a stack missing from the promotion order, colliding names, a stack whose config does
not load, a stack on the passphrase secrets provider) fails with every problem listed.

`ready` is what the shared action runs before Pulumi: the stack's file names its KMS secrets
provider (without one Pulumi would ask for a passphrase the workflows do not have, and fail
later, less plainly), and the code owners are real before anything is deployed (with the
template's `@OWNER/...` GitHub ignores the file, and with it the review the branch rules
require). A missing permissions boundary is a warning: the deploy role refuses to create roles
without it.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
for path in (ROOT, ROOT / "bootstrap"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from ci_bootstrap.stack_names import (  # noqa: E402
    PROMOTION_FILE,
    StackNameError,
    check_promotion,
    names_for,
    promotion_order,
)

# What `pulumi stack init` writes into Pulumi.<stack>.yaml for the passphrase secrets provider.
# One passphrase would decrypt every stack's secrets wherever it is given, pull requests included,
# so a committed stack uses the awskms provider the bootstrap prepares (docs: "Secrets").
PASSPHRASE_PROVIDER_KEY = "encryptionsalt"
MIGRATE_COMMAND = (
    "pulumi stack change-secrets-provider --stack {stack} "
    '"awskms://<key id>?region=<region>" (the bootstrap output stackSettings.{stack}.commands)'
)
SECRETS_PROVIDER_KEY = "secretsprovider"
KMS_PROVIDER = "awskms://"
CODEOWNERS = Path(".github") / "CODEOWNERS"
# The owner the template's CODEOWNERS names: a team that does not exist, so GitHub ignores it.
PLACEHOLDER_OWNER = "@OWNER/"


def stack_entry(root: Path, project: str, stack: str) -> dict[str, Any]:
    """What the workflows need of one stack; raises stack_config.ConfigError for a bad config."""
    from stack_config import load_config
    from tools.mocks import config_for_runtime, config_secret_keys, load_stack_config

    raw = load_stack_config(root, stack)
    cfg = load_config(
        config_for_runtime(project, raw),
        stack=stack,
        project=project,
        secret_keys=config_secret_keys(project, raw),
    )
    names = names_for(stack)
    return {
        "stack": stack,
        "role_variable": names.deploy_role_variable,
        "preview_role_variable": names.preview_role_variable,
        "backend_variable": names.backend_variable,
        "environment": names.deploy_environment,
        "preview_environment": names.preview_environment,
        # STS takes session names of at most 64 characters; the role key is at most 41.
        "preview_session": f"preview-{names.role_key}",
        "deploy_session": f"deploy-{names.role_key}",
        "architecture": cfg.cpu_architecture,
        "platform": cfg.platform,
    }


def delivery(root: Path = ROOT) -> dict[str, Any]:
    """The stacks the workflows preview and deploy, in promotion order; StackNameError listing
    every problem."""
    from stack_config import ConfigError

    problems: list[str] = []
    order = promotion_order(root)
    from tools.plan.model import Project

    committed = Project.at(root).committed_stacks()
    problems += check_promotion(order, committed)
    project = str(yaml.safe_load((root / "Pulumi.yaml").read_text())["name"])
    entries = []
    for stack in [s for s in order if s in committed] if not problems else []:
        stack_file = yaml.safe_load((root / f"Pulumi.{stack}.yaml").read_text()) or {}
        if PASSPHRASE_PROVIDER_KEY in stack_file:
            problems.append(
                f"Pulumi.{stack}.yaml uses the passphrase secrets provider "
                f"({PASSPHRASE_PROVIDER_KEY}), which the workflows no longer have: "
                + MIGRATE_COMMAND.format(stack=stack)
            )
        try:
            entries.append(stack_entry(root, project, stack))
        except ConfigError as err:
            problems.append(f"Pulumi.{stack}.yaml: {err}")
    if problems:
        raise StackNameError(
            f"The committed stacks cannot be delivered ({PROMOTION_FILE}, Pulumi.<stack>.yaml):\n"
            + "\n".join(f"  - {p}" for p in problems)
        )
    return {
        "first": entries[0],
        "gated": {"include": entries[1:]},
        "has-gated": len(entries) > 1,
        "platforms": " ".join(sorted({e["platform"] for e in entries})),
    }


def readiness(root: Path, stack: str, command: str) -> tuple[list[str], list[str]]:
    """What keeps `stack` from a `command` (preview, up, destroy) by the workflows: (errors,
    warnings), each one a line that says what to do."""
    errors: list[str] = []
    warnings: list[str] = []
    stack_file = yaml.safe_load((root / f"Pulumi.{stack}.yaml").read_text()) or {}
    provider = str(stack_file.get(SECRETS_PROVIDER_KEY) or "")
    if PASSPHRASE_PROVIDER_KEY in stack_file:
        errors.append(
            f"Pulumi.{stack}.yaml uses the passphrase secrets provider, which the workflows do "
            "not have: " + MIGRATE_COMMAND.format(stack=stack)
        )
    elif not provider.startswith(KMS_PROVIDER):
        errors.append(
            f"Pulumi.{stack}.yaml names no KMS secrets provider"
            f" (secretsprovider: {provider or 'none'}):"
            f" create the stack with its key, `pulumi stack init {stack} --secrets-provider"
            f' "awskms://<key id>?region=<region>"` (the bootstrap output'
            f" stackSettings.{stack}.secretsProvider), and commit the file (docs/ci.md)"
        )
    owners = (root / CODEOWNERS).read_text() if (root / CODEOWNERS).is_file() else ""
    if PLACEHOLDER_OWNER in owners or not owners.strip():
        message = (
            f"{CODEOWNERS} still names {PLACEHOLDER_OWNER}... (or nobody): GitHub ignores it, so no"
            " code owner reviews changes to the workflows, the bootstrap or the policy pack."
            " Name your team there (docs/ci.md, Protect main)"
        )
        (errors if command == "up" else warnings).append(message)
    config = stack_file.get("config") or {}
    project = str(yaml.safe_load((root / "Pulumi.yaml").read_text())["name"])
    if command == "up" and not any(
        config.get(key) for key in ("permissionsBoundary", f"{project}:permissionsBoundary")
    ):
        warnings.append(
            f"Pulumi.{stack}.yaml sets no permissionsBoundary: the bootstrap's deploy role creates"
            " and changes roles only with the stack's boundary (bootstrap output"
            f" stackSettings.{stack}.commands)"
        )
    return errors, warnings


def ready(stack: str, command: str, root: Path = ROOT) -> int:
    errors, warnings = readiness(root, stack, command)
    for warning in warnings:
        print(f"::warning::{warning}")
    for error in errors:
        print(f"::error::{error}")
    return 1 if errors else 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["ready"]:
        if len(argv) != 3:
            print("usage: stacks.py ready STACK COMMAND", file=sys.stderr)
            return 2
        return ready(argv[1], argv[2])
    try:
        result = delivery()
    except StackNameError as err:
        print(f"::error::{str(err).splitlines()[0]}", file=sys.stderr)
        print(err, file=sys.stderr)
        return 1
    lines = [
        f"{key}={value if isinstance(value, str) else json.dumps(value, separators=(',', ':'))}"
        for key, value in result.items()
    ]
    output = os.environ.get("GITHUB_OUTPUT")
    if output:
        with open(output, "a", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
