"""The tests' IAM evaluator (tests/iam_eval.py) decides as AWS documents, for what it claims to do:
Deny beats Allow, nothing allowed is denied, wildcards, NotAction/NotResource, conditions (present,
missing, several values, negated), boundaries and resource policies."""

from __future__ import annotations

import pytest

from tests.iam_eval import (
    ALLOW,
    DENY,
    IMPLICIT_DENY,
    Request,
    allowed,
    decide,
    kms_decide,
    wildcard,
)

BUCKET = "arn:aws:s3:::state"
A, B = "arn:aws:iam::1:role/a", "arn:aws:iam::1:role/b"
ROLE = "arn:aws:iam::123456789012:role/github-actions/github-deploy-dev-abc1234"


def policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(**kwargs) -> dict:
    return {"Effect": "Allow", **kwargs}


def deny(**kwargs) -> dict:
    return {"Effect": "Deny", **kwargs}


def test_wildcards_match_as_iam_s_do() -> None:
    assert wildcard("s3:Get*", "s3:GetObject", case=False)
    assert wildcard("S3:GET*", "s3:GetObject", case=False), "actions ignore case"
    assert not wildcard("arn:aws:s3:::State/*", f"{BUCKET}/x", case=True), "resources do not"
    assert wildcard("arn:aws:s3:::*", f"{BUCKET}/a/b", case=True), "* crosses slashes"
    assert wildcard("key-??????", "key-AbCdEf", case=True)
    assert not wildcard("key-??????", "key-AbCdE", case=True)
    assert not wildcard("a.b", "axb", case=True), "a dot is a dot"


def test_nothing_allowed_is_an_implicit_deny() -> None:
    assert decide(Request("s3:GetObject", f"{BUCKET}/k"), []) == IMPLICIT_DENY
    other = policy(allow(Action="s3:PutObject", Resource="*"))
    assert decide(Request("s3:GetObject", f"{BUCKET}/k"), [other]) == IMPLICIT_DENY


def test_an_explicit_deny_beats_any_allow() -> None:
    request = Request("s3:GetObject", f"{BUCKET}/k")
    granting = policy(allow(Action="s3:*", Resource="*"))
    refusing = policy(deny(Action="s3:GetObject", Resource=f"{BUCKET}/*"))
    assert decide(request, [granting]) == ALLOW
    assert decide(request, [granting, refusing]) == DENY
    assert decide(request, [granting], resource_policies=[_principal(refusing, "*")]) == DENY


def test_not_action_and_not_resource_apply_to_everything_else() -> None:
    everything_but_listing = policy(deny(NotAction=["s3:ListBucket"], Resource=BUCKET))
    granting = policy(allow(Action="s3:*", Resource="*"))
    assert decide(Request("s3:PutBucketPolicy", BUCKET), [granting, everything_but_listing]) == DENY
    assert allowed(Request("s3:ListBucket", BUCKET), [granting, everything_but_listing])
    own_only = policy(deny(Action="s3:*", NotResource=[f"{BUCKET}/dev/*"]))
    assert allowed(Request("s3:GetObject", f"{BUCKET}/dev/a"), [granting, own_only])
    assert not allowed(Request("s3:GetObject", f"{BUCKET}/prod/a"), [granting, own_only])


@pytest.mark.parametrize(
    ("operator", "expected", "context", "holds"),
    [
        ("StringEquals", "a", {"k": "a"}, True),
        ("StringEquals", "a", {"k": "A"}, False),
        ("StringEquals", ["a", "b"], {"k": "b"}, True),
        ("StringEquals", "a", {}, False),
        ("StringNotEquals", "a", {"k": "b"}, True),
        ("StringNotEquals", ["a", "b"], {"k": "b"}, False),
        ("StringNotEquals", "a", {}, True),
        ("StringLike", "a*", {"k": "abc"}, True),
        ("StringNotLike", "a*", {"k": "abc"}, False),
        ("ArnEquals", "arn:aws:iam::1:role/x", {"k": "arn:aws:iam::1:role/x"}, True),
        ("ArnNotEquals", [A, B], {"k": "arn:aws:iam::1:role/c"}, True),
        ("ArnNotEquals", [A, B], {"k": A}, False),
        ("ArnLike", "arn:aws:iam::*:role/*", {"k": "arn:aws:iam::1:role/x"}, True),
        ("Bool", "false", {"k": "false"}, True),
        ("Bool", "false", {}, False),
        # A `*` in an ARN pattern stays within its field; the resource field keeps its own `:`.
        ("ArnLike", "arn:aws:ecs:*:1:*", {"k": "arn:aws:ecs:eu-west-1:1:service/c/s"}, True),
        ("ArnLike", "arn:aws:iam::*", {"k": "arn:aws:iam::1:role/x"}, False),
        ("ArnLike", "arn:aws:logs:*:1:*", {"k": "arn:aws:logs:eu-west-1:1:log-group:/a:*"}, True),
        ("ArnLike", "arn:aws:*", {"k": "arn:aws:iam::1:role/x"}, False),
        ("StringEqualsIfExists", "a", {}, True),
        ("StringEqualsIfExists", "a", {"k": "a"}, True),
        ("StringEqualsIfExists", "a", {"k": "b"}, False),
        ("Null", "true", {}, True),
        ("Null", "true", {"k": "a"}, False),
        ("Null", "false", {"k": "a"}, True),
        ("Null", "false", {}, False),
        ("ForAnyValue:StringEquals", ["a"], {"k": ["b", "a"]}, True),
        ("ForAnyValue:StringEquals", ["a"], {"k": ["b"]}, False),
        ("ForAnyValue:StringEquals", ["a"], {}, False),
        ("ForAllValues:StringLike", ["a*"], {"k": ["ab", "ac"]}, True),
        ("ForAllValues:StringLike", ["a*"], {"k": ["ab", "b"]}, False),
        ("ForAllValues:StringLike", ["a*"], {}, True),
    ],
)
def test_condition_operators(operator: str, expected, context: dict, holds: bool) -> None:
    statement = allow(Action="x:Y", Resource="*", Condition={operator: {"k": expected}})
    assert allowed(Request("x:Y", "r", context=context), [policy(statement)]) is holds


def test_every_condition_of_a_statement_must_hold() -> None:
    statement = allow(
        Action="iam:AttachRolePolicy",
        Resource="*",
        Condition={"StringEquals": {"a": "1"}, "ArnEquals": {"b": A}},
    )
    both = {"a": "1", "b": A}
    assert allowed(Request("iam:AttachRolePolicy", "r", context=both), [policy(statement)])
    assert not allowed(
        Request("iam:AttachRolePolicy", "r", context={"a": "1"}), [policy(statement)]
    )


@pytest.mark.parametrize("operator", ["IpAddress", "ForSomeValues:StringEquals", "DateLessThan"])
def test_an_unknown_operator_is_refused_not_ignored(operator: str) -> None:
    statement = allow(Action="x:Y", Resource="*", Condition={operator: {"k": "10.0.0.0/8"}})
    with pytest.raises(NotImplementedError):
        allowed(Request("x:Y", "r", context={"k": "10.0.0.1"}), [policy(statement)])


def test_a_boundary_caps_what_the_identity_policies_allow() -> None:
    granting = policy(allow(Action="*", Resource="*"))
    boundary = policy(allow(Action="logs:*", Resource="*"))
    assert allowed(Request("logs:PutLogEvents", "r"), [granting], boundary=boundary)
    assert decide(Request("iam:CreateUser", "r"), [granting], boundary=boundary) == IMPLICIT_DENY
    assert decide(Request("logs:PutLogEvents", "r"), [], boundary=boundary) == IMPLICIT_DENY


def _principal(document: dict, principal) -> dict:
    return {**document, "Statement": [{**s, "Principal": principal} for s in document["Statement"]]}


def test_a_resource_policy_applies_to_the_principals_it_names() -> None:
    grant = _principal(policy(allow(Action="s3:GetObject", Resource=f"{BUCKET}/*")), {"AWS": ROLE})
    request = Request("s3:GetObject", f"{BUCKET}/k", principal=ROLE)
    assert allowed(request, [], resource_policies=[grant])
    stranger = Request("s3:GetObject", f"{BUCKET}/k", principal=ROLE.replace("dev", "prod"))
    assert not allowed(stranger, [], resource_policies=[grant])


def test_a_resource_policy_for_any_principal_applies_to_every_one() -> None:
    grant = _principal(policy(allow(Action="kms:DescribeKey", Resource="*")), {"AWS": "*"})
    assert allowed(Request("kms:DescribeKey", "k", principal=ROLE), [], resource_policies=[grant])


KEY = "arn:aws:kms:us-east-1:123456789012:key/k"
KEY_USER = "arn:aws:iam::123456789012:role/app"
DECRYPT = {"Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY}]}
TO_ROOT = {
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
}


def test_an_iam_grant_reaches_a_key_only_through_its_key_policy() -> None:
    request = Request("kms:Decrypt", KEY, KEY_USER)
    assert kms_decide(request, [DECRYPT], TO_ROOT) == ALLOW
    assert kms_decide(request, [DECRYPT], {"Statement": []}) == IMPLICIT_DENY, (
        "without the key policy's root statement, no IAM policy grants use of the key"
    )
    assert kms_decide(request, [], TO_ROOT) == IMPLICIT_DENY
    boundary = {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    assert kms_decide(request, [DECRYPT], TO_ROOT, boundary=boundary) == IMPLICIT_DENY


def test_a_key_policy_naming_the_principal_allows_without_iam() -> None:
    named = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": KEY_USER},
                "Action": "kms:Decrypt",
                "Resource": "*",
            }
        ]
    }
    assert kms_decide(Request("kms:Decrypt", KEY, KEY_USER), [], named) == ALLOW
    assert kms_decide(Request("kms:Encrypt", KEY, KEY_USER), [], named) == IMPLICIT_DENY
