"""The S3 bucket that holds Pulumi state for a self-managed backend (`pulumi login s3://...`).

State is the one thing a lost deploy cannot rebuild, and it holds (encrypted) secrets; the bucket:
- keeps every version of every state file for `noncurrent_version_days` (undo a bad write by
  restoring the previous version);
- is encrypted at rest with S3-managed keys (SSE-S3: free, and the preview role needs no KMS grant);
- blocks every form of public access, disables ACLs (bucket owner enforced) and refuses plain HTTP;
- lets each CI role reach its own stack's objects and nothing else (`stack_access_statements`):
  the deploy role reads and writes them, the preview role reads them, both read the layout file;
  the review stacks (`pr-*`, one family) are written by their deploy role and their sweep role;
  an explicit Deny keeps each role out of every other object and every CI role out of the
  bucket's own configuration, whatever else the roles are given;
- is protected: `pulumi destroy` of the bootstrap stack stops at it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

SSE_ALGORITHM = "AES256"  # SSE-S3
# Pulumi's self-managed backend (`pulumi login s3://...`) keeps one stack's state under these keys,
# in the project layout it uses for every new bucket (`.pulumi/meta.yaml` version 1). From
# pulumi/pulumi pkg/backend/diy: store.go (StackBasePath, HistoryDir, BackupDir, JournalDir),
# state.go (the checkpoint `<stack>.json`, `.json.gz` or `.json.zst`, its `.bak` copy),
# stack_tags.go (`<stack>.pulumi-tags`), lock.go (locks under the fully qualified
# `organization/<project>/<stack>`) and meta.go (`.pulumi/meta.yaml`, which every CLI reads).
PULUMI_STATE_META_KEY = ".pulumi/meta.yaml"
PULUMI_STACK_STATE_KEYS: tuple[str, ...] = (
    ".pulumi/stacks/{project}/{stack}.json*",
    ".pulumi/stacks/{project}/{stack}.pulumi-tags",
    # history/, backups/, journal/ and locks/organization/ in one: IAM's `*` spans the `/`, and
    # nothing else keeps a `<project>/<stack>/` directory (one pattern, not four, keeps the bucket
    # policy small enough for more stacks: BUCKET_POLICY_MAX_BYTES).
    ".pulumi/*/{project}/{stack}/*",
)
# Listing names (never contents): Pulumi lists a prefix to find which variant of the checkpoint
# exists and whether the stack is locked, and without ListBucket S3 answers a missing key with 403
# instead of 404, which Pulumi takes for an error.
LIST_ACTIONS = ("s3:ListBucket", "s3:GetBucketLocation")
WRITE_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")
READ_ACTIONS = ("s3:GetObject",)
# S3's limit on a bucket policy (S3 User Guide, "Bucket policies": 20 KB), which each stack's
# grants count against: the bootstrap refuses more stacks than fit (policy_bytes_at_most).
BUCKET_POLICY_MAX_BYTES = 20_480
# For that bound: the longest partition's ARNs (aws-us-gov) and a 12-digit account.
LONGEST_PARTITION = "aws-us-gov"
ANY_ACCOUNT = "123456789012"


@dataclass(frozen=True)
class StackRoles:
    """The CI roles of one stack (or of the review stacks' family): its deploy role, its preview
    role (None: no previews) and its sweep role (None: none; the review stacks' removes them, so
    it reads and writes their state as the deploy role does)."""

    deploy: str
    preview: str | None = None
    sweep: str | None = None

    @property
    def writers(self) -> list[str]:
        return [self.deploy, *([self.sweep] if self.sweep else [])]


def stack_state_objects(bucket_arn: str, project: str, stack: str) -> list[str]:
    """The ARNs of one stack's objects (PULUMI_STACK_STATE_KEYS); with bucket_arn
    `arn:aws:s3:::*`, that stack's objects in any bucket; with the stack `pr-*`
    (stack_names.REVIEW_STACKS), every review stack's."""
    return [
        f"{bucket_arn}/{key.format(project=project, stack=stack)}"
        for key in PULUMI_STACK_STATE_KEYS
    ]


def stack_access_statements(
    bucket_arn: str, project: str, roles: Mapping[str, StackRoles], sids: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Who may reach which objects: each stack's roles its own objects only (see the module
    docstring); `sids` maps each stack to its Sid part."""
    meta = f"{bucket_arn}/{PULUMI_STATE_META_KEY}"
    statements: list[dict[str, Any]] = []
    every_role: list[str] = []
    for stack, stack_roles in roles.items():
        own = stack_state_objects(bucket_arn, project, stack)
        mine = [*stack_roles.writers, *([stack_roles.preview] if stack_roles.preview else [])]
        every_role += mine
        sid = sids[stack]
        writers: str | list[str] = stack_roles.deploy
        writes = f"The{sid}DeployRoleReadsAndWritesItsStacksState"
        if stack_roles.sweep:
            writers = stack_roles.writers
            writes = f"The{sid}DeployAndSweepRolesReadAndWriteTheirStacksState"
        statements += [
            {
                "Sid": writes,
                "Effect": "Allow",
                "Principal": {"AWS": writers},
                "Action": list(WRITE_ACTIONS),
                "Resource": own,
            },
            {
                "Sid": f"The{sid}StacksRolesReachNoOtherObject",
                "Effect": "Deny",
                "Principal": {"AWS": mine},
                "Action": "s3:*",
                "NotResource": [bucket_arn, meta, *own],
            },
        ]
        if stack_roles.preview:
            statements.insert(
                -1,
                {
                    "Sid": f"The{sid}PreviewRoleReadsItsStacksState",
                    "Effect": "Allow",
                    "Principal": {"AWS": stack_roles.preview},
                    "Action": list(READ_ACTIONS),
                    "Resource": own,
                },
            )
    if every_role:
        # One statement for every role, not one a stack: the policy's size is S3's to limit.
        statements.insert(
            0,
            {
                "Sid": "EveryCiRoleListsTheBucketAndReadsItsLayout",
                "Effect": "Allow",
                "Principal": {"AWS": every_role},
                "Action": [*LIST_ACTIONS, *READ_ACTIONS],
                "Resource": [bucket_arn, meta],
            },
        )
        statements.append(
            {
                "Sid": "NoCiRoleChangesTheBucket",
                "Effect": "Deny",
                "Principal": {"AWS": every_role},
                "NotAction": list(LIST_ACTIONS),
                "Resource": bucket_arn,
            }
        )
    return statements


def policy_json(policy: Mapping[str, Any]) -> str:
    """The policy as the bucket gets it: compact, every byte counts against S3's limit."""
    return json.dumps(policy, separators=(",", ":"))


def policy_bytes_at_most(
    bucket_name: str,
    project: str,
    role_names: Mapping[str, StackRoles],
    sids: Mapping[str, str],
    role_path: str,
) -> int:
    """The most bytes the bucket's policy takes for these stacks' roles (`role_names`: their
    names, as IAM will have them) in any partition and account."""

    def arn(name: str | None) -> str | None:
        return f"arn:{LONGEST_PARTITION}:iam::{ANY_ACCOUNT}:role{role_path}{name}" if name else None

    roles = {
        stack: StackRoles(deploy=str(arn(r.deploy)), preview=arn(r.preview), sweep=arn(r.sweep))
        for stack, r in role_names.items()
    }
    bucket_arn = f"arn:{LONGEST_PARTITION}:s3:::{bucket_name}"
    return len(policy_json(bucket_policy(bucket_arn, project, roles, sids)).encode())


# Half-finished uploads of a large state file cost storage and are never completed after a week.
ABORT_INCOMPLETE_UPLOAD_DAYS = 7


def bucket_policy(
    bucket_arn: str,
    project: str = "",
    roles: Mapping[str, StackRoles] | None = None,
    sids: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyPlainHttp",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            *stack_access_statements(bucket_arn, project, roles or {}, sids or {}),
        ],
    }


@dataclass(frozen=True, kw_only=True)
class StateBucketArgs:
    """Settings of the state bucket.

    bucket_name: the bucket's name. Default empty: Pulumi names it `<name>-bucket-<random>`, which
        is unique across AWS as bucket names must be.
    noncurrent_version_days: days an overwritten or deleted state file stays recoverable. Default
        90: a quarter covers noticing a bad deploy late; each version is a few hundred KB.
    protect: refuse to delete the bucket. Default true: losing state orphans every resource.
    project: the Pulumi project whose stacks' state the bucket holds (names their objects).
        Default "": no stack's roles given.
    stack_roles: stack -> its CI roles' ARNs (Outputs resolving to StackRoles). Default none.
    sids: stack -> its Sid part (ci_bootstrap.stack_names). Default none.
    tags: tags for every taggable resource. Default none.
    """

    bucket_name: str = ""
    noncurrent_version_days: int = 90
    protect: bool = True
    project: str = ""
    stack_roles: Mapping[str, pulumi.Input[StackRoles]] = field(default_factory=dict)
    sids: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)

    def problems(self) -> list[str]:
        """What is wrong with these settings (empty when nothing is)."""
        if self.noncurrent_version_days < 1:
            return [
                f"noncurrent_version_days {self.noncurrent_version_days}: S3 expires old versions "
                "after 1 day or more"
            ]
        return []


class StateBucket(pulumi.ComponentResource):
    """A versioned, encrypted, private, TLS-only S3 bucket for Pulumi state.

    Outputs:
        bucket_name: the bucket's name.
        bucket_arn: the bucket's ARN (for the CI roles' grants).
        backend_url: what `pulumi login` takes, `s3://<bucket>?region=<region>`.
    """

    def __init__(
        self, name: str, args: StateBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        if problems := args.problems():
            raise ValueError(f"StateBucket {name!r}: " + "; ".join(problems))
        super().__init__("fargate-app:bootstrap:StateBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        region = aws.get_region(opts=pulumi.InvokeOptions(parent=self)).region

        bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket=args.bucket_name or None,
            force_destroy=False,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=child,
        )
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": SSE_ALGORITHM}}],
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket.id,
            rules=[
                {
                    "id": "expire-old-state-versions",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "noncurrent_version_expiration": {
                        "noncurrent_days": args.noncurrent_version_days
                    },
                    "abort_incomplete_multipart_upload": {
                        "days_after_initiation": ABORT_INCOMPLETE_UPLOAD_DAYS
                    },
                }
            ],
            # Noncurrent-version rules only mean something once versioning is on.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]),
        )
        stacks = list(args.stack_roles)
        aws.s3.BucketPolicy(
            # The name of old, when the policy only refused plain HTTP: renaming would replace it.
            f"{name}-tls-only",
            bucket=bucket.id,
            policy=pulumi.Output.all(bucket.arn, *args.stack_roles.values()).apply(
                lambda values: policy_json(
                    bucket_policy(
                        values[0],
                        args.project,
                        dict(zip(stacks, values[1:], strict=True)),
                        args.sids,
                    )
                )
            ),
            # Written together, S3 can refuse one with OperationAborted (a conflicting operation).
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access]),
        )

        self.bucket_name: pulumi.Output[str] = bucket.bucket
        self.bucket_arn: pulumi.Output[str] = bucket.arn
        self.backend_url: pulumi.Output[str] = bucket.bucket.apply(
            lambda b: f"s3://{b}?region={region}"
        )
        self.register_outputs(
            {
                "bucket_name": self.bucket_name,
                "bucket_arn": self.bucket_arn,
                "backend_url": self.backend_url,
            }
        )
