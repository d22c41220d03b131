"""A small IAM policy evaluator for the tests: does a principal's policies allow one request?

No well-kept offline evaluator fits: principalmapper's local simulation (PyPI principalmapper 1.1.5,
2022) fails to import on Python 3.10+ (`collections.Mapping`), moto's skips NotResource and turns
an unmet condition into a deny, and policy_sentry, parliament and cloudsplaining write or lint
policies rather than decide requests. So this follows AWS's documented logic for what the policies
here use, and tests/test_iam_eval.py holds it to those rules
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):

- an explicit Deny in any policy that applies wins; otherwise an Allow is needed, from an identity
  policy or (same account) a resource policy naming the principal, and, when the principal has a
  permissions boundary, from the boundary as well; otherwise the request is implicitly denied;
- Action/NotAction match without regard to case, Resource/NotResource with it; `*` matches any
  run of characters, `?` one;
- conditions: every operator in a statement, and every key under an operator, must hold; a key's
  values are alternatives (any one matching satisfies a positive operator, and a negated operator
  holds when none matches); a key missing from the request fails a positive operator and satisfies
  a negated one. Operators: StringEquals, StringNotEquals, StringLike, StringNotLike, ArnEquals,
  ArnNotEquals, ArnLike, ArnNotLike, Bool, Null, each string and ARN operator also with the
  `...IfExists` suffix (a key the request lacks satisfies it) and the `ForAnyValue:` and
  `ForAllValues:` set prefixes (a multivalued key: any one of its values, or every one, must
  match; ForAllValues holds for a key the request lacks). Anything else raises, so a policy
  cannot pass by using an operator this file does not know;
- ARNs in ArnEquals/ArnLike match field by field, as AWS matches them: a `*` or `?` never spans
  the `:` between an ARN's fields (its resource field, the last, may hold `:` of its own).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

ALLOW, DENY, IMPLICIT_DENY = "allow", "explicit deny", "implicit deny"


def _values(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def wildcard(pattern: str, text: str, *, case: bool) -> bool:
    """IAM's `*` and `?` wildcards (the whole text must match)."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in str(pattern))
    return re.fullmatch(regex, text, 0 if case else re.IGNORECASE) is not None


ARN_FIELDS = 6  # arn:partition:service:region:account:resource


def arn_matches(pattern: str, arn: str) -> bool:
    """ArnLike: field by field, the resource field (the last) taking any `:` that is left."""
    wanted, actual = pattern.split(":", ARN_FIELDS - 1), arn.split(":", ARN_FIELDS - 1)
    if len(wanted) != ARN_FIELDS or len(actual) != ARN_FIELDS:
        return False
    return all(wildcard(w, a, case=True) for w, a in zip(wanted, actual, strict=True))


def _string(op: str, expected: str, actual: str) -> bool:
    if op == "StringEquals":
        return expected == actual
    if op == "StringLike":
        return wildcard(expected, actual, case=True)
    return arn_matches(expected, actual)  # ArnEquals, ArnLike (both take wildcards)


POSITIVE = {"StringEquals", "StringLike", "ArnEquals", "ArnLike"}
NEGATED = {"StringNotEquals": "StringEquals", "StringNotLike": "StringLike",
           "ArnNotEquals": "ArnEquals", "ArnNotLike": "ArnLike"}  # fmt: skip


def _holds(op: str, present: bool, actual: list[str], wanted: list[str]) -> bool:
    """One operator and key (no set prefix): see the module docstring."""
    if op.endswith("IfExists"):
        return not present or _holds(op.removesuffix("IfExists"), present, actual, wanted)
    if op == "Bool":
        return present and any(a.lower() == w.lower() for a in actual for w in wanted)
    if op == "Null":
        return any((w.lower() == "true") == (not present) for w in wanted)
    if op in POSITIVE:
        return any(_string(op, w, a) for a in actual for w in wanted)
    if op in NEGATED:
        return not any(_string(NEGATED[op], w, a) for a in actual for w in wanted)
    raise NotImplementedError(f"condition operator {op} is not evaluated here")


def condition_holds(condition: Mapping[str, Any], context: Mapping[str, Any]) -> bool:
    for op, keys in condition.items():
        qualifier, _, base = op.rpartition(":")
        if qualifier not in ("", "ForAnyValue", "ForAllValues"):
            raise NotImplementedError(f"condition operator {op} is not evaluated here")
        for key, expected in keys.items():
            present = key in context
            actual = [str(v) for v in _values(context[key])] if present else []
            wanted = [str(v) for v in _values(expected)]
            if qualifier == "ForAnyValue":
                holds = any(_holds(base, True, [a], wanted) for a in actual)
            elif qualifier == "ForAllValues":
                holds = all(_holds(base, True, [a], wanted) for a in actual)
            else:
                holds = _holds(base, present, actual, wanted)
            if not holds:
                return False
    return True


@dataclass(frozen=True)
class Request:
    """One API call: `action` on `resource` by `principal`, with condition keys `context`."""

    action: str
    resource: str
    principal: str = ""
    context: Mapping[str, Any] = field(default_factory=dict)


def _statements(policy: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return _values(policy["Statement"])


def _matches(statement: Mapping[str, Any], element: str, value: str, *, case: bool) -> bool:
    """Whether `value` is covered by the statement's `element` (Action or Resource), or by its
    Not- form (then: whether it is not listed there)."""
    if element in statement:
        return any(wildcard(p, value, case=case) for p in _values(statement[element]))
    return not any(wildcard(p, value, case=case) for p in _values(statement[f"Not{element}"]))


def _applies(statement: Mapping[str, Any], request: Request, resource_policy: bool) -> bool:
    if not _matches(statement, "Action", request.action, case=False):
        return False
    if not _matches(statement, "Resource", request.resource, case=True):
        return False
    if resource_policy:
        principal = statement.get("Principal")
        if principal != "*":
            named = _values(principal.get("AWS", [])) if isinstance(principal, dict) else []
            if request.principal not in named and "*" not in named:
                return False
    return condition_holds(statement.get("Condition", {}), request.context)


def _effects(
    policies: Iterable[Mapping[str, Any]], request: Request, resource_policy: bool = False
) -> set[str]:
    return {
        s["Effect"]
        for policy in policies
        for s in _statements(policy)
        if _applies(s, request, resource_policy)
    }


def decide(
    request: Request,
    identity: Iterable[Mapping[str, Any]],
    *,
    boundary: Mapping[str, Any] | None = None,
    resource_policies: Iterable[Mapping[str, Any]] = (),
) -> str:
    """ALLOW, DENY (explicit) or IMPLICIT_DENY for `request` by a principal with `identity`
    policies, an optional permissions `boundary`, and the resource's own policies (same account)."""
    identity = list(identity)
    resource_policies = list(resource_policies)
    boundary_effects = _effects([boundary], request) if boundary else {"Allow"}
    identity_effects = _effects(identity, request)
    resource_effects = _effects(resource_policies, request, resource_policy=True)
    if "Deny" in identity_effects | resource_effects | boundary_effects:
        return DENY
    if "Allow" not in boundary_effects:
        return IMPLICIT_DENY
    if "Allow" in identity_effects | resource_effects:
        return ALLOW
    return IMPLICIT_DENY


def allowed(request: Request, identity: Iterable[Mapping[str, Any]], **kwargs: Any) -> bool:
    return decide(request, identity, **kwargs) == ALLOW


def kms_decide(
    request: Request,
    identity: Iterable[Mapping[str, Any]],
    key_policy: Mapping[str, Any],
    *,
    boundary: Mapping[str, Any] | None = None,
) -> str:
    """decide() for a KMS key, whose key policy is the root of its access (KMS Developer Guide,
    "Key policies in AWS KMS": no IAM policy grants access to a key unless its key policy allows
    it): a key-policy statement naming the principal allows by itself; the principal's identity
    policies (capped by its boundary) count only where the key policy allows the same action to
    the account's root, `arn:<partition>:iam::<account>:root` (same account: the principal's)."""
    identity = list(identity)
    account = request.principal.split(":")[4] if request.principal.count(":") >= 5 else ""
    partition = request.principal.split(":")[1] if account else "aws"
    root = f"arn:{partition}:iam::{account}:root"
    delegated = "Allow" in _effects(
        [key_policy], Request(request.action, request.resource, root, request.context), True
    )
    if "Deny" in _effects([key_policy], request, resource_policy=True):
        return DENY
    through_iam = decide(request, identity, boundary=boundary) if delegated else IMPLICIT_DENY
    if through_iam == DENY or (boundary and "Deny" in _effects([boundary], request)):
        return DENY
    if "Allow" in _effects([key_policy], request, resource_policy=True) or through_iam == ALLOW:
        return ALLOW
    return IMPLICIT_DENY
