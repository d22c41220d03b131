"""Reading resource properties as the engine hands them to a policy.

Properties arrive with their wire (camelCase) names: `containerDefinitions`, `accessLogs.enabled`.
Objects and lists arrive wrapped in pulumi-policy's proxies, which are `Mapping`s and `Sequence`s
but not `dict`s and `list`s, and which raise `UnknownValueError` when a value is read that is not
known until the deployment (during `pulumi preview`). Numbers arrive as floats (protobuf).

Resource policies let that error propagate: the engine then reports "can't run policy during
preview" as an advisory, and the policy runs for real at `pulumi up`. Stack policies, which link
resources to each other, use `peek` and fall back to the engine's dependency graph instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pulumi_policy import PolicyResource
from pulumi_policy.proxy import UnknownValueError

UNKNOWN: Any = type("Unknown", (), {"__repr__": lambda self: "<unknown>"})()
"""What `peek` returns for a value that is not known until the deployment."""

# Load balancer types, old (aws:alb) and current (aws:lb) modules: the same AWS resources.
LOAD_BALANCERS = frozenset(
    {"aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer"}
)
LISTENERS = frozenset({"aws:lb/listener:Listener", "aws:alb/listener:Listener"})
LISTENER_RULES = frozenset(
    {"aws:lb/listenerRule:ListenerRule", "aws:alb/listenerRule:ListenerRule"}
)
# pulumi-aws 7 renamed BucketV2 to Bucket and the *V2 configuration resources to their plain names;
# the old tokens remain as deprecated aliases, so a stack may hold either.
BUCKETS = frozenset({"aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"})
BUCKET_ENCRYPTION = frozenset(
    {
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
    }
)
BUCKET_LIFECYCLE = frozenset(
    {
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
    }
)
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
BUCKET_PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
VPC = "aws:ec2/vpc:Vpc"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
# CloudFront's VPC origins: a private path from CloudFront to an internal load balancer.
VPC_ORIGIN = "aws:cloudfront/vpcOrigin:VpcOrigin"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
WEB_ACL_LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
WEB_ACL_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"


def is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def get(props: Any, *path: str | int, default: Any = None) -> Any:
    """The value at `path`, or `default` where the path is absent. An unknown value raises
    `UnknownValueError` (see the module docstring)."""
    current = props
    for key in path:
        if isinstance(key, int):
            if not is_list(current) or not -len(current) <= key < len(current):
                return default
        elif not isinstance(current, Mapping) or key not in current:
            return default
        current = current[key]
    return default if current is None else current


def peek(props: Any, *path: str | int) -> Any:
    """Like `get`, but `UNKNOWN` for a value not known yet, and None where absent."""
    try:
        return get(props, *path)
    except UnknownValueError:
        return UNKNOWN


def as_list(value: Any) -> list[Any]:
    """IAM-style "one or many": a list as a list, None as [], anything else as [value]."""
    if value is None:
        return []
    return list(value) if is_list(value) else [value]


def truthy(value: Any) -> bool:
    """A boolean input, which may also arrive as "true" or "ENABLED" (AWS's API spelling)."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "enabled")
    return value is True


def is_application_lb(props: Mapping[str, Any]) -> bool:
    # loadBalancerType defaults to "application" when not given.
    return get(props, "loadBalancerType", default="application") == "application"


def container_definitions(props: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """A task definition's containers: `containerDefinitions` is a JSON string on the wire."""
    raw = get(props, "containerDefinitions", default="[]")
    parsed = json.loads(raw) if isinstance(raw, str) else raw
    return [c for c in as_list(parsed) if isinstance(c, Mapping)]


def container_label(container: Mapping[str, Any], index: int) -> str:
    return f"container {container.get('name') or f'#{index + 1}'!r}"


def json_document(value: Any) -> Mapping[str, Any] | None:
    """A policy document given as a JSON string (or already parsed); None if not a JSON object."""
    if isinstance(value, Mapping):
        return value
    if not isinstance(value, str):
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    return parsed if isinstance(parsed, Mapping) else None


# -- linking resources in a stack policy ---------------------------------------------------------
IDENTITY_KEYS = ("id", "arn", "name", "bucket")


def identities(resource: PolicyResource, keys: Iterable[str] = IDENTITY_KEYS) -> set[str]:
    """The known values by which other resources may refer to `resource` (its ID, ARN, name)."""
    found = set()
    for key in keys:
        value = peek(resource.props, key)
        if isinstance(value, str) and value:
            found.add(value)
    return found


def refers_to(
    resource: PolicyResource, prop: str | tuple[str | int, ...], target: PolicyResource
) -> bool:
    """Whether `resource`'s property `prop` (a name, or a path into an object) refers to `target`.

    By value first: the property against the target's ID, ARN or name, when both are known. Then,
    when a value is unknown (a preview of resources not created yet), the engine's record of which
    resources the property was computed from; and when there is no such record either, any
    dependency at all. (Value first because a property is often computed from a go-between, e.g.
    a load balancer's log bucket taken from the bucket policy so that the policy exists first.)
    """
    path = (prop,) if isinstance(prop, str) else prop
    value = peek(resource.props, *path)
    ids = identities(target)
    if isinstance(value, str) and value and ids:
        return value in ids
    recorded = (resource.property_dependencies or {}).get(str(path[0]))
    if recorded:
        return any(dep.urn == target.urn for dep in recorded)
    return any(dep.urn == target.urn for dep in resource.dependencies)


def refers_to_any(resource: PolicyResource, prop: str, target: PolicyResource) -> bool:
    """Whether `resource`'s list property `prop` (a load balancer's `securityGroups`, say) names
    `target`: by value when every entry is known, else by the engine's record, as `refers_to`."""
    try:
        values = get(resource.props, prop)
        known = is_list(values) and all(isinstance(v, str) and v for v in values)
    except UnknownValueError:  # the list, or one of its entries, is not known yet
        known = False
    ids = identities(target)
    if known and ids:
        return any(v in ids for v in values)
    recorded = (resource.property_dependencies or {}).get(prop)
    if recorded:
        return any(dep.urn == target.urn for dep in recorded)
    return any(dep.urn == target.urn for dep in resource.dependencies)


def referring(
    resources: Iterable[PolicyResource],
    types: Iterable[str] | str,
    prop: str | tuple[str, ...],
    target: PolicyResource,
) -> list[PolicyResource]:
    """The resources of `types` whose `prop` refers to `target`."""
    wanted = {types} if isinstance(types, str) else set(types)
    return [r for r in resources if r.resource_type in wanted and refers_to(r, prop, target)]


def of_types(
    resources: Iterable[PolicyResource], types: Iterable[str] | str
) -> list[PolicyResource]:
    wanted = {types} if isinstance(types, str) else set(types)
    return [r for r in resources if r.resource_type in wanted]
