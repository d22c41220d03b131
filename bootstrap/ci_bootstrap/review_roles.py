"""The review stacks' CI roles: one deploys a pull request's stack, one sweeps stacks away.

A review stack (`pr-<number>`, docs/review-stacks.md) is deployed by a pull request's own workflow
files, so nothing in the repository's workflows can hold what a run may do with a role: the roles
themselves, and the GitHub environments their trust names, are the whole defence.

- The review deploy role trusts exactly `repo:OWNER/NAME:environment:pr-review`: a job a required
  reviewer let into that environment, after reading the pull request (its workflow files too).
- The sweep role trusts exactly `repo:OWNER/NAME:environment:pr-sweep`: the scheduled sweep, which
  that environment admits from main alone (a pull request's run is refused it), so only main's
  code ever holds it.

Both get what a stack's deploy role gets (ci_bootstrap.deploy_permissions), for the whole family
`pr-*` at once: the app's resource types in this account, by service; IAM only for roles under
`/<project>/pr-*/` and only with the review stacks' permissions boundary; the same explicit denies
(no boundary removed, no policy versions, no CI role touched, no users, no sts:AssumeRole). Their
state is the state bucket's policy's to grant (the `pr-*` objects only), their secrets the review
stacks' key's (ci_bootstrap.stack_guardrails). The sweep role needs the deploy role's powers to
destroy what it deployed; it is the environment, not the policy, that keeps it for main's code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from ci_bootstrap.boundary import boundary_arn
from ci_bootstrap.deploy_permissions import (
    MANAGED_POLICIES_PER_ROLE_MAX,
    RESOURCE_TYPES,
    pack,
    service_statements,
)
from ci_bootstrap.github_roles import (
    APP_PROJECT,
    DEPLOY_MAX_SESSION_S,
    ROLE_PATH,
    aws_lookup_options,
    deploy_policy,
    trust_policy,
)
from ci_bootstrap.stack_names import REVIEW, REVIEW_STACKS

# Resource types a review stack never makes (.github/scripts/review_stacks.py turns off what would
# make them: alarmTopicEncryption and enableExec the KMS keys, accessLogs the S3 bucket; a test
# keeps the two in step), so the review roles get none of their rows. It matters beyond least
# privilege. Tagging a key at its creation needs kms:TagResource on "*", with which a review role
# could tag any untagged key of the account that IAM governs `pr-*`, which the review boundary
# then lets review app roles use. And S3 grants reach the program's buckets by name
# (`alb-logs-bucket-*`, no tags), the base stack's access logs included.
REVIEW_STACKS_MAKE_NO = (
    "aws:kms/key:Key",
    *(token for token in RESOURCE_TYPES if token.startswith("aws:s3/")),
)


@dataclass(frozen=True, kw_only=True)
class ReviewStackRolesArgs:
    """Settings of the review stacks' roles.

    repository: OWNER/NAME exactly as GitHub spells it; IAM compares the subject case-sensitively.
        Required.
    provider_arn: GitHub's OIDC provider in this account (GitHubActionsRoles.provider_arn).
        Required.
    deploy_subject: the subject suffix the review deploy role trusts. Default
        REVIEW.deploy_subject (`environment:pr-review`), what review-stack.yml's deploy job
        presents.
    sweep_subject: the subject suffix the sweep role trusts. Default REVIEW.sweep_subject
        (`environment:pr-sweep`), what review-sweep.yml's jobs present.
    app_project: the Pulumi project whose review stacks these roles serve. Default APP_PROJECT.
    protect: protect the roles from deletion. Default true, as the stacks' roles: turning review
        stacks off must be a deliberate `pulumi state unprotect`, not a side effect.
    tags: tags for every resource. Default none.
    """

    repository: str
    provider_arn: pulumi.Input[str]
    deploy_subject: str = REVIEW.deploy_subject
    sweep_subject: str = REVIEW.sweep_subject
    app_project: str = APP_PROJECT
    protect: bool = True
    tags: Mapping[str, str] = field(default_factory=dict)

    def problems(self) -> list[str]:
        """What is wrong with these settings (empty when nothing is)."""
        if self.deploy_subject == self.sweep_subject:
            return [
                f"deploy_subject and sweep_subject are both {self.deploy_subject!r}: the review "
                "deploy and sweep roles must trust different subjects, since the sweep's "
                "environment admits main only"
            ]
        return []


class ReviewStackRoles(pulumi.ComponentResource):
    """The review deploy role and the sweep role, with the same scoped policies.

    Outputs:
        deploy_role_arn: the review deploy role's ARN (variable AWS_ROLE_ARN_PR).
        sweep_role_arn: the sweep role's ARN (variable AWS_ROLE_ARN_PR_SWEEP).

    The boundary their IAM grants name is the review stacks' StackGuardrails' (same ARN, by name).
    """

    def __init__(
        self, name: str, args: ReviewStackRolesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        problems = args.problems()
        # The account is looked up before the component registers (with the provider it would
        # use), so roles whose policies IAM could not attach leave nothing in state.
        invoke = aws_lookup_options(opts)
        account_id = aws.get_caller_identity(opts=invoke).account_id
        partition = aws.get_partition(opts=invoke).partition
        documents = pack(
            service_statements(
                partition,
                account_id,
                args.app_project,
                REVIEW_STACKS,
                leave_out=REVIEW_STACKS_MAKE_NO,
            )
        )
        if len(documents) > MANAGED_POLICIES_PER_ROLE_MAX:
            problems.append(
                f"the review roles would need {len(documents)} service policies: more than IAM's "
                f"{MANAGED_POLICIES_PER_ROLE_MAX} attached policies"
            )
        if problems:
            raise ValueError(f"ReviewStackRoles {name!r}: " + "; ".join(problems))
        super().__init__("fargate-app:bootstrap:ReviewStackRoles", name, None, opts)
        tags = dict(args.tags)
        boundary = boundary_arn(partition, account_id, args.app_project, REVIEW_STACKS)
        services = [
            aws.iam.Policy(
                f"{name}-services-{number}",
                path=ROLE_PATH,
                description=f"pulumi up and destroy of the review stacks: the app's resources "
                f"({number})",
                policy=json.dumps(policy_document),
                tags=tags,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for number, policy_document in enumerate(documents, start=1)
        ]

        def role(kind: str, subject: str, sid: str, description: str) -> aws.iam.Role:
            logical = f"{name}-{kind}"
            created = aws.iam.Role(
                logical,
                path=ROLE_PATH,
                description=description,
                assume_role_policy=pulumi.Output.from_input(args.provider_arn).apply(
                    lambda arn: json.dumps(trust_policy(arn, args.repository, subject, sid))
                ),
                max_session_duration=DEPLOY_MAX_SESSION_S,
                tags=tags,
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
            )
            for number, policy in enumerate(services, start=1):
                aws.iam.RolePolicyAttachment(
                    f"{logical}-services-{number}",
                    role=created.name,
                    policy_arn=policy.arn,
                    opts=pulumi.ResourceOptions(parent=self),
                )
            aws.iam.RolePolicy(
                f"{logical}-app-iam-state",
                role=created.name,
                policy=json.dumps(
                    deploy_policy(account_id, partition, args.app_project, REVIEW_STACKS, boundary)
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            return created

        sid = REVIEW.names.sid
        deploy = role(
            "deploy",
            args.deploy_subject,
            f"Deploy{sid}StacksFromThisRepository",
            f"pulumi up of a pull request's review stack (pr-*) by {args.repository} "
            f"({args.deploy_subject})",
        )
        sweep = role(
            "sweep",
            args.sweep_subject,
            f"Sweep{sid}StacksFromThisRepository",
            f"pulumi destroy of review stacks (pr-*) whose pull request closed or went idle, by "
            f"{args.repository} ({args.sweep_subject})",
        )

        self.deploy_role_arn: pulumi.Output[str] = deploy.arn
        self.sweep_role_arn: pulumi.Output[str] = sweep.arn
        self.register_outputs(
            {"deploy_role_arn": self.deploy_role_arn, "sweep_role_arn": self.sweep_role_arn}
        )
