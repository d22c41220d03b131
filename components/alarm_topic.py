"""Alarm topic: the SNS topic every alarm notifies, encrypted, with an optional email subscription.

CloudWatch can publish to an encrypted topic only when the topic's key lets cloudwatch.amazonaws.com
use it. The AWS managed key `alias/aws/sns` cannot: its key policy is AWS's and admits no service,
so alarms on a topic encrypted with it deploy cleanly and then deliver nothing. Hence a small
customer managed key whose policy admits CloudWatch's alarms of this account alone (about
$1 a month), or no encryption at all where that dollar matters more than encrypting alarm names
and states at rest:
https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.spec import (
    DEFAULT_ALARM_TOPIC_ENCRYPTED,
    EMAIL,
    account_governs_key_statement,
    check_args,
    deploy_role_manages_key_statement,
)

CLOUDWATCH_PRINCIPAL = "cloudwatch.amazonaws.com"
# What SNS does with the key on a publisher's behalf: make a data key, and read it back.
PUBLISH_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")
KEY_DELETION_WINDOW_DAYS = 7  # KMS's shortest: a destroyed stack's key soon stops billing
# KMS's longest (and its default): a protected stack's key deleted by mistake can be recovered
# (CancelKeyDeletion) for a month.
PROTECTED_KEY_DELETION_WINDOW_DAYS = 30


def topic_key_policy(account_id: str, partition: str, region: str, project: str, stack: str) -> str:
    """Key policy: IAM in this account governs the key (AWS's default statement, without which the
    key could not be managed at all); CloudWatch may encrypt for this account's alarms; and the
    role that deploys the stack may manage it (components.spec.deploy_role_manages_key_statement
    says why the grant is the key's own)."""
    alarms = f"arn:{partition}:cloudwatch:{region}:{account_id}:alarm:*"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                account_governs_key_statement(account_id, partition),
                deploy_role_manages_key_statement(account_id, project, stack),
                {
                    "Sid": "CloudWatchAlarmsOfThisAccountPublishToTheTopic",
                    "Effect": "Allow",
                    "Principal": {"Service": CLOUDWATCH_PRINCIPAL},
                    "Action": list(PUBLISH_KEY_ACTIONS),
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {"aws:SourceAccount": account_id},
                        "ArnLike": {"aws:SourceArn": alarms},
                    },
                },
            ],
        }
    )


@dataclass(frozen=True, kw_only=True)
class AlarmTopicArgs:
    """Settings of the alarm topic.

    email: an address to subscribe (it must confirm by following the link AWS sends). Default
        empty: no subscription; alarms still show in the console and reach anyone who subscribes
        later (Slack through AWS Chatbot, PagerDuty, ...).
    encrypted: encrypt the topic with its own KMS key (about $1 a month). Default True; a dev
        stack may skip it, as its notifications carry only alarm names and states.
    protect: protect the key from deletion (`deletionProtection`) and keep a deleted one
        recoverable for PROTECTED_KEY_DELETION_WINDOW_DAYS, as cfn-lint's I3011 asks of a KMS key.
        Default False: the key goes with the stack, pending deletion for KEY_DELETION_WINDOW_DAYS.
    """

    email: str = ""
    encrypted: bool = DEFAULT_ALARM_TOPIC_ENCRYPTED
    protect: bool = False

    def problems(self) -> list[str]:
        """What is wrong with these settings (empty when nothing is)."""
        if self.email and not EMAIL.match(self.email):
            return [f"email {self.email!r}: expected an email address"]
        return []


class AlarmTopic(pulumi.ComponentResource):
    """KMS key (when encrypted), SNS topic and the optional email subscription.

    Outputs:
        topic_arn: where alarms send ALARM and OK notifications.
        key_arn: the key that encrypts the topic, or None.
    """

    def __init__(
        self, name: str, args: AlarmTopicArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(f"AlarmTopic {name!r}", args.problems())
        super().__init__("fargate-app:alarms:AlarmTopic", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOptions(parent=self)
        account_id = aws.get_caller_identity(opts=invoke).account_id
        partition = aws.get_partition(opts=invoke).partition
        region = aws.get_region(opts=invoke).region

        key = (
            aws.kms.Key(
                f"{name}-key",
                description=f"{pulumi.get_project()} {pulumi.get_stack()}: alarm topic encryption",
                enable_key_rotation=True,
                deletion_window_in_days=PROTECTED_KEY_DELETION_WINDOW_DAYS
                if args.protect
                else KEY_DELETION_WINDOW_DAYS,
                policy=topic_key_policy(
                    account_id, partition, region, pulumi.get_project(), pulumi.get_stack()
                ),
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
            )
            if args.encrypted
            else None
        )
        topic = aws.sns.Topic(
            f"{name}-topic", kms_master_key_id=key.arn if key else None, opts=child
        )
        if args.email:
            aws.sns.TopicSubscription(
                f"{name}-email",
                topic=topic.arn,
                protocol="email",
                endpoint=args.email,
                opts=child,
            )

        self.topic_arn: pulumi.Output[str] = topic.arn
        self.key_arn: pulumi.Output[str] | None = key.arn if key else None
        self.register_outputs({"topic_arn": self.topic_arn, "key_arn": self.key_arn})
