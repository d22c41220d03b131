"""The S3 bucket that holds Pulumi state for a self-managed backend (`pulumi login s3://...`).

State is the one thing a lost deploy cannot rebuild, and it holds (encrypted) secrets; the bucket:
- keeps every version of every state file for `noncurrent_version_days` (undo a bad write by
  restoring the previous version);
- is encrypted at rest with S3-managed keys (SSE-S3: free, and the preview role needs no KMS grant);
- blocks every form of public access, disables ACLs (bucket owner enforced) and refuses plain HTTP;
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
# Half-finished uploads of a large state file cost storage and are never completed after a week.
ABORT_INCOMPLETE_UPLOAD_DAYS = 7


def tls_only_policy(bucket_arn: str) -> dict[str, Any]:
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
            }
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
    tags: tags for every taggable resource. Default none.
    """

    bucket_name: str = ""
    noncurrent_version_days: int = 90
    protect: bool = True
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
        super().__init__("fargate-app:bootstrap:StateBucket", name, None, opts)
        if problems := args.problems():
            raise ValueError(f"StateBucket {name!r}: " + "; ".join(problems))
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
        aws.s3.BucketPolicy(
            f"{name}-tls-only",
            bucket=bucket.id,
            policy=bucket.arn.apply(lambda arn: json.dumps(tls_only_policy(arn))),
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
