"""What keeps one stack to itself: the permissions boundary of its app roles and its secrets key.

- The boundary (ci_bootstrap.boundary) is a customer managed policy with a name known in advance,
  so the deploy role's conditions can name it before it exists. The program puts it on every role
  it creates once the stack sets `permissionsBoundary` to its ARN.
- The secrets key is the stack's `awskms` secrets provider: Pulumi encrypts the stack's data key
  with it (`encryptedkey` in Pulumi.<stack>.yaml and in the state) and decrypts it whenever it
  opens the stack (pulumi/pulumi pkg/secrets/cloud/manager.go: kms:Encrypt once, when the data key
  is made; kms:Decrypt every time). Its key policy names its principals and does not delegate to
  the account's IAM policies, so no IAM grant anywhere in the account reaches it:
  - the named key administrators: manage the key, and use it (`pulumi config set --secret`,
    `pulumi stack change-secrets-provider`);
  - the stack's deploy role and preview role: kms:Decrypt only.
  Whoever can assume those two roles can read the stack's secrets: a push to main (the first stack)
  or a run a reviewer let into the stack's environments (every later stack).
  The key is protected and rotates yearly; deleting it would make the stack's secrets unreadable.

The review stacks (`pr-*`) share one boundary and one key. Their key's users are the review deploy
role and the sweep role, and each may also encrypt with it (REVIEW_ROLE_ACTIONS): the workflows
write a review stack's Pulumi.pr-<n>.yaml afresh on every run, naming the key but no data key, so
Pulumi makes a new data key each time (pulumi/pulumi sdk/go/pkg/secrets/cloud: a missing
`encryptedkey` means a new one, kms:Encrypt); the state's own record of the old one still opens it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from ci_bootstrap.boundary import BOUNDARY_PATH, boundary_document, boundary_name

# KMS: a scheduled deletion waits 7 to 30 days; the longest gives time to notice and cancel.
KEY_DELETION_WINDOW_DAYS = 30
# The administrators manage the key (AWS's "key administrators" statement of its default key
# policy: https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html) and use it.
KEY_ADMIN_ACTIONS = ("kms:*",)
STACK_ROLE_ACTIONS = ("kms:Decrypt",)
REVIEW_ROLE_ACTIONS = ("kms:Decrypt", "kms:Encrypt")


def secrets_key_policy(
    administrators: Sequence[str],
    deploy_role_arn: str,
    preview_role_arn: str | None,
    sid: str,
    sweep_role_arn: str | None = None,
) -> dict[str, Any]:
    """The key's policy: the administrators manage and use it; the stack's deploy and preview
    roles decrypt with it; or, given a sweep role (the review stacks), the deploy and sweep roles
    encrypt and decrypt with it."""
    users = [deploy_role_arn, *([preview_role_arn] if preview_role_arn else [])]
    stack_roles = {
        "Sid": f"The{sid}StacksDeployAndPreviewRolesDecryptItsSecrets",
        "Effect": "Allow",
        "Principal": {"AWS": users},
        "Action": list(STACK_ROLE_ACTIONS),
        "Resource": "*",
    }
    if sweep_role_arn:
        stack_roles |= {
            "Sid": f"The{sid}StacksDeployAndSweepRolesMakeAndReadTheirDataKeys",
            "Principal": {"AWS": [*users, sweep_role_arn]},
            "Action": list(REVIEW_ROLE_ACTIONS),
        }
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "NamedAdministratorsManageAndUseTheKey",
                "Effect": "Allow",
                "Principal": {"AWS": list(administrators)},
                "Action": list(KEY_ADMIN_ACTIONS),
                "Resource": "*",
            },
            stack_roles,
        ],
    }


@dataclass(frozen=True, kw_only=True)
class StackGuardrailsArgs:
    """Settings of one stack's guardrails.

    stack: the stack's name. Required.
    sid: the stack's Sid part (stack_names). Required.
    project: the app's Pulumi project. Required.
    deploy_role_arn: the stack's deploy role, which may decrypt with the key. Required.
    preview_role_arn: the stack's preview role, likewise. Default None: no preview role.
    sweep_role_arn: the review stacks only: the sweep role that removes them. Given, the deploy
        and sweep roles also encrypt with the key (see the module docstring). Default None.
    key_administrators: IAM role or user ARNs that administer the key. Required: a key whose
        policy names nobody could never be managed again.
    protect: protect the key and the boundary. Default true: losing the key loses the secrets.
    tags: tags for every resource. Default none.
    """

    stack: str
    sid: str
    project: str
    deploy_role_arn: pulumi.Input[str]
    preview_role_arn: pulumi.Input[str] | None = None
    sweep_role_arn: pulumi.Input[str] | None = None
    key_administrators: tuple[str, ...]
    protect: bool = True
    tags: Mapping[str, str] = field(default_factory=dict)

    def problems(self) -> list[str]:
        """What is wrong with these settings (empty when nothing is)."""
        if not self.key_administrators:
            return [
                f"key_administrators: none given for the {self.stack} secrets key; a key whose "
                "policy names no administrator could never be managed again"
            ]
        return []


class StackGuardrails(pulumi.ComponentResource):
    """The stack's permissions boundary and its secrets key.

    Outputs:
        boundary_arn: the boundary's ARN (the stack's `permissionsBoundary` setting).
        secrets_key_arn: the key's ARN.
        secrets_provider: the stack's secrets provider URL, `awskms://<key id>?region=<region>`.
    """

    def __init__(
        self, name: str, args: StackGuardrailsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        if problems := args.problems():
            raise ValueError(f"StackGuardrails {name!r}: " + "; ".join(problems))
        super().__init__("fargate-app:bootstrap:StackGuardrails", name, None, opts)
        invoke = pulumi.InvokeOptions(parent=self)
        account_id = aws.get_caller_identity(opts=invoke).account_id
        partition = aws.get_partition(opts=invoke).partition
        region = aws.get_region(opts=invoke).region
        kept = pulumi.ResourceOptions(parent=self, protect=args.protect)

        boundary = aws.iam.Policy(
            f"{name}-boundary",
            name=boundary_name(args.project, args.stack),
            path=BOUNDARY_PATH,
            description=f"The most any role of the {args.project} {args.stack} stack may do",
            policy=json.dumps(boundary_document(partition, account_id, args.project, args.stack)),
            tags=dict(args.tags),
            opts=kept,
        )
        key = aws.kms.Key(
            f"{name}-secrets-key",
            description=f"Pulumi secrets of the {args.project} {args.stack} stack (awskms)",
            enable_key_rotation=True,
            deletion_window_in_days=KEY_DELETION_WINDOW_DAYS,
            policy=pulumi.Output.all(
                args.deploy_role_arn, args.preview_role_arn, args.sweep_role_arn
            ).apply(
                lambda arns: json.dumps(
                    secrets_key_policy(
                        args.key_administrators, arns[0], arns[1], args.sid, sweep_role_arn=arns[2]
                    )
                )
            ),
            tags=dict(args.tags),
            opts=kept,
        )

        self.boundary_arn: pulumi.Output[str] = boundary.arn
        self.secrets_key_arn: pulumi.Output[str] = key.arn
        self.secrets_provider: pulumi.Output[str] = key.key_id.apply(
            lambda key_id: f"awskms://{key_id}?region={region}"
        )
        self.register_outputs(
            {
                "boundary_arn": self.boundary_arn,
                "secrets_key_arn": self.secrets_key_arn,
                "secrets_provider": self.secrets_provider,
            }
        )
