"""GitHub Actions' way into AWS: GitHub's OIDC identity provider and the roles the workflows assume.

No AWS key is stored anywhere: a workflow job asks GitHub for a short-lived OIDC token and trades it
for a role's credentials. Each role's trust policy names the one token subject it accepts:

- each stack's preview role: for the first stack of the promotion order
  `repo:OWNER/NAME:pull_request`, any pull request opened from a branch of the repository (a fork's
  run gets no token); for every later stack `repo:OWNER/NAME:environment:<stack>-preview`, a
  pull-request job that a reviewer let into that environment. Read-only, denied the APIs that
  return data, and reading only its own stack's state;
- each stack's deploy role: for the first stack `repo:OWNER/NAME:ref:refs/heads/main`, a job on
  main with no environment; for every later stack `repo:OWNER/NAME:environment:<stack>`, a job in
  the GitHub environment of its name, which is where the required reviewers (and the main-only
  branch rule) are enforced.

Which stack is first is .github/promotion.yml's to say, and every name a stack gets here is
ci_bootstrap.stack_names' (one rule, one place).

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

from ci_bootstrap.boundary import boundary_arn
from ci_bootstrap.deploy_permissions import (
    MANAGED_POLICIES_PER_ROLE_MAX,
    deploys_tag,
    document,
    guardrail_statements,
    iam_statements,
    pack,
    service_statements,
)
from ci_bootstrap.stack_names import names_for
from ci_bootstrap.state_bucket import PULUMI_STATE_META_KEY, stack_state_objects

# GitHub: an owner is letters, digits and single hyphens; a repository name adds `.` and `_`.
REPOSITORY_PATTERN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_URL = f"https://{GITHUB_OIDC_HOST}"
# The audience aws-actions/configure-aws-credentials requests for its token.
STS_AUDIENCE = "sts.amazonaws.com"
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
# ReadOnlyAccess also reads data. A pull request runs its own code with the preview role, so the
# role is denied what returns data rather than configuration (a preview never needs it).
# Its own stack's Pulumi state objects are the exception: the preview reads them.
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
    # Further reads ReadOnlyAccess allows that return stored data or credentials (each one checked
    # against the Service Authorization Reference by a test). ReadOnlyAccess grants hundreds of
    # reads and AWS adds more: this list is the known ones, not a proof (docs/security.md).
    "dynamodb:PartiQLSelect",
    "dynamodb:GetRecords",
    "dax:GetItem",
    "dax:BatchGetItem",
    "dax:Query",
    "dax:Scan",
    "es:ESHttpGet",
    "es:ESHttpHead",
    "cassandra:Select",
    "sdb:Select",
    "codecommit:GitPull",
    "codecommit:GetBlob",
    "codecommit:GetFile",
    "codeartifact:ReadFromRepository",
    "appconfig:GetConfiguration",
    "appconfig:GetLatestConfiguration",
    "athena:GetQueryResults",
    "athena:GetQueryResultsStream",
    "cognito-identity:GetCredentialsForIdentity",
    "cognito-identity:GetOpenIdToken",
    "kinesis:GetRecords",
    "sqs:ReceiveMessage",
    "ec2:GetPasswordData",
    "glacier:GetJobOutput",
    "secretsmanager:BatchGetSecretValue",
    "logs:GetLogRecord",
    "logs:GetQueryResults",
    "elasticfilesystem:ClientMount",
    "cloudformation:GetTemplate",
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


def preview_policy(
    partition: str, project: str, stack: str, denied_actions: tuple[str, ...], state: bool
) -> dict[str, Any]:
    """What a stack's preview role gets on top of ReadOnlyAccess: no data reads but its own
    stack's Pulumi state (the state bucket's policy lets it read exactly that)."""
    deny: dict[str, Any] = {
        "Sid": "NoDataReadsFromPullRequestCode",
        "Effect": "Deny",
        "Action": list(denied_actions),
        "Resource": "*",
    }
    if state:
        # The state bucket's own policy denies every other object in it; here, the stack's
        # state keys are exempt wherever they are (the bucket's ARN is not known yet).
        any_bucket = f"arn:{partition}:s3:::*"
        del deny["Resource"]
        deny["NotResource"] = [
            f"{any_bucket}/{PULUMI_STATE_META_KEY}",
            *stack_state_objects(any_bucket, project, stack),
        ]
    return document([deny])


def deploy_policy(
    account_id: str, partition: str, project: str, stack: str, boundary_arn: str
) -> dict[str, Any]:
    """The deploy role's inline policy: its IAM and the guardrails (explicit denies) that hold
    whatever else the role is given. Its state access is the state bucket's policy's."""
    statements = iam_statements(partition, account_id, project, stack, boundary_arn)
    statements += guardrail_statements(project)
    statements.append(
        {
            # A deploy must not widen its own trust or reach another stack's CI roles.
            "Sid": "NeverChangeTheCiRoles",
            "Effect": "Deny",
            "Action": "iam:*",
            "Resource": f"arn:{partition}:iam::{account_id}:role{ROLE_PATH}*",
        }
    )
    return document(statements)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass(frozen=True, kw_only=True)
class GitHubActionsRolesArgs:
    """Settings of the OIDC provider and the roles.

    repository: OWNER/NAME exactly as GitHub spells it; IAM compares the subject case-sensitively.
    deploy_subjects: stack -> the subject suffix its deploy role trusts (stack_names.deploy_subject:
        what deploy.yml's job for that stack presents). Required: the stacks this account holds.
    preview_subjects: stack -> the subject suffix its preview role trusts
        (stack_names.preview_subject). Default none: no preview roles.
    shared_preview_heir: the stack whose preview role takes over the one preview role older
        bootstraps made for every stack (`<name>-preview`), by alias: it keeps that role, its ARN
        and its policies instead of deleting them. Default None: no such role to keep.
    create_provider: create GitHub's OIDC provider. Default true; an account holds one provider
        per URL, so a second bootstrap in the same account (another repository) sets false and
        reuses it by its well-known ARN.
    deploy_managed_policies: AWS managed policy names attached to the deploy roles on top of their
        scoped policies (ci_bootstrap.deploy_permissions). Default none: each one widens what a
        push to main can do (the explicit denies still hold).
    preview_denied_actions: data-reading actions the preview roles are denied. Default
        PREVIEW_DENIED_DATA_READS.
    state: whether a state bucket holds the stacks' state (its policy, ci_bootstrap.state_bucket,
        lets each role reach its own stack's objects). Default true.
    domain_names: the DNS names whose records the deploy roles may write (each name and the
        ACM validation records beneath it). Default none: no deploy role writes a DNS record.
    app_project: the Pulumi project whose stacks are deployed, which names their state objects,
        role path and boundary. Default APP_PROJECT, the app's Pulumi.yaml name.
    protect: protect the roles from deletion. Default true: a role gone is a deploy that cannot
        run, and dropping a stack from deployStacks must be a deliberate `pulumi state unprotect`.
    tags: tags for every resource. Default none.
    """

    repository: str
    deploy_subjects: Mapping[str, str]
    preview_subjects: Mapping[str, str] = field(default_factory=dict)
    shared_preview_heir: str | None = None
    create_provider: bool = True
    deploy_managed_policies: tuple[str, ...] = ()
    preview_denied_actions: tuple[str, ...] = PREVIEW_DENIED_DATA_READS
    state: bool = True
    domain_names: tuple[str, ...] = ()
    app_project: str = APP_PROJECT
    protect: bool = True
    tags: Mapping[str, str] = field(default_factory=dict)

    def problems(self) -> list[str]:
        """What is wrong with these settings (empty when nothing is)."""
        problems = []
        if not REPOSITORY_PATTERN.match(self.repository):
            problems.append(
                f"repository {self.repository!r}: expected OWNER/NAME as GitHub spells it"
            )
        unknown = sorted(set(self.preview_subjects) - set(self.deploy_subjects))
        if unknown:
            problems.append(
                f"preview_subjects: stacks without a deploy role ({', '.join(unknown)})"
            )
        heir = self.shared_preview_heir
        if heir is not None and heir not in self.preview_subjects:
            problems.append(
                f"shared_preview_heir {heir!r}: the shared preview role's heir gets no preview role"
            )
        return problems


def aws_lookup_options(opts: pulumi.ResourceOptions | None) -> pulumi.InvokeOptions:
    """Options for an AWS lookup made before a component registers: the AWS provider that its
    children would use (given as `provider` or among `providers`, else its parent's)."""
    if opts is None:
        return pulumi.InvokeOptions()
    provider = opts.provider
    if provider is None and opts.providers:
        given = opts.providers.values() if isinstance(opts.providers, Mapping) else opts.providers
        provider = next((p for p in given if p.package == "aws"), None)
    return pulumi.InvokeOptions(parent=opts.parent, provider=provider)


class GitHubActionsRoles(pulumi.ComponentResource):
    """GitHub's OIDC provider and, per stack, a deploy role and a read-only preview role.

    Outputs:
        provider_arn: the OIDC provider's ARN (created or existing).
        preview_role_arns: stack -> its preview role's ARN (none when there are no previews).
        deploy_role_arns: stack -> its deploy role's ARN.
    """

    def __init__(
        self, name: str, args: GitHubActionsRolesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        if problems := args.problems():
            raise ValueError(f"GitHubActionsRoles {name!r}: " + "; ".join(problems))
        # The account is looked up before the component registers (with the provider it would
        # use), so a deploy role whose policies IAM could not attach leaves nothing in state.
        invoke = aws_lookup_options(opts)
        account_id = aws.get_caller_identity(opts=invoke).account_id
        partition = aws.get_partition(opts=invoke).partition
        # What the program's resources need, by service: customer managed policies, each within
        # IAM's size limit, that only the bootstrap writes.
        service_documents = {
            stack: pack(
                service_statements(
                    partition, account_id, args.app_project, stack, args.domain_names
                )
            )
            for stack in args.deploy_subjects
        }
        attached_max = MANAGED_POLICIES_PER_ROLE_MAX - len(args.deploy_managed_policies)
        too_many = [
            f"the {stack} deploy role would need {len(documents)} service policies and "
            f"{len(args.deploy_managed_policies)} managed ones: more than IAM's "
            f"{MANAGED_POLICIES_PER_ROLE_MAX} attached policies"
            for stack, documents in service_documents.items()
            if len(documents) > attached_max
        ]
        if too_many:
            raise ValueError(f"GitHubActionsRoles {name!r}: " + "; ".join(too_many))
        super().__init__("fargate-app:bootstrap:GitHubActionsRoles", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)

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
            logical: str,
            suffix: str,
            sid: str,
            description: str,
            max_session_s: int,
            aliases: list[pulumi.Alias],
            extra_tags: Mapping[str, str] | None = None,
        ) -> aws.iam.Role:
            extra_tags = extra_tags or {}
            return aws.iam.Role(
                logical,
                path=ROLE_PATH,
                description=description,
                assume_role_policy=provider_arn.apply(
                    lambda arn: json.dumps(trust_policy(arn, args.repository, suffix, sid))
                ),
                max_session_duration=max_session_s,
                tags={**tags, **extra_tags},
                opts=pulumi.ResourceOptions(parent=self, aliases=aliases, protect=args.protect),
            )

        def kept(old_name: str | None) -> list[pulumi.Alias]:
            """The old shared preview role's child `old_name`, taken over in place."""
            return [pulumi.Alias(name=old_name)] if old_name else []

        self.preview_role_arns: dict[str, pulumi.Output[str]] = {}
        for stack, suffix in args.preview_subjects.items():
            names = names_for(stack)
            heir = stack == args.shared_preview_heir
            logical = f"{name}-preview-{names.role_key}"
            preview = role(
                logical,
                suffix,
                f"Preview{names.sid}FromThisRepository",
                f"pulumi preview of the {stack} stack for pull requests of {args.repository} "
                f"({suffix}): read-only",
                PREVIEW_MAX_SESSION_S,
                kept(f"{name}-preview" if heir else None),
            )
            managed = _slug(PREVIEW_MANAGED_POLICY)
            aws.iam.RolePolicyAttachment(
                f"{logical}-{managed}",
                role=preview.name,
                policy_arn=f"arn:{partition}:iam::aws:policy/{PREVIEW_MANAGED_POLICY}",
                # Kept, not replaced: deleting the old attachment would detach the same policy
                # from the same role after the new one attached it.
                opts=pulumi.ResourceOptions(
                    parent=self, aliases=kept(f"{name}-preview-{managed}" if heir else None)
                ),
            )
            aws.iam.RolePolicy(
                f"{logical}-state-no-data",
                role=preview.name,
                policy=json.dumps(
                    preview_policy(
                        partition, args.app_project, stack, args.preview_denied_actions, args.state
                    )
                ),
                opts=pulumi.ResourceOptions(
                    parent=self, aliases=kept(f"{name}-preview-state-no-data" if heir else None)
                ),
            )
            self.preview_role_arns[stack] = preview.arn

        self.deploy_role_arns: dict[str, pulumi.Output[str]] = {}
        for stack, suffix in args.deploy_subjects.items():
            names = names_for(stack)
            logical = f"{name}-deploy-{names.role_key}"
            deploy = role(
                logical,
                suffix,
                f"Deploy{names.sid}FromThisRepository",
                f"pulumi up of the {stack} stack by {args.repository} ({suffix})",
                DEPLOY_MAX_SESSION_S,
                [],
                # The stack's alarm-topic key admits the role that carries this tag.
                {deploys_tag(args.app_project): stack},
            )
            for policy in args.deploy_managed_policies:
                aws.iam.RolePolicyAttachment(
                    f"{logical}-{_slug(policy)}",
                    role=deploy.name,
                    policy_arn=f"arn:{partition}:iam::aws:policy/{policy}",
                    opts=child,
                )
            documents = service_documents[stack]
            for number, policy_document in enumerate(documents, start=1):
                services = aws.iam.Policy(
                    f"{logical}-services-{number}",
                    path=ROLE_PATH,
                    description=f"pulumi up of the {stack} stack: the app's resources ({number})",
                    policy=json.dumps(policy_document),
                    tags=tags,
                    opts=child,
                )
                aws.iam.RolePolicyAttachment(
                    f"{logical}-services-{number}",
                    role=deploy.name,
                    policy_arn=services.arn,
                    opts=child,
                )
            aws.iam.RolePolicy(
                f"{logical}-app-iam-state",
                role=deploy.name,
                policy=json.dumps(
                    deploy_policy(
                        account_id,
                        partition,
                        args.app_project,
                        stack,
                        boundary_arn(partition, account_id, args.app_project, stack),
                    )
                ),
                opts=child,
            )
            self.deploy_role_arns[stack] = deploy.arn

        self.provider_arn = provider_arn
        self.register_outputs(
            {
                "provider_arn": self.provider_arn,
                "preview_role_arns": self.preview_role_arns,
                "deploy_role_arns": self.deploy_role_arns,
            }
        )
