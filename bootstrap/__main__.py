"""fargate-app-bootstrap: what the fargate-app workflows need in an AWS account, run once.

    config -> GitHub OIDC provider and each stack's roles -> the review stacks' roles (if this
    account holds them) -> each stack's (and the review stacks') permissions boundary and secrets
    key -> state bucket (self-managed backend only), each role to its own stack's state -> outputs

The outputs are the values to store as GitHub variables (`githubVariables`). Every variable but
AWS_REGION is named after the stack it serves (AWS_ROLE_ARN_PREVIEW_PROD, PULUMI_BACKEND_URL_PROD,
by ci_bootstrap.stack_names' rule; the review stacks' end in _PR), so with one account per
environment each account's bootstrap gives its own stacks' variables and the sets never collide.
`stackSettings` gives, per stack, the commands that point the app's stack at its boundary and its
secrets key (the review workflow does that for each review stack from the _PR variables).
"""

import pulumi
import pulumi_aws as aws
from ci_bootstrap.account_checks import caller_problem, deletion_problem
from ci_bootstrap.config import ConfigError, from_pulumi
from ci_bootstrap.github_roles import APP_PROJECT, GitHubActionsRoles, GitHubActionsRolesArgs
from ci_bootstrap.review_roles import ReviewStackRoles, ReviewStackRolesArgs
from ci_bootstrap.stack_guardrails import StackGuardrails, StackGuardrailsArgs
from ci_bootstrap.stack_names import REVIEW, REVIEW_STACKS, names_for
from ci_bootstrap.state_bucket import StackRoles, StateBucket, StateBucketArgs

try:
    cfg = from_pulumi()
except ConfigError as err:
    raise pulumi.RunError(str(err)) from None
kept = [("deploy", stack) for stack in cfg.deploy_stacks]
kept += [("preview", stack) for stack in cfg.preview_subjects]
account_problems = [
    p
    for p in (
        caller_problem(cfg.secrets_key_administrators),
        deletion_problem(cfg.github_repository, kept, cfg.retired_stacks),
    )
    if p
]
if account_problems:
    raise pulumi.RunError(
        "The bootstrap stops before changing anything:\n"
        + "\n".join(f"  - {p}" for p in account_problems)
    )

tags = {
    "project": "fargate-app",
    "purpose": "github-actions",
    "managed-by": "fargate-app-bootstrap",
}

github = GitHubActionsRoles(
    "github",
    GitHubActionsRolesArgs(
        repository=cfg.github_repository,
        deploy_subjects=cfg.deploy_subjects,
        preview_subjects=cfg.preview_subjects,
        shared_preview_heir=cfg.shared_preview_heir,
        create_provider=cfg.create_oidc_provider,
        deploy_managed_policies=cfg.deploy_policies,
        state=cfg.state_bucket,
        domain_names=cfg.domain_names,
        tags=tags,
    ),
)
review = (
    ReviewStackRoles(
        "github-review",
        ReviewStackRolesArgs(
            repository=cfg.github_repository, provider_arn=github.provider_arn, tags=tags
        ),
    )
    if cfg.review_stacks
    else None
)
guardrails = {
    stack: StackGuardrails(
        f"stack-{names_for(stack).role_key}",
        StackGuardrailsArgs(
            stack=stack,
            sid=names_for(stack).sid,
            project=APP_PROJECT,
            deploy_role_arn=github.deploy_role_arns[stack],
            preview_role_arn=github.preview_role_arns.get(stack),
            key_administrators=cfg.secrets_key_administrators,
            tags=tags,
        ),
    )
    for stack in cfg.deploy_stacks
}
review_guardrails = (
    StackGuardrails(
        f"stack-{REVIEW.names.role_key}",
        StackGuardrailsArgs(
            stack=REVIEW_STACKS,
            sid=REVIEW.names.sid,
            project=APP_PROJECT,
            deploy_role_arn=review.deploy_role_arn,
            sweep_role_arn=review.sweep_role_arn,
            key_administrators=cfg.secrets_key_administrators,
            tags=tags,
        ),
    )
    if review is not None
    else None
)
stack_roles = {
    stack: pulumi.Output.all(arn, github.preview_role_arns.get(stack)).apply(
        lambda arns: StackRoles(deploy=arns[0], preview=arns[1])
    )
    for stack, arn in github.deploy_role_arns.items()
}
sids = {stack: names_for(stack).sid for stack in cfg.deploy_stacks}
if review is not None:
    stack_roles[REVIEW_STACKS] = pulumi.Output.all(
        review.deploy_role_arn, review.sweep_role_arn
    ).apply(lambda arns: StackRoles(deploy=arns[0], sweep=arns[1]))
    sids[REVIEW_STACKS] = REVIEW.names.sid
state = (
    StateBucket(
        "state",
        StateBucketArgs(
            bucket_name=cfg.state_bucket_name,
            noncurrent_version_days=cfg.state_version_retention_days,
            project=APP_PROJECT,
            stack_roles=stack_roles,
            sids=sids,
            tags=tags,
        ),
    )
    if cfg.state_bucket
    else None
)

region = aws.get_region().region
github_variables = {"AWS_REGION": region}
for stack, arn in github.deploy_role_arns.items():
    names = names_for(stack)
    github_variables[names.deploy_role_variable] = arn
    if stack in github.preview_role_arns:
        github_variables[names.preview_role_variable] = github.preview_role_arns[stack]
    if state is not None:
        github_variables[names.backend_variable] = state.backend_url
if review is not None and review_guardrails is not None:
    github_variables[REVIEW.deploy_role_variable] = review.deploy_role_arn
    github_variables[REVIEW.sweep_role_variable] = review.sweep_role_arn
    github_variables[REVIEW.boundary_variable] = review_guardrails.boundary_arn
    github_variables[REVIEW.secrets_provider_variable] = review_guardrails.secrets_provider
    if state is not None:
        github_variables[REVIEW.backend_variable] = state.backend_url

pulumi.export("oidcProviderArn", github.provider_arn)
pulumi.export("previewRoleArns", github.preview_role_arns)
pulumi.export("deployRoleArns", github.deploy_role_arns)
pulumi.export(
    "reviewStacks",
    {
        "deployRoleArn": review.deploy_role_arn,
        "sweepRoleArn": review.sweep_role_arn,
        "permissionsBoundary": review_guardrails.boundary_arn,
        "secretsProvider": review_guardrails.secrets_provider,
    }
    if review is not None and review_guardrails is not None
    else None,
)
pulumi.export("stateBucket", state.bucket_name if state else None)
pulumi.export("backendUrl", state.backend_url if state else None)
pulumi.export("githubVariables", github_variables)
pulumi.export(
    "stackSettings",
    {
        stack: {
            "permissionsBoundary": g.boundary_arn,
            "secretsProvider": g.secrets_provider,
            # Run from the app's directory, logged in to the stack's backend.
            "commands": pulumi.Output.all(g.boundary_arn, g.secrets_provider).apply(
                lambda values, stack=stack: [
                    f"pulumi config set permissionsBoundary {values[0]} --stack {stack}",
                    f'pulumi stack change-secrets-provider "{values[1]}" --stack {stack}',
                ]
            ),
        }
        for stack, g in guardrails.items()
    },
)
