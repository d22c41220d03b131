"""Roles: the task execution role (ECS's agent pulls the image, writes logs, reads the app's
secrets), the app's own role, and, for blue/green and canary deploys, the ECS infrastructure role.

The task roles trust only ecs-tasks.amazonaws.com acting for this account, so another account's task
cannot assume them (the confused-deputy guard AWS recommends:
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html#create_task_iam_policy_and_role).
The infrastructure role trusts ecs.amazonaws.com for this account; its permissions are the part of
the AWS managed policy for it that ECS uses on this service's own load balancer resources
(`traffic_shift_statements`), granted by the service, which knows them (components.service).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.exec_sessions import ExecSessionRecord
from components.secrets import read_statements
from components.spec import RolePlacement, check_args

ECS_TASKS_PRINCIPAL = "ecs-tasks.amazonaws.com"
ECS_PRINCIPAL = "ecs.amazonaws.com"
# The AWS managed policy for the ECS agent: pull from ECR and write to CloudWatch Logs. Its ARN's
# partition is the account's (aws, aws-cn, aws-us-gov).
EXECUTION_POLICY = "service-role/AmazonECSTaskExecutionRolePolicy"
# What ECS does with a service's load balancer in blue/green and canary deploys: the AWS managed
# policy AmazonECSInfrastructureRolePolicyForLoadBalancers (v6, AWS Managed Policy Reference)
# grants these on every target group, listener and rule of the account; `traffic_shift_statements`
# grants them on the service's own. Its ModifyListener (ALB and NLB listeners) is left out: ECS
# shifts this service's traffic by the weights of its listener rule (the production listener rule
# it is given), never by a listener's default action.
LOAD_BALANCER_READ_ACTIONS = (
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeRules",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth",
)
TARGET_REGISTRATION_ACTIONS = (
    "elasticloadbalancing:RegisterTargets",
    "elasticloadbalancing:DeregisterTargets",
)
LISTENER_RULE_ACTIONS = ("elasticloadbalancing:ModifyRule",)
# ECS Exec: the SSM agent in the task opens its session channels with these, and nothing else.
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html#ecs-exec-required-iam-permissions
EXEC_ACTIONS = (
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
)
EXEC_SID = "EcsExecSessionChannelsAwsOffersNoResourceScopeForThese"
# Recording sessions in their log group, and decrypting them with their key (ECS developer guide,
# "ECS Exec": IAM permissions for CloudWatch Logs logging and for encryption with your own key).
EXEC_LOG_GROUP_READ_ACTIONS = ("logs:DescribeLogGroups",)
EXEC_LOG_WRITE_ACTIONS = ("logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents")
EXEC_KEY_ACTIONS = ("kms:Decrypt",)


def exec_statements(key_arn: str | None = None, log_group_arn: str | None = None) -> list[dict]:
    """The task role's grant for ECS Exec. ssmmessages has no resource types, so "*" is the only
    resource IAM accepts; the actions are what limits it. With the sessions recorded
    (components.exec_sessions): writing to their log group and decrypting with their key."""
    statements: list[dict] = [
        {"Sid": EXEC_SID, "Effect": "Allow", "Action": list(EXEC_ACTIONS), "Resource": "*"}
    ]
    if log_group_arn is not None:
        statements += [
            {
                # The agent looks its log group up first; DescribeLogGroups has no resource scope.
                "Sid": "FindTheSessionLogGroupDescribeHasNoResourceScope",
                "Effect": "Allow",
                "Action": list(EXEC_LOG_GROUP_READ_ACTIONS),
                "Resource": "*",
            },
            {
                "Sid": "RecordExecSessionsInTheirLogGroupOnly",
                "Effect": "Allow",
                "Action": list(EXEC_LOG_WRITE_ACTIONS),
                "Resource": [log_group_arn, f"{log_group_arn}:*"],
            },
        ]
    if key_arn is not None:
        statements.append(
            {
                "Sid": "DecryptExecSessionsWithTheirKeyOnly",
                "Effect": "Allow",
                "Action": list(EXEC_KEY_ACTIONS),
                "Resource": key_arn,
            }
        )
    return statements


def traffic_shift_statements(
    target_group_arns: list[str], listener_rule_arn: str
) -> list[dict[str, object]]:
    """The infrastructure role's grant for one service: read the load balancer's state, move the
    service's tasks between its two target groups, and reweight its listener rule."""
    return [
        {
            # Elastic Load Balancing's Describe* actions have no resource types.
            "Sid": "ReadListenersRulesAndTargetHealthDescribeHasNoResourceScope",
            "Effect": "Allow",
            "Action": list(LOAD_BALANCER_READ_ACTIONS),
            "Resource": "*",
        },
        {
            "Sid": "RegisterTasksInThisServicesTwoTargetGroups",
            "Effect": "Allow",
            "Action": list(TARGET_REGISTRATION_ACTIONS),
            "Resource": sorted(target_group_arns),
        },
        {
            "Sid": "ShiftTrafficByThisServicesListenerRuleWeights",
            "Effect": "Allow",
            "Action": list(LISTENER_RULE_ACTIONS),
            "Resource": listener_rule_arn,
        },
    ]


def ecs_infrastructure_trust_policy(account_id: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "EcsOfThisAccountShiftsLoadBalancerTraffic",
                    "Effect": "Allow",
                    "Principal": {"Service": ECS_PRINCIPAL},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
                }
            ],
        }
    )


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


@dataclass(frozen=True, kw_only=True)
class TaskRolesArgs:
    """Settings of the task roles.

    task_policy_statements: IAM statements the app itself needs (each with a Sid saying why, and
        specific resources, which may be outputs). Default none: the sample app calls no AWS API,
        so its role can do nothing; least privilege starts at zero.
    secret_arns: Secrets Manager secret and SSM parameter ARNs the container gets as `secrets`;
        the execution role may read exactly these (see components.secrets). Default none: no
        statement at all.
    enable_exec: let the task role open ECS Exec sessions (four ssmmessages actions). Default
        False: nobody can shell into a task.
    exec_sessions: with enable_exec, where the cluster records sessions and the key that encrypts
        them (components.exec_sessions): the task role may write that log group and decrypt with
        that key, nothing more. Default None: sessions are neither recorded nor encrypted by a key
        of the stack's.
    load_balancer_infrastructure: create the role ECS assumes to shift load balancer traffic in
        blue/green and canary deploys, with no permission yet: each service grants it what it
        needs on its own target groups and rule (traffic_shift_statements). Default False: rolling
        deploys need no such role.
    roles: where the roles go (IAM path) and their permissions boundary. Default IAM's root path
        and no boundary; the program passes the stack's path and the stack's boundary.
    """

    task_policy_statements: tuple[dict, ...] = field(default_factory=tuple)
    secret_arns: tuple[pulumi.Input[str], ...] = field(default_factory=tuple)
    enable_exec: bool = False
    exec_sessions: ExecSessionRecord | None = None
    load_balancer_infrastructure: bool = False
    roles: RolePlacement = field(default_factory=RolePlacement)

    def problems(self) -> list[str]:
        """What is wrong with these settings (empty when nothing is)."""
        return [
            f"task_policy_statements[{i}]: each statement needs a Sid saying what it allows and why"
            for i, statement in enumerate(self.task_policy_statements)
            if not statement.get("Sid")
        ] + [f"roles: {p}" for p in self.roles.problems()]


class TaskRoles(pulumi.ComponentResource):
    """Execution role (AWS managed execution policy, plus reading the app's secrets), a separate,
    least-privilege task role, and the ECS infrastructure role when asked.

    Outputs:
        execution_role_arn, execution_role_name: for the task definition and extra grants. The ARN
            resolves only once the role's policies exist, so a task that uses it never starts
            without them.
        task_role_arn, task_role_name: the app's own role (ARN likewise after its policies).
        infrastructure_role_arn, infrastructure_role_name: the ECS infrastructure role for load
            balancers, or None; its permissions come from the services that use it.
    """

    def __init__(
        self, name: str, args: TaskRolesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(f"TaskRoles {name!r}", args.problems())
        super().__init__("fargate-app:roles:TaskRoles", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOptions(parent=self)
        account_id = aws.get_caller_identity(opts=invoke).account_id
        partition = aws.get_partition(opts=invoke).partition
        region = aws.get_region(opts=invoke).region
        trust = ecs_tasks_trust_policy(account_id, partition, region)

        execution = aws.iam.Role(
            f"{name}-exec",
            description="ECS agent: pulls the app's image, writes its logs, reads its secrets",
            assume_role_policy=trust,
            path=args.roles.path,
            permissions_boundary=args.roles.permissions_boundary,
            opts=child,
        )
        execution_grants: list[pulumi.CustomResource] = [
            aws.iam.RolePolicyAttachment(
                f"{name}-exec-policy",
                role=execution.name,
                policy_arn=f"arn:{partition}:iam::aws:policy/{EXECUTION_POLICY}",
                opts=child,
            )
        ]
        if args.secret_arns:
            execution_grants.append(
                aws.iam.RolePolicy(
                    f"{name}-exec-secrets",
                    role=execution.name,
                    policy=pulumi.Output.all(*args.secret_arns).apply(
                        lambda arns: json.dumps(
                            {"Version": "2012-10-17", "Statement": read_statements(arns)}
                        )
                    ),
                    opts=child,
                )
            )
        task = aws.iam.Role(
            f"{name}-task",
            description="The app's own AWS permissions (none unless granted)",
            assume_role_policy=trust,
            path=args.roles.path,
            permissions_boundary=args.roles.permissions_boundary,
            opts=child,
        )
        task_grants: list[pulumi.CustomResource] = []
        if args.task_policy_statements:
            task_grants.append(
                aws.iam.RolePolicy(
                    f"{name}-task-policy",
                    role=task.name,
                    # Statements may name resources by their outputs (a queue's ARN).
                    policy=pulumi.Output.json_dumps(
                        {"Version": "2012-10-17", "Statement": list(args.task_policy_statements)}
                    ),
                    opts=child,
                )
            )
        if args.enable_exec:
            record = args.exec_sessions
            grant: pulumi.Input[str] = (
                json.dumps({"Version": "2012-10-17", "Statement": exec_statements()})
                if record is None
                else pulumi.Output.all(record.key_arn, record.log_group_arn).apply(
                    lambda arns: json.dumps(
                        {"Version": "2012-10-17", "Statement": exec_statements(*arns)}
                    )
                )
            )
            # Its own policy, so switching exec off removes exactly this grant.
            task_grants.append(
                aws.iam.RolePolicy(f"{name}-task-exec", role=task.name, policy=grant, opts=child)
            )
        self.infrastructure_role_arn: pulumi.Output[str] | None = None
        self.infrastructure_role_name: pulumi.Output[str] | None = None
        if args.load_balancer_infrastructure:
            infrastructure = aws.iam.Role(
                f"{name}-ecs-infra",
                description="ECS: shifts load balancer traffic in blue/green and canary deploys",
                assume_role_policy=ecs_infrastructure_trust_policy(account_id),
                path=args.roles.path,
                permissions_boundary=args.roles.permissions_boundary,
                opts=child,
            )
            self.infrastructure_role_arn = infrastructure.arn
            self.infrastructure_role_name = infrastructure.name

        self.execution_role_arn: pulumi.Output[str] = _after(execution.arn, execution_grants)
        self.execution_role_name: pulumi.Output[str] = execution.name
        self.task_role_arn: pulumi.Output[str] = _after(task.arn, task_grants)
        self.task_role_name: pulumi.Output[str] = task.name
        self.register_outputs(
            {
                "execution_role_arn": self.execution_role_arn,
                "execution_role_name": self.execution_role_name,
                "task_role_arn": self.task_role_arn,
                "task_role_name": self.task_role_name,
                "infrastructure_role_arn": self.infrastructure_role_arn,
                "infrastructure_role_name": self.infrastructure_role_name,
            }
        )


def _after(arn: pulumi.Output[str], grants: list[pulumi.CustomResource]) -> pulumi.Output[str]:
    """`arn`, resolving only once `grants` exist: whatever uses it depends on them too (a role
    without its policies would fail a task's start, or leave a deleted service draining)."""
    if not grants:
        return arn
    return pulumi.Output.all(arn, *[g.id for g in grants]).apply(lambda a: a[0])
