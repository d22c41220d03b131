"""Secrets: values kept in Pulumi's encrypted config, stored in Secrets Manager for the app, and the
IAM statements that let the ECS agent read exactly the secrets a task is given.

ECS injects a secret into the container's environment when the task starts (`secrets` in the
container definition, `valueFrom` = the ARN); the value never appears in the task definition, so
Security Hub ECS.8 (no secrets in environment variables) holds. The agent reads them with the task
execution role: `secretsmanager:GetSecretValue` and `ssm:GetParameters` on those ARNs and no other.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html

Two ARN details decide the IAM resource:
- `...:secret:name-AbCdEf:json-key:stage:version` (one key of a JSON secret) is the secret
  `...:secret:name-AbCdEf` as far as IAM is concerned: the suffix is cut.
- A full Secrets Manager ARN ends in `-` and six random characters. An ARN without them (a
  "partial" ARN, just the name) matches no secret in IAM, so the policy names it `name-??????`:
  exactly one secret, whatever its suffix. Secrets Manager itself reads a name ending in `-` and six
  letters or digits as a full ARN, so we do the same; give full ARNs (copy them from the console).
Neither needs `kms:Decrypt` while the secret or parameter uses its AWS managed key
(aws/secretsmanager, aws/ssm); one under a customer managed key also needs that key to allow the
execution role.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.spec import (
    ENV_NAME,
    PROTECTED_RECOVERY_WINDOW_DAYS,
    RESERVED_ENV,
    check_args,
    secret_name_prefix,
)

# The random suffix Secrets Manager appends to every secret's ARN.
# Source: https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_iam-permissions.html#iam-resources
SECRET_ARN_SUFFIX = re.compile(r"-[A-Za-z0-9]{6}$")
PARTIAL_ARN_WILDCARD = "-??????"  # six single-character wildcards: that one suffix, nothing more
SECRET_ARN_FIELDS = 7  # arn:partition:secretsmanager:region:account:secret:name
# A deleted secret can be restored this many days; AWS allows 7 to 30 (or 0: gone at once).
# Protected (prod) secrets get PROTECTED_RECOVERY_WINDOW_DAYS (30), which the settings table cites.
RECOVERY_WINDOW_DAYS = 7  # dev: short, so a destroyed stack's secrets do not linger a month
READ_SECRETS_SID = "EcsAgentReadsTheAppSecretsAtTaskStart"
READ_PARAMETERS_SID = "EcsAgentReadsTheAppParametersAtTaskStart"


def read_permission(arn: str) -> tuple[str, str]:
    """The IAM action and resource that let the ECS agent read the secret or parameter `arn`."""
    parts = arn.split(":")
    if len(parts) >= SECRET_ARN_FIELDS and parts[2] == "secretsmanager" and parts[5] == "secret":
        resource = ":".join(parts[:SECRET_ARN_FIELDS])  # drops :json-key:version-stage:version-id
        if not SECRET_ARN_SUFFIX.search(parts[6]):
            resource += PARTIAL_ARN_WILDCARD
        return "secretsmanager:GetSecretValue", resource
    if len(parts) >= 6 and parts[2] == "ssm" and parts[5].startswith("parameter/"):
        return "ssm:GetParameters", arn
    raise ValueError(
        f"{arn!r} is neither a Secrets Manager secret ARN nor an SSM parameter ARN; "
        "check the `secrets` setting"
    )


def read_statements(arns: Iterable[str]) -> list[dict]:
    """IAM statements that allow reading exactly `arns` (none when there are none)."""
    by_action: dict[str, set[str]] = {}
    for arn in arns:
        action, resource = read_permission(arn)
        by_action.setdefault(action, set()).add(resource)
    sids = {
        "secretsmanager:GetSecretValue": READ_SECRETS_SID,
        "ssm:GetParameters": READ_PARAMETERS_SID,
    }
    return [
        {
            "Sid": sids[action],
            "Effect": "Allow",
            "Action": action,
            "Resource": sorted(resources),
        }
        for action, resources in sorted(by_action.items())
    ]


@dataclass(frozen=True, kw_only=True)
class AppSecretsArgs:
    """Settings of the app's own secrets.

    values: env var name -> secret value (from `secretValues`, Pulumi's encrypted config). Each
        becomes one Secrets Manager secret, encrypted with the AWS managed key (no key to pay for or
        to grant). Default none.
    protect: protect each secret from deletion (pulumi protect) and keep a deleted one restorable
        for 30 days instead of 7. Default False; prod sets deletionProtection.
    """

    values: Mapping[str, str] = field(default_factory=dict)
    protect: bool = False

    def problems(self) -> list[str]:
        """What is wrong with these settings (empty when nothing is)."""
        found = []
        for env_name, value in sorted(self.values.items()):
            if not ENV_NAME.match(env_name) or env_name in RESERVED_ENV:
                found.append(
                    f"values {env_name!r}: an environment variable name of letters, digits and _, "
                    "not one the program sets"
                )
            if not value:
                found.append(f"values {env_name!r}: Secrets Manager stores no empty secret")
        return found


class AppSecrets(pulumi.ComponentResource):
    """One Secrets Manager secret and its current version per value.

    Outputs:
        arns: env var name -> the secret's ARN, for the container's `secrets` and the execution
            role's read grant.
    """

    def __init__(
        self, name: str, args: AppSecretsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(f"AppSecrets {name!r}", args.problems())
        super().__init__("fargate-app:secrets:AppSecrets", name, None, opts)
        project, stack = pulumi.get_project(), pulumi.get_stack()
        self.arns: dict[str, pulumi.Output[str]] = {}
        for env_name, value in sorted(args.values.items()):
            # A unique name under the stack's prefix: a deleted secret keeps its name reserved
            # for the recovery window, so a fixed name could not be created again until it
            # passes; and the stack's CI deploy role reaches its secrets by that prefix.
            secret = aws.secretsmanager.Secret(
                f"{name}-{env_name}",
                name_prefix=f"{secret_name_prefix(project, stack)}{env_name}-",
                description=f"{project} {stack}: {env_name} for the app (from secretValues)",
                recovery_window_in_days=(
                    PROTECTED_RECOVERY_WINDOW_DAYS if args.protect else RECOVERY_WINDOW_DAYS
                ),
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
            )
            version = aws.secretsmanager.SecretVersion(
                f"{name}-{env_name}",
                secret_id=secret.id,
                # Config hands the program plain text; as a secret it stays encrypted in state.
                secret_string=pulumi.Output.secret(value),
                opts=pulumi.ResourceOptions(parent=self),
            )
            # The ARN carries the version as a dependency: a task must not start before the secret
            # has a value, or ECS fails to inject it.
            self.arns[env_name] = pulumi.Output.all(secret.arn, version.id).apply(lambda a: a[0])
        self.register_outputs({"arns": self.arns})
