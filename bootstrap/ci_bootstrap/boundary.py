"""The permissions boundary of a stack's app roles: the most any role the program creates may do.

A deploy role may create and change roles only under the stack's path and only with this
boundary attached (ci_bootstrap.deploy_permissions), so whatever policy it writes onto such a role,
the role's effective permissions stay within what is here: the ECS agent pulling the image,
writing the stack's logs and reading the stack's secrets; the app's ECS Exec channels, and
recording and decrypting its sessions with the stack's own key; ECS shifting load balancer traffic
(blue/green, canary); EventBridge Scheduler starting the stack's jobs; VPC flow logs writing their
records. No IAM, no STS, no S3 (so no Pulumi state), no other stack's secrets, no KMS key but
through Secrets Manager and SSM or tagged for the stack.

Scoped to the stack where IAM allows (IAM User Guide, "Permissions boundaries for IAM entities"):
- log groups named `/ecs/<project>/<stack>/...` (components/service.py's name), and the flow-log
  group (auto-named `network-flow-logs-...`, the one group not named after its stack);
- task definitions, load balancer target groups, listeners and rules, and dead-letter queues
  tagged `<project>:stack: <stack>` (deploy_permissions.STACK_TAG_KEY: every resource the program
  creates is); roles under `/<project>/<stack>/`;
- Secrets Manager secrets and SSM parameters tagged so too (a secret you reference with `secrets`
  must carry the tag) or named under `<project>/<stack>/` (every secret the program creates is).

The program attaches an AWS managed policy to one role (APP_MANAGED_POLICIES);
`MANAGED_POLICY_ACTIONS` lists what it grants (AWS Managed Policy Reference, as of 2026-02) so a
test can show the boundary leaves it whole.
"""

from __future__ import annotations

from typing import Any

from ci_bootstrap.deploy_permissions import (
    PASSABLE_TO_SERVICES,
    app_roles_arn,
    stack_tag,
    stack_tag_condition,
)
from ci_bootstrap.stack_names import names_for

# Where the boundaries live: their own path, which no deploy role may write to.
BOUNDARY_PATH = "/fargate-app-bootstrap/"
# The flow-log group's auto-name prefix (components/network.py: f"{name}-flow-logs", name
# "network"); a test holds the boundary to every log group the program creates.
FLOW_LOG_GROUP_PREFIX = "network-flow-logs-"
# What the AWS managed policy the program attaches grants (its document, AWS Managed Policy
# Reference: AmazonECSTaskExecutionRolePolicy v1), as (action, resource template) pairs.
MANAGED_POLICY_ACTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "service-role/AmazonECSTaskExecutionRolePolicy": (
        ("ecr:GetAuthorizationToken", "*"),
        ("ecr:BatchCheckLayerAvailability", "arn:{partition}:ecr:{region}:{account}:repository/r"),
        ("ecr:GetDownloadUrlForLayer", "arn:{partition}:ecr:{region}:{account}:repository/r"),
        ("ecr:BatchGetImage", "arn:{partition}:ecr:{region}:{account}:repository/r"),
        (
            "logs:CreateLogStream",
            "arn:{partition}:logs:{region}:{account}:log-group:/ecs/{project}/{stack}/app",
        ),
        (
            "logs:PutLogEvents",
            "arn:{partition}:logs:{region}:{account}:log-group:/ecs/{project}/{stack}/app"
            ":log-stream:app/app/0123",
        ),
    ),
}


def boundary_name(project: str, stack: str) -> str:
    """The boundary's IAM policy name (at most 128 characters: the role key is at most 41)."""
    return f"{project}-{names_for(stack).role_key}-app-roles-boundary"


def boundary_arn(partition: str, account: str, project: str, stack: str) -> str:
    """Known before the policy exists, so the deploy role's conditions can name it."""
    return f"arn:{partition}:iam::{account}:policy{BOUNDARY_PATH}{boundary_name(project, stack)}"


def boundary_document(partition: str, account: str, project: str, stack: str) -> dict[str, Any]:
    arn = f"arn:{partition}"
    logs = f"{arn}:logs:*:{account}:log-group"
    tagged = stack_tag_condition(f"aws:ResourceTag/{stack_tag(project)}", stack)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EcsAgentPullsImages",
                "Effect": "Allow",
                "Action": [
                    "ecr:GetAuthorizationToken",
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchGetImage",
                ],
                # A prebuilt image may live in another account's registry.
                "Resource": "*",
            },
            {
                "Sid": "WriteTheStacksLogsOnly",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                "Resource": [
                    f"{logs}:/ecs/{project}/{stack}/*",
                    f"{logs}:{FLOW_LOG_GROUP_PREFIX}*",
                ],
            },
            {
                "Sid": "ReadTheStacksSecretsByTag",
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue", "ssm:GetParameters"],
                "Resource": "*",
                "Condition": tagged,
            },
            {
                "Sid": "ReadTheStacksSecretsByName",
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue", "ssm:GetParameters"],
                "Resource": [
                    f"{arn}:secretsmanager:*:{account}:secret:{project}/{stack}/*",
                    f"{arn}:ssm:*:{account}:parameter/{project}/{stack}/*",
                ],
            },
            {
                # Secrets and parameters under a customer managed key, decrypted on their behalf.
                "Sid": "DecryptOnlyThroughSecretsManagerAndSsm",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": f"{arn}:kms:*:{account}:key/*",
                "Condition": {
                    "StringLike": {"kms:ViaService": ["secretsmanager.*.amazonaws.com", "ssm.*"]}
                },
            },
            {
                # ECS Exec sessions decrypted with the stack's key (components/exec_sessions.py),
                # which carries the stack's tag like every resource the program creates.
                "Sid": "DecryptWithTheStacksOwnKeys",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": f"{arn}:kms:*:{account}:key/*",
                "Condition": tagged,
            },
            {
                # ECS Exec's agent finds the sessions' log group first (no resource scope); it
                # writes under /ecs/<project>/<stack>/ like the app.
                "Sid": "EcsExecFindsItsLogGroup",
                "Effect": "Allow",
                "Action": "logs:DescribeLogGroups",
                "Resource": "*",
            },
            {
                # ssmmessages has no resource types: "*" is all IAM accepts.
                "Sid": "EcsExecChannels",
                "Effect": "Allow",
                "Action": [
                    "ssmmessages:CreateControlChannel",
                    "ssmmessages:CreateDataChannel",
                    "ssmmessages:OpenControlChannel",
                    "ssmmessages:OpenDataChannel",
                ],
                "Resource": "*",
            },
            {
                "Sid": "EcsReadsLoadBalancers",
                "Effect": "Allow",
                "Action": "elasticloadbalancing:Describe*",
                "Resource": "*",
            },
            {
                # Only the stack's own target groups, listeners and rules.
                "Sid": "EcsShiftsTheStacksLoadBalancerTraffic",
                "Effect": "Allow",
                # A service's own target groups and listener rule (components/roles.py
                # traffic_shift_statements): never a listener itself.
                "Action": [
                    "elasticloadbalancing:RegisterTargets",
                    "elasticloadbalancing:DeregisterTargets",
                    "elasticloadbalancing:ModifyRule",
                ],
                "Resource": f"{arn}:elasticloadbalancing:*:{account}:*",
                "Condition": tagged,
            },
            {
                # By the task definition's tag, not its family's name: `<project>-dev-*` would
                # also name the families of a stack called dev-eu.
                "Sid": "SchedulerStartsTheStacksJobs",
                "Effect": "Allow",
                "Action": "ecs:RunTask",
                "Resource": f"{arn}:ecs:*:{account}:task-definition/*",
                "Condition": tagged,
            },
            {
                # The tasks RunTask starts, tagged as they start (ecs:CreateAction).
                "Sid": "SchedulerTagsTheTasksItStarts",
                "Effect": "Allow",
                "Action": "ecs:TagResource",
                "Resource": f"{arn}:ecs:*:{account}:task/*",
                "Condition": {"StringEquals": {"ecs:CreateAction": "RunTask"}},
            },
            {
                # Scheduled jobs' dead letters, and the work queues of a stack's services: every
                # service sends, the worker receives (each role's own policy says which).
                "Sid": "UseTheStacksQueues",
                "Effect": "Allow",
                "Action": [
                    "sqs:SendMessage",
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "sqs:ChangeMessageVisibility",
                    "sqs:GetQueueAttributes",
                    "sqs:GetQueueUrl",
                ],
                "Resource": f"{arn}:sqs:*:{account}:*",
                "Condition": tagged,
            },
            {
                # The tasks that mount a file system of the stack (each role's own policy, and
                # the file system's, say which and how).
                "Sid": "MountTheStacksFileSystems",
                "Effect": "Allow",
                "Action": ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
                "Resource": f"{arn}:elasticfilesystem:*:{account}:file-system/*",
                "Condition": tagged,
            },
            {
                "Sid": "PassOnlyTheStacksRolesToEcsTasks",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": app_roles_arn(partition, account, project, stack),
                "Condition": {"StringEquals": {"iam:PassedToService": PASSABLE_TO_SERVICES[0]}},
            },
        ],
    }
