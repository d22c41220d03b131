"""IAM controls: no policy grants every action (of every service, or of one) on every resource,
and no role trusts the whole world.

Security Hub's IAM.1 (Action "*" on Resource "*") and IAM.21 ("<service>:*" on any Resource) look
only at customer managed policies. The pack holds customer managed policies to both as Security Hub
does, and holds inline policies (the program writes several), which grant the same, to the
every-resource part of each. Trust policies have no Security Hub control: a role that trusts
`Principal: "*"` can be assumed by any AWS account unless a condition names the caller.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pulumi_policy import ResourceValidationArgs, Severity

from .environment import everywhere
from .props import as_list, get, json_document

Report = Callable[..., None]

ROLE = "aws:iam/role:Role"
# A customer managed policy: Security Hub's IAM.21 fails one that allows "<service>:*" on any
# resource at all (AWS Config's iam-policy-no-statements-with-full-access).
MANAGED_POLICY = "aws:iam/policy:Policy"
# Identity policies and the property that holds each one's document.
POLICY_DOCUMENTS = {
    "aws:iam/policy:Policy": "policy",
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/userPolicy:UserPolicy": "policy",
    "aws:iam/groupPolicy:GroupPolicy": "policy",
}
# Attachments of managed policies by ARN, and the property that holds the ARN(s).
POLICY_ATTACHMENTS = {
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "policyArn",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment": "policyArn",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": "policyArn",
    "aws:iam/policyAttachment:PolicyAttachment": "policyArn",
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": "policyArns",
    "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive": "policyArns",
    "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive": "policyArns",
    ROLE: "managedPolicyArns",
}
# AWS's own Action "*" on Resource "*": attaching it is the grant IAM.1 looks for, written by AWS.
ADMINISTRATOR_ACCESS = re.compile(r"^arn:aws[a-z-]*:iam::aws:policy/AdministratorAccess$")
# "*" or "<service>:*": every action, of every service or of one. "*:*" too: IAM refuses it
# ("Action vendors ... must not contain wildcards"), but it means "*" to a reader and costs nothing.
WILDCARD_ACTION = re.compile(r"^(?:\*|\*:\*|[a-z0-9-]+:\*)$", re.IGNORECASE)
# A resource ARN made only of wildcards past its partition ("arn:*:*:*:*:*", "arn:aws:*:*:*:*")
# matches every resource, as "*" does.
EVERY_RESOURCE_ARN = re.compile(r"^arn(?::[^:*?]*)?(?::[*?]*)*:\*$")
# Condition keys that name who may assume a role trusting "*", with the operators that pin them
# (a negated or IfExists operator does not, nor ForAllValues, which holds when the key is absent).
CALLER_KEYS = (
    "aws:principalaccount",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalarn",
)
PINNING_OPERATORS = ("stringequals", "stringlike", "arnequals", "arnlike")
# *Like operators match * and ? in the value: "arn:aws:iam::*:role/x" or "1*" names no one. A
# wildcard after the part that names the account or organization still pins the caller there
# (the IAM User Guide's aws:PrincipalOrgPaths examples: ForAnyValue:StringLike "o-a1b2c3d4e5/*",
# every principal of that organization).
LIKE_WILDCARDS = ("*", "?")


def _statements(document: Mapping[str, Any] | None) -> Iterator[Mapping[str, Any]]:
    for statement in as_list((document or {}).get("Statement")):
        if isinstance(statement, Mapping) and statement.get("Effect") == "Allow":
            yield statement


def _documents(args: ResourceValidationArgs) -> Iterator[tuple[str, Mapping[str, Any] | None]]:
    """(where, document) of every identity policy on the resource."""
    prop = POLICY_DOCUMENTS.get(args.resource_type)
    if prop is not None:
        yield "its policy", json_document(get(args.props, prop))
    if args.resource_type == ROLE:
        for inline in as_list(get(args.props, "inlinePolicies")):
            if isinstance(inline, Mapping) and inline.get("policy"):
                yield f"its inline policy {inline.get('name')!r}", json_document(inline["policy"])


def _every_resource(statement: Mapping[str, Any]) -> str | None:
    """How the statement reaches every resource (Resource "*" or an all-wildcard ARN, or a
    NotResource, which is every resource but a few), or None."""
    if "NotResource" in statement:
        return "every resource but those listed in NotResource"
    for resource in as_list(statement.get("Resource")):
        if str(resource) == "*" or EVERY_RESOURCE_ARN.match(str(resource)):
            return f'every resource (Resource "{resource}")'
    return None


def _administrator_attachments(args: ResourceValidationArgs) -> list[str]:
    prop = POLICY_ATTACHMENTS.get(args.resource_type)
    if prop is None:
        return []
    return [str(a) for a in as_list(get(args.props, prop)) if ADMINISTRATOR_ACCESS.match(str(a))]


def _service_wildcards(
    args: ResourceValidationArgs,
    where: str,
    label: str,
    statement: Mapping[str, Any],
    report_violation: Report,
) -> None:
    """IAM.21: a customer managed policy allows no "<service>:*", whatever its Resource."""
    if args.resource_type != MANAGED_POLICY:
        return
    wild = [str(a) for a in as_list(statement.get("Action")) if WILDCARD_ACTION.match(str(a))]
    if wild:
        report_violation(
            f"{where} ({label}) allows {', '.join(wild)}: every action of a service, which "
            "Security Hub's IAM.21 fails in a customer managed policy whatever the Resource. "
            "Name the actions (a prefix such as ec2:Describe* is accepted)."
        )


# -- IAM.1 / IAM.21 -------------------------------------------------------------------------------
def no_wildcard_grants(args: ResourceValidationArgs, report_violation: Report) -> None:
    for arn in _administrator_attachments(args):
        report_violation(
            f"This attaches {arn}, which allows every action on every resource: an "
            "administrator's grant. Attach a policy that names the actions and the resources."
        )
    for where, document in _documents(args):
        for statement in _statements(document):
            scope = _every_resource(statement)
            label = statement.get("Sid") or "a statement without a Sid"
            if scope is None:
                _service_wildcards(args, where, label, statement, report_violation)
                continue
            if "NotAction" in statement:
                report_violation(
                    f"{where} ({label}) allows every action but those listed in NotAction, on "
                    f"{scope}. Allow the actions needed, on the resources needed."
                )
                continue
            wild = [
                str(a) for a in as_list(statement.get("Action")) if WILDCARD_ACTION.match(str(a))
            ]
            if wild:
                report_violation(
                    f"{where} ({label}) allows {', '.join(wild)} on {scope}: an administrator's "
                    "grant. Name the actions and the resources."
                )


# -- trust to the world (no Security Hub control) -------------------------------------------------
def _names_the_caller(statement: Mapping[str, Any]) -> bool:
    conditions = statement.get("Condition")
    if not isinstance(conditions, Mapping):
        return False
    for operator, keys in conditions.items():
        name = str(operator).lower().removeprefix("foranyvalue:")
        if name not in PINNING_OPERATORS or not isinstance(keys, Mapping):
            continue
        for key, values in keys.items():
            key = str(key).lower()
            if key in CALLER_KEYS and _pins(name, key, [str(v) for v in as_list(values)]):
                return True
    return False


def _naming_part(key: str, value: str) -> str:
    """The part of a condition value that names the account or organization."""
    if key == "aws:principalarn":
        return ":".join(value.split(":")[:5])  # arn:partition:iam::<account>
    if key == "aws:principalorgpaths":
        return value.split("/")[0]  # o-<org id>
    return value


def _pins(operator: str, key: str, values: list[str]) -> bool:
    """Whether `values` of `key` under `operator` name particular callers: none is "*", and with a
    *Like operator none holds a wildcard where it names the account or organization."""
    if not values or "*" in values:
        return False
    if not operator.endswith("like"):
        return True
    return not any(w in _naming_part(key, v) for v in values for w in LIKE_WILDCARDS)


def _trusts_everyone(statement: Mapping[str, Any]) -> bool:
    principal = statement.get("Principal")
    if principal == "*":
        return True
    return isinstance(principal, Mapping) and "*" in [str(p) for p in as_list(principal.get("AWS"))]


def no_public_trust(args: ResourceValidationArgs, report_violation: Report) -> None:
    if args.resource_type != ROLE:
        return
    document = json_document(get(args.props, "assumeRolePolicy"))
    for statement in _statements(document):
        if _trusts_everyone(statement) and not _names_the_caller(statement):
            label = statement.get("Sid") or "a statement without a Sid"
            report_violation(
                f"This role's trust policy ({label}) lets any principal of any AWS account "
                'assume it (Principal "*"). Name the service or account that assumes it, or '
                "pin the caller with aws:PrincipalAccount, aws:PrincipalOrgID or aws:PrincipalArn."
            )


POLICIES: list[Any] = [
    *everywhere(
        name="iam-no-wildcard-grants",
        control="IAM.1/IAM.21",
        description="IAM.1/IAM.21: no identity policy in the stack (managed or inline) allows "
        '"*", "<service>:*" or a NotAction on every resource (Resource "*", an all-wildcard ARN '
        'or a NotResource), no customer managed policy allows "<service>:*" on any resource, '
        "and nothing attaches AWS's AdministratorAccess.",
        validate=no_wildcard_grants,
        severity=Severity.HIGH,
        remediation="Name the actions and resources the role needs, each statement with a Sid "
        "saying why.",
    ),
    *everywhere(
        name="iam-no-public-trust",
        control=None,
        description='Issue 14 (no Security Hub control): no role trusts Principal "*" without a '
        "condition naming the caller's account, organization or ARN.",
        validate=no_public_trust,
        severity=Severity.CRITICAL,
        remediation="Trust the service principal (ecs-tasks.amazonaws.com, ...) or the account "
        "that assumes the role.",
    ),
]
