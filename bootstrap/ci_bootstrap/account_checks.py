"""What the bootstrap checks in the AWS account before it changes anything.

- Its caller is one of the secrets keys' administrators: KMS refuses to create a key whose policy
  would not let its creator change that policy again (the "lockout safety check", KMS Developer
  Guide, "Default key policy"), so a bootstrap run by anyone else fails half-way.
- No CI role of this repository that the run would delete still exists. Pulumi deletes a resource
  a program no longer declares unless the state marks it protected, and the roles older
  bootstraps made are not marked (they become protected on the first run of this one). So the
  roles are looked up in IAM, not in the state: a stack left out of `deployStacks` (or previews
  turned off) stops the run, naming the roles, unless `retiredStacks` lists the stack.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pulumi_aws as aws

from ci_bootstrap.github_roles import ROLE_PATH
from ci_bootstrap.stack_names import names_for

# What GitHubActionsRoles names a stack's roles: `github-<kind>-<role key>`, and Pulumi's
# autoname suffix (`-` and 7 hex digits).
CI_ROLE_NAME = re.compile(r"^github-(?P<kind>deploy|preview)-(?P<key>.+)-[0-9a-f]{7}$")


def caller_problem(administrators: Iterable[str]) -> str | None:
    """Why the caller cannot make the secrets keys, or None when it can."""
    caller = aws.get_caller_identity()
    issuer = aws.iam.get_session_context(arn=caller.arn).issuer_arn
    if issuer in administrators:
        return None
    return (
        f"secretsKeyAdministrators: you run this bootstrap as {issuer}, which is not one of them;"
        " KMS refuses to make a key that would lock its creator out. Add it:"
        f" `pulumi config set --path 'secretsKeyAdministrators[0]' {issuer}` (or run the"
        " bootstrap as one of them)"
    )


def roles_it_would_delete(
    repository: str, kept: Iterable[tuple[str, str]], retired: Iterable[str]
) -> list[str]:
    """The CI roles of `repository` in this account that a run keeping `kept` ((kind, stack)
    pairs) would delete, and that no stack of `retired` gives up: `<role> (<kind> role)`."""
    keep = {(kind, names_for(stack).role_key) for kind, stack in kept}
    given_up = {names_for(stack).role_key for stack in retired}
    found = []
    for name in aws.iam.get_roles(path_prefix=ROLE_PATH).names:
        match = CI_ROLE_NAME.match(name)
        if not match or (match["kind"], match["key"]) in keep or match["key"] in given_up:
            continue
        # Another repository's bootstrap in the same account names its roles alike.
        if f"repo:{repository}:" not in aws.iam.get_role(name=name).assume_role_policy:
            continue
        found.append(f"{name} ({match['kind']} role of the stack {match['key']!r})")
    return found


def deletion_problem(
    repository: str, kept: Iterable[tuple[str, str]], retired: Iterable[str]
) -> str | None:
    doomed = roles_it_would_delete(repository, kept, retired)
    if not doomed:
        return None
    return (
        "deployStacks: this account holds CI roles of "
        f"{repository} that this run would delete: {', '.join(doomed)}. Keep their stacks in"
        " deployStacks (and previewRole true), or, to remove them on purpose, `pulumi state"
        " unprotect` them and list their stacks in retiredStacks"
    )
