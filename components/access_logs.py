"""Access logs: a private, encrypted S3 bucket the load balancer writes its access logs to
(Security Hub ELB.5), with the ELB delivery policy and a lifecycle that expires old logs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.spec import check_args

LOG_PREFIX = "alb"
# Long enough to investigate an incident or a billing question; S3 storage is the only cost.
ACCESS_LOG_RETENTION_DAYS = 90
# Regions launched since August 2022 deliver through this service principal; older ones through
# a per-region ELB account. The policy names both, so it works in every region.
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
ELB_LOG_DELIVERY_PRINCIPAL = "logdelivery.elasticloadbalancing.amazonaws.com"


def bucket_policy(bucket_arn: str, account_id: str, elb_account_arn: str) -> str:
    logs = f"{bucket_arn}/{LOG_PREFIX}/AWSLogs/{account_id}/*"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ElbDeliversAccessLogs",
                    "Effect": "Allow",
                    "Principal": {"AWS": elb_account_arn},
                    "Action": "s3:PutObject",
                    "Resource": logs,
                },
                {
                    "Sid": "ElbLogDeliveryServiceDeliversAccessLogs",
                    "Effect": "Allow",
                    "Principal": {"Service": ELB_LOG_DELIVERY_PRINCIPAL},
                    "Action": "s3:PutObject",
                    "Resource": logs,
                },
                {
                    "Sid": "DenyUnencryptedTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [bucket_arn, f"{bucket_arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
            ],
        }
    )


@dataclass(frozen=True, kw_only=True)
class AccessLogBucketArgs:
    """Settings of the bucket.

    retention_days: days before a log object expires. Default 90.
    protect: protect the bucket from deletion and keep its logs on `pulumi destroy`. Default False
        (then `pulumi destroy` empties and deletes it).
    """

    retention_days: int = ACCESS_LOG_RETENTION_DAYS
    protect: bool = False

    def problems(self) -> list[str]:
        """What is wrong with these settings (empty when nothing is)."""
        if self.retention_days < 1:
            return [f"retention_days {self.retention_days}: S3 expires objects after 1 day or more"]
        return []


class AccessLogBucket(pulumi.ComponentResource):
    """S3 bucket: SSE-S3 encrypted (the only encryption ELB log delivery supports), all public
    access blocked, ACLs disabled, TLS only, ELB delivery policy, expiry lifecycle.

    Outputs:
        bucket: the bucket's name; prefix: where the load balancer writes.
        policy: the bucket policy resource; the load balancer must wait for it.
    """

    def __init__(
        self, name: str, args: AccessLogBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(f"AccessLogBucket {name!r}", args.problems())
        super().__init__("fargate-app:logs:AccessLogBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOptions(parent=self)
        account_id = aws.get_caller_identity(opts=invoke).account_id
        elb_account_arn = aws.elb.get_service_account(opts=invoke).arn

        bucket = aws.s3.Bucket(
            f"{name}-bucket",
            force_destroy=not args.protect,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
            opts=child,
        )
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-private",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-expiry",
            bucket=bucket.id,
            rules=[
                {
                    "id": "expire-access-logs",
                    "status": "Enabled",
                    "filter": {"prefix": f"{LOG_PREFIX}/"},
                    "expiration": {"days": args.retention_days},
                    "abort_incomplete_multipart_upload": {"days_after_initiation": 1},
                }
            ],
            opts=child,
        )
        policy = aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=bucket.id,
            policy=bucket.arn.apply(lambda arn: bucket_policy(arn, account_id, elb_account_arn)),
            # S3 refuses a policy while the public access block is being written.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access]),
        )

        self.bucket: pulumi.Output[str] = bucket.bucket
        self.prefix: str = LOG_PREFIX
        self.policy: aws.s3.BucketPolicy = policy
        self.register_outputs({"bucket": self.bucket, "prefix": self.prefix, "policy": policy.id})
