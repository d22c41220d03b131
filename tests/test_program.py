"""The whole program (__main__.py) for every committed stack, as `pulumi up` and `pulumi preview`.

What a user relies on: the six outputs, looking like what they name; every AWS resource tagged
with project, stack and the stack's tags through one explicit provider; a resource tree that
mirrors the components; dev cheap and prod resilient as their stack files promise; names within
AWS's limits whatever project and stack names are chosen; and a preview that plans exactly the
resources an update creates, without tripping over values only AWS knows.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from components.spec import stack_tag_key
from tools.mocks import ProgramRun, RegisteredResource, Secure, Unknown, load_stack_config

ROOT = Path(__file__).resolve().parent.parent
STACKS = ("dev", "prod")
OUTPUTS = ("url", "clusterName", "serviceName", "imageRef", "logGroupName", "repositoryUrl")
COMPONENT_PREFIX = "fargate-app:"
LONG_PROJECT = "a-very-long-project-name-for-testing"
LONG_STACK = "feature-branch-with-a-long-name"
AUTONAME_SUFFIX = 8  # Pulumi appends "-" and 7 random characters to a logical name
# (max length, allowed pattern) of resource names, from each service's API reference.
NAME_RULES: dict[str, tuple[int, str]] = {
    "aws:lb/loadBalancer:LoadBalancer": (
        32,
        r"(?!internal-)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?",
    ),
    "aws:lb/targetGroup:TargetGroup": (32, r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"),
    "aws:iam/role:Role": (64, r"[\w+=,.@-]+"),
    "aws:iam/policy:Policy": (128, r"[\w+=,.@-]+"),
    "aws:ecs/cluster:Cluster": (255, r"[A-Za-z0-9_-]+"),
    "aws:ecs/service:Service": (255, r"[A-Za-z0-9_-]+"),
    "aws:ecr/repository:Repository": (256, r"[a-z0-9]+(?:[._/-][a-z0-9]+)*"),
    "aws:ec2/securityGroup:SecurityGroup": (255, r"[\x20-\x7e]+"),
    "aws:cloudwatch/logGroup:LogGroup": (512, r"[.\-_/#A-Za-z0-9]+"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": (255, r"[\x20-\x7e]+"),
    "aws:appautoscaling/policy:Policy": (255, r"[^:/]+"),
    "aws:s3/bucket:Bucket": (63, r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"),
    "aws:s3/bucketV2:BucketV2": (63, r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"),
    "aws:sns/topic:Topic": (256, r"[A-Za-z0-9_-]+"),
    "aws:sqs/queue:Queue": (80, r"[A-Za-z0-9_-]+"),
    "aws:secretsmanager/secret:Secret": (512, r"[A-Za-z0-9/_+=.@-]+"),
    "aws:scheduler/schedule:Schedule": (64, r"[0-9a-zA-Z-_.]+"),
    "aws:acm/certificate:Certificate": (10**6, r".*"),
}
TASK_FAMILY = (255, r"[A-Za-z0-9_-]+")
NAME_PREFIX_MAX = {"aws:iam/role:Role": 38, "aws:iam/policy:Policy": 102}


RUNS = [(stack, preview) for stack in STACKS for preview in (False, True)]


@pytest.fixture(params=RUNS, ids=[f"{s}-{'preview' if p else 'up'}" for s, p in RUNS])
def any_run(request: pytest.FixtureRequest, run_stack) -> ProgramRun:
    """Each committed stack, as `pulumi up` and as `pulumi preview`."""
    stack, preview = request.param
    return run_stack(stack, preview=preview)


@pytest.fixture(params=STACKS)
def up(request: pytest.FixtureRequest, run_stack) -> ProgramRun:
    """Each committed stack, as `pulumi up`."""
    return run_stack(request.param)


def aws_resources(run: ProgramRun) -> list[RegisteredResource]:
    return [r for r in run.custom_resources if r.type.startswith("aws:")]


def app_service(run: ProgramRun) -> RegisteredResource:
    component = next(
        r for r in run.of_type("fargate-app:service:FargateService") if r.name == "app"
    )
    [service] = [r for r in run.children(component) if r.type == "aws:ecs/service:Service"]
    return service


def app_log_group(run: ProgramRun) -> RegisteredResource:
    component = next(
        r for r in run.of_type("fargate-app:service:FargateService") if r.name == "app"
    )
    groups = [r for r in run.children(component) if r.type == "aws:cloudwatch/logGroup:LogGroup"]
    assert len(groups) == 1, f"expected the app's log group in {component.urn}"
    return groups[0]


def public_subnet_ids(run: ProgramRun) -> set[str]:
    """Subnets whose route table sends 0.0.0.0/0 to the internet gateway."""
    igw = run.one("aws:ec2/internetGateway:InternetGateway").id
    tables = {
        r.inputs["routeTableId"]
        for r in run.of_type("aws:ec2/route:Route")
        if r.inputs.get("destinationCidrBlock") == "0.0.0.0/0" and r.inputs.get("gatewayId") == igw
    }
    return {
        a.inputs["subnetId"]
        for a in run.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")
        if a.inputs["routeTableId"] in tables
    }


# --- the program runs, and its outputs ------------------------------------------------------------


def test_the_program_runs_to_the_end(any_run: ProgramRun) -> None:
    assert any_run.error is None, f"{any_run.stack}: {any_run.error}"
    assert any_run.custom_resources, "the program registered nothing"


def test_all_six_outputs_are_exported(any_run: ProgramRun) -> None:
    missing = [k for k in OUTPUTS if k not in any_run.outputs]
    assert not missing, f"stack {any_run.stack} does not export {missing}"


def test_every_output_is_known_after_an_update(up: ProgramRun) -> None:
    unknown = [k for k in OUTPUTS if isinstance(up.outputs[k], Unknown) or not up.outputs[k]]
    assert not unknown, f"stack {up.stack}: outputs {unknown} are empty after `pulumi up`"


def test_the_outputs_look_like_what_they_name(up: ProgramRun) -> None:
    out = up.outputs
    # Served by CloudFront on its own name (edge: cloudfront), with HTTPS.
    assert re.fullmatch(r"https://d[a-z0-9]+\.cloudfront\.net", out["url"]), out["url"]
    repo = out["repositoryUrl"]
    assert re.fullmatch(r"\d{12}\.dkr\.ecr\.us-east-1\.amazonaws\.com/[a-z0-9._/-]+", repo), repo
    assert re.fullmatch(re.escape(repo) + r"@sha256:[0-9a-f]{64}", out["imageRef"]), (
        f"imageRef {out['imageRef']} is not an image of {repo} by digest"
    )
    assert out["clusterName"] == up.one("aws:ecs/cluster:Cluster").outputs["name"]
    assert out["serviceName"] == app_service(up).outputs["name"]
    assert out["logGroupName"] == app_log_group(up).outputs["name"]


# --- provider, tags and the resource tree ---------------------------------------------------------


def provider_of(run: ProgramRun, resource: RegisteredResource) -> RegisteredResource | None:
    urn = resource.provider.rsplit("::", 1)[0] if resource.provider else ""
    return next((p for p in run.resources if p.urn == urn), None)


def default_tags(provider: RegisteredResource) -> dict[str, Any]:
    tags = provider.inputs.get("defaultTags")
    tags = json.loads(tags) if isinstance(tags, str) else tags
    return (tags or {}).get("tags", {})


def test_every_aws_resource_uses_an_explicit_provider_with_the_stacks_tags(
    any_run: ProgramRun,
) -> None:
    stack_tags = load_stack_config(ROOT, any_run.stack).get("fargate-app:tags", {})
    want = {"project": "fargate-app", "stack": any_run.stack, **stack_tags}
    for resource in aws_resources(any_run):
        provider = provider_of(any_run, resource)
        assert provider is not None, (
            f"{resource.urn} uses the default provider, so it carries no default tags"
        )
        tags = default_tags(provider)
        assert want.items() <= tags.items(), (
            f"{resource.urn} is tagged {tags} by {provider.urn}, missing some of {want}"
        )


def test_the_stack_tag_the_ci_roles_scope_by_is_on_every_resource_and_no_setting_changes_it(
    run_config,
) -> None:
    """The bootstrap's deploy roles reach a stack's resources by `<project>:stack`; a stack whose
    `tags` named that key must not move its resources out of (or into another stack's) reach."""
    key = stack_tag_key("fargate-app")
    config = {**load_stack_config(ROOT, "dev"), "fargate-app:tags": {key: "prod", "team": "a"}}
    run = run_config(config, stack="dev")
    for resource in aws_resources(run):
        tags = default_tags(provider_of(run, resource))
        assert tags.get(key) == "dev", f"{resource.urn} is tagged {key}={tags.get(key)!r}"
        assert tags.get("team") == "a", "the stack's own tags stay"


def test_every_resource_belongs_to_a_component(any_run: ProgramRun) -> None:
    components = {r.urn for r in any_run.resources if r.type.startswith(COMPONENT_PREFIX)}
    for resource in any_run.custom_resources:
        assert resource.parent in components, (
            f"{resource.urn} is not inside a component; the URN tree must mirror the components"
        )


# --- the profiles the stack files promise ---------------------------------------------------------


def test_dev_is_the_cheap_profile(dev: ProgramRun) -> None:
    assert not dev.of_type("aws:ec2/natGateway:NatGateway"), "dev pays for no NAT gateway"
    interface = [
        e
        for e in dev.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
        if e.inputs.get("vpcEndpointType") == "Interface"
    ]
    assert not interface, f"dev pays for interface endpoints: {[e.urn for e in interface]}"
    service = app_service(dev)
    network = service.inputs["networkConfiguration"]
    assert network.get("assignPublicIp") is True, f"{service.urn}: without NAT tasks need an IP"
    assert set(network["subnets"]) <= public_subnet_ids(dev), (
        f"{service.urn}: dev tasks must run in the public subnets"
    )
    strategy = service.inputs["capacityProviderStrategies"]
    on_demand = [s for s in strategy if s["capacityProvider"] == "FARGATE"]
    assert any(s["capacityProvider"] == "FARGATE_SPOT" and s["weight"] > 0 for s in strategy)
    assert all(s.get("base", 0) == 0 and s.get("weight", 0) == 0 for s in on_demand), (
        f"{service.urn}: dev's task must run on Spot: {strategy}"
    )


def test_prod_tasks_run_privately_over_two_or_more_azs(prod: ProgramRun) -> None:
    service = app_service(prod)
    network = service.inputs["networkConfiguration"]
    assert not network.get("assignPublicIp"), f"{service.urn}: prod tasks get no public IP"
    subnets = [s for s in prod.of_type("aws:ec2/subnet:Subnet") if s.id in network["subnets"]]
    assert subnets and not {s.id for s in subnets} & public_subnet_ids(prod), (
        f"{service.urn}: prod tasks must run in private subnets"
    )
    azs = {s.inputs["availabilityZone"] for s in subnets}
    assert len(azs) >= 2, f"{service.urn}: prod tasks run in {azs}, want 2 AZs or more"


def test_prod_runs_two_or_more_tasks_and_autoscales(prod: ProgramRun) -> None:
    service = app_service(prod)
    assert service.inputs["desiredCount"] >= 2, service.urn
    targets = [
        t
        for t in prod.of_type("aws:appautoscaling/target:Target")
        if t.inputs["resourceId"].endswith("/" + service.outputs["name"])
    ]
    assert len(targets) == 1, f"{service.urn} has no autoscaling target"
    target = targets[0]
    assert 2 <= target.inputs["minCapacity"] < target.inputs["maxCapacity"], target.urn


def test_prod_keeps_logs_30_days_or_more(prod: ProgramRun) -> None:
    group = app_log_group(prod)
    assert group.inputs["retentionInDays"] >= 30, group.urn


def test_prod_protects_its_repository_and_log_group(prod: ProgramRun, dev: ProgramRun) -> None:
    repo = prod.one("aws:ecr/repository:Repository")
    for resource in (repo, app_log_group(prod)):
        assert resource.protect, f"{resource.urn} can be deleted by `pulumi destroy`"
    for resource in (dev.one("aws:ecr/repository:Repository"), app_log_group(dev)):
        assert not resource.protect, f"{resource.urn}: dev must be destroyable in one step"


# cfn-lint's rule I3011 ("Check stateful resources have a set UpdateReplacePolicy/
# DeletionPolicy"): the CloudFormation types it counts as stateful that this program creates, as
# pulumi-aws types. deletionProtection is this project's DeletionPolicy.
I3011_STATEFUL = {
    "AWS::EFS::FileSystem": "aws:efs/fileSystem:FileSystem",
    "AWS::KMS::Key": "aws:kms/key:Key",
    "AWS::Logs::LogGroup": "aws:cloudwatch/logGroup:LogGroup",
    "AWS::SQS::Queue": "aws:sqs/queue:Queue",
    "AWS::SecretsManager::Secret": "aws:secretsmanager/secret:Secret",
}
KMS_LONGEST_DELETION_WINDOW_DAYS = 30  # KMS: 7 to 30 days


@pytest.fixture(scope="module")
def prod_with_everything_stateful(run_stack) -> ProgramRun:
    """prod (deletionProtection: true) with an encrypted alarm topic, a scheduled job, a worker,
    a secret and a file system: one of each stateful resource the program can create."""
    return run_stack(
        "prod",
        {
            "alarmTopicEncryption": True,
            "enableExec": True,
            "secretValues": Secure({"API_TOKEN": "t"}),
            "scheduledTasks": {"nightly": {"schedule": "cron(0 3 * * ? *)", "command": "true"}},
            "services": {"mailer": {"type": "worker", "command": "python -m mailer"}},
            "fileSystems": {"uploads": {}},
            "mounts": {"uploads": "/srv/uploads"},
        },
    )


def test_deletion_protection_protects_every_stateful_resource(
    prod_with_everything_stateful: ProgramRun,
) -> None:
    run = prod_with_everything_stateful
    for cfn_type, type_token in I3011_STATEFUL.items():
        found = run.of_type(type_token)
        assert found, f"the fixture creates no {type_token} ({cfn_type}): the test checks nothing"
        exposed = [r.urn for r in found if not r.protect]
        assert not exposed, (
            f"deletionProtection is on, yet `pulumi destroy` would delete these {cfn_type} "
            f"(stateful for cfn-lint I3011): {exposed}"
        )


def test_a_protected_stack_s_keys_stay_recoverable_for_kms_s_longest_window(
    prod_with_everything_stateful: ProgramRun,
) -> None:
    for key in prod_with_everything_stateful.of_type("aws:kms/key:Key"):
        window = key.inputs.get("deletionWindowInDays")
        assert window == KMS_LONGEST_DELETION_WINDOW_DAYS, (
            f"{key.urn}: a deleted key is recoverable for {window} days, not "
            f"{KMS_LONGEST_DELETION_WINDOW_DAYS}"
        )


# --- names within AWS's limits, whatever the project and stack are called -------------------------


@pytest.fixture(scope="module")
def long_named(run_config) -> ProgramRun:
    """prod's config under a long project and stack name."""
    config = {
        key.replace("fargate-app:", f"{LONG_PROJECT}:", 1): value
        for key, value in load_stack_config(ROOT, "prod").items()
    }
    return run_config(config, project=LONG_PROJECT, stack=LONG_STACK)


def physical_name(resource: RegisteredResource) -> str | None:
    for source in (resource.inputs, resource.outputs):
        for key in ("name", "bucket"):
            if isinstance(source.get(key), str) and source[key]:
                return source[key]
    return None


def test_every_name_is_within_aws_limits_for_long_project_and_stack_names(
    long_named: ProgramRun,
) -> None:
    checked = 0
    for resource in long_named.custom_resources:
        if resource.type not in NAME_RULES:
            continue
        max_len, pattern = NAME_RULES[resource.type]
        name = physical_name(resource)
        if name is None:
            name = resource.name + "-" + "x" * (AUTONAME_SUFFIX - 1)
        checked += 1
        assert len(name) <= max_len, f"{resource.urn}: name {name!r} is {len(name)} > {max_len}"
        assert re.fullmatch(pattern, name), f"{resource.urn}: {name!r} breaks {pattern}"
        prefix = resource.inputs.get("namePrefix")
        if prefix and resource.type in NAME_PREFIX_MAX:
            assert len(prefix) <= NAME_PREFIX_MAX[resource.type], f"{resource.urn}: {prefix}"
    assert checked >= 6, "expected the ALB, target group, roles, cluster, service and log group"


def test_auto_named_alb_target_group_and_roles_leave_room_for_the_random_suffix(
    long_named: ProgramRun,
) -> None:
    for type_token, limit in (
        ("aws:lb/loadBalancer:LoadBalancer", 32),
        ("aws:lb/targetGroup:TargetGroup", 32),
        ("aws:iam/role:Role", 64),
    ):
        resources = long_named.of_type(type_token)
        assert resources, f"no {type_token} registered"
        for resource in resources:
            if resource.inputs.get("name"):
                continue  # named explicitly: checked above
            assert len(resource.name) + AUTONAME_SUFFIX <= limit, (
                f"{resource.urn}: logical name {resource.name!r} + {AUTONAME_SUFFIX} auto-name "
                f"characters exceeds AWS's {limit}"
            )


def test_the_task_family_is_valid_for_long_names(long_named: ProgramRun) -> None:
    max_len, pattern = TASK_FAMILY
    for definition in long_named.of_type("aws:ecs/taskDefinition:TaskDefinition"):
        family = definition.inputs["family"]
        assert len(family) <= max_len and re.fullmatch(pattern, family), (
            f"{definition.urn}: family {family!r}"
        )


def app_task_family(run: ProgramRun) -> str:
    arn = app_service(run).inputs["taskDefinition"]
    definitions = run.of_type("aws:ecs/taskDefinition:TaskDefinition")
    return next(t.inputs["family"] for t in definitions if t.outputs["arn"] == arn)


def test_explicit_names_differ_between_stacks(dev: ProgramRun, prod: ProgramRun) -> None:
    for what, pick in (
        ("cluster", lambda run: run.one("aws:ecs/cluster:Cluster").inputs["name"]),
        ("log group", lambda run: app_log_group(run).inputs["name"]),
        ("task family", app_task_family),
    ):
        assert pick(dev) != pick(prod), f"dev and prod share the {what} name {pick(dev)!r}"


# --- preview --------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_preview_plans_exactly_the_resources_an_update_creates(run_stack, stack: str) -> None:
    up, preview = run_stack(stack), run_stack(stack, preview=True)
    planned, created = {r.urn for r in preview.resources}, {r.urn for r in up.resources}
    assert planned == created, (
        f"preview of {stack} plans {sorted(planned - created)} that an update does not create, "
        f"and misses {sorted(created - planned)}"
    )


def test_preview_leaves_values_only_aws_knows_unknown(dev_preview: ProgramRun) -> None:
    assert isinstance(dev_preview.outputs["url"], Unknown), "the ALB's DNS name is not known yet"
    assert isinstance(dev_preview.outputs["imageRef"], Unknown), "the digest is not known yet"
    assert dev_preview.outputs["clusterName"] == "fargate-app-dev", "chosen names are known"


# --- IAM roles: the stack's path, and its boundary when set ---------------------------------------
ROLE = "aws:iam/role:Role"
BOUNDARY = (
    "arn:aws:iam::123456789012:policy/fargate-app-bootstrap/fargate-app-prod-app-roles-boundary"
)
# Every feature that brings a role of its own, beside the execution and task roles: blue/green's
# infrastructure role, a job's scheduler role, the flow-log role.
EVERY_ROLE = {
    "deploymentStrategy": "blueGreen",
    "flowLogs": True,
    "scheduledTasks": {"nightly": {"schedule": "cron(0 3 * * ? *)", "command": "true"}},
}


def test_every_role_goes_under_the_stacks_own_path(run_stack) -> None:
    """The bootstrap's deploy role of a stack may manage exactly the roles under its path."""
    for stack in STACKS:
        run = run_stack(stack, EVERY_ROLE)
        roles = run.of_type(ROLE)
        assert len(roles) == 5, [r.name for r in roles]
        for role in roles:
            assert role.inputs.get("path") == f"/fargate-app/{stack}/", role.urn
            assert role.outputs["arn"].endswith(f":role/fargate-app/{stack}/{role.outputs['name']}")


def test_without_a_boundary_no_role_gets_one(run_stack) -> None:
    run = run_stack("prod", EVERY_ROLE)
    assert not [r.urn for r in run.of_type(ROLE) if r.inputs.get("permissionsBoundary")]


def test_with_a_boundary_every_role_gets_it(run_stack) -> None:
    run = run_stack("prod", {**EVERY_ROLE, "permissionsBoundary": BOUNDARY})
    for role in run.of_type(ROLE):
        assert role.inputs.get("permissionsBoundary") == BOUNDARY, role.urn


@pytest.mark.parametrize(
    "boundary",
    [
        "fargate-app-prod-app-roles-boundary",  # a name, not an ARN
        "arn:aws:iam::123456789012:role/fargate-app-prod-app-roles-boundary",  # a role
        "arn:aws:iam::aws:policy/AdministratorAccess",  # AWS's own policies have no account
    ],
)
def test_a_boundary_that_is_not_a_managed_policy_arn_is_refused(run_stack, boundary: str) -> None:
    run = run_stack("prod", {"permissionsBoundary": boundary}, check=False)
    assert "permissionsBoundary" in str(run.error) and boundary in str(run.error), run.error
    assert not run.custom_resources
