"""Encryption at rest: customer managed KMS keys rotate, SNS topics and SQS queues are encrypted.

The SNS control costs money (a topic encrypted for CloudWatch alarms needs a customer managed key,
about $1 a month: components/alarm_topic.py), so it is mandatory in production and advisory
elsewhere, where dev deliberately goes without. Encrypting a queue with SQS-managed keys costs
nothing, so that control applies to every stack.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pulumi_policy import ResourceValidationArgs, Severity

from .environment import everywhere, prod_mandatory_else_advisory
from .props import get, truthy

Report = Callable[..., None]

KMS_KEY = "aws:kms/key:Key"
TOPIC = "aws:sns/topic:Topic"
QUEUE = "aws:sqs/queue:Queue"
# Automatic rotation exists only for symmetric encryption keys whose material KMS generated
# (KMS developer guide, "Rotate AWS KMS keys"); Security Hub's KMS.4 skips the others too.
ROTATABLE_SPEC = "SYMMETRIC_DEFAULT"
ROTATABLE_USAGE = "ENCRYPT_DECRYPT"


# -- KMS.4 ----------------------------------------------------------------------------------------
def key_rotation(args: ResourceValidationArgs, report_violation: Report) -> None:
    if args.resource_type != KMS_KEY:
        return
    spec = get(args.props, "keySpec") or get(args.props, "customerMasterKeySpec")
    usage = get(args.props, "keyUsage", default=ROTATABLE_USAGE)
    if (spec or ROTATABLE_SPEC) != ROTATABLE_SPEC or usage != ROTATABLE_USAGE:
        return  # asymmetric and HMAC keys cannot rotate automatically
    if get(args.props, "customKeyStoreId"):
        return  # nor keys in a custom key store
    if not truthy(get(args.props, "enableKeyRotation")):
        report_violation(
            "This KMS key never rotates its key material. Set enable_key_rotation=True (KMS "
            "rotates it yearly and keeps the old material to decrypt what it encrypted)."
        )


# -- SNS.1 ----------------------------------------------------------------------------------------
def topic_encrypted(args: ResourceValidationArgs, report_violation: Report) -> None:
    if args.resource_type != TOPIC:
        return
    if not get(args.props, "kmsMasterKeyId"):
        report_violation(
            "This SNS topic stores its messages unencrypted (no kms_master_key_id). "
            "`pulumi config set alarmTopicEncryption true` for the alarm topic; CloudWatch cannot "
            "publish to a topic under the AWS managed aws/sns key."
        )


# -- SQS.1 ----------------------------------------------------------------------------------------
def queue_encrypted(args: ResourceValidationArgs, report_violation: Report) -> None:
    if args.resource_type != QUEUE:
        return
    # Stated, not left to AWS's default: a queue that says nothing takes whatever the account or
    # an older queue had.
    if not (truthy(get(args.props, "sqsManagedSseEnabled")) or get(args.props, "kmsMasterKeyId")):
        report_violation(
            "This SQS queue does not say it is encrypted at rest. Set "
            "sqs_managed_sse_enabled=True (free) or kms_master_key_id."
        )


POLICIES: list[Any] = [
    *everywhere(
        name="kms-key-rotation",
        control="KMS.4",
        description="KMS.4: customer managed symmetric KMS keys rotate their key material.",
        validate=key_rotation,
        severity=Severity.MEDIUM,
        remediation="enable_key_rotation=True on the aws.kms.Key.",
    ),
    *prod_mandatory_else_advisory(
        name="sns-topic-encrypted",
        control="SNS.1",
        description="SNS.1: SNS topics are encrypted at rest with a KMS key.",
        validate=topic_encrypted,
        severity=Severity.MEDIUM,
        remediation="`pulumi config set alarmTopicEncryption true` (the topic's own KMS key).",
    ),
    *everywhere(
        name="sqs-queue-encrypted",
        control="SQS.1",
        description="SQS.1: SQS queues are encrypted at rest (SQS-managed or KMS keys).",
        validate=queue_encrypted,
        severity=Severity.MEDIUM,
        remediation="sqs_managed_sse_enabled=True on the aws.sqs.Queue.",
    ),
]
