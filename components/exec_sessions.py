"""ECS Exec sessions, recorded and encrypted: a KMS key and the CloudWatch log group it encrypts.

With `enableExec`, anyone allowed `ecs:ExecuteCommand` gets a root shell in a task. The cluster
(components.cluster) then records every session's commands and output in this log group, and
encrypts the session's data with this key on top of TLS; the task role may use exactly these two
(components.roles). ECS's own account of what each needs:
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html#ecs-exec-logging
A customer managed key, because `cloudWatchEncryptionEnabled` needs the log group encrypted with
one, and CloudWatch Logs may use it only where the key's policy lets it, for this log group alone:
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.naming import bounded
from components.spec import (
    DEFAULT_LOG_RETENTION_DAYS,
    account_governs_key_statement,
    check_args,
    deploy_role_manages_key_statement,
    retention_issues,
)

# A key scheduled for deletion can be restored this many days, KMS's longest: every session
# recorded under it is unreadable once it is gone, and a key pending deletion costs nothing.
KEY_DELETION_WINDOW_DAYS = 30
# What CloudWatch Logs does with the key for the log group (the KMS actions its guide lists).
LOGS_KEY_ACTIONS = (
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:DescribeKey",
)
LOG_GROUP_SUFFIX = "exec-sessions"  # /ecs/<project>/<stack>/exec-sessions, beside the app's logs


def log_group_arn(partition: str, region: str, account_id: str, log_group_name: str) -> str:
    return f"arn:{partition}:logs:{region}:{account_id}:log-group:{log_group_name}"


def session_key_policy(
    account_id: str, partition: str, region: str, log_group: str, project: str, stack: str
) -> str:
    """Key policy: IAM in this account governs the key's use (AWS's default statement: the task
    role's policy grants kms:Decrypt, an operator's kms:GenerateDataKey), the role that deploys
    the stack manages it (CI's roles get no IAM grant on keys: components.spec says why), and
    CloudWatch Logs may use it for the sessions' log group, and no other."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                account_governs_key_statement(account_id, partition),
                deploy_role_manages_key_statement(account_id, project, stack),
                {
                    "Sid": "CloudWatchLogsEncryptsTheSessionLogGroupOnly",
                    "Effect": "Allow",
                    "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                    "Action": list(LOGS_KEY_ACTIONS),
                    "Resource": "*",
                    "Condition": {
                        "ArnEquals": {
                            "kms:EncryptionContext:aws:logs:arn": log_group_arn(
                                partition, region, account_id, log_group
                            )
                        }
                    },
                },
            ],
        }
    )


@dataclass(frozen=True, kw_only=True)
class ExecSessionRecord:
    """Where a cluster records exec sessions, and the key that encrypts them (ExecSessions'
    `record`): what the cluster is configured with and the task role is granted.

    key_arn: the KMS key. Required.
    log_group_name, log_group_arn: the log group. Required.
    """

    key_arn: pulumi.Input[str]
    log_group_name: pulumi.Input[str]
    log_group_arn: pulumi.Input[str]


@dataclass(frozen=True, kw_only=True)
class ExecSessionsArgs:
    """Settings of the exec session record.

    log_retention_days: how long sessions are kept. Default 30, as the app's logs.
    protect: protect the key and the log group from deletion (`deletionProtection`). Default
        False.
    log_group_name: the log group's name. Default /ecs/<project>/<stack>/exec-sessions, under the
        stack's log prefix, which the stack's roles may write (its permissions boundary).
    """

    log_retention_days: int = DEFAULT_LOG_RETENTION_DAYS
    protect: bool = False
    log_group_name: str = ""

    def problems(self) -> list[str]:
        """What is wrong with these settings (empty when nothing is)."""
        return [
            i.problem() for i in retention_issues("log_retention_days", self.log_retention_days)
        ]


class ExecSessions(pulumi.ComponentResource):
    """The KMS key (rotated yearly) and the encrypted log group of ECS Exec sessions.

    Outputs:
        key_arn: encrypts the sessions (the cluster's kmsKeyId) and their log group.
        log_group_name, log_group_arn: where the cluster records the sessions.
        record: the three as one value, for the cluster and the task role (not registered).
    """

    def __init__(
        self, name: str, args: ExecSessionsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(f"ExecSessions {name!r}", args.problems())
        super().__init__("fargate-app:exec:ExecSessions", name, None, opts)
        invoke = pulumi.InvokeOptions(parent=self)
        account_id = aws.get_caller_identity(opts=invoke).account_id
        partition = aws.get_partition(opts=invoke).partition
        region = aws.get_region(opts=invoke).region
        project, stack = pulumi.get_project(), pulumi.get_stack()
        group_name = args.log_group_name or "/ecs/" + bounded(
            f"{project}/{stack}/{LOG_GROUP_SUFFIX}", 500, allowed=r"A-Za-z0-9_./-"
        )
        kept = pulumi.ResourceOptions(parent=self, protect=args.protect)

        key = aws.kms.Key(
            f"{name}-key",
            description=f"{project} {stack}: ECS Exec sessions and their log group",
            enable_key_rotation=True,
            deletion_window_in_days=KEY_DELETION_WINDOW_DAYS,
            policy=session_key_policy(account_id, partition, region, group_name, project, stack),
            opts=kept,
        )
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=group_name,
            retention_in_days=args.log_retention_days,
            kms_key_id=key.arn,
            opts=kept,
        )

        self.key_arn: pulumi.Output[str] = key.arn
        self.log_group_name: pulumi.Output[str] = log_group.name
        self.log_group_arn: pulumi.Output[str] = log_group.arn
        self.record = ExecSessionRecord(
            key_arn=self.key_arn,
            log_group_name=self.log_group_name,
            log_group_arn=self.log_group_arn,
        )
        self.register_outputs(
            {
                "key_arn": self.key_arn,
                "log_group_name": self.log_group_name,
                "log_group_arn": self.log_group_arn,
            }
        )
