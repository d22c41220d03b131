"""GitHub Actions' way into AWS: GitHub's OIDC identity provider and the roles the workflows assume.

No AWS key is stored anywhere: a workflow job asks GitHub for a short-lived OIDC token and trades it
for a role's credentials. Each role's trust policy names the one token subject it accepts:

- the preview role: `repo:OWNER/NAME:pull_request`, any pull request opened from a branch of the
  repository (a fork's run gets no token); read-only, and denied the APIs that return data;
- the dev deploy role: `repo:OWNER/NAME:ref:refs/heads/main`, a job on main with no environment;
- the prod deploy role: `repo:OWNER/NAME:environment:prod`, a job in the `prod` GitHub environment,
  which is where the required reviewers (and the main-only branch rule) are enforced.

Sources: https://docs.github.com/en/actions/reference/security/oidc (subjects) and
https://docs.github.com/en/actions/how-tos/secure-your-work/security-harden-deployments/oidc-in-aws.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

# GitHub: an owner is letters, digits and single hyphens; a repository name adds `.` and `_`.
REPOSITORY_PATTERN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_URL = f"https://{GITHUB_OIDC_HOST}"
# The audience aws-actions/configure-aws-credentials requests for its token.
STS_AUDIENCE = "sts.amazonaws.com"
# Stack -> the subject (after `repo:OWNER/NAME:`) its deploy role trusts; mirrors deploy.yml.
DEPLOY_SUBJECTS: dict[str, str] = {
    "dev": "ref:refs/heads/main",
    "prod": "environment:prod",
}
PREVIEW_SUBJECT = "pull_request"
# Every CI role lives under this path, so one Deny keeps the deploy roles off all of them.
ROLE_PATH = "/github-actions/"
# Longest session a role hands out (IAM allows 1 to 12 hours). Each workflow job asks for exactly
# this (configure-aws-credentials' role-duration-seconds) and a test holds job timeout < duration
# <= this. A deploy job may run its full 60-minute timeout: credentials that expire first would
# stop `pulumi up` half-way with ExpiredToken and leave pending operations in the state, so the
# deploy roles give two hours. Previews (30-minute timeout) keep IAM's default hour.
DEPLOY_MAX_SESSION_S = 2 * 3600
PREVIEW_MAX_SESSION_S = 3600
PREVIEW_MANAGED_POLICY = "ReadOnlyAccess"
# The Pulumi project the deploy roles deploy: the app's Pulumi.yaml `name` (a test keeps the two
# equal). A stack's objects in the state bucket are named after it.
APP_PROJECT = "fargate-app"
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
    ".pulumi/history/{project}/{stack}/*",
    ".pulumi/backups/{project}/{stack}/*",
    ".pulumi/journal/{project}/{stack}/*",
    ".pulumi/locks/organization/{project}/{stack}/*",
)
# ReadOnlyAccess also reads data. A pull request runs its own code with the preview role, so the
# role is denied what returns data rather than configuration (a preview never needs it).
# Pulumi state objects in the state bucket are the exception: the preview reads them.
PREVIEW_DENIED_DATA_READS: tuple[str, ...] = (
    "s3:GetObject",
    "s3:GetObjectVersion",
    "secretsmanager:GetSecretValue",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "ssm:GetParameterHistory",
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "logs:GetLogEvents",
    "logs:FilterLogEvents",
    "logs:StartQuery",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchGetImage",
    "lambda:GetFunction",
)
# PowerUserAccess allows everything but IAM; the app creates its own task roles and policies.
APP_IAM_ACTIONS: tuple[str, ...] = (
    "iam:CreateRole",
    "iam:DeleteRole",
    "iam:GetRole",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
    "iam:UpdateAssumeRolePolicy",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:ListRoleTags",
    "iam:PutRolePolicy",
    "iam:GetRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:ListRolePolicies",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:ListInstanceProfilesForRole",
    "iam:CreatePolicy",
    "iam:DeletePolicy",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "iam:CreatePolicyVersion",
    "iam:DeletePolicyVersion",
    "iam:ListPolicyVersions",
    "iam:TagPolicy",
    "iam:UntagPolicy",
)
# The services the app's roles are handed to: ECS tasks, ECS itself (the infrastructure role of
# blue/green and canary deploys), VPC flow logs, and EventBridge rules and schedules that start
# tasks.
PASSABLE_TO_SERVICES: tuple[str, ...] = (
    "ecs-tasks.amazonaws.com",
    "ecs.amazonaws.com",
    "vpc-flow-logs.amazonaws.com",
    "events.amazonaws.com",
    "scheduler.amazonaws.com",
)


def subject(repository: str, suffix: str) -> str:
    return f"repo:{repository}:{suffix}"


def trust_policy(provider_arn: str, repository: str, suffix: str, sid: str) -> dict[str, Any]:
    """Trust GitHub's OIDC tokens for exactly one subject of one repository (no wildcard)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": sid,
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{GITHUB_OIDC_HOST}:aud": STS_AUDIENCE,
                        f"{GITHUB_OIDC_HOST}:sub": subject(repository, suffix),
                    }
                },
            }
        ],
    }


def preview_policy(state_bucket_arn: str | None, denied_actions: tuple[str, ...]) -> dict[str, Any]:
    """What the preview role gets on top of ReadOnlyAccess: reading state, and no data reads."""
    statements: list[dict[str, Any]] = []
    deny: dict[str, Any] = {
        "Sid": "NoDataReadsFromPullRequestCode",
        "Effect": "Deny",
        "Action": list(denied_actions),
        "Resource": "*",
    }
    if state_bucket_arn:
        statements.append(
            {
                "Sid": "ReadPulumiStateForPreviews",
                "Effect": "Allow",
                "Action": ["s3:ListBucket", "s3:GetBucketLocation", "s3:GetObject"],
                "Resource": [state_bucket_arn, f"{state_bucket_arn}/*"],
            }
        )
        del deny["Resource"]
        deny["NotResource"] = [f"{state_bucket_arn}/*"]
    statements.append(deny)
    return {"Version": "2012-10-17", "Statement": statements}


def stack_state_objects(bucket_arn: str, project: str, stack: str) -> list[str]:
    """The ARNs of one stack's objects in the state bucket (PULUMI_STACK_STATE_KEYS)."""
    return [
        f"{bucket_arn}/{key.format(project=project, stack=stack)}"
        for key in PULUMI_STACK_STATE_KEYS
    ]


def deploy_policy(
    account_id: str,
    partition: str,
    state_bucket_arn: str | None,
    project: str,
    stack: str,
) -> dict[str, Any]:
    """What a deploy role gets on top of its managed policies: the app's IAM, never the CI's, and
    its own stack's state, never another stack's."""
    roles = f"arn:{partition}:iam::{account_id}:role/*"
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ManageTheAppsRolesAndPolicies",
            "Effect": "Allow",
            "Action": list(APP_IAM_ACTIONS),
            "Resource": [roles, f"arn:{partition}:iam::{account_id}:policy/*"],
        },
        {
            "Sid": "PassTheAppsRolesToItsServicesOnly",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": roles,
            "Condition": {"StringEquals": {"iam:PassedToService": list(PASSABLE_TO_SERVICES)}},
        },
        {
            # A deploy must not widen its own trust or reach the other stack's role.
            "Sid": "NeverChangeTheCiRoles",
            "Effect": "Deny",
            "Action": "iam:*",
            "Resource": f"arn:{partition}:iam::{account_id}:role{ROLE_PATH}*",
        },
    ]
    if state_bucket_arn:
        statements += [
            {
                # Names only, never contents. Pulumi lists a prefix to find which variant of the
                # checkpoint exists and whether the stack is locked, and without ListBucket S3
                # answers a missing key with 403 instead of 404, which Pulumi takes for an error.
                "Sid": "ListPulumiState",
                "Effect": "Allow",
                "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
                "Resource": state_bucket_arn,
            },
            {
                # Every CLI reads the backend's layout version at login; a person writes it with
                # the first `pulumi stack init`.
                "Sid": "ReadPulumiStateLayout",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": f"{state_bucket_arn}/{PULUMI_STATE_META_KEY}",
            },
            {
                # This stack's checkpoint, backups, history, journal and locks only: a deploy of
                # dev can neither read prod's state (and its secrets) nor overwrite it.
                "Sid": f"ReadAndWriteThe{stack.capitalize()}StacksStateOnly",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                "Resource": stack_state_objects(state_bucket_arn, project, stack),
            },
        ]
    return {"Version": "2012-10-17", "Statement": statements}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass(frozen=True, kw_only=True)
class GitHubActionsRolesArgs:
    """Settings of the OIDC provider and the roles.

    repository: OWNER/NAME exactly as GitHub spells it; IAM compares the subject case-sensitively.
    deploy_subjects: stack -> trusted subject suffix. Default DEPLOY_SUBJECTS (dev: main branch,
        prod: prod environment), which is what deploy.yml's jobs present.
    preview: create the pull-request preview role. Default true: reviewers see the diff.
    create_provider: create GitHub's OIDC provider. Default true; an account holds one provider
        per URL, so a second bootstrap in the same account (another repository) sets false and
        reuses it by its well-known ARN.
    deploy_managed_policies: AWS managed policy names for the deploy roles. Default PowerUserAccess:
        everything but IAM, whose part the app needs is granted separately (APP_IAM_ACTIONS).
    preview_denied_actions: data-reading actions the preview role is denied. Default
        PREVIEW_DENIED_DATA_READS.
    state_bucket_arn: the Pulumi state bucket, read by previews and written by deploys, each
        deploy role only its own stack's objects. Default none (Pulumi Cloud).
    app_project: the Pulumi project whose stacks are deployed, which names their state objects.
        Default APP_PROJECT, the app's Pulumi.yaml name.
    tags: tags for every resource. Default none.
    """

    repository: str
    deploy_subjects: Mapping[str, str] = field(default_factory=lambda: dict(DEPLOY_SUBJECTS))
    preview: bool = True
    create_provider: bool = True
    deploy_managed_policies: tuple[str, ...] = ("PowerUserAccess",)
    preview_denied_actions: tuple[str, ...] = PREVIEW_DENIED_DATA_READS
    state_bucket_arn: pulumi.Input[str] | None = None
    app_project: str = APP_PROJECT
    tags: Mapping[str, str] = field(default_factory=dict)

    def problems(self) -> list[str]:
        """What is wrong with these settings (empty when nothing is)."""
        if not REPOSITORY_PATTERN.match(self.repository):
            return [f"repository {self.repository!r}: expected OWNER/NAME as GitHub spells it"]
        return []


class GitHubActionsRoles(pulumi.ComponentResource):
    """GitHub's OIDC provider, the read-only preview role and one deploy role per stack.

    Outputs:
        provider_arn: the OIDC provider's ARN (created or existing).
        preview_role_arn: the preview role's ARN, or None when `preview` is false.
        deploy_role_arns: stack -> its deploy role's ARN.
    """

    def __init__(
        self, name: str, args: GitHubActionsRolesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("fargate-app:bootstrap:GitHubActionsRoles", name, None, opts)
        if problems := args.problems():
            raise ValueError(f"GitHubActionsRoles {name!r}: " + "; ".join(problems))
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOptions(parent=self)
        account_id = aws.get_caller_identity(opts=invoke).account_id
        partition = aws.get_partition(opts=invoke).partition
        tags = dict(args.tags)
        state_bucket = pulumi.Output.from_input(args.state_bucket_arn)

        if args.create_provider:
            provider = aws.iam.OpenIdConnectProvider(
                f"{name}-oidc",
                url=GITHUB_OIDC_URL,
                client_id_lists=[STS_AUDIENCE],
                # No thumbprint: AWS verifies GitHub's endpoint against its trusted root CAs.
                tags=tags,
                opts=child,
            )
            provider_arn: pulumi.Output[str] = provider.arn
        else:
            provider_arn = pulumi.Output.from_input(
                f"arn:{partition}:iam::{account_id}:oidc-provider/{GITHUB_OIDC_HOST}"
            )

        def role(
            logical: str, suffix: str, sid: str, description: str, max_session_s: int
        ) -> aws.iam.Role:
            return aws.iam.Role(
                logical,
                path=ROLE_PATH,
                description=description,
                assume_role_policy=provider_arn.apply(
                    lambda arn: json.dumps(trust_policy(arn, args.repository, suffix, sid))
                ),
                max_session_duration=max_session_s,
                tags=tags,
                opts=child,
            )

        self.preview_role_arn: pulumi.Output[str] | None = None
        if args.preview:
            preview = role(
                f"{name}-preview",
                PREVIEW_SUBJECT,
                "PullRequestsFromThisRepository",
                f"pulumi preview for pull requests of {args.repository}: read-only",
                PREVIEW_MAX_SESSION_S,
            )
            aws.iam.RolePolicyAttachment(
                f"{name}-preview-{_slug(PREVIEW_MANAGED_POLICY)}",
                role=preview.name,
                policy_arn=f"arn:{partition}:iam::aws:policy/{PREVIEW_MANAGED_POLICY}",
                opts=child,
            )
            aws.iam.RolePolicy(
                f"{name}-preview-state-no-data",
                role=preview.name,
                policy=state_bucket.apply(
                    lambda arn: json.dumps(preview_policy(arn, args.preview_denied_actions))
                ),
                opts=child,
            )
            self.preview_role_arn = preview.arn

        def deploy_policy_json(stack: str) -> pulumi.Output[str]:
            # A function, not a lambda in the loop: apply runs later, after `stack` has moved on.
            return state_bucket.apply(
                lambda arn: json.dumps(
                    deploy_policy(account_id, partition, arn, args.app_project, stack)
                )
            )

        self.deploy_role_arns: dict[str, pulumi.Output[str]] = {}
        for stack, suffix in args.deploy_subjects.items():
            deploy = role(
                f"{name}-deploy-{stack}",
                suffix,
                f"Deploy{stack.capitalize()}FromThisRepository",
                f"pulumi up of the {stack} stack by {args.repository} ({suffix})",
                DEPLOY_MAX_SESSION_S,
            )
            for policy in args.deploy_managed_policies:
                aws.iam.RolePolicyAttachment(
                    f"{name}-deploy-{stack}-{_slug(policy)}",
                    role=deploy.name,
                    policy_arn=f"arn:{partition}:iam::aws:policy/{policy}",
                    opts=child,
                )
            aws.iam.RolePolicy(
                f"{name}-deploy-{stack}-app-iam-state",
                role=deploy.name,
                policy=deploy_policy_json(stack),
                opts=child,
            )
            self.deploy_role_arns[stack] = deploy.arn

        self.provider_arn = provider_arn
        self.register_outputs(
            {
                "provider_arn": self.provider_arn,
                "preview_role_arn": self.preview_role_arn,
                "deploy_role_arns": self.deploy_role_arns,
            }
        )
