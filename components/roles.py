"""Roles: the task execution role (ECS's agent pulls the image, writes logs) and the app's own role.

Both trust only ecs-tasks.amazonaws.com acting for this account, so another account's task cannot
assume them (the confused-deputy guard AWS recommends:
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html#create_task_iam_policy_and_role).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

ECS_TASKS_PRINCIPAL = "ecs-tasks.amazonaws.com"
# The AWS managed policy for the ECS agent: pull from ECR and write to CloudWatch Logs.
EXECUTION_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"


def ecs_tasks_trust_policy(account_id: str, partition: str, region: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "EcsTasksOfThisAccountOnly",
                    "Effect": "Allow",
                    "Principal": {"Service": ECS_TASKS_PRINCIPAL},
                    "Action": "sts:AssumeRole",
                    "Condition": {
                        "StringEquals": {"aws:SourceAccount": account_id},
                        "ArnLike": {
                            "aws:SourceArn": f"arn:{partition}:ecs:{region}:{account_id}:*"
                        },
                    },
                }
            ],
        }
    )


@dataclass(frozen=True)
class TaskRolesArgs:
    """Settings of the task roles.

    task_policy_statements: IAM statements the app itself needs (each with a Sid saying why, and
        specific resources). Default none: the sample app calls no AWS API, so its role can do
        nothing; least privilege starts at zero.
    """

    task_policy_statements: tuple[dict, ...] = field(default_factory=tuple)


class TaskRoles(pulumi.ComponentResource):
    """Execution role (AWS managed execution policy) and a separate, least-privilege task role.

    Outputs:
        execution_role_arn, execution_role_name: for the task definition and extra grants.
        task_role_arn, task_role_name: the app's own role.
    """

    def __init__(
        self, name: str, args: TaskRolesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("fargate-app:roles:TaskRoles", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOptions(parent=self)
        account_id = aws.get_caller_identity(opts=invoke).account_id
        partition = aws.get_partition(opts=invoke).partition
        region = aws.get_region(opts=invoke).region
        trust = ecs_tasks_trust_policy(account_id, partition, region)

        execution = aws.iam.Role(
            f"{name}-exec",
            description="ECS agent: pulls the app's image and writes its logs",
            assume_role_policy=trust,
            opts=child,
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-exec-policy", role=execution.name, policy_arn=EXECUTION_POLICY_ARN, opts=child
        )
        task = aws.iam.Role(
            f"{name}-task",
            description="The app's own AWS permissions (none unless granted)",
            assume_role_policy=trust,
            opts=child,
        )
        if args.task_policy_statements:
            aws.iam.RolePolicy(
                f"{name}-task-policy",
                role=task.name,
                policy=json.dumps(
                    {"Version": "2012-10-17", "Statement": list(args.task_policy_statements)}
                ),
                opts=child,
            )

        self.execution_role_arn: pulumi.Output[str] = execution.arn
        self.execution_role_name: pulumi.Output[str] = execution.name
        self.task_role_arn: pulumi.Output[str] = task.arn
        self.task_role_name: pulumi.Output[str] = task.name
        self.register_outputs(
            {
                "execution_role_arn": self.execution_role_arn,
                "execution_role_name": self.execution_role_name,
                "task_role_arn": self.task_role_arn,
                "task_role_name": self.task_role_name,
            }
        )
