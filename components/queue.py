"""Work queue: a worker's SQS queue, encrypted, with a dead-letter queue for the messages that keep
failing, and the IAM statements that let the stack's services send to it and the worker receive.

Every service of the stack may send (its task role gets `send_statements` for every queue); only the
worker may receive and delete (`receive_statements`), and the queue's own policy denies receiving
to anyone else and any request without TLS. A message received `max_receives` times without being
deleted moves to the dead-letter queue, which keeps it 14 days (SQS's longest) for someone to read.
Both queues use SQS-managed encryption (SSE-SQS): no key to manage, no KMS permissions for anyone.
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.spec import (
    DEFAULT_MAX_RECEIVES,
    MAX_RECEIVES_MAX,
    MAX_RECEIVES_MIN,
    check_args,
)

# SQS keeps messages 60 s to 14 days; its default is 4 days, enough for work a worker is behind
# on over a weekend. Dead letters keep the longest, so a failure is still there on Monday.
MESSAGE_RETENTION_S = 4 * 24 * 60 * 60
DEAD_LETTER_RETENTION_S = 14 * 24 * 60 * 60
RETENTION_MIN_S, RETENTION_MAX_S = 60, 14 * 24 * 60 * 60
SEND_ACTIONS = ("sqs:SendMessage", "sqs:GetQueueUrl", "sqs:GetQueueAttributes")
# What a worker needs to take, finish or give back (a longer visibility timeout) a message.
RECEIVE_ACTIONS = (
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueUrl",
    "sqs:GetQueueAttributes",
)
RECEIVE_ONLY_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility")


def send_statements(queue_arns: list[pulumi.Input[str]]) -> list[dict]:
    """A task role's grant to send to the stack's work queues."""
    if not queue_arns:
        return []
    return [
        {
            "Sid": "SendToTheStacksWorkQueues",
            "Effect": "Allow",
            "Action": list(SEND_ACTIONS),
            "Resource": queue_arns,
        }
    ]


def receive_statements(queue_arn: pulumi.Input[str]) -> list[dict]:
    """The worker's grant to take work from its own queue."""
    return [
        {
            "Sid": "TheWorkerTakesWorkFromItsQueue",
            "Effect": "Allow",
            "Action": list(RECEIVE_ACTIONS),
            "Resource": queue_arn,
        }
    ]


def queue_policy(*, queue_arn: str, worker_role_arn: str) -> str:
    """Only the worker's task role receives, and nobody without TLS."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "OnlyTheWorkerReceives",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": list(RECEIVE_ONLY_ACTIONS),
                    "Resource": queue_arn,
                    "Condition": {"ArnNotEquals": {"aws:PrincipalArn": worker_role_arn}},
                },
                {
                    "Sid": "TlsOnly",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "sqs:*",
                    "Resource": queue_arn,
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
            ],
        }
    )


@dataclass(frozen=True, kw_only=True)
class WorkQueueArgs:
    """Settings of a worker's queue.

    max_receives: receives after which a message moves to the dead-letter queue. Default
        spec.DEFAULT_MAX_RECEIVES (5): a message that failed five times will not succeed on the
        sixth.
    message_retention_s: how long a message waits to be received. Default 4 days, SQS's own.
    dead_letter_retention_s: how long a dead letter stays. Default 14 days, SQS's longest.
    protect: protect both queues, and the messages in them, from deletion
        (`deletionProtection`; cfn-lint's I3011 counts a queue as stateful; SQS keeps nothing of
        a deleted queue). Default False.
    """

    max_receives: int = DEFAULT_MAX_RECEIVES
    message_retention_s: int = MESSAGE_RETENTION_S
    dead_letter_retention_s: int = DEAD_LETTER_RETENTION_S
    protect: bool = False

    def problems(self) -> list[str]:
        """What is wrong with these settings (empty when nothing is)."""
        found = []
        if not MAX_RECEIVES_MIN <= self.max_receives <= MAX_RECEIVES_MAX:
            found.append(
                f"max_receives {self.max_receives}: SQS allows {MAX_RECEIVES_MIN} to "
                f"{MAX_RECEIVES_MAX}"
            )
        for what, value in (
            ("message_retention_s", self.message_retention_s),
            ("dead_letter_retention_s", self.dead_letter_retention_s),
        ):
            if not RETENTION_MIN_S <= value <= RETENTION_MAX_S:
                found.append(f"{what} {value}: SQS keeps {RETENTION_MIN_S} to {RETENTION_MAX_S} s")
        return found


class WorkQueue(pulumi.ComponentResource):
    """SQS queue and its dead-letter queue (both SSE-SQS). The queue's policy is set later, by
    `restrict_to`, once the worker's role exists.

    Outputs:
        url, arn, name: the queue.
        dead_letter_url, dead_letter_arn, dead_letter_name: its dead-letter queue.
    """

    def __init__(
        self, name: str, args: WorkQueueArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(f"WorkQueue {name!r}", args.problems())
        super().__init__("fargate-app:queue:WorkQueue", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, protect=args.protect)
        dead_letters = aws.sqs.Queue(
            f"{name}-dlq",
            message_retention_seconds=args.dead_letter_retention_s,
            sqs_managed_sse_enabled=True,
            opts=child,
        )
        queue = aws.sqs.Queue(
            f"{name}-queue",
            message_retention_seconds=args.message_retention_s,
            sqs_managed_sse_enabled=True,
            redrive_policy=dead_letters.arn.apply(
                lambda arn: json.dumps(
                    {"deadLetterTargetArn": arn, "maxReceiveCount": args.max_receives}
                )
            ),
            opts=child,
        )
        self._name = name
        self.url: pulumi.Output[str] = queue.url
        self.arn: pulumi.Output[str] = queue.arn
        self.name: pulumi.Output[str] = queue.name
        self.dead_letter_url: pulumi.Output[str] = dead_letters.url
        self.dead_letter_arn: pulumi.Output[str] = dead_letters.arn
        self.dead_letter_name: pulumi.Output[str] = dead_letters.name
        self.register_outputs(
            {
                "url": self.url,
                "arn": self.arn,
                "name": self.name,
                "dead_letter_url": self.dead_letter_url,
                "dead_letter_arn": self.dead_letter_arn,
                "dead_letter_name": self.dead_letter_name,
            }
        )

    def restrict_to(self, worker_role_arn: pulumi.Input[str]) -> aws.sqs.QueuePolicy:
        """The queue's policy: only `worker_role_arn` receives (the worker's task role, created
        after the queue, whose URL its environment holds)."""
        return aws.sqs.QueuePolicy(
            f"{self._name}-queue-policy",
            queue_url=self.url,
            policy=pulumi.Output.all(self.arn, worker_role_arn).apply(
                lambda a: queue_policy(queue_arn=a[0], worker_role_arn=a[1])
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
